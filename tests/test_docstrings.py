"""The public API is documented the numpydoc way, checked by ``numpydoc.validate``.

Public means: every function and class named in a module's ``__all__`` (and defined in that
module), and every public method of such a class. Each must have

* PR01 / PR02: every parameter documented under ``Parameters``, and no parameter there that
  the signature does not have (a class: the parameters of its constructor);
* PR04: a type for every parameter;
* RT01: a ``Returns`` (or ``Yields``) section when the function returns something;
* RT02: one entry per returned value (``low : ndarray`` and ``high : ndarray``, not
  ``low, high : ndarray``);
* EX01: an ``Examples`` section (the doctests run in the suite: ``--doctest-modules``);
* GL07: the sections in numpydoc's order (Parameters, Returns, Raises, ..., Examples);
* GL08: a docstring at all;

and, checked here from the source, a ``Raises`` section naming every cxassess error the
function raises itself (``raise SomeError(...)`` in its body; errors raised by the helpers it
calls are not seen). Properties are attributes: their docstring is a description, without
sections. The other numpydoc checks (summary on one line, imperative mood, full stops, See
Also, extended summary...) are left to ruff's pydocstyle rules or not enforced: the package's
docstrings begin with what a function gives ("Median first response time per group"), a
style kept on purpose.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import cxassess  # noqa: E402
from cxassess import errors  # noqa: E402

#: The numpydoc checks enforced (see the module docstring).
CHECKS = ("GL07", "GL08", "PR01", "PR02", "PR04", "RT01", "RT02", "EX01")

#: Modules not checked: the command line's entry point only.
SKIPPED = {
    "cxassess.__main__",  # not an API: running it starts the command line
}

ERROR_NAMES = frozenset(errors.__all__) - {"shown", "ConfigProblem"}


def _modules() -> list[str]:
    names = ["cxassess"] + [m.name for m in pkgutil.walk_packages(cxassess.__path__, "cxassess.")]
    return sorted(n for n in names if n not in SKIPPED)


def _public() -> list[str]:
    """Dotted names of every public function, class and method of the checked modules."""
    found = []
    for module_name in _modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module_name:
                continue  # a constant, a submodule, or a name re-exported from where it is checked
            found.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or isinstance(value, property):
                        continue
                    if inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                        found.append(f"{module_name}.{name}.{attr}")
    return found


PUBLIC = _public()


def _raised_errors(obj) -> set[str]:
    """Names of the cxassess errors raised directly in the body of ``obj`` (not in nested defs)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError):
        return set()
    top = tree.body[0]
    if isinstance(top, ast.ClassDef):
        return set()  # a class: its methods are checked one by one
    raised = set()
    nodes = list(ast.iter_child_nodes(top))
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = getattr(target, "id", None) or getattr(target, "attr", None)
            if name in ERROR_NAMES:
                raised.add(name)
        nodes.extend(ast.iter_child_nodes(node))
    return raised


def test_the_walk_finds_the_public_api():
    assert len(PUBLIC) > 100
    assert "cxassess.stats.wilson_interval" in PUBLIC
    assert "cxassess.cycles.Cycle.load_previous" in PUBLIC
    assert not any(name.startswith(tuple(f"{s}." for s in SKIPPED)) for name in PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_callable_follows_numpydoc(name):
    result = numpydoc_validate.validate(name)
    problems = [f"{code}: {message}" for code, message in result["errors"] if code in CHECKS]
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", PUBLIC)
def test_errors_raised_on_purpose_are_documented(name):
    obj = numpydoc_validate.Validator._load_obj(name)
    raised = _raised_errors(obj)
    if not raised:
        return
    entries = numpydoc_validate.get_doc_object(obj)["Raises"]
    documented = {(entry.type or entry.name).split(".")[-1].strip() for entry in entries}
    assert raised <= documented, f"{name} raises {sorted(raised - documented)} without a Raises entry"

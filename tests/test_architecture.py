"""The package's shape: data flows one way (io → quality → calculators → presentation →
report), no import cycle, no private name borrowed from another module, and a cheap
``import cxassess``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cxassess"

#: Layers, lowest first. A module may import from its own layer or a lower one only.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "schema", "stats", "control", "export", "resources", "findings"),  # foundations: errors at most
    ("registry", "config_schema", "config"),  # what is measured, and review.yml
    ("calendar", "io", "eventlog", "cycles"),  # reading the data
    ("quality", "plausibility", "engines"),  # the gate, the plausibility checks, the checked tables on an engine
    ("kpis", "process", "improve", "voc", "integrity", "audit"),  # calculators
    ("plots",),  # presentation
    ("report", "importer", "contract", "synth", "cli", "bench", "__main__", "__init__"),  # entry points
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top(module: str) -> str:
    """The layer key of a module: ``cxassess.quality.gate`` → ``quality``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` of every cxassess import, module level or inside a function,
    leaving out ``if TYPE_CHECKING:`` blocks (never executed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    out = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cxassess"):
            names = [a.name for a in node.names]
            if node.module == "cxassess":  # from cxassess import quality: submodules
                for name in names:
                    out.append((f"cxassess.{name}", [], node.lineno))
            else:
                out.append((node.module, names, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("cxassess")]
    return out


def _graph() -> dict[str, list[tuple[str, list[str], int]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer():
    tops = {_top(m) for m in _graph()}
    assert tops - set(LAYER) == set(), "add the new module to LAYERS"


def test_no_upward_import():
    upward = [
        f"{module}:{line} imports {target} ({_top(target)} is above {_top(module)})"
        for module, edges in _graph().items()
        for target, _, line in edges
        if LAYER[_top(target)] > LAYER[_top(module)]
    ]
    assert upward == []


def test_foundations_import_nothing_from_the_package_but_errors():
    assert [(m, t) for m, edges in _graph().items() if LAYER[_top(m)] == 0
            for t, _, _ in edges if t != "cxassess.errors"] == []


def test_no_private_name_from_another_module():
    borrowed = [
        f"{module}:{line} imports {name} from {target}"
        for module, edges in _graph().items()
        for target, names, line in edges
        for name in names
        if name.startswith("_") and target != module
    ]
    assert borrowed == []


def test_no_import_cycle():
    graph = _graph()
    edges = {m: {t for t, _, _ in e if t in graph and t != m} for m, e in graph.items()}
    # a package's __init__ re-exporting its submodules is not a cycle of the submodules
    for m in graph:
        parent = m.rsplit(".", 1)[0]
        if parent in edges and parent != m:
            edges[m].discard(parent)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The checker itself: an import from a higher layer is reported."""
    bad = tmp_path / "cxassess" / "io.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from cxassess.plots import table\n", encoding="utf-8")
    (target, names, _), = _imports(bad)
    assert LAYER[_top(target)] > LAYER[_top("cxassess.io")] and names == ["table"]


@pytest.mark.parametrize("module", ["cxassess"])
def test_import_is_cheap(module):
    """``import cxassess`` loads no heavy library (pandas, SciPy, matplotlib, GX): the
    submodules load on first use. The time itself is measured by the benchmark."""
    code = (f"import sys; import {module}; "
            "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'great_expectations', 'pydantic', "
            "'numpy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def _error_classes() -> set[str]:
    import cxassess.errors as errors

    return {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, errors.CxAssessError)}


def test_every_deliberate_error_is_a_cxassess_error():
    """``raise X(...)`` anywhere in the package names a class of the CxAssessError tree.
    Pydantic validators in config_schema raise ValueError by pydantic's protocol: pydantic
    turns them into ConfigProblem lines; ``__getattr__`` raises AttributeError and
    ``__main__`` SystemExit, argparse types ArgumentTypeError, by their protocols."""
    allowed = _error_classes() | {"AttributeError", "SystemExit", "ArgumentTypeError"}
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "bench.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func  # ConfigError(...) or ConfigError.from_problems(...)
                name = ast.unparse(func.value if isinstance(func, ast.Attribute) and
                                   ast.unparse(func.value)[:1].isupper() else func).rsplit(".", 1)[-1]
                if name not in allowed and not (path.name == "config_schema.py" and name == "ValueError"):
                    bare.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} raises {name}")
    assert bare == []


def test_errors_carry_what_where_and_fix():
    from cxassess.errors import ConfigError, CxAssessError, DataFileError

    e = DataFileError("data/x/2026Q3/tickets.csv", "file not found", "check the dataset folder")
    assert (e.path, e.fix, isinstance(e, CxAssessError)) == (
        Path("data/x/2026Q3/tickets.csv"), "check the dataset folder", True)
    c = ConfigError("bad", path="data/x/review.yml", fix="write 30")
    assert (c.path, c.fix, str(c)) == (Path("data/x/review.yml"), "write 30", "bad\n  How to fix: write 30")


def test_errors_cross_process_boundaries_intact():
    """The gates run in worker processes: their errors are pickled back with their class,
    message, fix and path (the subclasses take other arguments than the base)."""
    import pickle

    from cxassess.errors import DataFileError, DataQualityError, MissingColumnError

    for error in (DataFileError("d/2026Q3/tickets.csv", "the file is empty", "export it again"),
                  MissingColumnError("d/2026Q3/events.csv", "events", ["timestamp"], ["ticket_id"]),
                  DataQualityError("desk", "2026Q3", ["tickets: bad"])):
        back = pickle.loads(pickle.dumps(error))
        assert (type(back), str(back), back.fix, back.path) == (type(error), str(error), error.fix, error.path)

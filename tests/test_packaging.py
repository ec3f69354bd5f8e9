"""Packaging: declared dependencies are what cxassess imports, the calculators need only the
core, the pins cover the dependency lists, and a built wheel works outside the checkout."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .conftest import REPO, SAMPLE

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = REPO / ".ci" / "constraints.txt"
#: Declared without being imported: needed at run time by another program.
RUN_TIME_ONLY = {
    "ipykernel": "the kernel papermill runs the notebooks in",
    "jupyterlab": "make lab",
}
#: What the report extra brings: none of it may be needed to compute KPIs.
REPORT_MODULES = {
    "great_expectations", "papermill", "nbconvert", "nbformat", "ipykernel", "IPython",
    "matplotlib", "seaborn", "jinja2", "jupyterlab", "rustxes", "polars", "pm4py",
}


def _requirements(group: str | None) -> dict[str, Requirement]:
    """Canonical name -> requirement of the core (``None``) or of one extra."""
    project = PYPROJECT["project"]
    lines = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def _top_level_imports(source: str) -> set[str]:
    """Top-level names of the absolute imports in ``source`` (at any depth of the code)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution -> files of cxassess/ and notebooks/ importing it (stdlib and cxassess left out)."""
    sources = {p: p.read_text(encoding="utf-8") for p in (REPO / "cxassess").rglob("*.py")}
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        sources[nb] = "\n".join(line for cell in code for line in cell.splitlines()
                                if not line.lstrip().startswith(("%", "!")))
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path, source in sources.items():
        for name in _top_level_imports(source) - set(sys.stdlib_module_names) - {"cxassess"}:
            assert name in owners, f"{path.relative_to(REPO)} imports {name}, which no installed package provides"
            for dist in owners[name]:
                found.setdefault(canonicalize_name(dist), set()).add(str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_is_declared():
    imported = _imported_distributions()
    declared = set(_requirements(None)).union(
        *(_requirements(extra) for extra in PYPROJECT["project"]["optional-dependencies"]))
    undeclared = {name: files for name, files in imported.items() if name not in declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    # hand-made oracle: the imports this test must see (a scan that finds nothing passes nothing)
    assert {"pandas", "great-expectations", "jinja2", "ipython", "pyyaml"} <= set(imported)


@pytest.mark.parametrize("group", [None, "report", "lab", "xes"], ids=lambda g: g or "core")
def test_every_declared_dependency_is_imported_or_run(group):
    imported = _imported_distributions()
    unused = set(_requirements(group)) - set(imported) - set(RUN_TIME_ONLY)
    assert not unused, f"declared in {group or 'the core'} but imported nowhere in cxassess: {unused}"


def test_the_core_holds_what_the_calculators_need_and_nothing_of_the_report():
    core = set(_requirements(None))
    assert core == {"pandas", "numpy", "pyarrow", "pyyaml", "scipy", "narwhals", "pydantic"}
    assert not core & {canonicalize_name(m) for m in REPORT_MODULES}
    assert "tqdm" not in core and "nbclient" not in core  # declared once, never imported


_BLOCKER = textwrap.dedent("""
    import importlib.abc, sys, types
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ImportError("not installed with the core: " + name)
    sys.meta_path.insert(0, Block())
    if {skip_init}:  # stand in for cxassess/__init__.py: the package's own imports only
        package = types.ModuleType("cxassess")
        package.__path__ = [{folder!r}]
        sys.modules["cxassess"] = package
    import cxassess.kpis, cxassess.process, cxassess.io, cxassess.calendar, cxassess.stats
    import cxassess.config, cxassess.resources
    print("imported")
""")


def _import_without_report(skip_init: bool) -> subprocess.CompletedProcess:
    code = _BLOCKER.format(blocked=REPORT_MODULES, skip_init=skip_init, folder=str(REPO / "cxassess"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)


def test_the_calculators_modules_import_without_the_report_extra():
    done = _import_without_report(skip_init=True)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr


def test_import_cxassess_kpis_without_the_report_extra():
    done = _import_without_report(skip_init=False)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr


def test_setuptools_packages_list_every_package_folder():
    """``packages`` is written out (it maps expectations/ and notebooks/ into the package):
    a new sub-package must be added there or the wheel would lack it."""
    from setuptools import find_packages

    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapped = set(PYPROJECT["tool"]["setuptools"]["package-dir"])
    assert mapped == {"cxassess.expectations", "cxassess.notebooks"}
    assert listed - mapped == set(find_packages(str(REPO), include=["cxassess", "cxassess.*"]))


def test_py_typed_ships():
    assert (REPO / "cxassess" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["cxassess"]


def test_a_checkout_reads_its_top_level_suites_and_notebooks(monkeypatch, tmp_path):
    from cxassess import quality, resources
    from cxassess.errors import ConfigError

    assert resources.source_root() == REPO
    assert quality.suite_folder() == resources.suite_folder() == REPO / "expectations"
    assert resources.notebook_files() == sorted((REPO / "notebooks").glob("[!.]*.ipynb"))
    monkeypatch.setenv("CXASSESS_EXPECTATIONS", str(tmp_path))
    assert quality.suite_folder() == tmp_path
    monkeypatch.setenv("CXASSESS_EXPECTATIONS", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="suites are not found") as caught:
        quality.suite_folder()
    assert "CXASSESS_EXPECTATIONS" in caught.value.fix


def _pins() -> dict[str, Version]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def test_constraints_pin_every_declared_dependency_within_its_bounds():
    pins = _pins()
    groups = [None, *PYPROJECT["project"]["optional-dependencies"]]
    for group in groups:
        for name, requirement in _requirements(group).items():
            assert name in pins, f"{name} ({group or 'core'}) is not pinned in {CONSTRAINTS.name}: run make lock"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{name}=={pins[name]} in {CONSTRAINTS.name} is outside {requirement} of pyproject.toml")
    assert "cxassess" not in pins
    assert all(p.is_file() for p in [REPO / ".ci" / "freeze.py"])
    assert "-c $(CONSTRAINTS)" in (REPO / "Makefile").read_text(encoding="utf-8")


def test_ruff_is_bounded():
    ruff = _requirements("dev")["ruff"]
    assert any(spec.operator in {"<", "<=", "=="} for spec in ruff.specifier)


# ---------------------------------------------------------------------------------------------
# The wheel, outside the checkout


def _run(args: list, cwd: Path, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_the_wheel_validates_and_reviews_outside_the_checkout(tmp_path):
    """Build the wheel, install it with the report extra in a clean venv in a temp folder and
    run ``cxassess validate`` and ``cxassess review`` (one shipped notebook) on a copy of the
    sample from a temp working folder. About 2 minutes, most of it pip installing the
    report extra from the local cache."""
    timings = {}
    t0 = time.perf_counter()
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", dist, REPO], cwd=tmp_path, env=dict(os.environ))
    wheel = next(dist.glob("cxassess-*.whl"))
    timings["build"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python, cxassess = env_dir / "bin" / "python", env_dir / "bin" / "cxassess"
    work = tmp_path / "work"  # the working folder: no notebooks/, no expectations/, no repository
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CXASSESS_EXPECTATIONS", "JUPYTER_PATH"}}
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"), JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               MPLBACKEND="Agg")
    _run([python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, f"{wheel}[report]"], cwd=work, env=env)
    timings["install"] = time.perf_counter() - t0

    probe = _run([python, "-c", textwrap.dedent("""
        import json, cxassess, cxassess.resources as r
        from jupyter_client.kernelspec import KernelSpecManager
        print(json.dumps({"package": cxassess.__file__, "root": str(r.source_root()),
                          "suites": [str(p) for p in r.suite_files()],
                          "notebooks": [str(p) for p in r.notebook_files()],
                          "templates": str(r.template_folder("nbconvert")),
                          "kernel": KernelSpecManager().get_kernel_spec("python3").argv[0]}))
    """)], cwd=work, env=env)
    found = json.loads(probe.stdout)
    site = env_dir.resolve()
    assert Path(found["package"]).resolve().is_relative_to(site)  # the wheel, not the checkout
    assert found["root"] == "None"
    assert [Path(p).name for p in found["suites"]] == sorted(p.name for p in (REPO / "expectations").glob("*.json"))
    assert all(Path(p).resolve().is_relative_to(site) for p in found["suites"] + found["notebooks"])
    assert [Path(p).name for p in found["notebooks"]] == sorted(
        p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert (Path(found["templates"]) / "cxassess" / "index.html.j2").is_file()
    kernel = Path(found["kernel"])  # "python" is looked up on PATH, where the venv comes first
    assert kernel.name.startswith("python")
    assert not kernel.is_absolute() or kernel.parent in {env_dir / "bin", python.resolve().parent}

    desk = work / "desk"
    shutil.copytree(SAMPLE, desk)
    t0 = time.perf_counter()
    done = _run([cxassess, "validate", "--dataset", "desk", "--cycle", "2026Q3"], cwd=work, env=env)
    timings["validate"] = time.perf_counter() - t0
    assert "Data-quality gate passed for sample 2026Q3" in done.stdout
    tickets_read = next(line for line in done.stdout.splitlines() if line.strip().startswith("tickets"))
    assert "2,500 read" in tickets_read  # the sample has 2,500 tickets per cycle (data/sample/README.md)

    pages = work / "pages"  # one shipped notebook: the default folder holds all four (checked above)
    pages.mkdir()
    shutil.copy(next(Path(p) for p in found["notebooks"] if p.endswith("05_cycle_overview.ipynb")), pages)
    t0 = time.perf_counter()
    _run([cxassess, "review", "--dataset", "desk", "--cycle", "2026Q3", "--notebooks", "pages"], cwd=work, env=env)
    timings["review"] = time.perf_counter() - t0
    report = work / "reports" / "desk" / "2026Q3"
    page = (report / "05_cycle_overview.html").read_text(encoding="utf-8")
    assert "Cycle overview" in page and "2026Q3" in page
    executed = json.loads((report / "05_cycle_overview.ipynb").read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert (report / "index.html").is_file()
    assert not (work / "notebooks").exists() and not (work / "expectations").exists()
    print("wheel test timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))

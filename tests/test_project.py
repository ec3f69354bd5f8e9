"""Project conventions: one dependency list in two files, a self-documenting Makefile."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml

from .conftest import REPO


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)$", requirement).groups()  # extras aside
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]  # environment.yml is what make env installs: every extra
    wanted = dict(_normalise(r) for r in project["dependencies"] + [r for group in extras.values() for r in group])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = dict(
        _normalise(d) for d in env["dependencies"]
        if isinstance(d, str) and not d.startswith(("python", "pip"))
    )
    assert conda == wanted


def test_make_help_is_the_default_goal_and_lists_every_target():
    makefile = (REPO / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z_-]*):.*?## ", makefile, flags=re.MULTILINE)
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, flags=re.MULTILINE).group(1).split())
    assert {"help", "report", "test", "lab", "validate", "bench", "clean"} <= set(targets)
    assert set(targets) <= phony
    out = subprocess.run(["make", "--no-print-directory"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in targets:
        assert target in out


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_notebooks_hold_calls_and_plots_only():
    """Every computation lives in the package: no loop, comprehension, lambda or
    aggregation in a notebook's code cells (a branch on what is available is fine)."""
    import ast
    import json

    banned = (ast.For, ast.While, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.Lambda)
    aggregations = {"groupby", "apply", "agg", "mean", "sum", "value_counts", "pivot_table", "merge"}
    found = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] != "code":
                continue
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, banned) or (isinstance(node, ast.Attribute) and node.attr in aggregations):
                    found.append(f"{path.name} cell {number}: {ast.unparse(node)[:60]}")
    assert found == []

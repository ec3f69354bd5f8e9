"""The review run: papermill executes every notebook, nbconvert renders it to HTML.

The report is built in a staging folder beside its destination and moved into place only
when every notebook succeeded, so a failed run never touches the last good report::

    reports/<dataset>/<cycle>/
        index.html            links every page and states the run's parameters
        <notebook>.html       one page per notebook, code hidden, opens offline
        <notebook>.ipynb      the executed notebook, for re-derivation
        manifest.json         inputs' sha256, package versions, git commit, timings
        quality.json          the data-quality gate of the cycle; quarantine/ its rows
        previous/, history/   the gates of the previous and of earlier cycles (trends)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import jinja2
import nbformat

from cxassess.config import load_config
from cxassess.cycles import latest_cycle, list_cycles, previous_cycle
from cxassess.errors import CxAssessError, DataQualityError, ReviewRunError

__all__ = ["PageResult", "run_review", "render_html", "remote_references", "notebook_title"]

#: Packages whose versions the manifest records.
RECORDED_PACKAGES = (
    "cxassess", "pandas", "numpy", "pyarrow", "great-expectations", "papermill", "nbconvert",
    "nbclient", "ipykernel", "matplotlib", "seaborn", "scipy", "narwhals",
)
_REMOTE = re.compile(r"https?://", re.IGNORECASE)
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class PageResult:
    """One executed and rendered notebook."""

    notebook: str
    title: str
    html: str
    seconds: float


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown heading of a notebook, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def remote_references(text: str) -> list[str]:
    """Every ``http(s)://`` occurrence in ``text`` with a little context (for checks)."""
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in _REMOTE.finditer(text)]


def render_html(notebook: Path, *, extra: dict | None = None) -> str:
    """Render an executed notebook to a self-contained HTML page with code hidden.

    The page uses the cxassess template (JupyterLab look without any script from the
    network); figures are inlined as base64 PNG. Comments of the inlined JupyterLab
    stylesheets are dropped: they carry project URLs that are no resources but would make
    the page look as if it fetched something.
    """
    from nbconvert import HTMLExporter

    templates = resources.files("cxassess").joinpath("templates/nbconvert")
    with resources.as_file(templates) as base:
        exporter = HTMLExporter(
            template_name="cxassess",
            extra_template_basedirs=[str(base)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        nb = nbformat.read(notebook, as_version=4)
        body, _ = exporter.from_notebook_node(nb, resources={"cxassess": extra or {}})
    return _STYLE.sub(lambda m: m[1] + _CSS_COMMENT.sub("", m[2]) + m[3], body)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git_commit(cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=cwd, capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _first_error(nb_path: Path) -> tuple[int | None, str]:
    """Position of the first failing cell in the *original* notebook (1-based, all cells
    counted, papermill's injected cells skipped) and its ``Name: value``."""
    nb = nbformat.read(nb_path, as_version=4)
    position = 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        position += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return position, f"{output['ename']}: {output['evalue']}"
    return None, "unknown error"


def _write_index(folder: Path, context: dict) -> None:
    # autoescape on for every template: review.yml strings (title, name) and file names are data
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cxassess", "templates/report"),
        autoescape=True,
    )
    (folder / "index.html").write_text(env.get_template("index.html.j2").render(**context), "utf-8")


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` with two renames on the same file system."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)


def _earlier_cycles(root: Path, cycle: str, previous: str) -> list[str]:
    """Cycle folders before ``cycle`` other than ``previous``: the trends' other points."""
    labels = list_cycles(root)
    before = labels[: labels.index(cycle)] if cycle in labels else []
    return [label for label in before if label != previous]


def run_review(
    dataset: Path | str,
    cycle: str | None = None,
    *,
    previous: str | None = None,
    notebooks: Path | str = "notebooks",
    reports: Path | str = "reports",
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Run every notebook for one cycle and publish the HTML review atomically.

    Parameters
    ----------
    dataset
        Dataset folder holding ``review.yml`` (e.g. ``data/sample``).
    cycle
        Cycle to review; default the latest cycle folder of the dataset.
    previous
        Cycle to compare with; default the cycle before ``cycle``.
    notebooks
        Folder of the notebooks, run in name order.
    reports
        Root of the reports; the review goes to ``<reports>/<dataset name>/<cycle>/``.
    echo
        Where progress lines go (default: standard error).

    Returns
    -------
    pathlib.Path
        The report folder.

    Raises
    ------
    DataQualityError
        The data-quality gate found a critical defect. Only the data-quality pages
        (notebooks named ``00_*``) are run; they and the quarantined rows are written to
        ``<reports>/<dataset name>/<cycle>.failed/`` and the report folder is left as it was.
    ReviewRunError
        A notebook failed. The report folder is left as it was; the executed notebook
        with its traceback is kept in ``<reports>/<dataset name>/<cycle>.failed/``.
    """
    import papermill as pm

    from cxassess import quality

    say = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    config = load_config(dataset)
    cycle = cycle or latest_cycle(config.root)
    previous = previous or previous_cycle(cycle)
    nb_dir = Path(notebooks)
    pages = sorted(p for p in nb_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not pages:
        raise CxAssessError(f"no notebook found in {nb_dir.resolve()}")
    final = Path(reports) / config.name / cycle
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cycle}.staging-", dir=final.parent))
    failed_dir = final.with_name(f"{cycle}.failed")
    parameters = {
        "dataset": str(config.root),
        "cycle": cycle,
        "previous_cycle": previous,
        "report_dir": str(staging),
    }
    os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "cxassess-mpl"))
    os.environ.setdefault("IPYTHONDIR", str(Path(tempfile.gettempdir()) / "cxassess-ipython"))
    started = dt.datetime.now(dt.UTC)
    say(f"cxassess review: {config.name} {cycle} (compared with {previous}), {len(pages)} notebook(s)")
    results: list[PageResult] = []
    try:
        say("  data-quality gate: validating every table with Great Expectations ...")
        gate = quality.check_cycle(config.root, cycle)
        gate.save(staging)
        if (config.root / previous).is_dir():
            quality.check_cycle(config.root, previous).save(staging / "previous")
        say(f"  data-quality gate: {gate.verdict(markdown=False)}")
        history = _earlier_cycles(config.root, cycle, previous)
        if history and not gate.critical:
            say(f"  data-quality gate on {len(history)} earlier cycle(s) for the trends ...")
            for label in history:
                quality.check_cycle(config.root, label).save(staging / "history" / label)
        if gate.critical:
            pages = [p for p in pages if p.stem.startswith("00_")]
        for i, page in enumerate(pages, start=1):
            out = staging / page.name
            say(f"  [{i}/{len(pages)}] {page.stem}: executing ...")
            t0 = time.perf_counter()
            try:
                pm.execute_notebook(
                    str(page), str(out), parameters=parameters, kernel_name="python3",
                    cwd=str(Path.cwd()), progress_bar=False, log_output=False,
                )
            except pm.PapermillExecutionError as exc:
                if failed_dir.exists():
                    shutil.rmtree(failed_dir)
                failed_dir.mkdir()
                shutil.copy2(out, failed_dir / page.name)
                cell, error = _first_error(out)
                raise ReviewRunError(page.name, cell, error or str(exc), failed_dir / page.name) from None
            seconds = time.perf_counter() - t0
            title = notebook_title(nbformat.read(out, as_version=4), page.stem)
            results.append(PageResult(page.name, title, f"{page.stem}.html", seconds))
            say(f"  [{i}/{len(pages)}] {page.stem}: done in {seconds:.1f} s")
        nav = [{"href": r.html, "title": r.title} for r in results]
        run_line = f"{config.title} · cycle {cycle} vs {previous}"
        extra = {"pages": nav, "run": run_line}
        banner = gate.banner()
        if banner is not None:
            quality_page = next((r.html for r in results if r.notebook.startswith("00_")), None)
            extra.update(banner=banner[0], banner_class=banner[1], banner_href=quality_page)
        for r in results:
            body = render_html(staging / r.notebook, extra=extra)
            leaks = remote_references(body)
            if leaks:
                raise CxAssessError(
                    f"{r.html} would reference the network ({leaks[0]!r}); remove external "
                    "links and resources from the notebook's output."
                )
            (staging / r.html).write_text(body, encoding="utf-8")
        say("  rendered HTML pages")
        if gate.critical:
            if failed_dir.exists():
                shutil.rmtree(failed_dir)
            staging.rename(failed_dir)
            page = next((failed_dir / r.html for r in results), failed_dir / "quality.json")
            raise DataQualityError(gate.dataset, gate.cycle, quality.critical_lines(gate), page)
        finished = dt.datetime.now(dt.UTC)
        inputs = sorted(
            p for label in (*history, previous, cycle) if (config.root / label).is_dir()
            for p in (config.root / label).iterdir() if p.is_file()
        ) + [config.path]
        manifest = {
            "dataset": config.name,
            "dataset_path": str(config.root),
            "cycle": cycle,
            "previous_cycle": previous,
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": finished.isoformat(timespec="seconds"),
            "git_commit": _git_commit(Path.cwd()),
            "versions": _versions(),
            "inputs": {str(p.relative_to(config.root)): _sha256(p) for p in inputs},
            "pages": [
                {"notebook": r.notebook, "html": r.html, "title": r.title, "seconds": round(r.seconds, 2)}
                for r in results
            ],
            "total_seconds": round((finished - started).total_seconds(), 2),
            "quality": {
                "verdict": gate.verdict(markdown=False),
                "warnings": gate.warnings,
                "rows_read": int(gate.tables["rows_read"].sum()),
                "rows_quarantined": int(gate.tables["rows_quarantined"].sum()),
            },
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _write_index(
            staging,
            {
                "title": config.title,
                "dataset": config.name,
                "cycle": cycle,
                "previous": previous,
                "pages": results,
                "manifest": manifest,
            },
        )
        _swap_into_place(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if failed_dir.exists():
        shutil.rmtree(failed_dir)
    say(f"review written to {final / 'index.html'} in {manifest['total_seconds']:.1f} s")
    return final

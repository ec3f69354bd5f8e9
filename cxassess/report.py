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

The report folder is named after the dataset *folder*; ``reports/<dataset>/.dataset``
records which dataset folder owns it, so a second dataset folder of the same name is
refused instead of overwriting the first one's reports. A staging folder records its owner
(host and process id); the next run removes the staging folders whose process is gone.
Paths written into the report are relative to the working folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from cxassess import findings, quality
from cxassess.config import ReviewConfig, load_config
from cxassess.cycles import (
    check_cycle_label,
    check_previous,
    is_cycle_label,
    latest_cycle,
    list_cycles,
    previous_cycle,
)
from cxassess.engines import memory_budget
from cxassess.errors import (
    ConfigError,
    CxAssessError,
    DataQualityError,
    ReportFolderError,
    ReviewRunError,
    shown,
)
from cxassess.resources import notebook_files, notebook_folder, template_folder

if TYPE_CHECKING:
    import nbformat

__all__ = [
    "PageResult", "run_review", "render_html", "remote_references", "notebook_title", "accessible_tables",
    "print_review", "WIDE_TABLE_COLUMNS",
    "clean_dead_runs", "claim_report_folder", "is_landing", "top_findings",
]

#: How many of the run's findings to act on (high and medium severity) the index page lists
#: (the summary page lists them all).
TOP_FINDINGS = 5
#: Packages whose versions the manifest records.
RECORDED_PACKAGES = (
    "cxassess", "pandas", "numpy", "pyarrow", "great-expectations", "papermill", "nbconvert",
    "nbclient", "ipykernel", "matplotlib", "seaborn", "scipy", "narwhals",
)
#: A resource the browser would fetch from the network: src=, <link href=, CSS url() or @import
#: of an http(s) or protocol-relative address. A URL written in the data (a survey comment)
#: is text on the page, and a link is followed only when clicked: neither fetches anything.
_REMOTE = re.compile(
    r"""(?:\bsrc\s*=\s*["']?|<link\b[^>]*?\bhref\s*=\s*["']?|url\(\s*["']?|@import\s+(?:url\()?["']?)"""
    r"(?:https?:)?//",
    re.IGNORECASE,
)
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
#: A staging folder: ``.<cycle>.staging-<pid>-<random>``; its owner file says host and pid.
_STAGING = re.compile(r"^\.(?P<cycle>.+)\.staging-(?P<pid>\d+)-[A-Za-z0-9_]+$")
OWNER_FILE = ".owner"
DATASET_FILE = ".dataset"
_FOLDER_ERRNOS = (13, 28, 30)  # permission denied, no space left, read-only file system


@dataclass(frozen=True)
class PageResult:
    """One executed and rendered notebook.

    Parameters
    ----------
    notebook : str
        File name of the executed notebook in the report folder.
    title : str
        The page's title (the notebook's first Markdown heading).
    html : str
        File name of its HTML page in the report folder.
    seconds : float
        How long the notebook took to execute.
    peak_mib : int, optional
        The peak memory of its kernel (MiB), where it could be measured.

    Examples
    --------
    >>> page = PageResult("20_kpi_scorecard.ipynb", "KPI scorecard", "20_kpi_scorecard.html", 3.5)
    >>> page.html, page.seconds
    ('20_kpi_scorecard.html', 3.5)
    """

    notebook: str
    title: str
    html: str
    seconds: float
    peak_mib: int | None = None


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    r"""The first Markdown heading of a notebook, else ``fallback``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.
    fallback : str
        The title when no Markdown cell has a heading (e.g. the file name's stem).

    Returns
    -------
    str
        The heading's text, without its ``#`` marks.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    >>> nb = new_notebook(cells=[new_code_cell("# a comment"),
    ...                          new_markdown_cell("Quarterly review\n## KPI scorecard")])
    >>> notebook_title(nb, "20_kpi_scorecard"), notebook_title(new_notebook(), "20_kpi_scorecard")
    ('KPI scorecard', '20_kpi_scorecard')
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def remote_references(text: str) -> list[str]:
    """Every resource of an HTML page that would be fetched from the network (``src``,
    ``<link href>``, CSS ``url()`` and ``@import`` of a remote address), with a little context.

    Parameters
    ----------
    text : str
        The HTML page.

    Returns
    -------
    list of str
        Each remote reference with up to 40 characters either side; empty when the page
        opens offline.

    Examples
    --------
    >>> remote_references('<p>see http://example.org</p><img src="data:image/png;base64,AA">')
    []
    >>> len(remote_references('<script src="https://cdn.example.org/x.js"></script>'))
    1
    """
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in _REMOTE.finditer(text)]


def render_html(notebook: Path, *, extra: dict | None = None) -> str:
    """Render an executed notebook to a self-contained HTML page with code hidden.

    The page uses the cxassess template (JupyterLab look without any script from the
    network, a print stylesheet); figures are inlined as base64 PNG with their alt text
    (:func:`cxassess.plots.describe`). Comments of the inlined JupyterLab stylesheets are
    dropped: they carry project URLs that are no resources but would make the page look as
    if it fetched something.

    For readers of every kind the page is then made accessible (:func:`accessible_tables`):
    its ``<title>`` is the notebook's title (and the run's line), every table gets a caption
    (the heading above it) and row headers, and a table too wide for a portrait page is
    printed on a landscape one.

    What a cell wrote to standard error (a library's warning, with the path of the machine
    it ran on) is left out of the page; it stays in the executed notebook.

    Parameters
    ----------
    notebook : pathlib.Path
        The executed notebook (``.ipynb``).
    extra : dict, optional
        Values for the template under ``resources["cxassess"]``: ``pages`` (the navigation,
        a list of ``{"href", "title"}``), ``run`` (the line naming the run), ``banner``,
        ``banner_class`` and ``banner_href`` (the data-quality banner).

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    A notebook with a heading and a code cell: the page shows the heading and the cell's
    output, not its code, and fetches nothing from the network.

    >>> import tempfile
    >>> import nbformat
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    >>> cell = new_code_cell("secret_code = 6 * 7", outputs=[
    ...     new_output("execute_result", {"text/plain": "42"}, execution_count=1)])
    >>> path = Path(tempfile.mkdtemp()) / "page.ipynb"
    >>> nbformat.write(new_notebook(cells=[new_markdown_cell("# Volume"), cell]), path)
    >>> page = render_html(path, extra={"run": "Support desk · cycle 2026Q3 vs 2026Q2"})
    >>> "Volume" in page, "42" in page, "secret_code" in page, remote_references(page)
    (True, True, False, [])
    >>> re.search("<title>(.*)</title>", page)[1]
    'Volume · Support desk · cycle 2026Q3 vs 2026Q2'
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="cxassess",
        extra_template_basedirs=[str(template_folder("nbconvert"))],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:  # warnings (with the machine's paths) belong in the log, not the review
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    cx = dict(extra or {})
    title = notebook_title(nb, Path(notebook).stem)
    full_title = f"{title} · {cx['run']}" if cx.get("run") else title
    cx.setdefault("print_title_css", _css_string(full_title))
    body, _ = exporter.from_notebook_node(nb, resources={"cxassess": cx, "metadata": {"name": full_title}})
    body = accessible_tables(body)
    return _STYLE.sub(lambda m: m[1] + _CSS_COMMENT.sub("", m[2]) + m[3], body)


#: A table with at least this many columns is printed on a landscape page.
WIDE_TABLE_COLUMNS = 9


def _css_string(text: str) -> str:
    """``text`` as the inside of a CSS string: every character but letters, digits and
    spaces as a CSS escape (so nothing can end the string or the style sheet).
    """
    return "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):06x}" for c in text)


def accessible_tables(page: str) -> str:
    """Give every table of a report page what a screen reader and a printer need: a
    caption (the text of the heading above it, shown to screen readers only), column
    headers with ``scope="col"``, the first cell of each body row as its row header
    (``<th scope="row">``), and the class ``cx-wide`` on the output holding a table of
    :data:`WIDE_TABLE_COLUMNS` columns or more (printed on a landscape page).

    Parameters
    ----------
    page : str
        The HTML page.

    Returns
    -------
    str
        The page with its tables completed.

    Examples
    --------
    >>> page = ('<h3 id="By-team">By team</h3><div class="jp-OutputArea-output"><table>'
    ...         '<thead><tr><th>team</th><th>CSAT</th></tr></thead>'
    ...         '<tbody><tr><td>south &amp; east</td><td>48%</td></tr></tbody></table></div>')
    >>> print(accessible_tables(page))  # doctest: +NORMALIZE_WHITESPACE
    <h3 id="By-team">By team</h3><div class="jp-OutputArea-output"><table><caption class="cx-caption">By team</caption><thead><tr><th scope="col">team</th><th scope="col">CSAT</th></tr></thead><tbody><tr><th scope="row">south &amp; east</th><td>48%</td></tr></tbody></table></div>
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, features="html.parser")
    for table in soup.find_all("table"):
        if table.caption is None:
            heading = table.find_previous(["h1", "h2", "h3", "h4"])
            text = " ".join(heading.get_text(" ").replace("¶", "").split()) if heading is not None else ""
            if text:
                caption = soup.new_tag("caption", attrs={"class": "cx-caption"})
                caption.string = text
                table.insert(0, caption)
        for th in table.select("thead th"):
            th.attrs.setdefault("scope", "col")
        for tr in table.select("tbody tr"):
            first = tr.find(["td", "th"], recursive=False)
            if first is not None and first.name == "td":
                first.name = "th"
                first.attrs["scope"] = "row"
        head = table.find("tr")
        columns = len(head.find_all(["th", "td"], recursive=False)) if head is not None else 0
        if columns >= WIDE_TABLE_COLUMNS:
            box = table.find_parent(class_="jp-OutputArea-output") or table
            box["class"] = [*box.get("class", []), "cx-wide"]
    return str(soup)


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
    counted, papermill's injected cells skipped) and its ``Name: value``.
    """
    import nbformat

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


def top_findings(found: list[findings.Finding], top: int = TOP_FINDINGS) -> list[findings.Finding]:
    """The findings the index lists: the first ``top`` items of the summary's "What to act
    on", one per subject (:func:`cxassess.findings.by_subject`: the CSAT and NPS sides of
    one survey bias, a team's findings from several pages are one item), each its lead.

    Parameters
    ----------
    found : list of Finding
        The run's findings.
    top : int, default TOP_FINDINGS
        How many to list.

    Returns
    -------
    list of Finding
        High and medium findings, most important first, one per subject.

    Examples
    --------
    >>> F = findings.Finding
    >>> csat = F("CSAT biased", "n = 372", "medium", 1.0, "30_voice_of_customer", kind="response_bias")
    >>> nps = F("NPS biased", "n = 129", "medium", 1.0, "30_voice_of_customer", kind="response_bias")
    >>> [f.what for f in top_findings([csat, nps])]
    ['CSAT biased']
    """
    return [lead for lead, _ in findings.by_subject(found, top=top, severities=("high", "medium"))]


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


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a process of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _owner(staging: Path) -> tuple[str, int] | None:
    """(host, pid) of the run that made ``staging``, or ``None`` when it is not recorded."""
    try:
        host, pid = (staging / OWNER_FILE).read_text(encoding="utf-8").split()
        return host, int(pid)
    except (OSError, ValueError):
        return None


def _owner_gone(staging: Path) -> bool:
    owner = _owner(staging)
    return owner is not None and owner[0] == socket.gethostname() and not _alive(owner[1])


def clean_dead_runs(folder: Path | str) -> list[str]:
    """Remove the staging folders of runs that were killed; restore a half-published report.

    Only staging folders whose owner file names this host and a process that no longer
    exists are removed; one without an owner file (just being created, or from another
    host) is kept. A report left as ``.<cycle>.old`` by a run killed between its two
    renames is put back when no live run of that cycle is staging.

    Parameters
    ----------
    folder : pathlib.Path or str
        The dataset's report folder, ``reports/<dataset>``.

    Returns
    -------
    list of str
        Names of the folders removed or restored.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> dead = root / ".2026Q3.staging-999999999-abc"
    >>> dead.mkdir()
    >>> _ = (dead / OWNER_FILE).write_text(f"{socket.gethostname()} 999999999")
    >>> clean_dead_runs(root), dead.exists()
    (['.2026Q3.staging-999999999-abc'], False)
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    done, live = [], set()
    for path in sorted(folder.iterdir()):
        m = _STAGING.match(path.name)
        if not (m and path.is_dir()):
            continue
        if _owner_gone(path):
            shutil.rmtree(path, ignore_errors=True)
            done.append(path.name)
        else:
            live.add(m["cycle"])
    for old in sorted(folder.glob(".*.old")):
        cycle = old.name[1:-4]
        if is_cycle_label(cycle) and not (folder / cycle).exists() and cycle not in live:
            old.rename(folder / cycle)
            done.append(old.name)
    return done


def claim_report_folder(folder: Path | str, dataset_root: Path, reports: Path | str) -> None:
    """Record in ``folder/.dataset`` which dataset folder owns it; refuse another one.

    The dataset is recorded relative to the folder holding ``reports`` (the working
    folder when ``reports`` is relative), so the record holds no machine path.

    Parameters
    ----------
    folder : pathlib.Path or str
        The dataset's report folder, ``<reports>/<dataset folder name>``.
    dataset_root : pathlib.Path
        The dataset folder (holding review.yml).
    reports : pathlib.Path or str
        The root of the reports (``--reports``).

    Raises
    ------
    ConfigError
        ``folder`` belongs to another dataset folder of the same name.

    Examples
    --------
    Two dataset folders both named ``sample``: the first one to write its reports owns
    ``reports/sample``; the second is refused.

    >>> import tempfile
    >>> from cxassess.errors import ConfigError
    >>> root = Path(tempfile.mkdtemp())
    >>> mine, theirs = root / "data" / "sample", root / "old" / "sample"
    >>> folder = root / "reports" / "sample"
    >>> for path in (mine, theirs, folder):
    ...     path.mkdir(parents=True)
    >>> claim_report_folder(folder, mine, root / "reports")
    >>> (folder / DATASET_FILE).read_text().strip()
    'data/sample'
    >>> try:
    ...     claim_report_folder(folder, theirs, root / "reports")
    ... except ConfigError:
    ...     print("refused")
    refused
    """
    folder = Path(folder)
    base = Path(reports).absolute().parent
    try:
        mine = os.path.relpath(dataset_root.resolve(), base.resolve())
    except ValueError:
        mine = dataset_root.name
    marker = folder / DATASET_FILE
    if marker.is_file():
        theirs = marker.read_text(encoding="utf-8").strip()
        if theirs and (base / theirs).resolve() != dataset_root.resolve():
            raise ConfigError(
                f"the report folder {shown(folder)} belongs to the dataset {theirs}, "
                f"not to {shown(dataset_root)} (both dataset folders are named {dataset_root.name!r})",
                fix=f"rename the dataset folder {shown(dataset_root)}, or pass --reports <another folder>",
            )
        if theirs == mine:
            return
    marker.write_text(mine + "\n", encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_permissions(folder: Path) -> None:
    """Give ``folder`` and its sub-folders the permissions of the umask (mkdtemp: 0700)."""
    mode = 0o777 & ~_umask()
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        os.chmod(path, mode)


def _folder_error(exc: OSError, reports: Path, folder: Path) -> OSError | ReportFolderError:
    """An OS error while writing under ``reports`` as a one-line error naming ``folder``."""
    root = Path(reports).absolute()
    name = Path(str(exc.filename)).absolute() if exc.filename else None
    inside = name is None or name == root or root in name.parents
    if exc.errno in _FOLDER_ERRNOS and inside:
        return ReportFolderError(shown(folder), exc)
    return exc


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
    notebooks: Path | str | None = None,
    reports: Path | str = "reports",
    echo: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> Path:
    """Run every notebook for one cycle and publish the HTML review atomically.

    Parameters
    ----------
    dataset : pathlib.Path or str
        Dataset folder holding ``review.yml`` (e.g. ``data/sample``).
    cycle : str, optional
        Cycle to review; default the latest cycle folder of the dataset.
    previous : str, optional
        Cycle to compare with; default the cycle before ``cycle``. Without its folder
        in the dataset, no page, index or manifest names it as compared with.
    notebooks : pathlib.Path or str, optional
        Folder of the notebooks, run in name order; default the review notebooks of
        cxassess (``notebooks/`` of the source checkout, else the copies shipped in the
        package: see :func:`cxassess.resources.notebook_folder`).
    reports : pathlib.Path or str, default "reports"
        Root of the reports; the review goes to ``<reports>/<dataset folder name>/<cycle>/``.
    echo : callable, optional
        Where progress lines go, one string per call (default: standard error).
    jobs : int, optional
        How many notebooks run at once (default: one per core, as many as the free
        memory holds; the progress output says how many and why).

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
    ConfigError
        review.yml is invalid, ``cycle`` is not a cycle label, ``previous`` is not a cycle of the
        same kind (quarter or month) before ``cycle``, or the report folder belongs
        to another dataset folder of the same name.
    ReportFolderError
        The reports folder is read-only, full or not writable (one line naming it).
    ReviewRunError
        A notebook failed. The report folder is left as it was; the executed notebook
        with its traceback is kept in ``<reports>/<dataset name>/<cycle>.failed/``.
    CxAssessError
        ``notebooks`` holds no notebook, or a rendered page would fetch something from the
        network.

    Examples
    --------
    The review of the sample's 2026Q3 (about 25 s, so not run here):

    >>> run_review("data/sample", "2026Q3")  # doctest: +SKIP
    PosixPath('reports/sample/2026Q3')

    A folder without notebooks is refused before anything is written:

    >>> import tempfile
    >>> from cxassess.errors import CxAssessError
    >>> empty = Path(tempfile.mkdtemp())
    >>> try:
    ...     run_review("data/sample", "2026Q3", notebooks=empty, reports=empty / "reports")
    ... except CxAssessError as error:
    ...     print(str(error).startswith("no notebook found"), (empty / "reports").exists())
    True False
    """
    say = _progress(echo)
    config = load_config(dataset)
    for label, option in ((cycle, "--cycle"), (previous, "--previous")):
        if label is not None:
            check_cycle_label(label, option)
    cycle = cycle or latest_cycle(config.root)
    previous = check_previous(cycle, previous, config.root) if previous else previous_cycle(cycle)
    nb_dir = Path(notebooks) if notebooks is not None else notebook_folder()
    pages = notebook_files(nb_dir)
    if not pages:
        raise CxAssessError(f"no notebook found in {shown(nb_dir)}",
                            fix="pass --notebooks <the folder holding the review notebooks>")
    reports = Path(reports)
    folder = reports / config.root.name
    final = folder / cycle
    try:
        return _publish(config, cycle, previous, pages, folder, final, say, jobs)
    except OSError as exc:
        error = _folder_error(exc, reports, folder)
        if error is exc:
            raise
        raise error from None


def _progress(echo: Callable[[str], None] | None) -> Callable[[str], None]:
    """The review's progress output: one whole line per call, never two merged, though the
    pages run in threads (each page's lines start with its number and name). ``echo`` is
    called under a lock; by default each line goes to standard error in a single write
    (``print`` writes the text and its newline separately, and another thread's line can
    come in between).
    """
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            if echo is not None:
                echo(line)
                return
            sys.stderr.write(f"{line}\n")
            sys.stderr.flush()

    return say


def _publish(config: ReviewConfig, cycle: str, previous: str, pages: list[Path], folder: Path, final: Path,
             say: Callable[[str], None], jobs: int | None) -> Path:
    """The body of :func:`run_review`: stage, execute, render, swap into place."""
    folder.mkdir(parents=True, exist_ok=True)
    claim_report_folder(folder, config.root, folder.parent)
    for name in clean_dead_runs(folder):
        say(f"  housekeeping: removed {name}, left by a run that was killed")
    staging = Path(tempfile.mkdtemp(prefix=f".{cycle}.staging-{os.getpid()}-", dir=folder))
    failed_dir = final.with_name(f"{cycle}.failed")
    parameters = {
        "dataset": shown(config.root),
        "cycle": cycle,
        "previous_cycle": previous,
        "report_dir": shown(staging),
    }
    os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "cxassess-mpl"))
    os.environ.setdefault("IPYTHONDIR", str(Path(tempfile.gettempdir()) / "cxassess-ipython"))
    for key, value in ALLOCATOR_ENV.items():  # for the gate's process and the kernels started below
        os.environ.setdefault(key, value)
    started = dt.datetime.now(dt.UTC)
    compared = previous if (config.root / previous).is_dir() else None  # named only when it exists
    against = f"compared with {compared}" if compared else f"no previous cycle: {previous} not found"
    say(f"cxassess review: {config.name} {cycle} ({against}), {len(pages)} notebook(s)")
    try:
        (staging / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8")
        say("  data-quality gate: validating every table with Great Expectations (in child processes) ...")
        history = _earlier_cycles(config.root, cycle, previous)
        runs = [(cycle, staging)]
        if compared:
            runs.append((previous, staging / "previous"))
        if history:
            say(f"  data-quality gate: {len(history)} earlier cycle(s) too, for the trends (unless {cycle} fails)")
        always = len(runs)
        runs += [(label, staging / "history" / label) for label in history]
        reports = _gates(config, runs, always, folder.parent, say)
        gate = reports[cycle]
        checked = {label: report.inputs for label, report in reports.items()}
        say(f"  data-quality gate: {gate.verdict(markdown=False)}")
        if gate.critical:
            pages = [p for p in pages if p.stem.startswith("00_")]
        last = _last_pages(final)
        jobs, room, guess, why = _parallel_pages(staging, pages, jobs, last)
        say(f"  running {len(pages)} notebook(s), {why}")
        results = _execute(pages, staging, parameters, jobs, failed_dir, say, last, room, guess)
        nav = [{"href": r.html, "title": r.title} for r in results]
        run_line = f"{config.title} · cycle {cycle}" + (f" vs {compared}" if compared else "")
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
            _ready_to_publish(staging)
            staging.rename(failed_dir)
            page = next((failed_dir / r.html for r in results), failed_dir / "quality.json")
            raise DataQualityError(gate.dataset, gate.cycle, quality.critical_lines(gate), page)
        finished = dt.datetime.now(dt.UTC)
        inputs = {key: found["sha256"] for label in (*history, previous, cycle) if label in checked
                  for key, found in checked[label].items() if not key.startswith("expectations/")}
        manifest = {
            "dataset": config.name,
            "dataset_path": shown(config.root),
            "cycle": cycle,
            "previous_cycle": compared,
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": finished.isoformat(timespec="seconds"),
            "git_commit": _git_commit(Path.cwd()),
            "versions": _versions(),
            "inputs": dict(sorted(inputs.items())),
            "pages": [
                {"notebook": r.notebook, "html": r.html, "title": r.title, "seconds": round(r.seconds, 2),
                 "peak_mib": r.peak_mib}
                for r in sorted(results, key=lambda r: r.notebook)
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
                "previous": compared,
                "missing_previous": previous,
                "pages": results,
                "manifest": manifest,
                "landing": next((r for r in results if is_landing(staging / r.notebook)), None),
                "findings": top_findings(findings.load(staging)),
            },
        )
        history = _history_record(config, cycle, staging, gate)  # before the checked tables go
        _ready_to_publish(staging)
        _swap_into_place(staging, final)
        _write_history(folder, history)  # only a run that succeeded writes
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    if failed_dir.exists():
        shutil.rmtree(failed_dir)
    say(f"review written to {shown(final / 'index.html')} in {manifest['total_seconds']:.1f} s")
    return final


def _history_record(config: ReviewConfig, cycle: str, staging: Path,
                    gate: quality.QualityReport) -> dict:
    """The rows the run adds to the history store (:mod:`cxassess.improve`), and the next
    cycle's proposals from every page's findings, written into the report as ``proposals.csv``.
    """
    from cxassess import export, improve
    from cxassess.cycles import next_cycle

    store = staging.parent / improve.STORE_NAME
    record = improve.history_record(config.root, cycle, staging, store=store, gate=gate)
    proposed = improve.proposals(findings.load(staging), cycle=cycle, next_cycle=next_cycle(cycle))
    export.write_csv(proposed, staging / "proposals.csv")
    return record


def _write_history(folder: Path, record: dict) -> None:
    """Write each cycle of ``record`` into the history store of the dataset's report folder
    (one transaction per cycle).
    """
    from cxassess import improve

    for label, tables in record.items():
        improve.write_history(folder / improve.STORE_NAME, label, tables)


def _gates(config: ReviewConfig, runs: list[tuple[str, Path]], always: int, reports: Path,
           say: Callable[[str], None]) -> dict[str, quality.QualityReport]:
    """The gate of each ``(cycle, folder)`` of ``runs`` in child processes
    (:func:`cxassess.quality.gate_cycles`): each report and its checked tables are put into
    its folder, and this process reads the reports back. A cycle whose inputs and code
    match a gate saved under ``reports`` is not validated again (a line says so). The memory
    the gates used goes back to the system when the children end, before the notebooks
    start. The runs after the first ``always`` (the trends' earlier cycles) are gated only
    when the first cycle is not critical.

    The reviewed cycle and the one compared with are gated side by side, one process each,
    when :func:`gates_side_by_side` finds that they fit in the memory budget: they take the
    tables in opposite orders and hold their largest tables in turn (a lock file in the
    staging folder). Else one process gates the cycles one after the other. While the
    children work, this process imports what running and rendering the pages need.
    """
    first = runs[:always]
    side, why = gates_side_by_side(config, [label for label, _ in first], room=_room(IMPORTS_DURING_GATE_BYTES))
    if why:
        say(f"  data-quality gate: {why}")
    saved = str(reports)
    turn = runs[0][1] / ".gate-turn"
    try:
        done = _gated(config, runs, always, side, turn, saved)
    finally:
        turn.unlink(missing_ok=True)
    reused = [label for label, how in done.items() if how == "reused"]
    if reused:
        say(f"  data-quality gate: {', '.join(reused)} not validated again: the files, review.yml, the suites "
            "and cxassess are those of a gate saved by an earlier run")
    return {label: quality.QualityReport.read(folder) for label, folder in runs if label in done}


def _gated(config: ReviewConfig, runs: list[tuple[str, Path]], always: int, side: bool, turn: Path,
           saved: str) -> dict[str, str]:
    """The child processes of :func:`_gates`: what each cycle's gate did, in ``runs`` order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    root, first, later = str(config.root), runs[:always], runs[always:]
    with ProcessPoolExecutor(max_workers=len(first) if side else 1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        if side:
            gated = [pool.submit(quality.gate_cycles, root, [(label, str(folder))], reports=saved,
                                 largest_first=i == 0, turn=str(turn)) for i, (label, folder) in enumerate(first)]
        else:
            gated = [pool.submit(quality.gate_cycles, root, [(label, str(folder)) for label, folder in runs], always,
                                 reports=saved)]
        import nbconvert  # noqa: F401  (imported now, while the gate runs, not after it)
        import papermill  # noqa: F401

        from cxassess import improve  # noqa: F401
        done: dict[str, str] = {}
        for future in gated:
            done.update(future.result())
        if side and later and not quality.QualityReport.read(runs[0][1]).critical:
            done.update(pool.submit(quality.gate_cycles, root, [(label, str(folder)) for label, folder in later],
                                    reports=saved).result())
    return done


#: What the review's own process imports while the gates run (nbconvert, papermill, the
#: improvement loop: about 110 MiB measured), counted before deciding how to gate.
IMPORTS_DURING_GATE_BYTES = 128 * 2**20
#: What one cycle's gate process holds besides the table it checks (Python, pandas and
#: Great Expectations imported, the ticket ids), and the memory of checking a table in times
#: its file's bytes (read, typed, validated, stored): measured on the benchmark data m1
#: (an event log of 0.39 GB checked at 1.39 GiB at most), with room to spare.
GATE_BASELINE_BYTES = 650 * 2**20
GATE_EXPANSION = 2.3


def gates_side_by_side(config: ReviewConfig, cycles: Sequence[str], *, room: int | None) -> tuple[bool, str]:
    """Whether the gates of two cycles run side by side, one process each, and why in
    words (empty for fewer or more than two cycles).

    Each gate holds its largest table only when the other does not (they take turns), so
    together they hold at most the largest table of one cycle and the second largest of the
    other. Each table counts for :data:`GATE_BASELINE_BYTES` plus :data:`GATE_EXPANSION`
    times its file's bytes; the two must fit in ``room`` (bytes; ``None``: unchecked).

    Parameters
    ----------
    config : ReviewConfig
        The dataset's review.yml.
    cycles : sequence of str
        The cycles to gate.
    room : int or None
        The memory the gates may use together.

    Returns
    -------
    side_by_side : bool
    why : str

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> config = load_config("data/sample")
    >>> gates_side_by_side(config, ["2026Q3", "2026Q2"], room=3 * 10**9)[0]
    True
    >>> print(gates_side_by_side(config, ["2026Q3", "2026Q2"], room=10**9)[1])  # doctest: +ELLIPSIS
    2026Q3 and 2026Q2 one after the other: side by side they could need 1.4 GB, more than the 1.0 GB ...
    """
    if len(cycles) != 2:
        return False, ""
    sizes = []
    for label in cycles:
        folder = config.root / label
        files = sorted((p.stat().st_size for p in folder.iterdir() if p.is_file()), reverse=True) \
            if folder.is_dir() else []
        sizes.append((files + [0, 0])[:2])
    (a1, a2), (b1, b2) = sizes
    need = 2 * GATE_BASELINE_BYTES + int(GATE_EXPANSION * max(a1 + b2, b1 + a2))
    names = " and ".join(cycles)
    if room is not None and need > room:
        return False, (f"{names} one after the other: side by side they could need {need / 10**9:.1f} GB, more "
                       f"than the {room / 10**9:.1f} GB the memory budget leaves")
    return True, (f"{names} side by side, one process each, taking turns with their largest tables "
                  f"(about {need / 10**9:.1f} GB together at most)")


def _last_pages(final: Path) -> dict[str, dict]:
    """What each notebook took in the last good review (its manifest): ``seconds`` and,
    where it was measured, ``peak_mib`` (its kernel's peak memory); nothing without one.
    """
    try:
        manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
        return {p["notebook"]: {"seconds": float(p["seconds"]), "peak_mib": p.get("peak_mib")}
                for p in manifest.get("pages", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


#: The argument that names a page's kernel on its command line (``ps`` shows it), so that
#: the review can find the kernel's process and measure its memory: a setting of no
#: class the kernel knows, which it ignores.
_KERNEL_MARK = "--CxAssessPage.run={pid}:{page}"


class _PagePeaks:
    """The peak memory of each page's kernel (its own peak resident memory plus what the
    processes it started hold, e.g. Spark's JVM), watched every ``every`` seconds from
    ``/proc`` while the pages run; empty where ``/proc`` is missing.
    """

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cxassess-page-memory", daemon=True)

    def __enter__(self) -> _PagePeaks:
        if Path("/proc/self/status").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def peak_mib(self, page: str) -> int | None:
        """The page's peak (MiB), or ``None`` when it was not seen."""
        peak = self.peaks.get(page)
        return None if peak is None else round(peak / 2**20)

    def _watch(self) -> None:
        mark = _KERNEL_MARK.format(pid=os.getpid(), page="")
        while not self._stop.wait(self.every):
            procs: dict[int, tuple[int, int, int, str | None]] = {}  # pid: parent, rss, peak, page
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    status = Path(entry.path, "status").read_text()
                    args = Path(entry.path, "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                kib = [int(fields.get(k, "0 kB").split()[0]) * 1024 for k in ("VmRSS", "VmHWM")]
                page = next((a.decode(errors="replace")[len(mark):] for a in args
                             if a.decode(errors="replace").startswith(mark)), None)
                procs[int(entry.name)] = (int(fields.get("PPid", "0").split()[0]), kib[0], kib[1], page)
            for pid, (_, _, peak, page) in procs.items():
                if page is None:
                    continue
                below = sum(rss for other, (parent, rss, _, _) in procs.items()
                            if other != pid and _descends(other, pid, procs))
                self.peaks[page] = max(self.peaks.get(page, 0), peak + below)


def _descends(pid: int, ancestor: int, procs: dict) -> bool:
    """Whether process ``pid`` was started, directly or not, by ``ancestor``."""
    seen = set()
    while pid in procs and pid not in seen:
        seen.add(pid)
        pid = procs[pid][0]
        if pid == ancestor:
            return True
    return False


def _public(path: Path) -> str:
    """``path`` as an executed notebook names it: relative to the working folder
    (``notebooks/20_kpi_scorecard.ipynb``), else its name (the notebooks shipped in the
    installed package): never a path of the machine.

    >>> _public(Path.cwd() / "notebooks" / "20_kpi_scorecard.ipynb"), _public(Path("/opt/x/20_kpi_scorecard.ipynb"))
    ('notebooks/20_kpi_scorecard.ipynb', '20_kpi_scorecard.ipynb')
    """
    try:
        return Path(path).absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(path).name


def _execute(pages: list[Path], staging: Path, parameters: dict, jobs: int, failed_dir: Path,
             say: Callable[[str], None], last: dict[str, dict] | None = None,
             room: int | None = None, guess: Mapping[str, int] | None = None) -> list[PageResult]:
    """Execute the notebooks with papermill, up to ``jobs`` at a time (each in its own
    kernel; they only read the gate's stored tables), and return their results in name
    order, landing pages (:func:`is_landing`: the summary) first. The landing pages run
    after all the others, which save the findings they read.

    The notebooks that took longest in the last good review (``last``) start first, so the
    longest one does not start last; without that record, in name order. With ``room``
    (bytes), a notebook starts beside the running ones only when their memory and its own
    fit in it: each counts for its peak in the last review, else for its ``guess`` (by
    notebook name, :func:`page_memory`); the
    first notebook waiting that fits starts (one always runs). A notebook that runs after
    others (:func:`runs_after`) starts once those of them in this review have ended. Each page's peak is
    measured (:class:`_PagePeaks`) and returned in its result. The first failure stops
    the run: notebooks not started are not run.
    """
    import nbformat
    import papermill as pm

    last = last or {}

    def need(page: Path) -> int:
        peak = last.get(page.name, {}).get("peak_mib")
        return int(peak * 2**20) if peak else (guess or {}).get(page.name, 0)

    def run(i: int, page: Path) -> PageResult:
        out = staging / page.name
        say(f"  [{i}/{len(pages)}] {page.stem}: executing ...")
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(page), str(out), parameters=parameters, kernel_name="python3",
                cwd=str(Path.cwd()), progress_bar=False, log_output=False,
                extra_arguments=["--IPKernelApp.log_level=CRITICAL",  # no kernel chatter on the CLI (errors reach the notebook)
                                 _KERNEL_MARK.format(pid=os.getpid(), page=page.name)],
            )
        except pm.PapermillExecutionError as exc:
            cell, error = _first_error(out)
            raise ReviewRunError(page.name, cell, error or str(exc), failed_dir / page.name) from None
        seconds = time.perf_counter() - t0
        peak = peaks.peak_mib(page.name)
        say(f"  [{i}/{len(pages)}] {page.stem}: done in {seconds:.1f} s"
            + (f", {peak / 1024:.1f} GiB at most" if peak else ""))
        executed = nbformat.read(out, as_version=4)
        ran = executed.metadata.get("papermill")
        if ran is not None:  # papermill notes where it read and wrote: no path of the machine, no staging folder
            ran["input_path"], ran["output_path"] = _public(page), page.name
            nbformat.write(executed, out)
        title = notebook_title(executed, page.stem)
        return PageResult(page.name, title, f"{page.stem}.html", seconds, peak)

    stems = {page.stem for page in pages}
    ended: set[str] = set()  # the pages done, for those that run after them (:func:`runs_after`)

    def batch(numbered: list[tuple[int, Path]]) -> list[PageResult]:
        waiting = sorted(numbered, key=lambda item: -last.get(item[1].name, {}).get("seconds", 0.0))  # stable
        running: dict = {}
        results: dict[int, PageResult] = {}

        def ready(page: Path) -> bool:  # the pages it runs after, when in this review, have ended
            return all(stem in ended or stem not in stems for stem in runs_after(page))

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            while waiting or running:
                while waiting and len(running) < jobs:
                    used = sum(n for _, n in running.values())
                    fits = next((item for item in waiting if ready(item[1]) and (
                        not running or room is None or used + need(item[1]) <= room)), None)
                    if fits is None and not running:  # pages that wait for each other: in their order
                        fits = waiting[0]
                    if fits is None:
                        break
                    waiting.remove(fits)
                    running[pool.submit(run, *fits)] = (fits[0], need(fits[1]))
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    i, _ = running.pop(future)
                    error = future.exception()
                    if error is None:
                        results[i] = future.result()
                        ended.add(pages_by_number[i].stem)
                        continue
                    waiting.clear()  # nothing more starts; the running pages end first
                    wait(running)
                    if isinstance(error, ReviewRunError):
                        if failed_dir.exists():
                            shutil.rmtree(failed_dir)
                        failed_dir.mkdir()
                        shutil.copy2(staging / error.notebook, failed_dir / error.notebook)
                    raise error
        return [results[i] for i, _ in numbered]

    landing = [page for page in pages if is_landing(page)]
    numbered = list(enumerate([*[p for p in pages if p not in landing], *landing], start=1))  # in run order
    pages_by_number = dict(numbered)
    with _PagePeaks() as peaks:
        done = batch(numbered[: len(pages) - len(landing)])  # the pages save their findings ...
        return [*batch(numbered[len(pages) - len(landing):]), *done]  # ... then the summary reads them; listed first


def is_landing(notebook: Path) -> bool:
    """Whether a notebook is a landing page: run after every other page of the review (it
    reads the findings they save) and listed first. A notebook says so in its metadata:
    ``{"cxassess": {"landing": true}}``.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook file.

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> from nbformat.v4 import new_notebook
    >>> folder = Path(tempfile.mkdtemp())
    >>> nbformat.write(new_notebook(metadata={"cxassess": {"landing": True}}), folder / "01_summary.ipynb")
    >>> nbformat.write(new_notebook(), folder / "20_kpi_scorecard.ipynb")
    >>> is_landing(folder / "01_summary.ipynb"), is_landing(folder / "20_kpi_scorecard.ipynb")
    (True, False)
    """
    return bool(_page_settings(notebook).get("landing", False))


def runs_after(notebook: Path) -> tuple[str, ...]:
    """The pages (notebook names without ``.ipynb``) a notebook runs after when they are
    part of the same review: it reads tables they keep for it (:func:`cxassess.process.cycle_table`)
    instead of computing them. A notebook says so in its metadata:
    ``{"cxassess": {"after": ["10_process_stages"]}}``; the figure it declares for its memory
    (:func:`page_memory`) holds when they ran first.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook file.

    Returns
    -------
    tuple of str
        The pages, in the order given; empty when it names none.

    Examples
    --------
    >>> runs_after(Path("notebooks/40_quality_audits.ipynb")), runs_after(Path("notebooks/20_kpi_scorecard.ipynb"))
    (('10_process_stages',), ())
    """
    after = _page_settings(notebook).get("after", [])
    return tuple(str(stem) for stem in after) if isinstance(after, list | tuple) else ()


def _page_settings(notebook: Path) -> dict:
    """What a notebook says of itself to the review, its metadata ``cxassess`` (empty when
    it says nothing or cannot be read).
    """
    import nbformat

    try:
        settings = nbformat.read(notebook, as_version=4).metadata.get("cxassess", {})
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


#: Memory one page needs besides its data: the kernel with pandas, matplotlib and the package.
PAGE_BASELINE_BYTES = 400 * 2**20
#: What a notebook that declares no figure of its own (:func:`page_memory`) counts for: its
#: peak beyond its kernel in times the Parquet files of the two cycles (both cycles
#: decompressed, the event log coded and cut into visits, the figures). The most any page
#: of the review needs on the benchmark data m1 (2 x 1 M tickets, 0.22 GB of Parquet), with
#: room to spare: the quality-audits page, about 10.2 (it declares 11.5).
PARQUET_EXPANSION = 12
#: What the gate's process and the kernels need from the allocators to give freed memory back
#: to the system at once (Arrow through the system allocator, large blocks as their own
#: mappings): a page that lets a table go really frees it, so pages can run side by side.
ALLOCATOR_ENV = quality.gate.ALLOCATOR_ENV


def _available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux ``MemAvailable``), or ``None``."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _own_rss() -> int:
    """Resident memory of this process (bytes; 0 where ``/proc`` is missing)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _room(growth: int = 0) -> int:
    """The memory this run's children may use together (bytes): the review's memory budget
    less what this process holds and ``growth`` (what it is about to import), no more than
    the free memory; never below 0.
    """
    free, held = _available_memory(), _own_rss() + growth
    room = memory_budget() - held if free is None else min(free, memory_budget() - held)
    return max(room, 0)


def _parallel_pages(staging: Path, pages: Sequence[Path], jobs: int | None,
                    last: dict[str, dict] | None = None) -> tuple[int, int | None, dict[str, int], str]:
    """How the notebooks share the machine: how many run at once at most, the memory they
    may use together (bytes, ``None``: not checked), what each page is counted for when its
    peak in the last review is unknown (:func:`page_memory`, by notebook name), and the
    reason in words.

    ``--jobs`` (``jobs``) sets how many run at once, memory unchecked. Else one per core,
    in the review's memory budget (:func:`memory_budget`) less what this process holds,
    and no more than the free memory: a page counts for its peak in the last review
    (``last``), else for its kernel plus the stored tables of the cycle and the previous
    one times what the page declares.
    """
    data = sum(p.stat().st_size for folder in (staging, staging / "previous")
               for p in (folder / quality.TABLES_FOLDER).glob("*.parquet"))
    stems = {page.stem for page in pages}
    guess = {page.name: page_memory(page, data, others_first=set(runs_after(page)) <= stems) for page in pages}
    if jobs is not None:
        jobs = max(1, min(jobs, len(pages)))
        return jobs, None, guess, f"{jobs} at a time (--jobs)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    free, budget = _available_memory(), memory_budget()
    room = _room()
    known = sum(1 for p in pages if (last or {}).get(p.name, {}).get("peak_mib"))
    at_most = max(1, min(cores, len(pages)))
    why = f"up to {at_most} at a time as memory allows ({cores} core(s)"
    if free is not None:
        why += f", {free / 2**30:.1f} GB free"
    why += f", budget {budget / 10**9:.1f} GB; each page counted for "
    why += f"its peak in the last review, {known} of {len(pages)}" if known else ""
    if known < len(pages):
        sizes = sorted(guess[p.name] for p in pages if not (last or {}).get(p.name, {}).get("peak_mib"))
        span = f"{sizes[0] / 2**30:.1f}" + (f" to {sizes[-1] / 2**30:.1f}" if sizes[-1] != sizes[0] else "")
        why += (", else " if known else "") + (f"about {span} GB: its kernel and the stored data "
                                                f"({data / 10**9:.2f} GB) times what it declares")
    return at_most, room, guess, why + ")"


def page_memory(notebook: Path, data: int, *, others_first: bool = True) -> int:
    """What a page is counted for, before its peak has been measured, when it runs beside
    others: its kernel (:data:`PAGE_BASELINE_BYTES`) plus ``data``, the bytes of the stored
    tables of the cycle and the previous one, times the figure the notebook declares in its
    metadata, ``{"cxassess": {"peak_per_data": 4.5}}`` (:data:`PARQUET_EXPANSION` for a
    notebook that declares none, or whose pages to run after (:func:`runs_after`) are not
    in the review: it computes their tables itself). ``make bench`` measures each page's
    figure on the benchmark data and says whether the declared one covers it.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook file.
    data : int
        Bytes of the stored (Parquet) tables the page may read.
    others_first : bool, default True
        Whether the pages it runs after are part of the review.

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> from nbformat.v4 import new_notebook
    >>> folder = Path(tempfile.mkdtemp())
    >>> nbformat.write(new_notebook(metadata={"cxassess": {"peak_per_data": 2}}), folder / "a.ipynb")
    >>> nbformat.write(new_notebook(), folder / "b.ipynb")
    >>> page_memory(folder / "a.ipynb", 10**8) == PAGE_BASELINE_BYTES + 2 * 10**8
    True
    >>> page_memory(folder / "b.ipynb", 10**8) == PAGE_BASELINE_BYTES + PARQUET_EXPANSION * 10**8
    True
    >>> page_memory(folder / "a.ipynb", 10**8, others_first=False) == page_memory(folder / "b.ipynb", 10**8)
    True
    """
    figure = declared_peak_per_data(notebook) if others_first else float(PARQUET_EXPANSION)
    return PAGE_BASELINE_BYTES + int(figure * data)


def declared_peak_per_data(notebook: Path) -> float:
    """The figure a notebook declares for :func:`page_memory` (its peak beyond its kernel,
    in times the stored data), :data:`PARQUET_EXPANSION` when it declares none or no
    number of zero or more.

    Examples
    --------
    >>> declared_peak_per_data(Path("notebooks/40_quality_audits.ipynb")) > 0
    True
    """
    figure = _page_settings(notebook).get("peak_per_data")
    ok = isinstance(figure, int | float) and not isinstance(figure, bool) and figure >= 0
    return float(figure) if ok else float(PARQUET_EXPANSION)


def _ready_to_publish(staging: Path) -> None:
    """Drop the owner file and the checked tables the pages read (a working copy of the
    data, not part of the review) and give the folder normal permissions before it is
    published.
    """
    (staging / OWNER_FILE).unlink(missing_ok=True)
    for stored in staging.rglob(quality.TABLES_FOLDER):  # the pages' working copy of the data
        if stored.is_dir():
            shutil.rmtree(stored)
    _open_permissions(staging)


#: Paper sizes :func:`print_review` knows (CSS ``@page`` size names).
PAPERS = ("A4", "Letter")
#: Chromium's executables, looked up on the PATH in this order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str:
    """The Chromium executable, or a :class:`CxAssessError` saying how to install it."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise CxAssessError("printing the review to PDF needs Chromium, and none was found on the PATH",
                        fix="install it (Debian/Ubuntu: sudo apt-get install chromium) and run again")


def print_review(folder: Path | str, *, paper: str = "A4", out: Path | str | None = None,
                 timeout: float = 120.0) -> Path:
    """Print a published review to one PDF: the index, then every page in the index's
    order, each printed by headless Chromium with the pages' print stylesheet (portrait on
    ``paper``, wide tables on landscape pages, the page's title at the top of each sheet
    and its number at the bottom), with a bookmark per page. Nothing is fetched from the
    network: the pages are self-contained and Chromium runs with networking features off.

    Parameters
    ----------
    folder : pathlib.Path or str
        The review's folder (``reports/<dataset>/<cycle>``, with ``manifest.json``).
    paper : {"A4", "Letter"}, default "A4"
        The paper size.
    out : pathlib.Path or str, optional
        The PDF to write; default ``<folder>/review.pdf``.
    timeout : float, default 120
        Seconds Chromium may take per page.

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    CxAssessError
        ``paper`` is unknown, the folder holds no review, Chromium is not installed, or it
        failed to print a page.

    Examples
    --------
    The sample's review (about 10 s with Chromium, so not run here):

    >>> print_review("reports/sample/2026Q3")  # doctest: +SKIP
    PosixPath('reports/sample/2026Q3/review.pdf')

    >>> try:
    ...     print_review("reports/sample/2026Q3", paper="A3")
    ... except CxAssessError as error:
    ...     print(error.message)
    paper 'A3' is not one of A4, Letter
    """
    from pypdf import PdfWriter

    if paper not in PAPERS:
        raise CxAssessError(f"paper {paper!r} is not one of {', '.join(PAPERS)}", fix="use --paper A4 or --paper Letter")
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CxAssessError(f"{shown(folder)} holds no published review (no readable manifest.json)",
                            fix="run the review first: make report (or cxassess review --dataset ...)") from None
    pages = [("Review index", folder / "index.html")]
    pages += [(p.get("title") or p["html"], folder / p["html"]) for p in manifest.get("pages", [])]
    out = Path(out) if out is not None else folder / "review.pdf"
    chromium = _chromium()
    paper_css = f"<style>@page {{ size: {paper} portrait; }} @page wide {{ size: {paper} landscape; }}</style>"
    writer = PdfWriter()
    with tempfile.TemporaryDirectory(prefix="cxassess-print-") as tmp:
        for i, (title, page) in enumerate(pages):
            html = page.read_text(encoding="utf-8")
            # beside the original, so that relative links resolve the same; removed at once
            copy = page.with_name(f".print-{os.getpid()}-{page.name}")
            copy.write_text(html.replace("</head>", paper_css + "</head>", 1), encoding="utf-8")
            pdf = Path(tmp) / f"{i:03d}.pdf"
            command = [chromium, "--headless", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       "--disable-default-apps", "--disable-extensions", f"--user-data-dir={tmp}/profile",
                       f"--print-to-pdf={pdf}", copy.resolve().as_uri()]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
            try:
                subprocess.run(command, capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                pass
            finally:
                copy.unlink(missing_ok=True)
            if not pdf.is_file() or pdf.stat().st_size == 0:
                raise CxAssessError(f"Chromium could not print {shown(page)} to PDF",
                                    fix=f"open the page in a browser to check it, then run again ({chromium})")
            start = len(writer.pages)
            writer.append(str(pdf))
            writer.add_outline_item(title, start)
        writer.add_metadata({"/Title": f"{manifest.get('dataset', '')} review {manifest.get('cycle', '')}".strip()})
        with open(out, "wb") as handle:
            writer.write(handle)
    return out

"""The review run: papermill → nbconvert → index, offline HTML, manifest, atomic publish."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cxassess.errors import ReviewRunError
from cxassess.report import run_review

from .conftest import REPO, SAMPLE, tree

REMOTE = re.compile(r"https?://", re.IGNORECASE)
FIRST = "2025Q4"  # the sample's first cycle


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'dataset = "data/sample"  # dataset\ncycle = "2026Q3"  # cycle\n'
        "previous_cycle = None  # previous\nreport_dir = None  # output folder"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), params] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def review(sample_review: Path) -> Path:
    """The real notebooks run on the sample, as `make report` does (once per session)."""
    return sample_review


def test_review_writes_index_and_one_page_per_notebook(review):
    assert review.name == "2026Q3" and review.parent.name == "sample"
    stems = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    assert sorted(p.stem for p in review.glob("*.html") if p.name != "index.html") == stems
    assert sorted(p.stem for p in review.glob("*.ipynb")) == stems
    index = (review / "index.html").read_text()
    for stem in stems:
        assert f'href="{stem}.html"' in index
    assert "2026Q3" in index and "2026Q2" in index


def test_review_pages_open_offline(review):
    for page in review.glob("*.html"):
        text = page.read_text()
        assert not REMOTE.findall(text), page.name
        assert "<script src" not in text, page.name


def test_nothing_leaks_to_stderr_in_the_pages(review):
    """GX progress bars and warnings would land in the report as stderr output."""
    for path in review.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        streams = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
        assert not [o for o in streams if o.get("name") == "stderr"], path.name


def test_the_executed_notebooks_name_no_path_of_the_machine(review):
    """The executed notebooks published beside the pages hold papermill's note of where it
    read and wrote: the notebook relative to the repository and its own name, not the
    machine's absolute path or the run's staging folder (which stays only as the
    report_dir parameter the pages ran with)."""
    for path in review.glob("*.ipynb"):
        assert str(REPO) not in path.read_text(encoding="utf-8"), path.name
        ran = nbformat.read(path, as_version=4).metadata["papermill"]
        assert (ran["input_path"], ran["output_path"]) == (f"notebooks/{path.name}", path.name)


def test_a_stderr_output_is_left_out_of_the_page(tmp_path):
    """A library's warning (it names a file of the machine) stays out of the rendered page."""
    from cxassess.report import render_html

    warning = "/home/someone/venv/lib/pandas/core.py:12: UserWarning: planted warning\n"
    cell = nbformat.v4.new_code_cell("x = 1", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=warning),
        nbformat.v4.new_output("stream", name="stdout", text="forty-two\n"),
    ])
    path = tmp_path / "page.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Page"), cell]), path)
    page = render_html(path)
    assert "forty-two" in page  # what the cell printed for the reader is kept
    assert "planted warning" not in page and "/home/someone" not in page
    assert "planted warning" in path.read_text()  # the executed notebook keeps it


def test_data_quality_page_comes_first_and_the_gate_is_recorded(review):
    index = (review / "index.html").read_text()
    assert index.index("00_data_quality.html") < index.index("05_cycle_overview.html")
    assert "Data-quality gate passed for sample 2026Q3" in index
    page = (review / "00_data_quality.html").read_text()
    assert "Every check holds" in page and "2026Q2" in page  # compared with the previous cycle
    record = json.loads((review / "quality.json").read_text())
    assert record["cycle"] == "2026Q3" and not record["critical"]
    assert json.loads((review / "previous" / "quality.json").read_text())["cycle"] == "2026Q2"


def test_review_pages_hide_code_and_show_figures(review):
    page = (review / "05_cycle_overview.html").read_text()
    assert "cx.quality.checked_cycle" not in page  # code cells are hidden
    assert page.count("data:image/png;base64") >= 2
    assert "Traceback" not in page


def test_manifest_records_inputs_versions_commit_and_timings(review):
    manifest = json.loads((review / "manifest.json").read_text())
    tickets = SAMPLE / "2026Q3" / "tickets.csv"
    assert manifest["inputs"]["2026Q3/tickets.csv"] == hashlib.sha256(tickets.read_bytes()).hexdigest()
    assert "2026Q2/surveys.csv" in manifest["inputs"] and "review.yml" in manifest["inputs"]
    assert manifest["cycle"] == "2026Q3" and manifest["previous_cycle"] == "2026Q2"
    assert manifest["versions"]["pandas"].startswith("3.")
    # the commit checked out, "-dirty" with uncommitted changes to tracked files (git describe)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                             capture_output=True, text=True).stdout.strip()
    if head.returncode == 0:
        assert manifest["git_commit"] == head.stdout.strip() + ("-dirty" if changed else "")
    else:  # the package is not a git checkout here
        assert manifest["git_commit"] is None
    assert [p["notebook"] for p in manifest["pages"]] == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert all(p["seconds"] > 0 for p in manifest["pages"])


def test_manifest_has_no_commit_outside_a_git_checkout(tmp_path):
    from cxassess.report import _git_commit

    assert _git_commit(tmp_path) is None  # a temporary folder is no git checkout


def test_papermill_by_hand_from_the_repository_root(tmp_path):
    out = tmp_path / "out.ipynb"
    subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), "notebooks/05_cycle_overview.ipynb", str(out),
         "-p", "cycle", "2026Q2", "--no-progress-bar"],
        cwd=REPO, check=True, capture_output=True,
    )
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "2026Q2" in text and "2026Q1" in text  # reviewed against the cycle before


def test_notebooks_are_committed_without_outputs_and_have_documented_parameters():
    for path in (REPO / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        lines = [line for line in tagged[0].source.splitlines() if line.strip()]
        assert {"dataset", "cycle", "previous_cycle", "report_dir"} <= {re.split(r"[:\s=]", line)[0] for line in lines}
        assert all("  # " in line for line in lines), f"{path.name}: every parameter needs a comment"


@pytest.mark.slow  # a review run (one notebook)
def test_a_previous_cycle_without_its_folder_is_not_named_as_compared(tmp_path):
    """The sample's first cycle, 2025Q4, has no 2025Q3 folder: nothing says "vs 2025Q3"."""
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    notebook(notebooks / "01_ok.ipynb", "print('all good', cycle)")
    said: list[str] = []
    out = run_review(SAMPLE, FIRST, notebooks=notebooks, reports=reports, echo=said.append)
    assert not (SAMPLE / "2025Q3").exists()
    index, page = (out / "index.html").read_text(), (out / "01_ok.html").read_text()
    assert "Compared with 2025Q3" not in index and "compared with 2025Q3" not in index
    assert "No previous cycle to compare with (2025Q3 not found)" in index
    assert "vs 2025Q3" not in page and f"cycle {FIRST}" in page
    assert json.loads((out / "manifest.json").read_text())["previous_cycle"] is None
    assert "compared with 2025Q3" not in said[0] and "2025Q3 not found" in said[0]


@pytest.mark.slow  # a whole review run, then a failing one
def test_failed_run_leaves_the_last_good_report_untouched(tmp_path):
    # on the sample's first cycle: no previous cycle and no trends, so each run gates one
    # cycle only (the run's logic is the same; the other cycles only cost time)
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    notebook(notebooks / "01_ok.ipynb", "print('all good', cycle)")
    good = run_review(SAMPLE, FIRST, notebooks=notebooks, reports=reports, echo=lambda _: None)
    before = tree(good)
    assert "01_ok.html" in before

    notebook(notebooks / "02_broken.ipynb", "x = 1", "raise ValueError('planted failure')")
    with pytest.raises(ReviewRunError) as info:
        run_review(SAMPLE, FIRST, notebooks=notebooks, reports=reports, echo=lambda _: None)
    assert info.value.notebook == "02_broken.ipynb" and info.value.cell == 4  # markdown, parameters, x = 1, raise
    assert "ValueError: planted failure" in str(info.value)
    assert tree(good) == before

    # the same through the command line: non-zero exit, the notebook named, report intact
    run = subprocess.run(
        [sys.executable, "-m", "cxassess", "review", "--dataset", str(SAMPLE), "--cycle", FIRST,
         "--notebooks", str(notebooks), "--reports", str(reports)],
        cwd=REPO, capture_output=True, text=True,
    )
    assert run.returncode == 1
    assert "02_broken.ipynb" in run.stderr and "planted failure" in run.stderr
    assert tree(good) == before
    # the failing notebook is kept for diagnosis beside, not inside, the report; no staging left
    assert (reports / "sample" / f"{FIRST}.failed" / "02_broken.ipynb").is_file()
    # beside them: the history store the good run wrote (and its lock file), nothing else (the saved
    # gates go to the test session's $CXASSESS_GATE_CACHE)
    assert sorted(p.name for p in (reports / "sample").iterdir()) == [
        ".dataset", FIRST, f"{FIRST}.failed", "history.duckdb", "history.duckdb.lock"]


@pytest.mark.slow
def test_notebooks_run_all_from_the_notebooks_folder_as_in_jupyterlab(sample_review, tmp_path):
    """JupyterLab starts kernels in notebooks/: the default parameters must work there.

    The defaults (dataset "data/sample", cycle, previous cycle) are kept; only the gate is
    read from a copy of the session's review (report_dir), so that no cycle is gated again."""
    import shutil

    import papermill as pm

    report_dir = shutil.copytree(sample_review, tmp_path / "report")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        pm.execute_notebook(
            str(path), str(tmp_path / path.name), cwd=str(REPO / "notebooks"), parameters={"report_dir": str(report_dir)},
            kernel_name="python3", progress_bar=False,
        )
        nb = nbformat.read(tmp_path / path.name, as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, path.name


def test_scorecard_page_shows_the_verdicts_and_trends_over_gated_cycles(review):
    page = (review / "20_kpi_scorecard.html").read_text()
    assert "Transfer rate" in page and "worsened" in page and "within noise" in page
    assert "SLA attainment: first reply chat and phone" in page
    assert page.count("data:image/png;base64") >= 3  # trends and two breakdowns
    assert "cx.kpis.scorecard" not in page and "Traceback" not in page
    for label in ("2025Q4", "2026Q1"):  # earlier cycles are gated too, for the trends
        assert json.loads((review / "history" / label / "quality.json").read_text())["cycle"] == label
    assert "2025Q4/tickets.csv" in json.loads((review / "manifest.json").read_text())["inputs"]


def test_notebooks_run_at_once_as_cores_and_free_memory_allow(tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_notebook

    from cxassess import report

    stored = tmp_path / "tables"
    stored.mkdir()
    (stored / "events.parquet").write_bytes(b"x" * 1000)
    pages = [tmp_path / f"{i}0_p.ipynb" for i in range(4)]
    for page in pages:
        nbformat.write(new_notebook(), page)
    monkeypatch.setattr(report.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    need = report.PAGE_BASELINE_BYTES + report.PARQUET_EXPANSION * 1000  # no figure declared
    monkeypatch.setattr(report, "_available_memory", lambda: 10 * need)
    monkeypatch.setenv("CXASSESS_MEMORY_BUDGET", "100GB")  # the free memory is the limit
    assert report._parallel_pages(tmp_path, pages, None)[:3] == (4, 10 * need, {p.name: need for p in pages})
    assert report._parallel_pages(tmp_path, pages[:3], None)[0] == 3  # no more than the pages
    monkeypatch.setattr(report, "_available_memory", lambda: 2 * need + 1)
    jobs, room, guess, why = report._parallel_pages(tmp_path, pages, None)
    assert (jobs, room // guess[pages[0].name]) == (4, 2) and "4 core(s)" in why  # room for two pages of that size
    jobs, _, _, why = report._parallel_pages(tmp_path, pages, None, {"00_p.ipynb": {"seconds": 1.0, "peak_mib": 300}})
    assert "its peak in the last review, 1 of 4" in why
    assert report._parallel_pages(tmp_path, pages, 3)[::2] == (3, {p.name: need for p in pages})


def test_a_page_is_counted_for_the_memory_it_declares_until_its_peak_is_known(tmp_path):
    """Before a first review has measured the pages, each counts for its kernel plus the
    stored data times the figure its notebook declares (a light page is not counted for the
    heaviest one's memory, so two can run at once); a notebook declaring none, or no usable
    figure, counts for the default."""
    import nbformat
    from nbformat.v4 import new_notebook

    from cxassess import report

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "tickets.parquet").write_bytes(b"x" * 10**6)
    (tmp_path / "previous" / "tables").mkdir(parents=True)
    (tmp_path / "previous" / "tables" / "tickets.parquet").write_bytes(b"x" * 10**6)
    figures = {"a": 2, "b": 0.5, "c": None, "d": "much", "e": -1, "f": True}
    pages = []
    for name, figure in figures.items():
        meta = {"cxassess": {"peak_per_data": figure}} if figure is not None else {}
        nbformat.write(new_notebook(metadata=meta), tmp_path / f"{name}.ipynb")
        pages.append(tmp_path / f"{name}.ipynb")
    _, _, guess, why = report._parallel_pages(tmp_path, pages, None)
    base, default = report.PAGE_BASELINE_BYTES, report.PAGE_BASELINE_BYTES + report.PARQUET_EXPANSION * 2 * 10**6
    assert guess == {"a.ipynb": base + 4 * 10**6, "b.ipynb": base + 10**6, "c.ipynb": default, "d.ipynb": default,
                     "e.ipynb": default, "f.ipynb": default}
    assert "its kernel and the stored data (0.00 GB) times what it declares" in why
    for page in sorted(Path("notebooks").glob("*.ipynb")):  # the review's own pages each declare theirs
        declared = nbformat.read(page, as_version=4).metadata["cxassess"]["peak_per_data"]
        assert report.declared_peak_per_data(page) == declared < report.PARQUET_EXPANSION


class _Pool:
    """Stands for the thread pool of :func:`cxassess.report._execute`: records the order
    in which pages are started and runs nothing."""

    started: list[str] = []

    def __init__(self, max_workers):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, i, page):
        from concurrent.futures import Future

        from cxassess import report

        _Pool.started.append(page.name)
        done = Future()
        done.set_result(report.PageResult(page.name, page.stem, f"{page.stem}.html", 0.0))
        return done


def test_a_page_starts_beside_the_running_ones_only_when_their_peaks_fit(tmp_path):
    from cxassess import report

    mib = 2**20
    last = {"00_a.ipynb": {"seconds": 30.0, "peak_mib": 2000}, "10_b.ipynb": {"seconds": 20.0, "peak_mib": 1500},
            "20_c.ipynb": {"seconds": 10.0, "peak_mib": 900}}
    pages = [tmp_path / n for n in ("00_a.ipynb", "10_b.ipynb", "20_c.ipynb", "30_d.ipynb")]
    import unittest.mock

    _Pool.started = []
    with unittest.mock.patch.object(report, "ThreadPoolExecutor", _Pool):
        results = report._execute(pages, tmp_path, {}, 2, tmp_path / "failed", lambda line: None, last,
                                  room=3000 * mib, guess={"30_d.ipynb": 1200 * mib})
    # a (2000) runs; b (1500) does not fit beside it, c (900) does; then b beside nothing
    # running; d, unknown, counts for the guess (1200) and fits beside b (1500)
    assert _Pool.started == ["00_a.ipynb", "20_c.ipynb", "10_b.ipynb", "30_d.ipynb"]
    assert [r.notebook for r in results] == [p.name for p in pages]
    _Pool.started = []
    with unittest.mock.patch.object(report, "ThreadPoolExecutor", _Pool):
        report._execute(pages, tmp_path, {}, 2, tmp_path / "failed", lambda line: None, last,
                        room=100 * mib, guess={"30_d.ipynb": 1200 * mib})
    assert _Pool.started == ["00_a.ipynb", "10_b.ipynb", "20_c.ipynb", "30_d.ipynb"]  # one at a time, longest first


def test_the_longest_notebook_of_the_last_review_starts_first(tmp_path):
    from cxassess import report

    (tmp_path / "manifest.json").write_text(json.dumps({"pages": [
        {"notebook": "00_a.ipynb", "seconds": 2.0}, {"notebook": "20_c.ipynb", "seconds": 30.0}]}))
    assert report._last_pages(tmp_path) == {"00_a.ipynb": {"seconds": 2.0, "peak_mib": None},
                                            "20_c.ipynb": {"seconds": 30.0, "peak_mib": None}}
    assert report._last_pages(tmp_path / "nothing") == {}
    pages = [tmp_path / n for n in ("00_a.ipynb", "10_b.ipynb", "20_c.ipynb")]
    import unittest.mock

    _Pool.started = []
    with unittest.mock.patch.object(report, "ThreadPoolExecutor", _Pool):
        results = report._execute(pages, tmp_path, {}, 2, tmp_path / "failed", lambda line: None,
                                  report._last_pages(tmp_path))
    assert _Pool.started == ["20_c.ipynb", "00_a.ipynb", "10_b.ipynb"]  # longest first, then name order
    assert [r.notebook for r in results] == ["00_a.ipynb", "10_b.ipynb", "20_c.ipynb"]


def test_a_page_that_runs_after_another_waits_for_it_when_both_are_in_the_review(tmp_path):
    """The quality-audits page reads the event-log tables the process page keeps: it starts
    only once that page has ended, even when it took longest last time; without the process
    page in the review it runs as any other page, counted for the default memory figure
    since it then computes those tables itself."""
    import unittest.mock

    import nbformat
    from nbformat.v4 import new_notebook

    from cxassess import report

    names = ("10_process.ipynb", "20_kpis.ipynb", "40_audits.ipynb")
    pages = [tmp_path / n for n in names]
    for page in pages:
        meta = {"cxassess": {"after": ["10_process"], "peak_per_data": 1.0}} if page.stem == "40_audits" else {}
        nbformat.write(new_notebook(metadata=meta), page)
    assert report.runs_after(pages[2]) == ("10_process",) and report.runs_after(pages[0]) == ()
    last = {"40_audits.ipynb": {"seconds": 30.0}, "20_kpis.ipynb": {"seconds": 20.0}, "10_process.ipynb": {"seconds": 10.0}}
    for run, started in ((pages, ["20_kpis.ipynb", "10_process.ipynb", "40_audits.ipynb"]),
                         (pages[1:], ["40_audits.ipynb", "20_kpis.ipynb"])):  # longest first otherwise
        _Pool.started = []
        with unittest.mock.patch.object(report, "ThreadPoolExecutor", _Pool):
            results = report._execute(run, tmp_path, {}, 2, tmp_path / "failed", lambda line: None, last)
        assert _Pool.started == started
        assert [r.notebook for r in results] == [p.name for p in run]
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "events.parquet").write_bytes(b"x" * 10**6)
    assert report._parallel_pages(tmp_path, pages, None)[2]["40_audits.ipynb"] == report.PAGE_BASELINE_BYTES + 10**6
    alone = report._parallel_pages(tmp_path, pages[1:], None)[2]["40_audits.ipynb"]
    assert alone == report.PAGE_BASELINE_BYTES + report.PARQUET_EXPANSION * 10**6


def test_progress_lines_of_pages_run_at_once_stay_whole(monkeypatch):
    """Pages run in threads: each progress line reaches the terminal whole (one write), even
    through a stream that lets another thread in between two writes, as a terminal may."""
    import io
    import threading
    import time

    from cxassess import report

    class Terminal(io.TextIOBase):
        def __init__(self):
            self.parts: list[str] = []

        def write(self, text):
            self.parts.append(text)
            time.sleep(0.0005)  # the other threads run here
            return len(text)

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    say = report._progress(None)
    pages = ["10_process_stages", "20_kpi_scorecard", "30_voice_of_customer", "40_quality_audits"]

    def run(i: int, page: str) -> None:
        for _ in range(15):
            say(f"  [{i}/4] {page}: executing ...")

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(pages, start=1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = "".join(terminal.parts).splitlines()
    assert len(lines) == 60
    assert all(re.fullmatch(r"  \[\d/4\] (\w+): executing \.\.\.", line) and line.count("executing") == 1
               for line in lines), [line for line in lines if line.count("executing") != 1][:2]
    # an echo of the caller is called for one whole line at a time too
    seen: list[str] = []
    report._progress(seen.append)("  [1/4] 10_process_stages: done in 1.0 s")
    assert seen == ["  [1/4] 10_process_stages: done in 1.0 s"]

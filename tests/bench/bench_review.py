"""End to end: ``cxassess review`` of the benchmark data (2026Q3 against 2026Q2) as a
subprocess, as a user runs it: a first review into a new reports folder (nothing saved
there: every cycle is validated), then the same review run again in that folder (the
review then reuses the gate the first one saved, knows each page's peak memory from the
last one and runs pages side by side where they fit).

Per repetition: wall seconds; CPU seconds (user + sys) of the whole process tree
(``RUSAGE_CHILDREN`` before and after: the review and every kernel it waited for); peak
resident memory summed over the whole tree (the review, its kernels, any helper),
sampled every 0.2 s from ``/proc``; and per step, from the progress lines the review
prints (each line is stamped when it arrives): the data-quality gate (from its first line
to the first notebook) and each notebook (its own "done in X s"). The review chooses how
many pages run at once from its memory budget (``$CXASSESS_MEMORY_BUDGET``, default 3 GB):
the label says which budget was in force.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench._common import ROOT, PeakRss, bench_data, row

DONE = re.compile(r"\] (?P<page>\S+): done in (?P<seconds>[\d.]+) s")


def steps(lines: list[tuple[float, str]], wall: float) -> dict[str, float]:
    """Seconds per step from the review's stamped progress lines.

    Examples
    --------
    >>> steps([(0.0, "cxassess review: x"), (0.1, "  data-quality gate: validating ..."),
    ...        (5.0, "  [1/1] 00_quality: executing ..."), (7.5, "  [1/1] 00_quality: done in 2.4 s")], 8.0)
    {'gate': 4.9, '00_quality': 2.4, 'publish': 0.5}
    """
    out: dict[str, float] = {}
    gate = next((t for t, line in lines if "data-quality gate" in line), None)
    first_page = next((t for t, line in lines if "executing" in line), None)
    if gate is not None:
        out["gate"] = round((first_page if first_page is not None else wall) - gate, 2)
    last_done = None
    for t, line in lines:
        if m := DONE.search(line):
            out[m["page"]] = float(m["seconds"])
            last_done = t
    if last_done is not None:
        out["publish"] = round(wall - last_done, 2)
    return out


def data_rows(path: Path) -> int:
    """Data rows of a CSV file (lines after the header)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b"")) - 1


def review_once(dataset: Path, cycle: str = "2026Q3", reports: Path | None = None) -> dict:
    """One ``cxassess review`` in a fresh process tree; its figures. Into a new reports
    folder, removed after, unless ``reports`` is given (kept: a re-run finds the last
    review there)."""
    keep = reports is not None
    reports = reports or Path(tempfile.mkdtemp(prefix="cxbench-review-"))
    cli = Path(sys.executable).with_name("cxassess")
    command = [str(cli), "review", "--dataset", str(dataset), "--cycle", cycle, "--reports", str(reports)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    try:
        env = {k: v for k, v in os.environ.items() if k != "CXASSESS_GATE_CACHE"}  # saved gates: in the reports folder
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**env, "PYTHONUNBUFFERED": "1"})
        with PeakRss(proc.pid) as peak:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append((time.perf_counter() - t0, line.rstrip("\n")))
            code = proc.wait()
        wall = time.perf_counter() - t0
    finally:
        if not keep:
            shutil.rmtree(reports, ignore_errors=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = "\n".join(line for _, line in lines[-15:])
        raise RuntimeError(f"cxassess review exited {code}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_gib": peak.peak_bytes / 2**30, "steps": steps(lines, wall),
            "lines": [f"{t:7.1f} s  {line}" for t, line in lines],
            **(page_memory(reports / dataset.name, cycle) if keep else {})}


def page_memory(folder: Path, cycle: str) -> dict:
    """Each page's peak (MiB, from the review's manifest) and the bytes of the stored tables
    of the two cycles the pages read (the gate's saved tables, ``.checked``), from a review's
    folder ``folder`` (``reports/<dataset>``)."""
    import json

    manifest = json.loads((folder / cycle / "manifest.json").read_text(encoding="utf-8"))
    peaks = {p["notebook"]: p["peak_mib"] for p in manifest["pages"] if p.get("peak_mib")}
    labels = [cycle, manifest["previous_cycle"]] if manifest.get("previous_cycle") else [cycle]
    data = sum(f.stat().st_size for label in labels for f in (folder / ".checked" / label).glob("*/tables/*.parquet"))
    return {"page_peak_mib": peaks, "stored_bytes": data}


def _page_rows(runs: list[dict]) -> list[dict]:
    """Per page of the first reviews: the measured peak beyond the kernel in times the stored
    data, beside the figure the notebook declares (:func:`cxassess.report.page_memory`):
    met when the declared figure covers the measured one."""
    from cxassess.report import PAGE_BASELINE_BYTES, declared_peak_per_data

    rows = []
    for page in sorted(runs[0].get("page_peak_mib", {})):
        figures = [(r["page_peak_mib"][page] * 2**20 - PAGE_BASELINE_BYTES) / r["stored_bytes"]
                   for r in runs if page in r.get("page_peak_mib", {})]
        declared = declared_peak_per_data(ROOT / "notebooks" / page)
        rows.append(row(f"page {page}: peak memory beyond its kernel ({PAGE_BASELINE_BYTES // 2**20} MiB) in times the "
                        f"stored tables of both cycles ({runs[0]['stored_bytes'] / 10**9:.3f} GB), first review; "
                        f"goal: within the figure the notebook declares ({declared:g})", "x", figures,
                        goal=f"<= {declared:g}x", met=statistics.median(figures) <= declared, digits=2))
    return rows


def _rows(runs: list[dict], what: str) -> list[dict]:
    """The figures of ``runs`` (one kind of run), labelled with ``what``."""
    wall = [r["wall_s"] for r in runs]
    rss = [r["peak_rss_gib"] for r in runs]
    rows = [
        row(f"wall time of {what}", "s", wall, goal="<= 90 s", met=statistics.median(wall) <= 90, digits=1),
        row("CPU time (user + sys) of the review and every process it waited for", "s",
            [r["cpu_s"] for r in runs], digits=1),
        row("peak RSS summed over the process tree (sampled every 0.2 s)", "GiB", rss, goal="<= 3 GB",
            met=statistics.median(rss) * 2**30 <= 3e9, digits=2),
    ]
    for step in runs[0]["steps"]:
        values = [r["steps"][step] for r in runs if step in r["steps"]]
        label = "data-quality gate (current and previous cycles in child processes, side by side when they fit " \
            "the memory budget, from its first line to the first notebook)" \
            if step == "gate" else "publishing (HTML pages, manifest) after the last notebook" \
            if step == "publish" else f"notebook {step} (the review's own 'done in' figure)"
        rows.append(row(f"step: {label}", "s", values, digits=1))
    return rows


def run(reps: int = 3, dataset: Path | None = None) -> dict:
    """``reps`` times: a first review into a new reports folder (cold: no earlier report
    and no saved gate, so every cycle is validated and the pages are counted for the
    general memory guess), then a re-run of the same review in that folder (the saved gate
    reused, the last review's pages' peaks and times known, as when an analyst runs the
    review again). The OS file cache is warm after the first run."""
    data = Path(dataset) if dataset else bench_data()
    first, again = [], []
    for _ in range(max(1, reps)):
        folder = Path(tempfile.mkdtemp(prefix="cxbench-review-"))
        try:
            first.append(review_once(data, reports=folder))
            again.append(review_once(data, reports=folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    shape = ", ".join(f"{data_rows(data / '2026Q3' / f'{t}.csv'):,} {t}" for t in ("tickets", "events", "surveys"))
    budget = os.environ.get("CXASSESS_MEMORY_BUDGET", "3 GB (default)")
    what = (f"cxassess review of the benchmark dataset {data.name} ({shape} in 2026Q3), 2026Q3 against 2026Q2, "
            f"subprocess, whole process tree, memory budget {budget}")
    rows = [*_rows(first, f"{what}: first review into a new reports folder"),
            *_rows(again, "the same review run again in that folder (the gate the first review saved there "
                          "reused, the last review's page peaks known)"),
            *_page_rows(first)]
    return {"what": what, "data": data.name, "rows": rows, "progress_of_last_run": again[-1]["lines"],
            "progress_of_last_first_review": first[-1]["lines"]}

"""Cardinality: the scorecard notebook at real cardinality, on a synthetic cycle of 10,000
tickets with 300 teams (long tail) and 15 stages, with a previous cycle
(:func:`cxassess.synth.write_wide_sample`): the scorecard by team in process, the whole
notebook run by papermill (kernel start, scorecard, trends, breakdowns by channel and
team; the gate saved beforehand as a review run does) and its HTML rendering."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.bench._common import ROOT, row


def run(reps: int = 3, tickets: int = 10_000, teams: int = 300) -> dict:
    """Seconds of each step, ``reps`` times after a warm-up; the page's size."""
    import papermill as pm

    from cxassess import quality
    from cxassess.cycles import load_cycle
    from cxassess.kpis import scorecard
    from cxassess.report import render_html
    from cxassess.synth import write_wide_sample

    steps = {"scorecard by team (kpis.scorecard, in process)": [], "scorecard notebook (papermill)": [],
             "render the page (nbconvert)": []}
    page_bytes = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = write_wide_sample(Path(tmp) / "wide", tickets=tickets, teams=teams)
        report = Path(tmp) / "report"
        quality.check_cycle(root, "2026Q3").save(report)
        quality.check_cycle(root, "2026Q2").save(report / "previous")
        now = load_cycle(root, "2026Q3")
        before = now.load_previous()
        for k in range(reps + 1):
            timed = []
            t0 = time.perf_counter()
            scorecard(now, before, by="team")
            timed.append(time.perf_counter() - t0)
            executed = report / "20_kpi_scorecard.ipynb"
            t0 = time.perf_counter()
            pm.execute_notebook(str(ROOT / "notebooks" / "20_kpi_scorecard.ipynb"), str(executed),
                                kernel_name="python3", progress_bar=False, cwd=str(ROOT),
                                parameters={"dataset": str(root), "cycle": "2026Q3", "previous_cycle": "2026Q2",
                                            "report_dir": str(report)})
            timed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            page_bytes = len(render_html(executed).encode("utf-8"))
            timed.append(time.perf_counter() - t0)
            if k:  # the first round is the warm-up
                for step, seconds in zip(steps, timed, strict=True):
                    steps[step].append(seconds)
    what = (f"scorecard notebook on a synthetic cycle of {tickets:,} tickets, {teams} teams (long tail), "
            "15 stages, with a previous cycle")
    rows = [row(f"{step}; {what}" if i == 0 else step, "s", v, digits=2) for i, (step, v) in enumerate(steps.items())]
    return {"what": what, "page_mb": round(page_bytes / 1e6, 2), "rows": rows}

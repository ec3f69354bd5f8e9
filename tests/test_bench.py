"""The benchmark runner works on tiny inputs (the benchmarks themselves run with make bench)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.bench import __main__ as runner
from tests.bench import _common, bench_generator, bench_review


def test_generator_benchmark_runs_on_a_tiny_spec(tmp_path):
    result = bench_generator.run(reps=1, tickets_per_cycle=200)
    rate, seconds = result["rows"]
    assert rate["unit"] == "tickets/s" and len(rate["runs"]) == 1 and rate["goal"]
    # 2 cycles x 200 tickets were written in the measured seconds
    assert abs(rate["median"] * seconds["median"] - 400) < 2
    path = _common.write_result("generator", result, out=tmp_path)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["name"] == "generator" and written["machine"]["cpus"] == os.cpu_count()


def test_summary_is_median_min_max():
    assert _common.summary([5.0, 1.0, 4.0, 2.0]) == {"median": 3.0, "min": 1.0, "max": 5.0,
                                                     "runs": [5.0, 1.0, 4.0, 2.0]}


def test_review_steps_come_from_the_progress_lines():
    lines = [(0.0, "cxassess review: m1 2026Q3"), (0.2, "  data-quality gate: validating every table ..."),
             (80.2, "  data-quality gate: passed"), (90.0, "  [1/2] 00_quality: executing ..."),
             (99.0, "  [1/2] 00_quality: done in 8.9 s"), (99.1, "  [2/2] 05_cycle_overview: executing ..."),
             (130.0, "  [2/2] 05_cycle_overview: done in 30.8 s")]
    assert bench_review.steps(lines, 131.5) == {"gate": 89.8, "00_quality": 8.9, "05_cycle_overview": 30.8,
                                                "publish": 1.5}


def test_readme_table_lists_each_figure_with_its_goal(tmp_path):
    rows = [_common.row("tickets written per second", "tickets/s", [1.0, 3.0, 2.0], goal=">= 2", met=True),
            _common.row("wall seconds", "s", [0.5])]
    _common.write_result("generator", {"what": "x", "rows": rows}, out=tmp_path)
    table = runner.readme_table(tmp_path).splitlines()
    assert len(table) == 4
    assert "| tickets written per second | 2 tickets/s | 1–3 (3) | >= 2 | yes |" in table[2]
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{runner.START}\nold\n{runner.END}\nafter\n", encoding="utf-8")
    assert runner.update_readme(readme, tmp_path)
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and table[2] in text and text.endswith(f"{runner.END}\nafter\n")
    assert not runner.update_readme(readme, tmp_path)  # a second run changes nothing


def test_peak_rss_counts_child_processes():
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(200_000_000); time.sleep(1.5)"])
    with _common.PeakRss(os.getpid(), interval=0.1) as peak:
        child.wait()
    assert peak.peak_bytes > 200_000_000  # the child's 200 MB are in the tree's sum


def test_readme_table_keeps_the_rows_of_benchmarks_not_run_again(tmp_path):
    """A partial run (make bench ONLY=review) replaces the review's rows only; the other
    benchmarks' rows stay with the date they were measured, in the benchmarks' order."""
    old = ("| benchmark | what | median | spread | goal | met? |\n|---|---|---|---|---|---|\n"
           "| import (2026-11-01) | import cxassess | 0.02 s | 0.02–0.02 (5) | – | – |\n"
           "| review (2026-11-01) | wall time, old | 96 s | 95–98 (3) | <= 90 s | **no** |\n")
    _common.write_result("review", {"what": "x", "rows": [_common.row("wall time, new", "s", [80.0, 81.0, 82.0])]},
                         out=tmp_path)
    table = runner.readme_table(tmp_path, old).splitlines()
    assert table[2] == "| import (2026-11-01) | import cxassess | 0.02 s | 0.02–0.02 (5) | – | – |"
    assert "wall time, new | 81 s" in table[3] and not any("old" in line for line in table)
    assert len(table) == 4


def test_scale_bench_reads_one_partition_on_each_engine(tmp_path, monkeypatch):
    """The scale benchmark on a tiny log: each engine, in its own process, counts the tickets
    of cycle=2026Q3 alone (the 2026Q2 partition beside it is left out), as pandas counts them
    in that partition's files; it is not part of a plain ``make bench``."""
    import pandas as pd

    from tests.bench import bench_scale

    monkeypatch.setenv("CXASSESS_SCALE_DATA", str(tmp_path))
    result = bench_scale.run(reps=1, events=30_000, engines=("duckdb", "polars"))
    q3 = pd.read_parquet(tmp_path / "events" / "cycle=2026Q3")
    assert result["data"]["events"] == len(q3) and result["data"]["tickets"] == q3["ticket_id"].nunique()
    for engine in ("duckdb", "polars"):  # every ticket starts with "Ticket received" (stage intake)
        assert result["entering"][engine]["intake"] == q3["ticket_id"].nunique()
    assert [r["unit"] for r in result["rows"]] == ["GiB", "GiB", "s", "s", "GiB", "s", "s", "GiB"]
    assert "scale" in runner.available() and "scale" in runner.SEPARATE


def test_each_page_s_measured_memory_is_set_beside_the_figure_it_declares(tmp_path):
    """The review bench reads each page's peak from the manifest and the stored tables'
    bytes from the saved gates, and puts (peak - kernel) / stored bytes beside the figure
    the notebook declares: met when the declaration covers the measurement."""
    import json

    from cxassess.report import PAGE_BASELINE_BYTES, declared_peak_per_data

    folder = tmp_path / "m1"
    (folder / "2026Q3").mkdir(parents=True)
    for label, size in (("2026Q3", 600_000), ("2026Q2", 400_000)):
        (folder / ".checked" / label / "k" / "tables").mkdir(parents=True)
        (folder / ".checked" / label / "k" / "tables" / "events.parquet").write_bytes(b"x" * size)
    declared = declared_peak_per_data(Path("notebooks/40_quality_audits.ipynb"))
    peak_mib = (PAGE_BASELINE_BYTES + (declared + 1) * 10**6) / 2**20  # beyond the declared figure
    (folder / "2026Q3" / "manifest.json").write_text(json.dumps({"previous_cycle": "2026Q2", "pages": [
        {"notebook": "40_quality_audits.ipynb", "peak_mib": peak_mib}]}))
    found = bench_review.page_memory(folder, "2026Q3")
    assert found == {"page_peak_mib": {"40_quality_audits.ipynb": peak_mib}, "stored_bytes": 10**6}
    (row,) = bench_review._page_rows([found])
    assert row["median"] == pytest.approx(declared + 1, abs=0.01) and row["met"] is False

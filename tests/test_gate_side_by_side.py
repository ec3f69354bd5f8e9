"""The review's two gates side by side (issue 13, two cores): the reviewed cycle and the one
compared with are gated in two processes when their memory fits the budget; they take the
tables in opposite orders and hold their largest tables in turn (a lock file), and give
the same reports as one gate after the other."""

from __future__ import annotations

import fcntl
import shutil
import threading
import time

import pandas as pd
import pytest

from cxassess.config import load_config
from cxassess.cycles import load_cycle
from cxassess.quality import QualityReport, check_cycle
from cxassess.quality.gate import table_order
from cxassess.report import GATE_BASELINE_BYTES, GATE_EXPANSION, gates_side_by_side


def test_the_ids_come_first_and_the_largest_file_first_or_last(tmp_path):
    files = load_cycle("data/sample", "2026Q3", lazy=True).files
    sizes = {t: p.stat().st_size for t, p in files.items()}
    largest = max(sizes, key=sizes.get)
    order, found = table_order(files)
    assert found == largest and order[0] == "tickets" and order[-1] == largest
    assert sorted(order) == sorted(files)
    order, _ = table_order(files, largest_first=True)
    assert order[:2] == ["tickets", largest]
    # without a tickets file the event log gives the ids (the tickets are derived from it): first
    no_tickets = {t: p for t, p in files.items() if t != "tickets"}
    big = tmp_path / "surveys.csv"
    big.write_bytes(b"x" * (max(sizes.values()) + 1))
    order, found = table_order({**no_tickets, "surveys": big})
    assert order[0] == "events" and order[-1] == found == "surveys"


def test_the_largest_table_waits_for_the_turn_the_other_gate_holds(tmp_path):
    """While another process holds the lock file, the gate checks its other tables and
    waits before its largest one; once the lock is let go it finishes, with the report a
    gate without a lock gives."""
    turn = tmp_path / "turn"
    lines: list[str] = []
    out: dict = {}
    with open(turn, "a") as held:  # another open file: the lock conflicts as between two processes
        fcntl.flock(held, fcntl.LOCK_EX)
        gate = threading.Thread(target=lambda: out.setdefault("report", check_cycle(
            "data/sample", "2026Q3", store=tmp_path / "a", echo=lines.append, turn=turn)))
        gate.start()
        order, largest = table_order(load_cycle("data/sample", "2026Q3", lazy=True).files)
        deadline = time.monotonic() + 120
        while len(lines) < len(order) - 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        assert gate.is_alive() and len(lines) == len(order) - 1  # every table but the largest
        assert not any(f" {largest}:" in line for line in lines)
        fcntl.flock(held, fcntl.LOCK_UN)
    gate.join(120)
    assert not gate.is_alive() and f" {largest}:" in lines[-1]
    alone = check_cycle("data/sample", "2026Q3", store=tmp_path / "b")
    report = out["report"]
    pd.testing.assert_frame_equal(report.checks, alone.checks)  # in the contract's order, as always
    pd.testing.assert_frame_equal(report.tables, alone.tables)
    assert list(report.quarantine) == list(alone.quarantine)


def test_side_by_side_only_when_the_largest_and_second_largest_tables_fit(tmp_path):
    root = tmp_path / "desk"
    root.mkdir()
    shutil.copy("data/sample/review.yml", root / "review.yml")
    sizes = {"2026Q3": (900, 500, 10), "2026Q2": (700, 600, 10)}
    for label, files in sizes.items():
        (root / label).mkdir()
        for name, size in zip(("events.csv", "tickets.csv", "actions.csv"), files, strict=True):
            (root / label / name).write_bytes(b"x" * size)
    config = load_config(root)
    # one gate holds its largest table while the other holds its second largest: 900 + 600
    need = 2 * GATE_BASELINE_BYTES + int(GATE_EXPANSION * (900 + 600))
    assert gates_side_by_side(config, ["2026Q3", "2026Q2"], room=need)[0]
    side, why = gates_side_by_side(config, ["2026Q3", "2026Q2"], room=need - 1)
    assert not side and why.startswith("2026Q3 and 2026Q2 one after the other")
    assert gates_side_by_side(config, ["2026Q3", "2026Q2"], room=None)[0]  # no room given: not checked
    assert gates_side_by_side(config, ["2026Q3"], room=need) == (False, "")


@pytest.mark.slow
def test_a_review_gates_two_cycles_side_by_side_or_one_after_the_other_with_the_same_reports(
        tmp_path, monkeypatch):
    from cxassess.report import run_review

    def gate_of(budget: str) -> tuple[list[str], dict]:
        monkeypatch.setenv("CXASSESS_MEMORY_BUDGET", budget)
        monkeypatch.setenv("CXASSESS_GATE_CACHE", str(tmp_path / f"cache-{budget}"))
        lines: list[str] = []
        reports = tmp_path / budget
        run_review("data/sample", "2026Q3", reports=reports, echo=lines.append,
                   notebooks=tmp_path / "pages")
        folder = reports / "sample" / "2026Q3"
        return lines, {"now": QualityReport.read(folder), "before": QualityReport.read(folder / "previous")}

    (tmp_path / "pages").mkdir()
    shutil.copy("notebooks/00_data_quality.ipynb", tmp_path / "pages")
    side_lines, side = gate_of("3GB")
    serial_lines, serial = gate_of("1GB")
    assert any("side by side, one process each" in line for line in side_lines)
    assert any("one after the other" in line for line in serial_lines)
    for which in ("now", "before"):
        pd.testing.assert_frame_equal(side[which].checks, serial[which].checks)
        pd.testing.assert_frame_equal(side[which].tables, serial[which].tables)

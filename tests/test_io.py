"""Loaders: encodings, delimiters, decimal commas, time zones, mappings and clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxassess.config import load_config
from cxassess.cycles import load_cycle
from cxassess.errors import ConfigError, DataFileError, MissingColumnError, ParseError
from cxassess.eventlog import tickets_from_events
from cxassess.io import parse_timestamps, read_csv_text, read_table

from .conftest import FIXTURES, SAMPLE, shared_file

TZ = "Europe/Berlin"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------------------- encodings
def test_utf8_bom_is_stripped_from_the_first_header(tmp_path):
    path = write(tmp_path, "t.csv", "\ufeffticket_id,created_at\nT1,2026-07-01 09:00\n")
    t = read_table(path, "tickets", tz=TZ)
    assert list(t.columns) == ["ticket_id", "created_at"]
    assert t.loc[0, "ticket_id"] == "T1"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_its_byte_order_mark_is_read(tmp_path, codec):
    # Excel's "Unicode text" and some help desks export UTF-16 with a BOM; before, it was read
    # as cp1252: a header of "ÿþt\x00i\x00..." and a missing-column error
    rows = "".join(f"T{i},2026-07-01 09:{i % 60:02d},Zoë {i}\n" for i in range(60_000))  # > 1 MiB: several blocks
    path = tmp_path / "t.csv"
    path.write_bytes(("\ufeffticket_id,created_at,customer_id\n" + rows).encode(codec))
    t = read_table(path, "tickets", tz="UTC")
    assert list(t.columns[:3]) == ["ticket_id", "created_at", "customer_id"]
    assert len(t) == 60_000 and t["ticket_id"].iloc[-1] == "T59999" and t["customer_id"].iloc[-1] == "Zoë 59999"
    assert t["created_at"].iloc[61] == pd.Timestamp("2026-07-01 09:01", tz="UTC")
    raw = read_csv_text(path)
    assert raw.attrs["encoding"] == "utf-16" and raw.columns[0] == "ticket_id" and raw["customer_id"].iloc[0] == "Zoë 0"


def test_cp1252_semicolon_and_decimal_comma(tmp_path):
    text = (
        "ticket_id;created_at;category;handle_minutes;reopens\n"
        "T1;2026-07-01 09:00;Zahlung über Bank (€);12,5;0\n"
        "T2;2026-07-02 10:30;Kündigung;1.234,75;2\n"
    )
    path = write(tmp_path, "t.csv", text, "cp1252")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    t = read_table(path, "tickets", tz=TZ)
    assert t["category"].tolist() == ["Zahlung über Bank (€)", "Kündigung"]
    assert t["handle_minutes"].tolist() == [12.5, 1234.75]
    assert t["reopens"].tolist() == [0, 2]
    assert str(t["reopens"].dtype) == "Int64"


def test_japanese_text_in_utf8_and_shift_jis(tmp_path):
    comments = ["迅速で親切な対応、ありがとうございました。", "部署をたらい回しにされました。"]
    rows = "".join(f"T{i},2026-07-0{i + 1} 10:00,{c},ja\n" for i, c in enumerate(comments))
    text = "ticket_id,sent_at,comment,language\n" + rows * 20
    for encoding in ("utf-8", "cp932"):
        path = write(tmp_path, f"s-{encoding}.csv", text, encoding)
        s = read_table(path, "surveys", tz="Asia/Tokyo")
        assert s["comment"].tolist()[:2] == comments, encoding
        assert str(s.loc[0, "sent_at"]) == "2026-07-01 10:00:00+09:00"


def test_tab_delimited_with_explicit_encoding_option(tmp_path):
    path = write(tmp_path, "e.csv", "ticket_id\ttimestamp\tactivity\nT1\t2026-07-01T08:00:00Z\tOpen\n")
    e = read_table(path, "events", tz=TZ)
    assert str(e.loc[0, "timestamp"]) == "2026-07-01 10:00:00+02:00"
    assert read_csv_text(path).attrs["delimiter"] == "\t"


# ----------------------------------------------------------------------------- time zones
def test_naive_times_are_read_in_the_dataset_zone_across_dst():
    s = pd.Series(
        [
            "2026-03-29 01:59:00",  # last minute of winter time
            "2026-03-29 02:30:00",  # does not exist: moved to the first valid instant
            "2026-03-29 03:00:00",
            "2025-10-26 02:30:00",  # exists twice: read as the first (summer-time) one
            "2025-10-26 03:30:00",
        ]
    )
    got = parse_timestamps(s, TZ).astype(str).tolist()
    assert got == [
        "2026-03-29 01:59:00+01:00",
        "2026-03-29 03:00:00+02:00",
        "2026-03-29 03:00:00+02:00",
        "2025-10-26 02:30:00+02:00",
        "2025-10-26 03:30:00+01:00",
    ]
    # 01:59 winter time to 03:00 summer time is one minute of real time
    parsed = parse_timestamps(s, TZ)
    assert (parsed[2] - parsed[0]) == pd.Timedelta(minutes=1)


def test_offsets_and_z_are_converted_not_relabelled():
    s = pd.Series(["2026-07-01T08:00:00Z", "2026-07-01T10:00:00+02:00", "2026-07-01T04:00:00-04:00"])
    got = parse_timestamps(s, TZ)
    assert got.nunique() == 1
    assert str(got[0]) == "2026-07-01 10:00:00+02:00"
    assert str(got.dtype) == f"datetime64[us, {TZ}]"


def test_sub_second_precision_is_kept():
    got = parse_timestamps(pd.Series(["2026-07-01 09:00:00.250"]), TZ)
    assert got[0].microsecond == 250_000


def test_parquet_with_naive_timestamps(tmp_path):
    df = pd.DataFrame(
        {"ticket_id": ["A", "B"], "created_at": pd.to_datetime(["2026-01-05 09:00", "2026-07-05 09:00"])}
    )
    path = tmp_path / "tickets.parquet"
    df.to_parquet(path)
    t = read_table(path, "tickets", tz=TZ)
    assert t["created_at"].astype(str).tolist() == [
        "2026-01-05 09:00:00+01:00",
        "2026-07-05 09:00:00+02:00",
    ]


# ----------------------------------------------------------------------------- errors
def test_unparseable_date_names_file_column_rows_and_fix(tmp_path):
    text = "ticket_id,created_at\nT1,2026-07-01 09:00\nT2,yesterday\nT3,2026-07-03 10:00\nT4,31/02/2026 x\n"
    path = write(tmp_path, "tickets.csv", text)
    with pytest.raises(ParseError) as info:
        read_table(path, "tickets", tz=TZ)
    err = info.value
    assert err.column == "created_at"
    assert err.rows == [2, 4]
    assert err.examples == ["yesterday", "31/02/2026 x"]
    message = str(err)
    assert str(path) in message and "'created_at'" in message and "How to fix" in message


def test_unparseable_values_can_be_coerced_and_listed(tmp_path):
    path = write(tmp_path, "tickets.csv", "ticket_id,created_at,reopens\nT1,2026-07-01 08:00,1\nT2,soon,1.5\n")
    t = read_table(path, "tickets", tz=TZ, errors="coerce")
    assert t["created_at"].isna().tolist() == [False, True]
    assert t["reopens"].isna().tolist() == [False, True]
    assert [(u["row"], u["column"], u["value"]) for u in t.attrs["unreadable"]] == [
        (2, "created_at", "soon"),
        (2, "reopens", "1.5"),
    ]


@pytest.mark.parametrize("value", ["07/2026", "2026-07", "2026-07-01", "Jul 2026", "2026", "09:30"])
def test_partial_timestamps_are_unreadable_with_their_original_text(tmp_path, value):
    path = write(tmp_path, "tickets.csv", f"ticket_id,created_at\nT1,2026-07-01 09:00\nT2,{value}\n")
    t = read_table(path, "tickets", tz=TZ, errors="coerce")
    assert t["created_at"].isna().tolist() == [False, True]  # never completed to 2026-07-01 00:00
    assert [(u["row"], u["value"]) for u in t.attrs["unreadable"]] == [(2, value)]
    assert "full date and time" in t.attrs["unreadable"][0]["problem"]


@pytest.mark.parametrize(("value", "readable"), [
    ("2026-07-01", True), ("2026/07/01", True), ("1 Jul 2026", True), ("2026-06-30T00:00:00+02:00", True),
    ("07/2026", False), ("2026-07", False), ("July 2026", False),
])
def test_date_columns_accept_a_full_date_alone(tmp_path, value, readable):
    path = write(tmp_path, "customers.csv", f"customer_id,active_from\nC1,{value}\n")
    c = read_table(path, "customers", tz=TZ, errors="coerce")
    assert c["active_from"].notna().tolist() == [readable]
    if readable:
        assert c.loc[0, "active_from"].strftime("%Y-%m-%d") in ("2026-07-01", "2026-06-30")
    else:
        assert c.attrs["unreadable"][0]["value"] == value


def test_missing_required_column(tmp_path):
    path = write(tmp_path, "tickets.csv", "id,created\nT1,2026-07-01\n")
    with pytest.raises(MissingColumnError) as info:
        read_table(path, "tickets", tz=TZ)
    assert info.value.missing == ["ticket_id", "created_at"]
    assert "columns found: id, created" in str(info.value)
    assert "review.yml" in str(info.value)


def test_mapping_to_an_absent_column_names_the_canonical_column(tmp_path):
    root = tmp_path / "ds"
    (root / "2026Q3").mkdir(parents=True)
    (root / "review.yml").write_text(
        "timezone: UTC\ncolumns:\n  tickets: {ticket_id: Ticket No, created_at: Opened}\n"
    )
    write(root / "2026Q3", "tickets.csv", "Ticket No,Created\n1,2026-07-01\n")
    with pytest.raises(MissingColumnError) as info:
        load_cycle(root, "2026Q3")
    assert info.value.missing == ["created_at"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "file not found"), ("", "the file is empty"), ("  \n", "the file is empty")],
)
def test_missing_or_empty_file(tmp_path, content, problem):
    path = tmp_path / "tickets.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataFileError, match=problem):
        read_table(path, "tickets", tz=TZ)


def test_bad_review_yml_is_explained(tmp_path):
    (tmp_path / "review.yml").write_text("timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_config(tmp_path)
    (tmp_path / "review.yml").write_text("timezone: UTC\ncalendar:\n  working_hours:\n    mon: [08:00, 18:00]\n")
    with pytest.raises(ConfigError, match="Quote the times|quoted times"):
        load_config(tmp_path)


def test_raw_files_are_never_modified(tmp_path):
    path = write(tmp_path, "tickets.csv", "\ufeffticket_id;created_at;handle_minutes\nT1;2026-07-01 08:00;3,5\n", "utf-8")
    before = path.read_bytes()
    read_table(path, "tickets", tz=TZ)
    assert path.read_bytes() == before


# ----------------------------------------------------------------------------- real exports
def test_comcast_export_with_bom_and_day_first_dates(tmp_path):
    source = shared_file("comcast-complaints/Comcast_telecom_complaints_data.csv")
    (tmp_path / "review.yml").write_text(
        "timezone: America/New_York\n"
        "csv: {datetime_format: '%d-%m-%y'}\n"
        "columns:\n  tickets: {ticket_id: 'Ticket #', created_at: Date, channel: Received Via, status: Status}\n"
    )
    config = load_config(tmp_path)
    t = read_table(source, "tickets", config)
    assert len(t) == 2224
    assert t.loc[0, "ticket_id"] == "250635"
    assert str(t.loc[0, "created_at"]) == "2015-04-22 00:00:00-04:00"
    assert set(t["channel"]) == {"Customer Care Call", "Internet"}
    assert "City" in t.columns  # columns outside the contract are kept


def test_sample_cycle_loads_with_contract_dtypes():
    c = load_cycle(SAMPLE, "2026Q3")
    t = c.tickets
    assert str(t["created_at"].dtype) == "datetime64[us, Europe/Berlin]"
    assert str(t["ticket_id"].dtype) == "str"
    assert str(t["transfers"].dtype) == "Int64"
    assert c.previous == "2026Q2"
    assert c.start == pd.Timestamp("2026-07-01", tz=TZ) and c.end == pd.Timestamp("2026-10-01", tz=TZ)
    assert sorted(c.tables) == ["actions", "audits", "customers", "events", "surveys", "tickets"]


# ----------------------------------------------------------------------------- deriving tickets
def _process():
    from cxassess.config import Process, Stage

    return Process(
        stages=(Stage("intake", "Intake", "F"), Stage("work", "Work", "T"), Stage("res", "Resolution", "T"), Stage("survey", "Survey", "CX")),
        activities={"open": "intake", "reply": "work", "handoff": "work", "solve": "res", "close": "res", "survey": "survey"},
        first_response_activities=("reply",),
        agent_reply_activities=("reply",),
        resolution_activities=("solve",),
        closing_activities=("close",),
    )


def test_tickets_from_events_by_hand():
    ts = pd.to_datetime
    ev = pd.DataFrame(
        [
            # A: reply, handoff to team b, solved, closed, surveyed -> no reopen, 1 transfer
            ("A", "2026-07-01 09:00", "open", None),
            ("A", "2026-07-01 09:30", "reply", "a"),
            ("A", "2026-07-01 10:00", "handoff", "b"),
            ("A", "2026-07-01 12:00", "solve", "b"),
            ("A", "2026-07-02 12:00", "close", None),
            ("A", "2026-07-02 13:00", "survey", None),
            # B: solved, reopened (reply), solved again -> 1 reopen; ping-pong a->b->a = 2 transfers
            ("B", "2026-07-01 08:00", "open", None),
            ("B", "2026-07-01 08:10", "reply", "a"),
            ("B", "2026-07-01 09:00", "solve", "b"),
            ("B", "2026-07-03 09:00", "reply", "a"),
            ("B", "2026-07-03 10:00", "solve", "a"),
            # C: solved then reopened and still open at export
            ("C", "2026-07-01 08:00", "open", None),
            ("C", "2026-07-01 09:00", "solve", None),
            ("C", "2026-07-02 09:00", "reply", "a"),
            # D: only opened
            ("D", "2026-07-04 08:00", "open", None),
        ],
        columns=["ticket_id", "timestamp", "activity", "team"],
    ).assign(timestamp=lambda d: ts(d["timestamp"]))
    t = tickets_from_events(ev.sample(frac=1, random_state=1), _process()).set_index("ticket_id")
    assert t["created_at"].tolist() == ts(["2026-07-01 09:00", "2026-07-01 08:00", "2026-07-01 08:00", "2026-07-04 08:00"]).tolist()
    assert [str(v) for v in t["first_response_at"]] == ["2026-07-01 09:30:00", "2026-07-01 08:10:00", "2026-07-02 09:00:00", "NaT"]
    assert [str(v) for v in t["resolved_at"]] == ["2026-07-01 12:00:00", "2026-07-03 10:00:00", "NaT", "NaT"]
    assert [str(v) for v in t["first_resolved_at"]] == ["2026-07-01 12:00:00", "2026-07-01 09:00:00", "2026-07-01 09:00:00", "NaT"]
    assert t["reopens"].tolist() == [0, 1, 1, 0]
    assert t["transfers"].tolist() == [1, 2, 0, 0]
    assert t["agent_replies"].tolist() == [1, 2, 1, 0]
    assert t["status"].tolist() == ["closed", "resolved", "open", "open"]
    # a log put together from two frames (their row labels repeat) gives the same tickets
    halves = pd.concat([ev.iloc[:7], ev.iloc[7:]])
    halves.index = [*range(7), *range(len(ev) - 7)]
    pd.testing.assert_frame_equal(tickets_from_events(halves, _process()).set_index("ticket_id"), t)


def test_helpdesk_log_loads_and_derives_tickets_like_an_independent_computation():
    source = shared_file("helpdesk-italy/helpdesk_events.csv")
    config = load_config(FIXTURES / "helpdesk-italy")
    ev = read_table(source, "events", config)
    assert len(ev) == 21_348 and ev["ticket_id"].nunique() == 4_580
    assert ev["stage"].notna().all()
    assert str(ev.loc[0, "timestamp"]) == "2012-10-09 14:50:17+02:00"

    tickets = tickets_from_events(ev, config.process).set_index("ticket_id")

    # independent: plain pandas on the raw file, one case at a time
    raw = pd.read_csv(source)
    raw["ts"] = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    created, first_resp, reopens, transfers, resolved = {}, {}, {}, {}, {}
    early = {a for a, s in config.process.activities.items() if s in ("intake", "first_level", "specialist")}
    for case, g in raw.sort_values(["Case ID", "ts"], kind="stable").groupby("Case ID", sort=False):
        acts, res, when = g["Activity"].tolist(), g["Resource"].tolist(), g["ts"].tolist()
        created[case] = when[0]
        first_resp[case] = next((w for a, w in zip(acts, when, strict=False) if a == "Take in charge ticket"), pd.NaT)
        solves = [i for i, a in enumerate(acts) if a == "Resolve ticket"]
        later_work = [i for i, a in enumerate(acts) if a in early]
        reopens[case] = sum(1 for i in solves if any(j > i for j in later_work))
        transfers[case] = sum(1 for x, y in zip(res, res[1:], strict=False) if x != y)
        still_open = not solves or (later_work and max(later_work) > solves[-1])
        resolved[case] = pd.NaT if still_open else when[solves[-1]]

    local = tickets["created_at"].dt.tz_localize(None)
    assert (local == pd.Series(created)[tickets.index]).all()
    fr = tickets["first_response_at"].dt.tz_localize(None)
    expected_fr = pd.Series(first_resp)[tickets.index]
    assert fr.isna().equals(expected_fr.isna()) and (fr.dropna() == expected_fr.dropna()).all()
    rs = tickets["resolved_at"].dt.tz_localize(None)
    expected_rs = pd.Series(resolved)[tickets.index]
    assert rs.isna().equals(expected_rs.isna()) and (rs.dropna() == expected_rs.dropna()).all()
    assert tickets["reopens"].astype(int).to_dict() == reopens
    assert tickets["transfers"].astype(int).to_dict() == transfers


def test_previous_cycle_is_loaded_when_present_and_none_otherwise():
    current = load_cycle(SAMPLE, "2026Q3", tables=("tickets", "surveys"))
    before = current.load_previous()
    assert before.label == "2026Q2" and sorted(before.tables) == ["surveys", "tickets"]
    assert current.load_previous("2025Q4").label == "2025Q4"
    assert load_cycle(SAMPLE, "2025Q4", tables=("actions",)).load_previous() is None  # no 2025Q3 folder


def test_encoding_is_detected_from_the_start_and_corrected_when_utf8_fails_later(tmp_path):
    # the first megabyte is ASCII; a cp1252 "é" comes after it
    rows = "".join(f"T{i:07d},2026-07-01 09:00,plain\n" for i in range(40_000))
    path = tmp_path / "tickets.csv"
    path.write_bytes(("ticket_id,created_at,comment\n" + rows + "T9,2026-07-01 10:00,café\n").encode("cp1252"))
    assert path.stat().st_size > (1 << 20)
    df = read_csv_text(path)
    assert len(df) == 40_001 and df["comment"].iloc[-1] == "café" and df.attrs["encoding"] == "cp1252"


def test_rows_with_the_wrong_number_of_fields_name_the_problem(tmp_path):
    path = write(tmp_path, "tickets.csv", "ticket_id,created_at\nT1,2026-07-01 09:00,extra\n")
    with pytest.raises(DataFileError) as info:
        read_csv_text(path)
    assert "not a well-formed CSV" in str(info.value) and "as many fields as the header" in str(info.value)


def test_spaces_after_the_delimiter_are_skipped_and_null_markers_found(tmp_path):
    path = write(tmp_path, "t.csv", "a, b\nx, NA\ny,  z\n")
    df = read_csv_text(path)
    assert list(df.columns) == ["a", "b"] and df["b"].isna().tolist() == [True, False]
    assert df.loc[1, "b"] == "z"


@pytest.mark.parametrize("require_time", [True, False])
def test_native_iso_parsing_agrees_with_the_general_parser(require_time):
    """The Arrow fast path changes speed, never a value: every form, odd or wrong, gives
    what pandas' general parser gives (DST repeats and gaps, offsets, impossible dates)."""
    from cxassess.io import _parse_general

    values = pd.Series([
        "2026-07-01T09:30:00+02:00", "2026-07-01 09:30:00+02:00", "2026-07-01T09:30:00Z", "2026-07-01T09:30:00-05:30",
        "2026-07-01T09:30:00", "2026-07-01 09:30:00", "2026-07-01 09:30", "2026-07-01T09:30", " 2026-07-01 09:30 ",
        "2026-10-25 02:30:00", "2026-03-29 02:30:00", "2026-02-30 09:30", "2026-02-29 09:30", "2028-02-29 09:30",
        "2026-7-1 9:30", "01.07.2026 09:30", "07/2026", "2026-07", "2026-07-01", "2026-07-01 24:00",
        "2026-07-01 09:30:00.250", "2026-13-01 09:30", None, "", "n/a", "2026-07-01T09:30:00+25:00",
    ], dtype="str")
    fast = parse_timestamps(values, "Europe/Berlin", require_time=require_time)
    general = _parse_general(values, "Europe/Berlin", None, False, require_time)
    pd.testing.assert_series_equal(fast, general)
    assert fast.notna().sum() >= 12  # the common forms are read at all
    # only real times of the ISO shapes: Arrow's cast reads every one (above, one unreal
    # time among them sends the whole shape to pandas)
    real = pd.Series([
        "2026-07-01T09:30:00+02:00", "2026-07-01 09:30:00+0200", "2026-07-01T09:30:00Z", "2026-07-01T09:30:00-05:30",
        "2026-07-01T09:30:00.123456+02:00", "2026-10-25T02:30:00+01:00", "2026-07-01T09:30:00", "2026-07-01 09:30",
        "2026-10-25 02:30:00", "2026-03-29 02:30:00", "2028-02-29 09:30", "2026-07-01 09:30:00.250", None,
    ], dtype="str")
    fast = parse_timestamps(real, "Europe/Berlin", require_time=require_time)
    pd.testing.assert_series_equal(fast, _parse_general(real, "Europe/Berlin", None, False, require_time))
    assert fast.notna().sum() == 12
    assert str(fast[3]) == "2026-07-01 17:00:00+02:00" and str(fast[9]) == "2026-03-29 03:00:00+02:00"


def test_a_file_typed_part_by_part_reads_as_if_typed_whole(tmp_path, monkeypatch):
    """read_table types a CSV a part at a time: rows of unreadable cells count from the top
    of the file, the decimal comma is told from the whole column (the first part alone,
    ``12``, ``1.500``, ``4``, does not show it: ``1.500`` is 1500, not 1.5), the ParseError
    lists every bad row of the first column."""
    import cxassess.io as io

    monkeypatch.setattr(io, "ROWS_AT_A_TIME", 2)
    monkeypatch.setattr(io, "BLOCK_BYTES", 64)  # many blocks, gathered two rows at a time
    lines = ["ticket_id;created_at;handle_minutes"] + [
        f"T{i}; 2026-07-0{i} 09:00;{m}" for i, m in enumerate(["12", "1.500", "4", "0,5", "7"], start=1)
    ]
    lines[4] = "T4;soon;0,5"  # data row 4
    lines += ["T6;2026-07-06;2", "T7;2026-07-07 10:00; 8,25"]  # row 6: a date without its time
    path = write(tmp_path, "tickets.csv", "\n".join(lines) + "\n")
    t = read_table(path, "tickets", tz=TZ, errors="coerce")
    assert t["ticket_id"].tolist() == [f"T{i}" for i in range(1, 8)]
    assert t["handle_minutes"].tolist() == [12.0, 1500.0, 4.0, 0.5, 7.0, 2.0, 8.25]
    assert [(u["row"], u["column"], u["value"]) for u in t.attrs["unreadable"]] == [
        (4, "created_at", "soon"), (6, "created_at", "2026-07-06")]
    assert str(t.loc[6, "created_at"]) == "2026-07-07 10:00:00+02:00" and t.attrs["delimiter"] == ";"
    with pytest.raises(ParseError) as info:
        read_table(path, "tickets", tz=TZ)
    assert info.value.column == "created_at" and info.value.rows == [4, 6]
    assert info.value.examples == ["soon", "2026-07-06"]
    assert read_csv_text(path, rows=[6, 0, 3])["ticket_id"].tolist() == ["T7", "T1", "T4"]
    with pytest.raises(IndexError):
        read_csv_text(path, rows=[7])

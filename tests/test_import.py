"""`cxassess import`: real exports into dataset folders, checked against plain pandas."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxassess.cli import main
from cxassess.config import load_config
from cxassess.contract import update_readme
from cxassess.errors import CxAssessError, DatasetFolderError, ImportSourceError
from cxassess.importer import _read_xes_iterparse, import_source, read_source

from .conftest import REPO, shared_file, tree

HELPDESK = "helpdesk-italy/helpdesk_events.csv"
COMCAST = "comcast-complaints/Comcast_telecom_complaints_data.csv"
CFPB = "cfpb-complaints-2013/Consumer_Complaints_1000.csv"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _quarter_counts(created: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in created.dt.to_period("Q").value_counts().sort_index().items()}


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory):
    source = shared_file(HELPDESK)
    before = _sha(source)
    out = tmp_path_factory.mktemp("imp") / "helpdesk"
    result = import_source(source, out, timezone="Europe/Rome")
    return source, before, out, result


def test_helpdesk_cycles_equal_plain_pandas(helpdesk):
    source, _, out, result = helpdesk
    raw = pd.read_csv(source, dtype=str)
    when = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")  # naive local time
    first = when.groupby(raw["Case ID"]).transform("min")
    quarter = first.dt.to_period("Q")
    end = quarter.map(lambda q: (q + 1).start_time)
    kept = raw[when < end].assign(q=quarter.astype(str))
    want = kept.groupby("q").agg(tickets=("Case ID", "nunique"), events=("Case ID", "size"))
    assert raw["Case ID"].nunique() == 4580 and len(raw) == 21348
    got = result.cycles.set_index("cycle")
    assert got.index.tolist() == want.index.tolist()
    assert got["tickets"].tolist() == want["tickets"].tolist()
    assert got["events"].tolist() == want["events"].tolist()
    assert got["tickets"].sum() == 4580
    for label, row in want.iterrows():
        ev = pd.read_csv(out / label / "events.csv", dtype=str)
        assert len(ev) == row["events"] and ev["ticket_id"].nunique() == row["tickets"]
    # the written timestamps are the source's local times with the Rome offset
    ev = pd.read_csv(out / "2012Q1" / "events.csv", dtype=str)
    local = pd.to_datetime(ev["timestamp"], utc=True).dt.tz_convert("Europe/Rome").dt.tz_localize(None)
    src = kept[kept["q"] == "2012Q1"]
    src_when = pd.to_datetime(src["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    assert sorted(zip(ev["ticket_id"], local, strict=True)) == sorted(zip(src["Case ID"], src_when, strict=True))
    assert ev["timestamp"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$").all()


def test_helpdesk_mapping_and_review_yml(helpdesk):
    source, _, out, result = helpdesk
    mapping = result.proposal.mapping
    assert result.proposal.kind == "events"
    assert {k: mapping[k] for k in ("ticket_id", "activity", "timestamp", "agent_id")} == {
        "ticket_id": "Case ID", "activity": "Activity", "timestamp": "Complete Timestamp", "agent_id": "Resource",
    }
    config = load_config(out)  # the proposal is a valid review.yml
    activities = set(pd.read_csv(source, dtype=str)["Activity"])
    assert len(activities) == 14
    assert set(config.process.activities) == activities
    assert config.timezone == "Europe/Rome"
    assert "Take in charge ticket" in config.process.first_response_activities
    assert "Resolve ticket" in config.process.resolution_activities
    assert config.process.closing_activities == ("Closed",)
    assert "calendar" not in config.raw  # no working hours given: calendar hours
    text = (out / "review.yml").read_text()
    assert text.count("# check") >= 14
    imported = yaml.safe_load(text)["imported"]
    assert imported["sha256"] == _sha(source) and imported["source"] == "helpdesk_events.csv"
    header = (out / "2013Q4" / "events.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["ticket_id", "timestamp", "activity"]
    assert not {"Variant", "Variant index", "Case ID"} & set(header)


def test_reimport_is_byte_identical_and_leaves_the_source_unchanged(helpdesk):
    source, before, out, _ = helpdesk
    first = tree(out)
    import_source(source, out, timezone="Europe/Rome")
    assert tree(out) == first
    assert _sha(source) == before == "31024fa6da0a35578643d50f2bea6e90d5ce97628b64851e271b521f005eef1c"


def test_comcast_register_rows_per_cycle(tmp_path):
    source = shared_file(COMCAST)
    result = import_source(source, tmp_path / "comcast")
    raw = pd.read_csv(source, dtype=str, encoding="utf-8-sig")
    created = pd.to_datetime(raw["Date"], format="%d-%m-%y")
    want = _quarter_counts(created)
    assert dict(zip(result.cycles["cycle"], result.cycles["tickets"], strict=True)) == want
    assert result.proposal.kind == "tickets"
    assert result.proposal.mapping == {
        "ticket_id": "Ticket #", "created_at": "Date", "channel": "Received Via", "status": "Status",
    }
    assert result.proposal.time_columns == {"created_at": "Time"}
    tickets = pd.concat(pd.read_csv(p, dtype=str) for p in sorted((tmp_path / "comcast").glob("*/tickets.csv")))
    assert len(tickets) == len(raw)
    # status names mapped onto the contract's values; no date columns, so nothing reset
    want_status = raw["Status"].str.lower().replace({"solved": "resolved"}).value_counts().sort_index()
    assert tickets["status"].value_counts().sort_index().to_dict() == want_status.to_dict()
    one = tickets.set_index("ticket_id").loc["250635", "created_at"]
    assert one == "2015-04-22T15:53:50+00:00"  # 22-04-15 3:53:50 PM, no zone given: UTC


def test_cfpb_register_rows_per_cycle(tmp_path):
    source = shared_file(CFPB)
    result = import_source(source, tmp_path / "cfpb", timezone="America/New_York")
    raw = pd.read_csv(source, dtype=str)
    want = _quarter_counts(pd.to_datetime(raw["date_received"], format="%m/%d/%Y"))
    assert dict(zip(result.cycles["cycle"], result.cycles["tickets"], strict=True)) == want
    mapping = result.proposal.mapping
    assert mapping["ticket_id"] == "complaint_id"
    assert mapping["created_at"] == "date_received"
    assert mapping["channel"] == "submitted_via"
    config = load_config(tmp_path / "cfpb")
    assert sorted(config.values("channels")) == sorted(raw["submitted_via"].dropna().unique())


def test_cfpb_latest_quarter_is_said_to_be_partial(tmp_path, capsys):
    # the export ends a fortnight into 2013Q4: one complaint there, against 999 in 2013Q3
    source = shared_file(CFPB)
    raw = pd.read_csv(source, dtype=str)
    created = pd.to_datetime(raw["date_received"], format="%m/%d/%Y")
    counts = _quarter_counts(created)
    last_label = max(counts)
    others = [n for label, n in counts.items() if label != last_label]
    last_day = created.max().date()
    assert (last_label, counts[last_label]) == ("2013Q4", 1)
    days = (pd.Timestamp("2013-12-31").date() - last_day).days
    result = import_source(source, tmp_path / "cfpb", timezone="America/New_York")
    assert result.partial == (
        f"2013Q4 (1 ticket(s) against a median of {pd.Series(others).median():,.0f} in the 1 cycle(s) before; "
        f"its data ends on {last_day.isoformat()}, {days} day(s) before the cycle's last day, 2013-12-31)")
    assert main(["import", str(source), "--dataset", str(tmp_path / "cli"), "--timezone", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "warning: the latest cycle looks partial: 2013Q4" in out and "review 2013Q3 instead" in out
    assert "CYCLE=2013Q3" in out


def _register(path: Path, days: pd.DatetimeIndex) -> Path:
    path.write_text("ticket_id,created_at\n" + "".join(f"T{i},{d:%Y-%m-%d} 10:00\n" for i, d in enumerate(days)))
    return path


def test_a_latest_cycle_with_few_tickets_or_ending_early_is_said_to_be_partial(tmp_path):
    first_half = pd.date_range("2024-01-01", "2024-06-30", freq="D")  # 91 + 91 days (2024 is a leap year)
    whole = _register(tmp_path / "whole.csv", first_half.append(pd.date_range("2024-07-01", "2024-09-30", freq="D")))
    assert import_source(whole, tmp_path / "whole", timezone="UTC").partial is None
    # one ticket a day up to 15 August: 46 tickets (not under half of 91), data ending 46 days early
    early = _register(tmp_path / "early.csv", first_half.append(pd.date_range("2024-07-01", "2024-08-15", freq="D")))
    assert import_source(early, tmp_path / "early", timezone="UTC").partial == (
        "2024Q3 (its data ends on 2024-08-15, 46 day(s) before the cycle's last day, 2024-09-30)")
    # one ticket a week up to 30 September: 14 tickets, under half of 91, dates to the end
    sparse = _register(tmp_path / "sparse.csv", first_half.append(pd.date_range("2024-07-01", "2024-09-30", freq="7D")))
    result = import_source(sparse, tmp_path / "sparse", timezone="UTC")
    assert result.partial == "2024Q3 (14 ticket(s) against a median of 91 in the 2 cycle(s) before)"
    assert "CYCLE=2024Q2" in result.summary()


XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
<trace><string key="concept:name" value="T1"/><string key="channel" value="phone"/>
<event><string key="concept:name" value="Ticket received"/><string key="org:resource" value="ann"/>
<date key="time:timestamp" value="2024-01-10T09:00:00.000+11:00"/></event>
<event><string key="concept:name" value="First reply"/><string key="org:resource" value="bob"/>
<date key="time:timestamp" value="2024-01-10T11:30:00.000+11:00"/></event>
<event><string key="concept:name" value="Resolved"/><string key="org:resource" value="bob"/>
<date key="time:timestamp" value="2024-04-10T10:00:00.000+10:00"/></event>
</trace>
<trace><string key="concept:name" value="T2"/><string key="channel" value="email"/>
<event><string key="concept:name" value="Ticket received"/><string key="org:resource" value="ann"/>
<date key="time:timestamp" value="2024-07-01T00:30:00.000+10:00"/></event>
<event><string key="concept:name" value="Resolved"/><string key="org:resource" value="cy"/>
<date key="time:timestamp" value="2024-07-03T16:00:00.000+10:00"/></event>
</trace>
</log>
"""


def test_xes_with_offsets_is_read_and_its_zone_guessed(tmp_path):
    source = tmp_path / "log.xes"
    source.write_text(XES)
    result = import_source(source, tmp_path / "xes")
    # +11:00 in January and +10:00 in April and July: Sydney's daylight-saving calendar
    assert result.timezone == "Australia/Sydney"
    assert "guessed" in result.timezone_note and "+10:00" in result.timezone_note
    assert result.proposal.mapping["channel"] == "case:channel"
    q1 = pd.read_csv(tmp_path / "xes" / "2024Q1" / "events.csv", dtype=str)
    q3 = pd.read_csv(tmp_path / "xes" / "2024Q3" / "events.csv", dtype=str)
    # T1 created in 2024Q1: its April event is after the cycle's end, left out
    assert q1["timestamp"].tolist() == ["2024-01-10T09:00:00+11:00", "2024-01-10T11:30:00+11:00"]
    assert q1["agent_id"].tolist() == ["ann", "bob"] and set(q1["channel"]) == {"phone"}
    # 00:30 local on 1 July is in Q3 in Sydney (still 30 June in UTC)
    assert q3["ticket_id"].unique().tolist() == ["T2"]
    assert load_config(tmp_path / "xes").timezone == "Australia/Sydney"


def test_the_fallback_xes_reader_reads_what_rustxes_reads(tmp_path):
    source = tmp_path / "log.xes"
    source.write_text(XES)
    fast, _ = read_source(source)
    slow = _read_xes_iterparse(source)
    columns = ["case:concept:name", "concept:name", "org:resource", "time:timestamp", "case:channel"]
    pd.testing.assert_frame_equal(
        fast[columns].reset_index(drop=True).astype(str), slow[columns].reset_index(drop=True).astype(str)
    )


def _small_log(path: Path) -> Path:
    path.write_text(
        "Case;Step;When;Group;Other group\n"
        "A;Open;2024-05-01 09:00;g1;x1\nA;Solve;2024-05-02 09:00;g2;x2\n"
        "B;Open;2024-06-03 09:00;g1;x1\n"
    )
    return path


def test_map_overrides_the_guess_and_an_empty_map_drops_a_column(tmp_path):
    source = _small_log(tmp_path / "log.csv")
    guessed = import_source(source, tmp_path / "a", timezone="UTC")
    assert guessed.proposal.mapping["team"] == "Group"
    forced = import_source(source, tmp_path / "b", timezone="UTC", overrides=["team=Other group"])
    assert forced.proposal.mapping["team"] == "Other group" and forced.proposal.reasons["team"] == "--map"
    ev = pd.read_csv(tmp_path / "b" / "2024Q2" / "events.csv", dtype=str)
    assert ev["team"].tolist() == ["x1", "x2", "x1"]
    dropped = import_source(source, tmp_path / "c", timezone="UTC", overrides=["team="], period="month")
    assert "team" not in dropped.proposal.mapping
    assert sorted(p.name for p in (tmp_path / "c").iterdir() if p.is_dir()) == ["2024-05", "2024-06"]
    assert "team" not in pd.read_csv(tmp_path / "c" / "2024-05" / "events.csv").columns


def test_a_source_without_timestamps_is_a_clear_error_on_the_cli(tmp_path, capsys):
    source = tmp_path / "bad.csv"
    source.write_text("Case,Activity,Note\nA,Open,hello\nA,Close,bye\n")
    with pytest.raises(ImportSourceError) as err:
        import_source(source, tmp_path / "bad")
    assert isinstance(err.value, CxAssessError)
    assert main(["import", str(source), "--dataset", str(tmp_path / "bad")]) == 1
    message = capsys.readouterr().err
    assert "bad.csv" in message and "timestamp-like column" in message
    assert '--map timestamp="<your column>"' in message and "Traceback" not in message


def test_refuses_a_folder_it_did_not_create_unless_forced(tmp_path, capsys):
    source = _small_log(tmp_path / "log.csv")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(DatasetFolderError, match="--force"):
        import_source(source, mine)
    assert main(["import", str(source), "--dataset", str(mine)]) == 1
    assert "was not written by cxassess import" in capsys.readouterr().err
    import_source(source, mine, force=True)
    assert (mine / "notes.txt").read_text() == "my notes" and (mine / "2024Q2" / "events.csv").is_file()


def _import_error(capsys, *args: str) -> str:
    assert main(["import", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cxassess: error: ") and "How to fix: " in err, err
    assert "Traceback" not in err and "internal error" not in err
    return err


def test_import_errors_say_what_where_and_how_to_fix(tmp_path, capsys, monkeypatch):
    source = _small_log(tmp_path / "log.csv")
    # a folder as SOURCE: said to be a folder (not "file not found"), with the file to pass
    err = _import_error(capsys, str(tmp_path), "--dataset", str(tmp_path / "a"))
    assert "is a folder; cxassess import reads one exported file" in err and "log.csv" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no .csv" in _import_error(capsys, str(empty), "--dataset", str(tmp_path / "a"))
    # --dataset a file, a path under a file, the root of the disk: refused before anything is written
    assert "is a file, not a folder" in _import_error(capsys, str(source), "--dataset", str(source))
    err = _import_error(capsys, str(source), "--dataset", str(source / "x" / "y"))
    assert "cannot be created" in err and "log.csv is a file" in err
    assert "root of the disk" in _import_error(capsys, str(source), "--dataset", "/")  # never --force here
    # a review.yml that is not UTF-8 is a folder the import did not write (was an internal error)
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "review.yml").write_bytes(b"\xff\xfe\x00name: [\n")
    assert "was not written by cxassess import" in _import_error(capsys, str(source), "--dataset", str(odd))
    # the reader's fixes point at review.yml, which an import has not written yet
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2,3,4\n")
    err = _import_error(capsys, str(ragged), "--dataset", str(tmp_path / "r"))
    assert "not a well-formed CSV" in err and "review.yml" not in err and "import it again" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "log.csv", "odd", "ragged.csv"]
    # --dataset . is the working folder, and names the dataset after it (was name: "")
    desk = tmp_path / "desk"
    desk.mkdir()
    monkeypatch.chdir(desk)
    assert main(["import", str(source), "--dataset", ".", "--timezone", "UTC"]) == 0
    assert yaml.safe_load((desk / "review.yml").read_text())["name"] == "desk"


def test_an_edited_review_yml_is_kept_on_reimport(tmp_path):
    source = _small_log(tmp_path / "log.csv")
    import_source(source, tmp_path / "d", timezone="UTC")
    review = tmp_path / "d" / "review.yml"
    edited = review.read_text().replace("min_n: 30", "min_n: 10")
    review.write_text(edited)
    result = import_source(source, tmp_path / "d", timezone="UTC")
    assert review.read_text() == edited
    assert result.review_written.name == "review.proposed.yml"


def test_cli_import_prints_the_guesses(tmp_path, capsys):
    source = _small_log(tmp_path / "log.csv")
    assert main(["import", str(source), "--dataset", str(tmp_path / "e"), "--map", "agent_id="]) == 0
    out = capsys.readouterr().out
    assert "ticket_id          <- Case" in out and "time zone: UTC (assumed" in out
    assert "2024Q2" in out and "check in review.yml" in out


# -------------------------------------------------------------------------------------------
# the data contract in the repository
# -------------------------------------------------------------------------------------------


def test_data_readme_tables_are_up_to_date():
    assert update_readme(REPO / "data" / "README.md", check=True), "run `make schema`"


def test_schema_json_lists_the_suites_value_sets(capsys):
    assert main(["schema", "--table", "tickets", "--format", "json"]) == 0
    contract = json.loads(capsys.readouterr().out)["tickets"]
    suite = json.loads((REPO / "expectations" / "tickets.json").read_text())
    status = next(e["kwargs"]["value_set"] for e in suite["expectations"]
                  if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "status")
    row = next(c for c in contract["columns"] if c["column"] == "status")
    assert row["allowed"] == ", ".join(f"`{v}`" for v in status)
    assert contract["required"] == ["ticket_id", "created_at"]


def test_schema_rejects_an_unknown_table(capsys):
    assert main(["schema", "--table", "orders"]) == 1
    assert "unknown table 'orders'" in capsys.readouterr().err


def test_nothing_user_facing_points_outside_the_repository():
    for doc in ("README.md", "data/README.md"):
        text = (REPO / doc).read_text()
        assert "DESIGN.md" not in text, doc
    assert "../shared" not in (REPO / "data" / "README.md").read_text()


@pytest.mark.slow
def test_helpdesk_import_then_review(tmp_path):
    """The real help-desk log, events only, goes from the raw file to a review with no hand
    conversion: every page renders and the KPIs it cannot support say what they need."""
    from cxassess.report import run_review

    source = shared_file(HELPDESK)
    dataset = tmp_path / "helpdesk"
    import_source(source, dataset, timezone="Europe/Rome")
    folder = run_review(dataset, None, notebooks=REPO / "notebooks", reports=tmp_path / "reports",
                        echo=lambda _: None)
    assert (folder / "index.html").is_file()
    pages = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.html")}
    assert len(pages) == len(list((REPO / "notebooks").glob("*.ipynb"))) + 1  # every notebook and the index
    assert "not available: needs <code>surveys</code>" in pages["10_process_stages.html"] or \
        "not available: needs surveys" in pages["10_process_stages.html"]
    assert "not available: needs surveys (no such table in this cycle)" in pages["20_kpi_scorecard.html"]
    for name, text in pages.items():
        assert "Traceback" not in text, name

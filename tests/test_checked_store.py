"""Load once: the gate stores the checked, typed tables of a cycle beside its report; the
pages read them back instead of parsing the exports again, and only while the inputs are
unchanged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import cxassess.cycles
from cxassess.config import load_config
from cxassess.errors import InputError
from cxassess.quality import check_cycle, checked_cycle, fingerprint, inputs, unchanged
from cxassess.quality.record import QualityReport


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("store") / "desk"
    shutil.copytree("data/sample", root)
    return root


@pytest.fixture(scope="module")
def saved(dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    report = check_cycle(dataset, "2026Q3")
    report.save(folder)
    return report, folder


def test_stored_tables_equal_a_fresh_load_without_parsing(saved, dataset, monkeypatch):
    report, folder = saved

    def no_parsing(*args, **kwargs):
        raise AssertionError("an export was parsed again")

    monkeypatch.setattr(cxassess.cycles, "read_table", no_parsing)
    back = checked_cycle(dataset, "2026Q3", folder)
    assert list(back.tables) == list(report.data.tables)
    for table in report.data.tables:
        pd.testing.assert_frame_equal(back.tables[table], report.data.tables[table], check_like=False)
    assert back.derived == report.data.derived
    assert {t: p.name for t, p in back.files.items()} == {t: p.name for t, p in report.data.files.items()}


def test_tables_are_read_on_first_use(saved, dataset):
    _, folder = saved
    back = checked_cycle(dataset, "2026Q3", folder)
    assert back.tables._frames == {}  # nothing read yet
    assert len(back.surveys) == pd.read_csv(dataset / "2026Q3" / "surveys.csv").shape[0]
    assert list(back.tables._frames) == ["surveys"]


def test_inputs_record_size_time_and_hash(dataset):
    import hashlib

    found = inputs(load_config(dataset), "2026Q3")
    path = dataset / "2026Q3" / "tickets.csv"
    assert found["2026Q3/tickets.csv"] == {
        "size": path.stat().st_size, "mtime_ns": path.stat().st_mtime_ns,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert {"review.yml", "expectations/tickets.json"} <= set(found)
    assert fingerprint(found) != fingerprint({**found, "review.yml": {"sha256": "00" * 32}})


def test_a_touched_but_equal_file_keeps_the_store_a_changed_one_drops_it(tmp_path):
    root = tmp_path / "desk"
    shutil.copytree("data/sample", root)
    config = load_config(root)
    recorded = inputs(config, "2026Q3")
    path = root / "2026Q3" / "surveys.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert unchanged(recorded, config, "2026Q3")  # same bytes, other time: hashed, equal
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n", "\r\n", 1), encoding="utf-8")
    assert not unchanged(recorded, config, "2026Q3")
    (root / "2026Q3" / "new.csv").write_text("x\n", encoding="utf-8")
    assert not unchanged(inputs(config, "2026Q2") | {}, config, "2026Q3")


def test_changed_data_is_gated_again_not_read_from_the_store(tmp_path):
    root = tmp_path / "desk"
    shutil.copytree("data/sample", root)
    folder = tmp_path / "run"
    check_cycle(root, "2026Q3").save(folder)
    tickets = root / "2026Q3" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-10]), encoding="utf-8")  # ten tickets fewer
    assert len(checked_cycle(root, "2026Q3", folder).tickets) == len(lines) - 1 - 10


def test_the_record_lists_the_stored_tables(saved):
    report, folder = saved
    record = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    assert record["data"]["tables"] == list(report.data.tables)
    assert sorted(p.stem for p in (folder / "tables").glob("*.parquet")) == sorted(report.data.tables)
    assert QualityReport.read(folder).inputs == report.inputs


def test_the_gate_can_store_as_it_goes_with_the_same_tables(dataset, tmp_path):
    """``check_cycle(store=...)`` writes each checked table as soon as it is checked (one
    table in memory at a time) and gives the same data as the gate kept in memory."""
    in_memory = check_cycle(dataset, "2026Q3")
    streamed = check_cycle(dataset, "2026Q3", store=tmp_path)
    assert sorted(p.stem for p in (tmp_path / "tables").glob("*.parquet")) == sorted(in_memory.data.tables)
    assert streamed.data.tables._frames == {}  # nothing held
    for table in in_memory.data.tables:
        pd.testing.assert_frame_equal(streamed.data.tables[table], in_memory.data.tables[table])
    pd.testing.assert_frame_equal(streamed.tables, in_memory.tables)
    streamed.save(tmp_path)
    back = checked_cycle(dataset, "2026Q3", tmp_path)
    pd.testing.assert_frame_equal(back.tickets, in_memory.data.tickets)


def test_kpis_are_computed_once_per_run_and_read_back_as_computed(tmp_path, monkeypatch):
    """Compute once: a page's KPI table is kept beside the run's checked tables; another
    page (a new Cycle on the same store, as in another kernel) reads it back equal, dtypes
    and missing values included, without computing; a copy with other tables never reads it."""
    import importlib

    from cxassess.cycles import load_cycle, store_tables, stored_cycle
    from cxassess.kpis import cycle_kpis

    cycle = load_cycle("data/sample", "2026Q3")
    record = store_tables(cycle, tmp_path)
    first = stored_cycle(cycle.config, "2026Q3", tmp_path, record)
    computed = {by: cycle_kpis(first, by=by) for by in (None, "team")}
    assert len(list((tmp_path / "computed").glob("*.parquet"))) == 2

    scorecard = importlib.import_module("cxassess.kpis.scorecard")  # the module, not the function of that name
    calls = []
    real = scorecard._cycle_kpis
    monkeypatch.setattr(scorecard, "_cycle_kpis", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = stored_cycle(cycle.config, "2026Q3", tmp_path, record)
    for by, frame in computed.items():
        pd.testing.assert_frame_equal(cycle_kpis(again, by=by), frame)
    assert calls == []
    fresh = cycle_kpis(cycle)  # the same figures from the raw cycle, computed here
    pd.testing.assert_frame_equal(fresh, computed[None])
    assert len(calls) == 1

    few = again.with_tables(tickets=again.tickets.head(100))
    assert few.store is None
    assert cycle_kpis(few).set_index("kpi").loc["transfer_rate", "n"] == 100


def test_plausibility_checks_are_kept_once_per_run_with_their_tuples(tmp_path):
    """The plausibility checks (shown by the scorecard, the overview and the summary) are kept
    like the KPIs; read back in another Cycle they equal a fresh computation on the raw
    cycles, the ``affects`` tuples included."""
    from cxassess import plausibility
    from cxassess.cycles import load_cycle, store_tables, stored_cycle

    now, old = load_cycle("data/sample", "2026Q3"), load_cycle("data/sample", "2026Q2")
    records = {c.label: store_tables(c, tmp_path / c.label) for c in (now, old)}

    def stored(c):
        return stored_cycle(c.config, c.label, tmp_path / c.label, records[c.label])

    plausibility.checks(stored(now), stored(old))
    assert len(list((tmp_path / "2026Q3" / "computed").glob("*.parquet"))) == 1
    again = plausibility.checks(stored(now), stored(old))
    pd.testing.assert_frame_equal(again, plausibility.checks(now, old))
    assert all(isinstance(v, tuple) for v in again["affects"])


def test_a_result_parquet_cannot_hold_is_returned_but_not_kept(tmp_path):
    """Keeping is only a saving: a table with a column of mixed kinds is returned as
    computed, nothing (not even a temporary file) is left in the store."""
    from cxassess.cycles import load_cycle, store_tables, stored_cycle

    cycle = load_cycle("data/sample", "2026Q3", tables=("tickets",))
    stored = stored_cycle(cycle.config, "2026Q3", tmp_path, store_tables(cycle, tmp_path))
    odd = pd.DataFrame({"value": [1, "one"]})
    assert stored.once(("odd",), lambda: odd, keep=True) is odd
    assert list((tmp_path / "computed").iterdir()) == []


def test_the_scorecard_reads_each_table_once_and_keeps_no_event_log(tmp_path, monkeypatch):
    """As the scorecard page does on a review's stored tables: the plausibility checks and
    the escalation flags read the columns of the event log they need for themselves, so
    neither cycle holds its log afterwards (page 20's peak on m1 went from 2.1 to 1.2 GiB);
    a table a breakdown's view and the cycle both need (customers) is read once; the KPIs
    equal those of the same cycles held in memory."""
    from cxassess import kpis, plausibility
    from cxassess.cycles import Tables, load_cycle, store_tables, stored_cycle

    held = {label: load_cycle("data/sample", label) for label in ("2026Q3", "2026Q2")}
    now, before = (stored_cycle(c.config, c.label, tmp_path / c.label, store_tables(c, tmp_path / c.label))
                   for c in held.values())
    reads: list[tuple[str, tuple | None]] = []
    real = Tables._read

    def counted(self, name, columns=None):
        reads.append((str(self._stored[name]), None if columns is None else tuple(columns)))
        return real(self, name) if columns is None else real(self, name, columns)

    monkeypatch.setattr(Tables, "_read", counted)
    plausibility.checks(now, before)
    for by in (None, "channel", "team"):
        for cycle in (now, before):
            pd.testing.assert_frame_equal(kpis.cycle_kpis(cycle, by=by), kpis.cycle_kpis(held[cycle.label], by=by))
    assert "events" not in now.tables._frames and "events" not in before.tables._frames
    whole = [Path(file).relative_to(tmp_path).as_posix() for file, columns in reads if columns is None]
    assert len(whole) == len(set(whole)) and {"2026Q3/customers.parquet", "2026Q2/customers.parquet"} <= set(whole)
    assert not any(file.endswith("events.parquet") for file in whole)  # the log is never read whole
    flags = [Path(file).parent.name for file, columns in reads if columns == ("ticket_id", "stage")]
    assert sorted(flags) == ["2026Q2", "2026Q3"]  # the escalation flags: once per cycle
    escalated = kpis.cycle_kpis(now).set_index("kpi").at["escalation_rate", "value"]
    ev = held["2026Q3"].events
    by_hand = ev.loc[ev["stage"].isin(held["2026Q3"].config.process.specialist_stages), "ticket_id"].nunique()
    assert escalated == pytest.approx(by_hand / len(held["2026Q3"].tickets))


def test_the_ticket_facts_of_the_voice_of_the_customer_keep_no_event_log(tmp_path):
    """The response-bias and driver facts flag escalations from the log's ticket and stage
    columns read for themselves: a stored cycle keeps no log (page 30 on m1 never reads it
    whole), and the facts equal those of the cycle held in memory."""
    from cxassess import voc
    from cxassess.cycles import load_cycle, store_tables, stored_cycle

    held = load_cycle("data/sample", "2026Q3")
    now = stored_cycle(held.config, held.label, tmp_path, store_tables(held, tmp_path))
    facts = voc.covariates(now)
    assert "events" not in now.tables._frames
    pd.testing.assert_frame_equal(facts, voc.covariates(held))
    specialist = held.events.loc[held.events["stage"].isin(held.config.process.specialist_stages), "ticket_id"]
    assert set(facts.loc[facts["escalated"] == "yes", "ticket_id"]) == set(specialist)


def test_the_cycle_summary_counts_the_rows_of_stored_tables_without_reading_them(tmp_path, monkeypatch):
    """The overview's table of tables gives each table's rows from its Parquet file's
    metadata: no table is read (page 05 on m1 read all six, the 5.3 M-event log included,
    to count them), and the counts equal the rows of the sample's CSV files."""
    from cxassess.cycles import Tables, load_cycle, store_tables, stored_cycle
    from cxassess.plots import cycle_summary

    held = load_cycle("data/sample", "2026Q3")
    now = stored_cycle(held.config, held.label, tmp_path, store_tables(held, tmp_path))
    monkeypatch.setattr(Tables, "_read", lambda *a, **k: pytest.fail("a table was read to be counted"))
    text = cycle_summary(now).data
    for csv in sorted(Path("data/sample/2026Q3").glob("*.csv")):
        assert f"| {csv.stem} | {len(pd.read_csv(csv)):,} | {csv.name} |" in text


def _stored_and_held(tmp_path, change=None):
    from cxassess.cycles import load_cycle, store_tables, stored_cycle

    held = load_cycle("data/sample", "2026Q3")
    if change is not None:
        change(held.tables)
    return stored_cycle(held.config, held.label, tmp_path, store_tables(held, tmp_path)), held


def _blank_and_constant(tables):
    """A cycle with a column empty in every row, one with one value, and no CES answer."""
    tables["tickets"] = tables["tickets"].assign(reopens=pd.NA, channel="email")
    surveys = tables["surveys"]
    tables["surveys"] = surveys[surveys["kind"] != "ces"]


@pytest.mark.parametrize("change", [None, _blank_and_constant], ids=["sample", "blank-and-constant"])
def test_what_a_page_needs_is_learnt_from_the_stored_files_without_reading_a_table(tmp_path, monkeypatch, change):
    """Whether a KPI or section has its inputs (table, column, a column empty in every row,
    one value in every row, a survey kind) is answered from the stored Parquet files: no
    table is read into memory for it (page 10 on m1 read the 5.3 M-event log whole to learn
    that it has a stage column), and every answer equals the one of the cycle in memory."""
    from cxassess import registry
    from cxassess.cycles import Tables

    stored, held = _stored_and_held(tmp_path, change)
    items = [*registry.KPIS.values(), *registry.SECTIONS.values()]
    expected = [registry.missing(held, item.needs) for item in items]
    assert any(expected)  # some needs are not met: the answers are not all empty
    monkeypatch.setattr(Tables, "__getitem__", lambda *a: pytest.fail("a table was read into memory"))
    assert [registry.missing(stored, item.needs) for item in items] == expected
    assert stored.tables._frames == {}


def test_a_stored_file_without_statistics_is_asked_by_its_column_alone(tmp_path):
    """Parquet files written by other tools may carry no statistics: the empty cells are
    then counted in the one column read for it, with the same answer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cxassess import registry
    from cxassess.cycles import Tables

    path = tmp_path / "tickets.parquet"
    pq.write_table(pa.table({"ticket_id": ["T1", "T2"], "resolved_at": pa.array([None, None], pa.timestamp("us")),
                             "reopens": [0, 1]}), path, write_statistics=False)
    assert pq.ParquetFile(path).metadata.row_group(0).column(1).statistics is None
    cycle = type("C", (), {"tables": Tables(stored={"tickets": path}), "config": None})()
    needs = [registry.Need("tickets", "resolved_at"), registry.Need("tickets", "reopens")]
    assert registry.missing(cycle, needs) == ["`tickets.resolved_at` (empty in every row)"]
    assert cycle.tables._frames == {}


def test_a_table_read_by_the_mapping_a_view_was_made_from_is_not_read_again(tmp_path, monkeypatch):
    """A view (:meth:`Tables.replaced`) reads a stored table through its source whichever of
    the two asks first: one read, one frame in memory (the other order read it twice)."""
    from cxassess.cycles import Tables, store_table

    path = store_table(pd.DataFrame({"ticket_id": ["T1", "T2"]}), tmp_path, "tickets")
    reads = []
    real = Tables._read
    monkeypatch.setattr(Tables, "_read", lambda self, name, *a: reads.append(name) or real(self, name, *a))
    source = Tables(stored={"tickets": path})
    view = source.replaced({})
    frame = source["tickets"]
    assert view.unread("tickets") is None
    assert view["tickets"] is frame and view.read_once("tickets", ["ticket_id"]) is not None
    assert reads == ["tickets"]


def test_the_event_log_tables_are_kept_once_per_run_and_the_audits_page_reads_no_event_log(tmp_path, monkeypatch):
    """The tables of the event log that the process page and the quality-audits page both
    show (``process.cycle_table``) are computed by the first page and kept beside the run's
    checked tables; in another kernel (a new Cycle on the same store) the audits page's
    stage gaps, planned vs served by team and label-vs-process conformance read them back:
    no event log is read or cut into visits, and every table equals one computed directly
    from the raw cycle."""
    from cxassess import audit, process
    from cxassess.cycles import load_cycle, store_tables, stored_cycle

    now, old = load_cycle("data/sample", "2026Q3"), load_cycle("data/sample", "2026Q2")
    p, scale = now.config.process, now.config.survey_scales.get("csat")
    direct = {
        "stage_metrics": process.stage_metrics(now.events, p),
        "stage_flow": process.stage_flow(now.events, p),
        "stage_assessment": process.stage_assessment(now.events, p, surveys=now.surveys, tickets=now.tickets,
                                                     scale=scale),
        "conformance": process.conformance(now.events, p)[0],
        "deviations": process.conformance(now.events, p)[1],
    }
    assert set(direct) == set(process.CYCLE_TABLES)
    records = {c.label: store_tables(c, tmp_path / c.label) for c in (now, old)}

    def stored(c):
        return stored_cycle(c.config, c.label, tmp_path / c.label, records[c.label])

    first, first_before = stored(now), stored(old)  # the process page's kernel
    for name in ("stage_metrics", "stage_flow", "stage_assessment", "deviations"):  # what it shows
        pd.testing.assert_frame_equal(process.cycle_table(first, name).reset_index(drop=True),
                                      direct[name].reset_index(drop=True), check_dtype=False)
    process.cycle_table(first_before, "stage_metrics")
    assert len(list((tmp_path / "2026Q3" / "computed").glob("*.parquet"))) == 5  # the tickets' conformance too
    assert len(list((tmp_path / "2026Q2" / "computed").glob("*.parquet"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("an event log was cut into visits")

    monkeypatch.setattr(process, "process_log", refuse)
    again, again_before = stored(now), stored(old)  # the audits page's kernel
    for name, table in direct.items():
        pd.testing.assert_frame_equal(process.cycle_table(again, name).reset_index(drop=True),
                                      table.reset_index(drop=True), check_dtype=False)
    gaps = audit.stage_gaps(again, again_before)
    by_team = audit.planned_served_received(again)
    assert "events" not in again.tables._frames and "events" not in again_before.tables._frames
    monkeypatch.undo()
    pd.testing.assert_frame_equal(gaps, audit.stage_gaps(now, old))
    pd.testing.assert_frame_equal(by_team, audit.planned_served_received(now))
    with pytest.raises(InputError, match="no cycle table named 'stages'"):
        process.cycle_table(now, "stages")

"""The data-quality gate: suites, corrupted copies of the sample, quarantine, stopping.

Each corruption is planted by hand in a copy of the sample's 2026Q3 export; the expected
counts follow from the planting (one row changed → one row reported and quarantined),
and the reconciliation rows read = used + quarantined is checked against the file's own
line count.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxassess.config import load_config
from cxassess.cycles import load_cycle
from cxassess.errors import ConfigError, DataQualityError
from cxassess.io import read_table
from cxassess.quality import (
    QualityReport,
    check_cycle,
    checked_cycle,
    load_suite,
    validate_table,
)
from cxassess.report import run_review
from cxassess.schema import REQUIRED, TABLES

from .conftest import FIXTURES, REPO, SAMPLE, shared_file

SUITES = REPO / "expectations"


def copy_sample(tmp_path: Path) -> Path:
    dataset = tmp_path / "sample"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("2025Q4", "2026Q1"))
    return dataset


def rewrite(dataset: Path, table: str, edit) -> None:
    path = dataset / "2026Q3" / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def replace_first(lines: list[str], old: str, new: str) -> tuple[list[str], int]:
    """Replace ``old`` in the first data line holding it; return the lines and its data row."""
    for i, line in enumerate(lines[1:], start=1):
        if old in line:
            return lines[:i] + [line.replace(old, new, 1)] + lines[i + 1 :], i
    raise AssertionError(f"{old!r} not in the file")


def data_rows(dataset: Path, table: str) -> int:
    return len((dataset / "2026Q3" / f"{table}.csv").read_text(encoding="utf-8").splitlines()) - 1


def failed(report: QualityReport) -> pd.DataFrame:
    return report.failures().set_index(["table", "column"])


def assert_reconciles(report: QualityReport, dataset: Path) -> None:
    for t in report.tables.itertuples():
        if t.status == "absent":
            continue
        assert t.rows_read == data_rows(dataset, t.table)
        assert t.rows_read == t.rows_used + t.rows_quarantined
        assert len(report.data.tables[t.table]) == t.rows_used
        held = report.quarantine.get(t.table)
        assert (0 if held is None else len(held)) == t.rows_quarantined


# --- the suites ------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_a_suite_gx_loads_completely(table):
    suite = load_suite(table)
    assert suite["name"] == table and len(suite["expectations"]) >= 5
    for expectation in suite["expectations"]:
        assert expectation["meta"]["severity"] in {"critical", "warning"}
        assert expectation["meta"]["reason"] and expectation["meta"]["fix"]


@pytest.mark.parametrize("table", TABLES)
def test_suites_require_the_columns_of_the_data_contract(table):
    first = load_suite(table)["expectations"][0]
    assert first["type"] == "expect_table_columns_to_match_set"
    assert first["kwargs"]["column_set"] == list(REQUIRED[table])


def test_value_lists_come_from_review_yml_not_from_the_suites():
    text = "".join(p.read_text() for p in SUITES.glob("*.json"))
    for value in ("tier1_north", "billing_specialists", '"email"', '"urgent"', "sop_followed"):
        assert value not in text


def test_an_expectation_type_gx_does_not_know_is_an_error(tmp_path):
    suite = json.loads((SUITES / "tickets.json").read_text())
    suite["expectations"].append({"type": "expect_column_values_to_be_sunny", "kwargs": {"column": "x"}})
    (tmp_path / "tickets.json").write_text(json.dumps(suite))
    with pytest.raises(ConfigError, match="expect_column_values_to_be_sunny"):
        load_suite("tickets", tmp_path)


# --- the sample ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_gate() -> QualityReport:
    return check_cycle(SAMPLE, "2026Q3")


def test_sample_passes_the_gate_with_every_row_used(sample_gate):
    assert not sample_gate.critical and sample_gate.warnings == 0
    assert set(sample_gate.checks["status"]) == {"passed"}
    present = sample_gate.tables[sample_gate.tables["status"] != "absent"]
    assert list(present["table"]) == list(TABLES)
    assert list(present["rows_read"]) == [data_rows(SAMPLE, t) for t in TABLES]
    assert (present["rows_quarantined"] == 0).all()


def test_sample_gate_checks_every_expectation_of_every_suite(sample_gate):
    per_table = sample_gate.checks.groupby("table").size()
    for table in TABLES:
        assert per_table[table] == len(load_suite(table)["expectations"])


# --- corrupted copies: row-level defects are quarantined --------------------------------


def test_duplicate_ticket_keeps_the_first_row_and_quarantines_the_copy(tmp_path):
    dataset = copy_sample(tmp_path)
    copied = (dataset / "2026Q3" / "tickets.csv").read_text().splitlines(keepends=True)[5]
    rewrite(dataset, "tickets", lambda lines: lines + [copied])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "ticket_id")]
    assert check["failed_rows"] == 2 and check["quarantined"] == 1  # both rows share the id
    held = report.quarantine["tickets"]
    assert list(held["row"]) == [2501] and held.loc[0, "ticket_id"] == copied.split(",")[0]
    assert "appears more than once" in held.loc[0, "reasons"]
    assert not report.critical
    assert_reconciles(report, dataset)


def test_csat_6_on_a_5_point_scale(tmp_path):
    dataset = copy_sample(tmp_path)
    row = {}

    def edit(lines):
        out, row["n"] = replace_first(lines, ",csat,5,4,", ",csat,5,6,")
        return out

    rewrite(dataset, "surveys", edit)
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("surveys", "score")]
    assert check["failed_rows"] == 1 and check["quarantined"] == 1 and check["examples"] == "6.0"
    held = report.quarantine["surveys"]
    assert list(held["row"]) == [row["n"]] and held.loc[0, "score"] == "6"  # original text
    assert "above the highest point of its scale" in held.loc[0, "reasons"]
    assert_reconciles(report, dataset)


def test_resolution_before_creation(tmp_path):
    dataset = copy_sample(tmp_path)
    # ticket T0007502: created 2026-07-01T04:56:22, resolved 2026-07-01T17:04:22 (same day)
    rewrite(dataset, "tickets", lambda lines: replace_first(
        lines, "2026-07-01T17:04:22+02:00", "2026-06-30T17:04:22+02:00")[0])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "resolved_at, created_at")]
    assert check["failed_rows"] == 1 and check["quarantined"] == 1
    assert report.quarantine["tickets"].loc[0, "ticket_id"] == "T0007502"
    assert_reconciles(report, dataset)


def test_unknown_channel(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: replace_first(lines, ",web,", ",fax,")[0])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "channel")]
    assert check["failed_rows"] == 1 and check["examples"] == "fax"
    assert "values: channels in review.yml" in check["reason"]
    assert "fax" not in set(report.data.tickets["channel"])
    assert_reconciles(report, dataset)


def test_survey_of_a_ticket_that_does_not_exist(tmp_path):
    dataset = copy_sample(tmp_path)
    orphan = (dataset / "2026Q3" / "surveys.csv").read_text().splitlines(keepends=True)[1]
    rewrite(dataset, "surveys", lambda lines: lines + [orphan.replace("T0007501", "T9999999")])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("surveys", "ticket_id")]
    assert check["failed_rows"] == 1 and check["examples"] == "T9999999"
    assert list(report.quarantine["surveys"]["row"]) == [data_rows(dataset, "surveys")]
    # the quarantined row says which check it failed: not "ticket_id: ...to_not_be_null" (its
    # ticket_id is there), the check on the lookup of the tickets table
    held = report.quarantine["surveys"].iloc[0]
    assert held["ticket_id"] == "T9999999"
    assert held["checks"] == "ticket_id: expect_column_values_to_not_be_null (on _referenced_ticket)"
    assert held["reasons"] == "ticket_id refers to a ticket that is not in the tickets table"
    assert_reconciles(report, dataset)


def test_unparseable_date_is_quarantined_with_its_original_text(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: replace_first(
        lines, "2026-07-01T17:04:22+02:00", "31.02.2026 25:00")[0])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "resolved_at")]
    assert check["failed_rows"] == 1 and check["examples"] == "31.02.2026 25:00"
    assert "cannot be read as a full date and time" in check["reason"]
    held = report.quarantine["tickets"]
    assert held.loc[0, "resolved_at"] == "31.02.2026 25:00"
    assert_reconciles(report, dataset)


def test_partial_date_is_quarantined_never_completed_and_shown_as_written(tmp_path):
    dataset = copy_sample(tmp_path)
    row = {}

    def edit(lines):
        out, row["n"] = replace_first(lines, "2026-07-01T17:04:22+02:00", "07/2026")
        return out

    rewrite(dataset, "tickets", edit)
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "resolved_at")]
    assert check["failed_rows"] == 1 and check["examples"] == "07/2026"
    assert list(report.quarantine["tickets"]["row"]) == [row["n"]]
    assert_reconciles(report, dataset)


def test_unreadable_sent_at_examples_show_the_text_not_nat(tmp_path):
    dataset = copy_sample(tmp_path)
    sent = pd.read_csv(dataset / "2026Q3" / "surveys.csv", dtype=str)["sent_at"].iloc[4]
    rewrite(dataset, "surveys", lambda lines: replace_first(lines, sent, "2026-07")[0])
    report = check_cycle(dataset, "2026Q3")
    examples = report.checks.loc[report.checks["column"] == "sent_at", "examples"]
    assert (examples == "2026-07").sum() >= 1
    assert not examples.str.contains("NaT").any()
    assert list(report.quarantine["surveys"]["row"]) == [5]
    assert_reconciles(report, dataset)


@pytest.mark.parametrize("score", ["", "NaN"])
def test_answered_survey_without_a_score_is_quarantined(tmp_path, score):
    dataset = copy_sample(tmp_path)
    row = {}

    def edit(lines):
        out, row["n"] = replace_first(lines, ",csat,5,4,", f",csat,5,{score},")
        return out

    rewrite(dataset, "surveys", edit)
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("surveys", "score")]
    assert check["failed_rows"] == 1 and check["quarantined"] == 1 and check["examples"] == "(empty)"
    held = report.quarantine["surveys"]
    assert list(held["row"]) == [row["n"]]
    assert "answered survey (responded_at set) has no readable score" in held.loc[0, "reasons"]
    assert_reconciles(report, dataset)


def test_row_level_defects_above_the_critical_share_stop_the_review(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: [lines[0]] + [
        line.replace(",web,", ",fax,") for line in lines[1:]])
    web = sum(",fax," in line for line in (dataset / "2026Q3" / "tickets.csv").read_text().splitlines())
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "channel")]
    assert check["failed_rows"] == web and check["status"] == "critical"
    assert web / 2500 > 0.05 and report.critical


@pytest.mark.parametrize(("word", "critical"), [("solved", True), (None, False)])
def test_a_status_outside_the_contract_follows_the_critical_share(tmp_path, word, critical):
    """Statuses outside the contract's list are described, not quarantined; in more than
    critical_share of the rows (every row here, or 3 rows) they stop the review like any check."""
    dataset = copy_sample(tmp_path)
    path = dataset / "2026Q3" / "tickets.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if word is None:
        frame.loc[:2, "status"] = "solved"  # 3 of 2,500 rows
    else:
        frame["status"] = word
    frame.to_csv(path, index=False)
    expected = (frame["status"] == "solved").sum()
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "status")]
    assert check["failed_rows"] == expected and check["quarantined"] == 0
    assert check["status"] == ("critical" if critical else "warning") and report.critical is critical
    assert "new, open, pending, on_hold, resolved, closed" in check["reason"]


def test_raw_files_are_never_written(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: replace_first(lines, ",web,", ",fax,")[0])
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in dataset.rglob("*") if p.is_file()}
    report = check_cycle(dataset, "2026Q3")
    report.save(tmp_path / "out")
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in dataset.rglob("*") if p.is_file()}
    assert before == after


def test_saved_gate_reads_back_and_applies_the_quarantine_without_gx(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: replace_first(lines, ",web,", ",fax,")[0])
    report = check_cycle(dataset, "2026Q3")
    report.save(tmp_path / "run")
    again = QualityReport.read(tmp_path / "run")
    assert again.warnings == report.warnings == 1
    assert list(again.quarantine["tickets"]["row"].astype(int)) == list(report.quarantine["tickets"]["row"])
    data = checked_cycle(dataset, "2026Q3", tmp_path / "run")
    pd.testing.assert_frame_equal(data.tickets, report.data.tickets)


# --- structural defects are critical -----------------------------------------------------


def test_missing_required_column_is_critical(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: [lines[0].replace("created_at,", "opened,", 1)] + lines[1:])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "(columns)")]
    assert check["status"] == "critical" and check["examples"] == "missing: created_at"
    assert "columns: in review.yml" in check["fix"]
    with pytest.raises(DataQualityError, match="created_at"):
        checked_cycle(dataset, "2026Q3")


def test_empty_tickets_file_is_critical(tmp_path):
    dataset = copy_sample(tmp_path)
    rewrite(dataset, "tickets", lambda lines: lines[:1])
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("tickets", "(rows)")]
    assert check["status"] == "critical" and report.critical
    # without tickets, references to tickets cannot be checked: no survey is quarantined for it
    assert report.tables.set_index("table").loc["surveys", "rows_quarantined"] == 0


def test_file_without_any_byte_is_critical(tmp_path):
    dataset = copy_sample(tmp_path)
    (dataset / "2026Q3" / "surveys.csv").write_bytes(b"")
    report = check_cycle(dataset, "2026Q3")
    check = failed(report).loc[("surveys", "(file)")]
    assert check["status"] == "critical" and "the file is empty" in check["reason"]


def test_an_unreadable_file_is_named_relative_to_the_dataset(tmp_path):
    """The gate's record and page name the file as in the dataset, not by the machine's path."""
    dataset = copy_sample(tmp_path)
    (dataset / "2026Q3" / "surveys.csv").write_bytes(b"")
    report = check_cycle(dataset.absolute(), "2026Q3")
    assert failed(report).loc[("surveys", "(file)"), "examples"] == "2026Q3/surveys.csv"
    saved = report.save(tmp_path / "run").read_text(encoding="utf-8")
    assert str(tmp_path) not in saved and "2026Q3/surveys.csv" in saved
    assert str(tmp_path) not in report._repr_markdown_()


@pytest.mark.slow  # a whole review run, then a failing one
def test_critical_defect_stops_the_review_and_keeps_the_last_good_report(tmp_path):
    dataset = copy_sample(tmp_path)
    notebooks = tmp_path / "notebooks"  # the real data-quality page and a stand-in KPI page
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "00_data_quality.ipynb", notebooks)
    shutil.copy(REPO / "notebooks" / "00_data_quality.ipynb", notebooks / "05_cycle_overview.ipynb")
    reports = tmp_path / "reports"
    # a warning: the review goes on, every page carries the banner, the row is in quarantine/
    rewrite(dataset, "tickets", lambda lines: replace_first(lines, ",web,", ",fax,")[0])
    good = run_review(dataset, "2026Q3", notebooks=notebooks, reports=reports, echo=lambda _: None)
    for page in ("00_data_quality.html", "05_cycle_overview.html"):
        html = (good / page).read_text()
        assert "1 data-quality warning(s), 1 row(s) quarantined and left out of the KPIs" in html
        assert '<a href="00_data_quality.html">Open the data-quality page</a>' in html
    assert (good / "quarantine" / "tickets.csv").read_text().count("fax") == 1
    assert json.loads((good / "manifest.json").read_text())["quality"]["rows_quarantined"] == 1
    before = {p: p.read_bytes() for p in good.rglob("*") if p.is_file()}
    # a critical defect: the review stops, the data-quality page goes to <cycle>.failed/
    rewrite(dataset, "tickets", lambda lines: [lines[0].replace("created_at,", "opened,", 1)] + lines[1:])
    with pytest.raises(DataQualityError) as caught:
        run_review(dataset, "2026Q3", notebooks=notebooks, reports=reports, echo=lambda _: None)
    assert {p: p.read_bytes() for p in good.rglob("*") if p.is_file()} == before
    failed_dir = reports / "sample" / "2026Q3.failed"
    page = (failed_dir / "00_data_quality.html").read_text()
    assert "Data-quality gate failed" in page
    assert not (failed_dir / "05_cycle_overview.html").exists()  # no KPI page
    assert caught.value.page == failed_dir / "00_data_quality.html"
    assert "No KPI was computed" in str(caught.value)


# --- real data -----------------------------------------------------------------------


def test_help_desk_log_fails_only_on_its_real_duplicate_events():
    path = shared_file("helpdesk-italy/helpdesk_events.csv")
    config = load_config(FIXTURES / "helpdesk-italy")
    events = read_table(path, "events", config, errors="coerce")
    checks, rows = validate_table(events, "events", config)
    bad = checks[checks["status"].isin(["warning", "critical"])]
    assert list(bad["column"]) == ["ticket_id, timestamp, activity, stage, team, agent_id"]
    # independent count on the raw file: rows repeating an earlier (case, activity,
    # resource, timestamp) exactly, and every row involved in such a repetition
    raw = pd.read_csv(path, dtype=str)
    key = ["Case ID", "Activity", "Resource", "Complete Timestamp"]
    assert bad.iloc[0]["failed_rows"] == raw.duplicated(key, keep=False).sum()
    assert bad.iloc[0]["quarantined"] == raw.duplicated(key).sum() > 0
    assert sorted(rows[bad.index[0]]) == list(raw.index[raw.duplicated(key)])
    # what cannot be checked without a cycle, a tickets table or team values says so
    skipped = checks[checks["status"] == "not applicable"]
    assert set(skipped["column"]) == {"timestamp", "ticket_id", "team"}
    assert "nothing to check against (no tickets table)" in set(skipped["examples"])


def test_cycle_window_has_the_tolerance_of_review_yml(tmp_path):
    dataset = copy_sample(tmp_path)

    def edit(lines):
        lines, _ = replace_first(lines, "T0007501,2026-07-01T00:30:52", "T0007501,2026-06-30T12:30:52")
        lines, _ = replace_first(lines, "T0007502,2026-07-01T04:56:22", "T0007502,2026-06-29T04:56:22")
        return lines

    rewrite(dataset, "tickets", edit)
    report = check_cycle(dataset, "2026Q3")  # tolerance 1 day: 12 h early passes, 2 days do not
    check = failed(report).loc[("tickets", "created_at")]
    assert check["failed_rows"] == 1 and check["examples"].startswith("2026-06-29 04:56:22+02:00")
    assert list(report.quarantine["tickets"]["ticket_id"]) == ["T0007502"]


def test_gx_does_not_hash_every_row_of_a_batch(monkeypatch):
    """GX's batch fingerprint (an MD5 over every row) is switched off: the gate never uses it."""
    from great_expectations.execution_engine import pandas_execution_engine

    from cxassess.quality import validate_table

    def refuse(df):
        raise AssertionError("GX hashed the whole batch")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    data = load_cycle("data/sample", "2026Q3")
    checks, _ = validate_table(data.tickets, "tickets", data.config)
    assert (checks["status"] == "passed").sum() > 0


def test_a_table_absent_from_the_cycle_has_no_quarantined_share(tmp_path):
    """Unknown is not zero: a table the cycle lacks reads "not available", never 0.00 %."""
    from cxassess.plots import quality_comparison
    from cxassess.quality import compare

    dataset = copy_sample(tmp_path)
    (dataset / "2026Q3" / "surveys.csv").unlink()
    now, before = check_cycle(dataset, "2026Q3"), check_cycle(dataset, "2026Q2")
    comparison = compare(now, before).set_index("table")
    assert pd.isna(comparison.loc["surveys", "quarantined_share"])
    assert comparison.loc["tickets", "quarantined_share"] == 0.0  # read, none quarantined: a real 0
    shown = quality_comparison(comparison.reset_index(), cycle="2026Q3", previous="2026Q2")
    row = shown.data.set_index("table").loc["surveys"]
    assert row["2026Q3: quarantined"] == "not available" and row["2026Q3: warnings"] == "not available"
    assert row["2026Q2: quarantined"] == "0.00%"  # the previous cycle has its surveys
    html = shown.to_html()
    assert html.count("0.00%") == 2 * 6 - 1  # every table of both cycles but 2026Q3's surveys


def test_the_stop_line_of_a_table_without_rows_names_no_column_and_no_zero_count(tmp_path):
    """A surveys file with its header only stops the review; its line says what and how to
    fix, without the pseudo-column "(rows)" or "0 row(s)" of a check of the whole table."""
    from cxassess.quality import critical_lines

    dataset = copy_sample(tmp_path)
    rewrite(dataset, "surveys", lambda lines: lines[:1])
    (line,) = critical_lines(check_cycle(dataset, "2026Q3"))
    assert line.startswith("surveys: the surveys table has no rows (observed: 0). Fix: ")
    assert "(rows)" not in line and "0 row(s)" not in line


def test_range_checks_of_nullable_numbers_count_and_show_values_as_written():
    """Counts and minutes below 0 in pandas' nullable columns (validated as float64 for
    speed, missing values left out): the failing rows and examples are those plain pandas
    finds, shown as the file has them (``-2``, not ``-2.0``).
    """
    config = load_cycle("data/sample", "2026Q3", tables=("tickets",)).config
    t = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5"], "channel": ["web"] * 5,
        "created_at": pd.to_datetime(["2026-07-01"] * 5).tz_localize("UTC"),
        "reopens": pd.array([0, -2, None, 3, -1], dtype="Int64"),
        "handle_minutes": pd.array([1.5, None, -0.5, 2.0, 4.0], dtype="Float64"),
    }).astype({"ticket_id": "str", "channel": "str"})
    checks, rows = validate_table(t, "tickets", config)
    by_column = checks.set_index("column")
    for column, examples in (("reopens", "-2; -1"), ("handle_minutes", "-0.5")):
        below = t[column].lt(0).fillna(False).to_numpy()
        check = by_column.loc[column]
        check = check[check["expectation"].str.contains("between")].iloc[0]
        assert check["failed_rows"] == below.sum() and check["examples"] == examples
        assert sorted(rows[check["check"]]) == list(np.flatnonzero(below))

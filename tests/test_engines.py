"""The KPIs on an engine (issue 18): the calculators aggregate in Polars, DuckDB or Spark and
give the tables pandas gives; the statistics on the aggregates equal scipy's and numpy's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import os
import shutil
import warnings
from pathlib import Path

import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from cxassess import engines, kpis
from cxassess.calendar import BusinessCalendar
from cxassess.cycles import load_cycle, store_tables
from cxassess.errors import ConfigError
from cxassess.kpis.speed import kaplan_meier_from_counts
from cxassess.process import (
    conformance,
    handoffs,
    path_attributes,
    path_shares,
    stage_assessment,
    stage_flow,
    stage_metrics,
    variants,
)
from cxassess.stats import counted_medians, median_interval, median_intervals

from .conftest import SAMPLE

SPARK_MISSING = (
    "pyspark is not installed (pip install 'cxassess[spark]')" if importlib.util.find_spec("pyspark") is None
    else "Spark needs Java 17+, not found on PATH (apt-get install -y -qq default-jre-headless)"
    if shutil.which("java") is None else None
)
needs_spark = pytest.mark.skipif(SPARK_MISSING is not None, reason=SPARK_MISSING or "")


@pytest.fixture(scope="module")
def q3():
    return load_cycle(SAMPLE, "2026Q3")


@pytest.fixture(scope="module")
def folder(q3, tmp_path_factory):
    """The sample's 2026Q3 tables as the gate stores them: one Parquet file per table."""
    path = tmp_path_factory.mktemp("q3")
    store_tables(q3, path)
    return path


def _with_channel(surveys, tickets):
    """Surveys with their ticket's channel, joined where the tables are (as the scorecard does)."""
    right = nw.from_native(tickets).select("ticket_id", "channel")
    return nw.from_native(surveys).join(right, on="ticket_id", how="left").to_native()


def _tables(tables: dict, end: pd.Timestamp, by) -> dict[str, object]:
    """Every calculator that runs on an engine, on the tables of one engine."""
    tickets = tables["tickets"].to_native()
    escalated = kpis.flag_escalated(tickets, tables["events"].to_native(), ["specialist"])
    surveys = tables["surveys"].to_native()
    if by is not None:
        surveys = _with_channel(surveys, tickets)
    return {
        "volume": kpis.volume(tickets, by=by or "priority"),
        "fcr": kpis.fcr(tickets, by=by),
        "one_touch": kpis.one_touch(tickets, by=by),
        "transfer_rate": kpis.transfer_rate(tickets, by=by),
        "reopen_rate": kpis.reopen_rate(tickets, by=by),
        "open_share": kpis.open_share(tickets, by=by),
        "escalation_rate": kpis.escalation_rate(escalated, by=by),
        "csat": kpis.csat(surveys, by=by),
        "nps": kpis.nps(surveys, by=by),
        "ces_agree": kpis.ces(surveys, by=by),
        "ces_mean": kpis.ces(surveys, by=by, measure="mean"),
        "frt": kpis.first_response_time(tickets, censor_at=end, by=by),
        "ttr": kpis.resolution_time(tickets, censor_at=end, by=by),
    }


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame, name: str) -> None:
    """Equal tables: counts, shares and Kaplan-Meier durations exactly; the mean of CES to
    1e-12 relative (its sums may be added in another order by the engine)."""
    assert isinstance(got, pd.DataFrame), name
    assert list(got.columns) == list(expected.columns), name
    expected, got = expected.reset_index(drop=True), got.reset_index(drop=True)
    for column in expected.columns:
        left, right = expected[column], got[column]
        if pd.api.types.is_integer_dtype(left):
            assert pd.api.types.is_integer_dtype(right), (name, column, right.dtype)
        if pd.api.types.is_float_dtype(left) and name == "ces_mean" and column != "n":
            np.testing.assert_allclose(right.to_numpy(float), left.to_numpy(float), rtol=1e-12, err_msg=name)
        else:
            pd.testing.assert_series_equal(right, left, check_dtype=False, check_exact=True, obj=f"{name}.{column}")


@pytest.mark.parametrize("by", [None, "channel"], ids=["whole cycle", "by channel"])
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_kpis_on_an_engine_equal_pandas(q3, folder, engine, by):
    expected = _tables(engines.open_tables(folder, "pandas"), q3.end, by)
    lazy = engines.open_tables(folder, engine)
    assert all(isinstance(t, nw.LazyFrame) for t in lazy.values())
    got = _tables(lazy, q3.end, by)
    for name in expected:
        _assert_same(expected[name], got[name], name)


def test_the_rates_on_duckdb_equal_plain_pandas(q3, folder):
    t = q3.tickets
    transfer = kpis.transfer_rate(engines.open_tables(folder, "duckdb")["tickets"].to_native(), by="channel")
    by_hand = (t["transfers"] > 0).groupby(t["channel"]).agg(["sum", "size", "mean"])
    assert transfer["channel"].tolist() == sorted(t["channel"].unique())
    assert transfer["hits"].tolist() == by_hand["sum"].tolist()
    assert transfer["n"].tolist() == by_hand["size"].tolist()
    assert transfer["value"].tolist() == by_hand["mean"].tolist()
    lo, hi = st.binomtest(int(by_hand["sum"].iloc[0]), int(by_hand["size"].iloc[0])).proportion_ci(method="wilson")
    assert (transfer["ci_low"].iloc[0], transfer["ci_high"].iloc[0]) == pytest.approx((lo, hi), rel=1e-9)


def test_the_median_of_resolution_on_duckdb_equals_the_product_limit_by_hand(q3, folder):
    t = q3.tickets
    done = t["resolved_at"].notna().to_numpy()
    hours = ((t["resolved_at"].where(done, q3.end) - t["created_at"]) / pd.Timedelta(hours=1)).to_numpy()
    fit = st.ecdf(st.CensoredData(uncensored=hours[done], right=hours[~done])).sf
    median = fit.quantiles[np.flatnonzero(fit.probabilities <= 0.5)[0]]
    got = kpis.resolution_time(engines.open_tables(folder, "duckdb")["tickets"].to_native(), censor_at=q3.end)
    assert got["value"].iloc[0] == median and got["n"].iloc[0] == len(t)
    assert got["resolved_median"].iloc[0] == np.median(hours[done])


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_business_clock_in_an_engine_equals_pandas(q3, folder, engine):
    calendar = BusinessCalendar.from_config(q3.config)
    lazy = engines.open_tables(folder, engine)["tickets"].to_native()
    for calculator in (kpis.first_response_time, kpis.resolution_time):
        expected = calculator(q3.tickets, censor_at=q3.end, calendar=calendar, by="channel")
        got = calculator(lazy, censor_at=q3.end, calendar=calendar, by="channel")
        _assert_same(expected, got, calculator.__name__)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_sla_attainment_in_an_engine_equals_pandas(q3, folder, engine):
    calendar = BusinessCalendar.from_config(q3.config)
    policies = [*q3.config.sla, *(dataclasses.replace(p, clock="calendar", name=f"{p.name}, calendar hours")
                                  for p in q3.config.sla)]
    assert {p.clock for p in policies} == {"business", "calendar"} and any(p.channels for p in policies)
    lazy = engines.open_tables(folder, engine)["tickets"].to_native()
    expected = kpis.sla_attainment(q3.tickets, policies, censor_at=q3.end, calendar=calendar, by="channel")
    got = kpis.sla_attainment(lazy, policies, censor_at=q3.end, calendar=calendar, by="channel")
    assert expected["pending"].sum() > 0
    _assert_same(expected, got, "sla")


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_backlog_in_an_engine_equals_pandas(q3, folder, engine):
    calendar = BusinessCalendar.from_config(q3.config)
    lazy = engines.open_tables(folder, engine)["tickets"].to_native()
    for clock, at in ((None, q3.end), (calendar, q3.end), (calendar, q3.start + pd.Timedelta(days=40))):
        expected = kpis.backlog(q3.tickets, at=at, calendar=clock, by="channel")
        assert expected["n"].sum() > 30
        _assert_same(expected, kpis.backlog(lazy, at=at, calendar=clock, by="channel"), "backlog")


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo", "Europe/Berlin"])
def test_the_business_clock_in_duckdb_across_time_changes_and_utc_midnight(zone, tmp_path):
    # open 08:00-18:00 (Tokyo: 23:00-09:00 UTC, across UTC midnight), Saturdays 09:00-13:00,
    # a holiday; tickets over the autumn time change, some still open at the export
    calendar = BusinessCalendar(zone, {d: (dt.time(8), dt.time(18)) for d in range(5)} | {5: (dt.time(9), dt.time(13))},
                                frozenset({dt.date(2025, 11, 4)}))
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2025-10-20", tz=zone).tz_convert("UTC")
    created = (start + pd.to_timedelta(rng.uniform(0, 20 * 24, 400), unit="h")).floor("s").tz_convert(zone)
    replied = (created + pd.to_timedelta(rng.exponential(30, 400), unit="h")).tz_convert("UTC").floor("s").tz_convert(zone)
    export = pd.Timestamp("2025-11-10", tz=zone)
    tickets = pd.DataFrame({"created_at": created, "first_response_at": replied.where(replied < export),
                            "resolved_at": (replied + pd.Timedelta(hours=3)).where(rng.random(400) < 0.5)})
    tickets.to_parquet(tmp_path / "tickets.parquet")
    lazy = engines.read_parquet(tmp_path / "tickets.parquet", "duckdb").to_native()
    expected = kpis.first_response_time(tickets, censor_at=export, calendar=calendar)
    _assert_same(expected, kpis.first_response_time(lazy, censor_at=export, calendar=calendar), "frt")
    expected = kpis.resolution_time(tickets, censor_at=export, calendar=calendar)
    _assert_same(expected, kpis.resolution_time(lazy, censor_at=export, calendar=calendar), "ttr")


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_a_partitioned_folder_gives_the_rows_of_one_cycle(q3, tmp_path, engine):
    q2 = load_cycle(SAMPLE, "2026Q2")
    both = pd.concat([q2.tickets.assign(cycle="2026Q2"), q3.tickets.assign(cycle="2026Q3")], ignore_index=True)
    engines.write_partitioned(both, tmp_path / "tickets", "cycle")
    table = engines.read_parquet(tmp_path / "tickets", engine, partition={"cycle": "2026Q3"})
    assert "cycle" not in table.collect_schema().names()
    fcr = kpis.fcr(table.to_native(), by="channel")
    _assert_same(kpis.fcr(q3.tickets, by="channel"), fcr, "fcr")


def test_an_unknown_engine_is_refused():
    with pytest.raises(ConfigError, match="not known") as caught:
        engines.read_parquet("tickets.parquet", "dask")
    assert "duckdb" in caught.value.fix


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kaplan_meier_from_counts_equals_scipy_on_the_tickets_one_by_one(seed):
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(10, 300), 0)  # many ties, some with both outcomes
    done = rng.random(300) < 0.6
    times, at = np.unique(t, return_inverse=True)
    events, censored = np.bincount(at, weights=done).astype(int), np.bincount(at, weights=~done).astype(int)
    fit = st.ecdf(st.CensoredData(uncensored=t[done], right=t[~done])).sf
    with warnings.catch_warnings():  # undefined where the curve reaches 0
        warnings.simplefilter("ignore", RuntimeWarning)
        band = fit.confidence_interval(0.95)
    for p, (value, low, high) in zip((0.5, 0.9), kaplan_meier_from_counts(times, events, censored, (0.5, 0.9)),
                                      strict=True):
        def first(q, s, p=p):
            hit = np.flatnonzero(s <= 1 - p + 1e-12)
            return q[hit[0]] if len(hit) else np.nan
        np.testing.assert_equal((value, low, high), (first(fit.quantiles, fit.probabilities),
                                                     first(band.low.quantiles, band.low.probabilities),
                                                     first(band.high.quantiles, band.high.probabilities)))


def test_counted_medians_equal_numpy_on_the_values_written_out():
    rng = np.random.default_rng(7)
    values, counts, codes = rng.integers(0, 50, 200).astype(float), rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    got = counted_medians(values, counts, codes, 6)
    counted = median_intervals(values, codes, 6, counts=counts)
    for g in range(5):
        written = np.repeat(values[codes == g], counts[codes == g])
        assert got[g] == np.median(written)
        assert counted["p90"][g] == np.quantile(written, 0.9) and counted["max"][g] == written.max()
        assert counted["n"][g] == len(written)
        ci = st.quantile_test(written, q=np.median(written), p=0.5).confidence_interval(0.95)
        assert (counted["ci_low"][g], counted["ci_high"][g]) == (ci.low, ci.high)
    assert np.isnan(got[5]) and counted["n"][5] == 0
    order = np.lexsort((values, codes))  # given in order of group and value, as a caller that sorted them
    again = counted_medians(values[order], counts[order], codes[order], 6, presorted=True)
    np.testing.assert_array_equal(again, got)


@pytest.mark.slow
@needs_spark
@pytest.mark.parametrize("by", [None, "channel"], ids=["whole cycle", "by channel"])
def test_the_kpis_on_spark_equal_pandas(q3, folder, by):
    expected = _tables(engines.open_tables(folder, "pandas"), q3.end, by)
    lazy = engines.open_tables(folder, "spark")
    assert all(isinstance(t, nw.LazyFrame) and t.implementation.is_pyspark() for t in lazy.values())
    got = _tables(lazy, q3.end, by)
    for name in expected:
        _assert_same(expected[name], got[name], name)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_stage_flow_in_an_engine_equals_pandas(q3, folder, tmp_path, engine):
    calendar = BusinessCalendar.from_config(q3.config)
    process = q3.config.process
    lazy = engines.open_tables(folder, engine)["events"].to_native()
    narrow = dataclasses.replace(process, transitions=process.transitions[:3])  # some moves not allowed
    for clock, design in ((None, process), (calendar, process), (None, narrow)):
        expected = stage_flow(q3.events, design, calendar=clock)
        assert expected["moves"].sum() > 1000 and expected["allowed"].any()
        assert design is process or not expected["allowed"].all()
        pd.testing.assert_frame_equal(stage_flow(lazy, design, calendar=clock), expected, check_exact=True)
    # stages from the activities of review.yml when the log names none
    q3.events.drop(columns="stage").to_parquet(tmp_path / "events.parquet")
    bare = engines.read_parquet(tmp_path / "events.parquet", engine).to_native()
    expected = stage_flow(q3.events.drop(columns="stage"), process)
    pd.testing.assert_frame_equal(stage_flow(bare, process), expected, check_exact=True)


@pytest.mark.slow
@needs_spark
def test_the_stage_flow_on_spark_equals_pandas(q3, folder):
    calendar = BusinessCalendar.from_config(q3.config)
    lazy = engines.open_tables(folder, "spark")["events"].to_native()
    expected = stage_flow(q3.events, q3.config.process, calendar=calendar)
    pd.testing.assert_frame_equal(stage_flow(lazy, q3.config.process, calendar=calendar), expected, check_exact=True)


@pytest.mark.slow
@needs_spark
def test_a_partitioned_folder_on_spark_gives_the_rows_of_one_cycle(q3, tmp_path):
    q2 = load_cycle(SAMPLE, "2026Q2")
    both = pd.concat([q2.tickets.assign(cycle="2026Q2"), q3.tickets.assign(cycle="2026Q3")], ignore_index=True)
    engines.write_partitioned(both, tmp_path / "tickets", "cycle")
    table = engines.read_parquet(tmp_path / "tickets", "spark", partition={"cycle": "2026Q3"})
    _assert_same(kpis.transfer_rate(q3.tickets, by="channel"), kpis.transfer_rate(table.to_native(), by="channel"),
                 "transfer_rate")


@pytest.mark.slow
def test_the_checked_tables_of_a_cycle_open_on_duckdb():
    from cxassess.quality import checked_cycle

    tickets = engines.checked_tables(SAMPLE, "2026Q3", "duckdb")["tickets"]
    assert tickets.select(nw.len()).collect().item() == len(checked_cycle(SAMPLE, "2026Q3").tickets)


def test_review_yml_names_the_engine_pandas_by_default():
    from cxassess.config_schema import validate_review

    assert validate_review({"timezone": "UTC"}).engine == "pandas"
    assert validate_review({"timezone": "UTC", "engine": "duckdb"}).engine == "duckdb"
    with pytest.raises(ConfigError, match="engine") as caught:
        validate_review({"timezone": "UTC", "engine": "dask"})
    assert "pandas, polars, duckdb or spark" in str(caught.value)


@pytest.mark.parametrize("by", [None, "channel"], ids=["whole cycle", "by channel"])
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_scorecard_kpis_of_a_cycle_on_an_engine_equal_pandas(q3, folder, engine, by):
    expected = kpis.cycle_kpis(q3, by=by)
    got = kpis.cycle_kpis(engines.engine_cycle(q3, engine, folder), by=by)
    computed = set(expected.loc[expected["note"] == "", "kpi"])
    assert {"fcr", "csat", "nps", "frt_business_hours", "sla", *(["retention"] if by is None else [])} <= computed
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


@pytest.mark.slow
@needs_spark
def test_the_scorecard_kpis_of_a_cycle_on_spark_equal_pandas(q3, folder):
    expected = kpis.cycle_kpis(q3, by="channel")
    got = kpis.cycle_kpis(engines.engine_cycle(q3, "spark", folder), by="channel")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


@pytest.mark.parametrize("engine", ["duckdb"])
def test_the_scorecard_on_the_engine_of_the_review_equals_pandas(monkeypatch, engine):
    now, before = load_cycle(SAMPLE, "2026Q3"), load_cycle(SAMPLE, "2026Q2")
    expected = kpis.scorecard(now, before)
    monkeypatch.setenv("CXASSESS_ENGINE", engine)
    opened = []

    def spy(cycle, name, folder=None):
        opened.append(name)
        return real(cycle, name, folder)

    real = engines.engine_cycle
    monkeypatch.setattr(engines, "engine_cycle", spy)
    now, before = load_cycle(SAMPLE, "2026Q3"), load_cycle(SAMPLE, "2026Q2")
    got = kpis.scorecard(now, before)
    assert opened == [engine, engine]  # both cycles, once each
    assert (expected["verdict"] == "worsened").any()
    for column in ("n", "n_previous"):
        assert pd.api.types.is_numeric_dtype(got[column]) and pd.api.types.is_numeric_dtype(expected[column])
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_the_engine_of_the_review_is_checked(monkeypatch):
    from cxassess.config import load_config

    monkeypatch.setenv("CXASSESS_ENGINE", "dask")
    with pytest.raises(ConfigError, match="not known"):
        engines.engine_of(load_config(SAMPLE))


@pytest.mark.slow
@needs_spark
def test_the_kpi_page_of_a_review_on_spark_records_the_kpis_of_the_review_on_pandas(sample_review, tmp_path,
                                                                                 monkeypatch):
    """make report ENGINE=spark: the scorecard page, run on Spark, records the KPI table and
    writes the breakdowns of the review on pandas (the session's review of the sample)."""
    from cxassess.report import run_review

    from .conftest import REPO

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "20_kpi_scorecard.ipynb", notebooks)
    monkeypatch.setenv("CXASSESS_ENGINE", "spark")
    spark = run_review(SAMPLE, "2026Q3", notebooks=notebooks, reports=tmp_path / "reports", echo=lambda _: None)
    recorded = pd.read_parquet(spark / "record" / "kpis.parquet")
    pd.testing.assert_frame_equal(recorded, pd.read_parquet(sample_review / "record" / "kpis.parquet"),
                                  check_exact=True, check_dtype=False)
    assert len(recorded) >= 20
    for table in sorted(p.name for p in sample_review.glob("breakdown_*.csv")):
        assert (spark / table).read_bytes() == (sample_review / table).read_bytes(), table


def _assert_close(expected: pd.DataFrame, got: pd.DataFrame, name: str) -> None:
    """Equal tables: counts, flags, names and ranks exactly; hours and shares to 1e-9
    relative (a ticket's time in a stage is summed in whole microseconds by the engine and
    as hours by pandas), with missing values in the same places."""
    assert list(got.columns) == list(expected.columns), name
    assert len(got) == len(expected), name
    for column in expected.columns:
        left, right = expected[column].reset_index(drop=True), got[column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(left):
            np.testing.assert_allclose(right.to_numpy(float), left.to_numpy(float), rtol=1e-9, atol=0,
                                       err_msg=f"{name}.{column}")
        else:
            pd.testing.assert_series_equal(right, left, check_exact=True, obj=f"{name}.{column}")


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory):
    """The real help-desk log (tests/fixtures/helpdesk-italy/review.yml) and a Parquet copy."""
    from cxassess.config import load_config
    from cxassess.io import read_table

    from .conftest import FIXTURES, shared_file

    config = load_config(FIXTURES / "helpdesk-italy")
    events = read_table(shared_file("helpdesk-italy/helpdesk_events.csv"), "events", config)
    path = tmp_path_factory.mktemp("helpdesk") / "events.parquet"
    events.to_parquet(path)
    return events, config.process, path


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_stage_metrics_in_an_engine_equal_pandas(q3, folder, tmp_path, engine):
    calendar = BusinessCalendar.from_config(q3.config)
    process = q3.config.process
    lazy = engines.open_tables(folder, engine)["events"].to_native()
    some = q3.tickets["ticket_id"].iloc[::3]
    for clock, resolved in ((None, None), (calendar, None), (None, some)):
        expected = stage_metrics(q3.events, process, calendar=clock, resolved=resolved)
        assert expected["open_here"].sum() > 0 and expected["loops"].sum() > 0
        assert expected["over_target"].notna().sum() == 3 and expected["ci_low"].notna().all()
        _assert_close(expected, stage_metrics(lazy, process, calendar=clock, resolved=resolved), "stage_metrics")
    # stages from the activities of review.yml when the log names none
    q3.events.drop(columns="stage").to_parquet(tmp_path / "events.parquet")
    bare = engines.read_parquet(tmp_path / "events.parquet", engine).to_native()
    expected = stage_metrics(q3.events.drop(columns="stage"), process)
    _assert_close(expected, stage_metrics(bare, process), "stage_metrics, stages from the activities")


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_stage_metrics_and_flow_in_an_engine_equal_pandas_on_the_help_desk_log(helpdesk, engine):
    events, process, path = helpdesk
    lazy = engines.read_parquet(path, engine).to_native()
    expected = stage_metrics(events, process)
    reached = events.groupby("stage")["ticket_id"].nunique()  # independently: tickets with an event in the stage
    assert expected.set_index("stage")["entering"].to_dict() == reached.to_dict()
    assert expected["loops"].sum() > 100 and expected["ci_low"].notna().all()
    _assert_close(expected, stage_metrics(lazy, process), "stage_metrics")
    pd.testing.assert_frame_equal(stage_flow(lazy, process), stage_flow(events, process), check_exact=True)


def test_the_median_interval_of_counted_values_equals_the_one_of_the_values_written_out():
    rng = np.random.default_rng(5)
    for n in (1, 3, 5, 6, 9, 40, 301):  # below 6 values the 95 % interval cannot be reached: nan
        raw = np.round(rng.exponential(5, n), 1)  # ties
        values, counts = np.unique(raw, return_counts=True)
        counted = median_intervals(values, np.zeros(len(values), int), 1, counts=counts)
        got = (counted["value"][0], counted["ci_low"][0], counted["ci_high"][0])
        np.testing.assert_equal(got, median_interval(raw))
        assert counted["p90"][0] == np.quantile(raw, 0.9) and got[0] == np.median(raw)


@pytest.mark.slow
@needs_spark
def test_the_stage_metrics_on_spark_equal_pandas(q3, folder, helpdesk):
    calendar = BusinessCalendar.from_config(q3.config)
    lazy = engines.open_tables(folder, "spark")["events"].to_native()
    expected = stage_metrics(q3.events, q3.config.process, calendar=calendar)
    _assert_close(expected, stage_metrics(lazy, q3.config.process, calendar=calendar), "stage_metrics")
    some = q3.tickets["ticket_id"].iloc[::3]  # the resolved tickets given: joined in Spark
    _assert_close(stage_metrics(q3.events, q3.config.process, resolved=some),
                  stage_metrics(lazy, q3.config.process, resolved=some), "stage_metrics, resolved given")
    events, process, path = helpdesk
    _assert_close(stage_metrics(events, process), stage_metrics(engines.read_parquet(path, "spark").to_native(), process),
                  "stage_metrics, help desk")


def _assert_handoffs(expected: tuple, got: tuple) -> None:
    for name, left, right in zip(("pairs", "per_ticket"), expected, got, strict=True):
        pd.testing.assert_frame_equal(right, left, check_exact=True, obj=name)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_handoffs_in_an_engine_equal_pandas_on_the_sample_and_the_help_desk_log(q3, folder, helpdesk, engine):
    expected = handoffs(q3.events)
    assert expected[1]["ping_pong"].sum() > 50 and len(expected[1]) == q3.events["ticket_id"].nunique()
    _assert_handoffs(expected, handoffs(engines.open_tables(folder, engine)["events"].to_native()))
    events, _, path = helpdesk
    expected = handoffs(events)
    # independently: changes of resource between consecutive events of a ticket, in plain pandas
    ev = events.sort_values(["ticket_id", "timestamp"], kind="stable")
    moved = (ev["ticket_id"] == ev["ticket_id"].shift()) & (ev["team"] != ev["team"].shift())
    assert expected[0]["handoffs"].sum() == moved.sum() == expected[1]["handoffs"].sum()
    _assert_handoffs(expected, handoffs(engines.read_parquet(path, engine).to_native()))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_events_at_the_same_instant_are_taken_in_the_order_of_their_activity(tmp_path, engine):
    """pandas keeps the file's order for events at the same instant; an engine has no file
    order and takes them by activity: the same figures as pandas on the log listed so."""
    from cxassess.config import Process, Stage

    p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L")), activities={})
    ev = pd.DataFrame({"ticket_id": ["T"] * 4, "activity": ["x", "z", "y", "w"], "stage": ["a", "b", "a", "b"],
                       "team": ["t1", "t2", "t1", "t3"],
                       "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00", "2026-07-01 09:00",
                                                    "2026-07-01 12:00"])})
    ev.to_parquet(tmp_path / "events.parquet")
    lazy = engines.read_parquet(tmp_path / "events.parquet", engine).to_native()
    listed = ev.sort_values(["ticket_id", "timestamp", "activity"], kind="stable")  # y (a) before z (b)
    assert stage_metrics(listed, p)["visits"].tolist() == [1, 1] != stage_metrics(ev, p)["visits"].tolist()
    _assert_close(stage_metrics(listed, p), stage_metrics(lazy, p), "stage_metrics")
    pd.testing.assert_frame_equal(stage_flow(lazy, p), stage_flow(listed, p), check_exact=True)
    _assert_handoffs(handoffs(listed), handoffs(lazy))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_events_without_a_timestamp_are_left_out_by_pandas_as_by_the_engines(q3, tmp_path, engine):
    """An event without a time has no place in a path: pandas leaves it out as the engines
    do, so the figures equal those of the log without it (a ticket whose only events have no
    time is gone from every figure)."""
    process = q3.config.process
    ev = q3.events.copy()
    lone = ev["ticket_id"].value_counts().index[-1]  # a ticket all of whose events lose their time
    blank = ev.index[[5, 50, 500]].union(ev.index[ev["ticket_id"] == lone])
    ev.loc[blank, "timestamp"] = pd.NaT
    kept = ev.dropna(subset=["timestamp"])
    assert len(kept) < len(ev) and lone not in set(kept["ticket_id"])
    ev.to_parquet(tmp_path / "events.parquet")
    lazy = engines.read_parquet(tmp_path / "events.parquet", engine).to_native()
    expected = stage_metrics(kept, process)
    # independently: tickets with a timed event in each stage, in plain pandas
    assert expected.set_index("stage")["entering"].to_dict() == kept.groupby("stage")["ticket_id"].nunique().to_dict()
    for name, got in (("pandas", stage_metrics(ev, process)), (engine, stage_metrics(lazy, process))):
        _assert_close(expected, got, f"stage_metrics on {name}")
    pd.testing.assert_frame_equal(stage_flow(ev, process), stage_flow(kept, process), check_exact=True)
    pd.testing.assert_frame_equal(stage_flow(lazy, process), stage_flow(kept, process), check_exact=True)
    _assert_handoffs(handoffs(kept), handoffs(ev))
    _assert_handoffs(handoffs(kept), handoffs(lazy))
    for got in (variants(ev, process, top=1000), variants(lazy, process, top=1000)):
        pd.testing.assert_frame_equal(got, variants(kept, process, top=1000), check_exact=True)
    assert variants(kept, process, top=1000)["tickets"].sum() == kept["ticket_id"].nunique()


@pytest.mark.slow
@needs_spark
def test_the_handoffs_on_spark_equal_pandas(q3, folder, helpdesk):
    _assert_handoffs(handoffs(q3.events), handoffs(engines.open_tables(folder, "spark")["events"].to_native()))
    events, _, path = helpdesk
    _assert_handoffs(handoffs(events), handoffs(engines.read_parquet(path, "spark").to_native()))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_variants_in_an_engine_equal_pandas_on_the_sample_and_the_help_desk_log(q3, folder, helpdesk, engine):
    process = q3.config.process
    lazy = engines.open_tables(folder, engine)["events"].to_native()
    for top in (10, 1000):  # the ten most frequent, and every path
        expected = variants(q3.events, process, top=top)
        pd.testing.assert_frame_equal(variants(lazy, process, top=top), expected, check_exact=True)
    assert len(expected) > 10 and expected["tickets"].sum() == q3.events["ticket_id"].nunique()
    events, process, path = helpdesk
    expected = variants(events, process)
    # independently: the most frequent path, from the stages of each ticket's events in plain pandas
    ev = events.sort_values(["ticket_id", "timestamp"], kind="stable")
    ev = ev[ev["stage"] != ev.groupby("ticket_id")["stage"].shift()]
    paths = ev.groupby("ticket_id")["stage"].agg(" → ".join).value_counts()
    assert (expected["path"].iloc[0], expected["tickets"].iloc[0]) == (paths.index[0], paths.iloc[0])
    pd.testing.assert_frame_equal(variants(engines.read_parquet(path, engine).to_native(), process), expected,
                                  check_exact=True)


@pytest.mark.slow
@needs_spark
def test_the_variants_on_spark_equal_pandas(q3, folder, helpdesk):
    lazy = engines.open_tables(folder, "spark")["events"].to_native()
    pd.testing.assert_frame_equal(variants(lazy, q3.config.process), variants(q3.events, q3.config.process),
                                  check_exact=True)
    events, process, path = helpdesk
    pd.testing.assert_frame_equal(variants(engines.read_parquet(path, "spark").to_native(), process),
                                  variants(events, process), check_exact=True)


def _deviations_by_hand(events: pd.DataFrame, transitions) -> pd.Series:
    """Per ticket, its moves between stages that the transitions do not allow, in plain
    pandas: consecutive events of a ticket (time order, file order at the same instant) in
    two different stages."""
    ev = events.dropna(subset=["timestamp"]).sort_values(["ticket_id", "timestamp"], kind="stable")
    before = ev.groupby("ticket_id")["stage"].shift()
    moved = before.notna() & (before != ev["stage"])
    allowed = pd.Series([(a, b) in set(map(tuple, transitions)) for a, b in zip(before, ev["stage"], strict=True)],
                        index=ev.index)
    return (moved & ~allowed).groupby(ev["ticket_id"]).sum()


def _assert_paths(events, lazy, process) -> None:
    """conformance, path_attributes and path_shares of ``lazy`` equal pandas' on ``events``."""
    for got, expected in zip(conformance(lazy, process), conformance(events, process), strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    pd.testing.assert_frame_equal(path_attributes(lazy, process), path_attributes(events, process), check_exact=True)
    pd.testing.assert_frame_equal(path_shares(lazy, process), path_shares(events, process), check_exact=True)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_conformance_and_path_attributes_in_an_engine_equal_pandas_on_the_sample_and_the_help_desk_log(
        q3, folder, helpdesk, engine):
    lazy = engines.open_tables(folder, engine)["events"].to_native()
    # the sample follows its designed flow: three allowed moves taken out so that it does not
    narrow = dataclasses.replace(q3.config.process, transitions=tuple(q3.config.process.transitions[:-3]))
    for process in (q3.config.process, narrow):
        tickets, deviations = conformance(q3.events, process)
        by_hand = _deviations_by_hand(q3.events, process.transitions)
        assert tickets.set_index("ticket_id")["deviations"].to_dict() == by_hand.to_dict()
        assert deviations["moves"].sum() == by_hand.sum()
        _assert_paths(q3.events, lazy, process)
    assert by_hand.sum() > 3000 and (by_hand == 0).sum() > 50  # deviations, and tickets without
    events, process, path = helpdesk
    by_hand = _deviations_by_hand(events, process.transitions)
    assert by_hand.sum() > 0 and (by_hand == 0).sum() > 0
    assert conformance(events, process)[0].set_index("ticket_id")["deviations"].to_dict() == by_hand.to_dict()
    shares = path_shares(events, process).set_index("measure")
    specialist = events.loc[events["stage"].isin(process.specialist_stages), "ticket_id"].nunique()
    assert shares.at["escalated", "tickets"] == specialist and shares.at["conforms", "tickets"] == (by_hand == 0).sum()
    _assert_paths(events, engines.read_parquet(path, engine).to_native(), process)


@pytest.mark.slow
@needs_spark
def test_conformance_and_path_attributes_on_spark_equal_pandas(q3, folder, helpdesk):
    narrow = dataclasses.replace(q3.config.process, transitions=tuple(q3.config.process.transitions[:-3]))
    _assert_paths(q3.events, engines.open_tables(folder, "spark")["events"].to_native(), narrow)
    events, process, path = helpdesk
    _assert_paths(events, engines.read_parquet(path, "spark").to_native(), process)


def test_duckdb_holds_two_thirds_of_the_memory_budget_and_spills_to_its_own_folder():
    """In a fresh process with a budget of 1.5 GiB, DuckDB's default connection reports a
    limit of 1 GiB once the first table is opened, and a temporary folder that exists
    while the process runs and is gone after it."""
    import json
    import subprocess
    import sys

    script = ("import duckdb, json, pandas as pd, tempfile, os\n"
              "from cxassess.engines import read_parquet\n"
              "p = os.path.join(tempfile.mkdtemp(), 't.parquet'); pd.DataFrame({'a': [1]}).to_parquet(p)\n"
              "read_parquet(p, 'duckdb')\n"
              "s = {k: duckdb.execute(f\"SELECT current_setting('{k}')\").fetchall()[0][0]\n"
              "     for k in ('memory_limit', 'temp_directory')}\n"
              "print(json.dumps({**s, 'exists': os.path.isdir(s['temp_directory'])}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "CXASSESS_MEMORY_BUDGET": "1.5GiB"}).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["memory_limit"] == "1.0 GiB" and seen["exists"]
    assert not Path(seen["temp_directory"]).exists()


def _assert_assessment(expected: pd.DataFrame, got: pd.DataFrame, name: str) -> None:
    """Equal stage assessments: the figures of the stage metrics as :func:`_assert_close`;
    those counted (tickets, resolved clean, loops, CSAT through the stage and not, the
    difference and its interval) and the finding exactly."""
    _assert_close(expected, got, name)
    exact = ["stage", "tickets", "resolved_clean", "loops_share", "bottleneck_rank", "csat_through",
             "csat_not_through", "csat_effect", "effect_low", "effect_high", "finding"]
    pd.testing.assert_frame_equal(got[exact], expected[exact], check_exact=True, obj=name)


def _helpdesk_outcomes(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tickets with reopens and CSAT answers (5-point scale) for the help-desk log, which has
    neither: drawn with a fixed seed; some answers without a score, some of tickets the log
    does not hold, some of another kind."""
    rng = np.random.default_rng(18)
    ids = np.sort(events["ticket_id"].unique())
    tickets = pd.DataFrame({"ticket_id": ids, "reopens": (rng.random(len(ids)) < 0.1).astype("int64")})
    rated = rng.choice(ids, size=len(ids) // 2, replace=False)
    surveys = pd.DataFrame({"ticket_id": np.r_[rated, ["not-in-the-log"] * 5],
                            "kind": np.where(rng.random(len(rated) + 5) < 0.9, "csat", "nps"),
                            "scale": 5, "score": rng.integers(1, 6, len(rated) + 5).astype(float)})
    surveys.loc[surveys.index[::37], "score"] = np.nan
    return tickets, surveys


def _resolved_clean_by_hand(events: pd.DataFrame, tickets: pd.DataFrame, resolution) -> dict[str, float]:
    """Per stage, the share of the tickets with a timed event in it that have a resolution
    activity and no reopen, in plain pandas."""
    ev = events.dropna(subset=["timestamp"])
    resolved = set(ev.loc[ev["activity"].isin(resolution), "ticket_id"])
    reopened = set(tickets.loc[tickets["reopens"] > 0, "ticket_id"])
    pairs = ev[["ticket_id", "stage"]].drop_duplicates()
    clean = pairs["ticket_id"].isin(resolved - reopened)
    return clean.groupby(pairs["stage"]).mean().to_dict()


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_stage_assessment_in_an_engine_equals_pandas_on_the_sample_and_the_help_desk_log(
        q3, folder, helpdesk, tmp_path, engine):
    process, scale = q3.config.process, q3.config.survey_scales.get("csat")
    lazy = engines.open_tables(folder, engine)
    events = lazy["events"].to_native()
    expected = stage_assessment(q3.events, process, surveys=q3.surveys, tickets=q3.tickets, scale=scale)
    assert expected["csat_effect"].notna().any() and (expected["resolved_clean"] < 1).all()
    # the surveys and tickets in memory (pushed to the engine), or the engine's own
    for surveys, tickets in ((q3.surveys, q3.tickets), (lazy["surveys"].to_native(), lazy["tickets"].to_native())):
        got = stage_assessment(events, process, surveys=surveys, tickets=tickets, scale=scale)
        _assert_assessment(expected, got, f"stage_assessment, sample, {type(surveys).__name__}")
    metrics = stage_metrics(events, process)
    _assert_assessment(stage_assessment(q3.events, process), stage_assessment(events, process, metrics=metrics),
                       "stage_assessment, sample, without surveys and tickets")
    # events without a timestamp are left out, as by pandas
    ev = q3.events.copy()
    ev.loc[ev.index[::50], "timestamp"] = pd.NaT
    ev.to_parquet(tmp_path / "events.parquet")
    blanked = engines.read_parquet(tmp_path / "events.parquet", engine).to_native()
    expected = stage_assessment(ev, process, surveys=q3.surveys, tickets=q3.tickets, scale=scale)
    _assert_assessment(stage_assessment(ev.dropna(subset=["timestamp"]), process, surveys=q3.surveys,
                                        tickets=q3.tickets, scale=scale), expected, "stage_assessment, timed events")
    _assert_assessment(expected, stage_assessment(blanked, process, surveys=q3.surveys, tickets=q3.tickets, scale=scale),
                       "stage_assessment, sample with events without a timestamp")
    # the help-desk log, with drawn reopens and answers: the CSAT split measured in every stage
    events, process, path = helpdesk
    tickets, surveys = _helpdesk_outcomes(events)
    expected = stage_assessment(events, process, surveys=surveys, tickets=tickets)
    assert expected["csat_not_through"].notna().sum() >= 3
    by_hand = _resolved_clean_by_hand(events, tickets, process.resolution_activities)
    assert expected.set_index("stage")["resolved_clean"].to_dict() == pytest.approx(by_hand, rel=1e-12)
    got = stage_assessment(engines.read_parquet(path, engine).to_native(), process, surveys=surveys, tickets=tickets)
    _assert_assessment(expected, got, "stage_assessment, help desk")
    tickets.to_parquet(tmp_path / "tickets.parquet")
    surveys.to_parquet(tmp_path / "surveys.parquet")
    got = stage_assessment(engines.read_parquet(path, engine).to_native(), process,
                           surveys=engines.read_parquet(tmp_path / "surveys.parquet", engine).to_native(),
                           tickets=engines.read_parquet(tmp_path / "tickets.parquet", engine).to_native())
    _assert_assessment(expected, got, "stage_assessment, help desk, tables of the engine")


def test_the_stage_assessment_refuses_tables_of_another_engine(q3, folder):
    from cxassess.errors import InputError

    events = engines.open_tables(folder, "polars")["events"].to_native()
    surveys = engines.open_tables(folder, "duckdb")["surveys"].to_native()
    with pytest.raises(InputError, match="cannot be joined") as caught:
        stage_assessment(events, q3.config.process, surveys=surveys, scale=5)
    assert "same engine" in caught.value.fix


@pytest.mark.slow
@needs_spark
def test_the_stage_assessment_on_spark_equals_pandas(q3, folder, helpdesk):
    process, scale = q3.config.process, q3.config.survey_scales.get("csat")
    lazy = engines.open_tables(folder, "spark")
    expected = stage_assessment(q3.events, process, surveys=q3.surveys, tickets=q3.tickets, scale=scale)
    for surveys, tickets in ((q3.surveys, q3.tickets), (lazy["surveys"].to_native(), lazy["tickets"].to_native())):
        got = stage_assessment(lazy["events"].to_native(), process, surveys=surveys, tickets=tickets, scale=scale)
        _assert_assessment(expected, got, f"stage_assessment on Spark, {type(surveys).__name__}")
    events, process, path = helpdesk
    tickets, surveys = _helpdesk_outcomes(events)
    _assert_assessment(stage_assessment(events, process, surveys=surveys, tickets=tickets),
                       stage_assessment(engines.read_parquet(path, "spark").to_native(), process, surveys=surveys,
                                        tickets=tickets), "stage_assessment on Spark, help desk")


@pytest.mark.parametrize("engine", ["duckdb", "polars",
                                    pytest.param("spark", marks=[pytest.mark.slow, needs_spark])])
def test_the_tables_of_the_process_page_on_an_engine_equal_pandas(tmp_path, monkeypatch, engine):
    """With the review on DuckDB (Polars, Spark), the tables of the event log that the
    process and the quality-audits pages show (``process.cycle_table``), and the process
    page's findings, are aggregated in the engine from the run's checked tables: no event
    log is read into memory or cut into visits, and each equals the one pandas computes from
    the raw cycle."""
    from cxassess import process
    from cxassess.cycles import stored_cycle

    monkeypatch.delenv("CXASSESS_ENGINE", raising=False)
    now, old = load_cycle(SAMPLE, "2026Q3"), load_cycle(SAMPLE, "2026Q2")
    expected = {name: process.cycle_table(now, name) for name in process.CYCLE_TABLES}
    expected_before = process.cycle_table(old, "stage_metrics")
    expected_found = process.findings(now, old)
    assert expected["stage_assessment"]["csat_effect"].notna().any() and len(expected["deviations"]) == 0
    assert any(f.kind == "path_csat" for f in expected_found)
    records = {c.label: store_tables(c, tmp_path / c.label) for c in (now, old)}

    def stored(c):
        return stored_cycle(c.config, c.label, tmp_path / c.label, records[c.label])

    def refuse(*args, **kwargs):
        raise AssertionError("an event log was cut into visits in memory")

    monkeypatch.setenv("CXASSESS_ENGINE", engine)
    monkeypatch.setattr(process, "process_log", refuse)
    first, first_before = stored(now), stored(old)
    got = {name: process.cycle_table(first, name) for name in process.CYCLE_TABLES}
    _assert_close(expected_before, process.cycle_table(first_before, "stage_metrics"), "stage_metrics before")
    found = process.findings(first, first_before)
    lazy = {"duckdb": "DuckDBPyRelation", "polars": "LazyFrame", "spark": "DataFrame"}[engine]
    assert type(engines.on_engine(first).events).__name__ == lazy
    assert first.tables.unread("events") is not None and first_before.tables.unread("events") is not None
    _assert_close(expected["stage_metrics"], got["stage_metrics"], "stage_metrics")
    _assert_assessment(expected["stage_assessment"], got["stage_assessment"], "stage_assessment")
    for name in ("stage_flow", "conformance", "deviations"):
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)
    assert [(f.kind, f.what, f.evidence) for f in found] == [(f.kind, f.what, f.evidence) for f in expected_found]


def test_the_kpis_of_a_review_runs_stored_cycle_on_duckdb_equal_pandas(tmp_path, monkeypatch):
    """A review run's cycle (its checked tables stored as Parquet) on DuckDB: the escalation
    flags read the engine's event log whole (a selection of its columns is pandas' only)
    and every KPI equals pandas'."""
    from cxassess.cycles import stored_cycle

    monkeypatch.delenv("CXASSESS_ENGINE", raising=False)
    q3 = load_cycle(SAMPLE, "2026Q3")
    expected = kpis.cycle_kpis(q3)
    assert "escalation_rate" in set(expected.loc[expected["note"] == "", "kpi"])
    record = store_tables(q3, tmp_path)
    monkeypatch.setenv("CXASSESS_ENGINE", "duckdb")
    stored = stored_cycle(q3.config, "2026Q3", tmp_path, record)
    got = kpis.cycle_kpis(stored)
    assert stored.tables.unread("events") is not None
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


@pytest.mark.slow
def test_the_process_page_of_a_review_on_duckdb_shows_what_it_shows_on_pandas(sample_review, tmp_path, monkeypatch):
    """make report ENGINE=duckdb: the process page, run on DuckDB, builds no event log in
    memory (its kernel refuses to) and shows the page of the review on pandas (the
    session's review of the sample): the same text, tables and charts, and the same
    findings (their figures to 1e-12 relative)."""
    import json
    import re

    import nbformat

    from cxassess.report import run_review

    from .conftest import REPO

    def page(folder: Path) -> str:  # the page without the ids drawn anew by each run and the links to the others
        text = (folder / "10_process_stages.html").read_text(encoding="utf-8")
        return re.sub(r"T_[0-9a-f]{5}|cell-id=[0-9a-f]+|<nav class=\"cx-nav\">.*?</nav>", "", text, flags=re.S)

    def found(folder: Path) -> list[dict]:
        return json.loads((folder / "findings" / "10_process_stages.json").read_text(encoding="utf-8"))["findings"]

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbformat.read(REPO / "notebooks" / "10_process_stages.ipynb", as_version=4)
    setup = next(c for c in book.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
    setup.source = ("import cxassess.process\n\n\n"  # no input shown on the page: the same page
                    "def refuse(*args, **kwargs):\n"
                    "    raise AssertionError('an event log was cut into visits in memory')\n\n\n"
                    "cxassess.process.process_log = refuse\n" + setup.source)
    nbformat.write(book, notebooks / "10_process_stages.ipynb")
    monkeypatch.setenv("CXASSESS_ENGINE", "duckdb")
    duck = run_review(SAMPLE, "2026Q3", notebooks=notebooks, reports=tmp_path / "reports", echo=lambda _: None)
    assert page(duck) == page(sample_review)
    expected, got = found(sample_review), found(duck)
    assert len(expected) >= 3
    for left, right in zip(expected, got, strict=True):
        assert {k: v for k, v in right.items() if k != "figures"} == {k: v for k, v in left.items() if k != "figures"}
        figures, figures_before = _flat(right["figures"]), _flat(left["figures"])
        assert figures.keys() == figures_before.keys()
        for key, value in figures_before.items():
            assert figures[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key


def _flat(figures: dict, prefix: str = "") -> dict:
    """A finding's figures with the nested ones named by their path (``groups.True.n``)."""
    out = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out

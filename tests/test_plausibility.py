"""Plausibility checks on planted faults: a wrong time zone, an immature previous cycle, an
administrative activity after resolution. Each must warn with the figure (computed here in
plain pandas), turn the affected verdicts into "not comparable" with the reason, and leave
everything else alone; the untouched sample must raise no warning."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest

from cxassess import kpis, plausibility
from cxassess.config import ReviewConfig
from cxassess.cycles import load_cycle, with_derived_tickets
from cxassess.eventlog import tickets_from_events

from .conftest import SAMPLE

BUSINESS = {"frt_business_hours", "ttr_business_hours", "backlog_age_business_hours", "sla"}


@pytest.fixture(scope="module")
def cycles():
    q3 = load_cycle(SAMPLE, "2026Q3")
    return q3, q3.load_previous()


def with_config(cycle, **changes):
    raw = copy.deepcopy(cycle.config.raw)
    for path, value in changes.items():
        node = raw
        *parents, key = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[key] = value
    return dataclasses.replace(cycle, config=ReviewConfig(path=cycle.config.path, raw=raw))


def misread_zone(cycle, written_in: str):
    """The cycle as it reads when the export's naive times were written in ``written_in``
    but review.yml says the dataset's zone: every instant is shifted by the difference."""
    zone = cycle.config.timezone

    def shift(s: pd.Series) -> pd.Series:
        return s.dt.tz_convert(written_in).dt.tz_localize(None).dt.tz_localize(
            zone, ambiguous="NaT", nonexistent="shift_forward")

    tables = {}
    for name, df in cycle.tables.items():
        df = df.copy()
        for column in df.columns:
            if isinstance(df[column].dtype, pd.DatetimeTZDtype):
                df[column] = shift(df[column])
        tables[name] = df
    return dataclasses.replace(cycle, tables=tables)


def test_the_sample_is_plausible(cycles):
    q3, q2 = cycles
    table = plausibility.checks(q3, q2)
    assert (table["status"] != "warning").all()
    events_only = with_derived_tickets(dataclasses.replace(
        load_cycle(SAMPLE, "2026Q3", tables=("events",)), files={}))
    assert plausibility.after_resolution(events_only)["status"] == "ok"  # 'Reopened' is real rework
    card = kpis.scorecard(q3, q2)
    assert not card["verdict"].str.startswith("not comparable").any()


def test_a_wrong_time_zone_flags_the_business_clock(cycles):
    q3, q2 = cycles
    now, before = misread_zone(q3, "America/Los_Angeles"), misread_zone(q2, "America/Los_Angeles")
    # the oracle: agent replies and resolutions outside Mon-Fri 8-18, Sat 9-13 or on a holiday, in plain pandas
    p = q3.config.process
    ev = now.events[now.events["activity"].isin({*p.first_response_activities, *p.agent_reply_activities,
                                                 *p.resolution_activities})]
    local = ev["timestamp"].dt.tz_convert("Europe/Berlin")
    hour = local.dt.hour + local.dt.minute / 60 + local.dt.second / 3600
    day = local.dt.weekday
    holidays = {str(d) for d in q3.config.holidays}
    inside = (((day <= 4) & (hour >= 8) & (hour < 18)) | ((day == 5) & (hour >= 9) & (hour < 13))) \
        & ~local.dt.strftime("%Y-%m-%d").isin(holidays)
    expected = 1 - inside.mean()
    assert expected > 0.5
    row = plausibility.outside_hours(now)
    assert row["status"] == "warning"
    assert row["figure"] == pytest.approx(expected, abs=1e-9)
    assert "Europe/Berlin" in row["finding"] and "timezone" in row["fix"]
    assert plausibility.clock_warning(plausibility.checks(now, before)).startswith("Business clock doubtful")
    card = kpis.scorecard(now, before)
    verdicts = dict(zip(card["kpi"], card["verdict"], strict=False))
    for kpi in BUSINESS:
        assert verdicts[kpi] == "not comparable: activity mostly outside working hours (time zone or calendar wrong?)"
    assert verdicts["transfer_rate"] == "worsened"  # unaffected by the clock


def test_an_immature_previous_cycle_makes_every_comparison_not_comparable(cycles):
    q3, q2 = cycles
    cut = q2.start + pd.Timedelta(days=3)
    t = q2.tickets.copy()
    t["resolved_at"] = t["resolved_at"].where(t["resolved_at"] < cut)  # exported three days in
    immature = dataclasses.replace(q2, tables={**q2.tables, "tickets": t})
    share = t["resolved_at"].isna().sum() / len(t)
    assert share > 0.9
    row = plausibility.previous_maturity(immature, q3)
    assert row["status"] == "warning" and row["figure"] == pytest.approx(share)
    assert row["finding"] == f"previous cycle incomplete ({share:.0%} open at its end)"
    card = kpis.scorecard(q3, immature)
    judged = card[card["note"] == ""]
    assert (judged["verdict"] == f"not comparable: previous cycle incomplete ({share:.0%} open at its end)").all()
    # the figures of the cycle itself do not change
    pd.testing.assert_series_equal(card["value"], kpis.scorecard(q3, q2)["value"])
    stages = q3.config.process
    from cxassess import process

    m_now, m_before = process.stage_metrics(q3.events, stages), process.stage_metrics(q2.events, stages)
    reason = plausibility.not_comparable(plausibility.checks(q3, immature))["*"]
    compared = process.compare_stages(m_now, m_before, not_comparable=reason)
    flat = compared["verdict"] == ""  # a stage of 0 h in both cycles (the survey): nothing to compare
    assert compared.loc[flat, "median_hours"].eq(0).all() and compared.loc[flat, "median_before"].eq(0).all()
    assert (compared.loc[~flat, "verdict"] == f"not comparable: {reason}").all() and (~flat).sum() >= 4


def test_a_previous_cycle_below_min_n_is_not_comparable(cycles):
    q3, q2 = cycles
    small = dataclasses.replace(q2, tables={**q2.tables, "tickets": q2.tickets.head(20)})
    row = plausibility.previous_maturity(small, q3)
    assert row["status"] == "warning" and "too small (20 tickets, min_n 30)" in row["finding"]


def test_an_administrative_activity_after_resolution_is_named(cycles):
    q3, _ = cycles
    base = load_cycle(SAMPLE, "2026Q3", tables=("events",))
    events = base.events
    p = q3.config.process
    resolved = events[events["activity"].isin(p.resolution_activities)].groupby("ticket_id")["timestamp"].max()
    rng = np.random.default_rng(7)
    chosen = resolved.sample(frac=0.35, random_state=rng)
    planted = pd.DataFrame({"ticket_id": chosen.index, "timestamp": chosen.to_numpy() + pd.Timedelta(minutes=5),
                            "activity": "Record updated", "stage": "resolution", "team": np.nan, "agent_id": np.nan})
    noisy = pd.concat([events, planted.astype({c: events[c].dtype for c in planted.columns})], ignore_index=True)
    cycle = with_derived_tickets(dataclasses.replace(base, tables={"events": noisy}, files={}))
    clean = with_derived_tickets(dataclasses.replace(base, tables={"events": events}, files={}))
    row = plausibility.after_resolution(cycle)
    assert row["status"] == "warning" and "'Record updated'" in row["finding"]
    assert "non_work_activities" in row["fix"]
    card = kpis.scorecard(cycle, clean).set_index("kpi")
    assert card.at["reopen_rate", "verdict"] == \
        "not comparable: reopens count administrative activity after resolution"
    assert card.at["reopen_rate", "value"] > 0.25  # the planted activity counts as rework
    # listed as not work, it no longer reopens anything: the reopen rate is the clean one
    activities = {**q3.config.raw["process"]["activities"], "Record updated": "resolution"}
    fixed = with_config(cycle, **{"process.activities": activities, "process.non_work_activities": ["Record updated"]})
    fixed = with_derived_tickets(dataclasses.replace(fixed, tables={"events": noisy}, derived=(), files={}))
    assert plausibility.after_resolution(fixed)["status"] == "ok"
    expected = tickets_from_events(events, p)
    reopened = expected["reopens"].gt(0) & (expected["resolved_at"].notna() | expected["reopens"].gt(0))
    resolved_n = (expected["resolved_at"].notna() | expected["reopens"].gt(0)).sum()
    fixed_card = kpis.cycle_kpis(fixed).set_index("kpi")
    assert fixed_card.at["reopen_rate", "value"] == pytest.approx(reopened.sum() / resolved_n)

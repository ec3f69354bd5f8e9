"""CES, FCR, one-touch, escalation, SLA, retention, backlog and the scorecard: golden values
computed by hand, the same tables from pandas and Polars, and the real public data sets."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats as st

from cxassess import kpis, registry
from cxassess.calendar import BusinessCalendar
from cxassess.config import SlaPolicy
from cxassess.cycles import load_cycle
from cxassess.errors import ConfigError
from cxassess.stats import mean_interval, se_from_interval, target_status, wilson_interval

from .conftest import SAMPLE, as_pandas, both, shared_file

BERLIN = "Europe/Berlin"


def berlin(*stamps: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps)).tz_localize(BERLIN))


# --- satisfaction: CES ----------------------------------------------------------------


@pytest.mark.parametrize(("scale", "scores", "agree"), [(7, [1, 4, 5, 7, 7], 3), (5, [1, 3, 4, 5], 2)])
def test_ces_agree_per_scale(scale, scores, agree):
    s = pd.DataFrame({"score": scores, "scale": scale, "kind": "ces"})
    for frame in both(s):
        r = as_pandas(kpis.ces(frame))
        assert (r.loc[0, "hits"], r.loc[0, "n"]) == (agree, len(scores))


def test_ces_mean_with_its_t_interval_and_unanswered_left_out():
    s = pd.DataFrame({"score": [7, 6, 5, 3, 7, None, 2], "kind": ["ces"] * 6 + ["csat"], "scale": 7})
    x = np.array([7, 6, 5, 3, 7.0])
    ref = st.ttest_1samp(x, 0).confidence_interval(0.95)  # an independent t interval
    for frame in both(s):
        r = as_pandas(kpis.ces(frame, measure="mean"))
        assert r.loc[0, "kpi"] == "ces_mean" and r.loc[0, "n"] == 5
        assert r.loc[0, "value"] == pytest.approx(5.6)
        assert (r.loc[0, "ci_low"], r.loc[0, "ci_high"]) == pytest.approx((ref.low, ref.high))
        assert r.loc[0, "se"] == pytest.approx(x.std(ddof=1) / np.sqrt(5))


def test_ces_n_one_has_no_interval_and_an_unknown_scale_is_refused():
    r = kpis.ces(pd.DataFrame({"score": [6.0], "kind": "ces", "scale": 7}), measure="mean")
    assert r.loc[0, "value"] == 6.0 and np.isnan(r.loc[0, "ci_low"]) and np.isnan(r.loc[0, "se"])
    with pytest.raises(ValueError, match="no rule for a 4-point scale"):
        kpis.ces(pd.DataFrame({"score": [3.0], "kind": "ces", "scale": 4}))
    with pytest.raises(ValueError, match="no rule for a 6-point scale"):
        kpis.csat(pd.DataFrame({"score": [3.0], "kind": "csat", "scale": 6}))


def test_top_box_ties_at_the_threshold_count_as_top():
    s = pd.DataFrame({"score": [4.0, 4.0, 3.0, 3.0], "scale": 5, "kind": "csat"})
    assert kpis.csat(s).loc[0, "hits"] == 2


# --- resolution: FCR, one-touch, escalation -------------------------------------------------


@pytest.fixture
def resolution_tickets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "D", "E", "F"],
            "team": ["x", "x", "x", "y", "y", "z"],
            "reopens": [0, 1, 0, 0, 0, 0],
            "transfers": [0, 0, 2, 0, 0, 0],
            "agent_replies": [1, 3, 2, 0, 2, 1],
            "resolved_at": pd.to_datetime(["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04", None, None]),
        }
    )


def test_fcr_and_one_touch_by_hand_with_an_empty_group(resolution_tickets):
    for frame in both(resolution_tickets):
        f = as_pandas(kpis.fcr(frame, by="team"))
        # x: A, B, C resolved; only A has no reopen and no transfer -> 1/3
        # y: D resolved (E open) -> 1/1;  z: F open -> no resolved ticket, kept with n = 0
        assert f["team"].tolist() == ["x", "y", "z"]
        assert f["hits"].tolist() == [1, 1, 0] and f["n"].tolist() == [3, 1, 0]
        assert f["value"].iloc[0] == pytest.approx(1 / 3) and np.isnan(f["value"].iloc[2])
        assert not f["contacts_checked"].any()
        o = as_pandas(kpis.one_touch(frame, by="team"))
        # x: A (1 reply) of A, B, C;  y: D (0 replies)
        assert o["hits"].tolist() == [1, 1, 0] and o["n"].tolist() == [3, 1, 0]


def test_fcr_applies_the_contact_limit_when_contacts_are_known(resolution_tickets):
    t = resolution_tickets.assign(contacts=[2, 1, 1, 1, 1, 1])
    f = kpis.fcr(t)
    # resolved A-D; no reopen and no transfer: A, D; A took 2 contacts -> only D
    assert (f.loc[0, "hits"], f.loc[0, "n"], bool(f.loc[0, "contacts_checked"])) == (1, 4, True)
    assert kpis.fcr(t, max_contacts=2).loc[0, "hits"] == 2


def test_escalation_is_reaching_a_specialist_stage(resolution_tickets):
    events = pd.DataFrame(
        {"ticket_id": ["A", "A", "B", "C", "C", "C"],
         "stage": ["intake", "first_level", "intake", "intake", "specialist", "specialist"]}
    )
    for t, ev in zip(both(resolution_tickets), both(events), strict=True):
        flagged = kpis.flag_escalated(t, ev, ["specialist"])
        assert as_pandas(flagged)["escalated"].tolist() == [False, False, True, False, False, False]
        r = as_pandas(kpis.escalation_rate(flagged))
        assert (r.loc[0, "hits"], r.loc[0, "n"]) == (1, 6)


# --- SLA: business clock across DST and a holiday --------------------------------------------


@pytest.fixture
def weekday_calendar() -> BusinessCalendar:
    hours = {d: (dt.time(8), dt.time(18)) for d in range(5)}
    return BusinessCalendar(BERLIN, hours, frozenset({dt.date(2026, 5, 25)}))


def test_sla_on_the_business_clock_across_the_autumn_dst_change_and_a_holiday(weekday_calendar):
    t = pd.DataFrame(
        {
            # Fri 17:00 -> Mon 09:00 across the night clocks go back (25 Oct 2026):
            #   business 1 h (Fri 17-18) + 1 h (Mon 8-9) = 2 h; calendar 64 h + 1 h (DST) = 65 h
            # Fri 17:30 -> Tue 08:30 across Whit Monday (a holiday): 0.5 h + 0.5 h = 1 h
            # Mon 08:00 -> Mon 13:00: 5 h, over the 4 h target
            "created_at": berlin("2026-10-23 17:00", "2026-05-22 17:30", "2026-07-06 08:00"),
            "first_response_at": berlin("2026-10-26 09:00", "2026-05-26 08:30", "2026-07-06 13:00"),
            "channel": ["email", "email", "web"],
            "priority": "normal",
        }
    )
    censor = pd.Timestamp("2026-12-31", tz=BERLIN)
    business = SlaPolicy("reply", "first_response", hours=4, clock="business")
    calendar = SlaPolicy("reply 48h", "first_response", hours=48, clock="calendar")
    assert kpis.sla_outcome(t, business, censor_at=censor, calendar=weekday_calendar).tolist() == [
        "achieved", "achieved", "breached"]
    # calendar clock: 65 h, 87 h (Fri 17:30 to Tue 08:30 in summer time) and 5 h
    assert kpis.sla_outcome(t, calendar, censor_at=censor).tolist() == ["breached", "breached", "achieved"]
    for frame in both(t):
        r = as_pandas(kpis.sla_attainment(frame, [business, calendar], censor_at=censor, calendar=weekday_calendar))
        assert r["policy"].tolist() == ["reply", "reply 48h"]
        assert r["hits"].tolist() == [2, 1] and r["n"].tolist() == [3, 3]
        lo, hi = wilson_interval(2, 3)
        assert (r.loc[0, "ci_low"], r.loc[0, "ci_high"]) == pytest.approx((float(lo), float(hi)))


def test_sla_open_tickets_are_breached_once_late_else_pending(weekday_calendar):
    t = pd.DataFrame(
        {
            "created_at": berlin("2026-09-30 09:00", "2026-09-30 16:00", "2026-09-30 10:00", "2026-09-30 10:00"),
            "resolved_at": berlin(None, None, "2026-09-30 11:00", None),
            "channel": ["chat", "chat", "chat", "phone"],
            "priority": ["high", "high", "high", "low"],
        }
    )
    # cycle ends Thu 1 Oct 00:00: the first open ticket waited 9 business hours (> 8), the
    # second 2 (< 8, pending); the third was resolved in 1 h; the fourth is not covered
    policy = SlaPolicy("urgent fix", "resolution", hours=8, priorities=("high", "urgent"))
    end = pd.Timestamp("2026-10-01", tz=BERLIN)
    assert kpis.sla_outcome(t, policy, censor_at=end, calendar=weekday_calendar).tolist() == [
        "breached", "pending", "achieved", None]
    for frame in both(t):
        r = as_pandas(kpis.sla_attainment(frame, [policy], censor_at=end, calendar=weekday_calendar, by="channel"))
        assert r[["channel", "n", "hits", "pending"]].values.tolist() == [["chat", 2, 1, 1]]
    with pytest.raises(ValueError, match="no calendar was given"):
        kpis.sla_outcome(t, policy, censor_at=end)


def test_sla_by_segment_with_missing_values_and_uncovered_groups_by_hand(weekday_calendar):
    # Mon 6 July 2026; the export is taken Tue 7 July 00:00 (10 business hours after Mon 8:00)
    t = pd.DataFrame(
        {
            "created_at": berlin(*["2026-07-06 08:00"] * 7),
            "first_response_at": berlin("2026-07-06 09:00", "2026-07-06 13:00", None, None,
                                        "2026-07-06 08:30", "2026-07-06 08:10", None),
            "channel": ["chat", "chat", "chat", None, "email", None, "phone"],
            "priority": ["high", None, "low", "low", "high", "high", "low"],
        }
    )
    end = pd.Timestamp("2026-07-07", tz=BERLIN)
    late = SlaPolicy("reply", "first_response", hours=2, clock="business", channels=("chat", "email"))
    slow = SlaPolicy("reply slow", "first_response", hours=12, clock="business")
    # late covers the chat and email tickets: chat 1 h (achieved), 5 h (breached), open 10 h
    # (breached); email 0.5 h (achieved). slow covers all: open tickets waited 10 h < 12 h (pending)
    expected = {
        ("reply", "high"): (2, 2, 0), ("reply", "low"): (0, 1, 0), ("reply", None): (0, 1, 0),
        ("reply slow", "high"): (3, 3, 0), ("reply slow", "low"): (0, 0, 3), ("reply slow", None): (1, 1, 0),
    }
    for frame in both(t):
        r = as_pandas(kpis.sla_attainment(frame, [late, slow], censor_at=end, calendar=weekday_calendar,
                                          by="priority"))
        got = {(p, None if pd.isna(k) else k): (h, n, w)
               for p, k, h, n, w in r[["policy", "priority", "hits", "n", "pending"]].itertuples(index=False)}
        assert got == expected
        # nulls first within a policy, as every share of the scorecard orders its groups
        assert [None if pd.isna(k) else k for k in r["priority"]] == [None, "high", "low"] * 2
        low = r[(r["policy"] == "reply slow") & (r["priority"] == "low")]
        assert low["value"].isna().all() and low["n"].tolist() == [0]
        by_channel = as_pandas(kpis.sla_attainment(frame, [late], censor_at=end, calendar=weekday_calendar,
                                                   by="channel"))
        assert by_channel[["channel", "hits", "n"]].values.tolist() == [["chat", 1, 3], ["email", 1, 1]]


def test_sla_policies_in_review_yml_are_checked(tmp_path):
    from cxassess.config import load_config

    text = (SAMPLE / "review.yml").read_text(encoding="utf-8")
    assert [p.name for p in load_config(SAMPLE).sla][0] == "first reply chat and phone"
    bad = text.replace("metric: first_response, hours: 0.5", "metric: first_reply, hours: 0.5")
    (tmp_path / "review.yml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="metric 'first_reply' is not first_response or resolution"):
        load_config(tmp_path)


# --- customers: retention and churn ----------------------------------------------------


def test_retention_and_churn_by_hand_per_segment():
    c = pd.DataFrame(
        {
            "segment": ["a", "a", "a", "a", "b", "b"],
            "active_from": berlin("2025-01-01", "2025-02-01", "2026-07-15", "2026-08-01", "2024-01-01", "2026-09-30"),
            "active_to": berlin(None, "2026-08-20", None, "2026-09-10", "2026-10-01", None),
        }
    )
    start, end = pd.Timestamp("2026-07-01", tz=BERLIN), pd.Timestamp("2026-10-01", tz=BERLIN)
    for frame in both(c):
        r = as_pandas(kpis.retention(frame, start=start, end=end, by="segment"))
        a = r[r["segment"] == "a"].set_index("kpi")
        # a: S = 2 (rows 1, 2), N = 2 (rows 3, 4), E = 2 (rows 1, 3), lost = 1 (row 2)
        assert a.loc["retention", ["at_start", "new", "at_end", "lost"]].tolist() == [2, 2, 2, 1]
        assert a.loc["retention", "value"] == 0.0  # (E - N) / S = 0: the new customer 4 left too
        assert a.loc["churn", "value"] == 0.5
        b = r[r["segment"] == "b"].set_index("kpi")
        # b: row 5 leaves exactly at the end (still a customer in the cycle), row 6 is new
        assert b.loc["retention", ["at_start", "new", "at_end", "lost"]].tolist() == [1, 1, 2, 0]
        assert b.loc["retention", "value"] == 1.0 and b.loc["churn", "value"] == 0.0


def test_telco_retention_and_churn_per_contract_equal_a_count_customer_by_customer():
    """Real data: IBM's telco table (tenure in months, Churn = left in the last month) laid out
    on a calendar so that every case occurs: customers joined before the quarter, new in it,
    leaving in it (some of them new), and staying. The expected figures count each customer's
    dates one by one in plain Python, from the definitions (not from the churn column)."""
    raw = pd.read_csv(shared_file("telco-churn/Telco-Customer-Churn.csv"))
    start, end = pd.Timestamp("2026-07-01", tz="UTC"), pd.Timestamp("2026-10-01", tz="UTC")
    # joined `tenure` months before the export of 2026-10-15; churners left 1-90 days
    # before it (by their row number), the others are still customers
    export = pd.Timestamp("2026-10-15", tz="UTC")
    joined = export - pd.to_timedelta(raw["tenure"] * 30 + 1, unit="D")
    left = pd.Series(export - pd.to_timedelta(1 + raw.index % 90, unit="D"), index=raw.index).where(
        raw["Churn"] == "Yes")
    customers = pd.DataFrame({"customer_id": raw["customerID"], "segment": raw["Contract"],
                              "active_from": joined, "active_to": left})
    expected: dict[str, dict[str, int]] = {}
    for segment, since, until in zip(raw["Contract"], joined, left, strict=True):
        c = expected.setdefault(segment, {"S": 0, "N": 0, "E": 0, "lost": 0})
        gone_at_start, gone_at_end = (pd.notna(until) and until < t for t in (start, end))
        if since < start and not gone_at_start:
            c["S"] += 1
            c["lost"] += gone_at_end
        c["N"] += start <= since < end
        c["E"] += since < end and not gone_at_end
    assert all(c["lost"] > 0 and c["N"] > 0 for c in expected.values())  # every case occurs
    for frame in both(customers):
        r = as_pandas(kpis.retention(frame, start=start, end=end, by="segment"))
        for kpi, figure in (("retention", lambda c: (c["E"] - c["N"]) / c["S"]), ("churn", lambda c: c["lost"] / c["S"])):
            got = r[r["kpi"] == kpi].set_index("segment")
            assert got["value"].to_dict() == pytest.approx({s: figure(c) for s, c in expected.items()}, abs=1e-15)
            assert got["n"].to_dict() == {s: c["S"] for s, c in expected.items()}


def test_airline_top_two_box_per_item_equals_a_direct_count():
    """Real data: 14 service items rated 1-5, 0 = not applicable (not an answer)."""
    raw = pd.read_csv(shared_file("airline-survey/airline_passenger_satisfaction.csv"))
    items = raw.columns[raw.columns.get_loc("Inflight wifi service"): raw.columns.get_loc("Cleanliness") + 1]
    assert len(items) == 14
    long = raw.melt(id_vars=["id"], value_vars=list(items), var_name="item", value_name="score")
    long["score"] = long["score"].where(long["score"] > 0).astype("float64")  # 0: not applicable
    long["scale"] = 5
    for frame in both(long):
        r = as_pandas(kpis.csat(frame, by="item", kind=None)).set_index("item")
        for item in items:
            answered = raw.loc[raw[item] > 0, item]
            assert r.loc[item, "n"] == len(answered)
            assert r.loc[item, "hits"] == (answered >= 4).sum()
    assert r["value"].idxmax() == "Inflight service" and r["value"].idxmin() == "Inflight wifi service"


# --- backlog ---------------------------------------------------------------------------


def test_backlog_counts_tickets_open_at_the_end_and_their_age():
    t = pd.DataFrame(
        {
            "created_at": berlin("2026-09-30 10:00", "2026-09-29 12:00", "2026-09-30 20:00", "2026-09-28 08:00"),
            "resolved_at": berlin(None, "2026-10-02 09:00", "2026-09-30 21:00", None),
            "team": ["x", "x", "y", "y"],
        }
    )
    end = pd.Timestamp("2026-10-01", tz=BERLIN)
    for frame in both(t):
        r = as_pandas(kpis.backlog(frame, at=end, by="team"))
        # x: rows 1 (14 h) and 2 (resolved after the end: 36 h) -> median 25;  y: row 4, 64 h
        assert r["n"].tolist() == [2, 1]
        assert r["value"].tolist() == [25.0, 64.0] and r["oldest"].tolist() == [36.0, 64.0]


# --- statistics of the scorecard ----------------------------------------------------------


def test_mean_interval_and_se_from_interval():
    x = np.array([3.0, 5, 6, 6, 7, 9, 2])
    mean, lo, hi, se = mean_interval(x.sum(), (x**2).sum(), len(x))
    ref = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert (float(lo), float(hi)) == pytest.approx(ref) and float(se) == pytest.approx(st.sem(x))
    assert float(se_from_interval(10 - 1.959964, 10 + 1.959964)) == pytest.approx(1.0, abs=1e-6)


def test_target_status_reads_the_interval():
    got = target_status([0.10, 0.20, 0.26, np.nan], [0.20, 0.30, 0.30, np.nan], 0.25, higher_is_better=False)
    assert got.tolist() == ["met", "unclear", "missed", "not measured"]


def test_change_of_means_and_medians_uses_their_se():
    now = pd.DataFrame({"kpi": ["ces_mean"], "value": [5.0], "ci_low": [4.8], "ci_high": [5.2], "n": [100], "se": [0.1]})
    before = now.assign(value=5.5, se=0.2)
    r = kpis.change(now, before)
    half = 1.959964 * np.sqrt(0.1**2 + 0.2**2)
    assert (r.loc[0, "change_low"], r.loc[0, "change_high"]) == pytest.approx((-0.5 - half, -0.5 + half))
    assert r.loc[0, "verdict"] == "worsened"  # -0.938 to -0.062: CES fell for real


# --- the scorecard on the sample ----------------------------------------------------------


@pytest.fixture(scope="module")
def sample_cycles():
    q3 = load_cycle(SAMPLE, "2026Q3")
    return q3, q3.load_previous()


def test_scorecard_finds_the_planted_changes_and_nothing_where_none_was_planted(sample_cycles):
    q3, q2 = sample_cycles
    card = kpis.scorecard(q3, q2, by="team").set_index(["team", "kpi"])
    south = card.loc[("tier1_south", "transfer_rate")]
    assert south["verdict"] == "worsened" and south["change_low"] > 0 and south["target_status"] == "missed"
    north = card.loc[("tier1_north", "transfer_rate")]
    assert north["verdict"] == "within noise" and north["change_low"] < 0 < north["change_high"]
    whole = kpis.scorecard(q3, q2).set_index("kpi")
    # the specialist bottleneck of 2026Q3 (truth 4) lengthens the time to resolution
    assert whole.loc["ttr_business_hours", "verdict"] == "worsened"
    # retention has no planted change
    assert whole.loc["retention", "verdict"] == "within noise"
    # every share is a count of the checked tables
    t = q3.tickets
    assert whole.loc["transfer_rate", "value"] == (t["transfers"] > 0).mean()
    assert whole.loc["open_share", "value"] == t["resolved_at"].isna().mean()
    assert set(whole.loc["sla", "policy"]) == {p.name for p in q3.config.sla}


def test_scorecard_says_which_table_a_kpi_needs(sample_cycles):
    q3, _ = sample_cycles
    only_tickets = load_cycle(SAMPLE, "2026Q3", tables=("tickets",))
    card = kpis.scorecard(only_tickets).set_index("kpi")
    assert card.loc["csat", "note"] == "not available: needs `surveys` (no such table in this cycle)"
    assert card.loc["csat", "verdict"] == "not available"
    assert card.loc["retention", "note"] == "not available: needs `customers` (no such table in this cycle)"
    assert "`tickets.escalated`" in card.loc["escalation_rate", "note"]  # no events to derive it from
    assert np.isnan(card.loc["csat", "value"])
    assert card.loc["transfer_rate", "verdict"] == "not comparable: no previous cycle"


def test_every_calculator_gives_the_same_table_from_pandas_and_polars(sample_cycles):
    q3, _ = sample_cycles
    t, s, c = q3.tickets, q3.surveys, q3.customers
    t = kpis.flag_escalated(t, q3.events, ["specialist"])
    s = s.merge(t[["ticket_id", "channel"]], on="ticket_id")
    calendar = BusinessCalendar.from_config(q3.config)
    end = q3.end
    calls = {
        "csat": (s, lambda f: kpis.csat(f, by="channel")),
        "nps": (s, lambda f: kpis.nps(f, by="channel")),
        "ces agree": (s, lambda f: kpis.ces(f, by="channel")),
        "ces mean": (s, lambda f: kpis.ces(f, by="channel", measure="mean")),
        "fcr": (t, lambda f: kpis.fcr(f, by="channel")),
        "one touch": (t, lambda f: kpis.one_touch(f, by="channel")),
        "escalation": (t, lambda f: kpis.escalation_rate(f, by=["team", "priority"])),
        "sla": (t, lambda f: kpis.sla_attainment(f, q3.config.sla, censor_at=end, calendar=calendar, by="team")),
        "frt": (t, lambda f: kpis.first_response_time(f, censor_at=end, calendar=calendar, by="channel")),
        "ttr": (t, lambda f: kpis.resolution_time(f, censor_at=end, calendar=calendar, by="channel")),
        "backlog": (t, lambda f: kpis.backlog(f, at=end, by="channel")),
        "retention": (c, lambda f: kpis.retention(f, start=q3.start, end=end, by="segment")),
    }
    for name, (frame, call) in calls.items():
        a = call(frame).reset_index(drop=True)
        b = call(pl.from_pandas(frame))
        assert isinstance(b, pl.DataFrame), name
        pd.testing.assert_frame_equal(a, b.to_pandas(), check_dtype=False, obj=name)


def test_the_scorecard_of_polars_tables_equals_the_pandas_one(sample_cycles):
    import dataclasses

    q3, _ = sample_cycles
    as_polars = dataclasses.replace(q3, tables={k: pl.from_pandas(v) for k, v in q3.tables.items()})
    pd.testing.assert_frame_equal(kpis.cycle_kpis(as_polars, by="team"), kpis.cycle_kpis(q3, by="team"),
                                  check_dtype=False)


def _drawn_cycle(tickets: int, seed: int):
    """A 2026Q3 cycle of the sample's review.yml drawn with NumPy (tickets, surveys,
    customers; no event log: the escalation flag is drawn per ticket)."""
    from cxassess.config import load_config
    from cxassess.cycles import Cycle, cycle_window

    rng = np.random.default_rng(seed)
    config = load_config(SAMPLE)
    start, end = cycle_window("2026Q3", config.timezone)
    created = start + pd.to_timedelta(np.sort(rng.uniform(0, (end - start).total_seconds(), tickets)), unit="s")
    reply = created + pd.to_timedelta(rng.exponential(3 * 3600, tickets), unit="s")
    resolved = reply + pd.to_timedelta(rng.exponential(30 * 3600, tickets), unit="s")
    t = pd.DataFrame({
        "ticket_id": [f"T{i:05d}" for i in range(tickets)], "created_at": created,
        "channel": rng.choice(["email", "chat", "phone", "web"], tickets).astype(str),
        "priority": rng.choice(["low", "normal", "high", "urgent"], tickets).astype(str),
        "team": rng.choice(["tier1_north", "tier1_south"], tickets).astype(str),
        "first_response_at": pd.Series(reply).where(reply < end), "resolved_at": pd.Series(resolved).where(resolved < end),
        "reopens": rng.binomial(1, 0.07, tickets), "transfers": rng.poisson(0.3, tickets),
        "agent_replies": 1 + rng.poisson(0.6, tickets), "escalated": rng.random(tickets) < 0.25,
    })
    kind = rng.choice(["csat", "nps", "ces"], tickets, p=[0.5, 0.3, 0.2]).astype(str)
    scale = pd.Series(kind).map({"csat": 5, "nps": 11, "ces": 7}).to_numpy()
    low = np.where(scale == 11, 0, 1)
    s = pd.DataFrame({"ticket_id": t["ticket_id"], "sent_at": created, "kind": kind, "scale": scale,
                      "score": np.where(rng.random(tickets) < 0.3, low + rng.integers(0, scale), np.nan)})
    joined = start - pd.to_timedelta(rng.uniform(-30, 2000, tickets // 2), unit="D")
    left = pd.Series(joined + pd.to_timedelta(rng.uniform(0, 3000, tickets // 2), unit="D"))
    c = pd.DataFrame({"customer_id": np.arange(tickets // 2), "active_from": joined, "active_to": left.where(left < end),
                      "segment": "consumer"})
    return Cycle(config=config, label="2026Q3", previous="2026Q2", start=start, end=end,
                 tables={"tickets": t, "surveys": s, "customers": c})


def test_the_scorecard_agrees_with_plain_pandas_where_definitions_match():
    """Values only (no interval), computed here with plain pandas from the definitions."""
    cycle = _drawn_cycle(3000, seed=11)
    t, s, c = cycle.tickets, cycle.surveys, cycle.customers
    answered = s[s["score"].notna()]
    csat, nps, ces = (answered.loc[answered["kind"] == k, "score"] for k in ("csat", "nps", "ces"))
    resolved = t[t["resolved_at"].notna() | (t["reopens"] > 0)]  # a reopened ticket was resolved once
    at_start = (c["active_from"] < cycle.start) & (c["active_to"].isna() | (c["active_to"] >= cycle.start))
    lost = at_start & c["active_to"].notna() & (c["active_to"] < cycle.end)
    plain = {
        "csat": (csat >= 4).mean(), "nps": 100 * ((nps >= 9).mean() - (nps <= 6).mean()),
        "ces_mean": ces.mean(), "ces_agree": (ces >= 5).mean(),
        "fcr": ((resolved["reopens"] == 0) & (resolved["transfers"] == 0)).mean(),
        "one_touch": (resolved["agent_replies"] <= 1).mean(), "reopen_rate": (resolved["reopens"] > 0).mean(),
        "transfer_rate": (t["transfers"] > 0).mean(), "escalation_rate": t["escalated"].mean(),
        "open_share": t["resolved_at"].isna().mean(), "churn": lost.sum() / at_start.sum(),
    }
    ours = kpis.cycle_kpis(cycle)
    values = ours[ours["policy"].isna()].set_index("kpi")["value"]
    for kpi, expected in plain.items():
        assert values[kpi] == pytest.approx(expected, rel=1e-12), kpi


def test_scorecard_on_tickets_derived_from_events_names_the_missing_columns(sample_cycles):
    import dataclasses

    from cxassess.eventlog import tickets_from_events

    q3, _ = sample_cycles
    derived = tickets_from_events(q3.events, q3.config.process)  # no channel, no priority
    card = kpis.cycle_kpis(dataclasses.replace(q3, tables={**q3.tables, "tickets": derived}))
    sla = card[card["kpi"] == "sla"].set_index("policy")["note"]
    assert sla["first reply chat and phone"] == "not available: needs `tickets.channel` (no such column)"
    assert sla["resolution urgent and high"] == "not available: needs `tickets.priority` (no such column)"
    # the event log gives the time to first resolution too, censored like the full one
    first = card.set_index("kpi").loc["ttr_first_business_hours"]
    assert first["n"] == len(derived) and first["value"] <= card.set_index("kpi").loc["ttr_business_hours", "value"]
    with pytest.raises(ValueError, match="needs the ticket column"):
        kpis.sla_attainment(derived, q3.config.sla, censor_at=q3.end, calendar=BusinessCalendar.from_config(q3.config))


# --- what moved: one rule for the scorecard and the breakdowns -------------------------------


def test_a_change_resting_on_fewer_than_min_n_is_never_listed_as_moved():
    from cxassess.plots import what_moved

    card = pd.DataFrame({
        "kpi": ["csat", "nps", "fcr", "reopen_rate"], "label": ["CSAT", "NPS", "FCR", "Reopen rate"],
        "value": [0.70, 20.0, 0.60, 0.10], "previous": [0.80, 10.0, 0.50, 0.12], "n": [200, 29, 30, 500],
        "verdict": ["worsened", "improved", "improved", "within noise"],
    })
    # by hand: NPS moved on 29 answers only (min_n 30), reopen rate within noise; worst first
    assert what_moved(card, min_n=30).splitlines() == ["- **CSAT** worsened: 80.0% → 70.0%",
                                                       "- **FCR** improved: 50.0% → 60.0%"]
    assert what_moved(card, min_n=300).startswith("Nothing")


def test_the_breakdown_lists_as_moved_what_the_scorecard_rule_lists(sample_cycles):
    from cxassess.kpis.breakdown import Breakdown
    from cxassess.plots import breakdown_section

    q3, q2 = sample_cycles
    card = kpis.scorecard(q3, q2, by="channel")
    card = card[card["note"] == ""].reset_index(drop=True)
    real = card[card["verdict"].isin(["improved", "worsened"])]
    assert len(real) >= 2
    card.loc[real.index[0], "n"] = 29  # one real change now rests on too few: not listed
    card["small_n"] = card["n"] < 30
    # by hand: a real change (improved, worsened) on at least min_n = 30
    expected = Counter((card.loc[i, "channel"], card.loc[i, "label"]) for i in real.index if card.loc[i, "n"] >= 30)
    assert 0 < sum(expected.values()) < len(real)
    part = Breakdown("channel", card, card, pd.DataFrame({"channel": card["channel"].unique()}), top=12,
                     kpis=["csat"])
    section = breakdown_section(part, min_n=30, moved_rows=len(card))
    said = f"Segments whose KPI moved for real ({sum(expected.values())} of {len(card)} figures):"
    assert section[3].data == said
    listed = section[4].data
    assert Counter(zip(listed["channel"], listed["KPI"], strict=True)) == expected


def test_breakdown_charts_the_kpis_of_the_registry_on_the_clock_of_review_yml(sample_cycles):
    import dataclasses

    q3, q2 = sample_cycles
    part = kpis.breakdown(q3, q2, by="channel")
    assert part.kpis == ["csat", "fcr", "transfer_rate", "reopen_rate", "ttr_business_hours"]  # working hours set
    raw = {k: v for k, v in q3.config.raw.items() if k != "calendar"}  # no working hours
    calendar_only = dataclasses.replace(q3.config, raw=raw)
    assert registry.for_clock(registry.BREAKDOWN_KPIS, calendar_only)[-1] == "ttr_hours"

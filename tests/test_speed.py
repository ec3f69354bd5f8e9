"""Speed KPIs: first response and resolution times, censoring, business time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats as st
from statsmodels.duration.survfunc import SurvfuncRight

from cxassess.calendar import BusinessCalendar
from cxassess.config import load_config
from cxassess.eventlog import tickets_from_events
from cxassess.io import read_table
from cxassess.kpis.speed import first_response_time, kaplan_meier_quantile, resolution_time

from .conftest import FIXTURES, SAMPLE, shared_file

UTC = "UTC"


def product_limit_quantile(t: np.ndarray, done: np.ndarray, p: float) -> float:
    """Kaplan-Meier by hand: S(t) = Π (1 - d_i / n_i) over resolution times; first t with S ≤ 1 - p."""
    s = 1.0
    for u in np.unique(t[done]):
        at_risk = np.sum(t >= u)
        s *= 1 - np.sum((t == u) & done) / at_risk
        if s <= 1 - p + 1e-12:
            return float(u)
    return np.nan


def tickets(hours_to_resolution, team=None) -> pd.DataFrame:
    created = pd.to_datetime(["2026-07-01 00:00"] * len(hours_to_resolution)).tz_localize(UTC)
    t = pd.DataFrame({"created_at": created})
    t["resolved_at"] = t["created_at"] + pd.to_timedelta(hours_to_resolution, unit="h")
    t["first_response_at"] = t["created_at"] + pd.to_timedelta(np.asarray(hours_to_resolution, float) / 2, unit="h")
    if team is not None:
        t["team"] = pd.array(team, dtype="str")
    return t


CENSOR = pd.Timestamp("2026-07-01 04:00", tz=UTC)


def test_kaplan_meier_median_by_hand():
    # resolved at 1, 2, 3, 5 h; one ticket still open at the 4 h export
    # S(1) = 4/5 = 0.8, S(2) = 0.8 · 3/4 = 0.6, S(3) = 0.6 · 2/3 = 0.4 → median 3 h
    # S(5) = 0.4 · (1 - 1/1) = 0 → p90 5 h; resolved-only median (1, 2, 3, 5) = 2.5 h
    r = resolution_time(tickets([1, 2, 3, 5, np.nan]), censor_at=CENSOR).iloc[0]
    assert (r["value"], r["km_p90"], r["resolved_median"], r["open_share"], r["n"]) == (3.0, 5.0, 2.5, 0.2, 5)
    # the interval: first times the pointwise 95 % band (Greenwood's standard error, here
    # from statsmodels) reaches 0.5. Band at 1, 2, 3 h: 0.8 ± 0.35, 0.6 ± 0.43, 0.4 ± 0.43;
    # undefined at 5 h (S = 0). The lower band is below 0.5 from 1 h on; the upper band
    # never reaches 0.5 where it is defined: no upper limit.
    sf = SurvfuncRight(np.array([1, 2, 3, 5, 4.0]), np.array([1, 1, 1, 1, 0]))
    z = st.norm.ppf(0.975)
    low, high = sf.surv_prob - z * sf.surv_prob_se, sf.surv_prob + z * sf.surv_prob_se
    assert r["ci_low"] == sf.surv_times[np.flatnonzero(low <= 0.5)[0]] == 1.0
    assert (high[:3] > 0.5).all() and np.isnan(sf.surv_prob_se[3]) and np.isnan(r["ci_high"])


def test_kaplan_meier_ties_and_not_reached():
    t = np.array([1, 1, 2, 4, 4, 4.0])
    done = np.array([1, 1, 0, 0, 0, 0], bool)  # S(1) = 4/6: the median is never reached
    assert np.isnan(kaplan_meier_quantile(t, done)[0])
    assert kaplan_meier_quantile(t, done, p=0.3)[0] == 1.0
    assert np.isnan(kaplan_meier_quantile(t, np.zeros(6, bool))[0])  # nothing resolved


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kaplan_meier_equals_the_product_limit_by_hand(seed):
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(10, 200), 1)
    done = rng.random(200) < 0.7
    for p in (0.5, 0.9):
        assert kaplan_meier_quantile(t, done, p=p)[0] == product_limit_quantile(t, done, p)


def test_n_zero_and_one():
    empty = first_response_time(tickets([]), censor_at=CENSOR)
    assert empty["n"].iloc[0] == 0 and np.isnan(empty["value"].iloc[0])
    one = resolution_time(tickets([2.0]), censor_at=CENSOR).iloc[0]
    assert one["value"] == 2.0 and one["n"] == 1 and one["open_share"] == 0.0


def test_segments_and_an_empty_group():
    t = tickets([1, 3, np.nan, 2], team=["a", "a", "b", "b"])
    r = resolution_time(t, censor_at=CENSOR, by="team").set_index("team")
    assert r.loc["a", "resolved_median"] == 2.0 and r.loc["b", "open_share"] == 0.5
    t.loc[2, "first_response_at"] = pd.NaT  # team b: one reply after 1 h, one ticket waiting
    f = first_response_time(t, censor_at=CENSOR, by="team").set_index("team")
    # team a: replies after 0.5 and 1.5 h, S(0.5 h) = 1/2: the Kaplan-Meier median is 0.5 h
    # (the first time half have a reply), the plain median of the answered 1 h
    assert (f.loc["a", "value"], f.loc["a", "answered_median"], f.loc["a", "waiting"]) == (0.5, 1.0, 0)
    assert f.loc["b", "waiting"] == 1
    assert f.loc["b", "value"] == 1.0 and f.loc["b", "n"] == 2  # S(1 h) = 1/2: the median


def test_first_response_censors_the_tickets_still_waiting_instead_of_dropping_them():
    """The slow replies are the ones still missing at the export: dropping the waiting
    tickets flatters the desk. Oracle: statsmodels' Kaplan-Meier estimator on durations
    laid out by hand (waiting until the export, or until a resolution without a reply)."""
    rng = np.random.default_rng(7)
    n = 400
    created = pd.Timestamp("2026-07-01", tz=UTC) + pd.to_timedelta(rng.uniform(0, 24 * 80, n), unit="h")
    export = pd.Timestamp("2026-10-01", tz=UTC)
    reply = created + pd.to_timedelta(rng.exponential(30, n), unit="h")
    resolved = reply + pd.to_timedelta(rng.exponential(50, n), unit="h")
    t = pd.DataFrame({"created_at": created, "team": rng.choice(["a", "b"], n)})
    t["first_response_at"] = reply.where(reply < export)  # not yet answered at the export
    t["resolved_at"] = resolved.where(resolved < export)
    closed_unanswered = rng.random(n) < 0.05  # resolved (spam, duplicate) without a reply
    t.loc[closed_unanswered, "first_response_at"] = pd.NaT
    t.loc[closed_unanswered, "resolved_at"] = t.loc[closed_unanswered, "created_at"] + pd.Timedelta(hours=2)
    got = first_response_time(t, censor_at=export, by="team").set_index("team")
    for team, rows in t.groupby("team"):
        answered = rows["first_response_at"].notna().to_numpy()
        stop = rows["first_response_at"].fillna(rows["resolved_at"]).fillna(export)
        hours = ((stop - rows["created_at"]) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
        km = SurvfuncRight(hours, answered.astype(int))
        r = got.loc[team]
        assert 0 < (~answered).sum() and r["n"] == len(rows)
        assert r["value"] == pytest.approx(km.quantile(0.5), abs=1e-9)
        assert r["km_p90"] == pytest.approx(km.quantile(0.9), abs=1e-9)
        assert r["answered_median"] == np.median(hours[answered])
        assert r["waiting"] == (rows["first_response_at"].isna() & rows["resolved_at"].isna()).sum()
        assert r["value"] > r["answered_median"]  # what dropping the waiting tickets hid
        # the interval: first times the pointwise band (Greenwood's SE) reaches 0.5
        z = st.norm.ppf(0.975)
        ok = ~np.isnan(km.surv_prob_se)
        low = (km.surv_prob - z * km.surv_prob_se)[ok]
        high = (km.surv_prob + z * km.surv_prob_se)[ok]
        assert r["ci_low"] == km.surv_times[ok][np.flatnonzero(low <= 0.5)[0]]
        assert r["ci_high"] == km.surv_times[ok][np.flatnonzero(high <= 0.5)[0]]


def test_pandas_and_polars_give_the_same_tables():
    t = tickets([1, 3, np.nan, 2, 7, 0.5, 2], team=["a", "a", "b", "b", "a", "b", None])  # a ticket without team
    for calc in (lambda d: first_response_time(d, censor_at=CENSOR, by="team"),
                 lambda d: resolution_time(d, censor_at=CENSOR, by="team")):
        from_pandas = calc(t)
        from_polars = calc(pl.from_pandas(t))
        assert isinstance(from_polars, pl.DataFrame)
        pd.testing.assert_frame_equal(from_polars.to_pandas(), from_pandas, check_dtype=False)


def test_many_segments_with_tied_durations_equal_statsmodels_per_segment():
    """Durations in whole hours (many ties within and across segments), seven segments:
    each segment's Kaplan-Meier median and p90 are statsmodels' on that segment alone, and
    the median of the resolved tickets numpy's."""
    rng = np.random.default_rng(11)
    n = 3000
    hours = np.round(rng.exponential(20, n))
    open_ = rng.random(n) < 0.15
    t = tickets(np.where(open_, np.nan, hours), team=list(rng.choice(list("abcdefg"), n)))
    censor = pd.Timestamp("2026-07-01", tz=UTC) + pd.Timedelta(hours=40)
    t.loc[open_, "created_at"] = censor - pd.to_timedelta(np.round(rng.uniform(0, 40, open_.sum())), unit="h")
    got = resolution_time(t, censor_at=censor, by="team").set_index("team")
    assert len(got) == 7
    for team, rows in t.groupby("team"):
        done = rows["resolved_at"].notna().to_numpy()
        took = ((rows["resolved_at"].fillna(censor) - rows["created_at"]) / pd.Timedelta(hours=1)).to_numpy(float)
        km = SurvfuncRight(took, done.astype(int))
        r = got.loc[team]
        assert r["value"] == pytest.approx(km.quantile(0.5), abs=1e-9)
        assert r["km_p90"] == pytest.approx(km.quantile(0.9), abs=1e-9)
        assert r["resolved_median"] == np.median(took[done])
        assert r["n"] == len(rows)


def test_business_time_across_a_weekend_and_the_spring_dst_change():
    calendar = BusinessCalendar.from_config(load_config(SAMPLE))
    t = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-03-27 17:00"]).tz_localize("Europe/Berlin"),
        "first_response_at": pd.to_datetime(["2026-03-30 09:00"]).tz_localize("Europe/Berlin"),
    })
    # Fri 17-18 + Sat 09-13 + Mon 08-09 = 6 business hours; 63 calendar hours (one lost to DST)
    end = pd.Timestamp("2026-04-01", tz="Europe/Berlin")
    assert first_response_time(t, censor_at=end, calendar=calendar)["value"].iloc[0] == 6.0
    assert first_response_time(t, censor_at=end)["value"].iloc[0] == 63.0
    assert first_response_time(t, censor_at=end, calendar=calendar)["kpi"].iloc[0] == "frt_business_hours"


def test_help_desk_log_frt_and_ttr_equal_an_independent_computation():
    source = shared_file("helpdesk-italy/helpdesk_events.csv")
    config = load_config(FIXTURES / "helpdesk-italy")
    derived = tickets_from_events(read_table(source, "events", config), config.process)

    raw = pd.read_csv(source)
    # local wall times of Italy; durations are absolute (a DST change inside a span counts)
    raw["ts"] = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f").dt.tz_localize(
        config.timezone, ambiguous="raise", nonexistent="raise")
    per_case = raw.groupby("Case ID")["ts"]
    created = per_case.min()
    reply = raw[raw["Activity"] == "Take in charge ticket"].groupby("Case ID")["ts"].min()
    # first response with the tickets never taken in charge censored: at their resolution,
    # or at the log's last event when still open then
    end = raw["ts"].max()
    resolved = derived.set_index("ticket_id")["resolved_at"]
    ids = resolved.index
    answered = ids.isin(reply.index)
    stopped = resolved.where(resolved < end, end)
    waited = pd.Series(np.where(answered, reply.reindex(ids), stopped), index=ids)
    frt = ((waited - created[ids]) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    km = SurvfuncRight(frt, answered.astype(int))
    got = first_response_time(derived, censor_at=end).iloc[0]
    assert 0 < (~answered).sum() < len(ids)  # the log has tickets never taken in charge
    assert got["value"] == pytest.approx(km.quantile(0.5), abs=1e-9)
    assert got["km_p90"] == pytest.approx(km.quantile(0.9), abs=1e-9)
    assert got["answered_median"] == np.median(frt[answered]) and got["n"] == len(ids)
    assert got["waiting"] == (~answered & resolved.isna().to_numpy()).sum()

    # resolution as the derivation defines it (last "Resolve ticket", open if work followed);
    # censor at the log's last event: the open tickets wait until then
    hours = np.where(resolved.notna(), (resolved - created[resolved.index]) / pd.Timedelta(hours=1),
                     (end - created[resolved.index]) / pd.Timedelta(hours=1))
    done = resolved.notna().to_numpy()
    r = resolution_time(derived, censor_at=end).iloc[0]
    assert r["resolved_median"] == np.median(hours[done])
    assert r["value"] == pytest.approx(product_limit_quantile(hours, done, 0.5), abs=1e-9)
    assert r["km_p90"] == pytest.approx(product_limit_quantile(hours, done, 0.9), abs=1e-9)
    assert r["open_share"] == pytest.approx(1 - done.mean())

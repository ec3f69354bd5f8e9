"""Speed KPIs: first response and resolution times, censoring, business time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

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
    assert r["ci_low"] <= 3.0 <= r["ci_high"] or np.isnan(r["ci_high"])


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
    empty = first_response_time(tickets([]))
    assert empty["n"].iloc[0] == 0 and np.isnan(empty["value"].iloc[0])
    one = resolution_time(tickets([2.0]), censor_at=CENSOR).iloc[0]
    assert one["value"] == 2.0 and one["n"] == 1 and one["open_share"] == 0.0


def test_segments_and_an_empty_group():
    t = tickets([1, 3, np.nan, 2], team=["a", "a", "b", "b"])
    r = resolution_time(t, censor_at=CENSOR, by="team").set_index("team")
    assert r.loc["a", "resolved_median"] == 2.0 and r.loc["b", "open_share"] == 0.5
    f = first_response_time(t, by="team").set_index("team")
    assert f.loc["a", "value"] == 1.0 and f.loc["b", "waiting"] == 1


def test_pandas_and_polars_give_the_same_tables():
    t = tickets([1, 3, np.nan, 2, 7, 0.5], team=["a", "a", "b", "b", "a", "b"])
    for calc in (lambda d: first_response_time(d, by="team"),
                 lambda d: resolution_time(d, censor_at=CENSOR, by="team")):
        from_pandas = calc(t)
        from_polars = calc(pl.from_pandas(t))
        assert isinstance(from_polars, pl.DataFrame)
        pd.testing.assert_frame_equal(from_polars.to_pandas(), from_pandas, check_dtype=False)


def test_business_time_across_a_weekend_and_the_spring_dst_change():
    calendar = BusinessCalendar.from_config(load_config(SAMPLE))
    t = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-03-27 17:00"]).tz_localize("Europe/Berlin"),
        "first_response_at": pd.to_datetime(["2026-03-30 09:00"]).tz_localize("Europe/Berlin"),
    })
    # Fri 17-18 + Sat 09-13 + Mon 08-09 = 6 business hours; 63 calendar hours (one lost to DST)
    assert first_response_time(t, calendar=calendar)["value"].iloc[0] == 6.0
    assert first_response_time(t)["value"].iloc[0] == 63.0
    assert first_response_time(t, calendar=calendar)["kpi"].iloc[0] == "frt_business_hours"


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
    frt = ((reply - created[reply.index]) / pd.Timedelta(hours=1)).to_numpy()
    got = first_response_time(derived).iloc[0]
    assert got["value"] == np.median(frt) and got["n"] == len(frt)

    # resolution as the derivation defines it (last "Resolve ticket", open if work followed);
    # censor at the log's last event: the open tickets wait until then
    end = raw["ts"].max()
    resolved = derived.set_index("ticket_id")["resolved_at"]
    hours = np.where(resolved.notna(), (resolved - created[resolved.index]) / pd.Timedelta(hours=1),
                     (end - created[resolved.index]) / pd.Timedelta(hours=1))
    done = resolved.notna().to_numpy()
    r = resolution_time(derived, censor_at=end).iloc[0]
    assert r["resolved_median"] == np.median(hours[done])
    assert r["value"] == pytest.approx(product_limit_quantile(hours, done, 0.5), abs=1e-9)
    assert r["km_p90"] == pytest.approx(product_limit_quantile(hours, done, 0.9), abs=1e-9)
    assert r["open_share"] == pytest.approx(1 - done.mean())

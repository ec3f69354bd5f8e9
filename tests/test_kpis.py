"""KPI calculators: hand-computed golden values, pandas and Polars alike."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.stats import binomtest

from cxassess import kpis
from cxassess.errors import InputError
from cxassess.stats import nps_standard_error, wilson_interval

from .conftest import SAMPLE, as_pandas, both


@pytest.mark.parametrize(
    ("scale", "scores", "top"),
    [
        (3, [1, 2, 3, 3], 2),  # "good" only
        (5, [1, 2, 3, 4, 5, 5], 3),  # 4-5
        (7, [1, 5, 6, 7], 2),  # 6-7
        (10, [1, 8, 9, 10], 2),  # 9-10 on 1-10
        (11, [0, 8, 9, 10, 10], 3),  # 9-10 on 0-10
    ],
)
def test_csat_top_box_per_scale(scale, scores, top):
    s = pd.DataFrame({"score": scores, "scale": scale, "kind": "csat"})
    for frame in both(s):
        r = as_pandas(kpis.csat(frame))
        assert r.loc[0, "n"] == len(scores) and r.loc[0, "hits"] == top
        assert r.loc[0, "value"] == pytest.approx(top / len(scores))


def test_csat_excludes_unanswered_and_other_kinds_and_groups():
    s = pd.DataFrame(
        {
            "score": [5, 4, None, 2, 5, 9],
            "scale": [5, 5, 5, 5, 5, 11],
            "kind": ["csat"] * 5 + ["nps"],
            "channel": ["chat", "chat", "chat", "email", "email", "email"],
        }
    )
    for frame in both(s):
        r = as_pandas(kpis.csat(frame, by="channel"))
        assert r["channel"].tolist() == ["chat", "email"]
        assert r["n"].tolist() == [2, 2] and r["value"].tolist() == [1.0, 0.5]


def test_n_zero_and_n_one():
    empty = pd.DataFrame({"score": pd.Series([], dtype=float), "scale": pd.Series([], dtype="int64")})
    r = kpis.csat(empty, kind=None)
    assert r.loc[0, "n"] == 0 and math.isnan(r.loc[0, "value"]) and math.isnan(r.loc[0, "ci_low"])
    one = kpis.csat(pd.DataFrame({"score": [5], "scale": [5]}), kind=None)
    assert one.loc[0, "value"] == 1.0 and one.loc[0, "ci_high"] == pytest.approx(1.0)
    assert one.loc[0, "ci_low"] == pytest.approx(1 / (1 + 1.959964**2), rel=1e-6)


def test_nps_worked_example():
    # 100 answers: 50 promoters (9-10), 30 passives (7-8), 20 detractors (0-6)
    scores = [10] * 30 + [9] * 20 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10
    s = pd.DataFrame({"score": scores, "kind": "nps"})
    # NPS = 50 - 20 = 30; SE = 100·sqrt((0.5 + 0.2 - 0.3²)/100) = 100·sqrt(0.0061) = 7.8102
    se = 100 * math.sqrt((0.5 + 0.2 - 0.09) / 100)
    assert se == pytest.approx(7.81025, abs=1e-5)
    assert nps_standard_error(50, 20, 100) == pytest.approx(se)
    for frame in both(s):
        r = as_pandas(kpis.nps(frame))
        assert r.loc[0, "value"] == pytest.approx(30.0)
        assert r.loc[0, "ci_low"] == pytest.approx(30 - 1.959964 * se, abs=1e-4)
        assert r.loc[0, "ci_high"] == pytest.approx(30 + 1.959964 * se, abs=1e-4)


@pytest.mark.parametrize(
    ("table", "options", "said"),
    [
        ({"score": [5, 4, 1, 2], "scale": 5}, {}, "answers on a 5-point scale (surveys.scale)"),
        ({"score": [5, 4, 1, 2]}, {"scale": 5}, "answers on a 5-point scale"),
        ({"score": [9, 10, 7, 11]}, {}, "1 score(s) outside the whole numbers 0-10 (surveys.score: 11)"),
        ({"score": [9, 10, 7.5]}, {}, "(surveys.score: 7.5)"),
    ],
    ids=["5-point scale column", "5-point scale given", "score 11", "score 7.5"],
)
def test_nps_refuses_answers_that_are_not_on_the_0_to_10_scale(table, options, said):
    """A 1-5 scale read as NPS makes every answer a detractor: -100 points, silently."""
    for frame in both(pd.DataFrame(table)):
        with pytest.raises(InputError) as caught:
            kpis.nps(frame, kind=None, **options)
        assert said in caught.value.message and "0-10" in caught.value.message
        assert "kind 'nps', scale 11" in caught.value.fix  # how to fix it
    ok = pd.DataFrame({"score": [10, 9, 0, 6, None], "scale": [11, 11, 11, None, 11]})
    assert kpis.nps(ok, kind=None).loc[0, "value"] == pytest.approx(100 * (2 - 2) / 4)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 1), (8, 10), (37, 120), (500, 1000), (999, 1000)])
def test_wilson_equals_scipy(k, n):
    lo, hi = wilson_interval(k, n)
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert float(lo) == pytest.approx(ref.low, abs=1e-12)
    assert float(hi) == pytest.approx(ref.high, abs=1e-12)


def test_rates_by_hand_on_pandas_and_polars():
    t = pd.DataFrame(
        {
            "team": ["a", "a", "a", "b", "b"],
            "transfers": [0, 1, 3, 0, 0],
            "reopens": [1, 0, 0, 0, 2],
            "resolved_at": pd.to_datetime(["2026-07-01", "2026-07-02", None, "2026-07-03", None]),
        }
    )
    for frame in both(t):
        tr = as_pandas(kpis.transfer_rate(frame, by="team"))
        assert tr["value"].tolist() == pytest.approx([2 / 3, 0.0])
        ro = as_pandas(kpis.reopen_rate(frame, by="team"))
        # team a: resolved tickets = rows 1, 2 (row 3 open, never reopened) -> 1 of 2 reopened
        # team b: row 4 resolved, row 5 reopened (so resolved before) and open now -> 1 of 2
        assert ro["n"].tolist() == [2, 2] and ro["value"].tolist() == [0.5, 0.5]
        op = as_pandas(kpis.open_share(frame))
        assert op.loc[0, "value"] == pytest.approx(2 / 5)


def test_pandas_and_polars_give_identical_tables():
    rng = np.random.default_rng(3)
    s = pd.DataFrame(
        {
            "score": rng.integers(0, 11, 500).astype(float),
            "kind": "nps",
            "channel": rng.choice(["chat", "email", "phone"], 500),
        }
    )
    a = kpis.nps(s, by="channel")
    b = kpis.nps(pl.from_pandas(s), by="channel").to_pandas()
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b, check_dtype=False)


def test_volume_shares_sum_to_one():
    t = pd.DataFrame({"channel": ["chat"] * 3 + ["email"] * 5 + ["web"] * 2})
    v = kpis.volume(t, by="channel")
    assert v["channel"].tolist() == ["email", "chat", "web"]
    assert v["tickets"].tolist() == [5, 3, 2] and v["share"].sum() == pytest.approx(1.0)


def test_planted_transfer_rise_of_the_gaming_team_is_worsened_and_a_stable_kpi_is_noise():
    from cxassess.cycles import load_cycle
    from cxassess.kpis.compare import change
    from cxassess.stats import difference_of_proportions

    transfer_rate = kpis.transfer_rate
    q3 = load_cycle(SAMPLE, "2026Q3", tables=("tickets", "surveys"))
    q2 = load_cycle(SAMPLE, "2026Q2", tables=("tickets", "surveys"))
    by_team = change(transfer_rate(q3.tickets, by="team"), transfer_rate(q2.tickets, by="team"), by="team")
    south = by_team.set_index("team").loc["tier1_south"]
    assert south["verdict"] == "worsened" and south["change_low"] > 0
    # the values compared are plain counts of the tickets
    for cycle, frame in (("q3", q3.tickets), ("q2", q2.tickets)):
        team = frame[frame["team"] == "tier1_south"]
        assert south["value" if cycle == "q3" else "previous"] == (team["transfers"] > 0).mean()
    # the other first-level team has no planted change in its transfers
    north = by_team.set_index("team").loc["tier1_north"]
    assert north["verdict"] == "within noise" and north["change_low"] < 0 < north["change_high"]
    d, lo, hi = difference_of_proportions(56, 70, 48, 80)  # Newcombe (1998), Table II, method 10
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)


def test_kpi_history_reuses_the_page_cycles_and_their_figures(monkeypatch):
    """The trends reuse the cycles the page loaded (no second load, no second computation)
    and give the same figures as computing each cycle afresh."""
    import importlib

    from cxassess.cycles import load_cycle

    sc = importlib.import_module("cxassess.kpis.scorecard")  # the package exports a function of that name

    now, before = load_cycle("data/sample", "2026Q3"), load_cycle("data/sample", "2026Q2")
    fresh = sc.kpi_history("data/sample", upto="2026Q3")
    loaded = []
    real = sc.checked_cycle
    monkeypatch.setattr(sc, "checked_cycle", lambda root, label, d=None: loaded.append(label) or real(root, label, d))
    reused = sc.kpi_history("data/sample", upto="2026Q3", reuse=(now, before))
    assert sorted(loaded) == ["2025Q4", "2026Q1"]  # only the cycles the page did not hold
    pd.testing.assert_frame_equal(reused, fresh)
    assert sc.cycle_kpis(now) is now.computed[("cycle_kpis", (), None)]


def test_a_survey_scale_without_rule_makes_that_kpi_not_available_not_the_page_fail():
    """NPS answers on a 1-10 scale and CSAT on a 4-point one: those two KPIs say why they
    are not available; CES and every ticket KPI are still computed."""
    import dataclasses

    from cxassess.cycles import load_cycle

    q3 = load_cycle("data/sample", "2026Q3")
    surveys = q3.surveys.copy()
    surveys.loc[surveys["kind"] == "nps", "scale"] = 10
    surveys.loc[surveys["kind"] == "csat", "scale"] = 4
    odd = dataclasses.replace(q3, tables={**q3.tables, "surveys": surveys})
    k = importlib.import_module("cxassess.kpis.scorecard").cycle_kpis(odd).set_index("kpi")
    assert k.at["nps", "note"].startswith("not available: nps: answers on a 10-point scale")
    assert k.at["csat", "note"].startswith("not available: csat: no rule for a 4-point scale")
    assert pd.isna(k.at["nps", "value"]) and pd.isna(k.at["csat", "value"])
    ces = surveys[(surveys["kind"] == "ces") & surveys["score"].notna()]
    assert k.at["ces_mean", "value"] == pytest.approx(ces["score"].mean())  # the others still computed
    assert k.at["transfer_rate", "value"] == pytest.approx((q3.tickets["transfers"] > 0).mean())

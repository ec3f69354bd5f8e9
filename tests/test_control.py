"""XmR charts and run rules (cxassess.control): limits against a hand computation with the
published constants, rules against planted patterns, false alarms against theory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxassess import control


def test_limits_equal_a_hand_computation_with_the_published_constants():
    # Weekly first-response medians (hours): 4.2, 3.8, 4.6, 4.0, 5.1, 4.4, 3.9, 4.5
    # moving ranges: 0.4, 0.8, 0.6, 1.1, 0.7, 0.5, 0.6 -> sum 4.7, mean 4.7 / 7 = 0.671428...
    # average: 34.5 / 8 = 4.3125
    # UNPL = 4.3125 + 2.66 * 0.671428 = 4.3125 + 1.786 = 6.098500
    # LNPL = 4.3125 - 1.786 = 2.526500; URL = 3.268 * 0.671428 = 2.194229
    chart = control.xmr([4.2, 3.8, 4.6, 4.0, 5.1, 4.4, 3.9, 4.5])
    row = chart.iloc[0]
    assert row["centre"] == pytest.approx(4.3125)
    assert row["mr_centre"] == pytest.approx(0.671428571)
    assert row["unpl"] == pytest.approx(6.0985, abs=1e-6)
    assert row["lnpl"] == pytest.approx(2.5265, abs=1e-6)
    assert row["url"] == pytest.approx(2.194229, abs=1e-6)
    # the constants are 3 / d2 and D4 for ranges of two (d2 = 1.128, d3 = 0.853)
    assert control.E2 == pytest.approx(3 / 1.128, abs=0.001)
    assert control.D4 == pytest.approx(1 + 3 * 0.853 / 1.128, abs=0.001)


def test_phases_recompute_limits_and_no_moving_range_spans_them():
    chart = control.xmr([10, 12, 11, 20, 22, 21], phase=[0, 0, 0, 1, 1, 1])
    assert chart["centre"].tolist() == [11, 11, 11, 21, 21, 21]
    assert np.isnan(chart["moving_range"].iloc[3])  # 11 -> 20 is the shift, not a range
    assert chart["mr_centre"].iloc[-1] == pytest.approx(1.5)  # |22-20|, |21-22|


def test_a_stable_series_crosses_the_three_sigma_limits_at_the_theoretical_rate():
    # 600 stable series of 52 weeks: rule 1 flags about 0.27 % of the points (normal theory,
    # limits estimated from the same data); the run rules stay rare too.
    rng = np.random.default_rng(16)
    flagged, points, any_mr = 0, 0, 0
    for _ in range(600):
        flags = control.run_rules(control.xmr(rng.normal(50, 5, 52)))
        flagged += flags["1"].sum()
        points += len(flags)
        any_mr += flags["mr"].sum()
    rate = flagged / points
    assert 0.0008 < rate < 0.0060, rate
    assert any_mr / points < 0.012  # mR above 3.268 mR̄: about 0.9 % of ranges under normality


def test_a_planted_step_change_triggers_the_run_rule_after_it_and_not_before():
    # limits from the 26 settled weeks; then the process moves up by 2 sigma
    found_after, run_rule_after, before = 0, 0, 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        x = np.r_[rng.normal(10, 1, 26), rng.normal(12, 1, 26)]
        flags = control.run_rules(control.xmr(x, baseline=26))
        run_rule_after += flags["4"].iloc[26:36].any()  # 8 in a row above the centre within 10 weeks
        found_after += flags[["1", "2", "3", "4"]].iloc[26:36].to_numpy().any()
        before += flags[["1", "2", "3", "4"]].iloc[:26].to_numpy().any()
    # 8 in a row above: 0.977^8 = 0.83 for the first 8 weeks alone, more within 10
    assert found_after == 50 and run_rule_after >= 40  # the shift is found, by the rule meant for it
    assert before <= 20  # and the settled weeks rarely raise a signal (run rules do, now and then)


def test_a_planted_spike_triggers_rule_one_at_its_week():
    weeks = pd.date_range("2026-01-05", periods=20, freq="W-MON")
    x = pd.Series(np.r_[np.full(10, 5.0) + np.tile([0.2, -0.2], 5), [9.0], np.full(9, 5.0) + np.tile([0.2, -0.2], 5)[:9]],
                  index=weeks)
    listed = control.signals(control.xmr(x))
    rule1 = listed[listed["rule"] == "1"]
    assert rule1["first"].tolist() == [weeks[10]] and rule1["direction"].tolist() == ["up"]
    assert "beyond the natural process limits" in rule1["rule_text"].iloc[0]


def test_a_steady_rise_triggers_the_trend_rule():
    x = [5, 5.2, 4.9, 5.1, 5.0, 5.2, 5.4, 5.6, 5.8, 6.0, 6.2, 5.0]
    flags = control.run_rules(control.xmr(x))
    assert flags.index[flags["5"]].tolist() == [9, 10]  # 5.0 .. 6.2: 6 and 7 rising points


def test_phase_length_is_checked():
    with pytest.raises(control.InputError):
        control.xmr([1, 2, 3], phase=[0, 1])


def test_phases_from_shifts():
    weeks = pd.date_range("2026-01-05", periods=4, freq="W-MON")
    assert control.phases_from_shifts(weeks, [pd.Timestamp("2026-01-19")]).tolist() == [0, 0, 1, 1]


def test_reference_weeks_set_the_limits_and_the_new_weeks_are_judged_against_them():
    # limits from the first six values only: X̄ = 10.5, mR = 1,1,1,1,1 -> mR̄ = 1, UNPL = 13.16
    x = [10, 11, 10, 11, 10, 11, 16, 16, 16]
    chart = control.xmr(x, reference=[True] * 6 + [False] * 3)
    assert chart["centre"].iloc[-1] == pytest.approx(10.5) and chart["unpl"].iloc[-1] == pytest.approx(13.16)
    assert control.run_rules(chart)["1"].tolist() == [False] * 6 + [True] * 3
    # judged with its own weeks the jump pulls the centre and widens the limits
    assert not control.run_rules(control.xmr(x))["1"].all()


def test_a_lower_limit_below_zero_is_clipped_at_zero_for_a_measure_that_cannot_be_negative():
    # By hand: 1, 5, 1, 5, 1 -> X̄ = 13 / 5 = 2.6, mR = 4, 4, 4, 4 -> mR̄ = 4,
    # LNPL = 2.6 - 2.66 * 4 = -8.04 (a count cannot go there), UNPL = 2.6 + 10.64 = 13.24
    signed = control.xmr([1, 5, 1, 5, 1])
    assert signed["lnpl"].iloc[0] == pytest.approx(-8.04)  # a measure that can be negative keeps it
    counts = control.xmr([1, 5, 1, 5, 1], floor=0)
    assert (counts["lnpl"] == 0).all()
    assert counts["unpl"].iloc[0] == pytest.approx(13.24)
    assert counts["sigma"].iloc[0] == pytest.approx(2.66 * 4 / 3)  # the rules still use the unclipped sigma
    assert control.xmr([10, 12, 11, 14, 13], floor=0)["lnpl"].iloc[0] == pytest.approx(12 - 2.66 * 1.75)  # above 0


def test_the_weekly_charts_clip_their_lower_limits_at_zero():
    from cxassess import improve

    # a weekly reopen rate 1 %, 9 %, ...: X̄ = 5 %, mR̄ = 8 pp, LNPL = 0.05 - 2.66 * 0.08 = -0.1628 -> 0
    weeks = pd.date_range("2026-01-05", periods=6, freq="7D")
    weekly = pd.DataFrame({"week": weeks, "kpi": "reopen_rate", "value": [0.01, 0.09] * 3, "n": 100})
    chart, _ = improve.control_signals(weekly)["reopen_rate"]
    assert (chart["lnpl"] == 0).all()
    assert chart["unpl"].iloc[0] == pytest.approx(0.05 + 2.66 * 0.08)


@pytest.mark.parametrize(("kpi", "severity"), [("csat", "low"), ("ttr_hours", "medium"), ("volume", "medium")])
def test_a_weekly_signal_the_good_way_is_not_among_what_to_act_on(kpi, severity):
    """A week above the limits is good news for CSAT (low: to learn from), bad news for the
    resolution time (medium: to act on), and the volume has no better direction (medium)."""
    from cxassess import improve

    # 12 weeks at 0.50 / 0.52, then 0.90: X̄ = 7.02 / 13 = 0.54, mR̄ = (11 x 0.02 + 0.38) / 12 = 0.05,
    # UNPL = 0.54 + 2.66 x 0.05 = 0.673 < 0.90: one signal up (rule 1) in the last week
    weeks = pd.date_range("2026-01-05", periods=13, freq="7D")
    weekly = pd.DataFrame({"week": weeks, "kpi": kpi, "value": [0.50, 0.52] * 6 + [0.90], "n": 100})
    charts = improve.control_signals(weekly)
    assert charts[kpi][0]["unpl"].iloc[-1] == pytest.approx(7.02 / 13 + 2.66 * 0.05)
    found = [f for f in improve.findings(pd.DataFrame(columns=["verdict"]), charts, current_weeks=weeks[-1:])
             if f.kind == "control_signal"]
    assert [(f.severity, "above" in f.what) for f in found] == [(severity, True)]


def test_the_step_of_a_weekly_signal_names_its_week():
    """The step is read alone under "What to do next" (and two signals give two steps): it
    names the week, as the finding does, instead of "that week"."""
    from cxassess import improve

    # as above: 0.50 / 0.52 for 12 weeks from Monday 5 Jan 2026, then 0.90 in the 13th week,
    # which starts 12 x 7 = 84 days later: Monday 30 Mar 2026
    weeks = pd.date_range("2026-01-05", periods=13, freq="7D")
    steps = {}
    for kpi in ("csat", "ttr_hours"):
        weekly = pd.DataFrame({"week": weeks, "kpi": kpi, "value": [0.50, 0.52] * 6 + [0.90], "n": 100})
        found = improve.findings(pd.DataFrame(columns=["verdict"]), improve.control_signals(weekly),
                                 current_weeks=weeks[-1:])
        steps[kpi] = [f.action for f in found if f.kind == "control_signal"]
    assert steps == {"csat": ["Find what made the week of 30 Mar 2026 better, to keep it"],
                     "ttr_hours": ["Find the cause of the signal in the week of 30 Mar 2026"]}

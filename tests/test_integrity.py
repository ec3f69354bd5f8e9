"""KPI integrity: the gaming detector finds planted truth 2 (tier1_south, 2026Q3) and
nothing else, and nothing at all when truth 2 is switched off; the KPI validity table's
correlations and intervals are checked against scipy and the textbook formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep

from cxassess import integrity
from cxassess.cycles import load_cycle

from .conftest import SAMPLE

CYCLES = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")


def _flags(root, by: str) -> set[tuple[str, str]]:
    tickets = {c: load_cycle(root, c).tickets for c in CYCLES}
    found = set()
    for before, now in zip(CYCLES, CYCLES[1:], strict=False):
        flags = integrity.gaming_flags(integrity.segment_changes(tickets[now], tickets[before], by=by))
        found |= {(now, s) for s in flags["segment"]}
    return found


def test_gaming_flags_tier1_south_in_2026q3_and_no_other_team_in_any_cycle():
    assert _flags(SAMPLE, "team") == {("2026Q3", "tier1_south")}


def test_gaming_flags_only_south_agents_in_2026q3():
    found = _flags(SAMPLE, "agent_id")
    assert found, "the agents of the gaming team are large enough to be flagged"
    assert {cycle for cycle, _ in found} == {"2026Q3"}
    assert all(agent.startswith("south-") for _, agent in found)


def test_no_gaming_flag_without_planted_truth_2(sample_with):
    root = sample_with(truths=(1, 3, 4, 5, 8))
    assert _flags(root, "team") == set()
    assert _flags(root, "agent_id") == set()


def test_the_flag_states_both_changes_with_their_intervals():
    now, before = load_cycle(SAMPLE, "2026Q3").tickets, load_cycle(SAMPLE, "2026Q2").tickets
    flags = integrity.gaming_flags(integrity.segment_changes(now, before))
    row = flags[flags["quality"] == "transferred"].iloc[0]
    south_now, south_before = now[now["team"] == "tier1_south"], before[before["team"] == "tier1_south"]
    # independent: pandas for the shares, statsmodels' Newcombe interval, scipy's Welch test
    k1, n1 = int((south_now["transfers"] > 0).sum()), len(south_now)
    k2, n2 = int((south_before["transfers"] > 0).sum()), len(south_before)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert row["quality_change"] == pytest.approx(k1 / n1 - k2 / n2)
    assert (row["quality_low"], row["quality_high"]) == pytest.approx((low, high), abs=1e-9)
    assert row["quality_change"] > 0.15  # planted: +22 points
    a, b = south_now["handle_minutes"].to_numpy(), south_before["handle_minutes"].to_numpy()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = st.t.ppf(0.975, df) * np.sqrt(va + vb)
    diff = a.mean() - b.mean()
    assert (row["speed_change"], row["speed_low"], row["speed_high"]) == pytest.approx((diff, diff - half, diff + half))
    assert row["speed_change"] / b.mean() == pytest.approx(-0.4, abs=0.06)  # planted: -40 %
    found = integrity.findings(flags, tickets=len(now))
    assert [(f.team, f.kind, f.severity) for f in found] == [("tier1_south", "gaming", "high")]
    assert "tier1_south" in found[0].what and "CI" in found[0].evidence


def test_small_segments_get_no_verdict():
    now = pd.DataFrame({"ticket_id": list("abc"), "team": "t", "transfers": [1, 1, 1], "handle_minutes": [1.0, 2, 1]})
    old = now.assign(transfers=[0, 0, 0], handle_minutes=[20.0, 21, 22])
    changes = integrity.segment_changes(now, old, min_n=30)
    assert set(changes["verdict"]) == {"n too small"}
    assert integrity.gaming_flags(changes).empty


def test_recontact_and_reopen_by_hand():
    t = pd.DataFrame({
        "ticket_id": ["A", "B", "C", "D"], "customer_id": ["c1", "c1", "c2", "c2"],
        "created_at": pd.to_datetime(["2026-07-01", "2026-07-05", "2026-07-01", "2026-07-20"]),
        "resolved_at": pd.to_datetime(["2026-07-02", "2026-07-06", "2026-07-02", "2026-07-21"]),
        "transfers": [0, 0, 1, 0], "reopens": [0, 2, 0, 0], "agent_replies": [1, 1, 1, 1]})
    m = integrity.ticket_measures(t, recontact_days=7, end=pd.Timestamp("2026-08-01"))
    # A: c1 back on 07-05, 3 days after A's resolution; C: c2 back on 07-20, 18 days after
    assert m["recontacted"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert m["reopened"].tolist() == [0.0, 1.0, 0.0, 0.0]


def test_correlation_interval_by_hand():
    r, n = 0.3, 50
    z, se = np.arctanh(r), np.sqrt((1 + r * r / 2) / (n - 3))  # Bonett & Wright (2000)
    want = (np.tanh(z - 1.959964 * se), np.tanh(z + 1.959964 * se))
    assert integrity.correlation_interval(r, n) == pytest.approx(want, abs=1e-6)


def test_kpi_validity_on_the_sample_matches_scipy():
    data = load_cycle(SAMPLE, "2026Q3")
    table = integrity.kpi_validity(data.tickets, data.surveys, audits=data.audits)
    row = table[(table["kpi"] == "transferred") & (table["level"] == "ticket")].iloc[0]
    answers = data.surveys[(data.surveys["kind"] == "csat") & data.surveys["score"].notna()]
    joined = answers.merge(data.tickets, on="ticket_id")
    rho = st.spearmanr(-(joined["transfers"] > 0).astype(float), joined["score"]).statistic
    assert row["n"] == len(joined) and row["r"] == pytest.approx(rho)
    assert row["verdict"] == "tracks what customers feel"  # planted truth 1: transfers hurt
    assert set(table["verdict"]) <= set(integrity.VALIDITY_VERDICTS)


def test_kpi_validity_team_level_and_verdicts():
    teams = pd.DataFrame({"team": list("abcdef"), "cycle": "2026Q3", "n": 50,
                          "csat": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], "transferred": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    t = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(40)], "transfers": [i % 2 for i in range(40)]})
    s = pd.DataFrame({"ticket_id": t["ticket_id"], "kind": "csat", "score": [5 if i % 2 else 3 for i in range(40)]})
    table = integrity.kpi_validity(t, s, teams=teams)
    ticket = table[table["level"] == "ticket"].iloc[0]
    assert ticket["verdict"] == "moves against"  # here transferred customers are the happy ones
    group = table[table["level"] == "team × cycle"].iloc[0]
    assert group["r"] == pytest.approx(1.0) and group["n"] == 6
    found = integrity.findings(integrity.gaming_flags(integrity.segment_changes(t.assign(team="x"),
                                                                                t.assign(team="x"))),
                               tickets=40, validity=table)
    assert [f.kind for f in found] == ["kpi_validity"]


def test_one_touch_inflated_by_closing_without_a_reply():
    n = 200
    old = pd.DataFrame({"ticket_id": [f"O{i}" for i in range(n)], "team": "t",
                        "resolved_at": pd.Timestamp("2026-07-01"), "agent_replies": [1] * 100 + [2] * 100,
                        "transfers": [1] * 40 + [0] * 160})
    now = old.assign(ticket_id=[f"N{i}" for i in range(n)], agent_replies=[0] * 60 + [1] * 100 + [2] * 40,
                     transfers=[1] * 80 + [0] * 120)
    changes = integrity.segment_changes(now, old).set_index("measure")
    assert changes.loc["one_touch", "verdict"] == "improved"  # 50 % -> 80 %
    assert changes.loc["one_touch", "change"] == pytest.approx(0.3)
    flags = integrity.gaming_flags(changes.reset_index())
    # one-touch is paired with closes without a reply only, not with the transfers that also rose
    assert flags[["speed", "quality"]].values.tolist() == [["one_touch", "closed_without_reply"]]
    [found] = integrity.findings(flags, tickets=n)
    assert "rose from 50.0% to 80.0%" in found.what and "+30.0 pp" in found.evidence

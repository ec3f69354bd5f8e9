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


def test_cycle_sections_share_the_measures_and_match_the_tables_computed_from_the_frames(monkeypatch):
    """cycle_integrity and cycle_validity compute each cycle's ticket measures once, and
    give the same tables as the functions fed with the raw ticket frames."""
    now, before = load_cycle(SAMPLE, "2026Q3"), load_cycle(SAMPLE, "2026Q2")
    calls = []
    original = integrity.ticket_measures
    monkeypatch.setattr(integrity, "ticket_measures", lambda t, **kw: calls.append(len(t)) or original(t, **kw))
    part = integrity.cycle_integrity(now, before)
    validity = integrity.cycle_validity(now, [before, now])
    assert sorted(c for c in calls if c) == sorted([len(now.tickets), len(before.tickets)])  # once per cycle
    monkeypatch.setattr(integrity, "ticket_measures", original)
    for key, by in (("teams", "team"), ("agents", "agent_id")):
        pd.testing.assert_frame_equal(part[key], integrity.segment_changes(now.tickets, before.tickets, by=by))
    teams = integrity.team_cycle_table([(c.label, c.tickets, c.surveys) for c in (before, now)],
                                       audits=[before.audits, now.audits])
    expected = integrity.kpi_validity(now.tickets, now.surveys, audits=now.audits, sla_met=integrity.sla_met(now),
                                      teams=teams)
    pd.testing.assert_frame_equal(validity, expected)


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


# ------------------------------------------------------------------------------ deadline bunching
def test_no_deadline_bunching_on_the_sample_in_any_cycle():
    for label in CYCLES:
        cycle = load_cycle(SAMPLE, label)
        found = integrity.cycle_deadlines(cycle, min_n=cycle.config.min_n)
        assert found["gaps"] == []
        assert set(found["teams"]["policy"]) == {p.name for p in cycle.config.sla}  # every policy judged
        assert (found["teams"]["verdict"] == "within noise").sum() >= 4  # not vacuous: teams get a verdict
        assert found["team_flags"].empty, label
        assert found["agent_flags"].empty, label


def _planted_cycle(seed: int = 7, n: int = 600) -> pd.DataFrame:
    """Email tickets of three teams, first reply after an exponential wait (mean 2.5 h,
    whole seconds); in tier1_x 60 % of the replies that came between 3.5 h and 6 h are
    moved to just before the 4 h target (3:45 to 4:00): holding replies sent to beat it."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2026-07-01 00:00", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 60 * 86400, 3 * n), unit="s")
    wait = np.round(rng.exponential(2.5 * 3600, 3 * n))
    team = np.repeat(["tier1_x", "tier1_y", "tier1_z"], n)
    moved = (team == "tier1_x") & (wait >= 3.5 * 3600) & (wait < 6 * 3600) & (rng.random(3 * n) < 0.6)
    wait[moved] = rng.integers(int(3.75 * 3600), 4 * 3600, moved.sum())
    return pd.DataFrame({"ticket_id": [f"T{i}" for i in range(3 * n)], "created_at": created, "team": team,
                         "channel": "email", "first_response_at": created + pd.to_timedelta(wait, unit="s")})


def test_planted_deadline_bunching_flags_that_team_only_and_the_excess_by_hand():
    from cxassess.config import SlaPolicy

    tickets = _planted_cycle()
    policy = SlaPolicy("first reply email", "first_response", 4, clock="calendar", channels=("email",))
    table = integrity.deadline_bunching(tickets, [policy], min_n=30)
    flags = integrity.bunching_flags(table)
    assert flags["segment"].tolist() == ["tier1_x"]
    assert set(table.loc[table["segment"] != "tier1_x", "verdict"]) <= {"within noise", "real but small"}
    # by hand: plain pandas hours, 15-minute windows around 4 h
    part = tickets[tickets["team"] == "tier1_x"]
    x = (part["first_response_at"] - part["created_at"]).dt.total_seconds() / 3600
    a = int(((x >= 3.75) & (x < 4)).sum())
    b = int(((x >= 4) & (x < 4.25)).sum())
    m = int((((x >= 3.25) & (x < 3.75)) | ((x >= 4.25) & (x < 4.75))).sum())
    n, k = len(part), a + m
    row = flags.iloc[0]
    assert (row["n"], row["before"], row["after"], row["neighbours"]) == (n, a, b, m)
    assert row["expected"] == pytest.approx(m / 4)
    assert row["excess"] == pytest.approx((a - m / 4) / n)
    assert row["ratio"] == pytest.approx(a / (m / 4))
    # Clopper-Pearson bounds of a out of k from the beta quantiles, mapped to the excess share
    low, high = st.beta.ppf(0.025, a, k - a + 1), st.beta.ppf(0.975, a + 1, k - a)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((k * (5 * low - 1) / (4 * n), k * (5 * high - 1) / (4 * n)))
    assert row["excess"] > 0.05 and row["ratio"] > 3  # planted: far beyond the thresholds
    [found] = integrity.findings(None, tickets=len(tickets), deadlines=flags)
    assert (found.team, found.kind, found.severity, found.anchor) == ("tier1_x", "gaming", "high", "deadline-bunching")
    assert f"{a / n:.0%} of first replies land in the 15 minutes before the 4 h target" in found.what
    assert "CI" in found.evidence


def test_deadline_bunching_of_many_agents_counts_each_agents_own_tickets():
    """Hundreds of segments, some tickets without one: each row's n and window counts are
    those of plain pandas on that agent's tickets alone, in the order of the names."""
    from cxassess.config import SlaPolicy

    rng = np.random.default_rng(3)
    tickets = _planted_cycle(seed=11, n=2000)
    agents = np.array([f"a-{i:03d}" for i in rng.integers(0, 300, len(tickets))], dtype=object)
    agents[rng.random(len(tickets)) < 0.05] = None
    tickets["agent_id"] = agents
    tickets.loc[rng.random(len(tickets)) < 0.1, "first_response_at"] = pd.NaT
    policy = SlaPolicy("first reply email", "first_response", 4, clock="calendar", channels=("email",))
    table = integrity.deadline_bunching(tickets, [policy], by="agent_id", min_n=5)
    x = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    by_hand = pd.DataFrame({
        "n": x.notna().groupby(tickets["agent_id"]).sum(),
        "before": ((x >= 3.75) & (x < 4)).groupby(tickets["agent_id"]).sum(),
        "after": ((x >= 4) & (x < 4.25)).groupby(tickets["agent_id"]).sum(),
        "neighbours": (((x >= 3.25) & (x < 3.75)) | ((x >= 4.25) & (x < 4.75))).groupby(tickets["agent_id"]).sum(),
    })
    by_hand = by_hand[by_hand["n"] > 0].sort_index()
    assert len(table) == len(by_hand) > 250
    assert table["segment"].tolist() == by_hand.index.tolist()
    assert table[["n", "before", "after", "neighbours"]].to_numpy().tolist() == by_hand.to_numpy().tolist()


def test_deadline_bunching_not_available_without_sla_or_reply_times():
    import dataclasses

    from cxassess import plots
    from cxassess.config import ReviewConfig

    cycle = load_cycle(SAMPLE, "2026Q3")
    raw = {k: v for k, v in cycle.config.raw.items() if k != "sla"}
    without_sla = dataclasses.replace(cycle, config=ReviewConfig(path=cycle.config.path, raw=raw))
    note = plots.gap_note(without_sla, integrity.SECTIONS["integrity.deadlines"])
    assert note is not None and "not available: needs <code>review.yml sla</code>" in note.data
    no_replies = cycle.with_tables(tickets=cycle.tickets.drop(columns="first_response_at"))
    part = integrity.cycle_deadlines(no_replies)
    assert part["gaps"] == [f"{p.name}: not available: needs `tickets.first_response_at` (no such column)"
                            for p in cycle.config.sla if p.metric == "first_response"]
    assert set(part["teams"]["metric"]) == {"resolution"}  # the policies it can judge still come

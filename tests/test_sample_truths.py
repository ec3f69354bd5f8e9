"""Every planted truth of data/sample, checked with plain pandas on the CSV files.

The computations here do not use cxassess (only the file layout), so they check the
sample independently of the package that will later be asked to find the same truths.
"""

from __future__ import annotations

import datetime as dt
import filecmp
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from cxassess.synth import SampleSpec, write_sample

from .conftest import SAMPLE

CYCLES = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
TZ = "Europe/Berlin"


def read(cycle: str, table: str) -> pd.DataFrame:
    df = pd.read_csv(SAMPLE / cycle / f"{table}.csv")
    for column in df.columns:
        if column.endswith("_at") or column in ("timestamp", "active_from", "active_to", "due"):
            df[column] = pd.to_datetime(df[column], utc=True)
    return df


@pytest.fixture(scope="module")
def tickets() -> pd.DataFrame:
    return pd.concat([read(c, "tickets").assign(cycle=c) for c in CYCLES], ignore_index=True)


@pytest.fixture(scope="module")
def surveys(tickets) -> pd.DataFrame:
    s = pd.concat([read(c, "surveys") for c in CYCLES], ignore_index=True)
    return s.merge(tickets[["ticket_id", "cycle", "transfers", "reopens", "created_at", "resolved_at"]], on="ticket_id")


def two_proportion_z(k1, n1, k2, n2) -> float:
    p = (k1 + k2) / (n1 + n2)
    return (k1 / n1 - k2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def test_the_sample_is_what_the_seeded_generator_writes(tmp_path):
    """data/sample is reproducible byte for byte from the seed."""
    root = write_sample(tmp_path / "sample", SampleSpec())
    names = ["review.yml", "README.md"] + [f"{c}/{t}.csv" for c in CYCLES for t in
             ("tickets", "events", "surveys", "audits", "customers", "actions")]
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE, root, names, shallow=False)
    assert mismatch == [] and errors == []


def test_shape_of_the_sample(tickets):
    assert tickets.groupby("cycle").size().to_dict() == dict.fromkeys(CYCLES, 2500)
    assert tickets["ticket_id"].is_unique
    assert set(tickets["channel"]) == {"email", "chat", "phone", "web"}
    assert set(tickets["team"]) == {"tier1_north", "tier1_south"}
    events = read("2026Q3", "events")
    assert events["stage"].nunique() >= 4
    assert set(events["team"].dropna()) == {"tier1_north", "tier1_south", "billing_specialists", "tech_specialists"}


def test_truth_1_transferred_customers_are_less_satisfied(surveys):
    csat = surveys[(surveys["kind"] == "csat") & surveys["score"].notna()]
    for cycle, g in csat.groupby("cycle"):
        top = g["score"] >= 4
        moved = g["transfers"] > 0
        k1, n1, k2, n2 = top[~moved].sum(), (~moved).sum(), top[moved].sum(), moved.sum()
        assert k1 / n1 - k2 / n2 > 0.30, cycle
        assert two_proportion_z(k1, n1, k2, n2) > 5, cycle


def test_truth_2_one_team_cuts_handle_time_by_transferring_more(tickets):
    by = tickets.assign(transferred=tickets["transfers"] > 0).groupby(["team", "cycle"])
    rate = by["transferred"].mean().unstack()
    handle = by["handle_minutes"].median().unstack()
    south_rate, north_rate = rate.loc["tier1_south"], rate.loc["tier1_north"]
    assert south_rate["2026Q3"] - south_rate["2026Q2"] > 0.15
    assert abs(north_rate["2026Q3"] - north_rate["2026Q2"]) < 0.05
    assert handle.loc["tier1_south", "2026Q3"] < 0.75 * handle.loc["tier1_south", "2026Q2"]
    assert abs(handle.loc["tier1_north", "2026Q3"] / handle.loc["tier1_north", "2026Q2"] - 1) < 0.1
    # the difference is far beyond noise: a two-proportion z-test
    q3 = tickets[(tickets["cycle"] == "2026Q3") & (tickets["team"] == "tier1_south")]
    q2 = tickets[(tickets["cycle"] == "2026Q2") & (tickets["team"] == "tier1_south")]
    z = two_proportion_z((q3["transfers"] > 0).sum(), len(q3), (q2["transfers"] > 0).sum(), len(q2))
    assert z > 8


def test_truth_3_respondents_over_represent_bad_experiences(surveys):
    ttr_h = (surveys["resolved_at"] - surveys["created_at"]).dt.total_seconds() / 3600
    bad = (surveys["transfers"] > 0) | (surveys["reopens"] > 0) | (ttr_h > 72)
    answered = surveys["score"].notna()
    assert answered[bad].mean() > 2 * answered[~bad].mean()
    assert bad[answered].mean() > bad.mean() + 0.15


def test_truth_4_specialist_stage_becomes_the_bottleneck_in_2026Q3():
    config = yaml.safe_load((SAMPLE / "review.yml").read_text())
    resolution_and_after = {"resolution", "survey"}
    ranking = {}
    for cycle in ("2026Q2", "2026Q3"):
        ev = read(cycle, "events").sort_values(["ticket_id", "timestamp"], kind="stable")
        hours = (ev.groupby("ticket_id")["timestamp"].shift(-1) - ev["timestamp"]).dt.total_seconds() / 3600
        in_process = ~ev["stage"].isin(resolution_and_after)  # time waiting on the customer is not stage time
        total = hours[in_process].groupby(ev.loc[in_process, "stage"]).sum()
        ranking[cycle] = total.sort_values(ascending=False).index.tolist()
    assert set(ranking["2026Q3"]) <= {s["name"] for s in config["process"]["stages"]}
    assert ranking["2026Q3"][0] == "specialist"
    assert ranking["2026Q2"][0] != "specialist"


def test_truth_5_improvement_action_lowers_the_reopen_rate(tickets):
    actions = read("2026Q3", "actions").set_index("action_id")
    assert actions.loc["A-101", "opened_cycle"] == "2026Q1" and actions.loc["A-101", "kpi"] == "reopen_rate"
    done = actions.loc["A-101", "done_at"]
    resolved = tickets[tickets["resolved_at"].notna() | (tickets["reopens"] > 0)]
    reopened = resolved["reopens"] > 0
    before, after = reopened[resolved["created_at"] < done], reopened[resolved["created_at"] >= done]
    assert before.mean() > 0.11 and after.mean() < 0.09
    rate = reopened.groupby(resolved["cycle"]).mean()
    assert rate["2026Q2"] < rate["2025Q4"] - 0.04 and rate["2026Q3"] < rate["2025Q4"] - 0.04
    table = [[before.sum(), (~before).sum()], [after.sum(), (~after).sum()]]
    assert stats.chi2_contingency(table).pvalue < 1e-6


def test_truth_6_holidays_and_dst_changes_fall_inside_the_cycles(tickets):
    config = yaml.safe_load((SAMPLE / "review.yml").read_text())
    holidays = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in config["calendar"]["holidays"]}
    zone = ZoneInfo(config["timezone"])
    local_created = tickets["created_at"].dt.tz_convert(TZ)
    for cycle, start, end in [("2025Q4", "2025-10-01", "2026-01-01"), ("2026Q1", "2026-01-01", "2026-04-01")]:
        days = pd.date_range(start, end, freq="D", inclusive="left")
        offsets = {dt.datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset() for d in days}
        assert len(offsets) == 2, f"no DST change inside {cycle}"
        assert any(d.date() in holidays for d in days), cycle
    # tickets arrive on holidays, fewer than on working days; agents never answer on one
    on_holiday = local_created.dt.date.isin(holidays)
    assert on_holiday.sum() > 20
    per_day = local_created.dt.date.value_counts()
    workdays = [d for d in per_day.index if d.weekday() < 5 and d not in holidays]
    assert per_day[[d for d in per_day.index if d in holidays]].mean() < 0.5 * per_day[workdays].mean()
    events = pd.concat([read(c, "events") for c in CYCLES])
    agent = events[events["agent_id"].notna()]
    assert not agent["timestamp"].dt.tz_convert(TZ).dt.date.isin(holidays).any()
    # tickets open across the spring DST change exist
    spring = pd.Timestamp("2026-03-29 01:00", tz="UTC")
    assert ((tickets["created_at"] < spring) & (tickets["resolved_at"] > spring)).sum() > 10


def test_truth_7_comments_in_english_german_and_japanese(surveys):
    comments = surveys.dropna(subset=["comment"])
    assert set(comments["language"]) == {"en", "de", "ja"}
    ja = comments.loc[comments["language"] == "ja", "comment"]
    assert ja.str.contains(r"[\u3040-\u30ff\u4e00-\u9fff]").all()
    de = comments.loc[comments["language"] == "de", "comment"]
    assert de.str.contains("[äöüß]").any()


def test_truth_8_audits_flag_the_gaming_team_in_2026Q3():
    fail_share = {}
    for cycle in ("2026Q2", "2026Q3"):
        a = read(cycle, "audits")
        a = a[a["session"].isna()]  # regular audits (calibration sessions: truth 9)
        a["team"] = a["agent_id"].str.split("-").str[0]
        flow = a[(a["criterion"] == "flow_followed") & (a["result"] != "na")]
        fail_share[cycle] = (flow["result"] == "fail").groupby(flow["team"]).mean()
    assert fail_share["2026Q3"]["south"] > 0.25
    assert fail_share["2026Q2"]["south"] < 0.15 and fail_share["2026Q3"]["north"] < 0.15


def test_truth_9_one_auditor_is_lenient_in_the_calibration_sessions():
    for cycle in CYCLES:
        a = read(cycle, "audits")
        cal = a[a["session"].notna()]
        assert set(cal["session"]) == {f"CAL-{cycle}"}
        assert cal["ticket_id"].nunique() == 25 and cal["auditor_id"].nunique() == 4
        # every auditor scored the same tickets and criteria
        assert cal.groupby("auditor_id").size().nunique() == 1
        scored = cal[cal["result"] != "na"]
        fail = (scored["result"] == "fail").groupby(scored["auditor_id"]).mean()
        others = fail.drop("qa-dmitri")
        assert fail["qa-dmitri"] < others.min() - 0.08, fail
        assert others.max() - others.min() < 0.06, fail
        # the regular audits are untouched: one auditor per audit, no session
        regular = a[a["session"].isna()]
        assert regular.groupby("audit_id")["auditor_id"].nunique().max() == 1
        assert "qa-dmitri" not in set(regular["auditor_id"])

"""Column ablation: every optional column of every table, absent or empty, and every table absent.

For each case the sample's 2026Q3 cycle is read again with one column removed from the file
(or blanked in every row), and the scorecard is computed. The KPIs that need the column must
say "not available" and name it; every other figure must equal the full cycle's. The list of
affected KPIs below is written by hand from the KPI definitions (DESIGN.md §5), not read from
the registry it checks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cxassess import kpis, registry
from cxassess.cycles import load_cycle
from cxassess.io import read_table
from cxassess.schema import REQUIRED, SCHEMA

from .conftest import SAMPLE

FIRST_REPLY = {"sla:first reply chat and phone", "sla:first reply email and web"}
RESOLUTION_SLA = {"sla:resolution urgent and high", "sla:resolution normal and low"}

#: (table, column) -> (KPIs that become not available, KPIs whose figure may change).
AFFECTED: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    ("tickets", "channel"): (FIRST_REPLY, set()),
    ("tickets", "priority"): (RESOLUTION_SLA, set()),
    ("tickets", "first_response_at"): ({"frt_business_hours", *FIRST_REPLY}, set()),
    ("tickets", "resolved_at"): ({"ttr_business_hours", "fcr", "one_touch", "reopen_rate", "open_share",
                                  "backlog_age_business_hours", *RESOLUTION_SLA}, set()),
    # without reopens a reopened ticket that is open again no longer counts as resolved
    ("tickets", "reopens"): ({"fcr", "reopen_rate"}, {"one_touch"}),
    ("tickets", "transfers"): ({"fcr", "transfer_rate"}, set()),
    ("tickets", "agent_replies"): ({"one_touch"}, set()),
    ("surveys", "kind"): ({"csat", "nps", "ces_agree", "ces_mean"}, set()),
    ("surveys", "score"): ({"csat", "nps", "ces_agree", "ces_mean"}, set()),
    ("customers", "active_to"): ({"retention", "churn"}, set()),
}

#: (table, column) -> sections of the pages that become not available.
SECTIONS_AFFECTED = {
    ("events", "team"): {"stages.handoffs"},
    ("tickets", "channel"): {"overview.volume_by_channel"},
    ("surveys", "score"): {"stages.assessment_csat", "stages.satisfaction_by_path"},
    # CSAT answers cannot be told from NPS and CES answers without the kind
    ("surveys", "kind"): {"stages.assessment_csat", "stages.satisfaction_by_path"},
}

OPTIONAL = [(t, c) for t, columns in SCHEMA.items() for c in columns if c not in REQUIRED[t]]


@pytest.fixture(scope="module")
def full():
    cycle = load_cycle(SAMPLE, "2026Q3")
    return cycle, kpis.cycle_kpis(cycle)


def keyed(card: pd.DataFrame) -> pd.DataFrame:
    key = [f"{k}:{p}" if isinstance(p, str) else k for k, p in zip(card["kpi"], card["policy"], strict=True)]
    return card.assign(key=key).set_index("key")


def ablated(cycle, tmp_path, table: str, column: str, mode: str):
    """The cycle with ``table`` read from a copy of its file without ``column`` (or with it blank)."""
    raw = pd.read_csv(cycle.files[table], dtype=str, keep_default_na=False)
    if mode == "absent":
        raw = raw.drop(columns=column)
    else:
        raw[column] = ""
    path = tmp_path / f"{table}.csv"
    raw.to_csv(path, index=False)
    return dataclasses.replace(cycle, tables={**cycle.tables, table: read_table(path, table, cycle.config)})


@pytest.mark.parametrize("mode", ["absent", "empty"])
@pytest.mark.parametrize(("table", "column"), OPTIONAL, ids=[f"{t}.{c}" for t, c in OPTIONAL])
def test_an_optional_column_absent_or_empty(full, tmp_path, table, column, mode):
    cycle, baseline = full
    if column not in pd.read_csv(cycle.files[table], nrows=0).columns:
        pytest.skip(f"the sample's {table} file has no {column} column")
    if (table, column) == ("events", "stage"):
        expected_gone, may_change = set(), set()  # the loader maps activities to stages (review.yml)
    else:
        expected_gone, may_change = AFFECTED.get((table, column), (set(), set()))
    data = ablated(cycle, tmp_path, table, column, mode)
    card = keyed(kpis.cycle_kpis(data))
    base = keyed(baseline)
    assert sorted(card.index) == sorted(base.index)
    gone = set(card.index[card["note"] != ""]) - set(base.index[base["note"] != ""])
    assert gone == expected_gone
    for key in expected_gone:
        assert np.isnan(card.at[key, "value"]), key  # never 0, never 100 %
        assert f"`{table}.{column}`" in card.at[key, "note"]
        assert ("no such column" if mode == "absent" else "empty in every row") in card.at[key, "note"]
    same = [k for k in base.index if k not in expected_gone | may_change]
    pd.testing.assert_frame_equal(card.loc[same, ["value", "ci_low", "ci_high", "n", "note"]],
                                  base.loc[same, ["value", "ci_low", "ci_high", "n", "note"]])
    sections = {s for s, section in registry.SECTIONS.items() if registry.gap(data, section)}
    assert sections == SECTIONS_AFFECTED.get((table, column), set())


@pytest.mark.parametrize("table", ["tickets", "events", "surveys", "customers", "audits", "actions"])
def test_a_table_absent(full, table):
    cycle, baseline = full
    data = load_cycle(SAMPLE, "2026Q3", tables=tuple(t for t in cycle.tables if t != table))
    card = keyed(kpis.scorecard(data, None))
    base = keyed(baseline)
    needs = {"surveys": {"csat", "nps", "ces_agree", "ces_mean"}, "customers": {"retention", "churn"},
             "events": {"escalation_rate"}}.get(table, set())
    for key in needs:
        assert card.at[key, "verdict"] == "not available" and np.isnan(card.at[key, "value"])
        assert f"`{table}`" in card.at[key, "note"] or "escalated" in card.at[key, "note"]
    if table == "tickets":  # derived from the event log: the same tickets, other columns
        assert card.at["transfer_rate", "n"] == base.at["transfer_rate", "n"]
        assert "derived from `events.channel`" in card.at["sla:first reply chat and phone", "note"]
    else:
        same = [k for k in base.index if k not in needs]
        pd.testing.assert_frame_equal(card.loc[same, ["value", "n"]], base.loc[same, ["value", "n"]])


def test_tickets_with_only_the_required_columns():
    data = load_cycle(SAMPLE, "2026Q3", tables=("tickets",))
    minimal = data.tickets[["ticket_id", "created_at"]]
    card = keyed(kpis.cycle_kpis(dataclasses.replace(data, tables={"tickets": minimal})))
    assert card["value"].isna().all()
    assert card["note"].str.startswith("not available: needs").all()
    assert "`tickets.transfers` (no such column)" in card.at["transfer_rate", "note"]
    assert "`surveys` (no such table in this cycle)" in card.at["csat", "note"]


def test_one_team_in_the_event_log_shows_no_transfer_rate():
    """A log with a single team cannot show a handoff between teams: not available, not 0 %."""
    events = load_cycle(SAMPLE, "2026Q3", tables=("events",))
    events.tables["events"] = events.events.assign(team="the_desk")
    from cxassess.cycles import with_derived_tickets

    data = with_derived_tickets(dataclasses.replace(events, files={}))
    assert "transfers" not in data.tickets.columns
    card = keyed(kpis.cycle_kpis(data))
    assert np.isnan(card.at["transfer_rate", "value"])
    assert "events.team with at least two teams" in card.at["transfer_rate", "note"]
    assert registry.gap(data, registry.SECTIONS["stages.handoffs"]).startswith("not available: needs `events.team`")

"""Stages: stage metrics, stage flow and the activity directly-follows graph on a
synthetic 5,000,000-event log (4 path variants of the support template, drawn with NumPy),
beside pm4py's ``format_dataframe``, ``discover_dfg`` and ``discover_performance_dfg`` on
the same log (when pm4py is installed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.bench._common import ROOT, repeat, row

#: Paths of the synthetic event log of the stage benchmark (activities of the support template).
_PATHS = (
    ("Ticket received", "Categorised", "First reply", "Solution provided", "Closed", "Survey sent"),
    ("Ticket received", "Categorised", "First reply", "Escalated to specialist", "Specialist picked up",
     "Specialist reply", "Solution provided", "Closed", "Survey sent"),
    ("Ticket received", "Categorised", "First reply", "Agent reply", "Solution provided", "Reopened",
     "Agent reply", "Solution provided", "Closed"),
    ("Ticket received", "Categorised", "First reply", "Escalated to specialist", "Specialist picked up",
     "Returned to first level", "Agent reply", "Solution provided", "Closed", "Survey sent"),
)


def synthetic_events(events: int, seed: int = 7) -> pd.DataFrame:
    """An event log of about ``events`` events in the support template's activities, drawn
    with NumPy (4 path variants, exponential gaps). For benchmarks only."""
    rng = np.random.default_rng(seed)
    lengths = np.array([len(p) for p in _PATHS])
    weights = np.array([0.6, 0.2, 0.1, 0.1])
    tickets = int(events / (lengths @ weights))
    variant = rng.choice(len(_PATHS), tickets, p=weights)
    n = lengths[variant]
    ticket = np.repeat(np.arange(tickets), n)
    position = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    table = np.array([list(p) + [""] * (lengths.max() - len(p)) for p in _PATHS], dtype=object)
    activity = table[np.repeat(variant, n), position]
    start = pd.Timestamp("2026-07-01", tz="Europe/Berlin")
    opened = rng.uniform(0, 90 * 86400, tickets)
    gaps = rng.exponential(4 * 3600, len(ticket)) * (position > 0)
    seconds = np.repeat(opened, n) + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(n) - n], n)
    teams = np.array(["tier1_north", "tier1_south", "tech_specialists"], dtype=object)
    specialist = np.isin(activity, ["Specialist picked up", "Specialist reply"])
    team = np.where(specialist, teams[2], teams[np.repeat(rng.integers(0, 2, tickets), n)])
    return pd.DataFrame({
        "ticket_id": np.char.add("T", ticket.astype(str)).astype(object),
        "timestamp": start + pd.to_timedelta(np.floor(seconds), unit="s"),
        "activity": activity.astype(str), "team": team.astype(str),
    })


def run(reps: int = 3, events: int = 5_000_000) -> dict:
    """Seconds of each step, ``reps`` times after a warm-up."""
    from cxassess.config import load_config
    from cxassess.process import directly_follows, stage_flow, stage_metrics

    process = load_config(ROOT / "data" / "sample").process
    log = synthetic_events(events)
    size = f"{len(log):,} events, {log['ticket_id'].nunique():,} tickets"
    rows = [
        row(f"cxassess stage_metrics (visits, times, ranks) on a synthetic log of {size}", "s",
            repeat(lambda: stage_metrics(log, process), reps)),
        row("cxassess stage_flow (moves, waits, allowed), same log", "s", repeat(lambda: stage_flow(log, process), reps)),
        row("cxassess directly_follows of activities + median times, same log", "s",
            repeat(lambda: directly_follows(log), reps)),
    ]
    try:
        import pm4py
    except ImportError:  # pm4py is a dev dependency (AGPL): the comparison needs it installed
        return {"what": f"stage metrics on {size}; pm4py not installed", "rows": rows}
    frame = {}

    def formatted() -> None:
        frame["df"] = pm4py.format_dataframe(log[["ticket_id", "activity", "timestamp"]].copy(), case_id="ticket_id",
                                             activity_key="activity", timestamp_key="timestamp")

    rows.append(row("pm4py format_dataframe, same log", "s", repeat(formatted, reps)))
    rows.append(row("pm4py discover_dfg, same log", "s", repeat(lambda: pm4py.discover_dfg(frame["df"]), reps)))
    rows.append(row("pm4py discover_performance_dfg, same log", "s",
                    repeat(lambda: pm4py.discover_performance_dfg(frame["df"]), reps)))
    return {"what": f"stage metrics and flow vs pm4py on a synthetic log ({size})", "rows": rows}

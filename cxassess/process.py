"""The service process seen through the event log: stages, flow, bottlenecks, conformance.

A ticket's events, in time order, pass through the stages of review.yml (``process:``).
Consecutive events in the same stage form one **visit**; a visit lasts from its first
event until the first event of the next visit (the ticket's last visit ends at its last
event), so the visits of a ticket tile its throughput time exactly. The log records when
things happened, not when work started, so time in a stage is elapsed time; the working
time an agent spent is known per ticket only (``handle_minutes`` of the tickets table).

Stages flagged ``customer_time: true`` (the confirmation window after a solution, the
survey) hold time that is the customer's, not the desk's: they are left out of the
bottleneck ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxassess.calendar import BusinessCalendar, hours_between
from cxassess.config import Process
from cxassess.errors import InputError
from cxassess.kpis.satisfaction import csat, fill_scale
from cxassess.stats import (
    difference_of_estimates,
    difference_of_proportions,
    median_interval,
    se_from_interval,
    verdict,
)

__all__ = [
    "stage_volume", "ordered", "stage_visits", "throughput_times", "directly_follows", "stage_metrics",
    "stage_flow", "handoffs", "variants", "conformance", "path_attributes", "satisfaction_by_path",
    "stage_assessment", "compare_stages",
]

UNMAPPED = "(unmapped)"


def stage_volume(events: pd.DataFrame, process: Process) -> pd.DataFrame:
    """Tickets that pass through each stage, in process order.

    Returns
    -------
    pandas.DataFrame
        ``stage, label, lane, tickets, share`` where ``share`` is the fraction of all
        tickets of the log that reach the stage; unmapped activities are counted under
        the stage ``(unmapped)``.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L1"), Stage("b", "B", "L2")), activities={})
    >>> ev = pd.DataFrame({"ticket_id": [1, 1, 2], "stage": ["a", "b", "a"]})
    >>> stage_volume(ev, p)[["stage", "tickets", "share"]].values.tolist()
    [['a', 2, 1.0], ['b', 1, 0.5]]
    """
    total = events["ticket_id"].nunique()
    stages = events["stage"].fillna(UNMAPPED)
    reached = events.groupby(stages)["ticket_id"].nunique()
    rows = [(s.name, s.label, s.lane) for s in process.stages]
    if UNMAPPED in reached.index:
        rows.append((UNMAPPED, "activities without a stage", ""))
    out = pd.DataFrame(rows, columns=["stage", "label", "lane"])
    out["tickets"] = out["stage"].map(reached).fillna(0).astype("int64")
    out["share"] = out["tickets"] / total if total else float("nan")
    return out


def ordered(events: pd.DataFrame, process: Process | None = None) -> pd.DataFrame:
    """Events sorted by ticket and time (ties keep file order), with ``stage`` from the
    review.yml mapping where the log has none (``(unmapped)`` when an activity has no stage)."""
    ev = events.sort_values(["ticket_id", "timestamp"], kind="stable").reset_index(drop=True)
    if "stage" not in ev.columns or ev["stage"].isna().all():
        mapping = process.activities if process is not None else {}
        ev["stage"] = ev["activity"].map(mapping)
    ev["stage"] = ev["stage"].fillna(UNMAPPED).astype("str")
    return ev


def stage_visits(
    events: pd.DataFrame, process: Process | None = None, *, calendar: BusinessCalendar | None = None
) -> pd.DataFrame:
    """One row per visit of a ticket to a stage: consecutive events in the same stage.

    Returns
    -------
    pandas.DataFrame
        ``ticket_id, visit, stage, entered, left, hours, events, team, first_activity``:
        ``visit`` counts from 0 per ticket; ``left`` is the next visit's first event (the
        ticket's last event for its last visit); ``hours`` is calendar or business time;
        ``team`` the first team named in the visit.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A"] * 4, "activity": ["in", "reply", "reply", "close"],
    ...                    "stage": ["intake", "first", "first", "done"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00",
    ...                                                 "2026-07-01 12:00", "2026-07-01 13:30"])})
    >>> stage_visits(ev)[["stage", "hours", "events"]].values.tolist()
    [['intake', 1.0, 1], ['first', 4.5, 2], ['done', 0.0, 1]]
    """
    ev = ordered(events, process)
    ticket = ev["ticket_id"].to_numpy()
    stage = ev["stage"].to_numpy()
    new_ticket = np.r_[True, ticket[1:] != ticket[:-1]]
    new_visit = new_ticket | np.r_[True, stage[1:] != stage[:-1]]
    visit_id = np.cumsum(new_visit) - 1
    first = np.flatnonzero(new_visit)
    team = ev["team"] if "team" in ev.columns else pd.Series(pd.NA, index=ev.index, dtype="str")
    visits = pd.DataFrame(
        {
            "ticket_id": ticket[first],
            "stage": stage[first],
            "entered": ev["timestamp"].iloc[first].reset_index(drop=True),
            "events": np.bincount(visit_id),
            "team": team.groupby(visit_id).first().to_numpy(),
            "first_activity": ev["activity"].to_numpy()[first],
        }
    )
    last_of_ticket = ev.groupby("ticket_id", sort=False)["timestamp"].transform("max").iloc[first].reset_index(drop=True)
    same_ticket_next = np.r_[visits["ticket_id"].to_numpy()[1:] == visits["ticket_id"].to_numpy()[:-1], False]
    next_entry = visits["entered"].shift(-1)
    visits["left"] = next_entry.where(same_ticket_next, last_of_ticket)
    visits.insert(1, "visit", visits.groupby("ticket_id", sort=False).cumcount())
    visits["hours"] = hours_between(visits["entered"], visits["left"], calendar)
    return visits[["ticket_id", "visit", "stage", "entered", "left", "hours", "events", "team", "first_activity"]]


def throughput_times(events: pd.DataFrame) -> pd.DataFrame:
    """Per ticket: first and last event and the hours between them (calendar time).

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:30", "2026-07-02 00:00"])})
    >>> throughput_times(ev)["hours"].tolist()
    [2.5, 0.0]
    """
    span = events.groupby("ticket_id")["timestamp"].agg(start="min", end="max").reset_index()
    span["hours"] = (span["end"] - span["start"]) / pd.Timedelta(hours=1)
    return span


def directly_follows(events: pd.DataFrame, *, on: str = "activity", process: Process | None = None) -> pd.DataFrame:
    """Directly-follows counts: how often ``b`` comes right after ``a`` in a ticket.

    ``on="activity"`` counts activities (what pm4py's DFG counts); ``on="stage"`` counts
    moves between stage visits (a stage followed by itself is one visit, so it is not an
    edge). ``median_hours`` is the median time between the two.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "A", "B", "B"], "activity": ["x", "y", "x", "x", "y"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00", "2026-07-01 11:00",
    ...                                                 "2026-07-02 08:00", "2026-07-02 08:30"])})
    >>> directly_follows(ev).values.tolist()
    [['x', 'y', 2, 0.75], ['y', 'x', 1, 2.0]]
    """
    if on == "stage":
        steps = stage_visits(events, process).rename(columns={"entered": "timestamp"})
    else:
        steps = events.sort_values(["ticket_id", "timestamp"], kind="stable")
    source = steps[on].to_numpy()
    ticket = steps["ticket_id"].to_numpy()
    time = steps["timestamp"]
    same = np.r_[ticket[1:] == ticket[:-1], False]
    pairs = pd.DataFrame(
        {
            "source": source[same],
            "target": np.r_[source[1:], source[:1]][same],
            "hours": ((time.shift(-1) - time) / pd.Timedelta(hours=1)).to_numpy()[same],
        }
    )
    out = pairs.groupby(["source", "target"], sort=True)["hours"].agg(count="size", median_hours="median")
    return out.reset_index()


def _customer_stages(process: Process | None) -> set[str]:
    return {s.name for s in process.stages if s.customer_time} if process is not None else set()


def _stage_order(process: Process | None, present: Sequence[str]) -> list[str]:
    names = process.stage_names if process is not None else []
    return names + sorted(s for s in set(present) if s not in names)


def stage_metrics(
    events: pd.DataFrame,
    process: Process,
    *,
    resolved: pd.Series | None = None,
    calendar: BusinessCalendar | None = None,
) -> pd.DataFrame:
    """Per stage: volumes, time in stage, share of the total time and the bottleneck rank.

    Parameters
    ----------
    events
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``).
    process
        The process of review.yml.
    resolved
        Ticket ids that were resolved; tickets whose path ends in a stage without being
        resolved are counted as ``open_here`` there (drop-outs or still in progress at
        the cycle's end). Default: tickets with a resolution activity of review.yml.
    calendar
        Business hours instead of calendar hours.

    Returns
    -------
    pandas.DataFrame
        One row per stage in process order: ``stage, label, lane, entering, leaving,
        ending_here, open_here, loops`` (tickets that re-enter the stage), ``visits``,
        ``median_hours, ci_low, ci_high, p90_hours, se`` (time a ticket spends in the
        stage, all its visits together), ``total_hours``, ``share_of_time`` (of the
        throughput time of all tickets), ``target_hours`` (review.yml), ``over_target``
        (share of tickets above it) and ``bottleneck_rank`` (1 = the stage holding the
        most desk time; stages of customer time are not ranked).
    """
    visits = stage_visits(events, process, calendar=calendar)
    if resolved is None:
        done = events["activity"].isin(process.resolution_activities)
        resolved = events.loc[done, "ticket_id"]
    per_ticket = visits.groupby(["stage", "ticket_id"], sort=False).agg(hours=("hours", "sum"), visits=("visit", "size"))
    per_ticket = per_ticket.reset_index()
    last = visits.groupby("ticket_id", sort=False).tail(1)
    flag = pd.DataFrame({"ticket_id": pd.Series(resolved).drop_duplicates().to_numpy(), "resolved": True})
    last = last.merge(flag.astype({"ticket_id": last["ticket_id"].dtype}), on="ticket_id", how="left")
    last["resolved"] = last["resolved"].fillna(False).astype(bool)
    leaving = visits[visits.groupby("ticket_id", sort=False)["visit"].transform("max") > visits["visit"]]
    total_time = visits["hours"].sum()
    labels = {s.name: s for s in process.stages}
    customer = _customer_stages(process)
    rows = []
    for name in _stage_order(process, visits["stage"].unique()):
        part = per_ticket[per_ticket["stage"] == name]
        hours = part["hours"].to_numpy(dtype=float)
        value, low, high = median_interval(hours)
        spec = labels.get(name)
        target = spec.target_hours if spec is not None else None
        ends = last[last["stage"] == name]
        rows.append({
            "stage": name, "label": spec.label if spec else name, "lane": spec.lane if spec else "",
            "entering": len(part), "leaving": leaving.loc[leaving["stage"] == name, "ticket_id"].nunique(),
            "ending_here": len(ends), "open_here": int((~ends["resolved"]).sum()),
            "loops": int((part["visits"] > 1).sum()), "visits": int(part["visits"].sum()),
            "median_hours": value, "ci_low": low, "ci_high": high,
            "p90_hours": float(np.quantile(hours, 0.9)) if len(hours) else np.nan,
            "se": float(se_from_interval(low, high)), "total_hours": float(hours.sum()),
            "share_of_time": float(hours.sum() / total_time) if total_time else np.nan,
            "target_hours": np.nan if target is None else float(target),
            "over_target": float((hours > target).mean()) if target is not None and len(hours) else np.nan,
            "customer_time": name in customer,
        })
    out = pd.DataFrame(rows)
    ranked = out[~out["customer_time"] & (out["entering"] > 0)]["total_hours"].rank(ascending=False, method="min")
    out["bottleneck_rank"] = ranked.reindex(out.index).astype("Int64")
    return out


def stage_flow(
    events: pd.DataFrame, process: Process, *, calendar: BusinessCalendar | None = None
) -> pd.DataFrame:
    """Moves between stages: count, median time spent in the stage being left
    (``median_wait_hours``) and whether review.yml allows the move.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L")), activities={}, transitions=(("a", "b"),))
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 3, "activity": ["x", "y", "z"], "stage": ["a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00", "2026-07-01 11:00"])})
    >>> stage_flow(ev, p)[["source", "target", "tickets", "median_wait_hours", "allowed"]].values.tolist()
    [['a', 'b', 1, 2.0, True], ['b', 'a', 1, 1.0, False]]
    """
    moves = _moves(stage_visits(events, process, calendar=calendar), process)
    out = moves.groupby(["stage", "target", "allowed"], sort=True).agg(
        moves=("ticket_id", "size"), tickets=("ticket_id", "nunique"), median_wait_hours=("hours", "median"))
    out = out.reset_index().rename(columns={"stage": "source"})
    return out[["source", "target", "moves", "tickets", "median_wait_hours", "allowed"]]


def _moves(visits: pd.DataFrame, process: Process) -> pd.DataFrame:
    """Each visit followed by another, with the ``target`` stage and whether review.yml
    allows the move (every move, when it lists no transitions)."""
    moves = visits.assign(target=visits.groupby("ticket_id", sort=False)["stage"].shift(-1)).dropna(subset=["target"])
    allowed = set(map(tuple, process.transitions))
    ok = [(a, b) in allowed for a, b in zip(moves["stage"], moves["target"], strict=True)] if allowed else True
    return moves.assign(allowed=ok)


def handoffs(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Handoffs between teams and ping-pong.

    A handoff is a change of the team between consecutive events of a ticket that name
    a team (events without a team, e.g. automatic ones, are skipped); ping-pong is a
    return to the team just left (A → B → A).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``from_team, to_team, handoffs, tickets`` and per ticket ``ticket_id, handoffs,
        ping_pong``.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A"] * 4 + ["B"], "team": ["t1", "spec", None, "t1", "t1"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 0%d:00" % h for h in range(5)])})
    >>> pairs, per_ticket = handoffs(ev)
    >>> pairs.values.tolist(), per_ticket.values.tolist()
    ([['spec', 't1', 1, 1], ['t1', 'spec', 1, 1]], [['A', 2, 1], ['B', 0, 0]])
    """
    ev = events.sort_values(["ticket_id", "timestamp"], kind="stable")
    tickets = pd.Index(ev["ticket_id"].unique(), name="ticket_id")
    named = ev[ev["team"].notna()][["ticket_id", "team"]]
    previous = named.groupby("ticket_id", sort=False)["team"].shift(1)
    moved = previous.notna() & (named["team"] != previous)
    change = named.assign(from_team=previous)[moved]
    pairs = change.groupby(["from_team", "team"], sort=True).agg(
        handoffs=("ticket_id", "size"), tickets=("ticket_id", "nunique")).reset_index()
    pairs = pairs.rename(columns={"team": "to_team"})
    # ping-pong: the team returns to the one it left at the previous handoff
    chain = change.assign(prior=change.groupby("ticket_id", sort=False)["from_team"].shift(1))
    pong = chain["prior"].notna() & (chain["team"] == chain["prior"])
    per_ticket = pd.DataFrame({
        "handoffs": change.groupby("ticket_id").size().reindex(tickets, fill_value=0),
        "ping_pong": pong.groupby(chain["ticket_id"]).sum().reindex(tickets, fill_value=0),
    }).reset_index()
    return pairs, per_ticket.astype({"handoffs": "int64", "ping_pong": "int64"})


def variants(events: pd.DataFrame, process: Process, *, top: int = 10) -> pd.DataFrame:
    """The most frequent stage paths with their share of tickets and median throughput time.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B", "B", "C"], "activity": "x",
    ...                    "stage": ["in", "out", "in", "out", "in"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
    ...                                                 "2026-07-01 08:00", "2026-07-01 12:00", "2026-07-02 00:00"])})
    >>> variants(ev, None).values.tolist()
    [['in → out', 2, 0.6666666666666666, 3.0], ['in', 1, 0.3333333333333333, 0.0]]
    """
    visits = stage_visits(events, process)
    paths = visits.groupby("ticket_id", sort=False)["stage"].agg(" → ".join)
    hours = throughput_times(events).set_index("ticket_id")["hours"].reindex(paths.index)
    table = pd.DataFrame({"path": paths, "hours": hours})
    out = table.groupby("path").agg(tickets=("hours", "size"), median_hours=("hours", "median"))
    out["share"] = out["tickets"] / len(table)
    out = out.reset_index().sort_values(["tickets", "path"], ascending=[False, True]).head(top)
    return out[["path", "tickets", "share", "median_hours"]].reset_index(drop=True)


def conformance(events: pd.DataFrame, process: Process) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Does each ticket's stage path follow the designed flow (review.yml ``transitions``)?

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per ticket ``ticket_id, conforms, deviations``; and the deviations (moves not
        allowed) with ``source, target, tickets, moves``, most frequent first.
    """
    return _conformance(stage_visits(events, process), process)


def _conformance(visits: pd.DataFrame, process: Process) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not process.transitions:
        raise InputError("review.yml lists no process transitions: there is no designed flow to conform to",
                         fix="add transitions: [[intake, first_level], ...] under process:")
    moves = _moves(visits, process)
    bad = (~moves["allowed"]).groupby(moves["ticket_id"], sort=False).sum()
    per_ticket = bad.reindex(visits["ticket_id"].unique(), fill_value=0)
    tickets = pd.DataFrame({"ticket_id": per_ticket.index, "conforms": per_ticket.to_numpy() == 0,
                            "deviations": per_ticket.to_numpy().astype("int64")})
    off = moves[~moves["allowed"]]
    deviations = off.groupby(["stage", "target"]).agg(tickets=("ticket_id", "nunique"), moves=("ticket_id", "size"))
    deviations = deviations.reset_index().rename(columns={"stage": "source"})
    return tickets, deviations.sort_values(["tickets", "source"], ascending=[False, True]).reset_index(drop=True)


def path_attributes(events: pd.DataFrame, process: Process) -> pd.DataFrame:
    """Per ticket, what its path looked like: ``transfers`` (handoffs between teams) as
    ``0`` / ``1`` / ``2+``, ``escalated`` (reached a specialist stage), ``loop`` (re-entered
    a stage), ``ping_pong`` and ``conforms`` (followed the designed flow; only when
    review.yml lists the transitions)."""
    visits = stage_visits(events, process)
    _, per_ticket = handoffs(events) if "team" in events.columns else (None, None)
    out = visits.groupby("ticket_id", sort=False).agg(
        escalated=("stage", lambda s: bool(set(s) & set(process.specialist_stages))),
        loop=("stage", lambda s: s.duplicated().any()),
    ).reset_index()
    if per_ticket is not None:
        out = out.merge(per_ticket, on="ticket_id", how="left")
        out["transfers"] = pd.cut(out["handoffs"], [-1, 0, 1, np.inf], labels=["0", "1", "2+"]).astype("str")
    if not process.transitions:
        return out
    conform, _ = _conformance(visits, process)
    return out.merge(conform[["ticket_id", "conforms"]], on="ticket_id", how="left")


def _csat_answers(surveys: pd.DataFrame | None, scale: int | None) -> pd.DataFrame | None:
    """Answered CSAT surveys with their scale (the column, else ``scale`` from review.yml);
    ``None`` when the surveys carry no score."""
    if surveys is None or "score" not in surveys.columns:
        return None
    rows = surveys["kind"] == "csat" if "kind" in surveys.columns else pd.Series(True, index=surveys.index)
    return fill_scale(surveys[rows & surveys["score"].notna()], scale)


def satisfaction_by_path(surveys: pd.DataFrame, paths: pd.DataFrame, *, scale: int | None = None) -> pd.DataFrame:
    """CSAT per path attribute (transfers 0 / 1 / 2+, escalated, loop, conforms), with
    Wilson intervals, and the difference against the attribute's reference group
    (no transfer, not escalated, no loop, conforming) with Newcombe's interval.

    ``scale`` is the CSAT scale (review.yml ``surveys: scales: csat``) for surveys without
    a ``scale`` column.

    Returns
    -------
    pandas.DataFrame
        ``attribute, group, value, ci_low, ci_high, n, hits, difference, diff_low,
        diff_high`` (difference = group − reference; reference rows have 0).
    """
    answered = _csat_answers(surveys, scale)
    columns = ["attribute", "group", "value", "ci_low", "ci_high", "n", "hits", "difference", "diff_low", "diff_high"]
    if answered is None:
        return pd.DataFrame(columns=columns)
    rated = answered.merge(paths, on="ticket_id", how="inner")
    reference = {"transfers": "0", "escalated": False, "loop": False, "conforms": True}
    parts = []
    for attribute, ref in reference.items():
        if attribute not in rated.columns:
            continue
        table = csat(rated, by=attribute, kind=None).rename(columns={attribute: "group"})
        base = table[table["group"] == ref]
        if base.empty:
            continue
        d, lo, hi = difference_of_proportions(table["hits"], table["n"], base["hits"].iloc[0], base["n"].iloc[0])
        table = table.assign(attribute=attribute, difference=d, diff_low=lo, diff_high=hi)
        table["group"] = table["group"].astype("str")
        parts.append(table)
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def stage_assessment(
    events: pd.DataFrame,
    process: Process,
    *,
    surveys: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    scale: int | None = None,
) -> pd.DataFrame:
    """The four questions of a stage assessment, answered by measured proxies.

    ``scale`` is the CSAT scale (review.yml ``surveys: scales: csat``) for surveys without
    a ``scale`` column; surveys without a score leave the CSAT effect empty.

    * **Effect on the customer's experience**: CSAT of tickets that went through the stage
      minus CSAT of those that did not (Newcombe interval; needs surveys).
    * **Tied to the outcome**: share of the tickets entering the stage that end resolved
      without a reopen (needs tickets for reopens; else resolved only).
    * **Time invested versus outcome**: the stage's share of the desk's time and its
      median time in stage.
    * **Candidate for efficiency**: loops (re-entries), tickets over the stage's time
      target, and the bottleneck rank.

    Returns one row per stage with these figures and a short ``finding``.
    """
    metrics = metrics if metrics is not None else stage_metrics(events, process)
    visits = stage_visits(events, process)
    reached = visits.groupby("stage")["ticket_id"].unique()
    resolved = set(events.loc[events["activity"].isin(process.resolution_activities), "ticket_id"])
    reopened = set(tickets.loc[tickets["reopens"] > 0, "ticket_id"]) if tickets is not None and "reopens" in tickets else set()
    answered = _csat_answers(surveys, scale)
    rows = []
    for m in metrics.itertuples():
        ids = set(reached.get(m.stage, []))
        good = len((ids & resolved) - reopened)
        row = {"stage": m.stage, "label": m.label, "tickets": m.entering,
               "resolved_clean": good / len(ids) if ids else np.nan,
               "share_of_time": m.share_of_time, "median_hours": m.median_hours,
               "loops_share": m.loops / m.entering if m.entering else np.nan,
               "over_target": m.over_target, "bottleneck_rank": m.bottleneck_rank,
               "csat_through": np.nan, "csat_not_through": np.nan, "csat_effect": np.nan,
               "effect_low": np.nan, "effect_high": np.nan}
        if answered is not None and len(answered):
            split = csat(answered.assign(_through=answered["ticket_id"].isin(ids)), by="_through", kind=None)
            split = split.set_index("_through").reindex([True, False])
            (k1, k2), (n1, n2) = split["hits"].fillna(0).to_numpy(), split["n"].fillna(0).to_numpy()
            d, lo, hi = difference_of_proportions(k1, n1, k2, n2)
            row.update(csat_through=split["value"].iloc[0], csat_not_through=split["value"].iloc[1],
                       csat_effect=float(d), effect_low=float(lo), effect_high=float(hi))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["finding"] = [_finding(r) for r in out.itertuples()]
    return out


def _finding(r) -> str:
    notes = []
    if pd.notna(r.effect_high) and r.effect_high < 0:
        notes.append(f"customers who pass through it are less satisfied ({100 * r.csat_effect:+.0f} pp CSAT)")
    if pd.notna(r.bottleneck_rank) and r.bottleneck_rank == 1:
        notes.append(f"the bottleneck: {r.share_of_time:.0%} of the desk's time")
    if pd.notna(r.loops_share) and r.loops_share >= 0.10:
        notes.append(f"{r.loops_share:.0%} of its tickets come back to it")
    if pd.notna(r.over_target) and r.over_target >= 0.20:
        notes.append(f"{r.over_target:.0%} of tickets exceed its time target")
    return "; ".join(notes) if notes else "no measured problem"


def compare_stages(
    now: pd.DataFrame, before: pd.DataFrame | None, *, not_comparable: str | None = None
) -> pd.DataFrame:
    """Stage metrics beside the previous cycle's: the change of the median time in stage
    with its interval (√(SE₁² + SE₂²)) and verdict, and the bottleneck rank before.

    ``not_comparable`` is the reason no change can be judged (e.g. the previous cycle
    was cut while most of its tickets were open: see :mod:`cxassess.plausibility`); every
    verdict then says it.

    Examples
    --------
    >>> now = pd.DataFrame({"stage": ["a"], "median_hours": [10.0], "se": [1.0], "bottleneck_rank": [1],
    ...                     "share_of_time": [0.5], "entering": [100]})
    >>> before = now.assign(median_hours=5.0, bottleneck_rank=2)
    >>> compare_stages(now, before)[["change", "verdict", "rank_before"]].values.tolist()
    [[5.0, 'worsened', 2]]
    """
    out = now.copy()
    if before is None:
        before = now.iloc[0:0]
    prev = before.set_index("stage").reindex(out["stage"])
    out["median_before"] = prev["median_hours"].to_numpy()
    out["rank_before"] = prev["bottleneck_rank"].to_numpy()
    out["share_before"] = prev["share_of_time"].to_numpy()
    d, lo, hi = difference_of_estimates(out["median_hours"], out["se"], out["median_before"], prev["se"].to_numpy())
    out["change"], out["change_low"], out["change_high"] = d, lo, hi
    judged = verdict(lo, hi, higher_is_better=False)
    if before.empty:
        judged = np.full(len(out), "not comparable: no previous cycle", dtype=object)
    elif not_comparable:
        judged = np.full(len(out), f"not comparable: {not_comparable}", dtype=object)
    else:
        judged = np.where(pd.isna(out["median_before"]), "not comparable: stage not in the previous cycle",
                          np.where(judged == "not comparable", "not comparable: no interval", judged))
    out["verdict"] = judged
    return out

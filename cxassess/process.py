"""The service process seen through the event log: stages, flow, bottlenecks, conformance.

A ticket's events, in time order, pass through the stages of review.yml (``process:``).
Consecutive events in the same stage form one **visit**; a visit lasts from its first
event until the first event of the next visit (the ticket's last visit ends at its last
event), so the visits of a ticket tile its throughput time exactly. The log records when
things happened, not when work started, so time in a stage is elapsed time; the working
time an agent spent is known per ticket only (``handle_minutes`` of the tickets table).

Stages flagged ``customer_time: true`` (the confirmation window after a solution, the
survey) hold time that is the customer's, not the desk's: they are left out of the
bottleneck ranking and of the desk's time (``desk_share``); :func:`time_split` reports
the customer's time beside the desk's.

Compute the log once per cycle with :func:`process_log` and pass it to every function
of this module (each also accepts the raw events and builds it itself)::

    log = process_log(data.events, data.config.process)
    stage_metrics(log, process); stage_flow(log, process); variants(log, process)

The log sorts the events once (ticket, time; ties keep file order), codes tickets,
stages, activities and teams as integers and cuts the visits; every figure is then a
group-by, a shift or a join on those codes: linear in the events, no Python per ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxassess import engines
from cxassess.calendar import BusinessCalendar, hours_between, utc_instants
from cxassess.config import Process
from cxassess.errors import InputError
from cxassess.findings import Finding, interval, number
from cxassess.kpis._frame import collect, epoch_micros, lazy_like, on_business_clock
from cxassess.kpis.satisfaction import csat, fill_scale
from cxassess.stats import (
    counted_medians,
    difference_of_estimates,
    difference_of_proportions,
    group_order,
    median_interval,
    median_intervals,
    se_from_interval,
    verdict,
)

__all__ = [
    "ProcessLog", "process_log", "stage_volume", "ordered", "stage_visits", "throughput_times",
    "directly_follows", "stage_metrics", "time_split", "stage_flow", "handoffs", "variants", "conformance",
    "path_attributes", "path_shares", "satisfaction_by_path", "stage_assessment", "compare_stages",
    "STAGE_MIN_IMPORTANT_HOURS", "PAGE", "stage_findings", "findings", "cycle_log", "cycle_events", "CYCLE_TABLES",
    "cycle_table",
]

UNMAPPED = "(unmapped)"
_HOUR = np.timedelta64(1, "h")

Events = "pd.DataFrame | ProcessLog"


@dataclass(frozen=True, eq=False)
class ProcessLog:
    """An event log prepared once for every process figure of a cycle.

    Built by :func:`process_log`. The events are sorted once by ticket and time (ties
    keep file order); tickets, stages, activities and teams are integer codes into
    ``tickets``, ``stages``, ``activities`` and ``teams``; the visits are cut once.
    The per-event and per-visit arrays are in that sorted order. Nothing here modifies
    the events it was built from.

    Parameters
    ----------
    process : Process or None
        The process of review.yml it was built with (``None``: stages from the log only).
    events : pandas.DataFrame
        The events as given (not copied, not modified).
    order : numpy.ndarray
        Row positions of ``events`` in ticket-and-time order.
    tickets, stages : pandas.Index
        The values behind the codes: tickets sorted, stages in process order then the
        others sorted.
    tz : tzinfo or None
        The time zone of the events' timestamps (``None``: naive timestamps).
    ticket, time, stage : numpy.ndarray
        Per event (sorted): codes, and the timestamps as UTC ``datetime64``; ``activity``
        and ``team`` (``-1``: no team named) are coded when first used.
    visit_first, visit_ticket, visit_stage, visit_entered, visit_left, visit_events : numpy.ndarray
        Per visit (consecutive events of a ticket in one stage), in ticket and time order:
        its first event (position), ticket, stage, first and next timestamps, events.
    _cache : dict, optional
        Figures computed once (hours, visits per stage, moves...); filled as they are used.

    Attributes
    ----------
    activities, teams : pandas.Index
        The values behind the activity and team codes; ``teams`` is ``None`` when the log
        has no ``team`` column.

    Examples
    --------
    Ticket A enters ``intake`` at 8:00 and moves to ``done`` at 10:00; ticket B has one
    event. Without a process the stages are sorted by name.

    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
    ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
    ...                                                 "2026-07-01 09:00"])})
    >>> log = process_log(ev)
    >>> log.n_tickets, list(log.stages), log.visit_ticket.tolist(), log.visit_stage.tolist()
    (2, ['done', 'intake'], [0, 0, 1], [1, 0, 1])
    """

    process: Process | None
    events: pd.DataFrame
    order: np.ndarray
    tickets: pd.Index
    stages: pd.Index
    tz: object
    ticket: np.ndarray
    time: np.ndarray
    stage: np.ndarray
    visit_first: np.ndarray
    visit_ticket: np.ndarray
    visit_stage: np.ndarray
    visit_entered: np.ndarray
    visit_left: np.ndarray
    visit_events: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def _activity_codes(self) -> tuple[np.ndarray, pd.Index]:
        return _factorized_activity(self.events, self.order)

    @property
    def activity(self) -> np.ndarray:
        """Per event (sorted): activity code (``-1``: none)."""
        return self._activity_codes[0]

    @property
    def activities(self) -> pd.Index:
        """The activities behind the codes."""
        return self._activity_codes[1]

    @cached_property
    def _team_codes(self) -> tuple[np.ndarray | None, pd.Index | None]:
        if "team" not in self.events.columns:
            return None, None
        raw, names = pd.factorize(self.events["team"])
        return raw[self.order], pd.Index(names)

    @property
    def team(self) -> np.ndarray | None:
        """Per event (sorted): team code (``-1``: no team named); ``None`` without a team column."""
        return self._team_codes[0]

    @property
    def teams(self) -> pd.Index | None:
        """The teams behind the codes (``None`` when the log has no team column)."""
        return self._team_codes[1]

    @cached_property
    def visit_activity(self) -> np.ndarray:
        """Per visit: code of its first activity."""
        return self.activity[self.visit_first]

    @cached_property
    def visit_team(self) -> np.ndarray:
        """Per visit: code of the first team named in it (``-1``: none)."""
        out = np.full(len(self.visit_first), -1, dtype=np.int64)
        if self.team is not None:
            named = np.flatnonzero(self.team >= 0)
            which = np.searchsorted(self.visit_first, named, side="right") - 1
            lead = np.r_[True, which[1:] != which[:-1]] if len(which) else np.zeros(0, dtype=bool)
            out[which[lead]] = self.team[named[lead]]
        return out

    @property
    def n_tickets(self) -> int:
        """Tickets of the log."""
        return len(self.tickets)

    @cached_property
    def visit_number(self) -> np.ndarray:
        """Per visit: its number within the ticket, from 0."""
        start = np.flatnonzero(np.r_[True, self.visit_ticket[1:] != self.visit_ticket[:-1]])
        counts = np.diff(np.r_[start, len(self.visit_ticket)])
        return np.arange(len(self.visit_ticket)) - np.repeat(start, counts)

    @cached_property
    def visit_moves(self) -> np.ndarray:
        """Per visit: ``True`` when another visit of the same ticket follows (a move)."""
        t = self.visit_ticket
        return np.r_[t[1:] == t[:-1], False]

    def hours(self, calendar: BusinessCalendar | None = None) -> np.ndarray:
        """Per visit: hours from entering to leaving, calendar or business time.

        Parameters
        ----------
        calendar : BusinessCalendar, optional
            Business hours instead of calendar hours.

        Returns
        -------
        numpy.ndarray
            Hours per visit, in the log's visit order.

        Examples
        --------
        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.hours().tolist()  # A in intake 8:00-10:00, A's last visit and B's single event last 0 h
        [2.0, 0.0, 0.0]
        """
        key = ("hours", id(calendar))
        if key not in self._cache or self._cache[key][0] is not calendar:
            if calendar is None:
                value = (self.visit_left - self.visit_entered) / _HOUR
            else:
                value = hours_between(self._stamps(self.visit_entered), self._stamps(self.visit_left), calendar)
            self._cache[key] = (calendar, np.asarray(value, dtype=float))
        return self._cache[key][1]

    def _stamps(self, values: np.ndarray) -> pd.Series:
        stamps = pd.Series(values)
        return stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz) if self.tz is not None else stamps

    def visits(self, calendar: BusinessCalendar | None = None) -> pd.DataFrame:
        """The visits as a table (see :func:`stage_visits`).

        Parameters
        ----------
        calendar : BusinessCalendar, optional
            Business hours instead of calendar hours.

        Returns
        -------
        pandas.DataFrame
            ``ticket_id, visit, stage, entered, left, hours, events, team, first_activity``.

        Examples
        --------
        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.visits()[["ticket_id", "visit", "stage", "hours", "team"]].values.tolist()
        [['A', 0, 'intake', 2.0, 't1'], ['A', 1, 'done', 0.0, 't2'], ['B', 0, 'intake', 0.0, 't1']]
        """
        team = (self.teams.take(self.visit_team, allow_fill=True, fill_value=None) if self.teams is not None
                else pd.Index([pd.NA] * len(self.visit_ticket), dtype="str"))
        return pd.DataFrame({
            "ticket_id": self.tickets.take(self.visit_ticket),
            "visit": self.visit_number,
            "stage": self.stages.take(self.visit_stage),
            "entered": self._stamps(self.visit_entered),
            "left": self._stamps(self.visit_left),
            "hours": self.hours(calendar),
            "events": self.visit_events,
            "team": team,
            "first_activity": self.activities.take(self.visit_activity, allow_fill=True, fill_value=None),
        })

    def stage_tickets(self, calendar: BusinessCalendar | None = None) -> pd.DataFrame:
        """One row per ticket and stage it reached: ``stage, ticket`` (codes), ``hours``
        (all its visits together), ``visits`` and ``leaves`` (a visit followed by another
        stage). Rows by stage, tickets in order within a stage.

        Parameters
        ----------
        calendar : BusinessCalendar, optional
            Business hours instead of calendar hours.

        Returns
        -------
        pandas.DataFrame
            ``stage, ticket, hours, visits, leaves``.

        Examples
        --------
        Stage 0 is ``done`` (reached by A), stage 1 ``intake`` (A, which leaves it, and B).

        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.stage_tickets()[["stage", "ticket", "hours", "leaves"]].values.tolist()
        [[0, 0, 0.0, False], [1, 0, 2.0, True], [1, 1, 0.0, False]]
        """
        key = ("stage_tickets", id(calendar))
        if key not in self._cache or self._cache[key][0] is not calendar:
            k = len(self.stages)
            pair = self.visit_ticket.astype(np.int64) * k + self.visit_stage
            order = _grouped(pair, self.n_tickets * k)  # a ticket's visits to one stage together
            pair = pair[order]
            first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, dtype=np.int64)
            hours = self.hours(calendar)[order]
            visits = np.diff(np.r_[first, len(pair)])
            total = np.add.reduceat(hours, first) if len(first) else np.zeros(0)
            many = np.flatnonzero(visits > 2)
            if len(many):  # three visits or more: summed as pandas sums (compensated), for identical figures
                at = np.flatnonzero(np.repeat(visits > 2, visits))
                total[many] = pd.Series(hours[at]).groupby(np.repeat(many, visits[many]), sort=True).sum().to_numpy()
            leaves = np.add.reduceat(self.visit_moves[order].astype(np.int64), first) > 0 if len(first) else \
                np.zeros(0, dtype=bool)
            table = pd.DataFrame({"stage": pair[first] % k, "ticket": pair[first] // k, "hours": total,
                                  "visits": visits, "leaves": leaves})
            table = table.take(_grouped(table["stage"].to_numpy(), k)).reset_index(drop=True)
            self._cache[key] = (calendar, table)
        return self._cache[key][1]

    def moves(self) -> pd.DataFrame:
        """Each visit followed by another: ``ticket, source, target`` (codes), ``hours``
        in the stage left (calendar time) and ``allowed`` by review.yml's transitions
        (every move when it lists none).

        Returns
        -------
        pandas.DataFrame
            ``ticket, source, target, at, allowed``: ``at`` is the position of the visit
            left.

        Examples
        --------
        A moves from ``intake`` (code 1) to ``done`` (code 0); without a process every move
        is allowed.

        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.moves()[["ticket", "source", "target", "allowed"]].values.tolist()
        [[0, 1, 0, True]]
        """
        if "moves" not in self._cache:
            at = np.flatnonzero(self.visit_moves)
            source, target = self.visit_stage[at], self.visit_stage[at + 1]
            self._cache["moves"] = pd.DataFrame({
                "ticket": self.visit_ticket[at], "source": source, "target": target, "at": at,
                "allowed": self.allowed[source, target],
            })
        return self._cache["moves"]

    @cached_property
    def allowed(self) -> np.ndarray:
        """Stage × stage: is the move allowed by review.yml's transitions (all when none)."""
        k = len(self.stages)
        transitions = self.process.transitions if self.process is not None else ()
        if not transitions:
            return np.ones((k, k), dtype=bool)
        table = np.zeros((k, k), dtype=bool)
        code = {name: i for i, name in enumerate(self.stages)}
        for a, b in transitions:
            if a in code and b in code:
                table[code[a], code[b]] = True
        return table

    @cached_property
    def ticket_first(self) -> np.ndarray:
        """Per ticket: position of its first event (sorted events)."""
        return np.flatnonzero(np.r_[True, self.ticket[1:] != self.ticket[:-1]]) if len(self.ticket) else \
            np.zeros(0, dtype=np.int64)

    @cached_property
    def span(self) -> tuple[np.ndarray, np.ndarray]:
        """Per ticket: its first and last timestamp (missing timestamps left out)."""
        if not len(self.ticket):
            return self.time[:0], self.time[:0]
        raw = self.time.view("i8")
        nat = np.isnat(self.time)
        low = np.minimum.reduceat(np.where(nat, np.iinfo(np.int64).max, raw), self.ticket_first)
        high = np.maximum.reduceat(np.where(nat, np.iinfo(np.int64).min, raw), self.ticket_first)
        none = np.isin(low, [np.iinfo(np.int64).max])
        low[none], high[none] = np.iinfo(np.int64).min, np.iinfo(np.int64).min  # NaT
        return low.view(self.time.dtype), high.view(self.time.dtype)

    @cached_property
    def resolved(self) -> np.ndarray:
        """Per ticket: it has a resolution activity of review.yml."""
        names = self.process.resolution_activities if self.process is not None else ()
        return self.with_activity(names)

    def with_activity(self, names: Sequence[str]) -> np.ndarray:
        """Per ticket: ``True`` when one of its events is one of the activities ``names``.

        Parameters
        ----------
        names : sequence of str
            The activities.

        Returns
        -------
        numpy.ndarray of bool
            One flag per ticket, in the order of :attr:`tickets`.

        Examples
        --------
        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.with_activity(["out"]).tolist()  # only A has an "out" event
        [True, False]
        """
        hit = np.zeros(self.n_tickets, dtype=bool)
        if names and "activity" in self.events.columns:
            found = self.events["activity"].isin(list(names)).to_numpy(dtype=bool, na_value=False)
            hit[self.ticket[found[self.order]]] = True
        return hit

    def ticket_flags(self, ids: Sequence | pd.Series | None) -> np.ndarray:
        """Per ticket: ``True`` for the tickets whose id is in ``ids``.

        Parameters
        ----------
        ids : sequence or pandas.Series or None
            Ticket ids; ids not in the log and missing values are ignored; ``None``: none.

        Returns
        -------
        numpy.ndarray of bool
            One flag per ticket, in the order of :attr:`tickets`.

        Examples
        --------
        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.ticket_flags(["B", "Z"]).tolist(), log.ticket_flags(None).tolist()
        ([False, True], [False, False])
        """
        flag = np.zeros(self.n_tickets, dtype=bool)
        if ids is None:
            return flag
        wanted = pd.Index(pd.Series(ids).dropna().unique())
        try:
            wanted = wanted.astype(self.tickets.dtype)
        except (TypeError, ValueError):
            pass
        at = self.tickets.get_indexer(wanted)
        flag[at[at >= 0]] = True
        return flag

    def ticket_codes(self, ids: pd.Series) -> np.ndarray:
        """The code of each id (``-1`` for an id not in the log).

        Parameters
        ----------
        ids : pandas.Series
            Ticket ids.

        Returns
        -------
        numpy.ndarray
            One code per id, in the order of ``ids``.

        Examples
        --------
        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> log.ticket_codes(pd.Series(["B", "Z", "A"])).tolist()
        [1, -1, 0]
        """
        values = pd.Index(ids)
        try:
            values = values.astype(self.tickets.dtype)
        except (TypeError, ValueError):
            pass
        return self.tickets.get_indexer(values)

    def handoff_arrays(self) -> dict[str, np.ndarray]:
        """Changes of team between consecutive events naming a team: per change the
        ``ticket``, ``from_team``, ``to_team`` and ``ping_pong`` (back to the team left at
        the previous change of the ticket).

        Returns
        -------
        dict of str to numpy.ndarray
            ``ticket`` (codes), ``from_team`` and ``to_team`` (codes into :attr:`teams`) and
            ``ping_pong``, one entry per change.

        Examples
        --------
        A goes from team t1 (code 0) to t2 (code 1); B stays with t1.

        >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["in", "out", "in"],
        ...                    "stage": ["intake", "done", "intake"], "team": ["t1", "t2", "t1"],
        ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
        ...                                                 "2026-07-01 09:00"])})
        >>> log = process_log(ev)
        >>> {key: value.tolist() for key, value in log.handoff_arrays().items()}
        {'ticket': [0], 'from_team': [0], 'to_team': [1], 'ping_pong': [False]}
        """
        if "handoffs" not in self._cache:
            named = np.flatnonzero(self.team >= 0) if self.team is not None else np.zeros(0, dtype=np.int64)
            ticket, team = self.ticket[named], self.team[named]
            moved = np.r_[False, (ticket[1:] == ticket[:-1]) & (team[1:] != team[:-1])]
            at = np.flatnonzero(moved)
            t, a, b = ticket[at], team[at - 1], team[at]
            pong = np.r_[False, (t[1:] == t[:-1]) & (b[1:] == a[:-1])]
            self._cache["handoffs"] = {"ticket": t, "from_team": a, "to_team": b, "ping_pong": pong}
        return self._cache["handoffs"]


def process_log(events: pd.DataFrame | ProcessLog, process: Process | None = None) -> ProcessLog:
    """Prepare an event log once for every process figure of a cycle.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log: ``ticket_id, timestamp, activity``, optional ``stage`` (else the
        review.yml mapping of the activity; ``(unmapped)`` without one) and ``team``.
        Events without a timestamp are left out (their place in a path is unknown; the
        data-quality gate quarantines them with their reason), as the engines leave them
        out. A :class:`ProcessLog` is returned as it is.
    process : Process, optional
        The process of review.yml (stages, activity mapping, transitions).

    Returns
    -------
    ProcessLog
        Pass it to any function of :mod:`cxassess.process` instead of the events.

    Raises
    ------
    InputError
        The log lacks ``ticket_id`` or ``timestamp``, an event has no ``ticket_id``,
        ``timestamp`` is not a timestamp column, or a given :class:`ProcessLog` was built
        with another process.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["B", "A", "A"], "activity": ["in", "in", "out"],
    ...                    "stage": ["intake", "intake", "done"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 09:00", "2026-07-01 08:00", "2026-07-01 10:00"])})
    >>> log = process_log(ev)
    >>> list(log.tickets), list(log.stages), log.visit_stage.tolist(), log.hours().tolist()
    (['A', 'B'], ['done', 'intake'], [1, 0, 1], [2.0, 0.0, 0.0])
    """
    if isinstance(events, ProcessLog):
        if process is not None and events.process is not None and events.process != process:
            raise InputError("the process log was built with another process than the one given",
                             fix="build it with process_log(events, process) for this process")
        return events
    missing = [c for c in ("ticket_id", "timestamp") if c not in events.columns]
    if missing:
        raise InputError(f"the event log has no column {', '.join(missing)} (columns: {', '.join(map(str, events.columns))})",
                         fix="load it with cxassess.load_cycle, or name its columns ticket_id, timestamp, activity")
    stamps = events["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        raise InputError(f"events.timestamp is not a timestamp column (dtype {stamps.dtype})",
                         fix="load the log with cxassess.load_cycle, or parse it with pandas.to_datetime")
    timed = stamps.notna().to_numpy()
    if not timed.all():  # an event without a time has no place in a path: left out, as the engines do
        events, stamps = events.loc[timed], stamps.loc[timed]
    tickets_raw, tickets = pd.factorize(events["ticket_id"], sort=True)
    if (tickets_raw < 0).any():
        raise InputError(f"the event log has {int((tickets_raw < 0).sum())} event(s) without a ticket_id",
                         fix="drop them or run the data-quality gate (cxassess validate), which quarantines them")
    tz = getattr(stamps.dt, "tz", None)
    time = utc_instants(stamps)
    key = time.view("i8")
    step = np.diff(tickets_raw)
    if (step >= 0).all() and (np.diff(key)[step == 0] >= 0).all():
        order = np.arange(len(events))  # already in ticket and time order
    elif (np.diff(key) >= 0).all():  # in time order (as exports often are): group the tickets, keeping it
        order = _grouped(tickets_raw, len(tickets))
    else:
        by_time = np.argsort(key, kind="stable")  # ties keep file order
        order = by_time[_grouped(tickets_raw[by_time], len(tickets))]
    activity = None
    if "stage" in events.columns and events["stage"].notna().any():
        stage_raw, names = pd.factorize(events["stage"])
        stage_raw = stage_raw[order]
        names = [str(s) for s in names]
    else:
        mapping = process.activities if process is not None else {}
        activity = _factorized_activity(events, order)
        names = [mapping.get(a, UNMAPPED) for a in activity[1]]
        stage_raw = activity[0]
    names = names + [UNMAPPED]  # code -1 (no stage, no activity)
    stages = pd.Index(_stage_order(process, set(names[:-1]) | ({UNMAPPED} if (stage_raw < 0).any() else set())),
                      dtype="str")
    recode = stages.get_indexer(names)
    stage_sorted = recode[stage_raw]
    ticket, time = tickets_raw[order], time[order]
    n = len(ticket)
    new_ticket = np.r_[True, ticket[1:] != ticket[:-1]] if n else np.zeros(0, dtype=bool)
    new_visit = new_ticket | np.r_[True, stage_sorted[1:] != stage_sorted[:-1]] if n else new_ticket
    first = np.flatnonzero(new_visit)
    visit_ticket = ticket[first]
    log = ProcessLog(
        process=process, events=events, order=order, tickets=tickets, stages=stages, tz=tz,
        ticket=ticket, time=time, stage=stage_sorted, visit_first=first,
        visit_ticket=visit_ticket, visit_stage=stage_sorted[first], visit_entered=time[first],
        visit_left=time[first], visit_events=np.diff(np.r_[first, n]),
    )
    if activity is not None:
        log.__dict__["_activity_codes"] = activity  # already factorized for the stages: kept
    moves = log.visit_moves
    last = log.span[1][visit_ticket]
    left = np.where(moves, np.r_[log.visit_entered[1:], log.visit_entered[:1]], last)
    object.__setattr__(log, "visit_left", left)
    return log


def cycle_log(cycle: object) -> ProcessLog:
    """The :func:`process_log` of a cycle's events with its review.yml process, built once per
    cycle however many sections ask for it (:meth:`cxassess.cycles.Cycle.once`) and kept with
    the cycle.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (events needed).

    Returns
    -------
    ProcessLog

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> c = load_cycle("data/sample", "2026Q3")
    >>> cycle_log(c) is cycle_log(c)
    True
    """
    process = cycle.config.process
    if not hasattr(cycle, "once"):
        return process_log(cycle.events, process)
    return cycle.once(("process_log",), lambda: process_log(cycle.events, process))


def cycle_events(cycle: object) -> ProcessLog | object:
    """The event log a page gives the functions of this module: on pandas the cycle's
    :func:`cycle_log`; when the review runs on an engine (review.yml ``engine``,
    ``CXASSESS_ENGINE``: :func:`cxassess.engines.engine_of`), the cycle's events opened
    there as a lazy frame (:func:`cxassess.engines.on_engine`, once per cycle), which every
    function of the module that a page calls aggregates in the engine: no event log is read
    into memory or cut into visits here.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (events needed).

    Returns
    -------
    ProcessLog or a lazy frame
        The log, or the events on the engine (a Polars LazyFrame, a DuckDB relation, a
        Spark DataFrame).

    Examples
    --------
    >>> import os
    >>> from cxassess.cycles import load_cycle
    >>> os.environ.pop("CXASSESS_ENGINE", None) and None
    >>> c = load_cycle("data/sample", "2026Q3")
    >>> cycle_events(c) is cycle_log(c)
    True
    >>> os.environ["CXASSESS_ENGINE"] = "duckdb"
    >>> type(cycle_events(load_cycle("data/sample", "2026Q3"))).__name__
    'DuckDBPyRelation'
    >>> del os.environ["CXASSESS_ENGINE"]
    """
    lazy = _engine_log(cycle)
    return lazy if lazy is not None else cycle_log(cycle)


def _no_events(cycle: object) -> bool:
    """The cycle holds no event log: asked of its tables, without reading a stored log."""
    tables = getattr(cycle, "tables", None)
    return cycle.events is None if tables is None else "events" not in tables


def _engine_log(cycle: object) -> object | None:
    """The cycle's events on the review's engine (a lazy frame), ``None`` on pandas."""
    config = getattr(cycle, "config", None)
    if config is None or not hasattr(config, "engine") or not hasattr(cycle, "once"):
        return None
    if engines.engine_of(config) == "pandas":
        return None
    return engines.on_engine(cycle).events


#: The tables of a cycle's event log that more than one page of the review shows
#: (:func:`cycle_table`).
CYCLE_TABLES = ("stage_metrics", "stage_flow", "stage_assessment", "conformance", "deviations")


def cycle_table(cycle: object, name: str) -> pd.DataFrame:
    """A table of the cycle's event log that more than one page of the review shows,
    computed once per review run: the first page that asks computes it and keeps it beside
    the run's checked tables (:meth:`cxassess.cycles.Cycle.once` with ``keep``), the other
    pages read it. A page that needs only these tables of the event log never reads the
    log (the quality-audits page, after the process page).

    ========================  ==============================================================
    ``stage_metrics``         :func:`stage_metrics`
    ``stage_flow``            :func:`stage_flow` (calendar hours)
    ``stage_assessment``      :func:`stage_assessment`, with the stage metrics, the cycle's
                              tickets, and its surveys when the CSAT effect can be shown
                              (registry section ``stages.assessment_csat``)
    ``conformance``           :func:`conformance`, per ticket
    ``deviations``            :func:`conformance`, the moves outside the designed flow
    ========================  ==============================================================

    Each is computed from the cycle's :func:`cycle_log` when this process already holds it;
    else the stage metrics come from the event log read for them alone and let go at once
    (the previous cycle's), the others from :func:`cycle_log`. When the review runs on an
    engine (:func:`cxassess.engines.engine_of`), each is aggregated there from the cycle's
    tables opened on it (:func:`cycle_events`; the assessment with the engine's tickets and
    surveys): no event log is read into memory, and the tables equal pandas'.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (events needed, and review.yml ``process``; ``transitions`` for the
        conformance tables).
    name : str
        One of :data:`CYCLE_TABLES`.

    Returns
    -------
    pandas.DataFrame
        The table.

    Raises
    ------
    InputError
        ``name`` is not one of :data:`CYCLE_TABLES`.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> c = load_cycle("data/sample", "2026Q3")
    >>> flow = cycle_table(c, "stage_flow")
    >>> flow.equals(stage_flow(c.events, c.config.process)), cycle_table(c, "stage_flow") is flow
    (True, True)
    """
    from cxassess.registry import SECTIONS, gap

    if name not in CYCLE_TABLES:
        raise InputError(f"there is no cycle table named {name!r}", fix=f"ask for one of {', '.join(CYCLE_TABLES)}")
    process = cycle.config.process
    held = getattr(cycle, "computed", {})

    def metrics() -> pd.DataFrame:
        if _engine_log(cycle) is not None or ("process_log",) in held or not hasattr(cycle, "read_once"):
            return stage_metrics(cycle_events(cycle), process)
        return stage_metrics(process_log(cycle.read_once("events"), process), process)

    def assessment() -> pd.DataFrame:
        csat_shown = gap(cycle, SECTIONS["stages.assessment_csat"]) is None
        on_engine = _engine_log(cycle) is not None
        tables = engines.on_engine(cycle) if on_engine else cycle  # the engine's tickets and surveys
        return stage_assessment(cycle_events(cycle), process, surveys=tables.surveys if csat_shown else None,
                                tickets=tables.tickets, metrics=cycle_table(cycle, "stage_metrics"),
                                scale=cycle.config.survey_scales.get("csat"))

    def conformed(part: int) -> pd.DataFrame:
        both = conformance(cycle_events(cycle), process)
        if hasattr(cycle, "once"):  # both halves kept: one page shows the deviations, another the tickets'
            cycle.once(("process", ("conformance", "deviations")[1 - part]), lambda: both[1 - part], keep=True)
        return both[part]

    compute = {
        "stage_metrics": metrics,
        "stage_flow": lambda: stage_flow(cycle_events(cycle), process),
        "stage_assessment": assessment,
        "conformance": lambda: conformed(0),
        "deviations": lambda: conformed(1),
    }[name]
    if not hasattr(cycle, "once"):
        return compute()
    return cycle.once(("process", name), compute, keep=True)


def _factorized_activity(events: pd.DataFrame, order: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    if "activity" not in events.columns:
        return np.full(len(order), -1, dtype=np.int64), pd.Index([], dtype="str")
    raw, names = pd.factorize(events["activity"])
    return raw[order], pd.Index(names)


def _grouped(codes: np.ndarray, size: int) -> np.ndarray:
    """Positions that put ``codes`` (``0 .. size - 1``) in order, equal codes keeping
    their order (a stable sort, done as one sort of unique integer keys).
    """
    n = len(codes)
    if size * max(n, 1) < 2**62:
        return np.sort(codes.astype(np.int64) * n + np.arange(n)) % max(n, 1)
    return np.argsort(codes, kind="stable")


def _group_medians(values: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Median of ``values`` per group (``0 .. size - 1``), as numpy and pandas compute it
    (mean of the two middle values when n is even); missing values left out.
    """
    keep = ~np.isnan(values)
    values, group = values[keep], group[keep]
    n = np.bincount(group, minlength=size)
    if np.count_nonzero(n) <= 1000:  # few groups: one partition per group, linear
        grouped = values[_grouped(group, size)]
        bounds = np.r_[0, np.cumsum(n)]
        out = np.full(size, np.nan)
        for g in np.flatnonzero(n):
            out[g] = np.median(grouped[bounds[g]:bounds[g + 1]])
        return out
    order = group_order(group, values)
    x = values[order]
    start = np.r_[0, np.cumsum(n)[:-1]]
    out = np.full(size, np.nan)
    ok = n > 0
    s, m = start[ok], n[ok]
    low, high = x[s + (m - 1) // 2], x[s + m // 2]
    out[ok] = np.where(m % 2 == 1, high, (low + high) / 2)
    return out


def _stage_order(process: Process | None, present: Sequence[str]) -> list[str]:
    names = process.stage_names if process is not None else []
    return names + sorted(s for s in set(present) if s not in names)


def _customer_stages(process: Process | None) -> set[str]:
    return {s.name for s in process.stages if s.customer_time} if process is not None else set()


def stage_volume(events: pd.DataFrame | ProcessLog, process: Process) -> pd.DataFrame:
    """Tickets that pass through each stage, in process order.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`.
    process : Process
        The process of review.yml.

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
    if isinstance(events, ProcessLog):
        log = process_log(events, process)
        total = log.n_tickets
        reached = pd.Series(np.bincount(log.stage_tickets()["stage"], minlength=len(log.stages)), index=log.stages)
    else:  # the log's own stage column, as it is (one group-by; no need to build the process log)
        total = events["ticket_id"].nunique()
        reached = events.groupby(events["stage"].fillna(UNMAPPED))["ticket_id"].nunique()
    rows = [(s.name, s.label, s.lane) for s in process.stages]
    if reached.get(UNMAPPED, 0) > 0:
        rows.append((UNMAPPED, "activities without a stage", ""))
    out = pd.DataFrame(rows, columns=["stage", "label", "lane"])
    out["tickets"] = out["stage"].map(reached).fillna(0).astype("int64")
    out["share"] = out["tickets"] / total if total else float("nan")
    return out


def ordered(events: pd.DataFrame | ProcessLog, process: Process | None = None) -> pd.DataFrame:
    """Events sorted by ticket and time (ties keep file order), with ``stage`` from the
    review.yml mapping where the log has none (``(unmapped)`` when an activity has no stage).

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`.
    process : Process, optional
        The process of review.yml, for the stages of the activities.

    Returns
    -------
    pandas.DataFrame
        The events' columns in ticket-and-time order, with ``stage``; a new frame.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["B", "A", "A"], "stage": ["intake", "done", "intake"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 09:00", "2026-07-01 10:00",
    ...                                                 "2026-07-01 08:00"])})
    >>> ordered(ev)[["ticket_id", "stage"]].values.tolist()
    [['A', 'intake'], ['A', 'done'], ['B', 'intake']]
    """
    log = process_log(events, process)
    ev = log.events.take(log.order).reset_index(drop=True)
    ev["stage"] = pd.Series(log.stages.take(log.stage), dtype="str")
    return ev


def stage_visits(
    events: pd.DataFrame | ProcessLog, process: Process | None = None, *, calendar: BusinessCalendar | None = None
) -> pd.DataFrame:
    """One row per visit of a ticket to a stage: consecutive events in the same stage.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`.
    process : Process, optional
        The process of review.yml, for the stages of the activities.
    calendar : BusinessCalendar, optional
        Business hours instead of calendar hours.

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
    return process_log(events, process).visits(calendar)


def throughput_times(events: pd.DataFrame | ProcessLog) -> pd.DataFrame:
    """Per ticket: first and last event and the hours between them (calendar time).

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log (``ticket_id, timestamp``), or its :func:`process_log`.

    Returns
    -------
    pandas.DataFrame
        ``ticket_id, start, end, hours``, tickets sorted.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:30", "2026-07-02 00:00"])})
    >>> throughput_times(ev)["hours"].tolist()
    [2.5, 0.0]
    """
    log = process_log(events)
    start, end = log.span
    return pd.DataFrame({"ticket_id": log.tickets, "start": log._stamps(start), "end": log._stamps(end),
                         "hours": (end - start) / _HOUR})


def _pairs(source: np.ndarray, target: np.ndarray, hours: np.ndarray | None, names_s: pd.Index,
           names_t: pd.Index, ticket: np.ndarray | None = None) -> pd.DataFrame:
    """Count (and median ``hours``) of each (source, target) pair of codes, sorted by
    names; with ``ticket`` (rows in ticket order), also the tickets with the pair.
    """
    k = len(names_t)
    size = len(names_s) * k
    edge = source.astype(np.int64) * k + target
    count = np.bincount(edge, minlength=size)
    present = np.flatnonzero(count)
    out = pd.DataFrame({"source": names_s.take(present // k), "target": names_t.take(present % k),
                        "count": count[present]})
    if hours is not None:
        out["median_hours"] = _group_medians(np.asarray(hours, dtype=float), edge, size)[present]
    if ticket is not None:
        order = _grouped(edge, size)  # within a pair, rows keep their (ticket) order
        e, t = edge[order], ticket[order]
        new = np.r_[True, (e[1:] != e[:-1]) | (t[1:] != t[:-1])] if len(e) else np.zeros(0, dtype=bool)
        out["tickets"] = np.bincount(e[new], minlength=size)[present]
    out["_source"], out["_target"] = present // k, present % k
    return out.sort_values(["source", "target"], kind="stable").reset_index(drop=True)


def directly_follows(
    events: pd.DataFrame | ProcessLog, *, on: str = "activity", process: Process | None = None
) -> pd.DataFrame:
    """Directly-follows counts: how often ``b`` comes right after ``a`` in a ticket.

    ``on="activity"`` counts activities (what pm4py's DFG counts); ``on="stage"`` counts
    moves between stage visits (a stage followed by itself is one visit, so it is not an
    edge). ``median_hours`` is the median time between the two.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`.
    on : str, default "activity"
        ``activity``, ``stage`` or another column of the events to count.
    process : Process, optional
        The process of review.yml, for the stages of the activities.

    Returns
    -------
    pandas.DataFrame
        ``source, target, count, median_hours``, sorted by source and target.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "A", "B", "B"], "activity": ["x", "y", "x", "x", "y"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00", "2026-07-01 11:00",
    ...                                                 "2026-07-02 08:00", "2026-07-02 08:30"])})
    >>> directly_follows(ev).values.tolist()
    [['x', 'y', 2, 0.75], ['y', 'x', 1, 2.0]]
    """
    log = process_log(events, process)
    if on == "stage":
        at = np.flatnonzero(log.visit_moves)
        out = _pairs(log.visit_stage[at], log.visit_stage[at + 1], log.hours()[at], log.stages, log.stages)
    else:
        if on == "activity":
            codes, names = log.activity, log.activities
        else:
            codes, names = pd.factorize(log.events[on].to_numpy()[log.order])
            names = pd.Index(names)
        same = log.ticket[1:] == log.ticket[:-1]
        at = np.flatnonzero(same & (codes[1:] >= 0) & (codes[:-1] >= 0))
        hours = (log.time[at + 1] - log.time[at]) / _HOUR
        out = _pairs(codes[at], codes[at + 1], hours, names, names)
    return out[["source", "target", "count", "median_hours"]]


def stage_metrics(
    events: pd.DataFrame | ProcessLog,
    process: Process,
    *,
    resolved: pd.Series | None = None,
    calendar: BusinessCalendar | None = None,
) -> pd.DataFrame:
    """Per stage: volumes, time in stage, share of the desk's time and the bottleneck rank.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits in its engine with window functions (events at the same instant of
        a ticket in the order of their activity; events without a timestamp left out) and
        only per stage the distinct times in it with their counts come back: the median,
        its interval and the p90 are those of the times written out; hours and shares
        equal pandas' to 1e-9 relative (summed in whole microseconds), counts exactly.
    process : Process
        The process of review.yml.
    resolved : pandas.Series, optional
        Ticket ids that were resolved; tickets whose path ends in a stage without being
        resolved are counted as ``open_here`` there (drop-outs or still in progress at
        the cycle's end). Default: tickets with a resolution activity of review.yml.
    calendar : BusinessCalendar, optional
        Business hours instead of calendar hours.

    Returns
    -------
    pandas.DataFrame
        One row per stage in process order: ``stage, label, lane, entering, leaving,
        ending_here, open_here, loops`` (tickets that re-enter the stage), ``visits``,
        ``median_hours, ci_low, ci_high, p90_hours, se`` (time a ticket spends in the
        stage, all its visits together), ``total_hours``, ``share_of_time`` (of the
        elapsed time of all tickets, the customer's time included), ``desk_share`` (of
        the desk's time: the time in stages that are not ``customer_time``; empty for
        those), ``target_hours`` (review.yml), ``over_target`` (share of tickets above
        it), ``customer_time`` and ``bottleneck_rank`` (1 = the stage holding the most
        desk time; stages of customer time are not ranked).

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L"), Stage("c", "C", "L", customer_time=True)),
    ...             activities={})
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 4, "activity": "x", "stage": ["a", "b", "c", "c"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00",
    ...                                                 "2026-07-01 12:00", "2026-07-01 16:00"])})
    >>> m = stage_metrics(ev, p)
    >>> m[["stage", "total_hours", "share_of_time", "desk_share", "bottleneck_rank"]].values.tolist()
    [['a', 1.0, 0.125, 0.25, 2], ['b', 3.0, 0.375, 0.75, 1], ['c', 4.0, 0.5, nan, <NA>]]

    The same in an engine (here a Polars LazyFrame):

    >>> import polars as pl
    >>> stage_metrics(pl.from_pandas(ev).lazy(), p)["total_hours"].tolist()
    [1.0, 3.0, 4.0]
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_metrics(nw.from_native(events), process, resolved, calendar)
    log = process_log(events, process)
    pairs = log.stage_tickets(calendar)
    done = log.resolved if resolved is None else log.ticket_flags(resolved)
    k = len(log.stages)
    stage = pairs["stage"].to_numpy()
    bounds = np.r_[0, np.cumsum(np.bincount(stage, minlength=k))]
    hours_all = pairs["hours"].to_numpy(dtype=float)
    visits = pairs["visits"].to_numpy()
    last = np.flatnonzero(~log.visit_moves)
    ends = np.bincount(log.visit_stage[last], minlength=k)
    still_open = np.bincount(log.visit_stage[last[~done[log.visit_ticket[last]]]], minlength=k)
    leaving = np.bincount(stage, weights=pairs["leaves"].to_numpy(), minlength=k).astype("int64")
    total_time = pd.Series(log.hours(calendar)).sum()
    labels = {s.name: s for s in process.stages}
    customer = _customer_stages(process)
    rows = []
    for code, name in enumerate(log.stages):
        part = slice(bounds[code], bounds[code + 1])
        hours, n_visits = hours_all[part], visits[part]
        value, low, high = median_interval(hours)
        spec = labels.get(name)
        target = spec.target_hours if spec is not None else None
        rows.append({
            "stage": name, "label": spec.label if spec else name, "lane": spec.lane if spec else "",
            "entering": len(hours), "leaving": int(leaving[code]),
            "ending_here": int(ends[code]), "open_here": int(still_open[code]),
            "loops": int((n_visits > 1).sum()), "visits": int(n_visits.sum()),
            "median_hours": value, "ci_low": low, "ci_high": high,
            "p90_hours": float(np.quantile(hours, 0.9)) if len(hours) else np.nan,
            "se": float(se_from_interval(low, high)), "total_hours": float(hours.sum()),
            "share_of_time": float(hours.sum() / total_time) if total_time else np.nan,
            "target_hours": np.nan if target is None else float(target),
            "over_target": float((hours > target).mean()) if target is not None and len(hours) else np.nan,
            "customer_time": name in customer,
        })
    return _ranked_stages(rows)


def _ranked_stages(rows: list[dict]) -> pd.DataFrame:
    """The stage metrics' rows as a table with the desk's share of time and the bottleneck rank."""
    out = pd.DataFrame(rows)
    desk = ~out["customer_time"]
    desk_time = out.loc[desk, "total_hours"].sum()
    out.insert(out.columns.get_loc("share_of_time") + 1, "desk_share",
               (out["total_hours"] / desk_time).where(desk) if desk_time else np.nan)
    ranked = out[desk & (out["entering"] > 0)]["total_hours"].rank(ascending=False, method="min")
    out["bottleneck_rank"] = ranked.reindex(out.index).astype("Int64")
    return out


def _engine_metrics(df: nw.LazyFrame, process: Process, resolved: pd.Series | None,
                    calendar: BusinessCalendar | None) -> pd.DataFrame:
    """:func:`stage_metrics` of an event log in an engine: the visits are cut with window
    functions, each ticket's time in a stage summed over its visits (whole microseconds),
    and per stage only the distinct times come back with how many tickets spent each and
    the counts of leaving, looping, ending and still open tickets; the median, its
    interval and the p90 are those of the times written out
    (:func:`~cxassess.stats.median_intervals` with ``counts``).
    """
    ev, order = _engine_events(df, process, calendar)
    done = nw.lit(0, nw.Int64)  # no ticket resolved
    if resolved is not None:  # joined, not a list of literals: a cycle may resolve millions of tickets
        ids = pd.Series(resolved).dropna().astype(str).unique()
        if len(ids):
            table = lazy_like(ev, pd.DataFrame({"_id": ids, "_resolved": np.ones(len(ids), dtype="int64")}))
            ev = ev.with_columns(nw.col("ticket_id").cast(nw.String).alias("_id")).join(
                table, on="_id", how="left").drop("_id")
            done = nw.col("_resolved").fill_null(0).cast(nw.Int64)
    elif process.resolution_activities and "activity" in order:
        hit = nw.col("activity").is_in(list(process.resolution_activities)).fill_null(False)
        done = hit.cast(nw.Int64).max().over("ticket_id")
    ev = ev.with_columns(nw.col("_t").max().over("ticket_id").alias("_end"), done.alias("_done"))
    visits = _engine_visits(ev, order)
    last = nw.col("_target").is_null()
    visits = visits.with_columns(
        (nw.when(last).then(nw.col("_end")).otherwise(nw.col("_next")) - nw.col("_t")).alias("_stay"),
        (~last).cast(nw.Int64).alias("_moves"), last.cast(nw.Int64).alias("_last"))
    pairs = visits.group_by("ticket_id", "_stage").agg(
        nw.col("_stay").sum().cast(nw.Int64).alias("_micros"), nw.len().cast(nw.Int64).alias("_visits"),
        nw.col("_moves").max().alias("_leaves"), nw.col("_last").max().alias("_ends"),
        (nw.col("_last") * (1 - nw.col("_done"))).max().alias("_open"))
    counted = collect(pairs.group_by("_stage", "_micros").agg(
        nw.len().alias("_count"), nw.col("_leaves").sum().alias("leaving"),
        (nw.col("_visits") > 1).cast(nw.Int64).sum().alias("loops"), nw.col("_visits").sum().alias("visits"),
        nw.col("_ends").sum().alias("ending_here"), nw.col("_open").sum().alias("open_here"))).to_pandas()
    counts = ["_count", "leaving", "loops", "visits", "ending_here", "open_here"]
    counted = counted.astype({c: "int64" for c in counts})
    names = pd.Index(_stage_order(process, set(counted["_stage"])), dtype="str")
    code = names.get_indexer(counted["_stage"])
    k = len(names)
    n = counted["_count"].to_numpy()
    hours = _engine_hours(counted["_micros"].to_numpy(), calendar)
    stats = median_intervals(hours, code, k, counts=n)
    sums = {c: np.bincount(code, weights=counted[c].to_numpy(), minlength=k).astype("int64") for c in counts}
    total = np.bincount(code, weights=hours * n, minlength=k)
    total_time = total.sum()
    labels = {s.name: s for s in process.stages}
    customer = _customer_stages(process)
    rows = []
    for at, name in enumerate(names):
        spec = labels.get(name)
        target = spec.target_hours if spec is not None else None
        entering = int(sums["_count"][at])
        over = n[(code == at) & (hours > target)].sum() if target is not None else 0
        low, high = stats["ci_low"][at], stats["ci_high"][at]
        rows.append({
            "stage": name, "label": spec.label if spec else name, "lane": spec.lane if spec else "",
            "entering": entering, "leaving": int(sums["leaving"][at]),
            "ending_here": int(sums["ending_here"][at]), "open_here": int(sums["open_here"][at]),
            "loops": int(sums["loops"][at]), "visits": int(sums["visits"][at]),
            "median_hours": float(stats["value"][at]), "ci_low": float(low), "ci_high": float(high),
            "p90_hours": float(stats["p90"][at]),
            "se": float(se_from_interval(low, high)), "total_hours": float(total[at]),
            "share_of_time": float(total[at] / total_time) if total_time else np.nan,
            "target_hours": np.nan if target is None else float(target),
            "over_target": float(over / entering) if target is not None and entering else np.nan,
            "customer_time": name in customer,
        })
    return _ranked_stages(rows)


def time_split(metrics: pd.DataFrame) -> pd.DataFrame:
    """The elapsed time of all tickets split into the desk's time and the customer's
    time (stages flagged ``customer_time``: confirmation window, survey).

    ``metrics`` is the output of :func:`stage_metrics`. The stages' ``desk_share`` divides
    by the desk's hours of this table; the customer's time is reported here, beside it.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Stage metrics with ``label``, ``total_hours`` and ``customer_time``.

    Returns
    -------
    pandas.DataFrame
        ``time`` (``desk`` / ``customer``), ``stages`` (their labels), ``hours`` and
        ``share`` of all elapsed time.

    Examples
    --------
    >>> m = pd.DataFrame({"label": ["A", "B", "Survey"], "total_hours": [3.0, 1.0, 4.0],
    ...                   "customer_time": [False, False, True]})
    >>> time_split(m).values.tolist()
    [['desk', 'A, B', 4.0, 0.5], ['customer', 'Survey', 4.0, 0.5]]
    """
    total = metrics["total_hours"].sum()
    rows = []
    for kind, part in (("desk", metrics[~metrics["customer_time"]]), ("customer", metrics[metrics["customer_time"]])):
        hours = float(part["total_hours"].sum())
        rows.append({"time": kind, "stages": ", ".join(map(str, part["label"])), "hours": hours,
                     "share": hours / total if total else np.nan})
    return pd.DataFrame(rows)


def stage_flow(
    events: pd.DataFrame | ProcessLog, process: Process, *, calendar: BusinessCalendar | None = None
) -> pd.DataFrame:
    """Moves between stages: count, median time spent in the stage being left
    (``median_wait_hours``) and whether review.yml allows the move.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits and moves in its engine with window functions (events at the same
        instant of a ticket in the order of their activity; events without a timestamp
        left out) and only the moves per pair of stages, with their distinct waits, come
        back.
    process : Process
        The process of review.yml (its ``transitions`` say which moves are allowed).
    calendar : BusinessCalendar, optional
        Business hours instead of calendar hours.

    Returns
    -------
    pandas.DataFrame
        ``source, target, moves, tickets, median_wait_hours, allowed``, sorted by source and
        target (a pandas table for a lazy ``events``).

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L")), activities={}, transitions=(("a", "b"),))
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 3, "activity": ["x", "y", "z"], "stage": ["a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00", "2026-07-01 11:00"])})
    >>> stage_flow(ev, p)[["source", "target", "tickets", "median_wait_hours", "allowed"]].values.tolist()
    [['a', 'b', 1, 2.0, True], ['b', 'a', 1, 1.0, False]]
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_flow(nw.from_native(events), process, calendar)
    log = process_log(events, process)
    moves = log.moves()
    source, target = moves["source"].to_numpy(), moves["target"].to_numpy()
    out = _pairs(source, target, log.hours(calendar)[moves["at"].to_numpy()], log.stages, log.stages,
                 ticket=moves["ticket"].to_numpy())
    out["allowed"] = log.allowed[out["_source"].to_numpy(), out["_target"].to_numpy()]
    out = out.rename(columns={"count": "moves", "median_hours": "median_wait_hours"})
    return out[["source", "target", "moves", "tickets", "median_wait_hours", "allowed"]]


def _engine_events(df: nw.LazyFrame, process: Process | None, calendar: BusinessCalendar | None,
                   extra: Sequence[str] = (), *, staged: bool = True) -> tuple[nw.LazyFrame, list[str]]:
    """The events of a lazy log ready to be cut into visits: ``ticket_id``, ``_t`` (whole
    microseconds since the epoch, or of working time before the instant with a
    ``calendar``), ``_at`` (the instant), ``_stage`` (the log's stage, or the review.yml
    stage of the activity; ``(unmapped)`` without one) and the columns ``extra`` that
    exist (``staged=False``: no stages needed, ``_stage`` is ``(unmapped)``). Events without a
    timestamp are left out. Returns the frame and the window
    order of a ticket's events: time, then activity for events at the same instant.
    """
    names = df.collect_schema().names()
    has_activity = "activity" in names
    has_stage = "stage" in names and staged and not bool(  # a numpy bool from some engines
        collect(df.select(nw.col("stage").is_null().all()))["stage"].item())
    if has_stage:
        stage = nw.col("stage").fill_null(UNMAPPED)
    else:  # stages from the activities of review.yml
        stage = nw.lit(UNMAPPED)
        for activity, name in (process.activities.items() if has_activity and process is not None else ()):
            stage = nw.when(nw.col("activity") == activity).then(nw.lit(name)).otherwise(stage)
    base = ["ticket_id", "timestamp", *(["activity"] if has_activity else []), *(["stage"] if has_stage else [])]
    kept = [*base, *(c for c in extra if c in names and c not in base)]
    ev = epoch_micros(df.select(*kept), {"_t": "timestamp"}).filter(~nw.col("_t").is_null())
    ev = ev.with_columns(stage.cast(nw.String).alias("_stage"), nw.col("_t").alias("_at"))
    if calendar is not None:  # the waits in working time: each instant as the working time before it
        ev, _ = on_business_clock(ev, ["_t"], calendar, _first_instant(ev))
    return ev, ["_at", *(["activity"] if has_activity else [])]


def _engine_visits(ev: nw.LazyFrame, order: list[str]) -> nw.LazyFrame:
    """The first event of each visit (consecutive events of a ticket in one stage), with
    ``_target`` (the stage of the next visit; null for the ticket's last) and ``_next``
    (when the next visit starts, ``_t``'s clock).
    """
    ev = ev.with_columns(nw.col("_stage").shift(1).over("ticket_id", order_by=order).alias("_before"))
    visits = ev.filter(nw.col("_before").is_null() | (nw.col("_before") != nw.col("_stage")))
    return visits.with_columns(nw.col("_stage").shift(-1).over("ticket_id", order_by=order).alias("_target"),
                               nw.col("_t").shift(-1).over("ticket_id", order_by=order).alias("_next"))


def _engine_hours(micros: np.ndarray, calendar: BusinessCalendar | None) -> np.ndarray:
    """Durations in whole microseconds as hours, rounded as the pandas path rounds them."""
    micros = np.asarray(micros, dtype="float64")
    return micros / 3_600_000_000 if calendar is None else (micros / 1_000_000) / 3600  # as hours_between


def _engine_flow(df: nw.LazyFrame, process: Process, calendar: BusinessCalendar | None) -> pd.DataFrame:
    """:func:`stage_flow` of an event log in an engine: the visits are cut with window
    functions over each ticket's events in time order, the moves counted per pair of
    stages, and each pair's waits brought back as distinct values with their counts (for
    the median, :func:`~cxassess.stats.counted_medians`).
    """
    ev, order = _engine_events(df, process, calendar)
    visits = _engine_visits(ev, order)
    moves = visits.filter(~nw.col("_target").is_null()).with_columns((nw.col("_next") - nw.col("_t")).alias("_wait"))
    pair = ["_stage", "_target"]
    counted = collect(moves.group_by(pair).agg(nw.len().alias("moves"), nw.col("ticket_id").n_unique().alias("tickets")))
    waits = collect(moves.group_by([*pair, "_wait"]).agg(nw.len().alias("_count")))
    table = counted.to_pandas().rename(columns={"_stage": "source", "_target": "target"})
    table = table.sort_values(["source", "target"], kind="stable").reset_index(drop=True)
    w = waits.to_pandas()
    code = pd.MultiIndex.from_frame(table[["source", "target"]]).get_indexer(
        pd.MultiIndex.from_arrays([w["_stage"], w["_target"]]))
    hours = _engine_hours(w["_wait"].to_numpy(), calendar)
    table["median_wait_hours"] = counted_medians(hours, w["_count"].to_numpy(), code, len(table))
    allowed = set(map(tuple, process.transitions))
    table["allowed"] = [not allowed or (a, b) in allowed for a, b in zip(table["source"], table["target"], strict=True)]
    table = table.astype({"source": "str", "target": "str", "moves": "int64", "tickets": "int64"})
    return table[["source", "target", "moves", "tickets", "median_wait_hours", "allowed"]]


def _first_instant(ev: nw.LazyFrame) -> int:
    """The earliest event (microseconds), for the business clock's range."""
    return int(collect(ev.select(nw.col("_t").min()))["_t"].item())


def handoffs(events: pd.DataFrame | ProcessLog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Handoffs between teams and ping-pong.

    A handoff is a change of the team between consecutive events of a ticket that name
    a team (events without a team, e.g. automatic ones, are skipped); ping-pong is a
    return to the team just left (A → B → A).

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, team``), or its :func:`process_log`; a lazy
        frame (DuckDB, Spark, a Polars LazyFrame) is read in its engine with window
        functions (events at the same instant of a ticket in the order of their activity,
        then team; events without a timestamp left out): the pairs come back, and one row
        per ticket.

    Returns
    -------
    pairs : pandas.DataFrame
        ``from_team, to_team, handoffs, tickets``, one row per pair of teams.
    per_ticket : pandas.DataFrame
        ``ticket_id, handoffs, ping_pong``, one row per ticket.

    Raises
    ------
    InputError
        The event log has no ``team`` column.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A"] * 4 + ["B"], "team": ["t1", "spec", None, "t1", "t1"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 0%d:00" % h for h in range(5)])})
    >>> pairs, per_ticket = handoffs(ev)
    >>> pairs.values.tolist(), per_ticket.values.tolist()
    ([['spec', 't1', 1, 1], ['t1', 'spec', 1, 1]], [['A', 2, 1], ['B', 0, 0]])

    The same in an engine (here a Polars LazyFrame):

    >>> import polars as pl
    >>> [t.values.tolist() for t in handoffs(pl.from_pandas(ev).lazy())]
    [[['spec', 't1', 1, 1], ['t1', 'spec', 1, 1]], [['A', 2, 1], ['B', 0, 0]]]
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_handoffs(nw.from_native(events))
    log = process_log(events)
    if "team" not in log.events.columns:
        raise InputError("the event log has no team column: handoffs between teams cannot be seen",
                         fix="add events.team (the team handling each event)")
    change = log.handoff_arrays()
    teams = pd.Index(log.teams)
    out = _pairs(change["from_team"], change["to_team"], None, teams, teams, ticket=change["ticket"])
    pairs = pd.DataFrame({"from_team": out["source"], "to_team": out["target"],
                          "handoffs": out["count"].astype("int64"), "tickets": out["tickets"].astype("int64")})
    per_ticket = pd.DataFrame({
        "ticket_id": log.tickets,
        "handoffs": np.bincount(change["ticket"], minlength=log.n_tickets).astype("int64"),
        "ping_pong": np.bincount(change["ticket"][change["ping_pong"]], minlength=log.n_tickets).astype("int64"),
    })
    return pairs, per_ticket


def _engine_changes(df: nw.LazyFrame) -> tuple[nw.LazyFrame, nw.LazyFrame]:
    """The timed events of a lazy log, and its changes of team: per change ``ticket_id``,
    ``_from`` (the team of the previous event naming one), ``team`` and ``_pong`` (1 when
    the ticket goes back to the team it just left). Events at the same instant of a ticket
    are taken in the order of their activity, then team.
    """
    ev, order = _engine_events(df, None, None, extra=["team"], staged=False)
    named = ev.filter(~nw.col("team").is_null()).with_columns(
        nw.col("team").shift(1).over("ticket_id", order_by=[*order, "team"]).alias("_from"))
    change = named.filter(~nw.col("_from").is_null() & (nw.col("_from") != nw.col("team")))
    change = change.with_columns(
        (nw.col("team") == nw.col("_from").shift(1).over("ticket_id", order_by=[*order, "team"]))
        .fill_null(False).cast(nw.Int64).alias("_pong"))
    return ev, change


def _engine_handoffs(df: nw.LazyFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`handoffs` of an event log in an engine: the team of the previous event naming
    one (window over the ticket's events in time order, then activity, then team for
    events at the same instant), the changes counted per pair of teams and per ticket.
    The pairs are a small table; the per-ticket table has one row per ticket.
    """
    if "team" not in df.collect_schema().names():
        raise InputError("the event log has no team column: handoffs between teams cannot be seen",
                         fix="add events.team (the team handling each event)")
    ev, change = _engine_changes(df)
    pairs = collect(change.group_by("_from", "team").agg(
        nw.len().alias("handoffs"), nw.col("ticket_id").n_unique().alias("tickets"))).to_pandas()
    pairs = pairs.rename(columns={"_from": "from_team", "team": "to_team"})
    pairs = pairs.astype({"from_team": "str", "to_team": "str", "handoffs": "int64", "tickets": "int64"})
    pairs = pairs.sort_values(["from_team", "to_team"], kind="stable").reset_index(drop=True)
    counted = change.group_by("ticket_id").agg(nw.len().alias("handoffs"), nw.col("_pong").sum().alias("ping_pong"))
    every = ev.select("ticket_id").unique()  # tickets with a timed event, as pandas
    per_ticket = collect(every.join(counted, on="ticket_id", how="left")).to_pandas()
    per_ticket = per_ticket.fillna({"handoffs": 0, "ping_pong": 0}).astype({"handoffs": "int64", "ping_pong": "int64"})
    per_ticket = per_ticket.sort_values("ticket_id", kind="stable").reset_index(drop=True)
    return pairs[["from_team", "to_team", "handoffs", "tickets"]], per_ticket[["ticket_id", "handoffs", "ping_pong"]]


def _paths(log: ProcessLog) -> np.ndarray:
    """Per ticket: its stage path as text (``intake → first → done``)."""
    if "paths" not in log._cache:
        names = pa.array(list(log.stages), type=pa.string())
        steps = pc.take(names, pa.array(log.visit_stage))
        start = np.flatnonzero(np.r_[True, log.visit_ticket[1:] != log.visit_ticket[:-1]])
        offsets = pa.array(np.r_[start, len(log.visit_stage)].astype(np.int64))
        lists = pa.LargeListArray.from_arrays(offsets, steps)
        log._cache["paths"] = pc.binary_join(lists, " → ").to_numpy(zero_copy_only=False)
    return log._cache["paths"]


def variants(events: pd.DataFrame | ProcessLog, process: Process | None, *, top: int = 10) -> pd.DataFrame:
    """The most frequent stage paths with their share of tickets and median throughput time.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits in its engine with window functions (events at the same instant of
        a ticket in the order of their activity; events without a timestamp left out);
        each ticket's path is joined by the engine's own ordered string aggregation
        (Polars, DuckDB, Spark; another backend brings its visits back) and only the
        tickets per path, and the distinct throughput times of the ``top`` paths with
        their counts, come back.
    process : Process or None
        The process of review.yml, for the stages of the activities.
    top : int, default 10
        How many paths.

    Returns
    -------
    pandas.DataFrame
        ``path, tickets, share, median_hours``, most frequent first.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B", "B", "C"], "activity": "x",
    ...                    "stage": ["in", "out", "in", "out", "in"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00",
    ...                                                 "2026-07-01 08:00", "2026-07-01 12:00", "2026-07-02 00:00"])})
    >>> variants(ev, None).values.tolist()
    [['in → out', 2, 0.6666666666666666, 3.0], ['in', 1, 0.3333333333333333, 0.0]]

    The same in an engine (here a Polars LazyFrame):

    >>> import polars as pl
    >>> variants(pl.from_pandas(ev).lazy(), None)["path"].tolist()
    ['in → out', 'in']
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_variants(nw.from_native(events), process, top)
    log = process_log(events, process)
    group, paths = pd.factorize(_paths(log))
    start, end = log.span
    hours = pd.Series((end - start) / _HOUR)
    out = pd.DataFrame({"path": paths, "tickets": np.bincount(group, minlength=len(paths)),
                        "median_hours": hours.groupby(group, sort=True).median().to_numpy()})
    out["share"] = out["tickets"] / log.n_tickets
    out = out.sort_values(["tickets", "path"], ascending=[False, True]).head(top)
    return out[["path", "tickets", "share", "median_hours"]].reset_index(drop=True)


def _engine_paths(visits: nw.LazyFrame, order: list[str]) -> nw.LazyFrame:
    """Per ticket its stage path as text (``ticket_id, path``), joined in the engine by its
    own ordered string aggregation, which narwhals does not offer: Polars ``str.join``
    after ``sort_by``, DuckDB ``string_agg(... ORDER BY ...)``, Spark ``array_join`` of
    the sorted ``collect_list``. Another lazy backend: the visits (one row each) are
    brought back and joined in pandas.
    """
    impl = visits.implementation
    native = visits.select("ticket_id", "_stage", *order).to_native()
    if impl.is_polars():
        import polars as pl

        return nw.from_native(native.group_by("ticket_id").agg(
            pl.col("_stage").sort_by(order).str.join(" → ").alias("path")))
    if impl.is_duckdb():
        keys = ", ".join(f'"{c}"' for c in order)
        return nw.from_native(native.aggregate(
            f"ticket_id, string_agg(_stage, ' → ' ORDER BY {keys}) AS path", "ticket_id"))
    if impl.is_pyspark() or impl.is_pyspark_connect():
        from pyspark.sql import functions as spark

        steps = spark.array_sort(spark.collect_list(spark.struct(*order, "_stage")))
        return nw.from_native(native.groupBy("ticket_id").agg(
            spark.array_join(spark.transform(steps, lambda step: step["_stage"]), " → ").alias("path")))
    rows = collect(visits.select("ticket_id", "_stage", *order)).to_pandas()
    rows = rows.sort_values(["ticket_id", *order], kind="stable")
    paths = rows.groupby("ticket_id", sort=False)["_stage"].agg(" → ".join).reset_index(name="path")
    return lazy_like(visits, paths)


def _engine_variants(df: nw.LazyFrame, process: Process | None, top: int) -> pd.DataFrame:
    """:func:`variants` of an event log in an engine: the visits cut with window functions,
    each ticket's path joined in the engine (:func:`_engine_paths`) beside its throughput
    time; the tickets per path come back, then for the ``top`` paths only the distinct
    throughput times with their counts (medians by :func:`~cxassess.stats.counted_medians`).
    """
    ev, order = _engine_events(df, process, None)
    span = ev.group_by("ticket_id").agg((nw.col("_at").max() - nw.col("_at").min()).alias("_span"))
    per_ticket = _engine_paths(_engine_visits(ev, order), order).join(span, on="ticket_id", how="left")
    counted = collect(per_ticket.group_by("path").agg(nw.len().alias("tickets"))).to_pandas()
    counted = counted.astype({"path": "str", "tickets": "int64"})
    n_tickets = int(counted["tickets"].sum())
    out = counted.sort_values(["tickets", "path"], ascending=[False, True], kind="stable").head(top)
    out = out.reset_index(drop=True)
    chosen = out["path"].tolist()
    times = collect(per_ticket.filter(nw.col("path").is_in(chosen)).group_by("path", "_span")
                    .agg(nw.len().alias("_count"))).to_pandas() if chosen else pd.DataFrame(
        {"path": [], "_span": [], "_count": []})
    code = pd.Index(chosen).get_indexer(times["path"].astype("str"))
    out["median_hours"] = counted_medians(_engine_hours(times["_span"].to_numpy(), None),
                                          times["_count"].to_numpy(dtype="int64"), code, len(out))
    out["share"] = out["tickets"] / n_tickets
    return out[["path", "tickets", "share", "median_hours"]]


def conformance(events: pd.DataFrame | ProcessLog, process: Process) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Does each ticket's stage path follow the designed flow (review.yml ``transitions``)?

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits in its engine with window functions (events without a timestamp
        left out) and only one row per ticket and the pairs of stages come back.
    process : Process
        The process of review.yml, with its ``transitions``.

    Returns
    -------
    tickets : pandas.DataFrame
        Per ticket ``ticket_id, conforms, deviations``.
    deviations : pandas.DataFrame
        The deviations (moves not allowed) with ``source, target, tickets, moves``, most
        frequent first.

    Raises
    ------
    InputError
        review.yml lists no transitions.

    Examples
    --------
    The designed flow is ``a → b``; ticket T goes ``a → b → a``: one move back is a deviation.

    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L")), activities={}, transitions=(("a", "b"),))
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 3, "activity": ["x", "y", "z"], "stage": ["a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00", "2026-07-01 11:00"])})
    >>> tickets, deviations = conformance(ev, p)
    >>> tickets.values.tolist(), deviations.values.tolist()
    ([['T', False, 1]], [['b', 'a', 1, 1]])

    The same in an engine (here a Polars LazyFrame):

    >>> import polars as pl
    >>> [t.values.tolist() for t in conformance(pl.from_pandas(ev).lazy(), p)]
    [[['T', False, 1]], [['b', 'a', 1, 1]]]
    """  # noqa: D400 (the first line is the question it answers)
    if not process.transitions:
        raise InputError("review.yml lists no process transitions: there is no designed flow to conform to",
                         fix="add transitions: [[intake, first_level], ...] under process:")
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_conformance(nw.from_native(events), process)
    log = process_log(events, process)
    moves = log.moves()
    off = moves[~moves["allowed"]]
    bad = np.bincount(off["ticket"], minlength=log.n_tickets).astype("int64")
    tickets = pd.DataFrame({"ticket_id": log.tickets, "conforms": bad == 0, "deviations": bad})
    table = _pairs(off["source"].to_numpy(), off["target"].to_numpy(), None, log.stages, log.stages,
                   ticket=off["ticket"].to_numpy())
    deviations = table[["source", "target", "tickets", "count"]].rename(columns={"count": "moves"})
    deviations = deviations.astype({"tickets": "int64", "moves": "int64"})
    return tickets, deviations.sort_values(["tickets", "source"], ascending=[False, True]).reset_index(drop=True)


def _engine_moves(df: nw.LazyFrame, process: Process | None) -> tuple[nw.LazyFrame, nw.LazyFrame, nw.LazyFrame]:
    """The timed events, the visits and the moves outside the designed flow of a lazy log
    (``ticket_id, _stage, _target`` per move review.yml's transitions do not allow; none
    when it lists no transitions), cut in the engine with window functions.
    """
    ev, order = _engine_events(df, process, None)
    visits = _engine_visits(ev, order)
    allowed = [f"{a}\x1f{b}" for a, b in (process.transitions if process is not None else ())]
    pair = nw.concat_str([nw.col("_stage"), nw.col("_target")], separator="\x1f")
    off = visits.filter(~nw.col("_target").is_null() & ~pair.is_in(allowed)) if allowed else visits.filter(nw.lit(False))
    return ev, visits, off.select("ticket_id", "_stage", "_target")


def _engine_conformance(df: nw.LazyFrame, process: Process) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`conformance` of an event log in an engine: the moves outside the designed
    flow found with window functions and counted per pair of stages; one row per ticket
    comes back with its count.
    """
    ev, _, off = _engine_moves(df, process)
    counted = off.group_by("ticket_id").agg(nw.len().alias("deviations"))
    tickets = collect(ev.select("ticket_id").unique().join(counted, on="ticket_id", how="left")).to_pandas()
    tickets = tickets.fillna({"deviations": 0}).astype({"ticket_id": "str", "deviations": "int64"})
    tickets = tickets.sort_values("ticket_id", kind="stable").reset_index(drop=True)
    tickets.insert(1, "conforms", tickets["deviations"].to_numpy() == 0)
    table = collect(off.group_by("_stage", "_target").agg(
        nw.len().alias("moves"), nw.col("ticket_id").n_unique().alias("tickets"))).to_pandas()
    table = table.rename(columns={"_stage": "source", "_target": "target"})
    table = table.astype({"source": "str", "target": "str", "tickets": "int64", "moves": "int64"})
    stages = pd.Index(_stage_order(process, set(table["source"]) | set(table["target"])))
    table = table.assign(_s=stages.get_indexer(table["source"]), _t=stages.get_indexer(table["target"]))
    table = table.sort_values(["_s", "_t"], kind="stable")  # as pandas: pairs in process order, then
    table = table.sort_values(["tickets", "source"], ascending=[False, True])  # the most frequent first
    return tickets, table[["source", "target", "tickets", "moves"]].reset_index(drop=True)


def path_attributes(events: pd.DataFrame | ProcessLog, process: Process) -> pd.DataFrame:
    """Per ticket, what its path looked like: ``transfers`` (handoffs between teams) as
    ``0`` / ``1`` / ``2+``, ``escalated`` (reached a specialist stage), ``loop`` (re-entered
    a stage), ``ping_pong`` and ``conforms`` (followed the designed flow; only when
    review.yml lists the transitions).

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits in its engine with window functions (events without a timestamp
        left out) and only one row per ticket come back.
    process : Process
        The process of review.yml (its specialist stages and transitions).

    Returns
    -------
    pandas.DataFrame
        One row per ticket: ``ticket_id, escalated, loop``, with a team column also
        ``handoffs, ping_pong, transfers``, with transitions also ``conforms``.

    Examples
    --------
    A goes from ``a`` (team t1) to the specialist stage ``b`` (team t2); B stays in ``a``.

    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L", specialist=True)), activities={})
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": "x", "stage": ["a", "b", "a"],
    ...                    "team": ["t1", "t2", "t1"], "timestamp": pd.to_datetime(["2026-07-01"] * 3)})
    >>> path_attributes(ev, p)[["ticket_id", "escalated", "loop", "handoffs", "transfers"]].values.tolist()
    [['A', True, False, 1, '1'], ['B', False, False, 0, '0']]
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_path_attributes(nw.from_native(events), process)
    log = process_log(events, process)
    pairs = log.stage_tickets()
    specialist = log.stages.isin(process.specialist_stages)
    n = log.n_tickets
    out = pd.DataFrame({
        "ticket_id": log.tickets,
        "escalated": np.bincount(log.visit_ticket, weights=specialist[log.visit_stage], minlength=n) > 0,
        "loop": np.bincount(pairs["ticket"], weights=pairs["visits"] > 1, minlength=n) > 0,
    })
    if "team" in log.events.columns:
        _, per_ticket = handoffs(log)
        out["handoffs"], out["ping_pong"] = per_ticket["handoffs"].to_numpy(), per_ticket["ping_pong"].to_numpy()
        out["transfers"] = pd.Series(np.array(["0", "1", "2+"])[np.minimum(out["handoffs"].to_numpy(), 2)],
                                     dtype="str")
    if not process.transitions:
        return out
    conform, _ = conformance(log, process)
    out["conforms"] = conform["conforms"].to_numpy()
    return out


def _engine_path_attributes(df: nw.LazyFrame, process: Process) -> pd.DataFrame:
    """:func:`path_attributes` of an event log in an engine: per ticket, whether a visit
    was to a specialist stage and whether a stage was entered twice, aggregated there, with
    the engine's per-ticket handoffs and conformance; one row per ticket comes back.
    """
    _, visits, _ = _engine_moves(df, process)
    specialist = list(process.specialist_stages)
    in_specialist = nw.col("_stage").is_in(specialist) if specialist else nw.lit(False)
    per_stage = visits.group_by("ticket_id", "_stage").agg(
        nw.len().alias("_visits"), in_specialist.cast(nw.Int64).max().alias("_specialist"))
    flags = collect(per_stage.group_by("ticket_id").agg(
        nw.col("_specialist").max().alias("_specialist"),
        (nw.col("_visits") > 1).cast(nw.Int64).max().alias("_loop"))).to_pandas()
    flags = flags.astype({"ticket_id": "str"}).sort_values("ticket_id", kind="stable").reset_index(drop=True)
    out = pd.DataFrame({"ticket_id": flags["ticket_id"],
                        "escalated": flags["_specialist"].to_numpy(dtype="int64") > 0,
                        "loop": flags["_loop"].to_numpy(dtype="int64") > 0})
    if "team" in df.collect_schema().names():
        _, per_ticket = _engine_handoffs(df)
        out["handoffs"], out["ping_pong"] = per_ticket["handoffs"].to_numpy(), per_ticket["ping_pong"].to_numpy()
        out["transfers"] = pd.Series(np.array(["0", "1", "2+"])[np.minimum(out["handoffs"].to_numpy(), 2)],
                                     dtype="str")
    if process.transitions:
        conform, _ = _engine_conformance(df, process)
        out["conforms"] = conform["conforms"].to_numpy()
    return out


def path_shares(events: pd.DataFrame | ProcessLog, process: Process | None = None) -> pd.DataFrame:
    """Share of tickets whose path had a property: handed off between teams at least
    once and ping-pong (when the log names teams), escalated, re-entered a stage, and
    followed the designed flow (when review.yml lists the transitions).

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        cut into visits in its engine with window functions (events without a timestamp
        left out) and only the counts come back.
    process : Process, optional
        The process of review.yml; without it, only the team measures.

    Returns
    -------
    pandas.DataFrame
        ``measure, tickets, of, share``: ``measure`` is ``handed_off``, ``ping_pong``,
        ``escalated``, ``loop`` or ``conforms``; ``of`` is every ticket of the log.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "team": ["t1", "t2", "t1"], "activity": "x",
    ...                    "stage": ["in", "in", "in"], "timestamp": pd.to_datetime(["2026-07-01"] * 3)})
    >>> path_shares(ev).values.tolist()
    [['handed_off', 1, 2, 0.5], ['ping_pong', 0, 2, 0.0]]
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        return _engine_path_shares(nw.from_native(events), process)
    log = process_log(events, process)
    n = log.n_tickets
    rows = []
    if "team" in log.events.columns:
        change = log.handoff_arrays()
        rows += [("handed_off", len(np.unique(change["ticket"]))),
                 ("ping_pong", len(np.unique(change["ticket"][change["ping_pong"]])))]
    if process is not None:
        pairs = log.stage_tickets()
        specialist = log.stages.isin(process.specialist_stages)
        rows += [("escalated", len(np.unique(log.visit_ticket[specialist[log.visit_stage]]))),
                 ("loop", len(np.unique(pairs["ticket"][pairs["visits"] > 1])))]
        if process.transitions:
            moves = log.moves()
            rows.append(("conforms", n - len(np.unique(moves.loc[~moves["allowed"], "ticket"]))))
    out = pd.DataFrame(rows, columns=["measure", "tickets"])
    out["of"] = n
    out["share"] = out["tickets"] / n if n else np.nan
    return out


def _engine_path_shares(df: nw.LazyFrame, process: Process | None) -> pd.DataFrame:
    """:func:`path_shares` of an event log in an engine: each measure counted there as the
    tickets with a change of team, a ping-pong, a visit to a specialist stage, a stage
    entered twice or a move outside the designed flow; only the counts come back.
    """
    def tickets(frame: nw.LazyFrame) -> int:
        found = collect(frame.select(nw.col("ticket_id").n_unique()))["ticket_id"].item()
        return 0 if found is None or pd.isna(found) else int(found)  # DuckDB: null for no rows

    rows = []
    if "team" in df.collect_schema().names():
        _, change = _engine_changes(df)
        rows += [("handed_off", tickets(change)), ("ping_pong", tickets(change.filter(nw.col("_pong") == 1)))]
    ev, visits, off = _engine_moves(df, process)
    n = tickets(ev)
    if process is not None:
        looped = visits.group_by("ticket_id", "_stage").agg(nw.len().alias("_visits")).filter(nw.col("_visits") > 1)
        rows += [("escalated", tickets(visits.filter(nw.col("_stage").is_in(list(process.specialist_stages))))),
                 ("loop", tickets(looped))]
        if process.transitions:
            rows.append(("conforms", n - tickets(off)))
    out = pd.DataFrame(rows, columns=["measure", "tickets"]).astype({"tickets": "int64"})
    out["of"] = n
    out["share"] = out["tickets"] / n if n else np.nan
    return out


def _csat_answers(surveys: pd.DataFrame | None, scale: int | None) -> pd.DataFrame | None:
    """Answered CSAT surveys with their scale (the column, else ``scale`` from review.yml);
    ``None`` when the surveys carry no score.
    """
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

    Parameters
    ----------
    surveys : pandas.DataFrame
        The surveys (``ticket_id, score``, optional ``kind`` and ``scale``).
    paths : pandas.DataFrame
        Per ticket path attributes, as :func:`path_attributes` gives them.
    scale : int, optional
        The CSAT scale for surveys without a ``scale`` column.

    Returns
    -------
    pandas.DataFrame
        ``attribute, group, value, ci_low, ci_high, n, hits, difference, diff_low,
        diff_high, reference`` (difference = group − reference; ``reference`` marks the
        reference group's rows, whose difference is 0 and says nothing).

    Examples
    --------
    On a 5-point scale CSAT counts the answers 4 and 5: the tickets without a transfer
    answered 5 and 4 (CSAT 1.0), those with one 2 and 5 (0.5), 0.5 less.

    >>> paths = pd.DataFrame({"ticket_id": [1, 2, 3, 4], "transfers": ["0", "0", "1", "1"]})
    >>> surveys = pd.DataFrame({"ticket_id": [1, 2, 3, 4], "kind": "csat", "score": [5, 4, 2, 5]})
    >>> table = satisfaction_by_path(surveys, paths, scale=5)
    >>> table[["attribute", "group", "value", "n", "difference"]].values.tolist()
    [['transfers', '0', 1.0, 2, 0.0], ['transfers', '1', 0.5, 2, -0.5]]
    """
    answered = _csat_answers(surveys, scale)
    columns = ["attribute", "group", "value", "ci_low", "ci_high", "n", "hits", "difference", "diff_low", "diff_high",
               "reference"]
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
        table = table.assign(attribute=attribute, difference=d, diff_low=lo, diff_high=hi,
                             reference=(table["group"] == ref).to_numpy())
        table["group"] = table["group"].astype("str")
        parts.append(table)
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def stage_assessment(
    events: pd.DataFrame | ProcessLog | object,
    process: Process,
    *,
    surveys: pd.DataFrame | object | None = None,
    tickets: pd.DataFrame | object | None = None,
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
    * **Time invested versus outcome**: the stage's share of the desk's time
      (``desk_share``: customer-time stages left out of the total, empty for them; see
      :func:`time_split`) and its median time in stage.
    * **Candidate for efficiency**: loops (re-entries), tickets over the stage's time
      target, and the bottleneck rank.

    Returns one row per stage with these figures and a short ``finding``.

    Parameters
    ----------
    events : pandas.DataFrame or ProcessLog or a lazy frame
        The event log (``ticket_id, timestamp, activity``, optional ``stage`` and ``team``),
        or its :func:`process_log`; a lazy frame (DuckDB, Spark, a Polars LazyFrame) is
        aggregated in its engine (events without a timestamp left out): the distinct
        (ticket, stage) pairs with their ticket's flag "resolved clean", and the answers
        of the tickets through each stage, are counted there and only the counts per stage
        come back (ticket ids are matched as text); the figures are computed on them by
        the same code as in memory.
    process : Process
        The process of review.yml.
    surveys : pandas.DataFrame or a lazy frame, optional
        The surveys, for the CSAT effect; ``None``: no CSAT effect. With a lazy ``events``,
        a lazy frame of the same engine, or a table in memory (its answered CSAT surveys
        are pushed to the engine).
    tickets : pandas.DataFrame or a lazy frame, optional
        The tickets, for their ``reopens``; ``None``: resolved counts as clean. With a lazy
        ``events``, as ``surveys``.
    metrics : pandas.DataFrame, optional
        :func:`stage_metrics` of the log, when already computed.
    scale : int, optional
        The CSAT scale for surveys without a ``scale`` column.

    Returns
    -------
    pandas.DataFrame
        One row per stage: ``stage, label, tickets, resolved_clean, share_of_time,
        desk_share, median_hours, loops_share, over_target, bottleneck_rank,
        csat_through, csat_not_through, csat_effect, effect_low, effect_high, finding``.

    Raises
    ------
    InputError
        ``surveys`` or ``tickets`` are a lazy frame of another engine than ``events``.

    Examples
    --------
    Stage ``b`` holds 3 of the desk's 4 hours (``c`` is the customer's time).

    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L"), Stage("c", "C", "L", customer_time=True)),
    ...             activities={})
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 4, "activity": "x", "stage": ["a", "b", "c", "c"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00",
    ...                                                 "2026-07-01 12:00", "2026-07-01 16:00"])})
    >>> stage_assessment(ev, p)[["stage", "finding"]].values.tolist()
    [['a', 'no measured problem'], ['b', "the bottleneck: 75% of the desk's time"], ['c', 'no measured problem']]

    The same in an engine (here a Polars LazyFrame):

    >>> import polars as pl
    >>> stage_assessment(pl.from_pandas(ev).lazy(), p)["finding"].tolist()[1]
    "the bottleneck: 75% of the desk's time"
    """
    if not isinstance(events, ProcessLog) and isinstance(nw.from_native(events), nw.LazyFrame):
        lazy = nw.from_native(events)
        metrics = metrics if metrics is not None else _engine_metrics(lazy, process, None, None)
        entered, good, split = _engine_assessment(lazy, process, surveys, tickets, scale)
        return _assessment_table(metrics, entered, good, split)
    log = process_log(events, process)
    metrics = metrics if metrics is not None else stage_metrics(log, process)
    pairs = log.stage_tickets()
    stage, ticket = pairs["stage"].to_numpy(), pairs["ticket"].to_numpy()
    reopened = (log.ticket_flags(tickets.loc[tickets["reopens"] > 0, "ticket_id"])
                if tickets is not None and "reopens" in tickets else np.zeros(log.n_tickets, dtype=bool))
    clean = log.resolved & ~reopened
    k = len(log.stages)
    entered = np.bincount(stage, minlength=k)
    good = np.bincount(stage, weights=clean[ticket], minlength=k)
    answered = _csat_answers(surveys, scale)
    split = None
    if answered is not None and len(answered):
        rated = log.ticket_codes(answered["ticket_id"])
        known = rated >= 0
        whole = csat(answered, kind=None)
        through = {}
        for name in metrics["stage"]:
            reached = np.zeros(log.n_tickets, dtype=bool)
            c = log.stages.get_indexer([name])[0]
            if c >= 0:
                reached[ticket[stage == c]] = True
            hit = known & reached[np.where(known, rated, 0)]
            counted = csat(answered[hit], kind=None)
            through[name] = (int(counted["hits"].iloc[0]), int(counted["n"].iloc[0]))
        split = (through, int(whole["hits"].iloc[0]), int(whole["n"].iloc[0]))
    return _assessment_table(metrics, dict(zip(log.stages, entered, strict=True)),
                             dict(zip(log.stages, good, strict=True)), split)


def _assessment_table(metrics: pd.DataFrame, entered: dict, good: dict,
                      split: tuple[dict, int, int] | None) -> pd.DataFrame:
    """:func:`stage_assessment` from its counts, by the same code for pandas and the engines:
    per stage the tickets that entered it and those of them that ended clean (``entered``,
    ``good``, by stage name), and with answered CSAT surveys (``split``) per stage the
    top-box answers and the answers of the tickets that went through it, with the top-box
    answers and the answers of all (those not through it are the rest).
    """
    rows = []
    for m in metrics.itertuples():
        n = entered.get(m.stage, 0)
        row = {"stage": m.stage, "label": m.label, "tickets": m.entering,
               "resolved_clean": good.get(m.stage, 0) / n if n else np.nan,
               "share_of_time": m.share_of_time, "desk_share": getattr(m, "desk_share", np.nan),
               "median_hours": m.median_hours,
               "loops_share": m.loops / m.entering if m.entering else np.nan,
               "over_target": m.over_target, "bottleneck_rank": m.bottleneck_rank,
               "csat_through": np.nan, "csat_not_through": np.nan, "csat_effect": np.nan,
               "effect_low": np.nan, "effect_high": np.nan}
        if split is not None:
            through, hits, answers = split
            k1, n1 = through.get(m.stage, (0, 0))
            k2, n2 = hits - k1, answers - n1
            d, lo, hi = difference_of_proportions(k1, n1, k2, n2)
            row.update(csat_through=k1 / n1 if n1 else np.nan, csat_not_through=k2 / n2 if n2 else np.nan,
                       csat_effect=float(d), effect_low=float(lo), effect_high=float(hi))
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):  # Int64 as in the stage metrics: a kept table reads back the same
        out["bottleneck_rank"] = out["bottleneck_rank"].astype("Int64")
    out["finding"] = [_finding(r) for r in out.itertuples()]
    return out


def _same_engine(df: nw.LazyFrame, table: object, what: str) -> nw.LazyFrame | None:
    """``table`` as a lazy frame of ``df``'s engine when it is one (``None`` for a frame in
    memory); a lazy frame of another engine cannot be joined with the events: an InputError.
    """
    if table is None:
        return None
    frame = nw.from_native(table)
    if not isinstance(frame, nw.LazyFrame):
        return None
    if frame.implementation != df.implementation:
        raise InputError(f"the {what} are a {frame.implementation.name.lower()} frame and the events a "
                         f"{df.implementation.name.lower()} one: they cannot be joined",
                         fix="open every table of the cycle on the same engine (cxassess.engines.engine_cycle)")
    return frame


def _engine_ids(df: nw.LazyFrame, ids: pd.Series, flag: str) -> nw.LazyFrame:
    """Distinct ticket ids in memory as a lazy frame of ``df``'s engine: ``_id`` (as text,
    as the events' ids are cast to join them) and ``flag`` (1).
    """
    ids = pd.Series(ids).dropna().astype(str).unique()
    return lazy_like(df, pd.DataFrame({"_id": ids, flag: np.ones(len(ids), dtype="int64")}))


def _engine_assessment(df: nw.LazyFrame, process: Process, surveys: object, tickets: object,
                       scale: int | None) -> tuple[dict, dict, dict | None]:
    """The counts of :func:`stage_assessment` of an event log in an engine: the distinct
    (ticket, stage) pairs of its timed events, each with its ticket's flag "resolved clean"
    (a resolution activity, and no reopen in ``tickets``: joined from the engine's tickets
    or from the reopened ids pushed there); per stage the tickets and the clean ones come
    back. With answered CSAT surveys (the engine's, or those in memory pushed there with
    their score and scale), the answers of the tickets through each stage are joined to the
    pairs and their top-box answers counted there (:func:`~cxassess.kpis.csat`); the others
    are all the answers less those. Ticket ids are joined as text.
    """
    ev, _ = _engine_events(df, process, None)
    resolved = process.resolution_activities
    flag = nw.lit(0, nw.Int64)  # no ticket resolved
    if resolved and "activity" in ev.collect_schema().names():
        flag = nw.col("activity").is_in(list(resolved)).fill_null(False).cast(nw.Int64).max().over("ticket_id")
    pairs = ev.with_columns(flag.alias("_resolved"))
    pairs = pairs.select(nw.col("ticket_id").cast(nw.String).alias("_id"), "_stage", "_resolved").unique()
    lazy_tickets = _same_engine(df, tickets, "tickets")
    reopened = None
    if lazy_tickets is not None and "reopens" in lazy_tickets.collect_schema().names():
        reopened = lazy_tickets.filter(nw.col("reopens") > 0).select(
            nw.col("ticket_id").cast(nw.String).alias("_id")).unique().with_columns(nw.lit(1, nw.Int64).alias("_reopened"))
    elif lazy_tickets is None and tickets is not None and "reopens" in tickets:
        ids = tickets.loc[tickets["reopens"] > 0, "ticket_id"]
        if ids.notna().any():  # none: nothing to join (an engine may not take an empty table)
            reopened = _engine_ids(df, ids, "_reopened")
    clean = nw.col("_resolved")
    if reopened is not None:
        pairs = pairs.join(reopened, on="_id", how="left")
        clean = clean * (1 - nw.col("_reopened").fill_null(0))
    counted = collect(pairs.group_by("_stage").agg(
        nw.len().cast(nw.Int64).alias("_n"), clean.sum().cast(nw.Int64).alias("_good"))).to_pandas()
    stages = counted["_stage"].astype(str)
    entered = dict(zip(stages, counted["_n"].astype("int64"), strict=True))
    good = dict(zip(stages, counted["_good"].astype("int64"), strict=True))
    answers = _engine_answers(df, surveys, scale)
    if answers is None:
        return entered, good, None
    joinable, hits, total = answers
    counted = csat(joinable.join(pairs.select("_id", "_stage"), on="_id", how="inner").to_native(),
                   by="_stage", kind=None)
    through = {str(name): (int(k), int(n)) for name, k, n in zip(counted["_stage"], counted["hits"], counted["n"],
                                                                 strict=True)}
    return entered, good, (through, hits, total)


def _engine_answers(df: nw.LazyFrame, surveys: object, scale: int | None) -> tuple[nw.LazyFrame, int, int] | None:
    """The answered CSAT surveys (:func:`_csat_answers`) for :func:`_engine_assessment`:
    those with a ticket id as a lazy frame of ``df``'s engine (``_id``, the ticket id as
    text, ``score`` and ``scale``) to join with its tickets, and the top-box answers and
    the answers of all of them (:func:`~cxassess.kpis.csat`, which refuses a scale without
    a rule); ``None`` when the surveys carry no score or none is answered. Surveys in memory
    are filtered and counted in pandas, then pushed; the engine's own are filtered and
    counted there.
    """
    lazy = _same_engine(df, surveys, "surveys")
    if lazy is None:
        answered = _csat_answers(surveys, scale)
        if answered is None or not len(answered):
            return None
        whole = csat(answered, kind=None)
        named = answered[answered["ticket_id"].notna()]
        table = named[[c for c in ("score", "scale") if c in named.columns]].reset_index(drop=True)
        table.insert(0, "_id", named["ticket_id"].astype(str).to_numpy())
        joinable = lazy_like(df, table)
    else:
        names = lazy.collect_schema().names()
        if "score" not in names:
            return None
        where = ~nw.col("score").cast(nw.Float64).fill_nan(None).is_null()
        if "kind" in names:
            where = where & (nw.col("kind") == "csat").fill_null(False)
        rows = nw.from_native(fill_scale(lazy.filter(where).to_native(), scale))
        whole = csat(rows.to_native(), kind=None)
        kept = [c for c in ("score", "scale") if c in rows.collect_schema().names()]
        joinable = rows.select(nw.col("ticket_id").cast(nw.String).alias("_id"), *kept)
    hits, total = int(whole["hits"].iloc[0]), int(whole["n"].iloc[0])
    return (joinable, hits, total) if total else None


def _finding(r) -> str:
    notes = []
    if pd.notna(r.effect_high) and r.effect_high < 0:
        notes.append(f"customers who pass through it are less satisfied ({100 * r.csat_effect:+.0f} pp CSAT)")
    if pd.notna(r.bottleneck_rank) and r.bottleneck_rank == 1:
        notes.append(f"the bottleneck: {r.desk_share:.0%} of the desk's time" if pd.notna(r.desk_share)
                     else "the bottleneck")
    if pd.notna(r.loops_share) and r.loops_share >= 0.10:
        notes.append(f"{r.loops_share:.0%} of its tickets come back to it")
    if pd.notna(r.over_target) and r.over_target >= 0.20:
        notes.append(f"{r.over_target:.0%} of tickets exceed its time target")
    return "; ".join(notes) if notes else "no measured problem"


#: The smallest change of a stage's median time (hours) worth acting on: a real change
#: smaller than this is "real but small".
STAGE_MIN_IMPORTANT_HOURS = 1.0


def compare_stages(
    now: pd.DataFrame, before: pd.DataFrame | None, *, not_comparable: str | None = None,
    min_important_hours: float = STAGE_MIN_IMPORTANT_HOURS,
) -> pd.DataFrame:
    """Stage metrics beside the previous cycle's: the change of the median time in stage
    with its interval (√(SE₁² + SE₂²)) and verdict, and the bottleneck rank before.

    ``not_comparable`` is the reason no change can be judged (e.g. the previous cycle
    was cut while most of its tickets were open: see :mod:`cxassess.plausibility`); every
    verdict then says it.

    Parameters
    ----------
    now : pandas.DataFrame
        :func:`stage_metrics` of the cycle.
    before : pandas.DataFrame or None
        :func:`stage_metrics` of the previous cycle; ``None``: no previous cycle.
    not_comparable : str, optional
        Why the cycles cannot be compared; ``None``: they can.
    min_important_hours : float, default STAGE_MIN_IMPORTANT_HOURS
        A real change of the median smaller than this is "real but small".

    Returns
    -------
    pandas.DataFrame
        ``now`` with ``median_before, rank_before, share_before`` (and
        ``desk_share_before``), ``change, change_low, change_high`` and ``verdict``. A
        stage whose time cannot vary in either cycle (every ticket 0 h in it, e.g. a survey
        sent at the resolution) has no change and an empty verdict: there is nothing to judge.

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
    if "desk_share" in prev.columns:
        out["desk_share_before"] = prev["desk_share"].to_numpy()
    d, lo, hi = difference_of_estimates(out["median_hours"], out["se"], out["median_before"], prev["se"].to_numpy())
    out["change"], out["change_low"], out["change_high"] = d, lo, hi
    judged = verdict(lo, hi, higher_is_better=False, change=d, threshold=min_important_hours)
    if before.empty:
        judged = np.full(len(out), "not comparable: no previous cycle", dtype=object)
    elif not_comparable:
        judged = np.full(len(out), f"not comparable: {not_comparable}", dtype=object)
    else:
        judged = np.where(pd.isna(out["median_before"]), "not comparable: stage not in the previous cycle",
                          np.where(judged == "not comparable", "not comparable: no interval", judged))
    flat = ((out["median_hours"].fillna(0) == 0) & (out["p90_hours"].fillna(0) == 0)
            if "p90_hours" in out else pd.Series(False, index=out.index))
    if "p90_before" not in out and "p90_hours" in prev:
        flat &= prev["p90_hours"].fillna(0).to_numpy() == 0
    out.loc[flat.to_numpy(), ["change", "change_low", "change_high"]] = np.nan
    out["verdict"] = np.where(flat.to_numpy(), "", judged)
    return out


#: The page whose evidence the process findings link to, and its sections' anchors.
PAGE = "10_process_stages"


def stage_findings(stages: pd.DataFrame, by_path: pd.DataFrame | None = None, *,
                   min_important_csat: float | None = None, min_n: int = 30) -> list[Finding]:
    """What the process page found: a bottleneck that is new or slower, other stages whose
    median time worsened for real, and path groups whose customers are less (or more)
    satisfied than the reference group (interval excluding 0, difference at least the
    minimum important difference of CSAT).

    Parameters
    ----------
    stages : pandas.DataFrame
        :func:`compare_stages` of the cycle.
    by_path : pandas.DataFrame, optional
        :func:`satisfaction_by_path` of the cycle.
    min_important_csat : float, optional
        The minimum important difference of CSAT (default: the registry's).
    min_n : int, default 30
        Path groups with fewer answers find nothing.

    Returns
    -------
    list of Finding

    Examples
    --------
    Stage B is the bottleneck now (it was #2) and its median rose from 3 h to 28 h:

    >>> stages = pd.DataFrame({"stage": ["a", "b"], "label": ["A", "B"], "entering": [100, 40],
    ...     "median_hours": [2.0, 28.0], "median_before": [2.0, 3.0], "change": [0.0, 25.0],
    ...     "change_low": [-1.0, 20.0], "change_high": [1.0, 30.0], "verdict": ["within noise", "worsened"],
    ...     "bottleneck_rank": [2, 1], "rank_before": [1, 2], "over_target": [0.1, 0.8],
    ...     "target_hours": [4.0, 24.0], "desk_share": [0.3, 0.7], "customer_time": [False, False]})
    >>> print(stage_findings(stages)[0].what)
    B is the new bottleneck: a median of 28.0 h in the stage (was 3.0 h), 80% of its tickets over its 24 h target, 70% of the desk's time.
    """
    found: list[Finding] = []
    tickets = float(stages["entering"].max()) if len(stages) else 0.0
    for r in stages.itertuples():
        if getattr(r, "customer_time", False) or r.verdict != "worsened":
            continue
        reach = float(r.entering) / tickets if tickets else 0.0
        figures = {"stage": r.label, "median_hours": float(r.median_hours), "median_before": float(r.median_before),
                   "change": float(r.change), "change_low": float(r.change_low), "change_high": float(r.change_high),
                   "entering": int(r.entering)}
        evidence = (f"{int(r.entering):,} tickets entered it; change of the median "
                    f"{number(r.change, 'hours', change=True)}, 95 % CI "
                    f"{interval(r.change_low, r.change_high, 'hours', change=True)}")
        target = ""
        if pd.notna(getattr(r, "over_target", np.nan)) and pd.notna(getattr(r, "target_hours", np.nan)):
            target = f", {r.over_target:.0%} of its tickets over its {r.target_hours:g} h target"
            figures.update(over_target=float(r.over_target), target_hours=float(r.target_hours))
        if r.bottleneck_rank == 1:
            new = pd.isna(r.rank_before) or r.rank_before != 1
            what = (f"{r.label} is {'the new' if new else 'still the'} bottleneck: a median of "
                    f"{number(r.median_hours, 'hours')} in the stage (was {number(r.median_before, 'hours')})"
                    f"{target}, {r.desk_share:.0%} of the desk's time.")
            figures.update(desk_share=float(r.desk_share), rank_before=None if pd.isna(r.rank_before)
                           else int(r.rank_before))
            found.append(Finding(what, evidence, "high", reach, PAGE, "stages", "bottleneck", stage=r.label,
                                 action=f"Add capacity to {r.label} or triage what enters it: it holds the "
                                        "largest share of the desk's time.", figures=figures))
        else:
            what = (f"Tickets spend longer in {r.label}: a median of {number(r.median_hours, 'hours')} "
                    f"(was {number(r.median_before, 'hours')}){target}.")
            found.append(Finding(what, evidence, "medium", reach, PAGE, "stages", "stage_slower", stage=r.label,
                                 action=f"Find what slows {r.label} down (queue, staffing, hand-backs).",
                                 figures=figures))
    if by_path is not None and len(by_path):
        found += _path_findings(by_path, min_important_csat, min_n)
    return found


#: How a path attribute reads: who (the customers whose ticket ...), each group, the reference.
_PATH_WORDS = {
    "transfers": ("whose ticket was transferred to another team",
                  {"1": "after 1 transfer", "2+": "after 2 or more"}, "without a transfer"),
    "escalated": ("whose ticket was escalated to a specialist", {"True": "when escalated"}, "without an escalation"),
    "loop": ("whose ticket re-entered a stage", {"True": "when a stage was repeated"}, "without a repeat"),
    "conforms": ("whose ticket left the designed flow", {"False": "off the designed flow"}, "on it"),
}
_PATH_CONCERN = {"transfers": "Transfers", "escalated": "Escalations", "loop": "Repeated stages",
                 "conforms": "Moves outside the designed flow"}
_PATH_ACTIONS = {"transfers": "Resolve more at the first team (routing, knowledge, authority): each transfer costs CSAT.",
                 "escalated": "Check which escalations were needed: fewer and faster escalations protect CSAT.",
                 "loop": "Find why tickets come back (reopens, returns to first level) and fix the first answer.",
                 "conforms": "Find where tickets leave the designed flow and close those paths."}


def _path_findings(by_path: pd.DataFrame, mid: float | None, min_n: int) -> list[Finding]:
    """One finding per path attribute whose non-reference groups differ for real."""
    mid = 0.03 if mid is None else mid
    out = []
    answers = by_path.groupby("attribute")["n"].sum()
    reference = by_path["reference"] if "reference" in by_path else by_path["difference"] == 0
    for attribute, rows in by_path[~reference.astype(bool)].groupby("attribute", sort=False):
        real = rows[((rows["diff_high"] < 0) | (rows["diff_low"] > 0)) & (rows["difference"].abs() >= mid)
                    & (rows["n"] >= min_n)]
        if real.empty:
            continue
        base = by_path[(by_path["attribute"] == attribute) & reference.astype(bool)].iloc[0]
        who, words, reference_words = _PATH_WORDS.get(attribute, (f"by {attribute}", {}, "for the others"))
        lower = bool((real["difference"] < 0).all())
        diffs = [abs(100 * d) for d in real["difference"]]
        spread = f"{min(diffs):.0f}–{max(diffs):.0f} pp" if len(diffs) > 1 else f"{diffs[0]:.0f} pp"
        groups = ", ".join(f"{number(v, 'share')} {words.get(str(g), str(g))} (n = {int(n):,})"
                           for g, v, n in zip(real["group"], real["value"], real["n"], strict=True))
        what = (f"Customers {who} are {spread} {'less' if lower else 'more'} satisfied: CSAT {groups}, "
                f"against {number(base['value'], 'share')} {reference_words}.")
        evidence = "; ".join(f"{words.get(str(g), str(g))}: {number(d, 'share', change=True)}, 95 % CI "
                             f"{interval(lo, hi, 'share', change=True)}"
                             for g, d, lo, hi in zip(real["group"], real["difference"], real["diff_low"],
                                                     real["diff_high"], strict=True))
        reach = float(real["n"].sum() / answers[attribute]) if answers[attribute] else 0.0
        severity = "high" if real["difference"].abs().max() >= 5 * mid and lower else "medium" if lower else "low"
        out.append(Finding(what, evidence, severity, min(1.0, reach), PAGE, "satisfaction-by-path", "path_csat",
                           kpi="csat", action=_PATH_ACTIONS.get(attribute, ""),
                           figures={"attribute": attribute, "concern": _PATH_CONCERN.get(attribute, attribute),
                                    "reference_value": float(base["value"]),
                                    "groups": {str(g): {"value": float(v), "difference": float(d), "n": int(n)}
                                               for g, v, d, n in zip(real["group"], real["value"],
                                                                     real["difference"], real["n"], strict=True)}}))
    return out


def findings(data, before=None, *, log: ProcessLog | object | None = None, stages: pd.DataFrame | None = None,
             by_path: pd.DataFrame | None = None, checks: pd.DataFrame | None = None) -> list[Finding]:
    """The findings of the process page, from its data: the page passes what it computed;
    the summary page, run alone, passes nothing and they are computed here the same way.

    What is not given is computed from ``log``, else from the cycle's events: on the
    review's engine when it runs on one (:func:`cycle_events`; the previous cycle's stage
    metrics too), else from a :func:`process_log` built here, only when a figure needs it.

    Parameters
    ----------
    data : Cycle
        The cycle reviewed (its events, surveys and review.yml process).
    before : Cycle, optional
        The cycle compared with.
    log : ProcessLog or a lazy frame, optional
        :func:`process_log` of ``data``'s events, or :func:`cycle_events` of ``data``.
    stages : pandas.DataFrame, optional
        :func:`compare_stages` of the cycle against ``before``.
    by_path : pandas.DataFrame, optional
        :func:`satisfaction_by_path` of the cycle.
    checks : pandas.DataFrame, optional
        The plausibility checks (:func:`cxassess.plausibility.checks`), for a comparison
        that is not possible.

    Returns
    -------
    list of Finding
        Empty when the cycle has no event log or review.yml no process.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> findings(SimpleNamespace(events=None, config=SimpleNamespace(process=None)))
    []
    """
    from cxassess import plausibility, registry

    process = data.config.process
    if process is None or _no_events(data):
        return []
    paths = by_path is None and data.surveys is not None and registry.gap(
        data, registry.SECTIONS["stages.satisfaction_by_path"]) is None
    if log is None and (stages is None or paths):
        log = _engine_log(data)
        if log is None:
            if data.events is None:
                return []
            log = process_log(data.events, process)
    if stages is None:
        checks = checks if checks is not None else plausibility.checks(data, before)
        old = None
        if before is not None and not _no_events(before):
            events = _engine_log(before)
            events = events if events is not None else before.events
            old = stage_metrics(events, process) if events is not None else None
        stages = compare_stages(stage_metrics(log, process), old,
                                not_comparable=plausibility.not_comparable(checks).get("*"))
    if paths:
        by_path = satisfaction_by_path(data.surveys, path_attributes(log, process),
                                       scale=data.config.survey_scales.get("csat"))
    return stage_findings(stages, by_path, min_important_csat=registry.min_important(
        "csat", data.config.min_important), min_n=data.config.min_n)

"""The event log: sorting it once, and deriving the ticket table from it.

A cycle without a tickets file still gets one: :func:`tickets_from_events` derives every
ticket-level column the log can tell (DESIGN.md §4) and leaves out what it cannot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxassess.config import Process
from cxassess.errors import MissingColumnError
from cxassess.schema import SCHEMA

__all__ = ["not_work", "sort_events", "tickets_from_events"]


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events with a timestamp, in ticket order and then time order (stable: events of
    a ticket at the same time keep their order in the file).

    Parameters
    ----------
    events : pandas.DataFrame
        The event log, with ``ticket_id`` and ``timestamp``.

    Returns
    -------
    pandas.DataFrame
        The events sorted, rows without a timestamp left out; the index is kept.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["B", "A", "A"], "timestamp": pd.to_datetime(
    ...     ["2026-01-01 09:00", "2026-01-01 10:00", "2026-01-01 08:00"])})
    >>> sort_events(ev).index.tolist()
    [2, 1, 0]
    """
    timed = events[events["timestamp"].notna()]
    if _in_order(timed):  # a log written in order (as the generator's) needs no sorting
        return timed
    return timed.sort_values(["ticket_id", "timestamp"], kind="stable")


def _in_order(events: pd.DataFrame) -> bool:
    """Whether timed events already are in ticket order and then time order, as
    ``sort_values`` would put them (categorical tickets in the order of their categories):
    then a stable sort would leave every row where it is. ``False`` when it cannot tell
    cheaply (timestamps that are no datetimes, missing or unorderable tickets).
    """
    tickets, stamps = events["ticket_id"], events["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(stamps) or tickets.isna().any():
        return False
    try:
        key = tickets.cat.codes if isinstance(tickets.dtype, pd.CategoricalDtype) else tickets
        if not key.is_monotonic_increasing:
            return False
    except TypeError:  # e.g. text and numbers mixed
        return False
    same_ticket = key.eq(key.shift()).to_numpy(dtype=bool)
    earlier = stamps.diff().to_numpy() < np.timedelta64(0)
    return not (same_ticket & earlier).any()


def not_work(process: Process) -> set[str]:
    """Activities that are no renewed work on a resolved ticket: closing, the activities
    review.yml lists under ``process: non_work_activities`` (administrative steps such as
    an automatic closure or a record update), and every activity of the resolution stage
    or of a later stage (e.g. the survey).

    Parameters
    ----------
    process : Process
        The designed process of review.yml.

    Returns
    -------
    set of str
        The activities.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> stages = (Stage("first_level", "First level", "Tier 1"), Stage("resolution", "Resolution", "Tier 1"),
    ...           Stage("survey", "Survey", "CX team"))
    >>> p = Process(stages, {"Agent reply": "first_level", "Solved": "resolution", "Survey sent": "survey"},
    ...             resolution_activities=("Solved",), closing_activities=("Closed",),
    ...             non_work_activities=("Record updated",))
    >>> sorted(not_work(p))
    ['Closed', 'Record updated', 'Solved', 'Survey sent']
    """
    fixed = set(process.closing_activities) | set(process.non_work_activities)
    order = process.stage_names
    stages = [process.activities[a] for a in process.resolution_activities if a in process.activities]
    if not stages:
        return fixed
    later = set(order[min(order.index(s) for s in stages) :])
    return {a for a, s in process.activities.items() if s in later} | fixed


def tickets_from_events(events: pd.DataFrame, process: Process) -> pd.DataFrame:
    """Derive the ticket table from an event log.

    ``created_at`` is the first event; ``first_response_at`` the first event of a
    first-response activity; ``first_resolved_at`` the first and ``resolved_at`` the last
    resolution, missing while the ticket is open again; ``closed_at`` the last closing
    event; ``reopens`` the resolutions followed by more work; ``transfers`` the handoffs
    between teams (consecutive events of different teams); ``agent_replies`` the
    agent-reply events; ``status`` is ``open``, ``resolved`` or ``closed``. Other
    ticket-level columns found in the log (channel, priority, ...) take their first
    non-missing value. What the log cannot tell is left out rather than guessed:
    ``transfers`` needs a ``team`` column with at least two teams, ``agent_replies``
    reply activities in review.yml (see ``cxassess.registry.DERIVED_FROM``).

    Parameters
    ----------
    events : pandas.DataFrame
        The event log: ``ticket_id``, ``timestamp``, ``activity`` and optional ticket-level
        columns.
    process : Process
        The designed process of review.yml (its activity lists).

    Returns
    -------
    pandas.DataFrame
        One row per ticket, with the columns of the ``tickets`` table the log can give.

    Raises
    ------
    MissingColumnError
        When the log lacks ``ticket_id``, ``timestamp`` or ``activity``.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("s", "s", "l"),), activities={},
    ...             first_response_activities=("reply",), resolution_activities=("solve",),
    ...             closing_activities=("close",))
    >>> ev = pd.DataFrame({"ticket_id": ["A"] * 5,
    ...     "timestamp": pd.to_datetime(["2026-01-05 09:00", "2026-01-05 10:00",
    ...         "2026-01-05 11:00", "2026-01-06 09:00", "2026-01-06 12:00"]),
    ...     "activity": ["open", "reply", "solve", "reply", "solve"],
    ...     "team": ["t1", "t1", "t2", "t1", "t1"]})
    >>> t = tickets_from_events(ev, p)
    >>> print(t[["reopens", "transfers", "agent_replies", "status"]].to_string(index=False))
     reopens  transfers  agent_replies   status
           1          2              2 resolved
    """
    cols = ["ticket_id", "timestamp", "activity"]
    missing = [c for c in cols if c not in events.columns]
    if missing:
        raise MissingColumnError(events.attrs.get("source", "events"), "events", missing, list(events.columns))
    ev = sort_events(events)
    ev = ev[ev["ticket_id"].notna()]
    # the tickets as integer codes, in the order of their ids: every group-by below works on
    # integers, and the ids are matched once, at the end
    code, ids = pd.factorize(ev["ticket_id"], sort=True)
    ev = ev.assign(_code=code, _pos=ev.groupby(code, sort=False).cumcount().to_numpy())
    by = ev.groupby("_code", sort=True)
    out = pd.DataFrame({"created_at": by["timestamp"].min()}).reindex(pd.RangeIndex(len(ids)))

    def first_or_last(mask: pd.Series, how: str) -> pd.Series:
        return ev.loc[mask].groupby("_code")["timestamp"].agg(how).reindex(out.index)

    is_reply = ev["activity"].isin(process.first_response_activities)
    is_res = ev["activity"].isin(process.resolution_activities)
    is_close = ev["activity"].isin(process.closing_activities)
    is_work = ~(is_res | ev["activity"].isin(not_work(process)))
    out["first_response_at"] = first_or_last(is_reply, "min")
    out["first_resolved_at"] = first_or_last(is_res, "min")
    last_res = first_or_last(is_res, "max")
    out["closed_at"] = first_or_last(is_close, "max")

    def last_pos(mask: pd.Series) -> np.ndarray:
        """Each ticket's last position among the events of ``mask`` (-1: none)."""
        pos = np.full(len(ids), -1)
        np.maximum.at(pos, ev.loc[mask, "_code"].to_numpy(), ev.loc[mask, "_pos"].to_numpy())
        return pos

    last_work_pos, last_res_pos = last_pos(is_work), last_pos(is_res)
    res_code = ev.loc[is_res, "_code"].to_numpy()
    followed = ev.loc[is_res, "_pos"].to_numpy() < last_work_pos[res_code]
    out["reopens"] = np.bincount(res_code[followed], minlength=len(ids))
    open_now = last_res.isna().to_numpy() | ((last_res_pos >= 0) & (last_work_pos > last_res_pos))
    out["resolved_at"] = last_res.where(~open_now)

    replies = process.agent_reply_activities or process.first_response_activities
    if replies:
        out["agent_replies"] = np.bincount(ev.loc[ev["activity"].isin(replies), "_code"].to_numpy(),
                                           minlength=len(ids))
    if "team" in ev.columns and ev["team"].nunique() >= 2:  # one team: no transfer can be seen
        teams = ev.loc[ev["team"].notna(), ["_code", "team"]]
        previous = teams.groupby("_code")["team"].shift()
        handoff = (previous.notna() & (previous != teams["team"])).to_numpy(dtype=bool)
        out["transfers"] = np.bincount(teams["_code"].to_numpy()[handoff], minlength=len(ids))
    for column in ("reopens", "agent_replies", "transfers"):
        if column in out:
            out[column] = out[column].astype("Int64")
    out["status"] = np.where(open_now, "open", np.where(out["closed_at"].notna(), "closed", "resolved"))
    out["status"] = out["status"].astype("str")
    extra = [c for c in events.columns if c in SCHEMA["tickets"] and c not in out and c != "ticket_id"]
    if extra:
        out = out.join(by[extra].first())
    out.index = pd.Index(ids, name="ticket_id")
    return out.reset_index()

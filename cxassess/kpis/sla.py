"""SLA attainment per policy (DESIGN.md §5): achieved ÷ (achieved + breached).

A policy of review.yml (:class:`~cxassess.config.SlaPolicy`) promises a first response
or a resolution within so many hours, business or calendar, for tickets of some channels
and priorities. Each ticket it covers is

* **achieved** when the reply (resolution) came within the target,
* **breached** when it came later, or when it had not come by the cycle's end although
  the target had already passed,
* **pending** when it had not come by the cycle's end and the target had not passed yet:
  the outcome is unknown, so it counts in neither the numerator nor the denominator.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT

from cxassess.calendar import BusinessCalendar, hours_between
from cxassess.config import SlaPolicy
from cxassess.errors import InputError
from cxassess.kpis._frame import (
    column,
    epoch_micros,
    frame,
    group_codes,
    keys,
    on_business_clock,
    ratio,
    share_counts,
    share_table,
    sorted_groups,
    tidy_columns,
)
from cxassess.stats import wilson_interval

__all__ = ["sla_attainment", "sla_outcome", "outcome_codes", "OUTCOMES", "needed_columns"]

_END = {"first_response": "first_response_at", "resolution": "resolved_at"}


def needed_columns(policy: SlaPolicy) -> list[str]:
    """The ticket columns a policy reads.

    Parameters
    ----------
    policy : SlaPolicy
        The policy.

    Returns
    -------
    list of str
        ``created_at``, its end column, and ``channel`` / ``priority`` when it covers some.

    Examples
    --------
    >>> needed_columns(SlaPolicy("chat reply", "first_response", hours=0.5, channels=("chat",)))
    ['created_at', 'first_response_at', 'channel']
    """
    return ["created_at", _END[policy.metric], *(["channel"] if policy.channels else []),
            *(["priority"] if policy.priorities else [])]


def sla_outcome(
    tickets: IntoDataFrameT,
    policy: SlaPolicy,
    *,
    censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
) -> np.ndarray:
    """Outcome of ``policy`` per ticket: ``achieved``, ``breached``, ``pending`` or
    ``None`` where the policy does not cover the ticket (another channel or priority).

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        Ticket table with ``created_at``, ``channel``, ``priority`` and the policy's end
        column (``first_response_at`` or ``resolved_at``).
    policy : SlaPolicy
        The SLA policy.
    censor_at : pandas.Timestamp
        When the export was taken (the cycle's end): the clock stops there for tickets
        still waiting.
    calendar : BusinessCalendar, optional
        Business calendar; required for a policy on the business clock.

    Returns
    -------
    numpy.ndarray
        One outcome per ticket (dtype object).

    Raises
    ------
    InputError
        When the policy is on the business clock without a ``calendar``, or a column it reads
        is missing.

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01 09:00"] * 3, utc=True),
    ...                   "first_response_at": pd.to_datetime(["2026-07-01 09:20", "2026-07-01 11:00", None], utc=True),
    ...                   "channel": "chat", "priority": "normal"})
    >>> p = SlaPolicy("chat reply", "first_response", hours=0.5, clock="calendar")
    >>> sla_outcome(t, p, censor_at=pd.Timestamp("2026-07-01 09:10", tz="UTC")).tolist()
    ['achieved', 'breached', 'pending']
    """
    codes = _outcome_codes(nw.from_native(tickets, eager_only=True), policy, censor_at, calendar, {})
    return np.array([None, *OUTCOMES], dtype=object)[codes + 1]


#: Outcome of a policy per ticket, by code (:func:`outcome_codes`; -1: the policy does not
#: cover the ticket).
OUTCOMES = ("achieved", "breached", "pending")


def outcome_codes(
    tickets: IntoDataFrameT,
    policies: Sequence[SlaPolicy],
    *,
    censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
) -> list[np.ndarray]:
    """:func:`sla_outcome` of several policies as small whole numbers, for counting: per
    policy one code per ticket, the position of its outcome in :data:`OUTCOMES` (0
    achieved, 1 breached, 2 pending), -1 where the policy does not cover the ticket. The
    policies share their clocks' hours: each end column's hours are computed once per clock.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        Ticket table, as for :func:`sla_outcome`.
    policies : sequence of SlaPolicy
        The policies.
    censor_at : pandas.Timestamp
        When the export was taken (the cycle's end).
    calendar : BusinessCalendar, optional
        Business calendar; required for a policy on the business clock.

    Returns
    -------
    list of numpy.ndarray
        One int8 array per policy, in their order.

    Raises
    ------
    InputError
        As :func:`sla_outcome`, for any of the policies.

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01 09:00"] * 3, utc=True),
    ...                   "first_response_at": pd.to_datetime(["2026-07-01 09:20", "2026-07-01 11:00", None], utc=True),
    ...                   "channel": ["chat", "chat", "email"], "priority": "normal"})
    >>> p = SlaPolicy("chat reply", "first_response", hours=0.5, clock="calendar", channels=("chat",))
    >>> [c.tolist() for c in outcome_codes(t, [p], censor_at=pd.Timestamp("2026-07-01 09:10", tz="UTC"))]
    [[0, 1, -1]]
    """
    df, shared = nw.from_native(tickets, eager_only=True), {}
    return [_outcome_codes(df, policy, censor_at, calendar, shared).astype(np.int8) for policy in policies]


def _check_policy(policy: SlaPolicy, calendar: BusinessCalendar | None, columns: Sequence[str]) -> None:
    """Refuse a policy on the business clock without a calendar, or whose columns are missing."""
    if policy.clock == "business" and calendar is None:
        raise InputError(
            f"SLA policy {policy.name!r} runs on business hours but no calendar was given",
            fix="pass calendar=BusinessCalendar.from_config(config), or set clock: calendar",
        )
    missing = [c for c in needed_columns(policy) if c not in columns]
    if missing:
        raise InputError(
            f"SLA policy {policy.name!r} needs the ticket column(s) {', '.join(missing)}",
            fix="map them in review.yml (columns: tickets:), or drop the policy's channels/priorities",
        )


def _outcome_codes(
    df: nw.DataFrame, policy: SlaPolicy, censor_at: pd.Timestamp, calendar: BusinessCalendar | None,
    shared: dict,
) -> np.ndarray:
    """:func:`sla_outcome` as codes into :data:`OUTCOMES` (``-1`` not covered). ``shared``
    keeps what policies have in common: the hours per (end column, clock), to the end or,
    for a ticket still waiting, to the export; each segment column's values as codes.
    """
    _check_policy(policy, calendar, df.columns)
    clock = calendar if policy.clock == "business" else None
    end = _END[policy.metric]
    if (end, policy.clock) not in shared:
        created, done = column(df, "created_at"), column(df, end)
        replied = done.notna().to_numpy()
        hours = hours_between(created, done.where(replied, pd.Timestamp(censor_at)), clock)
        shared[end, policy.clock] = hours, replied & ~np.isnan(hours)  # no creation time: pending, as unknown
    hours, finished = shared[end, policy.clock]
    codes = np.where(finished, 0, 2).astype(np.int8)  # achieved, or pending while the target has not passed
    codes[hours > policy.hours] = 1  # breached: finished late, or still waiting past the target
    for name, allowed in (("channel", policy.channels), ("priority", policy.priorities)):
        if allowed:
            if name not in shared:
                shared[name] = pd.factorize(column(df, name))  # missing: -1, covered by no policy
            values, labels = shared[name]
            covers = np.append(pd.Index(labels).isin(allowed), False)  # by code; the last: missing (-1)
            codes[~covers[values]] = -1
    return codes


def sla_attainment(
    tickets: IntoDataFrameT,
    policies: Sequence[SlaPolicy],
    *,
    censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """SLA attainment = achieved ÷ (achieved + breached), one row per policy (and group).

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        Ticket table with the columns each policy reads (:func:`needed_columns`).
    policies : sequence of SlaPolicy
        The policies of review.yml ``sla``.
    censor_at : pandas.Timestamp
        When the export was taken (the cycle's end).
    calendar : BusinessCalendar, optional
        Business calendar; required for a policy on the business clock.
    by : str or sequence of str, optional
        Column(s) to break the figures down by.

    Returns
    -------
    DataFrame
        ``[policy, *by, kpi, value, ci_low, ci_high, n, hits, pending, target_hours]``
        with kpi ``sla``, ``n`` the decided tickets, ``hits`` the achieved ones (Wilson
        interval) and ``pending`` the covered tickets whose outcome is not known yet;
        same kind of frame as ``tickets``.

    Raises
    ------
    InputError
        When ``policies`` is empty, or as :func:`sla_outcome`.

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01 09:00"] * 4, utc=True),
    ...                   "first_response_at": pd.to_datetime(["2026-07-01 09:20", "2026-07-01 09:25",
    ...                                                        "2026-07-01 11:00", None], utc=True),
    ...                   "channel": ["chat", "chat", "chat", "email"], "priority": "normal"})
    >>> p = SlaPolicy("chat reply", "first_response", hours=0.5, clock="calendar", channels=("chat",))
    >>> r = sla_attainment(t, [p], censor_at=pd.Timestamp("2026-07-02", tz="UTC"))
    >>> r[["policy", "value", "n", "hits", "pending"]].values.tolist()
    [['chat reply', 0.6666666666666666, 3, 2, 0]]
    """
    df = frame(tickets)
    group = keys(by)
    if not policies:
        raise InputError("no SLA policy given", fix="add an sla: section to review.yml")
    if isinstance(df, nw.LazyFrame):
        return _engine_attainment(df, policies, censor_at, calendar, group)
    used = {"created_at", *group, *(c for p in policies for c in needed_columns(p))}
    df = df.select(*[c for c in df.columns if c in used])
    segments, codes = group_codes(df, group)
    size = len(next(iter(segments.values()))) if group else 1
    parts, shared = [], {}
    for policy in policies:
        outcome = _outcome_codes(df, policy, censor_at, calendar, shared)
        tally = np.bincount(codes * 4 + (outcome + 1), minlength=4 * size).reshape(size, 4)  # per group: -1, 0, 1, 2
        hits, breached, pending = tally[:, 1], tally[:, 2], tally[:, 3]
        n = hits + breached
        low, high = wilson_interval(hits, n)
        shown = hits + breached + pending > 0 if group else np.ones(1, dtype=bool)  # groups the policy covers
        table = tidy_columns(
            tickets, {c: [v for v, keep in zip(values, shown, strict=True) if keep] for c, values in segments.items()},
            "sla", {"value": ratio(hits, n)[shown], "ci_low": low[shown], "ci_high": high[shown], "n": n[shown],
                    "hits": hits[shown], "pending": pending[shown]}, ("hits", "pending"))
        parts.append(_tidy(sorted_groups(nw.from_native(table, eager_only=True), group), policy, group))
    return nw.maybe_reset_index(nw.concat(parts, how="vertical")).to_native()


def _tidy(decided: nw.DataFrame, policy: SlaPolicy, group: list[str]) -> nw.DataFrame:
    """A policy's rows of :func:`sla_attainment`, in its column order."""
    decided = decided.with_columns(
        nw.lit(policy.name).alias("policy"), nw.lit("sla").alias("kpi"),
        nw.lit(policy.hours).alias("target_hours"),
        *[nw.col(c).fill_null(0).cast(nw.Int64) for c in ("n", "hits", "pending")],
    )
    return decided.select("policy", *group, "kpi", "value", "ci_low", "ci_high", "n", "hits", "pending",
                          "target_hours")


def _engine_attainment(
    df: nw.LazyFrame, policies: Sequence[SlaPolicy], censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None, group: list[str],
) -> pd.DataFrame:
    """:func:`sla_attainment` in the engine of ``df``: each ticket's outcome of each policy
    from whole microseconds (working time on the business clock, joined in the engine),
    then per policy and group the tickets achieved, decided and pending; the intervals on
    those counts, as in memory.
    """
    columns = df.collect_schema().names()
    for policy in policies:
        _check_policy(policy, calendar, columns)
    ends = sorted({_END[p.metric] for p in policies})
    instants = {"_created": "created_at", **{f"_{e}": e for e in ends}}
    segments = sorted({c for p in policies for c in needed_columns(p)} - {"created_at", *ends})
    df = epoch_micros(df.select(*dict.fromkeys([*group, *segments, *instants.values()])), instants)
    censor = int(pd.Timestamp(censor_at).value // 1000)
    clocks = {"calendar": censor}
    if any(p.clock == "business" for p in policies):
        worked = {f"{k}_worked": k for k in instants}
        df = df.with_columns(*[nw.col(k).alias(w) for w, k in worked.items()])
        df, clocks["business"] = on_business_clock(df, list(worked), calendar, censor)

    def hours(span: nw.Expr, clock: str) -> nw.Expr:  # as hours_between computes them
        span = span.cast(nw.Float64)
        return (span / 1_000_000) / 3600 if clock == "business" else span / 3_600_000_000

    parts = []
    for policy in policies:
        suffix = "_worked" if policy.clock == "business" else ""
        created, end = nw.col(f"_created{suffix}"), nw.col(f"_{_END[policy.metric]}{suffix}")
        took = hours(end - created, policy.clock)
        waited = hours(nw.lit(clocks[policy.clock]) - created, policy.clock)
        code = (nw.when(~end.is_null()).then(nw.when(took <= policy.hours).then(nw.lit(0)).otherwise(nw.lit(1)))
                .otherwise(nw.when(waited > policy.hours).then(nw.lit(1)).otherwise(nw.lit(2))))
        covered = nw.lit(True)
        for name, allowed in (("channel", policy.channels), ("priority", policy.priorities)):
            if allowed:
                covered = covered & nw.col(name).is_in(list(allowed)).fill_null(False)
        flagged = df.filter(covered).with_columns(code.alias("_outcome"))
        counted = share_counts(flagged, nw.col("_outcome") == 0, group, where=nw.col("_outcome") != 2)
        pending = share_counts(flagged, nw.col("_outcome") == 2, group)["hits"]
        decided = share_table(counted, "sla", group).with_columns(pending.alias("pending"))
        parts.append(_tidy(decided, policy, group))
    return nw.maybe_reset_index(nw.concat(parts, how="vertical")).to_native()

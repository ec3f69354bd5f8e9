"""Speed KPIs: first response time and time to resolution (DESIGN.md §5).

**FRT** runs from creation to the first agent reply, **TTR** from creation to resolution
(first or full). Both come in calendar hours or, with a
:class:`~cxassess.calendar.BusinessCalendar`, in business hours. Tickets still waiting
when the cycle's export was taken (for a reply, for a resolution) are *censored*, not
dropped: both figures are Kaplan-Meier medians (and p90), reported next to the median of
the answered / resolved tickets and the tickets still waiting, because the median of the
finished tickets alone flatters a backlog.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT
from scipy import special

from cxassess.calendar import BusinessCalendar, hours_between
from cxassess.kpis._frame import (
    collect,
    column,
    epoch_micros,
    frame,
    group_codes,
    keys,
    on_business_clock,
    tidy_columns,
)
from cxassess.stats import counted_medians, group_order, se_from_interval

__all__ = ["first_response_time", "resolution_time", "kaplan_meier_quantile", "kaplan_meier_from_counts"]


def kaplan_meier_quantile(
    durations: np.ndarray, observed: np.ndarray, p: float = 0.5, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Time by which a share ``p`` of tickets is resolved, censoring the open ones.

    The Kaplan-Meier survival curve comes from :func:`scipy.stats.ecdf` on right-censored
    data; the quantile is the first time the curve reaches ``1 - p``, and its interval
    the first times the pointwise confidence band does. ``nan`` when not reached (too
    many tickets still open).

    Parameters
    ----------
    durations : numpy.ndarray
        Hours from creation to resolution, or to the export for the tickets still open;
        ``nan`` rows are left out.
    observed : numpy.ndarray of bool
        True where the ticket was resolved, False where it is censored (still open).
    p : float, default 0.5
        Share of tickets resolved: 0.5 for the median, 0.9 for the p90.
    confidence : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    value : float
        The quantile (``nan`` when the curve never reaches ``1 - p``).
    low : float
        Lower bound of its interval (``nan`` when not reached).
    high : float
        Upper bound of its interval (``nan`` when not reached).

    Examples
    --------
    >>> t = np.array([1.0, 2.0, 3.0, 5.0, 4.0]); resolved = np.array([1, 1, 1, 1, 0], bool)
    >>> float(kaplan_meier_quantile(t, resolved)[0])  # S: 0.8, 0.6, 0.4 at t = 3
    3.0
    """
    return _kaplan_meier_quantiles(durations, observed, (p,), confidence)[0]


def _kaplan_meier_quantiles(
    durations: np.ndarray, observed: np.ndarray, ps: tuple[float, ...], confidence: float = 0.95
) -> list[tuple[float, float, float]]:
    """:func:`kaplan_meier_quantile` for several ``ps`` from one survival curve."""
    t = np.asarray(durations, dtype=float)
    done = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(t)
    times, at = np.unique(t[keep], return_inverse=True)
    events = np.bincount(at, weights=done[keep], minlength=len(times)).astype(np.int64)
    censored = np.bincount(at, weights=~done[keep], minlength=len(times)).astype(np.int64)
    return kaplan_meier_from_counts(times, events, censored, ps, confidence)


def kaplan_meier_from_counts(
    times: np.ndarray, events: np.ndarray, censored: np.ndarray, ps: tuple[float, ...] = (0.5,),
    confidence: float = 0.95,
) -> list[tuple[float, float, float]]:
    """Kaplan-Meier quantiles with their intervals from the aggregate of one group: its
    distinct durations with the tickets finished (events) and still waiting (censored) at
    each, as an engine's group-by gives them.

    The survival curve is the product-limit estimate S(t) = Π (1 − dᵢ/nᵢ) (nᵢ the tickets
    still waiting just before tᵢ), its pointwise band S ± z·SE with Greenwood's SE, both
    exactly as :func:`scipy.stats.ecdf` computes them from the tickets one by one; a
    quantile ``p`` is the first time the curve (the band's edge) reaches ``1 − p``,
    ``nan`` when it never does.

    Parameters
    ----------
    times : numpy.ndarray
        The distinct durations, ascending.
    events : numpy.ndarray
        Tickets finished at each duration.
    censored : numpy.ndarray
        Tickets censored (still waiting at the export) at each duration.
    ps : tuple of float, default (0.5,)
        Shares of tickets finished: 0.5 for the median, 0.9 for the p90.
    confidence : float, default 0.95
        Confidence level of the band.

    Returns
    -------
    list of tuple
        ``(value, low, high)`` for each ``p``.

    Examples
    --------
    Finished after 1, 2, 3 and 5 hours, one ticket censored at 4 hours: S = 0.8, 0.6, 0.4
    at 1, 2, 3 h, so the median is 3 h.

    >>> r = kaplan_meier_from_counts(np.array([1.0, 2, 3, 4, 5]), np.array([1, 1, 1, 0, 1]), np.array([0, 0, 0, 1, 0]))
    >>> [float(v) for v in r[0]]
    [3.0, 1.0, nan]
    """
    d = np.asarray(events, dtype=np.int64)
    c = np.asarray(censored, dtype=np.int64)
    t = np.asarray(times, dtype=float)
    if not d.sum():
        return [(np.nan, np.nan, np.nan) for _ in ps]
    total = int(d.sum() + c.sum())
    n = total - (np.cumsum(d + c) - (d + c))  # at risk just before each time
    if c.sum():
        sf = np.cumprod((n - d) / n)
    else:  # no censoring: the empirical survival function, as scipy computes it then
        t, n, d = t[d > 0], n[d > 0], d[d > 0]
        sf = 1 - np.cumsum(d) / total
    with np.errstate(divide="ignore", invalid="ignore"):  # undefined where the curve is 0: left as nan
        se = np.sqrt(sf**2 * np.cumsum(d / (n * (n - d))))
    z_se = special.ndtri(1 / 2 + confidence / 2) * se
    low, high = np.clip(sf - z_se, 0, 1), np.clip(sf + z_se, 0, 1)

    def first_below(survival: np.ndarray, p: float) -> float:
        hit = np.flatnonzero(survival <= 1 - p + 1e-12)
        return float(t[hit[0]]) if len(hit) else np.nan

    return [(first_below(sf, p), first_below(low, p), first_below(high, p)) for p in ps]


def _duration_figures(
    codes: np.ndarray, size: int, time: np.ndarray, finished: np.ndarray, count: np.ndarray
) -> dict[str, np.ndarray]:
    """The figures of a duration per group from its aggregate: rows of (group code,
    duration in hours, finished or censored, how many tickets); raw tickets are rows of
    count 1. Gives the Kaplan-Meier median (``value``, ``ci_low``, ``ci_high``) and p90,
    the median of the finished tickets, the tickets (``n``) and those censored.
    """
    codes = np.asarray(codes, dtype=np.int64)
    time = np.asarray(time, dtype=float)
    finished = np.asarray(finished, dtype=bool)
    count = np.asarray(count, dtype=np.int64)
    value, low, high, p90 = (np.full(size, np.nan) for _ in range(4))
    keep = ~np.isnan(time)
    g, t, f, w = codes[keep], time[keep], finished[keep], count[keep]
    order = group_order(g, t)
    g, t, f, w = g[order], t[order], f[order], w[order]
    first = np.flatnonzero(np.r_[True, (np.diff(g) != 0) | (np.diff(t) != 0)]) if len(t) else np.empty(0, np.int64)
    group, times = g[first], t[first]
    events = np.add.reduceat(w * f, first) if len(t) else np.empty(0, np.int64)
    censored = np.add.reduceat(w * ~f, first) if len(t) else np.empty(0, np.int64)
    bounds = np.searchsorted(group, np.arange(size + 1))
    for k in range(size):  # one Kaplan-Meier curve per group
        a, b = bounds[k], bounds[k + 1]
        (value[k], low[k], high[k]), (p90[k], _, _) = kaplan_meier_from_counts(
            times[a:b], events[a:b], censored[a:b], (0.5, 0.9))
    n = np.bincount(codes, weights=count, minlength=size).astype(np.int64)
    return {"value": value, "ci_low": low, "ci_high": high, "n": n, "km_p90": p90,
            "finished_median": counted_medians(t[f], w[f], g[f], size, presorted=True),  # sorted above
            "censored": np.bincount(codes, weights=count * ~finished, minlength=size).astype(np.int64)}


def _engine_durations(
    df: nw.LazyFrame, group: list[str], start: str, end: str, censor_at: pd.Timestamp,
    stop: str | None = None, calendar: BusinessCalendar | None = None,
) -> tuple[dict[str, list], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The aggregate of a duration computed in the engine of ``df``: per group, distinct
    duration (whole microseconds from ``start`` to ``end``, or to the export ``censor_at``
    for a ticket without ``end``, or to ``stop`` when that came before the export), whether
    it finished, whether it still waited at the export, and how many tickets.

    With a ``calendar``, the microseconds are of working time: each instant is joined in
    the engine to its UTC day of :meth:`~cxassess.calendar.BusinessCalendar.day_table`.

    Returns the groups' keys, then per aggregate row: group code, hours, finished,
    waiting, count.
    """
    names = {"_start": start, "_end": end, **({"_stop": stop} if stop else {})}
    df = epoch_micros(df.select(*group, *names.values()), names)
    instant = int(pd.Timestamp(censor_at).value // 1000)  # microseconds since the epoch (UTC)
    if stop:  # the instant the wait stopped, kept when the clock below turns instants into working time
        df = df.with_columns(nw.col("_stop").alias("_stop_at"))
    censor = instant
    if calendar is not None:
        df, censor = on_business_clock(df, list(names), calendar, instant)
    done = ~nw.col("_end").is_null()
    stopped = (nw.col("_stop_at") < instant).fill_null(False) if stop else nw.lit(False)
    until = nw.when(stopped).then(nw.col("_stop")).otherwise(nw.lit(censor)) if stop else nw.lit(censor)
    took = nw.when(done).then(nw.col("_end") - nw.col("_start")).otherwise(until - nw.col("_start"))
    rows = df.select(*group, took.alias("_us"), done.alias("_done"), (~done & ~stopped).alias("_waiting"))
    cells = [*group, "_us", "_done", "_waiting"]
    agg = collect(rows.group_by(cells, drop_null_keys=False).agg(nw.len().alias("_count")))
    segments, codes = group_codes(agg, group)
    micros = agg["_us"].to_pandas().astype("float64").to_numpy()
    hours = micros / 3_600_000_000 if calendar is None else (micros / 1_000_000) / 3600  # as hours_between
    return (segments, codes, hours, agg["_done"].to_numpy().astype(bool),
            agg["_waiting"].to_numpy().astype(bool), agg["_count"].to_numpy().astype(np.int64))


def _in_memory(df: nw.DataFrame | nw.LazyFrame) -> bool:
    """Whether a duration is computed in memory (an eager frame) rather than in an engine."""
    return not isinstance(df, nw.LazyFrame)


def first_response_time(
    tickets: IntoDataFrameT,
    *,
    censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """First response time: hours from ``created_at`` to ``first_response_at``, with the
    tickets still waiting for a reply censored, not dropped.

    A ticket without a reply is censored at ``censor_at`` (the cycle's end, when the export
    was taken), or at its resolution when it was resolved before then without a reply (it
    stopped waiting). Dropping the waiting tickets would flatter a desk that leaves the
    hard ones unanswered.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        Ticket table with ``created_at`` and ``first_response_at`` (``resolved_at`` when
        present ends the wait of a ticket resolved without a reply).
    censor_at : pandas.Timestamp
        When the export was taken (the cycle's end).
    calendar : BusinessCalendar, optional
        Business hours instead of calendar hours; ``None``: calendar hours.
    by : str or sequence of str, optional
        Segment columns.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Same kind of frame as ``tickets``, columns
        ``[*by, kpi, value, ci_low, ci_high, n, km_p90, answered_median, waiting, se]``:
        ``value`` the Kaplan-Meier median (interval from the curve's confidence band),
        ``n`` every ticket, ``km_p90`` the Kaplan-Meier p90, ``answered_median`` the median
        of the answered tickets alone, ``waiting`` the tickets neither answered nor
        resolved at ``censor_at``, ``se`` the standard error implied by the interval.

    Examples
    --------
    Replies after 1, 2 and 3 hours; two tickets still waiting when the export is taken 4
    hours after creation. Share still waiting: 4/5 after 1 h, 3/5 after 2 h, 2/5 after 3 h,
    so the median is 3 h; the answered tickets alone would say 2 h.

    >>> created = pd.to_datetime(["2026-07-06 09:00"] * 5, utc=True)
    >>> t = pd.DataFrame({"created_at": created,
    ...                   "first_response_at": created + pd.to_timedelta([1, 2, 3, None, None], unit="h")})
    >>> r = first_response_time(t, censor_at=pd.Timestamp("2026-07-06 13:00", tz="UTC"))
    >>> r[["kpi", "value", "answered_median", "n", "waiting"]].values.tolist()
    [['frt_hours', 3.0, 2.0, 5, 2]]
    """
    df = frame(tickets)
    group = keys(by)
    kpi = "frt_business_hours" if calendar else "frt_hours"
    stop = "resolved_at" if "resolved_at" in df.collect_schema().names() else None
    if not _in_memory(df):
        segments, codes, time, answered, still_waiting, count = _engine_durations(
            df, group, "created_at", "first_response_at", censor_at, stop, calendar)
    else:
        df = collect(df.select(*group, "created_at", "first_response_at", *([stop] if stop else [])))
        created, replied = column(df, "created_at"), column(df, "first_response_at")
        end = pd.Series(pd.Timestamp(censor_at), index=created.index)
        if stop:  # resolved without a reply before the export: the wait ended there
            resolved = column(df, "resolved_at")
            end = end.where(~(resolved < end).fillna(False).astype(bool), resolved)
        answered = replied.notna().to_numpy()
        time = hours_between(created, replied.where(answered, end), calendar)  # to the reply, else to the end
        segments, codes = group_codes(df, group)
        still_waiting = ~answered & (end == pd.Timestamp(censor_at)).to_numpy()
        count = np.ones(len(time), dtype=np.int64)
    size = len(next(iter(segments.values()))) if group else 1
    figures = _duration_figures(codes, size, time, answered, count)
    low, high = figures["ci_low"], figures["ci_high"]
    out = {**figures, "answered_median": figures["finished_median"],
           "waiting": np.bincount(codes, weights=count * still_waiting, minlength=size).astype(np.int64),
           "se": se_from_interval(low, high)}
    return tidy_columns(tickets, segments, kpi, out, ("km_p90", "answered_median", "waiting", "se"))


def resolution_time(
    tickets: IntoDataFrameT,
    *,
    censor_at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
    first: bool = False,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """Time to resolution with the open tickets censored at ``censor_at``.

    ``value`` is the Kaplan-Meier median (interval from the curve's confidence band),
    ``n`` every ticket; ``km_p90`` the Kaplan-Meier p90; ``resolved_median`` the median of
    resolved tickets only; ``open_share`` the tickets still open at ``censor_at``; ``se``
    the standard error implied by the interval.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        Ticket table with ``created_at`` and ``resolved_at`` (``first_resolved_at`` for
        ``first=True``).
    censor_at : pandas.Timestamp
        When the export was taken (the cycle's end).
    calendar : BusinessCalendar, optional
        Business hours instead of calendar hours; ``None``: calendar hours.
    first : bool, default False
        Time to *first* resolution instead of full resolution.
    by : str or sequence of str, optional
        Segment columns.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, km_p90, resolved_median, open_share, se]``
        with kpi ``ttr_hours`` (``ttr_first_hours`` for ``first=True``, ``_business_hours``
        with a calendar), of the same kind as ``tickets``.

    Examples
    --------
    Resolutions after 1, 2, 3 and 5 hours, one ticket still open: share still open 4/5
    after 1 h, 3/5 after 2 h, 2/5 after 3 h, so the median is 3 h; the resolved tickets
    alone would say 2.5 h, and 1 ticket in 5 is open.

    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01"] * 5, utc=True)})
    >>> t["resolved_at"] = t["created_at"] + pd.to_timedelta([1, 2, 3, 5, None], unit="h")
    >>> r = resolution_time(t, censor_at=pd.Timestamp("2026-07-01 04:00", tz="UTC"))
    >>> r[["value", "resolved_median", "open_share"]].values.tolist(), int(r["n"].iloc[0])
    ([[3.0, 2.5, 0.2]], 5)
    """
    df = frame(tickets)
    group = keys(by)
    end = "first_resolved_at" if first else "resolved_at"
    kpi = ("ttr_first" if first else "ttr") + ("_business_hours" if calendar else "_hours")
    if not _in_memory(df):
        segments, codes, time, resolved, _, count = _engine_durations(df, group, "created_at", end, censor_at,
                                                                      calendar=calendar)
    else:
        df = collect(df.select(*group, "created_at", end))
        created, finished = column(df, "created_at"), column(df, end)
        resolved = finished.notna().to_numpy()
        censor = pd.Series(pd.Timestamp(censor_at), index=created.index)
        time = hours_between(created, finished.where(resolved, censor), calendar)  # to the end, else to the export
        segments, codes = group_codes(df, group)
        count = np.ones(len(time), dtype=np.int64)
    size = len(next(iter(segments.values()))) if group else 1
    figures = _duration_figures(codes, size, time, resolved, count)
    n = figures["n"]
    out = {**figures, "resolved_median": figures["finished_median"],
           "open_share": np.divide(figures["censored"], n, out=np.full(size, np.nan), where=n > 0),
           "se": se_from_interval(figures["ci_low"], figures["ci_high"])}
    return tidy_columns(tickets, segments, kpi, out, ("km_p90", "resolved_median", "open_share", "se"))

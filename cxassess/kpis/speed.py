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

import warnings
from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT
from scipy import stats as _st

from cxassess.calendar import BusinessCalendar, hours_between
from cxassess.kpis._frame import column, group_codes, keys, tidy_columns
from cxassess.stats import median_intervals, se_from_interval

__all__ = ["first_response_time", "resolution_time", "kaplan_meier_quantile"]


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
    t, done = t[keep], done[keep]
    if not done.any():
        return [(np.nan, np.nan, np.nan) for _ in ps]
    data = _st.CensoredData(uncensored=t[done], right=t[~done])
    sf = _st.ecdf(data).sf

    def first_below(times: np.ndarray, survival: np.ndarray, p: float) -> float:
        hit = np.flatnonzero(survival <= 1 - p + 1e-12)
        return float(times[hit[0]]) if len(hit) else np.nan

    with warnings.catch_warnings():  # undefined where the curve is 0 or 1: left as nan
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence)
    return [(first_below(sf.quantiles, sf.probabilities, p),
             first_below(band.low.quantiles, band.low.probabilities, p),
             first_below(band.high.quantiles, band.high.probabilities, p)) for p in ps]


def _kaplan_meier_by_group(
    time: np.ndarray, observed: np.ndarray, codes: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier median (with its interval) and p90 of each group: one curve per group."""
    value, low, high, p90 = (np.full(size, np.nan) for _ in range(4))
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=size))]
    for g in range(size):  # one Kaplan-Meier curve per group (scipy's ecdf)
        idx = order[bounds[g] : bounds[g + 1]]
        (value[g], low[g], high[g]), (p90[g], _, _) = _kaplan_meier_quantiles(time[idx], observed[idx], (0.5, 0.9))
    return value, low, high, p90


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
    df = nw.from_native(tickets, eager_only=True)
    group = keys(by)
    created, replied = column(df, "created_at"), column(df, "first_response_at")
    end = pd.Series(pd.Timestamp(censor_at), index=created.index)
    if "resolved_at" in df.columns:  # resolved without a reply before the export: the wait ended there
        resolved = column(df, "resolved_at")
        end = end.where(~(resolved < end).fillna(False).astype(bool), resolved)
    answered = replied.notna().to_numpy()
    time = np.where(answered, hours_between(created, replied, calendar), hours_between(created, end, calendar))
    kpi = "frt_business_hours" if calendar else "frt_hours"
    segments, codes = group_codes(df, group)
    size = len(next(iter(segments.values()))) if group else 1
    value, low, high, p90 = _kaplan_meier_by_group(time, answered, codes, size)
    n = np.bincount(codes, minlength=size)
    still_waiting = ~answered & (end == pd.Timestamp(censor_at)).to_numpy()
    out = {"value": value, "ci_low": low, "ci_high": high, "n": n, "km_p90": p90,
           "answered_median": median_intervals(np.where(answered, time, np.nan), codes, size)["value"],
           "waiting": np.bincount(codes, weights=still_waiting, minlength=size).astype(np.int64),
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
    df = nw.from_native(tickets, eager_only=True)
    group = keys(by)
    end = "first_resolved_at" if first else "resolved_at"
    created, finished = column(df, "created_at"), column(df, end)
    resolved = finished.notna().to_numpy()
    to_end = hours_between(created, finished, calendar)
    to_censor = hours_between(created, pd.Series(pd.Timestamp(censor_at), index=created.index), calendar)
    time = np.where(resolved, to_end, to_censor)
    kpi = ("ttr_first" if first else "ttr") + ("_business_hours" if calendar else "_hours")
    segments, codes = group_codes(df, group)
    size = len(next(iter(segments.values()))) if group else 1
    value, low, high, p90 = _kaplan_meier_by_group(time, resolved, codes, size)
    done = median_intervals(np.where(resolved, to_end, np.nan), codes, size)
    n = np.bincount(codes, minlength=size)
    still_open = np.bincount(codes, weights=~resolved, minlength=size)
    out = {"value": value, "ci_low": low, "ci_high": high, "n": n, "km_p90": p90, "resolved_median": done["value"],
           "open_share": np.divide(still_open, n, out=np.full(size, np.nan), where=n > 0),
           "se": se_from_interval(low, high)}
    return tidy_columns(tickets, segments, kpi, out, ("km_p90", "resolved_median", "open_share", "se"))

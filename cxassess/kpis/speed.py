"""Speed KPIs: first response time and time to resolution (DESIGN.md §5).

**FRT** runs from creation to the first agent reply, **TTR** from creation to resolution
(first or full). Both come in calendar hours or, with a
:class:`~cxassess.calendar.BusinessCalendar`, in business hours. Tickets still open when
the cycle's export was taken are *censored*, not dropped: the time to resolution is the
Kaplan-Meier median (and p90), reported next to the median of the resolved tickets and
the share still open, because the median of resolved tickets alone flatters a backlog.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT
from scipy import stats as _st

from cxassess.calendar import BusinessCalendar
from cxassess.kpis._frame import column, groups, hours_between, keys, tidy_table
from cxassess.stats import se_from_interval

__all__ = ["first_response_time", "resolution_time", "kaplan_meier_quantile", "median_interval"]

def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median of ``values`` with its distribution-free (order-statistic) interval.

    The interval comes from :func:`scipy.stats.quantile_test`; it is ``nan`` when there
    are too few values to reach the confidence.

    Examples
    --------
    >>> [round(float(v), 2) for v in median_interval(np.arange(1.0, 12.0))]
    [6.0, 2.0, 10.0]
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return np.nan, np.nan, np.nan
    ci = _st.quantile_test(x, q=np.median(x), p=0.5).confidence_interval(confidence)
    return float(np.median(x)), float(ci.low), float(ci.high)


def kaplan_meier_quantile(
    durations: np.ndarray, observed: np.ndarray, p: float = 0.5, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Time by which a share ``p`` of tickets is resolved, censoring the open ones.

    The Kaplan-Meier survival curve comes from :func:`scipy.stats.ecdf` on right-censored
    data; the quantile is the first time the curve reaches ``1 - p``, and its interval
    the first times the pointwise confidence band does. ``nan`` when not reached (too
    many tickets still open).

    Examples
    --------
    >>> t = np.array([1.0, 2.0, 3.0, 5.0, 4.0]); resolved = np.array([1, 1, 1, 1, 0], bool)
    >>> float(kaplan_meier_quantile(t, resolved)[0])  # S: 0.8, 0.6, 0.4 at t = 3
    3.0
    """
    t = np.asarray(durations, dtype=float)
    done = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(t)
    t, done = t[keep], done[keep]
    if not done.any():
        return np.nan, np.nan, np.nan
    data = _st.CensoredData(uncensored=t[done], right=t[~done])
    sf = _st.ecdf(data).sf

    def first_below(times: np.ndarray, survival: np.ndarray) -> float:
        hit = np.flatnonzero(survival <= 1 - p + 1e-12)
        return float(times[hit[0]]) if len(hit) else np.nan

    with warnings.catch_warnings():  # undefined where the curve is 0 or 1: left as nan
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence)
    value = first_below(sf.quantiles, sf.probabilities)
    low = first_below(band.low.quantiles, band.low.probabilities)
    high = first_below(band.high.quantiles, band.high.probabilities)
    return value, low, high


def first_response_time(
    tickets: IntoDataFrameT,
    *,
    calendar: BusinessCalendar | None = None,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """First response time: hours from ``created_at`` to ``first_response_at``.

    Median with its order-statistic interval over the tickets that got a reply (``n``),
    p90, ``waiting``: tickets without a reply yet (not counted in the median), and ``se``,
    the standard error implied by the interval (for the change between cycles).

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-06 09:00"] * 3, utc=True),
    ...                   "first_response_at": pd.to_datetime(["2026-07-06 10:00", "2026-07-06 12:00", None], utc=True)})
    >>> first_response_time(t)[["kpi", "value", "n", "waiting"]].values.tolist()
    [['frt_hours', 2.0, 2, 1]]
    """
    df = nw.from_native(tickets, eager_only=True)
    group = keys(by)
    hours = hours_between(column(df, "created_at"), column(df, "first_response_at"), calendar)
    kpi = "frt_business_hours" if calendar else "frt_hours"
    rows = []
    for key, idx in groups(df, group):
        h = hours[idx]
        replied = h[~np.isnan(h)]
        value, low, high = median_interval(replied)
        rows.append({**dict(zip(group, key, strict=True)), "kpi": kpi, "value": value, "ci_low": low,
                     "ci_high": high, "n": len(replied),
                     "p90": float(np.quantile(replied, 0.9)) if len(replied) else np.nan,
                     "waiting": int(len(h) - len(replied)), "se": float(se_from_interval(low, high))})
    return tidy_table(tickets, group, rows, ("p90", "waiting", "se"))


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
    tickets
        Ticket table with ``created_at`` and ``resolved_at`` (``first_resolved_at`` for
        ``first=True``).
    censor_at
        When the export was taken (the cycle's end).
    calendar
        Business hours instead of calendar hours.
    first
        Time to *first* resolution instead of full resolution.
    by
        Segment columns.

    Examples
    --------
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
    rows = []
    for key, idx in groups(df, group):
        value, low, high = kaplan_meier_quantile(time[idx], resolved[idx])
        done = to_end[idx][resolved[idx]]
        rows.append({**dict(zip(group, key, strict=True)), "kpi": kpi, "value": value, "ci_low": low,
                     "ci_high": high, "n": len(idx),
                     "km_p90": kaplan_meier_quantile(time[idx], resolved[idx], p=0.9)[0],
                     "resolved_median": float(np.median(done)) if len(done) else np.nan,
                     "open_share": float((~resolved[idx]).mean()) if len(idx) else np.nan,
                     "se": float(se_from_interval(low, high))})
    return tidy_table(tickets, group, rows, ("km_p90", "resolved_median", "open_share", "se"))

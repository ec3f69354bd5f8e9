"""Volume KPIs: how many tickets, and how they split."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT

from cxassess.calendar import BusinessCalendar, hours_between
from cxassess.kpis._frame import (
    collect,
    column,
    counts,
    epoch_micros,
    frame,
    group_codes,
    keys,
    on_business_clock,
    tidy_columns,
)
from cxassess.stats import median_intervals, se_from_interval

__all__ = ["volume", "backlog"]


def volume(tickets: IntoDataFrameT, *, by: str | Sequence[str]) -> IntoDataFrameT:
    """Tickets per group and their share of all tickets, largest group first.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame or a lazy frame
        The tickets (a lazy frame is counted in its engine).
    by : str or sequence of str
        Column(s) to count by.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        ``[*by, tickets, share]``, of the same kind as ``tickets`` (pandas for a lazy frame).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["chat", "email", "chat", "chat"]})
    >>> volume(t, by="channel").values.tolist()
    [['chat', 3, 0.75], ['email', 1, 0.25]]
    """
    group = keys(by)
    out = counts(frame(tickets), group).rename({"n": "tickets"})  # counted in the frame's engine
    out = out.with_columns((nw.col("tickets") / nw.col("tickets").sum()).alias("share"))
    return out.sort("tickets", *group, descending=[True] + [False] * len(group), nulls_last=False).to_native()


def backlog(
    tickets: IntoDataFrameT,
    *,
    at: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """The backlog at ``at`` (the cycle's end): tickets created and not resolved by then,
    and how old they are.

    Parameters
    ----------
    tickets : pandas.DataFrame or polars.DataFrame
        The tickets, with ``created_at`` and ``resolved_at``.
    at : pandas.Timestamp
        The instant of the backlog (the cycle's end).
    calendar : BusinessCalendar, optional
        Count the age in business hours; ``None``: calendar hours.
    by : str or sequence of str, optional
        Column(s) to break the figures down by.

    Returns
    -------
    DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, p90, oldest, se]`` with kpi
        ``backlog_age_hours`` (``backlog_age_business_hours`` with a calendar): the median
        age of the open tickets with its order-statistic interval, ``n`` the open tickets;
        same kind of frame as ``tickets``.

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-09-30 10:00", "2026-09-29 12:00",
    ...                                                 "2026-09-30 20:00"], utc=True),
    ...                   "resolved_at": pd.to_datetime([None, None, "2026-09-30 21:00"], utc=True)})
    >>> backlog(t, at=pd.Timestamp("2026-10-01", tz="UTC"))[["value", "n", "oldest"]].values.tolist()  # ages 14 h, 36 h
    [[25.0, 2.0, 36.0]]
    """
    group = keys(by)
    df = frame(tickets).select(*group, "created_at", "resolved_at")
    kpi = "backlog_age_business_hours" if calendar else "backlog_age_hours"
    if isinstance(df, nw.LazyFrame):  # in the engine: the distinct ages per group, with their counts
        segments, codes, hours, count = _engine_ages(df, group, pd.Timestamp(at), calendar)
        size = len(next(iter(segments.values()))) if group else 1
        out = median_intervals(hours, codes, size, counts=count)
        out["oldest"] = out["max"]
        out["se"] = se_from_interval(out["ci_low"], out["ci_high"])
        return tidy_columns(tickets, segments, kpi, out, ("p90", "oldest", "se"))
    created, resolved = column(df, "created_at"), column(df, "resolved_at")
    at = pd.Timestamp(at)
    is_open = ((created <= at) & (resolved.isna() | (resolved > at))).to_numpy()
    age = hours_between(created, pd.Series(at, index=created.index), calendar)
    ages_all = np.where(is_open, age, np.nan)
    segments, codes = group_codes(df, group)
    size = len(next(iter(segments.values()))) if group else 1
    out = median_intervals(ages_all, codes, size)
    out["oldest"] = out["max"]
    out["se"] = se_from_interval(out["ci_low"], out["ci_high"])
    return tidy_columns(tickets, segments, kpi, out, ("p90", "oldest", "se"))


def _engine_ages(
    df: nw.LazyFrame, group: list[str], at: pd.Timestamp, calendar: BusinessCalendar | None
) -> tuple[dict[str, list], np.ndarray, np.ndarray, np.ndarray]:
    """The ages at ``at`` of the tickets open then, aggregated in the engine of ``df``:
    the groups' keys, then per distinct (group, age): group code, hours (``nan`` for the
    tickets not open), count.
    """
    instant = int(at.value // 1000)  # microseconds since the epoch (UTC)
    df = epoch_micros(df, {"_created": "created_at", "_resolved": "resolved_at"})
    open_ = (nw.col("_created") <= instant) & (nw.col("_resolved").is_null() | (nw.col("_resolved") > instant))
    df = df.with_columns(open_.fill_null(False).alias("_open"))
    since = instant
    if calendar is not None:
        df, since = on_business_clock(df, ["_created"], calendar, instant)
    age = nw.when(nw.col("_open")).then(nw.lit(since) - nw.col("_created"))
    rows = df.select(*group, age.alias("_us"))
    agg = collect(rows.group_by([*group, "_us"], drop_null_keys=False).agg(nw.len().alias("_count")))
    segments, codes = group_codes(agg, group)
    micros = agg["_us"].to_pandas().astype("float64").to_numpy()
    hours = micros / 3_600_000_000 if calendar is None else (micros / 1_000_000) / 3600  # as hours_between
    return segments, codes, hours, agg["_count"].to_numpy().astype(np.int64)

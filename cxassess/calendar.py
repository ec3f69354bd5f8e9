"""The business clock: how much of a span falls in working hours (DESIGN.md §5).

Working hours per weekday and public holidays come from review.yml; they are local times
of the dataset's zone. The clock lays out every open interval of the days a set of spans
touches as absolute instants (so a day of 23 or 25 hours around a daylight-saving change
counts its real length), accumulates their lengths, and answers every span with two
binary searches: vectorised, no per-row Python loop, exact to the microsecond.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxassess.config import WEEKDAYS, ReviewConfig

__all__ = ["BusinessCalendar", "hours_between", "localize", "utc_instants"]

_US = np.int64(1_000_000)
_NAT = np.iinfo(np.int64).min  # a missing instant as int64 (NaT)


def localize(naive: pd.Series | pd.DatetimeIndex, timezone: str) -> pd.Series | pd.DatetimeIndex:
    """Local wall-clock times of ``timezone`` as instants, by the one rule of cxassess.

    * A time the autumn change repeats (02:30 on the last Sunday of October in Europe)
      is its **first occurrence**, still summer time (02:30+02:00 in Berlin), as a clock
      on the wall reads it first.
    * A time the spring change skips (02:30 on the last Sunday of March) is moved forward
      to the first valid instant (03:00+02:00).

    The loader (timestamps without an offset) and the business calendar (opening and
    closing times of review.yml) both follow it.

    Parameters
    ----------
    naive : pandas.Series or pandas.DatetimeIndex
        Timestamps without a zone, read as wall-clock times of ``timezone``.
    timezone : str
        An IANA time zone, e.g. ``Europe/Berlin``.

    Returns
    -------
    pandas.Series or pandas.DatetimeIndex
        The same times, aware of ``timezone``.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2026-10-25 02:30", "2026-03-29 02:30"]))
    >>> [str(v) for v in localize(t, "Europe/Berlin")]
    ['2026-10-25 02:30:00+02:00', '2026-03-29 03:00:00+02:00']
    """
    first = np.ones(len(naive), dtype=bool)  # pandas: True = the DST reading = the first occurrence
    if isinstance(naive, pd.Series):
        return naive.dt.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward")
    return naive.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward")


def _clock(text: str) -> dt.time | None:
    """A local time of review.yml; ``"24:00"`` (the end of the day) is ``None``."""
    hours, minutes = (int(part) for part in str(text).split(":"))
    return None if (hours, minutes) == (24, 0) else dt.time(hours, minutes)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (local time) and holidays of one dataset.

    Parameters
    ----------
    timezone : str
        IANA zone of the local times.
    hours : dict of int to (datetime.time, datetime.time or None)
        Weekday (0 = Monday) → (opening, closing) local time; closing ``None`` is the end
        of the day (``"24:00"`` in review.yml). A weekday left out is closed.
    holidays : frozenset of datetime.date
        Dates closed all day.

    Examples
    --------
    >>> cal = BusinessCalendar("Europe/Berlin", {0: (dt.time(8), dt.time(18))}, frozenset())
    >>> start = pd.Series(pd.to_datetime(["2026-07-06 17:00"]).tz_localize("Europe/Berlin"))
    >>> end = pd.Series(pd.to_datetime(["2026-07-13 09:30"]).tz_localize("Europe/Berlin"))
    >>> cal.business_hours(start, end).tolist()  # Mon 17-18, next Mon 8-9:30
    [2.5]
    """

    timezone: str
    hours: dict[int, tuple[dt.time, dt.time | None]]
    holidays: frozenset[dt.date]

    @classmethod
    def from_config(cls, config: ReviewConfig) -> BusinessCalendar:
        """The calendar of review.yml's ``calendar`` section (no section: always open).

        Parameters
        ----------
        config : ReviewConfig
            The dataset's settings: ``timezone``, ``calendar: working_hours`` and ``holidays``.

        Returns
        -------
        BusinessCalendar
            The calendar; open around the clock every day when review.yml sets no working hours.

        Examples
        --------
        >>> from pathlib import Path
        >>> raw = {"timezone": "UTC", "calendar": {"working_hours": {"mon": ["08:00", "18:00"]}}}
        >>> BusinessCalendar.from_config(ReviewConfig(Path("desk/review.yml"), raw)).hours
        {0: (datetime.time(8, 0), datetime.time(18, 0))}
        >>> BusinessCalendar.from_config(ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC"})).hours[6]
        (datetime.time(0, 0), None)
        """
        spans = config.calendar.get("working_hours")
        if not spans:
            hours = {d: (dt.time(0), None) for d in range(7)}
        else:
            hours = {WEEKDAYS.index(day): (_clock(span[0]), _clock(span[1]))
                     for day, span in spans.items() if span}
        return cls(config.timezone, hours, frozenset(config.holidays))

    def open_intervals(self, first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """Opening and closing instants (UTC microseconds) of every open interval from
        ``first`` to ``last`` (local dates, both included), in time order.

        Parameters
        ----------
        first, last : datetime.date
            The first and last local date.

        Returns
        -------
        opens : numpy.ndarray
            Opening instants (int64, microseconds since the epoch, UTC).
        closes : numpy.ndarray
            Closing instants, likewise.

        Examples
        --------
        >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())
        >>> opens, closes = cal.open_intervals(dt.date(2026, 7, 6), dt.date(2026, 7, 7))  # Mon, Tue
        >>> pd.Timestamp(int(opens[0]), unit="us"), (closes - opens).tolist()  # one interval of 10 h
        (Timestamp('2026-07-06 08:00:00'), [36000000000])
        """
        days = pd.date_range(first, last, freq="D")
        keep = [d for d in days if d.weekday() in self.hours and d.date() not in self.holidays]
        if not keep:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        opens = pd.DatetimeIndex([dt.datetime.combine(d.date(), self.hours[d.weekday()][0]) for d in keep])
        closes = pd.DatetimeIndex([
            dt.datetime.combine(d.date(), self.hours[d.weekday()][1]) if self.hours[d.weekday()][1]
            else dt.datetime.combine(d.date() + dt.timedelta(days=1), dt.time(0))
            for d in keep
        ])

        def instants(local: pd.DatetimeIndex) -> np.ndarray:
            return localize(local, self.timezone).as_unit("us").asi8

        return instants(opens), instants(closes)

    def business_seconds(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Seconds of working time between ``start`` and ``end`` (tz-aware), per row.

        Missing ends (a ticket still open) give ``NaN``; an end before its start gives a
        negative duration of the same size as the reversed span.

        Parameters
        ----------
        start, end : pandas.Series
            Tz-aware instants, aligned row by row.

        Returns
        -------
        pandas.Series
            Seconds (float), indexed like ``start``.

        Examples
        --------
        >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())
        >>> start = pd.Series(pd.to_datetime(["2026-07-06 07:00", "2026-07-06 07:00"], utc=True))
        >>> end = pd.Series(pd.to_datetime(["2026-07-06 08:30", None], utc=True))
        >>> cal.business_seconds(start, end).tolist()  # opens at 8:00: 30 min; still open
        [1800.0, nan]
        """
        start = pd.Series(start)
        end = pd.Series(end, index=start.index)
        s, e = _utc_micros(start), _utc_micros(end)
        valid = (s != _NAT) & (e != _NAT)
        out = np.full(len(start), np.nan)
        if not valid.any():
            return pd.Series(out, index=start.index)
        if not valid.all():
            s, e = s[valid], e[valid]
        # the local days spanned, read from the first and last instants alone, with two days
        # more on each side: one for hours opened the day before (past midnight), one for
        # a clock change that moves a local date back across midnight
        first, last = (pd.Timestamp(int(t), unit="us", tz="UTC").tz_convert(self.timezone).date()
                       for t in (min(s.min(), e.min()), max(s.max(), e.max())))
        opens, closes = self.open_intervals(first - dt.timedelta(days=2), last + dt.timedelta(days=2))
        if not len(opens):
            out[valid] = 0.0
            return pd.Series(out, index=start.index)
        # a closed interval of length 0 opened before every instant: instants before the first
        # opening count no open time
        opens = np.concatenate([[min(s.min(), e.min(), opens[0])], opens])
        lengths = np.concatenate([[0], closes - opens[1:]])
        before = np.cumsum(lengths) - lengths  # open time before interval i

        def elapsed(t: np.ndarray) -> np.ndarray:
            """Open time from the first interval's opening up to each instant ``t``."""
            i = np.searchsorted(opens, t, side="right") - 1  # last interval opened by t (t >= its opening)
            return before[i] + np.minimum(t - opens[i], lengths[i])

        out[valid] = (elapsed(e) - elapsed(s)) / _US
        return pd.Series(out, index=start.index)

    def day_table(self, first: int, last: int) -> pd.DataFrame:
        """The business clock as a small table for an engine: per UTC day, the open time
        before it and the open intervals that overlap it.

        An engine joins each instant ``t`` (microseconds since the epoch) to the row of
        its UTC day ``t // 86_400_000_000`` and reads the open time up to ``t`` as
        ``before + Σ clip(t − open_k, 0, length_k)``; the difference of two instants is
        then the working time between them, exactly as :meth:`business_seconds` counts it.

        Parameters
        ----------
        first, last : int
            The earliest and latest instants to cover, in microseconds since the epoch (UTC).

        Returns
        -------
        pandas.DataFrame
            ``day, before, open_1, length_1, open_2, length_2 ...`` as many pairs as the
            most intervals one UTC day overlaps (int64, microseconds; ``length_k = 0``
            where a day has fewer).

        Examples
        --------
        >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())  # Mondays
        >>> monday = pd.Timestamp("2026-07-06", tz="UTC").value // 1000
        >>> days = cal.day_table(monday, monday + 2 * 86_400_000_000)
        >>> days[["day", "length_1"]].values.tolist()[1:4]  # Mon 10 h open, Tue closed
        [[20640, 36000000000], [20641, 0], [20642, 0]]
        """
        day = 86_400_000_000
        lo, hi = int(first) // day - 1, int(last) // day + 1
        zone = pd.Timestamp(lo * day * 1000, tz="UTC").tz_convert(self.timezone).date()
        top = pd.Timestamp(hi * day * 1000, tz="UTC").tz_convert(self.timezone).date()
        opens, closes = self.open_intervals(zone - dt.timedelta(days=1), top + dt.timedelta(days=1))
        lengths = closes - opens
        finished = np.concatenate([[0], np.cumsum(lengths)])
        days = np.arange(lo, hi + 1, dtype=np.int64)
        starts, ends = days * day, (days + 1) * day
        first_open = np.searchsorted(closes, starts, side="right")  # first interval still open at the day's start
        table = {"day": days, "before": finished[first_open]}
        overlapping = np.searchsorted(opens, ends, side="left") - first_open  # intervals overlapping each day
        for k in range(max(int(overlapping.max()) if len(days) else 0, 1)):
            inside = k < overlapping
            j = np.minimum(first_open + k, max(len(opens) - 1, 0))
            table[f"open_{k + 1}"] = np.where(inside, opens[j] if len(opens) else 0, 0).astype(np.int64)
            table[f"length_{k + 1}"] = np.where(inside, lengths[j] if len(opens) else 0, 0).astype(np.int64)
        return pd.DataFrame(table)

    def is_open(self, instants: pd.Series) -> np.ndarray:
        """Whether each tz-aware instant falls in working hours (``False`` where missing).

        Parameters
        ----------
        instants : pandas.Series
            Tz-aware instants.

        Returns
        -------
        numpy.ndarray
            One bool per instant.

        Examples
        --------
        >>> cal = BusinessCalendar("Europe/Berlin", {0: (dt.time(8), dt.time(18))}, frozenset())
        >>> t = pd.Series(pd.to_datetime(["2026-07-06 09:00", "2026-07-06 19:00", "2026-07-07 09:00"]))
        >>> cal.is_open(t.dt.tz_localize("Europe/Berlin")).tolist()  # Monday 9:00, 19:00; Tuesday closed
        [True, False, False]
        """
        instants = pd.Series(instants)
        valid = instants.notna().to_numpy()
        out = np.zeros(len(instants), dtype=bool)
        if not valid.any():
            return out
        local = instants[valid].dt.tz_convert(self.timezone)
        opens, closes = self.open_intervals(local.min().date() - dt.timedelta(days=1),
                                            local.max().date() + dt.timedelta(days=1))
        if not len(opens):
            return out
        t = instants[valid].dt.tz_convert("UTC").dt.as_unit("us").astype("int64").to_numpy()
        i = np.searchsorted(opens, t, side="right") - 1
        out[valid] = (i >= 0) & (t < closes[np.maximum(i, 0)])
        return out

    def business_hours(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Hours of working time between ``start`` and ``end``; see :meth:`business_seconds`.

        Parameters
        ----------
        start, end : pandas.Series
            Tz-aware instants, aligned row by row.

        Returns
        -------
        pandas.Series
            Hours (float), indexed like ``start``.

        Examples
        --------
        >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())
        >>> start = pd.Series(pd.to_datetime(["2026-07-06 07:00"], utc=True))
        >>> end = pd.Series(pd.to_datetime(["2026-07-06 12:00"], utc=True))
        >>> cal.business_hours(start, end).tolist()  # 8:00 to 12:00
        [4.0]
        """
        return self.business_seconds(start, end) / 3600


def _utc_micros(stamps: pd.Series) -> np.ndarray:
    """Tz-aware instants as microseconds since the epoch (UTC), :data:`_NAT` where missing,
    without a copy when the column is already in microseconds.
    """
    return stamps.dt.tz_convert("UTC").dt.as_unit("us").array.asi8


def utc_instants(stamps: pd.Series) -> np.ndarray:
    """Instants as a NumPy ``datetime64`` array in UTC (``NaT`` where missing), without a
    Python object per row (``Series.to_numpy`` of a zoned column builds one Timestamp each:
    seconds at a million rows). Naive times are returned as they are.

    Parameters
    ----------
    stamps : pandas.Series
        A datetime column, zoned or naive.

    Returns
    -------
    numpy.ndarray
        ``datetime64`` in the column's unit.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2026-07-06 10:00", None]).tz_localize("Europe/Berlin"))
    >>> utc_instants(s).tolist()
    [datetime.datetime(2026, 7, 6, 8, 0), None]
    """
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(stamps.to_numpy(dtype=f"datetime64[{stamps.dt.unit}]"))


def hours_between(start: pd.Series, end: pd.Series, calendar: BusinessCalendar | None) -> np.ndarray:
    """Hours from ``start`` to ``end`` per row, calendar or business (``nan`` where either
    is missing); never rounded to whole seconds.

    Parameters
    ----------
    start, end : pandas.Series
        Tz-aware instants, aligned row by row.
    calendar : BusinessCalendar or None
        The business clock; ``None`` counts calendar hours.

    Returns
    -------
    numpy.ndarray
        Hours (float) per row.

    Examples
    --------
    >>> start = pd.Series(pd.to_datetime(["2026-07-06 08:00", "2026-07-06 08:00"], utc=True))
    >>> end = pd.Series(pd.to_datetime(["2026-07-07 09:30", None], utc=True))
    >>> hours_between(start, end, None).tolist()  # 25.5 h; no end
    [25.5, nan]
    >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())  # Mondays only
    >>> hours_between(start, end, cal).tolist()
    [10.0, nan]
    """
    if calendar is None:
        return ((end - start) / pd.Timedelta(hours=1)).to_numpy(dtype=float, na_value=np.nan)
    return calendar.business_hours(start, end).to_numpy(dtype=float)

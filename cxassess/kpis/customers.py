"""Customer KPIs: retention and churn over a cycle (DESIGN.md §5).

With S the customers at the cycle's start, N the customers new in the cycle and E the
customers at its end:

* **retention** = (E − N) ÷ S,
* **churn** = lost ÷ S, with *lost* the customers of S who left during the cycle.

A customer is active from ``active_from`` until ``active_to`` (empty: still active).
Customers at the start joined before it; new ones joined in ``[start, end)``. The two
rates need not add up to 1: a new customer who leaves within the cycle lowers E − N
without being one of the lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import pandas as pd
from narwhals.typing import IntoDataFrameT

from cxassess.kpis._frame import attach, counts, frame, keys, ratio, result_backend
from cxassess.stats import wilson_interval

__all__ = ["retention"]


def retention(
    customers: IntoDataFrameT,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: str | Sequence[str] | None = None,
) -> IntoDataFrameT:
    """Retention and churn of the cycle ``[start, end)``, overall or per segment.

    Parameters
    ----------
    customers : pandas.DataFrame or polars.DataFrame
        One row per customer: ``active_from`` and ``active_to`` (missing: still active).
    start, end : pandas.Timestamp
        The cycle's ``[start, end)`` window, of the same time zone as the columns.
    by : str or sequence of str, optional
        Column(s) to break the figures down by (``segment``).

    Returns
    -------
    DataFrame
        The ``retention`` rows, then the ``churn`` rows, groups sorted:
        ``[*by, kpi, value, ci_low, ci_high, n, hits, at_start, new, at_end, lost]`` with
        ``n = at_start`` (S), ``hits`` the numerator (E − N, lost) and a Wilson interval;
        same kind of frame as ``customers``.

    Examples
    --------
    >>> c = pd.DataFrame({
    ...     "active_from": pd.to_datetime(["2025-01-01", "2025-03-01", "2026-07-10", "2026-08-01", "2025-05-05"]),
    ...     "active_to": pd.to_datetime([None, "2026-08-15", None, "2026-09-01", None])})
    >>> r = retention(c, start=pd.Timestamp("2026-07-01"), end=pd.Timestamp("2026-10-01"))
    >>> r[["kpi", "value", "at_start", "new", "at_end", "lost"]].values.tolist()  # new customer 4 left too
    [['retention', 0.3333333333333333, 3, 2, 3, 1], ['churn', 0.3333333333333333, 3, 2, 3, 1]]
    """
    df = frame(customers)  # counted in the frame's engine
    left = nw.col("active_to")
    df = df.with_columns(
        ((nw.col("active_from") < start) & (left.is_null() | (left >= start))).alias("_s"),
        ((nw.col("active_from") >= start) & (nw.col("active_from") < end)).alias("_n"),
        ((nw.col("active_from") < end) & (left.is_null() | (left >= end))).alias("_e"),
    ).with_columns((nw.col("_s") & ~left.is_null() & (left < end)).alias("_lost"))
    flags = {"at_start": "_s", "new": "_n", "at_end": "_e", "lost": "_lost"}
    df = df.with_columns(*[nw.col(flag).cast(nw.Int64) for flag in flags.values()])
    group = keys(by)
    out = counts(df, group, **{name: nw.col(flag).sum() for name, flag in flags.items()})
    extra = ("hits", "at_start", "new", "at_end", "lost")
    s = out["at_start"].to_numpy().astype(float)
    parts = []
    for kpi, hits in (("retention", out["at_end"] - out["new"]), ("churn", out["lost"])):
        k = hits.to_numpy().astype(float)
        low, high = wilson_interval(k, s)
        part = out.with_columns(hits.alias("hits"), nw.col("at_start").alias("n_start"))
        part = attach(part.drop("n").rename({"n_start": "n"}), kpi, ratio(k, s), low, high, group, extra)
        parts.append(part)
    out = nw.concat(parts, how="vertical")
    backend = result_backend(df)
    if backend is not nw.get_native_namespace(out):
        out = nw.from_dict(out.to_dict(as_series=False), backend=backend)
    return out.to_native()

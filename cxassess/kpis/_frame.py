"""Shared plumbing of the KPI calculators: frame-agnostic rates with intervals.

Every calculator splits in two: the heavy part, group-by aggregations (counts, sums,
sums of squares, the distinct durations with their counts) written in narwhals
expressions, runs where the data lives: in pandas or Polars for a frame in memory, in
the engine for a lazy frame (a Polars ``LazyFrame``, a DuckDB relation, a PySpark
DataFrame; see :mod:`cxassess.engines`). Only the small aggregate comes back; the
intervals and verdicts are computed on it in NumPy/SciPy, by the same code for every
backend. A lazy input gives a (small) pandas result.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
from narwhals.typing import IntoDataFrameT

from cxassess.calendar import BusinessCalendar
from cxassess.stats import wilson_interval

RESULT_COLUMNS = ("kpi", "value", "ci_low", "ci_high", "n")


def frame(native: object) -> nw.DataFrame | nw.LazyFrame:
    """The narwhals view of a calculator's input: eager (pandas, Polars) or lazy (Polars
    ``LazyFrame``, DuckDB, PySpark).

    Examples
    --------
    >>> import polars as pl
    >>> type(frame(pd.DataFrame({"a": [1]}))).__name__, type(frame(pl.LazyFrame({"a": [1]}))).__name__
    ('DataFrame', 'LazyFrame')
    """
    return nw.from_native(native)


def collect(df: nw.DataFrame | nw.LazyFrame) -> nw.DataFrame:
    """An aggregate in memory: an eager frame as it is, a lazy one run in its engine and
    brought back as pandas (it is small: one row per group, or per group and duration).

    Examples
    --------
    >>> import polars as pl
    >>> collect(nw.from_native(pl.LazyFrame({"a": [1, 2]})).select(nw.col("a").sum())).to_native()
       a
    0  3
    """
    if not isinstance(df, nw.LazyFrame):
        return df
    zones = {c: t.time_zone for c, t in df.collect_schema().items()
             if isinstance(t, nw.Datetime) and t.time_zone is not None}
    out = df.collect(backend="pandas")
    # Spark gives its instants as naive times in the session's zone (UTC, engines.spark_session):
    # they are the instants again, in the zone the engine reported
    naive = [c for c in zones if out.schema[c] == nw.Datetime and out.schema[c].time_zone is None]
    if naive:
        out = out.with_columns(*[nw.col(c).dt.replace_time_zone("UTC").dt.convert_time_zone(zones[c])
                                 for c in naive])
    return out


def result_backend(df: nw.DataFrame | nw.LazyFrame):
    """The kind of frame a calculator returns: the input's for an eager frame, pandas for a lazy one."""
    return pd if isinstance(df, nw.LazyFrame) else nw.get_native_namespace(df)


def epoch_micros(df: nw.DataFrame | nw.LazyFrame, names: dict[str, str]) -> nw.DataFrame | nw.LazyFrame:
    """Add whole microseconds since the epoch (UTC) of timestamp columns, computed in the
    frame's engine: ``names`` maps each new column to its timestamp column. Durations are
    differences of these integers, exact on every backend, to the microsecond (Spark's
    resolution; finer digits of a nanosecond timestamp are dropped).

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["1970-01-01 00:00:01.5"], utc=True)})
    >>> epoch_micros(nw.from_native(t), {"us": "created_at"})["us"].to_list()
    [1500000]
    """
    impl = df.implementation
    if impl.is_duckdb():  # narwhals has no epoch for DuckDB: its own epoch_us
        quoted = {k: '"' + v.replace('"', '""') + '"' for k, v in names.items()}
        fields = ", ".join(f'epoch_us(CAST({src} AS TIMESTAMPTZ)) AS "{alias}"' for alias, src in quoted.items())
        return nw.from_native(df.to_native().project(f"*, {fields}"))
    if impl.is_pyspark() or impl.is_pyspark_connect():  # nor for Spark: unix_micros
        from pyspark.sql import functions as spark

        return nw.from_native(df.to_native().withColumns(
            {alias: spark.unix_micros(spark.col(src)) for alias, src in names.items()}))
    return df.with_columns(*[nw.col(src).dt.timestamp("us").alias(alias) for alias, src in names.items()])


def lazy_like(df: nw.LazyFrame, table: pd.DataFrame) -> nw.LazyFrame:
    """A small pandas ``table`` as a lazy frame of the engine of ``df``, to join with it
    (a lookup table such as the business clock's days).

    Examples
    --------
    >>> import polars as pl
    >>> lazy = lazy_like(nw.from_native(pl.LazyFrame({"a": [1]})), pd.DataFrame({"b": [2]}))
    >>> type(lazy.to_native()).__name__
    'LazyFrame'
    """
    impl = df.implementation
    if impl.is_duckdb():
        import duckdb

        return nw.from_native(duckdb.from_arrow(pa.Table.from_pandas(table, preserve_index=False)))
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return nw.from_native(df.to_native().sparkSession.createDataFrame(table))
    if impl.is_polars():
        import polars as pl

        return nw.from_native(pl.from_pandas(table).lazy())
    return nw.from_native(table).lazy()


def on_business_clock(
    df: nw.LazyFrame, columns: list[str], calendar: BusinessCalendar, censor: int
) -> tuple[nw.LazyFrame, int]:
    """Replace each instant of ``columns`` (microseconds since the epoch, from
    :func:`epoch_micros`) by the working time before it, in the engine: a join on the UTC
    day with the calendar's :meth:`~cxassess.calendar.BusinessCalendar.day_table` (a few
    hundred rows). The difference of two such columns is the working time between the
    instants, as :meth:`~cxassess.calendar.BusinessCalendar.business_seconds` counts it.

    Returns the frame and the working time before the instant ``censor`` (microseconds).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from cxassess.calendar import BusinessCalendar
    >>> cal = BusinessCalendar("UTC", {0: (dt.time(8), dt.time(18))}, frozenset())  # Mondays
    >>> t = pl.LazyFrame({"a": pd.to_datetime(["2026-07-06 07:00"], utc=True),
    ...                   "b": pd.to_datetime(["2026-07-07 12:00"], utc=True)})
    >>> lazy = epoch_micros(nw.from_native(t), {"_a": "a", "_b": "b"})
    >>> export = pd.Timestamp("2026-07-08", tz="UTC").value // 1000
    >>> worked, _ = on_business_clock(lazy, ["_a", "_b"], cal, export)
    >>> worked.select((nw.col("_b") - nw.col("_a")) / 3_600_000_000).collect().item()  # Monday 8:00-18:00
    10.0
    """
    span = collect(df.select(*[nw.col(c).min().alias(f"{c}_min") for c in columns],
                             *[nw.col(c).max().alias(f"{c}_max") for c in columns]))
    seen = [v for v in span.row(0) if v is not None and v == v] + [censor]
    days = calendar.day_table(int(min(seen)), int(max(seen)))
    day = 86_400_000_000
    pairs = sum(c.startswith("open_") for c in days.columns)
    lookup = lazy_like(df, days)
    for c in columns:
        renamed = lookup.rename({k: f"{c}__{k}" for k in days.columns})
        df = df.with_columns((nw.col(c) // day).alias(f"{c}__key")).join(
            renamed, left_on=f"{c}__key", right_on=f"{c}__day", how="left")
        worked = nw.col(f"{c}__before")
        for k in range(1, pairs + 1):
            since = nw.col(c) - nw.col(f"{c}__open_{k}")
            worked = worked + nw.min_horizontal(nw.max_horizontal(since, nw.lit(0)), nw.col(f"{c}__length_{k}"))
        df = df.with_columns(worked.alias(c))
    row = days.iloc[np.searchsorted(days["day"].to_numpy(), censor // day)]
    before = int(row["before"]) + sum(min(max(censor - int(row[f"open_{k}"]), 0), int(row[f"length_{k}"]))
                                      for k in range(1, pairs + 1))
    return df, before


def ratio(numerator: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``numerator / n`` element-wise, ``nan`` where ``n`` is 0 (nothing to estimate)."""
    numerator, n = np.asarray(numerator, dtype=float), np.asarray(n, dtype=float)
    return np.divide(numerator, n, out=np.full(n.shape, np.nan), where=n > 0)


def keys(by: str | Sequence[str] | None) -> list[str]:
    """Normalise a ``by`` argument to a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def counts(df: nw.DataFrame | nw.LazyFrame, by: list[str], **aggs: nw.Expr) -> nw.DataFrame:
    """Aggregate ``aggs`` plus ``n`` (row count) overall or per group, in the frame's own
    engine, and return the aggregate in memory, groups sorted (nulls first).

    Examples
    --------
    >>> t = nw.from_native(pd.DataFrame({"team": ["b", "a", "b"], "x": [1, 2, 3]}))
    >>> counts(t, ["team"], total=nw.col("x").sum()).to_native().values.tolist()
    [['a', 2, 1], ['b', 4, 2]]
    """
    exprs = [e.alias(name) for name, e in aggs.items()] + [nw.len().alias("n")]
    if not by:
        out = df.select(*exprs)
    else:
        out = df.group_by(by, drop_null_keys=False).agg(*exprs)
    return sorted_groups(collect(out.with_columns(nw.col("n").cast(nw.Int64))), by)


def sorted_groups(out: nw.DataFrame, by: list[str]) -> nw.DataFrame:
    """An aggregate's rows in the order of its groups' keys, nulls first (the same order
    for every backend).
    """
    return nw.maybe_reset_index(out.sort(by, nulls_last=False)) if by else out


def attach(out: nw.DataFrame, kpi: str, value: np.ndarray, low: np.ndarray, high: np.ndarray,
           by: list[str], extra: Sequence[str] = ()) -> nw.DataFrame:
    """Add ``kpi, value, ci_low, ci_high`` to an aggregated frame, in the tidy order."""
    backend = nw.get_native_namespace(out)
    n = len(out)
    out = out.with_columns(
        nw.new_series("kpi", [kpi] * n, nw.String, backend=backend),
        nw.new_series("value", value.astype(float), nw.Float64, backend=backend),
        nw.new_series("ci_low", low.astype(float), nw.Float64, backend=backend),
        nw.new_series("ci_high", high.astype(float), nw.Float64, backend=backend),
    )
    return out.select(*by, *RESULT_COLUMNS, *extra)


def answered(df: nw.DataFrame | nw.LazyFrame, kind: str | None) -> nw.DataFrame | nw.LazyFrame:
    """Survey rows with a score (NaN and null alike count as unanswered), of ``kind``."""
    df = df.with_columns(nw.col("score").cast(nw.Float64).fill_nan(None))
    where = ~nw.col("score").is_null()
    if kind is not None and "kind" in df.collect_schema().names():
        where = where & (nw.col("kind") == kind)
    return df.filter(where)


def share_counts(
    df: nw.DataFrame | nw.LazyFrame, hit: nw.Expr, by: list[str], where: nw.Expr | None = None
) -> nw.DataFrame:
    """The aggregate of a share: per group the rows counted (``n``, those for which
    ``where`` holds) and the ``hits`` among them, computed in the frame's engine.

    Examples
    --------
    >>> t = nw.from_native(pd.DataFrame({"team": ["a", "a", "b"], "transfers": [0, 2, 1]}))
    >>> share_counts(t, nw.col("transfers") > 0, ["team"]).to_native().values.tolist()
    [['a', 1, 2], ['b', 1, 1]]
    """
    counted = nw.lit(True) if where is None else where.fill_null(False)
    df = df.with_columns(
        (hit.fill_null(False) & counted).cast(nw.Int64).alias("_hit"),
        counted.cast(nw.Int64).alias("_counted"),
    )
    exprs = [nw.col("_hit").sum().alias("hits"), nw.col("_counted").sum().alias("n")]
    out = df.select(*exprs) if not by else df.group_by(by, drop_null_keys=False).agg(*exprs)
    out = out.with_columns(nw.col("hits").fill_null(0).cast(nw.Int64), nw.col("n").fill_null(0).cast(nw.Int64))
    return sorted_groups(collect(out), by)


def share_table(out: nw.DataFrame, kpi: str, by: list[str], backend=None) -> nw.DataFrame:
    """The tidy KPI table of a share from its aggregate (:func:`share_counts`): the value
    ``hits / n`` with its Wilson interval (statistics on the small aggregate only).

    Examples
    --------
    >>> agg = nw.from_native(pd.DataFrame({"hits": [8], "n": [10]}))
    >>> share_table(agg, "csat", [])[["value", "ci_low"]].to_numpy().round(4).tolist()
    [[0.8, 0.4902]]
    """
    k = out["hits"].to_numpy().astype(float)
    n = out["n"].to_numpy().astype(float)
    low, high = wilson_interval(k, n)
    table = attach(out, kpi, ratio(k, n), low, high, by, extra=("hits",))
    if backend is not None and backend is not nw.get_native_namespace(table):
        table = nw.from_dict(table.to_dict(as_series=False), backend=backend)
    return table


def rate(
    native: IntoDataFrameT,
    hit: nw.Expr,
    kpi: str,
    *,
    by: str | Sequence[str] | None = None,
    where: nw.Expr | None = None,
) -> IntoDataFrameT:
    """Share of rows (those for which ``where`` holds) for which ``hit`` is true.

    Returns the tidy KPI table ``[*by, kpi, value, ci_low, ci_high, n, hits]`` with a
    Wilson interval, of the same kind (pandas, Polars) as the input; a lazy input
    (Polars ``LazyFrame``, DuckDB, PySpark) is counted in its engine and gives a pandas
    table. A group none of whose rows qualify is kept with ``n = 0`` and no value,
    rather than dropped.

    Examples
    --------
    >>> import polars as pl
    >>> t = {"team": ["a", "a", "b"], "transfers": [0, 2, 1]}
    >>> eager = rate(pd.DataFrame(t), nw.col("transfers") > 0, "transfer_rate", by="team")
    >>> lazy = rate(pl.LazyFrame(t), nw.col("transfers") > 0, "transfer_rate", by="team")
    >>> eager.equals(lazy), eager[["team", "value", "n"]].values.tolist()
    (True, [['a', 0.5, 2], ['b', 1.0, 1]])
    """
    df = frame(native)
    group = keys(by)
    return share_table(share_counts(df, hit, group, where), kpi, group, result_backend(df)).to_native()


def column(df: nw.DataFrame, name: str) -> pd.Series:
    """One column as a pandas Series with a fresh index (durations are computed in pandas)."""
    return df[name].to_pandas().reset_index(drop=True)


def groups(df: nw.DataFrame, by: list[str]) -> list[tuple[tuple, np.ndarray]]:
    """Row positions of each group (sorted by its keys; nulls kept as a group)."""
    if not by:
        return [((), np.arange(len(df)))]
    frame = df.select(*by).to_pandas()
    grouped = frame.groupby(by, dropna=False, sort=True).indices
    return [((k,) if not isinstance(k, tuple) else k, v) for k, v in grouped.items()]


def group_codes(df: nw.DataFrame, by: list[str]) -> tuple[dict[str, list], np.ndarray]:
    """The groups of ``df`` by ``by`` as ``(keys, codes)``: ``keys`` maps each column to
    its value per group (groups sorted by their keys, nulls kept as a group, as
    :func:`groups`), ``codes`` gives each row's group number (0 for all rows without ``by``).

    Examples
    --------
    >>> keys_, codes = group_codes(nw.from_native(pd.DataFrame({"team": ["b", "a", "b"]})), ["team"])
    >>> keys_, codes.tolist()
    ({'team': ['a', 'b']}, [1, 0, 1])
    """
    if not by:
        return {}, np.zeros(len(df), dtype=np.int64)
    grouped = df.select(*by).to_pandas().groupby(by, dropna=False, sort=True, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    index = grouped.size().index
    values = [index.get_level_values(i) for i in range(len(by))] if len(by) > 1 else [index]
    return {c: list(v) for c, v in zip(by, values, strict=True)}, codes


def tidy_table(native: IntoDataFrameT, by: list[str], rows: list[dict], extra: Sequence[str]) -> IntoDataFrameT:
    """Rows of a per-group loop as the tidy KPI table, of the same kind as ``native``."""
    backend = result_backend(frame(native))
    data = {c: [r[c] for r in rows] for c in (*by, *RESULT_COLUMNS, *extra)}
    return nw.from_dict(data, backend=backend).to_native()


def tidy_columns(native: IntoDataFrameT, keys_: dict[str, list], kpi: str, columns: dict[str, np.ndarray],
                 extra: Sequence[str]) -> IntoDataFrameT:
    """Per-group arrays (one value per group of :func:`group_codes`) as the tidy KPI
    table, of the same kind as ``native``.
    """
    backend = result_backend(frame(native))
    size = len(columns["value"])
    data = {**{c: [None if pd.isna(x) else x for x in v] for c, v in keys_.items()}, "kpi": [kpi] * size,
            **{c: columns[c] for c in ("value", "ci_low", "ci_high", "n", *extra)}}
    return nw.from_dict(data, backend=backend).to_native()



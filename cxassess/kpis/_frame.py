"""Shared plumbing of the KPI calculators: frame-agnostic rates with intervals."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrameT

from cxassess.stats import wilson_interval

RESULT_COLUMNS = ("kpi", "value", "ci_low", "ci_high", "n")


def ratio(numerator: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``numerator / n`` element-wise, ``nan`` where ``n`` is 0 (nothing to estimate)."""
    numerator, n = np.asarray(numerator, dtype=float), np.asarray(n, dtype=float)
    return np.divide(numerator, n, out=np.full(n.shape, np.nan), where=n > 0)


def keys(by: str | Sequence[str] | None) -> list[str]:
    """Normalise a ``by`` argument to a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def counts(df: nw.DataFrame, by: list[str], **aggs: nw.Expr) -> nw.DataFrame:
    """Aggregate ``aggs`` plus ``n`` (row count) overall or per group, groups sorted."""
    exprs = [e.alias(name) for name, e in aggs.items()] + [nw.len().alias("n")]
    if not by:
        return df.select(*exprs)
    return df.group_by(by, drop_null_keys=False).agg(*exprs).sort(by)


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


def answered(df: nw.DataFrame, kind: str | None) -> nw.DataFrame:
    """Survey rows with a score (NaN and null alike count as unanswered), of ``kind``."""
    df = df.with_columns(nw.col("score").cast(nw.Float64).fill_nan(None))
    where = ~nw.col("score").is_null()
    if kind is not None and "kind" in df.columns:
        where = where & (nw.col("kind") == kind)
    return df.filter(where)


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
    Wilson interval, of the same kind (pandas, Polars) as the input. A group none of
    whose rows qualify is kept with ``n = 0`` and no value, rather than dropped.
    """
    df = nw.from_native(native, eager_only=True)
    group = keys(by)
    counted = nw.lit(True) if where is None else where.fill_null(False)
    df = df.with_columns(
        (hit.fill_null(False) & counted).cast(nw.Int64).alias("_hit"),
        counted.cast(nw.Int64).alias("_counted"),
    )
    exprs = [nw.col("_hit").sum().alias("hits"), nw.col("_counted").sum().alias("n")]
    out = df.select(*exprs) if not group else df.group_by(group, drop_null_keys=False).agg(*exprs).sort(group)
    k = out["hits"].to_numpy().astype(float)
    n = out["n"].to_numpy().astype(float)
    low, high = wilson_interval(k, n)
    return attach(out, kpi, ratio(k, n), low, high, group, extra=("hits",)).to_native()


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
    backend = nw.get_native_namespace(nw.from_native(native, eager_only=True))
    data = {c: [r[c] for r in rows] for c in (*by, *RESULT_COLUMNS, *extra)}
    return nw.from_dict(data, backend=backend).to_native()


def tidy_columns(native: IntoDataFrameT, keys_: dict[str, list], kpi: str, columns: dict[str, np.ndarray],
                 extra: Sequence[str]) -> IntoDataFrameT:
    """Per-group arrays (one value per group of :func:`group_codes`) as the tidy KPI
    table, of the same kind as ``native``.
    """
    backend = nw.get_native_namespace(nw.from_native(native, eager_only=True))
    size = len(columns["value"])
    data = {**{c: list(v) for c, v in keys_.items()}, "kpi": [kpi] * size,
            **{c: columns[c] for c in ("value", "ci_low", "ci_high", "n", *extra)}}
    return nw.from_dict(data, backend=backend).to_native()



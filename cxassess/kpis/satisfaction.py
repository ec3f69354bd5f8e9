"""Satisfaction KPIs from survey answers: CSAT, NPS, CES (DESIGN.md §5).

Unanswered surveys (no score) are excluded from every figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
from narwhals.typing import IntoDataFrameT

from cxassess.errors import InputError
from cxassess.kpis._frame import (
    answered,
    attach,
    collect,
    counts,
    frame,
    keys,
    rate,
    ratio,
    result_backend,
)
from cxassess.stats import mean_interval, nps_standard_error, z_value

__all__ = ["TOP_BOX", "CES_AGREE", "csat", "nps", "ces", "fill_scale"]

#: Lowest score in the top box for each scale size (points on the scale).
#: 3-point: "good" (3); 5-point: 4-5; 7-point: 6-7; 10-point (1-10) and 11-point (0-10): 9-10.
TOP_BOX = {3: 3, 5: 4, 7: 6, 10: 9, 11: 9}

#: Lowest score that agrees "the company made it easy" on a CES scale: 7-point 5-7, 5-point 4-5.
CES_AGREE = {5: 4, 7: 5}


def fill_scale(surveys: IntoDataFrameT, points: int | None) -> IntoDataFrameT:
    """Surveys whose ``scale`` reads ``points`` (review.yml ``surveys: scales``) where the
    export gives none: the column is absent or the cell empty. ``points=None`` changes nothing.

    Parameters
    ----------
    surveys : pandas.DataFrame or polars.DataFrame
        The surveys.
    points : int or None
        Points of the scale of review.yml for these surveys.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        The surveys, of the same kind, with ``scale`` filled in.

    Examples
    --------
    >>> import pandas as pd
    >>> fill_scale(pd.DataFrame({"score": [4, 5], "scale": [5, None]}), 5)["scale"].tolist()
    [5.0, 5.0]
    >>> fill_scale(pd.DataFrame({"score": [4]}), 5)["scale"].tolist()
    [5]
    """
    if points is None:
        return surveys
    df = frame(surveys)
    if "scale" not in df.collect_schema().names():
        return df.with_columns(nw.lit(points).alias("scale")).to_native()
    return df.with_columns(nw.col("scale").fill_null(points)).to_native()


def _threshold(df: nw.DataFrame | nw.LazyFrame, scale: int | None, lowest: dict[int, int], kpi: str) -> nw.Expr:
    """The lowest score that counts, per row, from each row's scale (or ``scale``).

    Raises ``InputError`` (a ``ValueError``) for a scale without a rule rather than counting it as a miss.
    """
    if scale is not None:
        present = {scale}
    else:
        present = set(collect(df.select(nw.col("scale").cast(nw.Float64)).unique())["scale"].to_list())
    unknown = sorted(f"{v:g}" for v in present - set(lowest))
    if unknown:
        raise InputError(
            f"{kpi}: no rule for a {', '.join(unknown)}-point scale",
            fix=f"use one of {sorted(lowest)} points, or correct the 'scale' column / surveys: scales "
            "in review.yml",
        )
    if scale is not None:
        return nw.lit(float(lowest[scale]))
    expr = nw.lit(None, dtype=nw.Float64)
    for points, low in lowest.items():
        expr = nw.when(nw.col("scale") == points).then(nw.lit(float(low))).otherwise(expr)
    return expr


def csat(
    surveys: IntoDataFrameT,
    *,
    by: str | Sequence[str] | None = None,
    scale: int | None = None,
    kind: str | None = "csat",
) -> IntoDataFrameT:
    """CSAT: share of answers in the top box of their scale.

    CSAT % = answers in the top-2 box of a 5-point scale (4-5) ÷ answers; 3-point: "good"
    (3); 7-point: 6-7; 10/11-point: 9-10 (DESIGN.md §5, :data:`TOP_BOX`).

    Parameters
    ----------
    surveys : pandas.DataFrame or polars.DataFrame
        Survey table with ``score`` and, unless ``scale`` is given, ``scale``.
    by : str or sequence of str, optional
        Column(s) to break the figure down by.
    scale : int, optional
        Points of the scale for every row; default the ``scale`` column.
    kind : str or None, default "csat"
        Keep only rows of this survey ``kind`` (if the column exists); ``None`` keeps all.

    Returns
    -------
    DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, hits]``, value a share in [0, 1] with its
        Wilson interval; same kind of frame as ``surveys``.

    Raises
    ------
    InputError
        When a scale has no top-box rule (e.g. a 4-point scale).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"score": [5, 4, 3, 1, None], "scale": 5})
    >>> csat(s)[["value", "n"]].iloc[0].tolist()
    [0.5, 4.0]
    """
    df = answered(frame(surveys), kind)
    hit = nw.col("score") >= _threshold(df, scale, TOP_BOX, "csat")
    return rate(df.to_native(), hit, "csat", by=by)


def _check_nps_scale(df: nw.DataFrame | nw.LazyFrame, scale: int | None) -> None:
    """Refuse answers that are not on the 11-point (0-10) NPS scale, naming what was found."""
    fix = ("NPS needs the 0-10 'how likely to recommend' question: pass only those answers "
           "(surveys.kind 'nps', scale 11), or use csat() for a satisfaction scale")
    scales = {float(scale)} if scale is not None else set()
    if scale is None and "scale" in df.collect_schema().names():
        given = df.select(nw.col("scale").cast(nw.Float64).fill_nan(None)).drop_nulls().unique()
        scales = set(collect(given)["scale"].to_list())
    if scales - {11.0}:
        found = ", ".join(f"{v:g}" for v in sorted(scales - {11.0}))
        raise InputError(f"nps: answers on a {found}-point scale (surveys.scale); NPS is defined on the "
                         "11-point 0-10 scale", fix=fix)
    score = nw.col("score")
    outside = df.filter((score < 0) | (score > 10) | (score != score.round(0)))
    found = collect(outside.group_by("score").agg(nw.len().alias("rows")))
    if len(found):
        examples = ", ".join(f"{v:g}" for v in sorted(found["score"].to_list())[:5])
        raise InputError(f"nps: {int(found['rows'].sum()):,} score(s) outside the whole numbers 0-10 "
                         f"(surveys.score: {examples})", fix=fix)


def nps(
    surveys: IntoDataFrameT,
    *,
    by: str | Sequence[str] | None = None,
    kind: str | None = "nps",
    scale: int | None = None,
    confidence: float = 0.95,
) -> IntoDataFrameT:
    """Net Promoter Score in points, with its standard-error interval.

    NPS = %promoters (9-10) − %detractors (0-6) on 0-10;
    SE = √[(p + d − (p − d)²)/n] × 100; interval NPS ± z·SE (DESIGN.md §5).

    Parameters
    ----------
    surveys : pandas.DataFrame or polars.DataFrame
        Survey table with ``score`` on 0-10 (and ``kind`` when ``kind`` is given) and,
        when present, ``scale`` (points of each answer's scale).
    by : str or sequence of str, optional
        Column(s) to break the figure down by.
    kind : str or None, default "nps"
        Keep only rows of this survey ``kind`` (if the column exists); ``None`` keeps all.
    scale : int, optional
        Points of the scale of every row, when the table has no ``scale`` column.
    confidence : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, promoters, detractors, se]``, value and
        interval in points (-100 to 100); same kind of frame as ``surveys``.

    Raises
    ------
    InputError
        The answers are not on the 11-point 0-10 scale (a ``scale`` other than 11, or a
        score that is not a whole number from 0 to 10): on a 1-5 scale every answer would
        count as a detractor.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"score": [10, 9, 8, 7, 6, 0, 10, 10, 3, 9]})
    >>> r = nps(s, kind=None)
    >>> r[["value", "n", "promoters", "detractors"]].iloc[0].tolist()
    [20.0, 10.0, 5.0, 3.0]
    """
    df = answered(frame(surveys), kind)
    _check_nps_scale(df, scale)
    df = df.with_columns(
        (nw.col("score") >= 9).cast(nw.Int64).alias("_promoter"),
        (nw.col("score") <= 6).cast(nw.Int64).alias("_detractor"),
    )
    group = keys(by)
    out = counts(df, group, promoters=nw.col("_promoter").sum(), detractors=nw.col("_detractor").sum())
    out = out.with_columns(nw.col("promoters", "detractors").cast(nw.Int64))
    p = out["promoters"].to_numpy().astype(float)
    d = out["detractors"].to_numpy().astype(float)
    n = out["n"].to_numpy().astype(float)
    value = 100 * ratio(p - d, n)
    se = nps_standard_error(p, d, n)
    z = z_value(confidence)
    out = out.with_columns(nw.new_series("se", se, nw.Float64, backend=nw.get_native_namespace(out)))
    table = attach(out, "nps", value, value - z * se, value + z * se, group, extra=("promoters", "detractors", "se"))
    return _as(table, df).to_native()


def ces(
    surveys: IntoDataFrameT,
    *,
    by: str | Sequence[str] | None = None,
    measure: str = "agree",
    scale: int | None = None,
    kind: str | None = "ces",
    confidence: float = 0.95,
) -> IntoDataFrameT:
    """Customer Effort Score: "the company made it easy to handle my issue" (1-7).

    Two common definitions, so the result says which (DESIGN.md §5):

    * ``measure="agree"`` → kpi ``ces_agree``: share of answers that agree, 5-7 on the
      7-point scale (4-5 on a 5-point one, :data:`CES_AGREE`), with its Wilson interval
      and ``hits``;
    * ``measure="mean"`` → kpi ``ces_mean``: the mean score with its Student-t interval
      and ``se``.

    Parameters
    ----------
    surveys : pandas.DataFrame or polars.DataFrame
        Survey table with ``score`` and, for ``agree`` unless ``scale`` is given, ``scale``.
    by : str or sequence of str, optional
        Column(s) to break the figure down by.
    measure : {"agree", "mean"}, default "agree"
        The definition (above).
    scale : int, optional
        Points of the scale for every row (``agree``); default the ``scale`` column.
    kind : str or None, default "ces"
        Keep only rows of this survey ``kind`` (if the column exists); ``None`` keeps all.
    confidence : float, default 0.95
        Confidence level of the ``mean`` interval.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, ...]`` with ``hits`` (agree) or ``se``
        (mean); same kind of frame as ``surveys``.

    Raises
    ------
    InputError
        When ``measure`` is not known, or a scale has no rule (``agree``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"score": [7, 6, 5, 3, 7, None], "scale": 7})
    >>> ces(s, kind=None)[["kpi", "value", "n"]].values.tolist()
    [['ces_agree', 0.8, 5]]
    >>> round(float(ces(s, kind=None, measure="mean")["value"].iloc[0]), 2)
    5.6
    """
    df = answered(frame(surveys), kind)
    if measure == "agree":
        hit = nw.col("score") >= _threshold(df, scale, CES_AGREE, "ces")
        return rate(df.to_native(), hit, "ces_agree", by=by)
    if measure != "mean":
        raise InputError(f"ces: measure {measure!r} is not known", fix="use measure='agree' or 'mean'")
    group = keys(by)
    df = df.with_columns((nw.col("score") ** 2).alias("_square"))
    out = counts(df, group, total=nw.col("score").sum(), squares=nw.col("_square").sum())
    mean, low, high, se = mean_interval(out["total"].to_numpy(), out["squares"].to_numpy(),
                                        out["n"].to_numpy(), confidence)
    out = out.with_columns(nw.new_series("se", se, nw.Float64, backend=nw.get_native_namespace(out)))
    return _as(attach(out, "ces_mean", mean, low, high, group, extra=("se",)), df).to_native()


def _as(table: nw.DataFrame, df: nw.DataFrame | nw.LazyFrame) -> nw.DataFrame:
    """``table`` as the kind of frame a calculator on ``df`` returns (pandas for a lazy ``df``)."""
    backend = result_backend(df)
    if backend is nw.get_native_namespace(table):
        return table
    return nw.from_dict(table.to_dict(as_series=False), backend=backend)

"""Satisfaction KPIs from survey answers: CSAT, NPS, CES (DESIGN.md §5).

Unanswered surveys (no score) are excluded from every figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
from narwhals.typing import IntoDataFrameT

from cxassess.kpis._frame import answered, attach, counts, keys, rate, ratio
from cxassess.stats import nps_standard_error, z_value

__all__ = ["TOP_BOX", "csat", "nps", "scale_range"]

#: Lowest score in the top box for each scale size (points on the scale).
#: 3-point: "good" (3); 5-point: 4-5; 7-point: 6-7; 10-point (1-10) and 11-point (0-10): 9-10.
TOP_BOX = {3: 3, 5: 4, 7: 6, 10: 9, 11: 9}


def scale_range(points: int) -> tuple[int, int]:
    """Lowest and highest score of a scale with ``points`` points.

    An 11-point scale (NPS, "how likely ... recommend") runs 0-10; every other scale
    starts at 1.

    Examples
    --------
    >>> scale_range(11), scale_range(5)
    ((0, 10), (1, 5))
    """
    return (0, 10) if points == 11 else (1, points)


def _top_box_threshold(scale: nw.Expr) -> nw.Expr:
    expr = nw.lit(None, dtype=nw.Float64)
    for points, lowest in TOP_BOX.items():
        expr = nw.when(scale == points).then(nw.lit(float(lowest))).otherwise(expr)
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
    surveys
        Survey table with ``score`` and, unless ``scale`` is given, ``scale``.
    by
        Column(s) to break the figure down by.
    scale
        Points of the scale for every row; default the ``scale`` column.
    kind
        Keep only rows of this survey ``kind`` (if the column exists); ``None`` keeps all.

    Returns
    -------
    DataFrame
        ``[*by, kpi, value, ci_low, ci_high, n, hits]``, value a share in [0, 1] with its
        Wilson interval; same kind of frame as ``surveys``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"score": [5, 4, 3, 1, None], "scale": 5})
    >>> csat(s)[["value", "n"]].iloc[0].tolist()
    [0.5, 4.0]
    """
    df = answered(nw.from_native(surveys, eager_only=True), kind)
    scale_expr = nw.lit(scale) if scale is not None else nw.col("scale")
    hit = nw.col("score") >= _top_box_threshold(scale_expr)
    return rate(df.to_native(), hit, "csat", by=by)


def nps(
    surveys: IntoDataFrameT,
    *,
    by: str | Sequence[str] | None = None,
    kind: str | None = "nps",
    confidence: float = 0.95,
) -> IntoDataFrameT:
    """Net Promoter Score in points, with its standard-error interval.

    NPS = %promoters (9-10) − %detractors (0-6) on 0-10;
    SE = √[(p + d − (p − d)²)/n] × 100; interval NPS ± z·SE (DESIGN.md §5).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"score": [10, 9, 8, 7, 6, 0, 10, 10, 3, 9]})
    >>> r = nps(s, kind=None)
    >>> r[["value", "n", "promoters", "detractors"]].iloc[0].tolist()
    [20.0, 10.0, 5.0, 3.0]
    """
    df = answered(nw.from_native(surveys, eager_only=True), kind)
    df = df.with_columns(
        (nw.col("score") >= 9).cast(nw.Int64).alias("_promoter"),
        (nw.col("score") <= 6).cast(nw.Int64).alias("_detractor"),
    )
    group = keys(by)
    out = counts(df, group, promoters=nw.col("_promoter").sum(), detractors=nw.col("_detractor").sum())
    p = out["promoters"].to_numpy().astype(float)
    d = out["detractors"].to_numpy().astype(float)
    n = out["n"].to_numpy().astype(float)
    value = 100 * ratio(p - d, n)
    se = nps_standard_error(p, d, n)
    z = z_value(confidence)
    return attach(out, "nps", value, value - z * se, value + z * se, group,
                  extra=("promoters", "detractors")).to_native()

"""Cycle-over-cycle change of KPI tables, with its interval and verdict (DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrame

from cxassess.kpis._frame import keys
from cxassess.registry import KPIS
from cxassess.registry import min_important as min_important_difference
from cxassess.stats import difference_of_estimates, difference_of_proportions, verdict

__all__ = ["HIGHER_IS_BETTER", "DETAIL_KEYS", "change"]

#: Direction of each KPI: is a higher value an improvement? (from :mod:`cxassess.registry`)
HIGHER_IS_BETTER = {k.id: k.higher_is_better for k in KPIS.values()}

#: Columns that identify a KPI row besides ``by`` (an SLA row belongs to its policy).
DETAIL_KEYS = ("policy",)


def _pandas(table: IntoDataFrame) -> pd.DataFrame:
    return nw.from_native(table, eager_only=True).to_pandas()


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def change(
    now: IntoDataFrame, before: IntoDataFrame, *, by: str | Sequence[str] | None = None,
    min_important: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Compare two KPI tables (same calculators, two cycles) row by row.

    Shares (rows with ``hits``) get Newcombe's interval of the difference; every other
    figure (NPS, a mean, a median) the interval from √(SE₁² + SE₂²) of its ``se``
    column. The verdict is *improved* or *worsened* only when that interval excludes 0
    and the change reaches the KPI's minimum important difference
    (:func:`cxassess.registry.min_important`), *real but small* when the interval excludes
    0 but the change is smaller, else *within noise*; *not comparable* when either cycle
    lacks the figure. Returns a pandas frame (a small summary).

    Parameters
    ----------
    now : pandas.DataFrame or polars.DataFrame
        The KPI table of the cycle reviewed.
    before : pandas.DataFrame or polars.DataFrame
        The KPI table of the cycle compared with, from the same calculators.
    by : str or sequence of str, optional
        The grouping columns both tables share.
    min_important : mapping of str to float, optional
        review.yml's minimum important difference per KPI (``kpis:
        min_important_difference``); KPIs not named keep the registry's.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``now``: ``[*by, kpi, (policy), value, ci_low, ci_high, n,
        previous, n_previous, change, change_low, change_high, verdict]``.

    Examples
    --------
    >>> from cxassess.kpis.resolution import transfer_rate
    >>> q2 = pd.DataFrame({"transfers": [0] * 80 + [1] * 20})
    >>> q3 = pd.DataFrame({"transfers": [0] * 60 + [1] * 40})
    >>> change(transfer_rate(q3), transfer_rate(q2))[["value", "previous", "verdict"]].values.tolist()
    [[0.4, 0.2, 'worsened']]

    With a minimum important difference of 25 points the same real rise is small:

    >>> change(transfer_rate(q3), transfer_rate(q2), min_important={"transfer_rate": 0.25})["verdict"].tolist()
    ['real but small']
    """
    group = keys(by)
    a, b = _pandas(now), _pandas(before)
    on = [*group, "kpi", *[c for c in DETAIL_KEYS if c in a and c in b]]
    merged = a.merge(b, on=on, how="left", suffixes=("", "_before"))
    out = merged[[*on, "value", "ci_low", "ci_high", "n"]].copy()
    out["previous"] = merged["value_before"]
    out["n_previous"] = merged["n_before"]
    d = (merged["value"] - merged["value_before"]).to_numpy(dtype=float)
    low, high = np.full(len(merged), np.nan), np.full(len(merged), np.nan)
    shares = (_column(merged, "hits").notna() & _column(merged, "hits_before").notna()).to_numpy()
    if shares.any():
        _, low[shares], high[shares] = difference_of_proportions(
            merged.loc[shares, "hits"], merged.loc[shares, "n"],
            merged.loc[shares, "hits_before"], merged.loc[shares, "n_before"],
        )
    rest = ~shares
    if rest.any():
        _, low[rest], high[rest] = difference_of_estimates(
            merged.loc[rest, "value"], _column(merged, "se")[rest],
            merged.loc[rest, "value_before"], _column(merged, "se_before")[rest],
        )
    out["change"], out["change_low"], out["change_high"] = d, low, high
    out["verdict"] = [
        verdict([lo], [hi], higher_is_better=HIGHER_IS_BETTER.get(k, True), change=[dk],
                threshold=min_important_difference(k, min_important))[0]
        for k, dk, lo, hi in zip(out["kpi"], d, low, high, strict=True)
    ]
    return out.reset_index(drop=True)

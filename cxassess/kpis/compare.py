"""Cycle-over-cycle change of KPI tables, with its interval and verdict (DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoDataFrame

from cxassess.kpis._frame import keys
from cxassess.stats import difference_of_nps, difference_of_proportions, nps_standard_error, verdict

__all__ = ["HIGHER_IS_BETTER", "change"]

#: Direction of each KPI: is a higher value an improvement?
HIGHER_IS_BETTER = {
    "csat": True, "nps": True, "fcr": True, "one_touch": True, "transfer_rate": False,
    "reopen_rate": False, "open_share": False, "escalation_rate": False,
}


def _pandas(table: IntoDataFrame) -> pd.DataFrame:
    return nw.from_native(table, eager_only=True).to_pandas()


def change(
    now: IntoDataFrame, before: IntoDataFrame, *, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Compare two KPI tables (same calculator, two cycles) row by row.

    Shares get Newcombe's interval of the difference (from ``hits`` and ``n``), NPS the
    interval from √(SE₁² + SE₂²). The verdict is *improved* or *worsened* only when that
    interval excludes 0, else *within noise*. Returns a pandas frame (a small summary).

    Examples
    --------
    >>> from cxassess.kpis.resolution import transfer_rate
    >>> q2 = pd.DataFrame({"transfers": [0] * 80 + [1] * 20})
    >>> q3 = pd.DataFrame({"transfers": [0] * 60 + [1] * 40})
    >>> change(transfer_rate(q3), transfer_rate(q2))[["value", "previous", "verdict"]].values.tolist()
    [[0.4, 0.2, 'worsened']]
    """
    group = keys(by)
    a, b = _pandas(now), _pandas(before)
    merged = a.merge(b, on=[*group, "kpi"], how="left", suffixes=("", "_before"))
    out = merged[[*group, "kpi", "value", "ci_low", "ci_high", "n"]].copy()
    out["previous"] = merged["value_before"]
    out["n_previous"] = merged["n_before"]
    d = np.full(len(merged), np.nan)
    low, high = d.copy(), d.copy()
    shares = merged["hits"].notna() if "hits" in merged else pd.Series(False, index=merged.index)
    if shares.any():
        m = shares.to_numpy()
        d[m], low[m], high[m] = difference_of_proportions(
            merged.loc[m, "hits"], merged.loc[m, "n"], merged.loc[m, "hits_before"], merged.loc[m, "n_before"]
        )
    nps = (merged["kpi"] == "nps").to_numpy()
    if nps.any():
        se_now = nps_standard_error(merged.loc[nps, "promoters"], merged.loc[nps, "detractors"], merged.loc[nps, "n"])
        se_before = nps_standard_error(
            merged.loc[nps, "promoters_before"], merged.loc[nps, "detractors_before"], merged.loc[nps, "n_before"]
        )
        d[nps], low[nps], high[nps] = difference_of_nps(
            merged.loc[nps, "value"], se_now, merged.loc[nps, "value_before"], se_before
        )
    out["change"], out["change_low"], out["change_high"] = d, low, high
    out["verdict"] = [
        verdict([lo], [hi], higher_is_better=HIGHER_IS_BETTER.get(k, True))[0]
        for k, lo, hi in zip(out["kpi"], low, high, strict=True)
    ]
    return out.reset_index(drop=True)

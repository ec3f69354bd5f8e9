"""The headline KPIs of a cycle, side by side, for the overview page."""

from __future__ import annotations

import pandas as pd

from cxassess.cycles import Cycle
from cxassess.kpis.scorecard import cycle_kpis

__all__ = ["HEADLINE", "headline", "headline_by_cycle"]

#: The KPIs of the overview page, in the order shown.
HEADLINE = ("csat", "nps", "reopen_rate", "transfer_rate", "open_share")

_COLUMNS = ["kpi", "value", "ci_low", "ci_high", "n", "note"]


def headline(cycle: Cycle) -> pd.DataFrame:
    """CSAT, NPS, transfer, reopen and open-at-end rates of one cycle in one tidy table.

    A KPI whose input is absent has no value and a ``note`` "not available: needs ..."
    naming it, rather than a guess (see :mod:`cxassess.registry`).

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables (pandas or Polars) and settings.

    Returns
    -------
    pandas.DataFrame
        ``kpi, value, ci_low, ci_high, n, note``, one row per KPI of :data:`HEADLINE`.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> h = headline(load_cycle("data/sample", "2026Q3"))
    >>> h["kpi"].tolist(), int(h.set_index("kpi").at["transfer_rate", "n"])
    (['csat', 'nps', 'reopen_rate', 'transfer_rate', 'open_share'], 2500)
    """
    return cycle_kpis(cycle, kpis=HEADLINE)[_COLUMNS]


def headline_by_cycle(*cycles: Cycle | None) -> pd.DataFrame:
    """:func:`headline` for each loaded cycle, stacked with a leading ``cycle`` column.

    ``None`` entries (a previous cycle that does not exist) are skipped.

    Parameters
    ----------
    *cycles : Cycle or None
        The cycles, in the order wanted.

    Returns
    -------
    pandas.DataFrame
        ``cycle, kpi, value, ci_low, ci_high, n, note``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from cxassess.config import ReviewConfig
    >>> from cxassess.cycles import cycle_window
    >>> tickets = pd.DataFrame({"ticket_id": ["A", "B"], "transfers": [0, 1], "reopens": [0, 0],
    ...     "created_at": pd.to_datetime(["2026-07-01", "2026-07-02"], utc=True),
    ...     "resolved_at": pd.to_datetime(["2026-07-03", None], utc=True)})
    >>> start, end = cycle_window("2026Q3", "UTC")
    >>> q3 = Cycle(ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC"}), "2026Q3", "2026Q2",
    ...            start, end, {"tickets": tickets})
    >>> h = headline_by_cycle(q3, None)  # no previous cycle: skipped
    >>> h[["cycle", "kpi", "value", "n"]].iloc[2:].values.tolist()
    [['2026Q3', 'reopen_rate', 0.0, 1], ['2026Q3', 'transfer_rate', 0.5, 2], ['2026Q3', 'open_share', 0.5, 2]]
    >>> h.loc[0, "note"]
    'not available: needs `surveys` (no such table in this cycle)'
    """
    frames = [headline(c).assign(cycle=c.label) for c in cycles if c is not None]
    out = pd.concat(frames, ignore_index=True)
    return out[["cycle", *[c for c in out.columns if c != "cycle"]]]

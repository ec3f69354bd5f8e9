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
    """
    frames = [headline(c).assign(cycle=c.label) for c in cycles if c is not None]
    out = pd.concat(frames, ignore_index=True)
    return out[["cycle", *[c for c in out.columns if c != "cycle"]]]

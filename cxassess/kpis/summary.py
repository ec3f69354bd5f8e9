"""The headline KPIs of a cycle, side by side, for the overview page."""

from __future__ import annotations

import pandas as pd

from cxassess.io import Cycle
from cxassess.kpis.resolution import open_share, reopen_rate, transfer_rate
from cxassess.kpis.satisfaction import csat, nps

__all__ = ["headline", "headline_by_cycle"]


def headline(tickets: pd.DataFrame | None, surveys: pd.DataFrame | None) -> pd.DataFrame:
    """CSAT, NPS, transfer, reopen and open-at-end rates of one cycle in one tidy table.

    A KPI whose table is absent is left out rather than guessed.

    Examples
    --------
    >>> t = pd.DataFrame({"transfers": [0, 1], "reopens": [0, 0],
    ...                   "resolved_at": pd.to_datetime(["2026-07-01", None])})
    >>> headline(t, None)["kpi"].tolist()
    ['transfer_rate', 'reopen_rate', 'open_share']
    """
    parts = []
    if surveys is not None:
        parts += [csat(surveys), nps(surveys)]
    if tickets is not None:
        parts += [transfer_rate(tickets), reopen_rate(tickets), open_share(tickets)]
    columns = ["kpi", "value", "ci_low", "ci_high", "n"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def headline_by_cycle(*cycles: Cycle | None) -> pd.DataFrame:
    """:func:`headline` for each loaded cycle, stacked with a leading ``cycle`` column.

    ``None`` entries (a previous cycle that does not exist) are skipped.
    """
    frames = [
        headline(c.tickets, c.surveys).assign(cycle=c.label) for c in cycles if c is not None
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["cycle", *[c for c in out.columns if c != "cycle"]]]

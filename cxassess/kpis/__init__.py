"""KPI calculators, one module per family (DESIGN.md §5).

Each calculator takes a pandas or Polars frame and returns a tidy table of the same kind:
``[*by, kpi, value, ci_low, ci_high, n, ...]``.
"""

from cxassess.kpis.compare import HIGHER_IS_BETTER, change
from cxassess.kpis.resolution import open_share, reopen_rate, transfer_rate
from cxassess.kpis.satisfaction import TOP_BOX, csat, nps
from cxassess.kpis.speed import first_response_time, resolution_time
from cxassess.kpis.summary import headline, headline_by_cycle
from cxassess.kpis.volume import volume

__all__ = [
    "headline", "headline_by_cycle", "volume", "TOP_BOX", "csat", "nps", "transfer_rate", "reopen_rate",
    "open_share", "first_response_time", "resolution_time", "change", "HIGHER_IS_BETTER",
]

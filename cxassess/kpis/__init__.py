"""KPI calculators, one module per family (DESIGN.md §5).

Each calculator takes a pandas or Polars frame and returns a tidy table of the same kind:
``[*by, kpi, value, ci_low, ci_high, n, ...]``. :mod:`~cxassess.kpis.scorecard` puts
them together for a cycle, beside the previous cycle and the targets.

=================  ==========================================================
module             KPIs
=================  ==========================================================
``satisfaction``   CSAT, NPS, CES (agree share and mean)
``speed``          first response time, time to (first) resolution
``sla``            SLA attainment per review.yml policy
``resolution``     FCR, one-touch, reopen, transfer and escalation rates
``customers``      retention, churn
``volume``         volume per segment, backlog at the cycle's end
``breakdown``      the scorecard by segment: largest segments plus "other" pooled
``notable``        what the scorecard found: real changes, their drivers, targets missed
=================  ==========================================================
"""

from cxassess.kpis.breakdown import Breakdown, breakdown, breakdowns
from cxassess.kpis.compare import HIGHER_IS_BETTER, change
from cxassess.kpis.customers import retention
from cxassess.kpis.notable import anchor_of, findings, scorecard_findings
from cxassess.kpis.resolution import (
    escalation_rate,
    fcr,
    flag_escalated,
    one_touch,
    open_share,
    reopen_rate,
    transfer_rate,
)
from cxassess.kpis.satisfaction import CES_AGREE, TOP_BOX, ces, csat, nps
from cxassess.kpis.scorecard import LABELS, cycle_kpis, kpi_history, scorecard
from cxassess.kpis.sla import sla_attainment, sla_outcome
from cxassess.kpis.speed import first_response_time, resolution_time
from cxassess.kpis.summary import HEADLINE, headline, headline_by_cycle
from cxassess.kpis.volume import backlog, volume

__all__ = [
    "HEADLINE", "headline", "headline_by_cycle", "volume", "backlog", "TOP_BOX", "CES_AGREE", "csat", "nps", "ces",
    "fcr", "one_touch", "transfer_rate", "reopen_rate", "escalation_rate", "open_share", "flag_escalated",
    "first_response_time", "resolution_time", "sla_attainment", "sla_outcome", "retention",
    "change", "HIGHER_IS_BETTER", "cycle_kpis", "scorecard", "kpi_history", "LABELS", "breakdown", "breakdowns", "Breakdown",
    "findings", "scorecard_findings", "anchor_of",
]

"""The KPI scorecard of a cycle: every KPI its tables support, beside the previous cycle
and the planned targets (DESIGN.md §5, §6).

:func:`cycle_kpis` stacks the calculators of this package into one tidy table;
:func:`scorecard` adds the previous cycle, the change with its interval and verdict, the
status against review.yml ``targets`` and the ``min_n`` flag; :func:`kpi_history` gives
the KPIs of every cycle for trend charts. A KPI whose table is absent is listed with the
table it needs, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import narwhals as nw
import numpy as np
import pandas as pd

from cxassess.calendar import BusinessCalendar
from cxassess.cycles import list_cycles
from cxassess.io import Cycle
from cxassess.kpis._frame import keys
from cxassess.kpis.compare import HIGHER_IS_BETTER, change
from cxassess.kpis.customers import retention
from cxassess.kpis.resolution import (
    escalation_rate,
    fcr,
    flag_escalated,
    one_touch,
    open_share,
    reopen_rate,
    transfer_rate,
)
from cxassess.kpis.satisfaction import ces, csat, nps
from cxassess.kpis.sla import needed_columns, sla_attainment
from cxassess.kpis.speed import first_response_time, resolution_time
from cxassess.kpis.volume import backlog
from cxassess.stats import target_status

__all__ = ["LABELS", "cycle_kpis", "scorecard", "kpi_history", "label"]

#: The name a CX lead reads for each KPI id.
LABELS = {
    "csat": "CSAT (top-box share)",
    "nps": "NPS (points)",
    "ces_agree": "CES: agree it was easy (5-7)",
    "ces_mean": "CES: mean score (1-7)",
    "frt_business_hours": "First response, median (business h)",
    "frt_hours": "First response, median (h)",
    "ttr_business_hours": "Time to resolution, KM median (business h)",
    "ttr_hours": "Time to resolution, KM median (h)",
    "ttr_first_business_hours": "Time to first resolution, KM median (business h)",
    "ttr_first_hours": "Time to first resolution, KM median (h)",
    "sla": "SLA attainment",
    "fcr": "First-contact resolution",
    "one_touch": "One-touch resolution",
    "reopen_rate": "Reopen rate",
    "transfer_rate": "Transfer rate",
    "escalation_rate": "Escalation rate (reaches a specialist)",
    "open_share": "Open at cycle end",
    "backlog_age_business_hours": "Backlog age, median (business h)",
    "backlog_age_hours": "Backlog age, median (h)",
    "retention": "Customer retention",
    "churn": "Customer churn",
}

COLUMNS = ["kpi", "policy", "value", "ci_low", "ci_high", "n", "hits", "se", "note"]


def label(kpi: str, policy: str | None = None) -> str:
    """Readable name of a KPI row (an SLA row names its policy).

    Examples
    --------
    >>> label("sla", "first reply chat"), label("csat")
    ('SLA attainment: first reply chat', 'CSAT (top-box share)')
    """
    text = LABELS.get(kpi, kpi)
    return f"{text}: {policy}" if isinstance(policy, str) and policy else text


def _surveys_with(surveys, tickets, group: list[str]):
    """Surveys carrying the ticket attributes they are broken down by (channel, team ...)."""
    need = [g for g in group if g not in nw.from_native(surveys, eager_only=True).columns]
    if not need:
        return surveys
    if tickets is None or not set(need) <= set(nw.from_native(tickets, eager_only=True).columns):
        return None
    left = nw.from_native(surveys, eager_only=True)
    right = nw.from_native(tickets, eager_only=True).select("ticket_id", *need)
    return left.join(right, on="ticket_id", how="left").to_native()


def _absent(kpi: str, needs: str, group: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{**dict.fromkeys(group), "kpi": kpi, "n": 0, "note": f"needs {needs}"}])


def cycle_kpis(cycle: Cycle, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Every KPI the cycle's tables support, in one tidy pandas table.

    The cycle's tables may be pandas or Polars frames (the result is a small pandas
    table either way). Speed figures use the business clock of review.yml when it has working hours
    (calendar hours otherwise); tickets still open at the cycle's end are censored
    there. Surveys are broken down by the attributes of their ticket.

    Parameters
    ----------
    cycle
        A loaded (and checked) cycle, e.g. from :func:`cxassess.quality.checked_cycle`.
    by
        Segment columns (channel, team, priority, category); ``None`` for the whole cycle.

    Returns
    -------
    pandas.DataFrame
        ``[*by, kpi, policy, value, ci_low, ci_high, n, hits, se, note]``: ``hits`` for
        shares, ``se`` for the others, ``policy`` for SLA rows, ``note`` naming the
        table a KPI would need when it cannot be computed.

    Examples
    --------
    >>> from cxassess.io import load_cycle
    >>> k = cycle_kpis(load_cycle("data/sample", "2026Q3"))
    >>> round(float(k.loc[k["kpi"] == "transfer_rate", "value"].iloc[0]), 4)
    0.2988
    """
    group = keys(by)
    config, tickets, surveys = cycle.config, cycle.tickets, cycle.surveys
    calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
    parts: list = []
    add = parts.append

    scales = config.survey_scales
    if surveys is None:
        for kpi in ("csat", "nps", "ces_agree", "ces_mean"):
            add(_absent(kpi, "surveys", group))
    else:
        rated = _surveys_with(surveys, tickets, group)
        if rated is None:
            for kpi in ("csat", "nps", "ces_agree", "ces_mean"):
                add(_absent(kpi, f"surveys with {', '.join(group)}", group))
        else:
            add(csat(rated, by=group or None))
            add(nps(rated, by=group or None))
            kinds = nw.from_native(rated, eager_only=True)
            if "ces" in scales or ("kind" in kinds.columns and (kinds["kind"] == "ces").any()):
                add(ces(rated, by=group or None))
                add(ces(rated, by=group or None, measure="mean"))
    if tickets is None:
        for kpi in ("frt", "ttr", "fcr", "one_touch", "reopen_rate", "transfer_rate", "escalation_rate",
                    "open_share", "backlog_age"):
            add(_absent(kpi, "tickets", group))
    else:
        add(first_response_time(tickets, calendar=calendar, by=group or None))
        add(resolution_time(tickets, censor_at=cycle.end, calendar=calendar, by=group or None))
        if "first_resolved_at" in nw.from_native(tickets, eager_only=True).columns:  # derived from events
            add(resolution_time(tickets, censor_at=cycle.end, calendar=calendar, first=True, by=group or None))
        columns = set(nw.from_native(tickets, eager_only=True).columns)
        usable = [p for p in config.sla if set(needed_columns(p)) <= columns]
        if usable:
            add(sla_attainment(tickets, usable, censor_at=cycle.end, calendar=calendar, by=group or None))
        for policy in config.sla:
            if policy not in usable:
                lacking = ", ".join(sorted(set(needed_columns(policy)) - columns))
                add(_absent("sla", f"tickets with {lacking}", group).assign(policy=policy.name))
        add(fcr(tickets, by=group or None, max_contacts=config.fcr_max_contacts))
        add(one_touch(tickets, by=group or None))
        add(reopen_rate(tickets, by=group or None))
        add(transfer_rate(tickets, by=group or None))
        process = config.process
        if "escalated" in nw.from_native(tickets, eager_only=True).columns:  # the export flags it
            add(escalation_rate(tickets, by=group or None))
        elif cycle.events is not None and process is not None and process.specialist_stages:
            add(escalation_rate(flag_escalated(tickets, cycle.events, process.specialist_stages), by=group or None))
        else:
            add(_absent("escalation_rate", "events and a specialist stage in review.yml", group))
        add(open_share(tickets, by=group or None))
        add(backlog(tickets, at=cycle.end, calendar=calendar, by=group or None))
    customers = cycle.customers
    if customers is None:
        add(_absent("retention", "customers", group))
        add(_absent("churn", "customers", group))
    elif set(group) <= set(nw.from_native(customers, eager_only=True).columns):
        add(retention(customers, start=cycle.start, end=cycle.end, by=group or None))
    out = pd.concat([nw.from_native(p, eager_only=True).to_pandas() for p in parts], ignore_index=True)
    for column in COLUMNS:
        if column not in out:
            out[column] = np.nan if column != "note" else ""
    out["note"] = out["note"].fillna("")
    return out[[*group, *COLUMNS]]


def scorecard(
    now: Cycle, before: Cycle | None = None, *, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """The scorecard: each KPI with its interval and n, the previous cycle, the change with
    its interval and verdict, the target of review.yml and the status against it.

    Returns
    -------
    pandas.DataFrame
        ``[*by, kpi, policy, label, value, ci_low, ci_high, n, previous, n_previous,
        change, change_low, change_high, verdict, target, target_status, small_n, note]``.
        ``verdict`` is *improved* / *worsened* only when the change's interval excludes 0;
        ``target_status`` is *met* / *missed* only when the KPI's interval is wholly on
        one side of the target (*unclear* otherwise); ``small_n`` marks figures with
        ``n < min_n`` (shown greyed with "n too small", never hidden).

    Examples
    --------
    >>> from cxassess.io import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> s = scorecard(q3, q3.load_previous())
    >>> s.set_index("kpi").loc["transfer_rate", ["verdict", "target_status"]].tolist()
    ['worsened', 'missed']
    """
    group = keys(by)
    config = now.config
    current = cycle_kpis(now, by=by)
    previous = cycle_kpis(before, by=by) if before is not None else current.iloc[0:0]
    out = change(current, previous, by=group or None)
    extra = current[[*group, "kpi", "policy", "note"]]
    out = out.merge(extra, on=[*group, "kpi", "policy"], how="left")
    targets = config.targets
    out["target"] = [targets.get(k, np.nan) for k in out["kpi"]]
    out["target_status"] = [
        target_status([lo], [hi], [t], higher_is_better=HIGHER_IS_BETTER.get(k, True))[0]
        for k, lo, hi, t in zip(out["kpi"], out["ci_low"], out["ci_high"], out["target"], strict=True)
    ]
    out["small_n"] = out["n"].fillna(0) < config.min_n
    out["verdict"] = np.where(out["note"] != "", "not measured", out["verdict"])
    out.insert(len(group) + 2, "label", [label(k, p) for k, p in zip(out["kpi"], out["policy"], strict=True)])
    return out


def kpi_history(
    dataset: Path | str,
    *,
    upto: str | None = None,
    report_dir: Path | str | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`cycle_kpis` of every cycle of the dataset up to ``upto``, stacked with a
    leading ``cycle`` column, oldest first: the data of the trend charts.

    Each cycle goes through the data-quality gate (:func:`cxassess.quality.checked_cycle`,
    reusing the gates a review run stored in ``report_dir``); a cycle with a critical
    defect is left out rather than shown with wrong figures, and listed in the result's
    ``attrs["left_out"]``.
    """
    from cxassess.config import load_config
    from cxassess.errors import DataQualityError
    from cxassess.quality import checked_cycle

    root = load_config(dataset).root
    labels = list_cycles(root)
    if upto is not None:
        labels = labels[: labels.index(upto) + 1] if upto in labels else labels
    frames, left_out = [], []
    for cycle in labels:
        try:
            data = checked_cycle(root, cycle, report_dir)
        except DataQualityError:
            left_out.append(cycle)
            continue
        frames.append(cycle_kpis(data, by=by).assign(cycle=cycle))
    out = pd.concat(frames, ignore_index=True)
    out = out[["cycle", *[c for c in out.columns if c != "cycle"]]]
    out.attrs["left_out"] = left_out
    return out

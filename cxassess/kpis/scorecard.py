"""The KPI scorecard of a cycle: every KPI its tables support, beside the previous cycle
and the planned targets (DESIGN.md §5, §6).

:func:`cycle_kpis` stacks the calculators of this package into one tidy table;
:func:`scorecard` adds the previous cycle, the change with its interval and verdict, the
status against review.yml ``targets`` and the ``min_n`` flag; :func:`kpi_history` gives
the KPIs of every cycle for trend charts. A KPI whose table is absent is listed with the
table it needs, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import narwhals as nw
import numpy as np
import pandas as pd

from cxassess import engines, plausibility, registry
from cxassess.calendar import BusinessCalendar
from cxassess.config import load_config
from cxassess.cycles import Cycle, list_cycles
from cxassess.errors import DataQualityError, InputError
from cxassess.kpis._frame import frame, keys
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
from cxassess.kpis.satisfaction import ces, csat, fill_scale, nps
from cxassess.kpis.sla import needed_columns, sla_attainment
from cxassess.kpis.speed import first_response_time, resolution_time
from cxassess.kpis.volume import backlog
from cxassess.quality import checked_cycle
from cxassess.registry import KPIS
from cxassess.stats import target_status

__all__ = ["LABELS", "cycle_kpis", "scorecard", "kpi_history", "label"]

#: The name a CX lead reads for each KPI id (from the registry).
LABELS = {k.id: k.label for k in KPIS.values()}

COLUMNS = ["kpi", "policy", "value", "ci_low", "ci_high", "n", "hits", "se", "note"]


def label(kpi: str, policy: str | None = None) -> str:
    """Readable name of a KPI row (an SLA row names its policy).

    Parameters
    ----------
    kpi : str
        A KPI id.
    policy : str, optional
        The SLA policy of the row.

    Returns
    -------
    str
        The KPI's label of the registry (an unknown id is its own label).

    Examples
    --------
    >>> label("sla", "first reply chat"), label("csat")
    ('SLA attainment: first reply chat', 'CSAT (top-box share)')
    """
    text = registry.kpi(kpi).label
    return f"{text}: {policy}" if isinstance(policy, str) and policy else text


def _names(table) -> list[str]:
    """The columns of a table in memory or of an engine's lazy frame."""
    return frame(table).collect_schema().names()


def _surveys_with(surveys, tickets, group: list[str]):
    """Surveys carrying the ticket attributes they are broken down by (channel, team ...),
    joined where the tables are (in memory, or in the engine).
    """
    need = [g for g in group if g not in _names(surveys)]
    if not need:
        return surveys
    if tickets is None or not set(need) <= set(_names(tickets)):
        return None
    right = frame(tickets).select("ticket_id", *need)
    return frame(surveys).join(right, on="ticket_id", how="left").to_native()


def _absent(kpi: str, reason: str, group: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{**dict.fromkeys(group), "kpi": kpi, "n": 0, "note": reason}])


def _clock_ids(ids: Sequence[str], business: bool) -> list[str]:
    """Keep the KPIs of the clock in use (business hours when review.yml has working hours)."""
    wanted = "business" if business else "calendar"
    return [k for k in ids if registry.kpi(k).clock in (None, wanted)]


def cycle_kpis(
    cycle: Cycle, *, by: str | Sequence[str] | None = None, kpis: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every KPI the cycle's tables support, in one tidy pandas table.

    The cycle's tables may be pandas or Polars frames, or lazy frames of an engine
    (:func:`cxassess.engines.engine_cycle`): the counts, sums and durations are then
    aggregated in the engine; the result is a small pandas table either way. With an
    engine other than pandas in review.yml (``engine:``) or ``CXASSESS_ENGINE``, the
    cycle's tables are opened there first. Speed figures use the business clock of review.yml when it has working hours
    (calendar hours otherwise); tickets still open at the cycle's end are censored
    there. Surveys are broken down by the attributes of their ticket. A KPI whose input
    is absent (the table, the column, or a column empty in every row; see
    :mod:`cxassess.registry`) is listed with ``note`` "not available: needs ...", never
    computed as 0.

    Parameters
    ----------
    cycle : Cycle
        A loaded (and checked) cycle, e.g. from :func:`cxassess.quality.checked_cycle`.
    by : str or sequence of str, optional
        Segment columns (channel, team, priority, category); ``None`` for the whole cycle.
    kpis : sequence of str, optional
        The KPI ids to compute (default: every registered KPI).

    Returns
    -------
    pandas.DataFrame
        ``[*by, kpi, policy, value, ci_low, ci_high, n, hits, se, note]``: ``hits`` for
        shares, ``se`` for the others, ``policy`` for SLA rows, ``note`` naming the
        input a KPI would need when it cannot be computed.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> k = cycle_kpis(q3).set_index("kpi")
    >>> bool(k.at["transfer_rate", "value"] == (q3.tickets["transfers"] > 0).mean())  # transferred ÷ tickets
    True
    >>> cycle_kpis(q3) is cycle_kpis(q3)  # computed once per cycle: the scorecard and the trends share it
    True
    """
    key = ("cycle_kpis", tuple(keys(by)), None if kpis is None else tuple(kpis))
    return cycle.once(key, lambda: _cycle_kpis(_on_engine(cycle), by=by, kpis=kpis), keep=True)


def _on_engine(cycle: Cycle) -> Cycle:
    """The cycle whose tables the KPIs aggregate: itself without tickets, else the cycle on
    the review's engine (:func:`cxassess.engines.on_engine`, itself on pandas), once per cycle.
    """
    return cycle if "tickets" not in cycle.tables else engines.on_engine(cycle)


def _cycle_kpis(cycle: Cycle, *, by: str | Sequence[str] | None, kpis: Sequence[str] | None) -> pd.DataFrame:
    group = keys(by)
    config, tickets, surveys = cycle.config, cycle.tickets, cycle.surveys
    business = bool(config.calendar.get("working_hours"))
    calendar = BusinessCalendar.from_config(config) if business else None
    wanted = _clock_ids(list(kpis) if kpis is not None else list(KPIS), business)
    process = config.process
    if (
        "escalation_rate" in wanted and tickets is not None and "events" in cycle.tables
        and process is not None and process.specialist_stages
        and "escalated" not in _names(tickets)
    ):
        stages = tuple(process.specialist_stages)  # once per cycle: the same for every breakdown

        def flagged(tickets: object = tickets) -> object:
            events = cycle.read_once("events", ["ticket_id", "stage"])  # for the flags alone: not kept
            return flag_escalated(tickets, events, stages) if "stage" in _names(events) else tickets

        tickets = cycle.once(("escalated", stages), flagged)
    view = cycle.with_tables(tickets=tickets) if tickets is not None else cycle
    gaps = {k: registry.gap(view, registry.kpi(k)) for k in wanted}
    ok = [k for k in wanted if gaps[k] is None]
    parts: list = [_absent(k, gaps[k], group) for k in wanted if gaps[k] is not None and k != "sla"]
    add = parts.append
    scales = config.survey_scales

    survey_kpis = [k for k in ok if registry.kpi(k).family == "satisfaction"]
    if survey_kpis:
        rated = _surveys_with(surveys, tickets, group)
        if rated is None:
            for k in survey_kpis:
                add(_absent(k, f"not available: needs `tickets.{', '.join(group)}` to break surveys down", group))
        else:
            has_kind = "kind" in _names(rated)

            def kind(name: str) -> str | None:
                return name if has_kind else None

            def attempt(kpi: str, compute: Callable[[], pd.DataFrame]) -> None:
                # answers on a scale the KPI has no rule for: that KPI is not available, the others are
                try:
                    add(compute())
                except InputError as error:
                    add(_absent(kpi, f"not available: {error.message}", group))

            rated_ces = fill_scale(rated, scales.get("ces"))
            for k, compute in (
                ("csat", lambda: csat(fill_scale(rated, scales.get("csat")), by=group or None, kind=kind("csat"))),
                ("nps", lambda: nps(rated, by=group or None, kind=kind("nps"))),
                ("ces_agree", lambda: ces(rated_ces, by=group or None, kind=kind("ces"))),
                ("ces_mean", lambda: ces(rated_ces, by=group or None, measure="mean", kind=kind("ces"))),
            ):
                if k in survey_kpis:
                    attempt(k, compute)
    if tickets is not None:
        if {"frt_hours", "frt_business_hours"} & set(ok):
            add(first_response_time(tickets, censor_at=cycle.end, calendar=calendar, by=group or None))
        if {"ttr_hours", "ttr_business_hours"} & set(ok):
            add(resolution_time(tickets, censor_at=cycle.end, calendar=calendar, by=group or None))
        if {"ttr_first_hours", "ttr_first_business_hours"} & set(ok):
            add(resolution_time(tickets, censor_at=cycle.end, calendar=calendar, first=True, by=group or None))
        if "sla" in wanted:
            usable = [p for p in config.sla if not registry.missing(view, [registry.Need("tickets", c)
                                                                           for c in needed_columns(p)])]
            if usable:
                add(sla_attainment(tickets, usable, censor_at=cycle.end, calendar=calendar, by=group or None))
            for policy in config.sla:
                if policy not in usable:
                    lacking = registry.gap(view, [registry.Need("tickets", c) for c in needed_columns(policy)])
                    add(_absent("sla", str(lacking), group).assign(policy=policy.name))
        if "fcr" in ok:
            add(fcr(tickets, by=group or None, max_contacts=config.fcr_max_contacts))
        if "one_touch" in ok:
            add(one_touch(tickets, by=group or None))
        for kpi_id, calculator in (("reopen_rate", reopen_rate), ("transfer_rate", transfer_rate),
                                   ("escalation_rate", escalation_rate), ("open_share", open_share)):
            if kpi_id in ok:
                add(calculator(tickets, by=group or None))
        if {"backlog_age_hours", "backlog_age_business_hours"} & set(ok):
            add(backlog(tickets, at=cycle.end, calendar=calendar, by=group or None))
    customers = cycle.customers
    if customers is not None and {"retention", "churn"} & set(ok):
        if set(group) <= set(_names(customers)):
            table = nw.from_native(retention(customers, start=cycle.start, end=cycle.end, by=group or None),
                                   eager_only=True)
            add(table.filter(nw.col("kpi").is_in([k for k in ("retention", "churn") if k in ok])).to_native())
    if not parts:
        return pd.DataFrame(columns=[*group, *COLUMNS])
    out = pd.concat([nw.from_native(p, eager_only=True).to_pandas() for p in parts], ignore_index=True)
    for column in COLUMNS:
        if column not in out:
            out[column] = np.nan if column != "note" else ""
    out["note"] = out["note"].fillna("")
    order = {k: i for i, k in enumerate(KPIS)}
    out = out.assign(_order=out["kpi"].map(order)).sort_values("_order", kind="stable").drop(columns="_order")
    return out[[*group, *COLUMNS]].reset_index(drop=True)


def scorecard(
    now: Cycle,
    before: Cycle | None = None,
    *,
    by: str | Sequence[str] | None = None,
    checks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The scorecard: each KPI with its interval and n, the previous cycle, the change with
    its interval and verdict, the target of review.yml and the status against it.

    Parameters
    ----------
    now, before : Cycle, Cycle or None
        The cycle reviewed and the cycle compared with (``None``: no comparison).
    by : str or sequence of str, optional
        Segment columns; ``None`` for the whole cycle.
    checks : pandas.DataFrame, optional
        The plausibility checks of :func:`cxassess.plausibility.checks` (computed when
        not given).

    Returns
    -------
    pandas.DataFrame
        ``[*by, kpi, policy, label, value, ci_low, ci_high, n, previous, n_previous,
        change, change_low, change_high, verdict, target, target_status, small_n, note]``.
        ``verdict`` is *improved* / *worsened* only when the change's interval excludes 0;
        ``target_status`` is *met* / *missed* only when the KPI's interval is wholly on
        one side of the target (*unclear* otherwise); ``small_n`` marks figures with
        ``n < min_n`` (shown greyed with "n too small", never hidden). A change that
        cannot be judged says why: *not comparable: no previous cycle*, *...: the previous
        cycle has no figure*, or the warning of a plausibility check (a previous cycle
        still mostly open at its end, a wrong time zone for business-hours figures ...);
        a KPI whose input is absent is *not available* with the input named in ``note``.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> s = scorecard(q3, q3.load_previous())
    >>> s.set_index("kpi").loc["transfer_rate", ["verdict", "target_status"]].tolist()
    ['worsened', 'missed']
    """
    group = keys(by)
    config = now.config
    current = cycle_kpis(now, by=by)
    previous = cycle_kpis(before, by=by) if before is not None else current.iloc[0:0]
    out = change(current, previous, by=group or None, min_important=config.min_important)
    extra = current[[*group, "kpi", "policy", "note"]]
    out = out.merge(extra, on=[*group, "kpi", "policy"], how="left")
    targets = config.targets
    out["target"] = [targets.get(k, np.nan) for k in out["kpi"]]
    out["target_status"] = [
        target_status([lo], [hi], [t], higher_is_better=HIGHER_IS_BETTER.get(k, True))[0]
        for k, lo, hi, t in zip(out["kpi"], out["ci_low"], out["ci_high"], out["target"], strict=True)
    ]
    out["small_n"] = out["n"].fillna(0) < config.min_n
    if checks is None:
        checks = plausibility.checks(now, before)
    out["verdict"] = _verdict_reasons(out, before, plausibility.not_comparable(checks))
    out.insert(len(group) + 2, "label", [label(k, p) for k, p in zip(out["kpi"], out["policy"], strict=True)])
    return out


def _verdict_reasons(card: pd.DataFrame, before: Cycle | None, reasons: dict[str, str]) -> list[str]:
    """Each row's verdict, with the reason wherever the change cannot be judged."""
    out = []
    for kpi, verdict, note, previous in zip(card["kpi"], card["verdict"], card["note"], card["previous"],
                                            strict=True):
        reason = reasons.get(kpi) or reasons.get("*")
        if note:
            out.append("not available")
        elif before is None:
            out.append("not comparable: no previous cycle")
        elif reason:
            out.append(f"not comparable: {reason}")
        elif pd.isna(previous):
            out.append(f"not comparable: no figure in {before.label}")
        elif verdict == "not comparable":
            out.append("not comparable: no interval for the change")
        else:
            out.append(verdict)
    return out


def kpi_history(
    dataset: Path | str,
    *,
    upto: str | None = None,
    report_dir: Path | str | None = None,
    by: str | Sequence[str] | None = None,
    reuse: Sequence[Cycle | None] = (),
) -> pd.DataFrame:
    r""":func:`cycle_kpis` of every cycle of the dataset up to ``upto``, stacked with a
    leading ``cycle`` column, oldest first: the data of the trend charts.

    Each cycle goes through the data-quality gate (:func:`cxassess.quality.checked_cycle`,
    reusing the gates a review run stored in ``report_dir``); a cycle with a critical
    defect is left out rather than shown with wrong figures, and listed in the result's
    ``attrs["left_out"]``. Cycles given in ``reuse`` (the page's own, already loaded and
    computed) are not loaded again.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    upto : str, optional
        The last cycle (the one reviewed); default every cycle folder.
    report_dir : Path or str, optional
        Folder where the review run saved the gates (``None``: run them here).
    by : str or sequence of str, optional
        Column(s) to break the KPIs down by.
    reuse : sequence of Cycle or None, optional
        Cycles already loaded (the page's current and previous cycles); ``None`` entries
        are ignored.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, *by, kpi, value, ci_low, ci_high, n, ...]`` as :func:`cycle_kpis` gives
        them, one block per cycle.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "review.yml").write_text("timezone: UTC\n")
    >>> for cycle, month, transfers in (("2026Q2", "05", "0001"), ("2026Q3", "08", "0111")):
    ...     (root / cycle).mkdir()
    ...     rows = [f"T{i},2026-{month}-0{i + 1} 09:00,{x}" for i, x in enumerate(transfers)]
    ...     _ = (root / cycle / "tickets.csv").write_text("ticket_id,created_at,transfers\n" + "\n".join(rows))
    >>> history = kpi_history(root)  # 1 of 4 tickets transferred in Q2, 3 of 4 in Q3
    >>> history[history["kpi"] == "transfer_rate"][["cycle", "value", "n"]].values.tolist()
    [['2026Q2', 0.25, 4], ['2026Q3', 0.75, 4]]
    >>> history.attrs["left_out"]
    []
    """
    root = load_config(dataset).root
    labels = list_cycles(root)
    if upto is not None:
        labels = labels[: labels.index(upto) + 1] if upto in labels else labels
    frames, left_out = [], []
    for cycle in labels:
        known = {c.label: c for c in reuse if c is not None}
        try:
            data = known.get(cycle) or checked_cycle(root, cycle, report_dir)
        except DataQualityError:
            left_out.append(cycle)
            continue
        frames.append(cycle_kpis(data, by=by).assign(cycle=cycle))
    out = pd.concat(frames, ignore_index=True)
    out = out[["cycle", *[c for c in out.columns if c != "cycle"]]]
    out.attrs["left_out"] = left_out
    return out

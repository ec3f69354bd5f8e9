"""Plausibility of a cycle as a whole: checks no single row can fail.

The data-quality gate checks rows; these checks look at the whole cycle and catch exports
whose every row is valid but whose meaning is wrong:

* ``outside_hours``: most agent activity falls outside the working hours of review.yml —
  the time zone or the calendar is wrong, and every business-hours figure with it;
* ``instant_response``: the first response equals the creation for most tickets — the
  first event is itself the "response", so first response time means nothing;
* ``after_resolution``: an activity that (almost) only happens after a resolution is counted
  as renewed work, inflating reopens (list it under ``process: non_work_activities``);
* ``previous_maturity``: the previous cycle was cut while most of its tickets were still
  open, or it is too small — no comparison with it is meaningful.

Each check returns its figure, the threshold (review.yml ``quality:``), a finding in words,
the fix, and the KPIs it makes *not comparable*. :func:`not_comparable` turns warnings into
the reason shown beside each affected verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cxassess import registry
from cxassess.calendar import BusinessCalendar
from cxassess.cycles import Cycle
from cxassess.eventlog import not_work
from cxassess.findings import Finding

__all__ = ["CHECK_COLUMNS", "checks", "not_comparable", "clock_warning", "outside_hours",
           "instant_response", "after_resolution", "previous_maturity", "PAGE", "findings"]

#: Columns of the table of plausibility checks.
CHECK_COLUMNS = ["check", "cycle", "status", "figure", "threshold", "finding", "fix", "affects"]

_ALL = ("*",)


def _row(check: str, cycle: str, status: str, figure: float = np.nan, threshold: float = np.nan,
         finding: str = "", fix: str = "", affects: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"check": check, "cycle": cycle, "status": status, "figure": figure, "threshold": threshold,
            "finding": finding, "fix": fix, "affects": affects}


def _work_times(cycle: Cycle) -> tuple[pd.Series, str]:
    """Instants of agent work and where they come from."""
    # read for this figure alone: a page that needs no more of the log does not keep it
    events, process = cycle.read_once("events", ["ticket_id", "timestamp", "activity"]), cycle.config.process
    if events is not None and len(events) and {"ticket_id", "timestamp", "activity"} <= set(events.columns):
        ev = events[events["timestamp"].notna()]
        if process is not None:
            agent = set(process.first_response_activities) | set(process.agent_reply_activities) \
                | set(process.resolution_activities)
            chosen = ev[ev["activity"].isin(agent)]
            if len(chosen):
                return chosen["timestamp"], "agent replies and resolutions in the event log"
        later = ev.sort_values(["ticket_id", "timestamp"], kind="stable").duplicated("ticket_id")
        return ev.loc[later.to_numpy(), "timestamp"], "events after each ticket's first"
    tickets = cycle.tickets
    if tickets is not None:
        parts = [tickets[c].dropna() for c in ("first_response_at", "resolved_at") if c in tickets.columns]
        if parts:
            return pd.concat(parts, ignore_index=True), "first responses and resolutions of the tickets"
    return pd.Series([], dtype="datetime64[us, UTC]"), ""


def outside_hours(cycle: Cycle) -> dict[str, Any]:
    """Share of agent activity outside the working hours of review.yml.

    A desk works mostly inside its hours; when most of its replies and resolutions fall
    outside them, the time zone of review.yml (or of the export) or the calendar is wrong,
    and every business-hours figure is wrong with it.

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables and settings (review.yml ``quality:`` gives the threshold).

    Returns
    -------
    dict of str to Any
        One row of the table of checks (:data:`CHECK_COLUMNS`): ``status`` ``ok``,
        ``warning`` or ``not applicable``, the figure (share of agent activity outside working hours), the threshold, the finding
        and fix in words, and the KPI ids a warning affects.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> r = outside_hours(load_cycle("data/sample", "2026Q3"))
    >>> r["status"], r["figure"] < 0.05
    ('ok', True)
    """
    config = cycle.config
    threshold = config.quality["outside_hours_share"]
    if not config.calendar.get("working_hours"):
        return _row("outside_hours", cycle.label, "not applicable",
                    finding="review.yml has no working hours: every time is counted in calendar hours.")
    times, source = _work_times(cycle)
    if not len(times):
        return _row("outside_hours", cycle.label, "not applicable",
                    finding="no timestamp of agent work in this cycle (needs events or tickets.first_response_at).")
    share = float(1 - BusinessCalendar.from_config(config).is_open(times).mean())
    affects = (*registry.kpi_ids(clock="business"), "sla")
    if share <= threshold:
        return _row("outside_hours", cycle.label, "ok", share, threshold,
                    f"{share:.0%} of agent activity ({source}) falls outside working hours.")
    return _row(
        "outside_hours", cycle.label, "warning", share, threshold,
        f"{share:.0%} of agent activity ({source}, n = {len(times):,}) falls outside the working hours "
        f"of review.yml (threshold {threshold:.0%}): the time zone ({config.timezone}) or the calendar is "
        "probably wrong, so business-hours figures are not reliable.",
        "Check review.yml timezone: (the zone in which the export's timestamps without offset were "
        "written) and calendar: working_hours.",
        affects,
    )


def instant_response(cycle: Cycle) -> dict[str, Any]:
    """Share of answered tickets whose first response is at the very instant of creation.

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables and settings (review.yml ``quality:`` gives the threshold).

    Returns
    -------
    dict of str to Any
        One row of the table of checks (:data:`CHECK_COLUMNS`): ``status`` ``ok``,
        ``warning`` or ``not applicable``, the figure (share of answered tickets answered at creation), the threshold, the finding
        and fix in words, and the KPI ids a warning affects.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> instant_response(load_cycle("data/sample", "2026Q3"))["status"]
    'ok'
    """
    config = cycle.config
    threshold = config.quality["instant_response_share"]
    tickets = cycle.tickets
    if (tickets is None or not {"created_at", "first_response_at"} <= set(tickets.columns)
            or not tickets["first_response_at"].notna().any()):
        return _row("instant_response", cycle.label, "not applicable",
                    finding="no first response times in this cycle.")
    answered = tickets[tickets["first_response_at"].notna()]
    share = float((answered["first_response_at"] <= answered["created_at"]).mean())
    if share <= threshold:
        return _row("instant_response", cycle.label, "ok", share, threshold,
                    f"{share:.0%} of answered tickets have their first response at creation.")
    return _row(
        "instant_response", cycle.label, "warning", share, threshold,
        f"For {share:.0%} of the answered tickets (n = {len(answered):,}) the first response is at the "
        "instant of creation: the ticket's first event is itself counted as the response, so first "
        "response time is not a measure of the desk's speed.",
        "Name the activity of the first agent reply in review.yml process: first_response_activities "
        "(not the activity that opens the ticket), or export the first reply time.",
        ("frt_hours", "frt_business_hours", "sla"),
    )


def after_resolution(cycle: Cycle) -> dict[str, Any]:
    """Activities counted as renewed work after a resolution that (almost) never happen before one.

    Work that reopens a ticket (a reply, an escalation) leads to a new resolution; an
    activity found after a resolution in 90 % or more of its occurrences and followed by a
    new resolution in fewer than 10 % of them is an administrative step (a closure, a
    record update) rather than rework. When such
    activities cause more than ``quality: after_resolution_share`` of the reopens counted
    from the event log, reopens and everything resting on them are not reliable.

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables and settings (review.yml ``quality:`` gives the threshold).

    Returns
    -------
    dict of str to Any
        One row of the table of checks (:data:`CHECK_COLUMNS`): ``status`` ``ok``,
        ``warning`` or ``not applicable``, the figure (share of the work after resolutions that is administrative), the threshold, the finding
        and fix in words, and the KPI ids a warning affects.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> after_resolution(load_cycle("data/sample", "2026Q3"))["status"]  # tickets come from the export
    'not applicable'
    """
    config, process = cycle.config, cycle.config.process
    threshold = config.quality["after_resolution_share"]
    events = cycle.events if "tickets" in cycle.derived else None  # the log is read only when it is used
    if (events is None or process is None or not process.resolution_activities
            or not {"ticket_id", "timestamp", "activity"} <= set(events.columns)):
        return _row("after_resolution", cycle.label, "not applicable",
                    finding="reopens are not counted from the event log in this cycle.")
    ev = events[events["timestamp"].notna()].sort_values(["ticket_id", "timestamp"], kind="stable")
    is_res = ev["activity"].isin(process.resolution_activities).to_numpy()
    resolved_before = pd.Series(is_res, index=ev.index).groupby(ev["ticket_id"].to_numpy()).cumsum().to_numpy()
    total = pd.Series(is_res).groupby(ev["ticket_id"].to_numpy()).transform("sum").to_numpy()
    after = (resolved_before > 0) & ~is_res
    work = ~ev["activity"].isin(not_work(process)).to_numpy() & ~is_res
    per_activity = pd.DataFrame({"activity": ev["activity"].to_numpy(), "after": after, "work": work,
                                 "resolved_again": after & (total > resolved_before)})
    per_activity = per_activity[per_activity["work"]]
    stats = per_activity.groupby("activity").agg(mean=("after", "mean"), sum=("after", "sum"),
                                                 again=("resolved_again", "sum"))
    # rework leads to a new resolution; an administrative step after one does not
    admin = stats[(stats["mean"] >= 0.9) & (stats["sum"] > 0) & (stats["again"] < 0.1 * stats["sum"])]
    # a reopen is a resolution followed by work: the first work event after each resolution
    triggers = per_activity[per_activity["after"]]
    share = float(triggers["activity"].isin(admin.index).mean()) if len(triggers) else 0.0
    if admin.empty or share <= threshold:
        return _row("after_resolution", cycle.label, "ok", share, threshold,
                    "No administrative activity is counted as rework after a resolution.")
    names = ", ".join(f"'{a}'" for a in admin.sort_values("sum", ascending=False).index[:5])
    return _row(
        "after_resolution", cycle.label, "warning", share, threshold,
        f"{share:.0%} of the work counted after a resolution is {names}, which happens after a "
        "resolution in 90 % or more of its occurrences: an administrative step, not rework, so "
        "reopens (and resolution times resting on them) are overstated.",
        f"If {names} is not rework, list it in review.yml under process: non_work_activities.",
        ("reopen_rate", "fcr", "one_touch", "open_share", "ttr_hours", "ttr_business_hours",
         "backlog_age_hours", "backlog_age_business_hours", "sla"),
    )


def previous_maturity(previous: Cycle | None, cycle: Cycle) -> dict[str, Any]:
    """Whether the previous cycle can be compared with: not too small, not cut while most of
    its tickets were open.

    Parameters
    ----------
    previous : Cycle or None
        The cycle compared with (``None``: none, the check is not applicable).
    cycle : Cycle
        The cycle reviewed (its review.yml gives ``min_n`` and the threshold).

    Returns
    -------
    dict of str to Any
        One row of the table of checks (:data:`CHECK_COLUMNS`); the figure is the previous
        cycle's share of tickets open at its end (its number of tickets when it is too small);
        a warning affects every KPI (``*``).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> previous_maturity(q3.load_previous(), q3)["status"]
    'ok'
    """
    config = cycle.config
    threshold = config.quality["immature_open_share"]
    if previous is None:
        return _row("previous_maturity", cycle.label, "not applicable", finding="no previous cycle to compare with.")
    tickets = previous.tickets
    if tickets is None or "resolved_at" not in tickets.columns or not tickets["resolved_at"].notna().any():
        return _row("previous_maturity", previous.label, "not applicable",
                    finding=f"{previous.label} has no resolution times: its maturity cannot be judged.")
    n = len(tickets)
    share = float(tickets["resolved_at"].isna().mean()) if n else 1.0
    if share > threshold:
        return _row("previous_maturity", previous.label, "warning", share, threshold,
                    f"previous cycle incomplete ({share:.0%} open at its end)",
                    f"Compare with a cycle whose export was taken after most of its tickets were closed "
                    f"(review.yml quality: immature_open_share is {threshold:.0%}).", _ALL)
    if n < config.min_n:
        return _row("previous_maturity", previous.label, "warning", float(n), float(config.min_n),
                    f"previous cycle too small ({n:,} tickets, min_n {config.min_n})",
                    "Compare with a larger cycle, or lower min_n in review.yml.", _ALL)
    return _row("previous_maturity", previous.label, "ok", share, threshold,
                f"{previous.label}: {share:.0%} of its {n:,} tickets open at its end.")


def checks(cycle: Cycle, previous: Cycle | None = None) -> pd.DataFrame:
    """Every plausibility check of ``cycle`` (and of its comparison with ``previous``).

    Parameters
    ----------
    cycle : Cycle
        The cycle reviewed.
    previous : Cycle, optional
        The cycle it is compared with.

    Returns
    -------
    pandas.DataFrame
        One row per check (:data:`CHECK_COLUMNS`): ``status`` is ``ok``, ``warning`` or
        ``not applicable``; ``figure`` the measured share, ``threshold`` the limit from
        review.yml ``quality:``; ``affects`` the KPI ids a warning makes not comparable
        (``*``: every KPI).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> checks(q3, q3.load_previous())[["check", "status"]].values.tolist()
    [['outside_hours', 'ok'], ['instant_response', 'ok'], ['after_resolution', 'not applicable'], ['previous_maturity', 'ok']]
    """
    def run() -> pd.DataFrame:
        rows = [outside_hours(cycle), instant_response(cycle), after_resolution(cycle),
                previous_maturity(previous, cycle)]
        return pd.DataFrame(rows, columns=CHECK_COLUMNS)

    # computed once per review run (several pages show the checks) when both cycles are
    # the run's checked tables as loaded
    if not hasattr(cycle, "once") or (previous is not None and getattr(previous, "store", None) is None):
        return run()
    return cycle.once(("plausibility.checks", None if previous is None else previous.label), run, keep=True)


def not_comparable(table: pd.DataFrame) -> dict[str, str]:
    """KPI id → the reason its change cannot be judged (``*`` stands for every KPI).

    Parameters
    ----------
    table : pandas.DataFrame
        The table of checks (:func:`checks`).

    Returns
    -------
    dict of str to str
        KPI id (or ``*``) -> a short reason; the first warning wins for a KPI.

    Examples
    --------
    >>> t = pd.DataFrame([{"check": "previous_maturity", "status": "warning", "affects": ("*",),
    ...                    "finding": "previous cycle incomplete (97% open at its end)"}])
    >>> not_comparable(t)
    {'*': 'previous cycle incomplete (97% open at its end)'}
    """
    reasons: dict[str, str] = {}
    for row in table[table["status"] == "warning"].itertuples():
        short = {"outside_hours": "activity mostly outside working hours (time zone or calendar wrong?)",
                 "instant_response": "first response equals creation for most tickets",
                 "after_resolution": "reopens count administrative activity after resolution"}.get(row.check,
                                                                                                   row.finding)
        for kpi in row.affects:
            reasons.setdefault(kpi, short)
    return reasons


def clock_warning(table: pd.DataFrame) -> str | None:
    """The sentence flagging the business clock on every page that uses it, or ``None``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of checks (:func:`checks`).

    Returns
    -------
    str or None
        The sentence, when the ``outside_hours`` check warns.

    Examples
    --------
    >>> t = pd.DataFrame([{"check": "outside_hours", "status": "warning",
    ...                    "finding": "80% of agent activity falls outside working hours.",
    ...                    "fix": "Check review.yml timezone."}])
    >>> clock_warning(t)
    'Business clock doubtful: 80% of agent activity falls outside working hours. Check review.yml timezone.'
    >>> clock_warning(t.assign(status="ok")) is None
    True
    """
    hit = table[(table["check"] == "outside_hours") & (table["status"] == "warning")]
    return None if hit.empty else f"Business clock doubtful: {hit['finding'].iloc[0]} {hit['fix'].iloc[0]}"


#: The page of the data-quality gate and the plausibility checks.
PAGE = "00_data_quality"


def findings(table: pd.DataFrame | None, gate: Any = None) -> list[Finding]:
    """What the data-quality page found: each plausibility warning (it makes the changes
    it affects not comparable, so the summary must say it first) and the rows the gate set
    aside.

    Parameters
    ----------
    table : pandas.DataFrame or None
        The table of checks (:func:`checks`); ``None`` when they could not run.
    gate : QualityReport, optional
        The cycle's data-quality gate (:func:`cxassess.quality.quality_report`), for the
        rows it quarantined.

    Returns
    -------
    list of Finding
        Empty when every check holds and no row was set aside.

    Examples
    --------
    >>> t = pd.DataFrame([{"check": "previous_maturity", "cycle": "2026Q2", "status": "warning",
    ...     "figure": 0.97, "threshold": 0.5, "finding": "previous cycle incomplete (97% open at its end)",
    ...     "fix": "compare with an earlier cycle", "affects": ("*",)}])
    >>> [(f.severity, f.what) for f in findings(t)]
    [('high', 'Changes cannot be judged: previous cycle incomplete (97% open at its end).')]
    >>> findings(t.assign(status="ok")), findings(None)
    ([], [])
    """
    found = []
    warnings = table[table["status"] == "warning"] if table is not None else pd.DataFrame(columns=CHECK_COLUMNS)
    for row in warnings.itertuples():
        every = "*" in tuple(row.affects)
        what = ("Changes cannot be judged: " if every else "Some figures are doubtful: ") + str(row.finding).rstrip(".")
        affected = "every comparison" if every else ", ".join(registry.kpi(k).label for k in row.affects)
        figure = f"{row.figure:.0%}" if pd.notna(row.figure) and row.figure <= 1 else "–"
        limit = f"{row.threshold:.0%}" if pd.notna(row.threshold) and row.threshold <= 1 else "–"
        found.append(Finding(what + ".", f"{figure} against a limit of {limit}; affects {affected}",
                             "high" if every else "medium", 1.0, PAGE, "plausibility", "data_quality",
                             action=str(row.fix), figures={"check": str(row.check), "cycle": str(row.cycle)}))
    quarantined = int(getattr(gate, "quarantined_rows", 0) or 0)
    rows = int(gate.tables["rows_read"].sum()) if quarantined else 0
    if quarantined and rows:
        share = quarantined / rows
        found.append(Finding(f"{quarantined:,} of {rows:,} rows ({share:.1%}) were set aside by the data-quality "
                             "gate and are left out of every figure.", f"{quarantined:,} rows quarantined",
                             "medium" if share >= 0.01 else "low", min(1.0, share), PAGE, "failures",
                             "data_quality", action="Correct the export: the data-quality page says what failed "
                                                    "and how to fix it.",
                             figures={"quarantined": int(quarantined), "rows": int(rows)}))
    return found

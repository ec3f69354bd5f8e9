"""What the scorecard page found, as findings (:mod:`cxassess.findings`) the summary ranks.

Three kinds, each computed from the scorecard and its breakdowns, never from expectations:

* **kpi_change**: a KPI that improved or worsened for real (its interval excludes 0 and the
  change reaches the KPI's minimum important difference), with the segment that drives it
  when one does (its own change real, in the same direction, and at least half of the
  desk's change: ``tier1_south`` transfers 20.8 % → 40.8 %). A deterioration is ``medium``
  or ``high`` (to act on); an improvement is always ``low`` (good news, not to act on);
* **target_missed**: KPIs whose whole interval lies on the wrong side of their review.yml
  target by at least the minimum important difference (an improved KPI included: its target
  missed is the problem, not its improvement), one finding per KPI family, led by the KPI
  furthest off;
* **segment_change**: a segment whose KPI moved while the desk's did not, only when the
  whole interval of its change lies beyond the minimum important difference (many segments
  are compared: a change barely clear of 0 in one of them is not enough).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cxassess import plausibility, registry
from cxassess.cycles import Cycle
from cxassess.findings import SEVERITIES, Finding, interval, number
from cxassess.kpis.breakdown import Breakdown, breakdowns
from cxassess.kpis.scorecard import label, scorecard

__all__ = ["PAGE", "BREAKDOWN_BY", "CAUSES", "findings", "scorecard_findings", "anchor_of"]

#: The page whose evidence these findings link to.
PAGE = "20_kpi_scorecard"
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
#: The columns the scorecard page breaks the KPIs down by (its ``breakdowns`` parameter).
BREAKDOWN_BY = ("channel", "team")


#: KPIs that describe what the desk does (handing tickets on, escalating, reopening): when
#: one segment drives several changes, the first of these among them leads its finding and
#: the outcomes (CSAT, SLA, resolution time) follow it.
CAUSES = ("transfer_rate", "escalation_rate", "reopen_rate", "one_touch", "fcr")


def anchor_of(section: str) -> str:
    """The anchor id of a section of the scorecard page: ``"by team"`` → ``"by-team"``.

    Parameters
    ----------
    section : str
        ``scorecard``, ``trends`` or ``by <column>``.

    Returns
    -------
    str

    Examples
    --------
    >>> anchor_of("by team"), anchor_of("scorecard")
    ('by-team', 'scorecard')
    """
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in section.strip().lower())


def _in_sentence(name: str) -> str:
    """A KPI's label inside a sentence: "Transfer rate" → "transfer rate", "CSAT ..." kept."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def _reach_bad(kpi: str, value: float, n: float = np.nan, tickets: float = np.nan) -> float:
    """Share of tickets (answers) on the bad side of a share KPI; for other units the
    share of the cycle's tickets the figure rests on (``n / tickets``).
    """
    if registry.unit(kpi) != "share" or pd.isna(value):
        return float(min(1.0, n / tickets)) if tickets and pd.notna(n) and pd.notna(tickets) else 1.0
    share = float(value) if not registry.kpi(kpi).higher_is_better else 1.0 - float(value)
    return float(min(1.0, max(0.0, share)))


def _driver(row: pd.Series, parts: Sequence[Breakdown], min_n: int) -> dict | None:
    """The segment that drives a desk-wide change, or ``None``: its own change is real, in
    the same direction, rests on ``min_n``, and its contribution (its share of the KPI's n
    times its value, now minus before) is at least half of the desk's change.
    """
    best = None
    for part in parts:
        if part.missing or part.full.empty:
            continue
        rows = part.full[(part.full["kpi"] == row["kpi"])]
        rows = rows[rows["policy"].isna()] if pd.isna(row.get("policy")) else rows[rows["policy"] == row["policy"]]
        if rows.empty or rows["n"].sum() == 0 or rows["n_previous"].fillna(0).sum() == 0:
            continue
        now_w = rows["n"] / rows["n"].sum()
        before_w = rows["n_previous"].fillna(0) / rows["n_previous"].fillna(0).sum()
        contribution = now_w * rows["value"] - before_w * rows["previous"].fillna(0)
        for i in rows.index:
            r = rows.loc[i]
            same = np.sign(r["change"]) == np.sign(row["change"])
            if (r["verdict"] in ("improved", "worsened", "real but small") and same and r["n"] >= min_n
                    and contribution[i] / row["change"] >= 0.5
                    and (best is None or contribution[i] / row["change"] > best["part"])):
                best = {"by": part.by, "segment": str(r[part.by]), "value": float(r["value"]),
                        "previous": float(r["previous"]), "n": int(r["n"]),
                        "share": float(now_w[i]), "part": float(contribution[i] / row["change"])}
    return best


def scorecard_findings(card: pd.DataFrame, parts: Sequence[Breakdown] = (), *, min_n: int = 30,
                       targets: Mapping[str, float] | None = None,
                       min_important: Mapping[str, float] | None = None) -> list[Finding]:
    """The findings of a scorecard and its breakdowns (see the module's text).

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`cxassess.kpis.scorecard` of the cycle (no segment column).
    parts : sequence of Breakdown, optional
        :func:`cxassess.kpis.breakdowns` of the cycle, for the drivers and segment changes.
    min_n : int, default 30
        Figures resting on fewer answers or tickets find nothing.
    targets : mapping of str to float, optional
        Not needed when ``card`` has its ``target`` column (the scorecard's).
    min_important : mapping of str to float, optional
        review.yml's minimum important differences (others: the registry's).

    Returns
    -------
    list of Finding
        Ranked (:func:`cxassess.findings.rank`) by the summary, not here.

    Examples
    --------
    CSAT 48 % on 372 answers against a target of 80 %, its interval wholly below it:

    >>> card = pd.DataFrame({"kpi": ["csat"], "policy": [None], "label": ["CSAT"], "value": [0.48],
    ...     "ci_low": [0.43], "ci_high": [0.53], "n": [372], "previous": [0.53], "change": [-0.05],
    ...     "change_low": [-0.12], "change_high": [0.03], "verdict": ["within noise"], "target": [0.8],
    ...     "target_status": ["missed"], "note": [""]})
    >>> [f.what for f in scorecard_findings(card)]
    ['CSAT (top-box share) is 48.0% against a target of 80.0%.']
    """
    found: list[Finding] = []
    card = card[(card["note"].fillna("") == "") & (card["n"].fillna(0) >= min_n)]
    counted = card[card["kpi"].isin(["transfer_rate", "open_share", "escalation_rate"])]["n"]
    tickets = float(counted.max()) if len(counted) else float(card["n"].max()) if len(card) else np.nan
    changed: set[str] = set()
    worsened: set[str] = set()  # their finding says the target missed; an improved KPI's does not count as one
    for _, r in card.iterrows():
        kpi, unit = r["kpi"], registry.unit(r["kpi"])
        if r["verdict"] not in ("improved", "worsened"):
            continue
        changed.add(kpi)
        mid = registry.min_important(kpi, min_important)
        name = label(kpi, r["policy"])
        verb = "rose" if r["change"] > 0 else "fell"
        what = (f"{name} {verb} from {number(r['previous'], unit)} to {number(r['value'], unit)} "
                f"({number(r['change'], unit, change=True)})")
        figures = {"kpi": kpi, "value": float(r["value"]), "previous": float(r["previous"]),
                   "change": float(r["change"]), "change_low": float(r["change_low"]),
                   "change_high": float(r["change_high"])}
        driver = _driver(r, parts, min_n) if parts else None
        section, team = "scorecard", None
        action = (f"Find out why {name} {r['verdict']}: look at the breakdowns by segment and at the process stages."
                  if r["verdict"] == "worsened" else f"Keep what made {name} improve, and say what it was.")
        if driver is not None:
            what += (f", driven by {driver['segment']} ({number(driver['previous'], unit)} → "
                     f"{number(driver['value'], unit)})")
            figures.update({"driver_by": driver["by"], "driver": driver["segment"],
                            "driver_value": driver["value"], "driver_previous": driver["previous"],
                            "driver_part": driver["part"]})
            section = f"by {driver['by']}"
            team = driver["segment"] if driver["by"] == "team" else None
            action = (f"Review {driver['segment']}'s {_in_sentence(name)}: which tickets, since when, and why "
                      f"({driver['by']} {driver['segment']}).")
        target = r.get("target")
        if pd.notna(target) and r.get("target_status") == "missed":
            what += f"; the target is {number(target, unit)}"
            figures["target"] = float(target)
        worse = r["verdict"] == "worsened"
        if worse:
            worsened.add(kpi)
        # an improvement is good news ("low": context), never among what to act on, however large;
        # a target it still misses is a finding of its own (_targets_missed)
        severity = ("high" if abs(r["change"]) >= 3 * mid else "medium") if worse else "low"
        evidence = (f"n = {int(r['n']):,} (before {int(r['n_previous']):,}); change "
                    f"{number(r['change'], unit, change=True)}, 95 % CI "
                    f"{interval(r['change_low'], r['change_high'], unit, change=True)}")
        reach = driver["share"] if driver is not None else _reach_bad(kpi, r["value"], r["n"], tickets)
        found.append(Finding(what + ".", evidence, severity, reach, PAGE,
                             anchor_of(section), "kpi_change", kpi=kpi, team=team, action=action, figures=figures))
    found = _merge_drivers(found)
    found += _targets_missed(card, worsened, min_important, tickets)
    found += _segment_changes(card, parts, changed, min_n, min_important)
    return found


def _merge_drivers(found: list[Finding]) -> list[Finding]:
    """One finding per segment that drives several changes: the first KPI of :data:`CAUSES`
    among them (else the most severe, largest) leads, the others follow in its sentence.
    """
    groups: dict[tuple, list[Finding]] = {}
    for f in found:
        key = (f.figures.get("driver_by"), f.figures.get("driver")) if f.figures.get("driver") else (id(f),)
        groups.setdefault(key, []).append(f)
    out = []
    for items in groups.values():
        if len(items) == 1:
            out.append(items[0])
            continue
        order = {k: i for i, k in enumerate(CAUSES)}
        items = sorted(items, key=lambda f: (order.get(f.kpi, len(CAUSES)), SEVERITY_ORDER[f.severity],
                                             -abs(f.figures["change"])))
        lead, rest = items[0], items[1:]
        unit = {f.kpi: registry.unit(f.kpi) for f in items}
        also = ", ".join(f"{f.what.split(' rose ')[0].split(' fell ')[0]} "
                         f"{number(f.figures['change'], unit[f.kpi], change=True)}" for f in rest)
        what = lead.what.rstrip(".") + f"; {len(rest)} other KPI{'s' if len(rest) > 1 else ''} moved with it."
        evidence = f"{lead.evidence}. Also driven by {lead.figures['driver']}: {also}"
        severity = min((f.severity for f in items), key=SEVERITY_ORDER.get)
        figures = {**lead.figures, "with": [{"kpi": f.kpi, "change": f.figures["change"]} for f in rest]}
        out.append(Finding(what, evidence, severity, lead.reach, lead.page, lead.anchor, lead.kind,
                           kpi=lead.kpi, team=lead.team, action=lead.action, figures=figures))
    return out


def _targets_missed(card: pd.DataFrame, changed: set[str], min_important: Mapping[str, float] | None,
                    tickets: float = np.nan) -> list[Finding]:
    """One finding per KPI family whose KPIs miss their targets clearly (and did not worsen:
    ``changed`` holds those, whose own finding already says the target).
    """
    missed = card[(card["target_status"] == "missed") & ~card["kpi"].isin(changed)].copy()
    if missed.empty:
        return []
    mids = np.array([registry.min_important(k, min_important) or 1e-9 for k in missed["kpi"]])
    missed["gap"] = (missed["value"] - missed["target"]).abs().to_numpy() / mids
    missed = missed[missed["gap"] >= 1.0]
    missed["family"] = [registry.kpi(k).family for k in missed["kpi"]]
    out = []
    for _family, rows in missed.sort_values("gap", ascending=False).groupby("family", sort=False):
        lead = rows.iloc[0]
        unit = registry.unit(lead["kpi"])
        name = label(lead["kpi"], lead["policy"])
        what = f"{name} is {number(lead['value'], unit)} against a target of {number(lead['target'], unit)}"
        others = [f"{label(r.kpi, r.policy)} {number(r.value, registry.unit(r.kpi))} against "
                  f"{number(r.target, registry.unit(r.kpi))}" for r in rows.iloc[1:].itertuples()]
        if others:
            what += " (also " + "; ".join(others) + ")"
        evidence = (f"n = {int(lead['n']):,}; 95 % CI {interval(lead['ci_low'], lead['ci_high'], unit)}, "
                    "wholly below the target" if registry.kpi(lead["kpi"]).higher_is_better
                    else f"n = {int(lead['n']):,}; 95 % CI {interval(lead['ci_low'], lead['ci_high'], unit)}, "
                    "wholly above the target")
        severity = "high" if lead["gap"] >= 5 else "medium"
        action = (f"Set a plan for {name}: the causes the process page shows (stages, paths) come first; "
                  "a target this far off is not reached by small steps." if severity == "high"
                  else f"Check what keeps {name} off its target.")
        out.append(Finding(what + ".", evidence, severity, _reach_bad(lead["kpi"], lead["value"], lead["n"], tickets),
                           PAGE,
                           "scorecard", "target_missed", kpi=str(lead["kpi"]), action=action,
                           figures={"kpi": str(lead["kpi"]), "value": float(lead["value"]),
                                    "target": float(lead["target"]), "ci_low": float(lead["ci_low"]),
                                    "ci_high": float(lead["ci_high"]), "n": int(lead["n"]),
                                    "also": [str(k) for k in rows["kpi"].iloc[1:]]}))
    return out


def _segment_changes(card: pd.DataFrame, parts: Sequence[Breakdown], changed: set[str], min_n: int,
                     min_important: Mapping[str, float] | None) -> list[Finding]:
    """Segments whose KPI moved clearly beyond its minimum important difference while the
    desk's KPI did not move.
    """
    out = []
    tickets = {p.by: int(p.segments["tickets"].sum()) for p in parts if not p.missing and len(p.segments)}
    for part in parts:
        if part.missing or part.full.empty:
            continue
        full = part.full[part.full["policy"].isna() & ~part.full["kpi"].isin(changed)]
        for _, r in full.iterrows():
            kpi, unit = r["kpi"], registry.unit(r["kpi"])
            mid = registry.min_important(kpi, min_important)
            clear = r["change_low"] > mid or r["change_high"] < -mid
            if r["verdict"] not in ("improved", "worsened") or not clear or r["n"] < min_n:
                continue
            segment = str(r[part.by])
            seg = part.segments.set_index(part.by)["tickets"] if part.by in part.segments else pd.Series(dtype=float)
            reach = float(seg.get(r[part.by], 0)) / tickets[part.by] if tickets.get(part.by) else 0.0
            verb = "rose" if r["change"] > 0 else "fell"
            what = (f"{label(kpi)} {verb} in {segment} ({part.by}) from {number(r['previous'], unit)} to "
                    f"{number(r['value'], unit)}, while the desk's did not move")
            out.append(Finding(
                what + ".", f"n = {int(r['n']):,}; change {number(r['change'], unit, change=True)}, 95 % CI "
                f"{interval(r['change_low'], r['change_high'], unit, change=True)}",
                "medium" if r["verdict"] == "worsened" else "low", min(1.0, max(0.0, reach)), PAGE,
                anchor_of(f"by {part.by}"), "segment_change", kpi=kpi,
                team=segment if part.by == "team" else None,
                action=f"Ask {segment} what changed this cycle ({label(kpi)}).",
                figures={"kpi": kpi, "by": part.by, "segment": segment, "value": float(r["value"]),
                         "previous": float(r["previous"]), "change": float(r["change"])}))
    return out


def findings(data: Cycle, before: Cycle | None, *, card: pd.DataFrame | None = None,
             parts: Sequence[Breakdown] | None = None, checks: pd.DataFrame | None = None,
             by: Sequence[str] = BREAKDOWN_BY) -> list[Finding]:
    """The findings of the scorecard page, from its data: the page passes the scorecard and
    breakdowns it computed; the summary page, run alone, passes nothing and they are
    computed here the same way.

    Parameters
    ----------
    data, before : Cycle, Cycle or None
        The cycle reviewed and the one compared with.
    card : pandas.DataFrame, optional
        :func:`cxassess.kpis.scorecard` of ``data`` (computed when not given).
    parts : sequence of Breakdown, optional
        :func:`cxassess.kpis.breakdowns` by ``by`` (computed when not given).
    checks : pandas.DataFrame, optional
        :func:`cxassess.plausibility.checks` (computed when needed and not given).
    by : sequence of str, default BREAKDOWN_BY
        The breakdown columns, as the scorecard page's parameter.

    Returns
    -------
    list of Finding

    Examples
    --------
    The sample's 2026Q3 alone (no previous cycle, no breakdown): only the targets it
    misses can be found, one finding per KPI family.

    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> found = findings(q3, None, parts=[])
    >>> sorted({f.kind for f in found}), found[0].kpi
    (['target_missed'], 'csat')
    """
    config = data.config
    if card is None or parts is None:
        checks = checks if checks is not None else plausibility.checks(data, before)
    if card is None:
        card = scorecard(data, before, checks=checks)
    if parts is None:
        parts = breakdowns(data, before, by=[b for b in by], top=config.top_segments, checks=checks)
    return scorecard_findings(card, parts, min_n=config.min_n, min_important=config.min_important)

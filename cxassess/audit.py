"""Quality audits: the served quality that QA reviewers see (internal quality score, IQS).

Auditors score sampled tickets on the criteria of review.yml ``qa_scorecard``; each
criterion has a section (management = the process, communication = the style, or one of
your own), a weight, an impact (``high``: an action against the guidelines that harms the
process; ``low``: minor) and may be *auto-fail* (a fail sets the whole audit's score to 0).
A not-applicable result counts as the criterion's ``na`` policy says (``exclude`` it from
the weights, or count it as a ``pass`` or a ``fail``).

What this module measures, each figure with its n and a 95 % interval:

* **IQS per audit** (:func:`audit_scores`): weighted share of the points, auto-fail applied;
  and per agent, team, section, criterion, channel, source (:func:`quality_scores`) with a
  *cluster bootstrap* interval: the audits are resampled whole, because the criteria of one
  audit are not independent of each other. Change against the previous cycle with its
  verdict and the status against the targets of review.yml ``qa`` (:func:`compare_scores`);
  the share of audits with a high-impact error (:func:`high_impact_rate`).
* **Served-quality gaps** (:func:`criterion_gaps`): a team failing a criterion more often
  than the rest of the desk, beyond noise (intervals widened for the number of comparisons).
* **Planned vs served vs received** per team and per stage (:func:`planned_served_received`,
  :func:`stage_gaps`).
* **Calibration** (:func:`agreement`, :func:`auditor_bias`): several auditors scoring the
  same tickets (rows with a ``session``); Krippendorff's alpha, Fleiss' and Cohen's kappa,
  and each auditor's bias against the consensus of the others.
* **Sources compared** (:func:`sources_compared`), **label vs process**
  (:func:`label_vs_process`: the audit's *flow followed* against the event log),
  **sampling adequacy** (:func:`sampling_adequacy`, :func:`next_sample`) and the **coaching
  list** (:func:`coaching_list`). :func:`findings` states what is beyond noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from cxassess.config import ReviewConfig
from cxassess.errors import InputError
from cxassess.findings import Finding
from cxassess.io import is_in
from cxassess.stats import (
    difference_of_estimates,
    difference_of_proportions,
    se_from_interval,
    target_status,
    verdict,
    wilson_interval,
    z_value,
)

__all__ = [
    "PAGE", "scorecard", "audit_items", "audit_scores", "quality_scores", "high_impact_rate",
    "compare_scores", "criterion_gaps", "planned_served_received", "team_gaps_needs", "stage_gaps",
    "stage_gaps_needs", "moves_needs", "calibration_items",
    "agreement", "pairwise_kappa", "auditor_bias", "sources_compared", "label_vs_process", "sampling_adequacy",
    "next_sample", "coaching_list", "pseudonymise", "findings", "page_needs", "for_page",
    "label_sentence", "sampling_sentence", "findings_table",
]

#: Stem of the page showing the audits.
PAGE = "40_quality_audits"
_RESULTS = ("pass", "fail", "na")
_CARD = ["criterion", "section", "weight", "impact", "auto_fail", "na"]


def _adjusted(confidence: float, comparisons: int) -> float:
    """Bonferroni: the confidence of each of ``comparisons`` intervals so that all hold together."""
    return 1 - (1 - confidence) / max(int(comparisons), 1)


# ---------------------------------------------------------------------------------- scoring
def scorecard(config: ReviewConfig | Iterable[dict] | None, audits: pd.DataFrame | None = None) -> pd.DataFrame:
    """The scorecard: one row per criterion with its section, weight, impact, auto-fail and na policy.

    Criteria found in ``audits`` but not in review.yml get weight 1, low impact, section
    ``other`` (their results still count; the data-quality gate warns about them).

    Parameters
    ----------
    config : ReviewConfig, list of dict or None
        The dataset's settings (``qa_scorecard``), or the criteria themselves.
    audits : pandas.DataFrame, optional
        The audits, for criteria review.yml does not list.

    Returns
    -------
    pandas.DataFrame
        ``criterion, section, weight, impact, auto_fail, na``.

    Examples
    --------
    >>> scorecard([{"criterion": "sop", "weight": 3, "auto_fail": True}]).iloc[0].astype(str).tolist()
    ['sop', 'other', '3.0', 'low', 'True', 'exclude']
    """
    if isinstance(config, ReviewConfig):
        rows = [c.model_dump() for c in config.settings.qa_scorecard]
    else:
        rows = [dict(c) for c in (config or [])]
    card = pd.DataFrame(rows, columns=_CARD)
    defaults = {"section": "other", "weight": 1.0, "impact": "low", "auto_fail": False, "na": "exclude"}
    for column, value in defaults.items():
        card[column] = card[column].where(card[column].notna() & (card[column] != ""), value)
    if audits is not None and "criterion" in audits.columns:
        found = audits["criterion"].dropna().unique()  # one per criterion, not per audit row
        extra = sorted({str(c) for c in found} - set(card["criterion"].astype(str)))
        if extra:
            card = pd.concat([card, pd.DataFrame({"criterion": extra, **defaults})], ignore_index=True)
    card["criterion"] = card["criterion"].astype(str)
    card["weight"] = card["weight"].astype(float)
    card["auto_fail"] = card["auto_fail"].astype(bool)
    return card.reset_index(drop=True)


def _is_calibration(audits: pd.DataFrame) -> np.ndarray:
    if "session" not in audits.columns:
        return np.zeros(len(audits), dtype=bool)
    session = audits["session"]
    return (session.notna() & (session.astype(str).str.strip() != "")).to_numpy()


def audit_items(audits: pd.DataFrame, card: pd.DataFrame, tickets: pd.DataFrame | None = None, *,
                calibration: bool = False) -> pd.DataFrame:
    """The audits' criterion results, scored: one row per audit and criterion.

    ``points`` is 1 for a pass, 0 for a fail; a not-applicable result follows the
    criterion's ``na`` policy (``exclude``: no points and no weight). Results other than
    pass / fail / na are left out. The ticket's team and channel are added from ``tickets``.

    Parameters
    ----------
    audits : pandas.DataFrame
        The audits table (``audit_id, ticket_id, agent_id, criterion, result``; optional
        ``auditor_id, source, session``).
    card : pandas.DataFrame
        :func:`scorecard`.
    tickets : pandas.DataFrame, optional
        For ``team`` and ``channel`` of each audited ticket.
    calibration : bool, default False
        False: the regular audits (rows without a ``session``); True: the calibration rows.

    Returns
    -------
    pandas.DataFrame
        The audit rows with ``section, weight, impact, auto_fail, points, failed, team, channel``.

    Raises
    ------
    InputError
        The audits have no ``result`` column.

    Examples
    --------
    >>> a = pd.DataFrame({"audit_id": ["A", "A"], "ticket_id": "T", "agent_id": "x",
    ...                   "criterion": ["sop", "warm"], "result": ["fail", "na"]})
    >>> audit_items(a, scorecard([{"criterion": "sop"}, {"criterion": "warm"}]))[["criterion", "points"]].values.tolist()
    [['sop', 0.0], ['warm', nan]]
    """
    if "result" not in audits.columns:
        raise InputError("the audits have no result column: nothing can be scored",
                         fix="export each criterion's result (pass, fail or na) in a column named result")
    keep = _is_calibration(audits) == calibration
    frame = audits[keep].copy()
    frame["result"] = frame["result"].astype(str).str.strip().str.lower()
    frame = frame[frame["result"].isin(_RESULTS)]
    frame["criterion"] = frame["criterion"].astype(str)
    for column, value in (("auditor_id", "unknown"), ("source", "unknown")):
        if column not in frame.columns:
            frame[column] = value
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "unknown")
    frame = frame.merge(card, on="criterion", how="left")
    na_points = frame["na"].map({"pass": 1.0, "fail": 0.0, "exclude": np.nan})
    frame["points"] = np.where(frame["result"] == "pass", 1.0,
                               np.where(frame["result"] == "fail", 0.0, na_points)).astype(float)
    frame["failed"] = frame["points"] == 0.0
    if tickets is not None and "ticket_id" in tickets.columns:
        extra = [c for c in ("team", "channel") if c in tickets.columns]
        audited = tickets[is_in(tickets["ticket_id"], frame["ticket_id"])]  # not the whole cycle's tickets
        frame = frame.merge(audited[["ticket_id", *extra]].drop_duplicates("ticket_id"), on="ticket_id", how="left")
    for column in ("team", "channel"):
        if column not in frame.columns:
            frame[column] = "unknown"
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "unknown")
    return frame.reset_index(drop=True)


def audit_scores(items: pd.DataFrame) -> pd.DataFrame:
    """The internal quality score (IQS) of each audit: weighted share of the points, 0 when an
    auto-fail criterion failed.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.

    Returns
    -------
    pandas.DataFrame
        One row per audit: ``audit_id, ticket_id, agent_id, auditor_id, source, team,
        channel, criteria, raw_score, auto_failed, iqs, high_impact_errors, errors``.

    Examples
    --------
    Weights 3 (auto-fail) and 1: failing the light one gives 3/4, failing the auto-fail one 0.

    >>> card = scorecard([{"criterion": "sop", "weight": 3, "auto_fail": True}, {"criterion": "warm"}])
    >>> a = pd.DataFrame({"audit_id": ["A", "A", "B", "B"], "ticket_id": ["T", "T", "U", "U"], "agent_id": "x",
    ...                   "criterion": ["sop", "warm"] * 2, "result": ["pass", "fail", "fail", "pass"]})
    >>> audit_scores(audit_items(a, card))[["audit_id", "raw_score", "iqs"]].values.tolist()
    [['A', 0.75, 0.75], ['B', 0.25, 0.0]]
    """
    scored = items[items["points"].notna()]
    first = items.groupby("audit_id", sort=True)[["ticket_id", "agent_id", "auditor_id", "source", "team",
                                                    "channel"]].first()
    weight = scored["weight"].groupby(scored["audit_id"]).sum()
    got = (scored["weight"] * scored["points"]).groupby(scored["audit_id"]).sum()
    fails = scored[scored["failed"]]
    auto = fails[fails["auto_fail"].astype(bool)].groupby("audit_id").size()
    high = fails[fails["impact"] == "high"].groupby("audit_id").size()
    out = first.copy()
    out["criteria"] = scored.groupby("audit_id").size().reindex(out.index).fillna(0).astype("int64")
    out["raw_score"] = (got / weight).reindex(out.index)
    out["auto_failed"] = auto.reindex(out.index).fillna(0).gt(0)
    out["iqs"] = out["raw_score"].where(~out["auto_failed"], 0.0)
    out["high_impact_errors"] = high.reindex(out.index).fillna(0).astype("int64")
    out["errors"] = fails.groupby("audit_id").size().reindex(out.index).fillna(0).astype("int64")
    return out[out["criteria"] > 0].reset_index()


def _unit_values(items: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """One value per audit (and group): the audit's IQS, its section score or its criterion points."""
    if by in ("section", "criterion"):
        scored = items[items["points"].notna()].copy()
        scored["wp"] = scored["weight"] * scored["points"]
        g = scored.groupby(["audit_id", by], sort=True)
        out = (g["wp"].sum() / g["weight"].sum()).rename("value").reset_index()
        return out
    scores = audit_scores(items)
    out = scores.rename(columns={"iqs": "value"})
    return out[["audit_id", "value"] + ([by] if by else [])]


def _boot_mean(values: np.ndarray, rng: np.random.Generator, boot: int, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap of the mean of ``values`` (one value per audit: audits resampled whole).

    A resample of n audits is drawn as how many times each distinct value is taken
    (multinomial with the values' shares): the same distribution as drawing n audits with
    replacement, at the cost of the distinct values (an IQS takes few) instead of n per resample.
    """
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    if np.all(values == values[0]):
        if values[0] in (0.0, 1.0):  # all perfect (or all zero): a Wilson interval, not a zero-width one
            lo, hi = wilson_interval(values.sum(), n, confidence)
            return float(lo), float(hi)
        return float(values[0]), float(values[0])
    distinct, counts = np.unique(values, return_counts=True)
    step = max(1, 4_000_000 // len(distinct))  # resamples per block: bounded memory for many distinct values
    means = np.concatenate([rng.multinomial(n, counts / n, size=min(step, boot - start)) @ distinct / n
                            for start in range(0, boot, step)])
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(lo), float(hi)


def quality_scores(items: pd.DataFrame, by: str | None = None, *, boot: int = 2000, seed: int = 0,
                   confidence: float = 0.95, target: float | dict | None = None) -> pd.DataFrame:
    """IQS overall or per group, with a cluster-bootstrap interval (audits resampled whole).

    Per agent, team, channel, source or auditor it is the mean IQS of their audits. Per
    section it is the mean of each audit's weighted score on the section's criteria (auto-fail
    applies to the audit's IQS, not to a section); per criterion the share of audits passing it.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    by : str, optional
        ``agent_id``, ``team``, ``section``, ``criterion``, ``channel``, ``source`` or
        ``auditor_id``; ``None``: the whole desk.
    boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling (the same data gives the same interval).
    confidence : float, default 0.95
        Confidence level.
    target : float or dict, optional
        Planned score (one for all, or per group value); adds ``target`` and ``status``.

    Returns
    -------
    pandas.DataFrame
        ``[by], audits, iqs, low, high, se`` (and ``target, status``).

    Examples
    --------
    >>> card = scorecard([{"criterion": "c"}])
    >>> a = pd.DataFrame({"audit_id": list("ABCD"), "ticket_id": list("ABCD"), "agent_id": "x",
    ...                   "criterion": "c", "result": ["pass", "pass", "pass", "fail"]})
    >>> q = quality_scores(audit_items(a, card))
    >>> float(q["iqs"].iloc[0]), int(q["audits"].iloc[0])
    (0.75, 4)
    """
    values = _unit_values(items, by)
    rng = np.random.default_rng(seed)
    groups = values.groupby(by, sort=True) if by else [(None, values)]
    rows = []
    for key, part in groups:
        v = part["value"].to_numpy(dtype=float)
        lo, hi = _boot_mean(v, rng, boot, confidence)
        rows.append({**({by: key} if by else {}), "audits": len(v), "iqs": float(v.mean()) if len(v) else math.nan,
                     "low": lo, "high": hi})
    out = pd.DataFrame(rows, columns=([by] if by else []) + ["audits", "iqs", "low", "high"])
    out["se"] = se_from_interval(out["low"], out["high"], confidence)
    if target is not None:
        goal = out[by].map(target) if isinstance(target, dict) and by else float(target)
        out["target"] = pd.Series(goal, index=out.index, dtype=float)
        out["status"] = target_status(out["low"], out["high"], out["target"], higher_is_better=True)
    return out


def high_impact_rate(items: pd.DataFrame, by: str | None = None, *, confidence: float = 0.95) -> pd.DataFrame:
    """Share of audits with at least one high-impact error, with its Wilson interval.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    by : str, optional
        A column of :func:`audit_scores` (``team``, ``agent_id`` ...); ``None``: the desk.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``[by], audits, with_error, share, low, high``.

    Examples
    --------
    >>> card = scorecard([{"criterion": "sop", "impact": "high"}, {"criterion": "warm"}])
    >>> a = pd.DataFrame({"audit_id": ["A", "A", "B", "B"], "ticket_id": "T", "agent_id": "x",
    ...                   "criterion": ["sop", "warm"] * 2, "result": ["fail", "pass", "pass", "fail"]})
    >>> high_impact_rate(audit_items(a, card))[["audits", "with_error", "share"]].values.tolist()
    [[2.0, 1.0, 0.5]]
    """
    scores = audit_scores(items)
    scores["with_error"] = scores["high_impact_errors"] > 0
    g = scores.groupby(by, sort=True) if by else scores.groupby(lambda _: 0)
    out = g.agg(audits=("audit_id", "size"), with_error=("with_error", "sum")).reset_index()
    if not by:
        out = out.drop(columns="index")
    out["share"] = out["with_error"] / out["audits"]
    out["low"], out["high"] = wilson_interval(out["with_error"], out["audits"], confidence)
    return out


def compare_scores(now: pd.DataFrame, before: pd.DataFrame | None, by: str | None = None, *,
                   confidence: float = 0.95) -> pd.DataFrame:
    """The change of IQS against the previous cycle, with its interval and verdict.

    Parameters
    ----------
    now, before : pandas.DataFrame
        :func:`quality_scores` of the cycle and of the previous one (``None``: no change).
    by : str, optional
        The grouping both were computed with.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``now`` with ``previous, change, change_low, change_high, verdict``.

    Examples
    --------
    >>> now = pd.DataFrame({"audits": [100], "iqs": [0.80], "low": [0.76], "high": [0.84]})
    >>> old = pd.DataFrame({"audits": [100], "iqs": [0.90], "low": [0.87], "high": [0.93]})
    >>> compare_scores(now, old)["verdict"].tolist()
    ['worsened']
    """
    out = now.copy()
    if before is None or not len(before):
        out["previous"], out["change"], out["change_low"], out["change_high"] = (math.nan,) * 4
        out["verdict"] = "not comparable"
        return out
    old = before[[*([by] if by else []), "iqs", "low", "high"]].rename(
        columns={"iqs": "previous", "low": "_plo", "high": "_phi"})
    out = out.merge(old, on=by, how="left") if by else pd.concat([out, old.iloc[[0]].reset_index(drop=True)], axis=1)
    d, lo, hi = difference_of_estimates(out["iqs"], se_from_interval(out["low"], out["high"], confidence),
                                        out["previous"], se_from_interval(out["_plo"], out["_phi"], confidence),
                                        confidence)
    out["change"], out["change_low"], out["change_high"] = d, lo, hi
    out["verdict"] = verdict(lo, hi, higher_is_better=True)
    return out.drop(columns=["_plo", "_phi"])


# ------------------------------------------------------------------------------ served gaps
def criterion_gaps(items: pd.DataFrame, by: str = "team", *, confidence: float = 0.95,
                   min_n: int = 10) -> pd.DataFrame:
    """Fail rate of each criterion in each group against the rest of the desk.

    The intervals are widened for the number of group × criterion comparisons (Bonferroni),
    so that a gap "beyond noise" is not one of many comparisons coming out by chance.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    by : str, default "team"
        The grouping (``team``, ``agent_id``, ``channel``, ``source`` ...).
    confidence : float, default 0.95
        Family-wise confidence level.
    min_n : int, default 10
        Fewest scored audits of a group for a verdict.

    Returns
    -------
    pandas.DataFrame
        ``[by], criterion, section, impact, n, fails, fail_rate, low, high, rest_n,
        rest_fails, rest_rate, gap, gap_low, gap_high, beyond_noise`` (``gap`` = group −
        rest, in shares; ``beyond_noise``: the group fails more, its interval above 0).

    Examples
    --------
    >>> card = scorecard([{"criterion": "flow"}])
    >>> a = pd.DataFrame({"audit_id": [f"A{i}" for i in range(80)], "ticket_id": "T", "agent_id": "x",
    ...                   "criterion": "flow", "result": ["fail"] * 15 + ["pass"] * 25 + ["fail"] * 2 + ["pass"] * 38})
    >>> t = pd.DataFrame({"ticket_id": ["T"], "team": ["s"]})
    >>> items = audit_items(a, card).assign(team=["s"] * 40 + ["n"] * 40)
    >>> criterion_gaps(items)[["team", "fail_rate", "beyond_noise"]].values.tolist()
    [['n', 0.05, False], ['s', 0.375, True]]
    """
    scored = items[items["points"].notna()]
    cells = scored.groupby([by, "criterion"], sort=True).agg(n=("failed", "size"), fails=("failed", "sum")).reset_index()
    totals = scored.groupby("criterion").agg(total_n=("failed", "size"), total_fails=("failed", "sum"))
    cells = cells.join(totals, on="criterion")
    cells["rest_n"] = cells["total_n"] - cells["n"]
    cells["rest_fails"] = cells["total_fails"] - cells["fails"]
    level = _adjusted(confidence, len(cells))
    cells["fail_rate"] = cells["fails"] / cells["n"]
    cells["low"], cells["high"] = wilson_interval(cells["fails"], cells["n"], confidence)
    cells["rest_rate"] = cells["rest_fails"] / cells["rest_n"].where(cells["rest_n"] > 0)
    gap, lo, hi = difference_of_proportions(cells["fails"], cells["n"], cells["rest_fails"], cells["rest_n"], level)
    cells["gap"], cells["gap_low"], cells["gap_high"] = gap, lo, hi
    cells["beyond_noise"] = (cells["gap_low"] > 0) & (cells["n"] >= min_n)
    meta = scored.drop_duplicates("criterion").set_index("criterion")[["section", "impact"]]
    cells = cells.join(meta, on="criterion")
    cols = [by, "criterion", "section", "impact", "n", "fails", "fail_rate", "low", "high", "rest_n",
            "rest_fails", "rest_rate", "gap", "gap_low", "gap_high", "beyond_noise"]
    return cells[cols].astype({"n": "int64", "fails": "int64", "rest_n": "int64", "rest_fails": "int64"})


# -------------------------------------------------------------- planned vs served vs received
def _share_rows(frame: pd.DataFrame, by: str, flag: str, level: str, measure: str,
                target: float | None) -> list[dict]:
    """Rows of a share measure per group: hits / n of the group and of the rest of the desk."""
    data = frame[[by, flag]].dropna()
    if not len(data):
        return []
    counts = data.groupby(by, sort=True, observed=True)[flag].agg(["sum", "size"])  # one pass, any number of groups
    return _count_rows(counts.index, counts["sum"], counts["size"], by, level, measure, target)


def _count_rows(groups: Iterable, hits: Iterable, n: Iterable, by: str, level: str, measure: str,
                target: float | None) -> list[dict]:
    """The rows of :func:`_share_rows` from each group's hits and count (groups in order)."""
    rows = [(key, float(h), int(k)) for key, h, k in zip(groups, hits, n, strict=True) if k > 0]
    hits_all, n_all = sum(r[1] for r in rows), sum(r[2] for r in rows)
    return [{by: key, "level": level, "measure": measure, "n": k, "hits": h, "value": h / k,
             "rest_n": n_all - k, "rest_hits": hits_all - h, "target": math.nan if target is None else float(target)}
            for key, h, k in rows]


def _team_frames(cycle: Any, card: pd.DataFrame | None) -> list[dict]:
    """Every row of :func:`planned_served_received` before the intervals are added."""
    from cxassess.calendar import BusinessCalendar
    from cxassess.kpis.satisfaction import CES_AGREE, TOP_BOX, fill_scale
    from cxassess.kpis.sla import needed_columns, outcome_codes
    from cxassess.process import cycle_table

    config, tickets = cycle.config, cycle.tickets
    targets = config.targets
    rows: list[dict] = []
    if tickets is None or "team" not in tickets.columns:
        return rows
    teams = tickets[["ticket_id", "team"]].dropna().drop_duplicates("ticket_id")
    # served: SLA attainment (achieved / achieved + breached, over every policy)
    if config.sla and "created_at" in tickets.columns:
        calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
        usable = [p for p in config.sla if not (p.clock == "business" and calendar is None)
                  and set(needed_columns(p)) <= set(tickets.columns)]
        if usable:  # achieved and breached tickets counted per team over every policy: codes, no table per policy
            team, names = pd.factorize(tickets["team"], sort=True)  # missing team: -1, left out
            achieved = np.zeros(len(names), dtype=np.int64)
            decided = np.zeros(len(names), dtype=np.int64)
            for codes in outcome_codes(tickets, usable, censor_at=cycle.end, calendar=calendar):
                judged = (team >= 0) & ((codes == 0) | (codes == 1))
                achieved += np.bincount(team[judged], weights=codes[judged] == 0, minlength=len(names)).astype(np.int64)
                decided += np.bincount(team[judged], minlength=len(names))
            rows += _count_rows(names, achieved, decided, "team", "served", "SLA attainment", targets.get("sla"))
    # served: the designed flow followed (event log)
    process = config.process
    if "events" in cycle.tables and process is not None and process.transitions:  # asked without reading the log
        conf = cycle_table(cycle, "conformance").merge(teams, on="ticket_id", how="inner")
        rows += _share_rows(conf, "team", "conforms", "served", "designed flow followed (event log)", None)
    # served: QA audits
    if cycle.audits is not None and card is not None and len(cycle.audits):
        items = audit_items(cycle.audits, card, tickets)
        for criterion in card["criterion"]:
            scored = items[(items["criterion"] == criterion) & items["points"].notna()].copy()
            scored["passed"] = scored["points"] == 1.0
            rows += _share_rows(scored, "team", "passed", "served", f"QA: {criterion} passed", None)
    # received: CSAT and CES of the tickets the team handled
    surveys = cycle.surveys
    if surveys is not None and "score" in surveys.columns:
        answered = surveys[surveys["score"].notna()].merge(teams, on="ticket_id", how="inner")
        for kind, cut, measure, kpi in (("csat", TOP_BOX, "CSAT (top-box share)", "csat"),
                                        ("ces", CES_AGREE, "CES: agree it was easy", "ces_agree")):
            part = answered[answered["kind"] == kind] if "kind" in answered.columns else (
                answered if kind == "csat" else answered.iloc[:0])
            part = fill_scale(part, config.survey_scales.get(kind))
            if not len(part) or "scale" not in part.columns:
                continue
            lowest = part["scale"].map(cut)
            part = part.assign(good=(part["score"] >= lowest).where(lowest.notna()))
            rows += _share_rows(part, "team", "good", "received", measure, targets.get(kpi))
    return rows


def planned_served_received(cycle: Any, *, card: pd.DataFrame | None = None, confidence: float = 0.95,
                            min_n: int | None = None) -> pd.DataFrame:
    """Planned vs served vs received quality per team: the gap table.

    *Planned* is review.yml: the targets (``sla``, ``csat``, ``ces_agree``) and the designed
    flow (``process: transitions``). *Served* is what the team delivered: SLA attainment
    (achieved ÷ achieved + breached over every policy: a ticket covered by two policies counts
    twice, so its interval is a little narrow),
    the share of its tickets following the designed flow in the event log, and the pass rate
    of each QA criterion. *Received* is what its customers said: CSAT (top-box share) and CES
    (agree it was easy) of the tickets it handled. Each figure has its Wilson interval, its
    status against the target, and its gap to the rest of the desk with an interval widened
    for the number of rows (Bonferroni); ``below_rest`` marks a team worse than the rest
    beyond noise.

    Parameters
    ----------
    cycle : Cycle
        The cycle (tickets with ``team``; events, audits and surveys where present).
    card : pandas.DataFrame, optional
        :func:`scorecard`; default the cycle's review.yml.
    confidence : float, default 0.95
        Family-wise confidence level.
    min_n : int, optional
        Fewest tickets / audits / answers for a verdict; default review.yml ``min_n`` (QA rows: a third of it).

    Returns
    -------
    pandas.DataFrame
        ``team, level, measure, n, value, low, high, target, status, rest_value, gap,
        gap_low, gap_high, below_rest``.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> table = planned_served_received(load_cycle("data/sample", "2026Q3"))
    >>> sorted(table["level"].unique())
    ['received', 'served']
    """
    if card is None:
        card = scorecard(cycle.config, cycle.audits)
    rows = _team_frames(cycle, card)
    cols = ["team", "level", "measure", "n", "value", "low", "high", "target", "status", "rest_value", "gap",
            "gap_low", "gap_high", "below_rest"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    least = int(min_n if min_n is not None else cycle.config.min_n)
    out["low"], out["high"] = wilson_interval(out["hits"], out["n"], confidence)
    out["status"] = target_status(out["low"], out["high"], out["target"], higher_is_better=True)
    out["rest_value"] = out["rest_hits"] / out["rest_n"].where(out["rest_n"] > 0)
    level = _adjusted(confidence, len(out))
    gap, lo, hi = difference_of_proportions(out["hits"], out["n"], out["rest_hits"], out["rest_n"], level)
    out["gap"], out["gap_low"], out["gap_high"] = gap, lo, hi
    needed = np.where(out["measure"].str.startswith("QA: "), max(least // 3, 1), least)
    out["below_rest"] = (out["gap_high"] < 0) & (out["n"] >= needed) & (out["rest_n"] >= needed)
    return out[cols].astype({"n": "int64"})


def team_gaps_needs(cycle: Any, gaps: pd.DataFrame) -> str | None:
    """Why :func:`planned_served_received` has no row, naming the inputs actually missing, or
    ``None`` when it has rows.

    Without a team on the tickets that is the team; with it, each measure's own input: SLA
    attainment needs review.yml ``sla`` and the policies' ticket columns (and working hours for
    a policy on the business clock), the designed flow needs ``events`` and review.yml
    ``process: transitions``, the QA pass rates ``audits`` with a ``result``, CSAT and CES
    the surveys' answers.

    Parameters
    ----------
    cycle : Cycle
        The cycle.
    gaps : pandas.DataFrame
        :func:`planned_served_received` of the cycle.

    Returns
    -------
    str or None
        The page's ``not available: needs ...`` sentence.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(tables={"tickets": pd.DataFrame({"ticket_id": ["A"]})}, config=None, derived=())
    >>> team_gaps_needs(c, pd.DataFrame())
    'not available: needs `tickets.team` (no such column)'
    """
    from cxassess.kpis.sla import needed_columns
    from cxassess.registry import KPIS, Need, gap, missing

    if len(gaps):
        return None
    team = gap(cycle, [Need("tickets"), Need("tickets", "team")])
    if team is not None:
        return team
    policies = list(cycle.config.sla) if cycle.config.sla else []
    sla: list[str] = [] if policies else missing(cycle, [Need("review.yml", "sla")])
    for policy in policies:  # the inputs every policy lacks (one policy with all it needs gives rows)
        needs = [Need("tickets", c) for c in needed_columns(policy)]
        if policy.clock == "business":
            needs.append(Need("review.yml", "calendar.working_hours"))
        lacking = missing(cycle, needs)
        if not lacking:
            sla = []
            break
        sla += [x for x in lacking if x not in sla]
    measures = {"SLA attainment": sla,
                "the designed flow": missing(cycle, [Need("events"), Need("review.yml", "process.transitions")]),
                "the QA pass rates": missing(cycle, [Need("audits"), Need("audits", "result")]),
                "CSAT and CES": missing(cycle, KPIS["csat"].needs)}
    parts = [f"for {name}, {', '.join(lacking)}" for name, lacking in measures.items() if lacking]
    if not parts:
        return ("not available: no ticket with a team has an SLA outcome, an event, an audit or a survey answer "
                "in this cycle")
    return "not available: needs the input of at least one measure: " + "; ".join(parts)


def stage_gaps_needs(cycle: Any, stages: pd.DataFrame) -> str | None:
    """Why :func:`stage_gaps` has no row, naming what is missing (``events``, review.yml
    ``process``), or ``None`` when it has rows.

    Parameters
    ----------
    cycle : Cycle
        The cycle.
    stages : pandas.DataFrame
        :func:`stage_gaps` of the cycle.

    Returns
    -------
    str or None
        The page's ``not available: needs ...`` sentence.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(tables={"events": pd.DataFrame({"ticket_id": ["A"]})}, config=None)
    >>> stage_gaps_needs(c, pd.DataFrame())
    'not available: needs `review.yml process`'
    """
    from cxassess.registry import Need, gap

    if len(stages):
        return None
    return gap(cycle, [Need("events"), Need("review.yml", "process")]) or "not available: no stage in the event log"


def stage_gaps(cycle: Any, before: Any = None, *, confidence: float = 0.95) -> pd.DataFrame:
    """Planned vs served vs received per stage of the process.

    *Planned*: the stage's time target (review.yml ``target_hours``) and the moves the designed
    flow allows. *Served*: the share of tickets within the time target, and the share of
    moves out of the stage the designed flow allows. *Received*: CSAT of tickets that went
    through the stage minus those that did not. Each with its interval; the change of the
    within-target share against ``before`` with its interval and verdict.

    The share of moves as designed is missing (NaN), never 0 or 100 %, for a stage no ticket
    left (``moves_out`` 0) and for every stage when review.yml lists no ``process:
    transitions``; :func:`moves_needs` says why.

    Parameters
    ----------
    cycle : Cycle
        The cycle (events; surveys for the CSAT effect).
    before : Cycle, optional
        The previous cycle.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``stage, label, tickets, target_hours, within_target, within_low, within_high,
        previous_within, change, change_low, change_high, verdict, moves_out, allowed_share,
        allowed_low, allowed_high, csat_effect, effect_low, effect_high``.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> t = stage_gaps(load_cycle("data/sample", "2026Q3"))
    >>> t.loc[t["stage"] == "specialist", "target_hours"].item()
    24.0
    """
    from cxassess.process import cycle_table

    process = cycle.config.process
    cols = ["stage", "label", "tickets", "target_hours", "within_target", "within_low", "within_high",
            "previous_within", "change", "change_low", "change_high", "verdict", "moves_out", "allowed_share",
            "allowed_low", "allowed_high", "csat_effect", "effect_low", "effect_high"]
    if cycle.missing("events") or process is None:  # asked without reading the log
        return pd.DataFrame(columns=cols)
    old = None  # first: a previous event log read for this is let go at once, one log in memory at a time
    if before is not None and not before.missing("events"):
        old = cycle_table(before, "stage_metrics").set_index("stage")
    table = cycle_table(cycle, "stage_assessment").copy()  # the process page's, when it ran before
    targets = {s.name: s.target_hours for s in process.stages}
    table["target_hours"] = table["stage"].map(targets).astype(float)
    table["within_target"] = 1 - table["over_target"]
    hits = (table["within_target"] * table["tickets"]).round()
    table["within_low"], table["within_high"] = wilson_interval(hits, table["tickets"], confidence)
    flow = cycle_table(cycle, "stage_flow")
    out_moves = pd.DataFrame({"moves_out": flow.groupby("source")["moves"].sum(),
                              "allowed": flow["moves"].where(flow["allowed"], 0).groupby(flow["source"]).sum()})
    table = table.join(out_moves, on="stage")
    table["moves_out"] = table["moves_out"].fillna(0).astype("int64")
    table["allowed_share"] = table["allowed"] / table["moves_out"].where(table["moves_out"] > 0)
    table["allowed_low"], table["allowed_high"] = wilson_interval(table["allowed"].fillna(0), table["moves_out"],
                                                                  confidence)
    if not process.transitions:  # no designed flow: every move would count as designed (100 %), unknown instead
        table[["allowed_share", "allowed_low", "allowed_high"]] = math.nan
    table["previous_within"], table["change"], table["change_low"], table["change_high"] = (math.nan,) * 4
    if old is not None:
        prev_share = table["stage"].map(1 - old["over_target"])
        prev_n = table["stage"].map(old["entering"])
        table["previous_within"] = prev_share
        d, lo, hi = difference_of_proportions(hits, table["tickets"], (prev_share * prev_n).round(), prev_n, confidence)
        table["change"], table["change_low"], table["change_high"] = d, lo, hi
    table["verdict"] = verdict(table["change_low"], table["change_high"], higher_is_better=True)
    table.loc[table["target_hours"].isna(), "verdict"] = "no target"
    return table[cols].reset_index(drop=True)


def moves_needs(cycle: Any, stages: pd.DataFrame) -> str | None:
    """Why the "moves out as designed" column of :func:`stage_gaps` is empty, as the page says
    it, or ``None`` when it has figures.

    Parameters
    ----------
    cycle : Cycle
        The cycle (its review.yml process).
    stages : pandas.DataFrame
        :func:`stage_gaps` of the cycle.

    Returns
    -------
    str or None
        ``not available: needs ...``: review.yml ``process: transitions`` (the designed flow),
        or an event log in which tickets move between stages.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> no_flow = SimpleNamespace(config=SimpleNamespace(process=None))
    >>> moves_needs(no_flow, pd.DataFrame({"moves_out": [3]}))
    'not available: needs `review.yml process.transitions`'
    """
    from cxassess.registry import Need, gap

    designed = gap(cycle, [Need("review.yml", "process.transitions")])
    if designed is not None:
        return designed
    if len(stages) and not (stages["moves_out"] > 0).any():
        return ("not available: needs an event log in which tickets move from one stage to another (no ticket of "
                "this cycle leaves the stage it entered)")
    return None


# ------------------------------------------------------------------------------ calibration
def calibration_items(audits: pd.DataFrame, card: pd.DataFrame, tickets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The calibration results: several auditors scoring the same tickets.

    Rows with a ``session`` are calibration rows; without a ``session`` column, the tickets
    scored by two or more auditors are taken as calibrated.

    Parameters
    ----------
    audits : pandas.DataFrame
        The audits table.
    card : pandas.DataFrame
        :func:`scorecard`.
    tickets : pandas.DataFrame, optional
        For team and channel.

    Returns
    -------
    pandas.DataFrame
        :func:`audit_items` rows of the calibration, with ``session``.

    Examples
    --------
    >>> a = pd.DataFrame({"audit_id": ["A", "B", "C"], "ticket_id": ["T", "T", "U"], "agent_id": "x",
    ...                   "auditor_id": ["ann", "ben", "ann"], "criterion": "c", "result": "pass"})
    >>> calibration_items(a, scorecard([{"criterion": "c"}]))["audit_id"].tolist()
    ['A', 'B']
    """
    if "session" in audits.columns and _is_calibration(audits).any():
        return audit_items(audits, card, tickets, calibration=True)
    if "auditor_id" not in audits.columns:
        return audit_items(audits.iloc[:0], card, tickets)
    raters = audits.groupby("ticket_id")["auditor_id"].nunique()
    shared = audits[audits["ticket_id"].isin(raters[raters >= 2].index)].assign(session="shared tickets")
    return audit_items(shared.assign(session=np.nan), card, tickets).assign(session="shared tickets")


def _matrix(cal: pd.DataFrame) -> tuple[np.ndarray, list[str], pd.DataFrame]:
    """Raters × units of pass (1) / fail (0), missing ``nan``; units are ticket × criterion."""
    scored = cal[cal["result"].isin(["pass", "fail"])]
    wide = scored.pivot_table(index=["ticket_id", "criterion"], columns="auditor_id", values="points",
                              aggfunc="first")
    return wide.to_numpy(dtype=float).T, list(wide.columns), wide.index.to_frame(index=False)


def _fleiss(matrix: np.ndarray) -> float:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    complete = matrix[:, ~np.isnan(matrix).any(axis=0)]
    if complete.shape[1] < 2 or complete.shape[0] < 2:
        return math.nan
    counts, _ = aggregate_raters(complete.T.astype(int), n_cat=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(fleiss_kappa(counts, method="fleiss"))


def _alpha(matrix: np.ndarray) -> float:
    import krippendorff

    values = matrix[~np.all(np.isnan(matrix), axis=1)]
    paired = (~np.isnan(values)).sum(axis=0) >= 2
    values = values[:, paired]
    if values.shape[1] < 2 or len(np.unique(values[~np.isnan(values)])) < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=values, level_of_measurement="nominal"))


def agreement(cal: pd.DataFrame, *, boot: int = 500, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Agreement of the auditors, per criterion and overall: Krippendorff's alpha and Fleiss'
    kappa, each with a bootstrap interval (tickets resampled whole).

    Both are 1 for perfect agreement and about 0 for agreement no better than chance; a
    common reading is: at least 0.8 reliable, 0.67-0.8 tentative, below 0.67 calibrate again.
    Not-applicable results are left out (pass / fail only).

    Parameters
    ----------
    cal : pandas.DataFrame
        :func:`calibration_items`.
    boot : int, default 500
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``criterion`` (``all`` for the whole scorecard), ``tickets, auditors, alpha,
        alpha_low, alpha_high, fleiss_kappa, kappa_low, kappa_high``.

    Examples
    --------
    >>> cal = pd.DataFrame({"ticket_id": list("TTUUVVWW"), "criterion": "c", "auditor_id": ["a", "b"] * 4,
    ...                     "result": ["pass", "pass", "fail", "fail", "pass", "fail", "pass", "pass"]})
    >>> cal["points"] = (cal["result"] == "pass").astype(float)
    >>> round(float(agreement(cal, boot=50)["alpha"].iloc[0]), 3)  # Fleiss' kappa 0.5; alpha corrects for few items
    0.533
    """
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2
    rows = []
    for criterion in ["all", *sorted(cal["criterion"].unique())]:
        part = cal if criterion == "all" else cal[cal["criterion"] == criterion]
        matrix, raters, units = _matrix(part)
        if matrix.size == 0:
            continue
        tickets = units["ticket_id"].to_numpy()
        names, codes = np.unique(tickets, return_inverse=True)
        by_ticket = [np.flatnonzero(codes == i) for i in range(len(names))]
        alphas, kappas = [], []
        for _ in range(boot):
            pick = np.concatenate([by_ticket[i] for i in rng.integers(0, len(names), len(names))])
            alphas.append(_alpha(matrix[:, pick]))
            kappas.append(_fleiss(matrix[:, pick]))
        with np.errstate(invalid="ignore"):
            a_lo, a_hi = (np.nanquantile(alphas, [tail, 1 - tail]) if np.isfinite(alphas).any() else (math.nan,) * 2)
            k_lo, k_hi = (np.nanquantile(kappas, [tail, 1 - tail]) if np.isfinite(kappas).any() else (math.nan,) * 2)
        rows.append({"criterion": criterion, "tickets": len(names), "auditors": len(raters),
                     "alpha": _alpha(matrix), "alpha_low": float(a_lo), "alpha_high": float(a_hi),
                     "fleiss_kappa": _fleiss(matrix), "kappa_low": float(k_lo), "kappa_high": float(k_hi)})
    return pd.DataFrame(rows, columns=["criterion", "tickets", "auditors", "alpha", "alpha_low", "alpha_high",
                                       "fleiss_kappa", "kappa_low", "kappa_high"])


def pairwise_kappa(cal: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Cohen's kappa of every pair of auditors on the items both scored (pass / fail), with
    the asymptotic interval of statsmodels.

    Parameters
    ----------
    cal : pandas.DataFrame
        :func:`calibration_items`.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``auditor, other, items, agree, kappa, low, high``.

    Examples
    --------
    >>> cal = pd.DataFrame({"ticket_id": list("TTUUVVWW"), "criterion": "c", "auditor_id": ["a", "b"] * 4,
    ...                     "result": ["pass", "pass", "fail", "fail", "pass", "fail", "pass", "pass"]})
    >>> cal["points"] = (cal["result"] == "pass").astype(float)
    >>> round(float(pairwise_kappa(cal)["kappa"].iloc[0]), 3)
    0.5
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    matrix, raters, _ = _matrix(cal)
    rows = []
    for i in range(len(raters)):
        for j in range(i + 1, len(raters)):
            both = ~np.isnan(matrix[i]) & ~np.isnan(matrix[j])
            x, y = matrix[i, both].astype(int), matrix[j, both].astype(int)
            table = np.zeros((2, 2))
            np.add.at(table, (x, y), 1)
            kappa = low = high = math.nan
            if both.sum() >= 2 and (table.sum(axis=0) > 0).sum() + (table.sum(axis=1) > 0).sum() > 2:
                with np.errstate(invalid="ignore", divide="ignore"):
                    res = cohens_kappa(table, return_results=True)
                    kappa = float(res.kappa)
                    half = z_value(confidence) * float(res.std_kappa)
                    low, high = kappa - half, kappa + half
            rows.append({"auditor": raters[i], "other": raters[j], "items": int(both.sum()),
                         "agree": float((x == y).mean()) if both.any() else math.nan,
                         "kappa": kappa, "low": low, "high": high})
    return pd.DataFrame(rows, columns=["auditor", "other", "items", "agree", "kappa", "low", "high"])


def auditor_bias(cal: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Each auditor's bias against the others on the same tickets.

    ``bias`` is the auditor's pass rate minus the average pass rate of the other auditors on
    the same items (ticket × criterion, pass / fail only): above 0 the auditor passes what the
    others fail (lenient), below 0 the opposite (strict). Auditors who merely make random
    slips have no bias on average. An auditor found out of line is set apart from the others'
    average, so that one lenient auditor does not make the others look strict. The interval
    is design-based: the items of one ticket form a cluster (linearised ratio estimator, t
    with tickets − 1 degrees of freedom), widened for the number of auditors (Bonferroni);
    ``verdict`` says lenient / strict only beyond noise.

    Parameters
    ----------
    cal : pandas.DataFrame
        :func:`calibration_items`.
    confidence : float, default 0.95
        Family-wise confidence level.

    Returns
    -------
    pandas.DataFrame
        ``auditor, tickets, items, pass_rate, others_rate, bias, low, high, verdict``.

    Examples
    --------
    ``c`` passes the two items the two others fail:

    >>> cal = pd.DataFrame({"ticket_id": ["T"] * 3 + ["U"] * 3, "criterion": "x",
    ...                     "auditor_id": ["a", "b", "c"] * 2, "result": ["fail", "fail", "pass"] * 2})
    >>> cal["points"] = (cal["result"] == "pass").astype(float)
    >>> auditor_bias(cal).set_index("auditor")["bias"].to_dict()
    {'a': -0.5, 'b': -0.5, 'c': 1.0}
    """
    from scipy import stats as st

    matrix, raters, units = _matrix(cal)
    cols = ["auditor", "tickets", "items", "pass_rate", "others_rate", "bias", "low", "high", "verdict"]
    if matrix.size == 0 or len(raters) < 2:
        return pd.DataFrame(columns=cols)
    tickets = units["ticket_id"].to_numpy()
    level = _adjusted(confidence, len(raters))

    def one(i: int, apart: set[int]) -> dict:
        keep = [j for j in range(len(raters)) if j != i and j not in apart]
        others = matrix[keep] if keep else np.delete(matrix, i, axis=0)
        count = (~np.isnan(others)).sum(axis=0)
        with np.errstate(invalid="ignore"):
            mean = np.nansum(others, axis=0) / count
        use = ~np.isnan(matrix[i]) & (count >= 1)
        diff, t = matrix[i, use] - mean[use], tickets[use]
        names, codes = np.unique(t, return_inverse=True)
        k = len(names)
        bias = float(diff.mean()) if use.any() else math.nan
        low = high = math.nan
        if k >= 2:
            sums = np.bincount(codes, weights=diff, minlength=k)
            sizes = np.bincount(codes, minlength=k).astype(float)
            resid = sums - bias * sizes
            se = math.sqrt(k / (k - 1) * float((resid ** 2).sum())) / sizes.sum()
            half = float(st.t.ppf(0.5 + level / 2, k - 1)) * se
            low, high = bias - half, bias + half
        return {"auditor": raters[i], "tickets": k, "items": int(use.sum()),
                "pass_rate": float(matrix[i, use].mean()) if use.any() else math.nan,
                "others_rate": float(mean[use].mean()) if use.any() else math.nan,
                "bias": bias, "low": low, "high": high}

    # An auditor out of line would pull the others' average: set apart the most biased one
    # beyond noise, judge the others against the rest, and repeat while three or more remain.
    apart: set[int] = set()
    while True:
        rows = [one(i, apart) for i in range(len(raters))]
        off = [(abs(r["bias"]), i) for i, r in enumerate(rows)
               if i not in apart and (r["low"] > 0 or r["high"] < 0) and len(raters) - len(apart) > 3]
        if not off:
            break
        apart.add(max(off)[1])
    out = pd.DataFrame(rows, columns=cols[:-1])
    out["verdict"] = np.where(out["low"] > 0, "lenient", np.where(out["high"] < 0, "strict", "within noise"))
    out.loc[out["low"].isna(), "verdict"] = "not enough tickets"
    return out


# ------------------------------------------------------------ sources, label vs process
def sources_compared(items: pd.DataFrame, *, confidence: float = 0.95, min_n: int = 10) -> pd.DataFrame:
    """Fail rate of each criterion per audit source (QA review, mystery shop, recording ...)
    against the other sources, with intervals widened for the number of comparisons.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    confidence : float, default 0.95
        Family-wise confidence level.
    min_n : int, default 10
        Fewest audits of a source for a verdict.

    Returns
    -------
    pandas.DataFrame
        :func:`criterion_gaps` by ``source``, with ``disagrees`` (the source's fail rate is
        above or below the others' beyond noise).

    Examples
    --------
    >>> a = pd.DataFrame({"audit_id": [f"A{i}" for i in range(60)], "ticket_id": "T", "agent_id": "x",
    ...                   "criterion": "c", "result": ["pass"] * 60, "source": ["qa", "recording"] * 30})
    >>> sources_compared(audit_items(a, scorecard([{"criterion": "c"}])))["disagrees"].tolist()
    [False, False]
    """
    out = criterion_gaps(items, "source", confidence=confidence, min_n=min_n)
    out["disagrees"] = ((out["gap_low"] > 0) | (out["gap_high"] < 0)) & (out["n"] >= min_n) & (out["rest_n"] >= min_n)
    return out


def label_vs_process(items: pd.DataFrame, conforms: pd.DataFrame, *, criterion: str = "flow_followed",
                     confidence: float = 0.95) -> dict:
    """The audit's verdict on a flow criterion against the event log's conformance, same tickets.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    conforms : pandas.DataFrame
        ``ticket_id, conforms`` (:func:`cxassess.process.conformance`).
    criterion : str, default "flow_followed"
        The scorecard's criterion about following the designed flow.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    dict
        ``table`` (audit pass / fail × log follows / deviates, counts), ``tickets``,
        ``agree`` (share), ``kappa``, ``low``, ``high`` (Cohen's kappa, statsmodels; ``nan``
        when one of the two never varies: kappa is then undefined).

    Examples
    --------
    >>> a = pd.DataFrame({"audit_id": list("ABCD"), "ticket_id": list("ABCD"), "agent_id": "x",
    ...                   "criterion": "flow_followed", "result": ["pass", "pass", "fail", "fail"]})
    >>> c = pd.DataFrame({"ticket_id": list("ABCD"), "conforms": [True, True, False, True]})
    >>> r = label_vs_process(audit_items(a, scorecard([{"criterion": "flow_followed"}])), c)
    >>> r["tickets"], r["agree"], round(r["kappa"], 2)
    (4, 0.75, 0.5)
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    flow = items[(items["criterion"] == criterion) & items["result"].isin(["pass", "fail"])]
    both = flow[["ticket_id", "result"]].merge(conforms[["ticket_id", "conforms"]], on="ticket_id", how="inner")
    audit = np.where(both["result"] == "pass", "audit: followed", "audit: not followed")
    log = np.where(both["conforms"].astype(bool), "event log: followed", "event log: deviated")
    table = pd.crosstab(pd.Series(audit, name="audit"), pd.Series(log, name="event log")).reindex(
        index=["audit: followed", "audit: not followed"], columns=["event log: followed", "event log: deviated"],
        fill_value=0)
    n = int(table.to_numpy().sum())
    agree = float(np.trace(table.to_numpy()) / n) if n else math.nan
    kappa = low = high = math.nan
    m = table.to_numpy(dtype=float)
    if n >= 2 and (m.sum(axis=0) > 0).all() and (m.sum(axis=1) > 0).all():
        res = cohens_kappa(m, return_results=True)
        kappa = float(res.kappa)
        half = z_value(confidence) * float(res.std_kappa)
        low, high = kappa - half, kappa + half
    return {"table": table, "tickets": n, "agree": agree, "kappa": kappa, "low": low, "high": high}


# ---------------------------------------------------------------- sampling and coaching
def sampling_adequacy(items: pd.DataFrame, *, precision: float = 0.05, confidence: float = 0.95) -> pd.DataFrame:
    """Audits per agent against the number needed for a ±``precision`` interval on their IQS.

    The spread of audit scores is the desk's (an agent's few audits cannot estimate their
    own); needed = ⌈(z · sd / precision)²⌉.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    precision : float, default 0.05
        Wanted half-width of the interval (review.yml ``qa: precision``).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, team, audits, iqs, half_width, needed, missing, enough``, fewest audits first.

    Examples
    --------
    >>> a = pd.DataFrame({"audit_id": list("ABCD"), "ticket_id": list("ABCD"), "agent_id": ["x", "x", "x", "y"],
    ...                   "criterion": "c", "result": ["pass", "fail", "pass", "pass"]})
    >>> t = sampling_adequacy(audit_items(a, scorecard([{"criterion": "c"}])), precision=0.1)
    >>> t[["agent_id", "audits", "needed"]].values.tolist()   # sd 0.5: (1.96 × 0.5 / 0.1)² = 96.04
    [['y', 1, 97], ['x', 3, 97]]
    """
    scores = audit_scores(items)
    sd = float(scores["iqs"].std(ddof=1)) if len(scores) > 1 else math.nan
    z = z_value(confidence)
    needed = int(math.ceil((z * sd / precision) ** 2)) if sd == sd and sd > 0 else 1
    out = scores.groupby("agent_id", sort=True).agg(team=("team", "first"), audits=("audit_id", "size"),
                                                     iqs=("iqs", "mean")).reset_index()
    out["half_width"] = z * sd / np.sqrt(out["audits"])
    out["needed"] = needed
    out["missing"] = (out["needed"] - out["audits"]).clip(lower=0)
    out["enough"] = out["missing"] == 0
    return out.sort_values(["audits", "agent_id"], ignore_index=True)


def next_sample(adequacy: pd.DataFrame, tickets: pd.DataFrame, *, cap: float = 0.5) -> pd.DataFrame:
    """A suggested audit sample for the next cycle, stratified by agent and channel.

    Each agent gets the audits needed for the wanted precision (:func:`sampling_adequacy`),
    at most ``cap`` of their tickets of the cycle, spread over channels in proportion to the
    tickets they handled on each.

    Parameters
    ----------
    adequacy : pandas.DataFrame
        :func:`sampling_adequacy`.
    tickets : pandas.DataFrame
        The cycle's tickets (``agent_id, channel``).
    cap : float, default 0.5
        Largest share of an agent's tickets to audit.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, channel, tickets, suggested``.

    Examples
    --------
    >>> adequacy = pd.DataFrame({"agent_id": ["x"], "needed": [10]})
    >>> t = pd.DataFrame({"agent_id": ["x"] * 40, "channel": ["chat"] * 30 + ["email"] * 10})
    >>> next_sample(adequacy, t)[["channel", "suggested"]].values.tolist()
    [['chat', 8], ['email', 2]]
    """
    if not {"agent_id", "channel"} <= set(tickets.columns):
        return pd.DataFrame(columns=["agent_id", "channel", "tickets", "suggested"])
    counts = tickets.groupby(["agent_id", "channel"], sort=True).size().rename("tickets").reset_index()
    counts = counts.merge(adequacy[["agent_id", "needed"]], on="agent_id", how="inner")
    total = counts.groupby("agent_id")["tickets"].transform("sum")
    want = np.minimum(counts["needed"], np.floor(cap * total))
    counts["suggested"] = np.round(want * counts["tickets"] / total).astype("int64")
    return counts[["agent_id", "channel", "tickets", "suggested"]]


def coaching_list(items: pd.DataFrame, *, confidence: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Per agent, the criteria they fail more often than the rest of their team, beyond noise.

    The intervals are widened for the number of agent × criterion comparisons; the list is
    ranked by the gap times the criterion's weight (high-impact first on ties).

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`audit_items`.
    confidence : float, default 0.95
        Family-wise confidence level.
    min_n : int, default 5
        Fewest audits of an agent on a criterion.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, team, criterion, section, impact, n, fails, fail_rate, team_rate, gap,
        gap_low, gap_high``, most urgent first.

    Examples
    --------
    >>> rows = [("x", "fail")] * 8 + [("x", "pass")] * 2 + [("y", "pass")] * 40
    >>> a = pd.DataFrame({"audit_id": [f"A{i}" for i in range(50)], "ticket_id": "T",
    ...                   "agent_id": [r[0] for r in rows], "criterion": "c", "result": [r[1] for r in rows]})
    >>> coaching_list(audit_items(a, scorecard([{"criterion": "c"}])))[["agent_id", "fails", "n"]].values.tolist()
    [['x', 8, 10]]
    """
    scored = items[items["points"].notna()]
    cells = scored.groupby(["team", "agent_id", "criterion"], sort=True).agg(
        n=("failed", "size"), fails=("failed", "sum")).reset_index()
    team = scored.groupby(["team", "criterion"]).agg(team_n=("failed", "size"), team_fails=("failed", "sum"))
    cells = cells.join(team, on=["team", "criterion"])
    rest_n, rest_fails = cells["team_n"] - cells["n"], cells["team_fails"] - cells["fails"]
    cells["fail_rate"] = cells["fails"] / cells["n"]
    cells["team_rate"] = rest_fails / rest_n.where(rest_n > 0)
    level = _adjusted(confidence, len(cells))
    cells["gap"], cells["gap_low"], cells["gap_high"] = difference_of_proportions(
        cells["fails"], cells["n"], rest_fails, rest_n, level)
    meta = scored.drop_duplicates("criterion").set_index("criterion")[["section", "impact", "weight"]]
    cells = cells.join(meta, on="criterion")
    keep = cells[(cells["gap_low"] > 0) & (cells["n"] >= min_n)].copy()
    keep["priority"] = keep["gap"] * keep["weight"]
    keep = keep.sort_values(["priority", "impact", "agent_id"], ascending=[False, True, True])
    cols = ["agent_id", "team", "criterion", "section", "impact", "n", "fails", "fail_rate", "team_rate", "gap",
            "gap_low", "gap_high"]
    return keep[cols].astype({"n": "int64", "fails": "int64"}).reset_index(drop=True)


def pseudonymise(frame: pd.DataFrame, ids: Iterable[str], column: str = "agent_id") -> pd.DataFrame:
    """``frame`` with the agents of ``column`` shown as ``agent 01``, ``agent 02`` ... (review.yml
    ``qa: pseudonymise_agents``), numbered in the sorted order of ``ids`` so that every table
    of a page names an agent the same way.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with the column.
    ids : iterable of str
        Every agent id of the page (e.g. the audits' ``agent_id``).
    column : str, default "agent_id"
        The column to replace.

    Returns
    -------
    pandas.DataFrame
        A copy with the pseudonyms.

    Examples
    --------
    >>> pseudonymise(pd.DataFrame({"agent_id": ["south-05", "north-01"]}), ["north-01", "south-05"])["agent_id"].tolist()
    ['agent 02', 'agent 01']
    """
    names = sorted({str(i) for i in ids if i is not None and i == i})
    width = max(2, len(str(len(names))))
    mapping = {name: f"agent {i:0{width}d}" for i, name in enumerate(names, start=1)}
    out = frame.copy()
    if column in out.columns:  # one look-up per distinct agent, not per row (tickets and events: millions)
        codes, agents = pd.factorize(out[column], use_na_sentinel=True)
        shown = np.array([mapping.get(str(a), "agent (other)") for a in agents] + [None], dtype=object)
        out[column] = pd.Series(shown[codes], index=out.index, dtype=out[column].dtype
                                if pd.api.types.is_string_dtype(out[column].dtype) else object)
    return out


# ------------------------------------------------------------------------------- findings
def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def findings(cycle: Any, before: Any = None, *, boot: int = 1000, items: pd.DataFrame | None = None,
             desk: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
             stages: pd.DataFrame | None = None) -> list[Finding]:
    """What the quality audits show beyond noise, as findings for the summary page.

    * a team below the rest of the desk on a served or received measure
      (:func:`planned_served_received`; a QA criterion failed more often is a served-quality
      gap: ``kind="served_gap"``, ``figures["source"] == "audits"``);
    * the desk's IQS below its target (whole interval below), or changed against the previous cycle;
    * a stage whose share of tickets within its time target fell (:func:`stage_gaps`);
    * an auditor lenient or strict against the others in calibration (:func:`auditor_bias`);
    * an audit source that disagrees with the others on a criterion (:func:`sources_compared`).

    Parameters
    ----------
    cycle : Cycle
        The reviewed cycle (audits; tickets, events and surveys where present).
    before : Cycle, optional
        The previous cycle.
    boot : int, default 1000
        Bootstrap resamples of the intervals.
    items, desk, gaps, stages : pandas.DataFrame, optional
        The page's own :func:`audit_items`, desk score against the previous cycle
        (:func:`compare_scores` of :func:`quality_scores`), :func:`planned_served_received`
        and :func:`stage_gaps`, so that the findings quote the figures the page shows
        (computed here when not given).

    Returns
    -------
    list of Finding
        Empty when the cycle has no audits and nothing else is beyond noise.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> found = findings(load_cycle("data/sample", "2026Q3"), boot=200)
    >>> any(f.team == "tier1_south" and f.figures.get("criterion") == "flow_followed" for f in found)
    True
    """
    config = cycle.config
    card = scorecard(config, cycle.audits)
    tickets = cycle.tickets
    total = len(tickets) if tickets is not None and len(tickets) else 0
    team_share = (tickets["team"].value_counts(normalize=True).to_dict()
                  if tickets is not None and "team" in tickets.columns else {})
    found: list[Finding] = []
    gaps = planned_served_received(cycle, card=card) if gaps is None else gaps
    for r in gaps[gaps["below_rest"]].itertuples():
        qa = str(r.measure).startswith("QA: ")
        criterion = str(r.measure)[4:].removesuffix(" passed") if qa else None
        impact = card.set_index("criterion")["impact"].get(criterion, "low") if qa else None
        what = (f"{r.team} passes {criterion} in {_pct(r.value)} of its audits against {_pct(r.rest_value)} "
                f"for the rest of the desk" if qa else
                f"{r.measure} of {r.team} is {_pct(r.value)} against {_pct(r.rest_value)} for the rest of the desk")
        found.append(Finding(
            what=what + f" ({r.level} quality)",
            evidence=f"n = {r.n:,}; gap {_pp(r.gap)} (interval {_pp(r.gap_low)} to {_pp(r.gap_high)}, "
                     "widened for the number of comparisons)",
            severity="high" if (qa and impact == "high") or r.level == "received" else "medium",
            reach=float(min(max(team_share.get(r.team, 0.0), 0.0), 1.0)),
            page=PAGE, anchor="planned-served-received",
            kind="served_gap" if r.level == "served" else "received_gap", team=str(r.team),
            kpi="csat" if "CSAT" in str(r.measure) else ("sla" if "SLA" in str(r.measure) else None),
            action=(f"Review {criterion} with {r.team}: listen to the failed audits and retrain on the flow" if qa
                    else f"Find out why {r.team} serves its customers worse here, with its team lead"),
            figures={"measure": str(r.measure), "level": str(r.level), "value": float(r.value),
                     "rest": float(r.rest_value), "gap": float(r.gap), "gap_low": float(r.gap_low),
                     "gap_high": float(r.gap_high), "n": int(r.n), "criterion": criterion,
                     "source": "audits" if qa else "tickets"},
        ))
    if cycle.audits is not None and len(cycle.audits):
        items = audit_items(cycle.audits, card, tickets) if items is None else items
        target = config.settings.qa.target
        if desk is None:
            old = None
            if before is not None and before.audits is not None and len(before.audits):
                old = quality_scores(audit_items(before.audits, scorecard(before.config, before.audits),
                                                 before.tickets), boot=boot)
            desk = compare_scores(quality_scores(items, boot=boot, target=target), old)
        row = desk.iloc[0]
        audits_n = int(row["audits"])
        if target is not None and row["status"] == "missed":
            found.append(Finding(
                f"The internal quality score is {_pct(row['iqs'])} against a target of {_pct(target)}",
                f"n = {audits_n:,} audits; 95 % interval {_pct(row['low'])} to {_pct(row['high'])}",
                "high", 1.0, PAGE, "quality-score", "target_missed", kpi="iqs",
                action="Look at the criteria failed most often and coach on them",
                figures={"iqs": float(row["iqs"]), "low": float(row["low"]), "high": float(row["high"]),
                         "target": float(target), "n": audits_n}))
        if row["verdict"] in ("improved", "worsened"):
            found.append(Finding(
                f"The internal quality score {row['verdict']} from {_pct(row['previous'])} to {_pct(row['iqs'])}",
                f"n = {audits_n:,} audits; change {_pp(row['change'])} (95 % interval {_pp(row['change_low'])} "
                f"to {_pp(row['change_high'])})",
                "medium" if row["verdict"] == "worsened" else "low",  # an improvement: good news, not to act on
                1.0, PAGE, "quality-score", "kpi_change", kpi="iqs",
                action="See which section and criterion moved" if row["verdict"] == "worsened" else "",
                figures={"iqs": float(row["iqs"]), "previous": float(row["previous"]), "change": float(row["change"]),
                         "change_low": float(row["change_low"]), "change_high": float(row["change_high"])}))
        cal = calibration_items(cycle.audits, card, tickets)
        if len(cal):
            bias = auditor_bias(cal)
            for r in bias[bias["verdict"].isin(["lenient", "strict"])].itertuples():
                found.append(Finding(
                    f"Auditor {r.auditor} is {r.verdict}: passes {_pct(r.pass_rate)} of calibration items where "
                    f"the other auditors pass {_pct(r.others_rate)}",
                    f"{r.items} items on {r.tickets} tickets; bias {_pp(r.bias)} (interval {_pp(r.low)} to "
                    f"{_pp(r.high)}, widened for the number of auditors)",
                    "medium", 1.0 if not total else min(1.0, float(len(items["audit_id"].unique())) / total),
                    PAGE, "calibration", "calibration",
                    action=f"Calibrate {r.auditor} again on the scorecard's definitions before more solo audits",
                    figures={"auditor": str(r.auditor), "bias": float(r.bias), "low": float(r.low),
                             "high": float(r.high), "items": int(r.items)}))
        sources = sources_compared(items)
        for r in sources[sources["disagrees"]].itertuples():
            found.append(Finding(
                f"Audits from {r.source} fail {r.criterion} in {_pct(r.fail_rate)} of cases against "
                f"{_pct(r.rest_rate)} in the other sources",
                f"n = {r.n:,}; gap {_pp(r.gap)} (interval {_pp(r.gap_low)} to {_pp(r.gap_high)})",
                "low", float(r.n) / max(len(items["audit_id"].unique()), 1), PAGE, "sources", "audit_sources",
                action="Check whether the sources judge the criterion the same way",
                figures={"source": str(r.source), "criterion": str(r.criterion), "gap": float(r.gap)}))
    stages = stage_gaps(cycle, before) if stages is None else stages
    for r in stages[stages["verdict"] == "worsened"].itertuples():
        found.append(Finding(
            f"{r.label}: {_pct(r.within_target)} of tickets stay within the stage's time target of "
            f"{r.target_hours:g} h, against {_pct(r.previous_within)} the cycle before",
            f"n = {r.tickets:,} tickets; change {_pp(r.change)} (95 % interval {_pp(r.change_low)} to "
            f"{_pp(r.change_high)})",
            "medium", float(r.tickets) / total if total else 0.0, PAGE, "stages", "served_gap", stage=str(r.label),
            action="Plan the stage's capacity against its time target",
            figures={"stage": str(r.stage), "within_target": float(r.within_target), "change": float(r.change),
                     "source": "events"}))
    return found


# ------------------------------------------------------------------------------ the page
def page_needs(cycle: Any) -> str | None:
    """The page's "not available: needs ..." sentence when the cycle has no usable audits, else ``None``.

    Parameters
    ----------
    cycle : Cycle
        The cycle.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> page_needs(SimpleNamespace(tables={}, config=None, derived=()))
    'not available: needs `audits` (no such table in this cycle). Put an audits file (audits.csv or .parquet) in the cycle folder: one row per audit and criterion with audit_id, ticket_id, agent_id, criterion and result (pass, fail or na), and list the criteria under qa_scorecard in review.yml.'
    """
    from cxassess.registry import Need, gap

    missing = gap(cycle, [Need("audits"), Need("audits", "result")])
    if missing is None:
        return None
    return (missing + ". Put an audits file (audits.csv or .parquet) in the cycle folder: one row per audit and "
            "criterion with audit_id, ticket_id, agent_id, criterion and result (pass, fail or na), and list the "
            "criteria under qa_scorecard in review.yml.")


def for_page(cycle: Any) -> Any:
    """The cycle as the page shows it: agents pseudonymised in audits, tickets and events when
    review.yml ``qa: pseudonymise_agents`` is true (the same pseudonym in every table).

    Parameters
    ----------
    cycle : Cycle or None
        The cycle.

    Returns
    -------
    Cycle or None
        The cycle, with pseudonyms where asked.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> for_page(q3) is q3   # the sample shows agent ids
    True
    """
    if cycle is None or not cycle.config.settings.qa.pseudonymise_agents:
        return cycle
    ids: set[str] = set()
    for table in ("audits", "tickets", "events"):
        frame = cycle.tables.get(table) if table in cycle.tables else None
        if frame is not None and "agent_id" in frame.columns:
            ids |= {str(a) for a in frame["agent_id"].dropna().unique()}  # per agent, not per row
    changed = {t: pseudonymise(cycle.tables[t], ids) for t in ("audits", "tickets", "events")
               if t in cycle.tables and cycle.tables[t] is not None and "agent_id" in cycle.tables[t].columns}
    return cycle.with_tables(**changed)


def label_sentence(result: dict) -> str:
    """One sentence on :func:`label_vs_process`: agreement, kappa and what it means.

    Parameters
    ----------
    result : dict
        :func:`label_vs_process`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(label_sentence({"tickets": 95, "agree": 0.82, "kappa": float("nan"), "low": float("nan"),
    ...                 "high": float("nan"), "table": pd.DataFrame([[78, 0], [17, 0]])}))
    On 95 audited tickets the audit and the event log agree on 82 % of them. Cohen's kappa cannot be computed: the event log shows every one of these tickets following the designed flow, while the auditors failed the flow on 17: they judge steps the stage-level log does not show.
    """
    n = int(result["tickets"])
    if not n:
        return "No audited ticket has both a flow verdict and events."
    text = f"On {n:,} audited tickets the audit and the event log agree on {_pct(result['agree'])} of them."
    if result["kappa"] == result["kappa"]:
        return text + (f" Cohen's kappa is {result['kappa']:.2f} (95 % interval {result['low']:.2f} to "
                       f"{result['high']:.2f}): 1 is full agreement, 0 no more than chance.")
    table = result["table"].to_numpy()
    if table[:, 1].sum() == 0:
        return text + (" Cohen's kappa cannot be computed: the event log shows every one of these tickets following "
                       f"the designed flow, while the auditors failed the flow on {int(table[1].sum()):,}: they judge "
                       "steps the stage-level log does not show.")
    return text + " Cohen's kappa cannot be computed: one of the two verdicts never varies."


def sampling_sentence(adequacy: pd.DataFrame, precision: float) -> str:
    """One sentence on :func:`sampling_adequacy`.

    Parameters
    ----------
    adequacy : pandas.DataFrame
        :func:`sampling_adequacy`.
    precision : float
        The wanted half-width.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"agent_id": ["a", "b"], "audits": [3, 20], "needed": [17, 17], "enough": [False, True]})
    >>> sampling_sentence(t, 0.1)
    'An agent needs 17 audits for a quality score within ±10 points (95 % interval); 1 of 2 agents have fewer.'
    """
    if not len(adequacy):
        return "No agent has an audit in this cycle."
    needed = int(adequacy["needed"].iloc[0])
    short = int((~adequacy["enough"]).sum())
    return (f"An agent needs {needed:,} audits for a quality score within ±{100 * precision:g} points (95 % interval); "
            f"{short:,} of {len(adequacy):,} agents have fewer.")


def findings_table(found: Iterable[Finding]) -> pd.DataFrame:
    """The findings as a table for the page: what, evidence, severity and the next step.

    Parameters
    ----------
    found : iterable of Finding

    Returns
    -------
    pandas.DataFrame
        ``What was found, Evidence, Severity, Next step``.

    Examples
    --------
    >>> f = Finding("a", "n = 10", "low", 0.1, PAGE, action="look")
    >>> findings_table([f]).values.tolist()
    [['a', 'n = 10', 'low', 'look']]
    """
    rows = [(f.what, f.evidence, f.severity, f.action) for f in found]
    return pd.DataFrame(rows, columns=["What was found", "Evidence", "Severity", "Next step"])

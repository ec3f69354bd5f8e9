"""KPI integrity: is a KPI being gamed, and does it track what customers feel.

Goodhart's law for a service desk: once handle time is a target, an agent can cut it by
transferring the customer, closing early (the ticket is reopened or the customer comes
back) or closing without a reply. :func:`segment_changes` measures, per team (or agent)
against the previous cycle, the *speed* KPIs (handle time) and the *quality* KPIs that
such gaming worsens (transfer, reopen, recontact rates, tickets closed without a reply),
each change with its 95 % interval; :func:`gaming_flags` flags a segment only when a speed
KPI improved **and** a quality KPI worsened, both intervals excluding zero.

:func:`kpi_validity` checks each internal KPI against the customers' ratings: at ticket
level (rank correlation of the KPI with the customer's answer) and at team × cycle level
(the same between the KPI and the CSAT of each team in each cycle), each with its 95 %
interval and a verdict: "tracks what customers feel", "no evidence" or "moves against".

Every function takes DataFrames and returns a tidy DataFrame; :func:`findings` turns the
flags into :class:`cxassess.findings.Finding` for the summary page.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from cxassess.errors import InputError
from cxassess.findings import Finding
from cxassess.registry import Need, Section
from cxassess.stats import difference_of_proportions, z_value

__all__ = ["SECTIONS", "INFLATABLE", "SPEED", "QUALITY", "segment_changes", "gaming_flags", "kpi_validity", "correlation_interval",
           "ticket_measures", "team_cycle_table", "sla_met", "checked_history", "cycle_integrity", "cycle_validity", "flag_sentences", "findings", "VALIDITY_VERDICTS", "VALIDITY_KPIS"]

_PAGE = "30_voice_of_customer"
#: The page's sections and what each needs (for :func:`cxassess.plots.gap_note`).
SECTIONS: dict[str, Section] = {s.id: s for s in [
    Section("integrity.gaming", _PAGE, "KPI integrity",
            (Need("tickets", "handle_minutes"), Need("tickets", "team", varies=True), Need("tickets", "transfers"))),
    Section("integrity.validity", _PAGE, "KPI validity", (Need("surveys", "score"), Need("tickets"))),
]}

#: Speed KPIs a desk may game, and their label (lower is "better" for the desk).
SPEED = {"handle_minutes": "handle time (minutes per ticket)"}
#: Resolution KPIs a desk may inflate, the quality measure that betrays it, and their label
#: (a rise of the KPI is "better" for the desk): one-touch resolution inflated by closing
#: without a reply.
INFLATABLE = {"one_touch": ("closed_without_reply", "one-touch resolution")}
#: Quality KPIs gaming worsens, and their label (a rise is worse).
QUALITY = {
    "transferred": "transfer rate",
    "reopened": "reopen rate",
    "recontacted": "recontact rate",
    "closed_without_reply": "closed without an agent reply",
}
#: The verdicts of the KPI validity table.
VALIDITY_VERDICTS = ("tracks what customers feel", "no evidence", "moves against")


def ticket_measures(tickets: pd.DataFrame, *, recontact_days: float = 7, end: pd.Timestamp | None = None
                    ) -> pd.DataFrame:
    """Per ticket, the measures the gaming detector compares (``NaN`` where unknown).

    ``transferred``: at least one transfer; ``reopened``: a resolved ticket reopened;
    ``recontacted``: the same customer opened another ticket within ``recontact_days``
    after this one was resolved (only tickets resolved at least that long before the last
    ticket's creation, or before ``end``, count); ``closed_without_reply``: a resolved
    ticket with no agent reply; ``handle_minutes`` as exported.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The cycle's tickets.
    recontact_days : float, default 7
        Days after the resolution in which a new ticket of the same customer is a recontact.
    end : pandas.Timestamp, optional
        The cycle's end (default: the last ticket's creation).

    Returns
    -------
    pandas.DataFrame
        ``ticket_id`` and one column per measure of :data:`SPEED` and :data:`QUALITY` that
        the tickets allow (a column is left out when its input is absent).

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": ["A", "B", "C"], "customer_id": ["c1", "c1", "c2"],
    ...     "created_at": pd.to_datetime(["2026-07-01", "2026-07-03", "2026-07-20"]),
    ...     "resolved_at": pd.to_datetime(["2026-07-02", "2026-07-04", None]),
    ...     "transfers": [0, 2, 1], "reopens": [0, 1, 0], "agent_replies": [1, 0, 1]})
    >>> m = ticket_measures(t)
    >>> m[["transferred", "reopened", "recontacted", "closed_without_reply"]].values.tolist()
    [[0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0], [1.0, nan, nan, nan]]
    """
    out = pd.DataFrame({"ticket_id": tickets["ticket_id"].to_numpy()})
    resolved = tickets["resolved_at"].notna().to_numpy() if "resolved_at" in tickets else None
    if "handle_minutes" in tickets:
        out["handle_minutes"] = pd.to_numeric(tickets["handle_minutes"], errors="coerce").to_numpy(dtype=float)
    if "transfers" in tickets:
        out["transferred"] = _flag(tickets["transfers"] > 0, tickets["transfers"].notna())
    if resolved is not None and "reopens" in tickets:
        out["reopened"] = _flag(tickets["reopens"] > 0, resolved & tickets["reopens"].notna().to_numpy())
    if resolved is not None and "agent_replies" in tickets:
        out["one_touch"] = _flag(tickets["agent_replies"] <= 1, resolved & tickets["agent_replies"].notna().to_numpy())
        out["closed_without_reply"] = _flag(tickets["agent_replies"] == 0,
                                            resolved & tickets["agent_replies"].notna().to_numpy())
    if resolved is not None and {"customer_id", "created_at"} <= set(tickets.columns):
        out["recontacted"] = _recontacts(tickets, recontact_days, end)
    return out


def _flag(hit: pd.Series, known: pd.Series | np.ndarray) -> np.ndarray:
    """1.0 / 0.0 where known, NaN elsewhere."""
    value = np.asarray(hit.fillna(False), dtype=float)
    return np.where(np.asarray(known, dtype=bool), value, np.nan)


def _recontacts(tickets: pd.DataFrame, days: float, end: pd.Timestamp | None) -> np.ndarray:
    """1.0 when the customer's next ticket was created within ``days`` after this one's
    resolution, 0.0 when not, NaN when unresolved or resolved too late to tell.
    """
    frame = pd.DataFrame({"customer": tickets["customer_id"].to_numpy(), "created": tickets["created_at"].to_numpy(),
                          "resolved": tickets["resolved_at"].to_numpy(), "row": np.arange(len(tickets))})
    frame = frame.sort_values(["customer", "created", "row"], kind="stable")
    nxt = frame.groupby("customer", sort=False)["created"].shift(-1)
    window = pd.Timedelta(days=days)
    last = pd.Timestamp(end) if end is not None else tickets["created_at"].max()
    again = (nxt > frame["resolved"]) & (nxt <= frame["resolved"] + window)
    known = frame["resolved"].notna() & (frame["resolved"] + window <= last)
    value = np.where(known, again.astype(float), np.nan)
    out = np.empty(len(tickets))
    out[frame["row"].to_numpy()] = value
    return out


def _mean_change(now: np.ndarray, before: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Difference of means with Welch's interval (scipy)."""
    if len(now) < 2 or len(before) < 2:
        return np.nan, np.nan, np.nan
    test = st.ttest_ind(now, before, equal_var=False)
    ci = test.confidence_interval(confidence)
    return float(now.mean() - before.mean()), float(ci.low), float(ci.high)


def segment_changes(tickets: pd.DataFrame, previous: pd.DataFrame, *, by: str = "team", min_n: int = 30,
                    recontact_days: float = 7, confidence: float = 0.95) -> pd.DataFrame:
    """Each speed and quality measure per segment, this cycle against the previous one.

    Shares change in points with Newcombe's interval
    (:func:`cxassess.stats.difference_of_proportions`), handle time in minutes with Welch's
    interval. A change is ``worsened`` / ``improved`` only when its interval excludes 0
    (speed: lower is better for the desk; quality: lower is better for the customer);
    segments with fewer than ``min_n`` tickets in either cycle are ``n too small``.

    Parameters
    ----------
    tickets, previous : pandas.DataFrame
        The tickets of this cycle and of the cycle compared with.
    by : str, default "team"
        The segment column (``team``, ``agent_id``).
    min_n : int, default 30
        Fewest tickets (per measure and cycle) for a verdict.
    recontact_days : float, default 7
        See :func:`ticket_measures`.
    confidence : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``segment, measure, label, family (speed/quality), before, now, change, ci_low,
        ci_high, n_before, n_now, verdict``.

    Raises
    ------
    InputError
        ``by`` is not a column of both ticket tables.

    Examples
    --------
    >>> now = pd.DataFrame({"ticket_id": list("abcd"), "team": "t", "transfers": [1, 1, 1, 0],
    ...                     "handle_minutes": [5.0, 6, 5, 6]})
    >>> old = now.assign(transfers=[0, 0, 0, 1], handle_minutes=[10.0, 11, 10, 12])
    >>> c = segment_changes(now, old, min_n=2)
    >>> c[["measure", "before", "now", "verdict"]].values.tolist()
    [['handle_minutes', 10.75, 5.5, 'improved'], ['transferred', 0.25, 0.75, 'within noise']]
    """
    for frame in (tickets, previous):
        if by not in frame.columns:
            raise InputError(f"integrity: the tickets have no column {by!r} to compare segments by",
                             fix="choose a ticket column such as team or agent_id")
    now_m, old_m = ticket_measures(tickets, recontact_days=recontact_days), ticket_measures(
        previous, recontact_days=recontact_days)
    now_m["segment"], old_m["segment"] = tickets[by].to_numpy(), previous[by].to_numpy()
    measures = [m for m in (*SPEED, *INFLATABLE, *QUALITY) if m in now_m.columns and m in old_m.columns]
    rows = []
    segments = sorted(set(now_m["segment"].dropna()) & set(old_m["segment"].dropna()))
    for segment in segments:
        a, b = now_m[now_m["segment"] == segment], old_m[old_m["segment"] == segment]
        for measure in measures:
            x, y = a[measure].dropna().to_numpy(float), b[measure].dropna().to_numpy(float)
            if not len(x) and not len(y):
                continue
            speed = measure in SPEED
            if speed:
                change, low, high = _mean_change(x, y, confidence)
            else:
                d, lo, hi = difference_of_proportions(x.sum(), len(x), y.sum(), len(y), confidence)
                change, low, high = float(d), float(lo), float(hi)
            rise_is_better = measure in INFLATABLE
            if min(len(x), len(y)) < min_n or np.isnan(low):
                word = "n too small"
            elif (high < 0) != rise_is_better and (high < 0 or low > 0):
                word = "improved"
            elif low > 0 or high < 0:
                word = "worsened"
            else:
                word = "within noise"
            labels = {**SPEED, **QUALITY, **{k: v[1] for k, v in INFLATABLE.items()}}
            rows.append({"segment": segment, "measure": measure, "label": labels[measure],
                         "family": "speed" if speed else "resolution" if rise_is_better else "quality",
                         "before": float(y.mean()) if len(y) else np.nan, "now": float(x.mean()) if len(x) else np.nan,
                         "change": change, "ci_low": low, "ci_high": high, "n_before": len(y), "n_now": len(x),
                         "verdict": word})
    columns = ["segment", "measure", "label", "family", "before", "now", "change", "ci_low", "ci_high",
               "n_before", "n_now", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def gaming_flags(changes: pd.DataFrame) -> pd.DataFrame:
    """Segments where a speed KPI improved while a quality KPI worsened, both for real.

    Parameters
    ----------
    changes : pandas.DataFrame
        :func:`segment_changes`.

    Returns
    -------
    pandas.DataFrame
        One row per flagged pair ``segment, speed, speed_before, speed_now, speed_change,
        speed_low, speed_high, quality, quality_before, quality_now, quality_change,
        quality_low, quality_high, n_now, verdict``; empty when nothing is flagged.

    Examples
    --------
    >>> changes = pd.DataFrame({"segment": ["t", "t", "u"], "measure": ["handle_minutes", "transferred",
    ...     "handle_minutes"], "label": ["handle", "transfer", "handle"], "family": ["speed", "quality", "speed"],
    ...     "before": [16.0, 0.18, 16.0], "now": [10.0, 0.4, 10.0], "change": [-6.0, 0.22, -6.0],
    ...     "ci_low": [-7.0, 0.17, -7.0], "ci_high": [-5.0, 0.27, -5.0], "n_before": 900, "n_now": 900,
    ...     "verdict": ["improved", "worsened", "improved"]})
    >>> gaming_flags(changes)[["segment", "speed", "quality"]].values.tolist()
    [['t', 'handle_minutes', 'transferred']]
    """
    columns = ["segment", "speed", "speed_label", "speed_before", "speed_now", "speed_change", "speed_low",
               "speed_high", "quality", "quality_label", "quality_before", "quality_now", "quality_change",
               "quality_low", "quality_high", "n_now", "verdict"]
    rows = []
    for segment, part in changes.groupby("segment", sort=True):
        faster = part[part["family"].isin(["speed", "resolution"]) & (part["verdict"] == "improved")]
        worse = part[(part["family"] == "quality") & (part["verdict"] == "worsened")]
        for _, s in faster.iterrows():
            for _, q in worse.iterrows():
                if s["measure"] in INFLATABLE and q["measure"] != INFLATABLE[s["measure"]][0]:
                    continue  # one-touch is betrayed by closes without a reply, not by transfers
                rows.append({
                    "segment": segment, "speed": s["measure"], "speed_label": s["label"],
                    "speed_before": s["before"], "speed_now": s["now"], "speed_change": s["change"],
                    "speed_low": s["ci_low"], "speed_high": s["ci_high"], "quality": q["measure"],
                    "quality_label": q["label"], "quality_before": q["before"], "quality_now": q["now"],
                    "quality_change": q["change"], "quality_low": q["ci_low"], "quality_high": q["ci_high"],
                    "n_now": int(s["n_now"]),
                    "verdict": f"possible gaming: {s['label']} improved while the {q['label']} worsened",
                })
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------ validity
def correlation_interval(r: float, n: int, confidence: float = 0.95, *, spearman: bool = True
                         ) -> tuple[float, float]:
    """Interval of a correlation by Fisher's z (Spearman: Bonett-Wright variance
    (1 + r²/2)/(n − 3)); ``nan`` when n < 4.

    Parameters
    ----------
    r : float
        The correlation.
    n : int
        Number of pairs.
    confidence : float, default 0.95
        Confidence level.
    spearman : bool, default True
        A rank correlation (Bonett-Wright); ``False``: Pearson (1/(n − 3)).

    Returns
    -------
    tuple of float
        ``(low, high)``.

    Examples
    --------
    >>> [round(v, 4) for v in correlation_interval(0.5, 28, spearman=False)]
    [0.156, 0.7358]
    """
    if n < 4 or not np.isfinite(r):
        return np.nan, np.nan
    r = float(np.clip(r, -0.999999, 0.999999))
    var = (1 + r * r / 2) / (n - 3) if spearman else 1 / (n - 3)
    z = np.arctanh(r)
    half = z_value(confidence) * np.sqrt(var)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _word(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no evidence"
    return VALIDITY_VERDICTS[0] if low > 0 else VALIDITY_VERDICTS[2] if high < 0 else VALIDITY_VERDICTS[1]


#: Internal KPIs of the validity table: (label, higher is better for the customer).
VALIDITY_KPIS = {
    "frt_hours": ("First response time (h)", False),
    "ttr_hours": ("Time to resolution (h)", False),
    "transferred": ("Transferred", False),
    "reopened": ("Reopened", False),
    "fcr": ("First-contact resolution", True),
    "sla_met": ("SLA met", True),
    "handle_minutes": ("Handle time (min)", False),
    "qa_score": ("QA score (share of criteria passed)", True),
}


def _validity_frame(tickets: pd.DataFrame, audits: pd.DataFrame | None, sla_met: pd.Series | None) -> pd.DataFrame:
    """Per ticket, the internal KPIs of :data:`VALIDITY_KPIS` the data allows."""
    out = pd.DataFrame({"ticket_id": tickets["ticket_id"].to_numpy()})
    created = tickets["created_at"] if "created_at" in tickets else None
    if created is not None and "first_response_at" in tickets:
        out["frt_hours"] = ((tickets["first_response_at"] - created).dt.total_seconds() / 3600).to_numpy()
    if created is not None and "resolved_at" in tickets:
        out["ttr_hours"] = ((tickets["resolved_at"] - created).dt.total_seconds() / 3600).to_numpy()
    measures = ticket_measures(tickets)
    for column in ("transferred", "reopened", "handle_minutes"):
        if column in measures:
            out[column] = measures[column].to_numpy()
    if "transferred" in out and "reopened" in out:
        out["fcr"] = np.where(np.isnan(out["reopened"]), np.nan, 1.0 - np.maximum(out["transferred"], out["reopened"]))
    if sla_met is not None:
        out["sla_met"] = out["ticket_id"].map(sla_met.astype(float)).to_numpy()
    if audits is not None and len(audits) and {"ticket_id", "result"} <= set(audits.columns):
        judged = audits[audits["result"].isin(["pass", "fail"])]
        score = (judged["result"] == "pass").groupby(judged["ticket_id"]).mean()
        out["qa_score"] = out["ticket_id"].map(score).to_numpy(dtype=float)
    return out


def kpi_validity(tickets: pd.DataFrame, surveys: pd.DataFrame, *, audits: pd.DataFrame | None = None,
                 sla_met: pd.Series | None = None, teams: pd.DataFrame | None = None, kind: str = "csat",
                 confidence: float = 0.95, min_n: int = 30) -> pd.DataFrame:
    """Whether each internal KPI tracks what customers feel.

    *Ticket level*: Spearman's rank correlation between the KPI of a ticket (signed so that
    a higher value is better for the customer: a shorter time, no transfer ...) and the
    customer's answer to the ``kind`` survey, with its 95 % interval (Fisher's z,
    Bonett-Wright variance). *Team × cycle level*: the same between each team-and-cycle's
    KPI (mean) and its CSAT (share of answers in the top box), from ``teams``. Verdict:
    "tracks what customers feel" (interval above 0), "moves against" (below 0), else
    "no evidence"; fewer than ``min_n`` pairs (4 groups at team level) give "no evidence".

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets (one or more cycles).
    surveys : pandas.DataFrame
        The surveys (answered ones are used).
    audits : pandas.DataFrame, optional
        QA audits, for the QA score.
    sla_met : pandas.Series, optional
        Ticket id → whether the ticket met its SLA (``True``/``False``).
    teams : pandas.DataFrame, optional
        Team × cycle table: ``team, cycle, csat`` and one column per KPI (see
        :func:`team_cycle_table` in the notebook's flow); ``None``: no team level.
    kind : str, default "csat"
        Survey kind of the customer's rating.
    confidence : float, default 0.95
        Confidence level.
    min_n : int, default 30
        Fewest answered tickets for a ticket-level verdict.

    Returns
    -------
    pandas.DataFrame
        ``kpi, label, level (ticket / team × cycle), n, r, ci_low, ci_high, verdict``.

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(40)], "transfers": [i % 2 for i in range(40)]})
    >>> s = pd.DataFrame({"ticket_id": t["ticket_id"], "kind": "csat", "score": [3 if i % 2 else 5 for i in range(40)]})
    >>> kpi_validity(t, s)[["kpi", "n", "r", "verdict"]].values.tolist()
    [['transferred', 40, 1.0, 'tracks what customers feel']]
    """
    per_ticket = _validity_frame(tickets, audits, sla_met)
    answers = surveys[surveys["score"].notna()]
    if "kind" in answers:
        answers = answers[answers["kind"] == kind]
    answers = answers.drop_duplicates("ticket_id")
    joined = per_ticket.merge(answers[["ticket_id", "score"]], on="ticket_id", how="inner")
    rows = []
    for kpi, (label, better_high) in VALIDITY_KPIS.items():
        if kpi not in joined:
            continue
        pair = joined[[kpi, "score"]].dropna()
        sign = 1.0 if better_high else -1.0
        n = len(pair)
        r = float(st.spearmanr(sign * pair[kpi], pair["score"]).statistic) if n >= 4 and pair[kpi].nunique() > 1 else np.nan
        low, high = correlation_interval(r, n, confidence)
        word = _word(low, high) if n >= min_n else "no evidence"
        rows.append({"kpi": kpi, "label": label, "level": "ticket", "n": n, "r": r, "ci_low": low,
                     "ci_high": high, "verdict": word})
        if teams is not None and kpi in teams.columns:
            grp = teams[[kpi, "csat"]].dropna()
            m = len(grp)
            rg = (float(st.spearmanr(sign * grp[kpi], grp["csat"]).statistic)
                  if m >= 4 and grp[kpi].nunique() > 1 and grp["csat"].nunique() > 1 else np.nan)
            lo, hi = correlation_interval(rg, m, confidence)
            rows.append({"kpi": kpi, "label": label, "level": "team × cycle", "n": m, "r": rg, "ci_low": lo,
                         "ci_high": hi, "verdict": _word(lo, hi)})
    return pd.DataFrame(rows, columns=["kpi", "label", "level", "n", "r", "ci_low", "ci_high", "verdict"])


def team_cycle_table(cycles: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]], *, by: str = "team",
                     audits: Sequence[pd.DataFrame | None] | None = None, top: int = 4) -> pd.DataFrame:
    """Per team and cycle: the mean of each internal KPI and the CSAT (top-2-box share of
    5-point answers, 4-5) with its n.

    Parameters
    ----------
    cycles : sequence of (label, tickets, surveys)
        The cycles.
    by : str, default "team"
        The team column of the tickets.
    audits : sequence of DataFrame or None, optional
        The audits of each cycle (same order), for the QA score.
    top : int, default 4
        Lowest score counted as satisfied.

    Returns
    -------
    pandas.DataFrame
        ``team, cycle, n, csat`` and one column per KPI of :data:`VALIDITY_KPIS` present.

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": ["A", "B"], "team": ["x", "x"], "transfers": [0, 1]})
    >>> s = pd.DataFrame({"ticket_id": ["A", "B"], "kind": "csat", "score": [5, 2]})
    >>> team_cycle_table([("2026Q3", t, s)])[["team", "cycle", "n", "csat", "transferred"]].values.tolist()
    [['x', '2026Q3', 2, 0.5, 0.5]]
    """
    frames = []
    for i, (label, tickets, surveys) in enumerate(cycles):
        if by not in tickets:
            continue
        audit = audits[i] if audits is not None else None
        per = _validity_frame(tickets, audit, None)
        per["team"] = tickets[by].to_numpy()
        answers = surveys[surveys["score"].notna()]
        if "kind" in answers:
            answers = answers[answers["kind"] == "csat"]
        sat = (answers.drop_duplicates("ticket_id").set_index("ticket_id")["score"] >= top).astype(float)
        per["satisfied"] = per["ticket_id"].map(sat)
        kpis = [k for k in VALIDITY_KPIS if k in per]
        g = per.groupby("team")
        part = g[kpis].mean()
        part["csat"] = g["satisfied"].mean()
        part["n"] = g["satisfied"].count()
        part["cycle"] = label
        frames.append(part.reset_index())
    if not frames:
        return pd.DataFrame(columns=["team", "cycle", "n", "csat"])
    out = pd.concat(frames, ignore_index=True)
    return out[["team", "cycle", "n", "csat", *[c for c in out.columns if c in VALIDITY_KPIS]]]


def sla_met(cycle: object) -> pd.Series | None:
    """Per ticket, whether it met its service levels (review.yml ``sla``): ``False`` when a
    policy covering it was breached, ``True`` when every one covering it was achieved;
    pending and uncovered tickets are left out. ``None`` without policies.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle.

    Returns
    -------
    pandas.Series or None
        Ticket id → bool.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> met = sla_met(load_cycle("data/sample", "2026Q3"))
    >>> met.dtype, bool(0 < met.mean() < 1)
    (dtype('bool'), True)
    """
    from cxassess.calendar import BusinessCalendar
    from cxassess.kpis.sla import needed_columns, sla_outcome

    config = cycle.config
    if not config.sla or cycle.tickets is None:
        return None
    tickets = cycle.tickets
    calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
    breached = np.zeros(len(tickets), dtype=bool)
    achieved = np.zeros(len(tickets), dtype=bool)
    covered = np.zeros(len(tickets), dtype=bool)
    for policy in config.sla:
        if not set(needed_columns(policy)) <= set(tickets.columns):
            continue
        if policy.clock == "business" and calendar is None:
            continue
        outcome = sla_outcome(tickets, policy, censor_at=cycle.end, calendar=calendar)
        breached |= outcome == "breached"
        achieved |= outcome == "achieved"
        covered |= outcome != None  # noqa: E711 (element-wise)
    decided = breached | (achieved & covered)
    return pd.Series(~breached[decided], index=tickets["ticket_id"].to_numpy()[decided])


def checked_history(dataset: object, upto: str, report_dir: object = None, reuse: Sequence = ()) -> tuple[list, list]:
    """Every cycle of the dataset up to ``upto``, each through the data-quality gate (the
    gates a review run stored are reused): the data of the team × cycle level.

    Parameters
    ----------
    dataset : pathlib.Path or str
        The dataset folder.
    upto : str
        The last cycle.
    report_dir : pathlib.Path or str, optional
        The review run's folder.
    reuse : sequence of Cycle or None
        Cycles already loaded.

    Returns
    -------
    cycles : list of Cycle
        The cycles that passed the gate, oldest first.
    left_out : list of str
        The cycles left out for a critical defect.

    Examples
    --------
    >>> cycles, left_out = checked_history("data/sample", "2026Q2")
    >>> [c.label for c in cycles], left_out
    (['2025Q4', '2026Q1', '2026Q2'], [])
    """
    from cxassess.config import load_config
    from cxassess.cycles import list_cycles
    from cxassess.errors import DataQualityError
    from cxassess.quality import checked_cycle

    root = load_config(dataset).root
    labels = list_cycles(root)
    labels = labels[: labels.index(upto) + 1] if upto in labels else labels
    known = {c.label: c for c in reuse if c is not None}
    out, left_out = [], []
    for label in labels:
        try:
            out.append(known.get(label) or checked_cycle(root, label, report_dir))
        except DataQualityError:
            left_out.append(label)
    return out, left_out


# ------------------------------------------------------------------------------ findings
def findings(flags: pd.DataFrame | None, *, tickets: int, page: str = "30_voice_of_customer",
             level: str = "team", validity: pd.DataFrame | None = None) -> list[Finding]:
    """The gaming flags (and KPIs that move against the customers) as findings.

    Parameters
    ----------
    flags : pandas.DataFrame or None
        :func:`gaming_flags` (``None``: none).
    tickets : int
        Tickets of the cycle (the reach is the flagged segment's share of them).
    page : str, default "30_voice_of_customer"
        The page showing the evidence.
    level : str, default "team"
        What a segment is (``team`` or ``agent``), for the sentence.
    validity : pandas.DataFrame, optional
        :func:`kpi_validity`: a KPI that moves against what customers feel is a finding too.

    Returns
    -------
    list of Finding
        One per flagged segment (its strongest pair) and per KPI moving against.

    Examples
    --------
    >>> flags = pd.DataFrame([{"segment": "t", "speed": "handle_minutes", "speed_label": "handle time",
    ...     "speed_before": 16.0, "speed_now": 9.6, "speed_change": -6.4, "speed_low": -7.0, "speed_high": -5.8,
    ...     "quality": "transferred", "quality_label": "transfer rate", "quality_before": 0.18,
    ...     "quality_now": 0.4, "quality_change": 0.22, "quality_low": 0.18, "quality_high": 0.26,
    ...     "n_now": 1250, "verdict": "possible gaming"}])
    >>> [(f.team, f.kind, f.severity) for f in findings(flags, tickets=2500)]
    [('t', 'gaming', 'high')]
    """
    out: list[Finding] = []
    for segment, part in (flags.groupby("segment", sort=True) if flags is not None else ()):
        best = part.sort_values("quality_change", ascending=False).iloc[0]
        worse = ", ".join(dict.fromkeys(part["quality_label"]))
        inflated = best["speed"] in INFLATABLE
        scale, unit, fmt = (100, " pp", "{:.1%}") if inflated else (1, "", "{:.1f}")
        moved = "rose" if inflated else "fell"
        what = (f"{level.capitalize()} {segment}: {best['speed_label']} {moved} from {fmt.format(best['speed_before'])} "
                f"to {fmt.format(best['speed_now'])} while the {best['quality_label']} rose from "
                f"{best['quality_before']:.1%} to {best['quality_now']:.1%}: the better figure looks bought with "
                f"worse service ({worse}).")
        evidence = (f"n = {int(best['n_now']):,} tickets; {best['speed_label']} {scale * best['speed_change']:+.1f}{unit} "
                    f"(95 % CI {scale * best['speed_low']:+.1f} to {scale * best['speed_high']:+.1f}); "
                    f"{best['quality_label']} "
                    f"{100 * best['quality_change']:+.1f} pp (95 % CI {100 * best['quality_low']:+.1f} to "
                    f"{100 * best['quality_high']:+.1f})")
        out.append(Finding(what, evidence, "high" if level == "team" else "medium", min(1.0, int(best["n_now"]) / max(tickets, 1)), page,
                           anchor="kpi-integrity", kind="gaming", kpi="transfer_rate" if best["quality"] == "transferred"
                           else None, team=str(segment),
                           action=f"Review how {segment} handles tickets (targets, transfers, closing rules) "
                                  "before rewarding the faster handling.",
                           figures={"speed_change": float(best["speed_change"]),
                                    "quality_change": float(best["quality_change"]), "level": level}))
    if validity is not None:
        against = validity[validity["verdict"] == VALIDITY_VERDICTS[2]]
        for _, row in against.iterrows():
            out.append(Finding(
                f"{row['label']} moves against what customers feel ({row['level']} level): improving it "
                "does not make customers happier.",
                f"n = {int(row['n']):,}; rank correlation {row['r']:+.2f} (95 % CI {row['ci_low']:+.2f} to "
                f"{row['ci_high']:+.2f})", "medium", 0.1, page, anchor="kpi-validity", kind="kpi_validity",
                action="Stop steering by this KPI alone; pair it with a customer measure.",
                figures={"r": float(row["r"])}))
    return out


def cycle_integrity(cycle: object, before: object | None, *, min_n: int = 30, recontact_days: float = 7) -> dict:
    """The KPI-integrity section of a cycle against the one before: changes and flags per
    team and per agent.

    Parameters
    ----------
    cycle, before : cxassess.cycles.Cycle
        This cycle and the one compared with (``None``: nothing to compare).
    min_n : int, default 30
        Fewest tickets per segment and cycle for a verdict.
    recontact_days : float, default 7
        See :func:`ticket_measures`.

    Returns
    -------
    dict
        ``teams`` and ``agents`` (:func:`segment_changes`), ``team_flags`` and ``agent_flags``
        (:func:`gaming_flags`); empty tables when there is no previous cycle.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> part = cycle_integrity(load_cycle("data/sample", "2026Q3"), load_cycle("data/sample", "2026Q2"))
    >>> part["team_flags"]["segment"].unique().tolist()
    ['tier1_south']
    """
    empty = segment_changes(pd.DataFrame({"ticket_id": [], "team": []}), pd.DataFrame({"ticket_id": [], "team": []}))
    out = {"teams": empty, "agents": empty}
    if before is not None and before.tickets is not None:
        for key, by in (("teams", "team"), ("agents", "agent_id")):
            if by in cycle.tickets and by in before.tickets:
                out[key] = segment_changes(cycle.tickets, before.tickets, by=by, min_n=min_n,
                                           recontact_days=recontact_days)
    out["team_flags"] = gaming_flags(out["teams"])
    out["agent_flags"] = gaming_flags(out["agents"])
    return out


def cycle_validity(cycle: object, history: Sequence = (), *, min_n: int = 30) -> pd.DataFrame:
    """The KPI validity table of a cycle: ticket level from the cycle, team × cycle level
    from ``history`` (the cycles up to this one, :func:`checked_history`).

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle.
    history : sequence of Cycle
        Cycles for the team × cycle level (fewer than 4 team × cycle points: no verdict).
    min_n : int, default 30
        Fewest answered tickets for a ticket-level verdict.

    Returns
    -------
    pandas.DataFrame
        :func:`kpi_validity`.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> table = cycle_validity(load_cycle("data/sample", "2026Q3"))
    >>> table.set_index("kpi").loc["transferred", "verdict"]
    'tracks what customers feel'
    """
    teams = team_cycle_table([(c.label, c.tickets, c.surveys) for c in history
                              if c.tickets is not None and c.surveys is not None],
                             audits=[c.audits for c in history if c.tickets is not None and c.surveys is not None])
    return kpi_validity(cycle.tickets, cycle.surveys, audits=cycle.audits, sla_met=sla_met(cycle),
                        teams=teams if len(teams) else None, min_n=min_n)


def flag_sentences(integrity: dict) -> list[str]:
    """The verdict of the KPI-integrity section in plain words: each flagged team (and how
    many agents), or that nothing was flagged.

    Parameters
    ----------
    integrity : dict
        :func:`cycle_integrity`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> empty = {"team_flags": pd.DataFrame(columns=["segment"]), "agent_flags": pd.DataFrame(columns=["segment"])}
    >>> flag_sentences(empty)
    ['No team or agent improved a speed measure while a quality measure worsened.']
    """
    out = []
    teams, agents = integrity["team_flags"], integrity["agent_flags"]
    for segment, part in teams.groupby("segment", sort=True):
        r = part.sort_values("quality_change", ascending=False).iloc[0]
        scale, unit = (100, " pp") if r["speed"] in INFLATABLE else (1, "")
        out.append(f"Team {segment}: {r['speed_label']} {scale * r['speed_change']:+.1f}{unit} (95 % CI "
                   f"{scale * r['speed_low']:+.1f} to {scale * r['speed_high']:+.1f}) while the {r['quality_label']} rose by {100 * r['quality_change']:.1f} pp "
                   f"(95 % CI {100 * r['quality_low']:.1f} to {100 * r['quality_high']:.1f}): possible gaming.")
    if len(agents):
        names = sorted(agents["segment"].astype(str).unique())
        out.append(f"{len(names)} agent(s) flagged the same way: {', '.join(names)}.")
    if not out:
        out.append("No team or agent improved a speed measure while a quality measure worsened.")
    return out


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

:func:`deadline_bunching` looks for SLA gaming in what exports have (no status or pause
events needed): per SLA policy of review.yml, on the policy's own clock, whether a team's
(agent's) first replies or resolutions pile up in the window just before the target
against what the neighbouring times predict, with an exact 95 % interval of the excess.

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
from cxassess.io import is_in
from cxassess.registry import Need, Section
from cxassess.stats import difference_of_proportions, welch_difference, z_value

__all__ = ["SECTIONS", "INFLATABLE", "SPEED", "QUALITY", "segment_changes", "gaming_flags", "kpi_validity", "correlation_interval",
           "ticket_measures", "cycle_measures", "team_cycle_table", "sla_met", "checked_history", "cycle_integrity", "cycle_validity", "flag_sentences", "findings", "VALIDITY_VERDICTS", "VALIDITY_KPIS",
           "BUNCHING_WINDOW", "BUNCHING_MIN_RATIO", "BUNCHING_MIN_EXCESS", "BUNCHING_MIN_NEAR", "BUNCHING_VERDICTS",
           "window_counts", "bunching_excess", "policy_hours", "deadline_bunching", "bunching_flags", "duration_words",
           "bunching_sentences", "cycle_deadlines"]

_PAGE = "30_voice_of_customer"
#: The page's sections and what each needs (for :func:`cxassess.plots.gap_note`).
SECTIONS: dict[str, Section] = {s.id: s for s in [
    Section("integrity.gaming", _PAGE, "KPI integrity",
            (Need("tickets", "handle_minutes"), Need("tickets", "team", varies=True), Need("tickets", "transfers"))),
    Section("integrity.validity", _PAGE, "KPI validity", (Need("surveys", "score"), Need("tickets"))),
    Section("integrity.deadlines", _PAGE, "Deadline bunching",
            (Need("review.yml", "sla"), Need("tickets", "created_at"), Need("tickets", "team"))),
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


def cycle_measures(cycle: object, *, recontact_days: float = 7) -> pd.DataFrame:
    """:func:`ticket_measures` of a cycle's tickets, computed once per cycle: the gaming
    detector (:func:`cycle_integrity`) and the validity table (:func:`cycle_validity`)
    share it.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (with tickets).
    recontact_days : float, default 7
        See :func:`ticket_measures`.

    Returns
    -------
    pandas.DataFrame
        :func:`ticket_measures` of ``cycle.tickets``, row for row.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> cycle_measures(q3) is cycle_measures(q3), len(cycle_measures(q3)) == len(q3.tickets)
    (True, True)
    """
    return cycle.once(("ticket_measures", float(recontact_days)),
                      lambda: ticket_measures(cycle.tickets, recontact_days=recontact_days))


def _flag(hit: pd.Series, known: pd.Series | np.ndarray) -> np.ndarray:
    """1.0 / 0.0 where known, NaN elsewhere."""
    value = np.asarray(hit.fillna(False), dtype=float)
    return np.where(np.asarray(known, dtype=bool), value, np.nan)


def _recontacts(tickets: pd.DataFrame, days: float, end: pd.Timestamp | None) -> np.ndarray:
    """1.0 when the customer's next ticket was created within ``days`` after this one's
    resolution, 0.0 when not, NaN when unresolved, resolved too late to tell, or without a
    customer. Sorted once on integer codes: no Python object per ticket.
    """
    from cxassess.calendar import utc_instants

    n = len(tickets)
    customer, _ = pd.factorize(tickets["customer_id"])  # -1: no customer
    created, resolved = utc_instants(tickets["created_at"]), utc_instants(tickets["resolved_at"])
    order = np.lexsort((np.arange(n), created, customer))  # by customer, then creation, then row
    c, t = customer[order], created[order]
    nxt = np.full(n, np.datetime64("NaT"), dtype=created.dtype)
    same = (c[1:] == c[:-1]) & (c[:-1] >= 0)
    nxt[:-1] = np.where(same, t[1:], np.datetime64("NaT"))
    r = resolved[order]
    window = np.timedelta64(round(days * 86_400 * 1_000_000), "us")
    if end is not None:
        last = pd.Timestamp(end)
        last = (last.tz_convert("UTC").tz_localize(None) if last.tz is not None else last).to_datetime64()
    else:
        seen = created[~np.isnat(created)]
        last = seen.max() if len(seen) else np.datetime64("NaT")
    with np.errstate(invalid="ignore"):
        again = (nxt > r) & (nxt <= r + window)
        known = ~np.isnat(r) & (r + window <= last) & (c >= 0)
    out = np.empty(n)
    out[order] = np.where(known, again.astype(float), np.nan)
    return out


def segment_changes(tickets: pd.DataFrame, previous: pd.DataFrame, *, by: str = "team", min_n: int = 30,
                    recontact_days: float = 7, confidence: float = 0.95,
                    measures: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
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
    measures : tuple of two pandas.DataFrame, optional
        The :func:`ticket_measures` of ``tickets`` and ``previous`` (same
        ``recontact_days``), when already computed (:func:`cycle_measures`).

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
    columns = ["segment", "measure", "label", "family", "before", "now", "change", "ci_low", "ci_high",
               "n_before", "n_now", "verdict"]
    now_m, old_m = measures if measures is not None else (
        ticket_measures(tickets, recontact_days=recontact_days), ticket_measures(previous, recontact_days=recontact_days))
    measures = [m for m in (*SPEED, *INFLATABLE, *QUALITY) if m in now_m.columns and m in old_m.columns]
    # per segment and measure: count, mean and variance of the known values (one group-by per cycle)
    now_g = now_m[measures].groupby(tickets[by].to_numpy(), dropna=True)
    old_g = old_m[measures].groupby(previous[by].to_numpy(), dropna=True)
    now_n, old_n = now_g.count(), old_g.count()
    segments = sorted(set(now_n.index) & set(old_n.index))
    if not segments or not measures:
        return pd.DataFrame(columns=columns)
    now_n, old_n = now_n.loc[segments], old_n.loc[segments]
    now_mean, old_mean = now_g.mean().loc[segments], old_g.mean().loc[segments]
    now_var, old_var = now_g.var(ddof=1).loc[segments], old_g.var(ddof=1).loc[segments]
    now_sum, old_sum = now_g.sum().loc[segments], old_g.sum().loc[segments]
    labels = {**SPEED, **QUALITY, **{k: v[1] for k, v in INFLATABLE.items()}}
    parts = []
    for order, measure in enumerate(measures):
        x_n, y_n = now_n[measure].to_numpy(float), old_n[measure].to_numpy(float)
        x_m, y_m = now_mean[measure].to_numpy(float), old_mean[measure].to_numpy(float)
        speed = measure in SPEED
        if speed:
            change, low, high = welch_difference(x_m, now_var[measure].to_numpy(float), x_n,
                                                 y_m, old_var[measure].to_numpy(float), y_n, confidence)
        else:
            change, low, high = difference_of_proportions(now_sum[measure].to_numpy(float), x_n,
                                                          old_sum[measure].to_numpy(float), y_n, confidence)
        rise_is_better = measure in INFLATABLE
        small = (np.minimum(x_n, y_n) < min_n) | np.isnan(low)
        better = (high < 0) != rise_is_better
        verdict = np.select([small, better & ((high < 0) | (low > 0)), (low > 0) | (high < 0)],
                            ["n too small", "improved", "worsened"], "within noise")
        part = pd.DataFrame({"segment": segments, "measure": measure, "label": labels[measure],
                             "family": "speed" if speed else "resolution" if rise_is_better else "quality",
                             "before": y_m, "now": x_m, "change": change, "ci_low": low, "ci_high": high,
                             "n_before": y_n.astype(int), "n_now": x_n.astype(int), "verdict": verdict,
                             "_segment": np.arange(len(segments)), "_measure": order})
        parts.append(part[(x_n > 0) | (y_n > 0)])
    out = pd.concat(parts, ignore_index=True).sort_values(["_segment", "_measure"], kind="stable")
    return out[columns].reset_index(drop=True)


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


def _validity_frame(tickets: pd.DataFrame, audits: pd.DataFrame | None, sla_met: pd.Series | None,
                    measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per ticket, the internal KPIs of :data:`VALIDITY_KPIS` the data allows
    (``measures``: the tickets' :func:`ticket_measures`, computed here when not given).
    """
    out = pd.DataFrame({"ticket_id": tickets["ticket_id"].to_numpy()})
    created = tickets["created_at"] if "created_at" in tickets else None
    if created is not None and "first_response_at" in tickets:
        out["frt_hours"] = ((tickets["first_response_at"] - created).dt.total_seconds() / 3600).to_numpy()
    if created is not None and "resolved_at" in tickets:
        out["ttr_hours"] = ((tickets["resolved_at"] - created).dt.total_seconds() / 3600).to_numpy()
    if measures is None:
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
                 confidence: float = 0.95, min_n: int = 30, measures: pd.DataFrame | None = None) -> pd.DataFrame:
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
    measures : pandas.DataFrame, optional
        The :func:`ticket_measures` of ``tickets`` when already computed (:func:`cycle_measures`).

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
    answers = surveys[surveys["score"].notna()]
    if "kind" in answers:
        answers = answers[answers["kind"] == kind]
    answers = answers.drop_duplicates("ticket_id")
    rated = is_in(tickets["ticket_id"], answers["ticket_id"])  # only the tickets with an answer are paired
    measures = measures if measures is not None else ticket_measures(tickets)
    per_ticket = _validity_frame(tickets[rated], audits, sla_met, measures[rated])
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
                     audits: Sequence[pd.DataFrame | None] | None = None, top: int = 4,
                     measures: Sequence[pd.DataFrame | None] | None = None) -> pd.DataFrame:
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
    measures : sequence of DataFrame or None, optional
        The :func:`ticket_measures` of each cycle's tickets (same order) when already
        computed (:func:`cycle_measures`).

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
        per = _validity_frame(tickets, audit, None, measures[i] if measures is not None else None)
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
    from cxassess.kpis.sla import needed_columns, outcome_codes

    config = cycle.config
    if not config.sla or cycle.tickets is None:
        return None
    tickets = cycle.tickets
    calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
    breached = np.zeros(len(tickets), dtype=bool)
    achieved = np.zeros(len(tickets), dtype=bool)
    covered = np.zeros(len(tickets), dtype=bool)
    usable = [p for p in config.sla if set(needed_columns(p)) <= set(tickets.columns)
              and not (p.clock == "business" and calendar is None)]
    for codes in outcome_codes(tickets, usable, censor_at=cycle.end, calendar=calendar):  # OUTCOMES' positions
        breached |= codes == 1
        achieved |= codes == 0
        covered |= codes >= 0
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


# ------------------------------------------------------------------------------ deadline bunching
#: Width of the windows compared around an SLA target, as a share of the target: 1/16 is
#: 15 minutes of a 4-hour target, 1.5 hours of a 24-hour one.
BUNCHING_WINDOW = 1 / 16
#: A segment is flagged only when the interval of its excess lies above zero **and** the
#: window just before the target holds at least this many times what the neighbouring
#: times predict ...
BUNCHING_MIN_RATIO = 1.5
#: ... and the extra tickets are at least this share of the segment's tickets under the
#: policy (2 points) ...
BUNCHING_MIN_EXCESS = 0.02
#: ... and at least this many of its tickets fall near the target (in the window before it
#: and in the neighbouring windows), besides ``min_n`` tickets under the policy.
BUNCHING_MIN_NEAR = 10
#: The verdicts of the deadline-bunching table: flagged, an excess too small to act on, no
#: excess beyond noise, too few tickets.
BUNCHING_VERDICTS = ("bunched before the target", "real but small", "within noise", "n too small")

_BUNCHING_COLUMNS = ["policy", "metric", "clock", "target_hours", "window_hours", "segment", "n", "before", "after",
                     "neighbours", "expected", "share_before", "expected_share", "ratio", "ratio_low", "ratio_high",
                     "excess", "ci_low", "ci_high", "verdict"]
_END_COLUMN = {"first_response": "first_response_at", "resolution": "resolved_at"}
_DONE = {"first_response": "first replies", "resolution": "resolutions"}


def window_counts(hours: np.ndarray, target: float, width: float) -> tuple[int, int, int]:
    """Tickets just before the target, just after it, and in the neighbouring windows.

    Parameters
    ----------
    hours : numpy.ndarray
        Elapsed hours per ticket (``NaN``: not done, left out).
    target : float
        The target, in hours.
    width : float
        The window width ``w``, in hours.

    Returns
    -------
    tuple of int
        ``before`` in [target − w, target), ``after`` in [target, target + w) and
        ``neighbours`` in [target − 3w, target − w) ∪ [target + w, target + 3w).

    Examples
    --------
    >>> window_counts(np.array([3.5, 3.8, 3.9, 3.95, 4.0, 4.3, 4.6, 9.0, np.nan]), 4.0, 0.25)
    (3, 1, 3)
    """
    x = np.asarray(hours, dtype=float)
    x = x[~np.isnan(x)]
    before = int(((x >= target - width) & (x < target)).sum())
    after = int(((x >= target) & (x < target + width)).sum())
    neighbours = int((((x >= target - 3 * width) & (x < target - width))
                      | ((x >= target + width) & (x < target + 3 * width))).sum())
    return before, after, neighbours


def bunching_excess(before: int, neighbours: int, n: int, confidence: float = 0.95) -> dict:
    """The excess of tickets in the window before a target over what the neighbouring times
    predict, as a share of the segment's ``n`` tickets, with an exact interval.

    A smooth distribution puts in the window [target − w, target) about a quarter of what it
    puts in the four neighbouring windows of the same width ([target − 3w, target − w) and
    [target + w, target + 3w)): exactly so when the density is straight (any slope) across
    them. The *expected* count is ``neighbours / 4``; the excess share is
    ``(before − neighbours / 4) / n``. Given the ``before + neighbours`` tickets near the
    target, ``before`` is binomial with probability π (1/5 without bunching); the
    Clopper-Pearson interval of π (scipy) gives the interval of the excess share,
    ``(before + neighbours) · (5π − 1) / (4n)``, and of the ratio ``4π / (1 − π)``.

    Parameters
    ----------
    before, neighbours : int
        :func:`window_counts`.
    n : int
        The segment's tickets under the policy with a known time.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    dict
        ``expected, share_before, expected_share, ratio, ratio_low, ratio_high, excess,
        ci_low, ci_high`` (``NaN`` where no ticket is near the target).

    Examples
    --------
    >>> e = bunching_excess(before=30, neighbours=40, n=400)
    >>> e["expected"], e["ratio"], e["excess"]  # 10 expected, 3x, 20 extra of 400 tickets
    (10.0, 3.0, 0.05)
    >>> bool(e["ci_low"] > 0)
    True
    """
    near = before + neighbours
    nan = float("nan")
    if near == 0 or n == 0:
        return {"expected": neighbours / 4, "share_before": before / n if n else nan, "expected_share": nan,
                "ratio": nan, "ratio_low": nan, "ratio_high": nan, "excess": nan, "ci_low": nan, "ci_high": nan}
    ci = st.binomtest(before, near, 0.2).proportion_ci(confidence, method="exact")

    def ratio(p: float) -> float:
        return float("inf") if p >= 1 else 4 * p / (1 - p)

    expected = neighbours / 4
    return {"expected": expected, "share_before": before / n, "expected_share": expected / n,
            "ratio": ratio(before / near), "ratio_low": ratio(ci.low), "ratio_high": ratio(ci.high),
            "excess": (before - expected) / n, "ci_low": near * (5 * ci.low - 1) / (4 * n),
            "ci_high": near * (5 * ci.high - 1) / (4 * n)}


def policy_hours(tickets: pd.DataFrame, policy: object, calendar: object | None = None) -> np.ndarray:
    """Elapsed hours of each ticket under an SLA policy, on the policy's clock; ``NaN``
    where the policy does not cover the ticket or the reply (resolution) has not come.

    The package's own clock (:func:`cxassess.calendar.hours_between`) and the coverage of
    :func:`cxassess.kpis.sla.sla_outcome`, so the hours are those the SLA is judged on.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets, with the policy's columns (:func:`cxassess.kpis.sla.needed_columns`).
    policy : cxassess.config.SlaPolicy
        The policy.
    calendar : cxassess.calendar.BusinessCalendar, optional
        The business clock; required for a policy on business hours.

    Returns
    -------
    numpy.ndarray
        Hours per ticket.

    Raises
    ------
    InputError
        As :func:`cxassess.kpis.sla.sla_outcome`: a column is missing, or no calendar for a
        business-hours policy.

    Examples
    --------
    >>> from cxassess.config import SlaPolicy
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01 09:00"] * 3, utc=True),
    ...     "first_response_at": pd.to_datetime(["2026-07-01 12:45", None, "2026-07-01 10:00"], utc=True),
    ...     "channel": ["email", "email", "chat"]})
    >>> policy_hours(t, SlaPolicy("email", "first_response", 4, clock="calendar", channels=("email",))).tolist()
    [3.75, nan, nan]
    """
    from cxassess.calendar import hours_between
    from cxassess.kpis.sla import sla_outcome

    censor = tickets["created_at"].max() if len(tickets) else pd.Timestamp("2000-01-01", tz="UTC")
    covered = sla_outcome(tickets, policy, censor_at=censor, calendar=calendar) != None  # noqa: E711
    clock = calendar if policy.clock == "business" else None
    hours = hours_between(tickets["created_at"], tickets[_END_COLUMN[policy.metric]], clock)
    return np.where(covered, hours, np.nan)


def deadline_bunching(tickets: pd.DataFrame, policies: Sequence, *, calendar: object | None = None,
                      by: str = "team", min_n: int = 30, window: float = BUNCHING_WINDOW,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Whether a segment's first replies (resolutions) pile up just before an SLA target.

    When the target itself is what a team works to, a holding reply or an early close is
    sent just before the breach: the elapsed times bunch in the window just before the
    target and thin out after it. Per policy (on its own clock: business or calendar hours)
    and segment, the tickets in the window [target − w, target) are compared with those
    just after it, [target, target + w), and with what the neighbouring windows predict
    (:func:`bunching_excess`); ``w`` is ``window`` × the target. The verdict is
    "bunched before the target" when the excess's interval lies above zero, the window
    holds at least :data:`BUNCHING_MIN_RATIO` times the prediction and the excess is at
    least :data:`BUNCHING_MIN_EXCESS` of the segment's tickets; "real but small" when only
    the interval is above zero; "within noise" otherwise; "n too small" below ``min_n``
    tickets under the policy or :data:`BUNCHING_MIN_NEAR` near the target. Each segment is
    tested on its own: with many agents, a single flagged agent is a lead to look at.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The cycle's tickets, with the columns of every policy.
    policies : sequence of cxassess.config.SlaPolicy
        The SLA policies (review.yml ``sla``).
    calendar : cxassess.calendar.BusinessCalendar, optional
        The business clock; required for policies on business hours.
    by : str, default "team"
        The segment column (``team``, ``agent_id``).
    min_n : int, default 30
        Fewest tickets of a segment under a policy for a verdict.
    window : float, default :data:`BUNCHING_WINDOW`
        Window width as a share of the target.
    confidence : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``policy, metric, clock, target_hours, window_hours, segment, n, before, after,
        neighbours, expected, share_before, expected_share, ratio, ratio_low, ratio_high,
        excess, ci_low, ci_high, verdict``: one row per policy and segment with tickets under it.

    Raises
    ------
    InputError
        ``by`` is not a ticket column, or as :func:`policy_hours`.

    Examples
    --------
    >>> from cxassess.config import SlaPolicy
    >>> created = pd.Timestamp("2026-07-01 09:00", tz="UTC")
    >>> minutes = [*range(60, 180, 2), *[226] * 20, *range(180, 260, 8), *range(260, 400, 4)]
    >>> t = pd.DataFrame({"created_at": created, "team": "t1", "channel": "email",
    ...     "first_response_at": [created + pd.Timedelta(minutes=m) for m in minutes]})
    >>> policy = SlaPolicy("email reply", "first_response", 4, clock="calendar")
    >>> r = deadline_bunching(t, [policy]).iloc[0]
    >>> int(r["before"]), int(r["neighbours"]), float(r["expected"]), r["verdict"]
    (22, 11, 2.75, 'bunched before the target')
    """
    if by not in tickets.columns:
        raise InputError(f"integrity: the tickets have no column {by!r} to compare segments by",
                         fix="choose a ticket column such as team or agent_id")
    rows = []
    segments = tickets[by].to_numpy()
    named = tickets[by].notna().to_numpy()
    for policy in policies:
        hours = policy_hours(tickets, policy, calendar)
        width = window * policy.hours
        known = ~np.isnan(hours) & named
        # each segment's tickets found by one sort of its codes, not one scan of every
        # ticket per segment (hundreds of agents)
        codes, names = pd.factorize(segments[known])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        timed = hours[known]
        for k in sorted(range(len(names)), key=lambda k: str(names[k])):
            segment, x = names[k], timed[order[bounds[k]:bounds[k + 1]]]
            before, after, neighbours = window_counts(x, policy.hours, width)
            n = len(x)
            excess = bunching_excess(before, neighbours, n, confidence)
            if n < min_n or before + neighbours < BUNCHING_MIN_NEAR:
                word = BUNCHING_VERDICTS[3]
            elif excess["ci_low"] > 0:
                material = excess["ratio"] >= BUNCHING_MIN_RATIO and excess["excess"] >= BUNCHING_MIN_EXCESS
                word = BUNCHING_VERDICTS[0] if material else BUNCHING_VERDICTS[1]
            else:
                word = BUNCHING_VERDICTS[2]
            rows.append({"policy": policy.name, "metric": policy.metric, "clock": policy.clock,
                         "target_hours": float(policy.hours), "window_hours": float(width), "segment": segment,
                         "n": n, "before": before, "after": after, "neighbours": neighbours, **excess,
                         "verdict": word})
    return pd.DataFrame(rows, columns=_BUNCHING_COLUMNS)


def bunching_flags(bunching: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`deadline_bunching` flagged "bunched before the target".

    Parameters
    ----------
    bunching : pandas.DataFrame
        :func:`deadline_bunching`.

    Returns
    -------
    pandas.DataFrame
        The flagged rows, largest excess first (empty when nothing is flagged).

    Examples
    --------
    >>> b = pd.DataFrame({"segment": ["a", "b"], "excess": [0.1, 0.0],
    ...                   "verdict": ["bunched before the target", "within noise"]})
    >>> bunching_flags(b)["segment"].tolist()
    ['a']
    """
    flagged = bunching[bunching["verdict"] == BUNCHING_VERDICTS[0]]
    return flagged.sort_values("excess", ascending=False, kind="stable").reset_index(drop=True)


def duration_words(hours: float) -> str:
    """A duration as a CX lead says it: minutes below an hour, else hours.

    Parameters
    ----------
    hours : float
        The duration, in hours.

    Returns
    -------
    str
        ``"15 minutes"``, ``"4 h"``.

    Examples
    --------
    >>> duration_words(0.25), duration_words(0.5 / 16), duration_words(4), duration_words(1.5)
    ('15 minutes', '1.9 minutes', '4 h', '1.5 h')
    """
    if hours < 1:
        minutes = hours * 60
        return f"{minutes:.0f} minutes" if minutes >= 10 else f"{minutes:.1f} minutes"
    return f"{hours:g} h"


def _bunching_sentence(row: pd.Series, level: str) -> tuple[str, str]:
    """The plain sentence of a flagged row and its evidence."""
    done = _DONE.get(str(row["metric"]), "tickets")
    ratio = "many times" if not np.isfinite(row["ratio"]) else f"about {row['ratio']:.1f}×"
    what = (f"{level.capitalize()} {row['segment']}, {row['policy']}: {row['share_before']:.0%} of {done} land in the "
            f"{duration_words(row['window_hours'])} before the {duration_words(row['target_hours'])} target "
            f"({row['clock']} hours), {ratio} what the neighbouring times predict ({row['expected_share']:.1%}): "
            f"{done} may be timed to the SLA rather than to the customer.")
    evidence = (f"n = {int(row['n']):,} tickets; {int(row['before'])} in the window before the target, "
                f"{int(row['after'])} just after it, {row['expected']:.1f} predicted; excess "
                f"{100 * row['excess']:+.1f} pp of the {done} (95 % CI {100 * row['ci_low']:+.1f} to "
                f"{100 * row['ci_high']:+.1f})")
    return what, evidence


def bunching_sentences(deadlines: dict) -> list[str]:
    """The verdict of the deadline-bunching section in plain words: each flagged team (and
    how many agents), or that nothing was flagged.

    Parameters
    ----------
    deadlines : dict
        :func:`cycle_deadlines`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> empty = pd.DataFrame(columns=["segment"])
    >>> bunching_sentences({"team_flags": empty, "agent_flags": empty, "teams": empty})
    ['No team or agent has its first replies or resolutions piling up just before an SLA target.']
    """
    out = [_bunching_sentence(row, "team")[0] for _, row in deadlines["team_flags"].iterrows()]
    agents = deadlines["agent_flags"]
    if len(agents):
        names = sorted(agents["segment"].astype(str).unique())
        out.append(f"{len(names)} agent(s) flagged the same way: {', '.join(names)}.")
    if not out:
        out.append("No team or agent has its first replies or resolutions piling up just before an SLA target.")
    return out


def cycle_deadlines(cycle: object, *, min_n: int = 30, window: float = BUNCHING_WINDOW) -> dict:
    """The deadline-bunching section of a cycle: every SLA policy of review.yml whose inputs
    the cycle has, per team and per agent.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle.
    min_n : int, default 30
        Fewest tickets of a segment under a policy for a verdict.
    window : float, default :data:`BUNCHING_WINDOW`
        Window width as a share of the target.

    Returns
    -------
    dict
        ``teams`` and ``agents`` (:func:`deadline_bunching`), ``team_flags`` and
        ``agent_flags`` (:func:`bunching_flags`), and ``gaps``: one "not available: needs
        ..." sentence per policy the cycle cannot judge (a column or the calendar missing).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> part = cycle_deadlines(q3)
    >>> sorted(part["teams"]["policy"].unique())[:1], len(part["team_flags"]), part["gaps"]
    (['first reply chat and phone'], 0, [])
    >>> cycle_deadlines(q3.with_tables(tickets=q3.tickets.drop(columns="first_response_at")))["gaps"][0]
    'first reply chat and phone: not available: needs `tickets.first_response_at` (no such column)'
    """
    from cxassess.calendar import BusinessCalendar
    from cxassess.kpis.sla import needed_columns
    from cxassess.registry import gap

    config = cycle.config
    calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
    usable, gaps = [], []
    for policy in config.sla:
        needs = [Need("tickets", c) for c in needed_columns(policy)]
        if policy.clock == "business":
            needs.append(Need("review.yml", "calendar.working_hours"))
        lacking = gap(cycle, needs)
        if lacking is None:
            usable.append(policy)
        else:
            gaps.append(f"{policy.name}: {lacking}")
    tickets = cycle.tickets
    out: dict = {"gaps": gaps}
    for key, by in (("teams", "team"), ("agents", "agent_id")):
        out[key] = (deadline_bunching(tickets, usable, calendar=calendar, by=by, min_n=min_n, window=window)
                    if by in tickets else pd.DataFrame(columns=_BUNCHING_COLUMNS))
    out["team_flags"] = bunching_flags(out["teams"])
    out["agent_flags"] = bunching_flags(out["agents"])
    return out


# ------------------------------------------------------------------------------ findings
def findings(flags: pd.DataFrame | None, *, tickets: int, page: str = "30_voice_of_customer",
             level: str = "team", validity: pd.DataFrame | None = None,
             deadlines: pd.DataFrame | None = None) -> list[Finding]:
    """The gaming flags (and KPIs that move against the customers, and work timed to an SLA
    target) as findings.

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
    deadlines : pandas.DataFrame, optional
        :func:`bunching_flags` (segments of ``level``): first replies or resolutions piling
        up just before an SLA target are a finding too.

    Returns
    -------
    list of Finding
        One per flagged segment (its strongest pair), per KPI moving against and per
        segment and SLA policy bunched before the target.

    Examples
    --------
    >>> flags = pd.DataFrame([{"segment": "t", "speed": "handle_minutes", "speed_label": "handle time",
    ...     "speed_before": 16.0, "speed_now": 9.6, "speed_change": -6.4, "speed_low": -7.0, "speed_high": -5.8,
    ...     "quality": "transferred", "quality_label": "transfer rate", "quality_before": 0.18,
    ...     "quality_now": 0.4, "quality_change": 0.22, "quality_low": 0.18, "quality_high": 0.26,
    ...     "n_now": 1250, "verdict": "possible gaming"}])
    >>> [(f.team, f.kind, f.severity) for f in findings(flags, tickets=2500)]
    [('t', 'gaming', 'high')]
    >>> bunched = pd.DataFrame([{"policy": "email reply", "metric": "first_response", "clock": "business",
    ...     "target_hours": 4.0, "window_hours": 0.25, "segment": "tier1_x", "n": 700, "before": 126,
    ...     "after": 5, "neighbours": 160, "expected": 40.0, "share_before": 0.18, "expected_share": 0.057,
    ...     "ratio": 3.15, "excess": 0.123, "ci_low": 0.09, "ci_high": 0.15}])
    >>> print(findings(None, tickets=2500, deadlines=bunched)[0].what)
    Team tier1_x, email reply: 18% of first replies land in the 15 minutes before the 4 h target (business hours), about 3.1× what the neighbouring times predict (5.7%): first replies may be timed to the SLA rather than to the customer.
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
    for _, row in (deadlines.iterrows() if deadlines is not None else ()):
        what, evidence = _bunching_sentence(row, level)
        out.append(Finding(what, evidence, "high" if level == "team" else "medium",
                           min(1.0, int(row["n"]) / max(tickets, 1)), page, anchor="deadline-bunching",
                           kind="gaming", kpi="sla", team=str(row["segment"]),
                           action=f"Look at how {row['segment']} works the queue near the SLA target (holding replies, "
                                  "early closes) before rewarding its SLA attainment.",
                           figures={"policy": str(row["policy"]), "share_before": float(row["share_before"]),
                                    "expected_share": float(row["expected_share"]), "excess": float(row["excess"]),
                                    "ci_low": float(row["ci_low"]), "level": level}))
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
                                           recontact_days=recontact_days,
                                           measures=(cycle_measures(cycle, recontact_days=recontact_days),
                                                     cycle_measures(before, recontact_days=recontact_days)))
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
    usable = [c for c in history if c.tickets is not None and c.surveys is not None]
    teams = team_cycle_table([(c.label, c.tickets, c.surveys) for c in usable], audits=[c.audits for c in usable],
                             measures=[cycle_measures(c) for c in usable])
    return kpi_validity(cycle.tickets, cycle.surveys, audits=cycle.audits, sla_met=sla_met(cycle),
                        teams=teams if len(teams) else None, min_n=min_n, measures=cycle_measures(cycle))


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


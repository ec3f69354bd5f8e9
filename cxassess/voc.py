"""Voice of the customer: who answers the surveys, what drives dissatisfaction, what the
scales say and what customers write.

* **Response bias** — :func:`response_rates` (per channel, team, transfer, reopen, time to
  resolution, with intervals), :func:`respondent_balance` (respondents against
  non-respondents, standardised differences) and :func:`reweighted_score`: the CSAT (or NPS)
  *reweighted* so that the answers count as the population of surveyed tickets would. Each
  answer is weighted by one over the chance that a ticket like it answers (a logistic model of
  answering on what is known for every ticket; statsmodels), so that under-represented
  tickets count more; its 95 % interval comes from a bootstrap (the whole procedure repeated on
  resampled surveys).
* **Drivers of dissatisfaction** — :func:`drivers`: a logistic regression of being satisfied
  (CSAT in the top box, or not an NPS detractor) on what happened to the ticket; per driver
  its odds ratio and its *average effect* in points of CSAT (the change of the chance of a
  satisfied customer when the driver is present rather than absent, averaged over the
  answers), with 95 % intervals; drivers ranked by impact = prevalence × effect.
* **Scales** — :func:`scale_distribution`, :func:`box_sensitivity` (top box against top-2
  box) and :func:`adjacent_answers` ("does a 4 rather than a 5 matter?": reopen, recontact and
  churn of the customers giving neighbouring answers).
* **Verbatims** — :func:`themes` matches the theme dictionary of review.yml (words per
  language; Japanese, Chinese and Thai without word boundaries) in survey comments;
  :func:`theme_summary`, :func:`theme_pareto`, :func:`theme_quotes` (escaped by the page,
  length-capped and :func:`mask_pii`-masked).

:func:`findings` states what is real (intervals excluding 0) for the summary page.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cxassess.errors import InputError
from cxassess.findings import Finding
from cxassess.io import is_in
from cxassess.registry import Need, Section
from cxassess.stats import difference_of_proportions, wilson_interval, z_value

__all__ = [
    "COVARIATES", "ticket_covariates", "ticket_group", "covariates", "SECTIONS", "bias_sentence", "response_rates", "respondent_balance", "reweighted_score",
    "drivers", "average_effects", "scale_distribution", "box_sensitivity", "adjacent_answers", "scale_advice",
    "mask_pii", "themes", "theme_dictionary", "response_bias", "driver_tables", "verbatims", "left_out_sentences", "theme_summary", "theme_pareto", "theme_quotes", "findings", "BANDS",
    "NO_WORD_BOUNDARIES",
]

PAGE = "30_voice_of_customer"
_S, _T = "surveys", "tickets"
#: The page's sections and what each needs (for :func:`cxassess.plots.gap_note`).
SECTIONS: dict[str, Section] = {s.id: s for s in [
    Section("voc.response_bias", PAGE, "Who answers the surveys", (Need(_S, "score"), Need(_T, "transfers"))),
    Section("voc.drivers", PAGE, "Drivers of dissatisfaction",
            (Need(_S, "score"), Need(_S, "kind:csat"), Need(_T, "transfers"))),
    Section("voc.scales", PAGE, "Scales", (Need(_S, "score"), Need(_S, "kind", varies=False))),
    Section("voc.verbatims", PAGE, "What customers write", (Need(_S, "comment"),)),
]}

#: The ticket facts the response model and the drivers use, in words.
COVARIATES = {
    "transfer": "transfers",
    "reopened": "reopened",
    "escalated": "escalated to a specialist",
    "ttr_bucket": "time to resolution",
    "slow_first_response": "slow first response (slowest quarter)",
    "slow_resolution": "slow resolution (slowest quarter)",
    "channel": "channel",
    "team": "team",
    "priority": "priority",
    "category": "category",
}
TTR_BUCKETS = ("under 1 day", "1-3 days", "3-7 days", "over 7 days")
#: Languages matched without word boundaries (no spaces between words).
NO_WORD_BOUNDARIES = ("ja", "zh", "th")
#: Answer bands per scale size: highest "low" answer and lowest "high" answer.
BANDS = {3: (1, 3), 5: (2, 4), 7: (3, 5), 10: (6, 9), 11: (6, 9)}


# ------------------------------------------------------------------------------ covariates
def ticket_covariates(tickets: pd.DataFrame, *, escalated: pd.Series | None = None,
                      calendar: object | None = None, top: int = 10) -> pd.DataFrame:
    """Per ticket, the facts known for every ticket, as categories a CX lead reads.

    ``transfer``: "none" / "once" / "twice or more"; ``reopened``: "yes"/"no";
    ``escalated`` (from ``escalated``, ticket id → bool); ``ttr_bucket``: calendar time from
    creation to resolution in :data:`TTR_BUCKETS`; ``slow_first_response`` /
    ``slow_resolution``: "yes" for the slowest quarter of the cycle (business hours when a
    calendar is given); ``channel``, ``team``, ``priority``, ``category`` as exported. A
    column whose input is absent is left out.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets.
    escalated : pandas.Series, optional
        Ticket id → whether it reached a specialist stage.
    calendar : cxassess.calendar.BusinessCalendar, optional
        The business clock for the slowest-quarter flags.
    top : int, default 10
        Most values kept of a channel, team, priority or category; the rest are pooled as
        "other" (300 teams would make a model of 300 unknowns).

    Returns
    -------
    pandas.DataFrame
        ``ticket_id`` and one text column per fact.

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": ["A", "B"], "transfers": [0, 2], "reopens": [1, 0],
    ...                   "created_at": pd.to_datetime(["2026-07-01", "2026-07-01"]),
    ...                   "resolved_at": pd.to_datetime(["2026-07-01 05:00", "2026-07-05 00:00"])})
    >>> ticket_covariates(t)[["transfer", "reopened", "ttr_bucket"]].values.tolist()
    [['none', 'yes', 'under 1 day'], ['twice or more', 'no', '3-7 days']]
    """
    from cxassess.calendar import hours_between

    out = pd.DataFrame({"ticket_id": tickets["ticket_id"].array})  # as typed: joins stay native
    if "transfers" in tickets:
        n = pd.to_numeric(tickets["transfers"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out["transfer"] = np.where(np.isnan(n), None, np.where(n >= 2, "twice or more", np.where(n >= 1, "once", "none")))
    if "reopens" in tickets:
        r = pd.to_numeric(tickets["reopens"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out["reopened"] = np.where(np.isnan(r), None, np.where(r > 0, "yes", "no"))
    if escalated is not None:
        e = out["ticket_id"].map(escalated)
        out["escalated"] = np.where(e.isna(), None, np.where(e.fillna(False).astype(bool), "yes", "no"))
    if {"created_at", "resolved_at"} <= set(tickets.columns):
        hours = hours_between(tickets["created_at"], tickets["resolved_at"], None)
        cut = np.digitize(hours, [24, 72, 168])
        out["ttr_bucket"] = np.where(np.isnan(hours), None, np.array(TTR_BUCKETS, dtype=object)[np.minimum(cut, 3)])
        out["slow_resolution"] = _slowest_quarter(hours_between(tickets["created_at"], tickets["resolved_at"], calendar))
    if {"created_at", "first_response_at"} <= set(tickets.columns):
        out["slow_first_response"] = _slowest_quarter(
            hours_between(tickets["created_at"], tickets["first_response_at"], calendar))
    for column in ("channel", "team", "priority", "category"):
        if column in tickets:
            codes, values = pd.factorize(tickets[column])  # in order of appearance; missing: -1
            counts = np.bincount(codes[codes >= 0], minlength=len(values))
            largest = np.argsort(-counts, kind="stable")[:top]  # ties: the value seen first
            label = np.full(len(values) + 1, "other", dtype=object)
            label[largest] = np.asarray(values, dtype=object)[largest]
            label[-1] = None  # code -1
            out[column] = label[codes]
    return out


def covariates(cycle: object) -> pd.DataFrame:
    """:func:`ticket_covariates` of a cycle: escalation from its event log and review.yml's
    specialist stages (when both are there), slow flags on its business clock (when
    review.yml has working hours).

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (its tickets are needed).

    Returns
    -------
    pandas.DataFrame
        As :func:`ticket_covariates`.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> cov = covariates(load_cycle("data/sample", "2026Q3"))
    >>> sorted(cov["transfer"].unique()), "escalated" in cov
    (['none', 'once', 'twice or more'], True)
    """
    from cxassess.calendar import BusinessCalendar
    from cxassess.kpis.resolution import flag_escalated

    tickets, config = cycle.tickets, cycle.config
    escalated = None
    process = getattr(config, "process", None)
    events = None
    if "events" in cycle.tables and process is not None and process.specialist_stages:
        events = cycle.read_once("events", ["ticket_id", "stage"])  # for the flags alone: not kept
    if events is not None and "stage" in events:
        flags = flag_escalated(tickets[["ticket_id"]], events, process.specialist_stages)
        escalated = pd.Series(flags["escalated"].to_numpy(), index=flags["ticket_id"].to_numpy())
    calendar = BusinessCalendar.from_config(config) if config.calendar.get("working_hours") else None
    return ticket_covariates(tickets, escalated=escalated, calendar=calendar)


def _slowest_quarter(hours: np.ndarray) -> np.ndarray:
    if np.isnan(hours).all():
        return np.full(len(hours), None, dtype=object)
    q = np.nanquantile(hours, 0.75)
    return np.where(np.isnan(hours), None, np.where(hours > q, "yes", "no"))


def _surveyed(surveys: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """Surveys sent, one per ticket, with ``answered`` and the ticket's facts."""
    sent = surveys.drop_duplicates("ticket_id").copy()
    sent["answered"] = sent["score"].notna().astype(float)
    return _with_facts(sent, covariates)


def _with_facts(frame: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (one row per ticket) joined with its tickets' facts (inner, in ``frame``'s
    order): the facts of those tickets alone are looked up first (Arrow's hash look-up), so
    the join does not hash every ticket id of the cycle.
    """
    return frame.merge(covariates[is_in(covariates["ticket_id"], frame["ticket_id"])], on="ticket_id", how="inner")


# ------------------------------------------------------------------------------ response bias
def response_rates(surveys: pd.DataFrame, covariates: pd.DataFrame, *, by: Sequence[str] | None = None,
                   confidence: float = 0.95) -> pd.DataFrame:
    """Share of surveys answered, per value of each ticket fact, with Wilson intervals.

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys sent (``ticket_id``, ``score``: empty when unanswered).
    covariates : pandas.DataFrame
        :func:`ticket_covariates`.
    by : sequence of str, optional
        The facts (default every column of ``covariates`` but the id).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``fact, label, value, sent, answered, rate, ci_low, ci_high``.

    Examples
    --------
    >>> s = pd.DataFrame({"ticket_id": list("abcd"), "score": [5, None, 2, 1]})
    >>> c = pd.DataFrame({"ticket_id": list("abcd"), "reopened": ["no", "no", "yes", "yes"]})
    >>> response_rates(s, c)[["value", "sent", "answered", "rate"]].values.tolist()
    [['no', 2, 1, 0.5], ['yes', 2, 2, 1.0]]
    """
    sent = _surveyed(surveys, covariates)
    facts = list(by) if by is not None else [c for c in covariates.columns if c != "ticket_id"]
    rows = []
    for fact in facts:
        if fact not in sent:
            continue
        g = sent.groupby(sent[fact].astype(object), sort=True)["answered"].agg(["size", "sum"])
        lo, hi = wilson_interval(g["sum"].to_numpy(), g["size"].to_numpy(), confidence)
        for (value, row), low, high in zip(g.iterrows(), lo, hi, strict=True):
            rows.append({"fact": fact, "label": COVARIATES.get(fact, fact), "value": value, "sent": int(row["size"]),
                         "answered": int(row["sum"]), "rate": row["sum"] / row["size"], "ci_low": float(low),
                         "ci_high": float(high)})
    return pd.DataFrame(rows, columns=["fact", "label", "value", "sent", "answered", "rate", "ci_low", "ci_high"])


def _design(frame: pd.DataFrame, facts: Sequence[str], weights: np.ndarray | None = None) -> pd.DataFrame:
    """0/1 columns ``fact: value`` for every value but the most frequent (the reference);
    a column duplicating (linearly) the ones before it is left out. ``weights``: how many
    tickets each row stands for (rows that are distinct fact patterns), default one each.
    """
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    columns = []
    for fact in facts:
        if fact not in frame:
            continue
        values = frame[fact].astype(object)
        counts = pd.Series(w).groupby(values.to_numpy(), sort=True).sum().sort_values(ascending=False, kind="stable")
        if len(counts) < 2:
            continue
        reference = "none" if "none" in counts.index else "no" if "no" in counts.index else counts.index[0]
        for value in counts.index:
            if value != reference and 3 <= counts[value] <= total - 3:
                columns.append(pd.Series((values == value).astype(float).to_numpy(), name=f"{fact}: {value}"))
    kept = {"const": np.ones(len(frame))}
    if not columns:
        return pd.DataFrame(kept)
    # the rank of the rows equals the rank of the distinct rows, and the rank of those the
    # rank of their Gram matrix (a few columns square): test the columns on that
    distinct = np.unique(np.column_stack([np.ones(len(frame)), *[c.to_numpy() for c in columns]]), axis=0)
    gram = distinct.T @ distinct
    chosen = [0]
    for i, column in enumerate(columns, start=1):
        if np.linalg.matrix_rank(gram[np.ix_([*chosen, i], [*chosen, i])], hermitian=True) == len(chosen) + 1:
            chosen.append(i)
            kept[column.name] = column.to_numpy()
    return pd.DataFrame(kept)


def respondent_balance(surveys: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """Respondents against non-respondents on each ticket fact: share of each, and the
    standardised difference (difference of shares ÷ pooled standard deviation; above 0.1 in
    size is commonly read as a real imbalance).

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys sent.
    covariates : pandas.DataFrame
        :func:`ticket_covariates`.

    Returns
    -------
    pandas.DataFrame
        ``fact, label, value, respondents, non_respondents, std_difference``, largest
        imbalance first.

    Examples
    --------
    >>> s = pd.DataFrame({"ticket_id": list("abcd"), "score": [5, None, 2, None]})
    >>> c = pd.DataFrame({"ticket_id": list("abcd"), "reopened": ["no", "no", "yes", "no"]})
    >>> respondent_balance(s, c)[["value", "respondents", "non_respondents"]].values.tolist()
    [['no', 0.5, 1.0], ['yes', 0.5, 0.0]]
    """
    sent = _surveyed(surveys, covariates)
    yes = sent["answered"] == 1
    rows = []
    for fact in [c for c in covariates.columns if c != "ticket_id" and c in sent]:
        for value in sorted(sent[fact].dropna().astype(object).unique(), key=str):
            x = (sent[fact] == value).astype(float)
            p1, p0 = x[yes].mean(), x[~yes].mean()
            pooled = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
            rows.append({"fact": fact, "label": COVARIATES.get(fact, fact), "value": value, "respondents": p1,
                         "non_respondents": p0, "std_difference": (p1 - p0) / pooled if pooled > 0 else 0.0})
    out = pd.DataFrame(rows, columns=["fact", "label", "value", "respondents", "non_respondents", "std_difference"])
    return out.reindex(out["std_difference"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def _satisfied(scores: np.ndarray, kind: str, scale: int | None) -> np.ndarray:
    """1 for a satisfied answer of ``kind`` (CSAT/CES: top box of the package; NPS: the
    promoter − detractor contribution).
    """
    from cxassess.kpis.satisfaction import CES_AGREE, TOP_BOX

    if kind == "nps":
        return np.where(scores >= 9, 1.0, np.where(scores <= 6, -1.0, 0.0))
    rule = CES_AGREE if kind == "ces" else TOP_BOX
    if scale not in rule:
        raise InputError(f"{kind}: no top-box rule for a {scale}-point scale",
                         fix="set surveys: scales in review.yml to a scale of " + ", ".join(map(str, sorted(rule))))
    return (scores >= rule[scale]).astype(float)


def _logit(y: np.ndarray, x: np.ndarray | pd.DataFrame, start: np.ndarray | None = None) -> object:
    """Statsmodels' logistic regression, fitted quietly (a fit near separation, e.g. in a
    bootstrap resample, warns but still predicts).
    """
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.Logit(y, x).fit(disp=0, method="newton", maxiter=100, start_params=start)


def _grouped_logit(events: np.ndarray, trials: np.ndarray, x: np.ndarray, start: np.ndarray | None = None) -> object:
    """Statsmodels' binomial GLM (logit link) on grouped counts: ``events`` of ``trials`` per
    row of ``x``. The same estimate, and the same likelihood-ratio test against the model
    without facts, as a logistic regression on the ungrouped rows.
    """
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(events / trials, x, family=sm.families.Binomial(), var_weights=trials)
        return model.fit(start_params=start, maxiter=100)


def _grouped_logit_params(events: np.ndarray, trials: np.ndarray, x: np.ndarray, start: np.ndarray,
                          *, tol: float = 1e-8, maxiter: int = 100) -> np.ndarray | None:
    """The coefficients of :func:`_grouped_logit` by Newton's method from ``start`` (the full
    fit's, for a bootstrap resample): the same maximum-likelihood estimate without building a
    statsmodels model per resample (tests/test_voc.py compares them). ``None`` when the
    information matrix is singular or the fit diverges (a resample without variation).
    """
    from scipy.special import expit

    beta = np.array(start, dtype=float)
    for _ in range(maxiter):
        p = expit(x @ beta)
        info = (x * (trials * p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(info, x.T @ (events - trials * p))
        except np.linalg.LinAlgError:
            return None
        beta += step
        if not np.isfinite(beta).all():
            return None
        if np.abs(step).max() < tol:
            break
    return beta


_RESPONSE_FACTS = ("transfer", "reopened", "ttr_bucket", "escalated", "channel", "team", "priority", "category")


def reweighted_score(surveys: pd.DataFrame, covariates: pd.DataFrame, *, kind: str = "csat",
                     scale: int | None = None, facts: Sequence[str] = _RESPONSE_FACTS, boot: int = 200,
                     seed: int = 20263, confidence: float = 0.95) -> dict:
    """The raw and the reweighted CSAT (or NPS, CES agree) of one survey kind.

    A logistic model of answering (statsmodels) on the ticket facts known for every
    surveyed ticket gives each ticket its chance of answering; each answer then counts one
    over that chance, so that the kinds of tickets that answer less count more. The 95 %
    interval of the reweighted figure and of its difference to the raw one come from
    ``boot`` bootstrap resamples of the surveys sent (the model refitted on each).

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys sent (all kinds: the model of answering uses them all).
    covariates : pandas.DataFrame
        :func:`ticket_covariates`.
    kind : str, default "csat"
        The survey kind whose figure is reweighted (``csat``, ``nps``, ``ces``).
    scale : int, optional
        Points of its scale (default: the ``scale`` column).
    facts : sequence of str
        The facts of the model of answering.
    boot : int, default 200
        Bootstrap resamples.
    seed : int, default 20263
        Seed of the resampling.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    dict
        ``kind, sent, answered, raw, raw_low, raw_high, reweighted, low, high, shift,
        shift_low, shift_high, model_p`` (likelihood-ratio test that answering depends on the
        facts), ``facts`` used and ``biased`` (the shift's interval excludes 0 and the model
        finds a dependence at the 5 % level). Shares for CSAT/CES, points for NPS.

    Raises
    ------
    InputError
        No answer of ``kind``, or no fact to model answering with.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> bad = rng.random(400) < 0.4
    >>> c = pd.DataFrame({"ticket_id": range(400), "reopened": np.where(bad, "yes", "no")})
    >>> answered = rng.random(400) < np.where(bad, 0.6, 0.2)
    >>> score = np.where(bad, 2, 5)
    >>> s = pd.DataFrame({"ticket_id": range(400), "kind": "csat", "scale": 5,
    ...                   "score": np.where(answered, score, np.nan)})
    >>> r = reweighted_score(s, c, boot=50)
    >>> round(r["raw"], 3), round(r["reweighted"], 3)  # reweighted: the 57.5 % of good tickets sent a survey
    (0.333, 0.575)
    """
    sent = _surveyed(surveys, covariates)
    used = [f for f in facts if f in sent]
    sent = sent.dropna(subset=used).reset_index(drop=True)
    of_kind = (sent["kind"] == kind).to_numpy() if "kind" in sent else np.ones(len(sent), bool)
    if scale is None and "scale" in sent:
        given = pd.to_numeric(sent.loc[of_kind, "scale"], errors="coerce").dropna()
        scale = int(given.mode().iloc[0]) if len(given) else None
    scores = sent["score"].to_numpy(dtype=float, na_value=np.nan)
    answered = sent["answered"].to_numpy(dtype=float)
    target = of_kind & (answered == 1)
    if not target.any():
        raise InputError(f"no answered {kind} survey to reweight", fix="check surveys.kind and surveys.score")
    # Every fact is a category: tickets with the same facts share one chance of answering.
    # The model is fitted on the distinct fact patterns with their counts (the same estimate
    # as on the tickets), so a fit, and each resample's, costs the patterns, not the tickets.
    pattern_of = sent.groupby(used, sort=True, dropna=False).ngroup().to_numpy() if used else np.zeros(len(sent), int)
    n_patterns = int(pattern_of.max()) + 1 if len(pattern_of) else 0
    sent_all = np.bincount(pattern_of, minlength=n_patterns).astype(float)
    first = np.unique(pattern_of, return_index=True)[1]
    x = _design(sent.iloc[first].reset_index(drop=True), used, weights=sent_all)
    if x.shape[1] < 2:
        raise InputError("no ticket fact varies among the surveyed tickets: nothing to model answering with",
                         fix="export transfers, reopens, resolution times, channel or team with the tickets")
    value = np.where(target, _satisfied(np.nan_to_num(scores), kind, scale), np.nan)
    factor = 100.0 if kind == "nps" else 1.0
    patterns = x.to_numpy()
    full = _grouped_logit(np.bincount(pattern_of, weights=answered, minlength=n_patterns), sent_all, patterns)
    satisfied = np.where(target, value, 0.0)

    # A bootstrap resample of the tickets is drawn as how many times each kind of ticket is
    # taken (multinomial over the cells pattern x answered x of kind x satisfied): the same
    # distribution as drawing the tickets with replacement, at the cost of the cells.
    cell_key = ((pattern_of * 2 + answered.astype(int)) * 2 + target.astype(int)) * 3 + (satisfied.astype(int) + 1)
    cells, cell_of, cell_n = np.unique(cell_key, return_inverse=True, return_counts=True)
    cell_pattern = cells // 12
    cell_answered = (cells // 6) % 2
    cell_target = (cells // 3) % 2
    cell_satisfied = cells % 3 - 1.0

    def estimate(counts: np.ndarray, params: np.ndarray | None = None) -> tuple[float, float] | None:
        """Raw and reweighted figure of the cells taken ``counts`` times each (``None``: the
        model cannot be fitted on them).
        """
        sent_n = np.bincount(cell_pattern, weights=counts, minlength=n_patterns)
        answered_n = np.bincount(cell_pattern, weights=counts * cell_answered, minlength=n_patterns)
        target_n = np.bincount(cell_pattern, weights=counts * cell_target, minlength=n_patterns)
        value_sum = np.bincount(cell_pattern, weights=counts * cell_target * cell_satisfied, minlength=n_patterns)
        seen = sent_n > 0
        if params is None:
            params = _grouped_logit_params(answered_n[seen], sent_n[seen], patterns[seen], np.asarray(full.params))
            if params is None:
                return None
        p = np.clip(1 / (1 + np.exp(-(patterns[seen] @ params))), 1e-3, 1.0)
        w = target_n[seen] / p
        return (factor * float(value_sum.sum() / target_n.sum()),
                factor * float((value_sum[seen] / p).sum() / w.sum()))

    raw, weighted = estimate(cell_n.astype(float), np.asarray(full.params))  # the full fit: never None
    rng = np.random.default_rng(seed)
    draws = []
    for counts in rng.multinomial(len(sent), cell_n / len(sent), size=boot).astype(float):
        if (draw := estimate(counts)) is not None:  # a resample without variation: skipped
            draws.append(draw)
    draws_a = np.array(draws, dtype=float).reshape(-1, 2)
    draws_a = draws_a[np.isfinite(draws_a).all(axis=1)]
    alpha = (1 - confidence) / 2
    if len(draws_a) >= 10:
        low, high = np.quantile(draws_a[:, 1], [alpha, 1 - alpha])
        shift_low, shift_high = np.quantile(draws_a[:, 1] - draws_a[:, 0], [alpha, 1 - alpha])
    else:  # too few usable resamples: no interval, no verdict
        low = high = shift_low = shift_high = np.nan
    n = int(target.sum())
    if kind == "nps":
        v = value[target]
        p, d = (v == 1).mean(), (v == -1).mean()
        se = 100 * np.sqrt((p + d - (p - d) ** 2) / n)
        raw_low, raw_high = raw - z_value(confidence) * se, raw + z_value(confidence) * se
    else:
        rl, rh = wilson_interval(value[target].sum(), n, confidence)
        raw_low, raw_high = float(rl), float(rh)
    from scipy.stats import chi2

    model_p = float(chi2.sf(2 * (full.llf - full.llnull), full.df_model))  # likelihood-ratio test
    biased = bool((shift_low > 0 or shift_high < 0) and model_p < 0.05)  # nan compares False
    return {"kind": kind, "sent": int(of_kind.sum()), "answered": n, "raw": raw, "raw_low": float(raw_low),
            "raw_high": float(raw_high), "reweighted": weighted, "low": float(low), "high": float(high),
            "shift": weighted - raw, "shift_low": float(shift_low), "shift_high": float(shift_high),
            "model_p": model_p, "facts": used, "biased": biased, "boot": len(draws)}


def _tickets_with(label: str, value: object) -> str:
    """``tickets escalated to a specialist`` / ``tickets with transfers: once``."""
    if value == "yes":
        return f"tickets {label}" if "(" not in label else f"tickets with a {label.split(' (')[0]}"
    if value == "no":
        return f"tickets not {label}" if "(" not in label else f"tickets without a {label.split(' (')[0]}"
    return f"tickets with {label}: {value}"


def ticket_group(fact: str, value: object) -> str:
    """The tickets of one value of a fact (a driver, a bias), as a CX lead says it.

    Parameters
    ----------
    fact : str
        A column of :func:`ticket_covariates` (``transfer``, ``reopened``, ``channel`` ...).
    value : object
        Its value.

    Returns
    -------
    str
        E.g. ``tickets transferred once``, ``reopened tickets``... in lower case.

    Examples
    --------
    >>> ticket_group("transfer", "once"), ticket_group("reopened", "yes"), ticket_group("channel", "email")
    ('tickets transferred once', 'tickets reopened', 'email tickets')
    >>> ticket_group("ttr_bucket", "over 7 days"), ticket_group("team", "tier1_south")
    ('tickets taking over 7 days to resolve', 'tickets of team tier1_south')
    """
    v = str(value)
    if fact == "transfer":
        return "tickets never transferred" if v == "none" else f"tickets transferred {v}"
    if fact == "ttr_bucket":
        return f"tickets taking {v} to resolve"
    if fact == "channel":
        return f"{v} tickets"
    if fact == "team":
        return f"tickets of team {v}"
    if fact == "priority":
        return f"{v}-priority tickets"
    if fact == "category":
        return f"tickets about {v}"
    return _tickets_with(COVARIATES.get(fact, fact), value)


def bias_sentence(result: dict, balance: pd.DataFrame | None = None) -> str:
    """The verdict on one survey kind's response bias, in plain words.

    Parameters
    ----------
    result : dict
        :func:`reweighted_score`.
    balance : pandas.DataFrame, optional
        :func:`respondent_balance`, to name the most over-represented kind of ticket.

    Returns
    -------
    str

    Examples
    --------
    >>> r = {"kind": "csat", "raw": 0.48, "reweighted": 0.64, "shift": 0.16, "shift_low": 0.13,
    ...      "shift_high": 0.19, "biased": True}
    >>> bias_sentence(r)
    'CSAT: the customers who answer are not like those who do not: the raw CSAT (48.0%) understates what all surveyed customers would say by 16.0 pp (95 % CI 13.0 to 19.0); reweighted it is 64.0%.'
    """
    nps = result["kind"] == "nps"
    level = (lambda v: f"{v:.1f}") if nps else (lambda v: f"{v:.1%}")
    unit = " points" if nps else " pp"
    scale = 1 if nps else 100
    name = result["kind"].upper()
    if not result.get("biased"):
        return (f"{name}: no evidence that the customers who answer differ from those who do not in a way that "
                f"moves the figure (reweighted {level(result['reweighted'])} against raw {level(result['raw'])}; "
                f"difference {scale * result['shift']:+.1f}{unit}, 95 % CI {scale * result['shift_low']:+.1f} to "
                f"{scale * result['shift_high']:+.1f}).")
    who = "the customers who answer are not like those who do not"
    if balance is not None and len(balance):
        top = balance[balance["std_difference"] > 0.1].head(1)
        if len(top):
            r = top.iloc[0]
            who = (f"respondents over-represent {_tickets_with(r['label'], r['value'])} ({r['respondents']:.0%} of "
                   f"answers against {r['non_respondents']:.0%} of the surveys left unanswered)")
    direction = "understates" if result["shift"] > 0 else "overstates"
    return (f"{name}: {who}: the raw {name} ({level(result['raw'])}) {direction} what all surveyed customers would "
            f"say by {abs(scale * result['shift']):.1f}{unit} (95 % CI {abs(scale * result['shift_low']):.1f} to "
            f"{abs(scale * result['shift_high']):.1f}); reweighted it is {level(result['reweighted'])}.")


# ------------------------------------------------------------------------------ drivers
def average_effects(model: object, design: pd.DataFrame, groups: Mapping[str, Sequence[str]],
                    confidence: float = 0.95) -> pd.DataFrame:
    """Average effect of each driver on the chance of the outcome, with delta-method intervals.

    For a driver (a group of 0/1 columns: the values of one fact), every row is predicted
    twice: with the driver's column set to 1 (the fact's other columns to 0) and with all of
    them 0 (the reference); the effect is the mean difference. Its standard error comes from
    the gradient of that mean with respect to the coefficients (numerically) and their
    covariance.

    Parameters
    ----------
    model : statsmodels results of a Logit
        The fitted model.
    design : pandas.DataFrame
        Its design matrix (with ``const``).
    groups : mapping of str to sequence of str
        Fact → its columns in ``design``.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``column, effect, se, ci_low, ci_high``.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"const": 1.0, "a": (rng.random(500) < 0.5).astype(float)})
    >>> y = (rng.random(500) < np.where(x["a"] == 1, 0.3, 0.7)).astype(float)
    >>> fit = sm.Logit(y, x).fit(disp=0)
    >>> e = average_effects(fit, x, {"a": ["a"]})
    >>> bool(round(float(e["effect"].iloc[0]), 3) == round(y[x["a"] == 1].mean() - y[x["a"] == 0].mean(), 3))
    True
    """
    beta = np.asarray(model.params, dtype=float)
    cov = np.asarray(model.cov_params(), dtype=float)
    xm = design.to_numpy(dtype=float)
    names = list(design.columns)
    z = z_value(confidence)
    rows = []

    def effect(b: np.ndarray, on: np.ndarray, off: np.ndarray) -> float:
        return float(np.mean(1 / (1 + np.exp(-on @ b)) - 1 / (1 + np.exp(-off @ b))))

    for columns in groups.values():
        idx = [names.index(c) for c in columns]
        off = xm.copy()
        off[:, idx] = 0.0
        for column in columns:
            on = off.copy()
            on[:, names.index(column)] = 1.0
            value = effect(beta, on, off)
            grad = np.empty(len(beta))
            for k in range(len(beta)):
                step = np.zeros(len(beta))
                step[k] = 1e-6
                grad[k] = (effect(beta + step, on, off) - effect(beta - step, on, off)) / 2e-6
            se = float(np.sqrt(grad @ cov @ grad))
            rows.append({"column": column, "effect": value, "se": se, "ci_low": value - z * se,
                         "ci_high": value + z * se})
    return pd.DataFrame(rows, columns=["column", "effect", "se", "ci_low", "ci_high"])


_DRIVER_FACTS = ("transfer", "escalated", "reopened", "slow_first_response", "slow_resolution", "channel", "team")


def drivers(surveys: pd.DataFrame, covariates: pd.DataFrame, *, kind: str = "csat", scale: int | None = None,
            facts: Sequence[str] = _DRIVER_FACTS, population: pd.DataFrame | None = None,
            confidence: float = 0.95) -> pd.DataFrame:
    """What drives dissatisfaction: a logistic regression of being satisfied on what
    happened to the ticket.

    Satisfied: a CSAT (CES) answer in the top box of the package's rule (5-point: 4-5), or an
    NPS answer that is not a detractor (7-10). Each driver (a value of a fact against the
    fact's reference value: "transfers: once" against "none") gets its odds ratio (from the
    model) and its average effect in points of the satisfied share (:func:`average_effects`),
    both with 95 % intervals; impact = prevalence (share of the cycle's tickets with the
    driver, from ``population``, else of the answers) × effect: the points of satisfaction
    the driver costs overall. A fact that cannot be told apart from the ones before it (e.g.
    escalation when every transfer is an escalation) is left out and named in
    ``attrs["left_out"]``.

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys (answered ones of ``kind`` are used).
    covariates : pandas.DataFrame
        :func:`ticket_covariates` of the tickets.
    kind : str, default "csat"
        ``csat``, ``ces`` or ``nps``.
    scale : int, optional
        Points of the scale (default: the ``scale`` column).
    facts : sequence of str
        The facts tried as drivers, in order of preference when two coincide.
    population : pandas.DataFrame, optional
        Covariates of every ticket of the cycle, for the prevalence.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``driver, fact, value, prevalence, odds_ratio, or_low, or_high, effect, ci_low,
        ci_high, impact, n`` ordered by impact (most harmful first); ``attrs["n"]``,
        ``attrs["left_out"]``, ``attrs["satisfied"]`` (share satisfied).

    Raises
    ------
    InputError
        Fewer than 20 answers, or every answer satisfied (or none).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> c = pd.DataFrame({"ticket_id": range(600), "reopened": np.where(rng.random(600) < 0.3, "yes", "no")})
    >>> p = np.where(c["reopened"] == "yes", 0.4, 0.8)
    >>> s = pd.DataFrame({"ticket_id": range(600), "kind": "csat", "scale": 5,
    ...                   "score": np.where(rng.random(600) < p, 5, 2)})
    >>> d = drivers(s, c)
    >>> d["driver"].tolist(), bool(d["ci_high"].iloc[0] < 0)
    (['reopened: yes'], True)
    """
    answers = surveys[surveys["score"].notna()]
    if "kind" in answers:
        answers = answers[answers["kind"] == kind]
    frame = _with_facts(answers.drop_duplicates("ticket_id"), covariates)
    used = [f for f in facts if f in frame]
    frame = frame.dropna(subset=used).reset_index(drop=True)
    if scale is None and "scale" in frame and len(frame):
        scale = int(pd.to_numeric(frame["scale"], errors="coerce").mode().iloc[0])
    if len(frame) < 20:
        raise InputError(f"{kind}: {len(frame)} answers, too few to model what drives them (20 at least)",
                         fix="review a longer period, or wait for more answers")
    scores = frame["score"].to_numpy(dtype=float)
    y = (scores >= 7).astype(float) if kind == "nps" else _satisfied(scores, kind, scale)
    if y.min() == y.max():
        raise InputError(f"{kind}: every answer is on the same side: nothing to explain",
                         fix="check the scale of the survey (review.yml surveys: scales)")
    x = _design(frame, used)
    model = _logit(y, x)
    groups: dict[str, list[str]] = {}
    for column in x.columns[1:]:
        groups.setdefault(column.split(": ", 1)[0], []).append(column)
    effects = average_effects(model, x, groups, confidence).set_index("column")
    with np.errstate(over="ignore"):  # an odds ratio beyond floats (separation) is shown as inf
        ci = np.exp(np.asarray(model.conf_int(1 - confidence), dtype=float))
        odds = np.exp(np.asarray(model.params, dtype=float))
    names = list(x.columns)
    base = population if population is not None else frame
    shares: dict[str, pd.Series] = {}  # per fact, the share of each value among the known ones, by its text
    for fact in groups:
        counts = base[fact].value_counts(dropna=True) if fact in base else pd.Series(dtype=float)
        shares[fact] = counts.groupby(counts.index.map(str)).sum() / counts.sum() if counts.sum() else counts
    rows = []
    for column in x.columns[1:]:
        fact, value = column.split(": ", 1)
        k = names.index(column)
        prevalence = float(shares[fact].get(value, 0.0)) if len(shares[fact]) else np.nan
        e = effects.loc[column]
        rows.append({"driver": f"{COVARIATES.get(fact, fact)}: {value}", "fact": fact, "value": value,
                     "prevalence": prevalence, "odds_ratio": float(odds[k]),
                     "or_low": float(ci[k, 0]), "or_high": float(ci[k, 1]),
                     "effect": float(e["effect"]), "ci_low": float(e["ci_low"]), "ci_high": float(e["ci_high"]),
                     "impact": prevalence * float(e["effect"]), "n": int((x[column] == 1).sum())})
    out = pd.DataFrame(rows, columns=["driver", "fact", "value", "prevalence", "odds_ratio", "or_low", "or_high",
                                      "effect", "ci_low", "ci_high", "impact", "n"])
    out = out.sort_values("impact", kind="stable").reset_index(drop=True)
    present = {c.split(": ", 1)[0] for c in x.columns[1:]}
    out.attrs.update(n=len(frame), satisfied=float(y.mean()), kind=kind,
                     left_out=[COVARIATES.get(f, f) for f in used if f not in present])
    return out


# ------------------------------------------------------------------------------ scales
def scale_distribution(surveys: pd.DataFrame) -> pd.DataFrame:
    """Answers per survey kind and score: count and share of the kind's answers.

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys with ``kind``, ``score`` (answered ones are counted).

    Returns
    -------
    pandas.DataFrame
        ``kind, score, answers, share``.

    Examples
    --------
    >>> s = pd.DataFrame({"kind": ["csat"] * 4, "score": [5, 5, 4, None]})
    >>> scale_distribution(s).values.tolist()
    [['csat', 4, 1, 0.3333333333333333], ['csat', 5, 2, 0.6666666666666666]]
    """
    answers = surveys[surveys["score"].notna()]
    kinds = answers["kind"] if "kind" in answers else pd.Series("csat", index=answers.index)
    g = answers.groupby([kinds.rename("kind"), answers["score"].astype(int).rename("score")]).size()
    out = g.rename("answers").reset_index()
    out["share"] = out["answers"] / out.groupby("kind")["answers"].transform("sum")
    return out


def _points(surveys: pd.DataFrame, kind: str, scales: Mapping[str, int] | None) -> int | None:
    if scales and kind in scales:
        return int(scales[kind])
    if "scale" in surveys:
        given = pd.to_numeric(surveys.loc[surveys["kind"] == kind, "scale"], errors="coerce").dropna()
        if len(given):
            return int(given.mode().iloc[0])
    return None


def box_sensitivity(surveys: pd.DataFrame, previous: pd.DataFrame | None = None, *,
                    scales: Mapping[str, int] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Top box (the best answer only) against top-2 box (the two best) per survey kind,
    with Wilson intervals and, against ``previous``, the change of each with Newcombe's
    interval and verdict: when the two definitions disagree on the verdict, the conclusion
    depends on the definition.

    Parameters
    ----------
    surveys : pandas.DataFrame
        This cycle's surveys.
    previous : pandas.DataFrame, optional
        The previous cycle's surveys.
    scales : mapping of str to int, optional
        Points per kind (review.yml ``surveys: scales``); default the ``scale`` column.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``kind, box (top box / top-2 box), answers, share, ci_low, ci_high, change, change_low,
        change_high, verdict``.

    Examples
    --------
    >>> s = pd.DataFrame({"kind": "csat", "scale": 5, "score": [5, 4, 4, 2]})
    >>> box_sensitivity(s)[["box", "share"]].values.tolist()
    [['top box', 0.25], ['top-2 box', 0.75]]
    """
    rows = []
    answers = surveys[surveys["score"].notna()]
    old = previous[previous["score"].notna()] if previous is not None else None
    for kind in sorted(answers["kind"].dropna().unique()):
        points = _points(surveys, kind, scales)
        if points is None:
            continue
        best = points - 1 if points == 11 else points  # 0-10: the best answer is 10
        for box, lowest in (("top box", best), ("top-2 box", best - 1)):
            now = answers.loc[answers["kind"] == kind, "score"].to_numpy(float)
            k, n = float((now >= lowest).sum()), len(now)
            lo, hi = wilson_interval(k, n, confidence)
            row = {"kind": kind, "box": box, "answers": n, "share": k / n, "ci_low": float(lo), "ci_high": float(hi),
                   "change": np.nan, "change_low": np.nan, "change_high": np.nan, "verdict": "no previous cycle"}
            if old is not None and (old["kind"] == kind).any():
                was = old.loc[old["kind"] == kind, "score"].to_numpy(float)
                d, dl, dh = difference_of_proportions(k, n, float((was >= lowest).sum()), len(was), confidence)
                row.update(change=float(d), change_low=float(dl), change_high=float(dh),
                           verdict="improved" if dl > 0 else "worsened" if dh < 0 else "within noise")
            rows.append(row)
    return pd.DataFrame(rows, columns=["kind", "box", "answers", "share", "ci_low", "ci_high", "change", "change_low",
                                       "change_high", "verdict"])


def adjacent_answers(surveys: pd.DataFrame, tickets: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                     scales: Mapping[str, int] | None = None, recontact_days: float = 30,
                     confidence: float = 0.95) -> pd.DataFrame:
    """Does a 4 rather than a 5 matter? For each kind, the customers giving the best answer
    against the next one down (5 vs 4 on 5 points), and that one against the next (4 vs 3):
    the share whose ticket was reopened, who came back with a new ticket within
    ``recontact_days`` of answering, and who churned after answering, with the difference and
    its Newcombe interval; "matters" when the interval excludes 0.

    Parameters
    ----------
    surveys, tickets : pandas.DataFrame
        The cycle's surveys and tickets.
    customers : pandas.DataFrame, optional
        ``customer_id, active_to``: for churn.
    scales : mapping of str to int, optional
        Points per kind.
    recontact_days : float, default 30
        Days after the answer in which a new ticket is a recontact.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``kind, higher, lower, outcome, n_higher, rate_higher, n_lower, rate_lower, difference,
        ci_low, ci_high, verdict``; difference = lower − higher.

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": list("abcd"), "reopens": [0, 0, 1, 1]})
    >>> s = pd.DataFrame({"ticket_id": list("abcd"), "kind": "csat", "scale": 5, "score": [5, 5, 4, 4]})
    >>> a = adjacent_answers(s, t)
    >>> a[["higher", "lower", "outcome", "rate_higher", "rate_lower"]].values.tolist()
    [[5, 4, 'reopened', 0.0, 1.0]]
    """
    answers = surveys[surveys["score"].notna()].drop_duplicates("ticket_id")
    if tickets is None:
        tickets = pd.DataFrame({"ticket_id": pd.Series([], dtype=object)})
    keep = [c for c in ("ticket_id", "reopens", "customer_id", "created_at") if c in tickets]
    frame = answers.merge(tickets[keep], on="ticket_id", how="left")
    outcomes: dict[str, np.ndarray] = {}
    if "reopens" in frame:
        r = pd.to_numeric(frame["reopens"], errors="coerce")
        outcomes["reopened"] = np.where(r.isna(), np.nan, (r > 0).astype(float))
    when = frame["responded_at"] if "responded_at" in frame else None
    if when is not None and {"customer_id", "created_at"} <= set(tickets.columns):
        last = tickets["created_at"].max()
        window = pd.Timedelta(days=recontact_days)
        left = pd.DataFrame({"row": np.arange(len(frame)), "customer_id": frame["customer_id"].astype(object),
                             "at": when}).dropna().sort_values("at", kind="stable")
        right = (tickets[["customer_id", "created_at"]].dropna().astype({"customer_id": object})
                 .sort_values("created_at", kind="stable"))
        right["created_at"] = right["created_at"].astype(left["at"].dtype)
        nxt = pd.merge_asof(left, right, left_on="at", right_on="created_at", by="customer_id",
                            direction="forward", allow_exact_matches=False)
        value = np.full(len(frame), np.nan)
        known = (nxt["at"] + window <= last).to_numpy()
        hit = (nxt["created_at"].notna() & (nxt["created_at"] <= nxt["at"] + window)).to_numpy()
        value[nxt["row"].to_numpy()[known]] = hit[known].astype(float)
        outcomes["recontacted"] = value
    if (when is not None and customers is not None and "customer_id" in frame
            and {"customer_id", "active_to"} <= set(customers.columns)):
        gone = customers.drop_duplicates("customer_id").set_index("customer_id")["active_to"]
        end = frame["customer_id"].map(gone)
        known = is_in(frame["customer_id"], gone.index)
        churned = end.notna() & (end >= when)
        outcomes["churned"] = np.where(known & when.notna(), churned.astype(float), np.nan)
    rows = []
    for kind in sorted(frame["kind"].dropna().unique()) if "kind" in frame else []:
        points = _points(surveys, kind, scales)
        if points is None:
            continue
        best = points - 1 if points == 11 else points
        mine = (frame["kind"] == kind).to_numpy()
        score = frame["score"].to_numpy(dtype=float)
        for higher, lower in ((best, best - 1), (best - 1, best - 2)):
            for outcome, value in outcomes.items():
                hi_v = value[mine & (score == higher)]
                lo_v = value[mine & (score == lower)]
                hi_v, lo_v = hi_v[~np.isnan(hi_v)], lo_v[~np.isnan(lo_v)]
                if not len(hi_v) or not len(lo_v):
                    continue
                d, dl, dh = difference_of_proportions(lo_v.sum(), len(lo_v), hi_v.sum(), len(hi_v), confidence)
                rows.append({"kind": kind, "higher": higher, "lower": lower, "outcome": outcome,
                             "n_higher": len(hi_v), "rate_higher": float(hi_v.mean()), "n_lower": len(lo_v),
                             "rate_lower": float(lo_v.mean()), "difference": float(d), "ci_low": float(dl),
                             "ci_high": float(dh),
                             "verdict": "matters" if (dl > 0 or dh < 0) else "no evidence it matters"})
    return pd.DataFrame(rows, columns=["kind", "higher", "lower", "outcome", "n_higher", "rate_higher", "n_lower",
                                       "rate_lower", "difference", "ci_low", "ci_high", "verdict"])


def scale_advice(adjacent: pd.DataFrame, scales: Mapping[str, int]) -> list[str]:
    """Sentences on the scales: a long scale (7 points or more) whose neighbouring best
    answers show no difference in what customers do next could be shorter.

    Parameters
    ----------
    adjacent : pandas.DataFrame
        :func:`adjacent_answers`.
    scales : mapping of str to int
        Points per kind.

    Returns
    -------
    list of str
        One sentence per kind.

    Examples
    --------
    >>> a = pd.DataFrame({"kind": ["ces"], "higher": [7], "lower": [6], "outcome": ["reopened"],
    ...                   "verdict": ["no evidence it matters"]})
    >>> scale_advice(a, {"ces": 7})[0][:40]
    'ces (7 points): the best answers do not '
    """
    out = []
    for kind, points in sorted(scales.items()):
        part = adjacent[adjacent["kind"] == kind] if len(adjacent) else adjacent
        if not len(part):
            out.append(f"{kind} ({points} points): too few answers to compare neighbouring answers.")
            continue
        matters = part[part["verdict"] == "matters"]
        if len(matters):
            pairs = ", ".join(dict.fromkeys(f"{r.higher} vs {r.lower} ({r.outcome})" for r in matters.itertuples()))
            out.append(f"{kind} ({points} points): neighbouring answers differ in what customers do next: {pairs}.")
        elif points >= 7:
            out.append(f"{kind} ({points} points): the best answers do not separate customers who behave "
                       "differently afterwards; a shorter scale (3 or 5 points) would do and may be answered "
                       "by more customers.")
        else:
            out.append(f"{kind} ({points} points): no evidence that the best answers differ in what customers do "
                       "next; reading the top two answers together (top-2 box) loses nothing.")
    return out


# ------------------------------------------------------------------------------ verbatims
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w(+])[+(]?\d[\d ()./-]{6,}\d(?!\w)")
_DIGITS = re.compile(r"\d{5,}")


def mask_pii(text: object, *, cap: int = 200) -> str:
    """A comment fit to quote: emails, phone numbers and runs of 5 or more digits replaced,
    cut to ``cap`` characters (with "…").

    Parameters
    ----------
    text : object
        The comment.
    cap : int, default 200
        Most characters kept.

    Returns
    -------
    str
        The masked text (not escaped: the page escapes it).

    Examples
    --------
    >>> mask_pii("Mail anna.b@example.com or call +49 30 1234567, order 99812345.")
    'Mail [email] or call [phone], order [number].'
    >>> mask_pii("x" * 10, cap=5)
    'xxxx…'
    """
    out = _EMAIL.sub("[email]", str(text))
    out = _PHONE.sub(lambda m: "[phone]" if len(re.sub(r"\D", "", m.group())) >= 7 and not m.group().isdigit()
                     else m.group(), out)
    out = _DIGITS.sub("[number]", out)
    return out if len(out) <= cap else out[: cap - 1] + "…"


def _pattern(words: Sequence[str], language: str) -> re.Pattern | None:
    words = [w for w in words if str(w).strip()]
    if not words:
        return None
    alternatives = "|".join(re.escape(str(w).strip()) for w in sorted(words, key=len, reverse=True))
    if language in NO_WORD_BOUNDARIES:
        return re.compile(alternatives, re.IGNORECASE)
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def themes(comments: pd.DataFrame, dictionary: Mapping[str, Mapping[str, Sequence[str]]]) -> pd.DataFrame:
    """Which themes each comment mentions.

    A theme matches when one of its words or phrases for the comment's language (or, when
    the language is unknown, for any language) appears: at the start of a word (so "wait"
    matches "waiting", "freundlich" does not match "unfreundlich"), case ignored; in
    Japanese, Chinese and Thai anywhere (no spaces between words).

    Parameters
    ----------
    comments : pandas.DataFrame
        ``ticket_id, comment`` and optionally ``language``.
    dictionary : mapping
        Theme → ``{"complaint": bool, "words": {language: [words]}}`` (review.yml ``themes``,
        see :func:`theme_dictionary`).

    Returns
    -------
    pandas.DataFrame
        ``ticket_id, theme`` per match (a comment may have several themes).

    Examples
    --------
    >>> c = pd.DataFrame({"ticket_id": ["A", "B"], "comment": ["Waited far too long", "たらい回しにされた"],
    ...                   "language": ["en", "ja"]})
    >>> d = {"waiting": {"words": {"en": ["wait", "too long"]}}, "transfer": {"words": {"ja": ["たらい回し"]}}}
    >>> themes(c, d).values.tolist()
    [['A', 'waiting'], ['B', 'transfer']]
    """
    dictionary = theme_dictionary(dictionary)
    rows = []
    text = comments["comment"].astype(object)
    has = text.notna() & (text.astype(str).str.strip() != "")
    part = comments[has]
    languages = part["language"].astype(object) if "language" in part else pd.Series(None, index=part.index)
    for theme, spec in dictionary.items():
        for language, words in spec["words"].items():
            pattern = _pattern(words, language)
            if pattern is None:
                continue
            mine = (languages == language) | languages.isna()
            hits = part.loc[mine.to_numpy(), "comment"].astype(str).str.contains(pattern)
            rows += [(t, theme) for t in part.loc[hits[hits].index, "ticket_id"]]
    out = pd.DataFrame(rows, columns=["ticket_id", "theme"]).drop_duplicates(ignore_index=True)
    return out


def theme_dictionary(themes: Mapping) -> dict[str, dict]:
    """The theme dictionary as plain data: theme → ``{"complaint": bool, "words": {language:
    [words]}}``, from review.yml's validated ``themes`` (:class:`cxassess.config_schema.Theme`)
    or plain mappings.

    Parameters
    ----------
    themes : mapping
        Theme name → Theme (or a mapping with ``complaint`` and ``words``).

    Returns
    -------
    dict

    Examples
    --------
    >>> from cxassess.config_schema import Theme
    >>> theme_dictionary({"rude": Theme(complaint=True, words={"en": ["rude"]})})
    {'rude': {'complaint': True, 'words': {'en': ['rude']}}}
    """
    out = {}
    for name, spec in themes.items():
        data = spec.model_dump() if hasattr(spec, "model_dump") else dict(spec)
        out[str(name)] = {"complaint": bool(data.get("complaint", False)),
                          "words": {str(k): list(v) for k, v in (data.get("words") or {}).items()}}
    return out


def _band(score: float, points: int | None) -> str:
    if points not in BANDS or np.isnan(score):
        return "unknown"
    low, high = BANDS[points]
    return "low" if score <= low else "high" if score >= high else "middle"


def theme_summary(surveys: pd.DataFrame, matched: pd.DataFrame, *, scales: Mapping[str, int] | None = None,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Comments per theme and answer band (low / middle / high: CSAT 1-2 / 3 / 4-5, NPS 0-6 /
    7-8 / 9-10, CES 1-3 / 4 / 5-7), with the theme's share of the band's comments and its
    Wilson interval.

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys with ``comment``, ``score``, ``kind``.
    matched : pandas.DataFrame
        :func:`themes`.
    scales : mapping of str to int, optional
        Points per kind.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``theme, band, comments, of_band, share, ci_low, ci_high``.

    Examples
    --------
    >>> s = pd.DataFrame({"ticket_id": ["A", "B"], "kind": "csat", "scale": 5, "score": [1, 5],
    ...                   "comment": ["slow", "fine"]})
    >>> m = pd.DataFrame({"ticket_id": ["A"], "theme": ["waiting"]})
    >>> theme_summary(s, m)[["theme", "band", "comments", "of_band"]].values.tolist()
    [['waiting', 'low', 1, 1]]
    """
    commented = surveys[surveys["comment"].notna() & (surveys["comment"].astype(str).str.strip() != "")]
    commented = commented.drop_duplicates("ticket_id")
    kinds = commented["kind"] if "kind" in commented else pd.Series("csat", index=commented.index)
    scores = commented["score"] if "score" in commented else pd.Series(np.nan, index=commented.index)
    bands = [_band(float(s) if pd.notna(s) else np.nan, _points(surveys, k, scales) if "kind" in surveys else
                   (scales or {}).get("csat")) for s, k in zip(scores, kinds, strict=True)]
    band = pd.Series(bands, index=commented["ticket_id"].to_numpy())
    per_band = band.value_counts()
    m = matched.assign(band=matched["ticket_id"].map(band))
    g = m.groupby(["theme", "band"]).size().rename("comments").reset_index()
    g["of_band"] = g["band"].map(per_band).astype(int)
    lo, hi = wilson_interval(g["comments"].to_numpy(), g["of_band"].to_numpy(), confidence)
    g["share"] = g["comments"] / g["of_band"]
    g["ci_low"], g["ci_high"] = lo, hi
    return g[["theme", "band", "comments", "of_band", "share", "ci_low", "ci_high"]]


def theme_pareto(matched: pd.DataFrame, dictionary: Mapping[str, Mapping]) -> pd.DataFrame:
    """Complaint themes (``complaint: true`` in the dictionary) by number of comments, most
    frequent first, with their cumulative share of the complaint mentions.

    Parameters
    ----------
    matched : pandas.DataFrame
        :func:`themes`.
    dictionary : mapping
        The theme dictionary.

    Returns
    -------
    pandas.DataFrame
        ``theme, comments, share, cumulative``.

    Examples
    --------
    >>> m = pd.DataFrame({"ticket_id": list("abc"), "theme": ["waiting", "waiting", "rude"]})
    >>> d = {"waiting": {"complaint": True}, "rude": {"complaint": True}}
    >>> theme_pareto(m, d)[["theme", "comments", "cumulative"]].values.tolist()
    [['waiting', 2, 0.6666666666666666], ['rude', 1, 1.0]]
    """
    dictionary = theme_dictionary(dictionary)
    complaints = [t for t, spec in dictionary.items() if spec.get("complaint", False)]
    counts = matched[matched["theme"].isin(complaints)]["theme"].value_counts()
    out = counts.rename("comments").rename_axis("theme").reset_index()
    total = out["comments"].sum()
    out["share"] = out["comments"] / total if total else np.nan
    out["cumulative"] = out["share"].cumsum()
    return out


def theme_quotes(surveys: pd.DataFrame, matched: pd.DataFrame, *, per_theme: int = 3, cap: int = 200) -> pd.DataFrame:
    """Up to ``per_theme`` example comments per theme (different texts, in ticket order),
    masked with :func:`mask_pii` and cut to ``cap`` characters.

    Parameters
    ----------
    surveys : pandas.DataFrame
        Surveys with ``ticket_id``, ``comment``.
    matched : pandas.DataFrame
        :func:`themes`.
    per_theme : int, default 3
        Quotes per theme.
    cap : int, default 200
        Most characters per quote.

    Returns
    -------
    pandas.DataFrame
        ``theme, quote, language``.

    Examples
    --------
    >>> s = pd.DataFrame({"ticket_id": ["A"], "comment": ["Call me at +1 555 123 4567"], "language": ["en"]})
    >>> theme_quotes(s, pd.DataFrame({"ticket_id": ["A"], "theme": ["callback"]}))["quote"].tolist()
    ['Call me at [phone]']
    """
    text = surveys.drop_duplicates("ticket_id").set_index("ticket_id")
    rows = []
    for theme, part in matched.groupby("theme", sort=True):
        seen: list[str] = []
        for ticket in sorted(part["ticket_id"]):
            quote = mask_pii(text.at[ticket, "comment"], cap=cap)
            if quote in seen:
                continue
            seen.append(quote)
            rows.append({"theme": theme, "quote": quote,
                         "language": text.at[ticket, "language"] if "language" in text else None})
            if len(seen) >= per_theme:
                break
    return pd.DataFrame(rows, columns=["theme", "quote", "language"])


# ------------------------------------------------------------------------------ findings
def findings(*, bias: Sequence[dict] = (), driver_table: pd.DataFrame | None = None,
             balance: pd.DataFrame | None = None, pareto: pd.DataFrame | None = None,
             tickets: int = 0, page: str = "30_voice_of_customer") -> list[Finding]:
    """What the voice-of-the-customer page found, as findings (only real effects).

    Parameters
    ----------
    bias : sequence of dict
        :func:`reweighted_score` results; a biased one is a finding.
    driver_table : pandas.DataFrame, optional
        :func:`drivers`; each driver whose effect's interval lies below 0 is a finding
        (the top one ``high``, the next two ``medium``, others ``low``).
    balance : pandas.DataFrame, optional
        :func:`respondent_balance`, to name the most over-represented ticket fact.
    pareto : pandas.DataFrame, optional
        :func:`theme_pareto`; the most frequent complaint theme is a ``low`` finding.
    tickets : int, default 0
        Tickets of the cycle (for the reach of a driver).
    page : str, default "30_voice_of_customer"
        The page.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> b = {"kind": "csat", "raw": 0.4, "reweighted": 0.5, "shift": 0.1, "shift_low": 0.05, "shift_high": 0.15,
    ...      "low": 0.45, "high": 0.55, "answered": 300, "sent": 1500, "biased": True}
    >>> [f.kind for f in findings(bias=[b])]
    ['response_bias']
    """
    out: list[Finding] = []
    over = None
    if balance is not None and len(balance):
        top = balance[balance["std_difference"] > 0.1].head(1)
        if len(top):
            r = top.iloc[0]
            over = (f"{_tickets_with(r['label'], r['value'])} ({r['respondents']:.0%} of answers against "
                    f"{r['non_respondents']:.0%} of the surveys not answered)")
    for b in bias:
        if not b.get("biased"):
            continue
        pct = b["kind"] == "nps"
        unit = (lambda v: f"{v:+.1f} points") if pct else (lambda v: f"{100 * v:+.1f} pp")
        level = (lambda v: f"{v:.1f}") if pct else (lambda v: f"{v:.1%}")
        direction = "understates" if b["shift"] > 0 else "overstates"
        who = f"Respondents over-represent {over}: the raw" if over else "The raw"
        out.append(Finding(
            f"{who} {b['kind'].upper()} ({level(b['raw'])}) {direction} what all surveyed customers would "
            f"say; reweighted it is {level(b['reweighted'])} ({unit(b['shift'])}).",
            f"n = {b['answered']:,} answers of {b['sent']:,} surveys; shift {unit(b['shift'])} (95 % CI "
            f"{unit(b['shift_low'])} to {unit(b['shift_high'])})", "medium", 1.0, page, anchor="response-bias",
            kind="response_bias", kpi=b["kind"] if b["kind"] in ("csat", "nps") else None,
            action="Report the reweighted figure beside the raw one, and raise answers from the "
                   "under-represented tickets (shorter survey, reminder).",
            figures={k: float(b[k]) for k in ("raw", "reweighted", "shift", "shift_low", "shift_high")}))
    if driver_table is not None and len(driver_table):
        real = driver_table[driver_table["ci_high"] < 0].sort_values("impact", kind="stable")
        kind = driver_table.attrs.get("kind", "csat").upper()
        for i, r in enumerate(real.itertuples()):
            severity = "high" if i == 0 else "medium" if i < 3 else "low"
            group = ticket_group(r.fact, r.value)  # "tickets transferred once", not "transfers: once"
            out.append(Finding(
                f"{group[0].upper()}{group[1:]} cost {kind}: their customers are {abs(100 * r.effect):.0f} pp less "
                f"often satisfied; with {r.prevalence:.0%} of tickets affected that is {abs(100 * r.impact):.1f} pp "
                f"of {kind} overall.",
                f"n = {r.n:,} answers with it; effect {100 * r.effect:+.1f} pp (95 % CI {100 * r.ci_low:+.1f} to "
                f"{100 * r.ci_high:+.1f}); odds ratio {r.odds_ratio:.2f} ({r.or_low:.2f} to {r.or_high:.2f})",
                severity, float(min(1.0, max(0.0, r.prevalence))) if np.isfinite(r.prevalence) else 0.0, page,
                anchor="drivers", kind="driver", kpi=kind.lower() if kind.lower() in ("csat", "nps") else None,
                team=r.value if r.fact == "team" else None,
                action=f"Act on the {group} first: they cost the most satisfaction." if i == 0 else "",
                figures={"effect": float(r.effect), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high),
                         "impact": float(r.impact)}))
    if pareto is not None and len(pareto):
        r = pareto.iloc[0]
        out.append(Finding(f"The most frequent complaint in customers' comments is '{r['theme']}' "
                           f"({r['share']:.0%} of complaint mentions).",
                           f"n = {int(r['comments']):,} comments", "low", float(min(1.0, r["share"])), page,
                           anchor="verbatims", kind="verbatim_theme"))
    return out


# ------------------------------------------------------------------------------ a cycle's page
def _kinds(cycle: object, wanted: Sequence[str]) -> list[str]:
    surveys = cycle.surveys
    if surveys is None or "score" not in surveys:
        return []
    answered = surveys[surveys["score"].notna()]
    if "kind" not in answered:
        return ["csat"] if "csat" in wanted and len(answered) else []
    present = set(answered["kind"].dropna())
    return [k for k in wanted if k in present]


def response_bias(cycle: object, *, boot: int = 200, kinds: Sequence[str] = ("csat", "nps"), seed: int = 20263
                  ) -> dict:
    """The response-bias section of a cycle: response rates, respondents against
    non-respondents, the reweighted figure and the verdict of each survey kind.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (tickets and surveys).
    boot : int, default 200
        Bootstrap resamples of :func:`reweighted_score`.
    kinds : sequence of str, default ("csat", "nps")
        Survey kinds to reweight (those with answers).
    seed : int, default 20263
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``covariates, rates, balance, results`` (one :func:`reweighted_score` per kind) and
        ``sentences`` (:func:`bias_sentence` per kind).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> part = response_bias(load_cycle("data/sample", "2026Q3"), boot=20, kinds=("csat",))
    >>> [r["biased"] for r in part["results"]], part["sentences"][0][:42]
    ([True], 'CSAT: respondents over-represent tickets e')
    """
    cov = covariates(cycle)
    rates = response_rates(cycle.surveys, cov, by=[f for f in ("transfer", "escalated", "reopened", "ttr_bucket",
                                                             "channel", "team") if f in cov])
    balance = respondent_balance(cycle.surveys, cov)
    scales = cycle.config.survey_scales
    results, sentences = [], []
    for kind in _kinds(cycle, kinds):
        try:
            result = reweighted_score(cycle.surveys, cov, kind=kind, scale=scales.get(kind), boot=boot, seed=seed)
        except InputError as error:
            sentences.append(f"{kind.upper()}: not available: {str(error).splitlines()[0]}")
            continue
        results.append(result)
        sentences.append(bias_sentence(result, balance))
    return {"covariates": cov, "rates": rates, "balance": balance, "results": results, "sentences": sentences}


def driver_tables(cycle: object, *, kinds: Sequence[str] = ("csat", "nps"), covariates_: pd.DataFrame | None = None
                  ) -> dict[str, pd.DataFrame]:
    """:func:`drivers` of each survey kind with enough answers (20 at least), prevalence
    over every ticket of the cycle.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle.
    kinds : sequence of str, default ("csat", "nps")
        Survey kinds (NPS: the driver of *not* being a detractor).
    covariates_ : pandas.DataFrame, optional
        :func:`covariates` of the cycle, when already computed.

    Returns
    -------
    dict of str to pandas.DataFrame
        Kind → drivers table; a kind with too few answers is left out.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> tables = driver_tables(load_cycle("data/sample", "2026Q3"))
    >>> sorted(tables), tables["csat"]["driver"].iloc[0]
    (['csat', 'nps'], 'transfers: once')
    """
    cov = covariates(cycle) if covariates_ is None else covariates_
    scales = cycle.config.survey_scales
    out = {}
    for kind in _kinds(cycle, kinds):
        try:
            out[kind] = drivers(cycle.surveys, cov, kind=kind, scale=scales.get(kind), population=cov)
        except InputError:
            continue
    return out


def verbatims(cycle: object, *, per_theme: int = 3, cap: int = 200) -> dict:
    """The verbatim section of a cycle: themes of the survey comments (review.yml
    ``themes``), their counts by answer band, the Pareto of complaints and quotes.

    Parameters
    ----------
    cycle : cxassess.cycles.Cycle
        The cycle (surveys with comments).
    per_theme : int, default 3
        Quotes per theme.
    cap : int, default 200
        Most characters per quote.

    Returns
    -------
    dict
        ``matched, summary, pareto, quotes, comments`` (number of comments).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> part = verbatims(load_cycle("data/sample", "2026Q3"))
    >>> part["pareto"]["theme"].iloc[0], len(part["quotes"]) <= 3 * part["summary"]["theme"].nunique()
    ('waiting', True)
    """
    surveys = cycle.surveys
    dictionary = theme_dictionary(cycle.config.settings.themes)
    matched = themes(surveys, dictionary)
    comments = int((surveys["comment"].notna() & (surveys["comment"].astype(str).str.strip() != "")).sum())
    return {"matched": matched, "summary": theme_summary(surveys, matched, scales=cycle.config.survey_scales),
            "pareto": theme_pareto(matched, dictionary), "quotes": theme_quotes(surveys, matched, per_theme=per_theme,
                                                                                cap=cap),
            "comments": comments}


def left_out_sentences(table: pd.DataFrame) -> list[str]:
    """Why a fact is missing from the drivers (it coincides with facts before it).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`drivers`.

    Returns
    -------
    list of str
        One sentence per fact left out (empty: none).

    Examples
    --------
    >>> t = pd.DataFrame()
    >>> t.attrs["left_out"] = ["escalated to a specialist"]
    >>> left_out_sentences(t)
    ['escalated to a specialist: the same tickets as a driver above (cannot be told apart), left out.']
    """
    return [f"{name}: the same tickets as a driver above (cannot be told apart), left out."
            for name in table.attrs.get("left_out", [])]


"""Scorecard: ``cycle_kpis`` on a synthetic cycle of 1,000,000 tickets (1 M surveys,
0.5 M customers, drawn with NumPy, no event log) from pandas and from Polars tables,
beside a plain hand-written pandas version of the same KPIs (values only: no intervals, no
censoring, calendar hours), whole cycle and by channel. Loading and the events join are
not included (see ``bench_review`` for the whole page)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from cxassess.config import load_config
from cxassess.cycles import Cycle, cycle_window
from tests.bench._common import ROOT, repeat, row


def synthetic_cycle(tickets: int, seed: int = 7, dataset: Path | str = ROOT / "data" / "sample") -> Cycle:
    """A large 2026Q3 cycle of the sample's review.yml, drawn directly with NumPy (no event
    log: the escalation flag is drawn per ticket). For benchmarks only; the sample with its
    planted truths is :mod:`cxassess.synth`."""
    rng = np.random.default_rng(seed)
    config = load_config(dataset)
    start, end = cycle_window("2026Q3", config.timezone)
    span = (end - start).total_seconds()
    created = start + pd.to_timedelta(np.sort(rng.uniform(0, span, tickets)), unit="s")
    reply = pd.to_timedelta(rng.exponential(3 * 3600, tickets), unit="s")
    resolve = pd.to_timedelta(rng.exponential(30 * 3600, tickets), unit="s")
    first_response = pd.Series(created + reply).where(created + reply < end)
    resolved = pd.Series(created + reply + resolve).where(created + reply + resolve < end)
    pick = lambda values, p=None: rng.choice(np.array(values, dtype=object), tickets, p=p)  # noqa: E731
    t = pd.DataFrame({
        "ticket_id": [f"T{i:08d}" for i in range(tickets)],
        "created_at": created, "channel": pick(["email", "chat", "phone", "web"], [0.35, 0.25, 0.2, 0.2]),
        "priority": pick(["low", "normal", "high", "urgent"], [0.2, 0.55, 0.2, 0.05]),
        "team": pick(["tier1_north", "tier1_south"]), "first_response_at": first_response,
        "resolved_at": resolved, "reopens": rng.binomial(1, 0.07, tickets),
        "transfers": rng.poisson(0.3, tickets), "agent_replies": 1 + rng.poisson(0.6, tickets),
        "escalated": rng.random(tickets) < 0.25,
    })
    for c in ("channel", "priority", "team"):
        t[c] = t[c].astype("str")
    answered = rng.random(tickets) < 0.2
    kind = rng.choice(np.array(["csat", "nps", "ces"]), tickets, p=[0.5, 0.3, 0.2])
    scale = pd.Series(kind).map(config.survey_scales).to_numpy()
    low = np.where(scale == 11, 0, 1)
    s = pd.DataFrame({"ticket_id": t["ticket_id"], "sent_at": created, "kind": kind.astype(str), "scale": scale,
                      "score": np.where(answered, low + rng.integers(0, scale), np.nan)})
    n_customers = tickets // 2
    joined = start - pd.to_timedelta(rng.uniform(-30, 2000, n_customers), unit="D")
    left = pd.Series(joined + pd.to_timedelta(rng.uniform(0, 3000, n_customers), unit="D"))
    c = pd.DataFrame({"customer_id": np.arange(n_customers), "active_from": joined,
                      "active_to": left.where(left < end),
                      "segment": rng.choice(np.array(["consumer", "smb", "enterprise"]), n_customers).astype(str)})
    return Cycle(config=config, label="2026Q3", previous="2026Q2", start=start, end=end,
                 tables={"tickets": t, "surveys": s, "customers": c})


def handwritten_scorecard(cycle: Cycle, by: str | None = None) -> pd.DataFrame:
    """The same KPIs as an analyst writes them in plain pandas: values only (no interval,
    no n), medians of the answered or resolved tickets only, calendar hours, SLA on the
    calendar clock with open tickets ignored."""
    t, s, c = cycle.tickets, cycle.surveys, cycle.customers
    keys = [by] if by else []
    if by:
        s = s.merge(t[["ticket_id", by]], on="ticket_id")
    g = (lambda df: df.groupby(keys)) if by else (lambda df: df.assign(_all=0).groupby("_all"))
    answered = s[s["score"].notna()]
    out = {
        "csat": g(answered[answered["kind"] == "csat"]).apply(lambda d: (d["score"] >= 4).mean()),
        "nps": g(answered[answered["kind"] == "nps"]).apply(
            lambda d: 100 * ((d["score"] >= 9).mean() - (d["score"] <= 6).mean())),
        "ces_mean": g(answered[answered["kind"] == "ces"])["score"].mean(),
        "ces_agree": g(answered[answered["kind"] == "ces"]).apply(lambda d: (d["score"] >= 5).mean()),
    }
    hours = lambda a, b: (t[b] - t[a]).dt.total_seconds() / 3600  # noqa: E731
    t = t.assign(frt=hours("created_at", "first_response_at"), ttr=hours("created_at", "resolved_at"))
    resolved = t[t["resolved_at"].notna() | (t["reopens"] > 0)]  # a reopened ticket was resolved once
    out.update({
        "frt_hours": g(t)["frt"].median(), "ttr_hours": g(t)["ttr"].median(),
        "fcr": g(resolved).apply(lambda d: ((d["reopens"] == 0) & (d["transfers"] == 0)).mean()),
        "one_touch": g(resolved).apply(lambda d: (d["agent_replies"] <= 1).mean()),
        "reopen_rate": g(resolved).apply(lambda d: (d["reopens"] > 0).mean()),
        "transfer_rate": g(t).apply(lambda d: (d["transfers"] > 0).mean()),
        "escalation_rate": g(t)["escalated"].mean(),
        "open_share": g(t).apply(lambda d: d["resolved_at"].isna().mean()),
    })
    for policy in cycle.config.sla:
        col = "frt" if policy.metric == "first_response" else "ttr"
        covered = t[t["channel"].isin(policy.channels or t["channel"].unique())
                    & t["priority"].isin(policy.priorities or t["priority"].unique()) & t[col].notna()]
        out[f"sla: {policy.name}"] = g(covered).apply(lambda d, col=col, h=policy.hours: (d[col] <= h).mean())
    at_start = (c["active_from"] < cycle.start) & (c["active_to"].isna() | (c["active_to"] >= cycle.start))
    lost = at_start & c["active_to"].notna() & (c["active_to"] < cycle.end)
    out["churn"] = pd.Series({0: lost.sum() / at_start.sum()}) if not by else pd.Series(dtype=float)
    return pd.DataFrame(out)


def run(reps: int = 3, tickets: int = 1_000_000) -> dict:
    """Seconds of the scorecard (pandas and Polars tables) and of the hand-written pandas."""
    import polars as pl

    from cxassess.kpis.scorecard import cycle_kpis

    cycle = synthetic_cycle(tickets)
    polars = dataclasses.replace(cycle, tables={k: pl.from_pandas(v) for k, v in cycle.tables.items()})
    sizes = f"{len(cycle.tickets):,} tickets, {len(cycle.surveys):,} surveys, {len(cycle.customers):,} customers"
    rows = []
    for by in (None, "channel"):
        where = "whole cycle" if by is None else f"by {by}"
        rows += [
            row(f"cycle_kpis, pandas tables, synthetic cycle ({where}; {sizes})", "s",
                repeat(lambda by=by: cycle_kpis(cycle, by=by), reps)),
            row(f"cycle_kpis, Polars tables ({where})", "s", repeat(lambda by=by: cycle_kpis(polars, by=by), reps)),
            row(f"hand-written pandas, values only ({where})", "s",
                repeat(lambda by=by: handwritten_scorecard(cycle, by=by), reps)),
        ]
    return {"what": f"scorecard KPIs in memory on a synthetic cycle ({sizes}); no loading, no events join",
            "rows": rows}

"""KPIs: ``cxassess.kpis.scorecard.cycle_kpis`` on the 1 M-ticket cycle in memory beside a
bare Polars group-by computing the same aggregates over the same columns.

The bare version reads, from the tickets: created_at, first_response_at, resolved_at,
reopens, transfers, agent_replies (and the segment column); from the surveys: kind, score;
from the customers: active_from, active_to. It computes, per segment: tickets, transfer
rate (transfers > 0), share open (resolved_at missing), reopen rate, FCR (no reopen, no
transfer) and one-touch (agent_replies <= 1) among resolved tickets, median first-response
and resolution hours (calendar hours, answered/resolved tickets only), CSAT top-box
(score >= 4 of csat answers), NPS (% 9-10 minus % 0-6), CES mean and agree share (>= 5),
and, for the whole cycle, churn. It computes no interval, no business hours, no
censoring, no SLA: what the package adds is the difference.
"""

from __future__ import annotations

import dataclasses
import statistics

from tests.bench._common import bench_data, repeat, row


def bare_polars(tickets, surveys, customers, start, end, by: str | None = None) -> dict:
    """The same aggregates as plain Polars group-bys (see the module's docstring)."""
    import polars as pl

    keys = [by] if by else []
    hours = lambda a: (pl.col(a) - pl.col("created_at")).dt.total_seconds() / 3600  # noqa: E731
    resolved = pl.col("resolved_at").is_not_null() | (pl.col("reopens") > 0)
    t = tickets.lazy().with_columns(_all=pl.lit(0))
    group = keys or ["_all"]
    ticket_kpis = t.group_by(group).agg(
        tickets=pl.len(),
        transfer_rate=(pl.col("transfers") > 0).mean(),
        open_share=pl.col("resolved_at").is_null().mean(),
        reopen_rate=(pl.col("reopens") > 0).filter(resolved).mean(),
        fcr=((pl.col("reopens") == 0) & (pl.col("transfers") == 0)).filter(resolved).mean(),
        one_touch=(pl.col("agent_replies") <= 1).filter(resolved).mean(),
        frt_hours=hours("first_response_at").median(),
        ttr_hours=hours("resolved_at").median(),
    )
    s = surveys.lazy().filter(pl.col("score").is_not_null())
    if by:
        s = s.join(tickets.lazy().select("ticket_id", by), on="ticket_id")
    s = s.with_columns(_all=pl.lit(0))
    score = pl.col("score")
    survey_kpis = s.group_by(group).agg(
        csat=(score >= 4).filter(pl.col("kind") == "csat").mean(),
        nps=100 * ((score >= 9).filter(pl.col("kind") == "nps").mean()
                   - (score <= 6).filter(pl.col("kind") == "nps").mean()),
        ces_mean=score.filter(pl.col("kind") == "ces").mean(),
        ces_agree=(score >= 5).filter(pl.col("kind") == "ces").mean(),
    )
    out = {"tickets": ticket_kpis.collect(), "surveys": survey_kpis.collect()}
    if not by:
        at_start = (pl.col("active_from") < start) & (pl.col("active_to").is_null() | (pl.col("active_to") >= start))
        lost = at_start & pl.col("active_to").is_not_null() & (pl.col("active_to") < end)
        out["churn"] = customers.select(lost.sum() / at_start.sum()).item()
    return out


def run(reps: int = 3) -> dict:
    """Load 2026Q3 of the benchmark data (tickets, surveys, customers) once, then time
    ``cycle_kpis`` (pandas tables as loaded, and Polars tables) and the bare Polars
    group-bys, whole cycle and by channel; ratio = median / median of the bare version."""
    import polars as pl

    from cxassess.cycles import load_cycle
    from cxassess.kpis.scorecard import cycle_kpis

    data = bench_data()
    cycle = load_cycle(data, "2026Q3", tables=("tickets", "surveys", "customers"))
    as_polars = dataclasses.replace(cycle, tables={k: pl.from_pandas(v) for k, v in cycle.tables.items()})
    t, s, c = (as_polars.tables[k] for k in ("tickets", "surveys", "customers"))
    start, end = cycle.start, cycle.end
    rows, sizes = [], f"{len(t):,} tickets, {len(s):,} surveys, {len(c):,} customers"
    for by in (None, "channel"):
        where = "whole cycle" if by is None else f"by {by}"
        bare = repeat(lambda by=by: bare_polars(t, s, c, start, end, by), reps)
        # cycle_kpis keeps its result on the cycle (Cycle.once): cleared so each run computes afresh
        package = repeat(lambda by=by: cycle.computed.clear() or cycle_kpis(cycle, by=by), reps)
        package_pl = repeat(lambda by=by: as_polars.computed.clear() or cycle_kpis(as_polars, by=by), reps)
        base = statistics.median(bare)
        rows += [
            row(f"bare Polars group-by, same columns ({where}; {sizes}; {data.name})", "s", bare),
            row(f"cycle_kpis, pandas tables as loaded ({where})", "s", package),
            row(f"cycle_kpis, Polars tables ({where})", "s", package_pl),
            row(f"ratio cycle_kpis (pandas tables) / bare Polars ({where})", "x", [v / base for v in package],
                goal="<= 3x", met=statistics.median(package) / base <= 3, digits=2),
            row(f"ratio cycle_kpis (Polars tables) / bare Polars ({where})", "x", [v / base for v in package_pl],
                goal="<= 3x", met=statistics.median(package_pl) / base <= 3, digits=2),
        ]
    return {"what": f"cycle_kpis vs a bare Polars group-by on 2026Q3 of {data.name} ({sizes}), in memory",
            "data": data.name, "rows": rows}

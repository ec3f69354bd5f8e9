"""Benchmarks (``make bench``): time and peak memory of the backbone and the scorecard.

Figures go to ``reports/bench/`` as CSV and JSON; nothing here is asserted by the tests.
``backbone.*``: generating, loading, deriving and gating a sample (``--tickets``, default
200,000). ``scorecard.*``: the full KPI scorecard on ``--scorecard-tickets`` (default
1,000,000) synthetic tickets from pandas and from Polars tables, beside a plain
hand-written pandas version of the same KPIs (what an analyst writes today: no intervals,
no censoring, calendar hours).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cxassess.config import load_config
from cxassess.cycles import Cycle, cycle_window, load_cycle
from cxassess.eventlog import tickets_from_events
from cxassess.synth import SampleSpec, write_sample

__all__ = ["measure", "run", "run_read", "run_scorecard", "run_stages", "run_cardinality", "synthetic_cycle",
           "synthetic_events", "handwritten_scorecard", "write_tickets_csv"]


def _rss_mib() -> float:
    """Resident memory of this process now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(step: str, fn: Callable[[], object], rows: int) -> dict:
    """Wall time of one call and the resident memory it added at its peak.

    A thread samples the process's RSS every 5 ms while ``fn`` runs (any allocator:
    NumPy, Arrow, Polars' Rust code), so ``peak_added_mib`` = peak RSS during the step −
    RSS before it. Memory freed by earlier steps and kept by the allocator can be reused,
    so the figure is a lower bound of the step's own need.
    """
    gc.collect()
    before = _rss_mib()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _rss_mib())
    return {"step": step, "rows": rows, "seconds": round(seconds, 3),
            "peak_added_mib": round(peak[0] - before, 1), "process_rss_mib": round(peak[0], 1),
            "rows_per_second": round(rows / seconds) if seconds else None}


def run(tickets: int, out: Path) -> pd.DataFrame:
    """Generate ``tickets`` tickets over four cycles, then load, derive and validate them."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        spec = SampleSpec(tickets_per_cycle=tickets // 4)
        results.append(measure("generate + write sample (4 cycles)", lambda: write_sample(root, spec), tickets))
        cycle = load_cycle(root, "2026Q3")
        n_events = len(cycle.events)
        results.append(measure("load one cycle (6 tables)", lambda: load_cycle(root, "2026Q3"), tickets // 4))
        results.append(
            measure("derive tickets from events", lambda: tickets_from_events(cycle.events, cycle.config.process), n_events)
        )
        from cxassess.quality import check_cycle
        from cxassess.quality.suites import gx_context

        gx_context()  # GX import and context (seconds) are not part of the gate's time
        rows = sum(len(df) for df in cycle.tables.values())
        results.append(measure("data-quality gate, one cycle (GX, 6 tables)",
                               lambda: check_cycle(root, "2026Q3"), rows))
    table = pd.DataFrame(results)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "backbone.csv", index=False)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "tickets": tickets, "results": results}
    (out / "backbone.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return table


def synthetic_cycle(tickets: int, seed: int = 7, dataset: Path | str = "data/sample") -> Cycle:
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


#: Paths of the synthetic event log of the stage benchmark (activities of the support template).
_PATHS = (
    ("Ticket received", "Categorised", "First reply", "Solution provided", "Closed", "Survey sent"),
    ("Ticket received", "Categorised", "First reply", "Escalated to specialist", "Specialist picked up",
     "Specialist reply", "Solution provided", "Closed", "Survey sent"),
    ("Ticket received", "Categorised", "First reply", "Agent reply", "Solution provided", "Reopened",
     "Agent reply", "Solution provided", "Closed"),
    ("Ticket received", "Categorised", "First reply", "Escalated to specialist", "Specialist picked up",
     "Returned to first level", "Agent reply", "Solution provided", "Closed", "Survey sent"),
)


def synthetic_events(events: int, seed: int = 7) -> pd.DataFrame:
    """An event log of about ``events`` events in the support template's activities, drawn
    with NumPy (4 path variants, exponential gaps). For benchmarks only."""
    rng = np.random.default_rng(seed)
    lengths = np.array([len(p) for p in _PATHS])
    weights = np.array([0.6, 0.2, 0.1, 0.1])
    tickets = int(events / (lengths @ weights))
    variant = rng.choice(len(_PATHS), tickets, p=weights)
    n = lengths[variant]
    ticket = np.repeat(np.arange(tickets), n)
    position = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    table = np.array([list(p) + [""] * (lengths.max() - len(p)) for p in _PATHS], dtype=object)
    activity = table[np.repeat(variant, n), position]
    start = pd.Timestamp("2026-07-01", tz="Europe/Berlin")
    opened = rng.uniform(0, 90 * 86400, tickets)
    gaps = rng.exponential(4 * 3600, len(ticket)) * (position > 0)
    seconds = np.repeat(opened, n) + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(n) - n], n)
    teams = np.array(["tier1_north", "tier1_south", "tech_specialists"], dtype=object)
    specialist = np.isin(activity, ["Specialist picked up", "Specialist reply"])
    team = np.where(specialist, teams[2], teams[np.repeat(rng.integers(0, 2, tickets), n)])
    return pd.DataFrame({
        "ticket_id": np.char.add("T", ticket.astype(str)).astype(object),
        "timestamp": start + pd.to_timedelta(np.floor(seconds), unit="s"),
        "activity": activity.astype(str), "team": team.astype(str),
    })


def run_stages(events: int, out: Path) -> pd.DataFrame:
    """Stage metrics and flow on a synthetic log beside pm4py's DFG and performance DFG."""
    from cxassess.config import load_config
    from cxassess.process import directly_follows, stage_flow, stage_metrics

    process = load_config("data/sample").process
    log = synthetic_events(events)
    rows = len(log)
    results = [
        measure("cxassess stage metrics (visits, times, ranks)", lambda: stage_metrics(log, process), rows),
        measure("cxassess stage flow (moves, waits, allowed)", lambda: stage_flow(log, process), rows),
        measure("cxassess directly-follows of activities + median times", lambda: directly_follows(log), rows),
    ]
    try:
        import pm4py
    except ImportError:  # pm4py is a dev dependency (AGPL): the comparison needs it installed
        pm4py = None
    if pm4py is not None:
        frame = {}

        def formatted() -> None:
            frame["df"] = pm4py.format_dataframe(log[["ticket_id", "activity", "timestamp"]].copy(),
                                                 case_id="ticket_id", activity_key="activity",
                                                 timestamp_key="timestamp")

        results.append(measure("pm4py format_dataframe", formatted, rows))
        results.append(measure("pm4py discover_dfg", lambda: pm4py.discover_dfg(frame["df"]), rows))
        results.append(measure("pm4py discover_performance_dfg",
                               lambda: pm4py.discover_performance_dfg(frame["df"]), rows))
    table = pd.DataFrame(results)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "stages.csv", index=False)
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "events": rows,
            "tickets": int(log["ticket_id"].nunique()), "results": results}
    (out / "stages.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return table


def run_scorecard(tickets: int, out: Path) -> pd.DataFrame:
    """Time and memory of the scorecard from pandas and Polars tables and of the
    hand-written pandas version, overall and by channel."""
    import dataclasses

    import polars as pl

    from cxassess.kpis.scorecard import cycle_kpis

    cycle = synthetic_cycle(tickets)
    polars = dataclasses.replace(cycle, tables={k: pl.from_pandas(v) for k, v in cycle.tables.items()})
    rows = len(cycle.tickets) + len(cycle.surveys) + len(cycle.customers)
    results = []
    for by in (None, "channel"):
        where = "whole cycle" if by is None else f"by {by}"
        results.append(measure(f"scorecard, pandas tables ({where})", lambda by=by: cycle_kpis(cycle, by=by), rows))
        results.append(measure(f"scorecard, Polars tables ({where})", lambda by=by: cycle_kpis(polars, by=by), rows))
        results.append(measure(f"hand-written pandas, values only ({where})",
                               lambda by=by: handwritten_scorecard(cycle, by=by), rows))
    table = pd.DataFrame(results)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "scorecard.csv", index=False)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "tickets": tickets, "surveys": len(cycle.surveys), "customers": len(cycle.customers),
            "memory": "peak_added_mib: peak RSS during the step minus RSS before it (sampled every 5 ms)",
            "results": results}
    (out / "scorecard.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return table


def run_cardinality(out: Path, *, tickets: int = 10_000, teams: int = 300, repeats: int = 3) -> dict:
    """The scorecard notebook at real cardinality: ``teams`` teams (long tail) and 15 stages
    on ``tickets`` tickets per cycle (:func:`cxassess.synth.write_wide_sample`).

    Measures, ``repeats`` times each: the scorecard by team (``kpis.scorecard(now, before,
    by="team")``, in process) and the whole scorecard notebook executed by papermill (kernel
    start included, data-quality gate saved beforehand as a review run does) plus its HTML
    rendering. Reports the median, min and max seconds and the page size.
    """
    import statistics

    import papermill as pm

    from cxassess import quality
    from cxassess.kpis import scorecard
    from cxassess.report import render_html
    from cxassess.synth import write_wide_sample

    runs: dict[str, list[float]] = {"scorecard by team (in process)": [], "scorecard notebook (papermill)": [],
                                    "render the page (nbconvert)": []}
    page_bytes = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = write_wide_sample(Path(tmp) / "wide", tickets=tickets, teams=teams)
        report = Path(tmp) / "report"
        quality.check_cycle(root, "2026Q3").save(report)
        quality.check_cycle(root, "2026Q2").save(report / "previous")
        now = load_cycle(root, "2026Q3")
        before = now.load_previous()
        for _ in range(repeats):
            t0 = time.perf_counter()
            scorecard(now, before, by="team")
            runs["scorecard by team (in process)"].append(time.perf_counter() - t0)
            executed = report / "20_kpi_scorecard.ipynb"
            t0 = time.perf_counter()
            pm.execute_notebook("notebooks/20_kpi_scorecard.ipynb", str(executed), kernel_name="python3",
                                progress_bar=False, parameters={"dataset": str(root), "cycle": "2026Q3",
                                                                "previous_cycle": "2026Q2", "report_dir": str(report)})
            runs["scorecard notebook (papermill)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            page_bytes = len(render_html(executed).encode("utf-8"))
            runs["render the page (nbconvert)"].append(time.perf_counter() - t0)
    results = [{"step": step, "repeats": len(v), "median_seconds": round(statistics.median(v), 2),
                "min_seconds": round(min(v), 2), "max_seconds": round(max(v), 2)} for step, v in runs.items()]
    meta = {"what": f"scorecard notebook (scorecard, trends, breakdowns by channel and team) on a synthetic cycle "
                    f"of {tickets:,} tickets, {teams} teams (long tail), 15 stages, with a previous cycle",
            "python": platform.python_version(), "cpus": os.cpu_count(), "tickets": tickets, "teams": teams,
            "page_mb": round(page_bytes / 1e6, 2), "results": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / "cardinality.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def write_tickets_csv(path: Path, tickets: int, seed: int = 11) -> Path:
    """Write a 2026Q3 tickets CSV of the sample's shape (16 columns, ISO timestamps with
    their offset) with NumPy and pyarrow: the sample generator is too slow at 1 M tickets."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-07-01T00:00:00")
    span = 92 * 86_400
    created = start + np.sort(rng.integers(0, span, tickets)).astype("timedelta64[s]")

    def stamp(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
        text = np.char.add(np.datetime_as_string(values, unit="s"), "+02:00")  # Q3: summer time
        return pa.array(text, pa.string(), mask=missing)

    reply = created + rng.exponential(3 * 3600, tickets).astype("timedelta64[s]")
    resolved = reply + rng.exponential(30 * 3600, tickets).astype("timedelta64[s]")
    closed = resolved + rng.exponential(24 * 3600, tickets).astype("timedelta64[s]")
    end = start + np.timedelta64(span, "s")
    pick = lambda values, p=None: pa.array(rng.choice(np.array(values), tickets, p=p))  # noqa: E731
    columns = {
        "ticket_id": pa.array(np.char.add("T", np.char.zfill(np.arange(tickets).astype(str), 8))),
        "created_at": stamp(created),
        "channel": pick(["email", "chat", "phone", "web"], [0.35, 0.25, 0.2, 0.2]),
        "priority": pick(["low", "normal", "high", "urgent"], [0.2, 0.55, 0.2, 0.05]),
        "category": pick(["billing", "technical", "account", "delivery"]),
        "team": pick(["tier1_north", "tier1_south", "billing_specialists", "tech_specialists"]),
        "agent_id": pick([f"north-{i:02d}" for i in range(40)]),
        "customer_id": pa.array(np.char.add("C", np.char.zfill(rng.integers(0, tickets // 2, tickets).astype(str), 6))),
        "first_response_at": stamp(reply, reply >= end),
        "resolved_at": stamp(resolved, resolved >= end),
        "closed_at": stamp(closed, closed >= end),
        "reopens": pa.array(rng.binomial(1, 0.07, tickets)),
        "transfers": pa.array(rng.poisson(0.3, tickets)),
        "agent_replies": pa.array(1 + rng.poisson(0.6, tickets)),
        "handle_minutes": pa.array(np.round(rng.gamma(2.0, 6.0, tickets), 1)),
        "status": pick(["open", "resolved", "closed"], [0.1, 0.2, 0.7]),
    }
    pacsv.write_csv(pa.table(columns), path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


_GATE_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from cxassess.quality.suites import gx_context
from cxassess.quality import check_cycle
gx_context()
t1 = time.perf_counter()
if sys.argv[2] == "gate":
    report = check_cycle(sys.argv[1], "2026Q3")
    assert int(report.tables["rows_read"].sum()) > 0
t2 = time.perf_counter()
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"import_seconds": t1 - t0, "gate_seconds": t2 - t1, "peak_rss_mib": hwm / 1024,
                  "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_read(tickets: int, out: Path, repeats: int = 3) -> pd.DataFrame:
    """Peak memory of validating one cycle holding a ``tickets``-row tickets CSV.

    Each repetition runs ``check_cycle`` (what ``cxassess validate`` runs: read, type,
    Great Expectations, quarantine) in a fresh Python process and takes its peak RSS
    (``VmHWM`` of ``/proc/self/status``; Linux's ``ru_maxrss`` of an exec'd child also counts
    the forked parent's pages, it is recorded beside it with the parent's
    ``RUSAGE_CHILDREN``, a running maximum over the children). A
    baseline process does the same imports and creates the GX context but reads nothing,
    so the data's own share is the peak minus the baseline.
    """
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "big"
        (root / "2026Q3").mkdir(parents=True)
        shutil.copy(Path("data/sample/review.yml"), root / "review.yml")
        csv_path = root / "2026Q3" / "tickets.csv"
        # written by another process: this one stays small, so RUSAGE_CHILDREN is the children's own
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from cxassess.bench import "
                        "write_tickets_csv; write_tickets_csv(Path(sys.argv[1]), int(sys.argv[2]))",
                        str(csv_path), str(tickets)], check=True)
        size_mib = csv_path.stat().st_size / 2**20
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        for step in ["baseline"] + ["gate"] * repeats:
            proc = subprocess.run([sys.executable, "-c", _GATE_CHILD, str(root), step],
                                  capture_output=True, text=True, env=env, check=True)
            child = json.loads(proc.stdout.strip().splitlines()[-1])
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            results.append({"step": "imports + GX context only" if step == "baseline" else "check_cycle (validate)",
                            "tickets": tickets, "csv_mib": round(size_mib, 1),
                            "seconds": round(child["gate_seconds"], 2),
                            "peak_rss_mib": round(child["peak_rss_mib"], 1),
                            "ru_maxrss_mib": round(child["ru_maxrss_mib"], 1),
                            "children_max_rss_mib": round(children, 1),
                            "ratio_to_csv": round(child["peak_rss_mib"] / size_mib, 2)})
    table = pd.DataFrame(results)
    baseline = table.loc[0, "peak_rss_mib"]
    table["above_baseline_ratio"] = ((table["peak_rss_mib"] - baseline) / table["csv_mib"]).round(2)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "read.csv", index=False)
    meta = {
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "label": (f"peak resident memory (VmHWM of a fresh process) of cxassess.quality.check_cycle on one "
                  f"cycle whose only table is a {tickets:,}-ticket tickets.csv of {size_mib:.1f} MiB (16 columns); "
                  "read + typing + Great Expectations + quarantine, i.e. what `cxassess validate` runs; "
                  "ratio_to_csv = peak RSS / CSV size; the baseline row is a process that only imports "
                  "cxassess.quality and creates the GX context; above_baseline_ratio = (peak - baseline) / CSV size"),
        "results": table.to_dict(orient="records"),
    }
    (out / "read.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets of the backbone benchmark")
    parser.add_argument("--scorecard-tickets", type=int, default=1_000_000, help="tickets of the scorecard benchmark")
    parser.add_argument("--events", type=int, default=5_000_000, help="events of the stage benchmark")
    parser.add_argument("--read-tickets", type=int, default=1_000_000, help="tickets of the memory benchmark of validate")
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    parser.add_argument("--only", choices=["read", "cardinality"], default=None, help="run only this benchmark")
    args = parser.parse_args()
    if args.only in (None, "read"):
        print(run_read(args.read_tickets, args.out).to_string(index=False))
        print(f"written to {args.out}/read.csv and read.json")
    if args.only in (None, "cardinality"):
        cardinality = run_cardinality(args.out)
        print(cardinality["what"])
        print(pd.DataFrame(cardinality["results"]).to_string(index=False), f"\npage: {cardinality['page_mb']} MB")
        print(f"written to {args.out}/cardinality.json")
    if args.only is not None:
        return
    print(run_stages(args.events, args.out).to_string(index=False))
    print(f"written to {args.out}/stages.csv and stages.json")
    print(run_scorecard(args.scorecard_tickets, args.out).to_string(index=False))
    print(f"written to {args.out}/scorecard.csv and scorecard.json")
    print(run(args.tickets, args.out).to_string(index=False))
    print(f"written to {args.out}/backbone.csv and backbone.json")


if __name__ == "__main__":
    main()

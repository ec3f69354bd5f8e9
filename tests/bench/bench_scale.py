"""Scale (issue 18): stage metrics and stage flow of one cycle of a 50,000,000-event log read
from a partitioned Parquet folder, on DuckDB, Spark ``local[2]`` and Polars (its streaming
engine), each in a fresh process, beside the size of the data.

The log is written once to ``reports/bench/scale/events/`` (``$CXASSESS_SCALE_DATA`` to put
it elsewhere) as Hive partitions: ``cycle=2026Q3`` holds the cycle (parts of 5 M events
drawn by :func:`tests.bench.bench_stages.synthetic_events`, the support template's
activities, about 6.85 M tickets for 50 M events) and ``cycle=2026Q2`` a smaller cycle
that the engines must leave out (partition pruning). Each engine runs in a new Python
process: it opens the cycle with :func:`cxassess.engines.read_parquet` (``partition=
{"cycle": "2026Q3"}``) and computes :func:`cxassess.process.stage_metrics` and
:func:`cxassess.process.stage_flow` in the engine; only the aggregates come back.

Measured per engine and repetition: the wall seconds of the two calculators in that process
(Java's and Spark's start-up are not in them, the session is created before), and the
peak resident memory of the whole process tree (Python, and for Spark its JVM), sampled
every 0.2 s from ``/proc``. The size of the data beside it: the cycle's Parquet files on
disk and the same rows as Arrow tables in memory (what a frame in memory needs at the
least; pandas with Python strings needs more). ``make bench-scale`` runs it (not part of
``make bench``: it writes about 1.5 GB and runs for many minutes).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench._common import OUT, ROOT, PeakRss, row

EVENTS = 50_000_000
CHUNK = 5_000_000
ENGINES = ("duckdb", "spark", "polars")
CYCLE, PRUNED = "2026Q3", "2026Q2"


def data_folder() -> Path:
    """Where the partitioned log is written (``$CXASSESS_SCALE_DATA`` or ``reports/bench/scale``)."""
    return Path(os.environ.get("CXASSESS_SCALE_DATA") or OUT / "scale")


def write_log(folder: Path, events: int = EVENTS, chunk: int = CHUNK) -> dict:
    """Write the partitioned event log under ``folder/events`` unless its manifest says it
    is there already; return the manifest (events, tickets, bytes on disk and in Arrow)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.bench.bench_stages import synthetic_events

    manifest = folder / "manifest.json"
    if manifest.is_file():
        done = json.loads(manifest.read_text(encoding="utf-8"))
        if done.get("events_asked") == events:
            return done
    root = folder / "events"
    facts = {"events": 0, "tickets": 0, "parquet_bytes": 0, "arrow_bytes": 0}
    parts = [(CYCLE, k, min(chunk, events - k * chunk)) for k in range(math.ceil(events / chunk))]
    parts.append((PRUNED, 0, min(chunk, events)))
    for cycle, k, size in parts:
        log = synthetic_events(size, seed=1000 + k + (500 if cycle == PRUNED else 0))
        log["ticket_id"] = f"{cycle}-{k}-" + log["ticket_id"]
        log["timestamp"] = log["timestamp"].dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        table = pa.Table.from_pandas(log, preserve_index=False)
        path = root / f"cycle={cycle}" / f"part-{k:03d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        if cycle == CYCLE:
            facts["events"] += table.num_rows
            facts["tickets"] += log["ticket_id"].nunique()
            facts["parquet_bytes"] += path.stat().st_size
            facts["arrow_bytes"] += table.nbytes
        print(f"  bench scale: wrote {path.relative_to(folder)} ({table.num_rows:,} events)", file=sys.stderr, flush=True)
    facts["events_asked"] = events
    manifest.write_text(json.dumps(facts), encoding="utf-8")
    return facts


def child(engine: str, folder: str) -> dict:
    """In a fresh process: open the cycle on ``engine``, then time the two calculators."""
    from cxassess.config import load_config
    from cxassess.engines import read_parquet, spark_session
    from cxassess.process import stage_flow, stage_metrics

    if engine == "spark":
        spark_session()
    if engine == "polars":
        import polars as pl

        pl.Config.set_engine_affinity("streaming")
    process = load_config(ROOT / "data" / "sample").process
    t0 = time.perf_counter()
    log = read_parquet(Path(folder) / "events", engine, partition={"cycle": CYCLE})
    metrics = stage_metrics(log.to_native(), process)
    t1 = time.perf_counter()
    flow = stage_flow(log.to_native(), process)
    t2 = time.perf_counter()
    return {"stage_metrics": t1 - t0, "stage_flow": t2 - t1,
            "entering": dict(zip(metrics["stage"], metrics["entering"].astype(int).tolist(), strict=True)),
            "moves": int(flow["moves"].sum())}


def _one(engine: str, folder: Path) -> tuple[dict, float]:
    """Run :func:`child` in a new process; its result and the tree's peak RSS in bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_scale", engine, str(folder)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, text=True)
    with PeakRss(proc.pid) as peak:
        out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench scale: the {engine} run failed (exit {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), peak.peak_bytes


def run(reps: int = 3, events: int = EVENTS, engines: tuple[str, ...] = ENGINES) -> dict:
    """Seconds and peak memory of each engine, ``reps`` fresh processes each (no warm-up:
    each process starts cold, as a review does)."""
    folder = data_folder()
    facts = write_log(folder, events)
    gib = 2**30
    size = f"{facts['events']:,} events, {facts['tickets']:,} tickets"
    rows = [row(f"the cycle's Parquet files on disk ({size}, cycle={CYCLE} of a partitioned folder)", "GiB",
                [facts["parquet_bytes"] / gib], digits=2),
            row("the same rows as Arrow tables in memory (the least a frame in memory needs)", "GiB",
                [facts["arrow_bytes"] / gib], digits=2)]
    results, seconds = {}, {}
    for engine in engines:
        runs = [_one(engine, folder) for _ in range(max(1, reps))]
        results[engine] = runs[0][0]
        seconds[engine] = statistics.median(r["stage_metrics"] + r["stage_flow"] for r, _ in runs)
        label = {"duckdb": "DuckDB", "spark": "Spark local[2] (driver and JVM)",
                 "polars": "Polars streaming engine"}[engine]
        peaks = [p / gib for _, p in runs]
        rows += [
            row(f"{label}: stage_metrics of the cycle read from the partitioned folder (fresh process)", "s",
                [r["stage_metrics"] for r, _ in runs], digits=1),
            row(f"{label}: stage_flow, same cycle, same process", "s", [r["stage_flow"] for r, _ in runs], digits=1),
            row(f"{label}: peak resident memory of the process tree during both", "GiB", peaks, digits=2,
                goal="below the data in memory (Arrow)", met=max(peaks) < facts["arrow_bytes"] / gib),
        ]
    entering = {e: r["entering"] for e, r in results.items()}
    same = len({json.dumps(v, sort_keys=True) for v in entering.values()}) == 1
    if not same:
        raise RuntimeError(f"bench scale: the engines disagree on the tickets entering each stage: {entering}")
    if "spark" in seconds:
        per_core = facts["events"] / (2 * seconds["spark"])  # events per core-second, both calculators
        rows.append(row("estimate: Spark cores to compute both for 1,000,000,000 events in 10 min at the median "
                        "rate of local[2] (1e9 / (events per core-second x 600 s); shuffles across machines not "
                        "counted)", "cores", [1e9 / (per_core * 600)], digits=0))
    return {"what": f"stage metrics and flow of {size} from partitioned Parquet on {', '.join(engines)}; "
                    "equal tickets entering each stage on every engine", "rows": rows,
            "data": facts, "entering": entering}


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2])))

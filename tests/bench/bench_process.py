"""Benchmark of the process stages: cxassess against pm4py, and linearity in the events.

``run(reps)`` measures, on synthetic event logs bootstrapped from the sample's tickets
(``data/sample/2026Q3``: each synthetic ticket copies the activities, stages, teams and
time offsets of a sample ticket drawn at random, seeded, and starts at a random instant
of the quarter; the log is ordered by timestamp, as exports are):

(a) on one log of about 5 M events, the stage metrics and the stage flow of cxassess
    (``process_log`` + ``stage_metrics`` + ``stage_flow``, from the events already in
    memory) against pm4py's ``discover_dfg`` + ``discover_performance_dfg`` on the same
    events formatted once beforehand by ``pm4py.format_dataframe`` (as
    tests/test_process.py does; formatting timed separately, not in the comparison);
(b) the same cxassess step on logs of 100 k, 500 k, 1 M and 5 M events: seconds and
    microseconds per event (linear when the time per event stays flat).

Loading files is never timed: every log is generated in memory first. Each timing is
one warm-up run followed by ``reps`` timed runs (median, min, max in seconds). The
machine is shared: the figures are indicative; compare the ratios.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxassess.config import load_config
from cxassess.process import process_log, stage_flow, stage_metrics

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SIZES = (100_000, 500_000, 1_000_000, 5_000_000)
COMPARED = 5_000_000


def sample_events() -> pd.DataFrame:
    """The sample's 2026Q3 event log, read with pandas (no cxassess loader)."""
    ev = pd.read_csv(SAMPLE / "2026Q3" / "events.csv", usecols=["ticket_id", "timestamp", "activity", "stage", "team"])
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True).dt.tz_convert("Europe/Berlin")
    return ev.sort_values(["ticket_id", "timestamp"], kind="stable").reset_index(drop=True)


def synthetic_log(events: int, seed: int = 13, template: pd.DataFrame | None = None) -> pd.DataFrame:
    """About ``events`` events: sample tickets drawn with replacement (NumPy, seeded),
    each copied with a new id and a random start within 90 days; ordered by timestamp."""
    template = sample_events() if template is None else template
    ids, start = np.unique(template["ticket_id"].to_numpy(), return_index=True)
    length = np.diff(np.r_[start, len(template)])
    rng = np.random.default_rng(seed)
    tickets = max(1, round(events / length.mean()))
    drawn = rng.integers(0, len(ids), tickets)
    n = length[drawn]
    first = np.repeat(start[drawn], n)
    rows = first + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    stamps = template["timestamp"]
    offset = (stamps - stamps.groupby(template["ticket_id"]).transform("min")).to_numpy()[rows]
    opened = pd.Timestamp("2026-07-01", tz="Europe/Berlin") + pd.to_timedelta(
        np.repeat(rng.uniform(0, 90 * 86400, tickets), n).round(), unit="s")
    log = pd.DataFrame({
        "ticket_id": pd.Series(np.char.add("S", np.char.zfill(np.repeat(np.arange(tickets), n).astype(str), 8)),
                               dtype="str"),
        "timestamp": opened + offset,
        "activity": template["activity"].to_numpy()[rows],
        "stage": template["stage"].to_numpy()[rows],
        "team": template["team"].to_numpy()[rows],
    }).astype({"activity": "str", "stage": "str", "team": "str"})
    return log.sort_values("timestamp", kind="stable").reset_index(drop=True)


def timed(step, reps: int) -> dict:
    """One warm-up run, then ``reps`` timed runs: median, min, max seconds."""
    step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs_s": times}


def cxassess_step(events: pd.DataFrame, process) -> None:
    log = process_log(events, process)
    stage_metrics(log, process)
    stage_flow(log, process)


def run(reps: int = 3) -> dict:
    """Run both measurements; JSON-able results."""
    reps = max(3, int(reps))
    process = load_config(SAMPLE).process
    template = sample_events()
    out = {
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "log": "tickets of data/sample/2026Q3 drawn with replacement (seed 13), new ids, random starts over 90 days, "
               "ordered by timestamp; columns ticket_id, timestamp (Europe/Berlin), activity, stage, team",
        "timing": f"1 warm-up run then {reps} timed runs per step; seconds; loading not included (logs generated "
                  "in memory)",
    }
    log = synthetic_log(COMPARED, template=template)
    rows = len(log)
    ours = timed(lambda: cxassess_step(log, process), reps)
    comparison = {
        "events": rows, "tickets": int(log["ticket_id"].nunique()),
        "cxassess": {"what": "process_log (sort once, codes, visits) + stage_metrics + stage_flow, from the "
                             "events DataFrame in memory", **ours},
    }
    try:
        import pm4py
    except ImportError:  # dev dependency (AGPL): the comparison needs it installed
        comparison["pm4py"] = "not installed (pip install -e '.[dev]')"
    else:
        holder = {}

        def formatted() -> None:
            holder["df"] = pm4py.format_dataframe(log[["ticket_id", "activity", "timestamp"]].copy(),
                                                  case_id="ticket_id", activity_key="activity",
                                                  timestamp_key="timestamp")

        t0 = time.perf_counter()
        formatted()
        format_s = time.perf_counter() - t0

        def discover() -> None:
            pm4py.discover_dfg(holder["df"])
            pm4py.discover_performance_dfg(holder["df"])

        theirs = timed(discover, reps)
        comparison["pm4py"] = {"what": "discover_dfg + discover_performance_dfg on the frame formatted beforehand "
                                       "(format_dataframe not included)", **theirs}
        comparison["pm4py_format_dataframe_s"] = {"what": "pm4py.format_dataframe once (not in the ratio)",
                                                  "seconds": format_s}
        comparison["speedup_median"] = theirs["median_s"] / ours["median_s"]
        comparison["goal"] = "cxassess at least 5x faster than pm4py (speedup_median >= 5)"
        comparison["goal_met"] = bool(comparison["speedup_median"] >= 5)
        del holder["df"]
    out["comparison"] = comparison
    linearity = []
    for size in SIZES:
        sized = log if size == COMPARED else synthetic_log(size, template=template)
        t = timed(lambda sized=sized: cxassess_step(sized, process), reps)
        linearity.append({"target_events": size, "events": len(sized), "tickets": int(sized["ticket_id"].nunique()),
                          "what": "process_log + stage_metrics + stage_flow", **t,
                          "us_per_event": 1e6 * t["median_s"] / len(sized)})
    per_event = [r["us_per_event"] for r in linearity]
    out["linearity"] = {"rows": linearity,
                        "us_per_event_ratio_largest_to_smallest": per_event[-1] / per_event[0],
                        "goal": "linear: time per event about flat from 100 k to 5 M events"}
    out["rows"] = _rows(out)  # the README table's lines
    return out


def _rows(out: dict) -> list[dict]:
    """The figures above as rows of the benchmark table (see ``tests.bench._common.row``)."""
    from tests.bench._common import row

    rows = []
    comparison = out.get("comparison", {})
    if "pm4py" in comparison:
        events = comparison["events"]
        rows.append(row(f"{comparison['cxassess']['what']}, {events:,} events", "s",
                        comparison["cxassess"]["runs_s"]))
        rows.append(row(f"pm4py {comparison['pm4py']['what']}, same log", "s", comparison["pm4py"]["runs_s"]))
        rows.append(row("speed-up: pm4py / cxassess (medians)", "x", [comparison["speedup_median"]],
                        goal=">= 5x", met=comparison["goal_met"]))
    for line in out["linearity"]["rows"]:
        rows.append(row(f"linearity: {line['what']}, {line['events']:,} events (µs per event in 'us_per_event')",
                        "s", line["runs_s"], us_per_event=round(line["us_per_event"], 3)))
    return rows


if __name__ == "__main__":  # python -m tests.bench.bench_process
    import json

    print(json.dumps(run(), indent=2))

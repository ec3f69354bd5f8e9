"""Read (issue 11): peak resident memory of validating the benchmark's 1 M-ticket cycle,
``cxassess validate --dataset <m1> --cycle 2026Q3`` (read every CSV file of the cycle, type
it, Great Expectations, quarantine), each repetition in a fresh process, against the size of
the cycle's CSV files. The memory is that of every process of the run: the process tree's
resident memory summed and sampled every 0.1 s, and never less than the validating process's
own high-water mark (``ru_maxrss`` from ``wait4``, which no sample can miss)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench._common import ROOT, PeakRss, bench_data, row

#: The cycle validated and the goal of issue 11 (peak memory over the size of its CSV files).
CYCLE, GOAL = "2026Q3", 2.5


def csv_bytes(folder: Path) -> int:
    """Bytes of the CSV files of one cycle folder."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix.lower() == ".csv")


def validate(dataset: Path, cycle: str = CYCLE) -> dict:
    """One ``cxassess validate`` in a fresh process: peak RSS of its process tree (bytes),
    wall seconds and exit status."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cxassess", "validate", "--dataset", str(dataset),
                                 "--cycle", cycle], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        with PeakRss(proc.pid, interval=0.1) as tree:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1: the gate found a critical defect, still a validation
        raise RuntimeError(f"cxassess validate failed with exit status {proc.returncode}")
    return {"peak_bytes": max(tree.peak_bytes, usage.ru_maxrss * 1024), "seconds": seconds}


def run(reps: int = 3, dataset: Path | None = None) -> dict:
    """Peak RSS over CSV size, peak RSS and seconds of ``max(reps, 3)`` validations."""
    dataset = dataset or bench_data()
    size = csv_bytes(dataset / CYCLE)
    runs = [validate(dataset) for _ in range(max(3, reps))]
    what = (f"cxassess validate of the 1 M-ticket cycle {dataset.name} {CYCLE} "
            f"({size / 2**20:,.0f} MiB of CSV files), each run in a fresh process")
    ratios = [r["peak_bytes"] / size for r in runs]
    return {"what": what, "csv_mib": round(size / 2**20, 1), "rows": [
        row("peak RSS of validating the 1 M-ticket cycle (all processes) / size of the cycle's CSV files", "x",
            ratios, goal=f"<= {GOAL}", met=max(ratios) <= GOAL, digits=2),
        row(f"peak RSS of validating the 1 M-ticket cycle (all processes), {what}", "MiB",
            [r["peak_bytes"] / 2**20 for r in runs], digits=0),
        row(f"wall seconds of {what} (start of Python to exit)", "s", [r["seconds"] for r in runs], digits=1),
    ]}

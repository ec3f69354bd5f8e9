"""Benchmarks (``make bench``): time and peak memory of the backbone at scale.

Figures go to ``reports/bench/`` as CSV and JSON; nothing here is asserted by the tests.
Run ``python -m cxassess.bench --tickets 1000000`` for another size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cxassess.io import load_cycle, tickets_from_events
from cxassess.synth import SampleSpec, write_sample

__all__ = ["measure", "run"]


def measure(step: str, fn: Callable[[], object], rows: int) -> dict:
    """Wall time of one call and the process's peak resident memory after it.

    Memory is the peak RSS of the whole process so far (``getrusage``): tracing every
    allocation would slow the timed code several-fold.
    """
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step": step, "rows": rows, "seconds": round(seconds, 3), "process_peak_rss_mib": round(peak, 1),
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
        from cxassess.quality import _context, check_cycle

        _context()  # GX import and context (seconds) are not part of the gate's time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    print(run(args.tickets, args.out).to_string(index=False))
    print(f"written to {args.out}/backbone.csv and backbone.json")


if __name__ == "__main__":
    main()

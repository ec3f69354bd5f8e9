"""Generator: tickets written per second by ``cxassess.synth.write_sample`` (every table of
the cycles: tickets, events, surveys, audits, customers, actions, as CSV)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench._common import row


def run(reps: int = 3, tickets_per_cycle: int = 200_000) -> dict:
    """Write 2 cycles of ``tickets_per_cycle`` tickets in the benchmark shape (20 % of closed
    tickets surveyed, no 'Categorised' event: about 5 events per ticket), ``reps`` times
    after one warm-up; tickets/s = all tickets written / wall seconds."""
    from cxassess.synth import SampleSpec, write_sample

    spec = SampleSpec(tickets_per_cycle=tickets_per_cycle, cycles=("2026Q2", "2026Q3"),
                      survey_share=0.2, categorised_share=0.0)
    total = tickets_per_cycle * len(spec.cycles)
    rates, seconds, sizes = [], [], []
    for k in range(reps + 1):
        folder = Path(tempfile.mkdtemp(prefix="cxbench-gen-"))
        try:
            t0 = time.perf_counter()
            write_sample(folder / "d", spec)
            spent = time.perf_counter() - t0
            sizes.append(sum(p.stat().st_size for p in (folder / "d").rglob("*.csv")))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if k:  # the first run is the warm-up
            rates.append(total / spent)
            seconds.append(spent)
    what = (f"cxassess.synth.write_sample: {len(spec.cycles)} cycles x {tickets_per_cycle:,} tickets "
            f"(survey_share 0.2, categorised_share 0), every table written as CSV ({sizes[-1] / 2**20:,.0f} MiB)")
    return {"what": what, "rows": [
        row(f"tickets written per second, {what}", "tickets/s", rates, goal=">= 200,000 tickets/s",
            met=statistics.median(rates) >= 200_000, digits=0),
        row("wall seconds of the same writes", "s", seconds),
    ]}

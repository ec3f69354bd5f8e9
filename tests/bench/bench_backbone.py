"""Backbone: loading one cycle, deriving its tickets from its event log and running the
data-quality gate on it, for a generated cycle of 200,000 tickets (2026Q3, about 5 events
per ticket, 20 % of closed tickets surveyed). Imports and the Great Expectations context
are created before the timing (the review pays them once; see ``bench_review``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench._common import repeat, row


def run(reps: int = 3, tickets_per_cycle: int = 200_000) -> dict:
    """Seconds of each step on the same cycle, ``reps`` times after a warm-up."""
    from cxassess.cycles import load_cycle
    from cxassess.eventlog import tickets_from_events
    from cxassess.quality import check_cycle
    from cxassess.quality.suites import gx_context
    from cxassess.synth import SampleSpec, write_sample

    with tempfile.TemporaryDirectory() as tmp:
        root = write_sample(Path(tmp) / "d", SampleSpec(tickets_per_cycle=tickets_per_cycle, cycles=("2026Q3",),
                                                         survey_share=0.2, categorised_share=0.0))
        cycle = load_cycle(root, "2026Q3")
        sizes = ", ".join(f"{len(df):,} {name}" for name, df in cycle.tables.items())
        gx_context()
        rows = [
            row(f"load_cycle, one cycle of {sizes}", "s", repeat(lambda: load_cycle(root, "2026Q3"), reps)),
            row(f"tickets_from_events on its {len(cycle.events):,} events", "s",
                repeat(lambda: tickets_from_events(cycle.events, cycle.config.process), reps)),
            row("check_cycle (the data-quality gate: read, type, Great Expectations, quarantine), same cycle", "s",
                repeat(lambda: check_cycle(root, "2026Q3"), reps)),
        ]
    return {"what": f"load, derive and gate one generated cycle ({sizes})", "rows": rows}

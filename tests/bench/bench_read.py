"""Read (issue 11): peak resident memory of validating one cycle whose only table is a
1,000,000-row tickets.csv, each repetition in a fresh process (``check_cycle``: read,
typing, Great Expectations, quarantine, i.e. what ``cxassess validate`` runs), beside a
baseline process that only imports ``cxassess.quality`` and creates the GX context."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.bench._common import ROOT, row


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
from cxassess.quality import check_cycle
from cxassess.quality.suites import gx_context
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


def _child(root: Path, step: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _GATE_CHILD, str(root), step], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(reps: int = 3, tickets: int = 1_000_000) -> dict:
    """Peak RSS (VmHWM of the fresh process) and seconds of ``reps`` validations."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "big"
        (root / "2026Q3").mkdir(parents=True)
        shutil.copy(ROOT / "data" / "sample" / "review.yml", root / "review.yml")
        csv_path = root / "2026Q3" / "tickets.csv"
        write_tickets_csv(csv_path, tickets)
        size_mib = csv_path.stat().st_size / 2**20
        baseline = [_child(root, "baseline") for _ in range(max(1, reps))]
        gates = [_child(root, "gate") for _ in range(max(1, reps))]
    base = min(b["peak_rss_mib"] for b in baseline)
    what = f"check_cycle on one cycle whose only table is a {tickets:,}-row tickets.csv of {size_mib:.0f} MiB"
    return {"what": what, "csv_mib": round(size_mib, 1), "rows": [
        row("peak RSS of a process that only imports cxassess.quality and creates the GX context", "MiB",
            [b["peak_rss_mib"] for b in baseline], digits=0),
        row(f"peak RSS (VmHWM, fresh process) of {what}", "MiB", [g["peak_rss_mib"] for g in gates], digits=0),
        row("the same peak / CSV size", "x", [g["peak_rss_mib"] / size_mib for g in gates], digits=2),
        row("(peak - baseline) / CSV size", "x", [(g["peak_rss_mib"] - base) / size_mib for g in gates], digits=2),
        row("seconds of check_cycle in that process (imports and GX context excluded)", "s",
            [g["gate_seconds"] for g in gates], digits=1),
    ]}

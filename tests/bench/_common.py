"""What every benchmark shares: repetitions (one warm-up, then ``reps`` timed runs; median,
min and max), the peak resident memory of a whole process tree sampled from ``/proc``, the
machine's facts and the JSON files of ``reports/bench/``.

A benchmark's ``run(reps)`` returns ``{"name", "what", "rows": [...], ...}``; each row is
one figure: ``measure`` (what exactly was measured, in words), ``unit``, ``median``,
``min``, ``max``, ``runs`` (every repetition), ``goal`` (text or None) and ``met``
(True, False or None when there is no goal).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "reports" / "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")


def summary(values: Sequence[float], digits: int = 3) -> dict:
    """Median, min, max and every value.

    Examples
    --------
    >>> summary([3.0, 1.0, 2.0])
    {'median': 2.0, 'min': 1.0, 'max': 3.0, 'runs': [3.0, 1.0, 2.0]}
    """
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": [round(v, digits) for v in values]}


def repeat(fn: Callable[[], object], reps: int = 3, *, warmup: bool = True) -> list[float]:
    """Wall seconds of ``reps`` calls of ``fn`` after one untimed warm-up call."""
    if warmup:
        fn()
    times = []
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def row(measure: str, unit: str, values: Sequence[float], *, goal: str | None = None,
        met: bool | None = None, digits: int = 3, **extra: object) -> dict:
    """One figure of a benchmark (see the module's docstring)."""
    return {"measure": measure, "unit": unit, **summary(values, digits), "goal": goal, "met": met, **extra}


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from ``/proc/<pid>/stat``."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now (bytes; 0 once it is gone)."""
    tree, todo, total = _children(), [pid], 0
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, []))
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


class PeakRss:
    """Samples the summed RSS of a process tree every ``interval`` seconds in a thread.

    Examples
    --------
    >>> with PeakRss(os.getpid()) as peak:
    ...     _ = bytearray(10_000_000)
    >>> peak.peak_bytes > 10_000_000
    True
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_bytes = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def machine() -> dict:
    """Facts of the machine and software the figures were taken on."""
    facts = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
             "platform": platform.platform(), "taken_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            facts["memory_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
        facts["load_average_1min_before"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    try:
        facts["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                         text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        facts["commit"] = None
    return facts


def write_result(name: str, result: dict, out: Path = OUT) -> Path:
    """``reports/bench/<name>.json``: the benchmark's result and the machine's facts."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps({"name": name, **result, "machine": machine()}, indent=2), encoding="utf-8")
    return path


def bench_data(tickets_per_cycle: int = 1_000_000) -> Path:
    """The benchmark dataset m1: ``$CXASSESS_BENCH_DATA`` when set (a copy made earlier),
    else the one written by the generator to ``reports/bench/m1`` on first use (2026Q2 and
    2026Q3, 1 M tickets, about 5 M events and 200 k surveys per cycle; about a minute)."""
    chosen = os.environ.get("CXASSESS_BENCH_DATA")
    if chosen:
        return Path(chosen)
    target = OUT / "m1"
    if not (target / "review.yml").is_file():
        from cxassess.synth import SampleSpec, write_sample

        write_sample(target, SampleSpec(tickets_per_cycle=tickets_per_cycle, cycles=("2026Q2", "2026Q3"),
                                        survey_share=0.2, categorised_share=0.0), name="m1")
    return target

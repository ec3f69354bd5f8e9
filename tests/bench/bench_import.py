"""Import cost: wall seconds of ``import cxassess`` (and of ``import cxassess.kpis``, the
calculators) in a fresh Python process, measured inside that process around the import
statement alone (interpreter start-up excluded)."""

from __future__ import annotations

import subprocess
import sys

from tests.bench._common import ROOT, row

_CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def once(module: str) -> float:
    """Seconds to import ``module`` in a new interpreter (the OS file cache is warm after
    the warm-up run)."""
    done = subprocess.run([sys.executable, "-c", _CODE.format(module=module)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    return float(done.stdout.strip())


def run(reps: int = 5) -> dict:
    """``reps`` fresh processes per module after one warm-up."""
    rows = []
    for module, goal in (("cxassess", 0.4), ("cxassess.kpis", None)):
        once(module)
        values = [once(module) for _ in range(max(1, reps))]
        rows.append(row(f"import {module} in a fresh process (the import statement alone)", "s", values,
                        goal=f"<= {goal} s" if goal else None,
                        met=(sorted(values)[len(values) // 2] <= goal) if goal else None))
    return {"what": "import time of the package in a fresh interpreter", "rows": rows}

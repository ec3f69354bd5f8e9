"""Review cycles: labels such as ``2026Q3`` (quarters) or ``2026-07`` (months).

A cycle is the half-open window ``[start, end)`` in the dataset's time zone. Data for a
cycle lives in ``data/<dataset>/<cycle>/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from cxassess.errors import ConfigError, shown

__all__ = [
    "cycle_window", "previous_cycle", "list_cycles", "latest_cycle", "is_cycle_label", "check_cycle_label",
]

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_cycle_label(label: str) -> bool:
    """Tell whether ``label`` names a quarter (``2026Q3``) or a month (``2026-07``)."""
    return bool(_QUARTER.match(label) or _MONTH.match(label))


def check_cycle_label(label: str, option: str = "cycle") -> str:
    """``label`` when it names a cycle, else a ConfigError (no path such as ``../x`` passes).

    Examples
    --------
    >>> check_cycle_label("2026Q3")
    '2026Q3'
    """
    if not is_cycle_label(str(label)):
        raise ConfigError(
            f"{option} {str(label)!r} is not a review cycle",
            fix="name cycles as quarters (2026Q3) or months (2026-07), as the dataset's cycle folders",
        )
    return label


def _period(label: str) -> pd.Period:
    if m := _QUARTER.match(label):
        return pd.Period(year=int(m[1]), quarter=int(m[2]), freq="Q")
    if m := _MONTH.match(label):
        return pd.Period(year=int(m[1]), month=int(m[2]), freq="M")
    raise ConfigError(
        f"{label!r} is not a review cycle. How to fix: name cycles as quarters "
        "(2026Q3) or months (2026-07), both for --cycle and for the data folders."
    )


def _label(period: pd.Period) -> str:
    return str(period) if period.freqstr.startswith("Q") else period.strftime("%Y-%m")


def cycle_window(label: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the cycle's ``[start, end)`` window as tz-aware timestamps.

    Examples
    --------
    >>> start, end = cycle_window("2026Q3", "Europe/Berlin")
    >>> str(start), str(end)
    ('2026-07-01 00:00:00+02:00', '2026-10-01 00:00:00+02:00')
    """
    period = _period(label)
    start = period.start_time.tz_localize(tz)
    end = (period + 1).start_time.tz_localize(tz)
    return start, end


def previous_cycle(label: str) -> str:
    """Return the label of the cycle just before ``label``.

    Examples
    --------
    >>> previous_cycle("2026Q1"), previous_cycle("2026-01")
    ('2025Q4', '2025-12')
    """
    return _label(_period(label) - 1)


def list_cycles(dataset_dir: Path | str) -> list[str]:
    """List the cycle folders of a dataset, oldest first."""
    root = Path(dataset_dir)
    labels = [p.name for p in root.iterdir() if p.is_dir() and is_cycle_label(p.name)]
    return sorted(labels, key=_period)


def latest_cycle(dataset_dir: Path | str) -> str:
    """Return the most recent cycle folder of a dataset."""
    cycles = list_cycles(dataset_dir)
    if not cycles:
        raise ConfigError(
            f"{shown(dataset_dir)} holds no cycle folder. How to fix: put each cycle's files in a "
            "folder named after the cycle, e.g. data/mydesk/2026Q3/tickets.csv."
        )
    return cycles[-1]

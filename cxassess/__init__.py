"""cxassess: reproducible, honest assessment of a customer-service process.

Load a cycle, compute KPIs with their intervals, assess the process stage by stage, and
publish the quarterly review::

    import cxassess as cx
    data = cx.load_cycle("data/sample", "2026Q3")
    cx.kpis.csat(data.surveys, by="channel")

Submodules and the names below are imported on first use, so ``import cxassess`` is cheap
(pandas, SciPy, matplotlib and Great Expectations load only when a part needs them).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("cxassess")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

#: Submodules reachable as attributes (``cx.kpis``), imported on first use.
SUBMODULES = (
    "audit", "calendar", "config", "contract", "control", "cycles", "engines", "errors", "eventlog", "export", "findings",
    "importer", "improve", "integrity", "io", "kpis", "plausibility", "plots", "process", "quality", "registry",
    "report", "schema", "stats", "synth", "voc",
)
#: Names re-exported at the top level, and the module each comes from.
NAMES = {
    "Cycle": "cycles",
    "load_cycle": "cycles",
    "read_table": "io",
    "tickets_from_events": "eventlog",
    "ReviewConfig": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "CxAssessError": "errors",
    "DataFileError": "errors",
    "DataQualityError": "errors",
    "InputError": "errors",
    "MissingColumnError": "errors",
    "ParseError": "errors",
    "ReviewRunError": "errors",
}

__all__ = [*NAMES, *SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:
        return importlib.import_module(f"cxassess.{name}")
    if name in NAMES:
        value = getattr(importlib.import_module(f"cxassess.{NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cxassess' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from cxassess import calendar, cycles, kpis, plots, process, quality, stats  # noqa: F401
    from cxassess.config import ReviewConfig, load_config  # noqa: F401
    from cxassess.cycles import Cycle, load_cycle  # noqa: F401
    from cxassess.errors import (  # noqa: F401
        ConfigError,
        CxAssessError,
        DataFileError,
        DataQualityError,
        InputError,
        MissingColumnError,
        ParseError,
        ReviewRunError,
    )
    from cxassess.eventlog import tickets_from_events  # noqa: F401
    from cxassess.io import read_table  # noqa: F401

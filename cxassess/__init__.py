"""cxassess: reproducible, honest assessment of a customer-service process.

Load a cycle, compute KPIs with their intervals, assess the process stage by stage, and
publish the quarterly review::

    import cxassess as cx
    data = cx.load_cycle("data/sample", "2026Q3")
    cx.kpis.csat(data.surveys, by="channel")
"""

from importlib.metadata import PackageNotFoundError, version

from cxassess import calendar, cycles, kpis, plots, process, quality, stats
from cxassess.config import ReviewConfig, load_config
from cxassess.errors import (
    ConfigError,
    CxAssessError,
    DataFileError,
    DataQualityError,
    MissingColumnError,
    ParseError,
    ReviewRunError,
)
from cxassess.io import Cycle, load_cycle, read_table, tickets_from_events

try:
    __version__ = version("cxassess")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Cycle",
    "ConfigError",
    "CxAssessError",
    "DataFileError",
    "DataQualityError",
    "MissingColumnError",
    "ParseError",
    "ReviewConfig",
    "ReviewRunError",
    "calendar",
    "cycles",
    "kpis",
    "load_config",
    "load_cycle",
    "plots",
    "process",
    "quality",
    "read_table",
    "stats",
    "tickets_from_events",
]

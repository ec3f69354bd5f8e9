"""The data-quality gate: Great Expectations suites, quarantine, and the verdict.

Every table of a cycle is validated by Great Expectations against its suite in
``expectations/<table>.json`` (the single source of truth for the checks) before any KPI
is computed. Values that the suites need from the dataset (allowed channels, the cycle
window, the ticket ids, ...) are passed as GX ``$PARAMETER`` values at run time, so the
lists are written once, in review.yml.

Each expectation's ``meta`` says how a failure counts:

* ``severity: critical``: a structural defect (required column missing, empty table,
  column of the wrong type). The review stops before the KPI pages.
* ``severity: warning``: a row-level defect. The failing rows are *quarantined*: left out
  of the KPIs and written with their original values and a reason to
  ``quarantine/<table>.csv``. Above ``quality.critical_share`` of the rows (review.yml,
  default 5 %) the defect is critical. ``quarantine: false`` marks warnings that only
  describe the data (an unmapped activity, a column that is mostly empty); a value
  set of this kind (statuses outside the contract, activities not mapped to a stage)
  missed by more than ``quality.critical_share`` of the rows is critical all the same.

A file that cannot be read at all is critical too. Values the loader cannot read
(an unparseable date) are quarantined like a failed expectation. Rows read always equal
rows used plus rows quarantined; raw files are never written.

Great Expectations is imported only by the gate and the suites, and only when a gate runs
(it costs seconds).

Modules: :mod:`~cxassess.quality.suites` (the suites and their run-time parameters),
:mod:`~cxassess.quality.gate` (validation and quarantine), :mod:`~cxassess.quality.record`
(the gate's report, saved and read back), :mod:`~cxassess.quality.checked` (the checked
data every page reads).
"""

from __future__ import annotations

from cxassess.cycles import TABLES_FOLDER
from cxassess.quality.checked import (
    CACHE_FOLDER,
    checked_cycle,
    gate_cache,
    gate_cycles,
    quality_report,
)
from cxassess.quality.gate import check_cycle, validate_table
from cxassess.quality.record import (
    CHECK_COLUMNS,
    LIGHTS,
    QualityReport,
    compare,
    critical_lines,
    fingerprint,
    inputs,
    unchanged,
)
from cxassess.quality.suites import load_suite, suite_folder, suite_parameters

__all__ = [
    "CACHE_FOLDER",
    "TABLES_FOLDER",
    "CHECK_COLUMNS",
    "LIGHTS",
    "QualityReport",
    "check_cycle",
    "checked_cycle",
    "compare",
    "critical_lines",
    "fingerprint",
    "gate_cache",
    "gate_cycles",
    "inputs",
    "load_suite",
    "quality_report",
    "suite_folder",
    "suite_parameters",
    "unchanged",
    "validate_table",
]

"""The checked data: a cycle with its quarantined rows left out, as every page reads it."""

from __future__ import annotations

import json
from pathlib import Path

from cxassess.config import ReviewConfig, load_config
from cxassess.cycles import TABLES_FOLDER, Cycle, latest_cycle, load_cycle, stored_cycle
from cxassess.errors import DataQualityError
from cxassess.quality.gate import check_cycle, without_quarantined
from cxassess.quality.record import QualityReport, critical_lines, unchanged

__all__ = ["checked_cycle", "quality_report"]


def _stored(report_dir: Path | str | None, config: ReviewConfig, cycle: str) -> Path | None:
    """The folder in ``report_dir`` where the review run saved the gate of ``cycle``, when
    the inputs have not changed since; else ``None``.
    """
    if report_dir is None:
        return None
    for folder in (Path(report_dir), Path(report_dir) / "previous", Path(report_dir) / "history" / cycle):
        record = folder / "quality.json"
        if record.is_file():
            head = json.loads(record.read_text(encoding="utf-8"))
            if head.get("cycle") == cycle and unchanged(head.get("inputs", {}), config, cycle):
                return folder
    return None


def quality_report(
    dataset: Path | str, cycle: str | None = None, report_dir: Path | str | None = None
) -> QualityReport | None:
    """The gate's report for a cycle: the one the review run stored in ``report_dir``
    when it still matches the data, else a fresh run; ``None`` without a cycle folder.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    cycle : str, optional
        The cycle label; default the latest cycle folder.
    report_dir : Path or str, optional
        Folder where the review run saved the gate (``None``: run the gate).

    Returns
    -------
    QualityReport or None
        The report; ``None`` when the dataset has no folder for ``cycle``.

    Examples
    --------
    >>> quality_report("data/sample", "2019Q1") is None  # no such cycle folder
    True
    """
    config = load_config(dataset)
    cycle = cycle or latest_cycle(config.root)
    if not (config.root / cycle).is_dir():
        return None
    stored = _stored(report_dir, config, cycle)
    return QualityReport.read(stored) if stored else check_cycle(config.root, cycle)


def checked_cycle(
    dataset: Path | str,
    cycle: str | None = None,
    report_dir: Path | str | None = None,
    *,
    strict: bool = True,
) -> Cycle | None:
    """Load a cycle with its quarantined rows left out: the data every KPI uses.

    When the review run stored the gate's result in ``report_dir`` and the data has not
    changed since, the quarantine is applied without running Great Expectations again.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    cycle : str, optional
        The cycle label; default the latest cycle folder.
    report_dir : Path or str, optional
        Folder where the review run saved the gate (``None`` when run by hand).
    strict : bool, default True
        Raise :class:`DataQualityError` when the gate found a critical defect. Use
        ``False`` for the cycle a review compares with.

    Returns
    -------
    Cycle or None
        ``None`` when the dataset has no folder for ``cycle``.

    Raises
    ------
    DataQualityError
        With ``strict``, when the gate found a critical defect.
    DataFileError
        With ``strict``, when the dataset has no folder for ``cycle``.

    Examples
    --------
    >>> data = checked_cycle("data/sample", "2026Q3")
    >>> len(data.tickets)
    2500
    """
    report = quality_report(dataset, cycle, report_dir)
    if report is None:
        if strict:
            load_cycle(dataset, cycle)  # raises the error naming the missing cycle folder
        return None
    if strict and report.critical:
        raise DataQualityError(report.dataset, report.cycle, critical_lines(report))
    if report.data is not None:
        return report.data
    stored = _stored(report_dir, load_config(dataset), report.cycle)
    if stored is not None and (data := _stored_data(stored, dataset, report.cycle)) is not None:
        return data
    held = {t: [int(r) - 1 for r in rows["row"]] for t, rows in report.quarantine.items() if len(rows)}
    return without_quarantined(load_cycle(dataset, report.cycle, errors="coerce"), held)


def _stored_data(folder: Path, dataset: Path | str, cycle: str) -> Cycle | None:
    """The checked tables the gate stored beside its report, or ``None`` (an older run)."""
    record = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    if "data" not in record:
        return None
    return stored_cycle(load_config(dataset), cycle, folder / TABLES_FOLDER, record["data"])

"""The checked data: a cycle with its quarantined rows left out, as every page reads it."""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cxassess.config import ReviewConfig, load_config
from cxassess.cycles import (
    TABLES_FOLDER,
    Cycle,
    latest_cycle,
    load_cycle,
    store_tables,
    stored_cycle,
)
from cxassess.errors import DataQualityError, shown
from cxassess.quality.gate import check_cycle, give_back_memory, without_quarantined
from cxassess.quality.record import QualityReport, critical_lines, unchanged

__all__ = ["CACHE_FOLDER", "checked_cycle", "checked_folder", "gate_cache", "gate_cycles", "quality_report"]

#: Folder, in ``reports/<dataset folder name>/``, of the saved gates (by a review, or by a page
#: run without a review in JupyterLab): ``.checked/<cycle>/<key>/``, one entry per set of
#: inputs and code.
CACHE_FOLDER = ".checked"


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
    stored = _gate_folder(dataset, config, cycle, report_dir)
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
    Without one (a notebook run on its own, in JupyterLab), the gate saved by an earlier
    run for the same inputs is used (see :func:`gate_cache`); else the gate runs, says
    so with a line per table (as the cell's text in a notebook, else on standard
    error), and is saved there for the next run.

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
    config = load_config(dataset)
    label = cycle or latest_cycle(config.root)
    if not (config.root / label).is_dir():
        if strict:
            load_cycle(dataset, label)  # raises the error naming the missing cycle folder
        return None
    stored = _gate_folder(dataset, config, label, report_dir)
    report = QualityReport.read(stored) if stored else check_cycle(config.root, label)
    if strict and report.critical:
        raise DataQualityError(report.dataset, report.cycle, critical_lines(report))
    if report.data is not None:
        return report.data
    if stored is not None and (data := _stored_data(stored, dataset, report.cycle)) is not None:
        return data
    held = {t: [int(r) - 1 for r in rows["row"]] for t, rows in report.quarantine.items() if len(rows)}
    return without_quarantined(load_cycle(dataset, report.cycle, errors="coerce"), held)


def checked_folder(dataset: Path | str, cycle: str | None = None, report_dir: Path | str | None = None) -> Path:
    """The folder of a cycle's checked tables as Parquet files (``<table>.parquet``,
    quarantined rows left out), for an engine to read (:mod:`cxassess.engines`).

    It is the folder the gate wrote beside its report: the review run's (``report_dir``)
    or the saved gate of :func:`gate_cache`, the gate running when there is none; when no
    such folder can be written, the checked cycle is written to a temporary folder.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    cycle : str, optional
        The cycle label; default the latest cycle folder.
    report_dir : Path or str, optional
        Folder where the review run saved the gate.

    Returns
    -------
    Path
        The folder of the Parquet files.

    Raises
    ------
    DataQualityError
        When the gate found a critical defect.
    DataFileError
        When the dataset has no folder for ``cycle``.

    Examples
    --------
    >>> sorted(p.name for p in checked_folder("data/sample", "2026Q3").glob("*.parquet"))[:2]
    ['actions.parquet', 'audits.parquet']
    """
    config = load_config(dataset)
    label = cycle or latest_cycle(config.root)
    if not (config.root / label).is_dir():
        load_cycle(dataset, label)  # raises the error naming the missing cycle folder
    stored = _gate_folder(dataset, config, label, report_dir)
    if stored is not None:
        report = QualityReport.read(stored)
        if report.critical:
            raise DataQualityError(report.dataset, report.cycle, critical_lines(report))
        record = json.loads((stored / "quality.json").read_text(encoding="utf-8"))
        if "data" in record and (stored / TABLES_FOLDER).is_dir():
            return stored / TABLES_FOLDER
    data = checked_cycle(dataset, label, report_dir)
    folder = Path(tempfile.mkdtemp(prefix="cxassess-checked-"))
    store_tables(data, folder)
    return folder


def _stored_data(folder: Path, dataset: Path | str, cycle: str) -> Cycle | None:
    """The checked tables the gate stored beside its report, or ``None`` (an older run)."""
    record = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    if "data" not in record:
        return None
    return stored_cycle(load_config(dataset), cycle, folder / TABLES_FOLDER, record["data"])


def gate_cache(dataset: Path | str, config: ReviewConfig | None = None, reports: Path | str | None = None) -> Path:
    """The folder of the saved gates: ``reports/<dataset folder name>/.checked`` beside the
    reports (``reports`` of the folder the dataset was found from, or of the working folder
    for an absolute path; a review's own ``reports`` folder when given), or
    ``$CXASSESS_GATE_CACHE/<dataset folder name>`` when that is set.

    Each entry, ``<cycle>/<key>/``, holds the gate's report and checked tables for one set
    of inputs (the cycle's files, review.yml, the suites: size, modification time and
    SHA-256) and one version of the package's code. An entry is used only when every
    input is unchanged and the code is the same, so a saved gate is never stale; entries
    are written under a temporary name and renamed into place, so concurrent runs never
    read a half-written one.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder, as given to :func:`checked_cycle`.
    config : ReviewConfig, optional
        Its review.yml, when already loaded.
    reports : Path or str, optional
        The root of a review's reports (``cxassess review --reports``).

    Returns
    -------
    Path
        The folder (it may not exist yet).

    Examples
    --------
    >>> import os
    >>> os.environ.pop("CXASSESS_GATE_CACHE", None) and None
    >>> gate_cache("data/sample").relative_to(Path.cwd()).as_posix()
    'reports/sample/.checked'
    """
    config = config or load_config(dataset)
    chosen = os.environ.get("CXASSESS_GATE_CACHE")
    if chosen:
        return Path(chosen) / config.root.name
    if reports is not None:
        return Path(reports) / config.root.name / CACHE_FOLDER
    given = Path(dataset)
    root = config.root.resolve()
    if given.is_absolute() or not given.parts or ".." in given.parts:
        base = Path.cwd()
    else:
        base = root.parents[len(given.parts) - 1]
    return base / "reports" / config.root.name / CACHE_FOLDER


@functools.cache
def _code_version() -> str:
    """SHA-256 of the package's source: a saved gate is used only by the same code."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for path in sorted(package.rglob("*.json")):  # suites shipped inside the package, if any
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cached(folder: Path, config: ReviewConfig, cycle: str) -> Path | None:
    """The newest entry of ``folder`` (a cycle's folder of the cache) made by this code
    from the inputs as they are now, or ``None``.
    """
    if not folder.is_dir():
        return None
    entries = [e for e in folder.iterdir() if e.is_dir() and not e.name.startswith(".")]
    for entry in sorted(entries, key=lambda e: e.stat().st_mtime_ns, reverse=True):
        try:
            key = json.loads((entry / "cache.json").read_text(encoding="utf-8"))
            head = json.loads((entry / "quality.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (key.get("code") == _code_version() and head.get("cycle") == cycle
                and unchanged(head.get("inputs", {}), config, cycle)):
            return entry
    return None


def _gate_into_cache(folder: Path, config: ReviewConfig, cycle: str, *, quiet: bool = False,
                     **order: Any) -> Path:
    """Run the gate on ``cycle`` and save it as a new entry of ``folder``; the entry.
    ``quiet``: no progress lines (the review prints its own); ``order``: ``largest_first``
    and ``turn`` of :func:`~cxassess.quality.gate.check_cycle`.
    """
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()

    def say(line: str) -> None:  # in a notebook as plain (escaped) text, not as an error; else on stderr
        if not quiet:
            print(line, file=sys.stdout if shell is not None else sys.stderr, flush=True)

    folder.mkdir(parents=True, exist_ok=True)
    say(f"data-quality gate on {config.name} {cycle}: no saved gate matches the data, validating every "
        f"table with Great Expectations (saved in {shown(folder)} for the next run) ...")
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
    try:
        report = check_cycle(config.root, cycle, store=work, echo=None if quiet else say, **order)
        report.save(work)
        (work / "cache.json").write_text(json.dumps({"code": _code_version()}), encoding="utf-8")
        key = hashlib.sha256(f"{report.fingerprint} {_code_version()}".encode()).hexdigest()[:20]
        entry = folder / key
        try:
            work.rename(entry)
        except OSError:  # another run saved the same entry first: use that one
            if not (entry / "quality.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"data-quality gate on {config.name} {cycle}: done in {time.perf_counter() - started:.1f} s")
    return entry


def _gate_folder(dataset: Path | str, config: ReviewConfig, cycle: str,
                 report_dir: Path | str | None) -> Path | None:
    """The folder holding the gate of ``cycle`` for the data as it is now: the review
    run's (``report_dir``), else a saved one (:func:`gate_cache`), else a new one saved
    there; ``None`` when the cache cannot be written (the gate then runs in memory).
    """
    stored = _stored(report_dir, config, cycle)
    if stored is not None:
        return stored
    saved = _saved_gate(gate_cache(dataset, config) / cycle, config, cycle)
    return saved[0] if saved is not None else None


def _saved_gate(folder: Path, config: ReviewConfig, cycle: str, *, quiet: bool = False,
                **order: Any) -> tuple[Path, bool] | None:
    """The entry of ``folder`` (a cycle's folder of the cache) for the data as it is now and
    whether it was saved before (``True``) or made now by running the gate (``False``);
    ``None`` when the cache cannot be written.
    """
    try:
        entry = _cached(folder, config, cycle)
        if entry is not None:
            return entry, True
        return _gate_into_cache(folder, config, cycle, quiet=quiet, **order), False
    except OSError:
        return None


def gate_cycles(dataset: Path | str, runs: Sequence[tuple[str, Path | str]], always: int | None = None,
                *, reports: Path | str | None = None, largest_first: bool = False,
                turn: Path | str | None = None) -> dict[str, str]:
    """The review's gate: each ``(cycle, folder)`` of ``runs`` in order, its report and
    checked tables put into its folder (:meth:`QualityReport.save`, tables under
    ``tables/``), where the review's pages read them.

    A cycle whose inputs (its files, review.yml, the suites) and the package's code are
    those of a saved gate (:func:`gate_cache` of the review's ``reports``) is not
    validated again: the saved gate is linked into its folder. Otherwise the gate runs
    and is saved there for the next run (when the cache cannot be written, it runs into
    the folder alone). The memory of each cycle is given back before the next one.

    The review runs this in a process of its own: this module imports only what the gate
    needs, so that process starts in the time Great Expectations takes to import.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    runs : sequence of (str, Path or str)
        The cycles and the folders to put them into; the first is the reviewed cycle.
    always : int, optional
        The runs after the first ``always`` (the trends' earlier cycles) are skipped when
        the first cycle has a critical defect; default: every run is gated.
    reports : Path or str, optional
        The review's reports root, whose ``<dataset name>/.checked`` keeps the saved gates;
        ``None``: nothing is saved or reused.
    largest_first : bool, default False
        Check each cycle's largest file right after the first table, not last (see
        :func:`~cxassess.quality.gate.check_cycle`).
    turn : Path or str, optional
        A lock file shared with a gate running beside this one: each holds it while it
        checks its largest table. The review's two gates take the tables in opposite
        orders and hold their largest ones in turn.

    Returns
    -------
    dict of str to str
        Each cycle gated, in order: ``"validated"`` or ``"reused"`` (a saved gate).

    Examples
    --------
    >>> folder, reports = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> gate_cycles("data/sample", [("2026Q3", folder / "a")], reports=reports)
    {'2026Q3': 'validated'}
    >>> gate_cycles("data/sample", [("2026Q3", folder / "b")], reports=reports)  # inputs unchanged
    {'2026Q3': 'reused'}
    >>> QualityReport.read(folder / "b").critical, (folder / "b" / "tables" / "tickets.parquet").is_file()
    (False, True)
    """
    config = load_config(dataset)
    order = {"largest_first": largest_first, "turn": turn}
    done: dict[str, str] = {}
    critical = False
    for i, (label, folder) in enumerate(runs):
        if always is not None and i >= always and critical:
            break
        folder = Path(folder)
        saved = (_saved_gate(gate_cache(dataset, config, reports) / label, config, label, quiet=True, **order)
                 if reports is not None else None)
        if saved is not None:
            _link_tree(saved[0], folder)
            report = QualityReport.read(folder)
        else:  # nothing saved, or the cache cannot be written: the gate runs into the folder alone
            report = check_cycle(config.root, label, store=folder, **order)
            report.save(folder)
        critical = critical or (i == 0 and report.critical)
        done[label] = "reused" if saved is not None and saved[1] else "validated"
        del report
        gc.collect()
        give_back_memory()
    return done


def _link_tree(source: Path, target: Path) -> None:
    """Put the files of a saved gate into ``target``: its checked tables as hard links
    (copies where links are not possible; a table is never written in place, every one is
    written to a new file renamed into place, so a link is safe, and the tables are
    removed before the review is published), the report and quarantined rows as copies
    (they are published); its cache key file stays behind.
    """
    for path in sorted(source.rglob("*")):
        if path.is_dir() or path.name == "cache.json":
            continue
        relative = path.relative_to(source)
        to = target / relative
        to.parent.mkdir(parents=True, exist_ok=True)
        if relative.parts[0] == TABLES_FOLDER:
            try:
                os.link(path, to)
                continue
            except OSError:  # another file system, or links not allowed: a copy
                pass
        shutil.copy2(path, to)

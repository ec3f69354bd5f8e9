"""The continuous-improvement loop: weekly KPI series across cycles, the history store, the
action register, what each action achieved, its return, and proposals for the next cycle.

* :func:`weekly_kpis` computes a cycle's weekly series (volume, transfer and reopen rates,
  first response and resolution medians, CSAT) with the KPI calculators of the package.
* The **history store** (:func:`write_history`, :func:`read_history`) keeps, per dataset, the
  KPI table, stage metrics, findings, gate summary and weekly series of every reviewed cycle
  in an embedded DuckDB file (``reports/<dataset>/history.duckdb``), keyed by cycle and
  schema version. A cycle is replaced in one transaction; a file lock serialises writers;
  an older store gains the newer schema's tables and columns when opened.
* :func:`action_effect` estimates what each done action changed in its KPI with an
  interrupted time series on the weekly series (level change at the done date, adjusted for
  the trend), and gives a verdict.
* :func:`action_roi`, :func:`churn_by_experience`, :func:`register_summary` and
  :func:`proposals` turn it into figures a CX lead plans with.

**Censoring of reopens.** Each cycle's export holds the tickets created in the cycle with
their events up to the cycle's end, and a later export does not hold them again: a ticket
created near the end has had less time to be reopened. The weekly reopen rate therefore
counts only tickets created at least ``follow_up_days`` (default 14) before their export's
end, so every counted ticket had at least that long to come back; later weeks of a cycle have
no reopen figure rather than a figure biased low.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cxassess import control, kpis, registry
from cxassess import findings as findings_store
from cxassess.config import load_config
from cxassess.cycles import Cycle, list_cycles
from cxassess.errors import CxAssessError, DataQualityError, InputError
from cxassess.findings import Finding
from cxassess.kpis.compare import HIGHER_IS_BETTER
from cxassess.kpis.satisfaction import fill_scale
from cxassess.quality import checked_cycle
from cxassess.stats import difference_of_proportions

__all__ = [
    "PAGE", "SCHEMA_VERSION", "STORE_NAME", "WEEKLY_KPIS", "weekly_kpis", "covered", "weekly_by_coverage", "coverage_splits", "store_path", "write_history",
    "read_history", "stored_cycles", "RECORD_FOLDER", "RECORD_TABLES", "save_record", "load_record", "history_record", "weekly_history", "action_effect",
    "register_needs", "register_summary", "action_markers", "action_roi", "churn_by_experience", "proposals",
    "control_signals", "page_store", "signal_table", "register_counts", "churn_sentence", "findings",
]

PAGE = "50_improvement"
#: File name of the history store in ``reports/<dataset>/``.
STORE_NAME = "history.duckdb"
#: Version of the store's layout; an older store is migrated when opened for writing.
SCHEMA_VERSION = 1
#: The weekly KPIs charted, with their readable names.
WEEKLY_KPIS = {
    "volume": "Tickets created per week",
    "transfer_rate": "Transfer rate",
    "reopen_rate": "Reopen rate",
    "frt_hours": "First response time, median hours",
    "ttr_hours": "Resolution time, median hours",
    "csat": "CSAT (top-box share)",
}
#: Sub-folder of the review run's folder where the pages save the tables of the history record.
RECORD_FOLDER = "record"
#: The store's tables the pages compute and save for the run's record (:func:`save_record`).
RECORD_TABLES = ("kpis", "stages", "weekly")
#: The store's tables: column -> DuckDB type. Every table also has ``cycle`` and ``schema_version``.
TABLES: dict[str, dict[str, str]] = {
    "kpis": {"kpi": "VARCHAR", "policy": "VARCHAR", "value": "DOUBLE", "ci_low": "DOUBLE",
             "ci_high": "DOUBLE", "n": "DOUBLE", "hits": "DOUBLE", "note": "VARCHAR"},
    "stages": {"stage": "VARCHAR", "label": "VARCHAR", "entering": "DOUBLE", "median_hours": "DOUBLE",
               "share_of_time": "DOUBLE", "bottleneck_rank": "DOUBLE"},
    "findings": {"what": "VARCHAR", "evidence": "VARCHAR", "severity": "VARCHAR", "reach": "DOUBLE",
                 "page": "VARCHAR", "anchor": "VARCHAR", "kind": "VARCHAR", "kpi": "VARCHAR",
                 "stage": "VARCHAR", "team": "VARCHAR", "action": "VARCHAR", "figures": "VARCHAR"},
    "gate": {"tbl": "VARCHAR", "rows_read": "DOUBLE", "rows_quarantined": "DOUBLE", "verdict": "VARCHAR"},
    "weekly": {"week": "TIMESTAMP", "kpi": "VARCHAR", "value": "DOUBLE", "n": "DOUBLE", "hits": "DOUBLE"},
    "runs": {"written_utc": "TIMESTAMP", "package_version": "VARCHAR"},
}


# --------------------------------------------------------------------------- weekly series

def _weeks(created: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Monday (local, naive) of each ticket's week; ``NaT`` for weeks not wholly in the cycle."""
    local = created.dt.tz_convert(start.tz).dt.tz_localize(None) if created.dt.tz is not None else created
    monday = local.dt.normalize() - pd.to_timedelta(local.dt.dayofweek, unit="D")
    first = start.tz_localize(None).normalize()
    last = end.tz_localize(None).normalize()
    whole = (monday >= first) & (monday + pd.Timedelta(days=7) <= last)
    return monday.where(whole)


def weekly_kpis(data: Cycle, *, follow_up_days: int | None = None, by: str | None = None,
                coverage: dict[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """The cycle's weekly KPI series, by the week (Monday, local time) tickets were created.

    Only weeks lying wholly inside the cycle are kept (a week cut by the cycle's start or end
    would look like a drop in volume). Rates and medians use the package's KPI calculators;
    the reopen rate counts only tickets created ``follow_up_days`` or more before the cycle's
    end (see the module's note on censoring); medians are Kaplan-Meier medians, tickets still
    waiting at the cycle's end counted as waiting.

    Parameters
    ----------
    data : Cycle
        A checked cycle with its ``tickets`` (``surveys`` for CSAT).
    follow_up_days : int, optional
        Days a ticket must have had, before the export, for its reopen to be counted;
        default review.yml ``improvement.follow_up_days`` (14).
    by : str, optional
        A ticket column to split each week by.
    coverage : dict, optional
        Split each week by whether an action covered the ticket (:func:`covered`): a
        boolean ``covered`` column, used as ``by``.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, week, (by), kpi, value, n, hits]``; ``kpi`` is one of :data:`WEEKLY_KPIS`.

    Examples
    --------
    >>> from cxassess.quality import checked_cycle
    >>> weekly = weekly_kpis(checked_cycle("data/sample", "2026Q1"))
    >>> sorted(weekly["kpi"].unique())
    ['csat', 'frt_hours', 'reopen_rate', 'transfer_rate', 'ttr_hours', 'volume']
    >>> weekly[weekly["kpi"] == "volume"]["week"].min()
    Timestamp('2026-01-05 00:00:00')
    """
    by = "covered" if coverage else by
    keys = ["week", by] if by else ["week"]
    columns = ["cycle", *keys, "kpi", "value", "n", "hits"]
    tickets = data.tickets
    if tickets is None or "created_at" not in tickets:
        return pd.DataFrame(columns=columns)
    if coverage:
        tickets = tickets.assign(covered=covered(tickets, coverage))
    if follow_up_days is None:
        follow_up_days = data.config.settings.improvement.follow_up_days
    t = tickets.assign(week=_weeks(tickets["created_at"], data.start, data.end))
    t = t[t["week"].notna()]
    parts = [t.groupby(keys).size().rename("value").reset_index().assign(kpi="volume", n=lambda d: d["value"])]
    ok = {k for k in ("transfer_rate", "reopen_rate", "frt_hours", "ttr_hours", "csat")
          if not registry.missing(data, registry.KPIS[k].needs)}  # what the cycle's columns support
    if "transfer_rate" in ok:
        parts.append(kpis.transfer_rate(t, by=keys))
    if "reopen_rate" in ok:
        cut = data.end - pd.Timedelta(days=follow_up_days)
        followed = t[t["created_at"] <= cut]
        if len(followed):
            parts.append(kpis.reopen_rate(followed, by=keys))
    if "frt_hours" in ok:
        parts.append(kpis.first_response_time(t, censor_at=data.end, by=keys))
    if "ttr_hours" in ok:
        parts.append(kpis.resolution_time(t, censor_at=data.end, by=keys))
    surveys = data.surveys
    if "csat" in ok and "ticket_id" in surveys:
        rated = surveys.merge(t[["ticket_id", *keys]], on="ticket_id")
        if "kind" not in rated or (rated["kind"] == "csat").any():
            scale = data.config.survey_scales.get("csat")
            with contextlib.suppress(CxAssessError):
                parts.append(kpis.csat(fill_scale(rated, scale), by=keys))
    out = pd.concat([p.assign(hits=p["hits"] if "hits" in p else np.nan)[[*keys, "kpi", "value", "n", "hits"]]
                     for p in parts], ignore_index=True)
    out["week"] = pd.to_datetime(out["week"])
    out = out[out["kpi"].isin(list(WEEKLY_KPIS))]
    return out.assign(cycle=data.label)[columns].sort_values(["kpi", *keys], kind="stable").reset_index(drop=True)


def covered(tickets: pd.DataFrame, coverage: dict[str, Sequence[str]]) -> pd.Series:
    """Whether each ticket is in the segments an action covered (review.yml
    ``improvement.coverage``): every listed column's value among those given.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets.
    coverage : dict of str to list of str
        Ticket column (``team``, ``channel``, ...) → the values the action covered.

    Returns
    -------
    pandas.Series
        Boolean, one per ticket.

    Raises
    ------
    InputError
        A column the tickets do not have.

    Examples
    --------
    >>> t = pd.DataFrame({"team": ["a", "b", "a"], "channel": ["chat", "chat", "email"]})
    >>> covered(t, {"team": ["a"], "channel": ["chat"]}).tolist()
    [True, False, False]
    """
    mask = pd.Series(True, index=tickets.index)
    for column, values in coverage.items():
        if column not in tickets:
            raise InputError(f"the action's coverage names the column {column!r}, which the tickets do not have",
                             fix="in review.yml improvement.coverage, use ticket columns such as team or channel")
        mask &= tickets[column].astype(str).isin([str(v) for v in values])
    return mask


# --------------------------------------------------------------------------- the store

def store_path(dataset: Path | str, reports: Path | str = "reports") -> Path:
    """Where the history store of a dataset lives: ``<reports>/<dataset folder>/history.duckdb``.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    reports : Path or str, default "reports"
        Root of the reports.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> store_path("data/sample").as_posix()
    'reports/sample/history.duckdb'
    """
    return Path(reports) / load_config(dataset).root.name / STORE_NAME


@contextlib.contextmanager
def _locked(path: Path, *, write: bool) -> Iterator[None]:
    """Hold ``<store>.lock``: exclusive for a writer, shared for readers (one writer at a time;
    DuckDB itself refuses a second process opening the file for writing).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate(con) -> int:
    """Bring the store to :data:`SCHEMA_VERSION`: create missing tables, add missing columns
    (old rows get NULL there), record the version. Returns the version found before.
    """
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    found = int(row[0]) if row else 0
    if found > SCHEMA_VERSION:
        raise CxAssessError(f"the history store was written by a newer cxassess (schema {found}, this one knows {SCHEMA_VERSION})",
                            fix="upgrade cxassess (pip install -U cxassess) or move the history.duckdb file aside")
    for table, columns in TABLES.items():
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" (cycle VARCHAR, schema_version INTEGER)')
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
        for column, kind in {"cycle": "VARCHAR", "schema_version": "INTEGER", **columns}.items():
            if column not in have:
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    return found


def _conform(table: str, frame: pd.DataFrame | None, cycle: str) -> pd.DataFrame:
    """``frame`` with exactly the store's columns of ``table`` (missing ones empty, in order)."""
    frame = pd.DataFrame() if frame is None else frame.reset_index(drop=True)
    out = pd.DataFrame(index=range(len(frame)))
    out["cycle"] = cycle
    out["schema_version"] = SCHEMA_VERSION
    return _typed(table, frame, out)


def _typed(table: str, frame: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """``out`` (indexed like ``frame``) with the store's columns of ``table`` added from
    ``frame``, each in the store's type (missing ones empty).
    """
    for column, kind in TABLES[table].items():
        values = frame[column] if column in frame else pd.Series([None] * len(frame), dtype=object)
        if kind == "DOUBLE":
            values = pd.to_numeric(values, errors="coerce").astype(float)
        elif kind == "TIMESTAMP":
            values = pd.to_datetime(values)
            values = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        else:
            values = values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))
        out[column] = values.to_numpy()
    return out


def write_history(path: Path | str, cycle: str, tables: dict[str, pd.DataFrame | None]) -> Path:
    """Write one cycle into the history store, replacing its earlier rows, in one transaction.

    Tables left out of ``tables`` keep their rows for the cycle; a table given (even empty)
    replaces them. The store is created, or migrated to :data:`SCHEMA_VERSION`, first.

    Parameters
    ----------
    path : Path or str
        The store (a DuckDB file), e.g. :func:`store_path`.
    cycle : str
        The cycle the rows belong to.
    tables : dict of str to pandas.DataFrame
        Rows per store table (``kpis``, ``stages``, ``findings``, ``gate``, ``weekly``,
        ``runs``); columns outside the table's layout are left out.

    Returns
    -------
    pathlib.Path
        The store.

    Raises
    ------
    InputError
        A table the store does not have.

    Examples
    --------
    >>> import tempfile
    >>> store = Path(tempfile.mkdtemp()) / "history.duckdb"
    >>> kpi = pd.DataFrame({"kpi": ["csat"], "value": [0.8], "n": [120]})
    >>> _ = write_history(store, "2026Q3", {"kpis": kpi})
    >>> _ = write_history(store, "2026Q3", {"kpis": kpi})   # again: replaced, not doubled
    >>> read_history(store, "kpis")[["cycle", "kpi", "value"]].values.tolist()
    [['2026Q3', 'csat', 0.8]]
    """
    import duckdb

    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise InputError(f"the history store has no table {unknown[0]!r}",
                         fix=f"use one of: {', '.join(TABLES)}")
    path = Path(path)
    with _locked(path, write=True):
        con = duckdb.connect(str(path))
        try:
            con.execute("BEGIN TRANSACTION")
            _migrate(con)
            for table, frame in tables.items():
                rows = _conform(table, frame, cycle)
                con.execute(f'DELETE FROM "{table}" WHERE cycle = ?', [cycle])
                if len(rows):
                    con.register("incoming", rows)
                    names = ", ".join(f'"{c}"' for c in rows.columns)
                    con.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM incoming')
                    con.unregister("incoming")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
    return path


def read_history(path: Path | str, table: str, *, cycles: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of one table of the history store (every cycle, or those in ``cycles``).

    Parameters
    ----------
    path : Path or str
        The store; a missing file reads as an empty table.
    table : str
        ``kpis``, ``stages``, ``findings``, ``gate``, ``weekly`` or ``runs``.
    cycles : sequence of str, optional
        Only these cycles.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, schema_version, *columns]`` sorted by cycle.

    Raises
    ------
    InputError
        A table the store does not have.

    Examples
    --------
    >>> read_history("/nonexistent/history.duckdb", "weekly").columns.tolist()[:3]
    ['cycle', 'schema_version', 'week']
    """
    import duckdb

    if table not in TABLES:
        raise InputError(f"the history store has no table {table!r}", fix=f"use one of: {', '.join(TABLES)}")
    path = Path(path)
    empty = _conform(table, None, "")
    if not path.is_file():
        return empty
    with _locked(path, write=False):
        con = duckdb.connect(str(path), read_only=True)
        try:
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if table not in present:
                return empty
            out = con.execute(f'SELECT * FROM "{table}" ORDER BY cycle').df()
        finally:
            con.close()
    if cycles is not None:
        out = out[out["cycle"].isin(list(cycles))]
    for column in empty.columns:  # an older store read before its migration
        if column not in out:
            out[column] = None
    return out[[*empty.columns, *[c for c in out.columns if c not in empty.columns]]].reset_index(drop=True)


def stored_cycles(path: Path | str) -> pd.DataFrame:
    """The cycles in the history store, with the rows each table holds for them.

    Parameters
    ----------
    path : Path or str
        The store.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, schema_version, written_utc, kpis, stages, findings, gate, weekly]``.

    Examples
    --------
    >>> import tempfile
    >>> store = Path(tempfile.mkdtemp()) / "history.duckdb"
    >>> _ = write_history(store, "2026Q2", {"kpis": pd.DataFrame({"kpi": ["csat"], "value": [0.7]})})
    >>> stored_cycles(store)[["cycle", "kpis", "weekly"]].values.tolist()
    [['2026Q2', 1, 0]]
    """
    counts = {t: read_history(path, t) for t in TABLES}
    labels = sorted(set().union(*(set(f["cycle"]) for f in counts.values())))
    rows = []
    for label in labels:
        runs = counts["runs"][counts["runs"]["cycle"] == label]
        row = {"cycle": label,
               "schema_version": int(pd.concat([f.loc[f["cycle"] == label, "schema_version"] for f in counts.values()]).max()),
               "written_utc": runs["written_utc"].max() if len(runs) else pd.NaT}
        row.update({t: int((f["cycle"] == label).sum()) for t, f in counts.items() if t != "runs"})
        rows.append(row)
    return pd.DataFrame(rows, columns=["cycle", "schema_version", "written_utc", *[t for t in TABLES if t != "runs"]])


def save_record(frame: pd.DataFrame | None, report_dir: Path | str | None, table: str) -> Path | None:
    """Save a table a page computed for the history store into the review run's folder
    (``<report_dir>/record/<table>.parquet``, atomically), so that the run's record
    (:func:`history_record`) reads it instead of loading the cycle and computing it again.

    The table is saved as the store keeps it: the store's columns of ``table`` in the
    store's types (the others are left out); a ``cycle`` column is kept when it has one.

    Parameters
    ----------
    frame : pandas.DataFrame or None
        The table as computed: :func:`cxassess.kpis.cycle_kpis` (``kpis``),
        :func:`cxassess.process.stage_metrics` (``stages``), the weekly series with their
        ``cycle`` column (``weekly``: :func:`weekly_history`, the rows of every cycle
        together; the run's record takes those of the reviewed cycle and of the earlier
        cycles the store lacks). ``None``: the page has no such table (saved empty).
    report_dir : pathlib.Path, str or None
        The run's folder (the notebooks' ``report_dir`` parameter). ``None`` (a notebook
        opened alone): nothing is saved.
    table : str
        One of :data:`RECORD_TABLES`.

    Returns
    -------
    pathlib.Path or None
        The file written, or ``None``.

    Raises
    ------
    InputError
        A table that is not one of :data:`RECORD_TABLES`.

    Examples
    --------
    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> kpi = pd.DataFrame({"kpi": ["csat"], "value": [0.8], "n": [120], "se": [0.01]})
    >>> save_record(kpi, run, "kpis").name
    'kpis.parquet'
    >>> load_record(run, "kpis")[["kpi", "value", "n"]].values.tolist()
    [['csat', 0.8, 120.0]]
    >>> save_record(kpi, None, "kpis") is None
    True
    """
    if table not in RECORD_TABLES:
        raise InputError(f"the run's record has no table {table!r}", fix=f"use one of: {', '.join(RECORD_TABLES)}")
    if report_dir is None:
        return None
    from cxassess.cycles import store_table

    return store_table(_record_frame(table, frame), Path(report_dir) / RECORD_FOLDER, table)


def load_record(report_dir: Path | str | None, table: str) -> pd.DataFrame | None:
    """A table a page of the run saved with :func:`save_record`, or ``None`` when none did.

    Parameters
    ----------
    report_dir : pathlib.Path, str or None
        The run's folder.
    table : str
        One of :data:`RECORD_TABLES`.

    Returns
    -------
    pandas.DataFrame or None
        The store's columns of ``table`` in the store's types (and ``cycle`` when saved).

    Examples
    --------
    >>> load_record(None, "kpis") is None
    True
    """
    if report_dir is None or table not in RECORD_TABLES:
        return None
    path = Path(report_dir) / RECORD_FOLDER / f"{table}.parquet"
    return _record_frame(table, pd.read_parquet(path)) if path.is_file() else None


def _record_frame(table: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` as the run's record keeps it: the store's columns (:func:`_typed`), ``cycle`` first if it has one."""
    frame = pd.DataFrame() if frame is None else frame.reset_index(drop=True)
    out = pd.DataFrame(index=range(len(frame)))
    if "cycle" in frame:
        out["cycle"] = frame["cycle"].astype(str).to_numpy(dtype=object)
    return _typed(table, frame, out)


def history_record(dataset: Path | str, cycle: str, report_dir: Path | str | None = None, *,
                   store: Path | str | None = None, gate=None) -> dict[str, dict[str, pd.DataFrame]]:
    """What a finished review run writes into the history store, per cycle: the reviewed
    cycle's KPI table, stage metrics, findings (those the pages saved in ``report_dir``), gate
    summary and weekly series; plus the weekly series of earlier cycles the store lacks.

    The KPI table, stage metrics and weekly series are those the pages saved in
    ``report_dir`` (:func:`save_record`): computed once, by the pages. Only a table no page
    saved (a run without those pages, a notebook run alone) is computed here, from the
    cycle loaded for it; when every table was saved, no cycle is loaded.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder.
    cycle : str
        The reviewed cycle.
    report_dir : Path or str, optional
        The run's folder (its stored gates, findings and the tables the pages saved).
    store : Path or str, optional
        The store, to know which earlier cycles it already holds.
    gate : QualityReport, optional
        The gate's report of ``cycle`` (its table summary and verdict).

    Returns
    -------
    dict
        ``{cycle: {table: DataFrame}}`` for :func:`write_history`.

    Examples
    --------
    >>> record = history_record("data/sample", "2026Q1")
    >>> sorted(record["2026Q1"])
    ['findings', 'gate', 'kpis', 'runs', 'stages', 'weekly']
    """
    from importlib.metadata import PackageNotFoundError, version

    from cxassess import process

    try:
        package_version = version("cxassess")
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        package_version = "0+unknown"

    config = load_config(dataset)
    saved = {table: load_record(report_dir, table) for table in RECORD_TABLES}
    # the cycle is loaded only for a table no page saved (a run without those pages)
    data = checked_cycle(config.root, cycle, report_dir) if any(f is None for f in saved.values()) else None
    stages = saved["stages"]
    if stages is None and not data.missing("events") and config.process is not None:
        metrics = process.stage_metrics(data.read_once("events"), config.process)
        stages = metrics.rename(columns={"median_elapsed_hours": "median_hours"})
    weekly = saved["weekly"]
    gate_rows = None
    if gate is not None:
        gate_rows = gate.tables.rename(columns={"table": "tbl"}).assign(verdict=gate.verdict(markdown=False))
    found = pd.DataFrame([{**f.to_dict(), "figures": json.dumps(f.figures, sort_keys=True)}
                          for f in findings_store.load(report_dir)])
    runs = pd.DataFrame({"written_utc": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
                         "package_version": [package_version]})
    record = {cycle: {"kpis": saved["kpis"] if saved["kpis"] is not None else kpis.cycle_kpis(data),
                      "stages": stages, "findings": found, "gate": gate_rows,
                      "weekly": _rows(weekly, cycle) if weekly is not None else weekly_kpis(data), "runs": runs}}
    have = set(read_history(store, "weekly")["cycle"]) if store is not None else set()
    labels = list_cycles(config.root)
    for label in labels[: labels.index(cycle)] if cycle in labels else []:
        if label in have:
            continue
        if weekly is not None:  # the page computed the series the store lacks (none here: the cycle has none)
            if (weekly["cycle"] == label).any():
                record[label] = {"weekly": _rows(weekly, label)}
            continue
        with contextlib.suppress(DataQualityError):
            earlier = checked_cycle(config.root, label, report_dir, strict=False)
            if earlier is not None:
                record[label] = {"weekly": weekly_kpis(earlier)}
    return record


def _rows(frame: pd.DataFrame, cycle: str) -> pd.DataFrame:
    """The rows of ``frame`` for ``cycle``, numbered from 0."""
    return frame[frame["cycle"] == cycle].reset_index(drop=True)


def weekly_history(dataset: Path | str, upto: str, *, store: Path | str | None = None,
                   report_dir: Path | str | None = None, current: Cycle | None = None) -> pd.DataFrame:
    """The weekly KPI series of every cycle up to ``upto``: from the history store for the
    cycles it holds (so a cycle whose raw folder was removed still appears), computed from
    the data for the others, and always computed for ``current`` (the page's own cycle).

    Parameters
    ----------
    dataset : Path or str
        The dataset folder.
    upto : str
        The last cycle.
    store : Path or str, optional
        The history store (default: none, every cycle computed).
    report_dir : Path or str, optional
        The run's folder with its stored gates.
    current : Cycle, optional
        The cycle already loaded by the page.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, week, kpi, value, n, hits, source]`` (source: ``"store"`` or ``"data"``),
        oldest week first.

    Examples
    --------
    >>> weekly = weekly_history("data/sample", "2026Q2")
    >>> sorted(weekly["cycle"].unique()), sorted(weekly["source"].unique())
    (['2025Q4', '2026Q1', '2026Q2'], ['data'])
    """
    config = load_config(dataset)
    stored = read_history(store, "weekly") if store is not None else read_history("/nonexistent", "weekly")
    stored = stored[stored["cycle"] <= upto]
    labels = sorted({*[c for c in list_cycles(config.root) if c <= upto], *stored["cycle"]})
    frames = []
    for label in labels:
        if current is not None and label == current.label:
            frames.append(weekly_kpis(current).assign(source="data"))
        elif label in set(stored["cycle"]):
            frames.append(stored[stored["cycle"] == label].drop(columns="schema_version").assign(source="store"))
        else:
            with contextlib.suppress(DataQualityError):
                data = checked_cycle(config.root, label, report_dir, strict=False)
                if data is not None:
                    frames.append(weekly_kpis(data).assign(source="data"))
    if not frames:
        return pd.DataFrame(columns=["cycle", "week", "kpi", "value", "n", "hits", "source"])
    out = pd.concat(frames, ignore_index=True)
    out["week"] = pd.to_datetime(out["week"])
    return out.sort_values(["kpi", "week"], kind="stable").reset_index(drop=True)


def weekly_by_coverage(dataset: Path | str, upto: str, coverage: dict[str, Sequence[str]], *,
                       report_dir: Path | str | None = None, current: Cycle | None = None) -> pd.DataFrame:
    """The weekly KPI series of every cycle up to ``upto``, split by whether an action covered
    the ticket: the two groups a difference-in-differences compares. Computed from the data
    (the store keeps no split), so cycles whose raw folder was removed are left out.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder.
    upto : str
        The last cycle.
    coverage : dict of str to list of str
        Ticket column → values the action covered (review.yml ``improvement.coverage``).
    report_dir : Path or str, optional
        The run's folder with its stored gates.
    current : Cycle, optional
        The cycle already loaded by the page.

    Returns
    -------
    pandas.DataFrame
        ``[cycle, week, covered, kpi, value, n, hits]``.

    Examples
    --------
    >>> split = weekly_by_coverage("data/sample", "2026Q1", {"team": ["tier1_north"]})
    >>> sorted(split["covered"].astype(bool).unique().tolist())
    [False, True]
    """
    config = load_config(dataset)
    frames = []
    for label in [c for c in list_cycles(config.root) if c <= upto]:
        with contextlib.suppress(DataQualityError):
            data = current if current is not None and label == current.label else checked_cycle(
                config.root, label, report_dir, strict=False)
            if data is not None:
                frames.append(weekly_kpis(data, coverage=coverage))
    if not frames:
        return pd.DataFrame(columns=["cycle", "week", "covered", "kpi", "value", "n", "hits"])
    return pd.concat(frames, ignore_index=True).sort_values(["kpi", "week", "covered"], kind="stable").reset_index(drop=True)


def coverage_splits(dataset: Path | str, upto: str, coverage: dict[str, dict[str, Sequence[str]]], *,
                    report_dir: Path | str | None = None, current: Cycle | None = None) -> dict[str, pd.DataFrame]:
    """:func:`weekly_by_coverage` of every action review.yml ``improvement.coverage`` names.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder.
    upto : str
        The last cycle.
    coverage : dict
        Action id → ticket column → values covered.
    report_dir : Path or str, optional
        The run's folder with its stored gates.
    current : Cycle, optional
        The cycle already loaded by the page.

    Returns
    -------
    dict of str to pandas.DataFrame
        Action id → its split weekly series (the ``split`` of :func:`action_effect`).

    Examples
    --------
    >>> coverage_splits("data/sample", "2026Q3", {})
    {}
    """
    return {action: weekly_by_coverage(dataset, upto, segments, report_dir=report_dir, current=current)
            for action, segments in coverage.items()}


# --------------------------------------------------------------------------- actions

#: The weekly series an action's ``kpi`` is judged on (register KPI id -> weekly KPI id).
ACTION_SERIES = {"reopen_rate": "reopen_rate", "transfer_rate": "transfer_rate", "csat": "csat",
                 "frt": "frt_hours", "frt_hours": "frt_hours", "ttr": "ttr_hours", "ttr_hours": "ttr_hours",
                 "volume": "volume"}
EFFECT_COLUMNS = ["action_id", "title", "kpi", "series", "done_at", "method", "weeks_before", "weeks_after",
                  "n_before", "n_after", "before", "after", "effect", "ci_low", "ci_high", "p_value", "verdict"]


def _naive_local(value, tz: str | None) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = (ts.tz_convert(tz) if tz else ts).tz_localize(None)
    return ts


def _its(series: pd.DataFrame, done: pd.Timestamp, confidence: float) -> dict:
    """Interrupted time series: ``value ~ 1 + weeks + after`` by weighted least squares
    (weights n), Newey-West (HAC, 2 lags) standard errors; the effect is the level change
    at the done date, adjusted for the trend. The week holding the done date is left out.
    """
    import statsmodels.api as sm

    s = series.dropna(subset=["value"])
    s = s[s["n"] > 0]
    before = s[s["week"] + pd.Timedelta(days=7) <= done]
    after = s[s["week"] >= done]
    s = pd.concat([before, after]).sort_values("week")
    out = {"weeks_before": len(before), "weeks_after": len(after),
           "n_before": float(before["n"].sum()), "n_after": float(after["n"].sum()),
           "before": float(np.average(before["value"], weights=before["n"])) if len(before) else np.nan,
           "after": float(np.average(after["value"], weights=after["n"])) if len(after) else np.nan,
           "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    if len(before) < 4 or len(after) < 2:
        return out
    weeks = ((s["week"] - s["week"].min()).dt.days / 7).to_numpy(float)
    design = np.column_stack([np.ones(len(s)), weeks, (s["week"] >= done).to_numpy(float)])
    fit = sm.WLS(s["value"].to_numpy(float), design, weights=s["n"].to_numpy(float)).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2})
    low, high = fit.conf_int(alpha=1 - confidence)[2]
    out.update(effect=float(fit.params[2]), ci_low=float(low), ci_high=float(high), p_value=float(fit.pvalues[2]))
    return out


def _did(series: pd.DataFrame, done: pd.Timestamp, confidence: float) -> dict:
    """Difference-in-differences on the weekly series of covered and other tickets:
    ``value ~ 1 + weeks + covered + after + covered × after`` by weighted least squares
    (weights n), Newey-West (HAC, 2 lags) errors; the effect is the ``covered × after``
    coefficient: the change of the covered tickets beyond that of the others (a shared
    trend, seasonality or desk-wide change cancels). The week of the done date is left out.
    """
    import statsmodels.api as sm

    s = series.dropna(subset=["value"])
    s = s[s["n"] > 0]
    s = s[(s["week"] + pd.Timedelta(days=7) <= done) | (s["week"] >= done)].sort_values(["week", "covered"])
    mine = s[s["covered"].astype(bool)]
    before, after = mine[mine["week"] < done], mine[mine["week"] >= done]
    out = {"weeks_before": len(before), "weeks_after": len(after),
           "n_before": float(before["n"].sum()), "n_after": float(after["n"].sum()),
           "before": float(np.average(before["value"], weights=before["n"])) if len(before) else np.nan,
           "after": float(np.average(after["value"], weights=after["n"])) if len(after) else np.nan,
           "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    others = s[~s["covered"].astype(bool)]
    if len(before) < 4 or len(after) < 2 or len(others) < 6:
        return out
    weeks = ((s["week"] - s["week"].min()).dt.days / 7).to_numpy(float)
    cov = s["covered"].astype(bool).to_numpy(float)
    post = (s["week"] >= done).to_numpy(float)
    design = np.column_stack([np.ones(len(s)), weeks, cov, post, cov * post])
    fit = sm.WLS(s["value"].to_numpy(float), design, weights=s["n"].to_numpy(float)).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2})
    low, high = fit.conf_int(alpha=1 - confidence)[4]
    out.update(effect=float(fit.params[4]), ci_low=float(low), ci_high=float(high), p_value=float(fit.pvalues[4]))
    return out


def action_effect(weekly: pd.DataFrame, actions: pd.DataFrame | None, *, min_n: int = 30, min_weeks: int = 4,
                  timezone: str | None = None, confidence: float = 0.95,
                  split: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """What each action of the register changed in its KPI, with a verdict.

    For an action with a done date, an interrupted time series on the weekly series of its
    KPI (:func:`weekly_kpis` across the cycles): ``value = a + b × week + c × after``, fitted
    by weighted least squares (weights: the week's n) with Newey-West standard errors for
    autocorrelated weeks. ``c``, the level change at the done date adjusted for the trend, is
    the effect; the week holding the done date is left out (partly before, partly after).

    Verdicts: ``"worked"`` (the interval excludes 0 on the good side), ``"made it worse"``
    (excludes 0 on the bad side), ``"no evidence yet"`` (the interval holds 0), ``"too early
    (n after < min_n)"`` (fewer than ``min_weeks`` weeks or ``min_n`` tickets after),
    ``"too early: not done yet"`` (no done date), ``"not measurable: ..."`` (no weekly
    series for its KPI, or fewer than 4 weeks before it).

    Parameters
    ----------
    weekly : pandas.DataFrame
        The weekly series, as :func:`weekly_history` gives them.
    actions : pandas.DataFrame or None
        The register (``action_id, kpi, done_at``; ``title`` optional).
    min_n : int, default 30
        Fewest tickets (answers) after the done date for a verdict.
    min_weeks : int, default 4
        Fewest weeks after the done date for a verdict.
    timezone : str, optional
        Zone of the weekly series' local weeks (review.yml ``timezone``); done dates are
        converted to it.
    confidence : float, default 0.95
        Level of the interval.
    split : dict of str to pandas.DataFrame, optional
        Action id → its weekly series split by coverage (:func:`weekly_by_coverage`), for the
        actions review.yml says covered only some teams or channels: those are judged by a
        difference-in-differences against the tickets they did not touch.

    Returns
    -------
    pandas.DataFrame
        One row per action: :data:`EFFECT_COLUMNS` (``effect`` in the KPI's unit: a share for
        rates, hours for times).

    Examples
    --------
    >>> weeks = pd.date_range("2026-01-05", periods=20, freq="7D")
    >>> rate = np.r_[np.full(10, 0.14), np.full(10, 0.07)] + np.tile([0.004, -0.004], 10)
    >>> weekly = pd.DataFrame({"week": weeks, "kpi": "reopen_rate", "value": rate, "n": 200})
    >>> register = pd.DataFrame({"action_id": ["A-1"], "kpi": ["reopen_rate"], "done_at": ["2026-03-11"]})
    >>> row = action_effect(weekly, register).iloc[0]
    >>> row["verdict"], round(float(row["effect"]), 3)   # the week of the done date is left out
    ('worked', -0.069)
    """
    rows = []
    if actions is None or not len(actions):
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    for _, action in actions.iterrows():
        kpi = str(action.get("kpi", ""))
        series_id = ACTION_SERIES.get(kpi)
        done = action.get("done_at")
        row = {"action_id": action["action_id"], "title": action.get("title", ""), "kpi": kpi, "series": series_id,
               "done_at": done, "method": "interrupted time series (trend adjusted)"}
        series = weekly[weekly["kpi"] == series_id] if series_id else weekly.iloc[:0]
        if done is None or pd.isna(done):
            row["verdict"] = "too early: not done yet"
        elif not len(series):
            row["verdict"] = f"not measurable: no weekly series of {kpi}"
        else:
            when = _naive_local(done, timezone)
            mine = (split or {}).get(str(action["action_id"]))
            if mine is not None and len(mine):
                row["method"] = "difference-in-differences (covered against other tickets, trend adjusted)"
                row.update(_did(mine[mine["kpi"] == series_id], when, confidence))
            else:
                row.update(_its(series, when, confidence))
            if row["weeks_before"] < 4:
                row["verdict"] = "not measurable: fewer than 4 weeks before the action"
            elif row["weeks_after"] < min_weeks or row["n_after"] < min_n or np.isnan(row["effect"]):
                row["verdict"] = "too early (n after < min_n)"
            elif row["ci_low"] > 0 or row["ci_high"] < 0:
                good = (row["effect"] > 0) == HIGHER_IS_BETTER.get(series_id, True)
                row["verdict"] = "worked" if good else "made it worse"
            else:
                row["verdict"] = "no evidence yet"
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=EFFECT_COLUMNS)


def register_needs(cycle: Cycle) -> str | None:
    """The page's "not available: needs ..." sentence when the cycle has no improvement register
    (no ``actions`` file, or one without a row), saying where to put it; ``None`` when it has one.

    Parameters
    ----------
    cycle : Cycle
        The cycle.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(tables={}, config=SimpleNamespace(root=Path("data/desk")), label="2026Q3", derived=())
    >>> print(register_needs(c))
    not available: needs `actions` (no such table in this cycle): the improvement register. Put it in the cycle folder as desk/2026Q3/actions.csv (or .parquet): one row per improvement action with action_id, title and opened_cycle; its kpi and done_at let this page measure what a done action changed, its cost its return.
    """
    where = (f"the improvement register. Put it in the cycle folder as {cycle.config.root.name}/{cycle.label}/"
             "actions.csv (or .parquet): one row per improvement action with action_id, title and opened_cycle; "
             "its kpi and done_at let this page measure what a done action changed, its cost its return.")
    missing = registry.gap(cycle, [registry.Need("actions")])
    if missing is not None:
        return f"{missing}: {where}"
    if not len(cycle.actions):
        return f"not available: needs an action in `actions` (the file has no row): {where}"
    return None


def register_summary(actions: pd.DataFrame | None, *, at: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The action register in figures: actions by status, owner, stage and KPI, and the
    overdue ones (not done, due date passed at ``at``).

    Parameters
    ----------
    actions : pandas.DataFrame or None
        The register (``action_id, status``; ``owner, stage, kpi, due, done_at`` optional).
    at : pandas.Timestamp
        The instant the register is judged at (the cycle's end).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``status``, ``owner``, ``stage``, ``kpi``: ``[<key>, actions]``; ``overdue``: the
        overdue actions with ``days_overdue``.

    Examples
    --------
    >>> register = pd.DataFrame({"action_id": ["A", "B"], "status": ["done", "in_progress"],
    ...                          "owner": ["x", "x"], "due": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True)})
    >>> summary = register_summary(register, at=pd.Timestamp("2026-03-01", tz="UTC"))
    >>> summary["owner"].values.tolist(), summary["overdue"]["action_id"].tolist()
    ([['x', 2]], ['B'])
    """
    out: dict[str, pd.DataFrame] = {}
    register = actions if actions is not None else pd.DataFrame(columns=["action_id", "status"])
    for key in ("status", "owner", "stage", "kpi"):
        if key in register:
            out[key] = (register[key].fillna("(none)").value_counts().rename_axis(key).rename("actions")
                        .reset_index().sort_values([ "actions", key], ascending=[False, True], kind="stable")
                        .reset_index(drop=True))
    overdue = register.iloc[:0].assign(days_overdue=pd.Series(dtype=float))
    if "due" in register and len(register):
        due = pd.to_datetime(register["due"], utc=True)
        done = register["status"].astype(str).str.lower().eq("done") if "status" in register else False
        late = due.notna() & (due < at.tz_convert("UTC") if at.tzinfo else due < at.tz_localize("UTC")) & ~done
        overdue = register[late].assign(days_overdue=((at - due[late]).dt.total_seconds() / 86400).round(0))
    out["overdue"] = overdue.reset_index(drop=True)
    return out


def action_markers(actions: pd.DataFrame | None, *, timezone: str | None = None) -> pd.DataFrame:
    """Where each action goes on the weekly trends: its done date (or, not done, nothing)
    and the weekly series of its KPI.

    Parameters
    ----------
    actions : pandas.DataFrame or None
        The register.
    timezone : str, optional
        Zone of the charts' local weeks.

    Returns
    -------
    pandas.DataFrame
        ``[action_id, series, when, label]``.

    Examples
    --------
    >>> register = pd.DataFrame({"action_id": ["A-1", "A-2"], "kpi": ["reopen_rate", "csat"],
    ...                          "done_at": ["2026-01-26", None]})
    >>> action_markers(register)[["action_id", "series"]].values.tolist()
    [['A-1', 'reopen_rate']]
    """
    if actions is None or not len(actions) or "done_at" not in actions:
        return pd.DataFrame(columns=["action_id", "series", "when", "label"])
    done = actions[actions["done_at"].notna()]
    return pd.DataFrame({
        "action_id": done["action_id"].to_numpy(),
        "series": done["kpi"].map(ACTION_SERIES).to_numpy(),
        "when": [_naive_local(v, timezone) for v in done["done_at"]],
        "label": [f"{a} done" for a in done["action_id"]],
    }).reset_index(drop=True)


def control_signals(weekly: pd.DataFrame, *, markers: pd.DataFrame | None = None,
                    judged_from: pd.Timestamp | None = None) -> dict[str, tuple]:
    """XmR chart and signals of each weekly KPI; a done action on the KPI starts a new phase
    (limits recomputed after a documented shift). With ``judged_from``, each phase's limits
    come from its weeks before that date (the history), so the reviewed cycle is judged
    against them rather than against itself. None of the weekly KPIs can be negative: a
    lower limit below 0 is clipped at 0.

    Parameters
    ----------
    weekly : pandas.DataFrame
        As :func:`weekly_history` gives it.
    markers : pandas.DataFrame, optional
        As :func:`action_markers` gives it.
    judged_from : pandas.Timestamp, optional
        First week of the reviewed cycle (naive local time).

    Returns
    -------
    dict
        ``{kpi: (chart, signals)}`` with :func:`cxassess.control.xmr` and
        :func:`cxassess.control.signals` frames indexed by week.

    Examples
    --------
    >>> weeks = pd.date_range("2026-01-05", periods=12, freq="7D")
    >>> values = [50.0, 53.0, 51.0, 52.0, 50.0, 53.0, 51.0, 52.0, 50.0, 53.0, 51.0, 90.0]
    >>> weekly = pd.DataFrame({"week": weeks, "kpi": "volume", "value": values, "n": 50})
    >>> chart, found = control_signals(weekly)["volume"]
    >>> found[found["rule"] == "1"]["first"].tolist()   # the jump to 90 is beyond the limits
    [Timestamp('2026-03-23 00:00:00')]
    """
    out = {}
    for kpi in [k for k in WEEKLY_KPIS if k in set(weekly["kpi"])]:
        s = weekly[weekly["kpi"] == kpi].dropna(subset=["value"]).sort_values("week")
        s = s.groupby("week", as_index=True)["value"].mean()  # one point per week
        shifts = [] if markers is None else list(markers.loc[markers["series"] == kpi, "when"])
        reference = None if judged_from is None else s.index < judged_from
        chart = control.xmr(s, phase=control.phases_from_shifts(s.index, shifts), reference=reference,
                            floor=0.0)  # every weekly KPI is a count, a rate or a duration: none below 0
        if chart["mr_centre"].isna().all():
            continue
        out[kpi] = (chart, control.signals(chart))
    return out


def action_roi(effects: pd.DataFrame, actions: pd.DataFrame | None, weekly: pd.DataFrame, *,
               cost_per_contact: float | None) -> pd.DataFrame:
    """Return on each action whose effect is measured on a rate of extra contacts (reopens,
    transfers): contacts avoided per year × cost per contact, against the action's cost, with
    the interval carried from the effect's interval (the value is linear in the effect).

    Parameters
    ----------
    effects : pandas.DataFrame
        As :func:`action_effect` gives it.
    actions : pandas.DataFrame or None
        The register (``action_id, cost``).
    weekly : pandas.DataFrame
        The weekly series (the weekly volume after the action sets the yearly tickets).
    cost_per_contact : float or None
        What one extra contact (a reopen, a transfer) costs (review.yml
        ``improvement.cost_per_contact``); ``None``: not available.

    Returns
    -------
    pandas.DataFrame
        ``[action_id, tickets_per_year, contacts_avoided, value, value_low, value_high, cost,
        roi, roi_low, roi_high, note]``; ``roi`` = (value − cost) / cost.

    Examples
    --------
    >>> effects = pd.DataFrame({"action_id": ["A"], "series": ["reopen_rate"], "effect": [-0.05],
    ...                         "ci_low": [-0.07], "ci_high": [-0.03], "done_at": ["2026-01-05"], "verdict": ["worked"]})
    >>> weekly = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=4, freq="7D"), "kpi": "volume",
    ...                        "value": 100.0, "n": 100})
    >>> roi = action_roi(effects, pd.DataFrame({"action_id": ["A"], "cost": [1000.0]}), weekly, cost_per_contact=5.0)
    >>> roi[["contacts_avoided", "value", "roi"]].iloc[0].round(2).tolist()   # 5,200 tickets a year x 5 % x 5
    [260.0, 1300.0, 0.3]
    """
    columns = ["action_id", "tickets_per_year", "contacts_avoided", "value", "value_low", "value_high", "cost",
               "roi", "roi_low", "roi_high", "note"]
    rows = []
    costs = dict(zip(actions["action_id"], actions["cost"], strict=True)) if actions is not None and "cost" in actions else {}
    volume = weekly[weekly["kpi"] == "volume"]
    for _, e in effects.iterrows():
        row = {"action_id": e["action_id"], "cost": costs.get(e["action_id"], np.nan)}
        if e.get("series") not in ("reopen_rate", "transfer_rate"):
            row["note"] = "not available: the value of this KPI's change needs a model of what it is worth"
        elif cost_per_contact is None:
            row["note"] = "not available: needs improvement.cost_per_contact in review.yml"
        elif pd.isna(e.get("effect")):
            row["note"] = f"not available: {e.get('verdict')}"
        else:
            done = _naive_local(e["done_at"], None)
            after = volume[volume["week"] >= done] if len(volume) else volume
            per_year = float(after["value"].mean() * 52) if len(after) else np.nan
            values = [-x * per_year * cost_per_contact for x in (e["effect"], e["ci_high"], e["ci_low"])]
            row.update(tickets_per_year=per_year, contacts_avoided=-e["effect"] * per_year,
                       value=values[0], value_low=values[1], value_high=values[2], note="")
            cost = row["cost"]
            if cost and not pd.isna(cost):
                row.update(roi=(values[0] - cost) / cost, roi_low=(values[1] - cost) / cost,
                           roi_high=(values[2] - cost) / cost)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=columns)


def churn_by_experience(data: Cycle, *, confidence: float = 0.95) -> pd.DataFrame | None:
    """Churn in the cycle of customers who had a transferred or reopened ticket, against the
    other customers with a ticket, with Wilson intervals and the difference's interval.

    A customer churned in the cycle when its ``active_to`` falls inside the cycle's window.

    Parameters
    ----------
    data : Cycle
        A checked cycle with ``tickets`` (``customer_id, transfers, reopens``) and
        ``customers`` (``customer_id, active_to``).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame or None
        ``[experience, customers, churned, churn, ci_low, ci_high]`` for "transferred or
        reopened" and "neither", with ``attrs["difference"]`` = (difference, low, high);
        ``None`` when a needed table or column is absent.

    Examples
    --------
    >>> from cxassess.quality import checked_cycle
    >>> churn = churn_by_experience(checked_cycle("data/sample", "2026Q3"))
    >>> churn["experience"].tolist()
    ['transferred or reopened', 'neither']
    """
    from cxassess.stats import wilson_interval

    t, c = data.tickets, data.customers
    if t is None or c is None or not {"customer_id", "transfers", "reopens"} <= set(t) or not {"customer_id", "active_to"} <= set(c):
        return None
    bad = ((t["transfers"].fillna(0) > 0) | (t["reopens"].fillna(0) > 0)).groupby(t["customer_id"]).any()
    ended = c.set_index("customer_id")["active_to"]
    ended = ended[~ended.index.duplicated()]
    churned = ended.reindex(bad.index)
    churned = churned.notna() & (churned >= data.start) & (churned < data.end)
    rows = []
    for label, mask in (("transferred or reopened", bad), ("neither", ~bad)):
        n, k = int(mask.sum()), int(churned[mask].sum())
        low, high = wilson_interval(k, n, confidence)
        rows.append({"experience": label, "customers": n, "churned": k, "churn": k / n if n else np.nan,
                     "ci_low": float(np.asarray(low).item()), "ci_high": float(np.asarray(high).item())})
    out = pd.DataFrame(rows)
    diff = difference_of_proportions(rows[0]["churned"], rows[0]["customers"], rows[1]["churned"],
                                     rows[1]["customers"], confidence)
    out.attrs["difference"] = tuple(float(np.asarray(x).item()) for x in diff)
    return out


#: What to propose for each kind of finding (the next cycle's action), in words.
PROPOSALS = {
    "bottleneck": "Add capacity or change the routing of the stage",
    "gaming": "Review how the team's KPI is measured and coach on the process",
    "served_gap": "Coach the team on the failing audit criterion",
    "driver": "Act on the driver of dissatisfaction",
    "target_missed": "Plan an action on the KPI that misses its target",
    "kpi_change": "Look into the KPI's change",
    "response_bias": "Correct the survey reading for who answers",
    "action_effect": "Rethink the action: it did not bring the change planned",
    "control_signal": "Find the cause of the signal in the weekly KPI",
}
PROPOSAL_COLUMNS = ["rank", "action_id", "title", "opened_cycle", "stage", "kpi", "owner", "status",
                    "expected_effect", "cost", "due", "done_at", "evidence", "source_page", "severity"]


def proposals(found: Iterable[Finding], *, cycle: str, next_cycle: str) -> pd.DataFrame:
    """Proposed actions for the next cycle from the run's findings, ranked (severity ×
    reach), in the register's columns so the CX lead can import them into ``actions.csv``
    (status ``proposed``; owner, cost and due date left for the lead).

    Parameters
    ----------
    found : iterable of Finding
        Every finding of the run (:func:`cxassess.findings.load`).
    cycle : str
        The reviewed cycle (ids are ``P-<cycle>-<rank>``).
    next_cycle : str
        The cycle the actions are opened in.

    Returns
    -------
    pandas.DataFrame
        :data:`PROPOSAL_COLUMNS`, one row per finding that proposes something.

    Examples
    --------
    >>> f = Finding("Specialist queue takes 40 % of the time", "n = 500", "high", 0.4, "10_process_stages",
    ...             kind="bottleneck", stage="Specialist level", kpi="ttr_hours", action="Add specialist capacity")
    >>> proposals([f], cycle="2026Q3", next_cycle="2026Q4")[["action_id", "title", "status"]].values.tolist()
    [['P-2026Q3-01', 'Add specialist capacity', 'proposed']]
    """
    rows = []
    for f in findings_store.rank(found):
        if f.kind == "action_effect" and f.figures.get("verdict") == "worked":
            continue  # nothing to propose: it worked
        title = f.action or PROPOSALS.get(f.kind)
        if not title:
            continue
        rows.append({"title": title, "opened_cycle": next_cycle, "stage": f.stage or "", "kpi": f.kpi or "",
                     "owner": "", "status": "proposed", "expected_effect": None, "cost": None, "due": None,
                     "done_at": None, "evidence": f"{f.what} ({f.evidence})", "source_page": f.href,
                     "severity": f.severity})
    out = pd.DataFrame(rows, columns=[c for c in PROPOSAL_COLUMNS if c not in ("rank", "action_id")])
    out.insert(0, "rank", range(1, len(out) + 1))
    out.insert(1, "action_id", [f"P-{cycle}-{i:02d}" for i in out["rank"]])
    return out[PROPOSAL_COLUMNS]


def _pp(x: float) -> str:
    return f"{x * 100:+.1f} pp"


def findings(effects: pd.DataFrame, charts: dict | None = None, *, reach: float = 1.0,
             current_weeks: Sequence | None = None) -> list[Finding]:
    """The improvement page's findings: each action whose effect is real (worked or made it
    worse), and each 3-sigma signal (rule 1) of a weekly KPI in the reviewed cycle's weeks:
    ``medium`` the bad way (or for the volume, which has no better direction), ``low`` the
    good way (CSAT above its limits, a time below them: not among what to act on).

    Parameters
    ----------
    effects : pandas.DataFrame
        As :func:`action_effect` gives it.
    charts : dict, optional
        As :func:`control_signals` gives it.
    reach : float, default 1.0
        Share of the tickets the actions concern (the register has no segment: all).
    current_weeks : sequence, optional
        Weeks of the reviewed cycle; signals elsewhere are history, not findings.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> e = pd.DataFrame({"action_id": ["A-101"], "title": ["Checklist"], "kpi": ["reopen_rate"],
    ...                   "series": ["reopen_rate"], "effect": [-0.075], "ci_low": [-0.09], "ci_high": [-0.06],
    ...                   "n_before": [2600], "n_after": [5400], "before": [0.14], "after": [0.065], "verdict": ["worked"]})
    >>> [f.kind for f in findings(e)]
    ['action_effect']
    """
    out = []
    for _, e in effects.iterrows():
        if e["verdict"] not in ("worked", "made it worse"):
            continue
        rate = e["series"] in ("reopen_rate", "transfer_rate", "csat")
        change = _pp(e["effect"]) if rate else f"{e['effect']:+.1f} h"
        interval = (f"{_pp(e['ci_low'])} to {_pp(e['ci_high'])}" if rate
                    else f"{e['ci_low']:+.1f} to {e['ci_high']:+.1f} h")
        worked = e["verdict"] == "worked"
        out.append(Finding(
            what=f"Action {e['action_id']} ({e['title']}) {'worked' if worked else 'made it worse'}: "
                 f"{WEEKLY_KPIS.get(e['series'], e['kpi']).lower()} changed by {change} after it, trend allowed for",
            evidence=f"n = {int(e['n_before']):,} before, {int(e['n_after']):,} after; {change} (95 % CI {interval})",
            severity="low" if worked else "high", reach=reach, page=PAGE, anchor="action-effects",
            kind="action_effect", kpi=e["kpi"],
            action="" if worked else "Stop or rethink the action: the KPI moved the wrong way",
            figures={"action_id": str(e["action_id"]), "effect": float(e["effect"]), "ci_low": float(e["ci_low"]),
                     "ci_high": float(e["ci_high"]), "verdict": str(e["verdict"])}))
    weeks = None if current_weeks is None else set(pd.to_datetime(list(current_weeks)))
    for kpi, (_, found) in (charts or {}).items():
        for _, s in found[found["rule"] == "1"].iterrows():
            if weeks is not None and pd.Timestamp(s["first"]) not in weeks:
                continue
            # a signal the good way (CSAT above its limits, resolution time below) is good news:
            # low, to learn from; the bad way or a KPI without a better direction (volume): medium
            better = registry.KPIS[kpi].higher_is_better if kpi in registry.KPIS else None
            good = better is not None and (s["direction"] == "up") == better
            week = f"{pd.Timestamp(s['first']):%d %b %Y}"
            out.append(Finding(
                what=f"{WEEKLY_KPIS[kpi]} went {'above' if s['direction'] == 'up' else 'below'} its natural process "
                     f"limits in the week of {week}",
                evidence=f"XmR chart, rule: {s['rule_text']}", severity="low" if good else "medium",
                reach=min(1.0, 1 / 13), page=PAGE, anchor="control-charts", kind="control_signal", kpi=kpi,
                action=(f"Find what made the week of {week} better, to keep it" if good
                        else f"Find the cause of the signal in the week of {week}"),
                figures={"week": f"{pd.Timestamp(s['first']):%Y-%m-%d}", "rule": str(s["rule"])}))
    return out


def signal_table(charts: dict) -> pd.DataFrame:
    """Every signal of the weekly control charts in one table a CX lead reads.

    Parameters
    ----------
    charts : dict
        As :func:`control_signals` gives it.

    Returns
    -------
    pandas.DataFrame
        ``[KPI, from week, to week, weeks, direction, rule]``, one row per signal.

    Examples
    --------
    >>> weeks = pd.date_range("2026-01-05", periods=12, freq="7D")
    >>> values = [50.0, 53.0, 51.0, 52.0, 50.0, 53.0, 51.0, 52.0, 50.0, 53.0, 51.0, 90.0]
    >>> table = signal_table(control_signals(pd.DataFrame({"week": weeks, "kpi": "volume", "value": values, "n": 50})))
    >>> table[table["rule"].str.startswith("a point beyond")]["from week"].tolist()
    ['23 Mar 2026']
    """
    columns = ["KPI", "from week", "to week", "weeks", "direction", "rule"]
    parts = [s.assign(kpi=WEEKLY_KPIS[k]) for k, (_, s) in charts.items() if len(s)]
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    return pd.DataFrame({
        "KPI": table["kpi"], "from week": pd.to_datetime(table["first"]).dt.strftime("%d %b %Y"),
        "to week": pd.to_datetime(table["last"]).dt.strftime("%d %b %Y"), "weeks": table["points"],
        "direction": table["direction"], "rule": table["rule_text"]})[columns]


def register_counts(summary: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The counts of :func:`register_summary` (by status, owner, stage, KPI) in one table.

    Parameters
    ----------
    summary : dict
        As :func:`register_summary` gives it.

    Returns
    -------
    pandas.DataFrame
        ``[by, value, actions]``.

    Examples
    --------
    >>> register = pd.DataFrame({"action_id": ["A", "B"], "status": ["done", "done"], "owner": ["x", "y"]})
    >>> register_counts(register_summary(register, at=pd.Timestamp("2026-03-01", tz="UTC"))).values.tolist()
    [['status', 'done', 2], ['owner', 'x', 1], ['owner', 'y', 1]]
    """
    parts = [frame.rename(columns={key: "value"}).assign(by=key) for key, frame in summary.items() if key != "overdue"]
    if not parts:
        return pd.DataFrame(columns=["by", "value", "actions"])
    return pd.concat(parts, ignore_index=True)[["by", "value", "actions"]]


def churn_sentence(churn: pd.DataFrame) -> str:
    """The difference in churn of :func:`churn_by_experience` in one sentence.

    Parameters
    ----------
    churn : pandas.DataFrame
        As :func:`churn_by_experience` gives it.

    Returns
    -------
    str

    Examples
    --------
    >>> churn = pd.DataFrame({"experience": ["transferred or reopened", "neither"]})
    >>> churn.attrs["difference"] = (0.08, 0.05, 0.11)
    >>> churn_sentence(churn)
    'Customers with a transferred or reopened ticket left 8.0 pp more often than the others (95 % CI +5.0 to +11.0 pp).'
    """
    difference, low, high = churn.attrs["difference"]
    if np.isnan(difference):
        return "The difference in churn is not available: one of the groups has no customer."
    more = "more" if difference >= 0 else "less"
    return (f"Customers with a transferred or reopened ticket left {abs(difference) * 100:.1f} pp {more} often "
            f"than the others (95 % CI {low * 100:+.1f} to {high * 100:+.1f} pp).")


def page_store(dataset: Path | str, report_dir: Path | str | None, reports: Path | str = "reports") -> Path:
    """The history store a page reads: beside the run's folder in a review run (the run stages
    in ``<reports>/<dataset>/``), else :func:`store_path`.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder.
    report_dir : Path or str or None
        The run's staging folder (``None``: a notebook run by hand).
    reports : Path or str, default "reports"
        Root of the reports, for a notebook run by hand.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> page_store("data/sample", "reports/sample/.2026Q3.staging-1").as_posix()
    'reports/sample/history.duckdb'
    """
    return Path(report_dir).parent / STORE_NAME if report_dir is not None else store_path(dataset, reports)

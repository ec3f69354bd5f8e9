"""The gate: every table of a cycle validated by its Great Expectations suite; failing rows
quarantined with their reason.

Great Expectations is imported only here and in :mod:`~cxassess.quality.suites`, and only
when a gate runs (it costs seconds).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxassess.config import ReviewConfig, scale_range
from cxassess.cycles import (
    TABLES_FOLDER,
    Cycle,
    Tables,
    cycle_window,
    derivable,
    load_cycle,
    store_table,
    with_derived_tickets,
)
from cxassess.errors import DataFileError
from cxassess.eventlog import tickets_from_events
from cxassess.io import is_in, read_raw
from cxassess.quality.record import CHECK_COLUMNS, LIGHTS, QualityReport, fingerprint, inputs
from cxassess.quality.suites import (
    PARAMETER,
    frame_batches,
    load_suite,
    quality_option,
    suite_parameters,
)
from cxassess.schema import TABLES

__all__ = ["ALLOCATOR_ENV", "check_cycle", "give_back_memory", "release_freed_memory", "table_order", "validate_table"]

_READABLE = "values readable (cxassess loader)"
_FILE = "file readable (cxassess loader)"


def _with_helpers(
    df: pd.DataFrame, table: str, config: ReviewConfig, ticket_ids: pd.Index | None
) -> pd.DataFrame:
    """Add the derived columns some expectations compare with (names start with ``_``):
    the previous event's time per ticket, the declared scale and its bounds per survey, and
    ``_referenced_ticket``, whether the ticket_id is found in the tickets table (``True``,
    empty when it is not there; the check's examples show the ticket_id). A lookup column
    keeps GX from copying a list of every id into each check, and a flag column, unlike a
    copy of the ids, costs two bytes a row.
    """
    out = df.copy(deep=False)  # copy-on-write: the helper columns never reach ``df``
    if table != "tickets" and ticket_ids is not None and "ticket_id" in df.columns:
        known = is_in(df["ticket_id"], ticket_ids)
        out["_referenced_ticket"] = pd.Series(pd.arrays.BooleanArray(known, ~known), index=out.index)
    if table == "events" and {"ticket_id", "timestamp"} <= set(df.columns):
        out["_previous_timestamp"] = out.groupby("ticket_id", sort=False)["timestamp"].shift(1)
    if table == "surveys" and "kind" in df.columns and config.survey_scales:
        declared = out["kind"].map(config.survey_scales).astype("Int64")
        out["_declared_scale"] = declared
        points = out["scale"].fillna(declared) if "scale" in df.columns else declared
        ranges = {p: scale_range(int(p)) for p in points.dropna().unique()}
        out["_scale_min"] = points.map({p: lo for p, (lo, _) in ranges.items()}).astype("Float64")
        out["_scale_max"] = points.map({p: hi for p, (_, hi) in ranges.items()}).astype("Float64")
    return out


def _expectation_name(expectation: dict) -> str:
    """The expectation's type, with the derived columns it runs on when it runs on one
    (``_referenced_ticket``): its ``column`` names the data column, which the type alone
    would describe wrongly (ticket_id is not null: it is not in the tickets table).

    Examples
    --------
    >>> _expectation_name({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "_referenced_ticket"}})
    'expect_column_values_to_not_be_null (on _referenced_ticket)'
    >>> _expectation_name({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "ticket_id"}})
    'expect_column_values_to_not_be_null'
    """
    helpers = [c for c in _columns_of(expectation["kwargs"]) if c.startswith("_")]
    return expectation["type"] + (f" (on {', '.join(helpers)})" if helpers else "")


def _columns_of(kwargs: dict) -> list[str]:
    """Columns an expectation needs (a ``column_list`` is cut to the columns present)."""
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _parameters_of(kwargs: dict) -> list[str]:
    return [v[PARAMETER] for v in kwargs.values() if isinstance(v, dict) and PARAMETER in v]


def _describe(expectation: dict) -> str:
    if expectation["type"] == "expect_table_columns_to_match_set":
        return "(columns)"
    if (expectation.get("meta") or {}).get("example_column"):
        return expectation["meta"]["example_column"]
    kw = expectation["kwargs"]
    cols = _columns_of(kw) + list(kw.get("column_list") or [])
    return ", ".join(c for c in cols if not c.startswith("_")) or "(rows)"


def _in_dataset(path: Path | str, root: Path) -> str:
    """``path`` as written in the gate's record: relative to the dataset folder
    (``2026Q3/surveys.csv``), never a path of the machine; its name when outside it.

    >>> _in_dataset("/srv/data/desk/2026Q3/surveys.csv", Path("/srv/data/desk"))
    '2026Q3/surveys.csv'
    >>> _in_dataset("/elsewhere/surveys.csv", Path("/srv/data/desk"))
    'surveys.csv'
    """
    path, root = Path(path).absolute(), Path(root).absolute()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _shown(kwargs: dict, values: list) -> list:
    """Failing values as a reader knows them: a pair compared with a helper column
    shows only the real column's value.
    """
    if "column_A" in kwargs and values and isinstance(values[0], tuple | list):
        if kwargs["column_A"].startswith("_"):
            return [v[1] for v in values]
        if kwargs["column_B"].startswith("_"):
            return [v[0] for v in values]
    return values


def _example(value: Any) -> str:
    """A failing value as text; a missing one (None, NaN, NaT) reads "(empty)"."""
    if value is None or (not isinstance(value, str | tuple | list | dict) and pd.isna(value)):
        return "(empty)"
    return str(value)


def _examples(values: list, k: int = 5) -> str:
    shown = []
    for v in values:
        if isinstance(v, dict):
            v = tuple(v.values())
        text = " / ".join(map(_example, v)) if isinstance(v, tuple | list) else _example(v)
        if text not in shown:
            shown.append(text)
        if len(shown) == k:
            break
    return "; ".join(shown)


def validate_table(
    df: pd.DataFrame,
    table: str,
    config: ReviewConfig,
    *,
    parameters: dict[str, Any] | None = None,
    ticket_ids: pd.Index | None = None,
    suite: dict | None = None,
) -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """Validate one table with Great Expectations against its suite.

    Parameters
    ----------
    df : pandas.DataFrame
        The typed table (as :func:`cxassess.io.read_table` returns it, any index).
    table : str
        Which canonical table it is.
    config : ReviewConfig
        The dataset's review.yml (critical share, survey scales).
    parameters : dict of str to Any, optional
        ``$PARAMETER`` values, see :func:`suite_parameters` (default: from ``config``).
    ticket_ids : pandas.Index, optional
        The ids of the cycle's tickets, for the references of events, surveys and
        audits (``None``: not checked).
    suite : dict, optional
        The suite JSON (default :func:`load_suite` of ``table``).

    Returns
    -------
    checks : pandas.DataFrame
        One row per expectation: status ``passed``, ``warning``, ``critical`` or ``not
        applicable``, failing rows, share, reason, fix, examples (columns :data:`CHECK_COLUMNS`).
    quarantine : dict
        Check number → positions (0-based, in ``df``) of the rows to quarantine.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxassess.config import load_config
    >>> t = pd.DataFrame({"ticket_id": ["T1", "T2", "T2"], "channel": ["web", "fax", "web"],
    ...                   "created_at": pd.to_datetime(["2026-07-01"] * 3).tz_localize("UTC")})
    >>> checks, rows = validate_table(t.astype({"ticket_id": "str", "channel": "str"}),
    ...                               "tickets", load_config("data/sample"))
    >>> failed = checks.status.isin(["warning", "critical"])
    >>> print(checks.loc[failed, ["column", "failed_rows", "quarantined"]].to_string(index=False))
       column  failed_rows  quarantined
    ticket_id            2            1
      channel            1            1
    """
    suite = suite or load_suite(table)
    params = suite_parameters(config) if parameters is None else parameters
    critical_share = quality_option(config, "critical_share", 0.05)
    frame = _with_helpers(df.reset_index(drop=True), table, config, ticket_ids)
    original = {(u["column"], int(u["row"]) - 1): u["value"] for u in df.attrs.get("unreadable") or []}
    columns = list(frame.columns)
    applicable, checks, positions = [], [], {}
    for number, expectation in enumerate(suite["expectations"]):
        meta = expectation.get("meta") or {}
        row = {
            "table": table, "check": number, "column": _describe(expectation),
            "status": "not applicable", "failed_rows": 0, "rows_checked": len(frame),
            "share": 0.0, "quarantined": 0, "reason": meta.get("reason", expectation["type"]),
            "fix": meta.get("fix", ""), "examples": "", "expectation": _expectation_name(expectation),
        }
        absent = [c for c in _columns_of(expectation["kwargs"]) if c not in columns]
        unset = [p for p in _parameters_of(expectation["kwargs"]) if p not in params]
        kind = expectation["type"]
        if kind == "expect_table_columns_to_match_set" or not (absent or unset):
            kwargs = dict(expectation["kwargs"])
            if "column_list" in kwargs:
                kwargs["column_list"] = [c for c in kwargs["column_list"] if c in columns]
            applicable.append((number, {**expectation, "kwargs": kwargs}))
        elif absent == ["_referenced_ticket"]:
            row["examples"] = "nothing to check against (no tickets table)"
        elif absent:
            row["examples"] = f"column {', '.join(absent)} not in the file"
        else:
            row["examples"] = f"nothing to check against ({', '.join(unset)} not given)"
        checks.append(row)

    results = _run_gx(frame, table, [e for _, e in applicable], params)
    for (number, expectation), result in zip(applicable, results, strict=True):
        row, meta = checks[number], expectation.get("meta") or {}
        outcome = result.result or {}
        if result.exception_info and result.exception_info.get("raised_exception"):
            row.update(status="critical", examples=str(result.exception_info.get("exception_message")))
            row["reason"] = f"the check could not run: {row['reason']}"
            continue
        if result.success:
            row["status"] = "passed"
            continue
        index = list(outcome.get("unexpected_index_list") or [])
        if meta.get("severity") == "critical" or not index and "unexpected_count" not in outcome:
            row["status"] = "critical" if meta.get("severity") == "critical" else "warning"
            missing = (outcome.get("details") or {}).get("mismatched", {}).get("missing")
            row["examples"] = (
                f"missing: {', '.join(missing)}" if missing
                else f"observed: {outcome.get('observed_value')}"
            )
            row["failed_rows"] = len(frame) if meta.get("severity") == "critical" else 0
            continue
        failed = int(outcome.get("unexpected_count", len(index)))
        values = outcome.get("unexpected_list") or []
        if meta.get("example_column"):
            values = frame[meta["example_column"]].iloc[index].tolist()
        elif "column" in expectation["kwargs"] and len(values) == len(index):
            column = expectation["kwargs"]["column"]  # a value the loader could not read: its text
            if _nullable_number(frame[column]):  # validated as float64 (see _run_gx): the values as they are
                values = frame[column].iloc[index].tolist()
            values = [original.get((column, i), v) for i, v in zip(index, values, strict=True)]
        row.update(
            failed_rows=failed,
            share=failed / len(frame) if len(frame) else 0.0,
            examples=_examples(_shown(expectation["kwargs"], values)),
        )
        if meta.get("quarantine", True):
            keep = index
            if meta.get("keep") == "first":
                subset = expectation["kwargs"].get("column_list") or [expectation["kwargs"]["column"]]
                repeated = frame.duplicated(subset=subset, keep="first").to_numpy()
                keep = [i for i in index if repeated[i]]
            positions[number] = keep
            row["quarantined"] = len(keep)
            row["status"] = "critical" if row["share"] > critical_share else "warning"
        elif expectation["type"] == "expect_column_values_to_be_in_set":
            # a value set describes rather than rejects rows, but a set missed by more than
            # critical_share of a table follows the rule of every other check
            row["status"] = "critical" if row["share"] > critical_share else "warning"
        else:
            row["status"] = "warning"
    unreadable = _unreadable_checks(df, table, len(checks), critical_share)
    for row, rows in unreadable:
        positions[row["check"]] = rows
        checks.append(row)
    return pd.DataFrame(checks, columns=CHECK_COLUMNS), positions


def _run_gx(frame: pd.DataFrame, table: str, expectations: list[dict], params: dict) -> list:
    import great_expectations as gx

    if not expectations:
        return []
    expectations = [
        {**e, "meta": {**(e.get("meta") or {}), "cx_position": i}} for i, e in enumerate(expectations)
    ]
    # GX filters the WHOLE frame (a copy of every column, per check) to drop missing values
    # before a check of two or more columns and to list a check's failing rows: each check
    # runs on a frame of the columns it reads only, one batch per set of columns; checks of
    # the table itself and checks with a row condition share the whole frame (same index:
    # the same row positions everywhere).
    # GX compares a column of pandas' nullable numbers (Int64, Float64) with a range one
    # Python call per value (a second per million rows); as float64 (missing: NaN, which GX
    # leaves out as it leaves out missing values) the comparison is vectorised.
    groups: dict[tuple[tuple[str, ...], bool], list[dict]] = {}
    for e in expectations:
        conditional = "row_condition" in e["kwargs"]  # its condition may read any column
        columns = () if conditional else tuple(_needed(e["kwargs"]))
        as_float = e["type"] == "expect_column_values_to_be_between" and len(columns) == 1 \
            and _nullable_number(frame[columns[0]])
        groups.setdefault((columns, as_float), []).append(e)
    # Each batch is validated for a verdict only (GX's BOOLEAN_ONLY: no list of failing rows
    # computed); only the expectations that fail run again for their complete result.
    ordered: list = [None] * len(expectations)
    for (columns, as_float), group in groups.items():
        part = frame[list(columns)] if columns else frame
        if as_float:
            part = part.astype("float64")
        batch = frame_batches().get_batch(batch_parameters={"dataframe": part})
        for kind in ("BOOLEAN_ONLY", "COMPLETE"):
            suite = gx.ExpectationSuite(name=f"cxassess-{table}", expectations=group)
            result = batch.validate(suite, expectation_parameters=params, result_format={"result_format": kind})
            # GX does not keep the suite's order; each expectation carries its position in meta.
            for r in result.results:
                ordered[r.expectation_config.meta["cx_position"]] = r
            failed = {r.expectation_config.meta["cx_position"] for r in result.results if not r.success}
            group = [e for e in group if e["meta"]["cx_position"] in failed]
            if not group:
                break
    return ordered


def _nullable_number(column: pd.Series) -> bool:
    """Whether a column holds pandas' nullable (extension) integers or floats."""
    return pd.api.types.is_extension_array_dtype(column.dtype) and column.dtype.kind in "iuf"


def _needed(kwargs: dict) -> list[str]:
    """Every column an expectation reads, ``column_list`` included, in order, once."""
    return list(dict.fromkeys([*_columns_of(kwargs), *(kwargs.get("column_list") or [])]))


def _unreadable_checks(df: pd.DataFrame, table: str, first: int, critical_share: float) -> list:
    """Checks for values the loader could not read (one per column), with their rows."""
    cells = pd.DataFrame(df.attrs.get("unreadable") or [], columns=["row", "column", "value", "problem"])
    out = []
    for offset, (column, group) in enumerate(cells.groupby("column", sort=False)):
        rows = sorted(set(int(r) - 1 for r in group["row"]))
        share = len(rows) / len(df) if len(df) else 0.0
        out.append((
            {
                "table": table, "check": first + offset, "column": column,
                "status": "critical" if share > critical_share else "warning",
                "failed_rows": len(rows), "rows_checked": len(df), "share": share,
                "quarantined": len(rows), "reason": f"{column} {group['problem'].iloc[0]}",
                "fix": "correct the values in the export, or set the csv: options in review.yml "
                "(datetime_format, dayfirst, decimal)",
                "examples": _examples(group["value"].tolist()), "expectation": _READABLE,
            },
            rows,
        ))
    return out


def check_cycle(dataset: Path | str, cycle: str | None = None, *, store: Path | str | None = None,
                echo: Callable[[str], None] | None = None, keep: bool = True, largest_first: bool = False,
                turn: Path | str | None = None) -> QualityReport:
    """Run the gate on one cycle: load every table, validate it, quarantine failing rows.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml``.
    cycle : str, optional
        The cycle label; default the latest cycle folder.
    store : Path or str, optional
        A folder (the review's working folder) to write each checked table to, as
        Parquet under ``tables/``, as soon as it is checked: the gate then holds one
        table in memory at a time, and :attr:`QualityReport.data` reads them back on use.
    echo : callable, optional
        Where a progress line goes after each table (rows and seconds); default none.
    keep : bool, default True
        Keep the checked tables (:attr:`QualityReport.data`). ``False`` (``cxassess
        validate`` without a folder to write to): only the verdict is wanted, and each
        table is let go as soon as it is checked.
    largest_first : bool, default False
        Check the largest file right after the one giving the ticket ids, not last
        (:func:`table_order`).
    turn : Path or str, optional
        A lock file the gates of cycles checked side by side share: this gate holds it
        while its largest table is read, checked and stored, so that only one of them holds
        a large table at a time (POSIX ``flock``; not taken where it does not exist).

    Returns
    -------
    QualityReport
        With :attr:`QualityReport.data`, the cycle without its quarantined rows (``None``
        when not ``keep``).

    Examples
    --------
    >>> report = check_cycle("data/sample", "2026Q3")
    >>> report.critical, int(report.tables["rows_quarantined"].sum())
    (False, 0)
    """
    loaded = load_cycle(dataset, cycle, errors="coerce", lazy=True)  # each table read when its turn comes
    config, label = loaded.config, loaded.label
    found = inputs(config, label)
    params = suite_parameters(config, window=cycle_window(label, config.timezone))
    shelf = Path(store) / TABLES_FOLDER if store is not None else None
    ids, derived_from = None, None
    checks, tables, quarantine, kept = [], [], {}, {}
    order, largest = table_order(loaded.files, largest_first=largest_first)
    for table in order:
        file = loaded.files[table]
        with _one_at_a_time(turn if table == largest else None):  # read, checked and stored
            started = time.perf_counter()  # read and checked
            try:
                df = loaded.tables[table]
            except DataFileError as error:
                checks.append(pd.DataFrame([{
                    "table": table, "check": -1, "column": "(file)", "status": "critical",
                    "failed_rows": 0, "rows_checked": 0, "share": 0.0, "quarantined": 0,
                    "reason": f"the file cannot be read: {error.problem}", "fix": error.fix,
                    "examples": _in_dataset(error.path, config.root), "expectation": _FILE,
                }], columns=CHECK_COLUMNS))
                tables.append({"table": table, "file": file.name, "rows_read": 0, "rows_used": 0,
                               "rows_quarantined": 0})
                continue
            give_back_memory()  # the text read and typed a block at a time
            if table == "events" and "tickets" not in loaded.files:
                derived_from = derivable(df, config)  # the ticket table the log gives
                if derived_from is not None:
                    ids = _ids(derived_from)
            table_checks, positions = validate_table(df, table, config, parameters=params, ticket_ids=ids)
            rows = sorted(set().union(*positions.values())) if positions else []
            quarantine[table] = _quarantined(file, config, table_checks, positions, rows)
            checks.append(table_checks)
            tables.append({"table": table, "file": file.name, "rows_read": len(df),
                           "rows_used": len(df) - len(rows), "rows_quarantined": len(rows)})
            if echo is not None:
                echo(f"  {label} {table}: {len(df):,} rows read and checked in {time.perf_counter() - started:.1f} s")
            if table == "tickets":
                ids = _ids(df)
            good = df.drop(index=df.index[rows]).reset_index(drop=True) if rows else df.copy(deep=False)
            good.attrs = {k: v for k, v in df.attrs.items() if k != "unreadable"}
            loaded.tables.release(table)
            del df
            if derived_from is not None and table == "events":
                derived_from = tickets_from_events(good, config.process)  # again, from the events kept
            if shelf is not None:
                kept[table] = store_table(good, shelf, table)
            elif keep:
                kept[table] = good
            del good
            give_back_memory()
    if derived_from is not None and (keep or shelf is not None):  # not a file: no row of its own in the gate's table
        kept["tickets"] = store_table(derived_from, shelf, "tickets") if shelf is not None else derived_from
    checks.sort(key=lambda c: TABLES.index(c["table"].iloc[0]) if len(c) else 0)  # the contract's order, however checked
    tables.sort(key=lambda t: TABLES.index(t["table"]))
    quarantine = {t: quarantine[t] for t in TABLES if t in quarantine}
    kept = {t: kept[t] for t in TABLES if t in kept}
    checks_df = pd.concat(checks, ignore_index=True) if checks else pd.DataFrame(columns=CHECK_COLUMNS)
    tables_df = _lights(pd.DataFrame(tables, columns=["table", "file", "rows_read", "rows_used",
                                                      "rows_quarantined"]), checks_df)
    readable = {t: p for t, p in loaded.files.items() if t in kept}
    derived = ("tickets",) if derived_from is not None else ()
    data = dataclasses.replace(loaded, files=readable, derived=derived, unreadable={}, errors="raise",
                               tables=Tables(stored=kept) if shelf is not None else kept)
    if shelf is None and not keep:
        data = None
    stored = {"folder": str(shelf), "tables": list(data.tables), "derived": list(derived),
              "files": {t: p.name for t, p in readable.items()}} if shelf is not None else None
    return QualityReport(config.name, label, checks_df, tables_df, quarantine, fingerprint(found), data,
                         inputs=found, stored=stored)


def table_order(files: Mapping[str, Path], *, largest_first: bool = False) -> tuple[list[str], str | None]:
    """The order the gate checks a cycle's tables in, and the largest of them (by file size).

    The table giving the ticket ids the others refer to comes first (``tickets``, else
    ``events``, from which the tickets are derived), then the others in the order of the
    data contract, the largest file last, or right after the first with ``largest_first``.
    Two gates running side by side in opposite orders reach their largest tables at
    different times. The gate's report lists the tables in the contract's order whatever
    the order of checking.

    Parameters
    ----------
    files : mapping of str to Path
        The cycle's files by table.
    largest_first : bool, default False
        The largest file right after the first table, not last.

    Returns
    -------
    order : list of str
        The tables.
    largest : str or None
        The table of the largest file (``None`` without files).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> files = load_cycle("data/sample", "2026Q3", lazy=True).files
    >>> table_order(files)
    (['tickets', 'surveys', 'audits', 'customers', 'actions', 'events'], 'events')
    >>> table_order(files, largest_first=True)[0]
    ['tickets', 'events', 'surveys', 'audits', 'customers', 'actions']
    """
    present = [t for t in TABLES if t in files]

    def size(table: str) -> int:
        try:
            return Path(files[table]).stat().st_size
        except OSError:
            return 0

    largest = max(present, key=size, default=None)
    lead = next((t for t in ("tickets", "events") if t in files), None)
    rest = [t for t in present if t not in (lead, largest)]
    if largest == lead or largest is None:
        return [t for t in (lead, *rest) if t is not None], largest
    first = [lead] if lead is not None else []
    return (first + [largest] + rest if largest_first else first + rest + [largest]), largest


@contextmanager
def _one_at_a_time(path: Path | str | None) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made when missing) for the block;
    nothing without a path or where POSIX ``flock`` does not exist.
    """
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: Blocks of this many bytes and more get a mapping of their own from the C library, which
#: it gives back to the system as soon as they are freed (glibc's ``M_MMAP_THRESHOLD``).
MMAP_THRESHOLD_BYTES = 4 * 2**20
#: What the gate's process needs from the allocators to give freed memory back to the system
#: at once: Arrow through the system allocator, large blocks as their own mappings. Set in
#: the environment of the review's gate process and kernels; :func:`release_freed_memory`
#: applies it to a running process (``cxassess validate``).
ALLOCATOR_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES)}


def release_freed_memory() -> None:
    """Make this process give the memory of a table it lets go back to the system at once,
    as the review's gate process does (:data:`ALLOCATOR_ENV`), unless the environment
    already chose an Arrow allocator or a threshold. Call it before any data is read.

    Examples
    --------
    >>> ALLOCATOR_ENV["ARROW_DEFAULT_MEMORY_POOL"]  # what it applies (called only by the command line)
    'system'
    """
    import ctypes
    import ctypes.util
    import os

    import pyarrow as pa

    if os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system") == "system":
        pa.set_memory_pool(pa.system_memory_pool())
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        try:
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(-3, MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD
        except (OSError, AttributeError):  # not glibc
            pass


def give_back_memory() -> None:
    """Hand the memory of the tables let go back to the system (Arrow's pool keeps freed
    blocks for reuse otherwise): the next table starts from the memory actually in use.

    Examples
    --------
    >>> give_back_memory()  # after ``del table; gc.collect()``
    """
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:  # glibc keeps freed small blocks (pandas' Python strings, NumPy buffers) in its heap
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _ids(tickets: pd.DataFrame) -> pd.Index | None:
    """The ticket ids other tables may refer to, or ``None`` without any."""
    if "ticket_id" not in tickets.columns or not len(tickets):
        return None
    return pd.Index(tickets["ticket_id"].dropna().unique())


def without_quarantined(loaded: Cycle, held: dict[str, list[int]]) -> Cycle:
    """The cycle without the quarantined rows (positions per table); tickets derived
    from the event log are derived again from the events kept.
    """
    tables = {}
    for table, df in loaded.tables.items():
        if table in loaded.derived:
            continue
        rows = held.get(table, [])
        kept = df.drop(index=df.index[rows]).reset_index(drop=True) if rows else df.copy(deep=False)
        kept.attrs = {k: v for k, v in df.attrs.items() if k != "unreadable"}
        tables[table] = kept
    data = dataclasses.replace(loaded, tables=tables, derived=(), unreadable={}, errors="raise")
    return with_derived_tickets(data)


def _quarantined(
    file: Path, config: ReviewConfig, checks: pd.DataFrame, positions: dict[int, list[int]],
    rows: list[int],
) -> pd.DataFrame:
    """The quarantined rows with their original values, data-row number and reasons."""
    if not rows:
        return pd.DataFrame()
    raw = read_raw(file, config, rows=rows)  # only the quarantined rows become a frame
    by_row: dict[int, list[int]] = {}
    for number, hit in positions.items():
        for i in hit:
            by_row.setdefault(i, []).append(number)
    described = checks.set_index("check")
    raw.insert(0, "row", [i + 1 for i in rows])
    raw["checks"] = ["; ".join(f"{described.at[n, 'column']}: {described.at[n, 'expectation']}"
                               for n in by_row[i]) for i in rows]
    raw["reasons"] = ["; ".join(described.at[n, "reason"] for n in by_row[i]) for i in rows]
    return raw.reset_index(drop=True)


def _lights(tables: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Per table: critical and warning counts, its status and light; absent tables grey."""
    failed = pd.crosstab(checks["table"], checks["status"]).reindex(columns=["critical", "warning"], fill_value=0)
    out = tables.set_index("table").reindex(list(TABLES))
    out["critical"] = failed["critical"].reindex(out.index, fill_value=0)
    out["warnings"] = failed["warning"].reindex(out.index, fill_value=0)
    absent = out["rows_read"].isna()
    out[["rows_read", "rows_used", "rows_quarantined"]] = out[["rows_read", "rows_used", "rows_quarantined"]].fillna(0)
    out["file"] = out["file"].fillna("")
    out["status"] = np.select([absent, out["critical"] > 0, out["warnings"] > 0],
                              ["absent", "critical", "warning"], "passed")
    out["light"] = out["status"].map(LIGHTS)
    return out.reset_index().astype({c: "int64" for c in
                                     ("rows_read", "rows_used", "rows_quarantined", "critical", "warnings")})



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

Great Expectations is imported only here, and only when a gate runs (it costs seconds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxassess import resources
from cxassess.config import TABLES, ReviewConfig, load_config
from cxassess.cycles import cycle_window, latest_cycle
from cxassess.errors import ConfigError, DataQualityError
from cxassess.export import ENCODING as EXPORT_ENCODING
from cxassess.export import write_csv
from cxassess.io import Cycle, load_cycle, read_raw, with_derived_tickets
from cxassess.kpis.satisfaction import scale_range

__all__ = [
    "QualityReport",
    "check_cycle",
    "checked_cycle",
    "compare",
    "load_suite",
    "quality_report",
    "suite_folder",
    "suite_parameters",
    "validate_table",
]

#: The columns of the table of checks (one row per expectation and table).
CHECK_COLUMNS = [
    "table", "check", "column", "status", "failed_rows", "rows_checked", "share",
    "quarantined", "reason", "fix", "examples", "expectation",
]
#: Traffic light of each status.
LIGHTS = {"critical": "red", "warning": "amber", "passed": "green", "absent": "grey"}
_PARAMETER = "$PARAMETER"
_READABLE = "values readable (cxassess loader)"
_FILE = "file readable (cxassess loader)"


def suite_folder() -> Path:
    """The folder of the suites: ``$CXASSESS_EXPECTATIONS``, else ``expectations/`` of the
    source checkout, else the copy shipped in the installed package (see
    :func:`cxassess.resources.suite_folder`)."""
    return resources.suite_folder()


@cache
def _context() -> Any:
    """An ephemeral GX context (writes nothing, no network) with progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def load_suite(table: str, folder: Path | str | None = None) -> dict:
    """Read ``<folder>/<table>.json`` and check that GX knows every expectation in it.

    GX drops expectation types it does not know without failing; a suite that loses one
    would silently check less, so a count mismatch raises :class:`ConfigError`.

    Returns
    -------
    dict
        The suite as JSON (``name``, ``meta``, ``expectations``).

    Examples
    --------
    >>> suite = load_suite("tickets")
    >>> suite["expectations"][0]["type"]
    'expect_table_columns_to_match_set'
    """
    import great_expectations as gx

    path = Path(folder or suite_folder()) / f"{table}.json"
    if not path.is_file():
        raise ConfigError(f"no data-quality suite for {table}: {path} is missing.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    _context()  # quiets GX's logger before it reports dropped expectations
    loaded = gx.ExpectationSuite(name=data["name"], expectations=data["expectations"])
    if len(loaded.expectations) != len(data["expectations"]):
        known = Counter(e.expectation_type for e in loaded.expectations)
        written = Counter(e["type"] for e in data["expectations"])
        dropped = sorted((written - known).elements())
        raise ConfigError(
            f"{path}: Great Expectations loaded {len(loaded.expectations)} of "
            f"{len(data['expectations'])} expectations; it does not know {', '.join(dropped)}. "
            "Correct the expectation type (see the GX 1.x gallery)."
        )
    return data


def suite_parameters(
    config: ReviewConfig,
    *,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> dict[str, Any]:
    """The ``$PARAMETER`` values of the suites, from review.yml and the cycle.

    A parameter is left out when the dataset does not define it; expectations that
    need it are then reported as not applicable.

    Parameters
    ----------
    config
        The dataset's review.yml.
    window
        The cycle window ``[start, end)``; widened by ``quality.window_tolerance_days``
        (default 1) on both sides.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> p = suite_parameters(load_config("data/sample"))
    >>> p["channels"]
    ['email', 'chat', 'phone', 'web']
    """
    params: dict[str, Any] = {}
    for kind in ("channels", "priorities", "categories", "teams", "survey_kinds", "languages"):
        if config.values(kind):
            params[kind] = config.values(kind)
    if config.process is not None:
        params["activities"] = sorted(config.process.activities)
    criteria = [str(c["criterion"]) for c in config.raw.get("qa_scorecard") or [] if "criterion" in c]
    if criteria:
        params["criteria"] = criteria
    if window is not None:
        tolerance = pd.Timedelta(days=float(_quality_option(config, "window_tolerance_days", 1)))
        params["window_start"] = window[0] - tolerance
        params["window_end"] = window[1] + tolerance
    return params


def _quality_option(config: ReviewConfig, key: str, default: float) -> float:
    return float((config.raw.get("quality") or {}).get(key, default))


def _with_helpers(
    df: pd.DataFrame, table: str, config: ReviewConfig, ticket_ids: pd.Index | None
) -> pd.DataFrame:
    """Add the derived columns some expectations compare with (names start with ``_``):
    the previous event's time per ticket, the declared scale and its bounds per survey, and
    ``_referenced_ticket``, the ticket_id looked up in the tickets table (empty when it is
    not there). A lookup column keeps GX from copying a list of every id into each check."""
    out = df.copy(deep=False)  # copy-on-write: the helper columns never reach ``df``
    if table != "tickets" and ticket_ids is not None and "ticket_id" in df.columns:
        out["_referenced_ticket"] = df["ticket_id"].where(df["ticket_id"].isin(ticket_ids))
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


def _columns_of(kwargs: dict) -> list[str]:
    """Columns an expectation needs (a ``column_list`` is cut to the columns present)."""
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _parameters_of(kwargs: dict) -> list[str]:
    return [v[_PARAMETER] for v in kwargs.values() if isinstance(v, dict) and _PARAMETER in v]


def _describe(expectation: dict) -> str:
    if expectation["type"] == "expect_table_columns_to_match_set":
        return "(columns)"
    if (expectation.get("meta") or {}).get("example_column"):
        return expectation["meta"]["example_column"]
    kw = expectation["kwargs"]
    cols = _columns_of(kw) + list(kw.get("column_list") or [])
    return ", ".join(c for c in cols if not c.startswith("_")) or "(rows)"


def _shown(kwargs: dict, values: list) -> list:
    """Failing values as a reader knows them: a pair compared with a helper column
    shows only the real column's value."""
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
    df
        The typed table (as :func:`cxassess.io.read_table` returns it, any index).
    table
        Which canonical table it is.
    config
        The dataset's review.yml (critical share, survey scales).
    parameters
        ``$PARAMETER`` values, see :func:`suite_parameters` (default: from ``config``).
    ticket_ids
        The ids of the cycle's tickets, for the references of events, surveys and
        audits (``None``: not checked).
    suite
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
    critical_share = _quality_option(config, "critical_share", 0.05)
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
            "fix": meta.get("fix", ""), "examples": "", "expectation": expectation["type"],
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
    suite = gx.ExpectationSuite(name=f"cxassess-{table}", expectations=expectations)
    batch = _context().data_sources.pandas_default.read_dataframe(frame)
    result = batch.validate(
        suite, expectation_parameters=params, result_format={"result_format": "COMPLETE"}
    )
    # GX does not keep the suite's order; each expectation carries its position in meta.
    ordered: list = [None] * len(expectations)
    for r in result.results:
        ordered[r.expectation_config.meta["cx_position"]] = r
    return ordered


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


@dataclasses.dataclass
class QualityReport:
    """The verdict of the gate on one cycle.

    Attributes
    ----------
    dataset, cycle
        Which data was checked.
    checks
        One row per check and table (:data:`CHECK_COLUMNS`).
    tables
        One row per table: light, file, rows read, used and quarantined.
    quarantine
        Table → the quarantined rows with their original values, ``row`` (data row in
        the file, 1-based), ``checks`` and ``reasons``.
    fingerprint
        SHA-256 over the cycle's files, review.yml and the suites.
    data
        The cycle with quarantined rows left out (``None`` when read back from disk).
    """

    dataset: str
    cycle: str
    checks: pd.DataFrame
    tables: pd.DataFrame
    quarantine: dict[str, pd.DataFrame]
    fingerprint: str
    data: Cycle | None = None

    @property
    def critical(self) -> bool:
        """Whether a critical defect stops the review."""
        return bool((self.checks["status"] == "critical").any())

    @property
    def quarantined_rows(self) -> int:
        """Rows left out of the KPIs, over every table."""
        return int(self.tables["rows_quarantined"].sum())

    @property
    def warnings(self) -> int:
        """Number of checks that failed with a warning."""
        return int((self.checks["status"] == "warning").sum())

    def failures(self) -> pd.DataFrame:
        """The failed checks, critical first, largest first."""
        failed = self.checks[self.checks["status"].isin(["critical", "warning"])]
        rank = failed["status"].map({"critical": 0, "warning": 1})
        return failed.assign(_rank=rank).sort_values(["_rank", "table", "failed_rows"],
                                                     ascending=[True, True, False]).drop(columns="_rank")

    def coverage(self) -> pd.DataFrame:
        """How many checks ran per table and how they ended (not applicable: the column
        or the review.yml list it needs is absent)."""
        statuses = ["passed", "warning", "critical", "not applicable"]
        counts = pd.crosstab(self.checks["table"], self.checks["status"])
        counts = counts.reindex(columns=statuses, fill_value=0)
        order = [t for t in TABLES if t in counts.index]
        return counts.loc[order].reset_index().rename_axis(columns=None)

    def verdict(self, *, markdown: bool = True) -> str:
        """One sentence: passed or stopped, warnings, rows quarantined (Markdown, or plain
        text for a terminal)."""
        b = "**" if markdown else ""
        name, cycle = self.dataset, self.cycle
        if markdown:  # the dataset's name comes from review.yml: shown as text, never markup
            from cxassess.plots import md_text

            name, cycle = md_text(name), md_text(cycle)
        read = int(self.tables["rows_read"].sum())
        kept = f"{self.quarantined_rows:,} of {read:,} rows quarantined"
        if self.critical:
            n = int((self.checks["status"] == "critical").sum())
            return (f"{b}Data-quality gate failed{b} for {name} {cycle}: {n} critical "
                    f"defect(s), {self.warnings} warning(s), {kept}. No KPI is computed on this data.")
        if self.warnings:
            return (f"{b}Data-quality gate passed with {self.warnings} warning(s){b} for "
                    f"{name} {cycle}: {kept}; the KPIs use the other rows.")
        return f"{b}Data-quality gate passed{b} for {name} {cycle}: every check holds, {kept}."

    def banner(self) -> tuple[str, str] | None:
        """Text and CSS class of the banner every report page carries, or ``None``."""
        if self.critical:
            return "Data-quality gate failed: the review stopped before the KPI pages.", "cx-critical"
        if self.warnings:
            return (f"{self.warnings} data-quality warning(s), {self.quarantined_rows:,} row(s) quarantined and "
                    "left out of the KPIs.", "")
        return None

    def save(self, folder: Path | str) -> Path:
        """Write ``quality.json`` and ``quarantine/<table>.csv`` into ``folder``.

        The quarantine files go through :func:`cxassess.export.write_csv`: cells a
        spreadsheet would take for a formula are prefixed with ``'``, UTF-8 with BOM."""
        folder = Path(folder)
        (folder / "quarantine").mkdir(parents=True, exist_ok=True)
        for table, rows in self.quarantine.items():
            if len(rows):
                write_csv(rows, folder / "quarantine" / f"{table}.csv")
        record = {
            "dataset": self.dataset, "cycle": self.cycle, "fingerprint": self.fingerprint,
            "critical": self.critical, "warnings": self.warnings,
            "tables": json.loads(self.tables.to_json(orient="records")),
            "checks": json.loads(self.checks.to_json(orient="records")),
        }
        (folder / "quality.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        return folder / "quality.json"

    @classmethod
    def read(cls, folder: Path | str) -> QualityReport:
        """Read a report written by :meth:`save` (without the clean data).

        Quarantined rows are matched to the data by their ``row`` number only; their
        other cells are read as written (text, neutralised cells with their ``'``)."""
        folder = Path(folder)
        record = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
        quarantine = {
            p.stem: pd.read_csv(p, dtype=str, keep_default_na=False, encoding=EXPORT_ENCODING)
            for p in sorted((folder / "quarantine").glob("*.csv"))
        }
        return cls(
            record["dataset"], record["cycle"],
            pd.DataFrame(record["checks"], columns=CHECK_COLUMNS),
            pd.DataFrame(record["tables"]), quarantine, record["fingerprint"],
        )

    def _repr_markdown_(self) -> str:
        return self.verdict()


def fingerprint(config: ReviewConfig, cycle: str) -> str:
    """SHA-256 over the cycle folder's files, review.yml and the suites."""
    digest = hashlib.sha256()
    folder = config.root / cycle
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    files += [config.path] + sorted(suite_folder().glob("*.json"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def check_cycle(dataset: Path | str, cycle: str | None = None) -> QualityReport:
    """Run the gate on one cycle: load every table, validate it, quarantine failing rows.

    Parameters
    ----------
    dataset
        The dataset folder holding ``review.yml``.
    cycle
        The cycle label; default the latest cycle folder.

    Returns
    -------
    QualityReport
        With :attr:`QualityReport.data`, the cycle without its quarantined rows.

    Examples
    --------
    >>> report = check_cycle("data/sample", "2026Q3")
    >>> report.critical, int(report.tables["rows_quarantined"].sum())
    (False, 0)
    """
    loaded = load_cycle(dataset, cycle, errors="coerce")
    config = loaded.config
    ids = None
    if "tickets" in loaded.tables and "ticket_id" in loaded.tickets.columns and len(loaded.tickets):
        ids = pd.Index(loaded.tickets["ticket_id"].dropna().unique())
    params = suite_parameters(config, window=cycle_window(loaded.label, config.timezone))
    checks, tables, quarantine, held = [], [], {}, {}
    for table in TABLES:
        file = loaded.files.get(table)
        source = file.name if file else ("derived from the event log" if table in loaded.derived else "")
        if table in loaded.unreadable:
            error = loaded.unreadable[table]
            checks.append(pd.DataFrame([{
                "table": table, "check": -1, "column": "(file)", "status": "critical",
                "failed_rows": 0, "rows_checked": 0, "share": 0.0, "quarantined": 0,
                "reason": f"the file cannot be read: {error.problem}", "fix": error.fix,
                "examples": str(error.path), "expectation": _FILE,
            }], columns=CHECK_COLUMNS))
            tables.append({"table": table, "file": source, "rows_read": 0, "rows_used": 0,
                           "rows_quarantined": 0})
            continue
        if table not in loaded.tables or table in loaded.derived:
            continue
        df = loaded.tables[table]
        table_checks, positions = validate_table(df, table, config, parameters=params, ticket_ids=ids)
        rows = sorted(set().union(*positions.values())) if positions else []
        quarantine[table] = _quarantined(file, config, table_checks, positions, rows)
        held[table] = rows
        checks.append(table_checks)
        tables.append({"table": table, "file": source, "rows_read": len(df),
                       "rows_used": len(df) - len(rows), "rows_quarantined": len(rows)})
    checks_df = pd.concat(checks, ignore_index=True) if checks else pd.DataFrame(columns=CHECK_COLUMNS)
    tables_df = _lights(pd.DataFrame(tables, columns=["table", "file", "rows_read", "rows_used",
                                                      "rows_quarantined"]), checks_df)
    return QualityReport(config.name, loaded.label, checks_df, tables_df, quarantine,
                         fingerprint(config, loaded.label), _without(loaded, held))


def _without(loaded: Cycle, held: dict[str, list[int]]) -> Cycle:
    """The cycle without the quarantined rows (positions per table); tickets derived
    from the event log are derived again from the events kept."""
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
    raw = read_raw(file, config).iloc[rows].copy()
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


def _stored(report_dir: Path | str | None, config: ReviewConfig, cycle: str) -> Path | None:
    if report_dir is None:
        return None
    for folder in (Path(report_dir), Path(report_dir) / "previous", Path(report_dir) / "history" / cycle):
        record = folder / "quality.json"
        if record.is_file():
            head = json.loads(record.read_text(encoding="utf-8"))
            if head.get("cycle") == cycle and head.get("fingerprint") == fingerprint(config, cycle):
                return folder
    return None


def quality_report(
    dataset: Path | str, cycle: str | None = None, report_dir: Path | str | None = None
) -> QualityReport | None:
    """The gate's report for a cycle: the one the review run stored in ``report_dir``
    when it still matches the data, else a fresh run; ``None`` without a cycle folder."""
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
    dataset
        The dataset folder holding ``review.yml``.
    cycle
        The cycle label; default the latest cycle folder.
    report_dir
        Folder where the review run saved the gate (``None`` when run by hand).
    strict
        Raise :class:`DataQualityError` when the gate found a critical defect. Use
        ``False`` for the cycle a review compares with.

    Returns
    -------
    Cycle or None
        ``None`` when the dataset has no folder for ``cycle``.

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
    held = {t: [int(r) - 1 for r in rows["row"]] for t, rows in report.quarantine.items() if len(rows)}
    return _without(load_cycle(dataset, report.cycle, errors="coerce"), held)


def critical_lines(report: QualityReport) -> list[str]:
    """One line per critical defect: table, reason, column, rows, examples and fix."""
    failed = report.failures()
    failed = failed[failed["status"] == "critical"]
    return [
        f"{r.table}: {r.reason} ({r.column}; {r.failed_rows:,} row(s); {r.examples}). Fix: {r.fix}"
        for r in failed.itertuples()
    ]


def compare(now: QualityReport, before: QualityReport | None) -> pd.DataFrame:
    """Data quality of each table beside the previous cycle's: share quarantined,
    warnings and critical defects.

    Examples
    --------
    >>> report = check_cycle("data/sample", "2026Q3")
    >>> compare(report, None)[["table", "quarantined_share"]].head(2)
         table  quarantined_share
    0  tickets                0.0
    1   events                0.0
    """
    def shares(report: QualityReport | None) -> pd.DataFrame:
        if report is None:
            return pd.DataFrame(columns=["table", "quarantined_share", "warnings", "critical", "status"])
        t = report.tables.copy()
        t["quarantined_share"] = (t["rows_quarantined"] / t["rows_read"].where(t["rows_read"] > 0)).fillna(0.0)
        return t[["table", "quarantined_share", "warnings", "critical", "status"]]

    out = shares(now).merge(shares(before), on="table", how="left", suffixes=("", "_before"))
    return out

"""The gate's report of one cycle: its checks, tables and quarantined rows, saved beside the
review (``quality.json``, ``quarantine/<table>.csv``) and read back by every page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from cxassess.config import ReviewConfig
from cxassess.cycles import TABLES_FOLDER, Cycle, store_tables
from cxassess.export import ENCODING as EXPORT_ENCODING
from cxassess.export import md_text, write_csv
from cxassess.io import file_sha256
from cxassess.quality.suites import suite_folder
from cxassess.schema import TABLES

__all__ = ["CHECK_COLUMNS", "LIGHTS", "QualityReport", "compare", "critical_lines", "fingerprint", "inputs",
           "unchanged"]


#: The columns of the table of checks (one row per expectation and table).
CHECK_COLUMNS = [
    "table", "check", "column", "status", "failed_rows", "rows_checked", "share",
    "quarantined", "reason", "fix", "examples", "expectation",
]


#: Traffic light of each status.
LIGHTS = {"critical": "red", "warning": "amber", "passed": "green", "absent": "grey"}


@dataclasses.dataclass
class QualityReport:
    """The verdict of the gate on one cycle.

    Parameters
    ----------
    dataset, cycle : str
        Which data was checked.
    checks : pandas.DataFrame
        One row per check and table (:data:`CHECK_COLUMNS`).
    tables : pandas.DataFrame
        One row per table: light, file, rows read, used and quarantined.
    quarantine : dict of str to pandas.DataFrame
        Table → the quarantined rows with their original values, ``row`` (data row in
        the file, 1-based), ``checks`` and ``reasons``.
    fingerprint : str
        SHA-256 over the cycle's files, review.yml and the suites.
    data : Cycle, optional
        The cycle with quarantined rows left out (``None`` when read back from disk
        without its stored tables).
    inputs : dict of str to dict, optional
        Each input of the gate (``<cycle>/<file>``, ``review.yml``,
        ``expectations/<suite>``) with its size, modification time and SHA-256: what
        :func:`unchanged` compares, and what the run manifest lists.
    stored : dict, optional
        When the gate wrote the checked tables itself (``check_cycle(..., store=folder)``):
        what :func:`cxassess.cycles.stored_cycle` needs to read them back.

    Examples
    --------
    >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
    ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
    >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
    >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
    >>> report.critical, report.warnings, report.quarantined_rows
    (False, 1, 3)
    """

    dataset: str
    cycle: str
    checks: pd.DataFrame
    tables: pd.DataFrame
    quarantine: dict[str, pd.DataFrame]
    fingerprint: str
    data: Cycle | None = None
    inputs: dict[str, dict] = dataclasses.field(default_factory=dict)
    stored: dict | None = None

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
        """The failed checks, critical first, largest first.

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`checks` whose status is ``critical`` or ``warning``.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> report.failures()[["table", "status", "failed_rows"]].to_dict("records")
        [{'table': 'tickets', 'status': 'warning', 'failed_rows': 3}]
        """
        failed = self.checks[self.checks["status"].isin(["critical", "warning"])]
        rank = failed["status"].map({"critical": 0, "warning": 1})
        return failed.assign(_rank=rank).sort_values(["_rank", "table", "failed_rows"],
                                                     ascending=[True, True, False]).drop(columns="_rank")

    def coverage(self) -> pd.DataFrame:
        """How many checks ran per table and how they ended (not applicable: the column
        or the review.yml list it needs is absent).

        Returns
        -------
        pandas.DataFrame
            One row per table checked: ``table, passed, warning, critical, not applicable``.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> report.coverage().to_dict("records")
        [{'table': 'tickets', 'passed': 1, 'warning': 1, 'critical': 0, 'not applicable': 0}]
        """
        statuses = ["passed", "warning", "critical", "not applicable"]
        counts = pd.crosstab(self.checks["table"], self.checks["status"])
        counts = counts.reindex(columns=statuses, fill_value=0)
        order = [t for t in TABLES if t in counts.index]
        return counts.loc[order].reset_index().rename_axis(columns=None)

    def verdict(self, *, markdown: bool = True) -> str:
        """One sentence: passed or stopped, warnings, rows quarantined (Markdown, or plain
        text for a terminal).

        Parameters
        ----------
        markdown : bool, default True
            Bold the verdict and escape the dataset's name for Markdown; ``False``: plain text.

        Returns
        -------
        str
            The sentence.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> report.verdict(markdown=False)
        'Data-quality gate passed with 1 warning(s) for desk 2026Q3: 3 of 100 rows quarantined; the KPIs use the other rows.'
        """
        b = "**" if markdown else ""
        name, cycle = self.dataset, self.cycle
        if markdown:  # the dataset's name comes from review.yml: shown as text, never markup
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
        """Text and CSS class of the banner every report page carries, or ``None``.

        Returns
        -------
        (str, str) or None
            The banner's text and CSS class; ``None`` when every check passed.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> report.banner()
        ('1 data-quality warning(s), 3 row(s) quarantined and left out of the KPIs.', '')
        """
        if self.critical:
            return "Data-quality gate failed: the review stopped before the KPI pages.", "cx-critical"
        if self.warnings:
            return (f"{self.warnings} data-quality warning(s), {self.quarantined_rows:,} row(s) quarantined and "
                    "left out of the KPIs.", "")
        return None

    def save(self, folder: Path | str) -> Path:
        """Write ``quality.json`` and ``quarantine/<table>.csv`` into ``folder``, and the
        checked tables (:attr:`data`) as Parquet into ``folder/tables``: the pages read
        those, typed, instead of parsing the exports again.

        The quarantine files go through :func:`cxassess.export.write_csv`: cells a
        spreadsheet would take for a formula are prefixed with ``'``, UTF-8 with BOM.

        Parameters
        ----------
        folder : Path or str
            The folder; created when missing.

        Returns
        -------
        Path
            The ``quality.json`` written.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> report.save(folder).name, QualityReport.read(folder).warnings
        ('quality.json', 1)
        """
        folder = Path(folder)
        (folder / "quarantine").mkdir(parents=True, exist_ok=True)
        for table, rows in self.quarantine.items():
            if len(rows):
                write_csv(rows, folder / "quarantine" / f"{table}.csv")
        record = {
            "dataset": self.dataset, "cycle": self.cycle, "fingerprint": self.fingerprint,
            "critical": self.critical, "warnings": self.warnings, "inputs": self.inputs,
            "tables": json.loads(self.tables.to_json(orient="records")),
            "checks": json.loads(self.checks.to_json(orient="records")),
        }
        if self.stored is not None and Path(self.stored["folder"]).resolve() == (folder / TABLES_FOLDER).resolve():
            record["data"] = {k: v for k, v in self.stored.items() if k != "folder"}  # written as the gate went
        elif self.data is not None:
            record["data"] = store_tables(self.data, folder / TABLES_FOLDER)
        (folder / "quality.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        return folder / "quality.json"

    @classmethod
    def read(cls, folder: Path | str) -> QualityReport:
        """Read a report written by :meth:`save` (without the clean data).

        Quarantined rows are matched to the data by their ``row`` number only; their
        other cells are read as written (text, neutralised cells with their ``'``).

        Parameters
        ----------
        folder : Path or str
            The folder :meth:`save` wrote.

        Returns
        -------
        QualityReport
            The report, with ``data`` left ``None``.

        Examples
        --------
        >>> checks = pd.DataFrame({"table": ["tickets", "tickets"], "status": ["passed", "warning"],
        ...                        "failed_rows": [0, 3]}).reindex(columns=CHECK_COLUMNS)
        >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [100], "rows_quarantined": [3]})
        >>> report = QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64)
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = report.save(folder)
        >>> back = QualityReport.read(folder)
        >>> back.dataset, back.cycle, back.quarantined_rows, list(back.checks.columns) == CHECK_COLUMNS
        ('desk', '2026Q3', 3, True)
        """
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
            inputs=record.get("inputs", {}),
        )

    def _repr_markdown_(self) -> str:
        return self.verdict()


def inputs(config: ReviewConfig, cycle: str) -> dict[str, dict]:
    """Every input of the gate on ``cycle`` — the cycle folder's files, review.yml and the
    suites — with its size, modification time and SHA-256 (read in blocks).

    Parameters
    ----------
    config : ReviewConfig
        The dataset's settings.
    cycle : str
        The cycle label.

    Returns
    -------
    dict of str to dict
        ``<cycle>/<file>``, ``review.yml`` and ``expectations/<suite>`` -> ``size``,
        ``mtime_ns``, ``sha256``.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> found = inputs(load_config("data/sample"), "2026Q3")
    >>> sorted(found)[:2], sorted(found["2026Q3/tickets.csv"])
    (['2026Q3/actions.csv', '2026Q3/audits.csv'], ['mtime_ns', 'sha256', 'size'])
    """
    out = {}
    for key, path in _input_files(config, cycle):
        stat = path.stat()
        out[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sha256(path)}
    return out


def _input_files(config: ReviewConfig, cycle: str) -> list[tuple[str, Path]]:
    folder = config.root / cycle
    files = [(f"{cycle}/{p.name}", p) for p in sorted(folder.iterdir()) if p.is_file()] if folder.is_dir() else []
    files.append(("review.yml", config.path))
    files += [(f"expectations/{p.name}", p) for p in sorted(suite_folder().glob("*.json"))]
    return files


def fingerprint(found: dict[str, dict]) -> str:
    """SHA-256 over the names and contents of the inputs (see :func:`inputs`).

    Parameters
    ----------
    found : dict of str to dict
        The inputs, as :func:`inputs` gives them (only ``sha256`` is read).

    Returns
    -------
    str
        The digest, 64 hexadecimal digits.

    Examples
    --------
    >>> fingerprint({"a.csv": {"sha256": "00"}}) == fingerprint({"a.csv": {"sha256": "01"}})
    False
    """
    digest = hashlib.sha256()
    for key in sorted(found):
        digest.update(key.encode())
        digest.update(bytes.fromhex(found[key]["sha256"]))
    return digest.hexdigest()


def unchanged(recorded: dict[str, dict], config: ReviewConfig, cycle: str) -> bool:
    """Whether the inputs of ``cycle`` are still those ``recorded`` by the gate: the same
    files, each with the same size and modification time, or else the same SHA-256
    (only a file whose size or time differs is read again).

    Parameters
    ----------
    recorded : dict of str to dict
        The inputs as :func:`inputs` gave them when the gate ran.
    config : ReviewConfig
        The dataset's settings.
    cycle : str
        The cycle label.

    Returns
    -------
    bool
        ``True`` when the same inputs are unchanged.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> config = load_config("data/sample")
    >>> unchanged(inputs(config, "2026Q3"), config, "2026Q3"), unchanged({}, config, "2026Q3")
    (True, False)
    """
    files = _input_files(config, cycle)
    if sorted(key for key, _ in files) != sorted(recorded):
        return False
    for key, path in files:
        stat, then = path.stat(), recorded[key]
        if stat.st_size != then["size"]:
            return False
        if stat.st_mtime_ns != then["mtime_ns"] and file_sha256(path) != then["sha256"]:
            return False
    return True


def critical_lines(report: QualityReport) -> list[str]:
    """One line per critical defect: table, reason, column, rows, examples and fix. A check
    of the whole table or file (its column ``(rows)`` or ``(file)``) names no column, and no
    count of rows when none failed one by one.

    Parameters
    ----------
    report : QualityReport
        The gate's report.

    Returns
    -------
    list of str
        The lines; empty when there is no critical defect.

    Examples
    --------
    >>> checks = pd.DataFrame([{"table": "tickets", "column": "created_at", "status": "critical",
    ...     "failed_rows": 2, "reason": "unreadable timestamp", "examples": "'yesterday'",
    ...     "fix": "write ISO 8601"}]).reindex(columns=CHECK_COLUMNS)
    >>> tables = pd.DataFrame({"table": ["tickets"], "rows_read": [10], "rows_quarantined": [0]})
    >>> critical_lines(QualityReport("desk", "2026Q3", checks, tables, {}, "0" * 64))
    ["tickets: unreadable timestamp (created_at; 2 row(s); 'yesterday'). Fix: write ISO 8601"]
    >>> empty = pd.DataFrame([{"table": "surveys", "column": "(rows)", "status": "critical", "failed_rows": 0,
    ...     "reason": "the surveys table has no rows", "examples": "observed: 0",
    ...     "fix": "leave the file out"}]).reindex(columns=CHECK_COLUMNS)
    >>> critical_lines(QualityReport("desk", "2026Q3", empty, tables, {}, "0" * 64))
    ['surveys: the surveys table has no rows (observed: 0). Fix: leave the file out']
    """
    failed = report.failures()
    failed = failed[failed["status"] == "critical"]

    def line(r: Any) -> str:
        whole = str(r.column).startswith("(")  # (rows), (file): the table itself, not a column
        details = [] if whole else [str(r.column)]
        if not whole or (pd.notna(r.failed_rows) and r.failed_rows):
            details.append(f"{int(r.failed_rows):,} row(s)")
        if pd.notna(r.examples) and str(r.examples).strip():
            details.append(str(r.examples))
        return f"{r.table}: {r.reason}" + (f" ({'; '.join(details)})" if details else "") + f". Fix: {r.fix}"

    return [line(r) for r in failed.itertuples()]


def compare(now: QualityReport, before: QualityReport | None) -> pd.DataFrame:
    """Data quality of each table beside the previous cycle's: share quarantined,
    warnings and critical defects.

    Parameters
    ----------
    now : QualityReport
        The gate's report on the cycle reviewed.
    before : QualityReport or None
        The report on the previous cycle (``None``: none).

    Returns
    -------
    pandas.DataFrame
        One row per table of ``now``: ``table, quarantined_share, warnings, critical,
        status`` and the same with ``_before`` (missing without a previous report).
        ``quarantined_share`` is missing (NaN, not available) for a table of which no row
        was read: absent from the cycle, empty or unreadable.

    Examples
    --------
    >>> from cxassess.quality import check_cycle
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
        # no row read (table absent, empty or unreadable): the share is unknown, not 0
        t["quarantined_share"] = t["rows_quarantined"] / t["rows_read"].where(t["rows_read"] > 0)
        return t[["table", "quarantined_share", "warnings", "critical", "status"]]

    out = shares(now).merge(shares(before), on="table", how="left", suffixes=("", "_before"))
    return out

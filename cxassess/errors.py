"""One exception hierarchy for cxassess.

Every message says *what* is wrong, *where* (file, column, rows) and *how to fix it*,
so that a CX lead reading a failed run knows what to change in the export or in
``review.yml`` without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CxAssessError",
    "ConfigError",
    "DataFileError",
    "MissingColumnError",
    "ParseError",
    "ReviewRunError",
    "DataQualityError",
    "ImportSourceError",
    "DatasetFolderError",
]


class CxAssessError(Exception):
    """Base class of every error cxassess raises on purpose."""


class ConfigError(CxAssessError):
    """``review.yml`` is missing, unreadable or inconsistent."""


class DataFileError(CxAssessError):
    """A data file is missing, unreadable or empty."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}\n  How to fix: {fix}")


class MissingColumnError(DataFileError):
    """A required column of the data contract is absent from a file."""

    def __init__(
        self, path: Path | str, table: str, missing: Sequence[str], found: Sequence[str]
    ) -> None:
        self.table = table
        self.missing = list(missing)
        self.found = list(found)
        problem = (
            f"the {table} table lacks the required column(s) {', '.join(self.missing)} "
            f"(columns found: {', '.join(self.found) or 'none'})"
        )
        fix = (
            f"add the column(s) to the export, or map your own column names in review.yml "
            f"under columns: {table}: {{{self.missing[0]}: <your column>}}"
        )
        super().__init__(path, problem, fix)


class ParseError(DataFileError):
    """Values of a column cannot be read as the type the data contract expects."""

    def __init__(
        self,
        path: Path | str,
        column: str,
        rows: Sequence[int],
        examples: Sequence[str],
        expected: str,
        fix: str,
    ) -> None:
        self.column = column
        self.rows = list(rows)
        self.examples = list(examples)
        shown = ", ".join(str(r) for r in self.rows[:10])
        more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
        problem = (
            f"column {column!r}: {len(self.rows)} value(s) cannot be read as {expected} "
            f"at row(s) {shown}{more} (data rows counted from 1 below the header; "
            f"e.g. {', '.join(repr(e) for e in self.examples[:3])})"
        )
        super().__init__(path, problem, fix)


class ReviewRunError(CxAssessError):
    """A notebook of the review run failed; the previous report was left in place."""

    def __init__(self, notebook: str, cell: int | None, error: str, kept_at: Path | None) -> None:
        self.notebook = notebook
        self.cell = cell
        self.error = error
        self.kept_at = kept_at
        where = f"cell {cell} (counting every cell from the top)" if cell is not None else "an unknown cell"
        msg = f"notebook {notebook} failed in {where}: {error}"
        if kept_at is not None:
            msg += f"\n  The executed notebook with the traceback is kept at {kept_at}"
        msg += "\n  The last good report was left untouched."
        super().__init__(msg)


class DataQualityError(CxAssessError):
    """The data-quality gate found a critical defect: no KPI is computed on the cycle."""

    def __init__(self, dataset: str, cycle: str, defects: Sequence[str], page: Path | None = None) -> None:
        self.dataset = dataset
        self.cycle = cycle
        self.defects = list(defects)
        self.page = page
        lines = [f"data-quality gate failed for {dataset} {cycle}: {len(self.defects)} critical defect(s)"]
        lines += [f"  - {d}" for d in self.defects[:10]]
        if len(self.defects) > 10:
            lines.append(f"  ... and {len(self.defects) - 10} more")
        if page is not None:
            lines.append(f"  The data-quality page and the quarantined rows are kept in {page.parent}")
        lines.append("  No KPI was computed; the last good report was left untouched.")
        super().__init__("\n".join(lines))


class ImportSourceError(DataFileError):
    """``cxassess import`` cannot read a source export or cannot find what it needs in it
    (a case id, a timestamp, an activity)."""


class DatasetFolderError(DataFileError):
    """``cxassess import`` would overwrite a dataset folder it did not create."""

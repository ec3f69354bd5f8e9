"""One exception hierarchy for cxassess.

Every message says *what* is wrong, *where* (file, column, rows) and *how to fix it*,
so that a CX lead reading a failed run knows what to change in the export or in
``review.yml`` without reading a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CxAssessError",
    "ConfigError",
    "ConfigProblem",
    "InputError",
    "ReportFolderError",
    "DataFileError",
    "MissingColumnError",
    "ParseError",
    "ReviewRunError",
    "DataQualityError",
    "shown",
    "ImportSourceError",
    "DatasetFolderError",
]


def shown(path: Path | str) -> str:
    """``path`` as written for people: relative to the working folder (no machine paths).

    Falls back to the folder's name when no relative path exists (another drive).

    Examples
    --------
    >>> shown(Path.cwd() / "data" / "sample")
    'data/sample'
    """
    try:
        return os.path.relpath(Path(path).absolute(), Path.cwd())
    except ValueError:
        return Path(path).name


class CxAssessError(Exception):
    """Base class of every error cxassess raises on purpose.

    ``message`` says what is wrong and where; ``fix`` (optional) how to fix it; ``path``
    (optional) the file or folder concerned. The CLI prints ``str(error)`` without a
    traceback and exits 1.

    Examples
    --------
    >>> print(CxAssessError("the cycle 2026Q5 does not exist", fix="use 2026Q1 to 2026Q4"))
    the cycle 2026Q5 does not exist
      How to fix: use 2026Q1 to 2026Q4
    """

    def __init__(self, message: str = "", *, fix: str | None = None, path: Path | str | None = None) -> None:
        self.message = message
        self.fix = fix
        self.path = Path(path) if path is not None else None
        super().__init__(message + (f"\n  How to fix: {fix}" if fix else ""))


class InputError(CxAssessError, ValueError):
    """A function of the package was called with input it cannot use (a missing column,
    a scale without a rule, an option it does not know). Also a ``ValueError`` for callers
    that catch that.
    """


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of ``review.yml``: the key path, the value given, what is wrong, the fix.

    Examples
    --------
    >>> ConfigProblem("min_n", "thirty", "'thirty' is not a whole number", "write e.g. 30").line()
    "min_n: 'thirty' is not a whole number. How to fix: write e.g. 30"
    """

    key: str
    value: Any
    problem: str
    fix: str

    def line(self) -> str:
        """The problem as one line: ``key: problem. How to fix: fix``."""
        where = f"{self.key}: " if self.key else ""
        return f"{where}{self.problem}. How to fix: {self.fix}"


class ConfigError(CxAssessError):
    """``review.yml`` is missing, unreadable or inconsistent.

    ``path`` is the file (when known) and ``problems`` every :class:`ConfigProblem` found
    (empty for an error that is not about one key, e.g. a missing file).
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        problems: Sequence[ConfigProblem] = (),
        fix: str | None = None,
    ) -> None:
        self.problems = list(problems)
        super().__init__(message, fix=fix, path=path)

    @classmethod
    def from_problems(cls, path: Path | str, problems: Sequence[ConfigProblem]) -> ConfigError:
        """One error listing every problem, one line each."""
        lines = [f"{shown(path)}: {len(problems)} problem(s)"]
        lines += [f"  - {p.line()}" for p in problems]
        return cls("\n".join(lines), path=path, problems=problems)


class ReportFolderError(CxAssessError):
    """The reports folder cannot be written (read-only, disk full, no permission)."""

    REASONS = {
        13: ("permission denied", "give yourself write permission on it, or pass --reports <folder>"),
        28: ("the disk is full", "free some space on that disk, or pass --reports <folder> elsewhere"),
        30: ("the file system is read-only", "pass --reports <a writable folder>"),
    }

    def __init__(self, folder: Path | str, error: OSError) -> None:
        self.folder = Path(folder)
        self.errno = error.errno
        problem, fix = self.REASONS.get(
            error.errno or 0, (error.strerror or str(error), "check the folder and try again")
        )
        super().__init__(f"cannot write the report to {self.folder}: {problem}", fix=fix, path=folder)


class DataFileError(CxAssessError):
    """A data file is missing, unreadable or empty."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.problem = problem
        super().__init__(f"{Path(path)}: {problem}", fix=fix, path=path)


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
            msg += f"\n  The executed notebook with the traceback is kept at {shown(kept_at)}"
        msg += "\n  The last good report was left untouched."
        super().__init__(msg, fix="open the kept notebook, correct the cause, and run the review again",
                         path=kept_at)


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
            lines.append(f"  The data-quality page and the quarantined rows are kept in {shown(page.parent)}")
        lines.append("  No KPI was computed; the last good report was left untouched.")
        super().__init__("\n".join(lines), path=page)


class ImportSourceError(DataFileError):
    """``cxassess import`` cannot read a source export or cannot find what it needs in it
    (a case id, a timestamp, an activity).
    """


class DatasetFolderError(DataFileError):
    """``cxassess import`` would overwrite a dataset folder it did not create."""

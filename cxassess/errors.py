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

    Parameters
    ----------
    path : Path or str
        A file or folder, absolute or relative.

    Returns
    -------
    str
        The path relative to the working folder, or its last part.

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

    Parameters
    ----------
    message : str
        What is wrong, and where.
    fix : str, optional
        How to fix it; printed on its own line after "How to fix:".
    path : Path or str, optional
        The file or folder concerned.

    Examples
    --------
    >>> print(CxAssessError("the cycle 2026Q5 does not exist", fix="use 2026Q1 to 2026Q4"))
    the cycle 2026Q5 does not exist
      How to fix: use 2026Q1 to 2026Q4
    >>> CxAssessError("no such file", path="data/x.csv").path.name
    'x.csv'
    """

    def __init__(self, message: str = "", *, fix: str | None = None, path: Path | str | None = None) -> None:
        self.message = message
        self.fix = fix
        self.path = Path(path) if path is not None else None
        super().__init__(message + (f"\n  How to fix: {fix}" if fix else ""))

    def __reduce__(self) -> tuple:
        """Pickle as the same class with the same attributes (errors cross from the gate's
        worker processes; the subclasses' own arguments differ).
        """
        return _rebuilt, (type(self), self.args, self.__dict__)


class InputError(CxAssessError, ValueError):
    """A function of the package was called with input it cannot use (a missing column,
    a scale without a rule, an option it does not know). Also a ``ValueError`` for callers
    that catch that.

    Parameters
    ----------
    message : str
        What is wrong, and where.
    fix : str, optional
        How to fix it.
    path : Path or str, optional
        The file or folder concerned.

    Examples
    --------
    >>> error = InputError("csat: no rule for a 4-point scale", fix="use 3, 5, 7, 10 or 11 points")
    >>> isinstance(error, ValueError), error.fix
    (True, 'use 3, 5, 7, 10 or 11 points')
    """


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of ``review.yml``: the key path, the value given, what is wrong, the fix.

    Parameters
    ----------
    key : str
        Dotted key path in review.yml (``sla[0].hours``); empty for the file as a whole.
    value : Any
        The value given.
    problem : str
        What is wrong with it.
    fix : str
        How to fix it.

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
        """The problem as one line: ``key: problem. How to fix: fix``.

        Returns
        -------
        str
            The line; without the ``key:`` prefix when the key is empty.

        Examples
        --------
        >>> ConfigProblem("", None, "the file is empty", "write at least name:").line()
        'the file is empty. How to fix: write at least name:'
        """
        where = f"{self.key}: " if self.key else ""
        return f"{where}{self.problem}. How to fix: {self.fix}"


class ConfigError(CxAssessError):
    """``review.yml`` is missing, unreadable or inconsistent.

    ``path`` is the file (when known) and ``problems`` every :class:`ConfigProblem` found
    (empty for an error that is not about one key, e.g. a missing file).

    Parameters
    ----------
    message : str
        What is wrong, and where.
    path : Path or str, optional
        The review.yml concerned.
    problems : sequence of ConfigProblem, optional
        Every problem found, one per key.
    fix : str, optional
        How to fix it (an error about one key carries its fix in its problem instead).

    Examples
    --------
    >>> error = ConfigError("review.yml not found in data/x", path="data/x/review.yml",
    ...                     fix="create it from cxassess/templates/review/support.yml")
    >>> error.problems, error.path.name
    ([], 'review.yml')
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
        """One error listing every problem, one line each.

        Parameters
        ----------
        path : Path or str
            The review.yml concerned.
        problems : sequence of ConfigProblem
            Every problem found.

        Returns
        -------
        ConfigError
            The error; its message counts the problems and lists them.

        Examples
        --------
        >>> problems = [ConfigProblem("min_n", -1, "-1 is below 1", "write 1 or more")]
        >>> print(ConfigError.from_problems("review.yml", problems))
        review.yml: 1 problem(s)
          - min_n: -1 is below 1. How to fix: write 1 or more
        """
        lines = [f"{shown(path)}: {len(problems)} problem(s)"]
        lines += [f"  - {p.line()}" for p in problems]
        return cls("\n".join(lines), path=path, problems=problems)


class ReportFolderError(CxAssessError):
    """The reports folder cannot be written (read-only, disk full, no permission).

    Parameters
    ----------
    folder : Path or str
        The folder that could not be written.
    error : OSError
        The error of the operating system; its ``errno`` chooses the reason and the fix.

    Examples
    --------
    >>> print(ReportFolderError("reports", PermissionError(13, "Permission denied")))
    cannot write the report to reports: permission denied
      How to fix: give yourself write permission on it, or pass --reports <folder>
    """

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
    """A data file is missing, unreadable or empty.

    Parameters
    ----------
    path : Path or str
        The file.
    problem : str
        What is wrong with it.
    fix : str
        How to fix it.

    Examples
    --------
    >>> print(DataFileError("tickets.csv", "the file is empty", "export the tickets again"))
    tickets.csv: the file is empty
      How to fix: export the tickets again
    """

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.problem = problem
        super().__init__(f"{Path(path)}: {problem}", fix=fix, path=path)


class MissingColumnError(DataFileError):
    """A required column of the data contract is absent from a file.

    Parameters
    ----------
    path : Path or str
        The file.
    table : str
        The table of the data contract the file holds.
    missing : sequence of str
        The required columns absent.
    found : sequence of str
        The columns the file has.

    Examples
    --------
    >>> error = MissingColumnError("tickets.csv", "tickets", ["created_at"], ["ticket_id"])
    >>> error.problem
    'the tickets table lacks the required column(s) created_at (columns found: ticket_id)'
    >>> isinstance(error, DataFileError)
    True
    """

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
    """Values of a column cannot be read as the type the data contract expects.

    Parameters
    ----------
    path : Path or str
        The file.
    column : str
        The column whose values cannot be read.
    rows : sequence of int
        The data rows concerned, counted from 1 below the header (the first ten are named).
    examples : sequence of str
        Values that cannot be read (the first three are quoted).
    expected : str
        The type expected, in words.
    fix : str
        How to fix it.

    Examples
    --------
    >>> error = ParseError("tickets.csv", "created_at", [2, 5], ["yesterday"], "a timestamp",
    ...                    "write ISO 8601 timestamps")
    >>> error.rows, error.problem.split(" (")[0]
    ([2, 5], "column 'created_at': 2 value(s) cannot be read as a timestamp at row(s) 2, 5")
    """

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
    """A notebook of the review run failed; the previous report was left in place.

    Parameters
    ----------
    notebook : str
        The notebook that failed.
    cell : int or None
        The failing cell, counting every cell from the top (``None``: unknown).
    error : str
        The error, one line.
    kept_at : Path or None
        Where the executed notebook with the traceback is kept (``None``: not kept).

    Examples
    --------
    >>> error = ReviewRunError("20_kpi_scorecard.ipynb", 4, "KeyError: 'team'", None)
    >>> str(error).splitlines()[0]
    "notebook 20_kpi_scorecard.ipynb failed in cell 4 (counting every cell from the top): KeyError: 'team'"
    """

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
    """The data-quality gate found a critical defect: no KPI is computed on the cycle.

    Parameters
    ----------
    dataset : str
        The dataset's name.
    cycle : str
        The cycle, e.g. ``2026Q3``.
    defects : sequence of str
        The critical defects, one line each (the first ten are listed).
    page : Path, optional
        The data-quality page written for the failed run; its folder is named.

    Examples
    --------
    >>> print(DataQualityError("sample", "2026Q3", ["tickets: the file is empty"]))
    data-quality gate failed for sample 2026Q3: 1 critical defect(s)
      - tickets: the file is empty
      No KPI was computed; the last good report was left untouched.
    """

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

    Parameters
    ----------
    path : Path or str
        The source export.
    problem : str
        What cannot be read or found.
    fix : str
        How to fix it (often a ``--map`` option).

    Examples
    --------
    >>> print(ImportSourceError("export.csv", "found no case id column", "pass --map case=<column>"))
    export.csv: found no case id column
      How to fix: pass --map case=<column>
    """


class DatasetFolderError(DataFileError):
    """``cxassess import`` would overwrite a dataset folder it did not create.

    Parameters
    ----------
    path : Path or str
        The dataset folder.
    problem : str
        Why it is not overwritten.
    fix : str
        How to proceed (another folder, or removing it by hand).

    Examples
    --------
    >>> error = DatasetFolderError("data/mydesk", "the folder holds files cxassess did not write",
    ...                            "choose another --dataset folder")
    >>> error.path.name, isinstance(error, DataFileError)
    ('mydesk', True)
    """


def _rebuilt(cls: type, args: tuple, state: dict) -> CxAssessError:
    """An error of ``cls`` with ``args`` and attributes ``state`` (see ``__reduce__``)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error

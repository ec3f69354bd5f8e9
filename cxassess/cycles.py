"""Review cycles: labels such as ``2026Q3`` (quarters) or ``2026-07`` (months).

A cycle is the half-open window ``[start, end)`` in the dataset's time zone. Data for a
cycle lives in ``data/<dataset>/<cycle>/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Hashable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from cxassess.config import ReviewConfig, load_config
from cxassess.errors import ConfigError, DataFileError, shown
from cxassess.eventlog import tickets_from_events
from cxassess.io import read_table
from cxassess.schema import REQUIRED, TABLES

__all__ = [
    "Cycle", "load_cycle", "with_derived_tickets", "store_table", "store_tables", "stored_cycle", "Tables", "cycle_window", "previous_cycle", "next_cycle", "list_cycles", "latest_cycle", "is_cycle_label", "check_cycle_label", "check_previous",
]

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_cycle_label(label: str) -> bool:
    """Tell whether ``label`` names a quarter (``2026Q3``) or a month (``2026-07``).

    Parameters
    ----------
    label : str
        A would-be cycle label.

    Returns
    -------
    bool
        Whether it is a cycle label.

    Examples
    --------
    >>> is_cycle_label("2026Q3"), is_cycle_label("2026-07"), is_cycle_label("2026Q5"), is_cycle_label("../x")
    (True, True, False, False)
    """
    return bool(_QUARTER.match(label) or _MONTH.match(label))


def check_cycle_label(label: str, option: str = "cycle") -> str:
    """``label`` when it names a cycle, else a ConfigError (no path such as ``../x`` passes).

    Parameters
    ----------
    label : str
        The label given.
    option : str, default "cycle"
        How the label was given (``--cycle``, ``previous_cycle``), named in the error.

    Returns
    -------
    str
        ``label``.

    Raises
    ------
    ConfigError
        When ``label`` is not a quarter or a month.

    Examples
    --------
    >>> check_cycle_label("2026Q3")
    '2026Q3'
    """
    if not is_cycle_label(str(label)):
        raise ConfigError(
            f"{option} {str(label)!r} is not a review cycle",
            fix="name cycles as quarters (2026Q3) or months (2026-07), as the dataset's cycle folders",
        )
    return label


def _period(label: str) -> pd.Period:
    if m := _QUARTER.match(label):
        return pd.Period(year=int(m[1]), quarter=int(m[2]), freq="Q")
    if m := _MONTH.match(label):
        return pd.Period(year=int(m[1]), month=int(m[2]), freq="M")
    raise ConfigError(
        f"{label!r} is not a review cycle. How to fix: name cycles as quarters "
        "(2026Q3) or months (2026-07), both for --cycle and for the data folders."
    )


def _label(period: pd.Period) -> str:
    return str(period) if period.freqstr.startswith("Q") else period.strftime("%Y-%m")


def cycle_window(label: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the cycle's ``[start, end)`` window as tz-aware timestamps.

    Parameters
    ----------
    label : str
        A quarter (``2026Q3``) or a month (``2026-07``).
    tz : str
        IANA zone of the dataset.

    Returns
    -------
    start : pandas.Timestamp
        The first instant of the cycle, local midnight.
    end : pandas.Timestamp
        The first instant after it, local midnight.

    Examples
    --------
    >>> start, end = cycle_window("2026Q3", "Europe/Berlin")
    >>> str(start), str(end)
    ('2026-07-01 00:00:00+02:00', '2026-10-01 00:00:00+02:00')
    """
    period = _period(label)
    start = period.start_time.tz_localize(tz)
    end = (period + 1).start_time.tz_localize(tz)
    return start, end


def previous_cycle(label: str) -> str:
    """Return the label of the cycle just before ``label``.

    Parameters
    ----------
    label : str
        A quarter or a month.

    Returns
    -------
    str
        The label of the quarter or month before.

    Examples
    --------
    >>> previous_cycle("2026Q1"), previous_cycle("2026-01")
    ('2025Q4', '2025-12')
    """
    return _label(_period(label) - 1)


def check_previous(cycle: str, previous: str, dataset_dir: Path | str | None = None) -> str:
    """``previous`` when it is a cycle of the same kind as ``cycle`` (both quarters or both
    months) and earlier than it, else a ConfigError saying which cycles are allowed.

    Parameters
    ----------
    cycle : str
        The cycle reviewed.
    previous : str
        The cycle to compare it with (``--previous``).
    dataset_dir : Path or str, optional
        The dataset folder; when given, the error lists its cycle folders that are allowed.

    Returns
    -------
    str
        ``previous``.

    Raises
    ------
    ConfigError
        When ``previous`` is not a cycle label, is of the other kind, or is not before ``cycle``.

    Examples
    --------
    >>> check_previous("2026Q3", "2025Q4")
    '2025Q4'
    >>> check_previous("2026Q3", "2026-05")
    Traceback (most recent call last):
    ...
    cxassess.errors.ConfigError: --previous '2026-05' cannot be compared with 2026Q3: it is a month, 2026Q3 a quarter
      How to fix: give a quarter before 2026Q3; e.g. --previous 2026Q2, or leave --previous out (the cycle before)
    """
    check_cycle_label(previous, "--previous")
    this, other = _period(cycle), _period(previous)
    kind = "a quarter" if this.freqstr.startswith("Q") else "a month"
    if this.freqstr != other.freqstr:
        other_kind = "a month" if kind == "a quarter" else "a quarter"
        problem = f"it is {other_kind}, {cycle} {kind}"
    elif other >= this:
        problem = f"it is {'the same cycle' if other == this else 'a later cycle'}; the previous cycle must come before {cycle}"
    else:
        return previous
    allowed = f"e.g. --previous {_label(this - 1)}, or leave --previous out (the cycle before)"
    if dataset_dir is not None and Path(dataset_dir).is_dir():
        folders = [label for label in _cycles_of_kind(dataset_dir, this.freqstr) if _period(label) < this]
        allowed = (f"the dataset's cycles allowed: {', '.join(folders)}" if folders
                   else f"the dataset has no cycle folder before {cycle}, so leave --previous out")
    raise ConfigError(f"--previous {previous!r} cannot be compared with {cycle}: {problem}",
                      fix=f"give {kind} before {cycle}; {allowed}")


def _cycles_of_kind(dataset_dir: Path | str, freq: str) -> list[str]:
    """The cycle folders of a dataset of one kind (``freq`` of their period), oldest first."""
    root = Path(dataset_dir)
    labels = [p.name for p in root.iterdir() if p.is_dir() and is_cycle_label(p.name)
              and _period(p.name).freqstr == freq]
    return sorted(labels, key=_period)


def next_cycle(label: str) -> str:
    """Return the label of the cycle just after ``label``.

    Parameters
    ----------
    label : str
        A quarter or a month.

    Returns
    -------
    str
        The label of the quarter or month after.

    Examples
    --------
    >>> next_cycle("2026Q4"), next_cycle("2026-12")
    ('2027Q1', '2027-01')
    """
    return _label(_period(label) + 1)


def list_cycles(dataset_dir: Path | str) -> list[str]:
    """List the cycle folders of a dataset, oldest first.

    Parameters
    ----------
    dataset_dir : Path or str
        The dataset folder.

    Returns
    -------
    list of str
        The labels of the folders named as cycles, in time order; other folders are ignored.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("2026Q1", "2025Q4", "notes"):
    ...     (root / name).mkdir()
    >>> list_cycles(root)
    ['2025Q4', '2026Q1']
    """
    root = Path(dataset_dir)
    labels = [p.name for p in root.iterdir() if p.is_dir() and is_cycle_label(p.name)]
    return sorted(labels, key=_period)


def latest_cycle(dataset_dir: Path | str) -> str:
    """Return the most recent cycle folder of a dataset.

    Parameters
    ----------
    dataset_dir : Path or str
        The dataset folder.

    Returns
    -------
    str
        The label of the latest cycle folder.

    Raises
    ------
    ConfigError
        When the folder holds no cycle folder.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("2025-12", "2026-01"):
    ...     (root / name).mkdir()
    >>> latest_cycle(root)
    '2026-01'
    """
    cycles = list_cycles(dataset_dir)
    if not cycles:
        raise ConfigError(
            f"{shown(dataset_dir)} holds no cycle folder. How to fix: put each cycle's files in a "
            "folder named after the cycle, e.g. data/mydesk/2026Q3/tickets.csv."
        )
    return cycles[-1]


#: Folder, beside the gate's ``quality.json``, of the checked tables stored as Parquet.
TABLES_FOLDER = "tables"


def _only(frame: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    """``frame`` with only ``columns`` (those it has, in that order); all of it without them,
    and an engine's lazy frame (anything but a pandas DataFrame) whole, as it is.
    """
    if columns is None or not isinstance(frame, pd.DataFrame):
        return frame
    return frame[[c for c in columns if c in frame.columns]]


class Tables(MutableMapping):
    """The tables of a cycle by name. A table the gate stored as Parquet is read on first
    use, so a page that never touches the audits never loads them.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame, optional
        Tables already in memory.
    stored : dict of str to Path or callable, optional
        Tables read on first use: a Parquet file, or a function that returns the frame.

    Examples
    --------
    >>> t = Tables({"tickets": pd.DataFrame({"ticket_id": ["T1"]})})
    >>> list(t), len(t["tickets"]), "events" in t
    (['tickets'], 1, False)
    """

    def __init__(self, frames: dict[str, pd.DataFrame] | None = None,
                 stored: dict[str, Path | Callable[[], pd.DataFrame]] | None = None) -> None:
        self._frames = dict(frames or {})
        self._stored = {k: v for k, v in (stored or {}).items() if k not in self._frames}
        self._files = {k: Path(v) for k, v in self._stored.items() if not callable(v)}
        self._source: Tables | None = None  # the mapping this one was replaced from
        self._origin: dict[str, Path | Callable[[], pd.DataFrame]] = {}  # what each table read was read from

    def parquet(self, name: str) -> Path | None:
        """The Parquet file the table ``name`` is (or was) read from, ``None`` for a table
        built in memory or put in place since: an engine reads the file itself.

        Parameters
        ----------
        name : str
            The table.

        Returns
        -------
        Path or None
            The file.

        Examples
        --------
        >>> t = Tables(stored={"tickets": Path("tables/tickets.parquet")})
        >>> t.parquet("tickets").as_posix(), t.parquet("events")
        ('tables/tickets.parquet', None)
        """
        return self._files.get(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table ``name``, read on first use: once for this mapping and the one it was
        :meth:`replaced` from, whichever asks first.
        """
        if name not in self._frames and name in self._stored:
            stored, source = self._stored[name], self._source
            if source is not None and (source._stored.get(name) is stored or source._origin.get(name) is stored):
                self._frames[name] = source[name]  # read once, kept by both (whichever asked first)
            else:
                self._frames[name] = self._read(name)
            self._origin[name] = stored
            del self._stored[name]
        return self._frames[name]

    def _read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The stored table ``name`` read from its source (a file or a callable); with
        ``columns``, only those of them it has (a Parquet file reads no other).
        """
        source = self._stored[name]
        if columns is None:
            return source() if callable(source) else pd.read_parquet(source)
        if callable(source):
            return _only(source(), columns)
        import pyarrow.parquet as pq

        held = set(pq.read_schema(source).names)
        return pd.read_parquet(source, columns=[c for c in columns if c in held])

    def rows(self, name: str) -> int:
        """How many rows the table ``name`` has, from its Parquet file's metadata when it
        has not been read (nothing is read into memory).

        Parameters
        ----------
        name : str
            The table.

        Returns
        -------
        int
            Its rows.

        Examples
        --------
        >>> import tempfile
        >>> path = store_table(pd.DataFrame({"ticket_id": ["T1", "T2"]}), tempfile.mkdtemp(), "tickets")
        >>> t = Tables(stored={"tickets": path})
        >>> t.rows("tickets"), "tickets" in t._frames
        (2, False)
        """
        if name not in self._frames and name in self._files:
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(self._files[name]).metadata.num_rows)
        return len(self[name])

    def unread(self, name: str) -> Path | None:
        """The Parquet file of the table ``name`` while it is stored and not read into memory
        yet (neither through this mapping nor the one it was :meth:`replaced` from), else
        ``None``: its columns, rows and empty cells can be learnt from the file without
        reading the table.

        Parameters
        ----------
        name : str
            The table.

        Returns
        -------
        Path or None
            The file.

        Examples
        --------
        >>> import tempfile
        >>> path = store_table(pd.DataFrame({"ticket_id": ["T1"]}), tempfile.mkdtemp(), "tickets")
        >>> t = Tables(stored={"tickets": path})
        >>> t.unread("tickets") == path, len(t["tickets"]), t.unread("tickets")
        (True, 1, None)
        """
        if name in self._frames or name not in self._files:
            return None
        source = self._source
        if source is not None and self._stored.get(name) is source._origin.get(name):
            return None  # read by the mapping it was replaced from: in memory already
        return self._files[name]

    def read_once(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        """The table ``name`` for one use: read from its source without being kept when it
        has not been read yet (its memory goes back when the caller lets it go), else the
        table held; ``None`` when absent.

        Parameters
        ----------
        name : str
            The table.
        columns : sequence of str, optional
            Only these columns (those the table has, in this order): a table not read yet
            is read without the others.

        Returns
        -------
        pandas.DataFrame or None
            The table.

        Examples
        --------
        >>> t = Tables(stored={"tickets": lambda: pd.DataFrame({"ticket_id": ["T1"], "team": ["a"]})})
        >>> len(t.read_once("tickets")), "tickets" in t._frames, len(t["tickets"]), "tickets" in t._frames
        (1, False, 1, True)
        >>> list(t.read_once("tickets", columns=["team", "stage"]))
        ['team']
        """
        if name in self._frames:
            return _only(self._frames[name], columns)
        if name not in self._stored:
            return None
        source = self._source
        if source is not None and self._stored[name] is source._origin.get(name):
            return _only(source._frames[name], columns)  # read by the mapping it was replaced from
        return self._read(name, columns)

    def release(self, name: str) -> None:
        """Forget a table read into memory (the gate holds one table at a time).

        Parameters
        ----------
        name : str
            The table.

        Examples
        --------
        >>> t = Tables({"tickets": pd.DataFrame({"ticket_id": ["T1"]})})
        >>> t.release("tickets"); "tickets" in t
        False
        """
        self._frames.pop(name, None)
        self._stored.pop(name, None)
        self._files.pop(name, None)
        self._origin.pop(name, None)

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        """Put ``frame`` in place of the table ``name``."""
        self._stored.pop(name, None)
        self._files.pop(name, None)
        self._origin.pop(name, None)
        self._frames[name] = frame

    def __delitem__(self, name: str) -> None:
        """Drop the table ``name``."""
        self._files.pop(name, None)
        self._origin.pop(name, None)
        if name in self._stored:
            del self._stored[name]
        else:
            del self._frames[name]

    def __iter__(self) -> Iterator[str]:
        """The table names, in the contract's order first."""
        return iter([t for t in TABLES if t in self._frames or t in self._stored]
                    + [t for t in self._frames if t not in TABLES])

    def __len__(self) -> int:
        """How many tables."""
        return len(self._frames) + len(self._stored)

    def __contains__(self, name: object) -> bool:
        """Whether the cycle holds the table ``name``."""
        return name in self._frames or name in self._stored

    def replaced(self, frames: dict[str, pd.DataFrame]) -> Tables:
        """A new mapping with ``frames`` in place of those tables; tables not yet read stay
        unread (in both).

        Parameters
        ----------
        frames : dict of str to pandas.DataFrame
            The tables to put in place.

        Returns
        -------
        Tables
            The new mapping; this one is unchanged, except that a table neither has read yet
            is read once for both, by whichever asks first.

        Examples
        --------
        >>> t = Tables({"tickets": pd.DataFrame({"ticket_id": ["T1", "T2"]})}, stored={"surveys": lambda: pd.DataFrame()})
        >>> view = t.replaced({"tickets": pd.DataFrame({"ticket_id": ["T1"]})})
        >>> len(view["tickets"]), len(t["tickets"]), view["surveys"] is t["surveys"]
        (1, 2, True)
        """
        out = Tables(self._frames, self._stored)
        out._files = dict(self._files)
        out._source = self
        for name, frame in frames.items():
            out[name] = frame
        return out


@dataclass
class Cycle:
    """The tables of one review cycle, loaded and typed.

    Tables the cycle folder does not hold are ``None``; the notebooks say so plainly.

    Parameters
    ----------
    config : ReviewConfig
        The dataset's settings.
    label : str
        The cycle, e.g. ``2026Q3``.
    previous : str
        The cycle to compare with.
    start, end : pandas.Timestamp
        The cycle's ``[start, end)`` window.
    tables : mapping of str to pandas.DataFrame, optional
        The tables held, by name (also reachable as attributes: ``cycle.tickets``).
    files : dict of str to Path, optional
        The file each table was read from.
    derived : tuple of str, default ()
        Tables derived rather than read (``tickets`` from the event log).
    errors : {"raise", "coerce"}, default "raise"
        How unreadable values were treated (see :func:`~cxassess.io.read_table`).
    unreadable : dict of str to DataFileError, optional
        Tables whose file could not be read at all (``errors="coerce"``).
    store : Path, optional
        The folder of a review run's checked tables this cycle was read from
        (:func:`stored_cycle`): tables kept by :meth:`once` with ``keep=True`` are written
        there, so that the run's other pages read them instead of computing them again.

    Examples
    --------
    >>> import pandas as pd
    >>> start, end = cycle_window("2026Q3", "UTC")
    >>> config = ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC"})
    >>> cycle = Cycle(config, "2026Q3", "2026Q2", start, end, {"tickets": pd.DataFrame({"ticket_id": ["A"]})})
    >>> cycle, len(cycle.tickets), cycle.surveys
    (Cycle(desk 2026Q3: tickets), 1, None)
    """

    config: ReviewConfig
    label: str
    previous: str
    start: pd.Timestamp
    end: pd.Timestamp
    tables: MutableMapping[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    derived: tuple[str, ...] = ()
    errors: Literal["raise", "coerce"] = "raise"
    unreadable: dict[str, DataFileError] = field(default_factory=dict)
    store: Path | None = field(default=None, repr=False, compare=False)
    computed: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # fresh on replace()

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        """A table of the contract as an attribute (``cycle.tickets``); ``None`` when absent."""
        if name in TABLES:
            return self.tables.get(name)
        raise AttributeError(name)

    def load_previous(self, label: str | None = None) -> Cycle | None:
        """Load the cycle to compare with (default :attr:`previous`, the cycle before),
        or ``None`` when the dataset has no folder for it.

        Parameters
        ----------
        label : str, optional
            The cycle to load; default :attr:`previous`.

        Returns
        -------
        Cycle or None
            The cycle, with the same tables asked for and the same ``errors``; ``None`` when its
            folder does not exist.

        Examples
        --------
        >>> cycle = load_cycle("data/sample", "2026Q3", tables=("tickets",))
        >>> cycle.load_previous().label, cycle.load_previous("2019Q1")
        ('2026Q2', None)
        """
        label = label or self.previous
        if not (self.config.root / label).is_dir():
            return None
        return load_cycle(self.config.root, label, tables=tuple(self.tables), errors=self.errors)

    def once(self, key: Hashable, compute: Callable[[], Any], *, keep: bool = False) -> Any:
        """``compute()`` the first time ``key`` is asked for on this cycle, the same result
        after: a page that needs a figure twice (the scorecard and the trends) computes it
        once. The tables of a cycle are not changed after loading, so nothing goes stale.

        With ``keep=True`` and a cycle read from a review run's checked tables
        (:attr:`store`), a table result is also written beside them (Parquet, written whole
        or not at all), and the run's other pages, in other processes, read it instead of
        computing it again: computed once per review run. A copy of the cycle with other
        tables (:meth:`with_tables`) has no store, so it never reads another's result.

        Parameters
        ----------
        key : hashable
            What is computed, e.g. ``("cycle_kpis", ("team",), None)``; with ``keep``, its
            ``repr`` names the file, so it must be made of plain values.
        compute : callable
            Computes it, without arguments.
        keep : bool, default False
            Keep a table result for the other pages of the run.

        Returns
        -------
        object
            What ``compute`` returned, the first time.

        Examples
        --------
        >>> c = load_cycle("data/sample", "2026Q3")
        >>> calls = []
        >>> [c.once("n", lambda: calls.append(1) or len(c.tickets)) for _ in range(2)], len(calls)
        ([2500, 2500], 1)
        """
        if key in self.computed:
            return self.computed[key]
        path = None
        if keep and self.store is not None:
            digest = hashlib.sha1(repr(key).encode("utf-8")).hexdigest()[:20]
            path = Path(self.store) / "computed" / f"{digest}.parquet"
            if path.is_file():
                self.computed[key] = _read_kept(path)
                return self.computed[key]
        result = compute()
        if path is not None and isinstance(result, pd.DataFrame):
            _keep_table(result, path)
        self.computed[key] = result
        return result

    def with_tables(self, **frames: pd.DataFrame) -> Cycle:
        """A copy of the cycle with ``frames`` in place of those tables (the others shared,
        and not read when they were not yet); nothing computed on this cycle carries over.

        Parameters
        ----------
        **frames : pandas.DataFrame
            The tables to put in place, by name.

        Returns
        -------
        Cycle
            The copy; this cycle is unchanged.

        Examples
        --------
        >>> c = load_cycle("data/sample", "2026Q3")
        >>> few = c.with_tables(tickets=c.tickets.head(3))
        >>> len(few.tickets), few.surveys is c.surveys
        (3, True)
        """
        tables = (self.tables.replaced(frames) if isinstance(self.tables, Tables)
                  else {**self.tables, **frames})
        return replace(self, tables=tables, store=None)

    def release(self, *tables: str) -> None:
        """Let go of tables a page needs no more, to give their memory back (a page that
        needs only the previous cycle's stage figures drops its event log once they are
        computed). A released table is absent from then on (``None``).

        Parameters
        ----------
        *tables : str
            Table names; a name the cycle does not hold is ignored.

        Examples
        --------
        >>> c = load_cycle("data/sample", "2026Q3", tables=("tickets", "events"))
        >>> c.release("events"); c.events is None, len(c.tickets) > 0
        (True, True)
        """
        for name in tables:
            if isinstance(self.tables, Tables):
                self.tables.release(name)
            else:
                self.tables.pop(name, None)

    def read_once(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        """A table for one use (:meth:`Tables.read_once`): a cycle read from files reads
        it again without keeping it, so a page that needs the previous cycle's event log
        for one figure does not hold it beside this cycle's; a table already in memory is
        returned as it is.

        Parameters
        ----------
        name : str
            The table.
        columns : sequence of str, optional
            Only these columns (those the table has): a table read for this use reads no
            other (an engine's lazy frame is returned whole).

        Returns
        -------
        pandas.DataFrame or None
            The table; ``None`` when the cycle does not hold it.

        Examples
        --------
        >>> c = load_cycle("data/sample", "2026Q3", tables=("tickets",))
        >>> len(c.read_once("tickets")) == len(c.tickets), c.read_once("events")
        (True, None)
        """
        if isinstance(self.tables, Tables):
            return self.tables.read_once(name, columns)
        frame = self.tables.get(name)
        return _only(frame, columns) if isinstance(frame, pd.DataFrame) else frame

    def rows(self, name: str) -> int:
        """How many rows the table ``name`` has; a table stored by the gate and not read yet
        is not read for it (:meth:`Tables.rows`).

        Parameters
        ----------
        name : str
            The table (one the cycle holds).

        Returns
        -------
        int
            Its rows.

        Examples
        --------
        >>> c = load_cycle("data/sample", "2026Q3", tables=("tickets",))
        >>> c.rows("tickets") == len(c.tickets)
        True
        """
        if isinstance(self.tables, Tables):
            return self.tables.rows(name)
        return len(self.tables[name])

    def missing(self, *tables: str) -> list[str]:
        """The tables among ``tables`` that this cycle does not hold.

        Parameters
        ----------
        *tables : str
            Table names.

        Returns
        -------
        list of str
            The names not held, in the order given.

        Examples
        --------
        >>> start, end = cycle_window("2026Q3", "UTC")
        >>> config = ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC"})
        >>> Cycle(config, "2026Q3", "2026Q2", start, end, {"tickets": None}).missing("tickets", "surveys")
        ['surveys']
        """
        return [t for t in tables if t not in self.tables]

    def __repr__(self) -> str:
        """The dataset, the cycle and the tables held."""
        held = ", ".join(self.tables)
        return f"Cycle({self.config.name} {self.label}: {held or 'no tables'})"


def _table_file(folder: Path, table: str, config: ReviewConfig) -> Path | None:
    named = config.file_for(table)
    if named:
        return folder / named
    for suffix in (".parquet", ".csv", ".csv.gz", ".txt"):
        candidate = folder / f"{table}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_cycle(
    dataset: Path | str,
    cycle: str | None = None,
    *,
    tables: tuple[str, ...] = TABLES,
    errors: Literal["raise", "coerce"] = "raise",
    lazy: bool = False,
) -> Cycle:
    """Load every table of one cycle of a dataset.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder holding ``review.yml`` (e.g. ``data/sample``).
    cycle : str, optional
        The cycle label (``2026Q3``); default the latest cycle folder.
    tables : tuple of str, default every table of the contract
        Which tables to load.
    errors : {"raise", "coerce"}, default "raise"
        See :func:`read_table`. With ``"coerce"`` a file that cannot be read at all
        is recorded in :attr:`Cycle.unreadable` instead of raising.
    lazy : bool, default False
        Read each file on first use of its table (an unreadable file raises then), and
        derive no ticket table: for the gate, which holds one table at a time.

    Returns
    -------
    Cycle
        The tables found in the cycle folder (a table without a file is absent), with the
        tickets derived from the event log when there is no tickets file.

    Raises
    ------
    DataFileError
        When the cycle folder does not exist, or a file cannot be read (``errors="raise"``).
    ConfigError
        When review.yml is missing or wrong, or the dataset holds no cycle folder.

    Examples
    --------
    >>> c = load_cycle("data/sample", "2026Q3")
    >>> c.label, c.previous, len(c.tickets) > 0
    ('2026Q3', '2026Q2', True)
    """
    config = load_config(dataset)
    label = cycle or latest_cycle(config.root)
    folder = config.root / label
    if not folder.is_dir():
        raise DataFileError(
            folder, "cycle folder not found", f"put the {label} export files in {folder}/"
        )
    start, end = cycle_window(label, config.timezone)
    result = Cycle(
        config=config, label=label, previous=previous_cycle(label), start=start, end=end, errors=errors
    )
    if lazy:
        result.files = {t: p for t in tables if (p := _table_file(folder, t, config)) is not None}
        result.tables = Tables(stored={t: partial(read_table, p, t, config, errors=errors)
                                       for t, p in result.files.items()})
        return result
    for table in tables:
        path = _table_file(folder, table, config)
        if path is None:
            continue
        result.files[table] = path
        try:
            result.tables[table] = read_table(path, table, config, errors=errors)
        except DataFileError as exc:
            if errors == "raise":
                raise
            result.unreadable[table] = exc
    return with_derived_tickets(result)


def with_derived_tickets(cycle: Cycle) -> Cycle:
    """Add the tickets table derived from the event log when the cycle has no tickets
    file (and the event log has what the derivation needs).

    Parameters
    ----------
    cycle : Cycle
        The cycle; changed in place.

    Returns
    -------
    Cycle
        ``cycle``, with ``tickets`` and ``derived = ("tickets",)`` when they were derived.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = {"timezone": "UTC", "process": {"stages": [{"name": "desk", "lane": "Tier 1"}],
    ...        "activities": {"open": "desk", "solve": "desk"}, "resolution_activities": ["solve"]}}
    >>> config = ReviewConfig(Path("desk/review.yml"), raw)
    >>> events = pd.DataFrame({"ticket_id": ["A", "A"], "activity": ["open", "solve"],
    ...     "timestamp": pd.to_datetime(["2026-07-01 09:00", "2026-07-01 11:00"], utc=True)})
    >>> start, end = cycle_window("2026Q3", "UTC")
    >>> cycle = with_derived_tickets(Cycle(config, "2026Q3", "2026Q2", start, end, {"events": events}))
    >>> cycle.derived, cycle.tickets["status"].tolist(), str(cycle.tickets["resolved_at"][0])
    (('tickets',), ['resolved'], '2026-07-01 11:00:00+00:00')
    """
    events = cycle.tables.get("events")
    if "tickets" not in cycle.files and events is not None:
        derived = derivable(events, cycle.config)
        if derived is not None:
            cycle.tables["tickets"] = derived
            cycle.derived = ("tickets",)
    return cycle


def derivable(events: pd.DataFrame, config: ReviewConfig) -> pd.DataFrame | None:
    """The ticket table derived from ``events``, or ``None`` when review.yml has no process
    or the log lacks a column the derivation needs.
    """
    if not config.process or not all(c in events.columns for c in REQUIRED["events"]):
        return None
    return tickets_from_events(events, config.process)


def store_tables(cycle: Cycle, folder: Path | str) -> dict:
    """Write every table of ``cycle`` as Parquet into ``folder`` (typed: the pages read
    them back without parsing the exports again) and return what :func:`stored_cycle`
    needs to rebuild the cycle: the source file of each table and the derived ones.

    Parameters
    ----------
    cycle : Cycle
        The (checked) cycle.
    folder : Path or str
        Where the Parquet files go (created when missing).

    Returns
    -------
    dict
        ``tables``, ``derived`` and ``files`` (table to source file name).

    Examples
    --------
    >>> import tempfile
    >>> c = Cycle(None, "2026Q3", "2026Q2", None, None, tables={"tickets": pd.DataFrame({"ticket_id": ["T1"]})},
    ...           files={"tickets": Path("tickets.csv")})
    >>> store_tables(c, tempfile.mkdtemp())
    {'tables': ['tickets'], 'derived': [], 'files': {'tickets': 'tickets.csv'}}
    """
    for table in cycle.tables:
        store_table(cycle.tables[table], folder, table)
    return {"tables": list(cycle.tables), "derived": list(cycle.derived),
            "files": {t: p.name for t, p in cycle.files.items() if t in cycle.tables}}


def store_table(frame: pd.DataFrame, folder: Path | str, table: str) -> Path:
    """Write one table as ``<folder>/<table>.parquet`` (types kept), whole or not at all (a
    temporary file renamed: a page reading it never sees half a file), and return the path.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    folder : Path or str
        Where it goes (created when missing).
    table : str
        Its name in the data contract.

    Returns
    -------
    Path
        The Parquet file.

    Examples
    --------
    >>> import tempfile
    >>> path = store_table(pd.DataFrame({"ticket_id": ["T1"]}), tempfile.mkdtemp(), "tickets")
    >>> path.name, pd.read_parquet(path)["ticket_id"].tolist()
    ('tickets.parquet', ['T1'])
    """
    path = Path(folder) / f"{table}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{table}-", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _keep_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` by :func:`store_table`. Keeping is only a saving: a folder
    that cannot be written, or a table Parquet cannot hold (a column of mixed kinds), is not kept.
    """
    import pyarrow as pa

    try:
        store_table(frame, path.parent, path.stem)
    except (OSError, ValueError, TypeError, pa.ArrowException):
        return


def _read_kept(path: Path) -> pd.DataFrame:
    """A table :func:`_keep_table` wrote, with its columns of Python objects as they were
    (Parquet reads text back as pandas' string type with NaN for None, tuples as arrays).
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    meta = table.schema.pandas_metadata or {}
    for column in meta.get("columns", []):
        name = column.get("name")
        if name not in frame.columns or column.get("numpy_type") != "object":
            continue
        if str(column.get("pandas_type", "")).startswith("list"):  # tuples come back as arrays
            frame[name] = [tuple(v) if v is not None else None for v in frame[name]]
        else:
            values = frame[name].astype(object)
            frame[name] = values.where(frame[name].notna(), None)
    return frame


def stored_cycle(config: ReviewConfig, label: str, folder: Path | str, stored: dict) -> Cycle:
    """The cycle :func:`store_tables` wrote into ``folder``; each table is read on first use.

    Parameters
    ----------
    config : ReviewConfig
        The dataset's review.yml.
    label : str
        The cycle.
    folder : Path or str
        The folder of the Parquet files.
    stored : dict
        What :func:`store_tables` returned.

    Returns
    -------
    Cycle
        Its tables read from ``folder`` on first use.

    Examples
    --------
    >>> import tempfile
    >>> c = load_cycle("data/sample", "2026Q3")
    >>> folder = tempfile.mkdtemp()
    >>> back = stored_cycle(c.config, "2026Q3", folder, store_tables(c, folder))
    >>> back.label, back.previous, list(back.tables) == list(c.tables), len(back.tickets) == len(c.tickets)
    ('2026Q3', '2026Q2', True, True)
    """
    folder = Path(folder)
    start, end = cycle_window(label, config.timezone)
    tables = Tables(stored={t: folder / f"{t}.parquet" for t in stored["tables"]
                            if (folder / f"{t}.parquet").is_file()})
    return Cycle(config=config, label=label, previous=previous_cycle(label), start=start, end=end,
                 tables=tables, files={t: config.root / label / name for t, name in stored["files"].items()},
                 derived=tuple(stored["derived"]), store=folder)

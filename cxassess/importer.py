"""Importing a raw export into a dataset folder: ``cxassess import``.

A raw export (an XES or XES.gz event log, a flat CSV/Parquet event log, or a ticket or
complaint register) becomes a dataset folder the review reads as it is::

    data/<name>/review.yml                  the proposal to check (activities, stages, zone)
    data/<name>/<cycle>/events.csv          canonical columns (data/README.md)
    data/<name>/<cycle>/tickets.csv         when the source is a ticket register

The column mapping is proposed from the column names and from their content; the time
zone is read from the timestamps' UTC offsets when they have some; the data is split
into cycles by the documented rule: the tickets created in the cycle (first event, or
created date) and their events up to the cycle's end. Everything guessed is printed and
marked "check" in review.yml. The source file is only ever read; re-running the import
writes byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import pandas as pd
import yaml

from cxassess.cycles import cycle_window, is_cycle_label
from cxassess.errors import ConfigError, DataFileError, DatasetFolderError, ImportSourceError, shown
from cxassess.io import file_sha256, parse_timestamps, read_csv_text
from cxassess.schema import SCHEMA

__all__ = [
    "Proposal",
    "ImportResult",
    "read_source",
    "propose_mapping",
    "guess_timezone",
    "to_canonical",
    "split_cycles",
    "partial_latest_cycle",
    "import_source",
    "normalise_status",
    "STATUSES",
]

#: Allowed values of ``tickets.status`` (expectations/tickets.json).
STATUSES = ("new", "open", "pending", "on_hold", "resolved", "closed")

#: Ticket-level columns an event log may carry (derived tickets take their first value).
EVENT_EXTRAS = ("channel", "priority", "category", "customer_id")

_STATUS_WORDS = (
    ("on_hold", r"on[ _-]?hold|hold|suspended"),
    ("pending", r"pending|waiting|awaiting"),
    ("resolved", r"resolved|solved|fixed|done|completed"),
    ("closed", r"closed?"),
    ("open", r"open|in[ _-]?progress|assigned|active|reopened|work in progress"),
    ("new", r"new|unassigned"),
)

# canonical column -> (name patterns, best first, matched in full on the normalised name; content)
_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "ticket_id": ((
        r"case concept name", r"(case|ticket|incident|complaint|request|call|order) ?(id|no|nr|number|key|ref)",
        r"(case|ticket|incident|complaint|request|issue)", r"id", r"number", r"key",
    ), "id"),
    "activity": ((
        r"concept name", r"activity( name)?", r"event( name| type)?", r"action", r"task", r"step", r"operation",
    ), "category"),
    "timestamp": ((
        r"time timestamp", r"(complete|end|event) ?time ?stamp", r"time ?stamp", r"(complete|end|event) (time|date)",
        r"date ?time", r"time", r"date", r"start ?(time|date|timestamp)",
    ), "datetime"),
    "created_at": ((
        r"created( at| on| date| time)?", r"creat\w* (date|time)", r"(date )?opened( at| on)?", r"open(ing)? date",
        r"(date )?received( at| on| date)?", r"(date )?submitted( at| on| date)?", r"reported( at| on)?",
        r"date", r"(date|time) ?stamp", r"date ?time",
    ), "datetime"),
    "first_response_at": ((
        r"first (response|reply)( at| date| time)?", r"(responded|replied)( at| on)?",
    ), "datetime"),
    "resolved_at": ((
        r"(resolved|solved|resolution|solution)( at| on| date| time)?", r"date (resolved|solved)",
    ), "datetime"),
    "closed_at": ((
        r"closed( at| on| date| time)?", r"(close|closing|closure) (date|time)", r"date closed",
    ), "datetime"),
    "agent_id": ((
        r"org resource", r"resource", r"agent( id| name)?", r"assignee", r"assigned to", r"owner", r"operator",
        r"performer", r"handled by", r"user( id)?",
    ), "any"),
    "team": ((
        r"org group", r"team( name)?", r"(assignment |support |resolver )?group", r"workgroup", r"queue",
        r"department",
    ), "category"),
    "channel": ((
        r"(case )?channel", r"(received|submitted) via", r"via", r"medium", r"origin", r"source",
        r"contact (type|channel|method)",
    ), "category"),
    "priority": ((r"(case )?priority", r"severity", r"urgency", r"seriousness( \d+)?", r"impact"), "category"),
    "category": ((
        r"(case )?category", r"product", r"(ticket |request |issue )?type", r"topic", r"reason", r"classification",
    ), "category"),
    "customer_id": ((
        r"(case )?customer( id| number| no)?", r"client( id)?", r"account( id| number)?", r"requester( id)?",
    ), "any"),
    "status": ((r"(ticket |case )?status", r"company response( to consumer)?", r"(ticket )?state"), "status"),
    "handle_minutes": ((r"handl\w* (time|minutes)", r"aht"), "number"),
    "reopens": ((r"reopen(s|ed)?( count)?",), "number"),
    "transfers": ((r"transfers?( count)?",), "number"),
    "agent_replies": ((r"(agent )?replies( count)?",), "number"),
}

_PREFERRED_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Rome", "Europe/Madrid",
    "Europe/Amsterdam", "Europe/Lisbon", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow",
    "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai",
    "Asia/Tokyo", "Australia/Perth", "Australia/Adelaide", "Australia/Darwin", "Australia/Sydney",
    "Australia/Brisbane", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York",
    "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu",
)

_DATE = re.compile(r"^\s*(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})(?:[ T]+(.*))?$")
_MONTH_NAME = re.compile(r"^\s*\d{1,2}[- ][A-Za-z]{3}[- ]\d{2,4}")
_TIME_ONLY = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})\s*$")


# ---------------------------------------------------------------------------------------
# reading a source
# ---------------------------------------------------------------------------------------


def _is_xes(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".xes") or name.endswith(".xes.gz")


def read_source(path: Path | str) -> tuple[pd.DataFrame, dict]:
    r"""Read a raw export as it is: XES / XES.gz, CSV or Parquet.

    Parameters
    ----------
    path : Path or str
        The export: ``.xes``, ``.xes.gz``, ``.csv`` (``.txt``, ``.gz``) or ``.parquet``.

    Returns
    -------
    (pandas.DataFrame, dict)
        The rows with the source's own column names (CSV values as text; XES
        ``time:timestamp`` tz-aware in UTC), and facts about the file: ``format``, and
        for XES ``offsets``, the UTC offsets (minutes) of the first timestamps with their
        instants, to guess the zone.

    Raises
    ------
    ImportSourceError
        When the file is missing, of an unknown type, or cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("Case ID;Activity;When\nC1;Open;2024-01-01 09:00\n")
    >>> df, info = read_source(p)
    >>> list(df.columns), info["format"]
    (['Case ID', 'Activity', 'When'], 'csv')
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir() if p.is_file() and (
            _is_xes(p) or p.suffix.lower() in (".csv", ".txt", ".tsv", ".parquet")))
        fix = (f"pass one exported file as SOURCE, e.g. {shown(path / found[0])}; the folder holds "
               f"{len(found)} export-like file(s) ({', '.join(found[:5])}{', ...' if len(found) > 5 else ''}): "
               "import them one at a time, each into its own --dataset folder." if found
               else "pass one exported file as SOURCE; the folder holds no .csv, .txt, .tsv, .parquet, "
               ".xes or .xes.gz file.")
        raise ImportSourceError(path, "is a folder; cxassess import reads one exported file", fix)
    if not path.is_file():
        raise ImportSourceError(path, "file not found", "give the path of the exported file (.csv, .parquet, .xes, .xes.gz).")
    if _is_xes(path):
        return _read_xes(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
            raise ImportSourceError(path, f"cannot be read as Parquet ({exc})", "export the file again.") from None
        return df, {"format": "parquet"}
    if suffix in (".csv", ".txt", ".tsv"):
        try:
            df = read_csv_text(path)
        except DataFileError as exc:  # its fix points at review.yml, which the import has not written yet
            fix = exc.fix or ""
            if "review.yml" in fix:
                fix = ("save the export as UTF-8 CSV (in Excel: Save As > CSV UTF-8) and import it again."
                       if "decod" in exc.problem or "encoding" in exc.problem else
                       "check the export's quoting (every row needs as many fields as the header), or save it "
                       "again as CSV separated by commas, then import it again.")
            raise ImportSourceError(path, exc.problem, fix) from None
        return df, {"format": "csv", "encoding": df.attrs.get("encoding"), "delimiter": df.attrs.get("delimiter")}
    raise ImportSourceError(
        path, f"unknown file type {suffix!r}",
        "export the data as CSV, Parquet or XES (.xes, .xes.gz).",
    )


def _xes_offsets(path: Path, limit: int = 2000) -> list[tuple[pd.Timestamp, int]]:
    """(instant, UTC offset in minutes) of the first ``<date key="time:timestamp">`` values."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    pattern = re.compile(r'<date\s+key="time:timestamp"\s+value="([^"]+)"')
    found: list[tuple[pd.Timestamp, int]] = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            for value in pattern.findall(line):
                offset = _offset_minutes(value)
                if offset is not None:
                    found.append((pd.Timestamp(value).tz_convert("UTC"), offset))
            if len(found) >= limit:
                break
    return found


def _offset_minutes(value: str) -> int | None:
    m = _OFFSET.search(value)
    if not m:
        return None
    text = m.group(1)
    if text == "Z":
        return 0
    text = text.replace(":", "")
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 60 + int(text[3:5]))


def _read_xes(path: Path) -> tuple[pd.DataFrame, dict]:
    try:
        import rustxes
    except ImportError:  # pragma: no cover - rustxes comes with cxassess[xes]
        df = _read_xes_iterparse(path)
        reader = "xml.etree iterparse"
    else:
        try:
            events, _ = rustxes.import_xes(str(path))
        except Exception as exc:  # noqa: BLE001 - the Rust reader raises its own types
            raise ImportSourceError(
                path, f"cannot be read as XES ({exc})", "check that the file is a complete XES log."
            ) from None
        df = events.to_pandas()
        reader = "rustxes"
        if "time:timestamp" in df.columns and not isinstance(df["time:timestamp"].dtype, pd.DatetimeTZDtype):
            # rustxes returns the instants converted to UTC, without their offsets
            df["time:timestamp"] = df["time:timestamp"].dt.tz_localize("UTC")
    for column in df.columns:
        if df[column].dtype == object:
            df[column] = df[column].astype("str")
    return df, {"format": "xes", "reader": reader, "offsets": _xes_offsets(path)}


def _read_xes_iterparse(path: Path) -> pd.DataFrame:
    """A streaming XES reader (standard library only), used when rustxes is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "l.xes"
    >>> _ = p.write_text('<log><trace><string key="concept:name" value="C1"/><event>'
    ...     '<string key="concept:name" value="Open"/>'
    ...     '<date key="time:timestamp" value="2024-07-01T09:00:00+10:00"/></event></trace></log>')
    >>> df = _read_xes_iterparse(p)
    >>> df.loc[0, "case:concept:name"], str(df.loc[0, "time:timestamp"])
    ('C1', '2024-06-30 23:00:00+00:00')
    """
    import xml.etree.ElementTree as ET

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows: list[dict] = []
    trace: dict = {}
    stack: list[str] = []
    try:
        with opener(path, "rb") as handle:
            for event, elem in ET.iterparse(handle, events=("start", "end")):
                tag = elem.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if tag == "trace":
                        trace = {}
                    stack.append(tag)
                    continue
                stack.pop()
                parent = stack[-1] if stack else None
                if tag == "event":
                    row = dict(trace)
                    row.update({c.get("key"): c.get("value") for c in elem if c.get("key") is not None})
                    rows.append(row)
                    elem.clear()
                elif parent == "trace" and elem.get("key") is not None:
                    trace[f"case:{elem.get('key')}"] = elem.get("value")
                elif tag == "trace":
                    elem.clear()
    except ET.ParseError as exc:
        raise ImportSourceError(path, f"cannot be read as XES ({exc})", "check that the file is a complete XES log.") from None
    df = pd.DataFrame(rows)
    if "time:timestamp" in df.columns:
        df["time:timestamp"] = pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601")
    return df


# ---------------------------------------------------------------------------------------
# what is in each column
# ---------------------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def _datetime_format(values: pd.Series) -> str | None:
    """The timestamp format of a text column (``"ISO8601"``, a strftime format, or
    ``"native"`` for a datetime column), or ``None`` when it does not hold timestamps.

    Ambiguous day/month/year orders are settled by the narrowest time span.

    Examples
    --------
    >>> _datetime_format(pd.Series(["22-04-15", "04-08-15", "18-04-15"]))
    '%d-%m-%y'
    >>> _datetime_format(pd.Series(["8/30/2013", "9/3/2013"]))
    '%m/%d/%Y'
    >>> _datetime_format(pd.Series(["C1", "C2"])) is None
    True
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "native"
    sample = values.dropna().astype("str").str.strip()
    sample = sample[sample != ""].drop_duplicates().head(500)
    if sample.empty or sample.str.fullmatch(r"[+-]?\d+(\.\d+)?").all():
        return None
    if not (sample.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).mean() >= 0.98
            or sample.str.match(_MONTH_NAME).mean() >= 0.98):
        return None
    iso = pd.to_datetime(sample, format="ISO8601", errors="coerce", utc=True)
    if iso.notna().all():
        return "ISO8601"
    candidates = []
    first = sample.iloc[0]
    m = _DATE.match(first)
    if m:
        sep, rest = m.group(2), m.group(5) or ""
        dates = [f"%d{sep}%m{sep}%Y", f"%m{sep}%d{sep}%Y", f"%Y{sep}%m{sep}%d",
                 f"%d{sep}%m{sep}%y", f"%m{sep}%d{sep}%y", f"%y{sep}%m{sep}%d"]
    else:
        dates = ["%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%d %b %y"]
        rest = first.split(" ", 3)[-1] if first.count(" ") >= 3 else ""
    times = [""]
    if rest:
        joiner = "T" if "T" in first else " "
        times = [f"{joiner}%H:%M:%S.%f", f"{joiner}%H:%M:%S", f"{joiner}%H:%M",
                 f"{joiner}%I:%M:%S %p", f"{joiner}%I:%M %p"]
    for date in dates:
        for time in times:
            fmt = date + time
            parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
            if parsed.notna().mean() >= 0.98:
                candidates.append((parsed.max() - parsed.min(), len(candidates), fmt))
    if not candidates:
        return None
    return min(candidates)[2]


def _is_time_only(values: pd.Series) -> bool:
    sample = values.dropna().astype("str").head(500)
    return not sample.empty and sample.str.match(_TIME_ONLY).mean() >= 0.98


def normalise_status(value: object) -> str | None:
    """The canonical status (new, open, pending, on_hold, resolved, closed) a status text
    starts with, or ``None`` when it names none.

    Parameters
    ----------
    value : object
        A status as the export writes it.

    Returns
    -------
    str or None
        The canonical status.

    Examples
    --------
    >>> [normalise_status(v) for v in ["Solved", "Closed with explanation", "In progress", "Late"]]
    ['resolved', 'closed', 'open', None]
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    for canon, pattern in _STATUS_WORDS:
        if re.match(rf"^(?:{pattern})\b", text):
            return canon
    return None


@dataclass
class _Column:
    name: str
    norm: str
    rows: int
    distinct: int
    fmt: str | None
    time_only: bool
    numeric: bool
    status_share: float


def _profile(df: pd.DataFrame) -> list[_Column]:
    out = []
    for name in df.columns:
        values = df[name]
        nonnull = values.dropna()
        text = nonnull.astype("str")
        distinct = int(text.nunique())
        few = text.drop_duplicates()
        statuses = few.map(normalise_status) if distinct <= 50 else pd.Series(dtype=object)
        status_share = float(text.isin(few[statuses.notna()]).mean()) if len(text) and len(statuses) else 0.0
        numeric = bool(len(text)) and pd.to_numeric(text.head(1000), errors="coerce").notna().mean() >= 0.95
        out.append(_Column(
            name=str(name), norm=_normalise(name), rows=len(nonnull), distinct=distinct,
            fmt=_datetime_format(values), time_only=_is_time_only(values),
            numeric=bool(numeric), status_share=status_share,
        ))
    return out


def _fits(col: _Column, content: str, kind: str) -> bool:
    if col.rows == 0:
        return False
    if content == "datetime":
        return col.fmt is not None
    if col.fmt is not None:
        return False
    if content == "id":
        return col.distinct >= 0.95 * col.rows if kind == "tickets" else col.distinct < col.rows
    if content == "category":
        return 1 < col.distinct and (col.distinct <= 0.5 * col.rows or col.rows < 20)
    if content == "status":
        return col.status_share >= 0.5 and col.distinct <= 50
    if content == "number":
        return col.numeric
    return True


# ---------------------------------------------------------------------------------------
# the proposal
# ---------------------------------------------------------------------------------------


@dataclass
class Proposal:
    """What ``cxassess import`` makes of a source: its kind and column mapping.

    Parameters
    ----------
    kind : {"events", "tickets"}
        ``"events"`` (an event log) or ``"tickets"`` (a ticket or complaint register).
    mapping : dict of str to str
        Canonical column → source column.
    reasons : dict of str to str, optional
        Canonical column → how it was found (``name``, ``content``, ``--map``).
    formats : dict of str to str, optional
        Source column → timestamp format found (``ISO8601``, a strftime format, ``native``).
    time_columns : dict of str to str, optional
        Canonical timestamp column → a separate time-of-day source column joined to it.
    dropped : list of str, optional
        Source columns that map to nothing in the data contract.

    Examples
    --------
    >>> p = Proposal("tickets", {"ticket_id": "Ticket #"}, reasons={"ticket_id": "--map"})
    >>> p.kind, p.mapping["ticket_id"], p.dropped
    ('tickets', 'Ticket #', [])
    """

    kind: str
    mapping: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    time_columns: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def _targets(kind: str) -> list[str]:
    if kind == "events":
        return [c for c in SCHEMA["events"] if c != "stage"] + list(EVENT_EXTRAS)
    return list(SCHEMA["tickets"])


def _by_name(col: _Column, canonical: str) -> int | None:
    """Rank of the first name pattern of ``canonical`` that ``col`` matches (0 = best)."""
    for rank, pattern in enumerate(_RULES[canonical][0]):
        if re.fullmatch(pattern, col.norm):
            return rank
    return None


def _choose(columns: list[_Column], canonical: str, kind: str, taken: set[str]) -> tuple[str, str] | None:
    content = _RULES[canonical][1]
    hits = [
        (rank, i, col) for i, col in enumerate(columns)
        if col.name not in taken and (rank := _by_name(col, canonical)) is not None and _fits(col, content, kind)
    ]
    if hits:
        return min(hits, key=lambda h: (h[0], h[1]))[2].name, "name"
    free = [c for c in columns if c.name not in taken]
    if canonical in ("timestamp", "created_at"):
        found = [c for c in free if c.fmt is not None]
        return (found[0].name, "content") if found else None
    if canonical == "ticket_id" and kind == "tickets":
        found = [c for c in free if c.fmt is None and c.rows and c.distinct == c.rows and not c.numeric]
        found = found or [c for c in free if c.fmt is None and c.rows and c.distinct == c.rows]
        return (found[0].name, "content") if found else None
    if canonical == "status":
        found = [c for c in free if _fits(c, "status", kind) and c.status_share >= 0.8]
        return (found[0].name, "content") if found else None
    return None


def _parse_overrides(overrides: Sequence[str] | dict[str, str] | None) -> dict[str, str]:
    if not overrides:
        return {}
    if isinstance(overrides, dict):
        return dict(overrides)
    out = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(
                f"--map {item!r} is not canonical=source. How to fix: write e.g. "
                '--map timestamp="Complete Timestamp" (or --map team= to map nothing to team).'
            )
        canonical, source = item.split("=", 1)
        out[canonical.strip()] = source.strip()
    return out


def propose_mapping(
    df: pd.DataFrame,
    *,
    kind: str | None = None,
    overrides: Sequence[str] | dict[str, str] | None = None,
    source: Path | str = "source",
    xes: bool = False,
) -> Proposal:
    """Propose the canonical column of each source column, from names and content.

    An activity column with repeated case ids makes an event log; otherwise the source
    is a ticket register. ``overrides`` (``canonical=source`` or a dict) win over the
    guesses; an empty source (``team=``) maps nothing to that column.

    Parameters
    ----------
    df : pandas.DataFrame
        The source rows (:func:`read_source`).
    kind : {"events", "tickets"}, optional
        The kind of source; default decided from the content.
    overrides : sequence of str or dict of str to str, optional
        ``canonical=source`` mappings that win over the guesses.
    source : Path or str, default "source"
        The source's name, for the errors.
    xes : bool, default False
        The source is an XES log (its standard attribute names are used).

    Returns
    -------
    Proposal
        The kind and the mapping, with how each column was found.

    Raises
    ------
    ImportSourceError
        When ``overrides`` name a column the source lacks, or the source lacks a case id, a
        timestamp or (for a log) an activity.
    ConfigError
        When ``kind`` is not known, or ``overrides`` name a column the data contract lacks.

    Examples
    --------
    >>> df = pd.DataFrame({"Case ID": ["C1", "C1", "C2"], "Activity": ["Open", "Close", "Open"],
    ...                    "Complete Timestamp": ["2024/01/02 09:00:00.000"] * 3})
    >>> p = propose_mapping(df)
    >>> p.kind, p.mapping
    ('events', {'ticket_id': 'Case ID', 'timestamp': 'Complete Timestamp', 'activity': 'Activity'})
    """
    columns = _profile(df)
    forced = _parse_overrides(overrides)
    unknown = [s for s in forced.values() if s and s not in df.columns]
    if unknown:
        raise ImportSourceError(
            source, f"--map names column(s) {unknown} that the file does not have",
            f"use one of the file's columns: {', '.join(map(str, df.columns))}.",
        )
    if kind is None:
        if xes:
            kind = "events"
        else:
            guess_id = _choose(columns, "ticket_id", "events", set())
            guess_activity = _choose(columns, "activity", "events", set())
            id_col = forced.get("ticket_id") or (guess_id[0] if guess_id else None)
            activity = forced.get("activity") or (guess_activity[0] if guess_activity else None)
            repeated = id_col is not None and df[id_col].nunique() < df[id_col].notna().sum()
            kind = "events" if activity and repeated else "tickets"
    if kind not in ("events", "tickets"):
        raise ConfigError(f"--kind {kind!r} is not events or tickets.")
    targets = _targets(kind)
    bad = [c for c in forced if c not in targets]
    if bad:
        raise ConfigError(
            f"--map names {bad}, not column(s) of the {kind} table. How to fix: use one of "
            f"{', '.join(targets)} (see `cxassess schema --table {kind}`)."
        )
    mapping: dict[str, str] = {}
    reasons: dict[str, str] = {}
    taken = {s for s in forced.values() if s}
    for canonical in targets:
        if canonical in forced:
            if forced[canonical]:
                mapping[canonical], reasons[canonical] = forced[canonical], "--map"
            continue
        found = _choose(columns, canonical, kind, taken)
        if found:
            mapping[canonical], reasons[canonical] = found
            taken.add(found[0])
    profile = {c.name: c for c in columns}
    formats = {src: profile[src].fmt or "ISO8601" for canon, src in mapping.items()
               if SCHEMA[kind].get(canon, SCHEMA["tickets"].get(canon)) == "datetime"}
    time_columns = {}
    for canon, src in mapping.items():
        fmt = formats.get(src)
        if fmt and fmt not in ("ISO8601", "native") and "%H" not in fmt and "%I" not in fmt:
            times = [c for c in columns if c.name not in taken and c.time_only and "time" in c.norm]
            if times:
                time_columns[canon] = times[0].name
                taken.add(times[0].name)
                reasons[canon] += f" + {times[0].name}"
    dropped = [str(c) for c in df.columns if c not in taken]
    order = {c: i for i, c in enumerate(targets)}
    mapping = dict(sorted(mapping.items(), key=lambda kv: order[kv[0]]))
    return Proposal(kind, mapping, reasons, formats, time_columns, dropped)


def _required(proposal: Proposal, source: Path | str, df: pd.DataFrame) -> None:
    needed = ("ticket_id", "timestamp", "activity") if proposal.kind == "events" else ("ticket_id", "created_at")
    missing = [c for c in needed if c not in proposal.mapping]
    if missing:
        what = {
            "ticket_id": "case / ticket id column",
            "timestamp": "timestamp-like column (values such as 2024-07-01 09:30)",
            "created_at": "timestamp-like column for the creation date (values such as 2024-07-01 09:30)",
            "activity": "activity column",
        }
        raise ImportSourceError(
            source,
            f"found no {', no '.join(what[c] for c in missing)} for "
            f"{'an event log' if proposal.kind == 'events' else 'a ticket table'} "
            f"(columns: {', '.join(map(str, df.columns))})",
            "name the column with --map, e.g. "
            + " ".join(f'--map {c}="<your column>"' for c in missing)
            + ("; or import it as a ticket register with --kind tickets" if proposal.kind == "events" else ""),
        )


# ---------------------------------------------------------------------------------------
# time zone
# ---------------------------------------------------------------------------------------


def guess_timezone(pairs: Sequence[tuple[pd.Timestamp, int]]) -> tuple[str | None, list[str]]:
    """The IANA zone whose UTC offsets match the ones observed, and the other matches.

    ``pairs`` are (instant, offset in minutes). Well-known zones are preferred; a fixed
    offset that no zone matches gives ``Etc/GMT±h`` when it is a whole hour.

    Parameters
    ----------
    pairs : sequence of (pandas.Timestamp, int)
        Instants and their UTC offsets in minutes.

    Returns
    -------
    zone : str or None
        The zone chosen; ``None`` without pairs.
    others : list of str
        Other zones that match as well.

    Examples
    --------
    >>> jan, jul = pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-07-15", tz="UTC")
    >>> guess_timezone([(jan, 660), (jul, 600)])[0]
    'Australia/Sydney'
    >>> guess_timezone([(jan, 600), (jul, 600)])[0]
    'Australia/Brisbane'
    >>> guess_timezone([])[0] is None
    True
    """
    if not pairs:
        return None, []
    instants = pd.DatetimeIndex([p[0] for p in pairs]).tz_convert("UTC")
    offsets = np.array([p[1] for p in pairs])
    frame = pd.DataFrame({"t": instants, "o": offsets}).drop_duplicates()
    instants = pd.DatetimeIndex(frame["t"])
    offsets = frame["o"].to_numpy()
    naive = instants.tz_localize(None)
    others = sorted(z for z in available_timezones()
                    if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/")) and z not in _PREFERRED_ZONES)
    matches = []
    for zone in (*_PREFERRED_ZONES, *others):
        local = instants.tz_convert(zone).tz_localize(None)
        if np.array_equal(((local - naive) / pd.Timedelta(minutes=1)).to_numpy().astype(int), offsets):
            matches.append(zone)
            if len(matches) > 4:
                break
    if matches:
        return matches[0], matches[1:]
    if len(set(offsets)) == 1 and offsets[0] % 60 == 0:
        hours = -int(offsets[0]) // 60
        return f"Etc/GMT{hours:+d}" if hours else "UTC", []
    return None, []


def _offset_pairs(values: pd.Series, limit: int = 2000) -> list[tuple[pd.Timestamp, int]]:
    text = values.dropna().astype("str").head(limit)
    pairs = []
    for value in text:
        minutes = _offset_minutes(value)
        if minutes is None:
            continue
        try:
            instant = pd.Timestamp(value.strip())
        except ValueError:
            continue
        if instant.tzinfo is not None:
            pairs.append((instant.tz_convert("UTC"), minutes))
    return pairs


# ---------------------------------------------------------------------------------------
# canonical table and cycles
# ---------------------------------------------------------------------------------------


def to_canonical(raw: pd.DataFrame, proposal: Proposal, tz: str) -> tuple[pd.DataFrame, list[str]]:
    """The source rows with canonical columns only: timestamps tz-aware in ``tz``,
    statuses normalised, text stripped. Rows without a case id or timestamp are dropped.

    Parameters
    ----------
    raw : pandas.DataFrame
        The source rows (:func:`read_source`).
    proposal : Proposal
        The kind and column mapping.
    tz : str
        IANA zone of naive timestamps.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The table and notes on what was dropped or not recognised.

    Examples
    --------
    >>> raw = pd.DataFrame({"Ticket #": ["1", "2"], "Date": ["22-04-15", "04-08-15"],
    ...                     "Time": ["3:53:50 PM", "10:22:56 AM"], "Status": ["Solved", "Open"]})
    >>> p = propose_mapping(raw)
    >>> t, _ = to_canonical(raw, p, "UTC")
    >>> t.to_dict("list")["created_at"][0], list(t["status"])
    (Timestamp('2015-04-22 15:53:50+0000', tz='UTC'), ['resolved', 'open'])
    """
    kind = proposal.kind
    types = {**SCHEMA["tickets"], **SCHEMA[kind]}
    out = pd.DataFrame(index=raw.index)
    notes: list[str] = []
    for canon, src in proposal.mapping.items():
        values = raw[src]
        if types[canon] == "datetime":
            fmt = proposal.formats.get(src, "ISO8601")
            if canon in proposal.time_columns:
                values = values.astype("str").str.strip() + " " + raw[proposal.time_columns[canon]].astype("str").str.strip()
                time_fmt = "%I:%M:%S %p" if values.str.contains("M", case=False).any() else "%H:%M:%S"
                parsed = pd.to_datetime(values, format=f"{fmt} {time_fmt}", errors="coerce")
                if parsed.isna().mean() > 0.02:
                    parsed = pd.to_datetime(values, format="mixed", errors="coerce")
                out[canon] = parse_timestamps(parsed, tz)
            elif fmt == "native":
                out[canon] = parse_timestamps(values, tz)
            else:
                out[canon] = parse_timestamps(values, tz, fmt=None if fmt == "ISO8601" else fmt)
            bad = int((values.notna() & out[canon].isna()).sum())
            if bad:
                notes.append(f"{src}: {bad:,} value(s) are not timestamps and were left empty")
        elif canon == "status":
            canonical = values.map(normalise_status)
            unknown = sorted(values[values.notna() & canonical.isna()].astype("str").unique())
            if unknown:
                notes.append(f"{src}: value(s) {unknown[:5]} name no status of the contract "
                             f"({', '.join(STATUSES)}); kept as they are, the gate will flag them")
            out[canon] = canonical.fillna(values.astype("str").str.strip()).where(values.notna())
        elif types[canon] in ("int", "float"):
            out[canon] = pd.to_numeric(values, errors="coerce")
        else:
            text = values.astype("str").str.strip()
            out[canon] = text.where(values.notna() & (text != ""))
    key = "timestamp" if kind == "events" else "created_at"
    keep = out["ticket_id"].notna() & out[key].notna()
    if (~keep).any():
        notes.append(f"{int((~keep).sum()):,} row(s) without a case id or {key} were left out")
    return out[keep].reset_index(drop=True), notes


def split_cycles(table: pd.DataFrame, kind: str, period: str, tz: str) -> dict[str, pd.DataFrame]:
    """Split a canonical table into cycles by the documented rule.

    A ticket belongs to the cycle (quarter, or month with ``period="month"``) in which it
    was created: its first event in an event log, ``created_at`` in a ticket register.
    A cycle holds its tickets as known at the cycle's end: their events up to the end
    (later events left out); in a register the timestamps after the end are emptied and
    a ticket resolved or closed only later is ``open``.

    Parameters
    ----------
    table : pandas.DataFrame
        The canonical table (:func:`to_canonical`).
    kind : {"events", "tickets"}
        What ``table`` holds.
    period : {"quarter", "month"}
        The length of a cycle.
    tz : str
        IANA zone of the dataset (the cycles' boundaries are local midnights).

    Returns
    -------
    dict of str to pandas.DataFrame
        Cycle label -> its rows, in time order.

    Raises
    ------
    ConfigError
        When ``period`` is not known.

    Examples
    --------
    >>> ev = pd.DataFrame({"ticket_id": ["A", "A", "B"], "activity": ["open", "close", "open"],
    ...     "timestamp": pd.to_datetime(["2024-03-30", "2024-04-02", "2024-04-03"]).tz_localize("UTC")})
    >>> {k: len(v) for k, v in split_cycles(ev, "events", "quarter", "UTC").items()}
    {'2024Q1': 1, '2024Q2': 1}
    """
    if period not in ("quarter", "month"):
        raise ConfigError(f"--period {period!r} is not quarter or month.")
    freq = "Q" if period == "quarter" else "M"
    if kind == "events":
        created = table.groupby("ticket_id")["timestamp"].transform("min")
    else:
        created = table["created_at"]
    local = created.dt.tz_convert(tz).dt.tz_localize(None)
    periods = local.dt.to_period(freq)
    labels = periods.astype("str") if freq == "Q" else periods.dt.strftime("%Y-%m")
    ends = {label: cycle_window(label, tz)[1] for label in labels.unique()}
    end = labels.map(ends)
    out: dict[str, pd.DataFrame] = {}
    if kind == "events":
        keep = table["timestamp"] < pd.to_datetime(end)
        frame = table.assign(_created=created, _label=labels)[keep]
        frame = frame.sort_values(["_created", "ticket_id", "timestamp"], kind="stable")
    else:
        frame = table.copy()
        cutoff = pd.to_datetime(end)
        for column in ("first_response_at", "resolved_at", "closed_at"):
            if column in frame.columns:
                later = frame[column] >= cutoff
                if column in ("resolved_at", "closed_at") and "status" in frame.columns:
                    frame.loc[later & frame["status"].isin(["resolved", "closed"]), "status"] = "open"
                frame[column] = frame[column].mask(later)
        frame = frame.assign(_created=created, _label=labels).sort_values(["_created", "ticket_id"], kind="stable")
    for label, part in frame.groupby("_label", sort=False):
        out[str(label)] = part.drop(columns=["_created", "_label"]).reset_index(drop=True)
    return dict(sorted(out.items(), key=lambda kv: kv[0]))


#: The latest cycle looks partial below this share of the median tickets of the cycles just
#: before it (at most PARTIAL_COMPARED of them: a trend over years does not count) ...
PARTIAL_TICKET_SHARE, PARTIAL_COMPARED = 0.5, 4
#: ... or when its data ends this long before the cycle's end: the longer of a week and this
#: share of the cycle.
PARTIAL_GAP_DAYS, PARTIAL_GAP_SHARE = 7, 0.1


def partial_latest_cycle(cycles: dict[str, pd.DataFrame], kind: str, tz: str) -> str | None:
    """Why the latest cycle of an import looks partial (an export taken before its end), or None.

    It looks partial when it holds fewer than half the median tickets of the (up to 4)
    cycles before it, or when its data (the latest ``created_at`` of a register, the latest event of a log)
    ends a week or more, and a tenth of the cycle or more, before the cycle's end.

    Parameters
    ----------
    cycles : dict of str to pandas.DataFrame
        Cycle label -> its rows, in time order (:func:`split_cycles`).
    kind : {"events", "tickets"}
        What the rows are.
    tz : str
        IANA zone of the dataset.

    Returns
    -------
    str or None
        The cycle and why, in plain words, e.g. ``"2013Q4 (1 ticket(s) against a median of
        999 in the 1 cycle(s) before; its data ends on 2013-10-15, 77 day(s) before the cycle's
        last day, 2013-12-31)"``; None when the cycle looks complete.

    Examples
    --------
    >>> t = pd.DataFrame({"ticket_id": ["A", "B", "C"],
    ...     "created_at": pd.to_datetime(["2024-01-05", "2024-03-29", "2024-04-02"]).tz_localize("UTC")})
    >>> partial_latest_cycle({"2024Q1": t[:2], "2024Q2": t[2:]}, "tickets", "UTC")
    "2024Q2 (its data ends on 2024-04-02, 89 day(s) before the cycle's last day, 2024-06-30)"
    """
    if not cycles:
        return None
    labels = list(cycles)
    label = labels[-1]
    latest = cycles[label]
    reasons = []
    tickets = latest["ticket_id"].nunique()
    others = [cycles[other]["ticket_id"].nunique() for other in labels[:-1][-PARTIAL_COMPARED:]]
    if others and tickets < PARTIAL_TICKET_SHARE * float(np.median(others)):
        reasons.append(f"{tickets:,} ticket(s) against a median of {np.median(others):,.0f} in the {len(others)} cycle(s) before")
    last = latest["timestamp" if kind == "events" else "created_at"].max()
    start, end = cycle_window(label, tz)
    gap = end - last.tz_convert(tz) if pd.notna(last) else end - start
    if gap >= max(pd.Timedelta(days=PARTIAL_GAP_DAYS), PARTIAL_GAP_SHARE * (end - start)):
        last_day = (end - pd.Timedelta(days=1)).date()
        if pd.notna(last):
            when = last.tz_convert(tz).date()
            reasons.append(f"its data ends on {when.isoformat()}, {(last_day - when).days} day(s) before "
                           f"the cycle's last day, {last_day.isoformat()}")
        else:
            reasons.append("none of its rows has a date")
    return f"{label} ({'; '.join(reasons)})" if reasons else None


def _iso(values: pd.Series) -> pd.Series:
    """ISO 8601 text with the UTC offset (``2024-07-01T09:30:00+02:00``)."""
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if (values.dropna().dt.microsecond != 0).any() else "%Y-%m-%dT%H:%M:%S"
    offset = values.dt.strftime("%z")
    return (values.dt.strftime(fmt) + offset.str[:3] + ":" + offset.str[3:]).where(values.notna())


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = _iso(out[column])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


# ---------------------------------------------------------------------------------------
# review.yml
# ---------------------------------------------------------------------------------------

_GUESS_PATTERNS = {
    "first_response": r"(first )?(reply|respon|answer|take in charge|taken in charge|acknowledg|pick(ed)? up|assign(ed)? to agent|contact(ed)? customer)",
    "resolution": r"(resolv|solution|solve|fix(ed)?\b|complete)",
    "closing": r"(clos)",
}


def _activity_guesses(activities: list[str], counts: pd.Series) -> dict[str, list[str]]:
    """First-response, resolution and closing activities guessed from their names."""
    guesses: dict[str, list[str]] = {}
    for role, pattern in _GUESS_PATTERNS.items():
        hits = [a for a in activities if re.search(pattern, a, flags=re.IGNORECASE)]
        if role == "resolution":
            hits = [a for a in hits if not re.search(r"clos", a, flags=re.IGNORECASE)]
        if role == "first_response" and hits:
            hits = [max(hits, key=lambda a: counts.get(a, 0))]
        guesses[role] = hits
    return guesses


_INTAKE = (r"\b(insert|creat|open|regist|receiv|submit|log)\w*\b.*\b(ticket|case|request|incident|complaint)\b"
           r"|^(ticket|case|request|incident|complaint) (received|created|opened|submitted|logged)")


def _stage_of(activity: str, guesses: dict[str, list[str]], first_share: float) -> str:
    if activity in guesses["resolution"] or activity in guesses["closing"]:
        return "resolution"
    if first_share >= 0.5 or re.search(_INTAKE, activity, re.I):
        return "intake"
    return "work"


def _q(value: object) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON quoting is valid YAML)."""
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ./()-]*", text) and text.strip() == text and text.lower() not in (
        "yes", "no", "true", "false", "on", "off", "null", "y", "n"
    ) and not re.search(r"\s#|:\s", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(values: Sequence[object]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


@dataclass
class ImportResult:
    r"""What ``cxassess import`` did: the dataset written and everything to check.

    Parameters
    ----------
    dataset : Path
        The dataset folder written.
    source : Path
        The export imported.
    rows : int
        Rows read from the export.
    proposal : Proposal
        The kind and column mapping used.
    timezone, timezone_note : str
        The dataset's zone and how it was found.
    cycles : pandas.DataFrame
        Per cycle: tickets and events (``events`` is 0 for a register).
    checks : list of str
        What the user should check in review.yml, in plain words.
    notes : list of str
        Other facts: rows left out, values not recognised.
    review_written : Path
        Where the review.yml proposal was written.
    partial : str, optional
        Why the latest cycle looks partial (:func:`partial_latest_cycle`), or None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "log.csv").write_text("case,activity,time\nA,Open,2024-03-30 10:00\n"
    ...                                  "A,Resolve,2024-04-02 09:00\nB,Open,2024-04-03 11:00\n")
    >>> result = import_source(tmp / "log.csv", tmp / "desk", timezone="UTC")  # case A repeats: a log
    >>> result.rows, result.proposal.kind, result.timezone_note, result.review_written.name
    (3, 'events', 'given with --timezone', 'review.yml')
    """

    dataset: Path
    source: Path
    rows: int
    proposal: Proposal
    timezone: str
    timezone_note: str
    cycles: pd.DataFrame
    checks: list[str]
    notes: list[str]
    review_written: Path
    partial: str | None = None

    def summary(self) -> str:
        r"""The text ``cxassess import`` prints.

        Returns
        -------
        str
            Several lines: the mapping, the zone, the cycles, what was written, what to check.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> tmp = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (tmp / "log.csv").write_text("case,activity,time\nA,Open,2024-03-30 10:00\n"
        ...                                  "A,Resolve,2024-04-02 09:00\nB,Open,2024-04-03 11:00\n")
        >>> print(import_source(tmp / "log.csv", tmp / "desk", timezone="UTC").summary().splitlines()[2])
            ticket_id          <- case  (name)
        """
        p = self.proposal
        what = "event log" if p.kind == "events" else "ticket register"
        lines = [f"cxassess import: {self.source.name} -> {self.dataset} ({what}, {self.rows:,} rows)",
                 "  columns (guessed from names and content; change with --map canonical=source):"]
        for canon, src in p.mapping.items():
            extra = f" + {p.time_columns[canon]}" if canon in p.time_columns else ""
            fmt = p.formats.get(src)
            fmt_text = f", format {fmt}" if fmt and fmt not in ("ISO8601", "native") else ""
            lines.append(f"    {canon:<18} <- {src}{extra}  ({p.reasons[canon].split(' + ')[0]}{fmt_text})")
        if p.dropped:
            lines.append(f"  not imported (no column of the data contract): {', '.join(p.dropped)}")
        lines.append(f"  time zone: {self.timezone} ({self.timezone_note})")
        period = "months" if self.cycles["cycle"].str.contains("-").any() else "quarters"
        lines.append(f"  cycles ({period}; tickets created in the cycle, their events up to its end):")
        for c in self.cycles.itertuples():
            ev = f" {c.events:>8,} events" if p.kind == "events" else ""
            lines.append(f"    {c.cycle:<8} {c.tickets:>7,} tickets{ev}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines.append(f"  written: {self.review_written} and {len(self.cycles)} cycle folder(s)")
        if self.checks:
            lines.append(f"  check in {self.review_written.name} before the review:")
            lines += [f"    - {c}" for c in self.checks]
        if self.partial and len(self.cycles) > 1:
            earlier = self.cycles["cycle"].iloc[-2]
            lines.append(f"  warning: the latest cycle looks partial: {self.partial}. Its figures would "
                         f"compare a part of a cycle with whole ones: review {earlier} instead, or import "
                         "again once the cycle is over")
            lines.append(f"  next: make report DATASET={self.dataset} CYCLE={earlier}   (the cycle before)")
        elif self.partial:
            lines.append(f"  warning: the only cycle looks partial: {self.partial}. Its figures cover part "
                         "of the cycle: import again once the cycle is over")
            lines.append(f"  next: make report DATASET={self.dataset}")
        else:
            lines.append(f"  next: make report DATASET={self.dataset}   (the latest cycle; CYCLE=... for another)")
        return "\n".join(lines)


def _review_yml(
    *, name: str, source: Path, sha: str, date: str, proposal: Proposal, tz: str, tz_note: str,
    table: pd.DataFrame, period: str,
) -> tuple[str, list[str]]:
    checks: list[str] = []
    lines = [
        f"# review.yml proposed by `cxassess import` from {source.name}: check every line marked",
        "# \"check\", then run the review (make report DATASET=...). Keys: data/README.md and",
        "# `cxassess check-config --help`. Re-importing keeps this file once you have edited it",
        "# (the new proposal then goes to review.proposed.yml).",
        "",
        f"name: {_q(name)}",
        f"title: {_q(f'{name} (imported from {source.name})')}",
        f"timezone: {tz}            # {tz_note}",
    ]
    if tz_note.startswith(("assumed", "guessed")):
        checks.append(f"timezone: {tz} ({tz_note})")
    lines += [
        "",
        "# calendar: no working hours given, so the KPIs count calendar hours. To count business",
        "# hours, add e.g.",
        "# calendar:",
        '#   working_hours: {mon: ["08:00", "18:00"], tue: ["08:00", "18:00"]}   # quote the times',
        "#   holidays: [2026-12-25]",
    ]
    if proposal.kind == "events":
        counts = table["activity"].value_counts()
        activities = sorted(counts.index.astype(str))
        first = table.sort_values("timestamp", kind="stable").groupby("ticket_id")["activity"].first()
        first_share = first.value_counts(normalize=True)
        guesses = _activity_guesses(activities, counts)
        stages = {a: _stage_of(a, guesses, float(first_share.get(a, 0.0))) for a in activities}
        used = [s for s in ("intake", "work", "resolution") if s in stages.values()]
        labels = {"intake": "Intake", "work": "Work on the ticket", "resolution": "Resolution"}
        lines += [
            "",
            "process:",
            "  stages:                        # check: placeholder stages guessed from activity names",
        ]
        lines += [f"    - {{name: {s}, label: {labels[s]}, lane: Desk}}" for s in used]
        lines.append("  activities:                    # activity: stage -- check each")
        for a in activities:
            lines.append(f"    {_q(a)}: {stages[a]}    # check ({counts[a]:,} event{'s' if counts[a] != 1 else ''})")
        checks.append(f"the stage of each of the {len(activities)} activities (placeholders: {', '.join(used)})")
        for role in ("first_response", "resolution", "closing"):
            found = guesses[role]
            key = f"{role}_activities"
            if found:
                lines.append(f"  {key}: {_flow(found)}    # guess from the names, check")
                checks.append(f"{key}: {_flow(found)} (guessed from the names)")
            else:
                lines.append(f"  {key}: []    # none recognised: name the activities, check")
                checks.append(f"{key}: none recognised; list the activities that are a {role.replace('_', ' ')}")
    values = []
    for canon, key in (("channel", "channels"), ("priority", "priorities"), ("category", "categories"), ("team", "teams")):
        if canon in table.columns:
            seen = sorted(table[canon].dropna().astype(str).unique())
            if 0 < len(seen) <= 12:
                values.append(f"  {key}: {_flow(seen)}")
    if values:
        lines += ["", "values:                          # allowed values, checked by the data-quality gate"] + values
    lines += ["", "min_n: 30                          # below this n a figure is greyed \"n too small\""]
    guessed = [c for c, r in proposal.reasons.items() if r != "--map"]
    imported = {
        "tool": "cxassess import",
        "source": source.name,
        "sha256": sha,
        "date": date,
        "kind": proposal.kind,
        "period": period,
        "mapping": dict(proposal.mapping),
        **({"time_of_day": dict(proposal.time_columns)} if proposal.time_columns else {}),
        "guessed": guessed + (["timezone"] if tz_note.startswith(("assumed", "guessed")) else []),
    }
    lines += ["", "# provenance of the import (source file, its SHA-256, the mapping used)"]
    lines += yaml.safe_dump({"imported": imported}, sort_keys=False, allow_unicode=True, width=200).splitlines()
    return "\n".join(lines) + "\n", checks


# ---------------------------------------------------------------------------------------
# the whole import
# ---------------------------------------------------------------------------------------


def _existing_import(dataset: Path) -> dict | None:
    """The ``imported:`` block of a dataset's review.yml, or None when there is none."""
    review = dataset / "review.yml"
    if not review.is_file():
        return None
    try:
        raw = yaml.safe_load(review.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):  # not a review.yml the import wrote
        return None
    block = raw.get("imported") if isinstance(raw, dict) else None
    return block if isinstance(block, dict) and block.get("tool") == "cxassess import" else None


def _check_folder(dataset: Path, force: bool) -> dict | None:
    if not dataset.resolve().name:
        raise DatasetFolderError(
            dataset, "--dataset is the root of the disk, which names no dataset",
            "give the folder to write the dataset to, e.g. --dataset data/mydesk (its name names the dataset).")
    previous = _existing_import(dataset)
    if dataset.exists() and not dataset.is_dir():
        raise DatasetFolderError(dataset, "is a file, not a folder: --dataset is the folder the import writes",
                                 "give a folder path that is not a file, e.g. --dataset data/mydesk.")
    above = next((parent for parent in dataset.absolute().parents if parent.exists()), None)
    if above is not None and not above.is_dir():
        raise DatasetFolderError(dataset, f"cannot be created: {shown(above)} is a file, not a folder",
                                 "give a folder path whose parents are folders, e.g. --dataset data/mydesk.")
    if dataset.is_dir() and any(dataset.iterdir()) and previous is None and not force:
        raise DatasetFolderError(
            dataset,
            "the folder exists and was not written by cxassess import (its review.yml has no "
            "'imported:' section); importing would overwrite files you may have made by hand",
            "choose a new --dataset folder, or add --force to overwrite its review.yml and cycle files.",
        )
    return previous


def import_source(
    source: Path | str,
    dataset: Path | str,
    *,
    period: str = "quarter",
    timezone: str | None = None,
    overrides: Sequence[str] | dict[str, str] | None = None,
    kind: str | None = None,
    force: bool = False,
    today: Callable[[], dt.date] = dt.date.today,
) -> ImportResult:
    r"""Import a raw export into a dataset folder the review reads as it is.

    Parameters
    ----------
    source : Path or str
        XES / XES.gz event log, flat CSV or Parquet event log, or ticket register.
    dataset : Path or str
        The dataset folder to write (``data/<name>``).
    period : {"quarter", "month"}, default "quarter"
        The length of a cycle.
    timezone : str, optional
        IANA zone of the dataset. Default: guessed from the timestamps' UTC offsets,
        else UTC (said so, to check).
    overrides : sequence of str or dict of str to str, optional
        ``canonical=source`` mappings that win over the guesses.
    kind : {"events", "tickets"}, optional
        The kind of source; default decided from the content.
    force : bool, default False
        Overwrite a dataset folder that ``cxassess import`` did not create.
    today : callable, default datetime.date.today
        Today's date, written in the provenance of review.yml (a fixed date in tests).

    Returns
    -------
    ImportResult
        What was written and what to check (``.summary()`` is the printed text).

    Raises
    ------
    ImportSourceError
        When the source cannot be read, holds no rows, or lacks what the kind needs.
    DatasetFolderError
        When ``dataset`` exists but was not written by ``cxassess import`` (without ``force``).
    ConfigError
        When ``timezone``, ``period`` or ``kind`` is not valid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "log.csv").write_text(
    ...     "case,activity,time\nA,Open,2024-03-30 10:00\nA,Resolve,2024-04-02 09:00\n"
    ...     "B,Open,2024-04-03 11:00\n")
    >>> r = import_source(tmp / "log.csv", tmp / "desk", timezone="Europe/Rome")
    >>> r.cycles.to_dict("list")
    {'cycle': ['2024Q1', '2024Q2'], 'tickets': [1, 1], 'events': [1, 1]}
    >>> (tmp / "desk" / "2024Q1" / "events.csv").read_text().splitlines()[1]
    'A,2024-03-30T10:00:00+01:00,Open'
    """
    source, dataset = Path(source), Path(dataset)
    previous = _check_folder(dataset, force)
    raw, info = read_source(source)
    if raw.empty:
        raise ImportSourceError(source, "the file holds no rows", "export the data again.")
    proposal = propose_mapping(raw, kind=kind, overrides=overrides, source=source, xes=info["format"] == "xes")
    _required(proposal, source, raw)
    key = "timestamp" if proposal.kind == "events" else "created_at"
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"--timezone {timezone!r} is not a time zone. How to fix: use an IANA name such "
                "as Europe/Rome, America/New_York or UTC."
            ) from None
        tz, tz_note = timezone, "given with --timezone"
    else:
        pairs = info.get("offsets") or _offset_pairs(raw[proposal.mapping[key]])
        zone, others = guess_timezone(pairs)
        shown = sorted({p[1] for p in pairs})
        offsets = ", ".join(f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in shown)
        if zone:
            tz = zone
            tz_note = f"guessed from the UTC offsets {offsets} in the file"
            if others:
                tz_note += f"; {', '.join(others[:3])} fit too"
        elif pairs:
            tz, tz_note = "UTC", (f"assumed: the UTC offsets {offsets} in the file fit no time zone; "
                                  "give the desk's zone with --timezone")
        else:
            tz, tz_note = "UTC", "assumed: the timestamps carry no UTC offset; give the desk's zone with --timezone"
    table, notes = to_canonical(raw, proposal, tz)
    if table.empty:
        raise ImportSourceError(
            source, f"no row has both a case id and a readable {key} ({proposal.mapping[key]!r})",
            f'check the column with --map {key}="<your column>".',
        )
    if proposal.kind == "events" and "lifecycle:transition" in raw.columns:
        notes.append("lifecycle:transition not imported: every event is kept as one activity")
    cycles = split_cycles(table, proposal.kind, period, tz)
    sha = file_sha256(source)
    date = str(previous.get("date")) if previous and previous.get("sha256") == sha else today().isoformat()
    name = dataset.resolve().name  # --dataset . or .. names the folder itself
    text, checks = _review_yml(
        name=name, source=source, sha=sha, date=date, proposal=proposal, tz=tz, tz_note=tz_note,
        table=table, period=period,
    )
    dataset.mkdir(parents=True, exist_ok=True)
    review = dataset / "review.yml"
    written = review
    if review.is_file() and previous is not None and not force and review.read_text(encoding="utf-8") != text:
        if _same_except_date(review.read_text(encoding="utf-8"), text):
            text = review.read_text(encoding="utf-8")
        else:
            written = dataset / "review.proposed.yml"
            notes.append(f"{review} was edited since the import and was kept; the new proposal is in {written.name}")
    written.write_text(text, encoding="utf-8")
    file = "events.csv" if proposal.kind == "events" else "tickets.csv"
    for folder in dataset.iterdir() if previous is not None else ():
        if folder.is_dir() and is_cycle_label(folder.name) and folder.name not in cycles:
            for stale in ("events.csv", "tickets.csv"):
                (folder / stale).unlink(missing_ok=True)
            if not any(folder.iterdir()):
                folder.rmdir()
    rows = []
    for label, part in cycles.items():
        folder = dataset / label
        folder.mkdir(exist_ok=True)
        other = folder / ("tickets.csv" if file == "events.csv" else "events.csv")
        if previous is not None:
            other.unlink(missing_ok=True)
        (folder / file).write_bytes(_csv_bytes(part))
        rows.append({"cycle": label, "tickets": int(part["ticket_id"].nunique()),
                     "events": len(part) if proposal.kind == "events" else 0})
    summary = pd.DataFrame(rows, columns=["cycle", "tickets", "events"])
    return ImportResult(
        dataset=dataset, source=source, rows=len(raw), proposal=proposal, timezone=tz,
        timezone_note=tz_note, cycles=summary, checks=checks, notes=notes, review_written=written,
        partial=partial_latest_cycle(cycles, proposal.kind, tz),
    )


def _same_except_date(old: str, new: str) -> bool:
    def strip(text: str) -> str:
        return re.sub(r"(?m)^  date: .*$", "", text)
    return strip(old) == strip(new)

"""Loading the canonical tables of the data contract (DESIGN.md §4).

Help-desk exports differ in encoding (UTF-8 with or without BOM, cp1252), delimiter
(``,`` ``;`` tab ``|``), decimal mark, timestamp format and column names. This module
reads them into the canonical tables with pandas 3 dtypes and tz-aware timestamps in
the dataset's time zone, and tells exactly what is wrong when it cannot.

Raw files are only ever read, never written.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from cxassess.calendar import localize
from cxassess.config import ReviewConfig
from cxassess.errors import ConfigError, DataFileError, MissingColumnError, ParseError
from cxassess.schema import DATE_KINDS, REQUIRED, SCHEMA, TABLES

__all__ = ["file_sha256", "is_in", "parse_timestamps", "read_csv_text", "read_raw", "read_table"]

_T = TypeVar("_T")


_NA_VALUES = ["", "NA", "N/A", "NULL", "null", "NaN", "nan", "None"]
_DELIMITERS = (",", ";", "\t", "|")
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_COMMA_DECIMAL = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"


#: Encodings tried, in order of preference, when a file is not UTF-8.
FALLBACK_ENCODINGS = ("cp1252", "cp932", "euc_jp")
_PUNCTUATION = set("€–—„“”‘’«»‹›•…°§²³µ·、。・「」『』（）！？：　〜")


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that are letters or usual punctuation.

    Text decoded with the wrong code page is full of symbols (``ƒ‚„†``), half-width
    katakana or control characters; text decoded right is mostly letters.
    """
    odd = [c for c in text if ord(c) > 127]
    if not odd:
        return 1.0
    good = sum(
        1 for c in odd if c in _PUNCTUATION or (c.isalpha() and not "\uff61" <= c <= "\uff9f")
    )
    return good / len(odd)


#: Bytes read from the start of a file to detect its encoding and delimiter.
SAMPLE_BYTES = 1 << 20
_UTF8 = ("utf-8", "utf-8-sig", "utf8", "utf_8", "utf_8_sig")


def _detect_encoding(sample: bytes, *, complete: bool = True, utf8: bool = True) -> str:
    """UTF-16 when the bytes start with its byte-order mark (little or big endian), UTF-8
    (BOM stripped) when they decode as UTF-8, else the most plausible of
    :data:`FALLBACK_ENCODINGS` (cp1252 wins ties). Other code pages (Cyrillic, Greek, ...)
    and Chinese are set in review.yml with ``csv: {encoding: ...}``.

    ``sample`` is the start of the file (``complete=False``: a character may be cut at its
    end); ``utf8=False`` skips UTF-8 (the file turned out not to be UTF-8 further on).
    """
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # its byte-order mark says so; Python's utf-16 codec reads the mark and drops it
    if utf8:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    sample = sample[:200_000]
    best, best_score = "cp1252", -1.0
    for encoding in FALLBACK_ENCODINGS:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if score > best_score:
            best, best_score = encoding, score
    return best


def _header_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _detect_delimiter(text: str) -> str:
    header = _header_line(text)
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > 0 else ","


def _unique(names: list[str]) -> list[str]:
    """Column names made unique as pandas does (``a``, ``a.1``, ``a.2``)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            name = candidate
        seen.setdefault(name, 0)
        out.append(name)
    return out


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (the record of a run's inputs and an import's source).

    Parameters
    ----------
    path : Path or str
        The file.

    Returns
    -------
    str
        The digest, 64 hexadecimal digits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "abc.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)  # the test vector of FIPS 180-2
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_csv_text(
    path: Path | str,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    rows: Sequence[int] | None = None,
) -> pd.DataFrame:
    r"""Read a CSV file as text columns, detecting its encoding and delimiter.

    The file is parsed by pyarrow block by block (transcoded per block when it is not
    UTF-8), so memory stays close to the size of the values, not several copies of the
    file; the encoding and the delimiter are detected from its first megabyte.

    Parameters
    ----------
    path : Path or str
        The CSV file (``.gz`` is decompressed on the fly).
    encoding : str, default "auto"
        ``"auto"`` (UTF-8 with or without BOM, else the best guess, e.g. cp1252 or
        Shift-JIS) or a Python codec name.
    delimiter : str, default "auto"
        ``"auto"`` (the most frequent of ``, ; tab |`` in the header) or the delimiter.
    rows : sequence of int, optional
        Only these data rows (0-based positions), e.g. the quarantined ones: the others
        are parsed but never become a pandas frame.

    Returns
    -------
    pandas.DataFrame
        Every column as ``str``; empty cells and common null markers are missing; spaces
        after a delimiter are skipped; header names stripped. ``attrs`` records the
        encoding and delimiter used.

    Raises
    ------
    DataFileError
        When the file is missing, empty, not a CSV file, or cannot be decoded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("\ufeffa;b\n1,5;Köln\n".encode("utf-8"))
    >>> df = read_csv_text(p)
    >>> list(df.columns), df.attrs["delimiter"], df.loc[0, "b"]
    (['a', 'b'], ';', 'Köln')
    """
    return _with_csv(path, encoding, delimiter, lambda csv_file: _text_frame(csv_file, rows))


#: Bytes of the file parsed at a time: each block becomes one record batch of text. The
#: reader parses a few dozen blocks ahead: larger blocks hold more of the file at once.
BLOCK_BYTES = 1 << 20
#: Data rows typed at a time by :func:`read_table` (the blocks are gathered up to this).
ROWS_AT_A_TIME = 250_000


class _NotUtf8(Exception):
    """The file is not valid UTF-8 after its first megabyte."""


@dataclass
class _CsvFile:
    """An open CSV file: its header's names, delimiter and encoding, and its data rows
    as record batches of text, one block of the file at a time (read once, on iteration).
    """

    names: list[str]
    delimiter: str
    encoding: str
    batches: Iterator[Any]


def _with_csv(path: Path | str, encoding: str, delimiter: str, use: Callable[[_CsvFile], _T]) -> _T:
    """``use`` applied to the CSV file at ``path``, its encoding and delimiter detected from
    its first megabyte; read again as the best other code page when an automatically
    detected UTF-8 turns out wrong further on.
    """
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found", "check the dataset folder and review.yml files:.")
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            sample = stream.read(SAMPLE_BYTES + 1)
    except (OSError, pa.ArrowException) as exc:
        raise DataFileError(path, f"cannot be read ({exc})", "check that the file is a CSV export.") from None
    complete = len(sample) <= SAMPLE_BYTES
    sample = sample[:SAMPLE_BYTES]
    if not sample.strip():
        raise DataFileError(path, "the file is empty", "export the table again; it needs a header row.")
    enc = _detect_encoding(sample, complete=complete) if encoding == "auto" else encoding
    try:
        return use(_open_csv(path, sample, enc, delimiter))
    except _NotUtf8:
        if encoding != "auto":
            raise DataFileError(
                path,
                f"cannot be decoded as {enc}",
                "set the export's encoding in review.yml, e.g. csv: {encoding: cp1252}.",
            ) from None
        enc = _detect_encoding(sample, complete=complete, utf8=False)
        return use(_open_csv(path, sample, enc, delimiter))


def _open_csv(path: Path, sample: bytes, enc: str, delimiter: str) -> _CsvFile:
    """The header of the file read from ``sample``; the data rows parsed by pyarrow as
    they are iterated (transcoded block by block when ``enc`` is not UTF-8).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    problem = (
        f"cannot be decoded as {enc}",
        "set the export's encoding in review.yml, e.g. csv: {encoding: cp1252}.",
    )
    try:
        text = codecs.getincrementaldecoder(enc)().decode(sample, final=False).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"{problem[0]} ({exc})", problem[1]) from None
    except LookupError:
        raise DataFileError(path, f"unknown encoding {enc!r}", "use a Python codec name, e.g. cp1252.") from None
    sep = _detect_delimiter(text) if delimiter == "auto" else delimiter
    header = next(csv.reader([_header_line(text)], delimiter=sep), [])
    names = _unique([name if name.strip() else f"Unnamed: {i}" for i, name in enumerate(header)])
    utf8 = enc.lower().replace("_", "-") in _UTF8

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            reader = pacsv.open_csv(
                str(path),
                read_options=pacsv.ReadOptions(
                    encoding="utf8" if utf8 else enc, column_names=names, skip_rows=1, block_size=BLOCK_BYTES
                ),
                parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(  # pandas' str columns are large strings: no copy later
                    column_types=dict.fromkeys(names, pa.large_string()),
                    null_values=_NA_VALUES,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            for batch in reader:
                yield _skip_spaces(batch)
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "UTF8" in message or "UTF-8" in message:
                if utf8:
                    raise _NotUtf8 from None
                raise DataFileError(path, f"{problem[0]} ({message})", problem[1]) from None
            raise DataFileError(
                path,
                f"not a well-formed CSV with delimiter {sep!r}: {message}",
                "check quoting in the export (every row needs as many fields as the header), "
                "or set csv: {delimiter: ...} in review.yml.",
            ) from None
        except UnicodeDecodeError as exc:
            raise DataFileError(path, f"{problem[0]} ({exc})", problem[1]) from None

    return _CsvFile(names, sep, enc, batches())


def _skip_spaces(batch: Any) -> Any:
    """Spaces after the delimiter skipped, as pandas does (a cell of spaces and a null
    marker is missing).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    nulls = pa.array(_NA_VALUES, pa.large_string())
    for i in range(batch.num_columns):
        column = batch.column(i)
        if column.null_count < len(column) and pc.any(pc.starts_with(column, " ")).as_py():
            column = pc.utf8_ltrim(column, characters=" ")
            column = pc.if_else(pc.is_in(column, value_set=nulls), pa.scalar(None, pa.large_string()), column)
            batch = batch.set_column(i, batch.schema.field(i).name, column)
    return batch


def _empty_batch(names: list[str]) -> Any:
    import pyarrow as pa

    return pa.record_batch([pa.array([], pa.large_string()) for _ in names], names=names)


def _text_frame(csv_file: _CsvFile, rows: Sequence[int] | None) -> pd.DataFrame:
    """The file as text (:func:`read_csv_text`); with ``rows``, only those rows ever leave
    their block.
    """
    import pyarrow as pa

    if rows is None:
        table = pa.Table.from_batches([*csv_file.batches, _empty_batch(csv_file.names)])
    else:
        wanted = np.asarray(rows, dtype=np.int64)
        order = np.argsort(wanted, kind="stable")
        ascending, parts, offset = wanted[order], [_empty_batch(csv_file.names)], 0
        for batch in csv_file.batches:
            lo, hi = np.searchsorted(ascending, [offset, offset + batch.num_rows])
            if hi > lo:
                parts.append(batch.take(pa.array(ascending[lo:hi] - offset)))
            offset += batch.num_rows
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        table = pa.Table.from_batches(parts).take(pa.array(back))  # a row not in the file: IndexError
    df = table.to_pandas(self_destruct=True)
    del table
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs.update(encoding=csv_file.encoding, delimiter=csv_file.delimiter)
    return df


def parse_timestamps(
    values: pd.Series,
    tz: str,
    *,
    fmt: str | None = None,
    dayfirst: bool = False,
    require_time: bool = True,
) -> pd.Series:
    """Parse timestamp strings into tz-aware timestamps in ``tz``.

    Strings with a UTC offset (``...+02:00``, ``...Z``) are converted to ``tz``; naive
    strings are read as local time in ``tz``. Across a daylight-saving change a naive
    time in the repeated autumn hour is read as its first (summer-time) occurrence and a
    time in the skipped spring hour is moved forward to the first valid instant.

    A value must be complete: a day, a month and a year, and with ``require_time`` (the
    default, for timestamp columns) an hour and minute. ``07/2026``, ``2026-07`` or, when
    a time is required, ``2026-07-01`` are not completed with defaults: like values that
    cannot be parsed, they become ``NaT``. With ``fmt`` the format decides what a value
    holds.

    Parameters
    ----------
    values : pandas.Series
        The text values.
    tz : str
        IANA zone of naive values and of the result.
    fmt : str, optional
        A ``strftime`` format (review.yml ``csv: datetime_format``); by default ISO 8601 and
        common day-first or month-first layouts are recognised.
    dayfirst : bool, default False
        Read ``01.07.2026`` as 1 July (review.yml ``csv: dayfirst``).
    require_time : bool, default True
        Whether a value without an hour and minute is incomplete.

    Returns
    -------
    pandas.Series
        Tz-aware timestamps in ``tz``; ``NaT`` where a value is missing, incomplete or
        unreadable.

    Examples
    --------
    >>> s = pd.Series(["2026-03-29 01:30", "2026-03-29T03:30:00+02:00", "n/a", "07/2026"])
    >>> [str(t) for t in parse_timestamps(s, "Europe/Berlin")]
    ['2026-03-29 01:30:00+01:00', '2026-03-29 03:30:00+02:00', 'NaT', 'NaT']
    >>> [str(t) for t in parse_timestamps(pd.Series(["2026-07-01", "2026-07"]), "UTC", require_time=False)]
    ['2026-07-01 00:00:00+00:00', 'NaT']
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(tz).astype(f"datetime64[us, {tz}]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _localize(values, tz)
    if fmt is not None:
        return _parse_general(values, tz, fmt, dayfirst, require_time)
    parsed = _parse_iso(values, tz, require_time)  # the common ISO shapes in bulk
    rest = parsed.isna().to_numpy() & values.notna().to_numpy()
    if rest.any():  # everything else by the general rules
        parsed[rest] = _parse_general(values[rest], tz, fmt, dayfirst, require_time)
    return parsed


def _parse_general(values: pd.Series, tz: str, fmt: str | None, dayfirst: bool, require_time: bool) -> pd.Series:
    """:func:`parse_timestamps` by pandas, a chunk at a time."""
    if len(values) > _CHUNK:  # pandas parses via Python strings: a chunk at a time bounds the memory
        parts = [
            _parse_text(values.iloc[i : i + _CHUNK], tz, fmt, dayfirst, require_time)
            for i in range(0, len(values), _CHUNK)
        ]
        return pd.concat(parts)
    return _parse_text(values, tz, fmt, dayfirst, require_time)


_CHUNK = 100_000
#: Rows parsed at a time by the bulk ISO 8601 path (a chunk's Python strings, about 50 MB).
_ISO_CHUNK = 500_000


#: The ISO 8601 shapes most exports write: a date, ``T`` or a space, hours and minutes,
#: optional seconds and fraction, and (``_ISO_OFFSET``) a UTC offset or ``Z``.
_ISO_LOCAL = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"
_ISO_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _parse_iso(values: pd.Series, tz: str, require_time: bool) -> pd.Series:
    """The values of an ISO 8601 shape (:data:`_ISO_LOCAL`, :data:`_ISO_OFFSET`, and a
    bare date without ``require_time``), parsed in bulk; ``NaT`` elsewhere.

    The shapes are recognised by Arrow in native code, so the completeness rules and the
    offset split of the general parser (per-value regular expressions, seconds at a
    million rows) are not needed for them. Arrow's ISO 8601 cast parses them, also in
    native code; a part where it fails on one value (a time that is no real time, such
    as ``2026-02-30 09:30``, or a fraction finer than microseconds) is parsed by pandas'
    ISO 8601 parser, as in the general path. A value of the right shape that is no real
    time is ``NaT`` here and goes through the general rules.

    Examples
    --------
    >>> s = pd.Series(["2026-07-01T09:30:00+02:00", "2026-07-01 09:30", "2026-02-30 09:30", "1.7.2026 9:30"])
    >>> [str(t) for t in _parse_iso(s, "Europe/Berlin", True)]
    ['2026-07-01 09:30:00+02:00', '2026-07-01 09:30:00+02:00', 'NaT', 'NaT']
    """
    if len(values) > _ISO_CHUNK:  # pandas' fallback parses Python strings: a chunk at a time bounds the memory
        return pd.concat([_parse_iso(values.iloc[i : i + _ISO_CHUNK], tz, require_time)
                          for i in range(0, len(values), _ISO_CHUNK)])
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pa.array(values, type=pa.string(), from_pandas=True))
    local_shape = _ISO_LOCAL if require_time else f"{_ISO_LOCAL}|{_ISO_DATE}"
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {tz}]")
    for shape, utc in ((_ISO_OFFSET, True), (local_shape, False)):
        mask = pc.fill_null(pc.match_substring_regex(text, shape), False)
        count = pc.sum(mask).as_py() or 0
        if not count:
            continue
        whole = count == len(text)
        part = text if whole else pc.filter(text, mask)
        try:  # Arrow's ISO 8601 cast, in native code; it fails the whole part on one unreal time
            parsed = pc.cast(part, pa.timestamp("us", "UTC") if utc else pa.timestamp("us")).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # pandas then finds which values are NaT
            parsed = pd.to_datetime(part.to_pandas(), format="ISO8601", errors="coerce", utc=utc)
        parsed = (parsed.dt.tz_convert(tz) if utc else _localize(parsed, tz)).astype(out.dtype)
        if whole:
            return parsed.set_axis(values.index)
        out[mask.to_numpy(zero_copy_only=False)] = parsed.array
    return out


def _parse_text(values: pd.Series, tz: str, fmt: str | None, dayfirst: bool, require_time: bool) -> pd.Series:
    text = values.astype("str").str.strip()
    if fmt is None:
        text = text.where(_complete(text, require_time=require_time))
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {tz}]")
    has_offset = text.str.contains(_OFFSET, regex=True, na=False)
    naive = text.notna() & ~has_offset
    if has_offset.any():
        aware = _to_datetime(text[has_offset], fmt, dayfirst, utc=True)
        out[has_offset] = aware.dt.tz_convert(tz)
    if naive.any():
        out[naive] = _localize(_to_datetime(text[naive], fmt, dayfirst, utc=False), tz)
    return out


_TIME = r"\d{1,2}:\d{2}|\d{8}T\d{4}"
_MONTH_NAME = r"(?i)\b(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-z.]*"


def _complete(text: pd.Series, *, require_time: bool) -> pd.Series:
    """Whether each value names a whole date (three numbers, or two and a month name, or
    a compact ``20260701``) and, with ``require_time``, an hour and minute.
    """
    date_part = text.str.replace(r"[T ]*\d{1,2}:\d{2}.*$", "", regex=True)
    numbers = date_part.str.count(r"\d+")
    whole_date = (
        (numbers >= 3)
        | ((numbers >= 2) & date_part.str.contains(_MONTH_NAME, regex=True, na=False))
        | date_part.str.match(r"\d{8}(?:T|$)", na=False)
    )
    if require_time:
        whole_date &= text.str.contains(_TIME, regex=True, na=False)
    return whole_date.fillna(False).astype(bool)


def _to_datetime(text: pd.Series, fmt: str | None, dayfirst: bool, *, utc: bool) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=utc)
    retry = parsed.isna() & text.notna()
    if fmt is None and retry.any():
        parsed[retry] = pd.to_datetime(
            text[retry], format="mixed", dayfirst=dayfirst, errors="coerce", utc=utc
        )
    return parsed


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local times as instants by :func:`cxassess.calendar.localize`'s rule, in µs."""
    return localize(naive, tz).astype(f"datetime64[us, {tz}]")


def _parse_numbers(text: pd.Series, decimal: str) -> pd.Series:
    values = text.astype("str").str.strip()
    use_comma = decimal == "," or (
        decimal == "auto"
        and values.str.contains(",", regex=False, na=False).any()
        and values.dropna().str.fullmatch(_COMMA_DECIMAL).all()
    )
    if use_comma:
        values = values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(values, errors="coerce")


_EXPECTED = {
    "datetime": "a full date and time",
    "date": "a full date",
    "int": "a whole number",
    "float": "a number",
}
_FIXES = {
    "datetime": (
        "write timestamps as ISO 8601 (2026-07-01 09:30:00, optionally with +02:00), or "
        "set csv: {datetime_format: '%d.%m.%Y %H:%M'} in review.yml"
    ),
    "date": "write full dates (2026-07-01, or a timestamp), or set csv: {datetime_format: '%d.%m.%Y'} in review.yml",
    "int": "leave the cell empty or write a whole number",
    "float": "leave the cell empty or write a number; set csv: {decimal: ','} for decimal commas",
}


def _coerce(
    df: pd.DataFrame, table: str, path: Path, tz: str, csv_options: dict, errors: str,
    kinds: Collection[str] | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """Type every canonical column (of ``kinds`` only, when given); return the frame and
    the unreadable cells.
    """
    failures = []
    for column, kind in SCHEMA[table].items():
        if column not in df.columns or (kinds is not None and kind not in kinds):
            continue
        raw = df[column]
        if kind in ("id", "str"):
            df[column] = raw.astype("str").str.strip()
            continue
        if kind in DATE_KINDS:
            parsed = parse_timestamps(
                raw,
                tz,
                fmt=csv_options.get("datetime_format"),
                dayfirst=bool(csv_options.get("dayfirst", False)),
                require_time=kind == "datetime",
            )
        else:
            parsed = _parse_numbers(raw, str(csv_options.get("decimal", "auto")))
            if kind == "int":
                whole = parsed.isna() | (parsed == parsed.round())
                parsed = parsed.where(whole).astype("Int64")
            else:
                parsed = parsed.astype("float64")
        bad = raw.notna() & parsed.isna()
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + 1).tolist()
            if errors == "raise":
                raise ParseError(
                    path, column, rows, raw[bad].astype(str).tolist(), _EXPECTED[kind], _FIXES[kind]
                )
            failures += [
                {"row": r, "column": column, "value": v, "problem": f"cannot be read as {_EXPECTED[kind]}"}
                for r, v in zip(rows, raw[bad].astype(str), strict=True)
            ]
        df[column] = parsed
    return df, failures


def read_table(
    path: Path | str,
    table: str,
    config: ReviewConfig | None = None,
    *,
    tz: str | None = None,
    errors: Literal["raise", "coerce"] = "raise",
) -> pd.DataFrame:
    r"""Read one canonical table from a CSV or Parquet file.

    Parameters
    ----------
    path : Path or str
        The file (``.csv``, ``.txt`` or ``.parquet``).
    table : str
        One of ``tickets, events, surveys, audits, customers, actions``.
    config : ReviewConfig, optional
        The dataset's review.yml: column mapping, time zone, CSV options, and for
        ``events`` the activity → stage mapping.
    tz : str, optional
        Time zone for naive timestamps when no ``config`` is given (default UTC).
    errors : {"raise", "coerce"}, default "raise"
        ``"raise"``: an unreadable value raises :class:`~cxassess.errors.ParseError`
        naming the file, column and rows. ``"coerce"``: it becomes missing and is listed
        in ``df.attrs["unreadable"]`` as records (row, column, value, problem), and
        missing required or mapped columns are listed in ``df.attrs["missing"]``
        instead of raising, for the quality gate to report.

    Returns
    -------
    pandas.DataFrame
        Canonical columns typed (``str``, ``Int64``, ``float64``, tz-aware
        ``datetime64[us]``); other columns of the file kept as text.

    Raises
    ------
    ConfigError
        When ``table`` is not a table of the data contract.
    MissingColumnError
        When a required column is absent (``errors="raise"``).
    ParseError
        When values cannot be read as their type (``errors="raise"``).
    DataFileError
        When the file is missing, empty or unreadable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tickets.csv"
    >>> _ = p.write_text("ticket_id;created_at;handle_minutes\nT1;2026-07-01 09:00;12,5\n")
    >>> t = read_table(p, "tickets", tz="Europe/Berlin")
    >>> str(t.loc[0, "created_at"]), t.loc[0, "handle_minutes"]
    ('2026-07-01 09:00:00+02:00', np.float64(12.5))
    """
    if table not in SCHEMA:
        raise ConfigError(f"unknown table {table!r}; the tables are {', '.join(TABLES)}.")
    path = Path(path)
    csv_options = config.csv if config is not None else {}
    zone = config.timezone if config is not None else (tz or "UTC")
    mapping = config.columns(table) if config is not None else {}
    renamed = {src: canon for canon, src in mapping.items()}

    def canonical(found: list[str]) -> list[str]:
        """The canonical columns missing; raises with ``errors="raise"``."""
        absent = [canon for canon, src in mapping.items() if src not in found]
        columns = pd.DataFrame(columns=found).rename(columns=renamed).columns
        missing = absent + [c for c in REQUIRED[table] if c not in columns and c not in absent]
        if missing and errors == "raise":
            raise MissingColumnError(path, table, missing, found)
        return missing

    if path.suffix.lower() == ".parquet":
        df = read_raw(path, config)
        missing = canonical(list(df.columns))
        df, unreadable = _coerce(df.rename(columns=renamed), table, path, zone, csv_options, errors)
    else:
        def typed(csv_file: _CsvFile) -> tuple[pd.DataFrame, list[dict], list[str]]:
            found = [str(c).strip() for c in csv_file.names]
            missing = canonical(found)  # before any value is read
            return (*_typed_csv(csv_file, found, renamed, table, path, zone, csv_options, errors), missing)

        df, unreadable, missing = _with_csv(
            path, str(csv_options.get("encoding", "auto")), str(csv_options.get("delimiter", "auto")), typed
        )
    if table == "events" and "activity" in df.columns and config is not None and config.process:
        # stages the export leaves blank come from review.yml's activity -> stage mapping
        if "stage" not in df.columns:
            df["stage"] = _looked_up(df["activity"], config.process.activities)
        elif df["stage"].isna().any():
            df["stage"] = df["stage"].fillna(_looked_up(df["activity"], config.process.activities))
    df.attrs.update(source=str(path), table=table, unreadable=unreadable, missing=missing)
    return df


def _typed_csv(
    csv_file: _CsvFile, found: list[str], renamed: dict[str, str], table: str, path: Path, tz: str,
    csv_options: dict, errors: str,
) -> tuple[pd.DataFrame, list[dict]]:
    """The CSV file's canonical columns typed one block at a time (:func:`read_table`): the
    whole file never exists as text. Numbers are typed at the end, on the whole column,
    as the decimal mark is told from every value of it.
    """
    import pyarrow as pa

    blockwise = ("id", "str", *DATE_KINDS)
    parts, failures, offset = [], {}, 0
    for batches in _gathered(csv_file.batches, ROWS_AT_A_TIME):
        part = pa.Table.from_batches(batches).to_pandas(self_destruct=True)
        del batches
        part.columns = found
        part, unreadable = _coerce(part.rename(columns=renamed), table, path, tz, csv_options, "coerce", blockwise)
        for cell in unreadable:
            failures.setdefault(cell["column"], []).append({**cell, "row": cell["row"] + offset})
        offset += len(part)
        parts.append(part)
    if not parts:
        part = _empty_batch(csv_file.names).to_pandas()
        part.columns = found
        parts.append(_coerce(part.rename(columns=renamed), table, path, tz, csv_options, "coerce", blockwise)[0])
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts, part
    df, unreadable = _coerce(df, table, path, tz, csv_options, "coerce", ("int", "float"))
    for cell in unreadable:
        failures.setdefault(cell["column"], []).append(cell)
    cells = [cell for column in SCHEMA[table] for cell in failures.get(column, [])]
    if cells and errors == "raise":  # the first column in the contract's order, as when typed whole
        column, kind = next((c, k) for c, k in SCHEMA[table].items() if c in failures)
        bad = failures[column]
        raise ParseError(path, column, [c["row"] for c in bad], [c["value"] for c in bad], _EXPECTED[kind], _FIXES[kind])
    df.attrs = {"encoding": csv_file.encoding, "delimiter": csv_file.delimiter}
    return df, cells


def _gathered(batches: Iterator[Any], rows: int) -> Iterator[list[Any]]:
    """The record batches in groups of at least ``rows`` rows (the last one fewer).

    Examples
    --------
    >>> import pyarrow as pa
    >>> blocks = [pa.record_batch({"a": list(range(n))}) for n in (3, 3, 3, 1)]
    >>> [sum(b.num_rows for b in group) for group in _gathered(iter(blocks), 5)]
    [6, 4]
    """
    group, count = [], 0
    for batch in batches:
        group.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield group
            group, count = [], 0
    if group:
        yield group


def _looked_up(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """``values.map(mapping)`` as text, by Arrow (pandas' ``map`` makes a Python string of
    every value: hundreds of MB for an event log of millions of rows).

    Examples
    --------
    >>> _looked_up(pd.Series(["open", "solve", "other", None]), {"open": "desk", "solve": "desk"}).tolist()
    ['desk', 'desk', nan, nan]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pa.array(values.astype("str"), from_pandas=True)
    keys = pa.array(list(mapping), column.type)
    found = pc.index_in(column, value_set=keys)
    mapped = pa.array([None if v is None else str(v) for v in mapping.values()], pa.large_string()).take(found)
    return pd.Series(mapped.to_pandas(), index=values.index).astype("str")


def read_raw(path: Path | str, config: ReviewConfig | None = None, rows: Sequence[int] | None = None) -> pd.DataFrame:
    r"""Read a table file as it is: the file's own column names, values as text (CSV) or
    as stored (Parquet). The quality gate quarantines rows from this view, so rejected
    rows keep their original values.

    Parameters
    ----------
    path : Path or str
        The file (``.csv``, ``.txt`` or ``.parquet``).
    config : ReviewConfig, optional
        The dataset's review.yml, for its CSV options.
    rows : sequence of int, optional
        Only these data rows (0-based positions).

    Returns
    -------
    pandas.DataFrame
        The file's columns, unmapped and untyped.

    Raises
    ------
    DataFileError
        When the file is missing or unreadable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("Ticket;Created\nT1;01.07.2026 09:00\n")
    >>> read_raw(p).loc[0, "Created"]
    '01.07.2026 09:00'
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        if not path.is_file():
            raise DataFileError(path, "file not found", "check the dataset folder.")
        raw = pd.read_parquet(path)
        return raw.iloc[list(rows)].reset_index(drop=True) if rows is not None else raw
    csv_options = config.csv if config is not None else {}
    return read_csv_text(
        path,
        encoding=str(csv_options.get("encoding", "auto")),
        delimiter=str(csv_options.get("delimiter", "auto")),
        rows=rows,
    )


def is_in(values: pd.Series, ids: pd.Index | pd.Series) -> np.ndarray:
    """Whether each value is one of ``ids`` (a missing value never is), with Arrow's hash
    lookup: pandas' ``isin`` on Arrow strings builds a Python object per id, seconds at a
    million tickets.

    Parameters
    ----------
    values : pandas.Series
        The values looked up (ticket or customer ids).
    ids : pandas.Index or pandas.Series
        The known ids.

    Returns
    -------
    numpy.ndarray
        One bool per value.

    Examples
    --------
    >>> is_in(pd.Series(["T1", "T9", None], dtype="str"), pd.Index(["T1", "T2"], dtype="str")).tolist()
    [True, False, False]

    Ids Arrow cannot hold in one type (numbers and text mixed) are looked up by pandas:

    >>> is_in(pd.Series([1, "T2", None], dtype=object), pd.Series(["T2", 3])).tolist()
    [False, True, False]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        column = pa.array(values, from_pandas=True)
        known = pa.array(ids, from_pandas=True)
        if known.type != column.type:
            known = known.cast(column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return (pd.Series(values).isin(pd.Series(ids)) & pd.Series(values).notna()).to_numpy(dtype=bool)
    return pc.fill_null(pc.is_in(column, value_set=known), False).to_numpy(zero_copy_only=False)

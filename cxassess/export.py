"""Safe output: values from data or review.yml, written for people.

:func:`md_text` turns a value into plain text inside the Markdown the report renders (no
value ever becomes markup). CSV files written for people are safe to open in a spreadsheet.

Every CSV the project writes for a reader (the quarantined rows, breakdown tables) goes
through :func:`write_csv`. A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``,
``+cmd|' /C calc'!A0``): as the OWASP *CSV Injection* guidance recommends, such a cell is
prefixed with a single quote ``'`` so that the spreadsheet shows it as text, and every text
cell is written between double quotes. Numbers stay numbers: a cell of a numeric column is
never changed, and a text cell that is a plain number (``-12``, ``-0.5``, ``-1,5``) is no
formula and is kept as it is.

Files are UTF-8 with a byte-order mark: Excel reads a CSV without BOM in the machine's code
page (cp1252 on most Western Windows installations), which garbles German and Japanese
comments; with the BOM it reads UTF-8. pandas, Python's ``csv`` (``encoding="utf-8-sig"``)
and cxassess's own reader skip it.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_STARTS", "neutralise", "write_csv", "ENCODING", "md_text"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Encoding of every CSV written for people: UTF-8 with a byte-order mark, for Excel.
ENCODING = "utf-8-sig"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: object) -> object:
    r"""A cell as it is safe to write: text that a spreadsheet would read as a formula gets
    a leading ``'``; anything else (numbers, missing values, plain text) is unchanged.

    Parameters
    ----------
    value : object
        A cell: text, a number, a missing value.

    Returns
    -------
    object
        ``value``, with ``'`` in front when it is text read as a formula.

    Examples
    --------
    >>> [neutralise(v) for v in ["=1+1", "@SUM(1,1)", "-2+3", "\tx", "-12", "-0,5", "ok", 3]]
    ["'=1+1", "'@SUM(1,1)", "'-2+3", "'\tx", '-12', '-0,5', 'ok', 3]
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` as a CSV file safe to open in a spreadsheet.

    Text cells (and column names) that start with ``= + - @``, a tab or a carriage
    return are prefixed with ``'``; text cells are quoted; numeric columns are written as
    numbers; no index; UTF-8 with a byte-order mark (see the module's notes).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.
    path : Path or str
        The file; its folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
    >>> df = pd.DataFrame({"row": [1, 2], "delta": [-3.5, 2.0],
    ...                    "comment": ['=HYPERLINK("http://x","x")', "fine"]})
    >>> print(write_csv(df, p).read_text("utf-8-sig"))
    "row","delta","comment"
    1,-3.5,"'=HYPERLINK(""http://x"",""x"")"
    2,2.0,"fine"
    <BLANKLINE>
    """
    path = Path(path)
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):  # its categories are text like any other
            values = values.astype(object)
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            out[column] = values.map(neutralise, na_action="ignore").astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    out.to_csv(path, index=False, encoding=ENCODING, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return path


#: Characters with a meaning in Markdown inline text (escaped with a backslash by :func:`md_text`).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")


def md_text(value: object) -> str:
    r"""A value from data or review.yml as plain text inside Markdown that the report renders.

    The report's Markdown passes raw HTML through, so ``< > &`` become entities, Markdown
    syntax (emphasis, links, images, code, table pipes, ``$`` math) is backslash-escaped
    and line breaks become spaces: the value shows as written, never as markup.

    Parameters
    ----------
    value : object
        Any value; it is turned into text with ``str``.

    Returns
    -------
    str
        The text, escaped for Markdown and HTML.

    Examples
    --------
    >>> print(md_text('<img src=x onerror=alert(1)> & [x](y) *a*'))
    &lt;img src=x onerror=alert\(1\)&gt; &amp; \[x\]\(y\) \*a\*
    >>> md_text("Support desk 2026")
    'Support desk 2026'
    """
    text = html.escape(" ".join(str(value).splitlines()), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)

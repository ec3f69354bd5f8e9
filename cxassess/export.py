"""Tables written beside the report pages (CSV a spreadsheet opens).

Minimal version: another change neutralises spreadsheet formulas here; the signature is
the one the notebooks call.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["write_csv"]


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` as UTF-8 CSV without its index; return the path.

    Examples
    --------
    >>> import tempfile
    >>> p = write_csv(pd.DataFrame({"team": ["a"], "n": [3]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text(encoding="utf-8").splitlines()
    ['team,n', 'a,3']
    """
    path = Path(path)
    frame.to_csv(path, index=False)
    return path

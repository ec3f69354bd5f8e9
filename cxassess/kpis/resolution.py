"""Resolution KPIs from the ticket table: transfer and reopen rates (DESIGN.md §5)."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
from narwhals.typing import IntoDataFrameT

from cxassess.kpis._frame import rate

__all__ = ["transfer_rate", "reopen_rate", "open_share"]


def transfer_rate(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Transfer rate = tickets with ≥ 1 transfer ÷ tickets.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"transfers": [0, 1, 2, 0], "team": ["a", "a", "b", "b"]})
    >>> transfer_rate(t, by="team")[["team", "value", "n"]].values.tolist()
    [['a', 0.5, 2], ['b', 0.5, 2]]
    """
    return rate(tickets, nw.col("transfers") > 0, "transfer_rate", by=by)


def reopen_rate(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Reopen rate = resolved tickets with reopens > 0 ÷ resolved tickets.

    A ticket counts as resolved when it has a ``resolved_at`` or has ever been resolved
    (``reopens > 0``: a reopened ticket was resolved before).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"reopens": [0, 1, 0], "resolved_at": pd.to_datetime(["2026-07-01", "2026-07-02", None])})
    >>> reopen_rate(t)[["value", "n"]].iloc[0].tolist()
    [0.5, 2.0]
    """
    resolved = ~nw.col("resolved_at").is_null() | (nw.col("reopens") > 0)
    return rate(tickets, nw.col("reopens") > 0, "reopen_rate", by=by, where=resolved)


def open_share(tickets: IntoDataFrameT, *, by: str | Sequence[str] | None = None) -> IntoDataFrameT:
    """Share of tickets not resolved at the export (the cycle's end): ``resolved_at`` missing.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"resolved_at": pd.to_datetime(["2026-07-01", None, None, "2026-07-03"])})
    >>> open_share(t)["value"].iloc[0]
    np.float64(0.5)
    """
    return rate(tickets, nw.col("resolved_at").is_null(), "open_share", by=by)

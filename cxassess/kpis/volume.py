"""Volume KPIs: how many tickets, and how they split."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
from narwhals.typing import IntoDataFrameT

from cxassess.kpis._frame import keys

__all__ = ["volume"]


def volume(tickets: IntoDataFrameT, *, by: str | Sequence[str]) -> IntoDataFrameT:
    """Tickets per group and their share of all tickets, largest group first.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["chat", "email", "chat", "chat"]})
    >>> volume(t, by="channel").values.tolist()
    [['chat', 3, 0.75], ['email', 1, 0.25]]
    """
    df = nw.from_native(tickets, eager_only=True)
    group = keys(by)
    out = df.group_by(group, drop_null_keys=False).agg(nw.len().alias("tickets"))
    out = out.with_columns((nw.col("tickets") / nw.col("tickets").sum()).alias("share"))
    return out.sort("tickets", *group, descending=[True] + [False] * len(group)).to_native()

"""The service process seen through the event log: stages and their volumes."""

from __future__ import annotations

import pandas as pd

from cxassess.config import Process

__all__ = ["stage_volume"]


def stage_volume(events: pd.DataFrame, process: Process) -> pd.DataFrame:
    """Tickets that pass through each stage, in process order.

    Returns
    -------
    pandas.DataFrame
        ``stage, label, lane, tickets, share`` where ``share`` is the fraction of all
        tickets of the log that reach the stage; unmapped activities are counted under
        the stage ``(unmapped)``.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "A", "L1"), Stage("b", "B", "L2")), activities={})
    >>> ev = pd.DataFrame({"ticket_id": [1, 1, 2], "stage": ["a", "b", "a"]})
    >>> stage_volume(ev, p)[["stage", "tickets", "share"]].values.tolist()
    [['a', 2, 1.0], ['b', 1, 0.5]]
    """
    total = events["ticket_id"].nunique()
    stages = events["stage"].fillna("(unmapped)")
    reached = events.groupby(stages)["ticket_id"].nunique()
    rows = [(s.name, s.label, s.lane) for s in process.stages]
    if "(unmapped)" in reached.index:
        rows.append(("(unmapped)", "activities without a stage", ""))
    out = pd.DataFrame(rows, columns=["stage", "label", "lane"])
    out["tickets"] = out["stage"].map(reached).fillna(0).astype("int64")
    out["share"] = out["tickets"] / total if total else float("nan")
    return out

"""Breakdowns of the scorecard by a segment column (channel, team ...) at real
cardinality: the largest segments by volume, the rest pooled into one "other" segment
whose KPIs are computed on its tickets (not averaged over segments), and every segment in
a table for a CSV file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import narwhals as nw
import pandas as pd

from cxassess import plausibility, registry
from cxassess.cycles import Cycle
from cxassess.export import write_csv
from cxassess.kpis.scorecard import scorecard
from cxassess.kpis.volume import volume

__all__ = ["Breakdown", "breakdown", "breakdowns", "pooled", "moved"]


@dataclass
class Breakdown:
    """The scorecard of a cycle by ``by``.

    ``shown`` holds the ``top`` largest segments (by tickets this cycle, largest first)
    and, when there are more, one segment named :attr:`other` pooling the rest;
    ``full`` every segment; ``segments`` the tickets per segment. ``missing`` says why
    there is no breakdown (the column or the tickets are absent), else it is empty.
    ``kpis`` are the KPIs its chart shows (:data:`cxassess.registry.BREAKDOWN_KPIS` on the
    clock of review.yml).
    """

    by: str
    shown: pd.DataFrame
    full: pd.DataFrame
    segments: pd.DataFrame
    top: int
    missing: str = ""
    kpis: list[str] = field(default_factory=list)

    @property
    def pooled_count(self) -> int:
        """How many segments the "other" segment pools (0 when all are shown)."""
        return max(0, len(self.segments) - self.top)

    @property
    def other(self) -> str:
        """The name of the pooled segment, e.g. ``other (288 teams)``."""
        return f"other ({self.pooled_count:,} segments)"

    @property
    def csv_name(self) -> str:
        """File name of the full table: ``breakdown_<column>.csv``."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.by)
        return f"breakdown_{safe}.csv"

    def write_csv(self, folder: Path | str | None) -> str | None:
        """Write :attr:`full` as ``breakdown_<column>.csv`` into ``folder`` (the report
        folder) and return the file name, for a relative link; ``None`` without a folder
        or without a breakdown."""
        if folder is None or self.missing:
            return None
        write_csv(self.full, Path(folder) / self.csv_name)
        return self.csv_name


def moved(card: pd.DataFrame, *, min_n: int) -> pd.DataFrame:
    """The rows of a scorecard whose KPI moved for real: the change is *improved* or
    *worsened* (its interval excludes 0) and the figure rests on at least ``min_n``
    (review.yml ``min_n``). Below ``min_n`` a figure is greyed "n too small" and never
    reported as moved, on the scorecard as in the breakdowns.

    Examples
    --------
    >>> card = pd.DataFrame({"kpi": ["csat", "nps", "fcr"], "n": [120, 12, 300],
    ...                      "verdict": ["worsened", "improved", "within noise"]})
    >>> moved(card, min_n=30)["kpi"].tolist()  # nps has 12 answers only; fcr within noise
    ['csat']
    """
    return card[card["verdict"].isin(["improved", "worsened"]) & (card["n"].fillna(0) >= min_n)]


def pooled(cycle: Cycle, by: str, keep: list, other: str) -> Cycle:
    """A copy of ``cycle`` whose ``by`` column reads ``other`` outside the segments
    ``keep`` in the tables the KPIs segment (tickets, surveys, customers); the raw tables
    are not modified. The event log, audits and actions are left as they are, and unread
    when they were (a survey takes its ticket's segment; events are joined by ticket)."""
    tables = {}
    for name in ("tickets", "surveys", "customers"):
        table = cycle.tables.get(name)
        if table is None or by not in nw.from_native(table, eager_only=True).columns:
            continue
        df = nw.from_native(table, eager_only=True).to_pandas()
        tables[name] = df.assign(**{by: df[by].where(df[by].isin(keep), other)})
    return cycle.with_tables(**tables)


def breakdown(
    now: Cycle, before: Cycle | None = None, *, by: str, top: int = 12, checks: pd.DataFrame | None = None
) -> Breakdown:
    """The scorecard by ``by`` for the ``top`` segments with the most tickets this cycle
    plus one "other" segment pooling the tickets of all the others (its KPIs computed on
    those tickets, in both cycles), and the full scorecard of every segment.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> b = breakdown(q3, q3.load_previous(), by="channel", top=2)
    >>> b.shown["channel"].unique().tolist(), b.full["channel"].nunique()
    (['email', 'chat', 'other (2 segments)'], 4)
    """
    tickets = now.tickets
    why = registry.gap(now, registry.breakdown(by))
    if why is not None:
        empty = pd.DataFrame()
        return Breakdown(by, empty, empty, empty, top, missing=why)
    kpis = registry.for_clock(registry.BREAKDOWN_KPIS, now.config)
    if checks is None:
        checks = plausibility.checks(now, before)
    segments = nw.from_native(volume(tickets, by=by), eager_only=True).to_pandas()
    full = scorecard(now, before, by=by, checks=checks)
    full = full[full["note"] == ""].reset_index(drop=True)  # the cycle's scorecard says what is not available
    if len(segments) <= top:
        order = {k: i for i, k in enumerate(segments[by])}
        shown = full.sort_values(by, key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
        return Breakdown(by, shown, full, segments, top, kpis=kpis)
    result = Breakdown(by, full, full, segments, top, kpis=kpis)
    keep = segments[by].head(top).tolist()
    other = result.other
    shown = scorecard(pooled(now, by, keep, other), pooled(before, by, keep, other) if before is not None else None,
                      by=by, checks=checks)
    shown = shown[shown["note"] == ""]
    order = {k: i for i, k in enumerate([*keep, other])}
    result.shown = shown.sort_values(by, key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return result


def breakdowns(
    now: Cycle, before: Cycle | None = None, *, by: Sequence[str], top: int = 12,
    checks: pd.DataFrame | None = None,
) -> list[Breakdown]:
    """:func:`breakdown` for each column of ``by``, in that order (the plausibility checks
    computed once for all of them).

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> [b.by for b in breakdowns(q3, None, by=["channel", "team"], top=2)]
    ['channel', 'team']
    """
    if checks is None:
        checks = plausibility.checks(now, before)
    return [breakdown(now, before, by=column, top=top, checks=checks) for column in by]

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

    Parameters
    ----------
    by : str
        The segment column (``channel``, ``team``...).
    shown : pandas.DataFrame
        The scorecard of the segments shown: the ``top`` largest, then the pooled one.
    full : pandas.DataFrame
        The scorecard of every segment.
    segments : pandas.DataFrame
        Tickets per segment this cycle, ``[by, tickets, share]``, largest first.
    top : int
        How many segments are shown on their own.
    missing : str, default ""
        Why there is no breakdown; empty when there is one.
    kpis : list of str, optional
        The KPIs the breakdown's chart shows.

    Examples
    --------
    Five teams, the two largest shown: the other three are pooled.

    >>> segments = pd.DataFrame({"team": list("abcde"), "tickets": [50, 40, 5, 3, 2]})
    >>> b = Breakdown("team", pd.DataFrame(), pd.DataFrame(), segments, top=2)
    >>> b.pooled_count, b.other, b.csv_name
    (3, 'other (3 segments)', 'breakdown_team.csv')
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
        or without a breakdown.

        Parameters
        ----------
        folder : pathlib.Path or str or None
            The report folder (it must exist); ``None``: write nothing.

        Returns
        -------
        str or None
            The file name (relative to ``folder``), or ``None`` when nothing was written.

        Examples
        --------
        >>> import tempfile
        >>> full = pd.DataFrame({"channel": ["chat", "email"], "kpi": ["csat", "csat"]})
        >>> b = Breakdown("channel", full, full, pd.DataFrame(), top=12)
        >>> b.write_csv(tempfile.mkdtemp()), b.write_csv(None)
        ('breakdown_channel.csv', None)
        """
        if folder is None or self.missing:
            return None
        write_csv(self.full, Path(folder) / self.csv_name)
        return self.csv_name


def moved(card: pd.DataFrame, *, min_n: int) -> pd.DataFrame:
    """The rows of a scorecard whose KPI moved for real: the change is *improved* or
    *worsened* (its interval excludes 0) and the figure rests on at least ``min_n``
    (review.yml ``min_n``). Below ``min_n`` a figure is greyed "n too small" and never
    reported as moved, on the scorecard as in the breakdowns.

    Parameters
    ----------
    card : pandas.DataFrame
        A scorecard, with columns ``verdict`` and ``n``.
    min_n : int
        The smallest ``n`` a figure must rest on (review.yml ``min_n``).

    Returns
    -------
    pandas.DataFrame
        The rows of ``card`` that moved, in their order (``n`` missing counts as 0).

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
    when they were (a survey takes its ticket's segment; events are joined by ticket).

    Parameters
    ----------
    cycle : Cycle
        The cycle.
    by : str
        The segment column.
    keep : list
        The segments kept as they are.
    other : str
        The name given to every other segment.

    Returns
    -------
    Cycle
        A copy of ``cycle`` with the segments outside ``keep`` renamed ``other``.

    Examples
    --------
    The sample's 2026Q3 has 889 email, 613 chat, 509 web and 489 phone tickets: web and
    phone pool into 509 + 489 = 998 tickets.

    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> q3.tickets["channel"].value_counts().to_dict()
    {'email': 889, 'chat': 613, 'web': 509, 'phone': 489}
    >>> p = pooled(q3, "channel", ["email", "chat"], "other")
    >>> p.tickets["channel"].value_counts().to_dict()
    {'other': 998, 'email': 889, 'chat': 613}
    >>> q3.tickets["channel"].nunique()  # the cycle itself is not modified
    4
    """
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

    Parameters
    ----------
    now : Cycle
        The cycle under review.
    before : Cycle, optional
        The previous cycle, for the changes; ``None``: no comparison.
    by : str
        The segment column.
    top : int, default 12
        How many of the largest segments are shown on their own.
    checks : pandas.DataFrame, optional
        The plausibility checks of ``now`` (:func:`cxassess.plausibility.checks`);
        ``None``: computed here.

    Returns
    -------
    Breakdown
        The breakdown; its ``missing`` says why there is none (column or tickets absent,
        or no KPI available: what the breakdown's KPIs need).

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
    if full.empty:  # no KPI available: a note naming what the breakdown's KPIs need, not an empty table
        lacking = dict.fromkeys(x for k in kpis for x in registry.missing(now, registry.KPIS[k].needs))
        why = (f"not available: needs {', '.join(lacking)} for a KPI by `{by}`" if lacking
               else f"not available: no KPI can be computed by `{by}`")
        return Breakdown(by, full, full, segments, top, missing=why, kpis=kpis)
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

    Parameters
    ----------
    now : Cycle
        The cycle under review.
    before : Cycle, optional
        The previous cycle, for the changes; ``None``: no comparison.
    by : sequence of str
        The segment columns.
    top : int, default 12
        How many of the largest segments each breakdown shows on their own.
    checks : pandas.DataFrame, optional
        The plausibility checks of ``now``; ``None``: computed here, once.

    Returns
    -------
    list of Breakdown
        One breakdown per column of ``by``, in that order.

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

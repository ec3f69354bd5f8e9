"""One registry of facts: every KPI and every page section, and what each needs.

The scorecard, the plots, the notebooks and the docs read the KPIs' labels, units,
directions and inputs from here, nowhere else. A KPI or a section whose input is absent
from a cycle — the table, the column, a column that is empty in every row, or one with a
single value where variation is needed — is *not available*, with the input named and how
to add it, never computed as 0::

    >>> from cxassess.cycles import load_cycle
    >>> cycle = load_cycle("data/sample", "2026Q3")
    >>> KPIS["transfer_rate"].label, KPIS["transfer_rate"].higher_is_better
    ('Transfer rate', False)
    >>> gap(cycle, KPIS["transfer_rate"]) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import narwhals as nw

if TYPE_CHECKING:  # pragma: no cover
    from cxassess.config import ReviewConfig

__all__ = ["Need", "KPI", "Section", "KPIS", "SECTIONS", "gap", "missing", "kpi", "breakdown",
           "DERIVED_FROM", "unit", "kpi_ids", "BREAKDOWN_KPIS", "for_clock", "MIN_IMPORTANT",
           "min_important"]

Unit = Literal["share", "points", "hours", "score"]


@dataclass(frozen=True)
class Need:
    """One input: a table, a column of it, or a key of review.yml.

    Parameters
    ----------
    table : str
        A canonical table (``tickets``, ``events`` ...) or ``"review.yml"``.
    column : str, optional
        The column (or, for review.yml, the key path); ``None`` for the table itself.
        ``kind:<kind>`` asks for survey answers of one kind (``kind:csat``).
    nonempty : bool, default True
        A column that is empty in every row counts as absent.
    varies : bool, default False
        A column holding a single value carries no information (e.g. one team: no handoff
        between teams can be seen) and counts as absent.
    how : str, default ""
        How to add it, when the general advice does not fit.

    Examples
    --------
    >>> str(Need("tickets", "reopens")), str(Need("events"))
    ('tickets.reopens', 'events')
    """

    table: str
    column: str | None = None
    nonempty: bool = True
    varies: bool = False
    how: str = ""

    def __str__(self) -> str:
        """``table.column`` (or the table alone), as the notes name it."""
        return f"{self.table}.{self.column}" if self.column else self.table


@dataclass(frozen=True)
class KPI:
    """A KPI as a CX lead reads it.

    Parameters
    ----------
    id : str
        The id in every KPI table (``kpi`` column) and in review.yml ``targets``.
    label : str
        The name on the pages.
    unit : {"share", "points", "hours", "score"}
        ``share`` (shown as %, changes in points), ``points`` (NPS), ``hours``, ``score``.
    higher_is_better : bool
        Direction of an improvement.
    needs : tuple of Need
        Every input it cannot do without (all of them).
    family : str
        The calculator module (``kpis.<family>``).
    definition : str
        One sentence (DESIGN.md §5 in plain words).
    clock : {"business", "calendar"}, optional
        ``business`` when it is counted on the business clock of review.yml.
    min_important : float, optional
        The minimum important difference: the smallest change (in the KPI's unit: a share
        for shares, points for NPS, hours for times) a CX lead would act on. A real change
        (its interval excludes 0) smaller than this is "real but small", not "improved" or
        "worsened". review.yml ``kpis: min_important_difference`` overrides it per KPI.

    Examples
    --------
    >>> KPIS["transfer_rate"].higher_is_better, [str(n) for n in KPIS["transfer_rate"].needs]
    (False, ['tickets.transfers'])
    >>> KPIS["csat"].min_important  # 3 percentage points
    0.03
    """

    id: str
    label: str
    unit: Unit
    higher_is_better: bool
    needs: tuple[Need, ...]
    family: str
    definition: str
    clock: Literal["business", "calendar"] | None = None
    min_important: float | None = None


@dataclass(frozen=True)
class Section:
    """A section of a report page and the inputs it needs.

    Parameters
    ----------
    id : str
        ``<page>.<section>``, e.g. ``stages.handoffs``.
    page : str
        The notebook of the page, without ``.ipynb``.
    title : str
        The section's heading.
    needs : tuple of Need, default ()
        Every input it cannot do without.

    Examples
    --------
    >>> section = Section("overview.volume", "05_cycle_overview", "Volumes", (Need("tickets"),))
    >>> section.page, [str(n) for n in section.needs]
    ('05_cycle_overview', ['tickets'])
    """

    id: str
    page: str
    title: str
    needs: tuple[Need, ...] = field(default=())


_T, _S, _E, _C = "tickets", "surveys", "events", "customers"
_RESOLVED = Need(_T, "resolved_at", how="export the resolution time, or name the resolution "
                 "activities in review.yml process: resolution_activities")


def _speed(prefix: str, label: str, end: str, definition: str) -> list[KPI]:
    end_need = Need(_T, end)
    out = []
    for clock, suffix, unit_label in (("calendar", "_hours", "h"), ("business", "_business_hours", "business h")):
        needs = (end_need,) if clock == "calendar" else (
            end_need, Need("review.yml", "calendar.working_hours"))
        out.append(KPI(f"{prefix}{suffix}", f"{label} ({unit_label})", "hours", False, needs, "speed",
                       definition, clock))
    return out


_KPIS: list[KPI] = [
    KPI("csat", "CSAT (top-box share)", "share", True, (Need(_S, "score"), Need(_S, "kind:csat")),
        "satisfaction", "answers in the top box of their scale (5-point: 4-5) ÷ answers"),
    KPI("nps", "NPS (points)", "points", True, (Need(_S, "score"), Need(_S, "kind:nps")),
        "satisfaction", "% promoters (9-10) − % detractors (0-6) on the 0-10 scale"),
    KPI("ces_agree", "CES: agree it was easy (5-7)", "share", True, (Need(_S, "score"), Need(_S, "kind:ces")),
        "satisfaction", "answers 5-7 on the 7-point 'made it easy' scale ÷ answers"),
    KPI("ces_mean", "CES: mean score (1-7)", "score", True, (Need(_S, "score"), Need(_S, "kind:ces")),
        "satisfaction", "mean answer on the 7-point 'made it easy' scale"),
    *_speed("frt", "First response time, median", "first_response_at",
            "created → first agent reply, Kaplan-Meier median with the tickets still waiting censored"),
    *_speed("ttr", "Time to resolution, median", "resolved_at",
            "created → resolved, Kaplan-Meier median with open tickets censored"),
    *_speed("ttr_first", "Time to first resolution, median", "first_resolved_at",
            "created → first resolved, Kaplan-Meier median with open tickets censored"),
    KPI("sla", "SLA attainment", "share", True, (Need(_T, "created_at"), Need("review.yml", "sla")), "sla",
        "achieved ÷ (achieved + breached), per review.yml policy"),
    KPI("fcr", "First-contact resolution", "share", True,
        (_RESOLVED, Need(_T, "reopens"), Need(_T, "transfers")), "resolution",
        "resolved with no reopen and no transfer ÷ resolved"),
    KPI("one_touch", "One-touch resolution", "share", True, (_RESOLVED, Need(_T, "agent_replies")), "resolution",
        "resolved with at most one agent reply ÷ resolved"),
    KPI("reopen_rate", "Reopen rate", "share", False, (_RESOLVED, Need(_T, "reopens")), "resolution",
        "resolved tickets reopened ÷ resolved"),
    KPI("transfer_rate", "Transfer rate", "share", False, (Need(_T, "transfers"),), "resolution",
        "tickets with at least one transfer ÷ tickets"),
    KPI("escalation_rate", "Escalation rate (reaches a specialist)", "share", False,
        (Need(_T, "escalated", how="export an escalated flag, or add events with a stage and mark a "
              "stage specialist: true in review.yml process: stages"),), "resolution",
        "tickets reaching a specialist stage ÷ tickets"),
    KPI("open_share", "Open at cycle end", "share", False, (_RESOLVED,), "resolution",
        "tickets not resolved at the cycle's end ÷ tickets"),
    KPI("backlog_age_hours", "Backlog age, median (h)", "hours", False, (_RESOLVED,), "volume",
        "median age of the tickets open at the cycle's end", "calendar"),
    KPI("backlog_age_business_hours", "Backlog age, median (business h)", "hours", False,
        (_RESOLVED, Need("review.yml", "calendar.working_hours")), "volume",
        "median age of the tickets open at the cycle's end", "business"),
    KPI("retention", "Customer retention", "share", True, (Need(_C, "active_from"), Need(_C, "active_to")),
        "customers", "(customers at the end − new) ÷ customers at the start"),
    KPI("churn", "Customer churn", "share", False, (Need(_C, "active_from"), Need(_C, "active_to")),
        "customers", "customers lost in the cycle ÷ customers at the start"),
]

#: The minimum important difference of each KPI, in its unit (see :class:`KPI`): shares in
#: fractions (0.03 = 3 percentage points), NPS in points, CES in scale points, times in hours.
#: A change smaller than this is real but too small to act on.
MIN_IMPORTANT: dict[str, float] = {
    "csat": 0.03, "nps": 5.0, "ces_agree": 0.03, "ces_mean": 0.2,
    "frt_hours": 0.25, "frt_business_hours": 0.25,
    "ttr_hours": 1.0, "ttr_business_hours": 1.0, "ttr_first_hours": 1.0, "ttr_first_business_hours": 1.0,
    "sla": 0.03, "fcr": 0.03, "one_touch": 0.03, "reopen_rate": 0.02, "transfer_rate": 0.03,
    "escalation_rate": 0.03, "open_share": 0.02, "backlog_age_hours": 4.0, "backlog_age_business_hours": 4.0,
    "retention": 0.01, "churn": 0.01,
}

#: Every KPI of the package by id, in the order of the scorecard.
KPIS: dict[str, KPI] = {k.id: replace(k, min_important=MIN_IMPORTANT.get(k.id)) for k in _KPIS}

_PROCESS = Need("review.yml", "process")
#: Every section of the report pages that needs more than its page's table.
SECTIONS: dict[str, Section] = {s.id: s for s in [
    Section("overview.volume", "05_cycle_overview", "Volumes", (Need(_T),)),
    Section("overview.volume_by_channel", "05_cycle_overview", "Volumes by channel", (Need(_T, "channel"),)),
    Section("overview.stages", "05_cycle_overview", "Volumes by stage", (Need(_E), _PROCESS)),
    Section("stages.flow", "10_process_stages", "The flow", (Need(_E), _PROCESS)),
    Section("stages.assessment_csat", "10_process_stages", "Stage assessment: effect on CSAT",
            (Need(_E), _PROCESS, Need(_S, "score"), Need(_S, "kind:csat"))),
    Section("stages.handoffs", "10_process_stages", "Handoffs between teams",
            (Need(_E), _PROCESS, Need(_E, "team", varies=True))),
    Section("stages.conformance", "10_process_stages", "Conformance to the designed flow",
            (Need(_E), Need("review.yml", "process.transitions"))),
    Section("stages.satisfaction_by_path", "10_process_stages", "Satisfaction by path",
            (Need(_E), _PROCESS, Need(_S, "score"), Need(_S, "kind:csat"))),
    Section("scorecard.trends", "20_kpi_scorecard", "Trends across the cycles", ()),
]}

#: Where each column of a ticket table derived from the event log comes from.
DERIVED_FROM: dict[str, str] = {
    "first_response_at": "events of the first-response activities (review.yml process: first_response_activities)",
    "resolved_at": "events of the resolution activities (review.yml process: resolution_activities)",
    "first_resolved_at": "events of the resolution activities (review.yml process: resolution_activities)",
    "closed_at": "events of the closing activities (review.yml process: closing_activities)",
    "reopens": "events of the resolution activities (review.yml process: resolution_activities)",
    "transfers": "events.team with at least two teams (a transfer is a change of team)",
    "agent_replies": "events of the agent-reply activities (review.yml process: agent_reply_activities)",
    "escalated": "events.stage and a stage marked specialist: true in review.yml process: stages",
}

_CONFIG_KEYS: dict[str, Callable[[ReviewConfig], bool]] = {
    "process": lambda c: c.process is not None,
    "process.transitions": lambda c: c.process is not None and bool(c.process.transitions),
    "calendar.working_hours": lambda c: bool(c.calendar.get("working_hours")),
    "sla": lambda c: bool(c.sla),
}


def kpi(kpi_id: str) -> KPI:
    """The registered KPI ``kpi_id``; an unknown id gets a KPI labelled with the id itself.

    Parameters
    ----------
    kpi_id : str
        A KPI id, as in the ``kpi`` column of a KPI table.

    Returns
    -------
    KPI
        The registered KPI, or a KPI of unit ``score`` with no needs for an unknown id.

    Examples
    --------
    >>> kpi("csat").unit, kpi("made_up").label
    ('share', 'made_up')
    """
    return KPIS.get(kpi_id) or KPI(kpi_id, kpi_id, "score", True, (), "", "")


def min_important(kpi_id: str, overrides: Mapping[str, float] | None = None) -> float:
    """The minimum important difference of a KPI: review.yml's override, else the registry's.

    Parameters
    ----------
    kpi_id : str
        A KPI id.
    overrides : mapping of str to float, optional
        review.yml ``kpis: min_important_difference`` (KPI id -> difference).

    Returns
    -------
    float
        The difference in the KPI's unit; 0.0 when none is known (every real change counts).

    Examples
    --------
    >>> min_important("csat"), min_important("csat", {"csat": 0.05}), min_important("made_up")
    (0.03, 0.05, 0.0)
    """
    if overrides and kpi_id in overrides:
        return float(overrides[kpi_id])
    return float(kpi(kpi_id).min_important or 0.0)


def unit(kpi_id: str) -> Unit:
    """The unit of a KPI id (``share``, ``points``, ``hours``, ``score``).

    Parameters
    ----------
    kpi_id : str
        A KPI id; an unknown id is a ``score``.

    Returns
    -------
    str
        The unit.

    Examples
    --------
    >>> unit("nps"), unit("ttr_hours"), unit("made_up")
    ('points', 'hours', 'score')
    """
    return kpi(kpi_id).unit


def kpi_ids(*, unit: Unit | None = None, clock: str | None = None) -> list[str]:
    """Registered KPI ids, optionally of one unit or one clock.

    Parameters
    ----------
    unit : {"share", "points", "hours", "score"}, optional
        Only the KPIs of this unit.
    clock : {"business", "calendar"}, optional
        Only the KPIs counted on this clock.

    Returns
    -------
    list of str
        The ids, in the order of the scorecard.

    Examples
    --------
    >>> kpi_ids(clock="business")[:2]
    ['frt_business_hours', 'ttr_business_hours']
    """
    return [k.id for k in KPIS.values() if (unit is None or k.unit == unit)
            and (clock is None or k.clock == clock)]


#: The KPIs a breakdown chart shows, one panel each; both clocks of the resolution time
#: are listed and :func:`for_clock` keeps the one review.yml uses.
BREAKDOWN_KPIS = ("csat", "fcr", "transfer_rate", "reopen_rate", "ttr_hours", "ttr_business_hours")


def for_clock(ids: Sequence[str], config: ReviewConfig) -> list[str]:
    """The KPI ids of ``ids`` on the clock review.yml uses: business hours when it has
    ``calendar: working_hours``, calendar hours otherwise; ids without a clock are kept.

    Parameters
    ----------
    ids : sequence of str
        KPI ids of the registry.
    config : ReviewConfig
        The dataset's review.yml.

    Returns
    -------
    list of str
        The ids kept, in their order.

    Examples
    --------
    >>> from cxassess.config import load_config
    >>> for_clock(["csat", "ttr_hours", "ttr_business_hours"], load_config("data/sample"))
    ['csat', 'ttr_business_hours']
    """
    wanted = "business" if config.calendar.get("working_hours") else "calendar"
    return [k for k in ids if kpi(k).clock in (None, wanted)]


def breakdown(column: str, table: str = "tickets") -> Section:
    """The section breaking the scorecard down by ``column``: it needs the column with at
    least two values.

    Parameters
    ----------
    column : str
        The column to break down by (``channel``, ``team``).
    table : str, default "tickets"
        The table holding it.

    Returns
    -------
    Section
        The section ``scorecard.by_<column>`` of the scorecard page.

    Examples
    --------
    >>> section = breakdown("team")
    >>> section.id, section.needs[0].varies
    ('scorecard.by_team', True)
    """
    return Section(f"scorecard.by_{column}", "20_kpi_scorecard", f"By {column}", (Need(table, column, varies=True),))


class _Table:
    """What :func:`missing` asks of a table: its columns, rows, empty cells and values.

    A frame in memory answers at once; a lazy frame (DuckDB, Spark, a Polars LazyFrame)
    answers by small queries to its engine: one for the rows and the empty cells of every
    column, one per column whose values are looked at, each asked once per cycle
    (``remember``: :meth:`cxassess.cycles.Cycle.once`).
    """

    def __init__(self, native: Any, remember: Callable[[Any, Callable[[], Any]], Any] | None = None) -> None:
        self.df = nw.from_native(native)
        self.lazy = isinstance(self.df, nw.LazyFrame)
        self.columns = self.df.collect_schema().names()
        self._key = id(native)
        self._remember = remember or (lambda key, compute: compute())

    def _ask(self, question: str, compute: Callable[[], Any]) -> Any:
        return self._remember(("registry", self._key, question), compute)

    def _profile(self) -> dict[str, int]:
        def compute() -> dict[str, int]:
            exprs = [nw.len().alias("__rows__"), *[nw.col(c).null_count().alias(c) for c in self.columns]]
            row = self.df.select(*exprs).collect(backend="pandas").to_native().iloc[0]
            return {k: int(v) for k, v in row.items()}
        return self._ask("profile", compute)

    def rows(self) -> int:
        return self._profile()["__rows__"] if self.lazy else len(self.df)

    def empty(self, column: str) -> bool:
        """Whether ``column`` is empty in every row (of a table with rows)."""
        if self.lazy:
            profile = self._profile()
            return profile["__rows__"] > 0 and profile[column] == profile["__rows__"]
        return len(self.df) > 0 and self.df[column].null_count() == len(self.df)

    def values(self, column: str, at_most: int) -> list:
        """Up to ``at_most`` different values of ``column`` (missing ones left out)."""
        if not self.lazy:
            return self.df[column].drop_nulls().unique().to_list()[:at_most]
        picked = self.df.select(column).drop_nulls().unique().head(at_most)
        return self._ask(("values", column, at_most),
                         lambda: picked.collect(backend="pandas")[column].to_list())

    def holds(self, column: str, value: Any) -> bool:
        """Whether some row of ``column`` reads ``value``."""
        if not self.lazy:
            return bool((self.df[column] == value).any())
        found = self.df.filter(nw.col(column) == value).select(column).head(1)
        return self._ask(("holds", column, value), lambda: len(found.collect(backend="pandas")) > 0)


class _StoredTable(_Table):
    """What :func:`missing` asks of a table stored as Parquet and not read yet, answered
    without reading it: columns and rows from the file's metadata, empty cells from its
    statistics (else from that column alone), values from that column alone.
    """

    def __init__(self, path: Any, remember: Callable[[Any, Callable[[], Any]], Any] | None = None) -> None:
        import pyarrow.parquet as pq

        self.file = pq.ParquetFile(path)
        self.columns = self.file.schema_arrow.names
        self._key = ("parquet", str(path))
        self._remember = remember or (lambda key, compute: compute())

    def _column(self, column: str) -> Any:
        return self.file.read(columns=[column]).column(0)

    def rows(self) -> int:
        return int(self.file.metadata.num_rows)

    def empty(self, column: str) -> bool:
        def nulls() -> int:
            meta = self.file.metadata
            if column in meta.schema.names:
                at = meta.schema.names.index(column)
                stats = [meta.row_group(r).column(at).statistics for r in range(meta.num_row_groups)]
                if all(s is not None and s.has_null_count for s in stats):
                    return sum(s.null_count for s in stats)
            return self._column(column).null_count  # no statistics written: the column alone is read
        return self.rows() > 0 and self._ask(("nulls", column), nulls) == self.rows()

    def values(self, column: str, at_most: int) -> list:
        def compute() -> list:
            import pyarrow.compute as pc

            return pc.unique(self._column(column).drop_null()).to_pylist()[:at_most]
        return self._ask(("values", column, at_most), compute)

    def holds(self, column: str, value: Any) -> bool:
        def compute() -> bool:
            import pyarrow.compute as pc

            return bool(pc.any(pc.equal(self._column(column), value)).as_py())
        return self._ask(("holds", column, value), compute)


def _unread(tables: Mapping[str, Any], name: str) -> Any:
    """The Parquet file of a stored table not read yet (:meth:`cxassess.cycles.Tables.unread`),
    else ``None``.
    """
    unread = getattr(tables, "unread", None)
    return unread(name) if unread is not None else None


def _survey_kind(surveys: _Table, kind: str, config: ReviewConfig | None) -> str | None:
    """Why answers of ``kind`` cannot be told apart, or ``None`` when they can."""
    scales = config.survey_scales if config is not None else {}
    if "kind" in surveys.columns:
        if surveys.empty("kind"):
            return "`surveys.kind` (empty in every row)"
        if not surveys.holds("kind", kind):
            return f"`surveys.kind` {kind!r} (no survey of this kind)"
        no_scale = "scale" not in surveys.columns or surveys.empty("scale")
        if no_scale and kind not in scales:
            return f"`surveys.scale`, or review.yml surveys: scales: {{{kind}: <points>}}"
        return None
    if set(scales) == {kind} or (not scales and kind == "csat" and "scale" in surveys.columns):
        return None
    return "`surveys.kind` (no such column; or review.yml surveys: scales naming this survey kind alone)"


def missing(cycle: Any, needs: Iterable[Need]) -> list[str]:
    """The needs of ``needs`` that ``cycle`` does not meet, each in words.

    ``cycle`` is a :class:`cxassess.cycles.Cycle` (anything with ``tables``, ``config`` and
    ``derived``). Tables may be pandas or Polars, or lazy frames of an engine (then a few
    small queries answer, once per cycle).

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables, settings and derived tables.
    needs : iterable of Need
        The inputs to look for.

    Returns
    -------
    list of str
        One phrase per need not met (empty when all are met); a need whose table is absent is
        named once for the table.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(tables={"tickets": pd.DataFrame({"transfers": [None, None]})},
    ...                     config=None, derived=())
    >>> missing(c, [Need("tickets", "transfers"), Need("surveys")])
    ['`tickets.transfers` (empty in every row)', '`surveys` (no such table in this cycle)']
    """
    config: ReviewConfig | None = getattr(cycle, "config", None)
    tables: Mapping[str, Any] = getattr(cycle, "tables", {}) or {}
    derived = set(getattr(cycle, "derived", ()) or ())
    out: list[str] = []
    absent: set[str] = set()
    for need in needs:
        if need.table in absent:
            continue
        if need.table == "review.yml":
            check = _CONFIG_KEYS.get(str(need.column))
            if config is None or (check is not None and not check(config)):
                out.append(f"`review.yml {need.column}`")
            continue
        file = _unread(tables, need.table) if need.table in tables else None  # stored, not read: not read for this
        if file is None and tables.get(need.table) is None:
            out.append(f"`{need.table}` (no such table in this cycle)")
            absent.add(need.table)
            continue
        if need.column is None:
            continue
        remember = getattr(cycle, "once", None)
        df = _StoredTable(file, remember) if file is not None else _Table(tables[need.table], remember)
        if need.column.startswith("kind:"):
            problem = _survey_kind(df, need.column.split(":", 1)[1], config) if df.rows() else "answered surveys"
            if problem:
                out.append(problem)
            continue
        where = f"`{need.table}.{need.column}`"
        if need.table == "tickets" and "tickets" in derived:
            source = DERIVED_FROM.get(need.column, f"`events.{need.column}`")
            where = f"`tickets.{need.column}`, derived from {source}"
        if need.column not in df.columns:
            out.append(f"{where} (no such column)")
        elif need.nonempty and df.empty(need.column):
            out.append(f"{where} (empty in every row)")
        elif need.varies and len(df.values(need.column, 2)) < 2:
            out.append(f"{where} with at least two different values (one value in every row)")
    return out


def gap(cycle: Any, item: KPI | Section | Iterable[Need]) -> str | None:
    """``None`` when ``cycle`` has what ``item`` needs, else the sentence a page shows:
    ``not available: needs `tickets.resolved_at` (empty in every row)``.

    Parameters
    ----------
    cycle : Cycle
        The cycle's tables, settings and derived tables.
    item : KPI, Section or iterable of Need
        What to look for.

    Returns
    -------
    str or None
        The sentence, or ``None`` when nothing is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(tables={"tickets": pd.DataFrame({"ticket_id": ["A"]})}, config=None, derived=())
    >>> gap(c, KPIS["reopen_rate"])
    'not available: needs `tickets.resolved_at` (no such column), `tickets.reopens` (no such column)'
    """
    needs = item.needs if isinstance(item, KPI | Section) else tuple(item)
    lacking = missing(cycle, needs)
    if not lacking:
        return None
    return "not available: needs " + ", ".join(lacking)


def how_to_add(item: KPI | Section, cycle: Any = None) -> str:
    """Plain advice on adding what ``item`` needs (only what ``cycle`` lacks, when given):
    put the table's file in the cycle folder, add or map the column, or set review.yml.

    Examples
    --------
    >>> how_to_add(SECTIONS["stages.conformance"])
    'Put an events file (events.csv or .parquet) in the cycle folder (data/README.md lists its columns). Set process.transitions in review.yml.'
    """
    needs = [n for n in item.needs if cycle is None or missing(cycle, [n])]
    tips: list[str] = []
    for need in needs:
        if need.how:
            tip = need.how[0].upper() + need.how[1:] + "."
        elif need.table == "review.yml":
            tip = f"Set {need.column} in review.yml."
        elif need.column is None or (cycle is not None and need.table not in (getattr(cycle, "tables", {}) or {})):
            article = "an" if need.table[0] in "aeiou" else "a"
            tip = (f"Put {article} {need.table} file ({need.table}.csv or .parquet) in the cycle folder "
                   "(data/README.md lists its columns).")
        else:
            tip = (f"Add the column {need.column} to the {need.table} export, or map your column name in "
                   f"review.yml under columns: {need.table}: {{{need.column}: <your column>}}.")
        if tip not in tips:
            tips.append(tip)
    return " ".join(tips)

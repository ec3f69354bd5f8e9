"""One visual language for every page of the review.

Figures are matplotlib/seaborn, returned to the caller (the notebook shows them inline);
tables of KPIs are pandas Stylers that grey out figures whose n is too small.
"""

from __future__ import annotations

import html
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from pandas.io.formats.style import Styler

from cxassess import registry
from cxassess.export import md_text
from cxassess.kpis.breakdown import moved
from cxassess.kpis.scorecard import LABELS, label
from cxassess.schema import TABLES

__all__ = [
    "breakdown_sections",
    "cycle_summary",
    "use_style", "weekly_volume", "weekly_counts", "stage_funnel", "kpi_table", "table", "quality_lights",
    "quality_failures", "quality_comparison", "quality_trend", "scorecard_table", "kpi_trends",
    "kpi_breakdown", "breakdown_section", "what_moved", "flow_chart", "satisfaction_by_path", "stage_table",
    "assessment_table", "path_table", "md_text", "styled", "note", "gap_note", "page_heading", "share_sentence", "plausibility_table",
    "kpi_definitions", "PERCENT_KPIS", "VERDICT_COLOURS",
]

#: KPIs whose value is a share (shown as %), from the registry; hours end in ``_hours``.
PERCENT_KPIS = set(registry.kpi_ids(unit="share"))

#: Colours of verdicts and target statuses.
VERDICT_COLOURS = {"improved": "#2e7d32", "met": "#2e7d32", "worsened": "#c62828", "missed": "#c62828",
                   "within noise": "#666666", "unclear": "#b26a00"}
PALETTE = "colorblind"


def use_style() -> None:
    """Apply the report's seaborn theme (call once at the top of a notebook).

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["figure.dpi"], plt.rcParams["axes.titleweight"]
    (100.0, 'bold')
    """
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "figure.figsize": (9, 4), "axes.titleweight": "bold"})


def styled(df: pd.DataFrame, formats: dict[str, str] | None = None, *, na_rep: str | None = None) -> Styler:
    """A pandas Styler of ``df`` whose every cell and header label is HTML-escaped.

    Every table of the report starts here, so a value from the data (a team called
    ``<script>...``) is shown as text and never becomes markup. Give the number formats
    here: a later ``Styler.format`` call would replace the escaping formatter of every
    cell it covers.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    formats : dict of str to str, optional
        Format string per column, e.g. ``{"n": "{:,}"}``.
    na_rep : str, optional
        What a missing value shows; ``None``: pandas' default.

    Returns
    -------
    pandas.io.formats.style.Styler
        The escaped table.

    Examples
    --------
    >>> html_out = styled(pd.DataFrame({"<b>team</b>": ["<script>x</script>"]})).to_html()
    >>> "<script>" in html_out, "&lt;script&gt;x&lt;/script&gt;" in html_out, "&lt;b&gt;team" in html_out
    (False, True, True)
    >>> out = styled(pd.DataFrame({"n": [1234], "team": ["<i>"]}), {"n": "{:,}"}).to_html()
    >>> "1,234" in out, "&lt;i&gt;" in out, "<i>" in out
    (True, True, False)
    """
    return (Styler(df).format(formats or {}, na_rep=na_rep, escape="html")
            .format_index(escape="html", axis=0).format_index(escape="html", axis=1))


def note(text: str, *, lead: str = "") -> Markdown:
    """A sentence for a page (e.g. "not available: needs ..."), escaped, with a bold lead;
    parts between backticks are shown as code.

    Parameters
    ----------
    text : str
        The sentence; parts between backticks become code.
    lead : str, default ""
        A bold lead before the sentence (e.g. the section's title); empty: none.

    Returns
    -------
    IPython.display.Markdown
        The paragraph as HTML.

    Examples
    --------
    >>> note("not available: needs `tickets.team` (no such column)", lead="By <team>").data
    '<p><strong>By &lt;team&gt;:</strong> not available: needs <code>tickets.team</code> (no such column)</p>'
    """
    parts = str(text).split("`")
    body = "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))
    head = f"<strong>{html.escape(lead)}:</strong> " if lead else ""
    return Markdown(f"<p>{head}{body}</p>")


def page_heading(cycle: object, before: object | None = None, *, events: bool = False) -> Markdown:
    """The line under a page's title: dataset title, cycle, the cycle compared with (and,
    with ``events``, the tickets and events of the log), every value escaped.

    Parameters
    ----------
    cycle : Cycle
        The cycle of the page.
    before : Cycle, optional
        The cycle compared with; ``None``: no previous cycle.
    events : bool, default False
        Also state the tickets and events of the cycle's event log.

    Returns
    -------
    IPython.display.Markdown
        The line.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(config=SimpleNamespace(title="<Desk>"), label="2026Q3")
    >>> page_heading(c, None).data
    '**&lt;Desk&gt;**, cycle **2026Q3** compared with **no previous cycle**.'
    """
    compared = md_text(before.label) if before is not None else "no previous cycle"
    counts = ""
    if events and getattr(cycle, "events", None) is not None:
        log = cycle.events
        counts = f" ({log['ticket_id'].nunique():,} tickets, {len(log):,} events)"
    return Markdown(f"**{md_text(cycle.config.title)}**, cycle **{md_text(cycle.label)}**{counts} "
                    f"compared with **{compared}**.")


def cycle_summary(cycle: object) -> Markdown:
    r"""The cycle at a glance: dataset, window, tables read (rows, file) and tables absent,
    every value from review.yml or a file name escaped.

    Parameters
    ----------
    cycle : Cycle
        The cycle.

    Returns
    -------
    IPython.display.Markdown
        The dataset and window, then a table of the tables read.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> print(cycle_summary(load_cycle("data/sample", "2026Q3")).data.splitlines()[0])
    **Sample support desk \(synthetic, seeded\)**, cycle **2026Q3**: 2026-07-01 to 2026-09-30 (Europe/Berlin).
    """
    fmt = "%Y-%m-%d"
    last_day = (cycle.end - pd.Timedelta(days=1)).strftime(fmt)
    lines = [
        f"**{md_text(cycle.config.title)}**, cycle **{md_text(cycle.label)}**: {cycle.start.strftime(fmt)} to "
        f"{last_day} ({md_text(cycle.config.timezone)}).",
        "",
        "| table | rows | source |",
        "|---|---:|---|",
    ]
    for table in TABLES:
        if table in cycle.tables:
            source = "derived from the event log" if table in cycle.derived else md_text(cycle.files[table].name)
            lines.append(f"| {table} | {len(cycle.tables[table]):,} | {source} |")
    absent = cycle.missing(*TABLES)
    if absent:
        lines += ["", f"Not in this cycle: {', '.join(absent)}. Sections that need them say so."]
    return Markdown("\n".join(lines))


def share_sentence(share: float, text: str) -> Markdown:
    """A share in bold followed by its sentence: ``**12.3%** of tickets ...`` (text escaped).

    Parameters
    ----------
    share : float
        The share, between 0 and 1.
    text : str
        The sentence that follows it.

    Returns
    -------
    IPython.display.Markdown
        The sentence.

    Examples
    --------
    >>> share_sentence(0.1234, "of tickets followed the designed flow.").data
    '**12.3%** of tickets followed the designed flow.'
    """
    return Markdown(f"**{share:.1%}** {md_text(text)}")


def gap_note(cycle: object, section: str | registry.Section) -> Markdown | None:
    """The "not available: needs ..." note of a page section (see :data:`cxassess.registry.SECTIONS`),
    or ``None`` when the cycle has what it needs.

    Parameters
    ----------
    cycle : Cycle
        The cycle.
    section : str or cxassess.registry.Section
        The section, or its id (``"overview.volume_by_channel"``).

    Returns
    -------
    IPython.display.Markdown or None
        The note, with how to add what is missing; ``None`` when nothing is.

    Examples
    --------
    >>> from cxassess.cycles import load_cycle
    >>> q3 = load_cycle("data/sample", "2026Q3")
    >>> gap_note(q3, "overview.volume_by_channel") is None
    True
    >>> without = q3.with_tables(tickets=q3.tickets.drop(columns="channel"))
    >>> gap_note(without, "overview.volume_by_channel").data.split(". ")[0]
    '<p><strong>Volumes by channel:</strong> not available: needs <code>tickets.channel</code> (no such column)'
    """
    item = registry.SECTIONS[section] if isinstance(section, str) else section
    missing = registry.gap(cycle, item)
    return None if missing is None else note(f"{missing}. {registry.how_to_add(item, cycle)}", lead=item.title)


def plausibility_table(checks: pd.DataFrame) -> Styler:
    """The plausibility checks of a cycle: status, figure against its threshold, finding, fix.

    Parameters
    ----------
    checks : pandas.DataFrame
        :func:`cxassess.plausibility.checks`: ``check, cycle, status, figure, threshold,
        finding, fix``.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table; shares shown as percentages.

    Examples
    --------
    >>> checks = pd.DataFrame({"check": ["outside_hours"], "cycle": ["2026Q3"], "status": ["warning"],
    ...                        "figure": [0.12], "threshold": [0.05], "finding": ["12% of events at night"],
    ...                        "fix": ["check the time zone"]})
    >>> plausibility_table(checks).data[["check", "figure", "limit"]].values.tolist()
    [['activity inside working hours', '12%', '5%']]
    """
    names = {"outside_hours": "activity inside working hours", "instant_response": "first response after creation",
             "after_resolution": "rework after resolution", "previous_maturity": "previous cycle complete"}
    shown = pd.DataFrame({
        "check": checks["check"].map(lambda c: names.get(c, c)),
        "cycle": checks["cycle"],
        "status": checks["status"],
        "figure": [f"{v:.0%}" if pd.notna(v) and v <= 1 else ("–" if pd.isna(v) else f"{v:,.0f}")
                   for v in checks["figure"]],
        "limit": [f"{v:.0%}" if pd.notna(v) and v <= 1 else ("–" if pd.isna(v) else f"{v:,.0f}")
                  for v in checks["threshold"]],
        "finding": checks["finding"],
        "how to fix it": checks["fix"],
    })
    colours = {"warning": "#b26a00", "ok": "#2e7d32", "not applicable": "#666666"}

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {colours.get(v, '')}; font-weight: bold" for v in column]

    return (styled(shown.reset_index(drop=True)).apply(colour, subset=["status"], axis=0)
            .set_properties(subset=["check", "finding", "how to fix it"], **{"text-align": "left"})
            .hide(axis="index"))


def kpi_definitions() -> Styler:
    """Every KPI of the registry: label, unit, direction, definition and what it needs.

    Returns
    -------
    pandas.io.formats.style.Styler
        One row per KPI of :data:`cxassess.registry.KPIS`.

    Examples
    --------
    >>> shown = kpi_definitions().data
    >>> shown.columns.tolist(), "csat" in set(shown["id"])
    (['KPI', 'id', 'unit', 'better', 'definition', 'needs'], True)
    """
    rows = [{"KPI": k.label, "id": k.id, "unit": k.unit, "better": "higher" if k.higher_is_better else "lower",
             "definition": k.definition, "needs": ", ".join(str(n).replace("kind:", "kind = ") for n in k.needs)}
            for k in registry.KPIS.values()]
    return (styled(pd.DataFrame(rows)).set_properties(**{"text-align": "left"}).hide(axis="index"))


def _done(fig: Figure) -> Figure:
    """Lay out and detach a figure from pyplot, so that a notebook shows it once: when
    the caller displays it, not again when the cell ends.
    """
    fig.tight_layout()
    plt.close(fig)
    return fig


def table(df: pd.DataFrame, *, percent: tuple[str, ...] = ("share",)) -> Styler:
    """A plain table for a report page: no index, shares as percentages, thousands separated.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    percent : tuple of str, default ("share",)
        Columns shown as percentages.

    Returns
    -------
    pandas.io.formats.style.Styler
        The escaped table.

    Examples
    --------
    >>> out = table(pd.DataFrame({"team": ["a"], "tickets": [1234], "share": [0.25]})).to_html()
    >>> "1,234" in out, "25.0%" in out
    (True, True)
    """
    formats = {c: "{:,.1f}" for c in df.columns if pd.api.types.is_float_dtype(df[c])}
    formats.update({c: "{:.1%}" for c in percent if c in df.columns})
    formats.update({c: "{:,}" for c in df.columns if pd.api.types.is_integer_dtype(df[c])})
    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object]
    return (styled(df.reset_index(drop=True), formats).set_properties(subset=text, **{"text-align": "left"})
            .hide(axis="index"))


def weekly_counts(tickets: pd.DataFrame, *, by: str | None = "channel", start: pd.Timestamp | None = None,
                  end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Tickets created per week (weeks start on Monday, local time) and ``by``: one row
    per week from the week of ``start`` to the week before ``end`` (default: the first
    and last ticket), weeks without tickets as 0; ``by=None``: one ``tickets`` column.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets, with ``created_at`` (and ``by``).
    by : str or None, default "channel"
        The column to split by; ``None``: no split.
    start : pandas.Timestamp, optional
        The first instant (the cycle's start); default the first ticket.
    end : pandas.Timestamp, optional
        The end (the cycle's end, excluded); default the last ticket.

    Returns
    -------
    pandas.DataFrame
        Weeks (their Mondays) as rows, the values of ``by`` as columns.

    Examples
    --------
    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01", "2026-07-15"]).tz_localize("UTC"),
    ...                   "channel": ["chat", "email"]})
    >>> weekly_counts(t).to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {Timestamp('2026-06-29 00:00:00'): {'chat': 1, 'email': 0},
     Timestamp('2026-07-06 00:00:00'): {'chat': 0, 'email': 0},
     Timestamp('2026-07-13 00:00:00'): {'chat': 0, 'email': 1}}
    """
    created = tickets["created_at"]
    local = created.dt.tz_localize(None) if created.dt.tz is not None else created

    def monday(ts: pd.Series) -> pd.Series:
        return ts.dt.to_period("W-SUN").dt.start_time

    week = monday(local)
    split = tickets[by].fillna("(missing)") if by is not None else pd.Series("tickets", index=tickets.index)
    counts = pd.crosstab(week, split) if len(tickets) else pd.DataFrame()

    def wall(ts: pd.Timestamp | None, fallback: pd.Timestamp) -> pd.Timestamp:
        if ts is None:
            return fallback
        ts = pd.Timestamp(ts)
        return ts.tz_convert(created.dt.tz).tz_localize(None) if ts.tzinfo is not None and created.dt.tz else ts

    first = monday(pd.Series([wall(start, local.min())]))[0]
    last = monday(pd.Series([wall(end, local.max()) - pd.Timedelta(microseconds=1) if end is not None
                             else local.max()]))[0]
    weeks = pd.date_range(first, last, freq="7D")
    return counts.reindex(weeks, fill_value=0).rename_axis("week").rename_axis(by or "tickets", axis=1)


def weekly_volume(tickets: pd.DataFrame, *, by: str | None = "channel", title: str | None = None,
                  start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> Figure:
    """Stacked bars of tickets created per week, split by ``by``: one bar per week of the
    cycle (``start`` to ``end``, the cycle's window), weeks without tickets drawn as 0,
    ticks on the Mondays the weeks start; ``by=None``: one bar per week.

    Parameters
    ----------
    tickets : pandas.DataFrame
        The tickets, with ``created_at`` (and ``by``).
    by : str or None, default "channel"
        The column to split by; ``None``: no split.
    title : str, optional
        The chart's title; default "Tickets per week by <by>".
    start : pandas.Timestamp, optional
        The cycle's start; default the first ticket.
    end : pandas.Timestamp, optional
        The cycle's end; default the last ticket.

    Returns
    -------
    matplotlib.figure.Figure
        The chart (detached from pyplot: the notebook shows it once).

    Examples
    --------
    Three weeks, two channels: six bar segments (the empty ones drawn as 0).

    >>> t = pd.DataFrame({"created_at": pd.to_datetime(["2026-07-01", "2026-07-15"]).tz_localize("UTC"),
    ...                   "channel": ["chat", "email"]})
    >>> fig = weekly_volume(t)
    >>> len(fig.axes[0].patches), fig.axes[0].get_title()
    (6, 'Tickets per week by channel')
    >>> plt.close(fig)
    """
    import matplotlib.dates as mdates

    counts = weekly_counts(tickets, by=by, start=start, end=end)
    fig, ax = plt.subplots()
    bottom = np.zeros(len(counts))
    colours = sns.color_palette(PALETTE, len(counts.columns))
    for colour, column in zip(colours, counts.columns, strict=True):
        ax.bar(counts.index, counts[column], bottom=bottom, width=6, align="edge", label=column, color=colour)
        bottom += counts[column].to_numpy()
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=1 if len(counts) <= 16 else 2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    if len(counts):
        ax.set_xlim(counts.index[0] - pd.Timedelta(days=1), counts.index[-1] + pd.Timedelta(days=6.5))
    ax.set_ylabel("tickets created")
    ax.set_xlabel("week starting on Monday")
    ax.set_title(title or (f"Tickets per week by {by}" if by else "Tickets per week"))
    if by is not None:
        ax.legend(title=by, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.autofmt_xdate()
    return _done(fig)


def stage_funnel(volume: pd.DataFrame, *, title: str = "Tickets reaching each stage") -> Figure:
    """Horizontal bars of the tickets reaching each stage (output of ``stage_volume``).

    Parameters
    ----------
    volume : pandas.DataFrame
        :func:`cxassess.process.stage_volume`: ``label, tickets, share`` per stage.
    title : str, default "Tickets reaching each stage"
        The chart's title.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    >>> volume = pd.DataFrame({"label": ["Intake", "Specialist"], "tickets": [100, 25], "share": [1.0, 0.25]})
    >>> fig = stage_funnel(volume)
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['  100 (100%)', '  25 (25%)']
    >>> plt.close(fig)
    """
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.5 * len(volume)))
    ax.barh(volume["label"], volume["tickets"], color=sns.color_palette(PALETTE)[0])
    ax.invert_yaxis()
    for y, (n, share) in enumerate(zip(volume["tickets"], volume["share"], strict=True)):
        ax.text(n, y, f"  {n:,} ({share:.0%})", va="center")
    ax.set_xlabel("tickets")
    ax.set_title(title)
    ax.margins(x=0.2)
    return _done(fig)


def _fmt(kpi: str, value: float, *, change: bool = False) -> str:
    """A KPI value as a CX lead reads it: 48.4 %, +12.0 (NPS), 4.85 (CES), 6.8 h.

    A change of a share is in percentage points (``+9.3 pp``).
    """
    if pd.isna(value):
        return "–"
    sign = "+" if change else ""
    unit = registry.unit(kpi)
    if unit == "share":
        return f"{100 * value:{sign}.1f} pp" if change else f"{value:.1%}"
    if unit == "hours" or kpi.endswith("_hours"):
        return f"{value:{sign}.2f} h" if abs(value) < 1 else f"{value:{sign}.1f} h"
    if unit == "score":
        return f"{value:{sign}.2f}"
    return f"{value:+.1f}"


def kpi_table(table: pd.DataFrame, *, min_n: int = 30, labels: dict[str, str] | None = None) -> Styler:
    """A readable KPI table: value with its 95 % interval and n; rows below ``min_n``
    are greyed and marked "n too small" (shown, never hidden).

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy KPI table: ``[*by, kpi, value, ci_low, ci_high, n]`` (optional ``note``).
    min_n : int, default 30
        Figures resting on fewer answers or tickets are greyed "n too small".
    labels : dict of str to str, optional
        Names of KPIs beyond those of the scorecard.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat"], "value": [0.8], "ci_low": [0.7], "ci_high": [0.9], "n": [12]})
    >>> kpi_table(t).data[["value", "95 % interval", "n", "note"]].values.tolist()
    [['80.0%', '70.0% to 90.0%', '12', 'n too small']]
    """
    names = {**LABELS, **(labels or {})}
    keys = [c for c in table.columns
            if c not in {"kpi", "value", "ci_low", "ci_high", "n", "hits", "promoters", "detractors", "note"}]
    notes = table["note"].fillna("") if "note" in table else pd.Series("", index=table.index)
    available = (notes == "").to_numpy()
    shown = pd.DataFrame(
        {
            **{k: table[k] for k in keys},
            "KPI": table["kpi"].map(lambda k: names.get(k, k)),
            "value": [_fmt(k, v) for k, v in zip(table["kpi"], table["value"], strict=True)],
            "95 % interval": [
                f"{_fmt(k, lo)} to {_fmt(k, hi)}" if pd.notna(lo) else "–"
                for k, lo, hi in zip(table["kpi"], table["ci_low"], table["ci_high"], strict=True)
            ],
            "n": [f"{int(n):,}" if ok else "–" for n, ok in zip(table["n"], available, strict=True)],
            "note": np.where(~available, notes.str.replace("`", "", regex=False),
                             np.where(table["n"] < min_n, "n too small", "")),
        }
    )
    small = ((table["n"] < min_n) & available).to_numpy()

    def grey(row: pd.Series) -> list[str]:
        return ["color: #999" if small[row.name] else "" for _ in row]

    return styled(shown.reset_index(drop=True)).apply(grey, axis=1).hide(axis="index")


#: Colours of the data-quality traffic lights.
LIGHT_COLOURS = {"red": "#d9534f", "amber": "#f0ad4e", "green": "#5cb85c", "grey": "#bbbbbb"}
_LIGHT_WORDS = {"critical": "stops the review", "warning": "warnings", "passed": "all checks hold",
                "absent": "not in this cycle"}


def quality_lights(tables: pd.DataFrame) -> Styler:
    """The gate's verdict per table as a traffic light, with rows read = used + quarantined.

    Parameters
    ----------
    tables : pandas.DataFrame
        The gate's table of tables: ``table, status, light, file, rows_read, rows_used,
        rows_quarantined, critical, warnings``.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    >>> tables = pd.DataFrame({"table": ["tickets"], "status": ["warning"], "light": ["amber"],
    ...                        "file": ["tickets.csv"], "rows_read": [100], "rows_used": [98],
    ...                        "rows_quarantined": [2], "critical": [0], "warnings": [1]})
    >>> quality_lights(tables).data[["table", "verdict", "rows read", "rows used"]].values.tolist()
    [['tickets', 'warnings', 100, 98]]
    """
    shown = pd.DataFrame(
        {
            "": ["●"] * len(tables),
            "table": tables["table"],
            "verdict": tables["status"].map(_LIGHT_WORDS),
            "file": tables["file"],
            "rows read": tables["rows_read"].astype("int64"),
            "rows used": tables["rows_used"].astype("int64"),
            "rows quarantined": tables["rows_quarantined"].astype("int64"),
            "critical": tables["critical"].astype("int64"),
            "warnings": tables["warnings"].astype("int64"),
        }
    )
    colours = tables["light"].map(LIGHT_COLOURS).tolist()

    def light(column: pd.Series) -> list[str]:
        return [f"color: {c}; font-size: 1.4em" for c in colours]

    return (
        styled(shown, {c: "{:,}" for c in shown.columns if c.startswith("rows") or c in ("critical", "warnings")})
        .apply(light, subset=[""], axis=0)
        .set_properties(subset=["table", "verdict", "file"], **{"text-align": "left"})
        .hide(axis="index")
    )


def quality_failures(failures: pd.DataFrame) -> Styler:
    """Each failed check in plain language: table, column, rows, examples, how to fix it.

    Parameters
    ----------
    failures : pandas.DataFrame
        The gate's failed checks: ``table, column, reason, failed_rows, share,
        quarantined, examples, fix, status``.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table, critical checks with a red light, warnings amber.

    Examples
    --------
    >>> failures = pd.DataFrame({"table": ["tickets"], "column": ["created_at"], "reason": ["not a date"],
    ...                          "failed_rows": [2], "share": [0.02], "quarantined": [2], "examples": ["32/13"],
    ...                          "fix": ["export ISO dates"], "status": ["critical"]})
    >>> quality_failures(failures).data[["table", "column", "rows"]].values.tolist()
    [['tickets', 'created_at', 2]]
    """
    shown = pd.DataFrame(
        {
            "": ["●"] * len(failures),
            "table": failures["table"],
            "column": failures["column"],
            "problem": failures["reason"],
            "rows": failures["failed_rows"].astype("int64"),
            "share": failures["share"].astype("float64"),
            "quarantined": failures["quarantined"].astype("int64"),
            "examples": failures["examples"],
            "how to fix it": failures["fix"],
        }
    )
    colours = failures["status"].map({"critical": "red", "warning": "amber"}).map(LIGHT_COLOURS).tolist()

    def light(column: pd.Series) -> list[str]:
        return [f"color: {c}; font-size: 1.4em" for c in colours]

    return (
        styled(shown.reset_index(drop=True), {"rows": "{:,}", "quarantined": "{:,}", "share": "{:.2%}"})
        .apply(light, subset=[""], axis=0)
        .set_properties(
            subset=["table", "column", "problem", "examples", "how to fix it"], **{"text-align": "left"}
        )
        .hide(axis="index")
    )


def quality_comparison(comparison: pd.DataFrame, *, cycle: str, previous: str) -> Styler:
    """Per table: share of rows quarantined, warnings and critical defects, now and before.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Per table ``status, quarantined_share, warnings`` and the same with ``_before``.
    cycle : str
        The cycle's label.
    previous : str
        The previous cycle's label.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table, one column per figure and cycle.

    Examples
    --------
    >>> comparison = pd.DataFrame({"table": ["tickets"], "status": ["passed"], "quarantined_share": [0.0],
    ...                            "warnings": [0], "status_before": ["warning"],
    ...                            "quarantined_share_before": [0.01], "warnings_before": [2]})
    >>> shown = quality_comparison(comparison, cycle="2026Q3", previous="2026Q2").data
    >>> shown.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['table', '2026Q3: verdict', '2026Q3: quarantined', '2026Q3: warnings',
     '2026Q2: verdict', '2026Q2: quarantined', '2026Q2: warnings']
    >>> shown[["2026Q3: verdict", "2026Q2: verdict"]].values.tolist()
    [['all checks hold', 'warnings']]
    """
    def col(name: str, suffix: str) -> pd.Series:
        column = f"{name}{suffix}"
        return comparison[column] if column in comparison else pd.Series([np.nan] * len(comparison))

    shown = pd.DataFrame({"table": comparison["table"]})
    for name, suffix in ((cycle, ""), (previous, "_before")):
        shown[f"{name}: verdict"] = col("status", suffix).map(_LIGHT_WORDS).fillna("–")
        shown[f"{name}: quarantined"] = col("quarantined_share", suffix)
        shown[f"{name}: warnings"] = col("warnings", suffix)
    formats = {c: "{:.2%}" for c in shown.columns if c.endswith("quarantined")}
    formats.update({c: "{:.0f}" for c in shown.columns if c.endswith("warnings")})
    return (
        styled(shown, formats, na_rep="–")
        .set_properties(subset=["table"], **{"text-align": "left"})
        .hide(axis="index")
    )


def quality_trend(comparison: pd.DataFrame, *, cycle: str, previous: str) -> Figure:
    """Share of rows quarantined per table, this cycle beside the previous one.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Per table ``quarantined_share`` (and ``quarantined_share_before``).
    cycle : str
        The cycle's label.
    previous : str
        The previous cycle's label.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    >>> comparison = pd.DataFrame({"table": ["tickets", "surveys"], "quarantined_share": [0.0, 0.02],
    ...                            "quarantined_share_before": [0.01, 0.0]})
    >>> fig = quality_trend(comparison, cycle="2026Q3", previous="2026Q2")
    >>> fig.axes[0].get_legend_handles_labels()[1], len(fig.axes[0].patches)
    (['2026Q2', '2026Q3'], 4)
    >>> plt.close(fig)
    """
    tables = comparison["table"].tolist()
    y = np.arange(len(tables))
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * len(tables)))
    colours = sns.color_palette(PALETTE, 2)
    before = comparison.get("quarantined_share_before", pd.Series([np.nan] * len(tables)))
    ax.barh(y - 0.2, before.fillna(0.0), height=0.4, color=colours[1], label=previous)
    ax.barh(y + 0.2, comparison["quarantined_share"], height=0.4, color=colours[0], label=cycle)
    ax.set_yticks(y, tables)
    ax.invert_yaxis()
    top = max(0.001, float(np.nanmax([comparison["quarantined_share"].max(), before.max()]))) * 1.3
    digits = 2 if top < 0.05 else 1
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.{digits}%}"))
    ax.set_xlabel("share of rows quarantined")
    ax.set_xlim(0, top)
    ax.set_title("Rows quarantined, this cycle beside the previous one")
    ax.legend(loc="lower right", frameon=False)
    return _done(fig)


def what_moved(card: pd.DataFrame, *, min_n: int = 30) -> str:
    """Markdown list of the KPIs whose change is real (improved or worsened) with at least
    ``min_n`` this cycle (:func:`cxassess.kpis.breakdown.moved`), worst first.

    Parameters
    ----------
    card : pandas.DataFrame
        A scorecard: ``kpi, label, value, previous, n, verdict``.
    min_n : int, default 30
        A change resting on fewer answers or tickets is not listed.

    Returns
    -------
    str
        The Markdown list, or a sentence saying nothing moved.

    Examples
    --------
    >>> card = pd.DataFrame({"kpi": ["csat", "nps", "fcr"], "label": ["CSAT", "NPS", "FCR"],
    ...                      "value": [0.7, 10.0, 0.5], "previous": [0.8, 12.0, 0.4], "n": [200, 300, 12],
    ...                      "verdict": ["worsened", "within noise", "improved"]})
    >>> what_moved(card, min_n=30)  # FCR rests on 12 tickets: not listed
    '- **CSAT** worsened: 80.0% → 70.0%'
    """
    real = moved(card, min_n=min_n).sort_values("verdict", ascending=False, kind="stable")
    lines = [f"- **{md_text(r.label)}** {r.verdict}: {_fmt(r.kpi, r.previous)} → {_fmt(r.kpi, r.value)}"
             for r in real.itertuples()]
    return "\n".join(lines) if lines else "Nothing: every change is within noise or rests on too few answers."


def _interval(kpi: str, low: float, high: float, *, change: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"{_fmt(kpi, low, change=change)} to {_fmt(kpi, high, change=change)}"


def scorecard_table(card: pd.DataFrame, *, min_n: int = 30) -> Styler:
    """The scorecard as a report table: value (95 % interval, n), previous cycle, change with
    its interval and verdict, target and status. Rows with ``n < min_n`` are greyed and
    marked "n too small"; KPIs the data cannot support say which table they need.

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`cxassess.kpis.scorecard.scorecard` (segment columns before ``kpi``).
    min_n : int, default 30
        Figures resting on fewer answers or tickets are greyed "n too small".

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    CSAT fell from 80 % to 70 %: 10 points.

    >>> card = pd.DataFrame({"kpi": ["csat"], "label": ["CSAT"], "value": [0.7], "ci_low": [0.65],
    ...                      "ci_high": [0.75], "n": [300], "previous": [0.8], "change": [-0.1],
    ...                      "change_low": [-0.17], "change_high": [-0.03], "verdict": ["worsened"],
    ...                      "target": [0.75], "target_status": ["missed"], "note": [""], "small_n": [False]})
    >>> scorecard_table(card).data[["KPI", "value", "previous", "change", "verdict", "status"]].values.tolist()
    [['CSAT', '70.0%', '80.0%', '-10.0 pp', 'worsened', 'missed']]
    """
    group = [c for c in card.columns[: list(card.columns).index("kpi")]]
    kpis = card["kpi"].tolist()
    shown = pd.DataFrame({
        **{g: card[g].astype("string").fillna("(missing)") for g in group},
        "KPI": card["label"],
        "value": [_fmt(k, v) for k, v in zip(kpis, card["value"], strict=True)],
        "95 % interval": [_interval(k, lo, hi) for k, lo, hi in zip(kpis, card["ci_low"], card["ci_high"], strict=True)],
        "n": [f"{int(n):,}" if pd.notna(n) else "–" for n in card["n"]],
        "previous": [_fmt(k, v) for k, v in zip(kpis, card["previous"], strict=True)],
        "change": [_fmt(k, v, change=True) for k, v in zip(kpis, card["change"], strict=True)],
        "change interval": [_interval(k, lo, hi, change=True)
                            for k, lo, hi in zip(kpis, card["change_low"], card["change_high"], strict=True)],
        "verdict": card["verdict"],
        "target": [_fmt(k, t) if pd.notna(t) else "" for k, t in zip(kpis, card["target"], strict=True)],
        "status": card["target_status"].replace({"no target": "", "not measured": ""}),
        "note": np.where(card["note"] != "", card["note"].str.replace("`", "", regex=False),
                         np.where(card["small_n"], "n too small", "")),
    })
    small = card["small_n"].to_numpy()

    def grey(row: pd.Series) -> list[str]:
        return ["color: #999" if small[row.name] else "" for _ in row]

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {VERDICT_COLOURS[v]}; font-weight: bold" if v in VERDICT_COLOURS and not small[i] else ""
                for i, v in enumerate(column)]

    return (
        styled(shown.reset_index(drop=True)).apply(grey, axis=1)
        .apply(colour, subset=["verdict", "status"], axis=0)
        .set_properties(subset=["KPI", *group], **{"text-align": "left"})
        .set_properties(subset=["value", "status"], **{"white-space": "nowrap"})
        .hide(axis="index")
    )


def kpi_trends(history: pd.DataFrame, *, targets: dict[str, float] | None = None, min_n: int = 30,
               columns: int = 4) -> Figure:
    """Small multiples: each KPI across the cycles with its 95 % interval and its target
    (dashed). Points with ``n < min_n`` are hollow; KPIs never measured are left out.

    Parameters
    ----------
    history : pandas.DataFrame
        KPIs of several cycles: ``cycle, kpi, policy, value, ci_low, ci_high, n``.
    targets : dict of str to float, optional
        Target per KPI, drawn dashed.
    min_n : int, default 30
        Points resting on fewer answers or tickets are hollow.
    columns : int, default 4
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per KPI measured.

    Examples
    --------
    One KPI measured: one panel of the row of four is shown.

    >>> history = pd.DataFrame({"cycle": ["2026Q2", "2026Q3"], "kpi": "csat", "policy": None,
    ...                         "value": [0.8, 0.7], "ci_low": [0.75, 0.65], "ci_high": [0.85, 0.75],
    ...                         "n": [200, 20]})
    >>> fig = kpi_trends(history, targets={"csat": 0.8})
    >>> len(fig.axes), sum(ax.get_visible() for ax in fig.axes)
    (4, 1)
    >>> plt.close(fig)
    """
    measured = history[history["value"].notna()]
    policies = [p if isinstance(p, str) else None for p in measured["policy"]]
    panels = list(dict.fromkeys(zip(measured["kpi"], policies, strict=True)))
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.1 * columns, 2.4 * rows), squeeze=False)
    cycles = list(dict.fromkeys(history["cycle"]))
    colour = sns.color_palette(PALETTE)[0]
    for ax, (kpi, policy) in zip(axes.flat, panels, strict=False):
        same_policy = measured["policy"].isna() if policy is None else measured["policy"] == policy
        part = measured[(measured["kpi"] == kpi) & same_policy].set_index("cycle").reindex(cycles)
        x = np.arange(len(cycles))
        scale = 100.0 if kpi in PERCENT_KPIS else 1.0
        value, low, high = (part[c].to_numpy(dtype=float) * scale for c in ("value", "ci_low", "ci_high"))
        ax.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, value, color=colour, linewidth=1.5)
        small = part["n"].to_numpy(dtype=float) < min_n
        ax.scatter(x[~small], value[~small], color=colour, zorder=3, s=18)
        ax.scatter(x[small], value[small], facecolors="white", edgecolors=colour, zorder=3, s=18)
        target = (targets or {}).get(kpi)
        if target is not None:
            ax.axhline(target * scale, color="#c62828", linestyle="--", linewidth=1)
        ax.set_title(textwrap.fill(label(kpi, policy), 34), fontsize=8)
        ax.set_xticks(x, cycles, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        if scale == 100.0:
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("KPIs across the cycles: 95 % band, target dashed, hollow = n too small",
                 fontsize=11, fontweight="bold")
    return _done(fig)


#: Largest height of a breakdown chart (inches): a chart never grows with the segments.
MAX_CHART_HEIGHT = 9.0


def kpi_breakdown(card: pd.DataFrame, *, by: str, kpis: list[str], min_n: int = 30) -> Figure:
    """Each segment's value with its 95 % interval (dot and bar), the previous cycle as a
    hollow ring, coloured by the verdict of the change: one panel per KPI, segments in the
    order of ``card`` (show the largest ones: :func:`cxassess.kpis.breakdown`). The height
    grows with the segments up to :data:`MAX_CHART_HEIGHT`.

    Parameters
    ----------
    card : pandas.DataFrame
        A scorecard by ``by`` (``Breakdown.shown``).
    by : str
        The segment column.
    kpis : list of str
        The KPIs to draw; those not in ``card`` are left out.
    min_n : int, default 30
        Segments resting on fewer answers or tickets are grey.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per KPI drawn.

    Examples
    --------
    >>> card = pd.DataFrame({"channel": ["chat", "email"], "kpi": "csat", "policy": None,
    ...                      "value": [0.7, 0.8], "ci_low": [0.6, 0.7], "ci_high": [0.8, 0.9],
    ...                      "previous": [0.75, 0.8], "verdict": ["within noise", "within noise"], "n": [100, 200]})
    >>> fig = kpi_breakdown(card, by="channel", kpis=["csat", "fcr"])  # no fcr in the card
    >>> len(fig.axes), [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    (1, ['chat', 'email'])
    >>> plt.close(fig)
    """
    kpis = [k for k in kpis if (card["kpi"] == k).any()]
    segments = list(dict.fromkeys(card[by].astype("string").fillna("(missing)")))
    height = min(MAX_CHART_HEIGHT, 0.9 + 0.4 * len(segments))
    fig, axes = plt.subplots(1, max(1, len(kpis)), figsize=(min(16.0, 3.2 * max(1, len(kpis))), height),
                             squeeze=False, sharey=True)
    position = {s: i for i, s in enumerate(segments)}
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        part = card[(card["kpi"] == kpi) & card["policy"].isna()]
        scale = 100.0 if kpi in PERCENT_KPIS else 1.0
        y = part[by].astype("string").fillna("(missing)").map(position).to_numpy(dtype=float)
        colours = [VERDICT_COLOURS.get(v, "#666666") if n >= min_n else "#bbbbbb"
                   for v, n in zip(part["verdict"], part["n"].fillna(0), strict=True)]
        ax.hlines(y, part["ci_low"] * scale, part["ci_high"] * scale, colors=colours, linewidth=2)
        ax.scatter(part["value"] * scale, y, color=colours, zorder=3, s=30)
        ax.scatter(part["previous"] * scale, y, facecolors="none", edgecolors="#333333", zorder=2, s=30)
        ax.set_title(textwrap.fill(label(kpi, None), 30), fontsize=8)
        if scale == 100.0:
            ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    first = axes.flat[0]
    first.set_yticks(range(len(segments)), [textwrap.shorten(s, 28, placeholder="…") for s in segments])
    first.set_ylim(len(segments) - 0.5, -0.5)
    fig.suptitle(f"By {by}: this cycle (dot, 95 % interval; green improved, red worsened) and the "
                 "previous one (ring)", fontsize=10, fontweight="bold")
    return _done(fig)


def breakdown_section(part, *, kpis: list[str] | None = None, min_n: int = 30, csv: str | None = None,
                      moved_rows: int = 20) -> list:
    """What a report page shows for one breakdown (:class:`cxassess.kpis.Breakdown`), as
    objects to ``display``: a heading, what is shown, the chart of ``kpis`` (default the
    breakdown's own, ``part.kpis``), the segments whose KPI moved for real
    (:func:`cxassess.kpis.breakdown.moved`, at most ``moved_rows``, largest first), every
    KPI of the shown segments in a fold-out table, and the link to ``csv`` (every
    segment) when written.

    Parameters
    ----------
    part : Breakdown
        The breakdown.
    kpis : list of str, optional
        The KPIs of the chart; default ``part.kpis``.
    min_n : int, default 30
        Figures resting on fewer answers or tickets are greyed and never "moved".
    csv : str, optional
        The relative link to the breakdown's CSV file; ``None``: no link.
    moved_rows : int, default 20
        At most this many segments that moved are listed.

    Returns
    -------
    list
        The objects to display, in order; a breakdown that is missing gives its heading
        and a note saying why.

    Examples
    --------
    >>> from cxassess.kpis.breakdown import Breakdown
    >>> empty = pd.DataFrame()
    >>> part = Breakdown("team", empty, empty, empty, top=12, missing="not available: needs `tickets.team`")
    >>> [shown.data for shown in breakdown_section(part)]
    ['### By team', '<p>not available: needs <code>tickets.team</code>. No breakdown by it.</p>']
    """
    from html import escape

    from IPython.display import HTML, Markdown

    by = escape(part.by)
    title = Markdown(f"### By {by}")
    if part.missing:
        return [title, note(f"{part.missing}. No breakdown by it.")]
    segments = len(part.segments)
    said = (f"The {part.top} largest of {segments:,} segments by tickets this cycle, and "
            f"**{part.other}** pooled: its KPIs are computed on the tickets of those segments together."
            if part.pooled_count else f"All {segments:,} segments, largest first.")
    card = part.full
    real = moved(card, min_n=min_n).sort_values("n", ascending=False, kind="stable")
    cut = f", the {moved_rows} with the largest n shown" if len(real) > moved_rows else ""
    shown = scorecard_table(part.shown[part.shown["note"] == ""], min_n=min_n).to_html()
    fold = f"<details><summary>Every KPI of these segments by {by}</summary>{shown}</details>"
    if csv:
        fold += f'<p><a href="{escape(csv, quote=True)}">Every {by} as CSV ({segments:,} segments)</a></p>'
    chart = kpi_breakdown(part.shown, by=part.by, kpis=list(kpis) if kpis is not None else part.kpis, min_n=min_n)
    return [title, Markdown(said), chart,
            Markdown(f"Segments whose KPI moved for real ({len(real)} of {len(card)} figures{cut}):"),
            scorecard_table(real.head(moved_rows), min_n=min_n), HTML(fold)]


def breakdown_sections(parts: list, *, min_n: int = 30, csv_folder: str | None = None) -> list:
    """:func:`breakdown_section` of every breakdown in ``parts``, one after the other, each
    with its full table written as CSV into ``csv_folder`` (the report folder) when given.

    Parameters
    ----------
    parts : list of Breakdown
        The breakdowns.
    min_n : int, default 30
        Figures resting on fewer answers or tickets are greyed and never "moved".
    csv_folder : str, optional
        The report folder for the CSV files; ``None``: none written, no links.

    Returns
    -------
    list
        The objects to display, every breakdown's after the other.

    Examples
    --------
    Two breakdowns that are missing: a heading and a note each.

    >>> from cxassess.kpis.breakdown import Breakdown
    >>> empty = pd.DataFrame()
    >>> parts = [Breakdown(by, empty, empty, empty, top=12, missing=f"not available: needs `tickets.{by}`")
    ...          for by in ("team", "agent_id")]
    >>> [shown.data for shown in breakdown_sections(parts)][::2]
    ['### By team', '### By agent_id']
    """
    shown: list = []
    for part in parts:
        shown += breakdown_section(part, min_n=min_n, csv=part.write_csv(csv_folder))
    return shown


#: Font size (points) of every text of the flow chart: legible when the page shows it.
FLOW_FONT = 8.0
#: Largest size of the flow chart (inches): its width fits a report page at 100 dpi
#: without being scaled down, so the fonts keep their size on screen.
FLOW_MAX_SIZE = (10.4, 14.0)


def _polyline(path, transform) -> np.ndarray:
    """The longest polyline of ``path`` (an arrow's shaft) in display coordinates."""
    lines = [transform.transform(v) for v in path.to_polygons(closed_only=False) if len(v) > 1]
    return max(lines, key=lambda v: float(np.hypot(*np.diff(v, axis=0).T).sum()))


def _point_along(line: np.ndarray, t: float) -> np.ndarray:
    """The point at the fraction ``t`` of the length of a polyline."""
    steps = np.hypot(*np.diff(line, axis=0).T)
    at = np.r_[0.0, np.cumsum(steps)]
    goal = t * at[-1]
    i = int(np.clip(np.searchsorted(at, goal) - 1, 0, len(steps) - 1))
    share = 0.0 if steps[i] == 0 else (goal - at[i]) / steps[i]
    return line[i] + share * (line[i + 1] - line[i])


def flow_chart(metrics: pd.DataFrame, flow: pd.DataFrame, *, title: str = "The service process",
               min_tickets: int | None = None) -> Figure:
    """The stages as boxes in their swim lanes (one column per lane, process order top to
    bottom), arrows weighted by the tickets that move and coloured by the median time in
    the stage they leave; moves of the designed flow are solid, moves outside it dashed.

    Every count sits on its arrow (centred on it, on a white label); no two texts
    overlap: a label slides along its arrow until it is clear of the others. Moves with
    fewer than ``min_tickets`` tickets (default 1 % of the tickets, at least 1) are not
    drawn, and the chart says how many. Fonts are :data:`FLOW_FONT` points and the figure
    fits :data:`FLOW_MAX_SIZE`, so the page shows it at that size.

    ``metrics`` comes from :func:`cxassess.process.stage_metrics`, ``flow`` from
    :func:`cxassess.process.stage_flow`.

    Parameters
    ----------
    metrics : pandas.DataFrame
        :func:`cxassess.process.stage_metrics`.
    flow : pandas.DataFrame
        :func:`cxassess.process.stage_flow`.
    title : str, default "The service process"
        The chart's title.
    min_tickets : int, optional
        Moves with fewer tickets are not drawn; default 1 % of the tickets, at least 1.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    The designed flow is ``a → b``; ticket T goes ``a → b → a``: two arrows, each with
    its count.

    >>> from cxassess.config import Process, Stage
    >>> from cxassess.process import stage_flow, stage_metrics
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L")), activities={}, transitions=(("a", "b"),))
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 3, "activity": ["x", "y", "z"], "stage": ["a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 10:00", "2026-07-01 11:00"])})
    >>> fig = flow_chart(stage_metrics(ev, p), stage_flow(ev, p))
    >>> sorted((t.get_gid(), t.get_text()) for t in fig.axes[0].texts if t.get_gid())
    [('count:a->b', '1'), ('count:b->a', '1')]
    >>> plt.close(fig)
    """
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    stages = metrics[metrics["entering"] > 0].reset_index(drop=True)
    lanes = list(dict.fromkeys(stages["lane"].replace("", "(no lane)")))
    row = {s: i for i, s in enumerate(stages["stage"])}
    column = {s: lanes.index(lane or "(no lane)") for s, lane in zip(stages["stage"], stages["lane"], strict=True)}
    left, right, top, bottom = 0.5, 1.0, 0.75, 0.4  # margins (inches): colour bar right, legend below
    lane_in = min(2.2, (FLOW_MAX_SIZE[0] - left - right) / max(1, len(lanes)))
    row_in = min(1.0, (FLOW_MAX_SIZE[1] - top - bottom) / max(1, len(stages)))
    width, height = left + lane_in * len(lanes) + right, top + row_in * len(stages) + bottom
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom / height, lane_in * len(lanes) / width, row_in * len(stages) / height))
    ax.set_xlim(-0.5, len(lanes) - 0.5)
    ax.set_ylim(len(stages) - 0.5, -0.5)
    ax.axis("off")
    line_in = FLOW_FONT * 1.25 / 72  # one line of text
    box_w_in = min(lane_in - 0.25, 1.7)
    box_w, box_h = box_w_in / lane_in, (3 * line_in + 0.08) / row_in
    chars = max(8, int(box_w_in * 72 / (FLOW_FONT * 0.6)) - 1)
    for i, lane in enumerate(lanes):
        ax.add_patch(plt.Rectangle((i - 0.5, -0.5), 1.0, len(stages), color="#eeeeee" if i % 2 else "#f8f8f8",
                                   zorder=0))
        ax.text(i, -0.5 - 0.05 / row_in, textwrap.shorten(lane, int(lane_in * 72 / (FLOW_FONT * 0.65)),
                                                           placeholder="…"),
                ha="center", va="bottom", fontsize=FLOW_FONT, color="#555555", fontweight="bold")
    cmap = ListedColormap(colormaps["YlOrRd"](np.linspace(0.3, 1.0, 256)))
    waits = flow["median_wait_hours"].to_numpy(dtype=float)
    norm = Normalize(vmin=0, vmax=max(1.0, float(np.nanmax(waits)) if np.isfinite(waits).any() else 1.0))
    box = {}
    for s in stages.itertuples():
        first = pd.notna(s.bottleneck_rank) and s.bottleneck_rank == 1
        edge = "#c62828" if first else "#333333"
        x, y = column[s.stage], row[s.stage]
        box[s.stage] = FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                      boxstyle="round,pad=0.0,rounding_size=0.06", facecolor="white",
                                      edgecolor=edge, linewidth=2.2 if first else 1.0, zorder=3)
        ax.add_patch(box[s.stage])
        lines = textwrap.wrap(str(s.label), chars, max_lines=2, placeholder="…") or [""]
        ax.text(x, y - box_h / 2 + 0.04 / row_in, "\n".join(lines), ha="center", va="top", fontsize=FLOW_FONT,
                fontweight="bold", zorder=4, linespacing=1.0)
        hours = "–" if pd.isna(s.median_hours) else f"{s.median_hours:.1f} h"
        ax.text(x, y + box_h / 2 - 0.04 / row_in, f"{s.entering:,} · {hours}", ha="center", va="bottom",
                fontsize=FLOW_FONT, color=edge, zorder=4)
    total = int(stages["entering"].max()) if len(stages) else 0
    floor = max(1, round(0.01 * total)) if min_tickets is None else min_tickets
    known = flow["source"].isin(row) & flow["target"].isin(row)
    drawn = flow[known & (flow["tickets"] >= floor)]
    hidden = int(known.sum() - len(drawn))
    most = max(1, int(drawn["tickets"].max()) if len(drawn) else 1)
    arrows = []
    for r in drawn.sort_values("tickets", ascending=False).itertuples():
        (x1, y1), (x2, y2) = (column[r.source], row[r.source]), (column[r.target], row[r.target])
        span = abs(y2 - y1)
        length = float(np.hypot((x2 - x1) * lane_in, (y2 - y1) * row_in)) or 1.0
        forward = y2 > y1
        if forward and span == 1:
            rad = 0.0 if x1 == x2 else -0.1
        else:  # skips bulge right (going down), moves back left (going up), clear of the boxes between
            bulge = (box_w_in / 2 + 0.12 + 0.05 * span) if x1 == x2 else 0.15 + 0.05 * span + 0.1 * (not forward)
            rad = -2 * bulge / length
        lw = 0.8 + 5 * r.tickets / most
        arrow = FancyArrowPatch(
            (x1, y1), (x2, y2), connectionstyle=f"arc3,rad={rad:.3f}", arrowstyle="-|>", mutation_scale=8 + 2 * lw,
            linewidth=lw, color=cmap(norm(r.median_wait_hours)), linestyle="-" if r.allowed else (0, (3, 1.5)),
            patchA=box[r.source], patchB=box[r.target], shrinkA=1, shrinkB=1, zorder=2, alpha=0.9,
            gid=f"arrow:{r.source}->{r.target}", clip_on=False,
        )
        ax.add_patch(arrow)
        arrows.append((r, arrow))
    cax = fig.add_axes(((width - right + 0.15) / width, bottom / height, 0.14 / width, row_in * len(stages) / height))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.set_label("median hours in the stage left", fontsize=FLOW_FONT)
    bar.ax.tick_params(labelsize=FLOW_FONT)
    ax.legend(handles=[Line2D([], [], color="#666666", linewidth=2, label="designed flow"),
                       Line2D([], [], color="#666666", linewidth=2, linestyle=(0, (3, 1.5)), label="outside the flow"),
                       plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#c62828", linewidth=2,
                                     label="bottleneck"),
                       plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#333333",
                                     label="stage: tickets · median time")],
              loc="upper left", bbox_to_anchor=(0.0, 0.0), ncol=4, frameon=False, fontsize=FLOW_FONT,
              borderaxespad=0.3, handlelength=1.6, columnspacing=1.0)
    note = f" ({hidden} move(s) with fewer than {floor:,} tickets not drawn)" if hidden else ""
    fig.suptitle(textwrap.fill(f"{title}: arrows weighted by tickets{note}", int(width * 12)), fontsize=10,
                 fontweight="bold", x=0.5 * (left + lane_in * len(lanes)) / width, y=1 - 0.06 / height, va="top")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text()]
    taken += [b.get_window_extent(renderer) for b in box.values()]
    candidates = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.46, 0.54, 0.38, 0.62, 0.3, 0.7, 0.15, 0.85)
    for r, arrow in arrows:
        line = _polyline(arrow.get_path(), ax.transData)
        text = ax.text(0, 0, f"{r.tickets:,}", fontsize=FLOW_FONT, ha="center", va="center", color="#222222",
                       zorder=5, gid=f"count:{r.source}->{r.target}",
                       bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})
        for t in candidates:
            text.set_position(ax.transData.inverted().transform(_point_along(line, t)))
            extent = text.get_window_extent(renderer).padded(1)
            if not any(extent.overlaps(other) for other in taken):
                break
        taken.append(text.get_window_extent(renderer))
    plt.close(fig)
    return fig


def satisfaction_by_path(table: pd.DataFrame) -> Figure:
    """CSAT per path group with its 95 % interval (output of
    :func:`cxassess.process.satisfaction_by_path`), one row per group.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`cxassess.process.satisfaction_by_path`.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    >>> t = pd.DataFrame({"attribute": "transfers", "group": ["0", "1"], "value": [0.9, 0.6],
    ...                   "ci_low": [0.85, 0.5], "ci_high": [0.95, 0.7], "n": [200, 80]})
    >>> fig = satisfaction_by_path(t)
    >>> [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    ['transfers: 0', 'transfers: 1']
    >>> plt.close(fig)
    """
    labels = {"transfers": "transfers", "escalated": "escalated", "loop": "re-entered a stage",
              "conforms": "followed the designed flow"}
    rows = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 0.8 + 0.38 * len(rows)))
    colour = sns.color_palette(PALETTE)[0]
    for i, r in rows.iterrows():
        ax.plot([100 * r.ci_low, 100 * r.ci_high], [i, i], color=colour, linewidth=2)
        ax.scatter(100 * r.value, i, color=colour, zorder=3)
        ax.text(100 * r.ci_high + 1, i, f"n = {int(r.n):,}", va="center", fontsize=7, color="#555555")
    ax.set_yticks(range(len(rows)), [f"{labels.get(a, a)}: {g}" for a, g in zip(rows["attribute"], rows["group"],
                                                                                  strict=True)])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_xlabel("CSAT (top-box share), 95 % interval")
    ax.set_title("Satisfaction by the path the ticket took")
    ax.margins(x=0.15)
    return _done(fig)


def stage_table(stages: pd.DataFrame) -> Styler:
    """Per stage: volumes, time in stage with its interval, share of the desk's time
    (customer-time stages left out: ``desk_share``), bottleneck rank and the change against
    the previous cycle (output of ``process.compare_stages``).

    Parameters
    ----------
    stages : pandas.DataFrame
        :func:`cxassess.process.compare_stages`.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    Stage B holds 3 of the desk's 4 hours (rank 1), A 1 hour (rank 2); C is the customer's
    time. There is no previous cycle.

    >>> from cxassess.config import Process, Stage
    >>> from cxassess.process import compare_stages, stage_metrics
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L"), Stage("c", "C", "L", customer_time=True)),
    ...             activities={})
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 4, "activity": "x", "stage": ["a", "b", "c", "c"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00",
    ...                                                 "2026-07-01 12:00", "2026-07-01 16:00"])})
    >>> shown = stage_table(compare_stages(stage_metrics(ev, p), None)).data
    >>> shown[["stage", "rank (before)", "verdict"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['A', '#2 (–)', 'not comparable: no previous cycle'], ['B', '#1 (–)', 'not comparable: no previous cycle'],
     ['C', 'customer time', 'not comparable: no previous cycle']]
    """
    def hours(v: float) -> str:
        return "–" if pd.isna(v) else f"{v:.1f}\u00a0h"  # the unit stays with its number

    shown = pd.DataFrame({
        "stage": stages["label"],
        "entering": stages["entering"], "ending here": stages["ending_here"],
        "of which open": stages["open_here"], "loops": stages["loops"],
        "median time": [hours(v) for v in stages["median_hours"]],
        "95 % interval": [f"{hours(lo)} to {hours(hi)}" if pd.notna(lo) else "–"
                          for lo, hi in zip(stages["ci_low"], stages["ci_high"], strict=True)],
        "p90": [hours(v) for v in stages["p90_hours"]],
        "over target": [f"{o:.0%} (> {t:g} h)" if pd.notna(o) else ""
                        for o, t in zip(stages["over_target"], stages["target_hours"], strict=True)],
        "share of desk time": [f"{v:.0%}" if pd.notna(v) else "–"
                               for v in stages.get("desk_share", pd.Series(np.nan, index=stages.index))],
        "rank (before)": [f"#{int(r)} ({'–' if pd.isna(b) else f'#{int(b)}'})" if pd.notna(r)
                                else "customer time" for r, b in zip(stages["bottleneck_rank"], stages["rank_before"],
                                                                     strict=True)],
        "median before": [hours(v) for v in stages["median_before"]],
        "change of median": [_interval("x_hours", lo, hi, change=True) for lo, hi in
                   zip(stages["change_low"], stages["change_high"], strict=True)],
        "verdict": stages["verdict"],
    })

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {VERDICT_COLOURS[v]}; font-weight: bold" if v in VERDICT_COLOURS else "" for v in column]

    return (styled(shown, {c: "{:,}" for c in ("entering", "ending here", "of which open", "loops")})
            .apply(colour, subset=["verdict"], axis=0)
            .set_properties(subset=["stage"], **{"text-align": "left"})
            .hide(axis="index"))


def assessment_table(assessment: pd.DataFrame) -> Styler:
    """The stage assessment: the four questions per stage and a short finding.

    Parameters
    ----------
    assessment : pandas.DataFrame
        :func:`cxassess.process.stage_assessment`.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> from cxassess.process import stage_assessment
    >>> p = Process(stages=(Stage("a", "A", "L"), Stage("b", "B", "L"), Stage("c", "C", "L", customer_time=True)),
    ...             activities={})
    >>> ev = pd.DataFrame({"ticket_id": ["T"] * 4, "activity": "x", "stage": ["a", "b", "c", "c"],
    ...                    "timestamp": pd.to_datetime(["2026-07-01 08:00", "2026-07-01 09:00",
    ...                                                 "2026-07-01 12:00", "2026-07-01 16:00"])})
    >>> shown = assessment_table(stage_assessment(ev, p)).data
    >>> shown[["stage", "share of desk time", "bottleneck"]].values.tolist()
    [['A', '25%', '#2'], ['B', '75%', '#1'], ['C', '–', '–']]
    """
    def pct(v: float) -> str:
        return "–" if pd.isna(v) else f"{v:.0%}"

    shown = pd.DataFrame({
        "stage": assessment["label"], "tickets": assessment["tickets"],
        "CSAT through it": [pct(v) for v in assessment["csat_through"]],
        "CSAT not through it": [pct(v) for v in assessment["csat_not_through"]],
        "effect on CSAT": [_interval("csat", lo, hi, change=True) for lo, hi in
                           zip(assessment["effect_low"], assessment["effect_high"], strict=True)],
        "resolved without reopen": [pct(v) for v in assessment["resolved_clean"]],
        "share of desk time": [pct(v) for v in assessment.get("desk_share",
                                                             pd.Series(np.nan, index=assessment.index))],
        "loops": [pct(v) for v in assessment["loops_share"]],
        "over target": [pct(v) for v in assessment["over_target"]],
        "bottleneck": [f"#{int(r)}" if pd.notna(r) else "–" for r in assessment["bottleneck_rank"]],
        "finding": assessment["finding"],
    })
    return (styled(shown, {"tickets": "{:,}"})
            .set_properties(subset=["stage", "finding"], **{"text-align": "left"})
            .hide(axis="index"))


def path_table(table: pd.DataFrame) -> Styler:
    """CSAT by path group with the difference to the reference group and its interval.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`cxassess.process.satisfaction_by_path`.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table.

    Examples
    --------
    >>> t = pd.DataFrame({"attribute": "transfers", "group": ["0", "1"], "value": [1.0, 0.5],
    ...                   "ci_low": [0.8, 0.3], "ci_high": [1.0, 0.7], "n": [20, 20], "difference": [0.0, -0.5],
    ...                   "diff_low": [0.0, -0.7], "diff_high": [0.0, -0.2]})
    >>> path_table(t).data[["path", "CSAT", "difference to reference"]].values.tolist()
    [['transfers: 0', '100.0%', '+0.0 pp'], ['transfers: 1', '50.0%', '-50.0 pp']]
    """
    shown = pd.DataFrame({
        "path": table["attribute"] + ": " + table["group"].astype("str"),
        "CSAT": [_fmt("csat", v) for v in table["value"]],
        "95 % interval": [_interval("csat", lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
        "n": table["n"].astype("int64"),
        "difference to reference": [_fmt("csat", d, change=True) for d in table["difference"]],
        "its interval": [_interval("csat", lo, hi, change=True) for lo, hi in
                         zip(table["diff_low"], table["diff_high"], strict=True)],
    })
    return styled(shown, {"n": "{:,}"}).set_properties(subset=["path"], **{"text-align": "left"}).hide(axis="index")

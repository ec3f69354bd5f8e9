"""One visual language for every page of the review.

Figures are matplotlib/seaborn, returned to the caller (the notebook shows them inline);
tables of KPIs are pandas Stylers that grey out figures whose n is too small.
"""

from __future__ import annotations

import html
import re
import textwrap
import weakref
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import HTML, Markdown
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from pandas.io.formats.style import Styler

from cxassess import registry
from cxassess.export import md_text
from cxassess.findings import interval, number, signed
from cxassess.kpis.breakdown import moved
from cxassess.kpis.notable import anchor_of
from cxassess.kpis.scorecard import LABELS, label
from cxassess.schema import TABLES

__all__ = [
    "anchor", "breakdown_sections",
    "cycle_summary",
    "use_style", "weekly_volume", "weekly_counts", "stage_funnel", "kpi_table", "table", "quality_lights",
    "quality_failures", "quality_comparison", "quality_trend", "scorecard_table", "kpi_trends",
    "kpi_breakdown", "breakdown_section", "what_moved", "flow_chart", "satisfaction_by_path", "stage_table",
    "assessment_table", "path_table", "path_label", "PATH_GROUPS", "md_text", "styled", "note", "gap_note",
    "page_heading", "share_sentence", "plausibility_table",
    "kpi_definitions", "PERCENT_KPIS", "VERDICT_COLOURS", "VERDICT_SYMBOLS", "LIGHT_COLOURS", "LIGHT_SYMBOLS", "SMALL_N_GREY", "TEXT_GREY",
    "BACKGROUNDS", "SERIES_COLOURS", "PRINT_WIDTH_PX", "MIN_TEXT_PX", "DPI", "FIGURE_WIDTH", "FONT",
    "describe", "alt_text", "smallest_text_px", "contrast_ratio",
    "TILE_KPIS", "kpi_tiles", "findings_list", "next_steps", "GLOSSARY", "glossary", "handoff_table",
    "variant_table", "deviation_table",
]

#: KPIs whose value is a share (shown as %), from the registry; hours end in ``_hours``.
PERCENT_KPIS = set(registry.kpi_ids(unit="share"))

#: Colours of verdicts and target statuses: each has a contrast of at least 4.5:1 on white
#: (WCAG AA for text; tested), and every verdict also carries a symbol (:data:`VERDICT_SYMBOLS`).
VERDICT_COLOURS = {"improved": "#2e7d32", "met": "#2e7d32", "worsened": "#c62828", "missed": "#c62828",
                   "within noise": "#595959", "real but small": "#595959", "unclear": "#8a5300"}
#: The symbol shown before a verdict or target status, so that colour is never the only cue.
VERDICT_SYMBOLS = {"improved": "▲", "met": "✔", "worsened": "▼", "missed": "✘", "within noise": "≈",
                   "real but small": "◆", "unclear": "?"}
#: Grey of figures resting on too few answers or tickets (4.5:1 on white).
SMALL_N_GREY = "#767676"
#: Text greys of the charts (labels, notes): 4.5:1 or more on white and on the lane shading.
TEXT_GREY = "#555555"
#: Backgrounds the charts draw on (white, the swim lanes' shading); every other colour of a
#: chart keeps 4.5:1 against each of them (tested).
BACKGROUNDS = ("#ffffff", "#f4f4f4", "#ebebeb")
#: Series colours (colour-blind safe hues, darkened to 4.5:1 on white; tested).
SERIES_COLOURS = ("#0069a3", "#b8420f", "#00786b", "#7a5195", "#8a5300", "#b0306a", "#4d6b00", "#595959")
#: The seaborn palette of the theme: :data:`SERIES_COLOURS`.
PALETTE = list(SERIES_COLOURS)
#: Printable width of an A4 portrait page with 10 mm margins, in CSS px: the narrowest page
#: a chart is shown on (a Letter page is wider).
PRINT_WIDTH_PX = round((210 - 20) / 25.4 * 96)
#: Smallest text a chart may show, in CSS px, on screen and in print (tested).
MIN_TEXT_PX = 11.0
#: Resolution of every chart: a chart of :data:`FIGURE_WIDTH` inches is as wide as the
#: printed page, so its text keeps its size on screen and on paper.
DPI = 100
#: Width of a chart (inches); with :data:`DPI` no wider than :data:`PRINT_WIDTH_PX`.
FIGURE_WIDTH = 7.0
#: Font sizes (points): at :data:`DPI` a point is 1.39 px, so 8.5 pt is 11.8 px.
FONT = {"small": 8.5, "normal": 9.5, "title": 11.0}


def use_style() -> None:
    """Apply the report's theme (call once at the top of a notebook): seaborn's white
    grid, fonts no smaller than :data:`MIN_TEXT_PX` at the printed page's width, the
    accessible :data:`SERIES_COLOURS`, and, inside a notebook, alt text for every chart
    (see :func:`alt_text`).

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["figure.dpi"], plt.rcParams["axes.titleweight"], plt.rcParams["xtick.labelsize"]
    (100.0, 'bold', 8.5)
    """
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({
        "figure.dpi": DPI, "figure.figsize": (FIGURE_WIDTH, 3.4), "axes.titleweight": "bold",
        "font.size": FONT["normal"], "axes.titlesize": FONT["title"], "axes.labelsize": FONT["normal"],
        "xtick.labelsize": FONT["small"], "ytick.labelsize": FONT["small"], "legend.fontsize": FONT["small"],
        "legend.title_fontsize": FONT["normal"], "figure.titlesize": FONT["title"],
        "figure.titleweight": "bold", "text.color": "#222222", "axes.labelcolor": "#222222",
        "xtick.color": "#222222", "ytick.color": "#222222",
    })
    _show_alt_text()


#: Alt text given to figures by :func:`describe` (weak: a figure closed and gone is dropped).
_ALT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def describe(fig: Figure, text: str) -> Figure:
    """Give a chart its alt text: what it shows and its main finding, in one or two plain
    sentences. A notebook that called :func:`use_style` puts it in the figure's output,
    and the report page uses it as the image's ``alt``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    text : str
        What it shows and what it says.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, for chaining.

    Examples
    --------
    >>> fig = describe(plt.figure(), "Tickets per week: flat at about 200.")
    >>> alt_text(fig)
    'Tickets per week: flat at about 200.'
    >>> plt.close(fig)
    """
    _ALT[fig] = " ".join(str(text).split())
    return fig


def alt_text(fig: Figure) -> str:
    """The alt text of a chart: the text given by :func:`describe`, else its titles
    (figure title, then each panel's title), else "Chart".

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.

    Returns
    -------
    str
        One line of plain text.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Rows quarantined")
    >>> alt_text(fig)
    'Chart: Rows quarantined.'
    >>> plt.close(fig)
    """
    given = _ALT.get(fig)
    if given:
        return given
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) is not None else []
    titles += [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    titles = [" ".join(t.split()) for t in titles if t.strip()]
    return f"Chart: {'; '.join(titles)}." if titles else "Chart"


def _show_alt_text() -> None:
    """Inside IPython, make the PNG of every figure carry its :func:`alt_text` as output
    metadata (``{"image/png": {"alt": ...}}``), which the report's template writes into the
    image's ``alt``, and its :func:`smallest_text_px` on the printed page (the tests check
    it on every page). Outside IPython (a script, a doctest) nothing happens.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    import matplotlib

    plt.switch_backend(matplotlib.get_backend())  # load the backend now: the inline one registers its formatter
    png = shell.display_formatter.formatters["image/png"]
    try:
        current = png.lookup_by_type(Figure)
    except KeyError:  # no inline backend: figures are not shown as PNG
        return
    if getattr(current, "with_alt_text", False):
        return

    def with_alt(fig: Figure):
        data = current(fig)
        if data is None:
            return None
        return data, {"alt": alt_text(fig), "smallest_text_px": round(smallest_text_px(fig), 2)}

    with_alt.with_alt_text = True
    png.for_type(Figure, with_alt)


def smallest_text_px(fig: Figure, page_px: float = PRINT_WIDTH_PX) -> float:
    """The size in CSS px of the smallest text of a chart as a page of ``page_px`` shows it:
    the chart's PNG (cropped to its content, as a notebook saves it) is scaled down when
    it is wider than the page.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The chart.
    page_px : float, default :data:`PRINT_WIDTH_PX`
        The width the page gives the chart (CSS px).

    Returns
    -------
    float
        The smallest font size shown, in px (``inf`` when the chart has no text).

    Examples
    --------
    A 9-point label at 100 dpi is 12.5 px; on a page half as wide as the chart, 6.25 px.

    >>> fig = plt.figure(figsize=(4, 2), dpi=100)
    >>> _ = fig.text(0.1, 0.5, "label", fontsize=9)
    >>> width = fig.get_tightbbox().width * 100 + 20  # inches to px, plus the 0.1-inch pads
    >>> round(smallest_text_px(fig), 2), round(smallest_text_px(fig, width / 2), 2)
    (12.5, 6.25)
    >>> plt.close(fig)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)  # a closed figure
    canvas.draw()
    renderer = canvas.get_renderer()
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
             and t.get_window_extent(renderer).width > 0]
    if not sizes:
        return float("inf")
    width_px = (fig.get_tightbbox(renderer).width + 0.2) * fig.dpi  # bbox_inches="tight", pad 0.1 in
    return float(min(sizes) * fig.dpi / 72 * min(1.0, page_px / width_px))


def contrast_ratio(foreground: str, background: str = "#ffffff") -> float:
    """The WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white). Text
    needs 4.5 (AA), the parts of a chart needed to read it 3.

    Parameters
    ----------
    foreground, background : str
        Colours matplotlib understands (``"#767676"``, ``"white"``).

    Returns
    -------
    float
        The ratio of the lighter colour's relative luminance + 0.05 to the darker one's.

    Examples
    --------
    >>> contrast_ratio("black"), round(contrast_ratio("#767676"), 2), round(contrast_ratio("silver"), 2)
    (21.0, 4.54, 1.82)
    """
    from matplotlib.colors import to_rgb

    def luminance(colour: str) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _marked(value: object) -> str:
    """A verdict or target status with its symbol (``▼ worsened``); other values as they are."""
    return f"{VERDICT_SYMBOLS[value]} {value}" if isinstance(value, str) and value in VERDICT_SYMBOLS else (
        "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def styled(df: pd.DataFrame, formats: dict[str, str | Callable] | None = None, *, na_rep: str | None = None) -> Styler:
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
        Format string (or function of the value) per column, e.g. ``{"n": "{:,}"}``.
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


def anchor(name: str) -> Markdown:
    """An invisible anchor a finding links to (``<page>.html#<name>``).

    Parameters
    ----------
    name : str
        The anchor's id: letters, digits, ``-`` and ``_`` (anything else becomes ``-``).

    Returns
    -------
    IPython.display.Markdown
        An empty ``<a id=...>`` element.

    Examples
    --------
    >>> anchor("drivers").data
    '<a id="drivers"></a>'
    >>> anchor('x" onload="y').data
    '<a id="x--onload--y"></a>'
    """
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in str(name))
    return Markdown(f'<a id="{safe}"></a>')


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
        Also state the tickets and events of the cycle's event log (a lazy frame of an
        engine, :func:`cxassess.engines.on_engine`, is counted there).

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
        tickets, rows = _log_size(cycle.events)
        counts = f" ({tickets:,} tickets, {rows:,} events)"
    return Markdown(f"**{md_text(cycle.config.title)}**, cycle **{md_text(cycle.label)}**{counts} "
                    f"compared with **{compared}**.")


def _log_size(log: object) -> tuple[int, int]:
    """Tickets (ids named) and events of an event log in memory, or counted in its engine."""
    import narwhals as nw

    frame = nw.from_native(log)
    if not isinstance(frame, nw.LazyFrame):
        return int(log["ticket_id"].nunique()), len(log)
    named = frame.filter(~nw.col("ticket_id").is_null()).select(nw.col("ticket_id").n_unique())
    return int(named.collect().item()), int(frame.select(nw.len()).collect().item())


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
            lines.append(f"| {table} | {cycle.rows(table):,} | {source} |")  # counted, not read
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
    colours = {"warning": VERDICT_COLOURS["unclear"], "ok": VERDICT_COLOURS["met"],
               "not applicable": VERDICT_COLOURS["within noise"]}

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {colours.get(v, '')}; font-weight: bold" for v in column]

    return (styled(shown.reset_index(drop=True)).apply(colour, subset=["status"], axis=0)
            .set_properties(subset=["check", "finding", "how to fix it"], **{"text-align": "left"})
            .hide(axis="index"))


def kpi_definitions() -> Styler:
    """Every KPI of the registry: name, unit, direction, definition, the smallest change
    worth acting on, and the data it needs (table and column of the export, or a setting
    of review.yml).

    Returns
    -------
    pandas.io.formats.style.Styler
        One row per KPI of :data:`cxassess.registry.KPIS`.

    Examples
    --------
    >>> shown = kpi_definitions().data
    >>> shown.columns.tolist()
    ['KPI', 'unit', 'better', 'definition', 'smallest change worth acting on', 'needs']
    >>> shown.set_index("KPI").loc["CSAT (top-box share)", "smallest change worth acting on"]
    '3.0 pp'
    """
    units = {"share": "percent", "points": "points", "hours": "hours", "score": "score"}
    rows = [{"KPI": k.label, "unit": units.get(k.unit, k.unit), "better": "higher" if k.higher_is_better else "lower",
             "definition": k.definition,
             "smallest change worth acting on": _fmt(k.id, k.min_important, change=True).lstrip("+")
             if k.min_important else "",
             "needs": ", ".join(str(n).replace("kind:", "kind = ") for n in k.needs)}
            for k in registry.KPIS.values()]
    return (styled(pd.DataFrame(rows)).set_properties(**{"text-align": "left"}).hide(axis="index"))


def _done(fig: Figure, *, title_inches: float = 0.0) -> Figure:
    """Lay out and detach a figure from pyplot, so that a notebook shows it once: when
    the caller displays it, not again when the cell ends. ``title_inches`` at the top are
    kept for the figure's title (``suptitle``), clear of the panels' own titles.
    """
    fig.tight_layout(rect=(0, 0, 1, 1 - title_inches / fig.get_figheight()))
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
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH - (1.5 if by is not None else 0.0), 3.4))
    bottom = np.zeros(len(counts))
    colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(counts.columns))]
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
    total = counts.sum(axis=1)
    if len(total) and total.max() > 0:
        busiest = total.idxmax()
        share = "" if by is None else " Split by " + ", ".join(
            f"{c} {v:.0%}" for c, v in (counts.sum() / max(1, counts.to_numpy().sum())).items()) + "."
        describe(fig, f"Bar chart: {ax.get_title()}, {len(total)} weeks, {int(total.sum()):,} tickets; the busiest "
                      f"week starts {busiest:%d %b %Y} with {int(total.max()):,} tickets, the quietest has "
                      f"{int(total.min()):,}.{share}")
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
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 0.8 + 0.4 * len(volume)))
    ax.barh(volume["label"], volume["tickets"], color=SERIES_COLOURS[0])
    ax.invert_yaxis()
    for y, (n, share) in enumerate(zip(volume["tickets"], volume["share"], strict=True)):
        ax.text(n, y, f"  {n:,} ({share:.0%})", va="center")
    ax.set_xlabel("tickets")
    ax.set_title(title)
    ax.margins(x=0.2)
    describe(fig, f"Bar chart: {title}. " + "; ".join(
        f"{name} {n:,} ({share:.0%})" for name, n, share in zip(volume["label"], volume["tickets"], volume["share"],
                                                                strict=True)) + ".")
    return _done(fig)


def _unit(kpi: str) -> str:
    """The unit of a KPI id for formatting (an unregistered ``..._hours`` id is a duration)."""
    return "hours" if kpi.endswith("_hours") else registry.unit(kpi)


def _fmt(kpi: str, value: float, *, change: bool = False) -> str:
    """A KPI value as a CX lead reads it: 48.4%, -27.1 (NPS), 4.85 (CES), 6.8 h, 23 min
    (:func:`cxassess.findings.number`). A change of a share is in percentage points
    (``+9.3 pp``).
    """
    return number(value, _unit(kpi), change=change)


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
        return [f"color: {SMALL_N_GREY}" if small[row.name] else "" for _ in row]

    return styled(shown.reset_index(drop=True)).apply(grey, axis=1).hide(axis="index")


#: Colours of the data-quality traffic lights.
#: Colours of the data-quality traffic lights: graphics of at least 3:1 on white (WCAG AA,
#: tested), each light with its own shape (:data:`LIGHT_SYMBOLS`) and its verdict in words.
LIGHT_COLOURS = {"red": "#c62828", "amber": "#b26a00", "green": "#2e7d32", "grey": "#767676"}
#: The shape of each traffic light, so that colour is never the only cue.
LIGHT_SYMBOLS = {"red": "■", "amber": "▲", "green": "●", "grey": "○"}
_NOT_AVAILABLE = "not available"
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
            "": tables["light"].map(LIGHT_SYMBOLS).fillna("●").tolist(),
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
            "": failures["status"].map({"critical": "■", "warning": "▲"}).fillna("●").tolist(),
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

    A table absent from a cycle (or of which no row was read) has no share, not 0.00 %:

    >>> absent = pd.DataFrame({"table": ["surveys"], "status": ["absent"], "quarantined_share": [np.nan],
    ...                        "warnings": [0]})
    >>> quality_comparison(absent, cycle="2026Q3", previous="2026Q2").data.iloc[0].tolist()
    ['surveys', 'not in this cycle', 'not available', 'not available', '–', 'not available', 'not available']
    """
    def col(name: str, suffix: str) -> pd.Series:
        column = f"{name}{suffix}"
        return comparison[column] if column in comparison else pd.Series([np.nan] * len(comparison))

    shown = pd.DataFrame({"table": comparison["table"]})
    for name, suffix in ((cycle, ""), (previous, "_before")):
        status = col("status", suffix)
        there = status.notna() & (status != "absent")  # unknown is not zero: no table, no figure
        shown[f"{name}: verdict"] = status.map(_LIGHT_WORDS).fillna("–")
        shown[f"{name}: quarantined"] = [f"{v:.2%}" if ok and pd.notna(v) else _NOT_AVAILABLE
                                         for ok, v in zip(there, col("quarantined_share", suffix), strict=True)]
        shown[f"{name}: warnings"] = [f"{v:.0f}" if ok and pd.notna(v) else _NOT_AVAILABLE
                                      for ok, v in zip(there, col("warnings", suffix), strict=True)]
    formats: dict[str, str] = {}
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
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 0.9 + 0.45 * len(tables)))
    colours = SERIES_COLOURS[:2]
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
    shares = comparison["quarantined_share"].fillna(0.0)
    worst = (f" The most in {comparison['table'].iloc[int(shares.to_numpy().argmax())]}: {shares.max():.{digits}%}."
             if len(shares) and shares.max() > 0 else " No row quarantined in this cycle.")
    describe(fig, f"Bar chart: share of rows quarantined per table in {cycle} beside {previous}.{worst}")
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
    return "\n".join(lines) if lines else "Nothing: every change is within noise, real but too small to act on, or rests on too few answers."


def _interval(kpi: str, low: float, high: float, *, change: bool = False) -> str:
    return interval(low, high, _unit(kpi), change=change)


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

    CSAT not available (no surveys): its n is unknown, not 0.

    >>> absent = card.assign(value=[np.nan], ci_low=[np.nan], ci_high=[np.nan], n=[0],
    ...                      note=["not available: needs `surveys`"])
    >>> scorecard_table(absent).data[["value", "n", "note"]].values.tolist()
    [['–', '–', 'not available: needs surveys']]
    """
    group = [c for c in card.columns[: list(card.columns).index("kpi")]]
    kpis = card["kpi"].tolist()
    shown = pd.DataFrame({
        **{g: card[g].astype("string").fillna("(missing)") for g in group},
        "KPI": card["label"],
        "value": [_fmt(k, v) for k, v in zip(kpis, card["value"], strict=True)],
        "95 % interval": [_interval(k, lo, hi) for k, lo, hi in zip(kpis, card["ci_low"], card["ci_high"], strict=True)],
        # a KPI not available has no count (unknown is not zero), though the scorecard says 0
        "n": [f"{int(n):,}" if pd.notna(n) and not note else "–"
              for n, note in zip(card["n"], card["note"].fillna(""), strict=True)],
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
        return [f"color: {SMALL_N_GREY}" if small[row.name] else "" for _ in row]

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {VERDICT_COLOURS[v]}; font-weight: bold" if v in VERDICT_COLOURS and not small[i] else ""
                for i, v in enumerate(column)]

    return (
        styled(shown.reset_index(drop=True)).apply(grey, axis=1)
        .apply(colour, subset=["verdict", "status"], axis=0)
        .format(_marked, subset=["verdict", "status"], escape="html")
        .set_properties(subset=["KPI", *group], **{"text-align": "left"})
        .set_properties(subset=["value", "status"], **{"white-space": "nowrap"})
        .hide(axis="index")
    )


def kpi_trends(history: pd.DataFrame, *, targets: dict[str, float] | None = None, min_n: int = 30,
               columns: int = 3) -> Figure | Markdown:
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
    columns : int, default 3
        Panels per row (the chart is :data:`FIGURE_WIDTH` wide whatever their number).

    Returns
    -------
    matplotlib.figure.Figure or IPython.display.Markdown
        One panel per KPI measured; no KPI measured in any cycle: no chart but a note
        saying what the KPIs need (from the ``note`` column, when ``history`` has one).

    Examples
    --------
    One KPI measured: one panel of the row of three is shown.

    >>> history = pd.DataFrame({"cycle": ["2026Q2", "2026Q3"], "kpi": "csat", "policy": None,
    ...                         "value": [0.8, 0.7], "ci_low": [0.75, 0.65], "ci_high": [0.85, 0.75],
    ...                         "n": [200, 20]})
    >>> fig = kpi_trends(history, targets={"csat": 0.8})
    >>> len(fig.axes), sum(ax.get_visible() for ax in fig.axes)
    (3, 1)
    >>> plt.close(fig)

    No KPI measured: a note, not an empty chart.

    >>> kpi_trends(history.assign(value=float("nan"), note="not available: needs `surveys` (no such table)")).data
    '<p><strong>KPI trends:</strong> not available: needs <code>surveys</code> (no such table)</p>'
    """
    measured = history[history["value"].notna()]
    if measured.empty:  # unknown is not zero: no empty frame of axes
        notes = history["note"] if "note" in history else pd.Series([], dtype=object)
        return note(_needs_of(notes), lead="KPI trends")
    policies = [p if isinstance(p, str) else None for p in measured["policy"]]
    panels = list(dict.fromkeys(zip(measured["kpi"], policies, strict=True)))
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(FIGURE_WIDTH, 0.5 + 2.3 * rows), squeeze=False)
    cycles = list(dict.fromkeys(history["cycle"]))
    colour = SERIES_COLOURS[0]
    off_target: list[str] = []
    for ax, (kpi, policy) in zip(axes.flat, panels, strict=False):
        same_policy = measured["policy"].isna() if policy is None else measured["policy"] == policy
        part = measured[(measured["kpi"] == kpi) & same_policy].set_index("cycle").reindex(cycles)
        x = np.arange(len(cycles))
        scale = 100.0 if kpi in PERCENT_KPIS else 1.0
        value, low, high = (part[c].to_numpy(dtype=float) * scale for c in ("value", "ci_low", "ci_high"))
        ax.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, low, x, high, color=colour, linewidth=0.8, linestyle=":")  # the band's edges, visible in grey print
        ax.plot(x, value, color=colour, linewidth=1.5)
        small = part["n"].to_numpy(dtype=float) < min_n
        ax.scatter(x[~small], value[~small], color=colour, zorder=3, s=18)
        ax.scatter(x[small], value[small], facecolors="white", edgecolors=colour, zorder=3, s=18)
        target = (targets or {}).get(kpi)
        if target is not None:
            ax.axhline(target * scale, color=VERDICT_COLOURS["missed"], linestyle="--", linewidth=1)
            seen = value[~np.isnan(value)]
            higher = registry.KPIS[kpi].higher_is_better if kpi in registry.KPIS else True
            if len(seen) and (seen[-1] < target * scale if higher else seen[-1] > target * scale):
                off_target.append(label(kpi, policy))
        ax.set_title(textwrap.fill(label(kpi, policy), 26), fontsize=FONT["small"])
        ax.set_xticks(x, [re.sub(r"^(\d{4})(\D.*)$", r"\2\n\1", str(c)) for c in cycles], fontsize=FONT["small"])
        ax.tick_params(axis="y", labelsize=FONT["small"])
        if scale == 100.0:
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(textwrap.fill("KPIs across the cycles: 95 % band, target dashed, hollow = n too small", 70),
                 fontsize=FONT["title"], fontweight="bold")
    more = f" and {len(off_target) - 6} more" if len(off_target) > 6 else ""
    said = (f" On the wrong side of their target in {cycles[-1]}: {', '.join(off_target[:6])}{more}." if off_target
            else " Every KPI with a target meets it in the last cycle." if targets else "")
    describe(fig, f"Small charts of {len(panels)} KPI(s) across the cycles {', '.join(map(str, cycles))}, "
                  f"each with its 95 % interval and its target.{said}")
    return _done(fig, title_inches=0.3)


#: Largest height of a breakdown chart (inches): a chart never grows with the segments.
MAX_CHART_HEIGHT = 9.0
#: Panels (KPIs) per row of a breakdown chart: each keeps room for its axis at page width.
BREAKDOWN_COLUMNS = 3


def kpi_breakdown(card: pd.DataFrame, *, by: str, kpis: list[str], min_n: int = 30) -> Figure:
    """Each segment's value with its 95 % interval (dot and bar), the previous cycle as a
    hollow ring, coloured by the verdict of the change (hollow grey: n too small): one panel
    per KPI, :data:`BREAKDOWN_COLUMNS` to a row, segments in the order of ``card`` (show the
    largest ones: :func:`cxassess.kpis.breakdown`). The chart is :data:`FIGURE_WIDTH` wide
    (legible on the printed page); each row of panels is as tall as its segments need, the
    whole up to :data:`MAX_CHART_HEIGHT`. Its alt text names the segments that moved.

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
    columns = max(1, min(BREAKDOWN_COLUMNS, len(kpis)))
    rows = max(1, -(-len(kpis) // columns))
    panel = 0.55 + 0.3 * len(segments)  # sized by the segments: each gets the same room
    height = min(MAX_CHART_HEIGHT, 0.8 + rows * panel)
    fig, axes = plt.subplots(rows, columns, figsize=(FIGURE_WIDTH, height), squeeze=False, sharey=True)
    position = {s: i for i, s in enumerate(segments)}
    moves: dict[str, list[str]] = {"improved": [], "worsened": []}
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        part = card[(card["kpi"] == kpi) & card["policy"].isna()]
        scale = 100.0 if kpi in PERCENT_KPIS else 1.0
        y = part[by].astype("string").fillna("(missing)").map(position).to_numpy(dtype=float)
        enough = (part["n"].fillna(0) >= min_n).to_numpy()
        colours = [VERDICT_COLOURS.get(v, TEXT_GREY) if ok else SMALL_N_GREY
                   for v, ok in zip(part["verdict"], enough, strict=True)]
        ax.hlines(y, part["ci_low"] * scale, part["ci_high"] * scale, colors=colours, linewidth=2)
        value = (part["value"] * scale).to_numpy(dtype=float)
        ax.scatter(value[enough], y[enough], color=[c for c, ok in zip(colours, enough, strict=True) if ok],
                   zorder=3, s=30)
        ax.scatter(value[~enough], y[~enough], facecolors="white", edgecolors=SMALL_N_GREY, zorder=3, s=30)
        ax.scatter(part["previous"] * scale, y, facecolors="none", edgecolors="#333333", zorder=2, s=30)
        ax.set_title(textwrap.fill(label(kpi, None), 24), fontsize=FONT["small"])
        if scale == 100.0:
            ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        for segment, verdict, ok in zip(part[by].astype("string").fillna("(missing)"), part["verdict"], enough,
                                        strict=True):
            if ok and verdict in moves:
                moves[verdict].append(f"{segment} ({label(kpi, None)})")
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    for first in axes[:, 0]:
        first.set_yticks(range(len(segments)), [textwrap.shorten(s, 22, placeholder="…") for s in segments])
        first.set_ylim(len(segments) - 0.5, -0.5)
    fig.suptitle(textwrap.fill(f"By {by}: this cycle (dot, 95 % interval; green improved, red worsened, "
                               "hollow = n too small) and the previous one (ring)", 72),
                 fontsize=FONT["normal"], fontweight="bold")
    said = "".join(f" {verdict.capitalize()} for real: {'; '.join(found[:6])}{' and more' if len(found) > 6 else ''}."
                   for verdict, found in moves.items() if found) or " No segment moved for real."
    describe(fig, f"Dot-and-interval chart of {len(kpis)} KPI(s) for {len(segments)} {by} segment(s), this cycle "
                  f"against the previous one.{said}")
    return _done(fig, title_inches=0.45)


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
        The objects to display, in order; the heading carries the section's anchor
        (``by-<column>``, the one findings link to); a breakdown that is missing gives its
        heading and a note saying why.

    Examples
    --------
    >>> from cxassess.kpis.breakdown import Breakdown
    >>> empty = pd.DataFrame()
    >>> part = Breakdown("team", empty, empty, empty, top=12, missing="not available: needs `tickets.team`")
    >>> [shown.data.splitlines()[-1] for shown in breakdown_section(part)]
    ['### By team', '<p>not available: needs <code>tickets.team</code>. No breakdown by it.</p>']
    >>> breakdown_section(part)[0].data.splitlines()[0]  # the anchor findings link to
    '<a id="by-team"></a>'
    """
    from html import escape

    from IPython.display import HTML, Markdown

    by = escape(part.by)
    title = Markdown(f"{anchor(anchor_of(f'by {part.by}')).data}\n\n### By {by}")
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
    >>> [shown.data.split()[-1] for shown in breakdown_sections(parts)][::2]
    ['team', 'agent_id']
    """
    shown: list = []
    for part in parts:
        shown += breakdown_section(part, min_n=min_n, csv=part.write_csv(csv_folder))
    return shown


#: Font size (points) of every text of the flow chart: legible when the page shows it.
FLOW_FONT = FONT["small"]
#: Largest size of the flow chart (inches): its width fits the printed page at :data:`DPI`
#: without being scaled down, so the fonts keep their size on screen and on paper.
FLOW_MAX_SIZE = (FIGURE_WIDTH, 14.0)
#: Colours of the arrows, from short to long median time in the stage left (amber to dark
#: red; each at least 3:1 on the lanes' shading, tested).
FLOW_RAMP = ("#b87800", "#d45a00", "#b03a2e", "#7f0000")
#: The neutral colour of the customer's own time (arrows leaving a ``customer_time`` stage).
CUSTOMER_GREY = "#7a7a7a"
#: Fill of the bottleneck's box (the text on it keeps 4.5:1).
BOTTLENECK_FILL = "#fdecea"


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

    The desk's bottleneck (rank 1 of ``bottleneck_rank``) has a thick red, shaded box
    marked ▲; the customer's own time (stages flagged ``customer_time``, e.g.
    waiting for the survey) has dashed grey boxes and its arrows are drawn in neutral grey,
    outside the colour scale of the desk's time.

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
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    stages = metrics[metrics["entering"] > 0].reset_index(drop=True)
    lanes = list(dict.fromkeys(stages["lane"].replace("", "(no lane)")))
    row = {s: i for i, s in enumerate(stages["stage"])}
    column = {s: lanes.index(lane or "(no lane)") for s, lane in zip(stages["stage"], stages["lane"], strict=True)}
    left, right, top, bottom = 0.3, 1.0, 0.75, 0.75  # margins (inches): colour bar right, legend below
    lane_in = min(2.2, (FLOW_MAX_SIZE[0] - left - right) / max(1, len(lanes)))
    row_in = min(1.0, (FLOW_MAX_SIZE[1] - top - bottom) / max(1, len(stages)))
    width = min(FLOW_MAX_SIZE[0], left + lane_in * len(lanes) + right)
    height = min(FLOW_MAX_SIZE[1], top + row_in * len(stages) + bottom)
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
        ax.add_patch(plt.Rectangle((i - 0.5, -0.5), 1.0, len(stages), color=BACKGROUNDS[2 if i % 2 else 1],
                                   zorder=0))
        ax.text(i, -0.5 - 0.05 / row_in, textwrap.shorten(lane, int(lane_in * 72 / (FLOW_FONT * 0.65)),
                                                           placeholder="…"),
                ha="center", va="bottom", fontsize=FLOW_FONT, color=TEXT_GREY, fontweight="bold")
    cmap = LinearSegmentedColormap.from_list("desk_time", FLOW_RAMP)
    customer = set(stages.loc[stages["customer_time"].astype(bool), "stage"]) if "customer_time" in stages else set()
    waits = flow.loc[~flow["source"].isin(customer), "median_wait_hours"].to_numpy(dtype=float)
    norm = Normalize(vmin=0, vmax=max(1.0, float(np.nanmax(waits)) if np.isfinite(waits).any() else 1.0))
    box = {}
    bottleneck = None
    for s in stages.itertuples():
        first = pd.notna(s.bottleneck_rank) and s.bottleneck_rank == 1
        theirs = s.stage in customer
        edge = VERDICT_COLOURS["missed"] if first else (TEXT_GREY if theirs else "#333333")
        x, y = column[s.stage], row[s.stage]
        box[s.stage] = FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                      boxstyle="round,pad=0.0,rounding_size=0.06",
                                      facecolor=BOTTLENECK_FILL if first else "white", edgecolor=edge,
                                      linewidth=2.8 if first else 1.0, linestyle=(0, (3, 2)) if theirs else "-",
                                      zorder=3)
        ax.add_patch(box[s.stage])
        lines = textwrap.wrap(str(s.label), chars, max_lines=2, placeholder="…") or [""]
        ax.text(x, y - box_h / 2 + 0.04 / row_in, "\n".join(lines), ha="center", va="top", fontsize=FLOW_FONT,
                fontweight="bold", zorder=4, linespacing=1.0)
        hours = "–" if pd.isna(s.median_hours) else f"{s.median_hours:.1f} h"
        ax.text(x, y + box_h / 2 - 0.04 / row_in, f"{'▲ ' if first else ''}{s.entering:,} · {hours}", ha="center",
                va="bottom", fontsize=FLOW_FONT, color=edge, zorder=4, fontweight="bold" if first else "normal")
        if first:
            bottleneck = s
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
        colour = CUSTOMER_GREY if r.source in customer else cmap(norm(r.median_wait_hours))
        arrow = FancyArrowPatch(
            (x1, y1), (x2, y2), connectionstyle=f"arc3,rad={rad:.3f}", arrowstyle="-|>", mutation_scale=8 + 2 * lw,
            linewidth=lw, color=colour, linestyle="-" if r.allowed else (0, (3, 1.5)),
            patchA=box[r.source], patchB=box[r.target], shrinkA=1, shrinkB=1, zorder=2, alpha=0.9,
            gid=f"arrow:{r.source}->{r.target}", clip_on=False,
        )
        ax.add_patch(arrow)
        arrows.append((r, arrow))
    cax = fig.add_axes(((width - right + 0.15) / width, bottom / height, 0.14 / width, row_in * len(stages) / height))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.set_label("median hours in the desk's stage left", fontsize=FLOW_FONT)
    bar.ax.tick_params(labelsize=FLOW_FONT)
    ax.legend(handles=[Line2D([], [], color=FLOW_RAMP[1], linewidth=2, label="designed flow"),
                       Line2D([], [], color=FLOW_RAMP[1], linewidth=2, linestyle=(0, (3, 1.5)),
                              label="outside the flow"),
                       Line2D([], [], color=CUSTOMER_GREY, linewidth=2, label="the customer's time"),
                       plt.Rectangle((0, 0), 1, 1, facecolor=BOTTLENECK_FILL, edgecolor=VERDICT_COLOURS["missed"],
                                     linewidth=2.5, label="▲ the desk's bottleneck"),
                       plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#333333",
                                     label="stage: tickets · median time")],
              loc="upper left", bbox_to_anchor=(0.0, 0.0), ncol=3, frameon=False, fontsize=FLOW_FONT,
              borderaxespad=0.3, handlelength=1.6, columnspacing=1.0)
    note = f" ({hidden} move(s) with fewer than {floor:,} tickets not drawn)" if hidden else ""
    fig.suptitle(textwrap.fill(f"{title}: arrows weighted by tickets", int(width * 10)) + note.replace(" (", "\n(", 1),
                 fontsize=FONT["normal"],
                 fontweight="bold", x=0.5 * (left + lane_in * len(lanes)) / width, y=1 - 0.06 / height, va="top")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text()]
    taken += [b.get_window_extent(renderer) for b in box.values()]
    candidates = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.46, 0.54, 0.38, 0.62, 0.3, 0.7, 0.15, 0.85,
                  *sorted(np.linspace(0.08, 0.92, 43), key=lambda t: abs(t - 0.5)))
    for r, arrow in arrows:
        line = _polyline(arrow.get_path(), ax.transData)
        text = ax.text(0, 0, f"{r.tickets:,}", fontsize=FLOW_FONT, ha="center", va="center", color="#222222",
                       zorder=5, gid=f"count:{r.source}->{r.target}",
                       bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})
        best = (np.inf, candidates[0])
        for t in candidates:
            text.set_position(ax.transData.inverted().transform(_point_along(line, t)))
            extent = text.get_window_extent(renderer).padded(1)
            clash = sum(max(0.0, min(extent.x1, o.x1) - max(extent.x0, o.x0))
                        * max(0.0, min(extent.y1, o.y1) - max(extent.y0, o.y0)) for o in taken)
            if clash < best[0]:
                best = (clash, t)
            if clash == 0:
                break
        text.set_position(ax.transData.inverted().transform(_point_along(line, best[1])))  # else the least overlap
        taken.append(text.get_window_extent(renderer))
    heaviest = drawn.sort_values("tickets", ascending=False).head(1)
    said = (f" The desk's bottleneck is {bottleneck.label}: {bottleneck.entering:,} tickets, median "
            f"{bottleneck.median_hours:.1f} h in the stage." if bottleneck is not None
            and pd.notna(bottleneck.median_hours) else " No bottleneck is ranked.")
    if len(heaviest):
        h = heaviest.iloc[0]
        names = dict(zip(stages["stage"], stages["label"], strict=True))
        said += f" The heaviest move is {names[h['source']]} to {names[h['target']]} ({int(h['tickets']):,} tickets)."
    describe(fig, f"Flow chart of {len(stages)} stages in {len(lanes)} lanes, arrows weighted by tickets and "
                  f"coloured by the median time in the stage they leave.{said}")
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
    ['no transfer', '1 transfer']
    >>> plt.close(fig)
    """
    rows = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 1.0 + 0.38 * len(rows)))
    colour = SERIES_COLOURS[0]
    for i, r in rows.iterrows():
        ax.plot([100 * r.ci_low, 100 * r.ci_high], [i, i], color=colour, linewidth=2)
        ax.scatter(100 * r.value, i, color=colour, zorder=3)
        ax.text(100 * r.ci_high + 1, i, f"n = {int(r.n):,}", va="center", fontsize=FONT["small"], color=TEXT_GREY)
    ax.set_yticks(range(len(rows)), [path_label(a, g) for a, g in zip(rows["attribute"], rows["group"], strict=True)])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_xlabel("CSAT (top-box share), 95 % interval")
    ax.set_title("Satisfaction by the path the ticket took")
    ax.margins(x=0.15)
    if len(rows):
        names = [path_label(a, g) for a, g in zip(rows["attribute"], rows["group"], strict=True)]
        hi, lo = int(rows["value"].to_numpy().argmax()), int(rows["value"].to_numpy().argmin())
        describe(fig, f"Dot-and-interval chart: CSAT of {len(rows)} groups of tickets by the path they took. "
                      f"Highest: {names[hi]} {rows['value'].iloc[hi]:.0%}; lowest: {names[lo]} "
                      f"{rows['value'].iloc[lo]:.0%}.")
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
        return _fmt("stage_hours", v).replace(" ", "\u00a0")  # the unit stays with its number

    shown = pd.DataFrame({
        "stage": stages["label"],
        "entering": stages["entering"], "ending here": stages["ending_here"],
        "of which open": stages["open_here"], "loops": stages["loops"],
        "median time": [hours(v) for v in stages["median_hours"]],
        "95 % interval": [_interval("stage_hours", lo, hi) for lo, hi in
                          zip(stages["ci_low"], stages["ci_high"], strict=True)],
        "p90": [hours(v) for v in stages["p90_hours"]],
        "over target": [f"{o:.0%} (> {t:g} h)" if pd.notna(o) else ""
                        for o, t in zip(stages["over_target"], stages["target_hours"], strict=True)],
        "share of desk time": [f"{v:.0%}" if pd.notna(v) else "–"
                               for v in stages.get("desk_share", pd.Series(np.nan, index=stages.index))],
        "rank (before)": [f"#{int(r)} ({'–' if pd.isna(b) else f'#{int(b)}'})" if pd.notna(r)
                                else "customer time" for r, b in zip(stages["bottleneck_rank"], stages["rank_before"],
                                                                     strict=True)],
        "median before": [hours(v) for v in stages["median_before"]],
        "change of median": ["" if pd.isna(d) else _fmt("stage_hours", d, change=True) for d in stages["change"]],
        "its interval": [_interval("stage_hours", lo, hi, change=True) if pd.notna(lo) else "" for lo, hi in
                         zip(stages["change_low"], stages["change_high"], strict=True)],
        "verdict": stages["verdict"],
    })

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {VERDICT_COLOURS[v]}; font-weight: bold" if v in VERDICT_COLOURS else "" for v in column]

    return (styled(shown, {c: "{:,}" for c in ("entering", "ending here", "of which open", "loops")})
            .apply(colour, subset=["verdict"], axis=0)
            .format(_marked, subset=["verdict"], escape="html")
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


#: How a path group reads on a page: attribute -> group (as text) -> words.
PATH_GROUPS = {
    "transfers": {"0": "no transfer", "1": "1 transfer", "2+": "2 or more transfers"},
    "escalated": {"False": "not escalated", "True": "escalated to a specialist"},
    "loop": {"False": "no stage repeated", "True": "re-entered a stage"},
    "conforms": {"True": "followed the designed flow", "False": "left the designed flow"},
}


def path_label(attribute: str, group: object) -> str:
    """A path group in words: ``("transfers", "2+")`` → ``"2 or more transfers"``.

    Parameters
    ----------
    attribute : str
        ``transfers``, ``escalated``, ``loop`` or ``conforms``.
    group : object
        The group (``"0"``, ``True`` ...).

    Returns
    -------
    str

    Examples
    --------
    >>> path_label("escalated", False), path_label("transfers", "2+"), path_label("other", "x")
    ('not escalated', '2 or more transfers', 'other: x')
    """
    return PATH_GROUPS.get(attribute, {}).get(str(group), f"{attribute}: {group}")


def path_table(table: pd.DataFrame) -> Styler:
    """CSAT by path group with the difference to the reference group and its interval; the
    reference group itself says "reference" (no change against itself).

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
    ...                   "diff_low": [0.0, -0.7], "diff_high": [0.0, -0.2], "reference": [True, False]})
    >>> path_table(t).data[["path", "CSAT", "difference to reference", "its interval"]].values.tolist()
    [['no transfer', '100.0%', 'reference', ''], ['1 transfer', '50.0%', '-50.0 pp', '-70.0 pp to -20.0 pp']]
    """
    reference = (table["reference"].astype(bool) if "reference" in table
                 else pd.Series(False, index=table.index)).to_numpy()
    shown = pd.DataFrame({
        "path": [path_label(a, g) for a, g in zip(table["attribute"], table["group"], strict=True)],
        "CSAT": [_fmt("csat", v) for v in table["value"]],
        "95 % interval": [_interval("csat", lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
        "n": table["n"].astype("int64").to_numpy(),
        "difference to reference": ["reference" if ref else _fmt("csat", d, change=True)
                                    for ref, d in zip(reference, table["difference"], strict=True)],
        "its interval": ["" if ref else _interval("csat", lo, hi, change=True) for ref, lo, hi in
                         zip(reference, table["diff_low"], table["diff_high"], strict=True)],
    })
    return styled(shown, {"n": "{:,}"}).set_properties(subset=["path"], **{"text-align": "left"}).hide(axis="index")


#: KPIs of the summary page's tiles, in order (those the cycle cannot measure are left out).
TILE_KPIS = ("csat", "nps", "fcr", "transfer_rate", "escalation_rate", "reopen_rate",
             "frt_business_hours", "ttr_business_hours", "frt_hours", "ttr_hours")
_ARROWS = {"improved": ("▲", "improved"), "worsened": ("▼", "worsened"), "real but small": ("◆", "real but small"),
           "within noise": ("●", "within noise")}


def _sparkline(values: list[float], labels: list[str], height: int = 26) -> str:
    """A row of small bars (oldest first, the last one darker) drawn with CSS alone, with
    the figures as its text for screen readers and print.
    """
    points = [v for v in values if pd.notna(v)]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    bars = []
    for i, v in enumerate(values):
        h = 0 if pd.isna(v) else 4 + (height - 4) * (v - low) / span
        colour = "#0069a3" if i == len(values) - 1 else "#767676"
        bars.append(f'<span style="height:{h:.0f}px;background:{colour}"></span>')
    words = html.escape(", ".join(labels))
    return (f'<div class="spark" title="{words}" style="height:{height}px">{"".join(bars)}</div>'
            f'<div class="sr">trend: {words}</div>')


def _target_bar(kpi: str, value: float, target: float) -> str:
    """A bar of a share against its target (a tick), as text-free HTML with a caption."""
    if registry.unit(kpi) != "share" or pd.isna(target) or pd.isna(value):
        return ""
    good = value >= target if registry.kpi(kpi).higher_is_better else value <= target
    colour = "#2e7d32" if good else "#c62828"
    return (f'<div class="bar" aria-hidden="true"><span style="width:{100 * value:.1f}%;background:{colour}"></span>'
            f'<i style="left:{100 * target:.1f}%"></i></div>')


def kpi_tiles(card: pd.DataFrame, history: pd.DataFrame | None = None, *, kpis: tuple[str, ...] = TILE_KPIS,
              min_n: int = 30) -> HTML:
    """The summary page's KPI tiles: value, 95 % interval, change arrow and verdict, the
    target (a bar with the target's tick for shares) and a sparkline over the earlier
    cycles (:func:`cxassess.kpis.kpi_history`). Every value from data is escaped.

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`cxassess.kpis.scorecard` of the cycle.
    history : pandas.DataFrame, optional
        :func:`cxassess.kpis.kpi_history` up to the cycle, for the sparklines.
    kpis : tuple of str, default TILE_KPIS
        The KPIs to show, in order; those not measured are left out (none measured: a
        note saying what they need).
    min_n : int, default 30
        A figure on fewer answers says "n too small".

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> card = pd.DataFrame({"kpi": ["csat"], "policy": [None], "label": ["CSAT"], "value": [0.48],
    ...     "ci_low": [0.43], "ci_high": [0.53], "n": [372], "previous": [0.53], "change": [-0.05],
    ...     "verdict": ["within noise"], "target": [0.8], "target_status": ["missed"], "note": [""]})
    >>> out = kpi_tiles(card).data
    >>> "48.0%" in out, "target 80.0%: missed" in out, "within noise" in out
    (True, True, True)

    No headline KPI available: a note naming what they need, not an empty row of tiles.

    >>> absent = card.assign(value=[float("nan")], note=["not available: needs `surveys` (no such table)"])
    >>> kpi_tiles(absent).data
    '<p><strong>Headline KPIs:</strong> not available: needs <code>surveys</code> (no such table)</p>'
    """
    from html import escape

    rows = card[card["policy"].isna() & (card["note"].fillna("") == "")].set_index("kpi")
    tiles = []
    for kpi in kpis:
        if kpi not in rows.index or pd.isna(rows.at[kpi, "value"]):
            continue
        r = rows.loc[kpi]
        unit = _unit(kpi)
        verdict = str(r["verdict"])
        arrow, words = _ARROWS.get(verdict, ("", verdict))
        if verdict in _ARROWS and pd.notna(r.get("change")):
            words = f"{_fmt(kpi, r['change'], change=True)} vs before: {words}"
        elif verdict.startswith("not comparable"):
            words = verdict
        target = r.get("target")
        goal = (f"target {_fmt(kpi, target)}: {escape(str(r['target_status']))}" if pd.notna(target) else "no target")
        spark = ""
        if history is not None and len(history):
            line = history[(history["kpi"] == kpi) & history["policy"].isna()]
            spark = _sparkline(line["value"].astype(float).tolist(),
                               [f"{c} {_fmt(kpi, v)}" for c, v in zip(line["cycle"], line["value"], strict=True)])
        small = " (n too small)" if r["n"] < min_n else ""
        css = "worse" if verdict == "worsened" else "better" if verdict == "improved" else ""
        tiles.append(
            f'<div class="tile"><div class="name">{escape(str(r["label"]))}</div>'
            f'<div class="value">{escape(_fmt(kpi, r["value"]))}</div>'
            f'<div class="ci">95 % interval {escape(interval(r["ci_low"], r["ci_high"], unit))}, '
            f'n = {int(r["n"]):,}{small}</div>'
            f'<div class="verdict {css}">{arrow} {escape(words)}</div>'
            f'{_target_bar(kpi, r["value"], target)}<div class="target">{goal}</div>{spark}</div>')
    style = ("<style>.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 16px}"
             ".tile{border:1px solid #767676;border-radius:6px;padding:8px 10px;width:200px;font-size:13px}"
             ".tile .name{font-weight:600}.tile .value{font-size:24px;font-weight:700}"
             ".tile .ci,.tile .target{color:#444}.tile .worse{color:#b71c1c;font-weight:600}"
             ".tile .better{color:#1b5e20;font-weight:600}.tile .bar{position:relative;height:8px;"
             "background:#ebebeb;margin:4px 0}.tile .bar span{display:block;height:8px}"
             ".tile .bar i{position:absolute;top:-3px;width:2px;height:14px;background:#222}"
             ".tile .spark{display:flex;align-items:flex-end;gap:3px;margin-top:6px}"
             ".tile .spark span{display:inline-block;width:14px}"
             ".tile .sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
             ".tile{position:relative}</style>")
    if not tiles:  # unknown is not zero: say what the headline KPIs need, not an empty row of tiles
        return HTML(note(_needs_of(card[card["policy"].isna() & card["kpi"].isin(kpis)]["note"]),
                         lead="Headline KPIs").data)
    return HTML(style + '<div class="tiles">' + "".join(tiles) + "</div>")


def _needs_of(notes: pd.Series) -> str:
    """One "not available: needs ..." sentence for KPIs that are all not available: what
    their notes name, each once, in order.

    >>> _needs_of(pd.Series(["not available: needs `surveys` (no such table in this cycle)",
    ...     "not available: needs `tickets.resolved_at` (no such column), `surveys` (no such table in this cycle)"]))
    'not available: needs `surveys` (no such table in this cycle), `tickets.resolved_at` (no such column)'
    >>> _needs_of(pd.Series([], dtype=object))
    'not available: no KPI of the cycle can be computed'
    """
    lead = "not available: needs "
    items = dict.fromkeys(item for text in notes.fillna("").astype(str) if text.startswith(lead)
                          for item in re.split(r", (?=`)", text.removeprefix(lead)))
    return lead + ", ".join(items) if items else "not available: no KPI of the cycle can be computed"


def findings_list(found: list, *, top: int | None = None, here: str | None = None,
                  severities: tuple[str, ...] | None = None) -> HTML:
    """Findings (ranked: :func:`cxassess.findings.rank`) as a numbered list of plain
    sentences, each with its evidence and a link to the page and section that show it.

    Parameters
    ----------
    found : list of Finding
        The findings, most important first.
    top : int, optional
        Show only the first ``top`` subjects: findings about the same team or stage
        (:func:`cxassess.findings.by_subject`) are one item, the most important leading and
        the others listed under it ("Also: ...").
    here : str, optional
        The stem of the page showing the list: links to its own sections stay on the page.
    severities : tuple of str, optional
        Only the findings of these severities (``("high", "medium")``: those to act on;
        the low ones are good news or context).

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> from cxassess.findings import Finding
    >>> f = Finding("CSAT is 48% against a target of 80%", "n = 372", "high", 0.5, "20_kpi_scorecard",
    ...             "scorecard")
    >>> 'href="20_kpi_scorecard.html#scorecard"' in findings_list([f]).data
    True
    >>> findings_list([]).data
    '<p>Nothing found: every change is within noise, small, or rests on too few answers.</p>'
    """
    from html import escape

    from cxassess.findings import by_subject

    groups = by_subject(found, top=top, severities=severities)
    if not groups:
        return HTML("<p>Nothing found: every change is within noise, small, or rests on too few answers.</p>")

    def link(f) -> str:
        href = f"#{f.anchor}" if here is not None and f.page == here else f.href
        return f'<a href="{escape(href, quote=True)}">see the evidence</a>'

    items = []
    for f, others in groups:
        also = ""
        if others:
            also = ('<ul class="also">' + "".join(
                f'<li>Also: {escape(o.what)} · {link(o)}</li>' for o in others) + "</ul>")
        items.append(f'<li class="finding {escape(f.severity)}"><strong>{escape(f.what)}</strong> '
                     f'<span class="sev">[{escape(f.severity)}]</span><br><span class="ev">{escape(f.evidence)}</span> '
                     f'· {link(f)}{also}</li>')
    return HTML('<ol class="findings">' + "".join(items) + "</ol>")


def next_steps(found: list, *, top: int | None = None) -> HTML:
    """What to do next: the action of each finding (most important first), with what it
    concerns (its stage, team, ``figures["concern"]`` or KPI); an action shared by several
    findings is said once.

    Parameters
    ----------
    found : list of Finding
        The findings, most important first.
    top : int, optional
        Only the actions of the first ``top`` findings.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> from cxassess.findings import Finding
    >>> f = Finding("x", "n = 1", "high", 0.5, "10_process_stages", stage="Specialist level",
    ...             action="Add specialist capacity.")
    >>> next_steps([f]).data
    '<ol class="next"><li><strong>Specialist level</strong>: Add specialist capacity.</li></ol>'
    """
    from html import escape

    seen, items = set(), []
    for f in list(found)[:top] if top else list(found):
        if not f.action or f.action in seen:
            continue
        seen.add(f.action)
        concern = f.stage or f.team or f.figures.get("concern") or (label(f.kpi) if f.kpi else "")
        head = f"<strong>{escape(concern)}</strong>: " if concern else ""
        items.append(f"<li>{head}{escape(f.action)}</li>")
    if not items:
        return HTML("<p>Nothing to act on this cycle.</p>")
    return HTML('<ol class="next">' + "".join(items) + "</ol>")


#: Terms the pages use that a CX lead may not know, each in one sentence.
GLOSSARY = {
    "95 % interval": "the range in which the true figure lies with 95 % confidence, given how many tickets or "
                     "answers it rests on; a change is real only when its interval does not include 0.",
    "Median (Kaplan–Meier)": "the time by which half of the tickets were answered or resolved, counting the "
                             "tickets still waiting at the cycle's end for as long as they had waited.",
    "Minimum important difference": "the smallest change worth acting on; a real change below it is "
                                    "'real but small'.",
    "pp (percentage points)": "the difference between two percentages: 40 % against 30 % is +10 pp.",
    "Top-box share (CSAT)": "the share of answers in the top two boxes of the scale (4 or 5 of 5).",
    "Business hours": "time counted only inside the desk's working hours of review.yml (nights, "
                      "Sundays and holidays left out).",
    "Bottleneck": "the stage where tickets spend the largest share of the desk's time.",
}


def glossary(terms: tuple[str, ...] | None = None) -> HTML:
    """A short glossary for the end of a page: each term in one sentence.

    Parameters
    ----------
    terms : tuple of str, optional
        The terms of :data:`GLOSSARY` to list (default: all).

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> "Kaplan–Meier" in glossary().data
    True
    """
    from html import escape

    chosen = terms or tuple(GLOSSARY)
    rows = "".join(f"<dt>{escape(t)}</dt><dd>{escape(GLOSSARY[t])}</dd>" for t in chosen if t in GLOSSARY)
    return HTML(f'<dl class="glossary">{rows}</dl>')


def _stage_labels(process: object | None) -> dict[str, str]:
    """Stage id -> its label of review.yml (empty without a process)."""
    return {s.name: s.label for s in getattr(process, "stages", ())} if process is not None else {}


def handoff_table(pairs: pd.DataFrame) -> Styler:
    """Handoffs between teams (:func:`cxassess.process.handoffs`) in plain words: from
    which team to which, and how many tickets; the count of handoffs only when a ticket was
    handed over between the same teams more than once.

    Parameters
    ----------
    pairs : pandas.DataFrame
        ``from_team, to_team, handoffs, tickets``.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> pairs = pd.DataFrame({"from_team": ["a"], "to_team": ["b"], "handoffs": [3], "tickets": [3]})
    >>> handoff_table(pairs).data.columns.tolist()
    ['from team', 'to team', 'tickets handed over']
    """
    shown = pd.DataFrame({"from team": pairs["from_team"].to_numpy(), "to team": pairs["to_team"].to_numpy(),
                          "tickets handed over": pairs["tickets"].to_numpy()})
    if not (pairs["handoffs"] == pairs["tickets"]).all():
        shown["handoffs (a ticket may go more than once)"] = pairs["handoffs"].to_numpy()
    return table(shown)


def variant_table(variants: pd.DataFrame, process: object | None = None) -> Styler:
    """The most frequent paths (:func:`cxassess.process.variants`) with the stages' names,
    their share of tickets and their median time from the first to the last event.

    Parameters
    ----------
    variants : pandas.DataFrame
        ``path, tickets, share, median_hours``.
    process : Process, optional
        review.yml's process, for the stages' labels.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> from cxassess.config import Process, Stage
    >>> p = Process(stages=(Stage("a", "Intake", "L"), Stage("b", "Specialist", "L")), activities={})
    >>> v = pd.DataFrame({"path": ["a → b"], "tickets": [10], "share": [0.5], "median_hours": [0.5]})
    >>> variant_table(v, p).data.values.tolist()
    [['Intake → Specialist', 10, 0.5, '30 min']]
    """
    names = _stage_labels(process)
    shown = pd.DataFrame({
        "path": [" → ".join(names.get(s, s) for s in str(path).split(" → ")) for path in variants["path"]],
        "tickets": variants["tickets"].to_numpy(), "share": variants["share"].to_numpy(),
        "median time, first to last event": [_fmt("path_hours", v) for v in variants["median_hours"]],
    })
    return table(shown)


def deviation_table(deviations: pd.DataFrame, process: object | None = None) -> Styler:
    """Moves outside the designed flow (:func:`cxassess.process.conformance`) with the
    stages' names.

    Parameters
    ----------
    deviations : pandas.DataFrame
        ``source, target, tickets, moves``.
    process : Process, optional
        review.yml's process, for the stages' labels.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> d = pd.DataFrame({"source": ["a"], "target": ["c"], "tickets": [4], "moves": [5]})
    >>> deviation_table(d).data.columns.tolist()
    ['from stage', 'to stage', 'tickets', 'moves']
    """
    names = _stage_labels(process)
    shown = pd.DataFrame({"from stage": [names.get(s, s) for s in deviations["source"]],
                          "to stage": [names.get(s, s) for s in deviations["target"]],
                          "tickets": deviations["tickets"].to_numpy(), "moves": deviations["moves"].to_numpy()})
    return table(shown)


def xmr_chart(chart: pd.DataFrame, found: pd.DataFrame | None = None, *, title: str, percent: bool = False,
              markers: pd.DataFrame | None = None) -> Figure:
    """An XmR chart: the weekly values with the centre line and natural process limits of
    each phase (top), the moving ranges with their upper range limit (bottom), points that
    break a run rule in red, and each done action as a dashed vertical line with its id.

    Parameters
    ----------
    chart : pandas.DataFrame
        :func:`cxassess.control.xmr` of a series indexed by week.
    found : pandas.DataFrame, optional
        :func:`cxassess.control.signals` of it (points of a signal are drawn red).
    title : str
        Title of the chart (the KPI's name).
    percent : bool, default False
        Show values as percentages (shares).
    markers : pandas.DataFrame, optional
        ``[when, label]`` of the actions to mark (:func:`cxassess.improve.action_markers`).

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    >>> from cxassess import control
    >>> weeks = pd.date_range("2026-01-05", periods=12, freq="7D")
    >>> c = control.xmr(pd.Series([5, 6, 5, 7, 6, 5, 6, 5, 6, 7, 12, 6.0], index=weeks))
    >>> fig = xmr_chart(c, control.signals(c), title="Tickets per week",
    ...                 markers=pd.DataFrame({"when": [weeks[6]], "label": ["A-1 done"]}))
    >>> len(fig.axes)
    2
    """
    use_style()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FIGURE_WIDTH, 4.6), sharex=True, height_ratios=[3, 1.3])
    x = pd.to_datetime(chart.index)
    top.plot(x, chart["value"], marker="o", markersize=3.5, color="#1f4e79", linewidth=1)
    for _, part in chart.groupby("phase", sort=False):
        px = pd.to_datetime(part.index)
        top.plot(px, part["centre"], color="#444444", linewidth=1)
        top.plot(px, part["unpl"], color="#c62828", linewidth=0.9, linestyle="--")
        top.plot(px, part["lnpl"], color="#c62828", linewidth=0.9, linestyle="--")
        bottom.plot(px, part["url"], color="#c62828", linewidth=0.9, linestyle="--")
        bottom.plot(px, part["mr_centre"], color="#444444", linewidth=0.8)
    bottom.plot(x, chart["moving_range"], marker="o", markersize=2.5, color="#1f4e79", linewidth=0.8)
    if found is not None and len(found):
        flagged = set()
        for _, s in found.iterrows():
            flagged |= set(chart.loc[s["first"]:s["last"]].index)
        hit = chart.loc[sorted(flagged)]
        top.scatter(pd.to_datetime(hit.index), hit["value"], color="#c62828", zorder=3, s=22,
                    label="signal (a run rule)")
        top.legend(loc="best", fontsize=FONT["small"], frameon=False)
    for _, m in (markers if markers is not None else pd.DataFrame(columns=["when", "label"])).iterrows():
        for ax in (top, bottom):
            ax.axvline(pd.Timestamp(m["when"]), color="#2e7d32", linestyle=":", linewidth=1.4)
        top.annotate(str(m["label"]), (pd.Timestamp(m["when"]), 1), xycoords=("data", "axes fraction"),
                     xytext=(3, -10), textcoords="offset points", fontsize=FONT["small"], color="#2e7d32")
    if percent:
        top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    top.set_title(title)
    top.set_ylabel("weekly value")
    bottom.set_ylabel("moving range")
    shown = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:,.3g}")
    last = chart.iloc[-1] if len(chart) else None
    words = (f"{title}: weekly values over {len(chart)} weeks with the natural process limits"
             + (f" of the last phase ({shown(last['lnpl'])} to {shown(last['unpl'])})" if last is not None else "")
             + (f"; {len(found)} signal(s) of a run rule" if found is not None and len(found) else "; no signal")
             + (f"; {len(markers)} action(s) marked." if markers is not None and len(markers) else "."))
    return describe(_done(fig), words)


__all__ += ["xmr_chart"]


def xmr_charts(charts: dict, *, labels: dict[str, str], markers: pd.DataFrame | None = None,
               percent: tuple[str, ...] = ("transfer_rate", "reopen_rate", "csat")) -> list[Figure]:
    """One :func:`xmr_chart` per weekly KPI, each with the actions done on that KPI.

    Parameters
    ----------
    charts : dict
        ``{kpi: (chart, signals)}`` (:func:`cxassess.improve.control_signals`).
    labels : dict of str to str
        Readable name of each KPI (the chart's title).
    markers : pandas.DataFrame, optional
        ``[series, when, label]`` (:func:`cxassess.improve.action_markers`).
    percent : tuple of str
        KPIs shown as percentages.

    Returns
    -------
    list of matplotlib.figure.Figure

    Examples
    --------
    >>> from cxassess import control
    >>> c = control.xmr(pd.Series([5, 6, 5, 7.0], index=pd.date_range("2026-01-05", periods=4, freq="7D")))
    >>> len(xmr_charts({"volume": (c, control.signals(c))}, labels={"volume": "Tickets per week"}))
    1
    """
    out = []
    for kpi, (chart, found) in charts.items():
        marks = None if markers is None else markers[markers["series"] == kpi]
        out.append(xmr_chart(chart, found, title=labels.get(kpi, kpi), percent=kpi in percent, markers=marks))
    return out


__all__ += ["xmr_charts"]



# ------------------------------------------------------------------------------ voice of the customer
def _pp_change(value: float) -> str:
    """A change of a share in percentage points (``+16.0 pp``; one that rounds to zero reads
    ``0.0 pp``, never ``+0.0 pp`` or ``-0.0 pp``).
    """
    return number(value, "share", change=True)


def _pp(v: float, lo: float, hi: float, *, scale: float = 100.0, unit: str = " pp") -> tuple[str, str]:
    """A change and its interval as text (``+16.0 pp``, ``+13.0 to +19.0``; a figure that
    rounds to zero has no sign).
    """
    if v is None or not np.isfinite(v):
        return "–", "–"

    def text(x: float) -> str:  # the sign rule of findings.number: a rounded zero has none
        return signed(f"{scale * x:.1f}")

    return text(v) + unit, f"{text(lo)} to {text(hi)}"


def bias_table(results: list[dict]) -> Styler:
    """Raw against reweighted satisfaction per survey kind, each with its 95 % interval.

    Parameters
    ----------
    results : list of dict
        :func:`cxassess.voc.reweighted_score` per kind.

    Returns
    -------
    pandas.io.formats.style.Styler
        One row per kind.

    Examples
    --------
    >>> r = {"kind": "csat", "sent": 1482, "answered": 372, "raw": 0.48, "raw_low": 0.43, "raw_high": 0.53,
    ...      "reweighted": 0.64, "low": 0.58, "high": 0.68, "shift": 0.16, "shift_low": 0.13, "shift_high": 0.19,
    ...      "biased": True}
    >>> bias_table([r]).data[["survey", "raw", "reweighted", "difference"]].values.tolist()
    [['CSAT', '48.0%', '64.0%', '+16.0 pp']]
    """
    rows = []
    for r in results:
        nps = r["kind"] == "nps"
        level = (lambda v: f"{v:.1f}") if nps else (lambda v: f"{v:.1%}")
        diff, diff_ci = _pp(r["shift"], r["shift_low"], r["shift_high"], scale=1 if nps else 100,
                            unit=" points" if nps else " pp")
        rows.append({"survey": r["kind"].upper(), "answered / sent": f"{r['answered']:,} / {r['sent']:,}",
                     "raw": level(r["raw"]), "raw 95 % interval": f"{level(r['raw_low'])} to {level(r['raw_high'])}",
                     "reweighted": level(r["reweighted"]),
                     "reweighted 95 % interval": f"{level(r['low'])} to {level(r['high'])}",
                     "difference": diff, "its interval": diff_ci,
                     "verdict": "raw figure biased" if r["biased"] else "no evidence of bias"})
    return table(pd.DataFrame(rows))


def response_rates_chart(rates: pd.DataFrame, *, title: str = "Share of surveys answered") -> Figure:
    """Response rate per value of each ticket fact with its 95 % interval.

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`cxassess.voc.response_rates`.
    title : str, default "Share of surveys answered"
        The title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rates = pd.DataFrame({"fact": "reopened", "label": "reopened", "value": ["no", "yes"], "sent": [90, 10],
    ...                       "answered": [18, 5], "rate": [0.2, 0.5], "ci_low": [0.13, 0.24], "ci_high": [0.29, 0.76]})
    >>> len(response_rates_chart(rates).axes[0].patches)
    2
    """
    names = (rates["label"] + ": " + rates["value"].astype(str)).tolist()
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, max(2.5, 0.32 * len(rates) + 1)))
    y = np.arange(len(rates))[::-1]
    ax.barh(y, rates["rate"], color=sns.color_palette(PALETTE)[0], alpha=0.8)
    ax.errorbar(rates["rate"], y, xerr=[rates["rate"] - rates["ci_low"], rates["ci_high"] - rates["rate"]],
                fmt="none", ecolor="#333333", capsize=2)
    ax.set_yticks(y, [textwrap.shorten(n, 48) for n in names])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    ax.set_xlabel("answered ÷ sent (95 % interval)")
    words = f"{title}, per group of tickets"
    if len(rates):
        low, high = rates.loc[rates["rate"].idxmin()], rates.loc[rates["rate"].idxmax()]
        words += (f": lowest {low['label']}: {low['value']} ({low['rate']:.0%}), "
                  f"highest {high['label']}: {high['value']} ({high['rate']:.0%}).")
    return describe(_done(fig), words)


def drivers_chart(drivers: pd.DataFrame, *, title: str = "What costs satisfaction") -> Figure:
    """Average effect of each driver on the share of satisfied customers (points) with its
    95 % interval, most costly overall (impact) at the top.

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`cxassess.voc.drivers`.
    title : str, default "What costs satisfaction"
        The title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> d = pd.DataFrame({"driver": ["transfers: once"], "effect": [-0.5], "ci_low": [-0.6], "ci_high": [-0.4],
    ...                   "impact": [-0.12]})
    >>> drivers_chart(d).axes[0].get_xlabel()
    'change of the satisfied share when present (points, 95 % interval)'
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, max(2.5, 0.4 * len(drivers) + 1)))
    y = np.arange(len(drivers))[::-1]
    real = (drivers["ci_high"] < 0) | (drivers["ci_low"] > 0)
    colours = np.where(real, np.where(drivers["effect"] < 0, "#c62828", "#2e7d32"), SMALL_N_GREY)
    ax.errorbar(100 * drivers["effect"], y, xerr=[100 * (drivers["effect"] - drivers["ci_low"]),
                                                   100 * (drivers["ci_high"] - drivers["effect"])],
                fmt="none", ecolor="#555555", capsize=3)
    ax.scatter(100 * drivers["effect"], y, c=colours, zorder=3)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, [textwrap.shorten(str(n), 48) for n in drivers["driver"]])
    ax.set_xlabel("change of the satisfied share when present (points, 95 % interval)")
    ax.set_title(title)
    words = f"{title}: the change of the satisfied share each fact of a ticket brings"
    if real.any():
        top = drivers[real].loc[drivers[real]["effect"].abs().idxmax()]
        words += f"; the largest real one is {top['driver']} ({100 * top['effect']:+.0f} points)."
    else:
        words += "; none is beyond noise."
    return describe(_done(fig), words)


def drivers_table(drivers: pd.DataFrame) -> Styler:
    """The drivers: share of tickets with it, odds ratio, effect in points and impact.

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`cxassess.voc.drivers`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> d = pd.DataFrame({"driver": ["transfers: once"], "prevalence": [0.24], "odds_ratio": [0.07],
    ...     "or_low": [0.04], "or_high": [0.15], "effect": [-0.53], "ci_low": [-0.64], "ci_high": [-0.41],
    ...     "impact": [-0.127], "n": [154]})
    >>> drivers_table(d).data[["driver", "effect", "impact"]].values.tolist()
    [['transfers: once', '-53.0 pp', '-12.7 pp']]
    """
    shown = pd.DataFrame({
        "driver": drivers["driver"],
        "share of tickets": [f"{v:.1%}" for v in drivers["prevalence"]],
        "answers with it": drivers["n"].astype("int64"),
        "odds ratio": [f"{v:.2f}" for v in drivers["odds_ratio"]],
        "its interval": [f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(drivers["or_low"], drivers["or_high"], strict=True)],
        "effect": [_pp(v, v, v)[0] for v in drivers["effect"]],
        "effect interval": [_pp(v, lo, hi)[1] for v, lo, hi in
                            zip(drivers["effect"], drivers["ci_low"], drivers["ci_high"], strict=True)],
        "impact": [_pp(v, v, v)[0] for v in drivers["impact"]],
    })
    return table(shown, percent=())


def scale_chart(distribution: pd.DataFrame) -> Figure:
    """Distribution of the answers of each survey kind (share of the kind's answers).

    Parameters
    ----------
    distribution : pandas.DataFrame
        :func:`cxassess.voc.scale_distribution`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> d = pd.DataFrame({"kind": ["csat", "csat", "nps"], "score": [4, 5, 10], "answers": [1, 2, 3],
    ...                   "share": [1 / 3, 2 / 3, 1.0]})
    >>> len(scale_chart(d).axes)
    2
    """
    kinds = sorted(distribution["kind"].unique())
    fig, axes = plt.subplots(1, len(kinds), figsize=(FIGURE_WIDTH, 3), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        part = distribution[distribution["kind"] == kind]
        ax.bar(part["score"].astype(int), part["share"], color=sns.color_palette(PALETTE)[0])
        ax.set_xticks(part["score"].astype(int))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(f"{kind.upper()} ({int(part['answers'].sum()):,} answers)")
        ax.set_xlabel("answer")
    modes = [f"{kind.upper()} most often {int(part.loc[part['share'].idxmax(), 'score'])}"
             for kind, part in distribution.groupby("kind", sort=True) if len(part)]
    return describe(_done(fig), "How customers answered each survey: " + "; ".join(modes) + ".")


def pareto_chart(pareto: pd.DataFrame, *, title: str = "Complaint themes in customers' comments") -> Figure:
    """Pareto of complaint themes: mentions (bars) and cumulative share (line).

    Parameters
    ----------
    pareto : pandas.DataFrame
        :func:`cxassess.voc.theme_pareto`.
    title : str
        The title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> p = pd.DataFrame({"theme": ["waiting", "rude"], "comments": [3, 1], "share": [0.75, 0.25],
    ...                   "cumulative": [0.75, 1.0]})
    >>> len(pareto_chart(p).axes)
    2
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.6))
    x = np.arange(len(pareto))
    ax.bar(x, pareto["comments"], color=sns.color_palette(PALETTE)[3])
    ax.set_xticks(x, [textwrap.shorten(str(t), 22) for t in pareto["theme"]], rotation=20, ha="right")
    ax.set_ylabel("comments")
    twin = ax.twinx()
    twin.plot(x, pareto["cumulative"], color="#333333", marker="o")
    twin.yaxis.set_major_formatter(PercentFormatter(1.0))
    twin.set_ylim(0, 1.05)
    twin.grid(False)
    ax.set_title(title)
    words = f"{title}: comments per theme, most frequent first"
    if len(pareto):
        words += f"; {pareto['theme'].iloc[0]} leads with {int(pareto['comments'].iloc[0]):,} comments."
    return describe(_done(fig), words)


def gaming_table(changes: pd.DataFrame) -> Styler:
    """Speed and quality changes per segment against the previous cycle, with intervals.

    Parameters
    ----------
    changes : pandas.DataFrame
        :func:`cxassess.integrity.segment_changes`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> c = pd.DataFrame({"segment": ["t"], "label": ["transfer rate"], "family": ["quality"], "before": [0.2],
    ...     "now": [0.4], "change": [0.2], "ci_low": [0.16], "ci_high": [0.24], "n_before": [900], "n_now": [900],
    ...     "verdict": ["worsened"]})
    >>> gaming_table(c).data[["team", "before", "now", "change"]].values.tolist()
    [['t', '20.0%', '40.0%', '+20.0 pp']]
    """
    speed = changes["family"] == "speed"
    fmt = [(lambda v: f"{v:.1f}") if s else (lambda v: f"{v:.1%}") for s in speed]
    shown = pd.DataFrame({
        "team": changes["segment"].astype(str), "measure": changes["label"],
        "before": [f(v) for f, v in zip(fmt, changes["before"], strict=True)],
        "now": [f(v) for f, v in zip(fmt, changes["now"], strict=True)],
        "change": [_pp(v, lo, hi, scale=1 if s else 100, unit="" if s else " pp")[0] for v, lo, hi, s in
                   zip(changes["change"], changes["ci_low"], changes["ci_high"], speed, strict=True)],
        "95 % interval": [_pp(v, lo, hi, scale=1 if s else 100, unit="" if s else " pp")[1] for v, lo, hi, s in
                          zip(changes["change"], changes["ci_low"], changes["ci_high"], speed, strict=True)],
        "tickets now": changes["n_now"].astype("int64"), "verdict": changes["verdict"],
    })
    return table(shown, percent=())


def bunching_table(bunching: pd.DataFrame) -> Styler:
    """Deadline bunching per segment and SLA policy: the tickets just before and just after
    the target, what the neighbouring times predict, the excess with its interval, the verdict.

    Parameters
    ----------
    bunching : pandas.DataFrame
        :func:`cxassess.integrity.deadline_bunching`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> b = pd.DataFrame({"policy": ["email reply"], "clock": ["business"], "target_hours": [4.0],
    ...     "window_hours": [0.25], "segment": ["t"], "n": [700], "before": [126], "after": [5],
    ...     "expected": [40.0], "share_before": [0.18], "ratio": [3.15], "excess": [0.123], "ci_low": [0.09],
    ...     "ci_high": [0.15], "verdict": ["bunched before the target"]})
    >>> bunching_table(b).data[["team", "target", "just before", "excess"]].values.tolist()
    [['t', '4 h (business hours)', '126 (18.0%)', '+12.3 pp']]
    """
    from cxassess.integrity import duration_words

    excess = [_pp(v, lo, hi) for v, lo, hi in zip(bunching["excess"], bunching["ci_low"], bunching["ci_high"],
                                                   strict=True)]
    shown = pd.DataFrame({
        "team": bunching["segment"].astype(str), "SLA policy": bunching["policy"].astype(str),
        "target": [f"{duration_words(h)} ({c} hours)" for h, c in zip(bunching["target_hours"], bunching["clock"],
                                                                      strict=True)],
        "window": [duration_words(h) for h in bunching["window_hours"]],
        "tickets": bunching["n"].astype("int64"),
        "just before": [f"{int(b)} ({s:.1%})" for b, s in zip(bunching["before"], bunching["share_before"],
                                                             strict=True)],
        "just after": bunching["after"].astype("int64"),
        "predicted": [f"{e:.1f}" for e in bunching["expected"]],
        "× predicted": ["–" if not np.isfinite(r) else f"{r:.1f}×" for r in bunching["ratio"]],
        "excess": [e[0] for e in excess], "95 % interval": [e[1] for e in excess],
        "verdict": bunching["verdict"],
    })
    return table(shown, percent=())


def validity_table(validity: pd.DataFrame) -> Styler:
    """The KPI validity table: each KPI's rank correlation with the customers' ratings, its
    interval and verdict, at ticket and at team × cycle level.

    Parameters
    ----------
    validity : pandas.DataFrame
        :func:`cxassess.integrity.kpi_validity`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> v = pd.DataFrame({"kpi": ["transferred"], "label": ["Transferred"], "level": ["ticket"], "n": [372],
    ...     "r": [0.4], "ci_low": [0.3], "ci_high": [0.5], "verdict": ["tracks what customers feel"]})
    >>> validity_table(v).data[["KPI", "correlation", "verdict"]].values.tolist()
    [['Transferred', '+0.40', 'tracks what customers feel']]
    """
    shown = pd.DataFrame({
        "KPI": validity["label"], "level": validity["level"], "pairs": validity["n"].astype("int64"),
        "correlation": ["–" if not np.isfinite(r) else f"{r:+.2f}" for r in validity["r"]],
        "95 % interval": ["–" if not np.isfinite(lo) else f"{lo:+.2f} to {hi:+.2f}"
                          for lo, hi in zip(validity["ci_low"], validity["ci_high"], strict=True)],
        "verdict": validity["verdict"],
    })
    colours = {"tracks what customers feel": "#2e7d32", "moves against": "#c62828", "no evidence": "#666666"}

    def colour(column: pd.Series) -> list[str]:
        return [f"color: {colours.get(v, '')}; font-weight: bold" for v in column]

    return table(shown, percent=()).apply(colour, subset=["verdict"], axis=0)


def balance_table(balance: pd.DataFrame, *, top: int = 8) -> Styler:
    """Respondents against non-respondents: the ``top`` largest imbalances.

    Parameters
    ----------
    balance : pandas.DataFrame
        :func:`cxassess.voc.respondent_balance`.
    top : int, default 8
        Rows shown.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> b = pd.DataFrame({"label": ["transfers"], "value": ["none"], "respondents": [0.45],
    ...                   "non_respondents": [0.77], "std_difference": [-0.7]})
    >>> balance_table(b).data.values.tolist()
    [['transfers: none', '45.0%', '77.0%', '-0.70']]
    """
    part = balance.head(top)
    shown = pd.DataFrame({
        "ticket fact": part["label"] + ": " + part["value"].astype(str),
        "share of answers": [f"{v:.1%}" for v in part["respondents"]],
        "share of surveys not answered": [f"{v:.1%}" for v in part["non_respondents"]],
        "standardised difference": [f"{v:+.2f}" for v in part["std_difference"]],
    })
    return table(shown, percent=())


def notes(sentences: list[str], *, lead: str = "") -> list[Markdown]:
    """One :func:`note` per sentence (escaped), for ``display(*notes(...))``.

    Parameters
    ----------
    sentences : list of str
        The sentences.
    lead : str, default ""
        Bold lead of each.

    Returns
    -------
    list of IPython.display.Markdown

    Examples
    --------
    >>> [n.data for n in notes(["a <b>"], lead="Verdict")]
    ['<p><strong>Verdict:</strong> a &lt;b&gt;</p>']
    """
    return [note(s, lead=lead) for s in sentences]


def box_table(boxes: pd.DataFrame) -> Styler:
    """Top box against top-2 box per survey kind, with the change against the previous cycle.

    Parameters
    ----------
    boxes : pandas.DataFrame
        :func:`cxassess.voc.box_sensitivity`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> b = pd.DataFrame({"kind": ["csat"], "box": ["top box"], "answers": [372], "share": [0.164],
    ...     "ci_low": [0.13], "ci_high": [0.205], "change": [-0.046], "change_low": [-0.105], "change_high": [0.013],
    ...     "verdict": ["within noise"]})
    >>> box_table(b).data[["survey", "share", "change"]].values.tolist()
    [['CSAT', '16.4%', '-4.6 pp']]
    """
    shown = pd.DataFrame({
        "survey": boxes["kind"].astype(str).str.upper(), "definition": boxes["box"],
        "answers": boxes["answers"].astype("int64"), "share": [f"{v:.1%}" for v in boxes["share"]],
        "95 % interval": [f"{lo:.1%} to {hi:.1%}" for lo, hi in zip(boxes["ci_low"], boxes["ci_high"], strict=True)],
        "change": [_pp(v, lo, hi)[0] for v, lo, hi in zip(boxes["change"], boxes["change_low"], boxes["change_high"],
                                                          strict=True)],
        "its interval": [_pp(v, lo, hi)[1] for v, lo, hi in
                         zip(boxes["change"], boxes["change_low"], boxes["change_high"], strict=True)],
        "verdict": boxes["verdict"],
    })
    return table(shown, percent=())


def adjacent_table(adjacent: pd.DataFrame) -> Styler:
    """Neighbouring answers compared on what customers did next.

    Parameters
    ----------
    adjacent : pandas.DataFrame
        :func:`cxassess.voc.adjacent_answers`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> a = pd.DataFrame({"kind": ["csat"], "higher": [5], "lower": [4], "outcome": ["churned"], "n_higher": [61],
    ...     "rate_higher": [0.016], "n_lower": [119], "rate_lower": [0.034], "difference": [0.017],
    ...     "ci_low": [-0.056], "ci_high": [0.069], "verdict": ["no evidence it matters"]})
    >>> adjacent_table(a).data[["survey", "answers compared", "difference"]].values.tolist()
    [['CSAT', '4 vs 5', '+1.7 pp']]
    """
    shown = pd.DataFrame({
        "survey": adjacent["kind"].astype(str).str.upper(),
        "answers compared": adjacent["lower"].astype(int).astype(str) + " vs " + adjacent["higher"].astype(int).astype(str),
        "what happened next": adjacent["outcome"],
        "lower answer": [f"{v:.1%} of {n:,}" for v, n in zip(adjacent["rate_lower"], adjacent["n_lower"], strict=True)],
        "higher answer": [f"{v:.1%} of {n:,}" for v, n in zip(adjacent["rate_higher"], adjacent["n_higher"],
                                                              strict=True)],
        "difference": [_pp(v, lo, hi)[0] for v, lo, hi in zip(adjacent["difference"], adjacent["ci_low"],
                                                              adjacent["ci_high"], strict=True)],
        "its interval": [_pp(v, lo, hi)[1] for v, lo, hi in zip(adjacent["difference"], adjacent["ci_low"],
                                                                adjacent["ci_high"], strict=True)],
        "verdict": adjacent["verdict"],
    })
    return table(shown, percent=())


def theme_table(summary: pd.DataFrame) -> Styler:
    """Themes of the comments by answer band: comments, share of the band's comments and
    its interval.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`cxassess.voc.theme_summary`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> s = pd.DataFrame({"theme": ["waiting"], "band": ["low"], "comments": [19], "of_band": [62], "share": [0.306],
    ...                   "ci_low": [0.206], "ci_high": [0.43]})
    >>> theme_table(s).data.values.tolist()
    [['waiting', 'low', 19, 62, '30.6%', '20.6% to 43.0%']]
    """
    shown = pd.DataFrame({
        "theme": summary["theme"], "answer band": summary["band"], "comments": summary["comments"].astype("int64"),
        "comments in the band": summary["of_band"].astype("int64"), "share": [f"{v:.1%}" for v in summary["share"]],
        "95 % interval": [f"{lo:.1%} to {hi:.1%}" for lo, hi in zip(summary["ci_low"], summary["ci_high"], strict=True)],
    })
    return table(shown, percent=())


def quotes_table(quotes: pd.DataFrame) -> Styler:
    """Example comments per theme (already masked and cut by :func:`cxassess.voc.theme_quotes`;
    escaped here).

    Parameters
    ----------
    quotes : pandas.DataFrame
        :func:`cxassess.voc.theme_quotes`.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> q = pd.DataFrame({"theme": ["rude"], "quote": ["<b>so rude</b>"], "language": ["en"]})
    >>> "&lt;b&gt;so rude" in quotes_table(q).to_html()
    True
    """
    return table(quotes.rename(columns={"quote": "what the customer wrote"}), percent=())


__all__ += ["notes", "box_table", "adjacent_table", "theme_table", "quotes_table", "balance_table", "bias_table", "response_rates_chart", "drivers_chart", "drivers_table", "scale_chart", "pareto_chart",
            "gaming_table", "validity_table", "bunching_table"]


# ---------------------------------------------------------------------- quality audits
__all__ += ["AUDIT_VIEWS", "audit_table", "interval_chart"]

#: The tables of the quality-audit page: column id -> heading, and how each is shown
#: (``%``: a share; ``pp``: a difference of shares in points; ``n``: a count; ``""``: text).
AUDIT_VIEWS: dict[str, dict[str, tuple[str, str]]] = {
    "scores": {"team": ("Team", ""), "agent_id": ("Agent", ""), "section": ("Section", ""),
               "criterion": ("Criterion", ""), "channel": ("Channel", ""), "source": ("Source", ""),
               "auditor_id": ("Auditor", ""), "audits": ("Audits", "n"), "iqs": ("Quality score", "%"),
               "low": ("95 % interval from", "%"), "high": ("to", "%"), "target": ("Target", "%"),
               "status": ("Against target", ""), "previous": ("Previous cycle", "%"),
               "change": ("Change", "pp"), "verdict": ("Verdict", "")},
    "high_impact": {"team": ("Team", ""), "audits": ("Audits", "n"), "with_error": ("With a high-impact error", "n"),
                    "share": ("Share", "%"), "low": ("95 % interval from", "%"), "high": ("to", "%")},
    "team_gaps": {"team": ("Team", ""), "level": ("Level", ""), "measure": ("Measure", ""), "n": ("n", "n"),
                  "value": ("Team", "%"), "low": ("95 % interval from", "%"), "high": ("to", "%"),
                  "target": ("Planned", "%"), "status": ("Against plan", ""), "rest_value": ("Rest of the desk", "%"),
                  "gap": ("Gap", "pp"), "gap_low": ("interval from", "pp"), "gap_high": ("to", "pp")},
    "stage_gaps": {"label": ("Stage", ""), "tickets": ("Tickets", "n"), "target_hours": ("Planned hours", "h"),
                   "within_target": ("Within the time", "%"), "within_low": ("95 % interval from", "%"),
                   "within_high": ("to", "%"), "previous_within": ("Previous cycle", "%"), "change": ("Change", "pp"),
                   "verdict": ("Verdict", ""), "allowed_share": ("Moves out as designed", "%"),
                   "csat_effect": ("CSAT through the stage vs not", "pp"), "effect_low": ("interval from", "pp"),
                   "effect_high": ("to", "pp")},
    "criterion_gaps": {"team": ("Team", ""), "source": ("Source", ""), "criterion": ("Criterion", ""),
                       "impact": ("Impact", ""), "n": ("Audits", "n"), "fail_rate": ("Failed", "%"),
                       "rest_rate": ("Failed elsewhere", "%"), "gap": ("Gap", "pp"), "gap_low": ("interval from", "pp"),
                       "gap_high": ("to", "pp")},
    "agreement": {"criterion": ("Criterion", ""), "tickets": ("Tickets", "n"), "auditors": ("Auditors", "n"),
                  "alpha": ("Krippendorff's alpha", "2"), "alpha_low": ("95 % interval from", "2"),
                  "alpha_high": ("to", "2"), "fleiss_kappa": ("Fleiss' kappa", "2"), "kappa_low": ("interval from", "2"),
                  "kappa_high": ("to", "2")},
    "pairs": {"auditor": ("Auditor", ""), "other": ("and", ""), "items": ("Items", "n"), "agree": ("Agree", "%"),
              "kappa": ("Cohen's kappa", "2"), "low": ("95 % interval from", "2"), "high": ("to", "2")},
    "bias": {"auditor": ("Auditor", ""), "tickets": ("Tickets", "n"), "items": ("Items", "n"),
             "pass_rate": ("Passes", "%"), "others_rate": ("The others pass", "%"), "bias": ("Bias", "pp"),
             "low": ("interval from", "pp"), "high": ("to", "pp"), "verdict": ("Verdict", "")},
    "sampling": {"agent_id": ("Agent", ""), "team": ("Team", ""), "audits": ("Audits", "n"),
                 "iqs": ("Quality score", "%"), "half_width": ("Interval ±", "pp"), "needed": ("Needed", "n"),
                 "missing": ("Missing", "n")},
    "next_sample": {"agent_id": ("Agent", ""), "channel": ("Channel", ""), "tickets": ("Tickets this cycle", "n"),
                    "suggested": ("Audits next cycle", "n")},
    "coaching": {"agent_id": ("Agent", ""), "team": ("Team", ""), "criterion": ("Criterion", ""),
                 "impact": ("Impact", ""), "n": ("Audits", "n"), "fails": ("Failed", "n"),
                 "fail_rate": ("Failed share", "%"), "team_rate": ("Rest of the team", "%"), "gap": ("Gap", "pp"),
                 "gap_low": ("interval from", "pp"), "gap_high": ("to", "pp")},
}


def audit_table(df: pd.DataFrame, view: str) -> Styler:
    """A table of the quality-audit page with plain headings: shares in %, differences in
    points, kappas with two decimals; every cell escaped.

    Parameters
    ----------
    df : pandas.DataFrame
        A table of :mod:`cxassess.audit`.
    view : str
        A key of :data:`AUDIT_VIEWS` (``scores``, ``team_gaps``, ``bias`` ...).

    Returns
    -------
    pandas.io.formats.style.Styler
        The escaped table, without index.

    Examples
    --------
    >>> t = pd.DataFrame({"team": ["<b>south</b>"], "audits": [54], "iqs": [0.891], "low": [0.84], "high": [0.93],
    ...                   "change": [-0.031]})
    >>> out = audit_table(t, "scores").to_html()
    >>> "89.1%" in out, "-3.1 pp" in out, "&lt;b&gt;south" in out, "Quality score" in out
    (True, True, True, True)
    >>> g = pd.DataFrame({"team": ["s"], "low": [0.5], "high": [0.7], "gap_low": [-0.2], "gap_high": [-0.1]})
    >>> "-10.0 pp" in audit_table(g, "team_gaps").to_html()
    True
    """
    spec = AUDIT_VIEWS[view]
    shown = df[[c for c in spec if c in df.columns]].copy()
    patterns = {"%": "{:.1%}", "pp": _pp_change, "n": "{:,.0f}", "2": "{:.2f}", "h": "{:g}"}
    formats: dict[str, str | Callable[[float], str]] = {}
    headings: list[str] = []
    for column in shown.columns:
        heading, kind = spec[column]
        while heading in headings:  # a repeated heading ("to") gets invisible trailing spaces
            heading += "\u00a0"
        headings.append(heading)
        if kind == "pp":
            shown[column] = pd.to_numeric(shown[column], errors="coerce")
        if kind in patterns:
            formats[heading] = patterns[kind]
    shown.columns = pd.Index(headings)
    return styled(shown.reset_index(drop=True), formats, na_rep="–").hide(axis="index")


def interval_chart(df: pd.DataFrame, label: str, *, value: str = "iqs", low: str = "low", high: str = "high",
                   target: float | None = None, title: str = "", xlabel: str = "Quality score, 95 % interval",
                   points: bool = False, n: str | None = "audits") -> Figure:
    """Each row's value with its interval, one line per row (e.g. IQS per team, an auditor's bias).

    Parameters
    ----------
    df : pandas.DataFrame
        The rows.
    label : str
        Column naming each row.
    value, low, high : str
        Columns of the value and its interval (shares).
    target : float, optional
        A planned value, drawn as a dashed line.
    title, xlabel : str
        Texts of the chart.
    points : bool, default False
        Values are differences of shares: shown in points around 0.
    n : str or None, default "audits"
        Column of the row's n, written beside it.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.

    Examples
    --------
    >>> t = pd.DataFrame({"team": ["north", "south"], "iqs": [0.91, 0.89], "low": [0.83, 0.84],
    ...                   "high": [0.97, 0.93], "audits": [47, 54]})
    >>> fig = interval_chart(t, "team", target=0.9)
    >>> [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    ['north', 'south']
    >>> plt.close(fig)
    """
    rows = df.reset_index(drop=True)
    scale = 100.0
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 1.0 + 0.38 * max(len(rows), 1)))
    colour = SERIES_COLOURS[0]
    for i, r in rows.iterrows():
        v, lo, hi = (float(r[value]) * scale, float(r[low]) * scale, float(r[high]) * scale)
        ax.plot([lo, hi], [i, i], color=colour, linewidth=2)
        ax.scatter(v, i, color=colour, zorder=3)
        if n and n in rows.columns and pd.notna(r[n]) and np.isfinite(hi):
            ax.text(hi + 0.5, i, f"n = {int(r[n]):,}", va="center", fontsize=FONT["small"], color=TEXT_GREY)
    if target is not None:
        ax.axvline(target * scale, color="#c62828", linestyle="--", linewidth=1, label="target")
        ax.legend(loc="lower right", fontsize=FONT["small"])
    if points:
        ax.axvline(0, color=TEXT_GREY, linewidth=0.8)
        ax.set_xlabel(xlabel + " (points)")
    else:
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
        ax.set_xlabel(xlabel)
    ax.set_yticks(range(len(rows)), [str(x) for x in rows[label]])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.margins(x=0.15)
    if len(rows):
        unit = " points" if points else " %"
        values = rows[value].to_numpy(dtype=float) * scale
        hi_i, lo_i = int(np.nanargmax(values)), int(np.nanargmin(values))
        describe(fig, f"Dot-and-interval chart: {title or xlabel}, {len(rows)} rows with their 95 % intervals. "
                      f"Highest: {rows[label].iloc[hi_i]} {values[hi_i]:.1f}{unit}; lowest: {rows[label].iloc[lo_i]} "
                      f"{values[lo_i]:.1f}{unit}"
                      + (f"; target {target * scale:.0f} %." if target is not None else "."))
    return _done(fig)

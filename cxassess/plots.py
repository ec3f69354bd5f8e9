"""One visual language for every page of the review.

Figures are matplotlib/seaborn, returned to the caller (the notebook shows them inline);
tables of KPIs are pandas Stylers that grey out figures whose n is too small.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

__all__ = [
    "use_style", "weekly_volume", "stage_funnel", "kpi_table", "table", "quality_lights",
    "quality_failures", "quality_comparison", "quality_trend", "PERCENT_KPIS",
]

#: KPIs whose value is a share (shown as %); others (NPS) are points.
PERCENT_KPIS = {"csat", "transfer_rate", "reopen_rate", "open_share", "fcr", "escalation_rate"}
PALETTE = "colorblind"


def use_style() -> None:
    """Apply the report's seaborn theme (call once at the top of a notebook)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "figure.figsize": (9, 4), "axes.titleweight": "bold"})


def _done(fig: Figure) -> Figure:
    """Lay out and detach a figure from pyplot, so that a notebook shows it once: when
    the caller displays it, not again when the cell ends."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def table(df: pd.DataFrame, *, percent: tuple[str, ...] = ("share",)) -> Styler:
    """A plain table for a report page: no index, shares as percentages, thousands separated."""
    formats = {c: "{:.1%}" for c in percent if c in df.columns}
    formats.update({c: "{:,}" for c in df.columns if pd.api.types.is_integer_dtype(df[c])})
    return df.reset_index(drop=True).style.format(formats).hide(axis="index")


def weekly_volume(tickets: pd.DataFrame, *, by: str = "channel", title: str | None = None) -> Figure:
    """Stacked bars of tickets created per week (weeks starting Monday), split by ``by``."""
    local = tickets["created_at"].dt.tz_localize(None)
    week = local.dt.to_period("W-SUN").dt.start_time
    counts = pd.crosstab(week, tickets[by].fillna("(missing)"))
    fig, ax = plt.subplots()
    bottom = np.zeros(len(counts))
    colours = sns.color_palette(PALETTE, len(counts.columns))
    for colour, column in zip(colours, counts.columns, strict=True):
        ax.bar(counts.index, counts[column], bottom=bottom, width=5, label=column, color=colour)
        bottom += counts[column].to_numpy()
    ax.set_ylabel("tickets created")
    ax.set_xlabel("week")
    ax.set_title(title or f"Tickets per week by {by}")
    ax.legend(title=by, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.autofmt_xdate()
    return _done(fig)


def stage_funnel(volume: pd.DataFrame, *, title: str = "Tickets reaching each stage") -> Figure:
    """Horizontal bars of the tickets reaching each stage (output of ``stage_volume``)."""
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.5 * len(volume)))
    ax.barh(volume["label"], volume["tickets"], color=sns.color_palette(PALETTE)[0])
    ax.invert_yaxis()
    for y, (n, share) in enumerate(zip(volume["tickets"], volume["share"], strict=True)):
        ax.text(n, y, f"  {n:,} ({share:.0%})", va="center")
    ax.set_xlabel("tickets")
    ax.set_title(title)
    ax.margins(x=0.2)
    return _done(fig)


def _fmt(kpi: str, value: float) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.1%}" if kpi in PERCENT_KPIS else f"{value:+.1f}"


def kpi_table(table: pd.DataFrame, *, min_n: int = 30, labels: dict[str, str] | None = None) -> Styler:
    """A readable KPI table: value with its 95 % interval and n; rows below ``min_n``
    are greyed and marked "n too small" (shown, never hidden)."""
    names = {
        "csat": "CSAT (top-box share)",
        "nps": "NPS (points)",
        "transfer_rate": "Transfer rate",
        "reopen_rate": "Reopen rate",
        "open_share": "Open at cycle end",
        **(labels or {}),
    }
    keys = [c for c in table.columns if c not in {"kpi", "value", "ci_low", "ci_high", "n", "hits", "promoters", "detractors"}]
    shown = pd.DataFrame(
        {
            **{k: table[k] for k in keys},
            "KPI": table["kpi"].map(lambda k: names.get(k, k)),
            "value": [_fmt(k, v) for k, v in zip(table["kpi"], table["value"], strict=True)],
            "95 % interval": [
                f"{_fmt(k, lo)} to {_fmt(k, hi)}" if pd.notna(lo) else "–"
                for k, lo, hi in zip(table["kpi"], table["ci_low"], table["ci_high"], strict=True)
            ],
            "n": table["n"].astype("int64"),
            "note": np.where(table["n"] < min_n, "n too small", ""),
        }
    )
    small = (table["n"] < min_n).to_numpy()

    def grey(row: pd.Series) -> list[str]:
        return ["color: #999" if small[row.name] else "" for _ in row]

    return shown.reset_index(drop=True).style.apply(grey, axis=1).hide(axis="index")


#: Colours of the data-quality traffic lights.
LIGHT_COLOURS = {"red": "#d9534f", "amber": "#f0ad4e", "green": "#5cb85c", "grey": "#bbbbbb"}
_LIGHT_WORDS = {"critical": "stops the review", "warning": "warnings", "passed": "all checks hold",
                "absent": "not in this cycle"}


def quality_lights(tables: pd.DataFrame) -> Styler:
    """The gate's verdict per table as a traffic light, with rows read = used + quarantined."""
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
        shown.style.apply(light, subset=[""], axis=0)
        .format({c: "{:,}" for c in shown.columns if c.startswith("rows") or c in ("critical", "warnings")})
        .set_properties(subset=["table", "verdict", "file"], **{"text-align": "left"})
        .hide(axis="index")
    )


def quality_failures(failures: pd.DataFrame) -> Styler:
    """Each failed check in plain language: table, column, rows, examples, how to fix it."""
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
        shown.reset_index(drop=True).style.apply(light, subset=[""], axis=0)
        .format({"rows": "{:,}", "quarantined": "{:,}", "share": "{:.2%}"})
        .set_properties(
            subset=["table", "column", "problem", "examples", "how to fix it"], **{"text-align": "left"}
        )
        .hide(axis="index")
    )


def quality_comparison(comparison: pd.DataFrame, *, cycle: str, previous: str) -> Styler:
    """Per table: share of rows quarantined, warnings and critical defects, now and before."""
    def col(name: str, suffix: str) -> pd.Series:
        column = f"{name}{suffix}"
        return comparison[column] if column in comparison else pd.Series([np.nan] * len(comparison))

    shown = pd.DataFrame({"table": comparison["table"]})
    for label, suffix in ((cycle, ""), (previous, "_before")):
        shown[f"{label}: verdict"] = col("status", suffix).map(_LIGHT_WORDS).fillna("–")
        shown[f"{label}: quarantined"] = col("quarantined_share", suffix)
        shown[f"{label}: warnings"] = col("warnings", suffix)
    formats = {c: "{:.2%}" for c in shown.columns if c.endswith("quarantined")}
    formats.update({c: "{:.0f}" for c in shown.columns if c.endswith("warnings")})
    return (
        shown.style.format(formats, na_rep="–")
        .set_properties(subset=["table"], **{"text-align": "left"})
        .hide(axis="index")
    )


def quality_trend(comparison: pd.DataFrame, *, cycle: str, previous: str) -> Figure:
    """Share of rows quarantined per table, this cycle beside the previous one."""
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

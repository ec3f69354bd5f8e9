"""Findings: what an analysis found, as data the summary page ranks and links.

Every analysis of the review (the scorecard, the process stages, the voice of the
customer, the quality audits, the improvement loop ...) states what it found through one
small protocol: a list of :class:`Finding`. A finding is one plain sentence a CX lead
understands, the evidence behind it (n and interval), how severe it is, how many tickets
it reaches, the page and anchor where its evidence is shown, what it concerns (a KPI, a
stage, a team) and what to do next.

A page of the review run saves its findings with :func:`save` into the run's folder; the
summary page reads them all with :func:`load` and orders them with :func:`rank`
(severity × reach). Findings are plain data (JSON), so that the history store can keep
them cycle after cycle.

Severity is one of :data:`SEVERITIES`: ``"high"`` (act this cycle: a planned target badly
missed, a KPI being gamed, a new bottleneck), ``"medium"`` (a real change worth a look),
``"low"`` (real but small, or context). Only changes that are real (their interval excludes
zero) become findings: "within noise" is never a finding.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from cxassess.errors import InputError

__all__ = ["Finding", "SEVERITIES", "SEVERITY_WEIGHT", "rank", "save", "load", "FOLDER", "number", "interval",
           "signed"]

#: Severities, most severe first.
SEVERITIES = ("high", "medium", "low")
#: Weight of each severity in the ranking (severity × reach).
SEVERITY_WEIGHT = {"high": 3.0, "medium": 2.0, "low": 1.0}
#: Sub-folder of the review run's folder where pages save their findings.
FOLDER = "findings"


@dataclass(frozen=True)
class Finding:
    """One thing an analysis found, stated for a CX lead.

    Parameters
    ----------
    what : str
        One plain sentence with the figures, e.g. ``"Transfers rose from 20.8 % to 40.8 %
        in tier1_south"``. Plain text: the page escapes it.
    evidence : str
        The evidence in short: n, the change and its 95 % interval, e.g.
        ``"n = 1,240 tickets; +20.0 pp (95 % CI +16.2 to +23.8)"``.
    severity : str
        ``"high"``, ``"medium"`` or ``"low"`` (see the module's text).
    reach : float
        Share of the cycle's tickets (or customers, or audits) the finding concerns, from 0
        to 1; it weighs the ranking.
    page : str
        Stem of the notebook whose page shows the evidence, e.g. ``"20_kpi_scorecard"``.
    anchor : str, default ""
        Id of the element of that page where the evidence is (``""``: the top of the page).
    kind : str, default ""
        What sort of finding it is, e.g. ``"kpi_change"``, ``"target_missed"``,
        ``"bottleneck"``, ``"gaming"``, ``"response_bias"``, ``"driver"``, ``"served_gap"``,
        ``"action_effect"``.
    kpi : str, optional
        Id of the KPI concerned (see :mod:`cxassess.registry`).
    stage : str, optional
        Stage concerned (its label, as the pages show it).
    team : str, optional
        Team (or other segment value) concerned.
    action : str, default ""
        What to do next, in one sentence (``""``: nothing to propose).
    figures : dict, default {}
        The numbers behind the sentence, for tests and the history store (JSON types only:
        str, int, float, bool or None).

    Raises
    ------
    InputError
        An unknown severity, a reach outside 0..1, or an empty sentence or page.

    Examples
    --------
    >>> f = Finding("CSAT is 48 % against a target of 80 %", "n = 2,101; 95 % CI 46 to 50 %",
    ...             "high", 0.84, "20_kpi_scorecard", kpi="csat", kind="target_missed")
    >>> f.score
    2.52
    >>> Finding.from_dict(f.to_dict()) == f
    True
    """

    what: str
    evidence: str
    severity: str
    reach: float
    page: str
    anchor: str = ""
    kind: str = ""
    kpi: str | None = None
    stage: str | None = None
    team: str | None = None
    action: str = ""
    figures: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse what would make the finding unusable (see Raises)."""
        if self.severity not in SEVERITIES:
            raise InputError(f"finding severity {self.severity!r} is not one of {', '.join(SEVERITIES)}",
                             fix="use high, medium or low")
        reach = float(self.reach)
        if not (0.0 <= reach <= 1.0) or math.isnan(reach):
            raise InputError(f"finding reach {self.reach!r} is not a share between 0 and 1",
                             fix="give the share of tickets the finding concerns")
        object.__setattr__(self, "reach", reach)
        if not str(self.what).strip() or not str(self.page).strip():
            raise InputError("a finding needs a sentence (what) and the page of its evidence",
                             fix="say what was found and where it is shown")

    @property
    def score(self) -> float:
        """Severity weight × reach: the summary's ranking key (higher first)."""
        return round(SEVERITY_WEIGHT[self.severity] * self.reach, 6)

    @property
    def href(self) -> str:
        """Link to the evidence from another page of the review: ``<page>.html#<anchor>``."""
        return f"{self.page}.html" + (f"#{self.anchor}" if self.anchor else "")

    def to_dict(self) -> dict:
        """The finding as JSON-ready data.

        Returns
        -------
        dict
            One key per field.

        Examples
        --------
        >>> Finding("a", "n = 10", "low", 0.1, "20_kpi_scorecard").to_dict()["severity"]
        'low'
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        """Build a finding from :meth:`to_dict`'s data; unknown keys are ignored (newer writers).

        Parameters
        ----------
        data : dict
            As written by :meth:`to_dict`.

        Returns
        -------
        Finding

        Examples
        --------
        >>> Finding.from_dict({"what": "a", "evidence": "n = 10", "severity": "low", "reach": 0.1,
        ...                    "page": "20_kpi_scorecard", "written_by": "a newer cxassess"}).what
        'a'
        """
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def rank(found: Iterable[Finding]) -> list[Finding]:
    """Findings most important first: severity × reach, then severity, then page order.

    Parameters
    ----------
    found : iterable of Finding

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> small = Finding("a", "n = 10", "low", 0.9, "20_kpi_scorecard")
    >>> big = Finding("b", "n = 900", "high", 0.5, "10_process_stages")
    >>> [f.what for f in rank([small, big])]
    ['b', 'a']
    """
    items = list(found)
    return sorted(items, key=lambda f: (-f.score, SEVERITIES.index(f.severity), f.page, f.what))


def subject(finding: Finding) -> tuple[str, str]:
    """What a finding is about, for grouping: its team, else its stage, else its kind, else itself.

    Several pages can find the same thing from different sides (a team transfers more, its
    handle time falls, its audits fail the flow, its customers are less satisfied): one subject.
    Findings of one kind without a team or stage (the survey's response bias for CSAT and for
    NPS; satisfaction by path) are one subject too.

    Parameters
    ----------
    finding : Finding

    Returns
    -------
    tuple of str
        ``("team", name)``, ``("stage", name)``, ``("kind", kind)`` or ``("finding", sentence)``.

    Examples
    --------
    >>> subject(Finding("a", "n = 10", "low", 0.1, "20_kpi_scorecard", team="tier1_south"))
    ('team', 'tier1_south')
    >>> subject(Finding("a", "n = 10", "low", 0.1, "20_kpi_scorecard", kind="path_csat"))
    ('kind', 'path_csat')
    >>> subject(Finding("a", "n = 10", "low", 0.1, "20_kpi_scorecard"))
    ('finding', 'a')
    """
    if finding.team:
        return ("team", str(finding.team))
    if finding.stage:
        return ("stage", str(finding.stage))
    if finding.kind:
        return ("kind", finding.kind)
    return ("finding", finding.what)


def by_subject(found: Iterable[Finding], *, top: int | None = None,
               severities: tuple[str, ...] | None = None) -> list[tuple[Finding, list[Finding]]]:
    """Ranked findings grouped by :func:`subject`: the most important finding of each subject
    leads, the others about it follow it; the same sentence twice is said once.

    Parameters
    ----------
    found : iterable of Finding
    top : int, optional
        Only the first ``top`` subjects.
    severities : tuple of str, optional
        Only findings of these severities.

    Returns
    -------
    list of (Finding, list of Finding)
        Each lead with the other findings about its subject, most important first.

    Examples
    --------
    >>> a = Finding("transfers rose in tier1_south", "n = 900", "high", 0.5, "20_kpi_scorecard", team="tier1_south")
    >>> b = Finding("tier1_south games handle time", "n = 900", "high", 0.4, "30_voice_of_customer", team="tier1_south")
    >>> c = Finding("a new bottleneck", "n = 700", "high", 0.3, "10_process_stages", stage="Specialist level")
    >>> [(lead.what, [o.what for o in others]) for lead, others in by_subject([c, b, a, a])]
    [('transfers rose in tier1_south', ['tier1_south games handle time']), ('a new bottleneck', [])]
    """
    groups: dict[tuple[str, str], tuple[Finding, list[Finding]]] = {}
    said: set[str] = set()
    for f in rank(found):
        if (severities is not None and f.severity not in severities) or f.what in said:
            continue
        said.add(f.what)
        key = subject(f)
        if key in groups:
            groups[key][1].append(f)
        else:
            groups[key] = (f, [])
    out = list(groups.values())
    return out[:top] if top else out


def save(found: Iterable[Finding], report_dir: Path | str | None, page: str) -> None:
    """Save one page's findings into the review run's folder (atomically).

    It returns nothing, so a notebook cell that ends with it shows nothing on the page
    (a returned path would be shown there, naming the run's staging folder).

    Parameters
    ----------
    found : iterable of Finding
    report_dir : pathlib.Path, str or None
        The run's folder (the notebooks' ``report_dir`` parameter). ``None`` (a notebook
        opened alone in JupyterLab): nothing is saved.
    page : str
        Stem of the notebook saving them; it replaces what that page saved before.

    Examples
    --------
    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> save([Finding("a", "n = 10", "low", 0.1, "20_kpi_scorecard")], run, "20_kpi_scorecard")
    >>> [f.what for f in load(run)]
    ['a']
    >>> save([Finding("b", "n = 10", "low", 0.1, "20_kpi_scorecard")], None, "20_kpi_scorecard")  # nothing saved
    >>> [f.what for f in load(run)]
    ['a']
    """
    if report_dir is None:
        return
    folder = Path(report_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    data = [f.to_dict() for f in found]
    fd, tmp = tempfile.mkstemp(prefix=f".{page}.", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"page": page, "findings": data}, out, ensure_ascii=False, indent=1)
    os.replace(tmp, folder / f"{page}.json")


def load(report_dir: Path | str | None) -> list[Finding]:
    """Every finding the pages of a run saved, ranked (:func:`rank`).

    Parameters
    ----------
    report_dir : pathlib.Path, str or None
        The run's folder; ``None`` or a folder without findings gives ``[]``.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> load(None)
    []
    """
    if report_dir is None:
        return []
    folder = Path(report_dir) / FOLDER
    found: list[Finding] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        found.extend(Finding.from_dict(item) for item in data.get("findings", []))
    return rank(found)


def signed(text: str, change: bool = True) -> str:
    """``text`` (a figure already rounded) with a sign when ``change``; a rounded zero has
    none, so no "+0.0" or "-0.0" is ever shown.

    Parameters
    ----------
    text : str
        The rounded figure, e.g. ``"16.0"``, ``"-0.0"``.
    change : bool, default True
        Whether it is a change (signed).

    Returns
    -------
    str

    Examples
    --------
    >>> signed("16.0"), signed("-0.0"), signed("-3.1"), signed("16.0", change=False)
    ('+16.0', '0.0', '-3.1', '16.0')
    """
    digits = "".join(c for c in text if c.isdigit())
    if not digits.strip("0"):
        return text.lstrip("-")
    if not change or text.startswith("-"):
        return text
    return "+" + text


def _hours_unit(*values: float) -> bool:
    """Whether durations are shown in minutes: every one of them is under an hour."""
    shown = [abs(v) for v in values if v is not None and not math.isnan(v)]
    return bool(shown) and max(shown) < 1


def _short_duration(hours: float) -> str:
    """A nonzero duration that rounds to 0 in minutes, in seconds: ``7 s``, ``<1 s`` (never 0)."""
    seconds = 3600 * hours
    if round(abs(seconds)) >= 1:
        return f"{seconds:,.0f} s"
    return ("-" if seconds < 0 else "") + "<1 s"


def number(value: float | None, unit: str, *, change: bool = False, minutes: bool | None = None) -> str:
    """A figure as a CX lead reads it: 48.4 % (a share), +9.3 pp (its change), -27 (NPS),
    4.85 (a score), 6.8 h, and times under an hour in minutes (23 min). A nonzero duration
    that would read 0 in its unit is shown in seconds (``+7 s``, ``-<1 s`` under half a
    second): a change is never "0 min" unless it is zero.

    Parameters
    ----------
    value : float or None
        The figure (a share as a fraction); missing: ``"–"``.
    unit : {"share", "points", "hours", "score"}
        The KPI's unit (:func:`cxassess.registry.unit`).
    change : bool, default False
        A change: signed, and a share's change in percentage points.
    minutes : bool, optional
        Force minutes (True) or hours (False) for a duration; default minutes under an hour
        (either way, seconds when the duration would round to 0 without being 0).

    Returns
    -------
    str

    Examples
    --------
    >>> number(0.4838, "share"), number(0.0928, "share", change=True), number(-27.13, "points")
    ('48.4%', '+9.3 pp', '-27.1')
    >>> number(0.39, "hours"), number(45.1, "hours"), number(-0.0019, "hours", change=True)
    ('23 min', '45.1 h', '-7 s')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if unit == "share":
        text = f"{100 * value:.1f} pp" if change else f"{100 * value:.1f}%"
    elif unit == "hours":
        in_minutes = _hours_unit(value) if minutes is None else minutes
        if value != 0 and round(abs(60 * value)) < 1:
            text = _short_duration(value)
        elif value != 0 and not in_minutes and round(abs(value), 1) == 0:  # under 3 min beside hours
            text = f"{60 * value:,.0f} min"
        else:
            text = f"{60 * value:,.0f} min" if in_minutes else f"{value:,.1f} h"
    elif unit == "score":
        text = f"{value:.2f}"
    else:
        text = f"{value:.1f}"
    return signed(text, change)


def interval(low: float | None, high: float | None, unit: str, *, change: bool = False) -> str:
    """An interval with both bounds in one unit and one precision, signed when it is of a
    change: ``-12.3 pp to +2.7 pp``; a nonzero bound that would read 0 in that unit is
    shown in a smaller one (``-2 min to -7 s``, never "0 min" or "-0.00 h").

    Parameters
    ----------
    low, high : float or None
        The bounds; either missing: ``"–"``.
    unit : {"share", "points", "hours", "score"}
        The KPI's unit.
    change : bool, default False
        The interval of a change.

    Returns
    -------
    str

    Examples
    --------
    >>> interval(-0.0253, -0.0019, "hours", change=True)
    '-2 min to -7 s'
    >>> interval(-0.1228, 0.0268, "share", change=True), interval(0.7146, 0.8354, "share")
    ('-12.3 pp to +2.7 pp', '71.5% to 83.5%')
    """
    if low is None or high is None or math.isnan(float(low)) or math.isnan(float(high)):
        return "–"
    minutes = _hours_unit(low, high) if unit == "hours" else None
    return (f"{number(low, unit, change=change, minutes=minutes)} to "
            f"{number(high, unit, change=change, minutes=minutes)}")

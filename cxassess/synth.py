"""Seeded sample data with known truths.

:func:`generate` simulates four quarterly cycles (2025Q4 … 2026Q3) of a support desk in
Europe/Berlin: tickets, their event log, surveys, QA audits, customers and the register of
improvement actions. Each cycle folder is the export a help desk gives at the cycle's end:
tickets created in the cycle with their events up to that instant, so tickets still open
then are open in the data (censored), as in real life.

The planted truths, documented in ``data/sample/README.md`` and asserted by the tests:

1. customers transferred once or more are clearly less satisfied;
2. team ``tier1_south`` cuts handle time in 2026Q3 by transferring more;
3. survey respondents over-represent bad experiences (transfers, reopens, long waits);
4. the specialist stage becomes the bottleneck in 2026Q3 (its queue grows);
5. action ``A-101`` (opened 2026Q1, done 2026-01-26) halves the reopen rate from then on;
6. holidays and both DST changes fall inside the cycles; nobody works on holidays;
7. survey comments come in English, German and Japanese;
8. QA audits find ``flow_followed`` failing far more often for ``tier1_south`` in 2026Q3;
9. in the calibration sessions (four auditors scoring the same tickets), ``qa-dmitri`` is
   lenient: he passes most of what the others fail.

The ticket table is derived from the generated event log with
:func:`cxassess.eventlog.tickets_from_events`, so the two tables always agree.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from cxassess.config import ReviewConfig
from cxassess.cycles import cycle_window
from cxassess.errors import InputError
from cxassess.eventlog import tickets_from_events

__all__ = ["SampleSpec", "generate", "generate_cycles", "write_sample", "support_config", "ecommerce_cycle", "write_ecommerce_sample",
           "wide_config", "wide_cycle", "write_wide_sample"]

TZ = "Europe/Berlin"
CYCLES = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
CHANNELS = {"email": 0.35, "chat": 0.25, "phone": 0.20, "web": 0.20}
PRIORITIES = {"low": 0.20, "normal": 0.55, "high": 0.20, "urgent": 0.05}
CATEGORIES = {"billing": 0.30, "technical": 0.40, "account": 0.20, "delivery": 0.10}
TIER1 = ("tier1_north", "tier1_south")
GAMING_TEAM, GAMING_CYCLE = "tier1_south", "2026Q3"
BOTTLENECK_CYCLE = "2026Q3"
CUSTOMER_ACTIVITIES = ("Reopened",)  # done by the customer: a team, but no agent
ACTION_DONE = pd.Timestamp("2026-01-26 12:00", tz=TZ)
LANGUAGES = {"en": 0.55, "de": 0.30, "ja": 0.15}
SEGMENTS = {"consumer": 0.70, "smb": 0.25, "enterprise": 0.05}
ANNUAL_VALUE = {"consumer": 300.0, "smb": 2_400.0, "enterprise": 24_000.0}  # median per segment
PLANTED = (1, 2, 3, 4, 5, 8, 9)  # truths SampleSpec.truths can switch off
AUDIT_SOURCES = {"qa": 0.80, "recording": 0.15, "mystery_shop": 0.05}
SURVEY_KINDS = {"csat": 0.6, "nps": 0.25, "ces": 0.15}

COMMENTS = {
    "en": {
        "neg": [
            "I was passed from one department to another and had to explain everything again.",
            "Took far too long, and nobody told me how long it would take.",
            "The problem came back the next day.",
            "Nobody seemed to own my request.",
        ],
        "mid": ["It was okay in the end.", "Solved, but it took a while.", "Average service."],
        "pos": [
            "Quick and friendly, thank you!",
            "Solved on the first contact, great.",
            "Very clear explanation, much appreciated.",
        ],
    },
    "de": {
        "neg": [
            "Ich wurde mehrfach weitergeleitet und musste alles neu erklären.",
            "Viel zu lange Wartezeit, niemand hat mir gesagt, wie lange es dauert.",
            "Das Problem ist am nächsten Tag wieder aufgetreten.",
        ],
        "mid": ["Am Ende in Ordnung.", "Gelöst, aber es hat gedauert."],
        "pos": [
            "Schnell und freundlich, vielen Dank!",
            "Beim ersten Kontakt gelöst, super.",
            "Sehr verständlich erklärt, danke schön.",
        ],
    },
    "ja": {
        "neg": [
            "部署をたらい回しにされ、毎回最初から説明しなければなりませんでした。",
            "時間がかかりすぎで、どのくらいかかるのか誰も教えてくれませんでした。",
            "翌日また同じ問題が起きました。",
        ],
        "mid": ["最終的には問題ありませんでした。", "解決しましたが、時間がかかりました。"],
        "pos": [
            "迅速で親切な対応、ありがとうございました。",
            "一度の問い合わせで解決しました。",
            "説明がとても分かりやすかったです。",
        ],
    },
}


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: size, seed, cycles and the shape of the tables.

    ``survey_share`` is the share of closed tickets sent a survey (the others have no
    *Survey sent* event and no survey row); ``categorised_share`` the share of tickets with
    a *Categorised* event (the others are categorised automatically, without an event). At
    their default, 1.0, no random draw is made for them, so the committed sample does not
    change; lower values shape benchmark data (1 M tickets, about 5 M events, 200 k surveys
    per cycle with ``survey_share=0.2, categorised_share=0.0``).

    Parameters
    ----------
    tickets_per_cycle : int, default 2500
        Tickets created in each cycle (at least 1; fewer than 10 million over all cycles).
    seed : int, default 20263
        Seed of the random generator: the same spec gives the same data.
    cycles : tuple of str, default ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
        The cycles, in order.
    survey_share : float, default 1.0
        Share of closed tickets sent a survey, between 0 and 1.
    categorised_share : float, default 1.0
        Share of tickets with a *Categorised* event, between 0 and 1.
    truths : tuple of int, default (1, 2, 3, 4, 5, 8, 9)
        The planted truths (numbers of the module's list) to plant; leave one out to
        generate the same desk without it, so that tests can check that the package finds
        nothing where nothing is planted. Truths 6 and 7 (calendar, languages) are the
        desk's nature and always there.
    survey_truth : bool, default False
        Also keep, for every surveyed ticket, the answer its customer would give
        (``truth_surveys``: ``ticket_id, kind, scale, score``, answered or not), so that
        tests can compare a reweighted CSAT with the population's. :func:`write_sample`
        writes it to ``_truth/<cycle>/surveys.csv``, outside the cycle folders: the package
        never reads it. Off by default (no random draw either way: the sample is unchanged).

    Raises
    ------
    InputError
        A size or a share out of range.

    Examples
    --------
    >>> spec = SampleSpec(tickets_per_cycle=100, cycles=("2026Q3",))
    >>> spec.tickets_per_cycle * len(spec.cycles), spec.survey_share
    (100, 1.0)
    >>> from cxassess.errors import InputError
    >>> try:
    ...     SampleSpec(survey_share=1.5)
    ... except InputError as error:
    ...     print(str(error).splitlines()[0])
    survey_share must be between 0 and 1, not 1.5
    """

    tickets_per_cycle: int = 2_500
    seed: int = 20_263
    cycles: tuple[str, ...] = CYCLES
    survey_share: float = 1.0
    categorised_share: float = 1.0
    truths: tuple[int, ...] = PLANTED
    survey_truth: bool = False

    def __post_init__(self) -> None:
        """Refuse a size or a share out of range (see Raises)."""
        if self.tickets_per_cycle < 1:
            raise InputError(f"tickets_per_cycle must be at least 1, not {self.tickets_per_cycle}",
                             fix="give a whole number of at least 1")
        if self.tickets_per_cycle * len(self.cycles) >= 10_000_000:
            raise InputError("at most 9,999,999 tickets over all cycles (ticket ids have 7 digits)",
                             fix="fewer tickets per cycle, or fewer cycles")
        unknown = sorted(set(self.truths) - set(PLANTED))
        if unknown:
            raise InputError(f"truths {unknown} cannot be switched (the switchable ones are {list(PLANTED)})",
                             fix="leave out a number of " + ", ".join(map(str, PLANTED)))
        for name in ("survey_share", "categorised_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must be between 0 and 1, not {getattr(self, name)}",
                                 fix="give a share, e.g. 0.2")


def support_config() -> ReviewConfig:
    """The *support* review.yml template that ships with the package.

    Returns
    -------
    ReviewConfig
        The template, read as the review.yml of a dataset named ``sample``.

    Examples
    --------
    >>> config = support_config()
    >>> config.name, [stage.name for stage in config.process.stages][:3]
    ('sample', ['intake', 'first_level', 'specialist'])
    """
    text = resources.files("cxassess").joinpath("templates/review/support.yml").read_text("utf-8")
    return ReviewConfig(path=Path("support.yml"), raw=yaml.safe_load(text))


# --------------------------------------------------------------------------- time helpers
_NS = {"s": 1_000_000_000, "min": 60_000_000_000, "h": 3_600_000_000_000, "D": 86_400_000_000_000}


def _utc_ns(ts: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of a tz-aware Series, as int64."""
    return ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)


def _as_ns(durations: pd.TimedeltaIndex) -> np.ndarray:
    """Nanoseconds of durations (whatever their unit), as int64."""
    return durations.to_numpy().astype("timedelta64[ns]").view(np.int64)


#: The hourly grids of :func:`_local_ns` start and end on multiples of this many nanoseconds
#: (4096 hours, about 171 days), so that a few grids serve every call.
_GRID_BLOCK = 4096 * _NS["h"]


@cache
def _hourly_offsets(first: int, last: int) -> np.ndarray:
    """The UTC offset of TZ (nanoseconds, int64) at each whole UTC hour from ``first`` up
    to ``last`` (nanoseconds since the epoch, whole hours), as pandas converts them.
    """
    grid = pd.date_range(pd.Timestamp(first, tz="UTC"), pd.Timestamp(last, tz="UTC"), freq="h")
    offset = (grid.tz_convert(TZ).tz_localize(None) - grid.tz_localize(None)).to_numpy().astype("timedelta64[ns]")
    return offset.view(np.int64)


def _local_ns(utc_ns: np.ndarray) -> np.ndarray:
    """Wall-clock time in TZ (as nanoseconds of a naive epoch) of UTC instants, vectorised.

    The UTC offset is read from an hourly grid over the instants' span (kept for the next
    calls: :func:`_hourly_offsets`): the zone of the sample changes its offset on whole UTC hours.
    """
    if not len(utc_ns):
        return utc_ns.copy()
    first = int(utc_ns.min()) // _GRID_BLOCK * _GRID_BLOCK
    last = (int(utc_ns.max()) // _GRID_BLOCK + 1) * _GRID_BLOCK
    return utc_ns + _hourly_offsets(first, last)[(utc_ns - first) // _NS["h"]]


class _Clock:
    """Working hours of the sample desk, to push agent actions into opening hours."""

    def __init__(self, config: ReviewConfig) -> None:
        hours = config.calendar["working_hours"]
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        self.open = np.full(7, np.nan)
        self.close = np.full(7, np.nan)
        for i, day in enumerate(days):
            if day in hours:
                start, end = ([int(x) for x in t.split(":")] for t in hours[day])
                self.open[i] = start[0] + start[1] / 60
                self.close[i] = end[0] + end[1] / 60
        self.holidays = np.array(sorted(config.holidays), dtype="datetime64[D]")
        # the opening time of each weekday as nanoseconds after midnight (0 on closed days)
        self.open_ns = _as_ns(pd.to_timedelta(np.where(np.isnan(self.open), 0.0, self.open), unit="h"))

    def snap(self, utc_ns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Move instants outside working hours to a few minutes after the next opening.

        Each round checks only the instants the round before moved (the others already
        lie in working hours) and draws one jitter per instant, as the first version did:
        the same seed gives the same instants.

        Parameters
        ----------
        utc_ns : numpy.ndarray
            The instants, as nanoseconds since the epoch (UTC, int64).
        rng : numpy.random.Generator
            The random generator of the jitter.

        Returns
        -------
        numpy.ndarray
            The instants moved (a new array, same form).
        """
        ns = utc_ns.copy()
        holidays = self.holidays.astype(np.int64)
        todo = np.arange(len(ns))
        for _ in range(14 if len(ns) else 0):
            day, of_day = np.divmod(_local_ns(ns[todo]), _NS["D"])
            minute = of_day // _NS["min"]
            hour = minute // 60 + minute % 60 / 60
            days = np.arange(day.min(), day.max() + 1)  # the days in the span, looked up by place
            wd = (days + 3) % 7  # 1970-01-01 was a Thursday
            closed = np.isnan(self.open[wd]) | np.isin(days, holidays)
            at = day - days[0]
            closed_day = closed[at]
            before = ~closed_day & (hour < self.open[wd][at])
            after = closed_day | (hour >= self.close[wd][at])
            move = before | after
            if not move.any():
                break
            jitter = rng.integers(60, 1500, len(ns))
            moved = todo[move]
            target_day = day[move] + after[move]
            target = (target_day * _NS["D"] + self.open_ns[(target_day + 3) % 7]
                      + jitter[moved] * _NS["s"])  # wall-clock time, as nanoseconds of a naive epoch
            aware = pd.DatetimeIndex(target.astype("datetime64[ns]")).tz_localize(
                TZ, ambiguous=np.ones(len(moved), bool), nonexistent="shift_forward")
            ns[moved] = aware.as_unit("ns").asi8 // _NS["s"] * _NS["s"]  # to the second
            todo = moved
        return ns


def _lognormal_ns(rng: np.random.Generator, median_hours: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    """``n`` durations spread log-normally around ``median_hours``, to the second, as int64 nanoseconds."""
    hours = np.asarray(median_hours, dtype=float) * np.exp(rng.normal(0.0, sigma, n))
    return np.round(hours * 3600).astype(np.int64) * _NS["s"]


def _lognormal(rng: np.random.Generator, median_hours: np.ndarray | float, sigma: float, n: int) -> pd.TimedeltaIndex:
    """The durations of :func:`_lognormal_ns` (the same draw), as pandas timedeltas."""
    return pd.to_timedelta(_lognormal_ns(rng, median_hours, sigma, n), unit="ns")


def _draw(rng: np.random.Generator, probs: dict, n: int) -> np.ndarray:
    """Codes (places in ``probs``) of ``n`` values drawn with the weights of ``probs``."""
    p = np.array(list(probs.values()), dtype=float)
    return rng.choice(len(p), n, p=p / p.sum())


def _choice(rng: np.random.Generator, probs: dict, n: int) -> np.ndarray:
    """``n`` keys of ``probs`` drawn with its weights, as Python strings (the same draw as :func:`_draw`)."""
    return np.array(list(probs), dtype=object)[_draw(rng, probs, n)]


def _per_code(values: dict, keys: dict | tuple) -> np.ndarray:
    """``values[key]`` for each key of ``keys`` in order: looked up by code, ``_per_code(v, k)[codes]``."""
    return np.array([values[k] for k in keys])


def _created_times(rng: np.random.Generator, label: str, n: int, holidays: set[dt.date]) -> np.ndarray:
    """When the cycle's ``n`` tickets are created (more on working days and hours), in order,
    as nanoseconds since the epoch (UTC, int64).
    """
    start, end = cycle_window(label, TZ)
    days = pd.date_range(start.tz_localize(None), end.tz_localize(None), freq="D", inclusive="left")
    weight = np.select([days.weekday == 6, days.weekday == 5], [0.2, 0.35], 1.0)
    weight = np.where(np.isin(days.date, list(holidays)), 0.3, weight)
    day = days[rng.choice(len(days), n, p=weight / weight.sum())]
    profile = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 15, 13, 14, 15, 14, 12, 9, 6, 5, 4, 3, 2, 1.0])
    hour = rng.choice(24, n, p=profile / profile.sum())
    seconds = hour * 3600 + rng.integers(0, 3600, n)
    local = pd.Series(day + pd.to_timedelta(seconds, unit="s"))
    aware = local.dt.tz_localize(TZ, ambiguous=np.ones(n, bool), nonexistent="shift_forward")
    return np.sort(_utc_ns(aware))


def _numbered(prefix: str, first: int, n: int, digits: int) -> pd.api.extensions.ExtensionArray:
    """``T0000001``, ``T0000002``, ... (``prefix``, then ``first`` ... ``first + n - 1`` with at
    least ``digits`` digits): zero-padded, so their text order is their number order. Built
    by Arrow, as a pandas ``str`` array.
    """
    numbers = pa.array(np.arange(first, first + n, dtype=np.int64)).cast(pa.large_string())
    text = pa.large_string()
    joined = pc.binary_join_element_wise(pa.scalar(prefix, text), pc.utf8_lpad(numbers, width=digits, padding="0"),
                                         pa.scalar("", text))
    return pd.array(joined, dtype="str")


def _ticket_ids(first_id: int, n: int) -> pd.api.extensions.ExtensionArray:
    """``T0000001``, ``T0000002``, ...: zero-padded, so their text order is their number order."""
    return _numbered("T", first_id, n, 7)


def _categorical(codes: np.ndarray, categories: list | tuple | pd.api.extensions.ExtensionArray) -> pd.Categorical:
    """Text column from integer codes (-1: missing), without one Python object per row."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int32), categories=pd.Index(categories))


def _text(codes: np.ndarray, values: list | tuple | dict) -> pd.api.extensions.ExtensionArray:
    """Text column (pandas ``str``) from integer codes into ``values`` (-1: missing), taken
    by Arrow without one Python object per row.
    """
    codes = np.asarray(codes, dtype=np.int64)
    taken = pc.take(pa.array(list(values), pa.large_string()), pa.array(codes, mask=codes < 0))
    return pd.array(taken, dtype="str")


# --------------------------------------------------------------------------- one cycle
TEAMS = (*TIER1, "billing_specialists", "tech_specialists")  # codes 0, 1 (first level), 2, 3
AGENTS = tuple(f"{p}-{i:02d}" for p in ("north", "south", "billing", "tech") for i in range(1, 13))


def _cycle(
    rng: np.random.Generator,
    label: str,
    n: int,
    first_id: int,
    customers: pd.DataFrame,
    clock: _Clock,
    config: ReviewConfig,
    spec: SampleSpec = SampleSpec(),
) -> dict[str, pd.DataFrame]:
    """One cycle's tables. Tickets are numbered 0..n-1 inside the function (ids are text
    only in the tables returned); text columns of the event log are categorical.
    """
    process = config.process
    start, end = cycle_window(label, TZ)
    created = _created_times(rng, label, n, set(clock.holidays.astype(object)))
    ids = _ticket_ids(first_id, n)
    channel = _draw(rng, CHANNELS, n)  # codes, as every text column until the tables are built
    priority = _draw(rng, PRIORITIES, n)
    category = _draw(rng, CATEGORIES, n)
    billing, technical = list(CATEGORIES).index("billing"), list(CATEGORIES).index("technical")
    team_code = rng.integers(0, 2, n)
    specialist_code = np.where(category == billing, 2, 3)
    active = np.flatnonzero(((customers["active_from"] < start) & customers["active_to"].isna()).to_numpy())
    customer_pos = active[rng.integers(0, len(active), n)]
    on = set(spec.truths)
    gaming = (team_code == TIER1.index(GAMING_TEAM)) & (label == GAMING_CYCLE) & (2 in on)

    # paths: transfers, ping-pong, reopen
    p_transfer = np.select([category == technical, category == billing], [0.26, 0.22], 0.12)
    p_transfer = p_transfer + np.where(gaming, 0.22, 0.0)
    transferred = rng.random(n) < p_transfer
    pingpong = transferred & (rng.random(n) < 0.2)
    p_reopen = np.where((created >= ACTION_DONE.value) & (5 in on), 0.065, 0.14)
    reopened = rng.random(n) < p_reopen

    # timings (calendar time, as nanoseconds since the epoch, UTC; agent actions snapped into opening hours)
    frt_median = _per_code({"chat": 0.15, "phone": 0.05, "email": 4.0, "web": 4.0}, CHANNELS)[channel]
    frt_median = frt_median * _per_code({"low": 1.5, "normal": 1.0, "high": 0.6, "urgent": 0.3}, PRIORITIES)[priority]
    t_recv = created
    t_cat = created + rng.integers(60, 600, n) * _NS["s"]
    t_first = clock.snap(t_cat + _lognormal_ns(rng, frt_median, 0.9, n), rng)
    t_escalate = clock.snap(t_first + _lognormal_ns(rng, 0.8, 0.6, n), rng)
    queue = 28.0 if label == BOTTLENECK_CYCLE and 4 in on else 3.0
    t_pick = clock.snap(t_escalate + _lognormal_ns(rng, queue, 0.7, n), rng)
    t_spec_reply = clock.snap(t_pick + _lognormal_ns(rng, 1.5, 0.7, n), rng)
    t_back = clock.snap(t_spec_reply + _lognormal_ns(rng, 0.5, 0.5, n), rng)
    last_before_solve = np.where(~transferred, t_first, np.where(~pingpong, t_spec_reply, t_back))
    solve_median = np.where(transferred & ~pingpong, 1.0, 3.0)
    t_solve = clock.snap(last_before_solve + _lognormal_ns(rng, solve_median, 0.8, n), rng)
    solver_code = np.where(transferred & ~pingpong, specialist_code, team_code)
    t_reopen = t_solve + _lognormal_ns(rng, 30.0, 0.6, n)
    t_reply2 = clock.snap(t_reopen + _lognormal_ns(rng, 2.0, 0.7, n), rng)
    t_solve2 = clock.snap(t_reply2 + _lognormal_ns(rng, 3.0, 0.7, n), rng)
    final_solve = np.where(~reopened, t_solve, t_solve2)
    close_delay = np.minimum(_lognormal_ns(rng, 20.0, 0.8, n), 72 * _NS["h"])
    t_close = final_solve + close_delay
    t_survey = t_close + _NS["h"]
    everyone = np.ones(n, dtype=bool)
    categorised = rng.random(n) < spec.categorised_share if spec.categorised_share < 1 else everyone
    surveyed = rng.random(n) < spec.survey_share if spec.survey_share < 1 else everyone

    none = np.full(n, -1)
    steps = [
        ("Ticket received", t_recv, none, everyone),
        ("Categorised", t_cat, none, categorised),
        ("First reply", t_first, team_code, everyone),
        ("Escalated to specialist", t_escalate, team_code, transferred),
        ("Specialist picked up", t_pick, specialist_code, transferred),
        ("Specialist reply", t_spec_reply, specialist_code, transferred),
        ("Returned to first level", t_back, team_code, pingpong),
        ("Solution provided", t_solve, solver_code, everyone),
        ("Reopened", t_reopen, solver_code, reopened),
        ("Agent reply", t_reply2, solver_code, reopened),
        ("Solution provided", t_solve2, solver_code, reopened),
        ("Closed", t_close, none, everyone),
        ("Survey sent", t_survey, none, surveyed),
    ]
    activities = list(dict.fromkeys(step[0] for step in steps))
    ticket_no = np.arange(n)
    ev_ticket = np.concatenate([ticket_no[mask] for _, _, _, mask in steps])
    ev_ns = np.concatenate([when[mask] for _, when, _, mask in steps])
    ev_activity = np.concatenate([np.full(mask.sum(), activities.index(a)) for a, _, _, mask in steps])
    ev_team = np.concatenate([who[mask] for _, _, who, mask in steps])
    keep = ev_ns < end.value  # the export is taken at the cycle's end
    ev_ticket, ev_ns, ev_activity, ev_team = (a[keep] for a in (ev_ticket, ev_ns, ev_activity, ev_team))
    agent_choice = rng.integers(0, 12, len(ev_ns))
    by_customer = np.isin(ev_activity, [activities.index(a) for a in CUSTOMER_ACTIVITIES])
    ev_agent = np.where((ev_team >= 0) & ~by_customer, ev_team * 12 + agent_choice, -1)
    # ticket, then instant, then step: the events lie step after step, so a stable sort by one
    # key, (ticket, second since the cycle's start), keeps the steps' order where instants tie
    # (every instant is a whole second from the cycle's start to its end)
    seconds = (end.value - start.value) // _NS["s"]
    order = np.argsort(ev_ticket * seconds + (ev_ns - start.value) // _NS["s"], kind="stable")
    ev_ticket, ev_ns, ev_activity, ev_team, ev_agent = (
        a[order] for a in (ev_ticket, ev_ns, ev_activity, ev_team, ev_agent))
    stages = [s.name for s in process.stages]
    stage_of = np.array([stages.index(process.activities[a]) for a in activities])
    stamp = pd.Series(pd.to_datetime(ev_ns, unit="ns", utc=True)).dt.tz_convert(TZ)
    events = pd.DataFrame(
        {
            "ticket_id": _categorical(ev_ticket, ids),
            "timestamp": stamp,
            "activity": _categorical(ev_activity, activities),
            "stage": _categorical(stage_of[ev_activity], stages),
            "team": _categorical(ev_team, TEAMS),
            "agent_id": _categorical(ev_agent, AGENTS),
        }
    )

    # the ticket table, derived from the log with the package's own rules (numbers as ids)
    log = pd.DataFrame({"ticket_id": ev_ticket, "timestamp": stamp, "activity": events["activity"],
                        "team": events["team"]})
    tickets = tickets_from_events(log, process).drop(columns=["team"], errors="ignore")
    number = tickets["ticket_id"].to_numpy()
    with_agent = ev_agent >= 0
    seen, first_at = np.unique(ev_ticket[with_agent], return_index=True)
    first_agent = np.full(n, -1)
    first_agent[seen] = ev_agent[with_agent][first_at]
    handle = 16.0 * np.where(gaming, 0.6, 1.0) * (1 + 0.6 * reopened) * np.exp(rng.normal(0, 0.45, n))
    tickets = tickets.assign(
        ticket_id=ids.take(number),
        channel=_text(channel[number], CHANNELS),
        priority=_text(priority[number], PRIORITIES),
        category=_text(category[number], CATEGORIES),
        team=_text(team_code[number], TIER1),
        agent_id=_categorical(first_agent[number], AGENTS),
        customer_id=customers["customer_id"].array.take(customer_pos[number]),
        handle_minutes=np.round(handle, 1)[number],
    )
    tickets = tickets[
        [
            "ticket_id", "created_at", "channel", "priority", "category", "team", "agent_id",
            "customer_id", "first_response_at", "resolved_at", "closed_at", "reopens",
            "transfers", "agent_replies", "handle_minutes", "status",
        ]
    ]

    # surveys: one per closed ticket sent a survey, one hour after closing
    closed = tickets["closed_at"].notna().to_numpy() & surveyed[number]
    t_idx = np.flatnonzero(closed)
    m = len(t_idx)
    ttr_hours = ((tickets["resolved_at"] - tickets["created_at"]).dt.total_seconds() / 3600).to_numpy()[t_idx]
    n_transfers = tickets["transfers"].to_numpy(dtype=float)[t_idx]
    n_reopens = tickets["reopens"].to_numpy(dtype=float)[t_idx]
    latent = (
        4.35
        - (1.1 * (n_transfers > 0) + 0.4 * (n_transfers > 1)) * (1 in on)
        - 0.9 * (n_reopens > 0)
        - 0.25 * np.log1p(ttr_hours / 24)
        + rng.normal(0, 0.75, m)
    )
    bad = (n_transfers > 0) | (n_reopens > 0) | (ttr_hours > 72)
    kind = _draw(rng, SURVEY_KINDS, m)
    scale = _per_code({"csat": 5, "nps": 11, "ces": 7}, SURVEY_KINDS)[kind]
    score = np.select(
        [kind == 0, kind == 1],  # csat, nps
        [
            np.clip(np.round(latent), 1, 5),
            np.clip(np.round(2.3 * latent - 1.2 + rng.normal(0, 0.6, m)), 0, 10),
        ],
        np.clip(np.round(1.5 * latent - 0.2 + rng.normal(0, 0.5, m)), 1, 7),
    )
    sent = tickets["closed_at"].iloc[t_idx].reset_index(drop=True) + pd.Timedelta(hours=1)
    responded_at = sent + _lognormal(rng, 6.0, 1.0, m)
    answered = (rng.random(m) < (np.where(bad, 0.42, 0.14) if 3 in on else 0.22)) & (responded_at < end).to_numpy()
    language = np.asarray(customers["language"].array.take(customer_pos[number[t_idx]]))
    sentiment = np.where(latent < 2.8, 0, np.where(latent < 3.8, 1, 2))
    has_comment = answered & (rng.random(m) < 0.45)
    comment = _comments(language, sentiment, rng.integers(0, 100, m), has_comment)
    kind = np.array(list(SURVEY_KINDS), dtype=object)[kind]  # object arrays: no survey, no text dtype
    surveys = pd.DataFrame(
        {
            "ticket_id": tickets["ticket_id"].iloc[t_idx].to_numpy(),
            "sent_at": sent,
            "responded_at": responded_at.where(answered),
            "kind": kind,
            "scale": scale,
            "score": pd.array(np.where(answered, score, np.nan), dtype="Int64"),
            "comment": comment,
            "language": language,
        }
    )
    sent_in_cycle = (surveys["sent_at"] < end).to_numpy()
    truth = None
    if spec.survey_truth:  # the answer every surveyed customer would give (tests only)
        truth = pd.DataFrame({"ticket_id": surveys["ticket_id"], "kind": kind, "scale": scale,
                              "score": score.astype(int)})[sent_in_cycle].reset_index(drop=True)
    surveys = surveys[sent_in_cycle].reset_index(drop=True)

    # QA audits: 4 % of closed tickets, every criterion of the scorecard
    c_idx = np.flatnonzero(tickets["closed_at"].notna().to_numpy())
    audited = rng.random(len(c_idx)) < 0.04
    a_idx = c_idx[audited]
    audited_at = tickets["closed_at"].iloc[a_idx].reset_index(drop=True) + _lognormal(rng, 72.0, 0.6, len(a_idx))
    keep = (audited_at < end).to_numpy()
    a_idx, audited_at = a_idx[keep], audited_at[keep].reset_index(drop=True)
    criteria = [c["criterion"] for c in config.raw["qa_scorecard"]]
    audit_ids = np.array([f"QA-{label}-{i:04d}" for i in range(len(a_idx))], dtype=object)
    results = []  # of each criterion
    src = _choice(rng, AUDIT_SOURCES, len(a_idx))
    auditor = np.array(["qa-anna", "qa-ben", "qa-chiyo"], dtype=object)[rng.integers(0, 3, len(a_idx))]
    a_team = tickets["team"].iloc[a_idx].to_numpy()
    a_ticket = tickets["ticket_id"].iloc[a_idx].to_numpy()
    a_agent = tickets["agent_id"].iloc[a_idx].to_numpy()
    a_gaming = (a_team == GAMING_TEAM) & (label == GAMING_CYCLE) & (8 in on)
    for criterion in criteria:
        p_fail = np.full(len(a_idx), 0.07)
        if criterion == "flow_followed":
            p_fail = np.where(a_gaming, 0.35, p_fail)
        u = rng.random(len(a_idx))
        results.append(np.where(u < 0.04, "na", np.where(u < 0.04 + p_fail, "fail", "pass")))
    # one row per audit and criterion, in the text order of the audit ids and then of the criteria
    row = np.repeat(np.argsort(audit_ids.astype(str), kind="stable"), len(criteria))
    col = np.tile(np.argsort(criteria, kind="stable"), len(a_idx))
    audits = pd.DataFrame(
        {
            "audit_id": audit_ids[row],
            "ticket_id": a_ticket[row],
            "agent_id": a_agent[row],
            "criterion": np.array(criteria, dtype=str)[col],
            "auditor_id": auditor[row],
            "audited_at": audited_at.iloc[row].reset_index(drop=True),
            "result": np.array(results, dtype=str).reshape(len(criteria), len(a_idx))[col, row],
            "source": src[row],
        }
    )
    out = {"tickets": tickets, "events": events, "surveys": surveys, "audits": audits,
           "_customer_pos": customer_pos[number]}
    if truth is not None:
        out["truth_surveys"] = truth
    return out


# QA calibration sessions: a separate random stream, so the other tables stay as they were
CALIBRATION_AUDITORS = ("qa-anna", "qa-ben", "qa-chiyo", "qa-dmitri")
LENIENT_AUDITOR = "qa-dmitri"  # truth 9
CALIBRATION_TICKETS = 25


def _calibration(rng: np.random.Generator, label: str, tickets: pd.DataFrame, audits: pd.DataFrame,
                 config: ReviewConfig, lenient: bool) -> pd.DataFrame:
    """The cycle's audits with a ``session`` column (empty for regular audits) and the rows of
    one calibration session: the four auditors score the same tickets, closed before the
    session (on the working day ten days before the cycle's end, or the one before, at 10:00). Items fail for 20 % (calibration picks
    hard cases), each auditor misreads 4 % of them; the lenient auditor (truth 9) passes
    75 % of the items that fail.
    """
    _, end = cycle_window(label, TZ)
    when = (end - pd.Timedelta(days=10)).normalize() + pd.Timedelta(hours=10)
    while when.weekday() >= 5:  # a working day
        when -= pd.Timedelta(days=1)
    closed = np.flatnonzero((tickets["closed_at"].notna() & (tickets["closed_at"] < when)).to_numpy())
    out = audits.assign(session=pd.Series([None] * len(audits), dtype=object))
    if not len(closed):
        return out
    picked = np.sort(rng.choice(closed, size=min(CALIBRATION_TICKETS, len(closed)), replace=False))
    criteria = [c["criterion"] for c in config.raw["qa_scorecard"]]
    shape = (len(picked), len(criteria))
    u = rng.random(shape)
    truth = np.where(u < 0.04, "na", np.where(u < 0.24, "fail", "pass"))
    source = _choice(rng, AUDIT_SOURCES, len(picked))
    ticket_ids = tickets["ticket_id"].iloc[picked].to_numpy()
    agent_ids = tickets["agent_id"].iloc[picked].to_numpy()
    audited_at = pd.Series([when] * len(picked)).dt.tz_convert(audits["audited_at"].dt.tz)
    seen = []  # of each auditor: (ticket, criterion)
    for auditor in CALIBRATION_AUDITORS:
        misread = rng.random(shape) < 0.04
        passes = rng.random(shape) < 0.75
        result = np.where(misread & (truth != "na"), np.where(truth == "pass", "fail", "pass"), truth)
        if lenient and auditor == LENIENT_AUDITOR:
            result = np.where((result == "fail") & passes, "pass", result)
        seen.append(result)
    # one row per auditor, ticket and criterion, in the text order of the audit ids and then of the criteria
    audit_ids = np.array([f"CAL-{label}-{i:02d}-{k + 1}" for k in range(len(CALIBRATION_AUDITORS))
                          for i in range(len(picked))])
    row = np.repeat(np.argsort(audit_ids, kind="stable"), len(criteria))
    col = np.tile(np.argsort(criteria, kind="stable"), len(audit_ids))
    auditor_at, ticket_at = np.divmod(row, len(picked))
    session = pd.DataFrame({
        "audit_id": audit_ids[row],
        "ticket_id": ticket_ids[ticket_at],
        "agent_id": agent_ids[ticket_at],
        "criterion": np.array(criteria, dtype=str)[col],
        "auditor_id": np.array(CALIBRATION_AUDITORS, dtype=str)[auditor_at],
        "audited_at": audited_at.iloc[ticket_at].reset_index(drop=True),
        "result": np.array(seen, dtype=str)[auditor_at, ticket_at, col],
        "source": source[ticket_at],
        "session": np.full(len(row), f"CAL-{label}"),
    })
    return pd.concat([out, session], ignore_index=True)


def _comments(language: np.ndarray, sentiment: np.ndarray, pick: np.ndarray, has_comment: np.ndarray) -> np.ndarray:
    """The survey comments: ``COMMENTS[language][sentiment][pick % how many]`` where asked."""
    flat: list[str] = []
    first = np.zeros((len(COMMENTS), 3), dtype=np.int64)
    size = np.zeros((len(COMMENTS), 3), dtype=np.int64)
    for i, lang in enumerate(COMMENTS):
        for j, mood in enumerate(("neg", "mid", "pos")):
            first[i, j], size[i, j] = len(flat), len(COMMENTS[lang][mood])
            flat += COMMENTS[lang][mood]
    lang = pd.Categorical(language, categories=list(COMMENTS)).codes
    at = first[lang, sentiment] + pick % size[lang, sentiment]
    return np.where(has_comment, np.array(flat, dtype=object)[at], None)


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """The customer base: ``C000001``... with the day they joined, segment, annual value and
    language (categorical: only the surveys take it, as text).
    """
    segment = _draw(rng, SEGMENTS, n)
    base = _per_code(ANNUAL_VALUE, SEGMENTS)[segment]
    joined = pd.Timestamp("2021-01-01", tz=TZ) + pd.to_timedelta(rng.uniform(0, 1_900, n), unit="D")
    return pd.DataFrame(
        {
            "customer_id": _numbered("C", 1, n, 6),
            "active_from": joined.floor("D"),
            "active_to": pd.Series(pd.NaT, index=range(n), dtype=f"datetime64[us, {TZ}]"),
            "segment": _text(segment, SEGMENTS),
            "annual_value": np.round(base * np.exp(rng.normal(0, 0.4, n)), 2),
            "language": _categorical(_draw(rng, LANGUAGES, n), LANGUAGES),
        }
    )


def _actions(label: str) -> pd.DataFrame:
    """The improvement register as exported at the end of ``label``."""
    _, end = cycle_window(label, TZ)
    register = pd.DataFrame(
        [
            ("A-100", "Promise a time estimate on every transfer", "2025Q4", "specialist", "csat",
             "cx-lead", 0.03, 8_000.0, "2026-06-30", None),
            ("A-101", "Closing checklist and knowledge-base check before solving", "2026Q1",
             "resolution", "reopen_rate", "tier1-lead", -0.05, 12_000.0, "2026-02-15",
             "2026-01-26"),
            ("A-102", "Specialist capacity plan for the escalation queue", "2026Q3", "specialist",
             "ttr", "ops-lead", -0.2, 30_000.0, "2026-12-15", None),
        ],
        columns=["action_id", "title", "opened_cycle", "stage", "kpi", "owner", "expected_effect",
                 "cost", "due", "done_at"],
    )
    opened = register["opened_cycle"].map(lambda c: cycle_window(c, TZ)[0]) < end
    register = register[opened].copy()
    done = pd.to_datetime(register["done_at"]).dt.tz_localize(TZ)
    register["done_at"] = done.where(done < end)
    register["status"] = np.where(register["done_at"].notna(), "done", "in_progress")
    register["due"] = pd.to_datetime(register["due"]).dt.tz_localize(TZ)
    cols = ["action_id", "title", "opened_cycle", "stage", "kpi", "owner", "status",
            "expected_effect", "cost", "due", "done_at"]
    return register[cols].reset_index(drop=True)


def generate(spec: SampleSpec = SampleSpec()) -> dict[str, dict[str, pd.DataFrame]]:
    """Generate every cycle's tables.

    Parameters
    ----------
    spec : SampleSpec, optional
        What to generate; default the committed sample (2,500 tickets in each of four cycles).

    Returns
    -------
    dict
        ``{cycle: {table: DataFrame}}`` with the canonical tables of DESIGN.md §4.

    Examples
    --------
    >>> data = generate(SampleSpec(tickets_per_cycle=200))
    >>> sorted(data["2026Q3"])
    ['actions', 'audits', 'customers', 'events', 'surveys', 'tickets']
    """
    return dict(generate_cycles(spec))


def generate_cycles(spec: SampleSpec = SampleSpec()) -> Iterator[tuple[str, dict[str, pd.DataFrame]]]:
    """Generate the cycles one after the other: ``(cycle, {table: DataFrame})``, so that a
    writer holds one cycle in memory at a time.

    Parameters
    ----------
    spec : SampleSpec, optional
        What to generate; default the committed sample (2,500 tickets in each of four cycles).

    Yields
    ------
    label : str
        The cycle, in the order of ``spec.cycles``.
    tables : dict of str to pandas.DataFrame
        The cycle's tables: tickets, events, surveys, audits, customers and actions.

    Examples
    --------
    >>> [label for label, _ in generate_cycles(SampleSpec(tickets_per_cycle=50, cycles=("2026Q2", "2026Q3")))]
    ['2026Q2', '2026Q3']
    """
    rng = np.random.default_rng(spec.seed)
    calibration_rng = np.random.default_rng((spec.seed, 17))  # truth 9: its own stream
    config = support_config()
    clock = _Clock(config)
    customers = _customers(rng, max(200, int(spec.tickets_per_cycle * 1.6)))
    first_id = 1
    for label in spec.cycles:
        start, end = cycle_window(label, TZ)
        tables = _cycle(rng, label, spec.tickets_per_cycle, first_id, customers, clock, config, spec)
        first_id += spec.tickets_per_cycle
        # churn: more likely after a bad experience in the cycle
        customer_pos = tables.pop("_customer_pos")  # row in customers of each ticket's customer
        bad = np.zeros(len(customers), dtype=bool)  # customers with a transfer or a reopen
        bad[customer_pos[(tables["tickets"]["transfers"] > 0).to_numpy() | (tables["tickets"]["reopens"] > 0).to_numpy()]] = True
        live = customers["active_to"].isna() & (customers["active_from"] < start)
        p_churn = np.where(bad, 0.12, 0.04)
        churn = live & (rng.random(len(customers)) < p_churn)
        days = rng.uniform(0, (end - start).days, len(customers))  # drawn for every customer, used for those who leave
        customers.loc[churn, "active_to"] = (start + pd.to_timedelta(days[churn.to_numpy()], unit="D")).floor("D")
        known = customers[(customers["active_from"] < end)].copy()
        known = known[known["active_to"].isna() | (known["active_to"] >= start)]
        tables["customers"] = known.drop(columns="language").reset_index(drop=True)
        tables["actions"] = _actions(label)
        tables["audits"] = _calibration(calibration_rng, label, tables["tickets"], tables["audits"], config,
                                        9 in spec.truths)
        yield label, tables


def write_sample(out: Path | str, spec: SampleSpec = SampleSpec(), *, name: str | None = None) -> Path:
    """Write a generated dataset (review.yml, README.md and one folder per cycle).

    Timestamps are written in ISO 8601 with their UTC offset, as help desks export them.
    Cycles are generated one after the other, each written (in a second thread) while the
    next one is generated: memory holds two cycles.

    Parameters
    ----------
    out : pathlib.Path or str
        The dataset folder, created when missing.
    spec : SampleSpec, optional
        What to generate; default the committed sample.
    name : str, optional
        The dataset's ``name`` in review.yml; default that of the template (``sample``).

    Returns
    -------
    pathlib.Path
        The dataset folder.

    Examples
    --------
    >>> import tempfile
    >>> root = write_sample(tempfile.mkdtemp(), SampleSpec(tickets_per_cycle=100))
    >>> sorted(p.name for p in root.iterdir())[:3]
    ['2025Q4', '2026Q1', '2026Q2']
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    templates = resources.files("cxassess").joinpath("templates")
    review = templates.joinpath("review/support.yml").read_text("utf-8")
    if name:
        review = review.replace("name: sample ", f"name: {name} ", 1)
    (root / "review.yml").write_text(review, encoding="utf-8")
    with resources.as_file(templates.joinpath("sample/README.md")) as readme:
        shutil.copyfile(readme, root / "README.md")
    with ThreadPoolExecutor(max_workers=1) as writer:  # writes a cycle while the next one is generated
        written = None
        for label, tables in generate_cycles(spec):
            if written is not None:
                written.result()  # one cycle written at a time: memory holds two
            written = writer.submit(_write_cycle, root, label, tables)
            del tables
        if written is not None:
            written.result()
    return root


def _write_cycle(root: Path, label: str, tables: dict[str, pd.DataFrame]) -> None:
    """Write one cycle's tables to ``root/label``, and the surveys' truth, when kept, to
    ``root/_truth/label`` (outside the cycle folders: never read by the package).
    """
    truth = tables.pop("truth_surveys", None)
    if truth is not None:
        (root / "_truth").mkdir(exist_ok=True)
        _write_tables(root / "_truth" / label, {"surveys": truth})
    _write_tables(root / label, tables)


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    r"""Write one cycle's tables as UTF-8 CSV, timestamps in ISO 8601 with their offset
    (``2026-07-01T09:30:00+02:00``), quotes only where needed, ``\n`` line ends.

    Polars writes the text (multi-threaded, categorical columns as their values); the bytes
    are those pandas' ``to_csv`` wrote before (checked on the committed sample). Time-zone
    aware timestamps are turned into text by :func:`_iso_text`, others by Polars.
    """
    folder.mkdir(exist_ok=True)
    for table, df in tables.items():
        aware = [c for c, t in df.dtypes.items() if isinstance(t, pd.DatetimeTZDtype)]
        frame = pl.from_pandas(df.drop(columns=aware))
        stamps = [pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S%:z") for c, t in frame.schema.items()
                  if isinstance(t, pl.Datetime)]
        frame = frame.with_columns(*stamps, *(_iso_text(df[c]).alias(c) for c in aware)).select(list(df.columns))
        frame.write_csv(folder / f"{table}.csv", line_terminator="\n", quote_style="necessary")


@cache
def _times_of_day() -> np.ndarray:
    """``T00:00:00``, ``T00:00:01``, ... ``T23:59:59``: the text of each second of a day, as 9 bytes each."""
    return np.array([f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)], dtype="S9")


def _iso_text(stamps: pd.Series) -> pl.Series:
    """ISO 8601 text of time-zone aware timestamps, to the second, with the UTC offset
    (``2026-07-01T09:30:00+02:00``; missing stays missing), as Polars'
    ``dt.to_string("%Y-%m-%dT%H:%M:%S%:z")`` writes it, but joined from the texts of the
    days, seconds of the day and offsets in their span instead of formatted row by row:
    each text is 25 bytes, taken into one buffer by NumPy and handed to Polars through Arrow.
    """
    present = stamps.notna().to_numpy()
    if not present.any():
        return pl.Series([None] * len(stamps), dtype=pl.String)
    local = stamps.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    day, of_day = np.divmod(np.where(present, local, local[present][0]), _NS["D"])
    offset = (local - _utc_ns(stamps)) // _NS["min"]
    offset = np.where(present, offset, offset[present][0])

    def span_text(values: np.ndarray, text, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The texts (``size`` bytes) of every value from the smallest to the largest, and each value's place."""
        low = int(values.min())
        return np.array([text(v) for v in range(low, int(values.max()) + 1)], dtype=f"S{size}"), values - low

    days, day_at = span_text(day, lambda d: str(np.datetime64(d, "D")), 10)
    offsets, offset_at = span_text(offset, lambda o: f"{'+' if o >= 0 else '-'}{abs(o) // 60:02d}:{abs(o) % 60:02d}", 6)
    n = len(stamps)
    text = np.empty(n, dtype=[("day", "S10"), ("time", "S9"), ("offset", "S6")])  # 25 bytes a row, no gap
    np.take(days, day_at, out=text["day"], mode="clip")
    np.take(_times_of_day(), of_day // _NS["s"], out=text["time"], mode="clip")
    np.take(offsets, offset_at, out=text["offset"], mode="clip")
    ends = pa.py_buffer(np.arange(0, 25 * n + 1, 25, dtype=np.int64))
    valid = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    return pl.Series(pa.LargeStringArray.from_buffers(n, ends, pa.py_buffer(text), valid))


# --------------------------------------------------------------------------- e-commerce
def ecommerce_cycle(label: str, orders: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """A small customer-journey log of an online shop for the *e-commerce* template: needs
    assessment → purchase → delivery tracking → returns → complaints, with CSAT surveys.

    Journeys start in the cycle; some skip the advice, some are returned, some end in a
    complaint (and those customers are less satisfied). For examples and tests only.

    Parameters
    ----------
    label : str
        The cycle, e.g. ``2026Q3``: every journey starts in it.
    orders : int
        How many journeys (orders).
    seed : int, default 7
        Seed of the random generator.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"events": ..., "surveys": ...}``; events and surveys after the cycle's end are
        left out, as in an export taken then.

    Examples
    --------
    Every order's journey starts in the first nine tenths of the cycle, so all 20 orders
    are in the event log.

    >>> tables = ecommerce_cycle("2026Q3", orders=20)
    >>> sorted(tables), tables["events"]["ticket_id"].nunique()
    (['events', 'surveys'], 20)
    """
    rng = np.random.default_rng(seed)
    start, end = cycle_window(label, TZ)
    span = (end - start).total_seconds()
    rows, surveys = [], []
    for i in range(orders):
        ticket = f"O{label[:4]}{label[-1]}{i:05d}"
        t = start + pd.Timedelta(seconds=float(rng.uniform(0, span * 0.9)))
        steps: list[str] = []
        if rng.random() < 0.6:
            steps += ["Product question", "Advice given"]
        steps += ["Order placed", "Payment confirmed", "Shipped"]
        steps += ["Tracking enquiry"] * int(rng.random() < 0.3)
        steps += ["Delivered"]
        complained = rng.random() < 0.12
        if rng.random() < 0.15:
            steps += ["Return requested", "Return received", "Refund issued"]
        if complained:
            steps += ["Complaint registered", "Complaint answered"]
        for activity in steps:
            rows.append((ticket, t, activity))
            t += pd.Timedelta(hours=float(rng.exponential(20 if activity in ("Shipped", "Return requested") else 3)))
        score = rng.choice([1, 2, 3, 4, 5], p=[0.25, 0.25, 0.2, 0.2, 0.1] if complained else [0.03, 0.05, 0.12, 0.4, 0.4])
        surveys.append((ticket, t, "csat", 5, float(score) if rng.random() < 0.4 else np.nan, rng.choice(["en", "de"])))
    events = pd.DataFrame(rows, columns=["ticket_id", "timestamp", "activity"])
    events["timestamp"] = pd.to_datetime(events["timestamp"]).dt.tz_convert(TZ).dt.floor("s")
    events = events[events["timestamp"] < end].reset_index(drop=True)
    s = pd.DataFrame(surveys, columns=["ticket_id", "sent_at", "kind", "scale", "score", "language"])
    s["sent_at"] = pd.to_datetime(s["sent_at"]).dt.tz_convert(TZ).dt.floor("s")
    s = s[s["sent_at"] < end].reset_index(drop=True)
    return {"events": events, "surveys": s}


def write_ecommerce_sample(out: Path | str, *, orders: int = 400, cycles: tuple[str, ...] = ("2026Q2", "2026Q3"),
                           seed: int = 7) -> Path:
    """Write a small dataset for the *e-commerce* template (review.yml and one folder per
    cycle holding ``events.csv`` and ``surveys.csv``).

    Parameters
    ----------
    out : pathlib.Path or str
        The dataset folder, created when missing.
    orders : int, default 400
        Orders (journeys) per cycle.
    cycles : tuple of str, default ("2026Q2", "2026Q3")
        The cycles.
    seed : int, default 7
        Seed of the first cycle (the next ones take ``seed + 1``, ``seed + 2``...).

    Returns
    -------
    pathlib.Path
        The dataset folder.

    Examples
    --------
    >>> import tempfile
    >>> root = write_ecommerce_sample(tempfile.mkdtemp(), orders=50)
    >>> sorted(p.name for p in root.iterdir())
    ['2026Q2', '2026Q3', 'review.yml']
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    template = resources.files("cxassess").joinpath("templates/review/ecommerce.yml").read_text("utf-8")
    (root / "review.yml").write_text(template, encoding="utf-8")
    for k, label in enumerate(cycles):
        _write_tables(root / label, ecommerce_cycle(label, orders, seed + k))
    return root


# --------------------------------------------------------------------------- real cardinality
#: The 15 stages of the wide synthetic desk: (name, label, lane, flags).
WIDE_STAGES = (
    ("intake", "Request received", "Front office", {"target_hours": 2}),
    ("triage", "Triage and categorisation", "Front office", {}),
    ("entitlement", "Entitlement check", "Front office", {}),
    ("first_reply", "First reply", "Tier 1", {"target_hours": 8}),
    ("diagnosis", "Diagnosis", "Tier 1", {}),
    ("remote", "Remote session", "Tier 1", {}),
    ("escalation", "Escalation queue", "Specialists", {"specialist": True}),
    ("analysis", "Specialist analysis", "Specialists", {"specialist": True, "target_hours": 24}),
    ("vendor", "Vendor contact", "Vendor and change", {"specialist": True}),
    ("change", "Change request", "Vendor and change", {}),
    ("fix", "Fix deployed", "Vendor and change", {}),
    ("solution", "Solution proposed", "Tier 1", {}),
    ("confirmation", "Customer confirmation", "Customer", {"customer_time": True}),
    ("closure", "Closure", "Tier 1", {}),
    ("survey", "Satisfaction survey", "Customer", {"customer_time": True}),
)


def wide_config(teams: int = 300, stages: int = 15) -> dict:
    """The review.yml (as a dict) of the wide synthetic desk: the *support* template with
    ``stages`` stages (at most 15) in several swim lanes and ``teams`` teams.

    Parameters
    ----------
    teams : int, default 300
        How many teams (``team_000``, ``team_001``...).
    stages : int, default 15
        How many stages (at most 15), taken evenly from the 15 of ``WIDE_STAGES``.

    Returns
    -------
    dict
        The review.yml as parsed YAML.

    Examples
    --------
    Five stages out of 15: every third one, starting with the first.

    >>> raw = wide_config(teams=3, stages=5)
    >>> [stage["name"] for stage in raw["process"]["stages"]]
    ['intake', 'first_reply', 'escalation', 'change', 'confirmation']
    >>> raw["values"]["teams"]
    ['team_000', 'team_001', 'team_002']
    """
    raw = yaml.safe_load(resources.files("cxassess").joinpath("templates/review/support.yml").read_text("utf-8"))
    chosen = WIDE_STAGES[:: max(1, len(WIDE_STAGES) // stages)][:stages] if stages < len(WIDE_STAGES) else WIDE_STAGES
    names = [s[0] for s in chosen]
    activity = {f"{label}": name for name, label, _, _ in chosen}
    label_of = {name: label for name, label, _, _ in chosen}
    raw.update(name="wide", title=f"Wide synthetic desk ({teams} teams, {len(chosen)} stages)")
    raw["process"] = {
        "stages": [{"name": n, "label": lb, "lane": lane, **flags} for n, lb, lane, flags in chosen],
        "activities": activity,
        "first_response_activities": [label_of.get("first_reply", chosen[min(1, len(chosen) - 1)][1])],
        "agent_reply_activities": [label_of.get("first_reply", chosen[min(1, len(chosen) - 1)][1])],
        "resolution_activities": [label_of.get("solution", chosen[-2][1] if len(chosen) > 1 else chosen[0][1])],
        "closing_activities": [label_of.get("closure", chosen[-1][1])],
        "transitions": [[a, b] for a, b in zip(names, names[1:], strict=False)]
        + [[a, b] for a, b in zip(names, names[2:], strict=False)],
    }
    raw["values"]["teams"] = [f"team_{i:03d}" for i in range(teams)]
    return raw


def wide_cycle(label: str, tickets: int, *, teams: int = 300, stages: int = 15, seed: int = 7) -> dict[str, pd.DataFrame]:
    """One cycle of the wide synthetic desk: an event log whose tickets walk through the
    stages (mostly forward, some skipping one, some going back), team volumes with a long
    tail (Zipf-like), and CSAT/NPS surveys. For scale tests and benchmarks only.

    Parameters
    ----------
    label : str
        The cycle, e.g. ``2026Q3``.
    tickets : int
        Tickets created in the cycle.
    teams : int, default 300
        How many teams.
    stages : int, default 15
        How many stages (at most 15).
    seed : int, default 7
        Seed of the random generator.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"tickets": ..., "events": ..., "surveys": ...}``, the tickets derived from the
        events.

    Examples
    --------
    >>> t = wide_cycle("2026Q3", 200, teams=20, stages=15)
    >>> sorted(t), t["events"]["team"].nunique() > 5
    (['events', 'surveys', 'tickets'], True)
    """
    rng = np.random.default_rng(seed)
    raw = wide_config(teams, stages)
    config = ReviewConfig(path=Path("review.yml"), raw=raw)
    names = [s["name"] for s in raw["process"]["stages"]]
    labels = [s["label"] for s in raw["process"]["stages"]]
    k = len(names)
    start, end = cycle_window(label, TZ)
    span = (end - start).total_seconds()
    weight = 1.0 / np.arange(1, teams + 1) ** 0.9
    team = rng.choice(teams, tickets, p=weight / weight.sum())
    channel = _choice(rng, CHANNELS, tickets)
    priority = _choice(rng, PRIORITIES, tickets)
    category = _choice(rng, CATEGORIES, tickets)
    position = np.zeros(tickets, dtype=int)
    clock = start + pd.to_timedelta(np.sort(rng.uniform(0, span * 0.97, tickets)), unit="s")
    seconds = np.array((clock - start).total_seconds(), dtype=float)
    alive = np.ones(tickets, dtype=bool)
    rows_ticket, rows_stage, rows_time, rows_team = [], [], [], []
    specialist = np.array([bool(s.get("specialist")) for s in raw["process"]["stages"]])
    for _ in range(3 * k):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        rows_ticket.append(idx)
        rows_stage.append(position[idx])
        rows_time.append(seconds[idx].copy())
        own = team[idx]
        other = (own + 1 + rng.integers(0, teams - 1, len(idx))) % teams if teams > 1 else own
        rows_team.append(np.where(specialist[position[idx]], other, own))
        done = position[idx] >= k - 1
        alive[idx[done]] = False
        idx = idx[~done]
        step = rng.choice([1, 1, 1, 1, 1, 1, 1, 2, 2, -1], len(idx))
        position[idx] = np.clip(position[idx] + step, 0, k - 1)
        position[idx] = np.where(position[idx] == 0, 1, position[idx]) if k > 1 else position[idx]
        seconds[idx] += rng.exponential(6 * 3600, len(idx))
        alive[idx[rng.random(len(idx)) < 0.01]] = False  # a few drop out
    ticket = np.concatenate(rows_ticket)
    stage = np.concatenate(rows_stage)
    ids = np.array([f"W{label}{i:06d}" for i in range(tickets)], dtype=object)
    team_names = np.array([f"team_{i:03d}" for i in range(teams)], dtype=object)
    events = pd.DataFrame({
        "ticket_id": ids[ticket],
        "timestamp": start + pd.to_timedelta(np.floor(np.concatenate(rows_time)), unit="s"),
        "activity": np.array(labels, dtype=object)[stage],
        "team": team_names[np.concatenate(rows_team)],
        "channel": channel[ticket], "priority": priority[ticket], "category": category[ticket],
    })
    events = events[events["timestamp"] < end].sort_values(["ticket_id", "timestamp"], kind="stable")
    events = events.reset_index(drop=True)
    events["timestamp"] = events["timestamp"].dt.tz_convert(TZ)
    derived = tickets_from_events(events, config.process)
    derived = derived[[c for c in derived.columns if c != "first_resolved_at"]]  # as a help desk exports them
    answered = rng.random(len(derived)) < 0.35
    kind = np.where(rng.random(len(derived)) < 0.7, "csat", "nps")
    scale = np.where(kind == "csat", 5, 11)
    score = np.where(kind == "csat", rng.integers(1, 6, len(derived)), rng.integers(0, 11, len(derived)))
    surveys = pd.DataFrame({"ticket_id": derived["ticket_id"], "sent_at": derived["created_at"], "kind": kind,
                            "scale": scale, "score": np.where(answered, score, np.nan)})
    return {"tickets": derived, "events": events, "surveys": surveys}


def write_wide_sample(out: Path | str, *, tickets: int = 10_000, teams: int = 300, stages: int = 15,
                      cycles: tuple[str, ...] = ("2026Q2", "2026Q3"), seed: int = 7) -> Path:
    """Write the wide synthetic desk (review.yml and one folder per cycle with tickets,
    events and surveys): ``teams`` teams with a long tail and ``stages`` stages, to check
    that the review stays legible and fast at real cardinality.

    Parameters
    ----------
    out : pathlib.Path or str
        The dataset folder, created when missing.
    tickets : int, default 10000
        Tickets per cycle.
    teams : int, default 300
        How many teams.
    stages : int, default 15
        How many stages (at most 15).
    cycles : tuple of str, default ("2026Q2", "2026Q3")
        The cycles.
    seed : int, default 7
        Seed of the first cycle (the next ones take ``seed + 1``, ``seed + 2``...).

    Returns
    -------
    pathlib.Path
        The dataset folder.

    Examples
    --------
    >>> import tempfile
    >>> root = write_wide_sample(tempfile.mkdtemp(), tickets=100, teams=10)
    >>> sorted(p.name for p in root.iterdir())
    ['2026Q2', '2026Q3', 'review.yml']
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(wide_config(teams, stages), sort_keys=False, allow_unicode=True)
    (root / "review.yml").write_text(text, encoding="utf-8")
    for k, label in enumerate(cycles):
        _write_tables(root / label, wide_cycle(label, tickets, teams=teams, stages=stages, seed=seed + k))
    return root

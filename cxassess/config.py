"""``review.yml``: everything a dataset needs to be read and reviewed.

The process definition, the business calendar, value sets, survey scales, targets and
column mappings are data, kept in one YAML file per dataset (DESIGN.md §4). This module
reads it once into a :class:`ReviewConfig` and checks that it is consistent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from cxassess.errors import ConfigError

__all__ = ["ReviewConfig", "Process", "Stage", "SlaPolicy", "load_config", "find_dataset"]

TABLES = ("tickets", "events", "surveys", "audits", "customers", "actions")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Stage:
    """One stage of the service process, drawn in the swim lane ``lane``.

    ``specialist`` marks an escalation level; ``customer_time`` a stage whose time is the
    customer's (confirmation window, survey), left out of the bottleneck ranking;
    ``target_hours`` the designed time a ticket should spend in it."""

    name: str
    label: str
    lane: str
    specialist: bool = False
    customer_time: bool = False
    target_hours: float | None = None


@dataclass(frozen=True)
class Process:
    """The designed service process: stages, activity mapping and allowed transitions."""

    stages: tuple[Stage, ...]
    activities: dict[str, str]
    first_response_activities: tuple[str, ...] = ()
    agent_reply_activities: tuple[str, ...] = ()
    resolution_activities: tuple[str, ...] = ()
    closing_activities: tuple[str, ...] = ()
    transitions: tuple[tuple[str, str], ...] = ()
    non_work_activities: tuple[str, ...] = ()

    @property
    def stage_names(self) -> list[str]:
        """Stage names in process order."""
        return [s.name for s in self.stages]

    @property
    def specialist_stages(self) -> list[str]:
        """Stages that count as an escalation to a specialist level."""
        return [s.name for s in self.stages if s.specialist]


@dataclass(frozen=True)
class SlaPolicy:
    """A service-level promise: ``metric`` within ``hours`` for tickets of the listed
    channels and priorities (empty: all), counted on the business or calendar clock."""

    name: str
    metric: Literal["first_response", "resolution"]
    hours: float
    clock: Literal["business", "calendar"] = "business"
    channels: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewConfig:
    """A dataset's ``review.yml``, read and checked.

    Attributes
    ----------
    path
        The ``review.yml`` file.
    raw
        The parsed YAML, for sections other modules read themselves.
    """

    path: Path
    raw: dict[str, Any] = field(repr=False)

    @property
    def root(self) -> Path:
        """The dataset folder."""
        return self.path.parent

    @property
    def name(self) -> str:
        """Short name of the dataset (used for the report folder)."""
        return str(self.raw.get("name") or self.root.name)

    @property
    def title(self) -> str:
        """Human title of the dataset."""
        return str(self.raw.get("title") or self.name)

    @property
    def timezone(self) -> str:
        """IANA time zone in which naive timestamps of the dataset are read."""
        return str(self.raw["timezone"])

    @property
    def min_n(self) -> int:
        """Minimum sample size under which a figure is shown as "n too small"."""
        return int(self.raw.get("min_n", 30))

    def columns(self, table: str) -> dict[str, str]:
        """Mapping canonical column name → column name in the file, for ``table``."""
        return dict((self.raw.get("columns") or {}).get(table) or {})

    def file_for(self, table: str) -> str | None:
        """File name of ``table`` inside a cycle folder, when review.yml names one."""
        return (self.raw.get("files") or {}).get(table)

    @property
    def csv(self) -> dict[str, Any]:
        """CSV reading options (encoding, delimiter, decimal, datetime_format, dayfirst)."""
        return dict(self.raw.get("csv") or {})

    def values(self, kind: str) -> list[str]:
        """Allowed values of a categorical column (``channels``, ``priorities``, ...)."""
        return [str(v) for v in (self.raw.get("values") or {}).get(kind) or []]

    @property
    def survey_scales(self) -> dict[str, int]:
        """Number of points of each survey kind's scale (NPS: 11, i.e. 0-10)."""
        return {k: int(v) for k, v in ((self.raw.get("surveys") or {}).get("scales") or {}).items()}

    @property
    def targets(self) -> dict[str, float]:
        """Planned quality: the target value of each KPI (review.yml ``targets``)."""
        return {str(k): float(v) for k, v in (self.raw.get("targets") or {}).items()}

    @property
    def sla(self) -> list[SlaPolicy]:
        """The SLA policies of review.yml ``sla``, in the order written."""
        return [
            SlaPolicy(
                name=str(p["name"]),
                metric=p["metric"],
                hours=float(p["hours"]),
                clock=p.get("clock", "business"),
                channels=tuple(str(c) for c in p.get("channels") or ()),
                priorities=tuple(str(c) for c in p.get("priorities") or ()),
            )
            for p in self.raw.get("sla") or []
        ]

    def quality_option(self, key: str, default: float) -> float:
        """A number of review.yml ``quality:`` (thresholds of the gate and the plausibility checks)."""
        return float((self.raw.get("quality") or {}).get(key, default))

    @property
    def fcr_max_contacts(self) -> int:
        """Most customer contacts a first-contact resolution may take (default 1)."""
        return int((self.raw.get("kpis") or {}).get("fcr_max_contacts", 1))

    @property
    def calendar(self) -> dict[str, Any]:
        """The business calendar section (working hours per weekday, holidays)."""
        return dict(self.raw.get("calendar") or {})

    @property
    def holidays(self) -> list[dt.date]:
        """Public holidays of the business calendar."""
        return [_as_date(d, self.path) for d in self.calendar.get("holidays") or []]

    @cached_property
    def process(self) -> Process | None:
        """The process definition, or ``None`` when review.yml has none."""
        spec = self.raw.get("process")
        if not spec:
            return None
        stages = tuple(
            Stage(
                name=str(s["name"]),
                label=str(s.get("label", s["name"])),
                lane=str(s.get("lane", "")),
                specialist=bool(s.get("specialist", False)),
                customer_time=bool(s.get("customer_time", False)),
                target_hours=None if s.get("target_hours") is None else float(s["target_hours"]),
            )
            for s in spec.get("stages") or []
        )
        return Process(
            stages=stages,
            activities={str(k): str(v) for k, v in (spec.get("activities") or {}).items()},
            first_response_activities=tuple(spec.get("first_response_activities") or ()),
            agent_reply_activities=tuple(spec.get("agent_reply_activities") or ()),
            resolution_activities=tuple(spec.get("resolution_activities") or ()),
            closing_activities=tuple(spec.get("closing_activities") or ()),
            transitions=tuple(tuple(t) for t in spec.get("transitions") or ()),
            non_work_activities=tuple(str(a) for a in spec.get("non_work_activities") or ()),
        )


def _as_date(value: Any, path: Path) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"{path}: holiday {value!r} is not a date. How to fix: write holidays as "
            "YYYY-MM-DD, e.g. - 2026-12-25"
        ) from None


def _check(config: ReviewConfig) -> None:
    path, raw = config.path, config.raw
    if "timezone" not in raw:
        raise ConfigError(
            f"{path}: no 'timezone'. How to fix: add e.g. 'timezone: Europe/Berlin' "
            "(the zone in which naive timestamps of your export were written)."
        )
    try:
        ZoneInfo(str(raw["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{path}: unknown time zone {raw['timezone']!r}. How to fix: use an IANA "
            "name such as Europe/Berlin, America/New_York or UTC."
        ) from None
    unknown_tables = set(raw.get("columns") or {}) - set(TABLES)
    if unknown_tables:
        raise ConfigError(
            f"{path}: columns: names unknown table(s) {sorted(unknown_tables)}. "
            f"How to fix: use one of {', '.join(TABLES)}."
        )
    hours = config.calendar.get("working_hours") or {}
    for day, span in hours.items():
        if day not in WEEKDAYS:
            raise ConfigError(f"{path}: working_hours: {day!r} is not one of {WEEKDAYS}.")
        if span and not (
            isinstance(span, list) and len(span) == 2 and all(isinstance(t, str) for t in span)
        ):
            raise ConfigError(
                f"{path}: working_hours: {day}: {span!r} is not a pair of times. How to fix: "
                f'write quoted times, e.g. {day}: ["08:00", "18:00"] (YAML reads 18:00 '
                "unquoted as a number)."
            )
    config.holidays  # noqa: B018 - parses and checks the dates
    _check_sla(config)
    bad_targets = {k: v for k, v in (raw.get("targets") or {}).items() if not isinstance(v, int | float)}
    if bad_targets:
        raise ConfigError(f"{path}: targets: {bad_targets} are not numbers. How to fix: write e.g. csat: 0.80.")
    process = config.process
    if process is not None:
        names = set(process.stage_names)
        if not names:
            raise ConfigError(f"{path}: process: has no stages. How to fix: list them under stages:.")
        bad = {a: s for a, s in process.activities.items() if s not in names}
        if bad:
            raise ConfigError(
                f"{path}: process: activities map to unknown stage(s) {bad}. How to fix: map "
                f"each activity to one of the stages {sorted(names)}."
            )
        for a, b in process.transitions:
            if a not in names or b not in names:
                raise ConfigError(
                    f"{path}: process: transition {a} -> {b} names a stage that is not "
                    f"defined. How to fix: use stages from {sorted(names)}."
                )


def _check_sla(config: ReviewConfig) -> None:
    example = ("How to fix: write each policy as {name: first reply chat, metric: first_response, "
               "hours: 0.5, clock: business, channels: [chat]}.")
    for i, policy in enumerate(config.raw.get("sla") or [], start=1):
        where = f"{config.path}: sla: policy {i}"
        if not isinstance(policy, dict) or not {"name", "metric", "hours"} <= set(policy):
            raise ConfigError(f"{where} needs name, metric and hours. {example}")
        if policy["metric"] not in ("first_response", "resolution"):
            raise ConfigError(f"{where}: metric {policy['metric']!r} is not first_response or resolution. {example}")
        if policy.get("clock", "business") not in ("business", "calendar"):
            raise ConfigError(f"{where}: clock {policy['clock']!r} is not business or calendar. {example}")
        if not isinstance(policy["hours"], int | float) or policy["hours"] <= 0:
            raise ConfigError(f"{where}: hours {policy['hours']!r} is not a positive number. {example}")
    names = [p.name for p in config.sla]
    if len(names) != len(set(names)):
        raise ConfigError(f"{config.path}: sla: policy names repeat ({names}). How to fix: give each a unique name.")


def find_dataset(dataset: Path | str) -> Path:
    """Locate a dataset folder given relative to the repository root or the current folder.

    Notebooks run with the repository root as working folder (``make report``,
    papermill by hand) or with ``notebooks/`` (JupyterLab). ``data/sample`` is looked
    up in the current folder and then in each parent, so the same default works in both.

    Examples
    --------
    >>> find_dataset("data/sample").name
    'sample'
    """
    path = Path(dataset)
    bases = [Path()] if path.is_absolute() else [Path.cwd(), *Path.cwd().parents]
    for base in bases:
        if (base / path).is_dir():
            return (base / path).resolve()
    raise ConfigError(
        f"dataset folder {str(dataset)!r} not found from {Path.cwd()} or its parents. "
        "How to fix: pass the folder that holds review.yml, e.g. data/sample."
    )


def load_config(dataset: Path | str) -> ReviewConfig:
    """Read and check ``<dataset>/review.yml``.

    Examples
    --------
    >>> cfg = load_config("data/sample")
    >>> cfg.name, cfg.timezone
    ('sample', 'Europe/Berlin')
    """
    root = find_dataset(dataset)
    path = root / "review.yml"
    if not path.is_file():
        raise ConfigError(
            f"{path} not found. How to fix: every dataset folder needs a review.yml; copy "
            "data/sample/review.yml and adapt the column mapping, time zone and process."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping of sections (name:, timezone:, ...).")
    config = ReviewConfig(path=path, raw=raw)
    _check(config)
    return config

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

import yaml

from cxassess.config_schema import ReviewSettings, validate_review
from cxassess.errors import ConfigError, ConfigProblem, shown

__all__ = ["ReviewConfig", "Process", "Stage", "SlaPolicy", "load_config", "find_dataset", "scale_range", "shown"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Stage:
    """One stage of the service process, drawn in the swim lane ``lane``.

    ``specialist`` marks an escalation level; ``customer_time`` a stage whose time is the
    customer's (confirmation window, survey), left out of the bottleneck ranking;
    ``target_hours`` the designed time a ticket should spend in it.

    Parameters
    ----------
    name : str
        The stage's id, as in review.yml ``process: activities`` and the ``stage`` column.
    label : str
        The name on the pages.
    lane : str
        The swim lane (department) it is drawn in.
    specialist : bool, default False
        An escalation level.
    customer_time : bool, default False
        The customer's time, not the desk's.
    target_hours : float, optional
        Designed time in the stage, in hours.

    Examples
    --------
    >>> stage = Stage("specialist", "Specialist level", "Specialists", specialist=True, target_hours=24)
    >>> stage.specialist, stage.customer_time, stage.target_hours
    (True, False, 24)
    """

    name: str
    label: str
    lane: str
    specialist: bool = False
    customer_time: bool = False
    target_hours: float | None = None


@dataclass(frozen=True)
class Process:
    """The designed service process: stages, activity mapping and allowed transitions.

    Parameters
    ----------
    stages : tuple of Stage
        The stages, in process order.
    activities : dict of str to str
        Activity of the event log -> stage name.
    first_response_activities : tuple of str, default ()
        Activities that are the desk's first reply.
    agent_reply_activities : tuple of str, default ()
        Activities that count as an agent's reply.
    resolution_activities : tuple of str, default ()
        Activities that resolve a ticket.
    closing_activities : tuple of str, default ()
        Activities that close a ticket.
    transitions : tuple of (str, str), default ()
        The designed moves between stages.
    non_work_activities : tuple of str, default ()
        Administrative activities that are no work on the ticket.

    Examples
    --------
    >>> stages = (Stage("intake", "Intake", "Front office"),
    ...           Stage("specialist", "Specialist", "Specialists", specialist=True))
    >>> process = Process(stages, {"Ticket received": "intake", "Escalated": "specialist"})
    >>> process.stage_names, process.specialist_stages
    (['intake', 'specialist'], ['specialist'])
    """

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
    channels and priorities (empty: all), counted on the business or calendar clock.

    Parameters
    ----------
    name : str
        Unique name shown on the scorecard.
    metric : {"first_response", "resolution"}
        What the promise is about.
    hours : float
        The promised time, in hours.
    clock : {"business", "calendar"}, default "business"
        The clock the hours are counted on.
    channels : tuple of str, default ()
        Channels covered (empty: all).
    priorities : tuple of str, default ()
        Priorities covered (empty: all).

    Examples
    --------
    >>> policy = SlaPolicy("first reply chat", "first_response", 0.5, channels=("chat",))
    >>> policy.clock, policy.priorities
    ('business', ())
    """

    name: str
    metric: Literal["first_response", "resolution"]
    hours: float
    clock: Literal["business", "calendar"] = "business"
    channels: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewConfig:
    """A dataset's ``review.yml``, read and checked.

    Parameters
    ----------
    path : Path
        The ``review.yml`` file.
    raw : dict
        The parsed YAML, for sections other modules read themselves.

    Examples
    --------
    >>> config = ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC"})
    >>> config.root.name, config.name, config.timezone, config.targets
    ('desk', 'desk', 'UTC', {})
    """

    path: Path
    raw: dict[str, Any] = field(repr=False)

    @cached_property
    def settings(self) -> ReviewSettings:
        """The validated settings, every default filled in (see :mod:`cxassess.config_schema`)."""
        return validate_review(self.raw, self.path)

    @property
    def root(self) -> Path:
        """The dataset folder."""
        return self.path.parent

    @property
    def name(self) -> str:
        """Short name of the dataset (review.yml ``name``, else the folder's name)."""
        return str(self.settings.name or self.root.name)

    @property
    def title(self) -> str:
        """Human title of the dataset."""
        return str(self.settings.title or self.name)

    @property
    def timezone(self) -> str:
        """IANA time zone in which naive timestamps of the dataset are read."""
        return self.settings.timezone

    @property
    def min_n(self) -> int:
        """Minimum sample size under which a figure is shown as "n too small"."""
        return self.settings.min_n

    @property
    def engine(self) -> str:
        """Where the KPIs are aggregated: ``pandas`` (default), ``polars``, ``duckdb`` or ``spark``."""
        return self.settings.engine

    def columns(self, table: str) -> dict[str, str]:
        """Mapping canonical column name → column name in the file, for ``table``.

        Parameters
        ----------
        table : str
            A table of the data contract (``tickets``, ``events``...).

        Returns
        -------
        dict of str to str
            The mapping of review.yml ``columns: <table>``; empty when none is given.

        Examples
        --------
        >>> config = ReviewConfig(Path("desk/review.yml"),
        ...                       {"timezone": "UTC", "columns": {"tickets": {"ticket_id": "Ticket ID"}}})
        >>> config.columns("tickets"), config.columns("events")
        ({'ticket_id': 'Ticket ID'}, {})
        """
        return dict(getattr(self.settings.columns, table, None) or {})

    def file_for(self, table: str) -> str | None:
        """File name of ``table`` inside a cycle folder, when review.yml names one.

        Parameters
        ----------
        table : str
            A table of the data contract.

        Returns
        -------
        str or None
            The file name of review.yml ``files: <table>``, or ``None`` (then ``<table>.csv`` or
            ``.parquet`` is read).

        Examples
        --------
        >>> config = ReviewConfig(Path("desk/review.yml"),
        ...                       {"timezone": "UTC", "files": {"tickets": "export.csv"}})
        >>> config.file_for("tickets"), config.file_for("events")
        ('export.csv', None)
        """
        return getattr(self.settings.files, table, None)

    @property
    def csv(self) -> dict[str, Any]:
        """CSV reading options (encoding, delimiter, decimal, datetime_format, dayfirst)."""
        return self.settings.csv.model_dump(exclude_none=True)

    def values(self, kind: str) -> list[str]:
        """Allowed values of a categorical column (``channels``, ``priorities``, ...).

        Parameters
        ----------
        kind : str
            A key of review.yml ``values`` (``channels``, ``priorities``, ...).

        Returns
        -------
        list of str
            The allowed values; empty when review.yml lists none (then any value is allowed).

        Examples
        --------
        >>> config = ReviewConfig(Path("desk/review.yml"),
        ...                       {"timezone": "UTC", "values": {"channels": ["email", "chat"]}})
        >>> config.values("channels"), config.values("priorities")
        (['email', 'chat'], [])
        """
        return list(getattr(self.settings.values, kind, None) or [])

    @property
    def survey_scales(self) -> dict[str, int]:
        """Number of points of each survey kind's scale (NPS: 11, i.e. 0-10)."""
        return dict(self.settings.surveys.scales)

    @property
    def targets(self) -> dict[str, float]:
        """Planned quality: the target value of each KPI (review.yml ``targets``)."""
        return {k: float(v) for k, v in self.settings.targets.items()}

    @property
    def quality(self) -> dict[str, float]:
        """Thresholds of the data-quality gate (review.yml ``quality``, defaults filled in).

        Examples
        --------
        >>> load_config("data/sample").quality["outside_hours_share"]
        0.25
        """
        return self.settings.quality.model_dump()

    @property
    def top_segments(self) -> int:
        """Most segments shown in a breakdown chart (review.yml ``report.top_segments``)."""
        return self.settings.report.top_segments

    @property
    def sla(self) -> list[SlaPolicy]:
        """The SLA policies of review.yml ``sla``, in the order written."""
        return [
            SlaPolicy(
                name=p.name, metric=p.metric, hours=float(p.hours), clock=p.clock,
                channels=tuple(p.channels), priorities=tuple(p.priorities),
            )
            for p in self.settings.sla
        ]

    @property
    def fcr_max_contacts(self) -> int:
        """Most customer contacts a first-contact resolution may take (default 1)."""
        return self.settings.kpis.fcr_max_contacts

    @property
    def min_important(self) -> dict[str, float]:
        """The minimum important difference per KPI that review.yml overrides
        (``kpis: min_important_difference``); the others keep the registry's
        (:func:`cxassess.registry.min_important`).

        Examples
        --------
        >>> load_config("data/sample").min_important
        {}
        """
        return {k: float(v) for k, v in self.settings.kpis.min_important_difference.items()}

    @property
    def calendar(self) -> dict[str, Any]:
        """The business calendar section (working hours per weekday, holidays)."""
        cal = self.settings.calendar
        out: dict[str, Any] = {"holidays": list(cal.holidays)}
        if cal.working_hours is not None:
            out["working_hours"] = {d: list(s) for d, s in cal.working_hours if s is not None}
        return out

    @property
    def holidays(self) -> list[dt.date]:
        """Public holidays of the business calendar."""
        return list(self.settings.calendar.holidays)

    @cached_property
    def process(self) -> Process | None:
        """The process definition, or ``None`` when review.yml has none."""
        spec = self.settings.process
        if spec is None:
            return None
        stages = tuple(
            Stage(
                name=s.name, label=s.label or s.name, lane=s.lane, specialist=s.specialist,
                customer_time=s.customer_time,
                target_hours=None if s.target_hours is None else float(s.target_hours),
            )
            for s in spec.stages
        )
        return Process(
            stages=stages,
            activities=dict(spec.activities),
            first_response_activities=tuple(spec.first_response_activities),
            agent_reply_activities=tuple(spec.agent_reply_activities),
            resolution_activities=tuple(spec.resolution_activities),
            closing_activities=tuple(spec.closing_activities),
            transitions=tuple(tuple(t) for t in spec.transitions),
            non_work_activities=tuple(spec.non_work_activities),
        )


def find_dataset(dataset: Path | str) -> Path:
    """Locate a dataset folder given relative to the repository root or the current folder.

    Notebooks run with the repository root as working folder (``make report``,
    papermill by hand) or with ``notebooks/`` (JupyterLab). ``data/sample`` is looked
    up in the current folder and then in each parent, so the same default works in both.

    Parameters
    ----------
    dataset : Path or str
        The dataset folder, absolute or relative.

    Returns
    -------
    Path
        The folder, absolute.

    Raises
    ------
    ConfigError
        When no such folder is found, or the path is a file.

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
        if (base / path).exists():
            raise ConfigError(
                f"dataset {str(dataset)!r} is a file, not a dataset folder",
                fix="pass the folder that holds review.yml and the cycle folders, e.g. data/sample",
            )
    raise ConfigError(
        f"dataset folder {str(dataset)!r} not found in the working folder or its parents",
        fix="pass the folder that holds review.yml, e.g. data/sample",
    )


class _ReviewLoader(yaml.SafeLoader):
    """The safe loader, noting (instead of hiding) a key written twice in one mapping, which
    YAML would silently resolve to the last value, and a date that does not exist
    (``2026-02-30``), each with its line in review.yml.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[tuple[int, ConfigProblem]] = []  # (line, problem)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' merges on purpose: its keys may be overridden
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first != line:
                self.problems.append((line, ConfigProblem(
                    str(key), None,
                    f"line {line}: the key {str(key)!r} is written twice in the same section "
                    f"(first at line {first}); YAML would silently keep only the last one",
                    f"keep one {str(key)!r} in that section (merge their values) and delete the other")))
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2026-02-30: the shape of a date, a day that does not exist
            line = node.start_mark.line + 1
            self.problems.append((line, ConfigProblem(
                "", node.value, f"line {line}: {node.value!r} is not a valid date ({exc})",
                "write dates as YYYY-MM-DD with a day that exists, e.g. 2026-12-25")))
            return node.value


_ReviewLoader.add_constructor("tag:yaml.org,2002:timestamp", _ReviewLoader.construct_yaml_timestamp)


def read_review_yml(path: Path) -> Any:
    r"""The parsed YAML of ``path`` (safe loader: plain values only), or a ConfigError.

    A key written twice in one section and a date that does not exist are errors naming
    their line (YAML alone would keep the last key and fail without saying where).

    Parameters
    ----------
    path : Path
        The review.yml.

    Returns
    -------
    Any
        The parsed YAML.

    Raises
    ------
    ConfigError
        When the file is not UTF-8, not valid YAML, uses a tag, repeats a key in a section
        or holds a date that does not exist.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "review.yml"
    >>> _ = path.write_text("timezone: UTC\nmin_n: 30\nmin_n: 40\n")
    >>> try:
    ...     read_review_yml(path)
    ... except ConfigError as error:
    ...     print(error.problems[0].problem)
    line 3: the key 'min_n' is written twice in the same section (first at line 2); YAML would silently keep only the last one
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{shown(path)}: is not UTF-8 text", path=path,
                          fix="save review.yml as UTF-8 in your editor") from None
    loader = _ReviewLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.constructor.ConstructorError as exc:
        raise ConfigError(
            f"{shown(path)}: uses a YAML tag that is not allowed ({exc.problem})", path=path,
            fix="remove the '!!...' tag: review.yml holds plain values, lists and mappings only",
        ) from None
    except ValueError as exc:  # a date-like value that is no date, in a place the loader does not note
        raise ConfigError(
            f"{shown(path)}: a value YAML reads as a date is not a valid date ({exc})", path=path,
            fix="write dates as YYYY-MM-DD with a day that exists, e.g. 2026-12-25",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{shown(path)}: not valid YAML{where}: {problem}", path=path,
            fix="check the indentation and quote values that hold ': ', '#', '[' or '{'",
        ) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise ConfigError.from_problems(path, [problem for _, problem in sorted(loader.problems, key=lambda p: p[0])])
    return raw


def load_config(dataset: Path | str) -> ReviewConfig:
    """Read ``<dataset>/review.yml`` and validate it against the schema.

    Every problem is reported at once in one :class:`~cxassess.errors.ConfigError`
    (see :func:`cxassess.config_schema.validate_review`).

    Parameters
    ----------
    dataset : Path or str
        The dataset folder (found as :func:`find_dataset` finds it).

    Returns
    -------
    ReviewConfig
        The settings, validated.

    Raises
    ------
    ConfigError
        When the folder or its review.yml is missing, review.yml is not a YAML mapping, or any
        key is wrong (every problem at once).

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
            f"{shown(path)} not found", path=path,
            fix="every dataset folder needs a review.yml; copy data/sample/review.yml and adapt "
            "the column mapping, time zone and process",
        )
    raw = read_review_yml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{shown(path)}: must be a mapping of sections (name:, timezone:, ...), "
            f"not a {type(raw).__name__}", path=path,
            problems=[ConfigProblem("", raw, "review.yml is not a mapping of sections",
                                    "one 'section: value' per line, as in data/sample/review.yml")],
            fix="write one 'section: value' per line, as in data/sample/review.yml",
        )
    config = ReviewConfig(path=path, raw=raw)
    config.settings  # noqa: B018 - validates every key, raising one ConfigError with every problem
    return config


def scale_range(points: int) -> tuple[int, int]:
    """Lowest and highest score of a scale with ``points`` points.

    An 11-point scale (NPS, "how likely ... recommend") runs 0-10; every other scale
    starts at 1.

    Parameters
    ----------
    points : int
        Number of points of the scale (3, 5, 7, 10 or 11).

    Returns
    -------
    lowest : int
        The lowest score.
    highest : int
        The highest score.

    Examples
    --------
    >>> scale_range(11), scale_range(5)
    ((0, 10), (1, 5))
    """
    return (0, 10) if points == 11 else (1, points)

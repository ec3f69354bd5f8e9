"""Bad input, configuration and machine half: one table, one row per case.

Every case runs ``cxassess.cli.main`` as a user would and checks the exit status, the key
words of the message, that no traceback is shown, and that the last good report is byte
for byte what it was before the failed run.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

import cxassess.config
import cxassess.errors
import cxassess.quality
import cxassess.report
from cxassess.cli import main
from cxassess.synth import SampleSpec, write_sample

from .conftest import tree

SAMPLE_YML = Path(__file__).resolve().parents[1] / "data" / "sample" / "review.yml"


@dataclass
class World:
    """A small dataset ``small`` with one good report, and a place for each case."""

    dataset: Path
    notebooks: Path
    reports: Path
    good: dict[str, bytes]
    scratch: Path
    cases: int = 0
    extra: dict = field(default_factory=dict)

    def copy(self, review: str | None = None, *, name: str = "small") -> Path:
        """A copy of the dataset (cycle folders linked, review.yml replaced by ``review``)."""
        self.cases += 1
        root = self.scratch / f"case{self.cases}" / name
        root.mkdir(parents=True)
        for cycle in self.dataset.iterdir():
            if cycle.is_dir():
                (root / cycle.name).symlink_to(cycle, target_is_directory=True)
        if review is not None:
            (root / "review.yml").write_text(review, encoding="utf-8")
        else:
            shutil.copy(self.dataset / "review.yml", root / "review.yml")
        return root


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    """One good report of a small sample (800 tickets), built once for the module."""
    base = tmp_path_factory.mktemp("bad-input")
    dataset = write_sample(base / "data" / "small", SampleSpec(tickets_per_cycle=200))
    notebooks = base / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('dataset = "data/sample"\ncycle = "2026Q3"\n'
                                       "previous_cycle = None\nreport_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A page"), params, nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / "01_page.ipynb")
    reports = base / "reports"
    assert main(["review", "--dataset", str(dataset), "--notebooks", str(notebooks),
                 "--reports", str(reports)]) == 0
    good = tree(reports / "small")
    assert "2026Q3/index.html" in good and ".dataset" in good
    return World(dataset, notebooks, reports, good, base / "cases")


def _review(yml: str) -> Callable[[World, pytest.MonkeyPatch], list[str]]:
    """A case whose review.yml is ``yml``."""
    def setup(w: World, mp: pytest.MonkeyPatch) -> list[str]:
        return ["review", "--dataset", str(w.copy(yml))]
    return setup


def _sample_with(old: str, new: str, *more: str) -> Callable[[World, pytest.MonkeyPatch], list[str]]:
    """A case whose review.yml is the sample's with ``old`` replaced by ``new`` (and more pairs)."""
    text = SAMPLE_YML.read_text(encoding="utf-8")
    pairs = [(old, new), *zip(more[::2], more[1::2], strict=True)]
    for a, b in pairs:
        assert a in text, a
        text = text.replace(a, b, 1)
    return _review(text)


def _args(*argv: str) -> Callable[[World, pytest.MonkeyPatch], list[str]]:
    def setup(w: World, mp: pytest.MonkeyPatch) -> list[str]:
        return [a.replace("{dataset}", str(w.dataset)) for a in argv]
    return setup


def _os_error(number: int) -> Callable[[World, pytest.MonkeyPatch], list[str]]:
    """The reports folder refuses the staging folder with ``number`` (simulated)."""
    def setup(w: World, mp: pytest.MonkeyPatch) -> list[str]:
        def refuse(*args, dir=None, **kwargs):  # noqa: A002 - mkdtemp's own keyword
            raise OSError(number, os.strerror(number), str(Path(dir) / ".staging"))
        mp.setattr(cxassess.report.tempfile, "mkdtemp", refuse)
        return ["review", "--dataset", str(w.dataset)]
    return setup


def _read_only(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    """chmod 0555 on the report folder; as root chmod does not stop writes, so simulate."""
    folder = w.reports / "small"
    if os.geteuid() == 0:
        return _os_error(errno.EROFS)(w, mp)
    folder.chmod(0o555)
    w.extra["restore"] = lambda: folder.chmod(0o755)
    return ["review", "--dataset", str(w.dataset)]


def _killed_run(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    """A staging folder of a dead process and one of a live process are left; the run stops
    (planted failure) right after its housekeeping."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    for label, pid in (("dead", int(dead.stdout)), ("live", os.getpid())):
        folder = w.reports / "small" / f".2026Q3.staging-{pid}-{label}"
        folder.mkdir()
        (folder / ".owner").write_text(f"{host} {pid}\n")
        (folder / "page.html").write_text("half written")
        w.extra[label] = folder

    def stop(*args, **kwargs):
        raise cxassess.errors.CxAssessError("planted stop after the housekeeping")
    mp.setattr(cxassess.report, "_gates", stop)  # the gate runs in a child process: stopped before it
    return ["review", "--dataset", str(w.dataset)]


def _after_killed_run(w: World) -> None:
    assert not w.extra["dead"].exists()
    assert w.extra["live"].is_dir()
    shutil.rmtree(w.extra["live"])
    leftovers = [p.name for p in (w.reports / "small").iterdir() if ".staging-" in p.name]
    assert leftovers == []  # the failed run removed its own staging folder


def _name_clash(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    return ["review", "--dataset", str(w.copy())]


def _not_utf8(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    root = w.copy()
    (root / "review.yml").write_bytes("timezone: UTC\ntitle: Kundenservice Gr\xfc\xdfe\n".encode("latin-1"))
    return ["review", "--dataset", str(root)]


def _no_review_yml(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    root = w.copy()
    (root / "review.yml").unlink()
    return ["review", "--dataset", str(root)]


def _dataset_is_a_file(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    return ["review", "--dataset", str(w.dataset / "review.yml")]


def _internal(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    def boom(*args, **kwargs):
        raise RuntimeError("planted bug")
    mp.setattr(cxassess.config, "load_config", boom)
    return ["check-config", "--dataset", str(w.dataset)]


def _interrupted(w: World, mp: pytest.MonkeyPatch) -> list[str]:
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    mp.setattr(cxassess.config, "load_config", interrupt)
    return ["check-config", "--dataset", str(w.dataset)]


CASES = [
    pytest.param(_review("timezone: [UTC\n"), 1, ["not valid YAML", "line 2"], id="invalid-yaml"),
    pytest.param(_review("timezone: UTC\nname: !!python/object/apply:os.system ['echo hacked']\n"), 1,
                 ["tag that is not allowed", "plain values"], id="unsafe-yaml-tag"),
    pytest.param(_review("- timezone\n- UTC\n"), 1, ["mapping of sections", "not a list"], id="yml-not-a-mapping"),
    pytest.param(_review(""), 1, ["timezone", "is required but missing"], id="yml-empty"),
    pytest.param(_not_utf8, 1, ["not UTF-8"], id="yml-not-utf8"),
    pytest.param(_sample_with("critical_share: 0.05", 'critical_share: "5%"'), 1,
                 ["quality.critical_share", "'5%'", "write a share between 0 and 1, e.g. 0.05"], id="share-as-percent"),
    pytest.param(_sample_with("scales: {csat: 5,", "scales: {csat: five,"), 1,
                 ["surveys.scales.csat", "'five'", "3, 5, 7, 10 or 11"], id="scale-as-word"),
    pytest.param(_sample_with("min_n: 30", "min_n: thirty"), 1,
                 ["min_n", "'thirty'", "whole number"], id="min-n-as-word"),
    pytest.param(_sample_with("min_n: 30", "min_n: 0"), 1, ["min_n", "greater than or equal to 1"], id="min-n-zero"),
    pytest.param(_sample_with("  csat: 0.80\n  nps: 20", "  csat: high\n  nps: 20"), 1,
                 ["targets.csat", "'high'", "write a number"], id="target-as-text"),
    pytest.param(_sample_with("  fcr: 0.70", "  fcr: 70"), 1,
                 ["targets.fcr", "share between 0 and 1", "fcr: 0.7"], id="share-target-as-percent"),
    pytest.param(_sample_with("  nps: 20", "  nps: 200"), 1,
                 ["targets.nps", "200 is not an NPS", "-100 to 100"], id="nps-target-beyond-100"),
    pytest.param(_sample_with("  churn: 0.05", "  churn: 0.05\n  ttr_hours: -3"), 1,
                 ["targets.ttr_hours", "-3 hours", "above 0"], id="hours-target-negative"),
    pytest.param(_sample_with("  churn: 0.05", "  churn: 0.05\n  ces_mean: 9"), 1,
                 ["targets.ces_mean", "7-point scale", "from 1 to 7"], id="ces-mean-target-beyond-scale"),
    pytest.param(_sample_with("  csat: 0.80", "  csat: 120"), 1,
                 ["targets.csat", "120 is not a share", "e.g. csat: 0.8 (80 %)"], id="share-target-beyond-100"),
    pytest.param(_sample_with("  transfer_rate: 0.25", "  transfer_rate: -0.25"), 1,
                 ["targets.transfer_rate", "e.g. transfer_rate: 0.25"], id="share-target-negative"),
    pytest.param(_sample_with("  churn: 0.05", "  chrun: 0.05"), 1,
                 ["targets.chrun", "did you mean 'churn'"], id="target-unknown-kpi"),
    pytest.param(_sample_with("metric: resolution, hours: 16", "metric: resolution, hours: -16"), 1,
                 ["sla[3].hours", "-16", "above 0"], id="sla-hours-negative"),
    pytest.param(_sample_with("metric: first_response, hours: 0.5", "metric: first_reply, hours: 0.5"), 1,
                 ["sla[1].metric", "metric 'first_reply' is not first_response or resolution"], id="sla-unknown-metric"),
    pytest.param(_sample_with("hours: 0.5, clock: business, channels: [chat, phone]",
                              "hours: 0.5, clock: business, channels: [chatt, phone]"), 1,
                 ["sla[1].channels", "'chatt' is not one of values.channels", "did you mean 'chat'"],
                 id="sla-channel-not-a-value"),
    pytest.param(_sample_with("priorities: [urgent, high]}", "priorities: [urgent, hihg]}"), 1,
                 ["sla[3].priorities", "'hihg' is not one of values.priorities", "did you mean 'high'"],
                 id="sla-priority-not-a-value"),
    pytest.param(_sample_with("name: resolution normal and low", "name: resolution urgent and high"), 1,
                 ["used more than once"], id="sla-names-repeat"),
    pytest.param(_sample_with("  critical_share: 0.05", "  critcal_share: 0.05"), 1,
                 ["quality.critcal_share", "did you mean 'critical_share'"], id="unknown-key-nested"),
    pytest.param(_sample_with("timezone: Europe/Berlin", "time_zone: Europe/Berlin"), 1,
                 ["time_zone", "did you mean 'timezone'", "timezone: is required"], id="unknown-key-top"),
    pytest.param(_sample_with("timezone: Europe/Berlin", "timezone: Mars/Olympus"), 1,
                 ["timezone", "unknown time zone 'Mars/Olympus'", "IANA"], id="unknown-zone"),
    pytest.param(_sample_with('mon: ["08:00", "18:00"]', "mon: [08:00, 18:00]"), 1,
                 ["calendar.working_hours.mon", "quoted times"], id="working-hours-unquoted"),
    pytest.param(_sample_with('sat: ["09:00", "13:00"]', 'sat: ["13:00", "09:00"]'), 1,
                 ["calendar.working_hours.sat", "closes at 09:00"], id="working-hours-reversed"),
    pytest.param(_sample_with('mon: ["08:00", "18:00"]', 'mon: ["08:00"]'), 1,
                 ["calendar.working_hours.mon[2]", "item 2 of the list is missing", 'e.g. ["08:00", "18:00"]'],
                 id="working-hours-one-time"),
    pytest.param(_sample_with("    - [resolution, survey]", "    - [resolution]"), 1,
                 ["process.transitions[7][2]", "item 2 of the list is missing", "pair of stages"],
                 id="transition-one-stage"),
    pytest.param(_sample_with("    - 2025-10-03", "    - Christmas"), 1,
                 ["calendar.holidays[1]", "'Christmas'", "YYYY-MM-DD"], id="holiday-not-a-date"),
    pytest.param(_sample_with("    - 2025-10-03", "    - 2025-10-33"), 1,
                 ["not a valid date", "day is out of range", "YYYY-MM-DD"], id="holiday-day-out-of-range"),
    pytest.param(_sample_with("    Closed: resolution", "    Closed: resolutoin"), 1,
                 ["process.activities.Closed", "'resolutoin' is not a stage", "did you mean 'resolution'"],
                 id="activity-to-unknown-stage"),
    pytest.param(_sample_with("    - [resolution, survey]", "    - [resolution, surveys]"), 1,
                 ["process.transitions[7]", "did you mean 'survey'"], id="transition-to-unknown-stage"),
    pytest.param(_sample_with("    - {name: survey, label", "    - {name: intake, label"), 1,
                 ["stage 'intake' is defined more than once",
                  "map 'Survey sent' to one of the stages: intake, first_level, specialist, resolution\n",
                  "use stages from: intake, first_level, specialist, resolution\n"], id="stage-defined-twice"),
    pytest.param(_sample_with("# columns:", "columns:", "#   tickets: {ticket_id", "  tickets: {ticket_ID"), 1,
                 ["columns.tickets.ticket_ID", "did you mean 'ticket_id'"], id="unknown-canonical-column"),
    pytest.param(_no_review_yml, 1, ["review.yml not found", "copy data/sample/review.yml"], id="missing-review-yml"),
    pytest.param(_args("review", "--dataset", "data/no-such-desk"), 1,
                 ["'data/no-such-desk' not found", "folder that holds review.yml"], id="missing-dataset"),
    pytest.param(_dataset_is_a_file, 1, ["is a file, not a dataset folder"], id="dataset-is-a-file"),
    pytest.param(_args("review", "--dataset", "{dataset}", "--cycle", "../../etc"), 1,
                 ["--cycle '../../etc' is not a review cycle", "2026Q3"], id="cycle-traversal"),
    pytest.param(_args("review", "--dataset", "{dataset}", "--previous", "../2026Q2"), 1,
                 ["--previous '../2026Q2' is not a review cycle"], id="previous-traversal"),
    pytest.param(_args("validate", "--dataset", "{dataset}", "--cycle", "../../etc"), 1,
                 ["--cycle '../../etc' is not a review cycle"], id="validate-cycle-traversal"),
    pytest.param(_read_only, 1, ["cannot write the report to", "small", "--reports"], id="reports-read-only"),
    pytest.param(_os_error(errno.EACCES), 1, ["cannot write the report to", "permission denied"], id="reports-forbidden"),
    pytest.param(_os_error(errno.ENOSPC), 1, ["cannot write the report to", "the disk is full"], id="disk-full"),
    pytest.param(_killed_run, 1, ["planted stop"], id="killed-run-cleaned"),
    pytest.param(_name_clash, 1, ["belongs to the dataset", "both dataset folders are named 'small'",
                                  "rename the dataset folder"], id="report-name-clash"),
    pytest.param(_internal, 3, ["internal error: RuntimeError: planted bug", "--debug"], id="internal-error"),
    pytest.param(_interrupted, 130, ["interrupted"], id="ctrl-c"),
]


@pytest.mark.parametrize(("setup", "code", "words"), CASES)
def test_bad_input(world, monkeypatch, capsys, setup, code, words):
    argv = setup(world, monkeypatch)
    if argv[0] == "review":
        argv += ["--notebooks", str(world.notebooks), "--reports", str(world.reports)]
    try:
        status = main(argv)
    finally:
        world.extra.pop("restore", lambda: None)()
    err = capsys.readouterr().err
    assert status == code, err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in err
    if "dead" in world.extra:
        _after_killed_run(world)
        world.extra.clear()
    assert tree(world.reports / "small") == world.good


def test_debug_shows_the_traceback(world, monkeypatch, capsys):
    assert main(["--debug", "check-config", "--dataset", str(world.copy("min_n: x\n"))]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ConfigError" in err and "min_n" in err


def test_every_problem_is_reported_at_once(world, capsys):
    text = SAMPLE_YML.read_text(encoding="utf-8")
    for old, new in [("min_n: 30", "min_n: thirty"), ("critical_share: 0.05", 'critical_share: "5%"'),
                     ("timezone: Europe/Berlin", "timezone: Mars/Olympus"), ("    Closed: resolution", "    Closed: x")]:
        text = text.replace(old, new, 1)
    assert main(["check-config", "--dataset", str(world.copy(text))]) == 1
    err = capsys.readouterr().err
    assert "4 problem(s)" in err
    assert err.count("\n  - ") == 4

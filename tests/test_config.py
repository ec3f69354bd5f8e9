"""review.yml schema, the error tree and the report folder's housekeeping."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from cxassess.cli import main
from cxassess.config import load_config, read_review_yml
from cxassess.config_schema import (
    KPI_IDS,
    README_END,
    README_START,
    ReviewSettings,
    reference_markdown,
    validate_review,
)
from cxassess.errors import ConfigError, CxAssessError, InputError, ReportFolderError
from cxassess.report import DATASET_FILE, OWNER_FILE, claim_report_folder, clean_dead_runs

from .conftest import FIXTURES, REPO, SAMPLE

TEMPLATES = sorted((REPO / "cxassess" / "templates" / "review").glob("*.yml"))


@pytest.mark.parametrize("path", [SAMPLE / "review.yml", FIXTURES / "helpdesk-italy" / "review.yml", *TEMPLATES],
                         ids=lambda p: p.parent.name + "/" + p.name)
def test_every_shipped_review_yml_is_valid(path):
    validate_review(yaml.safe_load(path.read_text(encoding="utf-8")), path)


def test_the_properties_read_the_file_with_the_schema_defaults():
    raw = yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8"))
    config = load_config(SAMPLE)
    assert config.timezone == raw["timezone"] and config.min_n == raw["min_n"]
    assert config.values("teams") == raw["values"]["teams"] and config.values("nothing") == []
    assert config.survey_scales == raw["surveys"]["scales"]
    assert config.targets == {k: float(v) for k, v in raw["targets"].items()}
    assert [p.name for p in config.sla] == [p["name"] for p in raw["sla"]]
    assert config.holidays == raw["calendar"]["holidays"]
    assert config.calendar["working_hours"] == raw["calendar"]["working_hours"]
    assert config.process.activities == raw["process"]["activities"]
    assert config.process.transitions == tuple(tuple(t) for t in raw["process"]["transitions"])
    assert config.process.non_work_activities == ()
    # keys the sample leaves out take the documented defaults
    assert config.quality == {"critical_share": 0.05, "window_tolerance_days": 1.0, "outside_hours_share": 0.25,
                              "instant_response_share": 0.5, "immature_open_share": 0.5,
                              "after_resolution_share": 0.2}
    assert config.top_segments == 12 and config.fcr_max_contacts == 1 and config.csv == {"dayfirst": False}


def test_a_minimal_review_yml_gets_every_default():
    s = ReviewSettings.model_validate({"timezone": "UTC"})
    assert (s.min_n, s.report.top_segments, s.kpis.fcr_max_contacts) == (30, 12, 1)
    assert s.process is None and s.sla == [] and s.targets == {} and s.calendar.working_hours is None


def test_names_written_as_numbers_are_text_and_empty_sections_take_defaults():
    s = validate_review({"timezone": "UTC", "values": {"priorities": [1, 2]}, "files": None, "quality": None})
    assert s.values.priorities == ["1", "2"] and s.quality.critical_share == 0.05


def test_new_keys_are_read():
    raw = yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8"))
    raw["process"]["non_work_activities"] = ["Survey sent", "Closed"]
    raw["quality"].update(outside_hours_share=0.3, instant_response_share=0.2, immature_open_share=0.4)
    raw["report"] = {"top_segments": 5}
    raw["imported"] = {"source": "zendesk export", "columns": {"any": ["thing"]}}
    raw["qa_scorecard"][0]["na"] = "pass"
    s = validate_review(raw)
    assert s.process.non_work_activities == ["Survey sent", "Closed"]
    assert (s.quality.outside_hours_share, s.quality.instant_response_share, s.quality.immature_open_share) == (0.3, 0.2, 0.4)
    assert s.report.top_segments == 5 and s.qa_scorecard[0].na == "pass"


@pytest.mark.parametrize(("section", "value", "key"), [
    ({"quality": {"outside_hours_share": 1.5}}, 1.5, "quality.outside_hours_share"),
    ({"quality": {"instant_response_share": -0.1}}, -0.1, "quality.instant_response_share"),
    ({"report": {"top_segments": 0}}, 0, "report.top_segments"),
    ({"kpis": {"fcr_max_contacts": "one"}}, "one", "kpis.fcr_max_contacts"),
    ({"kpis": {"min_important_difference": {"csat": 3}}}, 3, "kpis.min_important_difference.csat"),
    ({"qa_scorecard": [{"criterion": "x", "weight": 0}]}, 0, "qa_scorecard[1].weight"),
    ({"process": {"stages": [{"name": "a"}], "activities": {"Received": "a"}, "non_work_activities": ["Survey sent"]}}, "Survey sent",
     "process.non_work_activities[1]"),
    ({"surveys": {"scales": {"csat": 4}}}, 4, "surveys.scales.csat"),
    ({"sla": [{"name": "x", "metric": "resolution", "hours": 2, "clock": "wall"}]}, "wall", "sla[1].clock"),
])
def test_each_problem_names_its_key_and_value(section, value, key):
    with pytest.raises(ConfigError) as info:
        validate_review({"timezone": "UTC", **section})
    [problem] = info.value.problems
    assert (problem.key, problem.value) == (key, value)
    assert problem.fix and "How to fix" in str(info.value)


def test_did_you_mean_at_every_level():
    raw = {"timezone": "UTC", "titel": "x", "calendar": {"working_hour": {}},
           "process": {"stages": [{"name": "a", "lable": "A"}]}, "sla": [{"name": "x", "metric": "resolution",
                                                                          "hours": 1, "chanels": []}]}
    with pytest.raises(ConfigError) as info:
        validate_review(raw)
    hints = {p.key: p.problem for p in info.value.problems}
    assert "did you mean 'title'" in hints["titel"]
    assert "did you mean 'working_hours'" in hints["calendar.working_hour"]
    assert "did you mean 'label'" in hints["process.stages[1].lable"]
    assert "did you mean 'channels'" in hints["sla[1].chanels"]


def test_kpi_ids_agree_with_the_scorecard():
    from cxassess.kpis.scorecard import LABELS

    assert set(KPI_IDS) == set(LABELS)


def test_readme_reference_is_up_to_date():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(README_START) + len(README_START): text.index(README_END)]
    assert section.strip() == reference_markdown().strip(), (
        'run: python -c "import cxassess.config_schema as s; s.update_readme()"')
    for key in ("quality.critical_share", "process.non_work_activities", "report.top_segments", "imported"):
        assert f"| `{key}` |" in section


def test_check_config_says_valid_or_lists_the_problems(tmp_path, capsys):
    assert main(["check-config"]) == 0
    assert "review.yml is valid (data/sample/review.yml)" in capsys.readouterr().out
    (tmp_path / "review.yml").write_text("timezone: UTC\nmin_n: many\n")
    assert main(["check-config", "--dataset", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "min_n: 'many'" in err and "Traceback" not in err


def test_a_key_written_twice_is_reported_with_its_lines(tmp_path, capsys):
    # YAML alone keeps the last value (min_n 40) without a word; the two min_n sit on lines 2 and 6,
    # the two work_days (in calendar) on lines 4 and 5; merge keys (<<) may be overridden
    (tmp_path / "review.yml").write_text(
        "timezone: UTC\nmin_n: 30\ncalendar:\n  work_days: [1, 2, 3]\n  work_days: [1, 2]\nmin_n: 40\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    lines = [p.problem for p in info.value.problems]
    assert len(lines) == 2
    assert lines[0].startswith("line 5: the key 'work_days' is written twice") and "first at line 4" in lines[0]
    assert lines[1].startswith("line 6: the key 'min_n' is written twice") and "first at line 2" in lines[1]
    assert main(["check-config", "--dataset", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "line 6" in err and "How to fix" in err and "Traceback" not in err
    # a merge (<<) is not a repeated key: its keys may be overridden
    (tmp_path / "review.yml").write_text("a: &x {k: 1, j: 3}\nb: {<<: *x, k: 2}\n")
    assert read_review_yml(tmp_path / "review.yml") == {"a": {"k": 1, "j": 3}, "b": {"k": 2, "j": 3}}


def test_a_date_that_does_not_exist_is_reported_with_its_line(tmp_path, capsys):
    (tmp_path / "review.yml").write_text(
        "timezone: UTC\ncalendar:\n  holidays:\n    - 2026-01-01\n    - 2026-02-30\n    - 2025-02-29\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert [p.problem.split(" (")[0] for p in info.value.problems] == [
        "line 5: '2026-02-30' is not a valid date", "line 6: '2025-02-29' is not a valid date"]
    assert main(["check-config", "--dataset", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "line 5: '2026-02-30'" in err and "YYYY-MM-DD" in err and "Traceback" not in err


def test_deliberate_errors_are_cxassess_errors_with_a_fix():
    from cxassess.kpis.satisfaction import ces

    with pytest.raises(InputError) as info:
        ces(__import__("pandas").DataFrame({"ticket_id": ["t"], "kind": ["ces"], "score": [5.0]}), measure="median")
    assert isinstance(info.value, CxAssessError) and isinstance(info.value, ValueError) and info.value.fix
    error = ReportFolderError("reports/x", OSError(28, "No space left on device"))
    assert str(error).splitlines()[0] == "cannot write the report to reports/x: the disk is full"


# ----------------------------------------------------------------------------- housekeeping
def _staging(folder: Path, name: str, owner: str | None) -> Path:
    path = folder / name
    path.mkdir()
    if owner is not None:
        (path / OWNER_FILE).write_text(owner)
    return path


def test_only_staging_folders_of_dead_processes_on_this_host_are_removed(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    host = socket.gethostname()
    gone = _staging(tmp_path, f".2026Q3.staging-{dead}-aa", f"{host} {dead}")
    alive = _staging(tmp_path, f".2026Q3.staging-{os.getpid()}-bb", f"{host} {os.getpid()}")
    elsewhere = _staging(tmp_path, f".2026Q3.staging-{dead}-cc", f"other-host {dead}")
    unknown = _staging(tmp_path, ".2026Q3.staging-dd", None)
    assert clean_dead_runs(tmp_path) == [gone.name]
    assert [p.exists() for p in (gone, alive, elsewhere, unknown)] == [False, True, True, True]


def test_a_report_left_half_swapped_is_put_back(tmp_path):
    old = tmp_path / ".2026Q2.old"
    old.mkdir()
    (old / "index.html").write_text("good")
    assert clean_dead_runs(tmp_path) == [".2026Q2.old"]
    assert (tmp_path / "2026Q2" / "index.html").read_text() == "good"


def test_the_report_folder_belongs_to_one_dataset_folder(tmp_path):
    reports = tmp_path / "reports"
    folder = reports / "desk"
    folder.mkdir(parents=True)
    first, second = tmp_path / "data" / "desk", tmp_path / "copy" / "desk"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    claim_report_folder(folder, first, reports)
    assert (folder / DATASET_FILE).read_text() == "data/desk\n"  # relative: no machine path
    claim_report_folder(folder, first, reports)
    with pytest.raises(ConfigError, match="belongs to the dataset data/desk"):
        claim_report_folder(folder, second, reports)


def test_published_folders_follow_the_umask(tmp_path):
    from cxassess.report import _open_permissions

    staging = Path(tempfile.mkdtemp(dir=tmp_path))
    (staging / "sub").mkdir()
    assert staging.stat().st_mode & 0o777 == 0o700
    old = os.umask(0o027)
    try:
        _open_permissions(staging)
    finally:
        os.umask(old)
    assert [p.stat().st_mode & 0o777 for p in (staging, staging / "sub")] == [0o750, 0o750]


def test_holidays_are_dates():
    assert all(isinstance(d, dt.date) for d in load_config(SAMPLE).holidays)


def test_qa_settings_are_read_with_defaults_and_checked():
    s = validate_review({"timezone": "UTC"})
    assert (s.qa.target, s.qa.precision, s.qa.pseudonymise_agents, s.qa.section_targets) == (None, 0.05, False, {})
    raw = yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8"))
    sample = validate_review(raw)
    assert sample.qa.target == 0.90 and sample.qa.section_targets["communication"] == 0.95
    assert [c.criterion for c in sample.qa_scorecard if c.auto_fail] == ["sop_followed"]
    assert {c.impact for c in sample.qa_scorecard} == {"high", "low"}
    assert {c.section for c in sample.qa_scorecard} == {"management", "communication"}


@pytest.mark.parametrize(("qa", "value", "key"), [
    ({"target": 1.2}, 1.2, "qa.target"),
    ({"precision": 0}, 0, "qa.precision"),
    ({"pseudonymise_agents": "yes"}, "yes", "qa.pseudonymise_agents"),
    ({"section_targets": {"comunication": 0.9}}, "comunication", "qa.section_targets.comunication"),
])
def test_qa_problems_name_their_key(qa, value, key):
    raw = {"timezone": "UTC", "qa": qa,
           "qa_scorecard": [{"criterion": "clear", "section": "communication"}]}
    with pytest.raises(ConfigError) as info:
        validate_review(raw)
    [problem] = info.value.problems
    assert (problem.key, problem.value) == (key, value)
    assert problem.fix


def test_qa_section_target_gets_a_did_you_mean():
    raw = {"timezone": "UTC", "qa": {"section_targets": {"comunication": 0.9}},
           "qa_scorecard": [{"criterion": "clear", "section": "communication"}]}
    with pytest.raises(ConfigError) as info:
        validate_review(raw)
    assert "did you mean 'communication'" in info.value.problems[0].problem


def test_both_templates_carry_a_scorecard():
    from importlib import resources
    for name in ("support", "ecommerce"):
        text = resources.files("cxassess").joinpath(f"templates/review/{name}.yml").read_text("utf-8")
        s = validate_review(yaml.safe_load(text))
        assert s.qa_scorecard and s.qa.target == 0.90
        assert any(c.auto_fail for c in s.qa_scorecard) and any(c.impact == "high" for c in s.qa_scorecard)


def test_the_improvement_section_is_read_with_defaults_and_checked():
    assert ReviewSettings.model_validate({"timezone": "UTC"}).improvement.cost_per_contact is None
    s = validate_review({"timezone": "UTC", "improvement": {"cost_per_contact": 6.5, "follow_up_days": 10}})
    assert (s.improvement.cost_per_contact, s.improvement.follow_up_days, s.improvement.currency) == (6.5, 10, "EUR")
    with pytest.raises(ConfigError, match="improvement.follow_up_days"):
        validate_review({"timezone": "UTC", "improvement": {"follow_up_days": 0}})
    with pytest.raises(ConfigError, match="cost_per_contac"):
        validate_review({"timezone": "UTC", "improvement": {"cost_per_contac": 6.5}})


def test_the_coverage_of_an_action_is_read_and_checked():
    s = validate_review({"timezone": "UTC", "improvement": {"coverage": {"A-103": {"team": ["tier1_south"]}}}})
    assert s.improvement.coverage == {"A-103": {"team": ["tier1_south"]}}
    with pytest.raises(ConfigError, match="improvement.coverage.A-103"):
        validate_review({"timezone": "UTC", "improvement": {"coverage": {"A-103": ["tier1_south"]}}})
def test_themes_default_and_replaced():
    s = validate_review({"timezone": "UTC"})
    assert {"waiting", "transfer", "rude", "resolved", "price", "delivery"} <= set(s.themes)
    assert set(s.themes["transfer"].words) == {"en", "de", "ja"} and s.themes["transfer"].complaint
    own = validate_review({"timezone": "UTC", "themes": {"billing error": {"complaint": True,
                                                                         "words": {"en": ["invoice"]}}}})
    assert list(own.themes) == ["billing error"] and own.themes["billing error"].words == {"en": ["invoice"]}
    with pytest.raises(ConfigError) as info:
        validate_review({"timezone": "UTC", "themes": {"x": {"wordz": {"en": ["a"]}}}})
    [problem] = info.value.problems
    assert problem.key == "themes.x.wordz" and "did you mean 'words'" in str(info.value)


def test_the_reference_names_the_built_in_themes_instead_of_dumping_them():
    """The default of `themes` (sections of words per language) reads as the names of the
    built-in themes, not as a Python repr of the models."""
    from cxassess.config_schema import ReviewSettings

    row = next(r for r in reference_markdown().splitlines() if r.startswith("| `themes` |"))
    names = list(ReviewSettings.model_fields["themes"].get_default(call_default_factory=True))
    assert "Theme(" not in row and "built in: " + ", ".join(f"`{n}`" for n in names) in row
    assert len(names) > 5

"""The findings protocol: validation, ranking by severity × reach, save/load per page."""

import json

import pytest

from cxassess.errors import InputError
from cxassess.findings import Finding, load, rank, save


def make(what="x", severity="medium", reach=0.5, page="20_kpi_scorecard", **kw):
    return Finding(what, "n = 100", severity, reach, page, **kw)


@pytest.mark.parametrize("bad", [dict(severity="urgent"), dict(reach=1.2), dict(reach=float("nan")), dict(what=" "), dict(page="")])
def test_a_finding_that_cannot_be_used_is_refused(bad):
    with pytest.raises(InputError):
        make(**bad)


def test_rank_is_severity_weight_times_reach_then_severity():
    a = make("a", "low", 0.9)      # 0.9
    b = make("b", "high", 0.5)     # 1.5
    c = make("c", "medium", 0.45)  # 0.9, more severe than a
    assert [f.what for f in rank([a, b, c])] == ["b", "c", "a"]


def test_a_page_saving_again_replaces_its_findings_and_others_stay(tmp_path):
    save([make("old")], tmp_path, "20_kpi_scorecard")
    save([make("new", kpi="csat", figures={"n": 3})], tmp_path, "20_kpi_scorecard")
    save([make("stage", "high", 0.4, page="10_process_stages", anchor="stages")], tmp_path, "10_process_stages")
    found = load(tmp_path)
    assert [f.what for f in found] == ["stage", "new"]
    assert found[0].href == "10_process_stages.html#stages"
    assert found[1].figures == {"n": 3}
    raw = json.loads((tmp_path / "findings" / "20_kpi_scorecard.json").read_text(encoding="utf-8"))
    assert raw["page"] == "20_kpi_scorecard" and len(raw["findings"]) == 1
    assert not list((tmp_path / "findings").glob(".*"))  # no temporary file left

"""Verdicts that mean something: a minimum important difference per KPI (registry, review.yml
override), "real but small", consistent intervals, minutes under an hour, reference rows and
rows with nothing to compare."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from cxassess import registry
from cxassess.config_schema import validate_review
from cxassess.errors import ConfigError
from cxassess.findings import interval, number
from cxassess.stats import verdict

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def cycles():
    from cxassess.cycles import load_cycle

    q3 = load_cycle(SAMPLE, "2026Q3")
    return q3, q3.load_previous()


@pytest.mark.parametrize(("low", "high", "change", "threshold", "higher", "expected"), [
    (0.05, 0.20, 0.12, 0.03, True, "improved"),       # excludes 0, 12 pp >= 3 pp
    (0.005, 0.02, 0.012, 0.03, True, "real but small"),  # excludes 0, 1.2 pp < 3 pp
    (-0.02, 0.04, 0.01, 0.0, True, "within noise"),   # includes 0
    (-0.015, -0.005, -0.01, 0.25, False, "real but small"),  # 36 s faster first response vs 15 min
    (-0.9, -0.3, -0.6, 0.25, False, "improved"),      # 36 min faster: improved (lower is better)
    (0.03, 0.09, 0.06, 0.03, False, "worsened"),
])
def test_improved_or_worsened_only_when_real_and_large_enough(low, high, change, threshold, higher, expected):
    assert verdict([low], [high], higher_is_better=higher, change=[change], threshold=threshold)[0] == expected


def test_every_kpi_has_a_minimum_important_difference_in_its_unit():
    for kpi in registry.KPIS.values():
        assert kpi.min_important is not None and kpi.min_important > 0, kpi.id
        if kpi.unit == "share":
            assert kpi.min_important < 0.2, kpi.id  # a fraction, not percent


@pytest.mark.parametrize(("value", "key", "hint"), [
    ({"csta": 0.03}, "kpis.min_important_difference.csta", "did you mean 'csat'"),
    ({"csat": 3}, "kpis.min_important_difference.csat", "not a usable difference"),
    ({"ttr_hours": -1}, "kpis.min_important_difference.ttr_hours", "not a usable difference"),
])
def test_review_yml_override_is_checked(value, key, hint):
    with pytest.raises(ConfigError) as info:
        validate_review({"timezone": "UTC", "kpis": {"min_important_difference": value}})
    [problem] = info.value.problems
    assert problem.key == key and hint in problem.problem and problem.fix


def test_review_yml_override_changes_the_verdict(cycles, tmp_path):
    """Transfers rose 20.6 % -> 29.9 %: real (Newcombe's interval, statsmodels, excludes 0).
    With the registry's 3 points it is "worsened"; with review.yml's 15 points "real but small"."""
    import dataclasses

    from cxassess.kpis import scorecard

    q3, q2 = cycles
    t3 = pd.read_csv(SAMPLE / "2026Q3" / "tickets.csv")
    t2 = pd.read_csv(SAMPLE / "2026Q2" / "tickets.csv")
    k3, k2 = int((t3["transfers"] > 0).sum()), int((t2["transfers"] > 0).sum())
    low, high = confint_proportions_2indep(k3, len(t3), k2, len(t2), method="newcomb")
    change = k3 / len(t3) - k2 / len(t2)
    assert low > 0 and change >= 0.03
    card = scorecard(q3, q2).set_index("kpi")
    assert card.at["transfer_rate", "verdict"] == "worsened"
    raw = {**q3.config.raw, "kpis": {"min_important_difference": {"transfer_rate": 0.15}}}
    config = dataclasses.replace(q3.config, raw=raw)
    assert config.min_important == {"transfer_rate": 0.15}
    card = scorecard(q3.with_config(config) if hasattr(q3, "with_config") else dataclasses.replace(q3, config=config),
                     q2).set_index("kpi")
    assert change < 0.15 and card.at["transfer_rate", "verdict"] == "real but small"


def test_intervals_have_one_unit_signs_and_no_negative_zero():
    assert interval(-0.0253, -0.0019, "hours", change=True) == "-2 min to -7 s"  # 0.0019 h = 6.84 s, not 0 min
    assert interval(-0.5, 1.5, "hours", change=True) == "-0.5 h to +1.5 h"  # one unit for both bounds
    assert interval(0.001, 0.03, "share", change=True) == "+0.1 pp to +3.0 pp"
    assert number(0.39, "hours") == "23 min" and number(1.25, "hours") == "1.2 h"
    assert number(-0.0004, "share", change=True) == "0.0 pp"


def test_audit_tables_write_a_change_that_rounds_to_zero_without_a_sign():
    """The quality-audit tables' changes in pp: -0.04 pp and +0.03 pp read 0.0 pp (as
    findings.number writes them), never "+0.0 pp" or "-0.0 pp"; -20 pp keeps its sign."""
    from cxassess.plots import audit_table

    gaps = pd.DataFrame({"team": ["s", "t"], "low": [0.5, 0.5], "high": [0.7, 0.7],
                         "gap_low": [-0.2, -0.0004], "gap_high": [-0.1, 0.0003]})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", audit_table(gaps, "team_gaps").to_html())
    assert "-20.0 pp" in cells and "-10.0 pp" in cells and cells.count("0.0 pp") == 2
    assert not any(c.strip() in ("+0.0 pp", "-0.0 pp") for c in cells)


def test_scorecard_and_breakdown_tables_print_no_negative_zero_and_no_hours_below_one(cycles):
    from cxassess.kpis import breakdowns, scorecard
    from cxassess.plots import scorecard_table

    q3, q2 = cycles
    tables = [scorecard(q3, q2), *[b.full for b in breakdowns(q3, q2, by=["channel"])]]
    for card in tables:
        card = card.assign(small_n=card["n"].fillna(0) < 30)
        shown = scorecard_table(card).data
        text = " ".join(shown.astype(str).to_numpy().ravel())
        assert not re.search(r"-0(\.0+)?\s?(h|min|pp)\b", text), text
        figures = " ".join(shown[["value", "previous", "change"]].astype(str).to_numpy().ravel())
        assert not re.search(r"(?<![\d.])0\.\d+ h\b", figures)  # a figure under an hour is in minutes
        # the verdict's rule, row by row, from the change, its interval and the registry
        for r in card.itertuples():
            if r.verdict not in ("improved", "worsened", "real but small", "within noise"):
                continue
            real = r.change_low > 0 or r.change_high < 0
            big = abs(r.change) >= registry.min_important(r.kpi) - 1e-12
            expected = ("real but small" if real and not big else "within noise" if not real
                        else r.verdict)
            assert r.verdict == expected or (real and big and r.verdict in ("improved", "worsened"))


def test_reference_rows_say_reference_and_flat_stages_say_nothing(cycles):
    import cxassess as cx

    q3, q2 = cycles
    process = q3.config.process
    log = cx.process.process_log(q3.events, process)
    by_path = cx.process.satisfaction_by_path(q3.surveys, cx.process.path_attributes(log, process), scale=5)
    shown = cx.plots.path_table(by_path).data
    reference = shown[shown["difference to reference"] == "reference"]
    assert set(reference["path"]) == {"no transfer", "not escalated", "no stage repeated", "followed the designed flow"}
    assert (reference["its interval"] == "").all()
    assert not shown["path"].str.contains("True|False|: ").any()
    stages = cx.process.compare_stages(cx.process.stage_metrics(log, process),
                                       cx.process.stage_metrics(q2.events, process))
    # the survey is sent at the resolution: 0 h in every ticket of both cycles, nothing to judge
    events = pd.read_csv(SAMPLE / "2026Q3" / "events.csv")
    assert events.loc[events["activity"] == "Survey sent"].groupby("ticket_id").size().max() == 1
    survey = stages.set_index("stage").loc["survey"]
    assert survey["verdict"] == "" and np.isnan(survey["change"])
    table = cx.plots.stage_table(stages).data.set_index("stage")
    assert table.loc["Satisfaction survey", "verdict"] == "" and table.loc["Satisfaction survey", "change of median"] == ""
    assert table.loc["Specialist level", "change of median"].startswith("+")

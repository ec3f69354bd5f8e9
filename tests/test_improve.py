"""The improvement loop (cxassess.improve): action effects against the planted truth 5 (and
its absence), the history store (idempotent, transactional, locked, migrated), the register,
ROI, churn by experience and the proposals."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cxassess import findings, improve, kpis, process, synth
from cxassess.findings import Finding
from cxassess.quality import checked_cycle

TZ = "Europe/Berlin"


@pytest.fixture(scope="module")
def sample_weekly() -> pd.DataFrame:
    return improve.weekly_history("data/sample", "2026Q3")


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return checked_cycle("data/sample", "2026Q3").actions


@pytest.fixture(scope="module")
def without_truth5(tmp_path_factory) -> Path:
    """The sample regenerated with the working action switched off (truth 5)."""
    root = tmp_path_factory.mktemp("no_truth5") / "desk"
    return synth.write_sample(root, synth.SampleSpec(truths=(1, 2, 3, 4, 8)))


def test_a101_worked_with_the_planted_reduction_inside_its_interval(sample_weekly, register):
    effects = improve.action_effect(sample_weekly, register, min_n=30, timezone=TZ).set_index("action_id")
    a101 = effects.loc["A-101"]
    assert a101["verdict"] == "worked"
    assert a101["ci_low"] <= -0.075 <= a101["ci_high"]  # planted: 14 % -> 6.5 %
    assert a101["ci_high"] < 0
    assert effects.loc["A-100", "verdict"] in ("too early: not done yet", "no evidence yet")


def test_the_weekly_reopen_rate_counts_only_tickets_with_a_full_follow_up():
    data = checked_cycle("data/sample", "2026Q1")
    weekly = improve.weekly_kpis(data, follow_up_days=14)
    reopen = weekly[weekly["kpi"] == "reopen_rate"]
    cut = data.end - pd.Timedelta(days=14)
    # independent count of one week: tickets created that week (local Monday..Sunday), before the cut
    t = data.tickets
    local = t["created_at"].dt.tz_convert(TZ).dt.tz_localize(None)
    week = (local >= "2026-02-02") & (local < "2026-02-09") & (t["created_at"] <= cut)
    resolved = t["resolved_at"].notna() | (t["reopens"] > 0)
    expected = ((t["reopens"] > 0) & week & resolved).sum() / (week & resolved).sum()
    got = reopen.loc[reopen["week"] == pd.Timestamp("2026-02-02"), "value"].item()
    assert got == pytest.approx(expected)
    assert reopen["week"].max() + pd.Timedelta(days=7) <= cut.tz_convert(TZ).tz_localize(None) + pd.Timedelta(days=7)


def test_the_its_effect_equals_statsmodels_fitted_by_hand(sample_weekly, register):
    s = sample_weekly[(sample_weekly["kpi"] == "reopen_rate")].dropna(subset=["value"])
    done = pd.Timestamp("2026-01-26")
    s = s[(s["week"] + pd.Timedelta(days=7) <= done) | (s["week"] >= done)]
    X = sm.add_constant(np.column_stack([(s["week"] - s["week"].min()).dt.days / 7, s["week"] >= done]).astype(float))
    fit = sm.WLS(s["value"].to_numpy(), X, weights=s["n"].to_numpy()).fit(cov_type="HAC", cov_kwds={"maxlags": 2})
    a101 = improve.action_effect(sample_weekly, register, timezone=TZ).set_index("action_id").loc["A-101"]
    assert a101["effect"] == pytest.approx(fit.params[2])
    # and the raw before/after rates agree with the planted probabilities
    assert a101["before"] == pytest.approx(0.14, abs=0.015) and a101["after"] == pytest.approx(0.065, abs=0.01)


@pytest.mark.slow  # generates four cycles (about 20 s)
def test_without_the_planted_action_there_is_no_evidence(without_truth5):
    weekly = improve.weekly_history(without_truth5, "2026Q3")
    actions = checked_cycle(without_truth5, "2026Q3").actions
    effects = improve.action_effect(weekly, actions, timezone=TZ).set_index("action_id")
    assert effects.loc["A-101", "verdict"] == "no evidence yet"
    assert effects.loc["A-101", "ci_low"] < 0 < effects.loc["A-101", "ci_high"]


def test_too_early_when_few_weeks_follow():
    weeks = pd.date_range("2026-01-05", periods=12, freq="7D")
    weekly = pd.DataFrame({"week": weeks, "kpi": "reopen_rate", "value": 0.1, "n": 200})
    register = pd.DataFrame({"action_id": ["A"], "kpi": ["reopen_rate"], "done_at": [weeks[-2]]})
    assert improve.action_effect(weekly, register).loc[0, "verdict"] == "too early (n after < min_n)"


def test_findings_only_for_real_effects(sample_weekly, register):
    effects = improve.action_effect(sample_weekly, register, timezone=TZ)
    found = improve.findings(effects)
    assert [f.figures["action_id"] for f in found] == ["A-101"]
    assert found[0].kind == "action_effect" and "worked" in found[0].what


# ---------------------------------------------------------------- history store

def _kpis(value: float) -> pd.DataFrame:
    return pd.DataFrame({"kpi": ["csat", "reopen_rate"], "value": [value, 0.07], "n": [300, 2000]})


def test_rewriting_a_cycle_replaces_its_rows(tmp_path):
    store = tmp_path / "history.duckdb"
    improve.write_history(store, "2026Q2", {"kpis": _kpis(0.7)})
    improve.write_history(store, "2026Q3", {"kpis": _kpis(0.8)})
    improve.write_history(store, "2026Q3", {"kpis": _kpis(0.8)})
    rows = improve.read_history(store, "kpis")
    assert rows.groupby("cycle").size().to_dict() == {"2026Q2": 2, "2026Q3": 2}
    assert set(rows["schema_version"]) == {improve.SCHEMA_VERSION}


def test_a_failed_write_leaves_the_store_as_it_was(tmp_path):
    store = tmp_path / "history.duckdb"
    improve.write_history(store, "2026Q3", {"kpis": _kpis(0.8)})
    before = improve.read_history(store, "kpis")

    class Broken(pd.DataFrame):
        def reset_index(self, *args, **kwargs):  # fails midway, after the first table was replaced
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        improve.write_history(store, "2026Q3", {"kpis": _kpis(0.1), "weekly": Broken({"kpi": ["x"]})})
    pd.testing.assert_frame_equal(improve.read_history(store, "kpis"), before)


def _writer(args):
    store, cycle = args
    for _ in range(5):
        improve.write_history(store, cycle, {"kpis": _kpis(0.5), "weekly": pd.DataFrame(
            {"week": pd.date_range("2026-01-05", periods=10, freq="7D"), "kpi": "volume", "value": 1.0, "n": 1})})
    return cycle


def test_concurrent_writers_do_not_corrupt_the_store(tmp_path):
    store = str(tmp_path / "history.duckdb")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        done = pool.map(_writer, [(store, c) for c in ("2026Q1", "2026Q2", "2026Q3")])
    assert sorted(done) == ["2026Q1", "2026Q2", "2026Q3"]
    weekly = improve.read_history(store, "weekly")
    assert weekly.groupby("cycle").size().to_dict() == {"2026Q1": 10, "2026Q2": 10, "2026Q3": 10}


def test_an_older_store_is_migrated_and_keeps_its_rows(tmp_path):
    store = tmp_path / "history.duckdb"
    con = duckdb.connect(str(store))  # a store from before schema versions: kpis without note/hits, no meta
    con.execute("CREATE TABLE kpis (cycle VARCHAR, kpi VARCHAR, value DOUBLE)")
    con.execute("INSERT INTO kpis VALUES ('2025Q4', 'csat', 0.61)")
    con.close()
    improve.write_history(store, "2026Q3", {"kpis": _kpis(0.8)})
    rows = improve.read_history(store, "kpis")
    old = rows[rows["cycle"] == "2025Q4"].iloc[0]
    assert old["value"] == 0.61 and pd.isna(old["note"])
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(improve.SCHEMA_VERSION)
    con.close()


def test_a_newer_store_is_refused(tmp_path):
    store = tmp_path / "history.duckdb"
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    con.close()
    with pytest.raises(improve.CxAssessError, match="newer cxassess"):
        improve.write_history(store, "2026Q3", {"kpis": _kpis(0.8)})


def test_trends_keep_a_cycle_whose_raw_folder_was_removed(tmp_path):
    root = synth.write_sample(tmp_path / "desk", synth.SampleSpec(tickets_per_cycle=400, cycles=("2026Q2", "2026Q3")))
    store = tmp_path / "history.duckdb"
    for label, tables in improve.history_record(root, "2026Q3", store=store).items():
        improve.write_history(store, label, tables)
    stored_q2 = improve.read_history(store, "weekly", cycles=["2026Q2"])
    assert len(stored_q2) > 0
    import shutil
    shutil.rmtree(root / "2026Q2")
    weekly = improve.weekly_history(root, "2026Q3", store=store)
    q2 = weekly[weekly["cycle"] == "2026Q2"]
    assert set(q2["source"]) == {"store"} and len(q2) == len(stored_q2)
    assert set(weekly.loc[weekly["cycle"] == "2026Q3", "source"]) == {"store"}


def _store_rows(store: Path, table: str) -> pd.DataFrame:
    rows = improve.read_history(store, table).drop(columns=["written_utc"], errors="ignore")
    keys = [c for c in rows.columns if not pd.api.types.is_float_dtype(rows[c])]
    return rows.sort_values(keys, kind="stable").reset_index(drop=True)


def test_the_record_takes_the_tables_the_pages_saved_and_computes_none(tmp_path, monkeypatch):
    root = synth.write_sample(tmp_path / "desk", synth.SampleSpec(tickets_per_cycle=400, cycles=("2026Q2", "2026Q3")))
    data = checked_cycle(root, "2026Q3")
    # computed directly, as the pages compute them
    card = kpis.cycle_kpis(data)
    metrics = process.stage_metrics(process.process_log(data.events, data.config.process), data.config.process)
    weekly = improve.weekly_history(root, "2026Q3", current=data)  # both cycles: the store is empty
    q2 = improve.weekly_kpis(checked_cycle(root, "2026Q2", strict=False))
    recomputed = improve.history_record(root, "2026Q3")  # no page saved anything: computed here
    run = tmp_path / "run"
    assert improve.save_record(card, None, "kpis") is None  # a notebook run alone saves nothing
    improve.save_record(card, run, "kpis")
    improve.save_record(metrics, run, "stages")
    improve.save_record(weekly, run, "weekly")

    def recomputes(*args, **kwargs):
        raise AssertionError("the record loaded the cycle or computed a table a page saved")

    for module, name in ((improve, "checked_cycle"), (improve, "weekly_kpis"), (kpis, "cycle_kpis"),
                         (process, "stage_metrics")):
        monkeypatch.setattr(module, name, recomputes)
    record = improve.history_record(root, "2026Q3", run)
    monkeypatch.undo()

    assert sorted(record) == sorted(recomputed) == ["2026Q2", "2026Q3"]
    saved = record["2026Q3"]
    q3 = improve.weekly_kpis(data)
    assert len(card) and len(metrics) and len(q3)
    # exactly the store's columns and types of what was computed
    for table, frame in (("kpis", card), ("stages", metrics), ("weekly", q3)):
        expected = improve._conform(table, frame, "2026Q3").drop(columns=["cycle", "schema_version"])
        pd.testing.assert_frame_equal(saved[table].drop(columns="cycle", errors="ignore"), expected)
    pd.testing.assert_frame_equal(record["2026Q2"]["weekly"].drop(columns="cycle"),
                                  improve._conform("weekly", q2, "2026Q2").drop(columns=["cycle", "schema_version"]))
    # the same rows in the store as a record computed here
    stores = {}
    for name, rec in (("saved", record), ("recomputed", recomputed)):
        stores[name] = tmp_path / name / "history.duckdb"
        for label, tables in rec.items():
            improve.write_history(stores[name], label, tables)
    for table in improve.RECORD_TABLES:
        pd.testing.assert_frame_equal(_store_rows(stores["saved"], table), _store_rows(stores["recomputed"], table))


def test_a_run_without_those_pages_still_records_by_computing(tmp_path):
    root = synth.write_sample(tmp_path / "desk", synth.SampleSpec(tickets_per_cycle=300, cycles=("2026Q3",)))
    data = checked_cycle(root, "2026Q3")
    run = tmp_path / "run"
    improve.save_record(improve.weekly_kpis(data), run, "weekly")  # only the improvement page ran
    record = improve.history_record(root, "2026Q3", run)["2026Q3"]
    pd.testing.assert_frame_equal(improve._conform("kpis", record["kpis"], "2026Q3"),
                                  improve._conform("kpis", kpis.cycle_kpis(data), "2026Q3"))
    pd.testing.assert_frame_equal(
        improve._conform("stages", record["stages"], "2026Q3"),
        improve._conform("stages", process.stage_metrics(data.events, data.config.process), "2026Q3"))
    with pytest.raises(improve.InputError, match="no table 'gate'"):
        improve.save_record(pd.DataFrame(), run, "gate")


# ---------------------------------------------------------------- register, ROI, churn, proposals

def test_register_summary_counts_and_overdue(register):
    at = pd.Timestamp("2026-10-01", tz=TZ)
    summary = improve.register_summary(register, at=at)
    assert summary["status"].set_index("status")["actions"].to_dict() == {"in_progress": 2, "done": 1}
    assert summary["overdue"]["action_id"].tolist() == ["A-100"]  # due 2026-06-30, not done


def test_roi_interval_follows_the_effect_interval():
    effects = pd.DataFrame({"action_id": ["A"], "series": ["reopen_rate"], "effect": [-0.075],
                            "ci_low": [-0.09], "ci_high": [-0.06], "done_at": ["2026-01-05"], "verdict": ["worked"]})
    weekly = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=10, freq="7D"), "kpi": "volume",
                           "value": 200.0, "n": 200})
    roi = improve.action_roi(effects, pd.DataFrame({"action_id": ["A"], "cost": [12000.0]}), weekly,
                             cost_per_contact=8.0).iloc[0]
    # 200 x 52 = 10,400 tickets a year; 7.5 % avoided = 780 reopens x 8 = 6,240; 0.06 -> 4,992; 0.09 -> 7,488
    assert roi["value"] == pytest.approx(6240) and roi["value_low"] == pytest.approx(4992)
    assert roi["value_high"] == pytest.approx(7488)
    assert roi["roi"] == pytest.approx((6240 - 12000) / 12000)
    none = improve.action_roi(effects, None, weekly, cost_per_contact=None).iloc[0]
    assert none["note"].startswith("not available: needs")


def test_churn_is_higher_after_a_bad_experience():
    churn = improve.churn_by_experience(checked_cycle("data/sample", "2026Q3")).set_index("experience")
    diff, low, high = churn.attrs["difference"]
    assert low > 0  # planted in the generator: 12 % against 4 % a cycle
    bad, other = churn.loc["transferred or reopened"], churn.loc["neither"]
    assert diff == pytest.approx(bad["churn"] - other["churn"])
    assert bad["churned"] / bad["customers"] == pytest.approx(bad["churn"])


def test_proposals_rank_findings_into_register_rows(tmp_path):
    found = [Finding("low thing", "n = 10", "low", 0.1, "20_kpi_scorecard", kind="kpi_change", kpi="csat"),
             Finding("Specialist queue grew", "n = 500", "high", 0.4, "10_process_stages", kind="bottleneck",
                     stage="Specialist level"),
             Finding("no proposal", "n = 5", "low", 0.1, "05_cycle_overview", kind="context")]
    findings.save(found, tmp_path, "x")
    out = improve.proposals(findings.load(tmp_path), cycle="2026Q3", next_cycle="2026Q4")
    assert out["title"].tolist() == [improve.PROPOSALS["bottleneck"], improve.PROPOSALS["kpi_change"]]
    assert out["action_id"].tolist() == ["P-2026Q3-01", "P-2026Q3-02"]
    assert set(out["status"]) == {"proposed"}
    register_columns = pd.read_csv("data/sample/2026Q3/actions.csv").columns
    assert set(register_columns) <= set(out.columns)


# ---------------------------------------------------------------- difference-in-differences

def _two_groups(effect: float, desk_wide: float, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2026-01-05", periods=30, freq="7D")
    rows = []
    for group in (True, False):
        after = weeks >= weeks[12]
        value = 0.14 + 0.0005 * np.arange(30) + desk_wide * after + (effect * after if group else 0)
        rows.append(pd.DataFrame({"week": weeks, "covered": group, "kpi": "reopen_rate",
                                  "value": value + rng.normal(0, 0.01, 30), "n": 150}))
    return pd.concat(rows, ignore_index=True)


def test_difference_in_differences_separates_the_action_from_a_desk_wide_change():
    import statsmodels.formula.api as smf

    split = _two_groups(effect=-0.07, desk_wide=-0.03)
    register = pd.DataFrame({"action_id": ["A-9"], "kpi": ["reopen_rate"], "done_at": [pd.Timestamp("2026-03-30")]})
    row = improve.action_effect(split[split["covered"]], register, split={"A-9": split}).iloc[0]
    assert row["method"].startswith("difference-in-differences")
    assert row["ci_low"] <= -0.07 <= row["ci_high"] and row["verdict"] == "worked"
    # the same model written with statsmodels' formula interface
    frame = split.assign(weeks=(split["week"] - split["week"].min()).dt.days / 7,
                         after=(split["week"] >= "2026-03-30").astype(float), covered=split["covered"].astype(float))
    fit = smf.wls("value ~ weeks + covered * after", frame, weights=frame["n"]).fit()
    assert row["effect"] == pytest.approx(fit.params["covered:after"])
    # an interrupted time series of the covered tickets alone would credit the desk-wide drop too
    its = improve.action_effect(split[split["covered"]], register).iloc[0]
    assert its["effect"] == pytest.approx(-0.10, abs=0.015)


def test_a_desk_wide_change_gives_no_evidence_for_a_partial_action():
    split = _two_groups(effect=0.0, desk_wide=-0.07)
    register = pd.DataFrame({"action_id": ["A-9"], "kpi": ["reopen_rate"], "done_at": [pd.Timestamp("2026-03-30")]})
    row = improve.action_effect(split[split["covered"]], register, split={"A-9": split}).iloc[0]
    assert row["verdict"] == "no evidence yet" and row["ci_low"] < 0 < row["ci_high"]


def test_on_the_sample_a101_said_to_cover_one_team_is_not_credited(sample_weekly, register):
    # A-101 lowered reopens for every team: against tier1_south, tier1_north shows no extra drop
    split = improve.weekly_by_coverage("data/sample", "2026Q3", {"team": ["tier1_north"]})
    effects = improve.action_effect(sample_weekly, register, timezone=TZ, split={"A-101": split}).set_index("action_id")
    assert effects.loc["A-101", "verdict"] == "no evidence yet"


def test_proposals_leave_out_an_action_that_worked():
    worked = Finding("Action A-101 worked", "n = 8,000", "low", 1.0, "50_improvement", kind="action_effect",
                     figures={"verdict": "worked"})
    worse = Finding("Action A-9 made it worse", "n = 900", "high", 0.5, "50_improvement", kind="action_effect",
                    action="Stop or rethink the action", figures={"verdict": "made it worse"})
    out = improve.proposals([worked, worse], cycle="2026Q3", next_cycle="2026Q4")
    assert out["title"].tolist() == ["Stop or rethink the action"]


@pytest.mark.slow
def test_the_review_page_shows_the_action_that_worked_and_saves_its_finding(sample_review):
    page = (sample_review / "50_improvement.html").read_text(encoding="utf-8")
    for anchor in ("action-effects", "roi", "churn", "control-charts", "register"):
        assert f'id="{anchor}"' in page
    assert "A-101" in page and "worked" in page
    saved = [f for f in findings.load(sample_review) if f.page == "50_improvement" and f.kind == "action_effect"]
    assert [f.figures["action_id"] for f in saved] == ["A-101"]
    assert saved[0].figures["ci_low"] <= -0.075 <= saved[0].figures["ci_high"]
    assert (sample_review.parent / improve.STORE_NAME).is_file()
    assert (sample_review / "proposals.csv").is_file()


# ------------------------------------------------------------ the page without an action register
def test_without_an_action_register_the_page_says_what_it_needs_and_where_to_put_it(tmp_path):
    import shutil

    from cxassess.cycles import load_cycle

    desk = tmp_path / "desk"
    desk.mkdir()
    shutil.copy("data/sample/review.yml", desk / "review.yml")
    shutil.copytree("data/sample/2026Q3", desk / "2026Q3", ignore=shutil.ignore_patterns("actions.csv"))
    cycle = load_cycle(desk, "2026Q3")
    assert cycle.actions is None
    why = improve.register_needs(cycle)
    assert why.startswith("not available: needs `actions` (no such table in this cycle)")
    assert "desk/2026Q3/actions.csv" in why and str(tmp_path) not in why  # where to put it, no machine path
    for column in ("action_id", "title", "opened_cycle"):
        assert column in why
    # an empty register (the header alone) has nothing to show either
    pd.read_csv("data/sample/2026Q3/actions.csv").iloc[:0].to_csv(desk / "2026Q3" / "actions.csv", index=False)
    empty = load_cycle(desk, "2026Q3")
    assert empty.actions is not None and len(empty.actions) == 0
    assert improve.register_needs(empty).startswith("not available: needs an action in `actions`")
    assert improve.register_needs(load_cycle("data/sample", "2026Q3")) is None

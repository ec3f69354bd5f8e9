"""Quality audits (cxassess.audit): IQS, intervals, served gaps, calibration, sources, sampling.

Every expected value is computed here independently: by hand, with pandas on the raw CSV,
with statsmodels or with the krippendorff package.
"""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa
from statsmodels.stats.proportion import confint_proportions_2indep

from cxassess import audit
from cxassess.cycles import load_cycle
from cxassess.synth import SampleSpec, write_sample

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CYCLES = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")

CARD = audit.scorecard([
    {"criterion": "sop", "section": "management", "weight": 3, "impact": "high", "auto_fail": True},
    {"criterion": "flow", "section": "management", "weight": 2, "impact": "high"},
    {"criterion": "tag", "section": "management", "weight": 1, "na": "pass"},
    {"criterion": "warm", "section": "communication", "weight": 1, "na": "fail"},
    {"criterion": "clear", "section": "communication", "weight": 1},
])


def _audits(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["audit_id", "agent_id", "criterion", "result"]).assign(
        ticket_id=lambda d: "T-" + d["audit_id"])


def test_iqs_per_audit_by_hand():
    a = _audits([
        # A: flow fails (2 of 8 points), tag na counts as pass, clear na is excluded: 6/7
        ("A", "x", "sop", "pass"), ("A", "x", "flow", "fail"), ("A", "x", "tag", "na"),
        ("A", "x", "warm", "pass"), ("A", "x", "clear", "na"),
        # B: warm na counts as a fail: (3+2+1+0+1)/8; C: sop fails: auto-fail, 0
        ("B", "x", "sop", "pass"), ("B", "x", "flow", "pass"), ("B", "x", "tag", "pass"),
        ("B", "x", "warm", "na"), ("B", "x", "clear", "pass"),
        ("C", "y", "sop", "fail"), ("C", "y", "flow", "pass"), ("C", "y", "tag", "pass"),
        ("C", "y", "warm", "pass"), ("C", "y", "clear", "pass"),
    ])
    scores = audit.audit_scores(audit.audit_items(a, CARD)).set_index("audit_id")
    assert scores.loc["A", "iqs"] == pytest.approx((3 + 0 + 1 + 1) / 7)
    assert scores.loc["B", "iqs"] == pytest.approx(7 / 8)
    assert scores.loc["C", "raw_score"] == pytest.approx(5 / 8) and scores.loc["C", "iqs"] == 0.0
    assert scores["high_impact_errors"].tolist() == [1, 0, 1]
    by_agent = audit.quality_scores(audit.audit_items(a, CARD), "agent_id", boot=200).set_index("agent_id")
    assert by_agent.loc["x", "iqs"] == pytest.approx((5 / 7 + 7 / 8) / 2)
    sections = audit.quality_scores(audit.audit_items(a, CARD), "section", boot=200).set_index("section")
    # communication: A (warm pass, clear excluded) 1; B (warm na = fail, clear pass) 1/2; C 1
    assert sections.loc["communication", "iqs"] == pytest.approx((1 + 0.5 + 1) / 3)
    rate = audit.high_impact_rate(audit.audit_items(a, CARD))
    assert (rate["audits"].item(), rate["with_error"].item()) == (3, 2)


def _simulated(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Audits with an audit-level random effect: the criteria of one audit fail together."""
    names = CARD["criterion"].tolist()
    base = np.array([0.05, 0.10, 0.08, 0.12, 0.10])
    frail = rng.gamma(2.0, 0.5, n)  # mean 1: some audits fail much more than others
    p = np.clip(base[None, :] * frail[:, None] * 1.5, 0, 0.95)
    u = rng.random((n, len(names)))
    result = np.where(u < 0.03, "na", np.where(u < 0.03 + p, "fail", "pass"))
    return pd.DataFrame({"audit_id": np.repeat([f"A{i:04d}" for i in range(n)], len(names)),
                         "ticket_id": np.repeat([f"T{i:04d}" for i in range(n)], len(names)),
                         "agent_id": "x", "criterion": np.tile(names, n), "result": result.ravel()})


def test_iqs_interval_covers_the_true_score_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    truth = audit.audit_scores(audit.audit_items(_simulated(rng, 60_000), CARD))["iqs"].mean()
    reps, n = 300, 80
    draws = _simulated(rng, reps * n)  # one draw of 80 audits per "agent": each gets its own interval
    draws["agent_id"] = np.repeat([f"draw{i:03d}" for i in range(reps)], n * len(CARD))
    q = audit.quality_scores(audit.audit_items(draws, CARD), "agent_id", boot=1000)
    assert (q["audits"] == n).all()
    hits = int(((q["low"] <= truth) & (truth <= q["high"])).sum())
    print(f"coverage {hits / reps:.3f} over {reps} draws")
    assert 0.915 <= hits / reps <= 0.98, hits / reps


def test_change_verdict_and_target_status():
    now = pd.DataFrame({"team": ["a", "b"], "audits": [100, 100], "iqs": [0.70, 0.90],
                        "low": [0.65, 0.85], "high": [0.75, 0.95]})
    old = now.assign(iqs=[0.85, 0.91], low=[0.80, 0.86], high=[0.90, 0.96])
    out = audit.compare_scores(now, old, "team").set_index("team")
    se = (0.10 / (2 * 1.959964)) * np.sqrt(2)
    assert out.loc["a", "change_low"] == pytest.approx(-0.15 - 1.959964 * se, abs=1e-6)
    assert out["verdict"].tolist() == ["worsened", "within noise"]
    q = audit.quality_scores(audit.audit_items(_simulated(np.random.default_rng(3), 400), CARD), boot=300,
                             target=0.99)
    assert q["status"].item() == "missed"


def test_criterion_gap_interval_is_newcombes_at_the_widened_level():
    rows = ([("s", "fail")] * 15 + [("s", "pass")] * 25 + [("n", "fail")] * 3 + [("n", "pass")] * 57)
    a = pd.DataFrame({"audit_id": [f"A{i}" for i in range(len(rows))], "ticket_id": "T", "agent_id": "x",
                      "criterion": "flow", "result": [r[1] for r in rows]})
    items = audit.audit_items(a, audit.scorecard([{"criterion": "flow"}])).assign(team=[r[0] for r in rows])
    gaps = audit.criterion_gaps(items).set_index("team")
    low, high = confint_proportions_2indep(15, 40, 3, 60, method="newcomb", compare="diff", alpha=0.05 / 2)
    assert gaps.loc["s", "gap"] == pytest.approx(15 / 40 - 3 / 60)
    assert (gaps.loc["s", "gap_low"], gaps.loc["s", "gap_high"]) == pytest.approx((low, high), abs=1e-9)
    assert gaps["beyond_noise"].to_dict() == {"n": False, "s": True}


# ------------------------------------------------------------------- the sample (truth 8)
@pytest.fixture(scope="module")
def sample_cycles():
    return {c: load_cycle(SAMPLE, c) for c in CYCLES}


@pytest.fixture(scope="module")
def without_truth_8(tmp_path_factory):
    root = write_sample(tmp_path_factory.mktemp("no8"), SampleSpec(truths=(1, 2, 3, 4, 5, 9)))
    return {c: load_cycle(root, c) for c in CYCLES}


@pytest.fixture(scope="module")
def without_truth_9(tmp_path_factory):
    root = write_sample(tmp_path_factory.mktemp("no9"), SampleSpec(truths=(1, 2, 3, 4, 5, 8)))
    return {c: load_cycle(root, c) for c in CYCLES}


def _audit_gaps(found):
    return [(f.team, f.figures["criterion"]) for f in found
            if f.kind == "served_gap" and f.figures.get("source") == "audits"]


def test_truth_8_the_package_finds_tier1_south_in_2026q3_and_nowhere_else(sample_cycles):
    for i, label in enumerate(CYCLES):
        before = sample_cycles[CYCLES[i - 1]] if i else None
        gaps = _audit_gaps(audit.findings(sample_cycles[label], before, boot=200))
        assert gaps == ([("tier1_south", "flow_followed")] if label == "2026Q3" else []), (label, gaps)


def test_truth_8_figures_match_the_raw_files():
    raw = pd.read_csv(SAMPLE / "2026Q3" / "audits.csv")
    raw = raw[raw.get("session", pd.Series(index=raw.index, dtype=object)).isna()]
    teams = pd.read_csv(SAMPLE / "2026Q3" / "tickets.csv", usecols=["ticket_id", "team"])
    flow = raw[(raw["criterion"] == "flow_followed") & raw["result"].isin(["pass", "fail"])].merge(teams)
    south = flow[flow["team"] == "tier1_south"]
    rest = flow[flow["team"] != "tier1_south"]
    table = audit.planned_served_received(load_cycle(SAMPLE, "2026Q3")).set_index(["team", "measure"])
    row = table.loc[("tier1_south", "QA: flow_followed passed")]
    assert row["n"] == len(south) and row["value"] == pytest.approx((south["result"] == "pass").mean())
    assert row["rest_value"] == pytest.approx((rest["result"] == "pass").mean())
    assert row["below_rest"]


def test_planned_served_received_shows_tier1_souths_gap_in_2026q3_only(sample_cycles):
    for label, cycle in sample_cycles.items():
        table = audit.planned_served_received(cycle)
        assert set(table["level"]) == {"served", "received"}
        qa_below = table[table["below_rest"] & table["measure"].str.startswith("QA: ")]
        expected = [("tier1_south", "QA: flow_followed passed")] if label == "2026Q3" else []
        assert list(zip(qa_below["team"], qa_below["measure"], strict=True)) == expected, label
        assert not table[table["below_rest"]]["team"].eq("tier1_north").any()
        if label != "2026Q3":
            assert not table["below_rest"].any(), table[table["below_rest"]]


def test_without_truth_8_no_served_quality_gap(without_truth_8):
    for i, label in enumerate(CYCLES):
        before = without_truth_8[CYCLES[i - 1]] if i else None
        assert _audit_gaps(audit.findings(without_truth_8[label], before, boot=200)) == [], label


def test_stage_gaps_show_the_specialist_queue_in_2026q3(sample_cycles):
    table = audit.stage_gaps(sample_cycles["2026Q3"], sample_cycles["2026Q2"]).set_index("stage")
    assert table.loc["specialist", "verdict"] == "worsened"
    assert (table["verdict"] == "worsened").sum() == 1
    earlier = audit.stage_gaps(sample_cycles["2026Q2"], sample_cycles["2026Q1"])
    assert not (earlier["verdict"] == "worsened").any()


def test_stage_gaps_keep_no_event_log_of_the_previous_cycle_and_build_the_current_one_once(
        sample_cycles, tmp_path, monkeypatch):
    """Both cycles read from stored tables, as in a review: the stage gaps read the previous
    cycle's event log for themselves and let it go; the current cycle's log is built once
    and kept for planned vs served by team, the page's next section (it was built twice);
    the table equals the one from cycles holding their logs."""
    from cxassess import process
    from cxassess.cycles import store_tables, stored_cycle

    now, before = (stored_cycle(c.config, c.label, tmp_path / c.label, store_tables(c, tmp_path / c.label))
                   for c in (sample_cycles["2026Q3"], sample_cycles["2026Q2"]))
    built = []
    real = process.process_log
    def counted(events, *args, **kwargs):
        if isinstance(events, pd.DataFrame):  # a log being built (a ProcessLog is returned as it is)
            built.append(len(events))
        return real(events, *args, **kwargs)

    monkeypatch.setattr(process, "process_log", counted)
    table = audit.stage_gaps(now, before)
    assert "events" not in before.tables._frames and ("process_log",) in now.computed
    audit.planned_served_received(now)
    assert built == [len(sample_cycles["2026Q2"].events), len(sample_cycles["2026Q3"].events)]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(table, audit.stage_gaps(sample_cycles["2026Q3"], sample_cycles["2026Q2"]))


# ---------------------------------------------------------------------------- calibration
def _cal(matrix: list[list[str | None]]) -> pd.DataFrame:
    """Rows of raters × tickets (criterion ``c``); ``None``: not scored."""
    rows = [(f"T{j}", f"r{i}", v) for i, row in enumerate(matrix) for j, v in enumerate(row) if v is not None]
    out = pd.DataFrame(rows, columns=["ticket_id", "auditor_id", "result"]).assign(criterion="c")
    out["points"] = np.where(out["result"] == "pass", 1.0, 0.0)
    return out


def _hand_alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) by its coincidence matrix."""
    o = np.zeros((2, 2))
    for unit in matrix.T:
        v = unit[~np.isnan(unit)].astype(int)
        m = len(v)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[v[i], v[j]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = o[0, 1] + o[1, 0]
    d_e = 2 * n_c[0] * n_c[1] / (n - 1)
    return 1 - (n - 1) * d_o / (2 * n_c[0] * n_c[1]) if d_e else np.nan


def test_alpha_and_kappas_equal_the_libraries_and_hand_computation():
    p, f = "pass", "fail"
    m = [[p, p, f, f, p, f, p, p, f, p],
         [p, f, f, f, p, f, p, p, p, p],
         [p, p, f, p, p, f, p, None, f, p]]
    cal = _cal(m)
    numeric = np.array([[np.nan if v is None else float(v == p) for v in row] for row in m])
    table = audit.agreement(cal, boot=100).set_index("criterion")
    alpha = krippendorff.alpha(reliability_data=numeric, level_of_measurement="nominal")
    assert table.loc["c", "alpha"] == pytest.approx(alpha) == pytest.approx(_hand_alpha(numeric))
    complete = numeric[:, ~np.isnan(numeric).any(axis=0)].T.astype(int)
    counts, _ = aggregate_raters(complete, n_cat=2)
    # Fleiss by hand: P_i = (sum n_ij^2 - n) / (n(n-1)); P_e = sum p_j^2
    n = 3
    p_i = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    hand = (p_i.mean() - (p_j ** 2).sum()) / (1 - (p_j ** 2).sum())
    assert table.loc["c", "fleiss_kappa"] == pytest.approx(fleiss_kappa(counts)) == pytest.approx(hand)
    assert table.loc["c", "alpha_low"] <= table.loc["c", "alpha"] <= table.loc["c", "alpha_high"]
    pairs = audit.pairwise_kappa(cal).set_index(["auditor", "other"])
    x, y = numeric[0], numeric[1]
    po = (x == y).mean()
    pe = x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())
    assert pairs.loc[("r0", "r1"), "kappa"] == pytest.approx((po - pe) / (1 - pe))
    ct = pd.crosstab(x, y).to_numpy()
    res = cohens_kappa(ct)
    assert pairs.loc[("r0", "r1"), "low"] == pytest.approx(res.kappa - 1.959964 * res.std_kappa, abs=1e-5)


def test_the_lenient_auditor_is_flagged_and_no_other():
    rng = np.random.default_rng(5)
    truth = rng.random((30, 7)) < 0.25  # 30 tickets x 7 criteria: True = fail
    rows = []
    for rater in ("anna", "ben", "chiyo", "dmitri"):
        flip = rng.random(truth.shape) < 0.04
        seen = truth ^ flip
        if rater == "dmitri":
            seen = seen & (rng.random(truth.shape) < 0.35)  # passes most of what should fail
        for t in range(truth.shape[0]):
            for c in range(truth.shape[1]):
                rows.append((f"T{t}", f"c{c}", rater, "fail" if seen[t, c] else "pass"))
    cal = pd.DataFrame(rows, columns=["ticket_id", "criterion", "auditor_id", "result"])
    cal["points"] = np.where(cal["result"] == "pass", 1.0, 0.0)
    bias = audit.auditor_bias(cal).set_index("auditor")
    assert bias["verdict"].to_dict() == {"anna": "within noise", "ben": "within noise", "chiyo": "within noise",
                                         "dmitri": "lenient"}
    # the bias is the auditor's pass rate minus the others' average on the same items, by hand;
    # dmitri, out of line, is left out of the others' average when anna is judged
    wide = cal.pivot_table(index=["ticket_id", "criterion"], columns="auditor_id", values="points")
    assert bias.loc["dmitri", "bias"] == pytest.approx((wide["dmitri"] - wide[["anna", "ben", "chiyo"]].mean(axis=1)).mean())
    assert bias.loc["anna", "bias"] == pytest.approx((wide["anna"] - wide[["ben", "chiyo"]].mean(axis=1)).mean())
    # its interval: clusters = tickets, t with 29 degrees of freedom at 1 - 0.05/4
    d = (wide["dmitri"] - wide[["anna", "ben", "chiyo"]].mean(axis=1)).groupby(level=0).agg(["sum", "size"])
    mean = d["sum"].sum() / d["size"].sum()
    se = np.sqrt(30 / 29 * ((d["sum"] - mean * d["size"]) ** 2).sum()) / d["size"].sum()
    from scipy import stats as st
    assert bias.loc["dmitri", "low"] == pytest.approx(mean - st.t.ppf(1 - 0.0125 / 2, 29) * se)


def _flagged(cycle) -> dict:
    card = audit.scorecard(cycle.config, cycle.audits)
    bias = audit.auditor_bias(audit.calibration_items(cycle.audits, card, cycle.tickets))
    return dict(zip(bias["auditor"], bias["verdict"], strict=True))


def test_truth_9_the_package_finds_the_lenient_auditor_and_no_other(sample_cycles):
    for label, cycle in sample_cycles.items():
        assert _flagged(cycle) == {"qa-anna": "within noise", "qa-ben": "within noise",
                                   "qa-chiyo": "within noise", "qa-dmitri": "lenient"}, label
        found = [f for f in audit.findings(cycle, boot=200) if f.kind == "calibration"]
        assert [f.figures["auditor"] for f in found] == ["qa-dmitri"], label
        # the IQS leaves the calibration rows out: the regular audits only
        items = audit.audit_items(cycle.audits, audit.scorecard(cycle.config, cycle.audits), cycle.tickets)
        assert items["session"].isna().all() and "qa-dmitri" not in set(items["auditor_id"])


def test_without_truth_9_no_auditor_is_flagged(without_truth_9):
    for label, cycle in without_truth_9.items():
        assert set(_flagged(cycle).values()) == {"within noise"}, label


def test_calibration_agreement_on_the_sample_matches_krippendorff(sample_cycles):
    q3 = sample_cycles["2026Q3"]
    cal = audit.calibration_items(q3.audits, audit.scorecard(q3.config, q3.audits), q3.tickets)
    raw = pd.read_csv(SAMPLE / "2026Q3" / "audits.csv")
    raw = raw[raw["session"].notna() & raw["result"].isin(["pass", "fail"])]
    wide = raw.assign(v=(raw["result"] == "pass").astype(float)).pivot_table(
        index=["ticket_id", "criterion"], columns="auditor_id", values="v")
    table = audit.agreement(cal, boot=100).set_index("criterion")
    expected = krippendorff.alpha(reliability_data=wide.to_numpy().T, level_of_measurement="nominal")
    assert table.loc["all", "alpha"] == pytest.approx(expected)
    assert table.loc["all", "alpha_low"] < table.loc["all", "alpha"] < table.loc["all", "alpha_high"]


# ------------------------------------------------------------- sources, process, sampling
def test_label_vs_process_kappa_is_statsmodels():
    a = pd.DataFrame({"audit_id": list("ABCDEFGH"), "ticket_id": list("ABCDEFGH"), "agent_id": "x",
                      "criterion": "flow_followed", "result": ["pass"] * 5 + ["fail"] * 3})
    log = pd.DataFrame({"ticket_id": list("ABCDEFGH"), "conforms": [True] * 4 + [False] * 3 + [True]})
    r = audit.label_vs_process(audit.audit_items(a, audit.scorecard([{"criterion": "flow_followed"}])), log)
    assert r["table"].to_numpy().tolist() == [[4, 1], [1, 2]]
    assert r["kappa"] == pytest.approx(cohens_kappa(np.array([[4, 1], [1, 2]])).kappa)


def test_sampling_adequacy_and_next_sample():
    items = audit.audit_items(_simulated(np.random.default_rng(2), 50), CARD)
    scores = audit.audit_scores(items)
    t = audit.sampling_adequacy(items, precision=0.05)
    sd = scores["iqs"].std(ddof=1)
    assert t["needed"].iloc[0] == int(np.ceil((1.959964 * sd / 0.05) ** 2))
    assert not t["enough"].any() and t["missing"].iloc[0] == t["needed"].iloc[0] - 50
    tickets = pd.DataFrame({"agent_id": ["x"] * 500, "channel": ["chat"] * 400 + ["email"] * 100})
    plan = audit.next_sample(t, tickets).set_index("channel")["suggested"]
    assert plan.sum() == pytest.approx(t["needed"].iloc[0], abs=1) and plan["chat"] > plan["email"]


def test_coaching_list_and_sources_on_the_sample(sample_cycles):
    q3 = sample_cycles["2026Q3"]
    items = audit.audit_items(q3.audits, audit.scorecard(q3.config, q3.audits), q3.tickets)
    sources = audit.sources_compared(items)
    assert set(sources["source"]) <= {"qa", "mystery_shop", "recording"} and not sources["disagrees"].any()
    coach = audit.coaching_list(items)
    assert list(coach.columns[:3]) == ["agent_id", "team", "criterion"]


def test_pseudonyms_are_stable_across_tables():
    ids = ["south-05", "north-01", "north-02"]
    a = audit.pseudonymise(pd.DataFrame({"agent_id": ["south-05"]}), ids)
    b = audit.pseudonymise(pd.DataFrame({"agent_id": ["north-01", "south-05"]}), ids)
    assert a["agent_id"].item() == b["agent_id"].iloc[1] == "agent 03" and b["agent_id"].iloc[0] == "agent 01"


def test_findings_speak_plainly_and_link_to_the_page(sample_cycles):
    found = audit.findings(sample_cycles["2026Q3"], sample_cycles["2026Q2"], boot=200)
    assert found and all(f.page == audit.PAGE and f.anchor for f in found)
    assert not any("_rate" in f.what or "iqs" in f.what for f in found)


# ------------------------------------------------------------------ the page in a review run
@pytest.mark.slow
def test_the_page_renders_in_the_review_run_and_saves_its_findings(sample_review):
    import json

    page = (sample_review / "40_quality_audits.html").read_text(encoding="utf-8")
    assert "Traceback" not in page and "cx.audit" not in page
    for anchor in ("quality-score", "planned-served-received", "calibration", "sampling", "coaching"):
        assert f'id="{anchor}"' in page, anchor
    assert "qa-dmitri" in page and "Krippendorff" in page
    saved = json.loads((sample_review / "findings" / "40_quality_audits.json").read_text(encoding="utf-8"))
    gaps = [f for f in saved["findings"] if f["kind"] == "served_gap" and f["figures"].get("source") == "audits"]
    assert [(f["team"], f["figures"]["criterion"]) for f in gaps] == [("tier1_south", "flow_followed")]


@pytest.mark.slow
def test_without_audits_the_page_says_what_it_needs(tmp_path):
    import shutil

    from cxassess.report import run_review

    data = tmp_path / "desk"
    data.mkdir()
    shutil.copy(SAMPLE / "review.yml", data / "review.yml")
    for label in ("2026Q2", "2026Q3"):
        shutil.copytree(SAMPLE / label, data / label, ignore=shutil.ignore_patterns("audits.csv"))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "notebooks" / "40_quality_audits.ipynb", notebooks)
    report = run_review(data, "2026Q3", notebooks=notebooks, reports=tmp_path / "reports", echo=lambda _: None)
    page = (report / "40_quality_audits.html").read_text(encoding="utf-8")
    assert "not available: needs <code>audits</code> (no such table in this cycle)" in page
    assert "Traceback" not in page
    # the team rows that need no audits are still there
    assert "SLA attainment" in page and "CSAT (top-box share)" in page


def test_pseudonyms_of_a_column_with_missing_and_unknown_agents_by_hand():
    """Numbered in the sorted order of the page's agents; an agent the page does not know is
    "agent (other)"; a missing agent stays missing; the frame given is left as it was."""
    frame = pd.DataFrame({"agent_id": pd.Series(["south-05", None, "east-09", "north-01", "south-05"], dtype="str"),
                          "n": range(5)})
    shown = audit.pseudonymise(frame, ["south-05", "north-01"])
    assert shown["agent_id"].fillna("-").tolist() == ["agent 02", "-", "agent (other)", "agent 01", "agent 02"]
    assert frame["agent_id"].iloc[0] == "south-05" and shown["n"].tolist() == list(range(5))


def test_review_yml_switch_pseudonymises_agents_in_every_table(tmp_path):
    import shutil

    import yaml

    shutil.copytree(SAMPLE / "2026Q3", tmp_path / "2026Q3")
    raw = yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8"))
    raw["qa"]["pseudonymise_agents"] = True
    (tmp_path / "review.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cycle = audit.for_page(load_cycle(tmp_path, "2026Q3"))
    real = set(pd.read_csv(SAMPLE / "2026Q3" / "audits.csv")["agent_id"])
    for table in ("audits", "tickets", "events"):
        shown = set(cycle.tables[table]["agent_id"].dropna())
        assert shown and not shown & real and all(a.startswith("agent ") for a in shown), table
    # the same agent has the same pseudonym in audits and tickets
    joined = cycle.audits[["ticket_id", "agent_id"]].merge(cycle.tickets[["ticket_id", "agent_id"]], on="ticket_id")
    assert (joined["agent_id_x"] == joined["agent_id_y"]).all()


# ------------------------------------------------- moves out of a stage as designed (by hand)
def _stage_cycle(transitions: list[list[str]] | None, events: list[tuple[str, str, str]]):
    """A two-stage desk (a -> b designed) whose event log is ``events`` (ticket, stage, time)."""
    from cxassess.config import ReviewConfig
    from cxassess.cycles import Cycle, cycle_window

    process = {"stages": [{"name": "a", "label": "A", "lane": "L", "target_hours": 2},
                          {"name": "b", "label": "B", "lane": "L"}],
               "activities": {"in a": "a", "in b": "b"}}
    if transitions is not None:
        process["transitions"] = transitions
    config = ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC", "process": process})
    ev = pd.DataFrame(events, columns=["ticket_id", "stage", "timestamp"])
    ev = ev.assign(activity="in " + ev["stage"], timestamp=pd.to_datetime(ev["timestamp"], utc=True))
    start, end = cycle_window("2026Q3", "UTC")
    return Cycle(config, "2026Q3", "2026Q2", start, end, {"events": ev})


# T1 and T2 move a -> b (designed), T3 moves b -> a (not designed)
_MOVES = [("T1", "a", "2026-07-01 08:00"), ("T1", "b", "2026-07-01 09:00"),
          ("T2", "a", "2026-07-01 08:00"), ("T2", "b", "2026-07-01 08:30"),
          ("T3", "b", "2026-07-01 08:00"), ("T3", "a", "2026-07-01 10:00")]


def test_moves_out_as_designed_by_hand_and_not_available_without_a_designed_flow():
    designed = _stage_cycle([["a", "b"]], _MOVES)
    table = audit.stage_gaps(designed).set_index("stage")
    assert table.loc["a", "moves_out"] == 2 and table.loc["a", "allowed_share"] == 1.0  # 2 of 2
    assert table.loc["b", "moves_out"] == 1 and table.loc["b", "allowed_share"] == 0.0  # 0 of 1
    assert audit.moves_needs(designed, table) is None
    # no transitions in review.yml: nothing says which moves are designed, so no share (not 100 %)
    undesigned = _stage_cycle(None, _MOVES)
    table = audit.stage_gaps(undesigned).set_index("stage")
    assert table[["allowed_share", "allowed_low", "allowed_high"]].isna().all().all()
    assert table["moves_out"].to_dict() == {"a": 2, "b": 1}  # the moves themselves are still counted
    assert audit.moves_needs(undesigned, table) == "not available: needs `review.yml process.transitions`"
    shown = audit_table_text(table.reset_index())
    assert "100.0%" not in shown and "0.0%" not in shown


def test_moves_out_as_designed_without_any_move_in_the_log_is_not_available():
    # every ticket stays in the stage it entered: no move out of any stage
    still = _stage_cycle([["a", "b"]], [("T1", "a", "2026-07-01 08:00"), ("T2", "b", "2026-07-01 09:00")])
    table = audit.stage_gaps(still)
    assert table["moves_out"].tolist() == [0, 0] and table["allowed_share"].isna().all()
    sentence = audit.moves_needs(still, table)
    assert sentence.startswith("not available: needs ") and "move from one stage to another" in sentence
    assert "0.0%" not in audit_table_text(table)


def audit_table_text(table: pd.DataFrame) -> str:
    """The "moves out as designed" column of the page's stage table, as shown."""
    from cxassess.plots import audit_table

    shown = audit_table(table, "stage_gaps").data
    return " ".join(map(str, shown["Moves out as designed"]))


# ------------------------------------------- why the planned / served / received tables are empty
def _desk(tables: dict, settings: dict | None = None):
    from cxassess.config import ReviewConfig
    from cxassess.cycles import Cycle, cycle_window

    config = ReviewConfig(Path("desk/review.yml"), {"timezone": "UTC", **(settings or {})})
    start, end = cycle_window("2026Q3", "UTC")
    return Cycle(config, "2026Q3", "2026Q2", start, end, tables)


_TEAMS = pd.DataFrame({"ticket_id": ["A", "B"], "team": ["north", "south"],
                       "created_at": pd.to_datetime(["2026-07-01 08:00", "2026-07-02 08:00"], utc=True)})


def test_the_team_gaps_name_the_input_actually_missing():
    # no team column: the team is what is missing
    no_team = _desk({"tickets": _TEAMS.drop(columns="team")})
    assert audit.planned_served_received(no_team).empty
    assert audit.team_gaps_needs(no_team, audit.planned_served_received(no_team)) == (
        "not available: needs `tickets.team` (no such column)")
    # the team is there: what is missing is every measure's own input, and tickets.team is not named
    teams_only = _desk({"tickets": _TEAMS})
    gaps = audit.planned_served_received(teams_only)
    assert gaps.empty
    why = audit.team_gaps_needs(teams_only, gaps)
    assert why.startswith("not available: needs ") and "tickets.team" not in why
    for named in ("`review.yml sla`", "`events` (no such table in this cycle)", "`review.yml process.transitions`",
                  "`audits` (no such table in this cycle)", "`surveys` (no such table in this cycle)"):
        assert named in why, named
    # an SLA policy counted on the business clock, without working hours: those are named
    business = _desk({"tickets": _TEAMS}, {"sla": [{"name": "reply", "metric": "first_response", "hours": 8,
                                                    "clock": "business"}]})
    why = audit.team_gaps_needs(business, audit.planned_served_received(business))
    assert "`review.yml calendar.working_hours`" in why and "`review.yml sla`" not in why
    # a table with rows needs no sentence
    assert audit.team_gaps_needs(teams_only, pd.DataFrame({"team": ["north"]})) is None


def test_the_stage_table_names_the_input_actually_missing():
    no_events = _desk({"tickets": _TEAMS})
    assert audit.stage_gaps_needs(no_events, audit.stage_gaps(no_events)) == (
        "not available: needs `events` (no such table in this cycle), `review.yml process`")
    with_events = _desk({"tickets": _TEAMS, "events": pd.DataFrame({"ticket_id": ["A"]})})
    assert audit.stage_gaps_needs(with_events, audit.stage_gaps(with_events)) == (
        "not available: needs `review.yml process`")
    assert audit.stage_gaps_needs(with_events, pd.DataFrame({"stage": ["a"]})) is None


def test_the_team_csat_and_the_weekly_csat_are_named_as_the_scorecard_names_csat(sample_cycles):
    """The summary called one KPI three names: "CSAT (top-box share)" (scorecard, tiles,
    glossary: the top two boxes), "CSAT (top box)" (a team's received quality) and "CSAT
    (top-2 box)" (the weekly chart), while the voice-of-customer page calls "top box" the best
    answer only. The team's figure is the 4-5 share (by hand below), named as the scorecard names it."""
    from cxassess import improve

    table = audit.planned_served_received(sample_cycles["2026Q3"])
    received = table[table["level"] == "received"]
    assert sorted(set(received["measure"])) == ["CES: agree it was easy", "CSAT (top-box share)"]
    # by hand: tier1_south's CSAT answers of 2026Q3 (team of the ticket), 4 or 5 of 5
    tickets = pd.read_csv(SAMPLE / "2026Q3" / "tickets.csv")
    surveys = pd.read_csv(SAMPLE / "2026Q3" / "surveys.csv").merge(tickets[["ticket_id", "team"]], on="ticket_id")
    south = surveys[(surveys["kind"] == "csat") & surveys["score"].notna() & (surveys["team"] == "tier1_south")]
    row = received[(received["team"] == "tier1_south") & (received["measure"] == "CSAT (top-box share)")].iloc[0]
    assert row["n"] == len(south) and row["value"] == pytest.approx((south["score"] >= 4).mean())
    assert improve.WEEKLY_KPIS["csat"] == "CSAT (top-box share)"


def test_sla_attainment_per_team_in_the_gap_table_equals_a_count_of_each_policys_outcomes(sample_cycles):
    """Served: SLA attainment per team over every policy, counted from the policies' codes,
    equals plain pandas counting ``sla_outcome`` (text per ticket and policy): achieved over
    achieved + breached, a ticket covered by two policies counted twice, pending ones out."""
    from cxassess.calendar import BusinessCalendar
    from cxassess.kpis.sla import OUTCOMES, outcome_codes, sla_outcome

    cycle = sample_cycles["2026Q3"]
    tickets, calendar = cycle.tickets, BusinessCalendar.from_config(cycle.config)
    long = pd.concat([pd.DataFrame({"team": tickets["team"].to_numpy(),
                                    "outcome": sla_outcome(tickets, p, censor_at=cycle.end, calendar=calendar)})
                      for p in cycle.config.sla], ignore_index=True)
    long = long[long["outcome"].isin(["achieved", "breached"])]
    expected = long.groupby("team")["outcome"].agg(n="size", hits=lambda o: int((o == "achieved").sum()))
    assert len(cycle.config.sla) >= 2 and len(expected) >= 2 and (expected["hits"] < expected["n"]).all()
    table = audit.planned_served_received(cycle)
    got = table[table["measure"] == "SLA attainment"].set_index("team")
    pd.testing.assert_series_equal(got["n"].astype("int64"), expected["n"].astype("int64"), check_names=False)
    assert np.allclose(got["value"], expected["hits"] / expected["n"])
    codes = outcome_codes(tickets, cycle.config.sla, censor_at=cycle.end, calendar=calendar)
    for policy, code in zip(cycle.config.sla, codes, strict=True):  # the codes are the outcomes' positions
        text = sla_outcome(tickets, policy, censor_at=cycle.end, calendar=calendar)
        assert [None if c < 0 else OUTCOMES[c] for c in code] == list(text)

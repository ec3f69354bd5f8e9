"""Voice of the customer: the package finds planted truths 1 (transfers drive
dissatisfaction) and 3 (respondents over-represent bad experiences), and neither where it is
switched off; every statistic is checked against statsmodels, scipy or a hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as st

from cxassess import voc
from cxassess.calendar import BusinessCalendar
from cxassess.cycles import load_cycle

from .conftest import SAMPLE

CYCLES = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")


def _covariates(data):
    return voc.ticket_covariates(data.tickets, calendar=BusinessCalendar.from_config(data.config))


# ------------------------------------------------------------------------------ drivers
def _planted_transfer_effect(data) -> float:
    """The generator's latent model (cxassess/synth.py, surveys): latent = 4.35 − 1.1·[transferred]
    − 0.4·[transferred twice] − 0.9·[reopened] − 0.25·log(1 + TTR days) + N(0, 0.75); a CSAT of
    4-5 is a latent of 3.5 or more. The effect of a first transfer on P(CSAT 4-5), holding
    each answering customer's reopen and resolution time, averaged over them."""
    answers = data.surveys[(data.surveys["kind"] == "csat") & data.surveys["score"].notna()]
    t = answers.merge(data.tickets, on="ticket_id")
    ttr_days = (t["resolved_at"] - t["created_at"]).dt.total_seconds().to_numpy() / 86400
    mu = 4.35 - 0.9 * (t["reopens"].to_numpy(dtype=float) > 0) - 0.25 * np.log1p(ttr_days)
    return float(np.mean(st.norm.cdf((mu - 1.1 - 3.5) / 0.75) - st.norm.cdf((mu - 3.5) / 0.75)))


@pytest.mark.parametrize("cycle", CYCLES)
def test_transfer_is_the_top_driver_and_its_interval_holds_the_planted_effect(cycle):
    data = load_cycle(SAMPLE, cycle)
    cov = _covariates(data)
    table = voc.drivers(data.surveys, cov, population=cov)
    top = table.iloc[0]
    assert top["driver"] == "transfers: once"
    planted = _planted_transfer_effect(data)
    assert -0.7 < planted < -0.35
    assert top["ci_low"] <= planted <= top["ci_high"], (planted, top["ci_low"], top["ci_high"])
    # prevalence and impact by hand
    share = float((data.tickets["transfers"] == 1).mean())
    assert top["prevalence"] == pytest.approx(share)
    assert top["impact"] == pytest.approx(share * top["effect"])


def test_without_planted_truth_1_transfers_drive_nothing(sample_with):
    root = sample_with(truths=(2, 3, 4, 5, 8))
    for cycle in CYCLES:
        data = load_cycle(root, cycle)
        cov = _covariates(data)
        table = voc.drivers(data.surveys, cov, population=cov).set_index("driver")
        for driver in ("transfers: once", "transfers: twice or more"):
            assert table.loc[driver, "ci_low"] <= 0 <= table.loc[driver, "ci_high"], (cycle, driver)
        found = voc.findings(driver_table=voc.drivers(data.surveys, cov, population=cov))
        assert not [f for f in found if "transfer" in f.what]


def test_odds_ratio_and_average_effect_by_hand_and_against_statsmodels():
    rng = np.random.default_rng(5)
    n = 800
    reopened = rng.random(n) < 0.3
    happy = rng.random(n) < np.where(reopened, 0.35, 0.75)
    c = pd.DataFrame({"ticket_id": range(n), "reopened": np.where(reopened, "yes", "no")})
    s = pd.DataFrame({"ticket_id": range(n), "kind": "csat", "scale": 5, "score": np.where(happy, 5, 2)})
    row = voc.drivers(s, c).iloc[0]
    a, b = (happy & reopened).sum(), (~happy & reopened).sum()
    cc, d = (happy & ~reopened).sum(), (~happy & ~reopened).sum()
    assert row["odds_ratio"] == pytest.approx((a / b) / (cc / d), rel=1e-6)  # the 2x2 cross-product
    assert row["effect"] == pytest.approx(happy[reopened].mean() - happy[~reopened].mean(), abs=1e-6)
    # delta-method interval: statsmodels' own discrete marginal effect
    x = pd.DataFrame({"const": 1.0, "r": reopened.astype(float)})
    margeff = sm.Logit(happy.astype(float), x).fit(disp=0).get_margeff(dummy=True).summary_frame()
    assert row["ci_low"] == pytest.approx(margeff.iloc[0]["Conf. Int. Low"], abs=1e-4)
    assert row["ci_high"] == pytest.approx(margeff.iloc[0]["Cont. Int. Hi."], abs=1e-4)


def test_a_driver_finding_names_its_tickets_as_a_cx_lead_says_it():
    """'Tickets transferred once cost CSAT: their customers are 50 pp less often satisfied',
    not 'transfers: once costs CSAT: customers with it ...'; the points are the difference of
    the two groups' satisfied shares, worked out by hand."""
    rng = np.random.default_rng(3)
    n = 600
    moved = rng.random(n) < 0.3
    happy = rng.random(n) < np.where(moved, 0.3, 0.8)
    c = pd.DataFrame({"ticket_id": range(n), "transfer": np.where(moved, "once", "none")})
    s = pd.DataFrame({"ticket_id": range(n), "kind": "csat", "scale": 5, "score": np.where(happy, 5, 1)})
    (lead,) = voc.findings(driver_table=voc.drivers(s, c))
    points = 100 * (happy[~moved].mean() - happy[moved].mean())
    assert lead.what.startswith(f"Tickets transferred once cost CSAT: their customers are {points:.0f} pp less "
                                "often satisfied")
    assert lead.action == "Act on the tickets transferred once first: they cost the most satisfaction."
    assert [voc.ticket_group("channel", "chat"), voc.ticket_group("escalated", "yes"),
            voc.ticket_group("priority", "high")] == ["chat tickets", "tickets escalated to a specialist",
                                                       "high-priority tickets"]


def test_a_fact_identical_to_another_is_left_out_and_named():
    rng = np.random.default_rng(2)
    t = rng.random(300) < 0.3
    c = pd.DataFrame({"ticket_id": range(300), "transfer": np.where(t, "once", "none"),
                      "escalated": np.where(t, "yes", "no")})
    s = pd.DataFrame({"ticket_id": range(300), "kind": "csat", "scale": 5,
                      "score": np.where(rng.random(300) < np.where(t, 0.3, 0.8), 5, 1)})
    table = voc.drivers(s, c)
    assert table["fact"].tolist() == ["transfer"]
    assert table.attrs["left_out"] == ["escalated to a specialist"]


# ------------------------------------------------------------------------------ response bias
def test_reweighting_by_hand_on_one_fact():
    """With one fact the model of answering is saturated: each ticket's chance of answering is
    its group's answer rate, and the reweighted CSAT is each group's CSAT weighted by the
    surveys sent in it (Horvitz-Thompson/Hajek, computed by hand)."""
    rng = np.random.default_rng(11)
    n = 1200
    bad = rng.random(n) < 0.4
    answered = rng.random(n) < np.where(bad, 0.5, 0.15)
    kind = np.where(rng.random(n) < 0.7, "csat", "nps")
    score = np.where(kind == "csat", np.where(rng.random(n) < np.where(bad, 0.3, 0.8), 5, 2), 7)
    s = pd.DataFrame({"ticket_id": range(n), "kind": kind, "scale": np.where(kind == "csat", 5, 11),
                      "score": np.where(answered, score, np.nan)})
    c = pd.DataFrame({"ticket_id": range(n), "reopened": np.where(bad, "yes", "no")})
    r = voc.reweighted_score(s, c, boot=30)
    rate = pd.Series(answered).groupby(bad).mean()  # answer rate per group, all kinds
    csat = (kind == "csat") & answered
    weights = 1 / pd.Series(bad[csat]).map(rate).to_numpy()
    happy = (score[csat] >= 4).astype(float)
    assert r["raw"] == pytest.approx(happy.mean())
    assert r["reweighted"] == pytest.approx((weights * happy).sum() / weights.sum(), abs=1e-6)
    lo, hi = st.binomtest(int(happy.sum()), len(happy)).proportion_ci(method="wilson")
    assert (r["raw_low"], r["raw_high"]) == pytest.approx((lo, hi))
    assert r["biased"] and r["low"] < r["reweighted"] < r["high"]


@pytest.fixture(scope="module")
def truth_sample(sample_with):
    return sample_with(survey_truth=True)


@pytest.mark.parametrize("kind", ["csat", "nps"])
def test_planted_response_bias_is_found_and_the_reweighted_figure_moves_to_the_population(truth_sample, kind):
    data = load_cycle(truth_sample, "2026Q3")
    r = voc.reweighted_score(data.surveys, _covariates(data), kind=kind)
    truth = pd.read_csv(truth_sample / "_truth" / "2026Q3" / "surveys.csv")
    truth = truth[truth["kind"] == kind]
    if kind == "csat":
        population = float((truth["score"] >= 4).mean())
    else:
        population = 100 * float((truth["score"] >= 9).mean() - (truth["score"] <= 6).mean())
    assert r["biased"]
    assert r["sent"] == len(truth)
    raw_bias = r["raw"] - population
    assert abs(raw_bias) > (0.05 if kind == "csat" else 5)  # truth 3: the raw figure is far off
    assert abs(r["reweighted"] - population) <= 0.5 * abs(raw_bias)
    assert r["low"] <= population <= r["high"]


def test_truth_file_is_outside_the_cycles_and_the_sample_is_unchanged(truth_sample):
    from .conftest import tree

    assert (truth_sample / "_truth" / "2026Q3" / "surveys.csv").is_file()
    assert not list(truth_sample.glob("20*/*truth*"))
    for cycle in CYCLES:
        assert tree(truth_sample / cycle) == tree(SAMPLE / cycle)


def test_no_response_bias_without_planted_truth_3(sample_with):
    root = sample_with(truths=(1, 2, 4, 5, 8))
    for cycle in CYCLES:
        data = load_cycle(root, cycle)
        cov = _covariates(data)
        for kind in ("csat", "nps"):
            r = voc.reweighted_score(data.surveys, cov, kind=kind, boot=100)
            assert not r["biased"], (cycle, kind, r["shift_low"], r["shift_high"])
            assert voc.findings(bias=[r]) == []


def test_response_rates_and_balance_by_hand():
    data = load_cycle(SAMPLE, "2026Q3")
    cov = _covariates(data)
    rates = voc.response_rates(data.surveys, cov)
    row = rates[(rates["fact"] == "transfer") & (rates["value"] == "none")].iloc[0]
    s = data.surveys.merge(data.tickets, on="ticket_id")
    mine = s[s["transfers"] == 0]
    assert row["sent"] == len(mine) and row["answered"] == mine["score"].notna().sum()
    lo, hi = st.binomtest(int(row["answered"]), int(row["sent"])).proportion_ci(method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    balance = voc.respondent_balance(data.surveys, cov)
    b = balance[(balance["fact"] == "transfer") & (balance["value"] == "none")].iloc[0]
    p1 = (s.loc[s["score"].notna(), "transfers"] == 0).mean()
    p0 = (s.loc[s["score"].isna(), "transfers"] == 0).mean()
    assert b["std_difference"] == pytest.approx((p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))
    assert b["std_difference"] < -0.3  # respondents: far fewer untransferred tickets (truth 3)


# ------------------------------------------------------------------------------ scales
def test_box_sensitivity_by_hand_and_newcombe_from_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep

    now, before = load_cycle(SAMPLE, "2026Q3"), load_cycle(SAMPLE, "2026Q2")
    table = voc.box_sensitivity(now.surveys, before.surveys, scales=now.config.survey_scales)
    row = table[(table["kind"] == "csat") & (table["box"] == "top box")].iloc[0]
    a = now.surveys[(now.surveys["kind"] == "csat") & now.surveys["score"].notna()]["score"]
    b = before.surveys[(before.surveys["kind"] == "csat") & before.surveys["score"].notna()]["score"]
    assert row["share"] == pytest.approx((a == 5).mean()) and row["answers"] == len(a)
    low, high = confint_proportions_2indep(int((a == 5).sum()), len(a), int((b == 5).sum()), len(b),
                                           method="newcomb", compare="diff")
    assert (row["change_low"], row["change_high"]) == pytest.approx((low, high))
    top2 = table[(table["kind"] == "nps") & (table["box"] == "top-2 box")].iloc[0]
    n = now.surveys[(now.surveys["kind"] == "nps") & now.surveys["score"].notna()]["score"]
    assert top2["share"] == pytest.approx((n >= 9).mean())  # 0-10: the two best answers are 9 and 10


def test_adjacent_answers_by_hand():
    from statsmodels.stats.proportion import confint_proportions_2indep

    data = load_cycle(SAMPLE, "2026Q3")
    table = voc.adjacent_answers(data.surveys, data.tickets, customers=data.customers, scales=data.config.survey_scales)
    row = table[(table["kind"] == "csat") & (table["higher"] == 4) & (table["outcome"] == "reopened")].iloc[0]
    s = data.surveys[(data.surveys["kind"] == "csat")].merge(data.tickets, on="ticket_id")
    four, three = s[s["score"] == 4]["reopens"] > 0, s[s["score"] == 3]["reopens"] > 0
    assert (row["rate_higher"], row["rate_lower"]) == pytest.approx((four.mean(), three.mean()))
    low, high = confint_proportions_2indep(int(three.sum()), len(three), int(four.sum()), len(four),
                                           method="newcomb", compare="diff")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert row["verdict"] == ("matters" if low > 0 or high < 0 else "no evidence it matters")
    churn = table[(table["kind"] == "csat") & (table["higher"] == 5) & (table["outcome"] == "churned")].iloc[0]
    gone = data.customers.set_index("customer_id")["active_to"]
    fives = s[s["score"] == 5]
    churned = fives["customer_id"].map(gone).ge(fives["responded_at"]).fillna(False)
    assert churn["rate_higher"] == pytest.approx(churned.mean())


def test_scale_advice_warns_on_a_long_scale_without_a_difference():
    quiet = pd.DataFrame({"kind": ["ces", "csat"], "higher": [7, 5], "lower": [6, 4], "outcome": "reopened",
                          "verdict": "no evidence it matters"})
    advice = voc.scale_advice(quiet, {"ces": 7, "csat": 5})
    assert "shorter scale" in advice[0] and "shorter scale" not in advice[1] and "top-2 box" in advice[1]
    loud = quiet.assign(verdict=["matters", "matters"])
    assert all("differ" in a for a in voc.scale_advice(loud, {"ces": 7, "csat": 5}))


# ------------------------------------------------------------------------------ verbatims
@pytest.mark.parametrize(("text", "masked"), [
    ("write to jane.doe+cx@mail.example.co.uk please", "write to [email] please"),
    ("call +49 30 1234567 today", "call [phone] today"),
    ("call (555) 123-4567", "call [phone]"),
    ("my order 12345678 is late", "my order [number] is late"),
    ("ticket 4 took 3 days in 2026", "ticket 4 took 3 days in 2026"),  # short numbers stay
])
def test_pii_is_masked(text, masked):
    assert voc.mask_pii(text) == masked


def test_quotes_are_capped_masked_and_escaped():
    from cxassess.plots import quotes_table

    long = "<script>alert(1)</script> waited, mail me at a@b.de " + "x" * 400
    s = pd.DataFrame({"ticket_id": ["A", "B", "C", "D"], "language": "en",
                      "comment": [long, "I waited ages", "waited and waited", "waited, again"]})
    matched = voc.themes(s, {"waiting": {"words": {"en": ["wait"]}}})
    quotes = voc.theme_quotes(s, matched, cap=120)
    assert len(quotes) == 3  # at most 3 per theme
    first = quotes["quote"].iloc[0]
    assert len(first) == 120 and first.endswith("…") and "a@b.de" not in first and "[email]" in first
    html_out = quotes_table(quotes).to_html()
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out


def test_theme_matching_languages_and_word_starts():
    comments = pd.DataFrame({"ticket_id": list("abcdef"), "language": ["en", "en", "de", "de", "ja", "ja"],
                             "comment": ["Quite UNFRIENDLY staff", "Friendly and quick", "sehr unfreundlich",
                                         "freundlich!", "対応がとても親切でした", "部署をたらい回しにされた"]})
    dictionary = {"friendly": {"words": {"en": ["friendly"], "de": ["freundlich"], "ja": ["親切"]}},
                  "rude": {"complaint": True, "words": {"en": ["unfriendly"], "de": ["unfreundlich"]}},
                  "transfer": {"complaint": True, "words": {"ja": ["たらい回し"], "en": ["passed around"]}}}
    got = sorted(map(tuple, voc.themes(comments, dictionary).values.tolist()))
    assert got == [("a", "rude"), ("b", "friendly"), ("c", "rude"), ("d", "friendly"), ("e", "friendly"),
                   ("f", "transfer")]


def test_sample_comments_in_three_languages_find_their_themes():
    data = load_cycle(SAMPLE, "2026Q3")
    part = voc.verbatims(data)
    matched = part["matched"].merge(data.surveys[["ticket_id", "language", "comment"]], on="ticket_id")
    transfer = matched[matched["theme"] == "transfer"]
    assert set(transfer["language"]) == {"en", "de", "ja"}  # truth 7: all three languages are read
    # every negative comment of the generator carries a complaint theme
    from cxassess.synth import COMMENTS

    negative = {c for lang in COMMENTS.values() for c in lang["neg"]}
    complaints = {t for t, spec in voc.theme_dictionary(data.config.settings.themes).items() if spec["complaint"]}
    tagged = set(matched[matched["theme"].isin(complaints)]["comment"])
    seen = set(data.surveys["comment"].dropna()) & negative
    assert seen and seen <= tagged
    # shares by band and the Pareto by hand
    summary = part["summary"].set_index(["theme", "band"])
    row = summary.loc[("transfer", "low")]
    lo, hi = st.binomtest(int(row["comments"]), int(row["of_band"])).proportion_ci(method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    counts = part["matched"][part["matched"]["theme"].isin(complaints)]["theme"].value_counts()
    assert part["pareto"]["comments"].tolist() == counts.tolist()
    assert part["pareto"]["cumulative"].iloc[-1] == pytest.approx(1.0)


def test_the_sample_findings_of_the_page():
    data = load_cycle(SAMPLE, "2026Q3")
    bias = voc.response_bias(data, boot=50, kinds=("csat",))
    tables = voc.driver_tables(data, kinds=("csat",))
    found = voc.findings(bias=bias["results"], balance=bias["balance"], driver_table=tables["csat"],
                         tickets=len(data.tickets))
    kinds = [f.kind for f in found]
    assert kinds[0] == "response_bias" and "driver" in kinds
    top = next(f for f in found if f.kind == "driver")
    assert top.severity == "high" and top.what.startswith("Tickets transferred once cost CSAT") and top.anchor == "drivers"
    assert "understates" in found[0].what and "IPW" not in found[0].what


# ------------------------------------------------------------------------------ the page in the review
@pytest.mark.slow
def test_the_page_in_the_sample_review(sample_review):
    import json
    import re

    page = (sample_review / "30_voice_of_customer.html").read_text(encoding="utf-8")
    for anchor in ("response-bias", "drivers", "scales", "verbatims", "kpi-integrity", "kpi-validity"):
        assert f'id="{anchor}"' in page
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>|<img[^>]*>", "", page, flags=re.S))
    for jargon in ("IPW", "AME", "Traceback", "Error:"):
        assert jargon not in text
    assert "reweighted" in text and "tier1_south" in text and "たらい回し" in text
    found = json.loads((sample_review / "findings" / "30_voice_of_customer.json").read_text(encoding="utf-8"))
    kinds = {(f["kind"], f["team"]) for f in found["findings"]}
    assert ("gaming", "tier1_south") in kinds and ("response_bias", None) in kinds
    assert not [f for f in found["findings"] if f["kind"] == "gaming" and f["team"] and "north" in f["team"]]


def test_newton_fit_of_a_resample_equals_statsmodels():
    """The bootstrap's own Newton fit of the grouped model of answering gives statsmodels'
    binomial GLM estimate (and the row-level Logit's) on counts that are not the full fit's."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(12), rng.integers(0, 2, (12, 3))]).astype(float)
    trials = rng.integers(20, 200, 12).astype(float)
    events = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-(x @ [-1.0, 0.8, -0.5, 0.3])))).astype(float)
    glm = sm.GLM(events / trials, x, family=sm.families.Binomial(), var_weights=trials).fit()
    rows_x = np.repeat(x, trials.astype(int), axis=0)
    rows_y = np.concatenate([np.r_[np.ones(int(e)), np.zeros(int(t - e))] for e, t in zip(events, trials, strict=True)])
    logit = sm.Logit(rows_y, rows_x).fit(disp=0)
    ours = voc._grouped_logit_params(events, trials, x, start=np.zeros(4))
    assert ours == pytest.approx(np.asarray(glm.params), abs=1e-7)
    assert ours == pytest.approx(np.asarray(logit.params), abs=1e-6)


def test_a_fact_that_repeats_another_is_left_out_of_the_model_and_the_others_kept():
    """``team`` here is ``channel`` renamed (its 0/1 columns are linear combinations of
    channel's): the drivers table with it equals the table without it, and an independent
    fact (priority) stays in."""
    rng = np.random.default_rng(5)
    n = 3000
    channel = rng.choice(["chat", "email", "phone"], n)
    answered = rng.random(n) < np.where(channel == "chat", 0.5, 0.2)
    s = pd.DataFrame({"ticket_id": range(n), "kind": "csat", "scale": 5,
                      "score": np.where(answered, rng.choice([2, 5], n), np.nan)})
    c = pd.DataFrame({"ticket_id": range(n), "reopened": rng.choice(["no", "yes"], n, p=[0.8, 0.2]),
                      "channel": channel, "team": np.char.add("team of ", channel),
                      "priority": rng.choice(["low", "high"], n)})
    with_copy = voc.drivers(s, c, kind="csat", scale=5, facts=("reopened", "channel", "team", "priority"))
    without = voc.drivers(s, c, kind="csat", scale=5, facts=("reopened", "channel", "priority"))
    pd.testing.assert_frame_equal(with_copy, without)
    assert sorted(with_copy["driver"]) == ["channel: email", "channel: phone", "priority: high", "reopened: yes"]


def test_ticket_covariates_pool_all_but_the_most_frequent_values_as_other():
    """Counted by hand: 12 teams, the 10 most frequent kept (a tie at the edge goes to the
    team seen first), the rest "other", a missing team stays missing."""
    teams = [f"t{i:02d}" for i in range(12)]
    sizes = [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 3, 1]  # t09 and t10 tie for the tenth place
    column = [t for t, k in zip(teams, sizes, strict=True) for _ in range(k)] + [None]
    rng = np.random.default_rng(3)
    order = np.r_[rng.permutation(len(column) - 1), len(column) - 1]
    t = pd.DataFrame({"ticket_id": range(len(column)), "team": pd.array(column, dtype="str")[order]})
    first_seen = {team: i for i, team in reversed(list(enumerate(t["team"]))) if isinstance(team, str)}
    tenth = min(["t09", "t10"], key=first_seen.get)
    got = voc.ticket_covariates(t, top=10)["team"]
    kept = [*teams[:9], tenth]
    expected = [None if not isinstance(x, str) else x if x in kept else "other" for x in t["team"]]
    assert [None if pd.isna(x) else x for x in got] == expected
    assert got.value_counts()["other"] == 3 + 1  # the other of t09/t10 and t11

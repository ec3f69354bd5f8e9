"""Process assessment: stage visits by hand, pm4py as an independent oracle for the
directly-follows graph and throughput times, the planted bottleneck and transfer effect."""

from __future__ import annotations

import shutil

import nbformat
import pandas as pd
import pytest

from cxassess import process as pr
from cxassess.config import Process, Stage, load_config
from cxassess.cycles import load_cycle
from cxassess.errors import InputError
from cxassess.io import read_table

from .conftest import FIXTURES, REPO, SAMPLE, shared_file

pm4py = pytest.importorskip("pm4py", reason="pm4py is the test oracle (dev dependency)")

PROCESS = Process(
    stages=(Stage("intake", "Intake", "Front"), Stage("first", "First level", "Tier 1"),
            Stage("spec", "Specialist", "Specialists", specialist=True, target_hours=2.0),
            Stage("done", "Resolution", "Tier 1", customer_time=True)),
    activities={"in": "intake", "reply": "first", "escalate": "spec", "fix": "spec", "solve": "done",
                "reopen": "first"},
    resolution_activities=("solve",),
    transitions=(("intake", "first"), ("first", "spec"), ("spec", "done"), ("first", "done")),
)


def log(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ticket_id", "timestamp", "activity", "team"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"]).dt.tz_localize("Europe/Berlin"))


@pytest.fixture
def hand_log() -> pd.DataFrame:
    return log([
        # A: intake 1 h, first 1 h, specialist 3 h (over its 2 h target), back to first (not designed), done
        ("A", "2026-07-01 08:00", "in", None), ("A", "2026-07-01 09:00", "reply", "t1"),
        ("A", "2026-07-01 10:00", "escalate", "t1"), ("A", "2026-07-01 12:00", "fix", "spec"),
        ("A", "2026-07-01 13:00", "reply", "t1"), ("A", "2026-07-01 15:00", "solve", "t1"),
        # B: the designed short path
        ("B", "2026-07-02 08:00", "in", None), ("B", "2026-07-02 08:30", "reply", "t2"),
        ("B", "2026-07-02 10:30", "solve", "t2"),
        # C: still waiting in first level at the end of the export
        ("C", "2026-07-03 08:00", "in", None), ("C", "2026-07-03 09:00", "reply", "t1"),
    ])


def test_stage_visits_tile_the_throughput_time(hand_log):
    visits = pr.stage_visits(hand_log, PROCESS)
    a = visits[visits["ticket_id"] == "A"]
    assert a["stage"].tolist() == ["intake", "first", "spec", "first", "done"]
    assert a["hours"].tolist() == [1.0, 1.0, 3.0, 2.0, 0.0]
    spans = pr.throughput_times(hand_log).set_index("ticket_id")["hours"]
    assert visits.groupby("ticket_id")["hours"].sum().to_dict() == spans.to_dict() == {"A": 7.0, "B": 2.5, "C": 1.0}


def test_stage_metrics_by_hand(hand_log):
    m = pr.stage_metrics(hand_log, PROCESS).set_index("stage")
    assert m.loc["first", ["entering", "leaving", "ending_here", "open_here", "loops", "visits"]].tolist() == [
        3, 2, 1, 1, 1, 4]
    # time in first level per ticket: A 1 + 2 = 3 h, B 2 h, C 0 h -> median 2 h
    assert m.loc["first", "median_hours"] == 2.0 and m.loc["first", "total_hours"] == 5.0
    assert m.loc["spec", ["entering", "median_hours", "over_target"]].tolist() == [1, 3.0, 1.0]
    assert m["share_of_time"].sum() == pytest.approx(1.0)
    assert m.loc["intake", "total_hours"] == pytest.approx(1 + 0.5 + 1)
    # ranked on desk time: first (5 h) > spec (3 h) > intake (2.5 h); resolution is customer time
    assert m["bottleneck_rank"].tolist()[:3] == [3, 1, 2] and pd.isna(m.loc["done", "bottleneck_rank"])


def test_flow_conformance_handoffs_and_paths(hand_log):
    flow = pr.stage_flow(hand_log, PROCESS).set_index(["source", "target"])
    assert flow.loc[("spec", "first"), ["tickets", "allowed"]].tolist() == [1, False]
    assert flow.loc[("intake", "first"), "tickets"] == 3 and flow.loc[("intake", "first"), "median_wait_hours"] == 1.0
    tickets, deviations = pr.conformance(hand_log, PROCESS)
    assert tickets.set_index("ticket_id")["conforms"].to_dict() == {"A": False, "B": True, "C": True}
    assert deviations[["source", "target", "tickets"]].values.tolist() == [["spec", "first", 1]]
    pairs, per_ticket = pr.handoffs(hand_log)
    assert pairs[["from_team", "to_team", "handoffs"]].values.tolist() == [["spec", "t1", 1], ["t1", "spec", 1]]
    assert per_ticket.set_index("ticket_id")[["handoffs", "ping_pong"]].loc["A"].tolist() == [2, 1]
    paths = pr.path_attributes(hand_log, PROCESS).set_index("ticket_id")
    assert paths.loc["A", ["transfers", "escalated", "loop", "conforms"]].tolist() == ["2+", True, True, False]
    assert paths.loc["B", ["transfers", "escalated", "loop"]].tolist() == ["0", False, False]
    v = pr.variants(hand_log, PROCESS)
    assert v["path"].tolist()[0] == "intake → first" and v["tickets"].sum() == 3


def pm4py_frame(events: pd.DataFrame) -> pd.DataFrame:
    return pm4py.format_dataframe(events[["ticket_id", "activity", "timestamp"]].copy(), case_id="ticket_id",
                                  activity_key="activity", timestamp_key="timestamp")


def assert_equal_to_pm4py(events: pd.DataFrame) -> None:
    df = pm4py_frame(events)
    dfg, _, _ = pm4py.discover_dfg(df)
    performance, _, _ = pm4py.discover_performance_dfg(df)
    ours = pr.directly_follows(events).set_index(["source", "target"])
    assert ours["count"].to_dict() == dict(dfg)
    medians = {edge: stats["median"] / 3600 for edge, stats in performance.items()}
    assert ours["median_hours"].to_dict() == pytest.approx(medians, rel=1e-12)
    durations = sorted((pr.throughput_times(events)["hours"] * 3600).tolist())
    assert durations == pytest.approx(sorted(pm4py.get_all_case_durations(df)), abs=1e-6)


def test_directly_follows_and_throughput_equal_pm4py_on_the_help_desk_log():
    path = shared_file("helpdesk-italy/helpdesk_events.csv")
    config = load_config(FIXTURES / "helpdesk-italy")
    events = read_table(path, "events", config)
    assert_equal_to_pm4py(events)
    dfg = pr.directly_follows(events)
    assert len(dfg) == 55 and dfg["count"].sum() == len(events) - events["ticket_id"].nunique()
    median_days = pr.throughput_times(events)["hours"].median() / 24
    assert median_days == pytest.approx(39.86, abs=0.01)  # DESIGN.md §9, measured with pm4py


def test_directly_follows_and_throughput_equal_pm4py_on_the_sample():
    assert_equal_to_pm4py(load_cycle(SAMPLE, "2026Q3", tables=("events",)).events)


def test_planted_bottleneck_ranks_first_in_2026Q3_and_not_in_2026Q2():
    first = {}
    for cycle in ("2026Q2", "2026Q3"):
        data = load_cycle(SAMPLE, cycle, tables=("events",))
        m = pr.stage_metrics(data.events, data.config.process)
        ranking = m.dropna(subset=["bottleneck_rank"]).sort_values("bottleneck_rank")["stage"].tolist()
        # independently: attribute the time to the next event to each event's stage, in plain pandas
        ev = data.events.sort_values(["ticket_id", "timestamp"], kind="stable")
        gap = (ev.groupby("ticket_id")["timestamp"].shift(-1) - ev["timestamp"]) / pd.Timedelta(hours=1)
        desk = ~ev["stage"].isin(["resolution", "survey"])  # customer_time stages in review.yml
        assert ranking == gap[desk].groupby(ev.loc[desk, "stage"]).sum().sort_values(ascending=False).index.tolist()
        first[cycle] = ranking[0]
    assert first["2026Q3"] == "specialist" and first["2026Q2"] != "specialist"


def test_transferred_customers_are_less_satisfied_with_an_interval_excluding_zero():
    data = load_cycle(SAMPLE, "2026Q3", tables=("events", "surveys"))
    paths = pr.path_attributes(data.events, data.config.process)
    table = pr.satisfaction_by_path(data.surveys, paths).set_index(["attribute", "group"])
    once = table.loc[("transfers", "1")]
    assert once["value"] < table.loc[("transfers", "0"), "value"] and once["diff_high"] < 0
    # the figures are counts of the surveys: CSAT answers of tickets with no handoff
    answered = data.surveys[(data.surveys["kind"] == "csat") & data.surveys["score"].notna()]
    no_move = set(paths.loc[paths["handoffs"] == 0, "ticket_id"])
    mine = answered[answered["ticket_id"].isin(no_move)]
    assert table.loc[("transfers", "0"), ["hits", "n"]].tolist() == [(mine["score"] >= 4).sum(), len(mine)]


def test_stage_notebook_runs_on_the_help_desk_log_alone(tmp_path):
    """A dataset with only an event log: the page shows the flow chart and the stage table,
    and says that satisfaction cannot be measured."""
    import papermill as pm

    from cxassess.report import render_html

    source = shared_file("helpdesk-italy/helpdesk_events.csv")
    root = tmp_path / "helpdesk"
    (root / "2013Q1").mkdir(parents=True)
    shutil.copy(FIXTURES / "helpdesk-italy" / "review.yml", root / "review.yml")
    raw = pd.read_csv(source)
    stamp = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    opened = stamp.groupby(raw["Case ID"]).transform("min")
    keep = (opened >= "2013-01-01") & (opened < "2013-04-01") & (stamp < "2013-04-01")
    raw[keep].to_csv(root / "2013Q1" / "events.csv", index=False)
    out = tmp_path / "10_process_stages.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "10_process_stages.ipynb"), str(out),
                        parameters={"dataset": str(root), "cycle": "2013Q1"}, kernel_name="python3",
                        cwd=str(REPO), progress_bar=False)
    html = render_html(out)
    assert html.count("data:image/png;base64") >= 1  # the flow chart
    assert "Specialist level" in html and "bottleneck" in html and "Traceback" not in html
    assert "not available: needs <code>surveys</code> (no such table in this cycle)" in html
    assert "Put a surveys file (surveys.csv or .parquet) in the cycle folder" in html
    cells = nbformat.read(out, as_version=4).cells
    assert not [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]


def test_the_ecommerce_template_runs_on_a_sample_generated_for_it(tmp_path):
    import papermill as pm

    from cxassess.report import render_html
    from cxassess.synth import write_ecommerce_sample

    root = write_ecommerce_sample(tmp_path / "shop", orders=300)
    config = load_config(root)
    assert config.process.stage_names == ["needs", "purchase", "delivery", "returns", "complaints"]
    data = load_cycle(root, "2026Q3")
    m = pr.stage_metrics(data.events, config.process).set_index("stage")
    # every order is placed and shipped; only some asked for advice first
    assert m.loc["purchase", "entering"] == m.loc["delivery", "entering"] == 300
    assert 0 < m.loc["needs", "entering"] < 300
    out = tmp_path / "10_process_stages.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "10_process_stages.ipynb"), str(out),
                        parameters={"dataset": str(root), "cycle": "2026Q3"}, kernel_name="python3",
                        cwd=str(REPO), progress_bar=False)
    html = render_html(out)
    assert "Delivery tracking" in html and "Register of requests and complaints" in html
    assert "Satisfaction by path" in html and html.count("data:image/png;base64") >= 2
    assert "not available: needs <code>events.team</code> (no such column)" in html


# --- one process log per cycle, the assessment and the desk's share, checked in plain pandas ---------------------


def assessment_by_hand(events: pd.DataFrame, process: Process, surveys: pd.DataFrame, tickets: pd.DataFrame
                       ) -> pd.DataFrame:
    """The figures of stage_assessment, in plain pandas: time in a stage is the time from
    each of its events to the ticket's next event; a loop is a second run of the stage."""
    ev = events.sort_values(["ticket_id", "timestamp"], kind="stable").copy()
    if "stage" not in ev.columns:
        ev["stage"] = ev["activity"].map(process.activities)
    ev["gap"] = ((ev.groupby("ticket_id")["timestamp"].shift(-1) - ev["timestamp"]).dt.total_seconds() / 3600).fillna(0)
    ev["run"] = ev["stage"] != ev.groupby("ticket_id")["stage"].shift(1)
    per = ev.groupby(["stage", "ticket_id"]).agg(hours=("gap", "sum"), runs=("run", "sum")).reset_index()
    resolved = set(ev.loc[ev["activity"].isin(process.resolution_activities), "ticket_id"])
    reopened = set(tickets.loc[tickets["reopens"] > 0, "ticket_id"])
    answered = surveys[(surveys["kind"] == "csat") & surveys["score"].notna()]
    customer = {s.name for s in process.stages if s.customer_time}
    desk_hours = per.loc[~per["stage"].isin(customer), "hours"].sum()
    desk_total = per[~per["stage"].isin(customer)].groupby("stage")["hours"].sum()
    rank = desk_total.rank(ascending=False, method="min")
    rows = []
    for s in process.stages:
        part = per[per["stage"] == s.name]
        through = set(part["ticket_id"])
        top = answered["score"] >= 4  # 5-point scale: 4 and 5 are the top box
        inside = answered["ticket_id"].isin(through)
        rows.append({
            "stage": s.name, "tickets": len(through),
            "resolved_clean": len((through & resolved) - reopened) / len(through) if through else float("nan"),
            "desk_share": float("nan") if s.customer_time else part["hours"].sum() / desk_hours,
            "median_hours": part["hours"].median(),
            "loops_share": (part["runs"] > 1).mean() if len(part) else float("nan"),
            "over_target": (part["hours"] > s.target_hours).mean() if s.target_hours and len(part) else float("nan"),
            "bottleneck_rank": rank.get(s.name, float("nan")),
            "csat_through": top[inside].mean() if inside.any() else float("nan"),
            "csat_not_through": top[~inside].mean() if (~inside).any() else float("nan"),
        })
    out = pd.DataFrame(rows)
    out["csat_effect"] = out["csat_through"] - out["csat_not_through"]
    return out


def assert_assessment_matches(ours: pd.DataFrame, mine: pd.DataFrame) -> None:
    ours = ours.set_index("stage").loc[mine["stage"]]
    for column in mine.columns.drop("stage"):
        got = ours[column].to_numpy(dtype=float, na_value=float("nan")).tolist()
        want = mine[column].to_numpy(dtype=float, na_value=float("nan")).tolist()
        assert got == pytest.approx(want, rel=1e-9, nan_ok=True), column


def test_stage_assessment_equals_plain_pandas_on_a_small_log(hand_log):
    surveys = pd.DataFrame({"ticket_id": ["A", "B", "C"], "kind": "csat", "score": [2.0, 5.0, 4.0]})
    tickets = pd.DataFrame({"ticket_id": ["A", "B", "C"], "reopens": [1, 0, 0]})
    ours = pr.stage_assessment(hand_log, PROCESS, surveys=surveys, tickets=tickets, scale=5)
    mine = assessment_by_hand(hand_log, PROCESS, surveys, tickets)
    assert_assessment_matches(ours, mine)
    # by hand: only B is resolved without a reopen; the specialist holds 3 of the desk's 2.5 + 5 + 3 hours
    assert ours.set_index("stage").loc["intake", "resolved_clean"] == pytest.approx(1 / 3)
    assert ours.set_index("stage").loc["spec", ["desk_share", "csat_effect"]].tolist() == pytest.approx([3 / 10.5, -1.0])


def test_stage_assessment_equals_plain_pandas_on_the_sample():
    data = load_cycle(SAMPLE, "2026Q3", tables=("events", "surveys", "tickets"))
    process = data.config.process
    assert set(data.surveys.loc[data.surveys["kind"] == "csat", "scale"].dropna()) <= {5}  # the hand oracle's scale
    log = pr.process_log(data.events, process)
    ours = pr.stage_assessment(log, process, surveys=data.surveys, tickets=data.tickets,
                               scale=data.config.survey_scales.get("csat"))
    assert_assessment_matches(ours, assessment_by_hand(data.events, process, data.surveys, data.tickets))


def test_the_bottleneck_finding_gives_the_share_of_the_desks_time_not_of_all_time():
    data = load_cycle(SAMPLE, "2026Q3", tables=("events",))
    process = data.config.process
    metrics = pr.stage_metrics(data.events, process)
    # independently: time to the next event, attributed to each event's stage
    ev = data.events.sort_values(["ticket_id", "timestamp"], kind="stable")
    gap = (ev.groupby("ticket_id")["timestamp"].shift(-1) - ev["timestamp"]).dt.total_seconds() / 3600
    per_stage = gap.groupby(ev["stage"]).sum()
    customer = [s.name for s in process.stages if s.customer_time]
    desk = per_stage.drop(customer)
    share = desk["specialist"] / desk.sum()
    assert share == pytest.approx(0.47, abs=0.01)  # not the 25 % of all time, the customer's included
    m = metrics.set_index("stage")
    assert m["desk_share"].dropna().to_dict() == pytest.approx((desk / desk.sum()).to_dict(), rel=1e-9)
    assert m.loc[customer, "desk_share"].isna().all()
    finding = pr.stage_assessment(data.events, process, metrics=metrics).set_index("stage").loc["specialist", "finding"]
    assert f"the bottleneck: {share:.0%} of the desk's time" in finding
    split = pr.time_split(metrics).set_index("time")
    assert split.loc["customer", "share"] == pytest.approx(per_stage[customer].sum() / per_stage.sum(), rel=1e-9)
    assert split.loc["desk", "hours"] == pytest.approx(desk.sum(), rel=1e-9)
    assert split.loc["customer", "stages"] == "Resolution, Satisfaction survey"


def test_one_process_log_gives_the_figures_of_the_raw_events_in_any_row_order():
    data = load_cycle(SAMPLE, "2026Q3", tables=("events",))
    process = data.config.process
    shuffled = data.events.sample(frac=1, random_state=3).drop(columns=["stage"])  # stages from review.yml
    log = pr.process_log(shuffled, process)
    for name in ("stage_metrics", "stage_flow", "variants", "path_attributes"):
        pd.testing.assert_frame_equal(getattr(pr, name)(log, process), getattr(pr, name)(data.events, process))
    for part, raw in zip(pr.handoffs(log), pr.handoffs(data.events), strict=True):
        pd.testing.assert_frame_equal(part, raw)
    assert shuffled.index.tolist() == log.events.index.tolist()  # the events given are not modified
    with pytest.raises(InputError, match="another process"):
        pr.stage_metrics(log, PROCESS)


def test_path_shares_equal_plain_pandas(hand_log):
    shares = pr.path_shares(hand_log, PROCESS).set_index("measure")
    ev = hand_log.sort_values(["ticket_id", "timestamp"], kind="stable")
    named = ev[ev["team"].notna()]
    moved = named.groupby("ticket_id")["team"].apply(lambda t: (t != t.shift()).iloc[1:].sum())
    assert shares.loc["handed_off", ["tickets", "of"]].tolist() == [(moved > 0).sum(), 3]  # A only
    assert shares.loc["escalated", "tickets"] == 1 and shares.loc["loop", "tickets"] == 1
    tickets, _ = pr.conformance(hand_log, PROCESS)
    assert shares.loc["conforms", "share"] == pytest.approx(2 / 3) == tickets["conforms"].mean()

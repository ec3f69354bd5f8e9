"""The charts stay legible at real cardinality: measured on the rendered figures."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxassess import plots  # noqa: E402
from cxassess.config import ReviewConfig  # noqa: E402
from cxassess.process import stage_flow, stage_metrics  # noqa: E402


def _texts(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # the chart comes detached from pyplot
    canvas.draw()
    renderer = canvas.get_renderer()
    undrawn = set()  # tick labels beyond an axis' limits are kept but not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    undrawn.update({id(tick.label1), id(tick.label2)})
    return renderer, [t for t in fig.findobj(matplotlib.text.Text)
                      if t.get_visible() and t.get_text().strip() and id(t) not in undrawn]


def _distance_to_polyline(point: np.ndarray, line: np.ndarray) -> float:
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", point - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
    nearest = a + t[:, None] * ab
    return float(np.min(np.hypot(*(nearest - point).T)))


def _check_legible(fig, flow: pd.DataFrame) -> None:
    renderer, texts = _texts(fig)
    boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    for (a, ea), (b, eb) in itertools.combinations(boxes, 2):
        w = min(ea.x1, eb.x1) - max(ea.x0, eb.x0)
        h = min(ea.y1, eb.y1) - max(ea.y0, eb.y0)
        assert w <= 1 or h <= 1, f"{a.get_text()!r} overlaps {b.get_text()!r} ({w:.1f} x {h:.1f} px)"
    page = fig.bbox
    for t, e in boxes:
        assert t.get_fontsize() >= 8, (t.get_text(), t.get_fontsize())
        assert e.x0 >= page.x0 - 1 and e.x1 <= page.x1 + 1 and e.y0 >= page.y0 - 1 and e.y1 <= page.y1 + 1, t.get_text()
    ax = fig.axes[0]
    arrows = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("arrow:")}
    counts = {t.get_gid(): t for t in texts if (t.get_gid() or "").startswith("count:")}
    assert counts and set(counts) == {"count:" + g[len("arrow:"):] for g in arrows}
    for gid, text in counts.items():
        arrow = arrows["arrow:" + gid[len("count:"):]]
        source, target = gid[len("count:"):].split("->")
        expected = flow[(flow["source"] == source) & (flow["target"] == target)]["tickets"].iloc[0]
        assert text.get_text() == f"{expected:,}"
        centre = np.array(text.get_window_extent(renderer).get_points()).mean(axis=0)
        # the centre lies on the arrow's path (within 3 px)
        polylines = [ax.transData.transform(v) for v in arrow.get_path().to_polygons(closed_only=False) if len(v) > 1]
        assert min(_distance_to_polyline(centre, p) for p in polylines) <= 3, gid
    width, height = fig.get_size_inches()
    assert width <= plots.FLOW_MAX_SIZE[0] and height <= plots.FLOW_MAX_SIZE[1]


def _fifteen_stage_log(seed: int = 3):
    from cxassess.synth import wide_config, wide_cycle

    config = ReviewConfig(path=None, raw=wide_config(teams=30, stages=15))
    return wide_cycle("2026Q3", 1500, teams=30, stages=15, seed=seed)["events"], config.process


@pytest.mark.parametrize("seed", [3, 4])
def test_flow_chart_with_15_stages_has_no_overlapping_text_and_counts_on_their_arrows(seed):
    events, process = _fifteen_stage_log(seed)
    assert len(process.stages) == 15 and len({s.lane for s in process.stages}) >= 4
    flow = stage_flow(events, process)
    fig = plots.flow_chart(stage_metrics(events, process), flow, title="Wide desk")
    _check_legible(fig, flow)
    styles = {p.get_linestyle() for p in fig.axes[0].patches if (p.get_gid() or "").startswith("arrow:")}
    assert len(styles) == 2  # the designed flow and the moves outside it look different


def test_flow_chart_of_the_sample_is_legible():
    from cxassess.cycles import load_cycle

    for label in ("2026Q2", "2026Q3"):
        cycle = load_cycle("data/sample", label, tables=("events",))
        process = cycle.config.process
        flow = stage_flow(cycle.events, process)
        _check_legible(plots.flow_chart(stage_metrics(cycle.events, process), flow), flow)


def test_flow_chart_says_how_many_rare_moves_it_leaves_out():
    events, process = _fifteen_stage_log()
    flow = stage_flow(events, process)
    fig = plots.flow_chart(stage_metrics(events, process), flow, min_tickets=100)
    rare = int((flow["tickets"] < 100).sum())
    assert rare and f"{rare} move(s) with fewer than 100 tickets not drawn" in fig._suptitle.get_text()
    drawn = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("arrow:")]
    assert len(drawn) == len(flow) - rare


def test_weekly_axis_ticks_on_mondays_and_draws_empty_weeks_as_zero():
    import matplotlib.dates as mdates

    tz = "Europe/Berlin"
    created = pd.to_datetime(["2026-07-01 10:00", "2026-07-02 23:30", "2026-07-21 09:00", "2026-09-30 22:00"]).tz_localize(tz)
    tickets = pd.DataFrame({"created_at": created, "channel": ["chat", "email", "chat", "chat"]})
    start, end = pd.Timestamp("2026-07-01", tz=tz), pd.Timestamp("2026-10-01", tz=tz)
    counts = plots.weekly_counts(tickets, start=start, end=end)
    mondays = pd.date_range("2026-06-29", "2026-09-28", freq="W-MON")  # every week of Q3, by hand
    assert list(counts.index) == list(mondays)
    assert counts.sum(axis=1).tolist() == [2, 0, 0, 1] + [0] * 9 + [1]
    fig = plots.weekly_volume(tickets, start=start, end=end)
    ax = fig.axes[0]
    heights = np.zeros(len(mondays))
    for container in ax.containers:
        heights += [bar.get_height() for bar in container]
    assert heights.tolist() == counts.sum(axis=1).tolist()  # one bar per week, empty ones 0
    lefts = [mdates.num2date(bar.get_x()).date() for bar in ax.containers[0]]
    assert lefts == [d.date() for d in mondays]
    low, high = ax.get_xlim()
    ticks = [mdates.num2date(t) for t in ax.get_xticks() if low <= t <= high]
    assert ticks and all(t.weekday() == 0 and t.hour == 0 for t in ticks)
    assert len(ticks) == len(mondays)
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["29 Jun", "06 Jul"]

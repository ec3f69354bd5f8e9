"""Real cardinality: the grouped calculators equal their one-group versions, and a
synthetic cycle with 300 teams and 15 stages renders small pages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxassess.kpis.speed import kaplan_meier_quantile, resolution_time
from cxassess.kpis.volume import backlog
from cxassess.stats import group_quantile, median_interval, median_intervals, sorted_by_group


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouped_order_statistics_equal_numpy_and_scipy_per_group(seed):
    rng = np.random.default_rng(seed)
    size = 60
    codes = rng.integers(0, size, 3000)
    codes[codes == 7] = 8  # group 7 is empty
    values = rng.lognormal(1.0, 1.2, 3000).round(rng.integers(0, 3))  # ties too
    values[rng.random(3000) < 0.1] = np.nan
    got = median_intervals(values, codes, size)
    for g in range(size):
        x = values[codes == g]
        x = x[~np.isnan(x)]
        want = median_interval(x)
        assert got["n"][g] == len(x)
        for key, expected in zip(("value", "ci_low", "ci_high"), want, strict=True):
            assert got[key][g] == expected or (np.isnan(got[key][g]) and np.isnan(expected)), (g, key)
        if len(x):
            assert got["p90"][g] == np.quantile(x, 0.9)
            assert got["max"][g] == x.max()
        else:
            assert np.isnan(got["p90"][g])


def test_group_quantile_equals_numpy_for_every_q_and_n():
    rng = np.random.default_rng(5)
    for n in range(1, 25):
        x = rng.normal(size=n)
        xs, start, counts = sorted_by_group(x, np.zeros(n, dtype=int), 1)
        for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
            assert group_quantile(xs, start, counts, q)[0] == np.quantile(x, q)


def _tickets(n: int, teams: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2026-07-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 80, n), unit="D")
    resolved = pd.Series(created + pd.to_timedelta(rng.exponential(40, n), unit="h"))
    return pd.DataFrame({"team": rng.integers(0, teams, n).astype(str), "created_at": created,
                         "resolved_at": resolved.where(rng.random(n) < 0.8)})


def test_resolution_time_by_segment_equals_one_segment_at_a_time():
    t = _tickets(2000, 40)
    end = pd.Timestamp("2026-10-01", tz="UTC")
    by_team = resolution_time(t, censor_at=end, by="team").set_index("team")
    for team, part in t.groupby("team"):
        hours = np.where(part["resolved_at"].notna(), (part["resolved_at"] - part["created_at"]) / pd.Timedelta(hours=1),
                         (end - part["created_at"]) / pd.Timedelta(hours=1))
        done = part["resolved_at"].notna().to_numpy()
        row = by_team.loc[team]
        assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx(kaplan_meier_quantile(hours, done),
                                                                              nan_ok=True)
        assert row["km_p90"] == pytest.approx(kaplan_meier_quantile(hours, done, p=0.9)[0], nan_ok=True)
        assert row["resolved_median"] == pytest.approx(np.median(hours[done]))
        assert row["open_share"] == pytest.approx(1 - done.mean())
        assert row["n"] == len(part)


def test_backlog_by_segment_equals_plain_pandas():
    t = _tickets(1500, 30)
    at = pd.Timestamp("2026-09-25", tz="UTC")
    got = backlog(t, at=at, by="team").set_index("team")
    is_open = (t["created_at"] <= at) & (t["resolved_at"].isna() | (t["resolved_at"] > at))
    ages = ((at - t["created_at"]) / pd.Timedelta(hours=1))[is_open]
    want = ages.groupby(t.loc[is_open, "team"]).agg(["median", "max", "size"])
    assert sorted(got.index) == sorted(t["team"].unique())  # teams without an open ticket kept, n = 0
    joined = got.join(want)
    assert (joined["n"] == joined["size"].fillna(0)).all()
    assert np.allclose(joined["value"], joined["median"], equal_nan=True)
    assert np.allclose(joined["oldest"], joined["max"], equal_nan=True)


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A small wide desk: 40 teams with a long tail, 15 stages, two cycles."""
    from cxassess.cycles import load_cycle
    from cxassess.synth import write_wide_sample

    root = write_wide_sample(tmp_path_factory.mktemp("wide"), tickets=1500, teams=40)
    now = load_cycle(root, "2026Q3")
    return now, now.load_previous()


def test_breakdown_shows_the_largest_segments_and_the_real_kpi_of_the_rest_pooled(wide, tmp_path):
    from cxassess.kpis import breakdown

    now, before = wide
    part = breakdown(now, before, by="team", top=12)
    t, s = now.tickets, now.surveys
    sizes = t["team"].value_counts()
    top = sorted(sizes.index, key=lambda k: (-sizes[k], k))[:12]
    assert part.shown["team"].dropna().drop_duplicates().tolist() == [*top, part.other]
    assert part.other == f"other ({t['team'].nunique() - 12} segments)"
    rest = t[~t["team"].isin(top)]
    shown = part.shown[part.shown["policy"].isna()].set_index(["team", "kpi"])
    # the pooled segment is measured on its tickets, not averaged over segments
    assert shown.loc[(part.other, "transfer_rate"), "value"] == pytest.approx((rest["transfers"] > 0).mean())
    assert shown.loc[(part.other, "transfer_rate"), "n"] == len(rest)
    answered = s[(s["kind"] == "csat") & s["score"].notna() & s["ticket_id"].isin(rest["ticket_id"])]
    assert shown.loc[(part.other, "csat"), "value"] == pytest.approx((answered["score"] >= 4).mean())
    old = before.tickets[~before.tickets["team"].isin(top)]
    assert shown.loc[(part.other, "transfer_rate"), "previous"] == pytest.approx((old["transfers"] > 0).mean())
    # the top segments are the same figures as in the full breakdown
    full = part.full[part.full["policy"].isna()].set_index(["team", "kpi"])
    for team in top:
        a, b = shown.loc[team, "value"], full.loc[team, "value"]
        assert np.allclose(a.to_numpy(dtype=float), b.loc[a.index].to_numpy(dtype=float), equal_nan=True)
    # every segment goes to the CSV beside the page
    name = part.write_csv(tmp_path)
    assert name == "breakdown_team.csv"
    written = pd.read_csv(tmp_path / name)
    assert set(written["team"].dropna()) == set(t["team"]) and len(written) == len(part.full)
    assert part.write_csv(None) is None


def test_breakdown_of_an_absent_column_says_so(wide):
    from cxassess.kpis import breakdown
    from cxassess.plots import breakdown_section

    now, before = wide
    part = breakdown(now, before, by="region")
    shown = breakdown_section(part, kpis=["csat"])
    assert "not available: needs <code>tickets.region</code> (no such column)" in shown[1].data


def test_breakdown_chart_height_is_bounded(wide):
    from cxassess.plots import MAX_CHART_HEIGHT, kpi_breakdown

    now, before = wide
    from cxassess.kpis import scorecard

    card = scorecard(now, before, by="team")  # 40 segments, all drawn
    fig = kpi_breakdown(card, by="team", kpis=["csat", "transfer_rate"])
    assert fig.get_size_inches()[1] <= MAX_CHART_HEIGHT

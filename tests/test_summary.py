"""The summary page: the issue's four findings in its first screen, by their figures,
ranked, each linked to an anchor that exists on its page; and the findings come from the
package's computations (nothing where nothing is planted)."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cxassess.findings import SEVERITY_WEIGHT, by_subject, load

from .conftest import REPO, SAMPLE

CYCLE, PREVIOUS = "2026Q3", "2026Q2"


def _text(fragment: str) -> str:
    fragment = re.sub(r"<(style|script)\b.*?</\1>", " ", fragment, flags=re.S | re.I)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def _top_findings(page: str) -> list[tuple[str, str]]:
    """(text, href) of each item of the first findings list of the page: the item's whole
    text (its lead and the related findings under it) and the lead's link."""
    from bs4 import BeautifulSoup

    first = BeautifulSoup(page, "html.parser").find("ol", class_="findings")
    assert first is not None, "the summary has no findings list"
    return [(" ".join(item.get_text(" ").split()), item.find("a")["href"])
            for item in first.find_all("li", class_="finding", recursive=False)]


def _csat(surveys: pd.DataFrame) -> pd.Series:
    """Top-box per answered CSAT survey (4-5 of 5), independent of the package."""
    answered = surveys[(surveys["kind"] == "csat") & surveys["score"].notna()]
    return (answered.set_index("ticket_id")["score"] >= 4).astype(float)


def _transfer_rate(tickets: pd.DataFrame) -> float:
    return float((tickets["transfers"] > 0).mean())


@pytest.fixture(scope="module")
def expected() -> dict:
    """The four figures of the issue, computed with pandas from the sample's CSV files."""
    config = yaml.safe_load((SAMPLE / "review.yml").read_text(encoding="utf-8"))
    now = {t: pd.read_csv(SAMPLE / CYCLE / f"{t}.csv") for t in ("tickets", "surveys", "events")}
    before = pd.read_csv(SAMPLE / PREVIOUS / "tickets.csv")
    csat = _csat(now["surveys"])
    south_now = now["tickets"][now["tickets"]["team"] == "tier1_south"]
    south_before = before[before["team"] == "tier1_south"]
    events = now["events"].assign(ts=lambda e: pd.to_datetime(e["timestamp"], utc=True))
    events["stage"] = events["activity"].map(config["process"]["activities"])
    events = events.sort_values(["ticket_id", "ts"], kind="stable")
    events["hours"] = (events.groupby("ticket_id")["ts"].shift(-1) - events["ts"]).dt.total_seconds().fillna(0) / 3600
    specialist = events[events["stage"] == "specialist"].groupby("ticket_id")["hours"].sum()
    target = next(s["target_hours"] for s in config["process"]["stages"] if s["name"] == "specialist")
    teams = events.dropna(subset=["team"])
    changes = (teams["team"] != teams.groupby("ticket_id")["team"].shift()) & teams.duplicated("ticket_id")
    handoffs = changes.groupby(teams["ticket_id"]).sum().reindex(events["ticket_id"].unique(), fill_value=0)
    group = pd.Series(np.where(handoffs == 0, "0", np.where(handoffs == 1, "1", "2+")), index=handoffs.index)
    by_group = csat.groupby(group.reindex(csat.index)).mean()
    return {
        "csat": float(csat.mean()), "csat_target": config["targets"]["csat"],
        "south": (_transfer_rate(south_before), _transfer_rate(south_now)),
        "transfer_change": _transfer_rate(now["tickets"]) - _transfer_rate(before),
        "specialist_median": float(specialist.median()), "over_target": float((specialist > target).mean()),
        "path_gap": sorted(100 * (by_group["0"] - by_group[g]) for g in ("1", "2+")),
    }


@pytest.mark.slow
def test_summary_states_the_four_findings_first_ranked_and_linked(sample_review: Path, expected: dict):
    page = (sample_review / "01_summary.html").read_text(encoding="utf-8")
    # the first screen: the top findings come before the tiles and every other section
    assert page.index('<ol class="findings">') < page.index('class="tiles"')
    top = _top_findings(page)
    assert 1 <= len(top) <= 6
    texts = [t for t, _ in top]

    def which(*needles: str) -> int:
        hits = [i for i, t in enumerate(texts) if all(n in t for n in needles)]
        assert hits, f"no top finding states {needles}: {texts}"
        return hits[0]

    e = expected
    which(f"CSAT (top-box share) is {e['csat']:.1%}", f"target of {e['csat_target']:.1%}")
    which("Transfer rate rose", f"{100 * e['transfer_change']:+.1f} pp",
          f"driven by tier1_south ({e['south'][0]:.1%} → {e['south'][1]:.1%})")
    which("Specialist level is the new bottleneck", f"median of {e['specialist_median']:.1f} h",
          f"{e['over_target']:.0%} of its tickets over")
    low, high = e["path_gap"]
    which("transferred", f"{low:.0f}–{high:.0f} pp less satisfied")
    # each links to an anchor that exists on its page
    for _, href in top:
        name, _, anchor = href.partition("#")
        target = (sample_review / name).read_text(encoding="utf-8")
        assert anchor and f'id="{anchor}"' in target, href
    # ranked: severity weight × reach, highest first (scores recomputed from the saved findings)
    saved = {f.what: f for f in load(sample_review)}
    assert all(saved[t.split(" [")[0]].severity in ("high", "medium") for t in texts)  # to act on; low: context
    scores = [SEVERITY_WEIGHT[saved[t.split(" [")[0]].severity] * saved[t.split(" [")[0]].reach for t in texts]
    assert scores == sorted(scores, reverse=True)
    # one item per subject (a team, a stage): the most important leads, the others about it follow
    leads = [lead.what for lead, _ in by_subject(load(sample_review), severities=("high", "medium"))]
    assert leads[: len(top)] == [t.split(" [")[0] for t in texts]
    # the index lists the same first items, one per subject (not the NPS side of the CSAT bias)
    index = (sample_review / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r"<li><strong>(.*?)</strong>", re.findall(r'<ol class="findings">(.*?)</ol>', index,
                                                                     flags=re.S)[0])
    assert [html.unescape(t) for t in listed] == leads[:5]


@pytest.mark.slow
def test_review_pages_have_no_absolute_path_and_the_summary_is_listed_first(sample_review: Path):
    for page in sample_review.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for root in {str(Path.cwd()), str(sample_review), str(SAMPLE.resolve()), str(Path.home())}:
            assert root not in text, f"{page.name} shows {root}"
        # nor a relative one: the run's staging folder, a path's repr (a cell ending in a call that returns one)
        for shown in (os.path.relpath(sample_review.parent, REPO), ".staging-", "PosixPath("):
            assert shown not in text, f"{page.name} shows {shown}"
    # no cell shows a bare repr (the value of a call that was meant to save, not to show)
    for notebook in sample_review.glob("*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                bare = output["output_type"] == "execute_result" and set(output["data"]) <= {"text/plain"}
                assert not bare, f"{notebook.name} shows {''.join(output['data']['text/plain'])[:80]}"
    index = (sample_review / "index.html").read_text(encoding="utf-8")
    pages = re.findall(r'<ol class="pages">(.*?)</ol>', index, flags=re.S)[0]
    assert re.findall(r'href="([^"]+)"', pages)[0] == "01_summary.html"
    assert index.index("Top findings") < index.index("About this run") < index.index("SHA-256")


@pytest.mark.slow
def test_findings_come_from_the_data_and_nothing_where_nothing_is_planted(tmp_path_factory):
    """With truths 2 (tier1_south games handle time) and 4 (the specialist bottleneck)
    switched off, neither a tier1_south nor a bottleneck finding comes."""
    import cxassess as cx
    from cxassess.synth import SampleSpec, write_sample

    spec = SampleSpec()
    truths = tuple(t for t in spec.truths if t not in (2, 4))
    root = tmp_path_factory.mktemp("no-truths") / "sample"
    write_sample(root, SampleSpec(truths=truths))
    data = cx.quality.checked_cycle(root, CYCLE, None)
    before = cx.quality.checked_cycle(root, PREVIOUS, None, strict=False)
    found = [*cx.kpis.findings(data, before), *cx.process.findings(data, before)]
    assert not [f for f in found if f.team == "tier1_south" or "tier1_south" in f.what]
    assert not [f for f in found if f.kind == "bottleneck"]
    # the default sample, computed the same way, has both
    data = cx.quality.checked_cycle(SAMPLE, CYCLE, None)
    before = cx.quality.checked_cycle(SAMPLE, PREVIOUS, None, strict=False)
    found = [*cx.kpis.findings(data, before), *cx.process.findings(data, before)]
    assert [f for f in found if f.team == "tier1_south"] and [f for f in found if f.kind == "bottleneck"]


@pytest.mark.slow
def test_the_summary_alone_finds_what_the_review_run_found(sample_review: Path):
    """Opened alone in JupyterLab (no report folder) the summary computes the findings with
    the same functions the pages call: the same sentences as the review run saved (the
    improvement page's findings need its history store: not computed alone)."""
    import cxassess as cx

    data = cx.quality.checked_cycle(SAMPLE, CYCLE, None)
    before = cx.quality.checked_cycle(SAMPLE, PREVIOUS, None, strict=False)
    alone = cx.findings.rank([*cx.plausibility.findings(cx.plausibility.checks(data, before)),
                              *cx.kpis.findings(data, before), *cx.process.findings(data, before),
                              *cx.audit.findings(data, before)])
    own_work = ("30_voice_of_customer", "50_improvement")  # pages whose findings need their own computations
    assert [f.what for f in alone] == [f.what for f in load(sample_review) if f.page not in own_work]


def test_the_landing_page_runs_after_the_others_and_is_listed_first(tmp_path):
    """The summary reads the findings the other pages save: it starts only when they are
    done, and comes first in the results (the navigation, the index)."""
    import unittest.mock
    from concurrent.futures import Future

    import nbformat
    from nbformat.v4 import new_notebook

    from cxassess import report

    pages = []
    for name, landing in (("00_a", False), ("01_summary", True), ("10_b", False)):
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(new_notebook(metadata={"cxassess": {"landing": True}} if landing else {}), path)
        pages.append(path)
    started: list[str] = []

    class Pool:  # records the order of submission and when each batch ends; runs nothing
        def __init__(self, max_workers):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            started.append("|")
            return False

        def submit(self, fn, i, page):
            started.append(page.stem)
            done = Future()
            done.set_result(report.PageResult(page.name, page.stem, f"{page.stem}.html", 0.0))
            return done

    with unittest.mock.patch.object(report, "ThreadPoolExecutor", Pool):
        results = report._execute(pages, tmp_path, {}, 2, tmp_path / "failed", lambda line: None)
    assert started == ["00_a", "10_b", "|", "01_summary", "|"]  # the others first, together; then the summary
    assert [r.notebook for r in results] == ["01_summary.ipynb", "00_a.ipynb", "10_b.ipynb"]


@pytest.mark.slow
def test_pages_speak_plain_language(sample_review: Path):
    """No column id, stage id, Python value, file the reader lacks or negative zero on the
    pages; a glossary explains the Kaplan–Meier median."""
    leaks = ["DESIGN.md", "median_hours", "from_team", "to_team", "True", "False", "None", "nan", "min_n",
             "KM median", "first_level", "customer_time", "-0.00", "-0.0 pp"]
    for name in ("index", "00_data_quality", "01_summary", "05_cycle_overview", "10_process_stages",
                 "20_kpi_scorecard"):
        page = sample_review / f"{name}.html"
        text = _text(page.read_text(encoding="utf-8"))
        found = [w for w in leaks if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w])", text)]
        assert found == [], (page.name, found)
    for stem in ("01_summary", "10_process_stages", "20_kpi_scorecard"):
        text = _text((sample_review / f"{stem}.html").read_text(encoding="utf-8"))
        assert "Kaplan–Meier" in text[text.index("Glossary"):], stem

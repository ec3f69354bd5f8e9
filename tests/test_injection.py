"""Escape by construction: a review whose every text value carries HTML/JS injection
strings renders pages without any executable tag or attribute from them.

Every text column of every table and every string of review.yml is made hostile
(consistently, so the gate still accepts the values), a few rows are made invalid so the
data-quality page shows failed-check examples from the data, then the whole review runs
and every page is parsed with the standard library's HTML parser.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxassess.report import run_review
from cxassess.synth import SampleSpec, write_sample

from .conftest import REPO

PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>')
#: Text columns made hostile, per table (ids of tickets stay: they join the tables).
TEXT_COLUMNS = {
    "tickets": ["channel", "priority", "category", "team", "agent_id", "customer_id"],
    "events": ["activity", "stage", "team", "agent_id"],
    "surveys": ["comment", "language"],
    "audits": ["agent_id", "criterion", "auditor_id"],
    "customers": ["customer_id", "segment"],
    "actions": ["title", "stage", "owner"],
}


def hostile(value: str) -> str:
    """The value with one of the payloads appended (always the same one for a value)."""
    return f"{value}{PAYLOADS[sum(map(ord, value)) % len(PAYLOADS)]}"


def _hostile_config(raw: dict) -> dict:
    stages = {s["name"]: hostile(s["name"]) for s in raw["process"]["stages"]}
    process = raw["process"]
    process["stages"] = [
        {**s, "name": stages[s["name"]], "label": hostile(s["label"]), "lane": hostile(s["lane"])}
        for s in process["stages"]
    ]
    process["activities"] = {hostile(a): stages[s] for a, s in process["activities"].items()}
    for key in ("first_response_activities", "agent_reply_activities", "resolution_activities",
                "closing_activities"):
        process[key] = [hostile(a) for a in process.get(key, [])]
    process["transitions"] = [[stages[a], stages[b]] for a, b in process.get("transitions", [])]
    for kind in ("channels", "priorities", "categories", "teams", "languages"):
        raw["values"][kind] = [hostile(v) for v in raw["values"][kind]]
    for policy in raw["sla"]:
        policy["name"] = hostile(policy["name"])
        for key in ("channels", "priorities"):
            if key in policy:
                policy[key] = [hostile(v) for v in policy[key]]
    for item in raw["qa_scorecard"]:
        item["criterion"], item["section"] = hostile(item["criterion"]), hostile(item["section"])
    qa = raw.get("qa") or {}
    qa["section_targets"] = {hostile(k): v for k, v in (qa.get("section_targets") or {}).items()}
    raw["name"] = "inj<img src=x onerror=alert(1)>"
    raw["title"] = "Desk " + " ".join(PAYLOADS)
    return raw, stages


@pytest.fixture(scope="module")
def hostile_review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_sample(tmp_path_factory.mktemp("inj") / "hostile", SampleSpec(tickets_per_cycle=200))
    for label in ("2025Q4", "2026Q1"):  # two cycles are enough: faster
        shutil.rmtree(root / label)
    raw, stages = _hostile_config(yaml.safe_load((root / "review.yml").read_text("utf-8")))
    (root / "review.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    for cycle in ("2026Q2", "2026Q3"):
        for table, columns in TEXT_COLUMNS.items():
            path = root / cycle / f"{table}.csv"
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            for column in columns:
                mapping = stages if column == "stage" else None
                df[column] = [v if v == "" else (mapping.get(v, hostile(v)) if mapping else hostile(v))
                              for v in df[column]]
            if cycle == "2026Q3" and table == "tickets":
                df.loc[[3, 7], "team"] = PAYLOADS[0]  # not an allowed team: quarantined
            if cycle == "2026Q3" and table == "surveys":
                answered = df.index[(df["kind"] == "csat") & (df["score"] != "")][:2]
                df.loc[answered, "score"] = "9"  # off the 5-point scale: quarantined
                df.loc[answered, "comment"] = PAYLOADS[1]
            df.to_csv(path, index=False)
    reports = root.parent / "reports"
    return run_review(root, "2026Q3", notebooks=REPO / "notebooks", reports=reports, echo=lambda _: None)


class _Page(HTMLParser):
    """Collects what could execute: script texts, on* attributes, img and svg elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.images: list[str] = []
        self.svgs = 0
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, name) for name, _ in attrs if name.lower().startswith("on")]
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        elif tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    page.close()
    return page


@pytest.mark.slow
def test_no_page_carries_an_executable_tag_from_the_data(hostile_review: Path) -> None:
    pages = sorted(hostile_review.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "00_data_quality.html", "05_cycle_overview.html",
                                       "10_process_stages.html", "20_kpi_scorecard.html", "40_quality_audits.html"}
    for path in pages:
        page = _parse(path)
        assert not [s for s in page.scripts if "alert" in s], path.name
        assert page.handlers == [], path.name
        assert page.svgs == 0, path.name
        assert all(src.startswith("data:image/") for src in page.images), (path.name, page.images)
        # the payloads are there, shown as text: the test exercises the escaping
        text = "".join(page.text)
        assert "Desk " + " ".join(PAYLOADS) in text, path.name


@pytest.mark.slow
def test_quarantined_examples_show_the_payload_as_text(hostile_review: Path) -> None:
    page = _parse(hostile_review / "00_data_quality.html")
    text = "".join(page.text)
    assert PAYLOADS[0] in text  # the unknown team, in the failed check's examples
    quarantine = pd.read_csv(hostile_review / "quarantine" / "tickets.csv", dtype=str)
    assert sorted(quarantine["row"].astype(int)) == [4, 8]
    assert (quarantine["team"] == PAYLOADS[0]).all()


@pytest.mark.slow
def test_stage_and_scorecard_pages_show_hostile_labels_as_text(hostile_review: Path) -> None:
    stages = "".join(_parse(hostile_review / "10_process_stages.html").text)
    assert hostile("Specialist level") in stages  # stage label in the stage table
    scorecard = "".join(_parse(hostile_review / "20_kpi_scorecard.html").text)
    assert hostile("tier1_north") in scorecard  # a team in the breakdown tables
    audits = "".join(_parse(hostile_review / "40_quality_audits.html").text)
    assert hostile("flow_followed") in audits and hostile("tier1_south") in audits  # criterion, team

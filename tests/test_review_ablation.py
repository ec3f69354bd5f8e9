"""The whole review on exports of any shape: every optional column absent, and every table
absent, on a small copy of the sample. Each run must exit cleanly, the pages that need the
missing input must say "not available" and name it, and no page may show an error."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxassess.report import run_review
from cxassess.schema import REQUIRED, SCHEMA
from cxassess.synth import SampleSpec, write_sample

from .conftest import REPO

pytestmark = pytest.mark.slow

CYCLES = ("2026Q2", "2026Q3")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small seeded sample (two cycles of 150 tickets) written once."""
    root = write_sample(tmp_path_factory.mktemp("small") / "small", SampleSpec(tickets_per_cycle=150, seed=11))
    for folder in root.iterdir():
        if folder.is_dir() and folder.name not in CYCLES:
            shutil.rmtree(folder)
    return root


def variant(small: Path, tmp_path: Path, change) -> Path:
    """A copy of the small sample with ``change(table, frame)`` applied to every cycle's files
    (return ``None`` to leave a table out)."""
    root = tmp_path / "desk"
    shutil.copytree(small, root)
    for cycle in CYCLES:
        for path in (root / cycle).glob("*.csv"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            changed = change(path.stem, frame)
            if changed is None:
                path.unlink()
            else:
                changed.to_csv(path, index=False)
    return root


def page_text(folder: Path) -> dict[str, str]:
    out = {}
    for page in sorted(folder.glob("*.html")):
        body = re.sub(r"<style.*?</style>|<img[^>]*>", "", page.read_text(encoding="utf-8"), flags=re.S)
        out[page.name] = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
    return out


def review(root: Path, tmp_path: Path) -> dict[str, str]:
    folder = run_review(root, "2026Q3", notebooks=REPO / "notebooks", reports=tmp_path / "reports",
                        echo=lambda _: None)
    pages = page_text(folder)
    for name, text in pages.items():
        for bad in ("Traceback", "Error:", "KeyError", "ColumnNotFound"):
            assert bad not in text, (name, bad)
    return pages


OPTIONAL = [(t, c) for t, columns in SCHEMA.items() for c in columns
            if c not in REQUIRED[t] and t in ("tickets", "events", "surveys", "customers")]


@pytest.mark.parametrize(("table", "column"), OPTIONAL, ids=[f"{t}.{c}" for t, c in OPTIONAL])
def test_the_review_without_an_optional_column(small, tmp_path, table, column):
    root = variant(small, tmp_path, lambda t, f: f.drop(columns=[column], errors="ignore") if t == table else f)
    pages = review(root, tmp_path)
    if (table, column) in {("tickets", "transfers"), ("tickets", "resolved_at"), ("surveys", "score"),
                           ("customers", "active_to"), ("tickets", "first_response_at")}:
        assert f"not available: needs {table}.{column}" in pages["20_kpi_scorecard.html"]
    if (table, column) == ("events", "team"):
        assert "not available: needs events.team" in pages["10_process_stages.html"]


@pytest.mark.parametrize("kept", [("events",), ("tickets",), ("surveys", "tickets"), ("tickets", "customers")],
                         ids=lambda k: "+".join(k))
def test_the_review_with_some_tables_only(small, tmp_path, kept):
    def change(table, frame):
        if table not in kept:
            return None
        return frame[list(REQUIRED["tickets"])] if kept == ("tickets",) else frame

    pages = review(variant(small, tmp_path, change), tmp_path)
    card = pages["20_kpi_scorecard.html"]
    if "surveys" not in kept:
        assert "not available: needs surveys (no such table in this cycle)" in card
    if kept == ("tickets",):  # only ticket_id and created_at
        assert "not available: needs tickets.transfers (no such column)" in card
        assert "not available: needs events (no such table in this cycle)" in pages["10_process_stages.html"]
    if kept == ("events",):
        assert "derived from" in card

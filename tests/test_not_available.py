"""Unknown is not zero: a cycle whose tickets hold only the columns that segment them
(no survey, no resolution, no transfer ...) has no KPI; its pages say what each part needs
instead of showing empty tables, empty charts or counts of 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxassess import kpis, plots
from cxassess.cycles import load_cycle

from .conftest import SAMPLE

#: The columns kept: the two the contract requires, and the two the review breaks down by.
KEPT = ["ticket_id", "created_at", "channel", "team"]


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The sample's 2026Q3 and 2026Q2 with a tickets table of :data:`KEPT` only, no other table."""
    dataset = tmp_path_factory.mktemp("bare") / "bare"
    dataset.mkdir()
    shutil.copy(SAMPLE / "review.yml", dataset)
    for label in ("2026Q2", "2026Q3"):
        (dataset / label).mkdir()
        tickets = pd.read_csv(SAMPLE / label / "tickets.csv", dtype=str)
        tickets[KEPT].to_csv(dataset / label / "tickets.csv", index=False)
    q3 = load_cycle(dataset, "2026Q3")
    return q3, q3.load_previous()


def test_a_breakdown_without_any_kpi_is_a_note_not_an_empty_table(bare):
    now, before = bare
    part = kpis.breakdown(now, before, by="channel")
    # what the chart's KPIs need, by hand: CSAT the surveys; FCR, reopen rate and time to
    # resolve tickets.resolved_at (FCR and reopen rate also tickets.reopens, FCR
    # tickets.transfers too); the transfer rate tickets.transfers
    assert part.missing.startswith("not available: needs ")
    for need in ("`surveys`", "`tickets.resolved_at`", "`tickets.reopens`", "`tickets.transfers`"):
        assert need in part.missing
    assert part.missing.count("`tickets.resolved_at`") == 1  # each need once
    shown = plots.breakdown_section(part, kpis=part.kpis)
    assert len(shown) == 2 and "<table" not in shown[1].data and "not available: needs" in shown[1].data
    assert part.write_csv(Path("unused")) is None  # no empty CSV either


def test_kpi_tiles_without_any_kpi_are_a_note_saying_what_they_need(bare):
    now, before = bare
    out = plots.kpi_tiles(kpis.scorecard(now, before)).data
    assert 'class="tile"' not in out and 'class="tiles"' not in out
    assert out.startswith("<p><strong>Headline KPIs:</strong> not available: needs ")
    # CSAT and NPS need the surveys, the escalation rate tickets.escalated, the transfer rate
    # tickets.transfers, the reopen rate tickets.resolved_at and tickets.reopens
    for need in ("surveys", "tickets.escalated", "tickets.transfers", "tickets.resolved_at", "tickets.reopens"):
        assert f"<code>{need}</code>" in out
        assert out.count(f"<code>{need}</code>") == 1


def test_kpi_trends_without_any_kpi_are_a_note_not_an_empty_chart(bare):
    now, before = bare
    history = kpis.kpi_history(now.config.root, upto="2026Q3", reuse=(now, before))
    assert sorted(history["cycle"].unique()) == ["2026Q2", "2026Q3"] and history["value"].isna().all()
    out = plots.kpi_trends(history, targets=now.config.targets)
    assert not hasattr(out, "savefig")  # no figure
    assert out.data.startswith("<p><strong>KPI trends:</strong> not available: needs ")
    for need in ("surveys", "customers", "tickets.first_response_at", "tickets.resolved_at", "tickets.transfers"):
        assert out.data.count(f"<code>{need}</code>") == 1


def test_the_scorecard_shows_no_count_for_a_kpi_that_is_not_available(bare):
    now, before = bare
    full = load_cycle(SAMPLE, "2026Q3").tickets
    with_transfers = now.with_tables(tickets=full[[*KEPT, "transfers"]])  # the transfer rate can be computed
    card = kpis.scorecard(with_transfers, before)
    shown = plots.scorecard_table(card).data
    assert (card["note"] != "").sum() == len(card) - 1 and (card.loc[card["note"] != "", "n"] == 0).all()
    absent = shown[shown["note"].str.startswith("not available")]
    assert len(absent) == len(card) - 1 and set(absent["n"]) == {"–"} and set(absent["value"]) == {"–"}
    transfer = shown[shown["KPI"] == card.loc[card["kpi"] == "transfer_rate", "label"].item()]
    assert transfer["n"].item() == f"{len(full):,}"  # every ticket of the cycle, a real count

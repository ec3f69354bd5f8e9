"""The history store written by the review run: only after success, the same rows on a
re-run, nothing on a failed run; `cxassess history` lists and exports it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxassess import cli, improve, synth
from cxassess.errors import ReviewRunError
from cxassess.report import run_review
from tests.test_report import notebook


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return synth.write_sample(tmp_path_factory.mktemp("hist") / "desk",
                              synth.SampleSpec(tickets_per_cycle=300, cycles=("2026Q2", "2026Q3")))


def _snapshot(store: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for table in improve.TABLES:
        rows = improve.read_history(store, table)
        out[table] = rows.drop(columns=["written_utc"], errors="ignore").sort_values(
            [c for c in rows.columns if c not in ("written_utc", "figures")], kind="stable").reset_index(drop=True)
    return out


@pytest.mark.slow
def test_the_review_run_writes_the_store_once_per_cycle_and_a_failed_run_writes_nothing(small, tmp_path):
    pages = tmp_path / "nb"
    pages.mkdir()
    notebook(pages / "01_ok.ipynb", "x = 1")
    reports = tmp_path / "reports"
    run_review(small, "2026Q3", notebooks=pages, reports=reports, echo=lambda _: None)
    store = reports / "desk" / improve.STORE_NAME
    first = _snapshot(store)
    assert set(first["kpis"]["cycle"]) == {"2026Q3"}
    assert set(first["weekly"]["cycle"]) == {"2026Q2", "2026Q3"}  # the earlier cycle's series too
    assert (reports / "desk" / "2026Q3" / "proposals.csv").is_file()

    run_review(small, "2026Q3", notebooks=pages, reports=reports, echo=lambda _: None)  # again
    again = _snapshot(store)
    for table in first:
        pd.testing.assert_frame_equal(first[table], again[table], check_dtype=False)

    notebook(pages / "02_broken.ipynb", "raise RuntimeError('boom')")
    with pytest.raises(ReviewRunError):
        run_review(small, "2026Q3", notebooks=pages, reports=reports, echo=lambda _: None)
    for table, rows in _snapshot(store).items():
        pd.testing.assert_frame_equal(first[table], rows, check_dtype=False)

    # the CLI lists and exports the store
    assert cli.main(["history", "--dataset", str(small), "--reports", str(reports)]) == 0
    out = tmp_path / "kpis.csv"
    assert cli.main(["history", "--dataset", str(small), "--reports", str(reports), "--csv", str(out)]) == 0
    assert len(pd.read_csv(out)) == len(first["kpis"])
    parquet = tmp_path / "weekly.parquet"
    assert cli.main(["history", "--dataset", str(small), "--reports", str(reports), "--table", "weekly",
                     "--parquet", str(parquet)]) == 0
    assert len(pd.read_parquet(parquet)) == len(first["weekly"])


def test_history_without_a_store_says_how_to_make_one(tmp_path, capsys):
    assert cli.main(["history", "--dataset", "data/sample", "--reports", str(tmp_path)]) == 1
    assert "run a review first" in capsys.readouterr().err

"""The history store written by the review run: only after success, the same rows on a
re-run, nothing on a failed run; `cxassess history` lists and exports it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxassess import cli, improve, kpis, process, synth
from cxassess.errors import ReviewRunError
from cxassess.quality import checked_cycle
from cxassess.report import run_review
from tests.conftest import REPO
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


@pytest.mark.slow
def test_the_run_records_what_the_pages_computed_without_loading_the_cycle_again(small, tmp_path, monkeypatch):
    pages = tmp_path / "nb"
    pages.mkdir()
    for name in ("10_process_stages", "20_kpi_scorecard", "50_improvement"):
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", pages)

    def recomputes(*args, **kwargs):
        raise AssertionError("the run loaded the cycle or computed a table the pages saved")

    # in this process only: the pages run in kernels of their own
    for module, name in ((improve, "checked_cycle"), (improve, "weekly_kpis"), (kpis, "cycle_kpis"),
                         (process, "stage_metrics")):
        monkeypatch.setattr(module, name, recomputes)
    reports = tmp_path / "reports"
    folder = run_review(small, "2026Q3", notebooks=pages, reports=reports, echo=lambda _: None)
    monkeypatch.undo()
    assert sorted(p.name for p in (folder / improve.RECORD_FOLDER).iterdir()) == [
        "kpis.parquet", "stages.parquet", "weekly.parquet"]

    store = _snapshot(reports / "desk" / improve.STORE_NAME)
    data = checked_cycle(small, "2026Q3")
    q2 = improve.weekly_kpis(checked_cycle(small, "2026Q2", strict=False))
    direct = {"kpis": [("2026Q3", kpis.cycle_kpis(data))],
              "stages": [("2026Q3", process.stage_metrics(data.events, data.config.process))],
              "weekly": [("2026Q2", q2), ("2026Q3", improve.weekly_kpis(data))]}
    for table, frames in direct.items():
        expected = pd.concat([improve._conform(table, frame, label) for label, frame in frames], ignore_index=True)
        got = store[table]
        assert len(got) == len(expected) > 0
        keys = [c for c in expected.columns if not pd.api.types.is_float_dtype(expected[c])]
        pd.testing.assert_frame_equal(got.sort_values(keys, kind="stable").reset_index(drop=True),
                                      expected.sort_values(keys, kind="stable").reset_index(drop=True),
                                      check_dtype=False)


def test_history_without_a_store_says_how_to_make_one(tmp_path, capsys):
    assert cli.main(["history", "--dataset", "data/sample", "--reports", str(tmp_path)]) == 1
    assert "run a review first" in capsys.readouterr().err


def test_history_export_to_a_bad_place_or_of_an_unknown_cycle_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import os

    reports = tmp_path / "reports"
    store = reports / "sample" / improve.STORE_NAME
    for cycle, value in (("2026Q2", 0.7), ("2026Q3", 0.8)):
        improve.write_history(store, cycle, {"kpis": pd.DataFrame({"kpi": ["csat"], "value": [value], "n": [10]})})
    base = ["history", "--dataset", "data/sample", "--reports", str(reports)]

    def error(*args: str) -> str:
        assert cli.main([*base, *args]) == 1
        err = capsys.readouterr().err
        assert "How to fix: " in err and "Traceback" not in err and "internal error" not in err, err
        return err

    # the folder of --csv does not exist (was a bare OS error), is a file, or the path is a folder
    assert "nowhere does not exist" in error("--csv", str(tmp_path / "nowhere" / "k.csv"))
    (tmp_path / "file.txt").write_text("x")
    assert "file.txt is a file, not a folder" in error("--csv", str(tmp_path / "file.txt" / "k.csv"))
    assert "is a folder" in error("--csv", str(tmp_path))
    # a folder not writable (as root every folder is writable: the check is made to answer no)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real(p, mode))
    assert "locked is not writable" in error("--csv", str(locked / "k.csv"))
    monkeypatch.undo()
    # an OS error while writing (disk full, a read-only file system) is one line with the fix
    def full(frame, path):
        raise OSError(28, "No space left on device", str(path))
    monkeypatch.setattr("cxassess.export.write_csv", full)
    assert "cannot write" in error("--csv", str(tmp_path / "k.csv"))
    monkeypatch.undo()
    # a cycle the store does not hold, or no cycle at all (was 0 rows written, exit 0)
    assert "cycles stored: 2026Q2, 2026Q3" in error("--cycle", "2030Q1", "--csv", str(tmp_path / "k.csv"))
    assert "cycles stored: 2026Q2, 2026Q3" in error("--cycle", "2030Q1")
    assert "not a review cycle" in error("--cycle", "banana", "--csv", str(tmp_path / "k.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "locked", "reports"]
    # a stored cycle is exported, alone
    assert cli.main([*base, "--cycle", "2026Q3", "--csv", str(tmp_path / "k.csv")]) == 0
    rows = pd.read_csv(tmp_path / "k.csv", encoding="utf-8-sig")
    assert rows[["cycle", "kpi", "value"]].values.tolist() == [["2026Q3", "csat", 0.8]]

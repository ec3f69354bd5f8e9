"""Shared fixtures and helpers: the repository root, the real public data sets of
../shared/data, the review of the sample run once per session, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CXASSESS_SHARED_DATA", REPO.parent / "shared" / "data"))
SAMPLE = REPO / "data" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_file(relative: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"real data set {relative} not found under {SHARED} (set CXASSESS_SHARED_DATA)")
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes): to show a folder was left untouched."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def both(df: pd.DataFrame) -> list:
    """The same table as pandas and as Polars."""
    import polars as pl

    return [df, pl.from_pandas(df)]


def as_pandas(result) -> pd.DataFrame:
    """A calculator's result as a pandas table with a fresh index, whichever kind it is."""
    import polars as pl

    return result.to_pandas() if isinstance(result, pl.DataFrame) else result.reset_index(drop=True)


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run with the repository root as working folder, as make does."""
    monkeypatch.chdir(REPO)


@pytest.fixture(scope="session")
def sample_review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review of the sample's 2026Q3 (against 2026Q2) with the real notebooks, as
    ``make report`` runs it, once per test session: its report folder, in a temporary
    folder. Tests only read it; a test that needs to write copies it first."""
    from cxassess.report import run_review

    reports = tmp_path_factory.mktemp("sample-review")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return run_review(SAMPLE, "2026Q3", notebooks=REPO / "notebooks", reports=reports, echo=lambda _: None)

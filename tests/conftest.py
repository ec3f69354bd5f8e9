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
def _gate_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate-cache")


@pytest.fixture(autouse=True)
def _gate_cache_in_tmp(monkeypatch: pytest.MonkeyPatch, _gate_cache_root: Path) -> None:
    """The gates a page saves when run without a review go to a folder of the test
    session, not to the repository's reports/ (see cxassess.quality.gate_cache)."""
    monkeypatch.setenv("CXASSESS_GATE_CACHE", str(_gate_cache_root))


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


#: Debian's Chromium, driven by Playwright in the browser tests (.ci/run installs it).
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session (skipped without it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            yield chromium
        finally:
            chromium.close()
_SWITCHED: dict[tuple, Path] = {}


@pytest.fixture(scope="session")
def sample_with(tmp_path_factory: pytest.TempPathFactory):
    """``sample_with(truths=(1, 3, 4, 5, 8), survey_truth=True)``: the sample generated with
    those settings (default size), written once per test session and shared by the tests
    that ask for the same settings; its folder."""
    from cxassess.synth import SampleSpec, write_sample

    def make(**settings) -> Path:
        key = tuple(sorted(settings.items()))
        if key not in _SWITCHED:
            name = "".join(c if c.isalnum() else "_" for c in "-".join(f"{k}{v}" for k, v in key))
            folder = tmp_path_factory.mktemp("sample-" + name)
            _SWITCHED[key] = write_sample(folder, SampleSpec(**settings))
        return _SWITCHED[key]

    return make


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads the session's review of the sample (:func:`sample_review`) runs a
    whole review: it is slow, whatever its own markers say."""
    for item in items:
        if "sample_review" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

"""Report pages at real cardinality: small enough to mail, tables inside the window and
the A4 landscape page. Slow: they execute notebooks (papermill) and render them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxassess.report import render_html

from .conftest import CHROMIUM

WINDOW = (1366, 768)
A4_LANDSCAPE_PX = round((297 - 20) / 25.4 * 96)  # printable width with 10 mm margins, CSS px
PAGES = ("10_process_stages", "20_kpi_scorecard")


def _render(root: Path, out: Path, pages=PAGES) -> dict[str, Path]:
    """Run the gate and the given notebooks on the latest cycle of ``root`` as a review
    run does (gate saved in the report folder), and render each page."""
    import papermill as pm

    from cxassess import quality

    out.mkdir(parents=True, exist_ok=True)
    quality.check_cycle(root, "2026Q3").save(out)
    quality.check_cycle(root, "2026Q2").save(out / "previous")
    rendered = {}
    for name in pages:
        executed = out / f"{name}.ipynb"
        pm.execute_notebook(f"notebooks/{name}.ipynb", str(executed), kernel_name="python3", progress_bar=False,
                            parameters={"dataset": str(root), "cycle": "2026Q3", "previous_cycle": "2026Q2",
                                        "report_dir": str(out)})
        html = out / f"{name}.html"
        html.write_text(render_html(executed), encoding="utf-8")
        rendered[name] = html
    return rendered


@pytest.fixture(scope="module")
def wide_pages(tmp_path_factory):
    from cxassess.synth import write_wide_sample

    base = tmp_path_factory.mktemp("wide")
    root = write_wide_sample(base / "wide", tickets=10_000, teams=300, stages=15)
    return _render(root, base / "report")


@pytest.fixture(scope="module")
def sample_pages(sample_review):
    """The pages of the session's review of the sample (the same notebooks, gate and parameters)."""
    return {name: sample_review / f"{name}.html" for name in PAGES}


@pytest.mark.slow
def test_pages_of_300_teams_and_15_stages_stay_small(wide_pages):
    for name, page in wide_pages.items():
        size = page.stat().st_size
        assert size <= 1.5e6, f"{name}: {size / 1e6:.2f} MB"
    scorecard = wide_pages["20_kpi_scorecard"].read_text(encoding="utf-8")
    assert 'href="breakdown_team.csv"' in scorecard
    assert "other (288 segments)" in scorecard
    full = (wide_pages["20_kpi_scorecard"].parent / "breakdown_team.csv").read_text(encoding="utf-8")
    assert len({line.split(",")[0] for line in full.splitlines()[1:]} - {""}) == 300


_TABLES = """() => [...document.querySelectorAll('.jp-OutputArea-output table')].map(t => {
  const box = t.closest('.jp-OutputArea-output') || t.parentElement;
  const verdicts = [...t.querySelectorAll('td')].filter((td, i, all) => {
    const head = t.querySelectorAll('thead th')[td.cellIndex];
    return head && head.textContent.trim() === 'verdict';
  });
  return {right: t.getBoundingClientRect().right, overflow: box.scrollWidth - box.clientWidth,
          verdict_right: Math.max(0, ...verdicts.map(v => v.getBoundingClientRect().right)),
          verdict_clipped: verdicts.filter(v => v.scrollWidth > v.clientWidth + 1).length,
          verdicts: verdicts.length};
})"""


def _check_fit(page, width: int, where: str) -> int:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
    tables = page.evaluate(_TABLES)
    assert tables, where
    for i, t in enumerate(tables):
        assert t["right"] <= width and t["overflow"] <= 0, (where, i, t)
        assert t["verdict_right"] <= width and t["verdict_clipped"] == 0, (where, i, t)
    return sum(t["verdicts"] for t in tables)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("which", ["sample", "wide"])
def test_tables_fit_a_1366_px_window_and_an_a4_landscape_page(which, request, browser):
    pages = request.getfixturevalue(f"{which}_pages")
    page = browser.new_page(viewport={"width": WINDOW[0], "height": WINDOW[1]})
    try:
        verdicts = 0
        for name, html in pages.items():
            page.goto(html.as_uri())
            verdicts += _check_fit(page, WINDOW[0], f"{which} {name} on screen")
            page.emulate_media(media="print")
            page.set_viewport_size({"width": A4_LANDSCAPE_PX, "height": 800})
            _check_fit(page, A4_LANDSCAPE_PX, f"{which} {name} printed")
            page.emulate_media(media="screen")
            page.set_viewport_size({"width": WINDOW[0], "height": WINDOW[1]})
        assert verdicts > 0  # the verdict column was found and checked
        if which == "sample":  # the README's screenshot of the stage table
            page.goto(pages["10_process_stages"].as_uri())
            shot = Path(request.config.rootpath) / "reports" / "screenshots" / "report-stage-table.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".jp-OutputArea-output table").first.screenshot(path=str(shot))
            assert shot.stat().st_size < 300_000
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_every_page_opens_offline_without_errors_and_fits_the_window(sample_review, browser):
    """Every page of the review (all of notebooks/, whatever they are, and the index) in a
    1,366-px window: no console error, no request but file: and data:, every image
    decoded, nothing wider than the window."""
    pages = sorted(sample_review.glob("*.html"))
    assert len(pages) >= 5
    page = browser.new_page(viewport={"width": WINDOW[0], "height": WINDOW[1]})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        for html in pages:
            errors.clear()
            requests.clear()
            page.goto(html.as_uri(), wait_until="load")
            assert errors == [], (html.name, errors)
            assert all(u.startswith(("file:", "data:")) for u in requests), (html.name, requests)
            images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.alt])")
            assert all(done and width > 0 and alt for done, width, alt in images), (html.name, images)
            assert page.evaluate("document.documentElement.scrollWidth") <= WINDOW[0], html.name
            assert page.title() and page.title() != "Notebook", html.name
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_printed_review_shows_every_verdict_of_the_scorecard(sample_review, tmp_path):
    """make pdf on the session's review: one PDF, portrait pages and landscape ones for the
    wide tables, and no clipped column: every verdict and target status of the scorecard's
    table (the right-most columns, the first cut when a table is clipped) is in its text."""
    import shutil

    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    from cxassess.report import print_review

    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    review = shutil.copytree(sample_review, tmp_path / "review")
    pdf = print_review(review, paper="A4")
    reader = PdfReader(pdf)
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes <= {(595, 842), (842, 595)} and (595, 842) in sizes  # A4 portrait, and landscape when wide
    assert [o.title for o in reader.outline][0] == "Review index"
    text = "\n".join(p.extract_text() for p in reader.pages)
    soup = BeautifulSoup((review / "20_kpi_scorecard.html").read_text(encoding="utf-8"), "html.parser")
    table = next(t for t in soup.select(".jp-OutputArea-output table")
                 if "verdict" in [th.get_text(strip=True) for th in t.select("thead th")])
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    wanted: dict[str, int] = {}
    for tr in table.select("tbody tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"], recursive=False)]
        for column in ("verdict", "status"):
            word = cells[heads.index(column)].split(" ", 1)[-1] if column in heads else ""
            if word:
                wanted[word] = wanted.get(word, 0) + 1
    assert wanted.get("worsened", 0) >= 1, wanted
    for word, count in wanted.items():
        assert len(re.findall(rf"\b{re.escape(word)}\b", text)) >= count, (word, count)
    letter = print_review(review, paper="Letter", out=tmp_path / "letter.pdf")
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
            for p in PdfReader(letter).pages} <= {(612, 792), (792, 612)}

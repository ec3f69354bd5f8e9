"""Accessibility of the review's pages: WCAG AA contrast of every colour the charts, tables
and templates use, real page titles, alt text on every chart, captions and row headers on
every table, symbols beside the verdict colours, and chart text of at least 11 px on the
printed page. The contrast ratios are computed here from the WCAG 2 formula, not with the
package's own function."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from cxassess import plots
from cxassess.report import notebook_title

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [ROOT / "cxassess/templates/nbconvert/cxassess/index.html.j2",
             ROOT / "cxassess/templates/report/index.html.j2"]
HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _wcag(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio, from the definition of relative luminance (sRGB)."""
    def lum(colour: str) -> float:
        h = colour.lstrip("#")
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        channels = []
        for i in (0, 2, 4):
            c = int(h[i:i + 2], 16) / 255
            channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
        r, g, bl = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_wcag_formula_matches_published_ratios():
    # WebAIM's contrast checker: #767676 on white 4.54:1, #777777 4.48:1, black on white 21:1
    assert round(_wcag("#767676", "#ffffff"), 2) == 4.54
    assert round(_wcag("#777777", "#ffffff"), 2) == 4.48
    assert _wcag("#000", "#fff") == pytest.approx(21.0)
    for fg, bg in (("#767676", "#ffffff"), ("#c62828", "#ebebeb"), ("#0069a3", "#f4f4f4")):
        assert plots.contrast_ratio(fg, bg) == pytest.approx(_wcag(fg, bg))


def test_text_colours_have_4_5_to_1_on_every_background_they_sit_on():
    text = {**{f"verdict {k}": v for k, v in plots.VERDICT_COLOURS.items()},
            "small n": plots.SMALL_N_GREY, "chart text": plots.TEXT_GREY,
            **{f"series {i}": c for i, c in enumerate(plots.SERIES_COLOURS)}}
    for name, colour in text.items():
        assert _wcag(colour, "#ffffff") >= 4.5, (name, colour, round(_wcag(colour, "#ffffff"), 2))
    for bg in plots.BACKGROUNDS:  # the chart's labels sit on the lanes' shading too
        assert _wcag(plots.TEXT_GREY, bg) >= 4.5, bg
    # the bottleneck's numbers are red on its shaded box
    assert _wcag(plots.VERDICT_COLOURS["missed"], plots.BOTTLENECK_FILL) >= 4.5


def test_graphics_have_3_to_1_on_every_chart_background():
    graphics = {**{f"light {k}": v for k, v in plots.LIGHT_COLOURS.items()},
                **{f"ramp {i}": c for i, c in enumerate(plots.FLOW_RAMP)},
                "customer time": plots.CUSTOMER_GREY,
                **{f"verdict {k}": v for k, v in plots.VERDICT_COLOURS.items()},
                **{f"series {i}": c for i, c in enumerate(plots.SERIES_COLOURS)}}
    for name, colour in graphics.items():
        for bg in plots.BACKGROUNDS:
            assert _wcag(colour, bg) >= 3.0, (name, colour, bg, round(_wcag(colour, bg), 2))


def test_every_colour_written_in_the_plots_module_is_accounted_for():
    """A colour literal added to plots.py must be a background, a fill, or pass 3:1 on
    white (a new one cannot slip in unchecked)."""
    source = (ROOT / "cxassess/plots.py").read_text(encoding="utf-8")
    allowed = {c.lower() for c in (*plots.BACKGROUNDS, plots.BOTTLENECK_FILL)}
    for colour in set(HEX.findall(source)):
        if colour.lower() in allowed:
            continue
        assert _wcag(colour, "#ffffff") >= 3.0, colour


def _css_rules(css: str):
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declared = dict(re.findall(r"(?:^|;)\s*([a-z-]+)\s*:\s*([^;]+)", body))
        yield selector.strip(), declared


def test_template_text_colours_have_4_5_to_1_on_their_background():
    checked = 0
    for template in TEMPLATES:
        css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", template.read_text(encoding="utf-8"), re.S))
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for selector, declared in _css_rules(css):
            colour = HEX.search(declared.get("color", ""))
            if not colour:
                continue
            bg = HEX.search(declared.get("background", "") + declared.get("background-color", ""))
            backgrounds = [bg[0]] if bg else ["#ffffff", "#fff4d6", "#fde2e1"]  # page, banners
            if not bg and "banner" not in selector and "nav" not in selector:
                backgrounds = ["#ffffff"]
            for b in backgrounds:
                assert _wcag(colour[0], b) >= 4.5, (template.name, selector, colour[0], b)
                checked += 1
    assert checked >= 4


def test_verdicts_and_lights_carry_a_symbol_besides_their_colour():
    assert set(plots.VERDICT_SYMBOLS) == set(plots.VERDICT_COLOURS)
    assert len(set(plots.VERDICT_SYMBOLS.values())) == len(plots.VERDICT_SYMBOLS)
    assert len(set(plots.LIGHT_SYMBOLS.values())) == len(plots.LIGHT_SYMBOLS) == len(plots.LIGHT_COLOURS)


def _pages(review: Path) -> dict[str, BeautifulSoup]:
    return {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in sorted(review.glob("*.html"))}


def test_every_page_has_its_own_title(sample_review):
    pages = _pages(sample_review)
    assert len(pages) >= 5
    for name, soup in pages.items():
        title = soup.title.get_text()
        assert title and title != "Notebook", name
        if name != "index.html":
            heading = notebook_title(nbformat.read(sample_review / name.replace(".html", ".ipynb"), as_version=4), "")
            assert heading and title.startswith(heading), (name, title, heading)
    assert len({soup.title.get_text() for soup in pages.values()}) == len(pages)


def test_every_chart_has_alt_text_saying_what_it_shows_and_finds(sample_review):
    seen = 0
    for name, soup in _pages(sample_review).items():
        for img in soup.find_all("img"):
            alt = img.get("alt", "")
            assert alt and "No description" not in alt and not alt.startswith("Chart"), (name, alt)
            assert len(alt) >= 60 and re.search(r"\d", alt), (name, alt)  # a finding, with its figures
            seen += 1
    assert seen >= 5
    flow = next(img["alt"] for img in _pages(sample_review)["10_process_stages.html"].find_all("img")
                if img["alt"].startswith("Flow chart"))
    # the sample's planted bottleneck (data/sample/README.md): the specialist stage, ~45 h median
    assert "bottleneck is Specialist level" in flow and re.search(r"median 4\d\.\d h", flow), flow


def test_every_table_has_a_caption_and_row_headers(sample_review):
    tables = 0
    for name, soup in _pages(sample_review).items():
        if name == "index.html":
            continue
        for table in soup.select(".jp-OutputArea-output table"):
            tables += 1
            assert table.caption is not None and table.caption.get_text(strip=True), name
            for tr in table.select("tbody tr"):
                first = tr.find(["td", "th"], recursive=False)
                assert first is None or (first.name == "th" and first.get("scope") == "row"), (name, str(tr)[:200])
    assert tables >= 5
    scorecard = _pages(sample_review)["20_kpi_scorecard.html"].get_text()
    assert "▼ worsened" in scorecard  # the sample's CSAT fell: shown with its symbol, not by colour alone


def test_chart_text_is_at_least_11_px_on_the_printed_page(sample_review):
    """Every chart of every page: the smallest text as an A4 portrait page shows it (the
    figure's own measurement, saved in the output's metadata by plots.use_style)."""
    charts = 0
    for notebook in sorted(sample_review.glob("*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            for output in cell.get("outputs", []):
                if "image/png" not in output.get("data", {}):
                    continue
                charts += 1
                px = output.get("metadata", {}).get("image/png", {}).get("smallest_text_px")
                assert px is not None and px >= plots.MIN_TEXT_PX, (notebook.name, px)
    assert charts >= 5


def test_smallest_text_px_scales_with_the_page():
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(7.0, 2.0), dpi=100)
    fig.text(0.05, 0.5, "a label at 8.5 points", fontsize=8.5)
    fig.text(0.6, 0.5, "a title", fontsize=12)
    # 8.5 pt at 100 dpi = 8.5 * 100 / 72 px, unscaled when the page is wide enough
    assert plots.smallest_text_px(fig, 2000) == pytest.approx(8.5 * 100 / 72)
    width = (fig.get_tightbbox().width + 0.2) * 100
    assert plots.smallest_text_px(fig, width / 2) == pytest.approx(8.5 * 100 / 72 / 2)
    plt.close(fig)

"""Planning maps in a real browser: headless Debian Chromium driven by Playwright.

Every request that is not for a local file is blocked (and recorded), so these
tests also prove that an offline map needs no network.  Without
``/usr/bin/chromium`` they skip, unless ``GEOPLAN_REQUIRE_BROWSER=1`` (set by
CI), in which case they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_maps import CRITERIA, EVIL, real_ranked, sample_layers, synthetic_ranked

from geoplan.maps.build import make_map, save_map
from geoplan.maps.snapshot import CHROMIUM_ARGS, save_pdf, save_png

CHROMIUM = Path(os.environ.get("GEOPLAN_CHROMIUM", "/usr/bin/chromium"))

pytestmark = pytest.mark.browser


def _need_browser() -> Any:
    reason = ""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright (python) is not installed"
    if reason:
        if os.environ.get("GEOPLAN_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required (GEOPLAN_REQUIRE_BROWSER) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield instance
        instance.close()


@dataclass
class Page:
    """A page with the map open and what happened while it loaded."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def js(self, code: str, arg: Any = None) -> Any:
        return self.page.evaluate(code, arg)

    def site_point(self, predicate: str) -> tuple[float, float]:
        """Page coordinates of the first site whose properties `p` satisfy the JS predicate."""
        return tuple(
            self.js(
                """(predicate) => {
                const test = new Function("p", "return " + predicate);
                const map = Object.values(window).find((v) => v instanceof L.Map);
                let found = null;
                window.geoplanSites.eachLayer((l) => {
                    if (!found && test(l.feature.properties)) { found = l; }
                });
                const ll = found.getLatLng ? found.getLatLng() : found.getBounds().getCenter();
                map.setView(ll, 15, {animate: false});
                const pt = map.latLngToContainerPoint(ll);
                const box = map.getContainer().getBoundingClientRect();
                return [pt.x + box.left, pt.y + box.top];
            }""",
                predicate,
            )
        )


def _open(browser: Any, path: Path, fragment: str = "") -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    result = Page(page)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            result.blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on(
        "console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: result.console_errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: result.failed.append(r.url))
    page.on("dialog", lambda d: (result.dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri() + fragment, wait_until="load")
    page.wait_for_function("() => window.geoplanSites !== undefined")
    try:
        yield result
    finally:
        context.close()


@pytest.fixture(scope="module")
def ranked() -> Any:
    from geoplan.decide.robustness import add_robustness

    return add_robustness(synthetic_ranked(), draws=300, top_k=5)


@pytest.fixture(scope="module")
def offline_map(tmp_path_factory: pytest.TempPathFactory, ranked: Any) -> Path:
    folder = tmp_path_factory.mktemp("maps")
    m = make_map(ranked, basemap="none", title=f"常州 {EVIL}", **sample_layers())
    return save_map(m, folder / "offline.html", offline=True)


@pytest.fixture
def page(browser: Any, offline_map: Path) -> Iterator[Page]:
    yield from _open(browser, offline_map)


def test_opens_offline_without_errors_or_requests(page: Page) -> None:
    page.page.wait_for_timeout(300)
    assert page.console_errors == []
    assert page.failed == []
    assert page.blocked == [], "an offline map with basemap 'none' must not request anything"
    assert page.dialogs == []


def test_site_features_drawn(page: Page, ranked: Any) -> None:
    assert page.js("window.geoplanSites.getLayers().length") == len(ranked)
    top = page.js("document.querySelectorAll('.gp-rank').length")
    assert top == min(10, int(ranked["eligible"].sum()))
    assert page.js("document.querySelector('.gp-title').textContent").startswith("常州 ")


def test_popup_shows_the_breakdown(page: Page, ranked: Any) -> None:
    x, y = page.site_point("p.r === 1")
    page.page.mouse.click(x, y)
    popup = page.page.wait_for_selector(".leaflet-popup-content")
    text = popup.inner_text()
    best = ranked.iloc[0]
    assert f"#1 · {best['name_zh']} / {best['name']}" in text
    for header in (
        "指标",
        "Criterion",
        "原始值",
        "Value",
        "得分",
        "Score",
        "权重",
        "Weight",
        "贡献",
        "Contribution",
        "合计 Total",
    ):
        assert header in text, header
    for _name, _unit, label, zh, weight, _decay in CRITERIA:
        assert label in text and zh in text
        assert f"{round(weight * 100)}%" in text
    assert f"{best['score']:.3f}" in text
    assert "最近产业园区" in text and "Nearest station" in text
    assert f"{int(best['capacity']):,}" in text
    assert page.js("document.querySelectorAll('.gp-tbl tbody tr').length") == len(CRITERIA)
    assert f"稳健性 Robustness: {best['robustness']}" in text


def test_ineligible_site_tooltip_gives_the_reason(page: Page) -> None:
    x, y = page.site_point("p.e === 0")
    page.page.mouse.move(x, y)
    tip = page.page.wait_for_selector(".leaflet-tooltip")
    assert "不符合条件 Ineligible" in tip.inner_text()
    assert "inside exclusion zone 'Red line <x>'" in tip.inner_text()


def test_layer_control_toggles_layers_and_the_legend(page: Page) -> None:
    def checkbox(label: str) -> Any:
        return page.page.locator(".leaflet-control-layers-overlays label", has_text=label).locator(
            "input"
        )

    legend_shown = "getComputedStyle(document.querySelector('.gp-legend')).display !== 'none'"
    has_sites = (
        "(() => { const m = Object.values(window).find((v) => v instanceof L.Map);"
        " return m.hasLayer(window.geoplanSites); })()"
    )
    assert page.js(has_sites) and page.js(legend_shown)
    checkbox("Candidate sites").click()
    assert not page.js(has_sites)
    assert not page.js(legend_shown), "the legend belongs to the sites layer"
    checkbox("Candidate sites").click()
    assert page.js(has_sites) and page.js(legend_shown)
    parks_paths = "document.querySelectorAll('.leaflet-gpAreas-pane path').length"
    before = page.js(parks_paths)
    checkbox("Industrial parks").click()
    assert page.js(parks_paths) < before


def test_escaping_holds_in_popup_tooltip_and_search(page: Page) -> None:
    x, y = page.site_point("p.n.indexOf('onerror') >= 0")
    page.page.mouse.move(x, y)
    page.page.wait_for_selector(".leaflet-tooltip")
    page.page.mouse.click(x, y)
    popup = page.page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert EVIL in popup and "<script>alert('zh')</script>" in popup
    # the search box lists names as text
    page.page.locator(".leaflet-control-search .search-button").click()
    page.page.locator(".leaflet-control-search input").press_sequentially("onerror")
    page.page.wait_for_selector(".search-tip")
    assert EVIL in page.page.locator(".search-tip").first.inner_text()
    page.page.wait_for_timeout(200)
    assert page.dialogs == []
    assert (
        page.js("document.querySelectorAll('img[src=\"x\"], svg[onload], b[onmouseover]').length")
        == 0
    )
    assert page.js("window.document.title").startswith("常州 <img")


def test_search_finds_a_site_and_opens_its_popup(page: Page, ranked: Any) -> None:
    name = ranked.iloc[1]["name"]
    page.page.locator(".leaflet-control-search .search-button").click()
    page.page.locator(".leaflet-control-search input").press_sequentially(name)
    page.page.locator(".search-tip", has_text=name).first.click()
    popup = page.page.wait_for_selector(".leaflet-popup-content")
    assert name in popup.inner_text()


def test_tianditu_key_from_the_address_fragment(browser: Any, tmp_path: Path, ranked: Any) -> None:
    path = save_map(
        make_map(ranked, basemap="tianditu", tianditu_key="testkey-9f3a1"), tmp_path / "t.html"
    )
    assert "testkey-9f3a1" not in path.read_text(encoding="utf-8")
    for opened in _open(browser, path):  # no key: a note, and no tile request at all
        assert "needs a key" in opened.js("document.querySelector('.gp-key-note').textContent")
        assert not [u for u in opened.blocked if "tianditu" in u]
    for opened in _open(browser, path, "#tk=abc123"):
        opened.page.wait_for_timeout(300)
        tiles = [u for u in opened.blocked if "tianditu.gov.cn" in u]
        assert tiles and all("tk=abc123" in u for u in tiles)
        assert {"vec_w", "cva_w"} <= {u.split("/")[3] for u in tiles}
        assert "abc123" not in opened.js("window.location.href"), "key removed from the address"
        assert opened.js("localStorage.getItem('geoplan.tianditu.tk')") == "abc123"
        assert opened.console_errors == [] or all("ERR_FAILED" in e for e in opened.console_errors)


def test_real_study_map_opens_clean(browser: Any, tmp_path: Path) -> None:
    ranked, study = real_ranked()
    path = save_map(make_map(ranked, study, basemap="none"), tmp_path / "changzhou.html")
    for opened in _open(browser, path):
        opened.page.wait_for_timeout(300)
        assert opened.console_errors == [] and opened.failed == [] and opened.blocked == []
        assert opened.js("window.geoplanSites.getLayers().length") == len(ranked)


def test_png_snapshot(tmp_path: Path, offline_map: Path) -> None:
    _need_browser()
    png = save_png(
        offline_map,
        tmp_path / "map.png",
        width=900,
        height=600,
        browser=CHROMIUM,
        allow_network=False,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a drawn map, not a blank page


def test_print_layout_hides_the_controls_and_keeps_legend_and_scale(page: Page) -> None:
    page.page.emulate_media(media="print")
    try:
        shown = page.js(
            """() => Object.fromEntries([
                ".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-control-search",
                ".leaflet-control-measure", ".leaflet-control-fullscreen",
                ".gp-legend", ".leaflet-control-scale", ".gp-title"
            ].map((s) => {
                const e = document.querySelector(s);
                return [s, e !== null && getComputedStyle(e).display !== "none"];
            }))"""
        )
    finally:
        page.page.emulate_media(media="screen")
    for hidden in ("zoom", "layers", "search", "measure", "fullscreen"):
        assert shown[f".leaflet-control-{hidden}"] is False, hidden
    assert shown[".gp-legend"] and shown[".leaflet-control-scale"] and shown[".gp-title"]


def test_pdf_print_of_a_map(tmp_path: Path, offline_map: Path) -> None:
    _need_browser()
    pdf = save_pdf(offline_map, tmp_path / "map.pdf", browser=CHROMIUM, allow_network=False)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1  # one landscape page
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box is not None
    width, height = (float(v) for v in box.groups())
    assert width == pytest.approx(297 / 25.4 * 72, abs=2)  # A4 landscape, in points
    assert height == pytest.approx(210 / 25.4 * 72, abs=2)
    assert len(data) > 50_000  # a drawn map, not a blank page


def test_cli_map_writes_a_pdf_print(tmp_path: Path, sample_study_path: Path) -> None:
    _need_browser()
    from geoplan.cli import main

    table = tmp_path / "r.gpkg"
    assert main(["-q", "rank", str(sample_study_path), "--out", str(table)]) == 0
    args = ["-q", "map", str(table), "--out", str(tmp_path / "m.html"), "--png"]
    assert main([*args, str(tmp_path / "m.pdf")]) == 0
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    assert main([*args, str(tmp_path / "m.pdf")]) == 1  # never over a file without --force
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m.html",
        "m.pdf",
        "r.gpkg",
        "r.gpkg.study.toml",
    ]

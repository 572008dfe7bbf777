"""Data is never code: text from data files and studies reaches a map only as data.

branca compiles the output of every element's macros again as a Jinja
template, so a site named ``{{ 6*7 }}`` used to show as 42 and
``{{ lipsum.__globals__.os.popen(...) }}`` ran a shell command.  These tests
put template syntax of Jinja (and of JavaScript template literals and
Leaflet's URL templates), and HTML, into every path by which user text reaches
a map -- every layer's names and attributes, the title, criterion names and
labels, notes, reasons, explanations, robustness sentences, legend entries
(metro lines, facility kinds), the search index, data sources and date, line
colour keys and the Tianditu key -- through the API and both CLI commands, and
check that:

* no command ran (a sentinel file is never created) and nothing was evaluated;
* the template part of the page holds none of the text: it is all in the page
  data (one JSON document), intact;
* in a real browser the text shows literally and no injected markup runs
  (``test_maps_browser.py``-style checks at the end).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from test_maps import SAMPLE, synthetic_ranked

from geoplan.cli import cli
from geoplan.maps._page import DATA_ELEMENT_ID
from geoplan.maps.build import make_map, map_html, save_map


def payloads(sentinel: Path) -> dict[str, str]:
    """Hostile strings, each with a distinctive marker that evaluation would change."""
    return {
        "jinja_expr": "J{{ 6*7 }}J",
        "jinja_rce": f"R{{{{ lipsum.__globals__.os.popen('touch {sentinel}').read() }}}}R",
        "jinja_rce2": (f"Q{{{{ cycler.__init__.__globals__.os.system('touch {sentinel}') }}}}Q"),
        "jinja_stmt": "S{% if true %}IFTRUE{% endif %}S",
        "jinja_comment": "CMT{# hidden-comment #}CMT",
        "jinja_broken": "B{% \\ {{ '\\' }}B",
        "jinja_raw": "W{% raw %}RAWTEXT{% endraw %}W",
        "js_template": "T${7*191}`T",
        "leaflet_template": "L{s}{z}{x}{y}{tk}L",
        "html": "H</script><script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>H",
    }


#: Substrings that appear only inside the payloads (to find them in the page).
FRAGMENTS = (
    "6*7",
    "7*7",
    ".popen(",
    ".system(",
    "IFTRUE",
    "hidden-comment",
    "RAWTEXT",
    "7*191",
    "__pwned",
    "{tk}L",
)
#: What evaluation would have produced.
#: A metro line's name (lines are split at spaces, so none here).
LINE = "N{{6*7}}N"
EVALUATED = ("J42J", "N42N", "S" + "IFTRUE" + "S", "CMTCMT", "WRAWTEXTW", "T1337`T")


def page_parts(page: str) -> tuple[str, Any]:
    """The page without its data document and title, and the data document decoded."""
    match = re.search(
        rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', page, re.S
    )
    assert match is not None, "the page carries its data as one JSON document"
    data = json.loads(match.group(1))
    rest = page[: match.start()] + page[match.end() :]
    rest = re.sub(r"<title>.*?</title>", "", rest, count=1, flags=re.S)
    return rest, data


def assert_data_not_code(page: str, sentinel: Path, texts: list[str]) -> None:
    """No payload ran or was evaluated; none is in the template part; each is in the data."""
    assert not sentinel.exists(), "a template in the data ran a shell command"
    for evaluated in EVALUATED:
        assert evaluated not in page, evaluated
    rest, data = page_parts(page)
    for fragment in FRAGMENTS:
        assert fragment not in rest, f"{fragment!r} reached the page outside its data"
    dumped = json.dumps(data, ensure_ascii=False)
    import html as _html

    for text in texts:
        forms = {json.dumps(text, ensure_ascii=False)[1:-1]}
        forms.add(json.dumps(_html.escape(text, quote=True), ensure_ascii=False)[1:-1])
        assert any(form in dumped for form in forms), f"{text!r} missing from the page data"
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert "<" not in title.group(1), "the page title is escaped"


# --------------------------------------------------------------------------------------
# A hostile study: the sample with payloads in every layer and setting
# --------------------------------------------------------------------------------------


def hostile_study(folder: Path, p: dict[str, str]) -> Path:
    """Copy the Changzhou sample into ``folder`` with payloads everywhere text can go."""
    if not (SAMPLE / "study.toml").is_file():
        pytest.skip(f"sample study not found in {SAMPLE}")
    folder.mkdir(parents=True, exist_ok=True)
    sites = pd.read_csv(SAMPLE / "candidates.csv")
    sites.loc[0, "name"] = p["jinja_expr"] + " " + p["jinja_rce"]
    sites.loc[0, "name_zh"] = p["jinja_stmt"]
    sites.loc[1, "name"] = p["jinja_broken"]
    sites.loc[1, "district"] = p["jinja_comment"]
    sites.loc[2, "status"] = p["html"]
    sites.loc[3, "name"] = p["js_template"]
    sites[p["jinja_raw"]] = "attribute column named by a payload"
    sites.to_csv(folder / "candidates.csv", index=False)

    stations = pd.read_csv(SAMPLE / "stations.csv")
    stations.loc[0, "name"] = p["jinja_rce2"]
    stations.loc[1, "lines"] = "1;" + LINE  # a metro line: a legend entry
    stations.to_csv(folder / "stations.csv", index=False)

    facilities = pd.read_csv(SAMPLE / "facilities.csv")
    facilities.loc[0, "kind"] = p["jinja_stmt"]  # a facility kind: a legend entry
    facilities.loc[1, "name"] = p["leaflet_template"]
    facilities.to_csv(folder / "facilities.csv", index=False)

    parks = gpd.read_file(SAMPLE / "parks.geojson")
    parks.loc[0, "name"] = p["jinja_rce"]
    parks.loc[1, "kind"] = p["jinja_comment"]
    parks.to_file(folder / "parks.geojson", driver="GeoJSON")

    exclusions = gpd.read_file(SAMPLE / "exclusions.geojson")
    exclusions["name"] = p["jinja_expr"]  # every exclusion: reasons quote the name
    exclusions["kind"] = p["jinja_raw"]
    exclusions.to_file(folder / "exclusions.geojson", driver="GeoJSON")
    gpd.read_file(SAMPLE / "area.geojson").to_file(folder / "area.geojson", driver="GeoJSON")
    for name in ("housing.csv", "services.csv"):  # layers the map does not draw
        (folder / name).write_bytes((SAMPLE / name).read_bytes())
    context = gpd.read_file(SAMPLE / "context.geojson")  # the context basemap's labels
    context.loc[context["kind"] == "district", "name_zh"] = p["jinja_stmt"]
    context.loc[context["kind"] == "canal", "name_zh"] = p["html"]
    context.to_file(folder / "context.geojson", driver="GeoJSON")

    text = (SAMPLE / "study.toml").read_text(encoding="utf-8")
    text = re.sub(
        r'^title = ".*"$', "title = " + json.dumps(p["jinja_rce"]), text, count=1, flags=re.M
    )
    text = re.sub(
        r'^title_zh = ".*"$',
        "title_zh = " + json.dumps(p["jinja_expr"]),
        text,
        count=1,
        flags=re.M,
    )
    text = text.replace(
        'label = "Distance to metro station"', "label = " + json.dumps(p["jinja_stmt"])
    )
    text = text.replace('label_zh = "距地铁站距离"', "label_zh = " + json.dumps(p["js_template"]))
    text = re.sub(r"^dir = .*$", 'dir = "out"', text, flags=re.M)
    text = re.sub(r"^map = .*$", 'map = "out/map.html"', text, flags=re.M)
    text = text.replace(
        'line_colors = { "1" = "#1f5fae", "2" = "#e0542e" }',
        "line_colors = { "
        + json.dumps(p["jinja_expr"])
        + ' = "#1f5fae", "2" = "#e0542e" }\n'
        + "data_sources = ["
        + json.dumps(p["jinja_rce2"])
        + "]\n"
        + "data_date = "
        + json.dumps(p["jinja_comment"]),
    )
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


STUDY_TEXTS = ("jinja_expr", "jinja_rce", "jinja_rce2", "jinja_stmt", "jinja_comment")


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


def test_api_map_of_a_hostile_study(tmp_path: Path, sentinel: Path) -> None:
    from geoplan.study.files import load_study
    from geoplan.study.ranking import rank_sites

    p = payloads(sentinel)
    study = load_study(hostile_study(tmp_path / "study", p))
    ranked = rank_sites(study)
    isochrones = gpd.GeoDataFrame(
        {"minutes": [5, 10], "site_name": [p["jinja_expr"], p["jinja_raw"]]},
        geometry=[shapely.Point(119.97, 31.78).buffer(0.01 * k) for k in (1, 2)],
        crs="EPSG:4326",
    )
    m = make_map(ranked, study, basemap="none", isochrones=isochrones)
    page = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert_data_not_code(page, sentinel, [*p.values(), LINE])


def test_cli_rank_map_of_a_hostile_study(tmp_path: Path, sentinel: Path) -> None:
    p = payloads(sentinel)
    study = hostile_study(tmp_path / "study", p)
    out = tmp_path / "ranked.gpkg"
    result = CliRunner().invoke(
        cli, ["rank", str(study), "--out", str(out), "--map", str(tmp_path / "m.html"), "-q"]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert_data_not_code(page, sentinel, [*p.values(), LINE])


def test_cli_map_of_a_hostile_table(tmp_path: Path, sentinel: Path) -> None:
    """``geoplan map`` reads a table from anyone: every column of it may be hostile."""
    p = payloads(sentinel)
    ranked = synthetic_ranked(evil=False)
    values = list(p.values())
    ranked["reason"] = [values[i % len(values)] for i in range(len(ranked))]
    ranked["eligible"] = [i % 3 != 0 for i in range(len(ranked))]
    ranked["notes"] = p["jinja_rce"]
    ranked["explanation"] = p["jinja_stmt"]
    ranked["robustness"] = p["jinja_rce2"]
    ranked["nearest_park_name"] = p["jinja_comment"]
    ranked["nearest_station_name"] = p["leaflet_template"]
    ranked.loc[0, "name"] = p["jinja_expr"]
    ranked.loc[1, "site_id"] = p["jinja_raw"]
    ranked.loc[2, "name_zh"] = p["html"]
    ranked[p["js_template"]] = 1.5  # an attribute whose column name is a payload
    ranked = ranked.rename(
        columns={
            "value__daily_life__count": "value__" + "x{{7*7}}y" + "__count",
            "score__daily_life": "score__x{{7*7}}y",
            "contrib__daily_life": "contrib__x{{7*7}}y",
        }
    )
    table = tmp_path / "hostile.geojson"
    ranked.to_file(table, driver="GeoJSON")
    result = CliRunner().invoke(
        cli, ["map", str(table), "--out", str(tmp_path / "m.html"), "--basemap", "none"]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "x49y" not in page
    assert_data_not_code(page, sentinel, [*p.values(), "x{{7*7}}y"])


def test_tianditu_key_and_title_are_data(tmp_path: Path, sentinel: Path) -> None:
    p = payloads(sentinel)
    ranked = synthetic_ranked(evil=False)
    m = make_map(
        ranked,
        basemap=["tianditu", "osm"],
        tianditu_key=p["jinja_rce"],
        embed_key=True,
        title=p["jinja_expr"],
        data_sources=[p["jinja_stmt"]],
        data_date=p["jinja_comment"],
        line_colors={p["jinja_raw"]: "#123456"},
    )
    page = map_html(m, offline=False)
    assert_data_not_code(
        page, sentinel, [p["jinja_rce"], p["jinja_expr"], p["jinja_stmt"], p["jinja_comment"]]
    )
    assert "<title>J{{ 6*7 }}J</title>" in page


def test_the_figure_compiles_no_page_data(tmp_path: Path, sentinel: Path) -> None:
    """The structural guarantee: every value geoplan's elements show is in the data document."""
    from geoplan.maps._page import GeoplanFigure, PageDataMixin

    ranked = synthetic_ranked(evil=False)
    m = make_map(ranked, basemap="none")
    root = m.get_root()
    assert isinstance(root, GeoplanFigure)
    page = map_html(m)
    _, data = page_parts(page)
    holders = [e for e in _walk(root) if isinstance(e, PageDataMixin) and e.page_data is not None]
    assert {e.get_name() for e in holders} == set(data)
    kinds = {type(e).__name__ for e in holders}
    assert {"SitesLayer", "ScoreLegend", "MapInfo", "LayerControl"} <= kinds


def _walk(element: Any) -> list[Any]:
    out = []
    for child in getattr(element, "_children", {}).values():
        out.append(child)
        out.extend(_walk(child))
    return out


# --------------------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------------------


@pytest.mark.browser
def test_hostile_text_shows_literally_in_the_browser(tmp_path: Path, sentinel: Path) -> None:
    from test_maps_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

    from geoplan.study.files import load_study
    from geoplan.study.ranking import rank_sites

    sync_playwright = _need_browser()
    p = payloads(sentinel)
    study = load_study(hostile_study(tmp_path / "study", p))
    ranked = rank_sites(study)
    path = save_map(make_map(ranked, study, basemap="none"), tmp_path / "map.html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            dialogs: list[str] = []
            errors: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function("() => window.geoplanSites !== undefined")
            assert errors == []
            assert page.evaluate("window.__pwned") is None
            assert page.title() == p["jinja_expr"]
            assert p["jinja_expr"] in page.inner_text(".gp-title")
            layers_text = page.inner_text(".leaflet-control-layers")
            assert LINE in layers_text  # the metro line's legend entry
            assert p["jinja_stmt"] in layers_text  # the facility kind's legend entry
            popup_text = page.evaluate(
                """() => {
                    let text = "";
                    window.geoplanSites.eachLayer((l) => {
                        const p = l.feature.properties;
                        if (p.n.indexOf("6*7") >= 0) { l.openPopup(); text =
                            document.querySelector(".leaflet-popup-content").innerText; }
                    });
                    return text;
                }"""
            )
            assert p["jinja_expr"] in popup_text and p["jinja_stmt"] in popup_text
            method = page.inner_text(".gp-method")
            assert p["jinja_rce2"] in method and p["jinja_comment"] in method
            labels = page.evaluate(
                "Array.from(document.querySelectorAll('.gp-ctx-label')).map(e => e.textContent)"
            )
            assert p["jinja_stmt"] in labels and p["html"] in labels  # text, never markup
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
            assert dialogs == []
        finally:
            browser.close()
    assert not sentinel.exists()


# --------------------------------------------------------------------------------------
# The study report: a fixed template, every user text through html.escape
# --------------------------------------------------------------------------------------


def test_report_of_a_hostile_study(tmp_path: Path, sentinel: Path) -> None:
    import html as _html

    from geoplan.report import report_html
    from geoplan.study.files import load_study
    from geoplan.study.ranking import rank_sites

    p = payloads(sentinel)
    study = load_study(hostile_study(tmp_path / "study", p))
    ranked = rank_sites(study)
    top = int(ranked["eligible"].sum())  # every eligible site gets a dossier
    for lang in ("en", "zh", "zh+en"):
        page = report_html(study, ranked, lang=lang, top=top, insets=False)
        assert "<script" not in page.lower() and "<img src=x" not in page  # never markup
        for evaluated in EVALUATED:
            assert evaluated not in page
        assert _html.escape(p["jinja_expr"]) in page  # template syntax shows literally
        assert "J{{ 6*7 }}J" in page
    page = report_html(study, ranked, lang="en", top=top, insets=False)
    shown = [
        p["jinja_rce"],  # the title, a site's and a park's name
        p["jinja_broken"],
        p["js_template"],
        p["jinja_stmt"],  # a criterion's label
        p["jinja_expr"],  # the exclusion zones (in reasons)
    ]
    for text in shown:
        assert _html.escape(text) in page, text
    status = ranked.loc[ranked["status"] == p["html"]]
    if len(status) and bool(status["eligible"].iloc[0]):  # a site's attribute in its dossier
        assert _html.escape(p["html"]) in page
    assert not sentinel.exists()


@pytest.mark.browser
def test_hostile_report_prints_literally(tmp_path: Path, sentinel: Path) -> None:
    """Through the CLI: the report is printed, and its twin shows the text, runs nothing."""
    from test_maps_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

    from geoplan.cli import main

    sync_playwright = _need_browser()
    p = payloads(sentinel)
    study = hostile_study(tmp_path / "study", p)
    pdf = tmp_path / "report.pdf"
    assert main(["-q", "report", str(study), "--out", str(pdf), "--top", "4"]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto((tmp_path / "report.html").resolve().as_uri(), wait_until="load")
            assert page.evaluate("window.__pwned") is None
            assert page.evaluate("document.scripts.length") == 0
            text = page.inner_text("body")
            assert p["jinja_rce"] in text and p["jinja_expr"] in text
            assert page.title().startswith(p["jinja_expr"])  # title_zh first, then the title
            assert dialogs == []
        finally:
            browser.close()
    assert not sentinel.exists()

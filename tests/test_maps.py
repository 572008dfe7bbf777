"""Planning maps: make_map, save_map, basemaps and the offline assets (no browser).

The browser half (popups, layer control, escaping at run time) is in
``test_maps_browser.py``.  ``synthetic_ranked`` builds a table with exactly the
columns of ``rank_sites`` so these tests do not depend on the ranking engine;
``real_ranked`` runs the engine on the Changzhou sample when it is available.
"""

from __future__ import annotations

import json
import logging
import math
import re
import types
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan import maps
from geoplan._errors import GeoplanError, OfflineAssetError, OutputExistsError, OutputWriteError
from geoplan.maps import _elements, basemaps, offline
from geoplan.maps._page import js_json as _js_json
from geoplan.maps.build import make_map, map_html, save_map

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "changzhou"
EVIL = "<img src=x onerror=alert(1)>"

CRITERIA = [
    (
        "metro_access",
        "m",
        "Distance to metro station",
        "距地铁站距离",
        0.35,
        "linear: 1 at 500 m, 0 at 3000 m",
    ),
    (
        "jobs_reach",
        "jobs",
        "Industrial-park jobs within 8 km (decayed)",
        "8公里内产业园区就业岗位（距离衰减）",
        0.30,
        "exponential (more is better): score halves every 50000 jobs",
    ),
    (
        "park_band",
        "m",
        "Distance to nearest industrial park (ideal band)",
        "距最近产业园区距离（理想区间）",
        0.20,
        "ideal band: 1 between 800 and 4000 m, 0 below 200 and above 10000 m",
    ),
    (
        "daily_life",
        "count",
        "Facilities within 1.5 km",
        "1.5公里内生活设施数量",
        0.15,
        "steps at 1, 2, 4 scoring 0, 0.4, 0.7, 1",
    ),
]


def synthetic_ranked(
    n: int = 45, *, seed: int = 7, evil: bool = True, polygons: bool = False
) -> gpd.GeoDataFrame:
    """A ranking with exactly rank_sites' columns, around Changzhou, best first."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(119.85, 120.10, n)
    lat = rng.uniform(31.60, 31.95, n)
    frame = pd.DataFrame(
        {
            "site_id": [f"S{i + 1:03d}" for i in range(n)],
            "name": [f"Site {i + 1} parcel" for i in range(n)],
            "name_zh": [f"地块{i + 1}" for i in range(n)],
            "district": rng.choice(["Xinbei", "Tianning", "Zhonglou", "Wujin"], n),
            "capacity": rng.integers(100, 2000, n),
            "land_ha": np.round(rng.uniform(1, 8, n), 1),
            "status": rng.choice(["planned", "proposed", "existing"], n),
        }
    )
    if evil:
        frame.loc[3, "name"] = EVIL
        frame.loc[3, "name_zh"] = "<script>alert('zh')</script>"
        frame.loc[5, "district"] = "<b onmouseover=alert(2)>bold</b>"
    for name, unit, *_ in CRITERIA:
        raw = {
            "m": rng.uniform(100, 6000, n),
            "jobs": rng.uniform(0, 200000, n),
            "count": rng.integers(0, 8, n).astype(float),
        }[unit]
        frame[f"value__{name}__{unit}"] = raw
    for name, _unit, _label, _zh, weight, _decay in CRITERIA:
        score = rng.uniform(0, 1, n)
        frame[f"score__{name}"] = score
        frame[f"contrib__{name}"] = weight * score
    frame["score"] = sum(frame[f"contrib__{c[0]}"] for c in CRITERIA)
    eligible = rng.uniform(0, 1, n) > 0.2
    eligible[3] = True
    frame["eligible"] = eligible
    frame["reason"] = np.where(eligible, "", "inside exclusion zone 'Red line <x>'")
    frame["rank"] = (
        frame["score"].where(frame["eligible"]).rank(method="min", ascending=False).astype("Int64")
    )
    frame["notes"] = ""
    frame["nearest_park_name"] = rng.choice(["Hi-tech Zone", "Wujin Zone", "<i>park</i>"], n)
    frame["nearest_park_m"] = rng.uniform(100, 8000, n).round(1)
    frame["nearest_station_name"] = rng.choice(["Wenhuagong", "Changzhou North"], n)
    frame["nearest_station_m"] = rng.uniform(100, 6000, n).round(1)
    frame["explanation"] = "one-line explanation"
    geometry = gpd.points_from_xy(lon, lat)
    if polygons:
        geometry = gpd.GeoSeries(geometry, crs="EPSG:4326").to_crs(3857).buffer(150).to_crs(4326)
    ranked = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    order = np.lexsort((-ranked["score"].to_numpy(), ~ranked["eligible"].to_numpy()))
    ranked = ranked.iloc[order].reset_index(drop=True)
    ranked.attrs["geoplan"] = {
        "method": "weighted_sum",
        "weights": {c[0]: c[4] for c in CRITERIA},
        "criteria": [
            {
                "name": c[0],
                "label": c[2],
                "label_zh": c[3],
                "unit": c[1],
                "weight": c[4],
                "decay": c[5],
            }
            for c in CRITERIA
        ],
    }
    return ranked


def _points(path: Path) -> gpd.GeoDataFrame:
    table = pd.read_csv(path)
    return gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
    )


def sample_layers() -> dict[str, gpd.GeoDataFrame]:
    """The Changzhou sample's context layers, read directly (no study machinery)."""
    if not (SAMPLE / "stations.csv").is_file():
        pytest.skip(f"sample data not found in {SAMPLE}")
    return {
        "parks": gpd.read_file(SAMPLE / "parks.geojson"),
        "stations": _points(SAMPLE / "stations.csv"),
        "exclusions": gpd.read_file(SAMPLE / "exclusions.geojson"),
        "facilities": _points(SAMPLE / "facilities.csv"),
        "area": gpd.read_file(SAMPLE / "area.geojson"),
    }


def real_ranked() -> tuple[gpd.GeoDataFrame, Any]:
    """rank_sites on the Changzhou sample study; skip while the engine is unavailable."""
    try:
        from geoplan.study.files import load_study
        from geoplan.study.ranking import rank_sites
    except ImportError as exc:  # the ranking engine is being built alongside
        pytest.skip(f"ranking engine not importable yet: {exc}")
    study = load_study(SAMPLE / "study.toml")
    return rank_sites(study), study


def sites_data(m: folium.Map) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sites layer's GeoJSON and meta from a map."""
    layers = [c for c in m._children.values() if isinstance(c, maps.SitesLayer)]
    assert len(layers) == 1, "exactly one sites layer"
    return layers[0].data, layers[0].meta


def in_page(text: str, page: str) -> bool:
    """Whether text is in the page as written or JSON-escaped (folium writes some as JSON)."""
    return text in page or json.dumps(text)[1:-1] in page or _js_json(text)[1:-1] in page


@pytest.fixture
def ranked() -> gpd.GeoDataFrame:
    return synthetic_ranked()


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return sample_layers()


# --- the map -----------------------------------------------------------------------------


def test_sites_are_one_geojson_layer_not_markers(ranked, layers):
    m = make_map(ranked, basemap="none", **layers)
    data, meta = sites_data(m)
    assert len(data["features"]) == len(ranked)
    assert not [c for c in m._children.values() if isinstance(c, folium.Marker)]
    assert meta["nEligible"] == int(ranked["eligible"].sum())
    assert meta["topN"] == 10
    assert [c["key"] for c in meta["criteria"]] == [c[0] for c in CRITERIA]
    assert [c["zh"] for c in meta["criteria"]] == [c[3] for c in CRITERIA]
    assert meta["criteria"][0]["weight"] == pytest.approx(0.35)


def test_site_properties_carry_the_breakdown(ranked):
    m = make_map(ranked, basemap="none")
    data, meta = sites_data(m)
    by_name = {f["properties"]["n"]: f["properties"] for f in data["features"]}
    best = ranked.iloc[0]
    props = by_name[f"{best['name_zh']} / {best['name']}"]
    assert props["r"] == 1 and props["e"] == 1
    assert props["s"] == pytest.approx(best["score"], abs=1e-4)
    assert props["c"][0] == pytest.approx(best["score__metro_access"], abs=1e-4)
    assert props["v"][0] == pytest.approx(best["value__metro_access__m"], abs=0.06)
    # contributions are weight x score, so the browser derives them
    assert meta["contribDerived"] is True
    assert "w" not in props
    assert meta["parkNames"][props["pk"][0]] == best["nearest_park_name"]
    attrs = {a["key"]: i for i, a in enumerate(meta["attrs"])}
    assert set(attrs) >= {"site_id", "capacity", "district", "status", "land_ha"}
    assert props["a"][attrs["capacity"]] == int(best["capacity"])
    # ineligible sites carry the reason
    bad = ranked[~ranked["eligible"]].iloc[0]
    props_bad = by_name[f"{bad['name_zh']} / {bad['name']}"]
    assert props_bad["e"] == 0 and props_bad["r"] is None
    assert props_bad["x"] == f"位于禁建区“Red line <x>”内 / {bad['reason']}"  # zh+en by default


def test_popups_show_robustness_when_the_table_has_it(tmp_path, ranked):
    """add_robustness's sentence reaches the eligible sites' properties; its numbers stay out."""
    from geoplan.decide.robustness import add_robustness

    plain, _ = sites_data(make_map(ranked, basemap="none"))
    assert not any("rb" in f["properties"] for f in plain["features"])
    robust = add_robustness(ranked, draws=300, top_k=5)
    m = make_map(robust, basemap="none")
    data, meta = sites_data(m)
    by_name = {f["properties"]["n"]: f["properties"] for f in data["features"]}
    for row in robust.itertuples():
        props = by_name[f"{row.name_zh} / {row.name}"]
        if row.eligible:
            assert props["rb"] == row.robustness
            assert props["rb"].startswith("in the top 5 in ")
        else:
            assert "rb" not in props
    added = {"robustness", "p_top_k", "median_rank", "rank_p05", "rank_p95", "rank_best"}
    assert not added & {a["key"] for a in meta["attrs"]}, "shown as the robustness line only"
    page = map_html(m)
    assert '"robustness":["稳健性","Robustness"]' in page  # the popup's label, as data
    assert in_page(robust.iloc[0]["robustness"], page)
    # also from a file written by `geoplan rank --robustness`, and escaped like any string
    evil = "<img src=y onerror=alert('robust')>"
    robust.loc[robust.index[0], "robustness"] = evil
    path = tmp_path / "ranked.gpkg"
    robust.to_file(path, driver="GPKG")
    back_page = map_html(make_map(gpd.read_file(path), basemap="none"))
    assert evil not in back_page
    assert _js_json(evil)[1:-1] in back_page and "\\u003cimg src=y" in back_page


def test_coordinates_rounded_to_six_decimals(ranked):
    data, _ = sites_data(make_map(ranked, basemap="none"))
    for feature in data["features"]:
        for value in feature["geometry"]["coordinates"]:
            assert round(value, 6) == value


def test_analysis_data_not_modified(ranked, layers):
    before = ranked.copy()
    stations_before = layers["stations"].copy()
    make_map(ranked, basemap="gaode", **layers)
    pd.testing.assert_frame_equal(pd.DataFrame(ranked), pd.DataFrame(before))
    assert ranked.geometry.equals(before.geometry)
    assert layers["stations"].geometry.equals(stations_before.geometry)


def test_layers_and_controls_present(ranked, layers):
    iso = gpd.GeoDataFrame(
        {"minutes": [5, 10, 15], "site_id": ["S001"] * 3},
        geometry=[shapely.Point(119.95, 31.78).buffer(d) for d in (0.004, 0.008, 0.012)],
        crs="EPSG:4326",
    )
    page = map_html(make_map(ranked, basemap="none", isochrones=iso, **layers), offline=False)
    for text in (
        "候选地块 Candidate sites",
        "前 10 名标注 Top 10 labels",
        "地铁站 Metro stations",
        "1号线 Line 1",
        "站点 500/800 m 范围 Station areas 500/800 m",
        "产业园区 Industrial parks",
        "禁建区 Exclusion zones",
        "生活设施 Facilities",
        "步行等时圈 Walk isochrones",
        "研究范围 Study area",
        "L.Control.Search",
        "L.Control.Measure",
        "L.control.fullscreen",
        "L.control.layers",
        "方法说明 Methodology",
        "综合得分 Overall score",
    ):
        assert in_page(text, page), text
    # basemap "none": no tile layer and no minimap
    assert "L.tileLayer" not in page.split("</head>")[1]
    assert "L.Control.MiniMap(" not in page


def test_line_colours_from_options(ranked, layers):
    m = make_map(ranked, basemap="none", line_colors={"1": "#123456", "2": "#abcdef"}, **layers)
    page = map_html(m, offline=False)
    assert "#123456" in page and "#abcdef" in page
    stations = [
        c
        for c in m._children.values()
        if isinstance(c, maps.FeatureLayer) and "Metro stations" in c.layer_name
    ][0]
    fills = {f["properties"]["_s"]["fillColor"] for f in stations.data["features"]}
    assert {"#123456", "#abcdef", "#ffffff"} <= fills  # Line 1, Line 2, interchange


def test_options_from_a_study_object(ranked, layers):
    study = types.SimpleNamespace(
        title="Changzhou <sample>",
        title_zh="常州示例",
        layers=layers,
        criteria=[],
        map_options={"basemap": "none", "rings_m": [300], "top_n": 3, "data_date": "2024-06"},
        name_columns={"stations": "name"},
        path=Path("study.toml"),
        top=5,
    )
    m = make_map(ranked, study)
    page = map_html(m, offline=False)
    assert in_page("常州示例", page) and in_page("Changzhou &lt;sample&gt;", page)
    assert "Changzhou <sample>" not in page
    assert in_page("站点 300 m 范围", page)
    assert m.geoplan["top_n"] == 3
    assert in_page("数据日期 Data date: 2024-06", page)
    # explicit keywords win over the study's options
    assert make_map(ranked, study, top_n=7).geoplan["top_n"] == 7


def test_polygon_sites(tmp_path, layers):
    ranked = synthetic_ranked(30, polygons=True)
    m = make_map(ranked, basemap="none", **layers)
    data, _ = sites_data(m)
    assert {f["geometry"]["type"] for f in data["features"]} == {"Polygon"}
    assert "geoplanSites" in save_map(m, tmp_path / "p.html").read_text(encoding="utf-8")


def test_ranking_read_back_from_a_file(tmp_path, ranked):
    """`geoplan map RESULT.gpkg`: no attrs, rank as float, eligible as int."""
    path = tmp_path / "ranked.gpkg"
    ranked.to_file(path, driver="GPKG")
    back = gpd.read_file(path)
    assert not back.attrs.get("geoplan")
    _, meta = sites_data(make_map(back, basemap="none"))
    weights = {c["key"]: c["weight"] for c in meta["criteria"]}
    assert weights == pytest.approx({c[0]: c[4] for c in CRITERIA}, abs=1e-3)
    assert meta["nEligible"] == int(ranked["eligible"].sum())


def test_missing_score_column_is_explained():
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(120, 31.8)], crs=4326)
    with pytest.raises(GeoplanError, match="score"):
        make_map(frame)


# --- escaping ----------------------------------------------------------------------------


def test_user_strings_never_reach_the_page_as_markup(ranked, layers):
    layers = {k: v.copy() for k, v in layers.items()}
    layers["parks"].loc[0, "name"] = EVIL
    layers["stations"].loc[0, "name_zh"] = "<svg onload=alert(3)>"
    page = map_html(make_map(ranked, basemap="none", title=f"Title {EVIL}", **layers))
    for raw in (
        EVIL,
        "<script>alert('zh')</script>",
        "<svg onload=alert(3)>",
        "<b onmouseover=alert(2)>",
        "<i>park</i>",
    ):
        assert raw not in page, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # title, park popup and tooltip
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # site data, escaped in JS


# --- basemaps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("osm", "tile.openstreetmap.org"),
        ("carto-light", "basemaps.cartocdn.com"),
        ("CartoDB", "basemaps.cartocdn.com"),
        ("gaode", "autonavi.com"),
        ("amap", "autonavi.com"),
    ],
)
def test_basemaps(ranked, name, expected):
    page = map_html(make_map(ranked, basemap=name), offline=False)
    assert expected in page
    assert "L.Control.MiniMap(" in page


def test_unknown_or_mixed_basemaps(ranked):
    with pytest.raises(ValueError, match="unknown basemap 'google'"):
        make_map(ranked, basemap="google")
    with pytest.raises(ValueError, match="GCJ-02"):
        make_map(ranked, basemap=["gaode", "osm"])
    page = map_html(make_map(ranked, basemap=["osm", "carto-light"]), offline=False)
    assert "tile.openstreetmap.org" in page and "basemaps.cartocdn.com" in page


def _gcj02_reference(lon: float, lat: float) -> tuple[float, float]:
    """The widely published WGS-84 -> GCJ-02 formula (krasovsky ellipsoid), scalar."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    )
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = (dlon * 180.0) / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def test_gaode_shifts_the_display_copy_to_gcj02(ranked, layers):
    wgs, _ = sites_data(make_map(ranked, basemap="none"))
    gcj, _ = sites_data(make_map(ranked, basemap="gaode", **layers))
    for a, b in zip(wgs["features"], gcj["features"], strict=True):
        lon, lat = a["geometry"]["coordinates"]
        expected = _gcj02_reference(lon, lat)
        assert b["geometry"]["coordinates"] == pytest.approx(expected, abs=2e-6)
        # the offset is some hundreds of metres in Changzhou
        assert 300 < math.hypot((expected[0] - lon) * 94_000, (expected[1] - lat) * 111_000) < 800
    page = map_html(make_map(ranked, basemap="gaode", **layers), offline=False)
    assert "GCJ-02" in page  # the methodology note says so


def test_tianditu_key_is_not_stored_unless_asked(ranked, monkeypatch, caplog):
    monkeypatch.setenv("TIANDITU_KEY", "secret-key-123")
    page = map_html(make_map(ranked, basemap="tianditu"))
    assert "tianditu.gov.cn/vec_w" in page and "tianditu.gov.cn/cva_w" in page
    assert "secret-key-123" not in page
    assert "#tk=" in page  # how the viewer gives the key
    page = map_html(make_map(ranked, basemap="tianditu", embed_key=True))
    assert "secret-key-123" in page
    page = map_html(make_map(ranked, basemap="tianditu", tianditu_key="explicit-456"))
    assert "explicit-456" not in page
    monkeypatch.delenv("TIANDITU_KEY")
    with caplog.at_level(logging.WARNING, logger="geoplan.maps.basemaps"):
        make_map(ranked, basemap="tianditu")
    assert "No Tianditu key" in caplog.text


def test_basemap_lookup():
    assert basemaps.get_basemap(None).name == "carto-light"
    assert basemaps.get_basemap("高德").name == "gaode"
    assert basemaps.needs_gcj02("amap") and not basemaps.needs_gcj02("tianditu")
    assert basemaps.resolve_tianditu_key(None, {"tianditu_key": " k "}) == "k"


# --- saving --------------------------------------------------------------------------------


EXTERNAL = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I)


def test_offline_file_is_self_contained(tmp_path, ranked, layers):
    path = save_map(make_map(ranked, basemap="none", **layers), tmp_path / "x.html")
    page = path.read_text(encoding="utf-8")
    assert not EXTERNAL.search(page)
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    for host in (
        "cdn.jsdelivr.net",
        "cdnjs.cloudflare.com",
        "code.jquery.com",
        "netdna.bootstrapcdn.com",
        "tile.openstreetmap.org",
        "cartocdn",
    ):
        assert host not in page, host
    assert "sourceMappingURL" not in page
    assert "data:image/png;base64," in page  # leaflet layers icon inlined
    # CSS image references are all data: URIs
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    refs = re.findall(r"url\(\s*['\"]?([^)'\"]+)", styles)
    assert len(refs) > 10
    for ref in refs:
        assert ref.startswith(("data:", "#")), ref
    assert page.count("L.geoJson(") >= 1
    assert not list(tmp_path.glob(".*tmp*")), "temporary file left behind"


def test_online_file_links_cdns(tmp_path, ranked):
    page = save_map(make_map(ranked), tmp_path / "x.html", offline=False).read_text("utf-8")
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_save_refuses_to_overwrite(tmp_path, ranked):
    m = make_map(ranked, basemap="none")
    path = save_map(m, tmp_path / "maps" / "x.html")  # folder created
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="force"):
        save_map(m, path)
    assert path.read_bytes() == before
    save_map(m, path, force=True)


def test_save_reports_unwritable_folder(tmp_path, ranked):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputWriteError):
        save_map(make_map(ranked, basemap="none"), blocker / "x.html")


def test_offline_refuses_unknown_assets(tmp_path):
    m = folium.Map(tiles=None)
    folium.Marker([31.8, 120.0], icon=folium.Icon(color="red")).add_to(m)  # awesome-markers
    with pytest.raises(OfflineAssetError, match="awesome-markers"):
        save_map(m, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_manifest_covers_what_folium_links():
    """Fails when a folium upgrade changes a pinned CDN address (see _assets/README.md)."""
    manifest = offline._asset_manifest()
    wanted = [folium.folium._default_js[0][1], folium.folium._default_css[0][1]]
    for plugin in (
        folium.plugins.Fullscreen,
        folium.plugins.MiniMap,
        folium.plugins.MeasureControl,
        folium.plugins.Search,
    ):
        wanted += [url for _, url in plugin.default_js + plugin.default_css]
    assert sorted(wanted) == sorted(manifest)
    readme = (REPO / "geoplan" / "maps" / "_assets" / "README.md").read_text(encoding="utf-8")
    for relative in manifest.values():
        assert offline._read_asset(relative), relative
        assert relative.split("/")[0] in readme


@pytest.mark.slow
def test_twenty_thousand_sites_stay_small(tmp_path):
    ranked = synthetic_ranked(20_000, evil=False)
    ranked["explanation"] = "#12 of 15000 eligible, score 0.734. " + "criterion x -> 0.5; " * 12
    path = save_map(make_map(ranked, basemap="none", **sample_layers()), tmp_path / "big.html")
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 10, f"{size_mb:.1f} MB"
    page = path.read_text(encoding="utf-8")
    assert page.count('"type":"Feature"') >= 20_000


def test_real_ranking_map(tmp_path):
    ranked, study = real_ranked()
    m = make_map(ranked, study, basemap="none")
    data, meta = sites_data(m)
    assert len(data["features"]) == len(ranked)
    assert {c["key"] for c in meta["criteria"]} == {c.name for c in study.criteria}
    page = save_map(m, tmp_path / "changzhou.html").read_text(encoding="utf-8")
    assert in_page(study.title_zh, page)
    assert not EXTERNAL.search(page)


def test_meta_is_json(ranked):
    _, meta = sites_data(make_map(ranked, basemap="none"))
    json.dumps(meta, allow_nan=False)


def test_vendored_assets_are_not_git_ignored():
    """A `dist/` folder would be dropped by .gitignore (and so from the wheel)."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = [
        str(p.relative_to(REPO))
        for p in (REPO / "geoplan" / "maps" / "_assets").rglob("*")
        if p.is_file()
    ]
    result = subprocess.run(
        [git, "check-ignore", *files], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "", f"git-ignored assets: {result.stdout}"


def test_no_eligible_site_and_no_site(tmp_path):
    ranked = synthetic_ranked(12)
    ranked["eligible"] = False
    ranked["reason"] = "outside the study area"
    ranked["rank"] = pd.array([pd.NA] * len(ranked), dtype="Int64")
    m = make_map(ranked, basemap="none")
    assert not [c for c in m._children.values() if isinstance(c, _elements.TopLabels)]
    save_map(m, tmp_path / "none_eligible.html")
    empty = ranked.iloc[0:0]
    save_map(make_map(empty, basemap="none"), tmp_path / "empty.html")


def test_the_same_map_renders_to_the_same_html(ranked, layers):
    """folium's random element ids are renumbered: a re-run leaves no diff behind."""
    first = map_html(make_map(ranked, basemap="none", **layers))
    second = map_html(make_map(ranked, basemap="none", **layers))
    assert first == second
    assert "map_00000001" in first


def test_study_weights_near_the_largest_float_show_as_shares() -> None:
    """Weights of 1e308 are normalised exactly (a plain sum overflowed to inf: every weight 0%)."""
    from geoplan.maps._data import _study_criteria_meta

    criteria = [
        types.SimpleNamespace(name=name, weight=1e308, title=name, label_zh="", unit="m")
        for name in ("a", "b")
    ]
    meta = _study_criteria_meta(types.SimpleNamespace(criteria=criteria), {})
    assert meta["a"]["weight"] == meta["b"]["weight"] == 0.5

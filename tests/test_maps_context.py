"""A map that reads without the internet: the context basemap, metro lines, every layer drawn."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from test_maps import SAMPLE, synthetic_ranked

import geoplan as gp
from geoplan._errors import LayerReadError
from geoplan.maps import _backdrop, _context
from geoplan.maps.build import make_map, map_html
from geoplan.study.files import study_from_dict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def page_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="geoplan-data">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def context_data(html: str) -> dict[str, Any]:
    found = [v for v in page_data(html).values() if isinstance(v, dict) and "styles" in v]
    assert len(found) == 1, "one context basemap"
    return found[0]


@pytest.fixture(scope="module")
def sample() -> tuple[Any, Any]:
    if not (SAMPLE / "study.toml").is_file():
        pytest.skip("sample study not found")
    study = gp.load_study(SAMPLE / "study.toml")
    return study, gp.rank_sites(study)


def _raw_sample() -> dict[str, Any]:
    return tomllib.loads((SAMPLE / "study.toml").read_text(encoding="utf-8"))


def test_the_sample_carries_its_own_context(sample: tuple[Any, Any]) -> None:
    study, ranked = sample
    context = study.layers["context"]
    assert set(context["kind"]) == {
        "district",
        "water",
        "canal",
        "river",
        "rail",
        "motorway",
        "primary",
        "green",
    }
    assert {"京杭大运河", "长江", "新北区", "武进区", "天宁区", "钟楼区"} <= set(context["name_zh"])
    html = map_html(make_map(ranked, study, basemap="none"))
    data = context_data(html)
    kinds = [f["properties"]["k"] for f in data["shapes"]["features"]]
    assert len(kinds) == len(context)
    assert kinds.index("water") < kinds.index("primary") < kinds.index("district")  # drawn order
    labels = {label[2] for label in data["labels"]}
    assert {"京杭大运河", "新北区", "长江"} <= labels
    # under every analysis layer: its own pane below the overlays
    assert 'createPane("gpContext").style.zIndex = 250' in html


def test_context_can_be_switched_off_and_given(sample: tuple[Any, Any]) -> None:
    study, ranked = sample
    html = map_html(make_map(ranked, study, basemap="none", context=False))
    assert not [v for v in page_data(html).values() if isinstance(v, dict) and "styles" in v]
    plain = map_html(make_map(ranked, basemap="none", context=study.layers["context"]))
    assert len(context_data(plain)["shapes"]["features"]) == len(study.layers["context"])


def _many_roads(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    lines = []
    for _ in range(n):
        x0, y0 = rng.uniform(119.8, 120.1), rng.uniform(31.6, 31.95)
        steps = rng.normal(0, 0.0004, size=(200, 2)).cumsum(axis=0)
        lines.append(shapely.LineString(np.column_stack([x0 + steps[:, 0], y0 + steps[:, 1]])))
    kinds = ["tertiary"] * (n // 2) + ["primary"] * (n - n // 2)
    return gpd.GeoDataFrame(
        {"kind": kinds, "name": [f"road {i}" for i in range(n)]}, geometry=lines, crs="EPSG:4326"
    )


def test_context_is_simplified_to_its_budget() -> None:
    roads = _many_roads(400)
    bbox = (119.7, 31.5, 120.2, 32.0)
    full, tolerance = _backdrop.fit_budget(roads, bbox, 100_000)
    assert tolerance == 2.0 and len(full) == 400
    small, tolerance = _backdrop.fit_budget(roads, bbox, 150)
    shapes, _ = _backdrop._features(small, False)
    size = len(json.dumps(shapes, separators=(",", ":")))
    assert size <= 150_000, size
    assert tolerance > 2.0
    assert shapely.get_num_coordinates(small.geometry.values).sum() < (
        shapely.get_num_coordinates(full.geometry.values).sum() / 2
    )
    # at the tightest budget, the least important kind goes first
    tiny, _ = _backdrop.fit_budget(roads, bbox, 20)
    assert set(tiny["kind"]) <= {"primary"}


@pytest.mark.skipif(not (SHARED / "andorra.osm.pbf").is_file(), reason="shared OSM data absent")
def test_context_from_a_real_osm_extract() -> None:
    bbox = (1.40, 42.42, 1.80, 42.66)
    frame = _backdrop.context_from_osm(SHARED / "andorra.osm.pbf", bbox)
    kinds = set(frame["kind"])
    assert {"motorway", "primary", "secondary", "river", "district"} <= kinds, kinds
    districts = frame[frame["kind"] == "district"]
    assert districts.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # Andorra's seven parishes (admin level 7) are the districts
    assert 6 <= len(districts) <= 8
    roads = frame[frame["kind"] == "primary"]
    assert roads.geom_type.isin(["LineString", "MultiLineString"]).all()
    assert roads.intersects(shapely.box(*bbox)).all()
    fitted, _ = _backdrop.fit_budget(frame, bbox, 300)
    shapes, labels = _backdrop._features(fitted, False)
    assert len(json.dumps(shapes, separators=(",", ":"))) <= 300_000
    assert len(labels) >= 6


def test_a_study_with_an_osm_network_draws_its_context(tmp_path: Path) -> None:
    source = SHARED / "andorra.osm.pbf"
    if not source.is_file():
        pytest.skip("shared OSM data absent")
    ranked = synthetic_ranked(20, evil=False)
    ranked = ranked.set_geometry(
        gpd.points_from_xy(np.linspace(1.50, 1.56, 20), np.linspace(42.50, 42.56, 20)),
        crs="EPSG:4326",
    )
    study = type("S", (), {"network": {"source": str(source)}, "layers": {}})()
    html = map_html(make_map(ranked, study, basemap="none"))
    kinds = {f["properties"]["k"] for f in context_data(html)["shapes"]["features"]}
    assert {"primary", "river"} <= kinds


def test_a_file_that_is_not_osm_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "city.osm.pbf"
    fake.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    with pytest.raises(LayerReadError):
        _backdrop.context_from_osm(fake, (0, 0, 1, 1))


def test_lines_from_the_stations_order_without_transit(sample: tuple[Any, Any]) -> None:
    study, _ranked = sample
    raw = _raw_sample()
    raw.pop("transit")
    raw["criteria"] = [c for c in raw["criteria"] if c.get("mode") != "transit"]
    plain = study_from_dict(raw, folder=SAMPLE)
    lines = _context._lines_from_stations(plain.layers["stations"])
    assert lines is not None and list(lines["line"]) == ["1", "2"]
    described = study.transit_service.lines.set_index("line")
    for line, geom in zip(lines["line"], lines.geometry, strict=True):
        np.testing.assert_allclose(
            shapely.get_coordinates(geom),
            shapely.get_coordinates(described.loc[line, "geometry"]),
            atol=1e-9,
        )  # Wenhuagong (L1-11) sixth on Line 2, as [transit] says
    html = map_html(make_map(gp.rank_sites(plain), plain, basemap="none"))
    assert "地铁线路 Metro lines" in html


def test_a_lines_layer_is_drawn_in_its_colours_and_other_layers_plainly(
    sample: tuple[Any, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study, _ranked = sample
    raw = _raw_sample()
    raw.pop("transit")
    raw["criteria"] = [c for c in raw["criteria"] if c.get("mode") != "transit"]
    stations = study.layers["stations"]
    track = shapely.LineString(shapely.get_coordinates(stations.geometry.values[:5]))
    gpd.GeoDataFrame(
        {"name": ["Line 9"], "colour": ["#123abc"]}, geometry=[track], crs="EPSG:4326"
    ).to_file(tmp_path / "metro.geojson", driver="GeoJSON")
    housing = gpd.read_file(SAMPLE / "context.geojson").iloc[:3][["name", "geometry"]]
    housing.to_file(tmp_path / "extra.geojson", driver="GeoJSON")
    for path in SAMPLE.iterdir():  # the sample's layers
        if path.is_file() and path.suffix in (".csv", ".geojson"):
            (tmp_path / path.name).write_bytes(path.read_bytes())
    raw["layers"]["metro_lines"] = {"path": "metro.geojson"}
    raw["layers"]["extra"] = {"path": "extra.geojson", "name_column": "name"}
    raw["layers"]["empty"] = {"path": "extra.geojson"}
    mine = study_from_dict(raw, folder=tmp_path)
    mine.layers["empty"] = mine.layers["empty"].iloc[:0]
    with caplog.at_level(logging.WARNING, logger="geoplan"):
        html = map_html(make_map(gp.rank_sites(mine), mine, basemap="none"))
    data = page_data(html)
    lines = [
        f
        for v in data.values()
        if isinstance(v, dict) and "data" in v
        for f in v["data"]["features"]
        if f["geometry"]["type"] == "LineString"
    ]
    assert [f["properties"]["_s"]["color"] for f in lines] == ["#123abc"]
    names = next(v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], str))
    assert any("extra (3)" in n for n in names)
    assert "'empty'" in caplog.text and "does not draw" in caplog.text
    assert "'extra'" not in caplog.text

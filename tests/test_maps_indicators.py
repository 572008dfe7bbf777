"""Map layers of the industry-city indicators: life-circle gaps, life circles, station walking areas.

Checked against independent computations: the gaps against
:func:`geoplan.life_circles` run on its own, straight-line circles against
pi r^2, walking areas against the network isochrones they must equal, and a
walking area's extent against networkx distances along the streets.
"""

from __future__ import annotations

import html
import math
import re
import types
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan as gp
from geoplan.io.coords import local_metric_crs
from geoplan.maps._elements import FeatureLayer, RingsLayer
from geoplan.maps.build import make_map, map_html
from geoplan.streets.network import load_network

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"


def feature_layers(m: Any) -> dict[str, FeatureLayer]:
    """The map's FeatureLayers by the English words that start their names."""
    found = {}
    for child in m._children.values():
        if isinstance(child, FeatureLayer):
            found[child.layer_name] = child
    return found


def layer_named(m: Any, words: str) -> FeatureLayer:
    matches = [layer for name, layer in feature_layers(m).items() if words in name]
    assert len(matches) == 1, f"one layer named {words!r}: {list(feature_layers(m))}"
    return matches[0]


@pytest.fixture(scope="module")
def sample() -> tuple[gpd.GeoDataFrame, Any]:
    study = gp.load_study(SAMPLE)
    return gp.rank_sites(study), study


def test_gap_markers_are_the_eligible_sites_that_fail_a_life_circle(sample) -> None:
    ranked, study = sample
    m = make_map(ranked, study, basemap="none")
    gaps = layer_named(m, "Life-circle gaps").page_data["data"]["features"]
    # independently: the study's services against GB 50180, straight-line (no [network])
    crs = local_metric_crs(tuple(ranked.to_crs(4326).total_bounds))
    circles = gp.life_circles(ranked.to_crs(crs), study.layers["services"].to_crs(crs))
    failing = ranked.loc[ranked["eligible"].astype(bool) & ~circles["lc15_ok"]]
    assert 0 < len(failing) < int(ranked["eligible"].sum()), "the sample has sites both ways"
    assert len(gaps) == len(failing)
    drawn = sorted(tuple(np.round(f["geometry"]["coordinates"], 5)) for f in gaps)
    expected = sorted(
        tuple(np.round(xy, 5)) for xy in shapely.get_coordinates(failing.to_crs(4326).geometry)
    )
    assert drawn == expected
    tips = " ".join(f["properties"]["_t"] for f in gaps)
    for label in failing.index:
        for column in ("gaps_en", "gaps_zh"):  # every gap, escaped as HTML
            for gap in str(circles.at[label, column]).split("; "):
                assert gap and html.escape(gap) in tips
    assert "straight-line" in layer_named(m, "Life-circle gaps").layer_name


def test_top_sites_life_circles_are_straight_line_circles_without_a_network(sample) -> None:
    ranked, study = sample
    m = make_map(ranked, study, basemap="none", top_n=4)
    layer = layer_named(m, "Life circles of the top 4")
    features = layer.page_data["data"]["features"]
    assert len(features) == 4 * 3
    shapes = gpd.GeoSeries(
        [shapely.geometry.shape(f["geometry"]) for f in features], crs=4326
    ).to_crs(local_metric_crs(tuple(ranked.to_crs(4326).total_bounds)))
    # each is a circle about a top site: every vertex at its radius from the site
    best = ranked[ranked["eligible"].astype(bool)].sort_values("rank").head(4)
    centres = best.to_crs(shapes.crs).geometry
    radii = []
    for shape in shapes:
        centre = centres.iloc[int(np.argmin(centres.distance(shape.centroid)))]
        ring = shapely.points(shapely.get_coordinates(shape.exterior))
        distance = shapely.distance(centre, ring)
        assert distance.max() - distance.min() < 1.0
        radii.append(round(float(distance.mean())))
    assert sorted(set(radii)) == [300, 500, 1000] and len(radii) == 12
    assert "1,000 m" in layer.layer_name and "straight-line" in layer.layer_name
    off = make_map(ranked, study, basemap="none", life_circles=False)
    assert not any("Life circle" in name for name in feature_layers(off))


def test_no_life_circles_unless_the_study_checks_them(sample) -> None:
    ranked, study = sample
    plain = types.SimpleNamespace(
        layers={"facilities": study.layers["facilities"]}, indicators={}, criteria=[]
    )
    m = make_map(ranked, plain, basemap="none")
    assert not any("Life" in name for name in feature_layers(m))


@pytest.fixture
def shanghai(shared_data: Path) -> Any:
    return load_network(shared_data / "shanghai_jingan_drive.osm", mode="walk")


def test_station_areas_and_life_circles_follow_the_walk_network(shanghai, sample) -> None:
    net = shanghai
    rng = np.random.default_rng(3)
    pick = rng.integers(0, net.n_nodes, 8)
    xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 15, (8, 2))
    sites = gpd.GeoDataFrame(
        {"name": [f"S{i}" for i in range(5)], "score": np.linspace(0.9, 0.5, 5)},
        geometry=shapely.points(xy[:5]),
        crs=net.crs,
    ).to_crs(4326)
    stations = gpd.GeoDataFrame(
        {"name": ["Jing'an Temple", "West Nanjing Road"], "lines": ["2;7", "2"]},
        geometry=shapely.points(xy[5:7]),
        crs=net.crs,
    ).to_crs(4326)
    services = gpd.GeoDataFrame(
        {"kind": ["kindergarten"]}, geometry=shapely.points(xy[7:8]), crs=net.crs
    ).to_crs(4326)
    study = types.SimpleNamespace(
        layers={"services": services}, indicators={"facilities_layer": "services"}, criteria=[]
    )
    with pytest.warns(gp.GeoplanWarning, match="No facility of the kinds"):
        m = make_map(sites, study, stations=stations, walk_network=net, basemap="none", top_n=2)
    assert not [c for c in m._children.values() if isinstance(c, RingsLayer)]

    def drawn_areas(words: str) -> list[float]:
        features = layer_named(m, words).page_data["data"]["features"]
        shapes = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in features], crs=4326)
        return sorted(shapes.to_crs(net.crs).area)

    def walk_areas(points: gpd.GeoDataFrame, distances: tuple[float, ...]) -> list[float]:
        found = gp.isochrones(net, points.geometry, distances_m=distances, buffer_m=30.0)
        return sorted(found.to_crs(net.crs).area)

    # the map draws exactly the areas along the streets (coordinates rounded for display)
    assert drawn_areas("Station walking areas 500/800 m") == pytest.approx(
        walk_areas(stations, (500.0, 800.0)), rel=1e-3
    )
    assert drawn_areas("Life circles of the top 2") == pytest.approx(
        walk_areas(sites.iloc[:2], (300.0, 500.0, 1000.0)), rel=1e-3
    )
    assert "along the walk network" in layer_named(m, "Life circles of the top 2").layer_name
    # and they are not circles: the 800 m area is far smaller than pi 800^2
    assert max(drawn_areas("Station walking areas")) < 0.8 * math.pi * 800**2
    gaps = layer_named(m, "Life-circle gaps").page_data["data"]["features"]
    assert len(gaps) == 5, "one kindergarten cannot meet the 5-minute circle anywhere"
    tips = [
        f["properties"]["_t"]
        for f in layer_named(m, "Station walking areas").page_data["data"]["features"]
    ]
    assert sum(html.escape("Jing'an Temple") in t for t in tips) == 2
    assert "Jing'an" not in map_html(m), "names reach the page escaped, as data"


def test_life_circle_layers_speak_the_map_language(sample) -> None:
    ranked, study = sample
    words = {"en": "Life-circle gaps", "zh": "生活圈缺口"}
    for lang, other in (("en", r"[\u4e00-\u9fff]"), ("zh", r"\b(?:no|within|circle)\b")):
        m = make_map(ranked, study, basemap="none", lang=lang)
        layer = layer_named(m, words[lang])
        # the gaps, after the site's own name (data, in whatever language it was written)
        gaps = [
            f["properties"]["_t"].split("</b>", 1)[1] for f in layer.page_data["data"]["features"]
        ]
        assert gaps and all(gaps), lang
        assert not any(re.search(other, g) for g in gaps), lang
        assert not re.search(other, re.sub("<[^>]+>", "", layer.layer_name)), layer.layer_name


def test_gaps_are_checked_for_the_best_sites_only(sample, monkeypatch) -> None:
    """A dense grid of 100,000 cells must not carry a ring per cell (the map's size budget)."""
    from geoplan.maps import _indicators

    ranked, study = sample
    monkeypatch.setattr(_indicators, "MAX_GAP_SITES", 8)
    layer = layer_named(make_map(ranked, study, basemap="none", top_n=6), "Life-circle gaps")
    best = ranked[ranked["eligible"].astype(bool)].sort_values("rank").head(6)
    crs = local_metric_crs(tuple(ranked.to_crs(4326).total_bounds))
    circles = gp.life_circles(best.to_crs(crs), study.layers["services"].to_crs(crs))
    assert len(layer.page_data["data"]["features"]) == int((~circles["lc15_ok"]).sum()) > 0
    assert "of the best 6" in layer.layer_name

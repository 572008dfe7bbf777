"""Station areas (TOD) and industry "near, not too near", against brute force and geometry."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_network import random_sites, reference_costs

import geoplan as gp
from geoplan.indicators import industry, stations
from geoplan.streets.network import load_network
from geoplan.streets.routing import NetworkMetric

CRS = "EPSG:32650"


def _points(
    xy: list[tuple[float, float]] | np.ndarray, **columns: list[object]
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=shapely.points(np.asarray(xy, float)), crs=CRS)


def _brute(sites: gpd.GeoDataFrame, targets: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(
        [[a.distance(b) for b in targets.geometry] for a in sites.geometry], dtype=float
    )


# --------------------------------------------------------------------------------------
# Station areas
# --------------------------------------------------------------------------------------


def _lines_reference(d: np.ndarray, lines: list[list[str]], radius: float) -> pd.DataFrame:
    rows = []
    for row in d:
        near = np.flatnonzero(row <= radius)
        names = sorted({line for j in near for line in lines[j]})
        rows.append(
            {
                "lines": len(names),
                "line_names": ";".join(names),
                "stations": len(near),
                "transfer_stations": sum(len(lines[j]) >= 2 for j in near),
            }
        )
    return pd.DataFrame(rows)


def test_rings_and_lines_match_brute_force() -> None:
    rng = np.random.default_rng(4)
    station_xy = rng.uniform(0, 5000, (30, 2))
    line_values = [rng.choice(["1", "2", "3", "1;2", "2;3", "1/3", None]) for _ in range(30)]
    metro = _points(station_xy, lines=line_values)
    sites = _points(rng.uniform(0, 5000, (400, 2)), site_id=[f"S{i}" for i in range(400)])
    d = _brute(sites, metro)
    areas = gp.station_areas(sites, metro)
    nearest = d.min(axis=1)
    np.testing.assert_allclose(areas["station_m"], nearest)
    expected_ring = np.where(
        nearest <= 500, "core", np.where(nearest <= 800, "influence", "outside")
    )
    assert areas["ring"].tolist() == expected_ring.tolist()
    assert set(areas["ring_zh"]) <= {"核心区", "影响区", "区外"}
    assert areas.index.equals(sites.index)
    parsed = stations.station_lines(metro)
    for radius in (300.0, 800.0, 2500.0):
        found = gp.lines_within(sites, metro, radius_m=radius).reset_index(drop=True)
        pd.testing.assert_frame_equal(found, _lines_reference(d, parsed, radius))


def test_ring_edges_and_presets() -> None:
    metro = _points([(0, 0)], lines=["1"])
    sites = _points([(500, 0), (500.001, 0), (800, 0), (800.01, 0), (0, 300)])
    assert gp.station_areas(sites, metro)["ring"].tolist() == [
        "core",
        "influence",
        "influence",
        "outside",
        "core",
    ]
    dense = gp.station_areas(sites, metro, core_m=300, influence_m=500)
    assert dense["ring"].tolist() == ["influence", "outside", "outside", "outside", "core"]
    with pytest.raises(gp.CriterionError, match="core_m <= influence_m"):
        gp.station_areas(sites, metro, core_m=900, influence_m=800)


def test_lines_column_is_checked_and_minutes_refused(tmp_path: Path) -> None:
    metro = _points([(0, 0)], name=["a"])
    sites = _points([(1, 1)])
    with pytest.raises(gp.CriterionError, match="no column 'lines'"):
        gp.lines_within(sites, metro)

    class Minutes:
        unit = "min"
        label = "walking time"

    with pytest.raises(gp.CriterionError, match="metres of walking"):
        gp.station_areas(sites, metro, metric=Minutes())  # type: ignore[arg-type]


def test_station_areas_along_real_streets(shared_data: Path) -> None:
    """On the real Shanghai walk network: against networkx shortest paths."""
    net = load_network(shared_data / "shanghai_jingan_drive.osm", mode="walk")
    metric = NetworkMetric(net, unit="m")
    sites = gpd.GeoDataFrame(geometry=random_sites(net, 120, seed=5))
    metro = gpd.GeoDataFrame(
        {"lines": ["1", "2", "1;2", "12", "2;12", "9"]},
        geometry=random_sites(net, 6, seed=6, spread_m=10).values,
        crs=net.crs,
    )
    d = reference_costs(metric, sites.geometry, metro.geometry)
    areas = gp.station_areas(sites, metro, metric=metric)
    np.testing.assert_allclose(areas["station_m"], d.min(axis=1), rtol=1e-6)
    found = gp.lines_within(sites, metro, radius_m=800, metric=metric).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        found, _lines_reference(d, stations.station_lines(metro), 800 * (1 + 1e-12))
    )


# --------------------------------------------------------------------------------------
# Protection distances and the wind
# --------------------------------------------------------------------------------------


def test_protection_distances_from_a_column_a_class_or_a_default() -> None:
    parks = _points(
        [(0, 0), (1, 0), (2, 0), (3, 0)],
        industry=["chemical", "electronics", "chemical", None],
        buffer_m=[None, 300.0, None, None],
    )
    found = gp.protection_distances_m(
        parks,
        column="buffer_m",
        class_column="industry",
        distances_m={"chemical": 1000, "electronics": 100},
        default_m=50,
    )
    assert found.tolist() == [1000.0, 300.0, 1000.0, 50.0]
    with pytest.raises(gp.CriterionError, match=r"[Cc]lass\(es\) \['chemical'"):
        gp.protection_distances_m(parks, class_column="industry", distances_m={"electronics": 1})
    bad = parks.assign(buffer_m=[None, -5.0, None, None])
    with pytest.raises(gp.CriterionError, match="-5.0"):
        gp.protection_distances_m(bad, column="buffer_m")


def test_protection_margin_matches_brute_force() -> None:
    rng = np.random.default_rng(8)
    parks = gpd.GeoDataFrame(
        geometry=shapely.buffer(shapely.points(rng.uniform(0, 8000, (12, 2))), 300), crs=CRS
    )
    limits = rng.uniform(0, 1500, 12)
    sites = _points(rng.uniform(-2000, 10_000, (500, 2)))
    d = _brute(sites, parks)
    expected = np.minimum((d - limits).min(axis=1), 10_000.0)
    found = gp.protection_margin(sites, parks, distances_m=limits)
    np.testing.assert_allclose(found, expected, atol=1e-9)
    assert (found < 0).sum() == ((d < limits).any(axis=1)).sum()


def test_wind_rose_forms() -> None:
    rose = industry.wind_rose_frequencies({"N": 30, "东北": 10, 180: 40, "WSW": 20})
    assert rose[0] == 0.3 and rose[2] == 0.1 and rose[8] == 0.4 and rose[11] == 0.2
    assert rose.sum() == pytest.approx(1.0)
    with pytest.raises(gp.CriterionError, match="compass point"):
        industry.wind_rose_frequencies({"up": 1})
    with pytest.raises(gp.CriterionError, match="multiple of 22.5"):
        industry.wind_rose_frequencies({10: 1})
    with pytest.raises(gp.CriterionError, match="no positive frequency"):
        industry.wind_rose_frequencies({"N": 0})


def test_downwind_exposure_by_geometry() -> None:
    """A park due north of a site sends it the north wind; east, the east wind; inside: always."""
    rose = {"N": 50, "E": 30, "S": 20}
    park = gpd.GeoDataFrame(geometry=[shapely.box(-100, 900, 100, 1100)], crs=CRS)
    sites = _points([(0, 0), (-2000, 1000), (0, 2000), (0, 1000), (0, -9000), (1000, 0)])
    found = gp.downwind_exposure(sites, park, wind_rose=rose, radius_m=5000)
    # south of the park: wind from N; west of it: from E; north: from S; inside: 1;
    # beyond the radius: 0; to the south-east (bearing 315 deg from the site): from NW = 0
    np.testing.assert_allclose(found, [0.5, 0.3, 0.2, 1.0, 0.0, 0.0])
    # the worst of two parks counts
    two = pd.concat([park, park.assign(geometry=park.translate(3000, -2000))], ignore_index=True)
    worst = gp.downwind_exposure(_points([(1000, -1000)]), two, wind_rose=rose, radius_m=5000)
    # bearing to the second park: due east, E = 0.3; to the first: NNW, 0
    assert worst.iloc[0] == pytest.approx(0.3)

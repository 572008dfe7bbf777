"""Criteria against brute-force references computed independently with shapely."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

import geoplan as gp

CRS = "EPSG:4549"


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10_000, size=(400, 2)) + [500_000, 3_500_000]
    return gpd.GeoDataFrame(
        {"id": range(400)},
        geometry=gpd.points_from_xy(*xy.T),
        crs=CRS,
        index=pd.Index(np.arange(400) * 10 + 7, name="site"),
    )


@pytest.fixture
def stations() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 10_000, size=(60, 2)) + [500_000, 3_500_000]
    return gpd.GeoDataFrame(
        {"jobs": rng.integers(100, 5000, 60)},
        geometry=gpd.points_from_xy(*xy.T),
        crs=CRS,
        index=pd.Index([f"s{i}" for i in range(60)]),
    )


@pytest.fixture
def parks() -> gpd.GeoDataFrame:
    squares = [
        shapely.box(500_000 + x, 3_500_000 + y, 500_000 + x + 1500, 3_500_000 + y + 1000)
        for x, y in [(1000, 1000), (6000, 2000), (3000, 7000)]
    ]
    return gpd.GeoDataFrame(
        {"jobs": [50_000, 20_000, 8_000], "name": ["A", "B", "C"]}, geometry=squares, crs=CRS
    )


def _brute(sites: gpd.GeoDataFrame, targets: gpd.GeoDataFrame) -> np.ndarray:
    a = np.asarray(sites.geometry.array, dtype=object)
    b = np.asarray(targets.geometry.array, dtype=object)
    return np.asarray(shapely.distance(a[:, None], b[None, :]))


def test_nearest_distance_points(sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> None:
    got = gp.nearest_distance(sites, stations)
    assert got.index.equals(sites.index)
    np.testing.assert_allclose(got, _brute(sites, stations).min(axis=1))
    found = gp.nearest_target(sites, stations)
    assert (
        found["target"].to_numpy()
        == stations.index.to_numpy()[_brute(sites, stations).argmin(axis=1)]
    ).all()


def test_nearest_distance_polygons_measured_to_boundary(
    sites: gpd.GeoDataFrame, parks: gpd.GeoDataFrame
) -> None:
    got = gp.nearest_distance(sites, parks)
    np.testing.assert_allclose(got, _brute(sites, parks).min(axis=1))
    inside = gpd.GeoDataFrame(geometry=[Point(501_700, 3_501_500)], crs=CRS)
    assert gp.nearest_distance(inside, parks).iloc[0] == 0.0
    outside = gpd.GeoDataFrame(geometry=[Point(500_900, 3_501_500)], crs=CRS)
    assert gp.nearest_distance(outside, parks).iloc[0] == pytest.approx(100.0)


def test_count_within(
    sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, parks: gpd.GeoDataFrame
) -> None:
    got = gp.count_within(sites, stations, radius_m=1500)
    np.testing.assert_array_equal(got, (_brute(sites, stations) <= 1500).sum(axis=1))
    got_parks = gp.count_within(sites, parks, radius_m=800)
    np.testing.assert_array_equal(got_parks, (_brute(sites, parks) <= 800).sum(axis=1))


def test_sum_within_with_decay(
    sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, parks: gpd.GeoDataFrame
) -> None:
    decay = gp.make_decay({"kind": "exponential", "half_at": 1000, "direction": "lower"})
    for targets, radius in ((stations, 2500), (parks, 5000)):
        d = _brute(sites, targets)
        expected = (targets["jobs"].to_numpy() * np.where(d <= radius, 0.5 ** (d / 1000), 0)).sum(
            axis=1
        )
        got = gp.sum_within(sites, targets, column="jobs", radius_m=radius, decay=decay)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    plain = gp.sum_within(sites, stations, column="jobs", radius_m=2000)
    np.testing.assert_allclose(
        plain, (stations["jobs"].to_numpy() * (_brute(sites, stations) <= 2000)).sum(axis=1)
    )


def test_inputs_are_not_mutated(sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> None:
    before_sites, before_stations = sites.copy(), stations.copy()
    gp.sum_within(sites, stations, column="jobs", radius_m=2000)
    pd.testing.assert_frame_equal(sites, before_sites)
    pd.testing.assert_frame_equal(stations, before_stations)


def test_polygon_sites_are_scored_inside_themselves(
    parks: gpd.GeoDataFrame, stations: gpd.GeoDataFrame
) -> None:
    got = gp.nearest_distance(parks, stations)
    reps = parks.geometry.representative_point()
    assert all(parks.geometry.contains(reps))
    np.testing.assert_allclose(got, _brute(gpd.GeoDataFrame(geometry=reps), stations).min(axis=1))


def test_geographic_crs_is_refused(stations: gpd.GeoDataFrame) -> None:
    with pytest.raises(gp.CoordinateError, match="projected CRS"):
        gp.nearest_distance(stations.to_crs(4326), stations.to_crs(4326))


def test_mismatched_crs_is_refused(stations: gpd.GeoDataFrame) -> None:
    with pytest.raises(gp.CoordinateError, match="to_crs"):
        gp.nearest_distance(stations, stations.to_crs(32650))


def test_cutoff_must_match_the_metric(sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> None:
    with pytest.raises(gp.CriterionError, match="use radius_m instead"):
        gp.count_within(sites, stations, max_minutes=10)
    with pytest.raises(gp.CriterionError, match="exactly one"):
        gp.count_within(sites, stations)


def test_sum_within_bad_column(sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> None:
    with pytest.raises(gp.CriterionError, match=r"no column 'job'.*\['jobs'\]"):
        gp.sum_within(sites, stations, column="job", radius_m=100)


def test_empty_targets_give_inf(sites: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> None:
    assert np.isinf(gp.nearest_distance(sites, stations.iloc[:0])).all()
    assert (gp.count_within(sites, stations.iloc[:0], radius_m=10) == 0).all()


@pytest.mark.parametrize("bad", [np.inf, -3.0, np.nan, "many"])
def test_sum_within_amounts_must_be_finite_and_name_the_feature(
    sites: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, bad: object
) -> None:
    parks = parks.assign(park_id=["P01", "P02", "P03"])
    parks["jobs"] = pd.Series([50_000, bad, 8_000], dtype=object)
    with pytest.raises(gp.CriterionError) as info:
        gp.sum_within(sites, parks, column="jobs", radius_m=3000)
    message = str(info.value)
    assert "'jobs' must hold finite numbers >= 0" in message
    assert "feature 2 (park_id 'P02')" in message and repr(bad) in message

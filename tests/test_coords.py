"""Coordinate systems: GCJ-02/BD-09 conversions and CRS names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import geoplan as gp
from geoplan.io import coords

CHINA_LON = st.floats(min_value=73.7, max_value=134.7)
CHINA_LAT = st.floats(min_value=18.2, max_value=53.5)
CM = 0.01  # metres
DEG_PER_M = 1.0 / 111_000.0


def test_forward_matches_independent_public_domain_implementation() -> None:
    """Our vectorised WGS-84 -> GCJ-02 -> BD-09 agrees with prcoords point by point."""
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 300)
    lat = rng.uniform(19, 53, 300)
    glon, glat = gp.wgs84_to_gcj02(lon, lat)
    blon, blat = gp.gcj02_to_bd09(glon, glat)
    for i in range(len(lon)):
        ref = prcoords.wgs_gcj(prcoords.Coords(lat[i], lon[i]))
        assert glon[i] == pytest.approx(ref.lon, abs=1e-9)
        assert glat[i] == pytest.approx(ref.lat, abs=1e-9)
        ref_bd = prcoords.gcj_bd(prcoords.Coords(glat[i], glon[i]))
        assert blon[i] == pytest.approx(ref_bd.lon, abs=1e-9)
        assert blat[i] == pytest.approx(ref_bd.lat, abs=1e-9)


def test_offset_size_is_hundreds_of_metres_in_changzhou() -> None:
    glon, glat = gp.wgs84_to_gcj02(119.955, 31.78)
    geod = pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(119.955, 31.78, float(glon), float(glat))
    assert 300 < dist < 700


@settings(max_examples=300, deadline=None)
@given(lon=CHINA_LON, lat=CHINA_LAT)
def test_gcj02_round_trip_under_one_centimetre(lon: float, lat: float) -> None:
    back_lon, back_lat = gp.gcj02_to_wgs84(*gp.wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) * 111_000 * np.cos(np.radians(lat)) < CM
    assert abs(back_lat - lat) * 111_000 < CM


@settings(max_examples=300, deadline=None)
@given(lon=CHINA_LON, lat=CHINA_LAT)
def test_bd09_round_trip_under_one_centimetre(lon: float, lat: float) -> None:
    back_lon, back_lat = gp.bd09_to_wgs84(*gp.wgs84_to_bd09(lon, lat))
    assert abs(back_lon - lon) < CM * DEG_PER_M / np.cos(np.radians(lat))
    assert abs(back_lat - lat) < CM * DEG_PER_M


def test_inverse_is_vectorised_and_exact_for_a_million_points() -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(100, 125, 1_000_000)
    lat = rng.uniform(20, 45, 1_000_000)
    back = gp.gcj02_to_wgs84(*gp.wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-9
    assert np.max(np.abs(back[1] - lat)) < 1e-9


def test_outside_china_is_unchanged() -> None:
    lon, lat = gp.wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    np.testing.assert_array_equal(lon, [2.35, -74.0])
    np.testing.assert_array_equal(lat, [48.85, 40.7])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("amap", "gcj02"),
        ("bd09", "bd09"),
        ("Baidu", "bd09"),
    ],
)
def test_chinese_crs_names(name: str, expected: str) -> None:
    assert coords.resolve_crs(name) == expected


def test_epsg_and_cgcs2000_names() -> None:
    assert coords.resolve_crs("EPSG:4549") == pyproj.CRS.from_epsg(4549)
    assert coords.resolve_crs("cgcs2000") == pyproj.CRS.from_epsg(4490)
    assert coords.resolve_crs(4326) == pyproj.CRS.from_epsg(4326)


def test_unknown_crs_is_a_clear_error() -> None:
    with pytest.raises(gp.CRSError, match=r"'gcj2'.*'gcj02'") as info:
        coords.resolve_crs("gcj2")
    assert isinstance(info.value, ValueError)


def test_local_metric_crs_for_changzhou_is_utm_50n() -> None:
    assert coords.local_metric_crs((119.8, 31.6, 120.1, 31.9)).to_epsg() == 32650


def _track_distances(stations: pd.DataFrame, tracks_path: object, *, crs: str | None) -> np.ndarray:
    import geopandas as gpd

    tracks = gpd.read_file(tracks_path).to_crs(32650)
    layer = stations.to_crs(32650)
    lines = shapely.union_all(tracks.geometry.values)
    return np.asarray(shapely.distance(layer.geometry.values, lines))


def test_real_changzhou_stations_land_on_the_real_tracks(shared_data) -> None:  # type: ignore[no-untyped-def]
    """Real data: GCJ-02 metro stations, converted, sit on the WGS-84 OSM track geometry."""
    csv = shared_data / "changzhou_metro_stations_gcj02.csv"
    tracks = shared_data / "changzhou_metro_tracks_wgs84.geojson"
    converted = gp.read_layer(csv, crs="gcj02")
    assert len(converted) == 43
    with pytest.warns(gp.GeoplanWarning, match="name 'gcj02' coordinates but crs='EPSG:4326'"):
        as_is = gp.read_layer(csv, crs="EPSG:4326")  # the columns' names say otherwise
    d_conv = _track_distances(converted, tracks, crs="gcj02")
    d_raw = _track_distances(as_is, tracks, crs=None)
    assert np.median(d_conv) < 10
    assert np.max(d_conv) < 20
    assert 350 < np.median(d_raw) < 500


def test_projecting_points_as_arrays_equals_to_crs() -> None:
    import geopandas as gpd
    import shapely

    from geoplan.io.coords import project_frame, project_geometries

    rng = np.random.default_rng(5)
    points = list(shapely.points(rng.uniform(119.8, 120.2, 50), rng.uniform(31.6, 31.9, 50)))
    points[3] = None
    points[7] = shapely.Point()
    geoms = gpd.GeoSeries(points, index=np.arange(100, 150), crs="EPSG:4326", name="where")
    got = project_geometries(geoms, "EPSG:4549")
    want = geoms.to_crs("EPSG:4549")
    assert got.crs == want.crs and got.name == "where" and got.index.equals(want.index)
    assert got.iloc[3] is None and got.iloc[7].is_empty
    assert shapely.equals_exact(got.to_numpy(), want.to_numpy(), tolerance=1e-6)[
        [i for i in range(50) if i not in (3, 7)]
    ].all()
    # other shapes and 3-d points: the same as to_crs
    mixed = gpd.GeoSeries([shapely.box(120, 31.7, 120.01, 31.71), shapely.Point(120, 31.7, 5)],
                          crs="EPSG:4326")  # fmt: skip
    for series in (mixed, mixed.iloc[1:]):
        assert (
            project_geometries(series, 4549)
            .geom_equals_exact(series.to_crs(4549), tolerance=1e-6)
            .all()
        )
    frame = gpd.GeoDataFrame({"a": range(50), "b": 1}, geometry=geoms.rename("geometry"))
    frame = frame[["a", "geometry", "b"]]
    projected = project_frame(frame, "EPSG:4549")
    assert list(projected.columns) == ["a", "geometry", "b"] and projected.crs == want.crs

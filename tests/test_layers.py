"""Reading layers: formats, coordinate columns, CRS handling and likely mistakes."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

import geoplan as gp
from geoplan.cli import main
from geoplan.io.layers import find_coordinate_columns

CZ = [(119.95, 31.78), (119.97, 31.80), (119.99, 31.70)]


def _points(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=[Point(p) for p in CZ], crs=crs)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".parquet", ".fgb"])
def test_reads_common_formats(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sites{suffix}"
    layer = _points()
    if suffix == ".parquet":
        layer.to_parquet(path)
    else:
        layer.to_file(path)
    read = gp.read_layer(path).sort_values("name")  # FlatGeobuf stores features in index order
    assert read.crs.to_epsg() == 4326
    assert list(read["name"]) == ["a", "b", "c"]
    np.testing.assert_allclose(read.geometry.x, [p[0] for p in CZ])


def test_reads_projected_file_back_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "sites.gpkg"
    _points().to_crs(4549).to_file(path)
    read = gp.read_layer(path)
    np.testing.assert_allclose(read.geometry.x, [p[0] for p in CZ], atol=1e-8)


def test_gpkg_layer_argument(tmp_path: Path) -> None:
    path = tmp_path / "multi.gpkg"
    _points().to_file(path, layer="first")
    _points().iloc[:1].to_file(path, layer="second")
    assert len(gp.read_layer(path, layer="second")) == 1


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("lon", "lat"),
        ("lng", "lat"),
        ("Longitude", "Latitude"),
        ("x", "y"),
        ("经度", "纬度"),
        ("lon_wgs84", "lat_wgs84"),
    ],
)
def test_csv_coordinate_columns_are_detected(tmp_path: Path, lon: str, lat: str) -> None:
    path = tmp_path / "sites.csv"
    pd.DataFrame({"名称": ["甲", "乙"], lon: [119.95, 119.97], lat: [31.78, 31.80]}).to_csv(
        path, index=False
    )
    read = gp.read_layer(path)
    assert list(read.columns) == ["名称", "geometry"]
    assert read.geometry.y.tolist() == [31.78, 31.80]


def test_excel_and_gbk_csv(tmp_path: Path) -> None:
    table = pd.DataFrame({"名称": ["人才公寓"], "经度": [119.95], "纬度": [31.78]})
    table.to_excel(tmp_path / "sites.xlsx", index=False)
    assert gp.read_layer(tmp_path / "sites.xlsx")["名称"].iloc[0] == "人才公寓"
    (tmp_path / "gbk.csv").write_bytes(table.to_csv(index=False).encode("gb18030"))
    assert gp.read_layer(tmp_path / "gbk.csv")["名称"].iloc[0] == "人才公寓"


def test_gcj02_table_is_converted(tmp_path: Path) -> None:
    glon, glat = gp.wgs84_to_gcj02([119.95], [31.78])
    pd.DataFrame({"lon": glon, "lat": glat}).to_csv(tmp_path / "amap.csv", index=False)
    read = gp.read_layer(tmp_path / "amap.csv", crs="gcj02")
    assert read.geometry.x.iloc[0] == pytest.approx(119.95, abs=1e-9)
    assert read.geometry.y.iloc[0] == pytest.approx(31.78, abs=1e-9)


def test_gcj02_named_columns_are_converted_without_asking(tmp_path: Path) -> None:
    glon, glat = gp.wgs84_to_gcj02([119.95], [31.78])
    pd.DataFrame({"lon_gcj02": glon, "lat_gcj02": glat}).to_csv(tmp_path / "amap.csv", index=False)
    assert gp.read_layer(tmp_path / "amap.csv").geometry.x.iloc[0] == pytest.approx(
        119.95, abs=1e-9
    )


def test_bd09_polygons_are_converted(tmp_path: Path) -> None:
    ring = [(119.95, 31.78), (119.96, 31.78), (119.96, 31.79), (119.95, 31.79)]
    bd = [tuple(float(v) for v in gp.wgs84_to_bd09(x, y)) for x, y in ring]
    gpd.GeoDataFrame(geometry=[Polygon(bd)], crs=4326).to_file(tmp_path / "baidu.geojson")
    read = gp.read_layer(tmp_path / "baidu.geojson", crs="bd09")
    np.testing.assert_allclose(shapely.get_coordinates(read.geometry.values)[:4], ring, atol=1e-9)


def test_cgcs2000_is_accepted_as_is(tmp_path: Path) -> None:
    _points(crs="EPSG:4490").to_file(tmp_path / "cgcs.gpkg")
    read = gp.read_layer(tmp_path / "cgcs.gpkg")
    np.testing.assert_allclose(read.geometry.x, [p[0] for p in CZ], atol=1e-7)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(gp.LayerNotFoundError, match="nope.geojson") as info:
        gp.read_layer(tmp_path / "nope.geojson")
    assert isinstance(info.value, FileNotFoundError)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(gp.LayerReadError, match="Cannot read .*broken.geojson"):
        gp.read_layer(path)


def test_empty_table(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("name,lon,lat\n", encoding="utf-8")
    with pytest.raises(gp.LayerReadError, match="no rows"):
        gp.read_layer(tmp_path / "empty.csv")


def test_empty_geojson(tmp_path: Path) -> None:
    (tmp_path / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(gp.LayerReadError, match="no features"):
        gp.read_layer(tmp_path / "empty.geojson")


def test_csv_without_coordinates(tmp_path: Path) -> None:
    pd.DataFrame({"name": ["a"], "capacity": [300]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(
        gp.CoordinateError, match=r"no longitude column among \['name', 'capacity'\].*lon= and lat="
    ):
        gp.read_layer(tmp_path / "t.csv")


def test_non_numeric_coordinates_name_the_row(tmp_path: Path) -> None:
    pd.DataFrame({"lon": [119.9, "abc"], "lat": [31.7, 31.8]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    with pytest.raises(gp.CoordinateError, match=r"'lon'.*row\(s\) \[3\].*'abc'"):
        gp.read_layer(tmp_path / "t.csv")


def test_swapped_columns_are_detected(tmp_path: Path) -> None:
    pd.DataFrame({"lon": [31.78, 31.80], "lat": [119.95, 119.97]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    with pytest.raises(gp.CoordinateError, match="swapped"):
        gp.read_layer(tmp_path / "t.csv")


def test_swapped_geometries_are_detected(tmp_path: Path) -> None:
    gpd.GeoDataFrame(geometry=[Point(31.78, 119.95)], crs=4326).to_file(tmp_path / "t.geojson")
    with pytest.raises(gp.CoordinateError, match="swapped"):
        gp.read_layer(tmp_path / "t.geojson", crs="EPSG:4326")


def test_projected_numbers_in_a_table_need_a_crs(tmp_path: Path) -> None:
    pd.DataFrame({"x": [500000.0], "y": [3500000.0]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(gp.CoordinateError, match="crs="):
        gp.read_layer(tmp_path / "t.csv")
    read = gp.read_layer(tmp_path / "t.csv", crs="EPSG:32650")
    assert 116 < read.geometry.x.iloc[0] < 118


def test_layer_without_crs_warns_and_assumes_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: writing without a CRS
        _points(crs=None).to_file(path)
    with pytest.warns(gp.GeoplanWarning, match="no coordinate reference system"):
        read = gp.read_layer(path)
    assert read.crs.to_epsg() == 4326


def test_unknown_crs_name(tmp_path: Path) -> None:
    _points().to_file(tmp_path / "t.geojson")
    with pytest.raises(gp.CRSError, match="'wgs85'"):
        gp.read_layer(tmp_path / "t.geojson", crs="wgs85")


def test_mixed_geometries_warn(tmp_path: Path) -> None:
    square = Polygon([(119.9, 31.7), (119.91, 31.7), (119.91, 31.71), (119.9, 31.71)])
    gpd.GeoDataFrame(geometry=[Point(119.95, 31.78), square], crs=4326).to_file(
        tmp_path / "m.geojson"
    )
    with pytest.warns(gp.GeoplanWarning, match="mixes geometry types"):
        gp.read_layer(tmp_path / "m.geojson")


def test_invalid_polygon_is_repaired_with_a_warning(tmp_path: Path) -> None:
    bowtie = Polygon([(119.90, 31.70), (119.92, 31.72), (119.92, 31.70), (119.90, 31.72)])
    assert not bowtie.is_valid
    gpd.GeoDataFrame(geometry=[bowtie], crs=4326).to_file(tmp_path / "bad.geojson")
    with pytest.warns(gp.GeoplanWarning, match="repaired"):
        read = gp.read_layer(tmp_path / "bad.geojson")
    assert read.geometry.is_valid.all()
    assert read.geometry.to_crs(32650).area.iloc[0] > 0


def test_points_outside_study_area_warn() -> None:
    layer = _points()
    with pytest.warns(gp.GeoplanWarning, match=r"1 feature\(s\) of sites lie outside.*'c'"):
        count = gp.check_bounds(
            layer, (119.9, 31.75, 120.0, 31.85), name="sites", label_column="name"
        )
    assert count == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gp.check_bounds(layer, (119.0, 31.0, 121.0, 32.0)) == 0


def _geojson_with(path: Path, geometries: list[str]) -> Path:
    features = [
        f'{{"type": "Feature", "properties": {{"zone_id": "X{i:02d}"}}, "geometry": {g}}}'
        for i, g in enumerate(geometries, 1)
    ]
    path.write_text(
        '{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}",
        encoding="utf-8",
    )
    return path


GOOD_POINT = '{"type": "Point", "coordinates": [119.9, 31.8]}'


@pytest.mark.parametrize(
    ("geometry", "shown"),
    [
        ('{"type": "Point", "coordinates": [NaN, 31.8]}', "(nan, 31.8)"),
        ('{"type": "Point", "coordinates": [119.9, Infinity]}', "(119.9, inf)"),
        (
            '{"type": "Polygon", "coordinates": '
            "[[[119.9, 31.8], [-Infinity, 31.8], [120.0, 31.9], [119.9, 31.8]]]}",
            "(-inf, 31.8)",
        ),
    ],
)
def test_nan_or_infinite_coordinates_name_the_feature(
    tmp_path: Path, geometry: str, shown: str
) -> None:
    path = _geojson_with(tmp_path / "zones.geojson", [GOOD_POINT, geometry, GOOD_POINT])
    with pytest.raises(gp.CoordinateError) as info:
        gp.read_layer(path)
    message = str(info.value)
    assert message.startswith("zones.geojson: 1 feature(s) have coordinates that are not finite")
    assert "feature 2 (zone_id 'X02')" in message and shown in message
    assert "Fix those coordinates" in message


def test_nan_coordinates_in_a_study_are_one_line_errors(
    tmp_path: Path, sample_study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_study_path.parent, folder)
    bad = '{"type": "Point", "coordinates": [NaN, 31.8]}'
    _geojson_with(folder / "exclusions.geojson", [bad])
    code = main(["validate", str(folder / "study.toml")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "layers.exclusions" in err and "feature 1 (zone_id 'X01')" in err and "nan" in err


def test_features_without_geometry_are_named_with_plain_numbers(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"site_id": np.array([7, 8, 9])}, geometry=[Point(119.9, 31.8), None, None], crs=4326
    )
    layer.to_file(tmp_path / "t.gpkg")
    with pytest.warns(gp.GeoplanWarning) as caught:
        gp.read_layer(tmp_path / "t.gpkg")
    message = str(caught[0].message)
    assert "(feature 2 (site_id 8), feature 3 (site_id 9)) were skipped" in message
    assert "np." not in message


def test_infinite_table_coordinates_name_the_row(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,lon,lat\na,119.9,31.8\nb,1e999,31.8\n", encoding="utf-8")
    with pytest.raises(gp.CoordinateError, match=r"'lon'.*infinite.*row\(s\) \[3\].*\[inf\]"):
        gp.read_layer(tmp_path / "t.csv")


def test_points_outside_the_area_are_named_with_plain_values() -> None:
    layer = _points().assign(site_id=np.array([7, 8, 9], dtype=np.int64))
    with pytest.warns(gp.GeoplanWarning) as caught:
        gp.check_bounds(layer, (119.9, 31.75, 120.0, 31.85), label_column="site_id")
    assert "for example 9 at" in str(caught[0].message)
    with pytest.warns(gp.GeoplanWarning) as caught:
        gp.check_bounds(layer, (119.9, 31.75, 120.0, 31.85))
    assert "for example feature 3 (site_id 9) at" in str(caught[0].message)


# ---------------------------------------------------------------------------
# Coordinates from Chinese web maps
# ---------------------------------------------------------------------------

WGS = np.array(CZ)


def _table(path: Path, **columns: object) -> Path:
    pd.DataFrame({"name": ["a", "b", "c"], **columns}).to_csv(path, index=False)
    return path


def _read_quietly(path: Path, **kwargs: object) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", gp.GeoplanWarning)
        return gp.read_layer(path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lon", "lat", "system"),
    [
        ("gcj_lng", "gcj_lat", "gcj02"),
        ("gcj02_lng", "gcj02_lat", "gcj02"),
        ("lng_gcj02", "lat_gcj02", "gcj02"),
        ("lon_GCJ-02", "lat_GCJ-02", "gcj02"),
        ("lng(gcj02)", "lat(gcj02)", "gcj02"),
        ("高德经度", "高德纬度", "gcj02"),
        ("amap_lng", "amap_lat", "gcj02"),
        ("bd_lng", "bd_lat", "bd09"),
        ("bd09_lng", "bd09_lat", "bd09"),
        ("lng_bd09", "lat_bd09", "bd09"),
        ("百度经度", "百度纬度", "bd09"),
        ("wgs84_lng", "wgs84_lat", "wgs84"),
    ],
)
def test_column_names_that_state_the_system_are_converted(
    tmp_path: Path, lon: str, lat: str, system: str
) -> None:
    convert = {"gcj02": gp.wgs84_to_gcj02, "bd09": gp.wgs84_to_bd09}.get(system)
    x, y = convert(WGS[:, 0], WGS[:, 1]) if convert else (WGS[:, 0], WGS[:, 1])
    read = _read_quietly(_table(tmp_path / "t.csv", **{lon: x, lat: y}))
    np.testing.assert_allclose(shapely.get_coordinates(read.geometry.values), WGS, atol=1e-9)
    assert list(read.columns) == ["name", "geometry"]
    assert find_coordinate_columns(["name", lon, lat]) == (lon, lat)


def test_crs_contradicting_the_column_names_wins_with_a_warning(tmp_path: Path) -> None:
    x, y = gp.wgs84_to_gcj02(WGS[:, 0], WGS[:, 1])
    path = _table(tmp_path / "t.csv", lon_gcj02=x, lat_gcj02=y)
    with pytest.warns(gp.GeoplanWarning, match=r"name 'gcj02' coordinates but crs='EPSG:4326'"):
        read = gp.read_layer(path, crs="EPSG:4326")
    np.testing.assert_allclose(read.geometry.x, x)
    np.testing.assert_allclose(_read_quietly(path, crs="amap").geometry.x, WGS[:, 0], atol=1e-9)
    _table(tmp_path / "mixed.csv", lng_gcj02=x, lat_bd09=y)
    with pytest.raises(gp.CoordinateError, match=r"name different coordinate systems"):
        gp.read_layer(tmp_path / "mixed.csv")


def test_a_location_column_of_amap_text_is_read_as_gcj02(tmp_path: Path) -> None:
    x, y = gp.wgs84_to_gcj02(WGS[:, 0], WGS[:, 1])
    text = [f"{a:.9f},{b:.9f}" for a, b in zip(x, y, strict=True)]
    path = _table(tmp_path / "amap.csv", location=text)
    with pytest.warns(gp.GeoplanWarning, match=r"'location' holds \"lng,lat\".*crs='gcj02'"):
        read = gp.read_layer(path)
    np.testing.assert_allclose(shapely.get_coordinates(read.geometry.values), WGS, atol=1e-8)
    assert list(read.columns) == ["name", "geometry"]
    _read_quietly(path, crs="gcj02")
    plain = _table(tmp_path / "wgs.csv", location_wgs84=[f"{a}, {b}" for a, b in CZ])
    np.testing.assert_allclose(_read_quietly(plain).geometry.x, WGS[:, 0])


@pytest.mark.parametrize("cell", ["119.97", "119.97,31.80,0", "abc,31.8", "119.97;31.80", ""])
def test_malformed_location_cells_name_the_row(tmp_path: Path, cell: str) -> None:
    path = _table(tmp_path / "t.csv", location=["119.95,31.78", cell, "119.99,31.70"])
    with pytest.raises(gp.CoordinateError) as info:
        gp.read_layer(path, crs="gcj02")
    message = str(info.value)
    assert "'location' should hold \"longitude,latitude\" text" in message
    assert "row(s) [3]" in message and (repr(cell) if cell else "nan") in message


AMAP_EXPORT = {
    "typecode": ["150500"] * 3,
    "adcode": ["320411"] * 3,
    "pname": ["江苏省"] * 3,
    "cityname": ["常州市"] * 3,
    "adname": ["新北区", "天宁区", "武进区"],
}


def test_an_amap_export_without_a_crs_warns_that_it_may_be_gcj02(tmp_path: Path) -> None:
    x, y = gp.wgs84_to_gcj02(WGS[:, 0], WGS[:, 1])
    path = _table(tmp_path / "pois.csv", 经度=x, 纬度=y, **AMAP_EXPORT)
    with pytest.warns(gp.GeoplanWarning) as caught:
        gp.read_layer(path)
    message = str(caught[0].message)
    assert "['经度', '纬度'] state no coordinate system" in message
    assert "Amap (高德) export" in message and "'typecode'" in message
    assert "crs='gcj02'" in message and "crs='EPSG:4326'" in message
    np.testing.assert_allclose(_read_quietly(path, crs="gcj02").geometry.x, WGS[:, 0], atol=1e-9)
    np.testing.assert_allclose(_read_quietly(path, crs="EPSG:4326").geometry.x, x)


def test_a_baidu_export_without_a_crs_warns_that_it_may_be_bd09(tmp_path: Path) -> None:
    x, y = gp.wgs84_to_bd09(WGS[:, 0], WGS[:, 1])
    baidu = {"uid": ["8f1c", "9a2d", "0b3e"], "province": ["江苏省"] * 3, "city": ["常州市"] * 3}
    path = _table(tmp_path / "pois.csv", lng=x, lat=y, **baidu)
    with pytest.warns(gp.GeoplanWarning, match=r"Baidu \(百度\) export.*crs='bd09'"):
        gp.read_layer(path)
    path = _table(tmp_path / "baidu_pois.csv", lng=x, lat=y)
    with pytest.warns(gp.GeoplanWarning, match=r"the file name 'baidu_pois'.*crs='bd09'"):
        gp.read_layer(path)


def test_no_export_warning_outside_china_or_without_export_fields(tmp_path: Path) -> None:
    porto = {"lon": [-8.61, -8.60, -8.62], "lat": [41.15, 41.16, 41.14]}
    _read_quietly(_table(tmp_path / "porto.csv", **porto, **AMAP_EXPORT))
    english = {k: ["x"] * 3 for k in AMAP_EXPORT}  # Amap's fields, but no Chinese text
    _read_quietly(_table(tmp_path / "t.csv", lon=WGS[:, 0], lat=WGS[:, 1], **english))
    generic = {"province": ["江苏省"] * 3, "city": ["常州市"] * 3, "area": ["新北区"] * 3}
    _read_quietly(_table(tmp_path / "gov.csv", lon=WGS[:, 0], lat=WGS[:, 1], **generic))


def test_the_changzhou_sample_reads_without_warnings(sample_study_path: Path) -> None:
    for table in sorted(sample_study_path.parent.glob("*.csv")):
        _read_quietly(table)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gp.GeoplanWarning)
        gp.load_study(sample_study_path)


def test_real_gcj02_metro_stations_are_converted_by_their_column_names(
    tmp_path: Path, shared_data: Path
) -> None:
    """Real Changzhou metro stations published in GCJ-02 (lon_gcj02/lat_gcj02): read
    without crs= they land a median of ~5 m from the real WGS-84 tracks (~430 m
    when read as WGS-84, see test_coords), and so they do under other namings."""
    path = shared_data / "changzhou_metro_stations_gcj02.csv"
    stations = _read_quietly(path)
    tracks = gp.read_layer(shared_data / "changzhou_metro_tracks_wgs84.geojson").to_crs(32650)
    near = np.asarray(stations.to_crs(32650).distance(tracks.union_all()))
    assert np.median(near) < 10 and near.max() < 20
    # The same stations as Amap's location text, and under other column names.
    table = pd.read_csv(path)
    text = table["lon_gcj02"].astype(str) + "," + table["lat_gcj02"].astype(str)
    variants = {  # file: (table, crs= needed to read it without a warning)
        "location.csv": (
            table.drop(columns=["lon_gcj02", "lat_gcj02"]).assign(location=text),
            {"crs": "gcj02"},
        ),
        "gcj.csv": (table.rename(columns={"lon_gcj02": "gcj_lng", "lat_gcj02": "gcj_lat"}), {}),
    }
    for name, (variant, kwargs) in variants.items():
        variant.to_csv(tmp_path / name, index=False)
        read = _read_quietly(tmp_path / name, **kwargs)
        np.testing.assert_array_equal(
            shapely.get_coordinates(read.geometry.values),
            shapely.get_coordinates(stations.geometry.values),
        )


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_device_is_refused_not_read(tmp_path: Path, kind: str) -> None:
    """A FIFO would block forever and /dev/zero never ends: both are refused at once."""
    if kind == "fifo":
        path = tmp_path / "sites.csv"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    with pytest.raises(gp.LayerReadError, match="not a regular file"):
        gp.read_layer(path)

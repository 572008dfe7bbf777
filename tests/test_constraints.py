"""Hard constraints keep every site and say in words why it is excluded."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

import geoplan as gp
from geoplan._errors import CriterionError
from geoplan.measure.constraints import Constraint, check_constraints

CRS = "EPSG:4549"


def _layers() -> dict[str, gpd.GeoDataFrame]:
    zone = shapely.box(0, 0, 1000, 1000)
    return {
        "exclusions": gpd.GeoDataFrame({"name": ["Red line"]}, geometry=[zone], crs=CRS),
        "parks": gpd.GeoDataFrame(
            {"name": ["Steelworks", "Lab park"], "health_buffer_m": [800.0, 100.0]},
            geometry=[shapely.box(3000, 0, 4000, 1000), shapely.box(6000, 0, 7000, 1000)],
            crs=CRS,
        ),
        "stations": gpd.GeoDataFrame({"name": ["Central"]}, geometry=[Point(5000, 500)], crs=CRS),
    }


def _sites() -> gpd.GeoDataFrame:
    xy = [(500, 500), (2500, 500), (5000, 1500), (5900, 500), (20000, 500)]
    return gpd.GeoDataFrame(
        {"capacity": [500, 500, 120, np.nan, 800]},
        geometry=[Point(p) for p in xy],
        crs=CRS,
        index=pd.Index(list("abcde")),
    )


def test_each_kind_gives_a_readable_reason() -> None:
    constraints = [
        Constraint("outside", layer="exclusions", label="exclusion zone"),
        Constraint(
            "min_distance", layer="parks", column="health_buffer_m", label="industrial park"
        ),
        Constraint("max_distance", layer="stations", limit=6000.0, label="station"),
        Constraint("min_value", column="capacity", limit=200.0),
    ]
    reasons = check_constraints(
        _sites(), constraints, _layers(), name_columns=dict.fromkeys(_layers(), "name")
    )
    assert reasons.index.tolist() == list("abcde")
    assert reasons["a"] == "inside exclusion zone 'Red line'"
    assert (
        reasons["b"]
        == "500 m from industrial park 'Steelworks', closer than its 800 m protection distance"
    )
    assert reasons["c"] == "capacity 120 is below the minimum 200"
    # 100 m from the lab park is outside its own 100 m buffer (strictly closer is excluded).
    assert reasons["d"] == "capacity is missing"
    assert (
        reasons["e"]
        == "nearest station 'Central' is 15.0 km away (limit 6.0 km, straight-line distance)"
    )


def test_reasons_combine() -> None:
    constraints = [
        Constraint("outside", layer="exclusions", label="exclusion zone"),
        Constraint("max_distance", layer="stations", limit=1000.0, label="station"),
    ]
    reasons = check_constraints(
        _sites(), constraints, _layers(), name_columns={"exclusions": "name", "stations": "name"}
    )
    assert reasons["a"] == (
        "inside exclusion zone 'Red line'; nearest station 'Central' is 4.5 km away "
        "(limit 1.0 km, straight-line distance)"
    )
    assert reasons["c"] == ""


def test_fixed_min_distance() -> None:
    constraints = [Constraint("min_distance", layer="parks", limit=1000.0, label="park")]
    reasons = check_constraints(_sites(), constraints, _layers(), name_columns={"parks": "name"})
    assert reasons["d"].startswith("100 m from park 'Lab park'")
    assert reasons["e"] == ""


@pytest.mark.parametrize("kind", ["min_value", "max_value"])
def test_only_finite_values_pass_a_value_constraint(kind: str) -> None:
    sites = _sites()
    sites["capacity"] = pd.Series([500.0, np.inf, -np.inf, np.nan, 100.0], index=sites.index)
    sites["text"] = pd.Series([500, "1e999", "many", None, 100], index=sites.index, dtype=object)
    limit = 200.0 if kind == "min_value" else 300.0
    reasons = check_constraints(sites, [Constraint(kind, column="capacity", limit=limit)], {})
    assert reasons["b"] == "capacity inf is not a finite number"
    assert reasons["c"] == "capacity -inf is not a finite number"
    assert reasons["d"] == "capacity is missing"
    assert (reasons[["a", "e"]] == "").sum() == 1  # the finite values follow the limit
    reasons = check_constraints(sites, [Constraint(kind, column="text", limit=limit)], {})
    assert reasons["b"] == "text '1e999' is not a finite number"
    assert reasons["c"] == "text 'many' is not a finite number"
    assert reasons["d"] == "text is missing"


def test_a_capacity_of_1e999_in_a_study_is_not_eligible(
    tmp_path: Path, sample_study_path: Path
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_study_path.parent, folder)
    table = folder / "candidates.csv"
    text = table.read_text(encoding="utf-8")
    assert ",Xinbei,900,3.4," in text
    table.write_text(text.replace(",Xinbei,900,3.4,", ",Xinbei,1e999,3.4,", 1), encoding="utf-8")
    ranked = gp.rank_sites(gp.load_study(folder / "study.toml")).set_index("site_id")
    assert not ranked.loc["C02", "eligible"]
    assert ranked.loc["C02", "reason"] == "capacity inf is not a finite number"


@pytest.mark.parametrize("bad", [np.inf, -5.0, "far"])
def test_a_protection_distance_must_be_a_finite_number(bad: object) -> None:
    layers = _layers()
    layers["parks"]["health_buffer_m"] = pd.Series([bad, 100.0], dtype=object)
    constraint = Constraint("min_distance", layer="parks", column="health_buffer_m", label="park")
    with pytest.raises(CriterionError) as info:
        check_constraints(_sites(), [constraint], layers, name_columns={"parks": "name"})
    message = str(info.value)
    assert "'health_buffer_m'" in message and "park 'Steelworks'" in message
    assert repr(bad) in message and "finite number of metres >= 0" in message


def test_an_empty_protection_distance_is_none() -> None:
    layers = _layers()
    layers["parks"]["health_buffer_m"] = [np.nan, 100.0]
    constraint = Constraint("min_distance", layer="parks", column="health_buffer_m", label="park")
    reasons = check_constraints(_sites(), [constraint], layers, name_columns={"parks": "name"})
    assert reasons["b"] == ""  # 500 m from the Steelworks, which has no protection distance

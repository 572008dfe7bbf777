"""Hard constraints keep every site and say in words why it is excluded."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from geoplan.constraints import Constraint, check_constraints

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

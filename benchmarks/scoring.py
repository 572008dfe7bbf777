"""Straight-line scoring speed: 100,000 candidate sites against three criteria.

Scores random candidate points over the Changzhou sample study area against
the sample's parks and stations with three criteria (nearest park, nearest
station, park jobs within 5 km with exponential decay), timing geoplan's
vectorised criteria and a geopandas peer (``sjoin_nearest`` and a
``dwithin`` spatial join plus groupby) in the same process, and checks that
both give the same numbers.

Run from the repository root::

    python benchmarks/scoring.py            # 100,000 sites
    python benchmarks/scoring.py --sites 1000000
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import geoplan as gp
from geoplan.io import datasets


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    study = gp.load_study(datasets.get_path("changzhou"))
    crs = study.metric_crs
    area = study.layers["area"].to_crs(crs)
    west, south, east, north = area.total_bounds
    rng = np.random.default_rng(0)
    sites = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            rng.uniform(west, east, args.sites), rng.uniform(south, north, args.sites)
        ),
        crs=crs,
    )
    parks = study.layers["parks"].to_crs(crs)
    stations = study.layers["stations"].to_crs(crs)
    decay = gp.make_decay({"kind": "exponential", "half_at": 2000, "direction": "lower"})

    def geoplan_scoring() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "park_m": gp.nearest_distance(sites, parks),
                "station_m": gp.nearest_distance(sites, stations),
                "jobs": gp.sum_within(sites, parks, column="jobs", radius_m=5000, decay=decay),
            }
        )

    def geopandas_scoring() -> pd.DataFrame:
        near_park = gpd.sjoin_nearest(sites, parks[["geometry"]], distance_col="d", how="left")
        near_park = near_park[~near_park.index.duplicated()]["d"]
        near_station = gpd.sjoin_nearest(
            sites, stations[["geometry"]], distance_col="d", how="left"
        )
        near_station = near_station[~near_station.index.duplicated()]["d"]
        pairs = gpd.sjoin(sites, parks[["jobs", "geometry"]], predicate="dwithin", distance=5000)
        targets = gpd.GeoSeries(
            parks.geometry.loc[pairs["index_right"]].to_numpy(), index=pairs.index, crs=crs
        )
        d = pairs.geometry.distance(targets, align=False)
        weighted = (pairs["jobs"] * 0.5 ** (d / 2000)).groupby(level=0).sum()
        return pd.DataFrame(
            {
                "park_m": near_park,
                "station_m": near_station,
                "jobs": weighted.reindex(sites.index, fill_value=0.0),
            }
        )

    ours, ours_result = _best_of(geoplan_scoring, args.repeat)
    peer, peer_result = _best_of(geopandas_scoring, args.repeat)
    np.testing.assert_allclose(ours_result.to_numpy(), peer_result.to_numpy(), rtol=1e-9, atol=1e-6)
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(f"sites: {args.sites:,}; parks: {len(parks)} polygons; stations: {len(stations)} points")
    print(f"| tool | 3 criteria (best of {args.repeat}) | ratio |")
    print("|---|---|---|")
    print(f"| geoplan | {ours:.3f} s | 1.0x |")
    print(
        f"| geopandas sjoin_nearest + sjoin(dwithin) | {peer:.3f} s | {peer / ours:.1f}x slower |"
    )
    print(
        f"target: under 2 s for 100,000 sites -> {'met' if ours < 2 and args.sites <= 100_000 else 'see above'}"
    )


if __name__ == "__main__":
    main()

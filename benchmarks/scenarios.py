"""What reusing the base run saves when scenarios are compared.

A study is written to a temporary folder on a real OpenStreetMap extract
(``../shared/data/osm/porto.osm.pbf``, walking network): ``--sites`` candidate
sites near real streets, 40 stations, 12 parks (discs), and four criteria --
walking minutes to the nearest station and stations within 15 walking
minutes (both along streets), distance to the nearest park and park jobs
within 3 km (straight line).  Four scenarios: a new station (the two
station criteria are measured again, for every site), the weights changed (nothing is measured again), a park removed
(only the two park criteria), a tighter snapping distance (the network
criteria are measured again with a new metric, the network itself kept).

Timed, best of ``--repeats``, in one process with numba's cache warm:

* ``compare`` -- :func:`geoplan.compare` (one RunCache: the network loaded
  once, criteria whose inputs a scenario does not change taken from the base);
* ``from scratch`` -- :func:`geoplan.rank_sites` on the base and on each
  edited study with no reuse: every run loads the network and measures every
  criterion.

Run ``python benchmarks/scenarios.py`` (``--sites 20000``; about two minutes).
Other jobs share the machine: timings vary by 10-30 %.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geoplan as gp
from geoplan.scenarios.overlay import edited_studies, scenarios_from_list
from geoplan.scenarios.reuse import RunCache

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = ROOT.parent / "shared" / "data" / "osm" / "porto.osm.pbf"

SCENARIOS = [
    {"name": "new_station", "features": []},  # filled in with a real street position
    {"name": "weights", "weights": {"station_walk": 0.1, "park_jobs": 0.4}},
    {"name": "park_removed", "features": [{"layer": "parks", "remove": {"park_id": "P01"}}]},
    {"name": "snap_150m", "network": {"max_snap_m": 150}},
]


def write_study(folder: Path, n_sites: int, seed: int = 7) -> tuple[Path, list[dict]]:
    """The benchmark's study on the Porto extract, and its scenarios."""
    net = gp.load_network(EXTRACT, mode="walk")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(net.lon), n_sites + 40 + 12 + 1)
    jitter = rng.normal(0, 0.0006, (len(pick), 2))
    lon, lat = net.lon[pick] + jitter[:, 0], net.lat[pick] + jitter[:, 1]
    sites, stations, parks = slice(0, n_sites), slice(n_sites, n_sites + 40), slice(-13, -1)
    pd.DataFrame(
        {"site_id": [f"S{i}" for i in range(n_sites)], "lon": lon[sites], "lat": lat[sites]}
    ).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame({"lon": lon[stations], "lat": lat[stations]}).to_csv(
        folder / "stations.csv", index=False
    )
    discs = shapely.buffer(shapely.points(lon[parks], lat[parks]), rng.uniform(0.001, 0.003, 12))
    parks_frame = gpd.GeoDataFrame(
        {"park_id": [f"P{i + 1:02d}" for i in range(12)], "jobs": rng.integers(500, 5000, 12)},
        geometry=discs,
        crs=4326,
    )
    parks_frame.to_file(folder / "parks.geojson", driver="GeoJSON")
    (folder / "study.toml").write_text(
        f"""[study]
title = "Porto benchmark"
crs = "EPSG:3763"
[layers.candidates]
path = "sites.csv"
id_column = "site_id"
[layers.stations]
path = "stations.csv"
[layers.parks]
path = "parks.geojson"
[network]
source = {json.dumps(str(EXTRACT))}
[[criteria]]
name = "station_walk"
kind = "nearest_distance"
layer = "stations"
metric = "network"
mode = "walk"
unit = "min"
weight = 0.35
decay = {{ kind = "linear", lower = 5, upper = 20, direction = "lower" }}
[[criteria]]
name = "stations_15min"
kind = "count_within"
layer = "stations"
max_minutes = 15
metric = "network"
mode = "walk"
unit = "min"
weight = 0.15
decay = {{ kind = "step", breaks = [1, 2], scores = [0.0, 0.5, 1.0], direction = "higher" }}
[[criteria]]
name = "park_near"
kind = "nearest_distance"
layer = "parks"
weight = 0.2
decay = {{ kind = "linear", lower = 300, upper = 3000, direction = "lower" }}
[[criteria]]
name = "park_jobs"
kind = "sum_within"
layer = "parks"
column = "jobs"
radius_m = 3000
weight = 0.3
decay = {{ kind = "linear", lower = 0, upper = 20000, direction = "higher" }}
""",
        encoding="utf-8",
    )
    scenarios = [dict(s) for s in SCENARIOS]
    scenarios[0]["features"] = [
        {"layer": "stations", "add": [{"lon": float(lon[-1]), "lat": float(lat[-1])}]}
    ]
    return folder / "study.toml", scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not EXTRACT.exists():
        print(f"skipped: {EXTRACT} is absent (the team's shared data folder)")
        return
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="geoplan-scenarios-"))
    path, tables = write_study(folder, args.sites)
    study = gp.load_study(path)
    scenarios = scenarios_from_list(tables, folder=folder)
    edited = edited_studies(study, scenarios)
    gp.compare(study, scenarios[:1])  # warm numba's cache and the OS file cache

    runs = 1 + len(scenarios)
    best_compare, best_scratch, best_ranking = np.inf, np.inf, np.inf
    cache = RunCache()
    for _ in range(args.repeats):
        cache = RunCache()
        began = time.perf_counter()
        comparison = gp.compare(study, scenarios, reuse=cache)
        best_compare = min(best_compare, time.perf_counter() - began)
        best_ranking = min(best_ranking, float(comparison.summary["seconds"].sum()))
        began = time.perf_counter()
        scratch = [gp.rank_sites(run) for run in [study, *edited]]
        best_scratch = min(best_scratch, time.perf_counter() - began)
    # the same answers either way
    for run, ranked in zip(["base", *(s.name for s in scenarios)], scratch, strict=True):
        rows = comparison.table[comparison.table["scenario"] == run]
        got = rows.set_index("site")["score"].sort_index()
        want = ranked.set_index(ranked["site_id"].astype(str))["score"].sort_index()
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    runs = 1 + len(scenarios)
    print(
        f"study: Porto walk network, {args.sites:,} sites, 4 criteria, {len(scenarios)} scenarios"
    )
    print(
        f"compare (RunCache)      {best_compare:7.2f} s  (of which ranking the {runs} runs "
        f"{best_ranking:.2f} s, the rest the long table of differences and the summary)"
    )
    print(f"from scratch ({runs} runs)  {best_scratch:7.2f} s")
    print(
        f"saving                  {1 - best_compare / best_scratch:7.0%}  "
        f"({best_scratch / best_compare:.1f}x quicker); ranking alone: "
        f"{1 - best_ranking / best_scratch:.0%} ({best_scratch / best_ranking:.1f}x)"
    )
    print("measured:", dict(sorted(cache.computed.items())))
    print("reused:  ", dict(sorted(cache.reused.items())))
    print(f"\nreproduce: python benchmarks/scenarios.py --sites {args.sites} "
          f"--repeats {args.repeats}")  # fmt: skip


if __name__ == "__main__":
    main()

"""The province on Dask: a batch on 1 worker against 2, and a simulated province.

**Real extracts** (``--part real``): every ``../shared/data/osm/*.osm.pbf``
extract (skipped when absent) stands in for a city.  For each, a study is
written to a temporary folder -- ``--sites`` candidate sites near its streets,
30 stations, 8 parks, walking minutes to the nearest station and stations
within 15 minutes (along streets), distance to the nearest park (straight
line) -- with two scenarios (a new station; other weights).  The batch
(:func:`geoplan.run_batch`, maps off: ``maps = false``) runs on a local Dask
cluster of 1 worker and of 2 workers (one thread each: one city at a time
per worker; the compiled kernels inside a task still use both cores), a new
output folder each time, numba's cache warm.  Printed: wall time, speed-up,
and each worker's peak memory (``ru_maxrss`` of the worker process).

**Simulated province** (``--part simulated``): the 13 prefecture-level cities
of Jiangsu, each a synthetic walking grid whose node count follows its
population (``NODES_PER_PERSON`` nodes per inhabitant, times ``--scale``),
with one candidate site per 4 nodes and 30 stations per million inhabitants.
Each city is one Dask task doing what a city task of the batch does with its
network: build it, snap the sites, nearest station, nearest park (polygons),
stations within 15 minutes.  Timed for the 4 smallest, 8 and all 13 cities,
on 1 and 2 workers, and the cost per node fitted to project the full-size
province on 16 workers.

Run ``python benchmarks/province.py`` (both parts; about 6 minutes on 2 cores).
Other jobs share this machine: timings vary by 10-30 %.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import resource
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT.parent / "shared" / "data" / "osm"

#: Jiangsu's 13 prefecture-level cities and their resident populations in millions
#: (7th national census, 2020, rounded; approximate, for sizing only).
JIANGSU_MILLIONS = {
    "Suzhou": 12.7,
    "Nanjing": 9.3,
    "Xuzhou": 9.1,
    "Nantong": 7.7,
    "Wuxi": 7.5,
    "Yancheng": 6.7,
    "Changzhou": 5.3,
    "Suqian": 5.0,
    "Lianyungang": 4.6,
    "Huai'an": 4.6,
    "Yangzhou": 4.6,
    "Taizhou": 4.5,
    "Zhenjiang": 3.2,
}
#: Walking-network nodes per inhabitant of a whole prefecture (urban cores are
#: denser, countryside sparser): the real Shanghai extract has about 1,300 drive
#: nodes for some 170,000 people, and walk networks hold 3-4 times more nodes.
NODES_PER_PERSON = 0.025


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cluster(workers: int) -> tuple[Any, Any]:
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,  # one task at a time per worker: 1 worker is the serial baseline
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return cluster, Client(cluster)


# ---------------------------------------------------------------------------- real extracts


def write_city(folder: Path, extract: Path, n_sites: int, seed: int) -> tuple[int, float]:
    """A study (and its scenarios) on a real extract, as the benchmark's city; the
    extract's walk network's nodes and the seconds geoplan took to load it."""
    import geopandas as gpd
    import shapely

    import geoplan as gp

    began = time.perf_counter()
    net = gp.load_network(extract, mode="walk")
    load_s = time.perf_counter() - began
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(net.lon), n_sites + 30 + 8 + 1)
    jitter = rng.normal(0, 0.0006, (len(pick), 2))
    lon, lat = net.lon[pick] + jitter[:, 0], net.lat[pick] + jitter[:, 1]
    folder.mkdir(parents=True)
    pd.DataFrame(
        {"site_id": [f"S{i}" for i in range(n_sites)], "lon": lon[:n_sites], "lat": lat[:n_sites]}
    ).to_csv(folder / "sites.csv", index=False)
    stations = slice(n_sites, n_sites + 30)
    pd.DataFrame({"lon": lon[stations], "lat": lat[stations]}).to_csv(
        folder / "stations.csv", index=False
    )
    parks = gpd.GeoDataFrame(
        {"park_id": [f"P{i}" for i in range(8)]},
        geometry=shapely.buffer(shapely.points(lon[-9:-1], lat[-9:-1]), 0.002),
        crs=4326,
    )
    parks.to_file(folder / "parks.geojson", driver="GeoJSON")
    (folder / "study.toml").write_text(
        f"""[study]
title = {json.dumps(extract.name)}
[layers.candidates]
path = "sites.csv"
id_column = "site_id"
[layers.stations]
path = "stations.csv"
[layers.parks]
path = "parks.geojson"
[network]
source = {json.dumps(str(extract))}
[[criteria]]
name = "station_walk"
kind = "nearest_distance"
layer = "stations"
metric = "network"
mode = "walk"
unit = "min"
weight = 0.5
decay = {{ kind = "linear", lower = 5, upper = 20, direction = "lower" }}
[[criteria]]
name = "stations_15min"
kind = "count_within"
layer = "stations"
max_minutes = 15
metric = "network"
mode = "walk"
unit = "min"
weight = 0.2
decay = {{ kind = "step", breaks = [1, 2], scores = [0.0, 0.5, 1.0], direction = "higher" }}
[[criteria]]
name = "park_near"
kind = "nearest_distance"
layer = "parks"
weight = 0.3
decay = {{ kind = "linear", lower = 300, upper = 3000, direction = "lower" }}
[[scenarios]]
name = "new_station"
features = [{{ layer = "stations", add = [{{ lon = {float(lon[-1])}, lat = {float(lat[-1])} }}] }}]
[[scenarios]]
name = "weights"
weights = {{ station_walk = 0.3, park_near = 0.5 }}
""",
        encoding="utf-8",
    )
    return net.n_nodes, load_s


def part_real(n_sites: int) -> float | None:
    """Run the batch of real extracts; geoplan's load time per network node."""
    import geoplan as gp

    extracts = sorted(OSM.glob("*.osm.pbf")) if OSM.is_dir() else []
    if not extracts:
        print(f"real extracts: skipped, {OSM} is absent (the team's shared data folder)")
        return None
    folder = Path(tempfile.mkdtemp(prefix="geoplan-province-"))
    cities = []
    loads = []
    for seed, extract in enumerate(extracts):
        name = extract.name.removesuffix(".osm.pbf").replace("-", "_")
        loads.append(write_city(folder / name, extract, n_sites, seed))
        cities.append(f'[[cities]]\nname = "{name}"\nstudy = "{name}/study.toml"\n')
    print(f"real extracts: {len(cities)} cities ({', '.join(e.name for e in extracts)}), "
          f"{n_sites:,} sites each, 2 scenarios each")  # fmt: skip
    smallest = min(extracts, key=lambda e: e.stat().st_size)
    gp.rank_sites(gp.load_study(folder / smallest.name.removesuffix(".osm.pbf") / "study.toml"))
    results: dict[int, float] = {}  # (numba's cache warmed by the line above)
    for workers in (1, 2, 1, 2):  # twice each, alternating: the load of other jobs changes
        out = folder / f"out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        batch = folder / "batch.toml"
        batch.write_text(
            f'[batch]\nout = "{out.name}"\nmaps = false\n\n' + "\n".join(cities), encoding="utf-8"
        )
        cluster, client = _cluster(workers)
        try:
            began = time.perf_counter()
            result = gp.run_batch(batch, scheduler=cluster.scheduler_address, progress=False)
            wall = time.perf_counter() - began
            peaks = client.run(_peak_rss_mib)
        finally:
            client.close()
            cluster.close()
        failed = result.report[result.report["status"] != "done"]
        if len(failed):
            raise SystemExit(f"cities failed: {failed.to_dict('records')}")
        results[workers] = min(results.get(workers, math.inf), wall)
        print(
            f"  {workers} worker(s): {wall:6.1f} s; peak memory per worker "
            + ", ".join(f"{v:,.0f} MiB" for v in peaks.values())
            + f"; slowest city {result.report['seconds'].max():.1f} s"
        )
    print(f"  speed-up 1 -> 2 workers (best of 2 each): {results[1] / results[2]:.2f}x "
          f"({results[1]:.1f} s -> {results[2]:.1f} s)")  # fmt: skip
    nodes = sum(n for n, _ in loads)
    seconds = sum(s for _, s in loads)
    print(f"  loading the {len(loads)} walk networks (one process): {seconds:.1f} s for "
          f"{nodes:,} nodes, {seconds / nodes * 1e6:.1f} s per million nodes")  # fmt: skip
    return seconds / nodes


# ---------------------------------------------------------------------------- simulated


def simulated_city(name: str, millions: float, scale: float, seed: int) -> dict[str, Any]:
    """A city's network work on a synthetic walking grid sized from its population."""
    import geopandas as gpd
    import shapely

    from geoplan.streets.network import network_from_streets
    from geoplan.streets.osm import OsmStreets
    from geoplan.streets.routing import NetworkMetric

    warnings.simplefilter("ignore")  # sites beyond the grid's projected corners
    began = time.perf_counter()
    side = max(10, round(math.sqrt(millions * 1e6 * NODES_PER_PERSON * scale)))
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon = 119.4 + j.ravel() * 100 / (111_320 * np.cos(np.radians(31.8)))
    lat = 31.4 + i.ravel() * 100 / 110_574
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    m = len(u)
    streets = OsmStreets(
        node_id=np.arange(side * side, dtype=np.int64), lon=lon, lat=lat,
        edge_u=u.astype(np.intp), edge_v=v.astype(np.intp),
        edge_way_id=np.arange(m, dtype=np.int64), edge_speed_kmh=np.full(m, 4.8),
        edge_forward=np.ones(m, bool), edge_backward=np.ones(m, bool), mode="walk",
        source=f"synthetic {name}", ways_seen=m, ways_kept=m,
    )  # fmt: skip
    net = network_from_streets(streets, crs="EPSG:32650")
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds

    def points(n: int) -> gpd.GeoSeries:
        return gpd.GeoSeries(
            shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)), crs=net.crs
        )

    sites = points(side * side // 4)
    stations = points(max(5, round(30 * millions * math.sqrt(scale))))
    parks = gpd.GeoSeries(shapely.buffer(points(20).values, 300), crs=net.crs)
    metric = NetworkMetric(net, unit="min")
    metric.nearest(sites, stations)
    metric.nearest(sites, parks)
    metric.within(sites, stations, 15.0)
    return {
        "city": name,
        "nodes": net.n_nodes,
        "sites": len(sites),
        "seconds": time.perf_counter() - began,
        "peak_mib": _peak_rss_mib(),
    }


def part_simulated(scale: float, load_per_node: float | None) -> None:
    from dask.distributed import wait

    by_size = sorted(JIANGSU_MILLIONS.items(), key=lambda kv: kv[1])
    full_nodes = {c: p * 1e6 * NODES_PER_PERSON for c, p in JIANGSU_MILLIONS.items()}
    print(f"simulated province: 13 Jiangsu cities, {sum(full_nodes.values()):,.0f} walk nodes "
          f"at full size; run at scale {scale} ({scale * sum(full_nodes.values()):,.0f} nodes)")  # fmt: skip
    rows = []
    for workers in (1, 2):
        cluster, client = _cluster(workers)
        try:
            client.submit(simulated_city, "warm-up", 0.01, scale, 0, pure=False).result()
            for n_cities in (4, 8, 13):
                chosen = by_size[:n_cities] if n_cities < 13 else by_size
                began = time.perf_counter()
                futures = [
                    client.submit(simulated_city, c, p, scale, k, pure=False)
                    for k, (c, p) in enumerate(sorted(chosen, key=lambda kv: -kv[1]))
                ]  # largest first, as a scheduler should
                wait(futures)
                wall = time.perf_counter() - began
                cities = [f.result() for f in futures]
                rows.append(
                    {
                        "workers": workers,
                        "cities": n_cities,
                        "nodes": sum(c["nodes"] for c in cities),
                        "wall_s": wall,
                        "task_s": sum(c["seconds"] for c in cities),
                        "largest_city_s": max(c["seconds"] for c in cities),
                        "peak_mib": max(c["peak_mib"] for c in cities),
                    }
                )
                print(
                    f"  {workers} worker(s), {n_cities:2d} cities ({rows[-1]['nodes']:>9,} nodes): "
                    f"{wall:6.1f} s wall, {rows[-1]['task_s']:6.1f} s of tasks, largest city "
                    f"{rows[-1]['largest_city_s']:5.1f} s, peak memory per worker "
                    f"{rows[-1]['peak_mib']:,.0f} MiB"
                )
        finally:
            client.close()
            cluster.close()
    table = pd.DataFrame(rows)
    one = table[(table["workers"] == 1) & (table["cities"] == 13)].iloc[0]
    two = table[(table["workers"] == 2) & (table["cities"] == 13)].iloc[0]
    print(f"  speed-up 1 -> 2 workers, 13 cities: {one['wall_s'] / two['wall_s']:.2f}x")
    # on paper: task time grows about linearly with nodes (sites are nodes / 4);
    # fit seconds per node on the 1-worker runs, then project the full-size province
    one_worker = table[table["workers"] == 1]
    per_node = float((one_worker["task_s"] / one_worker["nodes"]).median())
    if load_per_node is not None:  # a real city also reads its streets from the extract
        print(f"  fitted: {per_node * 1e6:.1f} s of network work per million nodes, plus "
              f"{load_per_node * 1e6:.1f} s to load them (measured on the real extracts)")  # fmt: skip
        per_node += load_per_node
    else:
        print(f"  fitted: {per_node * 1e6:.1f} s of network work per million nodes "
              "(loading not included: the real extracts are absent)")  # fmt: skip
    total = per_node * sum(full_nodes.values())
    largest = per_node * max(full_nodes.values())
    for workers in (1, 2, 16):
        estimate = max(total / workers, largest)
        print(f"  on paper, full size, {workers:2d} worker(s): about {estimate:,.0f} s "
              f"(total work {total:,.0f} s / {workers}, but never less than the largest city, "
              f"Suzhou, {largest:,.0f} s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["real", "simulated", "all"], default="all")
    parser.add_argument("--sites", type=int, default=20_000, help="sites per real city")
    parser.add_argument("--scale", type=float, default=1.0, help="simulated network size")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    load_per_node = part_real(args.sites) if args.part in ("real", "all") else None
    if args.part in ("simulated", "all"):
        part_simulated(args.scale, load_per_node)
    print(f"\nreproduce: python benchmarks/province.py --part {args.part} --sites {args.sites} "
          f"--scale {args.scale}")  # fmt: skip


if __name__ == "__main__":
    main()

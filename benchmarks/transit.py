"""Benchmark walk + metro travel times against the walk-only query (and UrbanAccess + pandana).

On the real Porto walk network (``../shared/data/osm/porto.osm.pbf``) with the
real Metro do Porto feed (``../shared/data/gtfs/metro_porto``, Tuesday
2025-10-07, 07:00-09:00): 100,000 sites (real street nodes plus 100 m of
normal noise) and 50 destinations (real nodes), and two questions:

* nearest: minutes from every site to its nearest destination;
* within: every (site, destination) pair within 30 minutes (counts, sums).

Tools, each in its own subprocess (imports, loading and queries timed apart,
and the whole process as a user waits for it):

* ``walk``: geoplan's walk-only query, ``NetworkMetric(net, unit="min")``;
* ``transit``: ``TransitMetric(read_gtfs(...), network=net)``, walk + metro + walk;
* ``urbanaccess``: UrbanAccess (GTFS + OSM walk network joined into one graph)
  + pandana, run with ``--urbanaccess PYTHON`` (a Python where it installs and runs).

Each query is answered ``--repeats`` times with a new metric (nothing learnt
about the sites is reused); min / median / max are printed.  ``--cold`` runs
every process with an empty ``NUMBA_CACHE_DIR`` (the compiled kernels are
built again: a first run on a new machine).

    python benchmarks/transit.py                  # warm caches
    python benchmarks/transit.py --cold           # cold numba cache
    python benchmarks/transit.py --urbanaccess /tmp/ua/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PBF = SHARED / "osm" / "porto.osm.pbf"
FEED = SHARED / "gtfs" / "metro_porto"
DATE, WINDOW, CUTOFF = "2025-10-07", ("07:00", "09:00"), 30.0
MARK = "@@RESULT "


def make_inputs(folder: Path, n_sites: int, n_dests: int, seed: int = 0) -> None:
    """Sites and destinations (lon/lat CSV) around real nodes of the walk network."""
    import numpy as np
    import pandas as pd
    import pyproj

    import geoplan as gp

    net = gp.load_network(PBF, mode="walk")
    rng = np.random.default_rng(seed)
    back = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    for name, n, noise in (("sites", n_sites, 100.0), ("dests", n_dests, 0.0)):
        pick = rng.integers(0, net.n_nodes, n)
        x = net.x[pick] + rng.normal(0, noise, n) if noise else net.x[pick]
        y = net.y[pick] + rng.normal(0, noise, n) if noise else net.y[pick]
        lon, lat = back.transform(x, y)
        pd.DataFrame({"lon": lon, "lat": lat}).to_csv(folder / f"{name}.csv", index=False)
    # the same walk network, as plain tables, for UrbanAccess (which downloads OSM otherwise)
    pd.DataFrame({"id": net.node_id, "x": net.lon, "y": net.lat}).to_csv(
        folder / "nodes.csv", index=False
    )
    pd.DataFrame(
        {
            "from": net.node_id[net.edge_u],
            "to": net.node_id[net.edge_v],
            "distance": net.edge_length_m,
        }
    ).to_csv(folder / "edges.csv", index=False)


# --------------------------------------------------------------------------- tools (subprocess)


def _points(folder: Path, name: str, crs: Any) -> Any:
    import geopandas as gpd
    import pandas as pd

    frame = pd.read_csv(folder / f"{name}.csv")
    return gpd.GeoSeries(gpd.points_from_xy(frame.lon, frame.lat), crs=4326).to_crs(crs)


def run_geoplan(tool: str, folder: Path, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import geoplan as gp
    from geoplan.streets.routing import NetworkMetric
    from geoplan.transit.metric import TransitMetric

    out: dict[str, Any] = {"import": time.perf_counter() - t0}
    t = time.perf_counter()
    net = gp.load_network(PBF, mode="walk")
    service = gp.read_gtfs(FEED, date=DATE, window=WINDOW) if tool == "transit" else None
    out["load"] = time.perf_counter() - t
    sites, dests = _points(folder, "sites", net.crs), _points(folder, "dests", net.crs)

    def metric() -> Any:
        if service is None:
            return NetworkMetric(net, unit="min")
        return TransitMetric(service, network=net)

    nearest, within, results = [], [], {}
    for _ in range(repeats):
        m = metric()
        t = time.perf_counter()
        found = m.nearest(sites, dests)
        nearest.append(time.perf_counter() - t)
        m = metric()
        t = time.perf_counter()
        pairs = m.within(sites, dests, CUTOFF)
        within.append(time.perf_counter() - t)
        results = {
            "mean_minutes": float(found.distance[found.distance < 1e9].mean()),
            "pairs": len(pairs.site),
        }
    return {**out, "nearest": nearest, "within": within, **results}


def run_urbanaccess(folder: Path, repeats: int) -> dict[str, Any]:
    """UrbanAccess joins the feed and the walk network into one graph; pandana queries it."""
    t0 = time.perf_counter()
    import pandana as pdna
    import pandas as pd
    import urbanaccess as ua

    out: dict[str, Any] = {"import": time.perf_counter() - t0}
    t = time.perf_counter()
    feeds_dir = folder / "feeds"
    feeds_dir.mkdir(exist_ok=True)
    link = feeds_dir / "metro_porto"
    if not link.exists():
        link.symlink_to(FEED)
    feeds = ua.gtfs.load.gtfsfeed_to_df(
        gtfsfeed_path=str(feeds_dir), validation=False, verbose=False
    )
    ua.gtfs.network.create_transit_net(
        gtfsfeeds_dfs=feeds, day="tuesday", timerange=[f"{WINDOW[0]}:00", f"{WINDOW[1]}:00"]
    )
    nodes = pd.read_csv(folder / "nodes.csv")
    nodes.index = nodes["id"].to_numpy()  # UrbanAccess joins on an `id` column
    edges = pd.read_csv(folder / "edges.csv")
    both = pd.concat([edges, edges.rename(columns={"from": "to", "to": "from"})], ignore_index=True)
    ua.osm.network.create_osm_net(osm_edges=both, osm_nodes=nodes, travel_speed_mph=4.8 / 1.609344)
    ua.gtfs.headways.headways(
        gtfsfeeds_df=feeds, headway_timerange=[f"{WINDOW[0]}:00", f"{WINDOW[1]}:00"]
    )
    net = ua.network.integrate_network(
        urbanaccess_network=ua.network.ua_network, headways=True, urbanaccess_gtfsfeeds_df=feeds,
        headway_statistic="mean",
    )  # fmt: skip
    graph = pdna.Network(
        net.net_nodes["x"], net.net_nodes["y"], net.net_edges["from_int"].astype("int64"),
        net.net_edges["to_int"].astype("int64"), net.net_edges[["weight"]], twoway=False,
    )  # fmt: skip
    out["load"] = time.perf_counter() - t
    sites, dests = pd.read_csv(folder / "sites.csv"), pd.read_csv(folder / "dests.csv")
    nearest, within = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        graph.set_pois("dest", 120.0, 1, dests.lon, dests.lat)
        site_nodes = graph.get_node_ids(sites.lon, sites.lat)
        found = graph.nearest_pois(120.0, "dest", num_pois=1)
        minutes = found[1].reindex(site_nodes.to_numpy()).to_numpy()
        nearest.append(time.perf_counter() - t)
        t = time.perf_counter()
        graph.set(graph.get_node_ids(dests.lon, dests.lat), name="dest_count")
        counts = graph.aggregate(CUTOFF, type="count", name="dest_count").reindex(
            site_nodes.to_numpy()
        )
        within.append(time.perf_counter() - t)
    return {
        **out,
        "nearest": nearest,
        "within": within,
        "mean_minutes": float(minutes[minutes < 120].mean()),
        "pairs": int(counts.sum()),
    }


# --------------------------------------------------------------------------- driver


def _spawn(
    python: str, tool: str, folder: Path, repeats: int, env: dict[str, str]
) -> dict[str, Any]:
    t = time.perf_counter()
    script = str(Path(__file__).resolve())
    done = subprocess.run(  # in the scratch folder: UrbanAccess writes logs/ where it runs
        [python, script, "--worker", tool, "--folder", str(folder), "--repeats", str(repeats)],
        capture_output=True, text=True, env=env, check=False, cwd=folder,
    )  # fmt: skip
    wall = time.perf_counter() - t
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARK)), None)
    if done.returncode or line is None:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]}
    return {**json.loads(line[len(MARK) :]), "process": wall}


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--dests", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="empty numba cache in every process")
    parser.add_argument("--urbanaccess", default="", help="a Python with urbanaccess and pandana")
    parser.add_argument("--worker", default="")
    parser.add_argument("--folder", default="")
    args = parser.parse_args()
    if args.worker:
        folder = Path(args.folder)
        result = (
            run_urbanaccess(folder, args.repeats)
            if args.worker == "urbanaccess"
            else run_geoplan(args.worker, folder, args.repeats)
        )
        print(MARK + json.dumps(result))
        return
    if not (PBF.is_file() and FEED.is_dir()):
        sys.exit(f"needs {PBF} and {FEED} (the team's shared data)")
    with tempfile.TemporaryDirectory(prefix="geoplan-transit-bench-") as tmp:
        folder = Path(tmp)
        make_inputs(folder, args.sites, args.dests)
        tools = [("walk", sys.executable), ("transit", sys.executable)]
        if args.urbanaccess:
            tools.append(("urbanaccess", args.urbanaccess))
        results = {}
        for tool, python in tools:
            env = dict(os.environ)
            if args.cold:
                env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-", dir=tmp)
            results[tool] = _spawn(python, tool, folder, args.repeats, env)
    print(
        f"\n{args.sites:,} sites, {args.dests} destinations, Porto walk network + Metro do Porto "
        f"({DATE}, {WINDOW[0]}-{WINDOW[1]}); {'cold' if args.cold else 'warm'} numba cache; "
        f"seconds, nearest/within as min / median / max of {args.repeats}\n"
    )
    print("| tool | import | load | nearest | within 30 min | process | mean min | pairs |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, r in results.items():
        if "error" in r:
            print(f"| {tool} | failed: {r['error'][0]} |")
            continue
        print(
            f"| {tool} | {r['import']:.2f} | {r['load']:.2f} | {_spread(r['nearest'])} | "
            f"{_spread(r['within'])} | {r['process']:.2f} | {r['mean_minutes']:.1f} | {r['pairs']:,} |"
        )
    walk, transit = results.get("walk", {}), results.get("transit", {})
    if "nearest" in walk and "nearest" in transit:
        for key in ("nearest", "within"):
            ratio = statistics.median(transit[key]) / statistics.median(walk[key])
            print(f"\ntransit / walk-only, {key} (median): {ratio:.2f}x (target: within 3x)")
        print(f"transit / walk-only, whole process: {transit['process'] / walk['process']:.2f}x")


if __name__ == "__main__":
    main()

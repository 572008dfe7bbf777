"""Benchmark: jobs within 15, 30 and 45 walking minutes, geoplan against pandana.

100,000 sites and 10,000 job locations (each with 1-499 jobs) are scattered
around real nodes of the Andorra walk network (``../shared/data/osm/andorra.osm.pbf``,
96,530 nodes); the question is, for every site, the jobs within 15, 30 and
45 minutes' walk.

* ``geoplan``: ``load_network`` -> ``NetworkMetric(unit="min")`` ->
  ``cumulative_opportunities(cutoffs_min=(15, 30, 45))``, which snaps the sites
  and jobs exactly onto the street segments and sums the jobs of every cutoff
  in one compiled pass over the network's chains.
* ``pandana``: the same street segments and minutes (geoplan's loader, so
  both tools route on one graph) -> ``pandana.Network`` (its contraction
  hierarchy) -> ``precompute(45)`` -> ``get_node_ids`` for sites and jobs ->
  ``set(job nodes, jobs)`` -> ``aggregate(c, type="sum")`` for each cutoff,
  read at the sites' nodes.  This is pandana's own pipeline for the question.
  (pandana snaps to the nearest node and has no walk to the street, so its
  sums differ a little from geoplan's; the median ratio is printed.)

Each run is a fresh Python process started by this script and timed from the
outside (``time.perf_counter`` around the whole process: interpreter start,
imports, numba loading or compiling its kernels, reading the file, building,
snapping, precomputing and querying), with its phases timed inside and its
peak memory read from Linux's ``VmHWM``.  geoplan runs with a warm numba
cache (the kernels compiled before, as on any machine after the first use)
and, once, with a cold one (an empty ``NUMBA_CACHE_DIR``: everything compiled).
The tools alternate, ``--runs`` times each; min, median and max are printed.

    python benchmarks/indicators.py            # 3 runs of each, about 2 minutes
    python benchmarks/indicators.py --runs 5 --sites 100000 --jobs 10000
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ANDORRA = ROOT.parent / "shared" / "data" / "osm" / "andorra.osm.pbf"
CUTOFFS_MIN = (15.0, 30.0, 45.0)
MARK = "@@RESULT "


def peak_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``, Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_inputs(path: Path, n_sites: int, n_jobs: int, out: Path, seed: int = 0) -> None:
    """Sites and jobs (lon/lat) around random nodes of the network, with job counts."""
    import pyproj

    from geoplan.streets.network import load_network

    net = load_network(path, mode="walk")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, net.n_nodes, n_sites + n_jobs)
    xy = np.column_stack([net.x[pick], net.y[pick]])
    xy[:n_sites] += rng.normal(0, 100, (n_sites, 2))
    xy[n_sites:] += rng.normal(0, 50, (n_jobs, 2))
    lon, lat = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True).transform(
        xy[:, 0], xy[:, 1]
    )
    np.savez(
        out,
        sites=np.column_stack([lon[:n_sites], lat[:n_sites]]),
        jobs=np.column_stack([lon[n_sites:], lat[n_sites:]]),
        amounts=rng.integers(1, 500, n_jobs).astype(np.float64),
    )


# --------------------------------------------------------------------------- workers


def worker_geoplan(path: Path, inputs: dict[str, np.ndarray], began: float) -> dict[str, Any]:
    import geopandas as gpd
    import shapely

    from geoplan.indicators.access import cumulative_opportunities
    from geoplan.streets.network import load_network
    from geoplan.streets.routing import NetworkMetric

    t = time.perf_counter()
    imports = t - began
    net = load_network(path, mode="walk")
    load = time.perf_counter() - t
    t = time.perf_counter()
    sites = gpd.GeoSeries(shapely.points(inputs["sites"]), crs=4326).to_crs(net.crs)
    jobs = gpd.GeoDataFrame(
        {"jobs": inputs["amounts"]},
        geometry=gpd.GeoSeries(shapely.points(inputs["jobs"]), crs=4326).to_crs(net.crs),
    )
    metric = NetworkMetric(net, unit="min")
    found = cumulative_opportunities(
        sites, jobs, column="jobs", cutoffs_min=CUTOFFS_MIN, metric=metric
    ).to_numpy()
    query = time.perf_counter() - t
    return {"imports": imports, "load": load, "build": 0.0, "query": query, "sums": found}


def worker_pandana(path: Path, inputs: dict[str, np.ndarray], began: float) -> dict[str, Any]:
    import pandana
    import pandas as pd

    from geoplan.streets.network import load_network

    t = time.perf_counter()
    imports = t - began
    net = load_network(path, mode="walk")
    load = time.perf_counter() - t
    t = time.perf_counter()
    edges = pd.DataFrame({"minutes": net.edge_minutes_forward})
    network = pandana.Network(
        pd.Series(net.lon), pd.Series(net.lat), pd.Series(net.edge_u), pd.Series(net.edge_v),
        edges, twoway=True,
    )  # fmt: skip
    network.precompute(max(CUTOFFS_MIN))
    build = time.perf_counter() - t
    t = time.perf_counter()
    site_nodes = network.get_node_ids(inputs["sites"][:, 0], inputs["sites"][:, 1])
    job_nodes = network.get_node_ids(inputs["jobs"][:, 0], inputs["jobs"][:, 1])
    network.set(job_nodes, variable=inputs["amounts"], name="jobs")
    found = np.column_stack(
        [
            network.aggregate(c, type="sum", decay="flat", name="jobs").reindex(site_nodes)
            for c in CUTOFFS_MIN
        ]
    )
    query = time.perf_counter() - t
    return {"imports": imports, "load": load, "build": build, "query": query, "sums": found}


WORKERS = {"geoplan": worker_geoplan, "pandana": worker_pandana}


def run_worker(tool: str, path: Path, inputs: Path) -> None:
    began = time.perf_counter()  # after the interpreter started; the driver times that too
    with np.load(inputs) as data:
        arrays = {k: data[k] for k in data.files}
    result = WORKERS[tool](path, arrays, began)
    sums = result.pop("sums")
    np.save(inputs.with_name(f"{tool}-sums.npy"), sums)
    result["peak_mb"] = peak_mb()
    print(MARK + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- driver


def measure(tool: str, path: Path, inputs: Path, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", tool, "--file", str(path), "--inputs", str(inputs)]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - began
    rows = [json.loads(line.split(MARK, 1)[1]) for line in done.stdout.splitlines() if MARK in line]
    if done.returncode != 0 or not rows:
        raise SystemExit(f"{tool} failed:\n{done.stderr[-3000:]}")
    return {**rows[0], "wall": wall}


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool (default 3)")
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--file", type=Path, default=ANDORRA, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.file, args.inputs)
        return
    if not args.file.is_file():
        raise SystemExit(f"{args.file} not found: this benchmark needs the team's shared/data")
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "inputs.npz"
        make_inputs(args.file, args.sites, args.jobs, inputs)
        warm = dict(os.environ)
        cold = {**warm, "NUMBA_CACHE_DIR": str(Path(folder) / "numba-cache")}
        results: dict[str, list[dict[str, Any]]] = {"geoplan": [], "pandana": []}
        first_cold = measure("geoplan", args.file, inputs, cold)
        for _ in range(args.runs):
            for tool in ("geoplan", "pandana"):
                results[tool].append(measure(tool, args.file, inputs, warm))
        ours = np.load(Path(folder) / "geoplan-sums.npy")
        theirs = np.load(Path(folder) / "pandana-sums.npy")
    both = (ours > 0) & (theirs > 0)
    ratio = np.median(ours[both] / theirs[both]) if both.any() else float("nan")
    print(
        f"\n{args.sites:,} sites, {args.jobs:,} job locations, jobs within "
        f"{', '.join(f'{c:g}' for c in CUTOFFS_MIN)} walking minutes on {args.file.name}; "
        f"{args.runs} runs each, seconds as min / median / max\n"
    )
    print("| tool | whole process s | imports s | load s | build s | query s | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for tool, runs in results.items():
        cells = [
            spread([r[k] for r in runs]) for k in ("wall", "imports", "load", "build", "query")
        ]
        print(f"| {tool} | {' | '.join(cells)} | {spread([r['peak_mb'] for r in runs])} |")
    c = first_cold
    print(
        f"| geoplan, cold numba cache | {c['wall']:.2f} | {c['imports']:.2f} | {c['load']:.2f} | "
        f"– | {c['query']:.2f} | {c['peak_mb']:.0f} |"
    )
    walls = {tool: [r["wall"] for r in runs] for tool, runs in results.items()}
    speedups = [p / g for g, p in zip(walls["geoplan"], walls["pandana"], strict=True)]
    met = sum(x >= 5 for x in speedups)
    print(
        f"\nwhole process, pandana / geoplan (run by run): {spread(speedups)}x, at least 5x in "
        f"{met} of {len(speedups)} runs ({', '.join(f'{x:.1f}' for x in speedups)}); "
        f"cold cache: {statistics.median(walls['pandana']) / c['wall']:.2f}x; "
        f"peak memory geoplan / pandana (medians): "
        f"{statistics.median(r['peak_mb'] for r in results['geoplan']) / statistics.median(r['peak_mb'] for r in results['pandana']):.2f}; "
        f"median geoplan / pandana sums where both found jobs: {ratio:.3f}"
    )


if __name__ == "__main__":
    main()

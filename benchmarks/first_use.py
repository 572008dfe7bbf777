"""First use of the network engine: how long a user waits for the first result.

Each measurement is a fresh Python process, timed by this parent from start to
exit (Python's own start-up included):

* ``import geoplan`` -- the package alone (everything else loads on first use);
* ``base libraries`` -- numpy, scipy.sparse.csgraph, shapely, pyproj, pandas,
  geopandas: what the engine cannot do without;
* ``engine import`` -- ``import geoplan.streets.network, geoplan.streets.routing``
  with numba's cache warm;
* ``first result, warm`` -- import, load the real Shanghai drive extract
  (``../shared/data/shanghai_jingan_drive.osm.pbf``), snap 1,000 sites, nearest
  station (points), nearest park (polygons), stations within 1 km; numba's
  cache filled by an earlier run;
* ``first result, cold`` -- the same with ``NUMBA_CACHE_DIR`` a new empty
  folder (a fresh install: every kernel the run needs is compiled) and, in the
  ``cold + no .pyc`` row, ``PYTHONPYCACHEPREFIX`` a new empty folder as well
  (Python compiles every module from source too).

Run ``python benchmarks/first_use.py`` (``--repeats N``; about three minutes at 3).
The machine is shared with other jobs, so timings vary by 10-30 %; the median
of the repeats is printed.
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

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = ROOT.parent / "shared" / "data" / "shanghai_jingan_drive.osm.pbf"

BASE_LIBS = "import numpy, pandas, shapely, pyproj, geopandas, scipy.sparse.csgraph"
ENGINE = "import geoplan.streets.network, geoplan.streets.routing"
FIRST_RESULT = f"""
import time, json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
t0 = time.perf_counter()
import numpy as np, geopandas as gpd, shapely
import geoplan as gp
from geoplan.streets.network import load_network
from geoplan.streets.routing import NetworkMetric
t1 = time.perf_counter()
net = load_network({str(EXTRACT)!r}, mode="drive")
t2 = time.perf_counter()
rng = np.random.default_rng(1)
pick = rng.integers(0, net.n_nodes, 1000)
xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 80, (1000, 2))
sites = gpd.GeoSeries(shapely.points(xy), crs=net.crs)
pick = rng.integers(0, net.n_nodes, 12)
xy = np.column_stack([net.x[pick], net.y[pick]])
stations = gpd.GeoSeries(shapely.points(xy[:8]), crs=net.crs)
parks = gpd.GeoSeries(shapely.buffer(shapely.points(xy[8:]), 120.0), crs=net.crs)
metric = NetworkMetric(net, unit="m")
near_station = metric.nearest(sites, stations).distance
near_park = metric.nearest(sites, parks).distance
pairs = metric.within(sites, stations, 1000.0)
t3 = time.perf_counter()
assert np.isfinite(near_station).any() and np.isfinite(near_park).any()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "query": t3 - t2}}))
"""


def run(code: str, env: dict[str, str]) -> tuple[float, dict[str, float], str]:
    """Wall time of a fresh process running ``code``, its phases, its log."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - began
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return wall, (json.loads(lines[-1]) if lines else {}), done.stderr


def settle(limit_s: float = 180.0) -> None:
    """Wait until no second compiling process (started by a cold run) is still at work,
    so that it does not share the cores with the next timed run."""
    until = time.perf_counter() + limit_s
    locks = Path(tempfile.gettempdir()).glob
    while any(locks("geoplan-compile-*.lock")) and time.perf_counter() < until:
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not EXTRACT.exists():
        print(f"skipped: {EXTRACT} is absent (the team's shared data folder)")
        return
    base_env = dict(os.environ)
    warm_cache = tempfile.mkdtemp(prefix="numba-warm-")
    warm = {**base_env, "NUMBA_CACHE_DIR": warm_cache}
    run(FIRST_RESULT, warm)  # fill the warm cache (and .pyc files)
    settle()

    rows: list[tuple[str, list[float], dict[str, float]]] = []
    for label, code, cold, no_pyc in [
        ("import geoplan", "import geoplan", False, False),
        ("base libraries", BASE_LIBS, False, False),
        ("engine import (warm)", ENGINE, False, False),
        ("first result, warm", FIRST_RESULT, False, False),
        ("first result, cold numba cache", FIRST_RESULT, True, False),
        ("first result, cold + no .pyc", FIRST_RESULT, True, True),
    ]:
        walls, phases = [], []
        for _ in range(args.repeats):
            env = dict(warm)
            if cold:
                env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-")
            if no_pyc:
                env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="pyc-cold-")
            wall, phase, log = run(code, env)
            settle()  # a cold run leaves a second process compiling the rest of the engine
            walls.append(wall)
            if phase:
                phases.append(phase)
            if cold and "compiling" in log:
                print("  log:", next(ln for ln in log.splitlines() if "compiling" in ln))
        median_phases = (
            {k: statistics.median(p[k] for p in phases) for k in phases[0]} if phases else {}
        )
        rows.append((label, walls, median_phases))
        print(
            f"{label:34s} median {statistics.median(walls):6.2f} s  "
            f"(runs {', '.join(f'{w:.2f}' for w in walls)})"
            + (
                "  " + ", ".join(f"{k} {v:.2f} s" for k, v in median_phases.items())
                if median_phases
                else ""
            )
        )
    print(f"\nreproduce: python benchmarks/first_use.py --repeats {args.repeats}")


if __name__ == "__main__":
    main()

"""Life-circle speed: GB 50180 compliance of many sites along a real walk network, against pandana.

Reads the facilities (``gp.read_osm_pois``) and the walk network from the same
real OpenStreetMap extract (Andorra, from the team's ``../shared/data/osm``),
then answers, for N sites, which of the standard's assessed items lie within
300 / 500 / 1000 m of walking and whether each level is met:

* geoplan: ``gp.life_circles`` with a ``NetworkMetric`` in metres (snapping
  every site exactly onto its street, one bounded search per facility, every
  item's nearest facility, flags and gap texts in two languages);
* pandana: the same network arrays as a ``pandana.Network`` (contraction
  hierarchy, ``precompute(1000)``), one ``set_pois`` + ``nearest_pois`` per
  item, ``get_node_ids`` for the sites (nearest *node*), flags with numpy (no
  texts).

Both run in this process, each best of ``--repeat`` (a new metric / new POI
sets each time); the agreement of the two tools' presence flags is printed
too (they differ where pandana's node snapping moves a site or facility by up
to a block).

Run from the repository root::

    python benchmarks/life_circles.py               # 10,000 and 100,000 sites
    python benchmarks/life_circles.py --sites 1000
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geoplan as gp
from geoplan.indicators.life_circles import LEVELS, gb50180_requirements

EXTRACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm" / "andorra.osm.pbf"
REACH = {"lc5": 300.0, "lc10": 500.0, "lc15": 1000.0}


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _pandana(net: Any, items: pd.DataFrame, facilities: gpd.GeoDataFrame) -> Any:
    import pandana

    nodes = pd.DataFrame({"x": net.x, "y": net.y})
    edges = pd.DataFrame({"length": net.edge_length_m})
    network = pandana.Network(
        nodes["x"], nodes["y"], pd.Series(net.edge_u), pd.Series(net.edge_v), edges, twoway=True
    )
    network.precompute(max(REACH.values()))
    del items, facilities
    return network


def _pandana_query(
    network: Any, sites: gpd.GeoDataFrame, items: pd.DataFrame, facilities: gpd.GeoDataFrame
) -> np.ndarray:
    """(n_sites, n_items) metres to the nearest facility of each item (inf beyond 1000 m)."""
    cutoff = max(REACH.values())
    node = network.get_node_ids(sites.geometry.x, sites.geometry.y).to_numpy()
    out = np.full((len(sites), len(items)), np.inf)
    for j, (item, kinds) in enumerate(items["kinds"].items()):
        chosen = facilities[facilities["kind"].isin(kinds)]
        if chosen.empty:
            continue
        network.set_pois(item, cutoff, 1, chosen.geometry.x, chosen.geometry.y)
        nearest = network.nearest_pois(cutoff, item, num_pois=1, max_distance=np.inf)[1]
        out[:, j] = nearest.reindex(node).to_numpy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not EXTRACT.is_file():
        raise SystemExit(f"needs the team's real extract {EXTRACT}")

    start = time.perf_counter()
    pois = gp.read_osm_pois(EXTRACT)
    read_s = time.perf_counter() - start
    net = gp.load_network(EXTRACT, mode="walk")
    facilities = pois.to_crs(net.crs)
    table = gb50180_requirements()
    items = table[table["assessed"] & table[list(LEVELS)].ne("").any(axis=1)]
    build_s, network = _best_of(lambda: _pandana(net, items, facilities), 1)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"Andorra: {len(pois):,} POIs read in {read_s:.2f} s; walk network {net.n_nodes:,} nodes;"
    )
    print(f"pandana precompute(1000): {build_s:.2f} s (once, not in the ratios below)\n")
    print("| sites | geoplan s | pandana s | ratio | presence flags equal |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in args.sites:
        pick = rng.integers(0, net.n_nodes, n)
        xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 100, (n, 2))
        sites = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=net.crs)

        def ours(sites: gpd.GeoDataFrame = sites) -> pd.DataFrame:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                metric = gp.NetworkMetric(net, unit="m")
                return gp.life_circles(sites, facilities, metric=metric)

        def theirs(sites: gpd.GeoDataFrame = sites) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            nearest = _pandana_query(network, sites, items, facilities)
            ok = np.ones(len(sites), bool)
            flags = {}
            for level in LEVELS:
                required = (items[level] == "▲").to_numpy()
                ok = ok & ~(nearest[:, required] > REACH[level]).any(axis=1)
                flags[level] = ok
            return nearest, flags

        geoplan_s, found = _best_of(ours, args.repeat)
        pandana_s, (nearest, _) = _best_of(theirs, args.repeat)
        ours_present = np.column_stack(
            [found[f"{item}_m"].to_numpy() <= 500 for item in items.index]
        )
        agree = float((ours_present == (nearest <= 500)).mean())
        print(
            f"| {n:,} | {geoplan_s:.2f} | {pandana_s:.2f} | {pandana_s / geoplan_s:.2f}x "
            f"{'faster' if pandana_s > geoplan_s else 'slower'} | {agree:.1%} (within 500 m) |"
        )


if __name__ == "__main__":
    main()

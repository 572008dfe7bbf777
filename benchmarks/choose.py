"""Portfolio solvers at city scale: exact MILP against the bounded heuristic.

2,000 candidate sites x 20,000 demand points (jobs clustered in 12 industrial parks over a
40 km square, candidates uniform), maximal covering within 2 km, k = 10 ... 50.  Pairs
within the standard come from geoplan's straight-line engine (one KD-tree query, timed
apart).  For each k: the exact model (our sparse PuLP model, as spopt's dense matrix would
hold 40 million entries; HiGHS) with a time limit, and the heuristic (greedy + swap with
a Lagrangian bound), each timed with time.perf_counter from the problem to the answer
(model building included), the heuristic ``--repeat`` times (min / median / max).

Run (about 15 minutes with the defaults)::

    .venv/bin/python benchmarks/choose.py --k 10 20 30 40 50 --time-limit 120
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import numpy as np

from geoplan.choose.exact import solve_exact
from geoplan.choose.heuristic import solve_heuristic
from geoplan.choose.problem import Problem, check_problem
from geoplan.measure.distance import StraightLine


def instance(n_sites: int, n_demand: int, seed: int, standard: float) -> tuple[Problem, float]:
    rng = np.random.default_rng(seed)
    side = 40_000.0
    parks = rng.uniform(4_000, side - 4_000, (12, 2))
    spread = rng.uniform(800, 3_000, 12)
    which = rng.integers(0, 12, n_demand)
    demand = parks[which] + rng.normal(size=(n_demand, 2)) * spread[which, None]
    sites = rng.uniform(0, side, (n_sites, 2))
    weight = rng.integers(20, 400, n_demand).astype(float)  # jobs at each point
    started = time.perf_counter()
    pairs = StraightLine().within(
        gpd.GeoSeries(gpd.points_from_xy(*sites.T)),
        gpd.GeoSeries(gpd.points_from_xy(*demand.T)),
        standard,
    )
    seconds = time.perf_counter() - started
    none = np.zeros(n_sites, dtype=bool)
    problem = Problem(
        objective="coverage",
        n_sites=n_sites,
        site=pairs.site,
        demand=pairs.target,
        cost=pairs.distance,
        weight=weight,
        standard=standard,
        penalty=standard,
        k=10,
        fixed=none,
        forced=none,
        allowed=~none,
        xy=sites,
        names=[str(i) for i in range(n_sites)],
    )
    return problem, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--demand", type=int, default=20000)
    parser.add_argument("--standard", type=float, default=2000.0)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 30, 40, 50])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-exact", action="store_true")
    args = parser.parse_args()
    base, seconds = instance(args.sites, args.demand, args.seed, args.standard)
    total = base.weight.sum()
    print(
        f"{args.sites} sites x {args.demand} demand points, {len(base.site):,} pairs within "
        f"{args.standard:g} m (found in {seconds:.2f} s)"
    )
    print(
        "| k | heuristic covered | gap to its bound | heuristic s (min / median / max) "
        "| exact covered | exact status | exact gap | exact s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for k in args.k:
        problem = Problem(**{**base.__dict__, "k": k})
        check_problem(problem)
        times, found = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = solve_heuristic(problem, time_limit_s=args.time_limit)
            times.append(time.perf_counter() - started)
        assert found is not None
        row = (
            f"| {k} | {found.value / total:.4%} | {found.gap:.3%} | "
            f"{min(times):.1f} / {statistics.median(times):.1f} / {max(times):.1f} |"
        )
        if args.no_exact:
            print(row + " - | - | - | - |")
            continue
        started = time.perf_counter()
        exact = solve_exact(problem, time_limit_s=args.time_limit)
        spent = time.perf_counter() - started
        print(
            row + f" {exact.value / total:.4%} | {exact.status} | {exact.gap:.3%} | {spent:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

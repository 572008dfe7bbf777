"""A dense candidate grid on the map: file size, time to build and write, time to open in Chromium.

Ranks a hexagonal grid over the Changzhou sample's study area (the sample's own criteria and
its constraints but the capacity one, which grid cells have no column for) at a cell size that gives about N cells, draws it with ``make_map`` and opens it in
the system's headless Chromium (every non-local request blocked), timing from navigation until
the surface and the sites are drawn.

    .venv/bin/python benchmarks/dense_map.py --cells 100000 --runs 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import geoplan as gp
from geoplan.maps.snapshot import CHROMIUM_ARGS, find_chromium

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"


def grid_study(cells: int) -> gp.Study:
    study = gp.load_study(SAMPLE)
    area_km2 = float(study.layers["area"].to_crs(4549).area.sum()) / 1e6
    cell_m = math.sqrt(area_km2 * 1e6 / cells / (math.sqrt(3) / 2))
    study.layers.pop("candidates")
    study.constraints = [k for k in study.constraints if k.kind not in ("min_value", "max_value")]
    study.grid = {"cell_m": round(cell_m, 1), "shape": "hex"}
    return study


def open_time(path: Path, chromium: Path) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_ARGS))
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        start = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function("() => window.geoplanGrid !== undefined && window.geoplanSites")
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    study = grid_study(args.cells)
    start = time.perf_counter()
    ranked = gp.rank_sites(study)
    rank_s = time.perf_counter() - start
    chromium = find_chromium()
    builds, writes, opens = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            start = time.perf_counter()
            m = gp.make_map(ranked, study, basemap="none")
            builds.append(time.perf_counter() - start)
            start = time.perf_counter()
            path = gp.save_map(m, Path(folder) / f"grid{run}.html")
            writes.append(time.perf_counter() - start)
            opens.append(open_time(path, chromium))
        size_mb = path.stat().st_size / 1e6
    print(
        f"{len(ranked):,} cells (cell {study.grid['cell_m']} m), ranking {rank_s:.1f} s; "
        f"map {size_mb:.1f} MB; make_map median {statistics.median(builds):.1f} s, "
        f"save_map {statistics.median(writes):.1f} s, open in Chromium "
        f"{statistics.median(opens):.2f} s (runs: {', '.join(f'{t:.2f}' for t in opens)})"
    )


if __name__ == "__main__":
    main()

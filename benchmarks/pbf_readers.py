"""Whole-process load times: geoplan's former compiled PBF reader against libosmium.

Decides issue 10 item 4: keep the compiled (numba) ``.osm.pbf`` reader only if
it makes the whole process a user waits for at least 2x faster than reading
every file through libosmium (pyosmium).

Both sides are geoplan itself, at two revisions: ``compiled`` is the last
revision with the compiled reader (:data:`COMPILED_REV`, extracted with
``git archive`` into the cache folder), ``libosmium`` is this working tree.
Each run is a fresh Python process that imports ``geoplan.streets.network`` and calls
``load_network(file, mode=...)``; the parent times the whole process (start to
exit), the child reports its import and load times and its peak memory
(``VmHWM``).  Runs of the two sides alternate, so both see the same load from
other jobs on the machine.

* warm: numba's cache filled by an untimed first run (``NUMBA_CACHE_DIR`` in
  the cache folder, one per side);
* cold: ``NUMBA_CACHE_DIR`` an empty folder for every run, as on a fresh
  install (every kernel compiled in that process).

The operating system's file cache and Python's bytecode caches are warm for
both sides.  Files: the team's city extracts and Andorra tiled 40 times
(``benchmarks/tiled_extract.py``, 9.4 million nodes).

Run ``python benchmarks/pbf_readers.py`` (``--repeats``, ``--cold-repeats``,
``--files``).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiled_extract import SHARED, cache_dir, tiled_extract

ROOT = Path(__file__).resolve().parents[1]
COMPILED_REV = "0251ad864887dd5495c8d9dccce8390ff8abb2fd"
"""The last revision whose ``load_network`` decodes ``.osm.pbf`` with the compiled reader."""

CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
start = time.perf_counter()
from geoplan.streets.network import load_network
imported = time.perf_counter()
net = load_network(sys.argv[1], mode=sys.argv[2])
loaded = time.perf_counter()
peak = 0.0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
print(json.dumps({"import": imported - start, "load": loaded - imported, "peak_mb": peak,
                  "nodes": net.n_nodes, "edges": net.n_edges}))
"""


LIBOSMIUM_ROOT = ROOT


def side_root(side: str) -> Path:
    """The folder whose ``geoplan`` package a side imports."""
    if side == "libosmium":
        return LIBOSMIUM_ROOT
    folder = cache_dir() / f"geoplan-{COMPILED_REV[:12]}"
    if not (folder / "geoplan").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", COMPILED_REV, "geoplan"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_once(side: str, path: Path, mode: str, numba_cache: Path) -> dict[str, float]:
    """One fresh process loading ``path``; its times (s) and peak memory (MB)."""
    env = {**os.environ, "PYTHONPATH": str(side_root(side)), "NUMBA_CACHE_DIR": str(numba_cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Python's bytecode cache stays warm for both
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    whole = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{side} on {path.name} failed:\n{done.stderr[-3000:]}")
    row: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    row["whole"] = whole
    return row


def spread(values: list[float]) -> str:
    """min / median / max."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def measure(
    files: list[tuple[str, Path, str]], *, repeats: int, cold_repeats: int, cold_files: set[str]
) -> list[dict[str, object]]:
    """Alternate the two sides on every file, warm and cold; one result per file, side, cache."""
    sides = ("compiled", "libosmium")
    results: list[dict[str, object]] = []
    for name, path, mode in files:
        plans = [("warm", repeats)] + ([("cold", cold_repeats)] if name in cold_files else [])
        for cache, count in plans:
            rows: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
            for i in range(count):
                for side in sides if i % 2 == 0 else sides[::-1]:
                    if cache == "warm":
                        numba_cache = cache_dir() / f"numba-{side}"
                        if not rows[side] and i == 0:
                            run_once(side, path, mode, numba_cache)  # fills the cache, untimed
                        rows[side].append(run_once(side, path, mode, numba_cache))
                    else:
                        with tempfile.TemporaryDirectory(prefix="numba-cold-") as empty:
                            rows[side].append(run_once(side, path, mode, Path(empty)))
                    print(
                        f"{name} {cache} {side}: whole {rows[side][-1]['whole']:.2f} s "
                        f"(load average {os.getloadavg()[0]:.1f})",
                        file=sys.stderr,
                        flush=True,
                    )
            for side in sides:
                results.append({"file": name, "mode": mode, "cache": cache, "side": side,
                                "runs": rows[side]})  # fmt: skip
    return results


def report(results: list[dict[str, object]]) -> str:
    lines = [
        "| file | mode | numba cache | reader | import s | load s | whole process s | peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    by_key: dict[tuple[object, object, object], list[dict[str, float]]] = {}
    for r in results:
        runs = r["runs"]
        assert isinstance(runs, list)
        by_key[(r["file"], r["cache"], r["side"])] = runs
        lines.append(
            f"| {r['file']} | {r['mode']} | {r['cache']} | {r['side']} "
            f"| {spread([x['import'] for x in runs])} | {spread([x['load'] for x in runs])} "
            f"| {spread([x['whole'] for x in runs])} "
            f"| {statistics.median([x['peak_mb'] for x in runs]):,.0f} |"
        )
    for (name, cache, side), runs in by_key.items():
        if side != "compiled":
            continue
        other = by_key[(name, cache, "libosmium")]
        whole_c = statistics.median(x["whole"] for x in runs)
        whole_l = statistics.median(x["whole"] for x in other)
        load_c = statistics.median(x["load"] for x in runs)
        load_l = statistics.median(x["load"] for x in other)
        ratios.append(
            f"- {name}, {cache} cache: whole process libosmium / compiled = "
            f"{whole_l / whole_c:.2f} (medians; best runs {min(x['whole'] for x in other) / min(x['whole'] for x in runs):.2f}); "
            f"load_network alone {load_l / load_c:.2f}"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per side and file")
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold runs per side")
    parser.add_argument(
        "--files", default="andorra-x40,andorra,poa,liechtenstein", help="comma-separated"
    )
    parser.add_argument("--cold-files", default="andorra-x40,andorra")
    parser.add_argument(
        "--libosmium-root", type=Path, default=ROOT, help="folder holding the geoplan to measure"
    )
    args = parser.parse_args()
    global LIBOSMIUM_ROOT
    LIBOSMIUM_ROOT = args.libosmium_root
    available = {
        "andorra-x40": (tiled_extract(SHARED / "andorra.osm.pbf", copies=40), "walk"),
        "andorra": (SHARED / "andorra.osm.pbf", "walk"),
        "poa": (SHARED / "poa.osm.pbf", "drive"),
        "liechtenstein": (SHARED / "liechtenstein.osm.pbf", "walk"),
    }
    files = [(name, *available[name]) for name in args.files.split(",")]
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    results = measure(
        files,
        repeats=args.repeats,
        cold_repeats=args.cold_repeats,
        cold_files=set(args.cold_files.split(",")),
    )
    print(f"load average at end: {os.getloadavg()}")
    print(report(results))
    out = cache_dir() / "pbf_readers.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"raw runs: {out}")


if __name__ == "__main__":
    main()

"""First use of the network engine: nothing compiled on import, only what a run
calls is compiled, once per machine (numba's disk cache), and the user is told.

Each check runs in a fresh Python process with its own empty numba cache, as
on a fresh install.  (How long it takes is measured in
``benchmarks/first_use.py``, not here.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geoplan.streets._kernels import bounded_searches, dense_pairs, in_blocks

CALL_ONE_KERNEL = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
import numpy as np
from geoplan.streets._kernels import take_cheapest
distance, nearest = take_cheapest(
    np.array([5.0, 1.0]), np.array([0, 1]), np.array([0, 1]), np.array([2, 3]),
    np.array([4.0, 2.0]),
)
print(distance.tolist(), nearest.tolist())
"""


def run_python(code: str, cache: Path, *, beside: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "GEOPLAN_COMPILE_BESIDE": "01"[beside]}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )


def test_importing_the_engine_loads_no_compiler(tmp_path: Path) -> None:
    done = run_python(
        "import sys, geoplan.streets.network, geoplan.streets.routing, "
        "geoplan.streets.isochrone\nprint('numba' in sys.modules)",
        tmp_path,
    )
    assert done.stdout.strip() == "False"
    assert not any(tmp_path.rglob("*.nbi"))  # and compiled nothing


def test_only_the_kernels_called_are_compiled_once_and_announced(tmp_path: Path) -> None:
    first = run_python(CALL_ONE_KERNEL, tmp_path)
    assert first.stdout.strip() == "[4.0, 1.0] [2, 1]"
    assert "compiling the network engine once" in first.stderr
    compiled = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    assert compiled == {"_kernels.take_cheapest"}
    again = run_python(CALL_ONE_KERNEL, tmp_path)  # the same machine later: from the cache
    assert again.stdout == first.stdout
    assert "compiling" not in again.stderr


def test_a_second_process_compiles_the_rest_of_the_engine(tmp_path: Path) -> None:
    import hashlib
    import tempfile
    import time

    import geoplan.streets._kernels as kernels

    first = run_python(CALL_ONE_KERNEL, tmp_path, beside=True)
    assert first.stdout.strip() == "[4.0, 1.0] [2, 1]"
    where = f"{tmp_path}|{Path(kernels.__file__).parent}"
    lock = Path(tempfile.gettempdir()) / (
        f"geoplan-compile-{hashlib.sha256(where.encode()).hexdigest()[:16]}.lock"
    )
    until = time.monotonic() + 300
    while lock.exists() and time.monotonic() < until:  # the second process is at work
        time.sleep(0.5)
    assert not lock.exists(), "the second process removes its lock when done"
    compiled = {p.name.split("-")[0].split(".", 1)[1] for p in tmp_path.rglob("*.nbi")}
    wanted = set(kernels._LAST_NEEDED) | {"take_cheapest", "_file_segments", "_nearest"}
    assert wanted <= compiled, sorted(wanted - compiled)
    again = run_python(CALL_ONE_KERNEL, tmp_path, beside=True)
    assert "compiling" not in again.stderr  # nothing left to compile, no second process


@pytest.mark.parametrize("n_items", [0, 1, 3, 50])
def test_blocks_cover_every_item_once(n_items: int) -> None:
    seen: list[range] = []
    in_blocks(
        lambda n, b, k: seen.append(range(b * n // k, (b + 1) * n // k)), n_items, n_items=n_items
    )
    items = sorted(i for r in seen for i in r)
    assert items == list(range(n_items))


def test_bounded_searches_pack_each_source_in_order() -> None:
    # a path 0 - 1 - 2 - 3 with arcs both ways, 10 m each
    indptr = np.array([0, 1, 3, 5, 6])
    indices = np.array([1, 0, 2, 1, 3, 2])
    data = np.full(6, 10.0)
    source, node, cost = bounded_searches(indptr, indices, data, np.array([3, 0, 1]), 15.0)
    assert source.tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert node.tolist() == [3, 2, 0, 1, 1, 0, 2]  # ties settle the lower node first
    assert cost.tolist() == [0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 10.0]


def test_dense_pairs_cheaper_exit_and_extras() -> None:
    by_node = np.array([[0.0, 30.0], [10.0, 20.0], [40.0, 0.0]])  # 3 nodes x 2 targets
    searched = np.array([0, 2])
    node_v, via_v = np.array([0, 2]), np.array([1.0, 1.0])
    node_u, via_u = np.array([1, 1]), np.array([2.0, 2.0])
    # site 1 also reaches target 1 directly at 3 m and target 2 at 0.5 m
    extra_start, extra_target, extra_cost = (
        np.array([0, 0, 2]),
        np.array([1, 2]),
        np.array([3.0, 0.5]),
    )
    site, target, cost = dense_pairs(
        by_node, searched, node_v, via_v, node_u, via_u, extra_start, extra_target, extra_cost,
        25.0,
    )  # fmt: skip
    assert list(zip(site.tolist(), target.tolist(), cost.tolist(), strict=True)) == [
        (0, 0, 1.0),
        (0, 2, 22.0),
        (1, 0, 12.0),
        (1, 1, 3.0),
        (1, 2, 0.5),
    ]


@pytest.mark.parametrize(("quiet", "shown"), [(False, True), (True, False)])
def test_the_cli_shows_the_compile_notice_unless_quiet(quiet: bool, shown: bool) -> None:
    import logging

    from geoplan.cli import _configure_logging

    kernels = logging.getLogger("geoplan.streets._kernels")
    saved = kernels.level, logging.getLogger("geoplan").level, logging.getLogger("geoplan").handlers
    try:
        _configure_logging(0, quiet)
        assert kernels.isEnabledFor(logging.INFO) is shown
        assert not logging.getLogger("geoplan.study").isEnabledFor(logging.INFO)
    finally:
        kernels.setLevel(saved[0])
        logging.getLogger("geoplan").setLevel(saved[1])
        logging.getLogger("geoplan").handlers[:] = saved[2]

"""Compiled loops (numba) for the network engine.

Each kernel replaces a numpy expression that would build large temporary
arrays (one entry per candidate pair) only to throw most of them away.  Most
count first, then fill arrays of exactly the right size; the others fill
per-item slots or grow their outputs as they go.  :mod:`geoplan.streets._regions`
holds the kernels for polygon targets.

Each kernel is declared with one signature and compiled on its first call
(then cached on disk, so only the first use on a machine compiles it): a run
compiles only the kernels it uses, and importing the engine compiles
nothing.  :func:`compiled` wraps each kernel so that its array arguments are
converted to the declared dtypes and made C-contiguous and writeable first.
On a fresh machine a second process compiles the rest of the engine beside the
first run (:func:`_compile_beside`); :func:`compile_all` compiles it ahead of time.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import importlib
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
from numba.core import types
from numba.np.numpy_support import as_dtype

__all__ = [
    "bounded_searches",
    "cell_of",
    "cheaper_exit",
    "compile_all",
    "compiled",
    "counting_sort",
    "dense_pairs",
    "in_blocks",
    "same_edge_pairs",
    "take_cheapest",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_F = TypeVar("_F", bound=Callable[..., Any])

logger = logging.getLogger(__name__)

# signature shorthands: C-contiguous 1-d arrays
F8 = "float64[::1]"
I8 = "int64[::1]"
B1 = "boolean[::1]"


def compiled(*args: str, returns: str = "none", boundscheck: bool = False) -> Callable[[_F], _F]:
    """Declare a kernel for argument types ``args``, compiled on its first call.

    Only the kernels a run calls are compiled, each once per machine: the
    machine code is cached on disk (numba's cache: ``NUMBA_CACHE_DIR``, or
    ``__pycache__`` beside the module), where later processes -- and Dask
    workers on the same machine -- load it in milliseconds.  The function
    returned converts array arguments to the declared dtype and layout before
    calling the compiled kernel.  ``boundscheck`` makes an index out of
    bounds raise :class:`IndexError` (for kernels that read untrusted data).
    """
    signature = f"{returns}({', '.join(args)})"

    def wrap(func: _F) -> _F:
        kernel = _Kernel(func, signature, boundscheck=boundscheck)
        _KERNELS.append(kernel)

        @functools.wraps(func)
        def call(*values: Any) -> Any:
            return kernel(*values)

        call.kernel = kernel  # type: ignore[attr-defined]  # for in_blocks
        return cast(_F, call)

    return wrap


class _Kernel:
    """One kernel, compiled for its one signature when first needed (thread-safe)."""

    def __init__(self, func: Any, signature: str, *, boundscheck: bool) -> None:
        self.func = func
        self.signature = signature
        self.boundscheck = boundscheck
        self._lock = threading.Lock()
        self._ready: tuple[Any, list[Any]] | None = None

    def __call__(self, *values: Any) -> Any:
        kernel, dtypes = self.ready()
        return kernel(*_converted(values, dtypes))

    def ready(self) -> tuple[Any, list[Any]]:
        """The compiled kernel (loaded from the disk cache, or compiled now)
        and the dtypes its array arguments must have."""
        if self._ready is None:
            with self._lock:
                if self._ready is None:
                    self._ready = self._compile()
        return self._ready

    def _compile(self) -> tuple[Any, list[Any]]:
        began = time.perf_counter()
        try:
            dispatcher = numba.njit(cache=True, nogil=True, boundscheck=self.boundscheck)(self.func)
        except RuntimeError:  # nowhere writable to cache: compile for this process only
            logger.warning(
                "numba cannot cache %s (set NUMBA_CACHE_DIR); compiling", self.func.__name__
            )
            dispatcher = numba.njit(cache=False, nogil=True, boundscheck=self.boundscheck)(
                self.func
            )
        else:
            if not _in_disk_cache(dispatcher):
                _announce_compiling()
        dispatcher.compile(self.signature)
        dispatcher.disable_compile()  # other argument types are an error, not a new compile
        logger.debug("%s ready in %.2f s", self.func.__name__, time.perf_counter() - began)
        dtypes = [
            as_dtype(t.dtype) if isinstance(t, types.Array) else None
            for t in dispatcher.nopython_signatures[0].args
        ]
        return dispatcher, dtypes


def _converted(values: tuple[Any, ...], dtypes: list[Any]) -> list[Any]:
    """Arrays as the kernel's dtypes, C-contiguous and writeable (numba types a
    read-only array differently: such an input is copied)."""
    return [
        v if d is None else np.require(v, dtype=d, requirements=("C", "W"))
        for v, d in zip(values, dtypes, strict=False)
    ]


_KERNELS: list[_Kernel] = []
_ANNOUNCED = threading.Event()

# What compiling every kernel of the engine takes on a 2-core machine, measured
# with benchmarks/first_use.py (a run compiles only the kernels it calls).
_COMPILE_ALL_S = 20


def _in_disk_cache(dispatcher: Any) -> bool:
    """Whether numba's disk cache holds code for ``dispatcher`` (best effort:
    ``True`` when numba's cache layout cannot be read)."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # numba internals changed: never fail a run over a log message
        return True


def _announce_compiling() -> None:
    """Say once per process that the network engine is being compiled, and start
    compiling the rest of it beside this process (:func:`_compile_beside`)."""
    if not _ANNOUNCED.is_set():
        _ANNOUNCED.set()
        logger.info(
            "compiling the network engine once (up to about %d s; numba caches it on disk "
            "for later runs)...",
            _COMPILE_ALL_S,
        )
        _compile_beside()


#: The engine's kernel modules (each registers its kernels when imported).
_KERNEL_MODULES: tuple[str, ...] = (
    "geoplan.streets._kernels",
    "geoplan.streets._segment_grid",
    "geoplan.streets._regions",
)
#: The order of the second process: kernels a first network result reaches late
#: (polygon targets, then stations within a distance), the slowest first, so that
#: they are in the cache when it gets there (``benchmarks/first_use.py``).
_LAST_NEEDED: tuple[str, ...] = (
    "points_in_regions",
    "_dense_write",
    "_dense_count",
    "_bounded_block",
    "segment_stretches",
    "_in_boxes",
)
#: ``GEOPLAN_COMPILE_BESIDE=0`` turns the second compiling process off.
_BESIDE_ENV = "GEOPLAN_COMPILE_BESIDE"


def compile_all(*, last_needed_first: bool = False) -> int:
    """Compile every kernel of the network engine into numba's disk cache (or load it).

    Ahead of time (``python -c "from geoplan.streets._kernels import
    compile_all; compile_all()"``, e.g. when building an image for Dask
    workers), or beside a first run (:func:`_compile_beside`).

    Parameters
    ----------
    last_needed_first : bool
        Start with the kernels a first network result needs last.

    Returns
    -------
    int
        How many kernels are ready.
    """
    for name in _KERNEL_MODULES:
        importlib.import_module(name)
    kernels = list(_KERNELS)
    if last_needed_first:
        rank = {name: i for i, name in enumerate(_LAST_NEEDED)}
        kernels.sort(key=lambda k: rank.get(k.func.__name__, len(rank)))
    for kernel in kernels:
        kernel.ready()
    return len(kernels)


def _compile_beside() -> None:
    """Compile the rest of the engine in a second process while this one works.

    Numba compiles on one core; a first run on a fresh machine would wait for
    every kernel in turn.  The second process starts with the kernels that run
    needs last and writes them to the shared disk cache, from which this
    process loads them when it gets there.  One such process per machine and
    cache at a time (a lock file); none inside one (``GEOPLAN_COMPILE_BESIDE=0``).
    """
    if os.environ.get(_BESIDE_ENV, "1") == "0" or not sys.executable:
        return
    where = f"{os.environ.get('NUMBA_CACHE_DIR', '')}|{os.path.dirname(__file__)}"
    lock = os.path.join(
        tempfile.gettempdir(),
        f"geoplan-compile-{hashlib.sha256(where.encode()).hexdigest()[:16]}.lock",
    )
    try:
        if time.time() - os.path.getmtime(lock) < 600:
            return  # another process is compiling for this cache
    except OSError:
        pass
    try:
        with open(lock, "w", encoding="utf-8") as held:
            held.write(str(os.getpid()))
        code = (
            "import os, sys\n"
            "from geoplan.streets._kernels import compile_all\n"
            "try:\n    compile_all(last_needed_first=True)\nfinally:\n    os.remove(sys.argv[1])\n"
        )
        subprocess.Popen(
            [sys.executable, "-c", code, lock],
            env={**os.environ, _BESIDE_ENV: "0"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:  # no second process: this one compiles everything itself
        logger.debug("no second compiling process: %s", exc)


def in_blocks(kernel: Callable[..., Any], *args: Any, n_items: int) -> list[Any]:
    """``kernel(*args, block, n_blocks)`` for every block, on all cores.

    The kernels are plain (not ``parallel``) numba functions that release the
    GIL, so Python threads run the blocks at once: the same use of the cores
    as numba's ``prange``, for a fraction of its compile time.  ``n_items``
    (what the blocks share) caps the number of blocks; four blocks per thread
    even out uneven work.  Returns the kernel's results, in block order.
    """
    n_threads = numba.get_num_threads()  # the cores numba may use (NUMBA_NUM_THREADS)
    n_blocks = max(1, min(4 * n_threads, n_items))
    prepared: _Kernel | None = getattr(kernel, "kernel", None)
    if prepared is not None:  # convert the arguments once, not once per block
        kernel, dtypes = prepared.ready()
        args = tuple(_converted(args, dtypes[: len(args)]))
    if n_threads == 1 or n_blocks == 1:
        return [kernel(*args, b, n_blocks) for b in range(n_blocks)]
    return list(_pool(n_threads).map(lambda b: kernel(*args, b, n_blocks), range(n_blocks)))


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(n_threads: int) -> ThreadPoolExecutor:
    """One pool of ``n_threads`` threads for the process, made on first use.

    Starting threads for every call cost more than a small network's whole
    search (Helsinki: 0.05 s of queries took 0.09 s).
    """
    with _POOLS_LOCK:
        if n_threads not in _POOLS:
            _POOLS[n_threads] = ThreadPoolExecutor(n_threads, thread_name_prefix="geoplan")
        return _POOLS[n_threads]


@numba.njit(inline="always")  # inlined into the (cached) kernels that call it
def cell_of(v: float, origin: float, cell: float, n: int) -> int:
    """Cell holding coordinate ``v`` along one axis, clamped to a grid's ``n`` cells."""
    return min(max(math.floor((v - origin) / cell), 0), n - 1)


@numba.njit(nogil=True)
def counting_sort(key: IntArray, n_keys: int) -> tuple[IntArray, IntArray]:
    """``start, order``: the positions holding key ``k`` (``0 <= k < n_keys``)
    are ``order[start[k]:start[k + 1]]``, in their original order."""
    start = np.zeros(n_keys + 1, np.int64)
    for k in key:
        start[k + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    fill = start[:-1].copy()
    order = np.empty(len(key), np.int64)
    for i in range(len(key)):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    return start, order


@compiled(
    I8, F8, F8, B1, I8, I8, F8, F8, F8, I8, F8, F8, B1, B1, returns=f"Tuple(({I8}, {I8}, {F8}))"
)
def same_edge_pairs(
    edge: IntArray,
    fraction: FloatArray,
    access: FloatArray,
    ok: BoolArray,
    stretch_start: IntArray,
    stretch_row: IntArray,
    start: FloatArray,
    end: FloatArray,
    cost: FloatArray,
    target: IntArray,
    weight: FloatArray,
    weight_back: FloatArray,
    forward: BoolArray,
    backward: BoolArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(site, target, cost) of reaching target stretches along a site's own segment.

    The stretches of segment ``e`` are rows ``stretch_row[stretch_start[e]:
    stretch_start[e + 1]]`` of ``start``/``end``/``cost``/``target``; a site
    at ``fraction`` reaches a stretch ``[start, end]`` at no cost if it lies
    on it, else by travelling along the segment where the one-way rules allow
    (``forward`` is the direction of increasing fraction, costing ``weight``
    for the whole segment; ``backward`` costs ``weight_back``).  Only finite
    costs are returned.
    """
    n_sites = len(edge)
    out_site = np.empty(0, np.int64)
    out_target = np.empty(0, np.int64)
    out_cost = np.empty(0, np.float64)
    for second in range(2):  # count, then fill
        n = 0
        for i in range(n_sites):
            if not ok[i]:
                continue
            e = edge[i]
            f = fraction[i]
            for k in range(stretch_start[e], stretch_start[e + 1]):
                row = stretch_row[k]
                if start[row] <= f <= end[row]:
                    c = 0.0
                elif f < start[row] and forward[e]:
                    c = (start[row] - f) * weight[e]
                elif f > end[row] and backward[e]:
                    c = (f - end[row]) * weight_back[e]
                else:
                    continue
                if second:
                    out_site[n] = i
                    out_target[n] = target[row]
                    out_cost[n] = c + cost[row] + access[i]
                n += 1
        if not second:
            out_site = np.empty(n, np.int64)
            out_target = np.empty(n, np.int64)
            out_cost = np.empty(n, np.float64)
    return out_site, out_target, out_cost


@numba.njit(inline="always")
def _put(
    site: IntArray, target: IntArray, cost: FloatArray, n: int, i: int, t: int, c: float,
    cutoff: float, write: bool,
) -> int:  # fmt: skip
    """Write pair (i, t, c) at ``n`` if ``c <= cutoff`` (and ``write``); the next ``n``."""
    if c <= cutoff and c < np.inf:
        if write:
            site[n] = i
            target[n] = t
            cost[n] = c
        n += 1
    return n


@numba.njit(inline="always")
def _dense_site(
    i: int, by_node: FloatArray, searched: IntArray, node_v: IntArray, via_v: FloatArray,
    node_u: IntArray, via_u: FloatArray, extra_start: IntArray, extra_target: IntArray,
    extra_cost: FloatArray, cutoff: float, site: IntArray, target: IntArray, cost: FloatArray,
    n: int, write: bool,
) -> int:  # fmt: skip
    """Pairs of site ``i`` from ``n`` on (see :func:`dense_pairs`); the next ``n``."""
    row_v, row_u = by_node[node_v[i]], by_node[node_u[i]]
    k, k_end = extra_start[i], extra_start[i + 1]
    if k == k_end:  # no extra candidates: the columns alone, in order
        for j in range(len(searched)):
            c = min(row_v[j] + via_v[i], row_u[j] + via_u[i])
            n = _put(site, target, cost, n, i, searched[j], c, cutoff, write)
        return n
    pending_t, pending_c = -1, np.inf  # the pair being gathered, by ascending target
    for j in range(len(searched) + 1):
        last = j == len(searched)
        t_j = extra_target[k_end - 1] + 1 if last else searched[j]
        while k < k_end and extra_target[k] <= t_j:
            if extra_target[k] != pending_t:
                n = _put(site, target, cost, n, i, pending_t, pending_c, cutoff, write)
                pending_t, pending_c = extra_target[k], extra_cost[k]
            else:
                pending_c = min(pending_c, extra_cost[k])
            k += 1
        if last:
            break
        c = min(row_v[j] + via_v[i], row_u[j] + via_u[i])
        if t_j != pending_t:
            n = _put(site, target, cost, n, i, pending_t, pending_c, cutoff, write)
            pending_t, pending_c = t_j, c
        else:
            pending_c = min(pending_c, c)
    return _put(site, target, cost, n, i, pending_t, pending_c, cutoff, write)


_DENSE_ARGS = ("float64[:, ::1]", I8, I8, F8, I8, F8, I8, I8, F8, "float64", I8, I8, I8, F8)


@compiled(*_DENSE_ARGS, "int64", "int64")
def _dense_count(
    by_node: FloatArray,
    searched: IntArray,
    node_v: IntArray,
    via_v: FloatArray,
    node_u: IntArray,
    via_u: FloatArray,
    extra_start: IntArray,
    extra_target: IntArray,
    extra_cost: FloatArray,
    cutoff: float,
    count: IntArray,
    site: IntArray,
    target: IntArray,
    cost: FloatArray,
    block: int,
    n_blocks: int,
) -> None:
    """:func:`dense_pairs` for the sites of ``block`` of ``n_blocks``: count each
    site's pairs in ``count[i + 1]`` (``write`` is a constant in each of the two
    kernels, so numba drops the branch from the inner loop)."""
    n_sites = len(node_v)
    for i in range(block * n_sites // n_blocks, (block + 1) * n_sites // n_blocks):
        count[i + 1] = _dense_site(
            i, by_node, searched, node_v, via_v, node_u, via_u, extra_start, extra_target,
            extra_cost, cutoff, site, target, cost, 0, False,
        )  # fmt: skip


@compiled(*_DENSE_ARGS, "int64", "int64")
def _dense_write(
    by_node: FloatArray,
    searched: IntArray,
    node_v: IntArray,
    via_v: FloatArray,
    node_u: IntArray,
    via_u: FloatArray,
    extra_start: IntArray,
    extra_target: IntArray,
    extra_cost: FloatArray,
    cutoff: float,
    count: IntArray,
    site: IntArray,
    target: IntArray,
    cost: FloatArray,
    block: int,
    n_blocks: int,
) -> None:
    """:func:`dense_pairs` for the sites of ``block``: write each site's pairs from ``count[i]``."""
    n_sites = len(node_v)
    for i in range(block * n_sites // n_blocks, (block + 1) * n_sites // n_blocks):
        _dense_site(
            i, by_node, searched, node_v, via_v, node_u, via_u, extra_start, extra_target,
            extra_cost, cutoff, site, target, cost, count[i], True,
        )  # fmt: skip


def dense_pairs(
    by_node: FloatArray,
    searched: IntArray,
    node_v: IntArray,
    via_v: FloatArray,
    node_u: IntArray,
    via_u: FloatArray,
    extra_start: IntArray,
    extra_target: IntArray,
    extra_cost: FloatArray,
    cutoff: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(site, target, cost) within ``cutoff``: each pair once, ordered by site then target.

    ``by_node[node, column]`` is the cost from ``node`` to target
    ``searched[column]`` (ascending); a site leaves its segment by ``node_v``
    at cost ``via_v`` or by ``node_u`` at ``via_u`` and takes the cheaper.
    Site ``i`` also has the extra candidates ``extra_start[i]:extra_start[i +
    1]`` (ordered by target, any target); the cheapest way to a target counts.
    The sites are shared out over the cores (count, then fill).
    """
    n_sites = len(node_v)
    count = np.zeros(n_sites + 1, np.int64)
    site = np.empty(0, np.int64)
    target = np.empty(0, np.int64)
    cost = np.empty(0, np.float64)
    common = (
        by_node, searched, node_v, via_v, node_u, via_u, extra_start, extra_target, extra_cost,
        float(cutoff), count,
    )  # fmt: skip
    in_blocks(_dense_count, *common, site, target, cost, n_items=n_sites)
    np.cumsum(count, out=count)
    total = int(count[-1])
    site = np.empty(total, np.int64)
    target = np.empty(total, np.int64)
    cost = np.empty(total, np.float64)
    in_blocks(_dense_write, *common, site, target, cost, n_items=n_sites)
    return site, target, cost


@compiled(F8, I8, I8, F8, I8, F8, "int64", returns=f"Tuple(({F8}, {I8}))")
def cheaper_exit(
    dist: FloatArray,
    source: IntArray,
    node_v: IntArray,
    via_v: FloatArray,
    node_u: IntArray,
    via_u: FloatArray,
    first_target: int,
) -> tuple[FloatArray, IntArray]:
    """Each site's cost through the cheaper end of its segment, and its target.

    ``dist[node]`` is a multi-source search's cost from ``node`` and
    ``source[node]`` the search node it came from (target ``source -
    first_target``); a site leaves by ``node_v`` at ``via_v`` or ``node_u``
    at ``via_u``.  Sites that reach nothing get ``inf`` and target ``-1``.
    """
    n_sites = len(node_v)
    distance = np.empty(n_sites)
    target = np.empty(n_sites, np.int64)
    for i in range(n_sites):
        cost_v = via_v[i] + dist[node_v[i]]
        cost_u = via_u[i] + dist[node_u[i]]
        node = node_u[i] if cost_u < cost_v else node_v[i]
        distance[i] = min(cost_u, cost_v)
        target[i] = source[node] - first_target if distance[i] < np.inf else -1
    return distance, target


@compiled(F8, I8, I8, I8, F8, returns=f"Tuple(({F8}, {I8}))")
def take_cheapest(
    distance: FloatArray, nearest: IntArray, site: IntArray, target: IntArray, cost: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Each site's cheapest of its current ``distance`` / ``nearest`` target and
    the candidates (``site``, ``target``, ``cost``); the lower target on ties."""
    distance = distance.copy()
    nearest = nearest.copy()
    for k in range(len(site)):
        i = site[k]
        if cost[k] < distance[i] or (cost[k] == distance[i] and target[k] < nearest[i]):
            distance[i] = cost[k]
            nearest[i] = target[k]
    return distance, nearest


@compiled(I8, I8, F8, I8, "float64", I8, F8, I8, "int64", "int64")
def _bounded_block(
    indptr: IntArray,
    indices: IntArray,
    data: FloatArray,
    sources: IntArray,
    cutoff: float,
    slot_node: IntArray,
    slot_cost: FloatArray,
    count: IntArray,
    block: int,
    n_blocks: int,
) -> None:
    """:func:`bounded_searches` for the sources of ``block`` of ``n_blocks``: source
    ``k`` writes what it reaches in slot ``k`` (``n`` entries from ``k * n``, of
    which only those written are ever touched in memory) and how many in
    ``count[k + 1]``."""
    n = len(indptr) - 1
    n_sources = len(sources)
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    for k in range(block * n_sources // n_blocks, (block + 1) * n_sources // n_blocks):
        start = sources[k]
        m = k * n
        dist[start] = 0.0
        touched[0] = start
        n_touched = 1
        heap = [(0.0, start)]
        while heap:
            d, u = heapq.heappop(heap)
            if done[u]:
                continue
            done[u] = True
            slot_node[m] = u
            slot_cost[m] = d
            m += 1
            for j in range(indptr[u], indptr[u + 1]):
                v = indices[j]
                nd = d + data[j]
                if nd <= cutoff and nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[n_touched] = v
                        n_touched += 1
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        count[k + 1] = m - k * n
        for i in range(n_touched):
            dist[touched[i]] = np.inf
            done[touched[i]] = False


def bounded_searches(
    indptr: IntArray, indices: IntArray, data: FloatArray, sources: IntArray, cutoff: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Dijkstra from each source, stopped at ``cutoff``: (source position, node, cost).

    The graph is CSR (``indptr``, ``indices``, ``data``; parallel arcs are
    fine, the cheapest wins).  Only the nodes reached are touched, so the
    work is proportional to what each search finds, not to the graph.  The
    searches run on all cores; results are ordered by source, each source's
    nodes in the order it settled them.  Virtual memory of ``sources x
    nodes`` entries is reserved (only what is found is written): run many
    sources on a large graph in rounds.
    """
    n = len(indptr) - 1
    n_sources = len(sources)
    slot_node = np.empty(n_sources * n, np.int64)
    slot_cost = np.empty(n_sources * n, np.float64)
    count = np.zeros(n_sources + 1, np.int64)
    in_blocks(
        _bounded_block, indptr, indices, data, sources, float(cutoff), slot_node, slot_cost,
        count, n_items=n_sources,
    )  # fmt: skip
    size = count[1:]
    # entry j of source k sits at k * n + j: pack the slots in source order
    out_source = np.repeat(np.arange(n_sources, dtype=np.int64), size)
    at = np.arange(len(out_source), dtype=np.int64) + np.repeat(
        np.arange(n_sources, dtype=np.int64) * n - np.cumsum(size) + size, size
    )
    return out_source, slot_node[at], slot_cost[at]

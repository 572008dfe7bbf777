"""Compiled loops (numba) for the network engine.

Each kernel replaces a numpy expression that would build large temporary
arrays (one entry per candidate pair) only to throw most of them away.  They
count first, then fill arrays of exactly the right size.

Kernels are compiled for one signature when this module is imported (and
cached on disk, so only the first import on a machine compiles them): numba's
start-up cost is paid with the imports, not by the first query, and a call
with unexpected types fails at once.  :func:`compiled` wraps each kernel so
that its array arguments are converted to the declared dtypes and made
C-contiguous and writeable first.
"""

from __future__ import annotations

import functools
import heapq
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
from numba.core import types
from numba.np.numpy_support import as_dtype

__all__ = ["bounded_searches", "compiled", "dense_pairs", "points_in_boxes", "same_edge_pairs"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_F = TypeVar("_F", bound=Callable[..., Any])

logger = logging.getLogger(__name__)

# signature shorthands: C-contiguous 1-d arrays
F8 = "float64[::1]"
I8 = "int64[::1]"
B1 = "boolean[::1]"


def compiled(*args: str, returns: str = "none", parallel: bool = False) -> Callable[[_F], _F]:
    """Compile a kernel now for argument types ``args`` (cached on disk).

    The function returned converts array arguments to the declared dtype and
    layout before calling the compiled kernel.
    """
    signature = f"{returns}({', '.join(args)})"

    def wrap(func: _F) -> _F:
        try:
            kernel = numba.njit(signature, cache=True, nogil=True, parallel=parallel)(func)
        except RuntimeError:  # nowhere writable to cache: compile for this process only
            logger.warning("numba cannot cache %s (set NUMBA_CACHE_DIR); compiling", func.__name__)
            kernel = numba.njit(signature, nogil=True, parallel=parallel)(func)
        dtypes = [
            as_dtype(t.dtype) if isinstance(t, types.Array) else None
            for t in kernel.nopython_signatures[0].args
        ]

        @functools.wraps(func)
        def call(*values: Any) -> Any:
            return kernel(
                *(
                    v if d is None else np.require(v, dtype=d, requirements=("C", "W"))
                    for v, d in zip(values, dtypes, strict=True)
                )
            )

        return cast(_F, call)

    return wrap


@compiled(F8, F8, F8, F8, F8, F8, F8, F8, F8, F8, returns=f"Tuple(({I8}, {I8}, {B1}))")
def points_in_boxes(
    xs: FloatArray,
    ys: FloatArray,
    x_lo: FloatArray,
    y_lo: FloatArray,
    x_hi: FloatArray,
    y_hi: FloatArray,
    cx: FloatArray,
    cy: FloatArray,
    r_in2: FloatArray,
    r_out2: FloatArray,
) -> tuple[IntArray, IntArray, BoolArray]:
    """(box, point, sure) for the points inside each box (borders included)
    that are not outside its outer circle.

    The points ``xs``, ``ys`` are sorted by ``xs``.  Each box has two circles
    around ``cx, cy`` (squared radii ``r_in2 <= r_out2``): points beyond the
    outer one are left out, ``sure`` marks those within the inner one.
    """
    lo = np.searchsorted(xs, x_lo, "left")
    hi = np.searchsorted(xs, x_hi, "right")
    n = 0
    box = np.empty(0, np.int64)
    point = np.empty(0, np.int64)
    sure = np.empty(0, np.bool_)
    for second in range(2):  # count, then fill
        n = 0
        for b in range(len(x_lo)):
            for k in range(lo[b], hi[b]):
                if not y_lo[b] <= ys[k] <= y_hi[b]:
                    continue
                d2 = (xs[k] - cx[b]) ** 2 + (ys[k] - cy[b]) ** 2
                if d2 > r_out2[b]:
                    continue
                if second:
                    box[n] = b
                    point[n] = k
                    sure[n] = d2 <= r_in2[b]
                n += 1
        if not second:
            box = np.empty(n, np.int64)
            point = np.empty(n, np.int64)
            sure = np.empty(n, np.bool_)
    return box, point, sure


@compiled(I8, F8, F8, B1, I8, I8, F8, F8, F8, I8, F8, B1, B1, returns=f"Tuple(({I8}, {I8}, {F8}))")
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
    forward: BoolArray,
    backward: BoolArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(site, target, cost) of reaching target stretches along a site's own segment.

    The stretches of segment ``e`` are rows ``stretch_row[stretch_start[e]:
    stretch_start[e + 1]]`` of ``start``/``end``/``cost``/``target``; a site
    at ``fraction`` reaches a stretch ``[start, end]`` at no cost if it lies
    on it, else by travelling along the segment where the one-way rules allow
    (``forward`` is the direction of increasing fraction).  Only finite costs
    are returned.
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
                    c = (f - end[row]) * weight[e]
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


@compiled(
    "float64[:, ::1]", I8, I8, F8, I8, F8, "float64",
    returns=f"Tuple(({I8}, {I8}, {F8}))", parallel=True,
)  # fmt: skip
def dense_pairs(
    by_node: FloatArray,
    searched: IntArray,
    node_v: IntArray,
    via_v: FloatArray,
    node_u: IntArray,
    via_u: FloatArray,
    cutoff: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(site, target, cost) within ``cutoff``, ordered by site then column.

    ``by_node[node, column]`` is the cost from ``node`` to target
    ``searched[column]``;
    a site leaves its segment by ``node_v`` at cost ``via_v`` or by ``node_u``
    at ``via_u`` and takes the cheaper.
    """
    n_sites = len(node_v)
    n_columns = by_node.shape[1]
    count = np.zeros(n_sites + 1, np.int64)
    for i in numba.prange(n_sites):
        c = 0
        for j in range(n_columns):
            c += min(by_node[node_v[i], j] + via_v[i], by_node[node_u[i], j] + via_u[i]) <= cutoff
        count[i + 1] = c
    for i in range(n_sites):
        count[i + 1] += count[i]
    site = np.empty(count[n_sites], np.int64)
    target = np.empty(count[n_sites], np.int64)
    cost = np.empty(count[n_sites], np.float64)
    for i in numba.prange(n_sites):
        n = count[i]
        for j in range(n_columns):
            c = min(by_node[node_v[i], j] + via_v[i], by_node[node_u[i], j] + via_u[i])
            if c <= cutoff:
                site[n] = i
                target[n] = searched[j]
                cost[n] = c
                n += 1
    return site, target, cost


@compiled(I8, I8, F8, I8, "float64", returns=f"Tuple(({I8}, {I8}, {F8}))")
def bounded_searches(
    indptr: IntArray, indices: IntArray, data: FloatArray, sources: IntArray, cutoff: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Dijkstra from each source, stopped at ``cutoff``: (source position, node, cost).

    The graph is CSR (``indptr``, ``indices``, ``data``; parallel arcs are
    fine, the cheapest wins).  Only the nodes reached are touched, so the
    work is proportional to what each search finds, not to the graph.
    """
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    size = 1024
    out_source = np.empty(size, np.int64)
    out_node = np.empty(size, np.int64)
    out_cost = np.empty(size, np.float64)
    m = 0
    for k in range(len(sources)):
        start = sources[k]
        dist[start] = 0.0
        touched[0] = start
        n_touched = 1
        heap = [(0.0, start)]
        while heap:
            d, u = heapq.heappop(heap)
            if done[u]:
                continue
            done[u] = True
            if m == size:  # grow the outputs
                size *= 2
                out_source = np.concatenate((out_source, np.empty(size - m, np.int64)))
                out_node = np.concatenate((out_node, np.empty(size - m, np.int64)))
                out_cost = np.concatenate((out_cost, np.empty(size - m, np.float64)))
            out_source[m] = k
            out_node[m] = u
            out_cost[m] = d
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
        for i in range(n_touched):
            dist[touched[i]] = np.inf
            done[touched[i]] = False
    return out_source[:m].copy(), out_node[:m].copy(), out_cost[:m].copy()

"""Compiled geometry of polygon targets: which points, and which pieces of
street segments, lie in them.

:func:`points_in_regions` finds the points in each region's bounding box and
decides most of them with two circles (GEOS decides the rest);
:func:`segment_stretches` clips straight segments to polygons exactly -- the
parameter values where a segment crosses or touches the polygon's rings,
with the pieces between them classified by the even-odd rule -- instead of
building GEOS intersection geometries and measuring them back.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from geoplan.streets._kernels import B1, F8, I8, cell_of, compiled, counting_sort

__all__ = ["points_in_regions", "segment_stretches"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_MAX_REGION_CELLS = 1024  # cells along each side of the grid of region boxes
_FILINGS_PER_ITEM = 4  # a grid of region boxes files at most this many per point and box


@compiled(
    F8, F8, F8, F8, F8, F8, F8, F8, F8, F8, returns=f"Tuple(({I8}, {I8}, {B1}))"
)  # fmt: skip
def points_in_regions(
    x: FloatArray,
    y: FloatArray,
    x_lo: FloatArray,
    y_lo: FloatArray,
    x_hi: FloatArray,
    y_hi: FloatArray,
    cx: FloatArray,
    cy: FloatArray,
    r_in2: FloatArray,
    r_out2: FloatArray,
) -> tuple[IntArray, IntArray, BoolArray]:
    """(point, region, sure) for every point in a region's bounding box (borders
    included) and not beyond its outer circle, ordered by point then region.

    Each region has a box and two circles around ``cx, cy`` (squared radii
    ``r_in2 <= r_out2``); ``sure`` marks the points within the inner one.
    The boxes are filed in a uniform grid of cells a quarter of the mean box
    (coarser when that would file them too many times), so a point meets only
    the boxes filed under its own cell.  Points with a NaN
    coordinate are in no region.
    """
    n_points = len(x)
    n_regions = len(x_lo)
    if n_regions == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.bool_)
    gx0, gy0, gx1, gy1 = x_lo.min(), y_lo.min(), x_hi.max(), y_hi.max()
    # cells a quarter of the mean box, coarser while the boxes would fill too many
    side = max(float(np.mean(np.maximum(x_hi - x_lo, y_hi - y_lo))) / 4, 1e-9)
    budget = _FILINGS_PER_ITEM * (n_points + n_regions)
    while True:
        nx = min(int((gx1 - gx0) / side) + 1, _MAX_REGION_CELLS)
        ny = min(int((gy1 - gy0) / side) + 1, _MAX_REGION_CELLS)
        wx = (gx1 - gx0) / nx if gx1 > gx0 else 1.0
        wy = (gy1 - gy0) / ny if gy1 > gy0 else 1.0
        filings = 0.0
        for b in range(n_regions):
            filings += ((x_hi[b] - x_lo[b]) / wx + 2) * ((y_hi[b] - y_lo[b]) / wy + 2)
        if filings <= budget or (nx == 1 and ny == 1):
            break
        side *= 2
    # (cell, box) for every cell a box covers, boxes in order; then by cell
    n_filed = 0
    cell = np.empty(0, np.int64)
    filed = np.empty(0, np.int64)
    for second in range(2):
        if second:
            cell = np.empty(n_filed, np.int64)
            filed = np.empty(n_filed, np.int64)
        n_filed = 0
        for b in range(n_regions):
            for row in range(cell_of(y_lo[b], gy0, wy, ny), cell_of(y_hi[b], gy0, wy, ny) + 1):
                for col in range(cell_of(x_lo[b], gx0, wx, nx), cell_of(x_hi[b], gx0, wx, nx) + 1):
                    if second:
                        cell[n_filed] = row * nx + col
                        filed[n_filed] = b
                    n_filed += 1
    start, order = counting_sort(cell, nx * ny)
    filed = filed[order]
    size = n_points + 16
    point = np.empty(size, np.int64)
    region = np.empty(size, np.int64)
    sure = np.empty(size, np.bool_)
    n = 0
    for i in range(n_points):
        px, py = x[i], y[i]
        if not (gx0 <= px <= gx1 and gy0 <= py <= gy1):
            continue
        c = cell_of(py, gy0, wy, ny) * nx + cell_of(px, gx0, wx, nx)
        for k in range(start[c], start[c + 1]):
            b = filed[k]
            if not (x_lo[b] <= px <= x_hi[b] and y_lo[b] <= py <= y_hi[b]):
                continue
            d2 = (px - cx[b]) ** 2 + (py - cy[b]) ** 2
            if d2 > r_out2[b]:
                continue
            if n == size:  # grow the outputs
                size *= 2
                point = np.concatenate((point, np.empty(size - n, np.int64)))
                region = np.concatenate((region, np.empty(size - n, np.int64)))
                sure = np.concatenate((sure, np.empty(size - n, np.bool_)))
            point[n] = i
            region[n] = b
            sure[n] = d2 <= r_in2[b]
            n += 1
    return point[:n].copy(), region[:n].copy(), sure[:n].copy()


@numba.njit(inline="always")
def _cross(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


@numba.njit(inline="always")
def _inside(
    px: float, py: float, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
    lo: int, hi: int,
) -> bool:  # fmt: skip
    """Even-odd rule: is ``(px, py)`` inside the polygon with edges ``lo:hi``?"""
    inside = False
    for k in range(lo, hi):
        if (y0[k] > py) != (y1[k] > py):
            x = x0[k] + (py - y0[k]) * (x1[k] - x0[k]) / (y1[k] - y0[k])
            if px < x:
                inside = not inside
    return inside


@numba.njit(inline="always")
def _on_edge(
    px: float, py: float, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
    lo: int, hi: int,
) -> bool:  # fmt: skip
    """Is ``(px, py)`` exactly on one of the edges ``lo:hi``?"""
    for k in range(lo, hi):
        if _cross(x1[k] - x0[k], y1[k] - y0[k], px - x0[k], py - y0[k]) == 0.0 and (
            min(x0[k], x1[k]) <= px <= max(x0[k], x1[k])
            and min(y0[k], y1[k]) <= py <= max(y0[k], y1[k])
        ):
            return True
    return False


@numba.njit(nogil=True)
def _clip(
    ax: float, ay: float, bx: float, by: float, x0: FloatArray, y0: FloatArray,
    x1: FloatArray, y1: FloatArray, lo: int, hi: int, t: FloatArray, on: BoolArray,
    inner: BoolArray, starts: FloatArray, ends: FloatArray,
) -> int:  # fmt: skip
    """Stretches ``[starts, ends]`` of segment ``a -> b`` in the polygon with edges
    ``lo:hi`` (borders included); returns how many.  The other arrays are
    scratch space of at least ``2 * (hi - lo) + 2`` entries."""
    dx, dy = bx - ax, by - ay
    dd = dx * dx + dy * dy
    if dd == 0.0:  # a point: in the polygon, or on one of its edges
        if _inside(ax, ay, x0, y0, x1, y1, lo, hi) or _on_edge(ax, ay, x0, y0, x1, y1, lo, hi):
            starts[0], ends[0] = 0.0, 1.0
            return 1
        return 0
    t[0], on[0], t[1], on[1] = 0.0, False, 1.0, False
    n = 2
    n_overlaps = 0  # stretches along an edge (kept in starts/ends until the end)
    for k in range(lo, hi):
        ex, ey = x1[k] - x0[k], y1[k] - y0[k]
        wx, wy = x0[k] - ax, y0[k] - ay
        den = _cross(dx, dy, ex, ey)
        if den != 0.0:  # the lines cross: where, along both?
            s = _cross(wx, wy, ex, ey) / den
            u = _cross(wx, wy, dx, dy) / den
            if 0.0 <= s <= 1.0 and 0.0 <= u <= 1.0:
                t[n], on[n] = s, True
                n += 1
        elif _cross(wx, wy, dx, dy) == 0.0:  # on one line: the overlap
            s0 = (wx * dx + wy * dy) / dd
            s1 = ((x1[k] - ax) * dx + (y1[k] - ay) * dy) / dd
            s0, s1 = max(min(s0, s1), 0.0), min(max(s0, s1), 1.0)
            if s0 <= s1:
                t[n], on[n], t[n + 1], on[n + 1] = s0, True, s1, True
                n += 2
                starts[n_overlaps], ends[n_overlaps] = s0, s1
                n_overlaps += 1
    # sort by t (few values: insertion sort), merging equal values
    for i in range(1, n):
        ti, oi = t[i], on[i]
        j = i - 1
        while j >= 0 and t[j] > ti:
            t[j + 1], on[j + 1] = t[j], on[j]
            j -= 1
        t[j + 1], on[j + 1] = ti, oi
    m = 0
    for i in range(n):
        if m and t[i] == t[m - 1]:
            on[m - 1] = on[m - 1] or on[i]
        else:
            t[m], on[m] = t[i], on[i]
            m += 1
    # a piece between two consecutive values is all in or all out (or along an
    # edge): test its middle
    for i in range(m - 1):
        mid = 0.5 * (t[i] + t[i + 1])
        inner[i] = _inside(ax + mid * dx, ay + mid * dy, x0, y0, x1, y1, lo, hi)
        for k in range(n_overlaps):
            inner[i] = inner[i] or starts[k] <= mid <= ends[k]
    inner[m - 1] = False
    count = 0
    open_at = -1.0
    for i in range(m):
        if open_at < 0 and (on[i] or inner[i] or (i > 0 and inner[i - 1])):
            open_at = t[i]
        if open_at >= 0 and not inner[i]:
            starts[count], ends[count] = open_at, t[i]
            count += 1
            open_at = -1.0
    return count


@compiled(
    F8, F8, F8, F8, I8, F8, F8, F8, F8, I8,
    returns=f"Tuple(({I8}, {F8}, {F8}))",
)  # fmt: skip
def segment_stretches(
    ax: FloatArray,
    ay: FloatArray,
    bx: FloatArray,
    by: FloatArray,
    polygon: IntArray,
    x0: FloatArray,
    y0: FloatArray,
    x1: FloatArray,
    y1: FloatArray,
    edge_start: IntArray,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """(segment, start, end): the stretches of each segment ``a -> b`` inside (or
    on the border of) its polygon, as fractions along the segment.

    Polygon ``p`` has the ring edges ``x0, y0 -> x1, y1`` at
    ``edge_start[p]:edge_start[p + 1]`` (all rings of all its parts; the
    even-odd rule decides what is inside).  A segment that only touches a
    polygon has a stretch of length 0 there.
    """
    n_segments = len(ax)
    most = 0  # stretches per segment: at most one per crossing value
    for i in range(n_segments):
        most += 2 * (edge_start[polygon[i] + 1] - edge_start[polygon[i]]) + 2
    segment = np.empty(most, np.int64)
    start = np.empty(most, np.float64)
    end = np.empty(most, np.float64)
    n_edges = edge_start[1:] - edge_start[:-1]
    size = 2 * (n_edges.max() if len(n_edges) else 0) + 2
    t = np.empty(size)
    on = np.empty(size, np.bool_)
    inner = np.empty(size, np.bool_)
    n = 0
    for i in range(n_segments):
        lo, hi = edge_start[polygon[i]], edge_start[polygon[i] + 1]
        found = _clip(
            ax[i], ay[i], bx[i], by[i], x0, y0, x1, y1, lo, hi, t, on, inner, start[n:], end[n:]
        )
        segment[n : n + found] = i
        n += found
    return segment[:n].copy(), start[:n].copy(), end[:n].copy()

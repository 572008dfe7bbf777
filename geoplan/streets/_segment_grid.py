"""Exact nearest straight segment, compiled: a uniform grid searched ring by ring.

:class:`SegmentGrid` files every segment under each square cell it passes
through (a segment is walked in pieces no longer than a cell, and each
piece's bounding box, widened by a hair, names its cells).  A query starts
at the point's cell and visits square rings of cells around it, measuring the
exact point-segment distance to every segment filed there.  After each ring
the unvisited cells all lie beyond the block of visited ones, so no unseen
segment is nearer than the distance from the point to that block's border:
once the best distance found is within it, the answer is proven.  Ties go to
the lower segment number, so results do not depend on threads.

The kernels are compiled with numba (cached on disk after the first use) and
run on all cores (threads); the queries are put in a coarse spatial order first so that
neighbouring points read the same cells.  The rare points farther than
``_MAX_RINGS`` cells from every street (which the rings would reach only
after scanning many empty cells) are answered by GEOS's nearest search in an
STR-tree of the segments instead.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

from geoplan.streets._kernels import F8, I8, cell_of, compiled, counting_sort, in_blocks

__all__ = ["SegmentGrid"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_CELL_PER_MEDIAN = 4.0  # cell side, in median segment lengths (fastest on real extracts)
_MAX_CELLS_PER_SEGMENT = 4  # the grid has at most this many cells per segment (memory)
_MIN_CELL_M = 1.0
_BOX_MARGIN = 1e-7  # relative widening of piece boxes (rounding at cell borders)
_PROOF_SLACK_M = 1e-6  # the proof's margin for rounding of cell borders and distances
_ORDER_BLOCK_CELLS = 8  # queries are ordered by blocks of 8 x 8 cells
_MAX_RINGS = 16  # points farther than this many cells from any street: GEOS's STR-tree


FRAME = "Tuple((float64, float64, float64, int64, int64))"
"""Signature of a grid's frame: origin ``x0, y0``, cell side, cells along x and y."""


@compiled(F8, F8, F8, F8, FRAME, returns=f"Tuple(({I8}, {I8}))")
def _file_segments(
    ax: FloatArray,
    ay: FloatArray,
    bx: FloatArray,
    by: FloatArray,
    frame: tuple[float, float, float, int, int],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR of the grid: ``start`` (per cell, row-major) and the segments filed there."""
    x0, y0, cell, nx, ny = frame
    n_cells = nx * ny
    start = np.zeros(n_cells + 1, np.int64)
    segments = np.empty(0, np.int64)
    fill = np.empty(0, np.int64)
    for second in range(2):  # count, then fill
        last = np.full(n_cells, -1, np.int64)
        if second:
            for c in range(n_cells):
                start[c + 1] += start[c]
            segments = np.empty(start[n_cells], np.int64)
            fill = start[:-1].copy()
        for s in range(len(ax)):
            dx, dy = bx[s] - ax[s], by[s] - ay[s]
            pieces = max(1, math.ceil(math.hypot(dx, dy) / cell))
            for j in range(pieces):
                t0, t1 = j / pieces, (j + 1) / pieces
                px0, px1 = ax[s] + t0 * dx, ax[s] + t1 * dx
                py0, py1 = ay[s] + t0 * dy, ay[s] + t1 * dy
                lo_x, hi_x = min(px0, px1) - x0, max(px0, px1) - x0
                lo_y, hi_y = min(py0, py1) - y0, max(py0, py1) - y0
                pad_x = (abs(lo_x) + abs(hi_x) + cell) * _BOX_MARGIN
                pad_y = (abs(lo_y) + abs(hi_y) + cell) * _BOX_MARGIN
                i0, i1 = cell_of(lo_x - pad_x, 0.0, cell, nx), cell_of(hi_x + pad_x, 0.0, cell, nx)
                j0, j1 = cell_of(lo_y - pad_y, 0.0, cell, ny), cell_of(hi_y + pad_y, 0.0, cell, ny)
                for iy in range(j0, j1 + 1):
                    for ix in range(i0, i1 + 1):
                        c = iy * nx + ix
                        if last[c] == s:
                            continue
                        last[c] = s
                        if second:
                            segments[fill[c]] = s
                            fill[c] += 1
                        else:
                            start[c + 1] += 1
    return start, segments


@compiled(F8, F8, I8, I8, I8, F8, F8, F8, F8, F8, FRAME, "int64", I8, F8, F8, "int64", "int64")
def _nearest(
    qx: FloatArray,
    qy: FloatArray,
    order: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    segments: npt.NDArray[np.int64],
    ax: FloatArray,
    ay: FloatArray,
    dx: FloatArray,
    dy: FloatArray,
    inv_len2: FloatArray,
    frame: tuple[float, float, float, int, int],
    max_rings: int,
    edge: npt.NDArray[np.int64],
    fraction: FloatArray,
    dist: FloatArray,
    block: int,
    n_blocks: int,
) -> None:
    """Nearest segment of the points of ``block`` of ``n_blocks`` (see the module
    docstring); fills the outputs.

    ``ax``... ``inv_len2`` are given per filing (aligned with ``segments``),
    so a cell's segments are read from contiguous memory.  Points are visited
    in ``order`` (nearby points one after the other, so they read the same
    cells).  Points not settled within ``max_rings`` rings get ``edge = -1``,
    ``dist = nan``.
    """
    x0, y0, cell, nx, ny = frame
    for k in range(block * len(order) // n_blocks, (block + 1) * len(order) // n_blocks):
        i = order[k]
        px, py = qx[i], qy[i]
        cx, cy = cell_of(px, x0, cell, nx), cell_of(py, y0, cell, ny)
        best, best_e, best_t = np.inf, -1, 0.0
        r = 0
        while True:  # ring r: the cells at Chebyshev distance r from (cx, cy)
            for iy in range(max(cy - r, 0), min(cy + r, ny - 1) + 1):
                whole_row = iy == cy - r or iy == cy + r
                step = 1 if whole_row else 2 * r  # inside rows: the ring's two ends
                for ix in range(cx - r, cx + r + 1, step):
                    if ix < 0 or ix >= nx:
                        continue
                    c = iy * nx + ix
                    for j in range(start[c], start[c + 1]):
                        ux, uy = px - ax[j], py - ay[j]
                        t = min(max((ux * dx[j] + uy * dy[j]) * inv_len2[j], 0.0), 1.0)
                        wx, wy = ux - t * dx[j], uy - t * dy[j]
                        d2 = wx * wx + wy * wy
                        if d2 < best or (d2 == best and segments[j] < best_e):
                            best, best_e, best_t = d2, segments[j], t
            # every unvisited cell lies beyond one side of the visited block
            bound = np.inf
            if cx - r > 0:
                bound = min(bound, px - (x0 + (cx - r) * cell))
            if cx + r < nx - 1:
                bound = min(bound, x0 + (cx + r + 1) * cell - px)
            if cy - r > 0:
                bound = min(bound, py - (y0 + (cy - r) * cell))
            if cy + r < ny - 1:
                bound = min(bound, y0 + (cy + r + 1) * cell - py)
            if bound == np.inf:
                break
            bound = max(bound - _PROOF_SLACK_M, 0.0)
            if best_e >= 0 and best <= bound * bound:
                break
            if r == max_rings:
                best, best_e = np.nan, -1
                break
            r += 1
        edge[i] = best_e
        fraction[i] = best_t
        dist[i] = math.sqrt(best)


@compiled(F8, F8, F8, F8, I8, I8, "int64", FRAME, returns=f"Tuple(({I8}, {I8}))")
def _in_boxes(
    x_lo: FloatArray,
    y_lo: FloatArray,
    x_hi: FloatArray,
    y_hi: FloatArray,
    start: npt.NDArray[np.int64],
    segments: npt.NDArray[np.int64],
    n_segments: int,
    frame: tuple[float, float, float, int, int],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(box, segment) pairs, each once, for the segments filed in cells a box touches."""
    x0, y0, cell, nx, ny = frame
    seen = np.full(n_segments, -1, np.int64)
    box = np.empty(0, np.int64)
    found = np.empty(0, np.int64)
    for second in range(2):  # count, then fill
        n = 0
        seen[:] = -1
        for b in range(len(x_lo)):
            i0, i1 = cell_of(x_lo[b], x0, cell, nx), cell_of(x_hi[b], x0, cell, nx)
            j0, j1 = cell_of(y_lo[b], y0, cell, ny), cell_of(y_hi[b], y0, cell, ny)
            for iy in range(j0, j1 + 1):
                for ix in range(i0, i1 + 1):
                    c = iy * nx + ix
                    for k in range(start[c], start[c + 1]):
                        s = segments[k]
                        if seen[s] == b:
                            continue
                        seen[s] = b
                        if second:
                            box[n] = b
                            found[n] = s
                        n += 1
        if not second:
            box = np.empty(n, np.int64)
            found = np.empty(n, np.int64)
    return box, found


@compiled(F8, F8, FRAME, returns=I8)
def _block_order(
    qx: FloatArray, qy: FloatArray, frame: tuple[float, float, float, int, int]
) -> npt.NDArray[np.int64]:
    """Points by square block of ``frame`` (row by row): a counting sort."""
    x0, y0, block, nx, ny = frame
    key = np.empty(len(qx), np.int64)
    for i in range(len(qx)):
        key[i] = cell_of(qy[i], y0, block, ny) * nx + cell_of(qx[i], x0, block, nx)
    return counting_sort(key, nx * ny)[1]


class SegmentGrid:
    """Straight segments ``a -> b`` filed in a uniform grid, for exact nearest queries.

    Parameters
    ----------
    ax, ay, bx, by
        Segment ends in a projected CRS (metres).
    cell_m
        Side of a grid cell; default four times the median segment length, widened
        so the grid has at most four cells per segment.
    """

    def __init__(
        self,
        ax: FloatArray,
        ay: FloatArray,
        bx: FloatArray,
        by: FloatArray,
        *,
        cell_m: float | None = None,
    ) -> None:
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (ax, ay, bx, by)]
        self.ax, self.ay, bx, by = arrays
        self.dx, self.dy = bx - self.ax, by - self.ay
        self.len2 = self.dx**2 + self.dy**2
        with np.errstate(divide="ignore"):
            self.inv_len2 = np.where(self.len2 > 0, 1.0 / self.len2, 0.0)  # t = 0 if a == b
        self.n_segments = n = len(self.ax)
        if n:
            self.x0 = float(min(self.ax.min(), bx.min()))
            self.y0 = float(min(self.ay.min(), by.min()))
            width = float(max(self.ax.max(), bx.max())) - self.x0
            height = float(max(self.ay.max(), by.max())) - self.y0
        else:
            self.x0 = self.y0 = width = height = 0.0
        if cell_m is None:
            length = np.sqrt(self.len2[self.len2 > 0])
            cell_m = _CELL_PER_MEDIAN * float(np.median(length)) if len(length) else 1.0
            budget = _MAX_CELLS_PER_SEGMENT * n + 1  # cells, at most
            cell_m = max(cell_m, math.sqrt(width * height / budget), max(width, height) / budget)
        self.cell_m = max(float(cell_m), _MIN_CELL_M)
        self.nx = int(width // self.cell_m) + 1
        self.ny = int(height // self.cell_m) + 1
        self._tree: shapely.STRtree | None = None
        self.frame = (self.x0, self.y0, self.cell_m, self.nx, self.ny)
        self.start, self.segments = _file_segments(self.ax, self.ay, bx, by, self.frame)
        # the segments again in filing order, so that a cell reads contiguous memory
        self._filed = np.stack([self.ax, self.ay, self.dx, self.dy, self.inv_len2])[
            :, self.segments
        ]

    def nearest(self, xy: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest segment, fraction along it (0 at ``a``) and distance, for finite points.

        Parameters
        ----------
        xy
            ``(n, 2)`` finite coordinates.

        Returns
        -------
        tuple of numpy.ndarray
            Segment (``-1`` if there are none), fraction and distance per point.
        """
        n = len(xy)
        edge = np.full(n, -1, dtype=np.int64)
        fraction = np.zeros(n)
        dist = np.full(n, np.inf)
        if n == 0 or self.n_segments == 0:
            return edge.astype(np.intp), fraction, dist
        qx, qy = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
        block = _ORDER_BLOCK_CELLS * self.cell_m
        blocks_x = (self.nx - 1) // _ORDER_BLOCK_CELLS + 1
        blocks_y = (self.ny - 1) // _ORDER_BLOCK_CELLS + 1
        order = _block_order(qx, qy, (self.x0, self.y0, block, blocks_x, blocks_y))
        in_blocks(
            _nearest,
            qx,
            qy,
            order,
            self.start,
            self.segments,
            self._filed[0],
            self._filed[1],
            self._filed[2],
            self._filed[3],
            self._filed[4],
            self.frame,
            _MAX_RINGS,
            edge,
            fraction,
            dist,
            n_items=n,
        )
        far = np.nonzero(np.isnan(dist))[0]
        if len(far):
            edge[far], fraction[far], dist[far] = self._nearest_far(xy[far])
        return edge.astype(np.intp), fraction, dist

    def project(self, xy: FloatArray, segments: IntArray) -> tuple[FloatArray, FloatArray]:
        """Fraction along and distance to ``segments`` of points ``xy``.

        Parameters
        ----------
        xy
            ``(..., 2)`` coordinates.
        segments
            Segment numbers, broadcastable with ``xy[..., 0]``.

        Returns
        -------
        tuple of numpy.ndarray
            Fraction of the nearest point along each segment (0 at ``a``) and
            the distance to it.
        """
        dx, dy = self.dx[segments], self.dy[segments]
        ux = xy[..., 0] - self.ax[segments]
        uy = xy[..., 1] - self.ay[segments]
        t = np.clip((ux * dx + uy * dy) * self.inv_len2[segments], 0.0, 1.0)
        return t, np.hypot(ux - t * dx, uy - t * dy)

    def _nearest_far(self, xy: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """:meth:`nearest` by GEOS (STR-tree), lowest segment on ties."""
        if self._tree is None:
            ends = np.stack([self.ax, self.ay, self.ax + self.dx, self.ay + self.dy], axis=1)
            self._tree = shapely.STRtree(shapely.linestrings(ends.reshape(-1, 2, 2)))
        (point, segment), _ = self._tree.query_nearest(
            shapely.points(xy), return_distance=True, all_matches=True
        )
        order = np.lexsort((segment, point))
        first = order[np.concatenate([[True], point[order][1:] != point[order][:-1]])]
        t, dist = self.project(xy, segment[first])
        return segment[first], t, dist

    def in_boxes(self, boxes: FloatArray) -> tuple[IntArray, IntArray]:
        """Candidate segments of boxes: every segment that touches a box, and some near it.

        Parameters
        ----------
        boxes
            ``(n, 4)`` boxes ``xmin, ymin, xmax, ymax``.

        Returns
        -------
        tuple of numpy.ndarray
            ``(box, segment)`` pairs, each once.
        """
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not len(boxes) or not self.n_segments:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        box, segment = _in_boxes(
            np.ascontiguousarray(boxes[:, 0]),
            np.ascontiguousarray(boxes[:, 1]),
            np.ascontiguousarray(boxes[:, 2]),
            np.ascontiguousarray(boxes[:, 3]),
            self.start,
            self.segments,
            self.n_segments,
            self.frame,
        )
        return box.astype(np.intp), segment.astype(np.intp)

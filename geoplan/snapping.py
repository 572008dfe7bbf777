"""Where sites and targets join the street network.

Points join it where it is closest to them: on the nearest point of the
nearest straight segment, not at the nearest node (a site beside the middle
of a 300 m block is a few metres from the street, not 150 m).
:func:`snap_points` answers that for every point at once with a KD-tree over
short pieces of the segments, and is exact (see :class:`SnapIndex`).

Targets join it as *stretches* (:func:`reach_targets`, :class:`Reach`): a
point target at its snapped point, plus its own walk to the street; a polygon
or line target along every piece of street within ``entrance_m`` of it (OSM
landuse polygons stop at the kerb, the street's centre line runs a few metres
outside), or, when no street is that close, at the street point nearest to it
plus the walk across the gap.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from geoplan._errors import GeoplanWarning

if TYPE_CHECKING:
    from geoplan.network import StreetNetwork

__all__ = ["Reach", "SnapIndex", "Snapped", "reach_targets", "snap_points"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_SNAP_PIECE_M = 20.0
_SNAP_NEIGHBOURS = 8  # pieces per point in the first round
_SNAP_MORE = 24  # pieces per point in the second round, for the points the first cannot settle
_PARALLEL_FROM = 2_500  # points per thread; below, threads cost more than they save
_ORDER_CELL_M = 256.0  # cell of the spatial order of queries (nearby points, nearby tree nodes)


@dataclass(frozen=True)
class Snapped:
    """Points snapped to the nearest point of the nearest street segment.

    Attributes
    ----------
    edge : numpy.ndarray
        Segment of each point (``-1`` for missing/empty geometries).
    fraction : numpy.ndarray
        Position along the segment, 0 at ``edge_u`` and 1 at ``edge_v``.
    snap_m : numpy.ndarray
        Straight-line distance from the point to the segment (``inf`` if missing).
    x, y : numpy.ndarray
        The snapped point on the segment.
    """

    edge: IntArray
    fraction: FloatArray
    snap_m: FloatArray
    x: FloatArray
    y: FloatArray


class SnapIndex:
    """KD-tree over short pieces of every segment, for exact nearest-segment queries.

    Each segment is cut (for the index only) into pieces of at most
    ``_SNAP_PIECE_M``; the tree holds their midpoints.  Every point of a piece
    is within ``half_m`` (half the longest piece) of its midpoint, so a point
    ``p`` is at least ``|p - midpoint| - half_m`` from any piece.

    **Exactness.**  :meth:`query` measures the exact point-segment distance
    from ``p`` to the segments of its ``k`` nearest midpoints and keeps the
    smallest, ``d``.  Every piece not among those ``k`` has its midpoint at
    least ``r_k`` (the ``k``-th distance) from ``p``, so its segment is at
    least ``r_k - half_m`` away: when ``r_k - half_m >= d`` no segment can be
    nearer and ``d`` is the nearest segment's distance.  Points where that
    fails get a second round with ``_SNAP_MORE`` pieces (same argument), and
    the few still unsettled get every piece whose midpoint is within
    ``d + half_m`` (a radius query), which holds every segment closer than
    ``d``.  The result is the exact nearest segment, as a brute-force search
    would find it (up to ties, which have the same distance).

    **Speed.**  Queries are sorted into a coarse spatial order first (nearby
    points walk the same tree nodes, which keeps them in cache), the distances
    to the ``(n, k)`` candidates are one numpy expression, and large batches
    are split into chunks answered on threads (the tree and numpy release the
    GIL).
    """

    def __init__(self, net: StreetNetwork) -> None:
        ax, ay = net.x[net.edge_u], net.y[net.edge_u]
        bx, by = net.x[net.edge_v], net.y[net.edge_v]
        length = np.hypot(bx - ax, by - ay)
        pieces = np.maximum(1, np.ceil(length / _SNAP_PIECE_M)).astype(np.intp)
        self.piece_edge = np.repeat(np.arange(len(ax), dtype=np.intp), pieces)
        start = np.cumsum(pieces) - pieces
        within = np.arange(len(self.piece_edge)) - np.repeat(start, pieces)
        t = (within + 0.5) / np.repeat(pieces, pieces)
        e = self.piece_edge
        mid = np.column_stack([ax[e] + t * (bx[e] - ax[e]), ay[e] + t * (by[e] - ay[e])])
        self.half_m = float(np.max(length / pieces / 2.0)) if len(length) else 0.0
        # the proof's margin: half_m plus rounding of the midpoints and distances
        self._slack = self.half_m * (1.0 + 1e-9) + 1e-9
        self.tree = cKDTree(mid)
        self.ax, self.ay = ax, ay
        self.dx, self.dy = bx - ax, by - ay
        self.len2 = self.dx**2 + self.dy**2
        with np.errstate(divide="ignore"):
            self._inv_len2 = np.where(self.len2 > 0, 1.0 / self.len2, 0.0)

    def project(self, xy: FloatArray, edges: IntArray) -> tuple[FloatArray, FloatArray]:
        """Fraction along and distance to ``edges`` of points ``xy``.

        Parameters
        ----------
        xy
            ``(..., 2)`` coordinates.
        edges
            Segments, broadcastable with ``xy[..., 0]``.

        Returns
        -------
        tuple of numpy.ndarray
            Fraction of the nearest point along each segment (0 at ``u``) and
            the distance to it.
        """
        dx, dy, len2 = self.dx[edges], self.dy[edges], self.len2[edges]
        px = xy[..., 0] - self.ax[edges]
        py = xy[..., 1] - self.ay[edges]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, (px * dx + py * dy) / len2, 0.0)
        np.clip(t, 0.0, 1.0, out=t)
        qx, qy = px - t * dx, py - t * dy
        return t, np.sqrt(qx * qx + qy * qy)

    def _nearest(self, xy: FloatArray, pieces: IntArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest of the segments of ``pieces`` (``(n, k)``) to each of the ``n`` points."""
        cand = self.piece_edge[pieces]
        dx, dy = self.dx[cand], self.dy[cand]
        px = xy[:, 0:1] - self.ax[cand]
        py = xy[:, 1:2] - self.ay[cand]
        t = px * dx
        t += py * dy
        t *= self._inv_len2[cand]  # 0 for zero-length segments: t = 0
        np.clip(t, 0.0, 1.0, out=t)
        dx *= t
        dy *= t
        px -= dx
        py -= dy
        px *= px
        py *= py
        px += py  # squared distance
        best = np.argmin(px, axis=1)[:, None]
        edge = np.take_along_axis(cand, best, axis=1)[:, 0]
        frac = np.take_along_axis(t, best, axis=1)[:, 0]
        return edge, frac, np.sqrt(np.take_along_axis(px, best, axis=1)[:, 0])

    def _query_chunk(self, xy: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """:meth:`query` for one chunk, on one thread (see the class docstring)."""
        n = len(xy)
        k = min(_SNAP_NEIGHBOURS, self.tree.n)
        r, idx = self.tree.query(xy, k=k)
        edge, frac, dist = self._nearest(xy, np.asarray(idx).reshape(n, k))
        if k == self.tree.n:  # every piece was a candidate
            return edge, frac, dist
        unsure = np.nonzero(np.asarray(r).reshape(n, k)[:, -1] - self._slack < dist)[0]
        more = min(_SNAP_MORE, self.tree.n)
        if len(unsure):
            r, idx = self.tree.query(xy[unsure], k=more)
            e, f, d = self._nearest(xy[unsure], np.asarray(idx).reshape(len(unsure), more))
            better = d < dist[unsure]
            nearer = unsure[better]
            edge[nearer], frac[nearer], dist[nearer] = e[better], f[better], d[better]
            if more == self.tree.n:
                return edge, frac, dist
            last = np.asarray(r).reshape(len(unsure), more)[:, -1]
            unsure = unsure[last - self._slack < dist[unsure]]
        if len(unsure):  # every piece that could hold a nearer segment
            found = self.tree.query_ball_point(
                xy[unsure], dist[unsure] + self._slack, return_sorted=False
            )
            sizes = np.fromiter(map(len, found), dtype=np.intp, count=len(found))
            pieces = np.fromiter(chain.from_iterable(found), dtype=np.intp, count=int(sizes.sum()))
            who = np.repeat(unsure, sizes)
            tt, dd = self.project(xy[who], self.piece_edge[pieces])
            order = np.lexsort((dd, who))
            first = order[np.concatenate([[True], who[order][1:] != who[order][:-1]])]
            better = dd[first] < dist[who[first]]
            pick = first[better]
            edge[who[pick]] = self.piece_edge[pieces[pick]]
            frac[who[pick]] = tt[pick]
            dist[who[pick]] = dd[pick]
        return edge, frac, dist

    def query(self, xy: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest segment, fraction along it and distance, for finite points.

        Parameters
        ----------
        xy
            ``(n, 2)`` finite coordinates.

        Returns
        -------
        tuple of numpy.ndarray
            Segment, fraction and distance per point.
        """
        n = len(xy)
        if n == 0 or self.tree.n == 0:
            return np.full(n, -1, dtype=np.intp), np.zeros(n), np.full(n, np.inf)
        order = _spatial_order(xy)
        xy = xy[order]
        threads = min(os.cpu_count() or 1, n // _PARALLEL_FROM)
        if threads > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = list(pool.map(self._query_chunk, np.array_split(xy, 2 * threads)))
            edge, frac, dist = (np.concatenate([p[i] for p in parts]) for i in range(3))
        else:
            edge, frac, dist = self._query_chunk(xy)
        back = np.empty_like(order)
        back[order] = np.arange(n)
        return edge[back], frac[back], dist[back]


def _spatial_order(xy: FloatArray) -> IntArray:
    """Order of points by coarse grid cell (at most 65,536 cells a side), row by row."""
    low = xy.min(axis=0)
    cell = max(_ORDER_CELL_M, float(np.max(xy.max(axis=0) - low)) / 65_535.0)
    c = ((xy - low) / cell).astype(np.int64)
    return np.argsort(c[:, 0] * 65_536 + c[:, 1], kind="stable")


def snap_points(network: StreetNetwork, xy: FloatArray) -> Snapped:
    """Snap points to the nearest point of the nearest street segment.

    Parameters
    ----------
    network
        The street network.
    xy
        ``(n, 2)`` coordinates in ``network.crs``; rows with NaN are missing.

    Returns
    -------
    Snapped
        Segment, fraction along it, snap distance and snapped point per row.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    edge = np.full(n, -1, dtype=np.intp)
    frac = np.zeros(n)
    dist = np.full(n, np.inf)
    ok = np.isfinite(xy).all(axis=1)
    if ok.any():
        e, f, d = network._snap_index.query(xy[ok])
        edge[ok], frac[ok], dist[ok] = e, f, d
    index = network._snap_index
    safe = np.maximum(edge, 0)
    sx = index.ax[safe] + frac * index.dx[safe]
    sy = index.ay[safe] + frac * index.dy[safe]
    sx[~ok] = np.nan
    sy[~ok] = np.nan
    return Snapped(edge=edge, fraction=frac, snap_m=dist, x=sx, y=sy)


def warn_far(
    kind: str,
    far: BoolArray,
    snap_m: FloatArray,
    max_snap_m: float,
    net: StreetNetwork,
    *,
    stacklevel: int = 4,
) -> None:
    """Warn, naming how many and an example, about points farther than ``max_snap_m``."""
    count = int(far.sum())
    if not count:
        return
    i = int(np.nonzero(far)[0][0])
    how = f"{snap_m[i]:,.0f} m away" if math.isfinite(snap_m[i]) else "no geometry"
    warnings.warn(
        f"{count:,} of {len(far):,} {kind} are more than {max_snap_m:,.0f} m from any street of "
        f"the {net.mode} network (e.g. {kind[:-1]} at position {i}, {how}): they are outside "
        "the network's extent or in an area without mapped streets, and are treated as "
        "unreachable. Load a network covering the whole study area, or raise max_snap_m.",
        GeoplanWarning,
        stacklevel=stacklevel,
    )


@dataclass(frozen=True)
class Reach:
    """Where each target can be reached on the network.

    Every row is a stretch ``[start, end]`` (fractions along a segment, from
    ``edge_u`` to ``edge_v``; ``start == end`` for a single point) from which
    the target is ``cost`` away (its off-network leg, in the metric's unit).

    Attributes
    ----------
    target : numpy.ndarray
        Target position (0-based).
    edge : numpy.ndarray
        Segment of the stretch.
    start, end : numpy.ndarray
        Fractions along the segment.
    cost : numpy.ndarray
        Extra cost from the stretch to the target.
    """

    target: IntArray
    edge: IntArray
    start: FloatArray
    end: FloatArray
    cost: FloatArray


def _constant(n: int, *values: float) -> tuple[FloatArray, ...]:
    return tuple(np.full(n, v, dtype=np.float64) for v in values)


def reach_targets(
    net: StreetNetwork,
    geoms: npt.NDArray[np.object_],
    *,
    max_snap_m: float,
    entrance_m: float,
    access: Callable[[FloatArray], FloatArray],
) -> Reach:
    """Where each target joins the network (see :class:`Reach`).

    Parameters
    ----------
    net
        The street network.
    geoms
        Target geometries in ``net.crs`` (missing or empty ones are unreachable).
    max_snap_m
        Point targets (and polygons without a street within ``entrance_m``)
        farther than this from every street are unreachable.
    entrance_m
        Streets within this distance of a polygon or line reach it.
    access
        Cost of an off-network leg of the given metres, in the metric's unit.

    Returns
    -------
    Reach
        One row per stretch.
    """
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = np.full(len(geoms), -1)
    types[valid] = shapely.get_type_id(geoms[valid])
    parts: list[Reach] = []
    points = np.nonzero(types == 0)[0]
    if len(points):
        snapped = snap_points(net, shapely.get_coordinates(geoms[points])[:, :2])
        ok = snapped.snap_m <= max_snap_m
        warn_far("targets", ~ok, snapped.snap_m, max_snap_m, net, stacklevel=5)
        f = snapped.fraction[ok]
        parts.append(Reach(points[ok], snapped.edge[ok], f, f, access(snapped.snap_m[ok])))
    regions = np.nonzero(valid & (types != 0))[0]
    if len(regions):
        parts.extend(
            _region_reach(
                net,
                regions,
                geoms[regions],
                types[regions],
                max_snap_m=max_snap_m,
                entrance_m=entrance_m,
                access=access,
            )
        )
    if not parts:
        empty = np.empty(0)
        return Reach(np.empty(0, np.intp), np.empty(0, np.intp), empty, empty, empty)
    return Reach(*(np.concatenate([getattr(p, k) for p in parts]) for k in Reach.__annotations__))


def _near_zones(net: StreetNetwork, zones: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """(zone, segment) pairs that may intersect: a piece of the segment is near the zone.

    Any point of a segment is within half a snapping piece of that piece's
    midpoint, so a segment touching a zone has a midpoint within the zone's
    bounding circle widened by half a piece.
    """
    index = net._snap_index
    x0, y0, x1, y1 = shapely.bounds(zones).T
    centre = np.column_stack([(x0 + x1) / 2, (y0 + y1) / 2])
    radius = np.hypot(x1 - x0, y1 - y0) / 2 + index.half_m + 1e-6
    found = index.tree.query_ball_point(centre, radius, return_sorted=False)
    sizes = np.fromiter(map(len, found), dtype=np.intp, count=len(found))
    piece = np.fromiter(chain.from_iterable(found), dtype=np.intp, count=int(sizes.sum()))
    n_edges = max(net.n_edges, 1)
    key = np.unique(np.repeat(np.arange(len(zones)), sizes) * n_edges + index.piece_edge[piece])
    return (key // n_edges).astype(np.intp), (key % n_edges).astype(np.intp)


def _region_reach(
    net: StreetNetwork,
    which: IntArray,
    geoms: npt.NDArray[np.object_],
    types: IntArray,
    *,
    max_snap_m: float,
    entrance_m: float,
    access: Callable[[FloatArray], FloatArray],
) -> list[Reach]:
    """Stretches of polygon and line targets (``which`` are their positions)."""
    polygon = (types == 3) | (types == 6)
    radius = np.where(polygon, entrance_m, max(entrance_m, 0.01))
    zones = np.where(radius > 0, shapely.buffer(geoms, radius), geoms)
    shapely.prepare(zones)
    region, edge = _near_zones(net, zones)
    lines = net.lines(edge)
    hit = shapely.intersects(zones[region], lines)
    region, edge, lines = region[hit], edge[hit], lines[hit]
    whole = shapely.covers(zones[region], lines)
    out = [Reach(which[region[whole]], edge[whole], *_constant(int(whole.sum()), 0, 1, 0))]
    region, edge = region[~whole], edge[~whole]  # segments crossing a zone's edge
    pieces = shapely.intersection(lines[~whole], zones[region])
    flat, pair = shapely.get_parts(pieces, return_index=True)
    coords, piece = shapely.get_coordinates(flat, return_index=True)
    t, _ = net._snap_index.project(coords, edge[pair[piece]])
    start = np.full(len(flat), np.inf)
    end = np.full(len(flat), -np.inf)
    np.minimum.at(start, piece, t)
    np.maximum.at(end, piece, t)
    has = np.isfinite(start)
    out.append(
        Reach(
            which[region[pair[has]]],
            edge[pair[has]],
            start[has],
            end[has],
            np.zeros(int(has.sum())),
        )
    )
    reached = np.concatenate([out[0].target, out[1].target])
    missing = np.nonzero(~np.isin(which, reached))[0]
    if len(missing):  # no street within entrance_m: walk from the nearest street
        idx, dist = net.edge_tree.query_nearest(
            geoms[missing], return_distance=True, all_matches=False
        )
        e = idx[1]
        lines = shapely.shortest_line(net.edge_lines[e], geoms[missing][idx[0]])
        on_edge = shapely.get_coordinates(shapely.get_point(lines, 0))
        f, _ = net._snap_index.project(on_edge, e)
        far = np.ones(len(missing), dtype=bool)
        gap = np.full(len(missing), np.inf)
        far[idx[0]] = dist > max_snap_m
        gap[idx[0]] = dist
        warn_far("targets", far, gap, max_snap_m, net, stacklevel=6)
        ok = dist <= max_snap_m
        out.append(Reach(which[missing][idx[0]][ok], e[ok], f[ok], f[ok], access(dist[ok])))
    return out

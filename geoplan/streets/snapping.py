"""Where sites and targets join the street network.

Points join it where it is closest to them: on the nearest point of the
nearest straight segment, not at the nearest node (a site beside the middle
of a 300 m block is a few metres from the street, not 150 m).
:func:`snap_points` answers that for every point at once, exactly, with the
network's compiled segment grid (see :mod:`geoplan.streets._segment_grid`).

Targets join it as *stretches* (:func:`reach_targets`, :class:`Reach`): a
point target at its snapped point, plus its own walk to the street; a polygon
or line target along every piece of street within ``entrance_m`` of it (OSM
landuse polygons stop at the kerb, the street's centre line runs a few metres
outside), or, when no street is that close, at the street point nearest to it
plus the walk across the gap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely

from geoplan._errors import GeoplanWarning, plain

if TYPE_CHECKING:
    from geoplan.streets.network import StreetNetwork

__all__ = ["Reach", "Snapped", "can_travel", "reach_targets", "region_circles", "snap_points"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_CIRCLE_SLACK_M = 1e-6  # margin of region circles against rounding of coordinates


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
    grid = network._segment_grid
    if ok.all():
        edge, frac, dist = grid.nearest(xy)
    elif ok.any():
        edge[ok], frac[ok], dist[ok] = grid.nearest(xy[ok])
    safe = np.maximum(edge, 0)
    sx = grid.ax[safe] + frac * grid.dx[safe]
    sy = grid.ay[safe] + frac * grid.dy[safe]
    sx[~ok] = np.nan
    sy[~ok] = np.nan
    return Snapped(edge=edge, fraction=frac, snap_m=dist, x=sx, y=sy)


def can_travel(
    net: StreetNetwork, edge: IntArray, start: FloatArray | float, end: FloatArray | float
) -> BoolArray:
    """Whether the one-way rules allow travelling along ``edge`` from fraction ``start`` to ``end``.

    Forward (towards ``edge_v``) needs ``edge_forward``, backward needs
    ``edge_backward``; staying put is always allowed, so a point on a
    segment's end node joins that node whatever the segment's direction.
    """
    start, end = np.asarray(start), np.asarray(end)
    allowed = np.where(end > start, net.edge_forward[edge], net.edge_backward[edge])
    return np.asarray((start == end) | allowed, dtype=bool)


def warn_far(
    kind: str,
    far: BoolArray,
    snap_m: FloatArray,
    max_snap_m: float,
    net: StreetNetwork,
    *,
    labels: Sequence[object] | None = None,
    stacklevel: int = 4,
) -> None:
    """Warn, naming how many and an example, about points farther than ``max_snap_m``.

    The example is named by its label in ``labels`` (a site's id), else by its
    number (counted from 1).
    """
    count = int(far.sum())
    if not count:
        return
    i = int(np.nonzero(far)[0][0])
    how = f"{float(snap_m[i]):,.0f} m away" if math.isfinite(snap_m[i]) else "no geometry"
    name = f"{kind[:-1]} {plain(labels[i])!r}" if labels is not None else f"{kind[:-1]} no. {i + 1}"
    warnings.warn(
        f"{count:,} of {len(far):,} {kind} are more than {max_snap_m:,.0f} m from any street of "
        f"the {net.mode} network (e.g. {name}, {how}): they are outside "
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


def region_circles(
    regions: npt.NDArray[np.object_],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Two circles around a centre of each region, to decide most points without GEOS.

    A point nearer the centre than ``r_in`` is inside the region (a large
    inscribed circle, shrunk against rounding of the coordinates); one
    farther than ``r_out`` (the farthest vertex, widened a little) is outside.
    Regions that are not (multi)polygons with an area get ``r_in = -1`` and
    ``r_out = inf``.

    Parameters
    ----------
    regions
        Geometries.

    Returns
    -------
    tuple of numpy.ndarray
        ``x``, ``y``, ``r_in``, ``r_out`` per region.
    """
    n = len(regions)
    x, y, r_in, r_out = np.zeros(n), np.zeros(n), np.full(n, -1.0), np.full(n, np.inf)
    polygon = np.isin(shapely.get_type_id(regions), (3, 6))
    areal = np.nonzero(polygon & (shapely.area(regions) > 0))[0]
    x0, y0, x1, y1 = shapely.bounds(regions[areal]).T
    tolerance = np.maximum(x1 - x0, y1 - y0) / 50  # a good circle, quickly; its radius is exact
    radii = shapely.maximum_inscribed_circle(regions[areal], tolerance)
    centre = shapely.get_coordinates(shapely.get_point(radii, 0))
    x[areal], y[areal] = centre.T
    inner = shapely.length(radii) * (1.0 - 1e-9) - _CIRCLE_SLACK_M
    inside = shapely.contains_xy(
        regions[areal], centre[:, 0], centre[:, 1]
    )  # GEOS's promise, checked
    r_in[areal] = np.where((inner > 0) & inside, inner, -1.0)
    vertex, owner = shapely.get_coordinates(regions[areal], return_index=True)
    far = np.zeros(len(areal))
    np.maximum.at(far, owner, np.hypot(*(vertex - centre[owner]).T))
    r_out[areal] = far * (1.0 + 1e-9) + _CIRCLE_SLACK_M
    return x, y, r_in, r_out


def _near_zones(net: StreetNetwork, zones: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """(zone, segment) pairs that may intersect: the segment passes a grid cell the zone's box touches."""
    return net._segment_grid.in_boxes(shapely.bounds(zones))


def _ring_edges(
    zones: npt.NDArray[np.object_],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Edges ``x0, y0 -> x1, y1`` of the rings of polygonal zones, zone by zone
    (zone ``z``'s are ``start[z]:start[z + 1]``)."""
    parts, owner = shapely.get_parts(zones, return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    rings, ring_part = shapely.get_rings(parts[polygons], return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = np.nonzero(ring[1:] == ring[:-1])[0]  # consecutive vertices of one ring
    zone = owner[polygons][ring_part[ring[same]]]
    start = np.searchsorted(zone, np.arange(len(zones) + 1))
    return xy[same, 0], xy[same, 1], xy[same + 1, 0], xy[same + 1, 1], start


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
    # segments within a zone's inner circle are inside it, beyond its outer circle outside
    grid = net._segment_grid
    cx, cy, r_in, r_out = (c[region] for c in region_circles(zones))
    ax, ay = grid.ax[edge] - cx, grid.ay[edge] - cy
    bx, by = ax + grid.dx[edge], ay + grid.dy[edge]
    inside = (np.hypot(ax, ay) <= r_in) & (np.hypot(bx, by) <= r_in)
    _, gap = grid.project(np.column_stack([cx, cy]), edge)
    unsure = np.nonzero(~inside & (gap <= r_out))[0]
    whole = np.nonzero(inside)[0]
    out = [Reach(which[region[whole]], edge[whole], *_constant(len(whole), 0, 1, 0))]
    seg = edge[unsure]
    from geoplan.streets._regions import segment_stretches  # compiled: loaded on first use

    piece, start, end = segment_stretches(
        grid.ax[seg], grid.ay[seg], grid.ax[seg] + grid.dx[seg], grid.ay[seg] + grid.dy[seg],
        region[unsure], *_ring_edges(zones),
    )  # fmt: skip
    piece = unsure[piece]
    out.append(Reach(which[region[piece]], edge[piece], start, end, np.zeros(len(piece))))
    reached = np.concatenate([out[0].target, out[1].target])
    missing = np.nonzero(~np.isin(which, reached))[0]
    if len(missing):  # no street within entrance_m: walk from the nearest street
        idx, dist = net.edge_tree.query_nearest(
            geoms[missing], return_distance=True, all_matches=False
        )
        e = idx[1]
        lines = shapely.shortest_line(net.edge_lines[e], geoms[missing][idx[0]])
        on_edge = shapely.get_coordinates(shapely.get_point(lines, 0))
        f, _ = net._segment_grid.project(on_edge, e)
        far = np.ones(len(missing), dtype=bool)
        gap = np.full(len(missing), np.inf)
        far[idx[0]] = dist > max_snap_m
        gap[idx[0]] = dist
        warn_far("targets", far, gap, max_snap_m, net, stacklevel=6)
        ok = dist <= max_snap_m
        out.append(Reach(which[missing][idx[0]][ok], e[ok], f[ok], f[ok], access(dist[ok])))
    return out

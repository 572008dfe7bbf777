"""Isochrones: the area reachable along streets within given minutes (or metres).

Method: each point is snapped to its nearest street segment (as sites are,
its off-network leg counting at walking speed, or at its length when
measuring metres) and one bounded Dijkstra search runs from it over the
network's travel minutes (or segment lengths).  For every band
the reachable *street pieces* are collected exactly -- whole segments whose
far end is reached in time, and the partial pieces a traveller gets along
before the time runs out, from either end and from the point's own segment
-- and the polygon is the union of those pieces (a node reached exactly at the
limit is a piece of length 0), each widened by ``buffer_m`` on every side
(the frontage along reachable streets).  Bands are nested: the 10-minute area
contains the 5-minute one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geoplan._errors import GeoplanWarning, NetworkError
from geoplan.streets.snapping import can_travel, snap_points

if TYPE_CHECKING:
    from geoplan.streets.network import StreetNetwork

__all__ = ["isochrones", "reachable_pieces", "travel_cost_from", "travel_minutes_from"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _points_xy(network: StreetNetwork, points: gpd.GeoSeries | gpd.GeoDataFrame) -> FloatArray:
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is not None and not network.crs.equals(geoms.crs):
        geoms = geoms.to_crs(network.crs)
    values = np.asarray(geoms.values, dtype=object)
    bad = shapely.is_missing(values) | shapely.is_empty(values)
    xy = np.full((len(values), 2), np.nan)
    if (~bad).any():
        xy[~bad] = shapely.get_coordinates(shapely.point_on_surface(values[~bad]))[:, :2]
    return xy


def travel_cost_from(
    network: StreetNetwork,
    xy: FloatArray,
    *,
    unit: str = "min",
    limit: float = np.inf,
    access_speed_kmh: float | None = None,
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Travel minutes (or metres) from points to every node, along the streets.

    Parameters
    ----------
    network
        The street network.
    xy
        ``(k, 2)`` point coordinates in ``network.crs``.
    unit
        ``"min"`` (travel minutes; the off-network leg at ``access_speed_kmh``)
        or ``"m"`` (metres along the streets; the off-network leg at its length).
    limit
        Stop searching beyond this cost (nodes farther are ``inf``).
    access_speed_kmh
        Speed of the off-network leg in minutes; default the network's walking speed.

    Returns
    -------
    tuple of numpy.ndarray
        ``cost`` ``(k, n_nodes)`` from each point (including its off-network
        leg), and each point's segment, fraction along it and off-network cost.
    """
    if unit not in ("m", "min"):
        raise NetworkError(f"unit must be 'm' or 'min', got {unit!r}.")
    speed = network.access_speed_kmh if access_speed_kmh is None else access_speed_kmh
    snapped = snap_points(network, xy)
    access = snapped.snap_m if unit == "m" else snapped.snap_m / (speed * 1000.0 / 60.0)
    k, n = len(xy), network.n_nodes
    e = np.maximum(snapped.edge, 0)
    ok = np.isfinite(access)
    w = network.edge_weight(unit)[e]
    w_back = network.edge_weight(unit, backward=True)[e]
    fwd = can_travel(network, e, snapped.fraction, 1.0) & ok
    bwd = can_travel(network, e, snapped.fraction, 0.0) & ok
    rows = np.concatenate([np.nonzero(fwd)[0], np.nonzero(bwd)[0]])
    cols = np.concatenate([network.edge_v[e][fwd], network.edge_u[e][bwd]])
    cost = np.concatenate(
        [((1.0 - snapped.fraction) * w + access)[fwd], (snapped.fraction * w_back + access)[bwd]]
    )
    order = np.argsort(rows, kind="stable")
    base = network.graph(unit)
    indptr = np.concatenate(
        [base.indptr, base.indptr[-1] + np.cumsum(np.bincount(rows, minlength=k))]
    )
    graph = sparse.csr_array(
        (
            np.concatenate([base.data, cost[order]]),
            np.concatenate([base.indices, cols[order]]),
            indptr,
        ),
        shape=(n + k, n + k),
    )
    found = csgraph.dijkstra(graph, directed=True, indices=n + np.arange(k), limit=limit)
    return np.asarray(found[:, :n]).reshape(k, n), snapped.edge, snapped.fraction, access


def travel_minutes_from(
    network: StreetNetwork,
    xy: FloatArray,
    *,
    limit_minutes: float = np.inf,
    access_speed_kmh: float | None = None,
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Travel minutes from points to every node: :func:`travel_cost_from` in minutes."""
    return travel_cost_from(
        network, xy, unit="min", limit=limit_minutes, access_speed_kmh=access_speed_kmh
    )


def reachable_pieces(
    network: StreetNetwork,
    node_minutes: FloatArray,
    budget: float,
    *,
    edge: int = -1,
    fraction: float = 0.0,
    access_minutes: float = np.inf,
    unit: str = "min",
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Street pieces reachable within ``budget`` minutes (or metres).

    Parameters
    ----------
    network
        The street network.
    node_minutes
        Cost from the start to every node (:func:`travel_cost_from` in ``unit``).
    budget
        Minutes (or metres) available.
    edge, fraction, access_minutes
        The start's own segment, position on it and off-network cost,
        so the pieces along its own segment are included.
    unit
        ``"min"`` or ``"m"``: the unit of ``node_minutes`` and ``budget``.

    Returns
    -------
    tuple of numpy.ndarray
        Segment, start and end fraction of every reachable piece (pieces of
        the same segment may overlap).
    """
    net = network
    w, w_back = net.edge_weight(unit), net.edge_weight(unit, backward=True)
    du, dv = node_minutes[net.edge_u], node_minutes[net.edge_v]
    with np.errstate(invalid="ignore", divide="ignore"):
        from_u = np.where(net.edge_forward & (du <= budget), (budget - du) / w, -1.0)
        from_v = np.where(net.edge_backward & (dv <= budget), (budget - dv) / w_back, -1.0)
    from_u = np.where(np.isnan(from_u), 1.0, np.minimum(from_u, 1.0))
    from_v = np.where(np.isnan(from_v), 1.0, np.minimum(from_v, 1.0))
    full = (from_u >= 0) & (from_v >= 0) & (from_u + from_v >= 1.0)
    full |= from_u >= 1.0
    full |= from_v >= 1.0
    part_u = ~full & (from_u >= 0)
    part_v = ~full & (from_v >= 0)
    edges = [np.nonzero(full)[0], np.nonzero(part_u)[0], np.nonzero(part_v)[0]]
    starts = [np.zeros(len(edges[0])), np.zeros(len(edges[1])), 1.0 - from_v[part_v]]
    ends = [np.ones(len(edges[0])), from_u[part_u], np.ones(len(edges[2]))]
    left = budget - access_minutes
    if edge >= 0 and left >= 0:
        ahead = 1.0 if w[edge] == 0 else left / w[edge]
        back = 1.0 if w_back[edge] == 0 else left / w_back[edge]
        lo = max(0.0, fraction - back) if net.edge_backward[edge] else fraction
        hi = min(1.0, fraction + ahead) if net.edge_forward[edge] else fraction
        edges.append(np.array([edge]))
        starts.append(np.array([lo]))
        ends.append(np.array([hi]))
    return (
        np.concatenate(edges).astype(np.intp),
        np.concatenate(starts),
        np.concatenate(ends),
    )


def isochrones(
    network: StreetNetwork,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (5, 10, 15),
    distances_m: Sequence[float] | None = None,
    buffer_m: float = 50.0,
    access_speed_kmh: float | None = None,
) -> gpd.GeoDataFrame:
    """Polygons of the area reachable from each point within each time (or distance) band.

    Parameters
    ----------
    network
        The street network; its travel minutes are used (walking network ->
        walking isochrones).
    points
        Start points (a CRS should be set; none means ``network.crs``).
    minutes
        Time bands.
    distances_m
        Distance bands in metres along the streets instead of ``minutes``
        (GB 50180 life circles: 300, 500 and 1,000 m; station areas: 500 and
        800 m); the off-network leg counts at its length.
    buffer_m
        Width added on each side of reachable streets (frontage).
    access_speed_kmh
        Speed from a point to its street; default the network's walking speed.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point and band, in EPSG:4326: ``point`` (the point's
        index label), ``minutes`` (or ``distance_m``), ``area_km2`` and
        ``geometry`` (empty when the point is more than the band from any street).
    """
    unit, column, given = (
        ("min", "minutes", minutes) if distances_m is None else ("m", "distance_m", distances_m)
    )
    bands = sorted(float(m) for m in given)
    if not bands or not bands[0] > 0 or not np.isfinite(bands[-1]):
        example = "minutes=(5, 10, 15)" if unit == "min" else "distances_m=(300, 500, 1000)"
        raise NetworkError(
            f"Isochrone {column} must be positive numbers, got {list(given)!r}: e.g. {example}."
        )
    if not buffer_m > 0:
        raise NetworkError(f"buffer_m must be positive metres, got {buffer_m!r}.")
    xy = _points_xy(network, points)
    node_cost, edge, fraction, access = travel_cost_from(
        network, xy, unit=unit, limit=bands[-1], access_speed_kmh=access_speed_kmh
    )
    labels: list[object] = []
    band_col: list[float] = []
    geoms: list[shapely.Geometry] = []
    unreachable = 0
    for i, label in enumerate(points.index):
        for band in bands:
            piece_edge, start, end = reachable_pieces(
                network,
                node_cost[i],
                band,
                edge=int(edge[i]),
                fraction=float(fraction[i]),
                access_minutes=float(access[i]),
                unit=unit,
            )
            geoms.append(_piece_polygon(network, piece_edge, start, end, buffer_m))
            labels.append(label)
            band_col.append(band)
        unreachable += int(geoms[-1].is_empty)
    if unreachable:
        widest = f"{bands[-1]:g} {'minutes' if unit == 'min' else 'm'}"
        warnings.warn(
            f"{unreachable:,} of {len(points):,} isochrone points reach no street within "
            f"{widest} (they are too far from the {network.mode} network): "
            "their polygons are empty. Check the points' CRS and the network's extent.",
            GeoplanWarning,
            stacklevel=2,
        )
    out = gpd.GeoDataFrame(
        {"point": labels, column: band_col},
        geometry=gpd.GeoSeries(geoms, crs=network.crs),
    )
    out["area_km2"] = out.geometry.area / 1e6
    return out.to_crs(4326)[["point", column, "area_km2", "geometry"]]


def _piece_polygon(
    network: StreetNetwork,
    edge: IntArray,
    start: FloatArray,
    end: FloatArray,
    buffer_m: float,
) -> shapely.Geometry:
    """Union of the pieces widened by ``buffer_m`` (a zero-length piece is a reached node).

    Each piece is buffered on its own and the buffers are unioned: GEOS is far
    faster at that than at buffering one MultiLineString of thousands of parts.
    """
    if not len(edge):
        return shapely.Polygon()
    ax, ay = network.x[network.edge_u[edge]], network.y[network.edge_u[edge]]
    dx = network.x[network.edge_v[edge]] - ax
    dy = network.y[network.edge_v[edge]] - ay
    coords = np.stack(
        [
            np.column_stack([ax + start * dx, ay + start * dy]),
            np.column_stack([ax + end * dx, ay + end * dy]),
        ],
        axis=1,
    )
    return shapely.union_all(shapely.buffer(shapely.linestrings(coords), buffer_m, quad_segs=4))

"""Transit isochrones: the area reachable within N minutes by walk + metro.

For each start point and time band: the area a walk reaches (as
:func:`geoplan.streets.isochrones` draws it), united with, for every station
where a metro trip from the point can end within the band, the area a walk
from that station reaches in the minutes left.  Trips into the metro are the
:class:`~geoplan.transit.metric.TransitMetric`'s: the walk to a boarding
station, then its station-to-station table (waits, rides, transfers).

Along streets the reachable street pieces are collected exactly (whole
segments and partial ones, from the point and from each station) and widened
by ``buffer_m``; without a street network a walk reaches a circle of radius
``minutes x speed / walk_detour``.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from geoplan._errors import TransitError
from geoplan.streets.isochrone import _piece_polygon, reachable_pieces, travel_minutes_from
from geoplan.transit.metric import TransitMetric, _StraightWalk
from geoplan.transit.service import FloatArray

__all__ = ["transit_isochrones"]


def _bands(minutes: Sequence[float]) -> list[float]:
    bands = sorted(float(m) for m in minutes)
    if not bands or not all(np.isfinite(bands)) or bands[0] <= 0:
        raise TransitError(
            f"Isochrone minutes must be positive numbers, got {list(minutes)!r}: e.g. "
            "minutes=(15, 30, 45)."
        )
    return bands


def transit_isochrones(
    metric: TransitMetric,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (15, 30, 45),
    buffer_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """Polygons of the area reachable from each point by walk + metro within each band.

    Parameters
    ----------
    metric
        The walk + metro metric (its lines, waits, transfers and walks).
    points
        Start points (a projected CRS, or any CRS with a street network).
    minutes
        Time bands.
    buffer_m
        Width added on each side of reachable streets (with a street network).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point and band, in EPSG:4326: ``point`` (the point's index
        label), ``minutes``, ``mode`` (``"walk + metro"``), ``area_km2`` and
        ``geometry``.
    """
    bands = _bands(minutes)
    if not buffer_m > 0:
        raise TransitError(f"buffer_m must be positive metres, got {buffer_m!r}.")
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    crs = metric._crs(geoms)
    start = metric._points(geoms, crs)
    stations, which = metric._station_set(crs)
    access = metric.walk.within(start, stations, bands[-1])  # walks to boarding stations
    walk_in = np.full((len(start), metric.graph.n_stations), np.inf)
    walk_in[access.site, which[access.target]] = access.distance
    arrive = (walk_in[:, :, None] + metric.graph.cost[None, :, :]).min(axis=1)  # (points, exits)
    if isinstance(metric.walk, _StraightWalk):
        shapes = _circles(metric.walk, start, stations, which, arrive, bands)
    else:
        shapes = _street_areas(metric, start, stations, which, arrive, bands, buffer_m)
    out = gpd.GeoDataFrame(
        {
            "point": np.repeat(np.asarray(geoms.index, dtype=object), len(bands)),
            "minutes": np.tile(bands, len(start)),
            "mode": "walk + metro",
        },
        geometry=gpd.GeoSeries(shapes, crs=crs),
    )
    out["area_km2"] = out.geometry.area / 1e6
    return out.to_crs(4326)[["point", "minutes", "mode", "area_km2", "geometry"]]


def _circles(
    walk: _StraightWalk,
    start: gpd.GeoSeries,
    stations: gpd.GeoSeries,
    which: np.ndarray,
    arrive: FloatArray,
    bands: list[float],
) -> list[shapely.Geometry]:
    metres_per_minute = 1.0 / walk.per_metre
    xy = np.asarray(shapely.get_coordinates(stations.values))
    shapes = []
    for i, point in enumerate(start.values):
        for band in bands:
            left = band - arrive[i, which]
            reached = np.flatnonzero(left > 0)
            circles = [shapely.buffer(point, band * metres_per_minute, quad_segs=16)]
            circles += list(
                shapely.buffer(
                    shapely.points(xy[reached]), left[reached] * metres_per_minute, quad_segs=16
                )
            )
            shapes.append(shapely.union_all(circles))
    return shapes


def _street_areas(
    metric: TransitMetric,
    start: gpd.GeoSeries,
    stations: gpd.GeoSeries,
    which: np.ndarray,
    arrive: FloatArray,
    bands: list[float],
    buffer_m: float,
) -> list[shapely.Geometry]:
    net = metric.network
    assert net is not None
    limit = bands[-1]
    own = travel_minutes_from(net, shapely.get_coordinates(start.values), limit_minutes=limit)
    onward = travel_minutes_from(net, shapely.get_coordinates(stations.values), limit_minutes=limit)
    shapes = []
    for i in range(len(start)):
        for band in bands:
            pieces = [reachable_pieces(net, own[0][i], band, edge=int(own[1][i]),
                                       fraction=float(own[2][i]), access_minutes=float(own[3][i]))]  # fmt: skip
            for k in np.flatnonzero(arrive[i, which] < band):
                extra = float(arrive[i, which[k]])
                pieces.append(
                    reachable_pieces(net, onward[0][k] + extra, band, edge=int(onward[1][k]),
                                     fraction=float(onward[2][k]), access_minutes=float(onward[3][k]) + extra)
                )  # fmt: skip
            edge, lo, hi = (np.concatenate(part) for part in zip(*pieces, strict=True))
            shapes.append(_piece_polygon(net, edge, lo, hi, buffer_m))
    return shapes

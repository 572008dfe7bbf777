"""Distance engines: how far each site is from the features of a layer.

Criteria never measure distance themselves; they ask a *distance metric* for
two things, both vectorised over all sites and targets at once:

* :meth:`DistanceMetric.nearest` -- the nearest target of every site and the
  distance to it;
* :meth:`DistanceMetric.within` -- every (site, target) pair closer than a
  cutoff, with its distance.

:class:`StraightLine` measures straight-line metres in the study's metric CRS
(a KD-tree for point targets, an STR-tree for lines and polygons, which are
reached at their boundary and are at distance 0 from sites inside them).  The
street-network engine in :mod:`geoplan.streets.network` implements the same protocol
in metres or minutes, so a criterion switches from straight-line to network
distance by changing only its metric.

All geometries passed to a metric are already in the study's metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

__all__ = ["DistanceMetric", "Nearest", "Pairs", "StraightLine", "point_coords"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Nearest:
    """Nearest target of every site.

    Attributes
    ----------
    distance : numpy.ndarray
        Distance of each site to its nearest target, in the metric's unit;
        ``inf`` where no target can be reached.
    target : numpy.ndarray
        Position (0-based, into the targets) of that target; ``-1`` where no
        target can be reached.
    """

    distance: FloatArray
    target: IntArray


@dataclass(frozen=True)
class Pairs:
    """Every (site, target) pair within a cutoff, as three aligned arrays.

    Attributes
    ----------
    site, target : numpy.ndarray
        Positions (0-based) into the sites and the targets.
    distance : numpy.ndarray
        Distance of each pair in the metric's unit (``<= cutoff``).
    """

    site: IntArray
    target: IntArray
    distance: FloatArray


@runtime_checkable
class DistanceMetric(Protocol):
    """What a distance engine provides to the criteria."""

    @property
    def unit(self) -> str:
        """Unit of every distance returned: ``"m"`` or ``"min"``."""
        ...

    @property
    def label(self) -> str:
        """Human-readable description, e.g. ``"straight-line distance"``."""
        ...

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        """Nearest target of every site."""
        ...

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        """All (site, target) pairs whose distance is at most ``cutoff``."""
        ...


def point_coords(geoms: gpd.GeoSeries) -> FloatArray:
    """Return an ``(n, 2)`` array of x, y for a series of points.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Point geometries.

    Returns
    -------
    numpy.ndarray
        Coordinates, one row per point.
    """
    return np.asarray(shapely.get_coordinates(geoms.values), dtype=np.float64).reshape(-1, 2)


def _all_points(geoms: gpd.GeoSeries) -> bool:
    types = shapely.get_type_id(geoms.values)
    return bool(len(types)) and bool(np.all(types == 0))


class StraightLine:
    """Straight-line (Euclidean) distance in metres in a projected CRS.

    Point targets use a KD-tree; lines and polygons use an STR-tree and are
    measured to their nearest edge (a site inside a polygon is at distance 0).
    """

    unit = "m"
    label = "straight-line distance"

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        """Nearest target of every site (see :class:`DistanceMetric`)."""
        n = len(sites)
        if len(targets) == 0 or n == 0:
            return Nearest(np.full(n, np.inf), np.full(n, -1, dtype=np.intp))
        if _all_points(targets):
            tree = cKDTree(point_coords(targets))
            dist, idx = tree.query(point_coords(sites), k=1)
            return Nearest(np.asarray(dist, dtype=np.float64), np.asarray(idx, dtype=np.intp))
        strtree = shapely.STRtree(targets.values)
        pairs, dist = strtree.query_nearest(sites.values, return_distance=True, all_matches=False)
        distance = np.full(n, np.inf)
        target = np.full(n, -1, dtype=np.intp)
        distance[pairs[0]] = dist
        target[pairs[0]] = pairs[1]
        return Nearest(distance, target)

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        """All pairs within ``cutoff`` metres (see :class:`DistanceMetric`)."""
        if len(targets) == 0 or len(sites) == 0:
            empty = np.empty(0, dtype=np.intp)
            return Pairs(empty, empty.copy(), np.empty(0))
        if _all_points(targets):
            site_tree = cKDTree(point_coords(sites))
            target_tree = cKDTree(point_coords(targets))
            found = site_tree.sparse_distance_matrix(target_tree, cutoff, output_type="ndarray")
            return Pairs(
                found["i"].astype(np.intp),
                found["j"].astype(np.intp),
                found["v"].astype(np.float64),
            )
        strtree = shapely.STRtree(targets.values)
        idx = strtree.query(sites.values, predicate="dwithin", distance=cutoff)
        dist = shapely.distance(sites.values[idx[0]], targets.values[idx[1]])
        return Pairs(idx[0].astype(np.intp), idx[1].astype(np.intp), dist.astype(np.float64))

"""Network distances and travel times for the criteria: :class:`NetworkMetric`.

:class:`NetworkMetric` implements :class:`geoplan.measure.distance.DistanceMetric` on
a :class:`~geoplan.streets.network.StreetNetwork`, in metres or minutes:

* **Sites** are snapped to the nearest point of the nearest street segment;
  the off-network leg (site to street) counts at walking speed, or as its
  length in metres.  Sites farther than ``max_snap_m`` from every street are
  unreachable (``inf`` / ``-1``) and reported with a warning.
* **Targets** become *stretches* of segments where they can be reached
  (:class:`~geoplan.streets.snapping.Reach`): a point target is the single snapped point plus its own
  off-network leg; a polygon (or line) target is every piece of street within
  ``entrance_m`` of it -- OSM landuse polygons stop at the kerb while the
  street's centre line runs a few metres outside -- reached at no extra cost;
  a polygon with no street that close is reached from its nearest street
  point, plus the walk across the gap.  A site inside a polygon target is at
  distance 0 from it.
* **Nearest**: one multi-source Dijkstra per target layer
  (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True``) on the reversed
  graph (so one-way streets are travelled site -> target), from one virtual
  node per target whose arcs reach the ends of its stretches' segments with
  the exact partial costs.  A site's cost is then the cheaper of its
  segment's two ends plus the partial segment and its off-network leg, or the
  direct way along its own segment when a target stretch lies on it.
* **Within**: the same virtual nodes, each searched by a compiled Dijkstra
  that stops at the cutoff and touches only the nodes it reaches
  (:func:`geoplan.streets._kernels.bounded_searches`): bounded searches from the
  targets, never one search per site.

A partial segment costs its fraction (measured in the projected CRS) of the
segment's great-circle length or minutes; off-network legs are straight
metres in the network's CRS.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geoplan._errors import NetworkError
from geoplan.measure.distance import Nearest, Pairs
from geoplan.streets.snapping import (
    Reach,
    can_travel,
    reach_targets,
    region_circles,
    snap_points,
    warn_far,
)

if TYPE_CHECKING:
    from geoplan.streets.network import StreetNetwork

__all__ = ["UNITS", "NetworkMetric", "Reach"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

UNITS = ("m", "min")
"""Units of a :class:`NetworkMetric`: metres or minutes."""

_MODE_WORDS = {"walk": "walking", "bike": "cycling", "ebike": "e-bike", "drive": "driving"}
_DENSE_BUDGET = 1 << 22  # float64 entries of one chunk of bounded searches (32 MiB)
_DENSE_SHARE = 0.05  # above this share of nodes reached, join sites to searches densely


@dataclass(frozen=True)
class _Sites:
    edge: IntArray
    fraction: FloatArray
    snap_m: FloatArray
    snap_x: FloatArray
    snap_y: FloatArray
    access: FloatArray  # off-network leg, in the metric's unit
    ok: BoolArray
    xy: FloatArray


@dataclass(frozen=True)
class _Targets:
    geoms: npt.NDArray[np.object_]
    reach: Reach

    @cached_property
    def regions(self) -> tuple[IntArray, FloatArray, FloatArray] | None:
        """Polygon and line targets: positions, bounding boxes, circles.

        Circles are ``x, y, r_in**2, r_out**2`` (see
        :func:`~geoplan.streets.snapping.region_circles`; ``r_in**2 = -1`` where there
        is no inner circle).
        """
        geoms = self.geoms
        which = np.nonzero((shapely.get_type_id(geoms) > 0) & ~shapely.is_empty(geoms))[0]
        if not len(which):
            return None
        regions = geoms[which]
        circles = np.column_stack(region_circles(regions))
        circles[:, 2:] = np.where(circles[:, 2:] >= 0, circles[:, 2:] ** 2, circles[:, 2:])
        return which, shapely.bounds(regions), circles


@dataclass(frozen=True)
class _SiteCache:
    ids: npt.NDArray[np.uintp]  # which geometry objects, in which order
    objects: npt.NDArray[np.object_]
    crs: object
    sites: _Sites  # with the coordinates in the network's CRS


@functools.lru_cache(maxsize=16)
def _transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    """A transformer from ``source`` to ``target`` in x, y (longitude, latitude) order."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _geometries(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    return geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms


def _object_ids(objects: npt.NDArray[np.object_]) -> npt.NDArray[np.uintp]:
    """Addresses of the objects of an object array: which objects, in which order.

    Shapely geometries are immutable, so the same objects in the same order
    have the same coordinates (as long as they are alive: a cached copy of
    the array keeps them so).
    """
    objects = np.ascontiguousarray(objects)
    if not len(objects):
        return np.empty(0, np.uintp)
    pointers = (ctypes.c_size_t * len(objects)).from_address(objects.ctypes.data)
    return np.frombuffer(memoryview(pointers), dtype=np.uintp).copy()


def _ranks(count: IntArray) -> IntArray:
    """0, 1, ..., count[i] - 1 for every i, concatenated."""
    total = int(count.sum())
    return np.arange(total) - np.repeat(np.cumsum(count) - count, count)


class NetworkMetric:
    """Distances or travel times along a street network.

    Parameters
    ----------
    network
        The street network (see :func:`geoplan.streets.network.load_network`).
    unit
        ``"m"`` for metres along streets or ``"min"`` for travel minutes.
    max_snap_m
        Sites (and point targets) farther than this from every street are
        unreachable.
    access_speed_kmh
        Speed of the off-network legs in minutes; default the network's
        walking speed (4.8 km/h unless configured).
    entrance_m
        Streets within this distance of a polygon or line target reach it.
    """

    def __init__(
        self,
        network: StreetNetwork,
        *,
        unit: str = "m",
        max_snap_m: float = 500.0,
        access_speed_kmh: float | None = None,
        entrance_m: float = 25.0,
    ) -> None:
        if unit not in UNITS:
            raise NetworkError(
                f"Unknown network unit {unit!r}: use 'm' (metres along streets) or 'min' "
                "(travel minutes)."
            )
        speed = network.access_speed_kmh if access_speed_kmh is None else access_speed_kmh
        for name, value in (("max_snap_m", max_snap_m), ("access_speed_kmh", speed)):
            if not (value > 0):
                raise NetworkError(f"{name} must be a positive number, got {value!r}.")
        if not (entrance_m >= 0 and math.isfinite(entrance_m)):
            raise NetworkError(f"entrance_m must be 0 or more metres, got {entrance_m!r}.")
        self.network = network
        self._unit = unit
        self.max_snap_m = float(max_snap_m)
        self.access_speed_kmh = float(speed)
        self.entrance_m = float(entrance_m)
        self._weight = network.edge_weight(unit)  # u -> v
        self._weight_back = network.edge_weight(unit, backward=True)  # v -> u
        self._site_cache: _SiteCache | None = None
        self._ends_cache: tuple[_Sites, tuple[IntArray, FloatArray, IntArray, FloatArray]] | None
        self._ends_cache = None
        self._target_cache: dict[bytes, _Targets] = {}
        self._warned = False

    @property
    def unit(self) -> str:
        """``"m"`` or ``"min"``."""
        return self._unit

    @property
    def label(self) -> str:
        """E.g. ``"walking time along streets"``."""
        what = "distance" if self._unit == "m" else "time"
        return f"{_MODE_WORDS.get(self.network.mode, self.network.mode)} {what} along streets"

    def __repr__(self) -> str:
        return (
            f"NetworkMetric({self.network!r}, unit={self._unit!r}, max_snap_m={self.max_snap_m!r})"
        )

    # ------------------------------------------------------------------ snapping

    def _access(self, snap_m: FloatArray) -> FloatArray:
        if self._unit == "m":
            return snap_m
        return snap_m / (self.access_speed_kmh * 1000.0 / 60.0)

    def _geoms(self, geoms: gpd.GeoSeries) -> npt.NDArray[np.object_]:
        geoms = _geometries(geoms)
        if geoms.crs is not None and not self.network.crs.equals(geoms.crs):
            geoms = geoms.to_crs(self.network.crs)
        return np.asarray(geoms.values, dtype=object)

    def _xy(self, geoms: gpd.GeoSeries) -> FloatArray:
        """x, y of points (a point on the surface of other shapes); NaN if missing."""
        geoms = _geometries(geoms)
        if geoms.crs is not None and not self.network.crs.equals(geoms.crs):
            values = np.asarray(geoms.values, dtype=object).copy()  # (edited below)
            if (shapely.get_type_id(values) <= 0).all():  # points (or missing): project
                # their coordinate arrays, not the geometries (5x quicker at a million)
                values[shapely.is_empty(values)] = None  # empty as missing
                x, y = shapely.get_x(values), shapely.get_y(values)  # NaN if missing
                x, y = _transformer(geoms.crs, self.network.crs).transform(x, y)
                return np.column_stack([x, y])
        values = self._geoms(geoms)
        other = shapely.get_type_id(values) > 0
        empty = shapely.is_empty(values)
        if other.any() or empty.any():
            values = values.copy()
            values[other] = shapely.point_on_surface(values[other])
            values[empty] = None
        return np.column_stack([shapely.get_x(values), shapely.get_y(values)])

    def _sites(self, sites: gpd.GeoSeries, *, warn: bool = True) -> _Sites:
        """Snapped sites (cached for the last set of sites); warn once about far ones."""
        cache = self._site_cache
        objects = np.asarray(_geometries(sites).values, dtype=object)
        ids = _object_ids(objects)
        if cache is None or not (np.array_equal(ids, cache.ids) and sites.crs == cache.crs):
            xy = self._xy(sites)
            if cache is None or not np.array_equal(xy, cache.sites.xy, equal_nan=True):
                snapped = snap_points(self.network, xy)
                result = _Sites(
                    snapped.edge,
                    snapped.fraction,
                    snapped.snap_m,
                    snapped.x,
                    snapped.y,
                    self._access(snapped.snap_m),
                    snapped.snap_m <= self.max_snap_m,
                    xy,
                )
                self._warned = False
            else:
                result = cache.sites
            # the copy keeps the geometries alive, so their addresses stay theirs
            cache = self._site_cache = _SiteCache(ids, objects.copy(), sites.crs, result)
        result = cache.sites
        xy = result.xy
        if warn and len(xy):
            if not result.ok.any():
                self._raise_all_far(xy, result.snap_m)
            if not self._warned:
                warn_far(
                    "sites",
                    ~result.ok,
                    result.snap_m,
                    self.max_snap_m,
                    self.network,
                    labels=sites.index,
                )
                self._warned = True
        return result

    def _raise_all_far(self, xy: FloatArray, snap_m: FloatArray) -> None:
        finite = np.isfinite(xy).all(axis=1)
        sites = (
            f"sites span x {np.nanmin(xy[:, 0]):,.0f}..{np.nanmax(xy[:, 0]):,.0f}, "
            f"y {np.nanmin(xy[:, 1]):,.0f}..{np.nanmax(xy[:, 1]):,.0f}"
            if finite.any()
            else "no site has a geometry"
        )
        x0, y0, x1, y1 = self.network.bounds
        raise NetworkError(
            f"None of the {len(xy):,} sites is within {self.max_snap_m:,.0f} m of a street "
            f"of the network {self.network.source!r} (nearest: {np.min(snap_m):,.0f} m): "
            f"{sites}, the network x {x0:,.0f}..{x1:,.0f}, y {y0:,.0f}..{y1:,.0f} in "
            f"{self.network.crs.to_string()!r}. The sites are outside the network's extent: "
            "load a network covering the study area, check the sites' CRS, or raise max_snap_m."
        )

    def snap(self, sites: gpd.GeoSeries) -> pd.DataFrame:
        """Where every site joins the street network.

        Parameters
        ----------
        sites
            Site points (any CRS with one set; none means the network's).

        Returns
        -------
        pandas.DataFrame
            Indexed like ``sites``: ``edge`` (segment, ``-1`` if missing),
            ``fraction`` along it, ``snap_m`` (distance to the street),
            ``snap_x``/``snap_y`` (snapped point, network CRS),
            ``access_minutes`` (off-network leg at the access speed) and
            ``too_far`` (``snap_m > max_snap_m``: unreachable).
        """
        snapped = self._sites(sites, warn=False)
        return pd.DataFrame(
            {
                "edge": snapped.edge,
                "fraction": snapped.fraction,
                "snap_m": snapped.snap_m,
                "snap_x": snapped.snap_x,
                "snap_y": snapped.snap_y,
                "access_minutes": snapped.snap_m / (self.access_speed_kmh * 1000.0 / 60.0),
                "too_far": ~snapped.ok,
            },
            index=sites.index,
        )

    def reasons(self, sites: gpd.GeoSeries) -> pd.Series:
        """Why sites cannot join the network: ``""`` where they can.

        Parameters
        ----------
        sites
            Site points.

        Returns
        -------
        pandas.Series
            Indexed like ``sites``: e.g. ``"no street within 500 m (nearest
            812 m)"`` or ``"no location"``, to report next to a score of 0.
        """
        snapped = self._sites(sites, warn=False)
        text = np.full(len(sites), "", dtype=object)
        far = np.nonzero(~snapped.ok)[0]
        for i in far:  # only the few unreachable sites
            gap = snapped.snap_m[i]
            text[i] = (
                f"no street within {self.max_snap_m:,.0f} m (nearest {gap:,.0f} m)"
                if np.isfinite(gap)
                else "no location"
            )
        return pd.Series(text, index=sites.index, dtype=object, name="network_reason")

    def reach(self, targets: gpd.GeoSeries) -> Reach:
        """Where each target can be reached on the network (see :class:`Reach`).

        Parameters
        ----------
        targets
            Points, lines or polygons.

        Returns
        -------
        Reach
            One row per stretch; targets without any are unreachable.
        """
        return self._targets(self._geoms(targets)).reach

    def _targets(self, geoms: npt.NDArray[np.object_]) -> _Targets:
        """Targets with their stretches (cached for the last few target layers)."""
        digest = hashlib.blake2b(digest_size=16)
        for wkb in shapely.to_wkb(geoms):
            digest.update(len(wkb or b"").to_bytes(8, "little") + (wkb or b""))
        key = digest.digest()
        if key not in self._target_cache:
            if len(self._target_cache) >= 8:
                self._target_cache.pop(next(iter(self._target_cache)))
            reach = reach_targets(
                self.network,
                geoms,
                max_snap_m=self.max_snap_m,
                entrance_m=self.entrance_m,
                access=self._access,
            )
            self._target_cache[key] = _Targets(geoms, reach)
        return self._target_cache[key]

    # ------------------------------------------------------------------ searches

    def _search_graph(self, reach: Reach, n_targets: int) -> sparse.csr_array:
        """Reversed graph plus one virtual node per target (``n_nodes + target``)."""
        net = self.network
        e = reach.edge
        w, w_back = self._weight[e], self._weight_back[e]
        fwd, bwd = can_travel(net, e, 0.0, reach.start), can_travel(net, e, 1.0, reach.end)
        rows = np.concatenate([reach.target[fwd], reach.target[bwd]])
        cols = np.concatenate([net.edge_u[e][fwd], net.edge_v[e][bwd]])
        cost = np.concatenate(
            [(reach.cost + reach.start * w)[fwd], (reach.cost + (1.0 - reach.end) * w_back)[bwd]]
        )
        order = np.argsort(rows, kind="stable")
        base = net.graph(self._unit, reverse=True)
        counts = np.bincount(rows, minlength=n_targets)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
        size = net.n_nodes + n_targets
        return sparse.csr_array(
            (
                np.concatenate([base.data, cost[order]]),
                np.concatenate([base.indices, cols[order]]),
                indptr,
            ),
            shape=(size, size),
        )

    def _endpoints(self, sites: _Sites) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
        """Cost of leaving every site's segment by either end (``edge_v``, then ``edge_u``).

        The off-network leg is included; the cost is ``inf`` where a one-way
        segment forbids that direction (unless the site is on that end) or the
        site is unreachable.
        """
        if self._ends_cache is not None and self._ends_cache[0] is sites:
            return self._ends_cache[1]
        net = self.network
        e = np.maximum(sites.edge, 0)
        f = sites.fraction
        to_v, to_u = can_travel(net, e, f, 1.0), can_travel(net, e, f, 0.0)
        via_v = np.where(to_v & sites.ok, (1.0 - f) * self._weight[e] + sites.access, np.inf)
        via_u = np.where(to_u & sites.ok, f * self._weight_back[e] + sites.access, np.inf)
        ends = net.edge_v[e], via_v, net.edge_u[e], via_u
        self._ends_cache = (sites, ends)
        return ends

    def _same_edge(self, sites: _Sites, reach: Reach) -> tuple[IntArray, IntArray, FloatArray]:
        """(site, target, cost) for reaching a stretch along the site's own segment."""
        net = self.network
        stretch_start = np.zeros(net.n_edges + 1, dtype=np.int64)
        np.cumsum(np.bincount(reach.edge, minlength=net.n_edges), out=stretch_start[1:])
        from geoplan.streets._kernels import same_edge_pairs  # compiled: loaded on first use

        return same_edge_pairs(
            sites.edge,
            sites.fraction,
            sites.access,
            sites.ok,
            stretch_start,
            np.argsort(reach.edge, kind="stable"),
            reach.start,
            reach.end,
            reach.cost,
            reach.target,
            self._weight,
            self._weight_back,
            net.edge_forward,
            net.edge_backward,
        )

    def _inside(self, sites: _Sites, targets: _Targets) -> tuple[IntArray, IntArray, FloatArray]:
        """(site, target, 0) for sites inside (or on) polygon and line targets, by site.

        Sites in a region's bounding box are inside when they are within its
        inscribed circle and outside beyond its outer circle; GEOS decides the others.
        """
        regions = targets.regions
        if regions is None:
            return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
        which, boxes, circles = regions
        x, y = sites.xy[:, 0], sites.xy[:, 1]
        from geoplan.streets._regions import points_in_regions  # compiled: loaded on first use

        site, region, sure = points_in_regions(x, y, *boxes.T, *circles.T)
        unsure = np.nonzero(~sure)[0]
        if len(unsure):
            geoms = targets.geoms[which]
            shapely.prepare(geoms)
            sure[unsure] = shapely.intersects_xy(
                geoms[region[unsure]], x[site[unsure]], y[site[unsure]]
            )
        return site[sure], which[region[sure]], np.zeros(int(sure.sum()))

    def _extras(
        self, sites: _Sites, targets: _Targets
    ) -> list[tuple[IntArray, IntArray, FloatArray]]:
        """Candidates the graph search does not see, in two parts: targets along
        the site's own segment, and polygons the site is in."""
        return [self._same_edge(sites, targets.reach), self._inside(sites, targets)]

    def nearest(
        self,
        sites: gpd.GeoSeries,
        targets: gpd.GeoSeries,
        *,
        target_cost: npt.ArrayLike | None = None,
    ) -> Nearest:
        """Nearest target of every site along streets (see :class:`DistanceMetric`).

        Parameters
        ----------
        sites
            Site points.
        targets
            Points, lines or polygons.
        target_cost
            Optional extra cost (in :attr:`unit`, 0 or more; ``inf``: not a
            target) of each target, added to every way of reaching it: the
            minutes onward from a metro station, say.  Still one search.

        Returns
        -------
        Nearest
            Cost (in :attr:`unit`) and position of the nearest target;
            ``inf`` / ``-1`` where none can be reached.
        """
        n = len(sites)
        distance = np.full(n, np.inf)
        target = np.full(n, -1, dtype=np.intp)
        if n == 0 or len(targets) == 0:
            return Nearest(distance, target)
        s = self._sites(sites)
        found = self._targets(self._geoms(targets))
        extra = None if target_cost is None else self._target_cost(target_cost, len(targets))
        if extra is not None:
            r = found.reach
            keep = np.isfinite(extra[r.target])
            found = _Targets(
                found.geoms,
                Reach(r.target[keep], r.edge[keep], r.start[keep], r.end[keep],
                      r.cost[keep] + extra[r.target[keep]]),
            )  # fmt: skip
        reach = found.reach
        from geoplan.streets._kernels import cheaper_exit, take_cheapest  # compiled, on first use

        net = self.network
        if len(reach.target):
            graph = self._search_graph(reach, len(targets))
            dist, _, source = csgraph.dijkstra(
                graph,
                directed=True,
                indices=net.n_nodes + np.unique(reach.target),
                min_only=True,
                return_predecessors=True,
            )
            distance, target = cheaper_exit(dist, source, *self._endpoints(s), net.n_nodes)
        for k, (site, tgt, cost) in enumerate(self._extras(s, found)):
            if k == 1 and extra is not None:  # inside a region: no stretch carries the extra
                cost = cost + extra[tgt]
            if len(site):  # the cheapest candidate per site, the lowest target on ties
                distance, target = take_cheapest(distance, target, site, tgt, cost)
        return Nearest(distance, target)

    @staticmethod
    def _target_cost(values: npt.ArrayLike, n_targets: int) -> FloatArray:
        extra = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(extra) != n_targets or np.isnan(extra).any() or (extra < 0).any():
            raise NetworkError(
                f"target_cost must give one cost of 0 or more (or inf) per target: got "
                f"{len(extra):,} values for {n_targets:,} targets"
                f"{', some negative or NaN' if len(extra) == n_targets else ''}."
            )
        return extra

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        """All (site, target) pairs at most ``cutoff`` apart along streets.

        Parameters
        ----------
        sites
            Site points.
        targets
            Points, lines or polygons.
        cutoff
            Largest cost (in :attr:`unit`) of a pair.

        Returns
        -------
        Pairs
            Every pair once, ordered by site then target, with its cost.
        """
        if not (cutoff >= 0):
            raise NetworkError(
                f"The network cutoff must be 0 or more ({self._unit}), got {cutoff!r}."
            )
        empty = Pairs(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0))
        if len(sites) == 0 or len(targets) == 0:
            return empty
        s = self._sites(sites)
        found = self._targets(self._geoms(targets))
        from geoplan.streets._kernels import bounded_searches, dense_pairs  # compiled, on first use

        reach = found.reach
        net = self.network
        graph = self._search_graph(reach, len(targets))
        ends = self._endpoints(s)
        exits: _Exits | None = None
        extras = self._extras(s, found)
        candidates = list(extras)  # (site, target, cost) in any order, pairs may repeat
        active = np.unique(reach.target)
        chunk = max(1, _DENSE_BUDGET // max(graph.shape[0], len(sites)))
        for lo in range(0, len(active), chunk):
            block = active[lo : lo + chunk]
            row, node, reached = bounded_searches(
                graph.indptr, graph.indices, graph.data, net.n_nodes + block, cutoff
            )
            real = node < net.n_nodes  # not the searches' own virtual nodes
            row, node, reached = row[real], node[real], reached[real]
            if len(row) > _DENSE_SHARE * len(block) * net.n_nodes:  # most of the network
                dist = np.full((net.n_nodes, len(block)), np.inf)
                dist[node, row] = reached
                if len(block) == len(active):  # one round: with the extras, the answer
                    return Pairs(
                        *dense_pairs(dist, block, *ends, *_by_site(extras, len(sites)), cutoff)
                    )
                candidates.append(
                    dense_pairs(dist, block, *ends, *_by_site([], len(sites)), cutoff)
                )
                continue
            exits = exits or _Exits.of(ends, net.n_nodes)
            count = exits.start[node + 1] - exits.start[node]
            entry = np.repeat(exits.start[node], count) + _ranks(count)
            cost = np.repeat(reached, count) + exits.cost[entry]
            candidates.append((exits.site[entry], np.repeat(block[row], count), cost))
        site, target, cost = (np.concatenate(part) for part in zip(*candidates, strict=True))
        return _cheapest_pairs(site, target, cost, cutoff, len(targets))


@dataclass(frozen=True)
class _Exits:
    """Every way of leaving a site's segment, grouped by the node it leads to."""

    start: IntArray  # exits of node i: start[i]:start[i + 1]
    site: IntArray
    cost: FloatArray

    @classmethod
    def of(cls, ends: tuple[IntArray, FloatArray, IntArray, FloatArray], n_nodes: int) -> _Exits:
        node_v, via_v, node_u, via_u = ends
        n_sites = len(node_v)
        node = np.concatenate([node_v, node_u])
        cost = np.concatenate([via_v, via_u])
        site = np.concatenate([np.arange(n_sites), np.arange(n_sites)])
        usable = np.nonzero(np.isfinite(cost))[0]
        order = usable[np.argsort(node[usable], kind="stable")]
        return cls(np.searchsorted(node[order], np.arange(n_nodes + 1)), site[order], cost[order])


def _by_site(
    parts: list[tuple[IntArray, IntArray, FloatArray]], n_sites: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Candidates grouped by site, by target within a site: ``start, target, cost``
    (site ``i``'s are ``start[i]:start[i + 1]``)."""
    start = np.zeros(n_sites + 1, np.int64)
    if not parts:
        return start, np.empty(0, np.int64), np.empty(0)
    site, target, cost = (np.concatenate(part) for part in zip(*parts, strict=True))
    order = np.lexsort((target, site))
    np.cumsum(np.bincount(site, minlength=n_sites), out=start[1:])
    return start, target[order], cost[order]


def _cheapest_pairs(
    site: IntArray, target: IntArray, cost: FloatArray, cutoff: float, n_targets: int
) -> Pairs:
    """The cheapest cost of every (site, target) within ``cutoff``, ordered by site then target."""
    keep = cost <= cutoff
    key = site[keep].astype(np.int64) * n_targets + target[keep]
    order = np.argsort(key, kind="stable")
    key, cost = key[order], cost[keep][order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else key
    cost = np.minimum.reduceat(cost, first) if len(first) else cost
    key = key[first]
    return Pairs(
        (key // n_targets).astype(np.intp, copy=False),
        (key % n_targets).astype(np.intp, copy=False),
        cost,
    )

"""Walk + metro + walk travel times for the criteria: :class:`TransitMetric`.

:class:`TransitMetric` implements :class:`geoplan.measure.distance.DistanceMetric`
in minutes.  A trip is the cheaper of walking all the way and

    walk to a station -> wait -> ride [-> transfer -> wait -> ride ...] -> walk to the target

(see :mod:`geoplan.transit.network` for the waits, rides and transfers).

**Walking legs.**  With a street network (``network=``, a walking
:class:`~geoplan.streets.network.StreetNetwork`) every walk is along streets,
sites and stations snapped exactly to the nearest street segment, as
:class:`~geoplan.streets.routing.NetworkMetric` does.  Without one (a study
with no OpenStreetMap extract at hand) a walk is the straight-line distance
times ``walk_detour`` at ``walk_speed_kmh``.  The default detour, 1.3, is the
middle of the 1.2-1.4 range of the ratio of walked to straight-line distance
that studies of urban street grids report (and a common planning rule of
thumb); :attr:`TransitMetric.label` and every trip description say when walks
are straight lines.

**Nearest** is two searches per target layer, never one per site:

1. one multi-source search from the targets (the walk-only query) gives every
   site's walk to its nearest target, and every station's walk onward from
   its exit to the nearest target (the stations ride along as extra sites);
2. the metro table gives every station's cheapest continuation ``via[s] =
   min_e cost[s, e] + onward[e]``;
3. a second multi-source search from the stations, each starting at
   ``via[s]`` (``NetworkMetric.nearest(..., target_cost=via)``), gives every
   site's best trip through the metro; the answer is the cheaper of the two.

**Within** (counts and sums of targets reachable in ``max_minutes``) joins
bounded searches: the walk-only pairs, the walks from sites to stations
within the cutoff, and from station exits to targets, through the metro
table, one station at a time.

:meth:`TransitMetric.trips` says how each site's time is made up ("6 min walk,
3 min wait, 14 min Line 1, 2 min walk") for tables and map popups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj

from geoplan._errors import NetworkError, TransitError
from geoplan.measure.distance import Nearest, Pairs, StraightLine, point_coords
from geoplan.streets.routing import _cheapest_pairs, _object_ids
from geoplan.transit.network import Leg, TransitGraph, line_label
from geoplan.transit.service import FloatArray, IntArray, TransitService

if TYPE_CHECKING:
    from geoplan.streets.network import StreetNetwork

__all__ = ["WALK_DETOUR", "TransitMetric"]

#: Walked / straight-line distance for walks without a street network.
WALK_DETOUR = 1.3
_WALK_SPEED_KMH = 4.8
_DENSE_CHUNK = 1 << 21  # site x station entries per block of the straight-line join
_DENSE_PAIRS = 1 << 24  # sites x targets up to which `within` keeps one matrix (128 MiB)


class _Walk(Protocol):
    """The walking legs: along streets or straight lines, in minutes."""

    note: str

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest: ...

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs: ...

    def nearest_from(
        self, sites: gpd.GeoSeries, points: gpd.GeoSeries, start: FloatArray
    ) -> Nearest: ...

    def reasons(self, sites: gpd.GeoSeries) -> pd.Series: ...

    def usable(self, points: gpd.GeoSeries) -> npt.NDArray[np.bool_]: ...


class _StraightWalk:
    """Straight-line metres times a detour factor, at walking speed."""

    def __init__(self, detour: float, speed_kmh: float) -> None:
        self.detour = detour
        self.per_metre = detour / (speed_kmh * 1000.0 / 60.0)
        self.note = f"walks: straight line × {detour:g} at {speed_kmh:g} km/h (no street network)"
        self._line = StraightLine()

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        found = self._line.nearest(sites, targets)
        return Nearest(found.distance * self.per_metre, found.target)

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        found = self._line.within(sites, targets, cutoff / self.per_metre)
        minutes = found.distance * self.per_metre
        keep = minutes <= cutoff
        return Pairs(found.site[keep], found.target[keep], minutes[keep])

    def nearest_from(
        self, sites: gpd.GeoSeries, points: gpd.GeoSeries, start: FloatArray
    ) -> Nearest:
        xy, pts = point_coords(sites), point_coords(points)
        n = len(xy)
        distance, target = np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
        usable = np.flatnonzero(np.isfinite(start))
        if not len(usable) or not n:
            return Nearest(distance, target)
        pts, start = pts[usable], start[usable]
        step = max(1, _DENSE_CHUNK // len(usable))
        for lo in range(0, n, step):
            block = xy[lo : lo + step]
            cost = (
                np.hypot(block[:, None, 0] - pts[None, :, 0], block[:, None, 1] - pts[None, :, 1])
                * self.per_metre
                + start[None, :]
            )
            best = np.argmin(cost, axis=1)
            distance[lo : lo + step] = cost[np.arange(len(block)), best]
            target[lo : lo + step] = usable[best]
        missing = ~np.isfinite(distance)
        target[missing] = -1
        return Nearest(distance, target)

    def reasons(self, sites: gpd.GeoSeries) -> pd.Series:
        return pd.Series("", index=sites.index, dtype=object)

    def usable(self, points: gpd.GeoSeries) -> npt.NDArray[np.bool_]:
        return np.ones(len(points), dtype=bool)


class _StreetWalk:
    """Walks along a street network (a :class:`NetworkMetric` in minutes)."""

    def __init__(self, network: StreetNetwork, *, max_snap_m: float, entrance_m: float) -> None:
        from geoplan.streets.routing import NetworkMetric

        if network.mode != "walk":
            raise TransitError(
                f"The walks to and from stations need a walking network, got mode "
                f"{network.mode!r}: load it with load_network(..., mode='walk')."
            )
        self.metric = NetworkMetric(
            network, unit="min", max_snap_m=max_snap_m, entrance_m=entrance_m
        )
        self.note = "walks along streets"

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        return self.metric.nearest(sites, targets)

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        return self.metric.within(sites, targets, cutoff)

    def nearest_from(
        self, sites: gpd.GeoSeries, points: gpd.GeoSeries, start: FloatArray
    ) -> Nearest:
        return self.metric.nearest(sites, points, target_cost=start)

    def reasons(self, sites: gpd.GeoSeries) -> pd.Series:
        return self.metric.reasons(sites)

    def usable(self, points: gpd.GeoSeries) -> npt.NDArray[np.bool_]:
        return np.asarray(~self.metric.snap(points)["too_far"].to_numpy(dtype=bool))


@dataclass(frozen=True)
class _Solved:
    """Every site's best trip to its nearest target."""

    minutes: FloatArray
    target: IntArray
    walk_only: FloatArray
    board: IntArray  # -1: walk only
    alight: IntArray
    access: FloatArray  # walk to the boarding station
    onward: FloatArray  # walk from the alighting station


class TransitMetric:
    """Travel minutes by walk + metro + walk (see the module docstring).

    Parameters
    ----------
    service
        The metro lines (:func:`geoplan.read_gtfs` or :func:`geoplan.transit_lines`).
    network
        A walking street network for the walks; ``None``: straight lines
        times ``walk_detour``.
    walk_speed_kmh
        Walking speed of straight-line walks and transfers (default 4.8; the
        network's own speed is used along its streets).
    walk_detour
        Walked / straight-line distance without a network (default 1.3).
    wait_factor
        Share of the headway waited at boarding (0.5: the mean wait).
    transfer_penalty_min
        Added to every transfer (default 5).
    transfer_max_m
        Stations this close are linked by transfers (default 300).
    max_snap_m, entrance_m
        As for :class:`~geoplan.streets.routing.NetworkMetric`.
    """

    unit = "min"

    def __init__(
        self,
        service: TransitService,
        *,
        network: StreetNetwork | None = None,
        walk_speed_kmh: float | None = None,
        walk_detour: float = WALK_DETOUR,
        wait_factor: float = 0.5,
        transfer_penalty_min: float = 5.0,
        transfer_max_m: float = 300.0,
        max_snap_m: float = 500.0,
        entrance_m: float = 25.0,
    ) -> None:
        check_network(network)
        if not isinstance(service, TransitService):
            raise TransitError(
                f"TransitMetric needs a TransitService (from read_gtfs or transit_lines), got "
                f"{type(service).__name__!r}."
            )
        speed = walk_speed_kmh
        if speed is None:
            speed = network.access_speed_kmh if network is not None else _WALK_SPEED_KMH
        self.graph = TransitGraph(
            service,
            wait_factor=wait_factor,
            transfer_penalty_min=transfer_penalty_min,
            transfer_max_m=transfer_max_m,
            walk_speed_kmh=speed,
            walk_detour=walk_detour,
        )
        self.service = service
        self.network = network
        self.walk: _Walk = (
            _StraightWalk(walk_detour, speed)
            if network is None
            else _StreetWalk(network, max_snap_m=max_snap_m, entrance_m=entrance_m)
        )
        self._usable: dict[str, tuple[npt.NDArray[np.object_], IntArray]] = {}
        self._solved: tuple[tuple[object, ...], object, _Solved] | None = None

    @property
    def label(self) -> str:
        """E.g. ``"walk + metro time (walks along streets)"``."""
        return f"walk + metro time ({self.walk.note})"

    @property
    def note(self) -> str:
        """How the walks are measured."""
        return self.walk.note

    def __repr__(self) -> str:
        return f"TransitMetric({self.service!r}, {self.walk.note})"

    # ------------------------------------------------------------------ inputs

    def _crs(self, sites: gpd.GeoSeries) -> pyproj.CRS:
        if self.network is not None:
            return self.network.crs
        crs = sites.crs
        if crs is None or not pyproj.CRS(crs).is_projected:
            raise TransitError(
                f"The sites are in CRS {None if crs is None else pyproj.CRS(crs).to_string()!r}; "
                "straight-line walks need a projected CRS in metres: reproject them first, "
                "e.g. sites.to_crs(sites.estimate_utm_crs())."
            )
        return pyproj.CRS(crs)

    @staticmethod
    def _points(geoms: gpd.GeoSeries | gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoSeries:
        series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
        if series.crs is not None and not pyproj.CRS(series.crs).equals(crs):
            series = series.to_crs(crs)
        if len(series) and not bool((series.geom_type == "Point").all()):
            series = series.representative_point()
        return gpd.GeoSeries(series.values, crs=crs)

    def _station_set(self, crs: pyproj.CRS) -> tuple[gpd.GeoSeries, IntArray]:
        """The stations that join the walks (within ``max_snap_m`` of a street; all
        without a network) and their positions: the same objects each call, snapped once."""
        key = crs.to_wkt()
        if key not in self._usable:
            geoms = self.service.stations.geometry.to_crs(crs)
            ok = self.walk.usable(gpd.GeoSeries(geoms.values, crs=crs))
            which = np.flatnonzero(ok).astype(np.intp)
            self._usable[key] = (np.asarray(geoms.values, dtype=object)[which], which)
        geoms, which = self._usable[key]
        return gpd.GeoSeries(geoms, crs=crs), which

    @staticmethod
    def _with_stations(sites: gpd.GeoSeries, stations: gpd.GeoSeries) -> gpd.GeoSeries:
        """The sites followed by the stations, as one layer of sites."""
        values = np.concatenate(
            [np.asarray(sites.values, dtype=object), np.asarray(stations.values, dtype=object)]
        )
        return gpd.GeoSeries(values, crs=sites.crs)

    # ------------------------------------------------------------------ nearest

    def _solve(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> _Solved:
        crs = self._crs(sites)
        points = self._points(sites, crs)
        goal = targets.geometry if isinstance(targets, gpd.GeoDataFrame) else targets
        if goal.crs is not None and not pyproj.CRS(goal.crs).equals(crs):
            goal = goal.to_crs(crs)
        key = _key(points, goal, crs)
        if self._solved is not None and _same(self._solved[0], key):
            return self._solved[2]
        n, m = len(points), self.graph.n_stations
        stations, which = self._station_set(crs)
        both = self._with_stations(points, stations)
        first = self.walk.nearest(both, goal)  # 1: walks to the nearest target
        walk_only = first.distance[:n]
        onward, onward_target = np.full(m, np.inf), np.full(m, -1, dtype=np.intp)
        onward[which], onward_target[which] = first.distance[n:], first.target[n:]
        through = self.graph.cost + onward[None, :]  # board s ... alight e, walk on
        exit_of = np.argmin(through, axis=1)
        via = through[np.arange(m), exit_of]
        second = self.walk.nearest_from(both, stations, via[which])  # 3: walks to the best station
        metro = second.distance[:n]
        board = np.where(second.target[:n] >= 0, which[np.maximum(second.target[:n], 0)], -1)
        use = np.isfinite(metro) & (metro < walk_only)
        alight = np.where(use, exit_of[np.maximum(board, 0)], -1)
        target = np.where(use, onward_target[np.maximum(alight, 0)], first.target[:n])
        access = np.where(use, metro - via[np.maximum(board, 0)], np.nan)
        solved = _Solved(
            minutes=np.where(use, metro, walk_only),
            target=np.where(np.isfinite(np.where(use, metro, walk_only)), target, -1),
            walk_only=walk_only,
            board=np.where(use, board, -1),
            alight=alight,
            access=np.maximum(access, 0.0),
            onward=np.where(use, onward[np.maximum(alight, 0)], np.nan),
        )
        self._solved = (key, (points, goal), solved)  # the objects stay alive with their ids
        return solved

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        """Nearest target of every site by walk + metro (see :class:`DistanceMetric`).

        Parameters
        ----------
        sites
            Site points.
        targets
            Points, lines or polygons.

        Returns
        -------
        Nearest
            Minutes and position of the nearest target; ``inf`` / ``-1`` where none.
        """
        if len(sites) == 0 or len(targets) == 0:
            return Nearest(np.full(len(sites), np.inf), np.full(len(sites), -1, dtype=np.intp))
        solved = self._solve(sites, targets)
        return Nearest(solved.minutes.copy(), solved.target.astype(np.intp))

    # ------------------------------------------------------------------ within

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        """All (site, target) pairs at most ``cutoff`` minutes apart by walk + metro.

        Parameters
        ----------
        sites
            Site points.
        targets
            Points, lines or polygons.
        cutoff
            Largest travel time in minutes.

        Returns
        -------
        Pairs
            Every pair once, ordered by site then target, with its minutes.
        """
        if not (isinstance(cutoff, int | float) and cutoff >= 0 and not math.isnan(cutoff)):
            raise TransitError(f"The cutoff must be 0 or more minutes, got {cutoff!r}.")
        empty = Pairs(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0))
        if len(sites) == 0 or len(targets) == 0:
            return empty
        crs = self._crs(sites)
        points = self._points(sites, crs)
        goal = targets.geometry if isinstance(targets, gpd.GeoDataFrame) else targets
        if goal.crs is not None and not pyproj.CRS(goal.crs).equals(crs):
            goal = goal.to_crs(crs)
        n, m = len(points), self.graph.n_stations
        stations, which = self._station_set(crs)
        both = self._with_stations(points, stations)
        direct = self.walk.within(both, goal, cutoff)
        is_site = direct.site < n
        parts = [(direct.site[is_site], direct.target[is_site], direct.distance[is_site])]
        out_station = which[direct.site[~is_site] - n]  # walks from station exits to targets
        out_target, out_cost = direct.target[~is_site], direct.distance[~is_site]
        access = self.walk.within(both, stations, cutoff)
        keep = access.site < n
        in_site, in_station, in_cost = (
            access.site[keep],
            which[access.target[keep]],
            access.distance[keep],
        )
        cost = self.graph.cost
        if n * len(goal) <= _DENSE_PAIRS:  # one matrix of minutes: min-plus products, no sorting
            return _dense_join(
                n, len(goal), cost, cutoff, parts[0],
                (out_station, out_target, out_cost), (in_site, in_station, in_cost),
            )  # fmt: skip
        by_exit = np.argsort(out_station, kind="stable")
        exit_start = np.searchsorted(out_station[by_exit], np.arange(m + 1))
        by_entry = np.argsort(in_station, kind="stable")
        entry_start = np.searchsorted(in_station[by_entry], np.arange(m + 1))
        for s in range(m):  # one station at a time: vectorised over its sites and targets
            entries = by_entry[entry_start[s] : entry_start[s + 1]]
            if not len(entries):
                continue
            slack = cutoff - in_cost[entries].min()
            exits = np.flatnonzero(cost[s] <= slack)
            if not len(exits):
                continue
            rows = np.concatenate([by_exit[exit_start[e] : exit_start[e + 1]] for e in exits])
            if not len(rows):
                continue
            tgt, best = _min_by(out_target[rows], cost[s, out_station[rows]] + out_cost[rows])
            good = best <= slack
            tgt, best = tgt[good], best[good]
            total = in_cost[entries][:, None] + best[None, :]
            i, j = np.nonzero(total <= cutoff)
            parts.append((in_site[entries][i], tgt[j], total[i, j]))
        site, target, minutes = (np.concatenate(p) for p in zip(*parts, strict=True))
        return _cheapest_pairs(site, target, minutes, cutoff, len(goal))

    # ------------------------------------------------------------------ explaining

    def reasons(self, sites: gpd.GeoSeries) -> pd.Series:
        """Why sites cannot join the street network (``""`` where they can)."""
        return self.walk.reasons(sites)

    def trips(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> pd.DataFrame:
        """How every site's time to its nearest target is made up.

        Parameters
        ----------
        sites
            Site points.
        targets
            Points, lines or polygons.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``sites``: ``minutes`` (as :meth:`nearest`),
            ``walk_min`` (to the boarding station, or the whole walk),
            ``wait_min``, ``ride_min``, ``transfer_min`` (transfer walks and
            penalties), ``onward_min`` (walk from the last station),
            ``lines``, ``board`` and ``alight`` (station names, empty for a
            walk) and ``text``, e.g. ``"6 min walk, 3 min wait, 14 min Line 1,
            2 min walk"``.
        """
        n = len(sites)
        if n == 0 or len(targets) == 0:
            solved = _Solved(
                np.full(n, np.inf), np.full(n, -1, np.intp), np.full(n, np.inf),
                np.full(n, -1, np.intp), np.full(n, -1, np.intp), np.full(n, np.nan),
                np.full(n, np.nan),
            )  # fmt: skip
        else:
            solved = self._solve(sites, targets)
        by_metro = solved.board >= 0
        code = np.where(by_metro, solved.board * self.graph.n_stations + solved.alight, -1)
        pairs, pair_of = np.unique(code[by_metro], return_inverse=True)
        m = self.graph.n_stations
        parts = [_summary(self.graph.legs(int(c // m), int(c % m))) for c in pairs]
        table = pd.DataFrame(parts, columns=["wait", "ride", "transfer", "lines", "middle"])
        names = self.service.stations["name"].astype(str).to_numpy()
        suffix = f"; {self.walk.note}" if isinstance(self.walk, _StraightWalk) else ""
        out = pd.DataFrame(
            {
                "minutes": solved.minutes,
                "walk_min": np.where(by_metro, solved.access, solved.minutes),
                "wait_min": 0.0,
                "ride_min": 0.0,
                "transfer_min": 0.0,
                "onward_min": np.where(by_metro, solved.onward, 0.0),
                "lines": "",
                "board": "",
                "alight": "",
                "text": "unreachable",
            },
            index=sites.index,
        )
        walking = ~by_metro & np.isfinite(solved.minutes)
        out.loc[walking, "text"] = [f"{_minutes(v)} walk{suffix}" for v in solved.minutes[walking]]
        if by_metro.any():
            chosen = table.iloc[pair_of]
            out.loc[by_metro, "wait_min"] = chosen["wait"].to_numpy()
            out.loc[by_metro, "ride_min"] = chosen["ride"].to_numpy()
            out.loc[by_metro, "transfer_min"] = chosen["transfer"].to_numpy()
            out.loc[by_metro, "lines"] = chosen["lines"].to_numpy()
            out.loc[by_metro, "board"] = names[solved.board[by_metro]]
            out.loc[by_metro, "alight"] = names[solved.alight[by_metro]]
            access = [_minutes(v) for v in solved.access[by_metro]]
            onward = [_minutes(v) for v in solved.onward[by_metro]]
            out.loc[by_metro, "text"] = [
                f"{a} walk, {mid}, {o} walk{suffix}"
                for a, mid, o in zip(access, chosen["middle"], onward, strict=True)
            ]
        return out


def _minutes(value: float) -> str:
    return "<1 min" if value < 0.5 else f"{value:.0f} min"


def _summary(legs: tuple[Leg, ...]) -> tuple[float, float, float, str, str]:
    """Wait, ride and transfer minutes, the lines ridden, and the middle of the trip text."""
    wait = sum(leg.minutes for leg in legs if leg.kind == "wait")
    ride = sum(leg.minutes for leg in legs if leg.kind == "ride")
    transfer = sum(leg.minutes for leg in legs if leg.kind == "transfer")
    lines = " > ".join(leg.lines for leg in legs if leg.kind == "ride")
    text = ", ".join(
        f"{_minutes(leg.minutes)} {line_label(leg.lines) if leg.kind == 'ride' else leg.kind}"
        for leg in legs
    )
    return wait, ride, transfer, lines, text


def _dense_join(
    n_sites: int,
    n_targets: int,
    cost: FloatArray,
    cutoff: float,
    walks: tuple[IntArray, IntArray, FloatArray],
    onward: tuple[IntArray, IntArray, FloatArray],
    access: tuple[IntArray, IntArray, FloatArray],
) -> Pairs:
    """``within`` as min-plus products on a sites x targets matrix (walks, then the metro).

    ``onward`` are (exit station, target, minutes) walks, ``access`` (site,
    boarding station, minutes); each (station, target) and (site, station) once.
    """
    best = np.full((n_sites, n_targets), np.inf)
    best[walks[0], walks[1]] = walks[2]
    m = len(cost)
    exits = np.flatnonzero(np.bincount(onward[0], minlength=m))
    boards = np.flatnonzero(np.bincount(access[1], minlength=m))
    column = np.zeros(m, dtype=np.intp)
    column[exits] = np.arange(len(exits))
    leave = np.full((len(exits), n_targets), np.inf)  # exit -> target walks
    leave[column[onward[0]], onward[1]] = onward[2]
    via = np.full((len(boards), n_targets), np.inf)  # board -> ride -> walk to the target
    for k, e in enumerate(exits):
        np.minimum(via, cost[boards, e][:, None] + leave[k][None, :], out=via)
    column[boards] = np.arange(len(boards))
    walk_in = np.full((len(boards), n_sites), np.inf)  # boarding station <- site walks
    walk_in[column[access[1]], access[0]] = access[2]
    step = np.empty_like(best)
    for row in np.flatnonzero(via.min(axis=1) <= cutoff):
        np.add(walk_in[row][:, None], via[row][None, :], out=step)
        np.minimum(best, step, out=best)
    keep = best <= cutoff
    i, j = np.nonzero(keep)
    return Pairs(i.astype(np.intp, copy=False), j.astype(np.intp, copy=False), best[keep])


def _min_by(key: IntArray, value: FloatArray) -> tuple[IntArray, FloatArray]:
    """The smallest value per key, keys ascending."""
    if not len(key):
        return key, value
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return key[first], np.minimum.reduceat(value, first)


def _key(sites: gpd.GeoSeries, targets: gpd.GeoSeries, crs: pyproj.CRS) -> tuple[object, ...]:
    """Which geometry objects, in which order (immutable: same objects, same answer)."""
    return (
        crs.to_wkt(),
        _object_ids(np.asarray(sites.values)),
        _object_ids(np.asarray(targets.values)),
    )


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return (
        a[0] == b[0]
        and all(
            np.array_equal(x, y)  # type: ignore[arg-type]
            for x, y in zip(a[1:], b[1:], strict=True)
        )
    )


def check_network(network: object) -> None:
    """Raise unless ``network`` is a walking street network (or ``None``)."""
    if network is not None and getattr(network, "mode", None) is None:
        raise NetworkError(
            f"network must be a StreetNetwork from load_network(..., mode='walk'), got "
            f"{type(network).__name__!r}."
        )

"""The metro as a static, frequency-based graph, and station-to-station travel times.

The model (the frequency-based, "static" network planners use for
accessibility; checked against a departure-time search on GTFS in the tests):

* **Boarding and riding.**  Every station has a *departure* side (about to
  board) and an *arrival* side (just alighted).  For every ordered pair of
  stations ``a -> b`` that some pattern serves (``a`` before ``b``), one
  *ride arc* joins departure ``a`` to arrival ``b``.  Its cost is the wait
  plus the in-vehicle minutes.  Where several patterns serve the pair (a
  trunk shared by lines, short turns), a traveller boards the first vehicle
  of the *attractive* ones -- the classic common-lines rule: sorted by ride
  time, a pattern joins while its ride is shorter than the expected wait +
  ride of those before it -- so with frequencies ``f`` (departures per
  minute at ``a``) the wait is ``wait_factor / sum(f)`` and the ride the
  frequency-weighted mean.  With ``wait_factor = 0.5`` (the default) the
  wait is half the combined headway: the mean wait of a passenger arriving at
  random at a regular service; another value is the same share of the
  headway (``0.9``: the 90th percentile of a regular service's wait).
* **Transfers.**  From the arrival side of a station to the departure side of
  itself and of every station within ``transfer_max_m`` (platforms of an
  interchange): a walk at ``walk_speed_kmh`` over the straight distance times
  ``walk_detour``, plus ``transfer_penalty_min`` (default 5 minutes: the
  perceived cost of changing trains, a common planning value).  Every change
  of vehicle outside a common-lines set is a transfer and pays the penalty.
* **Station to station.**  :attr:`TransitGraph.cost` ``[a, b]`` is the
  cheapest cost from the departure side of ``a`` to the arrival side of
  ``b``: one Dijkstra per station over a graph of at most a few thousand
  arcs (``scipy.sparse.csgraph``), with the path kept for the breakdown into
  waits, rides and transfers (:meth:`TransitGraph.legs`).

The walks to the first station and from the last one belong to
:mod:`geoplan.transit.metric`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from geoplan._errors import TransitError
from geoplan.transit.service import FloatArray, IntArray, TransitService

__all__ = ["Leg", "TransitGraph", "line_label"]

_DEFAULT_DETOUR = 1.3


def line_label(lines: str) -> str:
    """``"1"`` -> ``"Line 1"``, ``"A/B"`` -> ``"Line A/B"``."""
    return f"Line {lines}"


@dataclass(frozen=True)
class Leg:
    """One part of a metro trip: ``kind`` is ``"wait"``, ``"ride"`` or ``"transfer"``."""

    kind: str
    minutes: float
    lines: str = ""


def _check(name: str, value: float, *, low: float = 0.0, strict: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (strict and value <= low):
        raise TransitError(
            f"{name} must be a finite number {'>' if strict else '>='} {low:g}, got {value!r}."
        )
    return float(value)


@dataclass(frozen=True, eq=False)
class TransitGraph:
    """Station-to-station metro times of a :class:`TransitService` (see the module docstring).

    Parameters
    ----------
    service
        The lines, from :func:`~geoplan.transit.gtfs.read_gtfs` or
        :func:`~geoplan.transit.lines.transit_lines`.
    wait_factor
        Share of the (combined) headway waited when boarding (0.5: the mean).
    transfer_penalty_min
        Added to every transfer.
    transfer_max_m
        Stations this close (straight line) are linked by transfers.
    walk_speed_kmh, walk_detour
        The transfer walk: straight metres times ``walk_detour`` at this speed.
    """

    service: TransitService
    wait_factor: float = 0.5
    transfer_penalty_min: float = 5.0
    transfer_max_m: float = 300.0
    walk_speed_kmh: float = 4.8
    walk_detour: float = _DEFAULT_DETOUR
    _legs: dict[tuple[int, int], tuple[Leg, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        _check("wait_factor", self.wait_factor)
        _check("transfer_penalty_min", self.transfer_penalty_min)
        _check("transfer_max_m", self.transfer_max_m)
        _check("walk_speed_kmh", self.walk_speed_kmh, strict=True)
        _check("walk_detour", self.walk_detour, low=1.0)

    @property
    def n_stations(self) -> int:
        """Number of stations."""
        return len(self.service.stations)

    @cached_property
    def station_xy(self) -> FloatArray:
        """Stations in their local UTM zone (metres), for transfer distances."""
        stations = self.service.stations
        lon, lat = np.median(stations.geometry.x), np.median(stations.geometry.y)
        zone = int((lon + 180) // 6) % 60 + 1  # the local UTM zone (WGS-84)
        projected = stations.to_crs((32600 if lat >= 0 else 32700) + zone)
        return np.asarray(shapely.get_coordinates(projected.geometry.values), dtype=np.float64)

    @cached_property
    def _members(self) -> tuple[IntArray, IntArray, FloatArray, FloatArray, npt.NDArray[np.str_]]:
        """Every (pattern, board, alight) as arrays ordered by station pair, then ride:
        board, alight, frequency, ride, line."""
        parts = []
        for p in self.service.patterns:
            i, j = np.triu_indices(len(p.stops), k=1)
            ride = p.ride[i, j]
            ok = np.flatnonzero(np.isfinite(ride) & (p.frequency[i] > 0))
            parts.append((p.stops[i[ok]], p.stops[j[ok]], p.frequency[i[ok]], ride[ok],
                          np.full(len(ok), p.line, dtype=object)))  # fmt: skip
        board, alight, f, ride, line = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.lexsort((ride, alight, board))
        return board[order], alight[order], f[order], ride[order], line[order]

    @cached_property
    def rides(self) -> pd.DataFrame:
        """One row per ride arc: ``board``, ``alight``, ``wait``, ``ride`` and its patterns
        (``first``..``last`` in the members, see :meth:`lines_of`)."""
        board, alight, f, ride, _ = self._members
        pair = board.astype(np.int64) * self.n_stations + alight
        start = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        group = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(pair)]))
        cum_f, cum_fr = _grouped_cumsum(f, start, group), _grouped_cumsum(f * ride, start, group)
        expected = (self.wait_factor + cum_fr) / cum_f  # wait + ride with the first k patterns
        best = np.minimum.reduceat(expected, start)
        hit = np.flatnonzero(expected <= best[group] * (1 + 1e-12))
        last = hit[np.r_[True, group[hit][1:] != group[hit][:-1]]]  # the smallest optimal set
        return pd.DataFrame(
            {
                "board": board[start],
                "alight": alight[start],
                "wait": self.wait_factor / cum_f[last],
                "ride": cum_fr[last] / cum_f[last],
                "first": start,
                "last": last,
            }
        )

    def lines_of(self, arc: int) -> str:
        """The lines of a ride arc's attractive patterns, e.g. ``"A/B"``."""
        row = self.rides.iloc[arc]
        names = self._members[4][int(row["first"]) : int(row["last"]) + 1]
        return "/".join(sorted(set(names), key=_line_order))

    @cached_property
    def transfers(self) -> pd.DataFrame:
        """One row per transfer arc: ``alight`` (station), ``board`` (station), ``minutes``."""
        tree = cKDTree(self.station_xy)
        pairs = tree.query_pairs(self.transfer_max_m, output_type="ndarray")
        n = self.n_stations
        a = np.concatenate([np.arange(n), pairs[:, 0], pairs[:, 1]])
        b = np.concatenate([np.arange(n), pairs[:, 1], pairs[:, 0]])
        metres = np.hypot(*(self.station_xy[a] - self.station_xy[b]).T)
        walk = metres * self.walk_detour / (self.walk_speed_kmh * 1000.0 / 60.0)
        return pd.DataFrame({"alight": a, "board": b, "minutes": walk + self.transfer_penalty_min})

    @cached_property
    def _searched(self) -> tuple[FloatArray, npt.NDArray[np.int32]]:
        n = self.n_stations
        rides, transfers = self.rides, self.transfers
        rows = np.concatenate([rides["board"].to_numpy(), n + transfers["alight"].to_numpy()])
        cols = np.concatenate([n + rides["alight"].to_numpy(), transfers["board"].to_numpy()])
        cost = np.concatenate(
            [(rides["wait"] + rides["ride"]).to_numpy(), transfers["minutes"].to_numpy()]
        )
        # a zero-cost arc would vanish from a sparse matrix: keep it as a tiny positive one
        graph = sparse.csr_array((np.maximum(cost, 1e-12), (rows, cols)), shape=(2 * n, 2 * n))
        dist, pred = csgraph.dijkstra(
            graph, directed=True, indices=np.arange(n), return_predecessors=True
        )
        return np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32)

    @cached_property
    def cost(self) -> FloatArray:
        """``(n, n)`` minutes from boarding at ``a`` to alighting at ``b`` (``inf``: none; the
        diagonal is ``inf``: a metro trip ends elsewhere)."""
        n = self.n_stations
        out = self._searched[0][:, n:].copy()
        out[out < 1e-9] = 0.0
        np.fill_diagonal(out, np.inf)
        return out

    @cached_property
    def _arc_index(self) -> dict[tuple[int, int], tuple[str, int]]:
        n = self.n_stations
        index: dict[tuple[int, int], tuple[str, int]] = {}
        for k, (a, b) in enumerate(zip(self.rides["board"], self.rides["alight"], strict=True)):
            index[(int(a), n + int(b))] = ("ride", k)
        for k, (a, b) in enumerate(
            zip(self.transfers["alight"], self.transfers["board"], strict=True)
        ):
            index[(n + int(a), int(b))] = ("transfer", k)
        return index

    def legs(self, board: int, alight: int) -> tuple[Leg, ...]:
        """The waits, rides and transfers of the cheapest trip from ``board`` to ``alight``.

        Parameters
        ----------
        board, alight
            Station positions.

        Returns
        -------
        tuple of Leg
            In travel order; empty when there is no such trip.
        """
        key = (int(board), int(alight))
        if key in self._legs:
            return self._legs[key]
        n = self.n_stations
        if not math.isfinite(self.cost[key]):
            self._legs[key] = ()
            return ()
        pred = self._searched[1][key[0]]
        nodes = [n + key[1]]
        while nodes[-1] != key[0]:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        legs: list[Leg] = []
        for u, v in itertools.pairwise(nodes):
            kind, k = self._arc_index[(u, v)]
            if kind == "ride":
                row = self.rides.iloc[k]
                legs += [
                    Leg("wait", float(row["wait"])),
                    Leg("ride", float(row["ride"]), self.lines_of(k)),
                ]
            else:
                legs.append(Leg("transfer", float(self.transfers["minutes"].iloc[k])))
        self._legs[key] = tuple(legs)
        return self._legs[key]


def _grouped_cumsum(values: FloatArray, start: IntArray, group: IntArray) -> FloatArray:
    """Running sums that restart at every group start."""
    total = np.cumsum(values)
    before = np.r_[0.0, total][start]  # the sum of the groups before each group
    return np.asarray(total - before[group], dtype=np.float64)


def _line_order(name: str) -> tuple[int, int, str]:
    return (0, int(name), name) if name.isdigit() else (1, 0, name)

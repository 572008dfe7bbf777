"""Street networks: load, project and route on real streets, offline.

:func:`load_network` reads an OpenStreetMap file (``.osm``, ``.osm.xml``,
``.osm.bz2``, ``.osm.pbf``, all read by libosmium straight into arrays), a
GraphML file, or downloads a place
name or bounding box with osmnx, optionally clipped to a study area, keeps
the largest connected part (strongly connected for driving) and returns a
:class:`StreetNetwork`: plain numpy arrays of nodes, street segments and
directed arcs in a metric CRS.

The network is *unsimplified*: every pair of consecutive OSM nodes of a way
is one straight segment (an ``edge``), travelled in the directions it allows
as directed ``arcs``.  Edge lengths are great-circle metres (as osmnx's
``length``); travel minutes come from the mode's speeds.

**One edge per pair of nodes.**  Where several segments join the same two
nodes -- two ways over the same nodes, a way whose nodes run A-B-A, a one-way
and a two-way way along one street -- they are the same straight line, and
:func:`network_from_streets` merges them into one edge: it may be travelled
in every direction one of them allows, at the cheapest of their travel times
in each direction (``edge_minutes_forward``/``edge_minutes_backward``), and
keeps the lowest of their way ids.  A site or target on that line then snaps
to one edge, reaches a target on the same line directly, and leaves by either
end as any of the segments allows.  Edges run from the lower to the higher
node position (nodes are ordered by OSM id) and are numbered in that order, so
the network, and every distance on it, is the same whatever the order of the
ways in the file (ties in snapping go to the lower edge number).

:class:`~geoplan.streets.routing.NetworkMetric` (in :mod:`geoplan.streets.routing`)
measures distances and times on it for the criteria, and
:func:`isochrones` (:mod:`geoplan.streets.isochrone`) draws reachable areas.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geoplan._errors import GeoplanWarning, LayerNotFoundError, NetworkError
from geoplan.io.coords import great_circle_m
from geoplan.streets._walk_rules import check_walk_rules
from geoplan.streets.osm import OSM_SUFFIXES, WALK_SPEED_KMH, OsmStreets, check_mode, read_osm
from geoplan.streets.osmnx_io import check_bbox, download_streets, read_graphml

if TYPE_CHECKING:
    from geoplan.streets._segment_grid import SegmentGrid

__all__ = [
    "ComponentReport",
    "StreetNetwork",
    "load_network",
    "network_from_streets",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

"""Earth radius used for great-circle edge lengths (osmnx's value)."""


@dataclass(frozen=True)
class ComponentReport:
    """What was kept and dropped when reducing a network to its largest connected part.

    Attributes
    ----------
    strongly : bool
        Whether strongly connected parts were used (driving, one-way streets).
    components : int
        Number of connected parts found.
    nodes_total, edges_total : int
        Nodes and street segments before the reduction.
    nodes_kept, edges_kept : int
        Nodes and street segments of the largest part.
    """

    strongly: bool
    components: int
    nodes_total: int
    edges_total: int
    nodes_kept: int
    edges_kept: int

    @property
    def nodes_dropped(self) -> int:
        """Nodes outside the largest part."""
        return self.nodes_total - self.nodes_kept

    @property
    def edges_dropped(self) -> int:
        """Street segments outside the largest part."""
        return self.edges_total - self.edges_kept

    def __str__(self) -> str:
        kind = "strongly connected" if self.strongly else "connected"
        share = self.nodes_kept / self.nodes_total if self.nodes_total else 0.0
        text = (
            f"kept the largest {kind} part: {self.nodes_kept:,} of {self.nodes_total:,} nodes "
            f"({share:.1%}) and {self.edges_kept:,} of {self.edges_total:,} street segments"
        )
        if self.components > 1:
            text += (
                f"; dropped {self.nodes_dropped:,} nodes and {self.edges_dropped:,} segments "
                f"in {self.components - 1:,} smaller parts"
            )
        return text


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A routable street network as numpy arrays, in a metric CRS.

    Attributes
    ----------
    x, y : numpy.ndarray
        Node coordinates in ``crs`` (metres).
    lon, lat : numpy.ndarray
        Node coordinates in degrees (EPSG:4326).
    node_id : numpy.ndarray
        OSM node ids (negative for vertices added from GraphML geometries).
    edge_u, edge_v : numpy.ndarray
        Node positions of the ends of every straight street segment.
    edge_way_id : numpy.ndarray
        OSM way of every segment (the lowest id where several ways join the
        same two nodes).
    edge_length_m : numpy.ndarray
        Great-circle length of every segment.
    edge_minutes_forward, edge_minutes_backward : numpy.ndarray
        Travel minutes of every segment ``u -> v`` and ``v -> u`` (where a
        direction is not allowed, the other direction's minutes).
    edge_forward, edge_backward : numpy.ndarray
        Whether the segment may be travelled ``u -> v`` and ``v -> u``.
    indptr, arc_head, arc_edge : numpy.ndarray
        Directed arcs in CSR order: the arcs leaving node ``i`` are
        ``indptr[i]:indptr[i + 1]``; ``arc_head`` is where each arc leads and
        ``arc_edge`` the segment it runs along.
    arc_length_m, arc_minutes : numpy.ndarray
        Length and travel time of every arc.
    crs : pyproj.CRS
        The metric CRS of ``x``/``y``.
    mode : str
        ``"walk"``, ``"bike"`` or ``"drive"``.
    access_speed_kmh : float
        Walking speed for off-network legs (sites to the street).
    report : ComponentReport
        What was dropped when keeping the largest connected part.
    source : str
        Where the network came from.
    """

    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    node_id: Int64Array
    edge_u: IntArray
    edge_v: IntArray
    edge_way_id: Int64Array
    edge_length_m: FloatArray
    edge_minutes_forward: FloatArray
    edge_minutes_backward: FloatArray
    edge_forward: BoolArray
    edge_backward: BoolArray
    indptr: IntArray
    arc_head: IntArray
    arc_edge: IntArray
    arc_length_m: FloatArray
    arc_minutes: FloatArray
    crs: pyproj.CRS
    mode: str
    access_speed_kmh: float
    report: ComponentReport
    source: str

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of street segments."""
        return len(self.edge_u)

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs."""
        return len(self.arc_head)

    @property
    def directed(self) -> bool:
        """Whether some segments are one-way."""
        return not (bool(self.edge_forward.all()) and bool(self.edge_backward.all()))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the nodes in ``crs``."""
        return (
            float(self.x.min()),
            float(self.y.min()),
            float(self.x.max()),
            float(self.y.max()),
        )

    @cached_property
    def arc_tail(self) -> IntArray:
        """Node each arc leaves from."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.intp), np.diff(self.indptr))

    def edge_weight(self, unit: str, *, backward: bool = False) -> FloatArray:
        """Per-segment cost: ``edge_length_m`` for ``"m"``, travel minutes for ``"min"``.

        Parameters
        ----------
        unit
            ``"m"`` or ``"min"``.
        backward
            Cost of travelling ``v -> u`` instead of ``u -> v`` (minutes may
            differ by direction where ways of different speeds were merged).

        Returns
        -------
        numpy.ndarray
            One cost per segment.
        """
        if unit == "m":
            return self.edge_length_m
        return self.edge_minutes_backward if backward else self.edge_minutes_forward

    def graph(self, unit: str, *, reverse: bool = False) -> sparse.csr_array:
        """Arcs as a sparse adjacency matrix for :mod:`scipy.sparse.csgraph`.

        Parameters
        ----------
        unit
            ``"m"`` (weights are lengths) or ``"min"`` (travel minutes).
        reverse
            Return the transposed graph (arcs reversed), for searches from
            targets back to sites.

        Returns
        -------
        scipy.sparse.csr_array
            ``(n_nodes, n_nodes)`` matrix; parallel arcs are kept as
            duplicate entries (scipy's Dijkstra takes the cheapest).
        """
        return self._graphs[(unit, reverse)]

    @cached_property
    def _graphs(self) -> _GraphCache:
        return _GraphCache(self)

    @cached_property
    def _segment_grid(self) -> SegmentGrid:
        # the compiled engine (numba) loads on first use, not with this module
        from geoplan.streets._segment_grid import SegmentGrid

        u, v = self.edge_u, self.edge_v
        return SegmentGrid(self.x[u], self.y[u], self.x[v], self.y[v])

    def lines(self, edges: IntArray | None = None) -> npt.NDArray[np.object_]:
        """Straight segments as shapely LineStrings in ``crs``.

        Parameters
        ----------
        edges
            Which segments (default all).

        Returns
        -------
        numpy.ndarray
            One LineString per segment.
        """
        u = self.edge_u if edges is None else self.edge_u[edges]
        v = self.edge_v if edges is None else self.edge_v[edges]
        coords = np.stack(
            [np.column_stack([self.x[u], self.y[u]]), np.column_stack([self.x[v], self.y[v]])],
            axis=1,
        )
        return np.asarray(shapely.linestrings(coords), dtype=object).reshape(-1)

    @cached_property
    def edge_lines(self) -> npt.NDArray[np.object_]:
        """All straight segments as shapely LineStrings in ``crs``."""
        return self.lines()

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """STR-tree of :attr:`edge_lines`."""
        return shapely.STRtree(self.edge_lines)

    def __repr__(self) -> str:
        return (
            f"StreetNetwork(mode={self.mode!r}, nodes={self.n_nodes:,}, "
            f"edges={self.n_edges:,}, arcs={self.n_arcs:,}, crs={self.crs.to_string()!r}, "
            f"source={self.source!r})"
        )


class _GraphCache:
    """Lazily built CSR matrices of a network, per unit and direction."""

    def __init__(self, network: StreetNetwork) -> None:
        self._network = network
        self._cache: dict[tuple[str, bool], sparse.csr_array] = {}

    def __getitem__(self, key: tuple[str, bool]) -> sparse.csr_array:
        if key not in self._cache:
            net = self._network
            unit, reverse = key
            weight = net.arc_length_m if unit == "m" else net.arc_minutes
            n = net.n_nodes
            if not reverse:
                matrix = sparse.csr_array((weight, net.arc_head, net.indptr), shape=(n, n))
            else:
                order = np.argsort(net.arc_head, kind="stable")
                counts = np.bincount(net.arc_head, minlength=n)
                indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
                matrix = sparse.csr_array(
                    (weight[order], net.arc_tail[order], indptr), shape=(n, n)
                )
            self._cache[key] = matrix
        return self._cache[key]


# --------------------------------------------------------------------------- loading


def load_network(
    source: str | Path | Sequence[float],
    *,
    mode: str = "walk",
    crs: Any = None,
    area: Any = None,
    speeds_kmh: float | Mapping[str, float] | None = None,
    cache_dir: str | Path | None = None,
    walk_rules: str = "auto",
) -> StreetNetwork:
    """Load a street network for routing.

    Parameters
    ----------
    source
        A local OpenStreetMap file (``.osm``, ``.osm.xml``, ``.osm.bz2``,
        ``.osm.pbf``), a GraphML file written by osmnx (``.graphml``), a
        place name (downloaded with osmnx; needs internet) or a
        ``(west, south, east, north)`` bounding box in degrees (downloaded).
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.  Driving respects one-way
        streets and keeps the largest *strongly* connected part.
    crs
        Metric CRS to project to (anything pyproj accepts), normally the
        study's CRS; default the local UTM zone.
    area
        Clip to this area: a shapely polygon or a ``(west, south, east,
        north)`` box in EPSG:4326, or a GeoSeries/GeoDataFrame in any CRS.
        Use it to cut a city out of a regional extract.
    speeds_kmh
        Walking/cycling speed (default 4.8 / 15 km/h), or speeds by
        ``highway`` class with a ``"default"`` key (for driving, used where
        ``maxspeed`` is missing).
    cache_dir
        Folder for downloaded networks (GraphML) and osmnx's HTTP cache.
    walk_rules
        Whether pedestrians use elevated roads and road tunnels without a
        sidewalk: ``"china"`` no, ``"osm"`` yes (OSM's defaults), ``"auto"``
        China's rule where ``area`` (else the streets) lies in China.  For
        OpenStreetMap files (a GraphML file or a download keeps the ways
        osmnx chose); see :mod:`geoplan.streets._walk_rules`.

    Returns
    -------
    StreetNetwork
        The largest connected part, projected; ``report`` says what was dropped.
    """
    mode = check_mode(mode)
    walk_rules = check_walk_rules(walk_rules)
    clip = _area_polygon(area)
    streets = _read_source(
        source,
        mode=mode,
        area=clip,
        speeds_kmh=speeds_kmh,
        cache_dir=cache_dir,
        walk_rules=walk_rules,
    )
    access = WALK_SPEED_KMH
    if mode == "walk" and speeds_kmh is not None and not isinstance(speeds_kmh, Mapping):
        access = float(speeds_kmh)
    return network_from_streets(streets, crs=crs, access_speed_kmh=access)


def _read_source(
    source: str | Path | Sequence[float],
    *,
    mode: str,
    area: shapely.Geometry | None,
    speeds_kmh: float | Mapping[str, float] | None,
    cache_dir: str | Path | None,
    walk_rules: str,
) -> OsmStreets:
    if isinstance(source, Sequence) and not isinstance(source, str):
        bbox = check_bbox(source)
        return download_streets(
            bbox, mode=mode, area=area, speeds_kmh=speeds_kmh, cache_dir=cache_dir
        )
    if not isinstance(source, str | Path):
        raise NetworkError(
            f"Unsupported network source {source!r}: give a path to an .osm/.osm.pbf/.graphml "
            "file, a place name, or a (west, south, east, north) bounding box."
        )
    path = Path(source)
    name = path.name.lower()
    is_graphml = name.endswith(".graphml")
    is_osm = name.endswith(OSM_SUFFIXES) or name.endswith((".osm.gz",))
    if isinstance(source, Path) or is_graphml or is_osm or path.exists():
        if not path.exists():
            raise LayerNotFoundError(
                f"Street network file not found: {str(path)!r}. Check the path; to load a "
                "place by name instead, give its name (e.g. 'Changzhou, Jiangsu, China')."
            )
        if path.is_dir():
            raise NetworkError(
                f"{str(path)!r} is a folder, not a street network file: give an .osm, "
                ".osm.pbf or .graphml file inside it."
            )
        if not path.is_file():
            raise NetworkError(
                f"{str(path)!r} is not a regular file (a device or pipe); give the path of an "
                ".osm, .osm.pbf or .graphml file."
            )
        if is_graphml:
            return read_graphml(path, mode=mode, area=area, speeds_kmh=speeds_kmh)
        return read_osm(path, mode=mode, area=area, speeds_kmh=speeds_kmh, walk_rules=walk_rules)
    return download_streets(
        source, mode=mode, area=area, speeds_kmh=speeds_kmh, cache_dir=cache_dir
    )


def _area_polygon(area: Any) -> shapely.Geometry | None:
    if area is None:
        return None
    if isinstance(area, shapely.Geometry):
        geom = area
    elif hasattr(area, "to_crs") and hasattr(area, "crs"):
        if area.crs is None:
            raise NetworkError(
                "The clipping area has no CRS: set it (e.g. area.set_crs('EPSG:4326')) so "
                "it can be matched with the OpenStreetMap coordinates."
            )
        geom = shapely.union_all(np.asarray(area.to_crs(4326).geometry.values))
    elif isinstance(area, Sequence) and len(area) == 4:
        geom = shapely.box(*check_bbox(area))
    else:
        raise NetworkError(
            f"Unsupported clipping area {area!r}: give a shapely polygon or a (west, south, "
            "east, north) box in EPSG:4326, or a GeoSeries/GeoDataFrame."
        )
    if geom.is_empty or geom.area == 0:
        raise NetworkError(f"The clipping area {area!r} is empty: give a polygon with an area.")
    shapely.prepare(geom)
    return geom


def _metric_crs(crs: Any, lon: FloatArray, lat: FloatArray) -> pyproj.CRS:
    if crs is None:
        lon0, lat0 = float(np.median(lon)), float(np.median(lat))
        zone = int((lon0 + 180) // 6) % 60 + 1
        return pyproj.CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)
    try:
        out = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise NetworkError(
            f"Unknown CRS {crs!r} for the network ({exc}): give an EPSG code such as "
            "'EPSG:32650' (UTM 50N) or the study's metric CRS."
        ) from exc
    if not out.is_projected or out.axis_info[0].unit_name not in ("metre", "meter"):
        raise NetworkError(
            f"The network CRS {crs!r} is not a projected CRS in metres: routing needs "
            "metres. Use the study's metric CRS or leave crs=None for the local UTM zone."
        )
    return out


def _merge_parallel(
    streets: OsmStreets,
) -> tuple[IntArray, IntArray, Int64Array, FloatArray, FloatArray, BoolArray, BoolArray]:
    """One edge per pair of nodes (see the module docstring).

    Returns
    -------
    tuple of numpy.ndarray
        ``u < v``, way id, speed ``u -> v`` and ``v -> u`` (km/h; where a
        direction is not allowed, the other's), and the allowed directions;
        edges ordered by ``(u, v)``.
    """
    u, v = streets.edge_u, streets.edge_v
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    drawn_up = u == lo  # the segment is drawn from its lower to its higher node
    fwd, bwd = streets.edge_forward, streets.edge_backward
    up = np.where(drawn_up, fwd, bwd)  # may be travelled lo -> hi
    down = np.where(drawn_up, bwd, fwd)
    key = lo.astype(np.int64) * len(streets.node_id) + hi
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    speed = streets.edge_speed_kmh[order]
    up, down = up[order], down[order]
    speed_up = np.maximum.reduceat(np.where(up, speed, -np.inf), first)
    speed_down = np.maximum.reduceat(np.where(down, speed, -np.inf), first)
    e_up, e_down = np.isfinite(speed_up), np.isfinite(speed_down)
    either = np.where(e_up, speed_up, np.maximum.reduceat(speed, first))
    merged = len(order) - len(first)
    if merged:
        logger.info(
            "%s: %d street segments run between the same two nodes as another one and were "
            "merged with it",
            streets.source,
            merged,
        )
    return (
        lo[order][first].astype(np.intp),
        hi[order][first].astype(np.intp),
        np.minimum.reduceat(streets.edge_way_id[order], first),
        either,
        np.where(e_down, speed_down, either),
        e_up,
        e_down,
    )


def network_from_streets(
    streets: OsmStreets,
    *,
    crs: Any = None,
    access_speed_kmh: float = WALK_SPEED_KMH,
) -> StreetNetwork:
    """Build a routable network from street segments.

    Merges segments that join the same two nodes (see the module docstring),
    keeps the largest connected part (strongly connected when some streets
    are one-way), projects the nodes, and computes lengths, minutes and arcs.

    Parameters
    ----------
    streets
        Segments from :func:`geoplan.streets.osm.read_osm` and friends.
    crs
        Metric CRS; default the local UTM zone.
    access_speed_kmh
        Walking speed for off-network legs.

    Returns
    -------
    StreetNetwork
        The routable network.
    """
    where = f" in {streets.source!r}"
    if len(streets.edge_u) == 0:
        raise NetworkError(
            f"No streets usable for mode {streets.mode!r}{where}: {streets.ways_seen:,} ways "
            f"with a highway tag were read and {streets.ways_kept:,} kept. Check that the file "
            "covers the study area (and that area=... overlaps it), or try another mode."
        )
    n = len(streets.node_id)
    u, v, way_id, speed_fwd, speed_bwd, fwd, bwd = _merge_parallel(streets)
    strongly = not (bool(fwd.all()) and bool(bwd.all()))
    tails = np.concatenate([u[fwd], v[bwd]])
    heads = np.concatenate([v[fwd], u[bwd]])
    adjacency = sparse.csr_array((np.ones(len(tails)), (tails, heads)), shape=(n, n))
    count, labels = csgraph.connected_components(
        adjacency, directed=True, connection="strong" if strongly else "weak"
    )
    largest = int(np.argmax(np.bincount(labels)))
    keep_node = labels == largest
    keep_edge = keep_node[u] & keep_node[v]
    report = ComponentReport(
        strongly=strongly,
        components=int(count),
        nodes_total=n,
        edges_total=len(u),
        nodes_kept=int(keep_node.sum()),
        edges_kept=int(keep_edge.sum()),
    )
    if report.edges_kept == 0:
        raise NetworkError(
            f"The street network{where} is disconnected into {count:,} parts with no street "
            "in common: it cannot be routed on. Load a larger area (area=...) or another mode."
        )
    logger.info("network%s: %s", where, report)
    if report.nodes_kept < 0.5 * n:
        warnings.warn(
            f"The street network{where} is badly disconnected: {report}. Distances only use "
            "the largest part; check that the file or area covers the whole study area and "
            "that the mode is right.",
            GeoplanWarning,
            stacklevel=3,
        )
    new_index = np.cumsum(keep_node) - 1
    lon, lat = streets.lon[keep_node], streets.lat[keep_node]
    eu = new_index[u[keep_edge]].astype(np.intp)
    ev = new_index[v[keep_edge]].astype(np.intp)
    metric = _metric_crs(crs, lon, lat)
    transformer = pyproj.Transformer.from_crs(4326, metric, always_xy=True)
    x, y = transformer.transform(lon, lat)
    length = great_circle_m(lon[eu], lat[eu], lon[ev], lat[ev])
    minutes_fwd = length / (speed_fwd[keep_edge] * 1000.0 / 60.0)
    minutes_bwd = length / (speed_bwd[keep_edge] * 1000.0 / 60.0)
    e_fwd, e_bwd = fwd[keep_edge], bwd[keep_edge]
    edge_ids = np.arange(len(eu), dtype=np.intp)
    arc_tail = np.concatenate([eu[e_fwd], ev[e_bwd]])
    arc_head = np.concatenate([ev[e_fwd], eu[e_bwd]])
    arc_edge = np.concatenate([edge_ids[e_fwd], edge_ids[e_bwd]])
    arc_minutes = np.concatenate([minutes_fwd[e_fwd], minutes_bwd[e_bwd]])
    order = np.argsort(arc_tail, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(arc_tail, minlength=len(lon)))]).astype(
        np.intp
    )
    arc_edge = arc_edge[order]
    return StreetNetwork(
        x=np.asarray(x, np.float64),
        y=np.asarray(y, np.float64),
        lon=lon,
        lat=lat,
        node_id=streets.node_id[keep_node],
        edge_u=eu,
        edge_v=ev,
        edge_way_id=way_id[keep_edge],
        edge_length_m=length,
        edge_minutes_forward=minutes_fwd,
        edge_minutes_backward=minutes_bwd,
        edge_forward=e_fwd,
        edge_backward=e_bwd,
        indptr=indptr,
        arc_head=arc_head[order].astype(np.intp),
        arc_edge=arc_edge,
        arc_length_m=length[arc_edge],
        arc_minutes=arc_minutes[order],
        crs=metric,
        mode=streets.mode,
        access_speed_kmh=float(access_speed_kmh),
        report=report,
        source=streets.source,
    )

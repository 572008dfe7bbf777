"""Street networks through osmnx: GraphML files, downloads, networkx graphs.

:func:`read_graphml` and :func:`streets_from_graph` turn an osmnx
``MultiDiGraph`` (simplified or not, projected or not) into the same
:class:`~geoplan.streets.osm.OsmStreets` segments that :func:`~geoplan.streets.osm.read_osm`
streams from OSM files; :func:`download_streets` fetches a place name or a
bounding box with osmnx (needs internet access to the Overpass service) and
caches it as GraphML; :func:`to_networkx` turns a network back into an
osmnx-style graph (for osmnx functions, plotting, or an independent check).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geoplan._errors import LayerNotFoundError, NetworkError
from geoplan.streets.osm import (
    OsmStreets,
    _speed_table,
    _streets_from_paths,
    check_mode,
    parse_maxspeed,
)

__all__ = ["check_bbox", "download_streets", "read_graphml", "streets_from_graph"]


logger = logging.getLogger(__name__)


def download_streets(
    query: str | tuple[float, float, float, float],
    *,
    mode: str,
    area: shapely.Geometry | None,
    speeds_kmh: float | Mapping[str, float] | None,
    cache_dir: str | Path | None,
) -> OsmStreets:
    """Download a place or bounding box with osmnx into street segments.

    Parameters
    ----------
    query
        A place name osmnx can geocode, or a ``(west, south, east, north)`` box.
    mode, area, speeds_kmh
        As for :func:`~geoplan.streets.osm.read_osm`.
    cache_dir
        Folder for the downloaded GraphML (reused on the next call) and for
        osmnx's HTTP cache; ``None`` to not cache.

    Returns
    -------
    OsmStreets
        The downloaded streets.
    """
    import osmnx as ox

    cached: Path | None = None
    if cache_dir is not None:
        folder = Path(cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        ox.settings.cache_folder = str(folder / "http")
        slug = "".join(c if c.isalnum() else "_" for c in str(query)).strip("_")[:80]
        cached = folder / f"{slug}-{mode}.graphml"
        if cached.is_file():
            logger.info("using cached network %s", cached)
            return read_graphml(cached, mode=mode, area=area, speeds_kmh=speeds_kmh)
    kind = "bike" if mode == "ebike" else mode  # osmnx's network type: e-bikes ride bike ways
    try:
        if isinstance(query, str):
            graph = ox.graph_from_place(query, network_type=kind, simplify=False, retain_all=True)
        else:
            graph = ox.graph_from_bbox(query, network_type=kind, simplify=False, retain_all=True)
    except Exception as exc:
        raise NetworkError(
            f"Could not download the street network for {query!r} with osmnx ({exc}). "
            "Without internet access (or where the Overpass service is unreachable), download "
            "a regional extract such as a province .osm.pbf, then use "
            "load_network('province.osm.pbf', area=study_area); if the name was not "
            "found, try a more specific name or a (west, south, east, north) box."
        ) from exc
    if cached is not None:
        ox.save_graphml(graph, cached)
    return streets_from_graph(graph, mode=mode, area=area, speeds_kmh=speeds_kmh, source=str(query))


def check_bbox(values: Sequence[Any]) -> tuple[float, float, float, float]:
    """Validate a ``(west, south, east, north)`` box in degrees.

    Parameters
    ----------
    values
        Four numbers.

    Returns
    -------
    tuple of float
        The box.
    """
    try:
        west, south, east, north = (float(v) for v in values)
    except (TypeError, ValueError):
        raise NetworkError(
            f"A bounding box must be four numbers (west, south, east, north), got {values!r}."
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise NetworkError(
            f"Bounding box {tuple(values)!r} is not (west, south, east, north) in degrees: "
            "west < east within -180..180 and south < north within -90..90 (check the order; "
            "Changzhou is about (119.8, 31.6, 120.2, 31.9))."
        )
    return west, south, east, north


def read_graphml(
    path: str | Path,
    *,
    mode: str = "walk",
    area: shapely.Geometry | None = None,
    speeds_kmh: float | Mapping[str, float] | None = None,
) -> OsmStreets:
    """Read a GraphML street graph written by osmnx into street segments.

    Parameters
    ----------
    path
        A ``.graphml`` file (``osmnx.save_graphml``), projected or not.
    mode, area, speeds_kmh
        As for :func:`~geoplan.streets.osm.read_osm`.  The graph's own edges are used as they are
        (osmnx already chose them for its network type); ``speed_kph`` edge
        attributes are used for driving where present.

    Returns
    -------
    OsmStreets
        One segment per straight piece of every edge geometry.
    """
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise LayerNotFoundError(
            f"GraphML file not found: {str(path)!r}. Check the path (osmnx.save_graphml "
            "writes such files)."
        )
    try:
        graph = ox.load_graphml(path)
    except Exception as exc:
        raise NetworkError(
            f"Cannot read {str(path)!r} as an osmnx GraphML street graph ({exc}). Give a file "
            "written by osmnx.save_graphml, or an .osm/.osm.pbf file."
        ) from exc
    return streets_from_graph(graph, mode=mode, area=area, speeds_kmh=speeds_kmh, source=str(path))


def streets_from_graph(
    graph: Any,
    *,
    mode: str = "walk",
    area: shapely.Geometry | None = None,
    speeds_kmh: float | Mapping[str, float] | None = None,
    source: str = "networkx graph",
) -> OsmStreets:
    """Convert an osmnx ``MultiDiGraph`` into street segments.

    Edge geometries are split into straight segments; their inner vertices
    become nodes with negative ids, shared by an edge and its reverse.  An
    edge and its reverse along the same way become one two-way segment.

    Parameters
    ----------
    graph
        An osmnx graph (``graph.graph["crs"]`` set, nodes with ``x``/``y``).
    mode, area, speeds_kmh
        As for :func:`~geoplan.streets.osm.read_osm`.
    source
        Description used in messages.

    Returns
    -------
    OsmStreets
        The graph's streets as segments.
    """
    import pyproj

    mode = check_mode(mode)
    table = _speed_table(mode, speeds_kmh)
    if graph.number_of_edges() == 0:
        raise NetworkError(
            f"The street graph from {source!r} has no edges: nothing to route on. Load a "
            "larger area or another mode."
        )
    crs = pyproj.CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    to_lonlat = (
        None if crs.is_geographic else pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    )
    node_ids = list(graph.nodes)
    node_xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in node_ids], float)
    node_pos = {n: i for i, n in enumerate(node_ids)}
    vertex_pos: dict[tuple[float, float], int] = {}
    extra_xy: list[tuple[float, float]] = []
    paths: list[list[int]] = []
    attrs: list[tuple[int, float]] = []
    for u, v, data in graph.edges(data=True):
        geometry = data.get("geometry")
        path = [node_pos[u]]
        if geometry is not None:
            for vx, vy in list(geometry.coords)[1:-1]:
                key = (round(vx, 7), round(vy, 7))
                if key not in vertex_pos:
                    vertex_pos[key] = len(node_ids) + len(extra_xy)
                    extra_xy.append((vx, vy))
                path.append(vertex_pos[key])
        path.append(node_pos[v])
        paths.append(path)
        attrs.append((_first_int(data.get("osmid")), _graph_speed(data, mode, table)))
    xy = np.vstack([node_xy, np.asarray(extra_xy, float).reshape(-1, 2)])
    if to_lonlat is not None:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([lon, lat])
    ids = np.concatenate(
        [np.asarray([_first_int(n) for n in node_ids], np.int64), -1 - np.arange(len(extra_xy))]
    )
    # segments of each directed edge, then merge an edge with its reverse
    seg_a = np.concatenate([np.asarray(p[:-1], np.intp) for p in paths])
    seg_b = np.concatenate([np.asarray(p[1:], np.intp) for p in paths])
    seg_way = np.repeat(np.asarray([a[0] for a in attrs], np.int64), [len(p) - 1 for p in paths])
    seg_speed = np.repeat(np.asarray([a[1] for a in attrs]), [len(p) - 1 for p in paths])
    lo, hi = np.minimum(seg_a, seg_b), np.maximum(seg_a, seg_b)
    order = np.lexsort((hi, lo, seg_way))
    sorted_keys = np.column_stack([seg_way[order], lo[order], hi[order]])
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    group = np.cumsum(new) - 1
    first = order[new]
    fwd_dir = seg_a[order] == lo[order]
    forward = np.zeros(len(first), dtype=bool)
    backward = np.zeros(len(first), dtype=bool)
    np.logical_or.at(forward, group, fwd_dir)
    np.logical_or.at(backward, group, ~fwd_dir)
    if mode != "drive":
        forward[:] = True
        backward[:] = True
    speed = np.zeros(len(first))
    np.maximum.at(speed, group, seg_speed[order])
    counts = np.full(len(first), 2, dtype=np.intp)
    refs = np.column_stack([ids[lo[first]], ids[hi[first]]]).reshape(-1)
    pos = np.column_stack([lo[first], hi[first]]).reshape(-1)
    return _streets_from_paths(
        refs,
        xy[pos, 0],
        xy[pos, 1],
        counts,
        way_ids=seg_way[first],
        speed_kmh=speed,
        forward=forward,
        backward=backward,
        mode=mode,
        source=source,
        ways_seen=len(np.unique(seg_way)),
        area=area,
        divisor=1.0,
    )


def _first_int(value: Any) -> int:
    if isinstance(value, list | tuple):
        value = value[0] if value else 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _first_str(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def _graph_speed(data: Mapping[str, Any], mode: str, table: Mapping[str, float]) -> float:
    if mode == "drive":
        speed = data.get("speed_kph")
        if speed is not None and float(speed) > 0:
            return float(speed)
        parsed = parse_maxspeed(_first_str(data.get("maxspeed")))
        if parsed is not None:
            return parsed
    return float(table.get(_first_str(data.get("highway")) or "", table["default"]))

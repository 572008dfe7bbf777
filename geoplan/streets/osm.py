"""Read street networks from OpenStreetMap sources into plain arrays.

Every source -- an OSM file (``.osm``, ``.osm.xml``, ``.osm.bz2``,
``.osm.pbf``), a GraphML file written by osmnx, or a place name or bounding
box downloaded with osmnx -- ends up as the same :class:`OsmStreets`: the
street *segments* (one per pair of consecutive nodes of a way) with their OSM
node ids, longitude/latitude, travel speed and allowed directions.
:mod:`geoplan.streets.network` turns that into a routable, projected network.

Every OSM file is read by libosmium (:mod:`geoplan.streets._osm_file`): node
locations stay in its index and only the ways with a ``highway`` tag are
handed over, as text parsed into arrays, without a Python object per node.
No networkx graph is built.

Which ways are kept per mode follows osmnx's network types (``walk``,
``bike``, ``drive``; the same tag filters, written as regular expressions as
in osmnx's Overpass queries).  ``ebike`` (electric bicycles, which carry a
large share of commutes in Chinese cities) rides the ways a bicycle may, at
:data:`EBIKE_SPEED_KMH`.  One-way streets (``oneway=yes|true|1|-1|
reverse``, roundabouts and motorways implicitly) are respected for ``drive``
only; walking and cycling may use every kept way in both directions.

Walking also respects ``motorroad=yes`` and ``access=no|private`` (unless
``foot=yes|designated|permissive``), and ``walk_rules`` decides whether
elevated roads and road tunnels without a sidewalk are walked: not in China
(``"china"``, the default there), as OSM's defaults say elsewhere
(``"osm"``); see :mod:`geoplan.streets._walk_rules` for the exact rule and how
"in China" is decided.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geoplan._errors import LayerNotFoundError, NetworkError
from geoplan.streets._osm_file import UNDEFINED, HighwayWays, read_highways
from geoplan.streets._walk_rules import (
    WALK_RULES,
    car_only_structure,
    check_walk_rules,
    in_china,
    pedestrians_barred,
    way_lengths_km,
)

__all__ = [
    "BIKE_SPEED_KMH",
    "DRIVE_SPEEDS_KMH",
    "EBIKE_SPEED_KMH",
    "MODES",
    "OSM_SUFFIXES",
    "WALK_RULES",
    "WALK_SPEED_KMH",
    "OsmStreets",
    "check_mode",
    "parse_maxspeed",
    "read_osm",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MODES = ("walk", "bike", "drive", "ebike")
"""Travel modes, with osmnx's network types of the same names (``ebike``: ``bike``'s)."""

OSM_SUFFIXES = (".osm", ".osm.xml", ".xml", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
"""File name endings read as OpenStreetMap data."""

WALK_SPEED_KMH = 4.8
"""Default walking speed (km/h), also used for the off-network legs."""

BIKE_SPEED_KMH = 15.0
"""Default cycling speed (km/h)."""

EBIKE_SPEED_KMH = 20.0
"""Default e-bike speed (km/h): a typical urban riding speed, under the 25 km/h that
China's e-bike standard (GB 17761-2018) allows."""

DRIVE_SPEEDS_KMH: Mapping[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 30.0,
    "service": 20.0,
    "default": 30.0,
}
"""Driving speeds (km/h) by ``highway`` class, used where ``maxspeed`` is missing."""

# Tag filters of osmnx's network types (osmnx._overpass._get_network_filter):
# a way is dropped when the value of any listed key matches the regex, exactly
# like Overpass' ["key"!~"regex"].  Walking checks access=private (and no) in
# pedestrians_barred instead, where foot=yes may allow it.
_COMMON = {"area": "yes"}
_ACCESS = {"access": "private"}
_EXCLUDE: dict[str, dict[str, re.Pattern[str]]] = {
    mode: {key: re.compile(rx) for key, rx in {**_COMMON, **rules}.items()}
    for mode, rules in {
        "drive": {
            "highway": "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|"
            "elevator|escalator|footway|no|path|pedestrian|planned|platform|proposed|"
            "raceway|razed|rest_area|service|services|steps|track",
            "motor_vehicle": "no",
            "motorcar": "no",
            "service": "alley|driveway|emergency_access|parking|parking_aisle|private",
            **_ACCESS,
        },
        "walk": {
            "highway": "abandoned|bus_guideway|construction|cycleway|motor|no|planned|"
            "platform|proposed|raceway|razed|rest_area|services",
            "foot": "no",
            "service": "private",
            "sidewalk": "separate",
            "sidewalk:both": "separate",
            "sidewalk:left": "separate",
            "sidewalk:right": "separate",
        },
        "bike": {
            "highway": "abandoned|bus_guideway|construction|corridor|elevator|escalator|"
            "footway|motor|no|planned|platform|proposed|raceway|razed|rest_area|"
            "services|steps",
            "bicycle": "no",
            "service": "private",
            **_ACCESS,
        },
    }.items()
}
_EXCLUDE["ebike"] = _EXCLUDE["bike"]  # e-bikes ride where bicycles may (China: non-motor lanes)
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_IMPLICIT_ONEWAY_HIGHWAY = frozenset({"motorway"})
_IMPLICIT_ONEWAY_JUNCTION = frozenset({"roundabout", "circular"})

# Implicit maxspeed values ("CN:urban", "DE:rural", "RU:motorway", "walk"...), km/h.
_ZONE_SPEEDS_KMH = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 10.0,
    "bicycle_road": 30.0,
    "walk": 6.0,
    "nsl_single": 60 * 1.609344,
    "nsl_dual": 70 * 1.609344,
    "nsl_restricted": 30 * 1.609344,
}
_COUNTRY_ZONE_SPEEDS_KMH = {
    "CN:rural": 70.0,
    "CN:motorway": 120.0,
    "DE:rural": 100.0,
    "AT:rural": 100.0,
    "FR:rural": 80.0,
    "RU:rural": 90.0,
    "US:urban": 25 * 1.609344,
}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_ZONE_NUMBER = re.compile(r"zone:?(\d+)$")


@dataclass(frozen=True)
class OsmStreets:
    """Street segments of one travel mode, before routing preparation.

    Attributes
    ----------
    node_id : numpy.ndarray
        OSM id of every node (``int64``); negative for vertices that osmnx
        geometries add between graph nodes (GraphML sources).
    lon, lat : numpy.ndarray
        Node coordinates in degrees (EPSG:4326).
    edge_u, edge_v : numpy.ndarray
        Node positions of each segment's ends, in the way's drawing order.
    edge_way_id : numpy.ndarray
        OSM id of the way each segment belongs to.
    edge_speed_kmh : numpy.ndarray
        Travel speed on each segment.
    edge_forward, edge_backward : numpy.ndarray
        Whether the segment may be travelled from ``u`` to ``v`` and from
        ``v`` to ``u``.
    mode : str
        Travel mode the segments were selected for.
    source : str
        Where the data came from (a path, or a description).
    ways_seen, ways_kept : int
        Ways with a ``highway`` tag in the source, and those kept for ``mode``.
    """

    node_id: Int64Array
    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_way_id: Int64Array
    edge_speed_kmh: FloatArray
    edge_forward: BoolArray
    edge_backward: BoolArray
    mode: str
    source: str
    ways_seen: int
    ways_kept: int


def check_mode(mode: object) -> str:
    """Return ``mode`` if it is a known travel mode, else raise :class:`NetworkError`.

    Parameters
    ----------
    mode
        The requested travel mode.

    Returns
    -------
    str
        The mode, lower-cased.
    """
    if isinstance(mode, str) and mode.lower() in MODES:
        return mode.lower()
    raise NetworkError(
        f"Unknown travel mode {mode!r}: use one of {', '.join(repr(m) for m in MODES)} "
        "(walk, bike and ebike use every way in both directions, drive respects one-way "
        "streets)."
    )


def parse_maxspeed(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h.

    Parameters
    ----------
    value
        The tag value: ``"50"``, ``"50 mph"``, ``"30 knots"``, ``"CN:urban"``,
        ``"DE:zone30"``, ``"walk"``, several values separated by ``;``...

    Returns
    -------
    float or None
        The speed in km/h (the mean when several values are given, as
        osmnx does), or ``None`` when the value gives no usable number
        (``"none"``, ``"signals"``, ``"variable"``, garbage).
    """
    if not value:
        return None
    speeds: list[float] = []
    for part in re.split(r"[;|,]", value):
        speed = _parse_one_maxspeed(part.strip())
        if speed is not None:
            speeds.append(speed)
    return sum(speeds) / len(speeds) if speeds else None


def _parse_one_maxspeed(value: str) -> float | None:
    match = _NUMBER.match(value)
    if match:
        number = float(match.group(1))
        unit = match.group(2)
        if unit == "mph":
            number *= 1.609344
        elif unit == "knots":
            number *= 1.852
        return number if number > 0 else None
    if value in _COUNTRY_ZONE_SPEEDS_KMH:
        return _COUNTRY_ZONE_SPEEDS_KMH[value]
    zone = value.split(":", 1)[-1].lower()
    if zone in _ZONE_SPEEDS_KMH:
        return _ZONE_SPEEDS_KMH[zone]
    match = _ZONE_NUMBER.search(zone)
    if match:
        return float(match.group(1))
    return None


def _speed_table(mode: str, speeds_kmh: float | Mapping[str, float] | None) -> dict[str, float]:
    """Speeds by highway class (key ``"default"`` for the rest)."""
    if mode == "drive":
        table = dict(DRIVE_SPEEDS_KMH)
    else:
        speeds = {"walk": WALK_SPEED_KMH, "bike": BIKE_SPEED_KMH, "ebike": EBIKE_SPEED_KMH}
        table = {"default": speeds[mode]}
    if speeds_kmh is None:
        return table
    if isinstance(speeds_kmh, Mapping):
        table.update({str(k): float(v) for k, v in speeds_kmh.items()})
    else:
        table = {"default": float(speeds_kmh)}
    bad = {k: v for k, v in table.items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise NetworkError(
            f"Speeds must be positive numbers of km/h, got {bad!r}: "
            "give e.g. speeds_kmh=4.8 (walk) or speeds_kmh={'residential': 25}."
        )
    return table


def _way_rules(tags: Any, mode: str, table: Mapping[str, float]) -> tuple[float, bool, bool] | None:
    """Speed and allowed directions of a way, or ``None`` if ``mode`` may not use it."""
    for key, pattern in _EXCLUDE[mode].items():
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return None
    if mode == "walk" and pedestrians_barred(tags):
        return None
    highway = tags.get("highway") or ""
    speed = None
    if mode == "drive":
        speed = parse_maxspeed(tags.get("maxspeed"))
    if speed is None:
        speed = table.get(highway, table["default"])
    if mode != "drive":
        return speed, True, True
    oneway = tags.get("oneway")
    if oneway in _ONEWAY_YES:
        return speed, True, False
    if oneway in _ONEWAY_REVERSE:
        return speed, False, True
    if oneway not in _ONEWAY_NO and (
        highway in _IMPLICIT_ONEWAY_HIGHWAY or tags.get("junction") in _IMPLICIT_ONEWAY_JUNCTION
    ):
        return speed, True, False
    return speed, True, True


def _walk_structures(
    rules: list[tuple[float, bool, bool] | None],
    ways: HighwayWays,
    walk_rules: str,
    area: shapely.Geometry | None,
    source: str,
) -> list[tuple[float, bool, bool] | None]:
    """``rules`` without the elevated roads and road tunnels that ``walk_rules`` keeps
    pedestrians off (see :mod:`geoplan.streets._walk_rules`); logs what was left out."""
    valid = (ways.x != UNDEFINED) & (ways.y != UNDEFINED)
    lon = np.where(valid, ways.x / 1e7, np.nan)
    lat = np.where(valid, ways.y / 1e7, np.nan)
    if walk_rules == "auto":
        if area is not None:
            centre = shapely.centroid(area)
            where = "the area's centre"
            lon0, lat0 = float(shapely.get_x(centre)), float(shapely.get_y(centre))
        else:
            where = "the streets' median position"
            lon0 = float(np.nanmedian(lon)) if valid.any() else math.nan
            lat0 = float(np.nanmedian(lat)) if valid.any() else math.nan
        walk_rules = "china" if in_china(lon0, lat0) else "osm"
        logger.info(
            "%s: walk_rules='auto': %s (%.4f, %.4f) is %s China, so walk_rules=%r",
            source, where, lon0, lat0, "in" if walk_rules == "china" else "not in", walk_rules,
        )  # fmt: skip
    if walk_rules == "osm":
        return rules
    barred = np.array(
        [r is not None and car_only_structure(t) for r, t in zip(rules, ways.tags, strict=True)],
        dtype=np.bool_,
    )
    if barred.any():
        refs = np.repeat(barred, ways.counts)
        km = way_lengths_km(lon[refs], lat[refs], ways.counts[barred])
        logger.info(
            "%s: walk_rules='china': %d ways (%.1f km) of elevated roads and road tunnels "
            "without a sidewalk or foot tag are not walked (walk_rules='osm' walks them)",
            source, int(barred.sum()), float(km.sum()),
        )  # fmt: skip
    return [None if b else r for r, b in zip(rules, barred.tolist(), strict=True)]


def _osm_format(path: Path) -> str:
    name = path.name.lower()
    compression = ""
    for suffix in (".bz2", ".gz"):
        if name.endswith(suffix):
            compression = suffix
            name = name[: -len(suffix)]
    if name.endswith(".pbf"):
        return "pbf" + compression
    if name.endswith((".osm", ".xml")):
        return "osm" + compression
    raise NetworkError(
        f"Not an OpenStreetMap file name: {str(path)!r}. Give a file ending in "
        f"{', '.join(OSM_SUFFIXES)}, a GraphML file (.graphml), a place name or a "
        "(west, south, east, north) bounding box."
    )


def read_osm(
    path: str | Path,
    *,
    mode: str = "walk",
    area: shapely.Geometry | None = None,
    speeds_kmh: float | Mapping[str, float] | None = None,
    walk_rules: str = "auto",
) -> OsmStreets:
    """Stream an OpenStreetMap file into street segments.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.xml``, ``.osm.bz2`` or ``.osm.pbf`` file.
    mode
        ``"walk"``, ``"bike"``, ``"ebike"`` or ``"drive"``: which ways to keep and how fast
        they are travelled.
    area
        Keep only segments whose two ends lie in this polygon (EPSG:4326);
        use it to clip a regional extract to a study area.
    speeds_kmh
        A single speed for every way, or speeds by ``highway`` class with a
        ``"default"`` key.  Defaults: walk :data:`WALK_SPEED_KMH`, bike
        :data:`BIKE_SPEED_KMH`, ebike :data:`EBIKE_SPEED_KMH`, drive ``maxspeed`` then :data:`DRIVE_SPEEDS_KMH`.
    walk_rules
        For walking: ``"china"`` leaves out elevated roads and road tunnels
        of the car network without a sidewalk, ``"osm"`` keeps them (OSM's
        defaults), ``"auto"`` uses ``"china"`` where ``area`` (else the
        file's streets) lies in China (see :mod:`geoplan.streets._walk_rules`).

    Returns
    -------
    OsmStreets
        The segments of the kept ways (not yet reduced to a connected part).
    """
    mode = check_mode(mode)
    walk_rules = check_walk_rules(walk_rules)
    path = Path(path)
    if not path.exists():
        raise LayerNotFoundError(
            f"OpenStreetMap file not found: {str(path)!r}. Check the path, or download an "
            "extract (e.g. a province .osm.pbf from Geofabrik) and pass it with area=... ."
        )
    if not path.is_file():  # a folder, or a device or pipe that would never end or never start
        raise NetworkError(
            f"{str(path)!r} is not a regular file (a folder, device or pipe); give the path of "
            "an .osm or .osm.pbf file."
        )
    table = _speed_table(mode, speeds_kmh)
    osm_format = _osm_format(path)
    try:
        ways = read_highways(path, osm_format)
    except NetworkError:
        raise
    except (RuntimeError, ValueError) as exc:  # what libosmium refuses
        raise NetworkError(
            f"Cannot read {str(path)!r} as OpenStreetMap data ({exc}). Check that it is an "
            "OSM XML or PBF file (not GeoJSON, CSV or a web page saved by mistake) and that "
            "the name ends in .osm/.osm.xml/.osm.bz2 for XML and .osm.pbf for PBF; if it is, "
            "download it again (it may be cut short or damaged)."
        ) from exc
    rules = [_way_rules(tags, mode, table) for tags in ways.tags]
    if mode == "walk":
        rules = _walk_structures(rules, ways, walk_rules, area, str(path))
    kept = np.array([r is not None for r in rules], dtype=np.bool_) & (ways.counts >= 2)
    chosen = [r for r, k in zip(rules, kept.tolist(), strict=True) if k and r is not None]
    logger.info("%s: %d highway ways, %d kept for %s", path, len(rules), len(chosen), mode)
    refs_kept = np.repeat(kept, ways.counts)
    return _streets_from_paths(
        ways.refs[refs_kept],
        ways.x[refs_kept],
        ways.y[refs_kept],
        ways.counts[kept],
        way_ids=ways.way_id[kept],
        speed_kmh=np.array([r[0] for r in chosen], dtype=np.float64),
        forward=np.array([r[1] for r in chosen], dtype=np.bool_),
        backward=np.array([r[2] for r in chosen], dtype=np.bool_),
        mode=mode,
        source=str(path),
        ways_seen=len(rules),
        area=area,
        divisor=1e7,
    )


def _streets_from_paths(
    refs: Int64Array,
    xs: npt.NDArray[Any],
    ys: npt.NDArray[Any],
    counts: IntArray,
    *,
    way_ids: Int64Array,
    speed_kmh: FloatArray,
    forward: BoolArray,
    backward: BoolArray,
    mode: str,
    source: str,
    ways_seen: int,
    area: shapely.Geometry | None,
    divisor: float,
) -> OsmStreets:
    """Turn node paths (concatenated, ``counts`` nodes each) into segments."""
    n_ways = len(counts)
    way_of_ref = np.repeat(np.arange(n_ways), counts)
    last = np.cumsum(counts) - 1
    is_start = np.ones(len(refs), dtype=bool)
    is_start[last] = False
    first = np.nonzero(is_start)[0]
    seg_way = way_of_ref[first]
    node_id, first_pos, inverse = np.unique(refs, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    x = np.asarray(xs[first_pos])
    y = np.asarray(ys[first_pos])
    valid = (x != UNDEFINED) & (y != UNDEFINED)
    lon = x.astype(np.float64) / divisor  # exact decimal degrees
    lat = y.astype(np.float64) / divisor
    u = inverse[first]
    v = inverse[first + 1]
    keep = valid[u] & valid[v] & (u != v)
    missing = int(np.count_nonzero(~(valid[u] & valid[v])))
    if missing:
        logger.warning(
            "%s: %d segments refer to nodes missing from the file (cut at the extract's "
            "edge) and were dropped",
            source,
            missing,
        )
    if area is not None:
        inside = np.zeros(len(node_id), dtype=bool)
        inside[valid] = shapely.contains_xy(area, lon[valid], lat[valid])
        keep &= inside[u] & inside[v]
    u, v, seg_way = u[keep], v[keep], seg_way[keep]
    used = np.zeros(len(node_id), dtype=bool)
    used[u] = True
    used[v] = True
    new_index = np.cumsum(used) - 1
    return OsmStreets(
        node_id=node_id[used].astype(np.int64),
        lon=lon[used],
        lat=lat[used],
        edge_u=new_index[u].astype(np.intp),
        edge_v=new_index[v].astype(np.intp),
        edge_way_id=way_ids[seg_way].astype(np.int64),
        edge_speed_kmh=speed_kmh[seg_way].astype(np.float64),
        edge_forward=forward[seg_way].astype(bool),
        edge_backward=backward[seg_way].astype(bool),
        mode=mode,
        source=source,
        ways_seen=ways_seen,
        ways_kept=len(np.unique(seg_way)),
    )

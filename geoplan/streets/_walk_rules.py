"""Who may walk where: access tags, and the rule for elevated roads and road tunnels.

Walking follows osmnx's ``walk`` network filter (:mod:`geoplan.streets.osm`), plus
what OpenStreetMap's tags say about pedestrians:

* ``motorroad=yes`` (a road for motor vehicles only) and ``access=no`` /
  ``access=private`` are not walked, unless ``foot=yes|designated|permissive``
  says pedestrians may; ``foot=no`` is never walked.
* **Elevated roads and road tunnels** (:func:`car_only_structure`): in China,
  urban expressways (快速路) and their ramps are usually tagged
  ``highway=trunk``/``trunk_link`` with ``bridge=yes`` and nothing saying that
  pedestrians may not use them; cross-river road tunnels are ``trunk``,
  ``primary`` or ``secondary`` with ``tunnel=yes``.  Pedestrians may not use
  them, but by OSM's defaults they could.  With ``walk_rules="china"`` such
  ways are not walked: ``highway`` one of ``motorway``, ``trunk`` or
  ``primary`` (or their ``_link``) on a bridge (``bridge`` other than
  ``no``) or above ground (``layer`` > 0), or one of those or ``secondary``
  (``_link``) in a tunnel (``tunnel`` other than ``no`` or
  ``building_passage``) -- unless a ``sidewalk``/``footway`` tag
  (``yes|both|left|right``) or ``foot=yes|designated|permissive`` says there
  is a way for pedestrians.  With ``walk_rules="osm"`` they are walked, as in
  OSM's defaults.

``walk_rules="auto"`` (the default) uses ``"china"`` where the study lies in
China and ``"osm"`` elsewhere.  Where it lies is the centre of the clipping
area (a study's area), or without one the median position of the file's
street nodes, tested against :data:`CHINA_OUTLINE`: a coarse outline of
mainland China and Hainan (with Hong Kong, Macau and the islands next to the
coast, among them Kinmen and Matsu), about 100 vertices, drawn on the land
borders and along sea lines midway to Korea, Japan, Taiwan, the Philippines
and Vietnam.  Against Natural Earth's country outlines it holds over 98 % of
China and less than 4 % of any neighbour; near a land border (tens of km) the
answer can be wrong -- twin cities on a border river, such as Dandong and
Sinŭiju, fall on one side -- so studies there should set ``walk_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import shapely

from geoplan._errors import NetworkError
from geoplan.io.coords import great_circle_m

__all__ = [
    "CHINA_OUTLINE",
    "WALK_RULES",
    "car_only_structure",
    "check_walk_rules",
    "in_china",
    "pedestrians_barred",
    "way_lengths_km",
]

WALK_RULES = ("auto", "china", "osm")
"""Values of ``walk_rules``: decide from the study's position, or China's or OSM's rules."""

CHINA_OUTLINE = (
    (130.6, 42.4), (130.7, 42.9), (131.3, 43.0), (131.3, 44.9), (133.1, 45.1), (134.7, 48.3),
    (132.5, 47.7), (130.7, 48.9), (127.7, 49.6), (125.5, 53.1), (122.4, 53.6), (120.0, 52.6),
    (119.3, 50.3), (117.8, 49.6), (116.6, 49.9), (115.4, 48.0), (117.7, 47.8), (119.8, 46.6),
    (117.4, 46.6), (116.2, 45.6), (113.6, 44.7), (111.9, 43.8), (111.1, 43.4), (107.0, 42.3),
    (105.0, 41.6), (100.9, 42.7), (96.4, 42.7), (95.3, 44.3), (93.5, 45.0), (90.9, 45.3),
    (90.7, 47.8), (87.8, 49.2), (86.7, 49.1), (85.5, 47.1), (83.0, 47.2), (82.3, 45.5),
    (80.4, 45.1), (80.8, 43.2), (80.2, 42.1), (78.2, 41.0), (76.2, 40.4), (73.6, 39.5),
    (74.8, 38.4), (74.9, 37.2), (75.4, 36.9), (77.8, 35.5), (79.5, 35.6), (78.9, 34.3),
    (78.7, 32.8), (79.4, 32.5), (78.7, 31.5), (81.1, 30.0), (82.1, 30.3), (83.5, 29.3),
    (85.2, 28.6), (86.9, 28.0), (88.1, 27.9), (88.7, 28.1), (89.6, 28.2), (90.5, 28.1),
    (91.6, 27.9), (93.8, 28.8), (95.5, 29.2), (96.5, 29.0), (97.4, 28.2), (98.6, 27.5),
    (98.7, 25.9), (97.7, 24.9), (97.6, 23.9), (98.9, 23.2), (99.5, 22.1), (101.2, 21.2),
    (101.7, 22.5), (102.4, 22.4), (103.5, 22.7), (104.3, 22.7), (105.3, 23.3), (106.7, 22.8),
    (106.6, 22.3), (107.9, 21.5), (108.2, 20.3), (107.6, 17.9), (109.5, 17.2), (112.0, 18.5),
    (116.5, 21.5), (118.6, 23.2), (119.8, 25.1), (121.0, 26.6), (123.0, 28.0), (124.5, 31.0),
    (124.0, 35.0), (123.9, 37.5), (124.0, 39.6), (124.5, 40.0), (125.0, 40.5), (126.0, 41.0),
    (127.0, 41.5), (128.1, 41.4), (128.3, 42.0), (129.4, 42.4), (130.0, 42.9),
)  # fmt: skip
"""Coarse outline of China, ``(lon, lat)`` in degrees (see the module docstring)."""

_CHINA = shapely.Polygon(CHINA_OUTLINE)
shapely.prepare(_CHINA)

_PERMITTED = frozenset({"yes", "designated", "permissive"})
_SIDEWALK = frozenset({"yes", "both", "left", "right"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right", "footway")
_BARRED_ACCESS = re.compile(r"private|^no$")  # osmnx drops access~"private" for every mode
_ELEVATED_CLASSES = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"}
)
_TUNNEL_CLASSES = _ELEVATED_CLASSES | {"secondary", "secondary_link"}
_NOT_A_ROAD_TUNNEL = frozenset({"no", "building_passage"})


def check_walk_rules(value: object) -> str:
    """Return ``value`` if it is one of :data:`WALK_RULES`, else raise :class:`NetworkError`."""
    if isinstance(value, str) and value in WALK_RULES:
        return value
    raise NetworkError(
        f"Unknown walk_rules {value!r}: use 'auto' (China's rules where the study lies in "
        "China, OSM's elsewhere), 'china' (elevated roads and road tunnels without a sidewalk "
        "are not walked) or 'osm' (they are, as in OpenStreetMap's defaults)."
    )


def in_china(lon: float, lat: float) -> bool:
    """Whether a point lies inside :data:`CHINA_OUTLINE` (a coarse test; see the module docstring)."""
    return bool(shapely.contains_xy(_CHINA, lon, lat))


def _foot_permitted(tags: Mapping[str, str]) -> bool:
    return tags.get("foot") in _PERMITTED


def pedestrians_barred(tags: Mapping[str, str]) -> bool:
    """Whether the way's own tags keep pedestrians off it: ``motorroad=yes`` or
    ``access=no|private``, unless ``foot=yes|designated|permissive``."""
    barred = tags.get("motorroad") == "yes" or bool(_BARRED_ACCESS.search(tags.get("access") or ""))
    return barred and not _foot_permitted(tags)


def _layer(tags: Mapping[str, str]) -> float:
    try:
        return float(tags.get("layer") or 0)
    except ValueError:
        return 0.0


def car_only_structure(tags: Mapping[str, str]) -> bool:
    """Whether a way is an elevated road or road tunnel that China's rule keeps pedestrians off.

    See the module docstring: a bridge or above-ground road of the motorway,
    trunk or primary classes, or a tunnel of those or secondary roads, with
    no sidewalk or ``foot`` permission tagged.
    """
    highway = tags.get("highway") or ""
    bridge = (tags.get("bridge") or "no") != "no" or _layer(tags) > 0
    tunnel = (tags.get("tunnel") or "no") not in _NOT_A_ROAD_TUNNEL
    structure = (bridge and highway in _ELEVATED_CLASSES) or (tunnel and highway in _TUNNEL_CLASSES)
    if not structure or _foot_permitted(tags):
        return False
    return not any(tags.get(key) in _SIDEWALK for key in _SIDEWALK_KEYS)


def way_lengths_km(lon: np.ndarray, lat: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Great-circle length of ways of ``counts`` nodes each (NaN coordinates: no length)."""

    step = np.nan_to_num(great_circle_m(lon[:-1], lat[:-1], lon[1:], lat[1:]))
    step = np.concatenate([step, [0.0]])
    step[np.cumsum(counts) - 1] = 0.0  # no step from one way's last node to the next way
    owner = np.repeat(np.arange(len(counts)), counts)
    return np.bincount(owner, weights=step, minlength=len(counts)) / 1000.0

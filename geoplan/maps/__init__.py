"""Planning maps: map building, the sites layer, context layers, basemaps, offline assets, PNG.

Holds ``build`` (make_map, save_map), private ``_*`` parts, ``basemaps``, ``offline``, ``snapshot``.
May import io, measure, decide and study (what it draws); only the CLI stands above it.
"""

from geoplan.maps._data import ATTRIBUTE_LABELS, INELIGIBLE_COLOR
from geoplan.maps._elements import FeatureLayer, RingsLayer, SitesLayer
from geoplan.maps.build import (
    DEFAULT_LINE_COLORS,
    DEFAULT_RINGS_M,
    MAP_OPTION_KEYS,
    OfflineAssetError,
    make_map,
    map_html,
    map_kwargs,
    save_map,
)

__all__ = [
    "ATTRIBUTE_LABELS",
    "DEFAULT_LINE_COLORS",
    "DEFAULT_RINGS_M",
    "INELIGIBLE_COLOR",
    "MAP_OPTION_KEYS",
    "FeatureLayer",
    "OfflineAssetError",
    "RingsLayer",
    "SitesLayer",
    "make_map",
    "map_html",
    "map_kwargs",
    "save_map",
]

"""The offline context basemap: roads, rail, water, green space and districts under the analysis.

Private to :mod:`geoplan.maps.build`.  With no tiles (an intranet, or
``basemap="none"``) a map of shapes on beige tells nobody where a site is, so
a map draws, quietly and under every analysis layer, the context the planner
already has:

* a study layer named ``context`` (``[layers.context]``) whose ``kind`` column
  says what each feature is (:data:`KINDS`), such as the Changzhou sample's
  hand-drawn one; or
* the study's OpenStreetMap file (its ``[network]`` source), read with the
  same libosmium reader and checks as its points of interest
  (:func:`geoplan.streets.osm_pois.read_osm_shapes`): motorways and trunk,
  primary, secondary and tertiary roads, railways, rivers and canals, water,
  parks and woods, and the administrative districts.

The shapes are clipped to the map's extent and simplified in metres
(shapely), more and more coarsely and dropping the least important kinds
last, until they fit a size budget (``[map] context_kb``, 1,500 KB by
default); the page draws them on one canvas with the names of districts and
waters as plain text labels.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.map import Layer
from folium.template import Template

from geoplan.io.coords import local_metric_crs
from geoplan.maps._data import _display_geometry, _is_missing
from geoplan.maps._i18n import current, pair, tr
from geoplan.maps._page import PageDataMixin

__all__ = ["KINDS", "ContextLayer", "add_backdrop", "context_from_osm", "fit_budget"]

logger = logging.getLogger(__name__)

#: What a context feature may be, in drawing order, with its style (quiet, under everything).
KINDS: Final[Mapping[str, dict[str, Any]]] = {
    "water": {"stroke": False, "fillColor": "#b3d7e6", "fillOpacity": 1.0},
    "green": {"stroke": False, "fillColor": "#cfe8c6", "fillOpacity": 0.9},
    "river": {"color": "#9cc9dc", "weight": 2.5, "fill": False},
    "canal": {"color": "#86bcd3", "weight": 3.5, "fill": False},
    "tertiary": {"color": "#ffffff", "weight": 1.2, "fill": False},
    "secondary": {"color": "#fdf3da", "weight": 2.0, "fill": False},
    "primary": {"color": "#f6dfa8", "weight": 2.8, "fill": False},
    "motorway": {"color": "#eeb98a", "weight": 3.6, "fill": False},
    "rail": {"color": "#8a8a8a", "weight": 1.6, "dashArray": "7 4", "fill": False},
    "district": {
        "color": "#8d7b6f",
        "weight": 1.4,
        "dashArray": "8 4 2 4",
        "opacity": 0.8,
        "fill": False,
    },
}
#: Dropped first when the budget is tight (the last ones are kept longest).
_DROP_ORDER: Final = ("tertiary", "green", "secondary", "river", "rail", "primary", "water")
#: Kinds whose names are drawn as labels.
_LABELLED: Final = {"district": "gp-ctx-district", "water": "gp-ctx-water", "canal": "gp-ctx-water"}
_TOLERANCES_M: Final = (2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
DEFAULT_BUDGET_KB: Final = 1500.0

_ROADS: Final = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "motorway",
    "trunk_link": "motorway",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
}
_GREEN: Final = (
    ("leisure", "park"),
    ("landuse", "forest"),
    ("landuse", "grass"),
    ("landuse", "recreation_ground"),
    ("landuse", "meadow"),
    ("natural", "wood"),
)
_OSM_TAGS: Final = (
    *(("highway", v) for v in _ROADS),
    ("railway", "rail"),
    ("waterway", "river"),
    ("waterway", "canal"),
    ("waterway", "riverbank"),
    ("natural", "water"),
    *_GREEN,
    ("boundary", "administrative"),
)
_OSM_KEYS: Final = (
    "highway",
    "railway",
    "waterway",
    "natural",
    "landuse",
    "leisure",
    "boundary",
    "admin_level",
    "name",
    "name:zh",
)


# --------------------------------------------------------------------------------------
# From an OpenStreetMap file
# --------------------------------------------------------------------------------------


def _osm_kind(row: Mapping[str, Any], polygon: bool) -> str | None:
    highway = row.get("highway")
    if highway in _ROADS and not polygon:
        return _ROADS[str(highway)]
    if row.get("railway") == "rail" and not polygon:
        return "rail"
    waterway = row.get("waterway")
    if waterway in ("river", "canal") and not polygon:
        return str(waterway)
    if polygon and (row.get("natural") == "water" or waterway == "riverbank"):
        return "water"
    if polygon and any(row.get(k) == v for k, v in _GREEN):
        return "green"
    if polygon and row.get("boundary") == "administrative":
        return "district"
    return None


def context_from_osm(path: str | Path, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The context features of an OpenStreetMap file that meet ``bbox`` (degrees).

    Districts are the administrative areas of one level: the first of levels
    6, 7, 8 and 5 with two or more areas meeting the box (a city's districts
    are level 6 in China).

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind`` (one of :data:`KINDS`), ``name``, ``name_zh`` and the shape, in EPSG:4326.
    """
    from geoplan.streets.osm_pois import read_osm_shapes

    found = read_osm_shapes(path, tags=_OSM_TAGS, keys=_OSM_KEYS, bbox=bbox)
    polygon = (found.geom_type.isin(["Polygon", "MultiPolygon"])).to_numpy()
    records = found.drop(columns=found.geometry.name).to_dict("records")
    kinds = [_osm_kind(r, p) for r, p in zip(records, polygon, strict=True)]
    frame = gpd.GeoDataFrame(
        {
            "kind": kinds,
            "name": found["name"],
            "name_zh": found["name:zh"],
            "admin_level": found["admin_level"],
        },
        geometry=found.geometry.values,
        crs="EPSG:4326",
    )
    frame = frame[frame["kind"].notna()]
    districts = frame["kind"] == "district"
    if districts.any():
        levels = frame.loc[districts, "admin_level"].value_counts()
        level = next((lv for lv in ("6", "7", "8", "5") if levels.get(lv, 0) >= 2), None)
        frame = frame[~districts | (frame["admin_level"] == level)]
    logger.info("context from %s: %d features (%s)", Path(path).name, len(frame), _counts(frame))
    return frame.drop(columns="admin_level").reset_index(drop=True)


def _counts(frame: pd.DataFrame) -> str:
    return ", ".join(f"{k} {n}" for k, n in frame["kind"].value_counts().items())


# --------------------------------------------------------------------------------------
# To a size budget
# --------------------------------------------------------------------------------------


def _size(geoms: np.ndarray) -> int:
    """About how many bytes the shapes take in the page (5 decimals, ~22 bytes a vertex)."""
    if not len(geoms):
        return 0
    return int(shapely.get_num_coordinates(geoms).sum()) * 22 + len(geoms) * 60


def fit_budget(
    frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float], budget_kb: float
) -> tuple[gpd.GeoDataFrame, float]:
    """The context clipped to ``bbox`` (degrees) and simplified to fit ``budget_kb``.

    Lines of a kind and name are merged first; then tolerances of 2, 5, 10 ...
    160 m are tried (small polygons and short lines dropped at each); past the
    last, the least important kinds are dropped (tertiary roads first).

    Returns
    -------
    tuple
        The simplified frame (EPSG:4326) and the tolerance used, in metres.
    """
    budget = budget_kb * 1000.0
    if not len(frame):
        return frame, 0.0
    crs = local_metric_crs(bbox)
    box = gpd.GeoSeries([shapely.box(*bbox)], crs="EPSG:4326").to_crs(crs).iloc[0]
    metric = frame.to_crs(crs)
    metric = metric.set_geometry(shapely.intersection(metric.geometry.values, box))
    metric = metric[~metric.geometry.is_empty]
    lines = metric.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    if lines.any():  # one feature per kind and name: fewer, longer lines
        named = metric[lines].assign(_name=metric.loc[lines, "name"].fillna(""))
        merged = named.dissolve(by=["kind", "_name"], as_index=False, dropna=False)
        merged["geometry"] = shapely.line_merge(merged.geometry.values)
        metric = pd.concat([metric[~lines], merged.drop(columns="_name")], ignore_index=True)
    kinds = list(KINDS)
    tolerance = 0.0
    for tolerance in _TOLERANCES_M:
        shaped = metric.set_geometry(
            shapely.simplify(metric.geometry.values, tolerance, preserve_topology=True)
        )
        area = shapely.area(shaped.geometry.values)
        length = shapely.length(shaped.geometry.values)
        polygon = shaped.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        keep = np.where(polygon, area >= (6 * tolerance) ** 2, length >= 4 * tolerance)
        keep |= (shaped["kind"] == "district").to_numpy()
        shaped = shaped[keep]
        if _size(shaped.geometry.values) <= budget:
            break
    for kind in _DROP_ORDER:
        if _size(shaped.geometry.values) <= budget:
            break
        shaped = shaped[shaped["kind"] != kind]
        kinds.remove(kind)
        logger.info("context: %s left out to stay within %.0f KB", kind, budget_kb)
    out = shaped[~shaped.geometry.is_empty].to_crs("EPSG:4326")
    return out.reset_index(drop=True), tolerance


# --------------------------------------------------------------------------------------
# On the map
# --------------------------------------------------------------------------------------


class ContextLayer(PageDataMixin, Layer):
    """The context basemap: one canvas of quiet shapes, and text labels (never HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        (function (group, data) {
            var renderer = L.canvas({pane: "gpContext", padding: 0.2});
            L.geoJson(data.shapes, {
                pane: "gpContext",
                renderer: renderer,
                interactive: false,
                style: function (f) { return data.styles[f.properties.k] || {}; },
                pointToLayer: function (f, ll) {
                    return L.circleMarker(ll, {radius: 2, renderer: renderer, interactive: false});
                }
            }).addTo(group);
            data.labels.forEach(function (l) {
                var div = document.createElement("div");
                div.textContent = l[2];
                group.addLayer(L.marker([l[0], l[1]], {
                    pane: "gpContext", interactive: false, keyboard: false,
                    icon: L.divIcon({className: "gp-ctx-label " + l[3], html: div,
                                     iconSize: null})
                }));
            });
        })({{ this.get_name() }}, {{ this.data_ref }});
        {% endmacro %}
        """
    )

    def __init__(self, shapes: dict[str, Any], labels: list[list[Any]], *, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ContextLayer"
        self.page_data = {
            "shapes": shapes,
            "labels": labels,
            "styles": {k: {"pane": "gpContext", **v} for k, v in KINDS.items()},
        }


def _name(row: Mapping[str, Any]) -> str | None:
    zh = row.get("name_zh")
    en = row.get("name")
    zh = None if _is_missing(zh) or not str(zh).strip() else str(zh)
    en = None if _is_missing(en) or not str(en).strip() else str(en)
    if zh is None and en is None:
        return None
    return pair(zh or "", en or zh or "", sep="\u2002") if current() == "en" else (zh or en)


def _label_point(geom: shapely.Geometry) -> shapely.Point:
    if geom.geom_type in ("LineString", "MultiLineString"):
        merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
        longest = max(merged.geoms, key=lambda g: g.length) if hasattr(merged, "geoms") else merged
        return shapely.line_interpolate_point(longest, 0.5, normalized=True)
    return shapely.point_on_surface(geom)


def _features(frame: gpd.GeoDataFrame, shift: bool) -> tuple[dict[str, Any], list[list[Any]]]:
    shown, geoms = _display_geometry(frame, to_gcj02=shift, what="context")
    geoms = shapely.set_precision(geoms, 1e-5)
    order = {k: i for i, k in enumerate(KINDS)}
    rows = shown.drop(columns=shown.geometry.name).to_dict("records")
    ranked = sorted(range(len(rows)), key=lambda i: order.get(str(rows[i]["kind"]), 99))
    features, labels = [], []
    seen: set[str] = set()
    for i in ranked:
        if shapely.is_empty(geoms[i]):
            continue
        kind = str(rows[i]["kind"])
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geoms[i])),
                "properties": {"k": kind},
            }
        )
        name = _name(rows[i])
        if kind in _LABELLED and name and name not in seen:
            seen.add(name)
            point = _label_point(geoms[i])
            labels.append([round(point.y, 5), round(point.x, 5), name, _LABELLED[kind]])
    return {"type": "FeatureCollection", "features": features}, labels


def _study_context(study: Any) -> gpd.GeoDataFrame | None:
    layers = getattr(study, "layers", None) if study is not None else None
    if isinstance(layers, Mapping) and isinstance(layers.get("context"), gpd.GeoDataFrame):
        frame: gpd.GeoDataFrame = layers["context"]
        return frame
    return None


def _osm_source(study: Any) -> Path | None:
    network = getattr(study, "network", None) if study is not None else None
    source = network.get("source") if isinstance(network, Mapping) else None
    if isinstance(source, str) and source.lower().endswith((".pbf", ".osm", ".bz2", ".gz")):
        path = Path(source)
        return path if path.is_file() else None
    return None


def add_backdrop(
    m: folium.Map,
    study: Any,
    context: bool | str | Path | gpd.GeoDataFrame | None,
    *,
    bbox: tuple[float, float, float, float],
    shift: bool,
    budget_kb: float,
) -> bool:
    """Draw the context basemap when there is one to draw; return whether one was drawn.

    ``context``: a frame with ``kind``; a path to an OSM file; ``None``/``True``
    for the study's ``context`` layer, else its ``[network]`` OSM file; ``False``
    for none.
    """
    if context is False:
        return False
    frame: gpd.GeoDataFrame | None = None
    if isinstance(context, gpd.GeoDataFrame):
        frame = context
    elif isinstance(context, str | Path):
        frame = context_from_osm(context, bbox)
    else:
        frame = _study_context(study)
        if frame is None:
            source = _osm_source(study)
            if source is not None:
                frame = context_from_osm(source, bbox)
    if frame is None or not len(frame):
        return False
    if "kind" not in frame.columns:
        logger.warning(
            "the context layer has no 'kind' column (one of %s), so it is not drawn",
            ", ".join(KINDS),
        )
        return False
    unknown = sorted(set(frame["kind"].dropna().astype(str)) - set(KINDS))
    if unknown:
        logger.warning("context: kinds %r are not drawn; use one of %s", unknown, ", ".join(KINDS))
    frame = frame[frame["kind"].astype(str).isin(list(KINDS))]
    fitted, tolerance = fit_budget(frame.to_crs("EPSG:4326"), bbox, budget_kb)
    shapes, labels = _features(fitted, shift)
    logger.info(
        "context basemap: %d shapes (simplified to %g m), %d labels",
        len(shapes["features"]),
        tolerance,
        len(labels),
    )
    ContextLayer(shapes, labels, name=tr("m_context")).add_to(m)
    return True


def map_bbox(
    sites: np.ndarray, area: gpd.GeoDataFrame | None, margin: float = 0.15
) -> tuple[float, float, float, float]:
    """The extent the context covers: the study area (else the sites), with a margin."""
    geoms = (
        np.asarray(area.to_crs("EPSG:4326").geometry.values, dtype=object)
        if area is not None and len(area)
        else sites
    )
    if not len(geoms):
        return (0.0, 0.0, 0.0, 0.0)
    west, south, east, north = (float(v) for v in shapely.total_bounds(geoms))
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return (0.0, 0.0, 0.0, 0.0)
    dx, dy = max(east - west, 0.01) * margin, max(north - south, 0.01) * margin
    return (west - dx, south - dy, east + dx, north + dy)

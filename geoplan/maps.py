"""Interactive planning maps: ranked sites and their context, as one HTML file.

:func:`make_map` draws the output of :func:`geoplan.rank_sites` on a Leaflet
map (through folium); :func:`save_map` writes it, by default as one
self-contained file that opens with no network at all (apart from basemap
tiles; with ``basemap="none"`` nothing leaves the machine).

What the map shows
------------------
* **Candidate sites** as one GeoJSON layer drawn on a canvas (20,000 sites stay
  responsive), coloured by total score with a legend that belongs to that
  layer (it hides when the layer is switched off).  The top *N* eligible
  sites carry their rank number; ineligible sites are grey and say why on
  hover.  A click opens the score breakdown: each criterion's raw value with
  its unit, its 0-1 score, weight and contribution; the nearest industrial
  park and metro station with distances; the site's own attributes; all
  labels in Chinese and English.  The popup is built in the browser from
  compact per-site properties, and every string is HTML-escaped there.
* **Context layers**: industrial parks (polygons or points, with jobs), metro
  stations in their lines' colours, station-area rings (500 m and 800 m by
  default), exclusion zones, facilities, the study area and, when given,
  walk-time isochrones (polygons with a ``minutes`` column).
* Layer control, full screen, minimap, measuring tool, search by site name,
  a title and a methodology note (method, weights, decay functions, data
  sources and dates) drawn on the map itself so a printed or forwarded map
  explains itself.

Options
-------
Every keyword of :func:`make_map` left at ``None`` is taken from the study's
``[map]`` table (``study.map_options``) and otherwise from the defaults:

=====================  ===============  ==============================================
key                    default          meaning
=====================  ===============  ==============================================
``basemap``            ``carto-light``  ``osm``, ``carto-light``, ``tianditu``, ``gaode``,
                                        ``none``; or a list, the first one shown
``top_n``              study ``top``    how many best sites carry their rank (10)
``title``              study title      map title (Chinese and English titles joined)
``rings_m``            ``[500, 800]``   station-area ring radii in metres (``[]``: none)
``line_colors``        Line 1 blue,     metro line -> colour, e.g. ``{"1" = "#1f5fae"}``
                       Line 2 orange
``minimap``            ``true``         show the overview minimap
``search``             ``true``         show the site-name search box
``layer_control_``     ``false``        collapse the layer list into an icon
``collapsed``
``tianditu_key``       (none)           prefer the ``TIANDITU_KEY`` environment variable
``embed_key``          ``false``        write the Tianditu key into the HTML
``data_sources``       layer files      list of strings for the methodology note
``data_date``          (none)           date of the data, for the methodology note
``colors``             YlGnBu           list of colours for the score ramp (low -> high)
=====================  ===============  ==============================================

``offline`` (default ``true``) belongs to :func:`save_map`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path, PurePosixPath
from typing import Any, Final

import branca.colormap as bcm
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geoplan import basemaps as _basemaps
from geoplan._errors import (
    CoordinateError,
    GeoplanError,
    OfflineAssetError,
    OutputWriteError,
    StudyError,
)
from geoplan.outputs import atomic_path

__all__ = [
    "DEFAULT_LINE_COLORS",
    "DEFAULT_RINGS_M",
    "MAP_OPTION_KEYS",
    "OfflineAssetError",
    "make_map",
    "map_html",
    "map_kwargs",
    "save_map",
]

logger = logging.getLogger(__name__)


DEFAULT_RINGS_M: Final = (500.0, 800.0)
#: Changzhou Metro: Line 1 blue, Line 2 orange-red (override with ``[map] line_colors``).
DEFAULT_LINE_COLORS: Final = {"1": "#1f5fae", "2": "#e0542e"}
_EXTRA_LINE_COLORS: Final = ("#2e7d32", "#8e24aa", "#f9a825", "#00838f", "#6d4c41", "#c2185b")
DEFAULT_SCORE_COLORS: Final = (
    "#ffffcc",
    "#c7e9b4",
    "#7fcdbb",
    "#41b6c4",
    "#1d91c0",
    "#225ea8",
    "#0c2c84",
)
INELIGIBLE_COLOR: Final = "#9e9e9e"
_RAMP_STEPS: Final = 101
_DISPLAY_DECIMALS: Final = 6
_MAX_ATTRIBUTES: Final = 14
#: Above this many characters of explanations in all, popups leave them out (size).
_MAX_EXPLANATION_CHARS: Final = 600_000

#: Columns that rank_sites computes (everything else is the site's own attribute).
_COMPUTED: Final = frozenset(
    {
        "score",
        "rank",
        "eligible",
        "reason",
        "notes",
        "explanation",
        "nearest_park_name",
        "nearest_park_m",
        "nearest_station_name",
        "nearest_station_m",
    }
)
_NAME_COLUMNS: Final = ("name_zh", "name")

#: Bilingual labels for common attribute columns (others show their column name).
ATTRIBUTE_LABELS: Final = {
    "site_id": "编号 ID",
    "id": "编号 ID",
    "district": "行政区 District",
    "capacity": "容量（套） Capacity (units)",
    "land_ha": "用地面积 Land (ha)",
    "area_ha": "面积 Area (ha)",
    "area_m2": "面积 Area (m²)",
    "status": "状态 Status",
    "kind": "类型 Kind",
    "type": "类型 Type",
    "owner": "权属 Owner",
    "address": "地址 Address",
    "land_use": "用地性质 Land use",
    "jobs": "就业岗位 Jobs",
    "lines": "线路 Lines",
    "minutes": "时间（分钟） Minutes",
    "health_buffer_m": "卫生防护距离 Health buffer (m)",
}
_UNIT_LABELS: Final = {
    "m": "m",
    "km": "km",
    "min": "min",
    "count": "个",
    "jobs": "岗位 jobs",
}
_METHOD_LABELS: Final = {
    "weighted_sum": "加权求和 weighted sum",
    "topsis": "TOPSIS",
    "vikor": "VIKOR",
    "owa": "有序加权平均 OWA",
}

# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _esc(value: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def _js_json(value: object) -> str:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(float(value)))
    except (TypeError, ValueError):
        return False


def _num(value: object, digits: int | None = None) -> float | int | str | None:
    """A JSON-safe number: ``None`` for missing, ``"∞"`` for unreachable."""
    if _is_missing(value):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if digits is None:
        digits = 1 if abs(x) >= 100 else 3
    rounded = round(x, digits)
    if rounded == int(rounded) and abs(rounded) < 2**53:
        return int(rounded)
    return rounded


def _plain(value: object) -> object:
    """A JSON-safe version of a table cell for popups."""
    if _is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value, 2 if abs(float(value)) < 100 else 1)
    if isinstance(value, pd.Timestamp | dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _fmt_number(value: object) -> str:
    """Format an attribute for Python-built popups (context layers)."""
    plain = _plain(value)
    if plain is None:
        return "—"
    if isinstance(plain, bool):
        return "是 yes" if plain else "否 no"
    if isinstance(plain, int):
        return f"{plain:,}"
    if isinstance(plain, float):
        return f"{plain:,.2f}".rstrip("0").rstrip(".")
    return str(plain)


def _options_of(study: Any) -> dict[str, Any]:
    if study is None:
        return {}
    options = getattr(study, "map_options", None)
    if options is None:
        options = getattr(study, "map", None)
    return dict(options) if isinstance(options, Mapping) else {}


def _pick(explicit: Any, options: Mapping[str, Any], key: str, default: Any) -> Any:
    if explicit is not None:
        return explicit
    value = options.get(key)
    return default if value is None else value


def _study_layer(study: Any, names: Sequence[str]) -> gpd.GeoDataFrame | None:
    """A context layer from a study: ``study.layers[name]`` for the first name present."""
    if study is None:
        return None
    layers = getattr(study, "layers", None)
    for name in names:
        value: Any = None
        if isinstance(layers, Mapping) and name in layers:
            value = layers[name]
        elif callable(getattr(study, "layer", None)):
            try:
                value = study.layer(name)
            except (KeyError, LookupError, GeoplanError):
                value = None
        if value is None:
            continue
        for attribute in ("gdf", "frame", "data"):
            if not isinstance(value, gpd.GeoDataFrame) and hasattr(value, attribute):
                value = getattr(value, attribute)
        if isinstance(value, gpd.GeoDataFrame):
            return value
    return None


def _study_name_column(study: Any, layer: str) -> str | None:
    columns = getattr(study, "name_columns", None) if study is not None else None
    if isinstance(columns, Mapping):
        value = columns.get(layer)
        return str(value) if value else None
    return None


def _to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        bounds = frame.total_bounds if len(frame) else np.zeros(4)
        if np.all(np.isfinite(bounds)) and (
            -180 <= bounds[0] <= 180
            and -180 <= bounds[2] <= 180
            and -90 <= bounds[1] <= 90
            and -90 <= bounds[3] <= 90
        ):
            return frame.set_crs("EPSG:4326")
        raise CoordinateError(
            f"The {what} layer has no CRS and its coordinates {tuple(bounds)!r} are not "
            "longitude/latitude; set its CRS (e.g. frame.set_crs('EPSG:4549')) first."
        )
    return frame if frame.crs.equals("EPSG:4326") else frame.to_crs("EPSG:4326")


def _display_geometry(
    frame: gpd.GeoDataFrame, *, to_gcj02: bool, what: str
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """A display copy (WGS-84, optionally shifted to GCJ-02, 6 decimals) and its geometries.

    The input frame is never modified.
    """
    frame = _to_wgs84(frame, what)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.all():
        logger.info("%s: %d features without geometry are not drawn", what, int((~keep).sum()))
    frame = frame.loc[keep]
    geoms = geoms[keep]
    if to_gcj02:
        from geoplan.coords import wgs84_to_gcj02  # only needed for Amap maps

        def shift(xy: np.ndarray) -> np.ndarray:
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

        geoms = shapely.transform(geoms, shift)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, _DISPLAY_DECIMALS))
    return frame, np.asarray(geoms, dtype=object)


def _geometry_json(geom: Any) -> dict[str, Any]:
    if isinstance(geom, shapely.Point):
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    result: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return result


def _feature_name(row: Mapping[str, Any], name_column: str | None, fallback: str) -> str:
    parts: list[str] = []
    for column in ("name_zh", name_column, "name"):
        if column and column in row and not _is_missing(row[column]):
            text = str(row[column]).strip()
            if text and text not in parts:
                parts.append(text)
    return " / ".join(parts) if parts else fallback


def _attr_label(column: str) -> str:
    return ATTRIBUTE_LABELS.get(column, column.replace("_", " "))


# --------------------------------------------------------------------------------------
# Criteria and sites
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Criterion:
    name: str
    label: str
    label_zh: str
    unit: str
    weight: float
    decay: str
    value_column: str
    score_column: str
    contrib_column: str


def _value_columns(ranked: pd.DataFrame) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for column in ranked.columns:
        text = str(column)
        if text.startswith("value__") and text.count("__") >= 2:
            name, unit = text[len("value__") :].rsplit("__", 1)
            out[name] = (text, unit)
    return out


def _criteria(ranked: pd.DataFrame, study: Any) -> list[_Criterion]:
    """Criterion metadata from the ranking's attrs, the study, or the columns."""
    columns = _value_columns(ranked)
    meta: dict[str, dict[str, Any]] = {}
    for item in (ranked.attrs.get("geoplan") or {}).get("criteria") or []:
        if isinstance(item, Mapping) and "name" in item:
            meta[str(item["name"])] = dict(item)
    study_criteria = list(getattr(study, "criteria", None) or []) if study is not None else []
    raw_weights = {
        str(getattr(c, "name", "")): float(getattr(c, "weight", float("nan")))
        for c in study_criteria
    }
    total_weight = sum(w for w in raw_weights.values() if math.isfinite(w) and w > 0)
    for c in study_criteria:
        name = str(getattr(c, "name", ""))
        if not name or name in meta:
            continue
        unit = str(getattr(c, "value_unit", None) or getattr(c, "unit", "") or "")
        decay = getattr(c, "decay", "")
        describe = getattr(decay, "describe", None)
        weight = raw_weights.get(name, float("nan"))
        meta[name] = {
            "label": getattr(c, "title", None) or getattr(c, "label", None) or name,
            "label_zh": getattr(c, "label_zh", "") or "",
            "unit": unit,
            "weight": weight / total_weight if total_weight else weight,
            "decay": describe(unit) if callable(describe) else str(decay or ""),
        }
    out: list[_Criterion] = []
    for name, (value_column, unit) in columns.items():
        score_column, contrib_column = f"score__{name}", f"contrib__{name}"
        if score_column not in ranked.columns or contrib_column not in ranked.columns:
            continue
        info = meta.get(name, {})
        given_weight = info.get("weight")
        weight = float("nan") if given_weight is None else float(given_weight)
        if not math.isfinite(weight):
            score = pd.to_numeric(ranked[score_column], errors="coerce")
            contrib = pd.to_numeric(ranked[contrib_column], errors="coerce")
            ratio = (contrib / score.where(score > 1e-9)).dropna()
            weight = float(ratio.median()) if len(ratio) else float("nan")
        out.append(
            _Criterion(
                name=name,
                label=str(info.get("label") or name.replace("_", " ")),
                label_zh=str(info.get("label_zh") or ""),
                unit=str(info.get("unit") or unit),
                weight=float(weight),
                decay=str(info.get("decay") or ""),
                value_column=value_column,
                score_column=score_column,
                contrib_column=contrib_column,
            )
        )
    return out


def _prepare_ranked(ranked: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check and normalise the ranking (also as read back from a file)."""
    if not isinstance(ranked, gpd.GeoDataFrame):
        raise TypeError(
            f"make_map expects the GeoDataFrame returned by rank_sites, got "
            f"{type(ranked).__name__!r}"
        )
    if "score" not in ranked.columns:
        raise GeoplanError(
            f"The ranking has no 'score' column (columns: {list(ranked.columns)[:12]!r}); "
            "pass the output of geoplan.rank_sites (or a file it wrote)."
        )
    frame = ranked.copy()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    if "eligible" in frame.columns:
        eligible = frame["eligible"]
        if eligible.dtype == object:
            eligible = eligible.map(
                lambda v: (
                    str(v).strip().lower() in {"true", "1", "yes"}
                    if isinstance(v, str)
                    else (False if _is_missing(v) else bool(v))
                )
            )
        frame["eligible"] = eligible.fillna(False).astype(bool)
    else:
        frame["eligible"] = True
    if "rank" in frame.columns:
        frame["rank"] = pd.to_numeric(frame["rank"], errors="coerce").astype("Int64")
    else:
        frame["rank"] = (
            frame["score"]
            .where(frame["eligible"])
            .rank(method="min", ascending=False)
            .astype("Int64")
        )
    if "reason" not in frame.columns:
        frame["reason"] = ""
    return frame


def _site_labels(frame: pd.DataFrame) -> list[str]:
    """Unique display labels (search keys): Chinese and English names, else the id."""
    ids = frame["site_id"] if "site_id" in frame.columns else None
    labels: list[str] = []
    for i, row in enumerate(
        frame[[c for c in _NAME_COLUMNS if c in frame.columns]].to_dict("records")
    ):
        fallback = (
            str(ids.iloc[i]) if ids is not None and not _is_missing(ids.iloc[i]) else f"#{i + 1}"
        )
        labels.append(_feature_name(row, None, fallback))
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if any(n > 1 for n in counts.values()):
        for i, label in enumerate(labels):
            if counts[label] > 1:
                suffix = str(ids.iloc[i]) if ids is not None else str(i + 1)
                labels[i] = f"{label} ({suffix})"
    return labels


def _attribute_columns(frame: pd.DataFrame) -> list[str]:
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else "geometry"
    out = []
    for column in frame.columns:
        text = str(column)
        if column == geometry or text in _COMPUTED or text in _NAME_COLUMNS:
            continue
        if text.startswith(("value__", "score__", "contrib__")) or text.startswith("_"):
            continue
        out.append(text)
    return out[:_MAX_ATTRIBUTES]


def _encode_column(values: Sequence[Any], n: int) -> tuple[list[Any], list[Any] | None]:
    """Dictionary-encode a column of repeated strings (index into a shared list)."""
    plain = [_plain(v) for v in values]
    strings = [v for v in plain if isinstance(v, str)]
    if not strings or len(set(strings)) > max(8, n // 4):
        return plain, None
    lookup: dict[str, int] = {}
    codes: list[Any] = []
    for v in plain:
        if isinstance(v, str):
            codes.append(lookup.setdefault(v, len(lookup)))
        else:
            codes.append(None if v is None else v)
    if any(not isinstance(v, str) and v is not None for v in plain):
        return plain, None
    return codes, list(lookup)


def _site_features(
    frame: gpd.GeoDataFrame,
    geoms: np.ndarray,
    criteria: Sequence[_Criterion],
    attributes: Sequence[str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GeoJSON features with compact properties, and what the browser needs to read them."""
    labels = _site_labels(frame)
    n = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * n

    scores = frame["score"].to_numpy(dtype=float)
    ranks = frame["rank"].tolist()
    eligible = frame["eligible"].to_numpy(dtype=bool)
    reasons = column("reason")
    notes = column("notes")
    explanations = column("explanation")
    values = [frame[c.value_column].tolist() for c in criteria]
    crit_scores = [
        pd.to_numeric(frame[c.score_column], errors="coerce").to_numpy(dtype=float)
        for c in criteria
    ]
    contribs = [
        pd.to_numeric(frame[c.contrib_column], errors="coerce").to_numpy(dtype=float)
        for c in criteria
    ]
    # Contributions are weight x score: send them only if they are not (other methods).
    derived = all(
        np.allclose(w, c.weight * s, atol=5e-5, equal_nan=True)
        for c, s, w in zip(criteria, crit_scores, contribs, strict=True)
    )
    encoded = [_encode_column(frame[a].tolist(), n) for a in attributes]
    park_codes, park_names = _encode_column(column("nearest_park_name"), n)
    station_codes, station_names = _encode_column(column("nearest_station_name"), n)
    park_m, station_m = column("nearest_park_m"), column("nearest_station_m")
    explanation_chars = sum(len(str(e)) for e in explanations if not _is_missing(e))
    with_explanations = explanation_chars <= _MAX_EXPLANATION_CHARS
    if not with_explanations:
        logger.info(
            "make_map: %d sites: one-line explanations left out of the popups to keep the "
            "file small (the popup table shows the same numbers)",
            n,
        )
    point_fast = bool(len(geoms)) and bool(np.all(shapely.get_type_id(geoms) == 0))
    coords = shapely.get_coordinates(geoms) if point_fast else None

    features: list[dict[str, Any]] = []
    for i in range(n):
        props: dict[str, Any] = {
            "n": labels[i],
            "s": _num(scores[i], 4),
            "r": None if _is_missing(ranks[i]) else int(ranks[i]),
            "e": 1 if eligible[i] else 0,
        }
        if not eligible[i] and not _is_missing(reasons[i]) and str(reasons[i]):
            props["x"] = str(reasons[i])
        props["v"] = [_num(v[i]) for v in values]
        props["c"] = [_num(s[i], 4) for s in crit_scores]
        if not derived:
            props["w"] = [_num(w[i], 4) for w in contribs]
        if encoded:
            props["a"] = [codes[i] for codes, _ in encoded]
        if park_codes[i] is not None or not _is_missing(park_m[i]):
            props["pk"] = [park_codes[i], _num(park_m[i], 0)]
        if station_codes[i] is not None or not _is_missing(station_m[i]):
            props["st"] = [station_codes[i], _num(station_m[i], 0)]
        if with_explanations and not _is_missing(explanations[i]) and str(explanations[i]):
            props["ex"] = str(explanations[i])
        if not _is_missing(notes[i]) and str(notes[i]):
            props["no"] = str(notes[i])
        if coords is not None:
            geometry: dict[str, Any] = {
                "type": "Point",
                "coordinates": [float(coords[i, 0]), float(coords[i, 1])],
            }
        else:
            geometry = _geometry_json(geoms[i])
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    lookups = {
        "attrValues": [values for _, values in encoded],
        "parkNames": park_names,
        "stationNames": station_names,
        "contribDerived": derived,
    }
    return features, lookups


# --------------------------------------------------------------------------------------
# Map elements
# --------------------------------------------------------------------------------------

#: The browser half of the sites layer: styles, tooltips and the score popup, built
#: from compact properties; every string goes through ``esc``.
_SITES_KIT_JS: Final = r"""
window.geoplanSitesKit = function (meta) {
  var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function grouped(v, digits) {
    return v.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: 0});
  }
  function value(v, unit) {
    if (v === "∞") { return "不可达 unreachable"; }
    if (!isNum(v)) { return v === null || v === undefined ? "—" : esc(v); }
    if (unit === "m") { return v >= 1000 ? (v / 1000).toFixed(1) + " km" : Math.round(v) + " m"; }
    if (unit === "min") { return v.toFixed(1) + " min"; }
    if (unit === "count") { return grouped(v, 0) + " 个"; }
    var u = meta.units[unit] !== undefined ? meta.units[unit] : unit;
    return grouped(v, Math.abs(v) >= 100 ? 0 : 2) + (u ? " " + esc(u) : "");
  }
  function plain(v) {
    if (v === null || v === undefined) { return "—"; }
    if (v === true) { return "是 yes"; }
    if (v === false) { return "否 no"; }
    if (isNum(v)) { return grouped(v, 2); }
    return esc(v);
  }
  function lookup(values, code) {
    return values && code !== null && code !== undefined ? values[code] : code;
  }
  function fixed(v, d) { return isNum(v) ? v.toFixed(d) : "—"; }
  function color(s) {
    if (!isNum(s)) { return meta.grey; }
    var n = meta.ramp.length - 1;
    var i = Math.max(0, Math.min(n, Math.round(s * n)));
    return meta.ramp[i];
  }
  function isTop(p) { return p.e === 1 && p.r !== null && p.r !== undefined && p.r <= meta.topN; }
  function style(f) {
    var p = f.properties;
    var r = meta.radius || 7;
    if (p.e !== 1) {
      return {radius: Math.max(2.5, r - 2), color: "#616161", weight: r > 4 ? 1 : 0.5,
              opacity: 0.8, fillColor: meta.grey, fillOpacity: 0.5};
    }
    var top = isTop(p);
    return {radius: top ? Math.max(r, 8) : r, color: "#263238", weight: top ? 2 : (r > 4 ? 1 : 0.5),
            opacity: 0.9, fillColor: color(p.s), fillOpacity: 0.92};
  }
  function heading(p) {
    return (p.e === 1 && p.r !== null && p.r !== undefined ? "#" + esc(p.r) + " · " : "")
      + esc(p.n);
  }
  function tooltip(layer) {
    var p = layer.feature.properties;
    if (p.e !== 1) {
      return "<b>" + esc(p.n) + "</b><br><span class=\"gp-bad\">不符合条件 Ineligible</span>"
        + (p.x ? "<br>" + esc(p.x) : "");
    }
    return "<b>" + heading(p) + "</b><br>总分 Score " + fixed(p.s, 3);
  }
  function popup(layer) {
    var p = layer.feature.properties, h = [], i, c;
    h.push("<div class=\"gp-pop\"><div class=\"gp-pop-h\">" + heading(p) + "</div>");
    if (p.e === 1) {
      h.push("<div class=\"gp-pop-s\">总分 Score <b>" + fixed(p.s, 3) + "</b> · 排名 Rank <b>"
        + esc(p.r) + "</b> / " + esc(meta.nEligible) + "</div>");
    } else {
      h.push("<div class=\"gp-pop-s gp-bad\">不符合条件 Ineligible: " + esc(p.x || "—")
        + "<br><span class=\"gp-muted\">若符合条件，总分 Score if eligible: "
        + fixed(p.s, 3) + "</span></div>");
    }
    h.push("<table class=\"gp-tbl\"><thead><tr><th>指标<br>Criterion</th><th>原始值<br>Value</th>"
      + "<th>得分<br>Score</th><th>权重<br>Weight</th><th>贡献<br>Contribution</th></tr></thead><tbody>");
    var total = 0;
    for (i = 0; i < meta.criteria.length; i++) {
      c = meta.criteria[i];
      var s = p.c[i];
      var w = p.w ? p.w[i] : (isNum(s) && isNum(c.weight) ? c.weight * s : null);
      if (isNum(w)) { total += w; }
      var width = isNum(s) ? Math.round(Math.max(0, Math.min(1, s)) * 100) : 0;
      h.push("<tr><td class=\"gp-crit\">" + (c.zh ? esc(c.zh) + "<br>" : "")
        + "<span class=\"gp-en\">" + esc(c.label) + "</span></td>"
        + "<td class=\"gp-num\">" + value(p.v[i], c.unit) + "</td>"
        + "<td class=\"gp-num\"><span class=\"gp-bar\"><i style=\"width:" + width
        + "%;background:" + color(s) + "\"></i></span>" + fixed(s, 2) + "</td>"
        + "<td class=\"gp-num\">" + (isNum(c.weight) ? Math.round(c.weight * 100) + "%" : "—")
        + "</td><td class=\"gp-num\">" + fixed(w, 3) + "</td></tr>");
    }
    h.push("</tbody><tfoot><tr><td>合计 Total</td><td></td><td></td><td class=\"gp-num\">"
      + (isNum(meta.weightSum) ? Math.round(meta.weightSum * 100) + "%" : "")
      + "</td><td class=\"gp-num\"><b>" + total.toFixed(3) + "</b></td></tr></tfoot></table>");
    if (meta.methodNote) { h.push("<div class=\"gp-muted\">" + esc(meta.methodNote) + "</div>"); }
    h.push("<table class=\"gp-kv\">");
    if (p.pk) {
      h.push("<tr><th>最近产业园区<br>Nearest park</th><td>" + plain(lookup(meta.parkNames, p.pk[0])) + " · "
        + value(p.pk[1], "m") + "</td></tr>");
    }
    if (p.st) {
      h.push("<tr><th>最近地铁站<br>Nearest station</th><td>" + plain(lookup(meta.stationNames, p.st[0])) + " · "
        + value(p.st[1], "m") + "</td></tr>");
    }
    if (p.a) {
      for (i = 0; i < meta.attrs.length; i++) {
        h.push("<tr><th>" + esc(meta.attrs[i].label) + "</th><td>"
          + plain(lookup(meta.attrValues[i], p.a[i])) + "</td></tr>");
      }
    }
    h.push("</table>");
    if (p.no) { h.push("<div class=\"gp-note\">注 Notes: " + esc(p.no) + "</div>"); }
    if (p.ex) { h.push("<div class=\"gp-expl\">" + esc(p.ex) + "</div>"); }
    h.push("</div>");
    return h.join("");
  }
  return {esc: esc, style: style, tooltip: tooltip, popup: popup, color: color, isTop: isTop};
};
"""

_MAP_CSS: Final = """
.leaflet-container { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC",
  "Source Han Sans SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  font-size: 13px; background: #f2efe9; }
.gp-title { position: absolute; top: 10px; left: 56px; z-index: 800;
  background: rgba(255,255,255,0.94); padding: 6px 14px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); pointer-events: none;
  max-width: calc(100% - 640px); min-width: 260px; }
.gp-title-main { font-size: 17px; font-weight: 700; color: #17324d; line-height: 1.3; }
.gp-title-sub { font-size: 12px; color: #455a64; }
.gp-panel { background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); color: #263238; font-size: 12px; line-height: 1.4; }
.gp-method { max-width: 380px; max-height: 42vh; overflow-y: auto; }
.gp-method summary { font-weight: 700; cursor: pointer; }
.gp-method ul { margin: 4px 0 4px 16px; padding: 0; }
.gp-method p { margin: 4px 0; }
.gp-legend { min-width: 210px; }
.gp-legend-title { font-weight: 700; margin-bottom: 4px; }
.gp-ramp { height: 12px; border: 1px solid #90a4ae; border-radius: 2px; }
.gp-ticks { display: flex; justify-content: space-between; font-size: 11px; color: #455a64; }
.gp-key { display: flex; align-items: center; gap: 6px; margin-top: 4px; }
.gp-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  border: 1px solid #616161; }
.gp-sw { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  vertical-align: middle; margin-right: 2px; border: 1px solid rgba(0,0,0,0.3); }
.gp-sq { display: inline-block; width: 12px; height: 10px; vertical-align: middle;
  margin-right: 2px; }
.gp-rank { background: transparent; border: none; }
.gp-rank div { width: 22px; height: 22px; line-height: 20px; border-radius: 50%;
  border: 2px solid #212121; color: #fff; font-weight: 700; font-size: 12px;
  text-align: center; box-shadow: 0 1px 3px rgba(0,0,0,0.5); box-sizing: border-box;
  text-shadow: 0 0 2px #000; }
.gp-key .gp-rank-key { width: 18px; height: 18px; line-height: 16px; font-size: 11px;
  border-radius: 50%; border: 2px solid #212121; background: #225ea8; color: #fff;
  text-align: center; font-weight: 700; box-sizing: border-box; }
.gp-pop { font-size: 12px; min-width: 300px; }
.gp-pop-h { font-size: 14px; font-weight: 700; color: #17324d; margin-bottom: 2px; }
.gp-pop-s { margin-bottom: 6px; }
.gp-bad { color: #b71c1c; }
.gp-muted { color: #607d8b; font-size: 11px; }
.gp-en { color: #546e7a; font-size: 11px; }
.gp-tbl, .gp-kv { border-collapse: collapse; width: 100%; margin: 4px 0; }
.gp-tbl th, .gp-tbl td { border-bottom: 1px solid #e0e0e0; padding: 2px 4px;
  vertical-align: top; }
.gp-tbl th { background: #eceff1; font-weight: 600; font-size: 11px; text-align: left; }
.gp-tbl tfoot td { border-top: 2px solid #90a4ae; font-weight: 600; }
.gp-num { text-align: right; white-space: nowrap; }
.gp-bar { display: inline-block; width: 34px; height: 7px; background: #eceff1;
  margin-right: 4px; vertical-align: middle; }
.gp-bar i { display: block; height: 100%; }
.gp-kv th { text-align: left; font-weight: 600; color: #455a64; padding: 1px 6px 1px 0;
  font-size: 11px; vertical-align: top; width: 40%; }
.gp-kv td { padding: 1px 0; }
.gp-note { color: #e65100; margin-top: 4px; }
.gp-expl { color: #546e7a; font-size: 11px; margin-top: 4px; border-top: 1px dotted #b0bec5;
  padding-top: 3px; }
.gp-key-note { background: #fff8e1; border: 1px solid #ffb300; padding: 4px 8px;
  border-radius: 4px; font-size: 12px; max-width: 320px; }
.leaflet-control-layers-list { font-size: 12px; }
@media print {
  .leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-minimap,
  .leaflet-control-search, .leaflet-control-measure, .leaflet-control-fullscreen {
    display: none !important; }
  .gp-method { max-height: none; overflow: visible; }
}
"""


class _Style(MacroElement):
    """Page-wide CSS (fonts, legend, popups) and the sites kit script."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeoplanStyle"
        self.css = _MAP_CSS
        self.js = _SITES_KIT_JS


class _Panes(MacroElement):
    """Map panes that keep layers in a sensible order whatever their add order."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- for name, z in this.panes %}
        {{ this._parent.get_name() }}.createPane({{ name|tojson }}).style.zIndex = {{ z }};
        {%- endfor %}
        {{ this._parent.get_name() }}.getPane("gpRings").style.pointerEvents = "none";
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeoplanPanes"
        self.panes = [("gpAreas", 405), ("gpRings", 415), ("gpPoints", 430), ("gpSites", 450)]


class SitesLayer(folium.GeoJson):
    """Candidate sites: one GeoJSON layer on a canvas, styled and explained in the browser.

    The feature properties are compact (``n`` name, ``s`` score, ``r`` rank,
    ``e`` eligible, ``x`` reason, ``v``/``c``/``w`` raw values, scores and
    contributions per criterion, ``a`` attributes, ``pk``/``st`` nearest park
    and station, ``ex`` explanation, ``no`` notes); ``meta`` says what they mean.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_kit = window.geoplanSitesKit({{ this.meta_json }});
        var {{ this.get_name() }}_renderer = L.canvas({pane: "gpSites", padding: 0.3});
        var {{ this.get_name() }} = L.geoJson(null, {
            pane: "gpSites",
            renderer: {{ this.get_name() }}_renderer,
            style: {{ this.get_name() }}_kit.style,
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, Object.assign(
                    {pane: "gpSites", renderer: {{ this.get_name() }}_renderer},
                    {{ this.get_name() }}_kit.style(feature)));
            },
            onEachFeature: function (feature, layer) {
                layer.bindPopup({{ this.get_name() }}_kit.popup,
                    {maxWidth: 480, minWidth: 320, className: "gp-popup",
                     autoPanPaddingTopLeft: [60, 200], autoPanPaddingBottomRight: [40, 20]});
                layer.bindTooltip({{ this.get_name() }}_kit.tooltip,
                    {sticky: true, direction: "top", opacity: 0.95});
            }
        });
        {{ this.get_name() }}.addData({{ this.data_json }});
        {{ this.get_name() }}.geoplanRole = "sites";
        window.geoplanSites = {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        meta: Mapping[str, Any],
        *,
        name: str,
        show: bool = True,
    ) -> None:
        super().__init__(
            {"type": "FeatureCollection", "features": features},
            name=name,
            overlay=True,
            control=True,
            show=show,
        )
        self._name = "SitesLayer"
        self.meta = dict(meta)
        self.meta_json = _js_json(self.meta)
        self.data_json = _js_json({"type": "FeatureCollection", "features": features})


class TopLabels(Layer):
    """Rank badges for the top N eligible sites (DivIcons, click opens the site's popup)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        (function (sites, kit, group, topN) {
            var found = [];
            sites.eachLayer(function (layer) {
                if (kit.isTop(layer.feature.properties)) { found.push(layer); }
            });
            found.sort(function (a, b) {
                return b.feature.properties.r - a.feature.properties.r;
            });
            found.forEach(function (layer) {
                var p = layer.feature.properties;
                var ll = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
                var badge = document.createElement("div");
                badge.textContent = String(parseInt(p.r, 10));
                badge.style.background = kit.color(p.s);
                var marker = L.marker(ll, {
                    icon: L.divIcon({className: "gp-rank", html: badge,
                                     iconSize: [22, 22], iconAnchor: [11, 11]}),
                    keyboard: false,
                    zIndexOffset: 1000 + (topN - p.r)
                });
                marker.bindTooltip(function () { return kit.tooltip(layer); },
                    {direction: "top", offset: [0, -10], opacity: 0.95});
                marker.on("click", function () { layer.openPopup(ll); });
                group.addLayer(marker);
            });
        })({{ this.sites.get_name() }}, {{ this.sites.get_name() }}_kit,
           {{ this.get_name() }}, {{ this.top_n }});
        {% endmacro %}
        """
    )

    def __init__(self, sites: SitesLayer, top_n: int, *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TopLabels"
        self.sites = sites
        self.top_n = int(top_n)


class ScoreLegend(MacroElement):
    """The score legend, drawn from a branca colormap and bound to the sites layer.

    It shows while the sites layer is on the map and hides when the layer is
    switched off in the layer control (or removed by code).  Drawn with plain
    HTML/CSS (no d3), so it works offline and prints.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "gp-panel gp-legend");
            div.innerHTML = {{ this.html_json }};
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        (function (map, layer, legend) {
            function sync() {
                var box = legend.getContainer();
                if (box) { box.style.display = map.hasLayer(layer) ? "" : "none"; }
            }
            map.on("layeradd layerremove", function (e) { if (e.layer === layer) { sync(); } });
            sync();
        })({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        colormap: bcm.LinearColormap,
        layer: Layer,
        *,
        top_n: int,
        n_ineligible: int,
        position: str = "bottomright",
    ) -> None:
        super().__init__()
        self._name = "ScoreLegend"
        self.colormap = colormap
        self.layer = layer
        self.position = position
        stops = ", ".join(
            f"{colormap.rgb_hex_str(colormap.vmin + (colormap.vmax - colormap.vmin) * k / 10)} "
            f"{k * 10}%"
            for k in range(11)
        )
        ticks = "".join(f"<span>{t:g}</span>" for t in (0, 0.25, 0.5, 0.75, 1))
        parts = [
            f'<div class="gp-legend-title">{_esc(colormap.caption)}</div>',
            f'<div class="gp-ramp" style="background: linear-gradient(to right, {stops})"></div>',
            f'<div class="gp-ticks">{ticks}</div>',
        ]
        if top_n > 0:
            parts.append(
                '<div class="gp-key"><span class="gp-rank-key">1</span>'
                f"前 {int(top_n)} 名（排名） Top {int(top_n)} (rank)</div>"
            )
        if n_ineligible:
            parts.append(
                f'<div class="gp-key"><span class="gp-dot" style="background:{INELIGIBLE_COLOR}">'
                f"</span>不符合条件 Ineligible ({int(n_ineligible)})</div>"
            )
        self.html = "".join(parts)
        self.html_json = _js_json(self.html)


class MapInfo(MacroElement):
    """The title (top centre) and the methodology note (bottom left), inside the map."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <title>{{ this.page_title }}</title>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var title = L.DomUtil.create("div", "gp-title", map.getContainer());
            title.innerHTML = {{ this.title_json }};
            L.DomEvent.disableClickPropagation(title);
            var method = L.control({position: "bottomleft"});
            method.onAdd = function () {
                var div = L.DomUtil.create("div", "gp-panel gp-method");
                div.innerHTML = {{ this.method_json }};
                var size = map.getSize(), details = div.querySelector("details");
                if (details && (size.x < 1100 || size.y < 760)) { details.open = false; }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            method.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str, subtitle: str, method_html: str) -> None:
        super().__init__()
        self._name = "MapInfo"
        self.page_title = _esc(title)
        title_html = f'<div class="gp-title-main">{_esc(title)}</div>'
        for line in subtitle.split("\n"):
            if line.strip():
                title_html += f'<div class="gp-title-sub">{_esc(line)}</div>'
        self.title_json = _js_json(title_html)
        self.method_json = _js_json(method_html)


class FeatureLayer(folium.GeoJson):
    """A small context layer whose style, tooltip and popup come precomputed and escaped.

    Each feature carries ``_s`` (Leaflet style options), ``_t`` (tooltip
    HTML) and ``_p`` (popup HTML); both HTML strings are built by geoplan
    with every value escaped.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson(null, {
            pane: {{ this.pane|tojson }},
            interactive: {{ this.interactive|tojson }},
            style: function (feature) { return feature.properties._s || {}; },
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, Object.assign(
                    {pane: {{ this.pane|tojson }}}, feature.properties._s || {}));
            },
            onEachFeature: function (feature, layer) {
                var p = feature.properties;
                if (p._t) { layer.bindTooltip(p._t, {sticky: true, opacity: 0.95}); }
                if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
            }
        });
        {{ this.get_name() }}.addData({{ this.data_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        *,
        name: str,
        pane: str,
        interactive: bool = True,
        show: bool = True,
    ) -> None:
        super().__init__(
            {"type": "FeatureCollection", "features": features},
            name=name,
            overlay=True,
            control=True,
            show=show,
        )
        self._name = "FeatureLayer"
        self.pane = pane
        self.interactive = interactive
        self.data_json = _js_json({"type": "FeatureCollection", "features": features})


class RingsLayer(Layer):
    """Station-area rings: circles of fixed radii (metres) around points."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        (function (group, points, rings) {
            points.forEach(function (p) {
                rings.forEach(function (r) {
                    group.addLayer(L.circle([p[0], p[1]], Object.assign(
                        {pane: "gpRings", interactive: false}, r)));
                });
            });
        })({{ this.get_name() }}, {{ this.points_json }}, {{ this.rings_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self, points: list[list[float]], radii: Sequence[float], *, name: str, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "RingsLayer"
        self.points_json = _js_json(points)
        rings = []
        for i, radius in enumerate(sorted(radii)):
            inner = i == 0
            rings.append(
                {
                    "radius": float(radius),
                    "color": "#37474f",
                    "weight": 1.2 if inner else 1,
                    "opacity": 0.75 if inner else 0.6,
                    "dashArray": None if inner else "5 4",
                    "fill": inner,
                    "fillColor": "#90caf9",
                    "fillOpacity": 0.08,
                }
            )
        self.rings_json = _js_json(rings)


class SiteSearch(folium.plugins.Search):
    """Search by site name; result tips are set as text (never parsed as HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            layer: {{ this.layer.get_name() }},
            propertyName: {{ this.search_label|tojson }},
            collapsed: {{ this.collapsed|tojson }},
            textPlaceholder: {{ this.placeholder|tojson }},
            textErr: {{ this.text_err|tojson }},
            textCancel: {{ this.text_cancel|tojson }},
            position: {{ this.position|tojson }},
            initial: false,
            zoom: {{ this.search_zoom|tojson }},
            buildTip: function (text) {
                var tip = document.createElement("li");
                tip.textContent = text;
                return tip;
            },
            marker: false,
            moveToLocation: function (latlng, title, map) {
                var layer = latlng.layer;
                if (layer && layer.getBounds && !layer.getLatLng) {
                    map.fitBounds(layer.getBounds(), {maxZoom: {{ this.search_zoom|tojson }}});
                } else {
                    map.setView(latlng, Math.max(map.getZoom(), {{ this.search_zoom|tojson }}));
                }
            }
        });
        {{ this.get_name() }}.on("search:locationfound", function (e) {
            if (e.layer && e.layer.openPopup) { e.layer.openPopup(); }
        });
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: SitesLayer, *, zoom: int = 15) -> None:
        super().__init__(
            layer,
            search_label="n",
            search_zoom=zoom,
            position="topleft",
            placeholder="搜索地块 Search sites",
            collapsed=True,
        )
        self.text_err = "未找到 Not found"
        self.text_cancel = "取消 Cancel"


class MiniMap(JSCSSMixin, MacroElement):
    """Overview minimap using the same tiles as the main basemap (or a keyed Tianditu map)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var tiles;
            {%- if this.keyed %}
            var key = {{ this.keyed.get_name() }}.geoplanKey;
            if (!key) { return; }
            tiles = L.layerGroup({{ this.urls|tojson }}.map(function (url) {
                return L.tileLayer(url, Object.assign({{ this.tile_options|tojson }}, {tk: key}));
            }));
            {%- else %}
            tiles = L.tileLayer({{ this.urls[0]|tojson }}, {{ this.tile_options|tojson }});
            {%- endif %}
            var {{ this.get_name() }} = new L.Control.MiniMap(tiles, {{ this.options|tojson }});
            map.addControl({{ this.get_name() }});
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    default_js = folium.plugins.MiniMap.default_js
    default_css = folium.plugins.MiniMap.default_css

    def __init__(self, basemap: _basemaps.Basemap, keyed: Layer | None = None) -> None:
        super().__init__()
        self._name = "MiniMap"
        self.keyed = keyed
        self.urls = list(basemap.tiles)
        self.tile_options = {
            "subdomains": basemap.subdomains or "abc",
            "maxZoom": basemap.max_zoom,
            "attribution": "",
        }
        self.options = {
            "position": "bottomright",
            "width": 150,
            "height": 150,
            "toggleDisplay": True,
            "zoomLevelOffset": -5,
            "strings": {
                "hideText": "隐藏鹰眼图 Hide minimap",
                "showText": "显示鹰眼图 Show minimap",
            },
        }


# --------------------------------------------------------------------------------------
# Context layers
# --------------------------------------------------------------------------------------


def _popup_table(title: str, row: Mapping[str, Any], columns: Iterable[str]) -> str:
    rows = "".join(
        f"<tr><th>{_esc(_attr_label(c))}</th><td>{_esc(_fmt_number(row[c]))}</td></tr>"
        for c in columns
    )
    return f'<div class="gp-pop-h">{_esc(title)}</div><table class="gp-kv">{rows}</table>'


def _context_features(
    frame: gpd.GeoDataFrame,
    *,
    what: str,
    to_gcj02: bool,
    name_column: str | None,
    style: Callable[[Mapping[str, Any]], dict[str, Any]],
    tooltip: Callable[[Mapping[str, Any], str], str],
    popup_columns: Sequence[str] | None = None,
) -> tuple[list[dict[str, Any]], gpd.GeoDataFrame, np.ndarray]:
    shown, geoms = _display_geometry(frame, to_gcj02=to_gcj02, what=what)
    geometry_name = shown.geometry.name
    columns = [c for c in shown.columns if c != geometry_name]
    if popup_columns is None:
        popup_columns = [c for c in columns if c not in _NAME_COLUMNS and c != name_column][
            :_MAX_ATTRIBUTES
        ]
    features = []
    for i, row in enumerate(shown[columns].to_dict("records")):
        title = _feature_name(row, name_column, f"{what} {i + 1}")
        features.append(
            {
                "type": "Feature",
                "geometry": _geometry_json(geoms[i]),
                "properties": {
                    "_s": style(row),
                    "_t": tooltip(row, title),
                    "_p": _popup_table(title, row, popup_columns) if popup_columns else "",
                },
            }
        )
    return features, shown, geoms


def _station_lines(value: object) -> list[str]:
    if _is_missing(value):
        return []
    text = str(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        text = str(int(float(value)))
    return [part.strip() for part in re.split(r"[;,/、|\s]+", text) if part.strip()]


_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


def _line_colors(stations: gpd.GeoDataFrame, given: Mapping[str, str]) -> dict[str, str]:
    colors = dict(DEFAULT_LINE_COLORS)
    for line, color in dict(given).items():
        if _COLOR.match(str(color).strip()):
            colors[str(line)] = str(color).strip()
        else:
            logger.warning(
                "line_colors: %r for line %r is not a colour such as '#1f5fae'; using the default",
                color,
                line,
            )
    extra = iter(_EXTRA_LINE_COLORS)
    if "lines" in stations.columns:
        for value in stations["lines"]:
            for line in _station_lines(value):
                if line not in colors:
                    colors[line] = next(extra, "#546e7a")
    return colors


def _line_label(line: str) -> str:
    return f"{line}号线 Line {line}" if line.isdigit() else f"{line}"


def _swatch(color: str, square: bool = False) -> str:
    kind = "gp-sq" if square else "gp-sw"
    return f'<span class="{kind}" style="background:{_esc(color)}"></span>'


# --------------------------------------------------------------------------------------
# make_map
# --------------------------------------------------------------------------------------


def _colormap(colors: Sequence[str] | bcm.LinearColormap | None) -> bcm.LinearColormap:
    if isinstance(colors, bcm.LinearColormap):
        cmap = colors.scale(0, 1)
    else:
        cmap = bcm.LinearColormap(list(colors or DEFAULT_SCORE_COLORS), vmin=0.0, vmax=1.0)
    cmap.caption = "综合得分 Overall score (0–1)"
    return cmap


def _method_html(
    criteria: Sequence[_Criterion],
    *,
    method: str,
    study: Any,
    options: Mapping[str, Any],
    data_sources: Sequence[str] | None,
    data_date: str | None,
    basemap: _basemaps.Basemap,
    shifted: bool,
) -> str:
    method_label = _METHOD_LABELS.get(method, method)
    parts = [
        "<details open><summary>方法说明 Methodology</summary>",
        f"<p>总分 Score = {'Σ 权重 × 指标得分' if method == 'weighted_sum' else method_label}"
        f"（0–1）. {_esc(method_label)}: "
        + (
            "score = Σ weight × criterion score (0–1)."
            if method == "weighted_sum"
            else "criterion scores (0–1) combined with the weights below."
        )
        + "</p><ul>",
    ]
    for c in criteria:
        weight = f"{c.weight:.0%}" if math.isfinite(c.weight) else "?"
        label = f"{_esc(c.label_zh)} {_esc(c.label)}" if c.label_zh else _esc(c.label)
        decay = f" — {_esc(c.decay)}" if c.decay else ""
        parts.append(f"<li><b>{weight}</b> {label} ({_esc(c.unit)}){decay}</li>")
    parts.append("</ul>")
    parts.append(
        "<p>硬约束不满足的地块为灰色，悬停可见原因。 Grey sites fail a hard constraint; "
        "hover to see why.</p>"
    )
    sources = list(data_sources) if data_sources is not None else None
    if sources is None:
        sources = []
        layer_sources = getattr(study, "layer_sources", None) if study is not None else None
        if isinstance(layer_sources, Mapping):
            for name, info in layer_sources.items():
                path = info.get("path") if isinstance(info, Mapping) else None
                if path:
                    sources.append(f"{name}: {PurePosixPath(str(path).replace(chr(92), '/')).name}")
    if sources:
        parts.append("<p>数据来源 Data: " + "; ".join(_esc(s) for s in sources) + "</p>")
    if data_date:
        parts.append(f"<p>数据日期 Data date: {_esc(data_date)}</p>")
    study_path = getattr(study, "path", None) if study is not None else None
    if study_path:
        parts.append(f"<p>研究文件 Study file: {_esc(Path(str(study_path)).name)}</p>")
    if shifted:
        parts.append(
            "<p>底图为高德（GCJ-02），图层已按 GCJ-02 偏移显示；分析数据仍为 WGS-84。 Amap tiles "
            "are GCJ-02: layers are drawn shifted to match; the analysis stays in WGS-84.</p>"
        )
    version = _package_version()
    parts.append(
        f'<p class="gp-muted">生成 Generated {dt.date.today().isoformat()} · '
        f"geoplan {_esc(version)} · 底图 Basemap: {_esc(basemap.label)}</p></details>"
    )
    return "".join(parts)


@cache
def _package_version() -> str:
    try:
        return metadata.version("geoplan")
    except metadata.PackageNotFoundError:
        return "dev"


#: ``[map]`` keys of a study file and the :func:`make_map` keyword each sets.
MAP_OPTION_KEYS: Final = {
    "basemap": "basemap",
    "top_n": "top_n",
    "top": "top_n",
    "title": "title",
    "rings_m": "rings_m",
    "line_colors": "line_colors",
    "colors": "colors",
    "minimap": "minimap",
    "search": "search",
    "layer_control_collapsed": "layer_control_collapsed",
    "tianditu_key": "tianditu_key",
    "embed_key": "embed_key",
    "data_sources": "data_sources",
    "data_date": "data_date",
}


def map_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a study's ``[map]`` table into :func:`make_map` keyword arguments.

    ``offline`` is left out (it belongs to :func:`save_map`).

    Raises
    ------
    StudyError
        For an unknown key or a value of the wrong kind; the message lists the known keys.
    """
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key == "offline":
            continue
        target = MAP_OPTION_KEYS.get(str(key))
        if target is None:
            known = ", ".join(sorted({*MAP_OPTION_KEYS, "offline"}))
            problems.append(f"[map] has an unknown key {key!r}; known keys: {known}")
            continue
        if target in {"minimap", "search", "layer_control_collapsed", "embed_key"} and not (
            isinstance(value, bool)
        ):
            problems.append(f"[map] {key} must be true or false, got {value!r}")
            continue
        if target == "top_n" and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"[map] {key} must be a whole number such as 10, got {value!r}")
            continue
        if target == "rings_m" and (
            not isinstance(value, list | tuple)
            or not all(isinstance(v, int | float) and v > 0 for v in value)
        ):
            problems.append(
                f"[map] rings_m must be a list of metres such as [500, 800], got {value!r}"
            )
            continue
        if target == "line_colors" and not isinstance(value, Mapping):
            problems.append(
                f'[map] line_colors must be a table such as {{ "1" = "#1f5fae" }}, got {value!r}'
            )
            continue
        if target == "basemap":
            try:
                for name in [value] if isinstance(value, str) else list(value):
                    _basemaps.get_basemap(name)
            except (ValueError, TypeError) as exc:
                problems.append(f"[map] basemap: {exc}")
                continue
        kwargs[target] = dict(value) if target == "line_colors" else value
    if problems:
        raise StudyError(problems)
    return kwargs


def make_map(
    ranked: gpd.GeoDataFrame,
    study: Any = None,
    *,
    parks: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    exclusions: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    area: gpd.GeoDataFrame | None = None,
    basemap: str | Sequence[str] | None = None,
    top_n: int | None = None,
    title: str | None = None,
    rings_m: Sequence[float] | None = None,
    line_colors: Mapping[str, str] | None = None,
    colors: Sequence[str] | bcm.LinearColormap | None = None,
    minimap: bool | None = None,
    search: bool | None = None,
    layer_control_collapsed: bool | None = None,
    tianditu_key: str | None = None,
    embed_key: bool | None = None,
    data_sources: Sequence[str] | None = None,
    data_date: str | None = None,
) -> folium.Map:
    """Draw ranked sites and their context on an interactive map.

    Parameters
    ----------
    ranked : geopandas.GeoDataFrame
        The output of :func:`geoplan.rank_sites` (or the same table read back
        from a file): points or polygons, any CRS (drawn in WGS-84).
    study : Study, optional
        The study ranked.  Its ``layers`` (``parks``, ``stations``,
        ``exclusions``, ``facilities``, ``area``), ``criteria``, title and
        ``map_options`` (the ``[map]`` table) are used; keyword arguments win.
    parks, stations, exclusions, facilities, area : geopandas.GeoDataFrame, optional
        Context layers (override the study's).  ``stations`` may have a
        ``lines`` column (``"1"``, ``"2"``, ``"1;2"``); ``parks`` a ``jobs`` column.
    isochrones : geopandas.GeoDataFrame, optional
        Walk-time polygons with a ``minutes`` column.
    basemap : str or sequence of str, optional
        ``"carto-light"`` (default), ``"osm"``, ``"tianditu"``, ``"gaode"`` or
        ``"none"``; a list offers several, the first shown.  With ``"gaode"``
        every layer is drawn shifted to GCJ-02 (display copy only).
    top_n : int, optional
        How many best eligible sites carry a rank badge (default: the study's
        ``top``, else 10).
    title : str, optional
        Map title (default: the study's Chinese and English titles).
    rings_m : sequence of float, optional
        Station-area ring radii in metres (default 500 and 800; empty for none).
    line_colors : mapping of str to str, optional
        Colour of each metro line, e.g. ``{"1": "#1f5fae", "2": "#e0542e"}``.
    colors : sequence of str or branca LinearColormap, optional
        Score colour ramp from low to high.
    minimap, search, layer_control_collapsed : bool, optional
        Show the minimap (default on), the site search (on); collapse the layer list (off).
    tianditu_key : str, optional
        Tianditu key (default: ``[map] tianditu_key`` or ``TIANDITU_KEY``).
    embed_key : bool, optional
        Write the Tianditu key into the HTML (default off; see :mod:`geoplan.basemaps`).
    data_sources : sequence of str, optional
        Data sources listed in the methodology note (default: the study's layer files).
    data_date : str, optional
        Date of the data, shown in the methodology note.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`; in a notebook it displays itself.
    """
    options = _options_of(study)
    frame = _prepare_ranked(ranked)

    basemap_value = _pick(basemap, options, "basemap", _basemaps.DEFAULT_BASEMAP)
    names = (
        [basemap_value]
        if isinstance(basemap_value, str | _basemaps.Basemap)
        else list(basemap_value)
    )
    chosen = [_basemaps.get_basemap(n) for n in names] or [_basemaps.get_basemap(None)]
    shift = chosen[0].datum == "gcj02"
    if any((b.datum == "gcj02") != shift for b in chosen if b.tiles):
        raise ValueError(
            f"basemaps {[b.name for b in chosen]!r} mix GCJ-02 (gaode) and WGS-84 tiles; "
            "layers can be drawn for only one of them: choose gaode alone, or the others."
        )
    top = int(_pick(top_n, options, "top_n", getattr(study, "top", None) or 10))
    rings = [float(r) for r in _pick(rings_m, options, "rings_m", DEFAULT_RINGS_M)]
    colors_given = _pick(line_colors, options, "line_colors", {})
    show_minimap = bool(_pick(minimap, options, "minimap", True))
    show_search = bool(_pick(search, options, "search", True))
    collapsed = bool(_pick(layer_control_collapsed, options, "layer_control_collapsed", False))
    key_embedded = bool(_pick(embed_key, options, "embed_key", False))
    date_text = _pick(data_date, options, "data_date", None)
    sources = _pick(data_sources, options, "data_sources", None)

    if title is None:
        title = options.get("title")
    subtitle = ""
    if title is None and study is not None:
        zh = str(getattr(study, "title_zh", "") or "")
        en = str(getattr(study, "title", "") or "")
        title, subtitle = (zh, en) if zh else (en, "")
    if not title:
        title = "候选地块评分排名 Ranked candidate sites"
    n_eligible = int(frame["eligible"].sum())
    counts = f"{len(frame)} 个候选地块 candidate sites · {n_eligible} 个符合条件 eligible"
    subtitle = f"{subtitle}\n{counts}" if subtitle else counts

    # --- map and basemaps ------------------------------------------------------------
    m = folium.Map(
        location=[31.78, 119.97],
        zoom_start=11,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        zoom_control=True,
    )
    # Only Leaflet itself is needed: drop jQuery, Bootstrap, Font Awesome and
    # awesome-markers, which folium links by default (and which would need the network).
    m.default_js = [("leaflet", folium.folium._default_js[0][1])]
    m.default_css = [("leaflet_css", folium.folium._default_css[0][1])]
    _Style().add_to(m)
    _Panes().add_to(m)
    keyed_layer: Layer | None = None
    for i, b in enumerate(chosen):
        _basemaps.add_basemap(
            m,
            b,
            options=options,
            tianditu_key=tianditu_key,
            embed_key=key_embedded,
            show=(i == 0),
        )
        if i == 0 and b.needs_key:
            keyed_layer = [
                c for c in m._children.values() if isinstance(c, _basemaps.KeyedTileLayer)
            ][-1]

    # --- sites --------------------------------------------------------------------
    criteria = _criteria(frame, study)
    shown, geoms = _display_geometry(frame, to_gcj02=shift, what="sites")
    attributes = _attribute_columns(shown)
    method = str(
        (frame.attrs.get("geoplan") or {}).get("method")
        or getattr(study, "method", "weighted_sum")
        or "weighted_sum"
    )
    weight_sum = sum(c.weight for c in criteria if math.isfinite(c.weight))
    cmap = _colormap(_pick(colors, options, "colors", None))
    ramp = [cmap.rgb_hex_str(k / (_RAMP_STEPS - 1)) for k in range(_RAMP_STEPS)]
    meta = {
        "criteria": [
            {
                "key": c.name,
                "label": c.label,
                "zh": c.label_zh,
                "unit": c.unit,
                "weight": _num(c.weight, 4),
            }
            for c in criteria
        ],
        "attrs": [{"key": a, "label": _attr_label(a)} for a in attributes],
        "units": _UNIT_LABELS,
        "ramp": ramp,
        "grey": INELIGIBLE_COLOR,
        "topN": top,
        "nEligible": n_eligible,
        "nSites": len(shown),
        "radius": 7 if len(shown) <= 500 else (5 if len(shown) <= 5000 else 3.5),
        "weightSum": _num(weight_sum, 4),
        "methodNote": ""
        if method == "weighted_sum"
        else f"总分由 {_METHOD_LABELS.get(method, method)} 计算 Score by {method}; "
        "contributions show the weighted scores.",
    }
    features, lookups = _site_features(shown, geoms, criteria, attributes)
    meta.update(lookups)
    sites_name = f"{_swatch(ramp[-1])}候选地块 Candidate sites ({len(features)})"
    # Drawn in reverse so that the best sites lie on top (canvas order = draw order).
    sites = SitesLayer(features[::-1], meta, name=sites_name)

    # --- context layers (added below the sites in the control) ----------------------
    layer_names = {
        "parks": ("parks", "industrial_parks"),
        "stations": ("stations", "metro_stations"),
        "exclusions": ("exclusions", "exclusion_zones"),
        "facilities": ("facilities",),
        "area": ("area", "study_area"),
    }
    given = {
        "parks": parks,
        "stations": stations,
        "exclusions": exclusions,
        "facilities": facilities,
        "area": area,
    }
    context: dict[str, gpd.GeoDataFrame] = {}
    for key, aliases in layer_names.items():
        value = given[key]
        if value is None:
            value = _study_layer(study, aliases)
        if value is not None and len(value):
            context[key] = value

    sites.add_to(m)
    if top > 0 and n_eligible:
        TopLabels(sites, top, name=f"前 {top} 名标注 Top {top} labels").add_to(m)

    if "stations" in context:
        st = context["stations"]
        name_col = _study_name_column(study, "stations")
        colors_by_line = _line_colors(st, colors_given if isinstance(colors_given, Mapping) else {})

        def station_style(row: Mapping[str, Any]) -> dict[str, Any]:
            lines = _station_lines(row.get("lines"))
            if len(lines) > 1:
                return {
                    "radius": 6,
                    "color": "#263238",
                    "weight": 3,
                    "fillColor": "#ffffff",
                    "fillOpacity": 1,
                }
            fill = colors_by_line.get(lines[0], "#546e7a") if lines else "#546e7a"
            return {
                "radius": 5,
                "color": "#ffffff",
                "weight": 1.5,
                "fillColor": fill,
                "fillOpacity": 1,
            }

        def station_tip(row: Mapping[str, Any], name: str) -> str:
            lines = _station_lines(row.get("lines"))
            text = f"<b>{_esc(name)}</b>"
            if lines:
                text += "<br>" + " · ".join(
                    _swatch(colors_by_line.get(x, "#546e7a")) + _esc(_line_label(x)) for x in lines
                )
            return text

        features_st, shown_st, geoms_st = _context_features(
            st,
            what="stations",
            to_gcj02=shift,
            name_column=name_col,
            style=station_style,
            tooltip=station_tip,
        )
        used = []
        if "lines" in shown_st.columns:
            for value in shown_st["lines"]:
                for line in _station_lines(value):
                    if line not in used:
                        used.append(line)
        used.sort(key=lambda x: (not x.isdigit(), int(x) if x.isdigit() else 0, x))
        keys = " ".join(_swatch(colors_by_line[x]) + _esc(_line_label(x)) for x in used)
        label = f"地铁站 Metro stations ({len(features_st)})" + (f" {keys}" if keys else "")
        FeatureLayer(features_st, name=label, pane="gpPoints").add_to(m)
        if rings:
            centers = shapely.centroid(geoms_st)
            points = [[round(float(p.y), 6), round(float(p.x), 6)] for p in centers]
            ring_text = "/".join(f"{r:g}" for r in sorted(rings))
            RingsLayer(
                points, rings, name=f"站点 {ring_text} m 范围 Station areas {ring_text} m"
            ).add_to(m)

    if "parks" in context:
        pk = context["parks"]
        name_col = _study_name_column(study, "parks")
        jobs_max = (
            float(pd.to_numeric(pk["jobs"], errors="coerce").max())
            if "jobs" in pk.columns
            else float("nan")
        )

        def park_style(row: Mapping[str, Any]) -> dict[str, Any]:
            jobs = _plain(row.get("jobs"))
            radius = 6.0
            if isinstance(jobs, int | float) and jobs > 0 and math.isfinite(jobs_max) and jobs_max:
                radius = 5 + 13 * math.sqrt(float(jobs) / jobs_max)
            return {
                "radius": radius,
                "color": "#5e35b1",
                "weight": 1.5,
                "opacity": 0.9,
                "fillColor": "#9575cd",
                "fillOpacity": 0.22,
            }

        def park_tip(row: Mapping[str, Any], name: str) -> str:
            text = f"<b>{_esc(name)}</b>"
            if "jobs" in row and not _is_missing(row["jobs"]):
                text += f"<br>就业岗位 Jobs: {_esc(_fmt_number(row['jobs']))}"
            return text

        features_pk, _, _ = _context_features(
            pk,
            what="parks",
            to_gcj02=shift,
            name_column=name_col,
            style=park_style,
            tooltip=park_tip,
        )
        FeatureLayer(
            features_pk,
            pane="gpAreas",
            name=f"{_swatch('#9575cd', True)}产业园区 Industrial parks ({len(features_pk)})",
        ).add_to(m)

    if "exclusions" in context:
        ex = context["exclusions"]
        name_col = _study_name_column(study, "exclusions")

        def exclusion_style(row: Mapping[str, Any]) -> dict[str, Any]:
            return {
                "radius": 6,
                "color": "#c62828",
                "weight": 1.5,
                "dashArray": "6 4",
                "fillColor": "#e53935",
                "fillOpacity": 0.18,
            }

        def exclusion_tip(row: Mapping[str, Any], name: str) -> str:
            text = f"<b>{_esc(name)}</b><br>禁建区 Exclusion zone"
            for column in ("kind", "type", "reason"):
                if column in row and not _is_missing(row[column]):
                    text += f" · {_esc(row[column])}"
                    break
            return text

        features_ex, _, _ = _context_features(
            ex,
            what="exclusions",
            to_gcj02=shift,
            name_column=name_col,
            style=exclusion_style,
            tooltip=exclusion_tip,
        )
        FeatureLayer(
            features_ex,
            pane="gpAreas",
            name=f"{_swatch('#e53935', True)}禁建区 Exclusion zones ({len(features_ex)})",
        ).add_to(m)

    if "facilities" in context:
        fa = context["facilities"]
        name_col = _study_name_column(study, "facilities")
        kind_col = next((c for c in ("kind", "type", "category") if c in fa.columns), None)
        kinds = sorted({str(v) for v in fa[kind_col].dropna()}) if kind_col else []
        palette = ("#d81b60", "#f4511e", "#8e24aa", "#6d4c41", "#fb8c00", "#c0ca33", "#00897b")
        kind_colors = {k: palette[i % len(palette)] for i, k in enumerate(kinds)}

        def facility_style(row: Mapping[str, Any]) -> dict[str, Any]:
            kind = str(row.get(kind_col)) if kind_col else ""
            return {
                "radius": 3.5,
                "color": "#ffffff",
                "weight": 0.8,
                "fillColor": kind_colors.get(kind, "#8d6e63"),
                "fillOpacity": 0.9,
            }

        def facility_tip(row: Mapping[str, Any], name: str) -> str:
            text = f"<b>{_esc(name)}</b>"
            if kind_col and not _is_missing(row.get(kind_col)):
                text += f"<br>{_esc(_attr_label(kind_col))}: {_esc(row[kind_col])}"
            return text

        features_fa, _, _ = _context_features(
            fa,
            what="facilities",
            to_gcj02=shift,
            name_column=name_col,
            style=facility_style,
            tooltip=facility_tip,
        )
        keys = " ".join(_swatch(kind_colors[k]) + _esc(k) for k in kinds[:8])
        FeatureLayer(
            features_fa,
            pane="gpPoints",
            name=f"生活设施 Facilities ({len(features_fa)})" + (f" {keys}" if keys else ""),
        ).add_to(m)

    if isochrones is not None and len(isochrones):
        minutes_col = "minutes" if "minutes" in isochrones.columns else None
        iso = isochrones
        if minutes_col:
            iso = isochrones.sort_values(minutes_col, ascending=False)
        minutes = pd.to_numeric(iso[minutes_col], errors="coerce") if minutes_col else None
        lo = float(minutes.min()) if minutes is not None else 0.0
        hi = float(minutes.max()) if minutes is not None else 1.0
        iso_cmap = bcm.LinearColormap(
            ["#fff3e0", "#ff9800", "#e65100"][::-1], vmin=lo, vmax=hi if hi > lo else lo + 1
        )

        def iso_style(row: Mapping[str, Any]) -> dict[str, Any]:
            value = _plain(row.get(minutes_col)) if minutes_col else None
            color = (
                iso_cmap.rgb_hex_str(float(value)) if isinstance(value, int | float) else "#ff9800"
            )
            return {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.18}

        def iso_tip(row: Mapping[str, Any], name: str) -> str:
            value = row.get(minutes_col) if minutes_col else None
            text = (
                f"步行 Walk {_esc(_fmt_number(value))} 分钟 min"
                if value is not None
                else "等时圈 Isochrone"
            )
            for column in ("site_name", "name_zh", "name", "site_id"):
                if column in row and not _is_missing(row[column]):
                    return f"<b>{_esc(row[column])}</b><br>{text}"
            return text

        features_iso, _, _ = _context_features(
            iso,
            what="isochrones",
            to_gcj02=shift,
            name_column=None,
            style=iso_style,
            tooltip=iso_tip,
            popup_columns=[],
        )
        FeatureLayer(
            features_iso,
            pane="gpAreas",
            name=f"{_swatch('#ff9800', True)}步行等时圈 Walk isochrones",
        ).add_to(m)

    if "area" in context:
        features_ar, _, _ = _context_features(
            context["area"],
            what="area",
            to_gcj02=shift,
            name_column=None,
            style=lambda row: {"color": "#455a64", "weight": 2, "dashArray": "8 6", "fill": False},
            tooltip=lambda row, name: "",
            popup_columns=[],
        )
        FeatureLayer(
            features_ar, pane="gpAreas", interactive=False, name="研究范围 Study area"
        ).add_to(m)

    # --- controls --------------------------------------------------------------------
    ScoreLegend(
        cmap, sites, top_n=top if n_eligible else 0, n_ineligible=len(frame) - n_eligible
    ).add_to(m)
    MapInfo(
        title,
        subtitle,
        _method_html(
            criteria,
            method=method,
            study=study,
            options=options,
            data_sources=sources,
            data_date=str(date_text) if date_text else None,
            basemap=chosen[0],
            shifted=shift,
        ),
    ).add_to(m)
    folium.plugins.Fullscreen(
        position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit full screen"
    ).add_to(m)
    if show_search and features:
        SiteSearch(sites).add_to(m)
    folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="cn",
    ).add_to(m)
    if show_minimap and chosen[0].tiles:
        MiniMap(chosen[0], keyed=keyed_layer).add_to(m)
    folium.LayerControl(position="topright", collapsed=collapsed).add_to(m)

    # --- view --------------------------------------------------------------------------
    if len(geoms):
        west, south, east, north = (float(v) for v in shapely.total_bounds(geoms))
        pad_x, pad_y = max((east - west) * 0.05, 0.005), max((north - south) * 0.05, 0.005)
        m.fit_bounds([[south - pad_y, west - pad_x], [north + pad_y, east + pad_x]])
    else:
        logger.warning("make_map: the ranking has no sites with a geometry to draw")
    m.geoplan = {  # type: ignore[attr-defined]
        "basemap": chosen[0].name,
        "gcj02": shift,
        "n_sites": len(features),
        "top_n": top,
        "title": title,
    }
    return m


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------

_SCRIPT_TAG = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>')
_CSS_TAG = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?P<ref>[^)'\"]+)\1\s*\)")
_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_EXTERNAL_REF = re.compile(
    r'<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)="(?P<url>(?:https?:)?//[^"]+)"',
    re.IGNORECASE,
)
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def _assets_root() -> Any:
    return resources.files("geoplan") / "_assets"


@cache
def _asset_manifest() -> dict[str, str]:
    manifest = json.loads((_assets_root() / "manifest.json").read_text(encoding="utf-8"))
    assets: dict[str, str] = manifest["assets"]
    return dict(assets)


def _read_asset(relative: str) -> bytes:
    data: bytes = (_assets_root().joinpath(*relative.split("/"))).read_bytes()
    return data


def _inline_css(relative: str) -> str:
    css = _read_asset(relative).decode("utf-8")
    folder = PurePosixPath(relative).parent

    def replace(match: re.Match[str]) -> str:
        ref = match.group("ref").strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = PurePosixPath(*_normalise_parts((folder / ref).parts))
        mime = _MIME.get(target.suffix.lower())
        if mime is None:
            raise OfflineAssetError(f"Cannot inline {ref!r} referenced from {relative!r}")
        encoded = base64.b64encode(_read_asset(str(target))).decode("ascii")
        return f'url("data:{mime};base64,{encoded}")'

    return _SOURCE_MAP.sub("", _CSS_URL.sub(replace, css))


def _normalise_parts(parts: Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in (".", ""):
            out.append(part)
    return out


_ICON_FIX: Final = """
if (window.L && L.Icon && L.Icon.Default) {
  L.Icon.Default.prototype._getIconUrl = function (name) {
    return L.Icon.prototype._getIconUrl.call(this, name);
  };
  L.Icon.Default.mergeOptions({iconUrl: %s, iconRetinaUrl: %s, shadowUrl: %s});
}
"""


def _icon_fix() -> str:
    def uri(name: str) -> str:
        data = base64.b64encode(_read_asset(f"leaflet-1.9.3/images/{name}")).decode("ascii")
        return json.dumps(f"data:image/png;base64,{data}")

    return _ICON_FIX % (uri("marker-icon.png"), uri("marker-icon-2x.png"), uri("marker-shadow.png"))


def _make_offline(page: str) -> str:
    manifest = _asset_manifest()
    missing: list[str] = []

    def script(match: re.Match[str]) -> str:
        url = match.group("url")
        relative = manifest.get(url)
        if relative is None:
            missing.append(url)
            return match.group(0)
        code = _SOURCE_MAP.sub("", _read_asset(relative).decode("utf-8"))
        code = code.replace("</script", "<\\/script")
        extra = _icon_fix() if relative.endswith("/leaflet.js") else ""
        return f"<script>/* {relative} (inlined by geoplan) */\n{code}\n{extra}</script>"

    def stylesheet(match: re.Match[str]) -> str:
        url = match.group("url")
        relative = manifest.get(url)
        if relative is None:
            missing.append(url)
            return match.group(0)
        css = _inline_css(relative).replace("</style", "<\\/style")
        return f"<style>/* {relative} (inlined by geoplan) */\n{css}\n</style>"

    page = _SCRIPT_TAG.sub(script, page)
    page = _CSS_TAG.sub(stylesheet, page)
    missing += [
        m.group("url") for m in _EXTERNAL_REF.finditer(page) if m.group("url") not in missing
    ]
    if missing:
        raise OfflineAssetError(
            f"Cannot make this map offline: it links {sorted(set(missing))!r}, which geoplan "
            "does not ship in geoplan/_assets. Maps from geoplan.make_map never do; remove "
            "the plugin that needs it, or save with offline=False."
        )
    return page


def map_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map as one HTML page (self-contained when ``offline``)."""
    page: str = m.get_root().render()
    if offline:
        page = _make_offline(page)
    if not page.lstrip().lower().startswith("<!doctype"):
        page = "<!DOCTYPE html>\n" + page
    return page


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True, force: bool = False) -> Path:
    """Write a map to an HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`make_map` (or any folium map).
    path : str or pathlib.Path
        The HTML file; its folder is created if needed.
    offline : bool
        Inline Leaflet, its plugins and their CSS and images, so the file
        opens with no network (only basemap tiles are fetched; none with
        ``basemap="none"``).  With ``False`` the page loads them from CDNs.
    force : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OutputExistsError
        The file exists and ``force`` is false.
    OutputWriteError
        The folder cannot be created or written to.
    OfflineAssetError
        ``offline`` and the map links a resource geoplan does not ship.
    """
    page = map_html(m, offline=offline)
    target = Path(path)
    with atomic_path(target, force=force) as temp:
        try:
            temp.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise OutputWriteError(
                f"Cannot write the map to {str(target)!r} ({exc.strerror}); choose a folder "
                "you can write to."
            ) from exc
    logger.info(
        "saved map %s (%.1f MB%s)",
        target,
        len(page.encode("utf-8")) / 1e6,
        ", offline" if offline else "",
    )
    return target

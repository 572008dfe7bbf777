"""Map data: the ranked table and the study turned into what the map displays.

Private to :mod:`geoplan.maps.build`: HTML escaping and JSON that is safe in a
``<script>``, JSON-safe formatting of table cells, the display copy of a
layer (WGS-84, shifted to GCJ-02 for Amap tiles), the ranking checked and
normalised, criterion metadata, and the map's title and methodology note.
The sites' own GeoJSON is built in :mod:`geoplan.maps._sites`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan import __version__
from geoplan._errors import CoordinateError, GeoplanError
from geoplan.decide.weights import normalize_weights
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.maps import basemaps as _basemaps
from geoplan.maps._i18n import pair, tr

logger = logging.getLogger(__name__)

INELIGIBLE_COLOR: Final = "#9e9e9e"
#: Decimals of the drawn coordinates (about 0.1 m).
_DISPLAY_DECIMALS: Final = 6
#: At most this many attribute columns in a popup.
_MAX_ATTRIBUTES: Final = 14
#: Columns that name a feature (besides a layer's own name column).
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
#: Chinese and English names of the aggregation methods.
_METHOD_PAIRS: Final = {
    "weighted_sum": ("加权求和", "weighted sum"),
    "topsis": ("", "TOPSIS"),
    "vikor": ("", "VIKOR"),
    "owa": ("有序加权平均", "OWA"),
}


def _method_label(method: str) -> str:
    zh, en = _METHOD_PAIRS.get(method, ("", method))
    return pair(zh, en)


# --------------------------------------------------------------------------------------
# Escaping and formatting
# --------------------------------------------------------------------------------------


def _esc(value: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


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
        digits = 2 if abs(x) >= 100 else 3  # the popup rounds again: avoid double rounding
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
        return tr("yes" if plain else "no")
    if isinstance(plain, int):
        return f"{plain:,}"
    if isinstance(plain, float):
        return f"{plain:,.2f}".rstrip("0").rstrip(".")
    return str(plain)


def _attr_label(column: str) -> str:
    """A column's label in the map's language (its name, spaced, when unknown)."""
    both = ATTRIBUTE_LABELS.get(column)
    if both is None:
        return column.replace("_", " ")
    zh, _, en = both.partition(" ")
    return pair(zh, en)


def _swatch(color: str, square: bool = False) -> str:
    kind = "gp-sq" if square else "gp-sw"
    return f'<span class="{kind}" style="background:{_esc(color)}"></span>'


def _feature_name(row: Mapping[str, Any], name_column: str | None, fallback: str) -> str:
    parts: list[str] = []
    for column in ("name_zh", name_column, "name"):
        if column and column in row and not _is_missing(row[column]):
            text = str(row[column]).strip()
            if text and text not in parts:
                parts.append(text)
    return " / ".join(parts) if parts else fallback


# --------------------------------------------------------------------------------------
# Display geometry
# --------------------------------------------------------------------------------------


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
            f"The {what} layer has no CRS and its coordinates {tuple(float(b) for b in bounds)!r} are not "
            "longitude/latitude; set its CRS (e.g. frame.set_crs('EPSG:4549')) first."
        )
    return frame if frame.crs.equals("EPSG:4326") else frame.to_crs("EPSG:4326")


def _shift_to_gcj02(xy: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


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
        geoms = shapely.transform(geoms, _shift_to_gcj02)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, _DISPLAY_DECIMALS))
    return frame, np.asarray(geoms, dtype=object)


def _geometry_json(geom: Any) -> dict[str, Any]:
    if isinstance(geom, shapely.Point):
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    result: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return result


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
    metric: str = ""


def _value_columns(ranked: pd.DataFrame) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for column in ranked.columns:
        text = str(column)
        if text.startswith("value__") and text.count("__") >= 2:
            name, unit = text[len("value__") :].rsplit("__", 1)
            out[name] = (text, unit)
    return out


def _study_criteria_meta(study: Any, known: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Metadata of the study's criteria not in ``known`` (weights normalised to sum 1)."""
    study_criteria = list(getattr(study, "criteria", None) or []) if study is not None else []
    raw_weights = {
        str(getattr(c, "name", "")): float(getattr(c, "weight", float("nan")))
        for c in study_criteria
    }
    try:  # exact for any magnitude (weights near 1e308 overflow a plain sum)
        weights = normalize_weights(pd.Series(raw_weights, dtype="float64")).to_dict()
    except GeoplanError:
        weights = {}
    meta: dict[str, dict[str, Any]] = {}
    for c in study_criteria:
        name = str(getattr(c, "name", ""))
        if not name or name in known or name in meta:
            continue
        unit = str(getattr(c, "value_unit", None) or getattr(c, "unit", "") or "")
        decay = getattr(c, "decay", "")
        describe = getattr(decay, "describe", None)
        weight = weights.get(name, float("nan"))
        meta[name] = {
            "label": getattr(c, "title", None) or getattr(c, "label", None) or name,
            "label_zh": getattr(c, "label_zh", "") or "",
            "unit": unit,
            "weight": weight,
            "decay": describe(unit) if callable(describe) else str(decay or ""),
        }
    return meta


def _criteria(ranked: pd.DataFrame, study: Any) -> list[_Criterion]:
    """Criterion metadata from the ranking's attrs, the study, or the columns."""
    meta: dict[str, dict[str, Any]] = {}
    for item in (ranked.attrs.get("geoplan") or {}).get("criteria") or []:
        if isinstance(item, Mapping) and "name" in item:
            meta[str(item["name"])] = dict(item)
    meta.update(_study_criteria_meta(study, meta))
    out: list[_Criterion] = []
    for name, (value_column, unit) in _value_columns(ranked).items():
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
                metric=str(info.get("metric") or ""),
            )
        )
    return out


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return False if _is_missing(value) else bool(value)


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
            eligible = eligible.map(_as_bool)
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


def _method_of(frame: pd.DataFrame, study: Any) -> str:
    """The aggregation method: from the ranking's attrs, else the study."""
    return str(
        (frame.attrs.get("geoplan") or {}).get("method")
        or getattr(study, "method", "weighted_sum")
        or "weighted_sum"
    )


# --------------------------------------------------------------------------------------
# Title and methodology note
# --------------------------------------------------------------------------------------


def _titles(title: str | None, study: Any, frame: pd.DataFrame) -> tuple[str, str]:
    """The map title and its subtitle lines (English title, site counts)."""
    subtitle = ""
    if title is None and study is not None:
        zh = str(getattr(study, "title_zh", "") or "")
        en = str(getattr(study, "title", "") or "")
        title, subtitle = (zh, en) if zh else (en, "")
    n_eligible = int(frame["eligible"].sum())
    counts = f"{tr('m_counts', n=len(frame))} · {tr('m_counts_eligible', n=n_eligible)}"
    return title or tr("m_default_title"), f"{subtitle}\n{counts}" if subtitle else counts


def _layer_file_sources(study: Any) -> list[str]:
    """``layer: file name`` for each of the study's layers read from a file."""
    sources = []
    layer_sources = getattr(study, "layer_sources", None) if study is not None else None
    if isinstance(layer_sources, Mapping):
        for name, info in layer_sources.items():
            path = info.get("path") if isinstance(info, Mapping) else None
            if path:
                sources.append(f"{name}: {PurePosixPath(str(path).replace(chr(92), '/')).name}")
    return sources


def _method_html(
    criteria: Sequence[_Criterion],
    *,
    method: str,
    study: Any,
    data_sources: Sequence[str] | None,
    data_date: str | None,
    basemap: _basemaps.Basemap,
    shifted: bool,
) -> str:
    """The methodology note: method, weights, decays, data sources and dates, basemap."""
    method_label = _method_label(method)
    weighted = method == "weighted_sum"
    parts = [
        f"<details open><summary>{tr('m_method')}</summary>",
        "<p>"
        + _esc(tr("m_ws_sentence" if weighted else "m_other_sentence"))
        + ("" if weighted else f" ({_esc(method_label)})")
        + "</p><ul>",
    ]
    for c in criteria:
        weight = f"{c.weight:.0%}" if math.isfinite(c.weight) else "?"
        label = _esc(pair(c.label_zh, c.label))
        decay = f" — {_esc(c.decay)}" if c.decay else ""
        how = f"; {_esc(c.metric)}" if c.metric and c.metric != "straight-line distance" else ""
        parts.append(f"<li><b>{weight}</b> {label} ({_esc(c.unit)}){decay}{how}</li>")
    parts.append("</ul>")
    parts.append(f"<p>{_esc(tr('m_grey_sites'))}</p>")
    sources = list(data_sources) if data_sources is not None else _layer_file_sources(study)
    if sources:
        parts.append(f"<p>{tr('m_data')}: " + "; ".join(_esc(s) for s in sources) + "</p>")
    if data_date:
        parts.append(f"<p>{tr('m_data_date')}: {_esc(data_date)}</p>")
    study_path = getattr(study, "path", None) if study is not None else None
    if study_path:
        parts.append(f"<p>{tr('m_study_file')}: {_esc(Path(str(study_path)).name)}</p>")
    if shifted:
        parts.append(f"<p>{_esc(tr('m_gcj02_note'))}</p>")
    parts.append(
        f'<p class="gp-muted">{tr("m_generated")} {dt.date.today().isoformat()} · '
        f"geoplan {_esc(__version__)} · {tr('m_basemap')}: {_esc(basemap.label)}</p></details>"
    )
    return "".join(parts)

"""Context layers of a planning map: metro stations, parks, exclusions, facilities...

Private to :mod:`geoplan.maps.build`.  Each layer is drawn as a
:class:`~geoplan.maps._elements.FeatureLayer` whose style, tooltip and popup
are computed here, with every value HTML-escaped.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.indicators.facility_types import KINDS as FACILITY_KINDS
from geoplan.maps._data import (
    _MAX_ATTRIBUTES,
    _NAME_COLUMNS,
    _attr_label,
    _display_geometry,
    _esc,
    _feature_name,
    _fmt_number,
    _geometry_json,
    _is_missing,
    _plain,
    _swatch,
)
from geoplan.maps._elements import FeatureLayer, LayerLegend, RingsLayer
from geoplan.maps._i18n import pair, tr
from geoplan.maps._options import _context_layers, _study_name_column

logger = logging.getLogger(__name__)

#: Changzhou Metro: Line 1 blue, Line 2 orange-red (override with ``[map] line_colors``).
DEFAULT_LINE_COLORS: Final = {"1": "#1f5fae", "2": "#e0542e"}
_EXTRA_LINE_COLORS: Final = ("#2e7d32", "#8e24aa", "#f9a825", "#00838f", "#6d4c41", "#c2185b")
_OTHER_LINE_COLOR: Final = "#546e7a"
_FACILITY_COLORS: Final = (
    "#d81b60",
    "#00acc1",
    "#8e24aa",
    "#6d4c41",
    "#fdd835",
    "#c0ca33",
    "#00897b",
)
_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


Style = Callable[[Mapping[str, Any]], dict[str, Any]]
Tooltip = Callable[[Mapping[str, Any], str], str]
Label = Callable[[int, gpd.GeoDataFrame], str]


# --------------------------------------------------------------------------------------
# One context layer
# --------------------------------------------------------------------------------------


def _popup_table(title: str, row: Mapping[str, Any], columns: Iterable[str]) -> str:
    rows = "".join(
        f"<tr><th>{_esc(_attr_label(c))}</th><td>{_esc(_fmt_number(row[c]))}</td></tr>"
        for c in columns
    )
    return f'<div class="gp-pop-h">{_esc(title)}</div><table class="gp-kv">{rows}</table>'


def _add_feature_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    what: str,
    shift: bool,
    name_column: str | None,
    style: Style,
    tooltip: Tooltip,
    pane: str,
    label: Label,
    popup_columns: Sequence[str] | None = None,
    interactive: bool = True,
    show: bool = True,
) -> np.ndarray:
    """Draw a layer's display copy as a :class:`FeatureLayer`; return its geometries.

    ``label`` names the layer in the layer control from the number of features
    drawn and the display copy; popups list ``popup_columns`` (default: the
    attributes but the names).
    """
    shown, geoms = _display_geometry(frame, to_gcj02=shift, what=what)
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
    name = label(len(features), shown)
    FeatureLayer(features, name=name, pane=pane, interactive=interactive, show=show).add_to(m)
    return geoms


def _add_overlay(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    what: str,
    shift: bool,
    style: Style,
    tooltip: Tooltip,
    pane: str,
    label: Label,
    interactive: bool = True,
) -> np.ndarray:
    """A layer of unnamed shapes that explain themselves by tooltip (no popup table)."""
    return _add_feature_layer(
        m,
        frame,
        what=what,
        shift=shift,
        name_column=None,
        style=style,
        tooltip=tooltip,
        pane=pane,
        label=label,
        popup_columns=[],
        interactive=interactive,
    )


# --------------------------------------------------------------------------------------
# Metro stations and their rings
# --------------------------------------------------------------------------------------


def _station_lines(value: object) -> list[str]:
    if _is_missing(value):
        return []
    text = str(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        text = str(int(float(value)))
    return [part.strip() for part in re.split(r"[;,/、|\s]+", text) if part.strip()]


def _lines_in(stations: pd.DataFrame) -> list[str]:
    """The metro lines the stations serve, in order of first appearance."""
    found: list[str] = []
    if "lines" in stations.columns:
        for value in stations["lines"]:
            found += [line for line in _station_lines(value) if line not in found]
    return found


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
    for line in _lines_in(stations):
        if line not in colors:
            colors[line] = next(extra, _OTHER_LINE_COLOR)
    return colors


def _line_label(line: str) -> str:
    return tr("m_line", line=line) if line.isdigit() else f"{line}"


def _add_stations(
    m: folium.Map,
    stations: gpd.GeoDataFrame,
    *,
    name_column: str | None,
    shift: bool,
    rings: Sequence[float],
    line_colors: Mapping[str, str],
) -> None:
    colors = _line_colors(stations, line_colors)

    def line_key(line: str) -> str:
        return _swatch(colors.get(line, _OTHER_LINE_COLOR)) + _esc(_line_label(line))

    def style(row: Mapping[str, Any]) -> dict[str, Any]:
        lines = _station_lines(row.get("lines"))
        if len(lines) > 1:  # interchange
            return {
                "radius": 6,
                "color": "#263238",
                "weight": 3,
                "fillColor": "#ffffff",
                "fillOpacity": 1,
            }
        fill = colors.get(lines[0], _OTHER_LINE_COLOR) if lines else _OTHER_LINE_COLOR
        return {
            "radius": 5,
            "color": "#ffffff",
            "weight": 1.5,
            "fillColor": fill,
            "fillOpacity": 1,
        }

    def tooltip(row: Mapping[str, Any], name: str) -> str:
        lines = _station_lines(row.get("lines"))
        text = f"<b>{_esc(name)}</b>"
        if lines:
            text += "<br>" + " · ".join(line_key(x) for x in lines)
        return text

    def label(n: int, shown: gpd.GeoDataFrame) -> str:
        used = sorted(
            _lines_in(shown), key=lambda x: (not x.isdigit(), int(x) if x.isdigit() else 0, x)
        )
        keys = " ".join(line_key(x) for x in used)
        return f"{tr('m_stations')} ({n})" + (f" {keys}" if keys else "")

    geoms = _add_feature_layer(
        m,
        stations,
        what="stations",
        shift=shift,
        name_column=name_column,
        style=style,
        tooltip=tooltip,
        pane="gpPoints",
        label=label,
    )
    if rings:
        centers = shapely.centroid(geoms)
        points = [[round(float(p.y), 6), round(float(p.x), 6)] for p in centers]
        ring_text = "/".join(f"{r:g}" for r in sorted(rings))
        RingsLayer(points, rings, name=tr("m_station_areas", rings=ring_text)).add_to(m)


def _add_metro_lines(
    m: folium.Map, lines: gpd.GeoDataFrame, *, shift: bool, colors: Mapping[str, str]
) -> None:
    """Metro lines as lines in their colours (track geometry, else stations in order)."""

    def color(row: Mapping[str, Any]) -> str:
        return colors.get(str(row.get("line")), _OTHER_LINE_COLOR)

    def key(line: str) -> str:
        return _swatch(colors.get(line, _OTHER_LINE_COLOR)) + _esc(_line_label(line))

    _add_overlay(
        m,
        lines,
        what="metro lines",
        shift=shift,
        style=lambda row: {"color": color(row), "weight": 4, "opacity": 0.85},
        tooltip=lambda row, name: key(str(row.get("line"))),
        pane="gpAreas",
        label=lambda n, shown: (
            tr("m_metro_lines") + " " + " ".join(key(str(line)) for line in shown["line"])
        ),
    )


#: Study layers that hold metro lines (line geometries), looked up in this order.
METRO_LINE_LAYERS: Final = ("metro_lines", "metro", "lines", "transit_lines", "rail_lines")


def _as_metro_lines(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """A line layer as metro lines: ``line`` from ``line``/``ref``/``name``, ``color``/``colour``."""
    lines = frame[frame.geom_type.isin(["LineString", "MultiLineString"])]
    column = next((c for c in ("line", "ref", "name") if c in lines.columns), None)
    if not len(lines) or column is None:
        return None
    out = gpd.GeoDataFrame(
        {"line": lines[column].astype(str).to_numpy()},
        geometry=lines.geometry.values,
        crs=lines.crs,
    )
    colour = next((c for c in ("color", "colour") if c in lines.columns), None)
    if colour is not None:
        out["color"] = lines[colour].astype(str).to_numpy()
    return out


def _order_line(xy: np.ndarray, single: list[int], shared: list[int]) -> list[int]:
    """Stations of one line in order: the file order of its own stations, each interchange
    inserted where it lengthens the line least."""
    order = list(single)
    for i in shared:
        if len(order) < 2:
            order.append(i)
            continue
        points = xy[order]
        here = xy[i]
        ends = [np.hypot(*(here - points[0])), np.hypot(*(here - points[-1]))]
        legs = np.hypot(*(points[1:] - points[:-1]).T)
        inside = np.hypot(*(here - points[:-1]).T) + np.hypot(*(here - points[1:]).T) - legs
        best = int(np.argmin(inside)) if len(inside) else 0
        if len(inside) and inside[best] <= min(ends):
            order.insert(best + 1, i)
        elif ends[0] < ends[1]:
            order.insert(0, i)
        else:
            order.append(i)
    return order


def _lines_from_stations(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Metro lines drawn through the stations of each line (``lines`` column), in order."""
    if "lines" not in stations.columns or not len(stations):
        return None
    wgs = stations.to_crs("EPSG:4326") if stations.crs is not None else stations
    points = shapely.get_coordinates(shapely.centroid(np.asarray(wgs.geometry.values)))
    xy = points * np.array([math.cos(math.radians(float(np.nanmean(points[:, 1])))), 1.0])
    served = [_station_lines(v) for v in stations["lines"]]
    names, geoms = [], []
    for line in _lines_in(stations):
        single = [i for i, s in enumerate(served) if s == [line]]
        shared = [i for i, s in enumerate(served) if line in s and len(s) > 1]
        order = _order_line(xy, single, shared)
        if len(order) >= 2:
            names.append(line)
            geoms.append(shapely.LineString(points[order]))
    if not names:
        return None
    return gpd.GeoDataFrame({"line": names}, geometry=geoms, crs="EPSG:4326")


def _transit_lines(
    study: Any, given: gpd.GeoDataFrame | None, stations: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """The metro lines to draw and the study layer they come from.

    Given; else the study's ``[transit]`` lines; else a line layer of the study
    (:data:`METRO_LINE_LAYERS`); else the stations of each line in order.
    """
    if given is not None:
        return (given if len(given) and "line" in given.columns else None), None
    service = getattr(study, "transit_service", None) if study is not None else None
    lines = getattr(service, "lines", None)
    if isinstance(lines, gpd.GeoDataFrame) and len(lines):
        return lines, None
    layers = getattr(study, "layers", None) if study is not None else None
    if isinstance(layers, Mapping):
        for name in METRO_LINE_LAYERS:
            frame = layers.get(name)
            if isinstance(frame, gpd.GeoDataFrame):
                found = _as_metro_lines(frame)
                if found is not None:
                    return found, name
    if stations is not None:
        return _lines_from_stations(stations), None
    return None, None


#: Study layers the map draws in their own way (others are drawn plainly, switched off).
_DRAWN_LAYERS: Final = frozenset(
    {
        "candidates",
        "parks",
        "industrial_parks",
        "stations",
        "metro_stations",
        "exclusions",
        "exclusion_zones",
        "facilities",
        "area",
        "study_area",
        "context",
    }
)
#: Layers larger than this are not drawn plainly (the file would grow too much).
_MAX_OTHER_FEATURES: Final = 5000


def _other_label(layer: str) -> Label:
    def label(n: int, shown: gpd.GeoDataFrame) -> str:
        return f"{_swatch('#90a4ae')}{_esc(tr('m_other_layer'))}: {_esc(layer)} ({n})"

    return label


def _add_other_layers(
    m: folium.Map, study: Any, used: set[str], *, shift: bool, name_columns: Mapping[str, Any]
) -> None:
    """The study's other layers, drawn plainly and switched off; a warning for each one not drawn."""
    layers = getattr(study, "layers", None) if study is not None else None
    if not isinstance(layers, Mapping):
        return
    for name, frame in layers.items():
        if name in _DRAWN_LAYERS or name in used or not isinstance(frame, gpd.GeoDataFrame):
            continue
        if not len(frame):
            logger.warning("the map does not draw layer %r: it has no features", name)
            continue
        if len(frame) > _MAX_OTHER_FEATURES:
            logger.warning(
                "the map does not draw layer %r: %d features are more than %d for a plain layer "
                "(draw it with your GIS, or pass a smaller layer to make_map)",
                name,
                len(frame),
                _MAX_OTHER_FEATURES,
            )
            continue
        _add_feature_layer(
            m,
            frame,
            what=str(name),
            shift=shift,
            name_column=name_columns.get(name),
            style=lambda row: {
                "radius": 4,
                "color": "#455a64",
                "weight": 1.2,
                "fillColor": "#90a4ae",
                "fillOpacity": 0.35,
            },
            tooltip=lambda row, title: f"<b>{_esc(title)}</b>",
            pane="gpPoints",
            label=_other_label(str(name)),
            show=False,
        )


# --------------------------------------------------------------------------------------
# Parks, exclusions, facilities, isochrones, study area
# --------------------------------------------------------------------------------------


def _add_parks(
    m: folium.Map, parks: gpd.GeoDataFrame, *, name_column: str | None, shift: bool
) -> None:
    jobs_max = (
        float(pd.to_numeric(parks["jobs"], errors="coerce").max())
        if "jobs" in parks.columns
        else float("nan")
    )

    def style(row: Mapping[str, Any]) -> dict[str, Any]:
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

    def tooltip(row: Mapping[str, Any], name: str) -> str:
        text = f"<b>{_esc(name)}</b>"
        if "jobs" in row and not _is_missing(row["jobs"]):
            text += f"<br>{tr('m_jobs')}: {_esc(_fmt_number(row['jobs']))}"
        return text

    _add_feature_layer(
        m,
        parks,
        what="parks",
        shift=shift,
        name_column=name_column,
        style=style,
        tooltip=tooltip,
        pane="gpAreas",
        label=lambda n, _: f"{_swatch('#9575cd', True)}{tr('m_parks')} ({n})",
    )


def _exclusion_style(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "radius": 6,
        "color": "#c62828",
        "weight": 1.5,
        "dashArray": "6 4",
        "fillColor": "#e53935",
        "fillOpacity": 0.18,
    }


def _exclusion_tooltip(row: Mapping[str, Any], name: str) -> str:
    text = f"<b>{_esc(name)}</b><br>{tr('m_exclusion_zone')}"
    for column in ("kind", "type", "reason"):
        if column in row and not _is_missing(row[column]):
            text += f" · {_esc(row[column])}"
            break
    return text


def _add_exclusions(
    m: folium.Map, exclusions: gpd.GeoDataFrame, *, name_column: str | None, shift: bool
) -> None:
    _add_feature_layer(
        m,
        exclusions,
        what="exclusions",
        shift=shift,
        name_column=name_column,
        style=_exclusion_style,
        tooltip=_exclusion_tooltip,
        pane="gpAreas",
        label=lambda n, _: f"{_swatch('#e53935', True)}{tr('m_exclusions')} ({n})",
    )


def _kind_name(kind: object) -> str:
    """A facility kind in the map's language (GB 50180 kinds and a few common words)."""
    text = str(kind)
    names = FACILITY_KINDS.get(text) or FACILITY_KINDS.get(_KIND_ALIASES.get(text, ""))
    return pair(names[0], text) if names else text


_KIND_ALIASES: Final = {"shopping": "shopping_centre", "sports": "sports_centre"}


def _add_facilities(
    m: folium.Map, facilities: gpd.GeoDataFrame, *, name_column: str | None, shift: bool
) -> None:
    kind_col = next((c for c in ("kind", "type", "category") if c in facilities.columns), None)
    kinds = sorted({str(v) for v in facilities[kind_col].dropna()}) if kind_col else []
    kind_colors = {k: _FACILITY_COLORS[i % len(_FACILITY_COLORS)] for i, k in enumerate(kinds)}

    def style(row: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(row.get(kind_col)) if kind_col else ""
        return {
            "radius": 3.5,
            "color": "#ffffff",
            "weight": 0.8,
            "fillColor": kind_colors.get(kind, "#8d6e63"),
            "fillOpacity": 0.9,
        }

    def tooltip(row: Mapping[str, Any], name: str) -> str:
        text = f"<b>{_esc(name)}</b>"
        if kind_col and not _is_missing(row.get(kind_col)):
            text += f"<br>{_esc(_attr_label(kind_col))}: {_esc(_kind_name(row[kind_col]))}"
        return text

    keys = " ".join(_swatch(kind_colors[k]) + _esc(_kind_name(k)) for k in kinds[:8])
    _add_feature_layer(
        m,
        facilities,
        what="facilities",
        shift=shift,
        name_column=name_column,
        style=style,
        tooltip=tooltip,
        pane="gpPoints",
        label=lambda n, _: f"{tr('m_facilities')} ({n})" + (f" {keys}" if keys else ""),
    )


#: Colours of the sites' isochrones (one per site; bands of a site share it).
_ISO_COLORS: Final = (
    "#e65100",
    "#1565c0",
    "#2e7d32",
    "#6a1b9a",
    "#00838f",
    "#ad1457",
    "#5d4037",
    "#9e9d24",
)
_ISO_DASHES: Final = (None, "6 4", "2 4", "8 3 2 3")


def _iso_site(row: Mapping[str, Any]) -> str | None:
    for column in ("site_name", "name_zh", "name", "site_id", "point", "site"):
        if column in row and not _is_missing(row[column]):
            return str(row[column])
    return None


def _add_isochrones(m: folium.Map, isochrones: gpd.GeoDataFrame, *, shift: bool) -> None:
    """Isochrones: one colour per site, one line style per band, and a legend of both."""
    minutes_col = "minutes" if "minutes" in isochrones.columns else None
    iso = isochrones
    if minutes_col:
        iso = isochrones.sort_values(minutes_col, ascending=False, kind="stable")
    bands = (
        sorted({float(v) for v in pd.to_numeric(iso[minutes_col], errors="coerce").dropna()})
        if minutes_col
        else []
    )
    sites: list[str] = []
    for row in iso.drop(columns=iso.geometry.name).to_dict("records"):
        site = _iso_site(row)
        if site is not None and site not in sites:
            sites.append(site)
    colours = {site: _ISO_COLORS[i % len(_ISO_COLORS)] for i, site in enumerate(sites)}
    dashes = {band: _ISO_DASHES[min(i, len(_ISO_DASHES) - 1)] for i, band in enumerate(bands)}

    def style(row: Mapping[str, Any]) -> dict[str, Any]:
        color = colours.get(_iso_site(row) or "", _ISO_COLORS[0])
        value = _plain(row.get(minutes_col)) if minutes_col else None
        dash = dashes.get(float(value)) if isinstance(value, int | float) else None
        return {
            "color": color,
            "weight": 1.6,
            "dashArray": dash,
            "fillColor": color,
            "fillOpacity": 0.1,
        }

    transit = "mode" in iso.columns and bool((iso["mode"] == "walk + metro").any())
    how = tr("m_walk_metro") if transit else tr("m_walk")
    unit = "m" if "metres" in iso.columns else tr("m_minutes")

    def tooltip(row: Mapping[str, Any], name: str) -> str:
        value = row.get("metres", row.get(minutes_col)) if minutes_col else None
        text = (
            f"{how} {_esc(_fmt_number(value))} {_esc(unit)}"
            if value is not None
            else tr("m_isochrone")
        )
        site = _iso_site(row)
        return f"<b>{_esc(site)}</b><br>{text}" if site is not None else text

    name = tr("m_iso_transit") if transit else tr("m_iso_walk")
    _add_overlay(
        m,
        iso,
        what="isochrones",
        shift=shift,
        style=style,
        tooltip=tooltip,
        pane="gpAreas",
        label=lambda n, _: f"{_swatch(_ISO_COLORS[0], True)}{name}",
    )
    layer = [c for c in m._children.values() if isinstance(c, FeatureLayer)][-1]
    if "metres" in iso.columns:
        values = {float(b): _plain(v) for b, v in zip(iso[minutes_col], iso["metres"], strict=True)}
        band_labels = [f"{_fmt_number(values.get(b, b))} m" for b in bands]
    else:
        band_labels = [f"{_fmt_number(b)} {tr('m_minutes')}" for b in bands]
    rows = [
        '<div class="gp-key"><svg width="26" height="10"><line x1="1" y1="5" x2="25" y2="5" '
        f'stroke="#37474f" stroke-width="2" stroke-dasharray="{_esc(dashes[b] or "")}"/></svg>'
        f"{_esc(text)}</div>"
        for b, text in zip(bands, band_labels, strict=True)
    ]
    rows += [
        f'<div class="gp-key">{_swatch(colours[site], True)}{_esc(site)}</div>'
        for site in sites[:8]
    ]
    title = f'<div class="gp-legend-title">{_esc(name)}</div>'
    LayerLegend(title + "".join(rows), layer).add_to(m)


def _add_area(m: folium.Map, area: gpd.GeoDataFrame, *, shift: bool) -> None:
    _add_overlay(
        m,
        area,
        what="area",
        shift=shift,
        style=lambda row: {"color": "#455a64", "weight": 2, "dashArray": "8 6", "fill": False},
        tooltip=lambda row, name: "",
        pane="gpAreas",
        label=lambda n, _: tr("m_area"),
        interactive=False,
    )


def _add_context_layers(
    m: folium.Map,
    study: Any,
    given: Mapping[str, gpd.GeoDataFrame | None],
    *,
    isochrones: gpd.GeoDataFrame | None,
    shift: bool,
    rings: Sequence[float],
    line_colors: Mapping[str, str],
) -> None:
    """Draw the context layers (those given, else the study's), in the layer-control order.

    ``rings`` are straight-line station rings (none when the map draws walking areas).
    """
    context = _context_layers(study, given)
    metro, metro_layer = _transit_lines(study, given.get("metro_lines"), context.get("stations"))
    if metro is not None:  # the lines' own colours (GTFS, [transit]) unless [map] sets them
        given_colors = metro["color"] if "color" in metro.columns else [""] * len(metro)
        own = {str(k): str(v) for k, v in zip(metro["line"], given_colors, strict=True)}
        line_colors = {**{k: v for k, v in own.items() if _COLOR.match(v)}, **dict(line_colors)}
        colors = _line_colors(context.get("stations", metro.iloc[:0]), line_colors)
        extra = iter(c for c in _EXTRA_LINE_COLORS if c not in colors.values())
        colors.update({k: next(extra, _OTHER_LINE_COLOR) for k in own if k not in colors})
        _add_metro_lines(m, metro, shift=shift, colors=colors)
        line_colors = colors
    if "stations" in context:
        _add_stations(
            m,
            context["stations"],
            name_column=_study_name_column(study, "stations"),
            shift=shift,
            rings=rings,
            line_colors=line_colors,
        )
    if "parks" in context:
        _add_parks(m, context["parks"], name_column=_study_name_column(study, "parks"), shift=shift)
    if "exclusions" in context:
        _add_exclusions(
            m,
            context["exclusions"],
            name_column=_study_name_column(study, "exclusions"),
            shift=shift,
        )
    if "facilities" in context:
        _add_facilities(
            m,
            context["facilities"],
            name_column=_study_name_column(study, "facilities"),
            shift=shift,
        )
    if isochrones is not None and len(isochrones):
        _add_isochrones(m, isochrones, shift=shift)
    if "area" in context:
        _add_area(m, context["area"], shift=shift)
    _add_other_layers(
        m,
        study,
        {metro_layer} if metro_layer else set(),
        shift=shift,
        name_columns=getattr(study, "name_columns", None) or {},
    )

"""Indicator layers of a planning map: life circles, their gaps, and station walking areas.

Private to :mod:`geoplan.maps.build`.

* **Life-circle gaps**: every eligible site that misses a GB 50180-2018
  provision (:func:`geoplan.indicators.life_circles.life_circles`) carries a red ring;
  its tooltip lists what is missing, in Chinese and English.
* **Life circles of the top sites**: the 5-, 10- and 15-minute circles
  (300, 500 and 1,000 m) of the best sites, as the area reachable along the
  walk network when the map has one, else as straight-line circles (said so
  in the layer's name: they are generous).
* **Station walking areas**: the core and influence areas of each station
  (500 and 800 m by default) along the walk network, replacing the
  straight-line rings when the map has a network.

Facilities come from the study's ``life_circle`` criterion, else from the
layer its ``[indicators] facilities_layer`` names, with its ``kind_column``.  Every text is HTML-escaped here and
travels as page data (:class:`~geoplan.maps._elements.FeatureLayer`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geoplan.indicators.life_circles import LEVELS, gb50180_levels, life_circles
from geoplan.io import coords
from geoplan.maps._context import _add_overlay
from geoplan.maps._data import _esc, _feature_name, _swatch
from geoplan.maps._i18n import current, pair, tr
from geoplan.measure.distance import DistanceMetric, StraightLine
from geoplan.streets.isochrone import isochrones
from geoplan.streets.network import StreetNetwork
from geoplan.streets.routing import NetworkMetric
from geoplan.study._checks import INDICATOR_DEFAULTS

__all__ = ["add_life_circles", "add_station_walk_areas", "life_circle_facilities", "walk_areas"]

logger = logging.getLogger(__name__)

#: Level -> (colour, Chinese name, English name, short English), widest drawn first.
_LEVEL_STYLE: Final = {
    "lc15": ("#7b1fa2", "15分钟生活圈", "15-minute life circle", "15 min"),
    "lc10": ("#1976d2", "10分钟生活圈", "10-minute life circle", "10 min"),
    "lc5": ("#00897b", "5分钟生活圈", "5-minute life circle", "5 min"),
}
_GAP_COLOR: Final = "#c62828"
#: Above this many eligible sites, only the top ones carry gap rings.
MAX_GAP_SITES: Final = 500
#: Frontage either side of a reachable street (metres), as in :func:`isochrones`.
_FRONTAGE_M: Final = 30.0


def walk_areas(
    points: gpd.GeoSeries, distances_m: Sequence[float], *, network: StreetNetwork | None
) -> gpd.GeoDataFrame:
    """The area within each distance of each point: along the walk network, else a circle.

    Returns one row per point and distance (``point``, ``distance_m``,
    geometry in EPSG:4326), widest first for each point.
    """
    if network is not None:
        found = isochrones(network, points, distances_m=distances_m, buffer_m=_FRONTAGE_M)
    else:
        crs = _local_crs(points)
        projected = points.to_crs(crs)
        rows = [
            (label, float(d), shapely.buffer(geom, float(d), quad_segs=16))
            for label, geom in zip(projected.index, projected.values, strict=True)
            for d in sorted(distances_m)
        ]
        found = gpd.GeoDataFrame(
            {"point": [r[0] for r in rows], "distance_m": [r[1] for r in rows]},
            geometry=gpd.GeoSeries([r[2] for r in rows], crs=crs),
        ).to_crs(4326)
    return found.sort_values(["distance_m"], ascending=False, kind="stable")[
        ["point", "distance_m", "geometry"]
    ]


def _local_crs(geoms: gpd.GeoSeries) -> Any:
    west, south, east, north = (float(v) for v in geoms.to_crs(4326).total_bounds)
    return coords.local_metric_crs((west, south, east, north))


def life_circle_facilities(study: Any) -> tuple[gpd.GeoDataFrame, str] | None:
    """The facilities a study checks life circles with, and their kind column.

    Those of a ``life_circle`` criterion, else ``[indicators] facilities_layer``
    when the study names it; none otherwise (a facilities layer of other kinds
    would show every site lacking everything).
    """
    layers = getattr(study, "layers", None) or {}
    options = {**INDICATOR_DEFAULTS, **(getattr(study, "indicators", None) or {})}
    for criterion in getattr(study, "criteria", None) or []:
        if getattr(criterion, "kind", None) == "life_circle" and criterion.layer in layers:
            kind = str(criterion.extra.get("kind_column", options["kind_column"]))
            return layers[criterion.layer], kind
    name = (getattr(study, "indicators", None) or {}).get("facilities_layer")
    if name in layers and str(options["kind_column"]) in layers[name].columns:
        return layers[name], str(options["kind_column"])
    return None


def _reach_m() -> dict[str, float]:
    levels = gb50180_levels()
    return {level: float(levels.loc[level, "reach_m"]) for level in LEVELS}


def _site_names(frame: gpd.GeoDataFrame) -> pd.Series:
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    return pd.Series(
        [
            _feature_name(r, None, f"site {label}")
            for r, label in zip(records, frame.index, strict=True)
        ],
        index=frame.index,
    )


def add_life_circles(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    study: Any,
    *,
    network: StreetNetwork | None,
    top_n: int,
    shift: bool,
) -> bool:
    """Draw the life-circle gaps of the best eligible sites and the life circles of the top ones.

    Gaps are marked on every eligible site when there are at most
    :data:`MAX_GAP_SITES` of them, else (a dense grid) on the top ``top_n``
    only, so that the map keeps its size and stays readable.
    Returns whether anything was drawn (not when the study has no facilities
    with kinds).
    """
    source = life_circle_facilities(study)
    if source is None:
        return False
    facilities, kind_column = source
    ranked = frame[frame["eligible"] & frame["rank"].notna()].sort_values("rank", kind="stable")
    # every eligible site of an ordinary study; a dense grid's top sites only (its map's budget)
    checked = ranked if len(ranked) <= MAX_GAP_SITES else ranked.head(max(top_n, 1))
    if not len(checked):
        return False
    crs = network.crs if network is not None else _local_crs(checked.geometry)
    metric: DistanceMetric = (
        NetworkMetric(network, unit="m") if network is not None else (StraightLine())
    )
    sites = checked.to_crs(crs)
    found = life_circles(sites, facilities.to_crs(crs), kind_column=kind_column, metric=metric)
    names = _site_names(checked)
    along = (
        pair("沿步行路网", "along the walk network")
        if network is not None
        else pair("直线", "straight-line")
    )
    gap_columns = {"zh": ["gaps_zh"], "en": ["gaps_en"]}.get(current(), ["gaps_zh", "gaps_en"])

    gaps = checked.loc[~found["lc15_ok"].to_numpy()]
    of_best = (
        ""
        if len(checked) == len(ranked)
        else pair(f"前 {len(checked)} 名中", f"of the best {len(checked)}") + ", "
    )
    if len(gaps):
        texts = found.loc[gaps.index]

        def gap_tooltip(row: Mapping[str, Any], name: str) -> str:
            label = row["_gp_site"]
            lines = [f"<b>{_esc(names[label])}</b>"]
            for column in gap_columns:
                lines += [_esc(t) for t in str(texts.at[label, column]).split("; ") if t]
            return "<br>".join(lines)

        _add_overlay(
            m,
            gpd.GeoDataFrame({"_gp_site": gaps.index}, geometry=gaps.geometry.values),
            what="life-circle gaps",
            shift=shift,
            style=lambda row: {
                "radius": 10,
                "color": _GAP_COLOR,
                "weight": 2,
                "fill": False,
            },
            tooltip=gap_tooltip,
            pane="gpPoints",
            label=lambda n, _: (
                f"{_swatch(_GAP_COLOR)}{pair('生活圈缺口', 'Life-circle gaps')} "
                f"({n}, {_esc(of_best)}{_esc(along)})"
            ),
        )

    best = checked.head(top_n) if top_n > 0 else checked.iloc[:0]
    if len(best):
        reach = _reach_m()
        level_of = {d: level for level, d in reach.items()}
        areas = walk_areas(best.geometry, list(reach.values()), network=network)
        areas = areas[~areas.geometry.is_empty]

        def style(row: Mapping[str, Any]) -> dict[str, Any]:
            color = _LEVEL_STYLE[level_of[row["distance_m"]]][0]
            return {"color": color, "weight": 1.2, "fillColor": color, "fillOpacity": 0.06}

        def tooltip(row: Mapping[str, Any], name: str) -> str:
            label = row["point"]
            level = level_of[row["distance_m"]]
            _, zh, en, _ = _LEVEL_STYLE[level]
            ok = bool(found.at[label, f"{level}_ok"])
            verdict = (
                pair("达标", "meets GB 50180") if ok else pair("未达标", "falls short of GB 50180")
            )
            return (
                f"<b>{_esc(names[label])}</b><br>{pair(zh, en)} "
                f"({row['distance_m']:,.0f} m, {_esc(along)})<br>{verdict}"
            )

        keys = " ".join(
            f"{_swatch(color, True)}{pair(zh, short)} {d:,.0f} m"
            for level, (color, zh, _, short) in _LEVEL_STYLE.items()
            for d in [reach[level]]
        )
        top_words = pair(f"前 {len(best)} 名生活圈", f"Life circles of the top {len(best)}")
        _add_overlay(
            m,
            gpd.GeoDataFrame(areas[["point", "distance_m"]], geometry=areas.geometry.values),
            what="life circles",
            shift=shift,
            style=style,
            tooltip=tooltip,
            pane="gpAreas",
            label=lambda n, _: f"{top_words} ({_esc(along)}) {keys}",
        )
    return True


def add_station_walk_areas(
    m: folium.Map,
    stations: gpd.GeoDataFrame,
    *,
    name_column: str | None,
    network: StreetNetwork,
    rings_m: Sequence[float],
    shift: bool,
) -> None:
    """Draw each station's walking areas (e.g. 500 and 800 m along the walk network)."""
    stations = stations[~(stations.geometry.is_empty | stations.geometry.isna())]
    records = stations.drop(columns=stations.geometry.name).to_dict("records")
    names = [_feature_name(r, name_column, f"station {i + 1}") for i, r in enumerate(records)]
    points = gpd.GeoSeries(
        stations.to_crs(network.crs).geometry.centroid.values, crs=network.crs
    ).reset_index(drop=True)
    areas = walk_areas(points, rings_m, network=network)
    areas = areas[~areas.geometry.is_empty]
    inner = min(rings_m)
    text = "/".join(f"{r:g}" for r in sorted(rings_m))

    _add_overlay(
        m,
        gpd.GeoDataFrame(areas[["point", "distance_m"]], geometry=areas.geometry.values),
        what="station walking areas",
        shift=shift,
        style=lambda row: {
            "color": "#37474f",
            "weight": 1.2 if row["distance_m"] == inner else 1,
            "dashArray": None if row["distance_m"] == inner else "5 4",
            "fillColor": "#90caf9",
            "fillOpacity": 0.08 if row["distance_m"] == inner else 0.0,
        },
        tooltip=lambda row, name: (
            f"<b>{_esc(names[int(row['point'])])}</b><br>"
            + pair(
                f"步行 {row['distance_m']:,.0f} 米范围",
                f"within {row['distance_m']:,.0f} m on foot",
            )
        ),
        pane="gpRings",
        label=lambda n, _: tr("m_station_walks", rings=text),
        interactive=False,
    )

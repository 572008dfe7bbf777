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
  park and metro station with distances; the site's own attributes; when
  the table has a ``robustness`` column (:func:`geoplan.decide.robustness.add_robustness`,
  ``geoplan rank --robustness``), how often the site stays near the top under
  other weightings; all labels in Chinese and English.  The popup is built in the browser from
  compact per-site properties, and every string is HTML-escaped there.
* **Context layers**: industrial parks (polygons or points, with jobs), metro
  lines (from the study's ``[transit]``: tracks, else stations in order) and
  stations in their lines' colours, station areas (500 m and 800 m by
  default: along the walk network when the map has one, else straight-line
  rings), exclusion zones, facilities, the study area and, when given,
  walk-time isochrones (polygons with a ``minutes`` column).
* **Life circles** (GB 50180-2018), when the study checks them (a
  ``life_circle`` criterion or ``[indicators] facilities_layer``): a red ring on
  every eligible site that misses a provision, its tooltip listing the gaps,
  and the 5-, 10- and 15-minute circles (300, 500, 1,000 m) of the top sites,
  along the walk network when the map has one, else straight-line (generous).
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
``life_circles``       ``true``         life-circle gaps of every site and the life
                                        circles of the top sites (when the study
                                        checks life circles)
``lang``               ``zh+en``        ``zh``, ``en`` or ``zh+en``: the map's words
``context``            auto             the offline context backdrop (a layer name,
                                        ``true``/``false``)
``context_kb``         (budget)         size budget of the context backdrop
``max_mb``             (budget)         size budget of a dense grid's surface
``isochrones``         (none)           ``{ sites = "top", minutes = [5, 10, 15] }``
                                        along the study's walk network
``tianditu_key``       (none)           prefer the ``TIANDITU_KEY`` environment variable
``embed_key``          ``false``        write the Tianditu key into the HTML
``data_sources``       layer files      list of strings for the methodology note
``data_date``          (none)           date of the data, for the methodology note
``colors``             YlGnBu           list of colours for the score ramp (low -> high)
=====================  ===============  ==============================================

``offline`` (default ``true``) belongs to :func:`save_map`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import branca.colormap as bcm
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.map import Layer

from geoplan._errors import GeoplanError, OfflineAssetError, StudyError
from geoplan.io.lang import check_lang
from geoplan.io.outputs import write_text
from geoplan.maps import basemaps as _basemaps
from geoplan.maps._backdrop import DEFAULT_BUDGET_KB, add_backdrop, map_bbox
from geoplan.maps._context import DEFAULT_LINE_COLORS, _add_context_layers
from geoplan.maps._data import _criteria, _method_html, _method_of, _prepare_ranked, _titles
from geoplan.maps._elements import (
    LayerControl,
    MapInfo,
    MiniMap,
    ScoreLegend,
    SiteSearch,
    SitesLayer,
    TopLabels,
    _Panes,
    _Style,
)
from geoplan.maps._i18n import current, speaking, tr
from geoplan.maps._indicators import (
    add_life_circles,
    add_station_walk_areas,
    life_circle_facilities,
)
from geoplan.maps._options import (
    DEFAULT_RINGS_M,
    _context_layers,
    _options_of,
    _Settings,
    _settings,
    _study_layer,
    _study_name_column,
)
from geoplan.maps._page import GeoplanFigure
from geoplan.maps._sites import _localise, _sites_layer, site_ids
from geoplan.maps._surface import DEFAULT_SURFACE_MB, TOP_POINTS, grid_of, surface
from geoplan.maps.offline import make_offline
from geoplan.streets.network import StreetNetwork
from geoplan.study.files import Study
from geoplan.study.ranking import study_metric

# Re-exported, so that ``geoplan.maps.build.FeatureLayer`` and the like keep working.
from geoplan.maps._data import ATTRIBUTE_LABELS as ATTRIBUTE_LABELS  # isort: skip
from geoplan.maps._data import INELIGIBLE_COLOR as INELIGIBLE_COLOR  # isort: skip
from geoplan.maps._elements import FeatureLayer as FeatureLayer  # isort: skip
from geoplan.maps._elements import RingsLayer as RingsLayer  # isort: skip

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


DEFAULT_SCORE_COLORS: Final = (  # ColorBrewer YlGn: apart from metro blue/orange and park purple
    "#ffffe5",
    "#d9f0a3",
    "#addd8e",
    "#78c679",
    "#41ab5d",
    "#238443",
    "#005a32",
)
#: Where the map opens before it is fitted to the sites (Changzhou).
_DEFAULT_CENTER: Final = (31.78, 119.97)


# --------------------------------------------------------------------------------------
# The study's [map] table
# --------------------------------------------------------------------------------------

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
    "lang": "lang",
    "context": "context",
    "context_kb": "context_kb",
    "max_mb": "max_mb",
    "life_circles": "life_circles",
    "isochrones": "isochrones",
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
        if target == "lang":
            try:
                check_lang(value, where="[map] lang")
            except GeoplanError as exc:
                problems.append(str(exc))
                continue
        if target == "isochrones":
            from geoplan.study.isochrones import check_isochrone_spec

            found = check_isochrone_spec(value)
            if found:
                problems.extend(found)
                continue
            kwargs[target] = dict(value)
            continue
        if target == "layer_control_collapsed" and value == "auto":
            kwargs[target] = None
            continue
        if target in {"context_kb", "max_mb"} and (
            isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
        ):
            problems.append(f"[map] {key} must be a positive number, got {value!r}")
            continue
        if target in {
            "minimap",
            "search",
            "layer_control_collapsed",
            "embed_key",
            "life_circles",
        } and not (isinstance(value, bool)):
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


# --------------------------------------------------------------------------------------
# The steps of make_map
# --------------------------------------------------------------------------------------


def _new_map(title: str) -> folium.Map:
    """An empty map on a :class:`GeoplanFigure`, linking only Leaflet, with geoplan's styles."""
    m = folium.Map(
        location=list(_DEFAULT_CENTER),
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
    GeoplanFigure(title=title).add_child(m)
    _Style().add_to(m)
    _Panes().add_to(m)
    return m


def _add_basemaps(
    m: folium.Map,
    settings: _Settings,
    options: Mapping[str, Any],
) -> Layer | None:
    """Add the base layers (the first shown); return the first one's keyed layer, if any."""
    keyed: Layer | None = None
    for i, basemap in enumerate(settings.basemaps):
        _basemaps.add_basemap(
            m,
            basemap,
            options=options,
            tianditu_key=settings.tianditu_key,
            embed_key=settings.embed_key,
            show=(i == 0),
        )
        if i == 0 and basemap.needs_key:
            keyed = [c for c in m._children.values() if isinstance(c, _basemaps.KeyedTileLayer)][-1]
    return keyed


def _colormap(colors: Sequence[str] | bcm.LinearColormap | None) -> bcm.LinearColormap:
    if isinstance(colors, bcm.LinearColormap):
        cmap = colors.scale(0, 1)
    else:
        cmap = bcm.LinearColormap(list(colors or DEFAULT_SCORE_COLORS), vmin=0.0, vmax=1.0)
    cmap.caption = tr("m_score_caption")
    return cmap


def _add_controls(
    m: folium.Map,
    sites: SitesLayer,
    *,
    settings: _Settings,
    keyed: Layer | None,
) -> None:
    """Full screen, site search, measuring tool, minimap and the layer control."""
    folium.plugins.Fullscreen(
        position="topleft", title=tr("m_fullscreen"), title_cancel=tr("m_fullscreen_exit")
    ).add_to(m)
    if settings.search and sites.data["features"]:
        SiteSearch(sites).add_to(m)
    folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="en" if current() == "en" else "cn",
    ).add_to(m)
    if settings.minimap and settings.basemaps[0].tiles:
        MiniMap(settings.basemaps[0], keyed=keyed).add_to(m)
    LayerControl(
        position="topright",
        collapsed=settings.layer_control_collapsed,  # type: ignore[arg-type]  # None: auto
    ).add_to(m)


def _study_walk_network(study: Any, *, needed: bool) -> StreetNetwork | None:
    """The study's street network for walking, when needed and its ``[network]`` has a source."""
    if not needed or not isinstance(study, Study) or study.network.get("source") is None:
        return None
    metric = study_metric(study, metric="network", mode="walk", unit="m")
    return getattr(metric, "network", None)


def _fit_view(m: folium.Map, geoms: np.ndarray) -> None:
    """Zoom to the sites, with a 5 % margin."""
    if len(geoms):
        west, south, east, north = (float(v) for v in shapely.total_bounds(geoms))
        pad_x, pad_y = max((east - west) * 0.05, 0.005), max((north - south) * 0.05, 0.005)
        m.fit_bounds([[south - pad_y, west - pad_x], [north + pad_y, east + pad_x]])
    else:
        logger.warning("make_map: the ranking has no sites with a geometry to draw")


def make_map(
    ranked: gpd.GeoDataFrame,
    study: Any = None,
    *,
    parks: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    exclusions: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | Mapping[str, Any] | None = None,
    area: gpd.GeoDataFrame | None = None,
    portfolio: Any = None,
    metro_lines: gpd.GeoDataFrame | None = None,
    walk_network: StreetNetwork | None = None,
    basemap: str | Sequence[str] | None = None,
    top_n: int | None = None,
    title: str | None = None,
    rings_m: Sequence[float] | None = None,
    line_colors: Mapping[str, str] | None = None,
    colors: Sequence[str] | bcm.LinearColormap | None = None,
    minimap: bool | None = None,
    search: bool | None = None,
    layer_control_collapsed: bool | None = None,
    life_circles: bool | None = None,
    tianditu_key: str | None = None,
    embed_key: bool | None = None,
    data_sources: Sequence[str] | None = None,
    data_date: str | None = None,
    lang: str | None = None,
    context: bool | str | gpd.GeoDataFrame | None = None,
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
    isochrones : geopandas.GeoDataFrame or mapping, optional
        Walk-time polygons with a ``minutes`` column; or what to compute along
        the study's ``[network]`` (``{"sites": "top", "minutes": [5, 10, 15]}``,
        see :func:`geoplan.study.isochrones.site_isochrones`), as the study's
        ``[map] isochrones`` does when this is not given.
    portfolio : geoplan.choose.portfolio.Portfolio, optional
        A chosen portfolio (:func:`geoplan.choose_sites`): its sites, each one's service
        area and the demand left uncovered are drawn as three more layers.
    metro_lines : geopandas.GeoDataFrame, optional
        Metro lines to draw (``line``, ``color``, line geometry); default the
        study's ``[transit]`` lines (their tracks, else their stations in order).
    walk_network : geoplan.streets.network.StreetNetwork, optional
        The walk network that station areas and life circles follow (default:
        the study's ``[network]``, loaded for walking, when it has a source;
        else they are straight-line circles).
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
    life_circles : bool, optional
        Draw life-circle gaps and the top sites' life circles (default on, when
        the study checks life circles: a ``life_circle`` criterion or
        ``[indicators] facilities_layer``).
    tianditu_key : str, optional
        Tianditu key (default: ``[map] tianditu_key`` or ``TIANDITU_KEY``).
    embed_key : bool, optional
        Write the Tianditu key into the HTML (default off; see :mod:`geoplan.maps.basemaps`).
    data_sources : sequence of str, optional
        Data sources listed in the methodology note (default: the study's layer files).
    data_date : str, optional
        Date of the data, shown in the methodology note.
    lang : {"zh+en", "zh", "en"}, optional
        Language of every label, popup, legend and reason (default: ``[map] lang``,
        else Chinese and English).
    context : bool, str or geopandas.GeoDataFrame, optional
        The offline context basemap (roads, rail, water, green space, districts)
        drawn under the analysis layers: a layer with a ``kind`` column, a path to
        an OpenStreetMap file, ``True`` (default: the study's ``context`` layer,
        else its ``[network]`` OSM file) or ``False`` for none.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`; in a notebook it displays itself.
    """
    options = _options_of(study)
    settings = _settings(
        study,
        options,
        basemap=basemap,
        top_n=top_n,
        title=title,
        rings_m=rings_m,
        line_colors=line_colors,
        colors=colors,
        minimap=minimap,
        search=search,
        layer_control_collapsed=layer_control_collapsed,
        life_circles=life_circles,
        tianditu_key=tianditu_key,
        embed_key=embed_key,
        data_sources=data_sources,
        data_date=data_date,
    )
    if isochrones is None and options.get("isochrones") is not None:
        isochrones = map_kwargs({"isochrones": options["isochrones"]})["isochrones"]
    if isinstance(isochrones, Mapping):
        from geoplan.study.isochrones import site_isochrones

        isochrones = site_isochrones(
            study,
            ranked,
            sites=isochrones.get("sites", "top"),
            minutes=isochrones.get("minutes", (5, 10, 15)),
            buffer_m=float(isochrones.get("buffer_m", 50.0)),
            top_n=settings.top_n,
        )
    with speaking(lang if lang is not None else options.get("lang")):
        return _make_map(
            ranked,
            study,
            options,
            layers={
                "parks": parks,
                "stations": stations,
                "exclusions": exclusions,
                "facilities": facilities,
                "area": area,
                "metro_lines": metro_lines,
            },
            isochrones=isochrones,
            portfolio=portfolio,
            context=context,
            settings=settings,
            walk_network=walk_network,
        )


def _make_map(
    ranked: gpd.GeoDataFrame,
    study: Any,
    options: Mapping[str, Any],
    *,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    isochrones: gpd.GeoDataFrame | None,
    portfolio: Any,
    context: bool | str | gpd.GeoDataFrame | None,
    settings: _Settings,
    walk_network: StreetNetwork | None,
) -> folium.Map:
    """:func:`make_map`'s work, in the language it set."""
    frame = _prepare_ranked(ranked)
    title, subtitle = _titles(settings.title, study, frame)
    n_eligible = int(frame["eligible"].sum())
    top = settings.top_n

    m = _new_map(title)
    keyed = _add_basemaps(m, settings, options)
    area = layers.get("area")
    if area is None:
        area = _study_layer(study, ("area", "study_area"))
    frame_geoms = np.asarray(frame.geometry.values, dtype=object)
    add_backdrop(
        m,
        study,
        context if context is not None else options.get("context"),
        bbox=map_bbox(frame_geoms[~shapely.is_missing(frame_geoms)], area),
        shift=settings.gcj02,
        budget_kb=float(options.get("context_kb") or DEFAULT_BUDGET_KB),
    )

    criteria = _criteria(frame, study)
    grid = grid_of(study, frame) if len(frame) else None
    best = frame["eligible"].to_numpy(dtype=bool) & (
        pd.to_numeric(frame["rank"], errors="coerce").astype(float).fillna(np.inf).to_numpy()
        <= max(top, TOP_POINTS)
    )
    frame = _localise(frame, criteria, best if grid is not None else None)
    method = _method_of(frame, study)
    cmap = _colormap(settings.colors)
    legend_layer: Layer
    if grid is None:
        sites, geoms = _sites_layer(
            frame, criteria, method=method, cmap=cmap, to_gcj02=settings.gcj02, top_n=top
        )
        sites.add_to(m)
        legend_layer = sites
    else:  # a dense grid: its cells as a surface, the best sites as points
        sites, _ = _sites_layer(
            frame[best],
            criteria,
            method=method,
            cmap=cmap,
            to_gcj02=settings.gcj02,
            top_n=top,
            n_eligible=n_eligible,
            name=tr("m_top_sites", n=int(best.sum())),
            radius=4.0,
        )
        legend_layer = surface(
            frame,
            criteria,
            site_ids(frame),
            cell_m=grid[0],
            shape=grid[1],
            to_gcj02=settings.gcj02,
            budget_mb=float(options.get("max_mb") or DEFAULT_SURFACE_MB),
            sites=sites,
        )
        sites.add_to(m)  # first: its script makes the kit the surface uses
        legend_layer.add_to(m)
        geoms = np.asarray(frame.geometry.values, dtype=object)
    if top > 0 and n_eligible:
        TopLabels(sites, top, name=tr("m_top_labels", n=top)).add_to(m)
    stations_layer = _context_layers(study, {"stations": layers.get("stations")}).get("stations")
    wants_walks = bool(settings.rings_m) and stations_layer is not None
    wants_circles = settings.life_circles and life_circle_facilities(study) is not None
    network = (
        walk_network
        if walk_network is not None
        else _study_walk_network(study, needed=wants_walks or wants_circles)
    )
    _add_context_layers(
        m,
        study,
        layers,
        isochrones=isochrones,
        shift=settings.gcj02,
        rings=settings.rings_m if network is None else [],
        line_colors=settings.line_colors,
    )
    if network is not None and wants_walks and stations_layer is not None:
        add_station_walk_areas(
            m,
            stations_layer,
            name_column=_study_name_column(study, "stations"),
            network=network,
            rings_m=settings.rings_m,
            shift=settings.gcj02,
        )
    if settings.life_circles:
        add_life_circles(m, frame, study, network=network, top_n=top, shift=settings.gcj02)
    if portfolio is not None:
        from geoplan.maps._portfolio import add_portfolio

        add_portfolio(m, portfolio, shift=settings.gcj02)

    ScoreLegend(
        cmap, legend_layer, top_n=top if n_eligible else 0, n_ineligible=len(frame) - n_eligible
    ).add_to(m)
    method_html = _method_html(
        criteria,
        method=method,
        study=study,
        data_sources=settings.data_sources,
        data_date=settings.data_date,
        basemap=settings.basemaps[0],
        shifted=settings.gcj02,
    )
    MapInfo(title, subtitle, method_html).add_to(m)
    _add_controls(m, sites, settings=settings, keyed=keyed)
    _fit_view(m, geoms)
    m.geoplan = {  # type: ignore[attr-defined]
        "basemap": settings.basemaps[0].name,
        "gcj02": settings.gcj02,
        "n_sites": len(sites.data["features"]),
        "top_n": top,
        "title": title,
    }
    return m


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------


def _stable_ids(root: Element) -> None:
    """Number every element in page order, so the same map renders to the same HTML.

    folium names elements with random ids; the names are only used when the
    page is rendered, so renumbering them first is safe.
    """
    stack, count = [root], 0
    while stack:
        element = stack.pop()
        element._id = f"{count:08x}"
        count += 1
        stack.extend(reversed(list(getattr(element, "_children", {}).values())))


def map_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map as one HTML page (self-contained when ``offline``)."""
    _stable_ids(m.get_root())
    page: str = m.get_root().render()
    if offline:
        page = make_offline(page)
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
    target = write_text(page, path, force=force)  # atomic; a full disk is said so
    logger.info(
        "saved map %s (%.1f MB%s)",
        target,
        len(page.encode("utf-8")) / 1e6,
        ", offline" if offline else "",
    )
    return target

"""What :func:`geoplan.make_map` takes from its keywords and from the study.

Private to :mod:`geoplan.maps.build`.  A keyword given to ``make_map`` wins; else
the study's value (its ``[map]`` table, ``study.map_options``, for options;
its layers for the context layers); else the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import branca.colormap as bcm
import geopandas as gpd

from geoplan._errors import GeoplanError
from geoplan.maps import basemaps as _basemaps

DEFAULT_RINGS_M: Final = (500.0, 800.0)

# --------------------------------------------------------------------------------------
# Options: keyword, else the study's [map] table, else the default
# --------------------------------------------------------------------------------------


def _options_of(study: Any) -> dict[str, Any]:
    """The study's ``[map]`` table (``study.map_options``), empty without one."""
    if study is None:
        return {}
    options = getattr(study, "map_options", None)
    if options is None:
        options = getattr(study, "map", None)
    return dict(options) if isinstance(options, Mapping) else {}


def _pick(explicit: Any, options: Mapping[str, Any], key: str, default: Any) -> Any:
    """The keyword if given, else the ``[map]`` value, else the default."""
    if explicit is not None:
        return explicit
    value = options.get(key)
    return default if value is None else value


def _chosen_basemaps(value: str | _basemaps.Basemap | Sequence[str]) -> list[_basemaps.Basemap]:
    """The basemaps to offer, the first shown; all in one datum (GCJ-02 or WGS-84)."""
    names = [value] if isinstance(value, str | _basemaps.Basemap) else list(value)
    chosen = [_basemaps.get_basemap(n) for n in names] or [_basemaps.get_basemap(None)]
    shift = chosen[0].datum == "gcj02"
    if any((b.datum == "gcj02") != shift for b in chosen if b.tiles):
        raise ValueError(
            f"basemaps {[b.name for b in chosen]!r} mix GCJ-02 (gaode) and WGS-84 tiles; "
            "layers can be drawn for only one of them: choose gaode alone, or the others."
        )
    return chosen


def _collapsed(value: object) -> bool | None:
    """``None`` ("auto": collapsed on a narrow screen) or a fixed choice."""
    return None if value is None or value == "auto" else bool(value)


@dataclass(frozen=True)
class _Settings:
    """The :func:`make_map` keywords once merged with the study's ``[map]`` table."""

    basemaps: list[_basemaps.Basemap]
    title: str | None
    top_n: int
    rings_m: list[float]
    line_colors: Mapping[str, str]
    colors: Sequence[str] | bcm.LinearColormap | None
    minimap: bool
    search: bool
    layer_control_collapsed: bool | None
    life_circles: bool
    tianditu_key: str | None
    embed_key: bool
    data_date: str | None
    data_sources: Sequence[str] | None

    @property
    def gcj02(self) -> bool:
        """Whether layers are drawn shifted to GCJ-02 (for Amap tiles)."""
        return self.basemaps[0].datum == "gcj02"


def _settings(
    study: Any,
    options: Mapping[str, Any],
    *,
    basemap: str | Sequence[str] | None,
    top_n: int | None,
    title: str | None,
    rings_m: Sequence[float] | None,
    line_colors: Mapping[str, str] | None,
    colors: Sequence[str] | bcm.LinearColormap | None,
    minimap: bool | None,
    search: bool | None,
    layer_control_collapsed: bool | None,
    life_circles: bool | None,
    tianditu_key: str | None,
    embed_key: bool | None,
    data_sources: Sequence[str] | None,
    data_date: str | None,
) -> _Settings:
    """Merge the keywords (``None``: not given) with ``options``, the study's ``[map]`` table.

    ``tianditu_key`` is kept as given: :func:`geoplan.maps.basemaps.add_basemap` looks
    for the key in ``[map]`` and the environment itself.
    """
    basemaps = _chosen_basemaps(_pick(basemap, options, "basemap", _basemaps.DEFAULT_BASEMAP))
    top = int(_pick(top_n, options, "top_n", getattr(study, "top", None) or 10))
    rings = [float(r) for r in _pick(rings_m, options, "rings_m", DEFAULT_RINGS_M)]
    lines = _pick(line_colors, options, "line_colors", {})
    date = _pick(data_date, options, "data_date", None)
    return _Settings(
        basemaps=basemaps,
        title=_pick(title, options, "title", None),
        top_n=top,
        rings_m=rings,
        line_colors=lines if isinstance(lines, Mapping) else {},
        colors=_pick(colors, options, "colors", None),
        minimap=bool(_pick(minimap, options, "minimap", True)),
        search=bool(_pick(search, options, "search", True)),
        layer_control_collapsed=_collapsed(
            _pick(layer_control_collapsed, options, "layer_control_collapsed", None)
        ),
        life_circles=bool(_pick(life_circles, options, "life_circles", True)),
        tianditu_key=tianditu_key,
        embed_key=bool(_pick(embed_key, options, "embed_key", False)),
        data_date=str(date) if date else None,
        data_sources=_pick(data_sources, options, "data_sources", None),
    )


# --------------------------------------------------------------------------------------
# Context layers: keyword, else the study's layer
# --------------------------------------------------------------------------------------

#: Context layers a study may hold, and the layer names each is looked up under.
_STUDY_LAYERS: Final = {
    "parks": ("parks", "industrial_parks"),
    "stations": ("stations", "metro_stations"),
    "exclusions": ("exclusions", "exclusion_zones"),
    "facilities": ("facilities",),
    "area": ("area", "study_area"),
}


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
    """The column the study names the layer's features by (``study.name_columns``)."""
    columns = getattr(study, "name_columns", None) if study is not None else None
    if isinstance(columns, Mapping):
        value = columns.get(layer)
        return str(value) if value else None
    return None


def _context_layers(
    study: Any, given: Mapping[str, gpd.GeoDataFrame | None]
) -> dict[str, gpd.GeoDataFrame]:
    """The non-empty context layers: those given, else the study's."""
    context: dict[str, gpd.GeoDataFrame] = {}
    for key, aliases in _STUDY_LAYERS.items():
        value = given.get(key)
        if value is None:
            value = _study_layer(study, aliases)
        if value is not None and len(value):
            context[key] = value
    return context

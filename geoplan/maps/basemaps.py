"""Basemaps for planning maps, including the two Chinese tile services.

Five basemaps are known by name (see :data:`BASEMAPS`):

``"carto-light"`` (default)
    CartoDB Positron: a quiet grey style that lets scores stand out.
``"osm"``
    The standard OpenStreetMap style.
``"tianditu"``
    天地图, the official national map service (vector map ``vec_w`` with its
    Chinese label layer ``cva_w``).  Its datum, CGCS2000, agrees with WGS-84
    to within centimetres, so layers are drawn unshifted.  It needs a free
    key (``tk``).
``"gaode"``
    高德 / Amap street tiles.  They are in GCJ-02, the offset datum every
    public Chinese web map must use; WGS-84 points drawn on them unshifted
    land up to about 500 m off the right street.  A map with this basemap
    therefore draws a *display copy* of every vector layer shifted to GCJ-02
    (see :func:`needs_gcj02`); the analysis data are never changed.
``"none"``
    No tiles at all: the map makes no network request whatsoever.

The Tianditu key
----------------
The key is looked up in this order: the ``tianditu_key`` argument, the
study's ``[map] tianditu_key``, then the environment variable
``TIANDITU_KEY``.  It is **never written into the HTML** unless the caller
passes ``embed_key=True``.  Instead the saved map reads the key *when it is
opened*: from the address fragment (``changzhou.html#tk=YOURKEY``, which a
browser never sends to any server) or from the browser's ``localStorage``,
where the first such visit stores it and then removes it from the address
bar, so a key is typed once per computer and never travels with a forwarded
file.  Without a key the Tianditu layer stays empty (no tile request is
made) and the map shows a short bilingual note saying how to add one.
:func:`geoplan.maps.snapshot.save_png` passes the key through the fragment too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import folium
from folium.map import Layer
from folium.template import Template

from geoplan.maps._page import PageDataMixin

__all__ = [
    "BASEMAPS",
    "DEFAULT_BASEMAP",
    "Basemap",
    "add_basemap",
    "get_basemap",
    "needs_gcj02",
    "resolve_tianditu_key",
]

logger = logging.getLogger(__name__)

DEFAULT_BASEMAP = "carto-light"

#: The ``localStorage`` entry in which a saved map remembers a Tianditu key.
TIANDITU_STORAGE_KEY = "geoplan.tianditu.tk"

_TIANDITU_WMTS = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{tk}}"
)


@dataclass(frozen=True)
class Basemap:
    """One tile basemap.

    Attributes
    ----------
    name : str
        Short name used in study files and on the command line.
    label : str
        Bilingual name shown in the layer control.
    tiles : tuple of str
        Leaflet URL templates, drawn bottom to top (Tianditu has a label layer).
    attribution : str
        Attribution HTML (trusted, fixed text).
    subdomains : str
        Values for ``{s}`` in the URL templates.
    max_zoom : int
        Highest zoom level the service provides.
    datum : str
        ``"wgs84"`` or ``"gcj02"``: the datum the tiles are drawn in.
    needs_key : bool
        Whether the URL needs a ``{tk}`` key.
    """

    name: str
    label: str
    tiles: tuple[str, ...] = ()
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 19
    datum: str = "wgs84"
    needs_key: bool = False
    aliases: tuple[str, ...] = field(default=(), compare=False)


BASEMAPS: dict[str, Basemap] = {
    b.name: b
    for b in (
        Basemap(
            name="carto-light",
            label="CartoDB 浅色 Light",
            tiles=("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",),
            attribution=(
                '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>'
            ),
            subdomains="abcd",
            max_zoom=20,
            aliases=("carto", "cartodb", "cartodb-positron", "positron", "light"),
        ),
        Basemap(
            name="osm",
            label="OpenStreetMap",
            tiles=("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
            attribution=(
                '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                "contributors"
            ),
            subdomains="",
            max_zoom=19,
            aliases=("openstreetmap",),
        ),
        Basemap(
            name="tianditu",
            label="天地图 Tianditu",
            tiles=(
                _TIANDITU_WMTS.format(s="{s}", layer="vec"),
                _TIANDITU_WMTS.format(s="{s}", layer="cva"),
            ),
            attribution='&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>',
            subdomains="01234567",
            max_zoom=18,
            needs_key=True,
            aliases=("tdt", "天地图"),
        ),
        Basemap(
            name="gaode",
            label="高德地图 Amap",
            tiles=(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                "&style=8&x={x}&y={y}&z={z}",
            ),
            attribution="&copy; 高德地图 AutoNavi (GCJ-02)",
            subdomains="1234",
            max_zoom=18,
            datum="gcj02",
            aliases=("amap", "autonavi", "高德"),
        ),
        Basemap(name="none", label="无底图 No basemap", aliases=("blank", "off")),
    )
}


def get_basemap(name: str | Basemap | None) -> Basemap:
    """Look a basemap up by name or alias (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if isinstance(name, Basemap):
        return name
    if name is None:
        return BASEMAPS[DEFAULT_BASEMAP]
    key = str(name).strip().lower().replace("_", "-")
    for basemap in BASEMAPS.values():
        if key == basemap.name or key in basemap.aliases:
            return basemap
    known = ", ".join(repr(n) for n in BASEMAPS)
    raise ValueError(f"unknown basemap {name!r}: use one of {known}")


def needs_gcj02(basemap: str | Basemap | None) -> bool:
    """Whether vector layers must be shifted to GCJ-02 to sit on these tiles."""
    return get_basemap(basemap).datum == "gcj02"


def resolve_tianditu_key(
    explicit: str | None = None, options: Mapping[str, Any] | None = None
) -> str | None:
    """The Tianditu key from the argument, the map options or ``TIANDITU_KEY``."""
    for candidate in (
        explicit,
        (options or {}).get("tianditu_key"),
        os.environ.get("TIANDITU_KEY"),
    ):
        if candidate is not None and str(candidate).strip():
            return str(candidate).strip()
    return None


class KeyedTileLayer(PageDataMixin, Layer):
    """A base layer of one or more tile layers whose ``{tk}`` key is found at view time.

    The key comes from the page address fragment (``#tk=...``), then
    ``localStorage``, then ``embedded_key`` (only set with ``embed_key=True``).
    Without any key no tile is requested and a note explains how to add one.
    The key (user input) and the tile settings travel in the page data, never
    in the template (see :mod:`geoplan.maps._page`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (data) {
            var storageName = {{ this.storage_name|tojson }};
            var key = null;
            try {
                var fromHash = new URLSearchParams(window.location.hash.slice(1)).get("tk");
                if (fromHash) {
                    key = fromHash;
                    try { window.localStorage.setItem(storageName, fromHash); } catch (e) {}
                    if (window.history && window.history.replaceState) {
                        window.history.replaceState(null, "",
                            window.location.pathname + window.location.search);
                    }
                }
                if (!key) { key = window.localStorage.getItem(storageName); }
            } catch (e) {}
            if (!key) { key = data.key; }
            var group = L.layerGroup();
            if (key) {
                data.urls.forEach(function (url) {
                    group.addLayer(L.tileLayer(url, Object.assign(
                        {}, data.options, {tk: encodeURIComponent(key)})));
                });
            } else {
                var note = L.control({position: "bottomleft"});
                note.onAdd = function () {
                    var div = L.DomUtil.create("div", "gp-key-note");
                    div.textContent = data.note;
                    return div;
                };
                group.on("add", function () { note.addTo({{ this._parent.get_name() }}); });
                group.on("remove", function () { note.remove(); });
            }
            group.geoplanKey = key || null;
            return group;
        })({{ this.data_ref }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        basemap: Basemap,
        *,
        embedded_key: str | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=basemap.label, overlay=False, control=True, show=show)
        self._name = "KeyedTileLayer"
        self.storage_name = TIANDITU_STORAGE_KEY
        self.page_data = {
            "key": embedded_key,
            "urls": list(basemap.tiles),
            "options": {
                "subdomains": basemap.subdomains,
                "maxZoom": basemap.max_zoom,
                "attribution": basemap.attribution,
            },
            "note": (
                f"{basemap.label}: 需要密钥，请在地址后加 #tk=您的密钥 / "
                "needs a key: open this file with #tk=YOUR_KEY after its address."
            ),
        }


def add_basemap(
    m: folium.Map,
    basemap: str | Basemap | None,
    *,
    options: Mapping[str, Any] | None = None,
    tianditu_key: str | None = None,
    embed_key: bool = False,
    show: bool = True,
) -> Basemap:
    """Add one basemap to ``m`` as a base layer and return its description.

    ``"none"`` adds nothing.  For Tianditu see the module notes on the key:
    it is written into the map only with ``embed_key=True``.
    """
    chosen = get_basemap(basemap)
    if not chosen.tiles:
        return chosen
    if chosen.needs_key:
        key = resolve_tianditu_key(tianditu_key, options)
        if key is None:
            logger.warning(
                "No Tianditu key found (argument, study [map] tianditu_key or the "
                "TIANDITU_KEY environment variable): the Tianditu layer will stay empty "
                "until the map is opened with '#tk=YOUR_KEY' after its address."
            )
        elif embed_key:
            logger.warning(
                "Embedding the Tianditu key in the map (embed_key=True): anyone with the "
                "file can read and use it."
            )
        else:
            logger.info(
                "The Tianditu key is not stored in the map; open it with '#tk=...' after "
                "its address once per computer (save_png does this for you)."
            )
        KeyedTileLayer(chosen, embedded_key=key if embed_key else None, show=show).add_to(m)
        return chosen
    folium.TileLayer(
        tiles=chosen.tiles[0],
        attr=chosen.attribution,
        name=chosen.label,
        subdomains=chosen.subdomains or "abc",
        max_zoom=chosen.max_zoom,
        max_native_zoom=chosen.max_zoom,
        overlay=False,
        control=True,
        show=show,
    ).add_to(m)
    return chosen

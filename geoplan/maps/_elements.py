"""Map elements: the folium/branca classes that draw a geoplan map.

Private to :mod:`geoplan.maps.build`.  Each element writes its own small script.
No string from a data file or a study ever enters a template: what an element
shows travels in its ``page_data`` and its script reads ``{{ this.data_ref }}``
(see :mod:`geoplan.maps._page`, which writes the data into the page as JSON).
Templates hold only geoplan's code, element names and numbers.  The page-wide stylesheet and the
browser half of the sites layer (styles, tooltips and the score popup) are
geoplan's own files in ``geoplan/maps/_assets/geoplan/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import branca.colormap as bcm
import folium
import folium.plugins
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geoplan.maps import basemaps as _basemaps
from geoplan.maps._data import INELIGIBLE_COLOR, _esc
from geoplan.maps._i18n import tr
from geoplan.maps._page import PageDataMixin
from geoplan.maps.offline import _read_asset

__all__ = [
    "FeatureLayer",
    "LayerControl",
    "LayerLegend",
    "MapInfo",
    "MiniMap",
    "RingsLayer",
    "ScoreLegend",
    "SiteSearch",
    "SitesLayer",
    "TopLabels",
]


@cache
def _own_asset(name: str) -> str:
    """One of geoplan's own files in ``geoplan/maps/_assets/geoplan/``, as text."""
    return _read_asset(f"geoplan/{name}").decode("utf-8")


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
        self.css = _own_asset("map.css")
        self.js = _own_asset("sites-kit.js")


class _Panes(MacroElement):
    """Map panes that keep layers in a sensible order whatever their add order."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- for name, z in this.panes %}
        {{ this._parent.get_name() }}.createPane({{ name|tojson }}).style.zIndex = {{ z }};
        {%- endfor %}
        {{ this._parent.get_name() }}.getPane("gpRings").style.pointerEvents = "none";
        {{ this._parent.get_name() }}.getPane("gpContext").style.pointerEvents = "none";
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeoplanPanes"
        self.panes = [
            ("gpContext", 250),
            ("gpSurface", 380),
            ("gpAreas", 405),
            ("gpRings", 415),
            ("gpPoints", 430),
            ("gpSites", 450),
        ]


class _GeoJsonLayer(PageDataMixin, folium.GeoJson):
    """A GeoJSON overlay whose features its own script adds from the page data."""

    def __init__(self, features: list[dict[str, Any]], *, name: str, show: bool) -> None:
        collection = {"type": "FeatureCollection", "features": features}
        super().__init__(collection, name=name, overlay=True, control=True, show=show)
        self.page_data = {"data": collection}


class SitesLayer(_GeoJsonLayer):
    """Candidate sites: one GeoJSON layer on a canvas, styled and explained in the browser.

    The feature properties are compact (``n`` name, ``s`` score, ``r`` rank,
    ``e`` eligible, ``x`` reason, ``v``/``c``/``w`` raw values, scores and
    contributions per criterion, ``a`` attributes, ``pk``/``st`` nearest park
    and station, ``ex`` explanation, ``no`` notes, ``rb`` robustness sentence
    when the table has one); ``meta`` says what they mean.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_kit = window.geoplanSitesKit({{ this.data_ref }}.meta);
        var {{ this.get_name() }}_renderer = L.canvas({pane: "gpSites", padding: 0.3});
        var {{ this.get_name() }} = L.geoJson(null, {
            pane: "gpSites",
            renderer: {{ this.get_name() }}_renderer,
            style: {{ this.get_name() }}_kit.style,
            bubblingMouseEvents: false,
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, Object.assign(
                    {pane: "gpSites", renderer: {{ this.get_name() }}_renderer,
                     bubblingMouseEvents: false},
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
        {{ this.get_name() }}.addData({{ this.data_ref }}.data);
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
        super().__init__(features, name=name, show=show)
        self._name = "SitesLayer"
        self.meta = dict(meta)
        self.page_data["meta"] = self.meta


class TopLabels(Layer):
    """Rank badges for the top N eligible sites (DivIcons, click opens the site's popup).

    Badges never pile up: at every zoom a badge that would overlap a better
    site's is hidden and that badge shows ``+k`` and lists the hidden ranks in
    its tooltip (zoom in to see them apart).  Tied ranks read ``3=``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        (function (sites, kit, group, topN, map) {
            var found = [];
            sites.eachLayer(function (layer) {
                if (kit.isTop(layer.feature.properties)) { found.push(layer); }
            });
            found.sort(function (a, b) {
                return a.feature.properties.r - b.feature.properties.r;
            });
            var badges = found.map(function (layer) {
                var p = layer.feature.properties;
                var ll = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
                var badge = document.createElement("div");
                var text = document.createElement("span");
                text.textContent = String(parseInt(p.r, 10)) + (p.ti ? "=" : "");
                var more = document.createElement("sup");
                more.className = "gp-rank-more";
                badge.appendChild(text);
                badge.appendChild(more);
                badge.style.background = kit.color(p.s);
                var marker = L.marker(ll, {
                    icon: L.divIcon({className: "gp-rank", html: badge,
                                     iconSize: [22, 22], iconAnchor: [11, 11]}),
                    keyboard: false,
                    zIndexOffset: 1000 + (topN - p.r)
                });
                var entry = {marker: marker, layer: layer, more: more, hidden: []};
                marker.bindTooltip(function () {
                    var tip = kit.tooltip(layer);
                    if (entry.hidden.length) {
                        tip += "<br>+ #" + entry.hidden.map(function (h) {
                            return kit.esc(h.layer.feature.properties.r);
                        }).join(", #") + " (" + kit.esc(kit.tr("zoom_in")) + ")";
                    }
                    return tip;
                }, {direction: "top", offset: [0, -10], opacity: 0.95});
                marker.on("click", function () { layer.openPopup(ll); });
                return entry;
            });
            function declutter() {
                if (!map.hasLayer(group)) { return; }
                var shown = [];
                badges.forEach(function (b) {
                    var pt = map.latLngToContainerPoint(b.marker.getLatLng());
                    var near = null;
                    shown.forEach(function (s) {
                        if (!near && Math.abs(s.pt.x - pt.x) < 24 && Math.abs(s.pt.y - pt.y) < 24) {
                            near = s;
                        }
                    });
                    b.hidden = [];
                    if (near) {
                        near.b.hidden.push(b);
                        if (group.hasLayer(b.marker)) { group.removeLayer(b.marker); }
                    } else {
                        shown.push({b: b, pt: pt});
                        if (!group.hasLayer(b.marker)) { group.addLayer(b.marker); }
                    }
                });
                badges.forEach(function (b) {
                    b.more.textContent = b.hidden.length ? "+" + b.hidden.length : "";
                });
            }
            badges.forEach(function (b) { group.addLayer(b.marker); });
            map.on("zoomend viewreset", declutter);
            group.on("add", function () { setTimeout(declutter, 0); });
            map.whenReady(function () { setTimeout(declutter, 0); });
        })({{ this.sites.get_name() }}, {{ this.sites.get_name() }}_kit,
           {{ this.get_name() }}, {{ this.top_n }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, sites: SitesLayer, top_n: int, *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TopLabels"
        self.sites = sites
        self.top_n = int(top_n)


class LayerLegend(PageDataMixin, MacroElement):
    """A legend (HTML built by geoplan, every value escaped) shown while its layer is on.

    It hides when the layer is switched off in the layer control (or removed
    by code).  Drawn with plain HTML/CSS (no d3), so it works offline and prints.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            div.innerHTML = {{ this.data_ref }};
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
        html: str,
        layer: Layer,
        *,
        position: str = "bottomright",
        css_class: str = "gp-panel gp-legend gp-layer-legend",
    ) -> None:
        super().__init__()
        self._name = "LayerLegend"
        self.layer = layer
        self.position = position
        self.css_class = css_class
        self.page_data = html


class ScoreLegend(LayerLegend):
    """The score legend, drawn from a branca colormap and bound to the sites layer.

    It shows while the sites layer is on the map and hides when the layer is
    switched off in the layer control (or removed by code).  Drawn with plain
    HTML/CSS (no d3), so it works offline and prints.
    """

    def __init__(
        self,
        colormap: bcm.LinearColormap,
        layer: Layer,
        *,
        top_n: int,
        n_ineligible: int,
        position: str = "bottomright",
    ) -> None:
        self.colormap = colormap
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
                f"{_esc(tr('m_top_rank', n=int(top_n)))}</div>"
            )
        if n_ineligible:
            parts.append(
                f'<div class="gp-key"><span class="gp-dot" style="background:{INELIGIBLE_COLOR}">'
                f"</span>{_esc(tr('m_ineligible'))} ({int(n_ineligible)})</div>"
            )
        self.html = "".join(parts)
        super().__init__(self.html, layer, position=position, css_class="gp-panel gp-legend")
        self._name = "ScoreLegend"


class MapInfo(PageDataMixin, MacroElement):
    """The title (top centre) and the methodology note (bottom left), inside the map.

    The page's own ``<title>`` is written by :class:`~geoplan.maps._page.GeoplanFigure`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var title = L.DomUtil.create("div", "gp-title", map.getContainer());
            title.innerHTML = {{ this.data_ref }}.title;
            L.DomEvent.disableClickPropagation(title);
            var method = L.control({position: "bottomleft"});
            method.onAdd = function () {
                var div = L.DomUtil.create("div", "gp-panel gp-method");
                div.innerHTML = {{ this.data_ref }}.method;
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
        title_html = f'<div class="gp-title-main">{_esc(title)}</div>'
        for line in subtitle.split("\n"):
            if line.strip():
                title_html += f'<div class="gp-title-sub">{_esc(line)}</div>'
        self.page_data = {"title": title_html, "method": method_html}


class FeatureLayer(_GeoJsonLayer):
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
            bubblingMouseEvents: false,
            style: function (feature) { return feature.properties._s || {}; },
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, Object.assign(
                    {pane: {{ this.pane|tojson }}, bubblingMouseEvents: false},
                    feature.properties._s || {}));
            },
            onEachFeature: function (feature, layer) {
                var p = feature.properties;
                if (p._t) { layer.bindTooltip(p._t, {sticky: true, opacity: 0.95}); }
                if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
            }
        });
        {{ this.get_name() }}.addData({{ this.data_ref }}.data);
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
        super().__init__(features, name=name, show=show)
        self._name = "FeatureLayer"
        self.pane = pane
        self.interactive = interactive


class RingsLayer(PageDataMixin, Layer):
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
        })({{ this.get_name() }}, {{ this.data_ref }}.points, {{ this.data_ref }}.rings);
        {% endmacro %}
        """
    )

    def __init__(
        self, points: list[list[float]], radii: Sequence[float], *, name: str, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "RingsLayer"
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
        self.page_data = {"points": points, "rings": rings}


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
            placeholder=tr("m_search"),
            collapsed=True,
        )
        self.text_err = tr("m_not_found")
        self.text_cancel = tr("m_cancel")


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
                return L.tileLayer(url, Object.assign({{ this.tile_options|tojson }},
                    {tk: encodeURIComponent(key)}));
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
                "hideText": tr("m_minimap_hide"),
                "showText": tr("m_minimap_show"),
            },
        }


class LayerControl(PageDataMixin, folium.LayerControl):
    """folium's layer control, with the layers' names read from the page data.

    folium writes each layer's name into its template; names can hold text
    from the data (metro lines, facility kinds), so here the template lists
    only the layers and the names come from :attr:`page_data`, in the same order.
    Leaflet shows a name as HTML: geoplan builds every name with its values escaped.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (names) {
            var base = {}, overlays = {};
            var layers = [{% for name in this.layer_vars %}{{ name }}, {% endfor %}];
            var overlay = {{ this.overlay_flags|tojson }};
            layers.forEach(function (layer, i) {
                (overlay[i] ? overlays : base)[names[i]] = layer;
            });
            var options = {{ this.options|tojson }};
            if (options.collapsed === null || options.collapsed === undefined) {
                // "auto": folded into an icon on a phone-sized screen
                var size = {{ this._parent.get_name() }}.getSize();
                options.collapsed = size.x < 800 || size.y < 600;
            }
            return L.control.layers(base, overlays, options)
                .addTo({{ this._parent.get_name() }});
        })({{ this.data_ref }});
        {% endmacro %}
        """
    )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """List the map's controllable layers, then render (names go to the page data)."""
        parent = self._parent
        assert parent is not None, "add the layer control to a map before rendering"
        layers = [
            item for item in parent._children.values() if isinstance(item, Layer) and item.control
        ]
        self.layer_vars = [layer.get_name() for layer in layers]
        self.overlay_flags = [bool(layer.overlay) for layer in layers]
        self.page_data = [str(layer.layer_name) for layer in layers]
        MacroElement.render(self, **kwargs)

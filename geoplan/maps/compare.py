"""The map of a comparison: how each scenario moves every site, with a scenario switcher.

:func:`compare_map` draws a :class:`~geoplan.scenarios.compare.Comparison`: every
candidate site coloured on a diverging scale by the change a scenario makes to
its rank (places moved up in blue, down in red) or to its score, a switcher
(top right) to choose the scenario and the measure, rings for the sites that
become eligible (green) or drop out (black), the study's context layers, and a
note saying what each scenario changes.  Like every geoplan map, all text from
studies, scenarios and data reaches the page only as data
(:mod:`geoplan.maps._page`), and the page works offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geoplan.maps._context import _add_context_layers
from geoplan.maps._data import _esc, _shift_to_gcj02
from geoplan.maps._elements import LayerControl, MapInfo
from geoplan.maps._options import _options_of, _settings
from geoplan.maps._page import PageDataMixin
from geoplan.maps.build import _add_basemaps, _fit_view, _new_map
from geoplan.scenarios.compare import BASE, Comparison

__all__ = ["DIVERGING_COLORS", "compare_map"]

#: Falls (red) to rises (blue), ColorBrewer RdBu.
DIVERGING_COLORS: Final = (
    "#b2182b",
    "#ef8a62",
    "#fddbc7",
    "#f7f7f7",
    "#d1e5f0",
    "#67a9cf",
    "#2166ac",
)


def _number(value: object) -> float | None:
    number = float(value) if value is not None and not pd.isna(value) else math.nan  # type: ignore[arg-type]
    return None if not math.isfinite(number) else round(number, 6)


class CompareSites(PageDataMixin, MacroElement):
    """The sites, recoloured in the browser for the chosen scenario and measure."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, data) {
            var renderer = L.canvas({pane: "gpSites", padding: 0.3});
            var group = L.featureGroup().addTo(map);
            var state = {run: data.runs.length ? data.runs[0].name : null, measure: "rank_change"};
            var colors = data.colors;
            function mix(a, b, t) {
                var pa = parseInt(a.slice(1), 16), pb = parseInt(b.slice(1), 16), out = 0;
                for (var s = 16; s >= 0; s -= 8) {
                    var ca = (pa >> s) & 255, cb = (pb >> s) & 255;
                    out = out * 256 + Math.round(ca + (cb - ca) * t);
                }
                return "#" + (out + 0x1000000).toString(16).slice(1);
            }
            function ramp(v, max) {
                var t = Math.max(-1, Math.min(1, v / (max || 1)));
                var x = (t + 1) / 2 * (colors.length - 1), i = Math.min(Math.floor(x), colors.length - 2);
                return mix(colors[i], colors[i + 1], x - i);
            }
            function line(box, text, bold) {
                var div = document.createElement("div");
                div.textContent = text;
                if (bold) { div.style.fontWeight = "bold"; }
                box.appendChild(div);
            }
            function fmt(v, digits) { return v === null ? "-" : Number(v).toFixed(digits); }
            function tip(i) {
                var v = data.values[state.run], box = document.createElement("div");
                line(box, data.sites.id[i] + " " + data.sites.name[i], true);
                line(box, data.text.rank + ": " + fmt(v.base_rank[i], 0) + " \\u2192 " + fmt(v.rank[i], 0) +
                     "  (" + (v.rank_change[i] > 0 ? "+" : "") + fmt(v.rank_change[i], 0) + ")");
                line(box, data.text.score + ": " + fmt(v.base_score[i], 3) + " \\u2192 " + fmt(v.score[i], 3));
                if (v.state[i]) { line(box, data.text[v.state[i]]); }
                if (v.reason[i]) { line(box, v.reason[i]); }
                return box;
            }
            var markers = data.sites.id.map(function (id, i) {
                var m = L.circleMarker([data.sites.lat[i], data.sites.lon[i]],
                    {pane: "gpSites", renderer: renderer, radius: 8, weight: 1.5, color: "#444444",
                     fillOpacity: 0.95});
                m.bindTooltip(function () { return tip(i); }, {sticky: true, direction: "top"});
                group.addLayer(m);
                return m;
            });
            function draw() {
                var v = data.values[state.run], max = data.scale[state.measure];
                markers.forEach(function (m, i) {
                    var present = v.present[i], value = v[state.measure][i];
                    var ring = {became: "#1a9850", dropped: "#000000"}[v.state[i]] || "#444444";
                    m.setStyle({
                        opacity: present ? 1 : 0, fillOpacity: present ? 0.95 : 0,
                        fillColor: value === null ? "#bdbdbd" : ramp(value, max),
                        color: ring, weight: v.state[i] ? 3.5 : 1.5,
                        radius: v.eligible[i] ? 8 : 5
                    });
                });
                legend.low.textContent = "-" + fmt(max, state.measure === "rank_change" ? 0 : 3);
                legend.high.textContent = "+" + fmt(max, state.measure === "rank_change" ? 0 : 3);
                legend.note.textContent = data.text[state.measure];
            }
            var legend = {};
            var control = L.control({position: "topright"});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "gp-panel gp-compare");
                line(div, data.text.title, true);
                var select = document.createElement("select");
                select.className = "gp-compare-run";
                data.runs.forEach(function (run) {
                    var option = document.createElement("option");
                    option.value = run.name;
                    option.textContent = run.label_zh ? run.label_zh + " " + run.label : run.label;
                    select.appendChild(option);
                });
                select.onchange = function () { state.run = select.value; draw(); };
                div.appendChild(select);
                ["rank_change", "score_change"].forEach(function (measure) {
                    var label = document.createElement("label"), radio = document.createElement("input");
                    radio.type = "radio"; radio.name = "gp-compare-measure"; radio.value = measure;
                    radio.checked = measure === state.measure;
                    radio.onchange = function () { state.measure = measure; draw(); };
                    label.appendChild(radio);
                    label.appendChild(document.createTextNode(" " + data.text[measure + "_short"]));
                    label.style.display = "block";
                    div.appendChild(label);
                });
                var bar = document.createElement("div");
                bar.style.height = "10px";
                bar.style.background = "linear-gradient(to right, " + colors.join(", ") + ")";
                div.appendChild(bar);
                var ticks = document.createElement("div");
                ticks.style.display = "flex"; ticks.style.justifyContent = "space-between";
                legend.low = document.createElement("span");
                legend.high = document.createElement("span");
                ticks.appendChild(legend.low); ticks.appendChild(legend.high);
                div.appendChild(ticks);
                legend.note = document.createElement("div");
                div.appendChild(legend.note);
                line(div, data.text.became);
                line(div, data.text.dropped);
                L.DomEvent.disableClickPropagation(div);
                window.geoplanCompare = {state: state, draw: draw, markers: markers, select: select};
                return div;
            };
            control.addTo(map);
            draw();
        })({{ this._parent.get_name() }}, {{ this.data_ref }});
        {% endmacro %}
        """
    )

    def __init__(self, page_data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "CompareSites"
        self.page_data = page_data


def _page_data(comparison: Comparison, shift: bool) -> tuple[dict[str, Any], np.ndarray]:
    """Sites (the union over runs) and, per scenario, the values the map shows."""
    table = comparison.table
    sites = table.drop_duplicates("site").reset_index(drop=True)
    position = pd.Series(np.arange(len(sites)), index=sites["site"].astype(str))
    points = np.asarray(sites.to_crs("EPSG:4326").geometry.representative_point().values)
    if shift:  # Amap tiles: a display copy in GCJ-02
        points = shapely.transform(points, _shift_to_gcj02)
    names = sites["name"] if "name" in sites.columns else pd.Series([""] * len(sites))
    values: dict[str, Any] = {}
    for name in [BASE, *(s.name for s in comparison.scenarios)]:
        rows = table[table["scenario"] == name]
        where = position[rows["site"].astype(str)].to_numpy()

        def column(key: str, rows: pd.DataFrame = rows, where: np.ndarray = where) -> list[Any]:
            out: list[Any] = [None] * len(sites)
            for i, value in zip(where, rows[key], strict=True):
                out[int(i)] = _number(value) if key != "reason" else str(value)
            return out

        state: list[str] = [""] * len(sites)
        for i, up, down in zip(where, rows["became_eligible"], rows["dropped_out"], strict=True):
            state[int(i)] = "became" if up else "dropped" if down else ""
        present = [False] * len(sites)
        eligible = [False] * len(sites)
        for i, ok in zip(where, rows["eligible"], strict=True):
            present[int(i)] = True
            eligible[int(i)] = bool(ok)
        values[name] = {
            **{k: column(k) for k in ("rank", "base_rank", "rank_change", "score", "base_score")},
            "score_change": column("score_change"),
            "reason": column("reason"),
            "state": state,
            "present": present,
            "eligible": eligible,
        }
    changes = table[table["scenario"] != BASE]
    rank_scale = float(np.nanmax(np.abs(changes["rank_change"]), initial=0.0)) or 1.0
    score_scale = float(np.nanmax(np.abs(changes["score_change"]), initial=0.0)) or 0.01
    runs = [
        {"name": s.name, "label": s.title, "label_zh": s.label_zh} for s in comparison.scenarios
    ]
    data = {
        "runs": runs,
        "sites": {
            "id": sites["site"].astype(str).tolist(),
            "name": [("" if pd.isna(n) else str(n)) for n in names],
            "lon": [round(float(x), 7) for x in shapely.get_x(points)],
            "lat": [round(float(y), 7) for y in shapely.get_y(points)],
        },
        "values": values,
        "scale": {"rank_change": rank_scale, "score_change": round(score_scale, 6)},
        "colors": list(DIVERGING_COLORS),
        "text": {
            "title": "情景比较 Scenarios compared with the base",
            "rank": "排名 Rank",
            "score": "得分 Score",
            "rank_change": "排名变化（正数：上升）Places moved (up +, down −)",
            "score_change": "得分变化 Change of score",
            "rank_change_short": "排名变化 Rank change",
            "score_change_short": "得分变化 Score change",
            "became": "绿圈：变为符合条件 Green ring: becomes eligible",
            "dropped": "黑圈：不再符合条件 Black ring: drops out",
        },
    }
    return data, points


def _method(comparison: Comparison) -> str:
    rows = []
    summary = comparison.summary.set_index("scenario")
    for s in comparison.scenarios:
        row = summary.loc[s.name]
        measured = str(row.get("measured", "")) or "nothing (weights or method only)"
        rows.append(
            f"<li><b>{_esc(s.label_zh + ' ' if s.label_zh else '')}{_esc(s.title)}</b>"
            f"{': ' + _esc(s.description) if s.description else ''}<br>"
            f"top {comparison.top_k}: +{_esc(row['entered_top_k'] or '-')} / "
            f"−{_esc(row['left_top_k'] or '-')}; became eligible {int(row['became_eligible'])}, "
            f"dropped out {int(row['dropped_out'])}; measured again: {_esc(measured)}</li>"
        )
    return (
        '<details open><summary>情景 Scenarios</summary><ul class="gp-compare-list">'
        + "".join(rows)
        + "</ul><div>Each scenario is the base study with the changes named; sites are coloured "
        "by the change from the base (blue up, red down).</div></details>"
    )


def compare_map(
    comparison: Comparison,
    *,
    basemap: str | Sequence[str] | None = None,
    title: str | None = None,
) -> folium.Map:
    """Draw how each scenario of a comparison moves every site, with a scenario switcher.

    Parameters
    ----------
    comparison : Comparison
        From :func:`geoplan.compare`.
    basemap : str or sequence of str, optional
        As for :func:`geoplan.make_map` (default: the study's ``[map]`` basemap).
    title : str, optional
        Map title (default: the study's title).

    Returns
    -------
    folium.Map
        Save it with :func:`geoplan.save_map`.
    """
    study = comparison.study
    options = _options_of(study)
    settings = _settings(
        study,
        options,
        basemap=basemap,
        top_n=None,
        title=title,
        rings_m=None,
        line_colors=None,
        colors=None,
        minimap=False,
        search=False,
        layer_control_collapsed=None,
        life_circles=False,
        tianditu_key=None,
        embed_key=None,
        data_sources=None,
        data_date=None,
    )
    heading = settings.title or study.title_zh or study.title
    m = _new_map(heading)
    keyed = _add_basemaps(m, settings, options)
    del keyed
    _add_context_layers(
        m,
        study,
        {},
        isochrones=None,
        shift=settings.gcj02,
        rings=settings.rings_m,
        line_colors=settings.line_colors,
    )
    data, geoms = _page_data(comparison, settings.gcj02)
    CompareSites(data).add_to(m)
    subtitle = (
        f"{study.title}\n{len(comparison.scenarios)} 个情景 scenarios · top {comparison.top_k}"
    )
    MapInfo(heading, subtitle, _method(comparison)).add_to(m)
    LayerControl(position="topleft", collapsed=True).add_to(m)
    _fit_view(m, geoms)
    return m

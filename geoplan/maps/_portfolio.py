"""The portfolio layers: chosen sites, each one's service area, and the demand left uncovered.

Private to :mod:`geoplan.maps.build`.  Drawn with the context layers' machinery
(:func:`geoplan.maps._context._add_feature_layer`), so every name reaches the page as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd

from geoplan.maps._context import _add_feature_layer
from geoplan.maps._data import _esc, _fmt_number, _swatch
from geoplan.maps._i18n import tr

__all__ = ["add_portfolio"]

_CHOSEN = "#6a1b9a"
_EXISTING = "#1565c0"
_UNCOVERED = "#d50000"


def _site_title(row: Mapping[str, Any]) -> str:
    for column in ("name_zh", "name", "site_id"):
        value = row.get(column)
        if value is not None and str(value) not in ("", "nan", "None"):
            return str(value)
    return "site"


def add_portfolio(m: folium.Map, portfolio: Any, *, shift: bool) -> None:
    """Draw a :class:`~geoplan.choose.portfolio.Portfolio`: areas, uncovered demand, sites."""
    areas: gpd.GeoDataFrame = portfolio.areas
    # areas are in the sites' build-out order
    by_label = dict(zip(areas["site"].astype(str), portfolio.sites["role"], strict=True))
    _add_feature_layer(
        m,
        areas,
        what="service areas",
        shift=shift,
        name_column=None,
        style=lambda row: {
            "color": _EXISTING if by_label.get(str(row.get("site"))) == "existing" else _CHOSEN,
            "weight": 1.5,
            "fillOpacity": 0.08,
        },
        tooltip=lambda row, name: f"{tr('m_service_area')}: {_esc(row.get('site'))}",
        pane="gpAreas",
        label=lambda n, _: (
            f"{_swatch(_CHOSEN, True)}{tr('m_service_areas')} "
            f"({_fmt_number(portfolio.standard)} {_esc(portfolio.unit)})"
        ),
        popup_columns=[],
    )
    uncovered = portfolio.demand[~portfolio.demand["covered"].astype(bool)]
    if len(uncovered):
        _add_feature_layer(
            m,
            uncovered,
            what="uncovered demand",
            shift=shift,
            name_column="name" if "name" in uncovered.columns else None,
            style=lambda row: {
                "radius": 6,
                "color": _UNCOVERED,
                "weight": 2,
                "fillColor": _UNCOVERED,
                "fillOpacity": 0.35,
            },
            tooltip=lambda row, name: (
                f"<b>{_esc(name)}</b><br>{tr('m_not_covered')}: "
                f"{_esc(_fmt_number(row.get('weight')))}"
            ),
            pane="gpPoints",
            label=lambda n, _: f"{_swatch(_UNCOVERED)}{tr('m_uncovered')} ({n})",
            popup_columns=["weight", "cost"],
        )
    sites = portfolio.sites
    columns = [c for c in ("order", "role", "adds", "adds_share", "serves") if c in sites.columns]
    _add_feature_layer(
        m,
        sites,
        what="portfolio",
        shift=shift,
        name_column="name" if "name" in sites.columns else None,
        style=lambda row: {
            "radius": 9,
            "color": "#ffffff",
            "weight": 2,
            "fillColor": _EXISTING if row.get("role") == "existing" else _CHOSEN,
            "fillOpacity": 0.95,
        },
        tooltip=lambda row, name: (
            f"<b>#{_esc(row.get('order'))} {_esc(_site_title(row))}</b><br>"
            f"{_esc(row.get('role'))}; {tr('m_adds')} {_esc(_fmt_number(row.get('adds')))}"
        ),
        pane="gpPoints",
        label=lambda n, _: f"{_swatch(_CHOSEN)}{tr('m_portfolio')} ({n})",
        popup_columns=columns,
    )

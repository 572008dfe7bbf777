"""Dense candidate grids drawn as a score surface: cells, not circles; coarser above a budget.

Private to :mod:`geoplan.maps.build`.  A study whose candidates are a grid
(``[candidates] grid``), or any ranking with more than :data:`SURFACE_MIN_SITES`
sites (scattered sites: squares of their median spacing), is drawn as its
cells: one canvas on which each cell is a hexagon or square in its score's
colour (drawn colour by colour, in paths of 500 cells: Chromium fills one path
of 60,000 hexagons in 20 s, paths of 500 in milliseconds), instead of one
Leaflet marker per
site.  The page holds the cells as columns of small integers
(:class:`GridSurface`), a click finds the cell under the pointer and opens the
sites kit's popup for it (scores per criterion, rank, reason; the raw values
are in the table), and the best sites stay points with their full popups and
labels (:data:`TOP_POINTS`).

Above a size budget the cells are merged into blocks of k × k (k = 2, 3 ...,
the smallest that fits) in the study's metric CRS; a block shows its best
score, and its popup the number of cells, how many are eligible, the mean
score and the best site.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from folium.map import Layer
from folium.template import Template

from geoplan.io.coords import local_metric_crs
from geoplan.maps._data import _Criterion, _display_geometry
from geoplan.maps._i18n import tr
from geoplan.maps._page import PageDataMixin

__all__ = ["SURFACE_MIN_SITES", "TOP_POINTS", "GridSurface", "grid_of", "surface"]

logger = logging.getLogger(__name__)

#: Rankings with more sites than this are drawn as a surface (a grid study always is): drawn
#: one feature each, 20,000 sites take about 6 MB, so past 25,000 a page nears the 10 MB a map
#: may take.
SURFACE_MIN_SITES: Final = 25_000
#: The best eligible sites kept as points with their full popups.
TOP_POINTS: Final = 200
#: Default budget of the surface's data, in MB (the page's other parts come on top).
DEFAULT_SURFACE_MB: Final = 5.5
_ID = re.compile(r"^(.*?)(\d+)$")


class GridSurface(PageDataMixin, Layer):
    """The cells of a grid as one canvas, coloured by score; a click opens a cell's popup."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = window.geoplanSurface(
            {{ this.data_ref }}, {{ this.sites.get_name() }}_kit);
        window.geoplanGrid = {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], *, sites: Layer, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "GridSurface"
        self.sites = sites
        self.page_data = data


def grid_of(study: Any, frame: gpd.GeoDataFrame) -> tuple[float, str] | None:
    """The grid's cell size (m) and shape, when the sites are one (else ``None``)."""
    grid = getattr(study, "grid", None) if study is not None else None
    if isinstance(grid, dict) and grid.get("cell_m"):
        return float(grid["cell_m"]), str(grid.get("shape", "hex"))
    if len(frame) <= SURFACE_MIN_SITES:
        return None
    if not bool((frame.geom_type == "Point").all()):
        return None
    crs = local_metric_crs(tuple(float(v) for v in frame.to_crs(4326).total_bounds))  # type: ignore[arg-type]
    xy = shapely.get_coordinates(frame.to_crs(crs).geometry.values)
    sample = xy[:: max(1, len(xy) // 2000)]
    tree = shapely.STRtree(shapely.points(xy))
    _, distance = tree.query_nearest(shapely.points(sample), exclusive=True, return_distance=True)
    spacing = float(np.median(distance)) if len(distance) else 0.0
    return (spacing, "square") if spacing > 0 else None


def _cell_shape(
    shape: str, cell_m: float, centre: tuple[float, float], crs: pyproj.CRS
) -> list[list[float]]:
    """One cell's corners as offsets (degrees) from its centre, at the map's centre."""
    if shape == "hex":  # pointy-top: neighbours cell_m apart on a row, rows offset by half
        radius = cell_m / math.sqrt(3)
        angles = np.radians(np.arange(6) * 60 + 30)
    else:
        radius = cell_m / math.sqrt(2)
        angles = np.radians(np.arange(4) * 90 + 45)
    to_metric = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    to_wgs = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    x0, y0 = to_metric.transform(*centre)
    lon, lat = to_wgs.transform(x0 + radius * np.cos(angles), y0 + radius * np.sin(angles))
    return [
        [round(float(a - centre[0]), 7), round(float(b - centre[1]), 7)]
        for a, b in zip(lon, lat, strict=True)
    ]


def _ids(labels: Sequence[str]) -> dict[str, Any]:
    """Site labels, compactly: ``G000123`` ... as a prefix, a width and numbers, else as text."""
    found = [_ID.match(label) for label in labels]
    if found and all(f is not None for f in found):
        prefixes = {f.group(1) for f in found if f is not None}
        widths = {len(f.group(2)) for f in found if f is not None}
        if len(prefixes) == 1 and len(widths) == 1:
            return {
                "prefix": prefixes.pop(),
                "width": widths.pop(),
                "n": [int(f.group(2)) for f in found if f is not None],
            }
    return {"text": list(labels)}


def _estimate_bytes(n: int, n_criteria: int) -> int:
    """About what ``n`` cells take in the page (measured: 5.4 MB for 95,000 cells of 5 criteria)."""
    return n * (27 + 6 * n_criteria)


def _columns(
    frame: pd.DataFrame, criteria: Sequence[_Criterion], labels: Sequence[str]
) -> dict[str, Any]:
    """The cells' columns: scores (x1000), eligibility, ranks, criterion scores (x100), reasons."""
    score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=float)
    eligible = frame["eligible"].to_numpy(dtype=bool)
    ranks = pd.to_numeric(frame["rank"], errors="coerce").astype(float).to_numpy()
    reasons = frame["reason"].fillna("").astype(str).where(~eligible, "")
    codes, uniques = pd.factorize(reasons)
    out: dict[str, Any] = {
        "s": np.where(np.isfinite(score), np.round(score * 1000), -1).astype(int).tolist(),
        "e": "".join("1" if e else "0" for e in eligible),
        "r": np.where(np.isfinite(ranks), ranks, 0).astype(int).tolist(),
        "c": [
            np.where(np.isfinite(v), np.round(v * 100), -1).astype(int).tolist()
            for v in (
                pd.to_numeric(frame[c.score_column], errors="coerce").to_numpy(dtype=float)
                for c in criteria
            )
        ],
        "x": codes.tolist(),
        "reasons": [str(u) for u in uniques],
        "id": _ids(labels),
    }
    return out


def _blocks(
    xy: np.ndarray, frame: pd.DataFrame, labels: Sequence[str], cell_m: float, k: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Cells merged into k x k blocks: centres (metric) and each block's summary columns."""
    size = cell_m * k
    keys = np.floor(xy / size).astype(np.int64)
    block, first = np.unique(keys, axis=0, return_inverse=True)
    first = first.ravel()
    score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=float)
    eligible = frame["eligible"].to_numpy(dtype=bool)
    ranks = pd.to_numeric(frame["rank"], errors="coerce").astype(float).to_numpy()
    shown = np.where(eligible, score, np.nan)
    table = pd.DataFrame({"b": first, "s": shown, "all": score, "e": eligible, "r": ranks})
    grouped = table.groupby("b")
    best = grouped["s"].max().to_numpy()
    mean = grouped["s"].mean().to_numpy()
    count = grouped.size().to_numpy()
    n_eligible = grouped["e"].sum().to_numpy()
    order = table.assign(key=np.where(np.isfinite(table["r"]), table["r"], np.inf))
    best_row = order.sort_values(["b", "key"]).groupby("b").head(1)
    best_label = np.array(labels, dtype=object)[best_row.index.to_numpy()]
    best_rank = best_row["r"].to_numpy()
    centres = (block + 0.5) * size
    columns = {
        "s": np.where(np.isfinite(best), np.round(best * 1000), -1).astype(int).tolist(),
        "m": np.where(np.isfinite(mean), np.round(mean * 1000), -1).astype(int).tolist(),
        "n": count.astype(int).tolist(),
        "ne": n_eligible.astype(int).tolist(),
        "best": [str(v) for v in best_label],
        "br": np.where(np.isfinite(best_rank), best_rank, 0).astype(int).tolist(),
    }
    return centres, columns


def surface(
    frame: gpd.GeoDataFrame,
    criteria: Sequence[_Criterion],
    labels: Sequence[str],
    *,
    cell_m: float,
    shape: str,
    to_gcj02: bool,
    budget_mb: float,
    sites: Layer,
) -> GridSurface:
    """The surface layer of a ranking's cells (merged into blocks above ``budget_mb``)."""
    bounds = tuple(float(v) for v in frame.to_crs(4326).total_bounds)
    crs = local_metric_crs(bounds)  # type: ignore[arg-type]
    metric_xy = shapely.get_coordinates(frame.to_crs(crs).geometry.values)
    n = len(frame)
    k = 1
    while _estimate_bytes(n if k == 1 else n // (k * k), len(criteria)) > budget_mb * 1e6:
        k += 1
    data: dict[str, Any] = {"k": k, "shape": shape if k == 1 else "square", "cellM": cell_m * k}
    if k == 1:
        display = frame
        data.update(_columns(frame, criteria, labels))
        name = tr("m_surface") + f" ({tr('m_surface_cells', n=n)})"
    else:
        centres, columns = _blocks(metric_xy, frame, labels, cell_m, k)
        display = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(centres[:, 0], centres[:, 1]), crs=crs
        ).to_crs(4326)
        data.update(columns)
        name = f"{tr('m_surface')} ({tr('m_surface_cells', n=n)}, {tr('m_surface_coarse', k=k)})"
        logger.info(
            "make_map: %d cells merged into %d blocks of %dx%d to stay within %.1f MB",
            n,
            len(display),
            k,
            k,
            budget_mb,
        )
    shown, geoms = _display_geometry(display, to_gcj02=to_gcj02, what="grid cells")
    xy = shapely.get_coordinates(geoms)
    lon0, lat0 = float(xy[:, 0].min()), float(xy[:, 1].min())
    data["origin"] = [round(lon0, 6), round(lat0, 6)]
    data["xs"] = np.round((xy[:, 0] - lon0) * 1e5).astype(int).tolist()
    data["ys"] = np.round((xy[:, 1] - lat0) * 1e5).astype(int).tolist()
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    data["cell"] = _cell_shape(str(data["shape"]), float(data["cellM"]), centre, crs)
    del shown
    return GridSurface(data, sites=sites, name=name)

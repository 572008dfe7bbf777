"""The report's pictures: the study map's snapshot and each site's inset map (PNG bytes).

Private to :mod:`geoplan.report.build`.  The inset is drawn with matplotlib
(no browser, no tiles): the site, its nearest station and nearest industrial
park, and the study's context (roads, water, exclusion zones) around them.
"""

from __future__ import annotations

import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pyproj
import shapely

logger = logging.getLogger(__name__)

#: The inset's only text is its scale bar (names are in the HTML key beside it).
FONT: Final = "DejaVu Sans"
#: Smallest side of an inset, metres (a site next to its station still shows its street).
MIN_SPAN_M: Final = 1500.0

SITE_COLOR: Final = "#c62828"
STATION_COLOR: Final = "#1f5fae"
PARK_COLOR: Final = "#7b1fa2"


@dataclass(frozen=True)
class Nearest:
    """The feature of a layer nearest to a site (metric CRS) and how far it is."""

    geometry: shapely.Geometry
    point: shapely.Point
    distance_m: float


def nearest_feature(site: shapely.Point, layer: gpd.GeoDataFrame | None) -> Nearest | None:
    """The feature of ``layer`` nearest to ``site`` (both in one metric CRS)."""
    if layer is None or not len(layer):
        return None
    distances = layer.geometry.distance(site).to_numpy(dtype=float)
    if not np.isfinite(distances).any():
        return None
    i = int(np.nanargmin(distances))
    geometry = layer.geometry.iloc[i]
    _, on_feature = shapely.ops.nearest_points(site, geometry)
    return Nearest(geometry, on_feature, float(distances[i]))


def _scale_bar(ax: Any, span_m: float) -> None:
    """A plain scale bar in the lower left corner."""
    nice = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000]
    length = max(v for v in nice if v <= max(span_m / 4, 100))
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.06 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="#222", linewidth=2.5, solid_capstyle="butt")
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(x, y + 0.025 * (y1 - y0), text, fontsize=7, color="#222")


def inset_png(
    site: shapely.Point,
    *,
    crs: pyproj.CRS,
    layers: dict[str, gpd.GeoDataFrame],
    station: Nearest | None,
    park: Nearest | None,
    size_in: tuple[float, float] = (4.2, 3.4),
    dpi: int = 150,
) -> bytes:
    """A small map of one site, its nearest station and nearest park, as PNG bytes.

    Parameters
    ----------
    site : shapely.Point
        The site, in ``crs``.
    crs : pyproj.CRS
        The study's metric CRS (every layer is drawn in it).
    layers : dict of str to geopandas.GeoDataFrame
        The study's layers (any CRS); ``context``, ``exclusions``, ``parks`` and
        ``stations`` are drawn when present.
    station, park : Nearest, optional
        The nearest station and park (highlighted, with a dashed line to each).
    size_in : tuple of float
        Figure size, inches.
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        The PNG image.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    points = [site] + [n.point for n in (station, park) if n is not None]
    xs = np.array([p.x for p in points])
    ys = np.array([p.y for p in points])
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    span = max(float(xs.max() - xs.min()), float(ys.max() - ys.min())) * 1.35
    span = max(span, MIN_SPAN_M)
    w, h = size_in
    half_x, half_y = (span / 2 * w / h, span / 2) if w >= h else (span / 2, span / 2 * h / w)
    view = shapely.box(cx - half_x, cy - half_y, cx + half_x, cy + half_y)

    def clipped(name: str) -> gpd.GeoDataFrame | None:
        layer = layers.get(name)
        if layer is None or not len(layer):
            return None
        projected = layer.to_crs(crs) if layer.crs != crs else layer
        shown = projected[projected.geometry.intersects(view)]
        return shown if len(shown) else None

    with matplotlib.rc_context({"font.family": FONT}):
        fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
        try:
            ax.set_xlim(cx - half_x, cx + half_x)
            ax.set_ylim(cy - half_y, cy + half_y)
            ax.set_aspect("equal")
            ax.set_facecolor("#f7f5f0")
            context = clipped("context")
            if context is not None:
                kinds = context["kind"].astype(str) if "kind" in context.columns else None
                water = (
                    kinds.isin(["river", "canal", "water"]).to_numpy()
                    if kinds is not None
                    else np.zeros(len(context), bool)
                )
                green = (
                    kinds.isin(["green"]).to_numpy()
                    if kinds is not None
                    else np.zeros(len(context), bool)
                )
                other = ~water & ~green
                if kinds is not None:
                    other &= ~kinds.isin(["district"]).to_numpy()
                for mask, color, width in (
                    (green, "#d6e9c6", 0.6),
                    (water, "#9cc3e6", 1.4),
                    (other, "#b0aaa0", 0.9),
                ):
                    part = context[mask]
                    if len(part):
                        part.plot(ax=ax, color=color, linewidth=width, zorder=1)
            exclusions = clipped("exclusions")
            if exclusions is not None:
                exclusions.plot(
                    ax=ax, facecolor="#ef9a9a", edgecolor="#c62828", alpha=0.35, linewidth=0.6
                )
            parks = clipped("parks")
            if parks is not None:
                parks.plot(
                    ax=ax, facecolor="#e1bee7", edgecolor=PARK_COLOR, alpha=0.45, linewidth=0.6
                )
            stations = clipped("stations")
            if stations is not None:
                stations.plot(ax=ax, color="#8a8f98", markersize=10, zorder=3)
            if park is not None:
                gpd.GeoSeries([park.geometry], crs=crs).plot(
                    ax=ax, facecolor="none", edgecolor=PARK_COLOR, linewidth=1.8, zorder=4
                )
                ax.plot(
                    [site.x, park.point.x],
                    [site.y, park.point.y],
                    color=PARK_COLOR,
                    linestyle="--",
                    linewidth=1.2,
                    zorder=5,
                )
            if station is not None:
                ax.plot(
                    [site.x, station.point.x],
                    [site.y, station.point.y],
                    color=STATION_COLOR,
                    linestyle="--",
                    linewidth=1.2,
                    zorder=5,
                )
                ax.scatter(
                    [station.point.x],
                    [station.point.y],
                    s=60,
                    color=STATION_COLOR,
                    edgecolor="white",
                    zorder=6,
                )
            ax.scatter(
                [site.x], [site.y], s=170, marker="*", color=SITE_COLOR, edgecolor="white", zorder=7
            )
            ax.set_xlim(cx - half_x, cx + half_x)
            ax.set_ylim(cy - half_y, cy + half_y)
            _scale_bar(ax, 2 * half_x)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#999")
            fig.tight_layout(pad=0.2)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi)
        finally:
            plt.close(fig)
    return buffer.getvalue()


def map_png(
    ranked: gpd.GeoDataFrame,
    study: Any,
    *,
    lang: str,
    top_n: int | None = None,
    browser: str | Path | None = None,
    width: int = 1400,
    height: int = 950,
) -> bytes:
    """The study's planning map as the report shows it: a PNG snapshot, offline.

    The map is drawn as ``geoplan map`` draws it (the study's ``[map]`` options,
    in ``lang``, ``top_n`` sites labelled), saved self-contained and photographed by the local headless
    Chromium with every non-local request blocked (no basemap tiles: the
    study's own context layer is the background).
    """
    from geoplan.maps import snapshot
    from geoplan.maps.build import make_map, map_kwargs, save_map

    options = dict(getattr(study, "map_options", {}) or {})
    options.pop("offline", None)
    kwargs = map_kwargs(options)
    kwargs["lang"] = lang
    if top_n is not None:
        kwargs["top_n"] = top_n
    the_map = make_map(ranked, study, **kwargs)
    with tempfile.TemporaryDirectory(prefix="geoplan-report-") as scratch:
        page = save_map(the_map, Path(scratch) / "map.html", offline=True)
        png = snapshot.save_png(
            page,
            Path(scratch) / "map.png",
            width=width,
            height=height,
            browser=browser,
            allow_network=False,
            print_layout=True,
        )
        data = png.read_bytes()
    logger.info("map snapshot for the report: %d bytes", len(data))
    return data

"""Candidate sites: from a layer, or generated as a grid over the study area.

Candidates given as polygons (parcels) are scored at a representative point
(a point guaranteed to lie inside the polygon, unlike the centroid), while
keeping their own geometry in the outputs.  :func:`grid_sites` fills a study
area, minus exclusion zones, with square or hexagonal cells.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geoplan._errors import CriterionError

__all__ = ["grid_sites", "scoring_points"]

logger = logging.getLogger(__name__)


def scoring_points(sites: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The point each site is scored at: itself, or a point inside its polygon.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites (points, polygons or a mix).

    Returns
    -------
    geopandas.GeoSeries
        Points aligned to ``sites``, in its CRS.
    """
    geoms = sites.geometry
    is_point = (geoms.geom_type == "Point").to_numpy()
    if is_point.all():
        return geoms
    points = geoms.copy()
    points[~is_point] = geoms[~is_point].representative_point()
    return points


def grid_sites(
    area: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cell_m: float,
    shape: str = "hex",
    exclusions: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    crs: pyproj.CRS | str | None = None,
    max_sites: int = 2_000_000,
) -> gpd.GeoDataFrame:
    """Candidate sites at the centres of a square or hexagonal grid.

    Parameters
    ----------
    area : geopandas.GeoDataFrame or geopandas.GeoSeries
        The study area (polygons, any CRS).
    cell_m : float
        Spacing between neighbouring centres, in metres.
    shape : {"hex", "square"}
        Hexagonal (rows offset by half a cell, rows ``cell_m * sqrt(3)/2``
        apart) or square grid.
    exclusions : geopandas.GeoDataFrame or geopandas.GeoSeries, optional
        Zones where no site may be generated.
    crs : pyproj.CRS or str, optional
        Metric CRS to lay the grid in (default: the local UTM zone).
    max_sites : int
        Refuse grids larger than this (a typo in ``cell_m`` otherwise fills memory).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:4326 with ``site_id`` (``G000001`` ...) and ``name``.
    """
    if shape not in ("hex", "square"):
        raise CriterionError(f"Grid shape {shape!r} is not known; use 'hex' or 'square'.")
    if not math.isfinite(cell_m) or cell_m <= 0:
        raise CriterionError(f"Grid cell_m={cell_m!r} must be a positive number of metres.")
    area_geoms = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
    metric = pyproj.CRS(crs) if crs is not None else area_geoms.estimate_utm_crs()
    region = shapely.union_all(area_geoms.to_crs(metric).values)
    if exclusions is not None and len(exclusions):
        ex = exclusions.geometry if isinstance(exclusions, gpd.GeoDataFrame) else exclusions
        region = shapely.difference(region, shapely.union_all(ex.to_crs(metric).values))
    west, south, east, north = region.bounds
    dy = cell_m * math.sqrt(3) / 2 if shape == "hex" else cell_m
    n_cols = int((east - west) / cell_m) + 2
    n_rows = int((north - south) / dy) + 2
    if n_cols * n_rows > max_sites:
        raise CriterionError(
            f"A {shape} grid with cell_m={cell_m!r} would have about {n_cols * n_rows:,} cells, "
            f"more than max_sites={max_sites:,}; use a larger cell_m."
        )
    col, row = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    x = west + col * cell_m + (row % 2) * (cell_m / 2 if shape == "hex" else 0.0)
    y = south + row * dy
    x, y = x.ravel(), y.ravel()
    shapely.prepare(region)
    keep = shapely.contains_xy(region, x, y)
    count = int(keep.sum())
    logger.info("grid of %d %s cells (%g m) inside the study area", count, shape, cell_m)
    ids = [f"G{i:06d}" for i in range(1, count + 1)]
    return gpd.GeoDataFrame(
        {"site_id": ids, "name": [f"grid cell {i}" for i in ids]},
        geometry=gpd.points_from_xy(x[keep], y[keep]),
        crs=metric,
    ).to_crs("EPSG:4326")

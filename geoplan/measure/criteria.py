"""Criteria: what is measured for each candidate site.

Each criterion is a function in the momepy style: the sites come first, the
target layer second, options keyword-only; it returns a ``pandas.Series``
aligned to the sites' index and never changes its inputs.  Distances come from
a :class:`~geoplan.measure.distance.DistanceMetric` (straight-line by default, or a
street network), so the same function measures metres in a straight line,
metres along streets, or walking minutes.

Both layers must be in the same projected CRS (the study's metric CRS); lines
and polygons are reached at their nearest edge and a site inside a polygon is
at distance 0.
"""

from __future__ import annotations

from typing import TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CoordinateError, CriterionError, plain
from geoplan.io.layers import _feature_label
from geoplan.measure.decay import Decay
from geoplan.measure.distance import DistanceMetric, Pairs, StraightLine

__all__ = [
    "count_within",
    "nearest_distance",
    "nearest_target",
    "sum_within",
]

Layer: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries
FloatArray: TypeAlias = npt.NDArray[np.float64]


def _geoms(layer: Layer, role: str) -> gpd.GeoSeries:
    geoms = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    if geoms.crs is None or not geoms.crs.is_projected:
        crs = None if geoms.crs is None else geoms.crs.to_string()
        raise CoordinateError(
            f"The {role} are in CRS {crs!r}; criteria measure in metres and need a projected "
            "CRS. Reproject both layers first, e.g. layer.to_crs(study.metric_crs) or "
            "layer.to_crs(layer.estimate_utm_crs())."
        )
    return geoms


def _site_points(sites: Layer) -> gpd.GeoSeries:
    geoms = _geoms(sites, "sites")
    if not bool((geoms.geom_type == "Point").all()):
        geoms = geoms.representative_point()
    return geoms


def _check_same_crs(sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> None:
    if sites.crs != targets.crs:
        raise CoordinateError(
            f"Sites are in {sites.crs.to_string()!r} but targets in {targets.crs.to_string()!r}; "
            "reproject one of them with to_crs() so both use the same metric CRS."
        )


def _cutoff(metric: DistanceMetric, radius_m: float | None, max_minutes: float | None) -> float:
    given = {"radius_m": radius_m, "max_minutes": max_minutes}
    chosen = [k for k, v in given.items() if v is not None]
    if len(chosen) != 1:
        raise CriterionError(
            f"Give exactly one of radius_m or max_minutes (got {given!r}): radius_m for "
            "distances, max_minutes for travel times."
        )
    key = chosen[0]
    value = float(given[key])  # type: ignore[arg-type]
    expected = "m" if key == "radius_m" else "min"
    if metric.unit != expected:
        raise CriterionError(
            f"{key}={value!r} does not match the metric, which measures {metric.label} in "
            f"{metric.unit!r}; use {'radius_m' if metric.unit == 'm' else 'max_minutes'} instead."
        )
    if not np.isfinite(value) or value <= 0:
        raise CriterionError(f"{key}={value!r} must be a positive number.")
    return value


def _amounts(layer: gpd.GeoDataFrame, column: str, role: str = "target layer") -> FloatArray:
    """The layer's ``column`` as finite numbers ``>= 0`` (an error names the first bad one)."""
    if column not in layer.columns:
        raise CriterionError(
            f"The {role} has no column {column!r}; its columns are "
            f"{[c for c in layer.columns if c != layer.geometry.name]!r}."
        )
    amounts: FloatArray = np.asarray(pd.to_numeric(layer[column], errors="coerce"), np.float64)
    bad = ~(np.isfinite(amounts) & (amounts >= 0))
    if bad.any():
        positions = np.flatnonzero(bad)
        first = int(positions[0])
        raise CriterionError(
            f"Column {column!r} must hold finite numbers >= 0, but {len(positions)} feature(s) "
            f"of the {role} do not, the first {_feature_label(layer, first)} with "
            f"{plain(layer[column].iloc[first])!r}. Fill in or fix those values."
        )
    return amounts


def _pairs_within(
    sites: Layer,
    targets: Layer,
    metric: DistanceMetric | None,
    radius_m: float | None,
    max_minutes: float | None,
) -> tuple[pd.Index, Pairs]:
    """The sites' index and every (site, target) pair within the cutoff."""
    metric = metric or StraightLine()
    cutoff = _cutoff(metric, radius_m, max_minutes)
    site_geoms = _site_points(sites)
    target_geoms = _geoms(targets, "targets")
    _check_same_crs(site_geoms, target_geoms)
    return site_geoms.index, metric.within(site_geoms, target_geoms, cutoff)


def nearest_target(
    sites: Layer,
    targets: Layer,
    *,
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """Nearest target of every site and the distance to it.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites (non-point sites are measured from a representative point).
    targets : geopandas.GeoDataFrame or geopandas.GeoSeries
        Features to reach (points, lines or polygons).
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``distance`` (in the metric's unit, ``inf``
        where unreachable) and ``target`` (index label of the nearest target,
        missing where unreachable).
    """
    metric = metric or StraightLine()
    site_geoms = _site_points(sites)
    target_geoms = _geoms(targets, "targets")
    _check_same_crs(site_geoms, target_geoms)
    found = metric.nearest(site_geoms, target_geoms)
    reachable = found.target >= 0
    labels = pd.Series(pd.NA, index=site_geoms.index, dtype="object")
    labels[reachable] = target_geoms.index.to_numpy()[found.target[reachable]]
    return pd.DataFrame({"distance": found.distance, "target": labels}, index=site_geoms.index)


def nearest_distance(
    sites: Layer,
    targets: Layer,
    *,
    metric: DistanceMetric | None = None,
) -> pd.Series:
    """Distance from every site to its nearest target.

    Polygons are reached at their boundary; a site inside one is at 0.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    targets : geopandas.GeoDataFrame or geopandas.GeoSeries
        Features to reach.
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.Series
        Distance in the metric's unit (``inf`` where unreachable), aligned
        to ``sites``.
    """
    return nearest_target(sites, targets, metric=metric)["distance"].rename("distance")


def count_within(
    sites: Layer,
    targets: Layer,
    *,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    metric: DistanceMetric | None = None,
) -> pd.Series:
    """Number of targets within a distance (or travel time) of every site.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    targets : geopandas.GeoDataFrame or geopandas.GeoSeries
        Features to count.
    radius_m : float, optional
        Cutoff in metres (straight-line or network metres).
    max_minutes : float, optional
        Cutoff in minutes (a network metric in minutes).
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.Series
        Integer counts aligned to ``sites``.
    """
    index, pairs = _pairs_within(sites, targets, metric, radius_m, max_minutes)
    counts = np.bincount(pairs.site, minlength=len(index))
    return pd.Series(counts, index=index, name="count", dtype="int64")


def sum_within(
    sites: Layer,
    targets: gpd.GeoDataFrame,
    *,
    column: str,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    decay: Decay | None = None,
    metric: DistanceMetric | None = None,
) -> pd.Series:
    """Sum of a target attribute within reach of every site, optionally distance-decayed.

    For site *i* this is :math:`\\sum_j a_j \\, g(d_{ij})` over targets *j*
    with :math:`d_{ij} \\le` the cutoff, where :math:`a_j` is the attribute
    (for example jobs in an industrial park) and :math:`g` the decay
    (1 when ``decay`` is None).  A gravity-type accessibility measure.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    targets : geopandas.GeoDataFrame
        Features with the attribute.
    column : str
        The attribute to sum.
    radius_m, max_minutes : float, optional
        The cutoff (exactly one).
    decay : Decay, optional
        Distance weighting :math:`g(d)`, a "less is better" decay.
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.Series
        Weighted sums aligned to ``sites``.
    """
    amounts = _amounts(targets, column)
    if decay is not None and decay.direction == "higher":
        raise CriterionError(
            f"A distance decay must fall with distance; got direction 'higher' for {decay.kind!r}. "
            "Use direction = 'lower'."
        )
    index, pairs = _pairs_within(sites, targets, metric, radius_m, max_minutes)
    weights = amounts[pairs.target]
    if decay is not None:
        weights = weights * decay.apply(pairs.distance)
    sums = np.bincount(pairs.site, weights=weights, minlength=len(index))
    return pd.Series(sums, index=index, name=column, dtype="float64")

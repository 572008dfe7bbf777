"""What every indicator shares: layers as points, cutoffs with their units, sums within cutoffs.

:func:`sums_within` is the one place amounts are summed within several cutoffs
of every site: with a :class:`~geoplan.streets.routing.NetworkMetric` by the
compiled pass of :mod:`geoplan.indicators._network_sums` (no pairs are
listed), with any other metric by one ``metric.within`` at the largest
cutoff and one weighted ``bincount`` over the pairs, each pair binned by the
first cutoff it is within.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from geoplan._errors import CriterionError, plain
from geoplan.measure.criteria import Layer, _amounts, _check_same_crs, _geoms, _site_points
from geoplan.measure.distance import DistanceMetric, Pairs, StraightLine

__all__ = [
    "amounts_of",
    "band_label",
    "cutoff_values",
    "layer_points",
    "pairs_within",
    "positive",
    "sums_within",
    "weighted_count",
]

FloatArray = npt.NDArray[np.float64]


def layer_points(sites: Layer, *others: Layer) -> tuple[gpd.GeoSeries, ...]:
    """The sites as points and the other layers' geometries, checked: projected, same CRS."""
    points = _site_points(sites)
    out = [points]
    for layer in others:
        geoms = _geoms(layer, "targets")
        _check_same_crs(points, geoms)
        out.append(geoms)
    return tuple(out)


def cutoff_values(
    metric: DistanceMetric,
    cutoffs_m: float | Sequence[float] | None,
    cutoffs_min: float | Sequence[float] | None,
    *,
    names: tuple[str, str] = ("cutoffs_m", "cutoffs_min"),
) -> FloatArray:
    """The cutoffs given in the metric's unit, as increasing, distinct, positive numbers.

    Exactly one of ``cutoffs_m`` (metres) and ``cutoffs_min`` (minutes) must be
    given, the one matching ``metric.unit``.
    """
    given = {names[0]: cutoffs_m, names[1]: cutoffs_min}
    chosen = [k for k, v in given.items() if v is not None]
    if len(chosen) != 1:
        raise CriterionError(
            f"Give exactly one of {names[0]} or {names[1]} (got {given!r}): {names[0]} for "
            f"distances in metres, {names[1]} for travel times in minutes."
        )
    key = chosen[0]
    expected = "m" if key == names[0] else "min"
    if metric.unit != expected:
        other = names[0] if metric.unit == "m" else names[1]
        raise CriterionError(
            f"{key}={given[key]!r} does not match the metric, which measures {metric.label} "
            f"in {metric.unit!r}; use {other} instead."
        )
    raw = given[key]
    values = [raw] if isinstance(raw, int | float) else list(raw)  # type: ignore[arg-type]
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CriterionError(f"{key}={raw!r} must be a number or a list of numbers.") from None
    if array.ndim != 1 or not len(array) or not (np.isfinite(array) & (array > 0)).all():
        raise CriterionError(f"{key}={raw!r} must be one or more positive, finite numbers.")
    if len(np.unique(array)) != len(array):
        raise CriterionError(f"{key}={raw!r} lists a cutoff twice; give each once.")
    return np.sort(array)


def amounts_of(layer: Layer, column: str, role: str) -> FloatArray:
    """A layer's ``column`` as finite numbers ``>= 0``; the layer must be a GeoDataFrame."""
    if not isinstance(layer, gpd.GeoDataFrame):
        raise CriterionError(
            f"The {role} are a GeoSeries, which has no column {column!r}; pass a "
            "GeoDataFrame with that column."
        )
    return _amounts(layer, column, role)


def weighted_count(index: npt.NDArray[np.intp], weights: FloatArray, size: int) -> FloatArray:
    """``np.bincount`` with weights: the sum of ``weights`` at each index ``< size``."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def positive(value: object, name: str) -> float:
    """``value`` as a float if it is a positive, finite number; else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise CriterionError(f"{name}={plain(value)!r} must be a positive number.")
    number = float(value)
    if not (number > 0 and np.isfinite(number)):
        raise CriterionError(f"{name}={plain(value)!r} must be a positive, finite number.")
    return number


def band_label(value: float, unit: str) -> str:
    """A cutoff as it appears in column names: ``15min``, ``5000m``, ``2.5min``."""
    return f"{plain(value):g}{unit}"


def pairs_within(
    sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float, metric: DistanceMetric | None
) -> Pairs:
    """Every (site, target) pair within ``cutoff`` (straight-line metres by default)."""
    return (metric or StraightLine()).within(sites, targets, cutoff)


def _network_metric(metric: DistanceMetric) -> bool:
    # imported only when a network metric exists: straight-line users never load numba
    routing = sys.modules.get("geoplan.streets.routing")
    return routing is not None and isinstance(metric, routing.NetworkMetric)


def sums_within(
    sites: gpd.GeoSeries,
    targets: gpd.GeoSeries,
    amounts: FloatArray,
    cutoffs: FloatArray,
    metric: DistanceMetric | None,
) -> FloatArray:
    """Sum of the targets' ``amounts`` within each cutoff of every site.

    Parameters
    ----------
    sites, targets
        Site points and target geometries in one projected CRS.
    amounts
        One finite amount ``>= 0`` per target.
    cutoffs
        Increasing cutoffs in the metric's unit.
    metric
        How to measure; straight-line metres when None.

    Returns
    -------
    numpy.ndarray
        ``(n_sites, n_cutoffs)``; column ``k`` is
        :math:`\\sum_j a_j [d_{ij} \\le c_k]`.
    """
    metric = metric or StraightLine()
    if _network_metric(metric):
        from geoplan.indicators._network_sums import network_sums

        return network_sums(metric, sites, targets, amounts, cutoffs)  # type: ignore[arg-type]
    pairs = metric.within(sites, targets, float(cutoffs[-1]))
    band = np.searchsorted(cutoffs, pairs.distance, side="left")  # first cutoff >= d
    n, k = len(sites), len(cutoffs)
    bands = weighted_count(pairs.site * k + band, amounts[pairs.target], n * k)
    return np.cumsum(bands.reshape(n, k), axis=1)

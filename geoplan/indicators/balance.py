"""Job–housing balance (职住平衡) around every site, and the commute shares of Chinese reports.

* :func:`jobs_housing_ratio`: the job–housing ratio (职住比) within a site's
  catchment, jobs divided by resident workers, with a status against a band
  of balance (0.8–1.2 by default).
* :func:`commute_shares`: the share of a layer's jobs (a park's, or the
  city's) within the "happy commute" distance of 5 km (幸福通勤), within a
  45-minute commute, and beyond 60 minutes (极端通勤), the indicators of the
  annual 中国主要城市通勤监测报告.

Both take the sites first, then the other layers, options keyword-only; all
layers in one projected CRS; results indexed like the sites.  Sums within a
catchment come from one pass per layer (see
:func:`~geoplan.indicators._sums.sums_within`).
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import CriterionError
from geoplan.indicators._sums import amounts_of, band_label, layer_points, positive, sums_within
from geoplan.measure.criteria import Layer, _cutoff
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = ["BALANCED_BAND", "STATUSES", "commute_shares", "jobs_housing_ratio"]

BALANCED_BAND: Final = (0.8, 1.2)
"""Job–housing ratios counted as balanced by default: the band commonly used in
job–housing studies and Chinese planning practice (jobs within 20 % of the
resident workers).  Pass ``band=`` to use another."""

STATUSES: Final = ("balanced", "jobs-rich", "housing-rich", "no resident workers")
"""Values of ``jobs_housing_balance``."""

HAPPY_COMMUTE_M: Final = 5000.0
"""The "happy commute" (幸福通勤) distance of the 中国主要城市通勤监测报告: 5 km."""

COMMUTE_MIN: Final = 45.0
"""The reports' 45-minute commute (45分钟以内通勤比重)."""

EXTREME_COMMUTE_MIN: Final = 60.0
"""The reports' extreme commute (极端通勤): more than 60 minutes."""


def jobs_housing_ratio(
    sites: Layer,
    jobs: gpd.GeoDataFrame,
    housing: gpd.GeoDataFrame,
    *,
    jobs_column: str = "jobs",
    workers_column: str = "workers",
    site_workers_column: str | None = None,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    band: tuple[float, float] = BALANCED_BAND,
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """The job–housing ratio (职住比) within every site's catchment.

    Definition: the jobs within the catchment divided by the resident workers
    within it, :math:`\\sum_j S_j [d_{ij} \\le c] / \\sum_k P_k [d_{ik} \\le c]`,
    both measured from the site by distance or travel time (the catchment
    *c*).  The concept of job–housing balance is Cervero's (1989); a ratio in
    ``band`` (by default 0.8–1.2, the band commonly used for "balanced") is
    ``"balanced"``, above it ``"jobs-rich"`` (workers commute in), below it
    ``"housing-rich"`` (residents commute out).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    jobs : geopandas.GeoDataFrame
        Job locations or parks with ``jobs_column``.
    housing : geopandas.GeoDataFrame
        Housing with ``workers_column`` (see
        :func:`~geoplan.indicators.access.resident_workers`).
    jobs_column, workers_column : str
        Jobs of each job location; resident workers of each housing feature.
    site_workers_column : str, optional
        A column of the sites with their own future resident workers: each
        site's ratio then counts them too (the ratio after building it).
    radius_m, max_minutes : float
        The catchment (exactly one, matching the metric's unit): metres with a
        straight-line or network-metres metric, minutes with a network metric
        in minutes.
    band : (float, float)
        The ratios counted as balanced, inclusive.
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``<jobs>_within_<c>``, ``<workers>_within_<c>``
        (e.g. ``jobs_within_30min``, ``workers_within_30min``),
        ``jobs_housing_ratio`` (``inf`` where jobs but no workers are in reach,
        missing where neither are) and ``jobs_housing_balance`` (one of
        :data:`STATUSES`).

    References
    ----------
    Cervero, R. (1989). Jobs-housing balancing and regional mobility.
    *Journal of the American Planning Association* 55(2), 136-150.
    """
    metric = metric or StraightLine()
    low, high = _band(band)
    cutoff = np.array([_cutoff(metric, radius_m, max_minutes)])
    site_geoms, job_geoms, home_geoms = layer_points(sites, jobs, housing)
    supply = amounts_of(jobs, jobs_column, "jobs layer")
    demand = amounts_of(housing, workers_column, "housing layer")
    job_sum = sums_within(site_geoms, job_geoms, supply, cutoff, metric)[:, 0]
    worker_sum = sums_within(site_geoms, home_geoms, demand, cutoff, metric)[:, 0]
    if site_workers_column is not None:
        worker_sum = worker_sum + amounts_of(sites, site_workers_column, "sites")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = job_sum / worker_sum
    status = np.select(
        [worker_sum <= 0, ratio > high, ratio < low],
        [STATUSES[3], STATUSES[1], STATUSES[2]],
        default=STATUSES[0],
    )
    label = band_label(cutoff[0], metric.unit)
    return pd.DataFrame(
        {
            f"{jobs_column}_within_{label}": job_sum,
            f"{workers_column}_within_{label}": worker_sum,
            "jobs_housing_ratio": ratio,
            "jobs_housing_balance": pd.Categorical(status, categories=list(STATUSES)),
        },
        index=site_geoms.index,
    )


def _band(band: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = (float(b) for b in band)
    except (TypeError, ValueError):
        raise CriterionError(
            f"band={band!r} must be two numbers, the lowest and highest balanced ratio, "
            "e.g. (0.8, 1.2)."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
        raise CriterionError(
            f"band={band!r} must be two finite numbers 0 <= low <= high, e.g. (0.8, 1.2)."
        )
    return low, high


def commute_shares(
    sites: Layer,
    jobs: gpd.GeoDataFrame,
    *,
    jobs_column: str = "jobs",
    metric: DistanceMetric | None = None,
    time_metric: DistanceMetric | None = None,
    happy_m: float = HAPPY_COMMUTE_M,
    within_min: float = COMMUTE_MIN,
    extreme_min: float = EXTREME_COMMUTE_MIN,
) -> pd.DataFrame:
    """Shares of a layer's jobs within the commutes Chinese commuting reports count.

    The 中国主要城市通勤监测报告 (China's major cities commuting monitoring
    report, published yearly since 2020 by the 住房和城乡建设部城市交通基础设施监测与治理实验室,
    the China Academy of Urban Planning and Design and Baidu Maps) rates
    cities by the share of commuters who travel at most 5 km (5公里以内通勤比重,
    the "happy commute", 幸福通勤), at most 45 minutes (45分钟以内通勤比重), and
    more than 60 minutes (60分钟以上通勤比重, 极端通勤).  Applied to a site:
    the share of the layer's jobs (one park's, or all the city's) at most 5 km,
    at most 45 minutes, and more than 60 minutes (or not at all) from it --
    the shares of the site's residents' commutes if they worked at those
    jobs in proportion to their numbers.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    jobs : geopandas.GeoDataFrame
        Job locations (or parks) with ``jobs_column``.
    jobs_column : str
        Jobs of each feature.
    metric : DistanceMetric, optional
        Distances in **metres** for the happy-commute share: straight-line by
        default, or a :class:`~geoplan.streets.routing.NetworkMetric` with
        ``unit="m"`` (the reports measure commute distance along the way).
    time_metric : DistanceMetric, optional
        Travel times in **minutes** for the 45- and 60-minute shares (a
        network metric with ``unit="min"``, or a transit metric); without
        one, those shares are left out.
    happy_m, within_min, extreme_min : float
        The thresholds: 5,000 m, 45 and 60 minutes as in the reports.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``, shares in [0, 1]:
        ``share_jobs_within_5000m`` and, with ``time_metric``,
        ``share_jobs_within_45min`` and ``share_jobs_beyond_60min`` (jobs not
        reachable at all count as beyond).
    """
    metric = metric or StraightLine()
    if metric.unit != "m":
        raise CriterionError(
            f"metric measures {metric.label} in {metric.unit!r}, but the happy-commute share "
            "needs metres: pass a straight-line or network metric in 'm' as metric, and the "
            "one in minutes as time_metric."
        )
    if time_metric is not None and time_metric.unit != "min":
        raise CriterionError(
            f"time_metric measures {time_metric.label} in {time_metric.unit!r}; the 45- and "
            "60-minute shares need minutes, e.g. NetworkMetric(net, unit='min')."
        )
    site_geoms, job_geoms = layer_points(sites, jobs)
    supply = amounts_of(jobs, jobs_column, "jobs layer")
    total = float(supply.sum())
    if total <= 0:
        raise CriterionError(
            f"The jobs layer has no jobs in {jobs_column!r} (the total is {total!r}), so no "
            "share can be taken; check the column."
        )
    happy = positive(happy_m, "happy_m")
    near = sums_within(site_geoms, job_geoms, supply, np.array([happy]), metric)[:, 0]
    out = pd.DataFrame(
        {f"share_{jobs_column}_within_{band_label(happy, 'm')}": near / total},
        index=site_geoms.index,
    )
    if time_metric is not None:
        within = positive(within_min, "within_min")
        extreme = positive(extreme_min, "extreme_min")
        cuts = np.unique([within, extreme])
        found = sums_within(site_geoms, job_geoms, supply, cuts, time_metric)
        sums = dict(zip(cuts, found.T, strict=True))
        out[f"share_{jobs_column}_within_{band_label(within, 'min')}"] = sums[within] / total
        out[f"share_{jobs_column}_beyond_{band_label(extreme, 'min')}"] = 1 - sums[extreme] / total
    return out

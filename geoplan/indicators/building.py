r"""What building each candidate would do to the access to jobs of the city's workers.

A candidate *c* built at its capacity brings :math:`P_c` new resident workers.
In a floating catchment (:func:`~geoplan.indicators.access.two_step_fca`)
they compete for the jobs of the job locations within their reach, so only
those locations' ratios change:

.. math::

    D'_j = D_j + W(d_{cj}) P_c, \qquad R'_j = S_j / D'_j .

Everything else follows in closed form from the pairs (candidate, job
location) of the catchment, for all candidates at once:

* the new residents' access :math:`A'_c = \sum_j W(d_{cj}) R'_j`;
* the existing workers' total change
  :math:`\sum_k P_k \Delta A_k = \sum_j D_j (R'_j - R_j)` (because
  :math:`\sum_k P_k W(d_{kj}) = D_j`), never positive where :math:`D_j > 0`;
* the workers-weighted mean access of the city before,
  :math:`M = \sum_j D_j R_j / \sum_k P_k`, and after,
  :math:`M' = (\sum_j D_j R_j + \sum_j D_j (R'_j - R_j) + P_c A'_c) / (\sum_k P_k + P_c)`;
* the same for the workers of the candidate's district, with :math:`D_j`
  replaced by :math:`D^g_j`, the weighted workers of district *g* who reach *j*.

A job location no existing worker reaches (:math:`D_j = 0`, so :math:`R_j = 0`)
gives all its jobs to the new residents once they reach it.  The tests check
every number against recomputing the whole catchment with each candidate
added, one at a time.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError
from geoplan.indicators._sums import amounts_of, weighted_count
from geoplan.indicators.access import catchments
from geoplan.measure.criteria import Layer
from geoplan.measure.decay import Decay
from geoplan.measure.distance import DistanceMetric

__all__ = ["building_effect"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _mean(total: FloatArray, workers: FloatArray) -> FloatArray:
    out = np.full(np.shape(total), np.nan)
    np.divide(total, workers, out=out, where=workers > 0)
    return out


def building_effect(
    sites: Layer,
    jobs: gpd.GeoDataFrame,
    housing: gpd.GeoDataFrame,
    *,
    site_workers_column: str,
    jobs_column: str = "jobs",
    workers_column: str = "workers",
    district_column: str | None = None,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    method: str = "2sfca",
    decay: Decay | None = None,
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """The change in the workers' access to jobs if each candidate alone were built.

    Every candidate is compared with today (the housing only), each on its
    own, in the floating catchment of :func:`~geoplan.indicators.access.two_step_fca`
    (same parameters); the formulas are in the module docstring.  Because
    2SFCA shares out the jobs within reach, a candidate raises the city's
    mean access only by reaching jobs no one reached before, and lowers it by
    adding workers where jobs are scarce; ``..._change_existing`` is the
    competition the new residents bring to today's workers.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites with ``site_workers_column``.
    jobs : geopandas.GeoDataFrame
        Job locations with ``jobs_column``.
    housing : geopandas.GeoDataFrame
        Existing housing with ``workers_column``.
    site_workers_column : str
        Resident workers of each candidate at its capacity (see
        :func:`~geoplan.indicators.access.resident_workers`).
    jobs_column, workers_column : str
        Jobs of each job location; workers of each housing feature.
    district_column : str, optional
        A column of both the housing and the sites naming their district:
        adds the change for the workers of the candidate's own district.
    radius_m, max_minutes, method, decay, metric
        The catchment, as for :func:`~geoplan.indicators.access.two_step_fca`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites`` (``<jobs>`` is ``jobs_column``):

        * ``new_workers``: :math:`P_c`;
        * ``<jobs>_per_worker_new_residents``: :math:`A'_c`, the new residents' access;
        * ``<jobs>_per_worker_change_existing``: the workers-weighted mean change of
          today's workers' access, :math:`\\sum_j D_j (R'_j - R_j) / \\sum_k P_k`;
        * ``<jobs>_per_worker_change_city``: :math:`M' - M`, the change of the
          workers-weighted mean access of all workers, today's and the new ones;
        * ``<jobs>_per_worker_change_district`` (with ``district_column``): the
          same for the workers living in the candidate's district (missing where
          no worker lives there today).

        ``attrs["city_mean_before"]`` holds :math:`M`.
    """
    fca = catchments(
        sites, jobs, housing, jobs_column=jobs_column, workers_column=workers_column,
        site_workers_column=None, radius_m=radius_m, max_minutes=max_minutes, method=method,
        decay=decay, metric=metric,
    )  # fmt: skip
    new = amounts_of(sites, site_workers_column, "sites")
    n = len(fca.index)
    site, job, w = fca.site_pairs
    supply, workers, ratio = fca.supply, fca.workers, fca.ratio
    after = workers[job] + w * new[site]
    ratio_after = np.zeros_like(after)
    np.divide(supply[job], after, out=ratio_after, where=after > 0)
    change = ratio_after - ratio[job]
    own = weighted_count(site, w * ratio_after, n)
    existing = weighted_count(site, workers[job] * change, n)
    total = float(np.sum(workers * ratio))
    people = float(fca.demand.sum())
    before = float(_mean(np.asarray(total), np.asarray(people)))
    prefix = f"{jobs_column}_per_worker"
    out = pd.DataFrame(
        {
            "new_workers": new,
            f"{prefix}_new_residents": own,
            f"{prefix}_change_existing": _mean(existing, np.full(n, people)),
            f"{prefix}_change_city": _mean(total + existing + new * own, people + new) - before,
        },
        index=fca.index,
    )
    if district_column is not None:
        out[f"{prefix}_change_district"] = _district_change(
            sites, housing, district_column, fca.home_pairs, fca.demand, ratio, site, job,
            change, new * own, new,
        )  # fmt: skip
    out.attrs["city_mean_before"] = before
    return out


def _district_change(
    sites: Layer,
    housing: gpd.GeoDataFrame,
    column: str,
    home_pairs: tuple[IntArray, IntArray, FloatArray],
    demand: FloatArray,
    ratio: FloatArray,
    site: IntArray,
    job: IntArray,
    change: FloatArray,
    gained: FloatArray,
    new: FloatArray,
) -> FloatArray:
    """Change of the workers-weighted mean access of each candidate's district."""
    site_labels = _labels(sites, column, "sites")
    home_labels = _labels(housing, column, "housing layer")
    codes, names = pd.factorize(pd.concat([home_labels, site_labels], ignore_index=True))
    home_group, site_group = codes[: len(home_labels)], codes[len(home_labels) :]
    n_groups, n_jobs = len(names), len(ratio)
    home, target, w = home_pairs
    placed = home_group[home] >= 0  # homes without a district count in none
    by_group = weighted_count(
        target[placed] * n_groups + home_group[home[placed]],
        demand[home[placed]] * w[placed],
        n_jobs * n_groups,
    ).reshape(n_jobs, n_groups)  # D^g_j
    total = ratio @ by_group  # sum_j D^g_j R_j for each district
    has = home_group >= 0
    people = weighted_count(home_group[has], demand[has], n_groups)
    n = len(site_group)
    known = site_group >= 0
    group = np.where(known, site_group, 0)
    existing = weighted_count(site, by_group[job, group[site]] * change, n)
    before = _mean(total[group], people[group])
    result = _mean(total[group] + existing + gained, people[group] + new) - before
    return np.where(known, result, np.nan)


def _labels(layer: Layer, column: str, role: str) -> pd.Series:
    if not isinstance(layer, gpd.GeoDataFrame) or column not in layer.columns:
        raise CriterionError(
            f"The {role} has no column {column!r} naming the district; its columns are "
            f"{[c for c in getattr(layer, 'columns', []) if c != layer.geometry.name]!r}."
        )
    return layer[column].reset_index(drop=True)

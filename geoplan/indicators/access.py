r"""Jobs within reach of every site: cumulative opportunities, gravity access, 2SFCA, E2SFCA.

Every function takes the sites first, then the other layers, options keyword-only;
all layers are in one projected CRS, and distances come from a
:class:`~geoplan.measure.distance.DistanceMetric`: straight-line metres when
``metric`` is None, or a :class:`~geoplan.streets.routing.NetworkMetric` in
metres or minutes.  Results are indexed like the sites and never change the
inputs.  With :math:`d_{ij}` the cost from site (or home) *i* to job location
*j*, :math:`S_j` its jobs and :math:`P_k` the resident workers at home *k*:

* **cumulative opportunities** :math:`\sum_j S_j [d_{ij} \le c]` for several
  cutoffs *c* at once (jobs within 15, 30, 45 minutes);
* **gravity access** (Hansen 1959) :math:`\sum_j S_j f(d_{ij})` with any
  distance decay *f* of :mod:`geoplan.measure.decay`;
* **2SFCA** (Luo & Wang 2003): each job location's jobs per worker who can
  reach it, :math:`R_j = S_j / \sum_k P_k [d_{kj} \le d_0]`, summed over the
  job locations a site reaches, :math:`A_i = \sum_j R_j [d_{ij} \le d_0]`;
  **E2SFCA** (Luo & Qi 2009) weights both sums by distance bands,
  :math:`R_j = S_j / \sum_k P_k W(d_{kj})`, :math:`A_i = \sum_j R_j W(d_{ij})`;
* the effect of building each candidate on them is in :mod:`geoplan.indicators.building`.

Every sum over pairs comes from one ``metric.within`` per pair of layers (or
the compiled pass of :func:`~geoplan.indicators._sums.sums_within` for plain
sums along streets); no site-by-target matrix is ever built.

References
----------
Hansen, W. G. (1959). How accessibility shapes land use. *Journal of the
American Institute of Planners* 25(2), 73-76.

Luo, W., & Wang, F. (2003). Measures of spatial accessibility to health care in
a GIS environment: synthesis and a case study in the Chicago region.
*Environment and Planning B* 30(6), 865-884.

Luo, W., & Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA)
method for measuring spatial accessibility to primary care physicians.
*Health & Place* 15(4), 1100-1107.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, plain
from geoplan.indicators._sums import (
    amounts_of,
    band_label,
    cutoff_values,
    layer_points,
    pairs_within,
    positive,
    sums_within,
    weighted_count,
)
from geoplan.measure.criteria import Layer, _cutoff, sum_within
from geoplan.measure.decay import Decay, make_decay
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = [
    "E2SFCA_WEIGHTS",
    "Catchments",
    "catchments",
    "cumulative_opportunities",
    "gravity_access",
    "gravity_reach",
    "resident_workers",
    "two_step_fca",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

E2SFCA_WEIGHTS: Final = (1.0, 0.68, 0.22)
"""Luo & Qi's (2009) weights of the three travel-time zones of a catchment
(0-10, 10-20 and 20-30 minutes in their paper), used by ``method="e2sfca"``
when no decay is given: the catchment is cut into three equal zones."""

GRAVITY_TAIL: Final = 1e-3
"""Gravity access without a cutoff stops where the decay falls to this weight."""

METHODS: Final = ("2sfca", "e2sfca")


# --------------------------------------------------------------------------- sums


def cumulative_opportunities(
    sites: Layer,
    opportunities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    column: str | None = None,
    cutoffs_m: float | Sequence[float] | None = None,
    cutoffs_min: float | Sequence[float] | None = None,
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """Opportunities (jobs) within several cutoffs of every site, in one pass.

    For site *i* and cutoff *c*: :math:`\\sum_j S_j [d_{ij} \\le c]`, the
    cumulative-opportunities measure (for example jobs within 15, 30 and 45
    minutes).  All cutoffs come from one set of bounded searches, up to the
    largest cutoff.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites (non-point sites are measured from a representative point).
    opportunities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Job locations (points) or parks (polygons, reached at their edge).
    column : str, optional
        The attribute to sum (e.g. ``"jobs"``); None counts the features.
    cutoffs_m, cutoffs_min : float or sequence of float
        The cutoffs (exactly one, matching the metric's unit): metres for a
        straight-line or network-metres metric, minutes for a network metric
        in minutes.
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``, one column per cutoff in increasing order,
        named ``<column>_within_<cutoff><unit>`` (``jobs_within_15min``,
        ``count_within_5000m``).  Unreachable sites have 0.
    """
    metric = metric or StraightLine()
    cutoffs = cutoff_values(metric, cutoffs_m, cutoffs_min)
    site_geoms, target_geoms = layer_points(sites, opportunities)
    if column is None:
        amounts = np.ones(len(target_geoms))
    else:
        amounts = amounts_of(opportunities, column, "opportunities")
    sums = sums_within(site_geoms, target_geoms, amounts, cutoffs, metric)
    name = column or "count"
    columns = [f"{name}_within_{band_label(c, metric.unit)}" for c in cutoffs]
    return pd.DataFrame(sums, index=site_geoms.index, columns=columns)


def gravity_reach(decay: Decay) -> float:
    """Where a distance decay falls to :data:`GRAVITY_TAIL` (0.001) or to 0.

    Parameters
    ----------
    decay : Decay
        A "less is better" decay: ``linear`` (0 at ``upper``), ``exponential``
        (:math:`h \\log_2 1000`, about ten half-distances), ``gaussian``
        (:math:`\\sigma \\sqrt{2 \\ln 1000}`, about 3.7 sigma), ``logistic``
        (midpoint + scale :math:`\\ln 999`) or a ``step`` whose last score is 0
        (its last break).

    Returns
    -------
    float
        The distance (or time), in the decay's unit.

    Raises
    ------
    CriterionError
        For a decay that never falls that low (a step ending above 0) or is
        not a distance decay (``band``, ``minmax``, direction ``higher``).
    """
    p = decay.params
    if decay.kind in ("band", "minmax") or decay.direction == "higher":
        raise CriterionError(
            f"A {decay.kind!r} decay with direction {decay.direction!r} is not a distance decay; "
            "use a linear, exponential, gaussian, logistic or step decay with direction 'lower'."
        )
    if decay.kind == "linear":
        return float(p["upper"])
    if decay.kind == "exponential":
        return float(p["half_at"]) * math.log2(1.0 / GRAVITY_TAIL)
    if decay.kind == "gaussian":
        return float(p["sigma"]) * math.sqrt(2.0 * math.log(1.0 / GRAVITY_TAIL))
    if decay.kind == "logistic":
        return float(p["midpoint"]) + float(p["scale"]) * math.log(1.0 / GRAVITY_TAIL - 1.0)
    scores, breaks = p["scores"], p["breaks"]
    if float(scores[-1]) > 0:
        raise CriterionError(
            f"The step decay ends at score {plain(scores[-1])!r} and never reaches 0, so gravity "
            "access would count every job in the city; give radius_m or max_minutes."
        )
    return float(breaks[-1])


def gravity_access(
    sites: Layer,
    opportunities: gpd.GeoDataFrame,
    *,
    column: str,
    decay: Decay,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    metric: DistanceMetric | None = None,
) -> pd.Series:
    """Gravity (Hansen) access: opportunities weighted by a distance decay.

    For site *i*: :math:`\\sum_j S_j f(d_{ij})` over the job locations *j*
    within the cutoff, with *f* any "less is better" decay of
    :mod:`geoplan.measure.decay` (Hansen 1959).  This is
    :func:`geoplan.measure.criteria.sum_within` with a decay, plus a sensible
    bound when no cutoff is given.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites.
    opportunities : geopandas.GeoDataFrame
        Job locations or parks with the attribute.
    column : str
        The attribute (e.g. ``"jobs"``).
    decay : Decay
        The distance weighting :math:`f(d)` in the metric's unit, e.g.
        ``make_decay({"kind": "exponential", "half_at": 15}, direction="lower")``.
    radius_m, max_minutes : float, optional
        The cutoff (at most one, matching the metric's unit).  Without one,
        the sum stops where the decay falls to 0.001 (see
        :func:`gravity_reach`): a job beyond would count for less than 0.001
        of a job at the site, so the sum leaves out less than 0.001 times the
        jobs beyond the bound (a linear or stepped decay leaves out nothing).
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.Series
        ``<column>_gravity`` (decay-weighted jobs), aligned to ``sites``.
    """
    metric = metric or StraightLine()
    if radius_m is None and max_minutes is None:
        reach = gravity_reach(decay)
        radius_m, max_minutes = (reach, None) if metric.unit == "m" else (None, reach)
    total = sum_within(
        sites, opportunities, column=column, radius_m=radius_m, max_minutes=max_minutes,
        decay=decay, metric=metric,
    )  # fmt: skip
    return total.rename(f"{column}_gravity")


# --------------------------------------------------------------------------- workers


def resident_workers(
    housing: gpd.GeoDataFrame,
    *,
    units_column: str,
    residents_per_unit: float | str,
    worker_share: float = 1.0,
) -> pd.Series:
    """Resident workers of housing: units x residents per unit x share in work.

    The demand side of 2SFCA and of the job-housing ratio: for each housing
    feature (existing talent apartments, other housing, or candidate sites at
    their capacity), ``units * residents_per_unit * worker_share``.

    Parameters
    ----------
    housing : geopandas.GeoDataFrame
        Housing with a number of dwelling units.
    units_column : str
        Dwelling units (apartments) of each feature.
    residents_per_unit : float or str
        Residents per unit: one number, or a column of ``housing``.
    worker_share : float
        Share of residents who work (0-1]; 1 counts every resident (talent
        apartments house workers).

    Returns
    -------
    pandas.Series
        ``workers``, aligned to ``housing``.
    """
    units = amounts_of(housing, units_column, "housing layer")
    if isinstance(residents_per_unit, str):
        per_unit = amounts_of(housing, residents_per_unit, "housing layer")
    else:
        per_unit = np.full(len(housing), positive(residents_per_unit, "residents_per_unit"))
    share = positive(worker_share, "worker_share")
    if share > 1:
        raise CriterionError(f"worker_share={worker_share!r} is a share: give a number in (0, 1].")
    return pd.Series(units * per_unit * share, index=housing.index, name="workers")


# --------------------------------------------------------------------------- 2SFCA


def _catchment_weight(method: str, decay: Decay | None, cutoff: float) -> Decay | None:
    """The weight of a pair by its cost, for the method (None: 1 within the cutoff)."""
    if method not in METHODS:
        raise CriterionError(f"method={method!r} is not known; use one of {list(METHODS)!r}.")
    if method == "2sfca":
        if decay is not None:
            raise CriterionError(
                "method='2sfca' counts every worker and job in the catchment alike; to weight "
                "them by distance use method='e2sfca' with decay=..."
            )
        return None
    if decay is None:
        decay = make_decay(
            {
                "kind": "step",
                "breaks": [cutoff / 3, 2 * cutoff / 3],
                "scores": list(E2SFCA_WEIGHTS),
            },
            direction="lower",
        )
    elif decay.kind in ("band", "minmax") or decay.direction == "higher":
        raise CriterionError(
            f"A {decay.kind!r} decay with direction {decay.direction!r} does not weight by "
            "distance; use a step, linear, exponential, gaussian or logistic decay, 'lower'."
        )
    return decay


def _weights(distance: FloatArray, decay: Decay | None) -> FloatArray:
    return np.ones_like(distance) if decay is None else decay.apply(distance)


def _ratios(supply: FloatArray, demand: FloatArray) -> FloatArray:
    """:math:`R_j = S_j / D_j`, and 0 where no worker is in reach (:math:`D_j = 0`)."""
    out = np.zeros_like(supply)
    np.divide(supply, demand, out=out, where=demand > 0)
    return out


def two_step_fca(
    sites: Layer,
    jobs: gpd.GeoDataFrame,
    housing: gpd.GeoDataFrame,
    *,
    jobs_column: str = "jobs",
    workers_column: str = "workers",
    site_workers_column: str | None = None,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    method: str = "2sfca",
    decay: Decay | None = None,
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """Jobs per competing worker within reach: 2SFCA or E2SFCA.

    Step 1, for each job location *j* with :math:`S_j` jobs: the workers who
    can reach it, :math:`D_j = \\sum_k P_k W(d_{kj})`, and its jobs per worker
    :math:`R_j = S_j / D_j`.  Step 2, for each site *i*:
    :math:`A_i = \\sum_j R_j W(d_{ij})`.  With ``method="2sfca"`` (Luo & Wang
    2003) :math:`W = 1` within the catchment; with ``"e2sfca"`` (Luo & Qi
    2009) :math:`W` falls by distance band, by default Luo & Qi's weights 1.00,
    0.68 and 0.22 in three equal zones of the catchment (0-10, 10-20 and 20-30
    minutes for 30 minutes; a cost exactly on a zone's edge falls in the outer
    zone), or any decay given.  The workers-weighted mean of :math:`A` over
    all workers, :math:`\\sum_k P_k A_k / \\sum_k P_k`, equals the jobs within
    reach of some worker divided by all workers: 2SFCA shares out the jobs,
    it does not create any.

    A job location that no worker can reach (:math:`D_j = 0`) has
    :math:`R_j = 0`: its jobs go to no one, and a site that reaches it gains
    nothing from it (PySAL's ``access`` leaves such a location out when no
    origin is in reach at all, and gives ``inf`` when only origins with no
    demand are).  Include the sites as demand (``site_workers_column``) to
    let their future residents claim such jobs.  A site that cannot reach
    any job location (or the street network) has 0.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites (or any places to measure).
    jobs : geopandas.GeoDataFrame
        Job locations (points, or parks as polygons) with ``jobs_column``.
    housing : geopandas.GeoDataFrame
        Where workers live now: existing talent apartments and other housing,
        with ``workers_column`` (see :func:`resident_workers`).
    jobs_column : str
        Jobs at each job location (the supply).
    workers_column : str
        Resident workers of each housing feature (the demand).
    site_workers_column : str, optional
        A column of the sites with their future resident workers (e.g.
        ``resident_workers(sites, units_column="capacity", ...)``): the sites
        then count as demand too, as if all were built.  Default: only
        existing housing competes.
    radius_m, max_minutes : float
        The catchment (exactly one, matching the metric's unit).
    method : {"2sfca", "e2sfca"}
        Floating catchment (``W = 1``) or distance-banded (``W`` from ``decay``).
    decay : Decay, optional
        For ``"e2sfca"``: the weight :math:`W(d)` of a pair (any "less is
        better" decay); default Luo & Qi's three zones.
    metric : DistanceMetric, optional
        How to measure; straight-line metres by default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``<jobs>_per_worker`` (:math:`A_i`) and
        ``<jobs>_in_catchment`` (:math:`\\sum_j S_j W(d_{ij})`, the jobs the
        site reaches before competition).
    """
    fca = catchments(
        sites, jobs, housing, jobs_column=jobs_column, workers_column=workers_column,
        site_workers_column=site_workers_column, radius_m=radius_m, max_minutes=max_minutes,
        method=method, decay=decay, metric=metric,
    )  # fmt: skip
    n = len(fca.index)
    site, job, w = fca.site_pairs
    access = weighted_count(site, w * fca.ratio[job], n)
    reach = weighted_count(site, w * fca.supply[job], n)
    return pd.DataFrame(
        {f"{jobs_column}_per_worker": access, f"{jobs_column}_in_catchment": reach},
        index=fca.index,
    )


@dataclass(frozen=True)
class Catchments:
    """The two steps of a floating catchment, as arrays (see :func:`two_step_fca`).

    Attributes
    ----------
    index : pandas.Index
        The sites' index.
    supply : numpy.ndarray
        Jobs :math:`S_j` of every job location.
    demand : numpy.ndarray
        Workers :math:`P_k` of every home (the housing, then the sites when
        they count as demand).
    home_pairs, site_pairs : tuple of numpy.ndarray
        ``(home or site, job location, weight W)`` of every pair in the catchment.
    workers : numpy.ndarray
        :math:`D_j`, the weighted workers who reach each job location.
    ratio : numpy.ndarray
        :math:`R_j = S_j / D_j` (0 where :math:`D_j = 0`).
    """

    index: pd.Index
    supply: FloatArray
    demand: FloatArray
    home_pairs: tuple[IntArray, IntArray, FloatArray]
    site_pairs: tuple[IntArray, IntArray, FloatArray]
    workers: FloatArray
    ratio: FloatArray


def catchments(
    sites: Layer,
    jobs: gpd.GeoDataFrame,
    housing: gpd.GeoDataFrame,
    *,
    jobs_column: str,
    workers_column: str,
    site_workers_column: str | None,
    radius_m: float | None,
    max_minutes: float | None,
    method: str,
    decay: Decay | None,
    metric: DistanceMetric | None,
) -> Catchments:
    """Step 1 of a floating catchment and the pairs of step 2 (see :func:`two_step_fca`)."""
    metric = metric or StraightLine()
    cutoff = _cutoff(metric, radius_m, max_minutes)
    weight = _catchment_weight(method, decay, cutoff)
    site_geoms, job_geoms, home_geoms = layer_points(sites, jobs, housing)
    supply = amounts_of(jobs, jobs_column, "jobs layer")
    demand = amounts_of(housing, workers_column, "housing layer")
    n_homes = len(home_geoms)
    if site_workers_column is None:
        homes = pairs_within(home_geoms, job_geoms, cutoff, metric)
        own = pairs_within(site_geoms, job_geoms, cutoff, metric)
        site_pairs = (own.site, own.target, _weights(own.distance, weight))
    else:  # the sites are homes too: one search for both
        extra = amounts_of(sites, site_workers_column, "sites")
        both = gpd.GeoSeries(
            np.concatenate([home_geoms.values, site_geoms.values]), crs=site_geoms.crs
        )
        homes = pairs_within(both, job_geoms, cutoff, metric)
        demand = np.concatenate([demand, extra])
        mine = homes.site >= n_homes
        site_pairs = (
            homes.site[mine] - n_homes,
            homes.target[mine],
            _weights(homes.distance[mine], weight),
        )
    w_home = _weights(homes.distance, weight)
    workers = weighted_count(homes.target, demand[homes.site] * w_home, len(supply))
    return Catchments(
        site_geoms.index, supply, demand, (homes.site, homes.target, w_home), site_pairs,
        workers, _ratios(supply, workers),
    )  # fmt: skip

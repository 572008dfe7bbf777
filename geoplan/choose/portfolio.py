"""Choosing a portfolio of sites from a ranked table: :func:`choose_sites` and the trade-off curve.

A ranking scores each site alone; a portfolio is chosen as a set.  :func:`choose_sites`
reads the candidates (a table from :func:`geoplan.rank_sites`, with ``eligible`` and
``score``), the demand (a study layer such as the industrial parks with their ``jobs``,
or any GeoDataFrame), measures every (site, demand point) pair within the standard with the
study's metric (straight-line, or along its street network: one multi-source search per
demand layer, :meth:`~geoplan.measure.distance.DistanceMetric.within`), states the problem
(:mod:`geoplan.choose.problem`) and solves it exactly (:mod:`geoplan.choose.exact`) or
heuristically with a bound (:mod:`geoplan.choose.heuristic`).

``solver = "auto"`` solves exactly while the model is small (at most
:data:`AUTO_EXACT_PAIRS` pairs within the standard and :data:`AUTO_EXACT_SITES` sites) and
with the heuristic beyond; both report the optimality gap against a bound.

:func:`tradeoff_curve` solves for k = 1..K and tabulates the objective against k;
:func:`plot_tradeoff` draws it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplan._errors import ChooseError, plain
from geoplan.choose.exact import solve_exact
from geoplan.choose.heuristic import Solution, solve_heuristic
from geoplan.choose.problem import OBJECTIVES, Problem, check_problem
from geoplan.io import coords
from geoplan.measure.candidates import scoring_points
from geoplan.measure.distance import DistanceMetric, StraightLine
from geoplan.study.files import Study
from geoplan.study.ranking import study_metric

__all__ = [
    "AUTO_EXACT_PAIRS",
    "AUTO_EXACT_SITES",
    "CHOOSE_DEFAULTS",
    "Portfolio",
    "choose_sites",
    "plot_tradeoff",
    "tradeoff_curve",
]

logger = logging.getLogger(__name__)

#: ``solver = "auto"`` solves exactly up to this many pairs within the standard ...
AUTO_EXACT_PAIRS: Final = 200_000
#: ... and this many candidate sites (see benchmarks/README.md for where this comes from).
AUTO_EXACT_SITES: Final = 500

#: Defaults of the ``[choose]`` options (study file and keywords alike).
CHOOSE_DEFAULTS: Final[dict[str, Any]] = {
    "k": None,
    "objective": "coverage",
    "demand": "parks",
    "weight": None,
    "metric": "straight",
    "mode": "walk",
    "max_m": None,
    "max_minutes": None,
    "existing": None,
    "capacity": None,
    "budget_units": None,
    "units_column": "capacity",
    "budget_ha": None,
    "land_column": "land_ha",
    "district_column": "district",
    "quotas": None,
    "min_spacing_m": None,
    "force_in": (),
    "force_out": (),
    "score_weight": 0.0,
    "min_coverage": None,
    "solver": "auto",
    "milp": "auto",
    "time_limit_s": 60.0,
}


@dataclass
class Portfolio:
    """A chosen portfolio of sites and how it serves the demand.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The chosen sites (existing ones included), in greedy build-out order: their own
        columns plus ``order`` (1 = added first), ``role`` (``existing``, ``forced`` or
        ``chosen``), ``adds`` (demand newly within the standard when the site is added in
        that order), ``adds_share`` and ``cumulative_share`` (of all demand), ``serves``
        (demand whose cheapest chosen site it is, within the cutoff) and, for the median,
        ``saves`` (the cost it takes off in that order).  EPSG:4326.
    demand : geopandas.GeoDataFrame
        The demand points with ``weight``, ``cost`` (to the cheapest chosen site; NaN out of
        reach), ``covered`` (within the standard) and ``served_by`` (that site's id).
    areas : geopandas.GeoDataFrame
        Each chosen site's service area (``site``, ``geometry``), EPSG:4326.
    objective, value, bound, gap, method, status, seconds
        The solve: objective name, its value, the bound, the relative gap, how, status and
        wall time (see :class:`~geoplan.choose.heuristic.Solution`).
    coverage : float
        Share of the demand within the standard of the portfolio.
    unit : str
        Unit of costs and the standard (``m`` or ``min``).
    standard : float
        The travel standard.
    """

    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    objective: str
    value: float
    bound: float
    gap: float
    method: str
    status: str
    seconds: float
    coverage: float
    unit: str
    standard: float

    def summary(self) -> str:
        """One paragraph: what was chosen, its value, the bound and the gap."""
        new = int((self.sites["role"] != "existing").sum())
        existing = len(self.sites) - new
        kept = f" beside {existing} existing" if existing else ""
        return (
            f"{new} new sites{kept} ({OBJECTIVES[self.objective]}): value {self.value:,.6g}, "
            f"bound {self.bound:,.6g}, gap {self.gap:.2%} ({self.method}, {self.seconds:.1f} s); "
            f"{self.coverage:.1%} of the demand within {self.standard:g} {self.unit}."
        )


# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


def _options(study: Study | None, given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(CHOOSE_DEFAULTS))
    if unknown:
        raise ChooseError(
            f"Unknown option(s) {unknown!r}; the options are {sorted(CHOOSE_DEFAULTS)!r}."
        )
    options = dict(CHOOSE_DEFAULTS)
    if study is not None:
        options.update(getattr(study, "choose", {}) or {})
    given = {key: value for key, value in given.items() if value is not None}
    for one, other in (("max_m", "max_minutes"), ("budget_units", "budget_ha")):
        for a, b in ((one, other), (other, one)):  # a keyword replaces the study's other form
            if a in given and b not in given:
                options[b] = None
    options.update(given)
    if options["objective"] not in OBJECTIVES:
        raise ChooseError(
            f"objective = {options['objective']!r}; use one of {sorted(OBJECTIVES)!r}."
        )
    if options["max_m"] is not None and options["max_minutes"] is not None:
        raise ChooseError("Give the standard as max_m or as max_minutes, not both.")
    if options["max_minutes"] is not None and options["metric"] != "network":
        raise ChooseError(
            "max_minutes needs metric = 'network' (travel times along streets); give max_m "
            "for straight-line metres."
        )
    return options


def _standard(options: Mapping[str, Any], objective: str) -> tuple[float, str]:
    if options["max_minutes"] is not None:
        return float(options["max_minutes"]), "min"
    if options["max_m"] is not None:
        return float(options["max_m"]), "m"
    if objective == "dispersion":
        return math.inf, "m"
    raise ChooseError(
        "No travel standard: give max_m (metres) or, with metric = 'network', max_minutes, "
        "e.g. [choose] max_m = 3000."
    )


def _id_labels(ranked: gpd.GeoDataFrame, study: Study | None) -> pd.Index:
    column = ranked.attrs.get("geoplan", {}).get("id_column")
    if column is None and study is not None:
        column = study.id_columns.get("candidates")
    if column is None and "site_id" in ranked.columns:
        column = "site_id"
    if column in ranked.columns and ranked[column].is_unique and ranked[column].notna().all():
        return pd.Index(ranked[column].astype(str), name=column)
    return pd.Index([str(i) for i in ranked.index], name="site")


def _positions(ids: pd.Index, wanted: Any, what: str) -> npt.NDArray[np.bool_]:
    mask = np.zeros(len(ids), dtype=bool)
    if wanted is None:
        return mask
    if isinstance(wanted, str):
        wanted = [wanted]
    missing = [w for w in wanted if str(w) not in set(ids)]
    if missing:
        raise ChooseError(
            f"{what} names site(s) {[plain(m) for m in missing]!r} that are not among the "
            f"candidates (ids such as {list(ids[:3])!r}); check the ids."
        )
    mask[ids.isin([str(w) for w in wanted])] = True
    return mask


def _existing(ranked: gpd.GeoDataFrame, ids: pd.Index, spec: Any) -> npt.NDArray[np.bool_]:
    """``existing``: a list of ids, or ``{column = ..., values = [...]}``."""
    if isinstance(spec, Mapping):
        column, values = spec.get("column"), spec.get("values", spec.get("value"))
        if column not in ranked.columns:
            raise ChooseError(
                f"existing.column = {column!r} is not a column of the sites; use one of "
                f"{[c for c in ranked.columns if c != 'geometry'][:12]!r}."
            )
        values = [values] if isinstance(values, str | int | float) else list(values or [])
        found: npt.NDArray[np.bool_] = (
            ranked[column].astype(str).isin([str(v) for v in values]).to_numpy(dtype=bool)
        )
        return found
    return _positions(ids, spec, "existing")


def _column(ranked: gpd.GeoDataFrame, column: str, key: str) -> npt.NDArray[np.float64]:
    if column not in ranked.columns:
        raise ChooseError(
            f"{key} uses column {column!r}, which the sites do not have; their columns are "
            f"{[c for c in ranked.columns if c != 'geometry'][:12]!r}."
        )
    values: npt.NDArray[np.float64] = pd.to_numeric(ranked[column], errors="coerce").to_numpy(
        dtype=float
    )
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ChooseError(
            f"{key}: column {column!r} must hold numbers >= 0; row {i} has "
            f"{plain(ranked[column].iloc[i])!r}. Fill it in."
        )
    return values


def _quotas(
    ranked: gpd.GeoDataFrame, options: Mapping[str, Any]
) -> tuple[npt.NDArray[np.intp] | None, Any, Any, list[str]]:
    quotas = options["quotas"]
    if not quotas:
        return None, None, None, []
    column = options["district_column"]
    if column not in ranked.columns:
        raise ChooseError(
            f"quotas need the sites' district column {column!r}; set district_column to the "
            "column that names each site's district."
        )
    names = [str(d) for d in quotas]
    present = set(ranked[column].astype(str))
    unknown = [d for d in names if d not in present]
    if unknown:
        raise ChooseError(
            f"quotas name district(s) {unknown!r} where no candidate lies; the districts are "
            f"{sorted(present)!r}."
        )
    code = {d: c for c, d in enumerate(names)}
    district = np.array([code.get(str(v), -1) for v in ranked[column]], dtype=np.intp)
    low = np.array([int(dict(quotas[d]).get("min", 0)) for d in quotas], dtype=np.intp)
    high = np.array([int(dict(quotas[d]).get("max", len(ranked))) for d in quotas], dtype=np.intp)
    return district, low, high, names


# --------------------------------------------------------------------------------------
# The problem from tables
# --------------------------------------------------------------------------------------


def _demand_layer(study: Study | None, demand: Any) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(demand, gpd.GeoDataFrame):
        return demand, "demand"
    if study is None:
        raise ChooseError("Give the demand as a GeoDataFrame, or a study whose layer it is.")
    if demand not in study.layers:
        raise ChooseError(
            f"demand = {demand!r} is not a layer of the study; its layers are "
            f"{sorted(study.layers)!r}."
        )
    return study.layers[demand], str(demand)


def _weights(layer: gpd.GeoDataFrame, column: str | None) -> npt.NDArray[np.float64]:
    if column is None:
        return np.ones(len(layer))
    return _column(layer, column, "weight")


@dataclass(frozen=True)
class _Setup:
    problem: Problem
    ids: pd.Index
    points: gpd.GeoSeries
    demand: gpd.GeoDataFrame
    demand_points: gpd.GeoSeries
    metric: DistanceMetric
    unit: str
    options: dict[str, Any]


def _setup(
    ranked: gpd.GeoDataFrame,
    study: Study | None,
    metric: DistanceMetric | None,
    given: Mapping[str, Any],
) -> _Setup:
    options = _options(study, given)
    objective = str(options["objective"])
    if len(ranked) == 0:
        raise ChooseError("There are no candidate sites to choose from.")
    standard, unit = _standard(options, objective)
    layer, _ = _demand_layer(study, options["demand"])
    if len(layer) == 0 and objective != "dispersion":
        raise ChooseError("The demand layer is empty; give demand points to serve.")
    crs = (
        study.metric_crs
        if study is not None and study.metric_crs is not None
        else coords.local_metric_crs(
            tuple(float(v) for v in ranked.to_crs("EPSG:4326").total_bounds)  # type: ignore[arg-type]
        )
    )
    if metric is None:
        if options["metric"] == "network" and study is not None:
            metric = study_metric(study, metric="network", mode=options["mode"], unit=unit)
        elif options["metric"] == "network":
            raise ChooseError("metric = 'network' needs a study with a [network] source.")
        else:
            metric = StraightLine()
    if metric.unit != unit:
        raise ChooseError(
            f"The metric measures in {metric.unit!r} but the standard is in {unit!r}; give "
            f"max_{'minutes' if metric.unit == 'min' else 'm'} instead."
        )
    ids = _id_labels(ranked, study)
    projected = ranked.to_crs(crs)
    points = scoring_points(projected).set_axis(ids)
    demand = layer.to_crs(crs)
    if math.isfinite(standard) and len(demand):
        pairs = metric.within(points, demand.geometry, standard)
        site, target, cost = pairs.site, pairs.target, pairs.distance
    else:
        site = target = np.empty(0, dtype=np.intp)
        cost = np.empty(0)
    logger.info("%d (site, demand) pairs within %g %s", len(site), standard, unit)
    eligible = (
        ranked["eligible"].fillna(False).to_numpy(dtype=bool)
        if "eligible" in ranked.columns
        else np.ones(len(ranked), dtype=bool)
    )
    fixed = _existing(ranked, ids, options["existing"])
    forced = _positions(ids, options["force_in"], "force_in") & ~fixed
    out = _positions(ids, options["force_out"], "force_out")
    clash = forced & out
    if clash.any():
        raise ChooseError(
            f"Sites {list(ids[clash])!r} are both forced in and forced out; drop them from one."
        )
    budget, site_cost = None, None
    if options["budget_units"] is not None and options["budget_ha"] is not None:
        raise ChooseError("Give one budget: budget_units or budget_ha, not both.")
    if options["budget_units"] is not None:
        budget = float(options["budget_units"])
        site_cost = _column(ranked, str(options["units_column"]), "budget_units")
    elif options["budget_ha"] is not None:
        budget = float(options["budget_ha"])
        site_cost = _column(ranked, str(options["land_column"]), "budget_ha")
    district, low, high, names = _quotas(ranked, options)
    score = (
        pd.to_numeric(ranked["score"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if "score" in ranked.columns
        else np.zeros(len(ranked))
    )
    lam = float(options["score_weight"] or 0.0)
    if not 0 <= lam <= 1:
        raise ChooseError(f"score_weight = {plain(lam)!r} must lie between 0 and 1.")
    if (lam > 0 or objective == "score") and "score" not in ranked.columns:
        raise ChooseError("The score objective and score_weight need the 'score' column.")
    k = options["k"]
    if objective == "cover_all":
        k = None
    elif k is None:
        raise ChooseError(f"objective {objective!r} needs k, the number of new sites.")
    min_cov = options["min_coverage"]
    if objective == "score" and min_cov is None:
        raise ChooseError("The score objective needs min_coverage (a share of demand, 0 to 1).")
    problem = Problem(
        objective=objective,
        n_sites=len(ranked),
        site=np.asarray(site, dtype=np.intp),
        demand=np.asarray(target, dtype=np.intp),
        cost=np.asarray(cost, dtype=float),
        weight=_weights(layer, options["weight"]),
        standard=standard,
        penalty=standard,
        k=None if k is None else int(k),
        fixed=fixed,
        forced=forced,
        allowed=eligible & ~out,
        xy=np.asarray(shapely.get_coordinates(points.values), dtype=float).reshape(-1, 2),
        names=list(ids),
        score=score,
        score_weight=lam,
        site_cost=site_cost,
        budget=budget,
        district=district,
        quota_min=low,
        quota_max=high,
        districts=names,
        min_spacing_m=options["min_spacing_m"],
        capacity=(
            _column(ranked, str(options["capacity"]), "capacity") if options["capacity"] else None
        ),
        min_coverage=None if min_cov is None else float(min_cov),
        demand_names=_demand_names(layer, study, str(options["demand"])),
    )
    check_problem(problem)
    return _Setup(problem, ids, points, layer, demand.geometry, metric, unit, options)


def _demand_names(layer: gpd.GeoDataFrame, study: Study | None, name: str) -> list[str]:
    column = study.name_columns.get(name) if study is not None else None
    if column in layer.columns:
        return [str(v) for v in layer[column]]
    return [str(i) for i in layer.index]


def _solve(setup: _Setup) -> Solution:
    p, options = setup.problem, setup.options
    solver = options["solver"]
    if solver not in ("auto", "exact", "heuristic"):
        raise ChooseError(f"solver = {solver!r}; use 'auto', 'exact' or 'heuristic'.")
    time_limit = options["time_limit_s"]
    small = len(p.site) <= AUTO_EXACT_PAIRS and p.n_sites <= AUTO_EXACT_SITES
    needs_exact = p.capacity is not None or p.objective == "score"
    if solver == "exact" or (solver == "auto" and (small or needs_exact)):
        return solve_exact(
            p,
            solver=str(options["milp"]),
            time_limit_s=None if time_limit is None else float(time_limit),
        )
    return solve_heuristic(p, time_limit_s=float(time_limit or 60.0))


# --------------------------------------------------------------------------------------
# What each site adds
# --------------------------------------------------------------------------------------


def build_out(problem: Problem, chosen: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """The chosen sites in greedy build-out order and what each adds.

    Existing sites come first, then the new ones, each time the one that brings the most
    demand newly within the standard (for the median: takes the most cost off).

    Parameters
    ----------
    problem : Problem
        The problem.
    chosen : numpy.ndarray of bool
        The portfolio.

    Returns
    -------
    pandas.DataFrame
        One row per chosen site (``position``, ``adds``, ``saves``), in order.
    """
    p = problem
    cov_site, cov_demand = p.covering()
    covered = np.zeros(p.n_demand, dtype=bool)
    best = np.full(p.n_demand, p.penalty if p.objective == "median" else np.inf)
    rows: list[tuple[int, float, float]] = []
    for group in (chosen & p.fixed, chosen & ~p.fixed):
        left = set(np.flatnonzero(group).tolist())
        while left:
            cand = np.array(sorted(left))
            in_c = np.isin(cov_site, cand)
            fresh = in_c & ~covered[cov_demand]
            adds = np.zeros(p.n_sites)
            np.add.at(adds, cov_site[fresh], p.weight[cov_demand[fresh]])
            saves = np.zeros(p.n_sites)
            if p.objective == "median":
                keep = np.isin(p.site, cand)
                cut = np.maximum(best[p.demand[keep]] - p.cost[keep], 0.0)
                np.add.at(saves, p.site[keep], p.weight[p.demand[keep]] * cut)
            key = saves if p.objective == "median" else adds
            pick = int(cand[np.argmax(key[cand])])
            rows.append((pick, float(adds[pick]), float(saves[pick])))
            covered[cov_demand[cov_site == pick]] = True
            mine = p.site == pick
            np.minimum.at(best, p.demand[mine], p.cost[mine])
            left.remove(pick)
    return pd.DataFrame(rows, columns=["position", "adds", "saves"])


def _service_areas(
    setup: _Setup, chosen_points: gpd.GeoSeries, demand: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Straight-line: a circle of the standard; network minutes: the isochrone; else the hull
    of the demand the site covers."""
    standard = setup.problem.standard
    crs = chosen_points.crs
    metric = setup.metric
    network = getattr(metric, "network", None)
    if isinstance(metric, StraightLine) and math.isfinite(standard):
        geoms = chosen_points.buffer(standard, quad_segs=32)
    elif network is not None and setup.unit == "min" and math.isfinite(standard):
        from geoplan.streets.isochrone import isochrones

        found = isochrones(network, chosen_points, minutes=(standard,))
        geoms = gpd.GeoSeries(found.geometry.to_numpy(), crs=found.crs).to_crs(crs)
    else:
        parts = []
        served = demand.to_crs(crs)
        for label, point in chosen_points.items():
            mine = served.geometry[(served["served_by"] == label) & served["covered"]]
            parts.append(shapely.concave_hull(shapely.union_all([point, *mine.values]), ratio=0.3))
        geoms = gpd.GeoSeries(parts, crs=crs)
    return gpd.GeoDataFrame(
        {"site": list(chosen_points.index)},
        geometry=geoms.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )


def _portfolio(setup: _Setup, ranked: gpd.GeoDataFrame, solution: Solution) -> Portfolio:
    p = setup.problem
    chosen = solution.chosen
    order = build_out(p, chosen)
    total = float(p.weight.sum()) or 1.0
    sites = ranked.iloc[order["position"].to_numpy()].copy()
    pos = order["position"].to_numpy()
    sites.insert(0, "order", np.arange(1, len(order) + 1))
    sites["role"] = np.where(p.fixed[pos], "existing", np.where(p.forced[pos], "forced", "chosen"))
    sites["adds"] = order["adds"].to_numpy()
    sites["adds_share"] = sites["adds"] / total
    sites["cumulative_share"] = sites["adds_share"].cumsum()
    if p.objective == "median":
        sites["saves"] = order["saves"].to_numpy()
    # each demand point's cheapest chosen site
    keep = chosen[p.site]
    s, d, c = p.site[keep], p.demand[keep], p.cost[keep]
    first = np.lexsort((s, c, d))
    s, d, c = s[first], d[first], c[first]
    lead = np.r_[True, d[1:] != d[:-1]] if len(d) else np.empty(0, dtype=bool)
    served_by = np.full(p.n_demand, -1, dtype=np.intp)
    cost = np.full(p.n_demand, np.nan)
    served_by[d[lead]] = s[lead]
    cost[d[lead]] = c[lead]
    serves = np.bincount(
        served_by[served_by >= 0], weights=p.weight[served_by >= 0], minlength=p.n_sites
    )
    sites["serves"] = serves[pos]
    sites = sites.reset_index(drop=True)
    demand = setup.demand.copy()
    demand["weight"] = p.weight
    demand["cost"] = cost
    demand["covered"] = np.nan_to_num(cost, nan=np.inf) <= p.standard
    labels = np.asarray(setup.ids, dtype=object)
    demand["served_by"] = (
        pd.Series(labels[np.maximum(served_by, 0)], dtype=object)
        .where(served_by >= 0, None)
        .to_numpy()
    )
    demand = demand.to_crs("EPSG:4326")
    points = setup.points.iloc[pos]
    areas = _service_areas(setup, points, demand)
    coverage = float(p.weight[demand["covered"].to_numpy()].sum()) / total
    result = Portfolio(
        sites=gpd.GeoDataFrame(sites, geometry=sites.geometry.name, crs=ranked.crs).to_crs(
            "EPSG:4326"
        ),
        demand=demand,
        areas=areas,
        objective=p.objective,
        value=solution.value,
        bound=solution.bound,
        gap=solution.gap,
        method=solution.method,
        status=solution.status,
        seconds=solution.seconds,
        coverage=coverage,
        unit=setup.unit,
        standard=p.standard,
    )
    result.sites.attrs["geoplan_choose"] = {
        "objective": p.objective,
        "value": solution.value,
        "bound": solution.bound,
        "gap": solution.gap,
        "method": solution.method,
        "coverage": coverage,
    }
    return result


def choose_sites(
    ranked: gpd.GeoDataFrame,
    study: Study | None = None,
    *,
    k: int | None = None,
    objective: str | None = None,
    demand: str | gpd.GeoDataFrame | None = None,
    metric: DistanceMetric | None = None,
    **options: Any,
) -> Portfolio:
    """Choose the best *set* of sites: coverage, commute, covering everything, or spread.

    Parameters
    ----------
    ranked : geopandas.GeoDataFrame
        Candidate sites, typically from :func:`geoplan.rank_sites` (its ``eligible`` and
        ``score`` columns are used when present).
    study : Study, optional
        The study: its ``[choose]`` table gives the defaults, its layers the demand and its
        ``[network]`` the travel costs.
    k : int
        Number of new sites (existing sites are kept and not counted).
    objective : {"coverage", "median", "cover_all", "dispersion", "score"}
        See :mod:`geoplan.choose.problem`.
    demand : str or geopandas.GeoDataFrame
        The study layer to serve (default ``"parks"``), or the demand points themselves.
    metric : DistanceMetric, optional
        Distance engine (default: the study's, from ``metric``/``mode``).
    **options
        Any key of ``[choose]`` (:data:`CHOOSE_DEFAULTS`): ``weight`` (demand column),
        ``max_m`` or ``max_minutes`` (the standard), ``metric`` and ``mode``, ``existing``,
        ``capacity``, ``budget_units`` or ``budget_ha``, ``quotas`` with
        ``district_column``, ``min_spacing_m``, ``force_in``, ``force_out``,
        ``score_weight``, ``min_coverage``, ``solver`` (auto, exact, heuristic), ``milp``
        (auto, highs, cbc), ``time_limit_s``.

    Returns
    -------
    Portfolio
        The chosen sites in build-out order, the demand they serve, service areas and the
        solve's value, bound and gap.

    Raises
    ------
    ChooseError
        For bad options and for constraints that leave no portfolio, naming the one to relax.
    """
    setup = _setup(
        ranked, study, metric, {"k": k, "objective": objective, "demand": demand, **options}
    )
    solution = _solve(setup)
    return _portfolio(setup, ranked, solution)


def tradeoff_curve(
    ranked: gpd.GeoDataFrame,
    study: Study | None = None,
    *,
    k_max: int = 10,
    k_min: int = 1,
    metric: DistanceMetric | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The objective for k = k_min..k_max new sites: how much each extra site buys.

    The demand pairs are measured once and every k solved as :func:`choose_sites` would.

    Parameters
    ----------
    ranked, study, metric, **options
        As for :func:`choose_sites` (``k`` is varied).
    k_max, k_min : int
        The range of k.

    Returns
    -------
    pandas.DataFrame
        One row per k: ``k``, ``value``, ``bound``, ``gap``, ``coverage`` (share of demand
        within the standard), ``mean_cost`` (demand-weighted, to the cheapest chosen site,
        among the demand within the cutoff), ``method``, ``seconds`` and ``sites`` (the new
        sites' ids, comma-separated).
    """
    if k_min < 1 or k_max < k_min:
        raise ChooseError(f"k from {k_min!r} to {k_max!r}: give 1 <= k_min <= k_max.")
    options = {key: value for key, value in options.items() if key != "k"}
    setup = _setup(ranked, study, metric, {"k": k_min, **options})
    rows = []
    for k in range(k_min, k_max + 1):
        problem = replace(setup.problem, k=k)
        check_problem(problem)
        solution = _solve(replace(setup, problem=problem))
        best = problem.best_costs(solution.chosen)
        reach = np.isfinite(best)
        w = problem.weight
        rows.append(
            {
                "k": k,
                "value": solution.value,
                "bound": solution.bound,
                "gap": solution.gap,
                "coverage": float(w[best <= problem.standard].sum()) / (float(w.sum()) or 1.0),
                "mean_cost": float((w[reach] * best[reach]).sum() / (w[reach].sum() or 1.0)),
                "method": solution.method,
                "seconds": solution.seconds,
                "sites": ",".join(
                    str(setup.ids[i]) for i in np.flatnonzero(solution.chosen & ~problem.fixed)
                ),
            }
        )
    curve = pd.DataFrame(rows)
    curve.attrs["geoplan_choose"] = {
        "objective": setup.problem.objective,
        "unit": setup.unit,
        "standard": setup.problem.standard,
    }
    return curve


def plot_tradeoff(curve: pd.DataFrame, *, column: str = "coverage", ax: Any = None) -> Any:
    """Draw a trade-off curve: k against coverage (or ``value`` or ``mean_cost``).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`tradeoff_curve`.
    column : str
        What to plot against k.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if column not in curve.columns:
        raise ChooseError(
            f"column = {column!r} is not in the curve; use one of {list(curve.columns)!r}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    values = curve[column] * (100 if column == "coverage" else 1)
    ax.plot(curve["k"], values, marker="o")
    if column == "value" and "bound" in curve.columns and (curve["gap"] > 0).any():
        ax.plot(curve["k"], curve["bound"], linestyle="--", label="bound")
        ax.legend()
    meta = curve.attrs.get("geoplan_choose", {})
    labels = {
        "coverage": f"demand within {meta.get('standard', '')} {meta.get('unit', '')} (%)",
        "mean_cost": f"mean cost ({meta.get('unit', '')})",
        "value": f"objective ({meta.get('objective', '')})",
    }
    ax.set_xlabel("new sites (k)")
    ax.set_ylabel(labels.get(column, column))
    ax.set_xticks(list(curve["k"]))
    ax.grid(True, alpha=0.3)
    return ax

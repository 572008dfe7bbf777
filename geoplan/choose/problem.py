"""Portfolio problems as arrays: the models, their checks and the value of a chosen set.

Notation: sites ``i`` (the candidates, existing sites among them), demand points ``j`` with
weights ``w_j`` (jobs, workers, or 1 each), and the *pairs* ``(i, j)`` whose travel cost
``c_ij`` is at most the cutoff (everything else is "out of reach"). ``S`` is the portfolio:
the existing sites ``E`` (kept as built), the sites forced in, and the new sites chosen;
``x_i = 1`` when site ``i`` is in ``S``. ``k`` counts the *new* sites (forced ones
included, existing ones not).

Objectives
----------
``coverage`` (maximal covering, MCLP; Church & ReVelle 1974)
    maximise the demand covered, ``sum_j w_j [min_{i in S} c_ij <= standard]``.
``median`` (p-median; Hakimi 1964, ReVelle & Swain 1970)
    minimise the demand-weighted cost ``sum_j w_j min(P, min_{i in S} c_ij)``: a demand
    point farther than the cutoff from every chosen site costs the penalty ``P`` (default
    the cutoff itself: commutes capped at the cutoff).  When every pair lies within the
    cutoff this is the classical p-median.
``cover_all`` (location set covering, LSCP; Toregas et al. 1971)
    the fewest new sites such that every demand point has a site within the standard.
``dispersion`` (p-dispersion; Kuby 1987)
    maximise the smallest straight-line distance between two sites of ``S``.
``score``
    maximise the total study score of the new sites, ``sum_{i new} s_i``, subject to
    covering at least ``min_coverage`` of the demand.

``score_weight`` (``lam``, 0 to 1) blends ``coverage`` or ``median`` with the score:
maximise ``(1 - lam) * covered / W + lam * sum_{i new} s_i / k`` (coverage) or
``(1 - lam) * (1 - cost / (P * W)) + lam * sum_{i new} s_i / k`` (median), both in [0, 1].

Constraints (all objectives)
----------------------------
``S`` contains ``E`` and the forced sites; new sites come from the allowed ones (eligible,
not forced out); ``|S \\ E| = k``; ``sum_{i new} cost_i <= budget`` (units or hectares);
for every district ``d`` with a quota, ``min_d <= |S_new in d| <= max_d``; no two sites of
``S`` closer than ``min_spacing_m`` (straight-line; two existing sites may be); with
capacities (``coverage``, ``median``) each site serves at most ``capacity_i`` of demand,
in the demand's unit (e.g. workers, one per apartment).

Facility-location form
----------------------
``coverage`` and ``median`` (and their blends) are one problem for the heuristic and its
bound: minimise ``F(S) = sum_j v_j min(Q, min_{i in S} e_ij) - sum_{i new} b_i`` with
``e_ij = 0, Q = 1`` for coverage (the uncovered demand) and ``e_ij = c_ij, Q = P`` for the
median (see :meth:`Problem.form`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial import cKDTree

from geoplan._errors import ChooseError, plain

__all__ = ["OBJECTIVES", "FacilityForm", "Problem", "check_problem", "problem_from_matrix"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: Objectives and what they do, for messages.
OBJECTIVES: Final = {
    "coverage": "maximise the demand within the standard (MCLP)",
    "median": "minimise the demand-weighted travel cost (p-median)",
    "cover_all": "fewest new sites covering every demand point (LSCP)",
    "dispersion": "maximise the smallest distance between sites (p-dispersion)",
    "score": "maximise the total score subject to a minimum coverage",
}
#: Objectives that are maximised (the others are minimised).
MAXIMISED: Final = frozenset({"coverage", "dispersion", "score"})


@dataclass(frozen=True)
class FacilityForm:
    """``minimise sum_j v_j min(Q, min_{i in S} e_ij) - sum_{i new} b_i`` (see the module)."""

    site: IntArray
    demand: IntArray
    e: FloatArray
    v: FloatArray
    q: float
    b: FloatArray

    def matrix(self, n_sites: int) -> sparse.csr_matrix:
        """``e`` as a site x demand CSR matrix (pairs only)."""
        return sparse.csr_matrix((self.e, (self.site, self.demand)), shape=(n_sites, len(self.v)))


@dataclass(frozen=True)
class Problem:
    """A portfolio problem on arrays (positions of sites and demand points).

    Attributes
    ----------
    objective : str
        One of :data:`OBJECTIVES`.
    site, demand, cost : numpy.ndarray
        The (site, demand point) pairs within the cutoff and their costs.
    weight : numpy.ndarray
        Weight of every demand point (``>= 0``).
    standard : float
        A demand point is covered by a site at most this far (coverage objectives).
    penalty : float
        Cost of a demand point beyond the cutoff of every chosen site (median).
    k : int or None
        New sites to choose (None for ``cover_all``).
    fixed, forced, allowed : numpy.ndarray of bool
        Existing sites (in, not counted in ``k``), sites forced in (counted), and sites
        that may be chosen.
    score : numpy.ndarray
        The sites' study scores (blends and the ``score`` objective).
    score_weight : float
        Weight of the score in a blend (0: the objective alone).
    site_cost, budget : numpy.ndarray and float, optional
        Each site's cost (units or hectares) and the budget for the new sites.
    district, quota_min, quota_max, districts : optional
        District code of each site (-1: none), bounds per code, and the names.
    min_spacing_m : float, optional
        Smallest straight-line distance between two sites of the portfolio.
    xy : numpy.ndarray
        Site coordinates in metres (spacing and dispersion).
    capacity : numpy.ndarray, optional
        Demand each site can serve (exact solvers only).
    min_coverage : float, optional
        Share of the demand to cover (``score`` objective).
    names : sequence of str
        Site labels for messages.
    """

    objective: str
    n_sites: int
    site: IntArray
    demand: IntArray
    cost: FloatArray
    weight: FloatArray
    standard: float
    penalty: float
    k: int | None
    fixed: BoolArray
    forced: BoolArray
    allowed: BoolArray
    xy: FloatArray
    names: Sequence[str]
    score: FloatArray | None = None
    score_weight: float = 0.0
    site_cost: FloatArray | None = None
    budget: float | None = None
    district: IntArray | None = None
    quota_min: IntArray | None = None
    quota_max: IntArray | None = None
    districts: Sequence[str] = ()
    min_spacing_m: float | None = None
    capacity: FloatArray | None = None
    min_coverage: float | None = None
    demand_names: Sequence[str] = field(default_factory=tuple)

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return len(self.weight)

    @property
    def maximise(self) -> bool:
        """Whether the objective's value is maximised."""
        return self.objective in MAXIMISED or (self.objective == "median" and self.score_weight > 0)

    @property
    def candidates(self) -> BoolArray:
        """Sites the solver may still decide on (allowed, not fixed, not forced)."""
        return self.allowed & ~self.fixed & ~self.forced

    @property
    def base(self) -> BoolArray:
        """Sites in every portfolio: the existing and the forced ones."""
        return self.fixed | self.forced

    def covering(self) -> tuple[IntArray, IntArray]:
        """The pairs within the standard: ``(site, demand)``."""
        keep = self.cost <= self.standard
        return self.site[keep], self.demand[keep]

    def conflicts(self) -> IntArray:
        """Pairs ``(i, l)``, ``i < l``, closer than the minimum spacing (not both existing)."""
        if self.min_spacing_m is None or self.min_spacing_m <= 0:
            return np.empty((0, 2), dtype=np.intp)
        found = cKDTree(self.xy).query_pairs(
            np.nextafter(self.min_spacing_m, 0), output_type="ndarray"
        )
        found = np.asarray(found, dtype=np.intp).reshape(-1, 2)
        return found[~(self.fixed[found[:, 0]] & self.fixed[found[:, 1]])]

    def form(self) -> FacilityForm:
        """The facility-location form of ``coverage`` and ``median`` (see the module)."""
        lam = self.score_weight
        k = max(int(self.k or 1), 1)
        total = float(self.weight.sum()) or 1.0
        bonus = (
            lam * np.asarray(self.score, dtype=float) / k
            if lam > 0 and self.score is not None
            else np.zeros(self.n_sites)
        )
        if self.objective == "coverage":
            site, demand = self.covering()
            v = self.weight * ((1 - lam) / total if lam > 0 else 1.0)
            return FacilityForm(site, demand, np.zeros(len(site)), v, 1.0, bonus)
        if self.objective == "median":
            keep = self.cost < self.penalty
            v = self.weight * ((1 - lam) / (self.penalty * total) if lam > 0 else 1.0)
            return FacilityForm(
                self.site[keep], self.demand[keep], self.cost[keep], v, self.penalty, bonus
            )
        raise ChooseError(f"objective {self.objective!r} has no facility-location form.")

    def value(self, chosen: BoolArray) -> float:
        """The objective's value of a portfolio (a boolean mask of all sites).

        Coverage: the demand covered; median: the weighted cost; cover_all: the number
        of new sites; dispersion: the smallest distance between two sites (metres; ``inf``
        with fewer than two); score: the total score of the new sites.  With a
        ``score_weight``, the blend in [0, 1] (higher is better).
        """
        chosen = np.asarray(chosen, dtype=bool)
        new = chosen & ~self.fixed
        if self.objective == "cover_all":
            return float(new.sum())
        if self.objective == "score":
            return float(np.asarray(self.score)[new].sum())
        if self.objective == "dispersion":
            xy = self.xy[chosen]
            if len(xy) < 2:
                return float("inf")
            gaps = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
            both_fixed = self.fixed[chosen][:, None] & self.fixed[chosen][None, :]
            gaps[np.eye(len(xy), dtype=bool) | both_fixed] = np.inf
            return float(gaps.min())
        best = self.best_costs(chosen)
        lam = self.score_weight
        if self.objective == "coverage":
            covered = float(self.weight[best <= self.standard].sum())
            if lam == 0:
                return covered
            share = covered / (float(self.weight.sum()) or 1.0)
        else:
            total_cost = float((self.weight * np.minimum(best, self.penalty)).sum())
            if lam == 0:
                return total_cost
            share = 1 - total_cost / (self.penalty * (float(self.weight.sum()) or 1.0))
        k = max(int(self.k or 1), 1)
        return (1 - lam) * share + lam * float(np.asarray(self.score)[new].sum()) / k

    def best_costs(self, chosen: BoolArray) -> FloatArray:
        """Each demand point's cheapest cost from the chosen sites (``inf`` out of reach)."""
        best = np.full(self.n_demand, np.inf)
        keep = np.asarray(chosen, dtype=bool)[self.site]
        np.minimum.at(best, self.demand[keep], self.cost[keep])
        return best

    def covered(self, chosen: BoolArray) -> BoolArray:
        """Whether each demand point has a chosen site within the standard."""
        return self.best_costs(chosen) <= self.standard

    def feasible(self, chosen: BoolArray) -> bool:
        """Whether a portfolio meets every constraint (capacities and coverage aside)."""
        chosen = np.asarray(chosen, dtype=bool)
        new = chosen & ~self.fixed
        if not np.all(chosen[self.base]) or np.any(new & ~self.allowed & ~self.forced):
            return False
        if self.k is not None and int(new.sum()) != self.k:
            return False
        over = self.budget is not None and self.site_cost is not None
        if over and float(self.site_cost[new].sum()) > self.budget * (1 + 1e-9):  # type: ignore[index, operator]
            return False
        if self.district is not None and self.quota_min is not None:
            counts = np.bincount(
                self.district[new & (self.district >= 0)], minlength=len(self.quota_min)
            )
            assert self.quota_max is not None
            if np.any(counts < self.quota_min) or np.any(counts > self.quota_max):
                return False
        conflicts = self.conflicts()
        if len(conflicts) and np.any(chosen[conflicts[:, 0]] & chosen[conflicts[:, 1]]):
            return False
        return not (self.objective == "cover_all" and not np.all(self.covered(chosen)))


def _names(names: Sequence[str], mask: BoolArray, limit: int = 5) -> list[str]:
    found = [str(names[int(i)]) for i in np.flatnonzero(mask)]
    return found[:limit] + ([f"... ({len(found) - limit} more)"] if len(found) > limit else [])


def check_problem(problem: Problem) -> None:
    """Refuse a problem that cannot have a solution, naming the constraint to relax.

    Parameters
    ----------
    problem : Problem
        The problem to check.

    Raises
    ------
    ChooseError
        ``k`` larger than the sites that may be chosen, forced sites that are not allowed
        or exceed ``k`` or the budget, a budget below the cheapest ``k`` sites, quotas that
        contradict each other, ``k`` or the sites available, demand no site can cover
        (``cover_all``), or a ``min_coverage`` above what all sites reach.
    """
    p = problem
    if p.objective not in OBJECTIVES:
        raise ChooseError(f"Unknown objective {p.objective!r}; use one of {sorted(OBJECTIVES)!r}.")
    bad_forced = p.forced & ~p.allowed & ~p.fixed
    if bad_forced.any():
        raise ChooseError(
            f"Sites forced in are not eligible: {_names(p.names, bad_forced)!r}; drop them "
            "from force_in, or relax the study constraint that excludes them."
        )
    n_forced = int((p.forced & ~p.fixed).sum())
    available = int((p.candidates).sum()) + n_forced
    if p.k is not None:
        if isinstance(p.k, bool) or p.k < 1:
            raise ChooseError(f"k = {plain(p.k)!r} must be a whole number of new sites >= 1.")
        if p.k > available:
            raise ChooseError(
                f"k = {plain(p.k)!r} but only {available} sites may be chosen (eligible, not "
                "existing, not forced out); lower k to at most "
                f"{available}, or relax force_out or the study constraints."
            )
        if n_forced > p.k:
            raise ChooseError(
                f"{n_forced} sites are forced in but k = {plain(p.k)!r}; raise k to at least "
                f"{n_forced} or force fewer sites in."
            )
    _check_budget(p, n_forced)
    _check_quotas(p, n_forced)
    if p.objective == "cover_all":
        reach = np.zeros(p.n_demand, dtype=bool)
        site, demand = p.covering()
        reach[demand[(p.allowed | p.fixed | p.forced)[site]]] = True
        if not reach.all():
            names = p.demand_names or [str(j) for j in range(p.n_demand)]
            raise ChooseError(
                f"No site that may be chosen covers demand point(s) {_names(names, ~reach)!r} "
                f"within the standard ({plain(p.standard)!r}); raise the standard, make sites "
                "near them eligible, or leave those points out of the demand."
            )
    if p.objective == "score" and p.min_coverage is not None:
        whole = p.allowed | p.fixed | p.forced
        share = float(p.weight[p.covered(whole)].sum()) / (float(p.weight.sum()) or 1.0)
        if share + 1e-12 < p.min_coverage:
            raise ChooseError(
                f"min_coverage = {plain(p.min_coverage)!r} but all eligible sites together "
                f"cover only {share:.3f} of the demand; lower min_coverage or raise the standard."
            )


def _check_budget(p: Problem, n_forced: int) -> None:
    if p.budget is None or p.site_cost is None:
        return
    forced_cost = float(p.site_cost[p.forced & ~p.fixed].sum())
    if forced_cost > p.budget:
        raise ChooseError(
            f"The sites forced in cost {forced_cost:g} but the budget is {plain(p.budget)!r}; "
            f"raise the budget to at least {forced_cost:g} or force fewer sites in."
        )
    if p.k is None:
        return
    rest = np.sort(p.site_cost[p.candidates])[: p.k - n_forced]
    cheapest = forced_cost + float(rest.sum())
    if cheapest > p.budget * (1 + 1e-9):
        raise ChooseError(
            f"budget = {plain(p.budget)!r} is below the cheapest possible portfolio of k = "
            f"{p.k} new sites ({cheapest:g}); raise the budget to at least {cheapest:g} or "
            "lower k."
        )


def _check_quotas(p: Problem, n_forced: int) -> None:
    if p.district is None or p.quota_min is None or p.quota_max is None:
        return
    names = list(p.districts)
    for d, (low, high) in enumerate(zip(p.quota_min, p.quota_max, strict=True)):
        in_d = p.district == d
        forced_d = int((p.forced & ~p.fixed & in_d).sum())
        open_d = int((p.candidates & in_d).sum()) + forced_d
        if low > high:
            raise ChooseError(
                f"The quota of district {names[d]!r} contradicts itself: min {int(low)} > max "
                f"{int(high)}; relax one of them."
            )
        if low > open_d:
            raise ChooseError(
                f"District {names[d]!r} needs at least {int(low)} new sites but only {open_d} "
                "may be chosen there; lower its min quota or make more of its sites eligible."
            )
        if forced_d > high:
            raise ChooseError(
                f"{forced_d} sites forced in lie in district {names[d]!r}, above its max quota "
                f"{int(high)}; raise that quota or force fewer sites in."
            )
    if p.k is None:
        return
    need = int(np.sum(p.quota_min))
    if need > p.k:
        raise ChooseError(
            f"The district min quotas add up to {need} new sites but k = {p.k}; raise k to at "
            f"least {need} or lower the min quotas."
        )
    free = p.candidates | (p.forced & ~p.fixed)
    room = int((free & (p.district < 0)).sum()) + sum(
        min(int(high), int((free & (p.district == d)).sum())) for d, high in enumerate(p.quota_max)
    )
    if room < p.k:
        raise ChooseError(
            f"The district max quotas leave room for only {room} new sites but k = {p.k}; "
            f"lower k to at most {room} or raise the max quotas."
        )


def problem_from_matrix(
    cost: npt.ArrayLike,
    *,
    objective: str,
    k: int | None,
    weight: npt.ArrayLike | None = None,
    standard: float = np.inf,
    cutoff: float = np.inf,
    penalty: float | None = None,
    xy: npt.ArrayLike | None = None,
    **options: object,
) -> Problem:
    """A problem from a dense demand x site cost matrix (spopt's orientation).

    Parameters
    ----------
    cost : array_like
        ``cost[j, i]``: cost from site ``i`` to demand point ``j``.
    objective : str
        See :data:`OBJECTIVES`.
    k : int or None
        New sites to choose.
    weight : array_like, optional
        Demand weights (default 1 each).
    standard, cutoff, penalty : float
        Coverage standard; pairs beyond ``cutoff`` are out of reach; the median's penalty
        (default the cutoff, or the largest cost when the cutoff is infinite).
    xy : array_like, optional
        Site coordinates in metres (default all at the origin).
    **options
        Further :class:`Problem` fields (``fixed``, ``forced``, ``allowed`` as boolean
        arrays, ``budget`` ...).

    Returns
    -------
    Problem
    """
    matrix = np.asarray(cost, dtype=float)
    n_demand, n_sites = matrix.shape
    demand, site = np.nonzero(matrix <= cutoff)
    w = np.ones(n_demand) if weight is None else np.asarray(weight, dtype=float)
    if penalty is None:
        penalty = (
            float(cutoff) if np.isfinite(cutoff) else float(np.nanmax(matrix)) * (1 + 1e-9) + 1e-9
        )
    none = np.zeros(n_sites, dtype=bool)
    fields: dict[str, object] = {
        "fixed": none,
        "forced": none,
        "allowed": ~none,
        "names": [str(i) for i in range(n_sites)],
        **options,
    }
    return Problem(
        objective=objective,
        n_sites=n_sites,
        site=site.astype(np.intp),
        demand=demand.astype(np.intp),
        cost=matrix[demand, site],
        weight=w,
        standard=float(standard),
        penalty=float(penalty),
        k=k,
        xy=np.zeros((n_sites, 2)) if xy is None else np.asarray(xy, dtype=float),
        **fields,  # type: ignore[arg-type]
    )

"""Heuristics for large portfolios, each with a bound: the optimality gap is always known.

``coverage`` and ``median`` (and their blends with the score) share the facility-location
form of :mod:`geoplan.choose.problem`: minimise
``F(S) = sum_j v_j min(Q, min_{i in S} e_ij) - sum_{i new} b_i``.

* **Greedy** (Nemhauser, Wolsey & Fisher 1978; within ``1 - 1/e`` of the optimum for
  coverage and the capped median without side constraints): add the site that lowers
  ``F`` the most, one at a time.  Gains are kept in an array and updated only for the sites
  that share a demand point with the site just added (the "lazy" part: one pass over the
  affected pairs, never over sites x demand).
* **Swap** (interchange; Teitz & Bart 1968, vectorised as in Resende & Werneck 2007): the
  change of ``F`` for every (site in, site out) pair at once, from each demand point's
  best and second-best chosen cost; the best improving swap is made until none improves.
* **Lagrangian bound** (Cornuejols, Fisher & Nemhauser 1977): relaxing each demand
  point's assignment with a multiplier ``l_j`` leaves
  ``L(l) = sum_j l_j + sum_j min(0, v_j Q - l_j) + sum_{i in S(l)} rho_i`` with
  ``rho_i = sum_j min(0, v_j e_ij - l_j) - b_i`` over the pairs and ``S(l)`` the base
  sites plus the ``k`` open ones of smallest ``rho``.  Every ``L(l)`` is a lower bound on
  ``F`` (budget, quotas and spacing are left out of the subproblem, which only lowers
  it); subgradient steps (Held, Wolfe & Crowder 1974) raise it, starting from ``l_j`` =
  the heuristic's own cost of ``j`` (where ``L`` is the classical "greedy plus the k best
  gains" bound of Minoux 1978).

``dispersion``: greedy farthest-point insertion and swaps, bounded by counting: each of the
``m`` sites of an optimal portfolio has ``m - 1`` others at least ``D*`` away, so ``D*`` is
at most the ``m``-th largest "(m-1)-th largest distance to another site".

``cover_all``: greedy set covering (Chvatal 1979) with redundant sites removed afterwards,
bounded below by the rounded-up linear-programming relaxation (scipy's HiGHS).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from geoplan._errors import ChooseError
from geoplan.choose.problem import FacilityForm, Problem

__all__ = ["Solution", "solve_heuristic"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_TOL = 1e-9


@dataclass(frozen=True)
class Solution:
    """A portfolio found by a solver.

    Attributes
    ----------
    chosen : numpy.ndarray of bool
        The portfolio (existing sites included).
    value : float
        The objective's value (see :meth:`Problem.value`).
    bound : float
        A bound on the optimum: above it for maximised objectives, below for minimised.
    gap : float
        ``|bound - value| / |bound|`` (0 when proven optimal).
    method : str
        How it was found ("exact: spopt MCLP, HiGHS", "heuristic: greedy + swap" ...).
    seconds : float
        Wall time of the solve.
    status : str
        ``"optimal"``, ``"time limit"`` or ``"heuristic"``.
    """

    chosen: BoolArray
    value: float
    bound: float
    gap: float
    method: str
    seconds: float
    status: str


def relative_gap(value: float, bound: float) -> float:
    """``|bound - value| / |bound|`` (0 when both are 0; inf when only the bound is)."""
    if not (math.isfinite(value) and math.isfinite(bound)):
        return 0.0 if value == bound else float("inf")
    if abs(bound - value) <= 1e-9 * max(1.0, abs(bound)):
        return 0.0
    return abs(bound - value) / abs(bound) if bound != 0 else float("inf")


class _Rules:
    """Which sites may still be added without breaking k, budget, quotas or spacing."""

    def __init__(self, problem: Problem, chosen: BoolArray, k: int | None) -> None:
        p = problem
        self.p = p
        self.chosen = chosen.copy()
        self.k = k
        self.open = p.candidates & ~chosen
        self.conflicts = p.conflicts()
        self.neighbours = sparse.csr_matrix(
            (
                np.ones(2 * len(self.conflicts)),
                (
                    np.r_[self.conflicts[:, 0], self.conflicts[:, 1]],
                    np.r_[self.conflicts[:, 1], self.conflicts[:, 0]],
                ),
            ),
            shape=(p.n_sites, p.n_sites),
        )
        for i in np.flatnonzero(chosen):
            self._block(int(i))
        new = chosen & ~p.fixed
        self.n_new = int(new.sum())
        self.spent = float(p.site_cost[new].sum()) if p.site_cost is not None else 0.0
        self.counts = (
            np.bincount(p.district[new & (p.district >= 0)], minlength=len(p.quota_min))
            if p.district is not None and p.quota_min is not None
            else None
        )

    def _block(self, i: int) -> None:
        row = self.neighbours.indices[self.neighbours.indptr[i] : self.neighbours.indptr[i + 1]]
        self.open[row] = False

    def slots(self) -> int | None:
        return None if self.k is None else self.k - self.n_new

    def mask(self) -> BoolArray:
        """Sites that may be added next."""
        p = self.p
        ok = self.open.copy()
        slots = self.slots()
        if self.counts is not None and p.quota_max is not None and p.quota_min is not None:
            assert p.district is not None
            full = self.counts >= p.quota_max
            ok &= ~((p.district >= 0) & full[np.maximum(p.district, 0)])
            unmet = np.maximum(p.quota_min - self.counts, 0)
            if slots is not None and unmet.sum() >= slots:
                need = unmet > 0
                ok &= (p.district >= 0) & need[np.maximum(p.district, 0)]
        if p.budget is not None and p.site_cost is not None:
            left = p.budget - self.spent
            rest = 0.0
            m = (slots or 1) - 1
            if m > 0:
                costs = np.sort(p.site_cost[ok])
                small = costs[:m]
                rest_m = float(small.sum())
                rest_m1 = float(costs[: m + 1].sum())
                among = p.site_cost <= (small[-1] if len(small) else -np.inf)
                rest_arr = np.where(among, rest_m1 - p.site_cost, rest_m)
                ok &= p.site_cost + rest_arr <= left * (1 + 1e-9) + _TOL
            else:
                ok &= p.site_cost + rest <= left * (1 + 1e-9) + _TOL
        return ok

    def add(self, i: int) -> None:
        p = self.p
        self.chosen[i] = True
        self.open[i] = False
        self._block(i)
        self.n_new += 1
        if p.site_cost is not None:
            self.spent += float(p.site_cost[i])
        if self.counts is not None and p.district is not None and p.district[i] >= 0:
            self.counts[p.district[i]] += 1


def _stuck(problem: Problem, added: int) -> ChooseError:
    what = []
    if problem.min_spacing_m:
        what.append(f"min_spacing_m = {problem.min_spacing_m:g}")
    if problem.budget is not None:
        what.append(f"budget = {problem.budget:g}")
    if problem.quota_min is not None:
        what.append("the district quotas")
    listed = " or ".join(what) or "force_out or the study constraints"
    return ChooseError(
        f"No portfolio of k = {problem.k} new sites meets the constraints together (the "
        f"heuristic could place {added}); relax {listed}, or lower k."
    )


# --------------------------------------------------------------------------------------
# coverage and median: greedy, swap, Lagrangian bound
# --------------------------------------------------------------------------------------


def _costs_of(form: FacilityForm, chosen: BoolArray, n_demand: int) -> FloatArray:
    d = np.full(n_demand, form.q)
    keep = chosen[form.site]
    np.minimum.at(d, form.demand[keep], form.e[keep])
    return d


def _f(form: FacilityForm, chosen: BoolArray, fixed: BoolArray) -> float:
    d = _costs_of(form, chosen, len(form.v))
    return float((form.v * d).sum() - form.b[chosen & ~fixed].sum())


def greedy(problem: Problem, form: FacilityForm) -> tuple[BoolArray, list[int], list[float]]:
    """Greedy build-out from the base sites: the sites in order and what each lowered ``F``."""
    p = problem
    rows = form.matrix(p.n_sites)
    cols = rows.tocsc()
    chosen = p.base.copy()
    d = _costs_of(form, chosen, p.n_demand)
    saving = form.v[form.demand] * np.maximum(d[form.demand] - form.e, 0.0)
    gain = np.bincount(form.site, weights=saving, minlength=p.n_sites) + form.b
    rules = _Rules(p, chosen, p.k)
    order: list[int] = []
    gains: list[float] = []
    while (rules.slots() or 0) > 0:
        ok = rules.mask()
        if not ok.any():
            raise _stuck(p, len(order))
        best = int(np.argmax(np.where(ok, gain, -np.inf)))
        order.append(best)
        gains.append(float(gain[best]))
        rules.add(best)
        lo, hi = rows.indptr[best], rows.indptr[best + 1]
        js, es = rows.indices[lo:hi], rows.data[lo:hi]
        better = es < d[js]
        js, new_d = js[better], es[better]
        if len(js):
            sub = cols[:, js].tocoo()
            j_local = sub.col
            old = d[js][j_local]
            new = new_d[j_local]
            e = sub.data
            v = form.v[js][j_local]
            drop = v * (np.maximum(old - e, 0.0) - np.maximum(new - e, 0.0))
            gain -= np.bincount(sub.row, weights=drop, minlength=p.n_sites)
            d[js] = new_d
    return rules.chosen, order, gains


def _best_two(
    form: FacilityForm, chosen: BoolArray, n_demand: int
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Each demand point's best cost, its site (-1: none) and its second-best cost."""
    keep = chosen[form.site]
    site, demand, e = form.site[keep], form.demand[keep], form.e[keep]
    order = np.lexsort((site, e, demand))
    site, demand, e = site[order], demand[order], e[order]
    first = np.r_[True, demand[1:] != demand[:-1]] if len(demand) else np.empty(0, bool)
    d1 = np.full(n_demand, form.q)
    r1 = np.full(n_demand, -1, dtype=np.intp)
    d2 = np.full(n_demand, form.q)
    d1[demand[first]] = e[first]
    r1[demand[first]] = site[first]
    second = np.r_[False, first[:-1]] & ~first if len(demand) else np.empty(0, bool)
    d2[demand[second]] = e[second]
    return d1, r1, np.minimum(d2, form.q)


def swap(
    problem: Problem, form: FacilityForm, chosen: BoolArray, *, deadline: float
) -> tuple[BoolArray, int]:
    """Best-improvement interchange until no swap lowers ``F`` (or the deadline)."""
    p = problem
    chosen = chosen.copy()
    conflicts = p.conflicts()
    neighbours = sparse.csr_matrix(
        (
            np.ones(2 * len(conflicts)),
            (np.r_[conflicts[:, 0], conflicts[:, 1]], np.r_[conflicts[:, 1], conflicts[:, 0]]),
        ),
        shape=(p.n_sites, p.n_sites),
    )
    swaps = 0
    while time.perf_counter() < deadline:
        removable = np.flatnonzero(chosen & ~p.base)
        if not len(removable):
            break
        d1, r1, d2 = _best_two(form, chosen, p.n_demand)
        pos = np.full(p.n_sites, -1, dtype=np.intp)
        pos[removable] = np.arange(len(removable))
        # adding a: sum_j v_j (min(d1, e_aj) - d1) - b_a
        add = (
            -np.bincount(
                form.site,
                weights=form.v[form.demand] * np.maximum(d1[form.demand] - form.e, 0.0),
                minlength=p.n_sites,
            )
            - form.b
        )
        # removing r: the demand it serves best falls back to its second-best cost
        served = (r1 >= 0) & (pos[np.maximum(r1, 0)] >= 0)
        loss = (
            np.bincount(
                pos[r1[served]],
                weights=form.v[served] * (d2[served] - d1[served]),
                minlength=len(removable),
            )
            + form.b[removable]
        )
        # pairs (a, j) whose best site r is the one removed: correction of both terms
        j = form.demand
        hit = served[j]
        a, jj, e = form.site[hit], j[hit], form.e[hit]
        corr = form.v[jj] * (
            np.minimum(d2[jj], e) - d1[jj] + np.maximum(d1[jj] - e, 0.0) - (d2[jj] - d1[jj])
        )
        delta = add[:, None] + loss[None, :]
        np.add.at(delta, (a, pos[r1[jj]]), corr)
        ok = p.candidates & ~chosen
        delta[~ok] = np.inf
        delta = _swap_feasibility(p, chosen, removable, delta, neighbours)
        flat = int(np.argmin(delta))
        a_best, r_pos = divmod(flat, len(removable))
        if not delta[a_best, r_pos] < -1e-9 * max(1.0, abs(_f(form, chosen, p.fixed))):
            break
        chosen[removable[r_pos]] = False
        chosen[a_best] = True
        swaps += 1
    return chosen, swaps


def _swap_feasibility(
    p: Problem,
    chosen: BoolArray,
    removable: IntArray,
    delta: FloatArray,
    neighbours: sparse.csr_matrix,
) -> FloatArray:
    """Mask swaps (a in, r out) that break the budget, a quota or the spacing."""
    if p.budget is not None and p.site_cost is not None:
        spent = float(p.site_cost[chosen & ~p.fixed].sum())
        after = spent - p.site_cost[removable][None, :] + p.site_cost[:, None]
        delta[after > p.budget * (1 + 1e-9) + _TOL] = np.inf
    if p.district is not None and p.quota_min is not None and p.quota_max is not None:
        new = chosen & ~p.fixed
        counts = np.bincount(p.district[new & (p.district >= 0)], minlength=len(p.quota_min))
        d_in = p.district[:, None]
        d_out = p.district[removable][None, :]
        same = d_in == d_out
        full_in = (d_in >= 0) & (counts[np.maximum(d_in, 0)] >= p.quota_max[np.maximum(d_in, 0)])
        low_out = (d_out >= 0) & (counts[np.maximum(d_out, 0)] <= p.quota_min[np.maximum(d_out, 0)])
        delta[~same & (full_in | low_out)] = np.inf
    if neighbours.nnz:
        clash = np.asarray(neighbours @ chosen.astype(float)).ravel()
        own = np.asarray(neighbours[:, removable].todense())  # a conflicts with r
        delta[(clash[:, None] - own) > 0.5] = np.inf
    return delta


def lagrangian_bound(
    problem: Problem, form: FacilityForm, chosen: BoolArray, *, iterations: int, deadline: float
) -> float:
    """A lower bound on ``min F`` by subgradient optimisation (see the module)."""
    p = problem
    v, q = form.v, form.q
    k_open = (p.k or 0) - int((p.forced & ~p.fixed).sum())
    base = p.base
    open_sites = p.candidates
    lam = v * _costs_of(form, chosen, p.n_demand)  # the greedy-plus-gains bound
    upper = _f(form, chosen, p.fixed)
    vq = v * q
    ve = v[form.demand] * form.e
    b_new = np.where(p.fixed, 0.0, form.b)  # existing sites earn no bonus
    best = -np.inf
    theta, stall = 2.0, 0
    cand = np.flatnonzero(open_sites)
    for _ in range(iterations):
        red = np.minimum(0.0, ve - lam[form.demand])
        rho = np.bincount(form.site, weights=red, minlength=p.n_sites) - b_new
        pick = base.copy()
        if k_open > 0:
            pick[cand[np.argpartition(rho[cand], k_open - 1)[:k_open]]] = True
        value = float(lam.sum() + np.minimum(0.0, vq - lam).sum() + rho[pick].sum())
        if not np.isfinite(best) or value > best + 1e-12 * max(1.0, abs(best)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 5:
                theta, stall = theta / 2, 0
        close = upper - best <= 1e-9 * max(1.0, abs(upper))
        if theta < 1e-4 or close or time.perf_counter() > deadline:
            break
        used = (pick[form.site] & (red < 0)).astype(float)
        g = 1.0 - np.bincount(form.demand, weights=used, minlength=p.n_demand) - (vq < lam)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.clip(lam + theta * (upper - value) / norm * g, 0.0, vq)
    return best


def _facility(problem: Problem, time_limit_s: float, started: float) -> Solution:
    form = problem.form()
    deadline = started + time_limit_s
    chosen, _order, _ = greedy(problem, form)
    chosen, swaps = swap(problem, form, chosen, deadline=deadline)
    f_value = _f(form, chosen, problem.fixed)
    lower = lagrangian_bound(
        problem, form, chosen, iterations=300, deadline=deadline + 0.5 * time_limit_s
    )
    lower = min(lower, f_value)
    value = problem.value(chosen)
    bound = _native_bound(problem, form, value, f_value, lower)
    logger.info("greedy + %d swaps: value %g, bound %g", swaps, value, bound)
    return Solution(
        chosen,
        value,
        bound,
        relative_gap(value, bound),
        f"heuristic: greedy + {swaps} swaps, Lagrangian bound",
        time.perf_counter() - started,
        "heuristic",
    )


def _native_bound(
    problem: Problem, form: FacilityForm, value: float, f_value: float, lower: float
) -> float:
    """The bound in the objective's own terms: ``value`` moves as ``F`` does."""
    slack = f_value - lower  # F can drop at most this much
    if problem.objective == "median" and problem.score_weight == 0:
        return value - slack
    if problem.objective == "coverage" and problem.score_weight == 0:
        return value + slack
    return value + slack  # blends are F negated (up to a constant): higher is better


# --------------------------------------------------------------------------------------
# dispersion
# --------------------------------------------------------------------------------------


def _dispersion(problem: Problem, time_limit_s: float, started: float) -> Solution:
    p = problem
    xy = p.xy
    dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    both_fixed = p.fixed[:, None] & p.fixed[None, :]
    dist[both_fixed | np.eye(p.n_sites, dtype=bool)] = np.inf
    chosen = p.base.copy()
    rules = _Rules(p, chosen, p.k)
    if not chosen.any():
        ok = rules.mask()
        sub = np.where(ok[:, None] & ok[None, :], dist, -np.inf)
        sub[~np.isfinite(sub)] = -np.inf
        i, _ = np.unravel_index(int(np.argmax(sub)), sub.shape)
        rules.add(int(i))
    while (rules.slots() or 0) > 0:
        ok = rules.mask()
        if not ok.any():
            raise _stuck(p, int(rules.n_new))
        near = dist[:, rules.chosen].min(axis=1)
        rules.add(int(np.argmax(np.where(ok, near, -np.inf))))
    chosen = rules.chosen
    deadline = started + time_limit_s
    conflicts = p.conflicts()
    neighbours = sparse.csr_matrix(
        (
            np.ones(2 * len(conflicts)),
            (np.r_[conflicts[:, 0], conflicts[:, 1]], np.r_[conflicts[:, 1], conflicts[:, 0]]),
        ),
        shape=(p.n_sites, p.n_sites),
    )
    swaps = 0
    while time.perf_counter() < deadline:
        removable = np.flatnonzero(chosen & ~p.base)
        if not len(removable):
            break
        current = p.value(chosen)
        members = np.flatnonzero(chosen)
        gains = np.full((p.n_sites, len(removable)), -np.inf)
        for c, r in enumerate(removable):  # k columns, each vectorised over all sites
            rest = members[members != r]
            inner = dist[np.ix_(rest, rest)].min() if len(rest) > 1 else np.inf
            gains[:, c] = np.minimum(inner, dist[:, rest].min(axis=1))
        delta = -gains
        ok = p.candidates & ~chosen
        delta[~ok] = np.inf
        delta = _swap_feasibility(p, chosen, removable, delta, neighbours)
        flat = int(np.argmin(delta))
        a, c = divmod(flat, len(removable))
        if not -delta[a, c] > current + 1e-9:
            break
        chosen[removable[c]] = False
        chosen[a] = True
        swaps += 1
    value = p.value(chosen)
    bound = _dispersion_bound(p, dist, int(chosen.sum()))
    bound = max(bound, value)
    return Solution(
        chosen,
        value,
        bound,
        relative_gap(value, bound),
        f"heuristic: farthest-point greedy + {swaps} swaps, counting bound",
        time.perf_counter() - started,
        "heuristic",
    )


def _dispersion_bound(p: Problem, dist: FloatArray, m: int) -> float:
    """Each of the m sites of an optimum has m - 1 others at least D* away (see the module)."""
    if m < 2:
        return float("inf")
    pool = p.allowed | p.base
    dd = dist.copy()  # inf between two existing sites: never a constraint
    np.fill_diagonal(dd, -np.inf)
    dd[:, ~pool] = -np.inf
    u = -np.sort(-dd, axis=1)[:, m - 2]  # (m-1)-th largest distance to another site
    ranked = np.sort(u[pool])[::-1]
    bound = float(ranked[m - 1]) if len(ranked) >= m else float("inf")
    if p.base.any():
        bound = min(bound, float(u[p.base].min()))
    return bound


# --------------------------------------------------------------------------------------
# cover_all
# --------------------------------------------------------------------------------------


def _cover_all(problem: Problem, started: float) -> Solution:
    p = problem
    site, demand = p.covering()
    cover = sparse.csr_matrix((np.ones(len(site)), (site, demand)), shape=(p.n_sites, p.n_demand))
    chosen = p.base.copy()
    covered = (
        np.asarray(cover[chosen].sum(axis=0)).ravel() > 0
        if chosen.any()
        else np.zeros(p.n_demand, bool)
    )
    rules = _Rules(p, chosen, None)
    order: list[int] = []

    def take(ok: BoolArray) -> None:
        counts = cover @ (~covered).astype(float)
        best = int(np.argmax(np.where(ok, counts, -np.inf)))
        rules.add(best)
        order.append(best)
        covered[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = True

    if p.quota_min is not None and p.district is not None:
        for d, low in enumerate(p.quota_min):
            while rules.counts is not None and rules.counts[d] < low:
                ok = rules.mask() & (p.district == d)
                if not ok.any():
                    raise _stuck(p, len(order))
                take(ok)
    while not covered.all():
        ok = rules.mask() & (np.asarray(cover @ (~covered).astype(float)).ravel() > 0)
        if not ok.any():
            raise ChooseError(
                f"{int((~covered).sum())} demand points stay uncovered: the sites that could "
                "cover them are excluded by the constraints; relax min_spacing_m, the budget "
                "or the district quotas, or raise the standard."
            )
        take(ok)
    chosen = rules.chosen
    for i in reversed(order):  # drop sites the others make redundant
        if p.forced[i]:
            continue
        if p.quota_min is not None and p.district is not None and p.district[i] >= 0:
            counts = np.bincount(
                p.district[chosen & ~p.fixed & (p.district >= 0)], minlength=len(p.quota_min)
            )
            if counts[p.district[i]] <= p.quota_min[p.district[i]]:
                continue
        trial = chosen.copy()
        trial[i] = False
        if (np.asarray(cover[trial].sum(axis=0)).ravel() > 0).all():
            chosen = trial
    base_cov = (
        np.asarray(cover[p.base].sum(axis=0)).ravel() > 0
        if p.base.any()
        else np.zeros(p.n_demand, bool)
    )
    need = ~base_cov
    cand = np.flatnonzero(p.candidates)
    n_forced = int((p.forced & ~p.fixed).sum())
    lp_value = 0.0
    if need.any() and len(cand):
        a = cover[cand][:, need].T.tocsr()
        res = linprog(
            np.ones(len(cand)), A_ub=-a, b_ub=-np.ones(a.shape[0]), bounds=(0, 1), method="highs"
        )
        lp_value = float(res.fun) if res.status == 0 else 0.0
    bound = float(n_forced + math.ceil(lp_value - 1e-6))
    value = p.value(chosen)
    return Solution(
        chosen,
        value,
        bound,
        relative_gap(value, bound),
        "heuristic: greedy set cover, redundant sites removed, LP bound",
        time.perf_counter() - started,
        "heuristic",
    )


def solve_heuristic(problem: Problem, *, time_limit_s: float = 60.0) -> Solution:
    """Solve a portfolio problem heuristically and bound its gap.

    Parameters
    ----------
    problem : Problem
        A checked problem (see :func:`~geoplan.choose.problem.check_problem`).
    time_limit_s : float
        Time for the swap phase; the bound gets at most half as much again.

    Returns
    -------
    Solution
        The portfolio, its value, a bound and the gap.

    Raises
    ------
    ChooseError
        For capacities and the ``score`` objective (exact solvers only), or when the
        constraints leave no portfolio the heuristic can build.
    """
    started = time.perf_counter()
    if problem.capacity is not None:
        raise ChooseError(
            "Site capacities are modelled by the exact solver only; use solver = 'exact' "
            "(with a time_limit_s), or leave capacity out."
        )
    if problem.objective == "score":
        raise ChooseError(
            "The 'score' objective (score subject to min_coverage) is solved exactly only; use "
            "solver = 'exact', or objective = 'coverage' with a score_weight."
        )
    if problem.objective == "dispersion":
        return _dispersion(problem, time_limit_s, started)
    if problem.objective == "cover_all":
        return _cover_all(problem, started)
    return _facility(problem, time_limit_s, started)

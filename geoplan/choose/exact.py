"""Exact portfolios: spopt's models where they state the problem, PuLP models where they do not.

Which path each problem takes (both solved by HiGHS through PuLP, else PuLP's CBC):

=================  ===========================================  ==============================
objective          spopt (PySAL), when nothing below applies     PuLP model of our own
=================  ===========================================  ==============================
``coverage``       ``MCLP.from_cost_matrix`` (existing and       with a budget, quotas, spacing,
                   forced sites as spopt's predefined sites)     capacities or a score blend
``median``         ``PMedian.from_cost_matrix`` on the costs     the same cases
                   capped at the penalty
``cover_all``      ``LSCP.from_cost_matrix``                     the same cases
``dispersion``     ``PDispersion.from_cost_matrix``              also with two or more existing
                                                                 sites (spopt would keep them
                                                                 apart too)
``score``          --                                            always
=================  ===========================================  ==============================

spopt's models take dense demand x site matrices: above :data:`DENSE_CAP` entries the PuLP
model (sparse: one variable per pair within the cutoff) is used instead.

Our formulations (``x_i`` binary, existing and forced sites fixed to 1, ``N_j`` the sites
covering ``j``):

* coverage: ``max sum_j v_j z_j + sum_i b_i x_i``, ``z_j <= sum_{i in N_j} x_i``,
  ``0 <= z_j <= 1``; with capacities, per-pair shares ``y_ij <= x_i``,
  ``sum_i y_ij <= 1``, ``sum_j w_j y_ij <= cap_i x_i`` and ``z_j = sum_i y_ij``.
* median: ``min sum_ij v_j e_ij y_ij + sum_j v_j Q u_j - sum_i b_i x_i``,
  ``sum_i y_ij + u_j = 1``, ``y_ij <= x_i`` (and the capacities).
* cover_all: ``min sum_{i new} x_i``, ``sum_{i in N_j} x_i >= 1``.
* dispersion: ``max D``, ``D <= d_il + M (2 - x_i - x_l)`` for every pair not both existing.
* score: ``max sum_{i new} s_i x_i``, ``sum_j w_j z_j >= min_coverage * W``.

and the side constraints ``sum_{i new} x_i = k``, ``sum_{i new} cost_i x_i <= budget``,
``min_d <= sum_{i new in d} x_i <= max_d`` and ``x_i + x_l <= 1`` for sites closer than
the spacing.  A run stopped by its time limit reports the solver's best bound (HiGHS), or
the Lagrangian bound of :mod:`geoplan.choose.heuristic` (CBC).
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
import warnings
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pulp

from geoplan._errors import ChooseError
from geoplan.choose.heuristic import Solution, _f, lagrangian_bound, relative_gap
from geoplan.choose.problem import Problem

__all__ = ["DENSE_CAP", "SOLVERS", "make_solver", "solve_exact"]

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]

#: Largest demand x site matrix handed to spopt's dense models.
DENSE_CAP: Final = 2_000_000
#: Solver names accepted by :func:`make_solver`.
SOLVERS: Final = ("auto", "highs", "cbc")


_BANNER_SHOWN = False


def _quiet_highs() -> None:
    """HiGHS prints a banner on stdout when its first model is made; make that one silently."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True


def make_solver(name: str = "auto", *, time_limit_s: float | None = None, gap: float = 1e-6) -> Any:
    """A PuLP solver: HiGHS (through highspy) when available, else CBC (PuLP's own).

    Parameters
    ----------
    name : {"auto", "highs", "cbc"}
        Which solver.
    time_limit_s : float, optional
        Stop after this many seconds with the best portfolio found.
    gap : float
        Relative optimality gap at which the solver may stop.
    """
    if name not in SOLVERS:
        raise ChooseError(f"Unknown MILP solver {name!r}; use one of {list(SOLVERS)!r}.")
    highs = pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=gap, threads=1)
    if name == "highs" or (name == "auto" and highs.available()):
        if not highs.available():
            raise ChooseError("HiGHS is not installed (pip install highspy); use solver 'cbc'.")
        _quiet_highs()
        return highs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3 names CBC's successor
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=gap, threads=1)


def _spopt_fits(p: Problem) -> bool:
    plain = (
        p.capacity is None
        and p.budget is None
        and p.quota_min is None
        and not p.min_spacing_m
        and p.score_weight == 0
        and p.objective != "score"
    )
    pool = int((p.allowed | p.base).sum())
    if p.objective == "dispersion":
        return plain and int(p.fixed.sum()) < 2 and pool * pool <= DENSE_CAP
    return plain and p.n_demand * pool <= DENSE_CAP


def _dense(p: Problem, pool: npt.NDArray[np.intp], fill: float) -> npt.NDArray[np.float64]:
    col = np.full(p.n_sites, -1, dtype=np.intp)
    col[pool] = np.arange(len(pool))
    keep = col[p.site] >= 0
    matrix = np.full((p.n_demand, len(pool)), fill)
    matrix[p.demand[keep], col[p.site[keep]]] = p.cost[keep]
    return matrix


def _spopt(p: Problem, solver: Any) -> tuple[BoolArray, str, pulp.LpProblem]:
    from spopt.locate import LSCP, MCLP, PDispersion, PMedian

    pool = np.flatnonzero(p.allowed | p.base)
    predefined = p.base[pool].astype(int)
    n_base = int(p.fixed[pool].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spopt's notes on CRSs and geometry types
        if p.objective == "coverage":
            model: Any = MCLP.from_cost_matrix(
                _dense(p, pool, np.inf),
                p.weight,
                service_radius=p.standard,
                p_facilities=int(p.k or 0) + n_base,
                predefined_facilities_arr=predefined,
            )
        elif p.objective == "median":
            model = PMedian.from_cost_matrix(
                np.minimum(_dense(p, pool, p.penalty), p.penalty),
                p.weight,
                p_facilities=int(p.k or 0) + n_base,
                predefined_facilities_arr=predefined,
            )
        elif p.objective == "cover_all":
            model = LSCP.from_cost_matrix(
                _dense(p, pool, np.inf), p.standard, predefined_facilities_arr=predefined
            )
        else:
            xy = p.xy[pool]
            model = PDispersion.from_cost_matrix(
                np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2),
                int(p.k or 0) + n_base,
                predefined_facilities_arr=predefined,
            )
        try:
            if isinstance(model, PDispersion):
                model.solve(solver)
            else:
                model.solve(solver, results=False)
        except RuntimeError as exc:
            raise ChooseError(
                f"The solver found no portfolio ({exc}); lower k or relax force_in."
            ) from exc
    _check_found(model.problem, getattr(solver, "timeLimit", None))
    chosen = np.zeros(p.n_sites, dtype=bool)
    chosen[pool] = [(v.varValue or 0) > 0.5 for v in model.fac_vars]
    return chosen, f"spopt {type(model).__name__}", model.problem


def _model(p: Problem) -> tuple[pulp.LpProblem, dict[int, pulp.LpVariable], Any]:
    """Our own PuLP model (see the module); returns it, the site variables and the served weight."""
    sense = (
        pulp.LpMaximize if p.objective in ("coverage", "dispersion", "score") else pulp.LpMinimize
    )
    prob = pulp.LpProblem("portfolio", sense)
    pool = np.flatnonzero(p.allowed | p.base)
    x = {
        # Integer in [0, 1] (PuLP's "Binary" would reset the lower bound of the base sites)
        int(i): prob.add_variable(
            f"x_{i}", lowBound=1 if p.base[i] else 0, upBound=1, cat="Integer"
        )
        for i in pool
    }
    new = [int(i) for i in pool if not p.fixed[i]]
    in_pool = np.zeros(p.n_sites, dtype=bool)
    in_pool[pool] = True
    served: Any = None
    objective: Any
    if p.objective in ("coverage", "median", "score"):
        if p.objective == "median":
            form = p.form()
            site, demand, e, v, b = form.site, form.demand, form.e, form.v, form.b
        else:
            site, demand = p.covering()
            e = np.zeros(len(site))
            v, b = p.weight, np.zeros(p.n_sites)
            if p.objective == "coverage":
                form = p.form()
                v, b = form.v, form.b
        keep = in_pool[site]
        site, demand, e = site[keep], demand[keep], e[keep]
        order = np.argsort(demand, kind="stable")
        site, demand, e = site[order], demand[order], e[order]
        starts = np.r_[0, np.flatnonzero(np.diff(demand)) + 1, len(demand)]
        bonus = pulp.lpSum(float(b[i]) * x[i] for i in new if b[i] != 0)
        assign = p.capacity is not None or p.objective == "median"
        load: dict[int, list[Any]] = {}
        terms: list[Any] = []
        for a, z_end in itertools.pairwise(starts):
            j = int(demand[a])
            sites_j = site[a:z_end]
            if assign:
                ys = [prob.add_variable(f"y_{i}_{j}", 0, 1) for i in sites_j]
                for y, i in zip(ys, sites_j, strict=True):
                    prob += y <= x[int(i)]
                    load.setdefault(int(i), []).append(float(p.weight[j]) * y)
                share = pulp.lpSum(ys)
            else:
                share = prob.add_variable(f"z_{j}", 0, 1)
                prob += share <= pulp.lpSum(x[int(i)] for i in sites_j)
            if p.objective == "median":
                u = prob.add_variable(f"u_{j}", 0, 1)
                prob += share + u == 1
                terms.append(
                    pulp.lpSum(
                        float(v[j] * c) * y for c, y in zip(e[a:z_end], ys, strict=True) if c
                    )
                    + float(v[j] * form.q) * u
                )
            else:
                if assign:
                    prob += share <= 1
                terms.append(float(v[j] if p.objective != "score" else p.weight[j]) * share)
        unreachable = np.setdiff1d(np.arange(p.n_demand), demand)
        if p.objective == "median":
            constant = float((v[unreachable] * form.q).sum())
            objective = pulp.lpSum(terms) + constant - bonus
        elif p.objective == "coverage":
            objective = pulp.lpSum(terms) + bonus
        else:
            objective = pulp.lpSum(float(np.asarray(p.score)[i]) * x[i] for i in new)
            total = float(p.weight.sum())
            prob += pulp.lpSum(terms) >= float(p.min_coverage or 0.0) * total
        served = pulp.lpSum(terms) if p.objective == "coverage" and p.score_weight == 0 else None
        if p.capacity is not None:
            for i, loads in load.items():
                prob += pulp.lpSum(loads) <= float(p.capacity[i]) * x[i]
    elif p.objective == "cover_all":
        site, demand = p.covering()
        keep = in_pool[site]
        site, demand = site[keep], demand[keep]
        for j in range(p.n_demand):
            prob += pulp.lpSum(x[int(i)] for i in site[demand == j]) >= 1
        objective = pulp.lpSum(x[i] for i in new)
    else:
        dmax = prob.add_variable("D", lowBound=0)
        xy = p.xy[pool]
        dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
        big = float(dist.max()) if dist.size else 0.0
        for a in range(len(pool)):
            for c in range(a + 1, len(pool)):
                i, m = int(pool[a]), int(pool[c])
                if p.fixed[i] and p.fixed[m]:
                    continue
                prob += dmax <= float(dist[a, c]) + big * (2 - x[i] - x[m])
        objective = dmax
    prob += objective
    if p.k is not None:
        prob += pulp.lpSum(x[i] for i in new) == int(p.k)
    if p.budget is not None and p.site_cost is not None:
        prob += pulp.lpSum(float(p.site_cost[i]) * x[i] for i in new) <= float(p.budget)
    if p.district is not None and p.quota_min is not None and p.quota_max is not None:
        for d in range(len(p.quota_min)):
            members = [i for i in new if p.district[i] == d]
            count = pulp.lpSum(x[i] for i in members)
            if p.quota_min[d] > 0:
                prob += count >= int(p.quota_min[d])
            if members:
                prob += count <= int(p.quota_max[d])
    for i, m in p.conflicts():
        if int(i) in x and int(m) in x:
            prob += x[int(i)] + x[int(m)] <= 1
    return prob, x, served


def _bound_of(prob: pulp.LpProblem, solver: Any) -> float | None:
    """HiGHS's best bound on the model's objective (PuLP's constant added back)."""
    model = getattr(prob, "solverModel", None)
    if model is None or not isinstance(solver, pulp.HiGHS):
        return None
    bound = float(model.getInfo().mip_dual_bound) + float(prob.objective.constant or 0.0)
    return bound if np.isfinite(bound) else None


def _native(problem: Problem, objective_bound: float, offset: float) -> float:
    """A bound on the model's objective in the objective's own terms (see Problem.value)."""
    if problem.objective == "median" and problem.score_weight > 0:
        return (1 - problem.score_weight) - objective_bound  # the model minimises F
    return objective_bound - offset


def solve_exact(
    problem: Problem, *, solver: str = "auto", time_limit_s: float | None = None, gap: float = 1e-6
) -> Solution:
    """Solve a portfolio problem with a MILP solver (see the module for the models).

    Parameters
    ----------
    problem : Problem
        A checked problem.
    solver : {"auto", "highs", "cbc"}
        MILP solver.
    time_limit_s : float, optional
        Stop with the best portfolio found and the solver's bound.
    gap : float
        Relative gap at which to stop.

    Returns
    -------
    Solution
        The portfolio; ``gap`` 0 and ``status`` "optimal" when proven.

    Raises
    ------
    ChooseError
        When the solver proves no portfolio meets the constraints, or finds none in time.
    """
    started = time.perf_counter()
    lp_solver = make_solver(solver, time_limit_s=time_limit_s, gap=gap)
    name = "HiGHS" if isinstance(lp_solver, pulp.HiGHS) else "CBC"
    served: Any = None
    offset = 0.0
    if _spopt_fits(problem):
        chosen, how, prob = _spopt(problem, lp_solver)
        if problem.objective == "cover_all":  # spopt counts the existing sites too
            offset = float(problem.fixed[problem.allowed | problem.base].sum())
    else:
        prob, x, served = _model(problem)
        logger.info("PuLP model built in %.1f s", time.perf_counter() - started)
        prob.solve(lp_solver)
        _check_found(prob, time_limit_s)
        chosen = np.zeros(problem.n_sites, dtype=bool)
        for i, var in x.items():
            chosen[i] = (var.varValue or 0) > 0.5
        how = "PuLP model"
    chosen |= problem.base  # fixed by their bounds (PuLP leaves out variables in no row)
    value = problem.value(chosen)
    if problem.capacity is not None:  # what the sites can serve, not all they reach
        value = float(pulp.value(served if served is not None else prob.objective))
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    bound = value
    if not optimal:
        found = _bound_of(prob, lp_solver)
        if found is not None:
            bound = _native(problem, found, offset)
        elif problem.objective in ("coverage", "median") and problem.capacity is None:
            form = problem.form()
            f_value = _f(form, chosen, problem.fixed)
            deadline = time.perf_counter() + (time_limit_s or 60.0)
            lower = lagrangian_bound(problem, form, chosen, iterations=300, deadline=deadline)
            slack = max(f_value - lower, 0.0)
            bound = value + slack if problem.maximise else value - slack
        else:
            bound = float("nan")
    logger.info("exact (%s, %s): value %g, bound %g", how, name, value, bound)
    return Solution(
        chosen,
        value,
        bound,
        0.0 if optimal else relative_gap(value, bound),
        f"exact: {how}, {name}",
        time.perf_counter() - started,
        "optimal" if optimal else "time limit",
    )


def _check_found(prob: pulp.LpProblem, time_limit_s: float | None) -> None:
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return
    if prob.sol_status == pulp.LpSolutionNoSolutionFound and time_limit_s:
        raise ChooseError(
            f"The solver found no portfolio within time_limit_s = {time_limit_s:g}; allow more "
            "time, or use solver = 'heuristic'."
        )
    raise ChooseError(
        "No portfolio meets all the constraints together; relax min_spacing_m, the budget, "
        "the district quotas, capacities or min_coverage, or lower k."
    )

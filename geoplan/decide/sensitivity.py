"""One criterion at a time: weight sweeps and the smallest weight change that changes the first site.

* :func:`weight_sweep` -- one criterion at a time from weight 0 to 1 (the
  others keep their ratios): who is first, who is in the top k, how similar the
  ranking stays (a long table for tornado or line charts);
* :func:`min_weight_change_to_flip` -- per criterion, the smallest change of
  its weight that changes the first-ranked site, and who takes over (exact
  for the weighted sum, whose values are linear in each weight).

Many weightings at once (Monte Carlo) are in :mod:`geoplan.decide.robustness`.  Only
*eligible* sites are ranked, criteria with weight 0 stay at 0 and ranks are
1 = best.  Tied sites share the best of their places, as in the ranking table
(see :mod:`geoplan.decide._weightings`): a shortlist includes every site tied for its
last place, and a site tied for first is named in ``tied_for_first`` rather
than passed over for coming later in the table.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geoplan._errors import WeightsError
from geoplan.decide._weightings import (
    FloatArray,
    IntArray,
    _min_ranks,
    _positive_int,
    _rank_with_ties,
    _Setup,
    _setup,
)

__all__ = ["min_weight_change_to_flip", "weight_sweep"]


def _reweight(w: FloatArray, j: int, targets: FloatArray) -> FloatArray:
    """Weight matrix with criterion ``j`` at each target and the others keeping their ratios."""
    rest = 1.0 - w[j]
    scale = (1.0 - targets) / rest
    out = np.outer(scale, w)
    out[:, j] = targets
    return np.asarray(out, dtype=np.float64)


def _sweep_criteria(setup: _Setup, criterion: str | Sequence[str] | None, who: str) -> list[int]:
    if len(setup.criteria) < 2:
        raise WeightsError(
            f"{who} needs at least two criteria with weight > 0 (got {setup.criteria!r}): with one "
            "criterion there is nothing to trade off."
        )
    if criterion is None:
        return list(range(len(setup.criteria)))
    names = [criterion] if isinstance(criterion, str) else list(criterion)
    positions = []
    for name in names:
        if name not in setup.all_criteria:
            raise WeightsError(
                f"{who}: unknown criterion {name!r}; the criteria are {setup.all_criteria!r}."
            )
        if name not in setup.criteria:
            raise WeightsError(
                f"{who}: criterion {name!r} has weight 0 and is not varied; give it a small weight "
                "to include it."
            )
        positions.append(setup.criteria.index(name))
    return positions


def _shortlist(order: IntArray, ranks: IntArray, k: int) -> IntArray:
    """Sites ranked ``k`` or better, best first (every site tied for place ``k`` included)."""
    return order[: int((ranks <= k).sum())]


def weight_sweep(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    criterion: str | Sequence[str] | None = None,
    steps: int = 21,
    method: str = "weighted_sum",
    top_k: int = 5,
    eligible: pd.Series | npt.ArrayLike | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Vary one criterion's weight from 0 to 1 and watch the ranking.

    For each criterion and each weight ``t`` in ``linspace(0, 1, steps)``
    (plus the baseline weight itself), the criterion gets weight ``t`` and the
    others share ``1 - t`` in their original ratios.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1 scores, higher better.
    weights : pandas.Series or mapping
        The chosen weights.
    criterion : str or sequence of str, optional
        Criteria to vary (default: every criterion with weight > 0).
    steps : int
        Grid points from 0 to 1 (>= 2).
    method : str
        Aggregation method.
    top_k : int
        Size of the shortlist.
    eligible : pandas.Series of bool, optional
        Which sites to rank (default all).
    **options
        Options of the method.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per criterion and weight: ``criterion``,
        ``weight``, ``is_baseline``, ``first`` (label of the first-ranked
        site; of the first in ``scores`` when several tie),
        ``tied_for_first`` (tuple of the labels of the other sites tied with
        it for first place, empty when none), ``top_k`` (tuple of labels of
        the sites ranked ``top_k`` or better, best first: more than
        ``top_k`` when sites tie for the last place), ``top_k_overlap`` (how
        many of the baseline's ``top_k`` sites are still in it),
        ``baseline_first_rank`` (rank of the baseline's first site),
        ``baseline_top_k_worst_rank`` (worst rank among the baseline's
        ``top_k`` sites) and ``kendall_tau`` (rank correlation of all eligible
        sites' values with the baseline, tau-b; 1 = same order).  Tied sites
        share the best of their places.  ``attrs`` holds the baseline
        weights, first site, the sites tied with it and the top k.
    """
    steps = _positive_int(steps, "steps", minimum=2)
    top_k = _positive_int(top_k, "top_k")
    setup = _setup(
        scores, weights, method=method, options=options, eligible=eligible, who="weight_sweep"
    )
    which = _sweep_criteria(setup, criterion, "weight_sweep")
    k = min(top_k, setup.n_eligible)
    w = setup.weights
    base_values = setup.baseline_values()
    base_order, base_starts = _rank_with_ties(base_values[None, :].copy())
    base_ranks = _min_ranks(base_order, base_starts)[0]
    base_order = base_order[0]
    base_top = _shortlist(base_order, base_ranks, k)
    labels = setup.labels
    rows: list[dict[str, Any]] = []
    grid = np.linspace(0.0, 1.0, steps)
    for j in which:
        # the grid plus the baseline weight itself (replacing a grid point within 1e-9 of it)
        targets = np.sort(np.append(grid[np.abs(grid - w[j]) > 1e-9], w[j]))
        values = setup.values_for(_reweight(w, j, targets))
        order, starts = _rank_with_ties(values.copy())
        ranks = _min_ranks(order, starts)
        for p, t in enumerate(targets):
            with warnings.catch_warnings():  # constant values (all sites tie): tau is NaN
                warnings.simplefilter("ignore")
                tau = (
                    stats.kendalltau(base_values, values[p]).statistic
                    if setup.n_eligible > 1
                    else np.nan
                )
            rows.append(
                {
                    "criterion": setup.criteria[j],
                    "weight": float(t),
                    "is_baseline": bool(t == w[j]),
                    "first": labels[order[p, 0]],
                    "tied_for_first": tuple(labels[_shortlist(order[p], ranks[p], 1)[1:]]),
                    "top_k": tuple(labels[_shortlist(order[p], ranks[p], k)]),
                    "top_k_overlap": int(
                        np.isin(base_top, _shortlist(order[p], ranks[p], k)).sum()
                    ),
                    "baseline_first_rank": int(ranks[p, base_order[0]]),
                    "baseline_top_k_worst_rank": int(ranks[p, base_top].max()),
                    "kendall_tau": float(tau),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs = {
        "method": setup.method,
        "options": dict(setup.options),
        "top_k": top_k,
        "weights": {str(c): float(v) for c, v in zip(setup.criteria, w, strict=True)},
        "baseline_first": labels[base_order[0]],
        "baseline_tied_for_first": tuple(labels[_shortlist(base_order, base_ranks, 1)[1:]]),
        "baseline_top_k": tuple(labels[base_top]),
    }
    return out


def _flip_linear(
    x: FloatArray, w: FloatArray, j: int, a: int
) -> tuple[tuple[float, int], tuple[float, int]]:
    """Exact crossings for the weighted sum: ``V_i(t) = t x_ij + (1 - t) y_i``."""
    others = w.copy()
    others[j] = 0.0
    y = x @ others / (1.0 - w[j])
    beta = y - y[a]
    alpha = (x[:, j] - x[a, j]) - beta
    t0 = w[j]
    nan = (float("nan"), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = -beta / alpha
    results = []
    for direction in (1, -1):
        rising = direction * alpha > 0
        rising[a] = False
        t = np.where(rising, crossing, np.nan)
        t = np.maximum(t, t0) if direction > 0 else np.minimum(t, t0)  # guard rounding at t0
        end = 1.0 if direction > 0 else 0.0
        inside = (t <= 1.0 + 1e-12) & (t >= -1e-12)
        # A crossing exactly at weight 0 or 1 is only a tie there, and a tie does not
        # take the first place from anyone; beyond it the weight cannot go.
        at_end = np.abs(t - end) <= 1e-12
        valid = rising & inside & ~at_end
        if not valid.any():
            results.append(nan)
            continue
        target = (
            np.nanmin(np.where(valid, t, np.nan))
            if direction > 0
            else np.nanmax(np.where(valid, t, np.nan))
        )
        tied = valid & (np.abs(t - target) <= 1e-12)
        # Among sites crossing at the same point, the steepest one leads beyond it.
        steep = np.where(tied, direction * alpha, -np.inf)
        taker = int(np.flatnonzero(steep == steep.max())[0])
        results.append((float(np.clip(target, 0.0, 1.0)), taker))
    return results[0], results[1]


def _flip_numeric(
    setup: _Setup, j: int, a: int, grid_points: int
) -> tuple[tuple[float, int], tuple[float, int]]:
    w = setup.weights
    t0 = float(w[j])

    def winners(targets: FloatArray) -> npt.NDArray[np.intp]:
        """The first site at each weight: ``a`` while no site is strictly better."""
        values = setup.values_for(_reweight(w, j, targets))
        best = np.argmax(values, axis=1)
        keeps = values[:, a] >= values[np.arange(len(values)), best]
        return np.asarray(np.where(keeps, a, best), dtype=np.intp)

    results = []
    for end in (1.0, 0.0):
        targets = np.linspace(t0, end, grid_points)
        won = winners(targets)
        changed = np.flatnonzero(won != a)
        if t0 == end or not len(changed):
            results.append((float("nan"), -1))
            continue
        hi = float(targets[changed[0]])
        lo = float(targets[changed[0] - 1]) if changed[0] > 0 else t0
        taker = int(won[changed[0]])
        for _ in range(48):  # bisection on "the first site has changed"
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            w_mid = int(winners(np.array([mid]))[0])
            if w_mid != a:
                hi, taker = mid, w_mid
            else:
                lo = mid
        results.append((hi, taker))
    return results[0], results[1]


def min_weight_change_to_flip(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    method: str = "weighted_sum",
    eligible: pd.Series | npt.ArrayLike | None = None,
    grid_points: int = 201,
    **options: Any,
) -> pd.DataFrame:
    """Per criterion, the smallest weight change that changes the first-ranked site.

    The criterion's weight moves up (towards 1) or down (towards 0) with the
    other weights keeping their ratios.  For the weighted sum every site's
    value is linear in that weight, so the crossing points are solved exactly.
    For the other methods the first site is evaluated on ``grid_points`` weights
    each way and the first change is refined by bisection to about 1e-12; a
    change narrower than the grid step (and back) could be missed.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1 scores, higher better.
    weights : pandas.Series or mapping
        The chosen weights.
    method : str
        Aggregation method.
    eligible : pandas.Series of bool, optional
        Which sites compete (default all).
    grid_points : int
        Grid points per direction for methods other than the weighted sum.
    **options
        Options of the method.

    Returns
    -------
    pandas.DataFrame
        One row per criterion with weight > 0: ``weight`` (now), ``first``
        (the first-ranked site now), ``tied_for_first`` (tuple of the other
        sites tied with it for first now, empty when none), ``up_to`` (the
        weight at which another site takes over, i.e. becomes strictly
        better, when increasing; NaN if none up to 1), ``up_by`` (``up_to -
        weight``), ``new_first_up``, and ``down_to``, ``down_by`` (``weight -
        down_to``, positive), ``new_first_down`` likewise downwards.  At the
        crossing the two sites tie; a tie alone (at weight 0 or 1) takes the
        first place from no one.  When sites tie for first, ``first`` is the
        one that comes first in ``scores`` and a change of 0 may already let
        one of the others lead.
    """
    grid_points = _positive_int(grid_points, "grid_points", minimum=3)
    setup = _setup(
        scores,
        weights,
        method=method,
        options=options,
        eligible=eligible,
        who="min_weight_change_to_flip",
    )
    which = _sweep_criteria(setup, None, "min_weight_change_to_flip")
    w = setup.weights
    base_order, base_starts = _rank_with_ties(setup.baseline_values()[None, :])
    co_first = _shortlist(base_order[0], _min_ranks(base_order, base_starts)[0], 1)
    a = int(co_first[0])
    x = setup.values[setup.columns]
    labels = setup.labels
    rows = []
    for j in which:
        if setup.n_eligible < 2:
            up, down = (float("nan"), -1), (float("nan"), -1)
        elif setup.method == "weighted_sum":
            up, down = _flip_linear(x, w, j, a)
        else:
            up, down = _flip_numeric(setup, j, a, grid_points)
        rows.append(
            {
                "criterion": setup.criteria[j],
                "weight": float(w[j]),
                "first": labels[a],
                "tied_for_first": tuple(labels[co_first[1:]]),
                "up_to": up[0],
                "up_by": up[0] - w[j],
                "new_first_up": labels[up[1]] if up[1] >= 0 else None,
                "down_to": down[0],
                "down_by": w[j] - down[0],
                "new_first_down": labels[down[1]] if down[1] >= 0 else None,
            }
        )
    out = pd.DataFrame(rows).set_index("criterion")
    out.attrs = {
        "method": setup.method,
        "options": dict(setup.options),
        "exact": setup.method == "weighted_sum",
    }
    return out

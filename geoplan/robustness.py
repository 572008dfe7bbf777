"""How much does the ranking depend on the weights?

Weights are judgements; a site recommendation should survive reasonable
disagreement about them.  Three views:

* :func:`monte_carlo_ranks` -- draw thousands of weightings around the chosen
  ones (Dirichlet with a ``concentration``, or uniform within +/- ``bounds``)
  and report per site the probability of being in the top k and the spread of
  its rank; :func:`robustness_summary` turns that into a sentence per site;
* :func:`weight_sweep` -- one criterion at a time from weight 0 to 1 (the
  others keep their ratios): who is first, who is in the top k, how similar the
  ranking stays (a long table for tornado or line charts);
* :func:`min_weight_change_to_flip` -- per criterion, the smallest change of
  its weight that changes the first-ranked site, and who takes over (exact
  for the weighted sum, whose values are linear in each weight).

Only *eligible* sites are ranked (``eligible=``); the aggregation itself (the
TOPSIS ideal, the VIKOR best and worst) uses every site with scores, exactly as
:func:`geoplan.mcda.aggregate` does, so the baseline ranks here match the
ranking table.  Criteria with weight 0 stay at 0 (give them a small weight to
include them).  Ranks are 1 = best; ties are broken by the order of the sites
in ``scores`` (the earlier site ranks higher), also for values that differ by
less than about 1e-11 relative.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geoplan import mcda
from geoplan._errors import CriterionError, WeightsError
from geoplan.weights import _py

__all__ = [
    "add_robustness",
    "min_weight_change_to_flip",
    "monte_carlo_ranks",
    "robustness_summary",
    "weight_sweep",
]

logger = logging.getLogger(__name__)

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

# Rank histograms hold at most this many (rank bin x site) cells (32 MB of
# int64): exact ranks for up to 2048 eligible sites, beyond that exact ranks at
# the top and geometrically wider bins further down (see _rank_bins).
_HIST_CELLS = 2**22
_MIN_BINS = 32
# Draws per chunk: chunk x sites values stay below this many float64 (32 MB).
_CHUNK_CELLS = 2**22
_INF_BITS = np.uint64(0x7FF0000000000000)
_SIGN_BIT = np.uint64(0x8000000000000000)


# ---------------------------------------------------------------------------
# Shared set-up
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    method: str
    options: dict[str, float]
    weights: FloatArray  # used (positive-weight) criteria, sums to 1
    criteria: list[Any]
    values: FloatArray  # complete sites x used criteria
    evaluate: mcda.Evaluator
    columns: npt.NDArray[np.intp]  # eligible sites, as positions among the complete sites
    rows: npt.NDArray[np.intp]  # eligible sites, as positions in scores.index
    labels: pd.Index  # eligible site labels
    index: pd.Index  # all sites
    all_criteria: list[Any]  # every column of scores

    @property
    def n_eligible(self) -> int:
        return len(self.columns)

    def values_for(self, w: FloatArray) -> FloatArray:
        """Values of the eligible sites for a (draws x criteria) weight matrix (a new array)."""
        sites, criteria = self.values.shape
        # OWA works on draws x sites x criteria arrays: evaluate it in slices.
        rows = max(1, _CHUNK_CELLS // (sites * criteria)) if self.method == "owa" else len(w)
        if rows >= len(w):
            out = self.evaluate(w)
        else:
            out = np.concatenate([self.evaluate(w[i : i + rows]) for i in range(0, len(w), rows)])
        if len(self.columns) == out.shape[1]:
            return np.ascontiguousarray(out)
        return np.ascontiguousarray(out[:, self.columns])


def _eligible_mask(scores: pd.DataFrame, eligible: pd.Series | npt.ArrayLike | None) -> BoolArray:
    n = len(scores)
    if eligible is None:
        return np.ones(n, dtype=bool)
    if isinstance(eligible, pd.Series):
        unknown = eligible.index.difference(scores.index)
        missing = scores.index.difference(eligible.index)
        if eligible.index.has_duplicates:
            raise CriterionError(
                "eligible= has duplicate site labels; give one True/False per site."
            )
        if len(missing):
            raise CriterionError(
                f"eligible= has no value for {len(missing)} site(s), e.g. {[_py(x) for x in missing[:3]]!r}; "
                "give one True/False per row of scores (same index)."
            )
        if len(unknown):
            raise CriterionError(
                f"eligible= names sites that are not in scores, e.g. {[_py(x) for x in unknown[:3]]!r}; "
                "use the same index as scores."
            )
        series = eligible.reindex(scores.index)
    else:
        array = np.asarray(eligible)
        if array.ndim != 1 or len(array) != n:
            raise CriterionError(
                f"eligible= has shape {array.shape!r} for {n} sites; give one True/False per site."
            )
        series = pd.Series(array, index=scores.index)
    if series.isna().any() or not (
        pd.api.types.is_bool_dtype(series.dtype) or set(pd.unique(series)) <= {0, 1}
    ):
        bad = series[series.isna() | ~series.isin([True, False])]
        raise CriterionError(
            f"eligible= must be True/False per site; site {_py(bad.index[0])!r} has {_py(bad.iloc[0])!r}."
        )
    return np.asarray(series.to_numpy(dtype=bool), dtype=bool)


def _setup(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    method: str,
    options: Mapping[str, Any],
    eligible: pd.Series | npt.ArrayLike | None,
    who: str,
) -> _Setup:
    name = mcda.method_name(method)
    checked = mcda.method_options(name, options)
    problem = mcda._problem(scores, weights, who=who, unit_range=mcda._needs_unit_range(name))
    mask = _eligible_mask(scores, eligible)
    lacking = mask & ~problem.complete
    if lacking.any():
        sites = [_py(x) for x in scores.index[lacking][:3]]
        raise CriterionError(
            f"{who}: {int(lacking.sum())} eligible site(s) lack a score on a weighted criterion, "
            f"e.g. {sites!r}; fill the scores or mark those sites ineligible."
        )
    if not mask.any():
        raise CriterionError(f"{who}: no site is eligible, so there is nothing to rank.")
    positions = np.cumsum(problem.complete) - 1  # position of each site among the complete ones
    rows = np.flatnonzero(mask)
    return _Setup(
        method=name,
        options=checked,
        weights=problem.weights,
        criteria=problem.criteria,
        values=problem.values,
        evaluate=mcda._evaluator(name, problem.values, checked),
        columns=np.asarray(positions[rows], dtype=np.intp),
        rows=rows,
        labels=scores.index[rows],
        index=scores.index,
        all_criteria=list(scores.columns),
    )


def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise WeightsError(f"{name}={value!r} must be a whole number >= {minimum}.")
    return int(value)


# ---------------------------------------------------------------------------
# Ranking many weightings at once
# ---------------------------------------------------------------------------


def _rank_order(values: FloatArray) -> IntArray:
    """Site positions from best to worst for every row of ``values`` (overwritten).

    Argsort is slow; sorting plain integers is fast (SIMD).  Each value is
    turned into an unsigned key that sorts in descending value order, its
    lowest ``ceil(log2(sites))`` bits are replaced by the site position, and
    the keys are sorted: the low bits of the sorted keys are the order.  Values
    closer than ``2 ** bits`` units in the last place (~1e-11 relative for
    10 000 sites) tie and are ordered by position, like a stable sort.
    """
    m = values.shape[1]
    keys = values.view(np.uint64)
    low_bits = max(1, (m - 1).bit_length())
    mask = np.uint64((1 << low_bits) - 1)
    if values.size and values.min() >= 0:  # the usual case: every method gives 0-1
        # Non-negative doubles order like their bit patterns (clearing the sign
        # bit turns -0.0 into +0.0); inf - bits reverses the order.  The low
        # bits are cleared first, so the difference has them clear too.
        np.bitwise_and(keys, ~_SIGN_BIT & ~mask, out=keys)
        np.subtract(_INF_BITS, keys, out=keys)
    else:
        values += 0.0  # -0.0 -> +0.0
        # Order-preserving map of doubles to unsigned integers, descending:
        # positives -> ~(bits | sign) in [0, 2**63), negatives keep their bits.
        positive = values >= 0
        keys[positive] = ~(keys[positive] | _SIGN_BIT)
        np.bitwise_and(keys, ~mask, out=keys)
    np.bitwise_or(keys, np.arange(m, dtype=np.uint64), out=keys)
    keys.sort(axis=1)
    np.bitwise_and(keys, mask, out=keys)
    return keys.view(np.int64)


def _ranks_from_order(order: IntArray) -> IntArray:
    """1-based rank of every site from an order (rows independent)."""
    ranks = np.empty_like(order)
    np.put_along_axis(
        ranks, order, np.arange(1, order.shape[1] + 1, dtype=np.int64)[None, :], axis=1
    )
    return ranks


def _rank_bins(n: int, max_cells: int = _HIST_CELLS) -> tuple[IntArray, IntArray, int]:
    """Rank bins: ``bin_of_rank`` (per 0-based rank), ``edges`` (first rank of each bin + n), exact-up-to."""
    n_bins = min(n, max(_MIN_BINS, max_cells // max(n, 1)))
    if n_bins >= n:
        edges = np.arange(n + 1, dtype=np.int64)
    else:
        exact = n_bins // 2
        tail = np.round(np.geomspace(exact, n, n_bins - exact + 1)).astype(np.int64)
        edges = np.unique(np.concatenate([np.arange(exact, dtype=np.int64), tail]))
    widths = np.diff(edges)
    exact_up_to = int(np.argmax(widths > 1)) if (widths > 1).any() else n
    bin_of_rank = np.asarray(np.searchsorted(edges, np.arange(n), side="right") - 1, dtype=np.int64)
    return bin_of_rank, edges, exact_up_to


def _quantile_ranks(
    hist: IntArray, edges: IntArray, draws: int, q: float, cumulative: IntArray | None = None
) -> FloatArray:
    """1-based rank at quantile ``q`` (inverted CDF) per site from a (bins x sites) histogram.

    Within a bin wider than one rank the draws are taken as spread evenly.
    """
    if cumulative is None:
        cumulative = np.cumsum(hist, axis=0)
    target = max(1, math.ceil(q * draws - 1e-9))
    b = np.argmax(cumulative >= target, axis=0)
    sites = np.arange(hist.shape[1])
    before = np.where(b > 0, cumulative[np.maximum(b - 1, 0), sites], 0)
    inside = hist[b, sites]
    low = edges[b]
    width = edges[b + 1] - low
    offset = np.floor((target - before - 0.5) / inside * width)
    return np.asarray(low + np.clip(offset, 0, width - 1) + 1, dtype=float)


def _draws(
    rng: np.random.Generator,
    w: FloatArray,
    draws: int,
    chunk: int,
    concentration: float,
    bounds: float | None,
) -> Iterator[FloatArray]:
    done = 0
    while done < draws:
        size = min(chunk, draws - done)
        if bounds is None:
            sample = rng.dirichlet(concentration * w, size=size)
        else:
            sample = w * rng.uniform(1.0 - bounds, 1.0 + bounds, size=(size, len(w)))
            total = sample.sum(axis=1, keepdims=True)
            sample = np.divide(sample, total, out=np.tile(w, (size, 1)), where=total > 0)
        done += size
        yield np.asarray(sample, dtype=np.float64)


def monte_carlo_ranks(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    draws: int = 5000,
    concentration: float = 100.0,
    bounds: float | None = None,
    method: str = "weighted_sum",
    top_k: int = 5,
    eligible: pd.Series | npt.ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Rank the sites under many weightings near the chosen ones.

    Weightings are drawn either from a Dirichlet distribution centred on the
    weights, ``Dirichlet(concentration * w)`` (mean ``w``, standard deviation
    ``sqrt(w (1 - w) / (concentration + 1))``: with the default 100 a weight of
    0.2 varies by about +/- 0.04), or -- with ``bounds`` -- each weight is
    multiplied by a uniform factor in ``[1 - bounds, 1 + bounds]`` and the
    weights are rescaled to sum 1.  Each weighting is aggregated with
    ``method`` and the eligible sites are ranked.

    The work is vectorised: a chunk of weightings is one matrix product (one
    per criterion for VIKOR), the ranks of a chunk one integer sort, and the
    counts of a chunk one ``bincount``; chunks run on ``n_jobs`` threads and
    memory stays bounded whatever the number of draws.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1 scores, higher better.
    weights : pandas.Series or mapping
        The chosen weights (the centre of the draws).
    draws : int
        Number of weightings.
    concentration : float
        Dirichlet concentration (higher = closer to ``weights``).  Give
        either this or ``bounds``.
    bounds : float, optional
        Uniform relative perturbation, 0-1 (0.2 = each weight +/- 20 % before
        rescaling).
    method : str
        Aggregation method (see :func:`geoplan.mcda.aggregate`).
    top_k : int
        Size of the shortlist for ``p_top_k``.
    eligible : pandas.Series of bool, optional
        Which sites to rank (default all); others get NaN.
    seed : int or numpy.random.Generator, optional
        For reproducible draws.  The draws are made in order in one thread,
        so the result depends only on the seed, not on ``n_jobs`` or
        ``chunk_size``.
    chunk_size : int, optional
        Weightings per chunk (default: about 4 million site values per chunk).
    n_jobs : int, optional
        Threads (default: all CPU cores).
    **options
        Options of the method (``v``, ``optimism``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``: ``p_top_k`` (share of weightings in which the
        site is in the top ``top_k``), ``median_rank``, ``rank_p05`` and
        ``rank_p95`` (the 90 % interval), ``rank_best``, ``rank_worst`` and
        ``baseline_rank`` (under ``weights``).  Ranks are 1-based among the
        eligible sites and exact for ranks up to ``attrs["rank_exact_up_to"]``
        (all ranks for up to 2048 eligible sites; the top 209 for 10 000);
        further down they come from bins that widen geometrically (about 2 %
        of the rank for 10 000 sites, more for more sites), with best and
        worst reported as the bin's outer edges.  ``attrs`` holds the settings.

    Raises
    ------
    WeightsError
        For invalid weights, method or options, or both ``concentration``
        and ``bounds``, or invalid draw settings.
    CriterionError
        For invalid scores or ``eligible``, or eligible sites without scores.
    """
    started = time.perf_counter()
    draws = _positive_int(draws, "draws")
    top_k = _positive_int(top_k, "top_k")
    if bounds is not None:
        if concentration != 100.0:
            raise WeightsError(
                f"Give either concentration= (Dirichlet draws, got {concentration!r}) or bounds= "
                f"(uniform +/- draws, got {bounds!r}), not both."
            )
        b = bounds if isinstance(bounds, int | float) and not isinstance(bounds, bool) else None
        if b is None or not math.isfinite(b) or not 0 <= b <= 1:
            raise WeightsError(
                f"bounds={bounds!r} must be a fraction from 0 to 1 (0.2 = each weight +/- 20 %)."
            )
        bounds = float(b)
    elif (
        isinstance(concentration, bool)
        or not isinstance(concentration, int | float)
        or not math.isfinite(concentration)
        or concentration <= 0
    ):
        raise WeightsError(
            f"concentration={concentration!r} must be a positive number (100 = weights vary by "
            "about +/- 20 % of their value; higher = less)."
        )
    setup = _setup(
        scores, weights, method=method, options=options, eligible=eligible, who="monte_carlo_ranks"
    )
    m = setup.n_eligible
    chunk = (
        _positive_int(chunk_size, "chunk_size")
        if chunk_size is not None
        else max(1, min(draws, _CHUNK_CELLS // setup.values.shape[0]))
    )
    workers = _positive_int(n_jobs, "n_jobs") if n_jobs is not None else (os.cpu_count() or 1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    bin_of_rank, edges, exact_up_to = _rank_bins(m)
    n_bins = len(edges) - 1
    offsets = bin_of_rank * m
    k = min(top_k, m)

    def work(w: FloatArray) -> tuple[IntArray, IntArray]:
        order = _rank_order(setup.values_for(w))
        in_top = np.bincount(order[:, :k].ravel(), minlength=m)
        # Count (rank bin, site) pairs rank by rank (transposed): the draws of one
        # rank all land in the same row of the (bin x site) histogram, in cache.
        cells = np.add(order.T, offsets[:, None], order="C")
        return in_top, np.bincount(cells.ravel(), minlength=n_bins * m)

    top_counts = np.zeros(m, dtype=np.int64)
    hist = np.zeros(n_bins * m, dtype=np.int64)
    chunks = _draws(rng, setup.weights, draws, chunk, float(concentration), bounds)
    if workers == 1:
        for w in chunks:
            in_top, counts = work(w)
            top_counts += in_top
            hist += counts
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[Future[tuple[IntArray, IntArray]]] = deque()
            for w in chunks:
                pending.append(pool.submit(work, w))
                if len(pending) >= workers:
                    in_top, counts = pending.popleft().result()
                    top_counts += in_top
                    hist += counts
            while pending:
                in_top, counts = pending.popleft().result()
                top_counts += in_top
                hist += counts
    table = hist.reshape(n_bins, m)

    baseline = _ranks_from_order(_rank_order(setup.values_for(setup.weights[None, :])))[0]
    cumulative = np.cumsum(table, axis=0)
    occupied = table > 0
    first_bin = np.argmax(occupied, axis=0)
    last_bin = n_bins - 1 - np.argmax(occupied[::-1], axis=0)
    columns = {
        "p_top_k": top_counts / draws,
        "median_rank": _quantile_ranks(table, edges, draws, 0.50, cumulative),
        "rank_p05": _quantile_ranks(table, edges, draws, 0.05, cumulative),
        "rank_p95": _quantile_ranks(table, edges, draws, 0.95, cumulative),
        "rank_best": (edges[first_bin] + 1).astype(float),
        "rank_worst": edges[last_bin + 1].astype(float),
        "baseline_rank": baseline.astype(float),
    }
    out = pd.DataFrame(np.nan, index=setup.index.copy(), columns=list(columns), dtype="float64")
    for name, value in columns.items():
        out.iloc[setup.rows, out.columns.get_loc(name)] = value
    out.attrs = {
        "draws": draws,
        "sampling": "dirichlet" if bounds is None else "uniform",
        "concentration": None if bounds is not None else float(concentration),
        "bounds": bounds,
        "method": setup.method,
        "options": dict(setup.options),
        "top_k": top_k,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "n_eligible": m,
        "rank_exact_up_to": exact_up_to,
        "weights": {str(c): float(v) for c, v in zip(setup.criteria, setup.weights, strict=True)},
    }
    logger.info(
        "monte_carlo_ranks: %d draws x %d eligible sites (%s, %s) in %.2f s",
        draws,
        m,
        setup.method,
        out.attrs["sampling"],
        time.perf_counter() - started,
    )
    return out


# ---------------------------------------------------------------------------
# One criterion at a time
# ---------------------------------------------------------------------------


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
        site), ``top_k`` (tuple of labels, best first), ``top_k_overlap`` (how
        many of the baseline top k are still in the top k),
        ``baseline_first_rank`` (rank of the baseline's first site),
        ``baseline_top_k_worst_rank`` (worst rank among the baseline top k)
        and ``kendall_tau`` (rank correlation of all eligible sites' values
        with the baseline, tau-b; 1 = same order).  ``attrs`` holds the
        baseline weights, first site and top k.
    """
    steps = _positive_int(steps, "steps", minimum=2)
    top_k = _positive_int(top_k, "top_k")
    setup = _setup(
        scores, weights, method=method, options=options, eligible=eligible, who="weight_sweep"
    )
    which = _sweep_criteria(setup, criterion, "weight_sweep")
    k = min(top_k, setup.n_eligible)
    w = setup.weights
    base_values = setup.values_for(w[None, :])[0]
    base_order = _rank_order(base_values[None, :].copy())[0]
    base_top = base_order[:k]
    labels = setup.labels
    rows: list[dict[str, Any]] = []
    grid = np.linspace(0.0, 1.0, steps)
    for j in which:
        # the grid plus the baseline weight itself (replacing a grid point within 1e-9 of it)
        targets = np.sort(np.append(grid[np.abs(grid - w[j]) > 1e-9], w[j]))
        values = setup.values_for(_reweight(w, j, targets))
        order = _rank_order(values.copy())
        ranks = _ranks_from_order(order)
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
                    "top_k": tuple(labels[order[p, :k]]),
                    "top_k_overlap": int(np.isin(order[p, :k], base_top).sum()),
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
        # A crossing exactly at weight 0 or 1 is only a tie there, which the earlier
        # site wins (ties go by site order); beyond it the weight cannot go.
        at_end = np.abs(t - end) <= 1e-12
        valid = rising & inside & (~at_end | (np.arange(len(t)) < a))
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
        return np.asarray(
            np.argmax(setup.values_for(_reweight(w, j, targets)), axis=1), dtype=np.intp
        )

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
        (the first-ranked site now), ``up_to`` (the weight at which another
        site takes over when increasing; NaN if none up to 1), ``up_by``
        (``up_to - weight``), ``new_first_up``, and ``down_to``, ``down_by``
        (``weight - down_to``, positive), ``new_first_down`` likewise
        downwards.  At the crossing the two sites tie.
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
    base = setup.values_for(w[None, :])[0]
    a = int(np.argmax(base))
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


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------


def _percent(p: float) -> str:
    if p >= 1.0:
        return "100%"
    if p <= 0.0:
        return "0%"
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{round(100 * p)}%"


def robustness_summary(mc: pd.DataFrame, *, top_k: int) -> pd.Series:
    """One sentence per site from :func:`monte_carlo_ranks`.

    Parameters
    ----------
    mc : pandas.DataFrame
        The result of :func:`monte_carlo_ranks`.
    top_k : int
        The ``top_k`` it was run with (checked against ``mc.attrs``).

    Returns
    -------
    pandas.Series
        E.g. ``"in the top 5 in 93% of weightings (median rank 2, 90%
        interval 1–4)"``; ``"not eligible (not ranked)"`` for sites without
        ranks.  Named ``"robustness"``.
    """
    top_k = _positive_int(top_k, "top_k")
    needed = ["p_top_k", "median_rank", "rank_p05", "rank_p95"]
    if not isinstance(mc, pd.DataFrame) or any(c not in mc.columns for c in needed):
        raise WeightsError(
            f"robustness_summary needs the table from monte_carlo_ranks (columns {needed!r})."
        )
    ran_with = mc.attrs.get("top_k")
    if ran_with is not None and ran_with != top_k:
        raise WeightsError(
            f"top_k={top_k!r} but the Monte Carlo table was computed with top_k={ran_with!r}; "
            f"pass top_k={ran_with!r} (or rerun monte_carlo_ranks)."
        )
    texts = []
    for p, median, low, high in mc[needed].itertuples(index=False):
        if not np.isfinite(p):
            texts.append("not eligible (not ranked)")
            continue
        texts.append(
            f"in the top {top_k} in {_percent(float(p))} of weightings "
            f"(median rank {int(median)}, 90% interval {int(low)}–{int(high)})"
        )
    return pd.Series(texts, index=mc.index.copy(), name="robustness", dtype=object)


def add_robustness(
    ranked: pd.DataFrame,
    *,
    draws: int = 5000,
    top_k: int = 5,
    concentration: float = 100.0,
    bounds: float | None = None,
    seed: int | np.random.Generator | None = 0,
    method_options: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Add Monte Carlo robustness columns to a ranked table (as from ``rank_sites``).

    The criteria, weights and method are read from ``ranked.attrs["geoplan"]``
    (``"weights"``, ``"method"`` and, if present, ``"method_options"``), the
    0-1 scores from the ``score__<criterion>`` columns and eligibility from
    ``eligible``; see :func:`monte_carlo_ranks` for the draws.

    Parameters
    ----------
    ranked : pandas.DataFrame or geopandas.GeoDataFrame
        The ranked table; not modified.
    draws, top_k, concentration, bounds, n_jobs
        As for :func:`monte_carlo_ranks`.
    seed : int or numpy.random.Generator, optional
        Seed of the draws; 0 by default so that a report is reproducible.
    method_options : mapping, optional
        Options of the method (``v``, ``optimism``) when the table does not
        record them.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy with the columns ``p_top_k``, ``median_rank``, ``rank_p05``,
        ``rank_p95``, ``rank_best``, ``rank_worst`` and ``robustness`` (a
        sentence, see :func:`robustness_summary`); the settings are stored in
        ``attrs["geoplan"]["robustness"]``.

    Raises
    ------
    WeightsError
        If the table does not record its weights.
    CriterionError
        If a criterion's ``score__`` column is missing.
    """
    meta = ranked.attrs.get("geoplan", {}) if isinstance(ranked, pd.DataFrame) else {}
    weights = meta.get("weights") if isinstance(meta, Mapping) else None
    if not weights:
        raise WeightsError(
            "The ranked table does not record its criterion weights (attrs['geoplan']['weights']); "
            "rank the sites with geoplan.rank_sites or score_sites first."
        )
    columns = {name: f"score__{name}" for name in weights}
    missing = [column for column in columns.values() if column not in ranked.columns]
    if missing:
        raise CriterionError(
            f"The ranked table lacks the score columns {missing!r}; it must come from "
            "geoplan.rank_sites (with its score__<criterion> columns)."
        )
    scores = pd.DataFrame(
        {name: ranked[column] for name, column in columns.items()}, index=ranked.index
    )
    eligible = ranked["eligible"].astype(bool) if "eligible" in ranked.columns else None
    options = dict(meta.get("method_options") or {})
    options.update(method_options or {})
    mc = monte_carlo_ranks(
        scores,
        pd.Series(weights, dtype="float64"),
        draws=draws,
        concentration=concentration,
        bounds=bounds,
        method=str(meta.get("method", "weighted_sum")),
        top_k=top_k,
        eligible=eligible,
        seed=seed,
        n_jobs=n_jobs,
        **options,
    )
    out = ranked.copy()
    out.attrs = copy.deepcopy(ranked.attrs)
    for column in ["p_top_k", "median_rank", "rank_p05", "rank_p95", "rank_best", "rank_worst"]:
        out[column] = mc[column]
    out["robustness"] = robustness_summary(mc, top_k=top_k)
    out.attrs.setdefault("geoplan", {})["robustness"] = dict(mc.attrs)
    return out

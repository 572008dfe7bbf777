"""How much does the ranking depend on the weights?  Monte Carlo weightings.

Weights are judgements; a site recommendation should survive reasonable
disagreement about them.  :func:`monte_carlo_ranks` draws thousands of
weightings around the chosen ones (Dirichlet with a ``concentration``, or
uniform within +/- ``bounds``) and reports per site the probability of being in
the top k and the spread of its rank; :func:`robustness_summary` turns that
into a sentence per site and :func:`add_robustness` adds both to a ranked
table (the map popups show the sentence).  One criterion at a time -- weight
sweeps and the smallest weight change that changes the first site -- is in
:mod:`geoplan.decide.sensitivity`.

Only *eligible* sites are ranked, criteria with weight 0 stay at 0 and ranks
are 1 = best.  Tied sites are treated alike, never by their order in the table
(see :mod:`geoplan.decide._weightings`): in each weighting they share the best of
their places for the rank statistics, and a shortlist place that only some of
them can have is shared equally for ``p_top_k``.  Sites with the same score on
every weighted criterion tie in every weighting; the ``tied_with`` column names
them.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, WeightsError, plain
from geoplan.decide._weightings import (
    _CHUNK_CELLS,
    FloatArray,
    IntArray,
    _min_ranks,
    _positive_int,
    _rank_with_ties,
    _setup,
    _shortlist_counts,
)

__all__ = ["add_robustness", "monte_carlo_ranks", "robustness_summary"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")

# tied_with names at most this many other sites.
_MAX_TIED_NAMES = 10

# Rank histograms hold at most this many (rank bin x site) cells (32 MB of
# int64): exact ranks for up to 2048 eligible sites, beyond that exact ranks at
# the top and geometrically wider bins further down (see _rank_bins).
_HIST_CELLS = 2**22
_MIN_BINS = 32


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


def _tied_with(values: FloatArray, labels: pd.Index) -> list[str]:
    """Per site, the other sites with the same score on every criterion (labels, ", "-joined)."""
    _, group, size = np.unique(values + 0.0, axis=0, return_inverse=True, return_counts=True)
    group = np.asarray(group).ravel()
    out = [""] * len(labels)
    shared = np.flatnonzero(size[group] > 1)
    names = [str(plain(label)) for label in labels]
    for members in pd.Series(shared).groupby(group[shared]).agg(list):
        for member in members:
            others = [names[i] for i in members if i != member]
            listed = ", ".join(others[:_MAX_TIED_NAMES])
            more = len(others) - _MAX_TIED_NAMES
            out[member] = listed + (f" and {more} more" if more > 0 else "")
    return out


def _bounded_map(func: Callable[[_T], _R], items: Iterable[_T], workers: int) -> Iterator[_R]:
    """``map(func, items)`` on ``workers`` threads, in order, with at most ``workers`` items in flight.

    Items are taken from ``items`` only as results are consumed, so memory stays
    bounded however many there are.
    """
    if workers == 1:
        yield from map(func, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[_R]] = deque()
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


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
        Aggregation method (see :func:`geoplan.decide.mcda.aggregate`).
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
        ``rank_p95`` (the 90 % interval), ``rank_best``, ``rank_worst``,
        ``baseline_rank`` (under ``weights``) and ``tied_with`` (the labels of
        the other eligible sites with the same score on every weighted
        criterion, which tie with it in every weighting, ``", "``-joined, at
        most 10 then "and N more"; ``""`` for none; missing for
        ineligible sites).  In each weighting tied
        sites share the best of their places (two sites tied for first are both
        rank 1), and when a tie straddles the last place of the top
        ``top_k`` its members share the places left equally (for two sites
        tied for one place each counts half): the exact expectation of
        breaking the tie at random, so no site is favoured for coming first in
        ``scores``.  Ranks are 1-based among the
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

    def work(w: FloatArray) -> tuple[FloatArray, IntArray]:
        order, starts = _rank_with_ties(setup.values_for(w))
        in_top = _shortlist_counts(order, starts, k)
        # Count (rank bin, site) pairs rank by rank (transposed): the draws of one
        # rank all land in the same row of the (bin x site) histogram, in cache.
        # Tied sites all count at the first place of their tie.
        bins = offsets[:, None] if starts is None else offsets[starts].T
        cells = np.add(order.T, bins, order="C")
        return in_top, np.bincount(cells.ravel(), minlength=n_bins * m)

    top_counts = np.zeros(m, dtype=np.float64)
    hist = np.zeros(n_bins * m, dtype=np.int64)
    chunks = _draws(rng, setup.weights, draws, chunk, float(concentration), bounds)
    for in_top, counts in _bounded_map(work, chunks, workers):
        top_counts += in_top
        hist += counts
    table = hist.reshape(n_bins, m)

    baseline = _min_ranks(*_rank_with_ties(setup.baseline_values()[None, :]))[0]
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
    tied = pd.Series(None, index=out.index, dtype=object)
    tied.iloc[setup.rows] = _tied_with(setup.values[setup.columns], setup.labels)
    out["tied_with"] = tied
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
        interval 1–4)"``, followed for sites with identical scores by
        ``"; tied in every weighting with C07 (the same scores), sharing its
        places"``; ``"not eligible (not ranked)"`` for sites without ranks.
        Named ``"robustness"``.
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
    tied = mc["tied_with"] if "tied_with" in mc.columns else pd.Series("", index=mc.index)
    texts = []
    for (p, median, low, high), others in zip(
        mc[needed].itertuples(index=False), tied.fillna("").astype(str), strict=True
    ):
        if not np.isfinite(p):
            texts.append("not eligible (not ranked)")
            continue
        text = (
            f"in the top {top_k} in {_percent(float(p))} of weightings "
            f"(median rank {int(median)}, 90% interval {int(low)}–{int(high)})"
        )
        if others:
            text += f"; tied in every weighting with {others} (the same scores), sharing its places"
        texts.append(text)
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
    ``eligible``; see :func:`monte_carlo_ranks` for the draws.  Sites are
    named (in ``tied_with`` and in messages) by the study's id column
    (``attrs["geoplan"]["id_column"]``, recorded by ``rank_sites``) when the
    table has it with unique values, else by the table's index.

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
        ``rank_p95``, ``rank_best``, ``rank_worst``, ``tied_with`` and
        ``robustness`` (a sentence, see :func:`robustness_summary`); the
        settings are stored in
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
    id_column = meta.get("id_column")
    labels = (
        pd.Index(ranked[id_column])
        if id_column in ranked.columns
        and ranked[id_column].notna().all()
        and ranked[id_column].is_unique
        else ranked.index
    )
    scores = pd.DataFrame(
        {name: ranked[column].to_numpy() for name, column in columns.items()}, index=labels
    )
    eligible = (
        pd.Series(ranked["eligible"].to_numpy(dtype=bool), index=labels)
        if "eligible" in ranked.columns
        else None
    )
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
        out[column] = mc[column].to_numpy()
    out["tied_with"] = mc["tied_with"].to_numpy()
    out["robustness"] = robustness_summary(mc, top_k=top_k).to_numpy()
    out.attrs.setdefault("geoplan", {})["robustness"] = dict(mc.attrs)
    return out

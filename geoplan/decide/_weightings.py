"""Ranking the sites under many weightings at once: the checked problem and a fast rank order.

Shared by :mod:`geoplan.decide.robustness` (Monte Carlo weightings) and
:mod:`geoplan.decide.sensitivity` (one criterion at a time).

Only *eligible* sites are ranked (``eligible=``); the aggregation itself (the
TOPSIS ideal, the VIKOR best and worst) uses every site with scores, exactly as
:func:`geoplan.decide.mcda.aggregate` does, so the baseline ranks match the ranking
table.  Criteria with weight 0 stay at 0 (give them a small weight to include
them).

Ranks are 1 = best.  Sites whose values are equal (to about 1e-11 relative,
so that rounding cannot split them) are *tied*: they share the best of their
places, as in the ranking table's ``rank`` (two sites tied for first are both
rank 1, the next is rank 3), and a place on a shortlist that only some of them
can have is shared equally (:func:`_shortlist_counts`).  No site is favoured
for coming earlier in the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, WeightsError, plain
from geoplan.decide import mcda

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
UIntArray: TypeAlias = npt.NDArray[np.uint64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

# Draws per chunk: chunk x sites values stay below this many float64 (32 MB).
_CHUNK_CELLS = 2**22
_INF_BITS = np.uint64(0x7FF0000000000000)
_SIGN_BIT = np.uint64(0x8000000000000000)


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

    def baseline_values(self) -> FloatArray:
        """Values of the eligible sites under the chosen weights (a new 1-D array)."""
        values: FloatArray = self.values_for(self.weights[None, :])[0]
        return values


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
                f"eligible= has no value for {len(missing)} site(s), e.g. {[plain(x) for x in missing[:3]]!r}; "
                "give one True/False per row of scores (same index)."
            )
        if len(unknown):
            raise CriterionError(
                f"eligible= names sites that are not in scores, e.g. {[plain(x) for x in unknown[:3]]!r}; "
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
            f"eligible= must be True/False per site; site {plain(bad.index[0])!r} has {plain(bad.iloc[0])!r}."
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
        sites = [plain(x) for x in scores.index[lacking][:3]]
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


def _sorted_keys(values: FloatArray) -> tuple[UIntArray, int]:
    """Sort keys of every row of ``values`` (overwritten), ascending = best first.

    Argsort is slow; sorting plain integers is fast (SIMD).  Each value is
    turned into an unsigned key that sorts in descending value order, its
    lowest ``ceil(log2(sites))`` bits (returned) are replaced by the site
    position, and the keys are sorted: the low bits of the sorted keys are the
    order, the high bits the (rounded) values.
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
    return keys, low_bits


def _order_from_keys(keys: UIntArray, low_bits: int) -> IntArray:
    """The site positions held in the low bits of sorted keys (in place)."""
    np.bitwise_and(keys, np.uint64((1 << low_bits) - 1), out=keys)
    return keys.view(np.int64)


def _tie_starts(keys: UIntArray, low_bits: int) -> IntArray | None:
    """For every place of the sorted keys, the first place of its tie, or None without ties.

    Neighbours in the order tie when their rounded values differ by at most one
    step of the rounding (about 1e-11 relative for 10 000 sites), so values that
    should be equal but differ in the last bits still tie.
    """
    # Neighbours with rounded values h1 <= h2 tie when h2 < h1 + 2, that is when the
    # second key is below the first with its position bits cleared plus 2 steps.
    limit = np.bitwise_and(keys[:, :-1], np.uint64(~((1 << low_bits) - 1) & (2**64 - 1)))
    limit += np.uint64(2 << low_bits)
    tied = keys[:, 1:] < limit
    if not tied.any():
        return None
    m = keys.shape[1]
    starts = np.where(tied, np.int64(0), np.arange(1, m, dtype=np.int64))
    starts = np.concatenate([np.zeros((len(keys), 1), dtype=np.int64), starts], axis=1)
    np.maximum.accumulate(starts, axis=1, out=starts)
    return starts


def _rank_order(values: FloatArray) -> IntArray:
    """Site positions from best to worst for every row of ``values`` (overwritten).

    Values closer than ``2 ** bits`` units in the last place (~1e-11 relative
    for 10 000 sites) are ordered by position, like a stable sort; see
    :func:`_rank_with_ties` for which places tie.
    """
    return _order_from_keys(*_sorted_keys(values))


def _rank_with_ties(values: FloatArray) -> tuple[IntArray, IntArray | None]:
    """The order of :func:`_rank_order` and the tie starts of :func:`_tie_starts`."""
    keys, low_bits = _sorted_keys(values)
    starts = _tie_starts(keys, low_bits)
    return _order_from_keys(keys, low_bits), starts


def _min_ranks(order: IntArray, starts: IntArray | None) -> IntArray:
    """1-based rank of every site, tied sites sharing the best of their places (rows independent)."""
    ranks = np.empty_like(order)
    places = (
        np.broadcast_to(np.arange(1, order.shape[1] + 1, dtype=np.int64), order.shape)
        if starts is None
        else starts + 1
    )
    np.put_along_axis(ranks, order, places, axis=1)
    return ranks


def _shortlist_counts(order: IntArray, starts: IntArray | None, k: int) -> FloatArray:
    """How often each site is in the top ``k`` over the rows, a tie at the cut shared.

    When tied sites straddle the last place of the shortlist, each gets an equal
    share of the places left for them: ``(k - first place of the tie) / (size
    of the tie)``, the exact expectation of breaking the tie at random.
    """
    m = order.shape[1]
    counts = np.bincount(order[:, :k].ravel(), minlength=m).astype(np.float64)
    if starts is None or k >= m:
        return counts
    first = starts[:, k]  # first place of the tie holding the first place outside
    rows = np.flatnonzero(first < k)
    if not len(rows):
        return counts
    first = first[rows]
    members = starts[rows] == first[:, None]  # rows x places: the tie across the cut
    size = members.sum(axis=1)
    share = (k - first) / size
    place = np.broadcast_to(np.arange(m), members.shape)[members]
    credit = np.repeat(share, size) - (place < k)
    counts += np.bincount(order[rows][members], weights=credit, minlength=m)
    return counts

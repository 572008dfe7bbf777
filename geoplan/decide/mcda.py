"""Aggregation methods: from a sites x criteria table of 0-1 scores to one value per site.

Every method takes ``scores`` (a DataFrame, one row per site, one column per
criterion, 0 = worst and 1 = best) and ``weights`` (a Series by criterion) and
returns a Series aligned to ``scores.index`` where **higher is better**:

``"weighted_sum"``
    ``sum_j w_j x_ij`` -- fully compensatory: a weak criterion can be made up
    for by a strong one.  The default; easiest to explain.
``"topsis"``
    Closeness to the ideal site (Hwang & Yoon 1981): vector-normalised
    scores, weighted; distance ``D+`` to the best value of every criterion and
    ``D-`` to the worst; value ``D- / (D+ + D-)``.
``"vikor"``
    Compromise ranking (Opricovic & Tzeng 2004): group utility ``S`` (weighted
    sum of shortfalls from the best site) and individual regret ``R`` (the
    largest weighted shortfall), combined as ``Q`` with strategy weight ``v``;
    the value returned is ``1 - Q``.  :func:`vikor` gives ``S``, ``R``, ``Q``.
``"owa"``
    Importance-weighted ordered weighted average (Yager 1996) with an
    ``optimism`` between 0 (a site is as good as its worst criterion) and 1 (as
    good as its best); 0.5 is the weighted sum.  See :func:`owa`.

Sites with a missing (NaN) score on a criterion that has weight get NaN and
take no part in the ideal / anti-ideal values of the others.  Criteria with
weight 0 are ignored (their scores may be missing).

References
----------
Hwang, C.-L. & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods
and Applications*. Springer (TOPSIS; fighter-aircraft example pp. 133-134).
Opricovic, S. & Tzeng, G.-H. (2004). Compromise solution by MCDM methods: a
comparative analysis of VIKOR and TOPSIS. *European Journal of Operational
Research* 156, 445-455.
Yager, R. R. (1996). Quantifier guided aggregation using OWA operators.
*International Journal of Intelligent Systems* 11, 49-73.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, WeightsError, plain
from geoplan.decide.weights import normalize_weights

__all__ = [
    "METHODS",
    "aggregate",
    "method_name",
    "method_options",
    "owa",
    "topsis",
    "topsis_table",
    "vikor",
    "weighted_sum",
]

logger = logging.getLogger(__name__)

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
#: Maps a (draws x criteria) weight matrix to (draws x sites) values, higher better.
Evaluator: TypeAlias = Callable[[FloatArray], FloatArray]

#: Aggregation methods by name.
METHODS: Final = ("weighted_sum", "topsis", "vikor", "owa")

_OPTIONS: Final[dict[str, dict[str, float]]] = {
    "weighted_sum": {},
    "topsis": {},
    "vikor": {"v": 0.5},
    "owa": {"optimism": 0.5},
}
_ALIASES: Final = {"wsm": "weighted_sum", "saw": "weighted_sum", "sum": "weighted_sum"}
# Scores of methods that assume commensurable 0-1 scores are checked against
# this range (a little slack for floating-point noise).
_RANGE_SLACK = 1e-9


# ---------------------------------------------------------------------------
# Checking inputs
# ---------------------------------------------------------------------------


def method_name(method: str) -> str:
    """The canonical name of an aggregation method (``"Weighted-Sum"`` -> ``"weighted_sum"``).

    Raises
    ------
    WeightsError
        For an unknown method, listing the valid names.
    """
    if not isinstance(method, str):
        raise WeightsError(f"method={method!r} must be a string, one of {list(METHODS)!r}.")
    key = method.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        close = difflib.get_close_matches(key, METHODS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise WeightsError(
            f"Unknown aggregation method {method!r}.{hint} Use one of {list(METHODS)!r}."
        )
    return key


def method_options(method: str, options: Mapping[str, Any]) -> dict[str, float]:
    """Check the options of a method and fill in defaults.

    Raises
    ------
    WeightsError
        For an option the method does not have, or a value outside [0, 1].
    """
    name = method_name(method)
    allowed = _OPTIONS[name]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        valid = f"its options are {sorted(allowed)!r}" if allowed else "it has no options"
        raise WeightsError(f"Method {name!r} has no option(s) {unknown!r}; {valid}.")
    out = dict(allowed)
    for key, raw in options.items():
        value = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        if value is None or not math.isfinite(value) or not 0 <= value <= 1:
            meaning = {
                "v": "the weight of group utility S against individual regret R (0.5 = balanced)",
                "optimism": "0 = judge a site by its worst criterion, 1 = by its best, 0.5 = weighted sum",
            }[key]
            raise WeightsError(
                f"{name} option {key}={raw!r} must be a number from 0 to 1: {meaning}."
            )
        out[key] = float(value)
    return out


@dataclass(frozen=True)
class _Problem:
    """Checked scores restricted to the criteria with weight and the complete sites."""

    values: FloatArray  # complete sites x used criteria
    weights: FloatArray  # used criteria, sums to 1
    criteria: list[Any]  # used criterion names
    complete: BoolArray  # per site of `index`
    index: pd.Index


def _problem(
    scores: pd.DataFrame, weights: pd.Series | Mapping[str, float], *, who: str, unit_range: bool
) -> _Problem:
    if not isinstance(scores, pd.DataFrame):
        raise CriterionError(
            f"{who} needs scores as a DataFrame (one row per site, one column per criterion), "
            f"got {type(scores).__name__}."
        )
    if scores.columns.has_duplicates:
        dup = sorted({str(c) for c in scores.columns[scores.columns.duplicated()]})
        raise CriterionError(
            f"{who}: criteria {dup!r} appear twice in the scores; give each column once."
        )
    w = normalize_weights(weights)
    missing = [c for c in scores.columns if c not in w.index]
    extra = [c for c in w.index if c not in scores.columns]
    if missing:
        raise WeightsError(
            f"{who}: no weight for criteria {missing!r} in the scores; add them to the weights "
            "(0 to leave a criterion out)."
        )
    if extra:
        raise WeightsError(
            f"{who}: weights given for criteria {extra!r} that are not columns of the scores "
            f"{list(scores.columns)!r}; remove them or add their scores."
        )
    used = [c for c in scores.columns if w[c] > 0]
    for column in used:
        dtype = scores[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise CriterionError(
                f"{who}: criterion {column!r} has non-numeric scores (dtype {dtype}); "
                "scores must be numbers, 0 = worst and 1 = best."
            )
    values = np.asarray(scores[used].to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        j = int(np.flatnonzero(infinite.any(axis=0))[0])
        i = int(np.flatnonzero(infinite[:, j])[0])
        raise CriterionError(
            f"{who}: criterion {plain(used[j])!r} has an infinite score ({float(values[i, j])!r} at site "
            f"{plain(scores.index[i])!r}); scores must be finite (0-1), use NaN for a missing score."
        )
    complete: BoolArray = np.asarray(~np.isnan(values).any(axis=1), dtype=bool)
    if not complete.any():
        raise CriterionError(
            f"{who}: no site has scores for all weighted criteria {used!r}; fill the missing "
            "scores (or give the criteria that lack them weight 0)."
        )
    values = values[complete]
    if unit_range:
        outside = (values < -_RANGE_SLACK) | (values > 1 + _RANGE_SLACK)
        if outside.any():
            j = int(np.flatnonzero(outside.any(axis=0))[0])
            i = int(np.flatnonzero(outside[:, j])[0])
            site = scores.index[np.flatnonzero(complete)[i]]
            raise CriterionError(
                f"{who}: criterion {plain(used[j])!r} has score {float(values[i, j])!r} at site {plain(site)!r}, outside "
                "0-1; this method needs 0-1 scores (1 = best): rescale the criterion first "
                "(TOPSIS and VIKOR accept any finite values)."
            )
        values = np.clip(values, 0.0, 1.0)
    if not complete.all():
        logger.info(
            "%s: %d of %d sites lack a score and get NaN",
            who,
            int((~complete).sum()),
            len(complete),
        )
    return _Problem(
        values=values,
        weights=w[used].to_numpy(dtype=float) / float(w[used].sum()),
        criteria=used,
        complete=complete,
        index=scores.index,
    )


def _series(problem: _Problem, values: FloatArray, name: str) -> pd.Series:
    out = np.full(len(problem.index), np.nan)
    out[problem.complete] = values
    return pd.Series(out, index=problem.index.copy(), name=name, dtype="float64")


# ---------------------------------------------------------------------------
# Vectorised evaluators: weights (draws x criteria) -> values (draws x sites)
# ---------------------------------------------------------------------------


def _weighted_sum_evaluator(values: FloatArray) -> Evaluator:
    transposed = np.ascontiguousarray(values.T)

    def evaluate(w: FloatArray) -> FloatArray:
        return np.asarray(w @ transposed, dtype=np.float64)

    return evaluate


def _topsis_parts(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    norms = np.sqrt((values**2).sum(axis=0))
    r = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    to_ideal = np.ascontiguousarray(((r - r.max(axis=0)) ** 2).T)
    to_anti = np.ascontiguousarray(((r - r.min(axis=0)) ** 2).T)
    return to_ideal, to_anti


def _topsis_distances(
    to_ideal: FloatArray, to_anti: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray]:
    # v_ij = w_j r_ij and the ideal is w_j max_i r_ij (w >= 0), so
    # D+^2 = sum_j w_j^2 (r_ij - max r_j)^2: one matrix product for all draws.
    w2 = w**2
    return np.sqrt(w2 @ to_ideal), np.sqrt(w2 @ to_anti)


def _closeness(d_ideal: FloatArray, d_anti: FloatArray) -> FloatArray:
    total = d_ideal + d_anti
    # A site that is both ideal and anti-ideal (all sites equal) is at the ideal: 1.
    return np.divide(d_anti, total, out=np.ones_like(total), where=total > 0)


def _topsis_evaluator(values: FloatArray) -> Evaluator:
    to_ideal, to_anti = _topsis_parts(values)

    def evaluate(w: FloatArray) -> FloatArray:
        return _closeness(*_topsis_distances(to_ideal, to_anti, w))

    return evaluate


def _vikor_shortfall(values: FloatArray) -> FloatArray:
    best, worst = values.max(axis=0), values.min(axis=0)
    spread = best - worst
    # A criterion on which all sites score the same is no shortfall for anyone.
    out: FloatArray = np.divide(best - values, spread, out=np.zeros_like(values), where=spread > 0)
    return out


def _rescale_rows(x: FloatArray) -> FloatArray:
    low = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - low
    out: FloatArray = np.divide(x - low, span, out=np.zeros_like(x), where=span > 0)
    return out


def _vikor_sqr(
    shortfall: FloatArray, w: FloatArray, v: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    s = w @ shortfall.T
    r = np.zeros_like(s)
    term = np.empty_like(s)
    for j in range(shortfall.shape[1]):  # loop over criteria, vectorised over draws x sites
        np.multiply(w[:, j, None], shortfall[None, :, j], out=term)
        np.maximum(r, term, out=r)
    q = v * _rescale_rows(s) + (1.0 - v) * _rescale_rows(r)
    return s, r, q


def _vikor_evaluator(values: FloatArray, v: float) -> Evaluator:
    shortfall = _vikor_shortfall(values)

    def evaluate(w: FloatArray) -> FloatArray:
        return 1.0 - _vikor_sqr(shortfall, w, v)[2]

    return evaluate


def _owa_evaluator(values: FloatArray, optimism: float) -> Evaluator:
    order = np.argsort(-values, axis=1, kind="stable")  # best criterion of each site first
    ordered = np.take_along_axis(values, order, axis=1)
    # Summation by parts: sum_k (Q(U_k) - Q(U_{k-1})) b_k = sum_k Q(U_k) (b_k - b_{k+1}),
    # with b_{n+1} = 0, so only Q(U_k) is needed per weighting; the steps do not depend on it.
    steps = ordered - np.concatenate([ordered[:, 1:], np.zeros_like(ordered[:, :1])], axis=1)
    # Criteria-first layout (criteria x sites x draws): the cumulative sum over
    # criteria is then a few additions of contiguous slabs.
    order_t = np.ascontiguousarray(order.T)
    steps_t = np.ascontiguousarray(steps.T)
    exponent = (1.0 - optimism) / optimism if 0.0 < optimism < 1.0 else 1.0

    def evaluate(w: FloatArray) -> FloatArray:
        if optimism >= 1.0 or optimism <= 0.0:
            masked = np.where(w[:, None, :] > 0, values[None, :, :], np.nan)
            pick = np.nanmax if optimism >= 1.0 else np.nanmin
            return np.asarray(pick(masked, axis=2), dtype=np.float64)
        cumulative = np.asarray(w.T[order_t], dtype=np.float64)  # u_(k) per site, then U_k
        np.cumsum(cumulative, axis=0, out=cumulative)
        cumulative /= cumulative[-1]
        head = cumulative[:-1]  # U_n = 1 and Q(1) = 1
        np.minimum(head, 1.0, out=head)
        if exponent != 1.0:  # Q(U) = U ** a, as exp(a ln U): faster than power
            with np.errstate(divide="ignore"):
                np.log(head, out=head)
            head *= exponent
            np.exp(head, out=head)
        return np.ascontiguousarray(np.einsum("ksd,ks->ds", cumulative, steps_t), dtype=np.float64)

    return evaluate


def _evaluator(method: str, values: FloatArray, options: Mapping[str, float]) -> Evaluator:
    if method == "weighted_sum":
        return _weighted_sum_evaluator(values)
    if method == "topsis":
        return _topsis_evaluator(values)
    if method == "vikor":
        return _vikor_evaluator(values, options["v"])
    return _owa_evaluator(values, options["optimism"])


def _needs_unit_range(method: str) -> bool:
    return method in ("weighted_sum", "owa")


# ---------------------------------------------------------------------------
# Public methods
# ---------------------------------------------------------------------------


def weighted_sum(scores: pd.DataFrame, weights: pd.Series | Mapping[str, float]) -> pd.Series:
    """Weighted sum of 0-1 scores: ``sum_j w_j x_ij`` (weights normalised to sum 1).

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1, higher better.
    weights : pandas.Series or mapping
        Weight per criterion (one per column of ``scores``).

    Returns
    -------
    pandas.Series
        Value 0-1 per site (NaN where a weighted score is missing), named
        ``"weighted_sum"``.

    Raises
    ------
    WeightsError
        For invalid weights or weights that do not match the columns.
    CriterionError
        For non-numeric, infinite or out-of-range scores.
    """
    problem = _problem(scores, weights, who="weighted_sum", unit_range=True)
    value = _weighted_sum_evaluator(problem.values)(problem.weights[None, :])[0]
    return _series(problem, np.clip(value, 0.0, 1.0), "weighted_sum")


def topsis_table(scores: pd.DataFrame, weights: pd.Series | Mapping[str, float]) -> pd.DataFrame:
    """TOPSIS distances and closeness, for reports and checks.

    Each criterion is vector-normalised (``r_ij = x_ij / sqrt(sum_i x_ij^2)``)
    and weighted (``v_ij = w_j r_ij``).  ``d_ideal`` is the Euclidean distance
    to the best weighted value of every criterion, ``d_anti_ideal`` to the
    worst, and ``closeness = d_anti_ideal / (d_ideal + d_anti_ideal)`` (1 when
    all sites are equal).  All criteria are benefits: pass a cost criterion
    negated (``-x``), which vector normalisation turns into exactly the
    textbook cost treatment.  Multiplying a criterion by a positive constant
    does not change anything.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, any finite values, higher better.
    weights : pandas.Series or mapping
        Weight per criterion.

    Returns
    -------
    pandas.DataFrame
        Columns ``d_ideal``, ``d_anti_ideal``, ``closeness``, indexed like ``scores``.
    """
    problem = _problem(scores, weights, who="topsis", unit_range=False)
    to_ideal, to_anti = _topsis_parts(problem.values)
    d_ideal, d_anti = _topsis_distances(to_ideal, to_anti, problem.weights[None, :])
    return pd.DataFrame(
        {
            "d_ideal": _series(problem, d_ideal[0], "d_ideal"),
            "d_anti_ideal": _series(problem, d_anti[0], "d_anti_ideal"),
            "closeness": _series(problem, _closeness(d_ideal, d_anti)[0], "closeness"),
        }
    )


def topsis(scores: pd.DataFrame, weights: pd.Series | Mapping[str, float]) -> pd.Series:
    """TOPSIS closeness to the ideal site, 0-1, higher better.

    See :func:`topsis_table` for the formula.  The ideal and anti-ideal come
    from the sites in ``scores``, so adding or removing a site can change the
    others' values (and, rarely, their order).

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, any finite values, higher better.
    weights : pandas.Series or mapping
        Weight per criterion.

    Returns
    -------
    pandas.Series
        Closeness per site, named ``"topsis"``.
    """
    return topsis_table(scores, weights)["closeness"].rename("topsis")


def vikor(
    scores: pd.DataFrame, weights: pd.Series | Mapping[str, float], *, v: float = 0.5
) -> pd.DataFrame:
    """VIKOR group utility ``S``, individual regret ``R`` and compromise index ``Q``.

    With ``f*_j`` and ``f-_j`` the best and worst score of criterion *j* over
    the sites, the weighted shortfall is ``d_ij = w_j (f*_j - x_ij) / (f*_j -
    f-_j)`` (0 for a criterion on which all sites are equal).  Then ``S_i =
    sum_j d_ij``, ``R_i = max_j d_ij`` and ``Q_i = v (S_i - S*) / (S- - S*) +
    (1 - v) (R_i - R*) / (R- - R*)`` (a term is 0 when all sites share the same
    ``S`` or ``R``).  **Lower is better** for all three, as in Opricovic & Tzeng
    (2004); :func:`aggregate` returns ``1 - Q`` so that higher is better.
    The compromise-acceptance conditions of VIKOR (advantage, stability) are
    not applied.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, any finite values, higher better.
    weights : pandas.Series or mapping
        Weight per criterion.
    v : float
        Weight of group utility against individual regret, 0-1 (0.5 = by consensus).

    Returns
    -------
    pandas.DataFrame
        Columns ``S``, ``R``, ``Q``, indexed like ``scores``.
    """
    options = method_options("vikor", {"v": v})
    problem = _problem(scores, weights, who="vikor", unit_range=False)
    s, r, q = _vikor_sqr(_vikor_shortfall(problem.values), problem.weights[None, :], options["v"])
    return pd.DataFrame(
        {
            "S": _series(problem, s[0], "S"),
            "R": _series(problem, r[0], "R"),
            "Q": _series(problem, q[0], "Q"),
        }
    )


def owa(
    scores: pd.DataFrame, weights: pd.Series | Mapping[str, float], *, optimism: float = 0.5
) -> pd.Series:
    """Importance-weighted ordered weighted average (Yager 1996), 0-1, higher better.

    For each site the scores are sorted from best to worst, ``b_1 >= ... >=
    b_n``, each carrying its criterion weight ``u_(k)``.  With cumulative
    weights ``U_k = u_(1) + ... + u_(k)`` (``U_0 = 0``) and the quantifier
    ``Q(r) = r ** a``, ``a = (1 - optimism) / optimism``, the value is::

        OWA_i = sum_k (Q(U_k) - Q(U_{k-1})) * b_k

    * ``optimism = 0.5`` (``a = 1``): the order weights equal the criterion
      weights -- the weighted sum;
    * ``optimism -> 1``: the best criterion of the site dominates
      (``optimism = 1`` is the maximum over criteria with weight, "any");
    * ``optimism -> 0``: the worst criterion dominates (``optimism = 0`` is
      the minimum, "all": a site is as good as its weakest criterion).

    ``optimism`` is the orness of the quantifier (``integral of Q = 1 / (1 +
    a)``).  Criterion weights still matter at every optimism: a criterion with
    more weight takes a larger share of the order weights wherever it falls
    in a site's order.  The value is a Choquet integral with respect to the
    monotone measure ``Q(sum of weights in a set)``, so a site that scores at
    least as well on every criterion never gets a lower value.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1, higher better.
    weights : pandas.Series or mapping
        Weight per criterion.
    optimism : float
        0 (pessimistic, "and") to 1 (optimistic, "or").

    Returns
    -------
    pandas.Series
        Value per site, named ``"owa"``.
    """
    options = method_options("owa", {"optimism": optimism})
    problem = _problem(scores, weights, who="owa", unit_range=True)
    value = _owa_evaluator(problem.values, options["optimism"])(problem.weights[None, :])[0]
    return _series(problem, np.clip(value, 0.0, 1.0), "owa")


def aggregate(
    scores: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    method: str = "weighted_sum",
    **options: Any,
) -> pd.Series:
    """One 0-1 value per site from its criterion scores; higher is better.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1 scores, higher better (index = sites).
    weights : pandas.Series or mapping
        Weight per criterion, one per column (normalised here; 0 = ignore).
    method : {"weighted_sum", "topsis", "vikor", "owa"}
        Aggregation method (see the module docstring).
    **options
        Method options: ``v`` for VIKOR (default 0.5), ``optimism`` for OWA
        (default 0.5).

    Returns
    -------
    pandas.Series
        Aligned to ``scores.index``, named after the method; NaN for sites
        missing a weighted score.  For VIKOR the value is ``1 - Q``.

    Raises
    ------
    WeightsError
        For an unknown method (listing the valid ones), an unknown or invalid
        option, or weights that are invalid or do not match the columns.
    CriterionError
        For non-numeric or infinite scores, scores outside 0-1 (weighted sum
        and OWA), or when no site has all weighted scores.

    Examples
    --------
    >>> scores = pd.DataFrame({"jobs": [0.9, 0.4], "transit": [0.2, 0.8]}, index=["A", "B"])
    >>> aggregate(scores, pd.Series({"jobs": 0.5, "transit": 0.5})).round(2).to_dict()
    {'A': 0.55, 'B': 0.6}
    """
    name = method_name(method)
    checked = method_options(name, options)
    if name == "weighted_sum":
        return weighted_sum(scores, weights)
    if name == "topsis":
        return topsis(scores, weights)
    if name == "vikor":
        table = vikor(scores, weights, v=checked["v"])
        return (1.0 - table["Q"]).rename("vikor")
    return owa(scores, weights, optimism=checked["optimism"])

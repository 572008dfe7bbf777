"""Criterion weights: stated directly, or "objective" weights from the scores.

Ways to arrive at the weights that :func:`geoplan.decide.mcda.aggregate` uses:

* :func:`normalize_weights` -- weights stated directly ("jobs 0.4, transit 0.3
  ..."), checked and rescaled to sum to 1;
* :func:`geoplan.decide.ahp.ahp_weights` and :func:`geoplan.decide.ahp.group_ahp` -- from
  pairwise judgements by one person or a group (Saaty's AHP);
* :func:`entropy_weights` and :func:`critic_weights` -- "objective" weights
  from how much the site scores vary (entropy) or vary and disagree (CRITIC).

Every function returns a float :class:`pandas.Series` indexed by criterion
name and summing to 1.

References
----------
Zeleny, M. (1982). *Multiple Criteria Decision Making*. McGraw-Hill (entropy
weights); Diakoulaki, D., Mavrotas, G. & Papayannakis, L. (1995). Determining
objective weights in multiple criteria problems: the CRITIC method. *Computers &
Operations Research* 22, 763-770.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, GeoplanWarning, WeightsError, plain

__all__ = ["critic_weights", "entropy_weights", "normalize_weights"]

FloatArray: TypeAlias = npt.NDArray[np.float64]


# ---------------------------------------------------------------------------
# Plain weights
# ---------------------------------------------------------------------------


def normalize_weights(weights: Mapping[str, float] | pd.Series) -> pd.Series:
    """Check criterion weights and rescale them to sum to 1.

    Parameters
    ----------
    weights : mapping of str to float or pandas.Series
        Weight per criterion name, in any unit (``{"jobs": 4, "transit": 3}``
        and ``{"jobs": 0.4, "transit": 0.3}`` are the same), up to the
        largest float (weights near ``1e308`` are scaled down by a power of
        two before summing, which changes no result).  A weight of 0
        keeps a criterion in the table without letting it count.

    Returns
    -------
    pandas.Series
        Float weights named ``"weight"``, indexed by criterion, summing to 1,
        in the order given.

    Raises
    ------
    WeightsError
        If there are no weights, a name appears twice, or a weight is not a
        number, NaN, infinite or negative (the message lists every such
        criterion with its value), or all weights are zero.
    """
    if isinstance(weights, pd.Series):
        items: list[tuple[Hashable, Any]] = list(weights.items())
    elif isinstance(weights, Mapping):
        items = list(weights.items())
    else:
        raise WeightsError(
            f"Weights must be a mapping or pandas Series of criterion name to weight, "
            f"got {type(weights).__name__}: {weights!r}. Pass e.g. {{'jobs': 0.4, 'transit': 0.6}}."
        )
    if not items:
        raise WeightsError(
            "No weights given; give one weight per criterion, e.g. {'jobs': 1, 'transit': 1}."
        )
    names = [name for name, _ in items]
    duplicated = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicated:
        raise WeightsError(
            f"Criteria {duplicated!r} have more than one weight; give each criterion once."
        )

    values: list[float] = []
    bad: list[str] = []
    for name, raw in items:
        value = _as_float(raw)
        if raw is None or raw is pd.NA:
            bad.append(f"{plain(name)!r} is missing")
        elif value is None:
            bad.append(f"{plain(name)!r} = {plain(raw)!r} is not a number")
        elif math.isnan(value):
            bad.append(f"{plain(name)!r} is NaN (missing)")
        elif math.isinf(value):
            bad.append(f"{plain(name)!r} = {value!r} is infinite")
        elif value < 0:
            bad.append(f"{plain(name)!r} = {value!r} is negative")
        values.append(float("nan") if value is None else value)
    if bad:
        raise WeightsError(
            "Invalid criterion weights: "
            + "; ".join(bad)
            + ". Weights must be finite numbers >= 0 (use 0 to switch a criterion off)."
        )
    largest = max(values)
    if largest <= 0:
        raise WeightsError(
            f"All criterion weights are zero ({dict(zip(map(str, names), values, strict=True))!r}); "
            "give at least one criterion a positive weight."
        )
    # Scaled by a power of two first, the sum cannot overflow (weights near 1e308)
    # and the result is exactly that of the same weights in any other unit.
    scaled = _scaled_columns(np.asarray(values, dtype=np.float64)[:, None])[:, 0]
    total = math.fsum(scaled)
    index = weights.index.copy() if isinstance(weights, pd.Series) else pd.Index(names)
    out = pd.Series(scaled / total, index=index, name="weight", dtype="float64")
    if out.index.name is None:
        out.index.name = "criterion"
    return out


def _as_float(value: Any) -> float | None:
    """A number as float, or None for anything else (strings and booleans included)."""
    if isinstance(value, bool | np.bool_) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


# ---------------------------------------------------------------------------
# Objective weights
# ---------------------------------------------------------------------------


def _score_matrix(scores: pd.DataFrame, who: str) -> FloatArray:
    if not isinstance(scores, pd.DataFrame):
        raise CriterionError(
            f"{who} needs a DataFrame of sites x criteria scores, got {type(scores).__name__}."
        )
    if scores.shape[1] == 0:
        raise CriterionError(f"{who}: the scores table has no criteria columns.")
    if scores.columns.has_duplicates:
        dup = sorted({str(c) for c in scores.columns[scores.columns.duplicated()]})
        raise CriterionError(f"{who}: criteria {dup!r} appear twice in the scores; give each once.")
    for column in scores.columns:
        if not (
            pd.api.types.is_numeric_dtype(scores[column])
            or pd.api.types.is_bool_dtype(scores[column])
        ):
            raise CriterionError(
                f"{who}: criterion {column!r} has non-numeric scores (dtype {scores[column].dtype}); "
                "scores must be numbers from 0 (worst) to 1 (best)."
            )
    values: FloatArray = np.asarray(scores.to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)
    if values.shape[0] < 2:
        raise WeightsError(
            f"{who} needs at least two sites to measure how criteria vary; got {values.shape[0]}."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        i = int(np.flatnonzero(bad[:, j])[0])
        raise CriterionError(
            f"{who}: criterion {plain(scores.columns[j])!r} has a missing or infinite score "
            f"({float(values[i, j])!r} at site {plain(scores.index[i])!r}, {int(bad[:, j].sum())} site(s) in all); "
            "fill the missing scores or drop those sites first."
        )
    return values


def _scaled_columns(values: FloatArray) -> FloatArray:
    """Each column divided by the power of two nearest above its largest magnitude.

    Entropy and CRITIC do not change when a column is multiplied by a positive
    constant; scaling by a power of two is exact, and keeps sums and spreads of
    values near 1e308 from overflowing.
    """
    largest = np.abs(values).max(axis=0)
    exponents = np.frexp(np.where(largest > 0, largest, 1.0))[1]
    return np.asarray(np.ldexp(values, -exponents), dtype=np.float64)


def _constant_columns(values: FloatArray, columns: pd.Index, who: str) -> npt.NDArray[np.bool_]:
    with np.errstate(over="ignore"):  # a spread beyond the largest float is no constant
        spread = values.max(axis=0) - values.min(axis=0)
    scale = np.maximum(np.abs(values).max(axis=0), 1.0)
    constant: npt.NDArray[np.bool_] = np.asarray(spread <= 1e-12 * scale, dtype=bool)
    if constant.all():
        raise WeightsError(
            f"{who}: every criterion has the same score at all sites "
            f"({list(map(str, columns))!r}), so the data carry no information to weight them; "
            "give weights by hand (normalize_weights) or by AHP instead."
        )
    if constant.any():
        names = [str(c) for c in columns[constant]]
        warnings.warn(
            f"{who}: criteria {names!r} have the same score at every site and carry no "
            "information; they get weight 0.",
            GeoplanWarning,
            stacklevel=3,
        )
    return constant


def _weight_series(weights: FloatArray, criteria: pd.Index) -> pd.Series:
    """Weights as the Series every function here returns: named ``weight``, indexed by criterion."""
    return pd.Series(weights, index=criteria.copy(), name="weight", dtype="float64").rename_axis(
        "criterion"
    )


def entropy_weights(scores: pd.DataFrame) -> pd.Series:
    """Objective weights by Shannon entropy: criteria that vary more weigh more.

    With ``p_ij = x_ij / sum_i x_ij`` (site *i*, criterion *j*, m sites), the
    entropy ``E_j = -sum_i p_ij ln p_ij / ln m`` (``0 ln 0 = 0``) is 1 for a
    criterion on which all sites score the same and falls as the scores spread;
    the weights are ``(1 - E_j) / sum_k (1 - E_k)``.  The scores are used as
    given (no re-normalisation; the result does not change if a column is
    multiplied by a positive constant).

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, scores >= 0 (0-1, higher better).

    Returns
    -------
    pandas.Series
        Weights per criterion, summing to 1.

    Raises
    ------
    CriterionError
        For missing, infinite, negative or non-numeric scores.
    WeightsError
        For fewer than two sites or when no criterion varies.

    Warns
    -----
    GeoplanWarning
        Naming criteria with the same score everywhere (they get weight 0).

    Notes
    -----
    ``pymcdm.weights.entropy_weights`` sets the entropy of any column that
    contains a zero to 0 (full weight); here a zero score contributes
    ``0 ln 0 = 0`` as in the textbook definition, so the two agree only on
    strictly positive data.
    """
    values = _score_matrix(scores, "entropy_weights")
    if (values < 0).any():
        j = int(np.flatnonzero((values < 0).any(axis=0))[0])
        raise CriterionError(
            f"entropy_weights: criterion {plain(scores.columns[j])!r} has negative scores "
            f"(min {float(values[:, j].min())!r}); entropy weights need scores >= 0 (rescale to 0-1)."
        )
    constant = _constant_columns(values, scores.columns, "entropy_weights")
    values = _scaled_columns(values)
    m = values.shape[0]
    totals = values.sum(axis=0)
    safe_totals = np.where(totals > 0, totals, 1.0)
    p = values / safe_totals
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    entropy = -plogp.sum(axis=0) / math.log(m)
    divergence = np.clip(1.0 - entropy, 0.0, None)
    divergence[constant] = 0.0
    return _weight_series(divergence / divergence.sum(), scores.columns)


def critic_weights(scores: pd.DataFrame) -> pd.Series:
    """Objective weights by CRITIC: contrast (spread) times conflict with the other criteria.

    Each criterion is rescaled to 0-1 over the sites (``(x - min) / (max - min)``,
    as in Diakoulaki et al. 1995), then ``C_j = s_j * sum_k (1 - r_jk)`` with
    ``s_j`` the sample standard deviation and ``r_jk`` the Pearson correlation
    between criteria, and the weights are ``C_j / sum_k C_k``.  A criterion
    that varies a lot and disagrees with the others weighs most; two
    criteria measuring the same thing share their weight.

    Criteria with the same score everywhere get weight 0 and take no part in
    the correlations.  If only one criterion varies it gets weight 1; if all
    varying criteria are perfectly correlated (``C = 0``) they share the
    weight equally.

    Parameters
    ----------
    scores : pandas.DataFrame
        Sites x criteria, 0-1 scores, higher better.

    Returns
    -------
    pandas.Series
        Weights per criterion, summing to 1.

    Raises
    ------
    CriterionError
        For missing, infinite or non-numeric scores.
    WeightsError
        For fewer than two sites or when no criterion varies.

    Warns
    -----
    GeoplanWarning
        Naming criteria with the same score everywhere (they get weight 0).
    """
    values = _score_matrix(scores, "critic_weights")
    constant = _constant_columns(values, scores.columns, "critic_weights")
    values = _scaled_columns(values)
    varying = ~constant
    x = values[:, varying]
    low, high = x.min(axis=0), x.max(axis=0)
    normalised = (x - low) / (high - low)
    spread = normalised.std(axis=0, ddof=1)
    if x.shape[1] == 1:
        information = np.ones(1)
    else:
        correlation = np.corrcoef(normalised, rowvar=False)
        information = spread * (1.0 - correlation).sum(axis=0)
        information = np.clip(information, 0.0, None)
        if information.sum() <= 1e-15:
            information = np.ones(x.shape[1])
    weights = np.zeros(values.shape[1])
    weights[varying] = information / information.sum()
    return _weight_series(weights, scores.columns)

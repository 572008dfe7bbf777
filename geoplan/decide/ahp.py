"""Weights from pairwise judgements: Saaty's analytic hierarchy process, alone or as a group.

* :func:`ahp_weights` -- pairwise judgements such as ``"jobs > transit: 3"``
  (jobs moderately more important than transit; see
  :func:`geoplan.decide.pairwise.pairwise_matrix` for the forms accepted) give
  weights by the principal-eigenvector method, with the consistency ratio
  and, when it is too high, the one judgement to revisit;
* :func:`group_ahp` -- several people's judgements combined by the element-wise
  geometric mean (aggregation of individual judgements, AIJ), with each
  person's consistency and distance from the group.

References
----------
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill.
Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process.
*European Journal of Operational Research* 48, 9-26.
Harker, P. T. (1987). Incomplete pairwise comparisons in the analytic hierarchy
process. *Mathematical Modelling* 9, 837-848.
Aczél, J. & Saaty, T. L. (1983). Procedures for synthesizing ratio judgements.
*Journal of Mathematical Psychology* 27, 93-102 (geometric mean for groups).
Aguarón, J. & Moreno-Jiménez, J. M. (2003). The geometric consistency index:
approximated thresholds. *European Journal of Operational Research* 147, 137-145.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import ConsistencyError, GeoplanWarning, WeightsError
from geoplan.decide.pairwise import (
    InconsistentJudgement,
    PairwiseInput,
    _nearest_scale,
    _parse_pairwise,
)
from geoplan.decide.weights import _as_float, normalize_weights

__all__ = [
    "SAATY_RANDOM_INDEX",
    "AHPResult",
    "GroupAHPResult",
    "ahp_weights",
    "group_ahp",
]

logger = logging.getLogger(__name__)

FloatArray: TypeAlias = npt.NDArray[np.float64]
OnInconsistent: TypeAlias = Literal["raise", "warn", "ignore"]

# Saaty's random consistency index RI(n): the mean consistency index of random
# reciprocal matrices with entries from the 1-9 scale.  n <= 10: Saaty (1980),
# *The Analytic Hierarchy Process*, Table 1.2 (repeated in Saaty 1990, EJOR 48).
# n = 11-15: the extension commonly cited with it (e.g. Saaty 1990/2000 course
# material).  Other simulations (Alonso & Lamata 2006, Donegan & Dodd 1991)
# give slightly different values; 12 is lower than 11 in this table as published.
SAATY_RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}

_MAX_AHP_CRITERIA = max(SAATY_RANDOM_INDEX)


@dataclass(frozen=True)
class AHPResult:
    """Weights from a pairwise comparison matrix and how consistent it is.

    Attributes
    ----------
    weights : pandas.Series
        Priority weights (principal right eigenvector, summing to 1).
    lambda_max : float
        Principal eigenvalue; equals the number of criteria n exactly when the
        judgements are consistent (``a_ij * a_jk == a_ik`` for all i, j, k).
    ci : float
        Consistency index ``(lambda_max - n) / (n - 1)`` (0 for n <= 2).
    cr : float
        Consistency ratio ``ci / ri`` (0 for n <= 2).  Saaty's rule of thumb:
        acceptable up to 0.10 (0.05 for 3 and 0.08 for 4 criteria).
    ri : float
        Saaty's random index for n criteria (:data:`SAATY_RANDOM_INDEX`).
    matrix : pandas.DataFrame
        The reciprocal comparison matrix used (rows over columns).
    most_inconsistent : InconsistentJudgement or None
        The judgement to revisit first, or None when the judgements are
        consistent or there are fewer than three criteria.
    max_cr : float
        The consistency ratio accepted.
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    cr: float
    ri: float
    matrix: pd.DataFrame
    most_inconsistent: InconsistentJudgement | None = None
    max_cr: float = 0.10

    @property
    def n(self) -> int:
        """Number of criteria."""
        return len(self.weights)

    @property
    def is_consistent(self) -> bool:
        """Whether the consistency ratio is within ``max_cr``."""
        return self.cr <= self.max_cr

    def summary(self) -> str:
        """A few lines for a report: weights, lambda_max, CI, CR and what to revisit."""
        lines = [f"AHP weights from {self.n} criteria (principal eigenvector):"]
        width = max(len(str(k)) for k in self.weights.index)
        lines += [f"  {k!s:<{width}}  {v:.3f}" for k, v in self.weights.items()]
        verdict = "acceptable" if self.is_consistent else "too inconsistent"
        lines.append(
            f"lambda_max = {self.lambda_max:.3f}, CI = {self.ci:.3f}, RI = {self.ri:.2f}, "
            f"CR = {self.cr:.3f} ({verdict}; limit {self.max_cr:.2f})"
        )
        if self.most_inconsistent is not None and not self.is_consistent:
            lines.append("revisit: " + self.most_inconsistent.describe())
        return "\n".join(lines)


@dataclass(frozen=True)
class GroupAHPResult:
    """Several people's AHP judgements combined by the geometric mean (AIJ).

    Attributes
    ----------
    group : AHPResult
        The result for the element-wise (weighted) geometric mean matrix.
    individual : dict of str to AHPResult
        Each person's own result.
    individual_weights : pandas.DataFrame
        One row per person, one column per criterion.
    members : pandas.DataFrame
        One row per person: ``cr`` (own consistency ratio), ``consistent``
        (``cr <= max_cr``), ``gci`` (geometric compatibility of the person's
        judgements with the group weights, see :func:`group_ahp`),
        ``weight_shift`` (half the L1 distance between the person's and the
        group's weights: the share of weight that would have to move, 0-1),
        ``max_gap`` and ``max_gap_criterion`` (the criterion where the person
        departs most from the group and by how much, in weight units).
    member_weights : pandas.Series
        How much each person counted in the geometric mean (sums to 1).
    """

    group: AHPResult
    individual: dict[str, AHPResult]
    individual_weights: pd.DataFrame
    members: pd.DataFrame
    member_weights: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))

    @property
    def weights(self) -> pd.Series:
        """The group weights (same as ``group.weights``)."""
        return self.group.weights


def _principal(matrix: FloatArray) -> tuple[float, FloatArray]:
    """Principal eigenvalue and eigenvector (normalised to sum 1) of a positive matrix."""
    eigenvalues, eigenvectors = np.linalg.eig(matrix)
    k = int(np.argmax(eigenvalues.real))
    vector = np.abs(eigenvectors[:, k].real)
    return float(eigenvalues[k].real), vector / vector.sum()


def _consistency(lambda_max: float, n: int) -> tuple[float, float, float]:
    if n <= 2:
        return 0.0, 0.0, 0.0
    ci = max((lambda_max - n) / (n - 1), 0.0)
    ri = SAATY_RANDOM_INDEX[n]
    return ci, ri, ci / ri


def _most_inconsistent(
    matrix: FloatArray, names: list[str], orientation: list[tuple[int, int]]
) -> InconsistentJudgement | None:
    """The judgement whose change to what the others imply lowers CR the most.

    For each judgement (i, k), the weights the *other* judgements imply come
    from the matrix with that judgement left out (Harker 1987: a_ik = a_ki = 0
    and 2 on the diagonal at i and k; principal eigenvector).  Their ratio
    w_i / w_k, rounded to the 1-9 scale, is tried in place of the judgement.
    """
    n = len(names)
    if n <= 2:
        return None
    best: InconsistentJudgement | None = None
    fallback: tuple[float, InconsistentJudgement] | None = None
    for i, k in orientation:
        current = float(matrix[i, k])
        reduced = matrix.copy()
        reduced[i, k] = reduced[k, i] = 0.0
        reduced[i, i] = reduced[k, k] = 2.0
        implied = _principal(reduced)[1]
        consistent = float(implied[i] / implied[k])
        suggested = _nearest_scale(consistent)
        trial = matrix.copy()
        trial[i, k], trial[k, i] = suggested, 1.0 / suggested
        cr_after = _consistency(_principal(trial)[0], n)[2]
        candidate = InconsistentJudgement(
            (names[i], names[k]), current, consistent, suggested, cr_after
        )
        changes = abs(math.log(suggested / current)) > 1e-9
        if changes and (best is None or cr_after < best.cr_if_changed - 1e-12):
            best = candidate
        deviation = abs(math.log(current / consistent))
        if fallback is None or deviation > fallback[0]:
            trial[i, k], trial[k, i] = consistent, 1.0 / consistent
            exact = _consistency(_principal(trial)[0], n)[2]
            fallback = (
                deviation,
                InconsistentJudgement((names[i], names[k]), current, consistent, consistent, exact),
            )
    if best is not None:
        return best
    return fallback[1] if fallback is not None else None


def _check_options(max_cr: float, on_inconsistent: str) -> None:
    if on_inconsistent not in ("raise", "warn", "ignore"):
        raise WeightsError(
            f"on_inconsistent={on_inconsistent!r} is not an option; use 'raise', 'warn' or 'ignore'."
        )
    value = _as_float(max_cr)
    if value is None or not math.isfinite(value) or value <= 0:
        raise WeightsError(
            f"max_cr={max_cr!r} must be a positive number such as 0.10 (Saaty's limit)."
        )


def _ahp(
    values: FloatArray,
    names: list[str],
    orientation: list[tuple[int, int]],
    *,
    max_cr: float,
    on_inconsistent: str,
    who: str = "",
    stacklevel: int = 3,
) -> AHPResult:
    n = len(names)
    if n > _MAX_AHP_CRITERIA:
        raise WeightsError(
            f"AHP with {n} criteria: Saaty's random index is tabulated only up to "
            f"{_MAX_AHP_CRITERIA}, and so many comparisons are unreliable. Group the criteria "
            "into a hierarchy (at most 15, ideally 7 +/- 2, per comparison matrix)."
        )
    lambda_max, vector = _principal(values)
    ci, ri, cr = _consistency(lambda_max, n)
    if cr <= 1e-12:
        ci = cr = 0.0
    worst = _most_inconsistent(values, names, orientation) if cr > 0 else None
    result = AHPResult(
        weights=pd.Series(vector, index=pd.Index(names, name="criterion"), name="weight"),
        lambda_max=lambda_max,
        ci=ci,
        cr=cr,
        ri=ri,
        matrix=pd.DataFrame(values, index=pd.Index(names, name="criterion"), columns=names),
        most_inconsistent=worst,
        max_cr=float(max_cr),
    )
    logger.debug("AHP%s: n=%d lambda_max=%.4f CI=%.4f CR=%.4f", who, n, lambda_max, ci, cr)
    if cr > max_cr and on_inconsistent != "ignore":
        revisit = (
            f" The judgement to revisit first: {worst.describe()}." if worst is not None else ""
        )
        message = (
            f"AHP judgements{who} are too inconsistent: consistency ratio CR = {cr:.3f} exceeds "
            f"max_cr = {max_cr:g} (lambda_max = {lambda_max:.3f}, CI = {ci:.3f}, RI = {ri:.2f} "
            f"for {n} criteria).{revisit} Revise the judgements, or pass on_inconsistent='warn' "
            "(or a higher max_cr) to use these weights anyway."
        )
        if on_inconsistent == "raise":
            raise ConsistencyError(message)
        warnings.warn(message, GeoplanWarning, stacklevel=stacklevel)
    return result


def ahp_weights(
    matrix: PairwiseInput,
    *,
    criteria: Sequence[str] | None = None,
    max_cr: float = 0.10,
    on_inconsistent: OnInconsistent = "raise",
) -> AHPResult:
    """Weights from pairwise comparisons by Saaty's principal-eigenvector method.

    The weights ``w`` solve ``A w = lambda_max w`` for the reciprocal matrix
    ``A`` of judgements.  Consistency is measured by ``CI = (lambda_max - n) /
    (n - 1)`` and ``CR = CI / RI(n)`` with Saaty's random index
    (:data:`SAATY_RANDOM_INDEX`).  When ``CR > max_cr`` the judgement whose
    change to the value implied by the others (``w_a / w_b`` from the weights
    of the matrix without it, rounded to the 1-9 scale) lowers CR the most is
    named, with that value.

    Parameters
    ----------
    matrix : array-like, pandas.DataFrame, mapping or sequence
        The judgements, in any form :func:`~geoplan.decide.pairwise.pairwise_matrix` accepts, e.g.
        ``["jobs > transit: 3", "jobs > parks: 5", "transit > parks: 2"]``.
    criteria : sequence of str, optional
        Criterion names in the order wanted (and to name a plain array's rows).
    max_cr : float
        Largest acceptable consistency ratio (Saaty: 0.10).
    on_inconsistent : {"raise", "warn", "ignore"}
        What to do when ``CR > max_cr``: raise :class:`ConsistencyError`, emit a
        :class:`GeoplanWarning` and return the weights, or just return them.

    Returns
    -------
    AHPResult
        ``weights``, ``lambda_max``, ``ci``, ``cr``, ``ri``, ``matrix`` and
        ``most_inconsistent``.

    Raises
    ------
    WeightsError
        If the judgements are malformed (see :func:`~geoplan.decide.pairwise.pairwise_matrix`) or there
        are more than 15 criteria.
    ConsistencyError
        If ``CR > max_cr`` and ``on_inconsistent="raise"``; the message names
        the judgement to revisit and the value that would fit.

    Examples
    --------
    >>> result = ahp_weights(["jobs > transit: 2", "jobs > parks: 4", "transit > parks: 2"])
    >>> result.weights.round(3).to_dict()
    {'jobs': 0.571, 'transit': 0.286, 'parks': 0.143}
    >>> result.cr
    0.0
    """
    _check_options(max_cr, on_inconsistent)
    values, names, orientation = _parse_pairwise(matrix, criteria)
    return _ahp(values, names, orientation, max_cr=max_cr, on_inconsistent=on_inconsistent)


def group_ahp(
    matrices: Mapping[str, PairwiseInput],
    *,
    criteria: Sequence[str] | None = None,
    member_weights: Mapping[str, float] | None = None,
    max_cr: float = 0.10,
    on_inconsistent: OnInconsistent = "raise",
) -> GroupAHPResult:
    """Combine several people's pairwise judgements (AIJ, geometric mean).

    The group matrix is the element-wise weighted geometric mean
    ``a_ij = prod_k a_ij(k) ** m_k`` of the members' matrices (Aczél & Saaty
    1983), which keeps it reciprocal; its weights come from
    :func:`ahp_weights`.  For each member the table ``members`` reports the
    member's own consistency ratio and how far they are from the group:

    * ``gci`` -- geometric compatibility of the member's judgements with the
      group weights ``w``: ``2 / ((n-1)(n-2)) * sum_{i<j} ln(a_ij w_j / w_i)^2``
      (the geometric consistency index of Aguarón & Moreno-Jiménez 2003 with
      the group's weights instead of the member's; 0 = fully compatible;
      their thresholds 0.31 for n = 3, 0.35 for n = 4 and 0.37 above are a
      guide).  NaN for two criteria.
    * ``weight_shift`` -- half the L1 distance between the member's and the
      group's weights (0 = same weights, 1 = nothing in common).

    Parameters
    ----------
    matrices : mapping of str to matrix-like
        Judgements per person (any form :func:`ahp_weights` accepts); all over
        the same criteria.
    criteria : sequence of str, optional
        Criterion order (default: the first person's).
    member_weights : mapping of str to float, optional
        How much each person counts (normalised; default: equally).
    max_cr : float
        Acceptable consistency ratio, for the members and the group.
    on_inconsistent : {"raise", "warn", "ignore"}
        Applies to the *group* matrix.  Inconsistent members never raise: they
        are listed in one :class:`GeoplanWarning` (unless ``"ignore"``) and in
        ``members["consistent"]``.

    Returns
    -------
    GroupAHPResult

    Raises
    ------
    WeightsError
        If there are no members, a member's judgements are malformed or cover
        other criteria than the rest, or ``member_weights`` are invalid.
    ConsistencyError
        If the group matrix has ``CR > max_cr`` and ``on_inconsistent="raise"``.
    """
    _check_options(max_cr, on_inconsistent)
    if not isinstance(matrices, Mapping) or not matrices:
        raise WeightsError(
            f"group_ahp needs a mapping of person name to judgements, got {matrices!r}; "
            "e.g. {'planner_a': [...], 'planner_b': [...]}."
        )
    parsed: dict[str, tuple[FloatArray, list[str]]] = {}
    order: list[str] | None = [str(c) for c in criteria] if criteria is not None else None
    orientation: list[tuple[int, int]] | None = None
    for member, judgements in matrices.items():
        try:
            values, names, member_orientation = _parse_pairwise(judgements, order)
        except WeightsError as exc:
            raise WeightsError(f"Judgements of {member!r}: {exc}") from None
        if order is None:
            order, orientation = names, member_orientation
        elif set(names) != set(order) or len(names) != len(order):
            raise WeightsError(
                f"{member!r} compares criteria {names!r} but the group compares {order!r}; "
                "every member must compare the same criteria."
            )
        elif orientation is None:
            orientation = member_orientation
        parsed[str(member)] = (values, names)
    assert order is not None and orientation is not None  # at least one member
    people = list(parsed)
    if member_weights is None:
        alpha = pd.Series(1.0 / len(people), index=people, name="weight")
    else:
        unknown = [m for m in member_weights if m not in parsed]
        missing = [m for m in people if m not in member_weights]
        if unknown or missing:
            raise WeightsError(
                f"member_weights must name exactly the members {people!r}: "
                f"unknown {unknown!r}, missing {missing!r}."
            )
        alpha = normalize_weights(dict(member_weights)).reindex(people)
    alpha.index.name = "member"

    logs = np.stack([np.log(parsed[p][0]) for p in people])
    group_values = np.exp(np.tensordot(alpha.to_numpy(), logs, axes=1))
    group = _ahp(
        group_values,
        order,
        orientation,
        max_cr=max_cr,
        on_inconsistent=on_inconsistent,
        who=" of the group",
        stacklevel=3,
    )

    individual = {
        p: _ahp(
            parsed[p][0],
            order,
            orientation,
            max_cr=max_cr,
            on_inconsistent="ignore",
            who=f" of {p!r}",
        )
        for p in people
    }
    n = len(order)
    w = group.weights.to_numpy()
    rows = []
    iu = np.triu_indices(n, 1)
    for p in people:
        a = parsed[p][0]
        own = individual[p].weights.to_numpy()
        if n >= 3:
            errors = np.log(a[iu] * w[iu[1]] / w[iu[0]])
            gci = float(2.0 / ((n - 1) * (n - 2)) * np.sum(errors**2))
        else:
            gci = float("nan")
        gaps = own - w
        k = int(np.argmax(np.abs(gaps)))
        rows.append(
            {
                "cr": individual[p].cr,
                "consistent": individual[p].cr <= max_cr,
                "gci": gci,
                "weight_shift": float(0.5 * np.abs(gaps).sum()),
                "max_gap_criterion": order[k],
                "max_gap": float(gaps[k]),
            }
        )
    members = pd.DataFrame(rows, index=pd.Index(people, name="member"))
    inconsistent = members.index[~members["consistent"]].tolist()
    if inconsistent and on_inconsistent != "ignore":
        listed = ", ".join(f"{p!r} (CR = {members.at[p, 'cr']:.3f})" for p in inconsistent)
        warnings.warn(
            f"Some members' judgements are too inconsistent (max_cr = {max_cr:g}): {listed}. "
            "Their judgements still enter the group mean; ask them to revisit "
            "(see GroupAHPResult.individual[name].most_inconsistent) or give them less weight "
            "with member_weights=.",
            GeoplanWarning,
            stacklevel=2,
        )
    individual_weights = pd.DataFrame({p: individual[p].weights for p in people}).T.rename_axis(
        index="member", columns="criterion"
    )
    return GroupAHPResult(
        group=group,
        individual=individual,
        individual_weights=individual_weights,
        members=members,
        member_weights=alpha,
    )

"""Criterion weights: checked by hand, from pairwise comparisons (AHP) or from the data.

Four ways to arrive at the weights that :func:`geoplan.mcda.aggregate` uses:

* :func:`normalize_weights` -- weights stated directly ("jobs 0.4, transit 0.3
  ..."), checked and rescaled to sum to 1;
* :func:`ahp_weights` -- Saaty's analytic hierarchy process: pairwise
  judgements such as ``"jobs > transit: 3"`` (jobs moderately more important
  than transit) give weights by the principal-eigenvector method, with the
  consistency ratio and, when it is too high, the one judgement to revisit;
* :func:`group_ahp` -- several people's judgements combined by the element-wise
  geometric mean (aggregation of individual judgements, AIJ), with each
  person's consistency and distance from the group;
* :func:`entropy_weights` and :func:`critic_weights` -- "objective" weights
  from how much the site scores vary (entropy) or vary and disagree (CRITIC).

Every function returns a float :class:`pandas.Series` indexed by criterion
name and summing to 1.

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
Zeleny, M. (1982). *Multiple Criteria Decision Making*. McGraw-Hill (entropy
weights); Diakoulaki, D., Mavrotas, G. & Papayannakis, L. (1995). Determining
objective weights in multiple criteria problems: the CRITIC method. *Computers &
Operations Research* 22, 763-770.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import ConsistencyError, CriterionError, GeoplanWarning, WeightsError

__all__ = [
    "SAATY_RANDOM_INDEX",
    "SAATY_SCALE",
    "AHPResult",
    "GroupAHPResult",
    "InconsistentJudgement",
    "ahp_weights",
    "critic_weights",
    "entropy_weights",
    "group_ahp",
    "normalize_weights",
    "pairwise_matrix",
]

logger = logging.getLogger(__name__)

FloatArray: TypeAlias = npt.NDArray[np.float64]
PairwiseInput: TypeAlias = "pd.DataFrame | npt.ArrayLike | Mapping[Any, Any] | Sequence[Any]"
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

#: Saaty's fundamental scale: 1 equal, 3 moderate, 5 strong, 7 very strong,
#: 9 extreme importance (2, 4, 6, 8 in between) and the reciprocals.
SAATY_SCALE: tuple[float, ...] = tuple(
    [1.0 / k for k in range(9, 1, -1)] + [float(k) for k in range(1, 10)]
)

_SCALE_WORDS = {
    1: "equally important",
    2: "equally to moderately more important",
    3: "moderately more important",
    4: "moderately to strongly more important",
    5: "strongly more important",
    6: "strongly to very strongly more important",
    7: "very strongly more important",
    8: "very to extremely more important",
    9: "extremely more important",
}

# A judgement typed as 0.33 for 1/3, or 0.11 for 1/9, must pass.
_RECIPROCAL_RTOL = 0.015
_SCALE_RTOL = 0.015
_MAX_AHP_CRITERIA = max(SAATY_RANDOM_INDEX)


# ---------------------------------------------------------------------------
# Plain weights
# ---------------------------------------------------------------------------


def normalize_weights(weights: Mapping[str, float] | pd.Series) -> pd.Series:
    """Check criterion weights and rescale them to sum to 1.

    Parameters
    ----------
    weights : mapping of str to float or pandas.Series
        Weight per criterion name, in any unit (``{"jobs": 4, "transit": 3}``
        and ``{"jobs": 0.4, "transit": 0.3}`` are the same).  A weight of 0
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
            bad.append(f"{_py(name)!r} is missing")
        elif value is None:
            bad.append(f"{_py(name)!r} = {_py(raw)!r} is not a number")
        elif math.isnan(value):
            bad.append(f"{_py(name)!r} is NaN (missing)")
        elif math.isinf(value):
            bad.append(f"{_py(name)!r} = {value!r} is infinite")
        elif value < 0:
            bad.append(f"{_py(name)!r} = {value!r} is negative")
        values.append(float("nan") if value is None else value)
    if bad:
        raise WeightsError(
            "Invalid criterion weights: "
            + "; ".join(bad)
            + ". Weights must be finite numbers >= 0 (use 0 to switch a criterion off)."
        )
    total = math.fsum(values)
    if total <= 0:
        raise WeightsError(
            f"All criterion weights are zero ({dict(zip(map(str, names), values, strict=True))!r}); "
            "give at least one criterion a positive weight."
        )
    index = weights.index.copy() if isinstance(weights, pd.Series) else pd.Index(names)
    out = pd.Series(
        np.asarray(values, dtype=float) / total, index=index, name="weight", dtype="float64"
    )
    if out.index.name is None:
        out.index.name = "criterion"
    return out


def _py(value: Any) -> Any:
    """A numpy scalar as the plain Python value, so that messages show ``3.0``, not ``np.float64(3.0)``."""
    return value.item() if isinstance(value, np.generic) else value


def _as_float(value: Any) -> float | None:
    """A number as float, or None for anything else (strings and booleans included)."""
    if isinstance(value, bool | np.bool_) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


# ---------------------------------------------------------------------------
# AHP
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InconsistentJudgement:
    """The pairwise judgement whose revision most improves consistency.

    Attributes
    ----------
    pair : tuple of str
        ``(a, b)``: the judgement "how much more important is *a* than *b*",
        oriented as it was entered.
    value : float
        The judgement as entered (after the reciprocal check), ``a_ab``.
    consistent_value : float
        What the other judgements imply: ``w_a / w_b`` from the weights of the
        matrix with this judgement left out (Harker's method for incomplete
        matrices).
    suggested_value : float
        ``consistent_value`` rounded to Saaty's 1-9 scale (in log space); the
        value to change the judgement to.
    cr_if_changed : float
        The consistency ratio after changing only this judgement.
    """

    pair: tuple[str, str]
    value: float
    consistent_value: float
    suggested_value: float
    cr_if_changed: float

    def describe(self) -> str:
        """One sentence for a planner: what the judgement says and what would fit."""
        a, b = self.pair
        return (
            f"{a!r} vs {b!r} = {_format_judgement(self.value)} ({_meaning(a, b, self.value)}); "
            f"the other judgements imply about {_format_judgement(self.consistent_value)}, "
            f"so {a!r} vs {b!r} = {_format_judgement(self.suggested_value)} "
            f"({_meaning(a, b, self.suggested_value)}) would give CR = {self.cr_if_changed:.3f}"
        )


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


def _format_judgement(value: float) -> str:
    """A judgement as a planner writes it: ``3``, ``1/5``, or ``2.47`` / ``1/2.47`` off the scale."""
    ratio = value if value >= 1 else 1.0 / value
    near = round(ratio)
    text = str(int(near)) if abs(ratio - near) <= 0.02 * ratio else f"{ratio:.2f}"
    return text if value >= 1 else f"1/{text}"


def _meaning(a: str, b: str, value: float) -> str:
    if abs(value - 1.0) < 1e-9:
        return f"{a} and {b} equally important"
    more, less, ratio = (a, b, value) if value > 1 else (b, a, 1.0 / value)
    word = _SCALE_WORDS.get(round(ratio), "more important")
    if abs(ratio - round(ratio)) > 0.05 * ratio:
        word = f"about {ratio:.1f} times as important"
    return f"{more} {word} than {less}"


_OPERATORS = {">": ">", "＞": ">", "<": "<", "＜": "<", "=": "=", "＝": "="}
_JUDGEMENT_RE = re.compile(
    r"^\s*(?P<a>[^<>=＜＞＝:：]+?)\s*(?P<op>[<>=＜＞＝])\s*(?P<b>[^<>=＜＞＝:：]+?)\s*"
    r"(?:[:：]\s*(?P<v>\S.*?))?\s*$"
)


@dataclass(frozen=True)
class _Judgement:
    a: str
    b: str
    value: float
    text: str


def _parse_value(raw: Any, text: str) -> float:
    if isinstance(raw, str):
        try:
            return float(Fraction(raw.strip().replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise WeightsError(
                f"Judgement {text!r} has intensity {raw!r}, which is not a number; "
                "use a value of Saaty's 1-9 scale such as 3 or '1/3'."
            ) from None
    value = _as_float(raw)
    if value is None:
        raise WeightsError(
            f"Judgement {text!r} has intensity {raw!r}, which is not a number; "
            "use a value of Saaty's 1-9 scale such as 3 or '1/3'."
        )
    return value


def _parse_statement(text: str, value: Any = None) -> _Judgement:
    """``"jobs > transit: 3"`` (or key ``"jobs > transit"`` with a separate value)."""
    match = _JUDGEMENT_RE.match(text)
    if match is None:
        raise WeightsError(
            f"Cannot read the judgement {text!r}; write it as 'jobs > transit: 3' "
            "(jobs 3 times as important as transit), 'jobs < transit: 3' or 'jobs = transit'."
        )
    a, b = match["a"].strip(), match["b"].strip()
    op = _OPERATORS[match["op"]]
    if match["v"] is not None and value is not None:
        raise WeightsError(
            f"Judgement {text!r} gives its intensity twice (in the text and as {value!r}); give it once."
        )
    raw = match["v"] if match["v"] is not None else value
    if raw is None:
        if op != "=":
            raise WeightsError(
                f"Judgement {text!r} has no intensity; add one from Saaty's 1-9 scale, "
                f"e.g. '{a} {op} {b}: 3'."
            )
        raw = 1
    number = _parse_value(raw, text)
    if op == "=" and abs(number - 1.0) > 1e-9:
        raise WeightsError(
            f"Judgement {text!r} says '=' (equally important) but gives intensity {raw!r}; "
            f"use '{a} > {b}: {raw}' or drop the intensity."
        )
    if op == "<":
        return _Judgement(b, a, number, text)
    return _Judgement(a, b, number, text)


def _judgements_from(matrix: Mapping[Any, Any] | Sequence[Any]) -> list[_Judgement]:
    out: list[_Judgement] = []
    if isinstance(matrix, Mapping):
        for key, raw in matrix.items():
            if isinstance(key, tuple) and len(key) == 2:
                a, b = str(key[0]), str(key[1])
                text = f"({key[0]!r}, {key[1]!r}): {raw!r}"
                out.append(_Judgement(a, b, _parse_value(raw, text), text))
            elif isinstance(key, str):
                out.append(_parse_statement(key, raw))
            else:
                raise WeightsError(
                    f"Judgement key {key!r} is neither a pair ('jobs', 'transit') nor a statement "
                    "'jobs > transit'; use e.g. {('jobs', 'transit'): 3}."
                )
        return out
    for item in matrix:
        if isinstance(item, str):
            out.append(_parse_statement(item))
        elif (
            isinstance(item, Sequence)
            and len(item) == 3
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            text = repr(tuple(item))
            out.append(_Judgement(item[0], item[1], _parse_value(item[2], text), text))
        else:
            raise WeightsError(
                f"Cannot read the judgement {item!r}; give ('jobs', 'transit', 3) or "
                "'jobs > transit: 3' (jobs 3 times as important as transit)."
            )
    return out


def _looks_like_judgements(matrix: Any) -> bool:
    if isinstance(matrix, Mapping):
        return True
    if isinstance(matrix, pd.DataFrame | np.ndarray) or not isinstance(matrix, Sequence):
        return False
    if isinstance(matrix, str):
        return True
    first = matrix[0] if len(matrix) > 0 else None
    return isinstance(first, str) or (
        isinstance(first, Sequence) and len(first) > 0 and isinstance(first[0], str)
    )


def _unknown_message(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown criterion {name!r}.{hint} Known criteria: {list(known)!r}"


def _check_scale(value: float, where: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise WeightsError(
            f"Judgement {where} = {value!r} is not a positive number; pairwise judgements are "
            "ratios from Saaty's scale 1/9 ... 9 (1 = equally important)."
        )
    if value > 9 * (1 + _SCALE_RTOL) or value < (1 / 9) / (1 + _SCALE_RTOL):
        raise WeightsError(
            f"Judgement {where} = {value!r} is outside Saaty's scale 1/9 ... 9; "
            "use 9 for 'extremely more important' and 1/9 for the reverse."
        )


def _matrix_from_judgements(
    judgements: list[_Judgement], criteria: Sequence[str] | None
) -> tuple[FloatArray, list[str], list[tuple[int, int]]]:
    if not judgements:
        raise WeightsError("No pairwise judgements given; give e.g. ['jobs > transit: 3'].")
    if criteria is not None:
        names = [str(c) for c in criteria]
        unknown = [name for j in judgements for name in (j.a, j.b) if name not in names]
        if unknown:
            raise WeightsError(
                f"Judgement {next(j.text for j in judgements if j.a in unknown or j.b in unknown)!r} "
                f"names an {_unknown_message(unknown[0], names)}; fix the name or add the criterion."
            )
    else:
        names = []
        for j in judgements:
            for name in (j.a, j.b):
                if name not in names:
                    names.append(name)
    position = {n: i for i, n in enumerate(names)}
    n = len(names)
    matrix = np.eye(n)
    given: dict[tuple[int, int], _Judgement] = {}
    orientation: list[tuple[int, int]] = []
    for j in judgements:
        i, k = position[j.a], position[j.b]
        _check_scale(j.value, repr(j.text))
        if i == k:
            if abs(j.value - 1) > 1e-9:
                raise WeightsError(
                    f"Judgement {j.text!r} compares {j.a!r} with itself and gives {j.value!r}; "
                    "a criterion is always 1 times as important as itself: remove it or use 1."
                )
            continue
        key = (min(i, k), max(i, k))
        oriented = j.value if i < k else 1.0 / j.value
        if key in given:
            previous = given[key]
            old = (
                previous.value
                if position[previous.a] < position[previous.b]
                else 1.0 / previous.value
            )
            if abs(old / oriented - 1) > _RECIPROCAL_RTOL:
                raise WeightsError(
                    f"Conflicting judgements for {names[key[0]]!r} vs {names[key[1]]!r}: "
                    f"{previous.text!r} and {j.text!r}; keep only one of them."
                )
            continue
        given[key] = j
        orientation.append((i, k))
        matrix[key] = oriented
        matrix[key[1], key[0]] = 1.0 / oriented
    missing = [
        (names[i], names[k]) for i in range(n) for k in range(i + 1, n) if (i, k) not in given
    ]
    if missing:
        shown = ", ".join(f"{a!r} vs {b!r}" for a, b in missing[:6])
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        a, b = missing[0]
        raise WeightsError(
            f"Missing pairwise judgements for {shown}{more}: AHP needs one judgement for every "
            f"pair of the {n} criteria ({n * (n - 1) // 2} in all). Add e.g. '{a} = {b}' "
            f"(equally important) or '{a} > {b}: 3'."
        )
    return matrix, names, orientation


def _matrix_from_array(
    matrix: Any, criteria: Sequence[str] | None
) -> tuple[FloatArray, list[str], list[tuple[int, int]]]:
    if isinstance(matrix, pd.DataFrame):
        rows = [str(r) for r in matrix.index]
        cols = [str(c) for c in matrix.columns]
        if matrix.shape[0] != matrix.shape[1]:
            raise WeightsError(
                f"The pairwise comparison matrix must be square (one row and one column per "
                f"criterion); got {matrix.shape[0]} rows and {matrix.shape[1]} columns."
            )
        if len(set(rows)) != len(rows):
            raise WeightsError(
                f"The comparison matrix repeats criteria in its rows: {rows!r}; give each once."
            )
        if set(rows) != set(cols):
            raise WeightsError(
                f"The comparison matrix rows {rows!r} and columns {cols!r} name different criteria; "
                "use the same criteria for both."
            )
        names = [str(c) for c in criteria] if criteria is not None else rows
        if set(names) != set(rows) or len(names) != len(rows):
            missing = [c for c in names if c not in rows]
            extra = [r for r in rows if r not in names]
            raise WeightsError(
                f"The comparison matrix criteria do not match criteria=: missing {missing!r}, "
                f"not expected {extra!r}; compare exactly the study's criteria."
            )
        frame = matrix.copy()
        frame.index = rows
        frame.columns = cols
        try:
            values = frame.loc[names, names].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise WeightsError(
                "The comparison matrix has entries that are not numbers; use numbers such as 3 or 1/3."
            ) from None
    else:
        try:
            values = np.array(matrix, dtype=float)
        except (TypeError, ValueError):
            raise WeightsError(
                f"Cannot read {matrix!r} as a pairwise comparison matrix; give a square array, a "
                "DataFrame, {('a', 'b'): 3, ...} or a list like ['a > b: 3', ...]."
            ) from None
        if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
            raise WeightsError(
                f"The pairwise comparison matrix must be square and non-empty; got shape {values.shape!r}."
            )
        n = values.shape[0]
        if criteria is None:
            names = [f"c{i + 1}" for i in range(n)]
        else:
            names = [str(c) for c in criteria]
            if len(names) != n:
                raise WeightsError(
                    f"criteria= names {len(names)} criteria {names!r} but the matrix is {n}x{n}; "
                    "give one name per row."
                )
        if len(set(names)) != len(names):
            raise WeightsError(f"criteria= repeats names: {names!r}; give each criterion once.")
    n = len(names)
    for i in range(n):
        for k in range(n):
            value = float(values[i, k])
            where = f"[{names[i]!r}, {names[k]!r}]"
            if i == k:
                if not abs(value - 1.0) <= 1e-6:
                    raise WeightsError(
                        f"Diagonal entry {where} = {value!r}; a criterion compared with itself is 1. "
                        "Set the diagonal to 1."
                    )
                continue
            _check_scale(value, where)
    for i in range(n):
        for k in range(i + 1, n):
            product = values[i, k] * values[k, i]
            if abs(product - 1.0) > _RECIPROCAL_RTOL:
                raise WeightsError(
                    f"The comparison matrix is not reciprocal: [{names[i]!r}, {names[k]!r}] = "
                    f"{float(values[i, k])!r} but [{names[k]!r}, {names[i]!r}] = {float(values[k, i])!r} "
                    f"(should be {1 / values[i, k]:.4g}); set each lower entry to 1 / the upper one."
                )
    # Make exactly reciprocal: g_ij = sqrt(a_ij / a_ji), the geometric mean of a_ij and
    # 1 / a_ji (absorbs 0.33 typed for 1/3); then lower = 1 / upper exactly.
    exact = np.sqrt(values / values.T)
    lower = np.tril_indices(n, -1)
    exact[lower] = 1.0 / exact.T[lower]
    np.fill_diagonal(exact, 1.0)
    orientation = [(i, k) for i in range(n) for k in range(i + 1, n)]
    return exact, names, orientation


def pairwise_matrix(
    matrix: PairwiseInput, *, criteria: Sequence[str] | None = None
) -> pd.DataFrame:
    """Build and check a reciprocal pairwise comparison matrix.

    Parameters
    ----------
    matrix : array-like, pandas.DataFrame, mapping or sequence
        Either a full square matrix (``a_ij`` = how many times criterion *i*
        is as important as *j*); or the upper triangle as
        ``{("jobs", "transit"): 3, ...}`` or ``{"jobs > transit": 3, ...}``; or a
        list of judgements ``[("jobs", "transit", 3), "parks < jobs: 5",
        "parks = schools", ...]``.  Values are from Saaty's scale 1/9 ... 9 and
        may be written as ``"1/3"``; ``a < b: 3`` means *b* is 3 times as
        important as *a*.  Full-width ``＞ ＜ ： ＝`` are accepted.
    criteria : sequence of str, optional
        Criterion names in the order wanted; required to name the rows of a
        plain array (default ``c1, c2, ...``), checked against the judgements
        otherwise.

    Returns
    -------
    pandas.DataFrame
        The exactly reciprocal matrix (rows and columns = criteria).

    Raises
    ------
    WeightsError
        For a non-square matrix, an entry that is not a positive number, off
        the 1/9-9 scale, a diagonal entry other than 1, a matrix that is not
        reciprocal, an unknown criterion, conflicting or missing judgements.
    """
    values, names, _ = _parse_pairwise(matrix, criteria)
    return pd.DataFrame(values, index=pd.Index(names, name="criterion"), columns=names)


def _parse_pairwise(
    matrix: Any, criteria: Sequence[str] | None
) -> tuple[FloatArray, list[str], list[tuple[int, int]]]:
    if isinstance(criteria, str):
        raise WeightsError(f"criteria= must be a list of names, got the string {criteria!r}.")
    if _looks_like_judgements(matrix):
        if isinstance(matrix, str):
            matrix = [matrix]
        return _matrix_from_judgements(_judgements_from(matrix), criteria)
    return _matrix_from_array(matrix, criteria)


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


def _nearest_scale(value: float) -> float:
    scale = np.asarray(SAATY_SCALE)
    return float(scale[np.argmin(np.abs(np.log(scale) - math.log(value)))])


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
        The judgements, in any form :func:`pairwise_matrix` accepts, e.g.
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
        If the judgements are malformed (see :func:`pairwise_matrix`) or there
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
            f"{who}: criterion {scores.columns[j]!r} has a missing or infinite score "
            f"({float(values[i, j])!r} at site {_py(scores.index[i])!r}, {int(bad[:, j].sum())} site(s) in all); "
            "fill the missing scores or drop those sites first."
        )
    return values


def _constant_columns(values: FloatArray, columns: pd.Index, who: str) -> npt.NDArray[np.bool_]:
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
            f"entropy_weights: criterion {scores.columns[j]!r} has negative scores "
            f"(min {float(values[:, j].min())!r}); entropy weights need scores >= 0 (rescale to 0-1)."
        )
    constant = _constant_columns(values, scores.columns, "entropy_weights")
    m = values.shape[0]
    totals = values.sum(axis=0)
    safe_totals = np.where(totals > 0, totals, 1.0)
    p = values / safe_totals
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    entropy = -plogp.sum(axis=0) / math.log(m)
    divergence = np.clip(1.0 - entropy, 0.0, None)
    divergence[constant] = 0.0
    weights = divergence / divergence.sum()
    return pd.Series(
        weights, index=scores.columns.copy(), name="weight", dtype="float64"
    ).rename_axis("criterion")


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
    return pd.Series(
        weights, index=scores.columns.copy(), name="weight", dtype="float64"
    ).rename_axis("criterion")

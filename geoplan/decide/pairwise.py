"""Pairwise judgements ("jobs > transit: 3") read and checked into a reciprocal matrix.

The input side of the analytic hierarchy process (:mod:`geoplan.decide.ahp`):
:func:`pairwise_matrix` accepts a full square matrix, its upper triangle, or a
list of statements, in Chinese or English punctuation, checks every entry
against Saaty's 1/9 ... 9 scale and reciprocity, and says which entry is wrong
and how to fix it.  It also writes judgements back in words for messages
("jobs moderately more important than transit"), as
:class:`InconsistentJudgement` does for the judgement that an AHP consistency
check (:func:`geoplan.decide.ahp.ahp_weights`) asks to revisit.

References
----------
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill (the
fundamental 1-9 scale).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import WeightsError
from geoplan.decide.weights import _as_float

__all__ = ["SAATY_SCALE", "InconsistentJudgement", "PairwiseInput", "pairwise_matrix"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
PairwiseInput: TypeAlias = "pd.DataFrame | npt.ArrayLike | Mapping[Any, Any] | Sequence[Any]"

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


def _nearest_scale(value: float) -> float:
    """The value of Saaty's scale nearest to ``value`` (in log space: 2.4 -> 2, 2.5 -> 3)."""
    scale = np.asarray(SAATY_SCALE)
    return float(scale[np.argmin(np.abs(np.log(scale) - math.log(value)))])


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
    value: float | None
    if isinstance(raw, str):
        try:
            value = float(Fraction(raw.strip().replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            value = None
    else:
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

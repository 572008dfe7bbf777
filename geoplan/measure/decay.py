r"""Decay functions: turn a criterion's raw value into a 0-1 score.

Each function maps an array of raw values ``x`` (metres, minutes, counts,
jobs ...) to scores in [0, 1].  ``direction`` says which way is better:
``"lower"`` (less is better, e.g. distance to a station) or ``"higher"``
(more is better, e.g. jobs within reach).  Non-finite values (an unreachable
site) score 0.  With ``d(x)`` the "less is better" form:

=============  =======================================================  ================
kind           less is better, ``d(x)``                                 parameters
=============  =======================================================  ================
linear         1 at ``x <= lower``, 0 at ``x >= upper``, straight        lower, upper
               line between: :math:`(upper - x)/(upper - lower)`
exponential    :math:`0.5^{x / h}`: halves every ``half_at``              half_at
gaussian       :math:`\exp(-x^2 / (2\sigma^2))`                          sigma
logistic       :math:`1 / (1 + \exp((x - m)/s))`: 0.5 at the midpoint    midpoint, scale
=============  =======================================================  ================

"More is better" is ``1 - d(x)`` for exponential, gaussian and logistic
(saturating growth), and for linear rises from 0 at ``lower`` to 1 at
``upper``.  Three kinds take no direction:

* ``step``: piecewise constant, ``scores[i]`` for ``breaks[i-1] <= x < breaks[i]``
  (``len(scores) == len(breaks) + 1``); monotone in the stated direction.
* ``band``: the *ideal band* trapezoid -- 0 below ``zero_below``, rising
  linearly to 1 at ``ideal_min``, 1 up to ``ideal_max``, falling linearly to 0
  at ``zero_above`` (near, but not too near).  Equal edge parameters make a
  hard edge: with ``zero_below == ideal_min`` a value below it scores 0 and a
  value at it 1 (the ideal band is closed at both ends).
* ``minmax``: rescale to the sites' own range, ``(x - min)/(max - min)``
  (or its complement for "lower"); relative, so scores change with the set.

The same "less is better" functions weight features by distance inside
:func:`geoplan.measure.criteria.sum_within` (distance decay).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from geoplan._errors import CriterionError

__all__ = ["DECAY_KINDS", "DIRECTIONS", "Decay", "make_decay"]

FloatArray = npt.NDArray[np.float64]
DIRECTIONS: Final = ("lower", "higher")


def _lower_linear(x: FloatArray, p: Mapping[str, float]) -> FloatArray:
    return np.clip((p["upper"] - x) / (p["upper"] - p["lower"]), 0.0, 1.0)


def _lower_exponential(x: FloatArray, p: Mapping[str, float]) -> FloatArray:
    return np.power(0.5, np.maximum(x, 0.0) / p["half_at"])


def _lower_gaussian(x: FloatArray, p: Mapping[str, float]) -> FloatArray:
    return np.exp(-(x**2) / (2.0 * p["sigma"] ** 2))


def _lower_logistic(x: FloatArray, p: Mapping[str, float]) -> FloatArray:
    z = np.clip((x - p["midpoint"]) / p["scale"], -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(z))


_SMOOTH: Final[
    dict[str, tuple[Callable[[FloatArray, Mapping[str, float]], FloatArray], tuple[str, ...]]]
] = {
    "linear": (_lower_linear, ("lower", "upper")),
    "exponential": (_lower_exponential, ("half_at",)),
    "gaussian": (_lower_gaussian, ("sigma",)),
    "logistic": (_lower_logistic, ("midpoint", "scale")),
}

#: Every decay kind and its required parameters.
DECAY_KINDS: Final[dict[str, tuple[str, ...]]] = {
    **{kind: params for kind, (_, params) in _SMOOTH.items()},
    "step": ("breaks", "scores"),
    "band": ("zero_below", "ideal_min", "ideal_max", "zero_above"),
    "minmax": (),
}
_NO_DIRECTION: Final = ("band", "step")


def _band(x: FloatArray, p: Mapping[str, float]) -> FloatArray:
    """The trapezoid; an edge whose two parameters are equal is a hard edge.

    The ideal band ``[ideal_min, ideal_max]`` is closed and scores 1; outside
    ``[zero_below, zero_above]`` the score is 0.  With ``zero_below ==
    ideal_min`` there is no ramp: 0 below, 1 from ``ideal_min`` (and likewise
    at the top).
    """
    lo0, lo1, hi1, hi0 = p["zero_below"], p["ideal_min"], p["ideal_max"], p["zero_above"]
    rise = (x - lo0) / (lo1 - lo0) if lo1 > lo0 else np.zeros_like(x)
    fall = (hi0 - x) / (hi0 - hi1) if hi0 > hi1 else np.zeros_like(x)
    rise = np.where(x >= lo1, 1.0, rise)
    fall = np.where(x <= hi1, 1.0, fall)
    return np.clip(np.minimum(rise, fall), 0.0, 1.0)


@dataclass(frozen=True)
class Decay:
    """A validated decay: kind, parameters and direction.

    Build one with :func:`make_decay`; call :meth:`apply` to score values.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    direction: str | None = "lower"

    def apply(self, values: npt.ArrayLike) -> FloatArray:
        """Scores in [0, 1] for raw values (non-finite values score 0).

        Parameters
        ----------
        values : array_like
            Raw criterion values.

        Returns
        -------
        numpy.ndarray
            One score per value.
        """
        x = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(x)
        safe = np.where(finite, x, 0.0)
        if self.kind in _SMOOTH:
            lower = _SMOOTH[self.kind][0](safe, self.params)
            if self.kind == "linear" and self.direction == "higher":
                score = np.clip(
                    (safe - self.params["lower"]) / (self.params["upper"] - self.params["lower"]),
                    0.0,
                    1.0,
                )
            else:
                score = lower if self.direction == "lower" else 1.0 - lower
        elif self.kind == "band":
            score = _band(safe, self.params)
        elif self.kind == "step":
            breaks = np.asarray(self.params["breaks"], dtype=np.float64)
            scores = np.asarray(self.params["scores"], dtype=np.float64)
            score = scores[np.searchsorted(breaks, safe, side="right")]
        else:  # minmax
            score = _minmax(safe, finite, self.direction == "higher")
        return np.where(finite, score, 0.0)

    def describe(self, unit: str = "") -> str:
        """One line saying what the decay does, for explanations and maps.

        Parameters
        ----------
        unit : str
            Unit of the raw values, e.g. ``"m"``.

        Returns
        -------
        str
            For example ``"linear: 1 at <= 500 m, 0 at >= 8000 m"``.
        """
        u = f" {unit}" if unit else ""
        p = self.params
        better = "less is better" if self.direction == "lower" else "more is better"
        if self.kind == "linear":
            best, worst = (p["lower"], p["upper"])
            if self.direction == "higher":
                best, worst = worst, best
            return f"linear: 1 at {best:g}{u}, 0 at {worst:g}{u}"
        if self.kind == "exponential" and self.direction == "lower":
            return f"exponential: score halves every {p['half_at']:g}{u}"
        if self.kind == "exponential":
            return f"exponential: 0.5 at {p['half_at']:g}{u}, 0.75 at {2 * p['half_at']:g}{u}"
        if self.kind == "gaussian":
            return f"gaussian ({better}): sigma {p['sigma']:g}{u}"
        if self.kind == "logistic":
            return f"logistic ({better}): 0.5 at {p['midpoint']:g}{u}, scale {p['scale']:g}{u}"
        if self.kind == "band":
            return (
                f"ideal band: 1 between {p['ideal_min']:g} and {p['ideal_max']:g}{u}, "
                f"0 below {p['zero_below']:g} and above {p['zero_above']:g}{u}"
            )
        if self.kind == "step":
            steps = [f"{p['scores'][0]:g} below {p['breaks'][0]:g}{u}"] + [
                f"{s:g} from {b:g}" for b, s in zip(p["breaks"], p["scores"][1:], strict=True)
            ]
            return "steps: " + ", ".join(steps)
        return f"min-max rescaled over the sites ({better})"

    def to_dict(self) -> dict[str, Any]:
        """The decay as a study-file table (kind, direction and parameters)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.direction is not None:
            out["direction"] = self.direction
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()})
        return out


def _minmax(x: FloatArray, finite: npt.NDArray[np.bool_], higher: bool) -> FloatArray:
    if not finite.any():
        return np.zeros_like(x)
    lo, hi = float(x[finite].min()), float(x[finite].max())
    scaled = np.ones_like(x) if hi == lo else (x - lo) / (hi - lo)
    return scaled if higher else 1.0 - scaled


def _number(problems: list[str], where: str, key: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        problems.append(f"{where}.{key} = {value!r} must be a finite number.")
        return None
    return float(value)


def _check_step(
    problems: list[str], where: str, spec: Mapping[str, Any], direction: str | None
) -> None:
    breaks, scores = spec.get("breaks"), spec.get("scores")
    if not isinstance(breaks, list | tuple) or not isinstance(scores, list | tuple):
        problems.append(f"{where}: step needs lists breaks = [...] and scores = [...].")
        return
    if len(scores) != len(breaks) + 1:
        problems.append(
            f"{where}: step has {len(breaks)} breaks and {len(scores)} scores; give one more "
            "score than breaks (the score below the first break, between each, above the last)."
        )
    if list(breaks) != sorted(breaks):
        problems.append(f"{where}.breaks = {list(breaks)!r} must increase.")
    if any(not 0 <= float(s) <= 1 for s in scores):
        problems.append(f"{where}.scores = {list(scores)!r} must lie between 0 and 1.")
    diffs = np.diff(np.asarray(scores, dtype=float))
    if (direction == "lower" and (diffs > 0).any()) or (
        direction == "higher" and (diffs < 0).any()
    ):
        problems.append(
            f"{where}.scores = {list(scores)!r} do not fall (direction 'lower') or rise "
            f"(direction 'higher') as direction = {direction!r} says; fix the order or the direction."
        )


def make_decay(
    spec: Mapping[str, Any] | str, *, direction: str | None = None, where: str = "decay"
) -> Decay:
    """Validate a decay specification and build a :class:`Decay`.

    Parameters
    ----------
    spec : mapping or str
        ``{"kind": "linear", "lower": 0, "upper": 8000}`` and so on (see the
        module docstring), or a bare kind name that needs no parameters
        (``"minmax"``).  A ``direction`` key may stand in the mapping.
    direction : {"lower", "higher"}, optional
        Which way is better; required except for ``band`` and ``step``.
    where : str
        Where the spec came from, for messages (e.g. ``criteria[2].decay``).

    Returns
    -------
    Decay
        The validated decay.

    Raises
    ------
    CriterionError
        Listing every problem: unknown kind, missing or bad parameters, a
        missing or unknown direction.
    """
    problems = decay_problems(spec, direction=direction, where=where)
    if problems:
        raise CriterionError(" ".join(problems))
    data = {"kind": spec} if isinstance(spec, str) else dict(spec)
    kind = str(data.pop("kind"))
    direction = data.pop("direction", direction)
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Decay(kind=kind, params=params, direction=None if kind == "band" else direction)


def decay_problems(
    spec: Mapping[str, Any] | str, *, direction: str | None = None, where: str = "decay"
) -> list[str]:
    """Every problem with a decay specification (empty when it is valid).

    Parameters
    ----------
    spec : mapping or str
        As for :func:`make_decay`.
    direction : {"lower", "higher"}, optional
        Which way is better.
    where : str
        Where the spec came from, for messages.

    Returns
    -------
    list of str
        One message per problem.
    """
    data: dict[str, Any] = {"kind": spec} if isinstance(spec, str) else dict(spec)
    kind = data.get("kind")
    direction = data.get("direction", direction)
    if kind not in DECAY_KINDS:
        return [f"{where}.kind = {kind!r} is not a decay; use one of {sorted(DECAY_KINDS)!r}."]
    problems: list[str] = []
    needs_direction = kind not in ("band", "step") or direction is not None
    if kind != "band" and needs_direction and direction not in DIRECTIONS:
        problems.append(
            f"{where}.direction = {direction!r}: say which way is better, "
            "'lower' (less is better, e.g. distance) or 'higher' (more is better, e.g. jobs)."
        )
    required = DECAY_KINDS[kind]
    extra = set(data) - set(required) - {"kind", "direction"}
    if extra:
        problems.append(
            f"{where} has unknown key(s) {sorted(extra)!r} for a {kind} decay; "
            f"it takes {list(required)!r}."
        )
    missing = [key for key in required if key not in data]
    if missing:
        problems.append(f"{where}: a {kind} decay needs {missing!r}.")
        return problems
    if kind == "step":
        _check_step(problems, where, data, direction)
        return problems
    values = {key: _number(problems, where, key, data[key]) for key in required}
    if any(v is None for v in values.values()):
        return problems
    for key in ("half_at", "sigma", "scale"):
        if key in values and values[key] is not None and values[key] <= 0:  # type: ignore[operator]
            problems.append(f"{where}.{key} = {data[key]!r} must be positive.")
    if kind == "linear" and values["upper"] <= values["lower"]:  # type: ignore[operator]
        problems.append(
            f"{where}: lower = {data['lower']!r} must be below upper = {data['upper']!r}."
        )
    if kind == "band":
        order = [values[k] for k in required]
        if order != sorted(order):  # type: ignore[type-var]
            problems.append(
                f"{where}: the band needs zero_below <= ideal_min <= ideal_max <= zero_above, "
                f"got {order!r}."
            )
    return problems

"""Decay functions against exact values and independent implementations (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import geoplan as gp

X = np.array([0.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0])


def test_linear_lower_and_higher() -> None:
    lower = gp.make_decay({"kind": "linear", "lower": 500, "upper": 3000, "direction": "lower"})
    np.testing.assert_allclose(lower.apply(X), [1, 1, 1, 0.8, 0.4, 0, 0])
    higher = gp.make_decay({"kind": "linear", "lower": 500, "upper": 3000}, direction="higher")
    np.testing.assert_allclose(higher.apply(X), [0, 0, 0, 0.2, 0.6, 1, 1])


def test_exponential_halves_every_half_distance() -> None:
    d = gp.make_decay({"kind": "exponential", "half_at": 1000, "direction": "lower"})
    np.testing.assert_allclose(d.apply(X), np.exp(-np.log(2) * X / 1000))
    up = gp.make_decay({"kind": "exponential", "half_at": 1000, "direction": "higher"})
    np.testing.assert_allclose(up.apply([1000, 2000]), [0.5, 0.75])


def test_gaussian_matches_scaled_normal_density() -> None:
    d = gp.make_decay({"kind": "gaussian", "sigma": 1500, "direction": "lower"})
    reference = stats.norm.pdf(X, scale=1500) / stats.norm.pdf(0, scale=1500)
    np.testing.assert_allclose(d.apply(X), reference)


def test_logistic_matches_scipy_expit() -> None:
    d = gp.make_decay({"kind": "logistic", "midpoint": 1000, "scale": 200, "direction": "lower"})
    np.testing.assert_allclose(d.apply(X), special.expit(-(X - 1000) / 200))
    up = gp.make_decay({"kind": "logistic", "midpoint": 1000, "scale": 200, "direction": "higher"})
    np.testing.assert_allclose(up.apply(X), special.expit((X - 1000) / 200))


def test_step_thresholds() -> None:
    d = gp.make_decay(
        {
            "kind": "step",
            "breaks": [500, 1000, 2000],
            "scores": [1, 0.6, 0.3, 0],
            "direction": "lower",
        }
    )
    np.testing.assert_allclose(d.apply(X), [1, 1, 0.6, 0.3, 0, 0, 0])


def test_ideal_band_trapezoid() -> None:
    d = gp.make_decay(
        {
            "kind": "band",
            "zero_below": 200,
            "ideal_min": 800,
            "ideal_max": 4000,
            "zero_above": 10000,
        }
    )
    np.testing.assert_allclose(
        d.apply([0, 200, 500, 800, 2000, 4000, 7000, 10000, 12000]), [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0]
    )


def test_band_with_hard_edges_scores_zero_outside() -> None:
    """Issue 10: ``zero_below == ideal_min`` and ``ideal_max == zero_above`` are hard edges."""
    spec = {"kind": "band", "zero_below": 500, "ideal_min": 500, "ideal_max": 3000}
    d = gp.make_decay({**spec, "zero_above": 3000})
    np.testing.assert_array_equal(d.apply([100, 10000]), [0, 0])
    np.testing.assert_array_equal(
        d.apply([0, 499.999, 500, 1750, 3000, 3000.001, np.inf]), [0, 0, 1, 1, 1, 0, 0]
    )
    assert d.describe("m") == "ideal band: 1 between 500 and 3000 m, 0 below 500 and above 3000 m"
    one_sided = gp.make_decay({**spec, "zero_above": 5000})
    np.testing.assert_allclose(one_sided.apply([499, 500, 4000, 5000, 6000]), [0, 1, 0.5, 0, 0])
    point = gp.make_decay(
        {"kind": "band", "zero_below": 7, "ideal_min": 7, "ideal_max": 7, "zero_above": 7}
    )
    np.testing.assert_array_equal(point.apply([6.9, 7, 7.1]), [0, 1, 0])


def _band_reference(x: float, lo0: float, lo1: float, hi1: float, hi0: float) -> float:
    """The band as its docstring states it, one value at a time."""
    if lo1 <= x <= hi1:
        return 1.0
    if x < lo0 or x > hi0:
        return 0.0
    if x < lo1:
        return (x - lo0) / (lo1 - lo0)
    return (hi0 - x) / (hi0 - hi1)


@settings(max_examples=300, deadline=None)
@given(
    edges=st.lists(st.integers(0, 50), min_size=4, max_size=4).map(sorted),
    xs=st.lists(st.integers(-5, 60), min_size=1, max_size=20),
)
def test_band_matches_its_definition_at_every_edge(edges: list[int], xs: list[int]) -> None:
    lo0, lo1, hi1, hi0 = (float(e) for e in edges)
    d = gp.make_decay(
        {"kind": "band", "zero_below": lo0, "ideal_min": lo1, "ideal_max": hi1, "zero_above": hi0}
    )
    values = [float(x) for x in xs] + [lo0, lo1, hi1, hi0]
    expected = [_band_reference(x, lo0, lo1, hi1, hi0) for x in values]
    np.testing.assert_allclose(d.apply(values), expected, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    edges=st.lists(st.integers(0, 30), min_size=1, max_size=4).map(sorted),
    xs=st.lists(st.integers(-5, 40), min_size=1, max_size=20),
)
def test_step_matches_its_definition_at_every_break(edges: list[int], xs: list[int]) -> None:
    """``scores[i]`` for ``breaks[i-1] <= x < breaks[i]``, equal breaks included."""
    scores = [1 - i / len(edges) for i in range(len(edges) + 1)]
    d = gp.make_decay({"kind": "step", "breaks": edges, "scores": scores, "direction": "lower"})
    values = [float(x) for x in xs] + [float(e) for e in edges]

    def reference(x: float) -> float:
        i = sum(1 for b in edges if b <= x)  # breaks at or below x
        return scores[i]

    np.testing.assert_allclose(d.apply(values), [reference(x) for x in values])


def test_linear_and_smooth_kinds_at_their_edges() -> None:
    lower = gp.make_decay({"kind": "linear", "lower": 10, "upper": 20, "direction": "lower"})
    np.testing.assert_array_equal(lower.apply([9, 10, 20, 21]), [1, 1, 0, 0])
    higher = gp.make_decay({"kind": "linear", "lower": 10, "upper": 20, "direction": "higher"})
    np.testing.assert_array_equal(higher.apply([9, 10, 20, 21]), [0, 0, 1, 1])
    exp = gp.make_decay({"kind": "exponential", "half_at": 10, "direction": "lower"})
    np.testing.assert_allclose(exp.apply([0, 10, 20]), [1, 0.5, 0.25])
    logistic = gp.make_decay(
        {"kind": "logistic", "midpoint": 10, "scale": 1e-9, "direction": "lower"}
    )
    np.testing.assert_allclose(logistic.apply([9, 10, 11]), [1, 0.5, 0], atol=1e-12)


def test_minmax_is_relative_to_the_sites() -> None:
    d = gp.make_decay("minmax", direction="higher")
    np.testing.assert_allclose(d.apply([10, 20, 30]), [0, 0.5, 1])
    np.testing.assert_allclose(
        gp.make_decay("minmax", direction="lower").apply([10, 20, 30]), [1, 0.5, 0]
    )


@pytest.mark.parametrize("kind", ["linear", "exponential", "gaussian", "logistic"])
def test_unreachable_scores_zero_and_scores_stay_in_range(kind: str) -> None:
    params = {
        "linear": {"lower": 0, "upper": 10},
        "exponential": {"half_at": 3},
        "gaussian": {"sigma": 3},
        "logistic": {"midpoint": 5, "scale": 1},
    }[kind]
    for direction in ("lower", "higher"):
        d = gp.make_decay({"kind": kind, **params, "direction": direction})
        out = d.apply([np.inf, np.nan, -5, 0, 5, 1e9])
        assert out[0] == 0 and out[1] == 0
        assert ((out >= 0) & (out <= 1)).all()


def test_unknown_decay_lists_the_valid_names() -> None:
    with pytest.raises(
        gp.CriterionError, match=r"'expo' is not a decay; use one of \['band', 'exponential'"
    ):
        gp.make_decay({"kind": "expo", "half_at": 3, "direction": "lower"})


def test_bad_parameters_are_all_reported() -> None:
    with pytest.raises(gp.CriterionError) as info:
        gp.make_decay({"kind": "linear", "lower": 3000, "upper": 500, "direction": "down"})
    message = str(info.value)
    assert "direction = 'down'" in message
    assert "lower = 3000 must be below upper = 500" in message


def test_missing_parameter_and_unknown_key() -> None:
    with pytest.raises(gp.CriterionError, match=r"needs \['half_at'\]"):
        gp.make_decay({"kind": "exponential", "direction": "lower"})
    with pytest.raises(gp.CriterionError, match=r"unknown key\(s\) \['halfat'\]"):
        gp.make_decay({"kind": "exponential", "halfat": 3, "half_at": 3, "direction": "lower"})


def test_step_must_follow_its_direction() -> None:
    with pytest.raises(gp.CriterionError, match="do not fall"):
        gp.make_decay({"kind": "step", "breaks": [1], "scores": [0, 1], "direction": "lower"})


def test_describe_is_readable() -> None:
    d = gp.make_decay({"kind": "linear", "lower": 500, "upper": 3000, "direction": "lower"})
    assert d.describe("m") == "linear: 1 at 500 m, 0 at 3000 m"

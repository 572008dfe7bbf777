"""Decay functions against exact values and independent implementations (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
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

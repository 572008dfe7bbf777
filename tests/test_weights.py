"""Tests of geoplan.decide.weights: plain weights, entropy and CRITIC (AHP is in test_ahp.py).

Where a number comes from a publication the test docstring says which, and
whether it was checked against the publication's text or a transcription of it.
Everything else is checked against an exact or independent computation.
"""

from __future__ import annotations

import math
import shutil
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoplan as gp
from geoplan._errors import CriterionError, GeoplanWarning, WeightsError
from geoplan.cli import main
from geoplan.decide.mcda import aggregate
from geoplan.decide.weights import critic_weights, entropy_weights, normalize_weights

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# normalize_weights
# ---------------------------------------------------------------------------


def test_normalize_weights_rescales_and_keeps_order() -> None:
    out = normalize_weights({"jobs": 4, "transit": 3, "parks": 1, "schools": 0})
    assert list(out.index) == ["jobs", "transit", "parks", "schools"]
    assert out.to_dict() == {"jobs": 0.5, "transit": 0.375, "parks": 0.125, "schools": 0.0}
    assert out.dtype == np.float64
    assert out.name == "weight"


def test_normalize_weights_does_not_touch_the_input() -> None:
    given_weights = pd.Series({"jobs": 2.0, "transit": 2.0})
    before = given_weights.copy()
    out = normalize_weights(given_weights)
    pd.testing.assert_series_equal(given_weights, before)
    assert given_weights.index.name is None
    assert out.index.name == "criterion"
    assert out.tolist() == [0.5, 0.5]


@FAST
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12).filter(
        lambda v: sum(v) > 0
    )
)
def test_normalized_weights_sum_to_one_and_keep_ratios(values: list[float]) -> None:
    names = [f"c{i}" for i in range(len(values))]
    out = normalize_weights(dict(zip(names, values, strict=True)))
    assert out.sum() == pytest.approx(1.0, abs=1e-12)
    assert (out >= 0).all()
    np.testing.assert_allclose(out.to_numpy() * sum(values), values, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("weights", "fragments"),
    [
        ({"jobs": 0.5, "transit": -0.2}, ["'transit'", "-0.2", "negative", ">= 0"]),
        ({"jobs": float("nan"), "transit": 1}, ["'jobs'", "NaN", ">= 0"]),
        ({"jobs": float("inf")}, ["'jobs'", "inf", "infinite"]),
        ({"jobs": "0.4"}, ["'jobs'", "'0.4'", "not a number"]),
        ({"jobs": True}, ["'jobs'", "True", "not a number"]),
        ({"jobs": None}, ["'jobs'", "missing"]),
        ({"jobs": 0, "transit": 0.0}, ["All criterion weights are zero", "positive weight"]),
        ({}, ["No weights given"]),
    ],
)
def test_normalize_weights_rejects_bad_weights(
    weights: dict[str, object], fragments: list[str]
) -> None:
    with pytest.raises(WeightsError) as info:
        normalize_weights(weights)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_normalize_weights_lists_every_bad_weight_and_duplicates() -> None:
    with pytest.raises(WeightsError, match=r"'a' = -1.*'b' is NaN"):
        normalize_weights({"a": -1, "b": float("nan"), "c": 1})
    with pytest.raises(WeightsError, match=r"\['jobs'\] have more than one weight"):
        normalize_weights(pd.Series([1.0, 2.0], index=["jobs", "jobs"]))
    with pytest.raises(WeightsError, match="mapping or pandas Series"):
        normalize_weights([0.5, 0.5])  # type: ignore[arg-type]


@pytest.mark.parametrize("power", [0, 100, 1000, 1020])
def test_normalize_weights_near_the_largest_float_are_the_same_weights_scaled(
    power: int,
) -> None:
    """Weights up to 1.8e308 normalise exactly as the same weights in a smaller unit."""
    base = {"jobs": 3.0, "transit": 10.0, "parks": 0.0, "schools": 7.5}
    huge = {name: math.ldexp(value, power) for name, value in base.items()}
    assert normalize_weights(huge).to_dict() == normalize_weights(base).to_dict()


def test_normalize_weights_whose_sum_overflows_match_exact_fractions() -> None:
    values = [1e308, 1e308, 3e307, sys.float_info.max, 5e-324, 0.0]
    names = [f"c{i}" for i in range(len(values))]
    out = normalize_weights(dict(zip(names, values, strict=True)))
    total = sum(Fraction(v) for v in values)
    exact = [float(Fraction(v) / total) for v in values]
    assert out.tolist() == pytest.approx(exact, rel=1e-15, abs=0)
    assert normalize_weights({"a": 1e308, "b": 1e308}).tolist() == [0.5, 0.5]


def test_huge_weights_rank_like_ordinary_ones() -> None:
    scores = pd.DataFrame(
        {"jobs": [0.9, 0.4, 0.1], "transit": [0.2, 0.8, 0.5]}, index=["A", "B", "C"]
    )
    for method in ("weighted_sum", "topsis", "vikor", "owa"):
        ordinary = aggregate(scores, {"jobs": 1.0, "transit": 1.0}, method=method)
        huge = aggregate(scores, {"jobs": 1e308, "transit": 1e308}, method=method)
        pd.testing.assert_series_equal(huge, ordinary)


def test_a_study_with_weights_near_1e308_ranks_as_with_the_same_weights_scaled(
    tmp_path: Path, sample_study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_study_path.parent, folder)
    path = folder / "study.toml"
    text = path.read_text(encoding="utf-8")
    # The sample weights 0.35, 0.30, 0.20, 0.15, 0.25, each times 5e308 (their sum overflows).
    for old, new in [
        ("0.35", "1.75e308"),
        ("0.30", "1.5e308"),
        ("0.20", "1e308"),
        ("0.15", "7.5e307"),
        ("0.25", "1.25e308"),
    ]:
        assert f"weight = {old}\n" in text
        text = text.replace(f"weight = {old}\n", f"weight = {new}\n", 1)
    path.write_text(text, encoding="utf-8")
    huge = gp.rank_sites(gp.load_study(path))
    ordinary = gp.rank_sites(gp.load_study(sample_study_path))
    assert huge["site_id"].tolist() == ordinary["site_id"].tolist()
    np.testing.assert_allclose(huge["score"], ordinary["score"], rtol=1e-12)
    code = main(["-q", "rank", str(path), "--out", str(tmp_path / "ranked.csv")])
    assert code == 0, capsys.readouterr().err


# ---------------------------------------------------------------------------
# Entropy and CRITIC
# ---------------------------------------------------------------------------

XU_2004 = np.array(
    [[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]], dtype=float
)


def test_entropy_weights_xu_2004_example() -> None:
    """Xu (2004), "A note on the subjective and objective integrated approach to
    determine attribute weights", EJOR 156, 530-532: entropy weights
    0.4630, 0.3992, 0.1378, 0.0000 (transcribed in the test suite of the
    objective-weights-mcda / pyrepo-mcda packages).  The data are first scaled
    to 0-1 by column maxima; entropy weights do not change under that."""
    scores = pd.DataFrame(XU_2004 / XU_2004.max(axis=0), columns=["a", "b", "c", "d"])
    out = entropy_weights(scores)
    np.testing.assert_allclose(out.to_numpy(), [0.4630, 0.3992, 0.1378, 0.0000], atol=5e-5)
    assert out.sum() == pytest.approx(1.0)


def test_entropy_weights_match_pymcdm_on_positive_data() -> None:
    """pymcdm normalises by column sums as here; it sets the entropy of any column
    with a zero to 0 instead of using 0 ln 0 = 0, so compare on positive data."""
    pymcdm_weights = pytest.importorskip("pymcdm.weights")
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = rng.uniform(0.01, 1, size=(int(rng.integers(3, 40)), int(rng.integers(2, 8))))
        ours = entropy_weights(pd.DataFrame(x)).to_numpy()
        np.testing.assert_allclose(ours, pymcdm_weights.entropy_weights(x), rtol=1e-10)


def test_entropy_weights_with_zero_scores_use_zero_log_zero() -> None:
    x = np.array([[0.0, 0.2], [0.5, 0.4], [1.0, 0.9]])
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    d = 1 + terms.sum(axis=0) / np.log(3)
    np.testing.assert_allclose(entropy_weights(pd.DataFrame(x)).to_numpy(), d / d.sum(), rtol=1e-12)


def test_critic_weights_krishnan_2021_example() -> None:
    """Krishnan et al. (2021), "A modified CRITIC method to estimate the objective
    weights of decision criteria", Symmetry 13, 973, Tables 1 and 5 (mobile
    phones: price, screen, pixel density, thickness, mass; price, thickness and
    mass are costs).  Published weights 0.1872, 0.1838, 0.1691, 0.2599, 0.2000
    (transcribed in fatihaydost/kds-topsis-critic tests/fixtures).  The 0-1
    scores are the paper's min-max normalisation with costs reversed."""
    x = np.array(
        [
            [649, 4.7, 326, 7.1, 143],
            [749, 5.5, 401, 7.3, 192],
            [740, 5.7, 520, 7.6, 171],
            [400, 5.7, 520, 11.1, 179],
            [600, 5.5, 538, 8.9, 152],
        ]
    )
    scores = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    scores[:, [0, 3, 4]] = 1 - scores[:, [0, 3, 4]]
    out = critic_weights(
        pd.DataFrame(scores, columns=["price", "screen", "ppi", "thickness", "mass"])
    )
    np.testing.assert_allclose(out.to_numpy(), [0.1872, 0.1838, 0.1691, 0.2599, 0.2000], atol=5e-5)


def test_critic_weights_match_pymcdm() -> None:
    """pymcdm's critic_weights also min-max normalises and uses Pearson correlation."""
    pymcdm_weights = pytest.importorskip("pymcdm.weights")
    rng = np.random.default_rng(11)
    for _ in range(20):
        x = rng.random((int(rng.integers(4, 40)), int(rng.integers(2, 8))))
        ours = critic_weights(pd.DataFrame(x)).to_numpy()
        np.testing.assert_allclose(ours, pymcdm_weights.critic_weights(x), rtol=1e-9)


@pytest.mark.parametrize("method", [entropy_weights, critic_weights])
def test_objective_weights_drop_constant_criteria_with_a_warning(method) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((10, 3)), columns=["jobs", "transit", "parks"])
    with_constant = x.assign(flat=0.5)
    with pytest.warns(GeoplanWarning, match=r"\['flat'\].*no information.*weight 0"):
        out = method(with_constant)
    assert out["flat"] == 0.0
    np.testing.assert_allclose(
        out[["jobs", "transit", "parks"]].to_numpy(), method(x).to_numpy(), rtol=1e-12
    )
    with pytest.raises(WeightsError, match="every criterion has the same score"):
        method(pd.DataFrame({"a": [0.2, 0.2], "b": [0.0, 0.0]}))


def test_critic_special_cases() -> None:
    with pytest.warns(GeoplanWarning):
        only = critic_weights(pd.DataFrame({"a": [0.1, 0.5, 0.9], "b": [0.3, 0.3, 0.3]}))
    assert only.to_dict() == {"a": 1.0, "b": 0.0}
    twins = critic_weights(pd.DataFrame({"a": [0.1, 0.5, 0.9], "b": [0.2, 0.6, 1.0]}))
    assert twins.to_dict() == pytest.approx({"a": 0.5, "b": 0.5})


@pytest.mark.parametrize("method", [entropy_weights, critic_weights])
def test_objective_weights_reject_bad_scores(method) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        CriterionError, match=r"criterion 'b' has a missing or infinite score \(nan at site 1"
    ):
        method(pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [0.1, np.nan, 0.3]}))
    with pytest.raises(CriterionError, match="'b' has non-numeric scores"):
        method(pd.DataFrame({"a": [0.1, 0.2], "b": ["x", "y"]}))
    with pytest.raises(WeightsError, match="at least two sites"):
        method(pd.DataFrame({"a": [0.1]}))
    with pytest.raises(CriterionError, match="DataFrame"):
        method(np.ones((3, 2)))
    with pytest.raises(CriterionError, match="has no criteria"):
        method(pd.DataFrame(index=[1, 2]))


def test_entropy_rejects_negative_scores() -> None:
    with pytest.raises(CriterionError, match=r"'a' has negative scores \(min -0.5\).*>= 0"):
        entropy_weights(pd.DataFrame({"a": [-0.5, 0.2, 0.3], "b": [0.1, 0.2, 0.3]}))


def test_objective_weights_do_not_modify_input() -> None:
    x = pd.DataFrame({"a": [0.1, 0.5, 0.9], "b": [0.3, 0.2, 0.8]})
    before = x.copy()
    entropy_weights(x)
    critic_weights(x)
    pd.testing.assert_frame_equal(x, before)


def test_objective_weight_errors_show_plain_labels() -> None:
    scores = pd.DataFrame([[0.2, np.inf], [0.4, 0.5]], columns=pd.Index([10, 11]))
    with pytest.raises(CriterionError) as info:
        entropy_weights(scores)
    assert "criterion 11 has a missing or infinite score (inf at site 0" in str(info.value)
    with pytest.raises(CriterionError, match=r"criterion 11 has negative scores \(min -0.5\)"):
        entropy_weights(pd.DataFrame([[0.2, -0.5], [0.4, 0.5]], columns=pd.Index([10, 11])))


@pytest.mark.parametrize(
    ("method", "low"),
    [(entropy_weights, 0.0), (critic_weights, 0.0), (critic_weights, -1.0)],
)
def test_objective_weights_of_scores_near_the_largest_float_are_exact(method, low) -> None:  # type: ignore[no-untyped-def]
    """Entropy and CRITIC do not change when a column is scaled: not even to ~1.7e308,
    where column sums (entropy) and spreads (CRITIC) would overflow."""
    scores = pd.DataFrame({"a": [0.9, 0.4, 0.1], "b": [0.2, 0.8, 0.5], "c": [0.3, 0.3, 0.6]})
    scores["a"] = low + (1 - low) * scores["a"]  # for CRITIC also negative values
    huge = scores.assign(a=np.ldexp(scores["a"], 1024), b=np.ldexp(scores["b"], 1024))
    assert np.isfinite(huge.to_numpy()).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_series_equal(method(huge), method(scores))

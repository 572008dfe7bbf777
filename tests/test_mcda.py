"""Tests of geoplan.decide.mcda: weighted sum, TOPSIS, VIKOR, OWA and aggregate().

Published examples are named in each docstring with where the numbers were
taken from; pymcdm (test-only dependency) is the independent implementation
for TOPSIS and VIKOR on random matrices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geoplan._errors import CriterionError, WeightsError
from geoplan.decide.ahp import ahp_weights
from geoplan.decide.mcda import METHODS, aggregate, owa, topsis, topsis_table, vikor, weighted_sum

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(x: np.ndarray, prefix: str = "c") -> pd.DataFrame:
    return pd.DataFrame(
        x,
        columns=[f"{prefix}{j}" for j in range(x.shape[1])],
        index=[f"s{i}" for i in range(x.shape[0])],
    )


def _weights(w: np.ndarray, prefix: str = "c") -> pd.Series:
    return pd.Series(w, index=[f"{prefix}{j}" for j in range(len(w))])


# ---------------------------------------------------------------------------
# TOPSIS
# ---------------------------------------------------------------------------


def test_topsis_hwang_yoon_1981_fighter_aircraft() -> None:
    """Hwang & Yoon (1981), *Multiple Attribute Decision Making*, pp. 133-134:
    four fighter aircraft, six attributes (max speed, ferry range, payload,
    acquisition cost [cost], reliability, manoeuvrability), w = (.2, .1, .1, .1,
    .2, .3).  Published: D+ = .0545 .1197 .0580 .1009, D- = .0983 .0439 .0920
    .0458, C = .643 .268 .613 .312 (transcribed with the book's intermediate
    tables in the mcdajs example "fighter aircraft").  The book rounds its
    intermediate tables to 4 decimals; exact arithmetic gives C(A3) = 0.6135
    and D+(A1) = 0.0546, hence the tolerances.  The cost attribute is passed
    negated, which vector normalisation turns into the textbook cost rule."""
    x = pd.DataFrame(
        [
            [2.0, 1500, 20000, 5.5, 5, 9],
            [2.5, 2700, 18000, 6.5, 3, 5],
            [1.8, 2000, 21000, 4.5, 7, 7],
            [2.2, 1800, 20000, 5.0, 5, 5],
        ],
        columns=["speed", "range", "payload", "cost", "reliability", "manoeuvrability"],
        index=["A1", "A2", "A3", "A4"],
    )
    x["cost"] = -x["cost"]
    w = pd.Series([0.2, 0.1, 0.1, 0.1, 0.2, 0.3], index=x.columns)
    table = topsis_table(x, w)
    np.testing.assert_allclose(table["d_ideal"], [0.0545, 0.1197, 0.0580, 0.1009], atol=2e-4)
    np.testing.assert_allclose(table["d_anti_ideal"], [0.0983, 0.0439, 0.0920, 0.0458], atol=2e-4)
    np.testing.assert_allclose(table["closeness"], [0.643, 0.268, 0.613, 0.312], atol=1.5e-3)
    assert list(topsis(x, w).rank(ascending=False).astype(int)) == [1, 4, 2, 3]


OPRICOVIC_F = pd.DataFrame(
    {"risk": [1.0, 2.0, 5.0], "altitude": [3000.0, 3750.0, 4500.0]}, index=["A1", "A2", "A3"]
)
OPRICOVIC_PHI = pd.DataFrame(
    {"risk": [6.0, 7.0, 10.0], "altitude": [2.0, 2.75, 3.5]}, index=["A1", "A2", "A3"]
)
HALF = pd.Series({"risk": 0.5, "altitude": 0.5})


@pytest.mark.parametrize(
    ("x", "d_ideal", "d_anti", "closeness"),
    [
        (OPRICOVIC_F, [0.114, 0.108, 0.365], [0.365, 0.280, 0.114], [0.762, 0.722, 0.238]),
        (OPRICOVIC_PHI, [0.154, 0.085, 0.147], [0.147, 0.134, 0.154], [0.489, 0.612, 0.511]),
    ],
)
def test_topsis_opricovic_tzeng_2004(
    x: pd.DataFrame, d_ideal: list[float], d_anti: list[float], closeness: list[float]
) -> None:
    """Opricovic & Tzeng (2004), EJOR 156, 445-455, Table 3: the same three
    alternatives in two unit systems (risk is a cost).  Published D+, D- and C
    as transcribed in fatihaydost/kds-topsis-critic tests/fixtures
    (opricovic-tzeng-2004-f/-phi.json), to 3 decimals.  The ranking changes
    with the units -- the paper's point about vector normalisation."""
    scores = x.assign(risk=-x["risk"])
    table = topsis_table(scores, HALF)
    np.testing.assert_allclose(table["d_ideal"], d_ideal, atol=6e-4)
    np.testing.assert_allclose(table["d_anti_ideal"], d_anti, atol=6e-4)
    np.testing.assert_allclose(table["closeness"], closeness, atol=6e-4)


def test_topsis_matches_pymcdm() -> None:
    pymcdm = pytest.importorskip("pymcdm")
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    body = TOPSIS(vector_normalization)
    rng = np.random.default_rng(42)
    for _ in range(25):
        m, n = int(rng.integers(2, 60)), int(rng.integers(1, 8))
        x = rng.uniform(0.01, 1, size=(m, n))
        w = rng.dirichlet(np.ones(n))
        expected = body(x, w, np.ones(n), validation=False)
        ours = topsis(_frame(x), _weights(w)).to_numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
    assert pymcdm is not None


@FAST
@given(
    arrays(
        np.float64, st.tuples(st.integers(2, 25), st.integers(1, 6)), elements=st.floats(0.01, 1.0)
    ),
    st.data(),
)
def test_topsis_ranking_does_not_change_with_units(x: np.ndarray, data: st.DataObject) -> None:
    """Multiplying a raw criterion by a positive constant (metres -> km, yuan ->
    10k yuan) leaves every TOPSIS value, hence the ranking, unchanged."""
    n = x.shape[1]
    j = data.draw(st.integers(0, n - 1))
    factor = data.draw(st.floats(1e-3, 1e3))
    w = _weights(np.full(n, 1.0 / n))
    scaled = x.copy()
    scaled[:, j] *= factor
    before, after = topsis(_frame(x), w), topsis(_frame(scaled), w)
    # same values (to rounding), hence the same ranking
    np.testing.assert_allclose(after.to_numpy(), before.to_numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# VIKOR
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("x", [OPRICOVIC_F, OPRICOVIC_PHI])
def test_vikor_opricovic_tzeng_2004_is_unit_independent(x: pd.DataFrame) -> None:
    """The example above with VIKOR (v = 0.5).  Values derived by hand, not
    copied from the paper: shortfalls d = 0.5 (f* - f) / (f* - f-) are
    A1 (0, .5), A2 (.125, .25), A3 (.5, 0) in both unit systems, so
    S = .5 .375 .5, R = .5 .25 .5, Q = 1 0 1: A2 is the compromise, whatever the
    units (the paper's conclusion for VIKOR's linear normalisation)."""
    table = vikor(x.assign(risk=-x["risk"]), HALF)
    np.testing.assert_allclose(table["S"], [0.5, 0.375, 0.5])
    np.testing.assert_allclose(table["R"], [0.5, 0.25, 0.5])
    np.testing.assert_allclose(table["Q"], [1.0, 0.0, 1.0])
    value = aggregate(x.assign(risk=-x["risk"]), HALF, method="vikor")
    assert value.idxmax() == "A2"
    np.testing.assert_allclose(value, [0.0, 1.0, 0.0])


def test_vikor_pymcdm_docstring_example() -> None:
    """pymcdm's VIKOR docstring example: Q = 0.5679 0.7667 1 0.7493 0."""
    x = np.array(
        [[78, 56, 34, 6], [4, 45, 3, 97], [18, 2, 50, 63], [9, 14, 11, 92], [85, 9, 100, 29]],
        dtype=float,
    )
    q = vikor(_frame(x), _weights(np.full(4, 0.25)))["Q"]
    np.testing.assert_allclose(q, [0.5679, 0.7667, 1.0, 0.7493, 0.0], atol=5e-5)


@pytest.mark.parametrize("v", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_vikor_matches_pymcdm(v: float) -> None:
    """Q against pymcdm.methods.VIKOR (which ranks by ascending Q); S and R
    against the formulas; aggregate() = 1 - Q ranks the same way."""
    pytest.importorskip("pymcdm")
    from pymcdm.methods import VIKOR

    body = VIKOR(v=v)
    rng = np.random.default_rng(int(v * 100))
    for _ in range(8):
        m, n = int(rng.integers(3, 50)), int(rng.integers(2, 7))
        x = rng.random((m, n))
        w = rng.dirichlet(np.ones(n))
        table = vikor(_frame(x), _weights(w), v=v)
        np.testing.assert_allclose(
            table["Q"].to_numpy(), body(x, w, np.ones(n), validation=False), atol=1e-12
        )
        d = w * (x.max(axis=0) - x) / (x.max(axis=0) - x.min(axis=0))
        np.testing.assert_allclose(table["S"], d.sum(axis=1), atol=1e-12)
        np.testing.assert_allclose(table["R"], d.max(axis=1), atol=1e-12)
        ours = aggregate(_frame(x), _weights(w), method="vikor", v=v)
        np.testing.assert_allclose(ours.to_numpy(), 1 - table["Q"].to_numpy())
        pymcdm_rank = body.rank(body(x, w, np.ones(n), validation=False))
        np.testing.assert_array_equal(
            ours.rank(ascending=False, method="average").to_numpy(), pymcdm_rank
        )


def test_vikor_handles_constant_criterion_and_single_site() -> None:
    x = pd.DataFrame({"a": [0.2, 0.8, 0.5], "flat": [0.3, 0.3, 0.3]})
    table = vikor(x, {"a": 0.5, "flat": 0.5})
    np.testing.assert_allclose(table["S"], [0.5, 0.0, 0.25])
    one = vikor(pd.DataFrame({"a": [0.4], "b": [0.9]}), {"a": 1, "b": 1})
    assert one.iloc[0].tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------
# Weighted sum and AHP synthesis
# ---------------------------------------------------------------------------

CITIES_CRITERIA = {
    ("Culture", "Housing"): 3,
    ("Culture", "Transportation"): 5,
    ("Family", "Culture"): 5,
    ("Family", "Housing"): 7,
    ("Family", "Transportation"): 7,
    ("Housing", "Transportation"): 3,
    ("Jobs", "Culture"): 2,
    ("Jobs", "Housing"): 4,
    ("Jobs", "Transportation"): 7,
    ("Family", "Jobs"): 1,
}
CITIES = {
    "Culture": {
        ("Bethesda", "Pittsburgh"): 1,
        ("Boston", "Bethesda"): 2,
        ("Boston", "Pittsburgh"): 2.5,
        ("Boston", "Santa Fe"): 1,
        ("Santa Fe", "Bethesda"): 2,
        ("Santa Fe", "Pittsburgh"): 2.5,
    },
    "Family": {
        ("Bethesda", "Boston"): 2,
        ("Bethesda", "Santa Fe"): 4,
        ("Boston", "Santa Fe"): 2,
        ("Pittsburgh", "Bethesda"): 3,
        ("Pittsburgh", "Boston"): 8,
        ("Pittsburgh", "Santa Fe"): 9,
    },
    "Housing": {
        ("Bethesda", "Boston"): 5,
        ("Bethesda", "Santa Fe"): 2.5,
        ("Pittsburgh", "Bethesda"): 2,
        ("Pittsburgh", "Boston"): 9,
        ("Pittsburgh", "Santa Fe"): 7,
        ("Santa Fe", "Boston"): 4,
    },
    "Jobs": {
        ("Bethesda", "Pittsburgh"): 3,
        ("Bethesda", "Santa Fe"): 4,
        ("Boston", "Bethesda"): 2,
        ("Boston", "Pittsburgh"): 6,
        ("Boston", "Santa Fe"): 8,
        ("Pittsburgh", "Santa Fe"): 1,
    },
    "Transportation": {
        ("Bethesda", "Boston"): 1.5,
        ("Bethesda", "Santa Fe"): 4,
        ("Boston", "Santa Fe"): 2.5,
        ("Pittsburgh", "Bethesda"): 2,
        ("Pittsburgh", "Boston"): 3.5,
        ("Pittsburgh", "Santa Fe"): 9,
    },
}


def test_ahp_synthesis_is_a_weighted_sum_saaty_2005_cities() -> None:
    """Saaty (2005), *Theory and Applications of the Analytic Network Process*:
    choosing a city (Bethesda, Boston, Pittsburgh, Santa Fe) by culture, family,
    housing, jobs and transportation.  Published overall priorities .229 .275
    .385 .111 (transcribed in the AHPy test suite).  The AHP synthesis is the
    weighted sum of the cities' local priorities with the criteria weights."""
    criteria = ahp_weights(CITIES_CRITERIA, on_inconsistent="ignore").weights
    cities = ["Bethesda", "Boston", "Pittsburgh", "Santa Fe"]
    local = pd.DataFrame(
        {
            c: ahp_weights(j, criteria=cities, on_inconsistent="ignore").weights
            for c, j in CITIES.items()
        }
    )
    overall = weighted_sum(local, criteria)
    np.testing.assert_allclose(overall.loc[cities], [0.229, 0.275, 0.385, 0.111], atol=5e-4)
    pd.testing.assert_series_equal(aggregate(local, criteria), overall)


def test_weighted_sum_by_hand_and_zero_weight_criteria_may_be_missing() -> None:
    scores = pd.DataFrame(
        {"jobs": [1.0, 0.5, 0.0], "transit": [0.0, 0.5, 1.0], "off": [np.nan, np.nan, np.nan]},
        index=["a", "b", "c"],
    )
    out = weighted_sum(scores, {"jobs": 3, "transit": 1, "off": 0})
    assert out.to_dict() == {"a": 0.75, "b": 0.5, "c": 0.25}
    assert out.name == "weighted_sum"


def test_sites_with_missing_scores_get_nan_and_do_not_shape_the_others() -> None:
    rng = np.random.default_rng(5)
    x = _frame(rng.random((8, 3)))
    w = _weights(np.array([0.5, 0.3, 0.2]))
    holed = x.copy()
    holed.iloc[2, 1] = np.nan
    for method in METHODS:
        full = aggregate(x.drop(index="s2"), w, method=method)
        out = aggregate(holed, w, method=method)
        assert np.isnan(out["s2"])
        pd.testing.assert_series_equal(out.drop(index="s2"), full, check_names=False)


# ---------------------------------------------------------------------------
# OWA
# ---------------------------------------------------------------------------


def test_owa_by_hand() -> None:
    """Three criteria, weights (.5, .3, .2), scores (.2, .9, .6), optimism .25
    (quantifier r**3).  Sorted best first: .9 (w .3), .6 (w .2), .2 (w .5);
    cumulative .3, .5, 1; order weights .027, .098, .875;
    value = .9*.027 + .6*.098 + .2*.875 = .2581."""
    scores = pd.DataFrame({"a": [0.2], "b": [0.9], "c": [0.6]})
    w = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert owa(scores, w, optimism=0.25).iloc[0] == pytest.approx(
        0.9 * 0.027 + 0.6 * 0.098 + 0.2 * 0.875
    )
    assert owa(scores, w, optimism=0.5).iloc[0] == pytest.approx(weighted_sum(scores, w).iloc[0])
    assert owa(scores, w, optimism=0.0).iloc[0] == pytest.approx(0.2)
    assert owa(scores, w, optimism=1.0).iloc[0] == pytest.approx(0.9)
    # a criterion with weight 0 does not count, even as the minimum or maximum
    assert owa(scores.assign(d=0.0), {**w, "d": 0}, optimism=0.0).iloc[0] == pytest.approx(0.2)


@FAST
@given(
    arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=st.floats(0, 1)),
    st.data(),
)
def test_owa_is_between_min_and_max_and_grows_with_optimism(
    x: np.ndarray, data: st.DataObject
) -> None:
    n = x.shape[1]
    w = np.asarray(data.draw(arrays(np.float64, n, elements=st.floats(0.01, 1))))
    scores, weights = _frame(x), _weights(w)
    previous = None
    for optimism in [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]:
        value = owa(scores, weights, optimism=optimism).to_numpy()
        assert (value >= x.min(axis=1) - 1e-12).all() and (value <= x.max(axis=1) + 1e-12).all()
        if previous is not None:
            assert (value >= previous - 1e-9).all()
        previous = value
    np.testing.assert_allclose(
        owa(scores, weights).to_numpy(), weighted_sum(scores, weights).to_numpy(), atol=1e-12
    )


# ---------------------------------------------------------------------------
# Properties shared by all methods
# ---------------------------------------------------------------------------


@FAST
@given(
    arrays(np.float64, st.tuples(st.integers(2, 15), st.integers(1, 6)), elements=st.floats(0, 1)),
    st.data(),
)
def test_a_dominated_site_never_outranks_its_dominator(x: np.ndarray, data: st.DataObject) -> None:
    """Append a copy of site i lowered on some criteria: for every method its
    value is never above site i's (so it cannot rank higher; ties are possible
    when the lowered criteria carry no weight or no spread)."""
    m, n = x.shape
    i = data.draw(st.integers(0, m - 1))
    drop = np.asarray(data.draw(arrays(np.float64, n, elements=st.floats(0, 1))))
    w = np.asarray(data.draw(arrays(np.float64, n, elements=st.floats(0, 1))))
    assume(w.sum() > 1e-6)
    worse = np.clip(x[i] - drop * x[i], 0, 1)
    scores = _frame(np.vstack([x, worse]))
    dominated = f"s{m}"
    for method, options in [
        ("weighted_sum", {}),
        ("topsis", {}),
        ("vikor", {"v": 0.5}),
        ("vikor", {"v": 0.1}),
        ("owa", {"optimism": 0.2}),
        ("owa", {"optimism": 0.8}),
        ("owa", {"optimism": 0.0}),
    ]:
        value = aggregate(scores, _weights(w), method=method, **options)
        assert value[dominated] <= value[f"s{i}"] + 1e-12, (method, options)


@FAST
@given(
    arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 5)), elements=st.floats(0, 1))
)
def test_all_methods_return_0_to_1_aligned_to_the_sites(x: np.ndarray) -> None:
    scores = _frame(x).iloc[::-1]  # any index order
    w = _weights(np.linspace(1, 2, x.shape[1]))
    for method in METHODS:
        out = aggregate(scores, w, method=method)
        assert out.index.equals(scores.index)
        assert out.name == method
        assert ((out >= 0) & (out <= 1)).all()


def test_inputs_are_not_modified() -> None:
    scores = pd.DataFrame({"a": [0.1, 0.9, 0.4], "b": [0.5, 0.2, 0.7]})
    weights = pd.Series({"a": 2.0, "b": 1.0})
    before_scores, before_weights = scores.copy(), weights.copy()
    for method in METHODS:
        aggregate(scores, weights, method=method)
    vikor(scores, weights)
    topsis_table(scores, weights)
    pd.testing.assert_frame_equal(scores, before_scores)
    pd.testing.assert_series_equal(weights, before_weights)


def test_method_names_are_forgiving() -> None:
    scores = pd.DataFrame({"a": [0.1, 0.9], "b": [0.5, 0.2]})
    pd.testing.assert_series_equal(
        aggregate(scores, {"a": 1, "b": 1}, method="Weighted-Sum"),
        aggregate(scores, {"a": 1, "b": 1}),
    )
    assert aggregate(scores, {"a": 1, "b": 1}, method="TOPSIS").name == "topsis"


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

SCORES = pd.DataFrame({"jobs": [0.2, 0.8], "transit": [0.5, 0.4]}, index=["north", "south"])
WEIGHTS = pd.Series({"jobs": 0.6, "transit": 0.4})


@pytest.mark.parametrize(
    ("call", "error", "fragments"),
    [
        (
            lambda: aggregate(SCORES, WEIGHTS, method="ahp"),
            WeightsError,
            ["Unknown aggregation method 'ahp'", "'weighted_sum', 'topsis', 'vikor', 'owa'"],
        ),
        (
            lambda: aggregate(SCORES, WEIGHTS, method="topsys"),
            WeightsError,
            ["Did you mean 'topsis'"],
        ),
        (
            lambda: aggregate(SCORES, WEIGHTS, method="vikor", optimism=0.3),
            WeightsError,
            ["'vikor' has no option(s) ['optimism']", "['v']"],
        ),
        (
            lambda: aggregate(SCORES, WEIGHTS, method="topsis", v=0.3),
            WeightsError,
            ["it has no options"],
        ),
        (
            lambda: aggregate(SCORES, WEIGHTS, method="vikor", v=1.5),
            WeightsError,
            ["v=1.5 must be a number from 0 to 1", "group utility"],
        ),
        (
            lambda: owa(SCORES, WEIGHTS, optimism=-0.1),
            WeightsError,
            ["optimism=-0.1", "worst criterion"],
        ),
        (
            lambda: aggregate(SCORES, {"jobs": 1.0}),
            WeightsError,
            ["no weight for criteria ['transit']", "0 to leave"],
        ),
        (
            lambda: aggregate(SCORES, {"jobs": 1, "transit": 1, "parks": 1}),
            WeightsError,
            ["['parks']", "not columns of the scores"],
        ),
        (
            lambda: aggregate(SCORES, {"jobs": -1, "transit": 1}),
            WeightsError,
            ["'jobs' = -1.0 is negative"],
        ),
        (lambda: aggregate(SCORES.to_numpy(), WEIGHTS), CriterionError, ["DataFrame", "ndarray"]),
        (
            lambda: aggregate(SCORES.assign(jobs=["a", "b"]), WEIGHTS),
            CriterionError,
            ["'jobs' has non-numeric scores"],
        ),
        (
            lambda: aggregate(SCORES.assign(jobs=[0.1, np.inf]), WEIGHTS),
            CriterionError,
            ["'jobs' has an infinite score (inf at site 'south')"],
        ),
        (
            lambda: aggregate(SCORES.assign(jobs=[0.1, 3.0]), WEIGHTS),
            CriterionError,
            ["'jobs' has score 3.0 at site 'south', outside 0-1", "rescale"],
        ),
        (
            lambda: owa(SCORES.assign(transit=[-0.5, 0.1]), WEIGHTS),
            CriterionError,
            ["'transit' has score -0.5 at site 'north'"],
        ),
        (
            lambda: aggregate(SCORES.assign(jobs=np.nan), WEIGHTS),
            CriterionError,
            ["no site has scores for all weighted criteria"],
        ),
        (
            lambda: aggregate(pd.concat([SCORES, SCORES["jobs"]], axis=1), WEIGHTS),
            CriterionError,
            ["['jobs'] appear twice"],
        ),
        (lambda: aggregate(SCORES, WEIGHTS, method=3), WeightsError, ["method=3 must be a string"]),
    ],
)
def test_bad_input_is_explained(call, error, fragments) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_topsis_and_vikor_accept_raw_values() -> None:
    raw = SCORES.assign(jobs=[1200.0, 5300.0])
    assert topsis(raw, WEIGHTS).idxmax() == "south"
    assert vikor(raw, WEIGHTS)["Q"].idxmin() == "south"

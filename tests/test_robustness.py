"""Tests of geoplan.decide.robustness (Monte Carlo ranks, summaries) and its ranking machinery.

The vectorised Monte Carlo is checked against a brute-force loop over the same
draws (ranks by scipy.stats.rankdata, quantiles by numpy's inverted-CDF
definition, TOPSIS by pymcdm).  No timing
assertions here (see the report for the measured speed).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from geoplan import load_study, rank_sites
from geoplan._errors import CriterionError, WeightsError
from geoplan.decide import mcda
from geoplan.decide._weightings import _min_ranks, _rank_order, _rank_with_ties, _shortlist_counts
from geoplan.decide.robustness import (
    _quantile_ranks,
    _rank_bins,
    add_robustness,
    monte_carlo_ranks,
    robustness_summary,
)

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        x, columns=[f"c{j}" for j in range(x.shape[1])], index=[f"s{i}" for i in range(x.shape[0])]
    )


def _weights(w: np.ndarray) -> pd.Series:
    return pd.Series(w, index=[f"c{j}" for j in range(len(w))])


def _reference(values: np.ndarray, k: int) -> pd.DataFrame:
    """Brute force: ordinal ranks per draw (ties by position), then exact statistics."""
    ranks = np.vstack([stats.rankdata(-row, method="ordinal") for row in values])
    return pd.DataFrame(
        {
            "p_top_k": (ranks <= k).mean(axis=0),
            "median_rank": np.quantile(ranks, 0.5, axis=0, method="inverted_cdf"),
            "rank_p05": np.quantile(ranks, 0.05, axis=0, method="inverted_cdf"),
            "rank_p95": np.quantile(ranks, 0.95, axis=0, method="inverted_cdf"),
            "rank_best": ranks.min(axis=0),
            "rank_worst": ranks.max(axis=0),
        }
    ).astype(float)


# ---------------------------------------------------------------------------
# Ranking machinery
# ---------------------------------------------------------------------------


@FAST
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 300)),
        elements=st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0, -3.0, 1e-300, 7.5])
        | st.floats(-10, 10, allow_subnormal=False),
    )
)
def test_rank_order_is_a_stable_descending_argsort(values: np.ndarray) -> None:
    """Equal to a stable argsort, except that values within ~1e-11 relative tie
    (documented); such near-ties are excluded here."""
    for row in values:
        distinct = np.unique(row)
        gaps = np.diff(distinct) / np.maximum(np.abs(distinct[1:]), np.abs(distinct[:-1]))
        assume(gaps.size == 0 or gaps.min() > 1e-9)
    expected = np.argsort(-values, axis=1, kind="stable")
    np.testing.assert_array_equal(_rank_order(values.copy()), expected)


def test_rank_bins_are_exact_at_the_top_and_quantiles_stay_in_their_bin() -> None:
    bin_of_rank, edges, exact_up_to = _rank_bins(1000, max_cells=1000 * 40)
    assert edges[0] == 0 and edges[-1] == 1000 and (np.diff(edges) >= 1).all()
    assert exact_up_to == 20 and (np.diff(edges)[:20] == 1).all()
    np.testing.assert_array_equal(edges[bin_of_rank] <= np.arange(1000), True)
    np.testing.assert_array_equal(edges[bin_of_rank + 1] > np.arange(1000), True)
    rng = np.random.default_rng(0)
    ranks = rng.integers(0, 1000, size=(500, 30))  # 500 draws x 30 sites, 0-based
    hist = np.zeros((len(edges) - 1, 30), dtype=np.int64)
    for s in range(30):
        hist[:, s] = np.bincount(bin_of_rank[ranks[:, s]], minlength=len(edges) - 1)
    for q in (0.05, 0.5, 0.95):
        ours = _quantile_ranks(hist, edges, 500, q) - 1
        true = np.quantile(ranks, q, axis=0, method="inverted_cdf")
        b = bin_of_rank[true]
        assert ((ours >= edges[b]) & (ours < edges[b + 1])).all()
        exact = true < exact_up_to
        np.testing.assert_array_equal(ours[exact], true[exact])
    small_bins, small_edges, small_exact = _rank_bins(50)
    np.testing.assert_array_equal(small_edges, np.arange(51))
    np.testing.assert_array_equal(small_bins, np.arange(50))
    assert small_exact == 50


# ---------------------------------------------------------------------------
# Monte Carlo against brute force
# ---------------------------------------------------------------------------


def test_monte_carlo_weighted_sum_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((40, 4))
    w = np.array([0.4, 0.3, 0.2, 0.1])
    eligible = pd.Series(rng.random(40) > 0.3, index=[f"s{i}" for i in range(40)])
    mc = monte_carlo_ranks(
        _frame(x),
        _weights(w),
        draws=600,
        concentration=30,
        seed=7,
        top_k=3,
        eligible=eligible,
        chunk_size=77,
        n_jobs=2,
    )
    draws = np.random.default_rng(7).dirichlet(30 * w, size=600)
    values = (draws @ x.T)[:, eligible.to_numpy()]
    expected = _reference(values, 3)
    got = mc.loc[eligible.to_numpy(), expected.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_names=False)
    assert mc.loc[~eligible.to_numpy()].isna().all().all()
    base = stats.rankdata(-(x @ w)[eligible.to_numpy()], method="ordinal")
    np.testing.assert_array_equal(mc.loc[eligible.to_numpy(), "baseline_rank"], base)


def test_monte_carlo_topsis_matches_pymcdm_brute_force() -> None:
    """The vectorised TOPSIS (two matrix products per chunk) against pymcdm, one
    draw at a time; the ideal comes from all sites, ranks from eligible ones."""
    pytest.importorskip("pymcdm")
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    rng = np.random.default_rng(2)
    x = rng.uniform(0.05, 1, size=(25, 3))
    w = np.array([0.5, 0.3, 0.2])
    eligible = np.arange(25) % 4 != 0
    mc = monte_carlo_ranks(
        _frame(x),
        _weights(w),
        draws=200,
        bounds=0.5,
        seed=3,
        top_k=4,
        method="topsis",
        eligible=eligible,
        n_jobs=1,
    )
    factors = np.random.default_rng(3).uniform(0.5, 1.5, size=(200, 3))
    draws = w * factors
    draws /= draws.sum(axis=1, keepdims=True)
    body = TOPSIS(vector_normalization)
    values = np.vstack([body(x, d, np.ones(3), validation=False) for d in draws])[:, eligible]
    expected = _reference(values, 4)
    got = mc.loc[eligible, expected.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_names=False)


@pytest.mark.parametrize("method", ["vikor", "owa"])
def test_monte_carlo_other_methods_match_aggregate_per_draw(method: str) -> None:
    rng = np.random.default_rng(4)
    x = _frame(rng.random((30, 3)))
    w = np.array([0.2, 0.5, 0.3])
    options = {"v": 0.3} if method == "vikor" else {"optimism": 0.3}
    mc = monte_carlo_ranks(x, _weights(w), draws=60, seed=5, top_k=2, method=method, **options)
    draws = np.random.default_rng(5).dirichlet(100 * w, size=60)
    values = np.vstack(
        [mcda.aggregate(x, _weights(d), method=method, **options).to_numpy() for d in draws]
    )
    pd.testing.assert_frame_equal(
        mc[_reference(values, 2).columns].reset_index(drop=True), _reference(values, 2)
    )


def test_monte_carlo_does_not_depend_on_chunks_or_threads() -> None:
    rng = np.random.default_rng(8)
    x, w = _frame(rng.random((60, 5))), _weights(rng.dirichlet(np.ones(5)))
    one = monte_carlo_ranks(x, w, draws=300, seed=11, chunk_size=300, n_jobs=1)
    many = monte_carlo_ranks(x, w, draws=300, seed=11, chunk_size=13, n_jobs=3)
    pd.testing.assert_frame_equal(one, many)
    assert one.attrs == many.attrs


def test_monte_carlo_with_more_sites_than_exact_bins() -> None:
    """2 500 eligible sites: ranks are binned below the exact top; the top sites'
    statistics are still exact, the others lie within their bins."""
    rng = np.random.default_rng(9)
    x = rng.random((2500, 3))
    w = np.array([0.5, 0.3, 0.2])
    mc = monte_carlo_ranks(_frame(x), _weights(w), draws=60, concentration=50, seed=1, top_k=5)
    exact = mc.attrs["rank_exact_up_to"]
    assert 100 < exact < 2500
    values = np.random.default_rng(1).dirichlet(50 * w, size=60) @ x.T
    expected = _reference(values, 5)
    np.testing.assert_array_equal(mc["p_top_k"], expected["p_top_k"])
    top = (expected["rank_worst"] <= exact).to_numpy()
    assert top.sum() >= 50
    pd.testing.assert_frame_equal(
        mc.loc[top, expected.columns].reset_index(drop=True),
        expected.loc[top].reset_index(drop=True),
    )
    for column in ["median_rank", "rank_p05", "rank_p95"]:
        assert (
            np.abs(mc[column].to_numpy() - expected[column].to_numpy())
            <= 0.03 * expected[column] + 1
        ).all()
    assert (mc["rank_best"].to_numpy() <= expected["rank_best"].to_numpy()).all()
    assert (mc["rank_worst"].to_numpy() >= expected["rank_worst"].to_numpy()).all()


@FAST
@given(
    st.integers(2, 30),
    st.integers(2, 5),
    st.integers(0, 2**32 - 1),
    st.sampled_from(
        [("weighted_sum", {}), ("topsis", {}), ("vikor", {"v": 0.5}), ("owa", {"optimism": 0.3})]
    ),
)
def test_huge_concentration_reproduces_the_baseline_ranking(
    m: int,
    n: int,
    seed: int,
    method: tuple[str, dict],  # type: ignore[type-arg]
) -> None:
    name, options = method
    x = np.random.default_rng(seed).random((m, n))
    w = _weights(np.linspace(1, 2, x.shape[1]))
    base = mcda.aggregate(_frame(x), w, method=name, **options).to_numpy()
    gaps = np.diff(np.sort(base))
    assume(gaps.size == 0 or gaps.min() > 1e-6)
    if name == "vikor":
        # Q rescales S and R by their ranges, so it jumps when two sites' S (or R)
        # swap order: near-equal S or R are as much a tie as near-equal values.
        table = mcda.vikor(_frame(x), w, **options)
        for column in ("S", "R"):
            assume(np.diff(np.sort(table[column].to_numpy())).min() > 1e-6)
    mc = monte_carlo_ranks(
        _frame(x), w, draws=20, concentration=1e13, seed=0, top_k=2, method=name, **options
    )
    expected = stats.rankdata(-base, method="ordinal").astype(float)
    for column in [
        "baseline_rank",
        "rank_best",
        "rank_worst",
        "median_rank",
        "rank_p05",
        "rank_p95",
    ]:
        np.testing.assert_array_equal(mc[column].to_numpy(), expected, err_msg=column)
    np.testing.assert_array_equal(mc["p_top_k"].to_numpy(), (expected <= 2).astype(float))


def test_zero_bounds_give_the_baseline_every_time() -> None:
    rng = np.random.default_rng(12)
    x, w = _frame(rng.random((20, 3))), _weights(np.array([0.6, 0.3, 0.1]))
    mc = monte_carlo_ranks(x, w, draws=50, bounds=0.0, seed=1)
    assert (mc["rank_best"] == mc["rank_worst"]).all()
    assert (mc["rank_best"] == mc["baseline_rank"]).all()
    assert mc.attrs["sampling"] == "uniform" and mc.attrs["bounds"] == 0.0


def test_monte_carlo_baseline_matches_aggregate_ranking_with_ineligible_sites() -> None:
    """TOPSIS ideal from all scored sites (as aggregate does), ranks among eligible."""
    rng = np.random.default_rng(13)
    x = _frame(rng.random((15, 3)))
    eligible = pd.Series(np.arange(15) % 3 != 0, index=x.index)
    x.loc[~eligible, "c1"] = np.nan  # an ineligible site may lack scores
    x.loc["s3", "c1"] = 0.4
    w = _weights(np.array([0.3, 0.3, 0.4]))
    mc = monte_carlo_ranks(x, w, draws=10, method="topsis", eligible=eligible)
    score = mcda.aggregate(x, w, method="topsis")
    expected = score.where(eligible).rank(ascending=False, method="first")
    pd.testing.assert_series_equal(mc["baseline_rank"], expected, check_names=False)
    assert mc.loc["s0"].isna().all()


def test_monte_carlo_attrs_record_the_settings() -> None:
    x = _frame(np.random.default_rng(0).random((10, 2)))
    mc = monte_carlo_ranks(
        x, _weights(np.array([1.0, 3.0])), draws=10, seed=4, top_k=3, method="vikor", v=0.7
    )
    assert mc.attrs == {
        "draws": 10,
        "sampling": "dirichlet",
        "concentration": 100.0,
        "bounds": None,
        "method": "vikor",
        "options": {"v": 0.7},
        "top_k": 3,
        "seed": 4,
        "n_eligible": 10,
        "rank_exact_up_to": 10,
        "weights": {"c0": 0.25, "c1": 0.75},
    }
    assert list(mc.columns) == [
        "p_top_k",
        "median_rank",
        "rank_p05",
        "rank_p95",
        "rank_best",
        "rank_worst",
        "baseline_rank",
        "tied_with",
    ]


SCORES = pd.DataFrame({"jobs": [0.2, 0.8, 0.5], "transit": [0.5, 0.4, 0.9]}, index=["a", "b", "c"])
WEIGHTS = pd.Series({"jobs": 0.6, "transit": 0.4})


@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"concentration": 50, "bounds": 0.2}, WeightsError, ["either concentration=", "not both"]),
        ({"bounds": 1.5}, WeightsError, ["bounds=1.5", "0 to 1"]),
        ({"concentration": 0}, WeightsError, ["concentration=0 must be a positive number"]),
        ({"draws": 0}, WeightsError, ["draws=0 must be a whole number >= 1"]),
        ({"top_k": 2.5}, WeightsError, ["top_k=2.5"]),
        ({"n_jobs": 0}, WeightsError, ["n_jobs=0"]),
        ({"method": "electre"}, WeightsError, ["Unknown aggregation method 'electre'"]),
        ({"eligible": [True, False]}, CriterionError, ["shape (2,) for 3 sites"]),
        (
            {"eligible": pd.Series([True, True], index=["a", "b"])},
            CriterionError,
            ["no value for 1 site(s)", "'c'"],
        ),
        (
            {"eligible": pd.Series([True, True, True, True], index=["a", "b", "c", "d"])},
            CriterionError,
            ["not in scores", "'d'"],
        ),
        (
            {"eligible": pd.Series(["yes", "no", "yes"], index=["a", "b", "c"])},
            CriterionError,
            ["True/False", "'yes'"],
        ),
        ({"eligible": [False, False, False]}, CriterionError, ["no site is eligible"]),
    ],
)
def test_monte_carlo_rejects_bad_settings(kwargs, error, fragments) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        monte_carlo_ranks(SCORES, WEIGHTS, **{"draws": 10, **kwargs})
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_eligible_sites_need_scores() -> None:
    holed = SCORES.assign(jobs=[0.2, np.nan, 0.5])
    with pytest.raises(
        CriterionError,
        match=r"1 eligible site\(s\) lack a score.*\['b'\].*mark those sites ineligible",
    ):
        monte_carlo_ranks(holed, WEIGHTS, draws=10)
    out = monte_carlo_ranks(holed, WEIGHTS, draws=10, eligible=[True, False, True])
    assert np.isnan(out.loc["b", "median_rank"])


# ---------------------------------------------------------------------------
# Summary sentences
# ---------------------------------------------------------------------------


def test_robustness_summary_sentences() -> None:
    mc = pd.DataFrame(
        {
            "p_top_k": [0.93, 1.0, 0.0012, 0.9991, np.nan],
            "median_rank": [2.0, 1.0, 40.0, 3.0, np.nan],
            "rank_p05": [1.0, 1.0, 22.0, 2.0, np.nan],
            "rank_p95": [4.0, 1.0, 61.0, 5.0, np.nan],
        },
        index=["a", "b", "c", "d", "e"],
    )
    mc.attrs["top_k"] = 5
    out = robustness_summary(mc, top_k=5)
    assert out["a"] == "in the top 5 in 93% of weightings (median rank 2, 90% interval 1–4)"
    assert out["b"] == "in the top 5 in 100% of weightings (median rank 1, 90% interval 1–1)"
    assert out["c"].startswith("in the top 5 in <1% of weightings")
    assert out["d"].startswith("in the top 5 in >99% of weightings")
    assert out["e"] == "not eligible (not ranked)"
    assert out.name == "robustness"
    with pytest.raises(WeightsError, match="computed with top_k=5; pass top_k=5"):
        robustness_summary(mc, top_k=3)
    with pytest.raises(WeightsError, match="needs the table from monte_carlo_ranks"):
        robustness_summary(mc.drop(columns="rank_p95"), top_k=5)


def test_robustness_summary_of_a_real_run() -> None:
    mc = monte_carlo_ranks(SCORES, WEIGHTS, draws=50, seed=1, top_k=2)
    out = robustness_summary(mc, top_k=2)
    assert out.index.equals(SCORES.index)
    assert all(text.startswith("in the top 2 in ") for text in out)


# ---------------------------------------------------------------------------
# On a ranked table
# ---------------------------------------------------------------------------


def _ranked_table() -> pd.DataFrame:
    rng = np.random.default_rng(41)
    table = pd.DataFrame(
        {
            "site": [f"site {i}" for i in range(12)],
            "score__jobs": rng.random(12),
            "score__transit": rng.random(12),
            "score__parks": rng.random(12),
            "eligible": [True] * 10 + [False] * 2,
        }
    )
    table.loc[11, "score__parks"] = np.nan  # ineligible and unscored
    table.attrs["geoplan"] = {
        "method": "vikor",
        "weights": {"jobs": 0.5, "transit": 0.3, "parks": 0.2},
    }
    return table


def test_add_robustness_reads_the_ranked_table() -> None:
    table = _ranked_table()
    before = table.copy()
    before_attrs = {"geoplan": dict(table.attrs["geoplan"])}
    out = add_robustness(table, draws=200, top_k=3, method_options={"v": 0.4})
    pd.testing.assert_frame_equal(table, before)
    assert table.attrs == before_attrs
    scores = table[["score__jobs", "score__transit", "score__parks"]].set_axis(
        ["jobs", "transit", "parks"], axis=1
    )
    mc = monte_carlo_ranks(
        scores,
        pd.Series({"jobs": 0.5, "transit": 0.3, "parks": 0.2}),
        draws=200,
        top_k=3,
        method="vikor",
        v=0.4,
        eligible=table["eligible"],
        seed=0,
    )
    for column in ["p_top_k", "median_rank", "rank_p05", "rank_p95", "rank_best", "rank_worst"]:
        pd.testing.assert_series_equal(out[column], mc[column], check_names=False)
    assert out.loc[11, "robustness"] == "not eligible (not ranked)"
    assert out.loc[0, "robustness"].startswith("in the top 3 in ")
    assert out.attrs["geoplan"]["robustness"]["options"] == {"v": 0.4}
    assert out.attrs["geoplan"]["robustness"]["seed"] == 0


def test_add_robustness_needs_weights_and_scores() -> None:
    table = _ranked_table()
    table.attrs = {}
    with pytest.raises(WeightsError, match="does not record its criterion weights"):
        add_robustness(table, draws=10)
    table = _ranked_table().drop(columns="score__parks")
    with pytest.raises(CriterionError, match=r"lacks the score columns \['score__parks'\]"):
        add_robustness(table, draws=10)


# ---------------------------------------------------------------------------
# Ties: no site is favoured for coming first in the table
# ---------------------------------------------------------------------------


def _brute_force_with_ties(values: np.ndarray, k: int) -> pd.DataFrame:
    """Per draw, every order of the sites consistent with their values is equally
    likely (ties broken uniformly at random), enumerated; ranks are competition
    ranks (tied sites share the best place)."""
    draws, m = values.shape
    rounded = np.round(values, 12)
    in_top = np.zeros(m)
    for row in rounded:
        orders = [p for p in itertools.permutations(range(m)) if (np.diff(row[list(p)]) <= 0).all()]
        for p in orders:
            in_top[list(p[:k])] += 1 / len(orders)
    ranks = np.vstack([stats.rankdata(-row, method="min") for row in rounded])
    return pd.DataFrame(
        {
            "p_top_k": in_top / draws,
            "median_rank": np.quantile(ranks, 0.5, axis=0, method="inverted_cdf"),
            "rank_p05": np.quantile(ranks, 0.05, axis=0, method="inverted_cdf"),
            "rank_p95": np.quantile(ranks, 0.95, axis=0, method="inverted_cdf"),
            "rank_best": ranks.min(axis=0),
            "rank_worst": ranks.max(axis=0),
        }
    ).astype(float)


# A and B are identical, D and E score nothing: ties in every draw at every cut.
TIED = pd.DataFrame(
    {"c0": [0.9, 0.9, 0.3, 0.0, 0.0, 0.5], "c1": [0.2, 0.2, 0.8, 0.0, 0.0, 0.5]},
    index=list("ABCDEF"),
)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_ties_match_brute_force_over_every_tie_break(k: int) -> None:
    w = np.array([0.5, 0.5])
    mc = monte_carlo_ranks(TIED, _weights(w), draws=120, concentration=4, seed=3, top_k=k)
    values = np.random.default_rng(3).dirichlet(4 * w, size=120) @ TIED.to_numpy().T
    expected = _brute_force_with_ties(values, k)
    pd.testing.assert_frame_equal(
        mc[expected.columns].reset_index(drop=True), expected, check_names=False
    )
    assert mc.loc["A"].drop("tied_with").equals(mc.loc["B"].drop("tied_with"))
    assert mc.loc["D"].drop("tied_with").equals(mc.loc["E"].drop("tied_with"))


def test_two_identical_sites_share_one_top_place_at_the_exact_probability() -> None:
    """A and B are identical and compete with C for first place.  With two criteria
    the Dirichlet weight w0 is Beta(c w0, c w1), and A (= B) beats C exactly when
    w0 > 0.5, so P(first) = P(w0 > 0.5) / 2 for A and for B."""
    scores = pd.DataFrame({"c0": [0.8, 0.8, 0.2], "c1": [0.2, 0.2, 0.8]}, index=list("ABC"))
    w, c, draws = np.array([0.55, 0.45]), 20.0, 4000
    mc = monte_carlo_ranks(scores, _weights(w), draws=draws, concentration=c, seed=5, top_k=1)
    beats = stats.beta(c * w[0], c * w[1]).sf(0.5)
    tolerance = 4 * np.sqrt(beats * (1 - beats) / draws) / 2  # 4 binomial standard errors
    assert mc.loc["A", "p_top_k"] == mc.loc["B", "p_top_k"]
    assert mc.loc["A", "p_top_k"] == pytest.approx(beats / 2, abs=tolerance)
    assert mc.loc["C", "p_top_k"] == pytest.approx(1 - beats, abs=2 * tolerance)
    assert mc["p_top_k"].sum() == pytest.approx(1.0)
    assert mc.loc["A", "baseline_rank"] == mc.loc["B", "baseline_rank"] == 1
    assert mc.loc["C", "baseline_rank"] == 3
    assert mc["tied_with"].tolist() == ["B", "A", ""]


@pytest.mark.parametrize(
    ("method", "options"),
    [("weighted_sum", {}), ("topsis", {}), ("vikor", {"v": 0.5}), ("owa", {"optimism": 0.3})],
)
def test_identical_sites_get_identical_statistics_whatever_their_order(
    method: str, options: dict[str, float]
) -> None:
    rng = np.random.default_rng(17)
    x = rng.random((30, 3))
    x[[4, 11, 25]] = x[19]  # four identical sites, the last of them first in the table
    x[[2, 7]] = 0.0
    scores = _frame(x)
    w = _weights(np.array([0.5, 0.3, 0.2]))
    mc = monte_carlo_ranks(scores, w, draws=300, seed=2, top_k=5, method=method, **options)
    stats_columns = [c for c in mc.columns if c != "tied_with"]
    group = mc.loc[["s4", "s11", "s19", "s25"], stats_columns]
    assert (group.nunique() == 1).all(), group
    assert mc.loc["s2", stats_columns].equals(mc.loc["s7", stats_columns])
    assert mc.loc["s4", "tied_with"] == "s11, s19, s25"
    assert mc.loc["s7", "tied_with"] == "s2"
    assert mc["p_top_k"].sum() == pytest.approx(5.0)
    # Reversing the table changes nothing but the order of the rows.
    flipped = monte_carlo_ranks(
        scores.iloc[::-1], w, draws=300, seed=2, top_k=5, method=method, **options
    )
    pd.testing.assert_frame_equal(
        flipped.loc[mc.index, stats_columns], mc[stats_columns], check_exact=False, rtol=1e-12
    )


def test_tie_rounding_cannot_split_values_equal_up_to_the_last_bits() -> None:
    values = np.full((1, 3), 0.7)
    values[0, 1] = np.nextafter(0.7, 1.0)
    values[0, 2] = 0.1
    order, starts = _rank_with_ties(values.copy())
    assert starts is not None and starts.tolist() == [[0, 0, 2]]
    assert _shortlist_counts(order, starts, 1).tolist() == [0.5, 0.5, 0.0]
    assert _min_ranks(order, starts).tolist() == [[1, 1, 3]]
    assert _rank_with_ties(np.array([[0.7, 0.6, 0.1]]))[1] is None


def test_long_tie_lists_are_cut() -> None:
    scores = pd.DataFrame({"c0": [0.0] * 14 + [1.0], "c1": [0.0] * 14 + [1.0]})
    mc = monte_carlo_ranks(scores, {"c0": 1, "c1": 1}, draws=10, seed=1, top_k=3)
    assert mc.loc[0, "tied_with"] == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 3 more"
    assert mc.loc[14, "tied_with"] == ""
    np.testing.assert_allclose(mc["p_top_k"], [2 / 14] * 14 + [1.0])


def test_the_summary_names_the_tied_sites() -> None:
    mc = monte_carlo_ranks(TIED, {"c0": 1, "c1": 1}, draws=50, seed=1, top_k=1)
    out = robustness_summary(mc, top_k=1)
    assert out["A"].endswith(
        "; tied in every weighting with B (the same scores), sharing its places"
    )
    assert "tied" not in out["C"]


def test_add_robustness_names_sites_by_the_id_column() -> None:
    table = _ranked_table().sample(frac=1.0, random_state=3)  # index no longer 0..n
    table["site_id"] = [f"C{i:02d}" for i in range(len(table))]
    table.attrs["geoplan"] = {**table.attrs["geoplan"], "id_column": "site_id"}
    first, second = table.index[:2]
    for column in ["score__jobs", "score__transit", "score__parks"]:
        table.loc[second, column] = table.loc[first, column]
    table.loc[[first, second], "eligible"] = True
    out = add_robustness(table, draws=100, top_k=3)
    assert out.loc[first, "tied_with"] == "C01" and out.loc[second, "tied_with"] == "C00"
    assert "tied in every weighting with C01" in out.loc[first, "robustness"]
    table.loc[table.index[2], ["eligible", "score__parks"]] = [True, np.nan]
    with pytest.raises(CriterionError, match=r"lack a score.*\['C02'\]"):
        add_robustness(table, draws=10)


def test_rank_sites_records_the_id_column_that_add_robustness_names_sites_by(
    sample_study_path: Path,
) -> None:
    ranked = rank_sites(load_study(sample_study_path))
    assert ranked.attrs["geoplan"]["id_column"] == "site_id"
    by_id = ranked.set_index("site_id")
    twin = by_id.index[by_id["eligible"]][3]
    for column in [c for c in ranked.columns if c.startswith("score__")]:
        ranked.loc[ranked["site_id"] == twin, column] = by_id.loc["C01", column]
    out = add_robustness(ranked, draws=200, top_k=5).set_index("site_id")
    assert out.loc["C01", "tied_with"] == twin and out.loc[twin, "tied_with"] == "C01"
    assert out.loc["C01", "p_top_k"] == out.loc[twin, "p_top_k"]

"""Tests of geoplan.decide.sensitivity: one-at-a-time weight sweeps and flip points.

Sweeps are checked against weighted sums computed by hand, flip points against
fine grids and plain formulas, and the exact (weighted-sum) flip points against
the numeric search.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_robustness import SCORES, WEIGHTS, _frame, _weights

from geoplan._errors import WeightsError
from geoplan.decide import mcda
from geoplan.decide._weightings import _setup
from geoplan.decide.sensitivity import (
    _flip_linear,
    _flip_numeric,
    min_weight_change_to_flip,
    weight_sweep,
)

# ---------------------------------------------------------------------------
# Weight sweeps and flip points
# ---------------------------------------------------------------------------


def test_weight_sweep_table() -> None:
    rng = np.random.default_rng(21)
    x = _frame(rng.random((12, 3)))
    w = _weights(np.array([0.5, 0.3, 0.2]))
    sweep = weight_sweep(x, w, steps=11, top_k=3)
    assert list(sweep.columns) == [
        "criterion",
        "weight",
        "is_baseline",
        "first",
        "tied_for_first",
        "top_k",
        "top_k_overlap",
        "baseline_first_rank",
        "baseline_top_k_worst_rank",
        "kendall_tau",
    ]
    # 11 grid points; 0.3 (c1) is added, 0.5 and 0.2 are on the grid (0.3 is 0.30000000000000004 there)
    assert sweep.groupby("criterion").size().to_dict() == {"c0": 11, "c1": 11, "c2": 11}
    base = sweep[sweep["is_baseline"]]
    assert len(base) == 3
    baseline_order = mcda.aggregate(x, w).sort_values(ascending=False, kind="stable").index
    assert (base["first"] == baseline_order[0]).all()
    assert (base["top_k"] == tuple(baseline_order[:3])).all()
    np.testing.assert_allclose(base["kendall_tau"], 1.0)
    assert (base["top_k_overlap"] == 3).all()
    assert (base["baseline_first_rank"] == 1).all() and (
        base["baseline_top_k_worst_rank"] == 3
    ).all()
    # weight 1 on a criterion: first is the best site on that criterion alone
    for c in ["c0", "c1", "c2"]:
        row = sweep[(sweep["criterion"] == c) & (sweep["weight"] == 1.0)].iloc[0]
        assert row["first"] == x[c].idxmax()
    assert sweep.attrs["baseline_first"] == baseline_order[0]


def test_weight_sweep_keeps_the_other_weights_in_ratio() -> None:
    """At weight t for criterion 0 the values equal a weighted sum with weights
    (t, (1 - t) * w1 / (w1 + w2), (1 - t) * w2 / (w1 + w2))."""
    rng = np.random.default_rng(22)
    x = _frame(rng.random((9, 3)))
    w = np.array([0.2, 0.6, 0.2])
    sweep = weight_sweep(x, _weights(w), criterion="c0", steps=5, top_k=9)
    for _, row in sweep.iterrows():
        t = row["weight"]
        expected = x.to_numpy() @ np.array([t, (1 - t) * 0.75, (1 - t) * 0.25])
        order = tuple(x.index[np.argsort(-expected, kind="stable")])
        assert row["top_k"] == order


def test_weight_sweep_rejects_bad_criteria() -> None:
    with pytest.raises(
        WeightsError, match=r"unknown criterion 'parks'; the criteria are \['jobs', 'transit'\]"
    ):
        weight_sweep(SCORES, WEIGHTS, criterion="parks")
    with pytest.raises(
        WeightsError, match="'parks' has weight 0 and is not varied; give it a small weight"
    ):
        weight_sweep(
            SCORES.assign(parks=0.5), {"jobs": 1, "transit": 1, "parks": 0}, criterion="parks"
        )
    with pytest.raises(WeightsError, match="at least two criteria"):
        weight_sweep(SCORES, {"jobs": 1, "transit": 0})
    with pytest.raises(WeightsError, match="steps=1"):
        weight_sweep(SCORES, WEIGHTS, steps=1)


def test_min_weight_change_by_hand() -> None:
    """Two sites, A = (1, 0), B = (0, 1), weights (0.6, 0.4): A leads 0.6 to 0.4.
    Lowering w1 to 0.5 (w2 up to 0.5) makes them tie; raising w1 never flips."""
    x = pd.DataFrame({"c1": [1.0, 0.0], "c2": [0.0, 1.0]}, index=["A", "B"])
    out = min_weight_change_to_flip(x, {"c1": 0.6, "c2": 0.4})
    assert out.loc["c1", "first"] == "A"
    assert out.loc["c1", "down_to"] == pytest.approx(0.5)
    assert out.loc["c1", "down_by"] == pytest.approx(0.1)
    assert out.loc["c1", "new_first_down"] == "B"
    assert np.isnan(out.loc["c1", "up_to"]) and pd.isna(out.loc["c1", "new_first_up"])
    assert out.loc["c2", "up_to"] == pytest.approx(0.5)
    assert out.loc["c2", "new_first_up"] == "B"
    assert np.isnan(out.loc["c2", "down_to"])
    assert out.attrs["exact"] is True


def _values_brute(x: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    """Independent, plain formulas per weight row (no matrix-product tricks)."""
    if method == "weighted_sum":
        return np.asarray(weights @ x.T)
    r = x / np.sqrt((x**2).sum(axis=0))
    v = r[None, :, :] * weights[:, None, :]
    d_plus = np.sqrt(((v - v.max(axis=1, keepdims=True)) ** 2).sum(axis=2))
    d_minus = np.sqrt(((v - v.min(axis=1, keepdims=True)) ** 2).sum(axis=2))
    return np.asarray(d_minus / (d_plus + d_minus))


def _grid_flip(
    x: np.ndarray, w: np.ndarray, j: int, method: str, ts: np.ndarray
) -> tuple[float, int]:
    """First grid weight (moving away from w_j) at which the first site changes."""
    others = np.delete(np.arange(len(w)), j)
    weights = np.empty((len(ts), len(w)))
    weights[:, j] = ts
    weights[:, others] = np.outer(1 - ts, w[others] / (1 - w[j]))
    winners = np.argmax(_values_brute(x, weights, method), axis=1)
    changed = np.flatnonzero(winners != winners[0])
    if not len(changed):
        return float("nan"), -1
    return float(ts[changed[0]]), int(winners[changed[0]])


@pytest.mark.parametrize("method", ["weighted_sum", "topsis"])
def test_min_weight_change_agrees_with_a_fine_grid(method: str) -> None:
    rng = np.random.default_rng(31 if method == "weighted_sum" else 32)
    x = rng.random((15, 3))
    w = np.array([0.45, 0.35, 0.2])
    out = min_weight_change_to_flip(_frame(x), _weights(w), method=method)
    step = 1e-3
    for j, c in enumerate(["c0", "c1", "c2"]):
        for direction, end in (("up", 1.0), ("down", 0.0)):
            ts = np.append(np.arange(w[j], end, step if end > w[j] else -step), end)
            t_grid, taker = _grid_flip(x, w, j, method, ts)
            t_ours = out.loc[c, f"{direction}_to"]
            if np.isnan(t_grid):
                assert np.isnan(t_ours) or abs(t_ours - end) < step
                continue
            assert abs(t_ours - t_grid) <= step + 1e-9, (c, direction, t_ours, t_grid)
            assert out.loc[c, f"new_first_{direction}"] == f"s{taker}"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 12), st.integers(2, 4)),
        elements=st.floats(0, 1, allow_subnormal=False),
    ),
    st.data(),
)
def test_exact_and_numeric_flip_points_agree_for_the_weighted_sum(
    x: np.ndarray, data: st.DataObject
) -> None:
    n = x.shape[1]
    w = np.asarray(data.draw(arrays(np.float64, n, elements=st.floats(0.05, 1))))
    w = w / w.sum()
    setup = _setup(
        _frame(x), _weights(w), method="weighted_sum", options={}, eligible=None, who="test"
    )
    base = setup.baseline_values()
    a = int(np.argmax(base))
    second = np.sort(base)[-2] if len(base) > 1 else -np.inf
    assume(base[a] - second > 1e-9)
    for j in range(n):
        exact = _flip_linear(setup.values[setup.columns], setup.weights, j, a)
        numeric = _flip_numeric(setup, j, a, 101)
        for (t_exact, who_exact), (t_num, who_num) in zip(exact, numeric, strict=True):
            if np.isnan(t_exact) or np.isnan(t_num):
                # both none, or a tie within rounding at weight 0 or 1
                edge = t_exact if np.isnan(t_num) else t_num
                assert np.isnan(edge) or min(abs(edge), abs(edge - 1.0)) < 1e-9
                continue
            assert abs(t_exact - t_num) < 1e-7
            if abs(t_exact - t_num) < 1e-9 and who_exact != who_num:
                continue  # three-way tie at the crossing
            assert (
                who_exact == who_num
                or abs(base[who_exact] - base[who_num]) < 1e-9
                or t_exact in (0.0, 1.0)
            )


def test_min_weight_change_with_one_eligible_site() -> None:
    out = min_weight_change_to_flip(SCORES, WEIGHTS, eligible=[False, True, False])
    assert out["up_to"].isna().all() and out["down_to"].isna().all()
    assert (out["first"] == "b").all()


# ---------------------------------------------------------------------------
# Ties: no site is favoured for coming first in the table
# ---------------------------------------------------------------------------


def test_weight_sweep_names_sites_tied_for_first_and_keeps_ties_on_the_shortlist() -> None:
    """B and A are identical (B first in the table); C and D score nothing."""
    x = pd.DataFrame(
        {"c0": [0.9, 0.9, 0.0, 0.0, 0.4], "c1": [0.6, 0.6, 0.0, 0.0, 0.5]},
        index=["B", "A", "C", "D", "E"],
    )
    sweep = weight_sweep(x, {"c0": 0.5, "c1": 0.5}, steps=5, top_k=4)
    assert (sweep["first"] == "B").all()
    assert (sweep["tied_for_first"] == ("A",)).all()
    # The fourth place is shared by C and D: both are on the shortlist.
    assert (sweep["top_k"] == ("B", "A", "E", "C", "D")).all()
    assert (sweep["top_k_overlap"] == 5).all()
    assert (sweep["baseline_first_rank"] == 1).all()
    assert (sweep["baseline_top_k_worst_rank"] == 4).all()
    assert sweep.attrs["baseline_tied_for_first"] == ("A",)
    reordered = weight_sweep(x.iloc[[1, 0, 2, 3, 4]], {"c0": 0.5, "c1": 0.5}, steps=5, top_k=4)
    assert (reordered["first"] == "A").all() and (reordered["tied_for_first"] == ("B",)).all()


def test_a_tie_at_the_end_of_the_range_takes_the_first_place_from_no_one() -> None:
    """P leads Q (0.75 to 0.25); at weight 1 on c0 both score 0.5: a tie, not a
    takeover, although Q comes first in the table."""
    x = pd.DataFrame({"c0": [0.5, 0.5], "c1": [0.0, 1.0]}, index=["Q", "P"])
    out = min_weight_change_to_flip(x, {"c0": 0.5, "c1": 0.5})
    assert out.loc["c0", "first"] == "P"
    assert np.isnan(out.loc["c0", "up_to"]) and out.loc["c0", "new_first_up"] is None
    setup = _setup(
        x, {"c0": 0.5, "c1": 0.5}, method="weighted_sum", options={}, eligible=None, who="t"
    )
    (t_up, who_up), _ = _flip_numeric(setup, 0, 1, 101)
    assert np.isnan(t_up) and who_up == -1


def test_min_weight_change_names_sites_tied_for_first() -> None:
    x = pd.DataFrame({"c0": [0.2, 0.9, 0.9], "c1": [0.9, 0.5, 0.5]}, index=["C", "B", "A"])
    out = min_weight_change_to_flip(x, {"c0": 0.6, "c1": 0.4})
    assert (out["first"] == "B").all() and (out["tied_for_first"] == ("A",)).all()
    # A never overtakes its twin; C does when c1 weighs enough.
    assert out.loc["c1", "new_first_up"] == "C" and out.loc["c0", "new_first_down"] == "C"

"""gp.choose_sites on the Changzhou sample study: the set, what each site adds, the curve,
[choose] in the study file, errors that name the constraint to relax, the CLI and the map."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest

import geoplan as gp
from geoplan import ChooseError, StudyError
from geoplan.choose.portfolio import CHOOSE_DEFAULTS
from geoplan.choose.problem import OBJECTIVES
from geoplan.cli import main
from geoplan.study import _checks

matplotlib.use("Agg")

STUDY = Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"


@pytest.fixture(scope="module")
def study() -> gp.Study:
    return gp.load_study(STUDY)


@pytest.fixture(scope="module")
def ranked(study: gp.Study) -> gpd.GeoDataFrame:
    return gp.rank_sites(study)


def _coverage_brute(ranked: gpd.GeoDataFrame, study: gp.Study, k: int) -> float:
    """Best jobs within 3 km over every k-subset of eligible, non-existing sites."""
    crs = study.metric_crs
    sites = ranked.to_crs(crs).geometry
    parks = study.layers["parks"].to_crs(crs)
    reach = np.array([[s.distance(p) <= 3000 for p in parks.geometry] for s in sites])
    jobs = parks["jobs"].to_numpy(dtype=float)
    existing = (ranked["status"] == "existing").to_numpy()
    base = reach[existing].any(axis=0)
    pool = np.flatnonzero(ranked["eligible"].to_numpy() & ~existing)
    return max(
        jobs[base | reach[list(c)].any(axis=0)].sum() for c in itertools.combinations(pool, k)
    )


def test_choose_sites_finds_the_best_set_and_what_each_adds(ranked, study) -> None:
    options = {"weight": "jobs", "max_m": 3000, "min_spacing_m": None, "score_weight": 0.0}
    for solver in ("exact", "heuristic"):
        result = gp.choose_sites(ranked, study, k=2, solver=solver, **options)
        assert result.value == pytest.approx(_coverage_brute(ranked, study, 2))
        assert (result.sites["role"] == "existing").sum() == (ranked["status"] == "existing").sum()
        assert (result.sites["role"] == "chosen").sum() == 2
        assert result.sites["order"].tolist() == list(range(1, len(result.sites) + 1))
        total = study.layers["parks"]["jobs"].sum()
        assert result.sites["adds"].sum() == pytest.approx(result.value)
        assert result.sites["cumulative_share"].iloc[-1] == pytest.approx(result.value / total)
        assert result.coverage == pytest.approx(result.value / total)
        assert result.demand["covered"].sum() == int(result.demand["covered"].sum())
        assert len(result.areas) == len(result.sites)
        assert result.gap >= 0 and "new sites" in result.summary()
    # a greedy build-out: each site adds no more than the one before it (among new sites)
    adds = result.sites.loc[result.sites["role"] == "chosen", "adds"].to_numpy()
    assert np.all(np.diff(adds) <= 1e-9)


def test_the_study_file_sets_the_portfolio(ranked, study) -> None:
    assert study.choose["k"] == 5 and study.choose["objective"] == "coverage"
    result = gp.choose_sites(ranked, study)
    chosen = result.sites[result.sites["role"] == "chosen"]
    assert len(chosen) == 5
    crs = study.metric_crs
    points = result.sites.to_crs(crs).geometry
    gaps = [
        points.iloc[a].distance(points.iloc[b])
        for a, b in itertools.combinations(range(len(points)), 2)
        if not (result.sites["role"].iloc[a] == result.sites["role"].iloc[b] == "existing")
    ]
    assert min(gaps) >= 1000  # min_spacing_m
    # existing sites stay, even one that serves no park within the standard
    assert set(ranked.loc[ranked["status"] == "existing", "site_id"]) <= set(
        result.sites["site_id"]
    )


def test_constraints_on_the_sample(ranked, study) -> None:
    base = {"weight": "jobs", "max_m": 3000, "min_spacing_m": None, "score_weight": 0.0}
    forced = gp.choose_sites(ranked, study, k=3, force_in=["C27"], force_out=["C35"], **base)
    ids = set(forced.sites["site_id"])
    assert "C27" in ids and "C35" not in ids
    budget = gp.choose_sites(ranked, study, k=3, budget_units=2500, **base)
    new = budget.sites[budget.sites["role"] != "existing"]
    assert new["capacity"].sum() <= 2500
    quotas = {"Wujin": {"min": 2}, "Xinbei": {"max": 0}}
    quoted = gp.choose_sites(ranked, study, k=3, quotas=quotas, **base)
    new = quoted.sites[quoted.sites["role"] != "existing"]
    assert (new["district"] == "Wujin").sum() >= 2 and (new["district"] == "Xinbei").sum() == 0
    median = gp.choose_sites(ranked, study, k=3, objective="median", **base)
    assert "saves" in median.sites.columns and median.value > 0
    spread = gp.choose_sites(ranked, study, k=3, objective="dispersion")
    assert spread.value > 3000
    everyone = gp.choose_sites(ranked, study, objective="cover_all", max_m=12000, weight="jobs")
    assert everyone.coverage == 1.0


@pytest.mark.parametrize(
    ("options", "relax"),
    [
        ({"k": 40}, "lower k"),
        ({"k": 3, "budget_units": 100}, "raise the budget"),
        ({"k": 3, "quotas": {"Wujin": {"min": 3, "max": 1}}}, "contradicts"),
        ({"k": 2, "quotas": {"Wujin": {"min": 2}, "Xinbei": {"min": 1}}}, "lower the min quotas"),
        ({"k": 3, "quotas": {"Nowhere": {"min": 1}}}, "no candidate lies"),
        ({"k": 2, "force_in": ["C27", "C37", "C48"]}, "raise k"),
        ({"k": 2, "force_in": ["C31"]}, "not eligible"),
        ({"k": 2, "force_in": ["C27"], "force_out": ["C27"]}, "both forced in and forced out"),
        ({"k": 2, "force_in": ["Z99"]}, "not among the candidates"),
        ({"objective": "cover_all", "max_m": 500}, "raise the standard"),
        ({"k": 5, "min_spacing_m": 30000}, "relax min_spacing_m"),
        ({"k": 2, "capacity": "capacity", "solver": "heuristic"}, "solver = 'exact'"),
        ({"k": 2, "max_minutes": 10}, "metric = 'network'"),
    ],
)
def test_bad_input_names_the_constraint_to_relax(ranked, study, options, relax) -> None:
    settings = {"weight": "jobs", "max_m": 3000, "min_spacing_m": None, **options}
    if "max_minutes" in options:
        settings.pop("max_m")
    with pytest.raises(ChooseError, match=relax):
        gp.choose_sites(ranked, study, **settings)


def test_inputs_are_not_changed(ranked, study) -> None:
    before = ranked.copy()
    parks = study.layers["parks"].copy()
    gp.choose_sites(ranked, study, k=2)
    pd.testing.assert_frame_equal(ranked, before)
    pd.testing.assert_frame_equal(study.layers["parks"], parks)


def test_tradeoff_curve_and_plot(ranked, study) -> None:
    curve = gp.tradeoff_curve(ranked, study, k_max=4, min_spacing_m=None, score_weight=0.0)
    assert curve["k"].tolist() == [1, 2, 3, 4]
    assert curve["coverage"].is_monotonic_increasing
    assert curve["value"].iloc[1] == pytest.approx(_coverage_brute(ranked, study, 2))
    ax = gp.plot_tradeoff(curve)
    assert ax.get_xlabel() == "new sites (k)" and len(ax.lines) >= 1


def test_study_file_choose_keys_are_checked(tmp_path: Path) -> None:
    text = (
        STUDY.read_text(encoding="utf-8")
        .replace('objective = "coverage"', 'objective = "covrage"')
        .replace("k = 5\n", "k = 0\nbudget = 3\n")
    )
    bad = tmp_path / "study.toml"
    bad.write_text(text.replace('path = "', f'path = "{STUDY.parent}/'), encoding="utf-8")
    with pytest.raises(StudyError) as caught:
        gp.load_study(bad)
    message = str(caught.value)
    assert "choose.k = 0" in message and "covrage" in message and "choose.budget" in message


def test_choose_keys_and_objectives_agree_across_rooms() -> None:
    assert set(CHOOSE_DEFAULTS) == _checks.CHOOSE_KEYS
    assert set(OBJECTIVES) == set(_checks.CHOOSE_OBJECTIVES)


def test_cli_writes_the_portfolio_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out, page = tmp_path / "portfolio.csv", tmp_path / "portfolio.html"
    assert (
        main(["-q", "choose", str(STUDY), "--k", "3", "--out", str(out), "--map", str(page)]) == 0
    )
    table = pd.read_csv(out)
    assert (table["role"] == "chosen").sum() == 3
    assert (tmp_path / "portfolio.csv.study.toml").is_file()
    html = page.read_text(encoding="utf-8")
    assert "Portfolio" in html and "Service areas" in html
    assert main(["-q", "choose", str(STUDY), "--k", "3", "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["-q", "choose", str(STUDY), "--k", "60", "--out", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "lower k" in err and "\n" not in err
    assert not (tmp_path / "x.csv").exists()

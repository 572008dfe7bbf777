"""The indicator kinds in study files: each criterion equals its indicator called directly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import geoplan as gp
from geoplan.study.kinds import KINDS
from geoplan.study.scoring import CRITERION_KINDS

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "changzhou"

INDICATOR_CRITERIA = """
[[criteria]]
name = "jobs_per_worker"
kind = "jobs_per_worker"
layer = "parks"
column = "jobs"
housing = "housing"
method = "e2sfca"
site_units_column = "capacity"
residents_per_unit = 1.7
radius_m = 8000
decay = { kind = "linear", lower = 0, upper = 2, direction = "higher" }
weight = 0.1

[[criteria]]
name = "balance"
kind = "jobs_housing_ratio"
layer = "parks"
column = "jobs"
housing = "housing"
radius_m = 5000
decay = { kind = "band", zero_below = 0.2, ideal_min = 0.8, ideal_max = 1.2, zero_above = 3 }
weight = 0.1

[[criteria]]
name = "happy_commute"
kind = "commute_share"
layer = "parks"
column = "jobs"
radius_m = 5000
decay = { kind = "linear", lower = 0, upper = 0.5, direction = "higher" }
weight = 0.1

[[criteria]]
name = "metro_lines"
kind = "lines_within"
layer = "stations"
radius_m = 1500
count = "lines"
decay = { kind = "linear", lower = 0, upper = 2, direction = "higher" }
weight = 0.1

[[criteria]]
name = "clear_of_industry"
kind = "protection_margin"
layer = "parks"
distance_column = "health_buffer_m"
class_column = "kind"
distances_m = { "national hi-tech zone" = 500, "economic development zone" = 600, "science park" = 100, "bonded zone" = 150, "economic development zone (chemical industry)" = 1000 }
decay = { kind = "linear", lower = 0, upper = 1000, direction = "higher" }
weight = 0.1

[[criteria]]
name = "upwind"
kind = "downwind_exposure"
layer = "parks"
wind_rose = { N = 8, NNE = 6, NE = 8, ENE = 9, E = 12, ESE = 14, SE = 13, SSE = 8, S = 5, SSW = 3, SW = 2, WSW = 2, W = 2, WNW = 2, NW = 4, NNW = 2 }
radius_m = 4000
decay = { kind = "linear", lower = 0, upper = 0.15, direction = "lower" }
weight = 0.1

[[criteria]]
name = "life_circle"
kind = "life_circle"
layer = "facilities"
level = "lc15"
decay = { kind = "linear", lower = 0, upper = 10, direction = "lower" }
weight = 0.1
"""


@pytest.fixture(scope="module")
def study_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kinds")
    for path in SAMPLE.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    text = (folder / "study.toml").read_text(encoding="utf-8")
    text = re.sub(r"^\[outputs\]", INDICATOR_CRITERIA + "\n[outputs]", text, flags=re.M)
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


@pytest.fixture(scope="module")
def ranked(study_path: Path) -> tuple[gp.Study, object]:
    with pytest.warns(gp.GeoplanWarning):  # the sample's facilities lack most GB 50180 kinds
        study = gp.load_study(study_path)
        return study, gp.rank_sites(study)


def _projected(study: gp.Study) -> dict[str, object]:
    return {name: layer.to_crs(study.metric_crs) for name, layer in study.layers.items()}


def test_every_kind_is_catalogued() -> None:
    assert set(CRITERION_KINDS) == set(KINDS)
    assert {
        "jobs_per_worker",
        "jobs_housing_ratio",
        "commute_share",
        "lines_within",
        "protection_margin",
        "downwind_exposure",
        "life_circle",
    } <= set(KINDS)


def test_each_indicator_criterion_equals_its_function(ranked: tuple[gp.Study, object]) -> None:
    study, table = ranked
    table = table.set_index("site_id").loc[study.layers["candidates"]["site_id"]]
    layers = _projected(study)
    sites = layers["candidates"]
    housing = layers["housing"]
    parks = layers["parks"]
    new_workers = gp.resident_workers(sites, units_column="capacity", residents_per_unit=1.7)

    def same(column: str, expected: object) -> None:
        np.testing.assert_allclose(table[column].to_numpy(float), np.asarray(expected, float))

    e2sfca = gp.two_step_fca(
        sites.assign(w=new_workers.to_numpy()),
        parks,
        housing,
        site_workers_column="w",
        method="e2sfca",
        radius_m=8000,
    )
    same("value__jobs_per_worker__jobs_per_worker", e2sfca["jobs_per_worker"])
    ratio = gp.jobs_housing_ratio(sites, parks, housing, radius_m=5000)
    same("value__balance__ratio", ratio["jobs_housing_ratio"])
    within = gp.cumulative_opportunities(sites, parks, column="jobs", cutoffs_m=5000)
    same("value__happy_commute__share", within.iloc[:, 0] / parks["jobs"].sum())
    same(
        "value__metro_lines__lines",
        gp.lines_within(sites, layers["stations"], radius_m=1500)["lines"],
    )
    buffers = gp.protection_distances_m(
        parks,
        column="health_buffer_m",
        class_column="kind",
        distances_m={
            "national hi-tech zone": 500,
            "economic development zone": 600,
            "science park": 100,
            "bonded zone": 150,
            "economic development zone (chemical industry)": 1000,
        },
    )
    same("value__clear_of_industry__m", gp.protection_margin(sites, parks, distances_m=buffers))
    criterion = next(c for c in study.criteria if c.name == "upwind")
    same(
        "value__upwind__share",
        gp.downwind_exposure(sites, parks, wind_rose=criterion.extra["wind_rose"], radius_m=4000),
    )
    with pytest.warns(gp.GeoplanWarning):
        circles = gp.life_circles(sites, layers["facilities"])
    same("value__life_circle__missing", circles["lc15_missing"])
    gaps = table["detail__life_circle"].astype(str)
    missing = table["value__life_circle__missing"] > 0
    assert gaps[missing].str.contains("15分钟生活圈").all() and (gaps[~missing] == "").all()


def test_the_effective_study_keeps_the_kinds_options(
    ranked: tuple[gp.Study, object], tmp_path: Path
) -> None:
    study, table = ranked
    saved = tmp_path / "again.toml"
    saved.write_text(study.to_toml(), encoding="utf-8")
    with pytest.warns(gp.GeoplanWarning):
        again = gp.rank_sites(gp.load_study(saved))
    np.testing.assert_allclose(again["score"], table["score"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('housing = "housing"', 'housing = "homes"', 1), "housing = 'homes' is not a layer"),
        (('method = "e2sfca"', 'method = "3sfca"', 1), "method = '3sfca' must be one of"),
        (
            ("residents_per_unit = 1.7\nradius_m", "residents_per_unit = -1\nradius_m", 1),
            "residents_per_unit = -1 must be a positive number",
        ),
        (('housing = "housing"\n', "", 1), "a jobs_per_worker criterion needs housing"),
        (('count = "lines"', 'count = "trains"', 1), "count = 'trains' must be one of"),
        (("wind_rose = {", "wind = {", 1), "wind is not a known key"),
        (('level = "lc15"', 'level = "lc20"', 1), "level = 'lc20' must be one of"),
    ],
)
def test_bad_options_are_problems_with_an_example(
    study_path: Path, tmp_path: Path, edit: tuple[str, str, int], message: str
) -> None:
    for path in study_path.parent.iterdir():
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "study.toml").read_text(encoding="utf-8").replace(*edit)
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(gp.StudyError) as info:
        gp.load_study(tmp_path / "study.toml")
    assert any(message in problem for problem in info.value.problems), info.value.problems


def test_protection_distance_per_industry_class_as_a_hard_constraint(tmp_path: Path) -> None:
    """min_distance with class_column and distances_m: a site closer than its park's class allows fails."""
    for path in SAMPLE.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "study.toml").read_text(encoding="utf-8")
    text = text.replace(
        'kind = "min_distance"            # each park\'s own health-protection distance\n'
        'layer = "parks"\ncolumn = "health_buffer_m"',
        'kind = "min_distance"\nlayer = "parks"\nclass_column = "kind"\n'
        'distances_m = { "national hi-tech zone" = 1500, "economic development zone" = 1200, '
        '"science park" = 300, "bonded zone" = 300, '
        '"economic development zone (chemical industry)" = 3000 }',
    )
    assert "class_column" in text
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    study = gp.load_study(tmp_path / "study.toml")
    table = gp.rank_sites(study).set_index("site_id")
    layers = _projected(study)
    limits = layers["parks"]["kind"].map(
        {
            "national hi-tech zone": 1500,
            "economic development zone": 1200,
            "science park": 300,
            "bonded zone": 300,
            "economic development zone (chemical industry)": 3000,
        }
    )
    sites = layers["candidates"].set_index("site_id")
    d = np.array([[s.distance(p) for p in layers["parks"].geometry] for s in sites.geometry])
    too_close = (d < limits.to_numpy()).any(axis=1)
    reasons = table.loc[sites.index, "reason"].astype(str)
    assert too_close.sum() > 3
    assert (reasons.str.contains("protection distance").to_numpy() == too_close).all()
    saved = study.to_toml()
    assert 'class_column = "kind"' in saved and "distances_m" in saved

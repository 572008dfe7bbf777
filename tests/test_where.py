"""Criteria select features of a layer by a column (``where``), so one facilities file serves all.

Checked against the same criterion measured on the layer filtered by hand
with pandas, through the API and through a study file; bad selections are
study problems that name the column or the values the layer holds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

import geoplan as gp
from geoplan._errors import CriterionError


@pytest.fixture(scope="module")
def sample(sample_study_path_module: Path) -> gp.Study:
    return gp.load_study(sample_study_path_module)


@pytest.fixture(scope="module")
def sample_study_path_module() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"


def test_select_features(sample: gp.Study) -> None:
    facilities = sample.layers["facilities"]
    before = facilities.copy()
    schools = gp.select_features(facilities, {"kind": "school"})
    assert len(schools) == (facilities["kind"] == "school").sum() > 0
    assert set(schools["kind"]) == {"school"}
    either = gp.select_features(facilities, {"kind": ["school", "university"]})
    assert len(either) == facilities["kind"].isin(["school", "university"]).sum() > len(schools)
    both = gp.select_features(
        facilities, {"kind": "hospital", "facility_id": ["F01", "F02", "F09"]}
    )
    assert both["facility_id"].tolist() == ["F01", "F02"]
    assert gp.select_features(facilities, None) is facilities
    pd.testing.assert_frame_equal(facilities, before)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            {"kindd": "school"},
            r"'kindd' is not a column of layer 'facilities'; its columns are \['facility_id'",
        ),
        (
            {"kind": "schools"},
            r"matches no feature of layer 'facilities' \(22 features\): column 'kind' holds \['hospital'",
        ),
        ({"kind": []}, r"where.kind = \[\] must be a value or a non-empty list"),
        ({"kind": {"a": 1}}, "must be a value or a non-empty list"),
        ("school", "must be a table of column = value"),
        ({}, "must be a table of column = value"),
    ],
)
def test_bad_selections_are_clear_errors(sample: gp.Study, where: object, message: str) -> None:
    with pytest.raises(CriterionError, match=message):
        gp.select_features(sample.layers["facilities"], where, layer_name="facilities")  # type: ignore[arg-type]


def test_a_criterion_with_where_measures_only_those_features(sample: gp.Study) -> None:
    decay = gp.make_decay({"kind": "linear", "lower": 500, "upper": 5000, "direction": "lower"})
    with pytest.raises(CriterionError, match="Criterion 'school': where"):
        gp.Criterion(
            name="school", kind="nearest_distance", layer="facilities", decay=decay, where="school"
        )  # type: ignore[arg-type]
    selected = gp.Criterion(
        name="school",
        kind="nearest_distance",
        layer="facilities",
        decay=decay,
        where={"kind": "school"},
    )
    plain = gp.Criterion(name="school", kind="nearest_distance", layer="schools", decay=decay)
    sites = gp.study_sites(sample)
    facilities = sample.layers["facilities"]
    layers = {"facilities": facilities, "schools": facilities[facilities["kind"] == "school"]}
    ours = gp.score_sites(sites, layers, [selected], metric_crs=sample.metric_crs)
    reference = gp.score_sites(sites, layers, [plain], metric_crs=sample.metric_crs)
    pd.testing.assert_series_equal(ours["value__school__m"], reference["value__school__m"])
    everything = gp.score_sites(
        sites,
        layers,
        [gp.Criterion(name="school", kind="nearest_distance", layer="facilities", decay=decay)],
        metric_crs=sample.metric_crs,
    )
    assert (everything["value__school__m"] < ours["value__school__m"]).any()
    assert ours.attrs["geoplan"]["criteria"][0]["where"] == {"kind": "school"}


SCHOOLS = """
[[criteria]]
name = "schools_near"
label = "Schools within 3 km"
kind = "count_within"
layer = "facilities"
where = { kind = ["school", "university"] }
radius_m = 3000
decay = { kind = "linear", lower = 0, upper = 3, direction = "higher" }
weight = 0.1
"""


def _study_with(folder: Path, criterion: str) -> Path:
    path = folder / "study.toml"
    text = path.read_text(encoding="utf-8")
    anchor = "# --- Hard constraints"
    path.write_text(text.replace(anchor, criterion + "\n" + anchor, 1), encoding="utf-8")
    return path


def test_a_study_file_selects_by_column(study_dir: Path) -> None:
    study = gp.load_study(_study_with(study_dir, SCHOOLS))
    ranked = gp.rank_sites(study)
    crs = study.metric_crs
    sites = gp.study_sites(study).set_index("site_id").to_crs(crs)
    facilities = study.layers["facilities"]
    schools = facilities[facilities["kind"].isin(["school", "university"])].to_crs(crs)
    expected = gp.count_within(sites, schools, radius_m=3000)
    got = ranked.set_index("site_id")["value__schools_near__count"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index().astype(got.dtype), check_names=False
    )
    assert 0 < got.max() < len(facilities)
    # the effective study keeps the selection and reproduces the ranking
    saved = study_dir / "effective.toml"
    saved.write_text(study.to_toml(), encoding="utf-8")
    assert tomllib.loads(saved.read_text(encoding="utf-8"))["criteria"][-1]["where"] == {
        "kind": ["school", "university"]
    }
    again = gp.rank_sites(gp.load_study(saved))
    pd.testing.assert_series_equal(again["score"], ranked["score"])


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            'where = { kinds = "school" }',
            "criteria (schools_near).where: 'kinds' is not a column of layer 'facilities'; "
            "its columns are ['facility_id', 'name', 'name_zh', 'kind']. Check the spelling.",
        ),
        (
            'where = { kind = "School" }',
            "criteria (schools_near).where = {'kind': 'School'} matches no feature of layer "
            "'facilities' (22 features): column 'kind' holds ['hospital', 'school', 'university', "
            "'park', 'shopping', 'sports']. Use values the layer holds",
        ),
        (
            'where = "school"',
            "(schools_near).where = 'school' must be a table of column = value(s)",
        ),
        (
            "where = { kind = [] }",
            "(schools_near).where.kind = [] must be a value or a non-empty list",
        ),
    ],
)
def test_bad_selections_in_a_study_are_problems_with_fixes(
    study_dir: Path, where: str, message: str
) -> None:
    path = _study_with(
        study_dir, SCHOOLS.replace('where = { kind = ["school", "university"] }', where)
    )
    with pytest.raises(gp.StudyError) as info:
        gp.load_study(path)
    assert any(message in problem for problem in info.value.problems), info.value.problems

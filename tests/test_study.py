"""Study files: validation reports every problem at once; the effective study reproduces."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import edit_study as _edit

import geoplan as gp


def test_sample_study_loads(sample_study_path: Path) -> None:
    study = gp.load_study(sample_study_path)
    assert {"candidates", "parks", "stations", "exclusions", "facilities", "area"} <= set(
        study.layers
    )
    assert [c.name for c in study.criteria] == [
        "metro_access",
        "jobs_reach",
        "park_band",
        "daily_life",
        "metro_commute",
    ]
    assert study.metric_crs is not None and study.metric_crs.to_epsg() == 4549
    assert 30 <= len(study.layers["candidates"]) <= 60


def test_every_problem_is_reported_at_once(study_dir: Path) -> None:
    path = _edit(study_dir, 'kind = "nearest_distance"', 'kind = "nearest_dist"')
    _edit(study_dir, "weight = 0.30", "weight = -0.3")
    _edit(study_dir, 'path = "parks.geojson"', 'path = "parkz.geojson"')
    _edit(study_dir, 'kind = "step"', 'kind = "stair"')
    _edit(study_dir, 'crs = "EPSG:4549"', 'crs = "EPSG:4326"')
    _edit(study_dir, "max_m = 6000", 'max_m = "six km"')
    with pytest.raises(gp.StudyError) as info:
        gp.load_study(path)
    problems = info.value.problems
    text = str(info.value)
    assert len(problems) >= 6, problems
    assert "criteria[0] (metro_access).kind = 'nearest_dist' is not a criterion kind" in text
    assert "criteria[1] (jobs_reach).weight = -0.3 must be >= 0" in text
    assert "layers.parks.path = 'parkz.geojson'" in text and "does not exist" in text
    assert "criteria[3] (daily_life).decay.kind = 'stair' is not a decay" in text
    assert "study.crs = 'EPSG:4326' is not a projected CRS" in text
    assert "constraints[2].max_m = 'six km' must be a finite number" in text
    assert isinstance(info.value, ValueError)


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[study]\ntitle = Changzhou\n", encoding="utf-8")
    with pytest.raises(gp.StudyError, match=r"not valid TOML.*line 2"):
        gp.load_study(path)


def test_missing_study_file(tmp_path: Path) -> None:
    with pytest.raises(gp.LayerNotFoundError, match="does not exist"):
        gp.load_study(tmp_path / "nope.toml")


def test_unknown_keys_and_missing_pieces(study_dir: Path) -> None:
    path = _edit(study_dir, "[layers.candidates]", "[layers.candidatez]")
    _edit(study_dir, "radius_m = 8000", "radius = 8000")
    with pytest.raises(gp.StudyError) as info:
        gp.load_study(path)
    text = str(info.value)
    assert "No candidate sites" in text
    assert "criteria[1] (jobs_reach).radius is not a known key (value 8000)" in text
    assert "needs radius_m = <number>" in text


def test_all_zero_weights_are_an_error(study_dir: Path) -> None:
    path = study_dir / "study.toml"
    text = path.read_text(encoding="utf-8")
    for w in ("0.35", "0.30", "0.20", "0.15", "0.25"):
        text = text.replace(f"weight = {w}", "weight = 0")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(gp.StudyError, match="weights"):
        gp.load_study(path)


def test_effective_study_round_trips(sample_study_path: Path, tmp_path: Path) -> None:
    study = gp.load_study(sample_study_path)
    text = study.to_toml()
    assert text.startswith("# Effective study written by geoplan")
    resolved = tomllib.loads(text)
    assert resolved["layers"]["parks"]["path"] == str(
        (sample_study_path.parent / "parks.geojson").resolve()
    )
    assert len(resolved["layers"]["parks"]["sha256"]) == 64
    (tmp_path / "effective.toml").write_text(text, encoding="utf-8")
    again = gp.load_study(tmp_path / "effective.toml")
    first, second = gp.rank_sites(study), gp.rank_sites(again)
    pd.testing.assert_frame_equal(
        pd.DataFrame(first.drop(columns="geometry")), pd.DataFrame(second.drop(columns="geometry"))
    )


def test_grid_candidates(study_dir: Path) -> None:
    path = _edit(
        study_dir,
        '[layers.candidates]\npath = "candidates.csv"        # lon/lat columns in WGS-84\nid_column = "site_id"\nname_column = "name"\n',
        '[candidates]\ngrid = { cell_m = 1000, shape = "hex" }\n',
    )
    _edit(
        study_dir,
        '[[constraints]]\nkind = "min_value"\ncolumn = "capacity"              # apartment units\nmin = 200\n',
        "",
    )
    study = gp.load_study(path)
    ranked = gp.rank_sites(study)
    assert len(ranked) > 500
    assert ranked["site_id"].str.startswith("G").all()
    assert ranked["eligible"].any()


AHP_TABLE = """
[weights]
method = "ahp"
judgements = [
  "metro_access > jobs_reach: 2",
  "metro_access > park_band: 3",
  "metro_access > daily_life: 4",
  "jobs_reach > park_band: 2",
  "jobs_reach > daily_life: 2",
  "park_band > daily_life: 1",
  "metro_access > metro_commute: 1",
  "jobs_reach > metro_commute: 1",
  "park_band > metro_commute: 1",
  "metro_commute > daily_life: 2",
]
"""


def test_ahp_weights_from_the_study_file(study_dir: Path) -> None:
    path = study_dir / "study.toml"
    path.write_text(path.read_text(encoding="utf-8") + AHP_TABLE, encoding="utf-8")
    study = gp.load_study(path)
    expected = gp.ahp_weights(
        [line.strip().strip('",') for line in AHP_TABLE.splitlines() if ">" in line]
    ).weights
    got = study.weights
    assert got.sum() == pytest.approx(1.0)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value)
    ranked = gp.rank_sites(study)
    assert ranked.attrs["geoplan"]["weights"]["metro_access"] == pytest.approx(
        expected["metro_access"]
    )


def test_inconsistent_ahp_in_the_study_file(study_dir: Path) -> None:
    path = study_dir / "study.toml"
    bad = AHP_TABLE.replace('"park_band > daily_life: 1"', '"daily_life > park_band: 9"')
    bad = bad.replace('"metro_access > daily_life: 4"', '"daily_life > metro_access: 7"')
    path.write_text(path.read_text(encoding="utf-8") + bad, encoding="utf-8")
    with pytest.raises(gp.StudyError, match=r"weights \(ahp\).*consistency ratio"):
        gp.load_study(path)


@pytest.mark.parametrize("method", ["entropy", "critic"])
def test_objective_weights_come_from_the_scores(study_dir: Path, method: str) -> None:
    path = study_dir / "study.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + f'\n[weights]\nmethod = "{method}"\n', encoding="utf-8"
    )
    ranked = gp.rank_sites(gp.load_study(path))
    weights = pd.Series(ranked.attrs["geoplan"]["weights"])
    assert weights.sum() == pytest.approx(1.0)
    assert ranked.attrs["geoplan"]["weights_method"] == method
    eligible = ranked[ranked["eligible"]]  # excluded sites never shape the weights
    scores = eligible[[f"score__{n}" for n in weights.index]].set_axis(weights.index, axis=1)
    reference = (gp.entropy_weights if method == "entropy" else gp.critic_weights)(scores)
    np.testing.assert_allclose(weights[reference.index], reference / reference.sum(), rtol=1e-9)
    np.testing.assert_allclose(
        ranked[[f"contrib__{n}" for n in weights.index]].sum(axis=1), ranked["score"]
    )

"""The indicator table of a study (`geoplan indicators`): each group equals its functions."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import _main

import geoplan as gp
from geoplan.study.files import Study
from geoplan.transit.metric import TransitMetric

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "changzhou" / "study.toml"


@pytest.fixture(scope="module")
def study() -> Study:
    return gp.load_study(SAMPLE)


@pytest.fixture(scope="module")
def table(study: Study) -> pd.DataFrame:
    return gp.study_indicators(study)


def test_every_group_equals_its_indicator_functions(study: Study, table: pd.DataFrame) -> None:
    crs = study.metric_crs
    sites = study.layers["candidates"].to_crs(crs)
    parks = study.layers["parks"].to_crs(crs)
    housing = study.layers["housing"].to_crs(crs)
    metro = study.layers["stations"].to_crs(crs)
    assert table["site_id"].tolist() == sites["site_id"].tolist()

    def same(column: str, expected: object) -> None:
        np.testing.assert_allclose(
            table[column].to_numpy(float), np.asarray(expected, float), err_msg=column
        )

    rings = gp.station_areas(sites, metro)
    same("station_m", rings["station_m"])
    assert table["ring"].tolist() == rings["ring"].tolist()
    same("lines", gp.lines_within(sites, metro, radius_m=800)["lines"])
    same(
        "jobs_within_5000m",
        gp.cumulative_opportunities(sites, parks, column="jobs", cutoffs_m=5000).iloc[:, 0],
    )
    commute = TransitMetric(study.transit_service)
    by_metro = gp.cumulative_opportunities(
        sites, parks, column="jobs", cutoffs_min=(15, 30, 45), metric=commute
    )
    for column in by_metro.columns:
        same(column, by_metro[column])
    same(
        "jobs_per_worker",
        gp.two_step_fca(sites, parks, housing, max_minutes=45, metric=commute)["jobs_per_worker"],
    )
    same(
        "jobs_housing_ratio",
        gp.jobs_housing_ratio(sites, parks, housing, max_minutes=45, metric=commute)[
            "jobs_housing_ratio"
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        circles = gp.life_circles(sites, study.layers["services"].to_crs(crs))
    for column in ("lc5_ok", "lc10_ok", "lc15_ok", "lc15_missing"):
        same(column, circles[column])
    assert table["gaps_zh"].astype(str).tolist() == circles["gaps_zh"].astype(str).tolist()
    buffers = gp.protection_distances_m(parks, column="health_buffer_m")
    same("protection_margin_m", gp.protection_margin(sites, parks, distances_m=buffers))
    same(
        "downwind_exposure",
        gp.downwind_exposure(sites, parks, wind_rose=study.indicators["wind_rose"], radius_m=5000),
    )
    assert {"jobs_per_worker_change_existing", "jobs_per_worker_change_city"} <= set(table.columns)


def test_the_sample_shows_passes_and_named_gaps(table: pd.DataFrame) -> None:
    assert 3 <= int(table["lc15_ok"].sum()) < len(table)
    c16 = table.set_index("site_id").loc["C16"]
    assert (
        not c16["lc5_ok"]
        and "幼儿园" in str(c16["gaps_zh"])
        and "kindergarten" in str(c16["gaps_en"])
    )


def test_groups_without_their_layers_are_left_out(study: Study) -> None:
    from dataclasses import replace

    bare = replace(
        study,
        layers={
            k: v for k, v in study.layers.items() if k not in ("housing", "services", "facilities")
        },
        indicators={},
    )
    found = gp.study_indicators(bare)
    assert "jobs_per_worker" not in found.columns and "lc15_ok" not in found.columns
    assert "ring" in found.columns and "jobs_within_30min" in found.columns


def test_bad_indicator_options_are_problems(tmp_path: Path) -> None:
    import shutil

    for path in SAMPLE.parent.iterdir():
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "study.toml").read_text(encoding="utf-8")
    text = text.replace('housing_layer = "housing"', 'housing_layer = "homes"').replace(
        'commute_mode = "transit"', 'commute_mode = "boat"'
    )
    (tmp_path / "study.toml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(gp.StudyError) as info:
        gp.load_study(tmp_path / "study.toml")
    text = " ".join(info.value.problems)
    assert "indicators.housing_layer = 'homes' is not a layer" in text
    assert "indicators.commute_mode = 'boat'" in text


def test_cli_writes_the_table_with_its_study(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "indicators.csv"
    code, stdout, err = _main(capsys, "-q", "indicators", str(SAMPLE), "--out", str(out))
    assert code == 0, err
    assert "(48 sites," in stdout and out.is_file()
    assert (tmp_path / "indicators.csv.study.toml").is_file()
    code, _, err = _main(capsys, "-q", "indicators", str(SAMPLE), "--out", str(out))
    assert code == 1 and "already exists" in err

"""Ranking the sample study: structure, an independent recomputation, explanations."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoplan as gp


def straight_criteria(study: gp.Study) -> list[gp.Criterion]:
    """The sample's criteria but walk + metro (which needs the study's lines; see test_transit)."""
    return [c for c in study.criteria if c.mode != "transit"]


@pytest.fixture(scope="module")
def study() -> gp.Study:
    return gp.load_study(Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml")


@pytest.fixture(scope="module")
def ranked(study: gp.Study) -> gpd.GeoDataFrame:
    return gp.rank_sites(study)


def test_one_row_per_candidate_best_first(study: gp.Study, ranked: gpd.GeoDataFrame) -> None:
    candidates = study.layers["candidates"]
    assert sorted(ranked["site_id"]) == sorted(candidates["site_id"])
    assert ranked.crs.to_epsg() == 4326
    eligible = ranked[ranked["eligible"]]
    assert eligible["rank"].tolist() == list(range(1, len(eligible) + 1))
    assert eligible["score"].is_monotonic_decreasing
    assert ranked["rank"][~ranked["eligible"]].isna().all()
    assert ranked["eligible"].tolist() == sorted(ranked["eligible"], reverse=True)


def test_column_scheme(ranked: gpd.GeoDataFrame) -> None:
    for column in (
        "site_id",
        "name",
        "capacity",
        "value__metro_access__m",
        "score__metro_access",
        "contrib__metro_access",
        "value__jobs_reach__jobs",
        "value__daily_life__count",
        "score",
        "rank",
        "eligible",
        "reason",
        "nearest_park_name",
        "nearest_park_m",
        "nearest_station_name",
        "nearest_station_m",
        "explanation",
    ):
        assert column in ranked.columns
    contribs = ranked[[c for c in ranked.columns if c.startswith("contrib__")]].sum(axis=1)
    np.testing.assert_allclose(contribs, ranked["score"])
    scores = ranked[[c for c in ranked.columns if c.startswith("score__")]]
    assert ((scores >= 0) & (scores <= 1)).all().all()


def test_known_exclusions_have_reasons(ranked: gpd.GeoDataFrame) -> None:
    by_id = ranked.set_index("site_id")
    for site in ("C39", "C41", "C42"):
        assert "inside exclusion zone" in by_id.loc[site, "reason"]
    for site in ("C23", "C24", "C31"):
        assert (
            "capacity" in by_id.loc[site, "reason"]
            and "below the minimum 200" in by_id.loc[site, "reason"]
        )
    for site in ("C07", "C19"):
        assert "protection distance" in by_id.loc[site, "reason"]
    assert (by_id.loc[by_id["eligible"], "reason"] == "").all()
    for site in ("C01", "C02"):
        assert by_id.loc[site, "eligible"]


def test_scores_recomputed_independently(study: gp.Study, ranked: gpd.GeoDataFrame) -> None:
    """Recompute every site's total with plain shapely distance matrices and the formulas."""
    crs = 4549
    sites = study.layers["candidates"].to_crs(crs).set_index("site_id").loc[ranked["site_id"]]
    parks = study.layers["parks"].to_crs(crs)
    stations = study.layers["stations"].to_crs(crs)
    facilities = study.layers["facilities"].to_crs(crs)

    def dist(targets: gpd.GeoDataFrame) -> np.ndarray:
        a = np.asarray(sites.geometry.array, dtype=object)[:, None]
        return np.asarray(
            shapely.distance(a, np.asarray(targets.geometry.array, dtype=object)[None, :])
        )

    d_station = dist(stations).min(axis=1)
    metro = np.clip((3000 - d_station) / 2500, 0, 1)
    d_parks = dist(parks)
    jobs = (parks["jobs"].to_numpy() * np.where(d_parks <= 8000, 0.5 ** (d_parks / 3000), 0)).sum(
        axis=1
    )
    jobs_score = 1 - 0.5 ** (jobs / 50000)
    near = d_parks.min(axis=1)
    band = np.clip(np.minimum((near - 200) / 600, (10000 - near) / 6000), 0, 1)
    count = (dist(facilities) <= 1500).sum(axis=1)
    life = np.array([0.0, 0.4, 0.7, 1.0])[np.searchsorted([1, 2, 4], count, side="right")]
    # walk + metro minutes are checked against brute force in test_transit.py
    commute = 1 - 0.5 ** (ranked["value__metro_commute__jobs"].to_numpy() / 100000)
    total = (0.35 * metro + 0.30 * jobs_score + 0.20 * band + 0.15 * life + 0.25 * commute) / 1.25
    np.testing.assert_allclose(ranked["value__metro_access__m"], d_station, rtol=1e-9)
    np.testing.assert_allclose(ranked["value__jobs_reach__jobs"], jobs, rtol=1e-9)
    np.testing.assert_allclose(ranked["score"], total, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ranked["nearest_station_m"], d_station, atol=0.05)


def test_explain_site(ranked: gpd.GeoDataFrame) -> None:
    table = gp.explain_site(ranked, "C01")
    row = ranked.set_index("site_id").loc["C01"]
    assert table["contribution"].sum() == pytest.approx(row["score"])
    assert table["weight"].sum() == pytest.approx(1.0)
    assert table.loc["metro_access", "decay"] == "linear: 1 at 500 m, 0 at 3000 m"
    assert table.attrs["summary"] == row["explanation"]
    assert gp.explain_site(ranked, 1).attrs["summary"].startswith("#1 of ")
    with pytest.raises(gp.CriterionError, match="No site 'C99'"):
        gp.explain_site(ranked, "C99")
    with pytest.raises(gp.CriterionError, match=r"^No site 99 in the ranking"):
        gp.explain_site(ranked, np.int64(99))


def test_explain_site_from_a_file(ranked: gpd.GeoDataFrame, tmp_path: Path) -> None:
    gp.write_layer(ranked, tmp_path / "r.gpkg")
    back = gpd.read_file(tmp_path / "r.gpkg")
    table = gp.explain_site(back, "C02")
    assert table.loc["metro_access", "weight"] == pytest.approx(0.35 / 1.25)
    assert table["contribution"].sum() == pytest.approx(
        ranked.set_index("site_id").loc["C02", "score"]
    )


def test_explanation_text(ranked: gpd.GeoDataFrame) -> None:
    first = ranked["explanation"].iloc[0]
    assert first.startswith("#1 of ")
    assert "Distance to metro station" in first and "x 0.28" in first
    excluded = ranked.loc[~ranked["eligible"], "explanation"].iloc[0]
    assert excluded.startswith("Not eligible (")


def test_polygon_candidates_keep_their_geometry(study: gp.Study) -> None:
    parcels = study.layers["candidates"].to_crs(4549).copy()
    parcels["geometry"] = parcels.buffer(150)
    parcels = parcels.to_crs(4326)
    inner = parcels.to_crs(4549)
    inner["geometry"] = inner.representative_point()
    assert parcels.to_crs(4549).contains(inner.geometry).all()
    ranked = gp.score_sites(parcels, study.layers, straight_criteria(study), metric_crs="EPSG:4549")
    assert (ranked.geom_type == "Polygon").all()
    points = gp.score_sites(
        inner.to_crs(4326), study.layers, straight_criteria(study), metric_crs="EPSG:4549"
    )
    merged = ranked.set_index("site_id")["score"].sort_index()
    expected = points.set_index("site_id")["score"].sort_index()
    np.testing.assert_allclose(merged, expected, atol=1e-6)


def test_utm_default_crs_gives_nearly_the_same_distances(study: gp.Study) -> None:
    utm = gp.score_sites(study.layers["candidates"], study.layers, straight_criteria(study))
    gk = gp.score_sites(
        study.layers["candidates"], study.layers, straight_criteria(study), metric_crs="EPSG:4549"
    )
    a = utm.set_index("site_id")["value__metro_access__m"].sort_index()
    b = gk.set_index("site_id")["value__metro_access__m"].sort_index()
    assert utm.attrs["geoplan"]["metric_crs"] == "EPSG:32650"
    assert float((a / b - 1).abs().max()) < 1e-3


def test_no_criteria_or_sites(study: gp.Study) -> None:
    with pytest.raises(gp.CriterionError, match="No criteria"):
        gp.score_sites(study.layers["candidates"], study.layers, [])
    with pytest.raises(gp.GeoplanError, match="no candidate sites"):
        gp.score_sites(study.layers["candidates"].iloc[:0], study.layers, straight_criteria(study))


def test_inputs_untouched(study: gp.Study) -> None:
    before = {k: v.copy() for k, v in study.layers.items()}
    gp.rank_sites(study)
    for name, layer in study.layers.items():
        pd.testing.assert_frame_equal(pd.DataFrame(layer), pd.DataFrame(before[name]))


@pytest.mark.parametrize("method", ["topsis", "vikor"])
def test_excluded_sites_never_change_a_relative_ranking(study: gp.Study, method: str) -> None:
    ranked = gp.score_sites(
        study.layers["candidates"],
        study.layers,
        straight_criteria(study),
        constraints=study.constraints,
        metric_crs="EPSG:4549",
        method=method,
    )
    eligible = ranked[ranked["eligible"]]
    names = [c.name for c in straight_criteria(study)]
    scores = eligible[[f"score__{n}" for n in names]].set_axis(names, axis=1)
    alone = gp.aggregate(scores, study.weights[names], method=method)
    np.testing.assert_allclose(eligible["score"], alone, rtol=1e-12)

"""Job–housing balance (职住比) and the commute shares of China's commuting reports.

Checked against brute force on a dense distance matrix, hand-computed cases,
and, along real streets, against the pairs of ``NetworkMetric.within``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoplan as gp
from geoplan._errors import CriterionError
from geoplan.indicators.balance import BALANCED_BAND, STATUSES
from geoplan.streets.network import load_network
from geoplan.streets.routing import NetworkMetric

pyrosm = pytest.importorskip("pyrosm")

CRS = 32650


def layer(xy: np.ndarray, **columns: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(shapely.points(xy), crs=CRS))


@pytest.fixture
def city() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(11)
    sites = layer(rng.uniform(0, 15_000, (50, 2)), workers=rng.integers(0, 3000, 50) * 1.0)
    jobs = layer(rng.uniform(0, 15_000, (40, 2)), jobs=rng.integers(0, 9000, 40) * 1.0)
    homes = layer(rng.uniform(0, 15_000, (70, 2)), workers=rng.integers(0, 5000, 70) * 1.0)
    return sites, jobs, homes


def dense(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> np.ndarray:
    return np.array([[p.distance(q) for q in b.geometry] for p in a.geometry])


def test_jobs_housing_ratio_equals_brute_force(city: tuple) -> None:
    sites, jobs, homes = city
    inputs = [x.copy() for x in city]
    got = gp.jobs_housing_ratio(sites, jobs, homes, radius_m=4000)
    assert list(got.columns) == [
        "jobs_within_4000m",
        "workers_within_4000m",
        "jobs_housing_ratio",
        "jobs_housing_balance",
    ]
    near_jobs = [
        sum(j for j, d in zip(jobs["jobs"], row, strict=True) if d <= 4000)
        for row in dense(sites, jobs)
    ]
    near_workers = [
        sum(w for w, d in zip(homes["workers"], row, strict=True) if d <= 4000)
        for row in dense(sites, homes)
    ]
    np.testing.assert_allclose(got["jobs_within_4000m"], near_jobs)
    np.testing.assert_allclose(got["workers_within_4000m"], near_workers)
    for ratio, status, j, w in zip(
        got["jobs_housing_ratio"], got["jobs_housing_balance"], near_jobs, near_workers, strict=True
    ):
        if w == 0:
            assert status == "no resident workers"
            assert np.isinf(ratio) if j > 0 else np.isnan(ratio)
            continue
        assert ratio == pytest.approx(j / w, rel=1e-12)
        expected = (
            "balanced" if 0.8 <= j / w <= 1.2 else "jobs-rich" if j / w > 1.2 else "housing-rich"
        )
        assert status == expected
    assert set(got["jobs_housing_balance"]) >= {"jobs-rich", "housing-rich"}
    for before, after in zip(inputs, city, strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_the_balanced_band_is_inclusive_and_can_be_changed() -> None:
    site = layer(np.array([[0.0, 0.0]] * 5), capacity=np.array([0, 100, 150, 20, 40]) * 1.0)
    jobs = layer(np.array([[100.0, 0.0]]), jobs=np.array([960.0]))
    homes = layer(np.array([[0.0, 100.0]]), workers=np.array([800.0]))
    # ratios 960/800 = 1.2, 960/900 = 1.067, 960/950 = 1.01, 960/820 = 1.17, 960/840 = 1.14
    got = gp.jobs_housing_ratio(site, jobs, homes, radius_m=500, site_workers_column="capacity")
    np.testing.assert_allclose(got["workers_within_500m"], [800, 900, 950, 820, 840])
    assert (got["jobs_housing_balance"] == "balanced").all()  # 1.2 itself is balanced
    assert BALANCED_BAND == (0.8, 1.2)
    strict = gp.jobs_housing_ratio(
        site, jobs, homes, radius_m=500, site_workers_column="capacity", band=(0.9, 1.1)
    )
    assert list(strict["jobs_housing_balance"]) == [
        "jobs-rich",
        "balanced",
        "balanced",
        "jobs-rich",
        "jobs-rich",
    ]
    assert list(strict["jobs_housing_balance"].cat.categories) == list(STATUSES)
    with pytest.raises(CriterionError, match=r"band=\(1.3, 0.7\) must be two finite numbers"):
        gp.jobs_housing_ratio(site, jobs, homes, radius_m=500, band=(1.3, 0.7))


def test_commute_shares_equal_brute_force(city: tuple) -> None:
    sites, jobs, _ = city
    got = gp.commute_shares(sites, jobs)
    assert list(got.columns) == ["share_jobs_within_5000m"]
    d = dense(sites, jobs)
    total = jobs["jobs"].sum()
    np.testing.assert_allclose(got["share_jobs_within_5000m"], (d <= 5000) @ jobs["jobs"] / total)
    assert got["share_jobs_within_5000m"].between(0, 1).all()
    with pytest.raises(CriterionError, match="needs metres"):
        gp.commute_shares(sites, jobs, metric=FakeMinutes())
    with pytest.raises(CriterionError, match="need minutes"):
        gp.commute_shares(sites, jobs, time_metric=gp.StraightLine())
    with pytest.raises(CriterionError, match="has no jobs"):
        gp.commute_shares(sites, jobs.assign(jobs=0.0))
    with pytest.raises(CriterionError, match=r"happy_m=-5 must be a positive"):
        gp.commute_shares(sites, jobs, happy_m=-5)


class FakeMinutes(gp.StraightLine):
    """Straight-line metres read as minutes (walking 1 m a minute): a metric in minutes."""

    unit = "min"
    label = "test minutes"


def test_commute_shares_in_minutes_count_the_unreachable_as_beyond(city: tuple) -> None:
    sites, jobs, _ = city
    far = layer(np.array([[90_000.0, 90_000.0]]), jobs=np.array([1000.0]))
    everything = pd.concat([jobs, far], ignore_index=True)
    got = gp.commute_shares(
        sites, everything, time_metric=FakeMinutes(), within_min=4000, extreme_min=9000
    )
    d = dense(sites, everything)
    amounts = everything["jobs"].to_numpy()
    total = amounts.sum()
    np.testing.assert_allclose(got["share_jobs_within_4000min"], (d <= 4000) @ amounts / total)
    np.testing.assert_allclose(got["share_jobs_beyond_9000min"], (d > 9000) @ amounts / total)
    assert (got["share_jobs_beyond_9000min"] >= 1000 / total - 1e-12).all()


def test_balance_along_streets_equals_the_pairs_of_within() -> None:
    path = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm does not ship test.osm.pbf in this installation")
    net = load_network(path, mode="walk")
    rng = np.random.default_rng(4)

    def scatter(n: int) -> np.ndarray:
        pick = rng.integers(0, net.n_nodes, n)
        return np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 50, (n, 2))

    crs = net.crs
    sites = gpd.GeoDataFrame(geometry=gpd.GeoSeries(shapely.points(scatter(200)), crs=crs))
    jobs = gpd.GeoDataFrame(
        {"jobs": rng.integers(0, 900, 50) * 1.0},
        geometry=gpd.GeoSeries(shapely.points(scatter(50)), crs=crs),
    )
    homes = gpd.GeoDataFrame(
        {"workers": rng.integers(0, 700, 80) * 1.0},
        geometry=gpd.GeoSeries(shapely.points(scatter(80)), crs=crs),
    )
    minutes, metres = NetworkMetric(net, unit="min"), NetworkMetric(net, unit="m")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gp.GeoplanWarning)
        ratio = gp.jobs_housing_ratio(sites, jobs, homes, max_minutes=8, metric=minutes)
        shares = gp.commute_shares(
            sites,
            jobs,
            metric=metres,
            time_metric=minutes,
            happy_m=500,
            within_min=5,
            extreme_min=9,
        )

        def within(
            metric: NetworkMetric, targets: gpd.GeoDataFrame, column: str, cutoff: float
        ) -> np.ndarray:
            pairs = metric.within(sites.geometry, targets.geometry, cutoff)
            amounts = targets[column].to_numpy()[pairs.target]
            return np.bincount(pairs.site, weights=amounts, minlength=len(sites))

        total = jobs["jobs"].sum()
        np.testing.assert_allclose(ratio["jobs_within_8min"], within(minutes, jobs, "jobs", 8))
        np.testing.assert_allclose(
            ratio["workers_within_8min"], within(minutes, homes, "workers", 8)
        )
        np.testing.assert_allclose(
            shares["share_jobs_within_500m"], within(metres, jobs, "jobs", 500) / total
        )
        np.testing.assert_allclose(
            shares["share_jobs_within_5min"], within(minutes, jobs, "jobs", 5) / total
        )
        np.testing.assert_allclose(
            shares["share_jobs_beyond_9min"], 1 - within(minutes, jobs, "jobs", 9) / total
        )
    assert (ratio["workers_within_8min"] > 0).mean() > 0.5

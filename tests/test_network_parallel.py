"""Segments that join the same two nodes: distances must not depend on them or on way order.

Two ways over the same nodes, a way whose nodes run A-B-A, a one-way and a
two-way way along one street: the network holds one edge per pair of nodes,
so a site on that street reaches a target on it directly and leaves by
either end as any of the ways allows.  Checked on small hand-made files (ways
in every order, against hand computation) and on the real Shanghai extract,
against an independent reference: networkx on osmnx's own graph of the file,
with every site and target inserted as a node into *every* street segment at
its nearest distance (so parallel segments are all joined, as a traveller
would use them).
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from geoplan.io.coords import great_circle_m
from geoplan.streets.network import StreetNetwork, load_network
from geoplan.streets.osm import read_osm
from geoplan.streets.routing import NetworkMetric

LON0, LAT0 = 13.40, 52.52  # outside China: the hand-made streets are plain OSM
M_LON = 1 / (111_320 * math.cos(math.radians(LAT0)))  # degrees per metre (near enough)
M_LAT = 1 / 110_574


def osm_xml(nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict]]) -> str:
    """An OSM XML file: nodes at (east, north) metres from (LON0, LAT0), then the ways."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i, (east, north) in nodes.items():
        lon, lat = LON0 + east * M_LON, LAT0 + north * M_LAT
        lines.append(f'  <node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


# A 100 m x 100 m block A-B-C-D; the street A-B is mapped twice.
BLOCK = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (100.0, 100.0), 4: (0.0, 100.0)}
LOOP = [
    (20, [2, 3], {"highway": "residential"}),
    (21, [3, 4], {"highway": "residential"}),
    (22, [4, 1], {"highway": "residential"}),
]
CASES = {
    # a one-way (fast) and a two-way (slow) way along A-B
    "one-way and two-way": [
        (10, [1, 2], {"highway": "primary", "oneway": "yes", "maxspeed": "60"}),
        (11, [1, 2], {"highway": "residential", "maxspeed": "30"}),
    ],
    # two two-way ways over the same nodes, drawn in opposite directions
    "two ways, opposite drawing": [
        (10, [1, 2], {"highway": "residential"}),
        (11, [2, 1], {"highway": "residential"}),
    ],
    # one way whose nodes run A-B-A (as 268 ways of the Shanghai extract do)
    "A-B-A": [(10, [1, 2, 1], {"highway": "residential"})],
    # a one-way A-B-A way: A -> B, then B -> A
    "one-way A-B-A": [(10, [1, 2, 1], {"highway": "residential", "oneway": "yes"})],
}


def point_on_street(net: StreetNetwork, a: int, b: int, fraction: float, side_m: float):
    """A point ``side_m`` to the left of OSM street a -> b, at ``fraction`` along it."""
    pos = {int(n): i for i, n in enumerate(net.node_id)}
    ax, ay = net.x[pos[a]], net.y[pos[a]]
    bx, by = net.x[pos[b]], net.y[pos[b]]
    length = math.hypot(bx - ax, by - ay)
    nx_, ny_ = -(by - ay) / length, (bx - ax) / length
    return shapely.Point(
        ax + fraction * (bx - ax) + side_m * nx_, ay + fraction * (by - ay) + side_m * ny_
    )


def block_distances(path: Path, mode: str, unit: str) -> tuple[StreetNetwork, np.ndarray]:
    """Site 70 % along A-B, target 20 % along it, both 1.1 m off: there and back."""
    net = load_network(path, mode=mode, crs="EPSG:32633")
    site = point_on_street(net, 1, 2, 0.7, 1.1)
    target = point_on_street(net, 1, 2, 0.2, 1.1)
    metric = NetworkMetric(net, unit=unit)
    points = gpd.GeoSeries([site, target], crs=net.crs)
    there = metric.nearest(points.iloc[[0]], points.iloc[[1]]).distance[0]
    back = metric.nearest(points.iloc[[1]], points.iloc[[0]]).distance[0]
    within = metric.within(points.iloc[[0]], points.iloc[[1]], np.inf).distance
    assert list(within) == [there]
    return net, np.array([there, back])


@pytest.mark.parametrize("case", list(CASES))
def test_parallel_segments_in_every_order_of_the_ways(tmp_path: Path, case: str) -> None:
    results = {}
    for k, ways in enumerate(itertools.permutations(CASES[case] + LOOP)):
        if k % 5:  # every 5th order of the ways (all orders of the first ways)
            continue
        path = tmp_path / f"{k}.osm"
        path.write_text(osm_xml(BLOCK, list(ways)), encoding="utf-8")
        for mode, unit in (("drive", "m"), ("drive", "min"), ("walk", "m")):
            net, got = block_distances(path, mode, unit)
            results.setdefault((mode, unit), []).append((net, got))
    for (mode, unit), runs in results.items():
        net, first = runs[0]
        a, b = np.searchsorted(net.node_id, [1, 2])
        length = float(great_circle_m(net.lon[a], net.lat[a], net.lon[b], net.lat[b]))  # A-B
        walk_min = 1.1 * 2 / (4.8 * 1000 / 60)
        if unit == "m":  # along the street, both ways, 50 % of A-B apart
            expected = [0.5 * length + 2.2] * 2
        elif case == "one-way and two-way":  # A -> B at 60 km/h, B -> A at 30 km/h
            expected = [0.5 * length / 500 + walk_min, 0.5 * length / 1000 + walk_min]
        else:
            expected = [0.5 * length / 500 + walk_min] * 2  # residential, 30 km/h
        for _, got in runs:
            np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=f"{mode} {unit}")
        for other, got in runs[1:]:  # identical networks and distances, whatever the order
            assert np.array_equal(got, first)
            for name in ("node_id", "edge_u", "edge_v", "edge_way_id", "edge_length_m",
                         "edge_minutes_forward", "edge_minutes_backward", "indptr", "arc_head"):  # fmt: skip
                assert np.array_equal(getattr(other, name), getattr(net, name)), name
        assert net.n_edges == 4  # the street A-B is one edge


# --------------------------------------------------------------------------- the real extract


def reference_matrix(
    path: Path, net: StreetNetwork, sites: np.ndarray, targets: np.ndarray, walk_rules: str
) -> np.ndarray:
    """Metres along streets by networkx on osmnx's graph of ``path`` (walk: both ways).

    The graph keeps the ways and nodes of ``net`` with every parallel segment
    as it is in the file; each point joins, as a node, every segment within
    1e-9 m of its nearest distance, split at its projection.
    """
    ox = pytest.importorskip("osmnx")
    with pytest.warns(UserWarning, match="generated by OSMnx"):
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=True)
    kept_ways = set(read_osm(path, mode="walk", walk_rules=walk_rules).edge_way_id.tolist())
    nodes = set(net.node_id.tolist())
    arcs = [
        (u, v, d["length"])
        for u, v, d in graph.edges(data=True)
        if d["osmid"] in kept_ways and u in nodes and v in nodes
    ]
    to_xy = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
    xy = {n: to_xy.transform(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes}
    lines = shapely.linestrings([[xy[u], xy[v]] for u, v, _ in arcs])
    tree = shapely.STRtree(lines)
    points = np.vstack([sites, targets])
    stops: dict[int, list[tuple[float, object]]] = {}
    access = np.empty(len(points))
    for p, (px, py) in enumerate(points):
        gap = float(
            shapely.distance(lines[tree.nearest(shapely.Point(px, py))], shapely.Point(px, py))
        )
        access[p] = gap
        for arc in tree.query(shapely.Point(px, py), predicate="dwithin", distance=gap + 1e-9):
            (ax, ay), (bx, by) = xy[arcs[arc][0]], xy[arcs[arc][1]]
            t = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)
            stops.setdefault(int(arc), []).append((min(max(t, 0.0), 1.0), ("point", p)))
    ref = nx.DiGraph()
    for arc, (u, v, length) in enumerate(arcs):
        chain = [(0.0, u), *sorted(stops.get(arc, []), key=lambda s: s[0]), (1.0, v)]
        for (ta, na), (tb, nb) in itertools.pairwise(chain):
            cost = (tb - ta) * length
            if not ref.has_edge(na, nb) or ref[na][nb]["w"] > cost:
                ref.add_edge(na, nb, w=cost)
    out = np.full((len(sites), len(targets)), np.inf)
    for i in range(len(sites)):
        dist = nx.single_source_dijkstra_path_length(ref, ("point", i), weight="w")
        for j in range(len(targets)):
            node = ("point", len(sites) + j)
            if node in dist:
                out[i, j] = access[i] + dist[node] + access[len(sites) + j]
    return out


def points_along_duplicates(
    path: Path, net: StreetNetwork, n: int, seed: int, walk_rules: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs of points 1-5 m beside the segments the file holds twice, both beside one segment.

    Returns the sites, the targets, the network edge of each pair, their
    distance along it by hand (the fraction between them times the edge's
    length, plus the two legs to the street), and how many node pairs the
    walk network holds twice.
    """
    streets = read_osm(path, mode="walk", walk_rules=walk_rules)
    lo = np.minimum(streets.edge_u, streets.edge_v)
    hi = np.maximum(streets.edge_u, streets.edge_v)
    key = lo.astype(np.int64) * len(streets.node_id) + hi
    _, first, count = np.unique(key, return_index=True, return_counts=True)
    twice = first[count > 1]
    pos = {int(i): k for k, i in enumerate(net.node_id)}
    ids_u, ids_v = streets.node_id[streets.edge_u[twice]], streets.node_id[streets.edge_v[twice]]
    both = np.array([int(a) in pos and int(b) in pos for a, b in zip(ids_u, ids_v, strict=True)])
    rng = np.random.default_rng(seed)
    pick = rng.choice(np.nonzero(both)[0], n)
    a = np.array([pos[int(i)] for i in ids_u[pick]])
    b = np.array([pos[int(i)] for i in ids_v[pick]])
    edge_of = {
        (int(u), int(v)): e for e, (u, v) in enumerate(zip(net.edge_u, net.edge_v, strict=True))
    }
    edge = np.array([edge_of[(min(i, j), max(i, j))] for i, j in zip(a, b, strict=True)])
    d = np.column_stack([net.x[b] - net.x[a], net.y[b] - net.y[a]])
    side = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(*d.T)[:, None]
    points, fractions, legs = [], [], []
    for _ in range(2):
        f = rng.uniform(0.05, 0.95, n)
        off = rng.uniform(1.0, 5.0, n) * rng.choice([-1, 1], n)
        points.append(np.column_stack([net.x[a], net.y[a]]) + f[:, None] * d + off[:, None] * side)
        fractions.append(f)
        legs.append(np.abs(off))
    along = np.abs(fractions[0] - fractions[1]) * net.edge_length_m[edge] + legs[0] + legs[1]
    return points[0], points[1], edge, along, int(both.sum())


@pytest.mark.parametrize("walk_rules", ["osm", "china"])
def test_shanghai_walk_sites_on_doubled_segments_equal_reference(
    shared_data: Path, walk_rules: str
) -> None:
    """The issue's case: a site and a target beside one way that runs A-B-A came out
    92.05 m apart instead of 46.45 m (the way to a node and back).  The file holds 139
    such node pairs in osmnx's walk network, 138 without a way tagged access=no."""
    path = shared_data / "shanghai_jingan_drive.osm"
    net = load_network(path, mode="walk", walk_rules=walk_rules)
    site_on, target_on, edge, along, doubled = points_along_duplicates(
        path, net, 60, seed=1, walk_rules=walk_rules
    )
    assert doubled == 138  # node pairs the walk network holds twice (ways A-B-A)
    rng = np.random.default_rng(2)
    pick = rng.integers(0, net.n_nodes, 40)
    spread = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 60, (40, 2))
    sites = np.vstack([site_on, spread])
    targets = np.vstack([target_on, spread[::-1]])
    expected = reference_matrix(path, net, sites, targets, walk_rules)
    metric = NetworkMetric(net, unit="m")
    site_s = gpd.GeoSeries(shapely.points(sites), crs=net.crs)
    target_s = gpd.GeoSeries(shapely.points(targets), crs=net.crs)
    pairs = metric.within(site_s, target_s, np.inf)
    got = np.full_like(expected, np.inf)
    got[pairs.site, pairs.target] = pairs.distance
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-7)
    nearest = metric.nearest(site_s, target_s)
    np.testing.assert_allclose(nearest.distance, expected.min(axis=1), rtol=1e-7, atol=1e-7)
    # pairs beside one doubled segment (both nearest to it): along it, by hand
    on_edge = (metric.snap(site_s)["edge"].to_numpy()[:60] == edge) & (
        metric.snap(target_s)["edge"].to_numpy()[:60] == edge
    )
    assert on_edge.sum() >= 30
    np.testing.assert_allclose(np.diag(got)[:60][on_edge], along[on_edge], rtol=1e-9)


def shuffled_ways(path: Path, out: Path, seed: int) -> Path:
    """The same file with its ways in another order (nodes first, as OSM files are)."""
    tree = ET.parse(path)
    root = tree.getroot()
    ways = [e for e in root if e.tag == "way"]
    for way in ways:
        root.remove(way)
    for k in np.random.default_rng(seed).permutation(len(ways)):
        root.append(ways[k])
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_shanghai_results_do_not_depend_on_the_order_of_ways(
    shared_data: Path, tmp_path: Path, mode: str
) -> None:
    path = shared_data / "shanghai_jingan_drive.osm"
    net = load_network(path, mode=mode)
    other = load_network(shuffled_ways(path, tmp_path / "shuffled.osm", seed=3), mode=mode)
    rng = np.random.default_rng(4)
    pick = rng.integers(0, net.n_nodes, 300)
    xy = np.column_stack([net.x[pick], net.y[pick]]) + rng.normal(0, 30, (300, 2))
    xy[:50] = np.column_stack([net.x[pick[:50]], net.y[pick[:50]]])  # on nodes: ties
    sites = gpd.GeoSeries(shapely.points(xy[:200]), crs=net.crs)
    targets = gpd.GeoSeries(shapely.points(xy[200:]), crs=net.crs)
    for unit in ("m", "min"):
        a, b = NetworkMetric(net, unit=unit), NetworkMetric(other, unit=unit)
        near_a, near_b = a.nearest(sites, targets), b.nearest(sites, targets)
        assert np.array_equal(near_a.distance, near_b.distance)
        assert np.array_equal(near_a.target, near_b.target)
        pairs_a, pairs_b = a.within(sites, targets, 800.0), b.within(sites, targets, 800.0)
        for name in ("site", "target", "distance"):
            assert np.array_equal(getattr(pairs_a, name), getattr(pairs_b, name))
    for name in ("node_id", "x", "y", "edge_u", "edge_v", "edge_way_id", "edge_length_m",
                 "edge_minutes_forward", "edge_minutes_backward", "edge_forward",
                 "edge_backward", "indptr", "arc_head", "arc_edge", "arc_minutes"):  # fmt: skip
        assert np.array_equal(getattr(other, name), getattr(net, name)), name

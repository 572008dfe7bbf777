"""Life circles (GB 50180-2018): the standard as data, compliance, gaps, and real streets.

The hand-made tests place facilities at exact straight-line distances, so
every flag, count and gap line is known in advance.  The real-data test reads
POIs and the walk network from the same OpenStreetMap file and checks the
result against an independent brute force: every sampled site and facility
snapped to its street with shapely and routed with networkx.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import geoplan as gp
from geoplan._errors import CoordinateError, CriterionError, GeoplanWarning
from geoplan.indicators.facility_types import KINDS
from geoplan.indicators.life_circles import LEVELS, gb50180_levels, gb50180_requirements
from geoplan.measure.distance import Nearest, Pairs, StraightLine
from geoplan.streets.network import StreetNetwork

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 3_500_000.0


# --------------------------------------------------------------------------- the standard as data


def test_the_standard_is_data_with_its_clauses() -> None:
    levels = gb50180_levels()
    # 表3.0.4: walking distance, residents and dwellings of each level
    assert levels.loc["lc15", "walk_m"] == [800, 1000]
    assert levels.loc["lc10", "walk_m"] == [500, 500]
    assert levels.loc["lc5", "walk_m"] == [300, 300]
    assert levels.loc["lc15", "residents"] == [50000, 100000]
    assert levels.loc["lc10", "dwellings"] == [5000, 8000]
    assert levels.loc["lc5", "dwellings"] == [1500, 4000]
    assert levels.loc["block", "residents"] == [1000, 3000]
    assert levels["clause"].str.contains("表3.0.4").all()
    table = gb50180_requirements()
    assert table.index.is_unique
    assert set(table["table"].str.split("; ").explode()) == {"表B.0.1", "表B.0.2", "表B.0.3"}
    for level in (*LEVELS, "block"):
        assert set(table[level]) <= {"▲", "△", ""}
    assessed = table[table["assessed"]]
    assert (assessed["kinds"].map(len) > 0).all()
    assert {k for ks in table["kinds"] for k in ks} <= set(KINDS)
    assert (table.loc[~table["assessed"], "why_not"] != "").all()
    # entries as the lead recalled them (附录B)
    row = table.loc
    assert (row["primary_school", "lc10"], row["primary_school", "lc15"]) == ("▲", "")
    assert (row["junior_high_school", "lc15"], row["junior_high_school", "lc10"]) == ("▲", "")
    assert (row["shopping_centre", "lc15"], row["shopping_centre", "lc10"]) == ("▲", "▲")
    assert (row["bus_stop", "lc15"], row["bus_stop", "lc10"], row["bus_stop", "lc5"]) == (
        "▲",
        "▲",
        "△",
    )
    assert (row["car_parking", "lc10"], row["car_parking", "lc5"]) == ("▲", "△")
    assert row["switching_station", "lc15"] == "▲" and not row["switching_station", "assessed"]
    assert row["kindergarten", "lc5"] == "▲" and row["nursery", "lc5"] == "△"
    assert row["post_office", "lc15"] == "▲" and row["post_office", "lc10"] == ""
    block = table[table["block"] != ""]
    assert len(block) == 8 and not block["assessed"].any()
    assert (table[list(LEVELS)].ne("").any(axis=1) | (table["block"] != "")).all()


# --------------------------------------------------------------------------- hand-made compliance


def _sites(*offsets: tuple[float, float], index: list[str] | None = None) -> gpd.GeoDataFrame:
    points = [shapely.Point(X0 + dx, Y0 + dy) for dx, dy in offsets]
    return gpd.GeoDataFrame(
        {"name": [f"s{i}" for i in range(len(points))]}, geometry=points, crs=CRS, index=index
    )


def _everything_at(metres: float, **moved: float) -> gpd.GeoDataFrame:
    """One facility of the first kind of every assessed item, ``metres`` east of the origin
    (``moved``: some at another distance; ``math.inf``: left out)."""
    table = gb50180_requirements()
    rows = []
    for item, kinds in table.loc[table["assessed"], "kinds"].items():
        distance = moved.get(item, metres)
        if math.isfinite(distance):
            rows.append(
                {"item": item, "kind": kinds[0], "geometry": shapely.Point(X0 + distance, Y0)}
            )
    return gpd.GeoDataFrame(rows, crs=CRS)


def test_a_site_with_everything_close_meets_every_level() -> None:
    sites = _sites((0, 0))
    found = gp.life_circles(sites, _everything_at(100))
    assert found[["lc5_ok", "lc10_ok", "lc15_ok"]].iloc[0].tolist() == [True, True, True]
    assert found[["lc5_missing", "lc10_missing", "lc15_missing"]].iloc[0].tolist() == [0, 0, 0]
    assert found.at[0, "gaps_zh"] == "" and found.at[0, "gaps_en"] == ""
    assert found.at[0, "primary_school_m"] == pytest.approx(100)
    assert found.at[0, "unchecked_zh"].startswith(
        "未核查（设施数据无法反映）：15分钟生活圈：大型多功能运动场地"
    )
    assert "5分钟生活圈：再生资源回收点、生活垃圾收集站" in found.at[0, "unchecked_zh"]
    assert found.at[0, "unchecked_en"].startswith(
        "not checked (not in facility data): 15-minute circle: large multi-purpose sports ground"
    )
    assert found.attrs["life_circles"]["reach"] == {"lc5": 300.0, "lc10": 500.0, "lc15": 1000.0}


def test_levels_are_cumulative_and_gaps_are_named_at_the_widest_level() -> None:
    sites = _sites((0, 0), (0, 0), (0, 0), (0, 0))
    cases = [
        {"kindergarten": 400.0},  # 5-minute item beyond 300 m
        {"bank": 700.0},  # 10- and 15-minute item beyond 500 m, within 1000 m
        {"bank": 1200.0},  # beyond 1000 m: named once, at the 15-minute level
        {"gym": math.inf, "nursery": math.inf},  # △ items: no effect
    ]
    for i, moved in enumerate(cases):
        found = gp.life_circles(sites.iloc[[i]], _everything_at(100, **moved))
        row = found.iloc[0]
        flags = row[["lc5_ok", "lc10_ok", "lc15_ok"]].tolist()
        counts = row[["lc5_missing", "lc10_missing", "lc15_missing"]].tolist()
        if i == 0:
            assert flags == [False, False, False] and counts == [1, 0, 0]
            assert row["gaps_zh"] == "5分钟生活圈（300米）内无幼儿园"
            assert row["gaps_en"] == "no kindergarten within the 5-minute circle (300 m)"
            assert row["kindergarten_m"] == pytest.approx(400)
        elif i == 1:
            assert flags == [True, False, False] and counts == [0, 1, 0]
            assert row["gaps_zh"] == "10分钟生活圈（500米）内无银行营业网点"
            assert row["gaps_en"] == "no bank branch within the 10-minute circle (500 m)"
        elif i == 2:
            assert flags == [True, False, False] and counts == [0, 1, 1]
            assert row["gaps_zh"] == "15分钟生活圈（1000米）内无银行营业网点"
            assert row["gaps_en"] == "no bank branch within the 15-minute circle (1,000 m)"
            assert row["bank_m"] == np.inf
        else:
            assert flags == [True, True, True] and row["gaps_zh"] == ""
            assert row["gym_m"] == np.inf


def test_several_gaps_in_order_and_the_index_of_the_sites() -> None:
    sites = _sites((0, 0), (5000, 0), index=["origin", "far-east"])[::-1]
    facilities = _everything_at(100, kindergarten=350, primary_school=900, post_office=math.inf)
    with pytest.warns(GeoplanWarning, match="post_office"):
        found = gp.life_circles(sites, facilities)
    assert found.index.tolist() == ["far-east", "origin"]
    origin, east = found.loc["origin"], found.loc["far-east"]
    assert origin["gaps_zh"] == (
        "5分钟生活圈（300米）内无幼儿园；10分钟生活圈（500米）内无小学；"
        "15分钟生活圈（1000米）内无邮政营业场所"
    )
    assert origin["gaps_en"] == (
        "no kindergarten within the 5-minute circle (300 m); no primary school within the "
        "10-minute circle (500 m); no post office within the 15-minute circle (1,000 m)"
    )
    table = gb50180_requirements()
    required = table[table["assessed"] & (table[list(LEVELS)] == "▲").any(axis=1)]
    assert not east["lc5_ok"] and east["lc5_missing"] == (required["lc5"] == "▲").sum()
    assert len(east["gaps_zh"].split("；")) == len(required)  # each item once, nothing within 1 km
    assert set(found.filter(like="_ok").dtypes) == {np.dtype(bool)}


def test_levels_and_requirements_can_be_changed() -> None:
    sites = _sites((0, 0))
    facilities = _everything_at(100, post_office=900, kindergarten=400)
    strict = gp.life_circles(
        sites, facilities, levels={"lc15": 800}, requirements={"kindergarten": {"assessed": False}}
    )
    assert strict[["lc5_ok", "lc10_ok", "lc15_ok"]].iloc[0].tolist() == [True, True, False]
    assert strict.at[0, "gaps_zh"] == "15分钟生活圈（800米）内无邮政营业场所"
    assert "幼儿园" in strict.at[0, "unchecked_zh"] and "kindergarten_m" not in strict
    # kinds amended, an item added, a level dropped ('' = not at this level)
    facilities.loc[facilities["item"] == "primary_school", "kind"] = "school"
    with pytest.warns(GeoplanWarning, match="library"):
        amended = gp.life_circles(
            sites,
            facilities,
            requirements={
                "primary_school": {"kinds": ["school"]},
                "library": {
                    "name_zh": "图书馆",
                    "name_en": "library",
                    "lc15": "required",
                    "kinds": ["library"],
                },
                "post_office": {"lc15": ""},
                "kindergarten": {"lc5": "as_needed"},
            },
        )
    assert amended.at[0, "primary_school_m"] == pytest.approx(100)
    assert amended[["lc5_ok", "lc10_ok", "lc15_ok"]].iloc[0].tolist() == [True, True, False]
    assert amended.at[0, "gaps_en"] == "no library within the 15-minute circle (1,000 m)"
    # a whole table replaces the standard's
    table = gb50180_requirements().loc[["bank", "catering"]]
    only = gp.life_circles(sites, _everything_at(100, bank=600), requirements=table)
    assert only[["lc5_ok", "lc10_ok", "lc15_ok"]].iloc[0].tolist() == [True, False, False]
    assert only.filter(regex="_m$").columns.tolist() == ["bank_m", "catering_m"]
    assert only.at[0, "unchecked_zh"] == ""
    nothing = gp.life_circles(
        sites, facilities, requirements=gb50180_requirements().loc[["switching_station"]]
    )
    assert nothing[["lc5_ok", "lc10_ok", "lc15_ok"]].iloc[0].tolist() == [True, True, True]
    assert nothing.at[0, "gaps_zh"] == "" and nothing.at[0, "unchecked_en"].endswith(
        "power switching station"
    )


class _Minutes:
    """Straight-line minutes at 80 m/min: a metric in minutes, for the unit's texts."""

    unit = "min"
    label = "walking time in a straight line"

    def nearest(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries) -> Nearest:
        found = StraightLine().nearest(sites, targets)
        return Nearest(found.distance / 80.0, found.target)

    def within(self, sites: gpd.GeoSeries, targets: gpd.GeoSeries, cutoff: float) -> Pairs:
        found = StraightLine().within(sites, targets, cutoff * 80.0)
        return Pairs(found.site, found.target, found.distance / 80.0)


def test_a_metric_in_minutes_reaches_5_10_and_15_minutes() -> None:
    sites = _sites((0, 0))
    found = gp.life_circles(
        sites, _everything_at(100, kindergarten=440, bank=1240), metric=_Minutes()
    )
    assert found.attrs["life_circles"]["reach"] == {"lc5": 5.0, "lc10": 10.0, "lc15": 15.0}
    assert found.at[0, "kindergarten_min"] == pytest.approx(5.5)
    assert (
        found.at[0, "gaps_zh"]
        == "5分钟生活圈（5分钟）内无幼儿园；15分钟生活圈（15分钟）内无银行营业网点"
    )
    assert found.at[0, "gaps_en"] == (
        "no kindergarten within the 5-minute circle (5 min); no bank branch within the "
        "15-minute circle (15 min)"
    )


def test_absent_kinds_warn_and_inputs_are_not_changed() -> None:
    sites = _sites((0, 0))
    facilities = _everything_at(100, bank=math.inf)
    before_sites, before_facilities = sites.copy(), facilities.copy()
    with pytest.warns(GeoplanWarning, match=r"bank \(银行营业网点: \['bank'\]\).*assessed"):
        gp.life_circles(sites, facilities)
    pd.testing.assert_frame_equal(sites, before_sites)
    pd.testing.assert_frame_equal(facilities, before_facilities)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gp.life_circles(sites, facilities, requirements={"bank": {"assessed": False}})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"levels": {"lc20": 1500}}, r"unknown level\(s\) \['lc20'\]"),
        ({"levels": {"lc5": -1}}, r"levels\['lc5'\] = -1 must be a positive number of 'm'"),
        ({"levels": {"lc10": 200}}, "must grow from the 5- to the 15-minute circle"),
        (
            {"requirements": {"bank": {"asessed": False}}},
            r"requirements\['bank'\].asessed is not a field",
        ),
        ({"requirements": {"bank": {"lc10": "yes"}}}, r"lc10 = 'yes': give '▲'"),
        ({"requirements": {"bank": {"kinds": "bank"}}}, r"kinds = 'bank': give a list"),
        ({"requirements": {"bank": {"assessed": "no"}}}, r"assessed = 'no': give true or false"),
        (
            {"requirements": {"bank": {"kinds": []}}},
            r"\['bank'\] are assessed but name no facility kinds",
        ),
        ({"requirements": {"bank": False}}, r"requirements\['bank'\] = False must be a table"),
        ({"requirements": ["bank"]}, "must be a table of items"),
        ({"requirements": pd.DataFrame({"name_zh": ["x"]})}, r"lacks the column\(s\)"),
        ({"kind_column": "type"}, r"no column 'type'.*'item', 'kind'"),
    ],
)
def test_bad_options_are_clear_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(CriterionError, match=message):
        gp.life_circles(_sites((0, 0)), _everything_at(100), **options)  # type: ignore[arg-type]


def test_layers_must_be_projected() -> None:
    with pytest.raises(CoordinateError, match="projected CRS"):
        gp.life_circles(_sites((0, 0)).to_crs("EPSG:4326"), _everything_at(100).to_crs("EPSG:4326"))


# --------------------------------------------------------------------------- real streets, brute force


def _snap(tree: shapely.STRtree, lines: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Nearest segment of every point, the fraction along it (projected) and the distance."""
    points = shapely.points(xy)
    edge = tree.query_nearest(points, all_matches=False)[1]
    fraction = shapely.line_locate_point(lines[edge], points, normalized=True)
    gap = shapely.distance(lines[edge], points)
    return edge, fraction, gap


def reference_nearest(
    net: StreetNetwork,
    sites: np.ndarray,
    facilities: np.ndarray,
    cutoff: float,
    max_snap_m: float = 500.0,
) -> np.ndarray:
    """(n_sites, n_facilities) walking metres <= cutoff (else inf), by shapely and networkx.

    Each point joins its nearest street segment at its projection (the walk to
    the street counts); a partial segment costs its projected fraction of the
    segment's length; the rest is networkx Dijkstra on the network's graph.
    """
    from geoplan.streets.export import to_networkx

    graph = nx.Graph()
    for u, v, data in to_networkx(net).edges(data=True):
        if not graph.has_edge(u, v) or graph[u][v]["length"] > data["length"]:
            graph.add_edge(u, v, length=data["length"])
    coords = np.column_stack([net.x, net.y])
    lines = shapely.linestrings(np.stack([coords[net.edge_u], coords[net.edge_v]], axis=1))
    tree = shapely.STRtree(lines)
    s_edge, s_frac, s_gap = _snap(tree, lines, sites)
    t_edge, t_frac, t_gap = _snap(tree, lines, facilities)
    length = net.edge_length_m
    ids = net.node_id
    out = np.full((len(sites), len(facilities)), np.inf)
    for i in range(len(sites)):
        if s_gap[i] > max_snap_m:
            continue
        e = s_edge[i]
        starts = {
            ids[net.edge_u[e]]: s_frac[i] * length[e],
            ids[net.edge_v[e]]: (1 - s_frac[i]) * length[e],
        }
        reached = {
            node: nx.single_source_dijkstra_path_length(graph, node, cutoff=cutoff, weight="length")
            for node in starts
        }
        near = np.flatnonzero(
            shapely.distance(shapely.points(sites[i]), shapely.points(facilities)) <= cutoff + 100
        )
        for j in near:
            if t_gap[j] > max_snap_m:
                continue
            f = t_edge[j]
            ends = {
                ids[net.edge_u[f]]: t_frac[j] * length[f],
                ids[net.edge_v[f]]: (1 - t_frac[j]) * length[f],
            }
            best = math.inf
            for a, cost_a in starts.items():
                for b, cost_b in ends.items():
                    if b in reached[a]:
                        best = min(best, cost_a + reached[a][b] + cost_b)
            if f == e:
                best = min(best, abs(s_frac[i] - t_frac[j]) * length[e])
            total = best + s_gap[i] + t_gap[j]
            if total <= cutoff:
                out[i, j] = total
    return out


@pytest.fixture(scope="module")
def andorra() -> Path:
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"real test data not found at {shared} (the team's shared/data folder)")
    return shared / "osm" / "andorra.osm.pbf"


def _compare(
    found: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    distance: np.ndarray,
    sample: np.ndarray,
    checked: pd.DataFrame,
) -> None:
    """Every item's nearest facility, each level's count of missing items and its flag."""
    reach = {"lc5": 300.0, "lc10": 500.0, "lc15": 1000.0}
    ok = np.ones(len(sample), bool)
    for level in LEVELS:
        missing = np.zeros(len(sample), int)
        for item, row in checked.iterrows():
            meets = facilities["kind"].isin(row["kinds"]).to_numpy()
            nearest = distance[:, meets].min(axis=1) if meets.any() else np.inf + 0 * sample
            got = found[f"{item}_m"].to_numpy()[sample]
            np.testing.assert_array_equal(np.isinf(got), np.isinf(nearest), err_msg=item)
            np.testing.assert_allclose(
                got[np.isfinite(got)], nearest[np.isfinite(nearest)], rtol=1e-6
            )
            if row[level] == "▲":
                missing += nearest > reach[level]
        ok &= missing == 0
        np.testing.assert_array_equal(found[f"{level}_missing"].to_numpy()[sample], missing)
        np.testing.assert_array_equal(found[f"{level}_ok"].to_numpy()[sample], ok)


def test_compliance_on_real_streets_equals_a_brute_force_count(andorra: Path) -> None:
    """Andorra: POIs and the walk network from the same file, 300 sites in the towns.  On 40
    of them every item's nearest facility, every level's count of missing items and its flag
    equal those of a brute force (shapely snapping + networkx Dijkstra): with the standard's
    items (those this extract has no data on not checked), and with a few well-mapped ones."""
    pois = gp.read_osm_pois(andorra)
    net = gp.load_network(andorra, mode="walk")
    metric = gp.NetworkMetric(net, unit="m")
    facilities = pois.to_crs(net.crs)
    rng = np.random.default_rng(12)
    anchor = facilities.geometry.iloc[rng.integers(0, len(facilities), 300)]
    angle, radius = rng.uniform(0, 2 * np.pi, 300), 300 * np.sqrt(rng.uniform(0, 1, 300))
    xy = np.column_stack([anchor.x + radius * np.cos(angle), anchor.y + radius * np.sin(angle)])
    sites = gpd.GeoDataFrame({"site": range(300)}, geometry=shapely.points(xy), crs=net.crs)
    sample = rng.choice(300, 40, replace=False)
    distance = reference_nearest(
        net, xy[sample], shapely.get_coordinates(facilities.geometry), 1000.0
    )

    table = gb50180_requirements()
    no_data = {
        item: {"assessed": False}
        for item, kinds in table.loc[table["assessed"], "kinds"].items()
        if facilities["kind"].isin(kinds).sum() < 3
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        standard = gp.life_circles(sites, facilities, metric=metric, requirements=no_data)
    assert not [w for w in caught if "No facility of the kinds" in str(w.message)]
    checked = gb50180_requirements(no_data)
    checked = checked[checked["assessed"] & checked[list(LEVELS)].ne("").any(axis=1)]
    assert len(checked) >= 15
    _compare(standard, facilities, distance, sample, checked)
    assert standard["lc5_missing"].nunique() > 1 and standard["lc15_missing"].nunique() > 3

    few = table.loc[["community_shops", "catering", "bus_stop", "bank"]]
    flags = gp.life_circles(sites, facilities, metric=metric, requirements=few)
    _compare(flags, facilities, distance, sample, few)
    for level in LEVELS:  # the comparison means something: levels met and failed
        assert 0 < flags[f"{level}_ok"].sum() < len(flags), level
        assert 0 < flags[f"{level}_ok"].to_numpy()[sample].sum() < len(sample), level
    assert (flags["gaps_zh"] != "").any() and (flags["gaps_zh"] == "").any()

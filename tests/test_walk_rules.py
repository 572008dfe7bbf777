"""Walking in Chinese cities: access tags, and no pedestrians on expressways and road tunnels.

Each tag rule on a small hand-made file (one way per case), the China rule on
the real Shanghai extract (南北高架路 and 延安高架路, elevated ``trunk`` ways
with ``bridge=yes``; 延安东路隧道 and 外滩隧道, road tunnels), where it
applies ("in China"), and the study-file key.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan._errors import NetworkError, StudyError
from geoplan.streets._walk_rules import CHINA_OUTLINE, in_china
from geoplan.streets.network import load_network
from geoplan.streets.osm import read_osm
from geoplan.streets.routing import NetworkMetric
from geoplan.study.files import study_from_dict

CHANGZHOU = (119.97, 31.81)
BERLIN = (13.40, 52.52)

# way id -> (tags, walked with China's rule, walked with OSM's)
CASES: dict[int, tuple[dict[str, str], bool, bool]] = {
    1: ({"highway": "residential"}, True, True),
    2: ({"highway": "trunk", "bridge": "yes"}, False, True),
    3: ({"highway": "trunk_link", "bridge": "viaduct"}, False, True),
    4: ({"highway": "primary", "layer": "1"}, False, True),
    5: ({"highway": "primary", "tunnel": "yes"}, False, True),
    6: ({"highway": "secondary", "tunnel": "yes"}, False, True),
    7: ({"highway": "motorway_link", "bridge": "yes", "foot": "yes"}, False, False),  # osmnx
    8: ({"highway": "trunk", "bridge": "yes", "sidewalk": "both"}, True, True),
    9: ({"highway": "trunk", "bridge": "yes", "sidewalk:left": "yes"}, True, True),
    10: ({"highway": "primary", "bridge": "yes", "footway": "right"}, True, True),
    11: ({"highway": "trunk", "tunnel": "yes", "foot": "designated"}, True, True),
    12: ({"highway": "primary", "bridge": "no", "layer": "0"}, True, True),
    13: ({"highway": "primary", "layer": "-1"}, True, True),
    14: ({"highway": "primary", "tunnel": "building_passage"}, True, True),
    15: ({"highway": "secondary", "bridge": "yes"}, True, True),  # river bridges: walked
    16: ({"highway": "tertiary", "tunnel": "yes"}, True, True),
    17: ({"highway": "trunk", "bridge": "yes", "sidewalk": "no"}, False, True),
    18: ({"highway": "trunk", "motorroad": "yes"}, False, False),
    19: ({"highway": "trunk", "motorroad": "yes", "foot": "permissive"}, True, True),
    20: ({"highway": "residential", "access": "no"}, False, False),
    21: ({"highway": "residential", "access": "no", "foot": "yes"}, True, True),
    22: ({"highway": "service", "access": "private", "foot": "designated"}, True, True),
    23: ({"highway": "residential", "access": "private"}, False, False),
    24: ({"highway": "residential", "foot": "no"}, False, False),
    25: ({"highway": "primary", "layer": "one"}, True, True),  # unreadable layer: ground
    26: ({"highway": "trunk"}, True, True),  # at ground level
}


def tagged_ways(path: Path, origin: tuple[float, float]) -> Path:
    """One 100 m way per case, side by side (not joined), near ``origin``."""
    lon0, lat0 = origin
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for way in CASES:
        lon = lon0 + way * 0.001
        for end, lat in ((0, lat0), (1, lat0 + 0.0009)):
            lines.append(f'  <node id="{2 * way + end}" version="1" lat="{lat}" lon="{lon}"/>')
    for way, (tags, _, _) in CASES.items():
        lines.append(f'  <way id="{way}" version="1">')
        lines.append(f'    <nd ref="{2 * way}"/>\n    <nd ref="{2 * way + 1}"/>')
        lines.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def walked(path: Path, **options: object) -> set[int]:
    return set(read_osm(path, mode="walk", **options).edge_way_id.tolist())  # type: ignore[arg-type]


def test_each_tag_rule(tmp_path: Path) -> None:
    china = {w for w, (_, yes, _) in CASES.items() if yes}
    osm = {w for w, (_, _, yes) in CASES.items() if yes}
    in_cn = tagged_ways(tmp_path / "changzhou.osm", CHANGZHOU)
    in_de = tagged_ways(tmp_path / "berlin.osm", BERLIN)
    for path in (in_cn, in_de):
        assert walked(path, walk_rules="china") == china
        assert walked(path, walk_rules="osm") == osm
    assert walked(in_cn) == china  # "auto": in China, China's rule
    assert walked(in_de) == osm
    # "auto" decides by the clipping area's centre where there is one
    assert walked(in_de, area=shapely.box(13.0, 31.0, 180.0, 53.0)) == china  # centre 96.5 E
    assert walked(in_cn, area=shapely.box(13.0, 31.0, 40.0, 53.0).union(
        shapely.box(119.0, 31.0, 121.0, 33.0))) == osm  # fmt: skip
    # driving and cycling do not change
    for mode in ("drive", "bike"):
        streets = {
            rules: set(read_osm(in_cn, mode=mode, walk_rules=rules).edge_way_id.tolist())
            for rules in ("china", "osm")
        }
        assert streets["china"] == streets["osm"]
    assert {2, 3, 4, 5, 6, 17, 20} <= set(read_osm(in_cn, mode="drive").edge_way_id.tolist())


def test_bad_walk_rules(tmp_path: Path) -> None:
    path = tagged_ways(tmp_path / "changzhou.osm", CHANGZHOU)
    with pytest.raises(NetworkError, match=r"Unknown walk_rules 'chinese': use 'auto'"):
        read_osm(path, walk_rules="chinese")
    with pytest.raises(NetworkError, match=r"Unknown walk_rules None"):
        load_network(path, walk_rules=None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the real extract

STRUCTURES = ("南北高架路", "延安高架路", "延安东路隧道", "外滩隧道")


def structure_ways(path: Path) -> tuple[dict[int, str], set[int]]:
    """Names of the file's streets, and the ways of STRUCTURES tagged as bridges or tunnels
    (their open-cut approaches have no such tag, and stay walked: nothing says what they are)."""
    import osmium

    names, tagged = {}, set()
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if "highway" in way.tags:
            names[way.id] = way.tags.get("name", "")
            if names[way.id] in STRUCTURES and ("bridge" in way.tags or "tunnel" in way.tags):
                tagged.add(way.id)
    return names, tagged


def test_shanghai_expressways_and_tunnels_carry_no_pedestrians(
    shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = shared_data / "shanghai_jingan_drive.osm"
    names, tagged = structure_ways(path)
    with caplog.at_level(logging.INFO, logger="geoplan.streets.osm"):
        china = load_network(path, mode="walk")  # "auto": Shanghai is in China
    assert "is in China, so walk_rules='china'" in caplog.text
    assert "walk_rules='china': 91 ways (19.4 km) of elevated roads" in caplog.text
    osm = load_network(path, mode="walk", walk_rules="osm")
    for net, expected_km in ((china, 0.0), (osm, 9.8)):
        on = np.isin(net.edge_way_id, list(tagged))
        assert net.edge_length_m[on].sum() / 1000 == pytest.approx(expected_km, abs=0.05)
    # also left out: 8.3 km of ramps (trunk_link, bridge=yes) and 1.3 km of
    # secondary river tunnels (人民路隧道, 复兴东路), walked by OSM's defaults
    assert osm.edge_length_m.sum() / 1000 == pytest.approx(84.2, abs=0.05)
    assert china.edge_length_m.sum() / 1000 == pytest.approx(64.8, abs=0.05)
    # points on the expressways' centre lines walk from the streets below
    elevated = np.nonzero(np.isin(osm.edge_way_id, list(tagged)))[0]
    mid = np.column_stack(
        [
            (osm.x[osm.edge_u[elevated]] + osm.x[osm.edge_v[elevated]]) / 2,
            (osm.y[osm.edge_u[elevated]] + osm.y[osm.edge_v[elevated]]) / 2,
        ]
    )
    points = gpd.GeoSeries(shapely.points(mid), crs=osm.crs)
    snapped = NetworkMetric(china).snap(points.to_crs(china.crs))
    assert not np.isin(china.edge_way_id[snapped["edge"]], list(tagged)).any()
    assert (NetworkMetric(osm).snap(points)["snap_m"] < 1e-6).all()
    assert {names[int(w)] for w in osm.edge_way_id[elevated]} == set(STRUCTURES)
    # driving keeps them (the river tunnels lead out of the extract, so they are not in
    # its largest strongly connected part)
    assert tagged <= set(read_osm(path, mode="drive").edge_way_id.tolist())


# --------------------------------------------------------------------------- in China?

INSIDE = {
    "Beijing": (116.40, 39.90), "Shanghai": (121.47, 31.23), "Changzhou": (119.97, 31.81),
    "Guangzhou": (113.26, 23.13), "Shenzhen": (114.06, 22.54), "Hong Kong": (114.17, 22.32),
    "Haikou": (110.33, 20.03), "Sanya": (109.51, 18.25), "Kunming": (102.83, 24.88),
    "Urumqi": (87.62, 43.83), "Kashgar": (75.99, 39.47), "Lhasa": (91.11, 29.65),
    "Harbin": (126.63, 45.75), "Mohe": (122.54, 52.97), "Hunchun": (130.37, 42.87),
    "Dalian": (121.61, 38.91), "Qingdao": (120.38, 36.07), "Xiamen": (118.09, 24.48),
    "Nanning": (108.37, 22.82), "Ruili": (97.85, 24.01), "Erenhot": (111.98, 43.65),
}  # fmt: skip
OUTSIDE = {
    "Seoul": (126.98, 37.57), "Pyongyang": (125.75, 39.03), "Busan": (129.08, 35.18),
    "Tokyo": (139.69, 35.69), "Fukuoka": (130.40, 33.59), "Taipei": (121.56, 25.03),
    "Kaohsiung": (120.30, 22.63), "Hanoi": (105.85, 21.03), "Hai Phong": (106.68, 20.86),
    "Ulaanbaatar": (106.92, 47.92), "Vladivostok": (131.89, 43.12), "Khabarovsk": (135.07, 48.48),
    "Almaty": (76.89, 43.24), "Kathmandu": (85.32, 27.72), "Thimphu": (89.64, 27.47),
    "Myitkyina": (97.40, 25.38), "Vientiane": (102.63, 17.97), "Manila": (120.98, 14.60),
    "Chongjin": (129.78, 41.80), "Islamabad": (73.05, 33.68), "Berlin": BERLIN,
}  # fmt: skip


def test_in_china() -> None:
    assert [c for c, (x, y) in INSIDE.items() if not in_china(x, y)] == []
    assert [c for c, (x, y) in OUTSIDE.items() if in_china(x, y)] == []
    assert not in_china(math.nan, math.nan)


def test_china_outline_against_natural_earth() -> None:
    """The outline holds nearly all of China and little of any neighbour, measured
    on Natural Earth's 1:110m countries (shipped with pyogrio's tests)."""
    import pyogrio

    path = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres"
    if not (path / "naturalearth_lowres.shp").is_file():
        pytest.skip("pyogrio does not ship Natural Earth's countries in this installation")
    countries = gpd.read_file(path / "naturalearth_lowres.shp").set_index("name").geometry
    outline = shapely.Polygon(CHINA_OUTLINE)
    assert outline.is_valid
    assert outline.intersection(countries["China"]).area / countries["China"].area > 0.98
    for name in ("Mongolia", "North Korea", "South Korea", "Japan", "Taiwan", "Vietnam", "Laos",
                 "Myanmar", "India", "Nepal", "Bhutan", "Kazakhstan", "Kyrgyzstan", "Tajikistan",
                 "Pakistan", "Afghanistan", "Russia", "Philippines", "Bangladesh"):  # fmt: skip
        share = outline.intersection(countries[name]).area / countries[name].area
        assert share < 0.04, name


# --------------------------------------------------------------------------- study files


def test_study_key_is_checked(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text("name,lon,lat\nA,119.97,31.81\n", encoding="utf-8")
    raw = {
        "study": {"title": "t"},
        "layers": {"candidates": {"path": "sites.csv"}, "stations": {"path": "sites.csv"}},
        "criteria": [
            {
                "name": "walk",
                "kind": "nearest_distance",
                "layer": "stations",
                "metric": "network",
                "mode": "walk",
                "decay": {"kind": "linear", "lower": 0, "upper": 1000, "direction": "lower"},
            }
        ],
        "network": {"source": "city.osm.pbf", "walk_rules": "mainland"},
    }
    with pytest.raises(StudyError, match=r"network.walk_rules = 'mainland'; use \"auto\""):
        study_from_dict(raw, folder=tmp_path)
    for value in ("auto", "china", "osm"):
        raw["network"]["walk_rules"] = value  # type: ignore[index]
        assert study_from_dict(raw, folder=tmp_path).network["walk_rules"] == value

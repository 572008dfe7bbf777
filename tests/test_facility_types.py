"""Facility kinds from OpenStreetMap tags and Amap/Baidu POI types, on hand-made POIs.

Each case is a POI as its source publishes it (OSM tags, an Amap export row
with typecode and type text, a Baidu row with its tag) and the kind a planner
would give it; the names follow the sources' published classifications.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoplan as gp
from geoplan._errors import CriterionError
from geoplan.indicators.facility_types import (
    AMAP_CODES,
    AMAP_TYPES,
    BAIDU_TYPES,
    KINDS,
    NAME_RULES,
    OSM_RULES,
    amap_kinds,
    baidu_kinds,
    osm_kinds,
)

OSM_CASES: list[tuple[dict[str, str], str | None]] = [
    ({"amenity": "school"}, "school"),
    ({"amenity": "school", "isced:level": "1"}, "primary_school"),
    ({"amenity": "school", "isced:level": "2"}, "junior_high_school"),
    ({"amenity": "school", "isced:level": "3"}, "senior_high_school"),
    ({"amenity": "school", "isced:level": "1;2"}, "nine_year_school"),
    ({"amenity": "school", "isced:level": "1-2"}, "nine_year_school"),
    ({"amenity": "school", "isced:level": "2;3"}, "junior_high_school"),
    ({"amenity": "school", "name": "常州市局前街小学"}, "primary_school"),
    ({"amenity": "school", "name": "常州市第二十四中学"}, "secondary_school"),
    ({"amenity": "school", "name": "常州市清潭中学初中部"}, "junior_high_school"),
    ({"amenity": "school", "name": "江苏省常州高级中学"}, "senior_high_school"),
    ({"amenity": "school", "name": "常州外国语学校（九年一贯制）"}, "nine_year_school"),
    ({"amenity": "school", "name:zh": "红梅小学", "name": "Hongmei Primary"}, "primary_school"),
    ({"amenity": "kindergarten", "name": "红梅幼儿园"}, "kindergarten"),
    ({"amenity": "childcare"}, "nursery"),
    ({"amenity": "university"}, "university"),
    ({"amenity": "hospital"}, "hospital"),
    ({"healthcare": "hospital"}, "hospital"),
    ({"amenity": "clinic", "name": "红梅街道社区卫生服务中心"}, "community_health_centre"),
    ({"amenity": "doctors", "name": "青龙社区卫生服务站"}, "community_health_station"),
    ({"amenity": "clinic"}, "clinic"),
    ({"amenity": "pharmacy"}, "pharmacy"),
    ({"amenity": "social_facility", "social_facility": "nursing_home"}, "nursing_home"),
    (
        {
            "amenity": "social_facility",
            "social_facility": "day_care",
            "social_facility:for": "senior",
        },
        "elderly_day_care",
    ),
    ({"amenity": "social_facility", "social_facility": "day_care"}, "welfare"),
    ({"amenity": "social_facility", "name": "天宁区敬老院"}, "nursing_home"),
    ({"amenity": "community_centre"}, "community_centre"),
    ({"amenity": "community_centre", "name": "兰陵街道文化活动中心"}, "culture_centre"),
    ({"amenity": "community_centre", "name": "丽华新村居委会"}, "community_service_station"),
    ({"amenity": "police", "name": "红梅派出所"}, "police"),
    ({"office": "government", "name": "红梅派出所"}, "police"),
    ({"leisure": "stadium"}, "sports_centre"),
    ({"leisure": "pitch", "sport": "basketball"}, "pitch"),
    ({"leisure": "fitness_station"}, "fitness_station"),
    ({"shop": "mall"}, "shopping_centre"),
    ({"shop": "department_store"}, "shopping_centre"),
    ({"shop": "supermarket"}, "supermarket"),
    ({"shop": "supermarket", "name": "红梅生鲜超市"}, "fresh_market"),
    ({"amenity": "marketplace"}, "fresh_market"),
    ({"shop": "convenience"}, "convenience"),
    ({"amenity": "restaurant", "name": "菜市场小馆"}, "restaurant"),
    ({"amenity": "cafe"}, "restaurant"),
    ({"amenity": "bank"}, "bank"),
    ({"office": "telecommunication"}, "telecom_office"),
    ({"amenity": "post_office"}, "post_office"),
    ({"amenity": "toilets"}, "toilets"),
    ({"highway": "bus_stop"}, "bus_stop"),
    ({"public_transport": "platform", "bus": "yes"}, "bus_stop"),
    ({"public_transport": "platform", "train": "yes"}, None),
    ({"amenity": "bus_station"}, "bus_station"),
    ({"railway": "station", "station": "subway"}, "metro_station"),
    ({"railway": "station", "subway": "yes"}, "metro_station"),
    ({"railway": "subway_entrance"}, "metro_station"),
    ({"railway": "station"}, "rail_station"),
    ({"amenity": "parking"}, "car_parking"),
    ({"amenity": "bench"}, None),
    ({"highway": "residential"}, None),
    ({}, None),
]


@pytest.mark.parametrize(("tags", "kind"), OSM_CASES, ids=[str(t) for t, _ in OSM_CASES])
def test_osm_tags(tags: dict[str, str], kind: str | None) -> None:
    frame = pd.DataFrame([{**tags, "geometry": shapely.Point(0, 0)}])
    if not any(rule.key in frame.columns for rule in OSM_RULES):
        frame["amenity"] = None
    found = gp.classify_pois(frame, source="osm")
    assert found["kind"].iloc[0] == kind


def test_osm_frames_are_classified_at_once_and_not_changed() -> None:
    tags = pd.DataFrame([t for t, _ in OSM_CASES if t])
    before = tags.copy()
    found = gp.classify_pois(tags, source="osm", kind_column="facility")
    assert found["facility"].tolist() == [k for t, k in OSM_CASES if t]
    pd.testing.assert_frame_equal(tags, before)
    assert osm_kinds(tags.drop(columns=["name", "name:zh"])).notna().sum() > 40


AMAP_ROWS = [
    # (typecode, type, name, kind)
    ("141203", "科教文化服务;学校;小学", "常州市局前街小学", "primary_school"),
    (141204, "科教文化服务;学校;幼儿园", "红梅幼儿园", "kindergarten"),
    ("141202", "科教文化服务;学校;中学", "常州市清潭中学", "secondary_school"),
    ("141202", "科教文化服务;学校;中学", "常州市北郊初级中学", "junior_high_school"),
    ("141202", "科教文化服务;学校;中学", "江苏省常州高级中学", "senior_high_school"),
    ("141200", "科教文化服务;学校;学校", "常州市实验小学", "primary_school"),
    ("050100", "餐饮服务;中餐厅;中餐厅", "老常州菜馆", "restaurant"),
    (50119, "餐饮服务;中餐厅;海鲜酒楼", "", "restaurant"),
    ("060101", "购物服务;商场;购物中心", "常州购物中心", "shopping_centre"),
    ("060200", "购物服务;便民商店/便利店;便民商店/便利店", "7-ELEVEn", "convenience"),
    (
        "060703|060706",
        "购物服务;综合市场;农副产品市场|购物服务;综合市场;水产海鲜市场",
        "花园农贸市场",
        "fresh_market",
    ),
    ("070603", "生活服务;电讯营业厅;中国移动营业厅", "中国移动(南大街营业厅)", "telecom_office"),
    ("070604", "生活服务;电讯营业厅;中国联通营业厅", "", "telecom_office"),
    ("090100", "医疗保健服务;综合医院;综合医院", "常州市第一人民医院", "hospital"),
    ("090300", "医疗保健服务;诊所;诊所", "红梅街道社区卫生服务中心", "community_health_centre"),
    (
        "090000",
        "医疗保健服务;医疗保健服务场所;医疗保健服务场所",
        "奔牛镇中心卫生院",
        "community_health_centre",
    ),
    ("090000", "医疗保健服务;医疗保健服务场所;医疗保健服务场所", "某健康咨询", "health_facility"),
    (
        "130100",
        "政府机构及社会团体;政府机关;政府机关相关",
        "丽华二村社区居民委员会",
        "community_service_station",
    ),
    ("130100", "政府机构及社会团体;政府机关;政府机关相关", "红梅派出所", "police"),
    ("150700", "交通设施服务;公交车站;公交车站相关", "博爱路(公交站)", "bus_stop"),
    ("150904", "交通设施服务;停车场;公共停车场", "", "car_parking"),
    ("160106", "金融保险服务;银行;中国建设银行", "中国建设银行(常州分行)", "bank"),
    ("200300", "公共设施;公共厕所;公共厕所", "公共厕所", "toilets"),
    ("110101", "风景名胜;公园广场;公园", "红梅公园", "park"),
    ("110105", "风景名胜;公园广场;城市广场", "文化宫广场", None),
    ("100100", "住宿服务;宾馆酒店;宾馆酒店", "某酒店", None),
]


def test_amap_rows_by_typecode_type_text_and_name() -> None:
    rows = pd.DataFrame(AMAP_ROWS, columns=["typecode", "type", "name", "expected"])
    found = gp.classify_pois(rows.drop(columns="expected"), source="amap")
    assert found["kind"].tolist() == [row[-1] for row in AMAP_ROWS]
    # codes alone and texts alone give the same kinds, before names refine them
    by_code = amap_kinds(rows["typecode"])
    by_text = amap_kinds(types=rows["type"])
    same = by_code.notna() & by_text.notna()
    assert (by_code[same] == by_text[same]).all() and same.sum() >= 20


def test_amap_code_table_is_consistent() -> None:
    assert all(len(code) == 6 and code.isdigit() for code in AMAP_CODES)
    assert set(AMAP_CODES.values()) <= set(KINDS)
    assert set(AMAP_TYPES.values()) - {""} <= set(KINDS)
    assert set(BAIDU_TYPES.values()) <= set(KINDS)
    assert {rule.kind for rule in OSM_RULES} <= set(KINDS)
    assert {rule.kind for rule in NAME_RULES} <= set(KINDS)


BAIDU_ROWS = [
    ("教育培训;小学", "常州市局前街小学", "primary_school"),
    ("教育培训;中学", "常州市北郊初级中学", "junior_high_school"),
    ("教育培训;幼儿园", "红梅幼儿园", "kindergarten"),
    ("美食;中餐厅", "银丝面馆", "restaurant"),
    ("购物;超市", "永辉超市", "supermarket"),
    ("购物;市场", "花园菜市场", "fresh_market"),
    ("购物;市场", "湖塘纺织城", "market"),
    ("金融;银行", "中国银行", "bank"),
    ("生活服务;邮局", "中国邮政", "post_office"),
    ("生活服务;通讯营业厅", "中国电信", "telecom_office"),
    ("医疗;综合医院", "常州市第二人民医院", "hospital"),
    ("医疗;诊所,医疗;药店", "某诊所", "clinic"),
    ("政府机构;居民委员会", "丽华新村居委会", "community_service_station"),
    ("政府机构;福利机构", "天宁区养老院", "nursing_home"),
    ("政府机构;公检法机构", "红梅派出所", "police"),
    ("交通设施;公交车站", "博爱路", "bus_stop"),
    ("交通设施;地铁站", "文化宫", "metro_station"),
    ("房地产;住宅区", "某小区", None),
]


def test_baidu_rows_by_tag_and_name() -> None:
    rows = pd.DataFrame(BAIDU_ROWS, columns=["tag", "name", "expected"])
    found = gp.classify_pois(rows.drop(columns="expected"), source="baidu")
    assert found["kind"].tolist() == [row[-1] for row in BAIDU_ROWS]
    assert baidu_kinds(rows["tag"]).iloc[0] == "primary_school"


def test_a_baidu_export_in_bd09_is_converted_and_classified(tmp_path: Path) -> None:
    """Baidu's BD-09 coordinates are converted on reading; then the tags give the kinds."""
    lon = np.array([119.9745, 119.9801, 119.9632])
    lat = np.array([31.7795, 31.7822, 31.7701])
    bd_lon, bd_lat = gp.wgs84_to_bd09(lon, lat)
    path = tmp_path / "baidu_pois.csv"
    pd.DataFrame(
        {
            "name": ["局前街小学", "花园菜市场", "中国银行"],
            "tag": ["教育培训;小学", "购物;市场", "金融;银行"],
            "lng": bd_lon,
            "lat": bd_lat,
        }
    ).to_csv(path, index=False)
    layer = gp.read_layer(path, crs="bd09")
    found = gp.classify_pois(layer, source="baidu")
    assert isinstance(found, gpd.GeoDataFrame) and found.crs == "EPSG:4326"
    assert found["kind"].tolist() == ["primary_school", "fresh_market", "bank"]
    np.testing.assert_allclose(found.geometry.x, lon, atol=1e-7)
    np.testing.assert_allclose(found.geometry.y, lat, atol=1e-7)


@pytest.mark.parametrize(
    ("frame", "source", "message"),
    [
        (pd.DataFrame({"name": ["x"]}), "amap", "neither a typecode column"),
        (pd.DataFrame({"name": ["x"]}), "baidu", "no tag column"),
        (pd.DataFrame({"name": ["x"]}), "osm", "none of the OSM tag columns"),
        (pd.DataFrame({"name": ["x"]}), "gaode", "Unknown POI source 'gaode'"),
    ],
)
def test_bad_tables_are_clear_errors(frame: pd.DataFrame, source: str, message: str) -> None:
    with pytest.raises(CriterionError, match=message):
        gp.classify_pois(frame, source=source)
    with pytest.raises(CriterionError, match="no column 'code'"):
        gp.classify_pois(frame, source="amap", code_column="code")

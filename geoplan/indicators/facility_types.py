"""Facility kinds: what a point of interest is, from OpenStreetMap tags or Amap/Baidu POI types.

Life circles (:mod:`geoplan.indicators.life_circles`) ask which *kinds* of
facility lie within reach; the standard's items say which kinds meet them
(``kinds`` in ``gb50180_2018.toml``).  This module turns a POI's source
classification into one kind of :data:`KINDS`, in three documented steps:

1. **The source's classification** (tables below, tested on hand-made POIs):

   * OpenStreetMap: :data:`OSM_RULES`, in order, the first that matches
     wins: ``amenity=school`` -> ``school``, ``shop=supermarket`` ->
     ``supermarket``, ``highway=bus_stop`` -> ``bus_stop``,
     ``railway=station`` with ``station=subway`` -> ``metro_station`` ...
     A school's level comes from ``isced:level`` (``1`` primary, ``2``
     junior high, ``3`` senior high; ``1;2`` a nine-year school).
   * Amap (高德) exports: the ``typecode`` (6 digits, several joined by
     ``|``) in :data:`AMAP_CODES` (the exact code, else its first 4 digits,
     else its first 2: ``141203`` 小学 -> ``primary_school``, ``1507xx``
     公交车站 -> ``bus_stop``, ``05xxxx`` 餐饮服务 -> ``restaurant``), else the
     ``type`` text (``科教文化服务;学校;小学``: 大类;中类;小类) in
     :data:`AMAP_TYPES`.  Amap's published classification is its "POI 分类编码"
     table (lbs.amap.com, ``amap_poicode.xlsx``); the codes here were checked
     against real Amap search responses, except those marked "table only".
   * Baidu (百度) exports: the ``tag`` text of Baidu's industry
     classification (行业分类, 一级;二级: ``教育培训;小学``, ``金融;银行``) in
     :data:`BAIDU_TYPES`.

2. **The name**, for what types cannot say (:data:`NAME_RULES`): a
   ``school`` or ``secondary_school`` named 小学 / 初级中学 / 高级中学 /
   九年一贯制 gets that level; a generic health, government or unknown POI
   named 社区卫生服务中心, 养老院, 日间照料, 居委会, 菜市场, 派出所 ...
   gets that kind.  A rule refines only the kinds it lists, so a restaurant
   named "菜市场小馆" stays a restaurant.

3. Nothing else: a POI no rule matches has no kind (missing) and counts for
   no item.  A ``secondary_school`` (中学 of unstated level) counts as a junior
   high school, since most Chinese 中学 teach the junior years; a ``school``
   of unknown level counts for nothing.

Names are only matched against these fixed patterns; nothing read from a file
is ever evaluated.  Coordinates are not touched here: read Amap exports with
``gp.read_layer(path, crs="gcj02")`` and Baidu exports with ``crs="bd09"``
first (converted to WGS-84).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import CriterionError
from geoplan.streets.osm_pois import read_osm_features

__all__ = [
    "AMAP_CODES",
    "AMAP_TYPES",
    "BAIDU_TYPES",
    "KINDS",
    "NAME_RULES",
    "OSM_KEYS",
    "OSM_RULES",
    "SOURCES",
    "NameRule",
    "OsmRule",
    "amap_kinds",
    "baidu_kinds",
    "classify_pois",
    "osm_kinds",
    "read_osm_pois",
    "refine_by_name",
]

Frame = TypeVar("Frame", bound=pd.DataFrame)

SOURCES: Final = ("osm", "amap", "baidu")
"""Sources :func:`classify_pois` knows."""

KINDS: Final[Mapping[str, tuple[str, str]]] = {
    # education
    "nursery": ("托儿所", "nursery (under three)"),
    "kindergarten": ("幼儿园", "kindergarten"),
    "primary_school": ("小学", "primary school"),
    "junior_high_school": ("初级中学", "junior high school"),
    "secondary_school": ("中学（学段未注明）", "secondary school (level not stated)"),
    "senior_high_school": ("高级中学", "senior high school"),
    "nine_year_school": ("九年一贯制学校", "nine-year school (primary and junior high)"),
    "school": ("学校（学段未知）", "school (level unknown)"),
    "university": ("高等院校", "university or college"),
    # health and care
    "hospital": ("医院", "hospital"),
    "community_health_centre": ("社区卫生服务中心", "community health service centre"),
    "community_health_station": ("社区卫生服务站", "community health service station"),
    "clinic": ("诊所、门诊部", "clinic"),
    "doctors": ("医生诊室", "doctor's practice"),
    "pharmacy": ("药店", "pharmacy"),
    "health_facility": ("医疗保健场所（未分类）", "health facility (unclassified)"),
    "nursing_home": ("养老院", "home for the elderly"),
    "elderly_day_care": ("老年人日间照料中心", "day-care centre for the elderly"),
    "welfare": ("福利机构（未分类）", "welfare institution (unclassified)"),
    # community and public services
    "community_centre": ("社区活动场所", "community centre"),
    "culture_centre": ("文化活动中心", "cultural activity centre"),
    "culture_station": ("文化活动站", "cultural activity station"),
    "community_service_centre": ("社区服务中心", "community service centre"),
    "community_service_station": ("社区服务站、居委会", "community service station"),
    "government": ("政府机关（未分类）", "government office (unclassified)"),
    "police": ("派出所", "police station"),
    "fire_station": ("消防站", "fire station"),
    # sport
    "sports_centre": ("体育馆、全民健身中心", "sports centre or stadium"),
    "pitch": ("运动场地", "sports pitch or court"),
    "fitness_centre": ("健身房", "gym"),
    "fitness_station": ("室外健身场地", "outdoor fitness station"),
    "park": ("公园", "park"),
    # shops and services
    "shopping_centre": ("商场", "shopping centre or department store"),
    "supermarket": ("超市", "supermarket"),
    "fresh_market": ("菜市场", "food market"),
    "market": ("市场（未分类）", "market (unclassified)"),
    "convenience": ("便利店", "convenience store"),
    "restaurant": ("餐饮", "restaurant, café or other catering"),
    "bank": ("银行", "bank"),
    "telecom_office": ("电信营业厅", "telecom service office"),
    "post_office": ("邮局", "post office"),
    "laundry": ("洗衣店", "laundry"),
    "hairdresser": ("美发店", "hairdresser"),
    # utilities
    "toilets": ("公共厕所", "public toilet"),
    "recycling": ("再生资源回收点", "recycling point"),
    "waste_transfer_station": ("垃圾转运站", "waste transfer station"),
    # transport
    "bus_stop": ("公交车站", "bus stop"),
    "bus_station": ("公交首末站", "bus station"),
    "metro_station": ("轨道交通站点", "metro or light-rail station"),
    "rail_station": ("铁路车站", "railway station"),
    "car_parking": ("机动车停车场", "car park"),
    "bicycle_parking": ("非机动车停车场", "bicycle parking"),
}
"""Every facility kind: its Chinese and English name."""


@dataclass(frozen=True)
class OsmRule:
    """``key`` has one of ``values`` (and every ``also`` key one of its values): ``kind``."""

    key: str
    values: frozenset[str]
    kind: str
    also: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _rule(key: str, values: str, kind: str, **also: str) -> OsmRule:
    return OsmRule(
        key,
        frozenset(values.split()),
        kind,
        {k.replace("__", ":"): frozenset(v.split()) for k, v in also.items()},
    )


OSM_RULES: Final[tuple[OsmRule, ...]] = (
    _rule("amenity", "kindergarten", "kindergarten"),
    _rule("amenity", "childcare", "nursery"),
    _rule("amenity", "school", "school"),  # its level: isced:level, then the name
    _rule("amenity", "university college", "university"),
    _rule("amenity", "hospital", "hospital"),
    _rule("healthcare", "hospital", "hospital"),
    _rule("amenity", "clinic", "clinic"),
    _rule("healthcare", "clinic centre", "clinic"),
    _rule("amenity", "doctors", "doctors"),
    _rule("healthcare", "doctor", "doctors"),
    _rule("amenity", "pharmacy", "pharmacy"),
    _rule("healthcare", "pharmacy", "pharmacy"),
    _rule("amenity", "nursing_home", "nursing_home"),
    _rule("social_facility", "nursing_home assisted_living", "nursing_home"),
    _rule(
        "social_facility", "day_care outreach", "elderly_day_care", social_facility__for="senior"
    ),
    _rule("amenity", "social_facility", "welfare"),
    _rule("amenity", "community_centre", "community_centre"),
    _rule("amenity", "arts_centre", "culture_centre"),
    _rule("amenity", "townhall", "government"),
    _rule("office", "government", "government"),
    _rule("amenity", "police", "police"),
    _rule("amenity", "fire_station", "fire_station"),
    _rule("leisure", "sports_centre stadium", "sports_centre"),
    _rule("leisure", "pitch", "pitch"),
    _rule("leisure", "fitness_centre", "fitness_centre"),
    _rule("leisure", "fitness_station", "fitness_station"),
    _rule("leisure", "park", "park"),
    _rule("shop", "mall department_store", "shopping_centre"),
    _rule("shop", "supermarket", "supermarket"),
    _rule("amenity", "marketplace", "fresh_market"),
    _rule("shop", "greengrocer", "fresh_market"),
    _rule("shop", "convenience", "convenience"),
    _rule("amenity", "restaurant fast_food food_court cafe", "restaurant"),
    _rule("amenity", "bank", "bank"),
    _rule("office", "telecommunication", "telecom_office"),
    _rule("shop", "telecommunication", "telecom_office"),
    _rule("amenity", "post_office", "post_office"),
    _rule("shop", "laundry dry_cleaning", "laundry"),
    _rule("shop", "hairdresser", "hairdresser"),
    _rule("amenity", "toilets", "toilets"),
    _rule("amenity", "recycling", "recycling"),
    _rule("amenity", "waste_transfer_station", "waste_transfer_station"),
    _rule("highway", "bus_stop", "bus_stop"),
    _rule("public_transport", "platform", "bus_stop", bus="yes"),
    _rule("amenity", "bus_station", "bus_station"),
    _rule("railway", "station halt", "metro_station", station="subway light_rail"),
    _rule("railway", "station halt", "metro_station", subway="yes"),
    _rule("railway", "station halt", "metro_station", light_rail="yes"),
    _rule("railway", "subway_entrance", "metro_station"),
    _rule("railway", "station halt", "rail_station"),
    _rule("amenity", "parking", "car_parking"),
    _rule("amenity", "bicycle_parking", "bicycle_parking"),
)
"""OpenStreetMap tags -> kind, in order (the first rule that matches wins)."""

OSM_KEYS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        [r.key for r in OSM_RULES]
        + [k for r in OSM_RULES for k in r.also]
        + ["isced:level", "name", "name:zh"]
    )
)
"""The OSM keys the rules read (a POI reader keeps these tags)."""

# Amap typecodes: the exact code, else its first 4 digits + "00", else its first 2 + "0000".
AMAP_CODES: Final[Mapping[str, str]] = {
    "050000": "restaurant",  # 餐饮服务 (the whole class 05xxxx)
    "060100": "shopping_centre",  # 购物服务;商场 (060101 购物中心 ...)
    "060200": "convenience",  # 购物服务;便民商店/便利店
    "060400": "supermarket",  # 购物服务;超级市场 (table only)
    "060700": "market",  # 购物服务;综合市场
    "060703": "fresh_market",  # 综合市场;农副产品市场
    "060706": "fresh_market",  # 综合市场;水产海鲜市场
    "070400": "post_office",  # 生活服务;邮局 (table only)
    "070600": "telecom_office",  # 生活服务;电讯营业厅 (070603 中国移动, 070604 中国联通 ...)
    "080101": "sports_centre",  # 体育休闲服务;运动场馆;综合体育馆
    "090000": "health_facility",  # 医疗保健服务 (unclassified; the name may tell)
    "090100": "hospital",  # 医疗保健服务;综合医院
    "090300": "clinic",  # 医疗保健服务;诊所
    "110101": "park",  # 风景名胜;公园广场;公园
    "130100": "government",  # 政府机构及社会团体;政府机关
    "141200": "school",  # 科教文化服务;学校
    "141201": "university",  # 学校;高等院校
    "141202": "secondary_school",  # 学校;中学
    "141203": "primary_school",  # 学校;小学
    "141204": "kindergarten",  # 学校;幼儿园
    "150500": "metro_station",  # 交通设施服务;地铁站 (table only)
    "150700": "bus_stop",  # 交通设施服务;公交车站
    "150900": "car_parking",  # 交通设施服务;停车场 (150904 公共停车场 ...)
    "160100": "bank",  # 金融保险服务;银行 (160106 中国建设银行 ...)
    "200300": "toilets",  # 公共设施;公共厕所
}
"""Amap typecode -> kind: an exact code, or a class (``xxxx00``, ``xx0000``) for its members."""

AMAP_TYPES: Final[Mapping[str, str]] = {
    # 大类 (the whole class)
    "餐饮服务": "restaurant",
    # 中类
    "学校": "school",
    "综合医院": "hospital",
    "诊所": "clinic",
    "医药保健销售店": "pharmacy",
    "医疗保健服务场所": "health_facility",
    "商场": "shopping_centre",
    "超级市场": "supermarket",
    "便民商店/便利店": "convenience",
    "综合市场": "market",
    "银行": "bank",
    "电讯营业厅": "telecom_office",
    "邮局": "post_office",
    "美容美发店": "hairdresser",
    "洗衣店": "laundry",
    "政府机关": "government",
    "运动场馆": "pitch",
    "公园广场": "park",
    "公交车站": "bus_stop",
    "地铁站": "metro_station",
    "停车场": "car_parking",
    "公共厕所": "toilets",
    # 中类;小类
    "学校;高等院校": "university",
    "学校;中学": "secondary_school",
    "学校;小学": "primary_school",
    "学校;幼儿园": "kindergarten",
    "综合市场;农副产品市场": "fresh_market",
    "综合市场;农贸市场": "fresh_market",
    "综合市场;菜市场": "fresh_market",
    "综合市场;蔬菜市场": "fresh_market",
    "综合市场;水产海鲜市场": "fresh_market",
    "综合市场;果品市场": "fresh_market",
    "运动场馆;综合体育馆": "sports_centre",
    "运动场馆;体育场": "sports_centre",
    "运动场馆;健身中心": "fitness_centre",
    "公检法机构;公安警察": "police",
    "公园广场;城市广场": "",  # a square is not a park
}
"""Amap type text -> kind, looked up as 中类;小类, then 中类, then 大类 (``""``: no kind)."""

BAIDU_TYPES: Final[Mapping[str, str]] = {
    # 一级 (the whole class)
    "美食": "restaurant",
    # 一级;二级
    "教育培训;高等院校": "university",
    "教育培训;中学": "secondary_school",
    "教育培训;小学": "primary_school",
    "教育培训;幼儿园": "kindergarten",
    "医疗;综合医院": "hospital",
    "医疗;诊所": "clinic",
    "医疗;药店": "pharmacy",
    "医疗;疗养院": "nursing_home",
    "购物;购物中心": "shopping_centre",
    "购物;百货商场": "shopping_centre",
    "购物;超市": "supermarket",
    "购物;便利店": "convenience",
    "购物;市场": "market",
    "金融;银行": "bank",
    "金融;信用社": "bank",
    "生活服务;通讯营业厅": "telecom_office",
    "生活服务;邮局": "post_office",
    "生活服务;洗衣店": "laundry",
    "生活服务;公共厕所": "toilets",
    "丽人;美发": "hairdresser",
    "运动健身;体育场馆": "sports_centre",
    "运动健身;健身中心": "fitness_centre",
    "旅游景点;公园": "park",
    "交通设施;公交车站": "bus_stop",
    "交通设施;地铁站": "metro_station",
    "交通设施;停车场": "car_parking",
    "政府机构;居民委员会": "community_service_station",
    "政府机构;各级政府": "government",
    "政府机构;行政单位": "government",
    "政府机构;公检法机构": "government",
    "政府机构;福利机构": "welfare",
}
"""Baidu tag text -> kind, looked up as 一级;二级, then 一级."""


@dataclass(frozen=True)
class NameRule:
    """A name matching ``pattern`` makes a POI of one of ``refines`` (``None``: no kind yet) a ``kind``."""

    pattern: re.Pattern[str]
    kind: str
    refines: frozenset[str | None]


def _name_rule(pattern: str, kind: str, refines: str) -> NameRule:
    kinds: set[str | None] = {None if k == "-" else k for k in refines.split()}
    return NameRule(re.compile(pattern, re.IGNORECASE), kind, frozenset(kinds))


_SCHOOLS = "school secondary_school"
_GENERIC = "- health_facility government welfare community_centre"
NAME_RULES: Final[tuple[NameRule, ...]] = (
    _name_rule(r"九年一贯|一贯制|九年制", "nine_year_school", _SCHOOLS),
    _name_rule(r"小学|primary school|elementary school", "primary_school", "school"),
    _name_rule(r"初级中学|初中|junior high|middle school", "junior_high_school", _SCHOOLS),
    _name_rule(r"高级中学|高中|senior high", "senior_high_school", _SCHOOLS),
    _name_rule(r"中学|secondary school", "secondary_school", "school"),
    _name_rule(r"幼儿园", "kindergarten", "school"),
    _name_rule(
        r"社区卫生服务中心|社区医院|卫生院",
        "community_health_centre",
        "clinic hospital " + _GENERIC,
    ),
    _name_rule(r"社区卫生服务站|卫生室", "community_health_station", "clinic doctors " + _GENERIC),
    _name_rule(r"日间照料|托老所", "elderly_day_care", "nursing_home " + _GENERIC),
    _name_rule(r"养老院|敬老院|养老中心|护理院|老年公寓|福利院", "nursing_home", _GENERIC),
    _name_rule(r"居委会|居民委员会|社区服务站", "community_service_station", _GENERIC),
    _name_rule(r"社区服务中心|社区综合服务中心|党群服务中心", "community_service_centre", _GENERIC),
    _name_rule(r"文化活动站|文化活动室|老年活动室", "culture_station", _GENERIC),
    _name_rule(
        r"文化活动中心|文化中心|文化馆|青少年活动中心|老年活动中心", "culture_centre", _GENERIC
    ),
    _name_rule(r"菜市场|农贸市场|菜场|生鲜", "fresh_market", "- market supermarket convenience"),
    _name_rule(r"派出所", "police", "- government"),
)
"""Names -> kind, in order, each refining only the kinds it lists."""


def _first_kind(parts: pd.Series, index: pd.Index) -> pd.Series:
    """The first non-missing kind of each original row (``parts`` is indexed by row, repeated)."""
    found = parts.replace("", np.nan).dropna()
    first = found.groupby(level=0, sort=False).first()
    return first.reindex(index).astype(object)


def osm_kinds(tags: pd.DataFrame) -> pd.Series:
    """The kind of every feature from its OpenStreetMap tags (columns named by key).

    Parameters
    ----------
    tags : pandas.DataFrame
        One column per OSM key (``amenity``, ``shop``, ``isced:level`` ...);
        missing keys are missing columns or empty cells.

    Returns
    -------
    pandas.Series
        Kinds (:data:`KINDS`), missing where no rule matches; before name refinement.
    """
    kind = pd.Series(pd.NA, index=tags.index, dtype=object)
    for rule in OSM_RULES:
        if rule.key not in tags.columns:
            continue
        match = kind.isna() & tags[rule.key].isin(rule.values)
        for key, values in rule.also.items():
            match &= tags[key].isin(values) if key in tags.columns else False
        kind[match] = rule.kind
    if "isced:level" in tags.columns:
        kind = _school_levels(kind, tags["isced:level"])
    return kind


def _school_levels(kind: pd.Series, levels: pd.Series) -> pd.Series:
    """Schools with an ``isced:level`` (``1``, ``2``, ``1;2``, ``1-2``, ``primary`` ...) get it."""
    text = levels.where(kind == "school").astype("string").str.lower()
    has = {
        n: text.str.contains(rf"(?<!\d){n}(?!\d)|{word}", regex=True).fillna(False).astype(bool)
        for n, word in ((1, "primary"), (2, "lower_secondary"), (3, "upper_secondary"))
    }
    span = text.str.fullmatch(r"\s*1\s*-\s*[23]\s*").fillna(False).astype(bool)
    out = kind.copy()
    out[has[3] & ~has[1] & ~has[2]] = "senior_high_school"
    out[has[2] & ~has[1]] = "junior_high_school"
    out[has[1] & ~has[2] & ~span] = "primary_school"
    out[(has[1] & has[2]) | span] = "nine_year_school"
    return out


def amap_kinds(codes: pd.Series | None = None, types: pd.Series | None = None) -> pd.Series:
    """The kind of every Amap POI from its ``typecode`` and/or ``type`` text.

    Parameters
    ----------
    codes : pandas.Series, optional
        Typecodes: ``"141203"``, ``141203`` (a number: zero-padded to 6
        digits), or several joined by ``|`` (the first that maps counts).
    types : pandas.Series, optional
        Type texts ``大类;中类;小类`` (several joined by ``|``): used where the
        code gives no kind or only a generic one.

    Returns
    -------
    pandas.Series
        Kinds, missing where nothing maps; before name refinement.
    """
    if codes is None and types is None:
        raise CriterionError("Give the Amap typecodes, the type texts, or both.")
    index = (codes if codes is not None else types).index  # type: ignore[union-attr]
    kind = pd.Series(pd.NA, index=index, dtype=object)
    if codes is not None:
        parts = _split(codes.map(_code_text), "|")
        exact = parts.map(AMAP_CODES)
        middle = (parts.str[:4] + "00").map(AMAP_CODES)
        whole = (parts.str[:2] + "0000").map(AMAP_CODES)
        kind = _first_kind(exact.fillna(middle).fillna(whole), index)
    if types is not None:
        generic = kind.isna() | kind.isin(_GENERIC_KINDS)
        parts = _split(types.astype("string"), "|").str.split(";")
        top, mid, small = (parts.str[i].str.strip() for i in range(3))
        found = (
            (mid + ";" + small)
            .map(AMAP_TYPES)
            .fillna(mid.map(AMAP_TYPES))
            .fillna(top.map(AMAP_TYPES))
        )
        from_text = _first_kind(found, index)
        kind = kind.where(~(generic & from_text.notna()), from_text)
    return kind


def baidu_kinds(types: pd.Series) -> pd.Series:
    """The kind of every Baidu POI from its industry-classification tag (``一级;二级``).

    Parameters
    ----------
    types : pandas.Series
        Tags such as ``"教育培训;小学"`` (several joined by ``,`` or ``|``).

    Returns
    -------
    pandas.Series
        Kinds, missing where nothing maps; before name refinement.
    """
    parts = _split(types.astype("string"), r"[,|，]").str.split(";")
    top, second = parts.str[0].str.strip(), parts.str[1].str.strip()
    found = (top + ";" + second).map(BAIDU_TYPES).fillna(top.map(BAIDU_TYPES))
    return _first_kind(found, types.index)


_GENERIC_KINDS: Final = frozenset({"health_facility", "government", "welfare", "market", "school"})


def _code_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{int(value):06d}"
    text = str(value).strip()
    return "|".join(
        p.strip().zfill(6) if p.strip().isdigit() else p.strip() for p in text.split("|")
    )


def _split(values: pd.Series, separator: str) -> pd.Series:
    """Each cell's parts, one row per part, indexed by the cell's row."""
    text = values.astype("string")
    return text.str.split(separator, regex=len(separator) > 1).explode().astype("string")


def refine_by_name(kinds: pd.Series, names: pd.Series) -> pd.Series:
    """Kinds refined by the POIs' names (:data:`NAME_RULES`).

    Parameters
    ----------
    kinds : pandas.Series
        Kinds from the source's classification (missing: none).
    names : pandas.Series
        The POIs' names, aligned with ``kinds``.

    Returns
    -------
    pandas.Series
        A new series: each POI whose name matches a rule for its kind gets
        the rule's kind (the first rule that applies wins).
    """
    text = names.astype("string").fillna("")
    out = kinds.astype(object).copy()
    done = pd.Series(False, index=kinds.index)
    for rule in NAME_RULES:
        applies = kinds.isin({k for k in rule.refines if k is not None})
        if None in rule.refines:
            applies |= kinds.isna()
        match = applies & ~done & text.str.contains(rule.pattern, regex=True)
        out[match] = rule.kind
        done |= match
    return out


_AMAP_CODE_COLUMNS: Final = ("typecode", "type_code", "typecodes", "类型编码", "分类编码", "编码")
_AMAP_TYPE_COLUMNS: Final = ("type", "types", "类型", "分类", "poi_type")
_BAIDU_TYPE_COLUMNS: Final = ("tag", "detail_info.tag", "tags", "类型", "分类", "行业分类", "type")
_NAME_COLUMNS: Final = ("name", "名称", "poi_name", "name:zh")


def _column(frame: pd.DataFrame, given: str | None, candidates: tuple[str, ...]) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise CriterionError(
                f"The POI table has no column {given!r}; its columns are "
                f"{[c for c in frame.columns if c != 'geometry']!r}."
            )
        return given
    lower = {str(c).lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return str(lower[name])
    return None


def classify_pois(
    frame: Frame,
    *,
    source: str,
    kind_column: str = "kind",
    code_column: str | None = None,
    type_column: str | None = None,
    name_column: str | None = None,
) -> Frame:
    """Add the facility kind of every POI, from its OSM tags or Amap/Baidu POI type.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The POIs: OSM features with one column per tag (as from osmnx or
        :func:`geoplan.read_osm_pois`), or an Amap or Baidu export.
    source : {"osm", "amap", "baidu"}
        Where the POIs come from.
    kind_column : str
        The column to write the kinds to.
    code_column : str, optional
        Amap's typecode column (default: found by name, e.g. ``typecode``).
    type_column : str, optional
        The type text column: Amap ``type`` (大类;中类;小类), Baidu ``tag``
        (一级;二级); default: found by name.
    name_column : str, optional
        The POI name column used by :data:`NAME_RULES` (default ``name`` /
        ``名称``; none: no name refinement).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy of ``frame`` with ``kind_column`` (missing where no rule
        applies); ``frame`` itself is not changed.

    Raises
    ------
    CriterionError
        For an unknown source, or when the columns needed are missing.
    """
    if source not in SOURCES:
        raise CriterionError(
            f"Unknown POI source {source!r}: use 'osm' (OpenStreetMap tags as columns), "
            "'amap' (高德 typecode/type) or 'baidu' (百度 tag)."
        )
    if source == "osm":
        found = [k for k in OSM_KEYS if k in frame.columns]
        if not any(r.key in frame.columns for r in OSM_RULES):
            raise CriterionError(
                f"The POI table has none of the OSM tag columns the rules read ({sorted({r.key for r in OSM_RULES})!r}); "
                f"its columns are {[c for c in frame.columns if c != 'geometry']!r}. Read the file "
                "with gp.read_osm_pois, or keep one column per tag."
            )
        kinds = osm_kinds(pd.DataFrame(frame[found]))
    elif source == "amap":
        code = _column(frame, code_column, _AMAP_CODE_COLUMNS)
        text = _column(frame, type_column, _AMAP_TYPE_COLUMNS)
        if code is None and text is None:
            raise CriterionError(
                "The Amap POI table has neither a typecode column (typecode) nor a type text "
                f"column (type, 大类;中类;小类); its columns are "
                f"{[c for c in frame.columns if c != 'geometry']!r}. Name them with "
                "code_column= / type_column=."
            )
        kinds = amap_kinds(
            frame[code] if code is not None else None, frame[text] if text is not None else None
        )
    else:
        text = _column(frame, type_column, _BAIDU_TYPE_COLUMNS)
        if text is None:
            raise CriterionError(
                "The Baidu POI table has no tag column (一级;二级, e.g. '教育培训;小学'); its "
                f"columns are {[c for c in frame.columns if c != 'geometry']!r}. Name it with "
                "type_column=."
            )
        kinds = baidu_kinds(frame[text])
    name = _column(frame, name_column, _NAME_COLUMNS)
    if name is not None:
        names = frame[name]
        if source == "osm" and "name:zh" in frame.columns and name != "name:zh":
            names = (
                names.astype("string").fillna("")
                + " "
                + frame["name:zh"].astype("string").fillna("")
            )
        kinds = refine_by_name(kinds, names)
    out: Frame = frame.copy()
    out[kind_column] = kinds.astype(object).where(kinds.notna(), None)
    return out


def _osm_tag_text(features: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """``key=value;key=value`` of the tags each feature has (of ``keys``)."""
    text = pd.Series("", index=features.index, dtype=object)
    for key in keys:
        values = features[key]
        text = text + np.where(values.notna(), ";" + key + "=" + values.astype(str), "")
    return text.str.lstrip(";")


def read_osm_pois(
    path: str | Path,
    *,
    area: shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    keep_unmapped: bool = False,
) -> gpd.GeoDataFrame:
    """Facilities of an OpenStreetMap file, each with its kind.

    Reads the same ``.osm`` / ``.osm.bz2`` / ``.osm.pbf`` file a street
    network comes from (see :func:`geoplan.streets.osm_pois.read_osm_features`
    for how, and the checks a file must pass), keeping every node, way and
    area with a tag of :data:`OSM_RULES`, and classifies it
    (:func:`classify_pois` with ``source="osm"``).

    Parameters
    ----------
    path : str or pathlib.Path
        The OSM file.
    area : shapely geometry, geopandas.GeoSeries or GeoDataFrame, optional
        Keep only POIs inside it (a GeoSeries/GeoDataFrame is used in
        EPSG:4326; a shapely geometry must be in EPSG:4326).
    keep_unmapped : bool
        Keep POIs that no rule gives a kind (``kind`` missing).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one point per facility (a node, or a point inside a
        way or area): ``osm_type``, ``osm_id``, ``kind``, ``name`` and
        ``osm_tags`` (the tags the rules read, ``key=value;...``).
    """
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        area = shapely.union_all(area.to_crs("EPSG:4326").geometry.values)
    pairs = [(rule.key, value) for rule in OSM_RULES for value in sorted(rule.values)]
    features = read_osm_features(path, tags=pairs, keys=OSM_KEYS, area=area)
    classified = classify_pois(features, source="osm")
    if not keep_unmapped:
        classified = classified[classified["kind"].notna()]
    out = classified[["osm_type", "osm_id", "kind", "name"]].copy()
    out["osm_tags"] = _osm_tag_text(classified, OSM_KEYS)
    return gpd.GeoDataFrame(out, geometry=classified.geometry, crs="EPSG:4326").reset_index(
        drop=True
    )

"""The languages geoplan speaks to people: Chinese, English, or both.

Every text a planner or an official reads in a table, a map, a report or the
command line's summary is written here once, in Chinese and English, and
rendered in the language asked for:

``"zh"``
    Chinese only (中文);
``"en"``
    English only: the tables' default, byte for byte what geoplan always wrote;
``"zh+en"``
    both, Chinese first: the maps' default.

Reasons for exclusion and notes are *structured*: each is one of
:data:`REASONS`, a code with named fields (the layer's label, a feature's
name, a distance ...), rendered by :func:`reason`.  The English form of each is
also a pattern, so that a reason read back from an English table
(``geoplan map ranked.gpkg``) is rendered again in Chinese by
:func:`translate_reasons` without a second copy of the wording.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final

from geoplan._errors import GeoplanError

__all__ = [
    "DEFAULT_MAP_LANG",
    "DEFAULT_TABLE_LANG",
    "LABELS",
    "LANGS",
    "REASONS",
    "check_lang",
    "format_value",
    "label",
    "layer_label",
    "pick",
    "reason",
    "translate_reasons",
]

#: The languages: Chinese, English, both (Chinese first).
LANGS: Final = ("zh", "en", "zh+en")
DEFAULT_TABLE_LANG: Final = "en"
DEFAULT_MAP_LANG: Final = "zh+en"


def check_lang(value: object, *, where: str = "lang") -> str:
    """A language code checked: ``"zh"``, ``"en"`` or ``"zh+en"`` (``"en+zh"`` too).

    Raises
    ------
    GeoplanError
        For anything else, naming the value and the choices.
    """
    text = str(value).strip().lower().replace(" ", "") if isinstance(value, str) else None
    if text in ("en+zh", "zh_en", "zh-en", "both", "bilingual"):
        text = "zh+en"
    if text in ("cn", "zh-cn", "chinese", "中文"):
        text = "zh"
    if text in ("english",):
        text = "en"
    if text not in LANGS:
        raise GeoplanError(
            f"{where} = {value!r} is not a language geoplan writes; use 'zh' (中文), 'en' "
            "(English) or 'zh+en' (both, Chinese first)."
        )
    return text


def pick(zh: str, en: str, lang: str, *, sep: str = " ") -> str:
    """``zh``, ``en`` or both (Chinese first, joined by ``sep``)."""
    if lang == "zh":
        return zh or en
    if lang == "en" or not zh or zh == en:
        return en
    return f"{zh}{sep}{en}"


#: Every fixed label, by key: (Chinese, English).
LABELS: Final[Mapping[str, tuple[str, str]]] = {
    # tables
    "rank": ("排名", "rank"),
    "score": ("综合得分", "score"),
    "eligible": ("是否符合条件", "eligible"),
    "reason": ("不符合原因", "reason"),
    "notes": ("备注", "notes"),
    "explanation": ("说明", "explanation"),
    "nearest_park_name": ("最近产业园区", "nearest park"),
    "nearest_park_m": ("距最近产业园区（米）", "nearest park (m)"),
    "nearest_station_name": ("最近地铁站", "nearest station"),
    "nearest_station_m": ("距最近地铁站（米）", "nearest station (m)"),
    "robustness": ("稳健性", "robustness"),
    "p_top_k": ("进入前列的概率", "P(top k)"),
    "median_rank": ("排名中位数", "median rank"),
    "rank_p05": ("排名5%分位", "rank 5th percentile"),
    "rank_p95": ("排名95%分位", "rank 95th percentile"),
    "tied_with": ("并列地块", "tied with"),
    "value": ("原始值", "value"),
    "criterion_score": ("得分", "score"),
    "contribution": ("贡献", "contribution"),
    "detail": ("详情", "detail"),
    "weight": ("权重", "weight"),
    "criterion": ("指标", "criterion"),
    "decay": ("评分函数", "scoring"),
    "unit": ("单位", "unit"),
    "metric": ("测度方式", "measured"),
    "layer": ("图层", "layer"),
    "kind": ("类型", "kind"),
    "site_id": ("编号", "site id"),
    "name": ("名称", "name"),
    "name_zh": ("中文名称", "Chinese name"),
    "district": ("行政区", "district"),
    "capacity": ("容量（套）", "capacity (units)"),
    "land_ha": ("用地面积（公顷）", "land (ha)"),
    "status": ("状态", "status"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "wkt": ("几何（WKT）", "wkt"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # sheets
    "sheet_ranked": ("地块排名", "Ranked sites"),
    "sheet_criteria": ("指标与权重", "Criteria and weights"),
    "sheet_excluded": ("不符合条件地块", "Excluded sites"),
    # command line
    "ineligible_summary": (
        "（{n} / {total} 个地块不符合条件，原因见“不符合原因”列）",
        "({n} of {total} sites are ineligible; see the 'reason' column)",
    ),
    "wrote": ("已写入 {path}", "wrote {path}"),
    # maps: layers, legends, controls
    "m_sites": ("候选地块", "Candidate sites"),
    "m_default_title": ("候选地块评分排名", "Ranked candidate sites"),
    "m_counts": ("{n} 个候选地块", "{n} candidate sites"),
    "m_counts_eligible": ("{n} 个符合条件", "{n} eligible"),
    "m_line": ("{line}号线", "Line {line}"),
    "m_stations": ("地铁站", "Metro stations"),
    "m_station_areas": ("站点 {rings} m 范围", "Station areas {rings} m"),
    "m_station_walks": ("站点步行 {rings} m 范围", "Station walking areas {rings} m"),
    "m_metro_lines": ("地铁线路", "Metro lines"),
    "m_jobs": ("就业岗位", "Jobs"),
    "m_parks": ("产业园区", "Industrial parks"),
    "m_exclusion_zone": ("禁建区", "Exclusion zone"),
    "m_exclusions": ("禁建区", "Exclusion zones"),
    "m_facilities": ("生活设施", "Facilities"),
    "m_walk": ("步行", "Walk"),
    "m_walk_metro": ("步行+地铁", "Walk + metro"),
    "m_minutes": ("分钟", "min"),
    "m_isochrone": ("等时圈", "Isochrone"),
    "m_iso_walk": ("步行等时圈", "Walk isochrones"),
    "m_iso_transit": ("步行+地铁等时圈", "Walk + metro isochrones"),
    "m_iso_legend": ("等时圈（分钟）", "Isochrones (minutes)"),
    "m_area": ("研究范围", "Study area"),
    "m_context": ("底图要素", "Context"),
    "m_context_roads": ("道路", "Roads"),
    "m_other_layer": ("图层", "Layer"),
    "m_score_caption": ("综合得分", "Overall score (0–1)"),
    "m_top_rank": ("前 {n} 名（排名）", "Top {n} (rank)"),
    "m_top_labels": ("前 {n} 名标注", "Top {n} labels"),
    "m_ineligible": ("不符合条件", "Ineligible"),
    "m_search": ("搜索地块", "Search sites"),
    "m_not_found": ("未找到", "Not found"),
    "m_cancel": ("取消", "Cancel"),
    "m_minimap_hide": ("隐藏鹰眼图", "Hide minimap"),
    "m_minimap_show": ("显示鹰眼图", "Show minimap"),
    "m_fullscreen": ("全屏", "Full screen"),
    "m_fullscreen_exit": ("退出全屏", "Exit full screen"),
    "m_service_area": ("服务范围", "Service area"),
    "m_service_areas": ("服务范围", "Service areas"),
    "m_not_covered": ("未覆盖", "Not covered"),
    "m_uncovered": ("未覆盖需求", "Uncovered demand"),
    "m_portfolio": ("选址组合", "Portfolio"),
    "m_adds": ("新增", "adds"),
    "m_surface": ("候选地块评分面", "Candidate score surface"),
    "m_top_sites": ("最佳地块（前 {n} 名）", "Best sites (top {n})"),
    "m_surface_cells": ("{n} 个格网", "{n} cells"),
    "m_surface_coarse": ("合并为 {k}×{k} 格网", "merged {k}×{k}"),
    "m_surface_best": ("最佳地块", "Best site"),
    "m_surface_mean": ("平均得分", "Mean score"),
    "m_gaps": ("15分钟生活圈缺项", "15-minute life-circle gaps"),
    "m_method": ("方法说明", "Methodology"),
    "m_grey_sites": (
        "硬约束不满足的地块为灰色，悬停可见原因。",
        "Grey sites fail a hard constraint; hover to see why.",
    ),
    "m_data": ("数据来源", "Data"),
    "m_data_date": ("数据日期", "Data date"),
    "m_study_file": ("研究文件", "Study file"),
    "m_generated": ("生成", "Generated"),
    "m_basemap": ("底图", "Basemap"),
    "m_gcj02_note": (
        "底图为高德（GCJ-02），图层已按 GCJ-02 偏移显示；分析数据仍为 WGS-84。",
        "Amap tiles are GCJ-02: layers are drawn shifted to match; the analysis stays in WGS-84.",
    ),
    "m_score_is": ("总分", "Score"),
    "m_ws_formula": ("Σ 权重 × 指标得分", "Σ weight × criterion score"),
    "m_ws_sentence": (
        "总分 = Σ 权重 × 指标得分（0–1）。",
        "score = Σ weight × criterion score (0–1).",
    ),
    "m_other_sentence": (
        "各指标得分（0–1）按下列权重合成。",
        "criterion scores (0–1) combined with the weights below.",
    ),
    "m_score_by": (
        "总分由 {method} 计算，贡献为加权得分。",
        "Score by {method}; contributions show the weighted scores.",
    ),
    # the score popup (sites-kit.js)
    "js_unreachable": ("不可达", "unreachable"),
    "js_ineligible": ("不符合条件", "Ineligible"),
    "js_score": ("总分", "Score"),
    "js_rank": ("排名", "Rank"),
    "js_tied": ("并列 {n} 个", "tied with {n}"),
    "js_robustness": ("稳健性", "Robustness"),
    "js_score_if": ("若符合条件，总分", "Score if eligible"),
    "js_criterion": ("指标", "Criterion"),
    "js_value": ("原始值", "Value"),
    "js_crit_score": ("得分", "Score"),
    "js_weight": ("权重", "Weight"),
    "js_contribution": ("贡献", "Contribution"),
    "js_total": ("合计", "Total"),
    "js_nearest_park": ("最近产业园区", "Nearest park"),
    "js_nearest_station": ("最近地铁站", "Nearest station"),
    "js_notes": ("注", "Notes"),
    "js_yes": ("是", "yes"),
    "js_no": ("否", "no"),
    "js_count": ("个", ""),
    "js_no_values": ("原始值见排名表", "raw values: see the ranked table"),
    "js_cells": ("格网数", "Cells"),
    "js_best": ("最佳地块", "Best site"),
    "js_mean": ("平均得分", "Mean score"),
    "js_eligible_n": ("符合条件", "Eligible"),
    "js_zoom_in": ("放大查看", "zoom in"),
    # study reports
    "r_report": ("选址研究报告", "Site study report"),
    "r_method": ("方法与权重", "Method and weights"),
    "r_method_text": (
        "每个候选地块按各指标得分（0–1），以权重加权合成综合得分；不满足硬约束的地块不参与排名。",
        "Each candidate site is scored 0–1 on every criterion; the weighted scores make the "
        "overall score. Sites that fail a hard constraint are not ranked.",
    ),
    "r_mcda": ("合成方法", "Aggregation"),
    "r_weights_method": ("权重来源", "Weights from"),
    "r_ahp_cr": (
        "AHP 一致性比率 CR = {cr}（{verdict}，上限 {max_cr}）",
        "AHP consistency ratio CR = {cr} ({verdict}; limit {max_cr})",
    ),
    "r_ahp_ok": ("一致性可接受", "acceptably consistent"),
    "r_ahp_bad": ("一致性不足", "inconsistent"),
    "r_ahp_group": ("群体（几何平均）", "group (geometric mean)"),
    "r_constraints": ("硬约束", "Hard constraints"),
    "r_map": ("地图", "Map"),
    "r_ranked": ("前 {n} 名地块", "The top {n} sites"),
    "r_dossiers": ("地块档案", "Site dossiers"),
    "r_dossier": ("第 {rank} 名", "Rank {rank}"),
    "r_breakdown": ("得分构成", "Score breakdown"),
    "r_total": ("合计", "Total"),
    "r_robustness": ("稳健性", "Robustness"),
    "r_robust_text": (
        "在 {draws} 次随机权重组合中，有 {pct}% 位列前 {k} 名；排名中位数 {median}，90% 区间 {lo}–{hi}。",
        "In the top {k} in {pct}% of {draws} random weightings; median rank {median}, "
        "90% range {lo}–{hi}.",
    ),
    "r_life_gaps": ("生活圈短板", "Life-circle gaps"),
    "r_life_gaps_none": (
        "本研究未计算生活圈指标。",
        "No life-circle indicators were computed for this study.",
    ),
    "r_inset": ("周边：最近地铁站与产业园区", "Surroundings: nearest station and park"),
    "r_nearest_station": ("最近地铁站", "Nearest station"),
    "r_nearest_park": ("最近产业园区", "Nearest park"),
    "r_no_layer": ("（研究中无此图层）", "(not in the study)"),
    "r_excluded": ("不符合条件的地块", "Excluded sites"),
    "r_excluded_none": ("所有地块均符合条件。", "Every site is eligible."),
    "r_excluded_more": ("另有 {n} 个，见排名表。", "and {n} more: see the ranked table."),
    "r_sources": ("数据来源", "Data sources"),
    "r_file": ("文件", "file"),
    "r_sha256": ("SHA-256 校验值", "SHA-256"),
    "r_generated": ("生成于 {when}，geoplan {version}", "Generated {when} by geoplan {version}"),
    "r_sites_count": (
        "{n} 个候选地块，{eligible} 个符合条件",
        "{n} candidate sites, {eligible} eligible",
    ),
    "r_no_map": ("（未生成地图：{why}）", "(no map: {why})"),
    # units
    "m": ("米", "m"),
    "km": ("公里", "km"),
    "min": ("分钟", "min"),
    "count": ("个", "count"),
    "jobs": ("岗位", "jobs"),
    "unreachable": ("不可达", "unreachable"),
    "n/a": ("无", "n/a"),
}


def label(key: str, lang: str, *, sep: str = " ", **fields: object) -> str:
    """The label ``key`` in ``lang``, with ``fields`` filled in."""
    zh, en = LABELS[key]
    if fields:
        zh, en = zh.format(**fields), en.format(**fields)
    return pick(zh, en, lang, sep=sep)


#: How features of the layers with a fixed role are called (Chinese for the English).
_LAYER_LABELS_ZH: Final = {
    "candidate site": "候选地块",
    "industrial park": "产业园区",
    "station": "地铁站",
    "exclusion zone": "禁建区",
    "facility": "设施",
    "study area": "研究范围",
    "park": "产业园区",
    "exclusion": "禁建区",
    "housing": "住区",
}
#: How the distance engines describe themselves (Chinese for the English).
_METRIC_WORDS_ZH: Final = (
    ("straight-line distance", "直线距离"),
    ("walk + metro time", "步行+地铁时间"),
    ("walking", "步行"),
    ("cycling", "骑行"),
    ("e-bike", "电动自行车"),
    ("driving", "驾车"),
    ("distance along streets", "沿街道距离"),
    ("time along streets", "沿街道时间"),
    ("walks along streets", "步行沿街道"),
    ("walks: straight line", "步行按直线"),
    ("(no street network)", "（无街道网络）"),
    ("distance", "距离"),
    ("time", "时间"),
)


def layer_label(text: str, lang: str) -> str:
    """A layer's feature label (``"exclusion zone"``) in ``lang`` (as given if unknown)."""
    zh = _LAYER_LABELS_ZH.get(text.strip().lower())
    return text if zh is None else pick(zh, text, lang)


def _metric_zh(text: str) -> str:
    for en, zh in _METRIC_WORDS_ZH:
        text = text.replace(en, zh)
    return text


_QUANTITY = re.compile(r"^(-?[\d,.]+|inf|-inf) (km|m|min)$")


def _quantity_zh(text: str) -> str:
    """``"1.2 km"`` -> ``"1.2公里"`` (other text as it is)."""
    found = _QUANTITY.match(text.strip())
    if found is None:
        return text
    return found.group(1) + LABELS[found.group(2)][0]


def format_value(value: object, unit: str, lang: str = "en") -> str:
    """A raw value as people read it: ``"420 m"``, ``"2.4 km"``, ``"12.5 min"``, ``"3"``.

    In Chinese ``"420米"``, ``"2.4公里"``, ``"12.5分钟"``, ``"3个"``; infinite is
    ``"unreachable"`` (不可达) and missing ``"n/a"`` (无).
    """
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    if value is None or math.isnan(x):
        return label("n/a", lang)
    if math.isinf(x):
        return label("unreachable", lang)
    if unit == "m":
        en = f"{x / 1000:.1f} km" if x >= 1000 else f"{x:.0f} m"
    elif unit == "min":
        en = f"{x:.1f} min"
    elif unit == "count":
        en = f"{x:.0f}"
        return pick(f"{en}个", en, lang)
    else:
        en = f"{x:,.0f} {unit}"
        zh_unit = LABELS[unit][0] if unit in LABELS else unit
        return pick(f"{x:,.0f} {zh_unit}", en, lang)
    return pick(_quantity_zh(en), en, lang)


# --------------------------------------------------------------------------------------
# Reasons and notes: a code with fields, rendered in a language, parsed back from English
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reason:
    en: str
    zh: str


#: Why a site is ineligible, or a note on a criterion: English and Chinese, by code.
REASONS: Final[Mapping[str, _Reason]] = {
    "inside": _Reason("inside {label} '{name}'", "位于{label}“{name}”内"),
    "inside_protection": _Reason(
        "inside {label} '{name}', closer than its {limit} protection distance",
        "位于{label}“{name}”内，小于其{limit}防护距离",
    ),
    "near_protection": _Reason(
        "{distance} from {label} '{name}', closer than its {limit} protection distance",
        "距{label}“{name}”{distance}，小于其{limit}防护距离",
    ),
    "none_reachable": _Reason("no {label} reachable ({metric})", "无可达的{label}（{metric}）"),
    "too_far": _Reason(
        "nearest {label} '{name}' is {distance} away (limit {limit}, {metric})",
        "最近的{label}“{name}”距离{distance}（上限{limit}，{metric}）",
    ),
    "below_min": _Reason(
        "{column} {value} is below the minimum {limit}", "{column} {value} 低于下限 {limit}"
    ),
    "above_max": _Reason(
        "{column} {value} is above the maximum {limit}", "{column} {value} 高于上限 {limit}"
    ),
    "not_finite": _Reason(
        "{column} {value} is not a finite number", "{column} {value} 不是有效数值"
    ),
    "missing": _Reason("{column} is missing", "{column} 缺失"),
    "unreachable_note": _Reason("{title}: unreachable ({metric})", "{title}：不可达（{metric}）"),
}


def _field_zh(key: str, value: str) -> str:
    if key == "label":
        return layer_label(value, "zh")
    if key == "metric":
        return _metric_zh(value)
    if key in ("distance", "limit"):
        return _quantity_zh(value)
    return value


def reason(code: str, lang: str, **fields: object) -> str:
    """One reason (or note) of :data:`REASONS` in ``lang``, its fields filled in.

    Fields named ``label`` (a layer's feature label), ``metric`` (how a distance
    was measured) and ``distance``/``limit`` (``"1.2 km"``) are put in Chinese
    too; names, columns and values stay as given (pass a Chinese name for a
    Chinese reason).  ``zh_fields`` may give other values for the Chinese text.
    """
    template = REASONS[code]
    texts = {k: str(v) for k, v in fields.items() if k != "zh_fields"}
    en = template.en.format(**texts)
    if lang == "en":
        return en
    zh_given = fields.get("zh_fields")
    zh_texts = {k: _field_zh(k, v) for k, v in texts.items()}
    if isinstance(zh_given, Mapping):
        zh_texts.update({str(k): str(v) for k, v in zh_given.items()})
    zh = template.zh.format(**zh_texts)
    return pick(zh, en, lang, sep=" / ")


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each reason's English form as a pattern with its fields as groups (longest first)."""
    out = []
    for code, template in REASONS.items():
        parts = re.split(r"\{(\w+)\}", template.en)
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        out.append((code, re.compile(f"^{pattern}$", re.S)))
    return sorted(out, key=lambda item: -len(REASONS[item[0]].en))


def translate_reasons(text: str, lang: str) -> str:
    """English reasons (``"; "``-joined, as a ranked table holds them) put in ``lang``.

    A part that is not one of :data:`REASONS` in English is kept as it is, so
    text already in Chinese, or written by someone else, passes unchanged.
    """
    if lang == "en" or not text:
        return text
    parts = []
    for part in text.split("; "):
        for code, pattern in _patterns():
            found = pattern.match(part)
            if found is not None:
                parts.append(reason(code, lang, **found.groupdict()))
                break
        else:
            parts.append(part)
    return "; ".join(parts)

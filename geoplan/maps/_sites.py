"""The candidate sites layer: compact per-site GeoJSON and what the browser needs to read it.

Private to :mod:`geoplan.maps.build`.  Each site's properties are short keys
(see :class:`~geoplan.maps._elements.SitesLayer`); repeated strings are
dictionary-encoded; the browser builds tooltips and score popups from them
(``geoplan/maps/_assets/geoplan/sites-kit.js``) and escapes every string there.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Final

import branca.colormap as bcm
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.io.lang import translate_reasons
from geoplan.maps._data import (
    _MAX_ATTRIBUTES,
    _NAME_COLUMNS,
    INELIGIBLE_COLOR,
    _attr_label,
    _Criterion,
    _display_geometry,
    _feature_name,
    _geometry_json,
    _is_missing,
    _method_label,
    _num,
    _plain,
    _swatch,
)
from geoplan.maps._elements import SitesLayer
from geoplan.maps._i18n import current, js_labels, tr
from geoplan.maps._i18n import pair as tr_pair
from geoplan.study.ranking import ExplainedCriterion, explanations

logger = logging.getLogger(__name__)

#: Colours in the score ramp sent to the browser.
_RAMP_STEPS: Final = 101
#: Above this many characters of explanations in all, popups leave them out (size).
_MAX_EXPLANATION_CHARS: Final = 600_000
#: Columns that rank_sites computes (everything else is the site's own attribute).
_COMPUTED: Final = frozenset(
    {
        "score",
        "rank",
        "eligible",
        "reason",
        "notes",
        "explanation",
        "nearest_park_name",
        "nearest_park_m",
        "nearest_station_name",
        "nearest_station_m",
        # added by geoplan.decide.robustness.add_robustness; the popup shows the sentence
        "robustness",
        "p_top_k",
        "median_rank",
        "rank_p05",
        "rank_p95",
        "rank_best",
        "rank_worst",
    }
)
#: How the popups write criterion units (others as they are): (Chinese, English).
_UNIT_PAIRS: Final = {
    "m": ("m", "m"),
    "km": ("km", "km"),
    "min": ("min", "min"),
    "jobs": ("岗位", "jobs"),
}


def _localise(
    frame: gpd.GeoDataFrame, criteria: Sequence[_Criterion], explained: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Reasons, notes and explanations in the map's language (a copy; English tables only).

    English reasons and notes are rendered again (:func:`geoplan.io.lang.translate_reasons`,
    once per distinct text) and the explanation line of each site in ``explained`` (a
    mask; default all) is written again from the table's numbers; the others are left
    out (a grid's surface shows none).
    """
    lang = current()
    table_lang = (frame.attrs.get("geoplan") or {}).get("lang", "en")
    if lang == "en" or table_lang != "en":
        return frame
    frame = frame.copy()
    for column in ("reason", "notes"):
        if column in frame.columns:
            texts = frame[column]
            unique = {v: translate_reasons(v, lang) for v in pd.unique(texts) if isinstance(v, str)}
            frame[column] = [unique.get(v, v) if isinstance(v, str) else v for v in texts]
    needed = ["rank", "score", "eligible", "reason"]
    needed += [x for c in criteria for x in (c.value_column, c.score_column, c.contrib_column)]
    if "explanation" in frame.columns and all(c in frame.columns for c in needed):
        items = [
            ExplainedCriterion(
                c.label,
                c.label_zh,
                c.unit,
                c.weight,
                c.value_column,
                c.score_column,
                c.contrib_column,
            )
            for c in criteria
        ]
        rows = np.ones(len(frame), dtype=bool) if explained is None else explained
        lines = pd.Series(None, index=frame.index, dtype=object)
        if rows.any():
            lines[rows] = explanations(frame[rows], items, lang).to_numpy()
        frame["explanation"] = lines
    return frame


def _ties(ranks: Sequence[Any], eligible: np.ndarray) -> list[int]:
    """How many eligible sites share each site's rank (1: none other)."""
    series = pd.Series(pd.array(ranks, dtype="Int64")).where(pd.Series(eligible))
    counts = series.map(series.value_counts())
    return [0 if pd.isna(v) else int(v) for v in counts]


def site_ids(frame: pd.DataFrame) -> list[str]:
    """Each site's id (``site_id``), else its label: how a grid's cells are named."""
    if "site_id" in frame.columns and frame["site_id"].notna().all():
        return [str(v) for v in frame["site_id"]]
    return _site_labels(frame)


def _site_labels(frame: pd.DataFrame) -> list[str]:
    """Unique display labels (search keys): Chinese and English names, else the id."""
    ids = frame["site_id"] if "site_id" in frame.columns else None
    labels: list[str] = []
    for i, row in enumerate(
        frame[[c for c in _NAME_COLUMNS if c in frame.columns]].to_dict("records")
    ):
        fallback = (
            str(ids.iloc[i]) if ids is not None and not _is_missing(ids.iloc[i]) else f"#{i + 1}"
        )
        labels.append(_feature_name(row, None, fallback))
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if any(n > 1 for n in counts.values()):
        for i, label in enumerate(labels):
            if counts[label] > 1:
                suffix = str(ids.iloc[i]) if ids is not None else str(i + 1)
                labels[i] = f"{label} ({suffix})"
    return labels


def _attribute_columns(frame: pd.DataFrame) -> list[str]:
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else "geometry"
    out = []
    for column in frame.columns:
        text = str(column)
        if column == geometry or text in _COMPUTED or text in _NAME_COLUMNS:
            continue
        if text.startswith(("value__", "score__", "contrib__", "detail__")) or text.startswith("_"):
            continue
        out.append(text)
    return out[:_MAX_ATTRIBUTES]


def _encode_column(values: Sequence[Any], n: int) -> tuple[list[Any], list[Any] | None]:
    """Dictionary-encode a column of repeated strings (index into a shared list)."""
    plain = [_plain(v) for v in values]
    strings = [v for v in plain if isinstance(v, str)]
    if not strings or len(set(strings)) > max(8, n // 4):
        return plain, None
    lookup: dict[str, int] = {}
    codes: list[Any] = []
    for v in plain:
        if isinstance(v, str):
            codes.append(lookup.setdefault(v, len(lookup)))
        else:
            codes.append(None if v is None else v)
    if any(not isinstance(v, str) and v is not None for v in plain):
        return plain, None
    return codes, list(lookup)


def _text(value: object) -> str | None:
    """A cell as text, ``None`` when missing or empty."""
    return None if _is_missing(value) or not str(value) else str(value)


def _site_features(
    frame: gpd.GeoDataFrame,
    geoms: np.ndarray,
    criteria: Sequence[_Criterion],
    attributes: Sequence[str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GeoJSON features with compact properties, and what the browser needs to read them."""
    labels = _site_labels(frame)
    n = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * n

    def numbers(name: str) -> np.ndarray:
        array: np.ndarray = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        return array

    scores = frame["score"].to_numpy(dtype=float)
    ranks = frame["rank"].tolist()
    eligible = frame["eligible"].to_numpy(dtype=bool)
    ties = _ties(ranks, eligible)
    reasons, notes, explanations = column("reason"), column("notes"), column("explanation")
    robustness = column("robustness")
    details = [
        column(f"detail__{c.name}") for c in criteria if f"detail__{c.name}" in frame.columns
    ]
    values = [frame[c.value_column].tolist() for c in criteria]
    crit_scores = [numbers(c.score_column) for c in criteria]
    contribs = [numbers(c.contrib_column) for c in criteria]
    # Contributions are weight x score: send them only if they are not (other methods).
    derived = all(
        np.allclose(w, c.weight * s, atol=5e-5, equal_nan=True)
        for c, s, w in zip(criteria, crit_scores, contribs, strict=True)
    )
    encoded = [_encode_column(frame[a].tolist(), n) for a in attributes]
    park_codes, park_names = _encode_column(column("nearest_park_name"), n)
    station_codes, station_names = _encode_column(column("nearest_station_name"), n)
    park_m, station_m = column("nearest_park_m"), column("nearest_station_m")
    explanation_chars = sum(len(str(e)) for e in explanations if not _is_missing(e))
    with_explanations = explanation_chars <= _MAX_EXPLANATION_CHARS
    if not with_explanations:
        logger.info(
            "make_map: %d sites: one-line explanations left out of the popups to keep the "
            "file small (the popup table shows the same numbers)",
            n,
        )
    point_fast = bool(len(geoms)) and bool(np.all(shapely.get_type_id(geoms) == 0))
    coords = shapely.get_coordinates(geoms) if point_fast else None

    features: list[dict[str, Any]] = []
    for i in range(n):
        props: dict[str, Any] = {
            "n": labels[i],
            "s": _num(scores[i], 4),
            "r": None if _is_missing(ranks[i]) else int(ranks[i]),
            "e": 1 if eligible[i] else 0,
        }
        if ties[i] > 1:  # tied: the popup says so
            props["ti"] = ties[i] - 1
        reason = _text(reasons[i])
        if not eligible[i] and reason is not None:
            props["x"] = reason
        props["v"] = [_num(v[i]) for v in values]
        props["c"] = [_num(s[i], 4) for s in crit_scores]
        if not derived:
            props["w"] = [_num(w[i], 4) for w in contribs]
        if encoded:
            props["a"] = [codes[i] for codes, _ in encoded]
        if park_codes[i] is not None or not _is_missing(park_m[i]):
            props["pk"] = [park_codes[i], _num(park_m[i], 0)]
        if station_codes[i] is not None or not _is_missing(station_m[i]):
            props["st"] = [station_codes[i], _num(station_m[i], 0)]
        explanation = _text(explanations[i])
        if with_explanations and explanation is not None:
            props["ex"] = explanation
        note = _text(notes[i])
        if note is not None:
            props["no"] = note
        if details:  # the criteria that say their value in words (a trip, the gaps)
            props["dt"] = [_text(t[i]) for t in details]
        robust = _text(robustness[i]) if eligible[i] else None
        if robust is not None:
            props["rb"] = robust
        if coords is not None:
            geometry: dict[str, Any] = {
                "type": "Point",
                "coordinates": [float(coords[i, 0]), float(coords[i, 1])],
            }
        else:
            geometry = _geometry_json(geoms[i])
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    lookups = {
        "attrValues": [values for _, values in encoded],
        "parkNames": park_names,
        "stationNames": station_names,
        "contribDerived": derived,
    }
    return features, lookups


def _sites_meta(
    criteria: Sequence[_Criterion],
    attributes: Sequence[str],
    *,
    detail_columns: Sequence[str] = (),
    method: str,
    ramp: Sequence[str],
    top_n: int,
    n_eligible: int,
    n_sites: int,
) -> dict[str, Any]:
    """What the browser needs to style and explain the sites (see the sites kit script)."""
    weight_sum = sum(c.weight for c in criteria if math.isfinite(c.weight))
    return {
        "criteria": [
            {
                "key": c.name,
                "label": c.label,
                "zh": c.label_zh,
                "unit": c.unit,
                "weight": _num(c.weight, 4),
            }
            for c in criteria
        ],
        "attrs": [{"key": a, "label": _attr_label(a)} for a in attributes],
        "units": {u: tr_pair(zh, en) for u, (zh, en) in _UNIT_PAIRS.items()},
        "lang": current(),
        "t": js_labels(),
        "ramp": list(ramp),
        "grey": INELIGIBLE_COLOR,
        "topN": top_n,
        "nEligible": n_eligible,
        "nSites": n_sites,
        "radius": 7 if n_sites <= 500 else (5 if n_sites <= 5000 else 3.5),
        "weightSum": _num(weight_sum, 4),
        "details": [
            {"label": c.label, "zh": c.label_zh}
            for c in criteria
            if f"detail__{c.name}" in detail_columns
        ],
        "methodNote": ""
        if method == "weighted_sum"
        else tr("m_score_by", method=_method_label(method)),
    }


def _sites_layer(
    frame: gpd.GeoDataFrame,
    criteria: Sequence[_Criterion],
    *,
    method: str,
    cmap: bcm.LinearColormap,
    to_gcj02: bool,
    top_n: int,
    n_eligible: int | None = None,
    name: str | None = None,
    radius: float | None = None,
) -> tuple[SitesLayer, np.ndarray]:
    """The candidate sites layer (score colours from ``cmap``) and the sites' display geometries.

    ``n_eligible`` (default: the frame's) is what ranks are out of, when the
    frame holds only the best sites of a larger ranking (a grid's surface).
    """
    shown, geoms = _display_geometry(frame, to_gcj02=to_gcj02, what="sites")
    attributes = _attribute_columns(shown)
    ramp = [cmap.rgb_hex_str(k / (_RAMP_STEPS - 1)) for k in range(_RAMP_STEPS)]
    meta = _sites_meta(
        criteria,
        attributes,
        method=method,
        ramp=ramp,
        top_n=top_n,
        n_eligible=int(frame["eligible"].sum()) if n_eligible is None else n_eligible,
        n_sites=len(shown),
        detail_columns=[c for c in shown.columns if str(c).startswith("detail__")],
    )
    features, lookups = _site_features(shown, geoms, criteria, attributes)
    meta.update(lookups)
    if radius is not None:
        meta["radius"] = radius
    name = name or f"{_swatch(ramp[-1])}{tr('m_sites')} ({len(features)})"
    # Drawn in reverse so that the best sites lie on top (canvas order = draw order).
    return SitesLayer(features[::-1], meta, name=name), geoms

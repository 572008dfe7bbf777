"""Tables for people: numbers rounded to what they mean, headers in their language, Excel.

A ranked table in memory keeps every digit; the files written for people
(:func:`for_people`, used by every table the command line writes) round each
number to what it means -- scores and contributions to 3 decimals, metres to
whole metres, minutes to 0.1 -- and, in Chinese, name the columns in
Chinese (``rank`` -> ``排名``, ``value__metro_access__m`` -> ``距地铁站距离：原始值（米）``).
:func:`canonical` turns such headers back, so ``geoplan map`` reads a Chinese
table.  :func:`write_workbook` writes an Excel file of three sheets: the
ranked sites, the criteria and their weights, and the excluded sites.

The criteria are described by plain mappings (``name``, ``label``,
``label_zh``, ``unit``, ``weight``, ``decay``, ``metric``), as
``ranked.attrs["geoplan"]["criteria"]`` holds them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.io.lang import LABELS, label, pick

__all__ = ["canonical", "criteria_of", "for_people", "headers", "rounded", "write_workbook"]

#: Decimals by what a number means.
_SCORE_DECIMALS: Final = 3
_UNIT_DECIMALS: Final = {"m": 0, "min": 1, "count": 0, "jobs": 0, "km": 2}
_FRACTION_UNITS: Final = ("share", "ratio", "jobs_per_worker")
_CRITERION_COLUMN = re.compile(r"^(value|score|contrib|detail)__(.+?)(?:__([^_].*))?$")
_PARTS_ZH: Final = {"value": "原始值", "score": "得分", "contrib": "贡献", "detail": "详情"}
_PARTS_EN: Final = {
    "value": "value",
    "score": "score",
    "contrib": "contribution",
    "detail": "detail",
}


def criteria_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The criteria a ranked table's attrs describe (``[]`` when it has none)."""
    meta = (frame.attrs.get("geoplan") or {}).get("criteria") or []
    return [dict(m) for m in meta if isinstance(m, Mapping) and "name" in m]


def _decimals(column: str) -> int | None:
    if column in ("score", "p_top_k") or column.startswith(("score__", "contrib__")):
        return _SCORE_DECIMALS
    if column in ("nearest_park_m", "nearest_station_m"):
        return 0
    if column.startswith("value__"):
        unit = column.rsplit("__", 1)[-1]
        if unit in _FRACTION_UNITS:
            return _SCORE_DECIMALS
        return _UNIT_DECIMALS.get(unit, 2)
    return None


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with each number rounded to what it means (others as they are).

    Scores, contributions and shares: 3 decimals; metres, counts and jobs:
    whole numbers; minutes: 1 decimal; other raw values: 2 decimals.
    Infinite values (unreachable) and missing ones stay as they are.
    """
    out = frame.copy()
    for column in out.columns:
        digits = _decimals(str(column))
        if digits is None or not pd.api.types.is_float_dtype(out[column]):
            continue
        out[column] = out[column].round(digits)
    return out


def _criterion_names(criteria: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    return {
        str(m["name"]): (str(m.get("label_zh") or ""), str(m.get("label") or m["name"]))
        for m in criteria
    }


def _header(column: str, lang: str, names: Mapping[str, tuple[str, str]]) -> str:
    """One column's header in ``lang`` (``en``: the column name itself)."""
    if lang == "en":
        return column
    if column in LABELS:
        zh = LABELS[column][0]
        return zh if lang == "zh" else f"{zh} {column}"
    found = _CRITERION_COLUMN.match(column)
    if found is None:
        return column
    part, name, unit = found.group(1), found.group(2), found.group(3)
    if part == "value" and unit is None and "__" in name:
        name, unit = name.rsplit("__", 1)
    zh_name, en_name = names.get(name, ("", name.replace("_", " ")))
    zh = f"{zh_name or en_name}：{_PARTS_ZH[part]}"
    if part == "value" and unit:
        zh += f"（{LABELS[unit][0] if unit in LABELS else unit}）"
    return zh if lang == "zh" else f"{zh} {column}"


def headers(
    columns: Sequence[str], lang: str, criteria: Sequence[Mapping[str, Any]] = ()
) -> dict[str, str]:
    """Each column's header in ``lang``, all different (``en``: unchanged)."""
    names = _criterion_names(criteria)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        text = _header(str(column), lang, names)
        if text in taken:
            text = f"{text} ({column})"
        taken.add(text)
        out[str(column)] = text
    return out


def for_people(
    frame: pd.DataFrame, lang: str = "en", criteria: Sequence[Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """The table as written for people: rounded, its headers in ``lang``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A ranked table (or any table; unknown columns keep their names).
    lang : {"en", "zh", "zh+en"}
        Language of the headers (English: the column names as they are).
    criteria : sequence of mapping, optional
        The criteria (default: the table's attrs), naming their columns.

    Returns
    -------
    pandas.DataFrame
        A copy; the geometry column keeps its name.
    """
    criteria = criteria_of(frame) if criteria is None else list(criteria)
    out = rounded(frame)
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    columns = [str(c) for c in out.columns if c != geometry]
    renamed = out.rename(columns=headers(columns, lang, criteria))
    renamed.attrs = {**frame.attrs, "table_lang": lang}
    return renamed


def canonical(frame: pd.DataFrame, criteria: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """A table with Chinese (or bilingual) headers given its column names back.

    The headers :func:`for_people` writes for the fixed columns and for the
    criteria (by their names and labels) are recognised; others stay.
    """
    wanted = list(LABELS)
    for m in criteria:
        name = str(m["name"])
        unit = str(m.get("unit") or "")
        wanted += [f"value__{name}__{unit}", f"score__{name}", f"contrib__{name}"]
        wanted.append(f"detail__{name}")
    back: dict[str, str] = {}
    for lang in ("zh", "zh+en"):
        for column, text in headers(wanted, lang, criteria).items():
            back.setdefault(text, column)
    present = {c: back[c] for c in frame.columns if c in back and back[c] not in frame.columns}
    return frame.rename(columns=present) if present else frame


# --------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """A value openpyxl writes (text for what it cannot)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        x = float(value)
        if np.isnan(x):
            return None
        return x if np.isfinite(x) else ("inf" if x > 0 else "-inf")
    if isinstance(value, str | int):
        return value
    return str(value)


def _sheet(book: Any, title: str, table: pd.DataFrame) -> None:
    sheet = book.create_sheet(title=title[:31])
    sheet.append([str(c) for c in table.columns])
    for row in table.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(table.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in table.iloc[:50, i - 1]])
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(
            60, max(8, width + 2)
        )


def _criteria_table(criteria: Sequence[Mapping[str, Any]], lang: str) -> pd.DataFrame:
    rows = []
    for m in criteria:
        weight = m.get("weight")
        rows.append(
            {
                label("criterion", lang): pick(
                    str(m.get("label_zh") or ""), str(m.get("label") or m["name"]), lang, sep=" / "
                ),
                label("name", lang): str(m["name"]),
                label("layer", lang): str(m.get("layer") or ""),
                label("unit", lang): str(m.get("unit") or ""),
                label("weight", lang): None if weight is None else round(float(weight), 4),
                label("decay", lang): str(m.get("decay") or ""),
                label("metric", lang): str(m.get("metric") or ""),
            }
        )
    return pd.DataFrame(rows)


def flat_table(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """The layer as a plain table: points become lon/lat columns, other geometries a WKT column.

    A table written for people in another language (:func:`for_people`) names them in that
    language too.
    """
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    geoms = layer.geometry
    names = headers(["lon", "lat", "wkt"], str(layer.attrs.get("table_lang") or "en"))
    if len(geoms) and bool((geoms.geom_type == "Point").all()):
        table[names["lon"]] = geoms.x.round(7)
        table[names["lat"]] = geoms.y.round(7)
    else:
        table[names["wkt"]] = shapely.to_wkt(geoms.values, rounding_precision=7)
    table.attrs = dict(layer.attrs)
    return table


def write_workbook(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    lang: str | None = None,
    criteria: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Write a ranked table as an Excel workbook of three sheets (not atomic: see outputs).

    Sheets: the ranked sites (rounded; points as lon/lat columns, other shapes
    as WKT), the criteria and their weights, and the excluded sites with
    their reasons.  Headers are in ``lang`` (default: the table's own).
    """
    from openpyxl import Workbook

    lang = lang or str(frame.attrs.get("table_lang") or "en")
    criteria = criteria_of(frame) if criteria is None else list(criteria)
    table = frame if "table_lang" in frame.attrs else for_people(frame, lang, criteria)
    if isinstance(table, gpd.GeoDataFrame):
        table = flat_table(table)
    book = Workbook()
    book.remove(book.active)
    _sheet(book, label("sheet_ranked", lang, sep=" "), table)
    _sheet(book, label("sheet_criteria", lang, sep=" "), _criteria_table(criteria, lang))
    eligible = headers(["eligible"], lang)["eligible"]
    if eligible in table.columns:
        flags = table[eligible].map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
        excluded = table.loc[~flags.to_numpy(dtype=bool)]
    else:
        excluded = table.iloc[:0]
    keep = [
        c
        for c in excluded.columns
        if not str(c).startswith(("value__", "score__", "contrib__"))
        and "：" not in str(c)
        and c not in (headers(["explanation"], lang)["explanation"],)
    ]
    _sheet(book, label("sheet_excluded", lang, sep=" "), excluded[keep])
    book.save(Path(path))

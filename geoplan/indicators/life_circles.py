"""Life circles (GB 50180-2018): which required facilities lie within 5, 10 and 15 minutes' walk.

China's standard for residential areas, GB 50180-2018 城市居住区规划设计标准,
plans housing in nested *life circles* (生活圈居住区): the 15-, 10- and
5-minute circles, defined by walking distance (表3.0.4: 800-1000 m, 500 m and
300 m), each of which shall (▲) or may (△) provide the facilities of 附录B.
The levels and items are data, with the clause each comes from
(``gb50180_2018.toml``, read by :func:`gb50180_levels` and
:func:`gb50180_requirements`).

:func:`life_circles` says, for every site, which items each level requires
are present within that level's reach, whether the site meets each level, and
what is missing, in Chinese and English.  The rules, documented once here:

* **Reach.**  Metres along the walk network by default (300, 500 and 1,000 m;
  ``levels={"lc15": 800}`` takes the lower end of 800-1000 m), measured by the
  ``metric`` -- a walk :class:`~geoplan.streets.routing.NetworkMetric` in
  metres (straight-line metres without one, which is generous).  With a metric
  in minutes, the reach is 5, 10 and 15 minutes of travel, which at 4.8 km/h
  is 400, 800 and 1,200 m: more generous than the standard's distances.
* **What is checked.**  Items marked ▲ at a level whose ``assessed`` flag is
  true: those that facility (POI) data can show, met by any facility whose
  kind is one of the item's ``kinds``.  Items POI data cannot show (utility
  plant, the size of a sports ground, what an estate provides inside itself)
  are kept with ``assessed = false`` and listed in ``unchecked_zh`` /
  ``unchecked_en``: a level's flag never claims more than was checked.  △
  items get a distance column but do not count.
* **Levels are cumulative.**  A site meets the 10-minute circle only if it
  also meets the 5-minute one, and the 15-minute circle only if it meets both:
  ``lc10_ok = lc5_ok & (every ▲ item of the 10-minute level within 500 m)``.
* **Gaps.**  One line per missing item, at the widest level it is missing at
  (none within 1,000 m implies none within 500 m): ``10分钟生活圈（500米）内无小学``
  / ``no primary school within the 10-minute circle (500 m)``.
* **Overrides.**  ``requirements`` amends the standard's table item by item
  (``{"bank": {"assessed": False}}``, ``{"primary_school": {"kinds":
  ["school", "primary_school"]}}``, a new item with its levels and kinds), or
  replaces it whole (a table shaped like :func:`gb50180_requirements`).

Distances come from one :meth:`~geoplan.measure.distance.DistanceMetric.within`
search over every facility that can meet an item, at the widest reach; the
pairs are grouped by item with numpy (no loop over sites or facilities).
"""

from __future__ import annotations

import math
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Final, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, GeoplanWarning, plain
from geoplan.measure.criteria import _pairs_within, _site_points
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = [
    "FIELDS",
    "LEVELS",
    "gb50180_levels",
    "gb50180_requirements",
    "life_circles",
]

LEVELS: Final = ("lc5", "lc10", "lc15")
"""The life circles checked, smallest first (``block``, the 居住街坊, has no reach)."""

_ALL_LEVELS: Final = (*LEVELS, "block")
_REQUIRED, _AS_NEEDED = "▲", "△"
_SYMBOLS: Final = {
    "▲": _REQUIRED,
    "required": _REQUIRED,
    "△": _AS_NEEDED,
    "as_needed": _AS_NEEDED,
    "": "",
    "none": "",
    "-": "",
    "–": "",
}
FIELDS: Final = {
    "name_zh": str,
    "name_en": str,
    "category": str,
    "table": str,
    **dict.fromkeys(_ALL_LEVELS, str),
    "assessed": bool,
    "kinds": list,
    "why_not": str,
    "unconfirmed": str,
}
"""The fields of an item (a row of :func:`gb50180_requirements`) and their types."""


@cache
def _standard() -> dict[str, Any]:
    text = resources.files("geoplan.indicators").joinpath("gb50180_2018.toml").read_text("utf-8")
    return tomllib.loads(text)


def gb50180_levels() -> pd.DataFrame:
    """The life-circle levels of GB 50180-2018 (表3.0.4), as data.

    Returns
    -------
    pandas.DataFrame
        Indexed by level (``lc15``, ``lc10``, ``lc5``, ``block``): names,
        ``minutes``, ``walk_m`` (the standard's walking distance, a range),
        geoplan's default ``reach_m``, ``residents`` and ``dwellings``
        (ranges) and the ``clause``.
    """
    levels = _standard()["levels"]
    return pd.DataFrame.from_dict({k: dict(v) for k, v in levels.items()}, orient="index")


def _empty_item(item: str) -> dict[str, Any]:
    return {
        "name_zh": item,
        "name_en": item.replace("_", " "),
        "category": "added",
        "table": "",
        **dict.fromkeys(_ALL_LEVELS, ""),
        "assessed": True,
        "kinds": (),
        "why_not": "",
        "unconfirmed": "",
    }


def _item_problems(item: str, values: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in values.items():
        if key not in FIELDS:
            problems.append(
                f"requirements[{item!r}].{key} is not a field of an item (value {plain(value)!r}); "
                f"the fields are {sorted(FIELDS)!r}."
            )
        elif key in _ALL_LEVELS and value not in _SYMBOLS:
            problems.append(
                f"requirements[{item!r}].{key} = {plain(value)!r}: give '▲' (or 'required', shall be "
                "provided), '△' (or 'as_needed') or '' (not at this level)."
            )
        elif key == "kinds" and (
            isinstance(value, str)
            or not isinstance(value, Sequence)
            or not all(isinstance(k, str) and k for k in value)
        ):
            problems.append(
                f"requirements[{item!r}].kinds = {plain(value)!r}: give a list of facility kinds, "
                'e.g. kinds = ["primary_school", "nine_year_school"].'
            )
        elif key == "assessed" and not isinstance(value, bool | np.bool_):
            problems.append(
                f"requirements[{item!r}].assessed = {plain(value)!r}: give true or false."
            )
        elif (
            key not in _ALL_LEVELS
            and key not in ("kinds", "assessed")
            and not isinstance(value, str)
        ):
            problems.append(f"requirements[{item!r}].{key} = {plain(value)!r}: give a text.")
    return problems


def _normalised(item: str, values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for level in _ALL_LEVELS:
        if level in out:
            out[level] = _SYMBOLS[out[level]]
    if "kinds" in out:
        out["kinds"] = tuple(out["kinds"])
    return out


def gb50180_requirements(
    overrides: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """The facilities GB 50180-2018 requires at each life-circle level (附录B), as data.

    Parameters
    ----------
    overrides : mapping, optional
        Amendments by item id: ``{"bank": {"assessed": False}}`` stops
        checking an item, ``{"primary_school": {"kinds": ["school"]}}`` says
        which facility kinds meet it, ``{"library": {"name_zh": "图书馆",
        "lc15": "▲", "kinds": ["library"]}}`` adds an item.  Levels take
        ``'▲'``/``'required'``, ``'△'``/``'as_needed'`` or ``''``.

    Returns
    -------
    pandas.DataFrame
        Indexed by item id: ``name_zh``, ``name_en``, ``category``,
        ``table`` (the clause), ``lc15``, ``lc10``, ``lc5``, ``block``
        (``'▲'``, ``'△'`` or ``''``), ``assessed``, ``kinds`` (tuple),
        ``why_not`` and ``unconfirmed``.

    Raises
    ------
    CriterionError
        Listing every problem of ``overrides`` (unknown fields, bad values).
    """
    items: dict[str, dict[str, Any]] = {}
    for entry in _standard()["items"]:
        entry = dict(entry)
        item = entry.pop("id")
        items[item] = {**_empty_item(item), **_normalised(item, entry)}
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise CriterionError(
                f"requirements = {plain(overrides)!r} must be a table of items, e.g. "
                "{'bank': {'assessed': False}}, or a whole table like gb50180_requirements()."
            )
        problems = []
        for item, values in overrides.items():
            if not isinstance(values, Mapping):
                problems.append(
                    f"requirements[{item!r}] = {plain(values)!r} must be a table of fields, "
                    "e.g. { assessed = false }."
                )
                continue
            problems.extend(_item_problems(str(item), values))
        if problems:
            raise CriterionError("; ".join(problems))
        for item, values in overrides.items():
            base = items.get(str(item), _empty_item(str(item)))
            items[str(item)] = {**base, **_normalised(str(item), cast("Mapping[str, Any]", values))}
    table = pd.DataFrame.from_dict(items, orient="index")
    table.index.name = "item"
    return _checked_table(table)


def _checked_table(table: pd.DataFrame) -> pd.DataFrame:
    """A requirements table with every field, checked (the assessed items need kinds)."""
    missing = [f for f in ("name_zh", "name_en", *LEVELS, "assessed", "kinds") if f not in table]
    if missing:
        raise CriterionError(
            f"The requirements table lacks the column(s) {missing!r}; build it with "
            "gp.gb50180_requirements() and change it, or pass amendments as a mapping."
        )
    table = table.copy()
    for name, default in _empty_item("").items():
        if name not in table:
            table[name] = [default] * len(table)
    problems = []
    for item, row in table.iterrows():
        problems.extend(_item_problems(str(item), {k: row[k] for k in FIELDS}))
    if problems:
        raise CriterionError("; ".join(problems))
    for level in _ALL_LEVELS:
        table[level] = table[level].map(_SYMBOLS)
    table["kinds"] = table["kinds"].map(tuple)
    table["assessed"] = table["assessed"].astype(bool)
    needs = table.index[table["assessed"] & (table["kinds"].map(len) == 0)]
    if len(needs):
        raise CriterionError(
            f"Item(s) {list(needs)!r} are assessed but name no facility kinds that meet them; "
            'give kinds = ["..."] or set assessed = false.'
        )
    return table


def _reach(levels: Mapping[str, float] | None, unit: str) -> dict[str, float]:
    standard = _standard()["levels"]
    key = "reach_m" if unit == "m" else "minutes"
    reach = {level: float(standard[level][key]) for level in LEVELS}
    given = dict(levels or {})
    unknown = sorted(set(given) - set(LEVELS))
    if unknown:
        raise CriterionError(
            f"levels has unknown level(s) {unknown!r}; the life circles are {list(LEVELS)!r}, "
            'e.g. levels={"lc15": 800}.'
        )
    for level, value in given.items():
        real = isinstance(value, int | float | np.integer | np.floating)
        number = float(value) if real and not isinstance(value, bool | np.bool_) else None
        if number is None or not math.isfinite(number) or number <= 0:
            raise CriterionError(
                f"levels[{level!r}] = {plain(value)!r} must be a positive number of {unit!r} "
                "(the metric's unit)."
            )
        reach[level] = float(number)
    if not reach["lc5"] <= reach["lc10"] <= reach["lc15"]:
        raise CriterionError(
            f"The reaches must grow from the 5- to the 15-minute circle, got {reach!r}; the "
            "standard's walking distances are 300, 500 and 800-1000 m."
        )
    return reach


def _reach_text(value: float, unit: str) -> tuple[str, str]:
    """The reach as written in the gaps: ``1000米`` / ``1,000 m``, ``10分钟`` / ``10 min``."""
    digits = 0 if float(value).is_integer() else 1
    zh, en = f"{value:.{digits}f}", f"{value:,.{digits}f}"
    return (f"{zh}米", f"{en} m") if unit == "m" else (f"{zh}分钟", f"{en} min")


def _min_by_item(
    n_sites: int,
    site: npt.NDArray[np.intp],
    target_kind: npt.NDArray[np.intp],
    distance: npt.NDArray[np.float64],
    kind_items: list[list[int]],
    n_items: int,
) -> npt.NDArray[np.float64]:
    """(n_sites, n_items): the nearest facility meeting each item, from (site, kind, distance) pairs."""
    counts = np.array([len(x) for x in kind_items], dtype=np.intp)
    flat = np.array([i for x in kind_items for i in x], dtype=np.intp)
    start = np.concatenate([[0], np.cumsum(counts)])
    per_pair = counts[target_kind]
    offsets = np.arange(int(per_pair.sum())) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    item = flat[np.repeat(start[target_kind], per_pair) + offsets]
    out = np.full((n_sites, n_items), np.inf)
    np.minimum.at(out, (np.repeat(site, per_pair), item), np.repeat(distance, per_pair))
    return out


def _warn_absent(table: pd.DataFrame, found: set[str]) -> None:
    """Warn about required items that no facility of the layer can meet."""
    absent = [
        item
        for item, row in table.iterrows()
        if (row[list(LEVELS)] == _REQUIRED).any() and not set(row["kinds"]) & found
    ]
    if absent:
        listed = ", ".join(
            f"{i} ({table.at[i, 'name_zh']}: {list(table.at[i, 'kinds'])})" for i in absent
        )
        warnings.warn(
            f"No facility of the kinds that meet {len(absent)} required item(s) is in the "
            f"facilities layer: {listed}. Every site lacks them. If the facility data do not "
            "cover them, pass requirements={item: {'assessed': False}} (assessed = false in a "
            "study) so that compliance says they were not checked.",
            GeoplanWarning,
            stacklevel=3,
        )


def life_circles(
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame,
    *,
    kind_column: str = "kind",
    metric: DistanceMetric | None = None,
    levels: Mapping[str, float] | None = None,
    requirements: pd.DataFrame | Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """GB 50180-2018 life-circle compliance of every site, with the gaps in Chinese and English.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites, in the facilities' projected CRS.
    facilities : geopandas.GeoDataFrame
        Facilities with a kind column (:data:`~geoplan.indicators.facility_types.KINDS`),
        e.g. from :func:`geoplan.read_osm_pois` or :func:`geoplan.classify_pois`.
    kind_column : str
        The facilities' kind column.
    metric : DistanceMetric, optional
        How reach is measured: a walk network metric in metres (or minutes);
        straight-line metres by default.
    levels : mapping, optional
        Reach of some levels in the metric's unit, e.g. ``{"lc15": 800}``
        (defaults: 300, 500, 1000 m; or 5, 10, 15 min).
    requirements : pandas.DataFrame or mapping, optional
        Amendments to the standard's items, or a whole table (see
        :func:`gb50180_requirements`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``lc5_ok``, ``lc10_ok``, ``lc15_ok``
        (cumulative), ``lc5_missing``, ``lc10_missing``, ``lc15_missing``
        (▲ items of that level not within its reach), ``gaps_zh``,
        ``gaps_en``, ``unchecked_zh``, ``unchecked_en``, ``note`` (why a
        site cannot reach the network, from a network metric; these text
        columns are categorical: sites share few distinct texts), and per
        assessed item ``<item>_m`` (or ``_min``): the nearest facility that
        meets it, ``inf`` when none is within the widest reach.
        ``attrs["life_circles"]`` records the standard, unit, reach and table.

    Raises
    ------
    CriterionError
        For a missing kind column, bad levels or requirements.
    """
    metric = metric or StraightLine()
    unit = metric.unit
    reach = _reach(levels, unit)
    table = (
        _checked_table(requirements)
        if isinstance(requirements, pd.DataFrame)
        else gb50180_requirements(requirements)
    )
    if kind_column not in facilities.columns:
        raise CriterionError(
            f"The facilities have no column {kind_column!r} saying what each is; their columns "
            f"are {[c for c in facilities.columns if c != facilities.geometry.name]!r}. Name it "
            "with kind_column=, or classify POIs with gp.classify_pois / gp.read_osm_pois."
        )
    on_levels = table[list(LEVELS)].ne("").any(axis=1)
    checked = table[table["assessed"] & on_levels]
    kinds = sorted({k for ks in checked["kinds"] for k in ks})
    kind_of = facilities[kind_column]
    _warn_absent(checked, set(kind_of.dropna().astype(str)))
    usable = kind_of.isin(kinds).to_numpy()
    targets = facilities[usable]
    cutoff = max(reach.values())
    index, pairs = _pairs_within(
        sites,
        targets,
        metric,
        cutoff if unit == "m" else None,
        cutoff if unit != "m" else None,
    )
    target_kind = pd.Categorical(targets[kind_column], categories=kinds).codes.astype(np.intp)
    items = list(checked.index)
    kind_items = [[j for j, ks in enumerate(checked["kinds"]) if k in ks] for k in kinds]
    nearest = _min_by_item(
        len(index), pairs.site, target_kind[pairs.target], pairs.distance, kind_items, len(items)
    )
    out = _compliance(nearest, checked, table, reach, unit, index)
    for j, item in enumerate(items):
        out[f"{item}_{unit}"] = nearest[:, j]
    reasons = getattr(metric, "reasons", None)
    if callable(reasons):
        note = pd.Series(pd.Categorical(reasons(_site_points(sites)).to_numpy()), index=index)
    else:
        note = _repeated([""], np.zeros(len(index), np.intp), index)
    out.insert(out.columns.get_loc("unchecked_en") + 1, "note", note)
    out.attrs["life_circles"] = {
        "standard": _standard()["standard"],
        "unit": unit,
        "metric": metric.label,
        "reach": reach,
        "requirements": table.reset_index().to_dict("records"),
    }
    return out


def _compliance(
    nearest: npt.NDArray[np.float64],
    checked: pd.DataFrame,
    table: pd.DataFrame,
    reach: Mapping[str, float],
    unit: str,
    index: pd.Index,
) -> pd.DataFrame:
    """Flags, missing counts, gap texts and the unchecked items, per site."""
    names = _standard()["levels"]
    required = {level: (checked[level] == _REQUIRED).to_numpy() for level in LEVELS}
    missing = {level: nearest > reach[level] for level in LEVELS}
    out = pd.DataFrame(index=index)
    ok = np.ones(len(index), dtype=bool)
    for level in LEVELS:
        ok = ok & ~(missing[level] & required[level]).any(axis=1)
        out[f"{level}_ok"] = ok
    for level in LEVELS:
        out[f"{level}_missing"] = (missing[level] & required[level]).sum(axis=1).astype(np.int64)
    reports, texts_zh, texts_en = [], [], []
    for i, level in enumerate(LEVELS):
        wider = np.zeros_like(missing[level])
        for outer in LEVELS[i + 1 :]:
            wider |= missing[outer] & required[outer]
        reports.append(missing[level] & required[level] & ~wider)
        zh_reach, en_reach = _reach_text(reach[level], unit)
        for name_zh, name_en in zip(checked["name_zh"], checked["name_en"], strict=True):
            texts_zh.append(f"{names[level]['short_zh']}（{zh_reach}）内无{name_zh}")
            texts_en.append(f"no {name_en} within the {names[level]['short_en']} ({en_reach})")
    out["gaps_zh"], out["gaps_en"] = _joined(np.hstack(reports), texts_zh, texts_en, index)
    same = np.zeros(len(index), dtype=np.intp)
    zh, en = _unchecked(table)
    out["unchecked_zh"] = _repeated([zh], same, index)
    out["unchecked_en"] = _repeated([en], same, index)
    return out


def _joined(
    report: npt.NDArray[np.bool_], texts_zh: list[str], texts_en: list[str], index: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """Each row's reported texts joined (``；`` / ``; ``), built once per distinct row.

    Sites share few patterns of gaps, so the texts are joined for the distinct
    rows of ``report`` only and given to every site by its pattern, as a
    categorical column (one copy of each text, however many sites share it).
    """
    if report.shape[1]:
        packed = np.ascontiguousarray(np.packbits(report, axis=1))
        width = packed.shape[1]
        keys = packed.view(np.dtype((np.void, width))).reshape(-1)  # one key per site
        patterns, inverse = np.unique(keys, return_inverse=True)
        bits = np.frombuffer(patterns.tobytes(), dtype=np.uint8).reshape(-1, width)
        rows = np.unpackbits(bits, axis=1, count=report.shape[1]).astype(bool)
    else:
        rows, inverse = np.zeros((1, 0), dtype=bool), np.zeros(len(report), dtype=np.intp)
    out = []
    for texts, separator in ((texts_zh, "；"), (texts_en, "; ")):
        chosen = np.asarray(texts, dtype=object)
        joined = [separator.join(chosen[row]) for row in rows]
        out.append(_repeated(joined, inverse.reshape(-1), index))
    return out[0], out[1]


def _repeated(texts: list[str], codes: npt.NDArray[np.intp], index: pd.Index) -> pd.Series:
    """``texts[codes]`` as a categorical column indexed by ``index``."""
    return pd.Series(pd.Categorical.from_codes(codes, categories=texts), index=index)


def _unchecked(table: pd.DataFrame) -> tuple[str, str]:
    """The ▲ items of each level that are not checked, in Chinese and English."""
    names = _standard()["levels"]
    parts_zh, parts_en = [], []
    for level in reversed(LEVELS):
        rows = table[(table[level] == _REQUIRED) & ~table["assessed"]]
        if len(rows):
            parts_zh.append(f"{names[level]['short_zh']}：{'、'.join(rows['name_zh'])}")
            parts_en.append(f"{names[level]['short_en']}: {', '.join(rows['name_en'])}")
    if not parts_zh:
        return "", ""
    return (
        "未核查（设施数据无法反映）：" + "；".join(parts_zh),
        "not checked (not in facility data): " + "; ".join(parts_en),
    )

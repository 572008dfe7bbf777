"""Hard constraints: which sites may not be chosen, and why, in words.

A constraint never drops a site.  Each returns a Series of reasons aligned to
the sites ("" where the site passes), so the ranking keeps every site, marks
it ineligible and says why ("inside exclusion zone 'Lake Ge ecological red
line'").

Kinds (:data:`CONSTRAINT_KINDS`):

``outside``
    the site must not lie inside (or on) any feature of a polygon layer;
``min_distance``
    the site must be at least ``min_m`` from every feature of a layer, or at
    least the feature's own distance in ``column`` (a per-park
    health-protection distance, for example; an empty cell means none, and
    an infinite, negative or non-numeric one is an error), or the distance
    of its class (``class_column`` and ``distances_m``, e.g. by industry);
``max_distance``
    the nearest feature of a layer must be within ``max_m`` (or
    ``max_minutes`` on a network in minutes);
``min_value`` / ``max_value``
    a column of the sites themselves must be at least ``min`` / at most ``max``
    (for example a minimum capacity in apartment units).  Only a finite number
    can pass: a site whose value is missing (empty, NaN) fails with the reason
    "capacity is missing", and one whose value is infinite (``1e999`` in a CSV
    reads as infinity) or not a number at all fails with "capacity inf is not
    a finite number", for ``min_value`` and ``max_value`` alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import CriterionError, plain
from geoplan.io.lang import reason
from geoplan.measure import criteria as measures
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = [
    "CONSTRAINT_KINDS",
    "Constraint",
    "check_constraints",
    "join_reasons",
    "protection_distances_m",
]

CONSTRAINT_KINDS: Final = ("outside", "min_distance", "max_distance", "min_value", "max_value")


@dataclass(frozen=True)
class Constraint:
    """One hard constraint of a study.

    Parameters
    ----------
    kind : str
        One of :data:`CONSTRAINT_KINDS`.
    layer : str, optional
        The layer it refers to (distance and ``outside`` kinds).
    column : str, optional
        A site column (``min_value``/``max_value``) or a per-feature distance
        column of the layer (``min_distance``).
    limit : float, optional
        ``min_m``, ``max_m``, ``max_minutes``, ``min`` or ``max``.
    metric, mode, unit : str
        Distance engine of distance kinds (as for criteria).
    label : str, optional
        How to name the layer's features in reasons (e.g. "exclusion zone").
    class_column, distances_m : optional
        ``min_distance`` per class of feature: the column naming each
        feature's class and the distance per class (see
        :func:`protection_distances_m`).
    """

    kind: str
    layer: str | None = None
    column: str | None = None
    limit: float | None = None
    metric: str = "straight"
    mode: str | None = None
    unit: str = "m"
    label: str = ""
    class_column: str | None = None
    distances_m: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The constraint as a study-file table."""
        out: dict[str, Any] = {"kind": self.kind}
        limit_key = {
            "min_distance": "min_m",
            "max_distance": "max_m" if self.unit == "m" else "max_minutes",
            "min_value": "min",
            "max_value": "max",
        }.get(self.kind)
        if limit_key and self.limit is not None:
            out[limit_key] = self.limit
        for key in ("layer", "column", "label", "mode", "class_column"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.distances_m:
            out["distances_m"] = dict(self.distances_m)
        if self.kind in ("min_distance", "max_distance"):
            out["metric"] = self.metric
        return out


def _names(layer: gpd.GeoDataFrame, name_column: str | None) -> np.ndarray:
    if name_column and name_column in layer.columns:
        return np.asarray(layer[name_column].astype(str), dtype=object)
    return np.asarray([f"feature {i}" for i in layer.index], dtype=object)


def _names_zh(layer: gpd.GeoDataFrame, names: np.ndarray) -> np.ndarray:
    """Chinese names (``name_zh``) where the layer has them, else the names."""
    if "name_zh" not in layer.columns:
        return names
    zh = layer["name_zh"]
    usable = zh.notna().to_numpy() & (zh.astype(str).str.strip() != "").to_numpy()
    return np.where(usable, zh.astype(str).to_numpy(dtype=object), names)


@dataclass(frozen=True)
class _Say:
    """How reasons are written: the language and the features' names in Chinese."""

    lang: str = "en"
    names_zh: np.ndarray | None = None

    def __call__(self, code: str, target: int | None = None, **fields: object) -> str:
        zh = {}
        if target is not None and self.names_zh is not None:
            zh["name"] = self.names_zh[target]
        return reason(code, self.lang, zh_fields=zh, **fields)


def _fmt(value: float, unit: str) -> str:
    if unit == "m" and value >= 1000:
        return f"{value / 1000:.1f} km"
    if unit == "m":
        return f"{value:.0f} m"
    return f"{value:.1f} {unit}"


def _outside(
    sites: gpd.GeoSeries, layer: gpd.GeoDataFrame, names: np.ndarray, label: str, say: _Say
) -> pd.Series:
    tree = shapely.STRtree(layer.geometry.values)
    site_pos, zone_pos = tree.query(sites.values, predicate="intersects")
    reasons = pd.Series("", index=sites.index, dtype=object)
    if len(site_pos):
        first = pd.Series(zone_pos).groupby(site_pos).first()
        reasons.iloc[first.index.to_numpy()] = [
            say("inside", z, label=label, name=names[z]) for z in first
        ]
    return reasons


def protection_distances_m(
    layer: gpd.GeoDataFrame,
    *,
    column: str | None = None,
    class_column: str | None = None,
    distances_m: Mapping[str, float] | None = None,
    default_m: float = 0.0,
    names: np.ndarray | None = None,
    label: str = "feature",
) -> pd.Series:
    """Each feature's health-protection distance in metres (卫生防护距离).

    A feature's own ``column`` wins where it has a value; otherwise its class
    (``class_column``, e.g. the industry) is looked up in ``distances_m``;
    otherwise ``default_m``.  Chinese standards set the distance per industry
    (the GB 11654–11666 series; GB/T 39499-2020 derives it from emissions), so
    a study gives it per park or per class.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        The features (industrial parks).
    column : str, optional
        A column of distances per feature; an empty cell falls through, and an
        infinite, negative or non-numeric one is an error.
    class_column : str, optional
        A column naming each feature's class.
    distances_m : mapping of str to float, optional
        Distance per class, e.g. ``{"chemical": 1000, "electronics": 100}``;
        every class the layer holds must be named.
    default_m : float
        For features with neither (0: none).
    names, label : optional
        How to name features in messages (their names; "industrial park").

    Returns
    -------
    pandas.Series
        Metres, indexed like ``layer``.
    """
    shown = (
        names if names is not None else np.asarray([plain(i) for i in layer.index], dtype=object)
    )
    out = pd.Series(float(default_m), index=layer.index, dtype="float64")
    if class_column is not None:
        if class_column not in layer.columns:
            raise CriterionError(
                f"The {label} layer has no column {class_column!r} naming each feature's class; "
                f"its columns are {[c for c in layer.columns if c != layer.geometry.name]!r}."
            )
        table = {str(k): float(v) for k, v in (distances_m or {}).items()}
        bad_classes = {k: v for k, v in table.items() if not (np.isfinite(v) and v >= 0)}
        if bad_classes:
            raise CriterionError(
                f"Protection distances must be finite metres >= 0; got {bad_classes!r}. Fix "
                "those classes."
            )
        classes = layer[class_column].astype("string")
        unknown = sorted(set(classes.dropna()) - set(table))
        if unknown:
            raise CriterionError(
                f"Class(es) {unknown!r} of column {class_column!r} have no protection distance; "
                f"the table names {sorted(table)!r}. Add them (e.g. {unknown[0]!r} = 500)."
            )
        out = classes.map(table).astype("float64").fillna(out)
    if column is not None:
        if column not in layer.columns:
            raise CriterionError(
                f"The {label} layer has no column {column!r} of protection distances; its "
                f"columns are {[c for c in layer.columns if c != layer.geometry.name]!r}."
            )
        raw = layer[column]
        own = pd.to_numeric(raw, errors="coerce")
        bad = (raw.notna() & ~(own.ge(0) & np.isfinite(own))).to_numpy()
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise CriterionError(
                f"Column {column!r} of the {label} layer holds the protection distance of each "
                f"feature, but {label} '{shown[first]}' has {plain(raw.iloc[first])!r} "
                f"({int(bad.sum())} feature(s) in all); give a finite number of metres >= 0, or "
                "leave the cell empty for no protection distance."
            )
        out = own.astype("float64").fillna(out)
    return out.rename("protection_m")


def _min_distance(
    sites: gpd.GeoSeries,
    layer: gpd.GeoDataFrame,
    constraint: Constraint,
    names: np.ndarray,
    metric: DistanceMetric,
    label: str,
    say: _Say,
) -> pd.Series:
    limits = protection_distances_m(
        layer,
        column=constraint.column,
        class_column=constraint.class_column,
        distances_m=constraint.distances_m,
        default_m=float(constraint.limit or 0.0),
        names=names,
        label=label,
    ).to_numpy(dtype=np.float64)
    reasons = pd.Series("", index=sites.index, dtype=object)
    if len(layer) == 0 or limits.max() <= 0:
        return reasons
    pairs = metric.within(sites, layer.geometry, float(limits.max()))
    close = pairs.distance < limits[pairs.target]
    if not close.any():
        return reasons
    frame = pd.DataFrame(
        {"site": pairs.site[close], "target": pairs.target[close], "d": pairs.distance[close]}
    ).sort_values(["site", "d"])
    first = frame.drop_duplicates("site")
    reasons.iloc[first["site"].to_numpy()] = [
        say(
            "inside_protection" if d == 0 else "near_protection",
            t,
            label=label,
            name=names[t],
            distance=_fmt(d, metric.unit),
            limit=_fmt(limits[t], metric.unit),
        )
        for t, d in zip(first["target"], first["d"], strict=True)
    ]
    return reasons


def _max_distance(
    sites: gpd.GeoSeries,
    layer: gpd.GeoDataFrame,
    constraint: Constraint,
    names: np.ndarray,
    metric: DistanceMetric,
    label: str,
    say: _Say,
) -> pd.Series:
    limit = float(constraint.limit or 0.0)
    found = measures.nearest_target(sites, layer, metric=metric)
    too_far = ~(found["distance"].to_numpy() <= limit)
    reasons = pd.Series("", index=sites.index, dtype=object)
    texts = []
    for distance, target in zip(found["distance"][too_far], found["target"][too_far], strict=True):
        if pd.isna(target):
            texts.append(say("none_reachable", label=label, metric=metric.label))
        else:
            pos = int(layer.index.get_loc(target))
            texts.append(
                say(
                    "too_far",
                    pos,
                    label=label,
                    name=names[pos],
                    distance=_fmt(distance, metric.unit),
                    limit=_fmt(limit, metric.unit),
                    metric=metric.label,
                )
            )
    reasons[too_far] = texts
    return reasons


def _value(sites: gpd.GeoDataFrame, constraint: Constraint, say: _Say) -> pd.Series:
    column = str(constraint.column)
    if column not in sites.columns:
        raise CriterionError(
            f"Constraint {constraint.kind} refers to site column {column!r}, which the candidates "
            f"do not have; their columns are {[c for c in sites.columns if c != 'geometry']!r}."
        )
    raw = sites[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    finite = np.isfinite(values.to_numpy())
    limit = float(constraint.limit or 0.0)
    outside = values < limit if constraint.kind == "min_value" else values > limit
    bad = outside & finite
    code = "below_min" if constraint.kind == "min_value" else "above_max"
    reasons = pd.Series("", index=sites.index, dtype=object)
    reasons[bad] = [
        say(code, column=column, value=f"{v:g}", limit=f"{limit:g}") for v in values[bad]
    ]
    # Infinite values and text are not a measure of the site: it fails, whichever the limit.
    unusable = ~finite & raw.notna().to_numpy()
    reasons[unusable] = [
        say("not_finite", column=column, value=repr(plain(v))) for v in raw[unusable]
    ]
    reasons[raw.isna()] = say("missing", column=column)
    return reasons


def check_constraints(
    sites: gpd.GeoDataFrame,
    constraints: list[Constraint],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    metrics: Mapping[int, DistanceMetric] | None = None,
    name_columns: Mapping[str, str | None] | None = None,
    lang: str = "en",
) -> pd.Series:
    """Reasons why each site is ineligible ("" for eligible sites).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites in the metric CRS (scored at their geometry; pass
        representative points for polygons).
    constraints : list of Constraint
        The constraints to apply.
    layers : mapping of str to geopandas.GeoDataFrame
        Target layers in the same CRS.
    metrics : mapping of int to DistanceMetric, optional
        Distance engine of each constraint, by position (straight-line when
        absent).
    name_columns : mapping of str to str, optional
        Column naming the features of each layer, for readable reasons.
    lang : {"en", "zh", "zh+en"}
        The language of the reasons (:mod:`geoplan.io.lang`); Chinese ones name
        features by their ``name_zh`` where the layer has it.

    Returns
    -------
    pandas.Series
        "; "-joined reasons aligned to ``sites``.
    """
    metrics = metrics or {}
    name_columns = name_columns or {}
    all_reasons = pd.Series("", index=sites.index, dtype=object)
    for position, constraint in enumerate(constraints):
        metric = metrics.get(position) or StraightLine()
        if constraint.kind in ("min_value", "max_value"):
            reasons = _value(sites, constraint, _Say(lang))
        else:
            layer = layers[str(constraint.layer)]
            names = _names(layer, name_columns.get(str(constraint.layer)))
            say = _Say(lang, _names_zh(layer, names) if lang != "en" else None)
            label = constraint.label or str(constraint.layer).rstrip("s")
            geoms = sites.geometry
            if constraint.kind == "outside":
                reasons = _outside(geoms, layer, names, label, say)
            elif constraint.kind == "min_distance":
                reasons = _min_distance(geoms, layer, constraint, names, metric, label, say)
            else:
                reasons = _max_distance(geoms, layer, constraint, names, metric, label, say)
        all_reasons = join_reasons(all_reasons, reasons)
    return all_reasons


def join_reasons(first: pd.Series, then: pd.Series) -> pd.Series:
    """Two constraints' reasons for the same sites, ``"; "``-joined where both have one.

    Parameters
    ----------
    first, then : pandas.Series
        Reasons aligned to the same sites (``""`` where a site passes).

    Returns
    -------
    pandas.Series
        ``first`` then ``then``, as :func:`check_constraints` joins them.
    """
    both = (first != "") & (then != "")
    return first.where(~both, first + "; ") + then

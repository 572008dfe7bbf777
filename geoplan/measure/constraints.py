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
    an infinite, negative or non-numeric one is an error);
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
from geoplan.measure import criteria as measures
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = ["CONSTRAINT_KINDS", "Constraint", "check_constraints", "join_reasons"]

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
    """

    kind: str
    layer: str | None = None
    column: str | None = None
    limit: float | None = None
    metric: str = "straight"
    mode: str | None = None
    unit: str = "m"
    label: str = ""

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
        for key in ("layer", "column", "label", "mode"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.kind in ("min_distance", "max_distance"):
            out["metric"] = self.metric
        return out


def _names(layer: gpd.GeoDataFrame, name_column: str | None) -> np.ndarray:
    if name_column and name_column in layer.columns:
        return np.asarray(layer[name_column].astype(str), dtype=object)
    return np.asarray([f"feature {i}" for i in layer.index], dtype=object)


def _fmt(value: float, unit: str) -> str:
    if unit == "m" and value >= 1000:
        return f"{value / 1000:.1f} km"
    if unit == "m":
        return f"{value:.0f} m"
    return f"{value:.1f} {unit}"


def _outside(
    sites: gpd.GeoSeries, layer: gpd.GeoDataFrame, names: np.ndarray, label: str
) -> pd.Series:
    tree = shapely.STRtree(layer.geometry.values)
    site_pos, zone_pos = tree.query(sites.values, predicate="intersects")
    reasons = pd.Series("", index=sites.index, dtype=object)
    if len(site_pos):
        first = pd.Series(zone_pos).groupby(site_pos).first()
        reasons.iloc[first.index.to_numpy()] = [f"inside {label} '{names[z]}'" for z in first]
    return reasons


def _protection_distances(
    layer: gpd.GeoDataFrame, column: str, names: np.ndarray, label: str
) -> np.ndarray:
    """Each feature's own protection distance; an empty cell is none (0)."""
    raw = layer[column]
    limits = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = raw.notna().to_numpy() & ~(np.isfinite(limits) & (limits >= 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise CriterionError(
            f"Column {column!r} of the {label} layer holds the protection distance of each "
            f"feature, but {label} '{names[first]}' has {plain(raw.iloc[first])!r} "
            f"({int(bad.sum())} feature(s) in all); give a finite number of metres >= 0, or "
            "leave the cell empty for no protection distance."
        )
    return np.asarray(np.nan_to_num(limits, nan=0.0), dtype=np.float64)


def _min_distance(
    sites: gpd.GeoSeries,
    layer: gpd.GeoDataFrame,
    constraint: Constraint,
    names: np.ndarray,
    metric: DistanceMetric,
    label: str,
) -> pd.Series:
    if constraint.column:
        limits = _protection_distances(layer, str(constraint.column), names, label)
    else:
        limits = np.full(len(layer), float(constraint.limit or 0.0))
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
        (
            f"inside {label} '{names[t]}'"
            if d == 0
            else f"{_fmt(d, metric.unit)} from {label} '{names[t]}'"
        )
        + f", closer than its {_fmt(limits[t], metric.unit)} protection distance"
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
) -> pd.Series:
    limit = float(constraint.limit or 0.0)
    found = measures.nearest_target(sites, layer, metric=metric)
    too_far = ~(found["distance"].to_numpy() <= limit)
    reasons = pd.Series("", index=sites.index, dtype=object)
    texts = []
    for distance, target in zip(found["distance"][too_far], found["target"][too_far], strict=True):
        if pd.isna(target):
            texts.append(f"no {label} reachable ({metric.label})")
        else:
            pos = layer.index.get_loc(target)
            texts.append(
                f"nearest {label} '{names[pos]}' is {_fmt(distance, metric.unit)} away "
                f"(limit {_fmt(limit, metric.unit)}, {metric.label})"
            )
    reasons[too_far] = texts
    return reasons


def _value(sites: gpd.GeoDataFrame, constraint: Constraint) -> pd.Series:
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
    word = "below the minimum" if constraint.kind == "min_value" else "above the maximum"
    reasons = pd.Series("", index=sites.index, dtype=object)
    reasons[bad] = [f"{column} {v:g} is {word} {limit:g}" for v in values[bad]]
    # Infinite values and text are not a measure of the site: it fails, whichever the limit.
    unusable = ~finite & raw.notna().to_numpy()
    reasons[unusable] = [f"{column} {plain(v)!r} is not a finite number" for v in raw[unusable]]
    reasons[raw.isna()] = f"{column} is missing"
    return reasons


def check_constraints(
    sites: gpd.GeoDataFrame,
    constraints: list[Constraint],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    metrics: Mapping[int, DistanceMetric] | None = None,
    name_columns: Mapping[str, str | None] | None = None,
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
            reasons = _value(sites, constraint)
        else:
            layer = layers[str(constraint.layer)]
            names = _names(layer, name_columns.get(str(constraint.layer)))
            label = constraint.label or str(constraint.layer).rstrip("s")
            geoms = sites.geometry
            if constraint.kind == "outside":
                reasons = _outside(geoms, layer, names, label)
            elif constraint.kind == "min_distance":
                reasons = _min_distance(geoms, layer, constraint, names, metric, label)
            else:
                reasons = _max_distance(geoms, layer, constraint, names, metric, label)
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

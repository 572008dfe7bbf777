"""The criterion kinds a study can use: what each measures, the keys it takes, its unit.

Every ``[[criteria]]`` table names a ``kind``.  Each kind here is a
:class:`Kind`: the function that measures it (from :mod:`geoplan.measure` or
:mod:`geoplan.indicators`), whether it needs a cutoff (``radius_m`` /
``max_minutes``) or an attribute ``column``, the keys of its own that it takes
(:class:`Option`, checked with a fix hint), and the unit of its raw value,
which ends the ``value__<criterion>__<unit>`` column.

================================  =====================================================
kind                              raw value (unit)
================================  =====================================================
``nearest_distance``              distance to the nearest feature (``m`` / ``min``)
``ideal_band``                    the same, scored with a band decay (near, not too near)
``count_within``                  features within the cutoff (``count``)
``sum_within``                    an attribute summed within the cutoff, optionally
                                  decayed: gravity access (the column's name)
``jobs_per_worker``               2SFCA / E2SFCA: jobs per competing resident worker
                                  (``jobs_per_worker``); ``housing`` names the workers
``jobs_housing_ratio``            jobs ÷ resident workers within the catchment (``ratio``)
``commute_share``                 share of the layer's jobs within the cutoff, e.g. the
                                  5 km "happy commute" or 45 minutes (``share``)
``lines_within``                  metro lines (or stations, transfer stations) within
                                  walking reach (``lines`` ...)
``protection_margin``             metres clear of the parks' health-protection
                                  distances, negative inside one (``m``)
``downwind_exposure``             share of the time the wind blows from a park towards
                                  the site (``share``)
``life_circle``                   GB 50180 items a life circle lacks (``missing``); the
                                  gaps, in words, go to ``detail__<criterion>``
================================  =====================================================

A kind's function receives the sites and its (selected) target layer in the
study's metric CRS, the criterion, its distance metric and every layer of the
study (for the layers an option names, such as ``housing``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.indicators import access, balance, industry, life_circles, stations
from geoplan.measure import criteria as measures
from geoplan.measure.constraints import protection_distances_m
from geoplan.measure.decay import Decay
from geoplan.measure.distance import DistanceMetric

__all__ = ["KINDS", "Kind", "Option", "measure_criterion"]


class CriterionLike(Protocol):
    """What a kind's function reads of a criterion (a :class:`~geoplan.study.scoring.Criterion`)."""

    @property
    def name(self) -> str: ...
    @property
    def column(self) -> str | None: ...
    @property
    def radius_m(self) -> float | None: ...
    @property
    def max_minutes(self) -> float | None: ...
    @property
    def distance_decay(self) -> Decay | None: ...
    @property
    def extra(self) -> Mapping[str, Any]: ...


Layers = Mapping[str, gpd.GeoDataFrame]
Measure = Callable[
    [gpd.GeoDataFrame, gpd.GeoDataFrame, CriterionLike, DistanceMetric, Layers],
    "pd.Series | pd.DataFrame",
]


# --------------------------------------------------------------------------------------
# Options: the keys of a kind's own, each parsed with a fix hint on failure
# --------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a name (text)")
    return value


def _positive(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError("must be a positive number")
    if not np.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _non_negative(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("must be a number >= 0")
    if not np.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _table_of_numbers(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table such as { chemical = 1000, electronics = 100 }")
    return {str(k): _non_negative(v) for k, v in value.items()}


def _choice(*allowed: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {list(allowed)!r}")
        return str(value)

    return parse


@dataclass(frozen=True)
class Option:
    """A key a kind takes in its ``[[criteria]]`` table.

    Attributes
    ----------
    name : str
        The key.
    parse : callable
        Checks and converts the value; raises ``ValueError`` saying what it must be.
    example : str
        A correct value, shown in messages (``housing = "housing"``).
    required : bool
        Whether the key must be given.
    default : object
        The value when the key is left out.
    layer : bool
        Whether the value names a layer of the study.
    """

    name: str
    parse: Callable[[object], Any]
    example: str
    required: bool = False
    default: Any = None
    layer: bool = False


@dataclass(frozen=True)
class Kind:
    """One criterion kind.

    Attributes
    ----------
    name : str
        The kind's name in study files.
    measure : callable
        ``(sites, targets, criterion, metric, layers) -> Series`` of raw
        values (or a DataFrame with ``value`` and ``detail`` columns).
    unit : callable
        The raw value's unit for a criterion (``count``, ``share`` ...).
    cutoff : bool
        Whether ``radius_m`` (or ``max_minutes``) is required.
    column : bool
        Whether ``column`` (an attribute of the target layer) is required.
    options : tuple of Option
        The keys of its own.
    band : bool
        Whether its decay must be a band (near, not too near).
    """

    name: str
    measure: Measure
    unit: Callable[[CriterionLike, str], str]
    cutoff: bool = False
    column: bool = False
    options: tuple[Option, ...] = ()
    band: bool = False


def _cutoffs(c: CriterionLike) -> dict[str, float | None]:
    return {"radius_m": c.radius_m, "max_minutes": c.max_minutes}


def _site_workers(sites: gpd.GeoDataFrame, c: CriterionLike) -> tuple[gpd.GeoDataFrame, str | None]:
    """The sites with their future resident workers, when the criterion counts them as demand."""
    units = c.extra.get("site_units_column")
    if units is None:
        return sites, None
    workers = access.resident_workers(
        sites, units_column=str(units), residents_per_unit=float(c.extra["residents_per_unit"])
    )
    return sites.assign(_new_workers=workers.to_numpy()), "_new_workers"


def _jobs_per_worker(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    sites, site_workers = _site_workers(s, c)
    found = access.two_step_fca(
        sites,
        t,
        layers[str(c.extra["housing"])],
        jobs_column=str(c.column),
        workers_column=str(c.extra["workers_column"]),
        site_workers_column=site_workers,
        method=str(c.extra["method"]),
        metric=m,
        radius_m=c.radius_m,
        max_minutes=c.max_minutes,
    )
    return found["jobs_per_worker"]


def _jobs_housing_ratio(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    sites, site_workers = _site_workers(s, c)
    found = balance.jobs_housing_ratio(
        sites,
        t,
        layers[str(c.extra["housing"])],
        jobs_column=str(c.column),
        workers_column=str(c.extra["workers_column"]),
        site_workers_column=site_workers,
        metric=m,
        radius_m=c.radius_m,
        max_minutes=c.max_minutes,
    )
    return found["jobs_housing_ratio"]


def _commute_share(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    """Share of the layer's jobs within the cutoff (a cumulative sum over the total)."""
    found = access.cumulative_opportunities(
        s,
        t,
        column=str(c.column),
        cutoffs_m=c.radius_m,
        cutoffs_min=c.max_minutes,
        metric=m,
    )
    total = float(pd.to_numeric(t[str(c.column)]).sum())
    return found.iloc[:, 0] / total if total > 0 else found.iloc[:, 0] * 0.0


def _lines_within(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    found = stations.lines_within(
        s,
        t,
        radius_m=float(c.radius_m or stations.INFLUENCE_M),
        lines_column=str(c.extra["lines_column"]),
        metric=m,
    )
    return found[str(c.extra["count"])]


def _protection_margin(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    distances = protection_distances_m(
        t,
        column=c.extra.get("distance_column"),
        class_column=c.extra.get("class_column"),
        distances_m=c.extra.get("distances_m"),
        default_m=float(c.extra["default_m"]),
    )
    return industry.protection_margin(s, t, distances_m=distances, metric=m)


def _downwind(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.Series:
    return industry.downwind_exposure(
        s, t, wind_rose=c.extra["wind_rose"], radius_m=float(c.radius_m or 5000.0)
    )


def _life_circle(
    s: gpd.GeoDataFrame, t: gpd.GeoDataFrame, c: CriterionLike, m: DistanceMetric, layers: Layers
) -> pd.DataFrame:
    level = str(c.extra["level"])
    found = life_circles.life_circles(s, t, kind_column=str(c.extra["kind_column"]), metric=m)
    gaps = found["gaps_zh"].astype(str).str.cat(found["gaps_en"].astype(str), sep=" | ")
    return pd.DataFrame(
        {
            "value": found[f"{level}_missing"].astype(float),
            "detail": gaps.where(found[f"{level}_missing"] > 0, ""),
        },
        index=found.index,
    )


_HOUSING = Option("housing", _text, 'housing = "housing"', required=True, layer=True)
_WORKERS = Option("workers_column", _text, 'workers_column = "workers"', default="workers")
_SITE_UNITS = Option("site_units_column", _text, 'site_units_column = "capacity"')
_PER_UNIT = Option("residents_per_unit", _positive, "residents_per_unit = 1.7", default=1.7)

#: Every criterion kind, by name.
KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            "nearest_distance",
            lambda s, t, c, m, _: measures.nearest_distance(s, t, metric=m),
            lambda c, unit: unit,
        ),
        Kind(
            "ideal_band",
            lambda s, t, c, m, _: measures.nearest_distance(s, t, metric=m),
            lambda c, unit: unit,
            band=True,
        ),
        Kind(
            "count_within",
            lambda s, t, c, m, _: measures.count_within(s, t, metric=m, **_cutoffs(c)),
            lambda c, unit: "count",
            cutoff=True,
        ),
        Kind(
            "sum_within",
            lambda s, t, c, m, _: measures.sum_within(
                s, t, column=str(c.column), decay=c.distance_decay, metric=m, **_cutoffs(c)
            ),
            lambda c, unit: str(c.column),
            cutoff=True,
            column=True,
        ),
        Kind(
            "jobs_per_worker",
            _jobs_per_worker,
            lambda c, unit: "jobs_per_worker",
            cutoff=True,
            column=True,
            options=(
                _HOUSING,
                _WORKERS,
                Option("method", _choice("2sfca", "e2sfca"), 'method = "e2sfca"', default="2sfca"),
                _SITE_UNITS,
                _PER_UNIT,
            ),
        ),
        Kind(
            "jobs_housing_ratio",
            _jobs_housing_ratio,
            lambda c, unit: "ratio",
            cutoff=True,
            column=True,
            options=(_HOUSING, _WORKERS, _SITE_UNITS, _PER_UNIT),
        ),
        Kind("commute_share", _commute_share, lambda c, unit: "share", cutoff=True, column=True),
        Kind(
            "lines_within",
            _lines_within,
            lambda c, unit: str(c.extra["count"]),
            cutoff=True,
            options=(
                Option("lines_column", _text, 'lines_column = "lines"', default="lines"),
                Option(
                    "count",
                    _choice("lines", "stations", "transfer_stations"),
                    'count = "transfer_stations"',
                    default="lines",
                ),
            ),
        ),
        Kind(
            "protection_margin",
            _protection_margin,
            lambda c, unit: "m",
            options=(
                Option("distance_column", _text, 'distance_column = "health_buffer_m"'),
                Option("class_column", _text, 'class_column = "industry"'),
                Option("distances_m", _table_of_numbers, "distances_m = { chemical = 1000 }"),
                Option("default_m", _non_negative, "default_m = 0", default=0.0),
            ),
        ),
        Kind(
            "downwind_exposure",
            _downwind,
            lambda c, unit: "share",
            cutoff=True,
            options=(
                Option(
                    "wind_rose",
                    _table_of_numbers,
                    "wind_rose = { N = 8, NE = 12, E = 20, SE = 25, S = 10, ... }",
                    required=True,
                ),
            ),
        ),
        Kind(
            "life_circle",
            _life_circle,
            lambda c, unit: "missing",
            options=(
                Option("level", _choice("lc5", "lc10", "lc15"), 'level = "lc15"', default="lc15"),
                Option("kind_column", _text, 'kind_column = "kind"', default="kind"),
            ),
        ),
    )
}


def measure_criterion(
    criterion: CriterionLike,
    kind: str,
    sites: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    metric: DistanceMetric,
    layers: Layers,
) -> tuple[pd.Series, pd.Series | None]:
    """A criterion's raw values, and its details in words where the kind has them.

    Parameters
    ----------
    criterion : Criterion
        What to measure.
    kind : str
        Its kind (a key of :data:`KINDS`).
    sites, targets : geopandas.GeoDataFrame
        In the same projected CRS.
    metric : DistanceMetric
        How distances are measured.
    layers : mapping of str to geopandas.GeoDataFrame
        Every layer of the study, projected alike.

    Returns
    -------
    tuple of pandas.Series
        The raw values and the details (``None`` for kinds without them).
    """
    found = KINDS[kind].measure(sites, targets, criterion, metric, layers)
    if isinstance(found, pd.DataFrame):
        return found["value"], found["detail"]
    return found, None

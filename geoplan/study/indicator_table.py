"""The indicator table of a study: every industry–city indicator for every candidate site.

:func:`study_indicators` computes, for the study's candidate sites, each group
of indicators whose inputs the study has, and leaves out the others (saying so
in the log):

=====================  ==================================  ===========================================
group                  needs                               columns
=====================  ==================================  ===========================================
station areas          a ``stations`` layer                ``station_m``, ``ring``, ``ring_zh``,
                                                           ``lines``, ``line_names``,
                                                           ``transfer_stations``
jobs within reach      a jobs layer (``parks``)            ``jobs_within_<cutoff>`` per cutoff,
                                                           ``share_jobs_within_5000m`` ...
competition            jobs and a ``housing`` layer        ``jobs_per_worker`` (2SFCA/E2SFCA),
                                                           ``jobs_housing_ratio``,
                                                           ``jobs_housing_balance``, and the effect of
                                                           building each candidate
life circles           a ``facilities`` layer with kinds   ``lc5_ok``, ``lc10_ok``, ``lc15_ok``,
                                                           ``gaps_zh``, ``gaps_en`` ...
industry               parks (a wind rose for exposure)    ``protection_margin_m``,
                                                           ``downwind_exposure``
=====================  ==================================  ===========================================

Distances: with a ``[network]`` source, walking metres along streets for
stations and life circles and ``commute_mode`` minutes (walk, bike, e-bike,
drive, or transit: walk + metro on the study's ``[transit]`` lines) for jobs;
without one, straight-line metres (jobs within ``cutoffs_m``), or walk +
metro minutes when the study describes its metro lines.  The study's
``[indicators]`` table sets the options (see :data:`INDICATOR_DEFAULTS`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplan.indicators import access, balance, building, industry, life_circles, stations
from geoplan.io import coords
from geoplan.measure.constraints import protection_distances_m
from geoplan.measure.distance import DistanceMetric, StraightLine
from geoplan.study._checks import INDICATOR_DEFAULTS
from geoplan.study.files import Study
from geoplan.study.ranking import _StudyNetworks, study_sites

__all__ = ["INDICATOR_DEFAULTS", "study_indicators"]

logger = logging.getLogger(__name__)


class _Metrics:
    """The distance metrics an indicator table needs, sharing the study's network loads."""

    def __init__(self, study: Study, crs: Any) -> None:
        self.study = study
        self.crs = crs
        self.streets = study.network.get("source") is not None
        self._networks: _StudyNetworks | None = None

    @property
    def networks(self) -> _StudyNetworks:
        if self._networks is None:
            self._networks = _StudyNetworks(self.study, self.crs)
        return self._networks

    def walk_m(self) -> DistanceMetric:
        """Walking metres along streets, else straight-line metres."""
        return self.networks("walk", "m") if self.streets else StraightLine()

    def commute(self, mode: str) -> DistanceMetric | None:
        """Minutes by ``mode``, or ``None`` when the study cannot measure them."""
        if mode == "transit":
            if self.study.transit_service is None:
                return None
            return self.networks("transit", "min")
        return self.networks(mode, "min") if self.streets else None


def _layer(study: Study, options: Mapping[str, Any], key: str) -> str | None:
    name = options[key]
    if name in study.layers:
        return str(name)
    logger.info("indicators: no layer %r (%s); its indicators are left out", name, key)
    return None


def study_indicators(study: Study) -> gpd.GeoDataFrame:
    """Every industry–city indicator the study's data allow, for every candidate site.

    Parameters
    ----------
    study : Study
        A loaded study; its ``[indicators]`` table (``study.indicators``) sets
        the options, defaults in :data:`INDICATOR_DEFAULTS`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate site in the order of the study's sites, with
        the sites' own columns and the indicators' (EPSG:4326).
    """
    options = {**INDICATOR_DEFAULTS, **study.indicators}
    crs = study.metric_crs or coords.local_metric_crs(study.bounds())
    sites = study_sites(study)
    projected = {name: layer.to_crs(crs) for name, layer in study.layers.items()}
    points = sites.to_crs(crs)
    metrics = _Metrics(study, crs)
    walk = metrics.walk_m()
    parts: list[pd.DataFrame] = []

    if (name := _layer(study, options, "stations_layer")) is not None:
        metro = projected[name]
        ring = stations.station_areas(
            points,
            metro,
            metric=walk,
            core_m=float(options["core_m"]),
            influence_m=float(options["influence_m"]),
        )
        parts.append(ring.drop(columns="station"))
        if options["lines_column"] in metro.columns:
            parts.append(
                stations.lines_within(
                    points,
                    metro,
                    radius_m=float(options["influence_m"]),
                    lines_column=str(options["lines_column"]),
                    metric=walk,
                ).drop(columns="stations")
            )

    if (jobs_name := _layer(study, options, "jobs_layer")) is not None:
        jobs = projected[jobs_name]
        column = str(options["jobs_column"])
        commute = metrics.commute(str(options["commute_mode"]))
        if commute is not None:
            parts.append(
                access.cumulative_opportunities(
                    points, jobs, column=column, cutoffs_min=options["cutoffs_min"], metric=commute
                )
            )
        within_m = access.cumulative_opportunities(
            points, jobs, column=column, cutoffs_m=options["cutoffs_m"], metric=walk
        )
        parts.append(within_m)
        parts.append(
            balance.commute_shares(
                points, jobs, jobs_column=column, metric=walk, time_metric=commute
            )
        )
        if (housing_name := _layer(study, options, "housing_layer")) is not None:
            housing = projected[housing_name]
            timed = commute is not None
            metric = commute if commute is not None else walk
            reach = {
                "radius_m": None if timed else float(options["catchment_m"]),
                "max_minutes": float(options["catchment_min"]) if timed else None,
            }
            workers_column = str(options["workers_column"])
            parts.append(
                access.two_step_fca(
                    points,
                    jobs,
                    housing,
                    jobs_column=column,
                    workers_column=workers_column,
                    method=str(options["method"]),
                    metric=metric,
                    radius_m=reach["radius_m"],
                    max_minutes=reach["max_minutes"],
                )
            )
            parts.append(
                balance.jobs_housing_ratio(
                    points,
                    jobs,
                    housing,
                    jobs_column=column,
                    workers_column=workers_column,
                    metric=metric,
                    radius_m=reach["radius_m"],
                    max_minutes=reach["max_minutes"],
                )
            )
            units = str(options["site_units_column"])
            if units in points.columns:  # what building each candidate at its capacity changes
                workers = access.resident_workers(
                    points, units_column=units, residents_per_unit=options["residents_per_unit"]
                )
                district = str(options["district_column"])
                parts.append(
                    building.building_effect(
                        points.assign(new_workers=workers.to_numpy()),
                        jobs,
                        housing,
                        site_workers_column="new_workers",
                        jobs_column=column,
                        workers_column=workers_column,
                        method=str(options["method"]),
                        metric=metric,
                        district_column=district if district in points.columns else None,
                        radius_m=reach["radius_m"],
                        max_minutes=reach["max_minutes"],
                    )
                )

    if (facilities_name := _layer(study, options, "facilities_layer")) is not None:
        facilities = projected[facilities_name]
        if options["kind_column"] in facilities.columns:
            parts.append(
                life_circles.life_circles(
                    points, facilities, kind_column=str(options["kind_column"]), metric=walk
                )
            )

    if (parks_name := _layer(study, options, "parks_layer")) is not None:
        parks = projected[parks_name]
        given = [options["protection_column"], options["protection_class_column"]]
        if any(given):
            distances = protection_distances_m(
                parks,
                column=options["protection_column"],
                class_column=options["protection_class_column"],
                distances_m=options["protection_distances_m"],
            )
            parts.append(
                industry.protection_margin(points, parks, distances_m=distances, metric=walk)
                .rename("protection_margin_m")
                .to_frame()
            )
        if options["wind_rose"]:
            parts.append(
                industry.downwind_exposure(
                    points,
                    parks,
                    wind_rose=options["wind_rose"],
                    radius_m=float(options["wind_radius_m"]),
                ).to_frame()
            )

    columns: list[pd.DataFrame] = [sites.drop(columns=sites.geometry.name)]
    seen = set(columns[0].columns)
    for part in parts:  # a column two groups both give (jobs within the catchment) once
        part = part.drop(columns=[c for c in part.columns if c in seen])
        seen |= set(part.columns)
        columns.append(part.set_axis(sites.index))
    table = pd.concat(columns, axis=1)
    return gpd.GeoDataFrame(table, geometry=sites.geometry, crs=sites.crs).to_crs("EPSG:4326")

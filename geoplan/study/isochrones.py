"""Walk-time isochrones of a study's best sites, along its ``[network]``'s streets.

A study asks for them in its ``[map]`` table::

    [map]
    isochrones = { sites = "top", minutes = [5, 10, 15] }

``sites`` is ``"top"`` (the map's top sites), a number of best eligible sites,
or a list of site ids; ``minutes`` the time bands; ``buffer_m`` (default 50)
the frontage drawn on each side of the reachable streets.  Isochrones follow
the study's walking network, so a study without ``[network]`` cannot have
them: :func:`site_isochrones` then says so in one sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import geopandas as gpd
import pandas as pd

from geoplan._errors import NetworkError, StudyError
from geoplan.io import coords
from geoplan.measure.candidates import scoring_points
from geoplan.study.files import Study

__all__ = ["ISOCHRONE_KEYS", "check_isochrone_spec", "site_isochrones"]

logger = logging.getLogger(__name__)

#: Keys of a ``[map] isochrones`` table.
ISOCHRONE_KEYS: Final = frozenset({"sites", "minutes", "buffer_m"})
DEFAULT_MINUTES: Final = (5.0, 10.0, 15.0)


def check_isochrone_spec(spec: object) -> list[str]:
    """What is wrong with a ``[map] isochrones`` table (an empty list when nothing is).

    Parameters
    ----------
    spec : object
        The value of the key.

    Returns
    -------
    list of str
        One sentence per problem.
    """
    example = '{ sites = "top", minutes = [5, 10, 15] }'
    if not isinstance(spec, Mapping):
        return [f"[map] isochrones must be a table such as {example}, got {spec!r}"]
    problems = [
        f"[map] isochrones has an unknown key {key!r}; the keys are {sorted(ISOCHRONE_KEYS)!r}"
        for key in sorted(set(spec) - ISOCHRONE_KEYS)
    ]
    minutes = spec.get("minutes", list(DEFAULT_MINUTES))
    if (
        not isinstance(minutes, list | tuple)
        or not minutes
        or not all(
            isinstance(m, int | float) and not isinstance(m, bool) and m > 0 for m in minutes
        )
    ):
        problems.append(
            f"[map] isochrones.minutes must be a list of positive minutes such as [5, 10, 15], "
            f"got {minutes!r}"
        )
    sites = spec.get("sites", "top")
    good_sites = (
        sites == "top"
        or (isinstance(sites, int) and not isinstance(sites, bool) and sites >= 1)
        or (
            isinstance(sites, list) and bool(sites) and all(isinstance(s, str | int) for s in sites)
        )
    )
    if not good_sites:
        problems.append(
            '[map] isochrones.sites must be "top" (the map\'s top sites), a number of best '
            f'sites such as 3, or a list of site ids such as ["C02", "C27"], got {sites!r}'
        )
    buffer_m = spec.get("buffer_m", 50.0)
    if isinstance(buffer_m, bool) or not isinstance(buffer_m, int | float) or not buffer_m > 0:
        problems.append(f"[map] isochrones.buffer_m must be positive metres, got {buffer_m!r}")
    return problems


def _id_column(ranked: pd.DataFrame) -> str | None:
    meta = ranked.attrs.get("geoplan", {})
    column = meta.get("id_column") if isinstance(meta, Mapping) else None
    for candidate in (column, "site_id"):
        if candidate and candidate in ranked.columns:
            return str(candidate)
    return None


def _chosen(ranked: gpd.GeoDataFrame, sites: Any, top_n: int) -> gpd.GeoDataFrame:
    """The sites whose isochrones are drawn: best eligible ones, or those named."""
    eligible = ranked[ranked["eligible"].astype(bool)] if "eligible" in ranked.columns else ranked
    if sites == "top":
        return eligible.head(top_n)
    if isinstance(sites, int):
        return eligible.head(sites)
    column = _id_column(ranked)
    if column is None:
        raise StudyError(
            [
                "[map] isochrones.sites names site ids, but the table has no site id column; "
                'use sites = "top" or a number of best sites'
            ]
        )
    wanted = [str(s) for s in sites]
    ids = ranked[column].astype(str)
    unknown = [s for s in wanted if s not in set(ids)]
    if unknown:
        raise StudyError(
            [
                f"[map] isochrones.sites names sites that are not in the table: {unknown!r} "
                f"(ids are in the {column!r} column, e.g. {ids.head(3).tolist()!r})"
            ]
        )
    return ranked.set_index(ids, drop=False).loc[wanted]


def site_isochrones(
    study: Study | None,
    ranked: gpd.GeoDataFrame,
    *,
    sites: str | int | Sequence[str | int] = "top",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    buffer_m: float = 50.0,
    top_n: int | None = None,
) -> gpd.GeoDataFrame:
    """Walk-time isochrones of a study's sites, along its ``[network]``'s walking streets.

    Parameters
    ----------
    study : Study or None
        The study; it must have a ``[network]`` source.
    ranked : geopandas.GeoDataFrame
        Its ranking (:func:`geoplan.rank_sites`, or the table read back).
    sites : "top", int or sequence of site ids
        The top ``top_n`` eligible sites, the best ``n`` eligible ones, or
        the sites with these ids.
    minutes : sequence of float
        Time bands.
    buffer_m : float
        Frontage drawn on each side of the reachable streets.
    top_n : int, optional
        How many sites ``"top"`` means (default: the study's ``top``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site and band, in EPSG:4326: ``site_id`` (when the table
        has ids), ``name`` and ``name_zh`` (when it has them), ``rank``,
        ``minutes``, ``area_km2`` and the polygon.

    Raises
    ------
    NetworkError
        If the study has no street network.
    StudyError
        For sites named that are not in the table.
    """
    from geoplan.streets.isochrone import isochrones
    from geoplan.streets.routing import NetworkMetric
    from geoplan.study.ranking import study_metric

    named = list(sites) if isinstance(sites, Sequence) and not isinstance(sites, str) else sites
    problems = check_isochrone_spec(
        {"sites": named, "minutes": list(minutes), "buffer_m": buffer_m}
    )
    if problems:
        raise StudyError(problems)
    if study is None or not (study.network or {}).get("source"):
        raise NetworkError(
            'Isochrones need a street network: add [network] source = "city.osm.pbf" to the '
            "study (walk times follow its streets), or leave out [map] isochrones / --isochrones."
        )
    chosen = _chosen(ranked, named, int(top_n if top_n is not None else study.top))
    if not len(chosen):
        raise StudyError(["[map] isochrones: there are no eligible sites to draw them for"])
    metric = study_metric(study, metric="network", mode="walk", unit="min")
    if not isinstance(metric, NetworkMetric):  # pragma: no cover - study_metric's contract
        raise NetworkError("the study's walk metric is not a street network")
    network = metric.network
    crs = study.metric_crs or coords.local_metric_crs(study.bounds())
    column = _id_column(ranked)
    labels = chosen[column].astype(str) if column else pd.Series(chosen.index.astype(str))
    points = gpd.GeoSeries(
        scoring_points(chosen.to_crs(crs)).to_numpy(), index=pd.Index(labels), crs=crs
    )
    found = isochrones(network, points, minutes=minutes, buffer_m=float(buffer_m))
    by_label = chosen.set_axis(pd.Index(labels))
    out = found.rename(columns={"point": column or "site"})
    key = out[column or "site"]
    for extra in ("name", "name_zh", "rank"):
        if extra in by_label.columns:
            out.insert(1, extra, by_label[extra].reindex(key.to_numpy()).to_numpy())
    logger.info("isochrones of %d sites, bands %s min", len(chosen), list(minutes))
    return out

"""Station areas (TOD): which ring of which station a site lies in, and the lines within reach.

Chinese practice measures a metro station's influence by walking distance in
two rings.  The Ministry of Housing and Urban-Rural Development's planning and
design guideline for areas along urban rail transit (住房和城乡建设部《城市轨道沿线
地区规划设计导则》, 2015) names the *station core area* (站点核心区, 300–500 m
from the station) and the *station influence area* (站点影响区, 500–800 m).
geoplan's presets are the outer edges of those bands, ``core_m = 500`` and
``influence_m = 800``; both are keywords (a study may set 300/500 for a dense
centre).  Distances come from a metric in metres: along the walk network
(:class:`~geoplan.streets.routing.NetworkMetric` with ``unit="m"``) or, by
default, in a straight line.

* :func:`station_areas` -- the nearest station, the walking metres to it and
  the ring (``core`` / ``influence`` / ``outside``, with the Chinese names);
* :func:`lines_within` -- how many distinct metro lines, stations and transfer
  stations (stations of two lines or more) lie within a walking distance.

A station's lines come from a column such as the sample's ``lines``
(``"1"``, ``"2"`` or ``"1;2"``; separators ``; , / 、 |`` and spaces).
"""

from __future__ import annotations

import re
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError
from geoplan.measure.criteria import _pairs_within, nearest_target
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = ["CORE_M", "INFLUENCE_M", "RINGS", "lines_within", "station_areas", "station_lines"]

#: Outer edge of the station core area (站点核心区), metres of walking.
CORE_M: Final = 500.0
#: Outer edge of the station influence area (站点影响区), metres of walking.
INFLUENCE_M: Final = 800.0
#: Ring names, English and Chinese.
RINGS: Final = {"core": "核心区", "influence": "影响区", "outside": "区外"}

_SEPARATORS: Final = re.compile(r"[;,/、|\s]+")


def _metric_in_metres(metric: DistanceMetric | None) -> DistanceMetric:
    metric = metric or StraightLine()
    if metric.unit != "m":
        raise CriterionError(
            f"Station areas are measured in metres of walking, but the metric gives {metric.unit!r} "
            f"({metric.label}); use a network metric with unit='m'."
        )
    return metric


def station_lines(stations: gpd.GeoDataFrame, *, lines_column: str = "lines") -> list[list[str]]:
    """Each station's metro lines, parsed from a column such as ``"1;2"``.

    Parameters
    ----------
    stations : geopandas.GeoDataFrame
        The stations.
    lines_column : str
        The column naming each station's lines.

    Returns
    -------
    list of list of str
        One list per station (empty where the cell is empty).
    """
    if lines_column not in stations.columns:
        raise CriterionError(
            f"The stations have no column {lines_column!r} naming their lines; their columns are "
            f"{[c for c in stations.columns if c != stations.geometry.name]!r}. Add one "
            '(e.g. lines = "1;2" for an interchange) or name it with lines_column=.'
        )
    out: list[list[str]] = []
    for value in stations[lines_column].tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append([])
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append(sorted({p for p in _SEPARATORS.split(str(value).strip()) if p}))
    return out


def station_areas(
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    stations: gpd.GeoDataFrame,
    *,
    metric: DistanceMetric | None = None,
    core_m: float = CORE_M,
    influence_m: float = INFLUENCE_M,
) -> pd.DataFrame:
    """The station ring each site lies in.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites, in the stations' projected CRS.
    stations : geopandas.GeoDataFrame
        Metro stations.
    metric : DistanceMetric, optional
        Distances in metres: a walk network metric, straight-line by default.
    core_m, influence_m : float
        Outer edges of the core and influence rings (500 and 800 m).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``station`` (index label of the nearest
        station), ``station_m`` (metres to it, ``inf`` when unreachable),
        ``ring`` (``core``, ``influence`` or ``outside``) and ``ring_zh``.
    """
    if not 0 < core_m <= influence_m or not np.isfinite(influence_m):
        raise CriterionError(
            f"Station rings need 0 < core_m <= influence_m (finite), got core_m={core_m!r}, "
            f"influence_m={influence_m!r}; the guideline's bands are 300-500 m and 500-800 m."
        )
    nearest = nearest_target(sites, stations, metric=_metric_in_metres(metric))
    metres = nearest["distance"].to_numpy(dtype=float)
    ring = np.where(
        metres <= core_m, "core", np.where(metres <= influence_m, "influence", "outside")
    )
    return pd.DataFrame(
        {
            "station": nearest["target"],
            "station_m": metres,
            "ring": ring,
            "ring_zh": pd.Series(ring).map(RINGS).to_numpy(),
        },
        index=nearest.index,
    )


def lines_within(
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    stations: gpd.GeoDataFrame,
    *,
    radius_m: float = INFLUENCE_M,
    lines_column: str = "lines",
    metric: DistanceMetric | None = None,
) -> pd.DataFrame:
    """Distinct metro lines, stations and transfer stations within walking reach.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites, in the stations' projected CRS.
    stations : geopandas.GeoDataFrame
        Metro stations with a column naming their lines.
    radius_m : float
        Walking reach (default 800 m, the influence ring's edge).
    lines_column : str
        The stations' lines column (``"1;2"`` for an interchange).
    metric : DistanceMetric, optional
        Distances in metres: a walk network metric, straight-line by default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``lines`` (how many distinct lines),
        ``line_names`` (them, ``;``-joined), ``stations`` and
        ``transfer_stations`` within ``radius_m``.
    """
    lines = station_lines(stations, lines_column=lines_column)
    index, pairs = _pairs_within(sites, stations, _metric_in_metres(metric), radius_m, None)
    n = len(index)
    per_station = np.array([len(x) for x in lines], dtype=np.intp)
    transfer = per_station >= 2
    names = sorted({line for x in lines for line in x})
    code = {name: i for i, name in enumerate(names)}
    flat = np.array([code[line] for x in lines for line in x], dtype=np.intp)
    start = np.concatenate([[0], np.cumsum(per_station)])
    # every (site, line) of every (site, station) pair, then the distinct ones
    counts = per_station[pairs.target]
    site_rep = np.repeat(pairs.site, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    line_rep = flat[np.repeat(start[pairs.target], counts) + offsets]
    key = np.unique(site_rep.astype(np.int64) * max(len(names), 1) + line_rep)
    key_site = key // max(len(names), 1)
    key_line = key % max(len(names), 1)
    n_lines = np.bincount(key_site, minlength=n)
    joined = _join_by_site(key_site, key_line, names, n)
    return pd.DataFrame(
        {
            "lines": n_lines.astype(np.int64),
            "line_names": joined,
            "stations": np.bincount(pairs.site, minlength=n).astype(np.int64),
            "transfer_stations": np.bincount(
                pairs.site, weights=transfer[pairs.target].astype(float), minlength=n
            ).astype(np.int64),
        },
        index=index,
    )


def _join_by_site(
    site: npt.NDArray[np.int64], line: npt.NDArray[np.int64], names: list[str], n: int
) -> list[str]:
    """``"1;2"`` per site from sorted (site, line) codes (one pass over the distinct pairs)."""
    out = [""] * n
    if len(site):
        bounds = np.flatnonzero(np.diff(site)) + 1
        for chunk_site, chunk in zip(
            site[np.concatenate([[0], bounds])], np.split(line, bounds), strict=True
        ):
            out[int(chunk_site)] = ";".join(names[i] for i in chunk)
    return out

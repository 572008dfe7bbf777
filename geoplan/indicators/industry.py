"""Industry "near, not too near": health-protection distances and the prevailing wind.

A talent community should lie near the parks where its residents work, but
outside each park's health-protection distance (卫生防护距离) and not downwind
of it.  Chinese standards set the distance per industry (the GB 11654–11666
series for individual industries; GB/T 39499-2020 for deriving it from
emissions), so a study gives it per park (a column) or per industry class (a
table); this module turns either into one distance per park, and measures:

* :func:`~geoplan.measure.constraints.protection_distances_m` -- each park's
  distance, from its own column or its class (``{"chemical": 1000}``), else a
  default (shared with the ``min_distance`` constraint);
* :func:`protection_margin` -- how far each site lies beyond the nearest
  park's protection distance: ``min_j (d_ij - b_j)`` over parks *j*, negative
  inside a distance (a soft penalty to score with a decay; the hard constraint
  is ``min_distance`` with the same distances);
* :func:`downwind_exposure` -- the share of the time the wind blows from a
  park towards the site.  The wind rose gives, per compass sector, how often
  the wind blows *from* it; a site lies downwind of a park when the wind comes
  from the opposite bearing (site → park).  Chinese planning places homes
  upwind of industry with respect to the prevailing wind (and downwind of the
  least frequent one), which is what a low exposure rewards.

Distances are in metres in the sites' projected CRS (a straight line by
default, or a network metric in metres); bearings are always straight-line
compass bearings (the wind does not follow streets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplan._errors import CriterionError
from geoplan.measure.constraints import protection_distances_m
from geoplan.measure.criteria import _pairs_within, _site_points
from geoplan.measure.distance import DistanceMetric, StraightLine

__all__ = [
    "COMPASS",
    "downwind_exposure",
    "protection_distances_m",
    "protection_margin",
    "wind_rose_frequencies",
]

FloatArray = npt.NDArray[np.float64]

#: The 16 compass points, clockwise from north, as wind roses name their sectors.
COMPASS: Final = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip
#: Chinese names of the compass points (北, 北东北, ...), accepted in wind roses.
_COMPASS_ZH: Final = (
    "北", "北东北", "东北", "东东北", "东", "东东南", "东南", "南东南",
    "南", "南西南", "西南", "西西南", "西", "西西北", "西北", "北西北",
)  # fmt: skip
_ALIASES: Final = {
    **{name: 22.5 * i for i, name in enumerate(COMPASS)},
    **{name: 22.5 * i for i, name in enumerate(_COMPASS_ZH)},
}
#: How far margins are measured; farther sites get this margin (they are clear of every park).
_MARGIN_CAP_M: Final = 10_000.0


def protection_margin(
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    parks: gpd.GeoDataFrame,
    *,
    distances_m: pd.Series | FloatArray,
    metric: DistanceMetric | None = None,
) -> pd.Series:
    """Metres by which each site clears the parks' protection distances.

    ``margin_i = min_j (d_ij - b_j)``: negative when the site lies inside a
    park's distance (by that many metres), positive when it is clear of all.
    Parks more than :data:`_MARGIN_CAP_M` (10 km) beyond their distance do
    not change the margin, which is capped at 10 km.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites, in the parks' projected CRS.
    parks : geopandas.GeoDataFrame
        Industrial parks (polygons are measured to their edge; 0 inside).
    distances_m : pandas.Series or numpy.ndarray
        Each park's protection distance (see :func:`protection_distances_m`).
    metric : DistanceMetric, optional
        Metres: straight-line by default, or a network metric in metres.

    Returns
    -------
    pandas.Series
        Metres, indexed like ``sites``.
    """
    metric = metric or StraightLine()
    limits = np.asarray(distances_m, dtype=np.float64)
    if limits.shape != (len(parks),) or not np.all(np.isfinite(limits) & (limits >= 0)):
        raise CriterionError(
            f"distances_m must hold one finite distance >= 0 per park ({len(parks)}), got "
            f"{limits.shape[0] if limits.ndim else 'a scalar'} value(s)."
        )
    cutoff = float(limits.max(initial=0.0)) + _MARGIN_CAP_M
    index, pairs = _pairs_within(sites, parks, metric, cutoff, None)
    margin = np.full(len(index), _MARGIN_CAP_M)
    np.minimum.at(margin, pairs.site, pairs.distance - limits[pairs.target])
    return pd.Series(np.minimum(margin, _MARGIN_CAP_M), index=index, name="protection_margin_m")


def wind_rose_frequencies(wind_rose: Mapping[str, float] | Mapping[float, float]) -> FloatArray:
    """A wind rose as the share of the time the wind blows from each of 16 sectors.

    Parameters
    ----------
    wind_rose : mapping
        Frequency per sector the wind blows *from*, keyed by compass point
        (``"N"``, ``"NNE"`` ... or ``"北"``, ``"东北"`` ...) or by bearing in
        degrees (a multiple of 22.5).  Frequencies (percent or shares) are
        normalised to sum to 1; calm is left out.

    Returns
    -------
    numpy.ndarray
        16 shares, clockwise from north.
    """
    freq = np.zeros(16)
    for key, value in wind_rose.items():
        bearing = _ALIASES.get(str(key).strip().upper() if isinstance(key, str) else "", None)
        if bearing is None:
            bearing = _ALIASES.get(str(key).strip(), None)
        if bearing is None:
            try:
                bearing = float(key)
            except (TypeError, ValueError):
                raise CriterionError(
                    f"Wind rose sector {key!r} is not a compass point ({', '.join(COMPASS)}) or "
                    "a bearing in degrees."
                ) from None
            if not np.isfinite(bearing) or (bearing % 22.5) != 0:
                raise CriterionError(
                    f"Wind rose bearing {key!r} must be a multiple of 22.5 degrees (16 sectors)."
                )
        share = float(value)
        if not (np.isfinite(share) and share >= 0):
            raise CriterionError(f"Wind rose frequency for {key!r} must be >= 0, got {value!r}.")
        freq[round(bearing / 22.5) % 16] += share
    total = freq.sum()
    if total <= 0:
        raise CriterionError("The wind rose has no positive frequency; give one per sector.")
    return np.asarray(freq / total, dtype=np.float64)


def downwind_exposure(
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    parks: gpd.GeoDataFrame,
    *,
    wind_rose: Mapping[str, float] | Mapping[float, float],
    radius_m: float = 5000.0,
) -> pd.Series:
    """Share of the time the wind blows from a park within ``radius_m`` towards each site.

    For a site and a park within ``radius_m`` (straight line, to the park's
    edge), the bearing from the site to the nearest point of the park is
    rounded to one of 16 sectors; the site is downwind whenever the wind blows
    *from* that bearing, i.e. with that sector's frequency.  A site's exposure
    is the largest such share over the parks near it (the worst park), 0 with
    no park within ``radius_m``; a site inside a park is exposed whatever the
    wind, 1.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or geopandas.GeoSeries
        Candidate sites, in the parks' projected CRS (y pointing north).
    parks : geopandas.GeoDataFrame
        Industrial parks.
    wind_rose : mapping
        See :func:`wind_rose_frequencies`.
    radius_m : float
        Parks farther than this do not count (default 5 km).

    Returns
    -------
    pandas.Series
        Shares in [0, 1], indexed like ``sites``.
    """
    shares = wind_rose_frequencies(wind_rose)
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise CriterionError(f"radius_m must be a positive number of metres, got {radius_m!r}.")
    index, pairs = _pairs_within(sites, parks, StraightLine(), radius_m, None)
    points = np.asarray(_site_points(sites).values, dtype=object)
    exposure = np.zeros(len(index))
    if len(pairs.site):
        site_geoms = points[pairs.site]
        park_geoms = np.asarray(parks.geometry.values, dtype=object)[pairs.target]
        lines = shapely.shortest_line(site_geoms, park_geoms)
        coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        dx = coords[:, 1, 0] - coords[:, 0, 0]
        dy = coords[:, 1, 1] - coords[:, 0, 1]
        bearing = np.degrees(np.arctan2(dx, dy)) % 360.0  # from the site towards the park
        share = shares[np.round(bearing / 22.5).astype(np.int64) % 16]
        share = np.where(pairs.distance <= 0, 1.0, share)  # inside the park
        np.maximum.at(exposure, pairs.site, share)
    return pd.Series(exposure, index=index, name="downwind_exposure")

"""Huge candidate grids measured in partitions on the cluster (dask-geopandas).

A city with millions of grid cells is ranked in one piece (ranks, objective
weights and relative methods need every site), but its criteria are measured
partition by partition: :class:`PartitionedCache` splits the sites into a
dask-geopandas GeoDataFrame of ``partition_sites`` rows each and measures every
criterion whose value for a site depends on that site alone
(:data:`SEPARABLE`) with ``map_partitions``, the targets, metric and layers
sent to each worker once.  Other kinds (2SFCA with the candidates as demand,
where sites compete) are measured whole.  The values equal those of one piece
(``tests/test_batch.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import geopandas as gpd
import pandas as pd
from dask.delayed import delayed

from geoplan.measure.distance import DistanceMetric
from geoplan.scenarios.reuse import RunCache
from geoplan.study.ranking import Measured, criterion_measurer
from geoplan.study.scoring import Criterion

__all__ = ["SEPARABLE", "PartitionedCache"]

logger = logging.getLogger(__name__)

#: Kinds whose value for a site depends on that site alone (not on the other candidates).
SEPARABLE: Final = frozenset(
    {
        "nearest_distance",
        "ideal_band",
        "count_within",
        "sum_within",
        "commute_share",
        "lines_within",
        "protection_margin",
        "downwind_exposure",
        "life_circle",
    }
)


def _measure_part(
    frame: gpd.GeoDataFrame,
    criterion: Criterion,
    targets: gpd.GeoDataFrame,
    metric: DistanceMetric,
    layers: Mapping[str, gpd.GeoDataFrame],
) -> pd.DataFrame:
    raw, detail = criterion_measurer(criterion, frame, targets, metric, layers)()
    return pd.DataFrame(
        {"value": raw.to_numpy(dtype=float), "detail": None if detail is None else detail},
        index=frame.index,
    )


def measure_in_partitions(
    criterion: Criterion,
    points: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    metric: DistanceMetric,
    layers: Mapping[str, gpd.GeoDataFrame],
    partition_sites: int,
) -> Measured:
    """A criterion's raw values and details, measured partition by partition.

    Parameters
    ----------
    criterion : Criterion
        A criterion of a kind in :data:`SEPARABLE`.
    points, targets : geopandas.GeoDataFrame
        Sites and targets in the study's metric CRS.
    metric : DistanceMetric
        Its metric.
    layers : mapping
        The study's layers, projected.
    partition_sites : int
        Sites per partition.

    Returns
    -------
    tuple of pandas.Series
        Raw values and details (``None`` for kinds without them), indexed like ``points``.
    """
    import dask_geopandas

    n = max(1, math.ceil(len(points) / partition_sites))
    parts = dask_geopandas.from_geopandas(points, npartitions=n, sort=False)
    shared = [delayed(v, traverse=False) for v in (targets, metric, dict(layers))]
    meta = pd.DataFrame({"value": pd.Series(dtype=float), "detail": pd.Series(dtype=object)})
    found = parts.map_partitions(_measure_part, criterion, *shared, meta=meta).compute()
    logger.info("%s: measured in %d partitions", criterion.name, parts.npartitions)
    raw = pd.Series(found["value"].to_numpy(dtype=float), index=points.index)
    detail = None if found["detail"].isna().all() else found["detail"].set_axis(points.index)
    return raw, detail


class PartitionedCache(RunCache):
    """A :class:`~geoplan.scenarios.reuse.RunCache` that measures big site sets in partitions.

    Parameters
    ----------
    partition_sites : int
        More sites than this are measured in partitions of this many.
    """

    def __init__(self, partition_sites: int) -> None:
        super().__init__()
        self.partition_sites = int(partition_sites)

    def measured(
        self,
        criterion: Criterion,
        points: gpd.GeoDataFrame,
        targets: gpd.GeoDataFrame,
        metric: DistanceMetric,
        layers: Mapping[str, gpd.GeoDataFrame],
        compute: Callable[[], Measured],
    ) -> Measured:
        """As :meth:`RunCache.measured`, in partitions when the sites are many."""
        work: Callable[[], Any] = compute
        if len(points) > self.partition_sites and criterion.kind in SEPARABLE:

            def work() -> Measured:
                return measure_in_partitions(
                    criterion, points, targets, metric, layers, self.partition_sites
                )

        result: Measured = super().measured(criterion, points, targets, metric, layers, work)
        return result

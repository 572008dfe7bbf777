"""Scoring: criterion definitions, raw values, 0-1 scores and the output columns.

A :class:`Criterion` names what to measure (one of :data:`CRITERION_KINDS`,
each a function of :mod:`geoplan.measure.criteria`), against which layer, with which
distance metric, how raw values become 0-1 scores (a
:class:`~geoplan.measure.decay.Decay`) and with what weight.

Output columns follow one scheme, documented once here and in the README:

``value__<criterion>__<unit>``
    the raw value, its unit after the last ``__`` (``m``, ``min``, ``count``,
    or the summed attribute such as ``jobs``);
``score__<criterion>``
    the 0-1 score;
``contrib__<criterion>``
    normalised weight x score: what the criterion adds to the weighted sum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import pandas as pd

from geoplan._errors import CriterionError
from geoplan.measure import criteria as measures
from geoplan.measure.decay import Decay
from geoplan.measure.distance import DistanceMetric

__all__ = [
    "CRITERION_KINDS",
    "Criterion",
    "contrib_column",
    "evaluate",
    "score_column",
    "value_column",
]

#: The criterion kinds, each named after the function that measures it.
CRITERION_KINDS: Final = ("nearest_distance", "count_within", "sum_within", "ideal_band")
METRICS: Final = ("straight", "network")
MODES: Final = ("walk", "bike", "drive", "ebike", "transit")


@dataclass(frozen=True)
class Criterion:
    """One criterion of a study.

    Parameters
    ----------
    name : str
        Identifier used in column names (letters, digits, underscores).
    kind : str
        One of :data:`CRITERION_KINDS`.
    layer : str
        The target layer, e.g. ``"stations"``.
    decay : Decay
        How the raw value becomes a 0-1 score.
    weight : float
        Relative importance (normalised across criteria when scoring).
    label, label_zh : str
        Names for people, in English and Chinese.
    column : str, optional
        The attribute summed by ``sum_within`` (e.g. ``"jobs"``).
    radius_m, max_minutes : float, optional
        Cutoff of ``count_within`` and ``sum_within``.
    distance_decay : Decay, optional
        Distance weighting inside ``sum_within``.
    metric : {"straight", "network"}
        Straight-line metres or travel along a street network.
    mode : {"walk", "bike", "ebike", "drive", "transit"}, optional
        Travel mode of a network metric (``"transit"``: walk + metro, minutes).
    unit : {"m", "min"}
        Unit of distances: metres, or minutes (network only).
    """

    name: str
    kind: str
    layer: str
    decay: Decay
    weight: float = 1.0
    label: str = ""
    label_zh: str = ""
    column: str | None = None
    radius_m: float | None = None
    max_minutes: float | None = None
    distance_decay: Decay | None = None
    metric: str = "straight"
    mode: str | None = None
    unit: str = "m"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in CRITERION_KINDS:
            raise CriterionError(
                f"Criterion {self.name!r} has kind {self.kind!r}; use one of "
                f"{list(CRITERION_KINDS)!r}."
            )

    @property
    def value_unit(self) -> str:
        """Unit of the raw value: ``m``/``min``, ``count`` or the summed column."""
        if self.kind == "count_within":
            return "count"
        if self.kind == "sum_within":
            return str(self.column)
        return self.unit

    @property
    def title(self) -> str:
        """The English label, or the name when there is none."""
        return self.label or self.name.replace("_", " ")

    def to_dict(self) -> dict[str, Any]:
        """The criterion as a study-file table."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "layer": self.layer,
            "weight": self.weight,
            "metric": self.metric,
            "unit": self.unit,
            "decay": self.decay.to_dict(),
        }
        for key in ("label", "label_zh", "column", "radius_m", "max_minutes", "mode"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        if self.distance_decay is not None:
            out["distance_decay"] = self.distance_decay.to_dict()
        return out


def value_column(criterion: Criterion) -> str:
    """Name of the raw-value column, ``value__<name>__<unit>``."""
    return f"value__{criterion.name}__{criterion.value_unit}"


def score_column(criterion: Criterion) -> str:
    """Name of the 0-1 score column, ``score__<name>``."""
    return f"score__{criterion.name}"


def contrib_column(criterion: Criterion) -> str:
    """Name of the contribution column, ``contrib__<name>``."""
    return f"contrib__{criterion.name}"


def _cutoffs(criterion: Criterion) -> dict[str, float | None]:
    return {"radius_m": criterion.radius_m, "max_minutes": criterion.max_minutes}


_MEASURE: Final[dict[str, Callable[..., pd.Series]]] = {
    "nearest_distance": lambda s, t, c, m: measures.nearest_distance(s, t, metric=m),
    "ideal_band": lambda s, t, c, m: measures.nearest_distance(s, t, metric=m),
    "count_within": lambda s, t, c, m: measures.count_within(s, t, metric=m, **_cutoffs(c)),
    "sum_within": lambda s, t, c, m: measures.sum_within(
        s, t, column=str(c.column), decay=c.distance_decay, metric=m, **_cutoffs(c)
    ),
}


def evaluate(
    criterion: Criterion,
    sites: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    metric: DistanceMetric,
) -> pd.DataFrame:
    """Raw value and 0-1 score of one criterion for every site.

    Parameters
    ----------
    criterion : Criterion
        What to measure.
    sites, targets : geopandas.GeoDataFrame
        Sites and the criterion's target layer, in the same projected CRS.
    metric : DistanceMetric
        The distance engine for this criterion.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``, with the criterion's value and score columns.
    """
    raw = _MEASURE[criterion.kind](sites, targets, criterion, metric)
    score = pd.Series(criterion.decay.apply(raw.to_numpy(dtype=float)), index=raw.index)
    return pd.DataFrame({value_column(criterion): raw, score_column(criterion): score})

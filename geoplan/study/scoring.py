"""Scoring: criterion definitions, raw values, 0-1 scores and the output columns.

A :class:`Criterion` names what to measure (one of :data:`CRITERION_KINDS`,
each measured by a function of :mod:`geoplan.measure.criteria` or :mod:`geoplan.indicators`), against
which layer (or the features of it that :func:`select_features` picks by a column, ``where``), with
which distance metric, how raw values become 0-1 scores (a
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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplan._errors import CriterionError, plain
from geoplan.measure.decay import Decay
from geoplan.measure.distance import DistanceMetric
from geoplan.study.kinds import KINDS, measure_criterion

__all__ = [
    "CRITERION_KINDS",
    "Criterion",
    "contrib_column",
    "detail_column",
    "evaluate",
    "score_column",
    "scored",
    "select_features",
    "value_column",
    "where_format_problems",
    "where_mask",
    "where_problems",
]

#: The criterion kinds (see :mod:`geoplan.study.kinds`).
CRITERION_KINDS: Final = tuple(KINDS)
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
    where : mapping, optional
        Measure only the layer's features whose columns hold these values,
        e.g. ``{"kind": "school"}`` or ``{"kind": ["school", "university"]}``
        (see :func:`select_features`).
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
    where: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in CRITERION_KINDS:
            raise CriterionError(
                f"Criterion {self.name!r} has kind {self.kind!r}; use one of "
                f"{list(CRITERION_KINDS)!r}."
            )
        problems = where_format_problems(self.where, label=f"Criterion {self.name!r}: where")
        if problems:
            raise CriterionError(" ".join(problems))

    @property
    def value_unit(self) -> str:
        """Unit of the raw value: ``m``/``min``, ``count``, the summed column, ``share`` ..."""
        return KINDS[self.kind].unit(self, self.unit)

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
        if self.where:
            out["where"] = {str(k): _values(v) for k, v in self.where.items()}
        out.update({k: dict(v) if isinstance(v, Mapping) else v for k, v in self.extra.items()})
        return out


_SCALARS: Final = (str, int, float, bool)


def _values(wanted: Any) -> list[Any] | Any:
    """A ``where`` value as given: a scalar, or a list of scalars."""
    return list(wanted) if isinstance(wanted, list | tuple | set | frozenset) else wanted


def where_format_problems(where: object, *, label: str = "where") -> list[str]:
    """What is wrong with the form of a ``where`` selection (``[]`` when nothing is).

    Parameters
    ----------
    where : object
        ``None``, or a mapping of column name to a value or a non-empty list
        of values (text, numbers, true/false).
    label : str
        How the selection is named in messages (e.g. ``criteria[3].where``).

    Returns
    -------
    list of str
        One message per problem, each with the fix.
    """
    if where is None:
        return []
    example = 'where = { kind = "school" } or where = { kind = ["school", "university"] }'
    if not isinstance(where, Mapping) or not where:
        return [f"{label} = {plain(where)!r} must be a table of column = value(s), e.g. {example}."]
    problems = []
    for column, wanted in where.items():
        values = _values(wanted)
        scalars = values if isinstance(values, list) else [values]
        if not isinstance(column, str) or not column:
            problems.append(f"{label}: the column {plain(column)!r} must be a column name (text).")
        elif not scalars or not all(isinstance(v, _SCALARS) for v in scalars):
            problems.append(
                f"{label}.{column} = {plain(wanted)!r} must be a value or a non-empty list of "
                f"values (text, numbers, true/false), e.g. {example}."
            )
    return problems


def where_mask(layer: pd.DataFrame, where: Mapping[str, Any]) -> npt.NDArray[np.bool_]:
    """Which features of ``layer`` a (checked) ``where`` selection picks."""
    mask = np.ones(len(layer), dtype=bool)
    for column, wanted in where.items():
        values = _values(wanted)
        mask &= layer[column].isin(values if isinstance(values, list) else [values]).to_numpy()
    return mask


def where_problems(
    layer: pd.DataFrame, where: Mapping[str, Any], *, layer_name: str = "layer"
) -> list[str]:
    """Why a ``where`` selection picks nothing from a layer (``[]`` when it picks something).

    Parameters
    ----------
    layer : pandas.DataFrame
        The layer to select from.
    where : mapping
        Column name to value(s); see :func:`select_features`.
    layer_name : str
        The layer's name, for messages.

    Returns
    -------
    list of str
        A message for every column the layer lacks, or one saying that no
        feature matches, with the values each column does hold.
    """
    columns = [c for c in layer.columns if c != getattr(layer, "_geometry_column_name", None)]
    problems = [
        f"where: {column!r} is not a column of layer {layer_name!r}; its columns are "
        f"{columns!r}. Check the spelling."
        for column in where
        if column not in layer.columns
    ]
    if problems or where_mask(layer, where).any():
        return problems
    held = "; ".join(
        f"column {column!r} holds {[plain(v) for v in pd.unique(layer[column].dropna())[:12]]!r}"
        for column in where
    )
    shown = {str(k): _values(v) for k, v in where.items()}
    return [
        f"where = {shown!r} matches no feature of layer {layer_name!r} ({len(layer)} features): "
        f"{held}. Use values the layer holds (spelling and case count, and 1 is not '1')."
    ]


def select_features(
    layer: gpd.GeoDataFrame, where: Mapping[str, Any] | None, *, layer_name: str = "layer"
) -> gpd.GeoDataFrame:
    """The features of a layer whose columns hold the given values.

    One facilities file can then serve every criterion: ``{"kind": "school"}``
    keeps the schools, ``{"kind": ["hospital", "clinic"]}`` either kind, and
    several columns must all match.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        The layer.
    where : mapping or None
        Column name to a value or a list of values; ``None`` keeps every feature.
    layer_name : str
        The layer's name, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching features (the layer itself when ``where`` is ``None``);
        the layer is not changed.

    Raises
    ------
    CriterionError
        For a malformed selection, a column the layer lacks, or a selection
        no feature matches (with the values the columns hold).
    """
    if where is None:
        return layer
    problems = where_format_problems(where) or where_problems(layer, where, layer_name=layer_name)
    if problems:
        raise CriterionError(" ".join(problems))
    return layer[where_mask(layer, where)]


def value_column(criterion: Criterion) -> str:
    """Name of the raw-value column, ``value__<name>__<unit>``."""
    return f"value__{criterion.name}__{criterion.value_unit}"


def score_column(criterion: Criterion) -> str:
    """Name of the 0-1 score column, ``score__<name>``."""
    return f"score__{criterion.name}"


def contrib_column(criterion: Criterion) -> str:
    """Name of the contribution column, ``contrib__<name>``."""
    return f"contrib__{criterion.name}"


def detail_column(criterion: Criterion) -> str:
    """Name of the column that says a value in words, ``detail__<name>`` (some kinds)."""
    return f"detail__{criterion.name}"


def evaluate(
    criterion: Criterion,
    sites: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    metric: DistanceMetric,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
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
    layers : mapping of str to geopandas.GeoDataFrame, optional
        The study's layers in the same CRS, for kinds whose options name one
        (``housing`` of ``jobs_per_worker``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``, with the criterion's value and score columns,
        and its ``detail__`` column for kinds that say their value in words.
    """
    raw, detail = measure_criterion(
        criterion, criterion.kind, sites, targets, metric=metric, layers=layers or {}
    )
    return scored(criterion, raw, detail)


def scored(criterion: Criterion, raw: pd.Series, detail: pd.Series | None = None) -> pd.DataFrame:
    """A criterion's measured raw values with their 0-1 scores, as output columns.

    Parameters
    ----------
    criterion : Criterion
        The criterion measured.
    raw : pandas.Series
        Its raw values, indexed like the sites.
    detail : pandas.Series, optional
        The values in words (kinds that have them).

    Returns
    -------
    pandas.DataFrame
        The value and score columns, and the ``detail__`` column when given.
    """
    score = pd.Series(criterion.decay.apply(raw.to_numpy(dtype=float)), index=raw.index)
    out = pd.DataFrame({value_column(criterion): raw, score_column(criterion): score})
    if detail is not None:
        out[detail_column(criterion)] = detail.astype(object)
    return out

"""What the runs of a comparison share: networks, metrics, measured criteria and constraints.

A scenario changes a few inputs of a study; everything else it would measure
again is already known from the base run.  :class:`RunCache` implements
:class:`geoplan.study.ranking.Reuse`: it keeps every street network and metric
under a key that names its inputs, and every criterion's raw values and every
constraint's reasons under a *fingerprint* of what they are measured from:

* a criterion: its kind and measuring options (not its name, label, weight or
  decay, which only score the raw values), the sites, its selected targets,
  the layers its options name (``housing``), and its metric;
* a constraint: the constraint, the sites, its layer, the layer's names, and
  its metric.

Fingerprints hash the *content* (coordinates as WKB, every column's values,
the CRS), so an edited layer is a new input and an unchanged one is not,
however it was loaded.  :attr:`RunCache.computed` and :attr:`RunCache.reused`
count what was measured and what was taken as known.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan.measure.constraints import Constraint
from geoplan.measure.distance import DistanceMetric
from geoplan.study.kinds import KINDS
from geoplan.study.ranking import Measured
from geoplan.study.scoring import Criterion

__all__ = ["RunCache", "fingerprint"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Criterion fields that only score or name the raw values (not part of what is measured).
_SCORING_ONLY = frozenset({"name", "weight", "label", "label_zh", "decay"})
#: Objects whose fingerprint is remembered by identity (sites and layers reused within a run).
_REMEMBERED = 64


def _update(digest: Any, value: object) -> None:
    """Feed a value's content, with its type, into a hash."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries):
        digest.update(b"geo:")
        _update(digest, value.crs.to_wkt() if value.crs is not None else None)
        geometry = value.geometry if isinstance(value, gpd.GeoDataFrame) else value
        wkb = shapely.to_wkb(np.asarray(geometry.values, dtype=object))
        digest.update(np.asarray([len(w or b"") for w in wkb], np.int64).tobytes())
        digest.update(b"".join(w or b"" for w in wkb))
        if isinstance(value, gpd.GeoDataFrame):
            _update(digest, pd.DataFrame(value.drop(columns=value.geometry.name)))
        else:
            _update(digest, value.index.to_series())
    elif isinstance(value, pd.DataFrame | pd.Series):
        if isinstance(value, pd.DataFrame):
            _update(digest, [str(c) for c in value.columns])
            _update(digest, [str(t) for t in value.dtypes])
        else:
            _update(digest, (str(value.name), str(value.dtype)))
        try:
            hashed = pd.util.hash_pandas_object(value, index=True)
        except TypeError:  # cells that are lists or tables: hash their text
            hashed = pd.util.hash_pandas_object(value.astype(str), index=True)
        digest.update(np.asarray(hashed, dtype=np.uint64).tobytes())
    elif isinstance(value, np.ndarray):
        _update(digest, (str(value.dtype), value.shape))
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, pyproj.CRS):
        _update(digest, value.to_wkt())
    elif isinstance(value, Mapping):
        digest.update(b"map:")
        for key in sorted(value, key=repr):
            _update(digest, key)
            _update(digest, value[key])
    elif isinstance(value, list | tuple | set | frozenset):
        digest.update(f"seq{len(value)}:".encode())
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        for item in items:
            _update(digest, item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        for item in dataclasses.fields(value):
            _update(digest, item.name)
            _update(digest, getattr(value, item.name))
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(*parts: object) -> str:
    """A hex digest of the content of ``parts`` (layers, tables, arrays, settings).

    Parameters
    ----------
    *parts : object
        GeoDataFrames, DataFrames, arrays, CRSs, dataclasses, mappings,
        sequences and plain values.

    Returns
    -------
    str
        32 hex digits; equal content gives equal digests.
    """
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        _update(digest, part)
    return digest.hexdigest()


class RunCache:
    """Networks, metrics and measurements shared by related runs (a :class:`~geoplan.study.ranking.Reuse`).

    Pass one to :func:`geoplan.rank_sites` (``reuse=``) for every run that
    should share: :func:`geoplan.compare` does so for a study and its
    scenarios, a batch for each city.

    Attributes
    ----------
    computed, reused : collections.Counter
        How many times each criterion (``"criterion <name>"``), constraint
        (``"constraint <kind> <layer>"``), network and metric was measured or
        made, and how many times it was taken as already known.
    """

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._metric_keys: dict[int, str] = {}
        self._held: list[Any] = []  # keeps objects alive while their id() is a key
        self._measured: dict[str, Measured] = {}
        self._reasons: dict[str, pd.Series] = {}
        self._prints: dict[int, tuple[Any, str]] = {}
        self.computed: Counter[str] = Counter()
        self.reused: Counter[str] = Counter()

    # ------------------------------------------------------------------ keys

    def _print(self, value: Any) -> str:
        """The fingerprint of a layer or the sites, remembered for the object."""
        known = self._prints.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        found = fingerprint(value)
        if len(self._prints) >= _REMEMBERED:
            self._prints.pop(next(iter(self._prints)))
        self._prints[id(value)] = (value, found)
        return found

    def _metric_key(self, metric: DistanceMetric | None) -> str:
        if metric is None:
            return "straight-line (default)"
        known = self._metric_keys.get(id(metric))
        if known is not None:
            return known
        if not vars(metric):  # a metric without state (StraightLine): its type says all
            return f"{type(metric).__module__}.{type(metric).__qualname__}"
        self._held.append(metric)
        key = f"object {id(metric)}"
        self._metric_keys[id(metric)] = key
        return key

    # ------------------------------------------------------------------ Reuse

    def shared(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """The object made for ``key`` (a network or metric), made now if new."""
        digest = fingerprint(*key)
        what = str(key[0])
        if digest in self._objects:
            self.reused[what] += 1
            found: _T = self._objects[digest]
            return found
        made = make()
        self.computed[what] += 1
        self._objects[digest] = made
        self._metric_keys[id(made)] = f"{what} {digest}"
        self._held.append(made)
        return made

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Give the object for ``key`` (a network loaded elsewhere, e.g. by a batch task)."""
        digest = fingerprint(*key)
        self._objects[digest] = value
        self._metric_keys[id(value)] = f"{key[0]} {digest}"
        self._held.append(value)

    def measured(
        self,
        criterion: Criterion,
        points: gpd.GeoDataFrame,
        targets: gpd.GeoDataFrame,
        metric: DistanceMetric,
        layers: Mapping[str, gpd.GeoDataFrame],
        compute: Callable[[], Measured],
    ) -> Measured:
        """A criterion's raw values and details, measured only if its inputs are new."""
        options = {
            f.name: getattr(criterion, f.name)
            for f in dataclasses.fields(criterion)
            if f.name not in _SCORING_ONLY
        }
        named = sorted(
            str(criterion.extra[o.name])
            for o in KINDS[criterion.kind].options
            if o.layer and criterion.extra.get(o.name) in layers
        )
        key = fingerprint(
            "criterion",
            options,
            self._print(points),
            self._print(targets),
            [(name, self._print(layers[name])) for name in named],
            self._metric_key(metric),
        )
        what = f"criterion {criterion.name}"
        if key in self._measured:
            self.reused[what] += 1
            raw, detail = self._measured[key]
            logger.debug("%s: inputs unchanged, measured values reused", what)
            return raw.copy(), None if detail is None else detail.copy()
        found = compute()
        self.computed[what] += 1
        self._measured[key] = found
        return found

    def reasons(
        self,
        constraint: Constraint,
        points: gpd.GeoDataFrame,
        layers: Mapping[str, gpd.GeoDataFrame],
        metric: DistanceMetric | None,
        name_columns: Mapping[str, str | None],
        compute: Callable[[], pd.Series],
    ) -> pd.Series:
        """A constraint's reasons, checked only if its inputs are new."""
        layer = layers.get(str(constraint.layer)) if constraint.layer else None
        key = fingerprint(
            "constraint",
            constraint,
            self._print(points),
            None if layer is None else self._print(layer),
            name_columns.get(str(constraint.layer)),
            self._metric_key(metric),
        )
        what = f"constraint {constraint.kind} {constraint.layer or constraint.column}"
        if key in self._reasons:
            self.reused[what] += 1
            return self._reasons[key].copy()
        found = compute()
        self.computed[what] += 1
        self._reasons[key] = found
        return found

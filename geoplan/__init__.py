"""geoplan: choose sites for talent communities where home, work and transit fit together.

>>> import geoplan as gp
>>> study = gp.load_study("data/changzhou/study.toml")   # doctest: +SKIP
>>> ranked = gp.rank_sites(study)                         # doctest: +SKIP
>>> gp.explain_site(ranked, 1)                            # doctest: +SKIP

Modules by concept: :mod:`~geoplan.layers` (reading layers), :mod:`~geoplan.coords`
(coordinate systems, GCJ-02/BD-09), :mod:`~geoplan.distance` and
:mod:`~geoplan.network` (distance engines), :mod:`~geoplan.criteria` (what is
measured), :mod:`~geoplan.decay` (raw values to 0-1 scores),
:mod:`~geoplan.constraints`, :mod:`~geoplan.scoring`, :mod:`~geoplan.weights`,
:mod:`~geoplan.pairwise`, :mod:`~geoplan.ahp`, :mod:`~geoplan.mcda`,
:mod:`~geoplan.robustness` and :mod:`~geoplan.sensitivity` (decision methods),
:mod:`~geoplan.ranking`, :mod:`~geoplan.study` (study files),
:mod:`~geoplan.maps` (interactive maps), :mod:`~geoplan.outputs` (safe writing)
and :mod:`~geoplan.cli`.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"

from geoplan._errors import (
    BrowserNotFoundError,
    ConsistencyError,
    CoordinateError,
    CriterionError,
    CRSError,
    GeoplanError,
    GeoplanWarning,
    LayerNotFoundError,
    LayerReadError,
    NetworkError,
    OfflineAssetError,
    OutputExistsError,
    OutputWriteError,
    SnapshotError,
    StudyError,
    WeightsError,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public names and the module each comes from; imported on first use so that
# `import geoplan` stays quick and heavy optional parts (maps, networks) load
# only when needed.
_LAZY: dict[str, str] = {
    "read_layer": "layers",
    "check_bounds": "layers",
    "write_layer": "outputs",
    "load_study": "study",
    "study_from_dict": "study",
    "Study": "study",
    "rank_sites": "ranking",
    "score_sites": "ranking",
    "explain_site": "ranking",
    "study_sites": "ranking",
    "grid_sites": "candidates",
    "Criterion": "scoring",
    "Constraint": "constraints",
    "make_decay": "decay",
    "Decay": "decay",
    "nearest_distance": "criteria",
    "nearest_target": "criteria",
    "count_within": "criteria",
    "sum_within": "criteria",
    "StraightLine": "distance",
    "wgs84_to_gcj02": "coords",
    "gcj02_to_wgs84": "coords",
    "wgs84_to_bd09": "coords",
    "bd09_to_wgs84": "coords",
    "gcj02_to_bd09": "coords",
    "bd09_to_gcj02": "coords",
    "resolve_crs": "coords",
    "normalize_weights": "weights",
    "ahp_weights": "ahp",
    "group_ahp": "ahp",
    "entropy_weights": "weights",
    "critic_weights": "weights",
    "aggregate": "mcda",
    "topsis": "mcda",
    "vikor": "mcda",
    "owa": "mcda",
    "monte_carlo_ranks": "robustness",
    "weight_sweep": "sensitivity",
    "min_weight_change_to_flip": "sensitivity",
    "robustness_summary": "robustness",
    "load_network": "network",
    "NetworkMetric": "routing",
    "isochrones": "isochrone",
    "make_map": "maps",
    "save_map": "maps",
    "save_png": "snapshot",
}

__all__ = [
    "BrowserNotFoundError",
    "ConsistencyError",
    "CoordinateError",
    "CRSError",
    "CriterionError",
    "GeoplanError",
    "GeoplanWarning",
    "LayerNotFoundError",
    "LayerReadError",
    "NetworkError",
    "OfflineAssetError",
    "OutputExistsError",
    "OutputWriteError",
    "SnapshotError",
    "StudyError",
    "WeightsError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'geoplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"geoplan.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

"""geoplan: choose sites for talent communities where home, work and transit fit together.

>>> import geoplan as gp
>>> study = gp.load_study("data/changzhou/study.toml")   # doctest: +SKIP
>>> ranked = gp.rank_sites(study)                         # doctest: +SKIP
>>> gp.explain_site(ranked, 1)                            # doctest: +SKIP

Subpackages by the stage of the pipeline a study flows through (imports point down):

- :mod:`geoplan.io`: reading layers, coordinate systems (GCJ-02/BD-09), safe outputs;
- :mod:`geoplan.measure`: distances, criteria, decays, constraints, candidate grids;
- :mod:`geoplan.streets`: OpenStreetMap networks, snapping, routing, isochrones;
- :mod:`geoplan.transit`: metro lines (GTFS or described by hand), walk + metro travel times;
- :mod:`geoplan.decide`: pairwise judgements, AHP, weights, MCDA, robustness, sensitivity;
- :mod:`geoplan.indicators`: jobs within reach (2SFCA), job–housing balance, life circles;
- :mod:`geoplan.study`: study files and their checks, scoring and ranking a study;
- :mod:`geoplan.choose`: portfolios of sites (coverage, p-median, set covering, dispersion);
- :mod:`geoplan.scenarios`: what-if overlays on a study, compared with its base run;
- :mod:`geoplan.maps`: interactive planning maps, basemaps, offline pages, PNG snapshots;
- :mod:`geoplan.report`: study reports (one PDF and its HTML twin);
- :mod:`geoplan.batch`: many cities x scenarios on Dask, resumable (``geoplan batch``);

with :mod:`geoplan.cli` on top.  Everything a user needs is here, flat: ``gp.read_layer``,
``gp.rank_sites``, ``gp.make_map`` ...
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"

from geoplan._errors import (
    BrowserNotFoundError,
    ChooseError,
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
    TransitError,
    WeightsError,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public names and the module each comes from; imported on first use so that
# `import geoplan` stays quick and heavy optional parts (maps, networks) load
# only when needed.
_LAZY: dict[str, str] = {
    "read_layer": "io.layers",
    "check_bounds": "io.layers",
    "write_layer": "io.outputs",
    "load_study": "study.files",
    "study_from_dict": "study.files",
    "Study": "study.files",
    "rank_sites": "study.ranking",
    "score_sites": "study.ranking",
    "explain_site": "study.ranking",
    "study_sites": "study.ranking",
    "grid_sites": "measure.candidates",
    "Criterion": "study.scoring",
    "select_features": "study.scoring",
    "Constraint": "measure.constraints",
    "make_decay": "measure.decay",
    "Decay": "measure.decay",
    "nearest_distance": "measure.criteria",
    "nearest_target": "measure.criteria",
    "count_within": "measure.criteria",
    "sum_within": "measure.criteria",
    "StraightLine": "measure.distance",
    "wgs84_to_gcj02": "io.coords",
    "gcj02_to_wgs84": "io.coords",
    "wgs84_to_bd09": "io.coords",
    "bd09_to_wgs84": "io.coords",
    "gcj02_to_bd09": "io.coords",
    "bd09_to_gcj02": "io.coords",
    "resolve_crs": "io.coords",
    "normalize_weights": "decide.weights",
    "ahp_weights": "decide.ahp",
    "group_ahp": "decide.ahp",
    "entropy_weights": "decide.weights",
    "critic_weights": "decide.weights",
    "aggregate": "decide.mcda",
    "topsis": "decide.mcda",
    "vikor": "decide.mcda",
    "owa": "decide.mcda",
    "monte_carlo_ranks": "decide.robustness",
    "weight_sweep": "decide.sensitivity",
    "min_weight_change_to_flip": "decide.sensitivity",
    "robustness_summary": "decide.robustness",
    "load_network": "streets.network",
    "NetworkMetric": "streets.routing",
    "isochrones": "streets.isochrone",
    "station_areas": "indicators.stations",
    "lines_within": "indicators.stations",
    "protection_distances_m": "measure.constraints",
    "protection_margin": "indicators.industry",
    "downwind_exposure": "indicators.industry",
    "life_circles": "indicators.life_circles",
    "gb50180_requirements": "indicators.life_circles",
    "gb50180_levels": "indicators.life_circles",
    "classify_pois": "indicators.facility_types",
    "read_osm_pois": "indicators.facility_types",
    "choose_sites": "choose.portfolio",
    "tradeoff_curve": "choose.portfolio",
    "plot_tradeoff": "choose.portfolio",
    "Portfolio": "choose.portfolio",
    "cumulative_opportunities": "indicators.access",
    "gravity_access": "indicators.access",
    "resident_workers": "indicators.access",
    "two_step_fca": "indicators.access",
    "building_effect": "indicators.building",
    "jobs_housing_ratio": "indicators.balance",
    "commute_shares": "indicators.balance",
    "read_gtfs": "transit.gtfs",
    "transit_lines": "transit.lines",
    "TransitService": "transit.service",
    "TransitGraph": "transit.network",
    "TransitMetric": "transit.metric",
    "transit_isochrones": "transit.isochrone",
    "study_indicators": "study.indicator_table",
    "compare": "scenarios.compare",
    "Comparison": "scenarios.compare",
    "Scenario": "scenarios.overlay",
    "read_scenarios": "scenarios.overlay",
    "apply_scenario": "scenarios.overlay",
    "RunCache": "scenarios.reuse",
    "compare_map": "maps.compare",
    "run_batch": "batch.run",
    "read_batch": "batch.province",
    "make_map": "maps.build",
    "save_map": "maps.build",
    "save_png": "maps.snapshot",
    "study_report": "report.build",
    "report_html": "report.build",
}

__all__ = [
    "BrowserNotFoundError",
    "ChooseError",
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
    "TransitError",
    "WeightsError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'geoplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"geoplan.{module}"), name)  # e.g. geoplan.io.layers
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

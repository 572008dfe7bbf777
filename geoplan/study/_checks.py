"""Checking the parts of a study file, collecting every problem.

Each function here reads one part of a parsed study (layers, criteria,
constraints, weights), appends a message for every problem it finds to a
:class:`Problems` list (naming the key, the bad value and the fix) and returns
what it could build, so :func:`geoplan.study.files.study_from_dict` can report all
problems at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd

from geoplan._errors import GeoplanError, GeoplanWarning, LayerNotFoundError, plain
from geoplan.decide.ahp import ahp_weights, group_ahp
from geoplan.decide.weights import normalize_weights
from geoplan.io import layers
from geoplan.measure.constraints import CONSTRAINT_KINDS, Constraint
from geoplan.measure.decay import decay_problems, make_decay
from geoplan.streets._walk_rules import WALK_RULES
from geoplan.study.kinds import KINDS, Kind
from geoplan.study.scoring import (
    CRITERION_KINDS,
    METRICS,
    MODES,
    Criterion,
    where_format_problems,
    where_problems,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOP_KEYS: Final = {
    "study",
    "layers",
    "candidates",
    "criteria",
    "constraints",
    "weights",
    "outputs",
    "map",
    "network",
    "transit",
    "result",
    "choose",
    "indicators",
    "scenarios",
}
STUDY_KEYS: Final = {"title", "title_zh", "crs", "method", "method_options", "top", "description"}
LAYER_KEYS: Final = {
    "path",
    "crs",
    "layer",
    "lon",
    "lat",
    "name_column",
    "id_column",
    "label",
    "sha256",
}
CRITERION_KEYS: Final = {
    "name",
    "kind",
    "layer",
    "weight",
    "label",
    "label_zh",
    "column",
    "radius_m",
    "max_minutes",
    "decay",
    "distance_decay",
    "metric",
    "mode",
    "unit",
    "where",
}
CONSTRAINT_KEYS: Final = {
    "kind",
    "class_column",
    "distances_m",
    "layer",
    "column",
    "min_m",
    "max_m",
    "max_minutes",
    "min",
    "max",
    "label",
    "metric",
    "mode",
    "unit",
}
GRID_KEYS: Final = {"cell_m", "shape", "area"}
#: Keys of [choose] (geoplan.choose.portfolio.CHOOSE_DEFAULTS has the same, with defaults).
CHOOSE_KEYS: Final = {
    "k",
    "objective",
    "demand",
    "weight",
    "metric",
    "mode",
    "max_m",
    "max_minutes",
    "existing",
    "capacity",
    "budget_units",
    "units_column",
    "budget_ha",
    "land_column",
    "district_column",
    "quotas",
    "min_spacing_m",
    "force_in",
    "force_out",
    "score_weight",
    "min_coverage",
    "solver",
    "milp",
    "time_limit_s",
}
#: Portfolio objectives (geoplan.choose.problem.OBJECTIVES explains each).
CHOOSE_OBJECTIVES: Final = ("coverage", "median", "cover_all", "dispersion", "score")
#: ``[indicators]`` keys and their defaults (see :mod:`geoplan.study.indicator_table`).
INDICATOR_DEFAULTS: Final[dict[str, Any]] = {
    "jobs_layer": "parks",
    "jobs_column": "jobs",
    "housing_layer": "housing",
    "workers_column": "workers",
    "site_units_column": "capacity",
    "residents_per_unit": 1.7,
    "district_column": "district",
    "cutoffs_m": [2000, 5000, 8000],
    "cutoffs_min": [15, 30, 45],
    "catchment_m": 5000,
    "catchment_min": 30,
    "method": "2sfca",
    "commute_mode": "transit",
    "stations_layer": "stations",
    "lines_column": "lines",
    "core_m": 500,
    "influence_m": 800,
    "facilities_layer": "facilities",
    "kind_column": "kind",
    "parks_layer": "parks",
    "protection_column": None,
    "protection_class_column": None,
    "protection_distances_m": None,
    "wind_rose": None,
    "wind_radius_m": 5000,
}
OUTPUT_KEYS: Final = {"dir", "table", "map", "top"}
RESULT_KEYS: Final = {"table", "sha256"}
NETWORK_KEYS: Final = {
    "source",
    "sha256",
    "max_snap_m",
    "speeds_kmh",
    "cache_dir",
    "margin_m",
    "entrance_m",
    "access_speed_kmh",
    "walk_rules",
}


def sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Problems(list[str]):
    def unknown(self, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(table) - allowed):
            self.append(
                f"{where}.{key} is not a known key (value {table[key]!r}); the keys here are "
                f"{sorted(allowed)!r}. Check the spelling."
            )

    def number(
        self, where: str, value: object, *, positive: bool = True, allow_zero: bool = False
    ) -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.append(f"{where} = {value!r} must be a finite number.")
            return None
        if positive and (value < 0 or (value == 0 and not allow_zero)):
            self.append(f"{where} = {value!r} must be {'>= 0' if allow_zero else '> 0'}.")
            return None
        return float(value)


def table(problems: Problems, where: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where} = {value!r} must be a table ([{where}] or {{ ... }}).")
        return {}
    return dict(value)


def load_layers(
    raw: Mapping[str, Any],
    folder: Path,
    problems: Problems,
    preloaded: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, dict[str, Any]]]:
    """Read every ``[layers.*]`` file; a layer in ``preloaded`` (EPSG:4326) is taken as given."""
    loaded: dict[str, gpd.GeoDataFrame] = {}
    sources: dict[str, dict[str, Any]] = {}
    for name, spec in table(problems, "layers", raw.get("layers")).items():
        where = f"layers.{name}"
        spec = table(problems, where, spec)
        problems.unknown(where, spec, LAYER_KEYS)
        if "path" not in spec or not isinstance(spec["path"], str):
            problems.append(
                f"{where}.path = {spec.get('path')!r}: give the layer file as a string, relative "
                f'to the study file, e.g. path = "{name}.geojson".'
            )
            continue
        path = (folder / spec["path"]).resolve()
        source = {**spec, "path": path}
        if preloaded is not None and name in preloaded:
            layer = preloaded[name]
            _check_name_columns(where, spec, layer, path, problems)
            loaded[name] = layer
            sources[name] = source
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                layer = layers.read_layer(
                    path,
                    crs=spec.get("crs"),
                    layer=spec.get("layer"),
                    lon=spec.get("lon"),
                    lat=spec.get("lat"),
                )
            for warning in caught:
                if name == "context" and "mixes geometry types" in str(warning.message):
                    continue  # a map's context is roads, rivers and districts together
                warnings.warn_explicit(
                    f"[{where}] {warning.message}", warning.category, str(path), 0
                )
        except LayerNotFoundError as exc:
            problems.append(f"{where}.path = {spec['path']!r}: {exc}")
            continue
        except GeoplanError as exc:
            problems.append(f"{where} ({spec['path']!r}): {exc}")
            continue
        _check_name_columns(where, spec, layer, path, problems)
        source["sha256"] = sha256(path)
        _changed(where, path, spec.get("sha256"), source["sha256"])
        loaded[name] = layer
        sources[name] = source
    return loaded, sources


def _check_name_columns(
    where: str, spec: Mapping[str, Any], layer: gpd.GeoDataFrame, path: Path, problems: Problems
) -> None:
    for key in ("name_column", "id_column"):
        if spec.get(key) is not None and spec[key] not in layer.columns:
            problems.append(
                f"{where}.{key} = {spec[key]!r} is not a column of {path.name}; its columns "
                f"are {[c for c in layer.columns if c != 'geometry']!r}."
            )


#: Network sources that name a file (others are place names to download).
_NETWORK_FILE_SUFFIXES: Final = (".osm", ".xml", ".pbf", ".bz2", ".gz", ".graphml")


def _changed(where: str, path: Path, recorded: object, found: str) -> None:
    if recorded not in (None, found):
        warnings.warn(
            f"[{where}] {path.name} has changed since the study was resolved (its SHA-256 "
            "differs from the one recorded); results will differ from the original run.",
            GeoplanWarning,
            stacklevel=5,
        )


def network(raw: Mapping[str, Any], folder: Path, problems: Problems) -> dict[str, Any]:
    """The ``[network]`` table: known keys and ``walk_rules``; a file source made absolute
    and fingerprinted (SHA-256).

    A source names a file when it ends like an OSM or GraphML file or exists
    beside the study; place names and bounding boxes stay as given.
    """
    spec = table(problems, "network", raw.get("network"))
    problems.unknown("network", spec, NETWORK_KEYS)
    if spec.get("walk_rules", "auto") not in WALK_RULES:
        problems.append(
            f'network.walk_rules = {spec["walk_rules"]!r}; use "auto" (China\'s rule where the '
            'study lies in China), "china" (elevated roads and road tunnels without a sidewalk '
            'are not walked) or "osm" (they are, as OpenStreetMap\'s defaults say).'
        )
    source = spec.get("source")
    if isinstance(source, str) and (
        source.lower().endswith(_NETWORK_FILE_SUFFIXES) or (folder / source).exists()
    ):
        path = (folder / source).resolve()
        spec["source"] = str(path)
        if path.is_file():
            found = sha256(path)
            _changed("network", path, spec.get("sha256"), found)
            spec["sha256"] = found
    if isinstance(spec.get("cache_dir"), str):
        spec["cache_dir"] = str((folder / spec["cache_dir"]).resolve())
    return spec


def outputs(raw: Mapping[str, Any], folder: Path, problems: Problems) -> dict[str, Any]:
    """The ``[outputs]`` table with its defaults and absolute paths.

    ``dir`` (default ``outputs``) and ``map`` are relative to the study file;
    ``table`` (default ``ranked.gpkg``) to ``dir``.
    """
    spec = table(problems, "outputs", raw.get("outputs"))
    problems.unknown("outputs", spec, OUTPUT_KEYS)
    for key in ("dir", "table", "map"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(f"outputs.{key} = {spec[key]!r} must be a path (a string).")
            spec.pop(key)
    spec["dir"] = str((folder / spec.get("dir", "outputs")).resolve())
    spec.setdefault("table", "ranked.gpkg")
    if "map" in spec:
        spec["map"] = str((folder / spec["map"]).resolve())
    return spec


def _decay(problems: Problems, where: str, spec: object, default: Any = None) -> Any:
    if spec is None:
        spec = default
    if spec is None:
        problems.append(
            f"{where}.decay is missing: say how raw values become 0-1 scores, e.g. "
            'decay = { kind = "linear", lower = 500, upper = 5000, direction = "lower" }.'
        )
        return None
    if not isinstance(spec, Mapping | str):
        problems.append(
            f'{where}.decay = {spec!r} must be a table such as {{ kind = "linear", ... }}.'
        )
        return None
    found = decay_problems(spec, where=f"{where}.decay")
    if found:
        problems.extend(found)
        return None
    return make_decay(spec)


def _distance_options(
    problems: Problems, where: str, spec: Mapping[str, Any]
) -> tuple[str, str | None, str]:
    if spec.get("mode") == "transit":  # walk + metro: travel minutes, with or without streets
        if spec.get("metric", "network") != "network" or spec.get("unit", "min") != "min":
            problems.append(
                f'{where}: mode = "transit" measures walk + metro minutes: leave out metric (or '
                f'metric = "network") and use unit = "min", got metric = {spec.get("metric")!r}, '
                f"unit = {spec.get('unit')!r}."
            )
        return "network", "transit", "min"
    metric = spec.get("metric", "straight")
    mode = spec.get("mode")
    unit = spec.get("unit", "m")
    if metric not in METRICS:
        problems.append(f"{where}.metric = {metric!r}; use one of {list(METRICS)!r}.")
    if metric == "network" and mode not in MODES:
        problems.append(
            f"{where}.mode = {mode!r}: a network metric needs mode = one of {list(MODES)!r}."
        )
    if unit not in ("m", "min") or (metric != "network" and unit == "min"):
        problems.append(
            f"{where}.unit = {unit!r}; use 'm' (metres), or 'min' (minutes) with metric = 'network'."
        )
    return str(metric), mode, str(unit)


def criteria(raw: Mapping[str, Any], layer_names: set[str], problems: Problems) -> list[Criterion]:
    specs = raw.get("criteria")
    if not isinstance(specs, list) or not specs:
        problems.append(
            "criteria is missing or empty: add at least one [[criteria]] table with name, kind, "
            f"layer, weight and decay (kinds: {list(CRITERION_KINDS)!r})."
        )
        return []
    out: list[Criterion] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        where = f"criteria[{i}]"
        spec = table(problems, where, spec)
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                f"{where}.name = {name!r} must be a short identifier (letters, digits, "
                'underscores), e.g. "station_access".'
            )
            name = f"criterion_{i}"
        elif name in seen:
            problems.append(
                f"{where}.name = {name!r} is used twice; give each criterion its own name."
            )
        seen.add(name)
        where = f"criteria[{i}] ({name})"
        kind = spec.get("kind")
        spec_kind = KINDS.get(str(kind)) if isinstance(kind, str) else None
        own = {option.name for option in spec_kind.options} if spec_kind else set()
        problems.unknown(where, spec, CRITERION_KEYS | own)
        if spec_kind is None:
            problems.append(
                f"{where}.kind = {kind!r} is not a criterion kind; use one of {list(CRITERION_KINDS)!r}."
            )
        extra = _kind_options(problems, where, spec_kind, spec, layer_names)
        layer = spec.get("layer")
        if layer not in layer_names:
            problems.append(
                f"{where}.layer = {layer!r} is not a layer of this study; the layers are "
                f"{sorted(layer_names)!r}."
            )
        weight = problems.number(f"{where}.weight", spec.get("weight", 1.0), allow_zero=True)
        metric, mode, unit = _distance_options(problems, where, spec)
        cutoff: dict[str, float | None] = {"radius_m": None, "max_minutes": None}
        if spec_kind is not None and spec_kind.cutoff:
            given = [k for k in cutoff if k in spec]
            expected = "max_minutes" if unit == "min" else "radius_m"
            if given != [expected]:
                problems.append(
                    f"{where}: a {kind} criterion needs {expected} = <number> (in {unit!r}), "
                    f"got { ({k: spec[k] for k in given})!r}."
                )
            else:
                cutoff[expected] = problems.number(f"{where}.{expected}", spec[expected])
        column = spec.get("column")
        if spec_kind is not None and spec_kind.column and not isinstance(column, str):
            problems.append(
                f"{where}.column = {column!r}: name the attribute of layer {spec.get('layer')!r} "
                'to use, e.g. column = "jobs".'
            )
        default_decay = None
        decay = _decay(problems, where, spec.get("decay"), default_decay)
        if spec_kind is not None and spec_kind.band and decay is not None and decay.kind != "band":
            problems.append(
                f"{where}.decay.kind = {decay.kind!r}: an {kind} criterion needs a band decay."
            )
        distance_decay = None
        if spec.get("distance_decay") is not None:
            dd = (
                dict(spec["distance_decay"])
                if isinstance(spec["distance_decay"], Mapping)
                else spec["distance_decay"]
            )
            if isinstance(dd, dict):
                dd.setdefault("direction", "lower")
            found = decay_problems(dd, where=f"{where}.distance_decay")
            problems.extend(found)
            distance_decay = None if found else make_decay(dd)
        where_spec = spec.get("where")
        where_found = where_format_problems(where_spec, label=f"{where}.where")
        problems.extend(where_found)
        if decay is None or kind not in CRITERION_KINDS or weight is None or where_found:
            continue
        out.append(
            Criterion(
                name=name,
                kind=str(kind),
                layer=str(layer),
                decay=decay,
                weight=weight,
                label=str(spec.get("label", "")),
                label_zh=str(spec.get("label_zh", "")),
                column=column,
                distance_decay=distance_decay,
                metric=metric,
                mode=mode,
                unit=unit,
                radius_m=cutoff["radius_m"],
                max_minutes=cutoff["max_minutes"],
                where=dict(where_spec) if where_spec is not None else None,
                extra=extra,
            )
        )
    return out


def _kind_options(
    problems: Problems,
    where: str,
    kind: Kind | None,
    spec: Mapping[str, Any],
    layer_names: set[str],
) -> dict[str, Any]:
    """A kind's own keys, parsed (defaults filled in); each problem with an example."""
    out: dict[str, Any] = {}
    if kind is None:
        return out
    for option in kind.options:
        if option.name not in spec:
            if option.required:
                problems.append(
                    f"{where}: a {kind.name} criterion needs {option.name}, e.g. {option.example}."
                )
            elif option.default is not None:
                out[option.name] = option.default
            continue
        value = spec[option.name]
        try:
            out[option.name] = option.parse(value)
        except ValueError as exc:
            problems.append(
                f"{where}.{option.name} = {plain(value)!r} {exc}, e.g. {option.example}."
            )
            continue
        if option.layer and value not in layer_names:
            problems.append(
                f"{where}.{option.name} = {value!r} is not a layer of this study; the layers are "
                f"{sorted(layer_names)!r}."
            )
    return out


def constraints(
    raw: Mapping[str, Any], layer_names: set[str], problems: Problems
) -> list[Constraint]:
    specs = raw.get("constraints", [])
    if not isinstance(specs, list):
        problems.append(f"constraints = {specs!r} must be a list of [[constraints]] tables.")
        return []
    out: list[Constraint] = []
    for i, spec in enumerate(specs):
        where = f"constraints[{i}]"
        spec = table(problems, where, spec)
        problems.unknown(where, spec, CONSTRAINT_KEYS)
        kind = spec.get("kind")
        if kind not in CONSTRAINT_KINDS:
            problems.append(f"{where}.kind = {kind!r}; use one of {list(CONSTRAINT_KINDS)!r}.")
            continue
        defaults = {"unit": "min"} if "max_minutes" in spec else {}
        metric, mode, unit = _distance_options(problems, where, {**defaults, **spec})
        layer = spec.get("layer")
        limit: float | None = None
        if kind in ("outside", "min_distance", "max_distance") and layer not in layer_names:
            problems.append(
                f"{where}.layer = {layer!r} is not a layer of this study; the layers are {sorted(layer_names)!r}."
            )
        distances_m: dict[str, float] | None = None
        if kind == "min_distance":
            by_class = "class_column" in spec or "distances_m" in spec
            if not ("min_m" in spec or "column" in spec or by_class):
                problems.append(
                    f"{where}: give min_m = <metres>, column = <per-feature distance column>, or "
                    'class_column = "industry" with distances_m = { chemical = 1000, ... }.'
                )
            if "min_m" in spec:  # the default for features without a distance of their own
                limit = problems.number(f"{where}.min_m", spec["min_m"], allow_zero=True)
            if by_class and not (
                isinstance(spec.get("class_column"), str)
                and isinstance(spec.get("distances_m"), Mapping)
            ):
                problems.append(
                    f'{where}: a distance per class needs class_column = "industry" and '
                    "distances_m = { chemical = 1000, electronics = 100 } together."
                )
            elif by_class:
                distances_m = {
                    str(k): v
                    for k, v in spec["distances_m"].items()
                    if problems.number(f"{where}.distances_m.{k}", v, allow_zero=True) is not None
                }
        elif kind == "max_distance":
            key = "max_minutes" if unit == "min" else "max_m"
            if key not in spec:
                problems.append(f"{where}: a max_distance constraint needs {key} = <number>.")
            else:
                limit = problems.number(f"{where}.{key}", spec[key])
        elif kind in ("min_value", "max_value"):
            key = "min" if kind == "min_value" else "max"
            if not isinstance(spec.get("column"), str) or key not in spec:
                problems.append(
                    f'{where}: a {kind} constraint needs column = "<site column>" and {key} = <number>.'
                )
            else:
                limit = problems.number(f"{where}.{key}", spec[key], positive=False)
        out.append(
            Constraint(
                kind=str(kind),
                layer=layer,
                column=spec.get("column"),
                limit=limit,
                metric=metric,
                mode=mode,
                unit=unit,
                label=str(spec.get("label", "")),
                class_column=spec.get("class_column"),
                distances_m=distances_m,
            )
        )
    return out


def check_columns(
    study_layers: Mapping[str, gpd.GeoDataFrame],
    criteria: list[Criterion],
    constraints: list[Constraint],
    problems: Problems,
) -> None:
    for c in criteria:
        layer = study_layers.get(c.layer)
        if c.kind == "sum_within" and layer is not None and c.column not in layer.columns:
            problems.append(
                f"criteria ({c.name}).column = {c.column!r} is not a column of layer {c.layer!r}; "
                f"its columns are {[x for x in layer.columns if x != 'geometry']!r}."
            )
        if c.where and layer is not None:
            problems.extend(
                f"criteria ({c.name}).{p}"
                for p in where_problems(layer, c.where, layer_name=c.layer)
            )
    candidates = study_layers.get("candidates")
    for i, k in enumerate(constraints):
        if (
            k.kind in ("min_value", "max_value")
            and candidates is not None
            and k.column not in candidates.columns
        ):
            problems.append(
                f"constraints[{i}].column = {k.column!r} is not a column of the candidates; their "
                f"columns are {[x for x in candidates.columns if x != 'geometry']!r}."
            )
        if (
            k.kind == "min_distance"
            and k.column
            and k.layer in study_layers
            and k.column not in study_layers[str(k.layer)].columns
        ):
            problems.append(
                f"constraints[{i}].column = {k.column!r} is not a column of layer {k.layer!r}."
            )


WEIGHT_METHODS: Final = ("direct", "ahp", "group_ahp", "entropy", "critic")
WEIGHT_KEYS: Final = {"method", "judgements", "officials", "max_cr", "on_inconsistent"}


def resolve_weights(
    spec: Mapping[str, Any], criteria: list[Criterion], problems: Problems
) -> list[Criterion]:
    """Apply the [weights] table: direct numbers, AHP, group AHP, or objective weights.

    AHP and group-AHP weights replace the criteria's ``weight`` keys; entropy
    and CRITIC weights depend on the scores, so they are computed when ranking.
    """
    problems.unknown("weights", spec, WEIGHT_KEYS)
    method = spec.get("method", "direct")
    names = [c.name for c in criteria]
    if method not in WEIGHT_METHODS:
        problems.append(f"weights.method = {method!r}; use one of {list(WEIGHT_METHODS)!r}.")
        return criteria
    options = {
        "criteria": names,
        "max_cr": spec.get("max_cr", 0.10),
        "on_inconsistent": spec.get("on_inconsistent", "raise"),
    }
    try:
        if method == "ahp":
            if "judgements" not in spec:
                problems.append(
                    'weights.method = "ahp" needs judgements = ["metro_access > jobs_reach: 2", ...] '
                    "(one per pair of criteria)."
                )
                return criteria
            found = ahp_weights(spec["judgements"], **options).weights
        elif method == "group_ahp":
            officials = spec.get("officials")
            if not isinstance(officials, Mapping) or not officials:
                problems.append(
                    'weights.method = "group_ahp" needs [weights.officials] with one list of '
                    "judgements per official, e.g. director = [...]."
                )
                return criteria
            found = group_ahp(dict(officials), **options).weights
        else:
            normalize_weights(pd.Series({c.name: c.weight for c in criteria}))
            return criteria
    except GeoplanError as exc:
        problems.append(f"weights ({method}): {exc}")
        return criteria
    return [dataclasses.replace(c, weight=float(found[c.name])) for c in criteria]


def _names_list(problems: Problems, where: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problems.append(f'{where} = {value!r} must be a list of site ids, e.g. ["C03", "C07"].')


def choose(
    raw: Mapping[str, Any], layers_loaded: Mapping[str, gpd.GeoDataFrame], problems: Problems
) -> dict[str, Any]:
    """The ``[choose]`` table (a portfolio of sites): known keys, types and ranges.

    Whether the constraints together leave a portfolio is checked when one is chosen
    (:func:`geoplan.choose_sites`), where the error names the constraint to relax.
    """
    spec = table(problems, "choose", raw.get("choose"))
    if not spec:
        return {}
    problems.unknown("choose", spec, CHOOSE_KEYS)
    k = spec.get("k")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        problems.append(f"choose.k = {k!r} must be a whole number of new sites >= 1.")
    if spec.get("objective", "coverage") not in CHOOSE_OBJECTIVES:
        problems.append(
            f"choose.objective = {spec['objective']!r}; use one of {list(CHOOSE_OBJECTIVES)!r}."
        )
    demand = spec.get("demand", "parks")
    layer_names = set(raw.get("layers", {}) if isinstance(raw.get("layers"), Mapping) else {})
    if demand not in layer_names:
        problems.append(
            f"choose.demand = {demand!r} is not a layer of the study; use one of "
            f"{sorted(layer_names)!r}."
        )
    elif (
        demand in layers_loaded
        and spec.get("weight") is not None
        and spec["weight"] not in layers_loaded[demand].columns
    ):
        problems.append(
            f"choose.weight = {spec['weight']!r} is not a column of layer {demand!r}; its "
            f"columns are {[c for c in layers_loaded[demand].columns if c != 'geometry']!r}."
        )
    if spec.get("metric", "straight") not in METRICS:
        problems.append(f"choose.metric = {spec['metric']!r}; use one of {list(METRICS)!r}.")
    if spec.get("mode", "walk") not in MODES:
        problems.append(f"choose.mode = {spec['mode']!r}; use one of {list(MODES)!r}.")
    for key in ("max_m", "max_minutes", "budget_units", "budget_ha", "time_limit_s"):
        if spec.get(key) is not None:
            problems.number(f"choose.{key}", spec[key])
    if spec.get("max_m") is not None and spec.get("max_minutes") is not None:
        problems.append("choose: give the standard as max_m or as max_minutes, not both.")
    if spec.get("max_minutes") is not None and spec.get("metric", "straight") != "network":
        problems.append(
            'choose.max_minutes needs metric = "network" (travel times); give max_m for '
            "straight-line metres."
        )
    if spec.get("budget_units") is not None and spec.get("budget_ha") is not None:
        problems.append("choose: give one budget, budget_units or budget_ha, not both.")
    if spec.get("min_spacing_m") is not None:
        problems.number("choose.min_spacing_m", spec["min_spacing_m"], allow_zero=True)
    for key in ("score_weight", "min_coverage"):
        value = spec.get(key)
        if (
            value is not None
            and (problems.number(f"choose.{key}", value, allow_zero=True) or 0) > 1
        ):
            problems.append(f"choose.{key} = {value!r} must lie between 0 and 1.")
    for key in ("force_in", "force_out"):
        _names_list(problems, f"choose.{key}", spec.get(key))
    existing = spec.get("existing")
    if isinstance(existing, Mapping):
        problems.unknown("choose.existing", existing, {"column", "values", "value"})
        sites = layers_loaded.get("candidates")
        if sites is not None and existing.get("column") not in sites.columns:
            problems.append(
                f"choose.existing.column = {existing.get('column')!r} is not a column of the "
                f"candidates; use one of {[c for c in sites.columns if c != 'geometry']!r}."
            )
    else:
        _names_list(problems, "choose.existing", existing)
    quotas = table(problems, "choose.quotas", spec.get("quotas"))
    for district, bounds in quotas.items():
        where = f"choose.quotas.{district}"
        bounds = table(problems, where, bounds)
        problems.unknown(where, bounds, {"min", "max"})
        for key in ("min", "max"):
            value = bounds.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                problems.append(f"{where}.{key} = {value!r} must be a whole number >= 0.")
    for key, allowed in (
        ("solver", ("auto", "exact", "heuristic")),
        ("milp", ("auto", "highs", "cbc")),
    ):
        if spec.get(key, "auto") not in allowed:
            problems.append(f"choose.{key} = {spec[key]!r}; use one of {list(allowed)!r}.")
    return spec


def indicators(raw: Mapping[str, Any], layer_names: set[str], problems: Problems) -> dict[str, Any]:
    """The ``[indicators]`` table: known keys; layers that exist; numbers that are numbers.

    Only the keys given are kept (defaults stay in :data:`INDICATOR_DEFAULTS`).
    """
    spec = table(problems, "indicators", raw.get("indicators"))
    problems.unknown("indicators", spec, set(INDICATOR_DEFAULTS))
    for key, value in spec.items():
        where = f"indicators.{key}"
        if key.endswith("_layer") and value not in layer_names:
            problems.append(
                f"{where} = {value!r} is not a layer of this study; the layers are "
                f"{sorted(layer_names)!r}. Leave the key out to skip those indicators."
            )
        elif key in ("cutoffs_m", "cutoffs_min"):
            if not isinstance(value, list) or not value:
                problems.append(f"{where} = {value!r} must be a list such as [15, 30, 45].")
            else:
                for v in value:
                    problems.number(where, v)
        elif key in ("residents_per_unit", "catchment_m", "catchment_min", "core_m") or key in (
            "influence_m",
            "wind_radius_m",
        ):
            problems.number(where, value)
        elif key == "method" and value not in ("2sfca", "e2sfca"):
            problems.append(f'{where} = {value!r}; use "2sfca" or "e2sfca".')
        elif key == "commute_mode" and value not in MODES:
            problems.append(f"{where} = {value!r}; use one of {list(MODES)!r}.")
        elif key in ("wind_rose", "protection_distances_m") and not isinstance(value, Mapping):
            problems.append(f"{where} = {value!r} must be a table such as {{ N = 10, NE = 5 }}.")
    return spec

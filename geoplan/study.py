"""Study definitions: one TOML file describing layers, criteria, weights and outputs.

:func:`load_study` reads and validates a study file, collecting *every*
problem (each naming the key, the bad value and the fix) before raising one
:class:`~geoplan.StudyError`, then reads its layers.  :meth:`Study.to_toml`
gives the effective, fully resolved study (defaults filled in, paths made
absolute, layer checksums recorded) that geoplan writes beside every output.

See ``data/changzhou/study.toml`` for a complete, commented example.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import math
import re
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import pyproj
import tomli_w

from geoplan import __version__, coords, layers, mcda
from geoplan._errors import (
    GeoplanError,
    GeoplanWarning,
    LayerNotFoundError,
    StudyError,
)
from geoplan.ahp import ahp_weights, group_ahp
from geoplan.constraints import CONSTRAINT_KINDS, Constraint
from geoplan.decay import decay_problems, make_decay
from geoplan.scoring import CRITERION_KINDS, METRICS, MODES, Criterion
from geoplan.weights import normalize_weights

__all__ = ["Study", "load_study", "study_from_dict"]

logger = logging.getLogger(__name__)

#: Layers with a fixed meaning; others may be added under any name.
LAYER_ROLES: Final = {
    "candidates": "candidate site",
    "parks": "industrial park",
    "stations": "station",
    "exclusions": "exclusion zone",
    "facilities": "facility",
    "area": "study area",
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS: Final = {
    "study",
    "layers",
    "candidates",
    "criteria",
    "constraints",
    "weights",
    "outputs",
    "map",
    "network",
}
_STUDY_KEYS: Final = {"title", "title_zh", "crs", "method", "method_options", "top", "description"}
_LAYER_KEYS: Final = {
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
_CRITERION_KEYS: Final = {
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
}
_CONSTRAINT_KEYS: Final = {
    "kind",
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
_GRID_KEYS: Final = {"cell_m", "shape", "area"}
_OUTPUT_KEYS: Final = {"dir", "table", "map", "top"}
_NETWORK_KEYS: Final = {
    "source",
    "max_snap_m",
    "speeds_kmh",
    "cache_dir",
    "margin_m",
    "entrance_m",
    "access_speed_kmh",
}


@dataclass
class Study:
    """A validated study: its settings, criteria, constraints and loaded layers.

    Build one with :func:`load_study` (from a TOML file) or
    :func:`study_from_dict`.  Layers are GeoDataFrames in EPSG:4326.
    """

    title: str
    layers: dict[str, gpd.GeoDataFrame]
    criteria: list[Criterion]
    constraints: list[Constraint] = field(default_factory=list)
    metric_crs: pyproj.CRS | None = None
    method: str = "weighted_sum"
    method_options: dict[str, Any] = field(default_factory=dict)
    title_zh: str = ""
    path: Path | None = None
    grid: dict[str, Any] | None = None
    name_columns: dict[str, str | None] = field(default_factory=dict)
    id_columns: dict[str, str | None] = field(default_factory=dict)
    layer_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    map_options: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    weights_spec: dict[str, Any] = field(default_factory=dict)
    top: int = 10

    @property
    def weights(self) -> pd.Series:
        """Criterion weights as given (not normalised), by criterion name."""
        return pd.Series({c.name: c.weight for c in self.criteria}, dtype="float64")

    @property
    def folder(self) -> Path:
        """Folder of the study file (or the current folder)."""
        return self.path.parent if self.path else Path.cwd()

    def layer_label(self, name: str) -> str:
        """How features of a layer are called in reasons ("industrial park")."""
        source = self.layer_sources.get(name, {})
        return str(source.get("label") or LAYER_ROLES.get(name, name))

    def bounds(self) -> tuple[float, float, float, float]:
        """WGS-84 bounds of the study area (the area layer, else all layers)."""
        if "area" in self.layers:
            geoms = self.layers["area"].geometry
        else:
            geoms = gpd.GeoSeries(pd.concat([g.geometry for g in self.layers.values()]))
        west, south, east, north = (float(v) for v in geoms.total_bounds)
        return west, south, east, north

    def to_dict(self) -> dict[str, Any]:
        """The effective study: every default filled in, paths absolute."""
        study: dict[str, Any] = {
            "title": self.title,
            "method": self.method,
            "top": self.top,
            "crs": self.metric_crs.to_string() if self.metric_crs else None,
        }
        if self.title_zh:
            study["title_zh"] = self.title_zh
        if self.method_options:
            study["method_options"] = dict(self.method_options)
        out: dict[str, Any] = {"study": study, "layers": {}}
        for name, source in self.layer_sources.items():
            entry = {k: str(v) for k, v in source.items() if v is not None}
            out["layers"][name] = entry
        if self.grid:
            out["candidates"] = {"grid": dict(self.grid)}
        out["criteria"] = [c.to_dict() for c in self.criteria]
        if self.constraints:
            out["constraints"] = [c.to_dict() for c in self.constraints]
        if self.weights_spec:
            out["weights"] = self.weights_spec
        for key in ("outputs", "map", "network"):
            value = {"outputs": self.outputs, "map": self.map_options, "network": self.network}[key]
            if value:
                out[key] = {k: (str(v) if isinstance(v, Path) else v) for k, v in value.items()}
        return out

    def to_toml(self) -> str:
        """The effective study as TOML, with a provenance header.

        Returns
        -------
        str
            TOML text; loading it with :func:`load_study` reproduces the study.
        """
        stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        header = (
            f"# Effective study written by geoplan {__version__} on {stamp}\n"
            f"# from {self.path if self.path else '(built in Python)'}.\n"
            "# Every default is filled in and every path is absolute; load this file with\n"
            "# geoplan.load_study() or `geoplan rank` to reproduce the result.\n\n"
        )
        return header + tomli_w.dumps(_drop_none(self.to_dict()))


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Problems(list[str]):
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


def _table(problems: _Problems, where: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where} = {value!r} must be a table ([{where}] or {{ ... }}).")
        return {}
    return dict(value)


def _load_layers(
    raw: Mapping[str, Any], folder: Path, problems: _Problems
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, dict[str, Any]]]:
    loaded: dict[str, gpd.GeoDataFrame] = {}
    sources: dict[str, dict[str, Any]] = {}
    for name, spec in _table(problems, "layers", raw.get("layers")).items():
        where = f"layers.{name}"
        spec = _table(problems, where, spec)
        problems.unknown(where, spec, _LAYER_KEYS)
        if "path" not in spec or not isinstance(spec["path"], str):
            problems.append(
                f"{where}.path = {spec.get('path')!r}: give the layer file as a string, relative "
                f'to the study file, e.g. path = "{name}.geojson".'
            )
            continue
        path = (folder / spec["path"]).resolve()
        source = {**spec, "path": path}
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
                warnings.warn_explicit(
                    f"[{where}] {warning.message}", warning.category, str(path), 0
                )
        except LayerNotFoundError as exc:
            problems.append(f"{where}.path = {spec['path']!r}: {exc}")
            continue
        except GeoplanError as exc:
            problems.append(f"{where} ({spec['path']!r}): {exc}")
            continue
        for key in ("name_column", "id_column"):
            if spec.get(key) is not None and spec[key] not in layer.columns:
                problems.append(
                    f"{where}.{key} = {spec[key]!r} is not a column of {path.name}; its columns "
                    f"are {[c for c in layer.columns if c != 'geometry']!r}."
                )
        source["sha256"] = _sha256(path)
        if spec.get("sha256") not in (None, source["sha256"]):
            warnings.warn(
                f"[{where}] {path.name} has changed since the study was resolved (its SHA-256 "
                "differs from the one recorded); results will differ from the original run.",
                GeoplanWarning,
                stacklevel=4,
            )
        loaded[name] = layer
        sources[name] = source
    return loaded, sources


def _decay(problems: _Problems, where: str, spec: object, default: Any = None) -> Any:
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
    problems: _Problems, where: str, spec: Mapping[str, Any]
) -> tuple[str, str | None, str]:
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


def _criteria(
    raw: Mapping[str, Any], layer_names: set[str], problems: _Problems
) -> list[Criterion]:
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
        spec = _table(problems, where, spec)
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
        problems.unknown(where, spec, _CRITERION_KEYS)
        kind = spec.get("kind")
        if kind not in CRITERION_KINDS:
            problems.append(
                f"{where}.kind = {kind!r} is not a criterion kind; use one of {list(CRITERION_KINDS)!r}."
            )
        layer = spec.get("layer")
        if layer not in layer_names:
            problems.append(
                f"{where}.layer = {layer!r} is not a layer of this study; the layers are "
                f"{sorted(layer_names)!r}."
            )
        weight = problems.number(f"{where}.weight", spec.get("weight", 1.0), allow_zero=True)
        metric, mode, unit = _distance_options(problems, where, spec)
        cutoff: dict[str, float | None] = {"radius_m": None, "max_minutes": None}
        if kind in ("count_within", "sum_within"):
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
        if kind == "sum_within" and not isinstance(column, str):
            problems.append(
                f'{where}.column = {column!r}: name the attribute to sum, e.g. column = "jobs".'
            )
        default_decay = None
        decay = _decay(problems, where, spec.get("decay"), default_decay)
        if kind == "ideal_band" and decay is not None and decay.kind != "band":
            problems.append(
                f"{where}.decay.kind = {decay.kind!r}: an ideal_band criterion needs a band decay."
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
        if decay is None or kind not in CRITERION_KINDS or weight is None:
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
            )
        )
    return out


def _constraints(
    raw: Mapping[str, Any], layer_names: set[str], problems: _Problems
) -> list[Constraint]:
    specs = raw.get("constraints", [])
    if not isinstance(specs, list):
        problems.append(f"constraints = {specs!r} must be a list of [[constraints]] tables.")
        return []
    out: list[Constraint] = []
    for i, spec in enumerate(specs):
        where = f"constraints[{i}]"
        spec = _table(problems, where, spec)
        problems.unknown(where, spec, _CONSTRAINT_KEYS)
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
        if kind == "min_distance":
            if ("min_m" in spec) == ("column" in spec):
                problems.append(
                    f"{where}: give min_m = <metres> or column = <per-feature distance column>, not both or neither."
                )
            elif "min_m" in spec:
                limit = problems.number(f"{where}.min_m", spec["min_m"])
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
            )
        )
    return out


def _check_columns(
    study_layers: Mapping[str, gpd.GeoDataFrame],
    criteria: list[Criterion],
    constraints: list[Constraint],
    problems: _Problems,
) -> None:
    for c in criteria:
        layer = study_layers.get(c.layer)
        if c.kind == "sum_within" and layer is not None and c.column not in layer.columns:
            problems.append(
                f"criteria ({c.name}).column = {c.column!r} is not a column of layer {c.layer!r}; "
                f"its columns are {[x for x in layer.columns if x != 'geometry']!r}."
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


_WEIGHT_METHODS: Final = ("direct", "ahp", "group_ahp", "entropy", "critic")
_WEIGHT_KEYS: Final = {"method", "judgements", "officials", "max_cr", "on_inconsistent"}


def _resolve_weights(
    spec: Mapping[str, Any], criteria: list[Criterion], problems: _Problems
) -> list[Criterion]:
    """Apply the [weights] table: direct numbers, AHP, group AHP, or objective weights.

    AHP and group-AHP weights replace the criteria's ``weight`` keys; entropy
    and CRITIC weights depend on the scores, so they are computed when ranking.
    """
    problems.unknown("weights", spec, _WEIGHT_KEYS)
    method = spec.get("method", "direct")
    names = [c.name for c in criteria]
    if method not in _WEIGHT_METHODS:
        problems.append(f"weights.method = {method!r}; use one of {list(_WEIGHT_METHODS)!r}.")
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


def study_from_dict(
    raw: Mapping[str, Any], *, folder: str | Path | None = None, path: Path | None = None
) -> Study:
    """Validate a study given as a dictionary (the parsed TOML) and load its layers.

    Parameters
    ----------
    raw : mapping
        The study, structured as the TOML file.
    folder : str or pathlib.Path, optional
        Folder that layer paths are relative to (default: the current folder).
    path : pathlib.Path, optional
        The study file, for messages and provenance.

    Returns
    -------
    Study
        The validated study with its layers loaded.

    Raises
    ------
    StudyError
        Listing every problem found.
    """
    folder = Path(folder) if folder else Path.cwd()
    problems = _Problems()
    problems.unknown("(top level)", raw, _TOP_KEYS)
    head = _table(problems, "study", raw.get("study"))
    problems.unknown("study", head, _STUDY_KEYS)
    metric_crs = None
    if head.get("crs") is not None:
        try:
            resolved = coords.resolve_crs(head["crs"])
            if not isinstance(resolved, pyproj.CRS) or not resolved.is_projected:
                problems.append(
                    f"study.crs = {head['crs']!r} is not a projected CRS in metres; analysis "
                    "needs one, e.g. 'EPSG:4549' (CGCS2000 / 3-degree GK CM 120E) or "
                    "'EPSG:32650' (UTM 50N). Leave it out to use the local UTM zone."
                )
            else:
                metric_crs = resolved
        except GeoplanError as exc:
            problems.append(f"study.crs: {exc}")
    method = head.get("method", "weighted_sum")
    try:
        method = mcda.method_name(method)
        mcda.method_options(
            method, _table(problems, "study.method_options", head.get("method_options"))
        )
    except GeoplanError as exc:
        problems.append(f"study.method = {method!r}: {exc}")
    top = head.get("top", 10)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        problems.append(f"study.top = {top!r} must be a whole number of sites >= 1.")
        top = 10
    study_layers, sources = _load_layers(raw, folder, problems)
    grid = _table(problems, "candidates", raw.get("candidates")).get("grid")
    if grid is not None:
        grid = _table(problems, "candidates.grid", grid)
        problems.unknown("candidates.grid", grid, _GRID_KEYS)
        problems.number("candidates.grid.cell_m", grid.get("cell_m"))
        if grid.get("shape", "hex") not in ("hex", "square"):
            problems.append(
                f"candidates.grid.shape = {grid.get('shape')!r}; use 'hex' or 'square'."
            )
        if grid.get("area", "area") not in sources and "area" not in raw.get("layers", {}):
            problems.append(
                "candidates.grid needs a study-area layer: add [layers.area] with a polygon."
            )
    elif "candidates" not in raw.get("layers", {}):
        problems.append(
            'No candidate sites: add [layers.candidates] with path = "sites.csv", or generate '
            'them with [candidates] grid = { cell_m = 500, shape = "hex" } over [layers.area].'
        )
    layer_names = set(raw.get("layers", {}) if isinstance(raw.get("layers"), Mapping) else {})
    criteria_list = _criteria(raw, layer_names, problems)
    constraint_list = _constraints(raw, layer_names, problems)
    _check_columns(study_layers, criteria_list, constraint_list, problems)
    network = _table(problems, "network", raw.get("network"))
    problems.unknown("network", network, _NETWORK_KEYS)
    problems.unknown("outputs", _table(problems, "outputs", raw.get("outputs")), _OUTPUT_KEYS)
    if any(c.metric == "network" for c in criteria_list) and "source" not in network:
        problems.append(
            'A criterion uses metric = "network" but there is no [network] source; add '
            '[network] source = "changzhou.osm.pbf" (a local OpenStreetMap extract, clipped to '
            "the study area) or a place name to download."
        )
    weights_spec = _table(problems, "weights", raw.get("weights"))
    if criteria_list and not problems:
        criteria_list = _resolve_weights(weights_spec, criteria_list, problems)
    if problems:
        raise StudyError(problems, source=str(path) if path else None)
    study = Study(
        title=str(head.get("title", path.stem if path else "geoplan study")),
        title_zh=str(head.get("title_zh", "")),
        layers=study_layers,
        criteria=criteria_list,
        constraints=constraint_list,
        metric_crs=metric_crs,
        method=str(method),
        method_options=dict(head.get("method_options", {})),
        path=path,
        grid=dict(grid) if grid else None,
        name_columns={n: s.get("name_column") for n, s in sources.items()},
        id_columns={n: s.get("id_column") for n, s in sources.items()},
        layer_sources=sources,
        outputs=_table(problems, "outputs", raw.get("outputs")),
        map_options=_table(problems, "map", raw.get("map")),
        network=network,
        weights_spec=weights_spec,
        top=int(top),
    )
    if study.metric_crs is None:
        study.metric_crs = coords.local_metric_crs(study.bounds())
        logger.info("analysis CRS: %s (local UTM zone)", study.metric_crs.to_string())
    _warn_outside_area(study)
    return study


def _warn_outside_area(study: Study) -> None:
    if "area" not in study.layers:
        return
    west, south, east, north = study.bounds()
    margin = 0.05 * max(east - west, north - south)
    box = (west - margin, south - margin, east + margin, north + margin)
    for name, layer in study.layers.items():
        if name != "area":
            layers.check_bounds(
                layer, box, name=f"layer {name!r}", label_column=study.name_columns.get(name)
            )


def load_study(path: str | Path) -> Study:
    """Read, validate and load a study file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML study file; layer paths in it are relative to its folder.

    Returns
    -------
    Study
        The validated study with its layers loaded (EPSG:4326).

    Raises
    ------
    LayerNotFoundError
        If the study file does not exist.
    StudyError
        If the TOML is malformed or the study has problems (all listed).
    """
    path = Path(path)
    if not path.is_file():
        raise LayerNotFoundError(
            f"Study file {str(path)!r} does not exist. Give the path of a .toml study, e.g. "
            "data/changzhou/study.toml."
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(
            [
                f"the file is not valid TOML: {exc}. Fix the syntax at that line (quote strings, "
                "close brackets, one key per line)."
            ],
            source=str(path),
        ) from exc
    except UnicodeDecodeError as exc:
        raise StudyError(
            [f"the file is not UTF-8 text ({exc}); save it as UTF-8."], source=str(path)
        ) from exc
    return study_from_dict(raw, folder=path.parent, path=path.resolve())

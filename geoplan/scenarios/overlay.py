"""Scenarios: small overlays on a study ("what if Line 2 is extended?"), checked like studies.

A scenario is a ``[[scenarios]]`` table, in the study file itself or in a
separate TOML file of ``[[scenarios]]`` tables (paths in it are relative to
that file).  It names what changes; everything else is the study's::

    [[scenarios]]
    name = "line2_east"                       # identifier, used in column names
    label = "Line 2 extended east"            # label_zh, description: for people
    features = [                              # features edited, per layer
      { layer = "stations", add = "line2_east_stations.csv" },   # a file (read like a layer)
      { layer = "exclusions", remove = { zone_id = "X03" } },    # a where selection
      { layer = "candidates", where = { site_id = "C12" }, set = { capacity = 800 } },
    ]
    lines = { "2" = { stations = ["L2-01", ..., "L2-16"] } }    # a [[transit.lines]] by name
    weights = { metro_access = 0.25 }         # direct weights (the others keep theirs)

=====================  =============================================================
key                    what it changes
=====================  =============================================================
``layers``             layers added or replaced: ``{ name = { path = ..., ... } }``,
                       the keys of ``[layers.*]``
``remove_layers``      layers removed, by name
``features``           features added (``add``: a file, or a list of points
                       ``{ lon = ..., lat = ..., <column> = ... }`` in WGS-84),
                       removed (``remove``: a ``where`` selection) or edited
                       (``where`` + ``set``: column = value)
``criteria``           keys of criteria changed, by name: ``{ metro_access = { decay
                       = {...} } }``; ``add_criteria``/``remove_criteria``
``weights``            direct weights by criterion name (``[weights]`` becomes
                       ``direct``); ``weighting``: a whole ``[weights]`` table (e.g.
                       another office's AHP judgements)
``add_constraints``    constraints added (``[[constraints]]`` tables);
``remove_constraints`` removed: each table matches the constraints whose keys equal it
``study``              ``[study]`` keys changed (``method``, ``method_options``, ``top``)
``network``            ``[network]`` keys changed; ``transit``: ``[transit]`` settings
``lines``              ``[[transit.lines]]`` changed by name (keys merged; a new name adds
                       a line); ``remove_lines``
``candidates``         the ``[candidates]`` table (a grid) replaced
=====================  =============================================================

:func:`apply_scenario` gives the edited study as a new
:class:`~geoplan.study.files.Study` (copy-on-write: the base study and its
layers are never changed; layers the scenario does not touch are shared),
validated by the same checks as a study file.  Every problem of every
scenario is collected and reported at once (:class:`~geoplan.StudyError`),
each with its fix.  Nothing in a scenario is evaluated: it is data.
"""

from __future__ import annotations

import copy
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import shapely

from geoplan._errors import GeoplanError, StudyError, plain
from geoplan.io.layers import read_layer
from geoplan.study._checks import LAYER_KEYS, Problems, table
from geoplan.study.files import Study, read_toml, study_from_dict
from geoplan.study.scoring import where_format_problems, where_mask, where_problems

__all__ = [
    "SCENARIO_KEYS",
    "Scenario",
    "apply_scenario",
    "edited_studies",
    "read_scenarios",
    "scenarios_from_list",
]

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Keys of a ``[[scenarios]]`` table.
SCENARIO_KEYS: Final = frozenset(
    {
        "name",
        "label",
        "label_zh",
        "description",
        "layers",
        "remove_layers",
        "features",
        "criteria",
        "add_criteria",
        "remove_criteria",
        "weights",
        "weighting",
        "add_constraints",
        "remove_constraints",
        "study",
        "network",
        "transit",
        "lines",
        "remove_lines",
        "candidates",
    }
)
_FEATURE_KEYS: Final = frozenset({"layer", "add", "crs", "remove", "where", "set"})
_TABLES: Final = ("layers", "criteria", "weights", "weighting", "study", "network", "transit")
_TABLES_2: Final = ("lines", "candidates")
_NAME_LISTS: Final = ("remove_layers", "remove_criteria", "remove_lines")
_TABLE_LISTS: Final = ("add_criteria", "add_constraints", "remove_constraints")
#: Words a scenario may not be called (the base run and the long table's columns).
_RESERVED: Final = frozenset({"base"})


@dataclass(frozen=True)
class Scenario:
    """One what-if: its name, words for people, and what it changes (paths absolute).

    Attributes
    ----------
    name : str
        Identifier (letters, digits, underscores), unique among the scenarios.
    label, label_zh, description : str
        For tables and maps.
    changes : mapping
        The scenario's table without its name and words (see the module docstring).
    source : str, optional
        The file it was read from.
    """

    name: str
    label: str = ""
    label_zh: str = ""
    description: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None

    @property
    def title(self) -> str:
        """The label, or the name."""
        return self.label or self.name.replace("_", " ")


def _absolute(path: object, folder: Path) -> object:
    return str((folder / path).resolve()) if isinstance(path, str) else path


def _check_one(
    spec: Mapping[str, Any], where: str, folder: Path, problems: Problems
) -> dict[str, Any]:
    """The form of one scenario table (what can be checked without the study)."""
    problems.unknown(where, spec, set(SCENARIO_KEYS))
    changes: dict[str, Any] = {}
    for key in ("label", "label_zh", "description"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(f"{where}.{key} = {spec[key]!r} must be text.")
    for key in (*_TABLES, *_TABLES_2):
        if key in spec:
            changes[key] = table(problems, f"{where}.{key}", spec[key])
    for key in _NAME_LISTS:
        value = spec.get(key)
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(
                    f'{where}.{key} = {value!r} must be a list of names, e.g. ["exclusions"].'
                )
            else:
                changes[key] = list(value)
    for key in _TABLE_LISTS:
        value = spec.get(key)
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                problems.append(
                    f"{where}.{key} = {value!r} must be a list of tables, e.g. "
                    f"[{{ kind = ..., ... }}]."
                )
            else:
                changes[key] = [dict(v) for v in value]
    for name, layer in changes.get("layers", {}).items():
        layer = table(problems, f"{where}.layers.{name}", layer)
        problems.unknown(f"{where}.layers.{name}", layer, set(LAYER_KEYS) - {"sha256"})
        if not isinstance(layer.get("path"), str):
            problems.append(
                f"{where}.layers.{name}.path = {layer.get('path')!r}: give the layer file as "
                f'text, relative to the scenario file, e.g. path = "{name}_2030.geojson".'
            )
        changes["layers"][name] = {**layer, "path": _absolute(layer.get("path"), folder)}
    for name, weight in changes.get("weights", {}).items():
        problems.number(f"{where}.weights.{name}", weight, allow_zero=True)
    for name, edit in changes.get("criteria", {}).items():
        edit = table(problems, f"{where}.criteria.{name}", edit)
        if "name" in edit:
            problems.append(
                f"{where}.criteria.{name}.name: a criterion cannot be renamed by a scenario; "
                "remove it (remove_criteria) and add the new one (add_criteria)."
            )
        changes["criteria"][name] = edit
    for name, line in changes.get("lines", {}).items():
        line = table(problems, f"{where}.lines.{name}", line)
        if "track" in line:
            line["track"] = _absolute(line["track"], folder)
        changes["lines"][name] = line
    if isinstance(changes.get("network", {}).get("source"), str):
        source = str(changes["network"]["source"])
        if (folder / source).exists() or "." in Path(source).name:
            changes["network"]["source"] = _absolute(source, folder)
    if isinstance(changes.get("transit", {}).get("gtfs"), str):
        changes["transit"]["gtfs"] = _absolute(changes["transit"]["gtfs"], folder)
    features = spec.get("features", [])
    if not isinstance(features, list):
        problems.append(f"{where}.features = {features!r} must be a list of tables.")
        features = []
    edits = []
    for i, edit in enumerate(features):
        at = f"{where}.features[{i}]"
        edit = table(problems, at, edit)
        problems.unknown(at, edit, set(_FEATURE_KEYS))
        if not isinstance(edit.get("layer"), str):
            problems.append(f"{at}.layer = {edit.get('layer')!r}: name the layer to edit.")
        does = [k for k in ("add", "remove", "set") if k in edit]
        if len(does) != 1:
            problems.append(
                f"{at}: give one of add (features to add), remove (a where selection) or "
                f"set (with where), got {does!r}."
            )
        if "add" in edit:
            added = edit["add"]
            if isinstance(added, str):
                edit["add"] = _absolute(added, folder)
            elif (
                not isinstance(added, list)
                or not added
                or not all(isinstance(row, Mapping) and {"lon", "lat"} <= set(row) for row in added)
            ):
                problems.append(
                    f"{at}.add = {added!r} must be a file of features or a list of points "
                    '{ lon = 120.05, lat = 31.78, name = "..." } (WGS-84 degrees).'
                )
        for key in ("remove", "where"):
            if key in edit:
                problems.extend(where_format_problems(edit[key], label=f"{at}.{key}"))
        if "set" in edit:
            changed = table(problems, f"{at}.set", edit["set"])
            if not changed:
                problems.append(
                    f"{at}.set must name column = value pairs, e.g. {{ capacity = 800 }}."
                )
        edits.append(edit)
    if edits:
        changes["features"] = edits
    return changes


def scenarios_from_list(
    specs: object, *, folder: str | Path | None = None, source: str | None = None
) -> list[Scenario]:
    """Check the form of ``[[scenarios]]`` tables and build the scenarios.

    Parameters
    ----------
    specs : list of mapping
        The parsed ``[[scenarios]]`` tables.
    folder : str or pathlib.Path, optional
        Folder their paths are relative to (default: the current folder).
    source : str, optional
        The file they come from, for messages.

    Returns
    -------
    list of Scenario

    Raises
    ------
    StudyError
        Listing every problem of every scenario.
    """
    folder = Path(folder) if folder is not None else Path.cwd()
    problems = Problems()
    if not isinstance(specs, list) or not specs:
        raise StudyError(
            [
                f"scenarios = {specs!r}: give one or more [[scenarios]] tables, each with "
                'name = "..." and what it changes, e.g. weights = { metro_access = 0.5 }.'
            ],
            source=source,
        )
    out: list[Scenario] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        where = f"scenarios[{i}]"
        spec = table(problems, where, spec)
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
            problems.append(
                f"{where}.name = {plain(name)!r} must be a short identifier (letters, digits, "
                'underscores; not "base"), e.g. "line2_east".'
            )
            name = f"scenario_{i}"
        elif name in seen:
            problems.append(f"{where}.name = {name!r} is used twice; give each its own name.")
        seen.add(name)
        changes = _check_one(spec, f"scenarios[{i}] ({name})", folder, problems)
        out.append(
            Scenario(
                name=name,
                label=str(spec.get("label", "")),
                label_zh=str(spec.get("label_zh", "")),
                description=str(spec.get("description", "")),
                changes=changes,
                source=source,
            )
        )
    if problems:
        raise StudyError(problems, source=source)
    return out


def read_scenarios(path: str | Path) -> list[Scenario]:
    """Read a file of ``[[scenarios]]`` tables (paths in it relative to its folder).

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    list of Scenario

    Raises
    ------
    LayerNotFoundError
        If the file does not exist.
    StudyError
        If it is not valid TOML or a scenario is malformed (every problem listed).
    """
    path = Path(path)
    raw = read_toml(
        path,
        what="Scenario file",
        example="a .toml file of [[scenarios]] tables, e.g. data/changzhou/scenarios.toml",
    )
    problems = Problems()
    problems.unknown("(top level)", raw, {"scenarios"})
    if problems:
        raise StudyError(problems, source=str(path))
    return scenarios_from_list(raw.get("scenarios"), folder=path.parent, source=str(path))


# --------------------------------------------------------------------------------------
# Applying a scenario to a study
# --------------------------------------------------------------------------------------


def _points(rows: Sequence[Mapping[str, Any]]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([dict(r) for r in rows])
    geometry = shapely.points(
        pd.to_numeric(frame.pop("lon"), errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(frame.pop("lat"), errors="coerce").to_numpy(dtype=float),
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _read(spec: Mapping[str, Any], where: str, problems: Problems) -> gpd.GeoDataFrame | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the study's own reading warns again
            return read_layer(
                str(spec["path"]),
                crs=spec.get("crs"),
                layer=spec.get("layer"),
                lon=spec.get("lon"),
                lat=spec.get("lat"),
            )
    except GeoplanError as exc:
        problems.append(f"{where}: {exc}")
        return None


def _edit_features(
    frame: gpd.GeoDataFrame, edit: Mapping[str, Any], where: str, problems: Problems
) -> gpd.GeoDataFrame:
    """A new layer with one edit applied (the given one is not changed)."""
    name = str(edit["layer"])
    if "add" in edit:
        added = edit["add"]
        if isinstance(added, str):
            new = _read({"path": added, "crs": edit.get("crs")}, f"{where}.add", problems)
        else:
            new = _points(added)
        if new is None:
            return frame
        columns = [c for c in new.columns if c != new.geometry.name]
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            problems.append(
                f"{where}.add: columns {unknown!r} are not columns of layer {name!r}; its "
                f"columns are {[c for c in frame.columns if c != frame.geometry.name]!r}."
            )
            return frame
        if new.geometry.name != frame.geometry.name:
            new = new.rename_geometry(frame.geometry.name)
        new = new.to_crs(frame.crs)
        return gpd.GeoDataFrame(
            pd.concat([frame, new], ignore_index=True), geometry=frame.geometry.name, crs=frame.crs
        )
    selection = edit.get("remove", edit.get("where"))
    if selection is not None:
        found = where_problems(frame, selection, layer_name=name)
        if found:
            problems.extend(f"{where}: {p}" for p in found)
            return frame
    mask = where_mask(frame, selection) if selection is not None else None
    if "remove" in edit:
        assert mask is not None
        return frame[~mask].reset_index(drop=True)
    changed = dict(edit["set"])
    unknown = [c for c in changed if c not in frame.columns or c == frame.geometry.name]
    if unknown:
        problems.append(
            f"{where}.set: {unknown!r} are not columns of layer {name!r}; its columns are "
            f"{[c for c in frame.columns if c != frame.geometry.name]!r}."
        )
        return frame
    edited = frame.copy()
    rows = slice(None) if mask is None else mask
    for column, value in changed.items():
        if pd.api.types.is_numeric_dtype(edited[column]) and not isinstance(value, int | float):
            edited[column] = edited[column].astype(object)
        edited.loc[rows, column] = value
    return edited


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("name")): item for item in items}


def _edit_raw(
    raw: dict[str, Any], changes: Mapping[str, Any], where: str, problems: Problems
) -> None:
    """Apply criteria, weights, constraints, settings and lines to the effective study's tables."""
    criteria: list[dict[str, Any]] = raw.setdefault("criteria", [])
    names = _by_name(criteria)
    for name in changes.get("remove_criteria", []):
        if name not in names:
            problems.append(
                f"{where}.remove_criteria: {name!r} is not a criterion of the study; its "
                f"criteria are {sorted(names)!r}."
            )
        else:
            criteria.remove(names.pop(name))
    for name, edit in changes.get("criteria", {}).items():
        if name not in names:
            problems.append(
                f"{where}.criteria.{name}: {name!r} is not a criterion of the study; its "
                f"criteria are {sorted(names)!r}."
            )
        else:
            names[name].update(copy.deepcopy(dict(edit)))
    criteria.extend(copy.deepcopy(changes.get("add_criteria", [])))
    names = _by_name(criteria)
    for name, weight in changes.get("weights", {}).items():
        if name not in names:
            problems.append(
                f"{where}.weights.{name}: {name!r} is not a criterion of the study; its "
                f"criteria are {sorted(names)!r}."
            )
        else:
            names[name]["weight"] = weight
    if "weights" in changes:
        raw["weights"] = {"method": "direct"}
    if "weighting" in changes:
        raw["weights"] = copy.deepcopy(dict(changes["weighting"]))
    constraints: list[dict[str, Any]] = raw.setdefault("constraints", [])
    for i, match in enumerate(changes.get("remove_constraints", [])):
        hits = [k for k in constraints if all(k.get(key) == v for key, v in match.items())]
        if not hits:
            problems.append(
                f"{where}.remove_constraints[{i}] = {match!r} matches no constraint of the "
                f"study; its constraints are {constraints!r}."
            )
        for hit in hits:
            constraints.remove(hit)
    constraints.extend(copy.deepcopy(changes.get("add_constraints", [])))
    for key in ("study", "network", "transit"):
        if key in changes:
            part = raw.setdefault(key, {})
            if key == "network" and "source" in changes[key]:
                part.pop("sha256", None)  # another file: its own fingerprint
            if key == "transit" and "gtfs" in changes[key]:
                part.pop("sha256", None)
            part.update(copy.deepcopy(dict(changes[key])))
    if "candidates" in changes:
        raw["candidates"] = copy.deepcopy(dict(changes["candidates"]))
    if "lines" in changes or "remove_lines" in changes:
        transit = raw.get("transit")
        lines: list[dict[str, Any]] = transit.setdefault("lines", []) if transit else []
        if not transit or ("gtfs" in transit and not lines):
            problems.append(
                f"{where}: lines and remove_lines edit the study's [[transit.lines]], and it "
                "has none; describe the lines in the study first."
            )
            return
        known = _by_name(lines)
        for name in changes.get("remove_lines", []):
            if name not in known:
                problems.append(
                    f"{where}.remove_lines: {name!r} is not a line of the study; its lines are "
                    f"{sorted(known)!r}."
                )
            else:
                lines.remove(known.pop(name))
        for name, line in changes.get("lines", {}).items():
            if name in known:
                known[name].update(copy.deepcopy(dict(line)))
            else:
                lines.append({"name": name, **copy.deepcopy(dict(line))})


def apply_scenario(study: Study, scenario: Scenario) -> Study:
    """The study as the scenario edits it: a new, validated study (the base is not changed).

    Parameters
    ----------
    study : Study
        The base study.
    scenario : Scenario
        What changes.

    Returns
    -------
    Study
        The edited study; layers the scenario does not touch are the base's own
        (shared, never changed), edited layers are new.

    Raises
    ------
    StudyError
        Every problem of the scenario on this study, each with its fix (and
        those the study's own checks find in the edited study).
    """
    where = f"scenario {scenario.name!r}"
    problems = Problems()
    changes = scenario.changes
    raw = copy.deepcopy(study.to_dict())
    raw_layers: dict[str, Any] = raw.setdefault("layers", {})
    layers = dict(study.layers)
    for name in changes.get("remove_layers", []):
        if name not in raw_layers:
            problems.append(
                f"{where}.remove_layers: {name!r} is not a layer of the study; its layers are "
                f"{sorted(raw_layers)!r}."
            )
        raw_layers.pop(name, None)
        layers.pop(name, None)
    for name, spec in changes.get("layers", {}).items():
        raw_layers[name] = dict(spec)
        layers.pop(name, None)  # read from its own file by the study's checks
    for i, edit in enumerate(changes.get("features", [])):
        at = f"{where}.features[{i}]"
        name = str(edit["layer"])
        if name not in raw_layers:
            problems.append(
                f"{at}.layer = {name!r} is not a layer of the study; its layers are "
                f"{sorted(raw_layers)!r}."
            )
            continue
        if name not in layers:  # replaced by this scenario: read it to edit it
            found = _read(raw_layers[name], f"{where}.layers.{name}", problems)
            if found is None:
                continue
            layers[name] = found
        layers[name] = _edit_features(layers[name], edit, at, problems)
    _edit_raw(raw, changes, where, problems)
    try:  # the study's own checks, even after a problem above: every problem at once
        edited = study_from_dict(raw, folder=study.folder, path=study.path, layers_loaded=layers)
    except StudyError as exc:
        problems.extend(f"{where} makes the study invalid: {p}" for p in exc.problems)
    if problems:
        raise StudyError(problems, source=scenario.source)
    logger.info("scenario %r applied to %r", scenario.name, study.title)
    return edited


def edited_studies(study: Study, scenarios: Sequence[Scenario]) -> list[Study]:
    """Every scenario applied to the study, every problem of every scenario reported at once.

    Parameters
    ----------
    study : Study
        The base study.
    scenarios : sequence of Scenario

    Returns
    -------
    list of Study
        One edited study per scenario, in order.

    Raises
    ------
    StudyError
        Listing the problems of all the scenarios together.
    """
    out: list[Study] = []
    problems: list[str] = []
    sources: set[str] = set()
    for scenario in scenarios:
        try:
            out.append(apply_scenario(study, scenario))
        except StudyError as exc:
            problems.extend(exc.problems)
            sources.add(str(exc.source))
    if problems:
        raise StudyError(problems, source=sources.pop() if len(sources) == 1 else None)
    return out

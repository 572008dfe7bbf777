"""Study definitions: one TOML file describing layers, criteria, weights and outputs.

:func:`load_study` reads and validates a study file, collecting *every*
problem (each naming the key, the bad value and the fix) before raising one
:class:`~geoplan.StudyError`, then reads its layers.  :meth:`Study.to_toml`
gives the effective, fully resolved study (defaults filled in, paths made
absolute, layer checksums recorded) that geoplan writes beside every output.

See ``data/changzhou/study.toml`` for a complete, commented example.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import pyproj
import tomli_w

from geoplan import __version__
from geoplan._errors import (
    GeoplanError,
    LayerNotFoundError,
    StudyError,
)
from geoplan.decide import mcda
from geoplan.io import coords, layers
from geoplan.measure.constraints import Constraint
from geoplan.study import _checks as checks
from geoplan.study import _transit
from geoplan.study.scoring import Criterion
from geoplan.transit.service import TransitService

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
    result: dict[str, Any] = field(default_factory=dict)
    choose: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, Any] = field(default_factory=dict)
    transit: dict[str, Any] = field(default_factory=dict)
    transit_service: TransitService | None = None
    scenarios: list[dict[str, Any]] = field(default_factory=list)

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
        for key in ("outputs", "map", "network", "choose", "transit", "indicators"):
            value = {
                "outputs": self.outputs,
                "map": self.map_options,
                "network": self.network,
                "choose": self.choose,
                "transit": self.transit,
                "indicators": self.indicators,
            }[key]
            if value:
                out[key] = {k: (str(v) if isinstance(v, Path) else v) for k, v in value.items()}
        return out

    def to_toml(self, *, result: Mapping[str, str] | None = None) -> str:
        """The effective study as TOML, with a provenance header.

        Parameters
        ----------
        result : mapping, optional
            The result table this study describes, ``{"table": file name,
            "sha256": its SHA-256}``, recorded under ``[result]`` so that a
            table and its study can be checked to belong together.

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
        study = self.to_dict()
        if result is not None:
            study["result"] = dict(result)
        return header + tomli_w.dumps(_drop_none(study))


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def study_from_dict(
    raw: Mapping[str, Any],
    *,
    folder: str | Path | None = None,
    path: Path | None = None,
    layers_loaded: Mapping[str, gpd.GeoDataFrame] | None = None,
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
    layers_loaded : mapping of str to geopandas.GeoDataFrame, optional
        Layers already loaded (EPSG:4326), taken as they are instead of being
        read from their files: a scenario's edited layers, or the layers of
        the study it edits (which are never changed).

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
    problems = checks.Problems()
    problems.unknown("(top level)", raw, checks.TOP_KEYS)
    head = checks.table(problems, "study", raw.get("study"))
    problems.unknown("study", head, checks.STUDY_KEYS)
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
            method, checks.table(problems, "study.method_options", head.get("method_options"))
        )
    except GeoplanError as exc:
        problems.append(f"study.method = {method!r}: {exc}")
    top = head.get("top", 10)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        problems.append(f"study.top = {top!r} must be a whole number of sites >= 1.")
        top = 10
    study_layers, sources = checks.load_layers(raw, folder, problems, layers_loaded)
    grid = checks.table(problems, "candidates", raw.get("candidates")).get("grid")
    if grid is not None:
        grid = checks.table(problems, "candidates.grid", grid)
        problems.unknown("candidates.grid", grid, checks.GRID_KEYS)
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
    criteria_list = checks.criteria(raw, layer_names, problems)
    constraint_list = checks.constraints(raw, layer_names, problems)
    checks.check_columns(study_layers, criteria_list, constraint_list, problems)
    network = checks.network(raw, folder, problems)
    choose = checks.choose(raw, study_layers, problems)
    indicator_options = checks.indicators(raw, layer_names, problems)
    if choose.get("metric") == "network" and "source" not in network:
        problems.append(
            'choose.metric = "network" but there is no [network] source; add [network] '
            'source = "city.osm.pbf".'
        )
    outputs = checks.outputs(raw, folder, problems)
    result = checks.table(problems, "result", raw.get("result"))
    problems.unknown("result", result, checks.RESULT_KEYS)
    transit_spec, service = _transit.transit(
        raw,
        folder,
        study_layers,
        {n: s.get("id_column") for n, s in sources.items()},
        {n: s.get("name_column") for n, s in sources.items()},
        problems,
    )
    uses_transit = [c.name for c in criteria_list if c.mode == "transit"]
    uses_transit += [
        f"constraints[{i}]" for i, k in enumerate(constraint_list) if k.mode == "transit"
    ]
    if uses_transit and not transit_spec:
        problems.append(
            f'{uses_transit!r} use mode = "transit" but the study has no [transit] table: describe '
            "the metro lines there ([[transit.lines]] with stations, speed_kmh and headway_min, "
            'or gtfs = "feed.zip" with date = "YYYY-MM-DD").'
        )
    if any(c.metric == "network" and c.mode != "transit" for c in criteria_list) and (
        "source" not in network
    ):
        problems.append(
            'A criterion uses metric = "network" but there is no [network] source; add '
            '[network] source = "changzhou.osm.pbf" (a local OpenStreetMap extract, clipped to '
            "the study area) or a place name to download."
        )
    scenarios = raw.get("scenarios", [])
    if not isinstance(scenarios, list) or not all(isinstance(x, Mapping) for x in scenarios):
        problems.append(
            f"scenarios = {scenarios!r} must be a list of [[scenarios]] tables (see "
            "geoplan.scenarios.overlay for their keys)."
        )
        scenarios = []
    weights_spec = checks.table(problems, "weights", raw.get("weights"))
    if criteria_list and not problems:
        criteria_list = checks.resolve_weights(weights_spec, criteria_list, problems)
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
        outputs=outputs,
        map_options=checks.table(problems, "map", raw.get("map")),
        network=network,
        result=result,
        weights_spec=weights_spec,
        top=int(top),
        choose=choose,
        indicators=indicator_options,
        transit=transit_spec,
        transit_service=service,
        scenarios=[dict(x) for x in scenarios],
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
                layer,
                box,
                name=f"layer {name!r}",
                label_column=study.id_columns.get(name) or study.name_columns.get(name),
            )


def read_toml(path: str | Path, *, what: str, example: str) -> dict[str, Any]:
    """A TOML file's tables, or one clear error (study, scenario and batch files alike).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    what : str
        What the file is, for the message (``"Study file"``).
    example : str
        What to give instead, for the message (``"a .toml study, e.g. ..."``).

    Raises
    ------
    LayerNotFoundError
        The file does not exist or is not a regular file.
    StudyError
        It is not UTF-8 text or not valid TOML (the line is named).
    """
    path = Path(path)
    if not path.is_file():
        state = (
            "is not a regular file (a folder, device or pipe)"
            if path.exists()
            else "does not exist"
        )
        raise LayerNotFoundError(f"{what} {str(path)!r} {state}. Give {example}.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
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
    raw = read_toml(
        path, what="Study file", example="a .toml study, e.g. data/changzhou/study.toml"
    )
    return study_from_dict(raw, folder=path.parent, path=path.resolve())

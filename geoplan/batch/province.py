"""Batch files: many studies (cities), each with its scenarios, scored with one method.

A batch file is TOML data, checked like a study file (every problem at once,
each with its fix)::

    [batch]
    title = "Jiangsu talent communities"      # title_zh too
    out = "../../outputs/province"           # output folder, relative to this file
    osm = "jiangsu.osm.pbf"                  # optional: one provincial extract, clipped
                                             # to each city (replaces its [network] source)
    top = 10                                 # the top k compared in every city
    partition_sites = 250000                 # cities with more candidate sites are scored
                                             # in partitions (dask-geopandas)
    maps = true                              # each city's comparison map

    [[cities]]
    name = "changzhou"                       # identifier: the city's output folder
    label = "Changzhou"                      # label_zh = "常州"
    study = "../changzhou/study.toml"
    scenarios = "../changzhou/scenarios.toml"   # optional; default the study's own

:func:`city_inputs` fingerprints everything a city's results depend on: the
effective study (which records the SHA-256 of every layer file and of the
street network, :meth:`geoplan.Study.to_dict`), the scenario files and every
file they name, the batch's settings and geoplan's version.  A re-run skips a
city whose fingerprint and outputs are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from geoplan import __version__
from geoplan._errors import StudyError
from geoplan.scenarios.overlay import Scenario, read_scenarios, scenarios_from_list
from geoplan.study._checks import Problems, sha256, table
from geoplan.study.files import Study, read_toml, study_from_dict

__all__ = ["BATCH_KEYS", "CITY_KEYS", "Batch", "City", "city_inputs", "load_city", "read_batch"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
#: Keys of ``[batch]``.
BATCH_KEYS: Final = {"title", "title_zh", "out", "osm", "top", "partition_sites", "maps"}
#: Keys of a ``[[cities]]`` table.
CITY_KEYS: Final = {"name", "label", "label_zh", "study", "scenarios"}


@dataclass(frozen=True)
class City:
    """One study of a batch (paths absolute)."""

    name: str
    study: Path
    scenarios: Path | None = None
    label: str = ""
    label_zh: str = ""

    @property
    def title(self) -> str:
        """The label, or the name."""
        return self.label or self.name


@dataclass(frozen=True)
class Batch:
    """A checked batch file (paths absolute)."""

    path: Path
    title: str
    cities: tuple[City, ...]
    out: Path
    osm: Path | None = None
    osm_sha256: str | None = None
    top: int | None = None
    partition_sites: int = 250_000
    maps: bool = True
    title_zh: str = ""

    def settings(self) -> dict[str, Any]:
        """What every city's results depend on besides its own files."""
        return {
            "osm": self.osm_sha256,
            "top": self.top,
            "maps": self.maps,
            "geoplan": __version__,
        }


def read_batch(path: str | Path) -> Batch:
    """Read and check a batch file.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file; paths in it are relative to its folder.

    Returns
    -------
    Batch

    Raises
    ------
    LayerNotFoundError
        If the file does not exist.
    StudyError
        Every problem found, each with its fix.
    """
    path = Path(path)
    raw = read_toml(
        path,
        what="Batch file",
        example="a .toml file with [batch] and [[cities]] tables, e.g. data/province/batch.toml",
    )
    folder = path.parent.resolve()
    problems = Problems()
    problems.unknown("(top level)", raw, {"batch", "cities"})
    head = table(problems, "batch", raw.get("batch"))
    problems.unknown("batch", head, BATCH_KEYS)
    out = head.get("out", "outputs")
    if not isinstance(out, str):
        problems.append(f'batch.out = {out!r} must be a folder (text), e.g. out = "outputs".')
        out = "outputs"
    osm = head.get("osm")
    osm_path = None
    if osm is not None:
        osm_path = (folder / str(osm)).resolve()
        if not isinstance(osm, str) or not osm_path.is_file():
            problems.append(
                f"batch.osm = {osm!r} is not a file; give the provincial .osm.pbf extract, "
                "relative to the batch file, or leave the key out."
            )
            osm_path = None
    top = head.get("top")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        problems.append(f"batch.top = {top!r} must be a whole number of sites >= 1.")
    parts = head.get("partition_sites", 250_000)
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        problems.append(f"batch.partition_sites = {parts!r} must be a whole number >= 1.")
        parts = 250_000
    maps = head.get("maps", True)
    if not isinstance(maps, bool):
        problems.append(f"batch.maps = {maps!r} must be true or false.")
    cities: list[City] = []
    specs = raw.get("cities")
    if not isinstance(specs, list) or not specs:
        problems.append(
            "cities is missing or empty: add [[cities]] tables with name and study, e.g. name = "
            '"changzhou", study = "changzhou/study.toml".'
        )
        specs = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        where = f"cities[{i}]"
        spec = table(problems, where, spec)
        problems.unknown(where, spec, CITY_KEYS)
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                f'{where}.name = {name!r} must be a short identifier, e.g. "changzhou" (it names '
                "the city's output folder)."
            )
            name = f"city_{i}"
        elif name in seen:
            problems.append(f"{where}.name = {name!r} is used twice; give each city its own.")
        seen.add(name)
        study = spec.get("study")
        study_path = (folder / study).resolve() if isinstance(study, str) else None
        if study_path is None or not study_path.is_file():
            problems.append(
                f"{where} ({name}).study = {study!r} is not a file; give the city's study file, "
                "relative to the batch file."
            )
        scenarios = spec.get("scenarios")
        scenario_path = (folder / scenarios).resolve() if isinstance(scenarios, str) else None
        if scenarios is not None and (scenario_path is None or not scenario_path.is_file()):
            problems.append(
                f"{where} ({name}).scenarios = {scenarios!r} is not a file; give a file of "
                "[[scenarios]] tables, or leave the key out to use the study's own."
            )
        for key in ("label", "label_zh"):
            if key in spec and not isinstance(spec[key], str):
                problems.append(f"{where} ({name}).{key} = {spec[key]!r} must be text.")
        cities.append(
            City(
                name=name,
                study=study_path or folder,
                scenarios=scenario_path,
                label=str(spec.get("label", "")),
                label_zh=str(spec.get("label_zh", "")),
            )
        )
    if problems:
        raise StudyError(problems, source=str(path))
    return Batch(
        path=path.resolve(),
        title=str(head.get("title", path.stem)),
        title_zh=str(head.get("title_zh", "")),
        cities=tuple(cities),
        out=(folder / out).resolve(),
        osm=osm_path,
        osm_sha256=sha256(osm_path) if osm_path is not None else None,
        top=top,
        partition_sites=int(parts),
        maps=bool(maps),
    )


def load_city(city: City, batch: Batch) -> tuple[Study, list[Scenario]]:
    """A city's study (its network source replaced by the provincial extract) and scenarios.

    Parameters
    ----------
    city : City
        The city.
    batch : Batch
        Its batch (for the provincial extract).

    Returns
    -------
    tuple of Study and list of Scenario
        The scenarios are the city's file, else the study's own ``[[scenarios]]``
        (none: the base run alone).
    """
    raw = read_toml(city.study, what="Study file", example="the city's .toml study")
    network = raw.get("network")
    if batch.osm is not None and isinstance(network, Mapping) and "source" in network:
        raw["network"] = {k: v for k, v in network.items() if k != "sha256"}
        raw["network"]["source"] = str(batch.osm)  # clipped to the city's area when loaded
    study = study_from_dict(raw, folder=city.study.parent, path=city.study)
    if city.scenarios is not None:
        scenarios = read_scenarios(city.scenarios)
    elif study.scenarios:
        scenarios = scenarios_from_list(
            study.scenarios, folder=study.folder, source=str(city.study)
        )
    else:
        scenarios = []
    return study, scenarios


def _files_named(value: Any) -> list[Path]:
    """Files a scenario's changes name (absolute paths that exist)."""
    found: list[Path] = []
    if isinstance(value, Mapping):
        for item in value.values():
            found += _files_named(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += _files_named(item)
    elif isinstance(value, str) and Path(value).is_absolute() and Path(value).is_file():
        found.append(Path(value))
    return found


def city_inputs(study: Study, scenarios: list[Scenario], batch: Batch) -> str:
    """The fingerprint (SHA-256) of everything a city's results depend on.

    Parameters
    ----------
    study : Study
        The city's study as loaded (its effective form records every file's SHA-256).
    scenarios : list of Scenario
        Its scenarios (their files are hashed, and every file they name).
    batch : Batch
        The batch's settings.

    Returns
    -------
    str
        Hex SHA-256.
    """
    files = {str(p): sha256(p) for s in scenarios for p in _files_named(s.changes)}
    content = {
        "study": study.to_dict(),
        "scenarios": [
            {"name": s.name, "label": s.label, "label_zh": s.label_zh, "changes": s.changes}
            for s in scenarios
        ],
        "scenario_files": files,
        "batch": batch.settings(),
    }
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

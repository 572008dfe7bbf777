"""The study file's ``[transit]`` table: the metro lines that ``mode = "transit"`` rides.

Either a GTFS feed for a day::

    [transit]
    gtfs = "feed.zip"            # relative to the study file
    date = "2025-10-07"
    window = ["07:00", "09:00"]

or the lines described by hand (see :mod:`geoplan.transit.lines`)::

    [[transit.lines]]
    name = "1"
    stations = ["L1-01", "L1-02", ...]   # ids or names from the stations layer
    speed_kmh = 35
    headway_min = { "06:00-09:00" = 5, "09:00-22:30" = 8 }
    track = "line1.geojson"              # optional line geometry file

and the model's settings: ``wait_factor`` (0.5), ``transfer_penalty_min``
(5), ``transfer_max_m`` (300), ``walk_detour`` (1.3, walks without a
``[network]``), ``walk_speed_kmh`` (4.8), ``stations`` (the layer, default
``"stations"``).  Every problem is collected; the service is built here so that
``geoplan validate`` finds unknown station names and broken feeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import shapely

from geoplan._errors import GeoplanError
from geoplan.io import layers
from geoplan.study._checks import Problems, sha256, table
from geoplan.transit.gtfs import read_gtfs
from geoplan.transit.lines import transit_lines
from geoplan.transit.service import TransitService

__all__ = ["METRIC_KEYS", "TRANSIT_KEYS", "transit"]

TRANSIT_KEYS: Final = {
    "lines",
    "gtfs",
    "sha256",
    "date",
    "window",
    "stations",
    "wait_factor",
    "transfer_penalty_min",
    "transfer_max_m",
    "walk_detour",
    "walk_speed_kmh",
    "max_bytes",
    "max_rows",
}
_NUMBERS: Final = {
    "wait_factor": (0.0, True),
    "transfer_penalty_min": (0.0, True),
    "transfer_max_m": (0.0, True),
    "walk_detour": (1.0, True),
    "walk_speed_kmh": (0.0, False),
    "max_bytes": (0.0, False),
    "max_rows": (0.0, False),
}
#: Settings of the metric (the rest describe the lines).
METRIC_KEYS: Final = (
    "wait_factor",
    "transfer_penalty_min",
    "transfer_max_m",
    "walk_detour",
    "walk_speed_kmh",
)


def _track(where: str, path: object, folder: Path, problems: Problems) -> tuple[str, Any]:
    if not isinstance(path, str):
        problems.append(
            f'{where}.track = {path!r} must be a file of line geometry, e.g. "line1.geojson".'
        )
        return "", None
    file = (folder / path).resolve()
    try:
        frame = layers.read_layer(file)
    except GeoplanError as exc:
        problems.append(f"{where}.track = {path!r}: {exc}")
        return str(file), None
    lines = [
        g for g in frame.to_crs(4326).geometry if g is not None and "LineString" in g.geom_type
    ]
    if not lines:
        problems.append(f"{where}.track = {path!r} holds no line geometry; give the line's track.")
        return str(file), None
    return str(file), shapely.union_all(lines) if len(lines) > 1 else lines[0]


def transit(
    raw: Mapping[str, Any],
    folder: Path,
    study_layers: Mapping[str, gpd.GeoDataFrame],
    id_columns: Mapping[str, str | None],
    name_columns: Mapping[str, str | None],
    problems: Problems,
) -> tuple[dict[str, Any], TransitService | None]:
    """Check the ``[transit]`` table and build its service (``None`` when absent or broken)."""
    spec = table(problems, "transit", raw.get("transit"))
    if not spec:
        return {}, None
    problems.unknown("transit", spec, TRANSIT_KEYS)
    for key, (low, allow_low) in _NUMBERS.items():
        if key in spec:
            value = problems.number(f"transit.{key}", spec[key], positive=False)
            if value is not None and (value < low or (value == low and not allow_low)):
                problems.append(
                    f"transit.{key} = {spec[key]!r} must be {'>=' if allow_low else '>'} {low:g}."
                )
    window = spec.setdefault("window", ["07:00", "09:00"])
    if ("lines" in spec) == ("gtfs" in spec):
        problems.append(
            '[transit] needs the metro lines: either gtfs = "feed.zip" with date = '
            '"YYYY-MM-DD", or [[transit.lines]] tables (name, stations, speed_kmh, headway_min) '
            "-- one of the two."
        )
        return spec, None
    before = len(problems)
    try:
        if "gtfs" in spec:
            if not isinstance(spec["gtfs"], str) or "date" not in spec:
                problems.append(
                    f'transit.gtfs = {spec["gtfs"]!r} needs a path (a string) and date = "YYYY-MM-DD".'
                )
                return spec, None
            path = (folder / spec["gtfs"]).resolve()
            spec["gtfs"] = str(path)
            if path.is_file():
                spec["sha256"] = sha256(path)
            options = {k: int(spec[k]) for k in ("max_bytes", "max_rows") if k in spec}
            if len(problems) > before:
                return spec, None
            service = read_gtfs(path, date=spec["date"], window=window, **options)
            return spec, service
        layer = spec.get("stations", "stations")
        if layer not in study_layers:
            problems.append(
                f"transit.stations = {layer!r} is not a layer of this study; the lines' stations "
                f"are named from it (layers: {sorted(study_layers)!r})."
            )
            return spec, None
        if not isinstance(spec["lines"], list):
            problems.append("transit.lines must be [[transit.lines]] tables, one per line.")
            return spec, None
        lines = spec["lines"] = list(spec["lines"])  # the caller's tables stay as they were
        built = []
        for i, line in enumerate(lines):
            line = dict(line) if isinstance(line, Mapping) else line
            if isinstance(line, dict) and "track" in line:
                where = f"transit.lines[{i}]"
                file, geometry = _track(where, line["track"], folder, problems)
                lines[i] = {**line, "track": file}
                line["track"] = geometry
            built.append(line)
        if len(problems) > before:
            return spec, None
        service = transit_lines(
            built,
            study_layers[layer],
            window=window,
            id_column=id_columns.get(layer),
            name_column=name_columns.get(layer),
            source="[transit]",
        )
        return spec, service
    except GeoplanError as exc:
        problems.append(str(exc))
        return spec, None

"""Metro lines described by hand: stations in order, speed or run times, headways.

Most Chinese cities publish no GTFS feed, so a study can describe its lines
in a few words (``[[transit.lines]]`` in the study file, or a list of
dictionaries here)::

    name = "1"                                  # the line, as in the stations' `lines` column
    stations = ["L1-01", "L1-02", "L1-03"]      # ids or names from the stations layer, in order
    speed_kmh = 35                              # average speed with stops, or
    # run_min = [2.5, 2.0]                      # minutes between consecutive stations
    headway_min = { "06:00-09:00" = 5, "09:00-22:30" = 8 }   # or one number for the whole day
    color = "#1f5fae"                           # optional, for the map
    both_directions = true                      # default
    # track = <a line geometry in EPSG:4326>    # optional: drawn, and measures speed_kmh runs

:func:`transit_lines` checks the description (every problem at once, with
the fix), resolves the stations by id or name against the stations layer,
turns ``speed_kmh`` into run times over the distance along the track (when
given, else straight between stations), and gives the
:class:`~geoplan.transit.service.TransitService` a GTFS feed would: for the
departure window, a line's headway is the window's length over the number of
departures the headway table gives in it (a line that runs only half the
window counts half its departures); a line with none is left out.
"""

from __future__ import annotations

import difflib
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import GeoplanWarning, TransitError, plain
from geoplan.transit.service import (
    FloatArray,
    IntArray,
    Pattern,
    TransitService,
    clock_minutes,
    parse_window,
)

__all__ = ["LINE_KEYS", "transit_lines"]

#: Keys of one line description.
LINE_KEYS: Final = frozenset(
    {"name", "stations", "speed_kmh", "run_min", "headway_min", "color", "both_directions", "track"}
)
_REFERENCE_COLUMNS: Final = ("station_id", "id", "name", "name_zh")


def _station_keys(
    stations: gpd.GeoDataFrame, id_column: str | None, name_column: str | None
) -> dict[str, list[int]]:
    """Every id and name a station can be referred to by -> its positions."""
    keys: dict[str, list[int]] = {}
    columns = [c for c in (id_column, name_column, *_REFERENCE_COLUMNS) if c]
    for column in dict.fromkeys(columns):
        if column not in stations.columns:
            continue
        for i, value in enumerate(stations[column].tolist()):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            positions = keys.setdefault(str(value).strip(), [])
            if i not in positions:
                positions.append(i)
    return keys


def _resolve(
    where: str, names: object, keys: Mapping[str, list[int]], problems: list[str]
) -> list[int]:
    if (
        isinstance(names, str)
        or not isinstance(names, Sequence)
        or len(names) < 2
        or not all(isinstance(n, str | int) and not isinstance(n, bool) for n in names)
    ):
        problems.append(
            f"{where}.stations = {names!r} must list two or more stations in order, by id or "
            'name from the stations layer, e.g. ["L1-01", "L1-02", "L1-03"].'
        )
        return []
    out: list[int] = []
    for name in names:
        found = keys.get(str(name).strip(), [])
        if len(found) == 1:
            out.append(found[0])
            continue
        if not found:
            close = difflib.get_close_matches(str(name), list(keys), n=3, cutoff=0.6)
            hint = f" Did you mean {close!r}?" if close else ""
            problems.append(
                f"{where}.stations: {plain(name)!r} is not an id or name of the stations "
                f"layer.{hint} Write each station's id or name exactly as in the layer."
            )
        else:
            problems.append(
                f"{where}.stations: {plain(name)!r} names {len(found)} stations (rows "
                f"{[i + 1 for i in found]!r}); refer to them by their ids instead."
            )
    if len(set(out)) != len(out):
        twice = sorted({plain(n) for n, i in zip(names, out, strict=False) if out.count(i) > 1})
        problems.append(
            f"{where}.stations lists {twice!r} more than once; a loop line is not supported: "
            "list each station once."
        )
    return out


def _headway_periods(
    where: str, spec: object, problems: list[str]
) -> list[tuple[float, float, float]]:
    """``headway_min`` as ``(start, end, minutes)`` periods."""
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        if not (math.isfinite(spec) and spec > 0):
            problems.append(f"{where}.headway_min = {spec!r} must be a positive number of minutes.")
            return []
        return [(0.0, 48 * 60.0, float(spec))]
    if not isinstance(spec, Mapping) or not spec:
        problems.append(
            f"{where}.headway_min = {spec!r}: give minutes between trains, one number for the "
            'whole day or by time of day, e.g. { "06:00-09:00" = 5, "09:00-22:30" = 8 }.'
        )
        return []
    periods = []
    for key, minutes in spec.items():
        parts = str(key).split("-")
        try:
            if len(parts) != 2:
                raise TransitError(f"{where}.headway_min key {key!r} is not a period")
            start = clock_minutes(parts[0], where=f"{where}.headway_min key {key!r}")
            end = clock_minutes(parts[1], where=f"{where}.headway_min key {key!r}")
        except TransitError:
            problems.append(
                f'{where}.headway_min: {key!r} is not a period "HH:MM-HH:MM" (e.g. '
                '"07:00-09:00"; past midnight as "23:00-24:30").'
            )
            continue
        if not end > start:
            problems.append(f"{where}.headway_min: the period {key!r} ends before it starts.")
            continue
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            problems.append(f"{where}.headway_min[{key!r}] = {minutes!r} must be minutes.")
            continue
        if not (math.isfinite(minutes) and minutes > 0):
            problems.append(
                f"{where}.headway_min[{key!r}] = {minutes!r} must be a positive number of minutes."
            )
            continue
        periods.append((start, end, float(minutes)))
    periods.sort()
    for (_a0, a1, _), (b0, _b1, _h) in itertools.pairwise(periods):
        if b0 < a1:
            problems.append(
                f"{where}.headway_min: periods overlap around {_clock(b0)}; give each time "
                "of day one headway."
            )
    return periods


def _clock(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def departures_in(
    periods: Sequence[tuple[float, float, float]], window: tuple[float, float]
) -> float:
    """Departures that headway periods give in a window: overlap / headway, summed."""
    w0, w1 = window
    return float(sum(max(0.0, min(b, w1) - max(a, w0)) / h for a, b, h in periods))


def _run_minutes(
    where: str,
    spec: Mapping[str, Any],
    xy: FloatArray,
    track: shapely.Geometry | None,
    problems: list[str],
) -> FloatArray | None:
    n = len(xy)
    given = [k for k in ("speed_kmh", "run_min") if k in spec]
    if len(given) != 1:
        problems.append(
            f"{where}: give speed_kmh (average speed with stops, e.g. 35) or run_min (minutes "
            f"between consecutive stations), exactly one; got {given!r}."
        )
        return None
    if "run_min" in spec:
        runs = spec["run_min"]
        ok = (
            isinstance(runs, Sequence)
            and not isinstance(runs, str)
            and all(isinstance(r, int | float) and not isinstance(r, bool) for r in runs)
        )
        if not ok or len(runs) != n - 1:
            problems.append(
                f"{where}.run_min = {runs!r} must list {n - 1} minutes, one per pair of "
                f"consecutive stations ({n} stations)."
            )
            return None
        array = np.asarray(runs, dtype=np.float64)
        if not (np.isfinite(array).all() and (array > 0).all()):
            problems.append(f"{where}.run_min = {runs!r}: every run must be positive minutes.")
            return None
        return array
    speed = spec["speed_kmh"]
    if (
        isinstance(speed, bool)
        or not isinstance(speed, int | float)
        or not (math.isfinite(speed) and 0 < speed <= 200)
    ):
        problems.append(
            f"{where}.speed_kmh = {speed!r} must be an average speed in km/h (0-200; metro "
            "lines with their stops run at about 30-40)."
        )
        return None
    straight = np.hypot(*np.diff(xy, axis=0).T)
    metres = straight
    if track is not None:
        merged = shapely.line_merge(track) if track.geom_type == "MultiLineString" else track
        if merged.geom_type == "LineString":
            along = np.abs(np.diff(shapely.line_locate_point(merged, shapely.points(xy))))
            metres = np.maximum(along, straight)
    return np.asarray(metres / (float(speed) * 1000.0 / 60.0), dtype=np.float64)


def _pattern(line: str, stops: IntArray, runs: FloatArray, frequency: float) -> Pattern:
    cum = np.concatenate([[0.0], np.cumsum(runs)])
    ride = cum[None, :] - cum[:, None]
    ride[np.tril_indices(len(stops))] = np.nan
    return Pattern(line, stops, np.full(len(stops), frequency), ride)


def transit_lines(
    lines: Sequence[Mapping[str, Any]],
    stations: gpd.GeoDataFrame,
    *,
    window: Sequence[str] = ("07:00", "09:00"),
    id_column: str | None = None,
    name_column: str | None = None,
    source: str = "line description",
) -> TransitService:
    """Metro service from a line description (see the module docstring).

    Parameters
    ----------
    lines
        One mapping per line: ``name``, ``stations``, ``speed_kmh`` or
        ``run_min``, ``headway_min``; optional ``color``, ``both_directions``
        and ``track`` (a shapely line in EPSG:4326).
    stations
        The stations layer (points, any CRS).
    window
        Departure window, e.g. ``("07:00", "09:00")``.
    id_column, name_column
        Columns the stations are referred to by (besides ``station_id``,
        ``id``, ``name`` and ``name_zh``).
    source
        Where the description comes from, for messages.

    Returns
    -------
    TransitService
        The lines with service in the window.

    Raises
    ------
    TransitError
        Listing every problem of the description.
    """
    span = parse_window(window, where="window")
    if stations.crs is None:
        raise TransitError(
            "The stations layer has no CRS: set it (e.g. stations.set_crs('EPSG:4326')) so "
            "distances between stations can be measured."
        )
    wgs = stations.to_crs(4326)
    if not (len(wgs) and bool((wgs.geom_type == "Point").all())):
        raise TransitError(
            f"The stations layer must hold points, one per station; got {len(wgs)} features "
            f"of types {sorted(set(wgs.geom_type.astype(str)))!r}."
        )
    metric_crs = wgs.estimate_utm_crs()
    xy_all = shapely.get_coordinates(wgs.to_crs(metric_crs).geometry.values)
    keys = _station_keys(wgs, id_column, name_column)
    problems: list[str] = []
    patterns: list[Pattern] = []
    drawn: list[dict[str, Any]] = []
    seen: set[str] = set()
    if isinstance(lines, str | Mapping) or not isinstance(lines, Sequence) or not lines:
        raise TransitError(
            f"{source}: lines = {lines!r} must be a list of line descriptions "
            "([[transit.lines]] tables), one per metro line."
        )
    given: list[object] = list(lines)
    for i, spec in enumerate(given):
        where = f"lines[{i}]"
        if not isinstance(spec, Mapping):
            problems.append(f"{where} = {spec!r} must be a table with name, stations, ...")
            continue
        name = spec.get("name")
        if not isinstance(name, str | int) or isinstance(name, bool) or not str(name).strip():
            problems.append(f'{where}.name = {name!r}: name the line, e.g. name = "1".')
            name = str(i + 1)
        name = str(name).strip()
        where = f"lines[{i}] ({name})"
        if name in seen:
            problems.append(f"{where}: line {name!r} is described twice; describe it once.")
        seen.add(name)
        unknown = sorted(set(spec) - LINE_KEYS)
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {unknown!r}; the keys of a line are {sorted(LINE_KEYS)!r}."
            )
        stops = np.asarray(_resolve(where, spec.get("stations"), keys, problems), dtype=np.intp)
        periods = _headway_periods(where, spec.get("headway_min"), problems)
        track = spec.get("track")
        if track is not None and not (
            isinstance(track, shapely.Geometry)
            and track.geom_type in ("LineString", "MultiLineString")
            and not track.is_empty
        ):
            problems.append(f"{where}.track must be a line geometry (EPSG:4326), got {track!r}.")
            track = None
        both = spec.get("both_directions", True)
        if not isinstance(both, bool):
            problems.append(f"{where}.both_directions = {both!r} must be true or false.")
        color = spec.get("color", "")
        if not isinstance(color, str):
            problems.append(f'{where}.color = {color!r} must be a colour such as "#1f5fae".')
            color = ""
        if len(stops) < 2 or len(set(stops.tolist())) != len(stops):
            continue
        metric_track = (
            gpd.GeoSeries([track], crs=4326).to_crs(metric_crs).iloc[0]
            if track is not None
            else None
        )
        runs = _run_minutes(where, spec, xy_all[stops], metric_track, problems)
        if runs is None or not periods:
            continue
        departures = departures_in(periods, span)
        drawn.append(
            {
                "line": name,
                "color": color,
                "geometry": track
                if track is not None
                else shapely.LineString(shapely.get_coordinates(wgs.geometry.values[stops])),
            }
        )
        if departures <= 0:
            warnings.warn(
                f"{source}: line {name!r} has no service in the window "
                f"{_clock(span[0])}-{_clock(span[1])} (headway_min covers other times); it is "
                "left out of the travel times.",
                GeoplanWarning,
                stacklevel=2,
            )
            continue
        frequency = departures / (span[1] - span[0])
        patterns.append(_pattern(name, stops, runs, frequency))
        if both is not False:
            patterns.append(_pattern(name, stops[::-1].copy(), runs[::-1].copy(), frequency))
    if problems:
        raise TransitError(f"{source}: " + "; ".join(problems))
    station_ids = (
        wgs[id_column].astype(str)
        if id_column and id_column in wgs.columns
        else pd.Series([str(i) for i in wgs.index])
    )
    names_col = next((c for c in (name_column, "name", "name_zh") if c and c in wgs.columns), None)
    names = wgs[names_col].astype(str) if names_col else station_ids
    table = gpd.GeoDataFrame(
        {"station_id": station_ids.to_numpy(), "name": names.to_numpy()},
        geometry=wgs.geometry.to_numpy(),
        crs=4326,
    )
    return TransitService(
        stations=table,
        patterns=tuple(patterns),
        lines=gpd.GeoDataFrame(drawn, geometry="geometry", crs=4326)
        if drawn
        else gpd.GeoDataFrame({"line": [], "color": []}, geometry=[], crs=4326),
        window=span,
        source=source,
    )

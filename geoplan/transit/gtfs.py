"""GTFS feeds as frequency-based service for a day and a departure window.

:func:`read_gtfs` reads a feed (a ``.zip`` or a folder of ``.txt`` tables)
with `gtfs-kit <https://github.com/mrcagney/gtfs_kit>`_ and summarises the
trips that run on a service date into the line model of
:mod:`geoplan.transit.service`: per route, direction and stop sequence (a
*pattern*), how often a vehicle leaves each stop within the window
(departures in the window / its length) and the mean in-vehicle minutes
between every pair of its stops over the trips that leave the first of them
within the window.

**The day.**  Trips run on the date when its service is active (``calendar``
weekdays within the date range, plus and minus the ``calendar_dates``
exceptions, as gtfs-kit reads them).  Times past 24:00 belong to the
previous day's service: a trip of the day before that leaves at ``24:40``
leaves at 00:40 of the date, and counts in a window such as
``["00:00", "01:00"]``.  Routes without a trip in the window (no service
that day, or only at other hours) are left out, with a log message.
Transfers are made between stops within a walking distance
(:mod:`geoplan.transit.network`); ``transfers.txt`` is not read.  The model
is built for metro-scale feeds (hundreds of stations: its station-to-station
table is stations x stations).

**A feed is hostile input.**  Before anything is parsed, the archive's
entries are checked (at most :data:`MAX_ENTRIES`, none encrypted, each table's
declared size within ``max_bytes``, compression no stronger than
``max_ratio`` : 1 for tables over 1 MiB -- a zip bomb is refused unread) and
the tables geoplan uses are copied out under fixed names with a hard cap on
the bytes (a lying header cannot exceed it), then their rows are counted
(``max_rows``).  After parsing, every reference is checked: stop times of
unknown trips or stops, trips of unknown routes, coordinates out of range,
clock times that are not ``H:MM:SS``, times that run backwards within a trip.
Each problem is a :class:`~geoplan.TransitError` naming the file, the
offending value and the fix.  Nothing from the feed is ever evaluated.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplan._errors import LayerNotFoundError, TransitError, plain
from geoplan.transit.service import FloatArray, Pattern, TransitService, parse_window

__all__ = ["MAX_BYTES", "MAX_ENTRIES", "MAX_RATIO", "MAX_ROWS", "read_gtfs"]

logger = logging.getLogger(__name__)

#: Default cap on the uncompressed bytes of all tables read (512 MiB).
MAX_BYTES: Final = 512 * 1024 * 1024
#: Default cap on the rows of any one table.
MAX_ROWS: Final = 10_000_000
#: Default cap on the compression ratio of a table larger than 1 MiB.
MAX_RATIO: Final = 200.0
#: Most entries an archive may have.
MAX_ENTRIES: Final = 1_000

_REQUIRED: Final = ("stops", "routes", "trips", "stop_times")
_OPTIONAL: Final = ("calendar", "calendar_dates", "agency", "shapes", "frequencies")
_TIME = r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$"
_COLOR = re.compile(r"^[0-9A-Fa-f]{6}$")
_CHUNK: Final = 1 << 20


def _parse_date(date: object) -> dt.date:
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    if isinstance(date, str):
        for fmt in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(date.strip(), fmt).date()
            except ValueError:
                pass
    raise TransitError(
        f'date = {date!r} is not a date: give the service day as "YYYY-MM-DD", e.g. '
        '"2025-10-07" (a weekday of the feed\'s calendar).'
    )


def _copy_capped(source: IO[bytes], target: Path, budget: int, what: str) -> int:
    """Copy at most ``budget`` bytes; more is an error (the rest is never read)."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(min(_CHUNK, budget - written + 1)):
            written += len(chunk)
            if written > budget:
                raise TransitError(
                    f"{what} is larger than the {budget:,} bytes left of max_bytes: the feed "
                    "is too large (or a zip bomb). Raise max_bytes if the feed is genuine."
                )
            out.write(chunk)
    return written


def _extract(path: Path, folder: Path, *, max_bytes: int, max_ratio: float) -> list[str]:
    """Copy the tables geoplan reads into ``folder`` (fixed names), bounded; return them."""
    wanted = {f"{name}.txt" for name in (*_REQUIRED, *_OPTIONAL)}
    found: list[str] = []
    budget = max_bytes
    if path.is_dir():
        for name in sorted(wanted):
            file = path / name
            if file.is_file():
                size = file.stat().st_size
                if size > budget:
                    raise TransitError(
                        f"{str(file)!r} has {size:,} bytes, more than the {budget:,} left of "
                        "max_bytes; raise max_bytes if the feed is genuine."
                    )
                with file.open("rb") as handle:
                    budget -= _copy_capped(handle, folder / name, budget, repr(str(file)))
                found.append(name)
        return found
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TransitError(
            f"{str(path)!r} is not a GTFS feed: not a zip archive ({exc}). Give the feed's "
            ".zip file as downloaded, or a folder of its .txt tables."
        ) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise TransitError(
                f"{str(path)!r} holds {len(entries):,} entries; a GTFS feed has a few dozen "
                f"tables (at most {MAX_ENTRIES:,} are accepted)."
            )
        by_name = {e.filename: e for e in entries if not e.is_dir()}
        nested = sorted(n for n in by_name if "/" in n and n.rsplit("/", 1)[-1] in wanted)
        if nested and not any(n in by_name for n in wanted):
            raise TransitError(
                f"{str(path)!r} keeps its tables in a folder ({nested[0]!r}); GTFS tables must "
                "be at the top of the archive. Re-zip the tables themselves, or give the folder."
            )
        declared = sum(by_name[n].file_size for n in wanted if n in by_name)
        if declared > max_bytes:
            raise TransitError(
                f"{str(path)!r}: its tables would unpack to {declared:,} bytes, more than "
                f"max_bytes = {max_bytes:,}; raise max_bytes if the feed is genuine."
            )
        for name in sorted(wanted & set(by_name)):
            info = by_name[name]
            if info.flag_bits & 0x1:
                raise TransitError(f"{str(path)!r}: {name} is encrypted; give an unencrypted feed.")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _CHUNK and ratio > max_ratio:
                raise TransitError(
                    f"{str(path)!r}: {name} would unpack {ratio:,.0f} times larger than it is "
                    f"stored ({info.file_size:,} bytes), more than max_ratio = {max_ratio:g}: "
                    "refused as a likely zip bomb. Raise max_ratio if the feed is genuine."
                )
            try:
                with archive.open(info) as handle:
                    budget -= _copy_capped(handle, folder / name, budget, f"{name} in {path.name}")
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
                raise TransitError(
                    f"{str(path)!r}: {name} cannot be unpacked ({exc}); the archive is damaged. "
                    "Download the feed again."
                ) from exc
            found.append(name)
    return found


def _count_rows(file: Path, max_rows: int) -> None:
    rows = 0
    with file.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            rows += chunk.count(b"\n")
            if rows > max_rows + 1:
                raise TransitError(
                    f"{file.name} has more than max_rows = {max_rows:,} rows; raise max_rows if "
                    "the feed is genuine, or cut it to the routes you need."
                )


def _read_feed(path: Path, *, max_bytes: int, max_rows: int, max_ratio: float) -> Any:
    import gtfs_kit

    with tempfile.TemporaryDirectory(prefix="geoplan-gtfs-") as tmp:
        folder = Path(tmp)
        found = _extract(path, folder, max_bytes=max_bytes, max_ratio=max_ratio)
        missing = [f"{t}.txt" for t in _REQUIRED if f"{t}.txt" not in found]
        if not ({"calendar.txt", "calendar_dates.txt"} & set(found)):
            missing.append("calendar.txt or calendar_dates.txt")
        if missing:
            raise TransitError(
                f"{str(path)!r} is not a complete GTFS feed: {', '.join(missing)} missing "
                f"(found {sorted(found)!r}). A feed needs stops, routes, trips, stop_times and "
                "a calendar."
            )
        for name in found:
            _count_rows(folder / name, max_rows)
        try:
            return gtfs_kit.read_feed(folder, dist_units="km")
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise TransitError(
                f"{str(path)!r} cannot be read as GTFS ({type(exc).__name__}: {exc}). Check that "
                "its tables are comma-separated UTF-8 text with the GTFS column names."
            ) from exc


def _columns(table: pd.DataFrame | None, name: str, needed: Sequence[str]) -> pd.DataFrame:
    if table is None or table.empty:
        raise TransitError(f"{name}.txt is empty: a GTFS feed needs rows in it.")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise TransitError(
            f"{name}.txt lacks the column(s) {missing!r} (it has {list(table.columns)!r})."
        )
    return table


def _unknown(values: pd.Series, known: pd.Series, what: str, where: str) -> None:
    bad = pd.Index(values.dropna().unique()).difference(pd.Index(known.dropna().unique()))
    if len(bad):
        raise TransitError(
            f"{where} refers to {len(bad):,} unknown {what}(s), e.g. {[plain(v) for v in bad[:5]]!r}; "
            f"every {what} must be defined. The feed is inconsistent: fix or re-download it."
        )


def _seconds(times: pd.Series, trips: pd.Series, sequence: pd.Series, column: str) -> FloatArray:
    """Clock texts ``H:MM:SS`` as minutes (``nan`` where empty); bad text is an error."""
    text = times.astype("string")
    codes, uniques = pd.factorize(text)  # a timetable repeats its clock times: parse each once
    parsed = pd.Series(uniques, dtype="string").str.extract(_TIME)
    parts = parsed.reindex(codes).reset_index(drop=True)  # code -1 (missing) -> NaN
    bad = pd.Series(
        text.notna().to_numpy() & text.str.strip().ne("").fillna(False).to_numpy()
        & parts[0].isna().to_numpy()
    )  # fmt: skip
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TransitError(
            f"stop_times.txt: {column} = {text.iloc[i]!r} (trip {trips.iloc[i]!r}, stop_sequence "
            f"{plain(sequence.iloc[i])!r}) is not a time H:MM:SS; {int(bad.sum()):,} such value(s). "
            "Fix the feed's times (hours past 24 are allowed for trips after midnight)."
        )
    numbers = parts.astype("float64").to_numpy()
    return np.asarray(numbers[:, 0] * 60 + numbers[:, 1] + numbers[:, 2] / 60, dtype=np.float64)


def _interpolate(times: FloatArray, trip_codes: npt.NDArray[np.intp]) -> FloatArray:
    """Fill missing intermediate times linearly by position within the trip."""
    missing = np.isnan(times)
    if not missing.any():
        return times
    frame = pd.DataFrame({"t": times, "trip": trip_codes})
    filled = frame.groupby("trip")["t"].transform(lambda s: s.interpolate(limit_area="inside"))
    return np.asarray(filled.to_numpy(dtype=float), dtype=np.float64)


def _stop_times(feed: Any, trip_ids: pd.Index) -> pd.DataFrame:
    st = _columns(
        feed.stop_times,
        "stop_times",
        ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    )
    st = st.loc[st["trip_id"].isin(trip_ids)]
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
    trips, seq = st["trip_id"].astype(str), st["stop_sequence"]
    codes = pd.factorize(trips)[0]
    arrival = _seconds(st["arrival_time"], trips, seq, "arrival_time")
    departure = _seconds(st["departure_time"], trips, seq, "departure_time")
    arrival = np.where(np.isnan(arrival), departure, arrival)
    departure = np.where(np.isnan(departure), arrival, departure)
    first = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, bool)
    last = np.r_[codes[1:] != codes[:-1], True] if len(codes) else np.zeros(0, bool)
    ends_missing = (first | last) & np.isnan(departure)
    if ends_missing.any():
        i = int(np.flatnonzero(ends_missing)[0])
        raise TransitError(
            f"stop_times.txt: trip {trips.iloc[i]!r} has no time at its first or last stop; "
            "GTFS requires them. Fix the feed."
        )
    arrival, departure = _interpolate(arrival, codes), _interpolate(departure, codes)
    back = (departure < arrival) | np.r_[False, (arrival[1:] < departure[:-1]) & ~first[1:]]
    if back.any():
        i = int(np.flatnonzero(back)[0])
        raise TransitError(
            f"stop_times.txt: trip {trips.iloc[i]!r} runs backwards in time at stop_sequence "
            f"{plain(seq.iloc[i])!r} (arrival {arrival[i]:.1f} min after midnight, departure "
            f"{departure[i]:.1f}); times must not decrease along a trip. Fix the feed."
        )
    return pd.DataFrame(
        {
            "trip_id": trips.to_numpy(),
            "stop_id": st["stop_id"].astype(str).to_numpy(),
            "arrival": arrival,
            "departure": departure,
        }
    )


def _active_trips(feed: Any, date: dt.date) -> pd.DataFrame:
    """Trips of the date (offset 0) and of the day before (offset -1440 minutes)."""
    frames = []
    for offset, day in ((0.0, date), (-1440.0, date - dt.timedelta(days=1))):
        trips = feed.get_trips(day.strftime("%Y%m%d"))
        frames.append(trips.assign(_offset=offset))
    active = pd.concat(frames, ignore_index=True)
    if not (active["_offset"] == 0).any():
        dates = feed.get_dates()
        span = f"{dates[0]}..{dates[-1]}" if len(dates) else "(no dates)"
        raise TransitError(
            f"No trip runs on {date.isoformat()}: the feed's calendar covers {span}. Choose a "
            "date inside it on which the service runs (e.g. a weekday)."
        )
    return active


def _route_names(feed: Any) -> tuple[dict[str, str], dict[str, str]]:
    routes = _columns(feed.routes, "routes", ("route_id",))
    ids = routes["route_id"].astype(str)
    short = routes["route_short_name"] if "route_short_name" in routes.columns else ids
    long = routes["route_long_name"] if "route_long_name" in routes.columns else ids
    names = short.astype("string").fillna(long.astype("string")).fillna(ids).astype(str)
    colors = (
        routes["route_color"].astype("string").fillna("")
        if "route_color" in routes.columns
        else pd.Series([""] * len(routes))
    )
    return (
        dict(zip(ids, names.str.strip(), strict=True)),
        {
            r: (f"#{c.strip()}" if _COLOR.match(c.strip()) else "")
            for r, c in zip(ids, colors.astype(str), strict=True)
        },
    )


def _stations(feed: Any) -> gpd.GeoDataFrame:
    stops = _columns(feed.stops, "stops", ("stop_id", "stop_lat", "stop_lon"))
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if "location_type" in stops.columns:  # entrances, nodes and areas have no service
        kind = pd.to_numeric(stops["location_type"], errors="coerce").fillna(0).to_numpy()
        bad &= np.isin(kind, (0, 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TransitError(
            f"stops.txt: stop {str(stops['stop_id'].iloc[i])!r} has no valid position "
            f"(stop_lon {stops['stop_lon'].iloc[i]!r}, stop_lat {stops['stop_lat'].iloc[i]!r}); "
            "give decimal degrees in WGS-84."
        )
    names = (
        stops["stop_name"].astype("string").fillna(stops["stop_id"].astype("string"))
        if "stop_name" in stops.columns
        else stops["stop_id"].astype("string")
    )
    return gpd.GeoDataFrame(
        {
            "station_id": stops["stop_id"].astype(str).to_numpy(),
            "name": names.astype(str).to_numpy(),
        },
        geometry=shapely.points(np.nan_to_num(lon), np.nan_to_num(lat)),
        crs=4326,
    )


def _patterns(
    st: pd.DataFrame,
    trips: pd.DataFrame,
    station_index: pd.Index,
    window: tuple[float, float],
    names: dict[str, str],
) -> tuple[list[Pattern], dict[str, list[str]]]:
    """Group trips by route, direction and stop sequence; summarise each in the window."""
    offset = trips.set_index("_key")["_offset"]
    route = trips.set_index("_key")["route_id"].astype(str)
    direction = trips.set_index("_key")["direction_id"].astype("string").fillna("")
    shape = trips.set_index("_key")["shape_id"].astype("string").fillna("")
    st = st.assign(station=station_index.get_indexer(st["stop_id"]))
    sequences = st.groupby("_key", sort=False)["station"].agg(tuple)
    key = pd.DataFrame(
        {
            "route": route.reindex(sequences.index).to_numpy(),
            "direction": direction.reindex(sequences.index).to_numpy(),
            "stops": sequences.to_numpy(),
        },
        index=sequences.index,
    )
    groups = key.groupby(["route", "direction", "stops"], sort=True).groups
    w0, w1 = window
    patterns: list[Pattern] = []
    shapes: dict[str, list[str]] = {}
    by_trip = st.groupby("_key", sort=False)
    positions = by_trip.indices
    arrival_all, departure_all = st["arrival"].to_numpy(), st["departure"].to_numpy()
    for (route_id, _direction, stops), members in groups.items():
        if len(stops) < 2:
            continue
        rows = np.stack([positions[m] for m in members])  # trips x stops
        shift = offset.reindex(members).to_numpy(dtype=float)[:, None]
        arrival, departure = arrival_all[rows] + shift, departure_all[rows] + shift
        leaving = (departure >= w0) & (departure < w1)
        if not leaving[:, :-1].any():
            continue
        n = len(stops)
        ride = np.full((n, n), np.nan)
        for i in range(n - 1):
            chosen = leaving[:, i]
            if chosen.any():
                ride[i, i + 1 :] = (arrival[chosen, i + 1 :] - departure[chosen, i, None]).mean(0)
        frequency = leaving.sum(axis=0) / (w1 - w0)
        line = names.get(str(route_id), str(route_id))
        patterns.append(Pattern(line, np.asarray(stops, dtype=np.intp), frequency, ride))
        used = shape.reindex(members)
        shapes.setdefault(line, []).extend(s for s in used.unique() if s)
    return patterns, shapes


def _line_geometries(
    feed: Any,
    patterns: list[Pattern],
    shape_ids: dict[str, list[str]],
    stations: gpd.GeoDataFrame,
    colors: dict[str, str],
    route_of: dict[str, str],
) -> gpd.GeoDataFrame:
    shapes = feed.shapes
    tracks: dict[str, shapely.Geometry] = {}
    if (
        shapes is not None
        and not shapes.empty
        and {"shape_id", "shape_pt_lat", "shape_pt_lon"} <= set(shapes.columns)
    ):
        ordered = shapes.sort_values(["shape_id", "shape_pt_sequence"], kind="stable")
        lon = pd.to_numeric(ordered["shape_pt_lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(ordered["shape_pt_lat"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        ids = ordered["shape_id"].astype(str).to_numpy()[ok]
        xy = np.column_stack([lon[ok], lat[ok]])
        for shape_id, index in pd.Series(np.arange(len(ids))).groupby(ids).indices.items():
            if len(index) >= 2:
                tracks[str(shape_id)] = shapely.LineString(xy[index])
    rows = []
    xy_stations = shapely.get_coordinates(stations.geometry.values)
    for line in dict.fromkeys(p.line for p in patterns):
        parts = [tracks[s] for s in dict.fromkeys(shape_ids.get(line, [])) if s in tracks]
        if not parts:
            longest = max((p for p in patterns if p.line == line), key=lambda p: len(p.stops))
            parts = [shapely.LineString(xy_stations[longest.stops])]
        geometry = parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
        rows.append(
            {"line": line, "color": colors.get(route_of.get(line, ""), ""), "geometry": geometry}
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def read_gtfs(
    path: str | Path,
    *,
    date: str | dt.date,
    window: Sequence[str] = ("07:00", "09:00"),
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_ratio: float = MAX_RATIO,
) -> TransitService:
    """Read a GTFS feed as frequency-based service on a date, within a departure window.

    Parameters
    ----------
    path
        The feed: a ``.zip`` file or a folder of GTFS ``.txt`` tables.
    date
        The service day, ``"YYYY-MM-DD"`` or a :class:`datetime.date`.
    window
        Departure window, e.g. ``("07:00", "09:00")``; hours past 24 for the
        next morning's service of the same day.
    max_bytes, max_rows, max_ratio
        Bounds on the feed (see the module docstring).

    Returns
    -------
    TransitService
        Stations (every stop), patterns with service in the window, and one
        line geometry per route (its shapes, else its stops in order).

    Raises
    ------
    LayerNotFoundError
        If ``path`` does not exist.
    TransitError
        For a feed that is too large, damaged, inconsistent, or has no service.
    """
    path = Path(path)
    if not path.exists():
        raise LayerNotFoundError(
            f"GTFS feed not found: {str(path)!r}. Give the path of the feed's .zip file (or of "
            "a folder of its .txt tables)."
        )
    day = _parse_date(date)
    span = parse_window(window, where="window")
    feed = _read_feed(path, max_bytes=int(max_bytes), max_rows=int(max_rows), max_ratio=max_ratio)
    stations = _stations(feed)
    names, colors = _route_names(feed)
    trips_table = _columns(feed.trips, "trips", ("route_id", "service_id", "trip_id"))
    _unknown(trips_table["route_id"].astype(str), pd.Series(list(names)), "route", "trips.txt")
    stop_times = _columns(feed.stop_times, "stop_times", ("trip_id", "stop_id"))
    _unknown(
        stop_times["trip_id"].astype(str),
        trips_table["trip_id"].astype(str),
        "trip",
        "stop_times.txt",
    )
    _unknown(stop_times["stop_id"].astype(str), stations["station_id"], "stop", "stop_times.txt")
    if feed.frequencies is not None and not feed.frequencies.empty:
        raise TransitError(
            f"{str(path)!r} has a frequencies.txt: frequency-based GTFS trips are not supported "
            "yet. Expand them into timed trips first (e.g. gtfs_kit.expand_frequencies)."
        )
    active = _active_trips(feed, day)
    for column in ("direction_id", "shape_id"):
        if column not in active.columns:
            active[column] = pd.NA
    active = active.assign(_key=active["trip_id"].astype(str) + "@" + active["_offset"].astype(str))
    st = _stop_times(feed, pd.Index(active["trip_id"].astype(str).unique()))
    st = st.merge(active[["trip_id", "_key"]].astype({"trip_id": str}), on="trip_id", how="inner")
    st = st.sort_values("_key", kind="stable")
    patterns, shape_ids = _patterns(st, active, pd.Index(stations["station_id"]), span, names)
    route_of = {v: k for k, v in names.items()}
    served = {p.line for p in patterns}
    idle = sorted(set(names.values()) - served)
    if idle:
        logger.info(
            "%s: routes without a departure in %s on %s: %s",
            path, "-".join(f"{int(t) // 60:02d}:{int(t) % 60:02d}" for t in span), day, idle,
        )  # fmt: skip
    lines = (
        _line_geometries(feed, patterns, shape_ids, stations, colors, route_of)
        if patterns
        else gpd.GeoDataFrame({"line": [], "color": []}, geometry=[], crs=4326)
    )
    return TransitService(
        stations=stations,
        patterns=tuple(patterns),
        lines=lines,
        window=span,
        source=f"{path} on {day.isoformat()}",
    )

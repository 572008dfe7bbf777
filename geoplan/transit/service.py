"""The line model both sources produce: frequency-based metro service in a departure window.

A :class:`TransitService` is what a GTFS feed (:mod:`geoplan.transit.gtfs`)
or a line description in a study file (:mod:`geoplan.transit.lines`) says
about the metro between two clock times:

* **stations**: one row per station (stop), ``station_id``, ``name`` and a
  point in EPSG:4326;
* **patterns**: one per line and direction (per distinct stop sequence of a
  GTFS route and direction), each with its stations in order, how often a
  vehicle leaves each of them (departures per minute in the window) and the
  in-vehicle minutes between every pair of its stops (``ride[i, j]``, from
  leaving stop ``i`` to arriving at stop ``j``; ``i < j``);
* **lines**: one drawable geometry and colour per line, from its track when
  given, else straight segments between its stations in order.

Times are minutes after midnight of the service day; a clock time past
24:00 (``"25:10"``) is the next morning, as GTFS writes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from geoplan._errors import TransitError

__all__ = ["Pattern", "TransitService", "clock_minutes", "parse_window"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_CLOCK = re.compile(r"^\s*(\d{1,2}):([0-5]\d)(?::([0-5]\d))?\s*$")


def clock_minutes(text: object, *, where: str = "time") -> float:
    """Minutes after midnight of a clock time ``"H:MM"``, ``"HH:MM"`` or ``"HH:MM:SS"``.

    Hours up to 47 are allowed (GTFS writes trips after midnight as ``25:10``).

    Parameters
    ----------
    text
        The clock time.
    where
        What the time is, for the error message.

    Returns
    -------
    float
        Minutes after midnight.

    Raises
    ------
    TransitError
        If ``text`` is not such a time.
    """
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) > 47:
        raise TransitError(
            f'{where} = {text!r} is not a clock time: write it as "HH:MM" (24-hour clock, '
            'e.g. "07:30"; hours past 24 for the next morning, e.g. "25:10").'
        )
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 60.0 + minutes + seconds / 60.0


def parse_window(window: object, *, where: str = "window") -> tuple[float, float]:
    """A departure window ``("07:00", "09:00")`` as minutes after midnight.

    Parameters
    ----------
    window
        Two clock times, the start before the end.
    where
        What the window is, for the error message.

    Returns
    -------
    tuple of float
        Start and end, in minutes after midnight.
    """
    if (
        isinstance(window, str)
        or not isinstance(window, Sequence)
        or len(window) != 2
        or not all(isinstance(t, str) for t in window)
    ):
        raise TransitError(
            f'{where} = {window!r} must be two clock times, e.g. ["07:00", "09:00"] '
            "(the departures the model averages over)."
        )
    start = clock_minutes(window[0], where=f"{where}[0]")
    end = clock_minutes(window[1], where=f"{where}[1]")
    if not end > start:
        raise TransitError(
            f"{where} = {list(window)!r} ends before it starts: give the earlier time first, "
            'e.g. ["07:00", "09:00"].'
        )
    return start, end


@dataclass(frozen=True)
class Pattern:
    """One line in one direction: its stations in order, frequency and ride times.

    Attributes
    ----------
    line : str
        The line (GTFS route short name, or the line's name in a study).
    stops : numpy.ndarray
        Station positions (into :attr:`TransitService.stations`), in order.
    frequency : numpy.ndarray
        Departures per minute from each stop within the window.
    ride : numpy.ndarray
        ``(L, L)`` minutes from leaving stop ``i`` to arriving at stop ``j``
        (``i < j``; ``nan`` elsewhere or where no vehicle of the window does it).
    """

    line: str
    stops: IntArray
    frequency: FloatArray
    ride: FloatArray

    def __post_init__(self) -> None:
        n = len(self.stops)
        if n < 2 or self.frequency.shape != (n,) or self.ride.shape != (n, n):
            raise TransitError(
                f"Line {self.line!r}: a pattern needs two or more stops with one frequency "
                f"each and an {n} x {n} ride table, got {n} stops, frequencies of shape "
                f"{self.frequency.shape} and rides of shape {self.ride.shape}."
            )


@dataclass(frozen=True)
class TransitService:
    """Frequency-based metro service in a departure window (see the module docstring).

    Attributes
    ----------
    stations : geopandas.GeoDataFrame
        ``station_id``, ``name`` and a point per station, EPSG:4326.
    patterns : tuple of Pattern
        One per line and direction (and distinct stop sequence).
    lines : geopandas.GeoDataFrame
        ``line``, ``color`` (``""`` when unknown) and a line geometry per line, EPSG:4326.
    window : tuple of float
        The departure window, minutes after midnight.
    source : str
        Where the service was read from.
    """

    stations: gpd.GeoDataFrame
    patterns: tuple[Pattern, ...]
    lines: gpd.GeoDataFrame
    window: tuple[float, float]
    source: str

    def __post_init__(self) -> None:
        if not self.patterns:
            raise TransitError(
                f"{self.source}: no line runs in the window {self.window_text}: choose a "
                "window (and for a GTFS feed a date) with service."
            )
        n = len(self.stations)
        for p in self.patterns:
            if len(p.stops) and (p.stops.min() < 0 or p.stops.max() >= n):
                raise TransitError(
                    f"Line {p.line!r} refers to station positions outside 0..{n - 1}."
                )

    @property
    def window_text(self) -> str:
        """The window as ``"07:00-09:00"``."""
        return "-".join(_clock_text(t) for t in self.window)

    def __repr__(self) -> str:
        lines = sorted({p.line for p in self.patterns})
        return (
            f"TransitService({len(self.stations)} stations, lines {lines!r}, "
            f"{len(self.patterns)} patterns, window {self.window_text}, source={self.source!r})"
        )


def _clock_text(minutes: float) -> str:
    whole = math.floor(minutes + 1e-9)
    return f"{whole // 60:02d}:{whole % 60:02d}"

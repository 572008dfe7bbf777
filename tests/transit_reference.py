"""Independent references for the transit tests (no geoplan code).

* :func:`write_feed`: a small GTFS feed written from plain rows, as a folder or a zip.
* :func:`connections`: a feed's timetable on a date, read with plain pandas and
  the GTFS reference's rules (calendar weekdays and dates, calendar_dates
  exceptions, times past 24:00 belonging to the previous day's service).
* :func:`earliest_arrival`: a connection scan (time-dependent earliest arrival)
  over those connections, for many queries at once; transfers pay their
  minutes when alighting, the first boarding none.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def write_feed(
    folder: Path,
    tables: Mapping[str, Sequence[Mapping[str, object]]],
    *,
    zip_name: str | None = None,
) -> Path:
    """Write GTFS tables (name -> rows) as CSV files in ``folder`` (or a zip of them)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        f"{name}.txt": pd.DataFrame(list(rows)).to_csv(index=False) for name, rows in tables.items()
    }
    if zip_name is None:
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder
    path = folder / zip_name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in texts.items():
            archive.writestr(name, text)
    return path


def clock(text: str) -> float:
    """``"25:10:30"`` -> minutes after midnight."""
    h, m, s = (int(x) for x in str(text).strip().split(":"))
    return h * 60 + m + s / 60


def _services(folder: Path, day: dt.date) -> set[str]:
    active: set[str] = set()
    calendar = folder / "calendar.txt"
    if calendar.exists():
        cal = pd.read_csv(calendar, dtype=str, encoding="utf-8-sig")
        weekday = day.strftime("%A").lower()
        stamp = day.strftime("%Y%m%d")
        on = (cal[weekday] == "1") & (cal["start_date"] <= stamp) & (cal["end_date"] >= stamp)
        active |= set(cal.loc[on, "service_id"])
    dates = folder / "calendar_dates.txt"
    if dates.exists():
        exc = pd.read_csv(dates, dtype=str, encoding="utf-8-sig")
        today = exc[exc["date"] == day.strftime("%Y%m%d")]
        active |= set(today.loc[today["exception_type"] == "1", "service_id"])
        active -= set(today.loc[today["exception_type"] == "2", "service_id"])
    return active


def connections(folder: Path, day: dt.date) -> pd.DataFrame:
    """Every hop between consecutive stops of the trips running on ``day``.

    Columns ``trip`` (a code), ``dep_stop``, ``arr_stop`` (stop ids), ``dep``, ``arr``
    (minutes after midnight of ``day``), sorted by departure.
    """
    trips = pd.read_csv(folder / "trips.txt", dtype=str, encoding="utf-8-sig")
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, encoding="utf-8-sig")
    st["seq"] = st["stop_sequence"].astype(int)
    st = st.sort_values(["trip_id", "seq"])
    frames = []
    for shift, when in ((0.0, day), (-1440.0, day - dt.timedelta(days=1))):
        running = set(trips.loc[trips["service_id"].isin(_services(folder, when)), "trip_id"])
        part = st[st["trip_id"].isin(running)]
        nxt = part.shift(-1)
        same = (nxt["trip_id"] == part["trip_id"]).to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "trip": part["trip_id"].to_numpy()[same] + f"@{shift}",
                    "dep_stop": part["stop_id"].to_numpy()[same],
                    "arr_stop": nxt["stop_id"].to_numpy()[same],
                    "dep": [clock(t) + shift for t in part["departure_time"].to_numpy()[same]],
                    "arr": [clock(t) + shift for t in nxt["arrival_time"].to_numpy()[same]],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["trip"] = pd.factorize(out["trip"])[0]
    return out.sort_values(["dep", "arr"], kind="stable", ignore_index=True)


def earliest_arrival(
    conns: pd.DataFrame,
    stops: Sequence[str],
    ready: np.ndarray,
    transfers: Mapping[int, Sequence[tuple[int, float]]],
    *,
    until: float = np.inf,
) -> np.ndarray:
    """Connection scan: earliest arrival at every stop for each row of ``ready``.

    ``ready[q, s]`` is when query ``q`` can board at stop ``s`` (``inf``: not
    there); after alighting at ``s`` a traveller can board at ``t`` ``minutes``
    later for every ``(t, minutes)`` in ``transfers[s]``.
    """
    index = {s: i for i, s in enumerate(stops)}
    ready = ready.astype(float).copy()
    arrive = np.full(ready.shape, np.inf)
    onboard = np.zeros((ready.shape[0], int(conns["trip"].max()) + 1), dtype=bool)
    start = float(np.min(ready)) if np.isfinite(ready).any() else np.inf
    rows = conns[(conns["dep"] >= start) & (conns["dep"] <= until)]
    for trip, a, b, dep, arr in zip(
        rows["trip"].to_numpy(),
        rows["dep_stop"].map(index).to_numpy(),
        rows["arr_stop"].map(index).to_numpy(),
        rows["dep"].to_numpy(),
        rows["arr"].to_numpy(),
        strict=True,
    ):
        can = onboard[:, trip] | (ready[:, a] <= dep)
        if not can.any():
            continue
        onboard[can, trip] = True
        np.minimum(arrive[:, b], np.where(can, arr, np.inf), out=arrive[:, b])
        for t, minutes in transfers.get(b, ()):
            np.minimum(ready[:, t], np.where(can, arr + minutes, np.inf), out=ready[:, t])
    return arrive

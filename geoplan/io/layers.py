"""Reading layers: any common GIS format or a lon/lat table, checked, in WGS-84.

:func:`read_layer` is the one entry point.  It reads GeoJSON, GeoPackage,
Shapefile, FlatGeobuf, KML, GeoParquet, and CSV/TSV/Excel tables with
longitude/latitude columns (or Amap's ``"lng,lat"`` location text); converts
GCJ-02 and BD-09 to WGS-84; and looks for the mistakes that are common in
planning data (swapped latitude/longitude, no CRS, Amap/Baidu exports read as
WGS-84, NaN or infinite coordinates, points far from the study area, mixed
geometry types, invalid polygons),
failing with a :class:`~geoplan.GeoplanError` or warning with a
:class:`~geoplan.GeoplanWarning` that says what to do.
"""

from __future__ import annotations

import difflib
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import (
    CoordinateError,
    GeoplanWarning,
    LayerNotFoundError,
    LayerReadError,
    plain,
)
from geoplan.io import coords

__all__ = ["check_bounds", "find_coordinate_columns", "read_layer"]

logger = logging.getLogger(__name__)

WGS84: Final = "EPSG:4326"
TABLE_SUFFIXES: Final = (".csv", ".tsv", ".txt", ".xlsx", ".xls")
PARQUET_SUFFIXES: Final = (".parquet", ".geoparquet", ".pq")

_LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度", "北纬")
#: Names of one column of "lng,lat" text, as Amap's web APIs return.
_LOCATION_NAMES: Final = ("location", "lnglat", "lonlat", "经纬度")
#: Words in a coordinate column's name that state its coordinate system.
_DATUM_WORDS: Final = {
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "mars": "gcj02",
    "高德": "gcj02",
    "火星": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
    "wgs84": WGS84,
    "wgs": WGS84,
    "gps": WGS84,
    "cgcs2000": "EPSG:4490",
}
# Column names typical of Amap (高德) and Baidu (百度) POI exports.  Baidu's
# province/city/area/telephone are common elsewhere too, so a Baidu export
# also needs one of its own keys (uid, street_id, detail_info).
_AMAP_FIELDS: Final = frozenset(
    {
        "typecode",
        "adcode",
        "pname",
        "pcode",
        "cityname",
        "citycode",
        "adname",
        "business_area",
        "navi_poiid",
        "entr_location",
        "gridcode",
        "biz_type",
    }
)
_BAIDU_KEYS: Final = frozenset({"uid", "street_id", "detail_info"})
_BAIDU_FIELDS: Final = _BAIDU_KEYS | {"province", "city", "area", "telephone", "detail"}
_PROVIDER_WORDS: Final = {"amap": "gcj02", "gaode": "gcj02", "高德": "gcj02"} | {
    "baidu": "bd09",
    "百度": "bd09",
}
_PROVIDER: Final = {"gcj02": "Amap (高德)", "bd09": "Baidu (百度)"}
_CJK: Final = "[\u4e00-\u9fff]"


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]", "", str(name).strip().lower())


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_.()（）\[\]/:]+", _normalise(name)) if t]


def _name_parts(name: str, axis_names: Sequence[str]) -> tuple[bool, set[str]]:
    """Whether a column name is one of ``axis_names`` plus only datum words, and the datums it states.

    ``gcj02_lng``, ``lng_gcj02``, ``bd_lat``, ``lat(BD-09)`` and ``高德经度``
    qualify; ``lon_deg`` does not (``deg`` states no coordinate system).
    """
    axes, unknown = 0, 0
    datums: set[str] = set()
    for token in _tokens(name):
        glued = [a for a in axis_names if token.endswith(a) and token[: -len(a)] in _DATUM_WORDS]
        if token in axis_names:
            axes += 1
        elif token in _DATUM_WORDS:
            datums.add(_DATUM_WORDS[token])
        elif glued:
            axes += 1
            datums.add(_DATUM_WORDS[token[: -len(glued[0])]])
        else:
            unknown += 1
    return axes == 1 and unknown == 0, datums


def find_coordinate_columns(columns: Sequence[str]) -> tuple[str, str]:
    """Find the longitude and latitude columns of a table.

    Exact names win (``lon``/``lng``/``longitude``/``x``/``经度`` and
    ``lat``/``latitude``/``y``/``纬度``, any case); otherwise names that start
    with one of them, such as ``lon_gcj02`` or ``lat_wgs84``, or that are one
    of them with words naming a coordinate system before or after it, such as
    ``gcj02_lng``, ``bd_lat`` or ``高德经度``.

    Parameters
    ----------
    columns : sequence of str
        The table's column names.

    Returns
    -------
    tuple of str
        The longitude column and the latitude column.

    Raises
    ------
    CoordinateError
        If either is missing or ambiguous.
    """
    found: list[str] = []
    for names in (_LON_NAMES, _LAT_NAMES):
        exact = [c for c in columns if _normalise(c) in names]
        prefixed = [
            c
            for c in columns
            if any(re.match(rf"^{re.escape(n)}[_.(（]", _normalise(c)) for n in names)
            or _name_parts(c, names)[0]
        ]
        matches = exact or prefixed
        if len(matches) != 1:
            kind = "longitude" if names is _LON_NAMES else "latitude"
            problem = "no" if not matches else f"several ({matches!r})"
            raise CoordinateError(
                f"Found {problem} {kind} column among {list(columns)!r}. Name the columns "
                "lon/lat (or lng, longitude, x, 经度 / latitude, y, 纬度), give one 'location' "
                'column of "lng,lat" text, or pass lon= and lat= to read_layer.'
            )
        found.append(matches[0])
    return found[0], found[1]


def _numeric_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        rows = list(table.index[bad][:5])
        raise CoordinateError(
            f"{path.name}: column {column!r} has {int(bad.sum())} missing, non-numeric or "
            f"infinite value(s), first at row(s) {[r + 2 for r in rows]!r} (counting the header as row 1): "
            f"{table[column][bad].head(3).tolist()!r}. Fill in decimal degrees or remove those rows."
        )
    return np.asarray(values, dtype=np.float64)


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path)
    sep = "\t" if suffix == ".tsv" else None
    try:
        return pd.read_csv(path, sep=sep, engine="python", encoding="utf-8-sig")
    except UnicodeDecodeError:
        # Tables saved by Excel on Chinese Windows are usually GBK/GB18030.
        logger.info("%s is not UTF-8; reading it as GB18030", path.name)
        return pd.read_csv(path, sep=sep, engine="python", encoding="gb18030")


def _location_column(table: pd.DataFrame) -> str | None:
    """The one column named like ``location`` (``_LOCATION_NAMES``, datum words allowed)."""
    found = [str(c) for c in table.columns if _name_parts(str(c), _LOCATION_NAMES)[0]]
    if len(found) > 1:
        raise CoordinateError(
            f"Found several location columns {found!r}; keep one, or pass lon= and lat=."
        )
    return found[0] if found else None


def _split_location(table: pd.DataFrame, column: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes from a column of ``"lng,lat"`` text (Amap's format)."""
    parts = table[column].astype("string").str.extract(r"^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$")
    x = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    y = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        rows = [int(r) + 2 for r in np.flatnonzero(bad)[:5]]
        raise CoordinateError(
            f'{path.name}: column {column!r} should hold "longitude,latitude" text such as '
            f"'119.95,31.78' (as Amap returns), but {int(bad.sum())} row(s) do not, first at "
            f"row(s) {rows!r} (counting the header as row 1): "
            f"{[plain(v) for v in table[column][bad].head(3)]!r}. Fix those cells or remove the "
            "rows; if the column is not coordinates, name the coordinate columns lon and lat."
        )
    return x, y


def _stated_crs(columns: Sequence[str], path: Path) -> str | None:
    """The coordinate system the coordinate columns' names state, if any."""
    names = (*_LON_NAMES, *_LAT_NAMES, *_LOCATION_NAMES)
    stated = set().union(*(_name_parts(c, names)[1] for c in columns))
    if len(stated) > 1:
        raise CoordinateError(
            f"{path.name}: the coordinate columns {list(columns)!r} name different coordinate "
            f"systems ({sorted(stated)!r}). Rename them, or pass crs= with the right one."
        )
    return stated.pop() if stated else None


def _same_crs(a: object, b: object) -> bool:
    first, second = coords.resolve_crs(a), coords.resolve_crs(b)
    if isinstance(first, pyproj.CRS) and isinstance(second, pyproj.CRS):
        return bool(first.equals(second))
    return first == second


def _export_provider(table: pd.DataFrame, path: Path) -> tuple[str, str] | None:
    """``(system, evidence)`` when a table looks like an Amap or Baidu export, else None.

    It does when it has Chinese text and two of Amap's POI fields (``typecode``,
    ``adcode``, ``pname``, ``cityname``, ``adname`` ...), or Chinese text and
    one of Baidu's keys (``uid``, ``street_id``, ``detail_info``) with another
    Baidu field (``province``, ``city``, ``area`` ...); or when the file name
    or a column name says amap, gaode, 高德, baidu or 百度.
    """
    columns = [str(c) for c in table.columns]
    amap = [c for c in columns if _normalise(c) in _AMAP_FIELDS]
    baidu = [c for c in columns if _normalise(c) in _BAIDU_FIELDS]
    is_baidu = len(baidu) >= 2 and any(_normalise(c) in _BAIDU_KEYS for c in baidu)
    if len(amap) >= 2 or is_baidu:
        text = table.select_dtypes(include=["object", "string"])
        if any(text[c].astype("string").str.contains(_CJK).any() for c in text.columns):
            if len(amap) >= 2:
                return "gcj02", f"Amap fields {amap!r} and Chinese text"
            return "bd09", f"Baidu fields {baidu!r} and Chinese text"
    for name, where in [(path.stem, "file name"), *((c, "column") for c in columns)]:
        for word, system in _PROVIDER_WORDS.items():
            if word in _normalise(name):
                return system, f"the {where} {name!r}"
    return None


def _choose_crs(
    crs: object,
    stated: str | None,
    columns: list[str],
    *,
    from_location: bool,
    table: pd.DataFrame,
    xy: tuple[np.ndarray, np.ndarray],
    path: Path,
) -> object:
    """The CRS of a table's coordinates: ``crs=``, else the columns' names, else a guess.

    Rules, in order: ``crs=`` wins (with a warning when the column names say
    otherwise); a system named by the columns (``lon_gcj02``, ``bd_lat`` ...)
    is used; a ``location`` column of ``"lng,lat"`` text is GCJ-02, as Amap
    returns it (with a warning); anything else is WGS-84, with a warning when
    every point lies in China's bounding box (the one in which the GCJ-02
    offset applies, :mod:`geoplan.io.coords`) and the table looks like an Amap
    or Baidu export (:func:`_export_provider`).
    """
    if crs is not None:
        if stated is not None and not _same_crs(crs, stated):
            warnings.warn(
                f"{path.name}: the columns {columns!r} name {stated!r} coordinates but "
                f"crs={crs!r} was given; using crs= as you asked. Drop crs= (or rename the "
                "columns) if the names are right.",
                GeoplanWarning,
                stacklevel=4,
            )
        return crs
    if stated is not None:
        logger.info("%s: columns %r name %s coordinates", path.name, columns, stated)
        return stated
    if from_location:
        warnings.warn(
            f'{path.name}: column {columns[0]!r} holds "lng,lat" text as Amap\'s web APIs '
            "return, which is GCJ-02 (about 500 m from WGS-84), so geoplan reads it as GCJ-02 "
            "and converts it to WGS-84. Pass crs='gcj02' to confirm (and silence this warning), "
            "or crs='EPSG:4326' or crs='bd09' if the coordinates are in another system.",
            GeoplanWarning,
            stacklevel=4,
        )
        return "gcj02"
    provider = _export_provider(table, path) if not coords._out_of_china(*xy).any() else None
    if provider is not None:
        system, evidence = provider
        other = "bd09" if system == "gcj02" else "gcj02"
        warnings.warn(
            f"{path.name}: the coordinates in {columns!r} state no coordinate system, lie in "
            f"China and the table looks like an {_PROVIDER[system]} export ({evidence}). Such "
            f"data are usually {'GCJ-02' if system == 'gcj02' else 'BD-09'}, about 500 m from "
            f"WGS-84, but geoplan reads them as WGS-84. Pass crs='{system}' (or crs='{other}' "
            f"for {_PROVIDER[other]} data) to convert them, or crs='EPSG:4326' if they really "
            "are WGS-84 (that also silences this warning).",
            GeoplanWarning,
            stacklevel=4,
        )
    return WGS84


def _table_to_layer(
    table: pd.DataFrame, path: Path, *, lon: str | None, lat: str | None, crs: object
) -> tuple[gpd.GeoDataFrame, object]:
    location = None
    if lon is None and lat is None:
        try:
            lon, lat = find_coordinate_columns([str(c) for c in table.columns])
        except CoordinateError:
            location = _location_column(table)
            if location is None:
                raise
    elif lon is None or lat is None:
        found_lon, found_lat = find_coordinate_columns([str(c) for c in table.columns])
        lon = lon or found_lon
        lat = lat or found_lat
    if location is not None:
        columns = [location]
        x, y = _split_location(table, location, path)
    else:
        columns = [str(lon), str(lat)]
        for column in columns:
            if column not in table.columns:
                raise CoordinateError(
                    f"{path.name}: no column {column!r}; the columns are {list(table.columns)!r}."
                )
        x = _numeric_column(table, columns[0], path)
        y = _numeric_column(table, columns[1], path)
    stated = _stated_crs(columns, path)
    crs = _choose_crs(
        crs, stated, columns, from_location=location is not None, table=table, xy=(x, y), path=path
    )
    resolved = coords.resolve_crs(crs)
    if not isinstance(resolved, pyproj.CRS) or resolved.is_geographic:
        _check_degrees(x, y, path)
    layer = gpd.GeoDataFrame(
        table.drop(columns=columns),
        geometry=gpd.points_from_xy(x, y),
        crs=None,
    )
    return layer, crs


def _check_degrees(x: np.ndarray, y: np.ndarray, path: Path) -> None:
    """Fail on longitude/latitude values that cannot be right."""
    if len(x) == 0:
        return
    if np.all(np.abs(x) <= 90) and np.any(np.abs(y) > 90):
        raise CoordinateError(
            f"{path.name}: latitude values reach {float(np.max(np.abs(y)))!r}, beyond ±90, while "
            "every longitude is within ±90: latitude and longitude look swapped. Swap the two "
            "columns (or pass lon= and lat= to read_layer)."
        )
    if np.any(np.abs(x) > 180) or np.any(np.abs(y) > 90):
        raise CoordinateError(
            f"{path.name}: coordinates such as ({float(x[np.argmax(np.abs(x))])!r}, "
            f"{float(y[np.argmax(np.abs(y))])!r}) are not longitude/latitude degrees. If they are "
            "projected metres, pass crs= with their CRS (for example crs='EPSG:4549')."
        )
    mid_x, mid_y = float(np.median(x)), float(np.median(y))
    if 15 <= mid_x <= 55 and 70 <= mid_y <= 140:
        raise CoordinateError(
            f"{path.name}: the median point ({mid_x!r}, {mid_y!r}) has a 'longitude' that looks "
            "like a Chinese latitude and vice versa: latitude and longitude look swapped. "
            "Swap the two columns (or pass lon= and lat= to read_layer)."
        )


def _read_geo_file(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=layer)
    except Exception as exc:
        raise LayerReadError(
            f"Cannot read {str(path)!r} as a GIS layer ({type(exc).__name__}: {exc}). "
            "Check that the file is complete and in a supported format: GeoJSON, GeoPackage, "
            "Shapefile, FlatGeobuf, KML, GeoParquet, or CSV/Excel with lon/lat columns."
        ) from exc


def _convert_chinese(layer: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], source=source)
        return np.column_stack([lon, lat])

    converted = layer.copy()
    converted.geometry = shapely.transform(layer.geometry.values, convert)
    return converted.set_crs(WGS84, allow_override=True)


def _assign_crs(layer: gpd.GeoDataFrame, crs: object, path: Path) -> gpd.GeoDataFrame:
    resolved = coords.resolve_crs(crs)
    if isinstance(resolved, str):  # gcj02 / bd09: lon/lat numbers in a Chinese system
        if layer.crs is not None and not layer.crs.is_geographic:
            raise CoordinateError(
                f"{path.name}: crs={crs!r} was given but the file is in the projected CRS "
                f"{layer.crs.to_string()!r}; GCJ-02/BD-09 data are longitude/latitude degrees. "
                "Drop crs= or export the data as lon/lat."
            )
        bounds = layer.total_bounds
        _check_degrees(bounds[[0, 2]], bounds[[1, 3]], path)
        return _convert_chinese(layer, resolved)
    if resolved is not None:
        if layer.crs is not None and pyproj.CRS(layer.crs) != resolved:
            warnings.warn(
                f"{path.name} declares CRS {layer.crs.to_string()!r} but crs={crs!r} was given; "
                "using crs= as you asked. Drop crs= to use the file's own CRS.",
                GeoplanWarning,
                stacklevel=3,
            )
        return layer.set_crs(resolved, allow_override=True)
    if layer.crs is None:
        west, south, east, north = layer.total_bounds
        if -180 <= west <= east <= 180 and -90 <= south <= north <= 90:
            warnings.warn(
                f"{path.name} has no coordinate reference system; its coordinates look like "
                "longitude/latitude, so geoplan assumes WGS-84 (EPSG:4326). Pass crs= (for "
                "example crs='gcj02' for Amap data) if that is wrong.",
                GeoplanWarning,
                stacklevel=3,
            )
            return layer.set_crs(WGS84)
        raise CoordinateError(
            f"{path.name} has no coordinate reference system and its coordinates "
            f"(bounds {[round(float(v), 1) for v in layer.total_bounds]!r}) are not degrees. "
            "Pass crs= with the CRS they are in, for example crs='EPSG:4549'."
        )
    return layer


_ID_NAMES: Final = ("id", "fid", "uid", "objectid", "编号")
_FEATURE_NAMES: Final = ("name", "名称")


def _feature_label(layer: gpd.GeoDataFrame, position: int) -> str:
    """A feature as people find it in the file: ``"feature 3 (zone_id 'X03')"``.

    Features are counted from 1 in file order; the first column that looks
    like an identifier (``id``, ``fid``, ``uid``, ``objectid``, a name ending in
    ``_id`` or ``编号``) or, failing that, a name (``name``, ``名称``) is shown
    with its value.
    """
    columns = [c for c in layer.columns if c != layer.geometry.name]
    keys = [_normalise(c) for c in columns]
    ranked = [i for i, k in enumerate(keys) if k in _ID_NAMES or k.endswith(("_id", "编号"))]
    ranked += [i for i, k in enumerate(keys) if k in _FEATURE_NAMES or k.startswith("name")]
    text = f"feature {position + 1}"
    for i in ranked:
        value = layer[columns[i]].iloc[position]
        if not pd.isna(value):
            return f"{text} ({columns[i]} {plain(value)!r})"
    return text


def _check_finite(layer: gpd.GeoDataFrame, path: Path) -> None:
    """Fail on NaN or infinite coordinates, naming the first feature that has one."""
    xy, owner = shapely.get_coordinates(layer.geometry.values, return_index=True)
    bad = ~np.isfinite(xy).all(axis=1)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    features = np.unique(owner[bad])
    point = tuple(float(v) for v in xy[first])
    raise CoordinateError(
        f"{path.name}: {len(features)} feature(s) have coordinates that are not finite numbers, "
        f"the first {_feature_label(layer, int(owner[first]))} with the point {point!r}. Fix "
        "those coordinates (look for NaN, Infinity or empty values in the file) or remove "
        "the features."
    )


def _check_geometries(layer: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    _check_finite(layer, path)
    missing = layer.geometry.isna() | layer.geometry.is_empty
    if missing.any():
        which = [_feature_label(layer, int(i)) for i in np.flatnonzero(missing.to_numpy())[:5]]
        more = ", ..." if len(which) < int(missing.sum()) else ""
        warnings.warn(
            f"{path.name}: {int(missing.sum())} feature(s) without geometry "
            f"({', '.join(which)}{more}) were skipped; add coordinates to keep them.",
            GeoplanWarning,
            stacklevel=3,
        )
        layer = layer.loc[~missing].reset_index(drop=True)
    if len(layer) == 0:
        raise LayerReadError(
            f"{str(path)!r} has no features with geometry. Check that you chose the right "
            "file (or layer= for a multi-layer GeoPackage)."
        )
    families = layer.geometry.geom_type.str.replace("Multi", "", regex=False)
    if families.nunique() > 1:
        counts = families.value_counts().to_dict()
        warnings.warn(
            f"{path.name} mixes geometry types {counts!r}. geoplan measures lines and polygons "
            "to their nearest edge and scores candidate polygons at a point inside them; split "
            "the layer if the types mean different things.",
            GeoplanWarning,
            stacklevel=3,
        )
    invalid = ~layer.geometry.is_valid
    if invalid.any():
        reasons = shapely.is_valid_reason(layer.geometry.values[invalid.to_numpy()])
        warnings.warn(
            f"{path.name}: {int(invalid.sum())} invalid geometry(ies) repaired with make_valid "
            f"(first: {_feature_label(layer, int(np.flatnonzero(invalid.to_numpy())[0]))}, "
            f"{reasons[0]!r}). Check the "
            "repaired shapes, or fix them in a GIS.",
            GeoplanWarning,
            stacklevel=3,
        )
        layer = layer.copy()
        layer.geometry = layer.geometry.make_valid()
    return layer


def check_bounds(
    layer: gpd.GeoDataFrame,
    bounds: tuple[float, float, float, float],
    *,
    name: str = "layer",
    label_column: str | None = None,
) -> int:
    """Warn when features of a WGS-84 layer lie outside some bounds.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A layer in EPSG:4326.
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees.
    name : str
        The layer's name, for the message.
    label_column : str, optional
        Column whose values identify features in the message (by default
        features are named by their number and an id-like column, see
        ``_feature_label``).

    Returns
    -------
    int
        How many features lie outside.
    """
    west, south, east, north = bounds
    reps = layer.geometry.representative_point()
    outside = ~shapely.contains_xy(shapely.box(west, south, east, north), reps.x, reps.y)
    count = int(outside.sum())
    if count:
        example_row = int(np.flatnonzero(outside)[0])
        label = (
            repr(plain(layer[label_column].iloc[example_row]))
            if label_column in layer.columns
            else _feature_label(layer, example_row)
        )
        example = reps.iloc[example_row]
        warnings.warn(
            f"{count} feature(s) of {name} lie outside the study area "
            f"{[round(v, 3) for v in bounds]!r}, for example {label} at "
            f"({example.x:.5f}, {example.y:.5f}). Check their coordinates and CRS "
            "(GCJ-02 data read as WGS-84 sit ~500 m off; swapped lat/lon land far away).",
            GeoplanWarning,
            stacklevel=2,
        )
    return count


def _similar_files(path: Path) -> str:
    """A hint naming files with similar names in the same folder."""
    if not path.parent.is_dir():
        return f" The folder {str(path.parent)!r} does not exist either."
    names = [p.name for p in path.parent.iterdir() if p.is_file()]
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.5)
    return (
        f" Did you mean {close!r}?"
        if close
        else " Check the path (relative paths start from the study file's folder)."
    )


def read_layer(
    path: str | Path,
    *,
    crs: object = None,
    layer: str | int | None = None,
    lon: str | None = None,
    lat: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer from a GIS file or a lon/lat table, in WGS-84.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf, KML, GeoParquet, or a
        CSV/TSV/Excel table with longitude/latitude columns (detected by
        name: ``lon``/``lng``/``longitude``/``x``/``经度`` and
        ``lat``/``latitude``/``y``/``纬度``, names starting with them, or
        them with words naming a coordinate system, see
        :func:`find_coordinate_columns`) or, failing those, one ``location``
        column of ``"lng,lat"`` text as Amap's web APIs return.
    crs : object, optional
        The CRS the coordinates are in when the file does not say, or to
        override it: an EPSG code, PROJ string, ``"gcj02"`` (Amap/Gaode) or
        ``"bd09"`` (Baidu).  For tables without it: the system the
        coordinate columns' names state (``lon_gcj02``, ``gcj_lng``,
        ``bd09_lat``, ``lng_wgs84``, ``高德经度`` ...; names stating two
        different systems are an error); else GCJ-02 for a ``location`` column
        (with a warning); else WGS-84, with a warning that the data may be
        GCJ-02/BD-09 when every point lies in China's bounding box and the
        table looks like an Amap or Baidu export (their POI fields with
        Chinese text, or amap/gaode/高德/baidu/百度 in the file or a column
        name).  When ``crs=`` contradicts the columns' names it is used, with
        a warning.
    layer : str or int, optional
        The layer of a multi-layer file such as a GeoPackage.
    lon, lat : str, optional
        The coordinate columns of a table, when their names are unusual.

    Returns
    -------
    geopandas.GeoDataFrame
        The features in EPSG:4326 with a fresh RangeIndex; invalid polygons
        repaired (with a warning).

    Raises
    ------
    LayerNotFoundError
        If the file does not exist.
    LayerReadError
        If it cannot be read or has no features.
    CoordinateError
        If coordinates are missing, swapped or in no recognisable CRS.
    CRSError
        If ``crs`` is not a recognised CRS.
    """
    path = Path(path)
    if not path.exists():
        raise LayerNotFoundError(f"Layer file {str(path)!r} does not exist.{_similar_files(path)}")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise LayerReadError(f"{str(path)!r} is a folder; give the path of a layer file.")
    if not path.is_dir() and not path.is_file():  # opening a pipe would wait for a writer
        raise LayerReadError(
            f"{str(path)!r} is not a regular file (a device, pipe or socket); give the path of a "
            "layer file."
        )
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        try:
            table = _read_table(path)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise LayerReadError(
                f"Cannot read {str(path)!r} as a table ({exc}). Save it as UTF-8 CSV or .xlsx."
            ) from exc
        if table.empty:
            raise LayerReadError(f"{str(path)!r} has no rows. Add features or choose another file.")
        gdf, crs = _table_to_layer(table, path, lon=lon, lat=lat, crs=crs)
    else:
        gdf = _read_geo_file(path, layer)
        if gdf.empty:
            raise LayerReadError(
                f"{str(path)!r} has no features. Add features or choose another file."
            )
    gdf = _check_geometries(gdf, path)
    gdf = _assign_crs(gdf, crs, path)
    if not pyproj.CRS(gdf.crs).equals(pyproj.CRS(WGS84)):
        gdf = gdf.to_crs(WGS84)
    bounds = gdf.total_bounds
    _check_degrees(bounds[[0, 2]], bounds[[1, 3]], path)
    logger.info("read %d features from %s", len(gdf), path.name)
    return gdf.reset_index(drop=True)

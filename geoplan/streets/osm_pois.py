"""Read points of interest from an OpenStreetMap file: tagged nodes, ways and areas as points.

The same ``.osm`` / ``.osm.bz2`` / ``.osm.pbf`` file a street network comes
from holds the facilities along those streets.  :func:`read_osm_features`
streams it with pyosmium (libosmium), whose tag filter keeps, in C++, only the
objects with one of the requested tags, so no Python object is made for the
other nodes and ways:

* a node is a point;
* a closed way or a multipolygon relation is assembled into an area by
  libosmium and represented by a point inside it (``point_on_surface``); a way
  that does not form a valid area, and an open way, by a point on its line;
* other relations are skipped (they have no geometry of their own).

The file goes through the same checks as a street network's
(:func:`geoplan.streets.osm.read_osm`), so that a hostile or broken file fails
with a :class:`~geoplan.LayerReadError` in time and memory proportional to its
size: it must be a regular file whose name says the format; a PBF file's blob
envelopes must respect the format's limits and inflate to at most
:data:`~geoplan.streets._osm_file.MAX_INFLATION` times the file
(:func:`~geoplan.streets._osm_file.check_pbf_envelope`, before anything is
inflated); and a compressed XML file is inflated by Python into a temporary
file, stopping at :data:`MAX_XML_INFLATION` times its size, before libosmium
reads it.  Node locations are kept in a file-backed index (libosmium's
``sparse_file_array``) in a temporary folder, not in memory.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import LayerNotFoundError, LayerReadError, NetworkError
from geoplan.streets._osm_file import check_pbf_envelope
from geoplan.streets.osm import OSM_SUFFIXES, _osm_format

__all__ = ["MAX_XML_INFLATION", "read_osm_features", "read_osm_shapes"]

logger = logging.getLogger(__name__)

MAX_XML_INFLATION: Final = 60
"""A compressed XML file may inflate to at most this many times its size (real ones: 5-20)."""

_SLACK_BYTES: Final = 2**20  # tiny files: no ratio means much for a few kilobytes
_CHUNK_BYTES: Final = 2**20


def _damaged(path: Path, problem: str) -> LayerReadError:
    return LayerReadError(
        f"{str(path)!r} is not a readable OpenStreetMap file: {problem}. Download it again "
        "(or export it again from the tool that made it); a .osm.pbf file must be a complete "
        "PBF extract, a .osm/.osm.bz2 file OSM XML."
    )


def _inflate_xml(path: Path, compression: str, folder: Path) -> Path:
    """A compressed XML file inflated into ``folder``, refused beyond :data:`MAX_XML_INFLATION`."""
    limit = MAX_XML_INFLATION * path.stat().st_size + _SLACK_BYTES
    target = folder / "inflated.osm"
    opener: Any = bz2.open if compression == ".bz2" else gzip.open
    written = 0
    try:
        with opener(path, "rb") as source, target.open("wb") as out:
            while chunk := source.read(_CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise LayerReadError(
                        f"{str(path)!r} inflates to more than {limit:,} bytes, over "
                        f"{MAX_XML_INFLATION} times its size (real compressed OSM XML inflates "
                        "5-20 times): it is not a real extract. Download it again from a "
                        "trusted source, preferably as .osm.pbf."
                    )
                out.write(chunk)
    except (OSError, EOFError, ValueError) as exc:
        if isinstance(exc, LayerReadError):
            raise
        raise _damaged(path, f"it does not inflate ({exc})") from exc
    return target


def _line(locations: list[tuple[float, float]]) -> shapely.Geometry | None:
    """A way's line (a point for a way of one located node; ``None`` for none)."""
    if not locations:
        return None
    if len(locations) == 1:
        return shapely.Point(locations[0])
    return shapely.LineString(locations)


def _way_locations(way: Any) -> list[tuple[float, float]]:
    out = []
    for node in way.nodes:
        location = node.location
        if location.valid():
            out.append((location.lon, location.lat))
    return out


def _tags(entity: Any, keys: Iterable[str]) -> dict[str, str | None]:
    tags = entity.tags
    return {key: tags.get(key) for key in keys}


Row = tuple[str, int, dict[str, str | None], shapely.Geometry]


def _scan(path: Path, pairs: list[tuple[str, str]], keys: list[str]) -> list[Row]:
    """Every feature with one of ``pairs`` with its own geometry, in file order.

    A node is a point, an open way a line, an area (closed way or multipolygon)
    a multipolygon, and a closed way that forms no area its ring as a line.
    The file is checked first (see the module docstring).
    """
    import osmium
    from osmium.geom import WKBFactory

    if not path.exists():
        raise LayerNotFoundError(
            f"OpenStreetMap file not found: {str(path)!r}. Check the path; give the same "
            f"{' / '.join(OSM_SUFFIXES)} file the street network comes from."
        )
    if not path.is_file():  # a folder, or a device or pipe that would never end or never start
        raise LayerReadError(
            f"{str(path)!r} is not a regular file (a folder, device or pipe); give the path of "
            "an .osm or .osm.pbf file."
        )
    try:
        osm_format = _osm_format(path)
    except NetworkError:
        osm_format = ""
    if osm_format not in ("pbf", "osm", "osm.bz2", "osm.gz"):
        raise LayerReadError(
            f"Not an OpenStreetMap file name: {str(path)!r}. Give an OSM file ending in "
            f"{', '.join(OSM_SUFFIXES)} (the same file the street network comes from); "
            "rename it if its ending does not say what it holds."
        )
    if not pairs:
        raise LayerReadError("Give at least one (key, value) tag to read features by.")
    if osm_format == "pbf":
        try:
            check_pbf_envelope(path)
        except NetworkError as exc:  # the street reader's check, said of a feature layer
            raise LayerReadError(str(exc)) from exc
    rows: list[Row] = []
    closed_ways: dict[int, tuple[dict[str, str | None], shapely.Geometry | None]] = {}
    skipped = 0
    with tempfile.TemporaryDirectory(prefix="geoplan-pois-") as folder:
        source, source_format = path, osm_format
        if osm_format in ("osm.bz2", "osm.gz"):
            source, source_format = _inflate_xml(path, osm_format[3:], Path(folder)), "osm"
        wkb = WKBFactory()
        try:
            processor = (
                osmium.FileProcessor(osmium.io.File(str(source), source_format))
                .with_locations(f"sparse_file_array,{Path(folder) / 'nodes.index'}")
                .with_areas(osmium.filter.TagFilter(*pairs))
                .with_filter(osmium.filter.TagFilter(*pairs))
            )
            for entity in processor:
                if isinstance(entity, osmium.osm.Node):
                    if entity.location.valid():
                        point = shapely.Point(entity.location.lon, entity.location.lat)
                        rows.append(("node", entity.id, _tags(entity, keys), point))
                    else:
                        skipped += 1
                elif isinstance(entity, osmium.osm.Way):
                    line = _line(_way_locations(entity))
                    if entity.is_closed():  # its area follows, if it forms one
                        closed_ways[entity.id] = (_tags(entity, keys), line)
                    elif line is not None:
                        rows.append(("way", entity.id, _tags(entity, keys), line))
                    else:
                        skipped += 1
                elif isinstance(entity, osmium.osm.Area):
                    kind = "way" if entity.from_way() else "relation"
                    try:
                        shape = shapely.from_wkb(wkb.create_multipolygon(entity))
                    except RuntimeError:  # libosmium could not assemble it
                        continue
                    rows.append((kind, entity.orig_id(), _tags(entity, keys), shape))
                    if kind == "way":
                        closed_ways.pop(entity.orig_id(), None)
        except RuntimeError as exc:
            raise _damaged(path, f"libosmium: {exc}") from exc
    for way_id, (way_tags, line) in closed_ways.items():  # closed ways that formed no area
        if line is None:
            skipped += 1
        else:
            rows.append(("way", way_id, way_tags, line))
    if skipped:
        logger.info("%s: %d features without a location (cut at the extract's edge)", path, skipped)
    return rows


def read_osm_features(
    path: str | Path,
    *,
    tags: Iterable[tuple[str, str]],
    keys: Iterable[str],
    area: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Nodes, ways and areas of an OSM file that carry one of ``tags``, as points.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.xml``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    tags
        ``(key, value)`` pairs: a feature with any of them is read.
    keys
        The tags to keep, one column each (missing: ``None``).
    area
        Keep only features whose point lies in this polygon (EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326: ``osm_type`` (``node``, ``way`` or ``relation``),
        ``osm_id``, one column per key and a point per feature, in file
        order (a feature given twice is kept once).

    Raises
    ------
    LayerNotFoundError
        If the file does not exist.
    LayerReadError
        If it is not a well-formed OSM file, or fails the checks in the
        module docstring.
    """
    keys = list(dict.fromkeys(keys))
    rows = _scan(Path(path), list(dict.fromkeys(tags)), keys)
    geoms = np.array([r[3] for r in rows], dtype=object)
    if len(geoms):
        shaped = shapely.get_type_id(geoms) > 0
        geoms[shaped] = shapely.point_on_surface(geoms[shaped])
    rows = [(r[0], r[1], r[2], g) for r, g in zip(rows, geoms, strict=True)]
    frame = _frame(rows, keys, Path(path))
    if area is not None:
        xy = shapely.get_coordinates(frame.geometry.values)
        frame = frame[shapely.contains_xy(area, xy[:, 0], xy[:, 1])].reset_index(drop=True)
    logger.info("%s: %d POIs read", path, len(frame))
    return frame


def read_osm_shapes(
    path: str | Path,
    *,
    tags: Iterable[tuple[str, str]],
    keys: Iterable[str],
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Ways and areas of an OSM file that carry one of ``tags``, with their own shapes.

    The same reading as :func:`read_osm_features` (and the same checks), but
    an open way stays a line, an area a (multi)polygon and a node a point:
    what a map's context (roads, rivers, districts) is drawn from.

    Parameters
    ----------
    path
        An OpenStreetMap file (see :func:`read_osm_features`).
    tags
        ``(key, value)`` pairs (``("highway", "primary")``, ``("waterway", "river")``).
    keys
        The tags to keep, one column each.
    bbox
        ``(west, south, east, north)`` in degrees: keep the features that meet it.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326: ``osm_type``, ``osm_id``, the key columns and each feature's shape.
    """
    keys = list(dict.fromkeys(keys))
    rows = _scan(Path(path), list(dict.fromkeys(tags)), keys)
    frame = _frame(rows, keys, Path(path))
    if bbox is not None and len(frame):
        frame = frame[frame.intersects(shapely.box(*bbox))].reset_index(drop=True)
    logger.info("%s: %d shapes read", path, len(frame))
    return frame


def _frame(rows: list[Row], keys: list[str], path: Path) -> gpd.GeoDataFrame:
    geoms = np.array([r[3] for r in rows], dtype=object)
    frame = pd.DataFrame(
        {
            "osm_type": [r[0] for r in rows],
            "osm_id": np.array([r[1] for r in rows], dtype=np.int64),
            **{key: [r[2][key] for r in rows] for key in keys},
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
    twice = out.duplicated(["osm_type", "osm_id"])
    if twice.any():
        logger.warning(
            "%s: %d features given twice; the first copy is kept", path, int(twice.sum())
        )
        out = out[~twice]
    return out.reset_index(drop=True)

"""Read the ``highway`` ways of an OpenStreetMap file into arrays, with libosmium.

libosmium (through pyosmium) decodes every OSM file -- ``.osm.pbf``, XML,
bzip2/gzip-compressed XML -- and makes every check of the formats: blob and
header size limits, decompressed sizes, string table indices, varint and
field lengths, the order of header and data blocks.  It runs in one C++ pass
that creates no Python object per node or way:

* ``NodeLocationsForWays`` stores every node's location in a file-backed
  index (libosmium's ``sparse_file_array``: one ``(id, location)`` pair of
  16 bytes per node);
* an entity filter and a key filter keep the ways with a ``highway`` tag, and
  a writer stores them as OPL text (libosmium's line format: id, tags, node
  ids).

Python then reads the OPL lines in chunks (a tag dictionary per way, the node
ids parsed by numpy) and joins the references to the index with numpy.  Both
files live in a temporary folder (``tempfile``'s, so ``TMPDIR`` moves it) for
the duration of the read: about 16 bytes per node of the file and 15 per
street node reference (about 210 MB for the 63 MB tiled province of the benchmarks).

What libosmium accepts but a street network must not, is refused here with a
:class:`~geoplan.NetworkError`: a PBF file that is empty, ends in stray bytes
or whose blocks would inflate to more than :data:`MAX_INFLATION` times its
size (checked from the blob envelopes before anything is inflated, so
memory and time stay proportional to the file); nodes out of the
±180°/±90° range; negative node ids (unsaved editor data); a way or a node
given twice with different contents (files joined instead of merged).
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from geoplan._errors import NetworkError

__all__ = ["MAX_INFLATION", "HighwayWays", "check_pbf_envelope", "read_highways"]

logger = logging.getLogger(__name__)

Int64Array = npt.NDArray[np.int64]

UNDEFINED = 2147483647
"""libosmium's undefined fixed-point coordinate (a node missing from the file)."""

MAX_INFLATION = 16
"""A PBF file's blocks may inflate to at most this many times its size (real extracts: 2-4)."""

_MAX_HEADER_BYTES = 64 * 1024  # the PBF format's limits
_MAX_BLOB_BYTES = 32 * 2**20
_SLACK_BYTES = 2**20  # small files: headers and tiny blocks compress poorly
_MAX_X, _MAX_Y = 1_800_000_000, 900_000_000  # ±180°, ±90° in 1e-7 degrees
_INDEX = np.dtype([("id", np.uint64), ("x", np.int32), ("y", np.int32)])
_CHUNK_BYTES = 16 * 2**20
_ESCAPE = re.compile(r"%([0-9a-fA-F]{1,8})%")


@dataclass(frozen=True)
class HighwayWays:
    """The ways with a ``highway`` key of an OSM file, with their nodes' locations.

    Attributes
    ----------
    way_id : numpy.ndarray
        OSM id of each way, in file order.
    tags : list of dict
        Each way's tags (the first value of a key given twice).
    refs : numpy.ndarray
        The ways' node ids, concatenated (``counts`` per way).
    counts : numpy.ndarray
        Number of node references of each way.
    x, y : numpy.ndarray
        Each reference's longitude and latitude in 1e-7 degrees (libosmium's
        fixed-point ``Location.x``/``.y``); :data:`UNDEFINED` where the node
        is not in the file.
    """

    way_id: Int64Array
    tags: list[dict[str, str]]
    refs: Int64Array
    counts: Int64Array
    x: Int64Array
    y: Int64Array


def _damaged(path: Path, problem: str) -> NetworkError:
    return NetworkError(
        f"{str(path)!r} is a damaged or truncated .osm.pbf file: {problem}. "
        "Download it again (or export it again from the tool that made it)."
    )


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The protocol-buffers varint at ``pos`` and the position after it (at most 10 bytes)."""
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise ValueError("a number runs past the end of its message")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
    raise ValueError("a number is longer than 10 bytes")


def _fields(data: bytes) -> dict[int, int | bytes]:
    """Top-level fields of a small message (the first of each number): ints or bytes."""
    out: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        value: int | bytes
        wire = key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if length > len(data) - pos:
                raise ValueError(f"a field of {length:,} bytes runs past the end of its message")
            value, pos = data[pos : pos + length], pos + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if size > len(data) - pos:
                raise ValueError("a field runs past the end of its message")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        else:
            raise ValueError(f"unknown protocol-buffers wire type {wire}")
        out.setdefault(key >> 3, value)
    return out


def _read_exactly(file: BinaryIO, size: int, what: str) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise ValueError(f"the file ends inside {what} ({len(data):,} of {size:,} bytes)")
    return data


def check_pbf_envelope(path: Path) -> int:
    """Check a PBF file's blob envelopes, without inflating anything.

    Every blob header must be at most 64 KiB and every blob at most 32 MiB
    (the format's limits), the file must end exactly after its last blob,
    and the blobs may together inflate to at most :data:`MAX_INFLATION`
    times the file's size (their declared ``raw_size``, which libosmium
    checks against what it inflates).

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.

    Returns
    -------
    int
        The number of bytes its blobs inflate to.

    Raises
    ------
    NetworkError
        For an empty file, a file that is cut short or ends in stray bytes,
        a size beyond the format's limits, or a zip bomb.
    """
    size = path.stat().st_size
    if size == 0:
        raise NetworkError(
            f"{str(path)!r} is an empty file (0 bytes): the download or copy did not finish. "
            "Download the .osm.pbf file again."
        )
    inflated = 0
    try:
        with path.open("rb") as file:
            while prefix := file.read(4):
                if len(prefix) < 4:
                    raise ValueError(f"it ends in {len(prefix)} stray byte(s) after its last block")
                header_bytes = int.from_bytes(prefix, "big")
                if header_bytes == 0:  # libosmium takes it for the end and drops the rest
                    raise ValueError("a block header of 0 bytes stands where a block should")
                if header_bytes > _MAX_HEADER_BYTES:
                    raise ValueError(
                        f"a block header declares {header_bytes:,} bytes (the format allows 64 KiB)"
                    )
                header = _fields(_read_exactly(file, header_bytes, "a block header"))
                blob_bytes = header.get(3)
                if not isinstance(blob_bytes, int):
                    raise ValueError("a block header gives no block size")
                if blob_bytes > _MAX_BLOB_BYTES:
                    raise ValueError(
                        f"a block declares {blob_bytes:,} bytes (the format allows 32 MiB)"
                    )
                blob = _fields(_read_exactly(file, blob_bytes, "a block"))
                raw = blob.get(1)
                raw_size = len(raw) if isinstance(raw, bytes) else blob.get(2, _MAX_BLOB_BYTES)
                if not isinstance(raw_size, int):
                    raise ValueError("a block gives no size for its inflated data")
                if raw_size > _MAX_BLOB_BYTES:
                    raise ValueError(
                        f"a block declares it inflates to {raw_size:,} bytes "
                        "(the format allows 32 MiB)"
                    )
                inflated += raw_size
    except ValueError as exc:
        raise _damaged(path, str(exc)) from exc
    if inflated > MAX_INFLATION * size + _SLACK_BYTES:
        raise NetworkError(
            f"{str(path)!r} is not a real OpenStreetMap extract: its {size:,} bytes would "
            f"inflate to {inflated:,} bytes, {inflated / size:,.0f} times its size (real "
            f".osm.pbf files inflate 2-4 times, at most {MAX_INFLATION} are accepted). "
            "Download the extract again from a trusted source (e.g. Geofabrik)."
        )
    return inflated


def read_highways(path: Path, osm_format: str) -> HighwayWays:
    """Read the ways with a ``highway`` key of an OSM file and locate their nodes.

    Parameters
    ----------
    path
        The file.
    osm_format
        libosmium's name of its format: ``"pbf"``, ``"osm"``, ``"osm.bz2"``...

    Returns
    -------
    HighwayWays
        The ways in file order, their node references and locations.

    Raises
    ------
    NetworkError
        When libosmium cannot read the file, or for what
        :func:`check_pbf_envelope` and :func:`locate` refuse.
    """
    import osmium

    if osm_format == "pbf":
        check_pbf_envelope(path)
    with tempfile.TemporaryDirectory(prefix="geoplan-osm-") as folder:
        index_file = Path(folder) / "nodes.index"
        opl_file = Path(folder) / "highways.opl"
        index = osmium.index.create_map(f"sparse_file_array,{index_file}")
        locations = osmium.NodeLocationsForWays(index)
        locations.apply_nodes_to_ways = False
        reader = osmium.io.Reader(
            osmium.io.File(str(path), osm_format), osmium.osm.NODE | osmium.osm.WAY
        )
        try:
            with osmium.SimpleWriter(
                osmium.io.File(str(opl_file), "opl,add_metadata=false"), overwrite=True
            ) as writer:
                osmium.apply(
                    reader,
                    locations,
                    osmium.filter.EntityFilter(osmium.osm.WAY),
                    osmium.filter.KeyFilter("highway"),
                    writer,
                )
        finally:
            reader.close()
        del locations, index  # flushes the index file
        way_id, tags, refs, counts = _read_opl(opl_file)
        nodes = np.fromfile(index_file, dtype=_INDEX)
    x, y = locate(path, refs, nodes)
    unique, seen = np.unique(way_id, return_counts=True)
    if (seen > 1).any():
        twice = unique[seen > 1]
        raise NetworkError(
            f"{str(path)!r} gives {len(twice):,} way(s) twice (e.g. way {int(twice[0])}): "
            "it looks like files joined end to end. Merge extracts with `osmium merge` "
            "(or download one extract that covers the whole area) instead."
        )
    return HighwayWays(way_id=way_id, tags=tags, refs=refs, counts=counts, x=x, y=y)


def locate(
    path: Path, refs: Int64Array, nodes: npt.NDArray[np.void]
) -> tuple[Int64Array, Int64Array]:
    """Each reference's location from libosmium's ``(id, x, y)`` node index.

    Parameters
    ----------
    path
        The file (for messages).
    refs
        Node ids referenced by the ways.
    nodes
        The index entries, in any order; entries without a location (the
        index file's unused tail) are ignored.

    Returns
    -------
    x, y : numpy.ndarray
        Fixed-point coordinates, :data:`UNDEFINED` for nodes not in the file.

    Raises
    ------
    NetworkError
        For negative node ids, a node given twice at different places, or a
        location beyond ±180°/±90°.
    """
    if len(refs) and refs.min() < 0:
        raise NetworkError(
            f"{str(path)!r} has streets on nodes with negative ids (e.g. node "
            f"{int(refs[refs < 0][0])}): it holds edits that were never uploaded to "
            "OpenStreetMap. Renumber them (`osmium renumber`) or use a downloaded extract."
        )
    unset = (nodes["x"] == UNDEFINED) & (nodes["y"] == UNDEFINED)
    end = len(nodes) - int(np.argmin(unset[::-1])) if len(nodes) and not unset.all() else 0
    nodes = nodes[:end]  # without the index file's unused tail
    ids = nodes["id"].astype(np.int64)
    x, y = nodes["x"], nodes["y"]
    if len(ids) > 1 and not (ids[1:] >= ids[:-1]).all():  # nodes after ways: libosmium's order
        order = np.argsort(ids, kind="stable")
        ids, x, y = ids[order], x[order], y[order]
    if not len(ids):
        undefined = np.full(len(refs), UNDEFINED, dtype=np.int64)
        return undefined, undefined.copy()
    at = np.minimum(np.searchsorted(ids, refs), len(ids) - 1)
    found = ids[at] == refs
    same = np.flatnonzero(ids[1:] == ids[:-1])
    if len(same):
        moved = same[(x[same] != x[same + 1]) | (y[same] != y[same + 1])]
        clash = np.isin(refs, ids[moved])
        if clash.any():
            node = int(refs[clash][0])
            raise NetworkError(
                f"{str(path)!r} gives node {node} twice, at different places: it looks like "
                "different versions of an extract joined end to end. Download one extract "
                "again (or merge extracts with `osmium merge`)."
            )
    ref_x = np.where(found, x[at], UNDEFINED).astype(np.int64)
    ref_y = np.where(found, y[at], UNDEFINED).astype(np.int64)
    found &= (ref_x != UNDEFINED) | (ref_y != UNDEFINED)
    outside = found & ((np.abs(ref_x) > _MAX_X) | (np.abs(ref_y) > _MAX_Y))
    if outside.any():
        i = int(np.argmax(outside))
        raise _damaged(
            path,
            f"node {int(refs[i])} lies at longitude {ref_x[i] / 1e7!r}, latitude "
            f"{ref_y[i] / 1e7!r}, beyond ±180°/±90°",
        )
    return ref_x, ref_y


def _read_opl(path: Path) -> tuple[Int64Array, list[dict[str, str]], Int64Array, Int64Array]:
    """Way ids, tags, node references and reference counts of an OPL file of ways."""
    way_ids: list[int] = []
    tags: list[dict[str, str]] = []
    counts: list[int] = []
    ref_parts: list[Int64Array] = []
    with path.open("rb") as file:
        while lines := file.readlines(_CHUNK_BYTES):
            node_lists: list[bytes] = []
            first = len(counts)
            for line in lines:
                head, _, nodes = line.rstrip(b"\n").rpartition(b" N")
                way, _, tag_text = head.partition(b" T")
                way_ids.append(int(way[1:]))
                tags.append(_opl_tags(tag_text.decode("utf-8")))
                counts.append(nodes.count(b",") + 1 if nodes else 0)
                if nodes:
                    node_lists.append(nodes)
            text = b",".join(node_lists).replace(b"n", b"")
            refs = np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, np.int64)
            if len(refs) != sum(counts[first:]):  # libosmium wrote it: never expected
                raise RuntimeError(f"unexpected OPL from libosmium in {path}")
            ref_parts.append(refs)
    return (
        np.asarray(way_ids, dtype=np.int64),
        tags,
        np.concatenate(ref_parts) if ref_parts else np.empty(0, np.int64),
        np.asarray(counts, dtype=np.int64),
    )


def _opl_tags(text: str) -> dict[str, str]:
    """An OPL tag list (``k=v,k=v``, special characters as ``%hex%``); the first value counts."""
    if not text:
        return {}
    pairs = [pair.partition("=")[::2] for pair in text.split(",")]
    if "%" in text:
        pairs = [(_unescape(key), _unescape(value)) for key, value in pairs]
    tags = dict(pairs)
    if len(tags) < len(pairs):  # a key given twice: its first value counts
        tags = {}
        for key, value in pairs:
            tags.setdefault(key, value)
    return tags


def _unescape(text: str) -> str:
    if "%" not in text:
        return text
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)

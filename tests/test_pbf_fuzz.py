"""Seeded mutations of real extracts: an equal network or a NetworkError, nothing else.

Each case is a real extract (the Jing'an drive extract whole; Liechtenstein
and Andorra cut to their header, two node blocks and two way blocks) with one
mutation: of the envelope (flipped, cut or appended bytes, declared sizes,
blob types, blocks dropped, repeated, swapped or zeroed) or *inside* a data
block, which is inflated, damaged (flipped bytes, a huge varint, a zeroed or
deleted run, inserted bytes) and compressed again with its sizes right, so
that the damage reaches the decoder.

The files are read in a subprocess with limited address space and time
(``osm_fuzz_child.py``), by geoplan and by the independent pyosmium reading.
Every case must end in one of:

* both read it, to the same ways, tags, references and locations;
* geoplan refuses it with a NetworkError and pyosmium fails too, or the file
  holds what geoplan refuses beyond libosmium (``ExpectedRefusalError``), or its
  message names one of geoplan's own envelope checks (stray bytes at the end,
  an empty block header: libosmium silently stops reading at either).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osm_files import deflate, field, inflate, join_blobs, split_blobs, varint

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CHILD = Path(__file__).with_name("osm_fuzz_child.py")
CASES_PER_BATCH = 25
MEMORY_LIMIT = 3 * 2**30
TIME_LIMIT_S = 240
GEOPLAN_ONLY_REFUSALS = ("stray byte", "block header of 0 bytes")
"""geoplan's envelope check refuses these; libosmium stops reading there, dropping the rest."""

SOURCES = {
    "jingan": "shanghai_jingan_drive.osm.pbf",
    "liechtenstein": "osm/liechtenstein.osm.pbf",
    "andorra": "osm/andorra.osm.pbf",
}
BATCHES = [("jingan", 0), ("jingan", 1), ("liechtenstein", 0), ("liechtenstein", 1), ("andorra", 0)]


def source_blobs(name: str) -> list[tuple[bytes, bytes]]:
    """The extract's blobs: all of a small one, or its header, 2 node and 2 way blocks."""
    path = SHARED / SOURCES[name]
    if not path.is_file():
        pytest.skip(f"{path} absent (the team's shared data is not in a fresh clone)")
    blobs = split_blobs(path.read_bytes())
    if len(blobs) <= 6:
        return blobs
    return [blobs[0], blobs[1], blobs[2], blobs[-4], blobs[-3]]


def mutate_inside(block: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """Damage a block's bytes (a data block, inflated)."""
    at = int(rng.integers(0, len(block)))
    run = int(rng.integers(1, 64))
    how = str(rng.choice(["flip", "huge varint", "zero run", "insert", "delete", "0x7f"]))
    if how == "flip":
        out = bytearray(block)
        for i in rng.integers(0, len(block), int(rng.integers(1, 9))):
            out[int(i)] ^= int(rng.integers(1, 256))
        return how, bytes(out)
    if how == "huge varint":
        huge = varint(int(rng.choice([2**63 - 1, 2**64 - 1, 2**40])))
        return how, block[:at] + huge + block[at + 1 :]
    if how == "zero run":
        return how, block[:at] + bytes(run) + block[at + run :]
    if how == "insert":
        return how, block[:at] + rng.bytes(run) + block[at:]
    if how == "delete":
        return how, block[:at] + block[at + run :]
    return how, block[:at] + b"\x7f" * run + block[at + run :]


def mutate(blobs: list[tuple[bytes, bytes]], rng: np.random.Generator) -> tuple[str, bytes]:
    """One seeded mutation of a file given as blobs: its description and bytes."""
    blobs = list(blobs)
    data_at = int(rng.integers(1, len(blobs)))
    kind, body = blobs[data_at]
    how = str(
        rng.choice(
            ["inside"] * 6
            + ["flip", "truncate", "append", "header length", "datasize", "raw_size", "type"]
            + ["drop", "repeat", "swap", "zero", "joined"]
        )
    )
    whole = join_blobs(blobs)
    if how == "inside":
        what, block = mutate_inside(inflate(body), rng)
        blobs[data_at] = (kind, deflate(block))
        return f"inside block {data_at}: {what}", join_blobs(blobs)
    if how == "flip":
        out = bytearray(whole)
        for i in rng.integers(0, len(whole), int(rng.integers(1, 5))):
            out[int(i)] ^= int(rng.integers(1, 256))
        return how, bytes(out)
    if how == "truncate":
        return how, whole[: int(rng.integers(0, len(whole)))]
    if how == "append":
        return how, whole + rng.bytes(int(rng.integers(1, 65)))
    if how == "header length":
        start = len(join_blobs(blobs[:data_at]))
        size = int(rng.choice([0, 1, 2**16, 2**31 - 1, int(rng.integers(0, 2**32))]))
        return how, whole[:start] + size.to_bytes(4, "big") + whole[start + 4 :]
    if how == "datasize":
        size = int(rng.choice([0, len(body) - 1, len(body) + 1, 2**40, 2**63 - 1]))
        header = field(1, kind) + field(3, size)
        before, after = join_blobs(blobs[:data_at]), join_blobs(blobs[data_at + 1 :])
        return how, before + len(header).to_bytes(4, "big") + header + body + after
    if how == "raw_size":
        block = inflate(body)
        size = int(rng.choice([0, len(block) - 1, len(block) + 1, 2**40, 2**63 - 1]))
        blobs[data_at] = (kind, field(2, size) + deflate(block)[len(field(2, len(block))) :])
        return how, join_blobs(blobs)
    if how == "type":
        blobs[data_at] = (bytes(rng.choice([b"OSMHeader", b"OSMDatb", b""])), body)
        return how, join_blobs(blobs)
    if how == "drop":
        del blobs[data_at]
    elif how == "repeat":
        blobs.insert(data_at, blobs[data_at])
    elif how == "swap":
        other = int(rng.integers(0, len(blobs)))
        blobs[data_at], blobs[other] = blobs[other], blobs[data_at]
    elif how == "zero":
        blobs[data_at] = (kind, bytes(len(body)))
    else:
        return how, whole + whole
    return f"{how} block {data_at}", join_blobs(blobs)


def judge(case: str, geoplan: dict[str, str], pyosmium: dict[str, str]) -> str | None:
    """Why the outcomes of one case are wrong, or None."""
    if geoplan["outcome"] == "raw":
        return f"{case}: raw exception {geoplan['message']}"
    if geoplan["outcome"] == "read":
        if pyosmium["outcome"] != "read":
            return f"{case}: geoplan read what pyosmium refuses ({pyosmium['message']})"
        if geoplan["digest"] != pyosmium["digest"]:
            return f"{case}: geoplan's reading differs from pyosmium's"
        return None
    if pyosmium["outcome"] in ("error", "refusal expected"):
        return None
    if any(reason in geoplan["message"] for reason in GEOPLAN_ONLY_REFUSALS):
        return None
    return f"{case}: geoplan refused what pyosmium reads: {geoplan['message']}"


@pytest.mark.parametrize(("source", "batch"), BATCHES, ids=[f"{s}-{b}" for s, b in BATCHES])
def test_mutated_extracts(tmp_path: Path, source: str, batch: int) -> None:
    blobs = source_blobs(source)
    rng = np.random.default_rng([sum(source.encode()), batch])
    cases: dict[str, str] = {}
    for i in range(CASES_PER_BATCH):
        description, data = mutate(blobs, rng)
        path = tmp_path / f"case{i:03d}.osm.pbf"
        path.write_bytes(data)
        cases[str(path)] = f"{source} batch {batch} case {i} ({description})"
    try:
        done = subprocess.run(
            [sys.executable, str(CHILD), str(MEMORY_LIMIT), *cases],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"reading {source} batch {batch} took over {TIME_LIMIT_S} s: {exc.stdout!r}")
    results: dict[tuple[str, str], dict[str, str]] = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        results[(row["file"], row["reader"])] = row
    problems = []
    for path, case in cases.items():
        if (path, "geoplan") not in results or (path, "pyosmium") not in results:
            reader = "geoplan" if (path, "geoplan") not in results else "pyosmium"
            pytest.fail(
                f"{case}: the {reader} reading ended the process (exit {done.returncode}): "
                f"{done.stderr[-2000:]}"
            )
        problem = judge(case, results[(path, "geoplan")], results[(path, "pyosmium")])
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)
    outcomes = [results[(path, "geoplan")]["outcome"] for path in cases]
    assert outcomes.count("read") >= 2 and outcomes.count("refused") >= 2, outcomes

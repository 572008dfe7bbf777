"""Build a province-size ``.osm.pbf`` by tiling a real extract, reproducibly.

A real city or small-country extract is copied ``--copies`` times side by
side (copy ``k`` shifted by whole multiples of the source's bounding box, its
node, way and relation ids offset by ``k * 2**33``) and written with
pyosmium's writer, nodes first, then ways, then relations, every type in
increasing id order as in a Geofabrik extract.  Andorra tiled 40 times gives
9.4 million nodes in 62.7 MiB -- a Chinese province's street network is of
that order -- without downloading anything.

The file is written to a cache folder outside the repository
(``$GEOPLAN_BENCH_CACHE``, default ``~/.cache/geoplan-bench``) and reused when
it is already there; it is never committed.

Run ``python benchmarks/tiled_extract.py`` (``--copies 40`` and Andorra from
the team's ``shared/data/osm`` by default); it prints the path.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
ID_OFFSET = 2**33  # above every node, way and relation id of a small extract
COLUMNS = 8


def cache_dir() -> Path:
    """The folder the tiled files are cached in (created when missing)."""
    folder = Path(os.environ.get("GEOPLAN_BENCH_CACHE", Path.home() / ".cache" / "geoplan-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tiled_extract(source: Path, *, copies: int, folder: Path | None = None) -> Path:
    """Write (once) and return ``source`` tiled ``copies`` times.

    Parameters
    ----------
    source
        A real ``.osm.pbf`` extract (whose ids are all below ``2**33``).
    copies
        How many shifted copies to write (in rows of :data:`COLUMNS`).
    folder
        Where to write it; default :func:`cache_dir`.

    Returns
    -------
    pathlib.Path
        The tiled file, ``<source stem>-x<copies>.osm.pbf``.
    """
    import osmium

    folder = folder or cache_dir()
    name = source.name.removesuffix(".osm.pbf")
    out = folder / f"{name}-x{copies}.osm.pbf"
    if out.is_file():
        return out
    box = osmium.FileProcessor(str(source)).header.box()
    width = box.top_right.lon - box.bottom_left.lon
    height = box.top_right.lat - box.bottom_left.lat
    partial = out.with_suffix(".partial")
    with osmium.SimpleWriter(osmium.io.File(str(partial), "pbf"), overwrite=True) as writer:
        for kind in (osmium.osm.NODE, osmium.osm.WAY, osmium.osm.RELATION):
            for k in range(copies):
                dlon, dlat = (k % COLUMNS) * width, (k // COLUMNS) * height
                offset = k * ID_OFFSET
                for obj in osmium.FileProcessor(str(source), kind):
                    if kind == osmium.osm.NODE:
                        loc = obj.location
                        writer.add_node(
                            obj.replace(
                                id=obj.id + offset,
                                location=osmium.osm.Location(loc.lon + dlon, loc.lat + dlat),
                            )
                        )
                    elif kind == osmium.osm.WAY:
                        nodes = [ref.ref + offset for ref in obj.nodes]
                        writer.add_way(obj.replace(id=obj.id + offset, nodes=nodes))
                    else:
                        members = [(m.type, m.ref + offset, m.role) for m in obj.members]
                        writer.add_relation(obj.replace(id=obj.id + offset, members=members))
    partial.rename(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=SHARED / "andorra.osm.pbf")
    parser.add_argument("--copies", type=int, default=40)
    args = parser.parse_args()
    start = time.perf_counter()
    out = tiled_extract(args.source, copies=args.copies)
    print(f"{out} ({out.stat().st_size / 2**20:.1f} MiB, {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

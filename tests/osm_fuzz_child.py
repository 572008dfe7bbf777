"""Run by test_pbf_fuzz.py in a subprocess with limited memory: read each file given.

Usage: ``python osm_fuzz_child.py MEMORY_BYTES FILE...``.  For each file it
prints one JSON line with geoplan's outcome (``read`` with a digest of the
ways, ``refused`` with the NetworkError's message, or ``raw`` with any other
exception), then one with the independent pyosmium reading's outcome, each
flushed before the next file, so that a crash shows which reading caused it.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from osm_files import ExpectedRefusalError, digest, pyosmium_reading

from geoplan._errors import NetworkError
from geoplan.streets._osm_file import read_highways
from geoplan.streets.osm import read_osm


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def main() -> None:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for name in sys.argv[2:]:
        path = Path(name)
        try:
            streets = read_osm(path, mode="walk")
            found = digest(read_highways(path, "pbf"))
        except NetworkError as exc:
            say(file=name, reader="geoplan", outcome="refused", message=str(exc))
        except BaseException as exc:  # everything else is a failure of the test
            say(file=name, reader="geoplan", outcome="raw", message=repr(exc))
        else:
            say(
                file=name, reader="geoplan", outcome="read", digest=found, edges=len(streets.edge_u)
            )
        try:
            found = digest(pyosmium_reading(path))
        except ExpectedRefusalError as exc:
            say(file=name, reader="pyosmium", outcome="refusal expected", message=str(exc))
        except Exception as exc:  # libosmium's errors, or undecodable text
            say(file=name, reader="pyosmium", outcome="error", message=repr(exc))
        else:
            say(file=name, reader="pyosmium", outcome="read", digest=found)


if __name__ == "__main__":
    main()

"""``python -m geoplan``: the same command line as ``geoplan``."""

from __future__ import annotations

import sys

from geoplan.cli import main

if __name__ == "__main__":
    sys.exit(main())

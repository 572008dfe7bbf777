"""``python -m geoplan`` and the ``geoplan`` command: the command line.

:func:`run` imports the command line only once Ctrl-C can be answered with one
line: starting up (pandas, geopandas, the network engine) takes a moment, and
an interrupt then must not print a traceback.
"""

from __future__ import annotations

import sys


def run() -> None:
    """Entry point of the ``geoplan`` command: run the CLI and exit with its status."""
    try:
        from geoplan.cli import INTERRUPTED, interrupted_message, main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted; nothing was written or changed.\n")
        raise SystemExit(130) from None
    try:
        status = main()
    except KeyboardInterrupt:  # between click's handler and the return
        sys.stderr.write(f"error: {interrupted_message()}\n")
        status = INTERRUPTED
    raise SystemExit(status)


if __name__ == "__main__":
    run()

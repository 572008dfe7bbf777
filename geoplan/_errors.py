"""The geoplan error and warning hierarchy.

Every error geoplan raises on purpose is a :class:`GeoplanError` and also the
built-in exception a Python user would expect (a missing file is also a
``FileNotFoundError``, a bad value also a ``ValueError``), so callers can catch
either.  Messages follow one pattern: what is wrong, the offending value shown
with ``!r``, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class GeoplanWarning(UserWarning):
    """Base class of every warning geoplan emits (likely mistakes, repairs)."""


class LayerNotFoundError(GeoplanError, FileNotFoundError):
    """A layer or study file does not exist."""


class LayerReadError(GeoplanError, ValueError):
    """A file exists but cannot be read as a layer (wrong format, corrupt, empty)."""


class CoordinateError(GeoplanError, ValueError):
    """Coordinates are missing, swapped, out of range or in an unknown CRS."""


class CRSError(CoordinateError):
    """A coordinate reference system name or definition is not recognised."""


class CriterionError(GeoplanError, ValueError):
    """A criterion, decay function or constraint is misconfigured."""


class WeightsError(GeoplanError, ValueError):
    """Criterion weights are negative, NaN, all zero or do not match the criteria."""


class ConsistencyError(WeightsError):
    """A pairwise comparison matrix is too inconsistent (AHP consistency ratio too high)."""


class NetworkError(GeoplanError, ValueError):
    """A street network cannot be loaded or routed on."""


class ChooseError(GeoplanError, ValueError):
    """A portfolio of sites cannot be chosen as asked (a constraint to relax is named)."""


class TransitError(GeoplanError, ValueError):
    """A transit feed or line description cannot be read or routed on."""


class OutputExistsError(GeoplanError, FileExistsError):
    """An output file exists and ``force`` was not given."""


class OutputWriteError(GeoplanError, PermissionError):
    """An output cannot be written (folder missing or not writable)."""


class OfflineAssetError(GeoplanError, ValueError):
    """An offline map links a script or stylesheet that geoplan does not ship."""


class BrowserNotFoundError(GeoplanError, FileNotFoundError):
    """No local Chromium to render map snapshots with."""


class SnapshotError(GeoplanError, RuntimeError):
    """A map page could not be opened or did not finish drawing."""


class StudyError(GeoplanError, ValueError):
    """A study definition has one or more problems.

    Parameters
    ----------
    problems : iterable of str
        Every problem found, each naming the key, the bad value and the fix.
    source : str, optional
        The study file the problems were found in.
    """

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        if len(self.problems) == 1:
            message = f"Study problem{where}: {self.problems[0]}"
        else:
            listed = "; ".join(f"({i}) {p}" for i, p in enumerate(self.problems, 1))
            message = f"{len(self.problems)} study problems{where}: {listed}"
        super().__init__(message)


def plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value, for messages.

    Messages show ``3.0`` and ``7``, not ``np.float64(3.0)`` and ``np.int64(7)``.
    """
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value

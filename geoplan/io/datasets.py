"""Sample data that ships with geoplan.

The Changzhou sample study lives in the repository's ``data/changzhou/``
folder and is packaged inside the wheel as ``geoplan/_sample/changzhou``;
:func:`get_path` finds it in either place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from geoplan._errors import LayerNotFoundError

__all__ = ["SAMPLES", "get_path"]

#: Sample studies by name.
SAMPLES: Final = ("changzhou",)

_PACKAGE: Final = Path(__file__).resolve().parents[1]  # geoplan/


def get_path(name: str = "changzhou") -> Path:
    """Path of a sample study's ``study.toml``.

    Parameters
    ----------
    name : str
        The sample's name (see :data:`SAMPLES`).

    Returns
    -------
    pathlib.Path
        The study file.

    Raises
    ------
    LayerNotFoundError
        If the sample is unknown or not installed.
    """
    if name not in SAMPLES:
        raise LayerNotFoundError(
            f"No sample study named {name!r}; the samples are {list(SAMPLES)!r}."
        )
    for folder in (_PACKAGE / "_sample" / name, _PACKAGE.parent / "data" / name):
        if (folder / "study.toml").is_file():
            return folder / "study.toml"
    raise LayerNotFoundError(
        f"The {name!r} sample study is not installed with this copy of geoplan; reinstall "
        "geoplan from its repository (pip install -e .)."
    )

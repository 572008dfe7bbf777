"""Writing outputs safely: by extension, atomically, never over a file by accident.

Every file geoplan writes goes through :func:`atomic_path`: the content is
written to a temporary file in the destination folder and moved into place
with :func:`os.replace` only when complete, so a failed run never leaves a
half-written file or damages an existing one.  An existing file is replaced
only with ``force=True``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
import shapely

from geoplan._errors import OutputExistsError, OutputWriteError

__all__ = ["OUTPUT_FORMATS", "atomic_path", "check_output_path", "write_layer", "write_text"]

logger = logging.getLogger(__name__)

#: Output formats by file extension.
OUTPUT_FORMATS: Final = {
    ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".csv": "CSV",
    ".parquet": "GeoParquet",
}


def check_output_path(path: str | Path, *, force: bool = False) -> Path:
    """Check that ``path`` may be written, creating its folder if needed.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.
    force : bool
        Allow replacing an existing file.

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    OutputExistsError
        If the file exists and ``force`` is false.
    OutputWriteError
        If the folder cannot be created or written to.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputWriteError(
            f"Output path {str(path)!r} is a folder; give a file name such as "
            f"{str(path / 'ranked.gpkg')!r}."
        )
    if path.exists() and not force:
        raise OutputExistsError(
            f"Output file {str(path)!r} already exists; geoplan never overwrites a file "
            "unless asked. Choose another name or pass --force (force=True) to replace it."
        )
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(
            f"Cannot create output folder {str(folder)!r} ({exc.strerror}). Choose a folder "
            "you can write to."
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputWriteError(
            f"Output folder {str(folder)!r} is not writable. Choose a folder you can write to "
            "or change its permissions."
        )
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; move it to ``path`` only on success.

    Parameters
    ----------
    path : str or pathlib.Path
        The final file.
    force : bool
        Allow replacing an existing file.

    Yields
    ------
    pathlib.Path
        A temporary file in the same folder, with the same suffix.
    """
    final = check_output_path(path, force=force)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent
        )
    except OSError as exc:
        raise OutputWriteError(
            f"Cannot create files in {str(final.parent)!r} (the system said: {exc.strerror}). "
            "Choose a folder you can write to."
        ) from exc
    os.close(handle)
    temp = Path(name)
    temp.unlink()  # some drivers refuse to write over an existing (empty) file
    try:
        yield temp
        if not force and final.exists():
            raise OutputExistsError(
                f"Output file {str(final)!r} appeared while geoplan was writing it; "
                "nothing was replaced. Pass --force to replace it."
            )
        os.replace(temp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    logger.info("wrote %s", final)


def write_text(text: str, path: str | Path, *, force: bool = False) -> Path:
    """Write UTF-8 text atomically.

    Parameters
    ----------
    text : str
        The content.
    path : str or pathlib.Path
        The file.
    force : bool
        Allow replacing an existing file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    with atomic_path(path, force=force) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)


def _table_for_csv(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """Points become lon/lat columns; other geometries a WKT column."""
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    geoms = layer.geometry
    if len(geoms) and bool((geoms.geom_type == "Point").all()):
        table["lon"] = geoms.x.round(7)
        table["lat"] = geoms.y.round(7)
    else:
        table["wkt"] = shapely.to_wkt(geoms.values, rounding_precision=7)
    return table


def write_layer(
    layer: gpd.GeoDataFrame, path: str | Path, *, force: bool = False, layer_name: str | None = None
) -> Path:
    """Write a GeoDataFrame in the format its extension names, atomically.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        What to write.
    path : str or pathlib.Path
        ``.gpkg``, ``.geojson``/``.json``, ``.csv`` (points as lon/lat columns,
        other shapes as WKT) or ``.parquet`` (GeoParquet).
    force : bool
        Allow replacing an existing file.
    layer_name : str, optional
        Layer name inside a GeoPackage (default: the file's stem).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OutputWriteError
        If the extension is not a supported format or the folder is not writable.
    OutputExistsError
        If the file exists and ``force`` is false.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise OutputWriteError(
            f"Cannot tell the output format from {path.name!r}; use one of the extensions "
            f"{sorted(OUTPUT_FORMATS)!r}."
        )
    with atomic_path(path, force=force) as temp:
        if suffix == ".gpkg":
            layer.to_file(temp, driver="GPKG", layer=layer_name or path.stem)
        elif suffix in (".geojson", ".json"):
            layer.to_file(temp, driver="GeoJSON")
        elif suffix == ".parquet":
            layer.to_parquet(temp)
        else:
            _table_for_csv(layer).to_csv(temp, index=False, encoding="utf-8-sig")
    return path

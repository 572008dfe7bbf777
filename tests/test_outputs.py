"""Outputs are atomic: a failed write leaves no partial file and never damages an existing one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

import geoplan as gp
from geoplan.io import outputs


def _layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["人才公寓", "b"]}, geometry=[Point(119.9, 31.7), Point(120.0, 31.8)], crs=4326
    )


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ranked.gpkg"
    gp.write_layer(_layer(), target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()

    def explode(self: gpd.GeoDataFrame, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", explode)
    with pytest.raises(OSError, match="disk full"):
        gp.write_layer(_layer(), target, force=True)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranked.gpkg"]


def test_refuses_existing_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "t.geojson"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(gp.OutputExistsError, match="--force") as info:
        gp.write_layer(_layer(), target)
    assert isinstance(info.value, FileExistsError)
    assert target.read_text(encoding="utf-8") == "mine"
    gp.write_layer(_layer(), target, force=True)
    assert len(gpd.read_file(target)) == 2


def test_csv_is_excel_friendly_utf8_with_lon_lat(tmp_path: Path) -> None:
    gp.write_layer(_layer(), tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese text correctly
    assert raw.decode("utf-8-sig").splitlines()[0] == "name,lon,lat"


def test_write_text_atomic(tmp_path: Path) -> None:
    outputs.write_text("a", tmp_path / "x.toml")
    with pytest.raises(gp.OutputExistsError):
        outputs.write_text("b", tmp_path / "x.toml")
    assert (tmp_path / "x.toml").read_text(encoding="utf-8") == "a"

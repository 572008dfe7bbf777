"""Walk + metro in study files: the [transit] table, mode = "transit" and "ebike"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import edit_study as _edit
from test_transit_gtfs import line_feed
from transit_reference import write_feed

import geoplan as gp


def test_sample_ranks_with_walk_and_metro(sample_study_path: Path) -> None:
    study = gp.load_study(sample_study_path)
    assert study.transit_service is not None
    assert sorted({p.line for p in study.transit_service.patterns}) == ["1", "2"]
    ranked = gp.rank_sites(study)
    crs = study.metric_crs
    metric = gp.TransitMetric(study.transit_service, walk_detour=1.3, transfer_penalty_min=5)
    expected = gp.sum_within(
        study.layers["candidates"].to_crs(crs), study.layers["parks"].to_crs(crs),
        column="jobs", max_minutes=45, metric=metric,
    )  # fmt: skip
    by_id = ranked.set_index("site_id")
    ids = study.layers["candidates"]["site_id"]
    np.testing.assert_allclose(by_id.loc[ids, "value__metro_commute__jobs"], expected.to_numpy())
    metro = by_id["detail__metro_commute"].str.contains("min Line")
    assert (
        metro.sum() >= 3
        and by_id["detail__metro_commute"].str.endswith("(no street network)").all()
    )
    meta = {c["name"]: c for c in ranked.attrs["geoplan"]["criteria"]}
    assert "straight line × 1.3" in meta["metro_commute"]["metric"]


def test_transit_problems_are_reported_with_the_fix(study_dir: Path) -> None:
    path = _edit(study_dir, '"L1-03", "L1-04"', '"L1-03", "L1-O4"')
    with pytest.raises(
        gp.StudyError,
        match=r"\[transit\]: lines\[0\] \(1\).stations: 'L1-O4' is not an id or name.*Did you mean \[.*'L1-04'",
    ):
        gp.load_study(path)
    _edit(study_dir, '"L1-03", "L1-O4"', '"L1-03", "L1-04"')
    _edit(study_dir, 'mode = "transit"', 'mode = "transit"\nmetric = "straight"')
    with pytest.raises(gp.StudyError, match='mode = "transit" measures walk . metro minutes'):
        gp.load_study(study_dir / "study.toml")
    _edit(study_dir, 'mode = "transit"\nmetric = "straight"', 'mode = "transit"')
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    transit = text[text.index("# --- Metro lines") : text.index("# --- Hard")]
    (study_dir / "study.toml").write_text(text.replace(transit, ""), encoding="utf-8")
    with pytest.raises(
        gp.StudyError,
        match=r"\['metro_commute'\] use mode = \"transit\" but the study has no \[transit\]",
    ):
        gp.load_study(study_dir / "study.toml")


def test_a_study_with_a_gtfs_feed_and_a_transit_constraint(study_dir: Path) -> None:
    write_feed(study_dir, line_feed(), zip_name="feed.zip")
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    lines = text[text.index("[[transit.lines]]") : text.index("# --- Hard")]
    text = text.replace(lines, "").replace(
        "walk_speed_kmh = 4.8", 'walk_speed_kmh = 4.8\ngtfs = "feed.zip"\ndate = "2025-10-07"'
    )
    text += '\n[[constraints]]\nkind = "max_distance"\nlayer = "parks"\nmode = "transit"\nmax_minutes = 60\n'
    (study_dir / "study.toml").write_text(text, encoding="utf-8")
    study = gp.load_study(study_dir / "study.toml")
    assert study.transit_service is not None and study.transit["gtfs"].endswith("feed.zip")
    assert len(study.transit["sha256"]) == 64
    ranked = gp.rank_sites(study)  # the test feed runs in Porto: every trip is a walk here
    assert ranked["detail__metro_commute"].str.contains("min walk").all()
    assert ranked["reason"].str.contains(r"away \(limit 60.0 min, walk \+ metro time").any()
    again = gp.load_study(_resolved(study, study_dir))
    assert again.transit == study.transit


def _resolved(study: gp.Study, folder: Path) -> Path:
    path = folder / "effective.toml"
    path.write_text(study.to_toml(), encoding="utf-8")
    return path


def test_effective_study_keeps_the_lines(sample_study_path: Path, tmp_path: Path) -> None:
    import copy
    import tomllib

    raw = tomllib.loads(sample_study_path.read_text(encoding="utf-8"))
    raw["transit"]["lines"][0]["track"] = "nowhere.geojson"
    before = copy.deepcopy(raw)
    with pytest.raises(gp.StudyError, match="nowhere.geojson"):
        gp.study_from_dict(raw, folder=sample_study_path.parent)
    assert raw == before, "the study's tables are not changed"
    study = gp.load_study(sample_study_path)
    again = gp.load_study(_resolved(study, tmp_path))
    assert again.transit["lines"] == study.transit["lines"]
    assert again.transit_service is not None and study.transit_service is not None
    for a, b in zip(again.transit_service.patterns, study.transit_service.patterns, strict=True):
        np.testing.assert_array_equal(a.stops, b.stops)
        np.testing.assert_allclose(a.ride, b.ride)


def test_ebike_rides_bike_ways_at_20_kmh() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    source = pyrosm.get_data("test_pbf")
    bike = gp.load_network(source, mode="bike")
    ebike = gp.load_network(source, mode="ebike")
    np.testing.assert_array_equal(bike.edge_u, ebike.edge_u)
    np.testing.assert_array_equal(bike.edge_v, ebike.edge_v)
    np.testing.assert_allclose(ebike.edge_minutes_forward, ebike.edge_length_m / (20_000 / 60))
    assert gp.NetworkMetric(ebike, unit="min").label == "e-bike time along streets"


def test_a_line_with_its_real_track(study_dir: Path, shared_data: Path) -> None:
    """The track (real Changzhou Line 1 geometry, read from the shared data, not copied) is
    drawn, and speed_kmh runs along it."""
    tracks = gp.read_layer(shared_data / "changzhou_metro_tracks_wgs84.geojson")
    line1 = tracks[tracks["line"].astype(str) == "1"].iloc[[0]]
    line1.to_file(study_dir / "line1.geojson", driver="GeoJSON")
    plain_study = gp.load_study(study_dir / "study.toml")
    path = _edit(study_dir, 'color = "#1f5fae"', 'color = "#1f5fae"\ntrack = "line1.geojson"')
    study = gp.load_study(path)
    assert study.transit_service is not None and plain_study.transit_service is not None
    drawn = study.transit_service.lines.set_index("line").geometry
    assert drawn["1"].equals(line1.geometry.iloc[0])
    along = study.transit_service.patterns[0].ride[0, -1]
    straight = plain_study.transit_service.patterns[0].ride[0, -1]
    assert along > straight * 1.02  # the track bends between stations
    assert study.transit["lines"][0]["track"] == str((study_dir / "line1.geojson").resolve())

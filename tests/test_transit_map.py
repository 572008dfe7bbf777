"""Walk + metro on the map: lines in their colours, the trip in each popup, transit isochrones."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from test_maps_browser import Page, _open, browser  # noqa: F401  (the browser fixture)

import geoplan as gp


@pytest.fixture(scope="module")
def sample(sample_study_path: Path) -> tuple[gp.Study, Any]:
    study = gp.load_study(sample_study_path)
    return study, gp.rank_sites(study)


@pytest.fixture(scope="module")
def sample_study_path() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"


def _page_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="geoplan-data">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_sample_map_draws_the_lines_and_says_how_walks_are_measured(
    sample: tuple[gp.Study, Any], tmp_path: Path
) -> None:
    study, ranked = sample
    html = gp.save_map(gp.make_map(ranked, study, basemap="none"), tmp_path / "m.html").read_text()
    data = _page_data(html)
    layers = [v for v in data.values() if isinstance(v, dict) and "data" in v]
    lines = [
        f for layer in layers for f in layer["data"]["features"]
        if f["geometry"]["type"] == "LineString"
    ]  # fmt: skip
    assert len(lines) == 2
    colours = {f["properties"]["_s"]["color"] for f in lines}
    assert colours == {"#1f5fae", "#e0542e"}
    stations = study.layers["stations"].set_index("station_id")
    line1 = next(f for f in lines if f["properties"]["_s"]["color"] == "#1f5fae")
    expected = shapely.get_coordinates(stations.loc[[f"L1-{i:02d}" for i in range(1, 30)]].geometry)
    np.testing.assert_allclose(line1["geometry"]["coordinates"], expected, atol=1e-6)
    assert "地铁线路 Metro lines" in html
    assert "walk + metro time (walks: straight line × 1.3 at 4.8 km/h (no street network))" in html
    sites = next(v for v in layers if "meta" in v)
    assert sites["meta"]["details"][0]["label"] == "Park jobs within 45 min by walk + metro"
    trips = [f["properties"]["dt"][0] for f in sites["data"]["features"]]
    assert any(re.match(r"^\d+ min walk, \d+ min wait, \d+ min Line [12]", t) for t in trips)
    assert "detail__metro_commute" in ranked.columns


def test_transit_isochrones_are_labelled_on_the_map(sample: tuple[gp.Study, Any]) -> None:
    study, ranked = sample
    metric = gp.TransitMetric(study.transit_service)
    start = ranked.iloc[:1].to_crs(4549)
    iso = gp.transit_isochrones(metric, start, minutes=(20, 40))
    html = gp.make_map(ranked, study, basemap="none", isochrones=iso).get_root().render()
    assert "步行+地铁等时圈 Walk + metro isochrones" in html


@pytest.fixture
def sample_page(browser: Any, sample: tuple[gp.Study, Any], tmp_path: Path) -> Iterator[Page]:  # noqa: F811
    study, ranked = sample
    path = gp.save_map(gp.make_map(ranked, study, basemap="none"), tmp_path / "sample.html")
    yield from _open(browser, path)


@pytest.mark.browser
def test_popup_shows_how_the_trip_is_made_up(
    sample_page: Page, sample: tuple[gp.Study, Any]
) -> None:
    _, ranked = sample
    x, y = sample_page.site_point("p.dt && /min Line/.test(p.dt[0]) && p.e === 1")
    sample_page.page.mouse.click(x, y)
    text = sample_page.page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "步行+地铁45分钟内可达的产业园区就业岗位" in text  # the criterion the trip belongs to
    shown = max((t for t in ranked["detail__metro_commute"] if t in text), key=len)
    assert re.search(r"^\d+ min walk, \d+ min wait, \d+ min Line [12]", shown)
    assert sample_page.console_errors == []

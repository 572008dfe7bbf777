"""``geoplan compare`` and the comparison map: outputs written together, never over a file,
text from scenarios and data only as page data, and a switcher that works in a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from test_map_data_not_code import assert_data_not_code, hostile_study, payloads

from geoplan.cli import cli, main
from geoplan.scenarios.compare import compare
from geoplan.study.files import load_study

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "changzhou"
SCENARIOS = SAMPLE / "scenarios.toml"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".gpkg"])
def test_cli_compare_writes_the_table_summary_study_and_map(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"compare{suffix}"
    args = ["compare", str(SAMPLE / "study.toml"), "--scenarios", str(SCENARIOS)]
    args += ["--out", str(out), "--map", str(tmp_path / "compare.html"), "--top", "5", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    if suffix == ".xlsx":
        sites = pd.read_excel(out, sheet_name="sites")
        summary = pd.read_excel(out, sheet_name="summary")
    elif suffix == ".csv":
        sites = pd.read_csv(out)
        summary = pd.read_csv(tmp_path / "compare.summary.csv")
    else:
        sites = pyogrio.read_dataframe(out, layer="sites")
        summary = pyogrio.read_dataframe(out, layer="summary")
    assert len(sites) == 5 * 48 and set(sites["scenario"]) == {
        "base",
        "line2_east",
        "talent_office_weights",
        "flood_storage_lifted",
        "new_science_park",
    }
    assert summary["scenario"].tolist()[0] == "base" and len(summary) == 5
    assert (tmp_path / f"compare{suffix}.study.toml").is_file()
    page = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "window.geoplanCompare" in page and "cdn.jsdelivr" not in page
    # Never over an existing file; nothing written when refused.
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "--force" in str(again.exception or again.output)
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0


def test_cli_compare_reports_a_bad_scenario_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[scenarios]]\nname = "x"\nweights = { nope = 1 }\n', encoding="utf-8")
    out = tmp_path / "c.csv"
    code = main(["compare", str(SAMPLE / "study.toml"), "--scenarios", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    assert "'nope' is not a criterion" in err and not out.exists()


def test_the_comparison_map_holds_scenario_text_only_as_data(tmp_path: Path) -> None:
    from geoplan.maps.build import map_html
    from geoplan.maps.compare import compare_map

    sentinel = tmp_path / "PWNED"
    p = payloads(sentinel)
    study = load_study(hostile_study(tmp_path / "study", p))
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text(
        "[[scenarios]]\n"
        'name = "evil"\n'
        f"label = {json.dumps(p['jinja_expr'])}\n"
        f"label_zh = {json.dumps(p['html'])}\n"
        f"description = {json.dumps(p['jinja_rce'])}\n"
        "weights = { metro_access = 0.9 }\n",
        encoding="utf-8",
    )
    page = map_html(compare_map(compare(study, scenarios), basemap="none"))
    assert_data_not_code(page, sentinel, [p["jinja_expr"], p["html"], p["jinja_rce"]])


@pytest.mark.browser
def test_the_switcher_recolours_the_sites(tmp_path: Path) -> None:
    from test_maps_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

    from geoplan.maps.build import save_map
    from geoplan.maps.compare import compare_map

    sync_playwright = _need_browser()
    comparison = compare(load_study(SAMPLE / "study.toml"), SCENARIOS)
    path = save_map(compare_map(comparison, basemap="none"), tmp_path / "compare.html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function("() => window.geoplanCompare !== undefined")
            options = page.eval_on_selector_all(
                "select.gp-compare-run option", "els => els.map(e => e.textContent)"
            )
            assert options == [
                (f"{s.label_zh} {s.title}" if s.label_zh else s.title) for s in comparison.scenarios
            ]
            first = page.evaluate(
                "() => window.geoplanCompare.markers.map(m => m.options.fillColor)"
            )
            page.select_option("select.gp-compare-run", "talent_office_weights")
            second = page.evaluate(
                "() => window.geoplanCompare.markers.map(m => m.options.fillColor)"
            )
            assert first != second, "choosing another scenario recolours the sites"
            assert page.evaluate("() => window.geoplanCompare.state.run") == "talent_office_weights"
            assert errors == []
        finally:
            browser.close()

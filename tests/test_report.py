"""Study reports: the HTML built from a fixed template, and the PDF printed by Chromium."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_study import AHP_TABLE

import geoplan as gp
from geoplan.report import report_html
from geoplan.report.build import ahp_consistency

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "changzhou"


def pages_of(page: str) -> int:
    """The report's sections: each starts a page of its own."""
    return len(re.findall(r'<section class="page ', page))


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


@pytest.fixture(scope="module")
def sample() -> tuple[gp.Study, pd.DataFrame]:
    study = gp.load_study(SAMPLE / "study.toml")
    return study, gp.rank_sites(study)


def _top_names(ranked: pd.DataFrame, n: int, column: str = "name") -> list[str]:
    return [str(v) for v in ranked.loc[ranked["eligible"], column].head(n)]


def test_report_holds_every_part(sample: tuple[gp.Study, pd.DataFrame]) -> None:
    study, ranked = sample
    page = report_html(study, ranked, lang="en", top=3, map_png=b"\x89PNG fake")
    assert pages_of(page) == 5 + 3  # cover, map, table, 3 dossiers, excluded, sources
    assert page.count('<section class="page dossier">') == 3
    for name in _top_names(ranked, 3):
        assert html.escape(name) in page
    fourth = _top_names(ranked, 4)[3]
    assert html.escape(fourth) not in page.split('<section class="page closing">')[0]
    assert page.count("data:image/png;base64,") == 1 + 3  # the map and one inset per dossier
    assert len(ranked[~ranked["eligible"]]) <= 20  # the report lists the first twenty
    for _, row in ranked[~ranked["eligible"]].iterrows():  # every excluded site and why
        assert html.escape(str(row["reason"])) in page
    digest = hashlib.sha256((SAMPLE / "candidates.csv").read_bytes()).hexdigest()
    assert digest in page and "candidates.csv" in page
    assert "AHP" not in page  # direct weights: no consistency ratio to report
    breakdown = gp.explain_site(ranked, 1)
    for value in breakdown["contribution"]:
        assert f"{value:,.3f}" in page
    assert "Robustness" not in page  # the ranking has none


def test_report_language(sample: tuple[gp.Study, pd.DataFrame]) -> None:
    study, ranked = sample
    zh = report_html(study, ranked, lang="zh", top=2, insets=False)
    assert "选址研究报告" in zh and "Site study report" not in zh
    assert html.escape(study.title_zh) in zh
    both = report_html(study, ranked, lang="zh+en", top=2, insets=False)
    assert "选址研究报告 Site study report" in both
    no_map = report_html(study, ranked, lang="en", top=1, insets=False, map_error="no <b>")
    assert "(no map: no &lt;b&gt;)" in no_map


def test_report_robustness_and_life_circle_gaps(sample: tuple[gp.Study, pd.DataFrame]) -> None:
    from geoplan.decide.robustness import add_robustness

    study, ranked = sample
    robust = add_robustness(ranked, draws=200, top_k=3)
    # A ranking whose study checks life circles: one criterion of that kind, its gaps in words.
    meta = dict(robust.attrs["geoplan"])
    meta["criteria"] = [dict(m) for m in meta["criteria"]]
    meta["criteria"][3]["kind"] = "life_circle"
    robust.attrs["geoplan"] = meta
    name = meta["criteria"][3]["name"]
    robust[f"detail__{name}"] = "缺：社区卫生服务站 | lacks: community health station"
    page = report_html(study, robust, lang="en", top=2, insets=False)
    first = robust[robust["eligible"]].iloc[0]
    assert f"In the top 3 in {100 * first['p_top_k']:.0f}% of 200 random weightings" in page
    assert page.count("Life-circle gaps") == 2
    assert "lacks: community health station" in page and "社区卫生服务站" not in page
    zh = report_html(study, robust, lang="zh", top=1, insets=False)
    assert "社区卫生服务站" in zh and "lacks: community" not in zh


def test_report_says_the_ahp_consistency(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    shutil.copytree(SAMPLE, folder)
    path = folder / "study.toml"
    path.write_text(path.read_text(encoding="utf-8") + AHP_TABLE, encoding="utf-8")
    study = gp.load_study(path)
    judgements = [line.strip().strip('",') for line in AHP_TABLE.splitlines() if ">" in line]
    expected = gp.ahp_weights(judgements).cr
    assert ahp_consistency(study) == [("", pytest.approx(expected), 0.10)]
    page = report_html(study, gp.rank_sites(study), lang="en", top=1, insets=False)
    assert f"AHP consistency ratio CR = {expected:.3f} (acceptably consistent; limit 0.1)" in page


def test_report_needs_a_top_site(sample: tuple[gp.Study, pd.DataFrame]) -> None:
    study, ranked = sample
    with pytest.raises(gp.GeoplanError, match="at least one top site"):
        report_html(study, ranked, top=0)


# --------------------------------------------------------------------------------------
# The PDF, through the command line (needs the local Chromium)
# --------------------------------------------------------------------------------------


@pytest.mark.browser
def test_cli_report_of_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample: tuple[gp.Study, pd.DataFrame]
) -> None:
    from test_maps_browser import _need_browser

    from geoplan.cli import main

    _need_browser()
    _, ranked = sample
    pdf = tmp_path / "report.pdf"
    args = ["-q", "report", str(SAMPLE / "study.toml"), "--out", str(pdf), "--top", "3"]
    assert main([*args, "--lang", "en", "--robustness", "200"]) == 0
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    assert pdf_pages(data) == 5 + 3  # each section on a page of its own, none overflowing
    twin = (tmp_path / "report.html").read_text(encoding="utf-8")
    for name in _top_names(ranked, 3):
        assert html.escape(name) in twin
    assert "Robustness" in twin and '<img alt="map" src="data:image/png;base64,' in twin
    capsys.readouterr()

    # Never over an existing file without --force: one line, status 1, nothing changed.
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "--force" in err
    assert pdf.read_bytes() == data
    assert main([*args, "--force", "--lang", "zh"]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.read_bytes() != data
    assert "选址研究报告" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf"]


def test_cli_report_needs_a_pdf_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geoplan.cli import main

    out = tmp_path / "report.docx"
    assert main(["-q", "report", str(SAMPLE / "study.toml"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "report.pdf" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_report_says_each_officials_consistency(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    shutil.copytree(SAMPLE, folder)
    path = folder / "study.toml"
    judgements = [line.strip().strip('",') for line in AHP_TABLE.splitlines() if ">" in line]
    other = [j.replace(": 2", ": 3") for j in judgements]
    table = (
        '\n[weights]\nmethod = "group_ahp"\n\n[weights.officials]\n'
        f"director = {judgements!r}\n".replace("'", '"')
        + f"talent_office = {other!r}\n".replace("'", '"')
    )
    path.write_text(path.read_text(encoding="utf-8") + table, encoding="utf-8")
    study = gp.load_study(path)
    group = gp.group_ahp({"director": judgements, "talent_office": other})
    found = ahp_consistency(study)
    assert [who for who, _, _ in found][1:] == ["director", "talent_office"]
    assert found[0][1] == pytest.approx(group.group.cr)
    assert found[2][1] == pytest.approx(group.individual["talent_office"].cr)
    page = report_html(study, gp.rank_sites(study), lang="en", top=1, insets=False)
    assert f"group (geometric mean): AHP consistency ratio CR = {group.group.cr:.3f}" in page
    assert f"talent_office: AHP consistency ratio CR = {found[2][1]:.3f}" in page

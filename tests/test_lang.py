"""Chinese first: reasons, explanations, tables and Excel in zh, en and zh+en."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from geoplan._errors import GeoplanError
from geoplan.cli import cli
from geoplan.io import lang, tables
from geoplan.study.files import load_study
from geoplan.study.ranking import rank_sites

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "changzhou" / "study.toml"

FIELDS = {
    "label": "exclusion zone",
    "name": "Gehu red line",
    "distance": "1.2 km",
    "limit": "500 m",
    "metric": "straight-line distance",
    "column": "capacity",
    "value": "150",
    "title": "Distance to metro station",
}


@pytest.fixture(scope="module")
def study() -> object:
    if not SAMPLE.is_file():
        pytest.skip("sample study not found")
    return load_study(SAMPLE)


def test_check_lang_accepts_the_three_and_explains_the_rest() -> None:
    assert [lang.check_lang(x) for x in ("zh", "EN", "en+zh", "中文")] == [
        "zh",
        "en",
        "zh+en",
        "zh",
    ]
    with pytest.raises(GeoplanError, match=r"'fr'.*'zh'.*'en'.*'zh\+en'"):
        lang.check_lang("fr")


@pytest.mark.parametrize("code", sorted(lang.REASONS))
def test_every_reason_reads_back_from_english(code: str) -> None:
    """The English form is also the pattern: an English table's reasons come back in Chinese."""
    template = lang.REASONS[code]
    fields = {k: v for k, v in FIELDS.items() if "{" + k + "}" in template.en}
    english = lang.reason(code, "en", **fields)
    assert english == template.en.format(**fields)
    chinese = lang.reason(code, "zh", **fields)
    assert chinese != english and not chinese.isascii()
    assert lang.translate_reasons(english, "zh") == chinese
    assert lang.translate_reasons(english, "zh+en") == f"{chinese} / {english}"
    assert lang.translate_reasons(f"{english}; {english}", "zh") == f"{chinese}; {chinese}"


def test_layer_labels_units_and_values_in_chinese() -> None:
    assert lang.reason("inside", "zh", label="exclusion zone", name="X") == "位于禁建区“X”内"
    assert lang.format_value(1234.0, "m", "zh") == "1.2公里"
    assert lang.format_value(420.0, "m", "en") == "420 m"
    assert lang.format_value(float("inf"), "min", "zh") == "不可达"
    assert lang.format_value(3, "count", "zh+en") == "3个 3"
    assert lang.translate_reasons("已在中文", "zh") == "已在中文"


def test_english_reasons_and_explanations_are_unchanged(study: object) -> None:
    ranked = rank_sites(study)  # type: ignore[arg-type]
    c39 = ranked.set_index("site_id").loc["C39"]
    assert c39["reason"].startswith("inside exclusion zone '")
    assert ranked.loc[0, "explanation"].startswith("#1 of ")
    assert " -> " in ranked.loc[0, "explanation"]


def test_chinese_ranking_names_features_in_chinese(study: object) -> None:
    en = rank_sites(study).set_index("site_id")  # type: ignore[arg-type]
    zh = rank_sites(study, lang="zh").set_index("site_id")  # type: ignore[arg-type]
    assert (zh["score"] == en["score"]).all() and (zh["rank"].equals(en["rank"]))
    exclusions = study.layers["exclusions"]  # type: ignore[attr-defined]
    red_line = exclusions.loc[exclusions["zone_id"] == "X01", "name_zh"].iloc[0]
    assert zh.loc["C39", "reason"].startswith(f"位于禁建区“{red_line}”内")
    assert zh.loc["C23", "reason"] == "capacity 150 低于下限 200"
    best = zh[zh["rank"] == 1].iloc[0]
    assert best["explanation"].startswith("第1名（共")
    assert "距地铁站距离：" in best["explanation"] and " → " in best["explanation"]
    # every English reason of the table reads back as the Chinese one, names aside
    both = rank_sites(study, lang="zh+en").set_index("site_id")  # type: ignore[arg-type]
    assert both.loc["C23", "reason"] == f"capacity 150 低于下限 200 / {en.loc['C23', 'reason']}"


def test_tables_for_people_are_rounded_and_headed_in_chinese(study: object) -> None:
    ranked = rank_sites(study)  # type: ignore[arg-type]
    people = tables.for_people(ranked, "zh")
    assert "排名" in people.columns and "综合得分" in people.columns
    assert "距地铁站距离：原始值（米）" in people.columns
    assert "距地铁站距离：得分" in people.columns
    score = people["综合得分"].dropna()
    assert (score.round(3) == score).all()
    metres = people["距地铁站距离：原始值（米）"]
    assert (metres == metres.round(0)).all()
    assert people.geometry.name == "geometry"
    english = tables.for_people(ranked, "en")
    assert list(english.columns) == list(ranked.columns)
    back = tables.canonical(pd.DataFrame(people), tables.criteria_of(ranked))
    assert list(back.columns) == list(ranked.columns)
    bilingual = tables.for_people(ranked, "zh+en")
    assert "排名 rank" in bilingual.columns
    assert list(tables.canonical(pd.DataFrame(bilingual), tables.criteria_of(ranked)).columns) == (
        list(ranked.columns)
    )


def test_cli_writes_excel_with_three_sheets_in_chinese(tmp_path: Path) -> None:
    if not SAMPLE.is_file():
        pytest.skip("sample study not found")
    out = tmp_path / "ranked.xlsx"
    result = CliRunner().invoke(cli, ["rank", str(SAMPLE), "--out", str(out), "--lang", "zh", "-q"])
    assert result.exit_code == 0, result.output
    assert "不符合条件" in result.output and f"已写入 {out}" in result.output
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["地块排名", "指标与权重", "不符合条件地块"]
    ranked = list(book["地块排名"].values)
    header = list(ranked[0])
    assert header[:2] == ["site_id", "name"] or "排名" in header
    assert "综合得分" in header and "经度" in header and "纬度" in header
    assert len(ranked) == 1 + 48
    criteria = list(book["指标与权重"].values)
    assert criteria[0][0] == "指标" and len(criteria) == 1 + 5
    weights = [row[4] for row in criteria[1:]]
    assert sum(weights) == pytest.approx(1.0, abs=1e-3)
    excluded = list(book["不符合条件地块"].values)
    reason_col = list(excluded[0]).index("不符合原因")
    n_excluded = int((~rank_sites(load_study(SAMPLE))["eligible"]).sum())
    assert len(excluded) - 1 == n_excluded > 0
    assert all(not str(row[reason_col]).isascii() for row in excluded[1:])
    assert (tmp_path / "ranked.xlsx.study.toml").is_file()


def test_cli_map_reads_a_chinese_table(tmp_path: Path) -> None:
    if not SAMPLE.is_file():
        pytest.skip("sample study not found")
    table = tmp_path / "ranked.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["rank", str(SAMPLE), "--out", str(table), "--lang", "zh", "-q"])
    assert result.exit_code == 0, result.output
    assert "排名" in table.read_text(encoding="utf-8-sig").splitlines()[0]
    page = tmp_path / "m.html"
    result = runner.invoke(
        cli, ["map", str(table), "--out", str(page), "--basemap", "none", "--lang", "zh"]
    )
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "距地铁站距离" in html and "Candidate sites" not in html

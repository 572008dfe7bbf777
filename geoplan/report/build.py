"""Study reports: one PDF (and its HTML twin) that a planning bureau can file.

:func:`report_html` writes the report as one self-contained HTML document
from a small, fixed template written here in Python: every text that comes
from the study, its layers or the ranking (titles, site and layer names,
reasons, labels, file names) goes through :func:`html.escape` and is never
compiled as a template.  Pictures are embedded as ``data:`` URIs.
:func:`study_report` ranks the study, photographs its map, writes the HTML
and prints it to PDF with the local headless Chromium
(:func:`geoplan.maps.snapshot.print_page_pdf`), both files atomically.

The report holds, in order: the title page with the method and the weights
(with the AHP consistency ratio when the weights come from AHP) and the hard
constraints; the map; the ranked table of the top sites; one dossier page per
top site (an inset map of its nearest station and park, the score breakdown,
robustness when the ranking has it, life-circle gaps when the study checks
them); the excluded sites with their reasons (the first twenty); and the data
sources with their SHA-256 hashes.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import pyproj

from geoplan import __version__
from geoplan._errors import GeoplanError, OutputWriteError, SnapshotError
from geoplan.io import outputs
from geoplan.io.lang import check_lang, format_value, pick
from geoplan.io.lang import label as say
from geoplan.study._checks import sha256
from geoplan.study.files import Study
from geoplan.study.ranking import rank_sites

__all__ = ["REPORT_CSS", "ReportFiles", "report_html", "study_report", "twin_path"]

logger = logging.getLogger(__name__)

#: Who the group's own consistency ratio belongs to (said as "group (geometric mean)").
GROUP: Final = "\x00group"

#: How many excluded sites the last page lists (the ranked table has them all).
MAX_EXCLUDED: Final = 20

#: The report's style sheet: A4 pages, one section per page.
REPORT_CSS: Final = """
@page { size: A4; margin: 15mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "DejaVu Sans", sans-serif;
       font-size: 10pt; color: #1d232b; margin: 0; line-height: 1.45; }
.page { break-before: page; page-break-before: always; }
.page:first-of-type { break-before: auto; page-break-before: auto; }
h1 { font-size: 20pt; margin: 0 0 4pt; color: #12324f; }
h2 { font-size: 14pt; margin: 0 0 8pt; color: #12324f; border-bottom: 1.5pt solid #12324f;
     padding-bottom: 3pt; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; color: #12324f; }
.subtitle { font-size: 12pt; color: #4a5563; margin-bottom: 14pt; }
.muted { color: #5f6b7a; font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 9pt; }
th, td { border-bottom: 0.6pt solid #c9d0d8; padding: 2.5pt 4pt; text-align: left;
         vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 1pt solid #1d232b; }
.map img { width: 100%; border: 0.6pt solid #c9d0d8; }
.dossier .top { display: flex; gap: 10pt; align-items: flex-start; }
.dossier .inset { flex: 0 0 56%; }
.dossier .inset img { width: 100%; border: 0.6pt solid #c9d0d8; }
.dossier .facts { flex: 1; font-size: 9pt; }
.dossier .facts dt { font-weight: 600; color: #12324f; margin-top: 4pt; }
.dossier .facts dd { margin: 0; }
.key span { display: inline-block; margin-right: 8pt; }
.closing table { font-size: 8pt; }
.nw { white-space: nowrap; }
.sha { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.note { font-size: 8.5pt; color: #3a4450; }
"""


def e(value: object) -> str:
    """Any value as HTML text: escaped, quotes included (the only way text enters the page)."""
    return html.escape("" if value is None else str(value), quote=True)


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: object) -> str:
    return "" if _missing(value) else str(value)


def twin_path(pdf: str | Path) -> Path:
    """The HTML twin of a report: same folder and name, ``.html``."""
    return Path(pdf).with_suffix(".html")


@dataclass(frozen=True)
class ReportFiles:
    """The files :func:`study_report` wrote."""

    pdf: Path
    html: Path


# --------------------------------------------------------------------------------------
# The parts of the report
# --------------------------------------------------------------------------------------


class _Report:
    """One report being written: the study, its ranking, the language."""

    def __init__(
        self,
        study: Study,
        ranked: gpd.GeoDataFrame,
        *,
        lang: str,
        top: int,
        map_png: bytes | None,
        map_error: str | None,
        insets: bool,
    ) -> None:
        self.study = study
        self.ranked = ranked
        self.lang = lang
        self.top = top
        self.map_png = map_png
        self.map_error = map_error
        self.insets = insets
        # Quantities once: "827 m" (both languages read it), "827米" in a Chinese report.
        self.number_lang = "zh" if lang == "zh" else "en"
        self.meta: dict[str, Any] = dict(ranked.attrs.get("geoplan", {}))
        self.criteria: list[dict[str, Any]] = list(self.meta.get("criteria") or [])
        crs = self.meta.get("metric_crs") or study.metric_crs
        self.crs = pyproj.CRS(crs) if crs is not None else None

    # -- words ---------------------------------------------------------------------------

    def say(self, key: str, **fields: object) -> str:
        """A fixed label in the report's language, escaped (its fields may be user text)."""
        return e(say(key, self.lang, sep=" ", **fields))

    def both(self, zh: object, en: object) -> str:
        """A user text given in Chinese and English, in the report's language, escaped."""
        return e(pick(_text(zh), _text(en), self.lang))

    def title(self) -> str:
        return self.both(self.study.title_zh, self.study.title)

    def site_name(self, row: pd.Series) -> str:
        return self.both(row.get("name_zh"), row.get("name", row.get("site_id", "")))

    def criterion_name(self, meta: dict[str, Any]) -> str:
        return self.both(meta.get("label_zh"), meta.get("label") or meta.get("name"))

    @property
    def eligible(self) -> pd.DataFrame:
        return self.ranked[self.ranked["eligible"].astype(bool)]

    @property
    def top_sites(self) -> pd.DataFrame:
        return self.eligible.head(self.top)

    # -- sections ------------------------------------------------------------------------

    def cover(self) -> str:
        study, ranked = self.study, self.ranked
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts = [
            '<section class="page cover">',
            f"<h1>{self.title()}</h1>",
            f'<div class="subtitle">{self.say("r_report")} · '
            f"{self.say('r_sites_count', n=len(ranked), eligible=len(self.eligible))}</div>",
            f"<h2>{self.say('r_method')}</h2>",
            f"<p>{self.say('r_method_text')}</p>",
            "<p>",
            f"<b>{self.say('r_mcda')}</b>: {e(self.meta.get('method', study.method))}<br>",
            f"<b>{self.say('r_weights_method')}</b>: "
            f"{e(self.meta.get('weights_method', study.weights_spec.get('method', 'direct')))}",
            "</p>",
            self.weights_table(),
            self.ahp(),
            f"<h3>{self.say('r_constraints')}</h3>",
            self.constraints(),
            f'<p class="muted">{self.say("r_generated", when=when, version=__version__)}</p>',
            "</section>",
        ]
        return "\n".join(p for p in parts if p)

    def weights_table(self) -> str:
        head = "".join(
            f"<th{' class=num' if k == 'weight' else ''}>{self.say(k)}</th>"
            for k in ("criterion", "weight", "decay", "metric")
        )
        rows = [
            "<tr>"
            f"<td>{self.criterion_name(m)}</td>"
            f'<td class="num">{e(_fmt(m.get("weight"), 3))}</td>'
            f"<td>{e(m.get('decay', ''))}</td>"
            f"<td>{e(m.get('metric', ''))}</td>"
            "</tr>"
            for m in self.criteria
        ]
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def ahp(self) -> str:
        """The AHP consistency ratio(s), when the study's weights come from AHP."""
        found = ahp_consistency(self.study)
        if not found:
            return ""
        lines = []
        for who, cr, max_cr in found:
            verdict = say("r_ahp_ok" if cr <= max_cr else "r_ahp_bad", self.lang)
            text = say("r_ahp_cr", self.lang, cr=f"{cr:.3f}", verdict=verdict, max_cr=f"{max_cr:g}")
            if who:
                name = say("r_ahp_group", self.lang) if who == GROUP else who
                text = f"{name}: {text}"
            lines.append(f"<li>{e(text)}</li>")
        return f"<ul>{''.join(lines)}</ul>"

    def constraints(self) -> str:
        items = []
        for constraint in self.study.constraints:
            spec = constraint.to_dict()
            kind = spec.pop("kind")
            detail = ", ".join(f"{k} = {v}" for k, v in spec.items())
            items.append(f"<li><b>{e(kind)}</b> {e(detail)}</li>")
        return f"<ul>{''.join(items)}</ul>" if items else "<p>—</p>"

    def map_section(self) -> str:
        if self.map_png is not None:
            body = f'<img alt="map" src="{_data_uri(self.map_png)}">'
        else:
            body = f"<p>{self.say('r_no_map', why=self.map_error or '')}</p>"
        return f'<section class="page map"><h2>{self.say("r_map")}</h2>{body}</section>'

    def nearest(self, row: pd.Series, prefix: str) -> str:
        """``"Hanjiang Road · 1.1 km"``: a nearest feature's name and distance, escaped."""
        name = row.get(f"{prefix}_name")
        if _missing(name):
            return "—"
        distance = format_value(row.get(f"{prefix}_m"), "m", self.number_lang)
        return f'{e(name)} · <span class="nw">{e(distance)}</span>'

    def ranked_table(self) -> str:
        columns = self.ranked.columns
        keys = [k for k in ("rank", "site_id") if k in columns] + ["name", "score"]
        keys += [
            k for k in ("nearest_station_name", "nearest_park_name", "p_top_k") if k in columns
        ]
        numeric = {"rank", "score", "p_top_k"}
        head = "".join(
            f"<th{' class=num' if k in numeric else ''}>{self.say(k)}</th>" for k in keys
        )
        rows = []
        for _, row in self.top_sites.iterrows():
            cells = []
            for k in keys:
                if k == "name":
                    cells.append(f"<td>{self.site_name(row)}</td>")
                elif k in ("score", "p_top_k"):
                    cells.append(f'<td class="num">{e(_fmt(row[k], 3))}</td>')
                elif k.startswith("nearest_"):
                    cells.append(f"<td>{self.nearest(row, k.removesuffix('_name'))}</td>")
                else:
                    cells.append(
                        f"<td{' class=num' if k in numeric else ''}>{e(_text(row[k]))}</td>"
                    )
            rows.append(f"<tr>{''.join(cells)}</tr>")
        n = len(self.top_sites)
        return (
            f'<section class="page ranked"><h2>{self.say("r_ranked", n=n)}</h2>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</section>"
        )

    def dossier(self, row: pd.Series) -> str:
        rank = _text(row.get("rank"))
        site_id = _text(row.get("site_id"))
        heading = f"{self.say('r_dossier', rank=rank)} · {self.site_name(row)}"
        if site_id:
            heading += f" <span class=muted>({e(site_id)})</span>"
        score = f"{self.say('score')}: {e(_fmt(row.get('score'), 3))}"
        return "\n".join(
            [
                '<section class="page dossier">',
                f"<h2>{heading}</h2>",
                f"<p><b>{score}</b></p>",
                '<div class="top">',
                self.inset(row),
                self.facts(row),
                "</div>",
                f"<h3>{self.say('r_breakdown')}</h3>",
                self.breakdown(row),
                self.details(row),
                self.robustness(row),
                self.life_gaps(row),
                "</section>",
            ]
        )

    def _site_point(self, row: pd.Series) -> Any:
        if self.crs is None:
            return None
        geometry = gpd.GeoSeries([row.geometry], crs=self.ranked.crs).to_crs(self.crs).iloc[0]
        return geometry if geometry.geom_type == "Point" else geometry.representative_point()

    def inset(self, row: pd.Series) -> str:
        from geoplan.report._figures import inset_png, nearest_feature

        site = self._site_point(row)
        if not self.insets or site is None or self.crs is None:
            return ""
        layers = self.study.layers
        project = {
            name: layers[name].to_crs(self.crs)
            for name in ("stations", "parks")
            if name in layers and len(layers[name])
        }
        station = nearest_feature(site, project.get("stations"))
        park = nearest_feature(site, project.get("parks"))
        png = inset_png(site, crs=self.crs, layers=dict(layers), station=station, park=park)
        key = (
            '<div class="key muted">'
            f'<span style="color:#c62828">★ {self.site_name(row)}</span>'
            f'<span style="color:#1f5fae">● {self.say("r_nearest_station")}</span>'
            f'<span style="color:#7b1fa2">▭ {self.say("r_nearest_park")}</span>'
            "</div>"
        )
        return (
            f'<div class="inset"><div class="muted">{self.say("r_inset")}</div>'
            f'<img alt="inset" src="{_data_uri(png)}">{key}</div>'
        )

    def facts(self, row: pd.Series) -> str:
        items = []
        for layer, prefix, key in (
            ("stations", "nearest_station", "r_nearest_station"),
            ("parks", "nearest_park", "r_nearest_park"),
        ):
            name = row.get(f"{prefix}_name")
            if layer not in self.study.layers or _missing(name):
                items.append(f"<dt>{self.say(key)}</dt><dd>{self.say('r_no_layer')}</dd>")
                continue
            items.append(f"<dt>{self.say(key)}</dt><dd>{self.nearest(row, prefix)}</dd>")
        for column in ("district", "capacity", "land_ha", "status"):
            if column in row.index and not _missing(row[column]):
                items.append(f"<dt>{self.say(column)}</dt><dd>{e(row[column])}</dd>")
        if "notes" in row.index and _text(row["notes"]):
            items.append(f"<dt>{self.say('notes')}</dt><dd>{e(row['notes'])}</dd>")
        return f'<dl class="facts">{"".join(items)}</dl>'

    def breakdown(self, row: pd.Series) -> str:
        head = (
            f"<th>{self.say('criterion')}</th><th class=num>{self.say('value')}</th>"
            f"<th class=num>{self.say('criterion_score')}</th>"
            f"<th class=num>{self.say('weight')}</th>"
            f"<th class=num>{self.say('contribution')}</th>"
        )
        rows, total = [], 0.0
        for m in self.criteria:
            unit = str(m.get("unit", ""))
            value = format_value(row.get(m["value_column"]), unit, self.number_lang)
            contribution = float(row.get(m["contrib_column"], 0.0) or 0.0)
            total += contribution
            rows.append(
                "<tr>"
                f"<td>{self.criterion_name(m)}</td>"
                f'<td class="num">{e(value)}</td>'
                f'<td class="num">{e(_fmt(row.get(m["score_column"]), 2))}</td>'
                f'<td class="num">{e(_fmt(m.get("weight"), 3))}</td>'
                f'<td class="num">{e(_fmt(contribution, 3))}</td>'
                "</tr>"
            )
        rows.append(
            f'<tr class="total"><td>{self.say("r_total")}</td><td></td><td></td><td></td>'
            f'<td class="num">{e(_fmt(total, 3))}</td></tr>'
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def _life_circle_criteria(self) -> list[dict[str, Any]]:
        return [m for m in self.criteria if m.get("kind") == "life_circle"]

    def details(self, row: pd.Series) -> str:
        """What some criteria say in words (a walk + metro trip ...), life circles apart."""
        lines = []
        life = {m["name"] for m in self._life_circle_criteria()}
        for m in self.criteria:
            text = _text(row.get(f"detail__{m['name']}"))
            if text and m["name"] not in life:
                lines.append(f"<li>{self.criterion_name(m)}: {e(text)}</li>")
        if not lines:
            return ""
        return f'<ul class="note">{"".join(lines)}</ul>'

    def robustness(self, row: pd.Series) -> str:
        if "p_top_k" not in row.index or _missing(row.get("p_top_k")):
            return ""
        settings = dict(self.meta.get("robustness") or {})
        text = say(
            "r_robust_text",
            self.lang,
            draws=settings.get("draws", "?"),
            pct=f"{100 * float(row['p_top_k']):.0f}",
            k=settings.get("top_k", self.top),
            median=_fmt(row.get("median_rank"), 0),
            lo=_fmt(row.get("rank_p05"), 0),
            hi=_fmt(row.get("rank_p95"), 0),
        )
        return f"<h3>{self.say('r_robustness')}</h3><p>{e(text)}</p>"

    def life_gaps(self, row: pd.Series) -> str:
        criteria = self._life_circle_criteria()
        if not criteria:
            return ""
        lines = []
        for m in criteria:
            text = _text(row.get(f"detail__{m['name']}"))
            if " | " in text and self.lang != "zh+en":
                zh, en = text.split(" | ", 1)
                text = zh if self.lang == "zh" else en
            lines.append(f"<li>{self.criterion_name(m)}: {e(text or '—')}</li>")
        return f"<h3>{self.say('r_life_gaps')}</h3><ul>{''.join(lines)}</ul>"

    def closing(self) -> str:
        excluded = self.ranked[~self.ranked["eligible"].astype(bool)]
        parts = ['<section class="page closing">', f"<h2>{self.say('r_excluded')}</h2>"]
        if len(excluded) == 0:
            parts.append(f"<p>{self.say('r_excluded_none')}</p>")
        else:
            head = (
                f"<th>{self.say('site_id')}</th><th>{self.say('name')}</th>"
                f"<th>{self.say('reason')}</th>"
            )
            rows = [
                f"<tr><td>{e(_text(row.get('site_id')))}</td><td>{self.site_name(row)}</td>"
                f"<td>{e(_text(row.get('reason')))}</td></tr>"
                for _, row in excluded.head(MAX_EXCLUDED).iterrows()
            ]
            parts.append(
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
            if len(excluded) > MAX_EXCLUDED:
                parts.append(
                    f"<p class=muted>{self.say('r_excluded_more', n=len(excluded) - MAX_EXCLUDED)}</p>"
                )
        parts.append("</section>")
        parts.append(f'<section class="page sources"><h2>{self.say("r_sources")}</h2>')
        head = f"<th>{self.say('layer')}</th><th>{self.say('r_file')}</th><th>{self.say('r_sha256')}</th>"
        rows = [
            f"<tr><td>{e(name)}</td><td>{e(path.name)}</td><td class=sha>{e(digest)}</td></tr>"
            for name, path, digest in data_sources(self.study)
        ]
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        parts.append("</section>")
        return "\n".join(parts)

    def document(self) -> str:
        sections = [self.cover(), self.map_section(), self.ranked_table()]
        sections += [self.dossier(row) for _, row in self.top_sites.iterrows()]
        sections.append(self.closing())
        html_lang = "zh-CN" if self.lang.startswith("zh") else "en"
        return (
            f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
            f'<meta name="generator" content="geoplan {e(__version__)}">'
            f"<title>{self.title()}</title><style>{REPORT_CSS}</style></head>\n<body>\n"
            + "\n".join(sections)
            + "\n</body></html>\n"
        )


def _fmt(value: object, digits: int) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞"
    return f"{x:,.{digits}f}"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------------------
# What the report says of the study's weights and data
# --------------------------------------------------------------------------------------


def ahp_consistency(study: Study) -> list[tuple[str, float, float]]:
    """The AHP consistency ratios behind a study's weights: ``(who, CR, max CR)``.

    ``who`` is ``""`` for one matrix (``[weights] method = "ahp"``); for
    ``"group_ahp"`` the group's ratio comes first (``who`` is :data:`GROUP`),
    then each official's.
    Empty when the weights do not come from AHP.
    """
    from geoplan.decide.ahp import ahp_weights, group_ahp

    spec = dict(study.weights_spec or {})
    method = spec.get("method", "direct")
    if method not in ("ahp", "group_ahp"):
        return []
    max_cr = float(spec.get("max_cr", 0.10))
    names = [c.name for c in study.criteria]
    with warnings.catch_warnings():  # the study was checked when loaded: say, don't warn
        warnings.simplefilter("ignore")
        if method == "ahp":
            result = ahp_weights(
                spec["judgements"], criteria=names, max_cr=max_cr, on_inconsistent="warn"
            )
            return [("", float(result.cr), max_cr)]
        group = group_ahp(
            dict(spec["officials"]), criteria=names, max_cr=max_cr, on_inconsistent="warn"
        )
    found = [(GROUP, float(group.group.cr), max_cr)]
    found += [(str(who), float(r.cr), max_cr) for who, r in group.individual.items()]
    return found


def data_sources(study: Study) -> list[tuple[str, Path, str]]:
    """The files a study read: ``(layer, path, SHA-256)``, the study file first."""
    found: list[tuple[str, Path, str]] = []
    if study.path is not None and Path(study.path).is_file():
        found.append(("study", Path(study.path), sha256(Path(study.path))))
    for name, source in study.layer_sources.items():
        path = source.get("path")
        if path is None or not Path(str(path)).is_file():
            continue
        digest = source.get("sha256") or sha256(Path(str(path)))
        found.append((name, Path(str(path)), str(digest)))
    network = study.network.get("source") if study.network else None
    if network is not None and Path(str(network)).is_file():
        found.append(("network", Path(str(network)), sha256(Path(str(network)))))
    return found


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def report_html(
    study: Study,
    ranked: gpd.GeoDataFrame,
    *,
    lang: str = "zh+en",
    top: int | None = None,
    map_png: bytes | None = None,
    map_error: str | None = None,
    insets: bool = True,
) -> str:
    """The study report as one self-contained HTML document.

    Parameters
    ----------
    study : Study
        The study (its title, criteria, constraints, weights and layers).
    ranked : geopandas.GeoDataFrame
        Its ranking (:func:`geoplan.rank_sites`, with robustness columns if
        wanted: :func:`geoplan.decide.robustness.add_robustness`).
    lang : {"zh", "en", "zh+en"}
        The report's language.
    top : int, optional
        How many top sites get a row in the table and a dossier page (default:
        the study's ``top``).
    map_png : bytes, optional
        A PNG of the study map (embedded); without one the map page says why
        (``map_error``).
    map_error : str, optional
        Why there is no map.
    insets : bool
        Draw each dossier's inset map (matplotlib).

    Returns
    -------
    str
        The HTML; every text from the study or its data is escaped.
    """
    lang = check_lang(lang)
    count = int(top if top is not None else study.top)
    if count < 1:
        raise GeoplanError(f"top = {count!r}: a report needs at least one top site.")
    return _Report(
        study,
        ranked,
        lang=lang,
        top=count,
        map_png=map_png,
        map_error=map_error,
        insets=insets,
    ).document()


def check_report_path(path: str | Path) -> Path:
    """A report's file name must end in ``.pdf`` (its HTML twin takes ``.html``)."""
    found = Path(path)
    if found.suffix.lower() != ".pdf":
        raise OutputWriteError(
            f"A report is a PDF, but {found.name!r} does not end in .pdf; give a name such as "
            f"{found.with_suffix('.pdf').name!r} (the HTML twin is written beside it)."
        )
    return found


def study_report(
    study: Study,
    out: str | Path,
    *,
    ranked: gpd.GeoDataFrame | None = None,
    lang: str = "zh+en",
    top: int | None = None,
    robustness_draws: int | None = None,
    force: bool = False,
    browser: str | Path | None = None,
    progress: bool = False,
    written: list[Path] | None = None,
) -> ReportFiles:
    """Write a study's report: ``out`` (PDF) and its HTML twin beside it.

    Parameters
    ----------
    study : Study
        A loaded study (:func:`geoplan.load_study`).
    out : str or pathlib.Path
        The PDF to write; the HTML twin gets the same name with ``.html``.
    ranked : geopandas.GeoDataFrame, optional
        The study's ranking (default: ranked here, in ``lang``).
    lang : {"zh", "en", "zh+en"}
        The report's language (reasons too, when ranked here).
    top : int, optional
        How many top sites get a dossier (default: the study's ``top``).
    robustness_draws : int, optional
        Monte Carlo weight draws for the robustness of each top site (none by
        default, unless ``ranked`` already has them).
    force : bool
        Replace existing files.
    browser : str or pathlib.Path, optional
        Chromium executable (see :func:`geoplan.maps.snapshot.find_chromium`).
    progress : bool
        Progress bars while ranking.
    written : list of pathlib.Path, optional
        Receives each file as soon as it is in place.

    Returns
    -------
    ReportFiles
        The PDF and the HTML written.

    Raises
    ------
    OutputExistsError
        If either file exists and ``force`` is false (checked before any work).
    BrowserNotFoundError
        Without a local Chromium.
    """
    from geoplan.maps import snapshot
    from geoplan.report._figures import map_png as snapshot_map

    pdf = check_report_path(out)
    twin = twin_path(pdf)
    for path in (pdf, twin):
        outputs.check_output_path(path, force=force)
    lang = check_lang(lang)
    snapshot.find_chromium(browser)  # before the work: the PDF needs it
    count = int(top if top is not None else study.top)
    if ranked is None:
        ranked = rank_sites(study, progress=progress, lang=lang)
    if robustness_draws:
        from geoplan.decide.robustness import add_robustness

        ranked = add_robustness(ranked, draws=int(robustness_draws), top_k=count)
    image: bytes | None = None
    why: str | None = None
    try:
        image = snapshot_map(ranked, study, lang=lang, top_n=count, browser=browser)
    except SnapshotError as exc:
        why = str(exc)
        logger.warning("the report has no map: %s", exc)
    page = report_html(study, ranked, lang=lang, top=count, map_png=image, map_error=why)
    footer = pick(study.title_zh, study.title, lang)
    with outputs.OutputSet(force=force, written=[] if written is None else written) as staged:
        temp_html = staged.write_text(page, twin)
        staged.write(
            pdf,
            lambda temp: snapshot.print_page_pdf(
                temp_html, temp, footer=footer, force=True, browser=browser
            ),
        )
    logger.info("wrote report %s and %s", pdf, twin)
    return ReportFiles(pdf=pdf, html=twin)

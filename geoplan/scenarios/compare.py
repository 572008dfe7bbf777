"""Comparing scenarios with the base run: per site and per scenario, and in a summary.

:func:`compare` ranks the study and every scenario of it with one
:class:`~geoplan.scenarios.reuse.RunCache`, so a scenario measures again only the
criteria and constraints whose inputs it changes (a new station: the criteria
and constraints on stations; new weights: nothing at all), and gives:

* :attr:`Comparison.table`: one row per site and run (``scenario = "base"``
  first, then each scenario): ``score``, ``rank``, ``eligible``, ``reason``,
  each criterion's ``value__<criterion>__<unit>`` and ``score__<criterion>``,
  and the differences to the base: ``score_change``, ``rank_change`` (places
  moved up; negative: down), ``became_eligible``, ``dropped_out``,
  ``in_top_k``, ``entered_top_k``, ``left_top_k`` and
  ``change__<criterion>__<unit>`` (the raw value minus the base's);
  ``in_base`` is false for sites a scenario adds;
* :attr:`Comparison.summary`: one row per run: sites, eligible, how many
  became eligible or dropped out, moved up or down, the mean absolute rank
  change, the largest rise and fall, the top k and who entered or left it,
  the rank correlation with the base (Spearman, over sites eligible in both),
  what was measured again and how long the run took.

:func:`stage_comparison` writes both (``.xlsx``: two sheets; ``.gpkg``: two
layers; ``.csv``: the table, and the summary beside it as
``<name>.summary.csv``) with the base's effective study beside them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from geoplan._errors import OutputWriteError, StudyError
from geoplan.io.outputs import OutputSet
from geoplan.scenarios.overlay import (
    Scenario,
    edited_studies,
    read_scenarios,
    scenarios_from_list,
)
from geoplan.scenarios.reuse import RunCache
from geoplan.study._checks import sha256
from geoplan.study.files import Study
from geoplan.study.ranking import rank_sites

__all__ = ["BASE", "COMPARE_FORMATS", "Comparison", "compare", "stage_comparison"]

logger = logging.getLogger(__name__)

#: The name of the base run in the tables.
BASE: Final = "base"
#: Output formats of a comparison, by extension.
COMPARE_FORMATS: Final = (".xlsx", ".csv", ".gpkg")
_SITE: Final = "site"


@dataclass
class Comparison:
    """A study's base run and its scenarios, side by side (see the module docstring).

    Attributes
    ----------
    study : Study
        The base study.
    scenarios : list of Scenario
        The scenarios, in order.
    ranked : dict of str to geopandas.GeoDataFrame
        Each run's ranked table (:func:`geoplan.rank_sites`), ``"base"`` first.
    table : geopandas.GeoDataFrame
        One row per site and run, with the differences to the base.
    summary : pandas.DataFrame
        One row per run.
    top_k : int
        The size of the top compared.
    id_column : str
        The sites' id column (``site`` in the tables holds the ids).
    cache : RunCache
        What the runs shared (its counters say what was measured).
    """

    study: Study
    scenarios: list[Scenario]
    ranked: dict[str, gpd.GeoDataFrame]
    table: gpd.GeoDataFrame
    summary: pd.DataFrame
    top_k: int
    id_column: str
    cache: RunCache = field(repr=False, default_factory=RunCache)

    def labels(self) -> dict[str, tuple[str, str]]:
        """Each run's English and Chinese label, by name."""
        out = {BASE: ("Base", "基准")}
        for s in self.scenarios:
            out[s.name] = (s.title, s.label_zh)
        return out


def _scenarios(study: Study, scenarios: object) -> list[Scenario]:
    if scenarios is None:
        if not study.scenarios:
            raise StudyError(
                [
                    "the study has no [[scenarios]] and none were given: add [[scenarios]] "
                    "tables to the study or pass a scenario file (geoplan compare STUDY "
                    "--scenarios scenarios.toml)."
                ],
                source=str(study.path) if study.path else None,
            )
        return scenarios_from_list(
            study.scenarios, folder=study.folder, source=str(study.path) if study.path else None
        )
    if isinstance(scenarios, str | Path):
        return read_scenarios(scenarios)
    if isinstance(scenarios, Sequence) and not scenarios:
        return []  # the base run alone
    if isinstance(scenarios, Sequence) and all(isinstance(s, Scenario) for s in scenarios):
        return list(scenarios)
    return scenarios_from_list(scenarios, folder=study.folder)


def _site_keys(ranked: gpd.GeoDataFrame) -> tuple[pd.Series, str]:
    """Each site's key (its id, else its name, else its location) and the key's column."""
    id_column = ranked.attrs.get("geoplan", {}).get("id_column")
    for column in (id_column, "site_id", "name"):
        if column and column in ranked.columns:
            keys = ranked[column]
            if keys.notna().all() and keys.is_unique:
                return keys.astype(str), str(column)
    wkt = shapely.to_wkt(np.asarray(ranked.geometry.values), rounding_precision=7)
    return pd.Series(wkt, index=ranked.index), "location"


def _run_rows(name: str, ranked: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keys, _ = _site_keys(ranked)
    criteria = [c for c in ranked.columns if str(c).startswith(("value__", "score__"))]
    names = [c for c in ("name", "name_zh") if c in ranked.columns]
    frame = pd.DataFrame(
        {
            "scenario": name,
            _SITE: keys.to_numpy(),
            **{c: ranked[c].to_numpy() for c in names},
            "score": ranked["score"].to_numpy(dtype=float),
            "rank": ranked["rank"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            "eligible": ranked["eligible"].to_numpy(dtype=bool),
            "reason": ranked["reason"].astype(str).to_numpy(),
        }
    )
    for column in criteria:
        frame[column] = ranked[column].to_numpy(dtype=float)
    return gpd.GeoDataFrame(frame, geometry=ranked.geometry.to_numpy(), crs=ranked.crs)


def _isin(values: pd.Series, among: pd.Series) -> npt.NDArray[np.bool_]:
    """``values.isin(among)`` by a hash lookup (``isin`` on text is slow at 100,000s)."""
    return np.asarray(pd.Index(pd.unique(among.to_numpy())).get_indexer(values.to_numpy()) >= 0)


def _differences(rows: gpd.GeoDataFrame, base: gpd.GeoDataFrame, top_k: int) -> gpd.GeoDataFrame:
    """A run's rows with the differences to the base's rows (matched by site)."""
    at = pd.Index(base[_SITE].to_numpy()).get_indexer(rows[_SITE].to_numpy())  # -1: not in base
    in_base = at >= 0

    def from_base(column: str) -> npt.NDArray[np.float64]:
        values = base[column].to_numpy(dtype=float)
        return np.where(in_base, values[np.maximum(at, 0)] if len(values) else np.nan, np.nan)

    b_score = from_base("score")
    b_rank = from_base("rank")
    b_eligible = in_base & (from_base("eligible") == 1.0)
    rank = rows["rank"].to_numpy(dtype=float)
    out = rows.copy()
    out["in_base"] = in_base
    out["base_score"] = b_score
    out["base_rank"] = b_rank
    out["score_change"] = rows["score"].to_numpy(dtype=float) - b_score
    out["rank_change"] = b_rank - rank
    eligible = rows["eligible"].to_numpy(dtype=bool)
    out["became_eligible"] = eligible & ~b_eligible & in_base
    out["dropped_out"] = ~eligible & b_eligible
    top = eligible & (rank <= top_k)
    base_top = b_eligible & (b_rank <= top_k)
    out["in_top_k"] = top
    out["entered_top_k"] = top & ~base_top
    out["left_top_k"] = ~top & base_top
    for column in [c for c in rows.columns if str(c).startswith("value__")]:
        if column in base.columns:
            value = rows[column].to_numpy(dtype=float)
            before = from_base(str(column))
            with np.errstate(invalid="ignore"):
                change = np.where(np.isinf(value) & np.isinf(before), 0.0, value - before)
            out["change__" + str(column).removeprefix("value__")] = change
    return out


def _order(table: pd.DataFrame) -> list[str]:
    head = ["scenario", _SITE, "name", "name_zh", "in_base"]
    run = ["score", "base_score", "score_change", "rank", "base_rank", "rank_change"]
    flags = ["eligible", "became_eligible", "dropped_out", "reason"]
    flags += ["in_top_k", "entered_top_k", "left_top_k"]
    values = sorted(c for c in table.columns if str(c).startswith(("value__", "change__")))
    scores = sorted(c for c in table.columns if str(c).startswith("score__"))
    known = [c for c in head + run + flags if c in table.columns]
    rest = [c for c in table.columns if c not in {*known, *values, *scores, "geometry"}]
    return known + values + scores + rest + ["geometry"]


def _ids(frame: pd.DataFrame, mask: Any) -> str:
    chosen = frame.loc[mask].sort_values(["rank", "score"], ascending=[True, False])
    return ", ".join(chosen[_SITE].astype(str))


def _summary_row(name: str, rows: pd.DataFrame, base: pd.DataFrame, top_k: int) -> dict[str, Any]:
    change = rows["rank_change"]
    moved = change.dropna()
    both = rows["eligible"] & _isin(rows[_SITE], base.loc[base["eligible"], _SITE])
    correlation = (
        float(rows.loc[both, "rank"].corr(rows.loc[both, "base_rank"], method="spearman"))
        if int(both.sum()) > 2
        else float("nan")
    )
    rise = moved.idxmax() if len(moved) and moved.max() > 0 else None
    fall = moved.idxmin() if len(moved) and moved.min() < 0 else None
    return {
        "scenario": name,
        "sites": len(rows),
        "sites_added": int((~rows["in_base"]).sum()),
        "sites_removed": int((~_isin(base[_SITE], rows[_SITE])).sum()),
        "eligible": int(rows["eligible"].sum()),
        "became_eligible": int(rows["became_eligible"].sum()),
        "dropped_out": int(rows["dropped_out"].sum()),
        "moved_up": int((moved > 0).sum()),
        "moved_down": int((moved < 0).sum()),
        "mean_abs_rank_change": float(moved.abs().mean()) if len(moved) else 0.0,
        "largest_rise": "" if rise is None else f"{rows.at[rise, _SITE]} +{moved[rise]:.0f}",
        "largest_fall": "" if fall is None else f"{rows.at[fall, _SITE]} {moved[fall]:.0f}",
        "top_k": _ids(rows, rows["in_top_k"]),
        "entered_top_k": _ids(rows, rows["entered_top_k"]),
        "left_top_k": ", ".join(
            base.loc[
                _isin(base[_SITE], rows.loc[rows["left_top_k"], _SITE])
                | (~_isin(base[_SITE], rows[_SITE]) & base["eligible"] & (base["rank"] <= top_k)),
                _SITE,
            ].astype(str)
        ),
        "rank_correlation": correlation,
    }


def compare(
    study: Study,
    scenarios: str | Path | Sequence[Scenario] | Sequence[dict[str, Any]] | None = None,
    *,
    top_k: int | None = None,
    reuse: RunCache | None = None,
    progress: bool = False,
) -> Comparison:
    """Rank a study and each of its scenarios, and compare every scenario with the base.

    Parameters
    ----------
    study : Study
        The base study (:func:`geoplan.load_study`); it is not changed.
    scenarios : str, pathlib.Path, sequence of Scenario or of tables, optional
        A scenario file, scenarios, or ``[[scenarios]]`` tables; default the
        study's own ``[[scenarios]]``; an empty list ranks the base alone.
    top_k : int, optional
        The size of the top compared (default: the study's ``top``).
    reuse : RunCache, optional
        Share networks and measurements with other runs too (a batch).
    progress : bool
        Show progress bars.

    Returns
    -------
    Comparison
        The runs' tables, the long table and the summary.

    Raises
    ------
    StudyError
        Every problem of every scenario, before anything is ranked.
    """
    found = _scenarios(study, scenarios)
    edited = edited_studies(study, found)  # every problem at once, before any ranking
    k = int(top_k or study.top)
    cache = reuse if reuse is not None else RunCache()
    ranked: dict[str, gpd.GeoDataFrame] = {}
    measured: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name, run in [(BASE, study), *((s.name, e) for s, e in zip(found, edited, strict=True))]:
        before = cache.computed.copy()
        began = time.perf_counter()
        ranked[name] = rank_sites(run, progress=progress, reuse=cache)
        seconds[name] = time.perf_counter() - began
        new = cache.computed - before
        measured[name] = "; ".join(f"{what} x{n}" if n > 1 else what for what, n in new.items())
        logger.info(
            "run %r: %.2f s; measured: %s", name, seconds[name], measured[name] or "nothing"
        )
    rows = {name: _run_rows(name, table) for name, table in ranked.items()}
    base_rows = rows[BASE]
    parts = [_differences(rows[name], base_rows, k) for name in ranked]
    table = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=base_rows.crs
    )
    table = table[_order(table)]
    summary = pd.DataFrame(
        [_summary_row(name, part, parts[0], k) for name, part in zip(ranked, parts, strict=True)]
    )
    labels = {BASE: ("Base", "基准", "")} | {
        s.name: (s.title, s.label_zh, s.description) for s in found
    }
    summary.insert(1, "label", [labels[n][0] for n in summary["scenario"]])
    summary.insert(2, "label_zh", [labels[n][1] for n in summary["scenario"]])
    summary.insert(3, "description", [labels[n][2] for n in summary["scenario"]])
    summary["measured"] = [measured[n] for n in summary["scenario"]]
    summary["seconds"] = [round(seconds[n], 3) for n in summary["scenario"]]
    _, id_column = _site_keys(ranked[BASE])
    return Comparison(study, found, ranked, table, summary, k, id_column, cache)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _plain_table(table: gpd.GeoDataFrame) -> pd.DataFrame:
    """The long table without geometry: points as lon/lat."""
    frame = pd.DataFrame(table.drop(columns=table.geometry.name))
    points = table.geometry.representative_point()
    frame["lon"] = points.x.round(7)
    frame["lat"] = points.y.round(7)
    return frame


def summary_path(path: Path) -> Path:
    """Where the summary of a ``.csv`` comparison goes: ``compare.csv`` -> ``compare.summary.csv``."""
    return path.with_name(f"{path.stem}.summary.csv")


def stage_comparison(out: OutputSet, comparison: Comparison, path: str | Path) -> list[Path]:
    """Stage a comparison's tables in ``out`` (written when the set commits).

    Parameters
    ----------
    out : OutputSet
        The files written together.
    comparison : Comparison
        What to write.
    path : str or pathlib.Path
        ``.xlsx`` (sheets ``sites`` and ``summary``), ``.gpkg`` (layers
        ``sites`` and ``summary``) or ``.csv`` (the table; the summary beside
        it, see :func:`summary_path`).  The base's effective study goes beside
        it as ``<name>.study.toml``.

    Returns
    -------
    list of pathlib.Path
        The files staged.

    Raises
    ------
    OutputWriteError
        For another extension.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in COMPARE_FORMATS:
        raise OutputWriteError(
            f"Cannot tell the comparison's format from {path.name!r}; use one of "
            f"{list(COMPARE_FORMATS)!r} (e.g. compare.xlsx)."
        )
    table, summary = comparison.table, comparison.summary
    staged = [path]
    if suffix == ".xlsx":

        def excel(temp: Path) -> None:
            with pd.ExcelWriter(temp, engine="openpyxl") as book:
                _plain_table(table).to_excel(book, sheet_name="sites", index=False)
                summary.to_excel(book, sheet_name="summary", index=False)

        temp = out.write(path, excel)
    elif suffix == ".gpkg":

        def geopackage(temp: Path) -> None:
            frame = table.copy()
            for column in frame.columns:
                if frame[column].dtype == bool:
                    frame[column] = frame[column].astype("int8")
            frame.to_file(temp, driver="GPKG", layer="sites")
            pyogrio.write_dataframe(summary, temp, layer="summary", driver="GPKG", append=True)

        temp = out.write(path, geopackage)
    else:
        temp = out.write(
            path,
            lambda t: _plain_table(table).to_csv(t, index=False, encoding="utf-8-sig"),
        )
        summary_file = summary_path(path)
        out.write(summary_file, lambda t: summary.to_csv(t, index=False, encoding="utf-8-sig"))
        staged.append(summary_file)
    sidecar = path.with_name(f"{path.name}.study.toml")
    out.write_text(
        comparison.study.to_toml(result={"table": path.name, "sha256": sha256(temp)}),
        sidecar,
        companion_of=path,
    )
    staged.append(sidecar)
    return staged

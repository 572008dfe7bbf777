"""Ranking: from sites, layers and criteria to a ranked, explained table.

:func:`score_sites` is the engine (GeoDataFrames in, GeoDataFrame out);
:func:`rank_sites` runs it on a :class:`~geoplan.study.files.Study`;
:func:`explain_site` breaks one site's score down criterion by criterion.

The output has one row per candidate, best first: the site's own columns; for
every criterion ``value__<name>__<unit>``, ``score__<name>`` and
``contrib__<name>`` (see :mod:`geoplan.study.scoring`); ``score``, ``rank``,
``eligible``, ``reason``, ``notes``; the nearest industrial park and station
(``nearest_park_name``, ``nearest_park_m``, ``nearest_station_name``,
``nearest_station_m``, straight-line metres); and a one-line ``explanation``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from tqdm import tqdm

from geoplan._errors import CriterionError, GeoplanError, plain
from geoplan.decide import mcda
from geoplan.decide.weights import critic_weights, entropy_weights, normalize_weights
from geoplan.io import coords
from geoplan.io.lang import check_lang, reason
from geoplan.io.lang import format_value as lang_format_value
from geoplan.measure.candidates import grid_sites, scoring_points
from geoplan.measure.constraints import Constraint, check_constraints, join_reasons
from geoplan.measure.criteria import nearest_target
from geoplan.measure.distance import DistanceMetric, StraightLine
from geoplan.study._transit import METRIC_KEYS
from geoplan.study.files import Study
from geoplan.study.kinds import measure_criterion
from geoplan.study.scoring import (
    Criterion,
    contrib_column,
    detail_column,
    score_column,
    scored,
    select_features,
    value_column,
)

__all__ = [
    "ExplainedCriterion",
    "Reuse",
    "criterion_measurer",
    "explain_site",
    "explained",
    "explanations",
    "format_value",
    "rank_sites",
    "score_sites",
    "study_metric",
    "study_networks",
]

_T = TypeVar("_T")

Measured = tuple[pd.Series, "pd.Series | None"]


class Reuse(Protocol):
    """What related runs share: street networks, metrics, measured criteria and constraints.

    Scenarios of one study and the cities of a batch rank many studies that
    share most of their inputs; :func:`rank_sites` and :func:`score_sites` ask
    an object of this kind before measuring anything, so that only what a
    scenario changes is measured again (:class:`geoplan.scenarios.reuse.RunCache`).
    Every method returns what ``make``/``compute`` would return.
    """

    def shared(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """A network or metric, made once per key (its parts describe every input)."""
        ...

    def measured(
        self,
        criterion: Criterion,
        points: gpd.GeoDataFrame,
        targets: gpd.GeoDataFrame,
        metric: DistanceMetric,
        layers: Mapping[str, gpd.GeoDataFrame],
        compute: Callable[[], Measured],
    ) -> Measured:
        """A criterion's raw values and details for these sites, targets and metric."""
        ...

    def reasons(
        self,
        constraint: Constraint,
        points: gpd.GeoDataFrame,
        layers: Mapping[str, gpd.GeoDataFrame],
        metric: DistanceMetric | None,
        name_columns: Mapping[str, str | None],
        compute: Callable[[], pd.Series],
    ) -> pd.Series:
        """One constraint's reasons for these sites (``""`` where a site passes)."""
        ...


logger = logging.getLogger(__name__)

#: Weighting methods computed from the scores themselves.
OBJECTIVE_WEIGHTS: Final = {"entropy": entropy_weights, "critic": critic_weights}

#: Layers whose nearest feature is reported for every site.
NEAREST_LAYERS: Final = {"parks": "nearest_park", "stations": "nearest_station"}


def format_value(value: float, unit: str, lang: str = "en") -> str:
    """A raw value as people read it: ``"420 m"``, ``"2.4 km"``, ``"12.5 min"``.

    Parameters
    ----------
    value : float
        The raw value.
    unit : str
        Its unit (``m``, ``min``, ``count`` or an attribute such as ``jobs``).
    lang : {"en", "zh", "zh+en"}
        The language (``"420米"`` in Chinese); see :mod:`geoplan.io.lang`.

    Returns
    -------
    str
        The formatted value (``"unreachable"`` for infinite distances).
    """
    return lang_format_value(value, unit, lang)


def _project(layer: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    return layer if layer.crs == crs else layer.to_crs(crs)


def _nearest_columns(
    points: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    name_columns: Mapping[str, str | None],
) -> pd.DataFrame:
    out = pd.DataFrame(index=points.index)
    for layer_name, prefix in NEAREST_LAYERS.items():
        if layer_name not in layers:
            continue
        layer = layers[layer_name]
        found = nearest_target(points, layer, metric=StraightLine())
        name_col = name_columns.get(layer_name)
        names = (
            layer[name_col]
            if name_col in layer.columns
            else pd.Series([f"{layer_name} {i}" for i in layer.index], index=layer.index)
        )
        out[f"{prefix}_name"] = names.reindex(found["target"].to_numpy()).to_numpy()
        out[f"{prefix}_m"] = found["distance"].round(1)
    return out


@dataclass(frozen=True)
class ExplainedCriterion:
    """What an explanation line says of one criterion (from a criterion or a table's meta)."""

    title: str
    title_zh: str
    unit: str
    weight: float
    value_column: str
    score_column: str
    contrib_column: str


def explained(
    criteria: Sequence[Criterion], weights: Mapping[str, float]
) -> list[ExplainedCriterion]:
    """The criteria as :func:`explanations` reads them."""
    return [
        ExplainedCriterion(
            c.title,
            c.label_zh,
            c.value_unit,
            float(weights[c.name]),
            value_column(c),
            score_column(c),
            contrib_column(c),
        )
        for c in criteria
    ]


def explanations(
    frame: pd.DataFrame, criteria: Sequence[ExplainedCriterion], lang: str = "en"
) -> pd.Series:
    """One line per site: its rank and score, then each criterion's value -> score x weight.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``rank``, ``score``, ``eligible``, ``reason`` and each criterion's columns.
    criteria : sequence of ExplainedCriterion
        The criteria, in order.
    lang : {"en", "zh", "zh+en"}
        The language (both: Chinese, then `` | `` and English).

    Returns
    -------
    pandas.Series
        The lines, indexed like ``frame``.
    """
    if lang == "zh+en":
        zh, en = explanations(frame, criteria, "zh"), explanations(frame, criteria, "en")
        return zh + " | " + en
    n_eligible = int(frame["eligible"].sum())
    ranks = frame["rank"].astype("string").fillna("-").astype(str)
    scores = frame["score"].map("{:.3f}".format).astype(str)
    reasons = frame["reason"].astype(str)
    if lang == "zh":
        head = np.where(
            frame["eligible"],
            "第" + ranks + f"名（共{n_eligible}个符合条件），总分 " + scores + "。",
            "不符合条件（" + reasons + "），若符合条件总分为 " + scores + "。",
        )
    else:
        head = np.where(
            frame["eligible"],
            "#" + ranks + f" of {n_eligible} eligible, score " + scores + ".",
            "Not eligible (" + reasons + "); its score would be " + scores + ".",
        )
    text = pd.Series(head, index=frame.index, dtype=object)
    for c in criteria:
        values = frame[c.value_column].map(lambda v, u=c.unit: format_value(v, u, lang)).astype(str)
        title = (c.title_zh or c.title) if lang == "zh" else c.title
        arrow, times, end = ("→", "×", "；") if lang == "zh" else ("->", "x", ";")
        part = (
            f" {title}{'：' if lang == 'zh' else ':'} "
            + values
            + f" {arrow} "
            + frame[c.score_column].map("{:.2f}".format).astype(str)
            + f" {times} {c.weight:.2f} = "
            + frame[c.contrib_column].map("{:.3f}".format).astype(str)
            + end
        )
        text = text + part
    logger.debug("explained %d sites", len(frame))
    return text.str.rstrip(";；")


def _aggregate(
    scores: pd.DataFrame,
    weights: pd.Series,
    eligible: pd.Series,
    method: str,
    options: Mapping[str, Any],
) -> pd.Series:
    """Total scores; eligible sites are compared only with each other.

    Relative methods (TOPSIS, VIKOR) take their ideal points from the sites
    they are given, so eligible sites are aggregated among themselves and an
    excluded site can never change the ranking; excluded sites get the value
    they would have among all candidates, for information.
    """
    total = mcda.aggregate(scores, weights, method=method, **dict(options))
    if eligible.all() or not eligible.any():
        return total
    among_eligible = mcda.aggregate(scores[eligible], weights, method=method, **dict(options))
    return among_eligible.reindex(scores.index).where(eligible, total)


def _site_labels(sites: gpd.GeoDataFrame, id_column: str | None) -> pd.Index:
    """The sites' ids when ``id_column`` holds unique ones, else their index."""
    if id_column is None or id_column not in sites.columns:
        return sites.index
    ids = sites[id_column]
    if ids.isna().any() or not ids.is_unique:
        return sites.index
    return pd.Index(ids.astype(str), name=id_column)


def _unreachable_notes(
    criterion: Criterion,
    metric: DistanceMetric,
    points: gpd.GeoDataFrame,
    result: pd.DataFrame,
    lang: str = "en",
) -> pd.Series:
    """Why a criterion scored 0 for sites its metric cannot reach ("" elsewhere)."""
    notes = pd.Series("", index=points.index, dtype=object)
    reasons = getattr(metric, "reasons", None)
    if callable(reasons):  # a network metric: sites too far from any street
        off = reasons(points.geometry)
        title = criterion.title if lang == "en" else (criterion.label_zh or criterion.title)
        notes[off != ""] = f"{title}: " + off[off != ""] + "; "
    unreachable = ~np.isfinite(result[value_column(criterion)].to_numpy(dtype=float))
    if criterion.kind in ("nearest_distance", "ideal_band"):
        todo = unreachable & (notes == "").to_numpy()
        notes[todo] = (
            reason(
                "unreachable_note",
                lang,
                title=criterion.title,
                metric=metric.label,
                zh_fields={"title": criterion.label_zh or criterion.title},
            )
            + "; "
        )
    return notes


def _criteria_meta(
    criteria: Sequence[Criterion], weights: pd.Series, metrics: Mapping[str, DistanceMetric]
) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "label": c.title,
            "label_zh": c.label_zh,
            "kind": c.kind,
            "layer": c.layer,
            "unit": c.value_unit,
            "weight": float(weights[c.name]),
            "decay": c.decay.describe(c.value_unit),
            "metric": metrics[c.name].label,
            "value_column": value_column(c),
            "score_column": score_column(c),
            "contrib_column": contrib_column(c),
            **({"where": c.to_dict()["where"]} if c.where else {}),
        }
        for c in criteria
    ]


def criterion_measurer(
    c: Criterion,
    points: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    metric: DistanceMetric,
    layers: Mapping[str, gpd.GeoDataFrame],
) -> Callable[[], Measured]:
    """What measuring one criterion computes: raw values, and details in words."""

    def compute() -> Measured:
        raw, detail = measure_criterion(c, c.kind, points, targets, metric=metric, layers=layers)
        describe = getattr(metric, "trips", None)
        if detail is None and callable(describe):
            # walk + metro: how the time to the nearest target is made up
            detail = describe(points.geometry, targets.geometry)["text"]
        return raw, detail

    return compute


def _checker(
    k: Constraint,
    points: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    metric: DistanceMetric | None,
    name_columns: Mapping[str, str | None],
    lang: str = "en",
) -> Callable[[], pd.Series]:
    """What checking one constraint computes: its reasons per site (in ``lang``)."""

    def compute() -> pd.Series:
        metrics = {0: metric} if metric is not None else None
        return check_constraints(
            points, [k], layers, metrics=metrics, name_columns=name_columns, lang=lang
        )

    return compute


def score_sites(
    sites: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    criteria: Sequence[Criterion],
    *,
    constraints: Sequence[Constraint] = (),
    metric_crs: pyproj.CRS | str | None = None,
    method: str = "weighted_sum",
    method_options: Mapping[str, Any] | None = None,
    metrics: Mapping[str, DistanceMetric] | None = None,
    constraint_metrics: Mapping[int, DistanceMetric] | None = None,
    name_columns: Mapping[str, str | None] | None = None,
    layer_labels: Mapping[str, str] | None = None,
    weights_method: str = "direct",
    id_column: str | None = None,
    progress: bool = False,
    lang: str = "en",
    reuse: Reuse | None = None,
) -> gpd.GeoDataFrame:
    """Score, constrain and rank candidate sites.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites (points, or polygons scored at a representative point).
    layers : mapping of str to geopandas.GeoDataFrame
        Target layers by name (``"parks"``, ``"stations"`` ...), any CRS.
    criteria : sequence of Criterion
        What to score; weights are normalised to sum to 1.
    constraints : sequence of Constraint
        Hard constraints; failing sites stay in the table, ineligible.
    metric_crs : pyproj.CRS or str, optional
        Projected CRS to measure in (default: the local UTM zone).
    method : str
        Aggregation: ``"weighted_sum"``, ``"topsis"``, ``"vikor"`` or ``"owa"``.
    method_options : mapping, optional
        Options of the aggregation (e.g. ``{"v": 0.5}`` for VIKOR).
    metrics : mapping of str to DistanceMetric, optional
        Distance engine per criterion name (straight-line by default).
    constraint_metrics : mapping of int to DistanceMetric, optional
        Distance engine per constraint position.
    name_columns : mapping of str to str, optional
        Column naming the features of each layer.
    layer_labels : mapping of str to str, optional
        How features of each layer are called in reasons.
    weights_method : {"direct", "entropy", "critic"}
        Use the criteria's weights, or derive objective weights from the
        scores themselves (entropy or CRITIC).
    id_column : str, optional
        Column of the sites' ids (unique), by which warnings name sites.
    progress : bool
        Show a progress bar over criteria.
    lang : {"en", "zh", "zh+en"}
        Language of the reasons, notes and explanations (:mod:`geoplan.io.lang`;
        default English).
    reuse : Reuse, optional
        Measured criteria and constraints shared with related runs (see
        :class:`Reuse`); each is measured only when not already known.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, best first, in EPSG:4326 (columns: see the module
        docstring).  ``attrs["geoplan"]`` holds the criteria, weights and method.
    """
    if len(sites) == 0:
        raise GeoplanError("There are no candidate sites to score; check the candidates layer.")
    if not criteria:
        raise CriterionError("No criteria to score with; give at least one Criterion.")
    missing = sorted({c.layer for c in criteria} - set(layers))
    if missing:
        raise CriterionError(
            f"Criteria refer to layer(s) {missing!r} that were not given; pass them in layers=."
        )
    weights = normalize_weights(pd.Series({c.name: c.weight for c in criteria}, dtype="float64"))
    crs = (
        pyproj.CRS(metric_crs)
        if metric_crs is not None
        else coords.local_metric_crs(
            tuple(float(v) for v in coords.project_frame(sites, "EPSG:4326").total_bounds)  # type: ignore[arg-type]
        )
    )
    metrics = dict(metrics or {})
    for c in criteria:
        metrics.setdefault(c.name, StraightLine())
    name_columns = dict(name_columns or {})
    projected_sites = coords.project_frame(sites, crs)
    points = gpd.GeoDataFrame(
        projected_sites.drop(columns=projected_sites.geometry.name),
        geometry=scoring_points(projected_sites),
        crs=crs,
    ).set_axis(_site_labels(sites, id_column))  # warnings name sites by their ids
    projected = {name: _project(layer, crs) for name, layer in layers.items()}

    frame = pd.DataFrame(index=points.index)
    notes = pd.Series("", index=points.index, dtype=object)
    details: list[str] = []
    for c in tqdm(criteria, desc="scoring criteria", unit="criterion", disable=not progress):
        targets = select_features(projected[c.layer], c.where, layer_name=c.layer)
        compute = criterion_measurer(c, points, targets, metrics[c.name], projected)
        raw, detail = (
            compute()
            if reuse is None
            else reuse.measured(c, points, targets, metrics[c.name], projected, compute)
        )
        result = scored(c, raw, detail)
        frame = frame.join(result)
        if detail_column(c) in frame:
            details.append(detail_column(c))
        notes = notes + _unreachable_notes(c, metrics[c.name], points, result, lang)
    labels = {**{n: n for n in layers}, **dict(layer_labels or {})}
    named = [
        Constraint(**{**k.__dict__, "label": k.label or labels.get(str(k.layer), str(k.layer))})
        for k in constraints
    ]
    if reuse is None:
        reasons = check_constraints(
            points,
            named,
            projected,
            metrics=constraint_metrics,
            name_columns=name_columns,
            lang=lang,
        )
    else:
        reasons = pd.Series("", index=points.index, dtype=object)
        for position, k in enumerate(named):
            metric = (constraint_metrics or {}).get(position)
            found = reuse.reasons(
                k,
                points,
                projected,
                metric,
                name_columns,
                _checker(k, points, projected, metric, name_columns, lang),
            )
            reasons = join_reasons(reasons, found)
    eligible = reasons == ""
    scores = frame[[score_column(c) for c in criteria]].set_axis([c.name for c in criteria], axis=1)
    if weights_method in OBJECTIVE_WEIGHTS:
        basis = scores[eligible] if eligible.sum() > 1 else scores
        weights = normalize_weights(OBJECTIVE_WEIGHTS[weights_method](basis))
        logger.info("%s weights from the scores: %s", weights_method, weights.round(3).to_dict())
    for c in criteria:
        frame[contrib_column(c)] = weights[c.name] * frame[score_column(c)]
    frame["score"] = _aggregate(scores, weights, eligible, method, method_options or {})
    frame["eligible"] = eligible
    frame["reason"] = reasons
    frame["rank"] = (
        frame["score"].where(frame["eligible"]).rank(method="min", ascending=False).astype("Int64")
    )
    frame["notes"] = notes.str.rstrip("; ")
    frame = frame.join(_nearest_columns(points, projected, name_columns))
    frame["explanation"] = explanations(frame, explained(criteria, weights), lang)

    per_criterion = [
        col for c in criteria for col in (value_column(c), score_column(c), contrib_column(c))
    ]
    summary = ["rank", "score", "eligible", "reason", "notes"]
    nearest = [col for col in frame.columns if col.startswith("nearest_")]
    frame = frame[summary + nearest + per_criterion + details + ["explanation"]].set_axis(
        sites.index
    )
    ranked = gpd.GeoDataFrame(
        pd.concat([sites.drop(columns=sites.geometry.name), frame], axis=1),
        geometry=coords.project_geometries(sites.geometry, "EPSG:4326"),
        crs="EPSG:4326",
    )
    order = np.lexsort((-ranked["score"].to_numpy(), ~ranked["eligible"].to_numpy()))
    ranked = ranked.iloc[order].reset_index(drop=True)
    ranked.attrs["geoplan"] = {
        "method": method,
        "metric_crs": crs.to_string(),
        "weights": weights.to_dict(),
        "weights_method": weights_method,
        "method_options": dict(method_options or {}),
        "criteria": _criteria_meta(criteria, weights, metrics),
        "lang": lang,
    }
    logger.info("ranked %d sites, %d eligible", len(ranked), int(ranked["eligible"].sum()))
    return ranked


class _StudyNetworks:
    """The study's street networks, one per travel mode, and one metric per (mode, unit).

    ``mode = "transit"`` is walk + metro on the study's ``[transit]`` lines: its
    walks follow the ``[network]``'s walking streets when the study has one,
    else straight lines times a detour factor.  With a :class:`Reuse`, networks
    and metrics are shared with every run that has the same inputs (the parts of
    their keys).
    """

    def __init__(self, study: Study, crs: pyproj.CRS, reuse: Reuse | None = None) -> None:
        self.study = study
        self.options = dict(study.network)
        self.reuse = reuse
        modes = [c.mode for c in study.criteria if c.metric == "network"]
        modes += [k.mode for k in study.constraints if k.metric == "network"]
        if self.options.get("source") is None and any(mode != "transit" for mode in modes):
            raise CriterionError(
                "A criterion uses metric = 'network' but the study has no [network] source; add "
                '[network] source = "city.osm.pbf" (or a place name to download).'
            )
        margin_m = float(self.options.get("margin_m", 3000.0))
        self.crs = crs
        self.area = (
            gpd.GeoSeries([shapely.box(*study.bounds())], crs="EPSG:4326")
            .to_crs(crs)
            .buffer(margin_m)
        )
        self.networks: dict[str, Any] = {}
        self.metrics: dict[tuple[str, str], DistanceMetric] = {}

    def _shared(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        return make() if self.reuse is None else self.reuse.shared(key, make)

    def load_args(self, mode: str) -> dict[str, Any]:
        """The keyword arguments of :func:`~geoplan.streets.network.load_network` for ``mode``."""
        options = self.options
        return {
            "source": options["source"],  # a file is made absolute when the study is loaded
            "mode": mode,
            "crs": self.crs,
            "area": self.area,
            "speeds_kmh": options.get("speeds_kmh"),
            "cache_dir": options.get("cache_dir"),
            "walk_rules": options.get("walk_rules", "auto"),
        }

    def network_key(self, mode: str) -> tuple[Any, ...]:
        """What the network of ``mode`` depends on: its file (by SHA-256), mode, CRS, area, speeds."""
        options = self.options
        return (
            "network",
            str(options["source"]),
            options.get("sha256"),
            mode,
            self.crs.to_wkt(),
            shapely.to_wkb(self.area.iloc[0], hex=True),
            repr(sorted((options.get("speeds_kmh") or {}).items())),
            options.get("walk_rules", "auto"),
        )

    def network(self, mode: str) -> Any:
        """The street network of ``mode`` (loaded once)."""
        from geoplan.streets.network import load_network

        if mode not in self.networks:
            self.networks[mode] = self._shared(
                self.network_key(mode), lambda: load_network(**self.load_args(mode))
            )
        return self.networks[mode]

    def __call__(self, mode: str, unit: str) -> DistanceMetric:
        from geoplan.streets.routing import NetworkMetric

        options = self.options
        if mode == "transit":
            return self._transit()
        if (mode, unit) not in self.metrics:
            network = self.network(mode)
            settings: dict[str, Any] = {
                "unit": unit,
                "max_snap_m": float(options.get("max_snap_m", 500.0)),
                "access_speed_kmh": options.get("access_speed_kmh"),
                "entrance_m": float(options.get("entrance_m", 25.0)),
            }
            key = ("metric", self.network_key(mode), repr(sorted(settings.items())))
            self.metrics[(mode, unit)] = self._shared(
                key, lambda: NetworkMetric(network, **settings)
            )
        return self.metrics[(mode, unit)]

    def _transit(self) -> DistanceMetric:
        """Walk + metro: walks along the [network]'s streets, else straight lines x detour."""
        if ("transit", "min") not in self.metrics:
            from geoplan.transit.metric import TransitMetric

            study, options = self.study, self.options
            service = study.transit_service
            if service is None:
                raise CriterionError(
                    'A criterion uses mode = "transit" but the study has no [transit] lines; '
                    "describe them in [[transit.lines]] or give a GTFS feed."
                )
            walk = self.network("walk") if options.get("source") is not None else None
            settings: dict[str, float] = {
                k: float(v) for k, v in study.transit.items() if k in METRIC_KEYS
            }
            settings["max_snap_m"] = float(options.get("max_snap_m", 500.0))
            settings["entrance_m"] = float(options.get("entrance_m", 25.0))
            key = (
                "transit",
                service,
                self.network_key("walk") if walk is not None else None,
                repr(sorted(settings.items())),
            )
            self.metrics[("transit", "min")] = self._shared(
                key, lambda: TransitMetric(service, network=walk, **settings)
            )
        return self.metrics[("transit", "min")]


def _network_metrics(
    study: Study, crs: pyproj.CRS, reuse: Reuse | None = None
) -> tuple[dict[str, DistanceMetric], dict[int, DistanceMetric]]:
    """One street network per travel mode, one metric per (mode, unit)."""
    needs = [c for c in study.criteria if c.metric == "network"]
    needs_k = [(i, k) for i, k in enumerate(study.constraints) if k.metric == "network"]
    if not needs and not needs_k:
        return {}, {}
    metric_for = _StudyNetworks(study, crs, reuse)
    by_criterion = {c.name: metric_for(str(c.mode), c.unit) for c in needs}
    by_constraint = {i: metric_for(str(k.mode), k.unit) for i, k in needs_k}
    return by_criterion, by_constraint


def study_networks(study: Study) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The street networks ranking a study loads: each one's key and loading arguments.

    A batch loads each of them once, as a task of its own, and hands them to
    :func:`rank_sites` through a :class:`Reuse` under the same key.

    Parameters
    ----------
    study : Study
        A loaded study.

    Returns
    -------
    list of (tuple, dict)
        The :class:`Reuse` key of each network and the keyword arguments of
        :func:`geoplan.load_network` that load it (walk for walk + metro).
    """
    modes = {str(c.mode) for c in study.criteria if c.metric == "network"}
    modes |= {str(k.mode) for k in study.constraints if k.metric == "network"}
    if "transit" in modes:
        modes.discard("transit")
        if study.network.get("source") is not None:
            modes.add("walk")
    if not modes:
        return []
    crs = study.metric_crs or coords.local_metric_crs(study.bounds())
    networks = _StudyNetworks(study, crs)
    return [(networks.network_key(mode), networks.load_args(mode)) for mode in sorted(modes)]


def study_metric(
    study: Study, *, metric: str = "straight", mode: str = "walk", unit: str = "m"
) -> DistanceMetric:
    """The distance metric a study measures with: straight-line, or along its [network].

    Parameters
    ----------
    study : Study
        A loaded study.
    metric : {"straight", "network"}
        Straight-line metres, or along the study's street network.
    mode : {"walk", "bike", "drive"}
        Travel mode on the network.
    unit : {"m", "min"}
        Metres or minutes on the network.

    Returns
    -------
    DistanceMetric
        Measuring in the study's metric CRS.
    """
    if metric != "network":
        return StraightLine()
    crs = study.metric_crs or coords.local_metric_crs(study.bounds())
    return _StudyNetworks(study, crs)(mode, unit)


def study_sites(study: Study) -> gpd.GeoDataFrame:
    """The study's candidate sites: its candidates layer or its generated grid.

    Parameters
    ----------
    study : Study
        A loaded study.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidate sites in EPSG:4326.
    """
    if "candidates" in study.layers:
        return study.layers["candidates"]
    grid = dict(study.grid or {})
    return grid_sites(
        study.layers[str(grid.get("area", "area"))],
        cell_m=float(grid["cell_m"]),
        shape=str(grid.get("shape", "hex")),
        exclusions=study.layers.get("exclusions"),
        crs=study.metric_crs,
    )


def rank_sites(
    study: Study, *, progress: bool = False, lang: str = "en", reuse: Reuse | None = None
) -> gpd.GeoDataFrame:
    """Score and rank the candidate sites of a study.

    Parameters
    ----------
    study : Study
        A study from :func:`geoplan.load_study`.
    progress : bool
        Show progress bars.
    lang : {"en", "zh", "zh+en"}
        Language of the reasons, notes and explanations (default English).
    reuse : Reuse, optional
        Networks, metrics and measured criteria shared with related runs
        (scenarios of the study, a batch); see :class:`Reuse`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate, best first; see :func:`score_sites`.
    """
    sites = study_sites(study)
    crs = study.metric_crs or coords.local_metric_crs(study.bounds())
    metrics, constraint_metrics = _network_metrics(study, crs, reuse)
    ranked = score_sites(
        sites,
        study.layers,
        study.criteria,
        constraints=study.constraints,
        metric_crs=crs,
        method=study.method,
        method_options=study.method_options,
        metrics=metrics,
        constraint_metrics=constraint_metrics,
        name_columns=study.name_columns,
        layer_labels={name: study.layer_label(name) for name in study.layers},
        weights_method=str(study.weights_spec.get("method", "direct")),
        id_column=study.id_columns.get("candidates"),
        progress=progress,
        lang=check_lang(lang),
        reuse=reuse,
    )
    ranked.attrs["geoplan"]["study"] = study.title
    # The column naming the sites (generated grid cells are named by site_id).
    id_column = study.id_columns.get("candidates")
    if id_column is None and "candidates" not in study.layers:
        id_column = "site_id"
    ranked.attrs["geoplan"]["id_column"] = id_column
    return ranked


def _criteria_from_columns(ranked: pd.DataFrame) -> list[dict[str, Any]]:
    """Recover criterion metadata from the column scheme (tables read from files)."""
    meta = []
    for column in ranked.columns:
        if not str(column).startswith("value__"):
            continue
        _, name, unit = str(column).split("__", 2)
        score = ranked[f"score__{name}"]
        contrib = ranked[f"contrib__{name}"]
        ratio = (contrib / score.where(score > 0)).dropna()
        meta.append(
            {
                "name": name,
                "label": name.replace("_", " "),
                "unit": unit,
                "weight": float(ratio.median()) if len(ratio) else float("nan"),
                "decay": "",
                "value_column": column,
                "score_column": f"score__{name}",
                "contrib_column": f"contrib__{name}",
            }
        )
    return meta


def explain_site(ranked: pd.DataFrame, site: object) -> pd.DataFrame:
    """Break one site's score down criterion by criterion.

    Parameters
    ----------
    ranked : pandas.DataFrame
        Output of :func:`rank_sites` (or the same table read back from a file).
    site : object
        The site: a value of ``site_id`` or ``name``, or a rank (int).

    Returns
    -------
    pandas.DataFrame
        One row per criterion: label, raw value and unit, decay, score,
        weight, contribution and share of the total; ``attrs["summary"]``
        holds the site's one-line explanation.
    """
    row = None
    for column in ("site_id", "name", "name_zh"):
        if column in ranked.columns:
            match = ranked[ranked[column].astype(str) == str(site)]
            if len(match):
                row = match.iloc[0]
                break
    if row is None and isinstance(site, int | np.integer) and "rank" in ranked.columns:
        match = ranked[ranked["rank"] == site]
        row = match.iloc[0] if len(match) else None
    if row is None:
        examples = ranked["name"].head(3).tolist() if "name" in ranked.columns else []
        raise CriterionError(
            f"No site {plain(site)!r} in the ranking; give a site_id, a name (e.g. {examples!r}) "
            "or a rank."
        )
    meta = ranked.attrs.get("geoplan", {}).get("criteria") or _criteria_from_columns(ranked)
    total = float(sum(row[m["contrib_column"]] for m in meta))
    table = pd.DataFrame(
        {
            "criterion": [m["label"] for m in meta],
            "value": [format_value(row[m["value_column"]], m["unit"]) for m in meta],
            "raw_value": [row[m["value_column"]] for m in meta],
            "unit": [m["unit"] for m in meta],
            "decay": [m["decay"] for m in meta],
            "score": [row[m["score_column"]] for m in meta],
            "weight": [m["weight"] for m in meta],
            "contribution": [row[m["contrib_column"]] for m in meta],
        },
        index=pd.Index([m["name"] for m in meta], name="name"),
    )
    table["share"] = table["contribution"] / total if total > 0 else 0.0
    table.attrs["summary"] = str(row.get("explanation", ""))
    return table

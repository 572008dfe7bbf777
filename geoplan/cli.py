"""The ``geoplan`` command line: a thin layer over the public API.

Every failure geoplan anticipates is printed as one line (``error: ...``) and
exits with status 1; usage mistakes exit with 2 (click's convention).  No
traceback reaches the user unless ``-v -v`` asks for debugging output, and a
failed run writes nothing.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
import geopandas as gpd
import pandas as pd

from geoplan import __version__
from geoplan._errors import GeoplanError, LayerNotFoundError, OutputExistsError, WeightsError
from geoplan.decide.ahp import ahp_weights, group_ahp
from geoplan.io import datasets, outputs, tables
from geoplan.io.lang import LANGS, check_lang
from geoplan.io.lang import label as say
from geoplan.io.layers import read_layer
from geoplan.study._checks import sha256
from geoplan.study.files import Study, load_study
from geoplan.study.ranking import rank_sites

logger = logging.getLogger("geoplan")

F = TypeVar("F", bound=Callable[..., Any])

#: Marker written into demo outputs, so `geoplan demo` may regenerate them.
DEMO_MARKER = "Effective study written by geoplan"


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.WARNING
        if quiet
        else (logging.INFO if verbose == 1 else logging.DEBUG if verbose > 1 else logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("geoplan")
    root.handlers[:] = [handler]
    root.setLevel(level)
    # the one-off "compiling the network engine" notice is shown unless --quiet: a
    # first run otherwise seems to hang while numba compiles
    logging.getLogger("geoplan.streets._kernels").setLevel(
        logging.WARNING if quiet else min(level, logging.INFO)
    )

    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        click.echo(f"warning: {message}", err=True)

    warnings.showwarning = show


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geoplan")
@click.option("-v", "--verbose", count=True, help="More output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and warnings; no progress bars.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Rank candidate sites for talent communities and explain every score."""
    _configure_logging(verbose, quiet)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def _verbosity(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """-v/-q given after the subcommand: update what the group set up."""
    if not value:
        return
    settings = ctx.ensure_object(dict)
    settings[str(param.name)] = value
    _configure_logging(int(settings.get("verbose", 0)), bool(settings.get("quiet", False)))


def verbosity_options(command: F) -> F:
    """Accept -v/-q after a subcommand as well as before it."""
    command = click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_verbosity,
        help="More output (-v info, -vv debug).",
    )(command)
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_verbosity,
        help="Only errors and warnings; no progress bars.",
    )(command)


def _lang_option(command: F) -> F:
    """``--lang zh|en|zh+en``: the language of the tables, the map and the summary."""
    return click.option(
        "--lang",
        "lang",
        type=click.Choice(LANGS, case_sensitive=False),
        help="Language of tables, map and summary: zh, en or zh+en (default: tables en, "
        "map zh+en or the study's [map] lang).",
    )(command)


def _print_top(ranked: gpd.GeoDataFrame, top: int, lang: str = "en") -> None:
    columns = [
        c
        for c in (
            "rank",
            "site_id",
            "name",
            "score",
            "nearest_station_name",
            "nearest_station_m",
            "nearest_park_name",
        )
        if c in ranked.columns
    ]
    if lang != "en" and "name_zh" in ranked.columns:
        columns = [c if c != "name" else "name_zh" for c in columns]
    table = pd.DataFrame(ranked.loc[ranked["eligible"], columns].head(top))
    table = tables.for_people(table, lang)
    click.echo(table.to_string(index=False))
    excluded = int((~ranked["eligible"]).sum())
    if excluded:
        click.echo(say("ineligible_summary", lang, n=excluded, total=len(ranked)))


def _study_sidecar(path: Path) -> Path:
    """The effective study beside a table: ``ranked.gpkg`` -> ``ranked.gpkg.study.toml``."""
    return path.with_name(f"{path.name}.study.toml")


def _check_outputs(*paths: Path | None, force: bool) -> None:
    """Refuse before any work is done if an output exists (without --force) or cannot be written."""
    for path in paths:
        if path is not None:
            outputs.check_output_path(path, force=force)


#: Files the running command has written completely (said if it is interrupted later).
_WRITTEN: list[Path] = []


def _stage_result(
    out: outputs.OutputSet,
    ranked: gpd.GeoDataFrame,
    study: Study,
    table: Path,
    lang: str = "en",
    *,
    layer_name: str = "ranked_sites",
) -> None:
    """Stage the table (for people: rounded, headed in ``lang``) and, as its companion,
    the effective study that describes it."""
    temp = out.write_layer(tables.for_people(ranked, lang), table, layer_name=layer_name)
    result = {"table": table.name, "sha256": sha256(temp)}
    out.write_text(study.to_toml(result=result), _study_sidecar(table), companion_of=table)


def _stage_map(out: outputs.OutputSet, page: str, path: Path, png: Path | None) -> None:
    html = out.write_text(page, path)
    if png is not None:
        from geoplan.maps import snapshot

        out.write(png, lambda temp: snapshot.save_snapshot(html, temp, force=True))


def _said_written(out: outputs.OutputSet, lang: str = "en") -> None:
    """Say what was written (the set was committed when its block ended)."""
    for path in out.written:
        click.echo(say("wrote", lang, path=path))


def _minutes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[float] | None:
    """``--isochrones 5,10,15``: positive minutes, comma-separated."""
    if value is None:
        return None
    try:
        found = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        found = []
    if not found or not all(m > 0 for m in found):
        raise click.BadParameter(f"{value!r}: give positive minutes such as 5,10,15.")
    return found


def _isochrones_option(command: F) -> F:
    """``--isochrones 5,10,15``: walk-time isochrones of the top sites on the map."""
    return click.option(
        "--isochrones",
        "isochrones",
        metavar="MINUTES",
        callback=_minutes,
        help="Draw walk-time isochrones of the top sites, e.g. 5,10,15 (minutes along the "
        "study's [network] streets; the study's [map] isochrones sets which sites).",
    )(command)


def _map_options(
    study: Study | None,
    basemap: str | None,
    offline: bool | None,
    lang: str | None = None,
    isochrones: list[float] | None = None,
) -> dict[str, Any]:
    options = dict(study.map_options) if study is not None else {}
    if isochrones is not None:
        spec = options.get("isochrones")
        options["isochrones"] = {
            **(dict(spec) if isinstance(spec, dict) else {"sites": "top"}),
            "minutes": isochrones,
        }
    if basemap is not None:
        options["basemap"] = basemap
    if lang is not None:
        options["lang"] = lang
    if offline is not None:
        options["offline"] = offline
    return options


def _map_page(ranked: gpd.GeoDataFrame, study: Study | None, options: dict[str, Any]) -> str:
    """The map's HTML, rendered in memory (so a bad option fails before anything is written)."""
    from geoplan import maps

    options = dict(options)
    offline = bool(options.pop("offline", True))
    return maps.map_html(maps.make_map(ranked, study, **maps.map_kwargs(options)), offline=offline)


@cli.command()
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Ranked table to write: .gpkg, .geojson, .csv, .parquet or .xlsx (default: the "
    "study's [outputs]).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    help="How many top sites to print (default: the study's top).",
)
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
@click.option(
    "--map",
    "map_path",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="Also write an interactive HTML map (no PATH: the study's [outputs] map).",
)
@click.option("--no-map", is_flag=True, help="Do not write the study's [outputs] map.")
@click.option(
    "--offline/--online", default=None, help="Self-contained map (default) or CDN-linked map."
)
@click.option("--basemap", help="Map basemap: carto-light, osm, tianditu, gaode or none.")
@click.option(
    "--robustness",
    "draws",
    type=click.IntRange(min=100),
    help="Monte-Carlo weight draws for a robustness summary.",
)
@_isochrones_option
@_lang_option
@click.pass_context
def rank(
    ctx: click.Context,
    study_path: Path,
    out: Path | None,
    top: int | None,
    force: bool,
    map_path: str | None,
    no_map: bool,
    offline: bool | None,
    basemap: str | None,
    draws: int | None,
    isochrones: list[float] | None,
    lang: str | None,
) -> None:
    """Score and rank the candidate sites of STUDY and write the ranked table.

    Without --out, the study's [outputs] are written: the table and, when the
    study names one, the map. --map without a path writes the study's map.
    """
    study = load_study(study_path)
    study_map = study.outputs.get("map")
    if map_path == "":
        if not study_map:
            raise click.UsageError(
                "--map without a path needs [outputs] map in the study; give --map PATH."
            )
        map_path = str(study_map)
    elif map_path is None and out is None and study_map and not no_map:
        map_path = str(study_map)
    if no_map:
        map_path = None
    if map_path is None and (basemap is not None or offline is not None or isochrones):
        raise click.UsageError("--basemap, --offline/--online and --isochrones go with --map.")
    if out is None:
        out = Path(str(study.outputs["dir"])) / str(study.outputs["table"])
    the_map = Path(map_path) if map_path is not None else None
    _check_outputs(out, force=force)  # first: a path that names no file has no sidecar
    _check_outputs(_study_sidecar(out), the_map, force=force)
    table_lang = check_lang(lang) if lang else "en"
    ranked = rank_sites(study, progress=not ctx.obj["quiet"], lang=table_lang)
    if draws:
        from geoplan.decide.robustness import add_robustness

        ranked = add_robustness(ranked, draws=draws, top_k=top or study.top)
    page = None
    if the_map is not None:
        page = _map_page(ranked, study, _map_options(study, basemap, offline, lang, isochrones))
    with outputs.OutputSet(force=force, written=_WRITTEN) as staged:
        _stage_result(staged, ranked, study, out, table_lang)
        if page is not None and the_map is not None:
            _stage_map(staged, page, the_map, None)
    _print_top(ranked, top or study.top, table_lang)
    _said_written(staged, table_lang)


@cli.command()
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--k", "k", type=click.IntRange(min=1), help="New sites to choose (default: [choose] k)."
)
@click.option(
    "--objective",
    type=click.Choice(["coverage", "median", "cover_all", "dispersion", "score"]),
    help="What the portfolio optimises (default: [choose] objective, else coverage).",
)
@click.option(
    "--solver",
    type=click.Choice(["auto", "exact", "heuristic"]),
    help="Exact MILP, heuristic with a bound, or auto by size (default: [choose] solver).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Chosen sites to write: .gpkg, .geojson, .csv or .parquet (default: "
    "[outputs] dir / portfolio.gpkg).",
)
@click.option("--map", "map_path", type=click.Path(path_type=Path), help="Also write a map.")
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
@click.pass_context
def choose(
    ctx: click.Context,
    study_path: Path,
    k: int | None,
    objective: str | None,
    solver: str | None,
    out: Path | None,
    map_path: Path | None,
    force: bool,
) -> None:
    """Choose the best portfolio of k new sites of STUDY (its [choose] table) and write it.

    The sites are ranked first; existing sites are kept, and the table lists the
    chosen ones in greedy build-out order with what each adds.
    """
    from geoplan.choose.portfolio import choose_sites

    study = load_study(study_path)
    if out is None:
        out = Path(str(study.outputs["dir"])) / "portfolio.gpkg"
    _check_outputs(out, force=force)
    _check_outputs(_study_sidecar(out), map_path, force=force)
    ranked = rank_sites(study, progress=not ctx.obj["quiet"])
    portfolio = choose_sites(ranked, study, k=k, objective=objective, solver=solver)
    page = None
    if map_path is not None:
        from geoplan import maps

        settings = dict(_map_options(study, None, None))
        offline = bool(settings.pop("offline", True))
        page = maps.map_html(
            maps.make_map(ranked, study, portfolio=portfolio, **maps.map_kwargs(settings)),
            offline=offline,
        )
    table = portfolio.sites.drop(columns=["explanation"], errors="ignore")
    with outputs.OutputSet(force=force, written=_WRITTEN) as staged:
        _stage_result(staged, table, study, out, layer_name="portfolio")
        if page is not None and map_path is not None:
            _stage_map(staged, page, map_path, None)
    click.echo(portfolio.summary())
    shown = [
        c
        for c in ("order", "site_id", "name", "role", "adds", "cumulative_share", "score")
        if c in table.columns
    ]
    click.echo(pd.DataFrame(table[shown]).round(3).to_string(index=False))
    _said_written(staged)


@cli.command()
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Indicator table to write: .gpkg, .geojson, .csv or .parquet (default: "
    "[outputs] dir / indicators.gpkg).",
)
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
def indicators(study_path: Path, out: Path | None, force: bool) -> None:
    """Write every industry-city indicator of STUDY's candidate sites (its [indicators] table).

    Station areas and lines within reach, jobs within reach, 2SFCA and the
    job-housing ratio with a housing layer, the effect of building each
    candidate, GB 50180 life circles and their gaps, protection margins and
    downwind exposure: each group whose data the study has.
    """
    from geoplan.study.indicator_table import study_indicators

    study = load_study(study_path)
    if out is None:
        out = Path(str(study.outputs["dir"])) / "indicators.gpkg"
    _check_outputs(out, force=force)
    _check_outputs(_study_sidecar(out), force=force)
    table = study_indicators(study)
    with outputs.OutputSet(force=force, written=_WRITTEN) as staged:
        _stage_result(staged, table, study, out, layer_name="indicators")
    wanted = ("site_id", "ring", "jobs_within_30min", "jobs_per_worker", "jobs_housing_ratio")
    shown = [c for c in (*wanted, "lc15_ok", "lc15_missing") if c in table.columns]
    click.echo(pd.DataFrame(table[shown]).round(3).head(study.top).to_string(index=False))
    click.echo(f"({len(table)} sites, {table.shape[1] - 1} columns)")
    _said_written(staged)


@cli.command(name="compare")
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--scenarios",
    "scenarios_path",
    type=click.Path(path_type=Path),
    help="A file of [[scenarios]] tables (default: the study's own [[scenarios]]).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Comparison to write: .xlsx (sheets sites and summary), .gpkg or .csv.",
)
@click.option("--map", "map_path", type=click.Path(path_type=Path), help="Also write a map.")
@click.option("--top", type=click.IntRange(min=1), help="The top k compared (default: study top).")
@click.option("--basemap", help="Map basemap: carto-light, osm, tianditu, gaode or none.")
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
@click.pass_context
def compare_command(
    ctx: click.Context,
    study_path: Path,
    scenarios_path: Path | None,
    out: Path,
    map_path: Path | None,
    top: int | None,
    basemap: str | None,
    force: bool,
) -> None:
    """Compare STUDY's scenarios with its base run: per site and scenario, and a summary.

    Only the criteria whose inputs a scenario changes are measured again; the
    table gives each site's score, rank, eligibility and criterion values per
    scenario with the differences to the base.
    """
    from geoplan.scenarios.compare import compare, stage_comparison, summary_path

    study = load_study(study_path)
    if out.suffix.lower() == ".csv":
        _check_outputs(out, summary_path(out), force=force)
    else:
        _check_outputs(out, force=force)
    _check_outputs(_study_sidecar(out), map_path, force=force)
    comparison = compare(study, scenarios_path, top_k=top, progress=not ctx.obj["quiet"])
    page = None
    if map_path is not None:
        from geoplan.maps.build import map_html
        from geoplan.maps.compare import compare_map

        options = _map_options(study, basemap, None)
        page = map_html(
            compare_map(comparison, basemap=basemap), offline=bool(options.get("offline", True))
        )
    with outputs.OutputSet(force=force, written=_WRITTEN) as staged:
        stage_comparison(staged, comparison, out)
        if page is not None and map_path is not None:
            _stage_map(staged, page, map_path, None)
    columns = ["scenario", "eligible", "became_eligible", "dropped_out", "moved_up"]
    shown = comparison.summary[[*columns, "moved_down", "entered_top_k", "left_top_k"]]
    click.echo(shown.to_string(index=False))
    _said_written(staged)


@cli.command(name="batch")
@verbosity_options
@click.argument("batch_path", metavar="PROVINCE.toml", type=click.Path(path_type=Path))
@click.option(
    "--scheduler",
    help="A Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (default: a local cluster).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Workers of the local cluster (default: one per core, at least 2 GiB each).",
)
@click.option(
    "--force", is_flag=True, help="Write into an output folder holding files no batch wrote."
)
@click.pass_context
def batch_command(
    ctx: click.Context, batch_path: Path, scheduler: str | None, workers: int | None, force: bool
) -> None:
    """Run every city of PROVINCE.toml with its scenarios on Dask, and gather the results.

    Each city's street networks are loaded once (clipped from the provincial extract
    when the batch names one); a city that fails is reported while the others
    finish; a re-run skips cities whose inputs and outputs are unchanged.
    """
    from geoplan.batch.run import run_batch

    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sizes the local cluster; leave it out with --scheduler.")
    result = run_batch(
        batch_path,
        scheduler=scheduler,
        workers=workers,
        force=force,
        progress=not ctx.obj["quiet"],
        announce=lambda line: click.echo(line, err=True),
    )
    shown = result.report.fillna({"error": ""})
    click.echo(shown.to_string(index=False))
    click.echo(f"wrote {result.out / 'index.html'} and {result.out / 'province.csv'}")
    if result.failed:
        raise click.ClickException(
            f"{len(result.failed)} of {len(result.report)} cities failed ({', '.join(result.failed)}); "
            f"their errors are in {result.out / 'report.csv'}; the others were written."
        )


def _read_result(path: Path) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise LayerNotFoundError(
            f"Ranked table {str(path)!r} does not exist; write one with "
            "`geoplan rank STUDY --out ranked.gpkg` first."
        )
    return read_layer(path)


@cli.command(name="map")
@verbosity_options
@click.argument("result", metavar="RESULT", type=click.Path(path_type=Path))
@click.option(
    "--out", "out", type=click.Path(path_type=Path), required=True, help="HTML map to write."
)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    help="Also write a snapshot (headless Chromium): a .png image, or a .pdf print of the map "
    "(A4 landscape, without the on-screen controls).",
)
@click.option(
    "--offline/--online", default=None, help="Self-contained map (default) or CDN-linked map."
)
@click.option("--basemap", help="carto-light, osm, tianditu, gaode or none.")
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
@_isochrones_option
@_lang_option
def map_command(
    result: Path,
    out: Path,
    png: Path | None,
    offline: bool | None,
    basemap: str | None,
    force: bool,
    isochrones: list[float] | None,
    lang: str | None,
) -> None:
    """Draw the interactive map of a ranked table (RESULT from `geoplan rank`).

    The effective study written beside RESULT (RESULT.study.toml, e.g. ranked.gpkg.study.toml) supplies the
    context layers, labels and [map] options when it is there.
    """
    if png is not None:
        from geoplan.maps import snapshot

        snapshot.check_snapshot_path(png)
    _check_outputs(out, png, force=force)
    ranked = _read_result(result)
    study = _result_study(result)
    if study is not None:  # a table written in Chinese: its columns' names back
        ranked = tables.canonical(ranked, _criteria_meta(study))
    page = _map_page(ranked, study, _map_options(study, basemap, offline, lang, isochrones))
    with outputs.OutputSet(force=force, written=_WRITTEN) as staged:
        _stage_map(staged, page, out, png)
    _said_written(staged, check_lang(lang) if lang else "en")


@cli.command()
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="The report to write, a .pdf; its HTML twin is written beside it (same name, .html).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    help="How many top sites get a row and a dossier page (default: the study's top).",
)
@click.option(
    "--robustness",
    "draws",
    type=click.IntRange(min=100),
    help="Monte-Carlo weight draws: each dossier then says how robust its rank is.",
)
@click.option("--force", is_flag=True, help="Replace output files that already exist.")
@_lang_option
@click.pass_context
def report(
    ctx: click.Context,
    study_path: Path,
    out: Path,
    top: int | None,
    draws: int | None,
    force: bool,
    lang: str | None,
) -> None:
    """Write the study report of STUDY: a PDF and its HTML twin.

    The report holds the title, the method and weights (with the AHP consistency
    ratio), the map, the ranked table of the top sites, one dossier page per top
    site (inset map, score breakdown, robustness, life-circle gaps), the excluded
    sites with their reasons and the data sources with their SHA-256 hashes.
    Printing needs the local Chromium (default language: zh+en).
    """
    from geoplan.report.build import check_report_path, study_report, twin_path

    pdf = check_report_path(out)
    _check_outputs(pdf, twin_path(pdf), force=force)
    study = load_study(study_path)
    the_lang = check_lang(lang) if lang else "zh+en"
    files = study_report(
        study,
        pdf,
        lang=the_lang,
        top=top,
        robustness_draws=draws,
        force=force,
        progress=not ctx.obj["quiet"],
        written=_WRITTEN,
    )
    for path in (files.pdf, files.html):
        click.echo(say("wrote", the_lang, path=path))


def _criteria_meta(study: Study) -> list[dict[str, Any]]:
    """The study's criteria as a table's attrs describe them (names, labels, units)."""
    return [
        {"name": c.name, "label": c.title, "label_zh": c.label_zh, "unit": c.value_unit}
        for c in study.criteria
    ]


def _result_study(table: Path) -> Study | None:
    """The effective study beside a table, if any; warn when it describes another table."""
    sidecar = _study_sidecar(table)
    if not sidecar.is_file():
        logger.info(
            "no %s beside the table; drawing the sites without context layers", sidecar.name
        )
        return None
    study = load_study(sidecar)
    recorded = study.result.get("sha256")
    if recorded is not None and recorded != sha256(table):
        logger.warning(
            "%s was written for another version of %s (its SHA-256 differs): the table has "
            "changed since; labels and context come from that study",
            sidecar.name,
            table.name,
        )
    return study


def _read_judgements(path: Path) -> Any:
    """A pairwise matrix (square, names in the header and first column) or a judgement list."""
    if not path.is_file():
        raise LayerNotFoundError(
            f"Comparison file {str(path)!r} does not exist; give a CSV with a square comparison "
            "matrix or one judgement per line (A,B,3)."
        )
    table = pd.read_csv(path, encoding="utf-8-sig", index_col=0, dtype=str)
    names = [str(c) for c in table.columns]
    if names == [str(i) for i in table.index]:
        try:
            return table.map(lambda v: float(Fraction(str(v).strip())))
        except (ValueError, ZeroDivisionError) as exc:
            raise WeightsError(
                f"{path.name}: a comparison is not a number such as 3 or 1/3 ({exc}); fix that cell."
            ) from exc
    table = pd.read_csv(path, encoding="utf-8-sig", header=None)
    if table.shape[1] != 3:
        raise WeightsError(
            f"{path.name} is neither a square comparison matrix (criteria in the header row and "
            "first column, in the same order) nor a list of judgements with three columns "
            f"(criterion A, criterion B, how many times A matters more than B); it has {table.shape[1]} columns."
        )
    rows = table if not str(table.iloc[0, 2]).strip().replace(".", "").isalpha() else table.iloc[1:]
    return [(str(a), str(b), str(v)) for a, b, v in rows.itertuples(index=False)]


@cli.group()
def weights() -> None:
    """Derive criterion weights (AHP) for the study file."""


@weights.command(name="ahp")
@verbosity_options
@click.argument(
    "files", metavar="MATRIX.csv...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--max-cr",
    type=click.FloatRange(min=0),
    default=0.10,
    show_default=True,
    help="Largest acceptable consistency ratio.",
)
@click.option(
    "--warn",
    "warn_only",
    is_flag=True,
    help="Report an inconsistent matrix but still give its weights.",
)
def weights_ahp(files: tuple[Path, ...], max_cr: float, warn_only: bool) -> None:
    """AHP weights from one official's comparisons, or the group's from several files.

    Each file is a square comparison matrix (criterion names in the header row
    and the first column) or a list of judgements "A,B,3" (A matters 3 times as
    much as B). Several files are combined by the geometric mean of judgements.
    """
    on_inconsistent: Literal["warn", "raise"] = "warn" if warn_only else "raise"
    if len(files) == 1:
        result = ahp_weights(
            _read_judgements(files[0]), max_cr=max_cr, on_inconsistent=on_inconsistent
        )
        click.echo(result.summary())
        found = result.weights
    else:
        group = group_ahp(
            {p.stem: _read_judgements(p) for p in files},
            max_cr=max_cr,
            on_inconsistent=on_inconsistent,
        )
        click.echo(group.group.summary())
        click.echo("\nEach official (consistency ratio, departure from the group):")
        click.echo(group.members.round(3).to_string())
        found = group.weights
    click.echo("\nFor the study file (replace the criteria's weight = ... keys):")
    click.echo("\n".join(f"#   {name}: weight = {value:.4f}" for name, value in found.items()))


@cli.command()
@verbosity_options
@click.argument("study_path", metavar="STUDY", type=click.Path(path_type=Path))
def validate(study_path: Path) -> None:
    """Check STUDY and report every problem at once (writes nothing)."""
    study = load_study(study_path)
    sizes = ", ".join(f"{name} {len(layer)}" for name, layer in study.layers.items())
    click.echo(
        f"{study_path}: OK. {len(study.criteria)} criteria, {len(study.constraints)} constraints, "
        f"method {study.method}; layers: {sizes}."
    )


def _demo_may_replace(path: Path) -> bool:
    """Demo outputs carry geoplan's marker; anything else is a user's file."""
    if not path.exists():
        return True

    def head(file: Path, size: int) -> str:
        with file.open("r", encoding="utf-8", errors="replace") as handle:
            return handle.read(size)

    if path.suffix == ".html":
        return "geoplan" in head(path, 4096)
    probe = path if path.name.endswith(".study.toml") else _study_sidecar(path)
    return probe.exists() and DEMO_MARKER in head(probe, 400)


@cli.command()
@verbosity_options
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path),
    default=Path("outputs/changzhou"),
    show_default=True,
    help="Folder for the ranked tables.",
)
@click.option(
    "--map",
    "map_path",
    type=click.Path(path_type=Path),
    default=Path("maps/changzhou.html"),
    show_default=True,
    help="Where to write the demo map.",
)
@click.option("--force", is_flag=True, help="Replace files even if geoplan did not write them.")
@click.pass_context
def demo(ctx: click.Context, out_dir: Path, map_path: Path, force: bool) -> None:
    """Run the Changzhou sample study offline and write its tables and map.

    Files written by an earlier demo are regenerated; any other file in the
    way is left alone unless --force is given.
    """
    study = load_study(datasets.get_path("changzhou"))
    tables = [out_dir / "ranked.gpkg", out_dir / "ranked.csv"]
    for path in [*tables, *(_study_sidecar(t) for t in tables), map_path]:
        if not force and not _demo_may_replace(path):
            raise OutputExistsError(
                f"{str(path)!r} exists and was not written by geoplan; move it away or pass "
                "--force to replace it."
            )
    _check_outputs(*tables, map_path, force=True)
    ranked = rank_sites(study, progress=not ctx.obj["quiet"])
    page = _map_page(ranked, study, _map_options(study, None, True))
    with outputs.OutputSet(force=True, written=_WRITTEN) as staged:
        for table in tables:
            _stage_result(staged, ranked, study, table)
        _stage_map(staged, page, map_path, None)
    _print_top(ranked, study.top)
    _said_written(staged)


#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


def interrupted_message(written: Sequence[Path] | None = None) -> str:
    """What to say after Ctrl-C: what was written (always complete), else that nothing was.

    ``written`` defaults to the files the running command has written.
    """
    written = _WRITTEN if written is None else written
    if not written:
        return "interrupted; nothing was written or changed."
    names = ", ".join(str(p) for p in written)
    return (
        f"interrupted after these files were written completely: {names}; nothing else was "
        "written or changed."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 for a geoplan error, 2 for a usage error.
    """
    saved = (logger.handlers[:], logger.level, warnings.showwarning)
    _WRITTEN.clear()
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="geoplan",
            standalone_mode=False,
        )
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo(f"error: {interrupted_message()}", err=True)
        return INTERRUPTED
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "geoplan"
        click.echo(f"error: {exc.format_message()} (see `{command} --help`)", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except GeoplanError as exc:
        if logger.isEnabledFor(logging.DEBUG):
            logger.exception("geoplan failed")
        click.echo(f"error: {exc}", err=True)
        return 1
    except OSError as exc:
        click.echo(
            f"error: {exc.strerror or exc} ({exc.filename or ''}); check the path and permissions.",
            err=True,
        )
        return 1
    except Exception as exc:  # a bug in geoplan or a library: still one line, details with -vv
        logger.debug("unexpected failure", exc_info=True)
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc}. This is a bug in geoplan or a "
            "library it uses; run again with -vv for the traceback and report it.",
            err=True,
        )
        return 1
    finally:  # leave the caller's logging and warnings as they were
        logger.handlers[:], warnings.showwarning = saved[0], saved[2]
        logger.setLevel(saved[1])
    return 0

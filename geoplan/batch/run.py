"""Running a batch on Dask: cities x scenarios, networks loaded once, resumable, fault tolerant.

:func:`run_batch` builds the work as Dask tasks on a ``dask.distributed``
cluster (a :class:`~dask.distributed.LocalCluster` sized to the machine by
default, or any scheduler's address):

1. one *prepare* task per city: load and check its study and scenarios and
   fingerprint its inputs (:func:`~geoplan.batch.province.city_inputs`); a city
   whose fingerprint and outputs are those of the last run is skipped;
2. one *network* task per street network a city needs (each loaded once,
   clipped from the provincial extract when the batch names one);
3. one *city* task that ranks the base and every scenario with those networks
   (:func:`geoplan.compare`, sharing everything unchanged) and writes the city's
   table, summary and map together (:class:`~geoplan.io.outputs.OutputSet`), then
   its ``inputs.json``.  Cities with more candidate sites than
   ``partition_sites`` are ranked by the client instead, their criteria measured
   in dask-geopandas partitions across the workers
   (:mod:`geoplan.batch.partitions`).

A city that fails (broken data, a bad scenario) is reported with its error in
``report.csv`` while the others finish.  Then the cities' tables are gathered
into ``province.csv`` and ``province_summary.csv``, and ``index.html`` links
every city's map and tables.
"""

from __future__ import annotations

import html
import json
import logging
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
from tqdm import tqdm

from geoplan import __version__
from geoplan._errors import GeoplanError, OutputExistsError
from geoplan.batch.partitions import PartitionedCache
from geoplan.batch.province import Batch, City, city_inputs, load_city, read_batch
from geoplan.io import outputs
from geoplan.scenarios.compare import compare, stage_comparison, summary_path
from geoplan.scenarios.reuse import RunCache, fingerprint
from geoplan.study._checks import sha256
from geoplan.study.ranking import study_networks, study_sites

__all__ = ["BatchResult", "run_batch"]

logger = logging.getLogger(__name__)

#: The batch's own record in its output folder (marks the folder as the batch's).
MANIFEST: Final = "batch.json"
_TABLE: Final = "compare.csv"
_MAP: Final = "map.html"
_INPUTS: Final = "inputs.json"
#: Memory a local worker is given at least (GiB).
_WORKER_GIB: Final = 2.0


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per city: ``status`` (``done``, ``unchanged``, ``failed``),
        ``seconds``, ``sites``, ``scenarios``, ``networks_in_city_task`` (street
        networks the city's task had to load itself: 0 when the network tasks
        gave them all), ``error``.
    table : pandas.DataFrame
        Every city's long table (site x scenario), with a ``city`` column.
    summary : pandas.DataFrame
        Every city's summary (one row per scenario), with a ``city`` column.
    out : pathlib.Path
        The output folder (``index.html``, ``province.csv``, ``report.csv``, cities).
    dashboard : str
        The Dask dashboard's address ("" when there is none).
    """

    report: pd.DataFrame
    table: pd.DataFrame
    summary: pd.DataFrame
    out: Path
    dashboard: str = ""
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        """Cities that failed."""
        return [str(c) for c in self.report.loc[self.report["status"] == "failed", "city"]]


# --------------------------------------------------------------------------------------
# Tasks (run on the workers; module-level so they pickle by reference)
# --------------------------------------------------------------------------------------


def _city_folder(batch: Batch, city: City) -> Path:
    return batch.out / city.name


def _outputs_of(batch: Batch, city: City) -> list[Path]:
    folder = _city_folder(batch, city)
    files = [folder / _TABLE, summary_path(folder / _TABLE), folder / f"{_TABLE}.study.toml"]
    return [*files, folder / _MAP] if batch.maps else files


def prepare_city(city: City, batch: Batch) -> dict[str, Any]:
    """Load and fingerprint a city; say whether its outputs are already up to date."""
    study, scenarios = load_city(city, batch)
    inputs = city_inputs(study, scenarios, batch)
    record = _city_folder(batch, city) / _INPUTS
    unchanged = False
    if record.is_file():
        try:
            known = json.loads(record.read_text(encoding="utf-8"))
            files = known.get("outputs", {})
            unchanged = known.get("inputs") == inputs and all(
                Path(p).is_file() and sha256(Path(p)) == digest for p, digest in files.items()
            )
            unchanged = unchanged and sorted(files) == sorted(map(str, _outputs_of(batch, city)))
        except (OSError, ValueError):
            unchanged = False
    return {
        "city": city.name,
        "inputs": inputs,
        "unchanged": unchanged,
        "sites": len(study_sites(study)),
        "scenarios": len(scenarios),
        "networks": [] if unchanged else study_networks(study),
    }


def load_city_network(arguments: dict[str, Any]) -> Any:
    """One street network (a task of its own, so every scenario of the city shares it)."""
    from geoplan.streets.network import load_network

    return load_network(**arguments)


def run_city(
    city: City,
    batch: Batch,
    inputs: str,
    keys: list[tuple[Any, ...]],
    *networks: Any,
    partitioned: bool = False,
) -> dict[str, Any]:
    """Rank a city's base and scenarios with its networks, and write its outputs together."""
    began = time.perf_counter()
    study, scenarios = load_city(city, batch)
    cache: RunCache = PartitionedCache(batch.partition_sites) if partitioned else RunCache()
    for key, network in zip(keys, networks, strict=True):
        cache.put(key, network)
    comparison = compare(study, scenarios, top_k=batch.top, reuse=cache)
    folder = _city_folder(batch, city)
    page = None
    if batch.maps:
        from geoplan.maps.build import map_html
        from geoplan.maps.compare import compare_map

        page = map_html(compare_map(comparison))
    with outputs.OutputSet(force=True) as staged:
        stage_comparison(staged, comparison, folder / _TABLE)
        if page is not None:
            staged.write_text(page, folder / _MAP)
    record = {
        "city": city.name,
        "inputs": inputs,
        "outputs": {str(p): sha256(p) for p in _outputs_of(batch, city)},
        "geoplan": __version__,
    }
    outputs.write_text(json.dumps(record, indent=2), folder / _INPUTS, force=True)
    return {
        "city": city.name,
        "status": "done",
        "seconds": round(time.perf_counter() - began, 3),
        "sites": len(comparison.ranked["base"]),
        "scenarios": len(scenarios),
        "networks_in_city_task": int(cache.computed["network"]),
    }


# --------------------------------------------------------------------------------------
# The client side
# --------------------------------------------------------------------------------------


def _check_folder(batch: Batch, force: bool) -> None:
    """The output folder must be new, empty, or an earlier run of a batch (else --force)."""
    out = batch.out
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"Batch output {str(out)!r} is a file; give a folder as batch.out.")
    if force or not out.exists() or (out / MANIFEST).is_file() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    raise OutputExistsError(
        f"Output folder {str(out)!r} holds files that no geoplan batch wrote (no {MANIFEST}); "
        "geoplan never overwrites them unless asked. Choose another batch.out or pass --force."
    )


def local_cluster_size(cores: int, memory_bytes: float, n_cities: int) -> tuple[int, int]:
    """Workers and threads per worker for a local cluster: one process per core, each with
    at least 2 GiB, no more processes than cities."""
    by_memory = max(1, int(memory_bytes / (_WORKER_GIB * 2**30)))
    workers = max(1, min(cores, by_memory, n_cities))
    return workers, max(1, cores // workers)


def _client(scheduler: str | None, workers: int | None, n_cities: int) -> tuple[Any, Any]:
    from dask.distributed import Client, LocalCluster
    from distributed.system import MEMORY_LIMIT

    if scheduler:
        return Client(scheduler), None
    cores = os.cpu_count() or 1
    n, threads = local_cluster_size(cores, float(MEMORY_LIMIT), n_cities)
    if workers is not None:
        n, threads = workers, max(1, cores // workers)
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=threads,
        processes=True,
        memory_limit=f"{MEMORY_LIMIT / n / 2**30:.2f}GiB",
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,  # a city's error is reported once, by the batch, in one line
    )
    return Client(cluster), cluster


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, GeoplanError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _gather(batch: Batch, report: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables, summaries = [], []
    for city in batch.cities:
        status = report.set_index("city").at[city.name, "status"]
        if status == "failed":
            continue
        folder = _city_folder(batch, city)
        table = pd.read_csv(folder / _TABLE, encoding="utf-8-sig", low_memory=False)
        summary = pd.read_csv(summary_path(folder / _TABLE), encoding="utf-8-sig")
        tables.append(table.assign(city=city.name)[["city", *table.columns]])
        summaries.append(summary.assign(city=city.name)[["city", *summary.columns]])
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({"city": []})
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame({"city": []})
    return table, summary


def index_page(batch: Batch, report: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The index page: one row per city with its status and links (every name escaped)."""

    def link(path: str, text: str) -> str:
        href = urllib.parse.quote(path)
        return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'

    rows = []
    base = summary[summary["scenario"] == "base"].set_index("city") if len(summary) else None
    for city in batch.cities:
        entry = report.set_index("city").loc[city.name]
        status = str(entry["status"])
        cells = [
            html.escape(city.label_zh),
            html.escape(city.title),
            html.escape(status),
        ]
        if status == "failed":
            cells += ["", "", html.escape(str(entry["error"]))]
        else:
            eligible = "" if base is None else f"{int(base.at[city.name, 'eligible'])}"
            top = "" if base is None else str(base.at[city.name, "top_k"])
            links = [link(f"{city.name}/{_TABLE}", "table")]
            if batch.maps:
                links.insert(0, link(f"{city.name}/{_MAP}", "map 地图"))
            cells += [html.escape(eligible), html.escape(top), " · ".join(links)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = html.escape(" ".join(t for t in (batch.title_zh, batch.title) if t))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        + title
        + "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        + f"<h1>{title}</h1><p>{len(batch.cities)} cities; written by geoplan "
        + html.escape(__version__)
        + '. <a href="province.csv">province.csv</a> · <a href="province_summary.csv">'
        'province_summary.csv</a> · <a href="report.csv">report.csv</a></p>'
        "<table><tr><th>城市</th><th>City</th><th>status</th><th>eligible (base)</th>"
        "<th>top k (base)</th><th>outputs / error</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )


def run_batch(
    path: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: bool = True,
    announce: Callable[[str], None] | None = None,
) -> BatchResult:
    """Run every city of a batch file, each with its scenarios, on a Dask cluster.

    Parameters
    ----------
    path : str or pathlib.Path
        The batch file (see :mod:`geoplan.batch.province`).
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``); default a local cluster
        sized to this machine's cores and memory.
    workers : int, optional
        Workers of the local cluster (default: one per core, at least 2 GiB each).
    force : bool
        Write into an output folder that holds files no batch wrote.
    progress : bool
        Show a progress bar over the cities.
    announce : callable, optional
        Called with a line of text when the cluster is ready (the dashboard's address).

    Returns
    -------
    BatchResult
        The report, the provincial table and summary, the output folder.
    """
    from dask.distributed import as_completed

    batch = read_batch(path)
    _check_folder(batch, force)
    client, cluster = _client(scheduler, workers, len(batch.cities))
    dashboard = str(getattr(client, "dashboard_link", "") or "")
    line = f"Dask: {len(client.scheduler_info().get('workers', {}))} workers; dashboard {dashboard}"
    logger.info(line)
    if announce is not None:
        announce(line)
    rows: dict[str, dict[str, Any]] = {}
    try:
        by_future: dict[Any, tuple[str, City]] = {}
        pending = as_completed()
        for city in batch.cities:
            future = client.submit(
                prepare_city, city, batch, pure=False, key=f"prepare-{city.name}"
            )
            by_future[future] = ("prepare", city)
            pending.add(future)
        networks: dict[str, Any] = {}
        in_client: list[tuple[City, dict[str, Any], list[Any]]] = []
        bar = tqdm(total=len(batch.cities), desc="cities", unit="city", disable=not progress)
        for future in pending:
            stage, city = by_future.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # a city's failure is its own
                logger.warning("city %s failed (%s): %s", city.name, stage, _one_line(exc))
                rows[city.name] = {"city": city.name, "status": "failed", "error": _one_line(exc)}
                bar.update()
                continue
            if stage == "city":
                rows[city.name] = {**result, "error": ""}
                bar.update()
                continue
            if result["unchanged"]:
                rows[city.name] = {
                    "city": city.name,
                    "status": "unchanged",
                    "sites": result["sites"],
                    "scenarios": result["scenarios"],
                    "error": "",
                }
                bar.update()
                continue
            keys = [key for key, _ in result["networks"]]
            futures = []
            for key, arguments in result["networks"]:
                digest = fingerprint(*key)
                if digest not in networks:
                    networks[digest] = client.submit(
                        load_city_network, arguments, pure=False, key=f"network-{digest}"
                    )
                futures.append(networks[digest])
            if result["sites"] > batch.partition_sites:
                in_client.append((city, result, futures))
                continue
            task = client.submit(
                run_city, city, batch, result["inputs"], keys, *futures, pure=False,
                key=f"city-{city.name}",
            )  # fmt: skip
            by_future[task] = ("city", city)
            pending.add(task)
        for city, result, futures in in_client:  # huge grids: partitions across the workers
            try:
                loaded = client.gather(futures)
                keys = [key for key, _ in result["networks"]]
                rows[city.name] = {
                    **run_city(city, batch, result["inputs"], keys, *loaded, partitioned=True),
                    "error": "",
                }
            except Exception as exc:
                logger.warning("city %s failed: %s", city.name, _one_line(exc))
                rows[city.name] = {"city": city.name, "status": "failed", "error": _one_line(exc)}
            bar.update()
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    columns = ["city", "status", "seconds", "sites", "scenarios", "networks_in_city_task", "error"]
    report = pd.DataFrame([rows[c.name] for c in batch.cities]).reindex(columns=columns)
    report["seconds"] = report["seconds"].astype(float)
    table, summary = _gather(batch, report)
    manifest = {
        "title": batch.title,
        "batch": str(batch.path),
        "geoplan": __version__,
        "cities": report.fillna("").to_dict(orient="records"),
    }
    with outputs.OutputSet(force=True) as staged:
        staged.write(
            batch.out / "province.csv", lambda t: table.to_csv(t, index=False, encoding="utf-8-sig")
        )
        staged.write(
            batch.out / "province_summary.csv",
            lambda t: summary.to_csv(t, index=False, encoding="utf-8-sig"),
        )
        staged.write(
            batch.out / "report.csv", lambda t: report.to_csv(t, index=False, encoding="utf-8-sig")
        )
        staged.write_text(index_page(batch, report, summary), batch.out / "index.html")
        staged.write_text(json.dumps(manifest, indent=2, default=str), batch.out / MANIFEST)
    done = int((report["status"] != "failed").sum())
    logger.info("batch: %d of %d cities done or unchanged", done, len(report))
    return BatchResult(report, table, summary, batch.out, dashboard, list(staged.written))

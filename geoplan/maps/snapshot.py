"""PNG snapshots and PDF prints of planning maps and reports, by a local headless Chromium.

:func:`save_png` opens a saved map (or a :class:`folium.Map`) in the system's
Chromium through Playwright's Python API, waits until the sites are drawn and
the basemap tiles have loaded (or failed), and writes a screenshot — for
reports, slides and the README.  :func:`save_pdf` prints a map to a one-page
PDF laid out for paper (the map's ``@media print`` styles: no zoom, search or
layer controls; legend, scale and title kept), and :func:`print_page_pdf`
prints a local document such as a study report.

It never downloads a browser: it uses ``browser=``, else the environment
variable ``GEOPLAN_CHROMIUM``, else ``/usr/bin/chromium`` or a ``chromium`` /
``chromium-browser`` / ``google-chrome`` found on ``PATH`` (Debian:
``apt-get install chromium``).  Each snapshot runs in a fresh, empty browser
profile with background networking, sync and component updates switched off.
Chinese labels need a CJK font on the machine (Debian: ``fonts-noto-cjk`` or
``fonts-wqy-microhei``).

A Tianditu key (argument, else ``TIANDITU_KEY``) is handed to the page through
the address fragment (``#tk=...``), so it is used for the tiles but never
written to any file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Final

import folium

from geoplan._errors import BrowserNotFoundError, OutputWriteError, SnapshotError
from geoplan.io.outputs import atomic_path
from geoplan.maps.basemaps import resolve_tianditu_key

__all__ = [
    "CHROMIUM_ARGS",
    "BrowserNotFoundError",
    "SnapshotError",
    "check_png_path",
    "check_snapshot_path",
    "find_chromium",
    "print_page_pdf",
    "save_pdf",
    "save_png",
    "save_snapshot",
]

logger = logging.getLogger(__name__)

#: Command-line switches for every snapshot browser.
CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

_CANDIDATES: Final = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium(browser: str | Path | None = None) -> Path:
    """The Chromium executable to use (never downloads one).

    Raises
    ------
    BrowserNotFoundError
        If none is found.
    """
    wanted = [str(browser)] if browser else []
    env = os.environ.get("GEOPLAN_CHROMIUM")
    if env and not browser:
        wanted.append(env)
    if not browser:
        wanted.extend(_CANDIDATES)
    for candidate in wanted:
        path = Path(candidate)
        if path.is_absolute() and path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(candidate)
        if found:
            return Path(found)
    raise BrowserNotFoundError(
        f"No Chromium found (looked for {wanted!r}). Install Debian's 'chromium' package "
        "(apt-get install chromium), or pass browser=... / set GEOPLAN_CHROMIUM to its path."
    )


#: Resolves when the map is drawn: sites added, every tile layer done loading.
_WAIT_JS: Final = """
async (timeoutMs) => {
  const start = Date.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const maps = () => Object.values(window).filter((v) => window.L && v instanceof L.Map);
  while (Date.now() - start < timeoutMs) {
    const found = maps();
    if (found.length) {
      let loading = false;
      found.forEach((m) => m.eachLayer((layer) => {
        if (layer instanceof L.TileLayer && layer.isLoading && layer.isLoading()) {
          loading = true;
        }
      }));
      const sitesReady = !document.querySelector(".gp-legend") || !!window.geoplanSites;
      if (!loading && sitesReady) { break; }
    }
    await sleep(100);
  }
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return maps().length;
}
"""


#: Paper sizes for PDF prints (millimetres, portrait).
PAPERS: Final = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
_PX_PER_MM: Final = 96 / 25.4


def _render(
    url: str,
    out: Path,
    *,
    chromium: Path,
    width: int,
    height: int,
    scale: float,
    timeout_s: float,
    allow_network: bool,
    pdf: dict[str, Any] | None = None,
    wait_for_map: bool = True,
    print_layout: bool = False,
) -> None:
    """Open ``url`` and write a screenshot to ``out``, or a PDF print (``pdf``: its options)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="geoplan-chromium-") as profile:
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    profile,
                    executable_path=str(chromium),
                    headless=True,
                    args=list(CHROMIUM_ARGS),
                    viewport={"width": width, "height": height},
                    device_scale_factor=scale,
                )
                try:
                    page = context.pages[0] if context.pages else context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda exc: errors.append(str(exc)))
                    if not allow_network:

                        def local_only(route: Any) -> None:
                            if route.request.url.startswith(("file:", "data:", "blob:")):
                                route.continue_()
                            else:
                                route.abort()

                        page.route("**/*", local_only)
                    if pdf is not None or print_layout:  # laid out for paper (@media print)
                        page.emulate_media(media="print")
                    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                    if wait_for_map:
                        n_maps = page.evaluate(_WAIT_JS, timeout_s * 1000)
                        if not n_maps:
                            raise SnapshotError(f"No Leaflet map found in {url.split('#')[0]!r}")
                    else:
                        page.evaluate(_WAIT_PAGE_JS)
                    if errors:
                        logger.warning("the page reported errors: %s", "; ".join(errors))
                    if pdf is None:
                        page.screenshot(path=str(out), full_page=False)
                    else:
                        page.pdf(path=str(out), print_background=True, **pdf)
                finally:
                    context.close()
        except PlaywrightError as exc:
            raise SnapshotError(f"Chromium could not render the page: {exc}") from exc


#: Resolves when a page without a map (a report) has its fonts and images.
_WAIT_PAGE_JS: Final = """
async () => {
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  await Promise.all(Array.from(document.images).map((i) => i.complete ? null
    : new Promise((r) => { i.onload = r; i.onerror = r; })));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}
"""


def _run(url: str, temp: Path, **kwargs: Any) -> None:
    """:func:`_render`, in a thread of its own inside a running event loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _render(url, temp, **kwargs)
    else:  # inside Jupyter's event loop: Playwright's sync API needs its own thread
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(_render, url, temp, **kwargs).result()


def check_png_path(png_path: str | Path) -> Path:
    """Check that a snapshot's file name ends in ``.png`` (it is a PNG image).

    Raises
    ------
    OutputWriteError
        For any other extension, e.g. ``map.jpg``.
    """
    path = Path(png_path)
    if path.suffix.lower() != ".png":
        raise OutputWriteError(
            f"A map snapshot is a PNG image, but {path.name!r} does not end in .png; "
            f"give a name such as {path.with_suffix('.png').name!r}."
        )
    return path


def check_snapshot_path(path: str | Path) -> Path:
    """Check that a snapshot's file name ends in ``.png`` (an image) or ``.pdf`` (a print).

    Raises
    ------
    OutputWriteError
        For any other extension, e.g. ``map.jpg``.
    """
    found = Path(path)
    if found.suffix.lower() not in (".png", ".pdf"):
        raise OutputWriteError(
            f"A map snapshot is a PNG image or a PDF print, but {found.name!r} does not end in "
            f".png or .pdf; give a name such as {found.with_suffix('.pdf').name!r}."
        )
    return found


def save_snapshot(html_path: str | Path | folium.Map, path: str | Path, **options: Any) -> Path:
    """:func:`save_pdf` for a ``.pdf`` name, else :func:`save_png` (same options)."""
    if Path(path).suffix.lower() == ".pdf":
        keep = {"force", "browser", "tianditu_key", "allow_network", "timeout_s"}
        return save_pdf(html_path, path, **{k: v for k, v in options.items() if k in keep})
    return save_png(html_path, path, **options)


def _source(html_path: str | Path | folium.Map, scratch: str) -> Path:
    """The map's file: as given, or the map object written offline into ``scratch``."""
    if isinstance(html_path, folium.Map):
        from geoplan.maps.build import save_map

        return save_map(html_path, Path(scratch) / "map.html", offline=True)
    source = Path(html_path)
    if not source.is_file():
        raise SnapshotError(
            f"Map file {str(source)!r} does not exist; save the map first "
            "(geoplan.save_map) or give the right path."
        )
    return source


def save_pdf(
    html_path: str | Path | folium.Map,
    pdf_path: str | Path,
    *,
    paper: str = "A4",
    landscape: bool = True,
    force: bool = False,
    browser: str | Path | None = None,
    tianditu_key: str | None = None,
    allow_network: bool = True,
    timeout_s: float = 30.0,
) -> Path:
    """Print a map to a one-page PDF with the local headless Chromium.

    The map is laid out for paper (its ``@media print`` styles: no zoom, search,
    layer or measuring controls; the title, legend, scale and attribution kept)
    on a page of ``paper`` size without margins, and printed as vectors where
    Chromium can (labels, legend, shapes; basemap tiles and the canvas of a
    dense grid as images).

    Parameters
    ----------
    html_path : str, pathlib.Path or folium.Map
        A saved map or a map object (written offline to a temporary file first).
    pdf_path : str or pathlib.Path
        The PDF to write (atomically); its name must end in ``.pdf``.
    paper : {"A4", "A3"}
        Paper size.
    landscape : bool
        Landscape (default) or portrait.
    force, browser, tianditu_key, allow_network, timeout_s
        As for :func:`save_png`.

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    BrowserNotFoundError, SnapshotError, OutputExistsError, OutputWriteError
        As for :func:`save_png`; ``OutputWriteError`` also for a name not ending in ``.pdf``.
    """
    target = Path(pdf_path)
    if target.suffix.lower() != ".pdf":
        raise OutputWriteError(f"{target.name!r} does not end in .pdf.")
    if paper not in PAPERS:
        raise OutputWriteError(f"paper = {paper!r}; use one of {sorted(PAPERS)!r}.")
    short, long = PAPERS[paper]
    w_mm, h_mm = (long, short) if landscape else (short, long)
    chromium = find_chromium(browser)
    with tempfile.TemporaryDirectory(prefix="geoplan-snapshot-") as scratch:
        url = _source(html_path, scratch).resolve().as_uri()
        key = resolve_tianditu_key(tianditu_key)
        if key:
            url += "#tk=" + urllib.parse.quote(key, safe="")
        with atomic_path(target, force=force) as temp:
            _run(
                url,
                temp,
                chromium=chromium,
                width=round(w_mm * _PX_PER_MM),
                height=round(h_mm * _PX_PER_MM),
                scale=1.0,
                timeout_s=float(timeout_s),
                allow_network=allow_network,
                pdf={
                    "width": f"{w_mm}mm",
                    "height": f"{h_mm}mm",
                    "margin": {"top": "0", "right": "0", "bottom": "0", "left": "0"},
                    "page_ranges": "1",
                },
            )
    logger.info("wrote map PDF %s", target)
    return target


def print_page_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    paper: str = "A4",
    footer: str = "",
    force: bool = False,
    browser: str | Path | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Print a local HTML document (a report, not a map) to PDF with headless Chromium.

    The page is printed with its own ``@page`` and ``@media print`` styles, every
    non-local request blocked, and page numbers at the foot of each page.

    Parameters
    ----------
    html_path : str or pathlib.Path
        The document.
    pdf_path : str or pathlib.Path
        The PDF to write (atomically).
    paper : {"A4", "A3"}
        Paper size.
    footer : str
        Plain text before the page numbers in the footer (escaped here).
    force, browser, timeout_s
        As for :func:`save_png`.

    Returns
    -------
    pathlib.Path
        The PDF written.
    """
    import html

    source = Path(html_path)
    if not source.is_file():
        raise SnapshotError(f"Document {str(source)!r} does not exist.")
    if paper not in PAPERS:
        raise OutputWriteError(f"paper = {paper!r}; use one of {sorted(PAPERS)!r}.")
    short, long = PAPERS[paper]
    chromium = find_chromium(browser)
    template = (
        '<div style="font-size:8px;width:100%;text-align:center;color:#666;">'
        f"{html.escape(footer)} · "
        '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
    )
    target = Path(pdf_path)
    with atomic_path(target, force=force) as temp:
        _run(
            source.resolve().as_uri(),
            temp,
            chromium=chromium,
            width=round(short * _PX_PER_MM),
            height=round(long * _PX_PER_MM),
            scale=1.0,
            timeout_s=float(timeout_s),
            allow_network=False,
            wait_for_map=False,
            pdf={
                "width": f"{short}mm",
                "height": f"{long}mm",
                "display_header_footer": True,
                "header_template": "<div></div>",
                "footer_template": template,
                "prefer_css_page_size": True,
            },
        )
    logger.info("wrote PDF %s", target)
    return target


def save_png(
    html_path: str | Path | folium.Map,
    png_path: str | Path,
    *,
    width: int = 1400,
    height: int = 900,
    scale: float = 1.0,
    force: bool = False,
    browser: str | Path | None = None,
    tianditu_key: str | None = None,
    allow_network: bool = True,
    timeout_s: float = 30.0,
    print_layout: bool = False,
) -> Path:
    """Render a map to a PNG with the local headless Chromium.

    Parameters
    ----------
    html_path : str, pathlib.Path or folium.Map
        A saved map (e.g. from :func:`geoplan.save_map`) or a map object
        (written offline to a temporary file first).
    png_path : str or pathlib.Path
        The PNG to write (atomically; its folder is created if needed).
    width, height : int
        Viewport in CSS pixels.
    scale : float
        Device pixel ratio (2 gives a sharper image twice the size).
    force : bool
        Replace an existing PNG.
    browser : str or pathlib.Path, optional
        Chromium executable (default: see :func:`find_chromium`).
    tianditu_key : str, optional
        Key for a Tianditu basemap (default ``TIANDITU_KEY``); passed in the
        address fragment, never stored.
    allow_network : bool
        Let the page fetch basemap tiles; ``False`` blocks every non-local request.
    timeout_s : float
        How long to wait for the page and its tiles.
    print_layout : bool
        Lay the map out as for paper (its ``@media print`` styles: no zoom,
        search, layer or measuring controls), e.g. for a report.

    Returns
    -------
    pathlib.Path
        The PNG written.

    Raises
    ------
    BrowserNotFoundError
        No local Chromium.
    SnapshotError
        The page could not be rendered (or ``html_path`` does not exist).
    OutputExistsError, OutputWriteError
        As for every geoplan output.
    """
    check_png_path(png_path)
    chromium = find_chromium(browser)
    with tempfile.TemporaryDirectory(prefix="geoplan-snapshot-") as scratch:
        source = _source(html_path, scratch)
        url = source.resolve().as_uri()
        key = resolve_tianditu_key(tianditu_key)
        if key:
            url += "#tk=" + urllib.parse.quote(key, safe="")
        target = Path(png_path)
        with atomic_path(target, force=force) as temp:
            temp_png = temp.with_suffix(".png")
            kwargs: dict[str, Any] = {
                "chromium": chromium,
                "width": int(width),
                "height": int(height),
                "scale": float(scale),
                "timeout_s": float(timeout_s),
                "allow_network": allow_network,
                "print_layout": print_layout,
            }
            _run(url, temp_png, **kwargs)
            if temp_png != temp:
                temp_png.replace(temp)
    logger.info("wrote snapshot %s", target)
    return target

"""Self-contained map pages: the web assets a folium page links, inlined.

:func:`make_offline` replaces every ``<script src>`` and stylesheet ``<link>``
that folium writes for Leaflet and the plugins geoplan uses with the vendored
copy in ``geoplan/maps/_assets`` (listed in ``_assets/manifest.json``; see
``_assets/README.md``).  Images that a stylesheet references become ``data:``
URIs, so the page opens with no network at all.  A page that still links
anything else is refused with :class:`~geoplan.OfflineAssetError` rather than
written half-working.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Final

from geoplan._errors import OfflineAssetError

__all__ = ["make_offline"]

_SCRIPT_TAG = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>')
_CSS_TAG = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?P<ref>[^)'\"]+)\1\s*\)")
_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_EXTERNAL_REF = re.compile(
    r'<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)="(?P<url>(?:https?:)?//[^"]+)"',
    re.IGNORECASE,
)
_MIME: Final = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}

#: Leaflet finds its default marker images through a CSS probe, which fails once
#: the CSS is inlined: point it at ``data:`` URIs instead.
_ICON_FIX: Final = """
if (window.L && L.Icon && L.Icon.Default) {
  L.Icon.Default.prototype._getIconUrl = function (name) {
    return L.Icon.prototype._getIconUrl.call(this, name);
  };
  L.Icon.Default.mergeOptions({iconUrl: %s, iconRetinaUrl: %s, shadowUrl: %s});
}
"""


def _assets_root() -> Traversable:
    return resources.files("geoplan.maps") / "_assets"


@cache
def _asset_manifest() -> dict[str, str]:
    """CDN address -> vendored file (relative to ``_assets``)."""
    manifest = json.loads((_assets_root() / "manifest.json").read_text(encoding="utf-8"))
    assets: dict[str, str] = manifest["assets"]
    return dict(assets)


def _read_asset(relative: str) -> bytes:
    """The bytes of a file under ``geoplan/maps/_assets`` (``relative`` uses ``/``)."""
    return _assets_root().joinpath(*relative.split("/")).read_bytes()


def _normalise_parts(parts: Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in (".", ""):
            out.append(part)
    return out


def _data_uri(relative: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(_read_asset(relative)).decode('ascii')}"


def _inline_css(relative: str) -> str:
    """A vendored stylesheet with the images it references as ``data:`` URIs."""
    css = _read_asset(relative).decode("utf-8")
    folder = PurePosixPath(relative).parent

    def replace(match: re.Match[str]) -> str:
        ref = match.group("ref").strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = PurePosixPath(*_normalise_parts((folder / ref).parts))
        mime = _MIME.get(target.suffix.lower())
        if mime is None:
            raise OfflineAssetError(f"Cannot inline {ref!r} referenced from {relative!r}")
        return f'url("{_data_uri(str(target), mime)}")'

    return _SOURCE_MAP.sub("", _CSS_URL.sub(replace, css))


def _icon_fix() -> str:
    uris = (
        json.dumps(_data_uri(f"leaflet-1.9.3/images/{name}", "image/png"))
        for name in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    )
    return _ICON_FIX % tuple(uris)


def make_offline(page: str) -> str:
    """Inline the scripts and stylesheets an HTML page links from CDNs.

    Parameters
    ----------
    page : str
        A page rendered by folium (e.g. ``m.get_root().render()``).

    Returns
    -------
    str
        The same page with every linked asset geoplan ships written into it.

    Raises
    ------
    OfflineAssetError
        The page links a script, stylesheet or other resource that geoplan
        does not ship in ``geoplan/maps/_assets``.
    """
    manifest = _asset_manifest()
    missing: list[str] = []

    def vendored(match: re.Match[str]) -> str | None:
        url = match.group("url")
        relative = manifest.get(url)
        if relative is None:
            missing.append(url)
        return relative

    def script(match: re.Match[str]) -> str:
        relative = vendored(match)
        if relative is None:
            return match.group(0)
        code = _SOURCE_MAP.sub("", _read_asset(relative).decode("utf-8"))
        code = code.replace("</script", "<\\/script")
        extra = _icon_fix() if relative.endswith("/leaflet.js") else ""
        return f"<script>/* {relative} (inlined by geoplan) */\n{code}\n{extra}</script>"

    def stylesheet(match: re.Match[str]) -> str:
        relative = vendored(match)
        if relative is None:
            return match.group(0)
        css = _inline_css(relative).replace("</style", "<\\/style")
        return f"<style>/* {relative} (inlined by geoplan) */\n{css}\n</style>"

    page = _SCRIPT_TAG.sub(script, page)
    page = _CSS_TAG.sub(stylesheet, page)
    missing += [
        m.group("url") for m in _EXTERNAL_REF.finditer(page) if m.group("url") not in missing
    ]
    if missing:
        raise OfflineAssetError(
            f"Cannot make this map offline: it links {sorted(set(missing))!r}, which geoplan "
            "does not ship in geoplan/maps/_assets. Maps from geoplan.make_map never do; remove "
            "the plugin that needs it, or save with offline=False."
        )
    return page

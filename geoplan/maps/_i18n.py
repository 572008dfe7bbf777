"""The language a map is being drawn in, and its labels in that language.

Private to the maps room.  :func:`make_map <geoplan.maps.build.make_map>` sets the
language for the time it builds a map (:func:`speaking`); the parts that write
labels ask :func:`tr` for a label of :data:`geoplan.io.lang.LABELS` and
:func:`pair` for a Chinese/English pair of their own (a criterion's labels).
The browser's half gets the popup labels from :func:`js_labels`, as data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from geoplan.io.lang import DEFAULT_MAP_LANG, LABELS, check_lang, label, pick

__all__ = ["current", "js_labels", "pair", "speaking", "tr"]

_LANG: ContextVar[str] = ContextVar("geoplan_map_lang", default=DEFAULT_MAP_LANG)


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Draw in ``lang`` (default: the maps' default, Chinese and English) inside the block."""
    token = _LANG.set(check_lang(lang or DEFAULT_MAP_LANG, where="[map] lang"))
    try:
        yield _LANG.get()
    finally:
        _LANG.reset(token)


def current() -> str:
    """The language being drawn in."""
    return _LANG.get()


def tr(key: str, *, sep: str = " ", **fields: object) -> str:
    """The label ``key`` in the current language (both joined by ``sep``)."""
    return label(key, _LANG.get(), sep=sep, **fields)


def pair(zh: str, en: str, *, sep: str = " ") -> str:
    """A Chinese/English pair in the current language."""
    return pick(zh, en, _LANG.get(), sep=sep)


def js_labels() -> dict[str, list[str]]:
    """The popup's labels for the browser: ``{key: [zh, en]}`` (the page picks by language)."""
    return {key[3:]: list(value) for key, value in LABELS.items() if key.startswith("js_")}

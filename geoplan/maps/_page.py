"""The page a map is written to: data reach it as data, never as template code.

Private to :mod:`geoplan.maps.build`.  branca renders each element's ``header``,
``html`` and ``script`` macros and then wraps the *output* in a new
``Element``, which compiles it again as a Jinja template.  Any text from a data
file or a study that reached a macro's output would therefore run as template
code at that second pass (``{{ 6*7 }}`` in a site name would show as 42, and
worse).  So geoplan's map elements never let such text into a template:

* each element keeps what it shows in :attr:`PageDataMixin.page_data` (names,
  popups, legends, titles, keys: anything a user or a data file supplies), and
  its script reads it as ``geoplanData["<element name>"]``;
* :class:`GeoplanFigure` gathers every element's data after the elements have
  been named and writes them into the page as one JSON document
  (``<script type="application/json">``) that the page parses with
  ``JSON.parse``; the page title is written the same way, HTML-escaped.

Element names are geoplan's own identifiers, so a template sees only
geoplan's code, numbers and names.
"""

from __future__ import annotations

import html
import json
from typing import Any, Final, cast

from branca.element import Element, Figure
from jinja2 import Template

__all__ = ["DATA_ELEMENT_ID", "GeoplanFigure", "PageDataMixin", "js_json"]

#: The ``id`` of the ``<script type="application/json">`` element with the page data.
DATA_ELEMENT_ID: Final = "geoplan-data"


def js_json(value: object) -> str:
    """Compact JSON that is safe inside a ``<script>`` element (and valid JSON)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class PageDataMixin:
    """An element whose displayed values travel in the page data, not in its template.

    Set :attr:`page_data` to any JSON value; in the template, write
    ``{{ this.data_ref }}`` where the script needs it.
    """

    page_data: Any = None

    @property
    def data_ref(self) -> str:
        """The JavaScript expression that reads this element's data in the page."""
        return f"geoplanData[{json.dumps(cast(Element, self).get_name())}]"


def _elements(root: Element) -> list[Element]:
    """Every element under ``root``, in page order."""
    found: list[Element] = []
    stack = [root]
    while stack:
        element = stack.pop()
        found.append(element)
        stack.extend(reversed(list(getattr(element, "_children", {}).values())))
    return found


class GeoplanFigure(Figure):
    """A branca figure that writes its elements' data into the page as one JSON document."""

    _template = Template(
        "<!DOCTYPE html>\n"
        "<html>\n"
        "<head>\n"
        "<title>{{ this.page_title }}</title>\n"
        '<script type="application/json" id="{{ this.data_id }}">{{ this.data_json }}</script>\n'
        "<script>\n"
        "var geoplanData = JSON.parse("
        "document.getElementById({{ this.data_id|tojson }}).textContent);\n"
        "</script>\n"
        "    {{ this.header.render(**kwargs) }}\n"
        "</head>\n"
        "<body>\n"
        "    {{ this.html.render(**kwargs) }}\n"
        "</body>\n"
        "<script>\n"
        "    {{ this.script.render(**kwargs) }}\n"
        "</script>\n"
        "</html>\n"
    )

    def __init__(self, *, title: str = "") -> None:
        super().__init__()
        self.map_title = title
        self.data_id = DATA_ELEMENT_ID
        self.page_title = ""
        self.data_json = "{}"

    def render(self, **kwargs: Any) -> str:
        """Render the page; the gathered data and title are inserted, never compiled.

        The elements render first (some, such as the layer control, settle
        their data then); their data are gathered after that.
        """
        for child in self._children.values():
            child.render(**kwargs)
        self.data_json = js_json(
            {
                element.get_name(): element.page_data
                for element in _elements(self)
                if isinstance(element, PageDataMixin) and element.page_data is not None
            }
        )
        self.page_title = html.escape(self.map_title, quote=True)
        page: str = self._template.render(this=self, kwargs=kwargs)
        return page

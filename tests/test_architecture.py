"""The package's architecture, checked: imports point one way and nothing imports in a circle.

The subpackages are the stages a study flows through.  Reading the source
(every ``import`` and ``from ... import``, at module level, inside functions and
under ``TYPE_CHECKING`` alike), each module may import only from the rooms
its own room stands on:

====================  =============================================================
room                  may import
====================  =============================================================
``io``                (nothing of geoplan but ``_errors``)
``measure``           ``io``
``streets``           ``io``, ``measure`` (the distance protocol it implements)
``indicators``        ``io``, ``measure``, ``streets``
``transit``           ``io``, ``measure``, ``streets`` (walks along streets)
``decide``            (nothing: it works on tables of scores)
``study``             ``io``, ``measure``, ``streets``, ``indicators``, ``transit``, ``decide``
``choose``            ``io``, ``measure``, ``streets``, ``study``
``scenarios``         ``io``, ``measure``, ``study``
``maps``              ``io``, ``measure``, ``streets``, ``indicators``, ``transit``, ``decide``,
                      ``study``, ``choose``, ``scenarios``
``report``            ``io``, ``measure``, ``streets``, ``indicators``, ``transit``, ``decide``,
                      ``study``, ``choose``, ``maps``
``batch``             ``io``, ``measure``, ``streets``, ``study``, ``scenarios``, ``maps``
``cli``               everything
====================  =============================================================

``geoplan._errors`` and the package root (``__version__``) may be imported from
anywhere.  No module may take part in an import cycle; a subpackage's
``__init__`` re-exporting its own modules is the one kind of edge that a
module's implicit import of its parent package does not turn into a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geoplan"

STAGES = (
    "io",
    "measure",
    "streets",
    "indicators",
    "transit",
    "decide",
    "study",
    "choose",
    "scenarios",
    "maps",
    "report",
    "batch",
)
ALLOWED: Mapping[str, frozenset[str]] = {
    "io": frozenset(),
    "measure": frozenset({"io"}),
    "streets": frozenset({"io", "measure"}),
    "indicators": frozenset({"io", "measure", "streets"}),
    "transit": frozenset({"io", "measure", "streets"}),
    "decide": frozenset(),
    "study": frozenset({"io", "measure", "streets", "indicators", "transit", "decide"}),
    "choose": frozenset({"io", "measure", "streets", "study"}),
    "scenarios": frozenset({"io", "measure", "study"}),
    "maps": frozenset(
        {
            "io",
            "measure",
            "streets",
            "indicators",
            "transit",
            "decide",
            "study",
            "choose",
            "scenarios",
        }
    ),
    "report": frozenset(
        {"io", "measure", "streets", "indicators", "transit", "decide", "study", "choose", "maps"}
    ),
    "batch": frozenset({"io", "measure", "streets", "study", "scenarios", "maps"}),
    "cli": frozenset({*STAGES}),
    "__main__": frozenset({"cli"}),
    "root": frozenset({*STAGES, "cli"}),
}
ANYWHERE = frozenset({"_errors", "root"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "_assets" not in p.parts}


def room(module: str) -> str:
    parts = module.split(".")
    return "root" if len(parts) == 1 else parts[1]


def imports_of(path: Path, name: str, known: Mapping[str, Path]) -> set[str]:
    """The geoplan modules a file imports (a package counts as its ``__init__``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
    return {m for m in found if m == "geoplan" or m.startswith("geoplan.")}


def import_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        for target in imports_of(path, name, known):
            if target != name and target in known:
                graph.add_edge(name, target)
    return graph


def upward_imports(edges: Iterable[tuple[str, str]]) -> list[str]:
    """Every import that points up, or sideways to a room not allowed."""
    wrong = []
    for source, target in edges:
        here, there = room(source), room(target)
        if here == there or there in ANYWHERE or there in ALLOWED.get(here, frozenset()):
            continue
        wrong.append(f"{source} imports {target} ({here} may import {sorted(ALLOWED[here])})")
    return wrong


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_every_import_points_down() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 50, "the import graph was read"
    assert upward_imports(graph.edges) == []


def test_no_module_imports_in_a_circle() -> None:
    assert cycles(import_graph()) == []


def test_every_stage_is_a_subpackage_that_says_what_it_holds() -> None:
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), f"geoplan/{stage}/ is a subpackage"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc is not None and len(doc.splitlines()) <= 4, f"{init}: a short docstring"
        assert "import" in doc.lower(), f"{init}: says what it may import"
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "_errors.py", "cli.py"]


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([("geoplan.io.layers", "geoplan.maps.build")], 1),
        ([("geoplan.decide.mcda", "geoplan.measure.decay")], 1),
        ([("geoplan.measure.criteria", "geoplan.streets.routing")], 1),
        ([("geoplan.maps.build", "geoplan.study.ranking")], 0),
        ([("geoplan.io.layers", "geoplan._errors")], 0),
    ],
)
def test_the_direction_check_can_fail(edges: list[tuple[str, str]], expected: int) -> None:
    assert len(upward_imports(edges)) == expected


def test_the_cycle_check_can_fail() -> None:
    graph = nx.DiGraph([("geoplan.streets.network", "geoplan.streets.osmnx_io")])
    assert cycles(graph) == []
    graph.add_edge("geoplan.streets.osmnx_io", "geoplan.streets.network")
    assert cycles(graph) == [["geoplan.streets.network", "geoplan.streets.osmnx_io"]]

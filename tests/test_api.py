"""The public API: every advertised name resolves, even after all submodules are imported."""

from __future__ import annotations

import importlib
import pkgutil
import types

import geoplan as gp


def test_public_names_survive_submodule_imports() -> None:
    for module in pkgutil.iter_modules(gp.__path__):
        importlib.import_module(f"geoplan.{module.name}")
    for name in gp.__all__:
        value = getattr(gp, name)
        assert not isinstance(value, types.ModuleType), f"gp.{name} is shadowed by a submodule"


def test_errors_are_also_builtin_errors() -> None:
    assert issubclass(gp.LayerNotFoundError, FileNotFoundError)
    assert issubclass(gp.StudyError, ValueError)
    assert issubclass(gp.OutputExistsError, FileExistsError)
    assert issubclass(gp.OutputWriteError, PermissionError)
    for name in gp.__all__:
        value = getattr(gp, name)
        if isinstance(value, type) and name.endswith("Error"):
            assert issubclass(value, gp.GeoplanError), name

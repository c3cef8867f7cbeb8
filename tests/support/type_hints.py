"""Walk a generated package and call ``typing.get_type_hints()`` on every public class and method."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import sys
import typing
from types import ModuleType


def _modules(package: ModuleType) -> list[ModuleType]:
    found = [package, importlib.import_module(package.__name__ + "._async_client")]
    for sub in ("resources", "schemas", "_batch", "testing"):
        try:
            module = importlib.import_module(f"{package.__name__}.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package.__name__}.{sub}":
                raise
            continue  # a package without batch support (or an older one without testing)
        found.append(module)
        if hasattr(module, "__path__"):
            for info in pkgutil.iter_modules(module.__path__):
                found.append(importlib.import_module(f"{module.__name__}.{info.name}"))
    return found


def check_package(package_name: str) -> tuple[int, list[str]]:
    """(number of objects checked, failures as ``qualified name: error``) for one imported package."""
    package = sys.modules[package_name]
    checked = 0
    failures: list[str] = []
    seen: set[int] = set()

    def check(obj: object, name: str) -> None:
        nonlocal checked
        if id(obj) in seen:
            return
        seen.add(id(obj))
        checked += 1
        try:
            typing.get_type_hints(obj, include_extras=True)
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")

    for module in _modules(package):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith(package_name) or cls.__name__.startswith("_"):
                continue
            check(cls, f"{cls.__module__}.{cls.__qualname__}")
            for attribute, value in vars(cls).items():
                if attribute.startswith("_") and attribute != "__init__":
                    continue
                function = value.func if isinstance(value, functools.cached_property) else value
                if inspect.isfunction(function):
                    check(function, f"{cls.__module__}.{cls.__qualname__}.{attribute}")
            if hasattr(cls, "__init__") and inspect.isfunction(cls.__init__):
                check(cls.__init__, f"{cls.__qualname__}.__init__ (inherited)")
    return checked, failures

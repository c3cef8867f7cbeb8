"""Names used in the runtime's public annotations, resolvable by ``typing.get_type_hints()``.

Importing google-auth's credentials module (≈70 ms) or google-api-core's retry module (which
pulls in protobuf) would slow every ``import`` of a generated package, only so that
annotations can name their classes; the runtime's own retry module is likewise imported only
at a call's first failure. Type checkers see the real imports; at run time each name
is a :class:`typing.ForwardRef` whose expression imports the module when (and only when) it is
evaluated, so ``typing.get_type_hints()`` returns the real classes.

:func:`lazy_module` does the same for the modules generated code imports only for annotations
(its schemas, its resource modules, the async runtime): a module object whose attributes are
looked up in the real module, imported on first use.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any, ForwardRef

__all__ = ["Credentials", "Retry", "RetryPolicy", "lazy_module", "lazy_type"]


def lazy_type(module: str, name: str) -> Any:
    """A forward reference to ``module.name`` that imports ``module`` when it is evaluated."""
    return ForwardRef(f"__import__({module!r}, fromlist=[{name!r}]).{name}")


class _LazyModule(types.ModuleType):
    """Stands for a module in annotations; imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_gapi_target"] = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self.__dict__["_gapi_target"]), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_gapi_target']!r}>"


def lazy_module(name: str, package: str | None = None) -> Any:
    """A stand-in for module ``name`` (relative to ``package``) that imports it on first use.

    Generated modules bind it, outside ``TYPE_CHECKING``, to the names their annotations use
    (``_s.Instance``, ``_aio.AsyncApiCore``), so that ``typing.get_type_hints()`` works on every
    generated class and method while ``import`` stays as cheap as before.
    """
    if name.startswith("."):
        if not package:
            raise ValueError(f"relative module name {name!r} needs a package")
        level = len(name) - len(name.lstrip("."))
        base = package.rsplit(".", level - 1)[0] if level > 1 else package
        name = f"{base}.{name[level:]}"
    return _LazyModule(name)


if TYPE_CHECKING:
    from google.api_core.retry import Retry as Retry
    from google.auth.credentials import Credentials as Credentials

    from gapi_runtime.retry import RetryPolicy as RetryPolicy
else:
    Credentials = lazy_type("google.auth.credentials", "Credentials")
    Retry = lazy_type("google.api_core.retry", "Retry")
    RetryPolicy = lazy_type("gapi_runtime.retry", "RetryPolicy")

"""Python names for things named in a discovery document, decided in one place.

The snake_case rule is part of every generated client's public surface: changing it
renames methods and parameters in every client, a breaking change.
"""

from __future__ import annotations

import functools
import keyword
import re
from collections.abc import Callable, Iterable

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")
_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ACRONYM_END = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_UNDERSCORES = re.compile(r"_+")


@functools.lru_cache(maxsize=65536)  # the same names recur in every resource and schema of a document
def snake_case(name: str) -> str:
    """The pinned snake_case rule, without keyword escaping.

    Every character outside ``[A-Za-z0-9]`` becomes ``_``; ``_`` goes between a lowercase
    letter or digit and an uppercase letter, and between a run of capitals and a following
    capital+lowercase pair; then lowercase, repeated ``_`` collapsed, outer ``_`` dropped.
    """
    text = _NON_ALNUM.sub("_", name)
    text = _LOWER_UPPER.sub("_", text)
    text = _ACRONYM_END.sub("_", text)
    return _UNDERSCORES.sub("_", text.lower()).strip("_")


def escape_keyword(name: str) -> str:
    """``name`` with a trailing ``_`` when it is a Python keyword (``import`` → ``import_``)."""
    return name + "_" if keyword.iskeyword(name) else name


def python_name(name: str, fallback: str = "x") -> str:
    """A snake_case identifier for ``name``: keywords escaped, a leading digit prefixed."""
    text = snake_case(name) or fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return escape_keyword(text)


def class_name(name: str, fallback: str = "Schema") -> str:
    """An identifier that keeps the document's spelling where it already is one."""
    if name.isidentifier() and name.isascii() and not name.startswith("_"):
        return escape_keyword(name)
    text = _UNDERSCORES.sub("_", _NON_ALNUM.sub("_", name)).strip("_") or fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return escape_keyword(text)


@functools.lru_cache(maxsize=65536)
def pascal_case(name: str) -> str:
    """``projects.locations`` or ``project_locations`` → ``ProjectsLocations``."""
    parts = snake_case(name).split("_")
    return "".join(part[:1].upper() + part[1:] for part in parts if part)


class Scope:
    """Allocates names in one Python scope; a name already taken gets trailing ``_``.

    Allocation order decides who keeps the plain name, so callers allocate in a fixed,
    sorted order and generation stays deterministic.
    """

    def __init__(self, reserved: Iterable[str] = (), *, case_insensitive: bool = False) -> None:
        self._fold: Callable[[str], str] = str.lower if case_insensitive else str
        self._taken = {self._fold(name) for name in reserved}

    def allocate(self, preferred: str) -> str:
        name = preferred
        while self._fold(name) in self._taken or keyword.iskeyword(name):
            name += "_"
        self._taken.add(self._fold(name))
        return name

"""Type annotations of generated code, as values (:class:`TypeRef`).

The IR never holds an annotation as text: a :class:`TypeRef` knows how it is spelled
(:attr:`TypeRef.annotation`, the one place that writes the ``_t.``/``_s.`` qualifiers),
whether it needs the generated ``schemas`` module, and which schema classes it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

#: How a type's name is reached from the generated module that uses it:
#: ``builtin`` (``str``), ``typing`` (``_t.List``), ``schema`` (a schema class seen from a
#: resources or client module: ``_s.Instance``), ``local`` (a schema class in the schemas
#: module itself, unqualified: ``Instance``).
Kind = Literal["builtin", "typing", "schema", "local"]

_QUALIFIERS: dict[str, str] = {"typing": "_t.", "schema": "_s."}


@dataclass(frozen=True)
class TypeRef:
    """One type annotation: a name, how it is qualified, and its subscripts.

    ``args`` are the subscripted types (``_t.List[X]``, ``_t.Dict[str, X]``); ``values`` are
    the values of a ``_t.Literal[...]`` (document strings, spelled with ``repr`` only here).
    """

    name: str
    kind: Kind = "builtin"
    args: tuple[TypeRef, ...] = ()
    values: tuple[str, ...] = ()

    @classmethod
    def typing(cls, name: str, *args: TypeRef) -> TypeRef:
        """A member of :mod:`typing` (``_t.Any``, ``_t.List[...]``)."""
        return cls(name, "typing", args)

    @classmethod
    def literal(cls, values: tuple[str, ...]) -> TypeRef:
        """``_t.Literal[...]`` of string values."""
        return cls("Literal", "typing", values=values)

    @classmethod
    def schema_class(cls, name: str, qualified: bool) -> TypeRef:
        """A generated schema class: ``_s.Name`` outside the schemas module, ``Name`` inside it."""
        return cls(name, "schema" if qualified else "local")

    def _spelled(self, qualifiers: dict[str, str]) -> str:
        head = qualifiers.get(self.kind, "") + self.name
        if self.values:
            return head + "[" + ", ".join(repr(value) for value in self.values) + "]"
        if self.args:
            return head + "[" + ", ".join(arg._spelled(qualifiers) for arg in self.args) + "]"
        return head

    @cached_property
    def annotation(self) -> str:
        """The annotation as generated code spells it: ``_t.List[_s.Instance]`` (computed once:
        templates spell the same types many times)."""
        return self._spelled(_QUALIFIERS)

    @cached_property
    def evaluated(self) -> str:
        """The annotation for a module that evaluates annotations at import (the schemas
        modules): :attr:`annotation`, quoted when it names a schema class of that module, which
        may be defined further down or in another chunk (``"_t.List[Instance]"``). Builtin
        types, typing forms and Literals are not quoted: the class then holds the type itself
        instead of a ``ForwardRef``, which compiles its text at import (6-25 µs a field)."""
        return repr(self.annotation) if self.local_names else self.annotation

    @property
    def plain(self) -> str:
        """The annotation without module qualifiers, for people: ``List[Instance]``."""
        return self._spelled({})

    def __str__(self) -> str:
        return self.annotation

    def walk(self) -> Iterator[TypeRef]:
        """This type and every type in its subscripts."""
        yield self
        for arg in self.args:
            yield from arg.walk()

    @property
    def uses_schemas(self) -> bool:
        """True if the annotation reaches the generated ``schemas`` module (``_s.``)."""
        return any(part.kind == "schema" for part in self.walk())

    @property
    def local_names(self) -> frozenset[str]:
        """The schema classes named unqualified (from the schemas module itself)."""
        return frozenset(part.name for part in self.walk() if part.kind == "local")


ANY = TypeRef.typing("Any")

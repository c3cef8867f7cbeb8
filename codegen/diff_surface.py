"""One side of ``codegen diff``: a document and its generated surface, paired through JSON paths.

Every IR node (schema class, field, parameter, method, resource) carries the JSON path of
the document node it came from; :class:`Surface` indexes them once by that path, so each
document node finds its Python name and type without pairing by position. This is the
only place :mod:`codegen.diff` reads the IR, and :meth:`Surface.annotation` the only place
it reads IR types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from codegen import ir
from codegen.discovery import Document, Method, Resource, Schema
from codegen.errors import CodegenError

D = TypeVar("D", Resource, Method, Schema)
R = TypeVar("R", Resource, Method)
N = TypeVar("N")


@dataclass(frozen=True)
class Item(Generic[D]):
    """A resource, method, schema, parameter or field on one side, with its Python names."""

    python: str  # where its changes are reported
    label: str  # its name in rename messages and in old/new values (its last part: what a collision changes)
    path: str  # its document JSON path
    doc: D
    required: bool = False  # a required parameter

    @classmethod
    def of(cls, python: str, path: str, doc: D) -> Item[D]:
        """A resource, method or schema: labelled by its Python name."""
        return cls(python, python, path, doc)


def _annotation(node_type: object) -> str:
    """An IR type as the report prints it: its annotation text without the ``_t.``/``_s.`` qualifiers."""
    return "" if node_type is None else str(node_type).replace("_t.", "").replace("_s.", "")


@dataclass(frozen=True)
class Surface:
    """A document and its client IR, every IR node found by the JSON path of its document node."""

    document: Document
    client: ir.ClientIR
    nodes: Mapping[tuple[type, str], object]  # (IR node class, JSON path) → node
    python: Mapping[str, str]  # JSON path of a resource or method → its dotted Python name
    classes: Mapping[str, str]  # schema key → class name

    @classmethod
    def of(cls, document: Document) -> Surface:
        client = ir.lower(document)
        nodes: dict[tuple[type, str], object] = {}
        python: dict[str, str] = {}
        for schema_class in client.schemas:
            nodes[(ir.SchemaClass, schema_class.source)] = schema_class
            nodes.update(((ir.Field, field.source), field) for field in schema_class.fields)
        owners = [("", client.methods)]
        stack = [("", module.root) for module in client.modules]
        while stack:
            prefix, resource = stack.pop()
            python[resource.source] = name = prefix + resource.attribute
            owners.append((name + ".", resource.methods))
            stack.extend((name + ".", child) for child in resource.children)
        for prefix, methods in owners:
            for method in methods:
                python[method.source] = prefix + method.name
                nodes[(ir.MethodIR, method.source)] = method
                nodes.update(((ir.Param, param.source), param) for param in method.params if not param.standard)
        return cls(document, client, nodes, python, dict(client.schema_names))

    def node(self, kind: type[N], path: str) -> N:
        """The IR node of ``kind`` that came from the document node at ``path``."""
        found = self.nodes.get((kind, path))
        if not isinstance(found, kind):  # the IR stopped mirroring the document: a generator bug
            raise CodegenError(f"{self.document.source}: internal error: no {kind.__name__} in the IR for {path}")
        return found

    def method(self, path: str) -> ir.MethodIR:
        return self.node(ir.MethodIR, path)

    def annotation(self, kind: str, path: str) -> str:
        """The Python type of the ``kind`` position at ``path`` ("" when the IR has none).

        ``kind`` is "parameter", "field" or "schema" (a top-level schema: its alias, "" for a
        TypedDict), or "request" / "response" (an inline body: the method's type for it).
        """
        if kind in ("request", "response"):
            method = self.node(ir.MethodIR, path.rpartition(".")[0])
            return _annotation(method.body_type if kind == "request" else method.response_type)
        node = self.nodes.get(({"parameter": ir.Param, "field": ir.Field, "schema": ir.SchemaClass}[kind], path))
        if isinstance(node, ir.SchemaClass):
            return _annotation(node.alias)
        return _annotation(node.type_expr) if isinstance(node, (ir.Param, ir.Field)) else ""

    def type_name(self, ref: str) -> str:
        """The Python class name of the schema ``ref`` (the key itself when unknown)."""
        return self.classes.get(ref, ref)

    def message_type(self, kind: str, ref: str, inline: Schema | None) -> str:
        """How a request or response type reads: the class of ``ref``, else the IR's type of the inline schema."""
        return self.type_name(ref) if ref else self.annotation(kind, inline.json_path) if inline else ""

    def items_key(self, method: Method) -> str:
        """The wire name of the list a paged method's ``*_all`` helper yields (the IR's paging rule decided it)."""
        return self.node(ir.MethodIR, method.json_path).items_field

    # The members of a container, keyed by document name, each with its Python names.
    def named(self, docs: tuple[R, ...]) -> dict[str, Item[R]]:
        return {doc.name: Item.of(self.python[doc.json_path], doc.json_path, doc) for doc in docs}

    def schemas(self) -> dict[str, Item[Schema]]:
        return {key: Item.of(f"schemas.{self.classes[key]}", doc.json_path, doc) for key, doc in self.document.schemas}

    def parameters(self, method: Item[Method]) -> dict[str, Item[Schema]]:
        params = {wire: (doc, self.node(ir.Param, doc.json_path)) for wire, doc in method.doc.parameters}
        return {
            wire: Item(f"{method.python}({param.name}=...)", param.name, doc.json_path, doc, param.required)
            for wire, (doc, param) in params.items()
        }

    @staticmethod
    def fields(python: str, schema: Schema) -> dict[str, Item[Schema]]:
        return {key: Item(member(python, key), key, doc.json_path, doc) for key, doc in schema.properties}


def member(python: str, key: str) -> str:
    """``schemas.Instance`` + ``adminSettings`` → ``schemas.Instance.adminSettings``."""
    if key.isidentifier() and key.isascii():
        return f"{python}.{key}"
    return f"{python}[{json.dumps(key)}]"

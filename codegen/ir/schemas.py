"""The schema classes of a document: their Python names, their TypedDicts and aliases, and the
:class:`~codegen.ir.types.TypeRef` of any schema position (anonymous objects become classes too)."""

from __future__ import annotations

import keyword

from codegen import naming, text
from codegen.discovery import Document, Schema
from codegen.ir import docs
from codegen.ir.constants import CLASS_RESERVED, SCHEMA_RESERVED
from codegen.ir.nodes import Field, SchemaClass
from codegen.ir.types import ANY, TypeRef


class SchemaTypes:
    """One document's schema classes: named in one scope, lowered as types reach them."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.scope = naming.Scope(SCHEMA_RESERVED)
        #: document schema key → Python class name, in document order.
        self.names = {key: self.scope.allocate(naming.class_name(key)) for key, _ in document.schemas}
        self.anonymous: dict[str, str] = {}  # json path of an anonymous object → class name
        self._classes: list[SchemaClass] = []

    def classes(self) -> tuple[SchemaClass, ...]:
        """Every class lowered so far (named and anonymous), sorted by name."""
        return tuple(sorted(self._classes, key=lambda item: item.name))

    def named(self, ref: str) -> TypeRef:
        """The type of the named schema ``ref`` outside the schemas module: ``_s.Name``."""
        return TypeRef.schema_class(self.names[ref], qualified=True)

    def lower_named(self) -> None:
        """Lower every named schema (and the anonymous objects inside them)."""
        for key, schema in self.document.schemas:
            self.schema_class(self.names[key], key, schema)

    def schema_class(self, name: str, title: str, schema: Schema) -> None:
        is_object = (
            schema.type == "object" and not schema.ref and (schema.properties or schema.additional_properties is None)
        )
        if not is_object:
            alias = self.type_ref(schema, name, qualified=False)
            if alias == TypeRef.schema_class(name, qualified=False) or self._ref_cycle(schema):
                alias = ANY  # an alias of itself, directly or through other aliases, says nothing
            self._classes.append(SchemaClass(name, text.docstring(schema.description), (), alias, schema.json_path))
            return
        fields = []
        for key, prop in schema.properties:
            comment = prop.description
            if prop.read_only and not comment.lower().startswith("output only"):
                comment = f"Output only. {comment}".strip()
            if prop.deprecated:
                comment = f"Deprecated. {comment}".strip()
            fields.append(
                Field(
                    key=key,
                    attribute=key if _plain_attribute(key) else "",
                    type_expr=self.type_ref(prop, name + naming.pascal_case(key), qualified=False),
                    comment=text.comment_lines(comment),
                    source=prop.json_path,
                )
            )
        extra = None
        if schema.additional_properties is not None:
            extra = self.type_ref(schema.additional_properties, name + "Value", qualified=False).annotation
        doc = docs.object_doc(schema, title, extra)
        self._classes.append(SchemaClass(name, doc, tuple(fields), None, schema.json_path))

    def _ref_cycle(self, schema: Schema) -> bool:
        """True if following ``schema``'s ``$ref`` through schemas that are ``$ref`` too comes
        back to one already passed (``A → B → A``): type checkers cannot resolve such aliases."""
        seen: set[str] = set()
        while schema.ref:
            if schema.ref in seen:
                return True
            seen.add(schema.ref)
            schema = self.document.schema(schema.ref)
        return False

    def type_ref(self, schema: Schema, anonymous_name: str, qualified: bool) -> TypeRef:
        """The Python type for ``schema``; anonymous objects become new TypedDicts.

        ``qualified``: schema classes are reached through ``_s.`` (outside the schemas module).
        """
        if schema.ref:
            return TypeRef.schema_class(self.names[schema.ref], qualified)
        kind = schema.type
        if schema.enum and kind == "string":
            return TypeRef.literal(tuple(schema.enum))
        builtin = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(kind)
        if builtin is not None:
            return TypeRef(builtin)
        if kind == "array":
            if schema.items is None:
                return TypeRef.typing("List", ANY)
            return TypeRef.typing("List", self.type_ref(schema.items, anonymous_name + "Item", qualified))
        if kind == "object":
            if schema.properties:
                if schema.json_path in self.anonymous:
                    return TypeRef.schema_class(self.anonymous[schema.json_path], qualified)
                name = self.scope.allocate(naming.class_name(anonymous_name))
                self.anonymous[schema.json_path] = name
                self.schema_class(name, anonymous_name, schema)
                return TypeRef.schema_class(name, qualified)
            if schema.additional_properties is not None:
                value = self.type_ref(schema.additional_properties, anonymous_name + "Value", qualified)
                return TypeRef.typing("Dict", TypeRef("str"), value)
            return TypeRef.typing("Dict", TypeRef("str"), ANY)
        return ANY


def _plain_attribute(key: str) -> bool:
    """True if class syntax can spell the TypedDict key ``key`` exactly.

    Not for keywords, non-ASCII names (the parser NFKC-normalizes them: ``ﬁeld`` would become
    ``field``), names starting with ``__`` (mangled to ``_Class__x``; ``__debug__`` does not
    even compile) and the names field annotations use (``_t``, ``str``…).
    """
    return (
        key.isidentifier()
        and key.isascii()
        and not keyword.iskeyword(key)
        and not key.startswith("__")
        and key not in ("_t", "annotations", *CLASS_RESERVED)
    )

"""Compare two discovery documents over the generated Python surface.

The report speaks of what users of the generated package touch — ``projects.locations.
instances.list(page_size=...)``, ``schemas.Instance.adminSettings`` — with the document's
JSON path beside each change. Python names and types come from :func:`codegen.ir.lower`,
found for each document node through its JSON path (:mod:`codegen.diff_surface`), so a
change of a Python name that the document did not make (a new sibling that collides and
pushes an old name to ``name_``) is reported too. The comparison walks the two documents:
members of every kind (resources, methods, schemas, parameters, fields) are paired by name,
renames detected and the rest reported by one mechanism (:meth:`_Differ.members`), and
changed attributes by tables of rules.

Severities and the rules (``kind`` values are stable, for ``--json`` consumers):

``breaking`` (suggests a major version)
    a removed resource, method, parameter, schema or field (``*-removed``); one renamed
    (``*-renamed``, see below); a Python name that changed (``*-python-name-changed``);
    a new required parameter (``parameter-added-required``); a parameter that became
    required (``parameter-required``); a changed type or format of a parameter, field or
    schema (``*-type-changed``, e.g. ``string (int64)`` → ``integer (int32)``); a parameter
    that became or stopped being repeated, or moved between path and query; a removed enum
    value (``*-enum-value-removed``); an enum constraint on a previously free string
    (``*-enum-added``: the Python type narrows from ``str`` to ``Literal[...]``); an added or
    changed ``pattern``; a changed path or HTTP method; a body that became required, a body
    or response that went away, a changed request or response type; a paged method's
    ``*_pages``/``*_all`` helper that went away (``method-pages-removed``) or now yields
    another list; a changed package or client class name.
``feature`` (minor)
    an added resource, method, optional parameter, schema, field or enum value; a parameter
    that became optional; a dropped enum constraint or pattern; a field no longer read-only;
    a method that now returns something, takes an optional body, or pages (``*_pages`` /
    ``*_all`` helpers added); something newly deprecated (semantic versioning puts
    deprecations in minor releases).
``patch``
    a changed default; a field that became read-only; changed scopes, ``apiVersion``,
    endpoints, root URL or service path; something no longer deprecated.
``docs`` (no change to the surface; still a patch release, since docstrings change)
    a changed description, title or documentation link; reordered enum values.

The revision and etag are never changes. Global query parameters (``$.parameters``) and
media upload/download flags are not part of the generated surface and are not compared.
Parameter order is irrelevant: generated methods take keyword-only arguments. Fields of
inline objects are named by their path (``schemas.Instance.habitat.climate``, ``[]`` for
array items, ``{}`` for map values); inline request and response bodies as
``projects.x.create(body=...).field`` and ``projects.x.get(...) return value.field``.

Renames: the document has no rename marker, so a rename is a removal plus an addition. It
is reported as one ``*-renamed`` change when the pairing is cheap and unambiguous:
methods anywhere in the API with the same HTTP method and path; schemas with the same
fields and field types (two or more fields, or a similar name); and, when the names are
similar (one contains the other, or 60 % alike), resources under the same parent with the
same method names, and parameters or fields in the same container with the same type,
location, requiredness and enum. Each pairing needs exactly one removed and one added
item of that shape. Anything else stays removed + added. Contents of renamed methods,
resources and schemas are compared under the new name.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from codegen import naming
from codegen.diff_report import SEVERITIES, ApiInfo, Bump, Change, Report, Severity
from codegen.diff_surface import Item, Surface
from codegen.discovery import Document, Method, Resource, Schema

__all__ = ["SEVERITIES", "ApiInfo", "Bump", "Change", "Report", "Severity", "Surface", "diff_documents"]

D = TypeVar("D", Resource, Method, Schema)
_Compare = Callable[[Item[D], Item[D]], None]
_Items = Mapping[str, Item[D]]


def diff_documents(old: Document, new: Document) -> Report:
    """Compare two loaded documents over the generated surface."""
    differ = _Differ(Surface.of(old), Surface.of(new))
    differ.run()
    order = {severity: index for index, severity in enumerate(SEVERITIES)}
    changes = sorted(
        differ.changes, key=lambda c: (order[c.severity], c.python, c.kind, c.path, c.old or "", c.new or "")
    )
    return Report(ApiInfo.of(old), ApiInfo.of(new), tuple(changes))


# --- kinds of members: how they pair, and how their removal, addition and rename read ---------


@dataclass(frozen=True)
class _Kind(Generic[D]):
    """How members of one kind pair as renames, and how their changes read."""

    noun: str
    reason: str  # why a removal and an addition are taken for a rename
    signature: Callable[[D], object]  # a rename pairs the one removed and the one added item of a signature
    similar: Callable[[str, str, D], bool] | None = None  # ... whose names also pass this (key, key, old item)
    compare_renamed: bool = True  # renamed items have their contents compared (else: a probable rename)

    def renamed(self, label: str) -> str:
        shown = repr(label) if self.noun == "field" else label  # a field's label is its wire name
        return f"{self.noun} {'' if self.compare_renamed else 'probably '}renamed to {shown} ({self.reason})"


def _shape(schema: Schema | None) -> str:
    """The type of a schema position without its children: what a change of is breaking."""
    if schema is None:
        return "any"
    if schema.ref:
        return "$" + schema.ref
    kind = schema.type or "any"
    if kind == "object":
        return "map" if not schema.properties and schema.additional_properties is not None else "object"
    if kind in ("array", "any", "null"):
        return kind
    return f"{kind}/{schema.format}" if schema.format else kind


def _similar(old: str, new: str, _item: object = None) -> bool:
    """Names alike enough to call a same-shaped removal + addition a rename (``pageSize`` ~ ``maxPageSize``)."""
    a, b = naming.snake_case(old), naming.snake_case(new)
    return a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def _resource_signature(doc: Resource) -> object:
    names = frozenset((method.name, method.http_method) for method in doc.methods)
    children = frozenset(child.name for child in doc.resources)
    return (names, children) if names or children else None


def _schema_signature(doc: Schema) -> object:
    if not doc.properties:
        return None
    return (_shape(doc), frozenset((key, _shape(prop), prop.enum) for key, prop in doc.properties))


RESOURCE = _Kind("resource", "a similar name with the same method names", _resource_signature, _similar)
METHOD = _Kind[Method]("method", "same HTTP method and path", lambda m: (m.http_method, m.path))
SCHEMA = _Kind[Schema](
    "schema",
    "same fields and field types",
    _schema_signature,
    lambda a, b, doc: _similar(a, b) or len(doc.properties) >= 2,
)
PARAMETER = _Kind[Schema](
    "parameter",
    "a similar name with the same type, location and requiredness; the only such pair",
    lambda p: (p.location, _shape(p), p.repeated, p.required, p.enum),
    _similar,
    compare_renamed=False,
)
FIELD = _Kind[Schema](
    "field",
    "a similar name with the same type; the only such pair",
    lambda f: (_shape(f), f.enum, f.read_only),
    _similar,
    compare_renamed=False,
)


def _pairs(removed: _Items[D], added: _Items[D], kind: _Kind[D]) -> list[tuple[str, str]]:
    """Unambiguous (removed key, added key) pairs with equal signatures (rename detection).

    A pair counts only when its signature is shared by exactly one removed and one added
    item, and, with ``kind.similar``, when the two pass it.
    """
    by_signature: dict[object, tuple[list[str], list[str]]] = {}
    for key, item in removed.items():
        by_signature.setdefault(kind.signature(item.doc), ([], []))[0].append(key)
    for key, item in added.items():
        if (entry := by_signature.get(kind.signature(item.doc))) is not None:
            entry[1].append(key)
    return sorted(
        (olds[0], news[0])
        for sig, (olds, news) in by_signature.items()
        if sig is not None
        and len(olds) == 1
        and len(news) == 1
        and (kind.similar is None or kind.similar(olds[0], news[0], removed[olds[0]].doc))
    )


def _items(schema: Schema) -> Schema:
    return schema.items if schema.items is not None else Schema(json_path=schema.json_path + ".items", type="any")


def _child_kind(kind: str) -> str:
    """Positions inside a schema, a request or a response body are fields; inside a parameter, parameter."""
    return "field" if kind in ("schema", "request", "response") else kind


def _sibling(python: str, name: str) -> str:
    """The dotted name of ``name`` beside the method ``python``."""
    parent = python.rpartition(".")[0]
    return f"{parent}.{name}" if parent else name


# --- the comparison --------------------------------------------------------------------------


class _Rule(NamedTuple):
    """A change of the JSON member ``key`` between two nodes (to a value whose truth is ``when``, if given)."""

    key: str  # the node's attribute is its snake_case name
    severity: Severity
    kind: str  # after "<noun>-"
    message: str  # formats {a} and {b} (the old and the new value) and {noun}
    values: bool = False  # the change carries the old and the new value
    when: bool | None = None


_attribute = functools.cache(naming.snake_case)  # a JSON member's attribute on the document model
_DEPRECATED = (
    _Rule("deprecated", "feature", "deprecated", "{noun} deprecated", when=True),
    _Rule("deprecated", "patch", "undeprecated", "{noun} no longer deprecated", when=False),
)
_API_RULES = (
    _Rule("rootUrl", "patch", "endpoint-changed", "root URL changed from {a!r} to {b!r}", True),
    _Rule("mtlsRootUrl", "patch", "endpoint-changed", "mTLS root URL changed from {a!r} to {b!r}", True),
    _Rule("servicePath", "patch", "endpoint-changed", "service path changed from {a!r} to {b!r}", True),
    _Rule("batchPath", "patch", "endpoint-changed", "batch path changed from {a!r} to {b!r}", True),
    *(_Rule(key, "docs", "documentation-changed", f"{key} changed") for key in ("title", "description")),
    _Rule("documentationLink", "docs", "documentation-changed", "documentationLink changed"),
)
_METHOD_RULES = (
    _Rule("httpMethod", "breaking", "http-method-changed", "HTTP method changed from {a} to {b}", True),
    _Rule("path", "breaking", "path-changed", "path changed from {a!r} to {b!r}", True),
    *_DEPRECATED,
    _Rule("apiVersion", "patch", "api-version-changed", "apiVersion changed from {a!r} to {b!r}", True),
    _Rule("description", "docs", "description-changed", "description changed"),
)
_PARAMETER_RULES = (
    _Rule("location", "breaking", "location-changed", "moved from the {a} to the {b}", True),
    _Rule("repeated", "breaking", "repeated-changed", "now repeated (takes a sequence)", True, when=True),
    _Rule("repeated", "breaking", "repeated-changed", "no longer repeated (takes one value)", True, when=False),
)
_POSITION_RULES = (
    _Rule("default", "patch", "default-changed", "server default changed from {a!r} to {b!r}", True),
    _Rule("readOnly", "patch", "read-only", "became output only (read-only)", when=True),
    _Rule("readOnly", "feature", "writable", "no longer output only (read-only)", when=False),
    *_DEPRECATED,
)


class _Differ:
    """Walks two surfaces side by side and collects the changes."""

    def __init__(self, old: Surface, new: Surface) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        # Methods removed or added anywhere, by JSON path: paired across the API by HTTP method and path.
        self.removed_methods: dict[str, Item[Method]] = {}
        self.added_methods: dict[str, Item[Method]] = {}

    def add(self, severity: Severity, kind: str, python: str, path: str, message: str, *values: object) -> None:
        """Record a change; ``values``: the old and the new value (None when one does not apply)."""
        old, new = (*(None if value is None else str(value) for value in values), None, None)[:2]
        self.changes.append(Change(severity, kind, python, path, message, old, new))

    def rules(self, noun: str, python: str, path: str, old: object, new: object, rules: tuple[_Rule, ...]) -> None:
        """Report each attribute of ``rules`` that differs between ``old`` and ``new``."""
        for rule in rules:
            attribute = _attribute(rule.key)
            a, b = getattr(old, attribute), getattr(new, attribute)
            if a != b and rule.when in (None, bool(b)):
                kind, message = f"{noun}-{rule.kind}", rule.message.format(a=a, b=b, noun=noun)
                self.add(rule.severity, kind, python, f"{path}.{rule.key}", message, *(a, b)[: 2 * rule.values])

    def run(self) -> None:
        old, new = self.old.document, self.new.document
        self.api()
        self.methods(self.old.named(old.methods), self.new.named(new.methods))
        self.members(RESOURCE, self.old.named(old.resources), self.new.named(new.resources), self.resource)
        self.moves(METHOD, self.removed_methods, self.added_methods, self.method)
        self.members(SCHEMA, self.old.schemas(), self.new.schemas(), self.schema)

    # --- members of a container: one mechanism for every kind -----------------------------
    def members(self, kind: _Kind[D], old: _Items[D], new: _Items[D], compare: _Compare[D]) -> None:
        """Report renamed, removed and added members, then compare those on both sides."""
        removed = {key: item for key, item in old.items() if key not in new}
        self.moves(kind, removed, {key: item for key, item in new.items() if key not in old}, compare)
        self.matched(kind, old, new, compare)

    def moves(
        self, kind: _Kind[D], removed: dict[str, Item[D]], added: dict[str, Item[D]], compare: _Compare[D]
    ) -> None:
        noun = kind.noun
        for old_key, new_key in _pairs(removed, added, kind):
            a, b = removed.pop(old_key), added.pop(new_key)
            self.add("breaking", f"{noun}-renamed", a.python, b.path, kind.renamed(b.label), a.label, b.label)
            if kind.compare_renamed:
                compare(a, b)
        for a in removed.values():
            self.add("breaking", f"{noun}-removed", a.python, a.path, f"{noun} removed")
        for b in added.values():
            if b.required:
                self.add("breaking", f"{noun}-added-required", b.python, b.path, f"new required {noun}")
            else:
                message = "optional parameter added" if noun == "parameter" else f"{noun} added"
                self.add("feature", f"{noun}-added", b.python, b.path, message)

    def matched(self, kind: _Kind[D], old: _Items[D], new: _Items[D], compare: _Compare[D]) -> None:
        for key in sorted(set(old) & set(new)):
            a, b = old[key], new[key]
            if a.label.rpartition(".")[2] != b.label.rpartition(".")[2]:
                message = f"Python name changed to {b.label} (a name collision in the new document)"
                self.add("breaking", f"{kind.noun}-python-name-changed", a.python, b.path, message, a.label, b.label)
            compare(a, b)

    # --- the API as a whole -------------------------------------------------------------
    def api(self) -> None:
        od, nd = self.old.document, self.new.document
        package, client = self.new.client.package, self.new.client.client_class
        for kind, python, key, what, a in (
            ("package", package, "name", "package", self.old.client.package),
            ("client-class", client, "canonicalName", "client class", self.old.client.client_class),
        ):
            if a != python:
                self.add("breaking", f"api-{kind}-changed", python, f"$.{key}", f"{what} renamed from {a}", a, python)
        self.rules("api", client, "$", od, nd, _API_RULES)
        old_scopes, new_scopes = dict(od.scopes), dict(nd.scopes)
        old_urls, new_urls = {e.url for e in od.endpoints}, {e.url for e in nd.endpoints}
        for kind, python, path, what, gone, a_set, b_set in (
            ("endpoint", f"{client}.ENDPOINTS", "$.endpoints", "endpoint", "no longer listed", old_urls, new_urls),
            ("scope", client, "$.auth.oauth2.scopes", "OAuth scope", "removed", set(old_scopes), set(new_scopes)),
        ):
            for value in sorted(a_set - b_set):
                self.add("patch", f"api-{kind}-removed", python, path, f"{what} {value!r} {gone}", value, None)
            for value in sorted(b_set - a_set):
                self.add("patch", f"api-{kind}-added", python, path, f"{what} {value!r} added", None, value)
        if set(od.features) != set(nd.features):
            message = f"features changed from {sorted(od.features)} to {sorted(nd.features)}"
            self.add("patch", "api-features-changed", client, "$.features", message)
        for scope in sorted(set(old_scopes) & set(new_scopes)):
            if old_scopes[scope] != new_scopes[scope]:
                message = f"description of scope {scope!r} changed"
                self.add("docs", "api-documentation-changed", client, "$.auth.oauth2.scopes", message)

    # --- resources, methods, parameters -------------------------------------------------
    def resource(self, old: Item[Resource], new: Item[Resource]) -> None:
        self.rules("resource", new.python, new.path, old.doc, new.doc, _DEPRECATED)
        self.methods(self.old.named(old.doc.methods), self.new.named(new.doc.methods))
        self.members(RESOURCE, self.old.named(old.doc.resources), self.new.named(new.doc.resources), self.resource)

    def methods(self, old: _Items[Method], new: _Items[Method]) -> None:
        """Compare the methods of one container; keep removed and added ones for pairing across the API."""
        self.removed_methods.update((item.path, item) for key, item in old.items() if key not in new)
        self.added_methods.update((item.path, item) for key, item in new.items() if key not in old)
        self.matched(METHOD, old, new, self.method)

    def method(self, old: Item[Method], new: Item[Method]) -> None:
        od, nd, python, path = old.doc, new.doc, new.python, new.path
        self.rules("method", python, path, od, nd, _METHOD_RULES)
        if set(od.scopes) != set(nd.scopes):
            message = f"scopes changed from {sorted(od.scopes)} to {sorted(nd.scopes)}"
            self.add("patch", "method-scopes-changed", python, f"{path}.scopes", message)
        self.body(old, new)
        self.response(old, new)
        self.paging(old, new)
        self.members(PARAMETER, self.old.parameters(old), self.new.parameters(new), self.parameter)

    def body(self, old: Item[Method], new: Item[Method]) -> None:
        od, nd, python, path = old.doc, new.doc, new.python, f"{new.path}.request"
        a, b = self.old.method(old.path).body, self.new.method(new.path).body
        was = self.old.message_type("request", od.request_ref, od.request_schema)
        now = self.new.message_type("request", nd.request_ref, nd.request_schema)
        if a == "none" and b == "required":
            self.add("breaking", "method-body-added-required", python, path, f"now requires body: {now}", None, now)
        elif a == "none" and b == "optional":
            self.add("feature", "method-body-added", python, path, f"now takes an optional body: {now}", None, now)
        elif b == "none" and a != "none":
            message = f"no longer takes a body (was {was})"
            self.add("breaking", "method-body-removed", python, f"{old.path}.request", message, was)
        elif a != "none" and b != "none":
            if od.request_schema is not None and nd.request_schema is not None:
                self.position("request", f"{python}(body=...)", od.request_schema, nd.request_schema, typed=True)
            elif od.request_ref != nd.request_ref or was != now:
                message = f"request type changed from {was} to {now}"
                self.add("breaking", "method-request-type-changed", python, path, message, was, now)
                return
            if a == "optional" and b == "required":
                self.add("breaking", "method-body-required", python, path, f"body: {now} became required")
            elif a == "required" and b == "optional":
                self.add("feature", "method-body-optional", python, path, f"body: {now} became optional")

    def response(self, old: Item[Method], new: Item[Method]) -> None:
        od, nd, python, path = old.doc, new.doc, new.python, f"{new.path}.response"
        a = bool(od.response_ref) or od.response_schema is not None
        b = bool(nd.response_ref) or nd.response_schema is not None
        was = self.old.message_type("response", od.response_ref, od.response_schema)
        now = self.new.message_type("response", nd.response_ref, nd.response_schema)
        if b and not a:
            self.add("feature", "method-response-added", python, path, f"now returns {now} (was None)", None, now)
        elif a and not b:
            message = f"now returns None (was {was})"
            self.add("breaking", "method-response-removed", python, f"{old.path}.response", message, was)
        elif od.response_schema is not None and nd.response_schema is not None:
            self.position("response", f"{python}(...) return value", od.response_schema, nd.response_schema, typed=True)
        elif a and (od.response_ref != nd.response_ref or was != now):
            message = f"return type changed from {was} to {now}"
            self.add("breaking", "method-response-type-changed", python, path, message, was, now)

    def paging(self, old: Item[Method], new: Item[Method]) -> None:
        """The ``<method>_pages`` and ``<method>_all`` helpers generated for paged methods."""
        path, was, now = new.path, self.old.method(old.path), self.new.method(new.path)
        for kind, what, a, b in (
            ("pages", "page iterator", was.pages_name, now.pages_name),
            ("all", "item iterator", was.all_name, now.all_name),
        ):
            old_python, new_python = _sibling(old.python, a), _sibling(new.python, b)
            if a and not b:
                why = "(pageToken, nextPageToken" + (", one list of items)" if kind == "all" else ")")
                message = f"{what} removed: the method or its response no longer pages {why}"
                self.add("breaking", f"method-{kind}-removed", old_python, path, message)
            elif b and not a:
                self.add("feature", f"method-{kind}-added", new_python, path, f"{what} added: the method now pages")
            elif a and b and a != b:
                message = f"Python name changed to {new_python} (a name collision in the new document)"
                self.add("breaking", f"method-{kind}-python-name-changed", old_python, path, message, a, b)
        if was.all_name and now.all_name:
            a, b = self.old.items_key(old.doc), self.new.items_key(new.doc)
            if a != b:
                message = f"now yields the items of {b!r} instead of {a!r}"
                self.add("breaking", "method-items-changed", _sibling(new.python, now.all_name), path, message, a, b)

    def parameter(self, old: Item[Schema], new: Item[Schema]) -> None:
        if old.required != new.required:  # the IR's requiredness: path parameters are required
            if new.required:
                self.add("breaking", "parameter-required", new.python, new.path, "parameter became required")
            else:
                self.add("feature", "parameter-optional", new.python, new.path, "parameter became optional")
        self.rules("parameter", new.python, new.path, old.doc, new.doc, _PARAMETER_RULES)
        self.position("parameter", new.python, old.doc, new.doc, typed=True)

    # --- schemas and schema positions ---------------------------------------------------
    def schema(self, old: Item[Schema], new: Item[Schema]) -> None:
        self.position("schema", new.python, old.doc, new.doc, typed=True)

    def position(self, kind: str, python: str, old: Schema, new: Schema, typed: bool = False) -> None:
        """Compare one schema position (a parameter, a field, a schema, an item, a map value, a body).

        ``typed``: a type change also names the Python types (of top-level positions and their fields).
        """
        path = new.json_path
        if _shape(old) != _shape(new):
            before, after = self.describe(old, self.old), self.describe(new, self.new)
            message = f"type changed from {before} to {after}"
            old_type = self.old.annotation(kind, old.json_path) if typed else ""
            new_type = self.new.annotation(kind, path) if typed else ""
            if old_type and new_type and old_type != new_type:
                message += f" (Python: {old_type} → {new_type})"
            self.add("breaking", f"{kind}-type-changed", python, path, message, before, after)
            return
        self.enum(kind, python, old, new)
        if old.pattern != new.pattern:
            was, at = old.pattern or None, f"{path}.pattern"
            if new.pattern:
                message = f"pattern changed from {was!r} to {new.pattern!r}: values accepted before may be rejected"
                self.add("breaking", f"{kind}-pattern-changed", python, at, message, was, new.pattern)
            else:
                self.add("feature", f"{kind}-pattern-removed", python, at, f"pattern {was!r} dropped", was)
        self.rules(kind, python, path, old, new, _POSITION_RULES)
        if old.description != new.description:
            self.add("docs", f"{kind}-description-changed", python, f"{path}.description", "description changed")
        if old.enum_descriptions != new.enum_descriptions:
            where = f"{path}.enumDescriptions"
            self.add("docs", f"{kind}-description-changed", python, where, "enum value descriptions changed")
        # Children: the fields of an object, the items of an array, the values of a map.
        shape, child, a, b = _shape(new), _child_kind(kind), old.additional_properties, new.additional_properties
        if shape == "array":
            self.position(child, f"{python}[]", _items(old), _items(new))
        if shape not in ("object", "map"):
            return
        fields = (self.old.fields(python, old), self.new.fields(python, new))
        self.members(FIELD, *fields, lambda x, y: self.position("field", y.python, x.doc, y.doc, kind == "schema"))
        if a is not None and b is not None:
            self.position(child, f"{python}{{}}", a, b)
        elif a is not None or b is not None:
            message = "now allows additional properties" if b is not None else "no longer allows additional properties"
            what = f"{child}-additional-properties-{'added' if b is not None else 'removed'}"
            self.add("patch", what, python, f"{path}.additionalProperties", message)

    def enum(self, kind: str, python: str, old: Schema, new: Schema) -> None:
        path, a, b = f"{new.json_path}.enum", old.enum, new.enum
        if a == b:
            return
        if not a:
            message = f"now restricted to {len(b)} enum value(s): the Python type narrows from str to Literal[...]"
            self.add("breaking", f"{kind}-enum-added", python, path, message)
        elif not b:
            self.add("feature", f"{kind}-enum-removed", python, path, "no longer restricted to enum values")
        else:
            for value in (value for value in a if value not in b):
                self.add("breaking", f"{kind}-enum-value-removed", python, path, f"enum value {value!r} removed", value)
            for value in (value for value in b if value not in a):
                message = f"enum value {value!r} added"
                self.add("feature", f"{kind}-enum-value-added", python, path, message, None, value)
            if set(a) == set(b):
                self.add("docs", f"{kind}-enum-reordered", python, path, "enum values reordered")

    def describe(self, schema: Schema, surface: Surface) -> str:
        """A document type in words: ``string (int64)``, ``array``, ``schemas.Instance``."""
        if schema.ref:
            return f"schemas.{surface.type_name(schema.ref)}"
        kind, _, fmt = _shape(schema).partition("/")
        return f"{kind} ({fmt})" if fmt else kind

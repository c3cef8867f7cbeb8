"""Compare two discovery documents over the generated Python surface.

The report speaks of what users of the generated package touch — ``projects.locations.
instances.list(page_size=...)``, ``schemas.Instance.adminSettings`` — with the document's
JSON path beside each change. Python names come from :func:`codegen.ir.lower`, so a change
of a Python name that the document did not make (a new sibling that collides and pushes an
old name to ``name_``) is reported too.

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
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from codegen import ir, naming
from codegen.discovery import Document, Method, Resource, Schema
from codegen.errors import CodegenError
from codegen.versions import compare_revisions

Severity = Literal["breaking", "feature", "patch", "docs"]
Bump = Literal["major", "minor", "patch", "none"]

SEVERITIES: tuple[Severity, ...] = ("breaking", "feature", "patch", "docs")
_HEADINGS: Mapping[Severity, str] = {
    "breaking": "Breaking changes",
    "feature": "Features",
    "patch": "Other changes (patch)",
    "docs": "Documentation only",
}

T = TypeVar("T")
V = TypeVar("V", "_ResourceView", "_MethodView", "_SchemaView")


@dataclass(frozen=True)
class Change:
    """One difference on the generated surface."""

    severity: Severity
    kind: str  # e.g. "parameter-removed"
    python: str  # the Python surface name (the old one for removals, else the new one)
    path: str  # the document JSON path (of the old document for removals, else of the new one)
    message: str  # what happened, in words
    old: str | None = None  # the old value, when one applies
    new: str | None = None  # the new value, when one applies

    def to_json(self) -> dict[str, str | None]:
        return {
            "severity": self.severity,
            "kind": self.kind,
            "python": self.python,
            "path": self.path,
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class ApiInfo:
    """Which document one side of a comparison is."""

    name: str
    version: str
    revision: str
    package: str
    source: str

    @classmethod
    def of(cls, document: Document) -> ApiInfo:
        return cls(document.name, document.version, document.revision, ir.package_name(document), document.source)

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "revision": self.revision,
            "package": self.package,
            "source": self.source,
        }


@dataclass(frozen=True)
class Report:
    """The changes from ``old`` to ``new``, sorted by severity, then Python name."""

    old: ApiInfo
    new: ApiInfo
    changes: tuple[Change, ...]

    def of_severity(self, severity: Severity) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.severity == severity)

    @property
    def breaking(self) -> bool:
        return any(change.severity == "breaking" for change in self.changes)

    @property
    def counts(self) -> dict[str, int]:
        return {severity: len(self.of_severity(severity)) for severity in SEVERITIES}

    @property
    def bump(self) -> Bump:
        """The suggested semantic-version bump of the generated package."""
        counts = self.counts
        if counts["breaking"]:
            return "major"
        if counts["feature"]:
            return "minor"
        if counts["patch"] or counts["docs"]:
            return "patch"
        return "none"

    @property
    def revision_order(self) -> int | None:
        """-1 when the new revision is older, 0 same, 1 newer, None when not comparable."""
        return compare_revisions(self.old.revision, self.new.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "breaking": self.breaking,
            "bump": self.bump,
            "counts": self.counts,
            "changes": [change.to_json() for change in self.changes],
        }

    def format_text(self, verbose: bool = False) -> str:
        """The human report: a header, then the changes grouped by severity."""
        lines = [self.header()]
        if (self.old.name, self.old.version) != (self.new.name, self.new.version):
            lines.append(
                f"note: comparing different APIs ({self.old.name} {self.old.version} → "
                f"{self.new.name} {self.new.version})"
            )
        if self.revision_order == -1:
            lines.append(f"note: the new revision {self.new.revision} is OLDER than {self.old.revision}")
        if not self.changes:
            lines.append("No changes to the generated surface.")
        for severity in SEVERITIES:
            changes = self.of_severity(severity)
            if not changes:
                continue
            if severity == "docs" and not verbose:
                lines.append("")
                lines.append(f"{_HEADINGS[severity]}: {len(changes)} change(s) (not listed; -v lists them)")
                continue
            lines.append("")
            lines.append(f"{_HEADINGS[severity]} ({len(changes)}):")
            lines.extend(_change_lines(changes, collapse=severity == "patch" and not verbose))
        lines.append("")
        counts = self.counts
        lines.append(
            f"{counts['breaking']} breaking, {counts['feature']} feature, {counts['patch']} patch, "
            f"{counts['docs']} documentation change(s); suggested version bump: {self.bump}"
        )
        return "\n".join(lines) + "\n"

    def header(self) -> str:
        return (
            f"{self.new.name} {self.new.version} ({self.new.package}): revision {self.old.revision or '?'} "
            f"→ {self.new.revision or '?'}"
        )


#: In the patch group, a message repeated more than this many times is printed once (``-v``: all).
COLLAPSE_OVER = 5


def _change_lines(changes: tuple[Change, ...], collapse: bool) -> list[str]:
    counts: dict[tuple[str, str], int] = {}
    for change in changes:
        counts[(change.kind, change.message)] = counts.get((change.kind, change.message), 0) + 1
    lines: list[str] = []
    shown: set[tuple[str, str]] = set()
    for change in changes:
        key = (change.kind, change.message)
        if collapse and counts[key] > COLLAPSE_OVER:
            if key not in shown:
                shown.add(key)
                lines.append(f"  {change.python} and {counts[key] - 1} more: {change.message} (-v lists them)")
                lines.append(f"      at {change.path} …")
            continue
        lines.append(f"  {change.python}: {change.message}")
        lines.append(f"      at {change.path}")
    return lines


def diff_documents(old: Document, new: Document) -> Report:
    """Compare two loaded documents over the generated surface."""
    differ = _Differ(Surface.of(old), Surface.of(new))
    differ.run()
    order = {severity: index for index, severity in enumerate(SEVERITIES)}
    changes = sorted(
        differ.changes, key=lambda c: (order[c.severity], c.python, c.kind, c.path, c.old or "", c.new or "")
    )
    return Report(ApiInfo.of(old), ApiInfo.of(new), tuple(changes))


# --- the surface: document items paired with their Python names ------------------------


@dataclass(frozen=True)
class _MethodView:
    python: str
    doc: Method
    node: ir.MethodIR
    params: Mapping[str, ir.Param]  # by wire name


@dataclass(frozen=True)
class _ResourceView:
    python: str
    doc: Resource
    methods: Mapping[str, _MethodView]  # by document name
    children: Mapping[str, _ResourceView]


@dataclass(frozen=True)
class _SchemaView:
    python: str  # "schemas.Instance"
    doc: Schema
    cls: ir.SchemaClass | None
    fields: Mapping[str, ir.Field]  # by wire name


@dataclass(frozen=True)
class Surface:
    """A document with the Python name of every resource, method, parameter and schema."""

    document: Document
    client: ir.ClientIR
    methods: Mapping[str, _MethodView]
    resources: Mapping[str, _ResourceView]
    schemas: Mapping[str, _SchemaView]
    schema_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Document) -> Surface:
        client = ir.lower(document)
        methods = _pair_methods(document.methods, client.methods, "", document.source)
        roots = [module.root for module in client.modules]
        _expect(len(roots) == len(document.resources), document.source, "top-level resources")
        resources = {
            doc.name: _resource_view(doc, root, "", document.source)
            for doc, root in zip(document.resources, roots, strict=True)
        }
        names = dict(client.schema_names)
        classes = {schema_class.name: schema_class for schema_class in client.schemas}
        schemas: dict[str, _SchemaView] = {}
        for key, schema in document.schemas:
            python = names.get(key)
            _expect(python is not None, document.source, f"schema {key!r}")
            assert python is not None
            schema_class = classes.get(python)
            fields = {f.key: f for f in schema_class.fields} if schema_class else {}
            schemas[key] = _SchemaView(f"schemas.{python}", schema, schema_class, fields)
        return cls(document, client, methods, resources, schemas, names)

    def type_name(self, ref: str) -> str:
        """The Python class name of the schema ``ref`` (the key itself when unknown)."""
        return self.schema_names.get(ref, ref)


def _expect(condition: bool, source: str, what: str) -> None:
    if not condition:  # the IR stopped mirroring the document: a generator bug
        raise CodegenError(f"{source}: internal error: the client IR does not mirror the document's {what}")


def _annotation(type_ref: ir.TypeRef | None) -> str:
    """The annotation of an IR type ("" for none)."""
    return str(type_ref) if type_ref is not None else ""


def _resource_view(doc: Resource, node: ir.ResourceIR, prefix: str, source: str) -> _ResourceView:
    python = prefix + node.attribute
    # Pairing is by position: check it through the name (the IR only appends "_" to avoid collisions).
    _expect(node.attribute.rstrip("_") == naming.python_name(doc.name).rstrip("_"), source, f"resource {doc.json_path}")
    _expect(len(doc.resources) == len(node.children), source, f"resources under {doc.json_path}")
    children = {
        child.name: _resource_view(child, child_ir, python + ".", source)
        for child, child_ir in zip(doc.resources, node.children, strict=True)
    }
    return _ResourceView(python, doc, _pair_methods(doc.methods, node.methods, python + ".", source), children)


def _pair_methods(
    docs: tuple[Method, ...], nodes: tuple[ir.MethodIR, ...], prefix: str, source: str
) -> dict[str, _MethodView]:
    """Pair document methods with IR methods: by id when ids are unique, else by position and name."""
    _expect(len(docs) == len(nodes), source, "methods")
    by_id = {node.id: node for node in nodes}
    ids = [doc.id for doc in docs]
    unique = all(doc.id for doc in docs) and len(set(ids)) == len(ids)
    if unique:
        _expect(set(ids) == set(by_id), source, "method ids")
    result = {}
    for index, doc in enumerate(docs):
        node = by_id[doc.id] if unique else nodes[index]
        _expect(node.name.rstrip("_") == naming.python_name(doc.name).rstrip("_"), source, f"method {doc.json_path}")
        params = {param.wire: param for param in node.params if not param.standard}
        _expect(set(params) == {wire for wire, _ in doc.parameters}, source, f"parameters of {doc.json_path}")
        result[doc.name] = _MethodView(prefix + node.name, doc, node, params)
    return result


# --- comparison ------------------------------------------------------------------------


def _shape(schema: Schema | None) -> str:
    """The type of a schema position without its children: what a change of is breaking."""
    if schema is None:
        return "any"
    if schema.ref:
        return "$" + schema.ref
    kind = schema.type or "any"
    if kind == "object":
        if not schema.properties and schema.additional_properties is not None:
            return "map"
        return "object"
    if kind in ("array", "any", "null"):
        return kind
    return f"{kind}/{schema.format}" if schema.format else kind


def _items(schema: Schema) -> Schema:
    return schema.items if schema.items is not None else Schema(json_path=schema.json_path + ".items", type="any")


def _python_type(type_expr: str) -> str:
    return type_expr.replace("_t.", "").replace("_s.", "")


def _last(python: str) -> str:
    """The last attribute of a dotted name: a parent's rename is reported at the parent."""
    return python.rpartition(".")[2]


def _message_type(surface: Surface, ref: str, inline: Schema | None, type_expr: str) -> str:
    """How a request or response type reads: the schema class of ``ref``, else the IR's type of the inline schema."""
    if ref:
        return surface.type_name(ref)
    if inline is not None:
        return _python_type(type_expr)
    return ""


def _child_kind(kind: str) -> str:
    """Positions inside a schema, a request or a response body are fields; inside a parameter, parameter."""
    return "field" if kind in ("schema", "request", "response") else kind


def _sibling(python: str, name: str) -> str:
    """The dotted name of ``name`` beside the method ``python``."""
    parent = python.rpartition(".")[0]
    return f"{parent}.{name}" if parent else name


def _member(python: str, key: str) -> str:
    """``schemas.Instance`` + ``adminSettings`` → ``schemas.Instance.adminSettings``."""
    if key.isidentifier() and key.isascii():
        return f"{python}.{key}"
    return f"{python}[{json.dumps(key)}]"


def _pairs(
    removed: dict[str, T],
    added: dict[str, T],
    signature: Callable[[T], object],
    similar: Callable[[str, str], bool] | None = None,
) -> list[tuple[str, str]]:
    """Unambiguous (removed key, added key) pairs with equal signatures (rename detection).

    A pair counts only when its signature is shared by exactly one removed and one added
    item, and, with ``similar``, when the two keys look alike.
    """
    by_signature: dict[object, tuple[list[str], list[str]]] = {}
    for key, item in removed.items():
        by_signature.setdefault(signature(item), ([], []))[0].append(key)
    for key, item in added.items():
        if (entry := by_signature.get(signature(item))) is not None:
            entry[1].append(key)
    return sorted(
        (olds[0], news[0])
        for sig, (olds, news) in by_signature.items()
        if sig is not None and len(olds) == 1 and len(news) == 1 and (similar is None or similar(olds[0], news[0]))
    )


def _similar(old: str, new: str) -> bool:
    """Names alike enough to call a same-shaped removal + addition a rename (``pageSize`` ~ ``maxPageSize``)."""
    a, b = naming.snake_case(old), naming.snake_case(new)
    return a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


class _Differ:
    def __init__(self, old: Surface, new: Surface) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        # Methods removed or added anywhere: paired globally by HTTP method and path.
        self.removed_methods: dict[str, _MethodView] = {}
        self.added_methods: dict[str, _MethodView] = {}

    def moves(
        self,
        noun: str,
        reason: str,
        removed: dict[str, V],
        added: dict[str, V],
        pairs: list[tuple[str, str]],
        compare: Callable[[V, V], None],
    ) -> None:
        """Report renamed (paired), removed and added ``noun``s; ``compare`` each renamed pair."""
        for old_key, new_key in pairs:
            a, b = removed.pop(old_key), added.pop(new_key)
            message = f"{noun} renamed to {b.python} ({reason})"
            self.add("breaking", f"{noun}-renamed", a.python, b.doc.json_path, message, a.python, b.python)
            compare(a, b)
        for view in removed.values():
            self.add("breaking", f"{noun}-removed", view.python, view.doc.json_path, f"{noun} removed")
        for view in added.values():
            self.add("feature", f"{noun}-added", view.python, view.doc.json_path, f"{noun} added")

    def add(
        self,
        severity: Severity,
        kind: str,
        python: str,
        path: str,
        message: str,
        old: object = None,
        new: object = None,
    ) -> None:
        self.changes.append(
            Change(
                severity,
                kind,
                python,
                path,
                message,
                None if old is None else str(old),
                None if new is None else str(new),
            )
        )

    def run(self) -> None:
        self.api()
        self.methods(self.old.methods, self.new.methods)
        self.resources(self.old.resources, self.new.resources, parent="$")
        self.renamed_methods()
        self.schemas()

    # --- the API as a whole -----------------------------------------------------------
    def api(self) -> None:
        old, new = self.old.client, self.new.client
        od, nd = self.old.document, self.new.document
        if old.package != new.package:
            self.add(
                "breaking",
                "api-package-changed",
                new.package,
                "$.name",
                f"package renamed from {old.package}",
                old.package,
                new.package,
            )
        if old.client_class != new.client_class:
            self.add(
                "breaking",
                "api-client-class-changed",
                new.client_class,
                "$.canonicalName",
                f"client class renamed from {old.client_class}",
                old.client_class,
                new.client_class,
            )
        for key, label, a, b in (
            ("rootUrl", "root URL", od.root_url, nd.root_url),
            ("mtlsRootUrl", "mTLS root URL", od.mtls_root_url, nd.mtls_root_url),
            ("servicePath", "service path", od.service_path, nd.service_path),
            ("batchPath", "batch path", od.batch_path, nd.batch_path),
        ):
            if a != b:
                self.add(
                    "patch",
                    "api-endpoint-changed",
                    new.client_class,
                    f"$.{key}",
                    f"{label} changed from {a!r} to {b!r}",
                    a,
                    b,
                )
        old_endpoints = {e.url for e in od.endpoints}
        new_endpoints = {e.url for e in nd.endpoints}
        for url in sorted(old_endpoints - new_endpoints):
            self.add(
                "patch",
                "api-endpoint-removed",
                f"{new.client_class}.ENDPOINTS",
                "$.endpoints",
                f"endpoint {url!r} no longer listed",
                url,
                None,
            )
        for url in sorted(new_endpoints - old_endpoints):
            self.add(
                "patch",
                "api-endpoint-added",
                f"{new.client_class}.ENDPOINTS",
                "$.endpoints",
                f"endpoint {url!r} added",
                None,
                url,
            )
        old_scopes, new_scopes = dict(od.scopes), dict(nd.scopes)
        for scope in sorted(set(old_scopes) - set(new_scopes)):
            self.add(
                "patch",
                "api-scope-removed",
                new.client_class,
                "$.auth.oauth2.scopes",
                f"OAuth scope {scope!r} removed",
                scope,
                None,
            )
        for scope in sorted(set(new_scopes) - set(old_scopes)):
            self.add(
                "patch",
                "api-scope-added",
                new.client_class,
                "$.auth.oauth2.scopes",
                f"OAuth scope {scope!r} added",
                None,
                scope,
            )
        if set(od.features) != set(nd.features):
            self.add(
                "patch",
                "api-features-changed",
                new.client_class,
                "$.features",
                f"features changed from {sorted(od.features)} to {sorted(nd.features)}",
            )
        for key, a, b in (
            ("title", od.title, nd.title),
            ("description", od.description, nd.description),
            ("documentationLink", od.documentation_link, nd.documentation_link),
        ):
            if a != b:
                self.add("docs", "api-documentation-changed", new.client_class, f"$.{key}", f"{key} changed")
        for scope in sorted(set(old_scopes) & set(new_scopes)):
            if old_scopes[scope] != new_scopes[scope]:
                self.add(
                    "docs",
                    "api-documentation-changed",
                    new.client_class,
                    "$.auth.oauth2.scopes",
                    f"description of scope {scope!r} changed",
                )

    # --- resources --------------------------------------------------------------------
    def resources(self, old: Mapping[str, _ResourceView], new: Mapping[str, _ResourceView], parent: str) -> None:
        removed = {key: old[key] for key in old if key not in new}
        added = {key: new[key] for key in new if key not in old}

        def signature(view: _ResourceView) -> object:
            names = frozenset((m.doc.name, m.doc.http_method) for m in view.methods.values())
            children = frozenset(view.children)
            return (names, children) if names or children else None

        pairs = _pairs(removed, added, signature, _similar)
        self.moves("resource", "a similar name with the same method names", removed, added, pairs, self.resource)
        for key in sorted(set(old) & set(new)):
            a, b = old[key], new[key]
            if _last(a.python) != _last(b.python):
                self.add(
                    "breaking",
                    "resource-python-name-changed",
                    a.python,
                    b.doc.json_path,
                    f"Python name changed to {b.python} (a name collision in the new document)",
                    a.python,
                    b.python,
                )
            self.resource(a, b)

    def resource(self, old: _ResourceView, new: _ResourceView) -> None:
        if new.doc.deprecated != old.doc.deprecated:
            self.deprecation("resource", new.python, new.doc.json_path, new.doc.deprecated)
        self.methods(old.methods, new.methods)
        self.resources(old.children, new.children, new.doc.json_path)

    # --- methods ----------------------------------------------------------------------
    def methods(self, old: Mapping[str, _MethodView], new: Mapping[str, _MethodView]) -> None:
        for key in old:
            if key not in new:
                self.removed_methods[old[key].doc.json_path] = old[key]
        for key in new:
            if key not in old:
                self.added_methods[new[key].doc.json_path] = new[key]
        for key in sorted(set(old) & set(new)):
            self.method(old[key], new[key])

    def renamed_methods(self) -> None:
        removed, added = self.removed_methods, self.added_methods
        pairs = _pairs(removed, added, lambda view: (view.doc.http_method, view.doc.path))
        self.moves(
            "method", "same HTTP method and path", removed, added, pairs, lambda a, b: self.method(a, b, renamed=True)
        )

    def method(self, old: _MethodView, new: _MethodView, renamed: bool = False) -> None:
        python, path = new.python, new.doc.json_path
        if _last(old.python) != _last(new.python) and not renamed:
            self.add(
                "breaking",
                "method-python-name-changed",
                old.python,
                path,
                f"Python name changed to {new.python} (a name collision in the new document)",
                old.python,
                new.python,
            )
        od, nd = old.doc, new.doc
        if od.http_method != nd.http_method:
            self.add(
                "breaking",
                "method-http-method-changed",
                python,
                f"{path}.httpMethod",
                f"HTTP method changed from {od.http_method} to {nd.http_method}",
                od.http_method,
                nd.http_method,
            )
        if od.path != nd.path:
            self.add(
                "breaking",
                "method-path-changed",
                python,
                f"{path}.path",
                f"path changed from {od.path!r} to {nd.path!r}",
                od.path,
                nd.path,
            )
        self.body(old, new)
        self.response(old, new)
        self.paging(old, new)
        if od.deprecated != nd.deprecated:
            self.deprecation("method", python, path, nd.deprecated)
        if set(od.scopes) != set(nd.scopes):
            self.add(
                "patch",
                "method-scopes-changed",
                python,
                f"{path}.scopes",
                f"scopes changed from {sorted(od.scopes)} to {sorted(nd.scopes)}",
            )
        if od.api_version != nd.api_version:
            self.add(
                "patch",
                "method-api-version-changed",
                python,
                f"{path}.apiVersion",
                f"apiVersion changed from {od.api_version!r} to {nd.api_version!r}",
                od.api_version,
                nd.api_version,
            )
        if od.description != nd.description:
            self.add("docs", "method-description-changed", python, f"{path}.description", "description changed")
        self.parameters(old, new)

    def body(self, old: _MethodView, new: _MethodView) -> None:
        od, nd = old.doc, new.doc
        python, path = new.python, f"{nd.json_path}.request"
        a, b = old.node.body, new.node.body
        old_type = _message_type(self.old, od.request_ref, od.request_schema, _annotation(old.node.body_type))
        new_type = _message_type(self.new, nd.request_ref, nd.request_schema, _annotation(new.node.body_type))
        if a == "none" and b == "required":
            self.add(
                "breaking", "method-body-added-required", python, path, f"now requires body: {new_type}", None, new_type
            )
        elif a == "none" and b == "optional":
            self.add(
                "feature", "method-body-added", python, path, f"now takes an optional body: {new_type}", None, new_type
            )
        elif a != "none" and b == "none":
            self.add(
                "breaking",
                "method-body-removed",
                python,
                f"{od.json_path}.request",
                f"no longer takes a body (was {old_type})",
                old_type,
                None,
            )
        elif a != "none" and b != "none":
            if od.request_schema is not None and nd.request_schema is not None:
                self.position(
                    "request",
                    f"{python}(body=...)",
                    od.request_schema,
                    nd.request_schema,
                    _annotation(old.node.body_type),
                    _annotation(new.node.body_type),
                )
            elif od.request_ref != nd.request_ref or old_type != new_type:
                self.add(
                    "breaking",
                    "method-request-type-changed",
                    python,
                    path,
                    f"request type changed from {old_type} to {new_type}",
                    old_type,
                    new_type,
                )
                return
            if a == "optional" and b == "required":
                self.add("breaking", "method-body-required", python, path, f"body: {new_type} became required")
            elif a == "required" and b == "optional":
                self.add("feature", "method-body-optional", python, path, f"body: {new_type} became optional")

    def paging(self, old: _MethodView, new: _MethodView) -> None:
        """The ``<method>_pages`` and ``<method>_all`` helpers generated for paged methods."""
        path = new.doc.json_path
        for kind, what, a, b in (
            ("pages", "page iterator", old.node.pages_name, new.node.pages_name),
            ("all", "item iterator", old.node.all_name, new.node.all_name),
        ):
            old_python, new_python = _sibling(old.python, a), _sibling(new.python, b)
            if a and not b:
                self.add(
                    "breaking",
                    f"method-{kind}-removed",
                    old_python,
                    path,
                    f"{what} removed: the method or its response no longer pages (pageToken, nextPageToken"
                    + (", one list of items)" if kind == "all" else ")"),
                )
            elif b and not a:
                self.add("feature", f"method-{kind}-added", new_python, path, f"{what} added: the method now pages")
            elif a and b and a != b:
                self.add(
                    "breaking",
                    f"method-{kind}-python-name-changed",
                    old_python,
                    path,
                    f"Python name changed to {new_python} (a name collision in the new document)",
                    a,
                    b,
                )
        a, b = old.node.items_field, new.node.items_field
        if a and b and a != b:
            self.add(
                "breaking",
                "method-items-changed",
                _sibling(new.python, new.node.all_name),
                path,
                f"now yields the items of {b!r} instead of {a!r}",
                a,
                b,
            )

    def response(self, old: _MethodView, new: _MethodView) -> None:
        od, nd = old.doc, new.doc
        python, path = new.python, f"{nd.json_path}.response"
        a = bool(od.response_ref) or od.response_schema is not None
        b = bool(nd.response_ref) or nd.response_schema is not None
        old_type = _message_type(self.old, od.response_ref, od.response_schema, _annotation(old.node.response_type))
        new_type = _message_type(self.new, nd.response_ref, nd.response_schema, _annotation(new.node.response_type))
        if not a and b:
            self.add(
                "feature", "method-response-added", python, path, f"now returns {new_type} (was None)", None, new_type
            )
        elif a and not b:
            self.add(
                "breaking",
                "method-response-removed",
                python,
                f"{od.json_path}.response",
                f"now returns None (was {old_type})",
                old_type,
                None,
            )
        elif od.response_schema is not None and nd.response_schema is not None:
            self.position(
                "response",
                f"{python}(...) return value",
                od.response_schema,
                nd.response_schema,
                _annotation(old.node.response_type),
                _annotation(new.node.response_type),
            )
        elif a and (od.response_ref != nd.response_ref or old_type != new_type):
            self.add(
                "breaking",
                "method-response-type-changed",
                python,
                path,
                f"return type changed from {old_type} to {new_type}",
                old_type,
                new_type,
            )

    # --- parameters -------------------------------------------------------------------
    def parameters(self, old: _MethodView, new: _MethodView) -> None:
        old_params, new_params = dict(old.doc.parameters), dict(new.doc.parameters)
        removed = {wire: old_params[wire] for wire in old_params if wire not in new_params}
        added = {wire: new_params[wire] for wire in new_params if wire not in old_params}

        def signature(schema: Schema) -> object:
            return (schema.location, _shape(schema), schema.repeated, schema.required, schema.enum)

        def call(view: _MethodView, wire: str) -> str:
            return f"{view.python}({view.params[wire].name}=...)"

        for old_wire, new_wire in _pairs(removed, added, signature, _similar):
            removed.pop(old_wire)
            schema = added.pop(new_wire)
            self.add(
                "breaking",
                "parameter-renamed",
                call(old, old_wire),
                schema.json_path,
                f"parameter probably renamed to {new.params[new_wire].name} (a similar name with the same type, "
                "location and requiredness; the only such pair)",
                old.params[old_wire].name,
                new.params[new_wire].name,
            )
        for wire, schema in removed.items():
            self.add("breaking", "parameter-removed", call(old, wire), schema.json_path, "parameter removed")
        for wire, schema in added.items():
            if new.params[wire].required:
                self.add(
                    "breaking", "parameter-added-required", call(new, wire), schema.json_path, "new required parameter"
                )
            else:
                self.add("feature", "parameter-added", call(new, wire), schema.json_path, "optional parameter added")
        for wire in sorted(set(old_params) & set(new_params)):
            a, b = old_params[wire], new_params[wire]
            old_param, new_param = old.params[wire], new.params[wire]
            python = call(new, wire)
            if old_param.name != new_param.name:
                self.add(
                    "breaking",
                    "parameter-python-name-changed",
                    call(old, wire),
                    b.json_path,
                    f"Python name changed to {new_param.name} (a name collision in the new document)",
                    old_param.name,
                    new_param.name,
                )
            if old_param.required != new_param.required:
                if new_param.required:
                    self.add("breaking", "parameter-required", python, b.json_path, "parameter became required")
                else:
                    self.add("feature", "parameter-optional", python, b.json_path, "parameter became optional")
            if a.location != b.location:
                self.add(
                    "breaking",
                    "parameter-location-changed",
                    python,
                    f"{b.json_path}.location",
                    f"moved from the {a.location} to the {b.location}",
                    a.location,
                    b.location,
                )
            if a.repeated != b.repeated:
                what = "now repeated (takes a sequence)" if b.repeated else "no longer repeated (takes one value)"
                self.add(
                    "breaking",
                    "parameter-repeated-changed",
                    python,
                    f"{b.json_path}.repeated",
                    what,
                    a.repeated,
                    b.repeated,
                )
            self.position("parameter", python, a, b, _annotation(old_param.type_expr), _annotation(new_param.type_expr))

    # --- schemas and fields -----------------------------------------------------------
    def schemas(self) -> None:
        old, new = self.old.schemas, self.new.schemas
        removed = {key: old[key] for key in old if key not in new}
        added = {key: new[key] for key in new if key not in old}

        def signature(view: _SchemaView) -> object:
            if not view.doc.properties:
                return None
            return (_shape(view.doc), frozenset((key, _shape(prop), prop.enum) for key, prop in view.doc.properties))

        pairs = _pairs(removed, added, signature, lambda a, b: _similar(a, b) or len(old[a].doc.properties) >= 2)
        self.moves(
            "schema", "same fields and field types", removed, added, pairs, lambda a, b: self.schema(a, b, renamed=True)
        )
        for key in sorted(set(old) & set(new)):
            self.schema(old[key], new[key])

    def schema(self, old: _SchemaView, new: _SchemaView, renamed: bool = False) -> None:
        if old.python != new.python and not renamed:
            self.add(
                "breaking",
                "schema-python-name-changed",
                old.python,
                new.doc.json_path,
                f"Python name changed to {new.python} (a name collision in the new document)",
                old.python,
                new.python,
            )
        old_types = {key: _annotation(f.type_expr) for key, f in old.fields.items()}
        new_types = {key: _annotation(f.type_expr) for key, f in new.fields.items()}
        self.position(
            "schema",
            new.python,
            old.doc,
            new.doc,
            _annotation(old.cls.alias) if old.cls else "",
            _annotation(new.cls.alias) if new.cls else "",
            old_types,
            new_types,
        )

    def position(
        self,
        kind: str,
        python: str,
        old: Schema,
        new: Schema,
        old_type: str = "",
        new_type: str = "",
        old_field_types: Mapping[str, str] | None = None,
        new_field_types: Mapping[str, str] | None = None,
    ) -> None:
        """Compare one schema position (a parameter, a field, a schema, an item, a map value)."""
        path = new.json_path
        if _shape(old) != _shape(new):
            message = f"type changed from {self.describe(old, self.old)} to {self.describe(new, self.new)}"
            if old_type and new_type and old_type != new_type:
                message += f" (Python: {_python_type(old_type)} → {_python_type(new_type)})"
            self.add(
                "breaking",
                f"{kind}-type-changed",
                python,
                path,
                message,
                self.describe(old, self.old),
                self.describe(new, self.new),
            )
            return
        self.enum(kind, python, old, new)
        if old.pattern != new.pattern:
            if not new.pattern:
                self.add(
                    "feature",
                    f"{kind}-pattern-removed",
                    python,
                    f"{path}.pattern",
                    f"pattern {old.pattern!r} dropped",
                    old.pattern,
                    None,
                )
            else:
                self.add(
                    "breaking",
                    f"{kind}-pattern-changed",
                    python,
                    f"{path}.pattern",
                    f"pattern changed from {old.pattern or None!r} to {new.pattern!r}: values accepted "
                    "before may be rejected",
                    old.pattern or None,
                    new.pattern,
                )
        if old.default != new.default:
            self.add(
                "patch",
                f"{kind}-default-changed",
                python,
                f"{path}.default",
                f"server default changed from {old.default!r} to {new.default!r}",
                old.default,
                new.default,
            )
        if old.read_only != new.read_only:
            if new.read_only:
                self.add("patch", f"{kind}-read-only", python, f"{path}.readOnly", "became output only (read-only)")
            else:
                self.add("feature", f"{kind}-writable", python, f"{path}.readOnly", "no longer output only (read-only)")
        if old.deprecated != new.deprecated:
            self.deprecation(kind, python, path, new.deprecated)
        if old.description != new.description or old.enum_descriptions != new.enum_descriptions:
            self.add("docs", f"{kind}-description-changed", python, f"{path}.description", "description changed")
        # Children: the fields of an object, the items of an array, the values of a map.
        shape = _shape(new)
        if shape == "array":
            self.position(_child_kind(kind), f"{python}[]", _items(old), _items(new))
        if shape in ("object", "map"):
            self.fields(python, old, new, old_field_types or {}, new_field_types or {})
            a, b = old.additional_properties, new.additional_properties
            child = _child_kind(kind)
            if a is not None and b is not None:
                self.position(child, f"{python}{{}}", a, b)
            elif a is None and b is not None:
                self.add(
                    "patch",
                    f"{child}-additional-properties-added",
                    python,
                    f"{path}.additionalProperties",
                    "now allows additional properties",
                )
            elif a is not None and b is None:
                self.add(
                    "patch",
                    f"{child}-additional-properties-removed",
                    python,
                    f"{path}.additionalProperties",
                    "no longer allows additional properties",
                )

    def fields(
        self, python: str, old: Schema, new: Schema, old_types: Mapping[str, str], new_types: Mapping[str, str]
    ) -> None:
        old_props, new_props = dict(old.properties), dict(new.properties)
        removed = {key: old_props[key] for key in old_props if key not in new_props}
        added = {key: new_props[key] for key in new_props if key not in old_props}

        def signature(schema: Schema) -> object:
            return (_shape(schema), schema.enum, schema.read_only)

        for old_key, new_key in _pairs(removed, added, signature, _similar):
            removed.pop(old_key)
            schema = added.pop(new_key)
            self.add(
                "breaking",
                "field-renamed",
                _member(python, old_key),
                schema.json_path,
                f"field probably renamed to {new_key!r} (a similar name with the same type; the only such pair)",
                old_key,
                new_key,
            )
        for key, schema in removed.items():
            self.add("breaking", "field-removed", _member(python, key), schema.json_path, "field removed")
        for key, schema in added.items():
            self.add("feature", "field-added", _member(python, key), schema.json_path, "field added")
        for key in sorted(set(old_props) & set(new_props)):
            self.position(
                "field",
                _member(python, key),
                old_props[key],
                new_props[key],
                old_types.get(key, ""),
                new_types.get(key, ""),
            )

    def enum(self, kind: str, python: str, old: Schema, new: Schema) -> None:
        path = f"{new.json_path}.enum"
        a, b = old.enum, new.enum
        if a == b:
            return
        if not a:
            self.add(
                "breaking",
                f"{kind}-enum-added",
                python,
                path,
                f"now restricted to {len(b)} enum value(s): the Python type narrows from str to Literal[...]",
            )
            return
        if not b:
            self.add("feature", f"{kind}-enum-removed", python, path, "no longer restricted to enum values")
            return
        for value in a:
            if value not in b:
                self.add("breaking", f"{kind}-enum-value-removed", python, path, f"enum value {value!r} removed", value)
        for value in b:
            if value not in a:
                self.add(
                    "feature", f"{kind}-enum-value-added", python, path, f"enum value {value!r} added", None, value
                )
        if set(a) == set(b):
            self.add("docs", f"{kind}-enum-reordered", python, path, "enum values reordered")

    def deprecation(self, kind: str, python: str, path: str, deprecated: bool) -> None:
        if deprecated:
            self.add("feature", f"{kind}-deprecated", python, f"{path}.deprecated", f"{kind} deprecated")
        else:
            self.add("patch", f"{kind}-undeprecated", python, f"{path}.deprecated", f"{kind} no longer deprecated")

    def describe(self, schema: Schema, surface: Surface) -> str:
        """A document type in words: ``string (int64)``, ``array``, ``schemas.Instance``."""
        if schema.ref:
            return f"schemas.{surface.type_name(schema.ref)}"
        shape = _shape(schema)
        if "/" in shape:
            kind, _, fmt = shape.partition("/")
            return f"{kind} ({fmt})"
        return shape

"""Load a Google API Discovery document into a typed, sorted, validated model.

The model mirrors the format (https://developers.google.com/discovery/v1/reference/apis)
and nothing more: names and values are the document's own. Deciding Python names is the
job of :mod:`codegen.ir`. Every problem is reported as a :class:`DocumentError` naming the
source and the JSON path, e.g. ``looker.v1.json: $.resources.projects.methods.get.httpMethod:
expected a string, got number``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.errors import DocumentError

#: Largest document accepted (compute alpha, the largest bundled, is under 6 MB).
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
#: Deepest JSON nesting accepted (the bundled documents stay under 40).
MAX_DEPTH = 120

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
SCHEMA_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "any", "null"})
PARAMETER_LOCATIONS = frozenset({"path", "query"})


@dataclass(frozen=True)
class Schema:
    """A JSON schema: a named top-level schema, a property, an array item or a parameter."""

    json_path: str
    type: str = ""
    ref: str = ""
    format: str = ""
    description: str = ""
    properties: tuple[tuple[str, Schema], ...] = ()
    additional_properties: Schema | None = None
    items: Schema | None = None
    enum: tuple[str, ...] = ()
    enum_descriptions: tuple[str, ...] = ()
    deprecated: bool = False
    read_only: bool = False
    default: str | None = None
    pattern: str = ""
    # Parameter-only fields.
    location: str = ""
    required: bool = False
    repeated: bool = False


@dataclass(frozen=True)
class Method:
    name: str
    json_path: str
    id: str
    http_method: str
    path: str
    flat_path: str
    description: str
    parameters: tuple[tuple[str, Schema], ...]
    parameter_order: tuple[str, ...]
    request_ref: str  # the request's top-level schema name, "" when none or inline
    response_ref: str  # the response's top-level schema name, "" when none or inline
    scopes: tuple[str, ...]
    deprecated: bool
    api_version: str
    supports_media_upload: bool
    supports_media_download: bool
    #: An inline request / response schema (a body without ``$ref``), else None.
    request_schema: Schema | None = None
    response_schema: Schema | None = None
    #: ``mediaUpload``: the MIME ranges it accepts, its ``maxSize`` text, its protocols.
    media_accept: tuple[str, ...] = ()
    media_max_size: str = ""
    media_protocols: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    name: str
    json_path: str
    methods: tuple[Method, ...]
    resources: tuple[Resource, ...]
    deprecated: bool


@dataclass(frozen=True)
class Endpoint:
    url: str
    location: str
    description: str


@dataclass(frozen=True)
class Document:
    """The whole discovery document. Maps are tuples of ``(key, value)`` sorted by key."""

    source: str
    name: str
    version: str
    revision: str
    title: str
    description: str
    canonical_name: str
    documentation_link: str
    root_url: str
    mtls_root_url: str
    service_path: str
    batch_path: str
    endpoints: tuple[Endpoint, ...]
    scopes: tuple[tuple[str, str], ...]
    features: tuple[str, ...]
    parameters: tuple[tuple[str, Schema], ...]
    schemas: tuple[tuple[str, Schema], ...]
    resources: tuple[Resource, ...]
    methods: tuple[Method, ...]
    raw: bytes = field(repr=False, compare=False)
    schema_index: Mapping[str, Schema] = field(repr=False, compare=False, default_factory=dict)

    def schema(self, ref: str) -> Schema:
        """The top-level schema named ``ref`` (references are checked at load time)."""
        return self.schema_index[ref]

    def all_methods(self) -> Iterator[Method]:
        """Every method, top-level first, then resources depth first, all sorted."""
        yield from self.methods
        stack = list(reversed(self.resources))
        while stack:
            resource = stack.pop()
            yield from resource.methods
            stack.extend(reversed(resource.resources))


def load_path(path: str | Path) -> Document:
    """Load a discovery document from a file."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise DocumentError(source, "$", f"cannot read file: {exc.strerror or exc}") from None
    return load_bytes(data, source)


def load_bytes(data: bytes, source: str) -> Document:
    """Parse and validate the bytes of a discovery document; ``source`` names it in errors."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(source, "$", f"document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(source, "$", f"not UTF-8 text (byte {exc.start})") from None
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(source, "$", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise DocumentError(source, "$", "JSON nesting is too deep") from None
    return _Reader(source).document(tree, data)


class _Reader:
    """Walks the parsed JSON, checking types and building the model."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> DocumentError:
        return DocumentError(self.source, path, problem)

    # --- typed accessors -------------------------------------------------------------
    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_json_type(value)}")
        return value

    def member(self, parent: dict[str, Any], key: str, path: str, kind: type, default: Any) -> Any:
        value = parent.get(key, default)
        where = _child(path, key)
        if kind is str and not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {_json_type(value)}")
        if kind is bool and not isinstance(value, bool):
            raise self.fail(where, f"expected a boolean, got {_json_type(value)}")
        if kind is dict:
            return self.obj(value, where)
        if kind is list and not isinstance(value, list):
            raise self.fail(where, f"expected an array, got {_json_type(value)}")
        return value

    def text(self, parent: dict[str, Any], key: str, path: str, required: bool = False) -> str:
        if required and key not in parent:
            raise self.fail(_child(path, key), "required member is missing")
        value: str = self.member(parent, key, path, str, "")
        return value

    def flag(self, parent: dict[str, Any], key: str, path: str) -> bool:
        value: bool = self.member(parent, key, path, bool, False)
        return value

    def strings(self, parent: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        items = self.member(parent, key, path, list, [])
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{_child(path, key)}[{index}]", f"expected a string, got {_json_type(item)}")
        return tuple(items)

    def mapping(self, parent: dict[str, Any], key: str, path: str) -> list[tuple[str, Any, str]]:
        """The members of the object at ``parent[key]``, sorted, with their JSON paths."""
        where = _child(path, key)
        members = self.member(parent, key, path, dict, {})
        return [(name, members[name], _child(where, name)) for name in sorted(members)]

    # --- the document ----------------------------------------------------------------
    def document(self, tree: Any, raw: bytes) -> Document:
        top = self.obj(tree, "$")
        for key in ("name", "version", "rootUrl"):
            self.text(top, key, "$", required=True)
        name = self.text(top, "name", "$")
        version = self.text(top, "version", "$")
        if not name:
            raise self.fail("$.name", "must not be empty")
        if not version:
            raise self.fail("$.version", "must not be empty")
        auth = self.member(top, "auth", "$", dict, {})
        oauth2 = self.member(auth, "oauth2", "$.auth", dict, {})
        scopes = []
        for scope, info, where in self.mapping(oauth2, "scopes", "$.auth.oauth2"):
            scopes.append((scope, self.text(self.obj(info, where), "description", where)))
        endpoints = []
        for index, item in enumerate(self.member(top, "endpoints", "$", list, [])):
            where = f"$.endpoints[{index}]"
            entry = self.obj(item, where)
            endpoints.append(
                Endpoint(
                    url=self.text(entry, "endpointUrl", where, required=True),
                    location=self.text(entry, "location", where),
                    description=self.text(entry, "description", where),
                )
            )
        schemas = tuple(
            (key, self.schema(value, where, depth=1)) for key, value, where in self.mapping(top, "schemas", "$")
        )
        document = Document(
            source=self.source,
            name=name,
            version=version,
            revision=self.text(top, "revision", "$"),
            title=self.text(top, "title", "$"),
            description=self.text(top, "description", "$"),
            canonical_name=self.text(top, "canonicalName", "$"),
            documentation_link=self.text(top, "documentationLink", "$"),
            root_url=self.text(top, "rootUrl", "$"),
            mtls_root_url=self.text(top, "mtlsRootUrl", "$"),
            service_path=self.text(top, "servicePath", "$"),
            batch_path=self.text(top, "batchPath", "$"),
            endpoints=tuple(endpoints),
            scopes=tuple(scopes),
            features=self.strings(top, "features", "$"),
            parameters=self.parameters(top, "$", depth=1),
            schemas=schemas,
            resources=self.resources(top, "$", depth=1),
            methods=self.methods(top, "$", depth=1),
            raw=raw,
            schema_index=dict(schemas),
        )
        self.check_refs(document)
        return document

    def resources(self, parent: dict[str, Any], path: str, depth: int) -> tuple[Resource, ...]:
        result = []
        for key, value, where in self.mapping(parent, "resources", path):
            self.check_depth(where, depth)
            body = self.obj(value, where)
            result.append(
                Resource(
                    name=key,
                    json_path=where,
                    methods=self.methods(body, where, depth + 1),
                    resources=self.resources(body, where, depth + 1),
                    deprecated=self.flag(body, "deprecated", where),
                )
            )
        return tuple(result)

    def methods(self, parent: dict[str, Any], path: str, depth: int) -> tuple[Method, ...]:
        result = []
        for key, value, where in self.mapping(parent, "methods", path):
            body = self.obj(value, where)
            http_method = self.text(body, "httpMethod", where, required=True)
            if http_method.upper() not in HTTP_METHODS:
                raise self.fail(_child(where, "httpMethod"), f"unsupported HTTP method {http_method!r}")
            parameters = self.parameters(body, where, depth + 1)
            order = self.strings(body, "parameterOrder", where)
            known = {name for name, _ in parameters}
            for index, item in enumerate(order):
                if item not in known:
                    raise self.fail(f"{_child(where, 'parameterOrder')}[{index}]", f"names no parameter: {item!r}")
            media = self.member(body, "mediaUpload", where, dict, {})
            media_where = _child(where, "mediaUpload")
            media_protocols = self.member(media, "protocols", media_where, dict, {})
            result.append(
                Method(
                    name=key,
                    json_path=where,
                    id=self.text(body, "id", where),
                    http_method=http_method.upper(),
                    path=self.text(body, "path", where, required=True),
                    flat_path=self.text(body, "flatPath", where),
                    description=self.text(body, "description", where),
                    parameters=parameters,
                    parameter_order=order,
                    request_ref=self.ref_of(body, "request", where),
                    response_ref=self.ref_of(body, "response", where),
                    scopes=self.strings(body, "scopes", where),
                    deprecated=self.flag(body, "deprecated", where),
                    api_version=self.text(body, "apiVersion", where),
                    supports_media_upload=self.flag(body, "supportsMediaUpload", where),
                    supports_media_download=self.flag(body, "supportsMediaDownload", where),
                    request_schema=self.inline_schema(body, "request", where, depth + 1),
                    response_schema=self.inline_schema(body, "response", where, depth + 1),
                    media_accept=self.strings(media, "accept", media_where),
                    media_max_size=self.text(media, "maxSize", media_where),
                    media_protocols=tuple(sorted(media_protocols)),
                )
            )
        return tuple(result)

    def ref_of(self, parent: dict[str, Any], key: str, path: str) -> str:
        if key not in parent:
            return ""
        where = _child(path, key)
        body = self.obj(parent[key], where)
        if "$ref" not in body and ("type" in body or "properties" in body):
            return ""  # an inline schema: see inline_schema
        return self.text(body, "$ref", where, required=True)

    def inline_schema(self, parent: dict[str, Any], key: str, path: str, depth: int) -> Schema | None:
        """A request or response given as a schema of its own instead of a ``$ref``."""
        body = parent.get(key)
        if not isinstance(body, dict) or "$ref" in body or not ("type" in body or "properties" in body):
            return None
        return self.schema(body, _child(path, key), depth)

    def parameters(self, parent: dict[str, Any], path: str, depth: int) -> tuple[tuple[str, Schema], ...]:
        result = []
        for key, value, where in self.mapping(parent, "parameters", path):
            parameter = self.schema(value, where, depth + 1)
            if parameter.location not in PARAMETER_LOCATIONS:
                raise self.fail(_child(where, "location"), f"expected 'path' or 'query', got {parameter.location!r}")
            result.append((key, parameter))
        return tuple(result)

    def schema(self, value: Any, path: str, depth: int) -> Schema:
        self.check_depth(path, depth)
        body = self.obj(value, path)
        kind = self.text(body, "type", path)
        ref = self.text(body, "$ref", path)
        if kind and kind not in SCHEMA_TYPES:
            raise self.fail(_child(path, "type"), f"unknown type {kind!r}")
        if not kind and not ref:
            raise self.fail(path, "schema has neither 'type' nor '$ref'")
        additional = body.get("additionalProperties")
        items = body.get("items")
        default = body.get("default")
        if default is not None and not isinstance(default, str):
            default = json.dumps(default)
        return Schema(
            json_path=path,
            type=kind,
            ref=ref,
            format=self.text(body, "format", path),
            description=self.text(body, "description", path),
            properties=tuple(
                (key, self.schema(item, where, depth + 1))
                for key, item, where in self.mapping(body, "properties", path)
            ),
            additional_properties=None
            if additional is None
            else self.schema(additional, _child(path, "additionalProperties"), depth + 1),
            items=None if items is None else self.schema(items, _child(path, "items"), depth + 1),
            enum=self.strings(body, "enum", path),
            enum_descriptions=self.strings(body, "enumDescriptions", path),
            deprecated=self.flag(body, "deprecated", path),
            read_only=self.flag(body, "readOnly", path),
            default=default,
            pattern=self.text(body, "pattern", path),
            location=self.text(body, "location", path),
            required=self.flag(body, "required", path),
            repeated=self.flag(body, "repeated", path),
        )

    def check_depth(self, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(path, f"nested deeper than {MAX_DEPTH} levels")

    def check_refs(self, document: Document) -> None:
        names = document.schema_index

        def check(schema: Schema) -> None:
            if schema.ref and schema.ref not in names:
                raise self.fail(_child(schema.json_path, "$ref"), f"refers to unknown schema {schema.ref!r}")
            children = [child for _, child in schema.properties]
            children += [child for child in (schema.items, schema.additional_properties) if child is not None]
            for child in children:
                check(child)

        for _, schema in document.schemas:
            check(schema)
        for method in document.all_methods():
            for key, ref in (("request", method.request_ref), ("response", method.response_ref)):
                if ref and ref not in names:
                    raise self.fail(f"{_child(method.json_path, key)}.$ref", f"refers to unknown schema {ref!r}")
            for inline in (method.request_schema, method.response_schema):
                if inline is not None:
                    check(inline)


def _child(path: str, key: str) -> str:
    """The JSON path of member ``key`` of ``path``, bracketed when it is not a plain word."""
    if key.replace("_", "a").replace("$", "a").isalnum() and key.isascii():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

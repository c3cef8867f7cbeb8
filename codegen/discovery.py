"""Load a Google API Discovery document into a typed, sorted, validated model.

The model mirrors the format (https://developers.google.com/discovery/v1/reference/apis)
and nothing more: names and values are the document's own. Deciding Python names is the
job of :mod:`codegen.ir`. Every problem is reported as a :class:`DocumentError` naming the
source and the JSON path, e.g. ``looker.v1.json: $.resources.projects.methods.get.httpMethod:
expected a string, got number``.
"""

from __future__ import annotations

import dataclasses
import json
import re
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
#: The ``kind`` of a REST discovery document; any other kind is refused.
REST_DESCRIPTION_KIND = "discovery#restDescription"
#: The version of a document that names none (and whose service path names none either).
DEFAULT_VERSION = "v1"


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
    #: Problems the loader worked around (one line each, with the JSON path), for the generation report.
    warnings: tuple[str, ...] = field(default=(), compare=False)
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
    except ValueError as exc:  # a number beyond Python's integer-string conversion limit
        raise DocumentError(source, "$", f"not JSON that can be read: {exc}") from None
    return _Reader(source).document(tree, data)


class _Reader:
    """Walks the parsed JSON, checking types and building the model."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []

    def warn(self, path: str, problem: str) -> None:
        self.warnings.append(f"{self.source}: {path}: {problem}")

    def fail(self, path: str, problem: str) -> DocumentError:
        return DocumentError(self.source, path, problem)

    # --- typed accessors -------------------------------------------------------------
    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_json_type(value)}")
        return value

    def member(self, parent: dict[str, Any], key: str, path: str, kind: type, default: Any) -> Any:
        value = parent.get(key, default)
        if kind is not object and not isinstance(value, kind):  # the member's path is built only to fail
            expected = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}[kind]
            raise self.fail(_child(path, key), f"expected {expected}, got {_json_type(value)}")
        return value

    # The accessors below return the common case (a member absent or of the right type) before
    # calling ``member``: they run for every member of every schema of every document.
    def text(self, parent: dict[str, Any], key: str, path: str, required: bool = False) -> str:
        value = parent.get(key, "")
        if type(value) is str and (value or not required or key in parent):
            return value
        if required and key not in parent:
            raise self.fail(_child(path, key), "required member is missing")
        checked: str = self.member(parent, key, path, str, "")
        return checked

    def flag(self, parent: dict[str, Any], key: str, path: str) -> bool:
        value = parent.get(key, False)
        if value is False or value is True:
            return value
        checked: bool = self.member(parent, key, path, bool, False)
        return checked

    def strings(self, parent: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        if key not in parent:
            return ()
        items = self.member(parent, key, path, list, [])
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{_child(path, key)}[{index}]", f"expected a string, got {_json_type(item)}")
        return tuple(items)

    def mapping(self, parent: dict[str, Any], key: str, path: str) -> list[tuple[str, Any, str]]:
        """The members of the object at ``parent[key]``, sorted, with their JSON paths."""
        if key not in parent:
            return []
        where = _child(path, key)
        members = self.member(parent, key, path, dict, {})
        return [(name, members[name], _child(where, name)) for name in sorted(members)]

    # --- the document ----------------------------------------------------------------
    def document(self, tree: Any, raw: bytes) -> Document:
        top = self.obj(tree, "$")
        kind = self.text(top, "kind", "$")
        if kind and kind != REST_DESCRIPTION_KIND:
            raise self.fail("$.kind", f"not a REST discovery document (kind {kind!r})")
        protocol = self.text(top, "protocol", "$")
        if protocol and protocol != "rest":
            raise self.fail("$.protocol", f"not a REST discovery document (protocol {protocol!r})")
        self.text(top, "name", "$", required=True)
        name = self.text(top, "name", "$")
        if not name:
            raise self.fail("$.name", "must not be empty")
        root_url, service_path = self.base_urls(top)
        version = self.text(top, "version", "$")
        if not version:
            version = _version_in(service_path) or DEFAULT_VERSION
            self.warn("$.version", f"missing or empty; using {version!r}")
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
            root_url=root_url,
            mtls_root_url=self.text(top, "mtlsRootUrl", "$"),
            service_path=service_path,
            batch_path=self.text(top, "batchPath", "$"),
            endpoints=tuple(endpoints),
            scopes=tuple(scopes),
            features=self.strings(top, "features", "$"),
            parameters=self.parameters(top, "$", depth=1),
            schemas=schemas,
            resources=self.resources(top, "$", depth=1),
            methods=self.methods(top, "$", depth=1),
            raw=raw,
            warnings=tuple(self.warnings),
            schema_index=dict(schemas),
        )
        self.check_refs(document)
        return document

    def base_urls(self, top: dict[str, Any]) -> tuple[str, str]:
        """(rootUrl, servicePath), with the defaults old-style documents need.

        A document without ``servicePath`` but with the old ``basePath`` uses that (without its
        leading ``/``); one without ``rootUrl`` but with the old ``baseUrl`` takes its root from
        it; one with neither keeps an empty root URL: its client then requires ``endpoint=``.
        """
        root_url = self.text(top, "rootUrl", "$")
        service_path = self.text(top, "servicePath", "$")
        base_path = self.text(top, "basePath", "$")
        base_url = self.text(top, "baseUrl", "$")
        if "servicePath" not in top and base_path:
            service_path = base_path.lstrip("/")
            self.warn("$.servicePath", f"missing; using the old-style basePath {base_path!r}")
        if service_path and not service_path.endswith("/"):
            # Method paths are relative to it: "v1" + "projects/..." must not become "v1projects/...".
            self.warn("$.servicePath", f"does not end with '/'; using {service_path + '/'!r}")
            service_path += "/"
        if "rootUrl" not in top:
            if base_url and service_path and base_url.endswith(service_path):
                root_url = base_url[: len(base_url) - len(service_path)]
                self.warn("$.rootUrl", f"missing; using {root_url!r} from the old-style baseUrl")
            else:
                self.warn("$.rootUrl", "missing; the generated client requires endpoint=")
        return root_url, service_path

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
            dropped = set(self.member(body, "parameters", where, dict, {})) - known  # no location: warned
            for index, item in enumerate(order):
                if item not in known and item not in dropped:
                    raise self.fail(f"{_child(where, 'parameterOrder')}[{index}]", f"names no parameter: {item!r}")
            if len(set(order)) != len(order):
                self.warn(_child(where, "parameterOrder"), "names a parameter more than once; the repeats are ignored")
            order = tuple(dict.fromkeys(item for item in order if item in known))
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
            body = self.obj(value, where)
            if "type" not in body and "$ref" not in body:
                body = {**body, "type": "string"}  # as googleapiclient: a parameter without type is a string
            parameter = self.schema(body, where, depth + 1)
            if not parameter.location:
                # googleapiclient drops such a parameter too: it would not know where to send it.
                self.warn(where, "parameter has no 'location'; left out of the method")
                continue
            if parameter.location not in PARAMETER_LOCATIONS:
                raise self.fail(_child(where, "location"), f"expected 'path' or 'query', got {parameter.location!r}")
            if parameter.location == "path" and parameter.repeated:
                # A path variable holds one value; googleapiclient would join a list with commas.
                self.warn(_child(where, "repeated"), "a path parameter takes one value; 'repeated' is ignored")
                parameter = dataclasses.replace(parameter, repeated=False)
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


def _version_in(service_path: str) -> str:
    """The last ``v1``-like segment of a service path (``drive/v3/`` → ``v3``), else ``""``."""
    for segment in reversed(service_path.strip("/").split("/")):
        if re.fullmatch(r"v\d[\w.]*", segment):
            return segment
    return ""


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

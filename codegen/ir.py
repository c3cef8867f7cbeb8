"""Lower a discovery :class:`~codegen.discovery.Document` into the generation IR.

Everything the templates print is decided here: every Python name (snake_case, keyword
escaping, collisions), every literal (already passed through ``repr``), every docstring
and comment (already escaped), every path plan. Templates only place these values.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from codegen import naming, text
from codegen.discovery import Document, Method, Resource, Schema
from codegen.errors import DocumentError

#: Module through which generated code reaches the runtime.
RUNTIME_MODULE = "gapi_runtime"
#: The runtime's distribution, and the oldest runtime release that has everything generated
#: code uses; generated packages require ``>=RUNTIME_MIN_VERSION,<next major``.
RUNTIME_DISTRIBUTION = "gapi-runtime"
RUNTIME_MIN_VERSION = "1.0"
#: Every generated package's distribution is this prefix + its package name, ``_`` → ``-``.
DISTRIBUTION_PREFIX = "gapi-"

#: Attributes of the runtime's BaseClient (and of the batch classes, which offer the same
#: resources and top-level methods) that generated resources must not shadow.
CLIENT_RESERVED = ("close", "base_url", "operation", "transport", "credentials", "batch", "execute", "max_batch_size")
#: Names a resource class must not define: builtins its annotations use, and ``functools``,
#: whose ``cached_property`` decorates lazy resources in the class body.
CLASS_RESERVED = ("str", "int", "float", "bool", "object", "functools")
#: Names every generated method takes besides the document's parameters.
METHOD_RESERVED = ("self", "body", "timeout", "retry")
#: The standard query parameters (the document's top-level ``parameters``) that every method
#: takes as keywords when its document lists them, snake_case like all others. Not ``alt``
#: (typed returns depend on it; the runtime owns it), not ``callback``/``uploadType``/
#: ``upload_protocol`` (the runtime's), and never ``key``/``access_token``/``oauth_token``:
#: secrets stay client-level and out of URLs.
STANDARD_PARAMETERS = ("$.xgafv", "fields", "prettyPrint", "quotaUser")
#: HTTP methods that never carry a body: a ``request`` the document declares on them is ignored.
BODILESS_METHODS = ("GET", "DELETE")
#: Further names of methods that upload media, and of ``<method>_media`` download siblings.
UPLOAD_RESERVED = ("media_body", "media_mime_type")
DOWNLOAD_RESERVED = ("dest", "chunk_size", "progress")
#: ``maxSize`` units of ``mediaUpload`` (as googleapiclient reads them): KB = 2**10 ...
MEDIA_SIZE_SHIFTS = {"KB": 10, "MB": 20, "GB": 30, "TB": 40}
#: Names a schema class must not take in its module: the typing alias, the future import
#: and the builtins that field annotations use.
SCHEMA_RESERVED = ("_t", "annotations", "str", "int", "float", "bool", "object")

#: Big APIs are split so that no generated file is unreasonably large. A resources module
#: holds a top-level resource and as much of its subtree as fits in this many methods and
#: about this many characters of source (estimated: :func:`_estimated_method_size`);
#: subtrees that do not fit get modules of their own, imported when first reached.
MODULE_METHOD_BUDGET = 80
MODULE_SIZE_BUDGET = 200_000
#: Schemas go into one ``schemas.py`` unless their source would exceed about this many
#: characters; then into a ``schemas/`` package of chunks of about this size.
SCHEMA_CHUNK_CHARS = 250_000
#: Longest resources module name derived from resource names (else a numbered name).
MAX_MODULE_NAME = 80

_PATH_VARIABLE = re.compile(r"\{(\+?)([^{}]*)\}")


@dataclass(frozen=True)
class Field:
    """One property of a TypedDict schema."""

    key: str  # the wire name, as a Python literal
    attribute: str  # the wire name itself when class syntax can spell it, else ""
    type_expr: str
    comment: tuple[str, ...]  # escaped comment lines
    source: str  # the JSON path of the property in the document

    @property
    def type_literal(self) -> str:
        return repr(self.type_expr)


@dataclass(frozen=True)
class SchemaClass:
    """A TypedDict (or, for non-object schemas, a type alias) in ``schemas.py``."""

    name: str
    name_literal: str
    doc: str
    fields: tuple[Field, ...]
    alias: str  # a type expression when the schema is not an object, else ""
    source: str  # the JSON path of the schema (named or anonymous) in the document

    @property
    def alias_literal(self) -> str:
        return repr(self.alias)

    @property
    def class_syntax(self) -> bool:
        return all(field.attribute for field in self.fields)


@dataclass(frozen=True)
class Param:
    name: str
    wire: str  # literal
    location: Literal["path", "query"]
    type_expr: str
    required: bool
    doc: str
    source: str  # the JSON path of the parameter (a top-level one for standard parameters)
    standard: bool = False  # one of STANDARD_PARAMETERS, from the document's top-level parameters
    enum: tuple[str, ...] = ()  # the values the document allows (string enums), checked at run time


@dataclass(frozen=True)
class PathVariable:
    param: str  # Python name of the parameter that fills it
    reserved: bool  # {+var}: keep '/'
    pattern: str  # literal: the regex the value must fully match, or None

    @property
    def param_literal(self) -> str:
        return repr(self.param)


@dataclass(frozen=True)
class MethodIR:
    name: str
    spec_name: str
    id: str  # literal
    http_method: str  # literal
    path_parts: tuple[str, ...]  # literals between the variables
    path_variables: tuple[PathVariable, ...]
    params: tuple[Param, ...]
    body: Literal["none", "optional", "required"]
    body_type: str
    response_type: str  # "" when the method returns nothing
    doc: str
    deprecated: bool
    api_version: str  # literal
    data_wrapper: bool
    source: str  # the JSON path of the method in the document
    # Paging (a ``pageToken`` parameter and a ``nextPageToken`` in the response): the names
    # of ``<method>_pages`` and, when the response has one list of items, ``<method>_all``.
    pages_name: str = ""
    pages_doc: str = ""
    all_name: str = ""
    all_doc: str = ""
    items_field: str = ""  # literal: the wire name of the items list
    item_type: str = ""
    #: Literal of the response member with the next page's token when it is not ``nextPageToken``
    #: (bigquery ``tabledata.list`` answers ``pageToken``), else "".
    next_token_field: str = ""
    # Media (supportsMediaUpload / supportsMediaDownload): the upload plan's constant and
    # its expression; the name and docstring of the ``<method>_media`` download sibling;
    # ``raw_response`` when the plain call returns the body as bytes (a download method
    # without a response schema, e.g. drive files.export).
    upload_spec_name: str = ""
    upload_spec_expr: str = ""
    media_name: str = ""
    media_doc: str = ""
    raw_response: bool = False
    #: The response is a google.longrunning Operation (for the generated fake, ``testing.py``).
    returns_operation: bool = False

    @property
    def uses_schemas(self) -> bool:
        return any("_s." in expr for expr in (self.body_type, self.response_type, self.item_type))

    @property
    def uses_media(self) -> bool:
        return bool(self.upload_spec_name or self.media_name or self.raw_response)

    @property
    def body_arg(self) -> str:
        return "body" if self.body != "none" else "None"

    @property
    def batch_refused(self) -> bool:
        """True when a batch cannot carry the call: its answer is media, not JSON."""
        return self.raw_response

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.location == "query")

    @property
    def path_literal(self) -> str:
        return tuple_expr(self.path_parts)

    @property
    def path_params_expr(self) -> str:
        return tuple_expr(f"_rt.PathParam({v.param_literal}, {v.reserved}, {v.pattern})" for v in self.path_variables)

    @property
    def query_literal(self) -> str:
        """The query parameters' wire names as a tuple literal."""
        return tuple_expr(param.wire for param in self.query_params)

    @property
    def enums_expr(self) -> str:
        """``_rt.EnumParam(...)`` for each parameter with an enum, as a tuple expression ("" if none)."""
        checks = [
            f"_rt.EnumParam({param.name!r}, {repr(param.name) if param.location == 'path' else param.wire}, "
            f"{tuple_expr(repr(value) for value in param.enum)}{', True' if param.location == 'path' else ''})"
            for param in self.params
            if param.enum
        ]
        return tuple_expr(checks) if checks else ""

    @property
    def path_args(self) -> str:
        return tuple_expr(v.param for v in self.path_variables)

    @property
    def query_args(self) -> str:
        return tuple_expr(param.name for param in self.query_params)

    @property
    def required_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.required)

    @property
    def optional_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if not param.required)


@dataclass(frozen=True)
class ResourceIR:
    attribute: str  # attribute name on the parent
    class_name: str
    doc: str
    methods: tuple[MethodIR, ...]
    children: tuple[ResourceIR, ...]
    source: str  # the JSON path of the resource in the document
    module: str = ""  # the resources/ module that defines the class
    module_alias: str = ""  # the name under which other modules import that module
    async_class_name: str = ""  # the class of the async client's resource, in the same module
    batch_class_name: str = ""  # the class of a batch's resource (methods queue), in the same module

    @property
    def attribute_literal(self) -> str:
        return repr(self.attribute)

    @property
    def eager_children(self) -> tuple[ResourceIR, ...]:
        """Children defined in this resource's module: built with it."""
        return tuple(child for child in self.children if child.module == self.module)

    @property
    def lazy_children(self) -> tuple[ResourceIR, ...]:
        """Children in modules of their own: imported and built when first reached."""
        return tuple(child for child in self.children if child.module != self.module)

    @property
    def slots(self) -> str:
        """The ``__slots__`` tuple (with ``__dict__`` for the cached lazy children)."""
        names = ["_api", *(child.attribute for child in self.eager_children)]
        if self.lazy_children:
            names.append("__dict__")
        return tuple_expr(repr(name) for name in names)

    @property
    def uses_schemas(self) -> bool:
        return any(method.uses_schemas for resource in self.walk() for method in resource.methods)

    def walk(self) -> tuple[ResourceIR, ...]:
        """This resource and all below it, parents before children."""
        result: list[ResourceIR] = [self]
        for child in self.children:
            result.extend(child.walk())
        return tuple(result)


@dataclass(frozen=True)
class ResourceModule:
    """One module under ``resources/``: a resource and the part of its subtree placed with it.

    ``root`` is the whole resource tree below the module's first resource (children in other
    modules included); ``resources`` are the classes this module defines, parents first.
    """

    module: str
    root: ResourceIR
    alias: str = ""  # the name under which other modules import this one
    resources: tuple[ResourceIR, ...] = ()
    #: The name under which ``_client.py`` imports this module's twin in ``_batch/`` (top-level modules).
    batch_alias: str = ""

    @property
    def spec_names(self) -> str:
        """The MethodSpec constants this module defines, comma-separated (``_batch/`` imports them)."""
        return ", ".join(method.spec_name for resource in self.resources for method in resource.methods)

    @property
    def uses_schemas(self) -> bool:
        return any(method.uses_schemas for resource in self.resources for method in resource.methods)

    @property
    def uses_media(self) -> bool:
        """True if a method of this module uploads or downloads media (it imports the runtime's media module)."""
        return any(method.uses_media for resource in self.resources for method in resource.methods)

    @property
    def lazy_imports(self) -> tuple[tuple[str, str], ...]:
        """(module, alias) of the modules whose classes this one's lazy children annotate."""
        found = {(child.module, child.module_alias) for resource in self.resources for child in resource.lazy_children}
        return tuple(sorted(found))


@dataclass(frozen=True)
class SchemaModule:
    """One chunk of a ``schemas/`` package (big APIs), e.g. ``schemas/_3.py``."""

    name: str
    schemas: tuple[SchemaClass, ...]
    #: (chunk, "A, B") the names its annotations use from other chunks.
    imports: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OperationsIR:
    """An ``operations`` resource whose ``get`` returns a google.longrunning.Operation."""

    module: str  # the resources/ module holding the method specs
    get_spec: str
    cancel_spec: str  # "" when the resource has no cancel method


@dataclass(frozen=True)
class StatusRouteIR:
    """One resource that re-reads a status operation: its ``get``, ``wait`` and ``cancel`` specs."""

    module: str  # the resources/ module holding the method specs
    get_spec: str
    wait_spec: str  # "" when the resource has no wait method
    cancel_spec: str  # "" when the resource has no cancel method
    get_id: str  # plain method ids, for the report
    wait_id: str
    cancel_id: str

    @property
    def expression(self) -> str:
        return f"({self.get_spec}, {self.wait_spec or 'None'}, {self.cancel_spec or 'None'})"


@dataclass(frozen=True)
class StatusOperationsIR:
    """An operation schema whose ``status`` reaches ``DONE`` (see :meth:`_Lowering.find_status_operations`).

    Plain strings (not literals); :attr:`expression` renders the runtime's StatusOperationKind.
    """

    schema: str  # the document's schema name
    type_name: str  # its Python type: ``_s.Operation``
    routes: tuple[StatusRouteIR, ...]
    status_field: str
    done_value: str
    error_shape: str  # "errors", "status" or ""
    http_status_field: str
    warnings_field: str
    locator: str  # "selfLink", or "" when the schema has none
    unfollowable: str  # why it cannot be re-read; "" when it can
    methods: tuple[str, ...]  # ids of the methods that return it (not the re-read methods)

    @property
    def shape(self) -> str:
        """One line for the report: how done, failure and re-reading are read."""
        polls = [route.wait_id or route.get_id for route in self.routes]
        fields = (self.status_field, self.done_value, self.error_shape, self.locator)
        return status_shape(self.unfollowable, *fields, polls)

    @property
    def expression(self) -> str:
        """The ``_rt.StatusOperationKind(...)`` the generated ``operation()`` passes to the handle."""
        routes = "".join(f"        {route.expression},\n" for route in self.routes)
        fields = [
            f"{self.schema!r}",
            f"(\n{routes}    )",
            f"status_field={self.status_field!r}",
            f"done_value={self.done_value!r}",
        ]
        for name, value in (
            ("error_shape", self.error_shape),
            ("http_status_field", self.http_status_field),
            ("warnings_field", self.warnings_field),
            ("locator", self.locator),
            ("unfollowable", self.unfollowable),
        ):
            if value or name == "locator":
                fields.append(f"{name}={value!r}")
        return "_rt.StatusOperationKind(\n" + "".join(f"    {field},\n" for field in fields) + ")"


@dataclass(frozen=True)
class ClientIR:
    package: str
    client_class: str
    api_id: str  # literal
    api_name: str  # literal
    api_version: str  # literal
    revision: str  # literal
    title: str  # escaped docstring text
    doc: str
    root_url: str  # literal
    mtls_root_url: str  # literal
    service_path: str  # literal
    scopes: tuple[str, ...]  # literals
    endpoints: tuple[str, ...]  # literals
    schemas: tuple[SchemaClass, ...]
    modules: tuple[ResourceModule, ...]
    methods: tuple[MethodIR, ...]  # top-level methods, on the client itself
    #: (document schema key, Python class name) of every top-level schema, in document order.
    schema_names: tuple[tuple[str, str], ...] = ()
    #: Operations resources, for ``client.operation(...)``; empty when the API has none.
    operations: tuple[OperationsIR, ...] = ()
    operation_type: str = ""  # the type of the Operation dict methods return
    #: Operation schemas whose ``status`` reaches ``DONE``, for ``client.operation(...)``.
    status_operations: tuple[StatusOperationsIR, ...] = ()
    #: Modules under ``resources/`` for the parts of big subtrees (see MODULE_METHOD_BUDGET).
    submodules: tuple[ResourceModule, ...] = ()
    #: The chunks of a ``schemas/`` package; empty when the schemas fit in ``schemas.py``.
    schema_modules: tuple[SchemaModule, ...] = ()
    #: The async client's class, in ``_async_client.py`` (same resources, methods and types).
    async_client_class: str = ""
    #: One line for the package metadata and README (plain text, not a literal).
    summary: str = ""
    #: Literal of the document's ``batchPath`` ("''" when none: then no ``batch()``).
    batch_path: str = "''"
    batch_class: str = ""  # the batch of the sync client, in ``_client.py``
    async_batch_class: str = ""  # the batch of the async client, in ``_async_client.py``

    @property
    def package_literal(self) -> str:
        return repr(self.package)

    @property
    def distribution(self) -> str:
        """The distribution (PyPI project) name: ``gapi-looker-v1`` for ``looker_v1``."""
        return DISTRIBUTION_PREFIX + self.package.replace("_", "-")

    @property
    def runtime_module(self) -> str:
        return RUNTIME_MODULE

    @property
    def runtime_requirement(self) -> str:
        """The compatible range of the runtime: ``gapi-runtime>=1.0,<2``."""
        major = int(RUNTIME_MIN_VERSION.split(".")[0])
        return f"{RUNTIME_DISTRIBUTION}>={RUNTIME_MIN_VERSION},<{major + 1}"

    @property
    def async_runtime_requirement(self) -> str:
        """The runtime with its ``async`` extra, in the same range."""
        return self.runtime_requirement.replace(RUNTIME_DISTRIBUTION, RUNTIME_DISTRIBUTION + "[async]", 1)

    @property
    def module_files(self) -> tuple[ResourceModule, ...]:
        """Every module under ``resources/``: top-level resources first."""
        return self.modules + self.submodules

    @property
    def operation_imports(self) -> tuple[tuple[str, str], ...]:
        """(module, comma-separated spec names) to import for ``client.operation``."""
        by_module: dict[str, list[str]] = {}
        for ops in self.operations:
            names = by_module.setdefault(ops.module, [])
            names.extend(name for name in (ops.get_spec, ops.cancel_spec) if name and name not in names)
        for kind in self.status_operations:
            for route in kind.routes:
                names = by_module.setdefault(route.module, [])
                specs = (route.get_spec, route.wait_spec, route.cancel_spec)
                names.extend(name for name in specs if name and name not in names)
        return tuple((module, ", ".join(names)) for module, names in by_module.items())

    @property
    def has_operation_method(self) -> bool:
        """True if the client gets ``operation()``: it has google.longrunning or status operations."""
        return bool(self.operations or self.status_operations)

    @property
    def status_kinds(self) -> str:
        """The ``(StatusOperationKind(...), ...)`` tuple expression for status operations."""
        kinds = "".join(textwrap.indent(kind.expression, "    ") + ",\n" for kind in self.status_operations)
        return f"(\n{kinds})"

    def operation_handle(self, is_async: bool) -> str:
        """The handle type ``operation()`` returns."""
        prefix = "_aio.Async" if is_async else "_rt."
        handles = []
        if self.operations:
            handles.append(prefix + "Operation")
        if self.status_operations:
            handles.append(prefix + "StatusOperation")
        return " | ".join(handles)

    def operation_argument(self, is_async: bool) -> str:
        """The type of ``operation()``'s argument: the operation dicts, a name or URL, a handle."""
        types = [self.operation_type] if self.operations else []
        types.extend(kind.type_name for kind in self.status_operations if kind.type_name not in types)
        return " | ".join([*types, "str", self.operation_handle(is_async)])

    @property
    def operation_candidates(self) -> str:
        """The ``((get, cancel), ...)`` tuple expression passed to the runtime's Operation."""
        return tuple_expr(f"({ops.get_spec}, {ops.cancel_spec or 'None'})" for ops in self.operations)

    @property
    def client_class_literal(self) -> str:
        return repr(self.client_class)

    @property
    def async_client_class_literal(self) -> str:
        return repr(self.async_client_class)

    @property
    def has_batch(self) -> bool:
        """True when the document has a ``batchPath``: the clients get ``batch()``."""
        return self.batch_path != "''"

    @property
    def has_paging(self) -> bool:
        """True if any method has ``_pages``/``_all`` companions."""
        return any(method.pages_name for method in self.all_methods)

    @property
    def method_spec_names(self) -> str:
        """The MethodSpec constants of the client's own methods, comma-separated (for imports)."""
        names = [name for method in self.methods for name in (method.spec_name, method.upload_spec_name) if name]
        return ", ".join(names)

    @property
    def uses_schemas(self) -> bool:
        return self.has_operation_method or any(method.uses_schemas for method in self.methods)

    @property
    def uses_media(self) -> bool:
        """True if a method of the client itself uploads or downloads media."""
        return any(method.uses_media for method in self.methods)

    @property
    def example(self) -> str:
        """The dotted attribute path of one method, for the client's docstring."""
        if self.methods:
            return self.methods[0].name
        for module in self.modules:
            path = [module.root.attribute]
            resource = module.root
            while not resource.methods and resource.children:
                resource = resource.children[0]
                path.append(resource.attribute)
            if resource.methods:
                return ".".join([*path, resource.methods[0].name])
        return "close"

    @property
    def example_call(self) -> str:
        """One call for the package README: the first GET (else the first method), required args."""
        candidates: list[tuple[str, MethodIR]] = [(method.name, method) for method in self.methods]
        stack = [(module.root.attribute, module.root) for module in reversed(self.modules)]
        while stack:
            path, resource = stack.pop()
            candidates.extend((f"{path}.{method.name}", method) for method in resource.methods)
            stack.extend((f"{path}.{child.attribute}", child) for child in reversed(resource.children))
        if not candidates:
            return "close()"
        path, method = next((c for c in candidates if c[1].http_method == "'GET'"), candidates[0])
        args = ", ".join(f"{param.name}=..." for param in method.required_params)
        if method.body == "required":
            args = f"{args}, body={{...}}" if args else "body={...}"
        return f"{path}({args})"

    @property
    def all_methods(self) -> tuple[MethodIR, ...]:
        result = list(self.methods)
        for module in self.modules:
            for resource in module.root.walk():
                result.extend(resource.methods)
        return tuple(result)


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


def media_size(text_value: str) -> int:
    """``maxSize`` in bytes: ``10MB`` → 10 << 20, ``512`` → 512; 0 (no limit) when absent or unreadable."""
    value = text_value.strip()
    shift = MEDIA_SIZE_SHIFTS.get(value[-2:].upper(), 0) if len(value) >= 2 else 0
    digits = value[:-2] if shift else value
    return int(digits) << shift if digits.isdigit() else 0


def tuple_expr(items: Iterable[str]) -> str:
    """A tuple display of already-rendered expressions: ``()``, ``(a,)``, ``(a, b)``."""
    values = list(items)
    if len(values) == 1:
        return f"({values[0]},)"
    return "(" + ", ".join(values) + ")"


def next_token_field(response: Schema) -> str:
    """The response member that holds the next page's token: ``nextPageToken``, else a string
    ``pageToken`` (bigquery ``tabledata.list``, ``jobs.getQueryResults``), else ""."""
    members = dict(response.properties)
    if "nextPageToken" in members:
        return "nextPageToken"
    token = members.get("pageToken")
    return "pageToken" if token is not None and token.type == "string" else ""


def package_name(document: Document) -> str:
    """``looker`` + ``v1`` → ``looker_v1``; ``admin`` + ``directory_v1`` → ``admin_directory_v1``."""
    return f"{naming.python_name(document.name, 'api')}_{naming.python_name(document.version, 'v')}".rstrip("_")


def client_class_name(document: Document, kind: str = "Client") -> str:
    """``LookerClient``; with ``kind="AsyncClient"``, ``LookerAsyncClient``."""
    base = re.sub(r"[^A-Za-z0-9]", "", document.canonical_name) or naming.pascal_case(document.name)
    base = base[:1].upper() + base[1:]  # some canonical names start in lower case ("directory")
    return naming.class_name(base + kind, "Api" + kind)


def with_async_names(resource: ResourceIR, classes: naming.Scope) -> ResourceIR:
    """``resource``'s tree with the async twin of every class named, in the same class scope.

    Called after every sync class of the tree is named, so sync names never change:
    ``ProjectsLocationsResource`` → ``ProjectsLocationsAsyncResource`` (or the next free name).
    """
    stem = resource.class_name.rstrip("_")
    stem = stem[: -len("Resource")] + "AsyncResource" if stem.endswith("Resource") else stem + "Async"
    named = dataclasses.replace(resource, async_class_name=classes.allocate(stem))
    return dataclasses.replace(named, children=tuple(with_async_names(child, classes) for child in resource.children))


def with_batch_names(resource: ResourceIR, classes: naming.Scope) -> ResourceIR:
    """``resource``'s tree with the batch twin of every class named (after sync and async names):
    ``FilesResource`` → ``FilesBatchResource`` (or the next free name)."""
    stem = resource.class_name.rstrip("_")
    stem = stem[: -len("Resource")] + "BatchResource" if stem.endswith("Resource") else stem + "Batch"
    named = dataclasses.replace(resource, batch_class_name=classes.allocate(stem))
    return dataclasses.replace(named, children=tuple(with_batch_names(child, classes) for child in resource.children))


def lower(
    document: Document,
    *,
    module_method_budget: int | None = None,
    module_size_budget: int | None = None,
    schema_chunk_chars: int | None = None,
) -> ClientIR:
    """Build the generation IR for ``document``.

    The budgets default to :data:`MODULE_METHOD_BUDGET`, :data:`MODULE_SIZE_BUDGET` and :data:`SCHEMA_CHUNK_CHARS`
    (read when called); tests pass small ones to exercise the split layout.
    """
    lowering = _Lowering(document)
    lowering.module_method_budget = module_method_budget or MODULE_METHOD_BUDGET
    lowering.module_size_budget = module_size_budget or MODULE_SIZE_BUDGET
    lowering.schema_chunk_chars = schema_chunk_chars or SCHEMA_CHUNK_CHARS
    return lowering.client()


@dataclass
class _StatusKind:
    """What :meth:`_Lowering.find_status_operations` found, before spec names exist."""

    ref: str
    routes: list[tuple[int, Method, Method | None, Method | None]]  # (top-level index, get, wait, cancel)
    done_value: str
    error_shape: str
    http_status_field: str
    warnings_field: str
    locator: str
    unfollowable: str
    methods: tuple[str, ...]

    @property
    def shape(self) -> str:
        """The report's line for this kind (what :attr:`StatusOperationsIR.shape` says of it)."""
        polls = [(wait or get).id for _, get, wait, _ in self.routes]
        return status_shape(self.unfollowable, "status", self.done_value, self.error_shape, self.locator, polls)


def status_shape(
    unfollowable: str, status_field: str, done_value: str, error_shape: str, locator: str, polls: list[str]
) -> str:
    """One line: how an operation's end, failure and re-reading are read (or why it cannot be)."""
    if unfollowable:
        return f"not followable: {unfollowable}"
    error = {"errors": "error.errors[]", "status": "error (google.rpc.Status)"}.get(error_shape, "no error")
    return f"{status_field} == {done_value!r}, {error}, located by {locator}, polled with {', '.join(polls)}"


def _walk(resource: Resource) -> Iterable[Resource]:
    yield resource
    for child in resource.resources:
        yield from _walk(child)


def _all_methods(document: Document) -> Iterable[Method]:
    yield from document.methods
    for top in document.resources:
        for resource in _walk(top):
            yield from resource.methods


def _path_params(method: Method) -> tuple[str, ...]:
    """The wire names of ``method``'s path parameters, sorted."""
    return tuple(sorted(wire for wire, schema in method.parameters if schema.location == "path"))


def _sibling(method: Method | None, get: Method, ref: str) -> Method | None:
    """``method`` when it takes ``get``'s path parameters and no other required ones (and,
    if ``ref`` is given, returns that schema); else None."""
    if method is None or _path_params(method) != _path_params(get):
        return None
    if any(schema.required and schema.location != "path" for _, schema in method.parameters):
        return None
    return method if not ref or method.response_ref == ref else None


class _Lowering:
    module_method_budget = MODULE_METHOD_BUDGET
    module_size_budget = MODULE_SIZE_BUDGET
    schema_chunk_chars = SCHEMA_CHUNK_CHARS

    def __init__(self, document: Document) -> None:
        self.document = document
        self.schema_scope = naming.Scope(SCHEMA_RESERVED)
        self.schema_names: dict[str, str] = {}
        self.schema_classes: list[SchemaClass] = []
        for key, _ in document.schemas:
            self.schema_names[key] = self.schema_scope.allocate(naming.class_name(key))
        self.anonymous_names: dict[str, str] = {}  # json path of an anonymous object → class name
        self.spec_names: dict[str, str] = {}  # json path of a method → its MethodSpec constant
        self.operation_resources = self.find_operation_resources()
        self.operation_refs = {get.response_ref for _, get, _ in self.operation_resources}
        self.status_operations = self.find_status_operations()
        self.operation_refs |= {found.ref for found in self.status_operations if not found.unfollowable}

    # --- schemas ---------------------------------------------------------------------
    def schemas(self) -> tuple[SchemaClass, ...]:
        for key, schema in self.document.schemas:
            self.schema_class(self.schema_names[key], key, schema)
        return tuple(sorted(self.schema_classes, key=lambda item: item.name))

    def schema_class(self, name: str, title: str, schema: Schema) -> None:
        is_object = (
            schema.type == "object" and not schema.ref and (schema.properties or schema.additional_properties is None)
        )
        if not is_object:
            alias = self.type_expr(schema, name, qualifier="")
            if alias == name:
                alias = "_t.Any"
            self.schema_classes.append(
                SchemaClass(name, repr(name), text.docstring(schema.description), (), alias, schema.json_path)
            )
            return
        fields = []
        for key, prop in schema.properties:
            attribute = key if _plain_attribute(key) else ""
            comment = prop.description
            if prop.read_only and not comment.lower().startswith("output only"):
                comment = f"Output only. {comment}".strip()
            if prop.deprecated:
                comment = f"Deprecated. {comment}".strip()
            fields.append(
                Field(
                    key=repr(key),
                    attribute=attribute,
                    type_expr=self.type_expr(prop, name + naming.pascal_case(key), qualifier=""),
                    comment=text.comment_lines(comment),
                    source=prop.json_path,
                )
            )
        doc = schema.description or title
        if schema.additional_properties is not None:
            extra = self.type_expr(schema.additional_properties, name + "Value", qualifier="")
            doc += (
                f"\n\nBesides these fields the object may hold other keys with values of type {extra} "
                "(additionalProperties), which this TypedDict does not list."
            )
        self.schema_classes.append(
            SchemaClass(name, repr(name), text.docstring(doc), tuple(fields), "", schema.json_path)
        )

    def type_expr(self, schema: Schema, anonymous_name: str, qualifier: str) -> str:
        """The Python type for ``schema``; anonymous objects become new TypedDicts."""
        if schema.ref:
            return qualifier + self.schema_names[schema.ref]
        kind = schema.type
        if schema.enum and kind == "string":
            return "_t.Literal[" + ", ".join(repr(value) for value in schema.enum) + "]"
        if kind == "string":
            return "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "array":
            if schema.items is None:
                return "_t.List[_t.Any]"
            return f"_t.List[{self.type_expr(schema.items, anonymous_name + 'Item', qualifier)}]"
        if kind == "object":
            if schema.properties:
                if schema.json_path in self.anonymous_names:
                    return qualifier + self.anonymous_names[schema.json_path]
                name = self.schema_scope.allocate(naming.class_name(anonymous_name))
                self.anonymous_names[schema.json_path] = name
                self.schema_class(name, anonymous_name, schema)
                return qualifier + name
            if schema.additional_properties is not None:
                value = self.type_expr(schema.additional_properties, anonymous_name + "Value", qualifier)
                return f"_t.Dict[str, {value}]"
            return "_t.Dict[str, _t.Any]"
        return "_t.Any"

    # --- methods ---------------------------------------------------------------------
    def method(self, method: Method, name: str, spec_scope: naming.Scope) -> MethodIR:
        reserved: tuple[str, ...] = METHOD_RESERVED
        if method.supports_media_upload:
            reserved += UPLOAD_RESERVED
        if method.supports_media_download:
            reserved += DOWNLOAD_RESERVED
        params_scope = naming.Scope(reserved)
        by_wire = dict(method.parameters)
        ordered = list(method.parameter_order)
        ordered += sorted(wire for wire, p in method.parameters if p.required and wire not in ordered)
        ordered += sorted(wire for wire, _ in method.parameters if wire not in ordered)
        names: dict[str, str] = {}
        params = []
        for wire in ordered:
            schema = by_wire[wire]
            python = params_scope.allocate(naming.python_name(wire))
            names[wire] = python
            location: Literal["path", "query"] = "path" if schema.location == "path" else "query"
            base_type = self.param_type(schema)
            params.append(
                Param(
                    name=python,
                    wire=repr(wire),
                    location=location,
                    type_expr=f"_t.Sequence[{base_type}]" if schema.repeated else base_type,
                    required=schema.required or location == "path",
                    doc=self.param_doc(schema),
                    source=schema.json_path,
                    enum=tuple(schema.enum) if schema.enum and schema.type == "string" else (),
                )
            )
        own_wires = set(by_wire)
        for wire, schema in self.document.parameters:
            # A parameter the method declares under the same wire name wins (googleapiclient: the reverse).
            if wire not in STANDARD_PARAMETERS or wire in own_wires or schema.location != "query":
                continue
            base_type = self.param_type(schema)
            params.append(
                Param(
                    name=params_scope.allocate(naming.python_name(wire)),
                    wire=repr(wire),
                    location="query",
                    type_expr=f"_t.Sequence[{base_type}]" if schema.repeated else base_type,
                    required=False,
                    doc=self.param_doc(schema),
                    source=schema.json_path,
                    standard=True,
                )
            )
        parts, variables = self.path_plan(method, names)
        body: Literal["none", "optional", "required"] = "none"
        body_type = ""
        anonymous = naming.pascal_case(self.spec_stem(method, name))
        if method.http_method in BODILESS_METHODS:
            pass  # a declared request is ignored: GET and DELETE send no body (as googleapiclient)
        elif method.request_ref:
            body_type = "_s." + self.schema_names[method.request_ref]
            request = self.document.schema(method.request_ref)
            has_fields = bool(request.properties or request.additional_properties) or request.type != "object"
            body = "required" if has_fields else "optional"
        elif method.request_schema is not None:
            body_type = self.type_expr(method.request_schema, anonymous + "Request", qualifier="_s.")
            body = "required"
        if method.supports_media_upload and body == "required":
            body = "optional"  # the metadata; the content comes as media_body
        response_type = "_s." + self.schema_names[method.response_ref] if method.response_ref else ""
        if method.response_schema is not None:
            response_type = self.type_expr(method.response_schema, anonymous + "Response", qualifier="_s.")
        raw_response = method.supports_media_download and not response_type
        if raw_response:
            response_type = "bytes"
        spec_name = spec_scope.allocate("_" + naming.python_name(self.spec_stem(method, name)).upper())
        self.spec_names[method.json_path] = spec_name
        upload_spec_name = upload_spec_expr = ""
        if method.supports_media_upload:
            upload_spec_name = spec_scope.allocate(spec_name + "_UPLOAD")
            upload_spec_expr = self.upload_spec(method)
        return MethodIR(
            name=name,
            spec_name=spec_name,
            id=repr(method.id),
            http_method=repr(method.http_method),
            path_parts=tuple(repr(part) for part in parts),
            path_variables=variables,
            params=tuple(params),
            body=body,
            body_type=body_type,
            response_type=response_type,
            doc=self.method_doc(method, params, body),
            deprecated=method.deprecated,
            api_version=repr(method.api_version),
            data_wrapper="dataWrapper" in self.document.features,
            source=method.json_path,
            upload_spec_name=upload_spec_name,
            upload_spec_expr=upload_spec_expr,
            raw_response=raw_response,
            returns_operation=self.is_operation_schema(method.response_ref),
        )

    def upload_spec(self, method: Method) -> str:
        """The ``_media.UploadSpec(...)`` expression of an upload method.

        Uploads go to the endpoint's root + ``upload/`` + servicePath + the method's path, as
        googleapiclient sends them (the document's ``protocols.simple.path`` is exactly that
        in every bundled document; ``protocols.resumable.path`` adds a ``/resumable`` prefix
        that googleapiclient does not use, and neither do we).
        """
        service_path = self.document.service_path.lstrip("/")
        accept = tuple_expr(repr(item) for item in method.media_accept)
        return (
            f"_media.UploadSpec({'upload/' + service_path!r}, {service_path!r}, {accept}, "
            f"{media_size(method.media_max_size)!r}, {'resumable' in method.media_protocols!r})"
        )

    def with_media(self, lowered: MethodIR, method: Method, scope: naming.Scope) -> MethodIR:
        """``lowered`` with its ``<method>_media`` download sibling named in ``scope``, if it has one."""
        if not method.supports_media_download:
            return lowered
        media_name = scope.allocate(f"{lowered.name.rstrip('_')}_media")
        doc = (
            f"Download the media of :meth:`{lowered.name}` (its request with ``alt=media``).\n\n"
            f"Takes the arguments of :meth:`{lowered.name}`, and:\n\n"
            "Args:\n"
            "    dest: A binary file object (anything with ``write(bytes)``): the content is\n"
            "        streamed into it in ``Range`` requests of ``chunk_size`` bytes, resuming\n"
            "        after a dropped connection; its length and any ``x-goog-hash`` md5 are\n"
            "        checked. None (default): the content is returned as bytes.\n"
            "    chunk_size: Bytes per range request with ``dest`` (default 16 MiB).\n"
            "    progress: Called as ``progress(bytes_written, total_or_None)`` after each range.\n\n"
            "Returns:\n"
            "    The content as bytes; with ``dest``, the number of bytes written."
        )
        return dataclasses.replace(lowered, media_name=media_name, media_doc=text.docstring(doc))

    def spec_stem(self, method: Method, name: str) -> str:
        """The method id without the API name: ``projects.locations.operations.cancel``."""
        prefix = self.document.name + "."
        return method.id[len(prefix) :] if method.id.startswith(prefix) else method.id or name

    def param_type(self, schema: Schema) -> str:
        if schema.enum and schema.type == "string":
            return "_t.Literal[" + ", ".join(repr(value) for value in schema.enum) + "]"
        if schema.type == "integer":
            return "int"
        if schema.type == "number":
            return "float"
        if schema.type == "boolean":
            return "bool"
        if schema.type == "string" and schema.format in ("int64", "uint64"):
            return "_t.Union[int, str]"
        return "str"

    def param_doc(self, schema: Schema) -> str:
        notes = []
        if schema.deprecated:
            notes.append("Deprecated.")
        if schema.pattern and schema.location == "path":
            notes.append(f"Must match {schema.pattern!r}.")
        if schema.default is not None:
            notes.append(f"Server default: {schema.default!r}.")
        return " ".join([schema.description, *notes]).strip()

    def method_doc(self, method: Method, params: list[Param], body: str) -> str:
        lines = [*text.wrap(method.description or method.id), ""]
        if method.deprecated:
            lines[:0] = ["Deprecated: the API marks this method as deprecated.", ""]
        lines.append(f"HTTP: {method.http_method} {method.path}")
        lines.append("")
        own = [param for param in params if not param.standard]
        standard = [param.name for param in params if param.standard]
        if own or standard or body != "none":
            lines.append("Args:")
            for param in own:
                lines.extend(_hanging(f"{param.name}: {param.doc or 'See the API reference.'}"))
            if standard:
                lines.extend(
                    _hanging(
                        f"{', '.join(standard)}: Standard parameters (partial-response field selector, quota user, "
                        "pretty-printing, error format); see the package README."
                    )
                )
            if body != "none":
                optional = " Optional: the request message has no fields." if body == "optional" else ""
                if method.supports_media_upload:
                    optional = " Optional: the metadata of an upload (with media_body), or the whole request."
                request = f"The {method.request_ref} request message" if method.request_ref else "The request body"
                lines.extend(_hanging(f"body: {request}.{optional}"))
            if method.supports_media_upload:
                lines.extend(
                    _hanging(
                        "media_body: Content to upload (bytes, a path, a binary file object or a "
                        "gapi_runtime.media.MediaUpload): simple or multipart upload, resumable above 5 MiB."
                    )
                )
                lines.extend(_hanging("media_mime_type: The content's MIME type (default: guessed from the path)."))
            lines.append("")
        if method.supports_media_download and not (method.response_ref or method.response_schema is not None):
            lines.append("Returns:")
            lines.extend(_hanging("The response body as bytes (the method has no JSON response)."))
        if method.response_ref or method.response_schema is not None:
            lines.append("Returns:")
            returns = f"The {method.response_ref or 'JSON object'} response, decoded from JSON."
            if method.response_ref in self.operation_refs:
                returns += (
                    " It describes a long-running operation: the client's ``operation()`` turns it into "
                    "a handle that waits for it (``result()``), inspects or cancels it."
                )
            lines.extend(_hanging(returns))
        return text.docstring("\n".join(lines).rstrip())

    # --- paging ----------------------------------------------------------------------
    def paging(self, method: Method) -> tuple[str, Schema | None] | None:
        """(items field, its schema) when ``method`` pages (``("", None)``: no single items list).

        A method pages when it has a ``pageToken`` query parameter and its response a
        next-page token (see :func:`next_token_field`); the items are the response's only array
        property besides ``unreachable``.
        """
        token = dict(method.parameters).get("pageToken")
        if token is None or token.location != "query" or not method.response_ref:
            return None
        response = self.document.schema(method.response_ref)
        if not next_token_field(response):
            return None
        lists = [(key, prop) for key, prop in response.properties if key != "unreachable" and prop.type == "array"]
        return lists[0] if len(lists) == 1 else ("", None)

    def with_paging(self, lowered: MethodIR, method: Method, scope: naming.Scope) -> MethodIR:
        """``lowered`` with its ``_pages``/``_all`` companions named in ``scope``, if it pages."""
        found = self.paging(method)
        if found is None:
            return lowered
        field, schema = found
        token = next_token_field(self.document.schema(method.response_ref))
        lowered = dataclasses.replace(lowered, next_token_field=repr(token) if token != "nextPageToken" else "")
        stem = lowered.name.rstrip("_")
        pages_name = scope.allocate(f"{stem}_pages")
        pages_doc = (
            f"Iterate over the pages of :meth:`{lowered.name}`, one request per page.\n\n"
            f"Takes the arguments of :meth:`{lowered.name}` and sends them with every page, with\n"
            "``page_token`` (where to start; default: the first page) replaced by each page's\n"
            f"``{token}``; stops when that is missing or empty. Raises\n"
            "``gapi_runtime.PagingError`` if the server repeats a token.\n\n"
            f"Yields:\n    The {method.response_ref} pages, decoded from JSON."
        )
        if not field or schema is None:
            return dataclasses.replace(lowered, pages_name=pages_name, pages_doc=text.docstring(pages_doc))
        item_type = "_t.Any" if schema.items is None else self.type_expr(schema.items, field, qualifier="_s.")
        all_name = scope.allocate(f"{stem}_all")
        all_doc = (
            f"Iterate over the ``{field}`` of every page of :meth:`{lowered.name}`.\n\n"
            f"Takes the arguments of :meth:`{lowered.name}`; pages as :meth:`{pages_name}` does.\n\n"
            f"Yields:\n    Each element of ``{field}``, page after page."
        )
        return dataclasses.replace(
            lowered,
            pages_name=pages_name,
            pages_doc=text.docstring(pages_doc),
            all_name=all_name,
            all_doc=text.docstring(all_doc),
            items_field=repr(field),
            item_type=item_type,
        )

    # --- long-running operations ------------------------------------------------------
    def is_operation_schema(self, ref: str) -> bool:
        """A google.longrunning.Operation: ``name``, a boolean ``done`` and an ``error``."""
        if not ref:
            return False
        properties = dict(self.document.schema(ref).properties)
        done = properties.get("done")
        return "name" in properties and "error" in properties and done is not None and done.type == "boolean"

    def find_operation_resources(self) -> list[tuple[int, Method, Method | None]]:
        """(top-level resource index, get, cancel) of every ``operations`` resource whose
        ``get`` takes one path parameter and returns an Operation; patterned ones first."""

        def single_name(method: Method | None) -> str | None:
            if method is None:
                return None
            path = [schema for _, schema in method.parameters if schema.location == "path"]
            required = [schema for _, schema in method.parameters if schema.required and schema.location != "path"]
            return path[0].pattern if len(path) == 1 and not required else None

        def walk(resource: Resource) -> Iterable[Resource]:
            yield resource
            for child in resource.resources:
                yield from walk(child)

        found: list[tuple[bool, int, int, Method, Method | None]] = []
        for index, top in enumerate(self.document.resources):
            for resource in walk(top):
                if resource.name != "operations":
                    continue
                by_name = {method.name: method for method in resource.methods}
                get = by_name.get("get")
                pattern = single_name(get)
                if get is None or pattern is None or not self.is_operation_schema(get.response_ref):
                    continue
                cancel = by_name.get("cancel")
                found.append((not pattern, len(found), index, get, cancel if single_name(cancel) is not None else None))
        return [(index, get, cancel) for _, _, index, get, cancel in sorted(found, key=lambda item: item[:2])]

    def done_value(self, ref: str) -> str | None:
        """The value of ``ref``'s string ``status`` enum that spells DONE (any case), or None."""
        status = dict(self.document.schema(ref).properties).get("status")
        if status is None or status.type != "string":
            return None
        return next((value for value in status.enum if value.upper() == "DONE"), None)

    def find_status_operations(self) -> list[_StatusKind]:
        """Every operation schema whose ``status`` reaches DONE, with the resources that re-read it.

        The rule (no per-API code): a schema is a status operation when it is what the ``get``
        method of a resource named ``*operations`` (any case: ``zoneOperations``,
        ``operations``…) returns, and its string ``status`` enum holds ``DONE`` (any case).
        Such a resource is a route when its ``get`` is a GET whose required parameters are all
        path parameters; its ``wait`` (the server-side long poll) and ``cancel`` belong to the
        route when they take the same path parameters (``wait`` must return the schema too).
        The operation is located by its string ``selfLink`` property: the handle picks the
        route whose ``get`` path ends that URL's path. Without a ``selfLink`` the schema is
        reported as not followable. Failure is read from ``error``: ``error.errors[]``
        (entries) when that array exists, else ``error`` as a google.rpc.Status when it has
        an integer ``code``; an integer ``httpErrorStatusCode`` picks the exception class;
        an array ``warnings`` is exposed on the handle.
        """
        found: dict[str, list[tuple[int, Method, Method | None, Method | None]]] = {}
        for index, top in enumerate(self.document.resources):
            for resource in _walk(top):
                if not resource.name.lower().endswith("operations"):
                    continue
                by_name = {method.name: method for method in resource.methods}
                get = by_name.get("get")
                if get is None or get.http_method != "GET" or not get.response_ref:
                    continue
                if self.done_value(get.response_ref) is None:
                    continue
                if any(schema.required and schema.location != "path" for _, schema in get.parameters):
                    continue
                wait = _sibling(by_name.get("wait"), get, get.response_ref)
                cancel = _sibling(by_name.get("cancel"), get, "")
                found.setdefault(get.response_ref, []).append((index, get, wait, cancel))
        kinds = []
        for ref, routes in found.items():
            routes.sort(key=lambda route: -len(_PATH_VARIABLE.sub("", route[1].path)))
            properties = dict(self.document.schema(ref).properties)
            error = properties.get("error")
            error_schema = self.document.schema(error.ref) if error is not None and error.ref else error
            error_fields = dict(error_schema.properties) if error_schema is not None else {}
            errors = error_fields.get("errors")
            code = error_fields.get("code")
            if errors is not None and errors.type == "array":
                error_shape = "errors"
            elif code is not None and code.type == "integer":
                error_shape = "status"
            else:
                error_shape = ""
            http_status = properties.get("httpErrorStatusCode")
            warnings = properties.get("warnings")
            self_link = properties.get("selfLink")
            locator = "selfLink" if self_link is not None and self_link.type == "string" else ""
            unfollowable = ""
            if not locator:
                needs = ", ".join(_path_params(routes[0][1]))
                unfollowable = (
                    f"{ref} has no selfLink to locate it, and {routes[0][1].id} needs {needs}, "
                    "which the operation does not hold"
                )
            reread = {method.json_path for route in routes for method in route[1:] if method is not None}
            methods = tuple(
                method.id
                for method in _all_methods(self.document)
                if method.response_ref == ref and method.json_path not in reread
            )
            kinds.append(
                _StatusKind(
                    ref,
                    routes,
                    self.done_value(ref) or "DONE",
                    error_shape,
                    "httpErrorStatusCode" if http_status is not None and http_status.type == "integer" else "",
                    "warnings" if warnings is not None and warnings.type == "array" else "",
                    locator,
                    unfollowable,
                    methods,
                )
            )
        return kinds

    def path_plan(self, method: Method, names: dict[str, str]) -> tuple[list[str], tuple[PathVariable, ...]]:
        parameters = dict(method.parameters)
        parts: list[str] = []
        variables: list[PathVariable] = []
        position = 0
        for match in _PATH_VARIABLE.finditer(method.path):
            parts.append(method.path[position : match.start()])
            position = match.end()
            wire = match.group(2)
            schema = parameters.get(wire)
            if schema is None or schema.location != "path":
                raise DocumentError(
                    self.document.source, f"{method.json_path}.path", f"variable {{{wire}}} names no path parameter"
                )
            pattern = repr(schema.pattern) if schema.pattern else "None"
            variables.append(PathVariable(names[wire], reserved=match.group(1) == "+", pattern=pattern))
        tail = method.path[position:]
        if "{" in tail or "}" in tail or any("{" in part or "}" in part for part in parts):
            raise DocumentError(self.document.source, f"{method.json_path}.path", "unbalanced '{' or '}' in path")
        parts.append(tail)
        used = {variable.param for variable in variables}
        for wire, schema in method.parameters:
            if schema.location == "path" and names[wire] not in used:
                raise DocumentError(
                    self.document.source,
                    f"{method.json_path}.parameters.{wire}",
                    "path parameter does not appear in the method's path",
                )
        return parts, tuple(variables)

    # --- resources -------------------------------------------------------------------
    def resource(
        self,
        resource: Resource,
        attribute: str,
        prefix: str,
        classes: naming.Scope,
        specs: naming.Scope,
        deprecated: bool = False,
    ) -> ResourceIR:
        """Lower ``resource``; everything in a deprecated resource is deprecated (and warns)."""
        deprecated = deprecated or resource.deprecated
        class_name = classes.allocate(naming.class_name(prefix + naming.pascal_case(resource.name) + "Resource"))
        scope = naming.Scope(CLASS_RESERVED)
        methods = tuple(
            self.method(
                dataclasses.replace(method, deprecated=True) if deprecated else method,
                scope.allocate(naming.python_name(method.name)),
                specs,
            )
            for method in resource.methods
        )
        children = tuple(
            self.resource(
                child,
                scope.allocate(naming.python_name(child.name)),
                prefix + naming.pascal_case(resource.name),
                classes,
                specs,
                deprecated,
            )
            for child in resource.resources
        )
        methods = tuple(
            self.with_media(self.with_paging(ir, method, scope), method, scope)
            for ir, method in zip(methods, resource.methods, strict=True)
        )
        doc = f"The ``{resource.name}`` resource."
        if deprecated:
            doc += " Deprecated: the API marks it (or a resource above it) as deprecated; its methods warn."
        return ResourceIR(attribute, class_name, text.docstring(doc), methods, children, resource.json_path)

    # --- layout of big APIs ------------------------------------------------------------
    def split(
        self, roots: list[ResourceIR], module_scope: naming.Scope, alias_scope: naming.Scope
    ) -> tuple[list[ResourceModule], list[ResourceModule]]:
        """Place every resource class in a module: (top-level modules, further modules).

        A top-level resource's module takes its subtree depth first, each child's whole
        subtree while it fits in the budgets (methods, estimated characters); a child whose
        subtree does not fit starts a module of its own (named after its attribute path),
        split the same way.
        """
        budget = (self.module_method_budget, self.module_size_budget)
        sizes: dict[int, tuple[int, int]] = {}

        def own(resource: ResourceIR) -> tuple[int, int]:
            return len(resource.methods), sum(_estimated_method_size(method) for method in resource.methods)

        def size(resource: ResourceIR) -> tuple[int, int]:
            if id(resource) not in sizes:
                total = own(resource)
                for child in resource.children:
                    total = _plus(total, size(child))
                sizes[id(resource)] = total
            return sizes[id(resource)]

        assignment: dict[int, str] = {}
        aliases: dict[str, str] = {}
        pending: list[tuple[ResourceIR, str, tuple[str, ...]]] = []  # sub-module roots, in order

        def place(resource: ResourceIR, module: str, used: tuple[int, int], path: tuple[str, ...]) -> tuple[int, int]:
            assignment[id(resource)] = module
            used = _plus(used, own(resource))
            for child in resource.children:
                child_path = (*path, child.attribute.rstrip("_"))
                total = _plus(used, size(child))
                if total[0] <= budget[0] and total[1] <= budget[1]:
                    used = place(child, module, used, child_path)
                else:
                    pending.append((child, "", child_path))
            return used

        top_names = [module_scope.allocate(root.attribute) for root in roots]
        for name in top_names:
            aliases[name] = alias_scope.allocate("_" + name)
        batch_aliases = {name: alias_scope.allocate(f"_{name}_batch") for name in top_names}
        for root, name in zip(roots, top_names, strict=True):
            place(root, name, (0, 0), (root.attribute.rstrip("_"),))
            while pending:
                child, _, path = pending.pop(0)
                preferred = "_".join(path)
                if len(preferred) > MAX_MODULE_NAME:
                    preferred = f"{name[: MAX_MODULE_NAME // 2]}_part"
                sub = module_scope.allocate(naming.python_name(preferred, "part"))
                aliases[sub] = alias_scope.allocate("_" + sub)
                place(child, sub, (0, 0), path)

        def rebuild(resource: ResourceIR) -> ResourceIR:
            module = assignment[id(resource)]
            return dataclasses.replace(
                resource,
                children=tuple(rebuild(child) for child in resource.children),
                module=module,
                module_alias=aliases[module],
            )

        members: dict[str, list[ResourceIR]] = {}
        for root in roots:
            for resource in rebuild(root).walk():
                members.setdefault(resource.module, []).append(resource)
        modules = {name: ResourceModule(name, group[0], aliases[name], tuple(group)) for name, group in members.items()}
        top = [dataclasses.replace(modules[name], batch_alias=batch_aliases[name]) for name in top_names]
        rest = [module for name, module in sorted(modules.items()) if name not in top_names]
        return top, rest

    def schema_chunks(self, schemas: tuple[SchemaClass, ...]) -> tuple[SchemaModule, ...]:
        """The chunks of a ``schemas/`` package, or ``()`` when one ``schemas.py`` is small enough."""
        limit = self.schema_chunk_chars
        sizes = [_estimated_size(schema) for schema in schemas]
        if sum(sizes) <= limit:
            return ()
        groups: list[list[SchemaClass]] = [[]]
        used = 0
        for schema, size in zip(schemas, sizes, strict=True):
            if groups[-1] and used + size > limit:
                groups.append([])
                used = 0
            groups[-1].append(schema)
            used += size
        width = len(str(len(groups) - 1))
        chunk_of = {schema.name: f"_{index:0{width}d}" for index, group in enumerate(groups) for schema in group}
        chunks = []
        for index, group in enumerate(groups):
            name = f"_{index:0{width}d}"
            needed: dict[str, set[str]] = {}
            for schema in group:
                for expr in (schema.alias, *(field.type_expr for field in schema.fields)):
                    for used_name in _names_in(expr):
                        other = chunk_of.get(used_name)
                        if other is not None and other != name:
                            needed.setdefault(other, set()).add(used_name)
            imports = tuple((other, ", ".join(sorted(names))) for other, names in sorted(needed.items()))
            chunks.append(SchemaModule(name, tuple(group), imports))
        return tuple(chunks)

    def client(self) -> ClientIR:
        document = self.document
        self.schemas()
        client_scope = naming.Scope((*CLIENT_RESERVED, *CLASS_RESERVED))
        specs = naming.Scope()
        methods = tuple(
            self.method(method, client_scope.allocate(naming.python_name(method.name)), specs)
            for method in document.methods
        )
        roots = []
        for resource in document.resources:
            attribute = client_scope.allocate(naming.python_name(resource.name))
            classes = naming.Scope()
            root = self.resource(resource, attribute, "", classes, naming.Scope())
            # Async and batch twins are named once every sync class of the tree is (sync names never depend on them).
            roots.append(with_batch_names(with_async_names(root, classes), classes))
        # Module file names must differ on case-insensitive file systems too.
        modules, submodules = self.split(
            roots,
            naming.Scope(case_insensitive=True),
            naming.Scope(("_t", "_rt", "_s", "_aio", "_functools", "_media")),
        )
        methods = tuple(
            self.with_media(self.with_paging(ir, method, client_scope), method, client_scope)
            for ir, method in zip(methods, document.methods, strict=True)
        )
        spec_modules: dict[tuple[str, str], str] = {}  # (top-level module, spec) → defining module
        for module in modules:  # specs are unique within one top-level resource's modules
            for placed in module.root.walk():
                for method_ir in placed.methods:
                    spec_modules[(module.module, method_ir.spec_name)] = placed.module
        operations = tuple(
            OperationsIR(
                spec_modules[(modules[index].module, self.spec_names[get.json_path])],
                self.spec_names[get.json_path],
                self.spec_names[cancel.json_path] if cancel is not None else "",
            )
            for index, get, cancel in self.operation_resources
        )
        status_operations = tuple(
            StatusOperationsIR(
                schema=kind.ref,
                type_name="_s." + self.schema_names[kind.ref],
                routes=tuple(
                    StatusRouteIR(
                        spec_modules[(modules[index].module, self.spec_names[get.json_path])],
                        self.spec_names[get.json_path],
                        self.spec_names[wait.json_path] if wait is not None else "",
                        self.spec_names[cancel.json_path] if cancel is not None else "",
                        get.id,
                        wait.id if wait is not None else "",
                        cancel.id if cancel is not None else "",
                    )
                    for index, get, wait, cancel in kind.routes
                ),
                status_field="status",
                done_value=kind.done_value,
                error_shape=kind.error_shape,
                http_status_field=kind.http_status_field,
                warnings_field=kind.warnings_field,
                locator=kind.locator,
                unfollowable=kind.unfollowable,
                methods=kind.methods,
            )
            for kind in self.status_operations
        )
        operation_refs = sorted({get.response_ref for _, get, _ in self.operation_resources})
        operation_type = (
            "_s." + self.schema_names[operation_refs[0]] if len(operation_refs) == 1 else "_t.Mapping[str, _t.Any]"
        )
        # Methods may add anonymous schemas (inline requests and responses): sort them all now.
        schemas = tuple(sorted(self.schema_classes, key=lambda item: item.name))
        doc_lines = [f"{document.title or document.name} ({document.name} {document.version})"]
        if document.description.strip():
            doc_lines += ["", document.description]
        if document.documentation_link:
            doc_lines += ["", f"Documentation: {document.documentation_link}"]
        return ClientIR(
            package=package_name(document),
            client_class=client_class_name(document),
            async_client_class=client_class_name(document, "AsyncClient"),
            batch_path=repr(document.batch_path),
            batch_class=client_class_name(document, "Batch"),
            async_batch_class=client_class_name(document, "AsyncBatch"),
            api_id=repr(f"{document.name}:{document.version}"),
            api_name=repr(document.name),
            api_version=repr(document.version),
            revision=repr(document.revision),
            title=text.docstring(document.title or document.name),
            doc=text.docstring("\n".join(doc_lines).strip()),
            root_url=repr(document.root_url),
            mtls_root_url=repr(document.mtls_root_url),
            service_path=repr(document.service_path),
            scopes=tuple(repr(scope) for scope, _ in document.scopes),
            endpoints=tuple(repr(endpoint.url) for endpoint in document.endpoints),
            schemas=schemas,
            modules=tuple(modules),
            methods=methods,
            submodules=tuple(submodules),
            schema_modules=self.schema_chunks(schemas),
            schema_names=tuple(self.schema_names.items()),
            operations=operations,
            operation_type=operation_type if operations else "",
            status_operations=status_operations,
            summary=text.docstring(
                f"Typed Python client for {document.title or document.name} ({document.name} {document.version}),"
                " generated from its discovery document"
            ).replace("\n", " "),
        )


def _hanging(line: str, width: int = 84) -> list[str]:
    """An ``Args:`` entry wrapped with a hanging indent."""
    if line and len(line) + 4 <= width and line.isprintable() and not line[0].isspace() and line[-1] != " ":
        return ["    " + line]  # fits: what textwrap would return, without its cost
    return textwrap.wrap(line, width, initial_indent="    ", subsequent_indent="        ") or ["    "]


_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_UNQUALIFIED_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _names_in(expr: str) -> set[str]:
    """The names a type expression uses unqualified (not ``_t.X``, not inside string literals).

    Type expressions are built here from names, ``_t.`` attributes, brackets, commas and
    ``repr()`` string literals, so removing the literals leaves only names and punctuation.
    """
    return set(_UNQUALIFIED_NAME.findall(_STRING_LITERAL.sub("", expr)))


def _plus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _estimated_method_size(method: MethodIR) -> int:
    """About how many characters ``method`` takes in a resources module (its spec, and its
    sync and async definitions with docstrings; measured over the bundled documents)."""
    docs = len(method.doc) + len(method.pages_doc) + len(method.all_doc)
    return 1500 + docs * 5 // 2 + 160 * len(method.params)


def _estimated_size(schema: SchemaClass) -> int:
    """About how many characters ``schema`` takes in a generated module."""
    size = 80 + len(schema.doc) + len(schema.alias)
    for field in schema.fields:
        size += 16 + len(field.key) + len(field.type_expr) + sum(len(line) + 8 for line in field.comment)
    return size

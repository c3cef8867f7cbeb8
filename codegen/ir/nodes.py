"""The generation IR: frozen values that the templates place.

Strings here are plain values (a method id, a wire name, a URL), never Python source: the
templates print them through the ``py`` filter (:func:`codegen.render.python_literal`).
Types are :class:`~codegen.ir.types.TypeRef` values. Names (``name``, ``spec_name``,
``class_name``...) are Python identifiers decided by the lowering; ``doc`` and ``comment``
texts are already escaped for a docstring or a comment. Every node that comes from one
document node keeps that node's JSON path in ``source``. The one exception: the argument
lines of a method's signatures (:attr:`MethodIR.leading_arguments`,
:attr:`MethodIR.optional_arguments`), spelled once here rather than looped over in every
signature the templates write for the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from codegen.ir.constants import DISTRIBUTION_PREFIX, RUNTIME_DISTRIBUTION, RUNTIME_MIN_VERSION, RUNTIME_MODULE
from codegen.ir.operations import status_shape
from codegen.ir.types import TypeRef


@dataclass(frozen=True)
class Field:
    """One property of a TypedDict schema."""

    key: str  # the wire name
    attribute: str  # the wire name itself when class syntax can spell it, else ""
    type_expr: TypeRef
    comment: tuple[str, ...]  # escaped comment lines
    source: str  # the JSON path of the property in the document


@dataclass(frozen=True)
class SchemaClass:
    """A TypedDict (or, for non-object schemas, a type alias) in ``schemas.py``."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    alias: TypeRef | None  # the aliased type when the schema is not an object, else None
    source: str  # the JSON path of the schema (named or anonymous) in the document

    @property
    def class_syntax(self) -> bool:
        return all(field.attribute for field in self.fields)


@dataclass(frozen=True)
class Param:
    name: str
    wire: str  # the name on the wire
    location: Literal["path", "query"]
    type_expr: TypeRef
    required: bool
    doc: str
    source: str  # the JSON path of the parameter (a top-level one for standard parameters)
    standard: bool = False  # one of STANDARD_PARAMETERS, from the document's top-level parameters
    enum: tuple[str, ...] = ()  # the values the document allows (string enums), checked at run time

    @property
    def in_path(self) -> bool:
        return self.location == "path"

    @property
    def enum_key(self) -> str:
        """How the runtime's enum check finds the value: the Python name of a path parameter
        (its value is checked before the path is built), else the wire name."""
        return self.name if self.in_path else self.wire


@dataclass(frozen=True)
class PathVariable:
    param: str  # Python name of the parameter that fills it
    reserved: bool  # {+var}: keep '/'
    pattern: str | None  # the regex the value must fully match


@dataclass(frozen=True)
class UploadPlan:
    """What ``_media.UploadSpec(...)`` of an upload method holds."""

    path: str  # the upload path below the root URL: ``upload/`` + servicePath
    service_path: str
    accept: tuple[str, ...]  # the accepted MIME types
    max_size: int  # bytes; 0: no limit
    resumable: bool


@dataclass(frozen=True)
class MethodIR:
    name: str
    spec_name: str
    id: str
    http_method: str
    path_parts: tuple[str, ...]  # the path's text between the variables
    path_variables: tuple[PathVariable, ...]
    params: tuple[Param, ...]
    body: Literal["none", "optional", "required"]
    body_type: TypeRef | None
    response_type: TypeRef | None  # None when the method returns nothing
    doc: str
    deprecated: bool
    api_version: str  # "" when the method has none
    data_wrapper: bool
    source: str  # the JSON path of the method in the document
    # Paging (a ``pageToken`` parameter and a ``nextPageToken`` in the response): the names
    # of ``<method>_pages`` and, when the response has one list of items, ``<method>_all``.
    pages_name: str = ""
    pages_doc: str = ""
    all_name: str = ""
    all_doc: str = ""
    items_field: str = ""  # the wire name of the items list
    item_type: TypeRef | None = None
    #: The response member with the next page's token when it is not ``nextPageToken``
    #: (bigquery ``tabledata.list`` answers ``pageToken``), else "".
    next_token_field: str = ""
    # Media (supportsMediaUpload / supportsMediaDownload): the upload plan's constant and
    # the plan; the name and docstring of the ``<method>_media`` download sibling;
    # ``raw_response`` when the plain call returns the body as bytes (a download method
    # without a response schema, e.g. drive files.export).
    upload_spec_name: str = ""
    upload: UploadPlan | None = None
    media_name: str = ""
    media_doc: str = ""
    raw_response: bool = False
    #: The response is a google.longrunning Operation (for the generated fake, ``testing.py``).
    returns_operation: bool = False
    #: The document's ``alt`` defaults to another format than JSON (groupssettings: ``atom``):
    #: the method sends ``alt=json``, as googleapiclient's calls all do.
    json_alt: bool = False

    @property
    def types(self) -> tuple[TypeRef, ...]:
        """The body, response and item types the method's signatures use."""
        return tuple(t for t in (self.body_type, self.response_type, self.item_type) if t is not None)

    @property
    def uses_schemas(self) -> bool:
        return any(t.uses_schemas for t in self.types)

    @property
    def uses_media(self) -> bool:
        return bool(self.upload_spec_name or self.media_name or self.raw_response)

    @property
    def has_body(self) -> bool:
        """The method takes a ``body`` argument (required or optional)."""
        return self.body != "none"

    @property
    def body_required(self) -> bool:
        return self.body == "required"

    @property
    def body_optional(self) -> bool:
        return self.body == "optional"

    @property
    def batch_refused(self) -> bool:
        """True when a batch cannot carry the call: its answer is media, not JSON."""
        return self.raw_response

    @property
    def batch_returns(self) -> str:
        """The return annotation of the method's batch twin: its handle, or ``NoReturn`` when refused."""
        return "_t.NoReturn" if self.batch_refused else f"_rt.BatchHandle[{self.response_type or 'None'}]"

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.location == "query")

    @property
    def query_wires(self) -> tuple[str, ...]:
        """The query parameters' wire names, in order (``alt`` last, with :attr:`json_alt`)."""
        return tuple(param.wire for param in self.query_params) + (("alt",) if self.json_alt else ())

    @property
    def enum_params(self) -> tuple[Param, ...]:
        """The parameters whose values the runtime checks against the document's enum."""
        return tuple(param for param in self.params if param.enum)

    @property
    def path_arg_names(self) -> tuple[str, ...]:
        """The Python names of the path parameters, in path order."""
        return tuple(v.param for v in self.path_variables)

    @property
    def query_arg_names(self) -> tuple[str, ...]:
        """What the method passes for each of :attr:`query_wires`: its arguments, then ``"json"``."""
        return tuple(param.name for param in self.query_params) + (('"json"',) if self.json_alt else ())

    @property
    def required_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.required)

    @property
    def optional_params(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if not param.required)

    @cached_property
    def leading_arguments(self) -> str:
        """The signature lines of the required parameters and of ``body``, each ending in a newline."""
        lines = [f"    {param.name}: {param.type_expr},\n" for param in self.required_params]
        if self.body_required:
            lines.append(f"    body: {self.body_type},\n")
        elif self.body_optional:
            lines.append(f"    body: {self.body_type} | None = None,\n")
        return "".join(lines)

    @cached_property
    def optional_arguments(self) -> str:
        """The signature lines of the optional parameters, each ending in a newline."""
        return "".join(f"    {param.name}: {param.type_expr} | None = None,\n" for param in self.optional_params)


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
    def eager_children(self) -> tuple[ResourceIR, ...]:
        """Children defined in this resource's module: built with it."""
        return tuple(child for child in self.children if child.module == self.module)

    @property
    def lazy_children(self) -> tuple[ResourceIR, ...]:
        """Children in modules of their own: imported and built when first reached."""
        return tuple(child for child in self.children if child.module != self.module)

    @property
    def slot_names(self) -> tuple[str, ...]:
        """The ``__slots__`` names (with ``__dict__`` for the cached lazy children)."""
        names = ["_api", *(child.attribute for child in self.eager_children)]
        if self.lazy_children:
            names.append("__dict__")
        return tuple(names)

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
    def spec_names(self) -> tuple[str, ...]:
        """The MethodSpec constants this module defines (``_batch/`` imports them)."""
        return tuple(method.spec_name for resource in self.resources for method in resource.methods)

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
    #: (chunk, names) the names its annotations use from other chunks, sorted.
    imports: tuple[tuple[str, tuple[str, ...]], ...]


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


@dataclass(frozen=True)
class StatusOperationsIR:
    """An operation schema whose ``status`` reaches ``DONE`` (see :func:`codegen.ir.operations.find_status_operations`).

    The ``status_operation_kind`` macro renders it as the runtime's StatusOperationKind.
    """

    schema: str  # the document's schema name
    type_name: TypeRef  # its Python type: ``_s.Operation``
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


@dataclass(frozen=True)
class ClientIR:
    package: str
    client_class: str
    api_id: str  # ``name:version``
    api_name: str
    api_version: str
    revision: str
    title: str  # escaped docstring text
    doc: str
    root_url: str
    mtls_root_url: str
    service_path: str
    scopes: tuple[str, ...]
    endpoints: tuple[str, ...]  # endpoint URLs besides rootUrl
    schemas: tuple[SchemaClass, ...]
    modules: tuple[ResourceModule, ...]
    methods: tuple[MethodIR, ...]  # top-level methods, on the client itself
    #: (document schema key, Python class name) of every top-level schema, in document order.
    schema_names: tuple[tuple[str, str], ...] = ()
    #: Operations resources, for ``client.operation(...)``; empty when the API has none.
    operations: tuple[OperationsIR, ...] = ()
    operation_type: TypeRef | None = None  # the type of the Operation dict methods return
    #: Operation schemas whose ``status`` reaches ``DONE``, for ``client.operation(...)``.
    status_operations: tuple[StatusOperationsIR, ...] = ()
    #: Modules under ``resources/`` for the parts of big subtrees (see MODULE_METHOD_BUDGET).
    submodules: tuple[ResourceModule, ...] = ()
    #: The chunks of a ``schemas/`` package; empty when the schemas fit in ``schemas.py``.
    schema_modules: tuple[SchemaModule, ...] = ()
    #: The async client's class, in ``_async_client.py`` (same resources, methods and types).
    async_client_class: str = ""
    #: One line for the package metadata and README (plain text).
    summary: str = ""
    #: The document's ``batchPath`` ("" when none: then no ``batch()``).
    batch_path: str = ""
    batch_class: str = ""  # the batch of the sync client, in ``_batch/__init__.py``
    async_batch_class: str = ""  # the batch of the async client, in ``_async_client.py``

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
    def operation_imports(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(module, spec names) to import for ``client.operation``."""
        by_module: dict[str, list[str]] = {}
        for ops in self.operations:
            names = by_module.setdefault(ops.module, [])
            names.extend(name for name in (ops.get_spec, ops.cancel_spec) if name and name not in names)
        for kind in self.status_operations:
            for route in kind.routes:
                names = by_module.setdefault(route.module, [])
                specs = (route.get_spec, route.wait_spec, route.cancel_spec)
                names.extend(name for name in specs if name and name not in names)
        return tuple((module, tuple(names)) for module, names in by_module.items())

    @property
    def has_operation_method(self) -> bool:
        """True if the client gets ``operation()``: it has google.longrunning or status operations."""
        return bool(self.operations or self.status_operations)

    @property
    def operation_types(self) -> tuple[TypeRef, ...]:
        """The operation dict types ``operation()`` accepts, without repeats."""
        types = [self.operation_type] if self.operations and self.operation_type is not None else []
        types.extend(kind.type_name for kind in self.status_operations if kind.type_name not in types)
        return tuple(types)

    @property
    def has_batch(self) -> bool:
        """True when the document has a ``batchPath``: the clients get ``batch()``."""
        return bool(self.batch_path)

    @property
    def has_paging(self) -> bool:
        """True if any method has ``_pages``/``_all`` companions."""
        return any(method.pages_name for method in self.all_methods)

    @property
    def method_spec_names(self) -> tuple[str, ...]:
        """The MethodSpec constants of the client's own methods (for imports)."""
        return tuple(name for method in self.methods for name in (method.spec_name, method.upload_spec_name) if name)

    @property
    def uses_schemas(self) -> bool:
        return self.has_operation_method or any(method.uses_schemas for method in self.methods)

    @property
    def batch_uses_schemas(self) -> bool:
        """True if the batch twins of the client's own methods name schema classes."""
        return any(method.uses_schemas for method in self.methods)

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
    def example_call(self) -> tuple[str, MethodIR | None]:
        """The README's sample call: the dotted path of the first GET (else the first method) and
        the method (None: ``close``)."""
        candidates: list[tuple[str, MethodIR]] = [(method.name, method) for method in self.methods]
        stack = [(module.root.attribute, module.root) for module in reversed(self.modules)]
        while stack:
            path, resource = stack.pop()
            candidates.extend((f"{path}.{method.name}", method) for method in resource.methods)
            stack.extend((f"{path}.{child.attribute}", child) for child in reversed(resource.children))
        if not candidates:
            return "close", None
        return next((c for c in candidates if c[1].http_method == "GET"), candidates[0])

    @property
    def all_methods(self) -> tuple[MethodIR, ...]:
        result = list(self.methods)
        for module in self.modules:
            for resource in module.root.walk():
                result.extend(resource.methods)
        return tuple(result)

"""Lower a discovery :class:`~codegen.discovery.Document` into the IR (:mod:`codegen.ir.nodes`).

Every Python name (snake_case, keyword escaping, collisions), every type, every docstring
and every path plan is decided here; the values stay values (the templates spell them).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from codegen import naming, text
from codegen.discovery import Document, Method, Resource, Schema
from codegen.errors import DocumentError
from codegen.ir import docs, layout, operations
from codegen.ir.constants import (
    BODILESS_METHODS,
    CLASS_RESERVED,
    CLIENT_RESERVED,
    DOWNLOAD_RESERVED,
    MEDIA_SIZE_SHIFTS,
    METHOD_RESERVED,
    PARTIAL_FAILURE_LISTS,
    PATH_VARIABLE,
    STANDARD_PARAMETERS,
    UPLOAD_RESERVED,
)
from codegen.ir.names import client_class_name, package_name, with_async_names, with_batch_names
from codegen.ir.nodes import (
    ClientIR,
    MethodIR,
    OperationsIR,
    Param,
    PathVariable,
    ResourceIR,
    ResourceModule,
    StatusOperationsIR,
    StatusRouteIR,
    UploadPlan,
)
from codegen.ir.schemas import SchemaTypes
from codegen.ir.types import ANY, TypeRef


def media_size(text_value: str) -> int:
    """``maxSize`` in bytes: ``10MB`` → 10 << 20, ``512`` → 512; 0 (no limit) when absent or unreadable.

    Only ASCII digits count (``"²GB"`` is unreadable), and at most 18 of them: a limit beyond
    an exabyte is no limit.
    """
    value = text_value.strip()
    shift = MEDIA_SIZE_SHIFTS.get(value[-2:].upper(), 0) if len(value) >= 2 else 0
    digits = value[:-2] if shift else value
    readable = digits.isascii() and digits.isdigit() and len(digits) <= 18
    return int(digits) << shift if readable else 0


def next_token_field(response: Schema) -> str:
    """The response member that holds the next page's token: ``nextPageToken``, else a string
    ``pageToken`` (bigquery ``tabledata.list``, ``jobs.getQueryResults``), else ""."""
    members = dict(response.properties)
    if "nextPageToken" in members:
        return "nextPageToken"
    token = members.get("pageToken")
    return "pageToken" if token is not None and token.type == "string" else ""


def param_type(schema: Schema) -> TypeRef:
    """The Python type of one value of a parameter."""
    if schema.enum and schema.type == "string":
        return TypeRef.literal(tuple(schema.enum))
    if schema.type == "integer":
        return TypeRef("int")
    if schema.type == "number":
        return TypeRef("float")
    if schema.type == "boolean":
        return TypeRef("bool")
    if schema.type == "string" and schema.format in ("int64", "uint64"):
        return TypeRef.typing("Union", TypeRef("int"), TypeRef("str"))
    return TypeRef("str")


def upload_plan(method: Method, service_path: str) -> UploadPlan:
    """What ``_media.UploadSpec`` of an upload method holds.

    Uploads go to the endpoint's root + ``upload/`` + servicePath + the method's path, as
    googleapiclient sends them (the document's ``protocols.simple.path`` is exactly that
    in every bundled document; ``protocols.resumable.path`` adds a ``/resumable`` prefix
    that googleapiclient does not use, and neither do we).
    """
    path = service_path.lstrip("/")
    return UploadPlan(
        "upload/" + path,
        path,
        tuple(method.media_accept),
        media_size(method.media_max_size),
        "resumable" in method.media_protocols,
    )


class _Lowering:
    """One document's lowering: its schema classes (:class:`SchemaTypes`, filled as types reach
    them) and the operations it re-reads (found once, for docstrings and ``client.operation``)."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.types = SchemaTypes(document)
        self.operation_resources = operations.find_operation_resources(document)
        self.operation_refs = {get.response_ref for _, get, _ in self.operation_resources}
        self.status_operations = operations.find_status_operations(document)
        self.operation_refs |= {found.ref for found in self.status_operations if not found.unfollowable}
        alt = dict(document.parameters).get("alt")
        #: JSON is not the default answer: every JSON call says ``alt=json`` (see MethodIR.json_alt).
        self.json_alt = alt is not None and alt.location == "query" and (alt.default or "json") != "json"

    # --- methods ---------------------------------------------------------------------
    def params(self, method: Method) -> tuple[list[Param], dict[str, str]]:
        """The method's parameters (its own, in call order, then the standard ones it takes) and
        the Python name of each of its own by wire name."""
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
            params.append(
                Param(
                    name=python,
                    wire=wire,
                    location=location,
                    type_expr=_repeated(schema),
                    required=schema.required or location == "path",
                    doc=docs.param_doc(schema),
                    source=schema.json_path,
                    enum=tuple(schema.enum) if schema.enum and schema.type == "string" else (),
                )
            )
        for wire, schema in self.document.parameters:
            # A parameter the method declares under the same wire name wins (googleapiclient: the reverse).
            if wire not in STANDARD_PARAMETERS or wire in by_wire or schema.location != "query":
                continue
            params.append(
                Param(
                    name=params_scope.allocate(naming.python_name(wire)),
                    wire=wire,
                    location="query",
                    type_expr=_repeated(schema),
                    required=False,
                    doc=docs.param_doc(schema),
                    source=schema.json_path,
                    standard=True,
                )
            )
        return params, names

    def method(self, method: Method, name: str, spec_scope: naming.Scope) -> MethodIR:
        params, names = self.params(method)
        parts, variables = self.path_plan(method, names)
        body: Literal["none", "optional", "required"] = "none"
        body_type = None
        anonymous = naming.pascal_case(self.spec_stem(method, name))
        if method.http_method in BODILESS_METHODS:
            pass  # a declared request is ignored: GET and DELETE send no body (as googleapiclient)
        elif method.request_ref:
            body_type = self.types.named(method.request_ref)
            request = self.document.schema(method.request_ref)
            has_fields = bool(request.properties or request.additional_properties) or request.type != "object"
            body = "required" if has_fields else "optional"
        elif method.request_schema is not None:
            body_type = self.types.type_ref(method.request_schema, anonymous + "Request", qualified=True)
            body = "required"
        if method.supports_media_upload and body == "required":
            body = "optional"  # the metadata; the content comes as media_body
        response_type = None
        if method.response_ref:
            response_type = self.types.named(method.response_ref)
        if method.response_schema is not None:
            response_type = self.types.type_ref(method.response_schema, anonymous + "Response", qualified=True)
        raw_response = method.supports_media_download and response_type is None
        if raw_response:
            response_type = TypeRef("bytes")
        spec_name = spec_scope.allocate("_" + naming.python_name(self.spec_stem(method, name)).upper())
        upload_spec_name = ""
        upload = None
        if method.supports_media_upload:
            upload_spec_name = spec_scope.allocate(spec_name + "_UPLOAD")
            upload = upload_plan(method, self.document.service_path)
        return MethodIR(
            name=name,
            spec_name=spec_name,
            id=method.id,
            http_method=method.http_method,
            path_parts=tuple(parts),
            path_variables=variables,
            params=tuple(params),
            body=body,
            body_type=body_type,
            response_type=response_type,
            doc=docs.method_doc(method, params, body, method.response_ref in self.operation_refs),
            deprecated=method.deprecated,
            api_version=method.api_version,
            data_wrapper="dataWrapper" in self.document.features,
            source=method.json_path,
            upload_spec_name=upload_spec_name,
            upload=upload,
            raw_response=raw_response,
            returns_operation=operations.is_operation_schema(self.document, method.response_ref),
            json_alt=self.json_alt and not raw_response and "alt" not in dict(method.parameters),
        )

    def spec_stem(self, method: Method, name: str) -> str:
        """The method id without the API name: ``projects.locations.operations.cancel``."""
        prefix = self.document.name + "."
        return method.id[len(prefix) :] if method.id.startswith(prefix) else method.id or name

    def path_plan(self, method: Method, names: dict[str, str]) -> tuple[list[str], tuple[PathVariable, ...]]:
        """The path's text between its variables, and the variables (``names``: Python name by wire name)."""
        parameters = dict(method.parameters)
        parts: list[str] = []
        variables: list[PathVariable] = []
        position = 0
        for match in PATH_VARIABLE.finditer(method.path):
            parts.append(method.path[position : match.start()])
            position = match.end()
            wire = match.group(2)
            schema = parameters.get(wire)
            if schema is None or schema.location != "path":
                raise DocumentError(
                    self.document.source, f"{method.json_path}.path", f"variable {{{wire}}} names no path parameter"
                )
            variables.append(PathVariable(names[wire], reserved=match.group(1) == "+", pattern=schema.pattern or None))
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

    # --- companions: paging and media download ----------------------------------------
    def paging(self, method: Method) -> tuple[str, Schema | None] | None:
        """(items field, its schema) when ``method`` pages (``("", None)``: no single items list).

        A method pages when it takes a ``pageToken`` (a query parameter, or a string member of
        its request body) and its response has a next-page token (see :func:`next_token_field`);
        the items are the response's only array property besides those that report partial
        failure (``PARTIAL_FAILURE_LISTS``). A response whose items are a map (compute's
        ``aggregatedList``) has no items list.
        """
        if not method.response_ref or not (self.query_token(method) or self.body_token(method)):
            return None
        response = self.document.schema(method.response_ref)
        if not next_token_field(response):
            return None
        lists = [
            (key, prop)
            for key, prop in response.properties
            if key not in PARTIAL_FAILURE_LISTS and prop.type == "array"
        ]
        return lists[0] if len(lists) == 1 else ("", None)

    @staticmethod
    def query_token(method: Method) -> bool:
        """True if ``method`` takes a ``pageToken`` query parameter."""
        token = dict(method.parameters).get("pageToken")
        return token is not None and token.location == "query"

    def body_token(self, method: Method) -> bool:
        """True if ``method`` takes its ``pageToken`` in the request body (a POSTed search)."""
        if not method.request_ref or method.http_method in BODILESS_METHODS or "pageToken" in dict(method.parameters):
            return False
        token = dict(self.document.schema(method.request_ref).properties).get("pageToken")
        return token is not None and token.type == "string" and not token.ref

    def with_paging(self, lowered: MethodIR, method: Method, scope: naming.Scope) -> MethodIR:
        """``lowered`` with its ``_pages``/``_all`` companions named in ``scope``, if it pages."""
        found = self.paging(method)
        if found is None:
            return lowered
        field, schema = found
        token = next_token_field(self.document.schema(method.response_ref))
        stem = lowered.name.rstrip("_")
        pages_name = scope.allocate(f"{stem}_pages")
        lowered = dataclasses.replace(
            lowered,
            next_token_field=token if token != "nextPageToken" else "",
            pages_name=pages_name,
            pages_doc=docs.pages_doc(lowered.name, token, method.response_ref, in_body=not self.query_token(method)),
        )
        if not field or schema is None:
            return lowered
        item_type = ANY if schema.items is None else self.types.type_ref(schema.items, field, qualified=True)
        all_name = scope.allocate(f"{stem}_all")
        return dataclasses.replace(
            lowered,
            all_name=all_name,
            all_doc=docs.all_doc(lowered.name, pages_name, field),
            items_field=field,
            item_type=item_type,
        )

    def with_media(self, lowered: MethodIR, method: Method, scope: naming.Scope) -> MethodIR:
        """``lowered`` with its ``<method>_media`` download sibling named in ``scope``, if it has one."""
        if not method.supports_media_download:
            return lowered
        media_name = scope.allocate(f"{lowered.name.rstrip('_')}_media")
        return dataclasses.replace(lowered, media_name=media_name, media_doc=docs.media_doc(lowered.name))

    def companions(self, lowered: MethodIR, method: Method, scope: naming.Scope) -> MethodIR:
        """``lowered`` with its paging and media companions (named after its siblings and children)."""
        return self.with_media(self.with_paging(lowered, method, scope), method, scope)

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
            self.companions(lowered, method, scope) for lowered, method in zip(methods, resource.methods, strict=True)
        )
        doc = docs.resource_doc(resource.name, deprecated)
        return ResourceIR(attribute, class_name, doc, methods, children, resource.json_path)

    # --- operations -------------------------------------------------------------------
    def operations(
        self, modules: list[ResourceModule]
    ) -> tuple[tuple[OperationsIR, ...], tuple[StatusOperationsIR, ...]]:
        """The operations resources and status operations of the resources in ``modules``, with
        the modules that define their specs."""
        spec_names: dict[str, str] = {}  # json path of a method → its MethodSpec constant
        spec_modules: dict[str, str] = {}  # json path of a method → the module defining its spec
        for module in modules:
            for placed in module.root.walk():
                for method_ir in placed.methods:
                    spec_names[method_ir.source] = method_ir.spec_name
                    spec_modules[method_ir.source] = placed.module

        def spec(method: Method | None) -> str:
            return spec_names[method.json_path] if method is not None else ""

        longrunning = tuple(
            OperationsIR(spec_modules[get.json_path], spec(get), spec(cancel))
            for _, get, cancel in self.operation_resources
        )
        status = tuple(
            StatusOperationsIR(
                schema=kind.ref,
                type_name=self.types.named(kind.ref),
                routes=tuple(
                    StatusRouteIR(
                        spec_modules[get.json_path],
                        spec(get),
                        spec(wait),
                        spec(cancel),
                        get.id,
                        wait.id if wait is not None else "",
                        cancel.id if cancel is not None else "",
                    )
                    for _, get, wait, cancel in kind.routes
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
        return longrunning, status

    def operation_type(self) -> TypeRef:
        """The type of the google.longrunning Operation dicts methods return."""
        refs = sorted({get.response_ref for _, get, _ in self.operation_resources})
        if len(refs) == 1:
            return self.types.named(refs[0])
        return TypeRef.typing("Mapping", TypeRef("str"), ANY)

    # --- the client --------------------------------------------------------------------
    def client(self, module_method_budget: int, module_size_budget: int, schema_chunk_chars: int) -> ClientIR:
        document = self.document
        self.types.lower_named()
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
        # Module file names must differ on case-insensitive file systems too; none is ``_batch``
        # (the package of the sync batch class).
        modules, submodules = layout.split(
            roots,
            naming.Scope(("_batch",), case_insensitive=True),
            # ``_batch``: the sync client module's name for its batch package.
            naming.Scope(("_t", "_rt", "_s", "_aio", "_functools", "_media", "_batch")),
            module_method_budget,
            module_size_budget,
        )
        methods = tuple(
            self.companions(lowered, method, client_scope)
            for lowered, method in zip(methods, document.methods, strict=True)
        )
        longrunning, status = self.operations(modules)
        # Methods may add anonymous schemas (inline requests and responses): sort them all now.
        schemas = self.types.classes()
        return ClientIR(
            package=package_name(document),
            client_class=client_class_name(document),
            async_client_class=client_class_name(document, "AsyncClient"),
            batch_path=document.batch_path,
            batch_class=client_class_name(document, "Batch"),
            async_batch_class=client_class_name(document, "AsyncBatch"),
            api_id=f"{document.name}:{document.version}",
            api_name=document.name,
            api_version=document.version,
            revision=document.revision,
            title=text.docstring(document.title or document.name),
            doc=docs.client_doc(document),
            root_url=document.root_url,
            mtls_root_url=document.mtls_root_url,
            service_path=document.service_path,
            scopes=tuple(scope for scope, _ in document.scopes),
            endpoints=tuple(endpoint.url for endpoint in document.endpoints),
            schemas=schemas,
            modules=tuple(modules),
            methods=methods,
            submodules=tuple(submodules),
            schema_modules=layout.schema_chunks(schemas, schema_chunk_chars),
            schema_names=tuple(self.types.names.items()),
            operations=longrunning,
            operation_type=self.operation_type() if longrunning else None,
            status_operations=status,
            summary=docs.summary(document),
        )


def _repeated(schema: Schema) -> TypeRef:
    """A parameter's type: for a repeated one, a sequence of values or one value (sent as a
    sequence of one, as googleapiclient takes it; ``str`` already is a ``Sequence[str]``)."""
    base = param_type(schema)
    if not schema.repeated:
        return base
    many = TypeRef.typing("Sequence", base)
    if base == TypeRef("str"):
        return many
    one = base.args if base.kind == "typing" and base.name == "Union" else (base,)  # flat: int | str | Sequence[...]
    return TypeRef.typing("Union", *one, many)

"""Which resources re-read long-running operations: google.longrunning ``operations``
resources and operations whose ``status`` reaches ``DONE``.

Read from the document alone (no per-API code); the lowering turns what is found here into
:class:`~codegen.ir.nodes.OperationsIR` and :class:`~codegen.ir.nodes.StatusOperationsIR`,
and ``codegen operations`` (:mod:`codegen.operations_report`) reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from codegen.discovery import Document, Method, Resource
from codegen.ir.constants import PATH_VARIABLE


@dataclass
class StatusKind:
    """What :func:`find_status_operations` found, before spec names exist."""

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


def all_methods(document: Document) -> Iterable[Method]:
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


def is_operation_schema(document: Document, ref: str) -> bool:
    """A google.longrunning.Operation: ``name``, a boolean ``done`` and an ``error``."""
    if not ref:
        return False
    properties = dict(document.schema(ref).properties)
    done = properties.get("done")
    return "name" in properties and "error" in properties and done is not None and done.type == "boolean"


def find_operation_resources(document: Document) -> list[tuple[int, Method, Method | None]]:
    """(top-level resource index, get, cancel) of every ``operations`` resource whose
    ``get`` takes one path parameter and returns an Operation; patterned ones first."""

    def single_name(method: Method | None) -> str | None:
        if method is None:
            return None
        path = [schema for _, schema in method.parameters if schema.location == "path"]
        required = [schema for _, schema in method.parameters if schema.required and schema.location != "path"]
        return path[0].pattern if len(path) == 1 and not required else None

    found: list[tuple[bool, int, int, Method, Method | None]] = []
    for index, top in enumerate(document.resources):
        for resource in _walk(top):
            if resource.name != "operations":
                continue
            by_name = {method.name: method for method in resource.methods}
            get = by_name.get("get")
            pattern = single_name(get)
            if get is None or pattern is None or not is_operation_schema(document, get.response_ref):
                continue
            cancel = by_name.get("cancel")
            found.append((not pattern, len(found), index, get, cancel if single_name(cancel) is not None else None))
    return [(index, get, cancel) for _, _, index, get, cancel in sorted(found, key=lambda item: item[:2])]


def done_value(document: Document, ref: str) -> str | None:
    """The value of ``ref``'s string ``status`` enum that spells DONE (any case), or None."""
    status = dict(document.schema(ref).properties).get("status")
    if status is None or status.type != "string":
        return None
    return next((value for value in status.enum if value.upper() == "DONE"), None)


def find_status_operations(document: Document) -> list[StatusKind]:
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
    for index, top in enumerate(document.resources):
        for resource in _walk(top):
            if not resource.name.lower().endswith("operations"):
                continue
            by_name = {method.name: method for method in resource.methods}
            get = by_name.get("get")
            if get is None or get.http_method != "GET" or not get.response_ref:
                continue
            if done_value(document, get.response_ref) is None:
                continue
            if any(schema.required and schema.location != "path" for _, schema in get.parameters):
                continue
            wait = _sibling(by_name.get("wait"), get, get.response_ref)
            cancel = _sibling(by_name.get("cancel"), get, "")
            found.setdefault(get.response_ref, []).append((index, get, wait, cancel))
    kinds = []
    for ref, routes in found.items():
        routes.sort(key=lambda route: -len(PATH_VARIABLE.sub("", route[1].path)))
        properties = dict(document.schema(ref).properties)
        error = properties.get("error")
        error_schema = document.schema(error.ref) if error is not None and error.ref else error
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
            for method in all_methods(document)
            if method.response_ref == ref and method.json_path not in reread
        )
        kinds.append(
            StatusKind(
                ref,
                routes,
                done_value(document, ref) or "DONE",
                error_shape,
                "httpErrorStatusCode" if http_status is not None and http_status.type == "integer" else "",
                "warnings" if warnings is not None and warnings.type == "array" else "",
                locator,
                unfollowable,
                methods,
            )
        )
    return kinds

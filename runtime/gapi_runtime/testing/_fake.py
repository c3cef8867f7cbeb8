"""The engine of the generated in-memory fakes (``<package>.testing.Fake<Api>``).

A generated fake only lists its API's methods (:class:`FakeMethod`: the client's own
:class:`~gapi_runtime.spec.MethodSpec`, whether the method returns a google.longrunning
Operation, and the items field of a list response). Everything else is decided here, by
rules over that table — no API has code of its own:

* **Routing.** A request's path after the client's endpoint path (``/``, or a gateway's
  ``/looker/``) and the API's service path is matched against every method's path plan
  (the client's): literal parts, ``{var}`` (one segment) and ``{+var}`` (several), the
  values percent-decoded and checked against the parameters' patterns. When several
  methods match, the one with the most literal characters wins.
* **Resource names.** A resource is keyed by its path without the API's version prefix (the
  literal before the first ``{+var}``, e.g. ``v1/``): ``projects/p/locations/l/instances/i``,
  which is its AIP resource name.
* **Standard methods** (AIP-131..135), by method name, HTTP method and the absence of a custom
  verb (``:restart``): ``create`` (POST on the collection; the id from the ``<singular>Id``
  query parameter, else the only ``*Id`` one, else server-assigned; a ``create`` that PUTs to
  ``{+name}`` creates at that name), ``get``, ``list``
  (paged by ``pageSize``/``pageToken``; ``filter`` only through :meth:`FakeApi.set_filter`),
  ``patch`` (``updateMask``, else every field sent; ``allowMissing=true`` creates), ``update``
  (PUT replaces; PATCH as patch), ``delete`` (404 afterwards).
* **Operations.** Methods that return an Operation answer with one; it is done after
  ``polls_to_done`` ``operations.get`` calls, and only then is the change applied and the
  resource (``{}`` for delete) its ``response``. The methods of an ``operations`` resource
  behave as google/longrunning/operations.proto says: get, list, delete, wait, and cancel —
  best effort: an unfinished operation ends with ``error.code == 1`` (CANCELLED) and is not
  deleted; delete forgets an operation without cancelling it (an unfinished one's change is
  applied by :meth:`FakeApi.finish_operations`). Operation names are ``<the longest prefix of
  the resource name that an operations.get pattern accepts>/operations/operation-<n>``.
* **Batches.** A POST to the API's batch path is answered part by part: each part is served
  as a request of its own, and the answers go back as one multipart/mixed body.
* Everything else (custom methods, methods the rules cannot place) answers **501
  UNIMPLEMENTED** until a handler is registered with :meth:`FakeApi.on`.

Errors are Google JSON errors, so clients raise the google-api-core exceptions they raise
against the real service. Faults (:meth:`FakeApi.inject`) answer the next calls of a method
with an error or a dropped connection. Clients wait on the fake's :class:`VirtualClock`.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import http
import itertools
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from gapi_runtime.batch import boundary_of, headers_of, multipart_parts, split_head
from gapi_runtime.client import BaseClient, batch_url
from gapi_runtime.spec import MethodSpec
from gapi_runtime.testing._clock import VirtualClock
from gapi_runtime.testing._scripted import (
    AsyncInMemoryTransport,
    InMemoryTransport,
    RecordedRequest,
    Reply,
    google_error,
)
from gapi_runtime.wire import Response

__all__ = ["AsyncFakeTransport", "FakeApi", "FakeError", "FakeMethod", "FakeRequest", "FakeTransport"]

ClientT = TypeVar("ClientT", bound=BaseClient)
AsyncClientT = TypeVar("AsyncClientT")

#: google.rpc.Code.CANCELLED.
CANCELLED = 1


@dataclass(frozen=True)
class FakeMethod:
    """One row of a generated fake's method table."""

    spec: MethodSpec[Any]
    #: The method returns a google.longrunning Operation.
    operation: bool = False
    #: The wire name of the items list of a paged response ("" when there is none).
    items: str = ""


class FakeError(Exception):
    """Raise it from a handler to answer with a Google JSON error (e.g. ``FakeError(409, "exists")``)."""

    def __init__(self, status: int, message: str, *, rpc_status: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.rpc_status = rpc_status

    def reply(self) -> Reply:
        return Reply(self.status, google_error(self.status, self.message, rpc_status=self.rpc_status))


@dataclass(frozen=True)
class FakeRequest:
    """What a handler registered with :meth:`FakeApi.on` receives."""

    method_id: str
    http_method: str
    #: Path parameters by wire name, percent-decoded (``{"name": "projects/p/..."}``).
    path_params: Mapping[str, str]
    #: Query parameters: every value of each.
    query: Mapping[str, list[str]]
    #: The decoded JSON body (None without one).
    body: Any
    #: The resource name the path designates (without the API's version prefix).
    resource_name: str
    #: The fake, to read or change its state.
    fake: FakeApi[Any, Any]

    def param(self, name: str) -> str | None:
        """The first value of the query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None


#: A registered handler: returns the response JSON (wrapped in an Operation when the method
#: returns one), or a :class:`Reply` to answer exactly that; may raise :class:`FakeError`.
Handler = Callable[[FakeRequest], Any]

# --- routes -----------------------------------------------------------------------------------

_STANDARD = {"get", "list", "create", "patch", "update", "delete"}
_OPERATION_METHODS = {"get", "list", "delete", "cancel", "wait"}


@dataclass(frozen=True)
class _Route:
    """One method's path as regular expressions, compiled when a request first reaches them.

    A fake of a big API has hundreds of routes and a test calls a few: compiling every
    route's expressions up front made constructing a compute fake cost seconds.
    """

    method: FakeMethod
    literal: tuple[int, int]  # literal characters of the path, then of the patterns: more is more specific
    kind: str  # get/list/create/create-at/patch/update/delete, op-get/op-list/op-delete/op-cancel/op-wait, or custom
    verb: str  # the custom verb (``restart`` of ``…:restart``), or ""

    @property
    def spec(self) -> MethodSpec[Any]:
        return self.method.spec

    @property
    def prefix(self) -> str:
        """The literal every matching path starts with (both expressions are anchored on it)."""
        return self.spec.path[0]

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The parameters' patterns inlined: splits ``{+a}/{+b}`` right."""
        try:
            return re.compile(self._source(tight=True))
        except re.error:
            return self.loose

    @functools.cached_property
    def loose(self) -> re.Pattern[str]:
        """Any value: for values the inlined patterns miss (encoded characters)."""
        return re.compile(self._source(tight=False))

    def _source(self, tight: bool) -> str:
        spec = self.spec
        parts = [re.escape(spec.path[0])]
        for index, (param, literal) in enumerate(zip(spec.path_params, spec.path[1:], strict=True)):
            generic = ".+" if param.reserved else "[^/]+"
            inlined = _inline(param.pattern) if tight else None
            parts.append(f"(?P<v{index}>(?:{inlined or generic}))" if tight else f"(?P<v{index}>{generic})")
            parts.append(re.escape(literal))
        return "".join(parts)


def _kind(method: FakeMethod) -> str:
    spec = method.spec
    parts = spec.id.split(".")
    name = parts[-1]
    custom_verb = ":" in spec.path[-1]
    if len(parts) >= 2 and parts[-2] == "operations" and name in _OPERATION_METHODS:
        single = len(spec.path_params) == 1
        if name == "get" and method.operation and single:
            return "op-get"
        if name == "list" and method.items == "operations" and len(spec.path_params) <= 1:
            return "op-list"
        if name in ("delete", "cancel", "wait") and single:
            return f"op-{name}"
        return "custom"
    if custom_verb or name not in _STANDARD:
        return "custom"
    verb = spec.http_method
    if name == "get" and verb == "GET":
        return "get"
    if name == "list" and verb == "GET" and method.items:
        return "list"
    if name == "create" and verb == "POST":
        return "create"
    if name == "create" and verb == "PUT" and spec.path_params and spec.path_params[-1].reserved:
        return "create-at"  # the name is the caller's, in the path (Pub/Sub's topics.create)
    if name == "delete" and verb == "DELETE":
        return "delete"
    if (name == "patch" and verb == "PATCH") or (name == "update" and verb == "PATCH"):
        return "patch"
    if name == "update" and verb == "PUT":
        return "update"
    return "custom"


_CLASS_OR_ESCAPE = re.compile(r"\[(?:\\.|[^\]])*\]|\\.")
_REGEX_SYNTAX = re.compile(r"\[(?:\\.|[^\]])*\]|\\.|[.*+?()|^${}]")


def _inline(pattern: str | None) -> str | None:
    """A parameter's pattern as a part of a bigger regex (None when its anchors forbid that)."""
    if not pattern:
        return None
    body = pattern[1:] if pattern.startswith("^") else pattern
    body = body[:-1] if body.endswith("$") and not body.endswith("\\$") else body
    if re.search(r"[$^]", _CLASS_OR_ESCAPE.sub("_", body)):  # anchors inside (``^a$|^b$``)
        return None
    try:
        re.compile(body)
    except re.error:
        return None
    return body


def _route(method: FakeMethod) -> _Route:
    spec = method.spec
    specific = sum(len(_REGEX_SYNTAX.sub("", param.pattern or "")) for param in spec.path_params)
    rank = (sum(len(part) for part in spec.path), specific)
    return _Route(method, rank, _kind(method), _verb(spec.path[-1]))


def _verb(path: str) -> str:
    """The custom verb at the end of a path: clients percent-encode ``:`` in values, so a literal
    ``:`` in the last segment of a request path is always a custom verb's."""
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def _singular(plural: str) -> str:
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith(("sses", "xes", "ches", "shes")):
        return plural[:-2]
    return plural[:-1] if plural.endswith("s") else plural


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _timestamp(seconds: float) -> str:
    moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Operation:
    name: str
    metadata: dict[str, Any]
    effect: Callable[[], Any]  # applied when done; returns the response (raises FakeError → error)
    release: Callable[[], None]  # frees reservations when the operation ends without its effect
    polls: int = 0
    done: bool = False
    response: Any = None
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"name": self.name, "metadata": copy.deepcopy(self.metadata), "done": self.done}
        if self.done:
            if self.error is not None:
                state["error"] = dict(self.error)
            else:
                state["response"] = copy.deepcopy(self.response)
        return state


@dataclass
class _Call:
    route: _Route
    values: dict[str, str]  # path parameters by wire name, decoded
    key: str
    query: dict[str, list[str]]
    body: Any

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


# --- the fake ---------------------------------------------------------------------------------


class FakeApi(Generic[ClientT, AsyncClientT]):
    """An in-memory fake of one API; generated subclasses (``FakeLooker``) list its methods.

    Args:
        polls_to_done: ``operations.get`` calls after which an operation is done (0: done at once).
        page_size: Items per page of list methods when the request names no ``pageSize``.
        clock: The virtual clock the clients wait on (default: a new one at 0).

    Attributes:
        resources: The stored resources by resource name (inspect or seed them; values are
            the JSON dicts the API returns).
        requests: Every request the fake received (:class:`RecordedRequest` with ``method_id``).
        clock: The :class:`VirtualClock`.
    """

    _CLIENT: ClassVar[type[Any]]
    _ASYNC_CLIENT: ClassVar[type[Any]]

    @staticmethod
    def _method_table() -> tuple[FakeMethod, ...]:
        """The API's methods; generated subclasses override it."""
        return ()

    def __init__(self, *, polls_to_done: int = 2, page_size: int = 50, clock: VirtualClock | None = None) -> None:
        if polls_to_done < 0 or page_size < 1:
            raise ValueError("polls_to_done must be >= 0 and page_size >= 1")
        self.polls_to_done = polls_to_done
        self.page_size = page_size
        self.clock = clock or VirtualClock()
        self.resources: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self._operations: dict[str, _Operation] = {}
        self._pending: set[str] = set()  # names that unfinished creates will take
        self._detached: list[_Operation] = []  # unfinished operations deleted: their work goes on
        self._handlers: dict[str, Handler] = {}
        self._faults: dict[str, deque[Reply]] = {}
        self._filter: Callable[[str, Mapping[str, Any]], bool] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        methods = self._method_table()
        self._routes = sorted((_route(m) for m in methods), key=lambda r: (-r.literal[0], -r.literal[1]))
        self._by_id = {route.spec.id: route for route in self._routes}
        self._prefix = self._version_prefix()
        client = getattr(type(self), "_CLIENT", None)
        self._service_path = str(getattr(client, "_SERVICE_PATH", "")).lstrip("/")
        self._batch_path = str(getattr(client, "_BATCH_PATH", "")).lstrip("/")

    def _version_prefix(self) -> str:
        """The literal most paths have before their first ``{+var}`` (``v1/``), or ""."""
        counts: dict[str, int] = {}
        for route in self._routes:
            spec = route.spec
            if spec.path_params and spec.path_params[0].reserved:
                counts[spec.path[0]] = counts.get(spec.path[0], 0) + 1
        return max(sorted(counts), key=counts.__getitem__) if counts else ""

    # --- clients ------------------------------------------------------------------------------
    def client(self, **options: Any) -> ClientT:
        """The API's generated client, wired to this fake in memory (anonymous credentials).

        ``options`` go to the client's constructor (e.g. ``retry=None``, ``timeout=``).
        """
        from google.auth.credentials import AnonymousCredentials

        options.setdefault("credentials", AnonymousCredentials())
        transport = FakeTransport(self)
        client: ClientT = self._CLIENT(transport=transport, **options)
        transport.root = self._root_of(client.base_url)
        return client

    def async_client(self, **options: Any) -> AsyncClientT:
        """The API's generated async client, wired to this fake in memory."""
        from google.auth.credentials import AnonymousCredentials

        options.setdefault("credentials", AnonymousCredentials())
        transport = AsyncFakeTransport(self)
        client: AsyncClientT = self._ASYNC_CLIENT(transport=transport, **options)
        transport.root = self._root_of(client.base_url)  # type: ignore[attr-defined]
        return client

    def _root_of(self, base_url: str) -> str:
        """The path of a client's endpoint (its base URL without the service path): ``/``, or
        the path of an endpoint that has one (``https://gateway.example.com/looker/``)."""
        return urlsplit(batch_url(base_url, self._service_path, "")).path or "/"

    # --- configuration ------------------------------------------------------------------------
    @property
    def method_ids(self) -> tuple[str, ...]:
        """Every method id of the API, sorted."""
        return tuple(sorted(self._by_id))

    def kind(self, method: str) -> str:
        """How the fake answers ``method``: ``get``, ``list``, ``create``, ``patch``, ``update``,
        ``delete``, ``op-get``/``op-list``/``op-delete``/``op-cancel``/``op-wait``, ``handler``,
        or ``custom`` (501 UNIMPLEMENTED)."""
        method_id = self._method_id(method)
        return "handler" if method_id in self._handlers else self._by_id[method_id].kind

    def _method_id(self, method: str) -> str:
        if method in self._by_id:
            return method
        matches = [method_id for method_id in self._by_id if method_id.endswith("." + method)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            close = [m for m in self._by_id if m.rsplit(".", 1)[-1] == method.rsplit(".", 1)[-1]][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"{type(self).__name__} has no method {method!r}{hint}")
        raise ValueError(f"{method!r} names several methods: {', '.join(sorted(matches))}")

    def on(self, method: str, handler: Handler | None) -> None:
        """Answer ``method`` (its id, or the id without the API name) with ``handler``
        instead of the inferred behaviour; None removes the handler.

        The handler gets a :class:`FakeRequest`. Its return value is the response JSON —
        for a method that returns an Operation, the operation's eventual ``response`` — or a
        :class:`Reply` sent as is; raising :class:`FakeError` answers with that error.
        """
        method_id = self._method_id(method)
        with self._lock:
            if handler is None:
                self._handlers.pop(method_id, None)
            else:
                self._handlers[method_id] = handler

    def inject(self, method: str, *faults: Reply) -> None:
        """Answer the next calls of ``method`` (``"*"``: any method) with ``faults``, in order.

        E.g. ``fake.inject("instances.get", Reply.error(503), Reply.error(429, headers={"retry-after": "2"}),
        Reply.dropped())``. A dropped connection with ``response_started=True`` is handled
        first and its answer lost.
        """
        for fault in faults:
            if not isinstance(fault, Reply):
                raise TypeError(f"inject() takes Reply objects (Reply.error(503), ...), got {type(fault).__name__}")
        method_id = "*" if method == "*" else self._method_id(method)
        with self._lock:
            self._faults.setdefault(method_id, deque()).extend(faults)

    def set_filter(self, predicate: Callable[[str, Mapping[str, Any]], bool] | None) -> None:
        """Evaluate list ``filter`` expressions: ``predicate(filter, item)`` keeps an item.

        Without one, a list request with a non-empty filter answers 400 INVALID_ARGUMENT.
        """
        self._filter = predicate

    # --- state --------------------------------------------------------------------------------
    def seed(self, name: str, resource: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Store a resource under ``name`` (with ``name`` set) and return the stored dict."""
        stored = {**copy.deepcopy(dict(resource or {})), "name": name}
        with self._lock:
            self.resources[name] = stored
        return stored

    @property
    def operations(self) -> dict[str, dict[str, Any]]:
        """Every operation by name, as the JSON ``operations.get`` would return (a copy)."""
        with self._lock:
            return {name: op.to_json() for name, op in self._operations.items()}

    def finish_operations(self) -> None:
        """Finish every unfinished operation now (apply its change), including those deleted
        while unfinished: deleting an operation does not cancel it (operations.proto)."""
        with self._lock:
            for op in [*self._operations.values(), *self._detached]:
                self._finish(op)
            self._detached.clear()

    def fail_operation(self, name: str, code: int, message: str) -> None:
        """End the unfinished operation ``name`` with an ``error`` of google.rpc.Code ``code``
        (its change is not applied). ``code`` is not 0 (OK): a failure needs an error code."""
        if not isinstance(code, int) or isinstance(code, bool) or code == 0:
            raise ValueError(f"fail_operation() needs a google.rpc.Code other than 0 (OK), got {code!r}")
        with self._lock:
            op = self._operations.get(name)
            if op is None:
                raise KeyError(f"no operation named {name!r} (fake.operations lists them)")
            if not op.done:
                op.done = True
                op.error = {"code": code, "message": message}
                op.release()

    # --- serving ------------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None = None,
        *,
        root: str = "/",
    ) -> Response:
        """Answer one HTTP request (what the fake transports call).

        ``root`` is the path of the client's endpoint (``/`` unless the endpoint has a path):
        method paths and the batch path are taken after it.
        """
        if method == "POST" and self._batch_path and urlsplit(url).path == root + self._batch_path:
            with self._lock:
                self.requests.append(
                    RecordedRequest(
                        method, url, {k.lower(): v for k, v in headers.items()}, body, timeout, method_id="batch"
                    )
                )
                return self._batch(url, headers, body, timeout, root)
        return self._serve(method, url, headers, body, timeout, root)

    def _serve(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None, root: str
    ) -> Response:
        recorded = RecordedRequest(method, url, {k.lower(): v for k, v in headers.items()}, body, timeout)
        with self._lock:
            try:
                call = self._match(method, url, body, root)
            except FakeError as exc:
                self.requests.append(recorded)
                return exc.reply().response()
            self.requests.append(
                RecordedRequest(method, url, recorded.headers, body, timeout, method_id=call.route.spec.id)
            )
            fault = self._next_fault(call.route.spec.id)
            if fault is not None and not (fault.exception is not None and _started(fault.exception)):
                return fault.response()
            try:
                answer = self._dispatch(call)
            except FakeError as exc:
                answer = exc.reply()
            if fault is not None:
                return fault.response()  # handled, the answer lost on the way back
            return answer.response()

    def _batch(
        self, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None, root: str
    ) -> Response:
        """Answer a batch POST: each ``application/http`` part is served as a request of its own
        (recorded, routed, faults applied), and the answers go back as one multipart/mixed body,
        ``<response-ID>`` answering the part ``<ID>``. A part whose fault drops the connection
        drops the whole batch POST."""
        content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
        boundary = boundary_of(content_type)
        if boundary is None:
            return (
                FakeError(400, f"a batch request is multipart/mixed with a boundary, not {content_type!r}")
                .reply()
                .response()
            )
        try:
            parts = _batch_requests(boundary, body or b"")
        except ValueError as exc:
            return FakeError(400, f"malformed batch request: {exc}").reply().response()
        shared = {
            name: value for name, value in headers.items() if name.lower() not in ("content-type", "content-length")
        }
        outer = urlsplit(url)
        answer = "batch_" + os.urandom(16).hex()
        out: list[bytes] = []
        for content_id, method, target, part_headers, part_body in parts:
            host = part_headers.get("host") or outer.netloc
            part_url = target if "://" in target else f"{outer.scheme}://{host}{target}"
            response = self._serve(method, part_url, {**shared, **part_headers}, part_body, timeout, root)
            try:
                reason = http.HTTPStatus(response.status).phrase
            except ValueError:
                reason = "Unknown"
            lines = [f"--{answer}", "Content-Type: application/http"]
            if content_id:
                lines.append(f"Content-ID: <response-{content_id}>")
            lines += ["", f"HTTP/1.1 {response.status} {reason}"]
            lines += [
                f"{name}: {value}" for name, value in response.headers.items() if name.lower() != "content-length"
            ]
            lines.append(f"Content-Length: {len(response.data)}")
            out.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.data + b"\r\n")
        out.append(f"--{answer}--\r\n".encode())
        return Response(200, {"content-type": f'multipart/mixed; boundary="{answer}"'}, b"".join(out))

    def _next_fault(self, method_id: str) -> Reply | None:
        for key in (method_id, "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _match(self, method: str, url: str, body: bytes | None, root: str = "/") -> _Call:
        parts = urlsplit(url)
        path = parts.path
        if path.startswith(root + "upload/"):
            raise FakeError(
                501,
                f"{type(self).__name__} does not simulate media uploads ({path}); "
                "test them with gapi_runtime.testing.ScriptedTransport",
            )
        service = root + self._service_path
        if not path.startswith(service):
            raise FakeError(404, f"{path} is not under this API's service path {service}")
        relative = path[len(service) :]
        found: _Call | None = None
        path_matched = False
        verb = _verb(relative)
        for loose in (False, True):
            for route in self._routes:
                if route.verb != verb or not relative.startswith(route.prefix):
                    continue
                matched = (route.loose if loose else route.regex).fullmatch(relative)
                if matched is None:
                    continue
                values = {}
                for index, param in enumerate(route.spec.path_params):
                    value = unquote(matched.group(f"v{index}"))
                    regex = param.regex()
                    if regex is not None and not regex.fullmatch(value):
                        break
                    values[param.name] = value
                else:
                    path_matched = True
                    if route.spec.http_method == method:
                        found = _Call(route, values, "", {}, None)
                        break
            if found is not None:
                break
        if found is None:
            if path_matched:
                raise FakeError(405, f"{method} is not allowed on {relative}", rpc_status="UNIMPLEMENTED")
            raise FakeError(404, f"no method of this API matches {method} {relative}")
        found.key = self._name_of(found.route, found.values)
        found.query = parse_qs(parts.query, keep_blank_values=True)
        if body:
            try:
                found.body = json.loads(body)
            except ValueError:
                raise FakeError(400, "the request body is not JSON") from None
        return found

    def _name_of(self, route: _Route, values: Mapping[str, str]) -> str:
        spec = route.spec
        text = spec.path[0]
        for param, literal in zip(spec.path_params, spec.path[1:], strict=True):
            text += values[param.name] + literal
        if ":" in text.rsplit("/", 1)[-1]:
            text = text.rsplit(":", 1)[0]
        return text[len(self._prefix) :] if self._prefix and text.startswith(self._prefix) else text

    def _dispatch(self, call: _Call) -> Reply:
        spec = call.route.spec
        handler = self._handlers.get(spec.id)
        if handler is not None:
            return self._run_handler(handler, call)
        kind = call.route.kind
        if kind == "custom":
            raise FakeError(
                501,
                f"{spec.id} is not implemented by {type(self).__name__}: register a handler with "
                f"fake.on({spec.id!r}, handler)",
            )
        return getattr(self, "_" + kind.replace("-", "_"))(call)  # type: ignore[no-any-return]

    def _run_handler(self, handler: Handler, call: _Call) -> Reply:
        request = FakeRequest(
            call.route.spec.id, call.route.spec.http_method, dict(call.values), call.query, call.body, call.key, self
        )
        result = handler(request)
        if isinstance(result, Reply):
            return result
        if call.route.method.operation:
            value = copy.deepcopy(result)
            return self._start(call, call.key, call.route.spec.id.rsplit(".", 1)[-1], lambda: value)
        return Reply(json=result if result is not None else {})

    # --- standard methods ---------------------------------------------------------------------
    def _answer(self, call: _Call, target: str, verb: str, effect: Callable[[], Any]) -> Reply:
        if call.route.method.operation:
            return self._start(call, target, verb, effect)
        return Reply(json=effect())

    def _get(self, call: _Call) -> Reply:
        return Reply(json=copy.deepcopy(self._existing(call.key)))

    def _existing(self, name: str) -> dict[str, Any]:
        resource = self.resources.get(name)
        if resource is None:
            raise FakeError(404, f"Resource '{name}' was not found")
        return resource

    def _create(self, call: _Call) -> Reply:
        collection = call.key
        id_param = self._id_param(call.route.spec, collection)
        body = call.body if isinstance(call.body, dict) else {}
        resource_id = call.param(id_param) if id_param else None
        key_field = self._key_field(collection)
        if not resource_id:
            given = body.get(key_field)
            prefix = collection + "/" if key_field == "name" else ""
            if (
                isinstance(given, str)
                and given.startswith(prefix)
                and given[len(prefix) :]
                and "/" not in given[len(prefix) :]
            ):
                resource_id = given[len(prefix) :]
            else:
                resource_id = f"{_singular(collection.rsplit('/', 1)[-1]) or 'resource'}-{next(self._ids)}"
        if "/" in resource_id:
            raise FakeError(400, f"invalid {id_param or 'resource id'} {resource_id!r}: it contains '/'")
        name = f"{collection}/{resource_id}"
        resource = {**copy.deepcopy(body), key_field: name if key_field == "name" else resource_id}
        if call.param("validateOnly") == "true":
            self._refuse_existing(name)
            return self._answer(call, name, "create", lambda: copy.deepcopy(resource))
        return self._insert(call, name, resource)

    def _refuse_existing(self, name: str) -> None:
        if name in self.resources or name in self._pending:
            raise FakeError(409, f"Resource '{name}' already exists")

    def _insert(self, call: _Call, name: str, resource: dict[str, Any]) -> Reply:
        """Store ``resource`` as ``name``, once its operation is done if the method returns one
        (409 if the name is taken, or about to be)."""
        self._refuse_existing(name)

        def create() -> Any:
            self._pending.discard(name)
            if name in self.resources:
                raise FakeError(409, f"Resource '{name}' already exists")
            self.resources[name] = resource
            return copy.deepcopy(resource)

        if call.route.method.operation and self.polls_to_done:
            self._pending.add(name)
        return self._answer(call, name, "create", create)

    def _key_field(self, collection: str) -> str:
        """The member that identifies a resource of ``collection``: ``name``, its resource name,
        where the API's get method addresses it by a resource name (AIP: ``{+name}``,
        Pub/Sub's ``{+topic}``); else ``id``, its last path segment (Drive's ``files/{fileId}``:
        ``name`` is the user's title there)."""
        probe = f"{self._prefix}{collection}/x"
        for route in self._routes:
            if route.kind == "get" and route.spec.path_params and probe.startswith(route.prefix):
                if route.regex.fullmatch(probe):
                    return "name" if route.spec.path_params[-1].reserved else "id"
        return "name"

    def _create_at(self, call: _Call) -> Reply:
        """A create that PUTs the new resource at its own name (no id parameter, no collection)."""
        name = call.key
        return self._insert(
            call, name, {**copy.deepcopy(call.body if isinstance(call.body, dict) else {}), "name": name}
        )

    @staticmethod
    def _id_param(spec: MethodSpec[Any], collection: str) -> str:
        wanted = _singular(collection.rsplit("/", 1)[-1]) + "Id"
        if wanted in spec.query:
            return wanted
        ids = [name for name in spec.query if name.endswith("Id") and name != "requestId"]
        return ids[0] if len(ids) == 1 else ""

    def _list(self, call: _Call) -> Reply:
        prefix = call.key.split("/")
        items = [
            copy.deepcopy(resource)
            for name, resource in sorted(self.resources.items())
            if _child_of(name.split("/"), prefix)
        ]
        return Reply(json=self._page(call, items, call.route.method.items))

    def _page(self, call: _Call, items: list[dict[str, Any]], field_name: str) -> dict[str, Any]:
        expression = call.param("filter")
        if expression:
            if self._filter is None:
                raise FakeError(
                    400, f"{type(self).__name__} cannot evaluate filter {expression!r}: register fake.set_filter(...)"
                )
            items = [item for item in items if self._filter(expression, item)]
        size_text = call.param("pageSize") or call.param("maxResults")
        try:
            size = int(size_text) if size_text else self.page_size
        except ValueError:
            raise FakeError(400, f"invalid pageSize {size_text!r}") from None
        if size <= 0:
            size = self.page_size
        token = call.param("pageToken")
        start = 0
        if token:
            try:
                kind, offset = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
                start = int(offset)
                if kind != call.route.spec.id:
                    raise ValueError(kind)
            except ValueError:
                raise FakeError(400, f"invalid pageToken {token!r}") from None
        page: dict[str, Any] = {field_name: items[start : start + size]}
        if start + size < len(items):
            page["nextPageToken"] = base64.urlsafe_b64encode(f"{call.route.spec.id}:{start + size}".encode()).decode()
        return page

    def _patch(self, call: _Call) -> Reply:
        name = call.key
        if name not in self.resources and call.param("allowMissing") == "true":  # AIP-134: create it
            self.resources[name] = {"name": name}
        mask_text = call.param("updateMask") or call.param("update_mask") or ""
        body = call.body if isinstance(call.body, dict) else {}
        wrapper = _singular(name.split("/")[-2]) if name.count("/") else ""
        if isinstance(body.get(wrapper), dict) and set(body) <= {wrapper, "updateMask"}:
            # An Update<Resource>Request (Pub/Sub's topics.patch): the resource and the mask inside.
            mask_text = str(body.get("updateMask") or mask_text)
            body = body[wrapper]
        return self._change(call, [path.strip() for path in mask_text.split(",") if path.strip()], body)

    def _update(self, call: _Call) -> Reply:
        return self._change(call, ["*"], call.body if isinstance(call.body, dict) else {})  # a PUT replaces it

    def _change(self, call: _Call, mask: list[str], body: dict[str, Any]) -> Reply:
        """Update the resource with the ``body`` fields that ``mask`` names (``*``: replace it;
        none: every field the body has)."""
        name = call.key
        self._existing(name)
        key_field = self._key_field(name.rsplit("/", 1)[0]) if "/" in name else "name"

        def change() -> Any:
            resource = self._existing(name)
            if mask == ["*"]:
                resource.clear()
                resource.update(copy.deepcopy(body))
            else:
                for path in mask or list(body):
                    _apply_path(resource, body, path)
            resource[key_field] = name if key_field == "name" else name.rsplit("/", 1)[-1]
            return copy.deepcopy(resource)

        return self._answer(call, name, "update", change)

    def _delete(self, call: _Call) -> Reply:
        name = call.key
        self._existing(name)

        def delete() -> Any:
            self._existing(name)
            del self.resources[name]
            return {}

        return self._answer(call, name, "delete", delete)

    # --- operations ---------------------------------------------------------------------------
    def _start(self, call: _Call, target: str, verb: str, effect: Callable[[], Any]) -> Reply:
        name = self._operation_name(target)
        metadata = {
            "createTime": _timestamp(self.clock.monotonic()),
            "target": target,
            "verb": verb,
            "requestedCancellation": False,
        }
        op = _Operation(name, metadata, effect, lambda: self._pending.discard(target))
        self._operations[name] = op
        if self.polls_to_done == 0 or not self._has_operations_get():
            self._finish(op)
        return Reply(json=op.to_json())

    def _has_operations_get(self) -> bool:
        return any(route.kind == "op-get" for route in self._routes)

    def _operation_name(self, target: str) -> str:
        operation_id = f"operation-{next(self._ids)}"
        segments = target.split("/")
        getters = [route for route in self._routes if route.kind == "op-get"]
        for cut in range(len(segments), -1, -1):
            prefix = "/".join(segments[:cut])
            candidate = f"{prefix}/operations/{operation_id}" if prefix else f"operations/{operation_id}"
            for route in getters:
                param = route.spec.path_params[0]
                regex = param.regex()
                if regex is None or regex.fullmatch(candidate):
                    if self._name_of(route, {param.name: candidate}) == candidate:
                        return candidate
        return f"operations/{operation_id}"

    def _finish(self, op: _Operation) -> None:
        if op.done:
            return
        op.done = True
        op.metadata["endTime"] = _timestamp(self.clock.monotonic())
        try:
            op.response = op.effect()
        except FakeError as exc:
            op.error = {"code": _rpc_code(exc.status), "message": exc.message}
            op.release()

    def _operation(self, call: _Call) -> _Operation:
        name = call.values[call.route.spec.path_params[0].name]
        op = self._operations.get(name)
        if op is None:
            raise FakeError(404, f"Operation '{name}' was not found")
        return op

    def _op_get(self, call: _Call) -> Reply:
        op = self._operation(call)
        if not op.done:
            op.polls += 1
            if op.polls >= self.polls_to_done:
                self._finish(op)
        return Reply(json=op.to_json())

    def _op_wait(self, call: _Call) -> Reply:
        op = self._operation(call)
        self._finish(op)
        return Reply(json=op.to_json())

    def _op_list(self, call: _Call) -> Reply:
        params = call.route.spec.path_params
        parent = call.values[params[0].name] if params else (call.param("name") or "")
        wanted = f"{parent}/operations/" if parent and parent != "operations" else ""
        items = [op.to_json() for name, op in sorted(self._operations.items()) if name.startswith(wanted)]
        return Reply(json=self._page(call, items, "operations"))

    def _op_delete(self, call: _Call) -> Reply:
        """Forget the operation: the client is no longer interested in it, but an unfinished one
        is not cancelled (operations.proto): its change is applied by :meth:`finish_operations`,
        and until then its name stays taken, as while it was visible."""
        op = self._operation(call)
        del self._operations[op.name]
        if not op.done:
            self._detached.append(op)
        return Reply(json={})

    def _op_cancel(self, call: _Call) -> Reply:
        op = self._operation(call)
        if not op.done:
            op.metadata["requestedCancellation"] = True
            op.done = True
            op.error = {"code": CANCELLED, "message": "Operation was cancelled."}
            op.release()
        return Reply(json={})

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: {len(self.resources)} resources, {len(self._operations)} operations, "
            f"{len(self.requests)} requests>"
        )


def _started(exception: BaseException) -> bool:
    return bool(getattr(exception, "response_started", False))


def _child_of(name: list[str], collection: list[str]) -> bool:
    """True if ``name`` is directly in ``collection`` (``-`` in the collection matches any segment)."""
    if len(name) != len(collection) + 1:
        return False
    return all(want in ("-", got) for want, got in zip(collection, name, strict=False))


def _apply_path(resource: dict[str, Any], body: Mapping[str, Any], path: str) -> None:
    """Copy the field at ``path`` (dotted; snake_case or camelCase) from ``body`` to ``resource``;
    a path absent from ``body`` clears the field, as AIP-134 says."""
    keys = path.split(".")
    source: Any = body
    target: Any = resource
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        if isinstance(source, Mapping) and key not in source and _camel(key) in source:
            key = _camel(key)
        elif isinstance(target, dict) and key not in target and _camel(key) in target:
            key = _camel(key)
        value = source.get(key) if isinstance(source, Mapping) else None
        present = isinstance(source, Mapping) and key in source
        if last:
            if present:
                target[key] = copy.deepcopy(value)
            else:
                target.pop(key, None)
            return
        source = value if present else None
        child = target.get(key)
        if not isinstance(child, dict):
            if not present:
                return
            child = target[key] = {}
        target = child


def _batch_requests(boundary: str, data: bytes) -> list[tuple[str, str, str, dict[str, str], bytes | None]]:
    """The (Content-ID, method, target, headers, body) of each part of a multipart/mixed batch
    request (the format :func:`gapi_runtime.batch.encode_batch` writes); ValueError if malformed."""
    requests: list[tuple[str, str, str, dict[str, str], bytes | None]] = []
    for content_id, payload in multipart_parts(boundary, data, "batch request"):
        request_head, body = split_head(payload)
        request_line, _, header_block = request_head.partition(b"\n")
        fields = request_line.decode("latin-1").split()
        if len(fields) < 2:
            raise ValueError(f"a part does not hold an HTTP request: {request_line[:60]!r}")
        headers = headers_of(header_block)
        length = headers.pop("content-length", "").strip()
        if length.isascii() and length.isdigit():
            body = body[: int(length)]
        requests.append((content_id, fields[0].upper(), fields[1], headers, body or None))
    return requests


def _rpc_code(status: int) -> int:
    return {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 412: 9, 429: 8, 499: 1, 501: 12, 503: 14, 504: 4}.get(status, 2)


# --- transports -------------------------------------------------------------------------------


@dataclass
class _Transport:
    """What the sync and async transports of a fake share: the fake, its clock, being closed."""

    fake: FakeApi[Any, Any]
    closed: bool = field(default=False)
    #: The path of the client's endpoint (``fake.client()`` sets it): ``/``, or the path of an
    #: endpoint that has one.
    root: str = field(default="/")

    @property
    def clock(self) -> VirtualClock:
        return self.fake.clock

    def _answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        return self.fake.handle(method, url, headers, body, timeout, root=self.root)


class FakeTransport(_Transport, InMemoryTransport):
    """The transport of ``fake.client()``: requests go to the fake in memory, no sockets."""


class AsyncFakeTransport(_Transport, AsyncInMemoryTransport):
    """The async transport of ``fake.async_client()``."""

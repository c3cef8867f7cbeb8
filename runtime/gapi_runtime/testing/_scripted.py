"""Scripted transports: queue replies, run the code under test, inspect the requests it made."""

from __future__ import annotations

import json as _json
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from gapi_runtime.errors import ConnectError
from gapi_runtime.testing._clock import VirtualClock
from gapi_runtime.wire import Response

__all__ = [
    "AsyncScriptedTransport",
    "RecordedRequest",
    "Reply",
    "Responder",
    "ScriptExhausted",
    "ScriptedTransport",
    "google_error",
]

#: google.rpc.Code names by the HTTP status Google APIs answer them with (google/rpc/code.proto).
STATUS_NAMES: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_error(status: int, message: str, *, rpc_status: str = "", details: tuple[Any, ...] = ()) -> dict[str, Any]:
    """A Google JSON error body: ``{"error": {"code", "message", "status"[, "details"]}}``.

    ``rpc_status`` defaults to the google.rpc.Code name of ``status`` (404 → ``NOT_FOUND``).
    """
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": rpc_status or STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = list(details)
    return {"error": error}


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a response (status, headers, a JSON value or raw bytes) or an exception.

    ``json`` (any JSON value but None) is encoded as the body with a JSON content type;
    otherwise ``body`` is sent as is. With ``exception`` set, the transport raises it instead
    of answering (e.g. :meth:`dropped`).
    """

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    exception: BaseException | None = None

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "",
        *,
        rpc_status: str = "",
        details: tuple[Any, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An HTTP error in Google's JSON shape, e.g. ``Reply.error(429, headers={"retry-after": "3"})``."""
        text = message or f"{rpc_status or STATUS_NAMES.get(status, 'UNKNOWN')} (scripted)"
        return cls(status, google_error(status, text, rpc_status=rpc_status, details=details), headers=headers or {})

    @classmethod
    def dropped(cls, *, response_started: bool = False) -> Reply:
        """The connection drops: the client sees :class:`~gapi_runtime.errors.ConnectError`.

        ``response_started=False``: before any response byte (the request may not have
        arrived; idempotent calls are retried). True: after part of the response (for a fake:
        the request was handled, its answer lost).
        """
        what = "connection broken while reading the response" if response_started else "connection dropped"
        return cls(exception=ConnectError(f"{what} (injected)", response_started=response_started))

    @classmethod
    def raises(cls, exception: BaseException) -> Reply:
        """Raise ``exception`` from the transport instead of answering."""
        return cls(exception=exception)

    def response(self) -> Response:
        """This reply as a transport :class:`~gapi_runtime.transport.Response` (raises ``exception``)."""
        if self.exception is not None:
            raise self.exception
        headers = {key.lower(): value for key, value in self.headers.items()}
        data = self.body
        if self.json is not None:
            data = _json.dumps(self.json).encode("utf-8")
            headers.setdefault("content-type", "application/json; charset=UTF-8")
        return Response(self.status, headers, data)


@dataclass(frozen=True)
class RecordedRequest:
    """One request a client sent, as the transport received it.

    ``headers`` have lower-case names; ``method_id`` is the API method a fake routed the
    request to ("" for scripted transports).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float | None
    method_id: str = ""

    @property
    def path(self) -> str:
        """The URL path, percent-decoded (``/v1/projects/p/locations/l/instances``)."""
        return unquote(urlsplit(self.url).path)

    @property
    def query(self) -> dict[str, list[str]]:
        """The query parameters: every value of each, decoded (``{"pageSize": ["2"]}``)."""
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        """The first value of the query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def json(self) -> Any:
        """The body decoded from JSON (None without a body); ValueError if it is not JSON."""
        if not self.body:
            return None
        return _json.loads(self.body)

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.url.split('?', 1)[0]}>"


#: Computes a reply from the request (to echo it, or to answer by content).
Responder = Callable[[RecordedRequest], Reply]
Step = Reply | Responder


class ScriptExhausted(AssertionError):
    """The code under test sent a request and the script had no reply left for it."""


_ScriptT = TypeVar("_ScriptT", bound="_Script")


class _Script:
    """What the sync and async scripted transports share: the queue, the record, the clock."""

    def __init__(self, *replies: Step, virtual_time: bool = True) -> None:
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque(replies)
        #: Every request received, in order.
        self.requests: list[RecordedRequest] = []
        self._clock = VirtualClock() if virtual_time else None
        self.closed = False

    @property
    def clock(self) -> VirtualClock:
        """The clients' clock: retries and operation polls wait on it without sleeping.

        AttributeError with ``virtual_time=False``: the clients then wait in real time.
        """
        if self._clock is None:
            raise AttributeError("this scripted transport runs in real time (virtual_time=False): it has no clock")
        return self._clock

    def add(
        self: _ScriptT,
        reply: Step | None = None,
        /,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        exception: BaseException | None = None,
    ) -> _ScriptT:
        """Queue one reply (a :class:`Reply`, a responder, or the fields of a Reply); returns self."""
        step: Step = reply if reply is not None else Reply(status, json, body, dict(headers or {}), exception)
        with self._lock:
            self._steps.append(step)
        return self

    @property
    def pending(self) -> int:
        """How many queued replies have not been used."""
        with self._lock:
            return len(self._steps)

    def assert_done(self) -> None:
        """Raise AssertionError if queued replies were not used."""
        left = self.pending
        if left:
            raise AssertionError(f"{left} scripted repl{'y was' if left == 1 else 'ies were'} never requested")

    def _answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        request = RecordedRequest(method, url, {k.lower(): v for k, v in headers.items()}, body, timeout)
        with self._lock:
            self.requests.append(request)
            if not self._steps:
                raise ScriptExhausted(
                    f"{type(self).__name__}: no reply left for {method} {url.split('?', 1)[0]} "
                    f"(request {len(self.requests)})"
                )
            step = self._steps.popleft()
        reply = step if isinstance(step, Reply) else step(request)
        return reply.response()


class _InMemory:
    """A transport whose answers are computed in memory by ``_answer`` (the scripted
    transports, the fakes' transports)."""

    closed: bool

    def _answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        raise NotImplementedError


class InMemoryTransport(_InMemory):
    """The sync :class:`~gapi_runtime.transport.Transport` over ``_answer``."""

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        return self._answer(method, url, headers, body, timeout)

    def close(self) -> None:
        self.closed = True


class AsyncInMemoryTransport(_InMemory):
    """The :class:`~gapi_runtime.aio.AsyncTransport` over ``_answer``."""

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        return self._answer(method, url, headers, body, timeout)

    async def close(self) -> None:
        self.closed = True


class ScriptedTransport(_Script, InMemoryTransport):
    """A :class:`~gapi_runtime.transport.Transport` that answers from a script, for unit tests.

    The counterpart of googleapiclient's ``HttpMockSequence``, typed::

        transport = ScriptedTransport(Reply.error(503), Reply(json={"name": "x"}))
        client = LookerClient(credentials=AnonymousCredentials(), transport=transport)
        client.projects.locations.instances.get(name=NAME)   # retried after the 503
        assert [r.method for r in transport.requests] == ["GET", "GET"]

    Replies are used in order, one per request; a responder (a callable taking the
    :class:`RecordedRequest`) computes its reply. A request with no reply left raises
    :class:`ScriptExhausted`. Clients wait on its :class:`VirtualClock`, so retry backoff
    costs no time.
    """


class AsyncScriptedTransport(_Script, AsyncInMemoryTransport):
    """The :class:`~gapi_runtime.aio.AsyncTransport` twin of :class:`ScriptedTransport`."""

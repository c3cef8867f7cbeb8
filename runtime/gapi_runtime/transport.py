"""The one small interface between generated clients and HTTP, and its default.

A transport sends one request and returns the status, headers and body bytes. It does not
authenticate, retry or decode: the client does that, so every transport gets the same
behaviour. :class:`Response` also satisfies google-auth's transport response interface, so
credentials refresh through the same transport.

The default :class:`Urllib3Transport` enforces ``timeout`` as a deadline for the whole
exchange (sending, waiting for the status line and headers, reading the body): a server that
stalls, or drips one byte at a time, fails the call within about the timeout. urllib3's own
read timeout bounds each socket read only, so a shared watchdog thread shuts the socket down
when a request's deadline passes.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError

__all__ = ["Response", "Transport", "Urllib3Transport"]


class Response(NamedTuple):
    """What a transport returns. ``headers`` keys are matched case-insensitively by urllib3."""

    status: int
    headers: Mapping[str, str]
    data: bytes


@runtime_checkable
class Transport(Protocol):
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        """Send one request; raise :class:`~gapi_runtime.errors.TransportError` on failure.

        ``timeout`` bounds the whole exchange, in seconds (None: no bound). Failures before
        any response byte arrived must have ``response_started`` False, later ones True.
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


# --- deadlines ---------------------------------------------------------------------------


class _Guard:
    """One request's deadline; the watchdog shuts its socket down when the deadline passes."""

    __slots__ = ("deadline", "done", "fired", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.done = False
        self.fired = False


class _Watchdog:
    """A single daemon thread that enforces the deadlines of all in-flight requests."""

    def __init__(self) -> None:
        # The hot paths take the plain lock (cheaper than the Condition's wrappers); the
        # thread waits on a Condition over the same lock.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Guard]] = []
        self._finished = 0  # guards in the heap that are done (lazily removed)
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")  # when the thread wakes up next (inf: when notified)

    def start(self, guard: _Guard) -> None:
        with self._lock:
            heapq.heappush(self._heap, (guard.deadline, next(self._counter), guard))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gapi-runtime-deadlines", daemon=True)
                self._thread.start()
            elif guard.deadline < self._wake_at:
                # Only an earlier deadline needs the thread: waking it per request costs more
                # than the request's own bookkeeping.
                self._wake_at = guard.deadline
                self._cond.notify()

    def attach(self, guard: _Guard, sock: socket.socket | None) -> None:
        with self._lock:
            guard.sock = sock
            if guard.fired and sock is not None:
                _shutdown(sock)

    def finish(self, guard: _Guard) -> None:
        """Called when the request is over, before its connection goes back to the pool."""
        with self._lock:
            guard.done = True
            guard.sock = None
            if not guard.fired:  # fired guards have left the heap already
                self._finished += 1
            if self._finished > 256 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and (heap[0][2].done or heap[0][0] <= now):
                    _, _, guard = heapq.heappop(heap)
                    if guard.done:
                        self._finished -= 1
                        continue
                    guard.fired = True
                    if guard.sock is not None:
                        _shutdown(guard.sock)
                self._wake_at = heap[0][0] if heap else float("inf")
                self._cond.wait(heap[0][0] - now if heap else None)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_WATCHDOG = _Watchdog()
_local = threading.local()


def _reset_after_fork() -> None:
    """A forked child has no watchdog thread (and maybe a held lock): start afresh."""
    global _WATCHDOG, _local
    _WATCHDOG = _Watchdog()
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _GuardedMixin:
    """Lets the watchdog reach the socket while the response is awaited and read."""

    sock: Any

    def getresponse(self) -> Any:
        guard: _Guard | None = getattr(_local, "guard", None)
        if guard is not None:
            _WATCHDOG.attach(guard, self.sock)
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


# --- the default transport -----------------------------------------------------------------


class Urllib3Transport:
    """The default transport: a thread-safe urllib3 pool with TLS verification always on.

    It follows no redirects and retries nothing itself; the client decides both.

    Args:
        pool_size: Connections kept open per host; use at least the number of threads that
            share the client (more threads still work, but reconnect more often).
        ssl_context: A custom TLS context (e.g. extra CA certificates).
    """

    def __init__(self, *, pool_size: int = 32, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool = urllib3.PoolManager(
            num_pools=8,
            maxsize=pool_size,
            block=False,
            retries=False,
            ssl_context=ssl_context,
            cert_reqs="CERT_REQUIRED",
        )
        self._pool.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }
        self._timeouts: dict[float | None, urllib3.Timeout] = {}

    def _timeout(self, timeout: float | None) -> urllib3.Timeout:
        value = self._timeouts.get(timeout)
        if value is None:
            value = urllib3.Timeout(total=timeout) if timeout is not None else urllib3.Timeout(None)
            if len(self._timeouts) > 64:
                self._timeouts.clear()
            self._timeouts[timeout] = value
        return value

    def _route(self, url: str) -> tuple[HTTPConnectionPool, str] | None:
        """The pool for ``url``'s origin and the request target, or None to let urllib3 parse ``url``.

        ``PoolManager.urlopen`` parses the whole URL in a per-character Python loop before the
        pool parses the target again; ``urlsplit`` is cheap (and cached), which saves ~9% of
        the client CPU of a call (benchmarks/RESULTS.md). URLs with anything unusual (user
        info, IPv6 literals, control characters, a fragment, a bad port) take urllib3's path.
        """
        if not url.isprintable():
            return None
        parts = urlsplit(url)
        netloc = parts.netloc
        prefix = f"{parts.scheme}://{netloc}"
        if not parts.hostname or "@" in netloc or "[" in netloc or not url.startswith(prefix):
            return None
        target = url[len(prefix) :] or "/"
        if "#" in target or target[0] != "/":
            return None
        try:
            port = parts.port
        except ValueError:
            return None
        return self._pool.connection_from_host(parts.hostname, port=port, scheme=parts.scheme), target

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        guard: _Guard | None = None
        if timeout is not None:
            guard = _Guard(time.monotonic() + timeout)
            _WATCHDOG.start(guard)
            _local.guard = guard
        response: Any = None
        try:
            try:
                route = self._route(url)
                response = (route[0].urlopen if route is not None else self._pool.urlopen)(
                    method,
                    route[1] if route is not None else url,
                    body=body,
                    headers=headers,
                    timeout=self._timeout(timeout),
                    retries=False,
                    redirect=False,
                    preload_content=False,
                    release_conn=False,
                    assert_same_host=False,
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _translate(exc, method, url, False, guard, timeout) from exc
            finally:
                _local.guard = None
            try:
                data = response.read()
                if guard is not None and guard.fired:
                    raise RequestTimeout(f"{_target(method, url)}: timed out after {timeout:g} s", url=url)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _translate(exc, method, url, True, guard, timeout) from exc
        except BaseException:
            if guard is not None:
                _WATCHDOG.finish(guard)
            if response is not None:
                response.close()
                response.release_conn()
            raise
        if guard is not None:
            _WATCHDOG.finish(guard)
        response.release_conn()
        return Response(response.status, response.headers, data)

    def close(self) -> None:
        self._pool.clear()


def _target(method: str, url: str) -> str:
    return f"{method} {url.split('?', 1)[0]}"


def _translate(
    exc: BaseException, method: str, url: str, started: bool, guard: _Guard | None, timeout: float | None
) -> TransportError:
    """Map a urllib3 or socket failure to this runtime's documented exception types."""
    target = _target(method, url)
    reason: BaseException = exc
    while isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    detail = str(reason)
    if isinstance(reason, urllib3.exceptions.ProtocolError) and reason.args and isinstance(reason.args[0], str):
        detail = reason.args[0]  # not the tuple repr of (message, cause)
        cause = reason.args[1] if len(reason.args) > 1 else None
        if isinstance(cause, BaseException) and type(cause).__name__ not in detail:
            detail = f"{detail.rstrip('.')}: {type(cause).__name__}: {cause}".rstrip(": ")
    if "?" in url:
        detail = detail.replace(url.split("?", 1)[1], "…")
    timed_out = isinstance(
        reason, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError, socket.timeout)
    ) and not isinstance(reason, urllib3.exceptions.NewConnectionError)
    if timed_out or (guard is not None and guard.fired):
        return RequestTimeout(f"{target}: timed out after {timeout:g} s", url=url, response_started=started)
    if isinstance(reason, (urllib3.exceptions.SSLError, ssl.SSLError)):
        return TLSError(f"{target}: TLS failure ({detail})", url=url, response_started=started)
    if isinstance(reason, urllib3.exceptions.DecodeError):
        return ResponseDecodeError(f"{target}: undecodable response body ({detail})", url=url, response_started=True)
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return ConnectError(f"{target}: cannot connect ({_os_reason(reason)})", url=url, response_started=False)
    if isinstance(reason, (urllib3.exceptions.ProtocolError, OSError)):
        what = "connection broken while reading the response" if started else "connection failed"
        return ConnectError(f"{target}: {what} ({detail})", url=url, response_started=started)
    return TransportError(f"{target}: {type(reason).__name__} ({detail})", url=url, response_started=started)


def _os_reason(exc: BaseException) -> str:
    """The innermost OS-level cause, e.g. ``[Errno 111] Connection refused``."""
    seen: BaseException | None = exc
    best = str(exc)
    while seen is not None:
        if isinstance(seen, OSError) and not isinstance(seen, urllib3.exceptions.HTTPError):
            best = str(seen)
        seen = seen.__cause__ or seen.__context__
    return best.split(": ", 1)[-1] if best.startswith("<") else best

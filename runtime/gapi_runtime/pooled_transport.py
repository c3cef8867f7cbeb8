"""The default transport: kept-alive ``http.client`` connections in a thread-safe pool.

Measured against urllib3 on the same loopback request (benchmarks/RESULTS.md), the standard
library's connection costs about half the CPU per request: urllib3's PoolManager and
connection-pool layers, header dictionaries and response wrappers are most of a call's client
time. This transport keeps what those layers give and nothing else:

- **TLS verification** always on (``ssl.create_default_context()`` or the caller's context,
  hostname checked), for every connection;
- **pooling across threads**: idle connections per origin under one lock, at most
  ``pool_size`` kept; more threads than that still work and open extra connections;
- **stale connections**: an idle connection the server has closed (readable before we
  sent anything) is dropped before use; a request whose reused connection fails while it is
  written, or (idempotent methods only) is closed cleanly before any byte of the answer, is
  sent once more on a fresh connection;
- **deadlines**: ``timeout`` bounds the whole exchange through the same watchdog as
  :class:`~gapi_runtime.transport.Urllib3Transport`;
- **content encoding**: gzip and deflate bodies are decoded, as urllib3 does;
- the same :class:`~gapi_runtime.errors.TransportError` types and messages.

Proxies and client certificates (mTLS) are not handled here: a client configured with either
uses :class:`~gapi_runtime.transport.Urllib3Transport`.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from gapi_runtime import transport as _deadlines
from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.transport import Response, _Guard, _target

__all__ = ["PooledTransport"]

_Origin = tuple[str, str, int]  # (scheme, host, port)
_DEAD = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class _Headers(Mapping[str, str]):
    """Response headers matched case-insensitively; repeated fields joined with ``", "`` (as urllib3)."""

    __slots__ = ("_items", "_lower")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        lower: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            lower[key] = f"{lower[key]}, {value}" if key in lower else value
        self._lower = lower

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._lower.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Any:
        return iter({name: None for name, _ in self._items})

    def __len__(self) -> int:
        return len(self._lower)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._lower)!r})"


class PooledTransport:
    """The default transport: pooled, kept-alive ``http.client`` connections; TLS verification always on.

    It follows no redirects and retries nothing itself, except a request whose reused
    connection the server had already closed (see the module docstring); the client's retry
    policy decides the rest.

    Args:
        pool_size: Idle connections kept per origin; use at least the number of threads that
            share the client (more threads still work, but reconnect more often).
        ssl_context: A custom TLS context (e.g. extra CA certificates). Certificates and host
            names are verified whatever the context says.
    """

    def __init__(self, *, pool_size: int = 32, ssl_context: ssl.SSLContext | None = None) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self._pool_size = pool_size
        context = ssl_context if ssl_context is not None else ssl.create_default_context()
        # Verification is not optional (as in Urllib3Transport): a context that skips it is made to verify.
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
        self._context = context
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._origins: dict[str, tuple[_Origin, str] | None] = {}  # URL prefix → (origin, prefix)
        self._closed = False

    # --- connections ------------------------------------------------------------------------

    def _origin(self, url: str) -> tuple[_Origin, str]:
        """The origin of ``url`` and the request target, or ValueError for a URL this cannot send."""
        scheme, rest = url.split("://", 1) if "://" in url else ("", url)
        authority = rest.split("/", 1)[0]
        key = f"{scheme}://{authority}"
        cached = self._origins.get(key)
        if cached is None:
            cached = self._parse_origin(key, scheme, authority)
            if len(self._origins) > 256:
                self._origins.clear()
            self._origins[key] = cached
        if cached is None:
            raise ValueError(f"not an http(s) URL this transport can send: {url.split('?', 1)[0]!r}")
        target = url[len(key) :] or "/"
        if target[0] != "/" or "#" in target or not target.isprintable() or " " in target:
            raise ValueError(f"invalid request target in {url.split('?', 1)[0]!r}")
        return cached[0], target

    @staticmethod
    def _parse_origin(key: str, scheme: str, authority: str) -> tuple[_Origin, str] | None:
        if scheme not in ("http", "https") or not authority or "@" in authority or not authority.isprintable():
            return None
        try:
            parts = urlsplit(key)
            host, port = parts.hostname, parts.port
        except ValueError:
            return None
        if not host:
            return None
        return (scheme, host, port or (443 if scheme == "https" else 80)), key

    def _checkout(self, origin: _Origin) -> http.client.HTTPConnection:
        """An idle live connection to ``origin``, else a new unconnected one."""
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if _alive(connection):
                    return connection
                connection.close()
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, context=self._context)
        return http.client.HTTPConnection(host, port)

    def _checkin(self, origin: _Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if not self._closed and len(idle) < self._pool_size:
                idle.append(connection)
                return
        connection.close()

    # --- requests -----------------------------------------------------------------------------

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        try:
            origin, target = self._origin(url)
        except ValueError as exc:
            raise TransportError(f"{_target(method, url)}: {exc}", url=url, response_started=False) from None
        guard: _Guard | None = None
        if timeout is not None:
            guard = _Guard(time.monotonic() + timeout)
            _deadlines._WATCHDOG.start(guard)
        try:
            while True:  # bounded: each pass takes an idle connection, and a fresh one never retries
                connection = self._checkout(origin)
                try:
                    status, response_headers, data = self._exchange(
                        connection, method, target, headers, body, guard, timeout
                    )
                except _Retry:
                    continue
                except _Failure as failure:
                    raise _translate(failure, method, url, guard, timeout) from failure.cause
                if connection.sock is not None:
                    self._checkin(origin, connection)
                break
        finally:
            if guard is not None:
                _deadlines._WATCHDOG.finish(guard)
        encoding = response_headers.get("content-encoding")
        if encoding:
            data = _decode(data, encoding, method, url)
        return Response(status, response_headers, data)

    @staticmethod
    def _exchange(
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        guard: _Guard | None,
        timeout: float | None,
    ) -> tuple[int, _Headers, bytes]:
        """One request and its whole answer on ``connection``, which is closed on any failure."""
        stage = "connect"
        reused = connection.sock is not None
        try:
            if connection.sock is None:
                connection.timeout = timeout  # bounds the connect (and TLS handshake)
                connection.connect()
                # Then blocking: the watchdog enforces the deadline by shutting the socket down.
                # A socket timeout would make CPython poll() before every send and recv.
                connection.sock.settimeout(None)
            if guard is not None:
                _deadlines._WATCHDOG.attach(guard, connection.sock)
            stage = "send"
            connection.request(method, target, body, headers)
            stage = "wait"
            response = connection.getresponse()
            stage = "read"
            data = response.read()
            if guard is not None and guard.fired:
                raise TimeoutError("deadline passed")
        except BaseException as exc:
            connection.close()
            if not isinstance(exc, Exception):
                raise
            if reused and _closed_while_idle(stage, exc, method) and not (guard is not None and guard.fired):
                raise _Retry from exc
            raise _Failure(exc, started=stage == "read", connecting=stage == "connect") from exc
        if response.will_close:
            connection.close()
        return response.status, _Headers(response.getheaders()), data

    def close(self) -> None:
        """Close the idle connections; the transport stays usable (new connections are opened)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Retry(Exception):
    """The reused connection was dead before the answer began: send once more on a fresh one."""


class _Failure(Exception):
    """A failure during one exchange, with where it happened."""

    def __init__(self, cause: BaseException, *, started: bool, connecting: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.started = started
        self.connecting = connecting


def _closed_while_idle(stage: str, exc: Exception, method: str) -> bool:
    """Whether a reused connection failed the way one the server closed while idle fails.

    Writing the request failed (so the server did not get it), or an idempotent request got
    a clean close without a byte of answer (a server closing idle connections races with our
    send). A reset after the request went out, or any failure of a POST or PATCH once sent,
    is not retried here: the server may have acted, and the client's retry policy decides.
    """
    if stage == "send":
        return isinstance(exc, _DEAD)
    return stage == "wait" and isinstance(exc, http.client.RemoteDisconnected) and method in _IDEMPOTENT


def _alive(connection: http.client.HTTPConnection) -> bool:
    """False if the idle connection's socket is closed or readable (the server hung up, or sent junk)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _decode(data: bytes, encoding: str, method: str, url: str) -> bytes:
    kind = encoding.strip().lower()
    try:
        if kind in ("gzip", "x-gzip"):
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if kind == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:
                return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    except zlib.error as exc:
        raise ResponseDecodeError(
            f"{_target(method, url)}: undecodable response body ({kind}: {exc})", url=url, response_started=True
        ) from None
    return data  # identity, or an encoding we did not ask for: leave the bytes as they are


def _translate(
    failure: _Failure, method: str, url: str, guard: _Guard | None, timeout: float | None
) -> TransportError:
    """Map a socket, TLS or http.client failure to this runtime's documented exception types."""
    target = _target(method, url)
    started, connecting, reason = failure.started, failure.connecting, failure.cause
    detail = str(reason) or type(reason).__name__
    if "?" in url:
        detail = detail.replace(url.split("?", 1)[1], "…")
    if isinstance(reason, TimeoutError) or (guard is not None and guard.fired):
        return RequestTimeout(f"{target}: timed out after {timeout:g} s", url=url, response_started=started)
    if isinstance(reason, ssl.SSLError):
        return TLSError(f"{target}: TLS failure ({detail})", url=url, response_started=started)
    if connecting and isinstance(reason, OSError):
        return ConnectError(f"{target}: cannot connect ({detail})", url=url, response_started=False)
    if isinstance(reason, http.client.IncompleteRead):
        detail = f"IncompleteRead({len(reason.partial)} bytes read, {reason.expected} more expected)"
        return ConnectError(
            f"{target}: connection broken while reading the response ({detail})", url=url, response_started=True
        )
    if isinstance(reason, (http.client.HTTPException, OSError)):
        what = "connection broken while reading the response" if started else "connection failed"
        return ConnectError(f"{target}: {what} ({type(reason).__name__}: {detail})", url=url, response_started=started)
    return TransportError(f"{target}: {type(reason).__name__} ({detail})", url=url, response_started=started)

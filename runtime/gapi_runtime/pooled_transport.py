"""The default transport: kept-alive HTTP/1.1 connections in a thread-safe pool.

Measured on the same loopback request (benchmarks/RESULTS.md), most of a call's client CPU
used to be the HTTP library's own per-request work: urllib3's pool-manager layers, and in
``http.client`` a header-by-header request writer and an ``email``-package response parser.
This transport speaks the small part of HTTP/1.1 a JSON API client needs directly on the
socket — one buffered write per request, a line parser for the status and headers,
``Content-Length``, chunked and close-delimited bodies — and keeps what those libraries give:

- **TLS verification** always on (``ssl.create_default_context()`` or the caller's context,
  forced to verify certificates and host names) for every connection;
- **pooling across threads**: idle connections per origin under one lock, at most
  ``pool_size`` kept; more threads than that still work and open extra connections;
- **stale connections**: an idle connection the server has closed (readable before we
  sent anything) is dropped before use; a request whose reused connection fails while it is
  written, or (idempotent methods only) is closed before any byte of the answer, is sent
  once more on a fresh connection;
- **deadlines**: ``timeout`` bounds the connect and then the whole exchange, through the same
  watchdog as :class:`~gapi_runtime.transport.Urllib3Transport` (sockets stay blocking: a
  socket timeout would make CPython poll before every send and receive);
- **safety**: header names must be tokens and values may not contain CR, LF or NUL; request
  targets may not contain spaces or control characters; status lines, header counts and line
  lengths are checked (100 headers, 64 KiB a line);
- **content encoding**: gzip and deflate bodies are decoded, as urllib3 does;
- the same :class:`~gapi_runtime.errors.TransportError` types and messages.

Proxies and client certificates (mTLS) are not handled here: a client configured with either
uses :class:`~gapi_runtime.transport.Urllib3Transport`.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.wire import _WATCHDOG, Response, _Guard, _target

__all__ = ["PooledTransport"]

_Origin = tuple[str, str, int]  # (scheme, host, port)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})  # an empty body still gets Content-Length: 0
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [^\r\n]*)?\r?\n")
_MAX_LINE = 65536
_MAX_HEADERS = 100
_SEPARATE_BODY = 64 * 1024  # larger bodies are sent after the head instead of copied onto it


class _Headers(Mapping[str, str]):
    """Response headers matched case-insensitively; repeated fields joined with ``", "`` (as urllib3)."""

    __slots__ = ("_lower", "_names")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        lower: dict[str, str] = {}
        names: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            if key in lower:
                lower[key] = f"{lower[key]}, {value}"
            else:
                lower[key] = value
                names[key] = name
        self._lower = lower
        self._names = names

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._lower.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._lower)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._lower)!r})"


class _Connection:
    """One kept-alive connection: its socket and a buffered reader over it."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def alive(self) -> bool:
        """False if the idle socket is readable: the server hung up (or sent what nobody asked for)."""
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


class PooledTransport:
    """The default transport: pooled, kept-alive HTTP/1.1 connections; TLS verification always on.

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
        if ssl_context is not None:
            # Verification is not optional (as in Urllib3Transport): a context that skips it is made to verify.
            ssl_context.verify_mode = ssl.CERT_REQUIRED
            ssl_context.check_hostname = True
        self._context = ssl_context  # the default one is made at the first https connection (CA loading costs)
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._origins: dict[str, tuple[_Origin, str] | None] = {}  # "scheme://authority" → (origin, Host)
        self._lines: dict[tuple[str, str], str] = {}  # validated header → its request line

    # --- connections ------------------------------------------------------------------------

    def _origin(self, url: str) -> tuple[_Origin, str, str]:
        """``url``'s origin, Host header and request target; ValueError for a URL this cannot send."""
        scheme, _, rest = url.partition("://")
        authority = rest.split("/", 1)[0]
        key = f"{scheme}://{authority}"
        cached = self._origins.get(key)
        if cached is None:
            cached = _parse_origin(key, scheme, authority)
            if len(self._origins) > 256:
                self._origins.clear()
            self._origins[key] = cached
        if cached is None:
            raise ValueError(f"not an http(s) URL this transport can send: {url.split('?', 1)[0]!r}")
        target = url[len(key) :] or "/"
        if target[0] != "/" or "#" in target or _BAD_TARGET.search(target):
            raise ValueError(f"invalid request target in {url.split('?', 1)[0]!r}")
        return cached[0], cached[1], target

    def _checkout(self, origin: _Origin) -> _Connection | None:
        """An idle live connection to ``origin``, or None."""
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if connection.alive():
                    return connection
                connection.close()
        return None

    def _checkin(self, origin: _Origin, connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._pool_size:
                idle.append(connection)
                return
        connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        context = self._context
        if context is None:
            with self._lock:
                if self._context is None:
                    self._context = ssl.create_default_context()
                context = self._context
        return context

    def _connect(self, origin: _Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        sock = socket.create_connection((host, port), timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._tls_context().wrap_socket(sock, server_hostname=host)
            # Blocking from here on: the watchdog enforces the deadline (see the module docstring).
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    # --- requests -----------------------------------------------------------------------------

    def _head(self, method: str, host: str, target: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        """The request line and headers, validated, as bytes."""
        if not _TOKEN.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method[:40]!r}")
        lines = [f"{method} {target} HTTP/1.1"]
        known = self._lines
        has_host = has_length = False
        for name, value in headers.items():
            line = known.get((name, value))
            if line is None:
                if not _TOKEN.fullmatch(name):
                    raise ValueError(f"invalid header name {name[:40]!r}")
                if _BAD_VALUE.search(value):
                    raise ValueError(f"invalid value for header {name!r}: it contains CR, LF or NUL")
                line = f"{name}: {value}"
                if len(known) > 1024:
                    known.clear()
                known[(name, value)] = line
            lowered = name.lower()
            has_host = has_host or lowered == "host"
            has_length = has_length or lowered == "content-length"
            lines.append(line)
        if not has_host:
            lines.insert(1, f"Host: {host}")
        if not has_length and (body or method in _BODY_EXPECTED):
            lines.append(f"Content-Length: {len(body) if body else 0}")
        lines.append("\r\n")
        try:
            return "\r\n".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError("a header value has characters outside ISO-8859-1") from None

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        try:
            origin, host, target = self._origin(url)
            head = self._head(method, host, target, headers, body)
        except ValueError as exc:
            raise TransportError(f"{_target(method, url)}: {exc}", url=url, response_started=False) from None
        guard: _Guard | None = None
        if timeout is not None:
            guard = _Guard(time.monotonic() + timeout)
            _WATCHDOG.start(guard)
        try:
            while True:  # bounded: each pass takes an idle connection, and a fresh one never retries
                connection = self._checkout(origin)
                try:
                    if connection is None:
                        connection = self._connect_guarded(origin, timeout)
                        reused = False
                    else:
                        reused = True
                    if guard is not None:
                        _WATCHDOG.attach(guard, connection.sock)
                    status, items, data, keep_alive = _exchange(connection, method, head, body, guard, reused)
                except _Retry:
                    continue
                except _Failure as failure:
                    raise _translate(failure, method, url, guard, timeout) from failure.cause
                if keep_alive:
                    self._checkin(origin, connection)
                else:
                    connection.close()
                break
        finally:
            if guard is not None:
                _WATCHDOG.finish(guard)
        response_headers = _Headers(items)
        encoding = response_headers.get("content-encoding")
        if encoding:
            data = _decode(data, encoding, method, url)
        return Response(status, response_headers, data)

    def _connect_guarded(self, origin: _Origin, timeout: float | None) -> _Connection:
        try:
            return self._connect(origin, timeout)
        except Exception as exc:
            raise _Failure(exc, started=False, connecting=True) from exc

    def close(self) -> None:
        """Close the idle connections; the transport stays usable (new connections are opened)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


def _parse_origin(key: str, scheme: str, authority: str) -> tuple[_Origin, str] | None:
    """(origin, Host header) of ``scheme://authority``, or None for what this transport does not send."""
    if scheme not in ("http", "https") or not authority or "@" in authority or _BAD_TARGET.search(authority):
        return None
    try:
        parts = urlsplit(key)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return (scheme, host, port or default), (shown if port in (None, default) else f"{shown}:{port}")


# --- one exchange -------------------------------------------------------------------------


class _Retry(Exception):
    """The reused connection was dead before the answer began: send once more on a fresh one."""


class _Failure(Exception):
    """A failure during one exchange, with where it happened."""

    def __init__(self, cause: BaseException, *, started: bool, connecting: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.started = started
        self.connecting = connecting


class _Closed(ConnectionError):
    """The server closed the connection before a byte of the answer."""

    def __init__(self) -> None:
        super().__init__("the server closed the connection without answering")


class _Incomplete(ConnectionError):
    """The connection ended inside the answer."""

    def __init__(self, read: int, expected: int | None) -> None:
        more = f", {expected - read} more expected" if expected is not None else ""
        super().__init__(f"IncompleteRead({read} bytes read{more})")


class _BadResponse(ValueError):
    """The answer is not HTTP/1.x as this transport reads it."""


def _exchange(
    connection: _Connection, method: str, head: bytes, body: bytes | None, guard: _Guard | None, reused: bool
) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    """Send one request and read its whole answer: (status, headers, body, keep-alive).

    ``connection`` is closed on any failure.
    """
    stage = "send"
    try:
        sock = connection.sock
        if body and len(body) <= _SEPARATE_BODY:
            sock.sendall(head + body)
        else:
            sock.sendall(head)
            if body:
                sock.sendall(body)
        stage = "wait"
        status, version, items = _read_head(connection.reader)
        stage = "read"
        data, keep_alive = _read_body(connection.reader, method, status, version, items)
        if guard is not None and guard.fired:
            raise TimeoutError("deadline passed")
    except BaseException as exc:
        connection.close()
        if not isinstance(exc, Exception):
            raise
        if reused and _closed_while_idle(stage, exc, method) and not (guard is not None and guard.fired):
            raise _Retry from exc
        raise _Failure(exc, started=stage == "read") from exc
    return status, items, data, keep_alive


def _closed_while_idle(stage: str, exc: Exception, method: str) -> bool:
    """Whether a reused connection failed the way one the server closed while idle fails.

    Writing the request failed (so the server did not get it), or an idempotent request got
    a close without a byte of answer (a server closing idle connections races with our send).
    A failure of a POST or PATCH once sent is not retried here: the server may have acted,
    and the client's retry policy decides.
    """
    if stage == "send":
        return isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError))
    return stage == "wait" and isinstance(exc, _Closed) and method in _IDEMPOTENT


def _readline(reader: Any) -> bytes:
    line: bytes = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise _BadResponse(f"a response line longer than {_MAX_LINE} bytes")
    return line


def _read_head(reader: Any) -> tuple[int, int, list[tuple[str, str]]]:
    """The status, the minor HTTP version and the headers; interim (1xx) answers are skipped."""
    first = True
    while True:
        line = _readline(reader)
        if not line:
            if first:
                raise _Closed
            raise _Incomplete(0, None)
        first = False
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise _BadResponse(f"invalid status line {line[:60]!r}")
        status = int(match.group(2))
        items = _read_headers(reader)
        if 100 <= status < 200 and status != 101:
            continue
        return status, int(match.group(1)), items


def _read_headers(reader: Any) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    while True:
        line = _readline(reader)
        if line in (b"\r\n", b"\n"):
            return items
        if not line:
            raise _Incomplete(0, None)
        if len(items) >= _MAX_HEADERS:
            raise _BadResponse(f"more than {_MAX_HEADERS} headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            raise _BadResponse(f"invalid header line {line[:60]!r}")
        if text[0] in " \t":  # an obsolete folded continuation of the previous header
            if not items:
                raise _BadResponse("a folded header line without a header")
            name, value = items[-1]
            items[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise _BadResponse(f"invalid header line {line[:60]!r}")
        items.append((name, value.strip(" \t")))


def _read_body(reader: Any, method: str, status: int, version: int, items: list[tuple[str, str]]) -> tuple[bytes, bool]:
    """The body (by chunks, Content-Length, or up to the close) and whether the connection stays open."""
    connection = transfer = length = None
    for name, value in items:
        lowered = name.lower()
        if lowered == "connection":
            connection = f"{connection},{value}".lower() if connection else value.lower()
        elif lowered == "transfer-encoding":
            transfer = value.lower()
        elif lowered == "content-length":
            if length is not None and length != value.strip():
                raise _BadResponse("conflicting Content-Length headers")
            length = value.strip()
    tokens = {token.strip() for token in connection.split(",")} if connection else set()
    keep_alive = "close" not in tokens if version == 1 else "keep-alive" in tokens
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", keep_alive
    if transfer is not None:
        if transfer.rsplit(",", 1)[-1].strip() != "chunked":
            return reader.read(), False  # another coding last: the body ends with the connection
        return _read_chunked(reader), keep_alive
    if length is not None:
        if not length.isdigit() or not length.isascii():
            raise _BadResponse(f"invalid Content-Length {length[:30]!r}")
        expected = int(length)
        data: bytes = reader.read(expected)
        if len(data) < expected:
            raise _Incomplete(len(data), expected)
        return data, keep_alive
    return reader.read(), False


def _read_chunked(reader: Any) -> bytes:
    chunks: list[bytes] = []
    read = 0
    while True:
        line = _readline(reader)
        if not line:
            raise _Incomplete(read, None)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadResponse(f"invalid chunk size {size_text[:20]!r}") from None
        if size < 0:
            raise _BadResponse(f"invalid chunk size {size_text[:20]!r}")
        if size == 0:
            break
        chunk: bytes = reader.read(size)
        if len(chunk) < size:
            raise _Incomplete(read + len(chunk), None)
        chunks.append(chunk)
        read += size
        if _readline(reader) not in (b"\r\n", b"\n"):
            raise _BadResponse("a chunk not followed by CRLF")
    while True:  # trailers, ignored
        line = _readline(reader)
        if line in (b"\r\n", b"\n", b""):
            return b"".join(chunks)


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
    return data  # identity, or an encoding we did not ask for: the bytes as they are


def _translate(failure: _Failure, method: str, url: str, guard: _Guard | None, timeout: float | None) -> TransportError:
    """Map a socket, TLS or protocol failure to this runtime's documented exception types."""
    target = _target(method, url)
    started, reason = failure.started, failure.cause
    detail = str(reason) or type(reason).__name__
    if "?" in url:
        detail = detail.replace(url.split("?", 1)[1], "…")
    if isinstance(reason, TimeoutError) or (guard is not None and guard.fired):
        return RequestTimeout(f"{target}: timed out after {timeout:g} s", url=url, response_started=started)
    if isinstance(reason, ssl.SSLError):
        return TLSError(f"{target}: TLS failure ({detail})", url=url, response_started=started)
    if failure.connecting:
        return ConnectError(f"{target}: cannot connect ({detail})", url=url, response_started=False)
    if isinstance(reason, _BadResponse):
        return ConnectError(f"{target}: invalid HTTP response ({detail})", url=url, response_started=True)
    if isinstance(reason, _Incomplete):
        return ConnectError(
            f"{target}: connection broken while reading the response ({detail})", url=url, response_started=True
        )
    what = "connection broken while reading the response" if started else "connection failed"
    return ConnectError(f"{target}: {what} ({type(reason).__name__}: {detail})", url=url, response_started=started)

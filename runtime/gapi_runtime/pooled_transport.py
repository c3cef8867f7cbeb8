"""The default transport: kept-alive HTTP/1.1 connections in a thread-safe pool.

Measured on the same loopback request (benchmarks/RESULTS.md), most of a call's client CPU
used to be the HTTP library's own per-request work: urllib3's pool-manager layers, and in
``http.client`` a header-by-header request writer and an ``email``-package response parser.
This transport writes each request in one buffered send and reads the answer with the small
HTTP/1.1 parser of :mod:`gapi_runtime.http11`, and keeps what those libraries give:

- **TLS verification** always on (``ssl.create_default_context()``, made at the first https
  connection, or the caller's context, forced to verify certificates and host names);
- **pooling across threads**: idle connections per origin under one lock, at most
  ``pool_size`` kept; more threads than that still work and open extra connections;
- **stale connections**: an idle connection the server has closed (readable before we
  sent anything) is dropped before use, and one left with bytes past its answer (a server
  that sent more than it said) is closed instead of kept; a request whose reused connection
  fails while it is written, or is closed before any byte of the answer (idempotent
  methods; for a reset instead of a FIN, only those without a body: see
  :func:`~gapi_runtime.http11.closed_while_idle`), is sent once more on a fresh connection,
  except a resumable upload's chunk (its ``Content-Range``: the server may keep part of it);
- **deadlines**: ``timeout`` bounds the connect and then the whole exchange, through the same
  watchdog as :class:`~gapi_runtime.transport.Urllib3Transport` (sockets stay blocking: a
  socket timeout would make CPython poll before every send and receive);
- the checks, decoding and error types of :mod:`gapi_runtime.http11`;
- **streaming** (:meth:`PooledTransport.stream`, for media): a
  :class:`~gapi_runtime.wire.StreamBody` is sent block by block (read again from its start
  when a stale connection makes the request go out once more), and an answer's body can go
  to a :class:`~gapi_runtime.wire.Sink` as it arrives.

Proxies and client certificates (mTLS) are not handled here: a client configured with either
uses :class:`~gapi_runtime.transport.Urllib3Transport`.

Constructing one is cheap: :mod:`gapi_runtime.http11` (its regular expressions, ``zlib``) is
imported, and the pool created, at the first request, so that importing and constructing a
client pays for neither.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gapi_runtime.wire import _WATCHDOG, Body, FileSlice, LocalFailure, Response, Sink, StreamBody, Timeout, _Guard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from gapi_runtime import http11

__all__ = ["PooledTransport"]


def _import_http11() -> None:
    """Bind :mod:`gapi_runtime.http11` in this module (done by the first request, not at import)."""
    global http11
    from gapi_runtime import http11


class _Received(io.RawIOBase):
    """A socket as the raw stream under a connection's reader; ``tell()`` is the number of
    bytes received, so that the reader's own ``tell()`` is the number it handed out."""

    def __init__(self, sock: socket.socket) -> None:
        self._recv_into = sock.recv_into
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        count = self._recv_into(buffer)
        self.received += count
        return count

    def tell(self) -> int:
        return self.received


class _Connection:
    """One kept-alive connection: its socket and a buffered reader over it."""

    __slots__ = ("raw", "reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.raw = _Received(sock)
        self.reader = io.BufferedReader(self.raw)

    def alive(self) -> bool:
        """False if the idle socket is readable: the server hung up (or sent what nobody asked for)."""
        return quiet(self.sock.fileno())

    def drained(self) -> bool:
        """True if the reader holds no byte past the answer it parsed (a server that sent more
        than its answer's length: the rest would be taken for the next answer)."""
        return self.reader.tell() == self.raw.received

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
        self._context = _verifying(ssl_context)
        self._lock = threading.Lock()
        # Both made by the first request (see _start).
        self._idle: http11.IdlePool[_Connection] | None = None
        self._writer: http11.RequestWriter | None = None

    def __repr__(self) -> str:
        return f"PooledTransport(pool_size={self._pool_size})"

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """Send one request (see :class:`~gapi_runtime.wire.StreamingTransport` for ``sink``)."""
        writer = self._writer or self._start()
        idle = self._idle  # replaced by close(): a connection of a call that began before goes nowhere
        origin, head = writer.prepare(method, url, headers, body)
        guard: _Guard | None = None
        if timeout is not None:
            guard = _Guard(time.monotonic() + timeout)
            _WATCHDOG.start(guard)
        finished = False
        try:
            while True:  # bounded: each pass takes an idle connection, and a fresh one never retries
                connection = self._checkout(origin)
                reused = connection is not None
                try:
                    if connection is None:
                        connection = self._connect(origin, timeout)
                    if guard is not None:
                        _WATCHDOG.attach(guard, connection.sock)
                    status, items, data, keep_alive = _exchange(connection, method, head, body, guard, reused, sink)
                except http11.Retry:
                    continue
                except LocalFailure as failure:
                    raise failure.error from None
                except http11.Failure as failure:
                    timed_out = guard is not None and guard.fired
                    raise http11.translate(failure, method, url, timed_out, timeout) from failure.cause
                if guard is not None:
                    # Before the connection can go back to the pool: once there, another call may
                    # take it, and this deadline must no longer be able to shut its socket down.
                    _WATCHDOG.finish(guard)
                    finished = True
                    keep_alive = keep_alive and not guard.fired  # fired at the last moment: shut down
                if keep_alive and connection.drained():
                    self._checkin(origin, connection, idle)
                else:
                    connection.close()
                break
        finally:
            if guard is not None and not finished:
                _WATCHDOG.finish(guard)
        return http11.response(status, items, data, method, url)

    stream = request

    def close(self) -> None:
        """Close the idle connections; the transport stays usable (new connections are opened).

        Calls still in flight close their connections when they end instead of keeping them.
        """
        with self._lock:
            idle = self._idle
            if idle is not None:
                self._idle = http11.IdlePool(self._pool_size)
        if idle is not None:
            idle.close_all()

    # --- connections ------------------------------------------------------------------------

    def _start(self) -> http11.RequestWriter:
        """At the first request: import :mod:`gapi_runtime.http11`, create the pool and the writer."""
        with self._lock:
            if self._writer is None:
                _import_http11()
                self._idle = http11.IdlePool(self._pool_size)
                self._writer = http11.RequestWriter()
            return self._writer

    def _checkout(self, origin: http11.Origin) -> _Connection | None:
        with self._lock:
            idle = self._idle
            return None if idle is None else idle.take(origin)

    def _checkin(
        self, origin: http11.Origin, connection: _Connection, idle: http11.IdlePool[_Connection] | None
    ) -> None:
        """Keep ``connection`` in ``idle``, the pool of when its call began, unless closed since."""
        with self._lock:
            kept = idle is not None and idle is self._idle and idle.keep(origin, connection)
        if not kept:
            connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        context = self._context
        if context is None:
            with self._lock:
                if self._context is None:
                    self._context = ssl.create_default_context()
                context = self._context
        return context

    def _connect(self, origin: http11.Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        try:
            # An ASCII name as bytes (CPython's getaddrinfo() takes the bytes the idna codec would
            # give as they are): for text it first loads that codec, ~4 ms of the first connection.
            address = host.encode("ascii") if host.isascii() else host
            sock = socket.create_connection((address, port), timeout)  # type: ignore[arg-type]
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock = self._tls_context().wrap_socket(sock, server_hostname=host)
                # Blocking from here on: the watchdog enforces the deadline (see the module docstring).
                sock.settimeout(None)
            except BaseException:
                sock.close()
                raise
        except Exception as exc:
            raise http11.Failure(exc, started=False, connecting=True) from exc
        return _Connection(sock)


def _send_parts(sock: socket.socket, body: StreamBody) -> None:
    """Send ``body`` from its start: over plain TCP, slices of OS files with ``socket.sendfile``
    (the kernel copies from the file: no buffer, no copy here); the rest in blocks (over TLS
    ``sendfile`` would read 8 KiB at a time). An error reading the caller's file is a
    :class:`~gapi_runtime.wire.LocalFailure`, not a connection failure."""
    tls = isinstance(sock, ssl.SSLSocket)
    for part in body.parts:
        if not isinstance(part, FileSlice):
            sock.sendall(part)
            continue
        if tls or not _os_file(part.file):
            blocks = StreamBody(part).blocks()
            while True:
                try:
                    block = next(blocks, None)
                except LocalFailure:
                    raise
                except Exception as exc:  # e.g. EOFError from a truncated gzip file
                    raise LocalFailure(exc) from exc
                if block is None:
                    break
                sock.sendall(block)
        elif sock.sendfile(part.file, part.offset, part.length) != part.length:
            raise LocalFailure(ValueError("the file ended before the end of the request body"))


def _os_file(file: object) -> bool:
    """True for a file whose reads are the bytes of its descriptor (``open(path, "rb")``), which
    ``sendfile`` can send; not for wrappers that have a ``fileno()`` but read other bytes
    (``gzip.open``, ``bz2.open``, ``lzma.open`` decompress the file under them)."""
    kind = type(file)
    if kind is io.BufferedReader or kind is io.BufferedRandom:
        kind = type(file.raw)  # type: ignore[attr-defined]
    if kind is not io.FileIO:
        return False
    try:
        file.fileno()  # type: ignore[attr-defined]
    except (OSError, ValueError):  # closed
        return False
    return True


def quiet(fileno: int) -> bool:
    """True if nothing is waiting to be read on an idle connection's socket (one ``poll``, no wait)."""
    try:
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _verifying(context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """``context`` made to verify certificates and host names (verification is not optional)."""
    if context is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
    return context


def _exchange(
    connection: _Connection,
    method: str,
    head: bytes,
    body: Body,
    guard: _Guard | None,
    reused: bool,
    sink: Sink | None,
) -> http11.Parsed:
    """Send one request and read its whole answer; ``connection`` is closed on any failure."""
    sending, started = True, False
    try:
        sock = connection.sock
        if isinstance(body, StreamBody):
            sock.sendall(head)
            _send_parts(sock, body)
        elif body and len(body) <= http11.SEPARATE_BODY:
            sock.sendall(head + body)
        else:
            sock.sendall(head)
            if body:
                sock.sendall(body)
        sending = False
        reader = connection.reader
        parser = http11.parse_response(method, sink)
        need = next(parser)
        while True:
            kind, size = need
            if kind == http11.LINE:
                data = reader.readline(http11.MAX_LINE + 1)
            elif kind == http11.EXACT:
                data = reader.read(size)
            elif kind == http11.SOME:
                data = reader.read1(size)
            else:
                data = reader.read()
            started = started or bool(data)
            try:
                need = parser.send(data)
            except StopIteration as done:
                parsed: http11.Parsed = done.value
                break
        if guard is not None and guard.fired:
            raise TimeoutError("deadline passed")
    except BaseException as exc:
        connection.close()
        if not isinstance(exc, Exception) or isinstance(exc, LocalFailure):
            raise
        if reused and http11.closed_while_idle(sending, started, exc, method, head) and not (guard and guard.fired):
            raise http11.Retry from exc
        raise http11.Failure(exc, started=started) from exc
    return parsed

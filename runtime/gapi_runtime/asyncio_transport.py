"""The default transport of async clients: kept-alive HTTP/1.1 on asyncio streams, no extra library.

The async twin of :class:`~gapi_runtime.pooled_transport.PooledTransport`, with the same
request writer, response parser and error mapping (:mod:`gapi_runtime.http11`), the same
stale-connection rules and TLS verification; only the I/O is asyncio's:

- ``timeout`` bounds the whole exchange (connect, TLS handshake, send, headers, body);
- at most ``max_connections`` exchanges run at once per transport (further requests wait,
  within their timeout), and at most ``pool_size`` idle connections are kept per origin;
- connections belong to the event loop that opened them: using the transport from another
  loop while it holds connections raises RuntimeError; :meth:`close` releases them.

Measured against aiohttp (benchmarks/RESULTS.md), this costs a fraction of the CPU per call,
and an async client needs nothing beyond the runtime's own dependencies. Proxies and client
certificates go through :class:`~gapi_runtime.aiohttp_transport.AiohttpTransport`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any

from gapi_runtime import http11
from gapi_runtime.errors import TransportError
from gapi_runtime.pooled_transport import _verifying
from gapi_runtime.wire import Response, _target

__all__ = ["AsyncPooledTransport"]

_timeout: Any = getattr(asyncio, "timeout", None)  # Python 3.11+; 3.10 falls back to wait_for


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def alive(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class _Progress:
    """How far one exchange got, for the error it may end in."""

    __slots__ = ("sending", "started")

    def __init__(self) -> None:
        self.sending = True
        self.started = False


class AsyncPooledTransport:
    """Pooled, kept-alive HTTP/1.1 connections on asyncio streams; TLS verification always on.

    Args:
        pool_size: Idle connections kept per origin.
        max_connections: Exchanges in flight at once (all origins); further requests wait.
        ssl_context: A custom TLS context (e.g. extra CA certificates). Certificates and host
            names are verified whatever the context says.
    """

    def __init__(
        self, *, pool_size: int = 100, max_connections: int = 100, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        if pool_size < 1 or max_connections < 1:
            raise ValueError(f"pool_size and max_connections must be at least 1, got {pool_size}, {max_connections}")
        self._pool_size = pool_size
        self._max_connections = max_connections
        self._context = _verifying(ssl_context)
        self._idle: dict[http11.Origin, list[_Connection]] = {}
        self._writer = http11.RequestWriter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"AsyncPooledTransport(pool_size={self._pool_size}, max_connections={self._max_connections})"

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed() and any(self._idle.values()):
                raise RuntimeError(
                    "this async client was first used in another event loop; "
                    "create (or close and reuse) the client in the loop that uses it"
                )
            self._idle = {}
            self._loop = loop
            self._slots = asyncio.Semaphore(self._max_connections)
        assert self._slots is not None
        return self._slots

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        try:
            origin, host, target = self._writer.target(url)
            head = self._writer.head(method, host, target, headers, body)
        except ValueError as exc:
            raise TransportError(f"{_target(method, url)}: {exc}", url=url, response_started=False) from None
        slots = self._bind()
        progress = _Progress()
        try:
            if timeout is None:
                status, items, data = await self._send(slots, origin, method, head, body, progress)
            elif _timeout is not None:
                async with _timeout(timeout):
                    status, items, data = await self._send(slots, origin, method, head, body, progress)
            else:  # pragma: no cover - Python 3.10
                sent = self._send(slots, origin, method, head, body, progress)
                status, items, data = await asyncio.wait_for(sent, timeout)
        except http11.Failure as failure:
            raise http11.translate(failure, method, url, False, timeout) from failure.cause
        except asyncio.TimeoutError as exc:  # not the builtin TimeoutError before Python 3.11
            expired = http11.Failure(exc, started=progress.started)
            raise http11.translate(expired, method, url, True, timeout) from None
        response_headers = http11.Headers(items)
        encoding = response_headers.get("content-encoding")
        if encoding:
            data = http11.decode_content(data, encoding, method, url)
        return Response(status, response_headers, data)

    async def _send(
        self,
        slots: asyncio.Semaphore,
        origin: http11.Origin,
        method: str,
        head: bytes,
        body: bytes | None,
        progress: _Progress,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        async with slots:
            while True:  # bounded: each pass takes an idle connection, and a fresh one never retries
                connection = self._checkout(origin)
                reused = connection is not None
                if connection is None:
                    connection = await self._connect(origin)
                progress.sending, progress.started = True, False
                try:
                    status, items, data, keep_alive = await _exchange(connection, method, head, body, reused, progress)
                except http11.Retry:
                    continue
                if keep_alive:
                    self._checkin(origin, connection)
                else:
                    connection.close()
                return status, items, data

    def _checkout(self, origin: http11.Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.alive():
                return connection
            connection.close()
        return None

    def _checkin(self, origin: http11.Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self._pool_size:
            idle.append(connection)
        else:
            connection.close()

    async def _connect(self, origin: http11.Origin) -> _Connection:
        scheme, host, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._context is None:
                self._context = ssl.create_default_context()
            context = self._context
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None, limit=http11.MAX_LINE + 1
            )
        except Exception as exc:
            raise http11.Failure(exc, started=False, connecting=True) from exc
        return _Connection(reader, writer)

    async def close(self) -> None:
        """Close the idle connections; the transport stays usable (new connections are opened)."""
        idle, self._idle = self._idle, {}
        self._loop = None
        for connections in idle.values():
            for connection in connections:
                connection.close()


async def _exchange(
    connection: _Connection, method: str, head: bytes, body: bytes | None, reused: bool, progress: _Progress
) -> http11.Parsed:
    """Send one request and read its whole answer; ``connection`` is closed on any failure."""
    try:
        writer, reader = connection.writer, connection.reader
        if body and len(body) <= http11.SEPARATE_BODY:
            writer.write(head + body)
        else:
            writer.write(head)
            if body:
                writer.write(body)
        await writer.drain()
        progress.sending = False
        parser = http11.parse_response(method)
        need = next(parser)
        while True:
            kind, size = need
            if kind == http11.LINE:
                try:
                    data = await reader.readline()
                except ValueError:  # longer than the stream's limit
                    raise http11.BadResponse(f"a response line longer than {http11.MAX_LINE} bytes") from None
            elif kind == http11.EXACT:
                try:
                    data = await reader.readexactly(size)
                except asyncio.IncompleteReadError as short:
                    data = short.partial
            else:
                data = await reader.read()
            progress.started = progress.started or bool(data)
            try:
                need = parser.send(data)
            except StopIteration as done:
                parsed: http11.Parsed = done.value
                return parsed
    except BaseException as exc:
        connection.close()
        if not isinstance(exc, Exception):
            raise  # cancelled, or the deadline passed: the caller maps it
        if reused and http11.closed_while_idle(progress.sending, progress.started, exc, method):
            raise http11.Retry from exc
        raise http11.Failure(exc, started=progress.started) from exc

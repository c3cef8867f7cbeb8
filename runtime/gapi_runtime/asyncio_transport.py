"""The default transport of async clients: kept-alive HTTP/1.1 on asyncio, no extra library.

The async twin of :class:`~gapi_runtime.pooled_transport.PooledTransport`, with the same
request writer, response parser and error mapping (:mod:`gapi_runtime.http11`), the same
stale-connection rules and TLS verification. Each connection is an :class:`asyncio.Protocol`
that feeds the bytes it receives straight into the parser, so a call costs one write and one
wait on a future — no stream reader, no task per call:

- ``timeout`` bounds the connect (and TLS handshake), then the whole exchange;
- at most ``max_connections`` exchanges run at once per transport (further requests wait,
  within their timeout), and at most ``pool_size`` idle connections are kept per origin;
- connections belong to the event loop that opened them: using the transport from another
  loop while it holds connections raises RuntimeError; :meth:`close` releases them.

A :class:`~gapi_runtime.wire.StreamBody` is written block by block, waiting while the socket's
buffer is full (``pause_writing``), and an answer's body can go to a
:class:`~gapi_runtime.wire.Sink` as it arrives (:meth:`AsyncPooledTransport.stream`, for media).

Proxies and client certificates go through :class:`~gapi_runtime.aiohttp_transport.AiohttpTransport`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Generator, Mapping

from gapi_runtime import http11
from gapi_runtime.pooled_transport import _verifying, quiet
from gapi_runtime.wire import Body, LocalFailure, Response, Sink, StreamBody, Timeout

__all__ = ["AsyncPooledTransport"]


class _Connection(asyncio.Protocol):
    """One connection: it runs the response parser over the bytes as they arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.started = False  # a byte of the current answer arrived
        self._buffer = bytearray()
        self._eof = False
        self._parser: Generator[http11.Need, bytes, http11.Parsed] | None = None
        self._need: http11.Need = (http11.LINE, 0)
        self._waiter: asyncio.Future[http11.Parsed] | None = None
        self._drained: asyncio.Future[None] | None = None  # while the transport's write buffer is full

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # bytes nobody asked for: the connection cannot be trusted
            self.abort()
            return
        self.started = True
        if self._need[0] == http11.SOME and not self._buffer and len(data) <= self._need[1]:
            self._feed(data)  # a streamed body: handed on as it came, not copied through the buffer
        else:
            self._buffer += data
        self._advance()

    def eof_received(self) -> bool:
        self._eof = True
        if self._parser is not None:
            self._advance()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.resume_writing()
        if self._parser is not None:
            if exc is None:
                self._eof = True
                self._advance()
            else:
                self._finish(exc)

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # --- one exchange -------------------------------------------------------------------------

    def alive(self) -> bool:
        """False once closed, and when the idle socket is readable: the server hung up (or sent
        what nobody asked for) and the loop has not read it yet."""
        if self.closed or self._eof or self.transport is None or self.transport.is_closing():
            return False
        sock = self.transport.get_extra_info("socket")
        return sock is None or quiet(sock.fileno())

    def exchange(
        self, method: str, data: bytes, loop: asyncio.AbstractEventLoop, sink: Sink | None = None
    ) -> asyncio.Future[http11.Parsed]:
        """Send ``data`` (a request, or its head) and return the future of its parsed answer."""
        self.started = False
        self._buffer.clear()
        self._parser = http11.parse_response(method, sink)
        self._need = next(self._parser)
        self._waiter = loop.create_future()
        assert self.transport is not None
        self.transport.write(data)
        return self._waiter

    async def send(self, body: StreamBody) -> bool:
        """Write ``body`` after the head, a block at a time as the socket drains; False if the
        exchange ended first (an early answer, a failure): the connection is then not reusable."""
        assert self.transport is not None
        for block in body.blocks():
            if self.closed or self._parser is None:
                return False
            self.transport.write(block)
            if self._drained is not None:
                await self._drained
        return True

    def expire(self) -> None:
        """The deadline passed: end the exchange with TimeoutError and drop the connection."""
        self._finish(TimeoutError("deadline passed"))
        self.abort()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    close = abort

    def _advance(self) -> None:
        """Feed the parser what it asks for, as far as the buffered bytes go."""
        buffer = self._buffer
        while self._parser is not None:
            kind, size = self._need
            if kind == http11.LINE:
                end = buffer.find(b"\n")
                if end < 0 and len(buffer) <= http11.MAX_LINE and not self._eof:
                    return
                cut = end + 1 if end >= 0 else min(len(buffer), http11.MAX_LINE + 1)
            elif kind == http11.EXACT:
                if len(buffer) < size and not self._eof:
                    return
                cut = min(size, len(buffer))
            elif kind == http11.SOME:
                if not buffer and not self._eof:
                    return
                cut = min(size, len(buffer))
            else:
                if not self._eof:
                    return
                cut = len(buffer)
            chunk = bytes(buffer[:cut])
            del buffer[:cut]
            self._feed(chunk)

    def _feed(self, chunk: bytes) -> None:
        assert self._parser is not None
        try:
            self._need = self._parser.send(chunk)
        except StopIteration as done:
            self._finish(None, done.value)
        except Exception as exc:
            self._finish(exc)

    def _finish(self, exc: BaseException | None, parsed: http11.Parsed | None = None) -> None:
        self._parser = None
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        if exc is not None:
            waiter.set_exception(exc)
        else:
            assert parsed is not None
            waiter.set_result(parsed)


class AsyncPooledTransport:
    """Pooled, kept-alive HTTP/1.1 connections on asyncio; TLS verification always on.

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
        self._idle: http11.IdlePool[_Connection] = http11.IdlePool(pool_size)
        self._writer = http11.RequestWriter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"AsyncPooledTransport(pool_size={self._pool_size}, max_connections={self._max_connections})"

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """Send one request (see :class:`~gapi_runtime.wire.StreamingTransport` for ``sink``)."""
        origin, head = self._writer.prepare(method, url, headers, body)
        loop, slots = self._bind()
        idle = self._idle  # replaced by close(): a connection of a call that began before goes nowhere
        streamed: StreamBody | None = None
        if isinstance(body, StreamBody):
            streamed, data = body, head
        else:
            data = head + body if body else head
        deadline = None if timeout is None else loop.time() + timeout
        if deadline is not None and slots.locked():  # every slot taken: wait within the deadline
            try:
                await asyncio.wait_for(slots.acquire(), max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
                waited = http11.Failure(TimeoutError("no connection slot freed up"), started=False, connecting=True)
                raise http11.translate(waited, method, url, True, timeout) from None
        else:
            await slots.acquire()
        try:
            while True:  # bounded: each pass takes an idle connection, and a fresh one never retries
                connection = self._idle.take(origin)
                reused = connection is not None
                if connection is None:
                    connection = await self._connect(origin, method, url, deadline, timeout)
                expiry = None if deadline is None else loop.call_at(deadline, connection.expire)
                try:
                    answer = connection.exchange(method, data, loop, sink)
                    # An answer that came before the whole body went out leaves the connection unusable.
                    sent = streamed is None or await connection.send(streamed)
                    status, items, content, keep_alive = await answer
                except Exception as exc:
                    connection.abort()
                    if isinstance(exc, LocalFailure):
                        raise exc.error from None
                    if isinstance(exc, TimeoutError) and deadline is not None and loop.time() >= deadline:
                        failure = http11.Failure(exc, started=connection.started)
                        raise http11.translate(failure, method, url, True, timeout) from None
                    if reused and http11.closed_while_idle(False, connection.started, exc, method, head):
                        continue
                    failure = http11.Failure(exc, started=connection.started)
                    raise http11.translate(failure, method, url, False, timeout) from exc
                except BaseException:  # cancelled: the connection is mid-exchange
                    connection.abort()
                    raise
                finally:
                    if expiry is not None:
                        expiry.cancel()
                if keep_alive and sent and idle is self._idle:
                    self._checkin(origin, connection)
                else:
                    connection.abort()
                break
        finally:
            slots.release()
        return http11.response(status, items, content, method, url)

    stream = request

    async def close(self) -> None:
        """Close the idle connections; the transport stays usable (new connections are opened).

        Calls still in flight close their connections when they end instead of keeping them.
        """
        self._idle.close_all()
        self._idle = http11.IdlePool(self._pool_size)
        self._loop = None

    # --- connections ------------------------------------------------------------------------

    def _bind(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed() and any(self._idle.values()):
                raise RuntimeError(
                    "this async client was first used in another event loop; "
                    "create (or close and reuse) the client in the loop that uses it"
                )
            self._idle = http11.IdlePool(self._pool_size)
            self._loop = loop
            self._slots = asyncio.Semaphore(self._max_connections)
        assert self._slots is not None
        return loop, self._slots

    def _checkin(self, origin: http11.Origin, connection: _Connection) -> None:
        if not (connection.alive() and self._idle.keep(origin, connection)):
            connection.abort()

    async def _connect(
        self, origin: http11.Origin, method: str, url: str, deadline: float | None, timeout: float | None
    ) -> _Connection:
        scheme, host, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._context is None:
                self._context = ssl.create_default_context()
            context = self._context
        loop = asyncio.get_running_loop()
        opening = loop.create_connection(
            _Connection, host, port, ssl=context, server_hostname=host if context else None
        )
        try:
            if deadline is None:
                _, connection = await opening
            else:
                _, connection = await asyncio.wait_for(opening, max(deadline - loop.time(), 0.0))
        except asyncio.TimeoutError as exc:  # not the builtin TimeoutError before Python 3.11
            failure = http11.Failure(exc, started=False, connecting=True)
            raise http11.translate(failure, method, url, True, timeout) from None
        except Exception as exc:
            failure = http11.Failure(exc, started=False, connecting=True)
            raise http11.translate(failure, method, url, False, timeout) from exc
        return connection

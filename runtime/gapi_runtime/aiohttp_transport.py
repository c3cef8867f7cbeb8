"""The async transport for proxies and client certificates: aiohttp (the ``[async]`` extra).

The default transport of async clients is
:class:`~gapi_runtime.asyncio_transport.AsyncPooledTransport`; a client created without a
``transport=`` uses this one instead only when it needs a proxy (``proxy=`` or the proxy
environment variables) or a client certificate, which that one does not handle. This module
is imported only then (or when passed explicitly): the sync client and ``import <package>``
never load aiohttp.

It behaves as the sync :class:`~gapi_runtime.transport.Urllib3Transport` does:

* ``timeout`` is a deadline for the whole exchange (connecting, sending, waiting for the
  headers, reading the body: aiohttp's ``ClientTimeout(total=...)``), so a stalled or
  dripping server fails the call within about the timeout;
* it retries nothing and follows no redirects (the client decides both). aiohttp would
  otherwise send an idempotent request again, once, when a connection breaks before the
  response; that is switched off so that the client's retry policy sees every failure;
* the URL goes on the wire exactly as the runtime encoded it (no re-quoting by yarl);
* failures become :class:`~gapi_runtime.errors.TransportError` subclasses whose messages
  name the method and URL without its query string;
* TLS is verified (the default context, or ``ssl_context``); cookies are not kept;
* proxies follow the same rule (:mod:`gapi_runtime.proxies`): ``proxy=``, else
  ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` read when the transport is created
  (aiohttp's own ``trust_env`` is off, so both transports decide alike); credentials in the
  proxy URL go as ``Proxy-Authorization: Basic`` on the CONNECT of an https request and on
  every plain-http request sent through the proxy;
* a failure is ``response_started`` once any of the answer after its status line arrived (a
  malformed header or body, a connection closed mid-answer); a malformed status line counts
  as not started, as in :class:`~gapi_runtime.transport.Urllib3Transport`;
* stale connections: a pooled connection is checked before it is reused, as
  :class:`~gapi_runtime.asyncio_transport.AsyncPooledTransport` checks its own: when its
  socket is readable (the server closed it, or sent what nobody asked for, while it was idle)
  it is closed and another (or a new) one is used. Unlike the default transports, a request
  whose reused connection breaks *after* that check (the server closing it at the very moment
  the request goes out) is not sent again here: aiohttp tells the caller neither whether the
  connection was reused nor whether the request reached the socket, so that failure goes to
  the client's retry policy (``ConnectError``, ``response_started`` False);
* ``use_client_certificate`` loads a client certificate for mutual TLS.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from aiohttp import http_exceptions
from yarl import URL

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.pooled_transport import quiet
from gapi_runtime.proxies import Proxy, ProxySettings
from gapi_runtime.wire import BLOCK, Body, LocalFailure, Memo, Response, Sink, Timeout, for_library, writer_for

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

    from gapi_runtime.mtls import ClientCertificate

__all__ = ["AiohttpTransport"]


class _CheckingConnector(aiohttp.TCPConnector):
    """aiohttp's connector, dropping a pooled connection whose idle socket is readable.

    aiohttp reuses any pooled connection whose transport is not closing; a FIN (or a reset)
    that arrived while the event loop was busy has not been read yet, so such a connection
    looks alive and the request sent on it fails. Here a reused connection (one this
    connector handed out before) whose socket has something to read is closed instead, and
    the next pooled one, or a new one, is taken: bounded, since each pass removes one.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._handed_out: weakref.WeakSet[object] = weakref.WeakSet()

    async def connect(self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout) -> Connection:
        while True:
            connection = await super().connect(req, traces, timeout)
            protocol, transport = connection.protocol, connection.transport
            if protocol is None or protocol not in self._handed_out:  # a new connection
                if protocol is not None:
                    self._handed_out.add(protocol)
                return connection
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None or quiet(sock.fileno()):
                return connection
            connection.close()  # the server hung up while it was idle


class AiohttpTransport:
    """An aiohttp ``ClientSession`` with a bounded connection pool; one per event loop.

    Args:
        pool_size: Most connections open at once (per transport, all hosts); further
            requests wait for a free connection (within their timeout).
        ssl_context: A custom TLS context (e.g. extra CA certificates).
        proxy: A proxy URL for every request; https requests are tunnelled with CONNECT.
        trust_env: Without ``proxy``, read the proxy environment variables (when created).

    The session is created by the first request, in the running event loop; using the
    transport from another loop afterwards raises RuntimeError. :meth:`close` releases the
    connections; a later request opens a new session.
    """

    def __init__(
        self,
        *,
        pool_size: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size!r}")
        self._pool_size = pool_size
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._proxies = ProxySettings(proxy, trust_env)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: Memo[float | None, aiohttp.ClientTimeout] = Memo(
            lambda total: aiohttp.ClientTimeout(total=total)
        )

    def __repr__(self) -> str:
        return f"AiohttpTransport(pool_size={self._pool_size}, proxies={self._proxies!r})"

    def use_client_certificate(self, certificate: ClientCertificate) -> None:
        """Present ``certificate`` in every TLS handshake (mutual TLS); call before the first request.

        Loads it into the TLS context (a default one is created when none was given).
        """
        if not isinstance(self._ssl, ssl.SSLContext):
            self._ssl = ssl.create_default_context()
        certificate.load_into(self._ssl)

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed:
            if self._loop is not loop:
                raise RuntimeError(
                    "this async client was first used in another event loop; "
                    "create (or close and reuse) the client in the loop that uses it"
                )
            return self._session
        connector = _CheckingConnector(limit=self._pool_size, ssl=self._ssl)
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=True,
            trust_env=False,
        )
        # aiohttp re-sends an idempotent request once when a connection breaks before the
        # response (RFC 9112 §9.3.1). The client's retry policy decides retries (and logs
        # and counts them), so the transport must not hide a failure.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        self._loop = loop
        return session

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """Send one request (see :class:`~gapi_runtime.wire.StreamingTransport` for ``sink``)."""
        sent, headers = for_library(body, headers)
        data = sent if sent is None or isinstance(sent, bytes) else _blocks(sent)
        session = self._session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            session = self._open()
        started = False
        proxy = self._proxies.for_url(url) if self._proxies.active else None
        connect_headers = None
        if proxy is not None and proxy.headers:
            # aiohttp sends proxy_headers only with a CONNECT (https). A plain-http request goes
            # to the proxy itself, so it carries them (as urllib3's ProxyManager sends them);
            # aiohttp's proxy_auth would too, but it is deprecated from aiohttp 3.14 on.
            if url.startswith("https:"):
                connect_headers = proxy.headers
            else:
                headers = {**headers, **proxy.headers}
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=data,
                timeout=self._timeouts[timeout],
                allow_redirects=False,
                proxy=proxy.url if proxy is not None else None,
                proxy_headers=connect_headers,
            )
            started = True
            try:
                write = writer_for(sink, response.status, response.headers)
                if write is None:
                    data = await response.read()
                else:
                    async for block in response.content.iter_chunked(BLOCK):
                        write(block)
                    data = b""
            finally:
                response.release()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, http_exceptions.HttpProcessingError) as exc:
            local = _behind(exc, LocalFailure)  # what a body's blocks raised, wrapped
            if local is not None:
                raise local.error from None
            raise _translate(exc, method, url, started or _answer_began(exc), timeout, proxy) from exc
        except LocalFailure as failure:
            raise failure.error from None
        return Response(response.status, response.headers, data)

    stream = request

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


async def _blocks(blocks: Iterator[bytes | memoryview]) -> AsyncIterator[bytes | memoryview]:
    for block in blocks:
        yield block


def _answer_began(exc: BaseException) -> bool:
    """Whether ``exc``, raised before aiohttp returned the response, came after its status line.

    aiohttp reads the status line and headers (and, when they come in the same packet, the
    start of the body) before ``session.request()`` returns, so a malformed header or chunk
    is raised from it. A malformed status line is not counted (as in Urllib3Transport).
    """
    if isinstance(exc, aiohttp.ClientPayloadError):
        return True
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return not isinstance(exc.message, str)  # aiohttp gives the part of the answer it parsed
    malformed = _behind(exc, http_exceptions.HttpProcessingError)
    return malformed is not None and _behind(exc, http_exceptions.BadStatusLine) is None


def _translate(
    exc: BaseException, method: str, url: str, started: bool, timeout: float | None, proxy: Proxy | None = None
) -> TransportError:
    """Map an aiohttp or socket failure to this runtime's documented exception types."""
    target = f"{method} {url.split('?', 1)[0]}"
    detail = _detail(exc)
    if "?" in url:
        detail = detail.replace(url.split("?", 1)[1], "…")
    if proxy is not None:
        if proxy.password:
            detail = detail.replace(proxy.password, "***")
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            return ConnectError(
                f"{target}: cannot connect through proxy {proxy.shown} ({_os_reason(exc.os_error)})",
                url=url,
                response_started=False,
            )
        if isinstance(exc, aiohttp.ClientHttpProxyError):
            return ConnectError(
                f"{target}: cannot connect through proxy {proxy.shown} ({exc.status} {exc.message})",
                url=url,
                response_started=False,
            )
    if isinstance(exc, asyncio.TimeoutError):
        bound = f"after {timeout:g} s" if timeout is not None else "while connecting"
        return RequestTimeout(f"{target}: timed out {bound}", url=url, response_started=started)
    if isinstance(exc, (aiohttp.ClientSSLError, ssl.SSLError)) or isinstance(_cause(exc), ssl.SSLError):
        return TLSError(f"{target}: TLS failure ({detail})", url=url, response_started=started)
    if _decode_failure(exc):
        return ResponseDecodeError(f"{target}: undecodable response body ({detail})", url=url, response_started=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"{target}: cannot connect ({_os_reason(exc.os_error)})", url=url, response_started=False)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectError(
            f"{target}: connection broken while reading the response ({detail})", url=url, response_started=True
        )
    if _behind(exc, http_exceptions.HttpProcessingError) is not None:
        return ConnectError(f"{target}: invalid HTTP response ({detail})", url=url, response_started=started)
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientResponseError, OSError)):
        what = "connection broken while reading the response" if started else "connection failed"
        return ConnectError(f"{target}: {what} ({detail})", url=url, response_started=started)
    return TransportError(f"{target}: {type(exc).__name__} ({detail})", url=url, response_started=started)


def _detail(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: {exc.message}"  # its str() holds the whole URL
    if isinstance(exc, aiohttp.ServerDisconnectedError) and not isinstance(exc.message, str):
        return f"{type(exc).__name__}: closed during the answer's head"  # not the parsed head itself
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cause(exc: BaseException) -> BaseException | None:
    return exc.__cause__ or exc.__context__


def _decode_failure(exc: BaseException) -> bool:
    """True for a body that could not be decompressed (as urllib3's DecodeError)."""
    return _behind(exc, http_exceptions.ContentEncodingError) is not None


_E = TypeVar("_E", bound=BaseException)


def _behind(exc: BaseException, kind: type[_E]) -> _E | None:
    """The ``kind`` exception ``exc`` is or was caused by (aiohttp wraps what it meets), if any."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, kind):
            return seen
        seen = _cause(seen)
    return None


def _os_reason(error: OSError) -> str:
    """``[Errno 111] Connection refused`` (aiohttp's own text is "Connect call failed")."""
    if error.errno:
        return f"[Errno {error.errno}] {os.strerror(error.errno)}"
    return str(error) or type(error).__name__

"""The default transport of async clients: aiohttp, chosen by measurement (see the README).

Imported only when an async client is created without a ``transport=``: the sync client and
``import <package>`` never load aiohttp (or asyncio).

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
  (aiohttp's own ``trust_env`` is off, so both transports decide alike);
* ``use_client_certificate`` loads a client certificate for mutual TLS.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar

import aiohttp
from aiohttp import http_exceptions
from yarl import URL

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.proxies import Proxy, ProxySettings
from gapi_runtime.wire import BLOCK, Body, LocalFailure, Memo, Response, Sink, Timeout, for_library, writer_for

if TYPE_CHECKING:
    from gapi_runtime.mtls import ClientCertificate

__all__ = ["AiohttpTransport"]


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
        connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=self._ssl)
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
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=data,
                timeout=self._timeouts[timeout],
                allow_redirects=False,
                proxy=proxy.url if proxy is not None else None,
                proxy_headers=proxy.headers if proxy is not None and proxy.headers else None,
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
            raise _translate(exc, method, url, started, timeout, proxy) from exc
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
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientResponseError, OSError)):
        what = "connection broken while reading the response" if started else "connection failed"
        return ConnectError(f"{target}: {what} ({detail})", url=url, response_started=started)
    return TransportError(f"{target}: {type(exc).__name__} ({detail})", url=url, response_started=started)


def _detail(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: {exc.message}"  # its str() holds the whole URL
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

"""The urllib3 transport: :class:`Urllib3Transport`.

The interface it implements (:class:`~gapi_runtime.wire.Transport`, :class:`~gapi_runtime.wire.Response`)
and the deadline watchdog live in :mod:`gapi_runtime.wire`; they are re-exported here. urllib3's
own read timeout bounds each socket read only, so the watchdog shuts a request's socket down when
its deadline passes.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.proxies import Proxy, ProxySettings
from gapi_runtime.wire import (
    _WATCHDOG,
    BLOCK,
    Body,
    LocalFailure,
    Memo,
    Response,
    Sink,
    Timeout,
    Transport,
    _Guard,
    _local,
    _target,
    for_library,
    writer_for,
)

if TYPE_CHECKING:
    from gapi_runtime.mtls import ClientCertificate

__all__ = ["Response", "Transport", "Urllib3Transport"]


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
        proxy: A proxy URL for every request (``http://[user:password@]host:port``); https
            requests are tunnelled with CONNECT.
        trust_env: Without ``proxy``, read ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``
            (and their lower-case forms) when the transport is created; see
            :mod:`gapi_runtime.proxies`.
    """

    def __init__(
        self,
        *,
        pool_size: int = 32,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        self._pool_size = pool_size
        self._ssl_context = ssl_context
        self._proxies = ProxySettings(proxy, trust_env)
        self._proxy_pools: dict[Proxy, urllib3.ProxyManager] = {}
        self._proxy_lock = threading.Lock()
        self._pool = self._manager(None)
        self._timeouts: Memo[float | None, urllib3.Timeout] = Memo(_urllib3_timeout)

    def __repr__(self) -> str:
        return f"Urllib3Transport(pool_size={self._pool_size}, proxies={self._proxies!r})"

    def _manager(self, proxy: Proxy | None) -> urllib3.PoolManager:
        options: dict[str, Any] = {
            "num_pools": 8,
            "maxsize": self._pool_size,
            "block": False,
            "retries": False,
            "ssl_context": self._ssl_context,
            "cert_reqs": "CERT_REQUIRED",
        }
        manager = (
            urllib3.PoolManager(**options)
            if proxy is None
            else urllib3.ProxyManager(proxy.url, proxy_headers=dict(proxy.headers), **options)
        )
        manager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }
        return manager

    def use_client_certificate(self, certificate: ClientCertificate) -> None:
        """Present ``certificate`` in every TLS handshake from now on (mutual TLS).

        Loads it into the transport's TLS context (a default one is created when none was
        given; a given one is changed). MutualTLSChannelError when it cannot be loaded.
        """
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        certificate.load_into(self._ssl_context)
        self.close()
        self._pool = self._manager(None)
        with self._proxy_lock:
            self._proxy_pools.clear()

    def _proxy_pool(self, proxy: Proxy) -> urllib3.ProxyManager:
        manager = self._proxy_pools.get(proxy)
        if manager is None:
            with self._proxy_lock:
                manager = self._proxy_pools.get(proxy)
                if manager is None:
                    manager = self._proxy_pools[proxy] = self._manager(proxy)  # type: ignore[assignment]
        return manager  # type: ignore[return-value]

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
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """Send one request (see :class:`~gapi_runtime.wire.StreamingTransport` for ``sink``)."""
        sent, headers = for_library(body, headers)
        guard: _Guard | None = None
        if timeout is not None:
            guard = _Guard(time.monotonic() + timeout)
            _WATCHDOG.start(guard)
            _local.guard = guard
        response: Any = None
        proxy = self._proxies.for_url(url) if self._proxies.active else None
        try:
            try:
                route = self._route(url) if proxy is None else None
                opener = self._pool.urlopen if proxy is None else self._proxy_pool(proxy).urlopen
                response = (route[0].urlopen if route is not None else opener)(
                    method,
                    route[1] if route is not None else url,
                    body=sent,  # type: ignore[arg-type]  # memoryview blocks are sent as they are
                    headers=headers,
                    timeout=self._timeouts[timeout],
                    retries=False,
                    redirect=False,
                    preload_content=False,
                    release_conn=False,
                    assert_same_host=False,
                )
            except (urllib3.exceptions.HTTPError, OSError, OverflowError) as exc:
                raise _translate(exc, method, url, False, guard, timeout, proxy) from exc
            finally:
                _local.guard = None
            if 100 <= response.status < 200:  # http.client skips only 100 Continue: the final answer is still unread
                raise ConnectError(
                    f"{_target(method, url)}: the server sent an interim {response.status} response, "
                    "which this transport cannot read past (PooledTransport can)",
                    url=url,
                    response_started=True,
                )
            try:
                write = writer_for(sink, response.status, response.headers)
                if write is None:
                    data = response.read()
                else:
                    for block in response.stream(BLOCK, decode_content=False):
                        write(block)
                    data = b""
                if guard is not None and guard.fired:
                    raise RequestTimeout(f"{_target(method, url)}: timed out after {timeout:g} s", url=url)
            except (urllib3.exceptions.HTTPError, OSError, OverflowError) as exc:
                raise _translate(exc, method, url, True, guard, timeout) from exc
        except BaseException as exc:
            if guard is not None:
                _WATCHDOG.finish(guard)
            if response is not None:
                response.close()
                response.release_conn()
            if isinstance(exc, LocalFailure):
                raise exc.error from None
            raise
        if guard is not None:
            _WATCHDOG.finish(guard)
        response.release_conn()
        return Response(response.status, response.headers, data)

    stream = request

    def close(self) -> None:
        self._pool.clear()
        with self._proxy_lock:
            for manager in self._proxy_pools.values():
                manager.clear()


def _urllib3_timeout(timeout: float | None) -> urllib3.Timeout:
    return urllib3.Timeout(total=timeout) if timeout is not None else urllib3.Timeout(None)


def _translate(
    exc: BaseException,
    method: str,
    url: str,
    started: bool,
    guard: _Guard | None,
    timeout: float | None,
    proxy: Proxy | None = None,
) -> TransportError:
    """Map a urllib3 or socket failure to this runtime's documented exception types."""
    target = _target(method, url)
    reason: BaseException = exc
    while isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(reason, urllib3.exceptions.ProxyError) and proxy is not None:
        original: BaseException | None = reason.original_error
        failure = original if original is not None else reason
        detail = _os_reason(failure) if not isinstance(failure, urllib3.exceptions.ProxyError) else str(failure)
        if proxy.password:
            detail = detail.replace(proxy.password, "***")
        return ConnectError(
            f"{target}: cannot connect through proxy {proxy.shown} ({detail})", url=url, response_started=False
        )
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
    if isinstance(reason, (urllib3.exceptions.ProtocolError, OSError, OverflowError)):  # Overflow: a huge length
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

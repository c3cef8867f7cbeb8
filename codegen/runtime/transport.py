"""The one small interface between generated clients and HTTP, and its default.

A transport sends one request and returns the status, headers and body bytes. It does not
authenticate, retry or decode: the client does that, so every transport gets the same
behaviour. :class:`Response` also satisfies google-auth's transport response interface, so
credentials refresh through the same transport.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import NamedTuple, Protocol, runtime_checkable

import urllib3

from codegen.runtime.errors import ConnectError, RequestTimeout, TLSError, TransportError


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
        """Send one request; raise :class:`~codegen.runtime.errors.TransportError` on failure."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


class Urllib3Transport:
    """The default transport: a thread-safe urllib3 pool with TLS verification always on.

    It follows no redirects and retries nothing itself; the client decides both.
    """

    def __init__(self, *, pool_size: int = 16, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool = urllib3.PoolManager(
            num_pools=8,
            maxsize=pool_size,
            retries=False,
            ssl_context=ssl_context,
            cert_reqs="CERT_REQUIRED",
        )

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        try:
            response = self._pool.urlopen(
                method,
                url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(total=timeout) if timeout is not None else urllib3.Timeout(None),
                retries=False,
                redirect=False,
                preload_content=True,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise _translate(exc, method, url) from exc
        return Response(response.status, response.headers, response.data)

    def close(self) -> None:
        self._pool.clear()


def _translate(exc: urllib3.exceptions.HTTPError, method: str, url: str) -> TransportError:
    """Map a urllib3 failure to this runtime's documented exception types."""
    target = f"{method} {url.split('?', 1)[0]}"
    reason = exc
    while isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason  # type: ignore[assignment]
    if isinstance(reason, (urllib3.exceptions.TimeoutError,)):
        return RequestTimeout(f"{target}: timed out ({reason})")
    if isinstance(reason, urllib3.exceptions.SSLError):
        return TLSError(f"{target}: TLS failure ({reason})")
    if isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProtocolError)):
        return ConnectError(f"{target}: connection failed ({reason})")
    return TransportError(f"{target}: {type(reason).__name__} ({reason})")

"""Exceptions raised by generated clients.

HTTP error responses raise google-api-core's exceptions (``NotFound``, ``MethodNotImplemented``,
…), imported only when an error happens so that start-up stays light. Failures below HTTP
raise :class:`TransportError` subclasses whose messages name the request but never carry
credentials.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.api_core.exceptions import GoogleAPICallError


class TransportError(Exception):
    """The request could not be completed (no HTTP response, or an unusable one)."""


class ConnectError(TransportError, ConnectionError):
    """The connection was refused, reset or dropped before a complete response arrived."""


class TLSError(ConnectError):
    """TLS negotiation or certificate verification failed."""


class RequestTimeout(TransportError, TimeoutError):
    """No complete response arrived within the call's timeout."""


class ResponseDecodeError(TransportError, ValueError):
    """A successful response's body was not the JSON the method promises."""


def _snippet(data: bytes, limit: int = 200) -> str:
    text = data[:limit].decode("utf-8", "replace")
    return " ".join(text.split()) + ("…" if len(data) > limit else "")


def http_error(status: int, data: bytes, method_id: str, url: str) -> GoogleAPICallError:
    """The google-api-core exception for an HTTP error response.

    The message is the server's ``error.message``; ``details`` holds the ``google.rpc.Status``
    details and ``errors`` the legacy ``error.errors`` list, both as decoded JSON.
    """
    from google.api_core import exceptions

    message = ""
    details: list[Any] = []
    errors: list[Any] = []
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message", ""))
        details = error.get("details") if isinstance(error.get("details"), list) else []  # type: ignore[assignment]
        errors = error.get("errors") if isinstance(error.get("errors"), list) else []  # type: ignore[assignment]
    elif isinstance(error, str):
        message = error
    if not message:
        message = f"HTTP {status} with a non-JSON body: {_snippet(data)!r}" if data else f"HTTP {status} with no body"
    exc: GoogleAPICallError = exceptions.from_http_status(
        status, f"{message} [{method_id}]", errors=errors, details=details
    )
    return exc

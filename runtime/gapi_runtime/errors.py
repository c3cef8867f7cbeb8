"""Exceptions raised by generated clients.

HTTP error responses raise google-api-core's exceptions (``NotFound``, ``MethodNotImplemented``,
…), imported only when an error happens so that start-up stays light. Failures below HTTP
raise :class:`TransportError` subclasses whose messages name the method id and the URL
(without its query string, never with credentials):

* :class:`ConnectError` — connection refused, reset or dropped, DNS failure; its
  ``response_started`` tells whether any part of the response had arrived (a truncated body)
  or not (the server may not have seen the request at all).
* :class:`TLSError` — TLS negotiation or certificate verification failed.
* :class:`RequestTimeout` — no complete response within the call's ``timeout``; also a
  :class:`TimeoutError`.
* :class:`ResponseDecodeError` — a successful response whose body is not JSON; also a
  :class:`ValueError`.
* :class:`PagingError` — a server handed out the same page token twice.
* :class:`OperationTimeout` — a long-running operation did not finish in time; also a
  :class:`TimeoutError`.

:class:`ConnectError` also derives from ``google.auth.exceptions.TransportError``, the type
google-api-core's default retry predicate (``if_transient_error``) treats as transient, so a
user-supplied ``google.api_core.retry.Retry()`` retries connection failures as it does with
other Google clients.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from google.auth import exceptions as _auth_exceptions

if TYPE_CHECKING:
    from google.api_core.exceptions import GoogleAPICallError

__all__ = [
    "ConnectError",
    "OperationTimeout",
    "PagingError",
    "RequestTimeout",
    "ResponseDecodeError",
    "TLSError",
    "TransportError",
    "http_error",
    "rpc_error",
]


class TransportError(Exception):
    """The request could not be completed (no HTTP response, or an unusable one).

    Attributes:
        method_id: The API method, e.g. ``looker.projects.locations.instances.get`` ("" for
            requests that are not API methods, such as token refreshes).
        url: The request URL without its query string.
        response_started: True when part of the response (status line, headers or some of
            the body) had arrived before the failure.
    """

    def __init__(self, message: str, *, url: str = "", method_id: str = "", response_started: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.url = url.split("?", 1)[0]
        self.method_id = method_id
        self.response_started = response_started

    def __str__(self) -> str:
        return f"{self.method_id}: {self.message}" if self.method_id else self.message


class ConnectError(TransportError, ConnectionError, _auth_exceptions.TransportError):
    """The connection was refused, reset or dropped before a complete response arrived."""

    # google.auth's exception keeps a private flag; set it so that its property works.
    _retryable = True


class TLSError(ConnectError):
    """TLS negotiation or certificate verification failed."""


class RequestTimeout(TransportError, TimeoutError):
    """No complete response arrived within the call's timeout."""


class ResponseDecodeError(TransportError, ValueError):
    """A successful response's body was not the JSON the method promises."""


class PagingError(RuntimeError):
    """A list method returned a page token it had already returned: paging would never end."""


class OperationTimeout(TimeoutError):
    """A long-running operation was not done when ``result(timeout=…)`` gave up waiting.

    The operation itself goes on; call ``result()`` again to keep waiting.
    """


def _snippet(data: bytes, limit: int = 200) -> str:
    text = data[:limit].decode("utf-8", "replace")
    return " ".join(text.split()) + ("…" if len(data) > limit else "")


#: google.rpc.Code (google/rpc/code.proto) → google-api-core exception class name.
RPC_CODE_NAMES: Mapping[int, str] = {
    1: "Cancelled",
    2: "Unknown",
    3: "InvalidArgument",
    4: "DeadlineExceeded",
    5: "NotFound",
    6: "AlreadyExists",
    7: "PermissionDenied",
    8: "ResourceExhausted",
    9: "FailedPrecondition",
    10: "Aborted",
    11: "OutOfRange",
    12: "MethodNotImplemented",
    13: "InternalServerError",
    14: "ServiceUnavailable",
    15: "DataLoss",
    16: "Unauthenticated",
}
#: google.rpc.Code enum names (the ``error.status`` of JSON error bodies) → class name.
RPC_STATUS_NAMES: Mapping[str, str] = {
    "CANCELLED": "Cancelled",
    "UNKNOWN": "Unknown",
    "INVALID_ARGUMENT": "InvalidArgument",
    "DEADLINE_EXCEEDED": "DeadlineExceeded",
    "NOT_FOUND": "NotFound",
    "ALREADY_EXISTS": "AlreadyExists",
    "PERMISSION_DENIED": "PermissionDenied",
    "RESOURCE_EXHAUSTED": "ResourceExhausted",
    "FAILED_PRECONDITION": "FailedPrecondition",
    "ABORTED": "Aborted",
    "OUT_OF_RANGE": "OutOfRange",
    "UNIMPLEMENTED": "MethodNotImplemented",
    "INTERNAL": "InternalServerError",
    "UNAVAILABLE": "ServiceUnavailable",
    "DATA_LOSS": "DataLoss",
    "UNAUTHENTICATED": "Unauthenticated",
}


#: The ``@type`` of a ``google.rpc.ErrorInfo`` detail in a JSON error body.
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
#: The ``@type`` of a ``google.rpc.RetryInfo`` detail in a JSON error body.
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"


def error_info(details: Any, errors: Any = ()) -> dict[str, Any] | None:
    """What ``exc.reason`` / ``exc.domain`` / ``exc.metadata`` of google-api-core read.

    The first ``google.rpc.ErrorInfo`` of ``details`` (as google-api-core's
    ``format_http_response_error`` takes it); otherwise ``reason`` and ``domain`` of the first
    legacy ``error.errors[]`` entry that has a reason (older APIs), with ``metadata`` None.
    """
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("@type") == ERROR_INFO_TYPE:
            return detail
    for entry in errors if isinstance(errors, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            domain = entry.get("domain")
            return {"reason": entry["reason"], "domain": domain if isinstance(domain, str) else None}
    return None


def retry_delay(details: Any) -> float | None:
    """Seconds from the first ``google.rpc.RetryInfo`` detail's ``retryDelay`` (``"1.5s"``), if any."""
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO_TYPE:
            value = detail.get("retryDelay")
            if isinstance(value, dict):  # the proto3 JSON form is a string; tolerate {seconds, nanos}
                try:
                    return max(0.0, float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9)
                except (TypeError, ValueError):
                    return None
            if isinstance(value, str) and value.endswith("s"):
                try:
                    seconds = float(value[:-1])
                except ValueError:
                    return None
                return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    return None


def _with_reason(message: str, info: Mapping[str, Any] | None) -> str:
    """``message`` followed by ``(reason R, domain D)`` when the error says why; one line."""
    text = " ".join(message.split())
    reason = info.get("reason") if info else None
    if isinstance(reason, str) and reason:
        domain = info.get("domain") if info else None
        text += f" (reason {reason}" + (f", domain {domain}" if isinstance(domain, str) and domain else "") + ")"
    return text


def http_error(status: int, data: bytes, method_id: str, url: str, response: Any = None) -> GoogleAPICallError:
    """The google-api-core exception for an HTTP error response.

    The class follows the HTTP status, refined by the body's ``error.status`` when that names
    a subclass (400 + ``FAILED_PRECONDITION`` → ``FailedPrecondition``). The message is the
    server's ``error.message`` followed by ``[method id]``; ``details`` holds the
    ``google.rpc.Status`` details (ErrorInfo, RetryInfo, QuotaFailure, BadRequest, Help, …)
    and ``errors`` the legacy ``error.errors`` list, both as decoded JSON, as google-api-core's
    ``from_http_response`` keeps them; ``reason``, ``domain`` and ``metadata`` come from the
    ErrorInfo, else (beyond google-api-core) from the first legacy ``errors[]`` entry
    (see :func:`error_info`); ``response`` is the transport's response (its headers carry
    ``Retry-After``). The message is one line and ends with ``(reason R, domain D)`` when the
    error names a reason, so ``str(exc)`` shows status, message and reason.
    """
    from google.api_core import exceptions

    message = ""
    details: list[Any] = []
    errors: list[Any] = []
    rpc_status = ""
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        payload = None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        payload = payload[0]  # a streaming method's error: a JSON array of one error object
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message", ""))
        details = error.get("details") if isinstance(error.get("details"), list) else []  # type: ignore[assignment]
        errors = error.get("errors") if isinstance(error.get("errors"), list) else []  # type: ignore[assignment]
        rpc_status = error.get("status") if isinstance(error.get("status"), str) else ""  # type: ignore[assignment]
    elif isinstance(error, str):
        message = error
    if not message:
        if not data:
            message = f"HTTP {status} with no body"
        elif payload is None:
            message = f"HTTP {status} with a non-JSON body: {_snippet(data)!r}"
        else:
            message = f"HTTP {status} without an error message: {_snippet(data)!r}"
    cls: type[GoogleAPICallError] = exceptions.exception_class_for_http_status(status)
    refined = getattr(exceptions, RPC_STATUS_NAMES.get(rpc_status, ""), None)
    if isinstance(refined, type) and issubclass(refined, cls):
        cls = refined
    info = error_info(details, errors)
    exc = cls(
        _with_reason(f"{message} [{method_id}]", info),
        errors=errors,
        details=details,
        response=response,
        error_info=info,
    )
    if cls.code is None:  # exception_class_for_http_status's fallback class
        exc.code = status
    return exc


def rpc_error(status: Mapping[str, Any], context: str) -> GoogleAPICallError:
    """The google-api-core exception for a ``google.rpc.Status`` dict (an operation's ``error``).

    Chosen by the numeric ``code`` (1 → ``Cancelled``, 5 → ``NotFound``, …; unknown codes →
    ``Unknown``); the message is the status's ``message`` followed by ``[context]``.
    """
    from google.api_core import exceptions

    code = status.get("code")
    name = RPC_CODE_NAMES.get(code, "Unknown") if isinstance(code, int) else "Unknown"
    cls: type[GoogleAPICallError] = getattr(exceptions, name)
    message = str(status.get("message") or f"operation failed with code {code!r}")
    details = status.get("details")
    details = details if isinstance(details, list) else []
    info = error_info(details)
    exc = cls(_with_reason(f"{message} [{context}]", info), details=details, error_info=info)
    if cls.code is None:  # Unknown and DataLoss: HTTP 500, as google/rpc/code.proto maps them
        exc.code = 500
    return exc

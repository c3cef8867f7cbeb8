"""Retry decisions: which failures to retry, how long to wait, when to give up.

Pure functions and small value types, independent of any transport, so that the sync and
async clients share one set of rules.

The default policy (:data:`DEFAULT_RETRY`) retries only idempotent methods (GET, HEAD,
OPTIONS, PUT, DELETE), on HTTP 408, 429, 500, 502, 503 and 504, on a 403 whose reason says
a rate limit was hit (``rateLimitExceeded``, ``userRateLimitExceeded``, as Drive, Gmail and
YouTube answer; ``RATE_LIMIT_EXCEEDED``), and on connection failures
that happened before any byte of a response arrived. It waits with exponential backoff and
full jitter (1 s initial, ×2, at most 60 s between attempts), honours ``Retry-After`` and
the ``retryDelay`` of a ``google.rpc.RetryInfo`` error detail, and
gives up when the next wait would end after the 120 s deadline. POST and PATCH are never
retried by the default policy: the server may have acted on the first request.

A call's ``retry=`` may also be a ``google.api_core.retry.Retry``: its predicate, delays,
timeout and ``on_error`` are used (see :func:`as_policy`); its predicate then decides alone,
whatever the HTTP method.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gapi_runtime.errors import ConnectError, TLSError, retry_delay

__all__ = [
    "DEFAULT_RETRY",
    "IDEMPOTENT_METHODS",
    "RATE_LIMIT_REASONS",
    "RETRYABLE_STATUS_CODES",
    "RetryPolicy",
    "RetryState",
    "as_policy",
    "default_predicate",
    "parse_retry_after",
]

#: HTTP methods the default policy retries: repeating them has the same effect as sending once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: HTTP statuses the default policy retries.
RETRYABLE_STATUS_CODES = frozenset({408, 429, 500, 502, 503, 504})
#: Reasons of a 403 that the default policy retries: the caller went too fast, and a later
#: attempt succeeds (the legacy ``errors[].reason`` of Drive, Gmail, YouTube, which
#: googleapiclient retries too, and the ``google.rpc.ErrorInfo`` reason). Quota and
#: permission 403s are not retried.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})

Predicate = Callable[[BaseException], bool]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often to retry a failed request.

    Args:
        initial: Upper bound of the first wait, in seconds.
        multiplier: Factor by which the bound grows after each attempt.
        maximum: Largest bound of any wait, in seconds.
        timeout: Deadline for the whole call, retries included, in seconds from its start
            (None: no deadline). A wait that would end after it is not started.
        predicate: ``predicate(exception) -> bool``; None means :func:`default_predicate`
            (which looks at the HTTP method too).
        on_error: Called with each exception that is about to be retried.

    Each wait is drawn uniformly from ``[0, bound]`` (full jitter); a ``Retry-After``
    header on the response replaces it.
    """

    initial: float = 1.0
    multiplier: float = 2.0
    maximum: float = 60.0
    timeout: float | None = 120.0
    predicate: Predicate | None = None
    on_error: Callable[[Exception], Any] | None = None

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.multiplier >= 1 and self.maximum >= 0):
            raise ValueError("RetryPolicy needs initial > 0, multiplier >= 1 and maximum >= 0")
        if self.timeout is not None and not self.timeout >= 0:
            raise ValueError("RetryPolicy timeout must be >= 0 or None")

    def bound(self, attempt: int) -> float:
        """The largest wait after failed attempt number ``attempt`` (1-based)."""
        if attempt > 64:
            return self.maximum
        return float(min(self.initial * self.multiplier ** (attempt - 1), self.maximum))

    def should_retry(self, http_method: str, exc: BaseException) -> bool:
        if self.predicate is not None:
            return bool(self.predicate(exc))
        return default_predicate(http_method, exc)


#: The policy calls use unless the client or the call says otherwise.
DEFAULT_RETRY = RetryPolicy()


def default_predicate(http_method: str, exc: BaseException) -> bool:
    """The default rule: idempotent method, and a retryable status (or a rate-limited 403) or an
    early connection failure."""
    if http_method not in IDEMPOTENT_METHODS:
        return False
    if isinstance(exc, ConnectError):
        return not exc.response_started and not isinstance(exc, TLSError)
    code = getattr(exc, "code", None)
    if not isinstance(code, int) or getattr(exc, "response", None) is None:
        return False
    return code in RETRYABLE_STATUS_CODES or (code == 403 and getattr(exc, "reason", None) in RATE_LIMIT_REASONS)


def as_policy(retry: Any) -> RetryPolicy:
    """A :class:`RetryPolicy` from ours or from a ``google.api_core.retry.Retry``.

    The Retry's predicate, initial, multiplier, maximum, timeout and on_error are read; the
    object is not called. Raises TypeError for anything else.
    """
    if isinstance(retry, RetryPolicy):
        return retry
    try:
        predicate = retry._predicate
        initial, multiplier, maximum = retry._initial, retry._multiplier, retry._maximum
        timeout = retry._timeout
        on_error = getattr(retry, "_on_error", None)
    except AttributeError:
        raise TypeError(
            f"retry must be a google.api_core.retry.Retry, a RetryPolicy or None, got {type(retry).__name__}"
        ) from None
    if not callable(predicate):
        raise TypeError("retry's predicate is not callable")
    return RetryPolicy(
        initial=float(initial),
        multiplier=float(multiplier),
        maximum=float(maximum),
        timeout=None if timeout is None else float(timeout),
        predicate=predicate,
        on_error=on_error,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    Returns None when the value is missing or malformed; dates in the past give 0.
    ``now`` is a POSIX timestamp (default: the current time).
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_of(exc: BaseException) -> float | None:
    """The ``Retry-After`` of the HTTP error response ``exc`` carries, if any."""
    response = getattr(exc, "response", None)
    headers: Mapping[str, str] | None = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    if value is None:
        for key, item in headers.items():
            if key.lower() == "retry-after":
                value = item
                break
    return parse_retry_after(value)


def server_delay(exc: BaseException) -> float | None:
    """The wait the server asked for: ``Retry-After`` or a ``google.rpc.RetryInfo`` detail's
    ``retryDelay`` (the longer when both are given); None when it asked for none."""
    after = retry_after_of(exc)
    info = retry_delay(getattr(exc, "details", None)) if getattr(exc, "response", None) is not None else None
    if after is None:
        return info
    return after if info is None else max(after, info)


def describe(exc: BaseException) -> str:
    """A short, secret-free reason for logs: ``HTTP 503`` or the exception type."""
    code = getattr(exc, "code", None)
    if isinstance(code, int) and getattr(exc, "response", None) is not None:
        return f"HTTP {int(code)}"
    return type(exc).__name__


class RetryState:
    """The retry bookkeeping of one call; created only after its first failure.

    ``started`` is the call's start on the :func:`time.monotonic` clock.
    """

    __slots__ = ("attempt", "deadline", "http_method", "policy")

    def __init__(self, policy: RetryPolicy, http_method: str, started: float) -> None:
        self.policy = policy
        self.http_method = http_method
        self.attempt = 1  # number of attempts made so far
        self.deadline = None if policy.timeout is None else started + policy.timeout

    def next_delay(self, exc: BaseException, now: float, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise ``exc``."""
        if not isinstance(exc, Exception) or not self.policy.should_retry(self.http_method, exc):
            return None
        delay = server_delay(exc)
        if delay is None:
            delay = rand() * self.policy.bound(self.attempt)
        if self.deadline is not None and now + delay > self.deadline:
            return None
        if self.policy.on_error is not None:
            self.policy.on_error(exc)
        self.attempt += 1
        return delay

    def remaining(self, now: float) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - now)

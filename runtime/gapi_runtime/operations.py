"""Long-running operations (google/longrunning/operations.proto): wait, inspect, cancel.

A generated client whose API has an ``operations`` resource with ``get`` offers
``client.operation(op_or_name)``, which returns an :class:`Operation` handle. The decisions —
which ``operations`` resource serves a name, whether an operation is done, what its outcome
is, how long to wait between polls — are pure functions here, shared by sync and async code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from gapi_runtime.client import DEFAULT, RetryArg, TimeoutArg
from gapi_runtime.clock import SYSTEM_CLOCK, Clock
from gapi_runtime.errors import OperationTimeout, rpc_error

if TYPE_CHECKING:
    from gapi_runtime.client import ApiCore
    from gapi_runtime.retry import RetryPolicy
    from gapi_runtime.spec import MethodSpec

__all__ = [
    "CANCELLED",
    "DEFAULT_POLLING",
    "Operation",
    "OperationBase",
    "OperationMethods",
    "PollingPolicy",
    "WaitPlan",
    "choose_methods",
    "outcome",
]

#: google.rpc.Code.CANCELLED: the ``error.code`` of an operation that was cancelled.
CANCELLED = 1
#: The shortest timeout a poll gets, even when the wait's deadline has (nearly) passed.
_MIN_POLL = 1.0

#: An operations resource's ``get`` and (if it has one) ``cancel`` method.
OperationMethods = tuple["MethodSpec[Any]", Union["MethodSpec[Any]", None]]


@dataclass(frozen=True)
class PollingPolicy:
    """How :meth:`Operation.result` polls: waits grow from ``initial`` by ``multiplier`` up to
    ``maximum`` seconds; ``timeout`` is the default overall wait (None: no limit).

    The defaults are google-api-core's: 1 s, ×1.5, 20 s, 900 s.
    """

    initial: float = 1.0
    multiplier: float = 1.5
    maximum: float = 20.0
    timeout: float | None = 900.0

    def __post_init__(self) -> None:
        if not (self.initial >= 0 and self.multiplier >= 1 and self.maximum >= 0):
            raise ValueError("PollingPolicy needs initial >= 0, multiplier >= 1 and maximum >= 0")

    def delays(self) -> Iterator[float]:
        """The waits between polls: ``initial``, ``initial × multiplier``, … capped at ``maximum``."""
        delay = min(self.initial, self.maximum)
        while True:
            yield delay
            delay = min(delay * self.multiplier, self.maximum)


DEFAULT_POLLING = PollingPolicy()


def choose_methods(name: str, candidates: Sequence[OperationMethods]) -> OperationMethods:
    """The first operations resource whose ``get`` accepts ``name`` (by its path pattern)."""
    for methods in candidates:
        params = methods[0].path_params
        regex = params[0].regex() if params else None
        if regex is None or regex.fullmatch(name):
            return methods
    patterns = ", ".join(repr(m[0].path_params[0].pattern) for m in candidates if m[0].path_params)
    raise ValueError(f"{name!r} is not an operation name of this API (expected one matching {patterns})")


def is_done(state: Mapping[str, Any]) -> bool:
    return state.get("done") is True


def outcome(state: Mapping[str, Any], name: str) -> Any:
    """A done operation's ``response`` (``{}`` if it has none), or raise its ``error``.

    The error becomes the google-api-core exception of its ``google.rpc.Code``
    (1 → ``Cancelled``, 5 → ``NotFound``, …).
    """
    error = state.get("error")
    if isinstance(error, Mapping) and error.get("code"):
        raise rpc_error(error, f"operation {name}")
    response = state.get("response")
    return {} if response is None else response


class OperationBase:
    """What the sync :class:`Operation` and the async ``AsyncOperation`` share: the last known
    state, reading it, and every decision; the subclasses only do the I/O."""

    def __init__(
        self,
        operation: Mapping[str, Any] | str | OperationBase,
        candidates: Sequence[OperationMethods],
        polling: PollingPolicy | None = None,
    ) -> None:
        if isinstance(operation, OperationBase):
            state: Mapping[str, Any] = operation._state
        elif isinstance(operation, str):
            state = {"name": operation}
        elif isinstance(operation, Mapping):
            state = operation
        else:
            raise TypeError(f"expected an Operation dict or an operation name, got {type(operation).__name__}")
        name = state.get("name")
        if not isinstance(name, str) or not name:
            if not is_done(state):
                raise ValueError("the operation has no name, so it cannot be polled")
            name = ""
        self._state: Mapping[str, Any] = dict(state)
        self._name = name
        self._polling = polling or DEFAULT_POLLING
        self._get, self._cancel = choose_methods(name, candidates) if name else (candidates[0][0], None)

    @property
    def name(self) -> str:
        """The operation's resource name."""
        return self._name

    @property
    def metadata(self) -> Any:
        """The service-specific metadata of the last known state (``None`` if there is none)."""
        return self._state.get("metadata")

    @property
    def operation(self) -> Mapping[str, Any]:
        """The last known state: the ``google.longrunning.Operation`` as decoded JSON."""
        return self._state

    def _store(self, state: object) -> Mapping[str, Any]:
        """Keep what ``operations.get`` returned as the last known state."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{self._get.id} returned {type(state).__name__}, not an Operation")
        self._state = state
        return state

    def _cancel_spec(self) -> MethodSpec[Any] | None:
        """The cancel method to send, or None when the operation is known to be done (send nothing).

        Raises MethodNotImplemented when the API has no cancel method for this operation.
        """
        if is_done(self._state):
            return None
        spec = self._cancel
        if spec is None:
            from google.api_core import exceptions

            raise exceptions.MethodNotImplemented(f"this API has no cancel method for operation {self._name}")
        return spec

    def _was_cancelled(self) -> bool:
        """Whether a done operation ended because it was cancelled (``error.code == 1``)."""
        error = self._state.get("error")
        return isinstance(error, Mapping) and error.get("code") == CANCELLED

    def _error(self) -> Exception | None:
        """A done operation's error as an exception, or None."""
        try:
            outcome(self._state, self._name)
        except Exception as exc:
            return exc
        return None

    def _plan(self, api: Any, timeout: float | None, polling: PollingPolicy | None) -> WaitPlan:
        # The client's defaults (runtime-internal attributes of ApiCore and AsyncApiCore).
        return WaitPlan(
            self._name,
            polling or self._polling,
            timeout,
            api._timeout,
            api._retry,
            self._get.http_method,
            clock=getattr(api, "clock", SYSTEM_CLOCK),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} done={is_done(self._state)}>"


class WaitPlan:
    """The decisions of one wait for an operation: when to poll, with which timeout and retry,
    which failures to wait through, and when to give up.

    Each poll's own timeout and retries are cut to the time left, so a stalled or failing
    server cannot stretch the wait much beyond its timeout. Without a timeout (``None`` and a
    policy without one) polls use the client's defaults and every failure propagates.
    """

    __slots__ = ("client_retry", "client_timeout", "clock", "deadline", "delays", "failure", "get_method", "limit",
                 "name", "polled")

    def __init__(
        self,
        name: str,
        policy: PollingPolicy,
        timeout: float | None,
        client_timeout: float | None,
        client_retry: RetryPolicy | None,
        get_method: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.name = name
        self.clock = clock
        self.limit = policy.timeout if timeout is None else timeout
        self.deadline = None if self.limit is None else clock.monotonic() + self.limit
        self.delays = policy.delays()
        self.client_timeout = client_timeout
        self.client_retry = client_retry
        self.get_method = get_method
        self.polled = False
        #: The last poll's transient failure (None after a poll that worked).
        self.failure: Exception | None = None

    def next_delay(self) -> float:
        """Seconds to sleep before the next poll (0 before the first one, which always happens).

        Raises :class:`~gapi_runtime.errors.OperationTimeout` when the time is up.
        """
        if not self.polled:
            self.polled = True
            return 0.0
        if self.deadline is None:
            return next(self.delays)
        now = self.clock.monotonic()
        if now >= self.deadline:
            raise OperationTimeout(
                f"operation {self.name} is not done after {self.limit:g} s"
                + (f" (last poll: {self.failure})" if self.failure is not None else "")
            ) from self.failure
        return min(next(self.delays), self.deadline - now)

    def poll_options(self) -> tuple[TimeoutArg, RetryArg]:
        """The timeout and retry policy of the next poll: the client's, cut to the time left."""
        if self.deadline is None:
            return DEFAULT, DEFAULT
        budget = max(self.deadline - self.clock.monotonic(), _MIN_POLL)
        timeout = self.client_timeout
        retry = self.client_retry
        if timeout is None or timeout > budget:
            timeout = budget
        if retry is not None and (retry.timeout is None or retry.timeout > budget):
            retry = dataclasses.replace(retry, timeout=budget)
        return timeout, retry

    def tolerates(self, exc: Exception) -> bool:
        """True if the wait goes on after this poll failure (it timed out, or failed in a way the
        client's retry policy retries); it is kept as :attr:`failure`. Other failures propagate."""
        if self.deadline is None:
            return False
        retry = self.client_retry
        if isinstance(exc, TimeoutError) or (retry is not None and retry.should_retry(self.get_method, exc)):
            self.failure = exc
            return True
        return False


class Operation(OperationBase):
    """A handle on one long-running operation.

    Create it with the client's ``operation(op_or_name)``. Every method that talks to the
    server uses the client's credentials, timeout and retry policy (polling GETs are
    retried on 429/5xx like any GET).
    """

    def __init__(
        self,
        api: ApiCore,
        operation: Mapping[str, Any] | str | OperationBase,
        candidates: Sequence[OperationMethods],
        polling: PollingPolicy | None = None,
    ) -> None:
        super().__init__(operation, candidates, polling)
        self._api = api

    def refresh(self, timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Mapping[str, Any]:
        """Fetch the current state with ``operations.get`` and return it.

        ``timeout`` and ``retry`` are those of any call (default: the client's).
        """
        spec = self._get
        return self._store(self._api.call(spec, (self._name,), (None,) * len(spec.query), None, timeout, retry))

    def done(self) -> bool:
        """True once the operation finished (succeeded, failed or was cancelled).

        Sends ``operations.get`` unless it is already known to be done.
        """
        if not is_done(self._state):
            self.refresh()
        return is_done(self._state)

    def cancelled(self) -> bool:
        """True if the operation ended because it was cancelled (``error.code == 1``).

        Refreshes first unless the operation is already known to be done.
        """
        return self.done() and self._was_cancelled()

    def cancel(self) -> bool:
        """Ask the server to cancel the operation (best effort, as operations.proto says).

        Returns False, sending nothing, if the operation is already known to be done;
        otherwise sends ``operations.cancel`` and returns True. The operation is not
        deleted; check :meth:`cancelled` or :meth:`result` for the outcome. Raises
        ``google.api_core.exceptions.MethodNotImplemented`` when the server does not
        support cancellation (UNIMPLEMENTED, HTTP 501) or the API has no cancel method.
        """
        spec = self._cancel_spec()
        if spec is None:
            return False
        self._api.call(spec, (self._name,), (None,) * len(spec.query), {} if spec.has_body else None)
        return True

    def result(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Any:
        """Wait until the operation is done and return its ``response`` (``{}`` if none).

        Polls ``operations.get`` (waits: ``polling``, default 1 s ×1.5 up to 20 s). Raises
        the google-api-core exception mapped from the operation's ``error`` (code 1 →
        ``Cancelled``), or :class:`~gapi_runtime.errors.OperationTimeout` (a
        :class:`TimeoutError`) if it is not done after ``timeout`` seconds (default: the
        polling policy's, 900 s).
        """
        self.wait(timeout, polling)
        return outcome(self._state, self._name)

    def exception(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Exception | None:
        """Wait like :meth:`result`; return the operation's error as an exception, or None."""
        self.wait(timeout, polling)
        return self._error()

    def wait(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Mapping[str, Any]:
        """Poll until done and return the final state; raise OperationTimeout after ``timeout``.

        Each poll's own timeout and retries are cut to the time left, so a stalled or failing
        server cannot stretch the wait much beyond ``timeout`` (see :class:`WaitPlan`).
        """
        plan = self._plan(self._api, timeout, polling)
        while not is_done(self._state):
            delay = plan.next_delay()
            if delay:
                self._api.clock.sleep(delay)
            poll_timeout, poll_retry = plan.poll_options()
            try:
                self.refresh(poll_timeout, poll_retry)
            except Exception as exc:
                if not plan.tolerates(exc):
                    raise
            else:
                plan.failure = None
        return self._state

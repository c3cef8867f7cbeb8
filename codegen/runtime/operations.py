"""Long-running operations (google/longrunning/operations.proto): wait, inspect, cancel.

A generated client whose API has an ``operations`` resource with ``get`` offers
``client.operation(op_or_name)``, which returns an :class:`Operation` handle. The decisions —
which ``operations`` resource serves a name, whether an operation is done, what its outcome
is, how long to wait between polls — are pure functions here, shared by sync and async code.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from codegen.runtime.client import DEFAULT, RetryArg, TimeoutArg
from codegen.runtime.errors import OperationTimeout, rpc_error

if TYPE_CHECKING:
    from codegen.runtime.client import ApiCore
    from codegen.runtime.spec import MethodSpec

__all__ = [
    "CANCELLED",
    "DEFAULT_POLLING",
    "Operation",
    "OperationMethods",
    "PollingPolicy",
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


class Operation:
    """A handle on one long-running operation.

    Create it with the client's ``operation(op_or_name)``. Every method that talks to the
    server uses the client's credentials, timeout and retry policy (polling GETs are
    retried on 429/5xx like any GET).
    """

    def __init__(
        self,
        api: ApiCore,
        operation: Mapping[str, Any] | str | Operation,
        candidates: Sequence[OperationMethods],
        polling: PollingPolicy | None = None,
    ) -> None:
        if isinstance(operation, Operation):
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
        self._api = api
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

    def refresh(self, timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Mapping[str, Any]:
        """Fetch the current state with ``operations.get`` and return it.

        ``timeout`` and ``retry`` are those of any call (default: the client's).
        """
        spec = self._get
        state = self._api.call(spec, (self._name,), (None,) * len(spec.query), None, timeout, retry)
        if not isinstance(state, Mapping):
            raise TypeError(f"{spec.id} returned {type(state).__name__}, not an Operation")
        self._state = state
        return state

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
        if not self.done():
            return False
        error = self._state.get("error")
        return isinstance(error, Mapping) and error.get("code") == CANCELLED

    def cancel(self) -> bool:
        """Ask the server to cancel the operation (best effort, as operations.proto says).

        Returns False, sending nothing, if the operation is already known to be done;
        otherwise sends ``operations.cancel`` and returns True. The operation is not
        deleted; check :meth:`cancelled` or :meth:`result` for the outcome. Raises
        ``google.api_core.exceptions.MethodNotImplemented`` when the server does not
        support cancellation (UNIMPLEMENTED, HTTP 501) or the API has no cancel method.
        """
        if is_done(self._state):
            return False
        spec = self._cancel
        if spec is None:
            from google.api_core import exceptions

            raise exceptions.MethodNotImplemented(f"this API has no cancel method for operation {self._name}")
        self._api.call(spec, (self._name,), (None,) * len(spec.query), {} if spec.has_body else None)
        return True

    def result(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Any:
        """Wait until the operation is done and return its ``response`` (``{}`` if none).

        Polls ``operations.get`` (waits: ``polling``, default 1 s ×1.5 up to 20 s). Raises
        the google-api-core exception mapped from the operation's ``error`` (code 1 →
        ``Cancelled``), or :class:`~codegen.runtime.errors.OperationTimeout` (a
        :class:`TimeoutError`) if it is not done after ``timeout`` seconds (default: the
        polling policy's, 900 s).
        """
        self.wait(timeout, polling)
        return outcome(self._state, self._name)

    def exception(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Exception | None:
        """Wait like :meth:`result`; return the operation's error as an exception, or None."""
        self.wait(timeout, polling)
        try:
            outcome(self._state, self._name)
        except Exception as exc:
            return exc
        return None

    def wait(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Mapping[str, Any]:
        """Poll until done and return the final state; raise OperationTimeout after ``timeout``.

        Each poll's own timeout and retries are cut to the time left, so a stalled or failing
        server cannot stretch the wait much beyond ``timeout``.
        """
        policy = polling or self._polling
        limit = policy.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        delays = policy.delays()
        polled = False
        failure: Exception | None = None  # the last transient poll failure
        while not is_done(self._state):
            if deadline is None or limit is None:
                if polled:
                    time.sleep(next(delays))
                self.refresh()
            else:
                now = time.monotonic()
                if polled:
                    if now >= deadline:
                        raise OperationTimeout(
                            f"operation {self._name} is not done after {limit:g} s"
                            + (f" (last poll: {failure})" if failure is not None else "")
                        ) from failure
                    time.sleep(min(next(delays), deadline - now))
                failure = self._poll_within(deadline)
            polled = True
        return self._state

    def _poll_within(self, deadline: float) -> Exception | None:
        """One ``refresh`` whose timeout and retry deadline fit in the time left.

        Returns the error of a poll that failed transiently (timed out, or failed in a way the
        client's retry policy retries): the wait goes on until its deadline. Other failures
        (403, 404, …) propagate.
        """
        budget = max(deadline - time.monotonic(), _MIN_POLL)
        api = self._api
        timeout = api._timeout  # the client's defaults (runtime-internal)
        retry = api._retry
        if timeout is None or timeout > budget:
            timeout = budget
        if retry is not None and (retry.timeout is None or retry.timeout > budget):
            retry = dataclasses.replace(retry, timeout=budget)
        try:
            self.refresh(timeout, retry)
        except Exception as exc:
            transient = retry.should_retry(self._get.http_method, exc) if retry is not None else False
            if isinstance(exc, TimeoutError) or transient:
                return exc
            raise
        return None

    def __repr__(self) -> str:
        return f"<Operation {self._name!r} done={is_done(self._state)}>"

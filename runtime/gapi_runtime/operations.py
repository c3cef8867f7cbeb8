"""Long-running operations: wait, inspect, cancel.

A generated client whose API has an ``operations`` resource with ``get`` offers
``client.operation(op_or_name)``, which returns an :class:`Operation` handle. The decisions —
which ``operations`` resource serves a name, whether an operation is done, what its outcome
is, how long to wait between polls — are pure functions here, shared by sync and async code.

Operations of the other shape — a ``status`` enum that reaches ``DONE`` (compute, container,
sqladmin, deploymentmanager) — get a :class:`StatusOperation`. The generator describes them
as :class:`StatusOperationKind` data (read from the document); the handle interprets it:
it locates the operation by its ``selfLink``, polls the resource's ``wait`` or ``get``, and
maps ``error`` to an exception.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

from gapi_runtime.client import DEFAULT, CoreBase, RetryArg, TimeoutArg
from gapi_runtime.errors import OperationTimeout, rpc_error
from gapi_runtime.retry import RetryPolicy, default_predicate
from gapi_runtime.steps import Call, Sleep, Steps

if TYPE_CHECKING:
    from gapi_runtime.client import ApiCore
    from gapi_runtime.spec import MethodSpec

__all__ = [
    "CANCELLED",
    "DEFAULT_POLLING",
    "HandleBase",
    "Operation",
    "OperationBase",
    "OperationMethods",
    "PollingPolicy",
    "StatusOperation",
    "StatusOperationBase",
    "StatusOperationKind",
    "StatusRoute",
    "SyncHandle",
    "WaitPlan",
    "choose_methods",
    "locate",
    "operation_handle",
    "outcome",
    "status_error",
]

_CoreT = TypeVar("_CoreT", bound=CoreBase[Any])
_RouteT = TypeVar("_RouteT")

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
    (1 → ``Cancelled``, 5 → ``NotFound``, …; none → ``Unknown``): an operation with an
    ``error`` failed, whatever its code says (google-api-core raises too).
    """
    error = state.get("error")
    if isinstance(error, Mapping) and error:
        raise rpc_error(error, f"operation {name}")
    response = state.get("response")
    return {} if response is None else response


class HandleBase(Generic[_CoreT, _RouteT]):
    """What every operation handle shares, sync or async, of either shape: the client's core,
    the last known state, and the protocols of its methods (see :mod:`gapi_runtime.steps`),
    written once over a few hooks of the shape (:class:`OperationBase`,
    :class:`StatusOperationBase`). The sync and async handles only run them."""

    _state: Mapping[str, Any]
    _name: str
    #: What a state must be, for error messages.
    _KIND = "an Operation"

    def __init__(
        self,
        api: _CoreT,
        operation: Mapping[str, Any] | str | HandleBase[Any, _RouteT],
        routes: Sequence[_RouteT],
        polling: PollingPolicy | None = None,
    ) -> None:
        """A handle on ``operation`` (its state, or the string that names it), re-read through
        ``routes`` (the operations methods that may serve it), waited for with ``polling``."""
        self._api = api
        self._polling = polling or DEFAULT_POLLING
        self._begin(operation, routes)

    def _begin(self, operation: object, routes: Sequence[_RouteT]) -> None:
        """Take the operation's state and find what serves it (raises for what cannot be followed)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The operation's name."""
        return self._name

    @property
    def operation(self) -> Mapping[str, Any]:
        """The last known state: the operation as decoded JSON."""
        return self._state

    # --- the hooks of each shape ---

    def _is_done(self) -> bool:
        raise NotImplementedError

    def _get_call(self, timeout: TimeoutArg, retry: RetryArg) -> Call:
        """The call that re-reads the operation."""
        raise NotImplementedError

    def _poll_call(self, timeout: TimeoutArg, retry: RetryArg) -> Call:
        """The call each poll of a wait sends."""
        return self._get_call(timeout, retry)

    def _cancel_call(self) -> Call | None:
        """The cancel call to send, or None when the operation is known to be done (send nothing)."""
        raise NotImplementedError

    def _store(self, spec: MethodSpec[Any], state: object) -> Mapping[str, Any]:
        """Keep what ``spec`` (a get or a wait) returned as the last known state."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{spec.id} returned {type(state).__name__}, not {self._KIND}")
        self._state = state
        return state

    def _outcome(self) -> Any:
        """A done operation's result, or raise its failure."""
        raise NotImplementedError

    def _error(self) -> Exception | None:
        """A done operation's failure as an exception, or None."""
        raise NotImplementedError

    def _plan(self, timeout: float | None, polling: PollingPolicy | None) -> WaitPlan:
        raise NotImplementedError

    def _tolerates(self, plan: WaitPlan, exc: Exception) -> bool:
        """Whether a wait goes on after this poll failure."""
        return plan.tolerates(exc)

    # --- the protocols of the public methods ---

    def _refresh_steps(self, timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Steps[Mapping[str, Any]]:
        call = self._get_call(timeout, retry)
        return self._store(call.spec, (yield call))

    def _done_steps(self) -> Steps[bool]:
        if not self._is_done():
            yield from self._refresh_steps()
        return self._is_done()

    def _cancel_steps(self) -> Steps[bool]:
        call = self._cancel_call()
        if call is None:
            return False
        yield call
        return True

    def _wait_steps(self, timeout: float | None, polling: PollingPolicy | None) -> Steps[Mapping[str, Any]]:
        plan = self._plan(timeout, polling)
        while not self._is_done():
            delay = plan.next_delay()
            if delay:
                yield Sleep(delay)
            call = self._poll_call(*plan.poll_options())
            try:
                self._store(call.spec, (yield call))
            except Exception as exc:
                if not self._tolerates(plan, exc):
                    raise
            else:
                plan.failure = None
        return self._state

    def _result_steps(self, timeout: float | None, polling: PollingPolicy | None) -> Steps[Any]:
        yield from self._wait_steps(timeout, polling)
        return self._outcome()

    def _exception_steps(self, timeout: float | None, polling: PollingPolicy | None) -> Steps[Exception | None]:
        yield from self._wait_steps(timeout, polling)
        return self._error()


def _state_of(operation: object, shape: type[HandleBase[Any, Any]], what: str) -> Mapping[str, Any] | str:
    """The state a handle starts from: another handle's, a dict's, or a string (to interpret)."""
    if isinstance(operation, shape):
        return operation._state
    if isinstance(operation, (str, Mapping)):
        return operation
    raise TypeError(f"expected an Operation dict or {what}, got {type(operation).__name__}")


class OperationBase(HandleBase[_CoreT, OperationMethods]):
    """What the sync :class:`Operation` and the async ``AsyncOperation`` share: a
    google.longrunning operation's state, reading it, and every decision."""

    def _begin(self, operation: object, candidates: Sequence[OperationMethods]) -> None:
        state = _state_of(operation, OperationBase, "an operation name")
        if isinstance(state, str):
            state = {"name": state}
        name = state.get("name")
        if not isinstance(name, str) or not name:
            if not is_done(state):
                raise ValueError("the operation has no name, so it cannot be polled")
            name = ""
        self._state = dict(state)
        self._name = name
        self._get, self._cancel = choose_methods(name, candidates) if name else (candidates[0][0], None)

    @property
    def metadata(self) -> Any:
        """The service-specific metadata of the last known state (``None`` if there is none)."""
        return self._state.get("metadata")

    def _is_done(self) -> bool:
        return is_done(self._state)

    def _get_call(self, timeout: TimeoutArg, retry: RetryArg) -> Call:
        spec = self._get
        return Call(spec, (self._name,), (None,) * len(spec.query), None, timeout, retry)

    def _cancel_call(self) -> Call | None:
        """Raises MethodNotImplemented when the API has no cancel method for this operation."""
        if is_done(self._state):
            return None
        spec = self._cancel
        if spec is None:
            from google.api_core import exceptions

            raise exceptions.MethodNotImplemented(f"this API has no cancel method for operation {self._name}")
        return Call(spec, (self._name,), (None,) * len(spec.query), {} if spec.has_body else None, DEFAULT, DEFAULT)

    def _was_cancelled(self) -> bool:
        """Whether a done operation ended because it was cancelled (``error.code == 1``)."""
        error = self._state.get("error")
        return isinstance(error, Mapping) and error.get("code") == CANCELLED

    def _cancelled_steps(self) -> Steps[bool]:
        return (yield from self._done_steps()) and self._was_cancelled()

    def _outcome(self) -> Any:
        return outcome(self._state, self._name)

    def _error(self) -> Exception | None:
        try:
            outcome(self._state, self._name)
        except Exception as exc:
            return exc
        return None

    def _plan(self, timeout: float | None, polling: PollingPolicy | None) -> WaitPlan:
        return WaitPlan(self._name, polling or self._polling, timeout, self._get.http_method, self._api)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} done={is_done(self._state)}>"


class WaitPlan:
    """The decisions of one wait for an operation: when to poll, with which timeout and retry,
    which failures to wait through, and when to give up.

    Each poll's own timeout and retries are cut to the time left, so a stalled or failing
    server cannot stretch the wait much beyond its timeout. Without a timeout (``None`` and a
    policy without one) polls use the client's defaults and every failure propagates.
    """

    __slots__ = (
        "client_retry",
        "client_timeout",
        "clock",
        "deadline",
        "delays",
        "failure",
        "get_method",
        "limit",
        "name",
        "polled",
    )

    def __init__(self, name: str, policy: PollingPolicy, timeout: float | None, get_method: str, api: CoreBase[Any]):
        """Plan the wait for operation ``name`` with ``policy`` and ``timeout`` (None: the
        policy's); ``get_method`` is the HTTP method of a poll, ``api`` the client's core (its
        timeout, retry policy and clock are the polls' defaults)."""
        self.name = name
        self.clock = clock = api.clock
        self.limit = policy.timeout if timeout is None else timeout
        self.deadline = None if self.limit is None else clock.monotonic() + self.limit
        self.delays = policy.delays()
        self.client_timeout = api._timeout
        self.client_retry = api._retry
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


class SyncHandle(HandleBase["ApiCore", Any]):
    """The methods of the sync operation handles (:class:`Operation`, :class:`StatusOperation`).

    Every method that talks to the server uses the client's credentials, timeout and retry
    policy (polling GETs are retried on 429/5xx like any GET).
    """

    def refresh(self, timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Mapping[str, Any]:
        """Fetch the current state (``operations.get``, or the resource's ``get``) and return it.

        ``timeout`` and ``retry`` are those of any call (default: the client's).
        """
        return self._api._drive(self._refresh_steps(timeout, retry))

    def done(self) -> bool:
        """True once the operation finished (succeeded, failed or was cancelled).

        Re-reads it unless it is already known to be done.
        """
        return self._api._drive(self._done_steps())

    def cancel(self) -> bool:
        """Ask the server to cancel the operation (best effort, as operations.proto says).

        Returns False, sending nothing, if the operation is already known to be done;
        otherwise sends the cancel method and returns True. The operation is not deleted;
        check :meth:`result` for the outcome. Raises
        ``google.api_core.exceptions.MethodNotImplemented`` when the server does not
        support cancellation (UNIMPLEMENTED, HTTP 501) or the API has no cancel method for it.
        """
        return self._api._drive(self._cancel_steps())

    def result(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Any:
        """Wait until the operation is done and return its outcome: a google.longrunning
        operation's ``response`` (``{}`` if none), a status operation's final state (its
        ``targetLink`` names the resource).

        Polls (waits: ``polling``, default 1 s ×1.5 up to 20 s). Raises the operation's failure
        as a google-api-core exception (a google.rpc code: 1 → ``Cancelled``…; status
        operations: every ``error.errors[]`` entry, class from ``httpErrorStatusCode``), or
        :class:`~gapi_runtime.errors.OperationTimeout` (a :class:`TimeoutError`) if it is not
        done after ``timeout`` seconds (default: the polling policy's, 900 s).
        """
        return self._api._drive(self._result_steps(timeout, polling))

    def exception(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Exception | None:
        """Wait like :meth:`result`; return the operation's failure as an exception, or None."""
        return self._api._drive(self._exception_steps(timeout, polling))

    def wait(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Mapping[str, Any]:
        """Poll until done and return the final state; raise OperationTimeout after ``timeout``.

        Each poll's own timeout and retries are cut to the time left, so a stalled or failing
        server cannot stretch the wait much beyond ``timeout`` (see :class:`WaitPlan`).
        """
        return self._api._drive(self._wait_steps(timeout, polling))


class Operation(OperationBase["ApiCore"], SyncHandle):
    """A handle on one long-running operation.

    Create it with the client's ``operation(op_or_name)``. Every method that talks to the
    server uses the client's credentials, timeout and retry policy (polling GETs are
    retried on 429/5xx like any GET).
    """

    def cancelled(self) -> bool:
        """True if the operation ended because it was cancelled (``error.code == 1``).

        Refreshes first unless the operation is already known to be done.
        """
        return self._api._drive(self._cancelled_steps())


# --- operations whose ``status`` reaches DONE (compute, container, sqladmin, …) --------------

#: One way to re-read a status operation: its resource's ``get``, ``wait`` (a server-side long
#: poll; None when the resource has none) and ``cancel`` (None when it has none).
StatusRoute = tuple["MethodSpec[Any]", Union["MethodSpec[Any]", None], Union["MethodSpec[Any]", None]]


@dataclass(frozen=True)
class StatusOperationKind:
    """What the generator read from a discovery document about an operation schema whose
    ``status`` enum reaches ``DONE``: data the handle interprets, no per-API code.

    Attributes:
        schema: The document's schema name (``Operation``), for messages.
        routes: The resources that re-read such an operation, most specific path first.
        status_field: The property holding the status (``status``).
        done_value: The enum value that means finished (``DONE``, or ``done`` in dns).
        error_shape: ``"errors"`` when ``error.errors[]`` lists the failures (compute,
            sqladmin, deploymentmanager), ``"status"`` when ``error`` is a google.rpc.Status
            (container), ``""`` when the schema has no ``error``.
        http_status_field: The integer property giving the failure's HTTP status
            (``httpErrorStatusCode``), or ``""``.
        warnings_field: The array property of warnings (``warnings``), or ``""``.
        locator: The URL property that locates the operation (``selfLink``), or ``""``.
        unfollowable: Why operations of this schema cannot be re-read ("" when they can).
    """

    schema: str
    routes: tuple[StatusRoute, ...]
    status_field: str = "status"
    done_value: str = "DONE"
    error_shape: str = ""
    http_status_field: str = ""
    warnings_field: str = ""
    locator: str = "selfLink"
    unfollowable: str = ""

    def claims(self, operation: object) -> bool:
        """Whether ``operation`` is one of these (not a google.longrunning one): a dict with a
        string ``status``, a status handle, or a URL (a ``selfLink``)."""
        if isinstance(operation, StatusOperationBase):
            return True
        if isinstance(operation, str):
            return "://" in operation
        return isinstance(operation, Mapping) and isinstance(operation.get(self.status_field), str)


def _template(spec: MethodSpec[Any], loose: bool = False) -> re.Pattern[str]:
    """A regex matching the end of a URL path that ``spec``'s path produces: one group per
    path parameter (``{+var}`` may span segments).

    ``loose``: a version segment in the path's leading literal (``v1`` of ``v1/projects/``)
    matches any version (``v1beta4``), so that a link naming another version of the API
    still locates the operation.
    """
    head = re.escape(spec.path[0])
    if loose:
        head = "/".join(_VERSION_PATTERN if _VERSION.fullmatch(part) else part for part in head.split("/"))
    pieces = [head]
    for param, literal in zip(spec.path_params, spec.path[1:], strict=True):
        pieces.append("(.+)" if param.reserved else "([^/]+)")
        pieces.append(re.escape(literal))
    return re.compile("(?:^|/)" + "".join(pieces).lstrip("/") + "$")


#: A version segment of a path (``v1``, ``v1beta4``, ``v2.1``), and the pattern it becomes.
_VERSION = re.compile(r"v\d[\w\\.]*")
_VERSION_PATTERN = r"v\d[\w.]*"


def locate(kinds: Sequence[StatusOperationKind], url: str) -> tuple[StatusOperationKind, StatusRoute, tuple[str, ...]]:
    """(kind, route, path values) of the first route whose ``get`` path ends the URL's path.

    Only the path counts: the request goes to the client's endpoint, never to the URL's host.
    Each value must match its parameter's pattern; values are percent-decoded (the request
    encodes them again). A URL whose path matches no route exactly is tried once more with
    any version in place of the routes' own (``sql/v1beta4/projects/…`` for ``v1/projects/…``):
    a link may name another version of the API than the client's (Cloud SQL's v1 and v1beta4
    share their operations).
    """
    path = urllib.parse.urlsplit(url).path
    for loose in (False, True):  # the exact path first; then one whose version prefix differs
        for kind in kinds:
            for route in kind.routes:
                get = route[0]
                match = _template(get, loose).search(path)
                if match is None:
                    continue
                values = tuple(urllib.parse.unquote(value) for value in match.groups())
                regexes = [param.regex() for param in get.path_params]
                if all(regex is None or regex.fullmatch(value) for regex, value in zip(regexes, values, strict=True)):
                    return kind, route, values
    expected = ", ".join(route[0].id for kind in kinds for route in kind.routes)
    raise ValueError(f"{url!r} is not the URL of an operation of this API (it matches none of {expected})")


def status_error(state: Mapping[str, Any], kind: StatusOperationKind, name: str) -> Exception | None:
    """A done status operation's failure as a google-api-core exception, or None if it succeeded.

    ``error.errors[]`` entries are all kept (``exc.errors``) and named in the message
    (``CODE: message (location)``); the class follows ``httpErrorStatusCode`` when the
    operation has one (400 → ``BadRequest``, 404 → ``NotFound``…), else ``Unknown``. A
    google.rpc.Status ``error`` maps by its code, as for google.longrunning operations.
    """
    from google.api_core import exceptions

    error = state.get("error")
    if not error:
        return None
    context = f"operation {name}"
    if isinstance(error, Mapping) and kind.error_shape == "status" and "errors" not in error:
        if not error.get("code") and not error.get("message"):
            return None
        return rpc_error(error, context)
    entries = error.get("errors") if isinstance(error, Mapping) else None
    if not isinstance(entries, list):
        entries = [error]
    if not entries:
        return None
    parts = []
    for entry in entries:
        if isinstance(entry, Mapping):
            text = ": ".join(str(entry[key]) for key in ("code", "message") if entry.get(key))
            if entry.get("location"):
                text += f" (location: {entry['location']})"
            parts.append(text or json.dumps(entry, sort_keys=True))
        else:
            parts.append(str(entry))
    message = f"{'; '.join(parts)} [{context}]"
    status = state.get(kind.http_status_field) if kind.http_status_field else None
    if isinstance(status, int) and 400 <= status < 600:
        exc: exceptions.GoogleAPICallError = exceptions.from_http_status(status, message, errors=entries)
        if exc.code is None:
            exc.code = status
        return exc
    unknown = exceptions.Unknown(message, errors=entries)
    unknown.code = 500
    return unknown


class StatusOperationBase(HandleBase[_CoreT, "StatusOperationKind"]):
    """What the sync :class:`StatusOperation` and the async ``AsyncStatusOperation`` share:
    the last known state, where to re-read it, and every decision."""

    _KIND = "an operation"

    def _begin(self, operation: object, kinds: Sequence[StatusOperationKind]) -> None:
        state = _state_of(operation, StatusOperationBase, "its selfLink")
        if isinstance(state, str):
            state = {kinds[0].locator: state} if kinds else {}
        if not kinds:
            raise ValueError("this API has no operations a handle can follow")
        unfollowable = [kind.unfollowable for kind in kinds if kind.unfollowable]
        if len(unfollowable) == len(kinds):
            raise ValueError(f"this API's operations cannot be followed: {unfollowable[0]}")
        kinds = [kind for kind in kinds if not kind.unfollowable]
        url = state.get(kinds[0].locator)
        if not isinstance(url, str) or not url:
            raise ValueError(f"the operation has no {kinds[0].locator}, so it cannot be re-read")
        self._kind, self._route, self._path = locate(kinds, url)
        self._state = dict(state)
        name = state.get("name")
        self._name = name if isinstance(name, str) and name else self._path[-1]

    @property
    def name(self) -> str:
        """The operation's name (its ``name``, else the last part of its URL)."""
        return self._name

    @property
    def status(self) -> Any:
        """The last known ``status`` (``PENDING``, ``RUNNING``, ``DONE``…; None before the first read)."""
        return self._state.get(self._kind.status_field)

    @property
    def warnings(self) -> list[Any]:
        """The operation's ``warnings`` entries (``[]`` when it has none, or the API none)."""
        found = self._state.get(self._kind.warnings_field) if self._kind.warnings_field else None
        return list(found) if isinstance(found, list) else []

    def _is_done(self) -> bool:
        return self._state.get(self._kind.status_field) == self._kind.done_value

    def _poll_spec(self) -> MethodSpec[Any]:
        """The method each wait poll sends: the server-side ``wait`` if there is one, else ``get``."""
        return self._route[1] or self._route[0]

    def _call(self, spec: MethodSpec[Any], timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Call:
        """A call of ``spec`` (get, wait or cancel) on this operation."""
        retry = self._retry_for(spec, retry, self._api._retry)
        return Call(spec, self._path, (None,) * len(spec.query), {} if spec.has_body else None, timeout, retry)

    def _get_call(self, timeout: TimeoutArg, retry: RetryArg) -> Call:
        return self._call(self._route[0], timeout, retry)

    def _poll_call(self, timeout: TimeoutArg, retry: RetryArg) -> Call:
        return self._call(self._poll_spec(), timeout, retry)

    def _retry_for(self, spec: MethodSpec[Any], retry: RetryArg, client_retry: RetryPolicy | None) -> RetryArg:
        """``retry`` for a call of ``spec``: a server-side ``wait`` (a POST) only reads the
        operation, so the default rule retries it as it retries a GET."""
        if spec is not self._route[1]:
            return retry
        policy = client_retry if retry is DEFAULT else retry
        if isinstance(policy, RetryPolicy) and policy.predicate is None:
            return dataclasses.replace(policy, predicate=functools.partial(default_predicate, "GET"))
        return retry

    def _error(self) -> Exception | None:
        return status_error(self._state, self._kind, self._name)

    def _outcome(self) -> Mapping[str, Any]:
        """A done operation's final state, or raise its failure."""
        error = self._error()
        if error is not None:
            raise error
        return self._state

    def _cancel_call(self) -> Call | None:
        if self._is_done():
            return None
        spec = self._route[2]
        if spec is None:
            from google.api_core import exceptions

            raise exceptions.MethodNotImplemented(f"this API has no cancel method for operation {self._name}")
        return self._call(spec)

    def _plan(self, timeout: float | None, polling: PollingPolicy | None) -> WaitPlan:
        spec = self._poll_spec()
        method = "GET" if spec is self._route[1] else spec.http_method  # a wait is a read
        return WaitPlan(self._name, polling or self._polling, timeout, method, self._api)

    def _tolerates(self, plan: WaitPlan, exc: Exception) -> bool:
        """Whether the wait goes on after this poll failure. A server-side ``wait`` that timed
        out is a poll that found the operation still running, even without a deadline."""
        if plan.tolerates(exc):
            return True
        if self._route[1] is not None and isinstance(exc, TimeoutError):
            plan.failure = exc
            return True
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} status={self.status!r}>"


class StatusOperation(StatusOperationBase["ApiCore"], SyncHandle):
    """A handle on one operation whose ``status`` reaches ``DONE`` (compute, container,
    sqladmin, deploymentmanager…).

    Create it with the client's ``operation(op)``. It re-reads the operation through the
    resource its ``selfLink`` names (compute: ``zoneOperations``, ``regionOperations``,
    ``globalOperations`` or ``globalOrganizationOperations``), with the server-side ``wait``
    when the resource has one, else ``get``; always at the client's endpoint.
    """


def operation_handle(
    api: ApiCore,
    operation: object,
    candidates: Sequence[OperationMethods],
    kinds: Sequence[StatusOperationKind],
    polling: PollingPolicy | None = None,
) -> Operation | StatusOperation:
    """The handle for an API with both google.longrunning and status operations: a
    :class:`StatusOperation` for what one of ``kinds`` claims, else an :class:`Operation`."""
    if not isinstance(operation, OperationBase) and any(kind.claims(operation) for kind in kinds):
        return StatusOperation(api, operation, kinds, polling)  # type: ignore[arg-type]
    return Operation(api, operation, candidates, polling)  # type: ignore[arg-type]

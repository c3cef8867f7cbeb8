"""The runtime's protocols as data: what a sync and an async client do alike, written once.

A protocol — one JSON call with its retries and 401 re-authorization, a batch ``execute()``,
waiting for an operation — is a generator that yields the I/O it needs as *steps* and is sent
each step's outcome (or has the step's exception thrown in). It makes every decision itself;
the sync core (:meth:`gapi_runtime.ApiCore._drive`) and the async core
(:meth:`gapi_runtime.aio.AsyncApiCore._drive`) only perform the steps, the latter with ``await``.

The steps:

* :class:`Send`: one HTTP exchange through the client's transport (outcome: the
  :class:`~gapi_runtime.wire.Response`, whatever its status);
* :class:`Stream`: the same, with a body that may be a :class:`~gapi_runtime.wire.StreamBody`
  and the answer's body handed to a :class:`~gapi_runtime.wire.Sink` (media);
* :class:`Call`: one whole API call of the client (outcome: its decoded JSON);
* :class:`Sleep`: wait on the client's clock;
* :class:`Refresh`: refresh credentials, unless another caller already did (see :func:`refresh_needed`);
* :data:`CHECK_UNIVERSE`: compare the credentials' universe domain with the client's, once per client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from gapi_runtime.wire import Record

if TYPE_CHECKING:
    from gapi_runtime._hints import Credentials
    from gapi_runtime.client import RetryArg, TimeoutArg
    from gapi_runtime.spec import MethodSpec
    from gapi_runtime.wire import Body, Sink

__all__ = [
    "CHECK_UNIVERSE",
    "Call",
    "Refresh",
    "Run",
    "Send",
    "Sleep",
    "Step",
    "Steps",
    "Stream",
    "awaited",
    "refresh_needed",
    "still_rejected",
]

T = TypeVar("T")


class Send(Record):
    """Send one request through the transport (the arguments of ``Transport.request``)."""

    __slots__ = ()
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    timeout: float | None

    def __new__(cls, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float | None) -> Send:
        return tuple.__new__(cls, (method, url, headers, body, timeout))


class Stream(Record):
    """Send one request through the transport with :func:`gapi_runtime.wire.stream`: its body
    may be a :class:`~gapi_runtime.wire.StreamBody`, and the answer's body goes to ``sink`` if
    it takes it (media uploads and downloads)."""

    __slots__ = ()
    method: str
    url: str
    headers: dict[str, str]
    body: Body
    timeout: float | None
    sink: Sink | None

    def __new__(
        cls, method: str, url: str, headers: dict[str, str], body: Body, timeout: float | None, sink: Sink | None
    ) -> Stream:
        return tuple.__new__(cls, (method, url, headers, body, timeout, sink))


class Call(Record):
    """Make one API call of the client (the arguments of ``ApiCore.call``)."""

    __slots__ = ()
    spec: MethodSpec[Any]
    path_values: Sequence[object]
    query_values: Sequence[object]
    body: object
    timeout: TimeoutArg
    retry: RetryArg

    def __new__(
        cls,
        spec: MethodSpec[Any],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object,
        timeout: TimeoutArg,
        retry: RetryArg,
    ) -> Call:
        return tuple.__new__(cls, (spec, path_values, query_values, body, timeout, retry))


class Sleep(Record):
    """Wait ``seconds`` on the client's clock."""

    __slots__ = ()
    seconds: float

    def __new__(cls, seconds: float) -> Sleep:
        return tuple.__new__(cls, (seconds,))


class Refresh(Record):
    """Refresh ``credentials`` behind the client's refresh lock, if still needed then."""

    __slots__ = ()
    credentials: Credentials
    #: The authorization header the server rejected; None: refresh because they are not valid.
    rejected: str | None

    def __new__(cls, credentials: Credentials, rejected: str | None) -> Refresh:
        return tuple.__new__(cls, (credentials, rejected))


class _CheckUniverse(Record):
    """Check (once per client) that the credentials' universe domain is the client's."""

    __slots__ = ()

    def __new__(cls) -> _CheckUniverse:
        return tuple.__new__(cls, ())


CHECK_UNIVERSE = _CheckUniverse()

Step = Send | Stream | Call | Sleep | Refresh | _CheckUniverse
#: A protocol: yields steps, is sent their outcomes, returns its result.
Steps = Generator[Step, Any, T]


R = TypeVar("R")
P = ParamSpec("P")


def awaited(function: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """A function of the sync core (:class:`~gapi_runtime.ApiCore`), typed for the async core.

    It is the same function: it runs its protocol with ``core._drive(...)``, which on the
    async core is a coroutine function, so there it returns an awaitable of what it returns
    on the sync core.
    """
    return function  # type: ignore[return-value]


def refresh_needed(credentials: Credentials, rejected: str | None) -> bool:
    """Whether a :class:`Refresh` is still to be done once the refresh lock is held: the
    credentials are not valid (``rejected`` None), or would still send ``rejected``."""
    return not credentials.valid if rejected is None else still_rejected(credentials, rejected)


def still_rejected(credentials: Credentials, rejected: str) -> bool:
    """True if ``credentials`` would still send the ``rejected`` authorization header.

    Callers that were all rejected with the same token thus refresh once: the others find
    a different token already in place and just send again.
    """
    probe: dict[str, str] = {}
    credentials.apply(probe)
    return probe.get("authorization") == rejected


class Run:
    """One run of a protocol, for a driver: the next step to perform, then its outcome.

    A driver loops ``while (step := run.next()) is not None``, performs the step, and sets
    :attr:`outcome` or, when the step raised, :attr:`failure`; :attr:`value` is the
    protocol's result once :meth:`next` returned None. The protocol's own exceptions propagate
    from :meth:`next`.
    """

    __slots__ = ("failure", "outcome", "steps", "value")

    def __init__(self, steps: Steps[Any]) -> None:
        self.steps = steps
        self.outcome: Any = None
        self.failure: Exception | None = None
        self.value: Any = None

    def next(self) -> Step | None:
        failure, outcome = self.failure, self.outcome
        self.failure = self.outcome = None  # keep one response in memory, not two
        try:
            if failure is not None:
                return self.steps.throw(failure)
            return self.steps.send(outcome)
        except StopIteration as stop:
            self.value = stop.value
            return None

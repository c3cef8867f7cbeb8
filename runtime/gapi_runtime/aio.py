"""The async side of the runtime: what ``<Name>AsyncClient`` classes are built on.

Every decision is the sync runtime's, and so is the code that makes it: a call (URL, headers,
body, retries, ``Retry-After``, the deadline, 401 re-authorization, error mapping, decoding),
a batch ``execute()`` and an operation's methods and waits are protocols written once as
generators of steps (:mod:`gapi_runtime.steps`) on the shared bases
(:class:`~gapi_runtime.client.CoreBase`, :class:`~gapi_runtime.batch.BatchBase`,
:class:`~gapi_runtime.operations.HandleBase`); ``call``, ``pages`` and ``items`` are
:class:`~gapi_runtime.ApiCore`'s own methods, and client construction is
:class:`~gapi_runtime.client.ClientDescription`'s. Redirects follow
:class:`~gapi_runtime.redirects.RedirectPlan`. This module only performs the steps, with
``await``:

* :class:`AsyncApiCore` sends requests through an :class:`AsyncTransport` (default:
  :class:`~gapi_runtime.asyncio_transport.AsyncPooledTransport`, on asyncio streams),
  waits on the client's clock (``asyncio.sleep``), and refreshes credentials in a worker
  thread (google-auth's refresh blocks) — at most once per expiry however many calls are
  waiting for it, behind an ``asyncio.Lock`` (one per event loop). The token request itself
  is sent by the async transport, on the event loop.
* :class:`AsyncBaseClient` is the base class of generated async clients: ``async with`` or
  ``await client.close()`` releases the connection pool.
* :class:`AsyncBatch` is the awaitable twin of :class:`~gapi_runtime.batch.Batch`;
  ``AsyncOperation`` and ``AsyncStatusOperation``, those of
  :class:`~gapi_runtime.operations.Operation` and
  :class:`~gapi_runtime.operations.StatusOperation`, are in
  :mod:`gapi_runtime.aio_operations` and exported here, loaded on first use.

One client belongs to one event loop: its connection pool is created in the loop of its
first call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

from gapi_runtime import mtls, paging
from gapi_runtime._hints import Credentials
from gapi_runtime.batch import BatchBase, BatchHandle
from gapi_runtime.client import (
    DEFAULT,
    ApiCore,
    ClientDescription,
    CoreBase,
    RetryArg,
    TimeoutArg,
    _AuthRequest,
)
from gapi_runtime.mtls import ClientCertificate
from gapi_runtime.options import CommonSettings
from gapi_runtime.redirects import MAX_REDIRECTS, RedirectPlan, follows
from gapi_runtime.spec import MethodSpec
from gapi_runtime.steps import Call, Refresh, Run, Send, Sleep, Step, Steps, Stream, awaited, refresh_needed
from gapi_runtime.wire import Body, Response, StreamBody, replay

if TYPE_CHECKING:
    from gapi_runtime.aio_operations import AsyncOperation, AsyncStatusOperation, async_operation_handle

#: Loaded on first use (an async client's ``operation()``): importing the operations module
#: and its retry rules is most of what an async client's import would cost beyond the sync one's.
_LAZY = frozenset(("AsyncOperation", "AsyncStatusOperation", "async_operation_handle"))


def __getattr__(name: str) -> Any:
    """The names of :data:`_LAZY`, from :mod:`gapi_runtime.aio_operations` on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gapi_runtime import aio_operations

    value = getattr(aio_operations, name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


__all__ = [
    "AsyncApiCore",
    "AsyncBaseClient",
    "AsyncBatch",
    "AsyncOperation",
    "AsyncRedirectingTransport",
    "AsyncStatusOperation",
    "AsyncTransport",
    "async_operation_handle",
]

ResponseT = TypeVar("ResponseT")
T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
_ClientT = TypeVar("_ClientT", bound="AsyncBaseClient")

#: What to install for the default async transport.
INSTALL_HINT = "pip install 'gapi-runtime[async]'"


@runtime_checkable
class AsyncTransport(Protocol):
    """The async twin of :class:`~gapi_runtime.transport.Transport`: same contract, awaited."""

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        """Send one request; raise :class:`~gapi_runtime.errors.TransportError` on failure.

        ``timeout`` bounds the whole exchange, in seconds (None: no bound). Failures before
        any response byte arrived must have ``response_started`` False, later ones True. It
        must not retry or follow redirects itself.
        """
        ...

    async def close(self) -> None:
        """Release pooled connections."""
        ...


class AsyncRedirectingTransport:
    """Follows redirects as :class:`~gapi_runtime.redirects.RedirectingTransport` does
    (GET/HEAD only, at most ``max_redirects``, secrets stripped across origins, no downgrade):
    the same :class:`~gapi_runtime.redirects.RedirectPlan` decides."""

    def __init__(
        self, inner: AsyncTransport, *, allow_insecure_http: bool = False, max_redirects: int = MAX_REDIRECTS
    ) -> None:
        self.inner = inner
        self.allow_insecure_http = allow_insecure_http
        self.max_redirects = max_redirects

    def __repr__(self) -> str:
        return f"AsyncRedirectingTransport({self.inner!r}, max_redirects={self.max_redirects})"

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        response = await self.inner.request(method, url, headers, body, timeout)
        if not follows(method, response.status):
            return response
        plan = RedirectPlan(method, url, headers, self.allow_insecure_http, self.max_redirects)
        while (hop := plan.next_hop(response)) is not None:
            response = await self.inner.request(method, hop[0], hop[1], None, timeout)
        return response

    async def close(self) -> None:
        await self.inner.close()


async def _stream(transport: AsyncTransport, step: Stream) -> Response:
    """Perform a :class:`~gapi_runtime.steps.Stream` step: :func:`gapi_runtime.wire.stream`, awaited.

    The client wraps its transport in :class:`AsyncRedirectingTransport`, which has no
    ``stream``: its redirects are then followed here (the same
    :class:`~gapi_runtime.redirects.RedirectPlan`), each hop streamed through the transport it wraps.
    """
    method, sink, timeout, target = step.method, step.sink, step.timeout, transport

    async def send(url: str, headers: Mapping[str, str], body: Body) -> Response:
        streaming = getattr(target, "stream", None)
        if streaming is not None:
            return await streaming(method, url, headers, body, timeout, sink)  # type: ignore[no-any-return]
        data = body.read() if isinstance(body, StreamBody) else body
        return replay(sink, await target.request(method, url, headers, data, timeout))

    if not isinstance(transport, AsyncRedirectingTransport) or hasattr(transport, "stream"):
        return await send(step.url, step.headers, step.body)
    target = transport.inner
    response = await send(step.url, step.headers, step.body)
    plan = RedirectPlan(method, step.url, step.headers, transport.allow_insecure_http, transport.max_redirects)
    while (hop := plan.next_hop(response)) is not None:
        response = await send(hop[0], hop[1], None)
    return response


class _ThreadedAuthRequest(_AuthRequest):
    """google-auth's blocking ``Request`` interface for a refresh running in a worker thread.

    Each request is handed to the async transport on the client's event loop and the worker
    thread waits for its answer, so token requests use the same connection pool, redirect
    rules and test servers as API calls while the loop keeps serving other calls.
    """

    def __init__(self, transport: AsyncTransport, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = transport
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Response:
        if threading.get_ident() == self._loop_thread:  # would wait for itself forever
            raise RuntimeError("credentials must be refreshed in a worker thread, not on the event loop")
        request = self._inner.request(method, url, headers, body, timeout)
        return asyncio.run_coroutine_threadsafe(request, self._loop).result()


def _async_iterated(
    method: Callable[Concatenate[Any, P], Iterator[R]],
) -> Callable[Concatenate[Any, P], AsyncIterator[R]]:
    """As :func:`~gapi_runtime.steps.awaited`, for the paging methods: ``core._iterate`` is an async generator here."""
    return method  # type: ignore[return-value]


class AsyncApiCore(CoreBase[AsyncTransport]):
    """Sends the requests of one async client: the async twin of :class:`~gapi_runtime.ApiCore`,
    with the same methods (``call``, ``pages``, ``items``) and protocols; only the steps are
    performed with ``await``.

    Any number of tasks of one event loop may share it.
    """

    call = awaited(ApiCore.call)
    pages = _async_iterated(ApiCore.pages)
    items = _async_iterated(ApiCore.items)

    def __init__(
        self,
        transport: AsyncTransport,
        common: CommonSettings,
        timeout: float | None,
        retry: RetryArg,
        check_enums: bool,
    ) -> None:
        super().__init__(transport, common, timeout, retry, check_enums)
        # The lock and the refresh under way belong to one event loop: a client closed in one
        # asyncio.run() and used in the next gets new ones (see _refresh_lock_of_this_loop).
        self._refresh_lock: asyncio.Lock | None = None
        self._refresh_loop: asyncio.AbstractEventLoop | None = None
        self._refreshing: asyncio.Future[None] | None = None  # the refresh under way, if any

    async def check_call(
        self, spec: MethodSpec[Any], path_values: Sequence[object], query_values: Sequence[object]
    ) -> None:
        """:meth:`gapi_runtime.ApiCore.check_call`: enum values, and once the credentials' universe."""
        self._check_values(spec, path_values, query_values)
        if not self._universe_checked:
            await self.check_universe()

    async def check_universe(self) -> None:
        """UniverseMismatchError unless the credentials' universe is the client's (checked once)."""
        # Reading a credential's universe may block (the metadata server): not on the loop.
        await asyncio.to_thread(mtls.check_universe, self.universe_domain, self._credentials)
        self._universe_checked = True

    async def _run_call(self, spec: MethodSpec[Any], send: Send, retry: RetryArg) -> Any:
        """Run :meth:`_call_steps` (``call`` is the sync core's, returning this awaitable)."""
        return await self._drive(self._call_steps(spec, send, retry))

    async def _drive(self, steps: Steps[T]) -> T:
        """Run a protocol (see :mod:`gapi_runtime.steps`), awaiting its steps."""
        run = Run(steps)
        while (step := run.next()) is not None:
            try:
                run.outcome = await self._perform(step)
            except Exception as exc:
                run.failure = exc
            except BaseException:  # cancelled (or interrupted): the protocol cleans up now
                steps.close()
                raise
            del step  # a media chunk is not kept while the protocol reads the next one
        return run.value  # type: ignore[no-any-return]

    async def _perform(self, step: Step) -> Any:
        if type(step) is Send:
            return await self.transport.request(*step)
        if type(step) is Stream:
            return await _stream(self.transport, step)
        if type(step) is Call:
            return await self.call(*step)
        if type(step) is Sleep:
            await self.clock.asleep(step.seconds)
        elif type(step) is Refresh:
            async with self._refresh_lock_of_this_loop():
                if refresh_needed(*step):
                    await asyncio.shield(self._refresh_once(step.credentials))
        else:
            await self.check_universe()
        return None

    def _refresh_lock_of_this_loop(self) -> asyncio.Lock:
        """The lock that lets one caller at a time decide on a refresh, created in the running
        loop (an asyncio.Lock used in a second loop raises RuntimeError)."""
        loop = asyncio.get_running_loop()
        if self._refresh_lock is None or self._refresh_loop is not loop:
            self._refresh_lock, self._refresh_loop = asyncio.Lock(), loop
        return self._refresh_lock

    def _refresh_once(self, credentials: Credentials) -> asyncio.Future[None]:
        """The refresh under way, else a new one. Callers await it shielded: one that is
        cancelled leaves it running (its worker thread could not be stopped anyway), and the
        next caller waits for it instead of starting a second refresh of the same credentials."""
        running = self._refreshing
        if running is None or running.done() or running.get_loop() is not asyncio.get_running_loop():
            running = self._refreshing = asyncio.ensure_future(self._refresh(credentials))
            running.add_done_callback(_retrieve)  # a failure nobody awaited any more is not logged
        return running

    async def _refresh(self, credentials: Credentials) -> None:
        """google-auth's blocking refresh, in a worker thread; its HTTP goes through our transport."""
        auth_request = _ThreadedAuthRequest(self.transport, asyncio.get_running_loop())
        await asyncio.to_thread(credentials.refresh, auth_request)

    async def _iterate(self, call: Call, next_token: str) -> AsyncIterator[Any]:
        requests = paging.PageRequests(call.spec.query, call.query_values, call.body)
        while True:
            page = await self.call(*call._replace(query_values=requests.values, body=requests.body))
            yield page
            token = paging.next_token(page, requests.seen, call.spec.id, next_token)
            if token is None:
                return
            requests.advance(token)

    @staticmethod
    async def _items_of(pages: AsyncIterator[Any], field: str) -> AsyncIterator[Any]:
        async for page in pages:
            for item in paging.items_of(page, field):
                yield item

    async def close(self) -> None:
        await self.transport.close()


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class AsyncBaseClient(ClientDescription[AsyncTransport]):
    """Base class of generated async clients: the twin of :class:`~gapi_runtime.BaseClient`.

    Construction takes the same arguments (``transport``: an :class:`AsyncTransport`) and
    does no I/O (it may happen outside an event loop); the connection pool is opened by the
    first call. Use ``async with`` or ``await client.close()`` to release it.
    """

    _api: AsyncApiCore

    async def close(self) -> None:
        """Release the transport's pooled connections."""
        await self._api.close()

    async def __aenter__(self: _ClientT) -> _ClientT:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _default_transport(self, proxy: str | None, certificate: ClientCertificate | None) -> AsyncTransport:
        return _default_transport(type(self).__name__, proxy, certificate)

    def _redirecting(self, transport: AsyncTransport, allow_insecure_http: bool) -> AsyncTransport:
        return AsyncRedirectingTransport(transport, allow_insecure_http=allow_insecure_http)

    _open = AsyncApiCore


class AsyncBatch(BatchBase[AsyncApiCore]):
    """Base class of generated async batches (``client.batch()``): the twin of
    :class:`~gapi_runtime.batch.Batch`, with the same rules (:class:`~gapi_runtime.batch.BatchPlan`).

    Calls queue without ``await``; ``await batch.execute()`` sends them. ``async with`` executes
    the batch when the block ends without an exception.
    """

    async def __aenter__(self: _AsyncBatchT) -> _AsyncBatchT:
        return self

    async def __aexit__(self, kind: object, *_: object) -> None:
        if kind is None:
            await self.execute()

    async def execute(self, timeout: TimeoutArg = DEFAULT) -> tuple[BatchHandle[Any], ...]:
        """Send the queued requests and resolve their handles (see :meth:`gapi_runtime.batch.Batch.execute`)."""
        return await self._core._drive(self._execute_steps(timeout))


_AsyncBatchT = TypeVar("_AsyncBatchT", bound=AsyncBatch)


def _default_transport(client_class: str, proxy: str | None = None, certificate: object = None) -> AsyncTransport:
    """Kept-alive HTTP/1.1 on asyncio streams: no library beyond the runtime's own.

    A proxy (``proxy=`` or the environment) or a client certificate needs the aiohttp transport,
    which handles both (the pooled one handles neither).
    """
    from gapi_runtime.proxies import ProxySettings

    if ProxySettings(proxy).active or certificate is not None:
        return _aiohttp_transport(client_class, proxy=proxy)
    from gapi_runtime.asyncio_transport import AsyncPooledTransport

    return AsyncPooledTransport()


def _aiohttp_transport(client_class: str, **options: Any) -> AsyncTransport:
    """The aiohttp transport (for what the default one does not do), or an ImportError naming the extra."""
    try:
        from gapi_runtime.aiohttp_transport import AiohttpTransport
    except ImportError as exc:
        raise ImportError(
            f"{client_class} needs aiohttp for this, and it is not installed "
            f"({exc}): {INSTALL_HINT}, or pass transport= an AsyncTransport"
        ) from None
    return AiohttpTransport(**options)

"""The hand-written core that every generated client shares.

A generated client subclasses :class:`BaseClient` and describes its API in class
attributes; its resources call :meth:`ApiCore.call` with a precomputed
:class:`~gapi_runtime.spec.MethodSpec`. Per call the core only fills in the URL,
authorizes, sends, and decodes.

What the sync and the async client (:mod:`gapi_runtime.aio`) share is written here once:
construction (:class:`ClientDescription`), the settings and the call protocol
(:class:`CoreBase`, as steps of :mod:`gapi_runtime.steps`), and ``call``/``pages``/``items``,
which the async core binds as they are; each core only performs the steps (``_drive``).
"""

from __future__ import annotations

import enum
import functools
import logging
import platform
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Optional, TypeVar, Union

from gapi_runtime import encoding, mtls, paging
from gapi_runtime._hints import Credentials, Retry, RetryPolicy
from gapi_runtime._version import __version__
from gapi_runtime.clock import SYSTEM_CLOCK, clock_of
from gapi_runtime.errors import ResponseDecodeError, TransportError, http_error
from gapi_runtime.mtls import ClientCertificate
from gapi_runtime.options import (
    CommonSettings,
    check_proxy_option,
    default_transport,
    install_certificate,
    resolve_common,
)
from gapi_runtime.redirects import RedirectingTransport
from gapi_runtime.spec import MethodSpec, PlainPath, RequestEncoder
from gapi_runtime.spec import check_enums as check_enum_values
from gapi_runtime.steps import (
    CHECK_UNIVERSE,
    Call,
    Refresh,
    Run,
    Send,
    Sleep,
    Step,
    Steps,
    Stream,
    refresh_needed,
)
from gapi_runtime.wire import Response, Transport, stream

if TYPE_CHECKING:
    from gapi_runtime.retry import RetryState

__all__ = ["DEFAULT", "ApiCore", "BaseClient", "Default", "RetryArg", "TimeoutArg"]

ResponseT = TypeVar("ResponseT")
T = TypeVar("T")
_TransportT = TypeVar("_TransportT")


class Default(enum.Enum):
    """The type of :data:`DEFAULT`: "use the client's setting"."""

    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = Default.DEFAULT
TimeoutArg = float | None | Default
# ``Retry`` and ``RetryPolicy`` resolve lazily at run time (see gapi_runtime._hints):
# get_type_hints() works on every generated method without importing google-api-core's retry
# module (or ours) first.
RetryArg = Union[Retry, RetryPolicy, None, Default]  # noqa: UP007 - both are ForwardRefs at run time
#: A retry setting before the default policy is read: DEFAULT stands for
#: :data:`~gapi_runtime.retry.DEFAULT_RETRY` until a call first fails (see :func:`retry_state`).
RetryChoice = Union[RetryPolicy, None, Default]  # noqa: UP007 - RetryPolicy is a ForwardRef at run time

#: A hot-path alias: a C function, called without a Python frame in between.
_new_record = tuple.__new__  # a Send built as its own __new__ builds it

_LOGGER = logging.getLogger("gapi_runtime")


# --- the decisions of one call, shared by the sync core below and the async one (aio.py) ---


def prepare_request(
    spec: MethodSpec[Any],
    base_url: str,
    base_headers: dict[str, str],
    path_values: Sequence[object],
    query_values: Sequence[object],
    body: object,
    check_enums: bool = False,
    stacklevel: int = 4,
) -> tuple[str, dict[str, str], bytes | None]:
    """The URL, headers (a new dict: ``base_headers`` and the method's own) and encoded body of
    one call; errors are raised before any I/O (see :func:`encode_request`)."""
    encode = spec._encoder or request_encoder(spec)
    url, data = encode(base_url, path_values, query_values, body, check_enums, stacklevel + 1)
    return url, base_headers | spec._header_dict, data


def encode_request(
    spec: MethodSpec[Any],
    base_url: str,
    path_values: Sequence[object],
    query_values: Sequence[object],
    body: object,
    check_enums: bool = False,
    stacklevel: int = 4,
) -> tuple[str, bytes | None]:
    """The URL and encoded body of one call (its headers are ``spec.request_headers`` added to
    the client's); errors are raised before any I/O (with ``check_enums``, also for values
    outside a parameter's enum).

    Warns (DeprecationWarning) when the API deprecates the method; ``stacklevel`` makes the
    warning point at the caller of the generated method.
    """
    if check_enums and spec.enums:
        check_enum_values(spec, path_values, query_values)
    if spec.deprecated:
        warnings.warn(f"{spec.id} is deprecated by the API", DeprecationWarning, stacklevel=stacklevel)
    url = base_url + encoding.build_path(spec, path_values)
    if spec.query and query_values.count(None) != len(query_values):  # most calls set no query parameter
        url += encoding.build_query(spec.query, query_values)
    return url, _body_data(spec, body)


def _body_data(spec: MethodSpec[Any], body: object) -> bytes | None:
    """The encoded request body (``{}`` when the method takes one and none is given)."""
    if not spec.has_body:
        return None
    if body is None:
        if not spec.data_wrapper:
            return b"{}"
        body = {}
    elif not isinstance(body, Mapping):
        raise TypeError(f"{spec.id}: body must be a dict, got {type(body).__name__}")
    return encoding.encode_json({"data": body} if spec.data_wrapper else body)


def request_encoder(spec: MethodSpec[Any]) -> RequestEncoder:
    """``spec``'s :func:`encode_request`, specialized on first use and kept on the spec.

    Most methods have one path variable, no enum and no deprecation: for them the encoder is
    a closure over the spec's path literals, query names and path-value shortcut, so a call
    reads no attribute of the spec. Its results are :func:`encode_request`'s: a value the
    shortcut does not accept, any query value and any body take the same functions.
    """
    encoder: RequestEncoder = functools.partial(encode_request, spec)
    if len(spec.path_params) == 1 and not spec.enums and not spec.deprecated and "." not in "".join(spec.path):
        encoder = _single_variable_encoder(spec)
    object.__setattr__(spec, "_encoder", encoder)
    return encoder


def _single_variable_encoder(spec: MethodSpec[Any]) -> RequestEncoder:
    head, tail = spec.path
    sent_as_is = spec.path_params[0].plain_match()  # no "." in the value or the literals: no dot segment
    query = spec.query
    query_count = len(query)
    no_body = _body_data(spec, None)
    # Kept on the spec too: a batch's queue takes the shortcut without calling the encoder.
    plain: PlainPath = (head, tail, sent_as_is, query_count, no_body)
    object.__setattr__(spec, "_plain", plain)
    longest = encoding.MAX_PATTERN_VALUE
    build_path = encoding.build_path
    build_query = encoding.build_query

    def encode(
        base_url: str,
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object,
        check_enums: bool = False,
        stacklevel: int = 4,
    ) -> tuple[str, bytes | None]:
        value = path_values[0]
        if type(value) is str and len(value) <= longest and sent_as_is(value) is not None:
            url = f"{base_url}{head}{value}{tail}"  # one allocation, where + makes three
        else:
            url = base_url + build_path(spec, path_values)
        if query_values.count(None) != query_count:
            url += build_query(query, query_values)
        # An empty dict (a cancel's, a start's body) encodes as no body does: the bytes are kept.
        return url, no_body if body is None or (type(body) is dict and not body) else _body_data(spec, body)

    return encode


def decode_response(spec: MethodSpec[Any], url: str, response: Response) -> Any:
    """A successful response's JSON value (``{}`` for an empty body); ResponseDecodeError if not JSON."""
    data = response.data
    if not data:
        return {}
    try:
        value = encoding.decode_json(data)
    except ValueError:
        raise ResponseDecodeError(
            f"{spec.http_method} {url.split('?', 1)[0]} answered {response.status} "
            f"with a body that is not JSON: {data[:80]!r}",
            url=url,
            method_id=spec.id,
            response_started=True,
        ) from None
    if spec.data_wrapper and isinstance(value, dict) and "data" in value:
        return value["data"]
    return value


def identity(package: str, revision: str) -> tuple[str, str]:
    """The ``user-agent`` and ``x-goog-api-client`` values of a generated package's requests."""
    return (
        f"{package}/{revision} gapi-runtime/{__version__}",
        f"gl-python/{platform.python_version()} gapi-runtime/{__version__}",
    )


def choose_policy(retry: RetryArg, default: RetryPolicy | None) -> RetryPolicy | None:
    """The retry policy a call (or client) uses: ``default`` for DEFAULT, None for None."""
    if retry is DEFAULT:
        return default
    if retry is None:
        return None
    from gapi_runtime.retry import as_policy  # the caller made a policy: the module is loaded already

    return as_policy(retry)


def default_retry(choice: RetryChoice) -> RetryPolicy | None:
    """``choice`` as a policy: DEFAULT is :data:`~gapi_runtime.retry.DEFAULT_RETRY`."""
    if isinstance(choice, Default):
        from gapi_runtime.retry import DEFAULT_RETRY

        return DEFAULT_RETRY
    return choice


def retry_state(choice: RetryPolicy | Default, http_method: str, started: float) -> RetryState:
    """The retry bookkeeping of a call that just failed for the first time (``choice`` as in
    :func:`default_retry`). :mod:`gapi_runtime.retry` is imported here: calls that never fail,
    and importing or constructing a client, do not pay for it."""
    from gapi_runtime.retry import DEFAULT_RETRY, RetryState

    return RetryState(DEFAULT_RETRY if isinstance(choice, Default) else choice, http_method, started)


def next_retry_delay(state: RetryState, method_id: str, error: Exception, now: float | None = None) -> float | None:
    """Seconds to wait before retrying after ``error`` (None: give up and raise it); logs either way.

    ``now`` is the time on the client's clock (default: :func:`time.monotonic`).
    """
    delay = state.next_delay(error, time.monotonic() if now is None else now)
    from gapi_runtime.retry import describe  # loaded with ``state``'s class

    if delay is None:
        if state.attempt > 1 and _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("%s: attempt %d failed (%s); giving up", method_id, state.attempt, describe(error))
        return None
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug(
            "%s: attempt %d failed (%s); retrying in %.3f s", method_id, state.attempt - 1, describe(error), delay
        )
    return delay


def should_reauthorize(status: int, refreshed: bool, headers: Mapping[str, str]) -> bool:
    """A 401 to a request that carried a token (and was not already re-sent): refresh and send once more.

    Even a POST is sent again: a 401 means the server did not act on it.
    """
    return status == 401 and not refreshed and "authorization" in headers


class _AuthRequest:
    """google-auth's ``Request`` interface on top of a :class:`Transport`.

    Token refreshes thus go through the same transport (and loopback test servers).
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> Response:
        from google.auth import exceptions

        try:
            return self._request(method, url, dict(headers or {}), body, timeout or 120.0)
        except TransportError as exc:
            raise exceptions.TransportError(str(exc)) from exc

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Response:
        return self._transport.request(method, url, headers, body, timeout)


class CoreBase(Generic[_TransportT]):
    """What the sync :class:`ApiCore` and the async :class:`~gapi_runtime.aio.AsyncApiCore`
    share: the client's settings and every protocol of a call, written once as steps (see
    :mod:`gapi_runtime.steps`). The subclasses only perform the steps (``_drive``), the async
    one with ``await``.
    """

    def __init__(
        self, transport: _TransportT, common: CommonSettings, timeout: float | None, retry: RetryArg, check_enums: bool
    ) -> None:
        self.base_url = common.base_url
        self.transport = transport
        self.universe_domain = common.universe_domain
        self._credentials = common.credentials
        self._headers = dict(common.headers)
        self._timeout = timeout
        #: The client's retry policy; DEFAULT (the default policy) is read at a call's first
        #: failure, so that constructing a client does not import :mod:`gapi_runtime.retry`.
        self._retry_choice: RetryChoice = DEFAULT if retry is DEFAULT else choose_policy(retry, None)
        #: What waits between retries and operation polls use (the transport's ``clock``, if any).
        self.clock = clock_of(transport)
        self._check_enums = check_enums
        # The credentials' universe is compared with the client's before the first request
        # (reading it may need I/O, e.g. from the metadata server, so not in the constructor).
        self._universe_checked = common.credentials is None

    @property
    def _retry(self) -> RetryPolicy | None:
        """The client's retry policy (reading it imports :mod:`gapi_runtime.retry`)."""
        return default_retry(self._retry_choice)

    def _check_values(
        self, spec: MethodSpec[Any], path_values: Sequence[object], query_values: Sequence[object]
    ) -> None:
        """Enum values (unless ``check_enums=False``): the part of a call's checks that needs no I/O."""
        if spec.enums and self._check_enums:
            check_enum_values(spec, path_values, query_values)

    def _authorize(self, headers: dict[str, str]) -> Steps[None]:
        """Put the credentials' authorization into ``headers``, refreshing them first if they are not valid."""
        credentials = self._credentials
        if credentials is not None:
            if not credentials.valid:
                yield Refresh(credentials, None)
            credentials.apply(headers)

    def _attempt(self, send: Send, method_id: str, first: Response | Exception | None = None) -> Steps[Response]:
        """One attempt (:meth:`_send_authorized`); an answer of 300 or more raises its mapped error."""
        response = yield from self._send_authorized(send, method_id, first)
        if response.status >= 300:
            raise http_error(response.status, response.data, method_id, send.url, response)
        return response

    def _send_authorized(
        self, send: Send | Stream, method_id: str, first: Response | Exception | None = None
    ) -> Steps[Response]:
        """Send with the client's credentials; a 401 refreshes them (at most once) and sends once
        more. Returns the answer whatever its status (JSON calls and media alike).

        ``first``: the outcome of a first sending already made, authorized, by the caller
        (:meth:`ApiCore.call`'s fast path), taken as this attempt's answer instead of sending.
        """
        refreshed = False
        while True:
            try:
                if first is None:
                    yield from self._authorize(send.headers)
                    response: Response = yield send
                elif isinstance(first, Response):
                    response, first = first, None
                else:
                    failure, first = first, None
                    raise failure
            except TransportError as exc:
                exc.method_id = method_id
                raise
            credentials = self._credentials
            if credentials is None or not should_reauthorize(response.status, refreshed, send.headers):
                return response
            try:
                yield Refresh(credentials, send.headers["authorization"])
            except Exception as refresh_error:
                raise http_error(response.status, response.data, method_id, send.url, response) from refresh_error
            refreshed = True

    def _call_steps(
        self,
        spec: MethodSpec[Any],
        send: Send,
        retry: RetryArg,
        first: Response | Exception | None = None,
        started: float | None = None,
    ) -> Steps[Any]:
        """One JSON call: the universe check (once per client), the attempts and the retries
        that ``retry`` allows (the last error is raised); returns the decoded answer.

        ``first`` and ``started``: the outcome of a first attempt already sent (see
        :meth:`_send_authorized`) and when it started."""
        if not self._universe_checked:
            yield CHECK_UNIVERSE
        policy = self._retry_choice if retry is DEFAULT else choose_policy(retry, None)
        started = self.clock.monotonic() if started is None else started
        state: RetryState | None = None
        while True:
            given, first = first, None  # only the first attempt's outcome can be given
            try:
                response = yield from self._attempt(send, spec.id, given)
            except Exception as exc:
                if policy is None:
                    raise
                error = exc
            else:
                return decode_response(spec, send.url, response)
            # Outside the except block, so that a final error does not chain to the first one.
            if state is None:
                state = retry_state(policy, spec.http_method, started)
            delay = next_retry_delay(state, spec.id, error, self.clock.monotonic())
            if delay is None:
                raise error
            yield Sleep(delay)


class ApiCore(CoreBase[Transport]):
    """Sends requests for one client: URL building, auth, transport, error mapping.

    Thread-safe: one instance may be shared by any number of threads.
    """

    def __init__(
        self, transport: Transport, common: CommonSettings, timeout: float | None, retry: RetryArg, check_enums: bool
    ) -> None:
        super().__init__(transport, common, timeout, retry, check_enums)
        self._auth_request = _AuthRequest(transport)
        self._refresh_lock = threading.Lock()

    # call, pages and items are also the async core's (aio.py binds them typed as awaitable):
    # they end in ``self._run_call`` / ``self._iterate``, which there are coroutine functions
    # (or async generators) running the same protocols with ``await``.

    def call(
        self,
        spec: MethodSpec[ResponseT],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object = None,
        timeout: TimeoutArg = DEFAULT,
        retry: RetryArg = DEFAULT,
    ) -> ResponseT:
        """Send ``spec``'s request with these arguments and return the decoded JSON.

        ``timeout`` bounds each attempt (seconds; None: no bound; DEFAULT: the client's).
        ``retry`` is a :class:`~gapi_runtime.retry.RetryPolicy`, a
        ``google.api_core.retry.Retry``, None (no retries) or DEFAULT (the client's policy).
        When retries are exhausted the last error is raised.
        """
        # prepare_request and Send(...), inlined: this is every call's path.
        encode = spec._encoder or request_encoder(spec)
        url, data = encode(self.base_url, path_values, query_values, body, self._check_enums, 4)
        headers = self._headers | spec._header_dict
        limit = self._timeout if timeout is DEFAULT else timeout
        return self._run_call(spec, _new_record(Send, (spec.http_method, url, headers, data, limit)), retry)  # type: ignore[no-any-return]

    def _run_call(self, spec: MethodSpec[Any], send: Send, retry: RetryArg) -> Any:
        """Run :meth:`_call_steps`. Most calls are one authorized sending and a success: that
        is done here without the protocol's generators; any other outcome goes to the protocol
        as its first attempt's answer (401 refresh, retries and error mapping are decided there)."""
        credentials = self._credentials
        if not self._universe_checked or (credentials is not None and not credentials.valid):
            return self._drive(self._call_steps(spec, send, retry))
        clock = self.clock
        started = time.monotonic() if clock is SYSTEM_CLOCK else clock.monotonic()  # SystemClock's, inlined
        if credentials is not None:
            credentials.apply(send.headers)
        first: Response | Exception
        try:
            first = self.transport.request(*send)
        except Exception as exc:
            first = exc
        else:
            if first.status < 300:
                return decode_response(spec, send.url, first)
        return self._drive(self._call_steps(spec, send, retry, first, started))

    def pages(
        self,
        spec: MethodSpec[ResponseT],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object = None,
        timeout: TimeoutArg = DEFAULT,
        retry: RetryArg = DEFAULT,
        next_token: str = paging.NEXT_PAGE_TOKEN,
    ) -> Iterator[ResponseT]:
        """Iterate over the pages of a list method: one call per page, following ``nextPageToken``
        (or the response member ``next_token`` names).

        The arguments are those of :meth:`call` and are sent with every page; only
        ``pageToken`` changes; a repeated token raises PagingError. Path arguments are checked
        before this returns.
        """
        encoding.build_path(spec, path_values)  # fail now, not at the first page
        return self._iterate(Call(spec, path_values, query_values, body, timeout, retry), next_token)

    def items(
        self,
        spec: MethodSpec[Any],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object,
        timeout: TimeoutArg,
        retry: RetryArg,
        field: str,
        next_token: str = paging.NEXT_PAGE_TOKEN,
    ) -> Iterator[Any]:
        """Iterate over the ``field`` items of every page (see :meth:`pages`)."""
        return self._items_of(self.pages(spec, path_values, query_values, body, timeout, retry, next_token), field)

    def check_call(self, spec: MethodSpec[Any], path_values: Sequence[object], query_values: Sequence[object]) -> None:
        """What every request of a call checks before I/O (JSON calls and media alike): enum values
        (unless ``check_enums=False``) and, once per client, the credentials' universe domain
        (UniverseMismatchError, a ValueError)."""
        self._check_values(spec, path_values, query_values)
        if not self._universe_checked:
            self.check_universe()

    def check_universe(self) -> None:
        """UniverseMismatchError unless the credentials' universe is the client's (checked once)."""
        mtls.check_universe(self.universe_domain, self._credentials)
        self._universe_checked = True

    def _drive(self, steps: Steps[T]) -> T:
        """Run a protocol (see :mod:`gapi_runtime.steps`), performing its steps here."""
        run = Run(steps)
        while (step := run.next()) is not None:
            try:
                run.outcome = self._perform(step)
            except Exception as exc:
                run.failure = exc
            except BaseException:  # interrupted (KeyboardInterrupt…): the protocol cleans up now
                steps.close()
                raise
            del step  # a media chunk is not kept while the protocol reads the next one
        return run.value  # type: ignore[no-any-return]

    def _perform(self, step: Step) -> Any:
        if type(step) is Send:
            return self.transport.request(*step)
        if type(step) is Stream:
            return stream(self.transport, *step)
        if type(step) is Call:
            return self.call(*step)
        if type(step) is Sleep:
            self.clock.sleep(step.seconds)
        elif type(step) is Refresh:
            self._refresh(*step)
        else:
            self.check_universe()
        return None

    def _refresh(self, credentials: Credentials, rejected: str | None) -> None:
        with self._refresh_lock:
            if refresh_needed(credentials, rejected):
                credentials.refresh(self._auth_request)

    def _iterate(self, call: Call, next_token: str) -> Iterator[Any]:
        fetch = functools.partial(self._page, call)
        return paging.iterate(fetch, call.spec.id, call.spec.query, call.query_values, next_token, call.body)

    def _page(self, call: Call, query_values: Sequence[object], body: object) -> Any:
        return self.call(*call._replace(query_values=query_values, body=body))

    _items_of = staticmethod(paging.items)

    def close(self) -> None:
        self.transport.close()


def batch_url(base_url: str, service_path: str, batch_path: str) -> str:
    """The batch endpoint: the resolved root URL (base URL without the service path) + ``batchPath``."""
    service = service_path.lstrip("/")
    root = base_url[: len(base_url) - len(service)] if service and base_url.endswith(service) else base_url
    return root + batch_path.lstrip("/")


_ClientT = TypeVar("_ClientT", bound="BaseClient")


class ClientDescription(Generic[_TransportT]):
    """What a generated client (sync or async) declares about its API, from its document, and
    its construction, which both share.

    Generated subclasses set the class attributes; ``_api`` is the core that sends requests.
    """

    _API_ID: ClassVar[str] = ""
    _PACKAGE: ClassVar[str] = ""
    _REVISION: ClassVar[str] = ""
    _ROOT_URL: ClassVar[str] = ""
    _SERVICE_PATH: ClassVar[str] = ""
    _SCOPES: ClassVar[tuple[str, ...]] = ()
    _BATCH_PATH: ClassVar[str] = ""
    #: The mutual-TLS variant of ``rootUrl`` ("" when the document names none).
    MTLS_ROOT_URL: ClassVar[str] = ""
    _api: CoreBase[_TransportT]

    def __init__(
        self,
        *,
        credentials: Optional[Credentials] = None,  # noqa: UP045 - a ForwardRef at run time (no | in 3.10)
        endpoint: str | None = None,
        client_options: Mapping[str, Any] | Any | None = None,
        transport: _TransportT | None = None,
        timeout: float | None = 60.0,
        retry: RetryArg = DEFAULT,
        allow_insecure_http: bool = False,
        proxy: str | None = None,
        check_enums: bool = True,
    ) -> None:
        """Create a client.

        Args:
            credentials: google-auth credentials. Default: ``google.auth.default()`` with the
                API's scopes (or ``client_options`` scopes / ``credentials_file``).
            endpoint: Replaces the document's ``rootUrl`` (the service path is still
                appended), e.g. a regional endpoint. Plain ``http://`` only for loopback
                hosts unless ``allow_insecure_http``. Default: the ``rootUrl`` in the
                universe domain, or the ``mtlsRootUrl`` (see :mod:`gapi_runtime.mtls`).
            client_options: google-api-core ``ClientOptions`` or a dict with
                ``api_endpoint``, ``quota_project_id``, ``scopes``, ``credentials_file``,
                ``api_key``, ``universe_domain``, ``client_cert_source``,
                ``client_encrypted_cert_source``. Any other option that is set raises ValueError.
            transport: Sends the HTTP requests. Sync clients: a :class:`Transport`, default
                :class:`PooledTransport` (or :class:`Urllib3Transport`, which honours
                ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``, when a proxy or a client
                certificate is used). Async clients: an
                :class:`~gapi_runtime.aio.AsyncTransport`, default
                :class:`~gapi_runtime.asyncio_transport.AsyncPooledTransport` (asyncio
                streams, no extra library);
                :class:`~gapi_runtime.aiohttp_transport.AiohttpTransport` needs
                ``pip install 'gapi-runtime[async]'``.
            timeout: Default per-call timeout in seconds (None: wait forever). It bounds each
                attempt: a stalled or trickling server fails the call with
                :class:`~gapi_runtime.errors.RequestTimeout` after about this long.
            retry: Default retry policy of calls: DEFAULT retries idempotent methods
                (GET, HEAD, OPTIONS, PUT, DELETE) on 408/429/5xx and early connection
                failures (see :mod:`gapi_runtime.retry`); a
                ``google.api_core.retry.Retry`` or :class:`~gapi_runtime.retry.RetryPolicy`
                replaces it; None turns retries off. Calls may override it with ``retry=``.
            allow_insecure_http: Permit ``http://`` endpoints on non-loopback hosts.
            proxy: A proxy URL (``http://[user:password@]host:port``) for every request of
                the default transport, instead of the proxy environment variables.
            check_enums: Check parameters that list their values in the document before any
                I/O (ValueError otherwise); False sends values newer than the document.
        """
        user_agent, api_client = identity(self._PACKAGE, self._REVISION)
        common = resolve_common(
            root_url=self._ROOT_URL,
            service_path=self._SERVICE_PATH,
            scopes=self._SCOPES,
            user_agent=user_agent,
            api_client=api_client,
            credentials=credentials,
            endpoint=endpoint,
            client_options=client_options,
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            mtls_root_url=self.MTLS_ROOT_URL,
            api_id=self._API_ID,
        )
        check_proxy_option(proxy, transport)
        if transport is None:
            transport = self._default_transport(proxy, common.client_certificate)
        install_certificate(transport, common.client_certificate)
        self._api = self._open(self._redirecting(transport, allow_insecure_http), common, timeout, retry, check_enums)

    def _default_transport(self, proxy: str | None, certificate: ClientCertificate | None) -> _TransportT:
        raise NotImplementedError

    def _redirecting(self, transport: _TransportT, allow_insecure_http: bool) -> _TransportT:
        raise NotImplementedError

    def _open(
        self, transport: _TransportT, common: CommonSettings, timeout: float | None, retry: RetryArg, check_enums: bool
    ) -> CoreBase[_TransportT]:
        raise NotImplementedError

    def _batch_url(self) -> str:
        """Where ``batch()`` POSTs: the resolved endpoint (regional or not) + the document's ``batchPath``."""
        return batch_url(self._api.base_url, self._SERVICE_PATH, self._BATCH_PATH)

    @property
    def base_url(self) -> str:
        """The URL every method path is appended to (endpoint + service path)."""
        return self._api.base_url

    @property
    def universe_domain(self) -> str:
        """The universe domain requests go to (``googleapis.com`` unless configured)."""
        return self._api.universe_domain

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class BaseClient(ClientDescription[Transport]):
    """Base class of generated clients: construction, endpoint and credential handling."""

    _api: ApiCore

    def _default_transport(self, proxy: str | None, certificate: ClientCertificate | None) -> Transport:
        return default_transport(proxy, certificate)

    def _redirecting(self, transport: Transport, allow_insecure_http: bool) -> Transport:
        return RedirectingTransport(transport, allow_insecure_http=allow_insecure_http)

    _open = ApiCore

    def close(self) -> None:
        """Release the transport's pooled connections."""
        self._api.close()

    def __enter__(self: _ClientT) -> _ClientT:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

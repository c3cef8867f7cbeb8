"""Batch requests: many calls in one multipart/mixed POST to the API's ``batchPath``.

A generated client's ``batch()`` returns a batch that offers the client's resources and
methods; calling one queues the request (URL, headers and body are built and checked at
once, exactly as for a direct call) and returns a :class:`BatchHandle`. ``execute()`` sends
the queued requests, at most ``max_batch_size`` per POST (default 100, the limit most Google
APIs document), to the batch endpoint of the client's resolved endpoint, parses the
multipart/mixed answer and resolves every handle: ``handle.result()`` returns the decoded
JSON the direct call would return, or raises the same typed error.

The rules are those of direct calls, applied to each part:

* a part answered 401 (or every part, when the batch POST itself is) is sent again once, in
  the next batch POST, after the credentials are refreshed (once for all such parts);
* a part whose answer (or whose batch POST) failed is retried under its retry policy (the
  client's, or the ``retry=`` given when queuing it): the default retries idempotent methods
  only, so a PATCH or POST part is not retried; retried parts wait as long as the longest
  delay among them, then go out together in the next POST;
* requests keep their queue order, and parts are matched to answers by ``Content-ID``
  (``<id+n>`` answered by ``<response-id+n>``), by position when an answer has none.

Headers common to all calls (authorization, user agent, API key, quota project) are sent
once, on the batch POST; Google's batch endpoints apply them to every part. Each part
carries its own ``Host`` and, with a body, ``content-type`` and ``content-length``.

:class:`BatchPlan` makes every decision without I/O; :class:`Batch` (here) and
:class:`~gapi_runtime.aio.AsyncBatch` only send.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar
from urllib.parse import urlsplit

from gapi_runtime.client import (
    DEFAULT,
    ApiCore,
    CoreBase,
    RetryArg,
    RetryChoice,
    TimeoutArg,
    choose_policy,
    decode_response,
    next_retry_delay,
    request_encoder,
    retry_state,
)
from gapi_runtime.clock import SYSTEM_CLOCK, Clock
from gapi_runtime.encoding import MAX_PATTERN_VALUE
from gapi_runtime.errors import ResponseDecodeError, http_error
from gapi_runtime.steps import CHECK_UNIVERSE, Refresh, Send, Sleep, Steps
from gapi_runtime.wire import Response

if TYPE_CHECKING:
    from gapi_runtime.retry import RetryState
    from gapi_runtime.spec import MethodSpec

__all__ = [
    "DEFAULT_MAX_BATCH_SIZE",
    "MAX_BATCH_SIZE",
    "Batch",
    "BatchBase",
    "BatchError",
    "BatchHandle",
    "BatchPlan",
    "BatchQueue",
    "encode_batch",
    "parse_batch",
]

ResponseT = TypeVar("ResponseT")
_CoreT = TypeVar("_CoreT", bound=CoreBase[Any])

#: Requests per batch POST unless ``max_batch_size`` says otherwise: most Google APIs document 100.
DEFAULT_MAX_BATCH_SIZE = 100
#: The largest ``max_batch_size`` accepted (googleapiclient's limit; Google front ends refuse more).
MAX_BATCH_SIZE = 1000


class BatchError(Exception):
    """A misuse of a batch (a media method, a result asked for before ``execute()``)."""


_PENDING = object()
_new_handle = object.__new__


class BatchHandle(Generic[ResponseT]):
    """The future result of one queued call; resolved by the batch's ``execute()``.

    Made only by :meth:`BatchQueue.call`, which fills in its slots (see there).
    """

    # Few slots: a batch makes one handle per request, and each slot costs at its creation,
    # its deallocation and every garbage collection that visits it.
    __slots__ = ("_content_id", "_outcome", "data", "policy", "returns", "spec", "url")
    spec: MethodSpec[ResponseT]
    url: str
    data: bytes | None
    policy: RetryChoice
    returns: bool  # False: the method returns nothing (result() is None, as the direct call)
    _outcome: Any  # _PENDING, then the decoded answer or the error (an Exception: never a JSON value)
    _content_id: str  # set when the batch first sends it

    @property
    def headers(self) -> Mapping[str, str]:
        """The part's own headers (the method's; those every call shares are the batch request's)."""
        return self.spec.request_headers

    @property
    def content_id(self) -> str | None:
        """The part's ``Content-ID`` (the batch's random prefix + ``+`` + its 1-based position
        in the batch), or None until ``execute()`` sends it."""
        return getattr(self, "_content_id", None)

    def __repr__(self) -> str:
        outcome = self._outcome
        status = "pending" if outcome is _PENDING else ("failed" if isinstance(outcome, Exception) else "done")
        return f"<BatchHandle {self.spec.id} {self.content_id or 'unsent'} {status}>"

    def done(self) -> bool:
        """True once ``execute()`` resolved this handle (with a value or an error)."""
        return self._outcome is not _PENDING

    def result(self) -> ResponseT:
        """The decoded answer the direct call would return; raises the error it would raise.

        Raises BatchError if the batch has not been executed yet.
        """
        outcome = self._outcome
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is _PENDING:
            raise BatchError(f"{self.spec.id}: the batch has not been executed yet; call batch.execute() first")
        return outcome  # type: ignore[no-any-return]

    def exception(self) -> Exception | None:
        """The error ``result()`` raises, or None (also None while the handle is pending)."""
        outcome = self._outcome
        return outcome if isinstance(outcome, Exception) else None

    def _resolve(self, value: Any) -> None:
        self._outcome = value

    def _fail(self, error: Exception) -> None:
        self._outcome = error


class BatchQueue:
    """What a batch's resources call instead of the client's core: ``call`` queues.

    Requests are built exactly as for a direct call (so a bad argument raises at once, before
    anything is queued) against the client's resolved base URL.
    """

    def __init__(self, base_url: str, retry: RetryChoice, check_enums: bool = True) -> None:
        self.check_enums = check_enums
        self.base_url = base_url
        self._retry = retry
        #: The Content-IDs' prefix: random, so that they never collide with another batch's
        #: (16 bytes, as many as a UUID's).
        self.prefix = os.urandom(16).hex()
        self.handles: list[BatchHandle[Any]] = []

    def call(
        self,
        spec: MethodSpec[ResponseT],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object = None,
        retry: RetryArg = DEFAULT,
        returns: bool = True,
    ) -> BatchHandle[ResponseT]:
        """Queue ``spec``'s request with these arguments and return its handle.

        ``returns`` is False for methods that return nothing: their handle's result is None.
        """
        # The handle is made without a constructor call (the largest single cost of queuing
        # a request): its slots are filled in here.
        handle: BatchHandle[ResponseT] = _new_handle(BatchHandle)
        plain = spec._plain  # set with the encoder, at the method's first call
        url = None
        if plain is not None and (body is None or (type(body) is dict and not body)):
            # The encoder's one-variable shortcut (see request_encoder), taken here without
            # calling it when it is the whole request: no query value, no body.
            head, tail, sent_as_is, query_count, data = plain
            value = path_values[0]
            if (
                type(value) is str
                and len(value) <= MAX_PATTERN_VALUE
                and sent_as_is(value) is not None
                and query_values.count(None) == query_count
            ):
                url = f"{self.base_url}{head}{value}{tail}"
        if url is None:
            encode = spec._encoder or request_encoder(spec)
            url, data = encode(self.base_url, path_values, query_values, body, self.check_enums, 4)
        handle.url = url
        handle.data = data
        handle.spec = spec
        handle.policy = self._retry if retry is DEFAULT else choose_policy(retry, None)
        handle.returns = returns
        handle._outcome = _PENDING
        self.handles.append(handle)
        return handle

    def refuse_media(self, spec: MethodSpec[Any]) -> NoReturn:
        """Refuse a media call: a batch part cannot carry an upload or a media answer."""
        raise BatchError(
            f"{spec.id}: media uploads and downloads cannot be sent in a batch request; call the method directly"
        )


# --- the wire format -------------------------------------------------------------------


def encode_batch(handles: Sequence[BatchHandle[Any]], boundary: str) -> bytes:
    """The multipart/mixed body of one batch POST: one ``application/http`` part per handle
    (handles being sent: ``execute()`` gives them their Content-IDs)."""
    out: list[bytes] = []
    for handle in handles:
        content_id = handle.content_id
        if content_id is None:
            raise BatchError(f"{handle.spec.id}: the request has no Content-ID yet: batches number them when sent")
        parts = urlsplit(handle.url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        lines = [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: <{content_id}>",
            "",
            f"{handle.spec.http_method} {target} HTTP/1.1",
            f"Host: {parts.netloc}",
        ]
        lines += [f"{name}: {value}" for name, value in handle.headers.items()]
        if handle.data is not None:
            lines.append(f"content-length: {len(handle.data)}")
        out.append(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        if handle.data is not None:
            out.append(handle.data)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """(header block, rest) split at the first empty line (CRLF or LF line ends)."""
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf], data[crlf + 4 :]
    if lf >= 0:
        return data[:lf], data[lf + 2 :]
    return data, b""


def headers_of(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def boundary_of(content_type: str) -> str | None:
    """The ``boundary`` parameter of a multipart/mixed content type, else None."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/mixed":
        return None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return value.strip().strip('"') or None
    return None


def multipart_parts(boundary: str, data: bytes, what: str = "batch") -> list[tuple[str, bytes]]:
    """The (Content-ID, payload) of each part of a multipart/mixed body (Content-ID ``""`` when
    a part has none); ValueError naming ``what`` when there is no part."""
    sections = data.split(b"--" + boundary.encode("latin-1"))
    if len(sections) < 2:
        raise ValueError(f"the {what} has no parts")
    parts: list[tuple[str, bytes]] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break  # the close delimiter
        section = section[2:] if section.startswith(b"\r\n") else section.removeprefix(b"\n")
        section = section[:-2] if section.endswith(b"\r\n") else section.removesuffix(b"\n")
        head, payload = split_head(section)
        parts.append((headers_of(head).get("content-id", "").strip().strip("<>"), payload))
    return parts


def parse_batch(content_type: str, data: bytes) -> list[tuple[str, Response]]:
    """The (Content-ID, HTTP response) of each part of a multipart/mixed batch answer.

    The Content-ID is ``""`` when a part has none; raises ValueError when the answer is not a
    multipart/mixed body of ``application/http`` parts.
    """
    boundary = boundary_of(content_type)
    if boundary is None:
        raise ValueError(f"the batch answer is {content_type or 'untyped'!r}, not multipart/mixed with a boundary")
    answers: list[tuple[str, Response]] = []
    for content_id, payload in multipart_parts(boundary, data, "batch answer"):
        status_line, _, rest = payload.partition(b"\n")
        fields = status_line.decode("latin-1").split()
        if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
            raise ValueError(f"a batch part does not hold an HTTP response: {status_line[:60]!r}")
        inner_head, body = split_head(rest)
        inner = headers_of(inner_head)
        status = int(fields[1])
        length = inner.get("content-length", "").strip()
        if status in _NO_BODY:
            body = b""  # as on the wire: whatever follows such an answer is not its body
        elif length.isascii() and length.isdigit() and int(length) < len(body):
            body = body[: int(length)]  # padding after the part's body is not part of it
        if inner.get("content-encoding", "").lower() == "gzip":
            import gzip
            import zlib

            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                pass  # left as it came: that part's answer alone fails to decode
            else:
                del inner["content-encoding"]
        answers.append((content_id, Response(status, inner, body)))
    return answers


#: Statuses whose answers have no body (RFC 9110: 1xx, 204, 304).
_NO_BODY = frozenset({204, 304})


def _content_type(response: Response) -> str:
    for name, value in response.headers.items():
        if name.lower() == "content-type":
            return value
    return ""


# --- the decisions ---------------------------------------------------------------------


class BatchPlan:
    """Every decision of one ``execute()``, without I/O: what goes into each POST, what an
    answer means for each handle, what is sent again and after how long."""

    def __init__(
        self, handles: Sequence[BatchHandle[Any]], batch_url: str, max_batch_size: int, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.batch_url = batch_url
        self.max_batch_size = max_batch_size
        self.pending: list[BatchHandle[Any]] = list(handles)
        self.clock = clock
        self.started = clock.monotonic()
        self._next: list[BatchHandle[Any]] = []
        self._delay = 0.0
        self.rejected: str | None = None  # an authorization header a part was refused with
        self._retry_states: dict[BatchHandle[Any], RetryState] = {}  # of the handles that failed once
        self._first_sent: dict[BatchHandle[Any], float] = {}  # when each handle first went out
        self._reauthorized: set[BatchHandle[Any]] = set()  # handles sent again after a 401
        self._refused: dict[BatchHandle[Any], Response] = {}  # this round's 401 answers, until the refresh

    def chunks(self) -> list[list[BatchHandle[Any]]]:
        """This round's requests, in queue order, at most ``max_batch_size`` per POST."""
        size = self.max_batch_size
        return [self.pending[start : start + size] for start in range(0, len(self.pending), size)]

    @staticmethod
    def request(chunk: Sequence[BatchHandle[Any]], base_headers: Mapping[str, str]) -> tuple[dict[str, str], bytes]:
        """Headers (without authorization) and body of the POST that carries ``chunk``."""
        import uuid

        boundary = "batch_" + uuid.uuid4().hex
        headers = {name: value for name, value in base_headers.items() if name != "accept"}
        headers["content-type"] = f'multipart/mixed; boundary="{boundary}"'
        return headers, encode_batch(chunk, boundary)

    def sending(self, chunk: Sequence[BatchHandle[Any]]) -> None:
        """``chunk`` goes out now: its retry deadlines count from its first sending, as a direct
        call's count from its start (a part of a later POST loses no time to earlier ones)."""
        now = self.clock.monotonic()
        for handle in chunk:
            self._first_sent.setdefault(handle, now)

    def refresh_failed(self, error: Exception) -> None:
        """Refreshing the credentials after 401 answers failed: those requests are not sent
        again; each fails with its 401, caused by ``error`` (as a direct call fails)."""
        for handle, response in self._refused.items():
            self._next.remove(handle)
            failure = http_error(response.status, response.data, handle.spec.id, handle.url, response)
            failure.__cause__ = error
            handle._fail(failure)
        self._refused.clear()

    def record(self, chunk: Sequence[BatchHandle[Any]], response: Response, sent: Mapping[str, str]) -> None:
        """Resolve ``chunk``'s handles from the answer to its POST (``sent``: the headers sent)."""
        authorization = sent.get("authorization")
        if response.status == 401 and authorization is not None:
            for handle in chunk:
                self._answer(handle, response, authorization)
            return
        if response.status >= 300:
            error = http_error(response.status, response.data, "batch", self.batch_url, response)
            for handle in chunk:
                self.failed(handle, error)
            return
        try:
            answers = parse_batch(_content_type(response), response.data)
        except (ValueError, OSError, EOFError) as exc:
            problem = ResponseDecodeError(
                f"POST {self.batch_url} answered {response.status} with a body that is not a batch answer: {exc}",
                url=self.batch_url,
                method_id="batch",
                response_started=True,
            )
            for handle in chunk:
                self.failed(handle, problem)
            return
        by_id = {content_id: answer for content_id, answer in answers if content_id}
        for index, handle in enumerate(chunk):
            answer = by_id.get("response-" + handle._content_id) or by_id.get(handle._content_id)
            if answer is None and not by_id and index < len(answers):
                answer = answers[index][1]  # an answer without Content-IDs: by position
            if answer is None:
                self.failed(
                    handle,
                    ResponseDecodeError(
                        f"the batch answer has no part for Content-ID <{handle._content_id}>",
                        url=handle.url,
                        method_id=handle.spec.id,
                        response_started=True,
                    ),
                )
            else:
                self._answer(handle, answer, authorization)

    def _answer(self, handle: BatchHandle[Any], response: Response, authorization: str | None) -> None:
        if response.status == 401 and authorization is not None and handle not in self._reauthorized:
            self._reauthorized.add(handle)  # refresh the credentials, then send it once more
            self.rejected = authorization
            self._refused[handle] = response
            self._next.append(handle)
            return
        if response.status >= 300:
            self.failed(handle, http_error(response.status, response.data, handle.spec.id, handle.url, response))
            return
        try:
            value = decode_response(handle.spec, handle.url, response)
            handle._resolve(value if handle.returns else None)
        except Exception as exc:
            self.failed(handle, exc)

    def failed(self, handle: BatchHandle[Any], error: Exception) -> None:
        """``handle``'s attempt failed with ``error``: retry it (next round) or fail it."""
        if handle.policy is None:
            handle._fail(error)
            return
        state = self._retry_states.get(handle)
        if state is None:
            started = self._first_sent.get(handle, self.started)
            state = self._retry_states[handle] = retry_state(handle.policy, handle.spec.http_method, started)
        delay = next_retry_delay(state, handle.spec.id, error, self.clock.monotonic())
        if delay is None:
            handle._fail(error)
            return
        self._delay = max(self._delay, delay)
        self._next.append(handle)

    def next_round(self) -> float:
        """Start the next round (the handles to send again); returns the seconds to wait first."""
        order = {id(handle): index for index, handle in enumerate(self.pending)}
        self.pending = sorted(self._next, key=lambda handle: order.get(id(handle), 0))
        self._next = []
        self._refused.clear()
        delay, self._delay = self._delay, 0.0
        return delay


class BatchBase(Generic[_CoreT]):
    """What the sync :class:`Batch` and the async :class:`~gapi_runtime.aio.AsyncBatch` share:
    the queue, and ``execute()`` written once as a protocol (see :mod:`gapi_runtime.steps`)
    that the client's core runs; the subclasses only start it."""

    def __init__(self, api: _CoreT, batch_url: str, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE) -> None:
        check_size(max_batch_size)
        self._core = api
        self._batch_url = batch_url
        self.max_batch_size = max_batch_size
        self._api = BatchQueue(api.base_url, api._retry_choice, api._check_enums)
        self._sent = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._batch_url!r}, queued={len(self)})"

    def __len__(self) -> int:
        """The number of requests queued and not yet sent."""
        return len(self._api.handles) - self._sent

    def _take(self) -> list[BatchHandle[Any]]:
        """The handles queued since the last ``execute()``, numbered (their Content-IDs)."""
        queue = self._api
        handles = queue.handles[self._sent :]
        for number, handle in enumerate(handles, self._sent + 1):
            handle._content_id = f"{queue.prefix}+{number}"
        self._sent = len(queue.handles)
        return handles

    def _execute_steps(self, timeout: TimeoutArg) -> Steps[tuple[BatchHandle[Any], ...]]:
        core = self._core
        if not core._universe_checked:
            yield CHECK_UNIVERSE  # before anything is sent, as for direct calls
        handles = self._take()
        limit = core._timeout if timeout is DEFAULT else timeout
        plan = BatchPlan(handles, self._batch_url, self.max_batch_size, core.clock)
        try:
            while plan.pending:
                for chunk in plan.chunks():
                    headers, body = plan.request(chunk, core._headers)
                    try:
                        yield from core._authorize(headers)
                        plan.sending(chunk)
                        response = yield Send("POST", self._batch_url, headers, body, limit)
                    except Exception as exc:
                        for handle in chunk:
                            plan.failed(handle, exc)
                        continue
                    plan.record(chunk, response, headers)
                rejected, plan.rejected = plan.rejected, None
                if rejected is not None and core._credentials is not None:
                    try:
                        yield Refresh(core._credentials, rejected)
                    except Exception as exc:
                        plan.refresh_failed(exc)
                delay = plan.next_round()
                if delay and plan.pending:
                    yield Sleep(delay)
        except BaseException as exc:  # interrupted (a cancelled task, KeyboardInterrupt): no handle stays pending
            for handle in handles:
                if not handle.done():
                    why = "" if isinstance(exc, GeneratorExit) else f" ({type(exc).__name__})"  # closed by its driver
                    interrupted = BatchError(
                        f"{handle.spec.id}: the batch's execute() was interrupted{why} before this request's "
                        "answer arrived; it may or may not have been applied"
                    )
                    interrupted.__cause__ = exc
                    handle._fail(interrupted)
            raise
        return tuple(handles)


class Batch(BatchBase[ApiCore]):
    """Base class of generated batches (``client.batch()``); not thread-safe.

    ``execute()`` sends what was queued since the last ``execute()``; a ``with`` block
    executes the batch when it ends without an exception.
    """

    def __enter__(self: _BatchT) -> _BatchT:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.execute()

    def execute(self, timeout: TimeoutArg = DEFAULT) -> tuple[BatchHandle[Any], ...]:
        """Send the queued requests and resolve their handles; returns them in queue order.

        ``timeout`` bounds each batch POST (default: the client's timeout). Errors of single
        requests do not raise here: each handle's ``result()`` raises its own.
        """
        return self._core._drive(self._execute_steps(timeout))


_BatchT = TypeVar("_BatchT", bound=Batch)


def check_size(max_batch_size: int) -> None:
    """ValueError unless 1 <= ``max_batch_size`` <= :data:`MAX_BATCH_SIZE`."""
    if not isinstance(max_batch_size, int) or not 1 <= max_batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"max_batch_size must be an integer from 1 to {MAX_BATCH_SIZE}, got {max_batch_size!r}")

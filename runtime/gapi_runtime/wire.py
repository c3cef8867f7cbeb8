"""The one small interface between generated clients and HTTP, and the deadline watchdog.

A transport sends one request and returns the status, headers and body bytes. It does not
authenticate, retry or decode: the client does that, so every transport gets the same
behaviour. :class:`Response` also satisfies google-auth's transport response interface, so
credentials refresh through the same transport.

Media moves bodies too large to hold in memory. A transport that also has ``stream``
(:class:`StreamingTransport`: all of this runtime's) takes a :class:`StreamBody` — bytes and
:class:`FileSlice` parts of a known total length, sent in blocks of :data:`BLOCK` bytes and
read again from their start whenever the request is sent again — and can hand the body of
an answer to a :class:`Sink` block by block instead of returning it. :func:`stream` sends
through any transport: one without ``stream`` gets the body as bytes and its answer is
replayed into the sink, so the caller sees the same behaviour, with more memory.

Transports enforce ``timeout`` as a deadline for the whole exchange (sending, waiting for the
status line and headers, reading the body): a server that stalls, or drips one byte at a time,
fails the call within about the timeout. Socket timeouts bound each read only, so one shared
watchdog thread shuts a request's socket down when its deadline passes.

This module imports no HTTP library: the default transport
(:class:`~gapi_runtime.pooled_transport.PooledTransport`) needs none, and urllib3 is imported
only with :class:`~gapi_runtime.transport.Urllib3Transport`.
"""

from __future__ import annotations

import collections
import heapq
import inspect
import itertools
import operator
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO, ClassVar, Protocol, TypeVar, runtime_checkable

__all__ = [
    "BLOCK",
    "Body",
    "FileSlice",
    "LocalFailure",
    "Record",
    "Response",
    "Sink",
    "StreamBody",
    "StreamingTransport",
    "Transport",
]

#: The size of the blocks a :class:`StreamBody` is read in, and of streamed answer blocks.
BLOCK = 256 * 1024


#: A fast read-only descriptor for item ``index`` of a tuple: CPython's own (what
#: ``collections.namedtuple`` uses), else a property.
_item_getter: Callable[[int, str], Any] = getattr(collections, "_tuplegetter", None) or (
    lambda index, doc: property(operator.itemgetter(index), doc=doc)
)
_R = TypeVar("_R", bound="Record")


class Record(tuple[Any, ...]):
    """A small immutable value: a tuple whose items are also attributes, named by the subclass's
    annotations (in order), as with :class:`typing.NamedTuple`.

    Defining one costs a fraction of a NamedTuple's class creation (which builds a
    ``collections.namedtuple`` and evaluates annotations), paid by every import. A subclass
    declares ``__slots__ = ()``, its fields as annotations, and a ``__new__`` taking them (by
    position or keyword): ``return tuple.__new__(cls, (a, b))``. Instances compare, hash,
    unpack, pickle and print like NamedTuples, and have ``_fields``, ``_replace()``,
    ``_asdict()`` and ``__match_args__``.
    """

    __slots__ = ()
    #: The field names, in order.
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # With postponed evaluation the annotations are strings: nothing is evaluated here.
        fields = tuple(inspect.get_annotations(cls))
        cls._fields = fields
        setattr(cls, "__match_args__", fields)  # noqa: B010 - mypy would not have it assigned
        for index, name in enumerate(fields):
            setattr(cls, name, _item_getter(index, f"Alias for field number {index}"))

    def __repr__(self) -> str:
        items = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({items})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        """Pickling and copying pass the fields to ``__new__``."""
        return tuple(self)

    def _replace(self: _R, **changes: Any) -> _R:
        """A copy with the fields named in ``changes`` replaced."""
        values = [changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)]
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return tuple.__new__(type(self), values)

    def _asdict(self) -> dict[str, Any]:
        """The fields as a new dict."""
        return dict(zip(self._fields, self, strict=True))


class Response(Record):
    """What a transport returns. ``headers`` keys are matched case-insensitively by urllib3."""

    __slots__ = ()
    status: int
    headers: Mapping[str, str]
    data: bytes

    def __new__(cls, status: int, headers: Mapping[str, str], data: bytes) -> Response:
        return tuple.__new__(cls, (status, headers, data))


@runtime_checkable
class Transport(Protocol):
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        """Send one request; raise :class:`~gapi_runtime.errors.TransportError` on failure.

        ``timeout`` bounds the whole exchange, in seconds (None: no bound). Failures before
        any response byte arrived must have ``response_started`` False, later ones True.
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


class FileSlice(Record):
    """``length`` bytes of a seekable binary file, from ``offset`` (an absolute position)."""

    __slots__ = ()
    file: BinaryIO
    offset: int
    length: int

    def __new__(cls, file: BinaryIO, offset: int, length: int) -> FileSlice:
        return tuple.__new__(cls, (file, offset, length))


class LocalFailure(Exception):
    """An error of the caller's own objects met inside a transport: a body's file could not be
    read, a sink could not write. Transports re-raise ``error`` as it is (it is not a transport
    failure, and retrying the request would not help)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class StreamBody:
    """A request body of known length that a transport sends in blocks, never whole.

    Its parts are ``bytes`` (or memoryviews) and :class:`FileSlice` s, sent in order. Every
    call of :meth:`blocks` starts again from the first byte (file slices are sought), so a
    request sent once more (a stale connection, a retry) carries the same bytes. Memory: one
    block of :data:`BLOCK` bytes at a time, whatever the length.
    """

    __slots__ = ("_length", "_parts")

    def __init__(self, *parts: bytes | memoryview | FileSlice) -> None:
        self._parts = parts
        self._length = sum(part.length if isinstance(part, FileSlice) else len(part) for part in parts)

    def __len__(self) -> int:
        return self._length

    @property
    def parts(self) -> tuple[bytes | memoryview | FileSlice, ...]:
        return self._parts

    def __repr__(self) -> str:
        return f"StreamBody({self._length} bytes in {len(self._parts)} parts)"

    def blocks(self, size: int = BLOCK) -> Iterator[bytes | memoryview]:
        """The body from its start, in blocks of at most ``size`` bytes; LocalFailure when a file
        cannot be read or ends early."""
        for part in self._parts:
            if not isinstance(part, FileSlice):
                if len(part) <= size:
                    yield part
                else:
                    view = memoryview(part)
                    for start in range(0, len(view), size):
                        yield view[start : start + size]
                continue
            left = part.length
            try:
                part.file.seek(part.offset)
                while left > 0:
                    block = part.file.read(min(size, left))
                    if not block:
                        raise ValueError(f"the file ended {left} bytes before the end of the request body")
                    left -= len(block)
                    yield block
            except (OSError, ValueError) as exc:
                raise LocalFailure(exc) from exc

    def read(self) -> bytes:
        """The whole body as bytes (for a transport that takes bytes only)."""
        return b"".join(bytes(block) for block in self.blocks())

    def framed(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with this body's ``Content-Length`` (for HTTP libraries that would otherwise
        send a body of blocks chunked)."""
        framed = dict(headers)
        if not any(name.lower() == "content-length" for name in framed):
            framed["content-length"] = str(self._length)
        return framed


def for_library(
    body: Body, headers: Mapping[str, str]
) -> tuple[bytes | Iterator[bytes | memoryview] | None, Mapping[str, str]]:
    """The body and headers to hand an HTTP library (urllib3, aiohttp): a :class:`StreamBody` as
    an iterator of its blocks, with its length in the headers (so that it is not sent chunked)."""
    if isinstance(body, StreamBody):
        return body.blocks(), body.framed(headers)
    return body, headers


#: A request body: bytes, a :class:`StreamBody` (media), or None.
Body = bytes | StreamBody | None
#: A bound on a whole exchange, in seconds (None: no bound).
Timeout = float | None

#: What a :class:`Sink` returns to take an answer's body: it is called with each block.
Writer = Callable[[bytes], object]


class Sink(Protocol):
    """Where a streamed answer's body goes."""

    def start(self, status: int, headers: Mapping[str, str]) -> Writer | None:
        """Called once the status and headers are read: a writer takes the body block by block
        (the transport's answer then has empty ``data``), None lets the transport read it into
        ``data`` as usual. Must not raise."""
        ...


@runtime_checkable
class StreamingTransport(Transport, Protocol):
    """A transport that also sends :class:`StreamBody` bodies and streams answers into a sink."""

    def stream(
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """:meth:`request`, with a body that may be a :class:`StreamBody`, and the body of an
        answer without a content coding handed to ``sink`` if it takes it (see :func:`writer_for`)."""
        ...


def writer_for(sink: Sink | None, status: int, headers: Mapping[str, str]) -> Writer | None:
    """The writer ``sink`` takes an answer's body with, or None: only bodies without a content
    coding are streamed (offsets and hashes are of the bytes as stored). The writer raises
    :class:`LocalFailure` for what the sink raises."""
    if sink is None:
        return None
    coding = headers.get("content-encoding")
    if coding and coding.strip().lower() != "identity":
        return None
    write = sink.start(status, headers)
    if write is None:
        return None

    def guarded(block: bytes) -> None:
        try:
            write(block)
        except Exception as exc:
            raise LocalFailure(exc) from exc

    return guarded


def replay(sink: Sink | None, response: Response) -> Response:
    """``response`` as a streaming transport would have answered: its body handed to ``sink``
    if it takes it (then ``data`` is empty)."""
    write = writer_for(sink, response.status, response.headers)
    if write is None:
        return response
    try:
        write(response.data)
    except LocalFailure as failure:
        raise failure.error from None
    return Response(response.status, response.headers, b"")


def stream(
    transport: Transport,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Body,
    timeout: Timeout,
    sink: Sink | None,
) -> Response:
    """Send through ``transport``'s ``stream`` if it has one; else as bytes, the answer replayed into ``sink``."""
    if isinstance(transport, StreamingTransport):
        return transport.stream(method, url, headers, body, timeout, sink)
    data = body.read() if isinstance(body, StreamBody) else body
    return replay(sink, transport.request(method, url, headers, data, timeout))


# --- for the transports ----------------------------------------------------------------------

_K = TypeVar("_K")
_V = TypeVar("_V")


class Memo(dict[_K, _V]):
    """Values made from keys on first use and kept (at most ``bound``: then it starts afresh);
    a hit is a plain dict lookup. The transports keep their library's timeout objects in one."""

    def __init__(self, make: Callable[[_K], _V], bound: int = 64) -> None:
        super().__init__()
        self._make = make
        self._bound = bound

    def __missing__(self, key: _K) -> _V:
        if len(self) >= self._bound:
            self.clear()
        value = self[key] = self._make(key)
        return value


# --- deadlines ---------------------------------------------------------------------------


class _Guard:
    """One request's deadline; the watchdog shuts its socket down when the deadline passes."""

    __slots__ = ("deadline", "done", "fired", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.done = False
        self.fired = False


class _Watchdog:
    """A single daemon thread that enforces the deadlines of all in-flight requests."""

    def __init__(self) -> None:
        # The hot paths take the plain lock (cheaper than the Condition's wrappers); the
        # thread waits on a Condition over the same lock.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Guard]] = []
        self._finished = 0  # guards in the heap that are done (lazily removed)
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")  # when the thread wakes up next (inf: when notified)

    def start(self, guard: _Guard) -> None:
        with self._lock:
            heapq.heappush(self._heap, (guard.deadline, next(self._counter), guard))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gapi-runtime-deadlines", daemon=True)
                self._thread.start()
            elif guard.deadline < self._wake_at:
                # Only an earlier deadline needs the thread: waking it per request costs more
                # than the request's own bookkeeping.
                self._wake_at = guard.deadline
                self._cond.notify()

    def attach(self, guard: _Guard, sock: socket.socket | None) -> None:
        with self._lock:
            guard.sock = sock
            if guard.fired and sock is not None:
                _shutdown(sock)

    def finish(self, guard: _Guard) -> None:
        """Called when the request is over, before its connection goes back to the pool."""
        with self._lock:
            guard.done = True
            guard.sock = None
            if not guard.fired:  # fired guards have left the heap already
                self._finished += 1
            if self._finished > 256 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and (heap[0][2].done or heap[0][0] <= now):
                    _, _, guard = heapq.heappop(heap)
                    if guard.done:
                        self._finished -= 1
                        continue
                    guard.fired = True
                    if guard.sock is not None:
                        _shutdown(guard.sock)
                self._wake_at = heap[0][0] if heap else float("inf")
                self._cond.wait(heap[0][0] - now if heap else None)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_WATCHDOG = _Watchdog()
_local = threading.local()


def _reset_after_fork() -> None:
    """A forked child has no watchdog thread (and maybe a held lock): start afresh, in place
    (the transports import these objects by name)."""
    _WATCHDOG.__init__()  # type: ignore[misc]
    _local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _target(method: str, url: str) -> str:
    return f"{method} {url.split('?', 1)[0]}"

"""Media upload and download: what methods with ``supportsMediaUpload`` / ``supportsMediaDownload`` use.

Uploads (``media_body=`` on a method that supports them):

* **simple** (``uploadType=media``): the content alone, when there is no metadata ``body``;
* **multipart** (``uploadType=multipart``): ``multipart/related`` of the JSON metadata and
  the content;
* **resumable** (``uploadType=resumable``): above :data:`RESUMABLE_THRESHOLD` bytes, for
  streams of unknown size, or when asked (``MediaUpload(..., resumable=True)``). The first
  request opens a session (its URI comes back in ``Location``); the content follows in
  ``PUT`` chunks of a multiple of 256 KiB, each answered ``308`` with ``Range: bytes=0-N``
  until the last, answered with the method's response. A chunk that fails (a connection
  lost, 408/429/5xx, a rate-limit 403) is retried as the retry policy allows: the client
  first asks how much the server has (``Content-Range: bytes */N`` → ``308`` + ``Range``)
  and goes on from there, never re-sending acknowledged bytes. The session URI is exposed
  (``MediaUpload.session_uri``, ``on_session=``) so that another process can resume with
  ``MediaUpload(path, session_uri=uri)``; a ``MediaUpload`` used again without one opens a
  new session.

Content in memory or in a file that can seek goes out as a
:class:`~gapi_runtime.wire.StreamBody`: the transport reads it in blocks of 256 KiB while it
sends (again from the start if it sends once more), so memory stays at a block or two
whatever the chunk size or the file's size. A stream that cannot seek is read a chunk at a
time and that chunk is kept until acknowledged (it could not be read again).
The document's ``maxSize`` and ``accept`` are checked before any byte is sent.

Downloads (``<method>_media(...)``) send the method's request with ``alt=media`` and return
the bytes, or with ``dest=`` stream them into a binary file in ``Range`` requests of
``chunk_size`` bytes (``Accept-Encoding: identity``, so that offsets are bytes of the
object); after a dropped connection the range is asked again and written on from where the
cut answer stopped (nothing is written twice); the length and the ``x-goog-hash`` the
server sends are checked (its crc32c with ``google-crc32c``'s C implementation, else its
md5: see :mod:`gapi_runtime.checksums`). The transport hands each range's body to the
download as it arrives (a :class:`~gapi_runtime.wire.Sink`), which writes it to ``dest``
and hashes it block by block: memory stays at a block, whatever the range size.

The protocol logic is written once, as generators that yield the requests to send (and the
waits between retries) and receive the outcomes; they run as steps of the client's core
(:mod:`gapi_runtime.steps`), which performs them, with ``await`` on an async client. The
entry points are written once too: :func:`upload_async`, :func:`download_async` and
:func:`raw_async` are :func:`upload`, :func:`download` and :func:`raw`, typed as awaitable.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import mimetypes
import os
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, Protocol, TypeVar, overload

from gapi_runtime import checksums
from gapi_runtime.checksums import Digest, Expected
from gapi_runtime.client import (
    DEFAULT,
    RetryArg,
    TimeoutArg,
    choose_policy,
    decode_response,
    next_retry_delay,
    prepare_request,
)
from gapi_runtime.errors import ConnectError, TLSError, http_error
from gapi_runtime.retry import RetryPolicy, RetryState, default_predicate
from gapi_runtime.spec import _Frozen
from gapi_runtime.steps import CHECK_UNIVERSE, Send, Sleep, Steps, Stream, awaited
from gapi_runtime.wire import BLOCK, FileSlice, Response, StreamBody

if TYPE_CHECKING:
    from gapi_runtime.client import ApiCore, CoreBase
    from gapi_runtime.spec import MethodSpec

__all__ = [
    "CHUNK_GRANULARITY",
    "DEFAULT_CHUNK_SIZE",
    "RESUMABLE_THRESHOLD",
    "BinaryStream",
    "DownloadError",
    "MediaBody",
    "MediaError",
    "MediaUpload",
    "Progress",
    "UploadSpec",
    "download",
    "download_async",
    "raw",
    "raw_async",
    "upload",
    "upload_async",
]

KiB = 1024
MiB = 1024 * KiB
#: Resumable chunks (except the last) are multiples of this, as the protocol requires.
CHUNK_GRANULARITY = 256 * KiB
#: Default size of upload chunks and download ranges.
DEFAULT_CHUNK_SIZE = 16 * MiB
#: Content larger than this (or of unknown size) is uploaded resumably by default.
RESUMABLE_THRESHOLD = 5 * MiB
#: A resumable upload gives up after this many 308 answers in a row that acknowledge nothing new.
MAX_STALLED = 3

#: ``progress(done, total)``: bytes acknowledged (upload) or written (download) so far, and
#: the total when known (else None).
Progress = Callable[[int, int | None], Any]


class MediaError(Exception):
    """A media upload or download that cannot go on (not an HTTP error: those are google-api-core's)."""


class DownloadError(MediaError):
    """A download whose bytes do not add up: wrong length, wrong range, or a hash mismatch."""


class SupportsWrite(Protocol):
    """Where a download writes: anything with ``write(bytes)`` (a file opened ``"wb"``, BytesIO)."""

    def write(self, data: bytes, /) -> object: ...


class UploadSpec(_Frozen):
    """The upload plan of one method, from its document's ``mediaUpload``.

    The upload URL is the endpoint's root + ``upload_prefix`` + the method's own path, as
    googleapiclient builds it (``rootUrl + "upload/" + servicePath + path``; the document's
    ``protocols.simple.path`` is that in every bundled document). ``service_path`` is the
    document's, to find the root in the client's base URL. ``max_size`` is in bytes (0: no
    limit); ``accept`` the MIME ranges the method takes (empty: any).
    """

    __slots__ = ("accept", "max_size", "resumable", "service_path", "upload_prefix")
    _FIELDS = ("upload_prefix", "service_path", "accept", "max_size", "resumable")
    upload_prefix: str
    service_path: str
    accept: tuple[str, ...]
    max_size: int
    resumable: bool

    def __init__(
        self,
        upload_prefix: str,
        service_path: str = "",
        accept: tuple[str, ...] = (),
        max_size: int = 0,
        resumable: bool = True,
    ) -> None:
        for name, value in zip(self._FIELDS, (upload_prefix, service_path, accept, max_size, resumable), strict=True):
            object.__setattr__(self, name, value)

    def base_url(self, client_base_url: str) -> str:
        """The URL the method's path is appended to for uploads."""
        service_path = self.service_path.lstrip("/")
        root = client_base_url
        if service_path and root.endswith(service_path):
            root = root[: len(root) - len(service_path)]
        return root + self.upload_prefix


# --- the content --------------------------------------------------------------------------


class BinaryStream(Protocol):
    """A stream ``media_body`` takes: anything with ``read(size) -> bytes`` (an open file,
    ``io.BytesIO``, ``tempfile.SpooledTemporaryFile``, ``gzip.open(...)``); ``seek`` and
    ``tell`` are used when it has them."""

    def read(self, size: int = ..., /) -> bytes: ...


class MediaUpload:
    """Content to upload, and how: ``media_body=MediaUpload(...)`` for control.

    Args:
        source: ``bytes``, a path (``str`` or ``os.PathLike``) or a binary file object
            (read from its current position; if it cannot seek, its size is unknown and
            the upload is resumable).
        mime_type: The content's MIME type. Default: guessed from the path's extension,
            else ``application/octet-stream``.
        resumable: True forces a resumable upload, False a single request; None (default)
            is resumable above :data:`RESUMABLE_THRESHOLD` bytes or when the size is unknown.
        chunk_size: Bytes per resumable chunk, a multiple of 256 KiB (default 16 MiB).
        progress: Called as ``progress(acknowledged_bytes, total_or_None)`` after each chunk
            the server acknowledged (and once at the end of any upload).
        session_uri: Resume a resumable upload another process started (the
            ``session_uri`` it saved): the server is asked how much it has and the upload
            goes on from there. ``source`` must be the same content.
        on_session: Called with the session URI as soon as a resumable session is open
            (save it to resume after a crash). The URI lets anyone holding it upload to
            the session: keep it as secret as a token.

    One object can be uploaded more than once: each call that was not given a session to
    resume opens a new one and sends the content from its start (a stream that cannot seek
    can be sent once only: MediaError). The attribute ``session_uri`` is then the session
    the last call opened; assigning it (like passing it) makes the next call resume it.
    """

    def __init__(
        self,
        source: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryStream,
        mime_type: str | None = None,
        *,
        resumable: bool | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Progress | None = None,
        session_uri: str | None = None,
        on_session: Callable[[str], Any] | None = None,
    ) -> None:
        if not isinstance(chunk_size, int) or chunk_size <= 0 or chunk_size % CHUNK_GRANULARITY:
            raise ValueError(
                f"chunk_size must be a positive multiple of {CHUNK_GRANULARITY} (256 KiB), got {chunk_size!r}"
            )
        self.chunk_size = chunk_size
        self.resumable = resumable
        self.progress = progress
        self._session_uri = session_uri
        self._resume = session_uri is not None  # the next upload resumes _session_uri
        self._done = False  # an upload of this content completed
        self.on_session = on_session
        self._data: bytes | memoryview | None = None
        self._file: Any = None  # a BinaryStream; seek and tell only when it is seekable
        self._path: str | None = None
        self._start = 0  # the file object's position when given
        self._seekable = True
        self._size: int | None = None
        # A stream that cannot seek keeps the bytes not yet acknowledged (at most a chunk or two).
        self._buffer_start = 0
        self._buffer = b""
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._data = source if isinstance(source, bytes) else memoryview(source).cast("B")
            self._size = len(self._data)
        elif isinstance(source, (str, os.PathLike)):
            self._path = os.fspath(source)
            self._size = os.stat(self._path).st_size
        elif hasattr(source, "read"):
            stream: Any = source  # seek and tell, when it can seek
            self._file = stream
            self._seekable = _seekable(stream)
            if self._seekable:
                self._start = stream.tell()
                end = stream.seek(0, io.SEEK_END)
                stream.seek(self._start)
                self._size = max(0, end - self._start)
        else:
            raise TypeError(
                f"media_body must be bytes, a path, a binary file object or a MediaUpload, got {type(source).__name__}"
            )
        if mime_type is None and self._path is not None:
            mime_type = mimetypes.guess_type(self._path)[0]
        self.mime_type = check_mime_type(mime_type or "application/octet-stream")

    def __repr__(self) -> str:
        what = f"path={self._path!r}" if self._path else "bytes" if self._data is not None else "stream"
        return f"MediaUpload({what}, mime_type={self.mime_type!r}, size={self._size!r})"

    @property
    def session_uri(self) -> str | None:
        """The session given to resume, else the one the last resumable upload opened (None before)."""
        return self._session_uri

    @session_uri.setter
    def session_uri(self, uri: str | None) -> None:
        self._session_uri = uri
        self._resume = uri is not None

    def _begin(self) -> bool:
        """Before an upload: True if it resumes the session given; MediaError if it would have
        to read again a stream that cannot seek (each other upload sends the content from its start)."""
        if self._file is not None and not self._seekable and (self._done or (self._buffer_start and not self._resume)):
            raise MediaError("the stream cannot seek and an earlier upload read it: pass a new stream to upload again")
        return self._resume

    def _finished(self) -> None:
        """An upload completed: a later one opens a new session (and the bytes kept are released)."""
        self._resume = False
        self._done = True
        self._buffer = b""

    @property
    def size(self) -> int | None:
        """The content's length in bytes; None while a stream's end has not been reached."""
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end); a stream cannot go back before unacknowledged bytes."""
        if self._data is not None:
            return bytes(self._data[offset : offset + length])
        source = self._opened()
        if self._seekable:
            source.seek(self._start + offset)
            return _read_exactly(source, length)
        # A stream: serve from the buffer of unacknowledged bytes, reading on as needed.
        if offset < self._buffer_start:
            raise MediaError(
                f"cannot re-send bytes from offset {offset}: the stream cannot seek and they were already discarded"
            )
        end = self._buffer_start + len(self._buffer)
        if offset > end:  # bytes the server has already (a resumed session): read past them
            skipped = _skip(source, offset - end)
            if skipped < offset - end:
                raise MediaError(f"the stream ended at byte {end + skipped}, before the {offset} bytes the server has")
        self._buffer = self._buffer[offset - self._buffer_start :] if offset < end else b""
        self._buffer_start = offset
        if len(self._buffer) < length:
            more = _read_exactly(source, length - len(self._buffer))
            self._buffer += more
            if len(self._buffer) < length:
                self._size = offset + len(self._buffer)
        return self._buffer[:length]

    def body(self, offset: int, length: int) -> bytes | StreamBody:
        """``length`` bytes from ``offset`` (fewer at the end) as a request body.

        Content in memory or in a file that can seek is not copied: a
        :class:`~gapi_runtime.wire.StreamBody` that transports send block by block (and read
        again if they send it again). Bodies of one block or less, and streams that cannot
        seek (their unacknowledged bytes must be kept anyway), are bytes.
        """
        if self._size is not None and self._seekable:
            length = max(0, min(length, self._size - offset))
            if length > BLOCK:
                if self._data is not None:
                    return StreamBody(memoryview(self._data)[offset : offset + length])
                return StreamBody(FileSlice(self._opened(), self._start + offset, length))
        return self.read(offset, length)

    def _opened(self) -> BinaryIO:
        if self._path is not None and self._file is None:
            self._file = open(self._path, "rb")  # closed by close()
        assert self._file is not None
        return self._file  # type: ignore[no-any-return]  # used as a file only where it can seek

    def read_all(self) -> bytes:
        """The whole content (for uploads in one request, which are small)."""
        if self._size is not None:
            return self.read(0, self._size)
        parts, offset = [], 0
        while True:
            part = self.read(offset, DEFAULT_CHUNK_SIZE)
            parts.append(part)
            offset += len(part)
            if len(part) < DEFAULT_CHUNK_SIZE:
                return b"".join(parts)

    def close(self) -> None:
        """Close the file this object opened (not one it was given)."""
        if self._path is not None and self._file is not None:
            self._file.close()
            self._file = None


#: What ``media_body=`` accepts.
MediaBody = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryStream | MediaUpload


def _seekable(source: Any) -> bool:
    try:
        return bool(source.seekable()) if hasattr(source, "seekable") else False
    except (OSError, ValueError):
        return False


def _skip(source: Any, length: int) -> int:
    """Read and discard ``length`` bytes, a block at a time: the number read (fewer at the end)."""
    done = 0
    while done < length:
        block = _read_exactly(source, min(BLOCK, length - done))
        if not block:
            break
        done += len(block)
    return done


def _read_exactly(source: Any, length: int) -> bytes:
    """Read ``length`` bytes (fewer only at the end): raw streams may return short reads."""
    data = source.read(length)
    if data is None:
        data = b""
    if len(data) >= length or not data:
        return bytes(data)
    parts = [bytes(data)]
    got = len(data)
    while got < length:
        more = source.read(length - got)
        if not more:
            break
        parts.append(bytes(more))
        got += len(more)
    return b"".join(parts)


def check_mime_type(mime_type: str) -> str:
    """``mime_type`` if it is ``type/subtype`` (parameters allowed) in printable ASCII; else ValueError.

    It goes into headers and into a multipart body, where a line break would add headers.
    """
    if (
        not isinstance(mime_type, str)
        or not mime_type.isascii()
        or not mime_type.isprintable()
        or "/" not in mime_type.split(";", 1)[0]
    ):
        raise ValueError(f"not a MIME type: {mime_type!r}")
    return mime_type


def as_upload(media_body: MediaBody, media_mime_type: str | None) -> MediaUpload:
    """``media_body`` as a :class:`MediaUpload` (``media_mime_type`` overrides a guessed type)."""
    if isinstance(media_body, MediaUpload):
        if media_mime_type is not None:
            media_body.mime_type = check_mime_type(media_mime_type)
        return media_body
    return MediaUpload(media_body, media_mime_type)


def mime_accepted(mime_type: str, accept: Sequence[str]) -> bool:
    """True if ``mime_type`` falls in one of the ``accept`` ranges (``*/*``, ``image/*``, exact)."""
    if not accept:
        return True
    kind = mime_type.split(";", 1)[0].strip().lower()
    major = kind.split("/", 1)[0]
    for item in accept:
        pattern = item.split(";", 1)[0].strip().lower()
        if pattern in ("*/*", "*", kind) or (pattern.endswith("/*") and pattern[:-2] == major):
            return True
    return False


def check_upload(spec: MethodSpec[Any], upload_spec: UploadSpec, media: MediaUpload) -> None:
    """Refuse, before any I/O, content the document says the method does not take."""
    if not mime_accepted(media.mime_type, upload_spec.accept):
        raise ValueError(
            f"{spec.id}: media type {media.mime_type!r} is not accepted "
            f"(the method takes {', '.join(upload_spec.accept)})"
        )
    _check_size(spec, upload_spec, media.size)


def _check_size(spec: MethodSpec[Any], upload_spec: UploadSpec, size: int | None) -> None:
    if size is not None and upload_spec.max_size and size > upload_spec.max_size:
        raise ValueError(
            f"{spec.id}: the media is {size} bytes, more than the method's maxSize of {upload_spec.max_size}"
        )


# --- the steps a protocol generator yields ------------------------------------------------


class _Request(NamedTuple):
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | StreamBody | None
    method_id: str
    sink: _DownloadSink | None = None  # where the answer's body goes (downloads into a dest)


_Outcome = Response | Exception | None
_T = TypeVar("_T")
ResponseT = TypeVar("ResponseT")
_Protocol = Generator[_Request | Sleep, _Outcome, _T]


def _media_predicate(policy: RetryPolicy) -> RetryPolicy:
    """``policy`` for resumable chunks and ranged downloads: with the default rule, also a
    connection lost after the response started (the server is asked, or the range asked
    again, so nothing is sent twice or written twice)."""
    if policy.predicate is not None:
        return policy
    return dataclasses.replace(policy, predicate=_media_retryable)


def _media_retryable(exc: BaseException) -> bool:
    """The default rule for an idempotent request (statuses, rate-limited 403s), also after a
    connection lost once the response started."""
    if isinstance(exc, ConnectError):
        return not isinstance(exc, TLSError)
    return default_predicate("PUT", exc)


class _Retry:
    """The waits between the attempts of one step, as ``policy`` allows (None: no retries).

    Failures add up (towards the policy's attempts and deadline, from ``started``) for as
    long as the same object is used: a resumable upload makes a new one when bytes are
    acknowledged.
    """

    __slots__ = ("http_method", "policy", "started", "state")

    def __init__(self, policy: RetryPolicy | None, http_method: str, started: float | None = None) -> None:
        self.policy = policy
        self.http_method = http_method
        self.started = time.monotonic() if started is None else started
        self.state: RetryState | None = None

    def after(self, outcome: _Outcome, method_id: str, url: str) -> _Protocol[None]:
        """Wait before the next attempt after ``outcome`` (an error answer, or an exception); raise
        its error when the policy allows no more."""
        if isinstance(outcome, Response):
            outcome = http_error(outcome.status, outcome.data, method_id, url, outcome)
        assert isinstance(outcome, Exception)
        if self.policy is None:
            raise outcome
        if self.state is None:
            self.state = RetryState(self.policy, self.http_method, self.started)
        delay = next_retry_delay(self.state, method_id, outcome)
        if delay is None:
            raise outcome
        yield Sleep(delay)


def _exchange(
    request: _Request,
    policy: RetryPolicy | None,
    http_method: str,
    ok: Callable[[int], bool] = lambda status: status < 300,
) -> _Protocol[Response]:
    """Send ``request`` until it gets a response ``ok`` accepts, retrying as ``policy`` allows."""
    retry = _Retry(policy, http_method)
    while True:
        outcome = yield request
        if isinstance(outcome, Response) and ok(outcome.status):
            return outcome
        yield from retry.after(outcome, request.method_id, request.url)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, item in headers.items():
            if key.lower() == name:
                return item
    return value


def _with_query(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"


# --- upload ---------------------------------------------------------------------------------


def _upload(
    spec: MethodSpec[Any],
    upload_spec: UploadSpec,
    client_base_url: str,
    base_headers: Mapping[str, str],
    path_values: Sequence[object],
    query_values: Sequence[object],
    body: object,
    media: MediaUpload,
    policy: RetryPolicy | None,
) -> _Protocol[Any]:
    check_upload(spec, upload_spec, media)
    resume = media._begin()
    resumable = media.resumable
    if resumable is None:
        resumable = resume or media.size is None or media.size > RESUMABLE_THRESHOLD
        resumable = resumable and upload_spec.resumable
    elif resumable and not upload_spec.resumable:
        raise ValueError(f"{spec.id}: the method does not support resumable uploads")
    if resume and not resumable:
        raise ValueError(f"{spec.id}: a session_uri needs a resumable upload")
    url, headers, data = prepare_request(
        spec, upload_spec.base_url(client_base_url), dict(base_headers), path_values, query_values, body
    )
    if body is None:  # no metadata: prepare_request's "{}" is not sent
        data = None
        headers.pop("content-type", None)
    try:
        if not resumable:
            content = media.read_all() if media.size is None else media.body(0, media.size)
            _check_size(spec, upload_spec, len(content))
            if data is None:
                url = _with_query(url, "uploadType", "media")
                headers["content-type"] = media.mime_type
                sent: bytes | StreamBody = content
            else:
                url = _with_query(url, "uploadType", "multipart")
                boundary, sent = multipart_related(data, media.mime_type, content)
                headers["content-type"] = f'multipart/related; boundary="{boundary}"'
            response = yield from _exchange(
                _Request(spec.http_method, url, headers, sent, spec.id), policy, spec.http_method
            )
            media._finished()
            if media.progress is not None:
                media.progress(media.size or 0, media.size)
            return decode_response(spec, url, response)
        session = media.session_uri if resume else None
        return (yield from _resumable(spec, upload_spec, url, headers, data, media, session, policy, base_headers))
    finally:
        media.close()


@overload
def multipart_related(metadata: bytes, mime_type: str, content: bytes) -> tuple[str, bytes]: ...
@overload
def multipart_related(metadata: bytes, mime_type: str, content: StreamBody) -> tuple[str, StreamBody]: ...
def multipart_related(metadata: bytes, mime_type: str, content: bytes | StreamBody) -> tuple[str, bytes | StreamBody]:
    """(boundary, body) of a ``multipart/related`` upload: the JSON metadata, then the content.

    The parts are those googleapiclient sends (``Content-Type`` and ``MIME-Version``
    headers, the content part ``Content-Transfer-Encoding: binary``), with a random
    boundary (120 random bits) that does not occur in the metadata, nor in content given as
    bytes; streamed content is not read to look (a collision is not a practical concern),
    and the body is then a :class:`~gapi_runtime.wire.StreamBody` of the parts around it.
    """
    while True:
        boundary = "=" * 15 + base64.b32encode(os.urandom(15)).decode("ascii").lower() + "=="
        marker = b"--" + boundary.encode("ascii")
        if marker not in metadata and (isinstance(content, StreamBody) or marker not in content):
            break
    head = (f"--{boundary}\r\nContent-Type: application/json\r\nMIME-Version: 1.0\r\n\r\n").encode("ascii")
    middle = (
        f"\r\n--{boundary}\r\nContent-Type: {mime_type}\r\nMIME-Version: 1.0\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\n"
    ).encode("latin-1")
    tail = f"\r\n--{boundary}--".encode("ascii")
    if isinstance(content, StreamBody):
        return boundary, StreamBody(b"".join((head, metadata, middle)), *content.parts, tail)
    return boundary, b"".join((head, metadata, middle, content, tail))


def _resumable(
    spec: MethodSpec[Any],
    upload_spec: UploadSpec,
    url: str,
    headers: dict[str, str],
    metadata: bytes | None,
    media: MediaUpload,
    session: str | None,
    policy: RetryPolicy | None,
    base_headers: Mapping[str, str],
) -> _Protocol[Any]:
    """Upload ``media`` in a new session, or in ``session`` (one to resume)."""
    chunk_policy = None if policy is None else _media_predicate(policy)
    offset = 0
    if session is None:
        url = _with_query(url, "uploadType", "resumable")
        headers["x-upload-content-type"] = media.mime_type
        if media.size is not None:
            headers["x-upload-content-length"] = str(media.size)
        response = yield from _exchange(
            _Request(spec.http_method, url, headers, metadata, spec.id), policy, spec.http_method
        )
        location = _header(response.headers, "location")
        if not location:
            raise MediaError(
                f"{spec.id}: the server opened no resumable session (no Location in its {response.status} answer)"
            )
        if location.lower().startswith("http://") and url.lower().startswith("https://"):
            raise MediaError(f"{spec.id}: the server opened the upload session over plain http; refused")
        session = media._session_uri = location  # readable; not resumed by a later call
        if media.on_session is not None:
            media.on_session(session)
    else:
        done, offset, final = yield from _query(spec, session, media, _Retry(chunk_policy, "PUT"), base_headers)
        if done:
            return _finish(spec, session, media, final)
        _check_acknowledged(spec, offset, media.size)
    retry = _Retry(chunk_policy, "PUT")  # kept while no byte is acknowledged, so that failures add up
    stalled = 0  # 308 answers in a row that acknowledged nothing new
    while True:
        chunk: bytes | StreamBody = b""  # release the last chunk first: memory stays at one chunk at most
        chunk = media.body(offset, media.chunk_size)
        _check_size(spec, upload_spec, offset + len(chunk))
        size = media.size
        chunk_headers = dict(base_headers)
        if chunk:
            total = str(size) if size is not None else "*"
            chunk_headers["content-range"] = f"bytes {offset}-{offset + len(chunk) - 1}/{total}"
        else:  # nothing (left) to send: close the upload at its size
            chunk_headers["content-range"] = f"bytes */{offset}"
        outcome = yield _Request("PUT", session, chunk_headers, chunk, spec.id)
        if isinstance(outcome, Response) and outcome.status == 308:
            acknowledged = _acknowledged(outcome)
            # Answers that take nothing new, a closing PUT's included (a server that never says
            # 200); failures are bounded by the retry policy instead.
            stalled = stalled + 1 if acknowledged <= offset else 0
            if stalled >= MAX_STALLED:
                raise MediaError(
                    f"{spec.id}: the server acknowledged nothing new in its last {stalled} answers (at byte {offset})"
                )
        elif isinstance(outcome, Response) and outcome.status < 300:
            return _finish(spec, session, media, outcome)
        else:
            yield from retry.after(outcome, spec.id, _no_query(session))
            # Ask how much arrived, then go on from there (acknowledged bytes are never sent again).
            done, acknowledged, final = yield from _query(spec, session, media, retry, base_headers)
            if done:
                return _finish(spec, session, media, final)
        # The server cannot have more than it was sent: a hole would be left in the upload.
        _check_acknowledged(spec, acknowledged, offset + len(chunk))
        if acknowledged > offset:
            retry = _Retry(chunk_policy, "PUT")
            if media.progress is not None:
                media.progress(acknowledged, media.size)
        offset = acknowledged


def _query(
    spec: MethodSpec[Any],
    session: str,
    media: MediaUpload,
    retry: _Retry,
    base_headers: Mapping[str, str],
) -> _Protocol[tuple[bool, int, Response]]:
    """Ask the session how much it has: (done, offset, final response when done)."""
    headers = dict(base_headers)
    headers["content-range"] = f"bytes */{media.size if media.size is not None else '*'}"
    request = _Request("PUT", session, headers, b"", spec.id)
    while True:
        outcome = yield request
        if isinstance(outcome, Response):
            if outcome.status == 308:
                return False, _acknowledged(outcome), outcome
            if outcome.status < 300:
                return True, media.size or 0, outcome
        yield from retry.after(outcome, spec.id, _no_query(session))


def _acknowledged(response: Response) -> int:
    """The offset after the bytes a 308 says the server has (``Range: bytes=0-N`` → N + 1)."""
    value = _header(response.headers, "range")
    if not value:
        return 0
    unit, _, span = value.partition("=")
    first, _, last = (part.strip() for part in span.partition("-"))
    if unit.strip().lower() != "bytes" or first != "0" or not (last.isascii() and last.isdigit() and len(last) <= 18):
        raise MediaError(f"unexpected Range header in a resumable upload's 308 answer: {value!r}")
    return int(last) + 1


def _check_acknowledged(spec: MethodSpec[Any], acknowledged: int, most: int | None) -> None:
    """MediaError if the server says it has more than ``most`` bytes (what it was sent, or the size)."""
    if most is not None and acknowledged > most:
        raise MediaError(
            f"{spec.id}: the server acknowledged {acknowledged} bytes of an upload that has sent it {most}; "
            "the upload would have a hole"
        )


def _finish(spec: MethodSpec[Any], session: str, media: MediaUpload, response: Response) -> Any:
    media._finished()
    if media.progress is not None:
        media.progress(media.size or 0, media.size)
    return decode_response(spec, _no_query(session), response)


def _no_query(url: str) -> str:
    """A URL for messages: the session's upload_id is a capability, kept out of errors and logs."""
    return url.split("?", 1)[0]


# --- download -------------------------------------------------------------------------------


def _download(
    spec: MethodSpec[Any],
    url: str,
    headers: dict[str, str],
    dest: SupportsWrite | None,
    chunk_size: int | None,
    progress: Progress | None,
    policy: RetryPolicy | None,
) -> _Protocol[bytes | int]:
    get_policy = None if policy is None else _media_predicate(policy)
    if dest is not None and not callable(getattr(dest, "write", None)):
        raise TypeError(
            f"{spec.id}: dest must be a binary file object open for writing, such as open(path, 'wb'); "
            f"got {type(dest).__name__}"
        )
    if dest is None:
        response = yield from _exchange(_Request("GET", url, headers, None, spec.id), get_policy, "GET")
        data = response.data
        expected = _expected_hash(response.headers)
        if expected is not None:
            digest = expected.digest()
            digest.update(data)
            _check_hash(spec, expected, digest)
        if progress is not None:
            progress(len(data), len(data))
        return data
    chunk = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    if not isinstance(chunk, int) or chunk <= 0:
        raise ValueError(f"chunk_size must be a positive number of bytes, got {chunk_size!r}")
    headers["accept-encoding"] = "identity"
    start = dest.tell() if hasattr(dest, "tell") and _seekable(dest) else None
    sink = _DownloadSink(dest)
    total: int | None = None
    announced: int | None = None  # the object's size, as the first answer that says it said it
    version: tuple[str, str] | None = None  # its generation and ETag, as the first answer said them
    while total is None or sink.offset < total:
        first = sink.offset
        last = first + chunk - 1

        sink.asked = first
        ranged = {**headers, "range": f"bytes={first}-{last}"}
        response = yield from _exchange(
            _Request("GET", url, ranged, None, spec.id, sink), get_policy, "GET", ok=_ok_first if first == 0 else _ok
        )
        if response.status == 416:  # an empty object has no byte 0: its answer says bytes */0
            value = _header(response.headers, "content-range")
            unit, _, size = (value or "").strip().partition(" ")
            if unit.lower() != "bytes" or size.strip() != "*/0":
                size = size.rpartition("/")[2].strip()
                if _digits(size):
                    raise DownloadError(f"{spec.id}: the server refused byte 0 of an object it says has {size} bytes")
                raise DownloadError(
                    f"{spec.id}: the server refused byte 0 (416) without saying the object is empty "
                    f"(Content-Range {value!r}, not 'bytes */0')"
                )
            total = 0
            break
        version = _same_version(spec, version, response.headers)
        if not sink.took and response.status == 206 and _encoded(response.headers):
            # A server that compresses despite Accept-Encoding: identity: offsets would count
            # bytes of the compressed form. Start again with one whole (decoded) response.
            _restart(spec, dest, start, sink.offset)
            sink.reset()
            response = yield from _exchange(_Request("GET", url, dict(headers), None, spec.id, sink), get_policy, "GET")
        if not sink.took:  # read into memory: a range other than asked for, or a compressed whole answer
            if response.status == 206:
                begin, end, _ = _content_range(spec, response)
                raise DownloadError(
                    f"{spec.id}: asked for bytes from {sink.asked}, "
                    f"got {len(response.data)} bytes labelled {begin}-{end}"
                )
            sink.take(response)
        if response.status == 206:
            begin, end, length = _content_range(spec, response)
            if end - begin + 1 != sink.offset - begin:
                raise DownloadError(
                    f"{spec.id}: asked for bytes from {begin}, got {sink.offset - begin} bytes labelled {begin}-{end}"
                )
            if length is not None:
                if announced is not None and length != announced:
                    raise DownloadError(
                        f"{spec.id}: the object's size changed from {announced} to {length} bytes during the download"
                    )
                announced = length
            # Each 206 taken brings a byte at least (first <= last, checked), so the loop always moves on.
            total = length if length is not None else (sink.offset if end < last else None)
        else:  # 200: the server sent everything (it ignored Range, or compressed)
            if announced is not None and sink.offset != announced:
                raise DownloadError(
                    f"{spec.id}: a whole answer ended at byte {sink.offset} of an object of {announced} bytes"
                )
            total = sink.offset
        if progress is not None:
            progress(sink.offset, total)
        del response
    if total is not None and sink.offset != total:
        raise DownloadError(f"{spec.id}: wrote {sink.offset} bytes of {total}")
    sink.check(spec)
    return sink.offset


def _same_version(spec: MethodSpec[Any], first: tuple[str, str] | None, headers: Mapping[str, str]) -> tuple[str, str]:
    """The (generation, ETag) of an answer; DownloadError if either differs from the first
    answer's (the object changed between two ranges: the file would mix two versions)."""
    current = (_header(headers, "x-goog-generation") or "", _header(headers, "etag") or "")
    if first is None:
        return current
    for before, now, name in zip(first, current, ("generation", "ETag"), strict=True):
        if before and now and before != now:
            raise DownloadError(f"{spec.id}: the object changed during the download ({name} {before} → {now})")
    return (first[0] or current[0], first[1] or current[1])


class _DownloadSink:
    """Where a download's ranges go as they arrive: written to ``dest`` and hashed, block by block.

    A ranged answer (206) is taken if it is the range asked for, a whole one (200) always;
    either way the bytes ``dest`` already has are skipped (a range asked again after an
    answer cut short is written on from where the cut one stopped). Anything else is left
    to the transport to read, and to the download to reject. The hash to check
    (:mod:`gapi_runtime.checksums`) comes from the first answer taken.
    """

    def __init__(self, dest: SupportsWrite) -> None:
        self.dest = dest
        self.offset = 0  # bytes written to dest
        self.asked = 0  # where the range asked for starts
        self.took = False  # the last answer's body came here
        self._skip = 0
        self._first = True
        self._expected: Expected | None = None
        self._digest: Digest | None = None

    def reset(self) -> None:
        """``dest`` was emptied: start again from byte 0, with the next answer's hash."""
        self.offset, self.asked, self._first = 0, 0, True

    def start(self, status: int, headers: Mapping[str, str]) -> Callable[[bytes], None] | None:
        if status == 206:
            value = _header(headers, "content-range") or ""
            if not value.lower().startswith(f"bytes {self.asked}-"):
                return None
            self._skip = self.offset - self.asked
        elif status == 200:
            self._skip = self.offset
        else:
            return None
        self._expect(headers)
        self.took = True
        return self.write

    def _expect(self, headers: Mapping[str, str]) -> None:
        if self._first:
            self._first = False
            self._expected = _expected_hash(headers)
            self._digest = self._expected.digest() if self._expected is not None else None

    def write(self, block: bytes) -> None:
        if self._skip:
            skipped = min(self._skip, len(block))
            self._skip -= skipped
            block = block[skipped:]
        self.dest.write(block)
        if self._digest is not None:
            self._digest.update(block)
        self.offset += len(block)

    def take(self, response: Response) -> None:
        """A whole answer the transport read into memory (compressed, then decoded): written
        past the bytes ``dest`` has."""
        self._skip = self.offset
        self._expect(response.headers)
        self.write(response.data)

    def check(self, spec: MethodSpec[Any]) -> None:
        if self._expected is not None and self._digest is not None:
            _check_hash(spec, self._expected, self._digest)


def _encoded(headers: Mapping[str, str]) -> bool:
    return (_header(headers, "content-encoding") or "identity").lower() not in ("identity", "")


def _ok(status: int) -> bool:
    return status < 300


def _ok_first(status: int) -> bool:
    """The first range of an empty object is not satisfiable (416): that is its whole answer."""
    return status < 300 or status == 416


def _restart(spec: MethodSpec[Any], dest: SupportsWrite, start: int | None, written: int) -> None:
    if not written:
        return
    if start is None or not hasattr(dest, "seek") or not hasattr(dest, "truncate"):
        raise DownloadError(
            f"{spec.id}: the server compressed a ranged download; restarting needs a dest that can seek and truncate"
        )
    dest.seek(start)
    dest.truncate()


def _content_range(spec: MethodSpec[Any], response: Response) -> tuple[int, int, int | None]:
    """(first, last, length or None) of a 206's ``Content-Range: bytes first-last/length``;
    DownloadError unless ``first <= last < length`` (a range of at least one byte)."""
    value = _header(response.headers, "content-range") or ""
    unit, _, rest = value.strip().partition(" ")
    span, _, length = rest.partition("/")
    first, _, last = span.partition("-")
    length = length.strip()
    numbers = (first, last) if length == "*" else (first, last, length)
    if unit.lower() != "bytes" or not all(_digits(number) for number in numbers):
        raise DownloadError(f"{spec.id}: a 206 answer with an unreadable Content-Range {value!r}")
    begin, end, total = int(first), int(last), None if length == "*" else int(length)
    if end < begin or (total is not None and end >= total):
        raise DownloadError(f"{spec.id}: a 206 answer with an impossible Content-Range {value!r}")
    return begin, end, total


def _digits(text: str) -> bool:
    """``text`` is a decimal number of at most 18 digits (no sign, space or underscore)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _expected_hash(headers: Mapping[str, str]) -> Expected | None:
    """The hash of the object from ``x-goog-hash`` to check (see :mod:`gapi_runtime.checksums`),
    if the server sent one.

    None when the server transcoded (``x-goog-stored-content-encoding`` other than
    identity) or compressed the answer (the transport decodes it): the hash is then of
    other bytes than those received.
    """
    stored = (_header(headers, "x-goog-stored-content-encoding") or "identity").lower()
    if stored != "identity" or _encoded(headers):
        return None  # the hash is of bytes other than those the transport handed over (decoded)
    return checksums.expected(_header(headers, "x-goog-hash"))


def _check_hash(spec: MethodSpec[Any], expected: Expected, digest: Digest) -> None:
    if not expected.matches(digest):
        raise DownloadError(f"{spec.id}: the downloaded bytes do not match the {expected.name} in x-goog-hash")


def _download_request(
    spec: MethodSpec[Any],
    base_url: str,
    base_headers: Mapping[str, str],
    path_values: Sequence[object],
    query_values: Sequence[object],
    alt_media: bool,
) -> tuple[str, dict[str, str]]:
    if alt_media and "alt" in spec.query:  # the method sends alt=json (its API's default is not JSON)
        values = list(query_values)
        values[spec.query.index("alt")] = "media"
        query_values, alt_media = values, False
    url, headers, _ = prepare_request(spec, base_url, dict(base_headers), path_values, query_values, None)
    headers.pop("content-type", None)
    if alt_media:
        url = _with_query(url, "alt", "media")
    return url, headers


# --- performed by the client's core ----------------------------------------------------------


def _performed(core: CoreBase[Any], protocol: _Protocol[_T], timeout: float | None) -> Steps[_T]:
    """``protocol`` as steps the cores perform (:mod:`gapi_runtime.steps`): each request with the
    client's credentials (a 401 refreshes them, once, and sends again), its outcome — the
    response whatever its status, or the exception — sent back to the protocol."""
    outcome: _Outcome = None
    while True:
        try:
            step = protocol.send(outcome)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        outcome = None  # the protocol holds what it needs: keep one response in memory, not two
        if isinstance(step, Sleep):
            yield step
            continue
        try:
            outcome = yield from _attempt(core, step, timeout)
        except Exception as exc:
            outcome = exc
        del step  # a chunk's bytes are not kept while the protocol reads the next one


def _attempt(core: CoreBase[Any], request: _Request, timeout: float | None) -> Steps[Response]:
    """One attempt of ``request`` (:meth:`~gapi_runtime.client.CoreBase._send_authorized`)."""
    if request.sink is not None:
        request.sink.took = False  # until this attempt's answer is taken
    headers = dict(request.headers)
    if request.sink is None and not isinstance(request.body, StreamBody):
        send: Send | Stream = Send(request.method, request.url, headers, request.body, timeout)
    else:
        send = Stream(request.method, request.url, headers, request.body, timeout, request.sink)
    return (yield from core._send_authorized(send, request.method_id))


def _media_steps(
    core: CoreBase[Any],
    spec: MethodSpec[Any],
    path_values: Sequence[object],
    query_values: Sequence[object],
    protocol: Callable[[RetryPolicy | None], _Protocol[_T]],
    timeout: TimeoutArg,
    retry: RetryArg,
) -> Steps[_T]:
    """A media call: the checks every call makes (enum values, the universe once per client),
    then ``protocol`` with the call's retry policy, each request bounded by its timeout."""
    core._check_values(spec, path_values, query_values)
    if not core._universe_checked:
        yield CHECK_UNIVERSE
    steps = protocol(choose_policy(retry, core._retry))
    return (yield from _performed(core, steps, core._timeout if timeout is DEFAULT else timeout))


# --- what generated methods call ------------------------------------------------------------
# Written once for both cores: they run the protocol with ``api._drive``, a coroutine function
# on the async core; the ``*_async`` names are the same functions, typed as awaitable.


def upload(
    api: ApiCore,
    spec: MethodSpec[ResponseT],
    upload_spec: UploadSpec,
    path_values: Sequence[object],
    query_values: Sequence[object],
    body: object,
    media_body: MediaBody | None,
    media_mime_type: str | None,
    timeout: TimeoutArg = DEFAULT,
    retry: RetryArg = DEFAULT,
) -> ResponseT:
    """Call an upload-capable method: with ``media_body``, upload it (simple, multipart or
    resumable, see the module docstring); without, the plain JSON call. On an async client
    (as :func:`upload_async`), file reads happen on the event loop, a block at a time."""
    if media_body is None:
        if media_mime_type is not None:
            raise TypeError(f"{spec.id}: media_mime_type given without media_body")
        return api.call(spec, path_values, query_values, body, timeout, retry)
    media = as_upload(media_body, media_mime_type)
    base_url, headers = api.base_url, api._headers

    def protocol(policy: RetryPolicy | None) -> _Protocol[Any]:
        return _upload(spec, upload_spec, base_url, headers, path_values, query_values, body, media, policy)

    return api._drive(_media_steps(api, spec, path_values, query_values, protocol, timeout, retry))  # type: ignore[no-any-return]


def download(
    api: ApiCore,
    spec: MethodSpec[Any],
    path_values: Sequence[object],
    query_values: Sequence[object],
    dest: SupportsWrite | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    timeout: TimeoutArg = DEFAULT,
    retry: RetryArg = DEFAULT,
) -> bytes | int:
    """The method's media (``alt=media``): its bytes, or with ``dest`` the number of bytes
    written there (on an async client, written on the event loop, a block at a time)."""

    def protocol(policy: RetryPolicy | None) -> _Protocol[bytes | int]:
        url, headers = _download_request(spec, api.base_url, api._headers, path_values, query_values, True)
        return _download(spec, url, headers, dest, chunk_size, progress, policy)

    return api._drive(_media_steps(api, spec, path_values, query_values, protocol, timeout, retry))


def raw(
    api: ApiCore,
    spec: MethodSpec[Any],
    path_values: Sequence[object],
    query_values: Sequence[object],
    timeout: TimeoutArg = DEFAULT,
    retry: RetryArg = DEFAULT,
) -> bytes:
    """The body of a download method without a response schema (e.g. drive ``files.export``), as bytes."""

    def protocol(policy: RetryPolicy | None) -> _Protocol[bytes]:
        url, headers = _download_request(spec, api.base_url, api._headers, path_values, query_values, False)
        return _raw(spec, url, headers, policy)

    return api._drive(_media_steps(api, spec, path_values, query_values, protocol, timeout, retry))


#: :func:`upload`, :func:`download` and :func:`raw` on an async client (the same functions).
upload_async = awaited(upload)
download_async = awaited(download)
raw_async = awaited(raw)


def _raw(spec: MethodSpec[Any], url: str, headers: dict[str, str], policy: RetryPolicy | None) -> _Protocol[bytes]:
    response = yield from _exchange(_Request(spec.http_method, url, headers, None, spec.id), policy, spec.http_method)
    return response.data

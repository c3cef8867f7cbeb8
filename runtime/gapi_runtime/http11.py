"""HTTP/1.1 for the pooled transports, without I/O: request heads, a response parser, error mapping.

:class:`~gapi_runtime.pooled_transport.PooledTransport` (threads, blocking sockets) and
:class:`~gapi_runtime.asyncio_transport.AsyncPooledTransport` (asyncio streams) share all of
it and differ only in how they move bytes:

- :class:`RequestWriter` validates and serialises a request head (header names must be
  tokens, values may not contain CR, LF or NUL, targets no spaces or control characters);
- :func:`parse_response` is a generator that asks its driver for a line, an exact number of
  bytes, some bytes (up to a number: a streamed body), or everything up to the close, and
  returns the status, headers, body and whether the connection may be kept: status lines,
  interim (1xx) answers, folded and repeated headers, ``Content-Length``, chunked and
  close-delimited bodies, no body for HEAD, 204 and 304; at most 100 headers and 64 KiB a
  line; a body a :class:`~gapi_runtime.wire.Sink` takes goes to it block by block, unkept;
- :class:`IdlePool` keeps the idle connections both transports reuse;
- :func:`decode_content` undoes gzip and deflate, as urllib3 and aiohttp do;
- :func:`translate` maps a failure to the runtime's :class:`~gapi_runtime.errors.TransportError` types.
"""

from __future__ import annotations

import os
import re
import ssl
import zlib
from collections.abc import Generator, Iterator, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from gapi_runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from gapi_runtime.wire import BLOCK, Body, Response, Sink, Writer, _target, writer_for

Origin = tuple[str, str, int]  # (scheme, host, port)
#: What the parser asks for: (LINE, 0) a line, (EXACT, n) n bytes (fewer at the close), (REST, 0) all
#: until the close, (SOME, n) between 1 and n bytes, whatever has arrived (none only at the close).
Need = tuple[int, int]
LINE, EXACT, REST, SOME = 0, 1, 2, 3
#: What the parser returns: status, headers, body, keep-alive.
Parsed = tuple[int, list[tuple[str, str]], bytes, bool]

MAX_LINE = 65536
MAX_HEADERS = 100
SEPARATE_BODY = 64 * 1024  # larger bodies are written after the head instead of copied onto it
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})  # an empty body still gets Content-Length: 0
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [^\r\n]*)?\r?\n")


class Headers(Mapping[str, str]):
    """Response headers matched case-insensitively; repeated fields joined with ``", "`` (as urllib3)."""

    __slots__ = ("_lower", "_names")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        lower: dict[str, str] = {}
        names: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            if key in lower:
                lower[key] = f"{lower[key]}, {value}"
            else:
                lower[key] = value
                names[key] = name
        self._lower = lower
        self._names = names

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._lower.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._lower)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._lower)!r})"


# --- requests -------------------------------------------------------------------------------


class RequestWriter:
    """Parses URLs into origins and writes validated request heads; caches both (not thread-bound)."""

    def __init__(self) -> None:
        self._origins: dict[str, tuple[Origin, str] | None] = {}  # "scheme://authority" → (origin, Host)
        self._lines: dict[tuple[str, str], str] = {}  # a validated header → its line

    def target(self, url: str) -> tuple[Origin, str, str]:
        """``url``'s origin, Host header and request target; ValueError for a URL that cannot be sent."""
        scheme, _, rest = url.partition("://")
        authority = rest.split("/", 1)[0]
        key = f"{scheme}://{authority}"
        cached = self._origins.get(key)
        if cached is None:
            cached = _parse_origin(key, scheme, authority)
            if len(self._origins) > 256:
                self._origins.clear()
            self._origins[key] = cached
        if cached is None:
            raise ValueError(f"not an http(s) URL this transport can send: {url.split('?', 1)[0]!r}")
        target = url[len(key) :] or "/"
        if target[0] != "/" or "#" in target or _BAD_TARGET.search(target):
            raise ValueError(f"invalid request target in {url.split('?', 1)[0]!r}")
        return cached[0], cached[1], target

    def prepare(self, method: str, url: str, headers: Mapping[str, str], body: Body) -> tuple[Origin, bytes]:
        """``url``'s origin and the request head; TransportError for a request that cannot be sent."""
        try:
            origin, host, target = self.target(url)
            return origin, self.head(method, host, target, headers, body)
        except ValueError as exc:
            raise TransportError(f"{_target(method, url)}: {exc}", url=url, response_started=False) from None

    def head(self, method: str, host: str, target: str, headers: Mapping[str, str], body: Body) -> bytes:
        """The request line and headers, validated, as bytes."""
        if not _TOKEN.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method[:40]!r}")
        lines = [f"{method} {target} HTTP/1.1"]
        known = self._lines
        has_host = has_length = False
        for name, value in headers.items():
            line = known.get((name, value))
            if line is None:
                if not _TOKEN.fullmatch(name):
                    raise ValueError(f"invalid header name {name[:40]!r}")
                if _BAD_VALUE.search(value):
                    raise ValueError(f"invalid value for header {name!r}: it contains CR, LF or NUL")
                line = f"{name}: {value}"
                if len(known) > 1024:
                    known.clear()
                known[(name, value)] = line
            lowered = name.lower()
            has_host = has_host or lowered == "host"
            has_length = has_length or lowered == "content-length"
            lines.append(line)
        if not has_host:
            lines.insert(1, f"Host: {host}")
        if not has_length and (body or method in _BODY_EXPECTED):
            lines.append(f"Content-Length: {len(body) if body else 0}")
        lines.append("\r\n")
        try:
            return "\r\n".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError("a header value has characters outside ISO-8859-1") from None


def _parse_origin(key: str, scheme: str, authority: str) -> tuple[Origin, str] | None:
    """(origin, Host header) of ``scheme://authority``, or None for what these transports do not send."""
    if scheme not in ("http", "https") or not authority or "@" in authority or _BAD_TARGET.search(authority):
        return None
    try:
        parts = urlsplit(key)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if not host.isascii():
        host = _idna(host)
        if host is None:
            return None
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return (scheme, host, port or default), (shown if port in (None, default) else f"{shown}:{port}")


def _idna(host: str) -> str | None:
    """An internationalised host name's ASCII form (IDNA 2008 with UTS #46 mapping, as urllib3
    makes it), or None when it has none or the ``idna`` package is missing. Python's own
    ``idna`` codec is IDNA 2003, which maps ``ß`` to ``ss``: another domain, so never used."""
    try:
        import idna
    except ImportError:
        return None
    try:
        return str(idna.encode(host, uts46=True).decode("ascii"))
    except idna.IDNAError:
        return None


# --- idle connections -----------------------------------------------------------------------


class Reusable(Protocol):
    def alive(self) -> bool:
        """False once the idle connection cannot be trusted (closed, or the server spoke)."""
        ...

    def close(self) -> None: ...


C = TypeVar("C", bound=Reusable)


class IdlePool(dict[Origin, list[C]]):
    """Idle kept-alive connections by origin, at most ``size`` for each; not locked (the
    threaded transport takes its lock around the calls)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def take(self, origin: Origin) -> C | None:
        """The most recently used idle connection to ``origin`` that is alive (dead ones are closed), or None."""
        idle = self.get(origin)
        while idle:
            connection = idle.pop()
            if connection.alive():
                return connection
            connection.close()
        return None

    def keep(self, origin: Origin, connection: C) -> bool:
        """Keep ``connection`` for reuse; False when ``origin`` has ``size`` already (the caller closes it)."""
        idle = self.setdefault(origin, [])
        if len(idle) >= self.size:
            return False
        idle.append(connection)
        return True

    def close_all(self) -> None:
        for connections in self.values():
            for connection in connections:
                connection.close()
        self.clear()


# --- responses ------------------------------------------------------------------------------


class Closed(ConnectionError):
    """The server closed the connection before a byte of the answer."""

    def __init__(self) -> None:
        super().__init__("the server closed the connection without answering")


class Incomplete(ConnectionError):
    """The connection ended inside the answer."""

    def __init__(self, read: int, expected: int | None) -> None:
        more = f", {expected - read} more expected" if expected is not None else ""
        super().__init__(f"IncompleteRead({read} bytes read{more})")


class BadResponse(ValueError):
    """The answer is not HTTP/1.x as these transports read it."""


def parse_response(method: str, sink: Sink | None = None) -> Generator[Need, bytes, Parsed]:
    """Read one answer to a ``method`` request: send the bytes each yielded :data:`Need` asks for.

    A body ``sink`` takes (:func:`~gapi_runtime.wire.writer_for`) goes to it; the result's is then empty.
    """
    first = True
    while True:
        line = yield (LINE, 0)
        if not line:
            raise Closed if first else Incomplete(0, None)
        first = False
        _check_length(line)
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise BadResponse(f"invalid status line {line[:60]!r}")
        status = int(match.group(2))
        items = yield from _headers()
        if not (100 <= status < 200 and status != 101):  # interim answers are skipped
            break
    write = writer_for(sink, status, Headers(items)) if sink is not None else None
    data, keep_alive = yield from _body(method, status, int(match.group(1)), items, write)
    return status, items, data, keep_alive


def _check_length(line: bytes) -> None:
    if len(line) > MAX_LINE:
        raise BadResponse(f"a response line longer than {MAX_LINE} bytes")


def _headers() -> Generator[Need, bytes, list[tuple[str, str]]]:
    items: list[tuple[str, str]] = []
    while True:
        line = yield (LINE, 0)
        if line in (b"\r\n", b"\n"):
            return items
        if not line:
            raise Incomplete(0, None)
        _check_length(line)
        if len(items) >= MAX_HEADERS:
            raise BadResponse(f"more than {MAX_HEADERS} headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            raise BadResponse(f"invalid header line {line[:60]!r}")
        if text[0] in " \t":  # an obsolete folded continuation of the previous header
            if not items:
                raise BadResponse("a folded header line without a header")
            name, value = items[-1]
            items[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadResponse(f"invalid header line {line[:60]!r}")
        items.append((name, value.strip(" \t")))


def _body(
    method: str, status: int, version: int, items: list[tuple[str, str]], write: Writer | None
) -> Generator[Need, bytes, tuple[bytes, bool]]:
    """The body (by chunks, Content-Length, or up to the close) and whether the connection stays open."""
    connection = transfer = length = None
    for name, value in items:
        lowered = name.lower()
        if lowered == "connection":
            connection = f"{connection},{value}".lower() if connection else value.lower()
        elif lowered == "transfer-encoding":
            transfer = value.lower()
        elif lowered == "content-length":
            if length is not None and length != value.strip():
                raise BadResponse("conflicting Content-Length headers")
            length = value.strip()
    tokens = {token.strip() for token in connection.split(",")} if connection else set()
    keep_alive = "close" not in tokens if version == 1 else "keep-alive" in tokens
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", keep_alive
    if transfer is not None:
        if transfer.rsplit(",", 1)[-1].strip() != "chunked":
            return (yield from _rest(write)), False  # another coding last: the body ends with the connection
        return (yield from _chunks(write)), keep_alive
    if length is not None:
        if not length.isdigit() or not length.isascii():
            raise BadResponse(f"invalid Content-Length {length[:30]!r}")
        expected = int(length)
        if write is not None:
            yield from _stream(expected, write, 0, expected)
            return b"", keep_alive
        data = yield (EXACT, expected)
        if len(data) < expected:
            raise Incomplete(len(data), expected)
        return data, keep_alive
    return (yield from _rest(write)), False


def _rest(write: Writer | None) -> Generator[Need, bytes, bytes]:
    """Everything up to the close: returned, or handed to ``write``."""
    if write is None:
        return (yield (REST, 0))
    while block := (yield (SOME, BLOCK)):
        write(block)
    return b""


def _stream(size: int, write: Writer, before: int, expected: int | None) -> Generator[Need, bytes, None]:
    """Hand ``size`` bytes to ``write`` as they arrive (``before`` bytes of the body came earlier)."""
    left = size
    while left:
        block = yield (SOME, min(left, BLOCK))
        if not block:
            raise Incomplete(before + size - left, expected)
        write(block)
        left -= len(block)


def _chunks(write: Writer | None) -> Generator[Need, bytes, bytes]:
    chunks: list[bytes] = []
    read = 0
    while True:
        line = yield (LINE, 0)
        if not line:
            raise Incomplete(read, None)
        _check_length(line)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadResponse(f"invalid chunk size {size_text[:20]!r}") from None
        if size < 0:
            raise BadResponse(f"invalid chunk size {size_text[:20]!r}")
        if size == 0:
            break
        if write is not None:
            yield from _stream(size, write, read, None)
        else:
            chunk = yield (EXACT, size)
            if len(chunk) < size:
                raise Incomplete(read + len(chunk), None)
            chunks.append(chunk)
        read += size
        if (yield (LINE, 0)) not in (b"\r\n", b"\n"):
            raise BadResponse("a chunk not followed by CRLF")
    while True:  # trailers, ignored
        line = yield (LINE, 0)
        _check_length(line)
        if line in (b"\r\n", b"\n", b""):
            return b"".join(chunks)


def response(status: int, items: list[tuple[str, str]], data: bytes, method: str, url: str) -> Response:
    """The transport's answer: headers matched case-insensitively, the body without its content coding."""
    headers = Headers(items)
    encoding = headers.get("content-encoding")
    return Response(status, headers, decode_content(data, encoding, method, url) if encoding else data)


def decode_content(data: bytes, encoding: str, method: str, url: str) -> bytes:
    """``data`` without its gzip or deflate coding; other codings are left as they are."""
    kind = encoding.strip().lower()
    try:
        if kind in ("gzip", "x-gzip"):
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if kind == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:
                return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    except zlib.error as exc:
        raise ResponseDecodeError(
            f"{_target(method, url)}: undecodable response body ({kind}: {exc})", url=url, response_started=True
        ) from None
    return data


# --- failures -------------------------------------------------------------------------------


class Retry(Exception):
    """The reused connection was dead before the answer began: send once more on a fresh one."""


class Failure(Exception):
    """A failure during one exchange, with where it happened."""

    def __init__(self, cause: BaseException, *, started: bool, connecting: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.started = started
        self.connecting = connecting


def closed_while_idle(sending: bool, started: bool, exc: Exception, method: str, head: bytes = b"") -> bool:
    """Whether a reused connection failed the way one the server closed while idle fails.

    Writing the request failed (so the server did not get it whole), or an idempotent request
    got a close without a byte of answer (a server closing idle connections races with our
    send): a FIN, or for a request without a body (GET, HEAD, OPTIONS, DELETE) a reset, which
    is how a request that reached a socket the server had already closed ends. A PUT reset
    after its body went out may have been read in part: its caller decides. A failure of a
    POST or PATCH once sent is not retried here: the server may have acted, and the client's
    retry policy decides.

    Never for a request whose ``head`` has a ``Content-Range`` (a resumable upload's chunk):
    the server keeps what it read of an unfinished chunk, so the same range sent again would
    overlap it; the upload asks the server how much it has and goes on from there.
    """
    if b"\ncontent-range:" in head.lower():
        return False
    if sending:
        return isinstance(exc, _RESETS)
    if started:
        return False
    return (isinstance(exc, Closed) and method in IDEMPOTENT) or (isinstance(exc, _RESETS) and method in _BODYLESS)


_RESETS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def translate(failure: Failure, method: str, url: str, timed_out: bool, timeout: float | None) -> TransportError:
    """Map a socket, TLS or protocol failure to this runtime's documented exception types."""
    target = _target(method, url)
    started, reason = failure.started, failure.cause
    detail = str(reason) or type(reason).__name__
    if "?" in url:
        detail = detail.replace(url.split("?", 1)[1], "…")
    if timed_out or isinstance(reason, TimeoutError):
        return RequestTimeout(f"{target}: timed out after {timeout:g} s", url=url, response_started=started)
    if isinstance(reason, ssl.SSLError):
        return TLSError(f"{target}: TLS failure ({detail})", url=url, response_started=started)
    if failure.connecting:
        if isinstance(reason, OSError) and reason.errno and not isinstance(reason, ssl.SSLError):
            detail = f"[Errno {reason.errno}] {os.strerror(reason.errno)}"  # asyncio's own text lacks the reason
        return ConnectError(f"{target}: cannot connect ({detail})", url=url, response_started=False)
    if isinstance(reason, BadResponse):
        return ConnectError(f"{target}: invalid HTTP response ({detail})", url=url, response_started=True)
    if isinstance(reason, Incomplete):
        return ConnectError(
            f"{target}: connection broken while reading the response ({detail})", url=url, response_started=True
        )
    what = "connection broken while reading the response" if started else "connection failed"
    return ConnectError(f"{target}: {what} ({type(reason).__name__}: {detail})", url=url, response_started=started)

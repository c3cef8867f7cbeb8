"""The pooled transports' HTTP/1.1 against a raw socket server that answers with scripted bytes.

Each test runs on :class:`PooledTransport` and on :class:`AsyncPooledTransport` (driven from
a loop of its own), which share the parser but not the I/O.

The loopback server of the other tests speaks well-formed HTTP through ``http.server``; this
one writes exactly the bytes a test gives it (chunks, interim answers, folded headers, cut
bodies, hang-ups), so the transport's parser and connection reuse are tested on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from gapi_runtime import ConnectError, PooledTransport, RequestTimeout, Response, ResponseDecodeError, TransportError
from gapi_runtime.asyncio_transport import AsyncPooledTransport

#: What a script does for one request: the bytes to answer (None: hang up without answering;
#: RESET: hang up with a TCP reset, as a server closing a socket with our request unread does).
Script = Callable[["Request"], bytes | None]
RESET = b"<reset>"


@dataclass
class Request:
    connection: int  # which accepted connection it came on (0, 1, …)
    head: bytes
    body: bytes

    @property
    def lines(self) -> list[str]:
        return self.head.decode("latin-1").split("\r\n")


@dataclass
class RawServer:
    """Accepts connections; answers each request with the next script's bytes, in order."""

    scripts: list[Script] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    close_after_each: bool = False

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                number = self._connections
                self._connections += 1
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        reader = sock.makefile("rb")
        with sock, reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                length = int(lengths[0].split(b":")[1]) if lengths else 0
                request = Request(number, head, reader.read(length))
                with self._lock:
                    self.requests.append(request)
                    script = self.scripts.pop(0) if self.scripts else (lambda _: None)
                answer = script(request)
                if answer is RESET:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                if answer is None or answer is RESET:
                    return
                sock.sendall(answer)
                if self.close_after_each:
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


class AsyncDriven:
    """An AsyncPooledTransport called from synchronous tests, on one event loop of its own."""

    def __init__(self, **options: Any) -> None:
        self.inner = AsyncPooledTransport(**options)
        self._loop = asyncio.new_event_loop()

    @property
    def _idle(self) -> Any:
        return self.inner._idle

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        return self._loop.run_until_complete(self.inner.request(method, url, headers, body, timeout))

    def close(self) -> None:
        self._loop.run_until_complete(self.inner.close())


@pytest.fixture(params=["threads", "asyncio"])
def make(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return PooledTransport if request.param == "threads" else AsyncDriven


def answer(data: bytes) -> Script:
    return lambda _: data


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def send(transport: Any, raw: RawServer, method: str = "GET", body: bytes | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return transport.request(method, raw.url + "v1/x?q=1", {"accept": "application/json", **kw}, body, 5.0)  # type: ignore[dict-item]


def test_content_length_answer_and_connection_reuse(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts += [answer(OK), answer(OK)]
    transport = make()
    first, second = send(transport, raw, "POST", b'{"a":1}'), send(transport, raw)
    assert (first.status, first.data, second.data) == (200, b"{}", b"{}")
    assert first.headers["content-type"] == first.headers.get("CONTENT-TYPE") == "application/json"
    assert [r.connection for r in raw.requests] == [0, 0]
    post, get = raw.requests
    assert post.lines[0] == "POST /v1/x?q=1 HTTP/1.1" and post.body == b'{"a":1}'
    assert f"Host: {raw.url[7:-1]}" in post.lines and "Content-Length: 7" in post.lines
    assert not any(line.lower().startswith("content-length") for line in get.lines)


def test_an_empty_post_says_content_length_zero(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts.append(answer(OK))
    send(make(), raw, "POST")
    assert "Content-Length: 0" in raw.requests[0].lines


def test_chunked_answer_with_extensions_and_trailers(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts += [
        answer(
            b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nX-T: y\r\n\r\n'
        ),
        answer(OK),
    ]
    transport = make()
    assert send(transport, raw).data == b'{"a":1}'
    assert send(transport, raw).data == b"{}"
    assert [r.connection for r in raw.requests] == [0, 0]


def test_interim_answers_are_skipped_and_folded_and_repeated_headers_kept(
    raw: RawServer, make: Callable[..., Any]
) -> None:
    raw.scripts.append(
        answer(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nX-Folded: a\r\n  b\r\nVary: x\r\nVary: y\r\nContent-Length: 2\r\n\r\n{}"
        )
    )
    response = send(make(), raw)
    assert response.status == 201
    assert response.headers["x-folded"] == "a b" and response.headers["vary"] == "x, y"
    assert list(response.headers) == ["X-Folded", "Vary", "Content-Length"]


def test_no_body_for_head_204_and_304(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts += [
        answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        answer(b"HTTP/1.1 204 No Content\r\n\r\n"),
        answer(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
        answer(OK),
    ]
    transport = make()
    assert transport.request("HEAD", raw.url, {}, None, 5.0).data == b""
    assert send(transport, raw, "DELETE").status == 204
    assert send(transport, raw).status == 304
    assert send(transport, raw).data == b"{}"
    assert {r.connection for r in raw.requests} == {0}


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",  # no length: the body ends with the connection
    ],
)
def test_connections_that_end_are_not_reused(raw: RawServer, head: bytes, make: Callable[..., Any]) -> None:
    raw.close_after_each = "Content-Length" not in head.decode() or b"close" in head or b"1.0" in head
    raw.scripts += [answer(head + b"{}"), answer(OK)]
    transport = make()
    assert send(transport, raw).data == b"{}"
    assert send(transport, raw).data == b"{}"
    assert [r.connection for r in raw.requests] == [0, 1]


def test_gzip_is_decoded_and_a_bad_one_is_a_decode_error(raw: RawServer, make: Callable[..., Any]) -> None:
    packed = gzip.compress(b'{"big": true}')
    raw.scripts += [
        answer(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed),
        answer(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"),
    ]
    transport = make()
    assert send(transport, raw).data == b'{"big": true}'
    with pytest.raises(ResponseDecodeError, match="undecodable response body"):
        send(transport, raw)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "invalid status line"),
        (b"SSH-2.0-OpenSSH\r\n", "invalid status line"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", "longer than 65536"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", "more than 100 headers"),
        (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "invalid header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "conflicting Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
    ],
)
def test_malformed_answers_are_connect_errors_that_name_the_problem(
    raw: RawServer, reply: bytes, message: str, make: Callable[..., Any]
) -> None:
    raw.scripts.append(answer(reply))
    with pytest.raises(ConnectError, match=message) as info:
        send(make(), raw)
    assert info.value.response_started and "invalid HTTP response" in str(info.value)


def test_a_cut_body_is_a_broken_connection(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.close_after_each = True
    raw.scripts.append(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"))
    with pytest.raises(ConnectError, match=r"broken while reading the response \(IncompleteRead\(2 bytes read, 8 more"):
        send(make(), raw)


@pytest.mark.parametrize(
    ("headers", "url", "problem"),
    [
        ({"x-evil": "a\r\nInjected: 1"}, "", "contains CR, LF or NUL"),
        ({"bad name": "x"}, "", "invalid header name"),
        ({}, "v1/a b", "invalid request target"),
        ({}, "v1/a\x00b", "invalid request target"),
        ({"x": "naïve ☃"}, "", "outside ISO-8859-1"),
    ],
)
def test_nothing_unsafe_is_sent(
    raw: RawServer, headers: dict[str, str], url: str, problem: str, make: Callable[..., Any]
) -> None:
    with pytest.raises(TransportError, match=problem) as info:
        make().request("GET", raw.url + url, headers, None, 5.0)
    assert not info.value.response_started
    time.sleep(0.05)
    assert raw.requests == []


def test_an_idle_connection_the_server_closed_is_not_used(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.close_after_each = True  # answers keep-alive, then hangs up anyway
    raw.scripts += [answer(OK), answer(OK)]
    transport = make()
    send(transport, raw)
    time.sleep(0.1)  # the FIN arrives while the connection is idle
    assert send(transport, raw, "POST", b"{}").data == b"{}"  # even a POST: nothing was sent on the dead one
    assert [r.connection for r in raw.requests] == [0, 1]


def test_a_get_on_a_connection_closed_without_answer_is_resent_once(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts += [answer(OK), lambda _: None, answer(OK)]
    transport = make()
    send(transport, raw)
    assert send(transport, raw).data == b"{}"
    assert [r.connection for r in raw.requests] == [0, 0, 1]


def test_a_post_on_a_connection_closed_without_answer_is_not_resent(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts += [answer(OK), lambda _: None, answer(OK)]
    transport = make()
    send(transport, raw)
    with pytest.raises(ConnectError, match="closed the connection without answering") as info:
        send(transport, raw, "POST", b"{}")
    assert not info.value.response_started  # the client's retry policy decides
    assert len(raw.requests) == 2


def test_an_upload_chunk_on_a_connection_closed_without_answer_is_not_resent(
    raw: RawServer, make: Callable[..., Any]
) -> None:
    """A PUT is sent again after such a close, but not a resumable upload's chunk (it has a
    Content-Range): the server may keep what it read of it, and the upload asks it how much."""
    raw.scripts += [answer(OK), lambda _: None, answer(OK), lambda _: None]
    transport = make()
    send(transport, raw)
    assert send(transport, raw, "PUT", b"abc").data == b"{}"
    assert [r.connection for r in raw.requests] == [0, 0, 1]
    with pytest.raises(ConnectError, match="closed the connection without answering") as info:
        send(transport, raw, "PUT", b"abc", **{"Content-Range": "bytes 0-2/3"})
    assert not info.value.response_started
    assert [r.connection for r in raw.requests] == [0, 0, 1, 1]


def test_a_reset_instead_of_an_answer_resends_a_get_once_and_not_a_post(
    raw: RawServer, make: Callable[..., Any]
) -> None:
    # The server's idle timeout closes the connection as our request arrives: a reset, not a FIN.
    raw.scripts += [answer(OK), lambda _: RESET, answer(OK), answer(OK), lambda _: RESET]
    transport = make()
    send(transport, raw)
    assert send(transport, raw).data == b"{}"
    assert [r.connection for r in raw.requests] == [0, 0, 1]
    send(transport, raw)
    with pytest.raises(ConnectError) as info:
        send(transport, raw, "POST", b"{}")
    assert not info.value.response_started  # the client's retry policy decides
    assert [r.connection for r in raw.requests] == [0, 0, 1, 1, 1]


def test_a_deadline_is_over_before_its_connection_goes_back_to_the_pool(
    raw: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once pooled, another call may take the connection: this call's deadline must not be able
    # to shut its socket down any more.
    from gapi_runtime import pooled_transport

    events: list[str] = []
    finish, checkin = pooled_transport._WATCHDOG.finish, PooledTransport._checkin
    monkeypatch.setattr(pooled_transport._WATCHDOG, "finish", lambda guard: (events.append("finish"), finish(guard)))
    monkeypatch.setattr(PooledTransport, "_checkin", lambda *args: (events.append("checkin"), checkin(*args)))
    raw.scripts.append(answer(OK))
    send(PooledTransport(), raw)
    assert events == ["finish", "checkin"]


def test_an_internationalised_host_is_sent_in_its_idna_2008_form_as_urllib3_sends_it() -> None:
    pytest.importorskip("idna")
    from gapi_runtime.http11 import RequestWriter

    origin, host, _ = RequestWriter().target("https://bücher.example:8443/v1/x")
    assert origin == ("https", "xn--bcher-kva.example", 8443) and host == "xn--bcher-kva.example:8443"
    assert RequestWriter().target("http://日本.example/")[1] == "xn--wgv71a.example"
    # IDNA 2003 (Python's codec) would make these strasse.de and another Greek name: other domains.
    assert RequestWriter().target("https://straße.de/")[1] == "xn--strae-oqa.de"
    assert RequestWriter().target("https://βόλος.gr/")[1] == "xn--nxasmm1c.gr"


def test_a_stalled_answer_times_out_within_the_deadline(raw: RawServer, make: Callable[..., Any]) -> None:
    raw.scripts.append(lambda _: (time.sleep(3), None)[1])
    started = time.monotonic()
    with pytest.raises(RequestTimeout, match=r"timed out after 0\.3 s"):
        make().request("GET", raw.url, {}, None, 0.3)
    assert time.monotonic() - started < 2.5


def test_a_refused_connection_is_a_connect_error(make: Callable[..., Any]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectError, match="cannot connect") as info:
        make().request("GET", f"http://127.0.0.1:{port}/", {}, None, 5.0)
    assert not info.value.response_started


def test_the_pool_keeps_at_most_pool_size_idle_connections(raw: RawServer) -> None:
    raw.scripts += [answer(OK)] * 8
    transport = PooledTransport(pool_size=2)
    barrier = threading.Barrier(4)

    def call() -> None:
        barrier.wait()
        send(transport, raw)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(idle) for idle in transport._idle.values()) <= 2
    transport.close()
    assert transport._idle == {}

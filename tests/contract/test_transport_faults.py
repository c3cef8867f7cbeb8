"""Fault injection: stalls, trickles, truncation, bad JSON, refused and TLS-failing connections.

Every failure must surface as a documented exception whose message names the method id and
the URL (without the query string), within the timeout bound, and nothing is swallowed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gapi_runtime import (
    ConnectError,
    PooledTransport,
    RequestTimeout,
    ResponseDecodeError,
    RetryPolicy,
    TLSError,
    TransportError,
    Urllib3Transport,
)
from gapi_runtime.errors import http_error, rpc_error
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from tests.support.fake_looker import FakeLooker, error_reply
from tests.support.loopback import Reply

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
GET_ID = "looker.projects.locations.instances.get"
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=30)


@pytest.fixture
def fake() -> Iterator[FakeLooker]:
    with FakeLooker() as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        yield running


@pytest.fixture
def client(fake: FakeLooker) -> Iterator[LookerClient]:
    c = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry=FAST)
    yield c
    c.close()


def _timed(call: object) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        call()  # type: ignore[operator]
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("timeout", [0.5, 1.0])
def test_stalled_server_times_out_within_the_bound(fake: FakeLooker, client: LookerClient, timeout: float) -> None:
    fake.inject(Reply(fault="stall"))
    error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I, timeout=timeout))
    assert isinstance(error, RequestTimeout) and isinstance(error, TimeoutError)
    assert timeout * 0.9 <= elapsed < timeout + 1.0
    assert str(error) == f"{GET_ID}: GET {fake.url}v1/{I}: timed out after {timeout:g} s"
    assert len(fake.requests) == 1  # a timeout is not retried by default


def test_trickling_body_is_bounded_by_the_timeout(fake: FakeLooker, client: LookerClient) -> None:
    """One byte every 0.1 s would take 30 s; each socket read alone never times out."""
    fake.inject(Reply(body={"name": "x" * 300}, fault="drip", drip_interval=0.1))
    error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I, timeout=1.0))
    assert isinstance(error, RequestTimeout), error
    assert error.response_started
    assert elapsed < 2.0


def test_slow_but_steady_response_within_the_timeout_succeeds(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(Reply(body={"name": "abcdef"}, fault="drip", drip_interval=0.02))
    assert client.projects.locations.instances.get(name=I, timeout=10)["name"] == "abcdef"


def test_client_default_timeout_applies_and_none_waits(fake: FakeLooker) -> None:
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, timeout=0.5)
    fake.inject(Reply(fault="stall"))
    error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I))
    assert isinstance(error, RequestTimeout) and elapsed < 1.5
    fake.inject(Reply(body={"name": "late"}, delay=0.7))
    assert client.projects.locations.instances.get(name=I, timeout=None)["name"] == "late"
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, timeout=0)


def test_the_pool_recovers_after_timeouts(fake: FakeLooker, client: LookerClient) -> None:
    for _ in range(3):
        fake.inject(Reply(fault="stall"))
        with pytest.raises(RequestTimeout):
            client.projects.locations.instances.get(name=I, timeout=0.3)
        assert client.projects.locations.instances.get(name=I, timeout=5)["name"] == I


def test_a_finished_deadline_never_touches_a_reused_connection(fake: FakeLooker, client: LookerClient) -> None:
    """Calls with short timeouts that finish in time leave their pooled connections intact."""
    for _ in range(20):
        assert client.projects.locations.instances.get(name=I, timeout=0.2)["name"] == I
    time.sleep(0.4)  # every deadline above has passed
    assert client.projects.locations.instances.get(name=I, timeout=5)["name"] == I
    assert len(fake.requests) == 21


def test_invalid_json_is_a_clear_error_and_not_retried(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(Reply(body=b"<html>Gateway</html>"))
    with pytest.raises(ResponseDecodeError) as info:
        client.projects.locations.instances.list(parent=P, page_size=3)
    message = str(info.value)
    assert message.startswith(f"looker.projects.locations.instances.list: GET {fake.url}v1/{P}/instances answered 200")
    assert "pageSize" not in message and "<html>" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, TransportError)
    assert len(fake.requests) == 1


def test_truncated_body_is_a_connect_error_after_the_response_started(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(Reply(body={"name": "x" * 100}, fault="truncate"))
    with pytest.raises(ConnectError) as info:
        client.projects.locations.instances.get(name=I)
    assert info.value.response_started
    assert info.value.method_id == GET_ID and info.value.url == f"{fake.url}v1/{I}"
    assert "connection broken while reading the response" in str(info.value)
    assert len(fake.requests) == 1


def test_reset_without_retries_names_method_and_url(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(Reply(fault="reset"))
    with pytest.raises(ConnectError) as info:
        client.projects.locations.instances.list(parent=P, page_token="secret-token", retry=None)
    assert not info.value.response_started
    message = str(info.value)
    assert message.startswith(f"looker.projects.locations.instances.list: GET {fake.url}v1/{P}/instances: ")
    assert "secret-token" not in message and "pageToken" not in message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url, retry=None)
    with pytest.raises(ConnectError) as info:
        client.projects.locations.instances.get(name=I)
    assert str(info.value).startswith(f"{GET_ID}: GET {url}v1/{I}: cannot connect (")
    assert "refused" in str(info.value).lower()
    assert not isinstance(info.value, TimeoutError)


def test_connection_refused_is_retried_for_gets_until_the_deadline() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    policy = RetryPolicy(initial=0.05, maximum=0.05, timeout=0.5)
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url, retry=policy)
    error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I))
    assert isinstance(error, ConnectError)
    assert elapsed < 5


def test_tls_failure_against_a_plain_http_server(fake: FakeLooker) -> None:
    url = fake.url.replace("http://", "https://")
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url)
    with pytest.raises(TLSError) as info:
        client.projects.locations.instances.create(parent=P, body={})
    assert str(info.value).startswith(f"looker.projects.locations.instances.create: POST {url}v1/{P}/instances: TLS")
    assert isinstance(info.value, ConnectError)


def test_http_errors_map_by_status_and_rpc_status(fake: FakeLooker, client: LookerClient) -> None:
    with pytest.raises(exceptions.NotFound, match=r"not found \[looker.projects.locations.instances.get\]"):
        client.projects.locations.instances.get(name=f"{P}/instances/missing")
    with pytest.raises(exceptions.AlreadyExists):
        client.projects.locations.instances.create(parent=P, instance_id="i1", body={})
    fake.inject(Reply(400, {"error": {"code": 400, "message": "m", "status": "FAILED_PRECONDITION"}}))
    with pytest.raises(exceptions.FailedPrecondition) as info:
        client.projects.locations.instances.get(name=I)
    assert info.value.code == 400
    fake.inject(Reply(418, b"teapot"))
    with pytest.raises(exceptions.GoogleAPICallError) as teapot:
        client.projects.locations.instances.get(name=I)
    assert teapot.value.code == 418 and "non-JSON body: 'teapot'" in str(teapot.value)


def test_http_error_keeps_details_and_response() -> None:
    body = (
        b'{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED",'
        b' "details": [{"@type": "t/x", "reason": "R"}], "errors": [{"reason": "forbidden"}]}}'
    )
    error = http_error(403, body, "api.m", "https://x/?key=1", response="resp")
    assert type(error) is exceptions.PermissionDenied
    assert error.details == [{"@type": "t/x", "reason": "R"}] and error.errors == [{"reason": "forbidden"}]
    assert error.response == "resp"
    # A status name that does not refine the HTTP class is ignored.
    assert type(http_error(500, b'{"error": {"status": "DATA_LOSS"}}', "m", "u")) is exceptions.InternalServerError


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (1, "Cancelled"),
        (3, "InvalidArgument"),
        (4, "DeadlineExceeded"),
        (5, "NotFound"),
        (9, "FailedPrecondition"),
        (12, "MethodNotImplemented"),
        (14, "ServiceUnavailable"),
        (16, "Unauthenticated"),
        (99, "Unknown"),
    ],
)
def test_rpc_codes_map_to_google_api_core_exceptions(code: int, name: str) -> None:
    error = rpc_error({"code": code, "message": "why", "details": [{"a": 1}]}, "operation x")
    assert type(error).__name__ == name
    assert "why [operation x]" in str(error) and error.details == [{"a": 1}]
    assert error.code is not None and str(error).split()[0] == str(int(error.code))


def test_concurrent_stalls_each_time_out_on_their_own(fake: FakeLooker, client: LookerClient) -> None:
    """Four threads stall at once; the shared watchdog ends each within its own bound."""
    fake.inject(*(Reply(fault="stall") for _ in range(4)))
    results: list[tuple[type, float]] = []

    def call(timeout: float) -> None:
        error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I, timeout=timeout))
        results.append((type(error), elapsed - timeout))

    threads = [threading.Thread(target=call, args=(0.3 + 0.2 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [kind for kind, _ in results] == [RequestTimeout] * 4
    assert all(-0.1 < overshoot < 1.0 for _, overshoot in results)


def test_transport_used_directly_reports_response_started() -> None:
    with FakeLooker() as fake:
        transport = Urllib3Transport(pool_size=2)
        fake.inject(Reply(fault="close"))
        with pytest.raises(ConnectError) as info:
            transport.request("GET", fake.url + "v1/x?q=secret", {}, None, 5)
        assert not info.value.response_started and info.value.method_id == ""
        assert "secret" not in str(info.value)
        response = transport.request("GET", fake.url + "v1/projects/p/locations/l", {}, None, 5)
        assert response.status == 200 and b"locationId" in response.data
        transport.close()


def test_error_reply_helper_shape() -> None:
    reply = error_reply(404, "nope")
    assert reply.status == 404 and reply.body["error"]["status"] == "NOT_FOUND"


def test_deadlines_still_hold_in_a_forked_child(fake: FakeLooker, client: LookerClient) -> None:
    """The watchdog thread does not survive fork(); the child starts a new one."""
    import os

    assert client.projects.locations.instances.get(name=I, timeout=5)["name"] == I  # parent's watchdog runs
    fake.inject(Reply(fault="stall"))
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if the stall times out in time
        code = 1
        try:
            started = time.monotonic()
            child = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry=None)
            try:
                child.projects.locations.instances.get(name=I, timeout=0.5)
            except RequestTimeout:
                code = 0 if time.monotonic() - started < 3 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_trickling_headers_are_bounded_by_the_timeout() -> None:
    """A status line and then one header byte every 0.1 s, forever: still bounded."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.1):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url, retry=None)
    try:
        error, elapsed = _timed(lambda: client.projects.locations.instances.get(name=I, timeout=1.0))
    finally:
        stop.set()
        listener.close()
    assert isinstance(error, RequestTimeout), error
    assert elapsed < 2.0


def test_client_wide_google_api_core_retry(fake: FakeLooker) -> None:
    from google.api_core.retry import Retry

    client = LookerClient(
        credentials=AnonymousCredentials(), endpoint=fake.url, retry=Retry(initial=0.01, maximum=0.01, timeout=5)
    )
    fake.inject(error_reply(503, "x"), Reply(fault="reset"), method="POST")
    assert client.projects.locations.instances.restart(name=I, body={})["name"]  # its predicate: POST too
    assert len(fake.api_requests("POST")) == 3
    with pytest.raises(TypeError, match="retry must be"):
        LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry="often")  # type: ignore[arg-type]


def test_watchdog_wakes_for_an_earlier_deadline_and_stays_small() -> None:
    from gapi_runtime.wire import _Guard, _Watchdog

    watchdog = _Watchdog()
    late = _Guard(time.monotonic() + 60)
    watchdog.start(late)  # the thread now sleeps until this one's deadline
    left, right = socket.socketpair()
    with left, right:
        early = _Guard(time.monotonic() + 0.2)
        watchdog.start(early)
        watchdog.attach(early, left)
        left.settimeout(5)
        started = time.monotonic()
        assert left.recv(1) == b""  # shut down by the watchdog, not by the 5 s socket timeout
        assert time.monotonic() - started < 2 and early.fired and not late.fired
    for _ in range(3000):  # finished guards are compacted away, not kept until their deadlines
        guard = _Guard(time.monotonic() + 60)
        watchdog.start(guard)
        watchdog.finish(guard)
    assert len(watchdog._heap) < 600
    watchdog.finish(late)


def _raw_server(answer: bytes, hold: float = 0.0) -> tuple[str, Callable[[], None]]:
    """A server that answers every request on a connection with the bytes ``answer`` (then
    keeps the connection ``hold`` seconds); returns its URL and a function that stops it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            while not stop.is_set() and conn.recv(65536):
                conn.sendall(answer)
                if hold:
                    stop.wait(hold)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()

    def close() -> None:
        stop.set()
        listener.close()

    return f"http://127.0.0.1:{listener.getsockname()[1]}/", close


def test_urllib3_transport_refuses_an_interim_answer_it_cannot_read_past() -> None:
    """http.client skips only ``100 Continue``: a ``103 Early Hints`` must not pass for the answer."""
    final = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"name": "the"}'
    url, close = _raw_server(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n" + final)
    try:
        with LookerClient(credentials=AnonymousCredentials(), endpoint=url, retry=None) as pooled:
            assert pooled.projects.locations.instances.get(name=I) == {"name": "the"}  # the default reads past it
        transport = Urllib3Transport()
        with LookerClient(credentials=AnonymousCredentials(), endpoint=url, retry=None, transport=transport) as client:
            with pytest.raises(ConnectError, match="interim 103 response"):
                client.projects.locations.instances.get(name=I)
    finally:
        close()


@pytest.mark.parametrize("transport", [PooledTransport, Urllib3Transport])
def test_a_length_too_large_for_any_buffer_is_a_transport_error(transport: Any) -> None:
    url, close = _raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n{}", hold=2.0)
    try:
        with LookerClient(
            credentials=AnonymousCredentials(), endpoint=url, retry=None, transport=transport()
        ) as client:
            with pytest.raises(ConnectError):
                client.projects.locations.instances.get(name=I, timeout=3.0)
    finally:
        close()


def test_close_while_calls_are_in_flight_leaves_no_connection_open(fake: FakeLooker) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake.inject(*(Reply(delay=0.5) for _ in range(8)), method="GET")
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url)
    with ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(client.projects.locations.instances.get, name=I) for _ in range(8)]
        time.sleep(0.2)
        client.close()
        assert all(isinstance(call.result(), dict) for call in calls)
    time.sleep(0.2)
    assert fake.server.open_connections() == 0

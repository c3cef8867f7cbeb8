"""Regression tests for async-client fixes found in review: over real loopback HTTP, with real
google-auth credentials and no mocked transport.

- an async client reused in a second event loop refreshes its credentials there;
- AiohttpTransport sends the proxy URL's credentials on plain-http requests too;
- AiohttpTransport reports a malformed answer after its status line as started (not re-sent);
- AiohttpTransport drops a pooled connection the server closed while it was idle.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gapi_runtime import ConnectError, RetryPolicy
from gapi_runtime.aiohttp_transport import AiohttpTransport
from google.api_core import exceptions
from google.auth import _helpers
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials
from looker_v1 import LookerAsyncClient

from tests.support.loopback import LoopbackServer, Recorded, Reply
from tests.support.netfixtures import ConnectProxy

NAME = "projects/p/locations/l/instances/i"
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=1.0)


# --- 1. credentials refreshed in a second event loop ------------------------------------------


def test_a_client_reused_in_a_second_loop_refreshes_its_credentials_there() -> None:
    """Closed by ``async with`` in one asyncio.run() and used in the next after the token
    expired: the calls waiting for the refresh wait in the new loop, and one refresh serves them."""
    issued: list[str] = []

    def handler(request: Recorded) -> Reply:
        if request.path == "/token":
            issued.append(f"tok{len(issued) + 1}")
            # A slow token endpoint: the other calls wait on the refresh lock meanwhile.
            return Reply(body={"access_token": issued[-1], "expires_in": 3600, "token_type": "Bearer"}, delay=0.2)
        return Reply(body={"authorization": request.headers.get("authorization")})

    with LoopbackServer(handler) as server:
        credentials = Credentials(
            token=None, refresh_token="r", token_uri=server.url + "token", client_id="c", client_secret="s"
        )
        client = LookerAsyncClient(credentials=credentials, endpoint=server.url)

        async def burst() -> list[Any]:
            async with client:
                get = client.projects.locations.instances.get
                return await asyncio.gather(*(get(name=NAME) for _ in range(5)), return_exceptions=True)

        first = asyncio.run(burst())
        credentials.expiry = _helpers.utcnow() - datetime.timedelta(seconds=1)  # the token expired
        second = asyncio.run(burst())
    assert first == [{"authorization": "Bearer tok1"}] * 5
    assert second == [{"authorization": "Bearer tok2"}] * 5  # no RuntimeError: one refresh, in the new loop
    assert issued == ["tok1", "tok2"]


# --- 2. proxy credentials on plain-http requests ------------------------------------------------


def test_aiohttp_sends_proxy_credentials_on_plain_http_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    expected = "Basic " + base64.b64encode(b"alice:s3cr%t").decode()
    with LoopbackServer() as upstream, ConnectProxy(_address(upstream), credentials="alice:s3cr%t") as proxy:

        async def get(proxy_url: str) -> Any:
            async with LookerAsyncClient(
                credentials=AnonymousCredentials(),
                endpoint="http://looker.example.test/",
                proxy=proxy_url,  # the default transport with a proxy: AiohttpTransport
                allow_insecure_http=True,
            ) as client:
                assert isinstance(client._api.transport.inner, AiohttpTransport)  # type: ignore[attr-defined]
                return await client.projects.locations.instances.get(name=NAME, retry=None)

        assert asyncio.run(get(proxy.url_with("alice:s3cr%25t"))) == {}
        assert [(r.method, r.target) for r in proxy.records] == [("GET", f"http://looker.example.test/v1/{NAME}")]
        assert proxy.records[0].headers["proxy-authorization"] == expected
        assert upstream.last.path == f"/v1/{NAME}"

        with pytest.raises(exceptions.GoogleAPICallError) as info:  # the proxy's 407, as the sync client gets it
            asyncio.run(get(proxy.url_with("alice:wrongpass")))
        assert info.value.code == 407 and "wrongpass" not in str(info.value)


# --- 3. a malformed answer after the status line has started ------------------------------------


class _ScriptedServer:
    """A raw HTTP/1.1 server on 127.0.0.1: ``answer(connection, request_index)`` writes whatever
    bytes it likes after each request's head (and body) was read; it returns False to close."""

    def __init__(self, answer: Callable[[socket.socket, int], bool]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []  # each request's head
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/"

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                buffer = buffer[length:]
                with self._lock:
                    self.requests.append(head)
                    index = len(self.requests)
                if not self.answer(conn, index):
                    return
        except OSError:
            pass
        finally:
            conn.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[socket.socket, int], bool]], _ScriptedServer]]:
    servers: list[_ScriptedServer] = []

    def start(answer: Callable[[socket.socket, int], bool]) -> _ScriptedServer:
        servers.append(_ScriptedServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    ("answer", "started"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", True),  # a bad chunk size
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", True),  # a bad header line
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", True),  # closed within the head
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", True),  # a truncated body
        # A malformed status line: not started, as Urllib3Transport reports it (the pooled
        # transports say started); the client's retry policy then decides.
        (b"HTTX/1.1 200 OK\r\n\r\n", False),
    ],
)
def test_aiohttp_reports_a_malformed_answer_as_started_and_it_is_not_sent_again(
    scripted: Callable[[Callable[[socket.socket, int], bool]], _ScriptedServer], answer: bytes, started: bool
) -> None:
    def send(conn: socket.socket, _: int) -> bool:
        conn.sendall(answer)
        return False  # and close

    server = scripted(send)

    async def get() -> BaseException:
        async with LookerAsyncClient(
            credentials=AnonymousCredentials(), endpoint=server.url, transport=AiohttpTransport(), retry=FAST
        ) as client:
            with pytest.raises(ConnectError) as info:
                await client.projects.locations.instances.get(name=NAME)
        return info.value

    error = asyncio.run(get())
    assert error.response_started is started, error  # type: ignore[attr-defined]
    if started:
        assert len(server.requests) == 1  # a GET the server may have answered is not sent again
    else:
        assert len(server.requests) > 1  # the default retry rule re-sends an unanswered GET


# --- 4. a pooled connection the server closed while idle ----------------------------------------


def test_aiohttp_does_not_send_a_post_on_a_connection_the_server_closed_while_idle(
    scripted: Callable[[Callable[[socket.socket, int], bool]], _ScriptedServer],
) -> None:
    """The server closes each kept-alive connection 0.2 s after answering; the program blocks
    the event loop for longer (so aiohttp has not read the FIN) and then sends a POST: it goes
    on a new connection, sent once, as with the default transports."""

    def answer(conn: socket.socket, index: int) -> bool:
        body = f'{{"request": {index}}}'.encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
        threading.Timer(0.2, _hang_up, args=(conn,)).start()
        return True

    server = scripted(answer)

    async def get_then_post() -> tuple[Any, Any]:
        async with LookerAsyncClient(
            credentials=AnonymousCredentials(), endpoint=server.url, transport=AiohttpTransport()
        ) as client:
            instances = client.projects.locations.instances
            got = await instances.get(name=NAME)
            time.sleep(0.5)  # blocking work on the loop; meanwhile the server closed the idle connection
            return got, await instances.restart(name=NAME, body={}, retry=None)

    assert asyncio.run(get_then_post()) == ({"request": 1}, {"request": 2})
    assert server.connections == 2 and [head.split(b" ", 1)[0] for head in server.requests] == [b"GET", b"POST"]


def _hang_up(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _address(server: LoopbackServer) -> tuple[str, int]:
    return "127.0.0.1", int(server.url.rsplit(":", 1)[1].rstrip("/"))

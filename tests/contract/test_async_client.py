"""The async client end to end: real HTTP to the fake Looker server, real google-auth credentials.

What the sync client guarantees, the async one must too (the wire contract itself is checked
for both in test_looker_contract.py): retries of idempotent calls only, per-call deadlines,
error mapping, paging with the repeated-token guard, operations (wait, cancel, 501, time out),
credential refresh at most once per expiry under concurrency and never on the event loop,
1,000 concurrent calls through one client, the connection pool released on close. Also: the
generated async classes mirror the sync ones exactly, and type-check from user code.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import inspect
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gapi_runtime import (
    ConnectError,
    OperationTimeout,
    PagingError,
    PollingPolicy,
    RequestTimeout,
    ResponseDecodeError,
    RetryPolicy,
    TLSError,
)
from gapi_runtime.aio import AsyncOperation
from google.api_core import exceptions
from google.api_core.retry import Retry, if_exception_type
from google.auth import _helpers
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import service_account
from looker_v1 import LookerAsyncClient, LookerClient

from tests.contract.test_auth_flows import SA_EMAIL, SCOPE, service_account_info
from tests.support.fake_looker import FakeLooker, FakeOperation, error_reply
from tests.support.loopback import LoopbackServer, Reply

ROOT = Path(__file__).resolve().parents[2]
P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
GET_ID = "looker.projects.locations.instances.get"
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=30)
FAST_POLL = PollingPolicy(initial=0.01, multiplier=1.5, maximum=0.05, timeout=30)

T = TypeVar("T")


def run_async(test: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an ``async def`` test in a fresh event loop (fixtures are passed through)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


@pytest.fixture
def fake() -> Iterator[FakeLooker]:
    with FakeLooker(polls_to_done=2) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        yield running


def client_for(fake: FakeLooker, **kwargs: Any) -> LookerAsyncClient:
    kwargs.setdefault("credentials", AnonymousCredentials())
    kwargs.setdefault("retry", FAST)
    return LookerAsyncClient(endpoint=fake.url, **kwargs)


async def _timed(call: Awaitable[Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        await call
    return info.value, time.monotonic() - started


# --- retries: the sync client's rules ------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        [error_reply(503, "busy")],
        [error_reply(429, "slow down", {"Retry-After": "0"})],
        [Reply(fault="reset")],
        [Reply(fault="close")],
        [error_reply(500, "oops"), error_reply(502, "bad gateway"), error_reply(504, "gw timeout")],
    ],
    ids=["503", "429", "reset", "close", "500-502-504"],
)
@run_async
async def test_get_succeeds_through_transient_failures(fake: FakeLooker, faults: list[Reply]) -> None:
    fake.inject(*faults, method="GET")
    async with client_for(fake) as client:
        assert (await client.projects.locations.instances.get(name=I))["state"] == "ACTIVE"
    assert len(fake.api_requests("GET")) == len(faults) + 1


@pytest.mark.parametrize(
    "fault",
    [
        error_reply(503, "busy"),
        error_reply(429, "quota", {"Retry-After": "0"}),
        Reply(fault="reset"),
        Reply(fault="close"),
        Reply(fault="truncate", body={"name": "x" * 50}),
    ],
    ids=["503", "429", "reset", "close", "truncate"],
)
@pytest.mark.parametrize("verb", ["create", "patch", "restart"])
@run_async
async def test_post_and_patch_are_sent_once(fake: FakeLooker, verb: str, fault: Reply) -> None:
    fake.inject(fault)
    async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=fake.url) as client:  # default retry
        instances = client.projects.locations.instances
        with pytest.raises((exceptions.GoogleAPICallError, ConnectError)):
            if verb == "create":
                await instances.create(parent=P, instance_id="new", body={})
            elif verb == "patch":
                await instances.patch(name=I, update_mask="labels", body={"labels": {"a": "b"}})
            else:
                await instances.restart(name=I, body={})
    assert len(fake.requests) == 1 and fake.requests[0].method in ("POST", "PATCH")


@run_async
async def test_no_retry_means_one_request_even_for_a_get(fake: FakeLooker) -> None:
    """aiohttp would quietly re-send a GET once after a reset; the client's policy decides instead."""
    fake.inject(Reply(fault="reset"), Reply(fault="reset"))
    async with client_for(fake) as client:
        with pytest.raises(ConnectError) as info:
            await client.projects.locations.instances.list(parent=P, page_token="secret-token", retry=None)
        assert len(fake.requests) == 1
        assert not info.value.response_started and info.value.method_id == "looker.projects.locations.instances.list"
        message = str(info.value)
        assert message.startswith(f"looker.projects.locations.instances.list: GET {fake.url}v1/{P}/instances: ")
        assert "secret-token" not in message and "pageToken" not in message
    async with client_for(fake, retry=None) as no_retry:  # the client-wide setting
        with pytest.raises(ConnectError):
            await no_retry.projects.locations.instances.get(name=I)
    assert len(fake.requests) == 2


@run_async
async def test_retry_after_is_honoured_and_logged(fake: FakeLooker, caplog: pytest.LogCaptureFixture) -> None:
    fake.inject(error_reply(429, "quota", {"Retry-After": "1"}), error_reply(503, "x"))
    async with client_for(fake) as client:
        with caplog.at_level(logging.DEBUG, logger="gapi_runtime"):
            started = time.monotonic()
            assert (await client.projects.locations.instances.get(name=I))["name"] == I
            elapsed = time.monotonic() - started
    messages = [r.getMessage() for r in caplog.records if r.name == "gapi_runtime"]
    assert [m.split(" failed")[0] for m in messages] == [f"{GET_ID}: attempt {n}" for n in (1, 2)]
    assert "(HTTP 429)" in messages[0] and "retrying in 1.000 s" in messages[0]
    assert elapsed >= 0.95


@run_async
async def test_retry_after_beyond_the_deadline_and_exhausted_retries_raise_the_last_error(fake: FakeLooker) -> None:
    fake.inject(error_reply(429, "quota", {"Retry-After": "3600"}))
    async with client_for(fake) as client:
        with pytest.raises(exceptions.TooManyRequests):
            await client.projects.locations.instances.get(name=I)
        assert len(fake.requests) == 1
    fake.server.handler = lambda request: error_reply(503, "still busy")
    async with client_for(fake, retry=RetryPolicy(initial=0.01, maximum=0.02, timeout=0.3)) as client:
        with pytest.raises(exceptions.ServiceUnavailable, match="still busy"):
            await client.projects.locations.instances.get(name=I)
    assert len(fake.requests) >= 3


@run_async
async def test_a_google_api_core_retry_decides_alone(fake: FakeLooker) -> None:
    fake.inject(error_reply(503, "busy"), error_reply(503, "busy"), method="POST")
    seen: list[Exception] = []
    retry = Retry(
        predicate=if_exception_type(exceptions.ServiceUnavailable),
        initial=0.01,
        maximum=0.01,
        timeout=10,
        on_error=seen.append,
    )
    async with client_for(fake) as client:
        assert (await client.projects.locations.instances.restart(name=I, body={}, retry=retry))["name"]
    assert len(fake.api_requests("POST")) == 3 and len(seen) == 2


# --- deadlines and transport failures ----------------------------------------------------


@run_async
async def test_stalled_server_times_out_within_the_bound(fake: FakeLooker) -> None:
    fake.inject(Reply(fault="stall"))
    async with client_for(fake) as client:
        error, elapsed = await _timed(client.projects.locations.instances.get(name=I, timeout=0.5))
        assert isinstance(error, RequestTimeout) and isinstance(error, TimeoutError)
        assert 0.45 <= elapsed < 0.5 + 1.5
        assert str(error) == f"{GET_ID}: GET {fake.url}v1/{I}: timed out after 0.5 s"
        assert len(fake.requests) == 1  # a timeout is not retried by default
        # The pool recovers: the next call gets a working connection.
        assert (await client.projects.locations.instances.get(name=I, timeout=5))["name"] == I


@run_async
async def test_a_trickling_body_is_bounded_and_a_steady_one_succeeds(fake: FakeLooker) -> None:
    fake.inject(Reply(body={"name": "x" * 300}, fault="drip", drip_interval=0.1))
    async with client_for(fake) as client:
        error, elapsed = await _timed(client.projects.locations.instances.get(name=I, timeout=1.0))
        assert isinstance(error, RequestTimeout) and error.response_started, error
        assert elapsed < 2.5
        fake.inject(Reply(body={"name": "abcdef"}, fault="drip", drip_interval=0.02))
        assert (await client.projects.locations.instances.get(name=I, timeout=10))["name"] == "abcdef"


@run_async
async def test_client_default_timeout_applies_and_none_waits(fake: FakeLooker) -> None:
    fake.inject(Reply(fault="stall"))
    async with client_for(fake, timeout=0.5) as client:
        error, elapsed = await _timed(client.projects.locations.instances.get(name=I))
        assert isinstance(error, RequestTimeout) and elapsed < 2.0
        fake.inject(Reply(body={"name": "late"}, delay=0.7))
        assert (await client.projects.locations.instances.get(name=I, timeout=None))["name"] == "late"


@run_async
async def test_truncated_and_invalid_bodies(fake: FakeLooker) -> None:
    async with client_for(fake) as client:
        fake.inject(Reply(body={"name": "x" * 100}, fault="truncate"))
        with pytest.raises(ConnectError) as truncated:
            await client.projects.locations.instances.get(name=I)
        assert truncated.value.response_started and truncated.value.url == f"{fake.url}v1/{I}"
        assert "connection broken while reading the response" in str(truncated.value)
        fake.inject(Reply(body=b"<html>Gateway</html>"))
        with pytest.raises(ResponseDecodeError) as invalid:
            await client.projects.locations.instances.list(parent=P, page_size=3)
        message = str(invalid.value)
        assert message.startswith(f"looker.projects.locations.instances.list: GET {fake.url}v1/{P}/instances answered")
        assert "pageSize" not in message and "<html>" in message
    assert len(fake.requests) == 2  # neither is retried


@run_async
async def test_connection_refused_and_tls_failures(fake: FakeLooker) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=url, retry=None) as client:
        with pytest.raises(ConnectError) as refused:
            await client.projects.locations.instances.get(name=I)
    assert str(refused.value).startswith(f"{GET_ID}: GET {url}v1/{I}: cannot connect (")
    assert "refused" in str(refused.value).lower() and not isinstance(refused.value, TimeoutError)
    https = fake.url.replace("http://", "https://")
    async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=https) as client:
        with pytest.raises(TLSError) as tls:
            await client.projects.locations.instances.create(parent=P, body={})
    assert str(tls.value).startswith(f"looker.projects.locations.instances.create: POST {https}v1/{P}/instances: TLS")


@run_async
async def test_http_errors_map_as_for_the_sync_client(fake: FakeLooker) -> None:
    async with client_for(fake) as client:
        with pytest.raises(exceptions.NotFound, match=r"not found \[looker.projects.locations.instances.get\]"):
            await client.projects.locations.instances.get(name=f"{P}/instances/missing")
        with pytest.raises(exceptions.AlreadyExists):
            await client.projects.locations.instances.create(parent=P, instance_id="i1", body={})
        fake.inject(Reply(400, {"error": {"code": 400, "message": "m", "status": "FAILED_PRECONDITION"}}))
        with pytest.raises(exceptions.FailedPrecondition) as precondition:
            await client.projects.locations.instances.get(name=I)
        assert precondition.value.code == 400


# --- paging ------------------------------------------------------------------------------


@run_async
async def test_paging_follows_tokens_and_guards_against_repeats(fake: FakeLooker) -> None:
    for n in range(2, 6):
        fake.instances[f"{P}/instances/i{n}"] = {"name": f"{P}/instances/i{n}"}
    async with client_for(fake) as client:
        instances = client.projects.locations.instances
        pages = [page async for page in instances.list_pages(parent=P)]
        assert [len(page["instances"]) for page in pages] == [2, 2, 1]
        tokens = [dict(r.query).get("pageToken") for r in fake.api_requests("GET")]
        assert tokens == [None, pages[0]["nextPageToken"], pages[1]["nextPageToken"]]
        names = [i["name"] async for i in instances.list_all(parent=P, page_size=4, show_deleted=True)]
        assert len(names) == 5 and all(("showDeleted", "true") in r.query for r in fake.api_requests("GET")[3:])
        with pytest.raises(ValueError, match="does not match the pattern"):
            instances.list_all(parent="not/a/parent")  # checked at once, before any iteration
        fake.inject(error_reply(503, "busy"), Reply(fault="reset"), method="GET")  # retried mid-iteration
        assert len([page async for page in instances.list_pages(parent=P, page_size=5)]) == 1
        fake.repeat_page_token = True
        before = len(fake.requests)
        iterator = instances.list_pages(parent=P)
        await iterator.__anext__()
        await iterator.__anext__()
        with pytest.raises(PagingError, match="a second time"):
            await iterator.__anext__()
        assert len(fake.requests) == before + 2


# --- long-running operations -------------------------------------------------------------


@run_async
async def test_operation_wait_result_and_state(fake: FakeLooker) -> None:
    async with client_for(fake) as client:
        op = await client.projects.locations.instances.create(parent=P, instance_id="new", body={"x": "y"})
        handle = client.operation(op, polling=FAST_POLL)
        assert isinstance(handle, AsyncOperation) and handle.name == op["name"]
        assert handle.metadata["verb"] == "create"
        result = await handle.result()
        assert result["name"] == f"{P}/instances/new" and result["state"] == "ACTIVE"
        polls = len(fake.api_requests("GET", "/operations/"))
        assert polls == 2 and await handle.done() and await handle.exception() is None
        assert not await handle.cancelled() and len(fake.api_requests("GET", "/operations/")) == polls
        by_name = client.operation(handle.name)
        assert (await by_name.refresh())["done"] is True
        assert "done=True" in repr(by_name)


@run_async
async def test_operation_cancel_and_cancelled(fake: FakeLooker) -> None:
    async with client_for(fake) as client:
        handle = client.operation(await client.projects.locations.instances.export(name=I, body={"gcsUri": "gs://b"}))
        assert await handle.cancel() is True
        (cancel,) = fake.api_requests("POST", ":cancel")
        assert cancel.path == f"/v1/{handle.name}:cancel" and cancel.json() == {}
        assert await handle.cancelled() is True
        with pytest.raises(exceptions.Cancelled, match=r"Operation was cancelled. \[operation projects/"):
            await handle.result()
        assert handle.name in fake.operations  # cancellation does not delete the operation
        assert await handle.cancel() is False and len(fake.api_requests("POST", ":cancel")) == 1


@run_async
async def test_operation_cancel_unimplemented_is_sent_once() -> None:
    with FakeLooker(cancel_supported=False) as fake:
        fake.instances[I] = {"name": I}
        async with client_for(fake) as client:
            handle = client.operation(await client.projects.locations.instances.restart(name=I, body={}))
            with pytest.raises(exceptions.MethodNotImplemented):
                await handle.cancel()
            with pytest.raises(exceptions.MethodNotImplemented):
                await client.projects.locations.operations.cancel(name=handle.name)
        assert len(fake.api_requests("POST", ":cancel")) == 2  # one per call: POST is never retried


@run_async
async def test_operation_timeouts_are_bounded(fake: FakeLooker) -> None:
    fake.polls_to_done = 10_000
    async with client_for(fake) as client:
        handle = client.operation(await client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
        with pytest.raises(OperationTimeout, match=r"is not done after 0.3 s"):
            await handle.result(timeout=0.3)
        assert len(fake.api_requests("GET", "/operations/")) >= 3
        fake.inject(*(Reply(fault="stall") for _ in range(5)), method="GET")  # polls that never answer
        started = time.monotonic()
        with pytest.raises(OperationTimeout) as info:
            await handle.result(timeout=1.5)
        assert time.monotonic() - started < 1.5 + 2.0
        assert isinstance(info.value.__cause__, TimeoutError)


@pytest.mark.parametrize(("code", "error"), [(9, exceptions.FailedPrecondition), (5, exceptions.NotFound)])
@run_async
async def test_failed_operation_raises_the_mapped_exception(
    fake: FakeLooker, code: int, error: type[Exception]
) -> None:
    fake.next_operation_error = {"code": code, "message": "it broke"}
    async with client_for(fake) as client:
        handle = client.operation(await client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
        with pytest.raises(error, match="it broke"):
            await handle.result()
        assert isinstance(await handle.exception(), error) and not await handle.cancelled()


# --- concurrency -------------------------------------------------------------------------


@run_async
async def test_1000_concurrent_cancels_through_one_client(fake: FakeLooker) -> None:
    names = [f"{P}/operations/bulk-{n}" for n in range(1000)]
    for name in names:
        fake.operations[name] = FakeOperation(name, "create", I, lambda: {})
    async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=fake.url) as client:
        cancel = client.projects.locations.operations.cancel
        results = await asyncio.gather(*(cancel(name=name) for name in names), return_exceptions=True)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors == [] and results == [{}] * 1000
    cancels = fake.api_requests("POST", ":cancel")
    assert len(cancels) == 1000 and len(fake.requests) == 1000  # nothing lost, nothing sent twice
    assert sorted(request.path for request in cancels) == sorted(f"/v1/{name}:cancel" for name in names)
    assert all(fake.operations[name].error == {"code": 1, "message": "Operation was cancelled."} for name in names)


@run_async
async def test_concurrent_calls_retry_through_injected_faults(fake: FakeLooker) -> None:
    fake.chaos = 0.05  # 5% of GETs: a 503 or a connection reset
    async with client_for(fake) as client:
        results = await asyncio.gather(
            *(client.projects.locations.instances.get(name=I) for _ in range(300)), return_exceptions=True
        )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert fake.chaos_hits > 0 and len(fake.api_requests("GET")) == 300 + fake.chaos_hits


# --- credentials -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def authed(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeLooker]:
    with FakeLooker(require_auth=True) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        running.add_service_account(SA_EMAIL, rsa_key.public_key())
        yield running


@pytest.fixture
def credentials(authed: FakeLooker, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> service_account.Credentials:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(service_account_info(authed, rsa_key)))
    return service_account.Credentials.from_service_account_file(str(path), scopes=[SCOPE])


@run_async
async def test_refresh_once_per_expiry_off_the_event_loop(
    authed: FakeLooker, credentials: service_account.Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    authed.token_delay = 0.3  # a slow token endpoint widens the window for duplicate refreshes
    refresh_threads: list[int] = []
    refresh = credentials.refresh

    def recording_refresh(request: Any) -> None:
        refresh_threads.append(threading.get_ident())
        refresh(request)

    monkeypatch.setattr(credentials, "refresh", recording_refresh)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    async with LookerAsyncClient(credentials=credentials, endpoint=authed.url) as client:
        get = client.projects.locations.instances.get
        first = await asyncio.gather(*(get(name=I) for _ in range(200)), return_exceptions=True)
        ticks_during_first = ticks
        credentials.expiry = _helpers.utcnow() - datetime.timedelta(seconds=1)  # the token expires
        second = await asyncio.gather(*(get(name=I) for _ in range(200)), return_exceptions=True)
    beating.cancel()
    assert [r for r in first + second if isinstance(r, BaseException)] == []
    assert authed.token_hits == 2 and len(authed.api_requests()) == 400  # one refresh per expiry
    assert threading.get_ident() not in refresh_threads and len(refresh_threads) == 2
    assert ticks_during_first >= 3  # the loop kept running while the token endpoint was slow
    assert {r.headers["authorization"][7:] for r in authed.api_requests()} <= authed.live_tokens


@run_async
async def test_a_cancelled_caller_leaves_its_refresh_to_the_others(
    authed: FakeLooker, credentials: service_account.Credentials
) -> None:
    """Cancelling the task whose refresh is under way does not start a second one: the tasks
    waiting for the token wait for that refresh."""
    authed.token_delay = 0.5
    async with LookerAsyncClient(credentials=credentials, endpoint=authed.url) as client:
        first = asyncio.create_task(client.projects.locations.instances.get(name=I))
        await asyncio.sleep(0.15)  # its refresh runs in a worker thread now
        others = [asyncio.create_task(client.projects.locations.instances.get(name=I)) for _ in range(10)]
        await asyncio.sleep(0.05)
        first.cancel()
        results = await asyncio.gather(*others, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert authed.token_hits == 1


@run_async
async def test_a_burst_of_401s_refreshes_once(authed: FakeLooker, credentials: service_account.Credentials) -> None:
    authed.token_delay = 0.2
    async with LookerAsyncClient(credentials=credentials, endpoint=authed.url) as client:
        await client.projects.locations.instances.get(name=I)
        authed.revoke_all_tokens()  # the server stops accepting the token before it expires
        results = await asyncio.gather(
            *(client.projects.locations.instances.get(name=I) for _ in range(50)), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert authed.token_hits == 2
        # A rejected POST is sent once more with the new token, and only once.
        authed.revoke_all_tokens()
        assert (await client.projects.locations.instances.restart(name=I, body={}))["name"]
    posts = authed.api_requests("POST")
    assert len(posts) == 2 and posts[0].headers["authorization"] != posts[1].headers["authorization"]
    assert authed.token_hits == 3


@run_async
async def test_persistent_401_raises_after_one_refresh(
    authed: FakeLooker, credentials: service_account.Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authed, "_authorized", lambda request: False)
    async with LookerAsyncClient(credentials=credentials, endpoint=authed.url) as client:
        with pytest.raises(exceptions.Unauthenticated):
            await client.projects.locations.instances.get(name=I)
    assert authed.token_hits == 2 and len(authed.api_requests()) == 2


# --- redirects and the wire ----------------------------------------------------------------


@run_async
async def test_redirects_follow_the_sync_rules() -> None:
    key = "AIzaSy-SECRET-API-KEY"
    with LoopbackServer() as server, LoopbackServer() as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost")
        server.reply(Reply(302, b"", {"location": elsewhere + "v1/elsewhere?alt=media"}))
        other.reply(Reply(200, {"name": "from the other origin"}))
        async with LookerAsyncClient(client_options={"api_key": key}, endpoint=server.url) as client:
            assert await client.projects.locations.instances.get(name=I) == {"name": "from the other origin"}
            assert server.last.headers["x-goog-api-key"] == key
            assert other.last.target == "/v1/elsewhere?alt=media" and "x-goog-api-key" not in other.last.headers
            server.reply(Reply(307, b"", {"location": elsewhere + "x"}))
            with pytest.raises(exceptions.GoogleAPICallError) as raised:
                await client.projects.locations.instances.delete(name=I, retry=None)  # not a GET: not followed
            assert raised.value.code == 307 and len(other.requests) == 1


@run_async
async def test_hostile_path_values_reach_the_wire_exactly_as_for_the_sync_client() -> None:
    """No re-quoting by aiohttp/yarl: the rows of test_hostile_values, through the async client."""
    from tests.contract.test_hostile_values import NAME_ROWS, REFUSED

    with LoopbackServer() as server:
        async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
            for value, wire in NAME_ROWS:
                before = len(server.requests)
                if wire is REFUSED:
                    with pytest.raises(ValueError):
                        await client.projects.locations.instances.get(name=value)
                    assert len(server.requests) == before
                else:
                    await client.projects.locations.instances.get(name=value)
                    assert server.last.target == wire, value


# --- lifecycle ------------------------------------------------------------------------------


def test_async_with_and_close_release_the_pool(fake: FakeLooker) -> None:
    client = client_for(fake)  # constructed outside any event loop: no I/O yet

    async def use() -> Any:
        async with client:
            await client.projects.locations.instances.get(name=I)
            transport = client._api.transport.inner
            (connection,) = [c for idle in transport._idle.values() for c in idle]
            assert connection.alive()
        assert not connection.alive() and not any(transport._idle.values())
        await client.close()  # closing twice is harmless
        return transport

    asyncio.run(use())

    async def reuse() -> None:
        with pytest.raises(RuntimeError, match="another event loop"):
            async with client_for(fake) as other:
                await other.projects.locations.instances.get(name=I)
                await asyncio.to_thread(asyncio.run, other.projects.locations.instances.get(name=I))

    asyncio.run(reuse())


def test_without_aiohttp_the_default_transport_works_and_aiohttp_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, fake: FakeLooker
) -> None:
    monkeypatch.delitem(sys.modules, "gapi_runtime.aiohttp_transport", raising=False)
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # what an environment without it looks like

    async def call() -> Any:
        async with client_for(fake) as client:
            return await client.projects.locations.instances.get(name=I)

    assert asyncio.run(call())["name"] == I
    from gapi_runtime.aio import _aiohttp_transport

    with pytest.raises(ImportError, match=r"LookerAsyncClient needs aiohttp.*pip install 'gapi-runtime\[async\]'"):
        _aiohttp_transport("LookerAsyncClient")

    class Stub:
        async def request(self, *args: Any) -> Any:
            raise NotImplementedError

        async def close(self) -> None:
            pass

    assert LookerAsyncClient(credentials=AnonymousCredentials(), transport=Stub()).base_url  # any AsyncTransport


def test_the_sync_client_never_imports_the_async_side() -> None:
    script = (
        "import sys\n"
        "from google.auth.credentials import AnonymousCredentials\n"
        "import looker_v1 as looker\n"
        "client = looker.LookerClient(credentials=AnonymousCredentials())\n"
        "client.projects.locations.operations\n"
        "print(sorted(m for m in ('aiohttp', 'gapi_runtime.aio', 'looker_v1._async_client') "
        "if m in sys.modules))\n"
        "looker.LookerAsyncClient(credentials=AnonymousCredentials()).projects.locations.operations\n"
        "print(sorted(m for m in ('aiohttp', 'gapi_runtime.aio') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "['gapi_runtime.aio']"]  # aiohttp: never, by default


# --- the generated classes: twins of the sync ones ---------------------------------------------


def _resources(client: Any) -> Iterator[tuple[str, Any]]:
    """(dotted path, object) of the client and every resource below it, reached as users do."""
    stack: list[tuple[str, Any]] = [("client", client)]
    while stack:
        path, obj = stack.pop()
        yield path, obj
        names = [name for name in dir(type(obj)) if not name.startswith("_")] + list(getattr(obj, "__slots__", ()))
        for name in sorted(set(names)):
            if name.startswith("_") or name in ("base_url", "close", "operation"):
                continue
            attribute = getattr(type(obj), name, None)
            if callable(attribute) and not isinstance(attribute, functools.cached_property):
                continue
            child = getattr(obj, name)
            if hasattr(child, "_api"):
                stack.append((f"{path}.{name}", child))


def _methods(obj: Any) -> dict[str, Any]:
    return {
        name: getattr(type(obj), name)
        for name in dir(type(obj))
        if not name.startswith("_") and inspect.isfunction(getattr(type(obj), name))
    }


def assert_twins(sync_client: Any, async_client: Any) -> int:
    """Same resources, methods, parameters, annotations and docstrings; coroutines where calls are."""
    sync_tree = dict(_resources(sync_client))
    async_tree = dict(_resources(async_client))
    assert sorted(sync_tree) == sorted(async_tree)
    compared = 0
    for path, sync_obj in sync_tree.items():
        async_obj = async_tree[path]
        assert type(sync_obj).__doc__ == type(async_obj).__doc__ or path == "client", path
        sync_methods, async_methods = _methods(sync_obj), _methods(async_obj)
        assert sorted(sync_methods) == sorted(async_methods), path
        for name, sync_method in sync_methods.items():
            if path == "client" and name in ("close", "operation", "batch"):
                continue  # batch(): compared below (one queue for both, returning <X>Batch / <X>AsyncBatch)
            async_method = async_methods[name]
            assert sync_method.__doc__ == async_method.__doc__, f"{path}.{name}"
            sync_signature, async_signature = inspect.signature(sync_method), inspect.signature(async_method)
            assert sync_signature.parameters == async_signature.parameters, f"{path}.{name}"
            returns = str(sync_signature.return_annotation)
            if returns.startswith("_t.Iterator["):  # *_pages and *_all
                assert str(async_signature.return_annotation) == "_t.AsyncIterator[" + returns[len("_t.Iterator[") :]
                assert not inspect.iscoroutinefunction(async_method)
            else:
                assert async_signature.return_annotation == returns and inspect.iscoroutinefunction(async_method)
            compared += 1
    if hasattr(sync_client, "batch"):
        sync_batch, async_batch = sync_client.batch(), async_client.batch()
        assert type(async_batch).__name__ == type(sync_batch).__name__.removesuffix("Batch") + "AsyncBatch"
        assert type(sync_batch).__doc__ == type(async_batch).__doc__
        assert inspect.iscoroutinefunction(type(async_batch).execute)
        for path in (p for p in sync_tree if p != "client"):
            sync_twin, async_twin = sync_batch, async_batch
            for name in path.split(".")[1:]:
                sync_twin, async_twin = getattr(sync_twin, name), getattr(async_twin, name)
            assert type(sync_twin) is type(async_twin), path  # one batch twin serves both
            direct = [n for n in _methods(sync_tree[path]) if not n.endswith(("_pages", "_all"))]
            assert sorted(_methods(sync_twin)) == sorted(direct), path  # paging helpers are not batched
    return compared


def test_looker_async_client_is_the_twin_of_the_sync_client() -> None:
    sync_client = LookerClient(credentials=AnonymousCredentials())
    async_client = LookerAsyncClient(credentials=AnonymousCredentials())
    assert assert_twins(sync_client, async_client) == 28  # 20 methods + 4 × (_pages, _all)
    assert (
        inspect.signature(LookerClient.operation).parameters.keys()
        == inspect.signature(LookerAsyncClient.operation).parameters.keys()
    )


@pytest.mark.parametrize(
    ("api", "budget"), [(("oauth2", "v2"), None), (("looker", "v1"), 4)], ids=["top-level-methods", "split-modules"]
)
def test_generated_twins_for_other_layouts(
    api: tuple[str, str], budget: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API with methods on the client itself, and one split into lazily loaded modules."""
    from codegen import bundled, discovery, ir, render
    from tests.support import generated_packages as gp

    if budget is not None:
        monkeypatch.setattr(ir, "MODULE_METHOD_BUDGET", budget)
    output = render.render(discovery.load_path(bundled.find(*api).path))
    render.write(output, tmp_path)
    package = gp.load(tmp_path, output.package)
    try:
        names = package.__all__
        sync_client = getattr(package, names[0])(credentials=AnonymousCredentials())
        async_client = getattr(package, names[1])(credentials=AnonymousCredentials())
        assert names[1] == names[0].removesuffix("Client") + "AsyncClient"
        assert assert_twins(sync_client, async_client) > 0
        if budget is not None:
            assert len(list((tmp_path / output.package / output.package / "resources").glob("*.py"))) > 2
    finally:
        gp.forget(output.package)


def test_async_client_types_check_from_user_code(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(
        "from looker_v1 import LookerAsyncClient\n"
        "from looker_v1.schemas import Instance, Operation\n"
        "async def use(client: LookerAsyncClient) -> str:\n"
        "    async with client as c:\n"
        "        op: Operation = await c.projects.locations.instances.create(parent='p', body=Instance())\n"
        "        await c.projects.locations.operations.cancel(name=op.get('name', ''))\n"
        "        handle = c.operation(op)\n"
        "        done: bool = await handle.done()\n"
        "        async for page in c.projects.locations.instances.list_pages(parent='p'):\n"
        "            page.get('nextPageToken')\n"
        "        names = [i.get('name', '') async for i in c.projects.locations.instances.list_all(parent='p')]\n"
        "        inst = await c.projects.locations.instances.get(name='x')\n"
        "        return inst.get('platformEdition', '') + str(done) + ''.join(names)\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from looker_v1 import LookerAsyncClient\n"
        "async def use(client: LookerAsyncClient) -> None:\n"
        "    await client.projects.locations.operations.cancel(nam='x')\n"
        "    await client.projects.locations.instances.list(parent='p', page_size='10')\n"
        "    (await client.projects.locations.instances.get(name='x'))['bogusField']\n"
        "    client.projects.locations.instances.get(name='x')['name']\n"
        "    for page in client.projects.locations.instances.list_pages(parent='p'):\n"
        "        pass\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.10", str(good), str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors and all(line.startswith(str(bad)) for line in errors), result.stdout
    lines = {int(line.split(":")[1]) for line in errors}
    assert lines == {3, 4, 5, 6, 7}, result.stdout
    assert 'Unexpected keyword argument "nam"' in result.stdout and '"bogusField"' in result.stdout


@run_async
async def test_a_call_waiting_for_a_connection_slot_keeps_its_deadline(fake: FakeLooker) -> None:
    """With every connection slot taken, a call fails at its own timeout, not when a slot frees up."""
    from gapi_runtime.asyncio_transport import AsyncPooledTransport

    fake.inject(Reply(delay=3.0), method="GET")
    async with client_for(fake, transport=AsyncPooledTransport(max_connections=1)) as client:
        hog = asyncio.create_task(client.projects.locations.instances.get(name=I, retry=None))
        await asyncio.sleep(0.3)
        error, seconds = await _timed(client.projects.locations.instances.get(name=I, timeout=0.5, retry=None))
        assert isinstance(error, RequestTimeout) and seconds < 1.5
        assert await hog == {}  # the injected slow answer
        assert await client.projects.locations.instances.get(name=I, timeout=5)  # the slot was given back


@run_async
async def test_close_while_calls_are_in_flight_leaves_no_connection_open(fake: FakeLooker) -> None:
    fake.inject(*(Reply(delay=0.5) for _ in range(5)), method="GET")
    client = client_for(fake)
    calls = [asyncio.create_task(client.projects.locations.instances.get(name=I)) for _ in range(5)]
    await asyncio.sleep(0.2)
    await client.close()
    assert all(isinstance(result, dict) for result in await asyncio.gather(*calls))
    await asyncio.sleep(0.2)
    assert fake.server.open_connections() == 0

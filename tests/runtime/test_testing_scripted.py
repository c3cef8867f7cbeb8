"""Scripted transports (gapi_runtime.testing): queue replies, inspect requests; sync and async."""

from __future__ import annotations

import asyncio
import time

import pytest
from gapi_runtime import ConnectError, ResponseDecodeError
from gapi_runtime.clock import SYSTEM_CLOCK, clock_of
from gapi_runtime.testing import (
    AsyncScriptedTransport,
    RecordedRequest,
    Reply,
    ScriptedTransport,
    ScriptExhausted,
    VirtualClock,
    google_error,
)
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerAsyncClient, LookerClient

P = "projects/p1/locations/us-central1"
NAME = f"{P}/instances/i 1"


def test_replies_in_order_and_requests_recorded() -> None:
    transport = ScriptedTransport(
        Reply(json={"name": NAME, "state": "ACTIVE"}),
        Reply(json={"instances": [], "nextPageToken": ""}),
    )
    transport.add(status=200, json={"name": "op", "done": True, "response": {}})
    client = LookerClient(credentials=AnonymousCredentials(), transport=transport)
    instances = client.projects.locations.instances
    assert instances.get(name=NAME) == {"name": NAME, "state": "ACTIVE"}
    assert instances.list(parent=P, page_size=5, page_token="t") == {"instances": [], "nextPageToken": ""}
    assert instances.create(parent=P, instance_id="x", body={"platformEdition": "E"})["done"] is True
    transport.assert_done()

    get, listed, created = transport.requests
    assert (get.method, get.path) == ("GET", f"/v1/{NAME}")  # decoded path
    assert get.url == "https://looker.googleapis.com/v1/projects/p1/locations/us-central1/instances/i%201"
    assert get.body is None and get.json is None and get.timeout == 60.0
    assert get.headers["user-agent"].startswith("looker_v1/") and "authorization" not in get.headers
    assert listed.query == {"pageSize": ["5"], "pageToken": ["t"]} and listed.param("pageSize") == "5"
    assert created.method == "POST" and created.param("instanceId") == "x"
    assert created.json == {"platformEdition": "E"} and created.headers["content-type"] == "application/json"
    assert repr(get) == f"<RecordedRequest GET {get.url}>"


def test_errors_come_back_as_typed_exceptions() -> None:
    transport = ScriptedTransport(
        Reply.error(404, "no such instance"),
        Reply.error(400, "bad", rpc_status="FAILED_PRECONDITION", details=({"@type": "x", "reason": "r"},)),
        Reply(status=200, body=b"<html>", headers={"Content-Type": "text/html"}),
    )
    client = LookerClient(credentials=AnonymousCredentials(), transport=transport, retry=None)
    with pytest.raises(exceptions.NotFound, match="no such instance"):
        client.projects.locations.instances.get(name=NAME)
    with pytest.raises(exceptions.FailedPrecondition) as failed:
        client.projects.locations.instances.get(name=NAME)
    assert failed.value.details == [{"@type": "x", "reason": "r"}]
    with pytest.raises(ResponseDecodeError):
        client.projects.locations.instances.get(name=NAME)
    assert google_error(503, "down") == {"error": {"code": 503, "message": "down", "status": "UNAVAILABLE"}}


def test_retries_wait_on_the_virtual_clock() -> None:
    transport = ScriptedTransport(
        Reply.error(503),
        Reply.error(429, headers={"Retry-After": "45"}),
        Reply.dropped(),
        Reply(json={"name": NAME}),
    )
    client = LookerClient(credentials=AnonymousCredentials(), transport=transport)
    started = time.monotonic()
    assert client.projects.locations.instances.get(name=NAME) == {"name": NAME}
    assert time.monotonic() - started < 1.0  # 45 s of Retry-After, not waited for
    assert transport.clock is not None and 45 in transport.clock.sleeps and len(transport.clock.sleeps) == 3
    assert clock_of(client._api.transport) is transport.clock  # found through the redirect wrapper
    assert len(transport.requests) == 4


def test_responders_exceptions_and_an_exhausted_script() -> None:
    def echo(request: RecordedRequest) -> Reply:
        return Reply(json={"echo": request.param("instanceId"), "body": request.json})

    transport = ScriptedTransport(echo, Reply.raises(ConnectError("refused")))
    client = LookerClient(credentials=AnonymousCredentials(), transport=transport, retry=None)
    instances = client.projects.locations.instances
    assert instances.create(parent=P, instance_id="a", body={"x": 1}) == {"echo": "a", "body": {"x": 1}}
    with pytest.raises(ConnectError, match="refused"):
        instances.get(name=NAME)
    with pytest.raises(ScriptExhausted, match=r"no reply left for GET .*request 3"):
        instances.get(name=NAME)
    transport.add(Reply()).add(Reply())
    assert instances.get(name=NAME) == {}
    with pytest.raises(AssertionError, match="1 scripted reply was never requested"):
        transport.assert_done()
    client.close()
    assert transport.closed


def test_real_time_when_asked() -> None:
    transport = ScriptedTransport(virtual_time=False)
    assert clock_of(transport) is SYSTEM_CLOCK
    with pytest.raises(AttributeError, match="runs in real time"):
        transport.clock  # noqa: B018 - typed VirtualClock: there is none to give
    assert clock_of(object()) is SYSTEM_CLOCK


def test_async_scripted_transport() -> None:
    async def scenario() -> AsyncScriptedTransport:
        transport = AsyncScriptedTransport(
            Reply(json={"name": "op-1", "done": False}),
            Reply.error(503),
            Reply(json={"name": "op-1", "done": False}),
            Reply(json={"name": "op-1", "done": True, "response": {"name": NAME}}),
        )
        async with LookerAsyncClient(credentials=AnonymousCredentials(), transport=transport) as client:
            op = await client.projects.locations.instances.create(parent=P, instance_id="a", body={})
            name = f"{P}/operations/op-1"
            handle = client.operation({**op, "name": name})
            assert await handle.result() == {"name": NAME}
        return transport

    started = time.monotonic()
    transport = asyncio.run(scenario())
    assert time.monotonic() - started < 2.0
    assert [r.method for r in transport.requests] == ["POST", "GET", "GET", "GET"]
    assert transport.closed and transport.clock is not None and transport.clock.monotonic() > 1.0


def test_virtual_clock_orders_concurrent_sleeps() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.asleep(seconds)
        woke.append((name, clock.monotonic()))

    async def main() -> None:
        await asyncio.gather(sleeper("late", 5), sleeper("early", 2), sleeper("mid", 3))

    asyncio.run(main())
    assert woke == [("early", 2), ("mid", 3), ("late", 5)]
    clock.sleep(1)
    clock.advance(1)
    assert clock.monotonic() == 7 and clock.slept == 11
    with pytest.raises(ValueError):
        clock.advance(-1)

"""Long-running operations end to end: wait, inspect, cancel, fail, time out; and the IR rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gapi_runtime import Operation, OperationTimeout, PollingPolicy, RetryPolicy
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from codegen import discovery, ir
from tests.support.fake_looker import TYPE_PREFIX, FakeLooker, error_reply

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
FAST_POLL = PollingPolicy(initial=0.01, multiplier=1.5, maximum=0.05, timeout=30)


@pytest.fixture
def fake() -> Iterator[FakeLooker]:
    with FakeLooker(polls_to_done=3) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        yield running


@pytest.fixture
def client(fake: FakeLooker) -> Iterator[LookerClient]:
    c = LookerClient(
        credentials=AnonymousCredentials(), endpoint=fake.url, retry=RetryPolicy(initial=0.01, maximum=0.01)
    )
    yield c
    c.close()


def _gets(fake: FakeLooker) -> int:
    return len(fake.api_requests("GET", "/operations/"))


def test_wait_until_done_returns_the_response(fake: FakeLooker, client: LookerClient) -> None:
    op = client.projects.locations.instances.create(parent=P, instance_id="new", body={"platformEdition": "X"})
    assert op["done"] is False
    handle = client.operation(op, polling=FAST_POLL)
    assert handle.name == op["name"] and handle.name.startswith(P + "/operations/")
    assert handle.metadata["verb"] == "create" and handle.metadata["target"] == f"{P}/instances/new"
    result = handle.result()
    assert result["@type"] == TYPE_PREFIX + "Instance"
    assert result["name"] == f"{P}/instances/new" and result["state"] == "ACTIVE"
    assert _gets(fake) == 3 and handle.done() and _gets(fake) == 3  # done is remembered
    assert handle.exception() is None and not handle.cancelled()
    assert handle.result() == result and _gets(fake) == 3
    assert fake.instances[f"{P}/instances/new"]["state"] == "ACTIVE"


def test_done_and_refresh_poll_until_done(fake: FakeLooker, client: LookerClient) -> None:
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}))
    assert handle.done() is False and _gets(fake) == 1
    assert handle.refresh()["done"] is False and _gets(fake) == 2
    assert handle.done() is True and _gets(fake) == 3
    assert handle.operation["response"]["name"] == I
    assert "done=True" in repr(handle)


def test_a_handle_from_a_name_fetches_the_state(fake: FakeLooker, client: LookerClient) -> None:
    name = client.projects.locations.instances.delete(name=I)["name"]
    handle = client.operation(name, polling=FAST_POLL)
    assert handle.metadata is None
    assert handle.result() == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert I not in fake.instances
    assert client.operation(handle).done()  # a handle is accepted too


def test_cancel_then_cancelled_and_result_raises_cancelled(fake: FakeLooker, client: LookerClient) -> None:
    handle = client.operation(client.projects.locations.instances.export(name=I, body={"gcsUri": "gs://b/o"}))
    assert handle.cancel() is True
    cancel = fake.api_requests("POST", ":cancel")
    assert len(cancel) == 1 and cancel[0].path == f"/v1/{handle.name}:cancel" and cancel[0].json() == {}
    assert handle.cancelled() is True
    with pytest.raises(exceptions.Cancelled, match=r"Operation was cancelled. \[operation projects/"):
        handle.result()
    assert isinstance(handle.exception(), exceptions.Cancelled)
    assert handle.name in fake.operations  # cancellation does not delete the operation
    assert handle.operation["metadata"]["requestedCancellation"] is True


def test_cancel_when_done_sends_nothing(fake: FakeLooker, client: LookerClient) -> None:
    fake.polls_to_done = 0
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}))
    before = len(fake.requests)
    assert handle.cancel() is False and handle.cancelled() is False
    assert len(fake.requests) == before


def test_cancel_unimplemented_raises_method_not_implemented(client: LookerClient) -> None:
    with FakeLooker(cancel_supported=False) as fake:
        fake.instances[I] = {"name": I}
        c = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url)
        handle = c.operation(c.projects.locations.instances.restart(name=I, body={}))
        with pytest.raises(exceptions.MethodNotImplemented):
            handle.cancel()
        assert len(fake.api_requests("POST", ":cancel")) == 1  # POST: not retried


def test_timeout_raises_timeout_error(fake: FakeLooker, client: LookerClient) -> None:
    fake.polls_to_done = 10_000
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    with pytest.raises(OperationTimeout, match=r"is not done after 0.3 s") as info:
        handle.result(timeout=0.3)
    assert isinstance(info.value, TimeoutError)
    polls = _gets(fake)
    assert polls >= 3  # polled repeatedly, then gave up
    with pytest.raises(TimeoutError):
        handle.result(timeout=0)
    assert _gets(fake) == polls + 1  # timeout=0 still polls once


def test_polling_backs_off() -> None:
    delays = PollingPolicy().delays()
    expected = [1, 1.5, 2.25, 3.375, 5.0625, 7.5938, 11.3906, 17.0859, 20, 20]
    assert [round(next(delays), 4) for _ in range(10)] == expected
    assert PollingPolicy().timeout == 900
    with pytest.raises(ValueError):
        PollingPolicy(multiplier=0.5)


@pytest.mark.parametrize(
    ("code", "error"),
    [(9, exceptions.FailedPrecondition), (5, exceptions.NotFound), (13, exceptions.InternalServerError)],
)
def test_failed_operation_raises_the_mapped_exception(
    fake: FakeLooker, client: LookerClient, code: int, error: type[Exception]
) -> None:
    fake.next_operation_error = {"code": code, "message": "it broke", "details": [{"@type": "x", "k": "v"}]}
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    with pytest.raises(error, match="it broke") as info:
        handle.result()
    assert info.value.details == [{"@type": "x", "k": "v"}]  # type: ignore[attr-defined]
    assert not handle.cancelled()


def test_an_error_without_a_code_is_still_an_error(client: LookerClient) -> None:
    """proto3 JSON leaves a zero code out; an operation with an ``error`` failed all the same
    (google-api-core raises too)."""
    handle = client.operation({"name": f"{P}/operations/o1", "done": True, "error": {"message": "boom"}})
    with pytest.raises(exceptions.Unknown, match="boom"):
        handle.result()


def test_polling_survives_transient_errors(fake: FakeLooker, client: LookerClient) -> None:
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    fake.inject(error_reply(503, "busy"), error_reply(429, "slow", {"Retry-After": "0"}), method="GET")
    assert handle.result()["name"] == I


def test_deleted_operation_and_foreign_names(fake: FakeLooker, client: LookerClient) -> None:
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}))
    client.projects.locations.operations.delete(name=handle.name)
    with pytest.raises(exceptions.NotFound):
        handle.refresh()
    with pytest.raises(ValueError, match="not an operation name of this API"):
        client.operation("projects/p1/instances/x")
    with pytest.raises(ValueError, match="no name"):
        client.operation({"done": False})
    with pytest.raises(TypeError):
        client.operation(42)  # type: ignore[arg-type]
    done_without_name = client.operation({"done": True, "response": {"x": 1}})
    assert done_without_name.result() == {"x": 1} and done_without_name.cancel() is False


def test_operation_docstrings_say_so() -> None:
    from looker_v1.resources.projects import ProjectsLocationsInstancesResource as R

    for method in (R.create, R.delete, R.patch, R.restart, R.export, R.import_, R.restore, R.undelete):
        assert "describes a long-running" in (method.__doc__ or ""), method.__name__
    assert "long-running" not in (R.get.__doc__ or "")
    assert isinstance(Operation, type)


# --- the IR rule -------------------------------------------------------------------------

_OPERATION = {
    "id": "Operation",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "done": {"type": "boolean"},
        "error": {"$ref": "Status"},
        "response": {"type": "object", "additionalProperties": {"type": "any"}},
    },
}
_STATUS = {"id": "Status", "type": "object", "properties": {"code": {"type": "integer"}}}
_COMPUTE_OP = {
    "id": "ComputeOp",
    "type": "object",
    "properties": {"name": {"type": "string"}, "status": {"type": "string"}, "error": {"$ref": "Status"}},
}


def _doc(resources: dict[str, Any]) -> discovery.Document:
    doc = {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "ops:v1",
        "name": "ops",
        "version": "v1",
        "revision": "1",
        "title": "Ops",
        "rootUrl": "https://ops.googleapis.com/",
        "servicePath": "",
        "batchPath": "batch",
        "protocol": "rest",
        "schemas": {
            "Operation": _OPERATION,
            "Status": _STATUS,
            "ComputeOp": _COMPUTE_OP,
            "Empty": {"id": "Empty", "type": "object"},
        },
        "resources": resources,
    }
    return discovery.load_bytes(json.dumps(doc).encode(), "ops.json")


def _get(resource: str, pattern: str, response: str = "Operation", verb: str = "get") -> dict[str, Any]:
    return {
        "id": f"ops.{resource}.{verb}",
        "path": "v1/{+name}" + ("" if verb == "get" else f":{verb}"),
        "httpMethod": "GET" if verb == "get" else "POST",
        "parameters": {"name": {"type": "string", "location": "path", "required": True, "pattern": pattern}},
        "response": {"$ref": response if verb == "get" else "Empty"},
    }


def test_ir_finds_operations_resources_generically() -> None:
    lowered = ir.lower(
        _doc(
            {
                "operations": {
                    "methods": {
                        "get": _get("operations", "^operations/.*$"),
                        "cancel": _get("operations", "^operations/.*$", verb="cancel"),
                    }
                },
                "projects": {
                    "resources": {
                        "operations": {
                            "methods": {"get": _get("projects.operations", "^projects/[^/]+/operations/[^/]+$")}
                        }
                    }
                },
            }
        )
    )
    assert [(o.module, o.get_spec, o.cancel_spec) for o in lowered.operations] == [
        ("operations", "_OPERATIONS_GET", "_OPERATIONS_CANCEL"),
        ("projects", "_PROJECTS_OPERATIONS_GET", ""),
    ]
    assert str(lowered.operation_type) == "_s.Operation"
    assert lowered.operation_imports == (
        ("operations", ("_OPERATIONS_GET", "_OPERATIONS_CANCEL")),
        ("projects", ("_PROJECTS_OPERATIONS_GET",)),
    )


def test_ir_ignores_operations_that_are_not_long_running_operations() -> None:
    lowered = ir.lower(
        _doc(
            {
                "zoneOperations": {"methods": {"get": _get("zoneOperations", "^x$", "ComputeOp")}},
                "operations": {"methods": {"get": _get("operations", "^operations/.*$", "ComputeOp")}},
            }
        )
    )
    assert lowered.operations == () and lowered.operation_type is None


def test_generated_api_without_operations_has_no_operation_method() -> None:
    from codegen import render

    output = render.render(_doc({"things": {"methods": {"get": _get("things", "^things/.*$", "Empty")}}}))
    client_source = output.modules["_client.py"].decode()
    assert "def operation(" not in client_source
    output = render.render(_doc({"operations": {"methods": {"get": _get("operations", "^operations/.*$")}}}))
    client_source = output.modules["_client.py"].decode()
    assert "def operation(" in client_source and "((_OPERATIONS_GET, None),)" in client_source


def test_result_timeout_holds_when_polls_stall(fake: FakeLooker, client: LookerClient) -> None:
    """The client's default timeout is 60 s; the wait's own 1.5 s bound cuts each poll short."""
    import time

    from tests.support.loopback import Reply

    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    fake.inject(*(Reply(fault="stall") for _ in range(5)), method="GET")
    started = time.monotonic()
    with pytest.raises(OperationTimeout) as info:
        handle.result(timeout=1.5)
    assert time.monotonic() - started < 1.5 + 2.0
    assert isinstance(info.value.__cause__, TimeoutError)


def test_result_timeout_holds_when_polls_keep_failing(fake: FakeLooker) -> None:
    import time

    client = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url)  # default retry: 120 s deadline
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    fake.server.handler = lambda request: error_reply(503, "down")
    started = time.monotonic()
    with pytest.raises(OperationTimeout) as info:
        handle.result(timeout=1.0)
    assert time.monotonic() - started < 1.0 + 3.0
    assert isinstance(info.value.__cause__, exceptions.ServiceUnavailable)


def test_a_poll_error_before_the_deadline_propagates(fake: FakeLooker, client: LookerClient) -> None:
    handle = client.operation(client.projects.locations.instances.restart(name=I, body={}), polling=FAST_POLL)
    fake.inject(error_reply(403, "no access"), method="GET")
    with pytest.raises(exceptions.PermissionDenied):
        handle.result(timeout=30)

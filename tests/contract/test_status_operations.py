"""Operations whose ``status`` reaches DONE (compute, container, sqladmin): the detection rule,
and handles played through their life (PENDING → RUNNING → DONE, with and without error, a
server-side ``wait`` that returns before DONE) against loopback servers, sync and async."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from gapi_runtime import OperationTimeout, PollingPolicy, RetryPolicy, StatusOperation, StatusOperationKind
from gapi_runtime.spec import MethodSpec, PathParam
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials

from codegen import bundled, discovery, ir
from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer, Recorded, Reply

FAST_POLL = PollingPolicy(initial=0.01, multiplier=1.5, maximum=0.05, timeout=30)
FAST_RETRY = RetryPolicy(initial=0.01, maximum=0.02, timeout=10)
#: selfLinks name Google's hosts; the handle must still poll the client's endpoint.
COMPUTE = "https://www.googleapis.com/compute/v1/"
CONTAINER = "https://container.googleapis.com/"
SQLADMIN = "https://sqladmin.googleapis.com/"


class OperationPlayer:
    """Answers every request that reads an operation it made with the next state of that
    operation (``states``, then the last one again); any other request creates an operation
    located at ``where`` (a path under the selfLink base), answered in its first state."""

    def __init__(
        self, server: LoopbackServer, link_base: str, states: tuple[str, ...] = ("PENDING", "RUNNING", "DONE")
    ):
        self.server = server
        self.link_base = link_base
        self.states = states
        self.where = ""
        self.final: dict[str, Any] = {}
        self.ops: dict[str, tuple[dict[str, Any], Iterator[str]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server.handler = self.handle

    def handle(self, request: Recorded) -> Reply:
        with self._lock:
            path = request.path.removesuffix("/wait").removesuffix("/cancel").removesuffix(":cancel")
            for link, (op, states) in self.ops.items():
                if link.split("://", 1)[1].split("/", 1)[1] == path.lstrip("/"):
                    if request.path.endswith(("cancel",)):
                        return Reply(body={})
                    status = next(states, self.states[-1])
                    op = {**op, "status": status, **(self.final if status == self.states[-1] else {})}
                    self.ops[link] = (op, states)
                    return Reply(body=op)
            name = f"operation-{next(self._ids)}"
            link = f"{self.link_base}{self.where}/{name}"
            states = iter(self.states)
            op = {"name": name, "status": next(states), "selfLink": link, "targetLink": f"{self.link_base}target/x"}
            self.ops[link] = (op, states)
            return Reply(body=op)

    def reads(self) -> list[tuple[str, str]]:
        """(HTTP method, path) of every request after the first (the creating one)."""
        return [(request.method, request.path) for request in self.server.requests[1:]]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    out: Path = tmp_path_factory.mktemp("status_ops")
    loaded = {}
    for name, version in (("compute", "v1"), ("container", "v1"), ("sqladmin", "v1")):
        output = gp.generate_bundled(name, version, out)
        loaded[name] = gp.load(out, output.package)
    # Keep the project folders importable for the async clients' lazy imports.
    with gp.on_path(out / "compute_v1"), gp.on_path(out / "container_v1"), gp.on_path(out / "sqladmin_v1"):
        yield loaded
    for package in ("compute_v1", "container_v1", "sqladmin_v1"):
        gp.forget(package)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def sync_client(packages: dict[str, ModuleType], api: str, server: LoopbackServer, **kwargs: Any) -> Any:
    module = packages[api]
    cls = next(getattr(module, name) for name in module.__all__ if name.endswith("Client") and "Async" not in name)
    kwargs.setdefault("retry", FAST_RETRY)
    return cls(credentials=AnonymousCredentials(), endpoint=server.url, **kwargs)


def async_client(packages: dict[str, ModuleType], api: str, server: LoopbackServer) -> Any:
    module = packages[api]
    cls = next(getattr(module, name) for name in module.__all__ if name.endswith("AsyncClient"))
    return cls(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST_RETRY)


# --- the rule, on the documents ------------------------------------------------------------


def _kinds(name: str, version: str) -> tuple[ir.StatusOperationsIR, ...]:
    return ir.lower(discovery.load_path(bundled.find(name, version).path)).status_operations


def test_the_rule_finds_each_shape_in_the_documents() -> None:
    (compute,) = _kinds("compute", "v1")
    assert (compute.schema, compute.done_value, compute.error_shape) == ("Operation", "DONE", "errors")
    assert (compute.http_status_field, compute.warnings_field, compute.locator) == (
        "httpErrorStatusCode",
        "warnings",
        "selfLink",
    )
    assert sorted(route.wait_id or route.get_id for route in compute.routes) == [
        "compute.globalOperations.wait",
        "compute.globalOrganizationOperations.get",  # no wait method: polled with get
        "compute.regionOperations.wait",
        "compute.zoneOperations.wait",
    ]
    assert "compute.instances.insert" in compute.methods and "compute.zoneOperations.get" not in compute.methods
    (container,) = _kinds("container", "v1")
    assert container.error_shape == "status" and not container.http_status_field
    assert {route.cancel_id for route in container.routes} == {
        "container.projects.zones.operations.cancel",
        "container.projects.locations.operations.cancel",
    }
    (sqladmin,) = _kinds("sqladmin", "v1")
    assert sqladmin.error_shape == "errors" and [r.cancel_id for r in sqladmin.routes] == ["sql.operations.cancel"]
    (dns,) = _kinds("dns", "v1")
    assert dns.done_value == "done" and "no selfLink" in dns.unfollowable and "managedZone" in dns.unfollowable
    assert dns.shape.startswith("not followable")
    assert _kinds("bigquery", "v2") == ()  # Job.status.state has no enum: not this rule


# --- compute ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "call", "poll"),
    [
        (
            "projects/p1/zones/us-central1-a/operations",
            lambda c: c.instances.insert(project="p1", zone="us-central1-a", body={"name": "vm"}),
            ("POST", "/compute/v1/projects/p1/zones/us-central1-a/operations/operation-1/wait"),
        ),
        (
            "projects/p1/regions/us-central1/operations",
            lambda c: c.addresses.insert(project="p1", region="us-central1", body={"name": "ip"}),
            ("POST", "/compute/v1/projects/p1/regions/us-central1/operations/operation-1/wait"),
        ),
        (
            "projects/p1/global/operations",
            lambda c: c.networks.insert(project="p1", body={"name": "net"}),
            ("POST", "/compute/v1/projects/p1/global/operations/operation-1/wait"),
        ),
        (
            "locations/global/operations",
            lambda c: c.firewall_policies.insert(body={"name": "fp"}, parent_id="organizations/1"),
            ("GET", "/compute/v1/locations/global/operations/operation-1"),
        ),
    ],
    ids=["zonal", "regional", "global", "organization"],
)
def test_compute_result_polls_the_resource_the_self_link_names(
    packages: dict[str, ModuleType], server: LoopbackServer, where: str, call: Any, poll: tuple[str, str]
) -> None:
    player = OperationPlayer(server, COMPUTE)
    player.where = where
    client = sync_client(packages, "compute", server)
    op = call(client)
    assert op["status"] == "PENDING"
    handle = client.operation(op, polling=FAST_POLL)
    assert isinstance(handle, StatusOperation) and handle.name == "operation-1" and handle.status == "PENDING"
    final = handle.result()
    # The wait call returned RUNNING (before DONE), so the handle waited again.
    assert player.reads() == [poll, poll]
    assert final["status"] == "DONE" and final["targetLink"] == COMPUTE + "target/x"
    assert handle.done() and handle.exception() is None and handle.warnings == []
    assert len(server.requests) == 3  # done, exception and a second result() send nothing
    assert handle.result() == final
    client.close()


def test_compute_failure_raises_the_http_class_with_every_error(
    packages: dict[str, ModuleType], server: LoopbackServer
) -> None:
    player = OperationPlayer(server, COMPUTE)
    player.where = "projects/p1/zones/z1/operations"
    errors = [
        {"code": "RESOURCE_ALREADY_EXISTS", "message": "The resource 'vm' already exists", "location": "name"},
        {"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded"},
    ]
    player.final = {
        "error": {"errors": errors},
        "httpErrorStatusCode": 409,
        "httpErrorMessage": "CONFLICT",
        "warnings": [{"code": "NO_RESULTS_ON_PAGE", "message": "nothing"}],
    }
    client = sync_client(packages, "compute", server)
    handle = client.operation(client.instances.insert(project="p1", zone="z1", body={}), polling=FAST_POLL)
    with pytest.raises(exceptions.Conflict) as raised:
        handle.result()
    message = str(raised.value)
    assert "RESOURCE_ALREADY_EXISTS" in message and "QUOTA_EXCEEDED" in message and "(location: name)" in message
    assert raised.value.errors == errors and raised.value.code == 409
    assert "operation operation-1" in message
    assert isinstance(handle.exception(), exceptions.Conflict)
    assert handle.warnings == [{"code": "NO_RESULTS_ON_PAGE", "message": "nothing"}]
    client.close()


def test_compute_done_refresh_cancel_and_locating(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, COMPUTE)
    player.where = "projects/p1/zones/z1/operations"
    client = sync_client(packages, "compute", server)
    op = client.instances.insert(project="p1", zone="z1", body={})
    handle = client.operation(op["selfLink"])  # a selfLink is enough
    assert handle.status is None and "status=None" in repr(handle)
    assert handle.done() is False and handle.status == "RUNNING"
    assert handle.refresh()["status"] == "DONE"
    assert handle.done() is True
    assert player.reads() == [("GET", "/compute/v1/projects/p1/zones/z1/operations/operation-1")] * 2
    assert handle.cancel() is False  # known to be done: nothing sent
    running = client.operation({**op, "name": "operation-9", "selfLink": op["selfLink"][:-1] + "9"})
    with pytest.raises(exceptions.MethodNotImplemented, match="no cancel method"):
        running.cancel()
    assert client.operation(handle).done()  # a handle is accepted too
    with pytest.raises(ValueError, match="matches none of"):
        client.operation({"status": "PENDING", "selfLink": "https://example.com/elsewhere/operations/x"})
    with pytest.raises(ValueError, match="has no selfLink"):
        client.operation({"status": "PENDING", "name": "operation-1"})
    client.close()


def test_compute_wait_that_times_out_is_polled_again(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, COMPUTE, states=("PENDING", "DONE"))
    player.where = "projects/p1/zones/z1/operations"
    client = sync_client(packages, "compute", server, timeout=0.3)
    handle = client.operation(client.instances.insert(project="p1", zone="z1", body={}))
    server.reply(Reply(body={}, delay=1.0))  # the server holds the first wait longer than the client waits
    final = handle.result(polling=PollingPolicy(initial=0.01, maximum=0.01, timeout=None))
    assert final["status"] == "DONE" and len(player.reads()) >= 2
    assert all(read[1].endswith("/wait") for read in player.reads())
    client.close()


def test_compute_wait_is_retried_like_a_read(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, COMPUTE, states=("PENDING", "DONE"))
    player.where = "projects/p1/zones/z1/operations"
    client = sync_client(packages, "compute", server)
    handle = client.operation(client.instances.insert(project="p1", zone="z1", body={}))
    server.reply(Reply(status=503, body={"error": {"code": 503, "message": "backend unavailable"}}))
    assert handle.result(polling=PollingPolicy(initial=0.01, maximum=0.01, timeout=None))["status"] == "DONE"
    wait = ("POST", "/compute/v1/projects/p1/zones/z1/operations/operation-1/wait")
    assert player.reads() == [wait, wait]  # the 503 was retried although wait is a POST
    with pytest.raises(exceptions.ServiceUnavailable):  # an ordinary POST is not retried
        server.reply(Reply(status=503, body={"error": {"code": 503, "message": "no"}}))
        client.instances.insert(project="p1", zone="z1", body={})
    client.close()


def test_compute_result_gives_up_after_its_timeout(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, COMPUTE, states=("PENDING", "RUNNING", "DONE"))
    player.final = {"status": "RUNNING"}  # never done
    player.where = "projects/p1/global/operations"
    client = sync_client(packages, "compute", server)
    handle = client.operation(client.networks.insert(project="p1", body={}))
    with pytest.raises(OperationTimeout, match=r"operation-1 is not done after 0\.2 s"):
        handle.result(timeout=0.2, polling=FAST_POLL)
    client.close()


# --- container ----------------------------------------------------------------------------


def test_container_zonal_operation_fails_with_its_rpc_status(
    packages: dict[str, ModuleType], server: LoopbackServer
) -> None:
    player = OperationPlayer(server, CONTAINER)
    player.where = "v1/projects/123/zones/us-central1-a/operations"
    player.final = {"error": {"code": 9, "message": "cluster is being upgraded"}}
    client = sync_client(packages, "container", server)
    op = client.projects.zones.clusters.create(project_id="p1", zone="us-central1-a", body={"cluster": {}})
    handle = client.operation(op, polling=FAST_POLL)
    with pytest.raises(exceptions.FailedPrecondition, match="cluster is being upgraded"):
        handle.result()
    poll = ("GET", "/v1/projects/123/zones/us-central1-a/operations/operation-1")
    assert player.reads() == [poll, poll]
    client.close()


def test_container_location_operation_succeeds_and_cancels(
    packages: dict[str, ModuleType], server: LoopbackServer
) -> None:
    player = OperationPlayer(server, CONTAINER)
    player.where = "v1/projects/123/locations/us-central1/operations"
    client = sync_client(packages, "container", server)
    op = client.projects.locations.clusters.create(parent="projects/p1/locations/us-central1", body={"cluster": {}})
    handle = client.operation(op, polling=FAST_POLL)
    assert handle.cancel() is True
    assert player.reads() == [("POST", "/v1/projects/123/locations/us-central1/operations/operation-1:cancel")]
    assert handle.result()["status"] == "DONE"
    assert player.reads()[1:] == [("GET", "/v1/projects/123/locations/us-central1/operations/operation-1")] * 2
    client.close()


# --- sqladmin ---------------------------------------------------------------------------


def test_sqladmin_operation_life_and_failure(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, SQLADMIN)
    player.where = "v1/projects/p1/operations"
    client = sync_client(packages, "sqladmin", server)
    handle = client.operation(client.instances.insert(project="p1", body={"name": "db"}), polling=FAST_POLL)
    assert handle.result()["status"] == "DONE"
    assert player.reads() == [("GET", "/v1/projects/p1/operations/operation-1")] * 2
    player.final = {
        "error": {
            "kind": "sql#operationErrors",
            "errors": [
                {"kind": "sql#operationError", "code": "ERROR_CODE_A", "message": "first"},
                {"kind": "sql#operationError", "code": "ERROR_CODE_B", "message": "second"},
            ],
        }
    }
    failing = client.operation(client.instances.delete(project="p1", instance="db"), polling=FAST_POLL)
    assert failing.cancel() is True
    assert server.requests[-1].method == "POST" and server.requests[-1].path.endswith("/operation-2/cancel")
    error = failing.exception()
    assert isinstance(error, exceptions.Unknown)  # no HTTP status in a sqladmin operation
    assert "ERROR_CODE_A: first; ERROR_CODE_B: second" in str(error) and len(error.errors) == 2
    client.close()


def test_a_link_naming_another_version_of_the_api_still_locates_the_operation(
    packages: dict[str, ModuleType], server: LoopbackServer
) -> None:
    # Cloud SQL's v1 and v1beta4 share operations: a v1 client given a v1beta4 link polls its own
    # v1 route, at its own endpoint. A link that matches no route, even so, is still refused.
    player = OperationPlayer(server, SQLADMIN)
    client = sync_client(packages, "sqladmin", server)
    link = f"{SQLADMIN}sql/v1beta4/projects/p1/operations/op-7"
    player.ops[f"{SQLADMIN}v1/projects/p1/operations/op-7"] = ({"name": "op-7", "selfLink": link}, iter(["DONE"]))
    handle = client.operation({"name": "op-7", "status": "RUNNING", "selfLink": link}, polling=FAST_POLL)
    assert handle.result()["status"] == "DONE"
    sent = [(request.method, request.path) for request in server.requests]
    assert sent == [("GET", "/v1/projects/p1/operations/op-7")]
    with pytest.raises(ValueError, match="is not the URL of an operation of this API"):
        client.operation({"status": "RUNNING", "selfLink": f"{SQLADMIN}sql/v1beta4/projects/p1/instances/db"})
    client.close()


# --- async ------------------------------------------------------------------------------


def test_async_compute_and_container(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    from gapi_runtime.aio import AsyncStatusOperation

    player = OperationPlayer(server, COMPUTE)
    player.where = "projects/p1/zones/z1/operations"

    async def main() -> None:
        async with async_client(packages, "compute", server) as client:
            handle = client.operation(await client.instances.insert(project="p1", zone="z1", body={}))
            assert isinstance(handle, AsyncStatusOperation)
            final = await handle.result(polling=FAST_POLL)
            assert final["status"] == "DONE" and await handle.done() and await handle.exception() is None
            wait = ("POST", "/compute/v1/projects/p1/zones/z1/operations/operation-1/wait")
            assert player.reads() == [wait, wait]
            player.final = {"error": {"errors": [{"code": "E1", "message": "m1"}]}, "httpErrorStatusCode": 404}
            failing = client.operation(await client.instances.delete(project="p1", zone="z1", instance="vm"))
            with pytest.raises(exceptions.NotFound, match="E1: m1"):
                await failing.result(polling=FAST_POLL)
            with pytest.raises(exceptions.MethodNotImplemented):
                await client.operation({**failing.operation, "status": "RUNNING"}).cancel()

    asyncio.run(main())


def test_async_container_cancel(packages: dict[str, ModuleType], server: LoopbackServer) -> None:
    player = OperationPlayer(server, CONTAINER)
    player.where = "v1/projects/123/zones/z1/operations"

    async def main() -> None:
        async with async_client(packages, "container", server) as client:
            op = await client.projects.zones.clusters.delete(project_id="p1", zone="z1", cluster_id="c1")
            handle = client.operation(op, polling=FAST_POLL)
            assert await handle.cancel() is True
            assert (await handle.result())["status"] == "DONE"
            assert player.reads()[0] == ("POST", "/v1/projects/123/zones/z1/operations/operation-1:cancel")

    asyncio.run(main())


# --- the runtime without a generated package ------------------------------------------------


def test_an_unfollowable_kind_raises_its_reason() -> None:
    get: MethodSpec[Any] = MethodSpec(
        "x.managedZoneOperations.get",
        "GET",
        ("p/", "/z/", "/operations/", ""),
        (PathParam("project"), PathParam("managedZone"), PathParam("operation")),
    )
    kind = StatusOperationKind(
        "Operation",
        ((get, None, None),),
        done_value="done",
        locator="",
        unfollowable="Operation has no selfLink to locate it",
    )
    with pytest.raises(ValueError, match="cannot be followed: Operation has no selfLink"):
        StatusOperation(None, {"status": "pending", "id": "1"}, (kind,))  # type: ignore[arg-type]
    assert kind.claims({"status": "pending"}) and not kind.claims({"done": False, "name": "operations/1"})
    assert kind.claims("https://x/p/1") and not kind.claims("operations/1")


def test_codegen_operations_reports_each_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from codegen.cli import main

    assert main(["operations", "dns", "v1"]) == 0
    out = capsys.readouterr().out
    assert "dns v1: google.longrunning GoogleLongrunningOperation" in out
    assert "dns v1: not followable Operation: Operation has no selfLink" in out
    assert "  dns.managedZones.patch\n" in out
    assert main(["operations", "sqladmin", "v1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sqladmin v1: status DONE Operation: status == 'DONE', error.errors[], located by selfLink")
    assert "  sql.instances.insert\n" in out and "sql.operations.get" not in out.split("\n", 1)[1]


def test_apis_with_both_kinds_dispatch_on_the_value() -> None:
    from gapi_runtime import Operation, operation_handle

    get: MethodSpec[Any] = MethodSpec("x.operations.get", "GET", ("v1/", ""), (PathParam("name", True),))
    zone_get: MethodSpec[Any] = MethodSpec("x.managedZoneOperations.get", "GET", ("p/", ""), (PathParam("op"),))
    kind = StatusOperationKind("Operation", ((zone_get, None, None),), locator="", unfollowable="no selfLink")
    lro = operation_handle(None, {"name": "operations/1", "done": True}, ((get, None),), (kind,))  # type: ignore[arg-type]
    assert isinstance(lro, Operation) and lro.name == "operations/1"
    assert isinstance(operation_handle(None, "operations/2", ((get, None),), (kind,)), Operation)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot be followed: no selfLink"):
        operation_handle(None, {"status": "pending"}, ((get, None),), (kind,))  # type: ignore[arg-type]

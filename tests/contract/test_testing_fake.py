"""The generated in-memory fakes (``<package>.testing.Fake<Api>``) through the generated clients.

Looker's whole life through the sync and the async client; the same life for Secret Manager v1,
Workflows v1 and Cloud Run v2, whose behaviour the fake infers by the same rules; an API it
cannot infer (Translate v2: every method answers 501, nothing crashes); every method of several
APIs routed to itself; faults, handlers, seeding, virtual time; a user's small program.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from gapi_runtime import ConnectError, OperationTimeout
from gapi_runtime.testing import FakeApi, FakeError, FakeRequest, Reply, VirtualClock
from google.api_core import exceptions
from looker_v1 import LookerClient
from looker_v1.testing import FakeLooker

from codegen import bundled, discovery, ir
from tests.support import equivalence
from tests.support import generated_packages as gp

P = "projects/p1/locations/us-central1"
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


# --- Looker: the life, sync ------------------------------------------------------------------


def test_looker_life_through_the_sync_client() -> None:
    fake = FakeLooker(polls_to_done=2)
    client = fake.client()
    instances = client.projects.locations.instances

    op = instances.create(parent=P, instance_id="a", body={"platformEdition": "LOOKER_CORE_STANDARD"})
    assert op["done"] is False and op["name"].startswith(P + "/operations/operation-")
    assert op["metadata"]["verb"] == "create" and op["metadata"]["target"] == f"{P}/instances/a"
    with pytest.raises(exceptions.NotFound):  # the change is applied when the operation is done
        instances.get(name=f"{P}/instances/a")
    with pytest.raises(exceptions.Conflict):  # ... but the name is taken
        instances.create(parent=P, instance_id="a", body={})
    handle = client.operation(op)
    created = handle.result()
    assert created == {"platformEdition": "LOOKER_CORE_STANDARD", "name": f"{P}/instances/a"}
    polls = [r for r in fake.requests if r.method_id.endswith("operations.get")]
    assert len(polls) == 2
    assert fake.clock.monotonic() == pytest.approx(1.0)  # one virtual second of polling, none real

    assert instances.get(name=f"{P}/instances/a") == created
    for name in ("b", "c"):
        client.operation(instances.create(parent=P, instance_id=name, body={})).result()

    first = instances.list(parent=P, page_size=2)
    assert [i["name"] for i in first["instances"]] == [f"{P}/instances/a", f"{P}/instances/b"]
    second = instances.list(parent=P, page_size=2, page_token=first["nextPageToken"])
    assert [i["name"] for i in second["instances"]] == [f"{P}/instances/c"] and "nextPageToken" not in second
    assert [i["name"] for i in instances.list_all(parent=P, page_size=2)] == [f"{P}/instances/{n}" for n in "abc"]
    assert instances.list(parent="projects/p1/locations/-")["instances"][0]["name"] == f"{P}/instances/a"

    patched = client.operation(
        instances.patch(
            name=f"{P}/instances/a",
            update_mask="platformEdition,publicIpEnabled",
            body={"platformEdition": "LOOKER_CORE_ENTERPRISE_ANNUAL", "publicIpEnabled": True, "consumerNetwork": "x"},
        )
    ).result()
    assert patched == {
        "platformEdition": "LOOKER_CORE_ENTERPRISE_ANNUAL",
        "publicIpEnabled": True,
        "name": f"{P}/instances/a",
    }  # consumerNetwork is not in the mask
    assert fake.resources[f"{P}/instances/a"] == patched

    with pytest.raises(exceptions.MethodNotImplemented) as unimplemented:
        instances.restart(name=f"{P}/instances/a", body={})
    assert "fake.on('looker.projects.locations.instances.restart'" in str(unimplemented.value)
    restarts: list[str] = []

    def restart(request: FakeRequest) -> Any:
        restarts.append(request.resource_name)
        return request.fake.resources[request.resource_name]

    fake.on("instances.restart", restart)
    assert client.operation(instances.restart(name=f"{P}/instances/a", body={})).result() == patched
    assert restarts == [f"{P}/instances/a"]

    assert client.operation(instances.delete(name=f"{P}/instances/a")).result() == {}
    with pytest.raises(exceptions.NotFound) as missing:
        instances.get(name=f"{P}/instances/a")
    assert missing.value.code == 404 and f"{P}/instances/a" in str(missing.value)

    unfinished = client.operation(instances.create(parent=P, instance_id="z", body={}))
    assert unfinished.cancel() is True
    assert unfinished.cancelled() is True
    assert unfinished.operation["error"]["code"] == 1
    with pytest.raises(exceptions.Cancelled):
        unfinished.result()
    assert fake.operations[unfinished.name]["done"] is True  # not deleted
    assert f"{P}/instances/z" not in fake.resources  # and its change never applied
    client.operation(instances.create(parent=P, instance_id="z", body={})).result()  # the name is free again

    operations = client.projects.locations.operations
    listed = [op["name"] for op in operations.list_all(name=P, page_size=3)]
    assert listed == sorted(fake.operations) and len(listed) == 8
    operations.delete(name=listed[0])
    with pytest.raises(exceptions.NotFound):
        operations.get(name=listed[0])
    assert fake.clock.sleeps and all(s <= 20 for s in fake.clock.sleeps)


# --- Looker: the life, async -----------------------------------------------------------------


def test_looker_life_through_the_async_client() -> None:
    async def life() -> None:
        fake = FakeLooker(polls_to_done=3)
        async with fake.async_client() as client:
            instances = client.projects.locations.instances
            op = await instances.create(parent=P, instance_id="a", body={"platformEdition": "LOOKER_CORE_STANDARD"})
            created = await client.operation(op).result()
            assert created == {"platformEdition": "LOOKER_CORE_STANDARD", "name": f"{P}/instances/a"}
            assert await instances.get(name=f"{P}/instances/a") == created
            # Several creates waited for together: their polls overlap in virtual time.
            ops = [await instances.create(parent=P, instance_id=n, body={}) for n in "bcd"]
            before = fake.clock.monotonic()
            await asyncio.gather(*(client.operation(o).result() for o in ops))
            assert fake.clock.monotonic() - before == 2.5  # 1 s + 1.5 s, not three times that
            first = await instances.list(parent=P, page_size=2)
            second = await instances.list(parent=P, page_size=2, page_token=first["nextPageToken"])
            assert len(first["instances"]) == 2 and len(second["instances"]) == 2 and "nextPageToken" not in second
            assert [i["name"] async for i in instances.list_all(parent=P, page_size=3)] == [
                f"{P}/instances/{n}" for n in "abcd"
            ]
            patched = await client.operation(
                await instances.patch(name=f"{P}/instances/a", update_mask="platform_edition", body={})
            ).result()
            assert patched == {"name": f"{P}/instances/a"}  # in the mask, not in the body: cleared
            with pytest.raises(exceptions.MethodNotImplemented):
                await instances.restart(name=f"{P}/instances/a", body={})
            fake.on("looker.projects.locations.instances.restart", lambda request: {"restarted": True})
            assert await client.operation(await instances.restart(name=f"{P}/instances/a", body={})).result() == {
                "restarted": True
            }
            await client.operation(await instances.delete(name=f"{P}/instances/a")).result()
            with pytest.raises(exceptions.NotFound):
                await instances.get(name=f"{P}/instances/a")
            unfinished = client.operation(await instances.create(parent=P, instance_id="z", body={}))
            assert await unfinished.cancel() is True
            assert await unfinished.cancelled() is True
            assert unfinished.operation["error"]["code"] == 1
            assert fake.operations[unfinished.name]["error"]["code"] == 1

    run(life())


# --- three more AIP-style APIs, by the rule alone --------------------------------------------


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    out = tmp_path_factory.mktemp("fakes")
    loaded = {}
    apis = (
        ("secretmanager", "v1"),
        ("workflows", "v1"),
        ("run", "v2"),
        ("translate", "v2"),
        ("drive", "v3"),
        ("pubsub", "v1"),
    )
    for name, version in apis:
        output = gp.generate_bundled(name, version, out)
        gp.load(out, output.package)
        loaded[output.package] = _testing_module(out, output.package)
    yield loaded
    for package in loaded:
        gp.forget(package)


def _testing_module(out: Path, package: str) -> ModuleType:
    with gp.on_path(out / package):
        import importlib

        return importlib.import_module(f"{package}.testing")


def _fake(module: ModuleType, **options: Any) -> FakeApi[Any, Any]:
    classes = [value for name, value in vars(module).items() if name.startswith("Fake") and isinstance(value, type)]
    assert len(classes) == 1
    fake: FakeApi[Any, Any] = classes[0](**options)
    return fake


def test_secretmanager_life(packages: dict[str, ModuleType]) -> None:
    fake = _fake(packages["secretmanager_v1"])
    assert type(fake).__name__ == "FakeSecretManager"
    client = fake.client()
    secrets = client.projects.secrets
    parent = "projects/p1"
    created = secrets.create(parent=parent, secret_id="db-password", body={"replication": {"automatic": {}}})
    assert created == {"replication": {"automatic": {}}, "name": f"{parent}/secrets/db-password"}  # no operation
    assert secrets.get(name=f"{parent}/secrets/db-password") == created
    for n in range(1, 4):
        secrets.create(parent=parent, secret_id=f"s{n}", body={"labels": {"n": str(n)}})
    first = secrets.list(parent=parent, page_size=3)
    second = secrets.list(parent=parent, page_size=3, page_token=first["nextPageToken"])
    assert len(first["secrets"]) == 3 and len(second["secrets"]) == 1
    patched = secrets.patch(name=f"{parent}/secrets/s1", update_mask="labels", body={"labels": {"n": "one"}, "x": 1})
    assert patched == {"labels": {"n": "one"}, "name": f"{parent}/secrets/s1"}
    with pytest.raises(exceptions.MethodNotImplemented):  # a custom method
        secrets.add_version(parent=f"{parent}/secrets/s1", body={"payload": {"data": "aGk="}})
    fake.on("projects.secrets.addVersion", lambda r: {"name": f"{r.resource_name}/versions/1", "state": "ENABLED"})
    version = secrets.add_version(parent=f"{parent}/secrets/s1", body={"payload": {"data": "aGk="}})
    assert version == {"name": f"{parent}/secrets/s1/versions/1", "state": "ENABLED"}
    assert secrets.delete(name=f"{parent}/secrets/s1") == {}
    with pytest.raises(exceptions.NotFound):
        secrets.get(name=f"{parent}/secrets/s1")
    with pytest.raises(exceptions.BadRequest, match="set_filter"):  # filters are the user's hook
        secrets.list(parent=parent, filter="labels.n=2")
    fake.set_filter(lambda expression, item: item.get("labels", {}).get("n") == expression.rsplit("=", 1)[1])
    assert [s["name"] for s in secrets.list(parent=parent, filter="labels.n=2")["secrets"]] == [f"{parent}/secrets/s2"]
    # The regional twin resource lives beside it, keyed by its own names.
    regional = client.projects.locations.secrets.create(parent=P, secret_id="r", body={})
    assert regional["name"] == f"{P}/secrets/r" and len(fake.resources) == 4


def test_workflows_life(packages: dict[str, ModuleType]) -> None:
    fake = _fake(packages["workflows_v1"], polls_to_done=1)
    client = fake.client()
    workflows = client.projects.locations.workflows
    created = client.operation(
        workflows.create(parent=P, workflow_id="w1", body={"sourceContents": "main: {}"})
    ).result()
    assert created == {"sourceContents": "main: {}", "name": f"{P}/workflows/w1"}
    client.operation(workflows.create(parent=P, workflow_id="w2", body={})).result()
    assert workflows.get(name=f"{P}/workflows/w1") == created
    first = workflows.list(parent=P, page_size=1)
    assert [w["name"] for w in first["workflows"]] == [f"{P}/workflows/w1"]
    assert [w["name"] for w in workflows.list(parent=P, page_token=first["nextPageToken"])["workflows"]] == [
        f"{P}/workflows/w2"
    ]
    patched = client.operation(
        workflows.patch(name=f"{P}/workflows/w1", update_mask="description", body={"description": "d"})
    ).result()
    assert patched["description"] == "d" and patched["sourceContents"] == "main: {}"
    with pytest.raises(exceptions.MethodNotImplemented):
        workflows.list_revisions(name=f"{P}/workflows/w1")
    client.operation(workflows.delete(name=f"{P}/workflows/w1")).result()
    with pytest.raises(exceptions.NotFound):
        workflows.get(name=f"{P}/workflows/w1")
    unfinished = client.operation(workflows.create(parent=P, workflow_id="w3", body={}))
    with pytest.raises(exceptions.MethodNotImplemented):  # Workflows has no operations.cancel
        unfinished.cancel()
    assert [op["done"] for op in client.projects.locations.operations.list(name=P)["operations"]][-1] is False


def test_cloud_run_life_async(packages: dict[str, ModuleType]) -> None:
    fake = _fake(packages["run_v2"])

    async def life() -> None:
        async with fake.async_client() as client:
            services = client.projects.locations.services
            body = {"template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]}}
            dry = await client.operation(
                await services.create(parent=P, service_id="web", body=body, validate_only=True)
            ).result()
            assert dry["name"] == f"{P}/services/web" and fake.resources == {}  # validate only
            created = await client.operation(await services.create(parent=P, service_id="web", body=body)).result()
            assert created == {**body, "name": f"{P}/services/web"}
            await client.operation(await services.create(parent=P, service_id="api", body={})).result()
            first = await services.list(parent=P, page_size=1)
            second = await services.list(parent=P, page_size=1, page_token=first["nextPageToken"])
            assert "nextPageToken" not in second
            assert [s["name"] for s in first["services"] + second["services"]] == [
                f"{P}/services/api",
                f"{P}/services/web",
            ]
            patched = await client.operation(
                await services.patch(name=f"{P}/services/web", update_mask="labels", body={"labels": {"a": "b"}})
            ).result()
            assert patched["labels"] == {"a": "b"} and patched["template"] == body["template"]
            with pytest.raises(exceptions.MethodNotImplemented):
                await services.get_iam_policy(resource=f"{P}/services/web")
            upserted = await client.operation(
                await services.patch(name=f"{P}/services/new", allow_missing=True, body={"labels": {"x": "y"}})
            ).result()
            assert upserted == {"name": f"{P}/services/new", "labels": {"x": "y"}}
            op = await services.delete(name=f"{P}/services/web")
            waited = await client.projects.locations.operations.wait(name=op["name"], body={})  # operations.wait
            assert waited["done"] is True and waited["response"] == {}
            with pytest.raises(exceptions.NotFound):
                await services.get(name=f"{P}/services/web")

    run(life())


def test_an_api_the_rules_cannot_place_answers_501(packages: dict[str, ModuleType]) -> None:
    """Translate v2 has no AIP-style methods: every one answers 501, and nothing else breaks."""
    fake = _fake(packages["translate_v2"])
    assert {fake.kind(method) for method in fake.method_ids} == {"custom"}
    client = fake.client()
    for call in (
        lambda: client.translations.translate(body={"q": ["hi"], "target": "de"}),
        lambda: client.languages.list(),
        lambda: client.detections.list(q=["hola"]),
    ):
        with pytest.raises(exceptions.MethodNotImplemented):
            call()
    fake.on("translations.translate", lambda r: {"translations": [{"translatedText": "hallo"}]})
    assert client.translations.translate(body={"q": ["hi"], "target": "de"}) == {
        "translations": [{"translatedText": "hallo"}]
    }


def test_a_drive_style_api_keeps_the_users_name_and_identifies_by_id(packages: dict[str, ModuleType]) -> None:
    """Drive addresses files as ``files/{fileId}``: ``name`` is the user's title, ``id`` the key."""
    fake = _fake(packages["drive_v3"])
    drive = fake.client()
    created = drive.files.create(body={"name": "report.csv", "mimeType": "text/csv"})
    assert created == {"name": "report.csv", "mimeType": "text/csv", "id": "file-1"}
    assert drive.files.get(file_id=created["id"]) == created
    assert drive.files.update(file_id="file-1", body={"name": "renamed.csv"})["name"] == "renamed.csv"
    assert [item["name"] for item in drive.files.list_all()] == ["renamed.csv"]
    drive.files.delete(file_id="file-1")
    with pytest.raises(exceptions.NotFound):
        drive.files.get(file_id="file-1")
    with pytest.raises(exceptions.MethodNotImplemented, match="does not simulate media uploads"):
        drive.files.create(body={"name": "b.txt"}, media_body=b"hello", media_mime_type="text/plain")


def test_a_patch_whose_body_wraps_the_resource_updates_it(packages: dict[str, ModuleType]) -> None:
    """Pub/Sub's topics.patch takes UpdateTopicRequest: ``{"topic": {...}, "updateMask": ...}``."""
    fake = _fake(packages["pubsub_v1"])
    name = "projects/p/topics/t"
    fake.seed(name, {"labels": {"k": "old", "keep": "me"}, "messageRetentionDuration": "600s"})
    body = {"topic": {"labels": {"k": "new"}, "messageRetentionDuration": "60s"}, "updateMask": "labels"}
    patched = fake.client().projects.topics.patch(name=name, body=body)
    assert patched == {"labels": {"k": "new"}, "messageRetentionDuration": "600s", "name": name}
    assert fake.resources[name] == patched
    # Its creates PUT the new resource at its own name.
    client = fake.client()
    assert fake.kind("topics.create") == "create-at"
    assert client.projects.topics.create(name="projects/p/topics/u", body={"labels": {"a": "b"}}) == {
        "labels": {"a": "b"},
        "name": "projects/p/topics/u",
    }
    with pytest.raises(exceptions.Conflict):
        client.projects.topics.create(name="projects/p/topics/u", body={})
    assert [topic["name"] for topic in client.projects.topics.list_all(project="projects/p")] == [
        name,
        "projects/p/topics/u",
    ]


def test_fake_controls_refuse_misuse_clearly() -> None:
    from looker_v1.testing import FakeLooker

    fake = FakeLooker()
    with pytest.raises(TypeError, match="takes Reply objects"):
        fake.inject("instances.get", 500)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no operation named 'nope'"):
        fake.fail_operation("nope", 9, "m")
    with pytest.raises(ValueError, match="other than 0"):
        fake.fail_operation("nope", 0, "m")


@pytest.mark.parametrize(
    "api",
    [
        ("looker", "v1"),
        ("secretmanager", "v1"),
        ("run", "v2"),
        ("bigqueryreservation", "v1alpha2"),  # `reservations/.*` and `reservations/[^/]+/slotPools/[^/]+`
        ("baremetalsolution", "v1alpha1"),  # `{+project}/{+location}:submitProvisioningConfig`
        ("container", "v1"),  # `{+name}:fetchClusterUpgradeInfo` beside `projects/{projectId}/…/{clusterId}`
    ],
)
def test_every_method_reaches_itself_and_nothing_crashes(api: tuple[str, str], tmp_path: Path) -> None:
    """Every method of the API, called with synthesized arguments through the fake's client:
    routed to the method that was called, and answered with a result or a google-api-core error."""
    path = bundled.find(*api).path
    document = discovery.load_path(path)
    client_ir = ir.lower(document)
    output = gp.generate_path(path, tmp_path)
    gp.load(tmp_path, output.package)
    try:
        fake = _fake(_testing_module(tmp_path, output.package))
        client = fake.client(retry=None)
        routed = 0
        cases = list(equivalence.cases(json.loads(document.raw), client_ir))
        for case in cases:
            parameters = case.description.get("parameters", {})
            kwargs = {case.param_names[n]: equivalence.argument_value(s) for n, s in sorted(parameters.items())}
            if case.body_keyword:
                kwargs["body"] = {}
            target: Any = client
            for name in case.generated_path:
                target = getattr(target, name)
            try:
                with equivalence._no_deprecation_warnings():
                    target(**kwargs)
            except exceptions.GoogleAPICallError:
                pass
            routed += fake.requests[-1].method_id == case.method_id
        assert routed == len(cases), f"{len(cases) - routed} of {len(cases)} methods routed elsewhere"
    finally:
        gp.forget(output.package)


# --- faults, retries, virtual time -----------------------------------------------------------


def test_injected_faults_are_retried_in_virtual_time() -> None:
    fake = FakeLooker()
    fake.seed(f"{P}/instances/a", {"state": "ACTIVE"})
    client = fake.client()
    fake.inject(
        "instances.get",
        Reply.error(503),
        Reply.error(429, headers={"retry-after": "30"}),
        Reply.dropped(),
    )
    started = time.monotonic()
    assert client.projects.locations.instances.get(name=f"{P}/instances/a")["state"] == "ACTIVE"
    assert time.monotonic() - started < 1.0  # 30 s of Retry-After cost nothing
    gets = [r for r in fake.requests if r.method_id.endswith("instances.get")]
    assert len(gets) == 4 and 30 in fake.clock.sleeps

    # POST is not retried: the fault reaches the caller as the typed error.
    fake.inject("instances.create", Reply.error(503, "try later"))
    with pytest.raises(exceptions.ServiceUnavailable, match="try later"):
        client.projects.locations.instances.create(parent=P, instance_id="b", body={})
    # A connection dropped after the server handled the request: the change happened.
    fake.inject("instances.create", Reply.dropped(response_started=True))
    with pytest.raises(ConnectError):
        client.projects.locations.instances.create(parent=P, instance_id="b", body={})
    assert fake.operations and f"{P}/instances/b" in {op["metadata"]["target"] for op in fake.operations.values()}
    # Faults for any method.
    fake.inject("*", Reply.error(500))
    with pytest.raises(exceptions.InternalServerError):
        client.projects.locations.instances.get(name=f"{P}/instances/a", retry=None)
    with pytest.raises(ValueError, match=r"has no method 'instances\.gte'"):
        fake.inject("instances.gte", Reply.error(500))


def test_operation_timeout_is_virtual() -> None:
    fake = FakeLooker(polls_to_done=10**6)
    client = fake.client()
    handle = client.operation(client.projects.locations.instances.create(parent=P, instance_id="a", body={}))
    started = time.monotonic()
    with pytest.raises(OperationTimeout):
        handle.result(timeout=600)
    assert time.monotonic() - started < 2.0 and fake.clock.monotonic() >= 600
    fake.finish_operations()
    assert handle.result()["name"] == f"{P}/instances/a"


def test_seeded_state_failed_operations_and_errors() -> None:
    clock = VirtualClock(start=100)
    fake = FakeLooker(polls_to_done=0, clock=clock)
    fake.seed(f"{P}/instances/old", {"state": "ACTIVE"})
    client = fake.client()
    instances = client.projects.locations.instances
    assert instances.list(parent=P)["instances"] == [{"state": "ACTIVE", "name": f"{P}/instances/old"}]
    op = instances.create(parent=P, instance_id="new", body={})
    assert op["done"] is True  # polls_to_done=0: done at once
    with pytest.raises(exceptions.AlreadyExists):
        instances.create(parent=P, instance_id="new", body={})
    with pytest.raises(ValueError):  # the client checks patterns before any request
        instances.get(name="projects/p1/instances/x")
    with pytest.raises(exceptions.BadRequest, match="pageToken"):
        instances.list(parent=P, page_token="bogus")

    slow = FakeLooker(polls_to_done=5)
    slow_client = slow.client()
    handle = slow_client.operation(slow_client.projects.locations.instances.create(parent=P, instance_id="x", body={}))
    slow.fail_operation(handle.name, 9, "quota")
    with pytest.raises(exceptions.FailedPrecondition, match="quota"):
        handle.result()

    def conflict(request: FakeRequest) -> Any:
        raise FakeError(409, "busy", rpc_status="ABORTED")

    slow.on("instances.get", conflict)
    with pytest.raises(exceptions.Aborted, match="busy"):
        slow_client.projects.locations.instances.get(name=f"{P}/instances/x")
    slow.on("instances.get", None)
    with pytest.raises(exceptions.NotFound):
        slow_client.projects.locations.instances.get(name=f"{P}/instances/x")
    assert repr(slow).startswith("<FakeLooker: 0 resources, 1 operations")


# --- a user's small program --------------------------------------------------------------------


def provision(client: LookerClient, parent: str, names: list[str]) -> list[str]:
    """A user's program: create instances, wait for each, list them, delete one."""
    for name in names:
        op = client.projects.locations.instances.create(parent=parent, instance_id=name, body={})
        client.operation(op).result(timeout=3600)
    listed = [i["name"] for i in client.projects.locations.instances.list_all(parent=parent)]
    client.operation(client.projects.locations.instances.delete(name=listed[0])).result()
    return listed


def test_a_users_program_against_the_fake(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    fake = FakeLooker()
    listed = provision(fake.client(), P, ["a", "b", "c"])
    seconds = time.perf_counter() - started
    assert listed == [f"{P}/instances/{n}" for n in "abc"]
    assert sorted(fake.resources) == [f"{P}/instances/b", f"{P}/instances/c"]
    with capsys.disabled():
        print(f"\n[figure] user's program (3 creates waited, list, delete) against FakeLooker: {seconds * 1000:.1f} ms")


# --- typing: a user's test type-checks -----------------------------------------------------------


def test_fake_clients_are_the_generated_types() -> None:
    fake = FakeLooker()
    client: LookerClient = fake.client()
    assert type(client) is LookerClient
    assert fake.kind("instances.create") == "create" and fake.kind("operations.cancel") == "op-cancel"
    assert fake.kind("instances.restart") == "custom"
    with pytest.raises(ValueError, match="several methods"):
        fake.kind("get")


def test_the_readme_examples_run() -> None:
    """The README's pytest example and scripted-transport example, as written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing without a network", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("\n", 1)[1] for block in section.split("```python")[1:]]
    blocks = [block.split("```", 1)[0] for block in blocks]
    assert len(blocks) == 2
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    namespace["test_provision"]()
    namespace["NAME"] = f"{P}/instances/a"
    exec(compile(blocks[1], "README.md", "exec"), namespace)


def test_a_users_test_type_checks(tmp_path: Path) -> None:
    """mypy --strict sees the fake's clients as the generated client types."""
    import subprocess
    import sys

    user = tmp_path / "test_user.py"
    user.write_text(
        "from gapi_runtime.testing import FakeRequest, Reply\n"
        "from looker_v1 import LookerAsyncClient, LookerClient\n"
        "from looker_v1.testing import FakeLooker\n"
        "def handler(request: FakeRequest) -> dict[str, str]:\n"
        "    return {'name': request.resource_name}\n"
        "def test() -> None:\n"
        "    fake = FakeLooker(polls_to_done=1)\n"
        "    client: LookerClient = fake.client(retry=None)\n"
        "    aclient: LookerAsyncClient = fake.async_client()\n"
        "    fake.on('instances.restart', handler)\n"
        "    fake.inject('instances.get', Reply.error(503), Reply.dropped())\n"
        "    client.projects.locations.instances.get(name='x')['bogusField']\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout.count("error:") == 1 and '"bogusField"' in result.stdout, result.stdout

"""Fixes from a review of the in-memory fakes (``gapi_runtime.testing._fake``).

* Deleting an unfinished operation does not cancel it (google/longrunning/operations.proto):
  its change is still applied when operations finish, and its name is reserved only until then.
* A client whose endpoint has a path (a gateway: ``https://gateway.example.com/looker/``) is
  routed after that path, as the default endpoint is.
* Batch POSTs are answered: each part is served as a request of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from gapi_runtime import ConnectError
from gapi_runtime.testing import FakeApi, FakeTransport, Reply
from google.api_core import exceptions
from looker_v1 import LookerClient
from looker_v1.testing import FakeLooker

from tests.support import generated_packages as gp

P = "projects/p/locations/l"
GATEWAY = "https://gateway.example.com/looker/"


# --- 1. deleting an unfinished operation ----------------------------------------------------


def test_deleting_an_unfinished_create_operation_does_not_cancel_it() -> None:
    fake = FakeLooker(polls_to_done=2)
    client = fake.client()
    instances = client.projects.locations.instances
    op = instances.create(parent=P, instance_id="a", body={"platformEdition": "LOOKER_CORE_STANDARD"})
    assert op["done"] is False
    client.projects.locations.operations.delete(name=op["name"])  # "no longer interested"
    assert op["name"] not in fake.operations
    with pytest.raises(exceptions.NotFound):
        client.projects.locations.operations.get(name=op["name"])
    with pytest.raises(exceptions.NotFound):  # still being created: not there yet ...
        instances.get(name=f"{P}/instances/a")
    with pytest.raises(exceptions.Conflict):  # ... and its name taken, as before the delete
        instances.create(parent=P, instance_id="a", body={})

    fake.finish_operations()  # the work went on: the instance exists
    created = {"platformEdition": "LOOKER_CORE_STANDARD", "name": f"{P}/instances/a"}
    assert fake.resources == {f"{P}/instances/a": created}
    assert instances.get(name=f"{P}/instances/a") == created
    with pytest.raises(exceptions.Conflict):
        instances.create(parent=P, instance_id="a", body={})
    assert fake.operations == {}
    fake.finish_operations()  # applied once
    assert fake.resources == {f"{P}/instances/a": created}


def test_deleting_an_unfinished_delete_operation_still_deletes_and_a_finished_one_is_just_forgotten() -> None:
    fake = FakeLooker(polls_to_done=2)
    fake.seed(f"{P}/instances/a")
    client = fake.client()
    operations = client.projects.locations.operations
    op = client.projects.locations.instances.delete(name=f"{P}/instances/a")
    operations.delete(name=op["name"])
    assert f"{P}/instances/a" in fake.resources  # not done yet
    fake.finish_operations()
    assert fake.resources == {}

    done = client.operation(client.projects.locations.instances.create(parent=P, instance_id="b", body={})).result()
    names = list(fake.operations)
    operations.delete(name=names[-1])
    fake.finish_operations()
    assert fake.resources == {f"{P}/instances/b": done}


def test_a_deleted_operation_that_fails_frees_its_name() -> None:
    fake = FakeLooker(polls_to_done=2)
    client = fake.client()
    instances = client.projects.locations.instances
    op = instances.create(parent=P, instance_id="a", body={})
    fake.seed(f"{P}/instances/a", {"taken": True})  # the create will fail: the name is taken meanwhile
    client.projects.locations.operations.delete(name=op["name"])
    fake.finish_operations()
    assert fake.resources == {f"{P}/instances/a": {"taken": True, "name": f"{P}/instances/a"}}
    del fake.resources[f"{P}/instances/a"]
    client.operation(instances.create(parent=P, instance_id="a", body={})).result()  # not reserved any more
    assert list(fake.resources) == [f"{P}/instances/a"]


# --- 2. endpoints with a path ---------------------------------------------------------------


def test_a_client_whose_endpoint_has_a_path_is_routed_after_it() -> None:
    fake = FakeLooker(polls_to_done=0)
    client = fake.client(endpoint=GATEWAY)
    assert client.base_url == GATEWAY
    instances = client.projects.locations.instances
    op = instances.create(parent=P, instance_id="a", body={})
    assert op["done"] is True and op["response"]["name"] == f"{P}/instances/a"
    assert instances.get(name=f"{P}/instances/a") == {"name": f"{P}/instances/a"}
    assert [i["name"] for i in instances.list_all(parent=P)] == [f"{P}/instances/a"]
    assert fake.requests[0].url.startswith(GATEWAY + "v1/projects/")
    assert [r.method_id for r in fake.requests] == [
        "looker.projects.locations.instances.create",
        "looker.projects.locations.instances.get",
        "looker.projects.locations.instances.list",
    ]
    # The default endpoint and a regional one still route as before, on the same fake.
    for other in (fake.client(), fake.client(endpoint="https://looker.us-central1.rep.googleapis.com/")):
        assert other.projects.locations.instances.get(name=f"{P}/instances/a")["name"] == f"{P}/instances/a"


def test_an_async_client_whose_endpoint_has_a_path_is_routed_after_it() -> None:
    async def main() -> dict[str, Any]:
        fake = FakeLooker(polls_to_done=1)
        async with fake.async_client(endpoint=GATEWAY) as client:
            op = await client.projects.locations.instances.create(parent=P, instance_id="a", body={})
            result: dict[str, Any] = await client.operation(op).result()
            return result

    assert asyncio.run(main()) == {"name": f"{P}/instances/a"}


def test_a_path_outside_the_clients_endpoint_is_not_routed() -> None:
    fake = FakeLooker()
    fake.seed(f"{P}/instances/a")
    transport = FakeTransport(fake, root="/looker/")  # a transport made by hand says where its root is
    client = LookerClient(transport=transport, endpoint=GATEWAY, credentials=_anonymous())
    assert client.projects.locations.instances.get(name=f"{P}/instances/a") == {"name": f"{P}/instances/a"}
    response = fake.handle("GET", f"https://gateway.example.com/v1/{P}/instances/a", {}, None, root="/looker/")
    assert response.status == 404


@pytest.fixture(scope="module")
def drive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Drive v3: a service path (``drive/v3/``) and a batch path of its own (``batch/drive/v3``)."""
    out = tmp_path_factory.mktemp("drive")
    output = gp.generate_bundled("drive", "v3", out)
    gp.load(out, output.package)
    with gp.on_path(out / output.package):
        import importlib

        module = importlib.import_module(f"{output.package}.testing")
    yield module
    gp.forget(output.package)


def _drive_fake(module: ModuleType) -> FakeApi[Any, Any]:
    fake: FakeApi[Any, Any] = module.FakeDrive()
    fake.seed("files/f1", {"id": "f1", "title": "one"})
    return fake


@pytest.mark.parametrize(
    ("options", "base_url"),
    [
        ({}, "https://www.googleapis.com/drive/v3/"),
        ({"endpoint": "https://gw.example.com/x/"}, "https://gw.example.com/x/drive/v3/"),
        (
            {"client_options": {"api_endpoint": "https://gw.example.com/x/drive/v3/"}},
            "https://gw.example.com/x/drive/v3/",
        ),
    ],
)
def test_an_api_with_a_service_path_behind_an_endpoint_with_a_path(
    drive: ModuleType, options: dict[str, Any], base_url: str
) -> None:
    fake = _drive_fake(drive)
    client = fake.client(**options)
    assert client.base_url == base_url
    assert client.files.get(file_id="f1")["title"] == "one"
    with pytest.raises(exceptions.MethodNotImplemented):  # uploads: 501 naming the upload path, not 404
        client.files.create(media_body=b"x", media_mime_type="text/plain")
    batch = client.batch()
    handle = batch.files.get(file_id="f1")
    batch.execute()
    assert handle.result()["title"] == "one"
    assert fake.requests[-2].url == base_url.removesuffix("drive/v3/") + "batch/drive/v3"


# --- 3. batches -----------------------------------------------------------------------------


def test_a_batch_is_answered_part_by_part() -> None:
    fake = FakeLooker(polls_to_done=0)
    fake.seed(f"{P}/instances/a", {"platformEdition": "LOOKER_CORE_STANDARD"})
    client = fake.client()
    batch = client.batch()
    instances = batch.projects.locations.instances
    got = instances.get(name=f"{P}/instances/a")
    missing = instances.get(name=f"{P}/instances/nope")
    created = instances.create(parent=P, instance_id="b", body={"platformEdition": "LOOKER_CORE_STANDARD"})
    restarted = instances.restart(name=f"{P}/instances/a", body={})
    batch.execute()

    assert got.result() == {"platformEdition": "LOOKER_CORE_STANDARD", "name": f"{P}/instances/a"}
    with pytest.raises(exceptions.NotFound) as error:
        missing.result()
    assert f"{P}/instances/nope" in str(error.value)
    assert created.result()["done"] is True and created.result()["response"]["name"] == f"{P}/instances/b"
    with pytest.raises(exceptions.MethodNotImplemented):
        restarted.result()
    assert sorted(fake.resources) == [f"{P}/instances/a", f"{P}/instances/b"]
    assert [r.method_id for r in fake.requests] == [
        "batch",
        "looker.projects.locations.instances.get",
        "looker.projects.locations.instances.get",
        "looker.projects.locations.instances.create",
        "looker.projects.locations.instances.restart",
    ]
    part = fake.requests[3]
    assert part.url == f"https://looker.googleapis.com/v1/{P}/instances?instanceId=b"
    assert part.json == {"platformEdition": "LOOKER_CORE_STANDARD"}

    # A list in a batch pages as a direct call does.
    batch = client.batch()
    page = batch.projects.locations.instances.list(parent=P, page_size=1)
    batch.execute()
    assert [i["name"] for i in page.result()["instances"]] == [f"{P}/instances/a"]
    assert "nextPageToken" in page.result()


def test_faults_injected_on_a_part_are_retried_in_the_next_batch_post() -> None:
    fake = FakeLooker()
    fake.seed(f"{P}/instances/a")
    fake.inject("instances.get", Reply.error(503))
    batch = fake.client().batch()
    handle = batch.projects.locations.instances.get(name=f"{P}/instances/a")
    batch.execute()
    assert handle.result() == {"name": f"{P}/instances/a"}
    assert [r.method_id for r in fake.requests] == ["batch", "looker.projects.locations.instances.get"] * 2
    assert fake.clock.sleeps  # waited in virtual time


def test_a_dropped_connection_injected_on_a_part_drops_the_whole_batch_post() -> None:
    fake = FakeLooker(polls_to_done=0)
    fake.seed(f"{P}/instances/a")
    fake.inject("instances.get", Reply.dropped())
    batch = fake.client().batch()
    got = batch.projects.locations.instances.get(name=f"{P}/instances/a")
    created = batch.projects.locations.instances.create(parent=P, instance_id="b", body={})
    batch.execute()
    assert got.result() == {"name": f"{P}/instances/a"}  # a GET: sent again in the next POST
    assert isinstance(created.exception(), ConnectError)  # a POST: not retried, and never handled
    assert list(fake.resources) == [f"{P}/instances/a"]
    assert [r.method_id.rsplit(".", 1)[-1] for r in fake.requests] == ["batch", "get", "batch", "get"]


def test_an_async_batch_behind_an_endpoint_with_a_path() -> None:
    async def main() -> list[Any]:
        fake = FakeLooker(polls_to_done=0)
        fake.seed(f"{P}/instances/a")
        async with fake.async_client(endpoint=GATEWAY) as client:
            batch = client.batch()
            handles = [batch.projects.locations.instances.get(name=f"{P}/instances/{n}") for n in "ab"]
            await batch.execute()
            assert fake.requests[0].url == GATEWAY + "batch"
            return [handle.exception() or handle.result() for handle in handles]

    found, missing = asyncio.run(main())
    assert found == {"name": f"{P}/instances/a"}
    assert isinstance(missing, exceptions.NotFound)


def test_a_batch_post_that_is_not_multipart_is_refused() -> None:
    fake = FakeLooker()
    response = fake.handle("POST", "https://looker.googleapis.com/batch", {"content-type": "application/json"}, b"{}")
    assert response.status == 400 and b"multipart/mixed" in response.data


def _anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()

"""Contract tests: every Looker v1 method, over real HTTP to a loopback server.

Each case pins the wire request (method, exact path and query, body, headers) and the
decoding of the response. ``operations.cancel`` — the reference contract — is covered in
full below. Every test runs against ``LookerClient`` and ``LookerAsyncClient`` (the latter
through :mod:`tests.support.blocking`, which only waits for its coroutines): one contract, two clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerAsyncClient, LookerClient

from tests.support.blocking import clients
from tests.support.loopback import LoopbackServer, Reply

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741 - an instance name
OP = f"{P}/operations/op-1"
BACKUP = f"{I}/backups/b1"
OPERATION = {"name": OP, "done": False, "metadata": {"@type": "type.googleapis.com/x"}}


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Iterator[Callable[..., LookerClient]]:
    """Builds Looker clients of one flavor: sync, or async behind tests.support.blocking."""
    with clients(request.param, LookerClient, LookerAsyncClient) as factory:
        yield factory


@pytest.fixture
def looker(server: LoopbackServer, make: Callable[..., LookerClient]) -> LookerClient:
    return make(credentials=AnonymousCredentials(), endpoint=server.url)


@dataclass
class Case:
    call: Callable[[LookerClient], Any]
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None  # None: no body sent
    response: Any = field(default_factory=lambda: dict(OPERATION))


CASES: dict[str, Case] = {
    "locations.get": Case(
        lambda c: c.projects.locations.get(name=P), "GET", f"/v1/{P}", response={"name": P, "locationId": "l"}
    ),
    "locations.list": Case(
        lambda c: c.projects.locations.list(
            name="projects/p1", filter="displayName=tokyo", page_size=5, page_token="t", extra_location_types=["a", "b"]
        ),
        "GET",
        "/v1/projects/p1/locations",
        [
            ("extraLocationTypes", "a"),
            ("extraLocationTypes", "b"),
            ("filter", "displayName=tokyo"),
            ("pageSize", "5"),
            ("pageToken", "t"),
        ],
        response={"locations": [{"name": P}], "nextPageToken": "n"},
    ),
    "instances.create": Case(
        lambda c: c.projects.locations.instances.create(
            parent=P, instance_id="i1", body={"platformEdition": "LOOKER_CORE_STANDARD"}
        ),
        "POST",
        f"/v1/{P}/instances",
        [("instanceId", "i1")],
        {"platformEdition": "LOOKER_CORE_STANDARD"},
    ),
    "instances.delete": Case(
        lambda c: c.projects.locations.instances.delete(name=I, force=True),
        "DELETE",
        f"/v1/{I}",
        [("force", "true")],
    ),
    "instances.export": Case(
        lambda c: c.projects.locations.instances.export(name=I, body={"gcsUri": "gs://b/o"}),
        "POST",
        f"/v1/{I}:export",
        body={"gcsUri": "gs://b/o"},
    ),
    "instances.get": Case(
        lambda c: c.projects.locations.instances.get(name=I), "GET", f"/v1/{I}", response={"name": I, "state": "ACTIVE"}
    ),
    "instances.import": Case(
        lambda c: c.projects.locations.instances.import_(name=I, body={"gcsUri": "gs://b/o"}),
        "POST",
        f"/v1/{I}:import",
        body={"gcsUri": "gs://b/o"},
    ),
    "instances.list": Case(
        lambda c: c.projects.locations.instances.list(parent=P, page_size=10, show_deleted=False),
        "GET",
        f"/v1/{P}/instances",
        [("pageSize", "10"), ("showDeleted", "false")],
        response={"instances": [{"name": I}], "unreachable": []},
    ),
    "instances.patch": Case(
        lambda c: c.projects.locations.instances.patch(
            name=I, update_mask="adminSettings,oauthConfig", body={"adminSettings": {"allowedEmailDomains": ["x.com"]}}
        ),
        "PATCH",
        f"/v1/{I}",
        [("updateMask", "adminSettings,oauthConfig")],
        {"adminSettings": {"allowedEmailDomains": ["x.com"]}},
    ),
    "instances.restart": Case(
        lambda c: c.projects.locations.instances.restart(name=I), "POST", f"/v1/{I}:restart", body={}
    ),
    "instances.restore": Case(
        lambda c: c.projects.locations.instances.restore(name=I, body={"backup": BACKUP}),
        "POST",
        f"/v1/{I}:restore",
        body={"backup": BACKUP},
    ),
    "instances.undelete": Case(
        lambda c: c.projects.locations.instances.undelete(name=I), "POST", f"/v1/{I}:undelete", body={}
    ),
    "backups.create": Case(
        lambda c: c.projects.locations.instances.backups.create(parent=I, body={"name": BACKUP}),
        "POST",
        f"/v1/{I}/backups",
        body={"name": BACKUP},
    ),
    "backups.delete": Case(
        lambda c: c.projects.locations.instances.backups.delete(name=BACKUP), "DELETE", f"/v1/{BACKUP}"
    ),
    "backups.get": Case(
        lambda c: c.projects.locations.instances.backups.get(name=BACKUP),
        "GET",
        f"/v1/{BACKUP}",
        response={"name": BACKUP, "state": "ACTIVE"},
    ),
    "backups.list": Case(
        lambda c: c.projects.locations.instances.backups.list(
            parent=I, order_by="createTime desc", page_size=3, page_token="abc"
        ),
        "GET",
        f"/v1/{I}/backups",
        [("orderBy", "createTime desc"), ("pageSize", "3"), ("pageToken", "abc")],
        response={"instanceBackups": [{"name": BACKUP}], "nextPageToken": ""},
    ),
    "operations.cancel": Case(
        lambda c: c.projects.locations.operations.cancel(name=OP), "POST", f"/v1/{OP}:cancel", body={}, response={}
    ),
    "operations.delete": Case(
        lambda c: c.projects.locations.operations.delete(name=OP), "DELETE", f"/v1/{OP}", response={}
    ),
    "operations.get": Case(
        lambda c: c.projects.locations.operations.get(name=OP),
        "GET",
        f"/v1/{OP}",
        response={"name": OP, "done": True, "response": {"@type": "x", "name": I}},
    ),
    "operations.list": Case(
        lambda c: c.projects.locations.operations.list(
            name=P, filter="done=true", page_size=2, page_token="p2", return_partial_success=True
        ),
        "GET",
        f"/v1/{P}/operations",
        [("filter", "done=true"), ("pageSize", "2"), ("pageToken", "p2"), ("returnPartialSuccess", "true")],
        response={"operations": [OPERATION], "nextPageToken": "p3", "unreachable": ["x"]},
    ),
}


def test_every_method_has_a_contract_case() -> None:
    document_methods = {
        spec_id.removeprefix("looker.projects.locations.").replace("instances.backups.", "backups.")
        for spec_id in _method_ids()
    }
    assert set(CASES) == {name if "." in name else f"locations.{name}" for name in document_methods}
    assert len(CASES) == 20


def _method_ids() -> list[str]:
    import json
    from pathlib import Path

    import looker_v1 as package

    document = json.loads((Path(package.__file__).parent.parent / "discovery.json").read_text())  # the project folder
    ids: list[str] = []

    def walk(resource: dict[str, Any]) -> None:
        ids.extend(method["id"] for method in resource.get("methods", {}).values())
        for child in resource.get("resources", {}).values():
            walk(child)

    walk(document)
    return ids


@pytest.mark.parametrize("name", sorted(CASES))
def test_wire_contract(name: str, server: LoopbackServer, looker: LookerClient) -> None:
    case = CASES[name]
    server.reply(Reply(200, case.response))
    result = case.call(looker)
    request = server.last
    assert request.method == case.method
    assert request.path == case.path
    assert request.query == case.query
    if case.body is None:
        assert request.body == b""
        assert "content-type" not in request.headers
    else:
        assert request.json() == case.body
        assert request.headers["content-type"] == "application/json"
    assert request.headers["x-goog-api-client"].startswith("gl-python/")
    assert "gapi-runtime/" in request.headers["x-goog-api-client"]
    assert request.headers["user-agent"].startswith("looker_v1/20261020 gapi-runtime/")
    assert "authorization" not in request.headers  # AnonymousCredentials
    assert result == case.response


# --- operations.cancel: the reference contract, in full -----------------------------------


def test_cancel_sends_empty_object_and_decodes_empty_response(server: LoopbackServer, looker: LookerClient) -> None:
    assert looker.projects.locations.operations.cancel(name=OP) == {}
    request = server.last
    assert (request.method, request.target, request.body) == ("POST", f"/v1/{OP}:cancel", b"{}")


def test_cancel_accepts_an_explicit_empty_body(server: LoopbackServer, looker: LookerClient) -> None:
    looker.projects.locations.operations.cancel(name=OP, body={})
    assert server.last.body == b"{}"


def test_cancel_empty_response_body_decodes_to_empty_dict(server: LoopbackServer, looker: LookerClient) -> None:
    server.reply(Reply(200, b""))
    assert looker.projects.locations.operations.cancel(name=OP) == {}


def test_cancel_unimplemented_raises_method_not_implemented(server: LoopbackServer, looker: LookerClient) -> None:
    error = {"error": {"code": 501, "message": "Operation cancellation is not supported.", "status": "UNIMPLEMENTED"}}
    server.reply(Reply(501, error))
    with pytest.raises(exceptions.MethodNotImplemented) as caught:
        looker.projects.locations.operations.cancel(name=OP)
    assert caught.value.code == 501
    assert "Operation cancellation is not supported." in caught.value.message
    assert len(server.requests) == 1  # POST is never retried


def test_cancel_not_found_carries_status_details(server: LoopbackServer, looker: LookerClient) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.ResourceInfo", "resourceName": OP}]
    error = {"code": 404, "message": "not found", "status": "NOT_FOUND", "details": details}
    server.reply(Reply(404, {"error": error}))
    with pytest.raises(exceptions.NotFound) as caught:
        looker.projects.locations.operations.cancel(name=OP)
    assert caught.value.code == 404
    assert caught.value.details == details
    assert "not found" in str(caught.value)


def test_non_json_error_body_gives_status_and_snippet(server: LoopbackServer, looker: LookerClient) -> None:
    server.reply(Reply(502, b"<html>Bad Gateway from proxy</html>", {"content-type": "text/html"}))
    with pytest.raises(exceptions.BadGateway) as caught:
        looker.projects.locations.operations.cancel(name=OP)
    assert "502" in str(caught.value)
    assert "Bad Gateway from proxy" in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "projects/p/locations/l/operations",  # too few segments
        "projects/p/locations/l/operations/o/extra",  # too many
        "projects/p/locations/l/instances/o",  # wrong collection
        "projects/p/locations/l/operations/o/",  # trailing segment
        "xprojects/p/locations/l/operations/o",
        "",
    ],
)
def test_cancel_rejects_names_outside_the_pattern(name: str, server: LoopbackServer, looker: LookerClient) -> None:
    with pytest.raises(ValueError, match="name"):
        looker.projects.locations.operations.cancel(name=name)
    assert server.requests == []


@pytest.mark.parametrize(
    ("operation_id", "wire"),
    [
        ("a?alt=media#", "a%3Falt%3Dmedia%23"),
        ("100%", "100%25"),
        ("with space", "with%20space"),
        ("café-ü", "caf%C3%A9-%C3%BC"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("a:b@c", "a%3Ab%40c"),
        ("a+b", "a%2Bb"),
        ("line\r\nbreak\x00", "line%0D%0Abreak%00"),
        ("-_.~", "-_.~"),
    ],
)
def test_cancel_percent_encodes_reserved_characters(
    operation_id: str, wire: str, server: LoopbackServer, looker: LookerClient
) -> None:
    looker.projects.locations.operations.cancel(name=f"projects/p/locations/l/operations/{operation_id}")
    assert server.last.target == f"/v1/projects/p/locations/l/operations/{wire}:cancel"


def test_missing_or_unknown_arguments_fail_before_io(server: LoopbackServer, looker: LookerClient) -> None:
    operations = looker.projects.locations.operations
    with pytest.raises(TypeError):
        operations.cancel()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        operations.cancel(name=OP, bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        operations.cancel(OP)  # type: ignore[misc]
    assert server.requests == []


def test_body_must_be_a_dict(server: LoopbackServer, looker: LookerClient) -> None:
    with pytest.raises(TypeError, match="body must be a dict"):
        looker.projects.locations.instances.export(name=I, body="{}")  # type: ignore[arg-type]
    assert server.requests == []


def test_resources_are_built_once(looker: LookerClient) -> None:
    assert looker.projects is looker.projects
    assert looker.projects.locations.operations is looker.projects.locations.operations


def test_quota_project_header(server: LoopbackServer, make: Callable[..., LookerClient]) -> None:
    client = make(
        credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url, "quota_project_id": "billing-1"}
    )
    client.projects.locations.operations.cancel(name=OP)
    assert server.last.headers["x-goog-user-project"] == "billing-1"


def test_endpoint_keeps_service_path_and_regional_endpoints_are_listed(make: Callable[..., LookerClient]) -> None:
    client = make(credentials=AnonymousCredentials(), endpoint=LookerClient.ENDPOINTS[0])
    assert client.base_url == "https://looker.us-central1.rep.googleapis.com/"
    assert make(credentials=AnonymousCredentials()).base_url == "https://looker.googleapis.com/"
    assert len(LookerClient.ENDPOINTS) == 10
    assert LookerAsyncClient.ENDPOINTS == LookerClient.ENDPOINTS


@pytest.mark.parametrize(
    "endpoint",
    ["http://looker.googleapis.com/", "ftp://x/", "https://user:pw@looker.googleapis.com/", "not a url"],
)
def test_insecure_or_malformed_endpoints_are_refused(endpoint: str, make: Callable[..., LookerClient]) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        make(credentials=AnonymousCredentials(), endpoint=endpoint)


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:9/", "http://localhost:9", "http://[::1]:9/", "http://127.5.5.5/"]
)
def test_plain_http_is_allowed_for_loopback(endpoint: str, make: Callable[..., LookerClient]) -> None:
    client = make(credentials=AnonymousCredentials(), endpoint=endpoint)
    assert client.base_url.startswith("http://")


def test_client_options_object_is_accepted(server: LoopbackServer, make: Callable[..., LookerClient]) -> None:
    from google.api_core.client_options import ClientOptions

    client = make(credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=server.url))
    client.projects.locations.operations.get(name=OP)
    assert server.last.path == f"/v1/{OP}"

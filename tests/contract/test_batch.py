"""Batch requests over loopback: a batch endpoint that parses and answers multipart/mixed.

Drive v3 and Storage v1 are generated from the bundled documents; what we send is compared
with googleapiclient's BatchHttpRequest for the same calls (both parsed by the standard
library's ``email`` parser in tests/support/batch_server.py).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from gapi_runtime import BatchError, ResponseDecodeError, RetryPolicy
from gapi_runtime.batch import BatchPlan, encode_batch, parse_batch
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import RefreshError
from google.oauth2 import credentials as user_credentials

from tests.support import generated_packages as gp
from tests.support.batch_server import BatchEndpoint, echo_json
from tests.support.loopback import LoopbackServer, Recorded, Reply

FAST = RetryPolicy(initial=0.01, maximum=0.02)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("batch")
    loaded = {}
    for name, version in (("drive", "v3"), ("storage", "v1")):
        output = gp.generate_bundled(name, version, out)
        loaded[name] = gp.load(out, output.package)
    shapes = gp.generate_path(gp.fixture_path("method_shapes"), out)
    loaded["shapes"] = gp.load(out, shapes.package)
    yield loaded
    for package in ("drive_v3", "storage_v1", "shapes_v1"):
        gp.forget(package)


@pytest.fixture
def endpoint() -> BatchEndpoint:
    return BatchEndpoint(echo_json)


@pytest.fixture
def batch_server(endpoint: BatchEndpoint) -> Iterator[LoopbackServer]:
    with LoopbackServer(endpoint) as server:
        yield server


def drive_client(packages: dict[str, Any], server: LoopbackServer, **kwargs: Any) -> Any:
    kwargs.setdefault("credentials", AnonymousCredentials())
    return packages["drive"].DriveClient(endpoint=server.url, **kwargs)


def test_rename_150_files_in_two_batch_requests(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    drive = drive_client(packages, batch_server)
    batch = drive.batch()
    handles = [batch.files.update(file_id=f"f{i}", body={"name": f"renamed {i}"}, fields="id,name") for i in range(150)]
    assert len(batch) == 150 and not handles[0].done()
    batch.execute()
    assert len(batch_server.requests) == 2
    assert [request.target for request in batch_server.requests] == ["/batch/drive/v3"] * 2
    assert [len(post) for post in endpoint.posts] == [100, 50]
    parts = [part for post in endpoint.posts for part in post]
    # Content-IDs number the requests in queue order.
    assert [part.content_id.rsplit("+", 1)[1] for part in parts] == [str(i + 1) for i in range(150)]
    first = parts[0].request
    assert first.method == "PATCH" and first.path == "/drive/v3/files/f0"
    assert dict(first.query) == {"fields": "id,name"}
    assert first.json() == {"name": "renamed 0"} and first.headers["content-type"] == "application/json"
    assert [handle.result() for handle in handles] == [{"id": f"f{i}", "name": f"renamed {i}"} for i in range(150)]
    drive.close()


def test_answers_are_matched_by_content_id_not_position(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    endpoint.reverse = True
    drive = drive_client(packages, batch_server)
    batch = drive.batch()
    handles = [batch.files.get(file_id=f"f{i}") for i in range(5)]
    batch.execute()
    assert [handle.result()["id"] for handle in handles] == [f"f{i}" for i in range(5)]


def test_a_failed_part_raises_the_direct_calls_error(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    def handler(request: Recorded) -> Reply:
        if request.path.endswith("/missing"):
            return Reply(404, {"error": {"code": 404, "message": "File not found: missing.", "status": "NOT_FOUND"}})
        return echo_json(request)

    endpoint.part_handler = handler
    endpoint.fallback = handler
    drive = drive_client(packages, batch_server)
    with pytest.raises(exceptions.NotFound) as direct:
        drive.files.get(file_id="missing")
    batch = drive.batch()
    found, missing = batch.files.get(file_id="here"), batch.files.get(file_id="missing")
    with pytest.raises(BatchError, match="not been executed"):
        found.result()
    batch.execute()
    assert found.result() == {"id": "here"}
    with pytest.raises(exceptions.NotFound) as queued:
        missing.result()
    assert type(queued.value) is type(direct.value) and queued.value.message == direct.value.message
    assert isinstance(missing.exception(), exceptions.NotFound)


def test_a_part_whose_gzip_body_is_corrupt_fails_alone(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    def handler(request: Recorded) -> Reply:
        if request.path.endswith("/bad"):
            return Reply(200, b"\x1f\x8b\x08\x00not gzip at all", headers={"content-encoding": "gzip"})
        return echo_json(request)

    endpoint.part_handler = handler
    batch = drive_client(packages, batch_server).batch()
    good, bad = batch.files.get(file_id="good"), batch.files.get(file_id="bad")
    batch.execute()
    assert good.result() == {"id": "good"}
    with pytest.raises(ResponseDecodeError, match="not JSON"):
        bad.result()


def test_retries_follow_the_idempotency_rules(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    seen: dict[str, int] = {}

    def flaky(request: Recorded) -> Reply:
        key = f"{request.method} {request.path}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            return Reply(503, {"error": {"code": 503, "message": "try again", "status": "UNAVAILABLE"}})
        return echo_json(request)

    endpoint.part_handler = flaky
    drive = drive_client(packages, batch_server, retry=FAST)
    batch = drive.batch()
    get = batch.files.get(file_id="a")
    patch = batch.files.update(file_id="b", body={"name": "x"})
    patch_retried = batch.files.update(
        file_id="c", body={"name": "y"}, retry=FAST.__class__(initial=0.01, predicate=lambda exc: True)
    )
    batch.execute()
    assert get.result() == {"id": "a"}  # GET: retried in a second batch POST
    with pytest.raises(exceptions.ServiceUnavailable):
        patch.result()  # PATCH: not retried by default
    assert patch_retried.result() == {"id": "c", "name": "y"}  # unless its retry= says so
    assert [len(post) for post in endpoint.posts] == [3, 2]
    assert [part.request.path for part in endpoint.posts[1]] == ["/drive/v3/files/a", "/drive/v3/files/c"]


def test_a_failed_batch_post_fails_or_retries_each_part(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    batch_server.reply(Reply(503, {"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}))
    drive = drive_client(packages, batch_server, retry=FAST)
    batch = drive.batch()
    get, patch = batch.files.get(file_id="a"), batch.files.update(file_id="b", body={})
    batch.execute()
    assert get.result() == {"id": "a"}
    with pytest.raises(exceptions.ServiceUnavailable):
        patch.result()
    assert len(batch_server.requests) == 2


def test_a_part_answered_401_is_sent_again_with_refreshed_credentials(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    tokens = iter(["fresh-1", "fresh-2"])

    def token_server(request: Recorded) -> Reply:
        assert request.path == "/token"
        return Reply(200, {"access_token": next(tokens), "expires_in": 3600, "token_type": "Bearer"})

    def parts(request: Recorded) -> Reply:
        # The part inherits the batch POST's authorization (Google's rule for outer headers).
        if request.headers.get("authorization") == "Bearer stale" and request.path.endswith("/b"):
            return Reply(401, {"error": {"code": 401, "message": "expired", "status": "UNAUTHENTICATED"}})
        return echo_json(request)

    endpoint.part_handler = parts
    endpoint.fallback = token_server
    creds = user_credentials.Credentials(
        token="stale",
        refresh_token="1//r",
        client_id="id",
        client_secret="secret",
        token_uri=batch_server.url + "token",
    )
    drive = drive_client(packages, batch_server, credentials=creds)
    batch = drive.batch()
    a, b = batch.files.get(file_id="a"), batch.files.delete(file_id="b")
    batch.execute()
    assert a.result() == {"id": "a"} and b.result() is None  # delete returns nothing, as directly
    assert [len(post) for post in endpoint.posts] == [2, 1]
    assert endpoint.posts[1][0].request.headers["authorization"] == "Bearer fresh-1"
    assert creds.token == "fresh-1"


def test_media_methods_are_refused(packages: dict[str, Any], batch_server: LoopbackServer) -> None:
    drive = drive_client(packages, batch_server)
    batch = drive.batch()
    with pytest.raises(BatchError, match=r"drive\.files\.export: media .* cannot be sent in a batch"):
        batch.files.export(file_id="doc", mime_type="text/csv")
    with pytest.raises(BatchError, match=r"drive\.files\.create: media .* cannot be sent in a batch"):
        batch.files.create(body={"name": "a.txt"}, media_body=b"content")  # type: ignore[arg-type]
    assert len(batch) == 0
    folder = batch.files.create(body={"name": "folder", "mimeType": "application/vnd.google-apps.folder"})
    assert len(batch) == 1 and not folder.done()  # metadata only: fine in a batch
    batch.execute()
    assert len(batch_server.requests) == 1 and folder.result()["name"] == "folder"


def test_batch_sizes_and_with_block(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    drive = drive_client(packages, batch_server)
    for bad in (0, 1001):
        with pytest.raises(ValueError, match="max_batch_size must be an integer from 1 to 1000"):
            drive.batch(max_batch_size=bad)
    with drive.batch(max_batch_size=2) as batch:
        handles = [batch.files.get(file_id=str(i)) for i in range(5)]
    assert [len(post) for post in endpoint.posts] == [2, 2, 1]
    assert [handle.result()["id"] for handle in handles] == ["0", "1", "2", "3", "4"]
    batch.execute()  # nothing new queued: nothing sent
    assert len(endpoint.posts) == 3


def test_the_batch_goes_to_the_resolved_endpoint(packages: dict[str, Any], batch_server: LoopbackServer) -> None:
    drive = packages["drive"].DriveClient(credentials=AnonymousCredentials(), endpoint=batch_server.url + "eu/")
    batch = drive.batch()
    batch.files.get(file_id="a")
    batch.execute()
    assert batch_server.requests[0].target == "/eu/batch/drive/v3"


def test_async_batch(packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint) -> None:
    pytest.importorskip("aiohttp")

    async def main() -> list[Any]:
        async with packages["drive"].DriveAsyncClient(
            credentials=AnonymousCredentials(), endpoint=batch_server.url
        ) as drive:
            batch = drive.batch(max_batch_size=2)
            handles = [batch.files.update(file_id=f"f{i}", body={"name": str(i)}) for i in range(3)]
            await batch.execute()
            return [handle.result() for handle in handles]

    assert asyncio.run(main()) == [{"id": f"f{i}", "name": str(i)} for i in range(3)]
    assert [len(post) for post in endpoint.posts] == [2, 1]


# --- the same batch through googleapiclient ----------------------------------------------------


def _googleapiclient_parts(
    name: str,
    version: str,
    server: LoopbackServer,
    endpoint: BatchEndpoint,
    calls: list[tuple[str, str, dict[str, Any]]],
) -> list[Recorded]:
    import httplib2
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import BatchHttpRequest

    from codegen import bundled

    document = json.loads(Path(bundled.find(name, version).path).read_text(encoding="utf-8"))
    service = build_from_document(
        json.dumps(document),
        http=httplib2.Http(),
        client_options={"api_endpoint": server.url + document["servicePath"]},
    )
    batch = BatchHttpRequest(batch_uri=server.url + document["batchPath"])
    for resource, method, kwargs in calls:
        batch.add(getattr(getattr(service, resource)(), method)(**kwargs))
    before = len(endpoint.posts)
    batch.execute(http=httplib2.Http())
    assert len(endpoint.posts) == before + 1
    return [part.request for part in endpoint.posts[-1]]


def _comparable(request: Recorded) -> tuple[Any, ...]:
    query = sorted((k, v) for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k != "alt")
    content_type = request.headers.get("content-type", "").split(";")[0] if request.body else ""
    return request.method, request.path, query, request.json() if request.body else None, content_type


CALLS = {
    ("drive", "v3"): [
        ("files", "update", {"fileId": "f1", "body": {"name": "New name"}, "fields": "id,name"}),
        ("files", "get", {"fileId": "f2", "fields": "id", "quotaUser": "me", "prettyPrint": False}),
        ("files", "delete", {"fileId": "f3", "x__xgafv": "2"}),
        ("permissions", "create", {"fileId": "f4", "body": {"role": "reader", "type": "anyone"}}),
    ],
    ("storage", "v1"): [
        ("objects", "patch", {"bucket": "b", "object": "dir/o 1", "body": {"metadata": {"k": "v"}}}),
        ("objects", "get", {"bucket": "b", "object": "o2", "fields": "name,size"}),
        ("objects", "delete", {"bucket": "b", "object": "o3"}),
    ],
}


@pytest.mark.parametrize(("api", "version"), sorted(CALLS))
def test_parts_match_googleapiclient_batch(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint, api: str, version: str
) -> None:
    from googleapiclient.discovery import key2param

    calls = CALLS[(api, version)]
    theirs = _googleapiclient_parts(api, version, batch_server, endpoint, calls)
    package = packages[api]
    client = getattr(package, next(n for n in package.__all__ if n.endswith("Client") and "Async" not in n))(
        credentials=AnonymousCredentials(), endpoint=batch_server.url
    )
    batch = client.batch()
    names = {"x__xgafv": "xgafv"}
    for resource, method, kwargs in calls:
        ours_kwargs = {}
        for key, value in kwargs.items():
            python = names.get(key) or "".join("_" + c.lower() if c.isupper() else c for c in key)
            ours_kwargs[python] = value
        assert key2param("$.xgafv") == "x__xgafv"
        getattr(getattr(batch, resource), method)(**ours_kwargs)
    batch.execute()
    ours = [part.request for part in endpoint.posts[-1]]
    assert [_comparable(r) for r in ours] == [_comparable(r) for r in theirs]
    # Both POST to the batch path; each part names the host it is for.
    assert batch_server.requests[-1].target == batch_server.requests[-2].target
    assert all(r.headers["host"] == theirs[0].headers["host"] for r in ours)


# --- the wire format without a server -------------------------------------------------------


def test_encode_and_parse_round_trip(packages: dict[str, Any]) -> None:
    drive = packages["drive"].DriveClient(
        credentials=AnonymousCredentials(), endpoint="https://example.googleapis.com/"
    )
    batch = drive.batch()
    handle = batch.files.update(file_id="a", body={"name": "é"})
    assert handle.content_id is None  # numbered when the batch sends it
    with pytest.raises(BatchError, match="no Content-ID yet"):
        encode_batch([handle], "b0undary")
    assert batch._take() == [handle] and handle.content_id is not None and handle.content_id.endswith("+1")
    body = encode_batch([handle], "b0undary")
    parts = BatchEndpoint.parse('multipart/mixed; boundary="b0undary"', body)
    assert parts[0].request.target == "/drive/v3/files/a" and parts[0].request.json() == {"name": "é"}
    answer = (
        b"--xyz\nContent-Type: application/http\nContent-ID: <response-1>\n\nHTTP/1.1 200 OK\n"
        b'Content-Type: application/json\n\n{"a": 1}\n--xyz--\n'
    )
    [(content_id, response)] = parse_batch("multipart/mixed; boundary=xyz", answer)
    assert content_id == "response-1" and response.status == 200 and json.loads(response.data) == {"a": 1}
    with pytest.raises(ValueError, match="not multipart/mixed"):
        parse_batch("application/json", b"{}")
    assert BatchPlan([handle], "u", 1).chunks() == [[handle]]


def test_a_parts_body_ends_at_its_content_length_and_a_204_has_none() -> None:
    # Padding after a part's body (a blank line before the next boundary) is not part of it.
    packed = gzip.compress(b'{"id": "f2"}')
    answer = (
        b"--xyz\r\nContent-Type: application/http\r\nContent-ID: <response-1>\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n\r\n\r\n"
        b"--xyz\r\nContent-Type: application/http\r\nContent-ID: <response-2>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(packed)}\r\n\r\n".encode()
        + packed
        + b"\r\n\r\n--xyz--\r\n"
    )
    (_, deleted), (_, got) = parse_batch("multipart/mixed; boundary=xyz", answer)
    assert deleted.status == 204 and deleted.data == b""
    assert json.loads(got.data) == {"id": "f2"} and "content-encoding" not in got.headers


def test_a_failed_refresh_after_a_401_fails_the_part_as_a_direct_call_fails(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    endpoint.part_handler = lambda request: Reply(
        401, {"error": {"code": 401, "message": "expired", "status": "UNAUTHENTICATED"}}
    )
    drive = drive_client(packages, batch_server, credentials=user_credentials.Credentials(token="stale"))
    batch = drive.batch()
    handle = batch.files.get(file_id="a")
    batch.execute()
    with pytest.raises(exceptions.Unauthorized, match="expired") as info:
        handle.result()
    assert isinstance(info.value.__cause__, RefreshError)  # why the credentials could not be renewed
    assert len(endpoint.posts) == 1  # not sent again with the token the server refused


def test_each_parts_retry_deadline_counts_from_its_own_first_sending(packages: dict[str, Any]) -> None:
    class Clock:
        now = 0.0

        def monotonic(self) -> float:
            return self.now

    drive = packages["drive"].DriveClient(
        credentials=AnonymousCredentials(),
        endpoint="https://example.googleapis.com/",
        retry=RetryPolicy(initial=0.01, timeout=1.0, predicate=lambda exc: True),
    )
    batch = drive.batch()
    first, second = batch.files.get(file_id="a"), batch.files.get(file_id="b")
    clock = Clock()
    plan = BatchPlan(batch._take(), "u", 1, clock)  # type: ignore[arg-type]
    plan.sending([first])
    clock.now = 0.9  # the first POST took 0.9 s
    plan.sending([second])
    clock.now = 1.05
    unavailable = exceptions.ServiceUnavailable("busy")
    plan.failed(first, unavailable)
    plan.failed(second, unavailable)
    assert first.exception() is unavailable  # its second began 1.05 s ago: out of time
    assert not second.done() and plan.next_round() > 0 and plan.pending == [second]  # 0.15 s in: retried


def test_a_cancelled_async_execute_leaves_no_handle_pending(
    packages: dict[str, Any], batch_server: LoopbackServer, endpoint: BatchEndpoint
) -> None:
    pytest.importorskip("aiohttp")
    endpoint.outer_reply = Reply(503, delay=5)

    async def main() -> None:
        async with packages["drive"].DriveAsyncClient(
            credentials=AnonymousCredentials(), endpoint=batch_server.url
        ) as drive:
            batch = drive.batch()
            handle = batch.files.update(file_id="a", body={"name": "x"})
            task = asyncio.ensure_future(batch.execute())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # At once, while the task (and its traceback) is still referenced.
            assert len(batch) == 0 and handle.done()
            with pytest.raises(BatchError, match="execute\\(\\) was interrupted before this request's answer arrived"):
                handle.result()

    asyncio.run(main())


def test_an_interrupted_sync_execute_leaves_no_handle_pending(packages: dict[str, Any]) -> None:
    class Interrupting:
        def request(self, *args: Any) -> Any:
            raise KeyboardInterrupt

        def close(self) -> None:
            pass

    drive = packages["drive"].DriveClient(
        credentials=AnonymousCredentials(), endpoint="http://127.0.0.1:9/", transport=Interrupting()
    )
    batch = drive.batch()
    handle = batch.files.get(file_id="a")
    try:
        batch.execute()
    except KeyboardInterrupt:
        assert handle.done() and isinstance(handle.exception(), BatchError)  # already, in the except block
    else:
        pytest.fail("KeyboardInterrupt did not reach the caller")


def test_a_part_content_length_that_is_not_a_number_is_ignored() -> None:
    answer = (
        b"--xyz\r\nContent-Type: application/http\r\nContent-ID: <response-1>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}\r\n--xyz--\r\n"  # a superscript two (latin-1)
    )
    [(_, response)] = parse_batch("multipart/mixed; boundary=xyz", answer)
    assert response.data == b"{}"


def test_batch_twins_load_only_when_a_batch_reaches_them(
    packages: dict[str, Any], batch_server: LoopbackServer
) -> None:
    import sys

    gp.forget("drive_v3")
    drive_package = packages["drive"]
    with gp.on_path(Path(drive_package.__file__).parent.parent):
        fresh = __import__("drive_v3")
        drive = fresh.DriveClient(credentials=AnonymousCredentials(), endpoint=batch_server.url)
        drive.files.get(file_id="a")
        assert "drive_v3.resources.files" in sys.modules and "drive_v3._batch.files" not in sys.modules
        drive.batch().files.get(file_id="a")
        assert "drive_v3._batch.files" in sys.modules

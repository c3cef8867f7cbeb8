"""Standard parameters (``fields``, ``quotaUser``, ``prettyPrint``, ``$.xgafv``) as keywords.

What arrives at a loopback server is compared with what googleapiclient sends for the same
calls (drive v3, storage v1); the every-method comparison is tests/support/equivalence.py.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from google.auth.credentials import AnonymousCredentials

from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer, Recorded

SECRETS_AND_RUNTIME = ("key", "access_token", "oauth_token", "alt", "callback", "upload_type", "upload_protocol")


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("standard")
    loaded = {}
    for name, version in (("drive", "v3"), ("storage", "v1"), ("oauth2", "v2")):
        loaded[name] = gp.load(out, gp.generate_bundled(name, version, out).package)
    yield loaded
    for package in ("drive_v3", "storage_v1", "oauth2_v2"):
        gp.forget(package)


def _query(request: Recorded) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k != "alt")


def _dynamic(name: str, version: str, server: LoopbackServer) -> Any:
    import httplib2
    from googleapiclient.discovery import build_from_document

    from codegen import bundled

    document = json.loads(Path(bundled.find(name, version).path).read_text(encoding="utf-8"))
    return build_from_document(
        json.dumps(document),
        http=httplib2.Http(),
        client_options={"api_endpoint": server.url + document["servicePath"]},
    )


def test_drive_files_list_with_standard_parameters_matches_googleapiclient(
    packages: dict[str, Any], server: LoopbackServer
) -> None:
    drive = packages["drive"].DriveClient(credentials=AnonymousCredentials(), endpoint=server.url)
    drive.files.list(
        q="name contains 'x'", fields="files(id,name),nextPageToken", quota_user="u 1", pretty_print=False, xgafv="2"
    )
    ours = server.last
    _dynamic("drive", "v3", server).files().list(
        q="name contains 'x'", fields="files(id,name),nextPageToken", quotaUser="u 1", prettyPrint=False, x__xgafv="2"
    ).execute()
    theirs = server.last
    assert ours.path == theirs.path == "/drive/v3/files"
    assert _query(ours) == _query(theirs)
    assert ("$.xgafv", "2") in ours.query and ("prettyPrint", "false") in ours.query


def test_storage_objects_get_with_fields_matches_googleapiclient(
    packages: dict[str, Any], server: LoopbackServer
) -> None:
    storage = packages["storage"].StorageClient(credentials=AnonymousCredentials(), endpoint=server.url)
    storage.objects.get(bucket="b", object="o", fields="name,size,md5Hash", quota_user="me")
    ours = server.last
    _dynamic("storage", "v1", server).objects().get(
        bucket="b", object="o", fields="name,size,md5Hash", quotaUser="me"
    ).execute()
    assert ours.target.split("?")[0] == server.last.target.split("?")[0]
    assert _query(ours) == _query(server.last)


def test_every_method_takes_the_four_and_no_secret(packages: dict[str, Any]) -> None:
    drive = packages["drive"].DriveClient(
        credentials=AnonymousCredentials(), endpoint="https://example.googleapis.com/"
    )
    for method in (drive.files.list, drive.files.get, drive.permissions.create, drive.about.get):
        keywords = inspect.signature(method).parameters
        assert {"fields", "quota_user", "pretty_print", "xgafv"} <= set(keywords)
        assert not set(SECRETS_AND_RUNTIME) & set(keywords)


def test_a_method_that_declares_a_standard_name_keeps_its_own(packages: dict[str, Any], server: LoopbackServer) -> None:
    """oauth2 v2 tokeninfo declares access_token, fields... itself: its definitions win (one keyword each)."""
    oauth2 = packages["oauth2"].Oauth2Client(credentials=AnonymousCredentials(), endpoint=server.url)
    keywords = list(inspect.signature(oauth2.tokeninfo).parameters)
    assert keywords.count("fields") == 1 and "fields_" not in keywords
    oauth2.tokeninfo(id_token="t", fields="email")
    assert ("fields", "email") in server.last.query and ("id_token", "t") in server.last.query


def test_async_methods_take_them_too(packages: dict[str, Any], server: LoopbackServer) -> None:
    pytest.importorskip("aiohttp")

    async def main() -> None:
        async with packages["drive"].DriveAsyncClient(credentials=AnonymousCredentials(), endpoint=server.url) as drive:
            await drive.files.get(file_id="f", fields="id", xgafv="2")

    asyncio.run(main())
    assert sorted(server.last.query) == [("$.xgafv", "2"), ("fields", "id")]

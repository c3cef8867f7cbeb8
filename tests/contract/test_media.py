"""Media upload and download over loopback HTTP, and what we send next to googleapiclient.

The server (tests/support/media_server.py) speaks the resumable protocol (308 + Range, status
queries) and can drop a connection in the middle of a chunk or cut a download short. The
comparisons call the same methods of drive v3 and storage v1 through
``googleapiclient`` (MediaFileUpload, MediaIoBaseDownload) and through the generated
clients against the same server, and compare request lines, the headers that carry the
protocol, and bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import google_crc32c
import pytest
from gapi_runtime import ConnectError, media
from gapi_runtime.retry import RetryPolicy
from google.auth.credentials import AnonymousCredentials

from tests.support import generated_packages as gp
from tests.support.media_server import GRANULE, MediaServer, Seen, parse_multipart

FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=10)

#: A small document with the shapes the bundled ones use: an upload method with accept and
#: maxSize, a download method with a response, one without (export-like).
MEDIA_DOC: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "id": "mediatest:v1",
    "name": "mediatest",
    "version": "v1",
    "title": "Media test",
    "rootUrl": "https://mediatest.googleapis.com/",
    "servicePath": "mediatest/v1/",
    "batchPath": "batch",
    "protocol": "rest",
    "schemas": {
        "Item": {"id": "Item", "type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
    },
    "resources": {
        "items": {
            "methods": {
                "insert": {
                    "id": "mediatest.items.insert",
                    "path": "b/{bucket}/items",
                    "httpMethod": "POST",
                    "parameters": {
                        "bucket": {"type": "string", "location": "path", "required": True},
                        "name": {"type": "string", "location": "query"},
                    },
                    "parameterOrder": ["bucket"],
                    "request": {"$ref": "Item"},
                    "response": {"$ref": "Item"},
                    "supportsMediaUpload": True,
                    "mediaUpload": {
                        "accept": ["image/png", "text/*"],
                        "maxSize": "1MB",
                        "protocols": {
                            "simple": {"multipart": True, "path": "/upload/mediatest/v1/b/{bucket}/items"},
                            "resumable": {"multipart": True, "path": "/resumable/upload/mediatest/v1/b/{bucket}/items"},
                        },
                    },
                },
                "big": {
                    "id": "mediatest.items.big",
                    "path": "b/{bucket}/big",
                    "httpMethod": "POST",
                    "parameters": {"bucket": {"type": "string", "location": "path", "required": True}},
                    "parameterOrder": ["bucket"],
                    "request": {"$ref": "Item"},
                    "response": {"$ref": "Item"},
                    "supportsMediaUpload": True,
                    "mediaUpload": {
                        "accept": ["*/*"],
                        "protocols": {
                            "simple": {"multipart": True, "path": "/upload/mediatest/v1/b/{bucket}/big"},
                            "resumable": {"multipart": True, "path": "/resumable/upload/mediatest/v1/b/{bucket}/big"},
                        },
                    },
                },
                "get": {
                    "id": "mediatest.items.get",
                    "path": "b/{bucket}/items/{item}",
                    "httpMethod": "GET",
                    "parameters": {
                        "bucket": {"type": "string", "location": "path", "required": True},
                        "item": {"type": "string", "location": "path", "required": True},
                    },
                    "parameterOrder": ["bucket", "item"],
                    "response": {"$ref": "Item"},
                    "supportsMediaDownload": True,
                },
                "export": {
                    "id": "mediatest.items.export",
                    "path": "b/{bucket}/items/{item}/export",
                    "httpMethod": "GET",
                    "parameters": {
                        "bucket": {"type": "string", "location": "path", "required": True},
                        "item": {"type": "string", "location": "path", "required": True},
                        "mimeType": {"type": "string", "location": "query", "required": True},
                    },
                    "parameterOrder": ["bucket", "item", "mimeType"],
                    "supportsMediaDownload": True,
                },
            }
        }
    },
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("media-gen")
    doc = out / "mediatest.json"
    doc.write_text(json.dumps(MEDIA_DOC))
    gp.generate_path(doc, out)
    gp.generate_bundled("drive", "v3", out)
    gp.generate_bundled("storage", "v1", out)
    loaded = {name: gp.load(out, name) for name in ("mediatest_v1", "drive_v3", "storage_v1")}
    yield loaded
    for name in loaded:
        gp.forget(name)


def _client(packages: dict[str, Any], name: str, server: MediaServer, cls: str) -> Any:
    return getattr(packages[name], cls)(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST)


def _content(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]


@pytest.fixture()
def server() -> Any:
    with MediaServer() as running:
        yield running


# --- uploads ----------------------------------------------------------------------------------


def test_simple_upload_from_bytes_path_and_file(packages: dict[str, Any], server: MediaServer, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"hello media")
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        for body in (b"hello media", str(path), path, io.BytesIO(b"hello media")):
            result = client.items.insert(bucket="b1", media_body=body, media_mime_type="text/plain")
            assert result["kind"] == "media"
            sent = server.requests[-1]
            assert (sent.method, sent.path) == ("POST", "/upload/mediatest/v1/b/b1/items")
            assert sent.query == {"uploadType": "media"}
            assert sent.headers["content-type"] == "text/plain"
            assert sent.body == b"hello media"
        # The type of a path is guessed from its extension.
        client.items.insert(bucket="b1", media_body=path)
        assert server.requests[-1].headers["content-type"] == "text/plain"


def test_multipart_upload_carries_metadata_then_content(packages: dict[str, Any], server: MediaServer) -> None:
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        client.items.insert(
            bucket="b1", name="n", body={"name": "a\r\n--x"}, media_body=b"\x00\xff--", media_mime_type="image/png"
        )
    sent = server.requests[-1]
    assert sent.query == {"uploadType": "multipart", "name": "n"}
    parts = parse_multipart(sent.headers["content-type"], sent.body)
    assert [headers["content-type"] for headers, _ in parts] == ["application/json", "image/png"]
    assert json.loads(parts[0][1]) == {"name": "a\r\n--x"}
    assert parts[1][1] == b"\x00\xff--"


def test_max_size_and_accept_are_checked_before_sending(packages: dict[str, Any], server: MediaServer) -> None:
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        with pytest.raises(ValueError, match="not accepted"):
            client.items.insert(bucket="b1", media_body=b"x", media_mime_type="video/mp4")
        with pytest.raises(ValueError, match="maxSize of 1048576"):
            client.items.insert(bucket="b1", media_body=b"x" * (1024 * 1024 + 1), media_mime_type="text/plain")
        # A stream of unknown size is stopped before the chunk that would pass the limit.
        stream = _Unseekable(b"y" * (2 * 1024 * 1024))
        upload = media.MediaUpload(stream, "text/plain", chunk_size=GRANULE)
        with pytest.raises(ValueError, match="maxSize"):
            client.items.insert(bucket="b1", media_body=upload)
        with pytest.raises(TypeError, match="media_mime_type given without media_body"):
            client.items.insert(bucket="b1", media_mime_type="text/plain")
    sent = [request for request in server.requests if request.method == "PUT"]
    assert sum(request.body_length for request in sent) <= 1024 * 1024


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: reads only, no seek, no size."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 100_000))  # short reads, like a pipe
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _resumable_puts(server: MediaServer) -> list[Seen]:
    return [request for request in server.requests if request.method == "PUT"]


def test_resumable_upload_in_chunks_with_progress_and_session(
    packages: dict[str, Any], server: MediaServer, tmp_path: Path
) -> None:
    content = _content(3 * GRANULE + 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    progress: list[tuple[int, int | None]] = []
    sessions: list[str] = []
    upload = media.MediaUpload(
        path,
        resumable=True,
        chunk_size=GRANULE,
        progress=lambda done, total: progress.append((done, total)),
        on_session=sessions.append,
    )
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        result = client.items.big(bucket="b1", body={"name": "big.bin"}, media_body=upload)
    start = server.requests[0]
    assert (start.method, start.path, start.query) == (
        "POST",
        "/upload/mediatest/v1/b/b1/big",
        {"uploadType": "resumable"},
    )
    assert start.headers["x-upload-content-type"] == "application/octet-stream"
    assert start.headers["x-upload-content-length"] == str(len(content))
    assert json.loads(start.body) == {"name": "big.bin"}
    ranges = [request.headers["content-range"] for request in _resumable_puts(server)]
    total = len(content)
    assert ranges == [
        f"bytes 0-{GRANULE - 1}/{total}",
        f"bytes {GRANULE}-{2 * GRANULE - 1}/{total}",
        f"bytes {2 * GRANULE}-{3 * GRANULE - 1}/{total}",
        f"bytes {3 * GRANULE}-{total - 1}/{total}",
    ]
    assert result["md5Hash"] == _b64md5(content)
    assert bytes(server.sessions["s1"].data) == content
    assert progress == [(GRANULE, total), (2 * GRANULE, total), (3 * GRANULE, total), (total, total)]
    assert sessions == [upload.session_uri] and "upload_id=s1-secret" in sessions[0]
    assert server.violations == []


def _b64md5(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_resumable_upload_resumes_after_a_connection_dropped_mid_chunk(
    packages: dict[str, Any], server: MediaServer
) -> None:
    content = _content(6 * GRANULE + 7)
    server.drop_chunks = {1}  # the server keeps half of chunk 1 (1 granule of 2) and drops the connection
    server.fail_chunks = {3}  # and answers 503 to a later one
    upload = media.MediaUpload(content, "text/plain", chunk_size=2 * GRANULE, resumable=True)
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        result = client.items.big(bucket="b1", media_body=upload)
    assert result["md5Hash"] == _b64md5(content)
    assert bytes(server.sessions["s1"].data) == content
    ranges = [request.headers["content-range"] for request in _resumable_puts(server)]
    total = len(content)
    assert ranges == [
        f"bytes 0-{2 * GRANULE - 1}/{total}",
        f"bytes {2 * GRANULE}-{4 * GRANULE - 1}/{total}",  # dropped halfway: the server kept one granule
        f"bytes */{total}",  # the status query: 308 Range: bytes=0-(3 granules - 1)
        f"bytes {3 * GRANULE}-{5 * GRANULE - 1}/{total}",  # only the bytes it does not have
        f"bytes {5 * GRANULE}-{total - 1}/{total}",  # 503: nothing kept
        f"bytes */{total}",
        f"bytes {5 * GRANULE}-{total - 1}/{total}",
    ]
    assert server.violations == []


def test_resumable_upload_from_a_stream_of_unknown_size(packages: dict[str, Any], server: MediaServer) -> None:
    content = _content(2 * GRANULE)  # ends exactly on a chunk boundary: the size is sent with an empty PUT
    server.drop_chunks = {1}
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        result = client.items.big(
            bucket="b1", media_body=media.MediaUpload(_Unseekable(content), "text/plain", chunk_size=GRANULE)
        )
    assert result["md5Hash"] == _b64md5(content)
    ranges = [request.headers["content-range"] for request in _resumable_puts(server)]
    assert ranges[0] == f"bytes 0-{GRANULE - 1}/*"
    assert ranges[-1] in (f"bytes */{2 * GRANULE}", f"bytes {GRANULE}-{2 * GRANULE - 1}/*")
    assert "x-upload-content-length" not in server.requests[0].headers
    assert server.violations == []


def test_a_later_process_resumes_with_the_session_uri(
    packages: dict[str, Any], server: MediaServer, tmp_path: Path
) -> None:
    content = _content(4 * GRANULE)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    saved: list[str] = []
    server.drop_chunks = {2}
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        first = media.MediaUpload(path, chunk_size=GRANULE, resumable=True, on_session=saved.append)
        with pytest.raises(ConnectError):  # the "crash": no retries
            client.items.big(bucket="b1", media_body=first, retry=None)
    assert server.sessions["s1"].length == 2 * GRANULE
    # Another process, another client: only the session URI survived.
    before = len(server.requests)
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        result = client.items.big(
            bucket="b1", media_body=media.MediaUpload(str(path), chunk_size=GRANULE, session_uri=saved[0])
        )
    assert result["md5Hash"] == _b64md5(content)
    later = server.requests[before:]
    assert [request.headers["content-range"] for request in later] == [
        f"bytes */{len(content)}",
        f"bytes {2 * GRANULE}-{3 * GRANULE - 1}/{len(content)}",
        f"bytes {3 * GRANULE}-{4 * GRANULE - 1}/{len(content)}",
    ]
    assert all(request.method == "PUT" for request in later)
    assert server.violations == []


def test_an_expired_session_is_an_http_error(packages: dict[str, Any], server: MediaServer) -> None:
    from google.api_core import exceptions

    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        upload = media.MediaUpload(b"abc", "text/plain", session_uri=server.url + "upload/session/gone?upload_id=x")
        with pytest.raises(exceptions.NotFound) as caught:
            client.items.big(bucket="b1", media_body=upload)
    assert "upload_id" not in str(caught.value)


def test_chunk_size_must_be_a_multiple_of_256_kib() -> None:
    with pytest.raises(ValueError, match="multiple of 262144"):
        media.MediaUpload(b"x", chunk_size=1000)


# --- downloads --------------------------------------------------------------------------------


def test_media_download_returns_bytes_and_streams_into_dest(packages: dict[str, Any], server: MediaServer) -> None:
    content = _content(3 * GRANULE + 5)
    server.objects["/mediatest/v1/b/b1/items/i1"] = content
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.get_media(bucket="b1", item="i1") == content
        assert server.requests[-1].query == {"alt": "media"}
        sink = io.BytesIO()
        seen: list[tuple[int, int | None]] = []
        written = client.items.get_media(
            bucket="b1", item="i1", dest=sink, chunk_size=GRANULE, progress=lambda d, t: seen.append((d, t))
        )
    assert written == len(content) and sink.getvalue() == content
    ranged = server.requests[-4:]
    assert [request.headers["range"] for request in ranged] == [
        f"bytes={n * GRANULE}-{(n + 1) * GRANULE - 1}" for n in range(4)
    ]
    assert all(request.headers["accept-encoding"] == "identity" for request in ranged)
    assert seen[-1] == (len(content), len(content))


def test_download_resumes_after_a_response_cut_short(
    packages: dict[str, Any], server: MediaServer, tmp_path: Path
) -> None:
    content = _content(4 * GRANULE)
    server.objects["/mediatest/v1/b/b1/items/i1"] = content
    server.cut_requests = {1, 2}
    target = tmp_path / "out.bin"
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client, target.open("wb") as sink:
        assert client.items.get_media(bucket="b1", item="i1", dest=sink, chunk_size=GRANULE) == len(content)
    assert target.read_bytes() == content
    ranges = [request.headers["range"] for request in server.requests]
    assert ranges == [
        f"bytes=0-{GRANULE - 1}",
        f"bytes={GRANULE}-{2 * GRANULE - 1}",  # cut
        f"bytes={GRANULE}-{2 * GRANULE - 1}",  # cut again
        f"bytes={GRANULE}-{2 * GRANULE - 1}",
        f"bytes={2 * GRANULE}-{3 * GRANULE - 1}",
        f"bytes={3 * GRANULE}-{4 * GRANULE - 1}",
    ]


@pytest.mark.parametrize(
    ("hashes", "checked"),
    [(("crc32c", "md5"), "crc32c"), (("md5",), "md5"), (("crc32c",), "crc32c")],
)
def test_a_corrupted_download_is_detected_through_its_hash(
    packages: dict[str, Any], server: MediaServer, hashes: tuple[str, ...], checked: str
) -> None:
    """Both hashes sent: the crc32c is checked (google-crc32c's C implementation); one sent: that one."""
    content = _content(3 * GRANULE + 7)
    server.objects["/mediatest/v1/b/b1/items/i1"] = content
    server.hashes = hashes
    mismatch = f"do not match the {checked} in x-goog-hash"
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO(), chunk_size=GRANULE) == len(content)
        assert client.items.get_media(bucket="b1", item="i1") == content
        server.bad_hashes = True
        with pytest.raises(media.DownloadError, match=mismatch):
            client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO(), chunk_size=GRANULE)
        with pytest.raises(media.DownloadError, match=mismatch):
            client.items.get_media(bucket="b1", item="i1")

    async def main() -> None:
        cls = packages["mediatest_v1"].MediatestAsyncClient
        async with cls(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST) as client:
            with pytest.raises(media.DownloadError, match=mismatch):
                await client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO(), chunk_size=GRANULE)
            with pytest.raises(media.DownloadError, match=mismatch):
                await client.items.get_media(bucket="b1", item="i1")

    asyncio.run(main())


def test_md5_is_checked_without_the_c_crc32c(
    packages: dict[str, Any], server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """google-crc32c's pure-Python fallback is slower than hashlib's md5: md5 is checked then."""
    monkeypatch.setattr(google_crc32c, "implementation", "python")
    server.objects["/mediatest/v1/b/b1/items/i1"] = content = _content(1000)
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO()) == len(content)
        server.bad_hashes = True
        with pytest.raises(media.DownloadError, match="the md5 in x-goog-hash"):
            client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO())
        server.hashes = ("crc32c",)  # the only hash sent: checked, however slowly
        with pytest.raises(media.DownloadError, match="the crc32c in x-goog-hash"):
            client.items.get_media(bucket="b1", item="i1", dest=io.BytesIO())


def test_download_restarts_cleanly_when_the_server_compresses_ranges(
    packages: dict[str, Any], server: MediaServer
) -> None:
    content = _content(2 * GRANULE + 3)
    server.objects["/mediatest/v1/b/b1/items/i1"] = content
    server.gzip_ranges = True
    sink = io.BytesIO(b"prefix:")
    sink.seek(0, io.SEEK_END)
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.get_media(bucket="b1", item="i1", dest=sink, chunk_size=GRANULE) == len(content)
    assert sink.getvalue() == b"prefix:" + content
    assert "range" not in server.requests[-1].headers


def test_empty_object_download(packages: dict[str, Any], server: MediaServer) -> None:
    server.objects["/mediatest/v1/b/b1/items/empty"] = b""
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.get_media(bucket="b1", item="empty", dest=io.BytesIO()) == 0
        assert client.items.get_media(bucket="b1", item="empty") == b""


def test_a_download_method_without_response_returns_bytes(packages: dict[str, Any], server: MediaServer) -> None:
    server.objects["/mediatest/v1/b/b1/items/i1/export"] = b"a,b\n1,2\n"
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        assert client.items.export(bucket="b1", item="i1", mime_type="text/csv") == b"a,b\n1,2\n"
        assert server.requests[-1].query == {"mimeType": "text/csv"}
        assert client.items.export_media(bucket="b1", item="i1", mime_type="text/csv") == b"a,b\n1,2\n"
        assert server.requests[-1].query == {"mimeType": "text/csv", "alt": "media"}


# --- async ----------------------------------------------------------------------------------------


def test_async_upload_and_download(packages: dict[str, Any], server: MediaServer) -> None:
    pytest.importorskip("aiohttp")
    content = _content(3 * GRANULE + 11)
    server.drop_chunks = {1}
    server.objects["/mediatest/v1/b/b1/items/i1"] = content
    server.cut_requests = {1}

    async def main() -> tuple[Any, int, bytes, bytes]:
        cls = packages["mediatest_v1"].MediatestAsyncClient
        async with cls(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST) as client:
            result = await client.items.big(
                bucket="b1",
                body={"name": "x"},
                media_body=media.MediaUpload(content, chunk_size=GRANULE, resumable=True),
            )
            sink = io.BytesIO()
            written = await client.items.get_media(bucket="b1", item="i1", dest=sink, chunk_size=GRANULE)
            whole = await client.items.get_media(bucket="b1", item="i1")
            exported = await client.items.export(bucket="b1", item="i1", mime_type="x")
            del exported
            small = await client.items.insert(bucket="b1", media_body=b"tiny", media_mime_type="text/plain")
            assert small["kind"] == "media"
            return result, written, sink.getvalue(), whole

    server.objects["/mediatest/v1/b/b1/items/i1/export"] = b"e"
    result, written, streamed, whole = asyncio.run(main())
    assert result["md5Hash"] == _b64md5(content)
    assert written == len(content) and streamed == content and whole == content
    assert server.violations == []


# --- the same calls through googleapiclient -------------------------------------------------------


def _dynamic(name: str, version: str, server: MediaServer) -> Any:
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import build_http

    from codegen import bundled

    document = json.loads(bundled.find(name, version).path.read_text())
    document["rootUrl"] = server.url  # so that its upload URLs (rootUrl + "upload/" ...) reach the server
    return build_from_document(json.dumps(document), http=build_http())  # 308 is not a redirect there


#: Headers that carry the protocol; others (user-agent, x-goog-api-client, accept-encoding) differ by design.
PROTOCOL_HEADERS = ("content-range", "range", "x-upload-content-type", "x-upload-content-length")


def _comparable(request: Seen, base: str) -> tuple[Any, ...]:
    query = request.query
    query.pop("alt", None) if query.get("alt") == "json" else None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/related"):
        body: Any = [
            (
                headers.get("content-type"),
                json.loads(payload) if headers.get("content-type") == "application/json" else payload,
            )
            for headers, payload in parse_multipart(content_type, request.body)
        ]
        content_type = "multipart/related"
    elif content_type.startswith("application/json"):
        body = json.loads(request.body) if request.body else None
    else:
        body = request.body
    path = request.path
    return (
        request.method,
        path,
        sorted(query.items()),
        content_type.split(";")[0] if request.body else "",
        {name: request.headers.get(name) for name in PROTOCOL_HEADERS},
        body,
    )


def _compare(server: MediaServer, ours: list[Seen], theirs: list[Seen]) -> None:
    mine = [_comparable(request, server.url) for request in ours]
    dynamic = [_comparable(request, server.url) for request in theirs]
    assert mine == dynamic


def _run_both(server: MediaServer, ours: Any, theirs: Any) -> tuple[list[Seen], list[Seen]]:
    start = len(server.requests)
    ours()
    middle = len(server.requests)
    theirs()
    return server.requests[start:middle], server.requests[middle:]


def test_an_api_endpoint_with_the_service_path_means_what_it_means_to_googleapiclient(
    packages: dict[str, Any], server: MediaServer
) -> None:
    """googleapiclient's ``api_endpoint`` is the whole base URL (``https://host/drive/v3/``):
    code written for it sends to the same URLs here, JSON calls, uploads and batches alike."""
    from googleapiclient.discovery import build

    base = server.url + "drive/v3/"
    server.objects["/drive/v3/files/f1"] = b"data"
    service = build("drive", "v3", credentials=AnonymousCredentials(), client_options={"api_endpoint": base})
    drive = packages["drive_v3"].DriveClient(credentials=AnonymousCredentials(), client_options={"api_endpoint": base})
    with drive:
        _compare(
            server,
            *_run_both(
                server,
                lambda: drive.files.update(file_id="f1", body={"name": "n"}),
                lambda: service.files().update(fileId="f1", body={"name": "n"}).execute(),
            ),
        )
        assert server.requests[-1].path == "/drive/v3/files/f1"
        # Uploads go to the same endpoint (googleapiclient's go to the document's rootUrl whatever
        # api_endpoint says: better here).
        drive.files.create(media_body=b"x", media_mime_type="text/plain")
        assert server.requests[-1].path == "/upload/drive/v3/files"
        assert drive._batch_url() == server.url + "batch/drive/v3"
        # The root alone still gets the service path appended, as before.
        with packages["drive_v3"].DriveClient(credentials=AnonymousCredentials(), endpoint=server.url) as root:
            assert root.base_url == base


def test_drive_requests_match_googleapiclient(packages: dict[str, Any], server: MediaServer, tmp_path: Path) -> None:
    from googleapiclient.http import MediaFileUpload, MediaIoBaseDownload

    small = tmp_path / "notes.txt"
    small.write_bytes(b"some notes\n")
    big = tmp_path / "big.bin"
    big.write_bytes(_content(2 * GRANULE + 100))
    server.objects["/drive/v3/files/f1"] = _content(GRANULE + 10)
    server.objects["/drive/v3/files/f1/export"] = b"a,b\n"
    service = _dynamic("drive", "v3", server)
    with _client(packages, "drive_v3", server, "DriveClient") as client:
        # Simple upload (no metadata).
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.files.create(media_body=str(small), media_mime_type="text/plain"),
                lambda: service.files().create(media_body=MediaFileUpload(str(small), mimetype="text/plain")).execute(),
            ),
        )
        # Multipart (metadata + content), with a query parameter.
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.files.create(
                    body={"name": "notes.txt"},
                    media_body=str(small),
                    media_mime_type="text/plain",
                    supports_all_drives=True,
                ),
                lambda: (
                    service.files()
                    .create(
                        body={"name": "notes.txt"},
                        media_body=MediaFileUpload(str(small), mimetype="text/plain"),
                        supportsAllDrives=True,
                    )
                    .execute()
                ),
            ),
        )
        # Resumable, in 256 KiB chunks (the session URIs differ: compare from the start request on).
        ours, theirs = _run_both(
            server,
            lambda: client.files.update(
                file_id="f1",
                body={"name": "big.bin"},
                media_body=media.MediaUpload(big, "application/octet-stream", resumable=True, chunk_size=GRANULE),
            ),
            lambda: (
                service.files()
                .update(
                    fileId="f1",
                    body={"name": "big.bin"},
                    media_body=MediaFileUpload(
                        str(big), mimetype="application/octet-stream", chunksize=GRANULE, resumable=True
                    ),
                )
                .execute()
            ),
        )
        assert [r.path.rsplit("/", 1)[0] for r in ours[1:]] == [r.path.rsplit("/", 1)[0] for r in theirs[1:]]
        for request in ours[1:] + theirs[1:]:
            request.target = "/upload/session/S"
        _compare(server, ours, theirs)

        # Download in ranges.
        def dynamic_download() -> None:
            downloader = MediaIoBaseDownload(io.BytesIO(), service.files().get_media(fileId="f1"), chunksize=GRANULE)
            done = False
            while not done:
                _, done = downloader.next_chunk()

        _compare(
            server,
            *_run_both(
                server,
                lambda: client.files.get_media(file_id="f1", dest=io.BytesIO(), chunk_size=GRANULE),
                dynamic_download,
            ),
        )
        # Whole download, export and its media sibling.
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.files.get_media(file_id="f1"),
                lambda: service.files().get_media(fileId="f1").execute(),
            ),
        )
        ours_export: list[bytes] = []
        theirs_export: list[bytes] = []
        _compare(
            server,
            *_run_both(
                server,
                lambda: ours_export.append(client.files.export(file_id="f1", mime_type="text/csv")),
                lambda: theirs_export.append(service.files().export(fileId="f1", mimeType="text/csv").execute()),
            ),
        )
        assert ours_export == theirs_export == [b"a,b\n"]
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.files.export_media(file_id="f1", mime_type="text/csv"),
                lambda: service.files().export_media(fileId="f1", mimeType="text/csv").execute(),
            ),
        )


def test_storage_requests_match_googleapiclient(packages: dict[str, Any], server: MediaServer, tmp_path: Path) -> None:
    from googleapiclient.http import MediaFileUpload, MediaIoBaseDownload

    small = tmp_path / "o.txt"
    small.write_bytes(b"object\n")
    server.objects["/storage/v1/b/bkt/o/dir%2Fobj"] = _content(3 * GRANULE)
    service = _dynamic("storage", "v1", server)
    with _client(packages, "storage_v1", server, "StorageClient") as client:
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.objects.insert(
                    bucket="bkt", name="o.txt", media_body=str(small), media_mime_type="text/plain"
                ),
                lambda: (
                    service.objects()
                    .insert(bucket="bkt", name="o.txt", media_body=MediaFileUpload(str(small), mimetype="text/plain"))
                    .execute()
                ),
            ),
        )
        _compare(
            server,
            *_run_both(
                server,
                lambda: client.objects.insert(
                    bucket="bkt",
                    body={"name": "o.txt", "metadata": {"k": "v"}},
                    media_body=str(small),
                    media_mime_type="text/plain",
                ),
                lambda: (
                    service.objects()
                    .insert(
                        bucket="bkt",
                        body={"name": "o.txt", "metadata": {"k": "v"}},
                        media_body=MediaFileUpload(str(small), mimetype="text/plain"),
                    )
                    .execute()
                ),
            ),
        )

        def dynamic_download() -> None:
            downloader = MediaIoBaseDownload(
                io.BytesIO(), service.objects().get_media(bucket="bkt", object="dir/obj"), chunksize=GRANULE
            )
            done = False
            while not done:
                _, done = downloader.next_chunk()

        _compare(
            server,
            *_run_both(
                server,
                lambda: client.objects.get_media(bucket="bkt", object="dir/obj", dest=io.BytesIO(), chunk_size=GRANULE),
                dynamic_download,
            ),
        )


def test_media_methods_type_check(packages: dict[str, Any]) -> None:
    """The overloads of ``<method>_media`` give bytes without dest and int with one (mypy --strict)."""
    import subprocess
    import sys
    import tempfile

    snippet = (
        "import io\n"
        "from drive_v3 import DriveClient\n"
        "from typing import assert_type\n"
        "def use(client: DriveClient) -> None:\n"
        "    assert_type(client.files.get_media(file_id='f'), bytes)\n"
        "    assert_type(client.files.get_media(file_id='f', dest=io.BytesIO()), int)\n"
        "    assert_type(client.files.export(file_id='f', mime_type='text/csv'), bytes)\n"
        "    client.files.create(media_body=b'x', media_mime_type='text/plain')\n"
    )
    package_dir = Path(packages["drive_v3"].__file__).parent.parent
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "use_media.py").write_text(snippet)
        env = {**os.environ, "MYPYPATH": str(package_dir)}
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(Path(folder) / "use_media.py")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_drive_and_storage_program(packages: dict[str, Any], server: MediaServer, tmp_path: Path) -> None:
    """What a ported program does: upload a file to Drive (metadata + content, resumable), export
    a Doc as CSV, download a Storage object into a file — with the generated clients."""
    report = tmp_path / "report.bin"
    report.write_bytes(_content(6 * 1024 * 1024 + 123))  # over 5 MiB: resumable by default
    server.objects["/drive/v3/files/doc-1/export"] = b"name,size\nreport,6\n"
    server.objects["/storage/v1/b/my-bucket/o/logs%2Ftoday.txt"] = _content(40 * 1024 * 1024 + 1)
    with _client(packages, "drive_v3", server, "DriveClient") as drive:
        created = drive.files.create(body={"name": "report.bin"}, media_body=report)
        csv = drive.files.export(file_id="doc-1", mime_type="text/csv")
    with (
        _client(packages, "storage_v1", server, "StorageClient") as storage,
        (tmp_path / "today.txt").open("wb") as sink,
    ):
        written = storage.objects.get_media(bucket="my-bucket", object="logs/today.txt", dest=sink)
    assert created["md5Hash"] == _b64md5(report.read_bytes())
    assert server.requests[0].query == {"uploadType": "resumable"}
    assert [r.headers["content-range"].split("/")[0] for r in _resumable_puts(server)] == [
        "bytes 0-16777215" if report.stat().st_size > 16 * 1024 * 1024 else f"bytes 0-{report.stat().st_size - 1}"
    ]
    assert csv == b"name,size\nreport,6\n"
    assert written == 40 * 1024 * 1024 + 1
    assert (tmp_path / "today.txt").read_bytes() == server.objects["/storage/v1/b/my-bucket/o/logs%2Ftoday.txt"]
    ranges = [r.headers.get("range") for r in server.requests if r.path.startswith("/storage/")]
    assert ranges == ["bytes=0-16777215", "bytes=16777216-33554431", "bytes=33554432-50331647"]


class _RotatingToken(AnonymousCredentials):
    """Bearer tokens t1, t2, …: each refresh gives the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.refreshes = 0
        self.token = "t1"

    @property
    def valid(self) -> bool:
        return True

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = f"t{self.refreshes + 1}"

    def apply(self, headers: Any, token: str | None = None) -> None:
        headers["authorization"] = f"Bearer {self.token}"


def test_a_chunk_refused_with_401_refreshes_the_token_and_goes_on(
    packages: dict[str, Any], server: MediaServer
) -> None:
    content = _content(2 * GRANULE)
    server.reject_token = "Bearer t1"  # the token expires during the upload: session requests get 401
    credentials = _RotatingToken()
    cls = packages["mediatest_v1"].MediatestClient
    with cls(credentials=credentials, endpoint=server.url, retry=FAST) as client:
        result = client.items.big(
            bucket="b1", media_body=media.MediaUpload(content, chunk_size=GRANULE, resumable=True)
        )
    assert result["md5Hash"] == _b64md5(content)
    assert credentials.refreshes == 1
    puts = _resumable_puts(server)
    assert [r.headers["authorization"] for r in puts] == ["Bearer t1", "Bearer t2", "Bearer t2"]
    assert server.violations == []


def test_a_server_that_acknowledges_nothing_ends_the_upload(packages: dict[str, Any], server: MediaServer) -> None:
    server.ignore_chunks = True
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        with pytest.raises(media.MediaError, match="acknowledged nothing new in its last 3 answers"):
            client.items.big(
                bucket="b1", media_body=media.MediaUpload(b"z" * GRANULE * 2, resumable=True, chunk_size=GRANULE)
            )
    assert len(_resumable_puts(server)) == 3


def test_a_mime_type_cannot_add_headers(packages: dict[str, Any], server: MediaServer) -> None:
    with _client(packages, "mediatest_v1", server, "MediatestClient") as client:
        for bad in ("text/plain\r\nX-Injected: 1", "textplain", "text/pläin"):
            with pytest.raises(ValueError, match="not a MIME type"):
                client.items.big(bucket="b1", body={"name": "n"}, media_body=b"x", media_mime_type=bad)
    assert server.requests == []


# --- servers that misreport progress or size ------------------------------------------------


class _Misreporting:
    """A storage-like server whose resumable sessions answer 308 with ``ranges`` in turn (the
    last one repeated), and whose object answers ranged GETs from ``versions`` in turn."""

    def __init__(self, ranges: list[str] | None = None, versions: list[tuple[bytes, str, int]] | None = None) -> None:
        self.ranges = ranges or []
        self.versions = versions or []  # (content, generation, status for this GET: 206, 200 or 416)
        self.puts: list[str] = []
        self.gets = 0

    def __call__(self, request: Any) -> Any:
        from tests.support.loopback import Reply

        if request.method == "POST":
            return Reply(200, b"", headers={"location": f"{self.url}upload/session/s1"})
        if request.method == "PUT":
            self.puts.append(request.headers.get("content-range", ""))
            answer = self.ranges[min(len(self.puts), len(self.ranges)) - 1]
            return Reply(308, b"", headers={"range": answer})
        content, generation, status = self.versions[min(self.gets, len(self.versions) - 1)]
        self.gets += 1
        headers = {"x-goog-generation": generation, "content-type": "application/octet-stream"}
        if status == 416:
            return Reply(416, b"", headers={**headers, "content-range": f"bytes */{len(content)}"})
        if status == 200:
            return Reply(200, content, headers=headers)
        first, last = (int(n) for n in request.headers["range"].removeprefix("bytes=").split("-"))
        part = content[first : last + 1]
        span = f"bytes {first}-{first + len(part) - 1}/{len(content)}"
        return Reply(206, part, headers={**headers, "content-range": span})

    url = ""


def _storage(packages: dict[str, Any], handler: _Misreporting) -> Any:
    from tests.support.loopback import LoopbackServer

    server = LoopbackServer(handler)
    handler.url = server.url
    return server


@pytest.mark.parametrize(
    ("ranges", "problem"),
    [
        (  # every byte acknowledged, then the upload closed again and again: never a 200
            ["bytes=0-262143", "bytes=0-524287", "bytes=0-786431", "bytes=0-1048575"],
            "acknowledged nothing new in its last 3 answers",
        ),
        (["bytes=0-524287"], "acknowledged 524288 bytes of an upload that has sent it 262144"),  # a hole
        (["bytes=0-99999999999999999999"], "unexpected Range header"),
        (["bytes=0--5"], "unexpected Range header"),
    ],
)
def test_a_resumable_upload_refuses_acknowledgements_that_cannot_be_true(
    packages: dict[str, Any], ranges: list[str], problem: str
) -> None:
    handler = _Misreporting(ranges=ranges)
    content = _content(4 * GRANULE)
    with _storage(packages, handler) as server:
        with packages["storage_v1"].StorageClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
            upload = media.MediaUpload(content, "text/plain", chunk_size=GRANULE, resumable=True)
            with pytest.raises(media.MediaError, match=problem):
                client.objects.insert(bucket="b1", media_body=upload, retry=FAST)
    assert len(handler.puts) <= 7  # bounded: no loop of PUTs


@pytest.mark.parametrize(
    ("versions", "problem"),
    [
        ([(b"a" * 3 * GRANULE, "1", 206), (b"b" * 3 * GRANULE, "2", 206)], r"changed during the download \(generation"),
        ([(b"a" * 3 * GRANULE, "1", 206), (b"a" * (GRANULE + 5), "1", 206)], "size changed from"),
        ([(b"a" * 3 * GRANULE, "1", 206), (b"a" * GRANULE, "1", 200)], "a whole answer ended at byte"),
        ([(b"a" * 1000, "1", 416)], "refused byte 0 of an object it says has 1000 bytes"),
    ],
)
def test_a_download_refuses_an_object_that_changes_under_it(
    packages: dict[str, Any], tmp_path: Path, versions: list[tuple[bytes, str, int]], problem: str
) -> None:
    handler = _Misreporting(versions=versions)
    with _storage(packages, handler) as server:
        with packages["storage_v1"].StorageClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
            with open(tmp_path / "out.bin", "wb") as dest, pytest.raises(media.DownloadError, match=problem):
                client.objects.get_media(bucket="b1", object="o", dest=dest, chunk_size=GRANULE, retry=FAST)


def test_an_empty_object_and_a_dest_that_is_not_a_file(packages: dict[str, Any], tmp_path: Path) -> None:
    handler = _Misreporting(versions=[(b"", "1", 416)])
    with _storage(packages, handler) as server:
        with packages["storage_v1"].StorageClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
            with open(tmp_path / "empty.bin", "wb") as dest:
                assert client.objects.get_media(bucket="b1", object="o", dest=dest) == 0
            with pytest.raises(TypeError, match="dest must be a binary file object"):
                client.objects.get_media(bucket="b1", object="o", dest=str(tmp_path / "x.bin"))
    assert handler.gets == 1  # the path was refused before any request

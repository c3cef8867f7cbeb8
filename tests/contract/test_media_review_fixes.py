"""Fixes from a review of media uploads, downloads and the pooled transport, over loopback HTTP.

Each test runs the sync client on its default transport (:class:`PooledTransport`) with
google-auth's AnonymousCredentials against a server it starts: the media server of
tests/support/media_server.py, the recording server of tests/support/loopback.py, or the raw
socket server of tests/runtime/test_pooled_transport.py.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gapi_runtime import PooledTransport, media
from gapi_runtime.retry import RetryPolicy
from google.auth.credentials import AnonymousCredentials

from tests.contract.test_media import MEDIA_DOC
from tests.runtime.test_pooled_transport import OK, RawServer
from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer, Recorded, Reply
from tests.support.media_server import GRANULE, MediaServer, Session

MiB = 1024 * 1024
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=3)
RATE_LIMITED = {
    "error": {
        "code": 403,
        "message": "Rate limit exceeded",
        "errors": [{"reason": "rateLimitExceeded", "domain": "usageLimits", "message": "Rate limit exceeded"}],
    }
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("media-review")
    doc = out / "mediatest.json"
    doc.write_text(json.dumps(MEDIA_DOC))
    gp.generate_path(doc, out)
    yield gp.load(out, "mediatest_v1")
    gp.forget("mediatest_v1")


def _client(package: Any, url: str) -> Any:
    return package.MediatestClient(credentials=AnonymousCredentials(), endpoint=url, retry=FAST)


def _content(size: int) -> bytes:
    return bytes(range(251)) * (size // 251) + bytes(range(size % 251))


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: reads only, no seek, no size."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 100_000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# --- 1, 2: compressed files, and errors reading the caller's file -----------------------------


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open], ids=["gzip", "bz2", "lzma"])
def test_a_compressed_file_uploads_its_decompressed_bytes(package: Any, tmp_path: Path, opener: Any) -> None:
    content = _content(600 * 1024)  # more than a block: sent from the file, not as bytes
    path = tmp_path / "content.compressed"
    with opener(path, "wb") as out:
        out.write(content)
    with MediaServer() as server, _client(package, server.url) as client, opener(path, "rb") as source:
        assert client.items.big(bucket="b1", media_body=source)["kind"] == "media"
    assert server.requests[-1].body == content


class _BreaksAfterOneBlock(io.BytesIO):
    """A seekable file whose reads fail past its first 256 KiB (as a truncated archive does)."""

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() >= GRANULE:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        return super().read(size)


def test_an_error_reading_the_callers_file_is_raised_as_it_is_and_not_retried(package: Any) -> None:
    upload = media.MediaUpload(_BreaksAfterOneBlock(_content(MiB)), chunk_size=MiB, resumable=True)
    with MediaServer() as server, _client(package, server.url) as client:
        with pytest.raises(EOFError, match="end-of-stream marker"):
            client.items.big(bucket="b1", media_body=upload)
    assert [seen.method for seen in server.requests] == ["POST", "PUT"]  # no status query, no second chunk


# --- 3: resuming with a stream that cannot seek -----------------------------------------------


def _session_holding(server: MediaServer, data: bytes) -> str:
    session = Session(b"", "application/octet-stream", None)
    session.data += data
    session.received.update(data)
    session.length = len(data)
    server.sessions["s9"] = session
    return f"{server.url}upload/session/s9?upload_id=s9-secret"


def test_resuming_with_a_stream_that_cannot_seek_reads_past_what_the_server_has(package: Any) -> None:
    content = _content(3 * MiB + 1000)
    with MediaServer() as server, _client(package, server.url) as client:
        uri = _session_holding(server, content[:MiB])
        upload = media.MediaUpload(_Unseekable(content), chunk_size=MiB, session_uri=uri)
        client.items.big(bucket="b1", media_body=upload)
        assert bytes(server.sessions["s9"].data) == content
        assert server.violations == []
        # A stream shorter than what the server has cannot go on.
        uri = _session_holding(server, content[:MiB])
        short = media.MediaUpload(_Unseekable(content[: MiB // 2]), chunk_size=MiB, session_uri=uri)
        with pytest.raises(media.MediaError, match="the stream ended at byte 524288, before the 1048576 bytes"):
            client.items.big(bucket="b1", media_body=short)


# --- 4: one MediaUpload, several uploads -------------------------------------------------------


def test_a_media_upload_used_again_opens_a_new_session_and_sends_its_content_again(
    package: Any, tmp_path: Path
) -> None:
    content = _content(MiB + 100)
    path = tmp_path / "content.bin"
    path.write_bytes(content)
    seekable = io.BytesIO(b"head" + content)
    seekable.seek(4)
    with MediaServer() as server, _client(package, server.url) as client:
        for source in (content, path, seekable):
            upload = media.MediaUpload(source, chunk_size=GRANULE, resumable=True)
            opened: list[str] = []
            for _ in range(2):
                client.items.big(bucket="b1", media_body=upload)
                assert upload.session_uri is not None
                opened.append(upload.session_uri)
            assert opened[0] != opened[1]
            for uri in opened:
                assert bytes(server.sessions[uri.rsplit("/", 1)[1].split("?")[0]].data) == content
        assert len(server.sessions) == 6 and server.violations == []
        # A stream that cannot seek goes once; a second upload is refused before any request.
        once = media.MediaUpload(_Unseekable(content), chunk_size=GRANULE)
        client.items.big(bucket="b1", media_body=once)
        sent = len(server.requests)
        with pytest.raises(media.MediaError, match="cannot seek and an earlier upload read it"):
            client.items.big(bucket="b1", media_body=once)
        assert len(server.requests) == sent
        # Assigning a session URI makes the next call resume it (here: already complete).
        upload = media.MediaUpload(content, chunk_size=GRANULE, resumable=True)
        client.items.big(bucket="b1", media_body=upload)
        upload.session_uri = upload.session_uri
        sent = len(server.requests)
        client.items.big(bucket="b1", media_body=upload)
        assert [(seen.method, seen.headers["content-range"]) for seen in server.requests[sent:]] == [
            ("PUT", f"bytes */{len(content)}")
        ]


# --- 5: a rate-limited 403 is retried for chunks and downloads ---------------------------------


def test_a_rate_limited_403_is_retried_for_a_chunk_and_a_download(package: Any) -> None:
    content = _content(1000)
    answered: dict[str, int] = {"PUT": 0, "GET": 0}

    def handler(request: Recorded) -> Reply:
        if request.method == "POST":
            return Reply(200, b"", headers={"location": f"{server.url}upload/session/s1"})
        answered[request.method] += 1
        if answered[request.method] == 1:
            return Reply(403, RATE_LIMITED)
        if request.method == "PUT":
            if request.headers["content-range"].startswith("bytes */"):
                return Reply(308, b"")
            return Reply(200, {"id": "done"})
        return Reply(200, content, headers={"content-type": "application/octet-stream"})

    with LoopbackServer(handler) as server, _client(package, server.url) as client:
        assert client.items.big(bucket="b1", media_body=media.MediaUpload(content, resumable=True)) == {"id": "done"}
        assert client.items.get_media(bucket="b1", item="i") == content
        assert client.items.get_media(bucket="b1", item="i", dest=io.BytesIO()) == len(content)
    assert [seen.method for seen in server.requests].count("PUT") == 3  # the chunk, a status query, the chunk


# --- 6, 7: a 416 that does not say the object is empty; impossible Content-Ranges -------------


@pytest.mark.parametrize("content_range", [None, "bytes */unknown", "garbage", "bytes */"])
def test_a_416_is_an_empty_object_only_when_it_says_bytes_star_slash_0(package: Any, content_range: str | None) -> None:
    headers = {} if content_range is None else {"content-range": content_range}
    with LoopbackServer(lambda request: Reply(416, {"error": {"code": 416}}, headers=headers)) as server:
        with _client(package, server.url) as client, pytest.raises(media.DownloadError, match="without saying"):
            client.items.get_media(bucket="b1", item="i", dest=io.BytesIO())
    with LoopbackServer(lambda request: Reply(416, b"", headers={"content-range": "bytes */0"})) as server:
        with _client(package, server.url) as client:
            assert client.items.get_media(bucket="b1", item="i", dest=io.BytesIO()) == 0


@pytest.mark.parametrize(
    ("content_range", "body"),
    [("bytes 0--1/1000", b""), ("bytes 0-1/1000x", b"ab"), ("bytes 0-1999/1000", b"x" * 2000), ("bytes 0-+1/9", b"ab")],
)
def test_an_impossible_content_range_fails_the_download(package: Any, content_range: str, body: bytes) -> None:
    def handler(request: Recorded) -> Reply:
        if len(server.requests) > 20:  # a download going round in circles: end it
            return Reply(404, {"error": {"code": 404, "message": "looped"}})
        return Reply(206, body, headers={"content-range": content_range, "content-type": "application/octet-stream"})

    with LoopbackServer(handler) as server, _client(package, server.url) as client:
        with pytest.raises(media.DownloadError, match="Content-Range"):
            client.items.get_media(bucket="b1", item="i", dest=io.BytesIO())
        assert len(server.requests) == 1


# --- 8: bytes past an answer are not taken for the next answer --------------------------------


def test_bytes_past_an_answer_are_not_read_as_the_next_answer() -> None:
    smuggled = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"smuggled":1}'
    answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"answer":2}'
    server = RawServer(scripts=[lambda request: OK + smuggled, lambda request: answer])
    transport = PooledTransport()
    try:
        assert transport.request("GET", server.url + "one", {}, None, 5).data == b"{}"
        assert transport.request("GET", server.url + "two", {}, None, 5).data == b'{"answer":2}'
        assert [request.connection for request in server.requests] == [0, 1]  # the first was not kept
    finally:
        transport.close()
        server.close()

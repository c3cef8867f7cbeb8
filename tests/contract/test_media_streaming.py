"""Media bodies stream: uploads are sent from the file in blocks, downloads written to the file as they arrive.

Over loopback HTTP (tests/support/media_server.py), through each transport: the sync client's
:class:`PooledTransport` (the default) and :class:`Urllib3Transport`, the async client's
:class:`AsyncPooledTransport` (the default) and :class:`AiohttpTransport`, and a transport
that takes bytes only (the fallback: bodies materialised, answers replayed into the sink).
Memory is measured with ``tracemalloc`` (the server reads and sends in 64 KiB blocks when it
keeps no bodies, so the peak is the client's): it stays far below the chunk size.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from gapi_runtime import ConnectError, PooledTransport, Response, media
from gapi_runtime.aiohttp_transport import AiohttpTransport
from gapi_runtime.asyncio_transport import AsyncPooledTransport
from gapi_runtime.retry import RetryPolicy
from gapi_runtime.transport import Urllib3Transport
from gapi_runtime.wire import BLOCK, FileSlice, LocalFailure, StreamBody
from google.auth.credentials import AnonymousCredentials

from tests.contract.test_media import MEDIA_DOC
from tests.runtime.test_pooled_transport import OK, RawServer
from tests.support import generated_packages as gp
from tests.support.media_server import GRANULE, MediaServer, parse_multipart
from tests.support.netfixtures import https_url, make_pki, tls_server

MiB = 1024 * 1024
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=10)


class BytesOnly:
    """A real transport seen through ``request`` alone: no ``stream``, bodies as bytes."""

    def __init__(self) -> None:
        self._inner = PooledTransport()

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        assert body is None or isinstance(body, bytes)
        return self._inner.request(method, url, headers, body, timeout)

    def close(self) -> None:
        self._inner.close()


SYNC: dict[str, Callable[[], Any]] = {"pooled": PooledTransport, "urllib3": Urllib3Transport, "bytes-only": BytesOnly}
ASYNC: dict[str, Callable[[], Any]] = {"asyncio": AsyncPooledTransport, "aiohttp": AiohttpTransport}
TRANSPORTS = [*SYNC, *ASYNC]
STREAMING = [name for name in TRANSPORTS if name != "bytes-only"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("media-streaming")
    doc = out / "mediatest.json"
    doc.write_text(json.dumps(MEDIA_DOC))
    gp.generate_path(doc, out)
    yield gp.load(out, "mediatest_v1")
    gp.forget("mediatest_v1")


def _content(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _call(package: Any, server: MediaServer, transport: str, action: str, measure: bool = False, **kwargs: Any) -> Any:
    """``client.items.<action>(bucket="b1", **kwargs)`` through ``transport``; with ``measure``,
    (result, peak bytes traced during the call)."""
    if transport in SYNC:
        cls = package.MediatestClient
        with cls(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST, transport=SYNC[transport]()) as c:
            return _traced(lambda: getattr(c.items, action)(bucket="b1", **kwargs), measure)

    async def main() -> Any:
        cls = package.MediatestAsyncClient
        transport_ = ASYNC[transport]()
        async with cls(credentials=AnonymousCredentials(), endpoint=server.url, retry=FAST, transport=transport_) as c:
            await c.items.insert(bucket="b1", media_body=b"warm", media_mime_type="text/plain")  # connect, import
            if measure:
                tracemalloc.start()
            try:
                result = await getattr(c.items, action)(bucket="b1", **kwargs)
                return (result, tracemalloc.get_traced_memory()[1]) if measure else result
            finally:
                tracemalloc.stop()

    return asyncio.run(main())


def _traced(call: Callable[[], Any], measure: bool) -> Any:
    if not measure:
        return call()
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the body type -------------------------------------------------------------------------------


def test_a_stream_body_is_read_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    content = _content(3 * BLOCK + 5)
    path.write_bytes(content)
    with path.open("rb") as file:
        body = StreamBody(b"head", FileSlice(file, 7, 2 * BLOCK + 3), memoryview(b"x" * (BLOCK + 1)))
        assert len(body) == 4 + 2 * BLOCK + 3 + BLOCK + 1
        first = [bytes(block) for block in body.blocks()]
        file.seek(0, io.SEEK_END)  # wherever the file was left, the next pass starts over
        assert [bytes(block) for block in body.blocks()] == first
        assert max(len(block) for block in first) == BLOCK
        assert body.read() == b"head" + content[7 : 7 + 2 * BLOCK + 3] + b"x" * (BLOCK + 1)
        assert body.framed({"A": "1"}) == {"A": "1", "content-length": str(len(body))}
        assert body.framed({"Content-Length": "9"}) == {"Content-Length": "9"}
        short = StreamBody(FileSlice(file, len(content) - 10, 20))
        with pytest.raises(LocalFailure, match="the file ended 10 bytes before the end of the request body"):
            list(short.blocks())


# --- uploads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_large_resumable_upload_streams_from_the_file(package: Any, tmp_path: Path, transport: str) -> None:
    chunk = 8 * MiB
    content = _content(2 * chunk + 12345)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    with MediaServer(keep_bodies=False) as server:
        upload = media.MediaUpload(path, "application/octet-stream", chunk_size=chunk)
        result, peak = _call(package, server, transport, "big", measure=True, body={"name": "big"}, media_body=upload)
        ranges = [seen.headers["content-range"] for seen in server.requests if seen.method == "PUT"]
    assert result["md5Hash"] == _md5(content) and int(result["size"]) == len(content)
    assert ranges == [
        f"bytes 0-{chunk - 1}/{len(content)}",
        f"bytes {chunk}-{2 * chunk - 1}/{len(content)}",
        f"bytes {2 * chunk}-{len(content) - 1}/{len(content)}",
    ]
    assert server.violations == []
    if transport == "bytes-only":  # the fallback holds a chunk (what every transport did before)
        assert peak > chunk
    else:
        assert peak < chunk / 4, f"{peak} bytes traced for {chunk}-byte chunks"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_multipart_and_simple_uploads_stream_the_file(package: Any, tmp_path: Path, transport: str) -> None:
    content = _content(4 * BLOCK + 3) + b"\r\n--"
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    with MediaServer() as server:
        multipart = media.MediaUpload(path, "text/plain", resumable=False)
        assert (
            _call(package, server, transport, "big", body={"name": "doc"}, media_body=multipart)["kind"] == "multipart"
        )
        simple = media.MediaUpload(path, "text/plain", resumable=False)
        assert _call(package, server, transport, "big", media_body=simple)["kind"] == "media"
    sent = [seen for seen in server.requests if seen.path == "/upload/mediatest/v1/b/b1/big"]
    parts = parse_multipart(sent[-2].headers["content-type"], sent[-2].body)
    assert [headers["content-type"] for headers, _ in parts] == ["application/json", "text/plain"]
    assert json.loads(parts[0][1]) == {"name": "doc"} and parts[1][1] == content
    assert sent[-1].body == content and sent[-1].headers["content-type"] == "text/plain"
    assert "transfer-encoding" not in sent[-1].headers  # sent with its length, not chunked
    assert sent[-1].headers["content-length"] == str(len(content))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_chunk_cut_midway_is_sent_again_from_the_file(package: Any, tmp_path: Path, transport: str) -> None:
    content = _content(6 * GRANULE + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    with MediaServer() as server:
        server.drop_chunks = {1}  # the server keeps one granule of chunk 1 and drops the connection
        server.fail_chunks = {3}  # and answers 503 to a later one
        upload = media.MediaUpload(path, "text/plain", chunk_size=2 * GRANULE, resumable=True)
        result = _call(package, server, transport, "big", media_body=upload)
        puts = [seen for seen in server.requests if seen.method == "PUT"]
    assert result["md5Hash"] == _md5(content)
    assert bytes(server.sessions["s1"].data) == content
    for seen in puts:  # every chunk carried the file's bytes of its range, re-read from the file
        span = seen.headers["content-range"].split(" ")[1].split("/")[0]
        if span != "*" and seen.body:
            first, last = (int(value) for value in span.split("-"))
            assert seen.body == content[first : last + 1]
    assert server.violations == []


# --- downloads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_download_streams_into_the_file(package: Any, tmp_path: Path, transport: str) -> None:
    chunk = 8 * MiB
    content = _content(2 * chunk + 777)
    target = tmp_path / "out.bin"
    with MediaServer() as server, target.open("wb") as dest:
        server.objects["/mediatest/v1/b/b1/items/i1"] = content
        server.hash_header(content)  # computed (and cached) before the measurement
        written, peak = _call(
            package, server, transport, "get_media", measure=True, item="i1", dest=dest, chunk_size=chunk
        )
    assert written == len(content) and target.read_bytes() == content
    if transport == "bytes-only":  # answers read whole, then replayed into the file
        assert peak > chunk
    else:
        assert peak < chunk / 4, f"{peak} bytes traced for {chunk}-byte ranges"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_download_cut_midway_goes_on_and_checks_the_hash(package: Any, tmp_path: Path, transport: str) -> None:
    content = _content(4 * GRANULE + 5)
    target = tmp_path / "out.bin"
    with MediaServer() as server:
        server.objects["/mediatest/v1/b/b1/items/i1"] = content
        server.cut_requests = {1, 2}  # the second range is cut halfway, twice
        with target.open("wb") as dest:
            assert _call(package, server, transport, "get_media", item="i1", dest=dest, chunk_size=2 * GRANULE) == len(
                content
            )
        assert target.read_bytes() == content
        ranges = [seen.headers["range"] for seen in server.requests if seen.method == "GET"]
        assert ranges[-4:] == [f"bytes={2 * GRANULE}-{4 * GRANULE - 1}"] * 3 + [
            f"bytes={4 * GRANULE}-{6 * GRANULE - 1}"
        ]
        server.bad_hashes = True
        for hashes, checked in [(("crc32c", "md5"), "crc32c"), (("md5",), "md5")]:
            server.hashes = hashes
            with pytest.raises(media.DownloadError, match=f"the {checked} in"), target.open("wb") as dest:
                _call(package, server, transport, "get_media", item="i1", dest=dest, chunk_size=2 * GRANULE)


class _FullDisk(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_dest_that_cannot_write_fails_with_its_own_error(package: Any, transport: str) -> None:
    with MediaServer() as server:
        server.objects["/mediatest/v1/b/b1/items/i1"] = _content(3 * BLOCK)
        with pytest.raises(OSError, match="No space left on device") as raised:
            _call(package, server, transport, "get_media", item="i1", dest=_FullDisk())
        assert not isinstance(raised.value, ConnectError)  # not a transport failure, not retried
        assert len([seen for seen in server.requests if seen.method == "GET"]) == 1


# --- a stale connection sends the body again, from its start -----------------------------------------


@pytest.mark.parametrize("kind", ["threads", "asyncio"])
def test_a_request_sent_again_on_a_fresh_connection_resends_the_whole_body(tmp_path: Path, kind: str) -> None:
    content = _content(3 * BLOCK + 11)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    raw = RawServer()
    # The first request is answered on connection 0; the second is read whole and the connection
    # closed without an answer (a server closing a kept-alive connection as the request came):
    # the transport sends it again on a fresh connection.
    raw.scripts += [lambda _: OK, lambda _: None, lambda _: OK]
    try:
        with path.open("rb") as file:
            body = StreamBody(b"<", FileSlice(file, 5, len(content) - 5), b">")
            expected = b"<" + content[5:] + b">"
            if kind == "threads":
                transport = PooledTransport()
                answers = [transport.stream("PUT", raw.url + "x", {}, body, 5.0) for _ in range(2)]
            else:

                async def main() -> list[Response]:
                    transport = AsyncPooledTransport()
                    try:
                        return [await transport.stream("PUT", raw.url + "x", {}, body, 5.0) for _ in range(2)]
                    finally:
                        await transport.close()

                answers = asyncio.run(main())
    finally:
        raw.close()
    assert [answer.status for answer in answers] == [200, 200]
    assert [request.connection for request in raw.requests] == [0, 0, 1]
    assert [request.body for request in raw.requests] == [expected] * 3
    assert all(f"Content-Length: {len(expected)}" in request.lines for request in raw.requests)


@pytest.mark.parametrize("kind", ["threads", "asyncio"])
def test_a_stream_body_goes_over_tls(tmp_path: Path, kind: str) -> None:
    pki = make_pki(tmp_path)
    content = _content(2 * BLOCK + 9)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    with tls_server(pki, require_client_cert=False) as server, path.open("rb") as file:
        body = StreamBody(b"[", FileSlice(file, 3, len(content) - 3), b"]")
        url = https_url(server) + "upload"
        if kind == "threads":
            answer = PooledTransport(ssl_context=pki.client_context()).stream("PUT", url, {}, body, 5.0)
        else:

            async def main() -> Response:
                transport = AsyncPooledTransport(ssl_context=pki.client_context())
                try:
                    return await transport.stream("PUT", url, {}, body, 5.0)
                finally:
                    await transport.close()

            answer = asyncio.run(main())
    assert answer.status == 200
    assert server.requests[-1].body == b"[" + content[3:] + b"]"

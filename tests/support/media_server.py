"""A loopback server that speaks the media protocols, for contract tests and benchmarks.

* Uploads: ``uploadType=media`` and ``uploadType=multipart`` store the object and answer
  its JSON; ``uploadType=resumable`` opens a session (``200`` + ``Location``), whose ``PUT``
  chunks (``Content-Range: bytes A-B/T``) are answered ``308`` + ``Range: bytes=0-N`` until
  the last, and whose status queries (``Content-Range: bytes */T``) are answered the same
  way. Faults: ``drop_chunks`` — chunk requests (by number, counting from 0) during which
  the server reads half the body, keeps a 256 KiB-aligned part of it and drops the
  connection without answering; ``fail_chunks`` — chunk requests answered ``503`` without
  keeping anything.
  ``reject_token`` — an ``Authorization`` value that session requests are refused with 401;
  ``ignore_chunks`` — chunks answered 308 without keeping anything (a broken server).
* Downloads: a ``GET`` of a stored object (any query) honours ``Range: bytes=A-B`` with
  ``206`` + ``Content-Range``; ``cut_requests`` — download requests (by number) whose body
  is cut off halfway, after a full ``Content-Length``; ``gzip_ranges`` — ranged answers
  compressed despite ``Accept-Encoding: identity``; ``hashes`` names what
  ``x-goog-hash`` carries (default ``crc32c=…,md5=…``, as Cloud Storage; empty: no header),
  ``bad_hashes`` makes every one of them wrong.

Every request is recorded (method, raw target, lower-cased headers, body unless
``keep_bodies`` is False). One response is written per ``sendall`` (no delayed-ACK stalls),
except that a large body follows its head and first 64 KiB from the stored object itself
(no copy). Without ``keep_bodies`` the server reads request bodies in 64 KiB blocks and
keeps only their md5 and length, so that its own memory stays small (the tests that
measure a client's allocations run it in the same process).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import google_crc32c

GRANULE = 256 * 1024
BLOCK = 64 * 1024


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    body_length: int

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))


@dataclass
class Session:
    metadata: bytes
    mime_type: str
    total: int | None
    received: Any = field(default_factory=hashlib.md5)
    length: int = 0
    data: bytearray = field(default_factory=bytearray)
    done: bool = False


class MediaServer:
    """``with MediaServer() as server:`` — ``server.url`` is ``http://127.0.0.1:PORT/``."""

    def __init__(self, *, keep_bodies: bool = True) -> None:
        self.keep_bodies = keep_bodies
        self.requests: list[Seen] = []
        self.objects: dict[str, bytes] = {}  # path → content, for downloads
        self.uploads: list[dict[str, Any]] = []  # what each finished upload stored
        self.sessions: dict[str, Session] = {}
        self.drop_chunks: set[int] = set()
        self.fail_chunks: set[int] = set()
        self.cut_requests: set[int] = set()
        self.gzip_ranges = False
        self.hashes: tuple[str, ...] = ("crc32c", "md5")
        self.reject_token = ""  # an Authorization value that resumable chunks get 401 for
        self.ignore_chunks = False  # answer chunks 308 without keeping them
        self.bad_hashes = False
        self.violations: list[str] = []  # protocol rules the client broke (re-sent bytes, bad ranges)
        self.chunk_count = 0
        self.download_count = 0
        self._lock = threading.Lock()
        self._digests: dict[tuple[int, int, tuple[str, ...], bool], str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes | memoryview = b"", headers: dict[str, str] | None = None) -> None:
                head = [f"HTTP/1.1 {status} {self.responses.get(status, ('X',))[0]}"]
                fields = {"content-type": "application/json; charset=UTF-8", **(headers or {})}
                fields["content-length"] = str(len(body))
                head += [f"{k}: {v}" for k, v in fields.items()]
                first = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + bytes(body[:BLOCK])
                self.wfile.write(first)
                if len(body) > BLOCK:
                    self.wfile.write(body[BLOCK:])
                self.wfile.flush()

            def _body(self, length: int, keep: bool) -> tuple[bytes, Any]:
                """The request body (empty unless ``keep``) and its md5, read in blocks."""
                digest = hashlib.md5()
                if keep:
                    body = self.rfile.read(length)
                    digest.update(body)
                    return body, digest
                left = length
                while left:
                    block = self.rfile.read(min(left, BLOCK))
                    if not block:
                        break
                    digest.update(block)
                    left -= len(block)
                return b"", digest

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

            def _record(self, body: bytes, length: int) -> Seen:
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body if server.keep_bodies else b"",
                    length,
                )
                with server._lock:
                    server.requests.append(seen)
                return seen

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                uploading = self.path.startswith("/upload/") and "uploadType=resumable" not in self.path
                body, digest = self._body(length, server.keep_bodies or not uploading)
                seen = self._record(body, length)
                kind = seen.query.get("uploadType")
                if kind == "resumable":
                    total = self.headers.get("x-upload-content-length")
                    sid = f"s{len(server.sessions) + 1}"
                    server.sessions[sid] = Session(
                        body, self.headers.get("x-upload-content-type", ""), int(total) if total else None
                    )
                    location = f"{server.url}upload/session/{sid}?upload_id={sid}-secret"
                    self._send(200, b"", {"location": location})
                elif kind in ("media", "multipart"):
                    server.uploads.append({"kind": kind, "body": body, "content_type": self.headers["content-type"]})
                    md5 = base64.b64encode(digest.digest()).decode()
                    record = {"id": "obj-1", "size": str(length), "kind": kind, "bodyMd5": md5}
                    self._send(200, json.dumps(record).encode())
                else:
                    self._send(200, b"{}")

            do_PATCH = do_POST

            def do_PUT(self) -> None:
                path = urlsplit(self.path).path
                if not path.startswith("/upload/session/"):
                    self.do_POST()  # an upload method whose HTTP method is PUT
                    return
                session = server.sessions.get(path.rsplit("/", 1)[1])
                length = int(self.headers.get("content-length") or 0)
                if server.reject_token and self.headers.get("authorization") == server.reject_token:
                    self.rfile.read(length)
                    self._record(b"", length)
                    self._send(401, b'{"error": {"code": 401, "message": "token expired"}}')
                    return
                content_range = self.headers.get("content-range", "")
                if session is None:
                    self.rfile.read(length)
                    self._record(b"", length)
                    self._send(404, b'{"error": {"code": 404, "message": "no such session"}}')
                    return
                _, _, spec = content_range.partition(" ")
                span, _, total_text = spec.partition("/")
                if span == "*":  # a status query (or closing an upload of a known size)
                    self.rfile.read(length)
                    self._record(b"", length)
                    if total_text != "*" and int(total_text) == session.length and not session.done:
                        session.total = session.length
                        session.done = True
                    self._status(session)
                    return
                first, _, last = span.partition("-")
                start, end = int(first), int(last)
                index = server.chunk_count
                server.chunk_count += 1
                if index in server.drop_chunks:
                    half = self.rfile.read(length // 2)
                    self._record(b"", length)
                    keep = (len(half) // GRANULE) * GRANULE
                    if start == session.length:
                        self._append(session, half[:keep])
                    self._drop()
                    return
                if not server.keep_bodies and index not in server.fail_chunks and not server.ignore_chunks:
                    self._stream_chunk(session, index, start, end, length, total_text)
                    return
                body = self.rfile.read(length)
                self._record(body if server.keep_bodies else b"", length)
                if index in server.fail_chunks:
                    self._send(503, b'{"error": {"code": 503, "message": "try again"}}')
                    return
                if server.ignore_chunks:  # a broken server: 308 without keeping anything
                    self._status(session)
                    return
                if start != session.length:
                    server.violations.append(f"chunk {index} starts at {start}, server has {session.length}")
                if end - start + 1 != len(body):
                    server.violations.append(f"chunk {index}: range {start}-{end} but {len(body)} bytes")
                if start <= session.length:
                    self._append(session, body[session.length - start :])
                if start > 0 and start % GRANULE and start != session.length:
                    server.violations.append(f"chunk {index} starts at {start}")
                if total_text != "*":
                    session.total = int(total_text)
                if session.total is not None and session.length >= session.total:
                    session.done = True
                elif (end + 1 - start) % GRANULE:
                    server.violations.append(f"chunk {index} is not a multiple of 256 KiB and not the last")
                self._status(session)

            def _stream_chunk(
                self, session: Session, index: int, start: int, end: int, length: int, total_text: str
            ) -> None:
                """A chunk read in blocks, its new bytes hashed on (the checks of do_PUT, without the body)."""
                self._record(b"", length)
                if start != session.length:
                    server.violations.append(f"chunk {index} starts at {start}, server has {session.length}")
                if end - start + 1 != length:
                    server.violations.append(f"chunk {index}: range {start}-{end} but {length} bytes")
                position, left = start, length
                while left:
                    block = self.rfile.read(min(left, BLOCK))
                    if not block:
                        break
                    if position + len(block) > session.length >= position:
                        self._append(session, block[session.length - position :])
                    position += len(block)
                    left -= len(block)
                if total_text != "*":
                    session.total = int(total_text)
                if session.total is not None and session.length >= session.total:
                    session.done = True
                elif (end + 1 - start) % GRANULE:
                    server.violations.append(f"chunk {index} is not a multiple of 256 KiB and not the last")
                self._status(session)

            def _append(self, session: Session, data: bytes) -> None:
                session.received.update(data)
                session.length += len(data)
                if server.keep_bodies:
                    session.data += data

            def _status(self, session: Session) -> None:
                if session.done:
                    md5 = base64.b64encode(session.received.digest()).decode()
                    record = {"id": "obj-1", "size": str(session.length), "md5Hash": md5}
                    if not server.uploads or server.uploads[-1].get("session") is not session:
                        server.uploads.append({"kind": "resumable", "session": session, **record})
                    self._send(200, json.dumps(record).encode())
                elif session.length:
                    self._send(308, b"", {"range": f"bytes=0-{session.length - 1}"})
                else:
                    self._send(308, b"")

            def do_GET(self) -> None:
                seen = self._record(b"", 0)
                content = server.objects.get(seen.path)
                if content is None:
                    self._send(404, b'{"error": {"code": 404, "message": "not found"}}')
                    return
                index = server.download_count
                server.download_count += 1
                headers = {"content-type": "application/octet-stream"}
                if server.hashes:
                    headers["x-goog-hash"] = server.hash_header(content)
                wanted = self.headers.get("range")
                status, body = 200, memoryview(content)
                if wanted:
                    first, _, last = wanted.split("=", 1)[1].partition("-")
                    start = int(first)
                    end = min(int(last) if last else len(content) - 1, len(content) - 1)
                    if start >= len(content):
                        self._send(416, b"", {"content-range": f"bytes */{len(content)}"})
                        return
                    status, body = 206, memoryview(content)[start : end + 1]
                    headers["content-range"] = f"bytes {start}-{end}/{len(content)}"
                    if server.gzip_ranges:
                        body = memoryview(gzip.compress(body))
                        headers["content-encoding"] = "gzip"
                if index in server.cut_requests:
                    head = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items())]
                    head.append(f"content-length: {len(body)}")
                    self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + bytes(body[: len(body) // 2]))
                    self.wfile.flush()
                    self._drop()
                    return
                self._send(status, body, headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def hash_header(self, content: bytes) -> str:
        """The ``x-goog-hash`` of an object: its ``hashes``, base64 (wrong with ``bad_hashes``),
        computed once per object."""
        key = (id(content), len(content), self.hashes, self.bad_hashes)
        with self._lock:
            cached = self._digests.get(key)
        if cached is None:
            hashed = content + (b"x" if self.bad_hashes else b"")
            digests = {
                "crc32c": lambda: google_crc32c.value(hashed).to_bytes(4, "big"),
                "md5": lambda: hashlib.md5(hashed).digest(),
            }
            cached = ",".join(f"{name}={base64.b64encode(digests[name]()).decode()}" for name in self.hashes)
            with self._lock:
                self._digests[key] = cached
        return cached

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> MediaServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts (headers, body) of a multipart/related body, whatever its line endings."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"')
    marker = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(marker)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:]
        crlf, lf = chunk.find(b"\r\n\r\n"), chunk.find(b"\n\n")
        sep = b"\r\n\r\n" if crlf != -1 and (lf == -1 or crlf < lf) else b"\n\n"
        head, _, payload = chunk.partition(sep)
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        elif payload.endswith(b"\n"):
            payload = payload[:-1]
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, payload))
    return parts

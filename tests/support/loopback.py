"""A real HTTP/1.1 server on 127.0.0.1 for contract tests: records requests, serves replies.

Runs in a thread, keeps connections alive, and writes each response in one buffered send
(separate header and body writes cause 40 ms delayed-ACK stalls on loopback).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived on the wire."""

    method: str
    target: str  # the raw request target: path and query, exactly as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    def json(self) -> Any:
        return json.loads(self.body)


#: Faults a :class:`Reply` can inject instead of (or while) answering normally.
FAULTS = ("", "reset", "close", "truncate", "stall", "drip")


@dataclass
class Reply:
    """One response. ``delay`` waits before answering; ``fault`` misbehaves:

    ``reset`` aborts the connection (TCP RST) without answering; ``close`` closes it without
    answering; ``truncate`` sends the headers and half the body, then closes; ``stall``
    reads the request and never answers; ``drip`` sends the headers, then the body one byte
    every ``drip_interval`` seconds.
    """

    status: int = 200
    body: bytes | str | Any = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    fault: str = ""
    drip_interval: float = 0.2

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {FAULTS}")

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


Handler = Callable[[Recorded], Reply]


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections beyond it when many clients connect at
    # once (an async client opening 100 connections): each dropped SYN costs a 1 s retransmit.
    request_queue_size = 256


class LoopbackServer:
    """``with LoopbackServer() as server:`` — ``server.url`` is ``http://127.0.0.1:PORT/``.

    By default every request gets ``200 {}``; set ``server.handler`` or queue replies with
    :meth:`reply` to answer differently.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[Recorded] = []
        self.handler: Handler = handler or (lambda request: Reply())
        self._queued: list[Reply] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._open = 0  # client connections not closed yet
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._open += 1

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with server._lock:
                        server._open -= 1

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(recorded)
                    queued = server._queued.pop(0) if server._queued else None
                reply = queued or server.handler(recorded)
                if reply.delay:
                    server._closing.wait(reply.delay)
                if reply.fault in ("reset", "close", "stall"):
                    self._misbehave(reply.fault)
                    return
                payload = reply.encoded()
                head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('X',))[0]}"]
                headers = {"content-type": "application/json; charset=UTF-8", **reply.headers}
                headers["content-length"] = str(len(payload))
                head += [f"{k}: {v}" for k, v in headers.items()]
                head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
                if reply.fault == "truncate":
                    self.wfile.write(head_bytes + payload[: len(payload) // 2])
                    self.close_connection = True
                elif reply.fault == "drip":
                    self._drip(head_bytes, payload, reply.drip_interval)
                else:
                    self.wfile.write(head_bytes + payload)
                self.wfile.flush()

            def _misbehave(self, fault: str) -> None:
                self.close_connection = True
                if fault == "stall":
                    server._closing.wait(600)
                elif fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()

            def _drip(self, head: bytes, payload: bytes, interval: float) -> None:
                try:
                    self.wfile.write(head)
                    for index in range(len(payload)):
                        if server._closing.wait(interval):
                            break
                        self.wfile.write(payload[index : index + 1])
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def reply(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._queued.extend(replies)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def open_connections(self) -> int:
        """Client connections the server has not seen closed yet."""
        with self._lock:
            return self._open

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

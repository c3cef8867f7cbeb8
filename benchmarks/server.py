"""A lean HTTP/1.1 keep-alive server for benchmarks, run in its own process.

Every request gets ``200 {}``. The server is identical for every client measured and runs in
a separate process, so the CPU time a benchmark reads in its own process is the client's
alone. It parses only what keep-alive needs (the end of the head and ``content-length``) and
answers each request with one write.

Run ``python -m benchmarks.server``: it prints ``PORT`` on one line, then serves until its
standard input closes (so it never outlives the benchmark that started it) or it gets SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: 2\r\n\r\n{}"
_MAX_HEAD = 64 * 1024


class _Protocol(asyncio.Protocol):
    """One connection: answer each complete request, in order, keeping the connection open."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        buffer = self._buffer + data if self._buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    transport.close()
                    return
                break
            head = buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            total = end + 4 + length
            if len(buffer) < total:
                break
            buffer = buffer[total:]
            transport.write(RESPONSE)
            if b"\r\nconnection: close" in head:
                transport.close()
                return
        self._buffer = buffer


async def _serve(ready: asyncio.Future[int] | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    stop = loop.create_future()

    def finish() -> None:
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    # Standard input closing means the benchmark that started us is gone. (When it is not a
    # pipe, e.g. /dev/null, it cannot be watched: then only SIGTERM stops the server.)
    try:
        loop.add_reader(sys.stdin.fileno(), finish)
    except (OSError, ValueError):
        pass
    async with server:
        await stop


class BenchServer:
    """``with BenchServer() as server:`` starts the server process; ``server.url`` is its URL."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> BenchServer:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            raise RuntimeError(f"benchmark server failed to start (said {line!r})")
        self.port = int(line)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    asyncio.run(_serve())

"""The one small interface between generated clients and HTTP, and the deadline watchdog.

A transport sends one request and returns the status, headers and body bytes. It does not
authenticate, retry or decode: the client does that, so every transport gets the same
behaviour. :class:`Response` also satisfies google-auth's transport response interface, so
credentials refresh through the same transport.

Transports enforce ``timeout`` as a deadline for the whole exchange (sending, waiting for the
status line and headers, reading the body): a server that stalls, or drips one byte at a time,
fails the call within about the timeout. Socket timeouts bound each read only, so one shared
watchdog thread shuts a request's socket down when its deadline passes.

This module imports no HTTP library: the default transport
(:class:`~gapi_runtime.pooled_transport.PooledTransport`) needs none, and urllib3 is imported
only with :class:`~gapi_runtime.transport.Urllib3Transport`.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["Response", "Transport"]


class Response(NamedTuple):
    """What a transport returns. ``headers`` keys are matched case-insensitively by urllib3."""

    status: int
    headers: Mapping[str, str]
    data: bytes


@runtime_checkable
class Transport(Protocol):
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        """Send one request; raise :class:`~gapi_runtime.errors.TransportError` on failure.

        ``timeout`` bounds the whole exchange, in seconds (None: no bound). Failures before
        any response byte arrived must have ``response_started`` False, later ones True.
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


# --- deadlines ---------------------------------------------------------------------------


class _Guard:
    """One request's deadline; the watchdog shuts its socket down when the deadline passes."""

    __slots__ = ("deadline", "done", "fired", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.done = False
        self.fired = False


class _Watchdog:
    """A single daemon thread that enforces the deadlines of all in-flight requests."""

    def __init__(self) -> None:
        # The hot paths take the plain lock (cheaper than the Condition's wrappers); the
        # thread waits on a Condition over the same lock.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Guard]] = []
        self._finished = 0  # guards in the heap that are done (lazily removed)
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")  # when the thread wakes up next (inf: when notified)

    def start(self, guard: _Guard) -> None:
        with self._lock:
            heapq.heappush(self._heap, (guard.deadline, next(self._counter), guard))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gapi-runtime-deadlines", daemon=True)
                self._thread.start()
            elif guard.deadline < self._wake_at:
                # Only an earlier deadline needs the thread: waking it per request costs more
                # than the request's own bookkeeping.
                self._wake_at = guard.deadline
                self._cond.notify()

    def attach(self, guard: _Guard, sock: socket.socket | None) -> None:
        with self._lock:
            guard.sock = sock
            if guard.fired and sock is not None:
                _shutdown(sock)

    def finish(self, guard: _Guard) -> None:
        """Called when the request is over, before its connection goes back to the pool."""
        with self._lock:
            guard.done = True
            guard.sock = None
            if not guard.fired:  # fired guards have left the heap already
                self._finished += 1
            if self._finished > 256 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and (heap[0][2].done or heap[0][0] <= now):
                    _, _, guard = heapq.heappop(heap)
                    if guard.done:
                        self._finished -= 1
                        continue
                    guard.fired = True
                    if guard.sock is not None:
                        _shutdown(guard.sock)
                self._wake_at = heap[0][0] if heap else float("inf")
                self._cond.wait(heap[0][0] - now if heap else None)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_WATCHDOG = _Watchdog()
_local = threading.local()


def _reset_after_fork() -> None:
    """A forked child has no watchdog thread (and maybe a held lock): start afresh, in place
    (the transports import these objects by name)."""
    _WATCHDOG.__init__()  # type: ignore[misc]
    _local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _target(method: str, url: str) -> str:
    return f"{method} {url.split('?', 1)[0]}"

"""A virtual clock: sleeping on it returns at once and only moves its time forward."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading

__all__ = ["VirtualClock"]


class VirtualClock:
    """Virtual monotonic time for clients wired to a fake or scripted transport.

    The clients' waits (retry backoff, ``Retry-After``, operation polling) call
    :meth:`sleep` / :meth:`asleep`, which return at once and advance :meth:`monotonic` by the
    time asked for; :attr:`sleeps` records every wait, so a test can assert on backoff
    without spending it. Thread-safe. Async sleeps of concurrent tasks wake in order of their
    virtual deadlines (time moves to the earliest one first); sync sleeps of concurrent
    threads simply add up.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._waiting: list[tuple[float, int]] = []
        self._sequence = itertools.count()
        #: Every wait that was asked for, in seconds, in the order they ended.
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """The current virtual time, in seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0) without recording a sleep."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock back ({seconds} s)")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Return at once, ``seconds`` later in virtual time."""
        with self._lock:
            self._now += max(0.0, seconds)
            self.sleeps.append(seconds)

    async def asleep(self, seconds: float) -> None:
        """Yield to the event loop and return ``seconds`` later in virtual time.

        Among tasks sleeping at the same time, the one with the earliest virtual deadline
        wakes first, so concurrent waits overlap in virtual time as they would in real time.
        """
        with self._lock:
            entry = (self._now + max(0.0, seconds), next(self._sequence))
            heapq.heappush(self._waiting, entry)
        try:
            while True:
                await asyncio.sleep(0)
                with self._lock:
                    if self._waiting[0] == entry:
                        heapq.heappop(self._waiting)
                        self._now = max(self._now, entry[0])
                        self.sleeps.append(seconds)
                        return
        except BaseException:
            with self._lock:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                    heapq.heapify(self._waiting)
            raise

    @property
    def slept(self) -> float:
        """The sum of every recorded sleep, in seconds."""
        return sum(self.sleeps)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:g})"

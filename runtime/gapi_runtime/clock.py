"""The clock a client waits on: real time, unless its transport brings a virtual one.

Clients wait in two places: between retries of a call and between polls of a long-running
operation. Both ask the client's clock (:attr:`gapi_runtime.ApiCore.clock`) for the time and
to sleep. The clock is the system's, unless the transport has a ``clock`` attribute: an
in-memory fake (:mod:`gapi_runtime.testing`) brings a virtual clock whose sleeps return at
once and only move its time forward, so retries and operation polling cost no real time.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock", "clock_of"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds, and waiting for some of it to pass (sync and async)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (the origin is arbitrary)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block until ``seconds`` have passed on this clock."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Wait (``await``) until ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """Real time: :func:`time.monotonic`, :func:`time.sleep` and :func:`asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # here: sync clients never import asyncio

        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


def clock_of(transport: object) -> Clock:
    """The ``clock`` of ``transport`` or of a transport it wraps (``inner``), else the system clock."""
    seen: object = transport
    for _ in range(8):  # wrappers nest a few levels at most
        clock = getattr(seen, "clock", None)
        if isinstance(clock, Clock):
            return clock
        seen = getattr(seen, "inner", None)
        if seen is None:
            break
    return SYSTEM_CLOCK

"""Where generation spends its time: wall-clock seconds per phase, summed over documents.

``codegen generate --all`` reports the totals, so a slow batch says which step to look at
(reading the documents, lowering, rendering, formatting, compiling, writing, verifying).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator

#: The phases in the order a document goes through them.
ORDER = ("read", "check", "lower", "render", "format", "compile", "write", "verify")


class Phases:
    """Seconds spent in each named phase; ``with phases.timed("lower"): ...`` adds to one."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

    def items(self) -> tuple[tuple[str, float], ...]:
        """The phases timed so far, in :data:`ORDER` (others after them): picklable."""
        rank = {name: index for index, name in enumerate(ORDER)}
        return tuple(sorted(self.seconds.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0])))


def summary_line(totals: Iterable[tuple[str, float]]) -> str:
    """``read 9.0 s (8%), lower 18.3 s (16%), …``: each phase's seconds and share of their sum."""
    items = list(totals)
    whole = sum(seconds for _, seconds in items) or 1.0
    return ", ".join(f"{name} {seconds:.1f} s ({seconds / whole:.0%})" for name, seconds in items)

"""Drive an async client through the sync client's API, so that one test body checks both.

``Blocking(async_client, loop)`` looks like the sync client: resource attributes are wrapped
in turn, coroutine methods run to completion on ``loop``, async iterators (``*_pages``,
``*_all``) become plain iterators, and async operation handles become blocking handles. The
calls underneath are the async client's own; only the waiting is done here.

:func:`clients` is the fixture helper behind ``flavor``-parametrized tests.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gapi_runtime.aio import AsyncOperation


class Blocking:
    """A blocking view of an async client, resource or operation handle (see the module docstring)."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop, views: dict[int, Blocking] | None = None) -> None:
        self._target = target
        self._loop = loop
        self._views = views if views is not None else {}

    def _view(self, value: Any) -> Blocking:
        """One view per object, so that ``client.projects is client.projects`` holds here too."""
        view = self._views.get(id(value))
        if view is None or view._target is not value:
            view = self._views[id(value)] = Blocking(value, self._loop, self._views)
        return view

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, AsyncIterator):
            return self._iterate(value)
        if isinstance(value, AsyncOperation) or hasattr(value, "_api"):
            return self._view(value)
        return value

    def _iterate(self, iterator: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._loop.run_until_complete(iterator.__anext__())
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):

            @functools.wraps(value)
            def run(*args: Any, **kwargs: Any) -> Any:
                return self._wrap(self._loop.run_until_complete(value(*args, **kwargs)))

            return run
        if inspect.ismethod(value):

            @functools.wraps(value)
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._wrap(value(*args, **kwargs))

            return call
        return self._wrap(value)

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"


@contextmanager
def clients(flavor: str, sync_class: type[Any], async_class: type[Any]) -> Iterator[Callable[..., Any]]:
    """``make(**kwargs)`` builds a client of ``flavor`` ("sync" or "async", the latter behind
    :class:`Blocking` on a private event loop); every client made is closed at the end."""
    loop = asyncio.new_event_loop()
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        if flavor == "sync":
            client = sync_class(**kwargs)
            made.append(client)
            return client
        client = async_class(**kwargs)
        made.append(client)
        return Blocking(client, loop)

    try:
        yield make
    finally:
        for client in made:
            if flavor == "sync":
                client.close()
            else:
                loop.run_until_complete(client.close())
        loop.close()

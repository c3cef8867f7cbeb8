"""The async operation handles: the awaitable twins of :class:`~gapi_runtime.operations.Operation`
and :class:`~gapi_runtime.operations.StatusOperation`, exported by :mod:`gapi_runtime.aio`.

A module of their own so that an async client's import does not load the operations module
(and its retry rules) before its first ``operation()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gapi_runtime.client import DEFAULT, RetryArg, TimeoutArg
from gapi_runtime.operations import (
    HandleBase,
    OperationBase,
    OperationMethods,
    PollingPolicy,
    StatusOperationBase,
    StatusOperationKind,
)

if TYPE_CHECKING:  # only a type parameter here: gapi_runtime.aio imports this module
    from gapi_runtime.aio import AsyncApiCore

__all__ = ["AsyncHandle", "AsyncOperation", "AsyncStatusOperation", "async_operation_handle"]


class AsyncHandle(HandleBase["AsyncApiCore", Any]):
    """The methods of the async operation handles: those of
    :class:`~gapi_runtime.operations.SyncHandle`, awaitable (the same protocols, awaited)."""

    async def refresh(self, timeout: TimeoutArg = DEFAULT, retry: RetryArg = DEFAULT) -> Mapping[str, Any]:
        """Fetch the current state and return it (see :meth:`gapi_runtime.operations.SyncHandle.refresh`)."""
        return await self._api._drive(self._refresh_steps(timeout, retry))

    async def done(self) -> bool:
        """True once the operation finished; re-reads it unless that is already known."""
        return await self._api._drive(self._done_steps())

    async def cancel(self) -> bool:
        """Ask the server to cancel the operation; False (nothing sent) if it is known to be done
        (see :meth:`gapi_runtime.operations.SyncHandle.cancel`)."""
        return await self._api._drive(self._cancel_steps())

    async def result(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Any:
        """Wait until the operation is done and return its outcome, or raise its failure
        (see :meth:`gapi_runtime.operations.SyncHandle.result`)."""
        return await self._api._drive(self._result_steps(timeout, polling))

    async def exception(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Exception | None:
        """Wait like :meth:`result`; return the operation's failure as an exception, or None."""
        return await self._api._drive(self._exception_steps(timeout, polling))

    async def wait(self, timeout: float | None = None, polling: PollingPolicy | None = None) -> Mapping[str, Any]:
        """Poll until done and return the final state; raise OperationTimeout after ``timeout``.

        Waits between polls with ``asyncio.sleep``; the timing and the budgets of each poll are
        those of the sync handle (:class:`~gapi_runtime.operations.WaitPlan`).
        """
        return await self._api._drive(self._wait_steps(timeout, polling))


class AsyncOperation(OperationBase["AsyncApiCore"], AsyncHandle):
    """A handle on one long-running operation, for async code: the twin of
    :class:`~gapi_runtime.operations.Operation`, with the same rules and awaitable methods.

    Create it with the async client's ``operation(op_or_name)``; then ``await op.result()``,
    ``await op.cancel()``, ``await op.done()``…
    """

    async def cancelled(self) -> bool:
        """True if the operation ended because it was cancelled (``error.code == 1``).

        Refreshes first unless the operation is already known to be done.
        """
        return await self._api._drive(self._cancelled_steps())


class AsyncStatusOperation(StatusOperationBase["AsyncApiCore"], AsyncHandle):
    """A handle on one operation whose ``status`` reaches ``DONE``, for async code: the twin
    of :class:`~gapi_runtime.operations.StatusOperation`, with the same rules and awaitable
    methods (``await op.result()``, ``await op.done()``…)."""


def async_operation_handle(
    api: AsyncApiCore,
    operation: object,
    candidates: Sequence[OperationMethods],
    kinds: Sequence[StatusOperationKind],
    polling: PollingPolicy | None = None,
) -> AsyncOperation | AsyncStatusOperation:
    """The async twin of :func:`~gapi_runtime.operations.operation_handle`."""
    if not isinstance(operation, OperationBase) and any(kind.claims(operation) for kind in kinds):
        return AsyncStatusOperation(api, operation, kinds, polling)  # type: ignore[arg-type]
    return AsyncOperation(api, operation, candidates, polling)  # type: ignore[arg-type]

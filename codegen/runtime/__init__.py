"""The runtime that generated clients import: a thin, tested layer over HTTP.

Generated code uses only the names exported here, and async clients those of
:mod:`codegen.runtime.aio` (imported only by ``_async_client.py``, so that sync code never
loads it).
"""

from codegen.runtime.client import DEFAULT, ApiCore, BaseClient, Default, RetryArg, TimeoutArg
from codegen.runtime.errors import (
    ConnectError,
    OperationTimeout,
    PagingError,
    RequestTimeout,
    ResponseDecodeError,
    TLSError,
    TransportError,
)
from codegen.runtime.operations import DEFAULT_POLLING, Operation, PollingPolicy
from codegen.runtime.retry import DEFAULT_RETRY, RetryPolicy
from codegen.runtime.spec import MethodSpec, PathParam
from codegen.runtime.transport import Response, Transport, Urllib3Transport

__all__ = [
    "DEFAULT",
    "DEFAULT_POLLING",
    "DEFAULT_RETRY",
    "ApiCore",
    "BaseClient",
    "ConnectError",
    "Default",
    "MethodSpec",
    "Operation",
    "OperationTimeout",
    "PagingError",
    "PathParam",
    "PollingPolicy",
    "RequestTimeout",
    "Response",
    "ResponseDecodeError",
    "RetryArg",
    "RetryPolicy",
    "TLSError",
    "TimeoutArg",
    "Transport",
    "TransportError",
    "Urllib3Transport",
]

"""The runtime that generated clients import: a thin, tested layer over HTTP.

Generated code uses only the names exported here.
"""

from codegen.runtime.client import DEFAULT, ApiCore, BaseClient, Default, RetryArg, TimeoutArg
from codegen.runtime.errors import ConnectError, RequestTimeout, ResponseDecodeError, TLSError, TransportError
from codegen.runtime.spec import MethodSpec, PathParam
from codegen.runtime.transport import Response, Transport, Urllib3Transport

__all__ = [
    "DEFAULT",
    "ApiCore",
    "BaseClient",
    "ConnectError",
    "Default",
    "MethodSpec",
    "PathParam",
    "RequestTimeout",
    "Response",
    "ResponseDecodeError",
    "RetryArg",
    "TLSError",
    "TimeoutArg",
    "Transport",
    "TransportError",
    "Urllib3Transport",
]

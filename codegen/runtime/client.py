"""The hand-written core that every generated client shares.

A generated client subclasses :class:`BaseClient` and describes its API in class
attributes; its resources call :meth:`ApiCore.call` with a precomputed
:class:`~codegen.runtime.spec.MethodSpec`. Per call the core only fills in the URL,
authorizes, sends, and decodes.
"""

from __future__ import annotations

import enum
import json
import platform
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union

from codegen.runtime import encoding
from codegen.runtime.errors import ResponseDecodeError, TransportError, http_error
from codegen.runtime.options import ClientSettings, resolve_settings
from codegen.runtime.transport import Response, Transport

if TYPE_CHECKING:
    from google.api_core.retry import Retry
    from google.auth.credentials import Credentials

    from codegen.runtime.spec import MethodSpec

__all__ = ["DEFAULT", "ApiCore", "BaseClient", "Default", "RetryArg", "TimeoutArg"]

RUNTIME_VERSION = "0.1.0"
ResponseT = TypeVar("ResponseT")


class Default(enum.Enum):
    """The type of :data:`DEFAULT`: "use the client's setting"."""

    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = Default.DEFAULT
TimeoutArg = float | None | Default
RetryArg = Union["Retry", None, Default]


class _AuthRequest:
    """google-auth's ``Request`` interface on top of a :class:`Transport`.

    Token refreshes thus go through the same transport (and loopback test servers).
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> Response:
        from google.auth import exceptions

        try:
            return self._transport.request(method, url, dict(headers or {}), body, timeout or 120.0)
        except TransportError as exc:
            raise exceptions.TransportError(str(exc)) from exc


class ApiCore:
    """Sends requests for one client: URL building, auth, transport, error mapping.

    Thread-safe: one instance may be shared by any number of threads.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url
        self.transport = settings.transport
        self._credentials = settings.credentials
        self._auth_request = _AuthRequest(settings.transport)
        self._refresh_lock = threading.Lock()
        self._headers = dict(settings.headers)
        self._timeout = settings.timeout

    def call(
        self,
        spec: MethodSpec[ResponseT],
        path_values: Sequence[object],
        query_values: Sequence[object],
        body: object = None,
        timeout: TimeoutArg = DEFAULT,
        retry: RetryArg = DEFAULT,
    ) -> ResponseT:
        """Send ``spec``'s request with these arguments and return the decoded JSON."""
        if spec.deprecated:
            warnings.warn(f"{spec.id} is deprecated by the API", DeprecationWarning, stacklevel=3)
        url = self.base_url + encoding.build_path(spec, path_values)
        if spec.query:
            url += encoding.build_query(spec.query, query_values)
        headers = self._headers.copy()
        data: bytes | None = None
        if spec.has_body:
            if body is None:
                body = {}
            elif not isinstance(body, Mapping):
                raise TypeError(f"{spec.id}: body must be a dict, got {type(body).__name__}")
            if spec.data_wrapper:
                body = {"data": body}
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json"
        if spec.api_version:
            headers["x-goog-api-version"] = spec.api_version
        if timeout is DEFAULT:
            timeout = self._timeout
        send = self._send
        if retry is not DEFAULT and retry is not None:
            send = retry(send)
        response = send(spec, url, headers, data, timeout)
        return self._decode(spec, url, response)  # type: ignore[no-any-return]

    def _send(
        self, spec: MethodSpec[Any], url: str, headers: dict[str, str], data: bytes | None, timeout: float | None
    ) -> Response:
        self._authorize(headers)
        response = self.transport.request(spec.http_method, url, headers, data, timeout)
        if response.status >= 300:
            raise http_error(response.status, response.data, spec.id, url)
        return response

    def _authorize(self, headers: dict[str, str]) -> None:
        credentials = self._credentials
        if credentials is None:
            return
        if not credentials.valid:
            with self._refresh_lock:
                if not credentials.valid:
                    credentials.refresh(self._auth_request)
        credentials.apply(headers)

    @staticmethod
    def _decode(spec: MethodSpec[Any], url: str, response: Response) -> Any:
        data = response.data
        if not data:
            return {}
        try:
            value = json.loads(data)
        except ValueError:
            raise ResponseDecodeError(
                f"{spec.id}: {spec.http_method} {url.split('?', 1)[0]} answered {response.status} "
                f"with a body that is not JSON: {data[:80]!r}"
            ) from None
        if spec.data_wrapper and isinstance(value, dict) and "data" in value:
            return value["data"]
        return value

    def close(self) -> None:
        self.transport.close()


class BaseClient:
    """Base class of generated clients: construction, endpoint and credential handling.

    Subclasses set the class attributes below from their discovery document.
    """

    _API_ID: ClassVar[str] = ""
    _PACKAGE: ClassVar[str] = ""
    _REVISION: ClassVar[str] = ""
    _ROOT_URL: ClassVar[str] = ""
    _SERVICE_PATH: ClassVar[str] = ""
    _SCOPES: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        endpoint: str | None = None,
        client_options: Mapping[str, Any] | Any | None = None,
        transport: Transport | None = None,
        timeout: float | None = 60.0,
        allow_insecure_http: bool = False,
    ) -> None:
        """Create a client.

        Args:
            credentials: google-auth credentials. Default: ``google.auth.default()`` with the
                API's scopes (or ``client_options`` scopes / ``credentials_file``).
            endpoint: Replaces the document's ``rootUrl`` (the service path is still
                appended), e.g. a regional endpoint. Plain ``http://`` only for loopback
                hosts unless ``allow_insecure_http``.
            client_options: google-api-core ``ClientOptions`` or a dict with
                ``api_endpoint``, ``quota_project_id``, ``scopes``, ``credentials_file``.
            transport: Sends the HTTP requests; default :class:`Urllib3Transport`.
            timeout: Default per-call timeout in seconds (None: wait forever).
            allow_insecure_http: Permit ``http://`` endpoints on non-loopback hosts.
        """
        settings = resolve_settings(
            root_url=self._ROOT_URL,
            service_path=self._SERVICE_PATH,
            scopes=self._SCOPES,
            user_agent=f"{self._PACKAGE}/{self._REVISION} gapi-codegen/{RUNTIME_VERSION}",
            api_client=f"gl-python/{platform.python_version()} gapi-codegen/{RUNTIME_VERSION}",
            credentials=credentials,
            endpoint=endpoint,
            client_options=client_options,
            transport=transport,
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
        )
        self._api = ApiCore(settings)

    @property
    def base_url(self) -> str:
        """The URL every method path is appended to (endpoint + service path)."""
        return self._api.base_url

    def close(self) -> None:
        """Release the transport's pooled connections."""
        self._api.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

"""Resolve a client's constructor arguments into settings: endpoint, credentials, headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gapi_runtime import mtls
from gapi_runtime.hosts import is_loopback_host
from gapi_runtime.pooled_transport import PooledTransport
from gapi_runtime.proxies import ProxySettings
from gapi_runtime.wire import Record, Transport

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

#: The client options (google-api-core ``ClientOptions`` attributes) clients honour.
_OPTION_NAMES = (
    "api_endpoint",
    "quota_project_id",
    "scopes",
    "credentials_file",
    "api_key",
    "universe_domain",
    "client_cert_source",
    "client_encrypted_cert_source",
)
#: ``ClientOptions`` attributes they do not support: setting one is an error, never ignored.
_UNSUPPORTED = {
    "api_audience": "it applies to GDCH and some external-account flows; pass credentials made for your audience",
    "tracer_provider": "OpenTelemetry tracing is not built in",
}


class CommonSettings(Record):
    """What sync and async clients resolve alike (see :func:`resolve_common`)."""

    __slots__ = ()
    base_url: str
    credentials: Credentials | None
    headers: dict[str, str]
    universe_domain: str
    client_certificate: mtls.ClientCertificate | None

    def __new__(
        cls,
        base_url: str,
        credentials: Credentials | None,
        headers: dict[str, str],
        universe_domain: str,
        client_certificate: mtls.ClientCertificate | None,
    ) -> CommonSettings:
        return tuple.__new__(cls, (base_url, credentials, headers, universe_domain, client_certificate))


def install_certificate(transport: object, certificate: mtls.ClientCertificate | None) -> None:
    """Have ``transport`` present ``certificate`` (its ``use_client_certificate``); ValueError if it cannot."""
    if certificate is None:
        return
    install = getattr(transport, "use_client_certificate", None)
    if install is None:
        raise ValueError(
            f"a client certificate ({certificate.source}) is to be used, but the transport "
            f"{type(transport).__name__} has no use_client_certificate(); configure its TLS context yourself "
            "and leave the certificate out, or use the default transport"
        )
    install(certificate)


def _header_value(option: str, value: object) -> str:
    """``value`` as an HTTP header value; ValueError (which does not quote it) otherwise."""
    text = str(value)
    if not text or any(not (0x20 < ord(char) < 0x7F) for char in text):
        raise ValueError(f"client_options {option} must be non-empty printable ASCII without spaces")
    return text


def check_endpoint(url: str, allow_insecure_http: bool = False) -> str:
    """Validate an endpoint URL and return it with exactly one trailing ``/``.

    Raises ValueError for anything but ``https://host[:port]/[path]`` (``http://`` only on a
    loopback host or with ``allow_insecure_http``), and for user info, query or fragment.
    """
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url) or "\\" in url:
        raise ValueError(f"endpoint {url!r} contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"endpoint {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"endpoint {url!r} must be an https:// URL with a host")
    if parts.scheme == "http" and not (allow_insecure_http or is_loopback_host(host)):
        raise ValueError(
            f"endpoint {url!r} uses plain http to a non-loopback host; use https (or pass allow_insecure_http=True)"
        )
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError(f"endpoint {url!r} must not contain user info, a query or a fragment")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise ValueError(f"endpoint {url!r} contains whitespace or control characters")
    return url.rstrip("/") + "/"


def _options_dict(client_options: Mapping[str, Any] | Any | None) -> dict[str, Any]:
    """The options as a dict; ValueError naming any option that is unknown or not supported.

    A dict and a ``ClientOptions`` object are checked alike: an unsupported option that is set
    (not None) is refused rather than silently ignored.
    """
    if client_options is None:
        return {}
    if isinstance(client_options, Mapping):
        given = dict(client_options)
        unknown = sorted(name for name in given if name not in _OPTION_NAMES and name not in _UNSUPPORTED)
        if unknown:
            raise ValueError(f"unknown client_options key(s): {', '.join(map(str, unknown))}")
    else:
        try:
            given = dict(vars(client_options))
        except TypeError:
            given = {name: getattr(client_options, name, None) for name in (*_OPTION_NAMES, *_UNSUPPORTED)}
        given = {name: value for name, value in given.items() if not name.startswith("_")}
    refused = sorted(name for name, value in given.items() if name not in _OPTION_NAMES and value is not None)
    if refused:
        reasons = "; ".join(f"{name}: {_UNSUPPORTED.get(name, 'unknown to this client')}" for name in refused)
        raise ValueError(f"client_options not supported by this client: {reasons}")
    return {name: given.get(name) for name in _OPTION_NAMES}


def default_transport(proxy: str | None, certificate: mtls.ClientCertificate | None) -> Transport:
    """:class:`PooledTransport`, or :class:`Urllib3Transport` when a proxy (``proxy=`` or the
    environment) or a client certificate is to be used: the pooled transport handles neither."""
    proxies = ProxySettings(proxy)
    if proxies.active or certificate is not None:
        from gapi_runtime.transport import Urllib3Transport  # imports urllib3 (~40 ms): only when needed

        return Urllib3Transport(proxy=proxy)
    return PooledTransport()


def check_proxy_option(proxy: str | None, transport: object) -> None:
    """``proxy=`` configures the default transport only."""
    if proxy is not None and transport is not None:
        raise ValueError("proxy= configures the default transport; pass the proxy to your transport instead")


def resolve_common(
    *,
    root_url: str,
    service_path: str,
    scopes: Sequence[str],
    user_agent: str,
    api_client: str,
    credentials: Credentials | None,
    endpoint: str | None,
    client_options: Mapping[str, Any] | Any | None,
    timeout: float | None,
    allow_insecure_http: bool,
    mtls_root_url: str = "",
    api_id: str = "",
) -> CommonSettings:
    """What sync and async clients resolve alike: base URL, credentials, headers of every call,
    universe domain and client certificate (see :mod:`gapi_runtime.mtls` for the rules).

    Checks the endpoint and the timeout; raises ValueError for a user's mistake.
    """
    options = _options_dict(client_options)
    if endpoint is not None and options.get("api_endpoint") not in (None, endpoint):
        raise ValueError("pass the endpoint either as endpoint= or as client_options api_endpoint, not both")
    domain = mtls.universe_domain(options.get("universe_domain"))
    certificate = mtls.client_certificate(
        options.get("client_cert_source"), options.get("client_encrypted_cert_source")
    )
    explicit = endpoint or options.get("api_endpoint")
    if not explicit and not root_url:
        raise ValueError("this API's discovery document names no rootUrl: pass endpoint= (the service's root URL)")
    if not explicit:
        explicit = mtls.choose_root(
            root_url=root_url,
            mtls_root_url=mtls_root_url,
            domain=domain,
            certificate=certificate,
            api=api_id or root_url,
        )
    root = check_endpoint(explicit, allow_insecure_http)
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    headers = {
        "user-agent": user_agent,
        "x-goog-api-client": api_client,
        "accept": "application/json",
        "accept-encoding": "gzip",
    }
    scope_list = tuple(options.get("scopes") or scopes)
    api_key = options.get("api_key")
    if api_key is not None:
        if credentials is not None:
            raise ValueError("pass either credentials or an api_key, not both")
        if options.get("credentials_file"):
            raise ValueError("client_options api_key and credentials_file are mutually exclusive")
        headers["x-goog-api-key"] = _header_value("api_key", api_key)
    else:
        credentials = _credentials(credentials, options.get("credentials_file"), scope_list)
    quota_project = options.get("quota_project_id")
    if quota_project:
        quota_project = _header_value("quota_project_id", quota_project)
        if credentials is not None and hasattr(credentials, "with_quota_project"):
            try:
                credentials = credentials.with_quota_project(quota_project)
            except NotImplementedError:
                headers["x-goog-user-project"] = quota_project
        else:
            headers["x-goog-user-project"] = quota_project
    return CommonSettings(base_url(root, service_path), credentials, headers, domain, certificate)


def base_url(root: str, service_path: str) -> str:
    """The URL methods' paths are appended to: ``root`` + the document's service path.

    A ``root`` that already ends with the service path is the whole base URL already: that is
    what googleapiclient's ``api_endpoint`` means (``https://host/drive/v3/``), so code written
    for it sends to the same URLs here.
    """
    service = service_path.lstrip("/")
    if service.endswith("/") and urlsplit(root).path.endswith("/" + service):
        return root
    return root + service


def _credentials(credentials: Credentials | None, credentials_file: str | None, scopes: Sequence[str]) -> Credentials:
    import google.auth
    from google.auth.credentials import with_scopes_if_required

    if credentials is not None and credentials_file:
        raise ValueError("pass either credentials or client_options credentials_file, not both")
    if credentials_file:
        return _load_credentials_file(credentials_file, scopes)
    if credentials is None:
        credentials, _ = google.auth.default(scopes=list(scopes))
    return with_scopes_if_required(credentials, list(scopes))  # type: ignore[no-any-return]


def _load_credentials_file(path: str, scopes: Sequence[str]) -> Credentials:
    """Service-account keys and authorized-user files with their own loaders.

    google-auth deprecates its generic loader for configurations from untrusted sources
    (external accounts can run programs); those other types still load through it.
    """
    import json

    import google.auth

    try:
        with open(path, encoding="utf-8") as handle:
            kind = json.load(handle).get("type")
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(f"cannot read credentials_file {path!r}: {exc}") from None
    if kind == "service_account":
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(path, scopes=list(scopes))  # type: ignore[no-any-return]
    if kind == "authorized_user":
        from google.oauth2 import credentials as user_credentials

        return user_credentials.Credentials.from_authorized_user_file(path, scopes=list(scopes))  # type: ignore[no-any-return]
    loaded, _ = google.auth.load_credentials_from_file(path, scopes=list(scopes))
    return loaded  # type: ignore[no-any-return]

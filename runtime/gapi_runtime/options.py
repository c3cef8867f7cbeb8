"""Resolve a client's constructor arguments into settings: endpoint, credentials, headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gapi_runtime.hosts import is_loopback_host
from gapi_runtime.pooled_transport import PooledTransport
from gapi_runtime.redirects import RedirectingTransport
from gapi_runtime.wire import Transport

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

_OPTION_NAMES = ("api_endpoint", "quota_project_id", "scopes", "credentials_file", "api_key")


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    credentials: Credentials | None
    transport: Transport
    headers: Mapping[str, str]
    timeout: float | None

    def __repr__(self) -> str:
        # Header values (an API key, a quota project) never appear in a repr.
        return (
            f"ClientSettings(base_url={self.base_url!r}, credentials={type(self.credentials).__name__}, "
            f"transport={type(self.transport).__name__}, headers=[{', '.join(sorted(self.headers))}], "
            f"timeout={self.timeout!r})"
        )


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
            f"endpoint {url!r} uses plain http to a non-loopback host; use https "
            "(or pass allow_insecure_http=True)"
        )
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError(f"endpoint {url!r} must not contain user info, a query or a fragment")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise ValueError(f"endpoint {url!r} contains whitespace or control characters")
    return url.rstrip("/") + "/"


def _options_dict(client_options: Mapping[str, Any] | Any | None) -> dict[str, Any]:
    if client_options is None:
        return {}
    if isinstance(client_options, Mapping):
        unknown = sorted(set(client_options) - set(_OPTION_NAMES))
        if unknown:
            raise ValueError(f"unknown client_options key(s): {', '.join(unknown)}")
        return dict(client_options)
    return {name: getattr(client_options, name, None) for name in _OPTION_NAMES}


def resolve_settings(
    *,
    root_url: str,
    service_path: str,
    scopes: Sequence[str],
    user_agent: str,
    api_client: str,
    credentials: Credentials | None,
    endpoint: str | None,
    client_options: Mapping[str, Any] | Any | None,
    transport: Transport | None,
    timeout: float | None,
    allow_insecure_http: bool,
) -> ClientSettings:
    base_url, resolved, headers = resolve_common(
        root_url=root_url,
        service_path=service_path,
        scopes=scopes,
        user_agent=user_agent,
        api_client=api_client,
        credentials=credentials,
        endpoint=endpoint,
        client_options=client_options,
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
    )
    return ClientSettings(
        base_url=base_url,
        credentials=resolved,
        transport=RedirectingTransport(
            transport if transport is not None else PooledTransport(), allow_insecure_http=allow_insecure_http
        ),
        headers=headers,
        timeout=timeout,
    )


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
) -> tuple[str, Credentials | None, dict[str, str]]:
    """What sync and async clients resolve alike: (base URL, credentials, headers of every call).

    Checks the endpoint and the timeout; raises ValueError for a user's mistake.
    """
    options = _options_dict(client_options)
    if endpoint is not None and options.get("api_endpoint") not in (None, endpoint):
        raise ValueError("pass the endpoint either as endpoint= or as client_options api_endpoint, not both")
    chosen = endpoint or options.get("api_endpoint") or root_url
    if not chosen:
        raise ValueError("this API's discovery document names no rootUrl: pass endpoint= (the service's root URL)")
    root = check_endpoint(chosen, allow_insecure_http)
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
    return root + service_path.lstrip("/"), credentials, headers


def _credentials(
    credentials: Credentials | None, credentials_file: str | None, scopes: Sequence[str]
) -> Credentials:
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

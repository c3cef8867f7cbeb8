"""Which proxy, if any, a request goes through: an explicit proxy or the environment.

The environment is read the way curl, requests and the standard library read it:
``https_proxy`` / ``HTTPS_PROXY`` for https URLs, ``http_proxy`` / ``HTTP_PROXY`` for http URLs
(the lower-case name wins when both are set; ``HTTP_PROXY`` is ignored in a CGI process, where
it could come from a request's ``Proxy:`` header), and ``no_proxy`` / ``NO_PROXY`` for hosts
that are reached directly (``*``, host names and domain suffixes, with or without a port).
Loopback hosts (``localhost``, 127.0.0.0/8, ``::1``) never go through a proxy from the
environment, as in Go's ``net/http``; an explicit proxy carries every request.

https requests are tunnelled with ``CONNECT host:443``; the proxy never sees the request or
the TLS keys. Credentials in a proxy URL (``http://user:pass@proxy:3128``) are sent as
``Proxy-Authorization: Basic`` and never appear in reprs, logs or error messages
(:attr:`Proxy.shown`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from gapi_runtime.hosts import is_loopback_host

__all__ = ["Proxy", "ProxySettings", "redact"]

_SCHEMES = ("http", "https")


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and reprs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid proxy URL>"
    if parts.password is None and parts.username is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class Proxy:
    """One proxy: ``url`` without credentials, and the ``Proxy-Authorization`` they give."""

    __slots__ = ("headers", "password", "shown", "url", "username")

    def __init__(self, url: str, source: str = "proxy") -> None:
        shown = redact(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError(f"{source} {shown!r} is not a valid proxy URL") from None
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(f"{source} {shown!r} is not supported: use an http:// (or https://) proxy URL with a host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{source} {shown!r} must not have a path, query or fragment")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        default_port = 443 if parts.scheme == "https" else 80
        self.url = f"{parts.scheme}://{host}:{port or default_port}"
        self.shown = shown
        self.username = unquote(parts.username) if parts.username is not None else None
        self.password = unquote(parts.password) if parts.password is not None else None
        self.headers: Mapping[str, str] = {}
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode("ascii")
            self.headers = {"proxy-authorization": f"Basic {token}"}

    def __repr__(self) -> str:
        return f"Proxy({self.shown!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Proxy) and (self.url, self.headers) == (other.url, other.headers)

    def __hash__(self) -> int:
        return hash((self.url, tuple(self.headers.items())))


class ProxySettings:
    """The proxy rule of one transport, decided when the transport is created.

    Args:
        proxy: A proxy URL for every request; None: read the environment (if ``trust_env``).
        trust_env: Read ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` when ``proxy`` is None.
        environ: The environment to read (default ``os.environ``).
    """

    __slots__ = ("_cache", "by_scheme", "explicit", "no_proxy")

    def __init__(self, proxy: str | None = None, trust_env: bool = True, environ: Mapping[str, str] | None = None):
        self.explicit = Proxy(proxy, "proxy") if proxy else None
        self.by_scheme: dict[str, Proxy] = {}
        self.no_proxy = ""
        self._cache: dict[tuple[str, str], Proxy | None] = {}
        if self.explicit is None and trust_env:
            found = _environment_proxies(os.environ if environ is None else environ)
            self.no_proxy = found.get("no", "")
            for scheme in _SCHEMES:
                if found.get(scheme):
                    self.by_scheme[scheme] = Proxy(found[scheme], f"{scheme.upper()}_PROXY")

    @property
    def active(self) -> bool:
        """False when no request can go through a proxy (the transport's fast path)."""
        return self.explicit is not None or bool(self.by_scheme)

    def __repr__(self) -> str:
        if self.explicit is not None:
            return f"ProxySettings(proxy={self.explicit.shown!r})"
        shown = {scheme: proxy.shown for scheme, proxy in self.by_scheme.items()}
        return f"ProxySettings(environment={shown!r}, no_proxy={self.no_proxy!r})"

    def for_url(self, url: str) -> Proxy | None:
        """The proxy for ``url``, or None to connect directly."""
        if self.explicit is not None:
            return self.explicit
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key in self._cache:
            return self._cache[key]
        proxy = self.by_scheme.get(parts.scheme)
        host = parts.hostname or ""
        if proxy is not None and (is_loopback_host(host) or self._bypassed(parts.netloc.rsplit("@", 1)[-1])):
            proxy = None
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = proxy
        return proxy

    def _bypassed(self, host_port: str) -> bool:
        if not self.no_proxy:
            return False
        import urllib.request  # ~40 ms (http.client, email): only when NO_PROXY is set

        bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - not in typeshed
        return bool(bypass(host_port, {"no": self.no_proxy}))


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """``{"http": url, "https": url, "no": hosts}`` from the environment (lower case first)."""
    found: dict[str, str] = {}
    for name in ("http", "https", "no"):
        for variable in (f"{name}_proxy", f"{name.upper()}_PROXY"):
            if variable in environ:
                found[name] = environ[variable].strip()
                break
    if "REQUEST_METHOD" in environ and "http_proxy" not in environ:
        found.pop("http", None)  # CGI: HTTP_PROXY may come from the request's Proxy header
    return {name: value for name, value in found.items() if value}

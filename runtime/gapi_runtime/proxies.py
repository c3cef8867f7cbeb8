"""Which proxy, if any, a request goes through: an explicit proxy or the environment.

The environment is read the way curl, requests and the standard library read it:
``https_proxy`` / ``HTTPS_PROXY`` for https URLs, ``http_proxy`` / ``HTTP_PROXY`` for http URLs
(the lower-case name wins when both are set; ``HTTP_PROXY`` is ignored in a CGI process, where
it could come from a request's ``Proxy:`` header; a value without a scheme is an http proxy),
and ``no_proxy`` / ``NO_PROXY`` for hosts that are reached directly (``*``, host names and
domain suffixes, IP addresses and CIDR blocks, each with or without a port).
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
from urllib.parse import SplitResult, unquote, urlsplit

from gapi_runtime.hosts import is_loopback_host

__all__ = ["Proxy", "ProxySettings", "redact"]

_SCHEMES = ("http", "https")


def redact(url: str) -> str:
    """``url`` with its credentials replaced by ``***`` (for messages and reprs).

    It works on the text, not on a parse: a password holding ``#``, ``/`` or ``?`` unencoded
    makes the URL invalid, and the message saying so must not show it either. Everything up
    to the last ``@`` after the scheme is taken for the credentials; a user name is kept.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}{separator}{user + ':***' if colon else '***'}@{host}"


class Proxy:
    """One proxy: ``url`` without credentials, and the ``Proxy-Authorization`` they give."""

    __slots__ = ("headers", "password", "shown", "url", "username")

    def __init__(self, url: str, source: str = "proxy") -> None:
        if "://" not in url:  # "proxy.corp:3128": an http proxy, as curl, requests and urllib read it
            url = "http://" + url
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
        if proxy is not None and (is_loopback_host(host) or self._bypassed(host, _port(parts))):
            proxy = None
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = proxy
        return proxy

    def _bypassed(self, host: str, port: int) -> bool:
        """Whether ``NO_PROXY`` names ``host`` (on ``port``), as curl and requests read it: ``*``,
        host names and domain suffixes (``example.com``, ``.example.com``), IP addresses
        (IPv6 bracketed or not) and CIDR blocks (``10.0.0.0/8``, ``fd00::/8``), each optionally
        with ``:port``; entries are separated by commas or spaces."""
        return bool(self.no_proxy) and any(
            _no_proxy_matches(entry, host, port) for entry in self.no_proxy.replace(",", " ").split()
        )


def _port(parts: SplitResult) -> int:
    """The URL's port: the one it names, else (or when it is not a valid port) the scheme's default."""
    try:
        port = parts.port
    except ValueError:
        port = None
    return port or (443 if parts.scheme == "https" else 80)


def _no_proxy_matches(entry: str, host: str, port: int) -> bool:
    """Whether one ``NO_PROXY`` entry names ``host`` (lower case, IPv6 without brackets) on ``port``."""
    import ipaddress  # only when NO_PROXY is set

    entry = entry.lower()
    if entry == "*":
        return True
    wanted_port = None
    bracketed = entry.startswith("[")
    if bracketed:  # [v6] or [v6]:port
        inner, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            wanted_port = int(rest[1:])
        entry = inner
    elif entry.count(":") == 1:  # name:port or v4:port (a bare IPv6 address has several colons)
        name, _, number = entry.partition(":")
        if not number.isdigit():
            return False
        entry, wanted_port = name, int(number)
    if wanted_port is not None and wanted_port != port:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if "/" in entry:  # a CIDR block: IP literal hosts only
        try:
            return address is not None and address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    try:
        return address == ipaddress.ip_address(entry)
    except ValueError:  # not an address: a host name or a domain
        pass
    if bracketed or address is not None:
        return False
    name = entry.removeprefix("*").lstrip(".")
    return bool(name) and (host == name or host.endswith("." + name))


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

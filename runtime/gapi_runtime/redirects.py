"""Redirects, followed deliberately: few, safe methods only, and never with secrets cross-host.

Google JSON APIs answer API calls directly; the redirects a client meets in practice are
media downloads (``alt=media``) sent on to a storage host. So every client's transport is
wrapped in :class:`RedirectingTransport`, which:

* follows 301, 302, 303, 307 and 308 for GET and HEAD only, at most
  :data:`MAX_REDIRECTS` times. Any other method gets the 3xx response back unfollowed (the
  client raises it as an HTTP error): re-sending a body to a new place is not a decision
  a library should make silently;
* strips :data:`SECRET_HEADERS` (``Authorization``, ``x-goog-api-key``,
  ``x-goog-user-project``, cookies…) as soon as a hop leaves the original origin (scheme,
  host and port), and never puts them back for later hops;
* refuses — with :class:`RedirectError` — a hop from https to http (no silent TLS
  downgrade), to plain http on a non-loopback host unless the client allows insecure http,
  to another scheme, to a URL with user info, or with characters no URL may hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from gapi_runtime.errors import TransportError
from gapi_runtime.hosts import is_loopback_host
from gapi_runtime.wire import Body, Response, Sink, Timeout, Transport, stream

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "SECRET_HEADERS",
    "RedirectError",
    "RedirectPlan",
    "RedirectingTransport",
    "check_target",
    "follows",
]

#: Most redirects followed for one request.
MAX_REDIRECTS = 5
#: Statuses that are followed (for GET and HEAD).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Methods whose redirects are followed.
FOLLOWED_METHODS = frozenset({"GET", "HEAD"})
#: Request headers (lower case) that never go to an origin other than the one the call named.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-goog-api-key",
        "x-goog-user-project",
        "x-goog-iam-authorization-token",
        "x-goog-iam-authority-selector",
        "cookie",
    }
)


class RedirectError(TransportError):
    """A redirect was refused (unsafe target) or there were too many of them."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _location(headers: Mapping[str, str]) -> str | None:
    value = headers.get("location")
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == "location"), None)
    return value


class RedirectingTransport:
    """Wraps a :class:`~gapi_runtime.transport.Transport` and follows redirects safely.

    Args:
        inner: The transport that sends each hop.
        allow_insecure_http: Permit hops to plain ``http://`` on non-loopback hosts (never
            from an ``https://`` URL).
        max_redirects: Most hops followed per request.
    """

    def __init__(self, inner: Transport, *, allow_insecure_http: bool = False, max_redirects: int = MAX_REDIRECTS):
        self.inner = inner
        self.allow_insecure_http = allow_insecure_http
        self.max_redirects = max_redirects

    def __repr__(self) -> str:
        return f"RedirectingTransport({self.inner!r}, max_redirects={self.max_redirects})"

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        response = self.inner.request(method, url, headers, body, timeout)
        if response.status < 300 or not follows(method, response.status):  # most answers: one comparison
            return response
        return self._follow(method, url, headers, timeout, response, None)

    def stream(
        self, method: str, url: str, headers: Mapping[str, str], body: Body, timeout: Timeout, sink: Sink | None = None
    ) -> Response:
        """:meth:`request` with a streamed body or answer (:func:`gapi_runtime.wire.stream`):
        redirects are followed alike; only the final answer reaches ``sink``."""
        response = stream(self.inner, method, url, headers, body, timeout, sink)
        if not follows(method, response.status):
            return response
        return self._follow(method, url, headers, timeout, response, sink)

    def _follow(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        timeout: float | None,
        response: Response,
        sink: Sink | None,
    ) -> Response:
        plan = RedirectPlan(method, url, headers, self.allow_insecure_http, self.max_redirects)
        while (hop := plan.next_hop(response)) is not None:
            if sink is None:
                response = self.inner.request(method, hop[0], hop[1], None, timeout)
            else:
                response = stream(self.inner, method, hop[0], hop[1], None, timeout, sink)
        return response

    def close(self) -> None:
        self.inner.close()


def follows(method: str, status: int) -> bool:
    """True when a response with ``status`` to a ``method`` request is a redirect to follow."""
    return status in REDIRECT_STATUSES and method in FOLLOWED_METHODS


class RedirectPlan:
    """The redirect decisions of one request, independent of how hops are sent (sync or async).

    Call :meth:`next_hop` with each redirect response: it returns the URL and headers of the
    next request, None when there is nothing to follow (the response is the answer), or raises
    :class:`RedirectError`.
    """

    __slots__ = ("allow_insecure_http", "current", "hops", "max_redirects", "method", "origin", "sent", "url")

    def __init__(
        self, method: str, url: str, headers: Mapping[str, str], allow_insecure_http: bool, max_redirects: int
    ) -> None:
        self.method = method
        self.url = url
        self.origin = _origin(url)
        self.current = url
        self.sent = dict(headers)
        self.allow_insecure_http = allow_insecure_http
        self.max_redirects = max_redirects
        self.hops = 0

    def next_hop(self, response: Response) -> tuple[str, dict[str, str]] | None:
        if not follows(self.method, response.status):
            return None
        if self.hops >= self.max_redirects:
            raise RedirectError(f"{self.method} {self.url.split('?', 1)[0]}: more than {self.max_redirects} redirects")
        location = _location(response.headers)
        if not location:
            return None  # nothing to follow: the client reports the 3xx
        target = check_target(self.current, location, self.allow_insecure_http)
        if _origin(target) != self.origin:
            self.sent = {name: value for name, value in self.sent.items() if name.lower() not in SECRET_HEADERS}
        self.current = target
        self.hops += 1
        return target, self.sent


def check_target(current: str, location: str, allow_insecure_http: bool) -> str:
    """The absolute URL of ``location``, or RedirectError when it may not be followed."""
    where = current.split("?", 1)[0]
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in location):
        raise RedirectError(f"redirect from {where} to a Location with whitespace or control characters")
    target = urljoin(current, location)
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise RedirectError(f"redirect from {where} to an invalid URL") from None
    shown = f"{parts.scheme}://{parts.hostname}{parts.path}"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RedirectError(f"redirect from {where} to a non-http(s) URL refused")
    if parts.username is not None or parts.password is not None:
        raise RedirectError(f"redirect from {where} to a URL with user info refused")
    if parts.scheme == "http":
        if urlsplit(current).scheme == "https":
            raise RedirectError(f"redirect from {where} to plain http ({shown}) refused: no TLS downgrade")
        if not (allow_insecure_http or is_loopback_host(parts.hostname)):
            raise RedirectError(f"redirect from {where} to plain http on a non-loopback host ({shown}) refused")
    return target

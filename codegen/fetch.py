"""Download a discovery document from the Discovery service.

The URLs tried, in order, are templates with ``{name}`` and ``{version}`` placeholders:

1. ``https://{name}.googleapis.com/$discovery/rest?version={version}`` (the API's own host)
2. ``https://www.googleapis.com/discovery/v1/apis/{name}/{version}/rest`` (the directory)

The next URL is tried when one fails: an HTTP error, a connection error, an error body
(``{"error": {...}}``), or a document that does not load (invalid JSON, a malformed
document, or one for another API). ``--discovery-url`` (repeatable) or the environment
variable ``CODEGEN_DISCOVERY_URLS`` (URL templates separated by whitespace) replace the
list — tests point it at a loopback server. Plain ``http://`` is accepted only for loopback
hosts: a document fetched over an unauthenticated channel becomes code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from codegen import __version__
from codegen.discovery import MAX_DOCUMENT_BYTES, Document, load_bytes
from codegen.errors import CodegenError, DocumentError, one_line

DEFAULT_URLS: tuple[str, ...] = (
    "https://{name}.googleapis.com/$discovery/rest?version={version}",
    "https://www.googleapis.com/discovery/v1/apis/{name}/{version}/rest",
)
#: Environment variable holding replacement URL templates, separated by whitespace.
URLS_ENV = "CODEGEN_DISCOVERY_URLS"
#: API names and versions as the Discovery service spells them (``admin``, ``directory_v1``, ``v1.2``).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Fetched:
    """A downloaded, validated document and where it came from."""

    url: str
    document: Document
    failures: tuple[str, ...]  # one line per URL tried before ``url``, saying why it failed

    @property
    def data(self) -> bytes:
        return self.document.raw


def discovery_urls(
    name: str, version: str, templates: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """The URLs to try for ``name`` ``version``: ``templates``, else ``$CODEGEN_DISCOVERY_URLS``, else the defaults."""
    for label, value in (("API name", name), ("version", version)):
        if not _NAME.fullmatch(value):
            raise CodegenError(f"invalid {label} {value!r}: expected letters, digits, '.', '_' or '-'")
    if not templates:
        configured = (os.environ if environ is None else environ).get(URLS_ENV, "").split()
        templates = configured or DEFAULT_URLS
    urls = []
    for template in templates:
        url = template.replace("{name}", quote(name, safe="")).replace("{version}", quote(version, safe=""))
        _check_url(url, f"discovery URL template {template!r}")
        urls.append(url)
    return urls


def _check_url(url: str, what: str) -> None:
    from gapi_runtime.hosts import is_loopback_host

    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CodegenError(f"{what} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise CodegenError(f"{what} uses plain http to a non-loopback host; use https")


def fetch(
    name: str,
    version: str,
    templates: Sequence[str] | None = None,
    *,
    timeout: float = 30.0,
    retries: int = 2,
    environ: Mapping[str, str] | None = None,
) -> Fetched:
    """Download and validate the discovery document of ``name`` ``version``.

    Raises :class:`CodegenError` naming every URL tried and why it failed.
    """
    import urllib3

    urls = discovery_urls(name, version, templates, environ)
    retry = urllib3.Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        redirect=0,
        backoff_factor=0.2,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    headers = {
        "accept": "application/json",
        "accept-encoding": "gzip, deflate",
        "user-agent": f"gapi-codegen/{__version__}",
    }
    failures: list[str] = []
    with urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout)) as pool:
        for url in urls:
            try:
                status, body = _get(pool, url, headers)
                document = _validate(url, status, body, name, version)
            except DocumentError as exc:  # its message starts with the URL already
                failures.append(str(exc))
                continue
            except CodegenError as exc:
                failures.append(f"{url}: {exc}")
                continue
            return Fetched(url, document, tuple(failures))
    raise CodegenError(f"could not fetch the {name} {version} discovery document: " + "; ".join(failures))


def _get(pool: object, url: str, headers: dict[str, str], max_redirects: int = 5) -> tuple[int, bytes]:
    """GET ``url``; redirects are followed only to URLs that pass the same checks."""
    import urllib3

    assert isinstance(pool, urllib3.PoolManager)
    for _ in range(max_redirects + 1):
        try:
            response = pool.request(
                "GET", url, headers=headers, preload_content=False, decode_content=True, redirect=False
            )
        except urllib3.exceptions.MaxRetryError as exc:
            raise CodegenError(f"connection failed: {_reason(exc.reason)}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise CodegenError(f"connection failed: {_reason(exc)}") from None
        try:
            location = response.headers.get("location")
            if response.status in (301, 302, 303, 307, 308) and location:
                target = urljoin(url, location)
                _check_url(target, f"redirect target {target!r}")
                url = target
                continue
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream(256 * 1024):
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise CodegenError(f"response is larger than {MAX_DOCUMENT_BYTES} bytes")
                chunks.append(chunk)
            return response.status, b"".join(chunks)
        except urllib3.exceptions.HTTPError as exc:
            raise CodegenError(f"reading the response failed: {_reason(exc)}") from None
        finally:
            response.release_conn()
    raise CodegenError(f"more than {max_redirects} redirects")


def _reason(exc: BaseException | None) -> str:
    return one_line(f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error", 160)


def _validate(url: str, status: int, body: bytes, name: str, version: str) -> Document:
    error = _error_message(body)
    if status != 200:
        raise CodegenError(f"HTTP {status}" + (f": {error}" if error else ""))
    if error:
        raise CodegenError(f"the service answered with an error body: {error}")
    document = load_bytes(body, url)
    if (document.name, document.version) != (name, version):
        raise CodegenError(f"the document is for {document.name} {document.version}, not {name} {version}")
    return document


def _error_message(body: bytes) -> str:
    """The message of a Google error body (``{"error": {"code": 404, "message": ...}}``), else ""."""
    if not body.lstrip().startswith(b"{") or b'"error"' not in body[:4096]:
        return ""
    try:
        tree = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(tree, dict) or "error" not in tree or "discoveryVersion" in tree:
        return ""
    error = tree["error"]
    if isinstance(error, dict):
        parts = [str(error.get(key)) for key in ("code", "status", "message") if error.get(key) not in (None, "")]
        return one_line(" ".join(parts) or "error", 200)
    return one_line(str(error), 200)

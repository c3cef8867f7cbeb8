"""Refuse discovery documents that would make a generated client send requests elsewhere.

A discovery document is untrusted input: whatever it says about endpoints, paths, headers
and patterns ends up in code that runs with the user's credentials. :func:`check` runs
before lowering and raises a one-line :class:`~codegen.errors.DocumentError` naming the
JSON path of the first problem:

* ``rootUrl``, ``mtlsRootUrl`` and every ``endpoints[].endpointUrl`` must be ``https://``
  URLs on ``googleapis.com`` or a host under it — or under a universe domain the user names
  (``codegen generate --universe-domain``), or exactly a URL the user allows
  (``--allow-endpoint``). No user info, port other than 443, query, fragment, whitespace
  or non-ASCII host.
* ``servicePath``, ``batchPath`` and the literal parts of every method ``path`` are
  relative paths of URL path characters without ``.``/``..`` segments, ``%``, ``?`` or
  ``#``: they are pasted into request URLs as they are.
* ``revision`` and every method's ``apiVersion`` are tokens (they go into HTTP headers).
* Names that become file names (the API name and version, top-level resources) are at
  most :data:`MAX_FILE_NAME` characters.
* Every ``pattern`` compiles; patterns of path parameters, which the runtime runs on
  caller values, also pass :func:`codegen.patterns.problem` (no catastrophic backtracking).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from codegen import patterns
from codegen.discovery import Document, Method, Schema
from codegen.errors import CodegenError, DocumentError

#: The domain every Google API endpoint lives under.
GOOGLE_DOMAIN = "googleapis.com"
#: Longest API name, version or top-level resource name (they become file names).
MAX_FILE_NAME = 100
#: Top-level modules a generated package must not be named like (besides the standard
#: library's): the runtime, what it and generated code import, and the generator.
SHADOWED_MODULES = frozenset(
    {
        "gapi_runtime",
        "google",
        "google_crc32c",
        "googleapiclient",
        "typing_extensions",
        "urllib3",
        "aiohttp",
        "httplib2",
        "codegen",
    }
)

_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
_TOKEN = re.compile(r"[A-Za-z0-9._-]*")
#: Characters of a URL path (RFC 3986 pchar and ``/``) less ``%``: nothing that ends the
#: path (``?``, ``#``), nothing a server might decode into something else.
_PATH_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_URL_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~]+/)*")


@dataclass(frozen=True)
class EndpointPolicy:
    """Which endpoint URLs a document may name.

    ``domains``: hosts equal to or under one of these are accepted over https.
    ``allowed``: URLs accepted as they are (compared after adding a trailing ``/``), e.g. an
    emulator's ``http://localhost:8080/``; still no user info, query or fragment.
    """

    domains: tuple[str, ...] = (GOOGLE_DOMAIN,)
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_flags(cls, universe_domains: Iterable[str] = (), allowed: Iterable[str] = ()) -> EndpointPolicy:
        """The policy for ``--universe-domain`` and ``--allow-endpoint`` values (validated)."""
        domains = [GOOGLE_DOMAIN]
        for domain in universe_domains:
            normalized = domain.strip().lower().rstrip(".")
            if not _HOST.fullmatch(normalized):
                raise CodegenError(f"--universe-domain {domain!r} is not a domain name like example.com")
            domains.append(normalized)
        urls = []
        for url in allowed:
            problem = _url_syntax_problem(url)
            if problem or urlsplit(url).scheme not in ("http", "https"):
                raise CodegenError(f"--allow-endpoint {url!r} is not an http(s) URL: {problem or 'wrong scheme'}")
            urls.append(_with_slash(url))
        return cls(tuple(dict.fromkeys(domains)), tuple(dict.fromkeys(urls)))

    def problem(self, url: str) -> str | None:
        """Why ``url`` is not an acceptable endpoint, or None."""
        syntax = _url_syntax_problem(url)
        if syntax:
            return syntax
        if _with_slash(url) in self.allowed:
            return None
        parts = urlsplit(url)
        if parts.scheme != "https":
            return f"{url!r} is not an https:// URL{self._hint()}"
        host = parts.hostname or ""
        if not _HOST.fullmatch(host):
            return f"{url!r} does not name a DNS host{self._hint()}"
        if not any(host == domain or host.endswith("." + domain) for domain in self.domains):
            names = " or ".join(self.domains)
            return f"host {host!r} of {url!r} is not under {names}{self._hint()}"
        if parts.port not in (None, 443):
            return f"{url!r} names port {parts.port}; only the https default is accepted{self._hint()}"
        if not _URL_PATH.fullmatch(parts.path or "/"):
            return f"the path of {url!r} must be '/' or plain segments ending in '/'"
        return None

    def _hint(self) -> str:
        return " (use --universe-domain DOMAIN or --allow-endpoint URL to accept it)"


def _url_syntax_problem(url: str) -> str | None:
    if not url:
        return "the URL is empty"
    if any(ord(char) <= 0x20 or ord(char) >= 0x7F for char in url):
        return f"{url!r} contains whitespace, control or non-ASCII characters"
    if "\\" in url:
        return f"{url!r} contains a backslash"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"{url!r} is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} must be an https:// URL with a host"
    if not url.startswith(f"{parts.scheme}://"):  # urlsplit lower-cases it; transports do not
        return f"{url!r} must spell its scheme in lower case"
    if "@" in parts.netloc:
        return f"{url!r} must not contain user info"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return f"{url!r} must not contain a query or a fragment"
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return f"{url!r} has a '.' or '..' path segment"
    return None


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def relative_path_problem(value: str, allow_trailing_slash: bool) -> str | None:
    """Why ``value`` is not a plain relative URL path, or None."""
    if not _PATH_CHARS.fullmatch(value):
        bad = next(char for char in value if not _PATH_CHARS.fullmatch(char))
        return f"{value!r} contains {bad!r}; only URL path characters without '%', '?' and '#' are allowed"
    if value.startswith("/"):
        return f"{value!r} must be relative (no leading '/')"
    body = value[:-1] if allow_trailing_slash and value.endswith("/") else value
    segments = body.split("/")
    if any(segment in (".", "..") for segment in segments):
        return f"{value!r} has a '.' or '..' segment"
    if body and "" in segments:
        return f"{value!r} has an empty segment ('//')"
    return None


_VARIABLE = re.compile(r"\{\+?[^{}]*\}")


def template_problem(path: str) -> str | None:
    """Why a method's ``path`` template is unsafe (its literal parts), or None."""
    literal = _VARIABLE.sub("x", path)
    problem = relative_path_problem(literal, allow_trailing_slash=True) if literal else None
    return problem.replace(repr(literal), repr(path), 1) if problem else None


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot go into an HTTP header as a token, or None."""
    if _TOKEN.fullmatch(value):
        return None
    return f"{value!r} is not a token of letters, digits, '.', '_' and '-'"


def check_names(document: Document) -> None:
    """Raise :class:`DocumentError` if the API name or version is too long to name a folder, or
    if they make a package that would shadow a module generated code or Python needs.

    Run before anything looks at the output folder (whose name they make), and again by :func:`check`.
    """
    from codegen.ir.names import package_name

    fail = _Failer(document.source)
    for where, value in (("$.name", document.name), ("$.version", document.version)):
        if len(value) > MAX_FILE_NAME:
            raise fail(where, f"longer than {MAX_FILE_NAME} characters")
    package = package_name(document)
    if package in SHADOWED_MODULES or package in sys.stdlib_module_names:
        raise fail("$.name", f"with $.version it makes the package {package!r}, which would shadow that module")


def check(document: Document, policy: EndpointPolicy | None = None) -> None:
    """Raise :class:`DocumentError` for the first unsafe value in ``document``."""
    policy = policy or EndpointPolicy()
    fail = _Failer(document.source)
    check_names(document)
    for resource in document.resources:
        if len(resource.name) > MAX_FILE_NAME:
            raise fail(resource.json_path, f"resource name longer than {MAX_FILE_NAME} characters")
    urls = [("$.rootUrl", document.root_url)] if document.root_url else []
    if document.mtls_root_url:
        urls.append(("$.mtlsRootUrl", document.mtls_root_url))
    urls += [(f"$.endpoints[{index}].endpointUrl", e.url) for index, e in enumerate(document.endpoints)]
    for where, url in urls:
        problem = policy.problem(url)
        if problem:
            raise fail(where, problem)
    for where, value, trailing in (
        ("$.servicePath", document.service_path, True),
        ("$.batchPath", document.batch_path, False),
    ):
        problem = relative_path_problem(value, trailing) if value else None
        if problem:
            raise fail(where, problem)
    problem = token_problem(document.revision)
    if problem:
        raise fail("$.revision", problem)
    for method in document.all_methods():
        _check_method(method, fail)
    for where, pattern in _patterns(document):
        problem = patterns.compile_problem(pattern)
        if problem:
            raise fail(where, problem)


def _check_method(method: Method, fail: _Failer) -> None:
    problem = template_problem(method.path)
    if problem:
        raise fail(f"{method.json_path}.path", problem)
    problem = token_problem(method.api_version)
    if problem:
        raise fail(f"{method.json_path}.apiVersion", problem)
    for _, parameter in method.parameters:
        if parameter.location == "path" and parameter.pattern:
            problem = patterns.problem(parameter.pattern)
            if problem:
                raise fail(f"{parameter.json_path}.pattern", problem)


def _patterns(document: Document) -> Iterator[tuple[str, str]]:
    """Every ``pattern`` in the document with its JSON path."""
    stack: list[Schema] = [schema for _, schema in document.parameters]
    stack += [schema for _, schema in document.schemas]
    for method in document.all_methods():
        stack += [schema for _, schema in method.parameters]
    while stack:
        schema = stack.pop()
        if schema.pattern:
            yield f"{schema.json_path}.pattern", schema.pattern
        stack += [child for _, child in schema.properties]
        stack += [child for child in (schema.items, schema.additional_properties) if child is not None]


class _Failer:
    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self, where: str, problem: str) -> DocumentError:
        return DocumentError(self.source, where, problem)

"""Request equivalence: every method of a generated client vs the dynamic client.

For each method of an API the harness synthesizes arguments — path values that fully match
the parameter's pattern, every query parameter with a value of its type (enums take their
first value, repeated parameters two values), the standard parameters ``fields``,
``quotaUser``, ``prettyPrint`` and ``$.xgafv`` (googleapiclient: ``x__xgafv``), a small JSON
body when the method takes one —
and calls both ``googleapiclient.discovery.build_from_document(...)`` and the generated
client against the same loopback server. It compares what arrived: HTTP method, path (raw,
as sent), query (parsed; ``alt``, ``prettyPrint`` and ``key`` ignored; values per name in
order), JSON body and the ``x-goog-api-version`` header.

Every difference must be one of the :data:`DEVIATIONS` below — the one place that lists
where the dynamic client is wrong, each with its reason — or the method counts as
different and the run fails.

Free-form path and query values carry ``x y:z@ä`` (a space, two RFC 3986 reserved
characters, non-ASCII), so the encoding rules are exercised on every API.

Run it (from the repository root)::

    python -m tests.support.equivalence --all            # all 610 bundled documents
    python -m tests.support.equivalence compute v1 drive v3 looker v1
    python -m tests.support.equivalence tests/fixtures/*.json
    python -m tests.support.equivalence --all --jobs 2 --generated DIR   # reuse `codegen generate --all --out DIR`

It prints methods compared / equal / deviating (per deviation) / different, and exits 1
when anything is different or fails.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.loopback import LoopbackServer  # noqa: E402
from tests.support.regex_sample import sample  # noqa: E402

# --- the deviations: the one place that lists them ----------------------------------------


@dataclass(frozen=True)
class Deviation:
    key: str
    reason: str


#: Where the dynamic client is wrong and the generated client deliberately differs.
DEVIATIONS: dict[str, Deviation] = {
    deviation.key: deviation
    for deviation in (
        Deviation(
            "reserved-expansion",
            "For a {+var} path variable googleapiclient uses RFC 6570 reserved expansion (uritemplate), "
            "which leaves the reserved characters : / ? # [ ] @ ! $ & ' ( ) * + , ; = unencoded. "
            "google/api/http.proto says {+var} percent-encodes everything but [-_.~/0-9a-zA-Z], so the "
            "generated client sends e.g. %3A and %40 where the dynamic client sends ':' and '@' "
            "(and a '?' or '#' in a value would end the dynamic client's path and inject a query).",
        ),
        Deviation(
            "shadowed-method",
            "A method and a sub-resource of one resource share a name (25 documents, e.g. aiplatform "
            "reasoningEngines 'responses'): googleapiclient sets the sub-resource's accessor over the "
            "method, so the dynamic client cannot call the method at all. The generated client keeps the "
            "method's name and gives the sub-resource a trailing '_'.",
        ),
        Deviation(
            "standard-parameter-shadowed",
            "The method declares a parameter under the wire name of a standard parameter (oauth2 v2 "
            "tokeninfo: fields, key, access_token...; recaptchaenterprise retrieveLegacySecretKey: a path "
            "parameter 'key'). googleapiclient lets the document-wide definition replace the method's own; "
            "the generated client keeps the method's own definition (its location, type and keyword).",
        ),
        Deviation(
            "param-collision",
            "Two parameters map to the same keyword in googleapiclient (key2param turns every non-alphanumeric "
            "into '_'), or a parameter is named 'body', googleapiclient's keyword for the request body: the "
            "dynamic client then sends one value under both names, drops one, or sends a query value as the "
            "JSON body. The generated client keeps them apart (a later or reserved one gets a trailing '_').",
        ),
    )
}

#: The APIs CI compares (tests/e2e/test_all_apis.py): those the issue names, plus documents that
#: carry the edge cases (keywords, dashed names, inline schemas, case collisions, ...).
CI_SLICE: tuple[tuple[str, str], ...] = (
    ("compute", "v1"),
    ("drive", "v3"),
    ("storage", "v1"),
    ("bigquery", "v2"),
    ("sheets", "v4"),
    ("admin", "directory_v1"),
    ("youtube", "v3"),
    ("aiplatform", "v1"),
    ("translate", "v2"),
    ("oauth2", "v2"),
    ("looker", "v1"),
    ("gmail", "v1"),
    ("calendar", "v3"),
    ("pubsub", "v1"),
    ("cloudresourcemanager", "v3"),
    ("iam", "v1"),
    ("run", "v1"),  # 'continue' parameters
    ("apigee", "v1"),  # 'from' parameters
    ("analytics", "v3"),  # 'max-results', 'end-date'
    ("adsense", "v2"),  # 'endDate.day'
    ("connectors", "v1"),  # a 'global' resource
    ("monitoring", "v1"),  # a 'global' resource
    ("serviceconsumermanagement", "v1beta1"),  # schema names differing only in case
    ("dfareporting", "v4"),  # integer path parameters with patterns
    ("integrations", "v1"),  # an inline request schema
    ("identitytoolkit", "v1"),  # an inline response schema
    ("analyticsreporting", "v4"),  # a property named 'not'
    ("dataflow", "v1b3"),
    ("dns", "v1"),
    ("people", "v1"),
    ("tasks", "v1"),
    ("discovery", "v1"),
    ("firestore", "v1"),
)

IGNORED_QUERY = frozenset({"alt", "key"})
#: A value for each standard parameter (the document's top-level ``parameters`` that both
#: clients accept as keywords), sent with every method that does not declare the name itself.
STANDARD_VALUES: dict[str, Any] = {
    "fields": "kind,items(id,name)",
    "quotaUser": "x y:z@ä",
    "prettyPrint": False,
    "$.xgafv": "2",
}
#: Free-form strings (path segments, query values) carry reserved and non-ASCII characters.
TOKEN = "x y:z@ä"
#: With ``--plain``: only unreserved characters, so every path must come out byte-equal.
PLAIN_TOKEN = "x-y_z~1"
#: RFC 6570 reserved characters that uritemplate's {+var} expansion leaves as they are.
RFC6570_RESERVED = frozenset(":/?#[]@!$&'()*+,;=")
BODY = {"probe": TOKEN, "count": "12"}

# --- what arrives on the wire -------------------------------------------------------------


@dataclass(frozen=True)
class Wire:
    """The comparable parts of one request as the loopback server received it."""

    method: str
    path: str
    query: tuple[tuple[str, tuple[str, ...]], ...]
    body: Any
    api_version: str | None
    #: The content type of a body that is not JSON (media uploads), else "".
    media_type: str = ""

    @classmethod
    def of(cls, recorded: Any) -> Wire:
        grouped: dict[str, list[str]] = {}
        for key, value in parse_qsl(urlsplit(recorded.target).query, keep_blank_values=True):
            if key not in IGNORED_QUERY:
                grouped.setdefault(key, []).append(value)
        content_type = recorded.headers.get("content-type", "")
        media_type = ""
        if recorded.body and content_type and not content_type.startswith("application/json"):
            media_type = content_type.split(";", 1)[0].strip()
        if media_type == "multipart/related":
            body: Any = tuple(
                (part.get("content-type"), json.loads(data) if part.get("content-type") == "application/json" else data)
                for part, data in _multipart_parts(content_type, recorded.body)
            )
        elif media_type:
            body = recorded.body
        else:
            body = json.loads(recorded.body) if recorded.body else None
        return cls(
            recorded.method,
            urlsplit(recorded.target).path,
            tuple(sorted((key, tuple(values)) for key, values in grouped.items())),
            body,
            recorded.headers.get("x-goog-api-version"),
            media_type,
        )


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/related body (CRLF or LF line endings: googleapiclient uses LF)."""
    from tests.support.media_server import parse_multipart

    return parse_multipart(content_type, body)


@dataclass
class Outcome:
    """The verdict for one method."""

    method_id: str
    verdict: str  # "equal", "deviating", "different", "error"
    deviation: str = ""
    detail: str = ""


@dataclass
class ApiReport:
    source: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""  # the API could not be compared at all
    seconds: float = 0.0

    def count(self, verdict: str) -> int:
        return sum(outcome.verdict == verdict for outcome in self.outcomes)


# --- synthesizing arguments ---------------------------------------------------------------

_PATTERN_CACHE: dict[tuple[str, str], str | None] = {}


def _pattern_value(pattern: str, token: str) -> str:
    if (pattern, token) not in _PATTERN_CACHE:
        _PATTERN_CACHE[(pattern, token)] = sample(pattern, token)
    value = _PATTERN_CACHE[(pattern, token)]
    if value is None:
        raise ValueError(f"cannot synthesize a value matching {pattern!r}")
    return value


def scalar_value(schema: dict[str, Any], token: str = TOKEN) -> Any:
    """One value of a parameter's type (string values as the wire carries them)."""
    kind = schema.get("type", "string")
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "integer":
        return 7
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if schema.get("pattern"):
        return _pattern_value(schema["pattern"], token)
    if schema.get("format") in ("int64", "uint64"):
        return "12345678901"
    if schema.get("format") == "google-datetime":
        return "2024-01-02T03:04:05Z"
    return token


def argument_value(schema: dict[str, Any], token: str = TOKEN) -> Any:
    if schema.get("repeated"):
        enum = schema.get("enum") or []
        if len(enum) >= 2:
            return [enum[0], enum[1]]
        return [scalar_value(schema, token), scalar_value(schema, token)]
    return scalar_value(schema, token)


# --- walking the document and the generated client together ------------------------------


@dataclass(frozen=True)
class MethodCase:
    method_id: str
    dynamic_path: tuple[str, ...]  # googleapiclient accessor names (resources, then the method)
    generated_path: tuple[str, ...]  # attribute names on the generated client
    description: dict[str, Any]
    param_names: dict[str, str]  # wire name → generated keyword
    body_keyword: bool  # the generated method takes body=
    shadowed: bool  # a sub-resource of the same name hides it in googleapiclient
    upload: bool = False  # the method supports media upload (media_body=)
    media_name: str = ""  # the generated ``<method>_media`` download sibling, if any
    shadows_standard: tuple[str, ...] = ()  # the method's own parameters named like document-wide ones


def cases(tree: dict[str, Any], client_ir: Any) -> Iterator[MethodCase]:
    """Every method of the document, with the names both clients give it."""
    from googleapiclient.discovery import fix_method_name

    by_id: dict[str, tuple[tuple[str, ...], Any]] = {}

    def index(resource: Any, path: tuple[str, ...]) -> None:
        for method in resource.methods:
            by_id[method.id] = ((*path, method.name), method)
        for child in resource.children:
            index(child, (*path, child.attribute))

    for method in client_ir.methods:
        by_id[method.id] = ((method.name,), method)
    for module in client_ir.modules:
        index(module.root, (module.root.attribute,))

    def walk(node: dict[str, Any], dynamic: tuple[str, ...]) -> Iterator[MethodCase]:
        resources = node.get("resources", {})
        for name in sorted(node.get("methods", {})):
            description = node["methods"][name]
            generated, method_ir = by_id[description.get("id", "")]
            yield MethodCase(
                description.get("id", ""),
                (*dynamic, fix_method_name(name)),
                generated,
                description,
                {param.wire: param.name for param in method_ir.params},
                method_ir.body != "none",
                fix_method_name(name) in {fix_method_name(child) for child in resources},
                bool(method_ir.upload_spec_name),
                method_ir.media_name,
                tuple(sorted(set(description.get("parameters", {})) & set(tree.get("parameters", {})))),
            )
        for name in sorted(resources):
            yield from walk(resources[name], (*dynamic, fix_method_name(name)))

    yield from walk(tree, ())


# --- comparing -----------------------------------------------------------------------------


def _units(path: str) -> list[str]:
    """A path split into characters and ``%XX`` escapes."""
    units, index = [], 0
    while index < len(path):
        if path[index] == "%" and index + 3 <= len(path):
            units.append(path[index : index + 3].upper())
            index += 3
        else:
            units.append(path[index])
            index += 1
    return units


def reserved_expansion_only(ours: str, dynamic: str) -> bool:
    """True when the paths differ only where the dynamic client left an RFC 6570 reserved
    character unencoded and ours percent-encoded it."""
    mine, theirs = _units(ours), _units(dynamic)
    if len(mine) != len(theirs):
        return False
    differs = False
    for a, b in zip(mine, theirs, strict=True):
        if a == b:
            continue
        if b in RFC6570_RESERVED and a == f"%{ord(b):02X}":
            differs = True
            continue
        return False
    return differs


def compare(case: MethodCase, ours: Wire, dynamic: Wire) -> Outcome:
    if ours == dynamic:
        return Outcome(case.method_id, "equal")
    problems = []
    for name in ("method", "query", "body", "api_version", "media_type"):
        if getattr(ours, name) != getattr(dynamic, name):
            problems.append(f"{name}: ours {getattr(ours, name)!r} vs dynamic {getattr(dynamic, name)!r}")
    if ours.path != dynamic.path:
        if "{+" in case.description.get("path", "") and reserved_expansion_only(ours.path, dynamic.path):
            if not problems:
                return Outcome(case.method_id, "deviating", "reserved-expansion", f"{ours.path} vs {dynamic.path}")
        else:
            problems.append(f"path: ours {ours.path!r} vs dynamic {dynamic.path!r}")
    if not problems and ours.path != dynamic.path:
        problems.append(f"path: ours {ours.path!r} vs dynamic {dynamic.path!r}")
    return Outcome(case.method_id, "different", detail="; ".join(problems))


def colliding_parameters(description: dict[str, Any]) -> set[str]:
    """Wire names googleapiclient cannot pass apart: same key2param keyword, or ``body``."""
    from googleapiclient.discovery import key2param

    by_keyword: dict[str, list[str]] = {}
    for name in description.get("parameters", {}):
        by_keyword.setdefault(key2param(name), []).append(name)
    return {name for keyword, names in by_keyword.items() if len(names) > 1 or keyword == "body" for name in names}


# --- one API ---------------------------------------------------------------------------------


def compare_api(path: str, generated_dir: str | None = None, token: str = TOKEN) -> ApiReport:
    """Compare every method of the document at ``path``; never raises.

    ``generated_dir`` holds already generated packages (else they are generated into a
    temporary folder); ``token`` is the free-form string value.
    """
    started = time.perf_counter()
    report = ApiReport(Path(path).name)
    try:
        with tempfile.TemporaryDirectory(prefix="gapi-equivalence-") as scratch:
            folder = Path(generated_dir) if generated_dir else Path(scratch)
            _compare_api(path, folder, generated_dir is None, report, token)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        report.error += " @ " + " | ".join(line.strip() for line in traceback.format_exc().splitlines()[-3:-1])
    report.seconds = time.perf_counter() - started
    return report


def _compare_api(path: str, out: Path, generate: bool, report: ApiReport, token: str) -> None:
    import httplib2
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build_from_document, key2param

    from codegen import discovery, ir, render

    document = discovery.load_path(path)
    client_ir = ir.lower(document)
    if generate:
        render.write(render.render(document), out)
    tree = json.loads(document.raw)
    sys.path.insert(0, str(out / client_ir.package))
    importlib.invalidate_caches()
    try:
        package = importlib.import_module(client_ir.package)
        client_class = getattr(package, client_ir.client_class)
        with LoopbackServer() as server:
            described = json.loads(document.raw)  # a copy: it adds global parameters to what it is given
            described["rootUrl"] = server.url  # its media upload URLs are built from rootUrl
            described.setdefault("servicePath", document.service_path)  # old-style documents: as we load them
            service = build_from_document(
                json.dumps(described),
                http=httplib2.Http(),
                client_options={"api_endpoint": server.url + document.service_path.lstrip("/")},
            )
            client = client_class(credentials=AnonymousCredentials(), endpoint=server.url)
            nodes: dict[tuple[str, ...], Any] = {(): service}
            try:
                for case in cases(tree, client_ir):
                    report.outcomes.append(_compare_method(case, nodes, client, server, key2param, token))
                    for mode in _media_modes(case):
                        report.outcomes.append(_compare_method(case, nodes, client, server, key2param, token, mode))
            finally:
                client.close()
    finally:
        sys.path.remove(str(out / client_ir.package))
        for name in [name for name in sys.modules if name.split(".")[0] == client_ir.package]:
            del sys.modules[name]


#: The content of media uploads in the comparison: bytes that are not text, and a boundary-like line.
MEDIA_CONTENT = b"\x00\xff media\r\n--x\n"
#: For ``message/*`` types (gmail): googleapiclient's email generator cannot put non-ASCII bytes
#: into such a part (UnicodeEncodeError), so both clients send text.
MEDIA_TEXT = b"Subject: media\r\n\r\n--x\n"


#: The media calls compared besides the plain one (see :func:`_media_modes`).
MEDIA_MODES = ("upload-simple", "upload-multipart", "download")


def _media_modes(case: MethodCase) -> list[str]:
    """The media calls compared besides the plain one: simple and multipart uploads, and ``_media`` downloads."""
    if case.shadowed:
        return []
    modes = []
    if case.upload:
        modes.append("upload-simple")
        if case.body_keyword:
            modes.append("upload-multipart")
    if case.media_name:
        modes.append("download")
    return modes


def _media_type(accept: list[str]) -> str:
    """A MIME type in the first of the method's ``accept`` ranges."""
    first = (accept or ["*/*"])[0]
    if first in ("*/*", "*"):
        return "application/octet-stream"
    return first.replace("/*", "/x-test")


def _compare_method(
    case: MethodCase,
    nodes: dict[tuple[str, ...], Any],
    client: Any,
    server: LoopbackServer,
    key2param: Any,
    token: str,
    mode: str = "",
) -> Outcome:
    """Call one method through both clients; ``nodes`` caches the dynamic client's resources.

    ``mode`` "" is the plain JSON call; "upload-simple" sends ``media_body`` alone,
    "upload-multipart" with the body as metadata, "download" calls ``<method>_media``.
    """
    if mode:
        outcome = _compare_method_once(case, nodes, client, server, key2param, token, mode)
        outcome.method_id = f"{outcome.method_id} ({mode})"
        return outcome
    return _compare_method_once(case, nodes, client, server, key2param, token, mode)


def _compare_method_once(
    case: MethodCase,
    nodes: dict[tuple[str, ...], Any],
    client: Any,
    server: LoopbackServer,
    key2param: Any,
    token: str,
    mode: str,
) -> Outcome:
    description = case.description
    parameters = description.get("parameters", {})
    # Parameters the dynamic client cannot tell apart are left out (by both clients).
    colliding = colliding_parameters(description)
    try:
        wire_args = {
            name: argument_value(schema, token)
            for name, schema in sorted(parameters.items())
            if (name not in colliding or schema.get("required")) and "location" in schema  # none: both drop it
        }
    except ValueError as exc:
        return Outcome(case.method_id, "error", detail=str(exc))
    body = BODY if case.body_keyword and mode != "upload-simple" else None
    mime_type = _media_type(description.get("mediaUpload", {}).get("accept", []))
    content = MEDIA_TEXT if mime_type.startswith("message/") else MEDIA_CONTENT
    if mode.startswith("upload"):
        # googleapiclient adds uploadType through a dict of the query: a repeated parameter
        # raises ValueError there, so media calls give repeated parameters one value.
        wire_args = {name: value[:1] if isinstance(value, list) else value for name, value in wire_args.items()}
    # Standard parameters the generated method takes as keywords (not those the method declares).
    standard = {
        wire: value for wire, value in STANDARD_VALUES.items() if wire in case.param_names and wire not in parameters
    }

    # The generated client.
    target: Any = client
    for name in case.generated_path[:-1]:
        target = getattr(target, name)
    target = getattr(target, case.media_name if mode == "download" else case.generated_path[-1])
    kwargs = {case.param_names[name]: value for name, value in {**wire_args, **standard}.items()}
    if body is not None:
        kwargs["body"] = body
    if mode.startswith("upload"):
        kwargs["media_body"] = content
        kwargs["media_mime_type"] = mime_type
    before = len(server.requests)
    try:
        with _no_deprecation_warnings():
            target(**kwargs)
    except Exception as exc:
        return Outcome(case.method_id, "error", detail=f"generated client: {type(exc).__name__}: {exc}")
    if len(server.requests) != before + 1:
        return Outcome(case.method_id, "error", detail="generated client sent no request")
    ours = Wire.of(server.requests[-1])

    if case.shadowed:
        return Outcome(case.method_id, "deviating", "shadowed-method")

    # The dynamic client: accessors are methods that build a new Resource each time (cached here).
    node = _dynamic_node(nodes, case.dynamic_path[:-1])
    # googleapiclient checks patterns by iterating over non-string values: give it the string
    # form of numbers that carry a pattern (it casts them back; the request is the same).
    dynamic_kwargs = {
        key2param(name): str(value) if parameters[name].get("pattern") and isinstance(value, (int, float)) else value
        for name, value in wire_args.items()
    }
    dynamic_kwargs.update({key2param(name): value for name, value in standard.items()})
    if body is not None and description.get("httpMethod") in ("POST", "PUT", "PATCH"):
        dynamic_kwargs["body"] = body
    if mode.startswith("upload"):
        from googleapiclient.http import MediaInMemoryUpload

        dynamic_kwargs["media_body"] = MediaInMemoryUpload(content, mimetype=mime_type)
    before = len(server.requests)
    try:
        name = case.dynamic_path[-1] + ("_media" if mode == "download" else "")
        getattr(node, name)(**dynamic_kwargs).execute()
    except Exception as exc:
        return Outcome(case.method_id, "error", detail=f"dynamic client: {type(exc).__name__}: {exc}")
    if len(server.requests) != before + 1:
        return Outcome(case.method_id, "error", detail="dynamic client sent no request")
    outcome = compare(case, ours, Wire.of(server.requests[-1]))
    if case.shadows_standard and outcome.verdict == "different":
        return Outcome(case.method_id, "deviating", "standard-parameter-shadowed", ", ".join(case.shadows_standard))
    if colliding and outcome.verdict in ("equal", "deviating"):
        return Outcome(case.method_id, "deviating", "param-collision", ", ".join(sorted(colliding)))
    return outcome


def _dynamic_node(nodes: dict[tuple[str, ...], Any], path: tuple[str, ...]) -> Any:
    if path not in nodes:
        nodes[path] = getattr(_dynamic_node(nodes, path[:-1]), path[-1])()
    return nodes[path]


class _no_deprecation_warnings:
    """Deprecated methods warn by design; the harness calls them anyway."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(*exc)


# --- many APIs -------------------------------------------------------------------------------


@dataclass
class Totals:
    apis: int = 0
    api_errors: list[str] = field(default_factory=list)
    compared: int = 0
    equal: int = 0
    deviating: dict[str, int] = field(default_factory=dict)
    different: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    media: int = 0  # of the compared: media calls (uploads with media_body, ``_media`` downloads)

    def add(self, report: ApiReport) -> None:
        self.apis += 1
        if report.error:
            self.api_errors.append(f"{report.source}: {report.error}")
        for outcome in report.outcomes:
            self.compared += 1
            self.media += outcome.method_id.endswith(tuple(f" ({mode})" for mode in MEDIA_MODES))
            if outcome.verdict == "equal":
                self.equal += 1
            elif outcome.verdict == "deviating":
                self.deviating[outcome.deviation] = self.deviating.get(outcome.deviation, 0) + 1
            elif outcome.verdict == "different":
                self.different.append(f"{report.source} {outcome.method_id}: {outcome.detail}")
            else:
                self.errors.append(f"{report.source} {outcome.method_id}: {outcome.detail}")

    @property
    def ok(self) -> bool:
        return not (self.api_errors or self.different or self.errors)

    def lines(self) -> list[str]:
        deviating = sum(self.deviating.values())
        result = [
            f"APIs: {self.apis} ({len(self.api_errors)} could not be compared)",
            f"methods compared: {self.compared} (of them media calls: {self.media})",
            f"equal: {self.equal}",
            f"deviating: {deviating} (listed deviations only)",
        ]
        result += [f"  {key}: {count}" for key, count in sorted(self.deviating.items())]
        result += [f"different: {len(self.different)}", f"errors: {len(self.errors)}"]
        result += [f"  API {line}" for line in self.api_errors[:50]]
        result += [f"  DIFFERENT {line}" for line in self.different[:50]]
        result += [f"  ERROR {line}" for line in self.errors[:50]]
        return result


def run(paths: Sequence[str], jobs: int = 1, generated_dir: str | None = None, token: str = TOKEN) -> Totals:
    """Compare the documents at ``paths`` on ``jobs`` processes and add up the outcomes."""
    totals = Totals()
    if jobs <= 1:
        for path in paths:
            totals.add(compare_api(path, generated_dir, token))
        return totals
    ordered = sorted(paths, key=lambda path: -Path(path).stat().st_size)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for report in pool.map(compare_api, ordered, [generated_dir] * len(ordered), [token] * len(ordered)):
            totals.add(report)
    return totals


def _select(args: argparse.Namespace) -> list[str]:
    from codegen import bundled

    if args.all:
        return [str(api.path) for api in bundled.bundled_apis()]
    paths = [item for item in args.apis if item.endswith(".json")]
    names = [item for item in args.apis if not item.endswith(".json")]
    if not (names or paths) or len(names) % 2:
        raise SystemExit("name APIs as NAME VERSION pairs or document files (*.json), or pass --all")
    pairs = zip(names[::2], names[1::2], strict=True)
    return paths + [str(bundled.find(name, version).path) for name, version in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.equivalence", description=__doc__.split("\n\n")[0])
    parser.add_argument("apis", nargs="*", metavar="NAME VERSION|FILE", help="APIs to compare: pairs, or files")
    parser.add_argument("--all", action="store_true", help="every bundled document")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--generated", help="folder of packages from `codegen generate --all --out DIR` to reuse")
    parser.add_argument(
        "--plain", action="store_true", help=f"free-form values {PLAIN_TOKEN!r} (unreserved characters only)"
    )
    parser.add_argument("--deviations", action="store_true", help="print the listed deviations and exit")
    args = parser.parse_args(argv)
    if args.deviations:
        for deviation in DEVIATIONS.values():
            print(f"{deviation.key}: {deviation.reason}")
        return 0
    started = time.perf_counter()
    totals = run(_select(args), args.jobs, args.generated, PLAIN_TOKEN if args.plain else TOKEN)
    for line in totals.lines():
        print(line)
    print(f"seconds: {time.perf_counter() - started:.1f}")
    return 0 if totals.ok else 1


if __name__ == "__main__":
    sys.exit(main())

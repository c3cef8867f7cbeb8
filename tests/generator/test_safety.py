"""Generator-side safety: endpoint rules, paths pasted into URLs, header tokens, patterns.

The rules are checked against every bundled document (they must refuse none of the 610),
against tables of hostile values, and end to end through ``render.render``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from codegen import bundled, discovery, patterns, render
from codegen.errors import CodegenError, DocumentError
from codegen.safety import EndpointPolicy, relative_path_problem, template_problem, token_problem

# --- every bundled document passes -------------------------------------------------------


@cache
def _bundled() -> tuple[tuple[str, dict[str, Any]], ...]:
    return tuple((api.path.name, json.loads(api.path.read_bytes())) for api in bundled.bundled_apis())


def _methods(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, method in node.get("methods", {}).items():
        yield f"{path}.methods.{name}", method
    for name, resource in node.get("resources", {}).items():
        yield from _methods(resource, f"{path}.resources.{name}")


def _all_patterns(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield path, value
            else:
                yield from _all_patterns(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _all_patterns(value, f"{path}[{index}]")


def test_no_bundled_document_is_refused_by_the_rules() -> None:
    """The same rule functions safety.check applies, run on the raw JSON of all 610 documents."""
    policy = EndpointPolicy()
    refused: list[str] = []
    counts: Counter[str] = Counter()
    for source, tree in _bundled():
        counts["documents"] += 1
        urls = [("$.rootUrl", tree["rootUrl"])]
        if "mtlsRootUrl" in tree:
            urls.append(("$.mtlsRootUrl", tree["mtlsRootUrl"]))
        urls += [(f"$.endpoints[{i}]", e["endpointUrl"]) for i, e in enumerate(tree.get("endpoints", []))]
        for where, url in urls:
            counts["endpoint URLs"] += 1
            if problem := policy.problem(url):
                refused.append(f"{source}: {where}: {problem}")
        for where, value, trailing in (
            ("$.servicePath", tree.get("servicePath", ""), True),
            ("$.batchPath", tree.get("batchPath", ""), False),
        ):
            if value and (problem := relative_path_problem(value, trailing)):
                refused.append(f"{source}: {where}: {problem}")
        if problem := token_problem(tree.get("revision", "")):
            refused.append(f"{source}: $.revision: {problem}")
        for where, method in _methods(tree, "$"):
            counts["methods"] += 1
            for problem in (template_problem(method["path"]), token_problem(method.get("apiVersion", ""))):
                if problem:
                    refused.append(f"{source}: {where}: {problem}")
            for name, parameter in method.get("parameters", {}).items():
                if parameter.get("location") == "path" and "pattern" in parameter:
                    counts["path patterns"] += 1
                    if problem := patterns.problem(parameter["pattern"]):
                        refused.append(f"{source}: {where}.parameters.{name}.pattern: {problem}")
        for where, pattern in _all_patterns(tree):
            counts["patterns"] += 1
            if problem := patterns.compile_problem(pattern):
                refused.append(f"{source}: {where}: {problem}")
    assert refused == []
    assert counts["documents"] == 610
    assert counts["methods"] > 28_000
    assert counts["endpoint URLs"] > 6_000
    assert counts["path patterns"] > 20_000


# --- endpoints ---------------------------------------------------------------------------

ACCEPTED = [
    "https://looker.googleapis.com/",
    "https://www.googleapis.com/",
    "https://looker.mtls.googleapis.com/",
    "https://looker.europe-west1.rep.googleapis.com/",
    "https://LOOKER.GoogleAPIs.com/",
    "https://googleapis.com/",
    "https://looker.googleapis.com:443/",
    "https://looker.googleapis.com",
    "https://www.googleapis.com/storage/v1/",
]

REFUSED = [
    ("http://looker.googleapis.com/", "https"),
    ("https://evil.example/", "not under googleapis.com"),
    ("https://googleapis.com.evil.example/", "not under"),
    ("https://evilgoogleapis.com/", "not under"),
    ("https://looker.googleapis.com.:443/", "DNS host"),
    ("https://user@looker.googleapis.com/", "user info"),
    ("https://user:pw@looker.googleapis.com/", "user info"),
    ("https://looker.googleapis.com:8443/", "port"),
    ("https://looker.googleapis.com/?alt=x", "query"),
    ("https://looker.googleapis.com/#x", "fragment"),
    ("https://looker.googleapis.com/../", "segment"),
    ("https://looker.googleapis.com/a/./", "segment"),
    ("https://looker.googleapis.com\\@evil.example/", "backslash"),
    ("https://looker.googleapis.com/ x", "whitespace"),
    ("https://looker.googleapis.com/\n", "whitespace"),
    ("https://lοoker.googleapis.com/", "non-ASCII"),  # Greek omicron
    ("https://127.0.0.1/", "DNS host"),
    ("https://[::1]/", "DNS host"),
    ("javascript:alert(1)", "https"),
    ("//looker.googleapis.com/", "https"),
    ("looker.googleapis.com", "https"),
    ("", "empty"),
    ("https://looker.googleapis.com/v1", "'/'"),
    ("https://looker.googleapis.com/a%2e%2e/", "'/'"),
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_google_endpoints_are_accepted(url: str) -> None:
    assert EndpointPolicy().problem(url) is None


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_other_endpoints_are_refused(url: str, why: str) -> None:
    problem = EndpointPolicy().problem(url)
    assert problem is not None and why in problem, problem


def test_a_universe_domain_adds_hosts_under_it() -> None:
    policy = EndpointPolicy.from_flags(["apis-tpclp.goog", "Example.COM."])
    assert policy.domains == ("googleapis.com", "apis-tpclp.goog", "example.com")
    assert policy.problem("https://looker.apis-tpclp.goog/") is None
    assert policy.problem("https://looker.example.com/") is None
    assert policy.problem("https://looker.googleapis.com/") is None
    assert policy.problem("http://looker.example.com/") is not None
    assert policy.problem("https://looker.example.com.evil.example/") is not None


def test_an_allowed_endpoint_is_accepted_exactly() -> None:
    policy = EndpointPolicy.from_flags(allowed=["http://localhost:8080"])
    assert policy.problem("http://localhost:8080/") is None
    assert policy.problem("http://localhost:8080") is None
    assert policy.problem("http://localhost:8081/") is not None
    assert policy.problem("http://localhost:8080/other/") is not None


@pytest.mark.parametrize(
    ("universe", "allowed"),
    [(["bad domain"], []), (["*.example.com"], []), (["com"], []), ([], ["ftp://x/"]), ([], ["http://u@x/"])],
)
def test_bad_flag_values_are_refused(universe: list[str], allowed: list[str]) -> None:
    with pytest.raises(CodegenError):
        EndpointPolicy.from_flags(universe, allowed)


# --- paths and tokens --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "ok"),
    [
        ("v1/{+name}:cancel", True),
        ("v1/{+parent}/instances", True),
        ("{+name}", True),
        ("storage/v1/b/{bucket}/o/{object}", True),
        ("v1/users/@me/items", True),
        ("v1/{+name}/$bulkGet", True),
        ("v1.1/{x}/a-b_c~d", True),
        ("v1/{+name}?alt=media", False),
        ("v1/{+name}#x", False),
        ("../v1/{+name}", False),
        ("v1/./{+name}", False),
        ("v1/{x}/..", False),
        ("/v1/{+name}", False),
        ("https://evil.example/{+name}", False),
        ("v1//{+name}", False),
        ("v1/%2e%2e/{+name}", False),
        ("v1/{+name} x", False),
        ("v1/{+name}\r\n", False),
        ("v1/\\{+name}", False),
        ("v1/é/{+name}", False),
    ],
)
def test_method_path_templates(template: str, ok: bool) -> None:
    assert (template_problem(template) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("20261020", True),
        ("2026-10-01-preview", True),
        ("v1.2_beta", True),
        ("", True),
        ("1\r\nX: y", False),
        ("a b", False),
        ("é", False),
        ("a;b", False),
    ],
)
def test_header_tokens(value: str, ok: bool) -> None:
    assert (token_problem(value) is None) is ok


# --- patterns ----------------------------------------------------------------------------

CATASTROPHIC = [
    r"^(a+)+$",
    r"(a*)*",
    r"^(\w+\s?)*$",
    r"(.*a){20}",
    r"(x+x+)+y",
    r"(\d+)*$",
    r"^(a|ab)*c$",
    r"^(a|a)*$",
    r"(a|b|ab)*c",
    r"([a-z]+\.?)*$",
    r"(a{1,63})*",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"((ab)*)*",
    r"(?:[-a-z0-9]{1,63}\.?)*x",
    r"(.+[<,<=,==,>=,>,<>].+,)*(.+[<,<=,==,>=,>,<>].+)",
    # Found by exploring random patterns: a varying-length body, an empty match two ways.
    r"^(?:(?:a[^/])?(?:\d|[a-z]))*/$",
    r"^(?:(?:[ab]*)?\d){0,63}[^/]$",
    r"^(?:(?:,{0,63})?x)*\d$",
]
POLYNOMIAL = [
    r"^.*.*.*$",
    r"a*b*a*",
    r"^[^/]+/.*/.*$",
    r"(a?){30}a{30}",
    r"\d+\d+$",
    r"^(?:x)+(?:(?:x)*)?(?:x[ab]|(?:[a-z])?)b$",
    r"^(?:\w)*(?:(?:[a-z])+[a-z])?$",
]
SAFE = [
    r"^projects/[^/]+/locations/[^/]+/instances/[^/]+$",
    r"^projects/[^/]+/locations/.*$",
    r"^[^/]+$",
    r"(\w+,)*\w+",
    r"(,id:[a-z0-9]+)*",
    r"(?:(?:[-a-z0-9]{1,63}\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?))",
    r"UA-\d+-\d+",
    r"(\d){4}-(\d){2}-(\d){2}",
    r"^(access_transparency)|(admin)|(calendar)$",
    r"[a-z](?:[-a-zA-Z0-9/]{0,255}[a-zA-Z0-9])?",
    r"\S{1,66}",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC + POLYNOMIAL)
def test_patterns_that_backtrack_badly_are_refused(pattern: str) -> None:
    assert patterns.problem(pattern) is not None


@pytest.mark.parametrize("pattern", SAFE)
def test_linear_patterns_pass(pattern: str) -> None:
    assert patterns.problem(pattern) is None


@pytest.mark.parametrize(
    "pattern", ["[", "(", "a{2,1}", "(?P<x>a)(?P=x)", r"(a)\1", "(?(1)a|b)", "x" * 5000, "(" * 2000 + ")" * 2000]
)
def test_broken_or_unanalysable_patterns_are_refused(pattern: str) -> None:
    assert patterns.problem(pattern) is not None


# --- end to end through render -----------------------------------------------------------


def _document(**changes: Any) -> bytes:
    tree: dict[str, Any] = {
        "name": "fuzz",
        "version": "v1",
        "rootUrl": "https://fuzz.googleapis.com/",
        "servicePath": "",
        "batchPath": "batch",
        "revision": "20260101",
        "resources": {
            "items": {
                "methods": {
                    "get": {
                        "id": "fuzz.items.get",
                        "httpMethod": "GET",
                        "path": "v1/{+name}",
                        "parameters": {
                            "name": {"type": "string", "location": "path", "required": True, "pattern": "^items/[^/]+$"}
                        },
                    }
                }
            }
        },
    }
    for key, value in changes.items():
        if key == "path_pattern":
            tree["resources"]["items"]["methods"]["get"]["parameters"]["name"]["pattern"] = value
        elif key == "method_path":
            tree["resources"]["items"]["methods"]["get"]["path"] = value
        elif key == "api_version":
            tree["resources"]["items"]["methods"]["get"]["apiVersion"] = value
        else:
            tree[key] = value
    return json.dumps(tree).encode()


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"rootUrl": "https://evil.example/"}, "$.rootUrl"),
        ({"mtlsRootUrl": "http://fuzz.mtls.googleapis.com/"}, "$.mtlsRootUrl"),
        (
            {"endpoints": [{"endpointUrl": "https://x.googleapis.com/"}, {"endpointUrl": "https://evil.example/"}]},
            "$.endpoints[1].endpointUrl",
        ),
        ({"batchPath": "https://evil.example/batch"}, "$.batchPath"),
        ({"servicePath": "../other/"}, "$.servicePath"),
        ({"revision": "1\r\nX-Injected: 1"}, "$.revision"),
        ({"method_path": "v1/{+name}?alt=media"}, "$.resources.items.methods.get.path"),
        ({"api_version": "v1\r\nX: y"}, "$.resources.items.methods.get.apiVersion"),
        ({"path_pattern": "^(a+)+$"}, "$.resources.items.methods.get.parameters.name.pattern"),
        ({"path_pattern": "(unclosed"}, "$.resources.items.methods.get.parameters.name.pattern"),
        ({"schemas": {"S": {"type": "string", "pattern": "["}}}, "$.schemas.S.pattern"),
        ({"name": "x" * 101}, "$.name"),
    ],
)
def test_unsafe_documents_are_refused_with_the_json_path(changes: dict[str, Any], where: str) -> None:
    document = discovery.load_bytes(_document(**changes), "hostile.json")
    with pytest.raises(DocumentError) as raised:
        render.render(document)
    message = str(raised.value)
    assert message.startswith(f"hostile.json: {where}: "), message
    assert "\n" not in message and message.isprintable()


def test_a_risky_query_pattern_is_not_refused_because_it_never_runs() -> None:
    """Only path patterns are matched at run time; query and schema patterns only need to compile."""
    tree = json.loads(_document())
    tree["resources"]["items"]["methods"]["get"]["parameters"]["filter"] = {
        "type": "string",
        "location": "query",
        "pattern": "(.+[<,<=,==,>=,>,<>].+,)*(.+[<,<=,==,>=,>,<>].+)",  # analytics v3, verbatim
    }
    render.render(discovery.load_bytes(json.dumps(tree).encode(), "query.json"))


def test_universe_domains_and_allowed_endpoints_reach_render() -> None:
    document = discovery.load_bytes(_document(rootUrl="https://fuzz.example.com/"), "universe.json")
    with pytest.raises(DocumentError, match="--universe-domain"):
        render.render(document)
    render.render(document, endpoints=EndpointPolicy.from_flags(["example.com"]))
    emulator = discovery.load_bytes(_document(rootUrl="http://localhost:8085/"), "emulator.json")
    render.render(emulator, endpoints=EndpointPolicy.from_flags(allowed=["http://localhost:8085/"]))

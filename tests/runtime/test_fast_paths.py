"""The per-call fast paths of the runtime give exactly what the plain standard-library calls give.

``encoding`` skips ``quote()`` for text that needs no escaping, builds single-variable paths
without a list, and encodes/decodes JSON with a shared encoder and a shortcut for ``{}``
(see benchmarks/RESULTS.md for what each saves). These properties pin their output to the
reference computation for arbitrary input.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from typing import Any
from unittest import mock
from urllib.parse import quote

import gapi_runtime.spec as spec_module
import pytest
from gapi_runtime import MethodSpec, PathParam, encoding
from hypothesis import given, settings
from hypothesis import strategies as st

ALPHABET = st.characters(codec="utf-8") | st.sampled_from(list("-_.~/%?#:@ azAZ09\r\n\x00é"))
TEXT = st.text(ALPHABET, max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def _reference_path_value(text: str, reserved: bool) -> str:
    return quote(text, safe="/" if reserved else "")


@given(TEXT, st.booleans())
def test_path_value_fast_path_matches_quote(text: str, reserved: bool) -> None:
    try:
        encoded = encoding.encode_path_value("name", text, reserved)
    except ValueError:
        return  # empty, dot segment or not encodable: refused before any encoding
    assert encoded == _reference_path_value(text, reserved)


@given(st.lists(st.one_of(TEXT.filter(bool), st.integers(), st.booleans()), min_size=1, max_size=3))
def test_build_path_matches_join_of_encoded_values(values: list[Any]) -> None:
    params = tuple(PathParam(f"p{index}", reserved=index % 2 == 0) for index in range(len(values)))
    literals = tuple(f"/lit{index}/" for index in range(len(values) + 1))
    spec: MethodSpec[Any] = MethodSpec(id="x.y", http_method="GET", path=literals, path_params=params)
    try:
        path = encoding.build_path(spec, values)
    except ValueError:
        return
    expected = literals[0]
    for index, value in enumerate(values):
        text = "true" if value is True else "false" if value is False else str(value)
        expected += _reference_path_value(text, params[index].reserved) + literals[index + 1]
    assert path == expected


@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), TEXT, st.integers(), st.lists(TEXT, max_size=3))), max_size=4))
def test_build_query_matches_quote(pairs: list[tuple[str, Any]]) -> None:
    names = [name for name, _ in pairs]
    values = [value for _, value in pairs]
    expected = []
    for name, value in pairs:
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            expected.append(f"{quote(name, safe='')}={quote(str(item), safe='')}")
    assert encoding.build_query(names, values) == ("?" + "&".join(expected) if expected else "")


@given(st.dictionaries(TEXT, JSON, max_size=5))
def test_encode_json_matches_json_dumps(body: dict[str, Any]) -> None:
    assert encoding.encode_json(body) == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_decode_json_matches_json_loads(value: Any) -> None:
    data = json.dumps(value).encode("utf-8")
    assert encoding.decode_json(data) == json.loads(data)
    assert encoding.decode_json(b"{}") == {} and encoding.decode_json(b" {} ") == {}


PATTERNS = [
    None,
    "^projects/[^/]+/locations/[^/]+/operations/[^/]+$",
    "[a-z]+",  # unanchored: still a full match
    "^a|ab$",  # alternation: the full match may need the second branch
    "(?i)^[a-z./]+$",  # a global flag: no combined shortcut, the complete checks run
    "^[^/]+(/[^/]+)*$",
    # simple patterns, narrowed to never-encoded characters instead of a lookahead:
    "^projects/[^/]+/locations/[^/]*$",
    "^a[^/]+b/[^/]+c[^/]+$",  # runs before a letter give characters back: not possessive
    "^.*$",  # accepts "": the narrowed form would too, so the lookahead form is used
    "^[^/]*$",
    "^v1/.+$",  # a literal "/": narrowed only for {+var}
    "ab",
    "^$",
]


def _reference_checked(text: str, reserved: bool, pattern: str | None) -> str | None:
    """What encode_path_value must return (None: it must raise ValueError), computed directly."""
    import re

    if not text or (pattern is not None and re.fullmatch(pattern, text) is None):
        return None
    if any(segment in (".", "..") for segment in (text.split("/") if reserved else [text])):
        return None
    try:
        return quote(text, safe="/" if reserved else "")
    except UnicodeEncodeError:
        return None


@given(
    st.one_of(
        TEXT,
        st.sampled_from(
            [
                "projects/p/locations/l/operations/o",
                "ab",
                "a",
                "A/b.c",
                "x/../y",
                ".",
                "projects/p/locations/",
                "projects/p/locations/l",
                "v1/a/b",
                "v1/",
                "a-b_c~Z9",
                "axb/ycz",  # the runs before "b" and "c" must give a character back
            ]
        ),
    ),
    st.booleans(),
    st.sampled_from(PATTERNS),
)
def test_path_value_shortcut_matches_the_complete_checks(text: str, reserved: bool, pattern: str | None) -> None:
    """The one-expression shortcut (pattern + never-encoded characters) accepts exactly what the
    complete checks send unchanged, and nothing they would refuse or encode."""
    param = PathParam("name", reserved, pattern)
    expected = _reference_checked(text, reserved, pattern)
    try:
        encoded = encoding.encode_path_value("name", text, reserved, param)
    except ValueError:
        assert expected is None
        return
    assert encoded == expected
    spec: MethodSpec[Any] = MethodSpec(id="x.y", http_method="GET", path=("v1/", ":go"), path_params=(param,))
    assert encoding.build_path(spec, [text]) == f"v1/{encoded}:go"


def test_simple_patterns_are_checked_in_one_scan_without_a_lookahead() -> None:
    """The usual Google Cloud pattern is narrowed, not wrapped in a lookahead (the shortcut's
    speed, see benchmarks/RESULTS.md); a pattern outside the simple form keeps the lookahead."""
    narrowed = PathParam("name", True, "^projects/[^/]+/operations/[^/]+$").plain_match()
    run = "[-_~0-9A-Za-z]" + spec_module._ONE_OR_MORE
    assert narrowed.__self__.pattern == f"projects/{run}/operations/{run}"  # type: ignore[attr-defined]
    assert narrowed("projects/p/operations/o") and not narrowed("projects/p/operations/o/x")
    other = PathParam("name", True, "^[a-z]{1,3}$").plain_match()
    assert other.__self__.pattern.startswith("(?=")  # type: ignore[attr-defined]
    # A run before a letter must be able to give characters back: only the last one is possessive.
    letters = PathParam("name", True, "^a[^/]+b/[^/]+c[^/]+$").plain_match()
    if spec_module._ONE_OR_MORE == "++":  # Python 3.11+
        assert letters.__self__.pattern.count(run) == 1  # type: ignore[attr-defined]
    assert letters("axb/ycz") and letters("abbb/cccc") and not letters("axb/yc")


PATTERNS = st.sampled_from(
    [None, "^projects/[^/]+/operations/[^/]+$", "^a[^/]+b/[^/]+c[^/]+$", "^[a-z]{1,3}$", "^v.+$", "^(?i)x[^/]*$"]
)


@given(PATTERNS, st.booleans(), TEXT | st.sampled_from(["projects/p/operations/o", "axb/ycz", "abc", "vv.w"]))
def test_the_python_3_10_matchers_accept_what_the_possessive_ones_accept(
    pattern: str | None, reserved: bool, text: str
) -> None:
    """Python 3.10's ``re`` has no possessive ``++``: there the shortcut's expressions use ``+``,
    which must accept exactly the same values."""
    possessive = spec_module._plain_matcher(pattern, reserved)
    with mock.patch.object(spec_module, "_ONE_OR_MORE", "+"):
        plain = spec_module._plain_matcher(pattern, reserved)
    assert (possessive(text) is None) == (plain(text) is None)


def _python_3_10() -> str | None:
    """A working Python 3.10 interpreter: on PATH, or one that pyenv installed (its shim on
    PATH may point at another version)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [
        shutil.which("python3.10"),
        *sorted(glob.glob(os.path.join(root, "versions", "3.10*", "bin", "python3.10"))),
    ]
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def test_the_runtimes_path_checks_compile_on_python_3_10() -> None:
    """The runtime supports Python 3.10 (``requires-python``): its path-check expressions
    compile and match there (run with a Python 3.10 interpreter when the machine has one)."""
    python = _python_3_10()
    if python is None:
        pytest.skip("no Python 3.10 interpreter on this machine")
    program = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('spec', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "cases = [(None, False, 'abc'), ('^projects/[^/]+/operations/[^/]+$', True, 'projects/p/operations/o'),\n"
        "         ('^[a-z]{1,3}$', False, 'abc')]\n"
        "for pattern, reserved, value in cases:\n"
        "    match = module.PathParam('name', reserved, pattern).plain_match()\n"
        "    assert match(value) and not match(value + '?'), pattern\n"
        "print('ok', sys.version_info[:2])\n"
    )
    result = subprocess.run(
        [python, "-c", program, spec_module.__file__], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok (3, 10)"


def _looker_specs() -> list[MethodSpec[Any]]:
    from looker_v1.resources import projects

    return [value for value in vars(projects).values() if isinstance(value, MethodSpec)]


def _outcome(encode: Any, *args: Any) -> Any:
    try:
        return encode(*args)
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)


@given(
    st.sampled_from(_looker_specs()),
    st.one_of(TEXT, st.sampled_from(["projects/p/locations/l/operations/o", "projects/p/locations/l", "p.q"])),
    st.lists(st.one_of(st.none(), TEXT, st.integers(), st.booleans()), min_size=8, max_size=8),
    st.one_of(st.none(), st.just({}), st.dictionaries(TEXT, JSON, max_size=3), st.just([1])),
)
def test_specialized_encoders_give_what_encode_request_gives(
    spec: MethodSpec[Any], value: str, query: list[Any], body: Any
) -> None:
    """Every Looker method's encoder (specialized or not) gives encode_request's URL and body,
    or raises the same error, for any path value, query values and body."""
    from gapi_runtime.client import encode_request, request_encoder

    path_values = [value] * len(spec.path_params)
    query_values = query[: len(spec.query)]
    expected = _outcome(encode_request, spec, "https://x.test/", path_values, query_values, body)
    encoder = request_encoder(spec)
    assert _outcome(encoder, "https://x.test/", path_values, query_values, body, False, 4) == expected


def _plain_value(spec: MethodSpec[Any]) -> st.SearchStrategy[str]:
    """Values of the spec's path pattern (if any) that need no encoding: the shortcut's case."""
    pattern = spec.path_params[0].pattern if spec.path_params else None
    if not pattern:
        return st.from_regex(r"[-_~a-z0-9]{1,8}", fullmatch=True)
    return st.from_regex(pattern.replace("[^/]+", "[-_~a-z0-9]{1,5}"), fullmatch=True)


@settings(max_examples=300)
@given(st.sampled_from(_looker_specs()), st.data())
def test_a_queued_request_is_the_encoded_request(spec: MethodSpec[Any], data: st.DataObject) -> None:
    """A batch's queue takes the encoder's one-variable shortcut without calling it: the handle
    holds encode_request's URL and body, or the same error is raised, before and after the
    method's first call (which makes the shortcut)."""
    from gapi_runtime.batch import BatchQueue
    from gapi_runtime.client import encode_request, request_encoder

    value = data.draw(st.one_of(_plain_value(spec), TEXT, st.just("p.q")))
    no_query = [None] * len(spec.query)
    query_values = data.draw(
        st.one_of(
            st.just(no_query),
            st.lists(st.one_of(st.none(), TEXT, st.integers()), min_size=len(no_query), max_size=len(no_query)),
        )
    )
    body = data.draw(st.one_of(st.none(), st.just({}), st.dictionaries(TEXT, JSON, max_size=3), st.just([1])))
    path_values = [value] * len(spec.path_params)
    expected = _outcome(encode_request, spec, "https://x.test/", path_values, query_values, body)

    def queued() -> Any:
        handle = BatchQueue("https://x.test/", None, False).call(spec, path_values, query_values, body)
        return handle.url, handle.data

    object.__setattr__(spec, "_encoder", None)  # as before the method's first call
    object.__setattr__(spec, "_plain", None)
    assert _outcome(queued) == expected
    request_encoder(spec)
    assert _outcome(queued) == expected


def test_an_empty_body_encodes_as_no_body_does_with_or_without_a_data_wrapper() -> None:
    from gapi_runtime.batch import BatchQueue
    from gapi_runtime.client import encode_request, request_encoder

    for wrapper in (False, True):
        spec: MethodSpec[Any] = MethodSpec(
            id="x.cancel",
            http_method="POST",
            path=("v1/", ":cancel"),
            path_params=(PathParam("name", True),),
            has_body=True,
            data_wrapper=wrapper,
        )
        expected = encode_request(spec, "https://x.test/", ["a/b"], [], {})
        assert expected[1] == (b'{"data":{}}' if wrapper else b"{}")
        assert request_encoder(spec)("https://x.test/", ["a/b"], [], {}, False, 4) == expected
        handle = BatchQueue("https://x.test/", None, False).call(spec, ["a/b"], [], {})
        assert (handle.url, handle.data) == expected

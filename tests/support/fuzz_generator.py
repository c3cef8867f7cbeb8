"""Fuzz the generator with hostile discovery documents (hypothesis).

Every case is a discovery document — built from scratch with hostile names, descriptions,
enum values, patterns, paths and nesting, or a real bundled document with a few hostile
mutations, or broken bytes — and must end in exactly one of two ways:

* **generated**: the package is written, imports (in this process, with bytecode writing
  off), creates no file, runs no injected statement (the payloads try to create a
  *canary* file), and means what the document says: TypedDict keys are the property
  names, ``Literal`` values the enum values, docstrings the descriptions, method specs the
  document's ids, HTTP methods, path templates, patterns and query names; one method is
  called through a recording transport and the request must go to the client's endpoint
  with only the document's query names and no raw CR, LF, NUL, space or ``#``;
* **rejected**: :class:`~codegen.errors.CodegenError` with a one-line printable message,
  and nothing left in the output folder.

Anything else is a **crash** (another exception, a multi-line error, partial output, an
import that fails) or an **injection** (the canary appeared, or the generated code means
something other than the document). Every few cases run through the real command line
(``codegen generate PATH --out DIR``, ruff formatting included); the others call the same
functions in-process and skip ruff formatting, which does not change what code means.

CI runs 500 cases (``tests/generator/test_fuzz.py``). The long run prints the counts::

    python -m tests.support.fuzz_generator --cases 10000            # add --seed N to reproduce

"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import importlib
import importlib.util
import inspect
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import typing
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

from gapi_runtime.wire import Response
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from codegen import bundled, cli, discovery, ir, render
from codegen.errors import CodegenError

ROOT = Path(__file__).resolve().parents[2]

#: Small real documents that mutations start from (fast to generate).
BASE_DOCUMENTS = (
    "abusiveexperiencereport",
    "groupsmigration",
    "indexing",
    "kgsearch",
    "playcustomapp",
    "playgrouping",
    "publicca",
)

#: Names that have broken generators: keywords, builtins, our own module aliases, dunders,
#: names that NFKC-normalize to others, path tricks, file names Windows reserves.
SPECIAL_NAMES = (
    "import",
    "class",
    "None",
    "True",
    "def",
    "lambda",
    "match",
    "case",
    "type",
    "_",
    "__",
    "___",
    "self",
    "body",
    "timeout",
    "retry",
    "str",
    "int",
    "float",
    "bool",
    "object",
    "_t",
    "_rt",
    "_s",
    "t",
    "s",
    "rt",
    "functools",
    "typing",
    "annotations",
    "__debug__",
    "__class__",
    "__init__",
    "__slots__",
    "__annotations__",
    "__dict__",
    "__x",
    "_x",
    "x__",
    "close",
    "base_url",
    "credentials",
    "transport",
    "operation",
    "ENDPOINTS",
    "MTLS_ROOT_URL",
    "_API_ID",
    "_api",
    "ﬁeld",
    "𝔘ser",
    "ǅ",
    "ℌello",
    "名前",
    "Ω",
    "1abc",
    "123",
    "a-b",
    "a.b",
    "a/b",
    "../x",
    "..",
    ".",
    "/etc/passwd",
    "C:\\x",
    "CON",
    "nul",
    "aux",
    "x" * 120,
    "A" * 40,
    "camelCase",
    "snake_case",
    "HTTPServer",
    "$ref",
    "$.xgafv",
    "{x}",
    "{+x}",
    "a b",
    "a\tb",
    "a\nb",
    "é",
    "\u202e",
    "\x00",
    "",
)

#: Fragments that try to break out of strings, docstrings, comments and templates.
FRAGMENTS = (
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\\\",
    '\\"',
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200f",
    "\ufeff",
    "\ud800",
    "\udfff",
    "#",
    "# type: ignore",
    "# fmt: off",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{ 7*7 }}",
    "%s",
    "{0}",
    "\\N{BULLET}",
    "\\x41",
    "\\u0041",
    "\t",
    "    ",
    "`",
    "${x}",
    "*/",
    "-->",
    "]]>",
    "'''\"\"\"",
)


@functools.cache
def payloads(canary: Path) -> tuple[str, ...]:
    """Strings that run ``touch(canary)`` if pasted into generated code unescaped."""
    code = f"__import__('pathlib').Path({str(canary)!r}).touch()"
    return (
        f'"""\n{code}\n"""',
        f"'''\n{code}\n'''",
        f'"\n{code}\n#',
        f"'); {code}; ('",
        f'"); {code}; ("',
        f"'], {code}, ['",
        f"\\\n{code}\n",
        f"\r{code}\r",
        f"\u2028{code}\u2029",
        f'\\"""\n{code}\n"""',
        f"{{{{ {code} }}}}",
        f"{{% set x = {code} %}}",
        f"\x0c{code}",
        f"\u202e{code}\u202c",
        f"#\n{code}",
        f"x' if {code} else '",
        f"]\n{code}\n",
        f"):\n    {code}\ndef f(",
        f'{code} #"""',
    )


# --- strategies --------------------------------------------------------------------------


@functools.cache
def _text(canary: Path, max_size: int = 24) -> st.SearchStrategy[str]:
    fragments = st.sampled_from(FRAGMENTS + payloads(canary))
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=max_size),
        st.sampled_from(payloads(canary)),
        st.lists(st.one_of(fragments, st.text(max_size=4)), max_size=5).map("".join),
    )


@functools.cache
def _names(canary: Path) -> st.SearchStrategy[str]:
    special = st.sampled_from(SPECIAL_NAMES)
    return st.one_of(
        special,
        st.from_regex(r"[a-z][a-zA-Z0-9]{0,10}", fullmatch=True),
        special,
        st.text(min_size=1, max_size=8),
        special,
        _text(canary, 10),
    )


_PATTERNS = (
    "^[^/]+$",
    "^projects/[^/]+$",
    "^projects/[^/]+/locations/[^/]+$",
    "^.*$",
    "[a-z]+",
    "^[a-z]+$",
    "^(a+)+$",
    "(a|a)*",
    "^(\\w+\\s?)*$",
    "(.*a){20}",
    "[",
    "(?P<x>a)(?P=x)",
    "a{99999999999}",
    "(?i)^[A-Z]+$",
    "^projects/[^/]+/.*/.*$",
    "(?:(?:[-a-z0-9]{1,63}\\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?",
    "\\",
    "(" * 50 + ")" * 50,
    "^\\d{4}-\\d{2}$",
    "^$",
    "x\ny",
    "$",
)


@functools.cache
def _patterns(canary: Path) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_PATTERNS), _text(canary, 12))


@functools.cache
def _schema(canary: Path, refs: tuple[str, ...], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    text = _text(canary)
    string = st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "description": text,
            "enum": st.lists(text, max_size=4),
            "enumDescriptions": st.lists(text, max_size=4),
            "pattern": _patterns(canary),
            "format": st.sampled_from(["int64", "uint64", "byte", "google-datetime", "date-time", ""]),
            "default": st.one_of(text, st.integers(), st.booleans()),
            "readOnly": st.booleans(),
            "deprecated": st.booleans(),
        },
    )
    scalar = st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number", "boolean", "any", "null"])},
        optional={"description": text, "format": st.sampled_from(["int32", "double", "float"])},
    )
    options = [string, scalar]
    if refs:
        options.append(st.fixed_dictionaries({"$ref": st.sampled_from(refs)}, optional={"description": text}))
    if depth < 3:
        child = st.deferred(lambda: _schema(canary, refs, depth + 1))
        options.append(
            st.fixed_dictionaries(
                {"type": st.just("object")},
                optional={
                    "properties": st.dictionaries(_names(canary), child, max_size=4),
                    "additionalProperties": child,
                    "description": text,
                },
            )
        )
        options.append(st.fixed_dictionaries({"type": st.just("array"), "items": child}))
    return st.one_of(*options)


def _rarely(draw: st.DrawFn) -> bool:
    """True for about one draw in seven: hostile structure, kept rare so most cases generate."""
    return draw(st.integers(0, 6)) == 6


_LITERALS = ("v1", "projects", "items", ":run", "x.y", "$bulk", "@me", "a-b", "~x", "v1.1", "batch")
_ODD_LITERALS = ("..", ".", "a?b", "a#b", "%2e%2e", "a b", "\\x", "//", "/", "http://evil.example/", "\n")


@st.composite
def _method(draw: st.DrawFn, canary: Path, refs: tuple[str, ...]) -> dict[str, Any]:
    names = _names(canary)
    text = _text(canary)
    path_params = draw(st.lists(names, max_size=2, unique=True))
    pieces = [draw(st.sampled_from(_LITERALS))]
    for name in path_params:
        literal = draw(st.sampled_from(_ODD_LITERALS if _rarely(draw) else (*_LITERALS, "")))
        plus = draw(st.sampled_from(["", "+"]))
        pieces.append(f"/{literal}/{{{plus}{name}}}" if literal else f"/{{{plus}{name}}}")
    if _rarely(draw):
        pieces.append(draw(st.sampled_from(_ODD_LITERALS)))
    parameters: dict[str, Any] = {}
    for name in path_params:
        parameter: dict[str, Any] = {"type": "string", "location": "path", "required": True}
        if draw(st.booleans()):
            parameter["pattern"] = draw(_patterns(canary))
        if draw(st.booleans()):
            parameter["description"] = draw(text)
        parameters[name] = parameter
    for name in draw(st.lists(names, max_size=4, unique=True)):
        if name in parameters:
            continue
        parameter = draw(_schema(canary, (), 3))
        parameter["location"] = "query"
        if draw(st.booleans()):
            parameter["repeated"] = True
        if draw(st.integers(0, 4)) == 0:
            parameter["required"] = True
        parameters[name] = parameter
    body: dict[str, Any] = {
        "httpMethod": draw(
            st.sampled_from(["TRACE", "GET\r\n", "get"])
            if _rarely(draw)
            else st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"])
        ),
        "path": "".join(pieces),
        "parameters": parameters,
        "parameterOrder": path_params,
    }
    optional = {
        "id": st.one_of(text, names.map(lambda name: f"fuzz.{name}")),
        "description": text,
        "flatPath": text,
        "apiVersion": text if _rarely(draw) else st.sampled_from(["2026-01-01", "v1.2_beta-3"]),
        "deprecated": st.booleans(),
        "scopes": st.lists(text, max_size=2),
    }
    if refs:
        optional["request"] = st.fixed_dictionaries({"$ref": st.sampled_from(refs)})
        optional["response"] = st.fixed_dictionaries({"$ref": st.sampled_from(refs)})
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


@st.composite
def _resource(draw: st.DrawFn, canary: Path, refs: tuple[str, ...], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {"methods": draw(st.dictionaries(_names(canary), _method(canary, refs), max_size=3))}
    if depth < 2 and draw(st.booleans()):
        result["resources"] = draw(st.dictionaries(_names(canary), _resource(canary, refs, depth + 1), max_size=2))
    return result


_ROOT_URLS = (
    "https://fuzz.googleapis.com/",
    "https://www.googleapis.com/",
    "http://fuzz.googleapis.com/",
    "https://evil.example/",
    "https://fuzz.googleapis.com.evil.example/",
    "https://user@fuzz.googleapis.com/",
    "https://fuzz.googleapis.com:8443/",
    "https://fuzz.googleapis.com/?x=1",
    "https://fuzz.googleapis.com/#x",
    "https://fuzz.googleapis.com/../",
    "https://fuzz.googleapis.com\\@evil.example/",
    "javascript:alert(1)",
    "https://FUZZ.GoogleApis.com/",
    "",
    "https://fuzz.googleapis.com/ x",
    "https://xn--fzz-ooa.googleapis.com/",
)


@st.composite
def fresh_documents(draw: st.DrawFn, canary: Path) -> dict[str, Any]:
    """A discovery document built from scratch, hostile in every string it holds."""
    names = _names(canary)
    text = _text(canary)
    schema_names = tuple(draw(st.lists(names, max_size=4, unique=True)))
    schemas = {name: draw(_schema(canary, schema_names, 0)) for name in schema_names}
    document: dict[str, Any] = {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "name": draw(st.one_of(st.just("fuzz"), names)),
        "version": draw(st.one_of(st.just("v1"), names)),
        "rootUrl": draw(st.sampled_from(_ROOT_URLS)) if _rarely(draw) else "https://fuzz.googleapis.com/",
        "servicePath": draw(
            st.sampled_from(["../", "/abs/", "a?b/", "fuzz//v1/"] if _rarely(draw) else ["", "fuzz/v1/"])
        ),
        "batchPath": draw(
            st.sampled_from(["https://evil.example/batch", "../batch"] if _rarely(draw) else ["batch", "batch/fuzz/v1"])
        ),
        "title": draw(text),
        "description": draw(text),
        "revision": draw(text) if _rarely(draw) else "20260101",
        "canonicalName": draw(st.one_of(st.just(""), names)),
        "documentationLink": draw(text),
        "schemas": schemas,
        "resources": draw(st.dictionaries(names, _resource(canary, schema_names, 0), max_size=3)),
    }
    if draw(st.booleans()):
        document["methods"] = draw(st.dictionaries(names, _method(canary, schema_names), max_size=2))
    if draw(st.booleans()):
        document["mtlsRootUrl"] = (
            draw(st.sampled_from(_ROOT_URLS)) if _rarely(draw) else "https://fuzz.mtls.googleapis.com/"
        )
    if draw(st.booleans()):
        url = draw(st.sampled_from(_ROOT_URLS)) if _rarely(draw) else "https://fuzz.europe-west1.rep.googleapis.com/"
        document["endpoints"] = [{"endpointUrl": url, "location": draw(text), "description": draw(text)}]
    if draw(st.booleans()):
        document["auth"] = {
            "oauth2": {"scopes": draw(st.dictionaries(text, st.fixed_dictionaries({"description": text}), max_size=2))}
        }
    if draw(st.booleans()):
        document["features"] = draw(st.lists(st.sampled_from(["dataWrapper", "x"]), max_size=2))
    if draw(st.integers(0, 9)) == 0:
        document["parameters"] = {draw(names): {"type": "string", "location": "query", "description": draw(text)}}
    return document


@functools.cache
def _base_documents() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(bundled.find(name).path.read_bytes()) for name in BASE_DOCUMENTS)


def _slots(node: Any, holder: Any = None, key: Any = None) -> Iterator[tuple[Any, Any]]:
    if holder is not None:
        yield holder, key
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from _slots(child, node, child_key)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _slots(child, node, index)


@st.composite
def mutated_documents(draw: st.DrawFn, canary: Path) -> dict[str, Any]:
    """A small real document with one to four hostile mutations."""
    document = copy.deepcopy(draw(st.sampled_from(_base_documents())))
    for _ in range(draw(st.integers(1, 4))):
        holder, key = draw(st.sampled_from(list(_slots(document))))
        action = draw(st.sampled_from(["text", "text", "rename", "retype", "delete", "nest", "payload"]))
        if action in ("text", "payload"):
            strategy = st.sampled_from(payloads(canary)) if action == "payload" else _text(canary)
            holder[key] = draw(strategy)
        elif action == "rename" and isinstance(holder, dict):
            holder[draw(_names(canary))] = holder.pop(key)
        elif action == "retype":
            holder[key] = draw(
                st.one_of(st.none(), st.integers(), st.floats(), st.booleans(), st.just([]), st.just({}))
            )
        elif action == "delete" and isinstance(holder, dict):
            del holder[key]
        elif action == "nest":
            value = holder[key]
            for _ in range(draw(st.sampled_from([2, 50, 130, 400]))):
                value = {"type": "object", "properties": {"x": value}} if isinstance(value, dict) else [value]
            holder[key] = value
    return document


@dataclass(frozen=True)
class Case:
    """One fuzz input: the bytes of a document and how it was made."""

    data: bytes
    origin: str


def cases(canary: Path) -> st.SearchStrategy[Case]:
    """Fresh and mutated documents, serialized (sometimes as broken bytes)."""

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        origin = draw(st.sampled_from(["bytes"] if _rarely(draw) else ["fresh", "mutated"]))
        tree = draw(mutated_documents(canary) if origin == "mutated" else fresh_documents(canary))
        text = json.dumps(tree, ensure_ascii=draw(st.booleans()))
        data = text.encode("utf-8", "surrogatepass")
        if origin == "bytes":
            cut = draw(st.integers(0, len(data)))
            data = draw(
                st.sampled_from(
                    [
                        data[:cut],
                        b"\xef\xbb\xbf" + data,
                        data[:cut] + b"\xff\xfe" + data[cut:],
                        b"[" * 100_000,
                        b'{"name": "x", "version": "v1", "rootUrl": 1}',
                        data.replace(b'"', b"'", 1),
                    ]
                )
            )
        return Case(data, origin)

    return build()


# --- running a case ----------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # generated | rejected | crash | injection
    detail: str = ""


class _Recorder:
    """A transport that records requests and answers ``200 {}`` without any I/O."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        self.requests.append((method, url, dict(headers)))
        return Response(200, {}, b"{}")

    def close(self) -> None:
        pass


def _expected_doc(value: str) -> str:
    lines = value.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    # Lone surrogates read as their escape (tabs were expanded first, as the generator does).
    return re.sub("[\ud800-\udfff]", lambda match: f"\\u{ord(match.group()):04x}", text) or "Undocumented."


def _clean(doc: str) -> str:
    """A docstring as ``help()`` shows it: dedented, without trailing blanks."""
    return "\n".join(line.rstrip() for line in inspect.cleandoc(doc).split("\n")).strip("\n")


_SCALARS: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_VARIABLE = re.compile(r"\{\+?([^{}]*)\}")


class Fuzzer:
    """Runs cases in a private temporary folder and counts their outcomes."""

    def __init__(self, cli_every: int = 5) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gapi-fuzz-"))
        self.canary = self.root / "canary"
        self.cli_every = cli_every
        self.counts: Counter[str] = Counter()
        self.failures: list[tuple[Outcome, Case]] = []
        self.rejections: Counter[str] = Counter()
        self.serial = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def strategy(self) -> st.SearchStrategy[Case]:
        return cases(self.canary)

    def run(self, case: Case) -> Outcome:
        self.serial += 1
        work = self.root / f"case{self.serial}"
        work.mkdir()
        via_cli = self.cli_every > 0 and self.serial % self.cli_every == 0
        try:
            outcome = self._run(case, work, via_cli)
        except Exception:
            outcome = Outcome("crash", traceback.format_exc(limit=8))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if self.canary.exists():
            outcome = Outcome("injection", f"the canary was created ({outcome.kind}: {outcome.detail})")
            self.canary.unlink()
        self.counts["cases"] += 1
        self.counts[outcome.kind] += 1
        self.counts[f"{case.origin}:{outcome.kind}"] += 1
        if via_cli:
            self.counts["through the CLI with ruff"] += 1
        if outcome.kind == "rejected":
            self.rejections[outcome.detail.split(": ")[-1][:60]] += 1
        if outcome.kind in ("crash", "injection"):
            self.failures.append((outcome, case))
        return outcome

    def _run(self, case: Case, work: Path, via_cli: bool) -> Outcome:
        out = work / "out"
        source = work / "fuzz.json"
        source.write_bytes(case.data)
        if via_cli:
            stderr, stdout = io.StringIO(), io.StringIO()
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
                status = cli.main(["generate", str(source), "--out", str(out)])
            if status == 2:
                message = stderr.getvalue()
                if message.count("\n") != 1 or not message.startswith("codegen: error: "):
                    return Outcome("crash", f"CLI error is not one line: {message!r}")
                return self._rejected(message.strip(), out)
            if status != 0:
                return Outcome("crash", f"CLI exit status {status}: {stderr.getvalue()!r}")
            document = discovery.load_bytes(case.data, str(source))
            package = ir.package_name(document)
        else:
            try:
                document = discovery.load_bytes(case.data, str(source))
                with _no_formatting():
                    output = render.render(document)
                render.write(output, out)
                package = output.package
            except CodegenError as exc:
                return self._rejected(str(exc), out)
        problems = self._check_package(document, out, package)
        if problems:
            return Outcome("injection", "; ".join(problems))
        return Outcome("generated")

    @staticmethod
    def _rejected(message: str, out: Path) -> Outcome:
        if "does not compile" in message and "generated" in message:
            return Outcome("crash", f"the generator produced invalid code: {message}")
        if "\n" in message or "\r" in message or not message.isprintable():
            return Outcome("crash", f"error message is not one printable line: {message!r}")
        if out.exists() and any(out.iterdir()):
            return Outcome("crash", f"partial output left behind: {sorted(p.name for p in out.rglob('*'))}")
        return Outcome("rejected", message)

    def _check_package(self, document: discovery.Document, out: Path, package: str) -> list[str]:
        if package in sys.modules or importlib.util.find_spec(package) is not None:
            return []  # a real module of that name exists: importing would not reach ours
        client_ir = ir.lower(document)
        before = sorted(str(path) for path in out.rglob("*"))
        sys.path.insert(0, str(out / package))
        saved = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        importlib.invalidate_caches()
        try:
            return _Checker(document, client_ir, package).check()
        finally:
            sys.dont_write_bytecode = saved
            sys.path.remove(str(out / package))
            for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
                del sys.modules[name]
            after = sorted(str(path) for path in out.rglob("*"))
            if after != before:
                raise AssertionError(f"importing created files: {sorted(set(after) - set(before))}")


@contextlib.contextmanager
def _no_formatting() -> Iterator[None]:
    with mock.patch.object(render, "format_sources", lambda sources: sources):
        yield


class _Checker:
    """Imports a generated package and compares what it means with the document."""

    def __init__(self, document: discovery.Document, client_ir: ir.ClientIR, package: str) -> None:
        self.document = document
        self.ir = client_ir
        self.package = package
        self.problems: list[str] = []

    def check(self) -> list[str]:
        from google.auth.credentials import AnonymousCredentials

        package = importlib.import_module(self.package)
        schemas = importlib.import_module(f"{self.package}.schemas")
        client_module = importlib.import_module(f"{self.package}._client")
        self.check_schemas(schemas)
        recorder = _Recorder()
        client_class = getattr(package, self.ir.client_class)
        client = client_class(credentials=AnonymousCredentials(), endpoint="http://127.0.0.1:9/", transport=recorder)
        calls: list[tuple[Any, ir.MethodIR, discovery.Method]] = []
        for method_ir, method in zip(self.ir.methods, self.document.methods, strict=True):
            self.check_method(client_module, client, method_ir, method)
            calls.append((client, method_ir, method))
        for module, resource in zip(self.ir.modules, self.document.resources, strict=True):
            python = importlib.import_module(f"{self.package}.resources.{module.module}")
            instance = getattr(client, module.root.attribute)
            self.walk(python, instance, module.root, resource, calls)
        if calls:
            self.call(recorder, *calls[0])
        return self.problems

    def walk(
        self,
        module: Any,
        instance: Any,
        resource_ir: ir.ResourceIR,
        resource: discovery.Resource,
        calls: list[tuple[Any, ir.MethodIR, discovery.Method]],
    ) -> None:
        if type(instance).__name__ != resource_ir.class_name:
            self.problems.append(f"resource {resource.name!r} is a {type(instance).__name__}")
        for method_ir, method in zip(resource_ir.methods, resource.methods, strict=True):
            self.check_method(module, instance, method_ir, method)
            calls.append((instance, method_ir, method))
        for child_ir, child in zip(resource_ir.children, resource.resources, strict=True):
            self.walk(module, getattr(instance, child_ir.attribute), child_ir, child, calls)

    def query_names(self, method: discovery.Method) -> set[str]:
        """The method's query parameters, the standard ones (ir.STANDARD_PARAMETERS) the document
        lists and the method does not declare itself, and ``alt`` where JSON must be asked for."""
        own = {name for name, _ in method.parameters}
        query = {name for name, parameter in method.parameters if parameter.location == "query"}
        standard = {
            name
            for name, parameter in self.document.parameters
            if name in ir.STANDARD_PARAMETERS and name not in own and parameter.location == "query"
        }
        # ``alt=json`` when the document's alt defaults to another format (not for raw downloads).
        alt = dict(self.document.parameters).get("alt")
        raw = method.supports_media_download and not method.response_ref and method.response_schema is None
        if (
            alt is not None
            and alt.location == "query"
            and (alt.default or "json") != "json"
            and not raw
            and "alt" not in own
        ):
            standard.add("alt")
        return query | standard

    def check_method(self, module: Any, owner: Any, method_ir: ir.MethodIR, method: discovery.Method) -> None:
        spec = getattr(module, method_ir.spec_name)
        where = method.json_path
        if (spec.id, spec.http_method) != (method.id, method.http_method):
            self.problems.append(f"{where}: spec says {spec.id!r} {spec.http_method!r}")
        if list(spec.path) != _VARIABLE.split(method.path)[::2]:
            self.problems.append(f"{where}: path parts {spec.path!r} do not match {method.path!r}")
        parameters = dict(method.parameters)
        patterns = [parameters[name].pattern or None for name in _VARIABLE.findall(method.path)]
        if [param.pattern for param in spec.path_params] != patterns:
            self.problems.append(f"{where}: path patterns {[p.pattern for p in spec.path_params]!r} != {patterns!r}")
        query = self.query_names(method)
        if set(spec.query) != query:
            self.problems.append(f"{where}: query names {spec.query!r} != {sorted(query)!r}")
        function = getattr(owner, method_ir.name)
        names = set(inspect.signature(function).parameters)
        if not {param.name for param in method_ir.params} <= names:
            self.problems.append(f"{where}: signature {sorted(names)} lacks parameters")

    def check_schemas(self, schemas: Any) -> None:
        classes = {item.name: item for item in self.ir.schemas}
        for key, python_name in self.ir.schema_names:
            schema = self.document.schema(key)
            value = getattr(schemas, python_name)
            item = classes[python_name]
            if item.alias:
                # At run time an alias is a ForwardRef of its text, bound to the schemas module.
                value = getattr(value, "__forward_arg__", value)
                if value != item.alias.annotation:
                    self.problems.append(f"schema {key!r}: alias {value!r} != {item.alias.annotation!r}")
                continue
            keys = set(getattr(value, "__annotations__", {}))
            if keys != {name for name, _ in schema.properties}:
                self.problems.append(f"schema {key!r}: keys {sorted(keys)!r} != document properties")
                continue
            hints = typing.get_type_hints(value)
            for name, prop in schema.properties:
                if prop.ref:
                    continue
                if prop.enum and prop.type == "string":
                    if set(typing.get_args(hints[name])) != set(prop.enum):
                        self.problems.append(f"schema {key!r}.{name!r}: Literal values differ from the enum")
                elif prop.type in _SCALARS and hints[name] is not _SCALARS[prop.type]:
                    self.problems.append(f"schema {key!r}.{name!r}: type {hints[name]!r} is not {prop.type}")
            expected = _clean(_expected_doc(schema.description or key))
            if expected == "Undocumented.":
                expected = ""  # nothing left of the text: the generator may say something else
            if item.class_syntax and not _clean(value.__doc__ or "").startswith(expected):
                self.problems.append(f"schema {key!r}: docstring {value.__doc__!r} differs from the description")

    def call(self, recorder: _Recorder, owner: Any, method_ir: ir.MethodIR, method: discovery.Method) -> None:
        """Call one method with hostile values: refused before I/O, or sent where it should go."""
        hostile = "a/../b?x=1#f\r\n\x00 %2e%2e"
        arguments: dict[str, Any] = {}
        for param in method_ir.params:
            if param.required or param.location == "query":
                textual = param.location == "path" or any(t.name == "str" for t in param.type_expr.walk())
                arguments[param.name] = hostile if textual else "1"
        if method_ir.body == "required":
            arguments["body"] = {}
        function = getattr(owner, method_ir.name)
        count = len(recorder.requests)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                function(**arguments, retry=None)
        except (ValueError, TypeError):
            if len(recorder.requests) != count:
                self.problems.append(f"{method.json_path}: a refused call still sent a request")
            return
        _, url, _ = recorder.requests[-1]
        parts = urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != ("http", "127.0.0.1", 9):
            self.problems.append(f"{method.json_path}: request went to {url!r}")
        if not _URL_CHARS.fullmatch(url.split("://", 1)[1]) or url.count("?") > 1:
            self.problems.append(f"{method.json_path}: raw unsafe characters in {url!r}")
        allowed = self.query_names(method)
        sent = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if not sent <= allowed:
            self.problems.append(f"{method.json_path}: query names {sorted(sent - allowed)!r} were added")
        if any(segment in (".", "..") for segment in parts.path.split("/")):
            self.problems.append(f"{method.json_path}: dot segment in {url!r}")


# --- entry points ------------------------------------------------------------------------

FUZZ_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


def run(cases_wanted: int, random_seed: int | None, cli_every: int, report: Callable[[str], None] = print) -> Fuzzer:
    """Run ``cases_wanted`` cases and return the fuzzer with its counts (never raises on a failure)."""
    fuzzer = Fuzzer(cli_every)
    options: dict[str, Any] = dict(FUZZ_SETTINGS, max_examples=cases_wanted, phases=[Phase.generate])

    @settings(**options)
    @given(case=fuzzer.strategy())
    def fuzz(case: Case) -> None:
        fuzzer.run(case)
        if fuzzer.counts["cases"] % 500 == 0:
            report(f"... {fuzzer.counts['cases']} cases")

    if random_seed is not None:
        fuzz = seed(random_seed)(fuzz)
    # One Jinja environment for all cases: building it costs more than rendering a small API.
    environment = functools.cache(render.environment)
    try:
        with mock.patch.object(render, "environment", environment):
            fuzz()
    finally:
        fuzzer.close()
    return fuzzer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the generator with hostile discovery documents.")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cli-every", type=int, default=5, help="every Nth case goes through the CLI (ruff too)")
    parser.add_argument("--verbose", action="store_true", help="also print the commonest rejection reasons")
    args = parser.parse_args(argv)
    started = time.monotonic()
    fuzzer = run(args.cases, args.seed, args.cli_every)
    elapsed = time.monotonic() - started
    counts = fuzzer.counts
    print(
        f"cases {counts['cases']}, generated {counts['generated']}, rejected {counts['rejected']}, "
        f"crashes {counts['crash']}, injections {counts['injection']} "
        f"({counts['through the CLI with ruff']} through the CLI with ruff; {elapsed:.0f} s)"
    )
    for key in sorted(key for key in counts if ":" in key):
        print(f"  {key}: {counts[key]}")
    if args.verbose:
        for reason, count in fuzzer.rejections.most_common(25):
            print(f"  rejected {count}: {reason}")
    for outcome, case in fuzzer.failures[:10]:
        print(f"--- {outcome.kind} ({case.origin}): {outcome.detail}\n    input: {case.data[:300]!r}")
    return 1 if counts["crash"] or counts["injection"] else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())

"""A regression corpus for ``codegen diff``: thousands of real document pairs and their reports.

The pairs: bundled documents against systematic mutations of themselves (every kind of
position — parameters, fields at any depth, schemas, methods, resources, the API — removed,
added, renamed alike or unalike, made to collide, and each attribute the diff reads flipped:
type, format, enum, required, location, repeated, pattern, default, readOnly, deprecated,
description, ``$ref``, request, response, paging shape, endpoints, scopes, revision),
some of them combined; the bundled versions of one API against each other; and every
ordered pair of fixture documents. A case's output is the report as ``--json`` and as text
(plain and ``-v``), or the error the comparison raised.

    python -m tests.support.diff_corpus --record tests/support/diff_corpus.json   # digests per group
    python -m tests.support.diff_corpus --check tests/support/diff_corpus.json    # compare
    python -m tests.support.diff_corpus --against 0b4c91f                           # live, case by case,
        # against codegen/diff.py of a git revision (prints the first differing reports)
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import importlib.util
import itertools
import json
import random
import subprocess
import sys
import types
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from codegen import bundled, discovery
from codegen.errors import CodegenError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
Doc = dict[str, Any]
Mutation = Callable[[Doc], None]

#: Bundled APIs mutated (small and medium documents of varied shapes), mutations per API.
MUTATED_APIS = 40
MUTATIONS_PER_API = 90
COMBINED_PER_API = 15
#: Bundled documents larger than this are left out (lowering them is slow).
MAX_BYTES = 400_000


# --- walking a raw document --------------------------------------------------------------


def _methods(doc: Doc) -> Iterator[tuple[Doc, str]]:
    """(methods container, name) for every method, top-level and under resources."""
    stack = [doc]
    while stack:
        node = stack.pop()
        for name in sorted(node.get("methods", {})):
            yield node["methods"], name
        stack.extend(node.get("resources", {}).get(key) for key in sorted(node.get("resources", {})))


def _resources(doc: Doc) -> Iterator[tuple[Doc, str]]:
    stack = [doc]
    while stack:
        node = stack.pop()
        for name in sorted(node.get("resources", {})):
            yield node["resources"], name
            stack.append(node["resources"][name])


def _schema_positions(doc: Doc) -> Iterator[Doc]:
    """Every schema position: top-level schemas, properties at any depth, items, map values,
    method parameters, inline requests and responses."""

    def walk(schema: Any) -> Iterator[Doc]:
        if not isinstance(schema, dict):
            return
        yield schema
        for prop in schema.get("properties", {}).values():
            yield from walk(prop)
        yield from walk(schema.get("items"))
        yield from walk(schema.get("additionalProperties"))

    for key in sorted(doc.get("schemas", {})):
        yield from walk(doc["schemas"][key])
    for container, name in _methods(doc):
        method = container[name]
        for wire in sorted(method.get("parameters", {})):
            yield from walk(method["parameters"][wire])
        for part in ("request", "response"):
            if isinstance(method.get(part), dict) and "$ref" not in method[part]:
                yield from walk(method[part])


def _containers(doc: Doc) -> Iterator[tuple[str, Doc]]:
    """(what, dict of named members) for members that can be removed, added and renamed."""
    for container, name in _methods(doc):
        if container[name].get("parameters"):
            yield "parameters", container[name]["parameters"]
    for schema in _schema_positions(doc):
        if schema.get("properties"):
            yield "properties", schema["properties"]
    for container, name in _resources(doc):
        if container[name].get("methods"):
            yield "methods", container[name]["methods"]
    if doc.get("methods"):
        yield "methods", doc["methods"]
    if doc.get("resources"):
        yield "resources", doc["resources"]
    for container, name in _resources(doc):
        if container[name].get("resources"):
            yield "resources", container[name]["resources"]


def _rename_refs(doc: Any, old: str, new: str) -> None:
    if isinstance(doc, dict):
        if doc.get("$ref") == old:
            doc["$ref"] = new
        for value in doc.values():
            _rename_refs(value, old, new)
    elif isinstance(doc, list):
        for value in doc:
            _rename_refs(value, old, new)


def _flip_case(name: str) -> str:
    return name[:1].swapcase() + name[1:]


# --- mutations ---------------------------------------------------------------------------


def _candidates(doc: Doc, rng: random.Random) -> list[tuple[str, Mutation]]:
    """Every mutation of ``doc`` this corpus knows, each as (operation, edit of a copy).

    Edits locate their target by index in a fresh walk of the copy, so they apply to it.
    """
    found: list[tuple[str, Mutation]] = []
    schema_keys = sorted(doc.get("schemas", {}))

    # Schema positions: flip one attribute.
    def at_position(index: int, edit: Callable[[Doc], None]) -> Mutation:
        def apply(copy_: Doc) -> None:
            edit(list(_schema_positions(copy_))[index])

        return apply

    def set_(key: str, value: Any) -> Callable[[Doc], None]:
        return lambda s: s.__setitem__(key, value)

    def drop(*keys: str) -> Callable[[Doc], None]:
        return lambda s: [s.pop(key, None) for key in keys] and None

    for index, schema in enumerate(_schema_positions(doc)):
        kind = schema.get("type")
        ops: list[tuple[str, Callable[[Doc], None]]] = [
            ("description", set_("description", "Changed. " + str(schema.get("description", "")))),
            ("deprecated", set_("deprecated", not schema.get("deprecated", False))),
            ("readOnly", set_("readOnly", not schema.get("readOnly", False))),
        ]
        if "$ref" in schema and schema_keys:
            ops.append(("ref", set_("$ref", rng.choice(schema_keys))))
            ops.append(("ref-to-string", lambda s: (s.pop("$ref"), s.__setitem__("type", "string")) and None))
        if kind == "string":
            ops += [
                ("type", set_("type", "integer")),
                ("format", set_("format", "int32" if schema.get("format") == "int64" else "int64")),
                ("format-dropped", drop("format")),
                ("pattern", set_("pattern", "^[a-z]+$")),
                ("default", set_("default", "changed")),
            ]
            if "enum" in schema:
                ops += [
                    ("enum-dropped", drop("enum", "enumDescriptions")),
                    ("enum-value-added", lambda s: s["enum"].append("ADDED_VALUE")),
                    ("enum-value-removed", lambda s: s["enum"].pop()),
                    ("enum-reordered", lambda s: s["enum"].reverse()),
                    ("enum-description", lambda s: s.__setitem__("enumDescriptions", ["x"] * len(s["enum"]))),
                ]
            else:
                ops.append(("enum-added", set_("enum", ["A", "B"])))
        if kind in ("integer", "number", "boolean"):
            ops.append(("type", set_("type", "string")))
        if kind == "array":
            ops += [
                ("items", set_("items", {"type": "integer", "format": "int32"})),
                ("items-dropped", drop("items")),
                ("array-to-string", lambda s: (s.pop("items", None), s.__setitem__("type", "string")) and None),
            ]
        if kind == "object":
            ops += [
                ("object-to-string", set_("type", "string")),
                ("additional-properties", set_("additionalProperties", {"type": "string"})),
            ]
            if "additionalProperties" in schema:
                ops.append(("additional-properties-dropped", drop("additionalProperties")))
            if not schema.get("properties"):
                ops.append(("object-gets-field", set_("properties", {"extra": {"type": "string"}})))
        if "location" in schema:  # a parameter
            ops += [
                ("required", set_("required", not schema.get("required", False))),
                ("location", set_("location", "query" if schema["location"] == "path" else "path")),
                ("repeated", set_("repeated", not schema.get("repeated", False))),
                ("pattern-dropped", drop("pattern")),
            ]
        if "pattern" in schema:
            ops.append(("pattern-dropped", drop("pattern")))
        found.extend((f"position-{name}", at_position(index, edit)) for name, edit in ops)

    # Named members: remove, add, rename alike and unalike, collide.
    for index, (what, members) in enumerate(_containers(doc)):

        def at_container(i: int, edit: Callable[[Doc], None]) -> Mutation:
            return lambda copy_: edit(list(_containers(copy_))[i][1])

        for key in sorted(members):

            def remove(m: Doc, key: str = key) -> None:
                del m[key]

            def add(m: Doc, key: str = key, what: str = what) -> None:
                value = copy.deepcopy(m[key])
                if what == "methods":
                    value["id"] = value.get("id", key) + "Copy"
                    value["path"] = value.get("path", "") + "/copy"
                if what == "parameters":
                    value["location"] = "query"
                m[key + "Copy"] = value

            def add_required(m: Doc, key: str = key) -> None:
                m["extra" + key.capitalize()] = {"type": "string", "location": "query", "required": True}

            def rename(m: Doc, key: str = key, suffix: str = "Value") -> None:
                m[key + suffix] = m.pop(key)

            def collide(m: Doc, key: str = key) -> None:
                m[_flip_case(key)] = copy.deepcopy(m[key])

            ops2: list[tuple[str, Callable[[Doc], None]]] = [
                ("removed", remove),
                ("added", add),
                ("renamed-alike", rename),
                ("renamed-unalike", lambda m, key=key: m.__setitem__("zz" + key[::-1], m.pop(key))),
                ("collision", collide),
            ]
            if what == "parameters":
                ops2.append(("added-required", add_required))
            found.extend((f"{what}-{name}", at_container(index, edit)) for name, edit in ops2)

    # Methods: move, HTTP method, path, request, response, scopes, apiVersion, media.
    method_list = list(_methods(doc))
    for index, (container, name) in enumerate(method_list):
        method = container[name]

        def at_method(i: int, edit: Callable[[Doc], None]) -> Mutation:
            def apply(copy_: Doc) -> None:
                c, n = list(_methods(copy_))[i]
                edit(c[n])

            return apply

        ops3: list[tuple[str, Callable[[Doc], None]]] = [
            ("http-method", set_("httpMethod", "POST" if method.get("httpMethod") != "POST" else "PUT")),
            ("path", set_("path", method.get("path", "") + "/x")),
            ("flat-path", set_("flatPath", "changed/{x}")),
            ("api-version", set_("apiVersion", "2026-01-01")),
            ("scopes", set_("scopes", ["https://www.googleapis.com/auth/extra"])),
            ("scopes-dropped", drop("scopes")),
            ("media-download", set_("supportsMediaDownload", not method.get("supportsMediaDownload", False))),
            ("media-upload", set_("supportsMediaUpload", not method.get("supportsMediaUpload", False))),
            ("request-dropped", drop("request")),
            ("response-dropped", drop("response")),
            ("request-inline", set_("request", {"type": "object", "properties": {"a": {"type": "string"}}})),
            ("response-inline", set_("response", {"type": "object", "properties": {"a": {"type": "string"}}})),
            ("parameter-order-dropped", drop("parameterOrder")),
        ]
        if schema_keys:
            ops3.append(("request-ref", set_("request", {"$ref": rng.choice(schema_keys)})))
            ops3.append(("response-ref", set_("response", {"$ref": rng.choice(schema_keys)})))
        ops3.append(
            (
                "page-token-added",
                lambda m: m.setdefault("parameters", {}).__setitem__(
                    "pageToken", {"type": "string", "location": "query"}
                ),
            )
        )
        found.extend((f"method-{op}", at_method(index, edit)) for op, edit in ops3)
        if len(method_list) > 1:

            def move(copy_: Doc, i: int = index) -> None:
                methods = list(_methods(copy_))
                c, n = methods[i]
                target, _ = methods[(i + 1) % len(methods)]
                if target is not c:
                    target[n + "Moved" if n in target else n] = c.pop(n)

            found.append(("method-moved", move))

    # Paging shapes: a response's next-page token and its lists.
    for key in schema_keys:
        props = doc["schemas"][key].get("properties", {})
        if "nextPageToken" in props:
            found.append(
                ("paging-token-dropped", lambda d, key=key: d["schemas"][key]["properties"].pop("nextPageToken"))
            )
            found.append(
                (
                    "paging-second-list",
                    lambda d, key=key: d["schemas"][key]["properties"].__setitem__(
                        "others", {"type": "array", "items": {"type": "string"}}
                    ),
                )
            )
            lists = [name for name, prop in props.items() if prop.get("type") == "array"]
            for name in lists:
                found.append(
                    (
                        "paging-list-renamed",
                        lambda d, key=key, name=name: d["schemas"][key]["properties"].__setitem__(
                            "entries", d["schemas"][key]["properties"].pop(name)
                        ),
                    )
                )

    # Schemas: removed (references moved to another), added, renamed (references follow), collide.
    for key in schema_keys:
        other = next((k for k in schema_keys if k != key), key)

        def schema_removed(d: Doc, key: str = key, other: str = other) -> None:
            del d["schemas"][key]
            _rename_refs(d, key, other)

        def schema_renamed(d: Doc, key: str = key, new: str = key + "V2") -> None:
            d["schemas"][new] = d["schemas"].pop(key)
            d["schemas"][new]["id"] = new
            _rename_refs(d, key, new)

        found += [
            ("schema-removed", schema_removed),
            (
                "schema-added",
                lambda d, key=key: d["schemas"].__setitem__(key + "Copy", copy.deepcopy(d["schemas"][key])),
            ),
            ("schema-renamed-alike", schema_renamed),
            ("schema-renamed-unalike", lambda d, key=key: schema_renamed(d, key, "Zz" + key[::-1])),
            (
                "schema-collision",
                lambda d, key=key: d["schemas"].__setitem__(_flip_case(key), copy.deepcopy(d["schemas"][key])),
            ),
        ]

    # The API as a whole.
    def api(key: str, value: Any) -> Mutation:
        return lambda d: d.__setitem__(key, value)

    found += [
        ("api-revision", api("revision", "20991231")),
        ("api-revision-older", api("revision", "19990101")),
        ("api-root-url", api("rootUrl", "https://changed.googleapis.com/")),
        ("api-mtls-root-url", api("mtlsRootUrl", "https://changed.mtls.googleapis.com/")),
        ("api-service-path", api("servicePath", "changed/")),
        ("api-batch-path", api("batchPath", "batch/changed")),
        ("api-title", api("title", "Changed")),
        ("api-description", api("description", "Changed")),
        ("api-documentation-link", api("documentationLink", "https://changed.example/")),
        ("api-name", api("name", "changedname")),
        ("api-canonical-name", api("canonicalName", "Changed Name")),
        ("api-version", api("version", "v99")),
        ("api-features", api("features", ["dataWrapper"])),
        ("api-endpoints", api("endpoints", [{"endpointUrl": "https://x.googleapis.com/", "location": "x"}])),
        ("api-scopes-dropped", lambda d: d.pop("auth", None)),
        (
            "api-scope-added",
            lambda d: (
                d.setdefault("auth", {})
                .setdefault("oauth2", {})
                .setdefault("scopes", {})
                .__setitem__("https://www.googleapis.com/auth/new", {"description": "New."})
            ),
        ),
        (
            "api-scope-descriptions",
            lambda d: (
                [
                    s.__setitem__("description", "Changed")
                    for s in d.get("auth", {}).get("oauth2", {}).get("scopes", {}).values()
                ]
                and None
            ),
        ),
        (
            "api-global-parameter",
            lambda d: d.setdefault("parameters", {}).__setitem__(
                "extraGlobal", {"type": "string", "location": "query"}
            ),
        ),
    ]
    return found


def _sample(found: list[tuple[str, Mutation]], count: int, rng: random.Random) -> list[tuple[str, Mutation]]:
    """``count`` mutations, spread over the operations (round robin over shuffled groups)."""
    groups: dict[str, list[tuple[str, Mutation]]] = {}
    for op, edit in found:
        groups.setdefault(op, []).append((op, edit))
    for items in groups.values():
        rng.shuffle(items)
    chosen: list[tuple[str, Mutation]] = []
    names = sorted(groups)
    while len(chosen) < count and any(groups.values()):
        for name in names:
            if groups[name] and len(chosen) < count:
                chosen.append(groups[name].pop())
    return chosen


# --- the cases ---------------------------------------------------------------------------

Case = tuple[str, str, bytes, bytes]  # (group, case name, old document, new document)
#: How often each change kind was reported (by the last module run through :func:`output`).
KINDS: Counter[str] = Counter()


def groups() -> list[str]:
    """The names of the corpus's groups of cases, in order."""
    return [f"mutations:{api.name}.{api.version}" for api in _mutated()] + ["versions", "fixtures"]


def _mutated() -> list[bundled.BundledApi]:
    apis = [api for api in bundled.bundled_apis() if api.path.stat().st_size <= MAX_BYTES]
    return sorted(random.Random(18).sample(apis, MUTATED_APIS), key=lambda a: (a.name, a.version))


def cases(only_groups: Collection[str] | None = None) -> Iterator[Case]:
    """Every case of the corpus (of ``only_groups``, when given)."""
    for api in _mutated():
        group = f"mutations:{api.name}.{api.version}"
        if only_groups is not None and group not in only_groups:
            continue
        raw = api.path.read_bytes()
        doc = json.loads(raw)
        rng = random.Random(f"{api.name}.{api.version}")
        found = _candidates(doc, rng)
        for number, (op, edit) in enumerate(_sample(found, MUTATIONS_PER_API, rng)):
            changed = copy.deepcopy(doc)
            try:
                edit(changed)
            except (KeyError, IndexError, TypeError, AttributeError):
                continue  # not applicable to this document
            yield group, f"{number}:{op}", raw, json.dumps(changed).encode()
        for number in range(COMBINED_PER_API):
            changed = copy.deepcopy(doc)
            ops = rng.sample(found, 3)
            for _, edit in ops:
                try:
                    edit(changed)
                except (KeyError, IndexError, TypeError, AttributeError):
                    pass  # an earlier edit removed the target
            yield group, f"combined{number}:" + "+".join(op for op, _ in ops), raw, json.dumps(changed).encode()
            yield group, f"combined{number}-reversed", json.dumps(changed).encode(), raw
    apis = [api for api in bundled.bundled_apis() if api.path.stat().st_size <= MAX_BYTES]
    by_name: dict[str, list[bundled.BundledApi]] = {}
    for api in apis if only_groups is None or "versions" in only_groups else ():
        by_name.setdefault(api.name, []).append(api)
    for name in sorted(by_name):
        versions = sorted(by_name[name], key=lambda a: a.version)
        for a, b in itertools.pairwise(versions):
            yield "versions", f"{name}:{a.version}->{b.version}", a.path.read_bytes(), b.path.read_bytes()
            yield "versions", f"{name}:{b.version}->{a.version}", b.path.read_bytes(), a.path.read_bytes()
    fixtures = sorted(FIXTURES.glob("*.json")) if only_groups is None or "fixtures" in only_groups else []
    for a_path in fixtures:
        for b_path in fixtures:
            yield "fixtures", f"{a_path.stem}->{b_path.stem}", a_path.read_bytes(), b_path.read_bytes()


def output(diff: types.ModuleType, old: bytes, new: bytes) -> str | None:
    """The report of ``diff`` (a module with diff_documents) as JSON + text + verbose text; None
    when a document does not load."""
    try:
        a, b = discovery.load_bytes(old, "old.json"), discovery.load_bytes(new, "new.json")
    except CodegenError:
        return None
    try:
        report = diff.diff_documents(a, b)
    except CodegenError as error:
        return f"error: {error}"
    KINDS.update(change.kind for change in report.changes)
    text: str = report.format_text() + report.format_text(verbose=True)
    return json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n" + text


def old_module(revision: str) -> types.ModuleType:
    """``codegen/diff.py`` as it was at ``revision``, loaded beside the current one."""
    source = subprocess.run(
        ["git", "show", f"{revision}:codegen/diff.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    spec = importlib.util.spec_from_loader("codegen._diff_at_revision", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, f"{revision}:codegen/diff.py", "exec"), module.__dict__)
    return module


def digests(
    diff: types.ModuleType, only: str = "", only_groups: Collection[str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Digests of the outputs of ``diff``: per group (cases in order) and per case."""
    groups: dict[str, Any] = {}
    per_case: dict[str, str] = {}
    for group, name, old, new in cases(only_groups):
        if only not in f"{group} {name}":
            continue
        result = output(diff, old, new)
        if result is None:
            continue
        groups.setdefault(group, hashlib.sha256()).update(f"{name}\n{result}\n".encode())
        per_case[f"{group} {name}"] = hashlib.sha256(result.encode()).hexdigest()[:16]
    return {group: h.hexdigest()[:32] for group, h in groups.items()}, per_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, metavar="FILE", help="write digests per group (per case: FILE.cases)")
    mode.add_argument("--check", type=Path, metavar="FILE", help="compare with recorded digests")
    mode.add_argument("--against", metavar="REVISION", help="compare live with diff.py of a git revision")
    parser.add_argument("--revision", help="with --record: record codegen/diff.py of this git revision")
    parser.add_argument("--groups", help="only these groups (comma-separated; see groups())")
    parser.add_argument("--only", default="", help="only the cases whose 'group name' contains this")
    args = parser.parse_args(argv)
    only_groups = args.groups.split(",") if args.groups else None
    from codegen import diff

    if args.against:
        before = old_module(args.against)
        compared = differing = skipped = 0
        for group, name, old, new in cases(only_groups):
            if args.only not in f"{group} {name}":
                continue
            expected = output(before, old, new)
            if expected is None:
                skipped += 1
                continue
            got = output(diff, old, new)
            compared += 1
            if got != expected:
                differing += 1
                print(f"DIFFERENT: {group} {name}")
                if differing <= 3:
                    sys.stdout.writelines(
                        difflib.unified_diff(expected.splitlines(True), (got or "").splitlines(True), "old", "new")
                    )
        print(f"{compared} pairs compared ({skipped} mutations did not load), {differing} different")
        return 1 if differing else 0
    module = old_module(args.revision) if args.revision else diff
    group_digests, per_case = digests(module, args.only, only_groups)
    counts = {group: sum(1 for case in per_case if case.split(" ", 1)[0] == group) for group in group_digests}
    if args.record:
        record = {"digests": group_digests, "pairs": counts}
        args.record.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        Path(f"{args.record}.cases").write_text(json.dumps(per_case, indent=0) + "\n")
        print(f"{len(per_case)} pairs in {len(group_digests)} groups recorded")
        return 0
    recorded = json.loads(args.check.read_text())
    expected = {group: recorded["digests"][group] for group in (only_groups or recorded["digests"])}
    expected_counts = {group: recorded["pairs"][group] for group in expected}
    bad = sorted(group for group in expected if group_digests.get(group) != expected[group])
    cases_file = Path(f"{args.check}.cases")
    if bad and cases_file.exists():
        expected_cases = json.loads(cases_file.read_text())
        for case, digest in per_case.items():
            if expected_cases.get(case) != digest:
                print(f"DIFFERENT: {case}")
    print(f"{len(per_case)} pairs in {len(group_digests)} groups compared; groups different: {bad or 'none'}")
    print(
        f"{sum(KINDS.values())} changes of {len(KINDS)} kinds: "
        + ", ".join(f"{k} {n}" for k, n in sorted(KINDS.items()))
    )
    return 1 if bad or counts != expected_counts else 0


if __name__ == "__main__":
    sys.exit(main())

"""Malformed input: one line naming the file and JSON path, exit status 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codegen import discovery
from codegen.errors import DocumentError

ROOT = Path(__file__).resolve().parents[2]
MINIMAL: dict[str, Any] = {
    "name": "tiny",
    "version": "v1",
    "rootUrl": "https://tiny.googleapis.com/",
    "servicePath": "",
    "schemas": {"Thing": {"id": "Thing", "type": "object", "properties": {"name": {"type": "string"}}}},
    "resources": {
        "things": {
            "methods": {
                "get": {
                    "id": "tiny.things.get",
                    "httpMethod": "GET",
                    "path": "v1/{+name}",
                    "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                    "parameterOrder": ["name"],
                    "response": {"$ref": "Thing"},
                }
            }
        }
    },
}


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(MINIMAL))
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


BAD_DOCUMENTS = {
    "not a REST description": (
        _mutated(["kind"], "discovery#directoryList"),
        "$.kind: not a REST discovery document (kind 'discovery#directoryList')",
    ),
    "not the REST protocol": (
        _mutated(["protocol"], "rpc"),
        "$.protocol: not a REST discovery document (protocol 'rpc')",
    ),
    "missing name": (_mutated(["name"], KeyError), "$.name: required member is missing"),
    "name not a string": (_mutated(["name"], 3), "$.name: expected a string, got number"),
    "dangling ref": (
        _mutated(["resources", "things", "methods", "get", "response", "$ref"], "Nope"),
        "$.resources.things.methods.get.response.$ref: refers to unknown schema 'Nope'",
    ),
    "dangling property ref": (
        _mutated(["schemas", "Thing", "properties", "name"], {"$ref": "Missing"}),
        "$.schemas.Thing.properties.name.$ref: refers to unknown schema 'Missing'",
    ),
    "schemas not an object": (_mutated(["schemas"], []), "$.schemas: expected an object, got array"),
    "method not an object": (
        _mutated(["resources", "things", "methods", "get"], "GET"),
        "$.resources.things.methods.get: expected an object, got string",
    ),
    "bad http method": (
        _mutated(["resources", "things", "methods", "get", "httpMethod"], "FETCH"),
        "$.resources.things.methods.get.httpMethod: unsupported HTTP method 'FETCH'",
    ),
    "parameterOrder names nothing": (
        _mutated(["resources", "things", "methods", "get", "parameterOrder"], ["ghost"]),
        "$.resources.things.methods.get.parameterOrder[0]: names no parameter: 'ghost'",
    ),
    "bad type": (
        _mutated(["schemas", "Thing", "type"], "thing"),
        "$.schemas.Thing.type: unknown type 'thing'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_model_errors_name_the_json_path(case: str) -> None:
    document, expected = BAD_DOCUMENTS[case]
    with pytest.raises(DocumentError) as caught:
        discovery.load_bytes(json.dumps(document).encode(), "bad.json")
    assert str(caught.value) == f"bad.json: {expected}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "bad.json: $: not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        (b"[1, 2]", "bad.json: $: expected an object, got array"),
        (b"\xff\xfe", "bad.json: $: not UTF-8 text (byte 0)"),
        (b"[" * 100_000, "bad.json: $: JSON nesting is too deep"),
    ],
)
def test_unparseable_input(data: bytes, expected: str) -> None:
    with pytest.raises(DocumentError) as caught:
        discovery.load_bytes(data, "bad.json")
    assert str(caught.value) == expected


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_cli_reports_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_mutated(["resources", "things", "methods", "get", "response", "$ref"], "Nope")))
    out = tmp_path / "out"
    result = _run_cli("generate", str(bad), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0] and "$.resources.things.methods.get.response.$ref" in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_cli_missing_file_and_unknown_api(tmp_path: Path) -> None:
    missing = _run_cli("generate", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    assert "cannot read file" in missing.stderr
    unknown = _run_cli("generate", "no-such-api", "v1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert "no bundled discovery document" in unknown.stderr
    assert not (tmp_path / "o").exists()


def test_cli_generates_a_small_document_that_imports(tmp_path: Path) -> None:
    source = tmp_path / "tiny.json"
    source.write_text(json.dumps(MINIMAL))
    result = _run_cli("generate", str(source), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import tiny_v1, sys; print(tiny_v1.TinyClient.__name__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path / "out",
        check=False,
        env={"PYTHONPATH": f"{tmp_path / 'out' / 'tiny_v1'}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "TinyClient"


def test_cli_help_everywhere(tmp_path: Path) -> None:
    for args in (["--help"], ["generate", "--help"], ["list", "--help"]):
        result = _run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0 and "usage:" in result.stdout


def test_cli_list_shows_bundled_apis(tmp_path: Path) -> None:
    result = _run_cli("list", cwd=tmp_path)
    assert result.returncode == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert {"looker", "compute", "drive"} <= names
    assert len(result.stdout.splitlines()) == 610


def test_cli_output_whose_reader_went_away_ends_quietly(tmp_path: Path) -> None:
    # `codegen list | head -1`: the reader goes away; no error message, the status of a broken pipe.
    # (The pipe's read end is closed before the command starts, so that its first write fails.)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "codegen", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == b""

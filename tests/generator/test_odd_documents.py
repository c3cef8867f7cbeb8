"""Legal but odd documents, and hostile ones the loader must refuse in one line.

Each case came from mutating a bundled document: the generator must either produce a package
that imports, constructs and sends what googleapiclient would, or refuse the document with a
one-line error naming its JSON path — never a traceback, never a package that cannot work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from gapi_runtime import BaseClient
from gapi_runtime.aio import AsyncBaseClient, AsyncBatch
from gapi_runtime.batch import Batch
from gapi_runtime.media import _download_request
from gapi_runtime.spec import MethodSpec, PathParam
from google.auth.credentials import AnonymousCredentials

from codegen import discovery, ir, render, safety
from codegen.errors import DocumentError
from codegen.ir.lowering import media_size
from codegen.ir.types import ANY
from codegen.versions import compare_revisions
from tests.generator.test_discovery import MINIMAL
from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
GET = ["resources", "things", "methods", "get"]


def _document(**changes: Any) -> dict[str, Any]:
    """MINIMAL with ``changes`` applied: ``{"a.b": value}`` as keyword ``a__b``."""
    document: dict[str, Any] = json.loads(json.dumps(MINIMAL))
    for dotted, value in changes.items():
        keys = dotted.split("__")
        target = document
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return document


def _load(document: dict[str, Any]) -> discovery.Document:
    return discovery.load_bytes(json.dumps(document).encode(), "odd.json")


def test_a_number_too_long_to_convert_is_one_line() -> None:
    data = json.dumps(MINIMAL).replace('"version": "v1"', '"version": "v1", "x": ' + "9" * 4301, 1).encode()
    with pytest.raises(DocumentError, match=r"^odd\.json: \$: not JSON that can be read: .*4300"):
        discovery.load_bytes(data, "odd.json")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10MB", 10 << 20),
        ("512", 512),
        ("\u00b2GB", 0),
        ("1\u00b9KB", 0),
        ("\u2460MB", 0),
        ("9" * 4301, 0),
        ("lots", 0),
    ],
)
def test_media_max_size_reads_ascii_digits_only(text: str, size: int) -> None:
    assert media_size(text) == size


def test_revisions_of_any_length_compare_as_numbers() -> None:
    assert compare_revisions("1" * 4301, "2" * 4301) == 1
    assert compare_revisions("2" * 4301, "1" * 4301) == -1
    assert compare_revisions("20260101", "020260101") == 0
    assert compare_revisions("9", "10") == 1 and compare_revisions("10", "9") == -1


def test_client_reserved_names_cover_every_public_attribute_of_the_runtime_classes() -> None:
    public = {
        name
        for cls in (BaseClient, AsyncBaseClient, Batch, AsyncBatch)
        for name in dir(cls)
        if not name.startswith("_") and name.islower()
    }
    assert public <= set(ir.CLIENT_RESERVED)


def test_a_resource_named_like_a_client_property_is_renamed() -> None:
    document = _document(resources__universe_domain=MINIMAL["resources"]["things"])
    client = ir.lower(_load(document))
    assert sorted(module.root.attribute for module in client.modules) == ["things", "universe_domain_"]


def test_schemas_that_alias_each_other_in_a_ring_are_any() -> None:
    document = _document(
        schemas__A={"id": "A", "$ref": "B"},
        schemas__B={"id": "B", "$ref": "C"},
        schemas__C={"id": "C", "$ref": "A"},
        schemas__D={"id": "D", "$ref": "A"},
    )
    aliases = {schema.name: schema.alias for schema in ir.lower(_load(document)).schemas if schema.alias}
    assert aliases == {name: ANY for name in "ABCD"}


def test_a_parameter_named_twice_in_parameter_order_is_one_keyword() -> None:
    document = _document(resources__things__methods__get__parameterOrder=["name", "name"])
    loaded = _load(document)
    assert loaded.warnings == (
        "odd.json: $.resources.things.methods.get.parameterOrder: names a parameter more than once; "
        "the repeats are ignored",
    )
    method = ir.lower(loaded).all_methods[0]
    assert [param.name for param in method.params if not param.standard] == ["name"]


def test_a_repeated_path_parameter_takes_one_value() -> None:
    document = _document()
    document["resources"]["things"]["methods"]["get"]["parameters"]["name"]["repeated"] = True
    loaded = _load(document)
    assert "'repeated' is ignored" in loaded.warnings[0]
    method = ir.lower(loaded).all_methods[0]
    assert str(method.params[0].type_expr) == "str"


def test_a_service_path_without_a_trailing_slash_gets_one() -> None:
    loaded = _load(_document(servicePath="tiny/v1"))
    assert loaded.service_path == "tiny/v1/"
    assert loaded.warnings == ("odd.json: $.servicePath: does not end with '/'; using 'tiny/v1/'",)


@pytest.mark.parametrize("root", ["HTTPS://tiny.googleapis.com/", "Https://tiny.googleapis.com/"])
def test_a_root_url_scheme_in_upper_case_is_refused(root: str) -> None:
    """Transports send only ``https://`` URLs; a host in any case is fine (the universe check lower-cases it)."""
    with pytest.raises(DocumentError, match=r"\$\.rootUrl: .* must spell its scheme in lower case"):
        safety.check(_load(_document(rootUrl=root)))


@pytest.mark.parametrize(("name", "version"), [("gapi", "runtime"), ("typing", "extensions"), ("google", "crc32c")])
def test_a_package_that_would_shadow_a_module_is_refused(name: str, version: str) -> None:
    with pytest.raises(DocumentError, match=r"^odd\.json: \$\.name: .* would shadow that module"):
        safety.check(_load(_document(name=name, version=version)))


@pytest.mark.parametrize("member", ["name", "version"])
def test_a_name_too_long_for_a_folder_is_one_line_and_touches_nothing(tmp_path: Path, member: str) -> None:
    source = tmp_path / "long.json"
    source.write_text(json.dumps(_document(**{member: "v" * 300})))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"codegen: error: {source}: $.{member}: longer than 100 characters"]
    assert not out.exists()


def test_an_api_whose_default_answer_is_not_json_is_asked_for_json(tmp_path: Path) -> None:
    """groupssettings answers Atom unless asked otherwise; googleapiclient sends alt=json on every call."""
    package = gp.load(tmp_path, gp.generate_bundled("groupssettings", "v1", tmp_path).package)
    try:
        with (
            LoopbackServer() as server,
            package.GroupssettingsClient(credentials=AnonymousCredentials(), endpoint=server.url) as client,
        ):
            client.groups.get(group_unique_id="g@example.com")
            client.groups.patch(group_unique_id="g@example.com", body={"name": "n"}, fields="name")
            assert [request.query for request in server.requests] == [
                [("alt", "json")],
                [("fields", "name"), ("alt", "json")],
            ]
            batch = client.batch()
            assert batch.groups.get(group_unique_id="g").url.endswith("/groups/g?alt=json")
    finally:
        gp.forget(package.__name__)
    looker = ir.lower(discovery.load_path(ROOT / "generated/looker_v1/discovery.json"))
    assert not any(method.json_alt for method in looker.all_methods)  # JSON is its default: nothing sent


def test_a_download_of_such_an_api_asks_for_media_once() -> None:
    spec: MethodSpec[Any] = MethodSpec(
        id="x.files.get",
        http_method="GET",
        path=("files/", ""),
        path_params=(PathParam("id"),),
        query=("fields", "alt"),
    )
    url, _ = _download_request(spec, "https://x.googleapis.com/", {}, ("f",), (None, "json"), alt_media=True)
    assert url == "https://x.googleapis.com/files/f?alt=media"


def test_every_odd_document_here_renders_to_code_that_compiles() -> None:
    documents = [
        _document(schemas__A={"id": "A", "$ref": "B"}, schemas__B={"id": "B", "$ref": "A"}),
        _document(resources__universe_domain=MINIMAL["resources"]["things"]),
        _document(servicePath="tiny/v1"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for document in documents:
            assert render.render(_load(document)).code

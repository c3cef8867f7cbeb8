"""The IR holds values, not Python source: plain strings, TypeRef types, and one filter that spells them."""

from __future__ import annotations

import ast
import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen import bundled, discovery, ir
from codegen.errors import CodegenError
from codegen.ir import TypeRef
from codegen.render import environment, python_literal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Fields whose text is prose (escaped for a docstring or a comment), not a value.
#: The IR's type fields.
TYPES = {
    "Field.type_expr",
    "Param.type_expr",
    "SchemaClass.alias",
    "MethodIR.body_type",
    "MethodIR.response_type",
    "MethodIR.item_type",
    "StatusOperationsIR.type_name",
    "ClientIR.operation_type",
}
PROSE = {"doc", "title", "summary", "pages_doc", "all_doc", "media_doc", "comment", "unfollowable"}


def test_a_type_ref_spells_its_annotation_in_one_place() -> None:
    listed = TypeRef.typing("List", TypeRef.schema_class("Instance", qualified=True))
    assert listed.annotation == str(listed) == "_t.List[_s.Instance]"
    assert listed.plain == "List[Instance]"
    assert listed.uses_schemas and not listed.local_names
    local = TypeRef.typing("Dict", TypeRef("str"), TypeRef.schema_class("Disk", qualified=False))
    assert local.annotation == "_t.Dict[str, Disk]" and not local.uses_schemas and local.local_names == {"Disk"}
    # Literal values are document text: spelled with repr, so a quote or a bracket stays inside its string.
    hostile = TypeRef.literal(("a'b", 'c"]', "Schema"))
    assert eval(hostile.annotation, {"_t": typing}) == typing.Literal["a'b", 'c"]', "Schema"]
    assert not hostile.local_names  # a value that looks like a class name is not one


def test_the_py_filter_spells_literal_values_and_refuses_anything_else() -> None:
    for value in ("it's", 'a"b\n\x00', "", 0, 1 << 40, True, None, ("a", ("b", 1)), ()):
        assert ast.literal_eval(python_literal(value)) == value
    env = environment()
    assert env.from_string("{{ x|py }}").render(x=("a'", "b")) == repr(("a'", "b"))
    for bad in (TypeRef("str"), ["a"], 1.5, {"a": 1}, ("a", object())):
        with pytest.raises(CodegenError, match="not a Python literal"):
            python_literal(bad)


def _nodes(value: object, path: str) -> Iterator[tuple[str, str, object]]:
    """(path, ``Node.field``, value) of every field of every IR node below ``value``."""
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _nodes(item, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, (type, TypeRef)):
        for item in dataclasses.fields(value):
            child = getattr(value, item.name)
            yield f"{path}.{item.name}", f"{type(value).__name__}.{item.name}", child
            yield from _nodes(child, f"{path}.{item.name}")


def _documents() -> list[discovery.Document]:
    paths = [*sorted(FIXTURES.glob("*.json")), bundled.find("looker", "v1").path, bundled.find("compute", "v1").path]
    return [discovery.load_path(path) for path in paths]


@pytest.mark.parametrize("document", _documents(), ids=lambda document: document.source.rsplit("/", 1)[-1])
def test_no_ir_string_is_python_source(document: discovery.Document) -> None:
    """Strings are the document's values (or Python names); no field holds a repr or an annotation."""
    client = ir.lower(document)
    seen = set()
    for path, name, value in _nodes(client, "client"):
        seen.add(name)
        if isinstance(value, str) and name.split(".")[1] not in PROSE and len(value) >= 2 and value[0] in "'\"":
            pytest.fail(f"{path} holds source text {value!r}")
        if name in TYPES:
            assert value is None or isinstance(value, TypeRef), path
    assert "ClientIR.api_id" in seen and (not client.all_methods or "MethodIR.response_type" in seen)
    assert client.api_id == f"{document.name}:{document.version}" and client.root_url == document.root_url
    assert client.batch_path == document.batch_path and client.revision == document.revision
    ids = sorted(method.id for method in ir.all_methods(document))
    assert sorted(method.id for method in client.all_methods) == ids
    for method in client.all_methods:
        assert {param.wire for param in method.params if not param.standard} <= {
            wire for m in ir.all_methods(document) if m.json_path == method.source for wire, _ in m.parameters
        }


def test_templates_compare_no_strings_and_call_no_repr() -> None:
    """Templates print what the IR holds: a decision is an IR property, never a comparison of
    text inside a Jinja tag (generated code may compare strings; the template may not)."""
    import re

    import codegen

    tag = re.compile(r"{[{%](.*?)[%}]}", re.S)
    comparison = re.compile(r"""[=!]=\s*["']|["']\s*[=!]=|\brepr\b""")
    offenders = []
    for path in sorted((Path(codegen.__file__).parent / "templates").glob("*.j2")):
        for expression in tag.findall(path.read_text(encoding="utf-8")):
            if comparison.search(expression):
                offenders.append(f"{path.name}: {expression.strip()[:80]}")
    assert offenders == []

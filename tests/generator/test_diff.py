"""`codegen diff`: one small hand-written before/after document pair per rule.

The "before" document is ``BASE`` below (a tiny zoo API with a nested resource, an int64
field, enums, an inline object, arrays, a path pattern and a default). Each case edits a
copy of it into the "after" document and names the one change the diff must report: its
severity, its kind, the Python surface name and the document JSON path.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import bundled, discovery
from codegen.diff import Report, diff_documents

ROOT = Path(__file__).resolve().parents[2]

Doc = dict[str, Any]

BASE: Doc = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "id": "zoo:v1",
    "name": "zoo",
    "version": "v1",
    "revision": "20250101",
    "title": "Zoo API",
    "description": "Animals.",
    "rootUrl": "https://zoo.googleapis.com/",
    "servicePath": "",
    "auth": {"oauth2": {"scopes": {"https://www.googleapis.com/auth/cloud-platform": {"description": "All."}}}},
    "schemas": {
        "Animal": {
            "id": "Animal",
            "type": "object",
            "description": "An animal.",
            "properties": {
                "name": {"type": "string", "description": "Resource name."},
                "legCount": {"type": "string", "format": "int64"},
                "kind": {"type": "string", "enum": ["KIND_UNSPECIFIED", "MAMMAL", "BIRD"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "habitat": {"type": "object", "properties": {"climate": {"type": "string"}}},
                "createTime": {"type": "string", "format": "google-datetime", "readOnly": True},
                "weight": {"type": "number", "format": "double"},
            },
        },
        "ListAnimalsResponse": {
            "id": "ListAnimalsResponse",
            "type": "object",
            "properties": {
                "animals": {"type": "array", "items": {"$ref": "Animal"}},
                "nextPageToken": {"type": "string"},
            },
        },
        "Cage": {
            "id": "Cage",
            "type": "object",
            "properties": {"width": {"type": "integer", "format": "int32"}, "label": {"type": "string"}},
        },
        "Empty": {"id": "Empty", "type": "object", "properties": {}},
    },
    "resources": {
        "projects": {
            "resources": {
                "animals": {
                    "methods": {
                        "list": {
                            "id": "zoo.projects.animals.list",
                            "httpMethod": "GET",
                            "path": "v1/{+parent}/animals",
                            "parameterOrder": ["parent"],
                            "parameters": {
                                "parent": {
                                    "type": "string",
                                    "location": "path",
                                    "required": True,
                                    "pattern": "^projects/[^/]+$",
                                },
                                "pageSize": {"type": "integer", "format": "int32", "location": "query"},
                                "pageToken": {"type": "string", "location": "query"},
                                "view": {"type": "string", "location": "query", "enum": ["BASIC", "FULL"]},
                                "filter": {"type": "string", "location": "query", "default": "all"},
                                "fields": {"type": "string", "location": "query", "repeated": True},
                            },
                            "response": {"$ref": "ListAnimalsResponse"},
                        },
                        "get": {
                            "id": "zoo.projects.animals.get",
                            "httpMethod": "GET",
                            "path": "v1/{+name}",
                            "parameterOrder": ["name"],
                            "parameters": {
                                "name": {
                                    "type": "string",
                                    "location": "path",
                                    "required": True,
                                    "pattern": "^projects/[^/]+/animals/[^/]+$",
                                }
                            },
                            "response": {"$ref": "Animal"},
                        },
                        "create": {
                            "id": "zoo.projects.animals.create",
                            "httpMethod": "POST",
                            "path": "v1/{+parent}/animals",
                            "parameterOrder": ["parent"],
                            "parameters": {
                                "parent": {"type": "string", "location": "path", "required": True},
                                "animalId": {"type": "string", "location": "query"},
                            },
                            "request": {"$ref": "Animal"},
                            "response": {"$ref": "Animal"},
                        },
                        "groom": {  # inline (anonymous) request and response schemas
                            "id": "zoo.projects.animals.groom",
                            "httpMethod": "POST",
                            "path": "v1/{+name}:groom",
                            "parameterOrder": ["name"],
                            "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                            "request": {
                                "type": "object",
                                "properties": {"brush": {"type": "string"}, "minutes": {"type": "integer"}},
                            },
                            "response": {"type": "object", "properties": {"done": {"type": "boolean"}}},
                        },
                        "wash": {
                            "id": "zoo.projects.animals.wash",
                            "httpMethod": "POST",
                            "path": "v1/{+name}:wash",
                            "parameterOrder": ["name"],
                            "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                            "response": {"$ref": "Empty"},
                        },
                        "delete": {
                            "id": "zoo.projects.animals.delete",
                            "httpMethod": "DELETE",
                            "path": "v1/{+name}",
                            "parameterOrder": ["name"],
                            "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                            "response": {"$ref": "Empty"},
                        },
                    }
                },
                "keepers": {
                    "methods": {
                        "get": {
                            "id": "zoo.projects.keepers.get",
                            "httpMethod": "GET",
                            "path": "v1/{+name}/keeper",
                            "parameterOrder": ["name"],
                            "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                        }
                    }
                },
            }
        }
    },
}

ANIMALS = ("resources", "projects", "resources", "animals")
LIST = (*ANIMALS, "methods", "list")
LIST_PARAMS = (*LIST, "parameters")
ANIMAL = ("schemas", "Animal", "properties")
LIST_PATH = "$.resources.projects.resources.animals.methods.list"


def at(doc: Doc, *keys: str) -> Any:
    node: Any = doc
    for key in keys:
        node = node[key]
    return node


def load(doc: Doc, name: str) -> discovery.Document:
    return discovery.load_bytes(json.dumps(doc).encode(), name)


def compare(edit: Callable[[Doc], None]) -> Report:
    after = copy.deepcopy(BASE)
    edit(after)
    return diff_documents(load(BASE, "before.json"), load(after, "after.json"))


def rename_key(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


# --- edits -------------------------------------------------------------------------------


def remove_resource(d: Doc) -> None:
    del at(d, "resources", "projects", "resources")["keepers"]


def rename_resource(d: Doc) -> None:
    rename_key(at(d, "resources", "projects", "resources"), "keepers", "zookeepers")


def add_resource(d: Doc) -> None:
    at(d, "resources", "projects", "resources")["visitors"] = copy.deepcopy(
        at(BASE, "resources", "projects", "resources", "keepers")
    )


def remove_method(d: Doc) -> None:
    del at(d, *ANIMALS, "methods")["delete"]


def rename_method(d: Doc) -> None:
    rename_key(at(d, *ANIMALS, "methods"), "delete", "remove")


def add_method(d: Doc) -> None:
    method = copy.deepcopy(at(BASE, *ANIMALS, "methods", "get"))
    method.update(id="zoo.projects.animals.feed", httpMethod="POST", path="v1/{+name}:feed")
    at(d, *ANIMALS, "methods")["feed"] = method


def remove_parameter(d: Doc) -> None:
    del at(d, *LIST_PARAMS)["pageToken"]


def rename_parameter(d: Doc) -> None:
    rename_key(at(d, *LIST_PARAMS), "pageSize", "maxPageSize")


def add_required_parameter(d: Doc) -> None:
    at(d, *LIST_PARAMS)["zone"] = {"type": "string", "location": "query", "required": True}


def add_optional_parameter(d: Doc) -> None:
    at(d, *LIST_PARAMS)["orderBy"] = {"type": "string", "location": "query"}


def parameter_required(d: Doc) -> None:
    at(d, *LIST_PARAMS, "pageSize")["required"] = True


def parameter_type(d: Doc) -> None:
    at(d, *LIST_PARAMS, "pageSize").update(type="string", format="int64")


def parameter_format(d: Doc) -> None:
    at(d, *LIST_PARAMS, "pageSize")["format"] = "uint32"


def parameter_repeated(d: Doc) -> None:
    del at(d, *LIST_PARAMS, "fields")["repeated"]


def parameter_enum_value_removed(d: Doc) -> None:
    at(d, *LIST_PARAMS, "view")["enum"] = ["BASIC"]


def parameter_enum_value_added(d: Doc) -> None:
    at(d, *LIST_PARAMS, "view")["enum"] = ["BASIC", "FULL", "COMPACT"]


def parameter_enum_added(d: Doc) -> None:
    at(d, *LIST_PARAMS, "pageToken")["enum"] = ["A", "B"]


def parameter_default(d: Doc) -> None:
    at(d, *LIST_PARAMS, "filter")["default"] = "none"


def pattern_changed(d: Doc) -> None:
    at(d, *LIST_PARAMS, "parent")["pattern"] = "^organizations/[^/]+$"


def pattern_removed(d: Doc) -> None:
    del at(d, *LIST_PARAMS, "parent")["pattern"]


def path_changed(d: Doc) -> None:
    at(d, *LIST)["path"] = "v1/{+parent}/beasts"


def http_method_changed(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "delete")["httpMethod"] = "POST"


def response_changed(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "get")["response"] = {"$ref": "Cage"}


def response_removed(d: Doc) -> None:
    del at(d, *ANIMALS, "methods", "get")["response"]


def response_added(d: Doc) -> None:
    at(d, "resources", "projects", "resources", "keepers", "methods", "get")["response"] = {"$ref": "Cage"}


def body_added(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "wash")["request"] = {"$ref": "Cage"}


def body_added_to_delete(d: Doc) -> None:  # GET and DELETE never take a body: no change
    at(d, *ANIMALS, "methods", "delete")["request"] = {"$ref": "Cage"}


def body_removed(d: Doc) -> None:
    del at(d, *ANIMALS, "methods", "create")["request"]


def request_type_changed(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "create")["request"] = {"$ref": "Cage"}


def method_deprecated(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "delete")["deprecated"] = True


def remove_schema(d: Doc) -> None:
    del d["schemas"]["Cage"]


def rename_schema(d: Doc) -> None:
    rename_key(d["schemas"], "Cage", "Enclosure")
    d["schemas"]["Enclosure"]["id"] = "Enclosure"


def add_schema(d: Doc) -> None:
    d["schemas"]["Food"] = {"id": "Food", "type": "object", "properties": {"kind": {"type": "string"}}}


def schema_type(d: Doc) -> None:
    d["schemas"]["Cage"] = {"id": "Cage", "type": "string"}


def remove_field(d: Doc) -> None:
    del at(d, *ANIMAL)["weight"]


def rename_field(d: Doc) -> None:
    rename_key(at(d, *ANIMAL), "weight", "weightKg")


def add_field(d: Doc) -> None:
    at(d, *ANIMAL)["color"] = {"type": "string"}


def int64_string_to_int(d: Doc) -> None:
    at(d, *ANIMAL)["legCount"] = {"type": "integer", "format": "int32"}


def field_format(d: Doc) -> None:
    at(d, *ANIMAL, "createTime")["format"] = "date"


def field_enum_value_removed(d: Doc) -> None:
    at(d, *ANIMAL, "kind")["enum"] = ["KIND_UNSPECIFIED", "MAMMAL"]


def field_enum_value_added(d: Doc) -> None:
    at(d, *ANIMAL, "kind")["enum"] = ["KIND_UNSPECIFIED", "MAMMAL", "BIRD", "FISH"]


def nested_field_removed(d: Doc) -> None:
    del at(d, *ANIMAL, "habitat", "properties")["climate"]


def array_item_type(d: Doc) -> None:
    at(d, *ANIMAL, "tags")["items"] = {"type": "integer", "format": "int32"}


def field_read_only(d: Doc) -> None:
    at(d, *ANIMAL, "name")["readOnly"] = True


def field_deprecated(d: Doc) -> None:
    at(d, *ANIMAL, "name")["deprecated"] = True


def python_name_collision(d: Doc) -> None:
    # A new method `keepers` on `projects` takes the plain name: the resource becomes `keepers_`.
    method = copy.deepcopy(at(BASE, "resources", "projects", "resources", "keepers", "methods", "get"))
    method.update(id="zoo.projects.keepers", path="v1/{+name}/keepers")
    at(d, "resources", "projects")["methods"] = {"keepers": method}


def paging_removed(d: Doc) -> None:
    del d["schemas"]["ListAnimalsResponse"]["properties"]["nextPageToken"]


def two_item_lists(d: Doc) -> None:  # list_pages stays; list_all has no single list of items to yield
    d["schemas"]["ListAnimalsResponse"]["properties"]["keepers"] = {"type": "array", "items": {"type": "string"}}


def paging_added(d: Doc) -> None:
    at(d, "resources", "projects", "resources", "keepers", "methods", "get").update(
        response={"$ref": "ListAnimalsResponse"},
        parameters={
            "name": {"type": "string", "location": "path", "required": True},
            "pageToken": {"type": "string", "location": "query"},
        },
    )


def inline_request_field_removed(d: Doc) -> None:
    del at(d, *ANIMALS, "methods", "groom", "request", "properties")["brush"]


def inline_response_field_type(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "groom", "response", "properties", "done")["type"] = "string"


def inline_response_to_ref(d: Doc) -> None:
    at(d, *ANIMALS, "methods", "groom")["response"] = {"$ref": "Cage"}


def root_url(d: Doc) -> None:
    d["rootUrl"] = "https://zoo.example.googleapis.com/"


# (edit, severity, kind, Python name, JSON path)
RULES: list[tuple[Callable[[Doc], None], str, str, str, str]] = [
    (remove_resource, "breaking", "resource-removed", "projects.keepers", "$.resources.projects.resources.keepers"),
    (rename_resource, "breaking", "resource-renamed", "projects.keepers", "$.resources.projects.resources.zookeepers"),
    (add_resource, "feature", "resource-added", "projects.visitors", "$.resources.projects.resources.visitors"),
    (
        remove_method,
        "breaking",
        "method-removed",
        "projects.animals.delete",
        "$.resources.projects.resources.animals.methods.delete",
    ),
    (
        rename_method,
        "breaking",
        "method-renamed",
        "projects.animals.delete",
        "$.resources.projects.resources.animals.methods.remove",
    ),
    (
        add_method,
        "feature",
        "method-added",
        "projects.animals.feed",
        "$.resources.projects.resources.animals.methods.feed",
    ),
    (
        remove_parameter,
        "breaking",
        "parameter-removed",
        "projects.animals.list(page_token=...)",
        f"{LIST_PATH}.parameters.pageToken",
    ),
    (
        rename_parameter,
        "breaking",
        "parameter-renamed",
        "projects.animals.list(page_size=...)",
        f"{LIST_PATH}.parameters.maxPageSize",
    ),
    (
        add_required_parameter,
        "breaking",
        "parameter-added-required",
        "projects.animals.list(zone=...)",
        f"{LIST_PATH}.parameters.zone",
    ),
    (
        add_optional_parameter,
        "feature",
        "parameter-added",
        "projects.animals.list(order_by=...)",
        f"{LIST_PATH}.parameters.orderBy",
    ),
    (
        parameter_required,
        "breaking",
        "parameter-required",
        "projects.animals.list(page_size=...)",
        f"{LIST_PATH}.parameters.pageSize",
    ),
    (
        parameter_type,
        "breaking",
        "parameter-type-changed",
        "projects.animals.list(page_size=...)",
        f"{LIST_PATH}.parameters.pageSize",
    ),
    (
        parameter_format,
        "breaking",
        "parameter-type-changed",
        "projects.animals.list(page_size=...)",
        f"{LIST_PATH}.parameters.pageSize",
    ),
    (
        parameter_repeated,
        "breaking",
        "parameter-repeated-changed",
        "projects.animals.list(fields=...)",
        f"{LIST_PATH}.parameters.fields.repeated",
    ),
    (
        parameter_enum_value_removed,
        "breaking",
        "parameter-enum-value-removed",
        "projects.animals.list(view=...)",
        f"{LIST_PATH}.parameters.view.enum",
    ),
    (
        parameter_enum_value_added,
        "feature",
        "parameter-enum-value-added",
        "projects.animals.list(view=...)",
        f"{LIST_PATH}.parameters.view.enum",
    ),
    (
        parameter_enum_added,
        "breaking",
        "parameter-enum-added",
        "projects.animals.list(page_token=...)",
        f"{LIST_PATH}.parameters.pageToken.enum",
    ),
    (
        parameter_default,
        "patch",
        "parameter-default-changed",
        "projects.animals.list(filter=...)",
        f"{LIST_PATH}.parameters.filter.default",
    ),
    (
        pattern_changed,
        "breaking",
        "parameter-pattern-changed",
        "projects.animals.list(parent=...)",
        f"{LIST_PATH}.parameters.parent.pattern",
    ),
    (
        pattern_removed,
        "feature",
        "parameter-pattern-removed",
        "projects.animals.list(parent=...)",
        f"{LIST_PATH}.parameters.parent.pattern",
    ),
    (path_changed, "breaking", "method-path-changed", "projects.animals.list", f"{LIST_PATH}.path"),
    (
        http_method_changed,
        "breaking",
        "method-http-method-changed",
        "projects.animals.delete",
        "$.resources.projects.resources.animals.methods.delete.httpMethod",
    ),
    (
        response_changed,
        "breaking",
        "method-response-type-changed",
        "projects.animals.get",
        "$.resources.projects.resources.animals.methods.get.response",
    ),
    (
        response_removed,
        "breaking",
        "method-response-removed",
        "projects.animals.get",
        "$.resources.projects.resources.animals.methods.get.response",
    ),
    (
        response_added,
        "feature",
        "method-response-added",
        "projects.keepers.get",
        "$.resources.projects.resources.keepers.methods.get.response",
    ),
    (
        body_added,
        "breaking",
        "method-body-added-required",
        "projects.animals.wash",
        "$.resources.projects.resources.animals.methods.wash.request",
    ),
    (
        body_removed,
        "breaking",
        "method-body-removed",
        "projects.animals.create",
        "$.resources.projects.resources.animals.methods.create.request",
    ),
    (
        request_type_changed,
        "breaking",
        "method-request-type-changed",
        "projects.animals.create",
        "$.resources.projects.resources.animals.methods.create.request",
    ),
    (
        method_deprecated,
        "feature",
        "method-deprecated",
        "projects.animals.delete",
        "$.resources.projects.resources.animals.methods.delete.deprecated",
    ),
    (remove_schema, "breaking", "schema-removed", "schemas.Cage", "$.schemas.Cage"),
    (rename_schema, "breaking", "schema-renamed", "schemas.Cage", "$.schemas.Enclosure"),
    (add_schema, "feature", "schema-added", "schemas.Food", "$.schemas.Food"),
    (schema_type, "breaking", "schema-type-changed", "schemas.Cage", "$.schemas.Cage"),
    (remove_field, "breaking", "field-removed", "schemas.Animal.weight", "$.schemas.Animal.properties.weight"),
    (rename_field, "breaking", "field-renamed", "schemas.Animal.weight", "$.schemas.Animal.properties.weightKg"),
    (add_field, "feature", "field-added", "schemas.Animal.color", "$.schemas.Animal.properties.color"),
    (
        int64_string_to_int,
        "breaking",
        "field-type-changed",
        "schemas.Animal.legCount",
        "$.schemas.Animal.properties.legCount",
    ),
    (
        field_format,
        "breaking",
        "field-type-changed",
        "schemas.Animal.createTime",
        "$.schemas.Animal.properties.createTime",
    ),
    (
        field_enum_value_removed,
        "breaking",
        "field-enum-value-removed",
        "schemas.Animal.kind",
        "$.schemas.Animal.properties.kind.enum",
    ),
    (
        field_enum_value_added,
        "feature",
        "field-enum-value-added",
        "schemas.Animal.kind",
        "$.schemas.Animal.properties.kind.enum",
    ),
    (
        nested_field_removed,
        "breaking",
        "field-removed",
        "schemas.Animal.habitat.climate",
        "$.schemas.Animal.properties.habitat.properties.climate",
    ),
    (
        array_item_type,
        "breaking",
        "field-type-changed",
        "schemas.Animal.tags[]",
        "$.schemas.Animal.properties.tags.items",
    ),
    (field_read_only, "patch", "field-read-only", "schemas.Animal.name", "$.schemas.Animal.properties.name.readOnly"),
    (
        field_deprecated,
        "feature",
        "field-deprecated",
        "schemas.Animal.name",
        "$.schemas.Animal.properties.name.deprecated",
    ),
    (
        python_name_collision,
        "breaking",
        "resource-python-name-changed",
        "projects.keepers",
        "$.resources.projects.resources.keepers",
    ),
    (root_url, "patch", "api-endpoint-changed", "ZooClient", "$.rootUrl"),
    (
        inline_request_field_removed,
        "breaking",
        "field-removed",
        "projects.animals.groom(body=...).brush",
        "$.resources.projects.resources.animals.methods.groom.request.properties.brush",
    ),
    (
        inline_response_field_type,
        "breaking",
        "field-type-changed",
        "projects.animals.groom(...) return value.done",
        "$.resources.projects.resources.animals.methods.groom.response.properties.done",
    ),
    (
        inline_response_to_ref,
        "breaking",
        "method-response-type-changed",
        "projects.animals.groom",
        "$.resources.projects.resources.animals.methods.groom.response",
    ),
    (paging_removed, "breaking", "method-pages-removed", "projects.animals.list_pages", LIST_PATH),
    (two_item_lists, "breaking", "method-all-removed", "projects.animals.list_all", LIST_PATH),
    (
        paging_added,
        "feature",
        "method-pages-added",
        "projects.keepers.get_pages",
        "$.resources.projects.resources.keepers.methods.get",
    ),
]


@pytest.mark.parametrize(("edit", "severity", "kind", "python", "path"), RULES, ids=[r[0].__name__ for r in RULES])
def test_rule(edit: Callable[[Doc], None], severity: str, kind: str, python: str, path: str) -> None:
    report = compare(edit)
    found = [(c.severity, c.kind, c.python, c.path) for c in report.changes if c.severity != "docs"]
    assert (severity, kind, python, path) in found, report.format_text()
    assert report.breaking == (severity == "breaking")
    expected_bump = {"breaking": "major", "feature": "minor", "patch": "patch"}[severity]
    assert report.bump == expected_bump


def test_every_edit_reports_exactly_the_expected_change() -> None:
    """Each edit is minimal: apart from the named change, only added-feature side effects appear."""
    allowed_extra = {
        python_name_collision: {"method-added"},
        remove_parameter: {"method-pages-removed", "method-all-removed"},  # pageToken: list no longer pages
        paging_removed: {"field-removed", "method-all-removed"},
        two_item_lists: {"field-added"},
        paging_added: {"method-all-added", "method-response-added", "parameter-added"},
    }
    for edit, _, kind, _, _ in RULES:
        kinds = {c.kind for c in compare(edit).changes if c.severity != "docs"}
        assert kinds - {kind} <= allowed_extra.get(edit, set()), (edit.__name__, kinds)


def compare_reversed(edit: Callable[[Doc], None]) -> Report:
    """The edit undone: the edited document is the "before"."""
    before = copy.deepcopy(BASE)
    edit(before)
    return diff_documents(load(before, "before.json"), load(BASE, "after.json"))


@pytest.mark.parametrize(
    ("edit", "kind", "severity"),
    [
        (parameter_required, "parameter-optional", "feature"),
        (method_deprecated, "method-undeprecated", "patch"),
        (field_read_only, "field-writable", "feature"),
        (parameter_enum_added, "parameter-enum-removed", "feature"),
        (response_added, "method-response-removed", "breaking"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_reverse_rules(edit: Callable[[Doc], None], kind: str, severity: str) -> None:
    kinds = {(c.kind, c.severity) for c in compare_reversed(edit).changes}
    assert (kind, severity) in kinds, kinds


def test_a_request_declared_on_a_delete_changes_nothing() -> None:
    assert [c.kind for c in compare(body_added_to_delete).changes if c.severity != "docs"] == []


def test_body_that_became_optional_or_required() -> None:
    def empty_request(d: Doc) -> None:  # a request schema with no fields: the body is optional
        at(d, *ANIMALS, "methods", "create")["request"] = {"$ref": "Empty"}

    assert {c.kind for c in compare_reversed(request_type_changed).changes} == {"method-request-type-changed"}
    changes = compare(empty_request).changes
    assert [c.kind for c in changes] == ["method-request-type-changed"]
    report = compare_reversed(body_removed)
    assert [(c.kind, c.severity) for c in report.changes] == [("method-body-added-required", "breaking")]


def test_int64_string_to_int_names_both_python_types() -> None:
    change = next(c for c in compare(int64_string_to_int).changes if c.kind == "field-type-changed")
    assert change.old == "string (int64)" and change.new == "integer (int32)"
    assert "Python: str → int" in change.message


def test_parameter_type_change_names_both_python_types() -> None:
    change = next(c for c in compare(parameter_type).changes if c.kind == "parameter-type-changed")
    assert "Python: int → Union[int, str]" in change.message


def test_enum_values_are_named() -> None:
    change = next(c for c in compare(field_enum_value_removed).changes if c.kind == "field-enum-value-removed")
    assert change.old == "BIRD"


def test_unrelated_removal_and_addition_are_not_called_a_rename() -> None:
    def parameter(d: Doc) -> None:
        del at(d, *LIST_PARAMS)["filter"]
        at(d, *LIST_PARAMS)["orderBy"] = {"type": "string", "location": "query"}

    def resource(d: Doc) -> None:
        rename_key(at(d, "resources", "projects", "resources"), "keepers", "wardens")

    assert sorted(c.kind for c in compare(parameter).changes) == ["parameter-added", "parameter-removed"]
    assert sorted(c.kind for c in compare(resource).changes) == ["resource-added", "resource-removed"]

    # One field alike is not enough to call Cage → Food a rename; Cage → Cages is one.
    before = copy.deepcopy(BASE)
    before["schemas"]["Cage"]["properties"] = {"label": {"type": "string"}}
    for new_name, kinds in (("Food", ["schema-added", "schema-removed"]), ("Cages", ["schema-renamed"])):
        after = copy.deepcopy(before)
        after["schemas"][new_name] = after["schemas"].pop("Cage")
        report = diff_documents(load(before, "before.json"), load(after, "after.json"))
        assert sorted(c.kind for c in report.changes) == kinds


def test_renamed_method_contents_are_compared_under_the_new_name() -> None:
    def edit(d: Doc) -> None:
        rename_method(d)
        at(d, *ANIMALS, "methods", "remove", "parameters")["force"] = {"type": "boolean", "location": "query"}

    changes = {(c.kind, c.python) for c in compare(edit).changes}
    assert ("method-renamed", "projects.animals.delete") in changes
    assert ("parameter-added", "projects.animals.remove(force=...)") in changes


def test_description_etag_and_revision_only_are_no_change() -> None:
    def edit(d: Doc) -> None:
        d["revision"] = "20250202"
        d["etag"] = '"abc"'
        d["description"] = "Animals, and more."
        at(d, *LIST)["description"] = "Lists animals."
        at(d, *LIST_PARAMS, "pageSize")["description"] = "At most this many."
        at(d, *ANIMAL, "name")["description"] = "The name."
        d["schemas"]["Cage"]["description"] = "A cage."

    report = compare(edit)
    assert not report.breaking
    assert {c.severity for c in report.changes} == {"docs"}
    assert len(report.changes) == 5
    assert report.bump == "patch"  # docstrings changed: a patch release

    def revision_only(d: Doc) -> None:
        d["revision"] = "20250202"
        d["etag"] = '"abc"'

    report = compare(revision_only)
    assert report.changes == ()
    assert report.bump == "none"


def test_reordered_parameters_and_keys_are_no_change() -> None:
    def edit(d: Doc) -> None:
        params = at(d, *LIST_PARAMS)
        at(d, *LIST)["parameters"] = dict(reversed(list(params.items())))
        at(d, *LIST)["parameterOrder"] = ["parent"]

    assert compare(edit).changes == ()


def test_report_json_and_text_group_by_severity() -> None:
    def edit(d: Doc) -> None:
        remove_field(d)
        add_field(d)
        parameter_default(d)
        d["description"] = "changed"

    report = compare(edit)
    data = json.loads(json.dumps(report.to_json()))
    assert data["breaking"] is True and data["bump"] == "major"
    assert data["counts"] == {"breaking": 1, "feature": 1, "patch": 1, "docs": 1}
    assert [c["severity"] for c in data["changes"]] == ["breaking", "feature", "patch", "docs"]
    text = report.format_text()
    assert text.index("Breaking changes (1):") < text.index("Features (1):") < text.index("Other changes (patch) (1):")
    assert "schemas.Animal.weight: field removed" in text
    assert "at $.schemas.Animal.properties.weight" in text
    assert "Documentation only: 1 change(s)" in text and "api-documentation" not in text
    assert "description changed" in report.format_text(verbose=True)


# --- the command line --------------------------------------------------------------------


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**{k: v for k, v in os.environ.items() if k != "CODEGEN_DISCOVERY_URLS"}, "PYTHONPATH": str(ROOT)},
    )


def test_cli_bundled_looker_against_itself_reports_no_change() -> None:
    looker = str(bundled.find("looker", "v1").path)
    for args in (("diff", looker, looker), ("diff", "looker", "v1")):
        result = run(*args)
        assert result.returncode == 0, result.stderr
        assert "No changes to the generated surface." in result.stdout
        assert "suggested version bump: none" in result.stdout


def test_cli_exit_status_and_json(tmp_path: Path) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(BASE))
    doc = copy.deepcopy(BASE)
    remove_parameter(doc)
    after.write_text(json.dumps(doc))
    result = run("diff", str(before), str(after), "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["changes"][0]["kind"] == "parameter-removed"
    assert data["changes"][0]["python"] == "projects.animals.list(page_token=...)"

    doc = copy.deepcopy(BASE)
    add_optional_parameter(doc)
    after.write_text(json.dumps(doc))
    result = run("diff", str(before), str(after))
    assert result.returncode == 0
    assert "Features (1):" in result.stdout


def test_cli_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(BASE))
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "zoo", "version": "v1", "rootUrl": 5}')
    for args in (
        ("diff", str(good), str(tmp_path / "missing.json")),
        ("diff", str(good), str(bad)),
        ("diff", str(good), "v1"),
        ("diff", "nosuchapi", "v1"),
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.stdout)
        assert result.stderr.startswith("codegen: error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_cli_name_version_against_a_file_and_a_missing_package(tmp_path: Path) -> None:
    doc = json.loads(bundled.find("looker", "v1").path.read_text())
    del doc["resources"]["projects"]["resources"]["locations"]["resources"]["instances"]["methods"]["restart"]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc))
    result = run("diff", "looker", "v1", "--against", str(newer))
    assert result.returncode == 1
    assert "projects.locations.instances.restart: method removed" in result.stdout
    result = run("diff", "looker", "v1", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "no stored document" in result.stderr


def test_diff_of_large_document_against_itself_is_empty() -> None:
    compute = discovery.load_path(bundled.find("compute", "v1").path)
    assert diff_documents(compute, compute).changes == ()


def test_repeated_patch_messages_collapse_in_text_but_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen import diff_report as diff

    def edit(d: Doc) -> None:
        for name in ("list", "get", "create", "delete"):
            at(d, *ANIMALS, "methods", name)["apiVersion"] = "2026-01-01"

    monkeypatch.setattr(diff, "COLLAPSE_OVER", 2)
    report = compare(edit)
    text = report.format_text()
    assert "projects.animals.create and 3 more: apiVersion changed from '' to '2026-01-01'" in text
    assert "projects.animals.list:" not in text
    assert "projects.animals.list: apiVersion changed" in report.format_text(verbose=True)
    assert len(report.to_json()["changes"]) == 4

"""The pinned snake_case rule and collision handling (issue 2, item 5)."""

from __future__ import annotations

import pytest

from codegen.naming import Scope, class_name, escape_keyword, python_name, snake_case


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("pageSize", "page_size"),
        ("pageToken", "page_token"),
        ("showDeleted", "show_deleted"),
        ("returnPartialSuccess", "return_partial_success"),
        ("instanceId", "instance_id"),
        ("HTTPHealthCheck", "http_health_check"),
        ("getIAMPolicy", "get_iam_policy"),
        ("userIP", "user_ip"),
        ("ABCDef", "abc_def"),
        ("v1.2", "v1_2"),
        ("directory_v1", "directory_v1"),
        ("endDate.day", "end_date_day"),
        ("$.xgafv", "xgafv"),
        ("X-Goog-Api", "x_goog_api"),
        ("a--b__c", "a_b_c"),
        ("_leading_", "leading"),
        ("ipv4Address", "ipv4_address"),
        ("v2beta1", "v2beta1"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(wire: str, python: str) -> None:
    assert snake_case(wire) == python


@pytest.mark.parametrize(("wire", "python"), [("import", "import_"), ("from", "from_"), ("global", "global_")])
def test_keywords_get_a_trailing_underscore(wire: str, python: str) -> None:
    assert python_name(wire) == python
    assert escape_keyword(wire) == python


def test_names_that_are_not_identifiers_still_become_identifiers() -> None:
    for wire in ["9lives", "", "$", "-", "über", "a b"]:
        name = python_name(wire)
        assert name.isidentifier(), (wire, name)


def test_class_names_keep_the_documents_spelling() -> None:
    assert class_name("HTTPHealthCheck") == "HTTPHealthCheck"
    assert class_name("HttpHealthCheck") == "HttpHealthCheck"
    assert class_name("Foo.Bar") == "Foo_Bar"
    assert class_name("None") == "None_"


def test_scope_resolves_collisions_deterministically() -> None:
    scope = Scope(reserved=("body",))
    assert scope.allocate("body") == "body_"
    assert scope.allocate("list") == "list"
    assert scope.allocate("list") == "list_"
    assert scope.allocate("list") == "list__"
    insensitive = Scope(case_insensitive=True)
    assert insensitive.allocate("Foo") == "Foo"
    assert insensitive.allocate("foo") == "foo_"

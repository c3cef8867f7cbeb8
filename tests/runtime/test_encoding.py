"""Path and query encoding: google/api/http.proto rules, not RFC 6570 reserved expansion."""

from __future__ import annotations

import pytest
from gapi_runtime.encoding import build_path, build_query, encode_path_value
from gapi_runtime.spec import MethodSpec, PathParam


@pytest.mark.parametrize(
    ("value", "reserved", "wire"),
    [
        ("projects/p/x", True, "projects/p/x"),
        ("projects/p/x", False, "projects%2Fp%2Fx"),
        ("a?b#c", True, "a%3Fb%23c"),
        ("[x]@y:z", True, "%5Bx%5D%40y%3Az"),
        ("-_.~AZaz09", False, "-_.~AZaz09"),
        ("100%", False, "100%25"),
        ("é", False, "%C3%A9"),
        ("a b+c", True, "a%20b%2Bc"),
        ("tab\there", True, "tab%09here"),
    ],
)
def test_http_proto_encoding(value: str, reserved: bool, wire: str) -> None:
    assert encode_path_value("name", value, reserved) == wire


def test_pattern_is_a_full_match_not_a_prefix_match() -> None:
    param = PathParam("name", True, "^[a-z]+$")
    assert encode_path_value("name", "abc", True, param) == "abc"
    for bad in ["abc\n", "abc/def", "ABC", "abc1"]:
        with pytest.raises(ValueError, match="does not match the pattern"):
            encode_path_value("name", bad, True, param)
    unanchored = PathParam("name", True, "[a-z]+")
    with pytest.raises(ValueError):
        encode_path_value("name", "abc/../../x", True, unanchored)


@pytest.mark.parametrize("value", [".", "..", "a/../b", "a/./b", "../x"])
def test_dot_segments_are_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="segment"):
        encode_path_value("name", value, True)


def test_dots_inside_segments_are_fine() -> None:
    assert encode_path_value("name", "a.b/..c/d..", True) == "a.b/..c/d.."


def test_empty_and_unencodable_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode_path_value("name", "", True)
    with pytest.raises(ValueError, match="Unicode"):
        encode_path_value("name", "\ud800", True)


def test_non_string_values() -> None:
    assert encode_path_value("id", 42, False) == "42"
    assert encode_path_value("flag", True, False) == "true"
    with pytest.raises(TypeError):
        encode_path_value("id", object(), False)


def test_build_path_fills_variables_in_order() -> None:
    spec: MethodSpec[object] = MethodSpec(
        "x.get", "GET", ("v1/", "/items/", ":run"), (PathParam("parent", True), PathParam("item", False))
    )
    assert build_path(spec, ("projects/p", "a/b")) == "v1/projects/p/items/a%2Fb:run"


def test_query_encoding() -> None:
    names = ("pageSize", "filter", "fields", "ids", "flag", "off", "big", "none")
    values = (10, "a=b&c d", "items(name)", ["x", "y z"], True, False, 2**63, None)
    assert build_query(names, values) == (
        "?pageSize=10&filter=a%3Db%26c%20d&fields=items%28name%29&ids=x&ids=y%20z&flag=true&off=false"
        "&big=9223372036854775808"
    )
    assert build_query(("a",), (None,)) == ""
    assert build_query(("$.xgafv",), ("2",)) == "?%24.xgafv=2"

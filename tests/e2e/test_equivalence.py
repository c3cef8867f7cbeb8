"""The equivalence harness itself: the fixtures against the dynamic client, the deviation
rules, the value synthesis, and proof that a real difference is caught.

The CI slice of real APIs runs in tests/e2e/test_all_apis.py; all 610 documents with
``python -m tests.support.equivalence --all``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codegen import discovery, ir
from tests.support import equivalence
from tests.support import generated_packages as gp
from tests.support.regex_sample import sample


def test_every_fixture_matches_the_dynamic_client_or_a_listed_deviation() -> None:
    paths = [str(gp.fixture_path(name)) for name in gp.fixture_names()]
    totals = equivalence.run(paths)
    assert totals.ok, "\n".join(totals.lines())
    expected = sum(sum(1 for _ in discovery.load_path(path).all_methods()) for path in paths)
    assert totals.compared == expected + totals.media  # method_shapes things.export: one media call too
    # Each listed deviation shows up where a fixture provokes it.
    assert totals.deviating["param-collision"] == 1  # param_names: filterBy/filter_by, 'body'
    assert totals.deviating["shadowed-method"] == 1  # method_resource_same_name
    assert totals.deviating["standard-parameter-shadowed"] == 1  # method_shapes: things.lookup (path 'key')
    assert totals.deviating["reserved-expansion"] >= 10  # {+var} paths with 'x y:z@ä'


def test_plain_values_make_every_path_byte_equal() -> None:
    totals = equivalence.run([str(gp.fixture_path("plus_path")), str(gp.fixture_path("keyword_method"))],
                             token=equivalence.PLAIN_TOKEN)  # fmt: skip
    assert totals.ok and totals.compared == totals.equal == 8


def test_a_real_difference_is_caught(tmp_path: Path) -> None:
    """A generator bug (a wrong wire name in a MethodSpec) makes the method 'different'."""
    path = gp.fixture_path("repeated_enum_query")
    output = gp.generate_path(path, tmp_path)
    module = tmp_path / output.package / output.package / "resources" / "things.py"
    source = module.read_text(encoding="utf-8")
    assert '"states"' in source
    module.write_text(source.replace('"states"', '"state"'), encoding="utf-8")
    report = equivalence.compare_api(str(path), str(tmp_path))
    assert [outcome.verdict for outcome in report.outcomes] == ["different"]
    assert "query" in report.outcomes[0].detail and "'state'" in report.outcomes[0].detail


def test_reserved_expansion_rule_is_narrow() -> None:
    allowed = equivalence.reserved_expansion_only
    assert allowed("/v1/a%3Ab%40c/x:cancel", "/v1/a:b@c/x:cancel")
    assert allowed("/v1/p%3Fq%23f", "/v1/p?q#f")
    assert not allowed("/v1/a%3Ab", "/v1/a%3Ab")  # no difference: not a deviation
    assert not allowed("/v1/a%20b", "/v1/a b")  # space is not an RFC 6570 reserved character
    assert not allowed("/v1/a%3Ab/x", "/v1/a:b/y")  # another difference besides
    assert not allowed("/v1/a%3A", "/v1/a:b")


def test_compare_reports_other_fields_even_on_a_deviating_path() -> None:
    case = equivalence.MethodCase("x.get", ("get",), ("get",), {"path": "v1/{+name}"}, {}, False, False)
    ours = equivalence.Wire("GET", "/v1/a%3Ab", (("q", ("1",)),), None, None)
    assert equivalence.compare(case, ours, ours).verdict == "equal"
    theirs = equivalence.Wire("GET", "/v1/a:b", (("q", ("1",)),), None, None)
    outcome = equivalence.compare(case, ours, theirs)
    assert (outcome.verdict, outcome.deviation) == ("deviating", "reserved-expansion")
    theirs_body = equivalence.Wire("GET", "/v1/a:b", (("q", ("1",)),), {"a": 1}, None)
    assert equivalence.compare(case, ours, theirs_body).verdict == "different"
    simple = equivalence.MethodCase("x.get", ("get",), ("get",), {"path": "v1/{name}"}, {}, False, False)
    assert equivalence.compare(simple, ours, theirs).verdict == "different"  # {name}: no excuse


def test_every_deviation_has_a_reason() -> None:
    for key, deviation in equivalence.DEVIATIONS.items():
        assert deviation.key == key and len(deviation.reason) > 80


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^projects/[^/]+/locations/[^/]+$", "projects/x y:z@ä/locations/x y:z@ä"),
        ("[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?", "aaa"),
        ("^.*$", "x y:z@ä"),
        ("(\\d){4}-(\\d){2}-(\\d){2}", "0000-00-00"),
        ("UA-(\\d+)-(\\d+)", "UA-0-0"),
        ("(firewallPolicies/)?[0-9]{0,20}", "firewallPolicies/0"),
        (".{22}", "a" * 22),
        ("\\S{1,66}", "a"),
        ("C.+|my_customer", "Cx y:z@ä"),
    ],
)
def test_regex_sample(pattern: str, expected: str) -> None:
    value = sample(pattern, "x y:z@ä")
    assert value == expected
    assert re.fullmatch(pattern, value)


def test_regex_sample_covers_the_slice_patterns() -> None:
    """Every path-parameter pattern of the CI slice gets a value (the harness relies on it)."""
    from codegen import bundled

    patterns = set()
    for api in equivalence.CI_SLICE:
        document = discovery.load_path(bundled.find(*api).path)
        for method in document.all_methods():
            patterns.update(schema.pattern for _, schema in method.parameters if schema.pattern)
    missing = [pattern for pattern in sorted(patterns) if sample(pattern, equivalence.TOKEN) is None]
    assert not missing and len(patterns) > 300


def test_cases_pair_document_and_generated_names() -> None:
    document = discovery.load_path(gp.fixture_path("keyword_resource"))
    tree = __import__("json").loads(document.raw)
    found = {case.method_id: case for case in equivalence.cases(tree, ir.lower(document))}
    case = found["keywordresource.projects.global.class.get"]
    assert case.dynamic_path == ("projects", "global_", "class_", "get")
    assert case.generated_path == ("projects", "global_", "class_", "get")

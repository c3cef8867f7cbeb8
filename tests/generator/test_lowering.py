"""One small fixture document per edge case of the bundled documents (tests/fixtures/).

Each test generates its fixture, imports the package and calls it over real HTTP against
a loopback server. The same fixtures are compared with the dynamic client in
tests/e2e/test_equivalence.py and type-checked in tests/e2e/test_all_apis.py.
"""

from __future__ import annotations

import base64
import collections
import importlib
import inspect
import json
import sys
import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from codegen import ir
from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer, Reply


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge")


class Api:
    """A generated fixture package and a client pointed at the loopback server."""

    def __init__(self, package: ModuleType, server: LoopbackServer) -> None:
        self.package = package
        self.schemas: Any = importlib.import_module(package.__name__ + ".schemas")
        names = [name for name in package.__all__ if name.endswith("Client")]
        self.client: Any = getattr(package, names[0])(credentials=AnonymousCredentials(), endpoint=server.url)
        self.server = server

    @property
    def last(self) -> Any:
        return self.server.last


@pytest.fixture
def api(request: pytest.FixtureRequest, out: Path, server: LoopbackServer) -> Iterator[Api]:
    name = request.param
    output = gp.generate_path(gp.fixture_path(name), out)
    package = gp.load(out, output.package)
    handle = Api(package, server)
    yield handle
    handle.client.close()
    gp.forget(output.package)


def shape(hint: Any) -> Any:
    """A comparable form of a type hint: ``List[Dict[str, X]]`` → ``(list, (dict, str, X))``."""
    origin = typing.get_origin(hint)
    if origin is None or origin is typing.Literal:
        return hint
    return (origin, *(shape(argument) for argument in typing.get_args(hint)))


def uses(name: str) -> Any:
    return pytest.mark.parametrize("api", [name], indirect=True)


def test_every_fixture_has_a_test() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [name for name in gp.fixture_names() if f'"{name}"' not in source]
    assert not missing, f"fixtures without a test: {missing}"


# --- paths ---------------------------------------------------------------------------------


@uses("plus_path")
def test_plus_path_encodes_per_http_proto(api: Api) -> None:
    things = api.client.projects.locations.things
    things.get(name="projects/p 1/locations/l:x@y/things/t?a=1#f%")
    # {+name}: '/' stays, everything else outside [-_.~0-9A-Za-z] is encoded ('?' and '#' too).
    assert api.last.target == "/v1/projects/p%201/locations/l%3Ax%40y/things/t%3Fa%3D1%23f%25"
    things.cancel(name="projects/p/locations/l/things/t")
    cancelled = (api.last.method, api.last.path, api.last.body)
    assert cancelled == ("POST", "/v1/projects/p/locations/l/things/t:cancel", b"{}")
    api.client.simple.get(thing="a/b c", rest="c/d e")
    assert api.last.target == "/v1/simple/a%2Fb%20c/c/d%20e"  # {thing} encodes '/', {+rest} keeps it


@uses("plus_path")
def test_plus_path_pattern_is_checked_before_any_io(api: Api) -> None:
    with pytest.raises(ValueError, match="name"):
        api.client.projects.locations.things.get(name="projects/p/locations/l")
    with pytest.raises(ValueError):
        api.client.projects.locations.things.get(name="projects/p/locations/l/things/t/extra")
    assert api.server.requests == []


# --- names ---------------------------------------------------------------------------------


@uses("param_names")
def test_parameter_names_with_dash_and_dot(api: Api) -> None:
    method = api.client.reports.generate
    keywords = list(inspect.signature(method).parameters)
    for name in ("account_id", "end_date_day", "max_results", "start_index", "xgafv", "dimension_name"):
        assert name in keywords
    # filterBy and filter_by both become filter_by: the later one (sorted by wire name) gets '_';
    # parameters named like the method's own keywords get '_' as well.
    assert {"filter_by", "filter_by_", "body_", "timeout_"} <= set(keywords)
    method(
        account_id="acc-1",
        end_date_day=3,
        end_date_month=4,
        max_results=10,
        start_index=2,
        xgafv="2",
        dimension_name=["a", "b"],
        filter_by="camel",
        filter_by_="snake",
        body_="q",
        timeout_="t",
    )
    assert api.last.path == "/v1/accounts/acc-1/reports:generate"
    assert sorted(api.last.query) == sorted(
        [
            ("$.xgafv", "2"),
            ("body", "q"),
            ("dimension.name", "a"),
            ("dimension.name", "b"),
            ("endDate.day", "3"),
            ("endDate.month", "4"),
            ("filterBy", "camel"),
            ("filter_by", "snake"),
            ("max-results", "10"),
            ("start-index", "2"),
            ("timeout", "t"),
        ]
    )
    assert api.last.body == b""


@uses("keyword_method")
def test_keyword_method_names(api: Api) -> None:
    instances = api.client.instances
    assert not hasattr(instances, "import")
    instances.import_(name="instances/i", body={"source": "gs://b/o"})
    assert (api.last.method, api.last.path, api.last.json()) == (
        "POST",
        "/v1/instances/i:import",
        {"source": "gs://b/o"},
    )
    instances.del_(name="instances/i")
    assert (api.last.method, api.last.path) == ("DELETE", "/v1/instances/i")
    instances.global_()
    assert api.last.path == "/v1/instances:global"


@uses("keyword_parameter")
def test_keyword_parameter_names(api: Api) -> None:
    api.client.stats.get(name="stats/s", class_="c", from_="2020-01-01", continue_="tok", import_=True, lambda_=[1, 2])
    assert api.last.path == "/v1/stats/s/c"
    assert api.last.query == [  # query parameters go in wire-name order
        ("continue", "tok"),
        ("from", "2020-01-01"),
        ("import", "true"),
        ("lambda", "1"),
        ("lambda", "2"),
    ]


@uses("keyword_resource")
def test_keyword_resource_names(api: Api) -> None:
    api.client.global_.list()
    assert api.last.path == "/v1/global"
    api.client.projects.global_.get(name="projects/p")
    assert api.last.path == "/v1/projects/p/global"
    api.client.projects.global_.class_.get(name="projects/p/global/class/c")
    assert api.last.path == "/v1/projects/p/global/class/c"


@uses("method_resource_same_name")
def test_method_and_sub_resource_with_the_same_name(api: Api) -> None:
    engines = api.client.engines
    engines.responses(name="engines/e")  # the method keeps the name ...
    assert api.last.path == "/v1/engines/e/responses"
    engines.responses_.get(name="engines/e/responses/r")  # ... the sub-resource gets a trailing '_'
    assert api.last.path == "/v1/engines/e/responses/r"


@uses("schema_service")
def test_schema_names_keep_the_document_spelling(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    for name in ("Service", "TypedDict", "Any", "SchemanamesClient"):
        assert isinstance(getattr(schemas, name), type)
    assert schemas.str_.__name__ == "str_"  # would shadow the builtin its own module uses
    assert schemas.t.__name__ == "t"  # '_t' is not an identifier we may take
    hints = typing.get_type_hints(schemas.Service)
    assert hints["config"] is schemas.TypedDict and hints["name"] is str
    assert typing.get_type_hints(schemas.Any)["value"] is schemas.str_
    api.server.reply(Reply(body={"value": {"text": "hi"}}))
    assert api.client.services.create(body={"name": "n", "config": {"value": "v"}}) == {"value": {"text": "hi"}}
    assert api.last.json() == {"name": "n", "config": {"value": "v"}}


@uses("schema_case_collision")
def test_schema_names_that_differ_only_in_case(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    names = {"HTTPHealthCheck", "HttpHealthCheck", "HTTPSHealthCheck", "HttpsHealthCheck"}
    assert names <= set(vars(schemas))
    assert len({id(getattr(schemas, name)) for name in names}) == 4
    # Resources httpHealthChecks and HTTPHealthChecks both snake_case to http_health_checks.
    api.client.http_health_checks.get(check="c")
    first = api.last.path
    api.client.http_health_checks_.get(check="c")
    assert {first, api.last.path} == {"/v1/httpHealthChecks/c", "/v1/HTTPHealthChecks/c"}


@uses("property_names")
def test_properties_that_are_not_identifiers(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    keys = set(schemas.Query.__annotations__)
    assert {"end-date", "max-results", "not", "class", "@type", "$ref", "1st", "a.b", "x y", "normal"} <= keys
    body = {"end-date": "2024-01-01", "not": True, "class": "c", "@type": "t", "$ref": "r", "x y": "z"}
    api.server.reply(Reply(body=body))
    assert api.client.queries.run(body=body) == body
    assert api.last.json() == body
    assert set(schemas.Plain.__annotations__) == {"name", "import_"}


# --- values --------------------------------------------------------------------------------


@uses("int64_strings")
def test_int64_values_are_decimal_strings(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    hints = typing.get_type_hints(schemas.Counter)
    assert hints["value"] is str and hints["unsigned"] is str and hints["small"] is int
    assert shape(hints["list"]) == (list, str) and shape(hints["byKey"]) == (dict, str, str)
    big = "9007199254740993"  # 2**53 + 1: not exact as a float
    api.server.reply(Reply(body=f'{{"value": "{big}", "list": ["{big}"], "byKey": {{"a": "18446744073709551615"}}}}'))
    result = api.client.counters.get(
        counter_id=9007199254740993, min_value=-5, max_value="18446744073709551615", ids=[1, "2"], limit=3
    )
    assert result == {"value": big, "list": [big], "byKey": {"a": "18446744073709551615"}}
    assert api.last.path == "/v1/counters/9007199254740993"
    assert api.last.query == [
        ("ids", "1"),
        ("ids", "2"),
        ("limit", "3"),
        ("maxValue", "18446744073709551615"),
        ("minValue", "-5"),
    ]
    api.client.counters.update(counter_id="7", body={"value": big, "byKey": {"k": "1"}})
    assert api.last.json() == {"value": big, "byKey": {"k": "1"}}


@uses("any_and_maps")
def test_any_and_free_form_maps(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    hints = typing.get_type_hints(schemas.Holder)
    assert hints["value"] is typing.Any
    assert shape(hints["struct"]) == (dict, str, typing.Any) == shape(hints["free"])
    assert shape(hints["labels"]) == (dict, str, str) and shape(hints["things"]) == (dict, str, schemas.Holder)
    assert shape(hints["lists"]) == (dict, str, (list, str)) and shape(hints["anyList"]) == (list, typing.Any)
    body = {"value": [1, {"a": None}], "struct": {"x": 1.5, "y": [True]}, "things": {"k": {"labels": {"a": "b"}}}}
    api.server.reply(Reply(body=body))
    assert api.client.holders.put(id="h", body=body) == body
    assert api.last.json() == body


@uses("properties_and_additional")
def test_properties_together_with_additional_properties(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    assert set(schemas.Mixed.__annotations__) == {"kind", "count"}
    assert "additionalProperties" in (schemas.Mixed.__doc__ or "")
    assert "MixedObjectsValue" in vars(schemas)  # the anonymous object of the extra values
    body = {"kind": "k", "count": 2, "extra": "allowed at run time"}
    api.client.mixed.post(body=body)
    assert api.last.json() == body


@uses("anonymous_nested")
def test_anonymous_nested_objects(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    for name in (
        "OrderLinesItem",
        "OrderLinesItemTagsItem",
        "OrderByWarehouseValue",
        "OrderByWarehouseValueWhere",
        "OrderShipping",
        "OrderShippingWindow",
        "OrderMatrixItemItem",
    ):
        assert name in vars(schemas), name
    hints = typing.get_type_hints(schemas.Order)
    assert shape(hints["lines"]) == (list, schemas.OrderLinesItem)
    assert shape(hints["byWarehouse"]) == (dict, str, schemas.OrderByWarehouseValue)
    assert shape(hints["matrix"]) == (list, (list, schemas.OrderMatrixItemItem))
    body = {
        "lines": [{"sku": "s", "qty": 1, "tags": [{"k": "v"}]}],
        "shipping": {"window": {"from": "2024-01-01T00:00:00Z"}},
    }
    api.client.orders.create(body=body)
    assert api.last.json() == body


@uses("repeated_enum_query")
def test_repeated_enum_query_parameters(api: Api) -> None:
    method = api.client.things.list
    annotation = inspect.signature(method).parameters["states"].annotation
    literal = "_t.Literal['STATE_UNSPECIFIED', 'ACTIVE', 'DELETED']"
    assert annotation == f"_t.Union[{literal}, _t.Sequence[{literal}]] | None"
    method(states=["ACTIVE", "DELETED"], view="FULL", tags=("a", "b"), flags=[True, False], sizes=[1, 2])
    assert api.last.query == [
        ("flags", "true"),
        ("flags", "false"),
        ("sizes", "1"),
        ("sizes", "2"),
        ("states", "ACTIVE"),
        ("states", "DELETED"),
        ("tags", "a"),
        ("tags", "b"),
        ("view", "FULL"),
    ]
    # One value where a sequence is taken (as googleapiclient takes it), and any sequence but text.
    method(states="ACTIVE", flags=True, sizes=range(3, 5), tags="one")
    assert api.last.query == [
        ("flags", "true"),
        ("sizes", "3"),
        ("sizes", "4"),
        ("states", "ACTIVE"),
        ("tags", "one"),
    ]
    with pytest.raises(ValueError, match=r"states='bogus' is not one of"):
        method(states=collections.deque(["ACTIVE", "bogus"]))


@uses("non_object_schema")
def test_non_object_top_level_schemas(api: Api) -> None:
    schemas = api.schemas
    assert schemas is not None
    # A type alias: a string for type checkers, bound to its module at run time (get_type_hints resolves it).
    assert schemas.JsonValue == typing.ForwardRef("_t.Any", module=schemas.__name__)
    hints = typing.get_type_hints(schemas.Wrapper)
    assert hints["value"] is typing.Any and hints["name"] is str
    assert hints["level"] == typing.Literal["LOW", "HIGH"]
    assert shape(hints["detections"]) == (list, (list, schemas.DetectionsItemItem))
    api.server.reply(Reply(body=b"42"), Reply(body=[[{"language": "en", "confidence": 0.5}]]))
    assert api.client.values.put(body={"name": "n"}) == 42
    assert api.client.values.detect(body={}) == [[{"language": "en", "confidence": 0.5}]]


@uses("no_request_no_response")
def test_methods_without_request_or_response(api: Api) -> None:
    things = api.client.things
    assert inspect.signature(things.delete).return_annotation in (None, "None")
    assert "body" not in inspect.signature(things.touch).parameters
    api.server.reply(Reply(body=b""))
    assert things.delete(id="t") is None
    assert (api.last.method, api.last.path, api.last.body) == ("DELETE", "/v1/things/t", b"")
    assert "content-type" not in api.last.headers
    api.server.reply(Reply(body={"name": "t"}))
    assert things.touch(id="t") == {"name": "t"}
    assert (api.last.method, api.last.body) == ("POST", b"")
    assert things.ping() is None
    assert things.put(id="t", body={"name": "t"}) is None
    assert api.last.json() == {"name": "t"}


@uses("top_level_methods")
def test_top_level_methods(api: Api) -> None:
    client = api.client
    api.server.reply(Reply(body={"audience": "a", "expires_in": 3599}))
    assert client.tokeninfo(access_token="tok") == {"audience": "a", "expires_in": 3599}
    assert (api.last.method, api.last.target) == ("POST", "/oauth2/v2/tokeninfo?access_token=tok")
    client.userinfo.get()
    assert api.last.path == "/oauth2/v2/userinfo"
    # Methods named like the client's own attributes get a trailing '_'.
    client.close_()
    assert api.last.path == "/oauth2/v2/close"
    client.operation_()
    assert api.last.path == "/oauth2/v2/operation"
    assert inspect.ismethod(client.close) and "close_" not in vars(type(client).__mro__[1])


@uses("missing_parameter_order")
def test_missing_parameter_order(api: Api) -> None:
    method = api.client.things.get
    parameters = inspect.signature(method).parameters
    required = [name for name, p in parameters.items() if p.default is inspect.Parameter.empty and name != "self"]
    assert required == ["id", "mode", "zone"]  # no parameterOrder: required ones sorted by wire name
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    method(zone="z", id="i", mode="m", verbose=True)
    assert api.last.target == "/v1/z/things/i?mode=m&verbose=true"
    with pytest.raises(TypeError):
        method(zone="z", id="i")


@pytest.mark.parametrize(
    ("api", "package", "client_class", "base"),
    [
        ("version_dotted", "dottedversion_v1_2", "DottedversionClient", "dottedversion/v1.2/"),
        ("version_directory", "edgeadmin_directory_v1", "EdgeadminClient", "edgeadmin/directory_v1/"),
        ("version_alpha", "alphaversion_alpha", "AlphaversionClient", "alphaversion/alpha/"),
    ],
    indirect=["api"],
)
def test_versions_become_package_names(api: Api, package: str, client_class: str, base: str) -> None:
    assert api.package.__name__ == package
    assert type(api.client).__name__ == client_class
    assert api.client.base_url == api.server.url + base
    api.client.things.get(id="i")
    assert api.last.path == f"/{base}things/i"


@uses("http_body")
def test_http_body(api: Api) -> None:
    payload = base64.b64encode(b'{"resourceType": "Patient"}').decode()
    body = {"contentType": "application/fhir+json", "data": payload, "extensions": [{"@type": "x"}]}
    api.server.reply(Reply(body=body))
    assert api.client.projects.fhir(parent="projects/p", body=body) == body
    assert api.last.json() == body and api.last.path == "/v1/projects/p/fhir"


@uses("data_wrapper")
def test_data_wrapper(api: Api) -> None:
    translations = api.client.translations
    api.server.reply(Reply(body={"data": {"translations": [{"translatedText": "Hallo"}]}}))
    result = translations.translate(body={"q": ["Hello"], "target": "de"})
    assert result == {"translations": [{"translatedText": "Hallo"}]}  # unwrapped
    assert api.last.json() == {"data": {"q": ["Hello"], "target": "de"}}  # wrapped
    assert api.last.path == "/language/translate/v2"
    translations.list(q=["a", "b"], target="de")
    assert api.last.query == [("q", "a"), ("q", "b"), ("target", "de")]


@uses("api_version")
def test_method_level_api_version_header(api: Api) -> None:
    api.client.things.get(id="i")
    assert api.last.headers["x-goog-api-version"] == "v1_20240101"
    api.client.things.plain()
    assert "x-goog-api-version" not in api.last.headers


@uses("deprecated")
def test_deprecated_methods_warn_and_say_so(api: Api) -> None:
    things = api.client.things
    assert "deprecated" in (things.old.__doc__ or "").lower()
    with pytest.warns(DeprecationWarning, match="deprecations.things.old") as caught:
        things.old(id="i")
    assert caught[0].filename == __file__  # it points at the caller's line
    assert api.last.path == "/v1/things/i:old"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        things.get(id="i", legacy_view=True)  # a deprecated parameter is documented, not warned
    assert "Deprecated." in (things.get.__doc__ or "")
    # Everything in a deprecated resource is deprecated.
    assert "deprecated" in (type(api.client.legacy).__doc__ or "").lower()
    with pytest.warns(DeprecationWarning):
        api.client.legacy.list()
    source = Path(api.schemas.__file__).read_text(encoding="utf-8") if api.schemas else ""
    assert "# Deprecated. Use name." in source


@uses("inline_request_response")
def test_inline_request_and_response_schemas(api: Api) -> None:
    events = api.client.events
    signature = inspect.signature(events.send)
    assert signature.parameters["body"].annotation == "_t.Dict[str, _t.Any]"
    assert signature.return_annotation == "_t.Dict[str, _t.Any]"
    api.server.reply(Reply(body={"ok": [1]}))
    assert events.send(body={"any": {"thing": 1}}) == {"ok": [1]}
    assert api.last.json() == {"any": {"thing": 1}}
    schemas = api.schemas
    assert schemas is not None and {"EventsShapedRequest", "EventsShapedResponse"} <= set(vars(schemas))
    events.shaped(body={"kind": "k"})
    assert api.last.path == "/v1/events:shaped"


# --- the split layout of big APIs ------------------------------------------------------------


def test_split_layout_on_small_budgets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny budgets every resource gets its own module and every schema its own chunk:
    the layout big APIs use, checked here on small documents."""
    monkeypatch.setattr(ir, "MODULE_METHOD_BUDGET", 1)
    monkeypatch.setattr(ir, "SCHEMA_CHUNK_CHARS", 1)
    names = ("keyword_resource", "schema_case_collision")
    outputs = [gp.generate_path(gp.fixture_path(name), tmp_path) for name in names]
    resource_output, case_output = outputs
    assert "schemas.py" not in case_output.modules and "schemas/__init__.py" in case_output.modules
    chunks = [name for name in case_output.modules if name.startswith("schemas/_") and "__init__" not in name]
    assert len(chunks) == 4
    modules = sorted(name for name in resource_output.modules if name.startswith("resources/"))
    assert modules == [
        "resources/__init__.py",
        "resources/global_.py",
        "resources/projects.py",
        "resources/projects_global.py",
        "resources/projects_global_class.py",
    ]
    for output in outputs:  # no two files differ only in case (case-insensitive file systems)
        assert len({name.lower() for name in output.files}) == len(output.files)

    package = gp.load(tmp_path, resource_output.package)
    try:
        loaded = {name for name in sys.modules if name.startswith(package.__name__ + ".resources.")}
        assert loaded == set()
        with LoopbackServer() as server:
            client = package.KeywordresourceClient(credentials=AnonymousCredentials(), endpoint=server.url)
            projects = client.projects
            assert f"{package.__name__}.resources.projects_global" not in sys.modules
            projects.global_.class_.get(name="projects/p/global/class/c")
            assert f"{package.__name__}.resources.projects_global_class" in sys.modules
            assert projects.global_ is projects.global_  # built once
            assert server.last.path == "/v1/projects/p/global/class/c"
            client.close()
    finally:
        gp.forget(resource_output.package)

    schemas_package = gp.load(tmp_path, case_output.package)
    try:
        from importlib import import_module

        schemas = import_module(case_output.package + ".schemas")
        assert {"HTTPHealthCheck", "HttpHealthCheck", "HTTPSHealthCheck", "HttpsHealthCheck"} <= set(vars(schemas))
        assert schemas_package.__name__ == case_output.package
    finally:
        gp.forget(case_output.package)


def test_fixture_documents_are_sorted_json(tmp_path: Path) -> None:
    """The fixtures stay readable: valid JSON, 2-space indented, keys sorted."""
    for path in gp.FIXTURES.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", path.name


# --- method shapes from documents other than the bundled ones -------------------------------


@uses("method_shapes")
def test_get_and_delete_with_a_declared_request_take_and_send_no_body(api: Api) -> None:
    for method in (api.client.things.get, api.client.things.delete):
        assert "body" not in inspect.signature(method).parameters
    api.client.things.get(id="a")
    assert api.last.method == "GET" and api.last.body == b"" and "content-type" not in api.last.headers
    api.client.things.delete(id="a")
    assert api.last.method == "DELETE" and api.last.body == b""


@uses("method_shapes")
def test_parameters_without_type_or_location(api: Api) -> None:
    keywords = inspect.signature(api.client.things.rows).parameters
    assert keywords["selector"].annotation in ("str | None", str | None)  # no type: a string
    assert "hint" not in keywords  # no location: left out (with a warning when generated)
    from codegen import discovery

    document = discovery.load_path(gp.fixture_path("method_shapes"))
    assert document.warnings == (
        f"{gp.fixture_path('method_shapes')}: $.resources.things.methods.rows.parameters.hint: "
        "parameter has no 'location'; left out of the method",
    )


@uses("method_shapes")
def test_paging_follows_a_response_token_named_page_token(api: Api) -> None:
    pages = iter(
        [
            Reply(body={"rows": [{"id": "1"}], "pageToken": "p2", "totalRows": "3"}),
            Reply(body={"rows": [{"id": "2"}, {"id": "3"}], "totalRows": "3"}),
        ]
    )
    api.server.handler = lambda request: next(pages)
    rows = list(api.client.things.rows_all(id="t", max_results=1, fields="rows,pageToken"))
    assert rows == [{"id": "1"}, {"id": "2"}, {"id": "3"}]
    first, second = api.server.requests[-2:]
    assert ("pageToken", "p2") not in first.query and ("pageToken", "p2") in second.query
    assert ("fields", "rows,pageToken") in second.query and ("maxResults", "1") in second.query


@uses("no_root_url")
def test_a_document_without_root_url_generates_and_its_client_requires_an_endpoint(api: Api) -> None:
    client_class = type(api.client)
    with pytest.raises(ValueError, match="names no rootUrl: pass endpoint="):
        client_class(credentials=AnonymousCredentials())
    api.client.things.get(id="a")
    assert api.last.path == "/noroot/v1/things/a"


@uses("old_style_base_path")
def test_old_style_base_path_and_missing_version_get_defaults(api: Api) -> None:
    assert api.package.__name__ == "oldstyle_v2"
    client_class = type(api.client)
    assert client_class._ROOT_URL == "https://oldstyle.googleapis.com/"
    assert client_class._SERVICE_PATH == "oldstyle/v2/"
    api.client.things.get(id="a")
    assert api.last.path == "/oldstyle/v2/things/a"


@uses("method_shapes")
def test_a_method_parameter_named_like_a_standard_one_wins(api: Api) -> None:
    keywords = inspect.signature(api.client.things.lookup).parameters
    assert keywords["key"].kind is inspect.Parameter.KEYWORD_ONLY and "key_" not in keywords
    assert "fields_" not in keywords and "quota_user" in keywords  # the method's own 'fields' (repeated)
    api.client.things.lookup(key="k1", fields=["a", "b"], quota_user="q")
    assert api.last.path == "/v1/lookup/k1"
    assert api.last.query == [("fields", "a"), ("fields", "b"), ("quotaUser", "q")]


def test_generate_prints_the_loaders_warnings(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", str(gp.fixture_path("method_shapes")), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"codegen: warning: {gp.fixture_path('method_shapes')}: $.resources.things.methods.rows.parameters.hint: "
        "parameter has no 'location'; left out of the method"
    ]

"""Paging: which methods get ``_pages``/``_all`` (the IR rule) and how iteration behaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gapi_runtime import PagingError, RetryPolicy
from gapi_runtime.paging import iterate
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from codegen import discovery, ir
from tests.support.fake_looker import FakeLooker, error_reply
from tests.support.loopback import Reply

P = "projects/p1/locations/us-central1"


@pytest.fixture
def fake() -> Iterator[FakeLooker]:
    with FakeLooker(default_page_size=2) as running:
        for n in range(5):
            name = f"{P}/instances/i{n}"
            running.instances[name] = {"name": name, "state": "ACTIVE"}
        yield running


@pytest.fixture
def client(fake: FakeLooker) -> Iterator[LookerClient]:
    c = LookerClient(
        credentials=AnonymousCredentials(), endpoint=fake.url, retry=RetryPolicy(initial=0.01, maximum=0.01)
    )
    yield c
    c.close()


def test_pages_follow_next_page_token(fake: FakeLooker, client: LookerClient) -> None:
    pages = list(client.projects.locations.instances.list_pages(parent=P))
    assert [[i["name"][-2:] for i in page.get("instances", [])] for page in pages] == [
        ["i0", "i1"],
        ["i2", "i3"],
        ["i4"],
    ]
    assert "nextPageToken" not in pages[-1]
    tokens = [dict(r.query).get("pageToken") for r in fake.api_requests("GET")]
    assert tokens[0] is None and tokens[1] == pages[0]["nextPageToken"] and tokens[2] == pages[1]["nextPageToken"]


def test_all_yields_items_across_pages_and_passes_every_argument(fake: FakeLooker, client: LookerClient) -> None:
    names = [i["name"] for i in client.projects.locations.instances.list_all(parent=P, page_size=3, show_deleted=True)]
    assert names == [f"{P}/instances/i{n}" for n in range(5)]
    queries = [r.query for r in fake.api_requests("GET")]
    assert len(queries) == 2
    for query in queries:
        assert ("pageSize", "3") in query and ("showDeleted", "true") in query


def test_iteration_is_lazy_and_arguments_are_checked_at_once(fake: FakeLooker, client: LookerClient) -> None:
    pages = client.projects.locations.instances.list_pages(parent=P)
    assert fake.requests == []
    assert next(pages)["instances"][0]["name"].endswith("i0")
    assert len(fake.requests) == 1
    with pytest.raises(ValueError, match="does not match the pattern"):
        client.projects.locations.instances.list_all(parent="not/a/parent")


def test_start_from_a_page_token(fake: FakeLooker, client: LookerClient) -> None:
    first = client.projects.locations.instances.list(parent=P)
    rest = list(client.projects.locations.instances.list_all(parent=P, page_token=first["nextPageToken"]))
    assert [i["name"][-2:] for i in rest] == ["i2", "i3", "i4"]


def test_repeated_token_raises_instead_of_looping(fake: FakeLooker, client: LookerClient) -> None:
    fake.repeat_page_token = True
    pages = client.projects.locations.instances.list_pages(parent=P)
    next(pages)
    next(pages)
    with pytest.raises(PagingError, match="a second time"):
        next(pages)
    assert len(fake.requests) == 2


def test_token_equal_to_the_starting_token_is_a_repeat() -> None:
    calls: list[Any] = []

    def fetch(values: Any, body: object) -> dict[str, Any]:
        calls.append(values)
        return {"items": [1], "nextPageToken": "start"}

    pages = iterate(fetch, "api.list", ("pageSize", "pageToken"), (10, "start"))
    next(pages)
    with pytest.raises(PagingError):
        next(pages)
    assert calls == [(10, "start")]


@pytest.mark.parametrize("last", [{"items": []}, {"items": [], "nextPageToken": ""}, {"nextPageToken": None}])
def test_missing_or_empty_token_stops(last: dict[str, Any]) -> None:
    replies = iter([{"items": [1, 2], "nextPageToken": "t1"}, last])
    pages = list(iterate(lambda values, body: next(replies), "api.list", ("pageToken",), (None,)))
    assert len(pages) == 2


def test_non_string_token_is_an_error() -> None:
    with pytest.raises(PagingError, match="not a string"):
        list(iterate(lambda values, body: {"nextPageToken": 7}, "api.list", ("pageToken",), (None,)))


def test_transient_failure_mid_iteration_is_retried(fake: FakeLooker, client: LookerClient) -> None:
    pages = client.projects.locations.instances.list_pages(parent=P)
    next(pages)
    fake.inject(error_reply(503, "busy"), Reply(fault="reset"), method="GET")
    assert len(list(pages)) == 2


def test_operations_and_locations_and_backups_page(fake: FakeLooker, client: LookerClient) -> None:
    for n in range(3):
        client.projects.locations.instances.restart(name=f"{P}/instances/i{n}", body={})
    ops = list(client.projects.locations.operations.list_all(name=P, page_size=1))
    assert len(ops) == 3 and all(op["name"].startswith(P + "/operations/") for op in ops)
    locations = list(client.projects.locations.list_all(name="projects/p1", page_size=1))
    assert [loc["locationId"] for loc in locations] == ["europe-west1", "us-central1"]
    assert list(client.projects.locations.instances.backups.list_all(parent=f"{P}/instances/i0")) == []


# --- the IR rule -------------------------------------------------------------------------


def _document(methods: dict[str, Any], schemas: dict[str, Any]) -> discovery.Document:
    doc = {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "pager:v1",
        "name": "pager",
        "version": "v1",
        "revision": "1",
        "title": "Pager",
        "rootUrl": "https://pager.googleapis.com/",
        "servicePath": "",
        "baseUrl": "https://pager.googleapis.com/",
        "batchPath": "batch",
        "protocol": "rest",
        "schemas": schemas,
        "resources": {"things": {"methods": methods}},
    }
    return discovery.load_bytes(json.dumps(doc).encode(), "pager.json")


def _list_method(response: str, token: bool = True, extra: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {"pageSize": {"type": "integer", "location": "query"}}
    if token:
        params["pageToken"] = {"type": "string", "location": "query"}
    return {
        "id": f"pager.things.{extra or 'list'}",
        "path": "v1/things",
        "httpMethod": "GET",
        "parameters": params,
        "response": {"$ref": response},
    }


def _methods(client: ir.ClientIR) -> dict[str, ir.MethodIR]:
    return {m.name: m for m in client.modules[0].root.methods}


def test_ir_pages_methods_with_page_token_and_next_page_token() -> None:
    schemas = {
        "One": {
            "id": "One",
            "type": "object",
            "properties": {
                "nextPageToken": {"type": "string"},
                "things": {"type": "array", "items": {"$ref": "Thing"}},
                "unreachable": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Two": {
            "id": "Two",
            "type": "object",
            "properties": {
                "nextPageToken": {"type": "string"},
                "a": {"type": "array", "items": {"type": "string"}},
                "b": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "Anon": {
            "id": "Anon",
            "type": "object",
            "properties": {
                "nextPageToken": {"type": "string"},
                "rows": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
            },
        },
        "NoNext": {
            "id": "NoNext",
            "type": "object",
            "properties": {"things": {"type": "array", "items": {"$ref": "Thing"}}},
        },
        "Thing": {"id": "Thing", "type": "object", "properties": {"name": {"type": "string"}}},
    }
    methods = {
        "list": _list_method("One"),
        "listTwo": _list_method("Two", extra="listTwo"),
        "listAnon": _list_method("Anon", extra="listAnon"),
        "listNoNext": _list_method("NoNext", extra="listNoNext"),
        "listNoToken": _list_method("One", token=False, extra="listNoToken"),
        "list_pages": _list_method("NoNext", token=False, extra="list_pages"),
    }
    lowered = ir.lower(_document(methods, schemas))
    by_name = _methods(lowered)
    one = by_name["list"]
    # ``list_pages`` is taken by a real method, so the companion gets the next free name.
    assert (one.pages_name, one.all_name, one.items_field, str(one.item_type)) == (
        "list_pages_",
        "list_all",
        "things",
        "_s.Thing",
    )
    two = by_name["list_two"]
    assert (two.pages_name, two.all_name) == ("list_two_pages", "")
    anon = by_name["list_anon"]
    assert anon.all_name == "list_anon_all"
    anon_classes = [s.name for s in lowered.schemas if s.name.startswith("Anon")]
    assert anon.item_type == ir.TypeRef(anon_classes[-1], "schema") and len(anon_classes) == 2  # reused, not duplicated
    assert by_name["list_no_next"].pages_name == "" and by_name["list_no_token"].pages_name == ""
    assert by_name["list_pages"].pages_name == ""


def test_every_looker_list_method_pages() -> None:
    from codegen import bundled

    lowered = ir.lower(discovery.load_path(bundled.find("looker", "v1").path))
    paged = {m.id: (m.pages_name, m.all_name, m.items_field) for m in lowered.all_methods if m.pages_name}
    assert paged == {
        "looker.projects.locations.list": ("list_pages", "list_all", "locations"),
        "looker.projects.locations.instances.list": ("list_pages", "list_all", "instances"),
        "looker.projects.locations.instances.backups.list": ("list_pages", "list_all", "instanceBackups"),
        "looker.projects.locations.operations.list": ("list_pages", "list_all", "operations"),
    }


def test_lists_that_report_partial_failure_are_not_the_items() -> None:
    """compute's ``unreachables`` (like AIP-217's ``unreachable``) names zones, not items.

    Its ``aggregatedList`` answers a map of scoped lists (``items``) next to that list: it pages
    but has no ``_all``; its plain lists have ``items`` and ``unreachables``: ``items`` is chosen.
    """
    from codegen import bundled

    client_ir = ir.lower(discovery.load_path(bundled.find("compute", "v1").path))
    by_id = {m.id: m for m in client_ir.all_methods}
    aggregated = by_id["compute.instances.aggregatedList"]
    assert (aggregated.pages_name, aggregated.all_name) == ("aggregated_list_pages", "")
    cross_site = by_id["compute.crossSiteNetworks.list"]
    assert (cross_site.all_name, cross_site.items_field) == ("list_all", "items")
    assert not any(m.items_field in ir.PARTIAL_FAILURE_LISTS for m in client_ir.all_methods)


def test_bigquery_methods_whose_response_token_is_page_token_page(tmp_path: Any) -> None:
    """bigquery tabledata.list and jobs.getQueryResults answer ``pageToken``, not ``nextPageToken``."""
    from codegen import bundled
    from tests.support import generated_packages as gp
    from tests.support.loopback import LoopbackServer

    client_ir = ir.lower(discovery.load_path(bundled.find("bigquery", "v2").path))
    by_id = {m.id: m for module in client_ir.modules for resource in module.root.walk() for m in resource.methods}
    tabledata, results = by_id["bigquery.tabledata.list"], by_id["bigquery.jobs.getQueryResults"]
    assert (tabledata.pages_name, tabledata.all_name, tabledata.items_field) == ("list_pages", "list_all", "rows")
    assert tabledata.next_token_field == "pageToken"
    assert results.pages_name == "get_query_results_pages" and results.next_token_field == "pageToken"
    assert results.all_name == ""  # two lists (rows, errors): no single items field, as the rule says
    assert by_id["bigquery.jobs.list"].next_token_field == ""  # nextPageToken: the default

    package = gp.load(tmp_path, gp.generate_bundled("bigquery", "v2", tmp_path).package)
    try:
        answers = iter(
            [
                Reply(body={"rows": [{"f": [{"v": "1"}]}], "pageToken": "t2", "totalRows": "2"}),
                Reply(body={"rows": [{"f": [{"v": "2"}]}], "totalRows": "2"}),
            ]
        )
        with LoopbackServer(lambda request: next(answers)) as server:
            client = package.BigqueryClient(credentials=AnonymousCredentials(), endpoint=server.url)
            rows = list(client.tabledata.list_all(project_id="p", dataset_id="d", table_id="t", max_results=1))
            assert rows == [{"f": [{"v": "1"}]}, {"f": [{"v": "2"}]}]
            assert [dict(r.query).get("pageToken") for r in server.requests] == [None, "t2"]
            client.close()
    finally:
        gp.forget(package.__name__)


SEARCH_SCHEMAS = {
    "SearchRequest": {
        "id": "SearchRequest",
        "type": "object",
        "properties": {
            "filter": {"type": "string"},
            "pageSize": {"type": "integer"},
            "pageToken": {"type": "string"},
        },
    },
    "SearchResponse": {
        "id": "SearchResponse",
        "type": "object",
        "properties": {
            "nextPageToken": {"type": "string"},
            "things": {"type": "array", "items": {"$ref": "Thing"}},
        },
    },
    "Thing": {"id": "Thing", "type": "object", "properties": {"name": {"type": "string"}}},
}
SEARCH = {
    "id": "pager.things.search",
    "path": "v1/things:search",
    "httpMethod": "POST",
    "parameters": {},
    "request": {"$ref": "SearchRequest"},
    "response": {"$ref": "SearchResponse"},
}


def test_a_search_whose_token_is_in_the_body_pages_like_googleapiclients_next(tmp_path: Any) -> None:
    """POSTed searches (aiplatform ``migratableResources.search`` …) take ``pageToken`` in the body:
    googleapiclient's ``search_next`` sets it there, and so do ``_pages``/``_all``."""
    import asyncio

    from tests.support import generated_packages as gp
    from tests.support.loopback import LoopbackServer

    search = _methods(ir.lower(_document({"search": SEARCH}, SEARCH_SCHEMAS)))["search"]
    assert (search.pages_name, search.all_name, search.items_field) == ("search_pages", "search_all", "things")
    assert "the body's ``pageToken``" in search.pages_doc
    get_only = _methods(ir.lower(_document({"search": {**SEARCH, "httpMethod": "GET"}}, SEARCH_SCHEMAS)))["search"]
    assert get_only.pages_name == ""  # a GET sends no body: nowhere to put the token

    document = json.loads(_document({"search": SEARCH}, SEARCH_SCHEMAS).raw)
    source = tmp_path / "pager.json"
    source.write_text(json.dumps(document))
    package = gp.load(tmp_path, gp.generate_path(source, tmp_path).package)

    def answer(request: Any) -> Reply:
        token = json.loads(request.body).get("pageToken", "")
        page = {"": ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", "")}[token]
        return Reply(body={"things": [{"name": page[0]}], "nextPageToken": page[1]})

    try:
        with LoopbackServer(answer) as server:
            body = {"filter": "x", "pageSize": 1}
            with package.PagerClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
                names = [thing["name"] for thing in client.things.search_all(body=body)]
            assert names == ["a", "b", "c"]
            assert body == {"filter": "x", "pageSize": 1}  # the caller's dict is not changed
            sent = [json.loads(request.body) for request in server.requests]
            assert sent == [body, {**body, "pageToken": "t1"}, {**body, "pageToken": "t2"}]

            async def async_names() -> list[str]:
                async with package.PagerAsyncClient(credentials=AnonymousCredentials(), endpoint=server.url) as aclient:
                    return [thing["name"] async for thing in aclient.things.search_all(body={"pageToken": "t1"})]

            assert asyncio.run(async_names()) == ["b", "c"]
    finally:
        gp.forget(package.__name__)

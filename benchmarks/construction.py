"""3. Request construction without I/O versus googleapiclient building an ``HttpRequest``.

googleapiclient's ``ops.cancel(name=...)`` builds a request (checks, URL, headers, JSON body)
and returns it unsent, to be executed or added to a batch later. Ours does the same when a
call is queued in a batch (``client.batch()``): the request is built and checked at once and
kept, unsent, with its handle. The complete call through an in-memory transport (building,
authorizing, "sending", decoding the answer) is measured too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import Any

from benchmarks.common import OPERATION, Config, Row, Section, cpu_per_call, interleaved, median, profile_text


class MemoryTransport:
    """A Transport that answers every request with ``200 {}`` without any I/O."""

    def __init__(self) -> None:
        from gapi_runtime import Response

        self._response = Response(200, {}, b"{}")

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Any:
        return self._response

    def close(self) -> None:
        pass


class MemoryHttp:
    """googleapiclient's equivalent: an ``http`` object that answers ``200 {}`` without I/O."""

    def __init__(self) -> None:
        import httplib2

        self._response = (httplib2.Response({"status": 200, "content-type": "application/json"}), b"{}")

    def request(self, *args: Any, **kwargs: Any) -> tuple[Any, bytes]:
        return self._response


def blocks() -> dict[str, Callable[[int], object]]:
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build
    from looker_v1 import LookerClient

    url = "http://127.0.0.1:9/"
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url, transport=MemoryTransport())
    service = build("looker", "v1", http=MemoryHttp(), client_options={"api_endpoint": url}, cache_discovery=False)
    operations = service.projects().locations().operations()

    def ours(n: int) -> None:
        for _ in repeat(None, n):
            client.projects.locations.operations.cancel(name=OPERATION, body={})

    def ours_queued(n: int) -> None:
        # Batches of 100 requests (the default max_batch_size), built and never sent.
        for _ in repeat(None, n // 100):
            operations = client.batch().projects.locations.operations
            for _ in repeat(None, 100):
                operations.cancel(name=OPERATION, body={})

    from looker_v1.resources.projects import _PROJECTS_LOCATIONS_OPERATIONS_CANCEL

    path_check = _PROJECTS_LOCATIONS_OPERATIONS_CANCEL.path_params[0].plain_match()

    def path_check_alone(n: int) -> None:
        # The part of building a request that no client can skip: the name against its pattern
        # (one regular-expression match; googleapiclient makes the same check).
        for _ in repeat(None, n):
            path_check(OPERATION)

    def build_cached(n: int) -> None:
        for _ in repeat(None, n):
            operations.cancel(name=OPERATION, body={})

    def build_queued(n: int) -> None:
        # googleapiclient's own queue: each built request added to a BatchHttpRequest of 100.
        for _ in repeat(None, n // 100):
            batch = service.new_batch_http_request()
            for _ in repeat(None, 100):
                batch.add(operations.cancel(name=OPERATION, body={}))

    def build_chained(n: int) -> None:
        for _ in repeat(None, n):
            service.projects().locations().operations().cancel(name=OPERATION, body={})

    def execute_cached(n: int) -> None:
        for _ in repeat(None, n):
            operations.cancel(name=OPERATION, body={}).execute()

    return {
        "ours": ours,
        "ours_queued": ours_queued,
        "path_check_alone": path_check_alone,
        "build_cached": build_cached,
        "build_queued": build_queued,
        "build_chained": build_chained,
        "execute_cached": execute_cached,
    }


def run(config: Config) -> Section:
    section = Section("3. Request construction without I/O (in-memory transport)")
    variants = blocks()
    block = max(1, config.construction_calls // config.construction_rounds)
    # The chained form is ~40× slower: give it fewer calls per block so the rounds stay short.
    sizes = {name: (max(1, block // 20) if name == "build_chained" else block) for name in variants}
    sizes["ours_queued"] = sizes["build_queued"] = max(100, block // 100 * 100)
    samples = interleaved(
        {name: functools.partial(cpu_per_call, fn, sizes[name]) for name, fn in variants.items()},
        rounds=config.construction_rounds,
    )
    us = {name: median(values) * 1e6 for name, values in samples.items()}
    section.rows += [
        Row(
            "construction",
            "building a request, queued unsent vs building the HttpRequest (cached)",
            "µs",
            us["ours_queued"],
            us["build_cached"],
            "`ops.cancel(...)` (not executed)",
            target=0.05,
        ),
        Row(
            "construction",
            "(reference) building a request, queued unsent vs googleapiclient's batch.add",
            "µs",
            us["ours_queued"],
            us["build_queued"],
            "`batch.add(ops.cancel(...))`",
        ),
        Row(
            "construction",
            "(reference) the path-pattern check alone vs building the HttpRequest (cached)",
            "µs",
            us["path_check_alone"],
            us["build_cached"],
            "`ops.cancel(...)` (not executed)",
        ),
        Row(
            "construction",
            "whole call, in-memory vs building the HttpRequest (cached)",
            "µs",
            us["ours"],
            us["build_cached"],
            "`ops.cancel(...)` (not executed)",
        ),
        Row(
            "construction",
            "whole call, in-memory vs build (chained)",
            "µs",
            us["ours"],
            us["build_chained"],
            "`svc.projects()…cancel(...)` (not executed)",
        ),
        Row(
            "construction",
            "whole call, in-memory vs execute on an in-memory http",
            "µs",
            us["ours"],
            us["execute_cached"],
            "`ops.cancel(...).execute()` with an in-memory `http`",
        ),
    ]
    section.notes.append(
        "Building a request: both sides get the same arguments, `cancel(name=..., body={})`. Ours queues "
        "`batch.projects.locations.operations.cancel(...)` in batches of 100 (a new `client.batch()` every 100 "
        "calls, never executed): the request's URL and JSON body are built and checked (the name against its "
        "pattern; an empty dict encodes to the same `{}` as no body, kept from the first call) and kept with a "
        "handle; its headers are the method's own, shared by every call (those all calls share go once on the "
        "batch POST), so none are built per request. googleapiclient's `ops.cancel(name=..., body={})` builds "
        "its `HttpRequest` with a headers dict, `?alt=json` and `json.dumps` of the body (the target's "
        "baseline); its own queue, "
        "`BatchHttpRequest.add` of each built request (100 per batch), is shown for reference, and so is "
        "the one step no client can skip: the name checked against its pattern (one regular-expression "
        "match, which googleapiclient makes too). "
        f"The whole call: URL, headers, body encoding, authorization, transport, decoding, through a "
        f'Transport that returns `Response(200, {{}}, b"{{}}")`; googleapiclient: building only, and separately '
        f"executing it on an in-memory `http`. {config.construction_calls} calls per variant in "
        f"{config.construction_rounds} interleaved blocks; median CPU per call."
    )
    if config.profile:
        for name, what in (("ours_queued", "a queued request's"), ("ours", "our in-memory call's")):
            profile = profile_text(variants[name], sizes[name])
            section.notes.append(f"Where {what} time goes (cProfile, own time):\n\n```\n{profile}\n```")
    return section

"""2. Client CPU per call over loopback keep-alive, against googleapiclient and the raw transport."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import Any

from benchmarks.common import (
    OPERATION,
    Config,
    Row,
    Section,
    cpu_per_call,
    interleaved,
    median,
    paired,
    profile_text,
)


def _captured_headers(url: str) -> dict[str, str]:
    """The headers our client sends for a cancel, captured through its Transport interface."""
    from gapi_runtime import Response
    from google.auth.credentials import AnonymousCredentials
    from looker_v1 import LookerClient

    seen: dict[str, str] = {}

    class Capture:
        def request(
            self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
        ) -> Response:
            seen.update(headers)
            return Response(200, {}, b"{}")

        def close(self) -> None:
            pass

    LookerClient(
        credentials=AnonymousCredentials(), endpoint=url, transport=Capture()
    ).projects.locations.operations.cancel(name=OPERATION)
    return seen


def blocks(url: str) -> tuple[dict[str, Callable[[int], object]], Callable[[], None]]:
    """The measured variants (each runs ``n`` cancels) and a function that releases them."""
    import http.client
    from urllib.parse import urlsplit

    import httplib2
    import urllib3
    from gapi_runtime import PooledTransport, Urllib3Transport
    from gapi_runtime.redirects import RedirectingTransport
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build
    from looker_v1 import LookerClient

    client = LookerClient(credentials=AnonymousCredentials(), endpoint=url)
    on_urllib3 = LookerClient(credentials=AnonymousCredentials(), endpoint=url, transport=Urllib3Transport())
    service = build(
        "looker", "v1", credentials=AnonymousCredentials(), client_options={"api_endpoint": url}, cache_discovery=False
    )
    operations = service.projects().locations().operations()
    headers = _captured_headers(url)
    pool = urllib3.PoolManager(num_pools=8, maxsize=16, retries=False, cert_reqs="CERT_REQUIRED")
    timeout = urllib3.Timeout(total=60.0)
    cancel_url = f"{url}v1/{OPERATION}:cancel"

    def ours(n: int) -> None:
        for _ in repeat(None, n):
            client.projects.locations.operations.cancel(name=OPERATION, body={})

    def ours_urllib3(n: int) -> None:
        for _ in repeat(None, n):
            on_urllib3.projects.locations.operations.cancel(name=OPERATION, body={})

    def theirs_cached(n: int) -> None:
        for _ in repeat(None, n):
            operations.cancel(name=OPERATION, body={}).execute()

    def theirs_chained(n: int) -> None:
        for _ in repeat(None, n):
            service.projects().locations().operations().cancel(name=OPERATION, body={}).execute()

    def floor(n: int) -> None:
        for _ in repeat(None, n):
            response = pool.urlopen(
                "POST", cancel_url, body=b"{}", headers=headers, timeout=timeout, retries=False, redirect=False
            )
            response.data  # noqa: B018 - reads the body, as the client does

    plain_http = httplib2.Http()
    origin = urlsplit(url)
    connection = http.client.HTTPConnection(origin.hostname or "127.0.0.1", origin.port)
    target = f"/v1/{OPERATION}:cancel"

    def httplib2_floor(n: int) -> None:
        for _ in repeat(None, n):
            plain_http.request(cancel_url, "POST", body=b"{}", headers=headers)

    def http_client_floor(n: int) -> None:
        for _ in repeat(None, n):
            connection.request("POST", target, body=b"{}", headers=headers)
            connection.getresponse().read()

    # The transport the client uses, alone: the floor of the client's per-call cost. The client
    # sends through the pooled transport wrapped in its redirect-following layer (as httplib2's
    # Http follows redirects itself); the floor sends through that very object, so both use the
    # same pool and the same kept-alive connection.
    transport = client._api.transport
    assert type(transport) is RedirectingTransport and type(transport.inner) is PooledTransport
    default_timeout = client._api._timeout  # the deadline the client gives each request

    def transport_floor(n: int) -> None:
        for _ in repeat(None, n):
            transport.request("POST", cancel_url, headers, b"{}", default_timeout)

    def close() -> None:
        client.close()  # and the transport the floor shares with it
        on_urllib3.close()
        pool.clear()
        connection.close()
        for each in plain_http.connections.values():
            each.close()
        http: Any = service._http
        for kept in getattr(getattr(http, "http", http), "connections", {}).values():
            kept.close()

    variants: dict[str, Callable[[int], object]] = {
        "ours": ours,
        "ours_urllib3": ours_urllib3,
        "cached": theirs_cached,
        "chained": theirs_chained,
        "floor": floor,
        "httplib2": httplib2_floor,
        "http.client": http_client_floor,
        "transport": transport_floor,
    }
    return variants, close


def run(config: Config, url: str) -> Section:
    section = Section("2. Client CPU per call over loopback keep-alive (POST …:cancel, `{}` → `{}`)")
    variants, close = blocks(url)
    block = max(1, config.calls // config.call_rounds)
    try:
        samples = interleaved(
            {name: functools.partial(cpu_per_call, fn, block) for name, fn in variants.items()},
            rounds=config.call_rounds,
        )
        ms = {name: median(values) * 1e3 for name, values in samples.items()}
        # Client and floor differ by a few per cent: measured again in adjacent pairs of blocks.
        against_floor = paired(
            functools.partial(cpu_per_call, variants["ours"], max(1, block // 2)),
            functools.partial(cpu_per_call, variants["transport"], max(1, block // 2)),
            rounds=4 * config.call_rounds,
        )
        profile = profile_text(variants["ours"], block) if config.profile else ""
    finally:
        close()
    rows = [
        Row(
            "per call",
            "CPU/call vs googleapiclient, cached resource",
            "ms",
            ms["ours"],
            ms["cached"],
            "`ops.cancel(...).execute()`",
            target=0.9,
        ),
        Row(
            "per call",
            "CPU/call vs googleapiclient, chained form",
            "ms",
            ms["ours"],
            ms["chained"],
            "`svc.projects().locations().operations().cancel(...).execute()`",
            target=0.3,
        ),
        Row(
            "per call",
            "CPU/call vs its transport alone (floor)",
            "ms",
            against_floor.a * 1e3,
            against_floor.b * 1e3,
            "the transport the client uses, alone (the client's own `RedirectingTransport(PooledTransport())` "
            "object, its `request`): the same request, headers and deadline on the same kept-alive "
            "connection, the answer read; measured in adjacent pairs of blocks, the ratio is the median of "
            "the pairs' ratios; the target is the floor + 0.1×",
            target=1.1,
            floor=1.0,
            measured_ratio=against_floor.ratio,
        ),
        Row(
            "per call",
            "(reference) CPU/call vs its transport alone, from the rotation",
            "ms",
            ms["ours"],
            ms["transport"],
            "the same two variants, each the median of its blocks in the rotation of all variants (blocks "
            "up to seven others apart)",
        ),
        Row(
            "per call",
            "(reference) our client on Urllib3Transport vs googleapiclient cached",
            "ms",
            ms["ours_urllib3"],
            ms["cached"],
            "`ops.cancel(...).execute()`; ours: `transport=Urllib3Transport()`",
        ),
        Row(
            "per call",
            "(reference) urllib3 alone vs httplib2 alone",
            "ms",
            ms["floor"],
            ms["httplib2"],
            "httplib2 `Http.request` with the same headers and body (googleapiclient's transport); ours: urllib3 "
            "`PoolManager.urlopen`",
        ),
        Row(
            "per call",
            "(reference) our transport alone vs httplib2 alone",
            "ms",
            ms["transport"],
            ms["httplib2"],
            "httplib2 `Http.request`; ours here: the client's transport alone (its own HTTP/1.1 over pooled sockets)",
        ),
        Row(
            "per call",
            "(reference) http.client alone vs httplib2 alone",
            "ms",
            ms["http.client"],
            ms["httplib2"],
            "httplib2 `Http.request`; ours here: the standard library's `HTTPConnection`, one connection, no pool",
        ),
    ]
    section.rows += rows
    overhead = against_floor.a * 1e3 - against_floor.b * 1e3
    section.notes.append(
        f"Where the time goes: the transport. Our client's whole call costs {overhead * 1e3:+.0f} µs "
        f"({against_floor.ratio - 1:+.0%}) over its transport alone (`PooledTransport` behind the "
        "redirect-following layer: its own HTTP/1.1 over pooled sockets, with the deadline and the "
        "stale-connection check), for request "
        "encoding, auth headers, retry bookkeeping and JSON decoding; googleapiclient adds "
        f"{(ms['cached'] - ms['httplib2']) * 1e3:.0f} µs (cached) and {(ms['chained'] - ms['httplib2']) * 1e3:.0f} µs "
        f"(chained) to httplib2 alone. The transport alone costs {ms['transport'] / ms['httplib2']:.2f}× httplib2 "
        f"alone and {ms['transport'] / ms['http.client']:.2f}× the standard library's `http.client` alone; "
        f"urllib3 alone costs {ms['floor'] / ms['httplib2']:.2f}× httplib2 alone, which is why the default "
        f"transport is not urllib3: on `Urllib3Transport` the same client costs "
        f"{ms['ours_urllib3'] / ms['cached']:.2f}× googleapiclient cached."
    )
    spread = sorted(against_floor.ratios)
    section.notes.append(
        f"{config.calls} calls per variant in {config.call_rounds} interleaved blocks of {block} (after a warm-up "
        "block each); figure = median over blocks of the client process's CPU time (`time.process_time`) per "
        "call. The server runs in another process, so none of its CPU is counted. Against the floor, the "
        f"client and its transport ran again in {len(spread)} adjacent pairs of blocks of {max(1, block // 2)} "
        "calls (which one goes first alternates); the pairs' ratios ranged from "
        f"{spread[0]:.3f} to {spread[-1]:.3f} (quartiles {spread[len(spread) // 4]:.3f}, "
        f"{spread[(3 * len(spread)) // 4]:.3f})."
    )
    if profile:
        section.notes.append("Where our client's per-call CPU goes (cProfile, own time):\n\n```\n" + profile + "\n```")
    return section

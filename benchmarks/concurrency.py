"""6. Concurrency: many calls with many in flight, against googleapiclient with one http per thread.

Each variant is a function ``(url, total, in_flight) -> (wall seconds, CPU seconds)`` that makes
``total`` cancel calls with ``in_flight`` of them outstanding at any time. The sync variants use
threads; an async client slots in as one more variant (see :func:`ours_async`), picked up as
soon as the generated package exports ``LookerAsyncClient``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import OPERATION, Config, Row, Section, interleaved, median

Variant = Callable[[str, int, int], tuple[float, float]]


def _threads(work: Callable[[int], Callable[[], None]], total: int, in_flight: int) -> tuple[float, float]:
    """Run ``total`` calls on ``in_flight`` threads; ``work(per_thread)`` gives each thread's body.

    Thread set-up (``work(...)``) happens before the clock starts; the clock stops when the last
    thread is done.
    """
    per_thread = [total // in_flight + (1 if index < total % in_flight else 0) for index in range(in_flight)]
    barrier = threading.Barrier(in_flight + 1)
    errors: list[BaseException] = []

    def body(count: int) -> None:
        try:
            run = work(count)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
            return
        barrier.wait()
        try:
            run()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(count,)) for count in per_thread]
    for thread in threads:
        thread.start()
    barrier.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if errors:
        raise RuntimeError(f"{len(errors)} thread(s) failed; first: {errors[0]!r}") from errors[0]
    return wall, cpu


def ours_threads(pool_size: int | None) -> Variant:
    def variant(url: str, total: int, in_flight: int) -> tuple[float, float]:
        from gapi_runtime import PooledTransport
        from google.auth.credentials import AnonymousCredentials
        from looker_v1 import LookerClient

        transport = PooledTransport(pool_size=pool_size) if pool_size else None
        client = LookerClient(credentials=AnonymousCredentials(), endpoint=url, transport=transport)

        def work(count: int) -> Callable[[], None]:
            def run() -> None:
                for _ in range(count):
                    client.projects.locations.operations.cancel(name=OPERATION, body={})

            return run

        try:
            return _threads(work, total, in_flight)
        finally:
            client.close()

    return variant


def theirs_threads(url: str, total: int, in_flight: int) -> tuple[float, float]:
    """googleapiclient as its thread-safety guide says: a shared service, one http per thread."""
    import google_auth_httplib2
    import httplib2
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build

    credentials = AnonymousCredentials()
    service = build(
        "looker", "v1", credentials=credentials, client_options={"api_endpoint": url}, cache_discovery=False
    )
    https: list[Any] = []

    def work(count: int) -> Callable[[], None]:
        http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http())
        https.append(http)
        operations = service.projects().locations().operations()

        def run() -> None:
            for _ in range(count):
                operations.cancel(name=OPERATION, body={}).execute(http=http)

        return run

    try:
        return _threads(work, total, in_flight)
    finally:
        for http in https:
            for connection in http.http.connections.values():
                connection.close()


def ours_async() -> Variant | None:
    """The async client's variant, or None while the generated package has no async client.

    ``LookerAsyncClient(credentials=..., endpoint=...)`` is an async context manager whose
    methods are coroutines; one client (one connection pool) serves all concurrent calls.
    """
    try:
        from looker_v1 import LookerAsyncClient
    except ImportError:
        return None

    def variant(url: str, total: int, in_flight: int) -> tuple[float, float]:
        import asyncio

        from google.auth.credentials import AnonymousCredentials

        async def main() -> tuple[float, float]:
            async with LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=url) as client:
                cancel = client.projects.locations.operations.cancel

                async def worker(count: int) -> None:  # as the threads: in_flight workers, calls in turn
                    for _ in range(count):
                        await cancel(name=OPERATION, body={})

                shares = [total // in_flight + (1 if i < total % in_flight else 0) for i in range(in_flight)]
                wall, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(worker(share) for share in shares))
                return time.perf_counter() - wall, time.process_time() - cpu

        return asyncio.run(main())

    return variant


def run(config: Config, url: str) -> Section:
    total, in_flight = config.concurrent_calls, config.in_flight
    section = Section(f"6. Concurrency: {total:,} calls, {in_flight} in flight")
    variants: dict[str, Variant] = {
        "theirs": theirs_threads,
        "ours_default": ours_threads(None),
        "ours_pool": ours_threads(in_flight),
    }
    asynchronous = ours_async()
    if asynchronous is not None:
        variants["ours_async"] = asynchronous
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}

    def measure(name: str) -> Callable[[], float]:
        def once() -> float:
            figures[name].append(variants[name](url, total, in_flight))
            return figures[name][-1][0]

        return once

    interleaved({name: measure(name) for name in variants}, rounds=config.concurrency_rounds)
    wall = {name: median([w for w, _ in samples[1:]]) for name, samples in figures.items()}
    cpu = {name: median([c for _, c in samples[1:]]) for name, samples in figures.items()}
    baseline = f"googleapiclient, {in_flight} threads, one `http` each"
    section.rows += [
        Row(
            "concurrency",
            f"threads, shared client, pool_size={in_flight}: wall",
            "s",
            wall["ours_pool"],
            wall["theirs"],
            baseline,
        ),
        Row(
            "concurrency",
            f"threads, shared client, pool_size={in_flight}: CPU",
            "s",
            cpu["ours_pool"],
            cpu["theirs"],
            baseline,
        ),
        Row(
            "concurrency",
            "threads, shared client, default pool: wall",
            "s",
            wall["ours_default"],
            wall["theirs"],
            baseline,
        ),
        Row(
            "concurrency",
            "threads, shared client, default pool: CPU",
            "s",
            cpu["ours_default"],
            cpu["theirs"],
            baseline,
        ),
    ]
    if asynchronous is not None:
        section.rows += [
            Row("concurrency", "async client: wall", "s", wall["ours_async"], wall["theirs"], baseline),
            Row("concurrency", "async client: CPU", "s", cpu["ours_async"], cpu["theirs"], baseline),
            Row(
                "concurrency",
                "async client CPU vs the sync client's, same calls in flight",
                "s",
                cpu["ours_async"],
                cpu["ours_pool"],
                f"our sync client, {in_flight} threads, pool_size={in_flight}",
                target=1.0,
            ),
        ]
    else:
        section.rows.append(Row("concurrency", "async client", "s", None, note="not available yet"))
    section.notes.append(
        f"{config.concurrency_rounds} interleaved rounds after a warm-up round; medians. Threads are started and "
        "each thread's http/resource is set up before the clock starts; the async client runs as many worker "
        "tasks as threads, each making its share of the calls in turn. With the default pool size (32 idle "
        "connections kept), connections opened beyond it are closed when they come back. Wall time is bounded "
        "by the one-process loopback server sharing the 2 cores with the client; client CPU is the figure that "
        "compares the clients."
    )
    return section

"""7. The async client's transport: the default (asyncio) against aiohttp and httpx, measured the same way.

Client CPU per sequential cancel over loopback keep-alive (the server is the shared one, in its
own process), for the whole async client over each library and for each library alone, plus
the sync client for scale; and whole-process import times. The 1,000-calls/100-in-flight figure
of the async client against googleapiclient's 100 threads is in benchmark 6 (concurrency).

httpx is optional here: without it its rows say so.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from itertools import repeat
from typing import Any

from benchmarks.common import OPERATION, Config, Row, Section, cpu_per_call, interleaved, median, python_child


class HttpxTransport:
    """The async client's transport interface over ``httpx.AsyncClient`` (for this comparison only)."""

    def __init__(self) -> None:
        import httpx

        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=100), follow_redirects=False, trust_env=False
        )

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Any:
        from gapi_runtime import Response

        response = await self._client.request(method, url, headers=headers, content=body, timeout=timeout)
        return Response(response.status_code, response.headers, response.content)

    async def close(self) -> None:
        await self._client.aclose()


def _headers(url: str) -> dict[str, str]:
    from benchmarks.per_call import _captured_headers

    return _captured_headers(url)


def blocks(url: str, loop: asyncio.AbstractEventLoop) -> tuple[dict[str, Callable[[int], object]], Callable[[], None]]:
    """The measured variants (each runs ``n`` sequential cancels) and a function that releases them."""
    import aiohttp
    from google.auth.credentials import AnonymousCredentials
    from looker_v1 import LookerAsyncClient, LookerClient
    from yarl import URL

    credentials = AnonymousCredentials()
    cancel_url = f"{url}v1/{OPERATION}:cancel"
    headers = _headers(url)
    has_httpx = importlib.util.find_spec("httpx") is not None
    from gapi_runtime.aiohttp_transport import AiohttpTransport

    ours_default = LookerAsyncClient(credentials=credentials, endpoint=url)
    ours_aiohttp = LookerAsyncClient(credentials=credentials, endpoint=url, transport=AiohttpTransport())
    ours_httpx = (
        LookerAsyncClient(credentials=credentials, endpoint=url, transport=HttpxTransport()) if has_httpx else None
    )
    sync_client = LookerClient(credentials=credentials, endpoint=url)

    async def open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    session = loop.run_until_complete(open_session())
    raw_httpx: Any = None
    if has_httpx:
        import httpx

        raw_httpx = httpx.AsyncClient(trust_env=False)

    def run(coroutine: Callable[[int], Awaitable[None]]) -> Callable[[int], object]:
        return lambda n: loop.run_until_complete(coroutine(n))

    async def client_calls(client: Any, n: int) -> None:
        cancel = client.projects.locations.operations.cancel
        for _ in repeat(None, n):
            await cancel(name=OPERATION)

    async def aiohttp_alone(n: int) -> None:
        target = URL(cancel_url, encoded=True)
        for _ in repeat(None, n):
            async with session.post(target, data=b"{}", headers=headers) as response:
                await response.read()

    async def httpx_alone(n: int) -> None:
        for _ in repeat(None, n):
            (await raw_httpx.post(cancel_url, content=b"{}", headers=headers)).content  # noqa: B018

    def sync_calls(n: int) -> None:
        cancel = sync_client.projects.locations.operations.cancel
        for _ in repeat(None, n):
            cancel(name=OPERATION)

    variants: dict[str, Callable[[int], object]] = {
        "ours_default": run(lambda n: client_calls(ours_default, n)),
        "ours_aiohttp": run(lambda n: client_calls(ours_aiohttp, n)),
        "aiohttp_alone": run(aiohttp_alone),
        "sync": sync_calls,
    }
    if has_httpx:
        variants["ours_httpx"] = run(lambda n: client_calls(ours_httpx, n))
        variants["httpx_alone"] = run(httpx_alone)

    def release() -> None:
        async def close() -> None:
            await ours_default.close()
            await ours_aiohttp.close()
            if ours_httpx is not None:
                await ours_httpx.close()
            await session.close()
            if raw_httpx is not None:
                await raw_httpx.aclose()

        loop.run_until_complete(close())
        sync_client.close()

    return variants, release


IMPORTS = {
    "aiohttp": "import aiohttp",
    "httpx": "import httpx",
    "async_client": (
        "import sys\nfrom google.auth.credentials import AnonymousCredentials\n"
        "from looker_v1 import LookerAsyncClient\n"
        "LookerAsyncClient(credentials=AnonymousCredentials(), endpoint=sys.argv[1])"
    ),
    "sync_client": (
        "import sys\nfrom google.auth.credentials import AnonymousCredentials\n"
        "from looker_v1 import LookerClient\n"
        "LookerClient(credentials=AnonymousCredentials(), endpoint=sys.argv[1])"
    ),
}


def _version(package: str) -> str:
    try:
        return f"{package} {metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} (not installed)"


def run(config: Config, url: str) -> Section:
    section = Section("7. Async transport: the default (asyncio) vs aiohttp and httpx")
    calls = max(config.calls // 5, 20)
    loop = asyncio.new_event_loop()
    try:
        variants, release = blocks(url, loop)
        try:
            for block in variants.values():  # connections open, code warm
                block(20)
            samples = interleaved(
                {name: functools.partial(cpu_per_call, block, calls) for name, block in variants.items()},
                rounds=config.concurrency_rounds,
            )
        finally:
            release()
    finally:
        loop.close()
    cpu = {name: median(values) * 1e6 for name, values in samples.items()}

    has_httpx = "ours_httpx" in cpu
    imports = {name: code for name, code in IMPORTS.items() if has_httpx or name != "httpx"}
    walls: dict[str, list[float]] = {name: [] for name in imports}

    def child(name: str) -> Callable[[], float]:
        def once() -> float:
            walls[name].append(python_child(imports[name], url).wall)
            return walls[name][-1]

        return once

    interleaved({name: child(name) for name in imports}, rounds=config.cold_start_runs)
    wall = {name: median(values[1:] or values) for name, values in walls.items()}  # the warm-up run left out

    httpx_baseline = f"the same, over {_version('httpx')} AsyncClient"
    missing = "httpx not installed"
    section.rows += [
        Row("async_transport", "async client CPU/call, default transport vs aiohttp transport", "µs",
            cpu["ours_default"], cpu["ours_aiohttp"], f"the same, over {_version('aiohttp')} (AiohttpTransport)"),
        Row("async_transport", "async client CPU/call, aiohttp transport vs httpx transport", "µs",
            cpu["ours_aiohttp"], cpu.get("ours_httpx"), httpx_baseline, note="" if has_httpx else missing),
        Row("async_transport", "library alone CPU/call, aiohttp vs httpx", "µs",
            cpu["aiohttp_alone"], cpu.get("httpx_alone"), httpx_baseline, note="" if has_httpx else missing),
        Row("async_transport", "async client vs sync client CPU/call, one call at a time", "µs",
            cpu["ours_default"], cpu["sync"], "LookerClient (PooledTransport), same calls"),
        Row("async_transport", "import aiohttp vs import httpx (whole process)", "s",
            wall["aiohttp"], wall.get("httpx"), "python -c 'import httpx'", note="" if has_httpx else missing),
        Row("async_transport", "import + construct LookerAsyncClient vs LookerClient", "s",
            wall["async_client"], wall["sync_client"], "the sync client, same process shape", target=1.3),
    ]  # fmt: skip
    section.notes.append(
        f"{_version('aiohttp')}; {_version('httpx')}. Sequential cancels (POST `{{}}` → `{{}}`) over keep-alive, "
        f"{calls} per block, {config.concurrency_rounds} interleaved rounds after a warm-up, medians of client "
        "CPU (this process; the server runs in its own). The library-alone rows send the same headers and body "
        "with the library's own API. Import rows: whole `python -c` processes, medians. The default transport "
        "(`AsyncPooledTransport`, HTTP/1.1 on an asyncio.Protocol) imports no library; aiohttp was the default "
        "before it, chosen over httpx for its lower CPU per call. One call at a time, every call waits on the "
        "event loop once; benchmark 6 has the 100-in-flight figure."
    )
    return section

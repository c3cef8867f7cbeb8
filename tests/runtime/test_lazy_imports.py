"""Importing and constructing a generated client loads no more than it needs: the heavy modules
come with the first request or the first failure that needs them.

A fresh interpreter (the test process has imported everything already) imports and constructs
``LookerClient``, sends one successful call and one failing call to a loopback FakeLooker, and
reports which of the watched modules it has loaded after each step, beyond those importing
google-auth's credentials alone loaded (the floor every client pays for anyway).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.fake_looker import FakeLooker

I = "projects/p1/locations/us-central1/instances/i1"  # noqa: E741

#: Modules a client should not load before it needs them.
WATCHED = (
    "gapi_runtime.retry",  # the first failure
    "gapi_runtime.http11",  # the first request (request writer, response parser)
    "zlib",  # with http11
    "dataclasses",  # was the retry policy's
    "http.client",  # no HTTP library for the default transport
    "urllib3",
    "gapi_runtime.transport",
    "google.api_core",  # errors map to its exceptions at the first error
    "aiohttp",  # async code only
    "gapi_runtime.aio",
    "looker_v1._async_client",
    "looker_v1._batch",  # the first batch()
    "gapi_runtime.batch",
    "gapi_runtime.operations",  # the first operation()
    "encodings.idna",  # never for an ASCII host: getaddrinfo() gets it as bytes
)

SCRIPT = """
import json, sys
WATCHED = json.loads(sys.argv[2])
from google.auth.credentials import AnonymousCredentials
credentials = AnonymousCredentials()
floor = set(sys.modules)

def loaded():
    return sorted(name for name in WATCHED if any(
        module == name or module.startswith(name + ".") for module in set(sys.modules) - floor))

stages = {}
from looker_v1 import LookerClient
client = LookerClient(credentials=credentials, endpoint=sys.argv[1])
stages["construct"] = loaded()
client.projects.locations.instances.get(name=sys.argv[3])
stages["success"] = loaded()
try:
    client.projects.locations.instances.get(name=sys.argv[3] + "-missing")
except Exception as exc:
    stages["failure"] = loaded() + [type(exc).__name__]
print(json.dumps(stages))
"""


@pytest.fixture
def stages() -> Iterator[dict[str, list[str]]]:
    with FakeLooker() as fake:
        fake.instances[I] = {"name": I, "state": "ACTIVE"}
        # No proxy settings: NO_PROXY makes the client consult urllib.request (http.client).
        env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, fake.url, json.dumps(WATCHED), I],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        yield json.loads(result.stdout)


def test_import_and_construct_load_none_of_the_heavy_modules(stages: dict[str, list[str]]) -> None:
    assert stages["construct"] == []


def test_the_first_request_loads_the_http_parser_and_a_success_nothing_more(stages: dict[str, list[str]]) -> None:
    assert "gapi_runtime.http11" in stages["success"]
    assert "gapi_runtime.retry" not in stages["success"]
    assert "google.api_core" not in stages["success"]
    assert set(stages["success"]) <= {"gapi_runtime.http11", "zlib"}


def test_the_first_failure_loads_the_retry_rules_and_error_types(stages: dict[str, list[str]]) -> None:
    failure = stages["failure"]
    assert failure[-1] == "NotFound"  # the call failed as it should (404, not retried)
    assert "gapi_runtime.retry" in failure
    assert "google.api_core" in failure  # (its exceptions module imports http.client)
    for name in ("aiohttp", "gapi_runtime.aio", "looker_v1._async_client", "looker_v1._batch", "gapi_runtime.batch"):
        assert name not in failure


ASYNC_SCRIPT = """
import json, sys
from google.auth.credentials import AnonymousCredentials
credentials = AnonymousCredentials()
floor = set(sys.modules)
from looker_v1 import LookerAsyncClient
client = LookerAsyncClient(credentials=credentials, endpoint="http://127.0.0.1:9/")
print(json.dumps(sorted(name for name in set(sys.modules) - floor)))
"""


def test_the_async_client_loads_no_operation_or_retry_code_before_it_is_needed() -> None:
    """An async client's import and construction load its core and transport, not the
    operation handles, the retry rules or google-api-core (``operation()`` loads them)."""
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    result = subprocess.run(
        [sys.executable, "-c", ASYNC_SCRIPT], capture_output=True, text=True, check=False, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = set(json.loads(result.stdout))
    assert "gapi_runtime.aio" in loaded  # the script did construct an async client
    unwanted = {"gapi_runtime.aio_operations", "gapi_runtime.operations", "gapi_runtime.retry", "aiohttp"}
    assert not loaded & unwanted
    assert not any(name.startswith("google.api_core") for name in loaded)

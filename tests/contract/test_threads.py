"""One client shared by many threads: no errors, one credential refresh per token expiry,
one refresh for a burst of 401s, and retries under injected faults.

The figures (wall time, refreshes) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gapi_runtime import RetryPolicy, Urllib3Transport
from google.auth import _helpers
from google.oauth2 import service_account
from looker_v1 import LookerClient

from tests.contract.test_auth_flows import SA_EMAIL, SCOPE, service_account_info
from tests.support.fake_looker import FakeLooker

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
THREADS = 8
CALLS = 500


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeLooker]:
    with FakeLooker(require_auth=True) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        running.add_service_account(SA_EMAIL, rsa_key.public_key())
        yield running


@pytest.fixture
def credentials(fake: FakeLooker, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> service_account.Credentials:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(service_account_info(fake, rsa_key)))
    # Scoped already, so the client uses this very object (and the test can expire its token).
    return service_account.Credentials.from_service_account_file(str(path), scopes=[SCOPE])


def _run(threads: int, work: Callable[[int], None]) -> tuple[list[BaseException], float]:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as exc:  # collected and asserted on
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors, time.perf_counter() - began


def test_8_threads_x_500_calls_one_refresh_per_expiry(
    fake: FakeLooker, credentials: service_account.Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    fake.token_delay = 0.05  # a slow token endpoint widens the window for duplicate refreshes
    client = LookerClient(credentials=credentials, endpoint=fake.url)
    counter = iter(range(1, THREADS * CALLS + 1))
    counter_lock = threading.Lock()
    expire_at = {1000, 2000, 3000}  # every 1000th call, the token expires
    failures: list[str] = []

    def work(index: int) -> None:
        for _ in range(CALLS):
            with counter_lock:
                number = next(counter)
            if number in expire_at:
                credentials.expiry = _helpers.utcnow() - datetime.timedelta(seconds=1)
            if client.projects.locations.instances.get(name=I)["name"] != I:
                failures.append("wrong answer")

    with caplog.at_level(logging.WARNING, logger="urllib3"):
        errors, wall = _run(THREADS, work)
    assert errors == [] and failures == []
    assert client._api._credentials is credentials
    assert len(fake.api_requests()) == THREADS * CALLS
    assert fake.token_hits == 1 + len(expire_at)
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
    print(f"\n{THREADS} threads x {CALLS} calls: 0 errors, {fake.token_hits} token fetches, {wall:.2f} s wall")


def test_a_burst_of_401s_refreshes_once(fake: FakeLooker, credentials: service_account.Credentials) -> None:
    fake.token_delay = 0.2
    client = LookerClient(credentials=credentials, endpoint=fake.url)
    client.projects.locations.instances.get(name=I)
    fake.revoke_all_tokens()
    errors, _ = _run(THREADS, lambda index: client.projects.locations.instances.get(name=I))
    assert errors == []
    assert fake.token_hits == 2
    rejected = [r for r in fake.api_requests() if r.headers["authorization"][7:] not in fake.live_tokens]
    assert len(rejected) >= 2  # several threads really were rejected together (plus the warm-up call)


def test_threads_retry_through_injected_faults(fake: FakeLooker, credentials: service_account.Credentials) -> None:
    fake.chaos = 0.05  # 5% of GETs: a 503 or a connection reset
    client = LookerClient(
        credentials=credentials,
        endpoint=fake.url,
        transport=Urllib3Transport(pool_size=THREADS),
        retry=RetryPolicy(initial=0.01, maximum=0.05),
    )
    errors, wall = _run(THREADS, lambda index: [client.projects.locations.instances.get(name=I) for _ in range(150)])
    assert errors == []
    assert fake.chaos_hits > 0
    assert len(fake.api_requests("GET")) == THREADS * 150 + fake.chaos_hits
    print(f"\n{THREADS} threads x 150 calls with {fake.chaos_hits} injected faults: 0 errors, {wall:.2f} s wall")


def test_operations_from_many_threads(fake: FakeLooker, credentials: service_account.Credentials) -> None:
    from gapi_runtime import PollingPolicy

    fake.polls_to_done = 2
    client = LookerClient(credentials=credentials, endpoint=fake.url)
    polling = PollingPolicy(initial=0.01, maximum=0.02)
    results: dict[int, str] = {}

    def work(index: int) -> None:
        op = client.projects.locations.instances.create(parent=P, instance_id=f"t{index}", body={})
        results[index] = client.operation(op, polling=polling).result()["state"]

    errors, _ = _run(THREADS, work)
    assert errors == [] and set(results.values()) == {"ACTIVE"} and len(results) == THREADS
    names = [i["name"] for i in client.projects.locations.instances.list_all(parent=P)]
    assert len(names) == THREADS + 1

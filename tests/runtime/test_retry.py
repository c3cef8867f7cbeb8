"""Retry policy: the pure decision rules, and the generated client retrying over real HTTP."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator

import pytest
from gapi_runtime import DEFAULT_RETRY, ConnectError, RequestTimeout, RetryPolicy
from gapi_runtime.errors import http_error
from gapi_runtime.retry import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUS_CODES,
    RetryState,
    as_policy,
    default_predicate,
    parse_retry_after,
)
from gapi_runtime.wire import Response
from google.api_core import exceptions
from google.api_core.retry import Retry, if_exception_type
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from tests.support.fake_looker import FakeLooker, error_reply
from tests.support.loopback import Reply

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
FAST = RetryPolicy(initial=0.01, maximum=0.02, timeout=30)


@pytest.fixture
def fake() -> Iterator[FakeLooker]:
    with FakeLooker(polls_to_done=1) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        yield running


@pytest.fixture
def client(fake: FakeLooker) -> Iterator[LookerClient]:
    c = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry=FAST)
    yield c
    c.close()


def _http(status: int, headers: dict[str, str] | None = None) -> exceptions.GoogleAPICallError:
    return http_error(status, b"{}", "api.m", "https://x/", Response(status, headers or {}, b"{}"))


# --- pure rules ----------------------------------------------------------------------------


def test_default_policy_is_google_api_core_defaults() -> None:
    assert (DEFAULT_RETRY.initial, DEFAULT_RETRY.multiplier, DEFAULT_RETRY.maximum, DEFAULT_RETRY.timeout) == (
        1.0,
        2.0,
        60.0,
        120.0,
    )
    assert [DEFAULT_RETRY.bound(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert DEFAULT_RETRY.bound(10_000) == 60


def test_full_jitter_draws_between_zero_and_the_bound() -> None:
    state = RetryState(DEFAULT_RETRY, "GET", started=0.0)
    delays = [state.next_delay(_http(503), now=0.0, rand=lambda: 1.0) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 16, 32, 60]
    state = RetryState(DEFAULT_RETRY, "GET", started=0.0)
    assert state.next_delay(_http(503), now=0.0, rand=lambda: 0.0) == 0.0
    assert state.next_delay(_http(503), now=0.0, rand=lambda: 0.25) == 0.5


@pytest.mark.parametrize("method", sorted(IDEMPOTENT_METHODS))
@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUS_CODES))
def test_idempotent_methods_retry_transient_statuses(method: str, status: int) -> None:
    assert default_predicate(method, _http(status))


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("status", [*sorted(RETRYABLE_STATUS_CODES)])
def test_post_and_patch_are_never_retried_by_default(method: str, status: int) -> None:
    assert not default_predicate(method, _http(status))
    assert not default_predicate(method, ConnectError("reset", response_started=False))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert not default_predicate("GET", _http(status))


def test_connection_errors_retry_only_before_any_response_byte() -> None:
    assert default_predicate("GET", ConnectError("refused", response_started=False))
    assert default_predicate("DELETE", ConnectError("reset", response_started=False))
    assert not default_predicate("GET", ConnectError("truncated", response_started=True))
    assert not default_predicate("GET", RequestTimeout("slow"))
    assert not default_predicate("GET", ValueError("bug"))


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    for bad in (None, "", "soon", "-5", "1.5e3", "Mon, 99 Foo 2020"):
        assert parse_retry_after(bad) is None


def test_retry_after_replaces_the_backoff_and_is_capped_by_the_deadline() -> None:
    state = RetryState(DEFAULT_RETRY, "GET", started=100.0)
    assert state.next_delay(_http(429, {"Retry-After": "17"}), now=100.0, rand=lambda: 1.0) == 17.0
    # 119 s into a 120 s deadline, a 5 s Retry-After would overrun it: give up.
    assert state.next_delay(_http(503, {"retry-after": "5"}), now=219.0) is None


def test_backoff_gives_up_when_the_next_wait_would_pass_the_deadline() -> None:
    policy = RetryPolicy(initial=10, multiplier=2, maximum=60, timeout=25)
    state = RetryState(policy, "GET", started=0.0)
    assert state.next_delay(_http(503), now=0.0, rand=lambda: 1.0) == 10
    assert state.next_delay(_http(503), now=10.0, rand=lambda: 1.0) is None  # 10 + 20 > 25


def test_google_api_core_retry_is_read_not_called() -> None:
    seen: list[Exception] = []
    retry = Retry(
        predicate=if_exception_type(exceptions.Conflict),
        initial=0.5,
        maximum=3,
        multiplier=3,
        timeout=9,
        on_error=seen.append,
    )
    policy = as_policy(retry)
    assert (policy.initial, policy.multiplier, policy.maximum, policy.timeout) == (0.5, 3, 3, 9)
    state = RetryState(policy, "POST", started=0.0)
    assert state.next_delay(_http(409), now=0.0, rand=lambda: 1.0) == 0.5  # its predicate decides, even for POST
    assert state.next_delay(_http(503), now=0.0) is None
    assert len(seen) == 1
    with pytest.raises(TypeError, match="retry must be"):
        as_policy(3)


def test_connect_error_counts_as_transient_for_google_api_core_default_predicate() -> None:
    from google.api_core.retry import if_transient_error

    assert if_transient_error(ConnectError("reset"))
    assert not if_transient_error(RequestTimeout("slow"))


# --- over HTTP -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        [error_reply(503, "busy")],
        [error_reply(429, "slow down", {"Retry-After": "0"})],
        [Reply(fault="reset")],
        [Reply(fault="close")],
        [error_reply(500, "oops"), error_reply(502, "bad gateway"), error_reply(504, "gw timeout")],
        [Reply(408, b"")],
    ],
    ids=["503", "429", "reset", "close", "500-502-504", "408"],
)
def test_get_succeeds_through_transient_failures(fake: FakeLooker, client: LookerClient, faults: list[Reply]) -> None:
    fake.inject(*faults, method="GET")
    assert client.projects.locations.instances.get(name=I)["state"] == "ACTIVE"
    assert len(fake.api_requests("GET")) == len(faults) + 1


@pytest.mark.parametrize(
    "fault",
    [
        error_reply(503, "busy"),
        error_reply(429, "quota", {"Retry-After": "0"}),
        error_reply(500, "x"),
        Reply(fault="reset"),
        Reply(fault="close"),
        Reply(fault="truncate", body={"name": "x" * 50}),
    ],
    ids=["503", "429", "500", "reset", "close", "truncate"],
)
@pytest.mark.parametrize("verb", ["create", "patch", "restart"])
def test_post_and_patch_are_sent_once_by_the_default_policy(fake: FakeLooker, verb: str, fault: Reply) -> None:
    instances = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url).projects.locations.instances
    fake.inject(fault)
    with pytest.raises((exceptions.GoogleAPICallError, ConnectError)):
        if verb == "create":
            instances.create(parent=P, instance_id="new", body={})
        elif verb == "patch":
            instances.patch(name=I, update_mask="labels", body={"labels": {"a": "b"}})
        else:
            instances.restart(name=I, body={})
    assert len(fake.requests) == 1
    assert fake.requests[0].method in ("POST", "PATCH")


def test_delete_is_retried(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(error_reply(503, "busy"), Reply(fault="reset"), method="DELETE")
    operation = client.projects.locations.instances.delete(name=I)
    assert operation["name"].startswith(P + "/operations/")
    assert len(fake.api_requests("DELETE")) == 3


def test_retry_none_per_call_and_per_client(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(error_reply(503, "busy"))
    with pytest.raises(exceptions.ServiceUnavailable, match=r"busy \[looker.projects.locations.instances.get\]"):
        client.projects.locations.instances.get(name=I, retry=None)
    assert len(fake.requests) == 1
    no_retry = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry=None)
    fake.inject(Reply(fault="reset"))
    with pytest.raises(ConnectError):
        no_retry.projects.locations.instances.get(name=I)
    assert len(fake.requests) == 2


def test_user_retry_may_retry_a_post(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(error_reply(503, "busy"), error_reply(503, "busy"), method="POST")
    retry = Retry(predicate=if_exception_type(exceptions.ServiceUnavailable), initial=0.01, maximum=0.01, timeout=10)
    operation = client.projects.locations.instances.restart(name=I, body={}, retry=retry)
    assert operation["name"]
    assert len(fake.api_requests("POST")) == 3


def test_user_retry_with_default_predicate_retries_resets(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(Reply(fault="reset"), error_reply(503, "x"), method="GET")
    retry = Retry(initial=0.01, maximum=0.01, timeout=10)
    assert client.projects.locations.instances.get(name=I, retry=retry)["name"] == I


def test_exhausted_retries_raise_the_last_error(fake: FakeLooker) -> None:
    policy = RetryPolicy(initial=0.01, maximum=0.02, timeout=0.3)
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url, retry=policy)
    fake.server.handler = lambda request: error_reply(503, "still busy")
    with pytest.raises(exceptions.ServiceUnavailable, match="still busy"):
        client.projects.locations.instances.get(name=I)
    assert len(fake.requests) >= 2


def test_retry_after_longer_than_the_deadline_gives_up_at_once(fake: FakeLooker, client: LookerClient) -> None:
    fake.inject(error_reply(429, "quota", {"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(exceptions.TooManyRequests):
        client.projects.locations.instances.get(name=I)
    assert len(fake.requests) == 1
    assert time.monotonic() - started < 30


def test_retry_after_is_honoured(fake: FakeLooker, client: LookerClient, caplog: pytest.LogCaptureFixture) -> None:
    date = email.utils.formatdate(time.time() + 1, usegmt=True)
    fake.inject(error_reply(429, "quota", {"Retry-After": "1"}), error_reply(503, "x", {"Retry-After": date}))
    with caplog.at_level(logging.DEBUG, logger="gapi_runtime"):
        client.projects.locations.instances.get(name=I)
    delays = [float(r.getMessage().rsplit("retrying in ", 1)[1].split()[0]) for r in caplog.records]
    assert delays[0] == 1.0
    assert 0.0 <= delays[1] <= 1.0


def test_each_retry_is_logged_with_method_and_attempt_but_no_secrets(
    fake: FakeLooker, caplog: pytest.LogCaptureFixture
) -> None:
    client = LookerClient(client_options={"api_key": "AIzaSECRETKEY123"}, endpoint=fake.url, retry=FAST)
    # Two resets: the transport itself sends a GET reset on a kept-alive connection once more,
    # on a fresh one (the idle-close race); only that one's reset reaches the retry policy.
    fake.inject(error_reply(503, "x"), Reply(fault="reset"), Reply(fault="reset"), error_reply(429, "y"))
    with caplog.at_level(logging.DEBUG):
        client.projects.locations.instances.get(name=I)
    ours = [r.getMessage() for r in caplog.records if r.name == "gapi_runtime"]
    assert [m.split(" failed")[0] for m in ours] == [
        f"looker.projects.locations.instances.get: attempt {n}" for n in (1, 2, 3)
    ]
    assert "(HTTP 503)" in ours[0] and "(ConnectError)" in ours[1] and "(HTTP 429)" in ours[2]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "gapi_runtime")
    assert "AIzaSECRETKEY123" not in caplog.text
    assert fake.requests[-1].headers["x-goog-api-key"] == "AIzaSECRETKEY123"


def test_on_error_sees_each_retried_error(fake: FakeLooker, client: LookerClient) -> None:
    seen: list[Exception] = []
    fake.inject(error_reply(503, "a"), error_reply(429, "b"))
    client.projects.locations.instances.get(name=I, retry=Retry(initial=0.01, maximum=0.01, on_error=seen.append))
    assert [type(e) for e in seen] == [exceptions.ServiceUnavailable, exceptions.ResourceExhausted]


def test_retries_follow_a_patched_time_monotonic(fake: FakeLooker, client: LookerClient) -> None:
    # freezegun and mock.patch("time.monotonic") replace the function: every reading of the
    # system clock (the call's start, the retry deadline) must see the same one.
    from unittest import mock

    client.projects.locations.instances.get(name=I)  # the first call checks the universe; later ones are fast
    fake.inject(error_reply(503, "busy"))
    with mock.patch("time.monotonic", return_value=1.7e9), mock.patch("time.sleep"):
        assert client.projects.locations.instances.get(name=I)["name"] == I

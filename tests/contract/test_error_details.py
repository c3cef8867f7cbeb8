"""Errors that say why: google.rpc.ErrorInfo (and legacy error.errors[]) on the exception, the
other details kept as google-api-core keeps them, and RetryInfo honoured by the retry policy.

Error bodies follow Google's documented error model (https://cloud.google.com/apis/design/errors).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from gapi_runtime import RetryPolicy
from gapi_runtime.errors import http_error, rpc_error
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from tests.support.loopback import LoopbackServer, Reply

NAME = "projects/p/locations/l/instances/i"
OP = "projects/p/locations/l/operations/o"

ERROR_INFO = {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    "reason": "IAM_PERMISSION_DENIED",
    "domain": "iam.googleapis.com",
    "metadata": {"permission": "looker.instances.get", "resource": NAME},
}
QUOTA_FAILURE = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"subject": "project:p", "description": "Read requests per minute exceeded"}],
}
BAD_REQUEST = {
    "@type": "type.googleapis.com/google.rpc.BadRequest",
    "fieldViolations": [{"field": "instance.platform_edition", "description": "must be set"}],
}
HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [{"description": "Quotas", "url": "https://cloud.google.com/looker/quotas"}],
}


def _retry_info(delay: str) -> dict[str, str]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def _error(code: int, status: str, message: str, *details: object, errors: list[object] | None = None) -> Reply:
    body: dict[str, object] = {"code": code, "message": message, "status": status, "details": list(details)}
    if errors is not None:
        body["errors"] = errors
    return Reply(code, {"error": body})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> Iterator[LookerClient]:
    with LookerClient(credentials=AnonymousCredentials(), endpoint=server.url) as looker:
        yield looker


def test_error_info_gives_reason_domain_and_metadata(server: LoopbackServer, client: LookerClient) -> None:
    message = "Permission 'looker.instances.get' denied on resource\n(or it may not exist)."
    server.reply(_error(403, "PERMISSION_DENIED", message, HELP, ERROR_INFO))
    with pytest.raises(exceptions.PermissionDenied) as info:
        client.projects.locations.instances.get(name=NAME)
    error = info.value
    assert type(error) is exceptions.PermissionDenied
    assert error.reason == "IAM_PERMISSION_DENIED"
    assert error.domain == "iam.googleapis.com"
    assert error.metadata["permission"] == "looker.instances.get"
    assert error.details == [HELP, ERROR_INFO]
    text = str(error)
    assert "\n" not in text
    assert text.startswith("403 Permission 'looker.instances.get' denied on resource (or it may not exist).")
    assert "[looker.projects.locations.instances.get] (reason IAM_PERMISSION_DENIED, domain iam.googleapis.com)" in text


def test_legacy_errors_give_reason_and_domain(server: LoopbackServer, client: LookerClient) -> None:
    legacy = [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}]
    server.reply(Reply(403, {"error": {"code": 403, "message": "Rate Limit Exceeded", "errors": legacy}}))
    with pytest.raises(exceptions.Forbidden) as info:
        client.projects.locations.instances.get(name=NAME, retry=None)
    assert (info.value.reason, info.value.domain, info.value.metadata) == ("rateLimitExceeded", "usageLimits", None)
    assert info.value.errors == legacy
    assert "(reason rateLimitExceeded, domain usageLimits)" in str(info.value)
    # ErrorInfo wins over the legacy list when both are there.
    server.reply(_error(403, "PERMISSION_DENIED", "denied", ERROR_INFO, errors=legacy))
    with pytest.raises(exceptions.PermissionDenied) as both:
        client.projects.locations.instances.get(name=NAME)
    assert both.value.reason == "IAM_PERMISSION_DENIED"


def test_no_reason_leaves_them_none_as_google_api_core_does() -> None:
    error = http_error(404, b'{"error": {"code": 404, "message": "gone", "status": "NOT_FOUND"}}', "m", "u")
    assert (error.reason, error.domain, error.metadata) == (None, None, None)
    assert str(error) == "404 gone [m]"


def test_quota_failure_bad_request_and_help_details_are_kept(server: LoopbackServer, client: LookerClient) -> None:
    server.reply(_error(400, "INVALID_ARGUMENT", "bad", BAD_REQUEST, HELP))
    with pytest.raises(exceptions.BadRequest) as info:
        client.projects.locations.instances.create(parent="projects/p/locations/l", body={})
    assert info.value.details == [BAD_REQUEST, HELP]
    assert info.value.details[0]["fieldViolations"][0]["field"] == "instance.platform_edition"
    rate = ERROR_INFO | {"reason": "RATE_LIMIT_EXCEEDED"}
    server.reply(_error(429, "RESOURCE_EXHAUSTED", "quota", QUOTA_FAILURE, rate))
    with pytest.raises(exceptions.TooManyRequests) as quota:
        client.projects.locations.operations.cancel(name=OP)  # POST: not retried
    assert quota.value.details[0] == QUOTA_FAILURE and quota.value.reason == "RATE_LIMIT_EXCEEDED"


def test_operation_errors_carry_error_info_too() -> None:
    error = rpc_error({"code": 7, "message": "denied", "details": [ERROR_INFO]}, "operation o")
    assert isinstance(error, exceptions.PermissionDenied) and error.metadata == ERROR_INFO["metadata"]


def test_retry_info_delay_is_waited_before_retrying(server: LoopbackServer, client: LookerClient) -> None:
    server.reply(_error(429, "RESOURCE_EXHAUSTED", "slow down", QUOTA_FAILURE, _retry_info("0.600s")))
    times: list[float] = []
    original = server.handler

    def handler(request):  # type: ignore[no-untyped-def]
        times.append(time.monotonic())
        return original(request)

    server.handler = handler
    started = time.monotonic()
    policy = RetryPolicy(initial=0.01, maximum=0.01)  # jitter alone would wait ≤ 10 ms
    assert client.projects.locations.instances.get(name=NAME, retry=policy) == {}
    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.6
    assert times[0] - started >= 0.6  # the queued 429 came first; the handler answered the retry


def test_retry_info_and_retry_after_take_the_longer(server: LoopbackServer, client: LookerClient) -> None:
    reply = _error(503, "UNAVAILABLE", "later", _retry_info("0.2s"))
    reply.headers = {"retry-after": "1"}
    server.reply(reply)
    started = time.monotonic()
    client.projects.locations.instances.get(name=NAME, retry=RetryPolicy(initial=0.01, maximum=0.01))
    assert time.monotonic() - started >= 1.0


def test_retry_info_beyond_the_deadline_gives_up_at_once(server: LoopbackServer, client: LookerClient) -> None:
    server.reply(_error(429, "RESOURCE_EXHAUSTED", "much later", _retry_info("30s")))
    started = time.monotonic()
    with pytest.raises(exceptions.TooManyRequests):
        client.projects.locations.instances.get(name=NAME, retry=RetryPolicy(timeout=5.0))
    assert time.monotonic() - started < 1.0 and len(server.requests) == 1


def test_retry_info_does_not_make_a_post_retryable(server: LoopbackServer, client: LookerClient) -> None:
    server.reply(_error(429, "RESOURCE_EXHAUSTED", "slow down", _retry_info("0.1s")))
    with pytest.raises(exceptions.TooManyRequests):
        client.projects.locations.operations.cancel(name=OP)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        {"code": 403, "message": "User Rate Limit Exceeded", "errors": [{"reason": "userRateLimitExceeded"}]},
        {"code": 403, "message": "Rate Limit Exceeded", "errors": [{"reason": "rateLimitExceeded"}]},
        {"code": 403, "status": "PERMISSION_DENIED", "details": [ERROR_INFO | {"reason": "RATE_LIMIT_EXCEEDED"}]},
    ],
)
def test_a_rate_limited_403_is_retried_like_googleapiclient(
    server: LoopbackServer, client: LookerClient, error: dict[str, object]
) -> None:
    fast = RetryPolicy(initial=0.01, maximum=0.01)
    server.reply(Reply(403, {"error": error}))
    assert client.projects.locations.instances.get(name=NAME, retry=fast) == {}
    assert len(server.requests) == 2
    server.reply(Reply(403, {"error": error}))
    with pytest.raises(exceptions.Forbidden):  # POST: the server may have acted; not retried
        client.projects.locations.operations.cancel(name=OP, retry=fast)
    assert len(server.requests) == 3


def test_other_403s_are_not_retried(server: LoopbackServer, client: LookerClient) -> None:
    quota = [{"domain": "usageLimits", "reason": "dailyLimitExceeded"}]
    for reply in (_error(403, "PERMISSION_DENIED", "denied", ERROR_INFO), Reply(403, {"error": {"errors": quota}})):
        server.reply(reply)
        with pytest.raises(exceptions.Forbidden):
            client.projects.locations.instances.get(name=NAME, retry=RetryPolicy(initial=0.01, maximum=0.01))
    assert len(server.requests) == 2


def test_an_error_in_a_json_array_keeps_its_message_and_reason() -> None:
    """Streaming methods answer an error as a JSON array of one error object (googleapiclient reads it too)."""
    body = [
        {
            "error": {
                "code": 429,
                "message": "Resource exhausted",
                "status": "RESOURCE_EXHAUSTED",
                "details": [ERROR_INFO],
            }
        }
    ]
    error = http_error(429, json.dumps(body).encode(), "m", "u")
    assert isinstance(error, exceptions.TooManyRequests)
    assert error.reason == "IAM_PERMISSION_DENIED" and error.details == [ERROR_INFO]
    assert str(error).startswith("429 Resource exhausted [m]")
    assert "without an error message" in str(http_error(400, b"[]", "m", "u"))

"""Credential flows users actually use, for real: keys, JWTs and refresh tokens against a
token endpoint served on loopback, with real google-auth credential objects."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import google.auth
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gapi_runtime import Response, RetryPolicy, Urllib3Transport
from google.api_core import exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from looker_v1 import LookerClient

from tests.support.fake_looker import GOOGLE_TOKEN_URI, FakeLooker, error_reply

P = "projects/p1/locations/us-central1"
I = f"{P}/instances/i1"  # noqa: E741
SA_EMAIL = "runner@p1.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeLooker]:
    with FakeLooker(require_auth=True) as running:
        running.instances[I] = {"name": I, "state": "ACTIVE"}
        running.add_service_account(SA_EMAIL, rsa_key.public_key())
        running.add_refresh_token("1//refresh-abc", "client-id.apps", "client-secret")
        yield running


def service_account_info(fake: FakeLooker, key: rsa.RSAPrivateKey) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "p1",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": fake.token_uri,
    }


@pytest.fixture
def key_file(fake: FakeLooker, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(service_account_info(fake, rsa_key)))
    return path


def _jwt_claims(assertion: str) -> dict[str, Any]:
    claims = assertion.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))  # type: ignore[no-any-return]


def _bearer_of(fake: FakeLooker) -> str:
    header = fake.api_requests()[-1].headers["authorization"]
    assert header.startswith("Bearer ")
    return header[7:]


def test_service_account_key_file(fake: FakeLooker, key_file: Path) -> None:
    creds = service_account.Credentials.from_service_account_file(str(key_file))
    client = LookerClient(credentials=creds, endpoint=fake.url)
    assert client.projects.locations.instances.get(name=I)["name"] == I
    assert client.projects.locations.instances.get(name=I)["name"] == I
    assert fake.token_hits == 1
    form = fake.token_requests[0]
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = _jwt_claims(form["assertion"])  # the fake verified its RS256 signature
    assert claims["iss"] == SA_EMAIL and claims["aud"] == GOOGLE_TOKEN_URI and claims["scope"] == SCOPE
    assert _bearer_of(fake) in fake.live_tokens


def test_service_account_through_client_options_credentials_file(fake: FakeLooker, key_file: Path) -> None:
    client = LookerClient(client_options={"credentials_file": str(key_file)}, endpoint=fake.url)
    client.projects.locations.instances.get(name=I)
    assert fake.token_hits == 1 and _bearer_of(fake) in fake.live_tokens


def test_google_auth_default_uses_google_application_credentials(
    fake: FakeLooker, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.delenv("GOOGLE_CLOUD_QUOTA_PROJECT", raising=False)
    client = LookerClient(endpoint=fake.url)
    client.projects.locations.instances.get(name=I)
    assert fake.token_hits == 1
    assert _jwt_claims(fake.token_requests[0]["assertion"])["scope"] == SCOPE
    _, project = google.auth.default()
    assert project == "p1"


def test_a_key_the_server_does_not_trust_fails_with_refresh_error(fake: FakeLooker, tmp_path: Path) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = service_account.Credentials.from_service_account_info(service_account_info(fake, other))
    client = LookerClient(credentials=creds, endpoint=fake.url)
    with pytest.raises(auth_exceptions.RefreshError, match="bad JWT signature"):
        client.projects.locations.instances.get(name=I)
    assert fake.api_requests() == []


class _TokenEndpointOnLoopback:
    """The default transport, with Google's token endpoint answered by the fake.

    google-auth pins authorized-user credentials loaded from files to Google's token URI;
    token refreshes go through the client's transport, so this sends them to loopback.
    """

    def __init__(self, fake: FakeLooker) -> None:
        self.inner = Urllib3Transport()
        self.fake = fake

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        if url == GOOGLE_TOKEN_URI:
            url = self.fake.token_uri
        return self.inner.request(method, url, headers, body, timeout)

    def close(self) -> None:
        self.inner.close()


def test_authorized_user_refresh_token(fake: FakeLooker, tmp_path: Path) -> None:
    creds = user_credentials.Credentials(
        token=None,
        refresh_token="1//refresh-abc",
        client_id="client-id.apps",
        client_secret="client-secret",
        token_uri=fake.token_uri,
    )
    client = LookerClient(credentials=creds, endpoint=fake.url)
    client.projects.locations.instances.get(name=I)
    form = fake.token_requests[0]
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "1//refresh-abc"
    assert form["client_id"] == "client-id.apps" and form["client_secret"] == "client-secret"
    assert _bearer_of(fake) in fake.live_tokens


def test_authorized_user_file_from_google_auth_default(
    fake: FakeLooker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "application_default_credentials.json"
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "client-id.apps",
                "client_secret": "client-secret",
                "refresh_token": "1//refresh-abc",
                "quota_project_id": "billing-9",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    client = LookerClient(endpoint=fake.url, transport=_TokenEndpointOnLoopback(fake))
    client.projects.locations.instances.get(name=I)
    assert fake.token_requests[0]["grant_type"] == "refresh_token"
    request = fake.api_requests()[-1]
    assert request.headers["authorization"][7:] in fake.live_tokens
    assert request.headers["x-goog-user-project"] == "billing-9"


def test_api_key_is_a_header_never_in_the_url_or_logs(fake: FakeLooker, caplog: pytest.LogCaptureFixture) -> None:
    key = "AIzaSyTESTKEY-0123456789"
    fake.api_keys.add(key)
    client = LookerClient(
        client_options={"api_key": key}, endpoint=fake.url, retry=RetryPolicy(initial=0.01, maximum=0.01)
    )
    fake.inject(error_reply(503, "busy"))
    with caplog.at_level(logging.DEBUG):
        assert client.projects.locations.instances.get(name=I)["name"] == I
        list(client.projects.locations.instances.list_all(parent=P, page_size=1))
    for request in fake.api_requests():
        assert request.headers["x-goog-api-key"] == key
        assert "authorization" not in request.headers
        assert key not in request.target
    assert caplog.records and key not in caplog.text
    assert fake.token_hits == 0
    with pytest.raises(ValueError, match="either credentials or an api_key"):
        LookerClient(client_options={"api_key": key}, credentials=AnonymousCredentials(), endpoint=fake.url)
    with pytest.raises(ValueError, match="api_key and credentials_file are mutually exclusive"):
        LookerClient(client_options={"api_key": key, "credentials_file": "/nonexistent.json"}, endpoint=fake.url)


def test_wrong_api_key_is_unauthenticated(fake: FakeLooker) -> None:
    client = LookerClient(client_options={"api_key": "wrong"}, endpoint=fake.url)
    with pytest.raises(exceptions.Unauthenticated):
        client.projects.locations.instances.get(name=I)
    assert len(fake.api_requests()) == 1


def test_anonymous_credentials_send_no_authorization_and_do_not_refresh(fake: FakeLooker) -> None:
    client = LookerClient(credentials=AnonymousCredentials(), endpoint=fake.url)
    with pytest.raises(exceptions.Unauthenticated, match="invalid authentication credentials"):
        client.projects.locations.instances.get(name=I)
    assert len(fake.api_requests()) == 1 and fake.token_hits == 0
    assert "authorization" not in fake.api_requests()[0].headers
    fake.require_auth = False
    assert client.projects.locations.instances.get(name=I)["name"] == I


def test_quota_project_header(fake: FakeLooker, key_file: Path) -> None:
    creds = service_account.Credentials.from_service_account_file(str(key_file))
    client = LookerClient(credentials=creds, endpoint=fake.url, client_options={"quota_project_id": "billing-1"})
    client.projects.locations.instances.get(name=I)
    assert fake.api_requests()[-1].headers["x-goog-user-project"] == "billing-1"
    key = "AIza-quota"
    fake.api_keys.add(key)
    keyed = LookerClient(client_options={"api_key": key, "quota_project_id": "billing-2"}, endpoint=fake.url)
    keyed.projects.locations.instances.get(name=I)
    assert fake.api_requests()[-1].headers["x-goog-user-project"] == "billing-2"


def test_401_refreshes_once_and_retries_once(fake: FakeLooker, key_file: Path) -> None:
    creds = service_account.Credentials.from_service_account_file(str(key_file))
    client = LookerClient(credentials=creds, endpoint=fake.url)
    client.projects.locations.instances.get(name=I)
    old = _bearer_of(fake)
    fake.revoke_all_tokens()  # the server stops accepting the token before it expires
    # Even a POST is sent again: a 401 means the server did not act on it.
    operation = client.projects.locations.instances.restart(name=I, body={})
    assert operation["name"]
    posts = fake.api_requests("POST")
    assert len(posts) == 2 and posts[0].headers["authorization"] == f"Bearer {old}"
    assert _bearer_of(fake) != old and fake.token_hits == 2


def test_persistent_401_raises_after_one_refresh(
    fake: FakeLooker, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = service_account.Credentials.from_service_account_file(str(key_file))
    client = LookerClient(credentials=creds, endpoint=fake.url)
    monkeypatch.setattr(fake, "_authorized", lambda request: False)
    with pytest.raises(exceptions.Unauthenticated):
        client.projects.locations.instances.get(name=I)
    assert fake.token_hits == 2  # the first token, then one refresh after the 401
    assert len(fake.api_requests()) == 2


def test_401_with_credentials_that_cannot_refresh(fake: FakeLooker) -> None:
    creds = user_credentials.Credentials(token="static-token")  # no refresh token
    client = LookerClient(credentials=creds, endpoint=fake.url)
    with pytest.raises(exceptions.Unauthenticated) as info:
        client.projects.locations.instances.get(name=I)
    assert isinstance(info.value.__cause__, auth_exceptions.RefreshError)
    assert len(fake.api_requests()) == 1

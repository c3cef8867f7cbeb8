"""No secret leaves the client: redirects, logs, exception messages, reprs and TLS.

Everything runs against real loopback servers: redirects go from one server to another
server under another host name and port (``127.0.0.1`` → ``localhost``), credentials are
real google-auth objects (an API key, an OAuth token refreshed at a loopback token
endpoint), and TLS uses a real certificate made for the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gapi_runtime import PooledTransport, TLSError, Transport, TransportError, Urllib3Transport
from gapi_runtime.redirects import MAX_REDIRECTS, RedirectError, RedirectingTransport
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials
from looker_v1 import LookerAsyncClient, LookerClient

from tests.support.blocking import clients
from tests.support.loopback import LoopbackServer, Recorded, Reply

API_KEY = "AIzaSy-SECRET-API-KEY-0001"
TOKEN = "ya29.SECRET-ACCESS-TOKEN-0002"
REFRESHED = "ya29.SECRET-REFRESHED-TOKEN-0003"
REFRESH_TOKEN = "1//SECRET-REFRESH-TOKEN-0004"
CLIENT_SECRET = "GOCSPX-SECRET-0005"
QUOTA_PROJECT = "secret-quota-project-0006"
SECRETS = (API_KEY, TOKEN, REFRESHED, REFRESH_TOKEN, CLIENT_SECRET, QUOTA_PROJECT)
SECRET_HEADERS = ("authorization", "x-goog-api-key", "x-goog-user-project")
NAME = "projects/p/locations/l/instances/i"


@pytest.fixture
def other() -> Iterator[LoopbackServer]:
    """A second server, reached under another host name: another origin."""
    with LoopbackServer() as running:
        yield running


def _localhost(server: LoopbackServer) -> str:
    return server.url.replace("127.0.0.1", "localhost")


def _api_key_client(server: LoopbackServer) -> LookerClient:
    return LookerClient(endpoint=server.url, client_options={"api_key": API_KEY, "quota_project_id": QUOTA_PROJECT})


def _token_client(server: LoopbackServer) -> LookerClient:
    return LookerClient(credentials=Credentials(token=TOKEN), endpoint=server.url)


def _assert_no_secrets(request: Recorded) -> None:
    for name in SECRET_HEADERS:
        assert name not in request.headers, f"{name} went to another origin"
    assert not any(secret in request.target for secret in SECRETS)


# --- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("make_client", [_api_key_client, _token_client], ids=["api-key", "oauth-token"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_cross_origin_redirect_is_followed_without_secrets(
    make_client: Any, status: int, server: LoopbackServer, other: LoopbackServer
) -> None:
    server.reply(Reply(status, b"", {"location": _localhost(other) + "v1/elsewhere?alt=media"}))
    other.reply(Reply(200, {"name": "from the other origin"}))
    with make_client(server) as client:
        assert client.projects.locations.instances.get(name=NAME) == {"name": "from the other origin"}
    (first,) = server.requests
    assert "authorization" in first.headers or first.headers.get("x-goog-api-key") == API_KEY
    (followed,) = other.requests
    assert followed.target == "/v1/elsewhere?alt=media"
    assert followed.headers["host"].startswith("localhost:")
    _assert_no_secrets(followed)


def test_api_key_and_quota_project_reach_only_the_named_origin(server: LoopbackServer) -> None:
    with _api_key_client(server) as client:
        client.projects.locations.instances.get(name=NAME)
    request = server.last
    assert request.headers["x-goog-api-key"] == API_KEY
    assert request.headers["x-goog-user-project"] == QUOTA_PROJECT
    assert "key" not in dict(request.query)
    assert API_KEY not in request.target


def test_same_origin_redirect_keeps_credentials(server: LoopbackServer) -> None:
    server.reply(Reply(307, b"", {"location": "/v1/moved"}), Reply(200, {"ok": True}))
    with _token_client(server) as client:
        assert client.projects.locations.instances.get(name=NAME) == {"ok": True}
    first, second = server.requests
    assert second.target == "/v1/moved"
    assert second.headers["authorization"] == first.headers["authorization"] == f"Bearer {TOKEN}"


def test_secrets_stay_stripped_when_a_redirect_comes_back(server: LoopbackServer, other: LoopbackServer) -> None:
    server.reply(Reply(302, b"", {"location": _localhost(other) + "bounce"}), Reply(200, {"back": True}))
    other.reply(Reply(302, b"", {"location": server.url + "v1/back"}))
    with _token_client(server) as client:
        assert client.projects.locations.instances.get(name=NAME) == {"back": True}
    assert [request.target for request in server.requests] == [f"/v1/{NAME}", "/v1/back"]
    _assert_no_secrets(other.last)
    _assert_no_secrets(server.last)  # the origin that redirected away is not trusted with them again


def test_another_port_is_another_origin(server: LoopbackServer, other: LoopbackServer) -> None:
    server.reply(Reply(302, b"", {"location": other.url + "x"}))  # same host name, other port
    with _token_client(server) as client:
        client.projects.locations.instances.get(name=NAME)
    _assert_no_secrets(other.last)


def test_redirects_of_other_methods_are_not_followed(server: LoopbackServer, other: LoopbackServer) -> None:
    server.reply(Reply(307, b"", {"location": _localhost(other) + "x"}))
    with _token_client(server) as client:
        with pytest.raises(exceptions.GoogleAPICallError) as raised:
            client.projects.locations.instances.delete(name=NAME, retry=None)
    assert raised.value.code == 307
    assert other.requests == []


def test_redirect_loops_end(server: LoopbackServer) -> None:
    server.handler = lambda request: Reply(302, b"", {"location": "/again"})
    with _token_client(server) as client:
        with pytest.raises(RedirectError, match="more than 5 redirects"):
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert len(server.requests) == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    "location",
    [
        "http://example.invalid/x",  # plain http to a non-loopback host
        "ftp://localhost/x",
        "file:///etc/passwd",
        "http://user:password@localhost/x",
        "http://localhost/a b",
        "http://localhost/\x00",
    ],
)
def test_unsafe_redirect_targets_are_refused(location: str, server: LoopbackServer) -> None:
    server.reply(Reply(302, b"", {"location": location}))
    with _token_client(server) as client:
        with pytest.raises(RedirectError) as raised:
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert len(server.requests) == 1
    assert not any(secret in str(raised.value) for secret in SECRETS)


def test_a_redirect_without_location_is_an_http_error(server: LoopbackServer) -> None:
    server.reply(Reply(302, b""))
    with _token_client(server) as client, pytest.raises(exceptions.GoogleAPICallError):
        client.projects.locations.instances.get(name=NAME, retry=None)


# --- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gapi-codegen test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    """The loopback server behind TLS; ``url`` is rewritten to https."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = LoopbackServer()
    inner = server._server
    inner.socket = context.wrap_socket(inner.socket, server_side=True, do_handshake_on_connect=False)
    inner.handle_error = lambda request, address: None  # type: ignore[method-assign]  # failed handshakes
    with server:
        yield server


def _https(server: LoopbackServer) -> str:
    return server.url.replace("http://", "https://")


def _trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_tls_is_verified_by_default(tls_server: LoopbackServer) -> None:
    with LookerClient(credentials=Credentials(token=TOKEN), endpoint=_https(tls_server)) as client:
        with pytest.raises(TLSError, match="CERTIFICATE_VERIFY_FAILED"):
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert tls_server.requests == []  # the token never went out


TRANSPORTS = pytest.mark.parametrize("make", [PooledTransport, Urllib3Transport])


@TRANSPORTS
def test_a_trusted_certificate_works(
    tls_server: LoopbackServer, certificate: tuple[Path, Path], make: Callable[..., Transport]
) -> None:
    transport = make(ssl_context=_trusting(certificate))
    with LookerClient(credentials=Credentials(token=TOKEN), endpoint=_https(tls_server), transport=transport) as client:
        assert client.projects.locations.instances.get(name=NAME) == {}
    assert tls_server.last.headers["authorization"] == f"Bearer {TOKEN}"


@TRANSPORTS
def test_a_context_that_does_not_verify_does_not_downgrade(
    tls_server: LoopbackServer, make: Callable[..., Transport]
) -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    transport = make(ssl_context=lax)
    with LookerClient(credentials=Credentials(token=TOKEN), endpoint=_https(tls_server), transport=transport) as client:
        with pytest.raises(TLSError):
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert tls_server.requests == []


@TRANSPORTS
def test_https_to_http_redirect_is_refused(
    tls_server: LoopbackServer, other: LoopbackServer, certificate: tuple[Path, Path], make: Callable[..., Transport]
) -> None:
    tls_server.reply(Reply(302, b"", {"location": other.url + "plain"}))
    transport = make(ssl_context=_trusting(certificate))
    with LookerClient(credentials=Credentials(token=TOKEN), endpoint=_https(tls_server), transport=transport) as client:
        with pytest.raises(RedirectError, match="no TLS downgrade"):
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert other.requests == []


@pytest.mark.parametrize(
    "endpoint",
    ["http://example.com/", "http://looker.googleapis.com/", "http://127.0.0.1.nip.io/", "http://[::ffff:7f00:1]/"],
)
def test_plain_http_only_to_loopback_unless_allowed(endpoint: str) -> None:
    with pytest.raises(ValueError, match="plain http"):
        LookerClient(credentials=AnonymousCredentials(), endpoint=endpoint)
    LookerClient(credentials=AnonymousCredentials(), endpoint=endpoint, allow_insecure_http=True).close()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://user:pw@looker.googleapis.com/",
        "https://looker.googleapis.com/?key=x",
        "https://looker.googleapis.com/#x",
        "https://looker.googleapis.com\\@evil.example/",
        "https://looker.googleapis.com/\r\nX: y",
        "ftp://looker.googleapis.com/",
        "looker.googleapis.com",
    ],
)
def test_malformed_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(ValueError):
        LookerClient(credentials=AnonymousCredentials(), endpoint=endpoint)


def test_header_values_are_checked_without_echoing_them() -> None:
    bad = API_KEY + "\r\nX-Injected: 1"
    with pytest.raises(ValueError) as raised:
        LookerClient(client_options={"api_key": bad})
    assert API_KEY not in str(raised.value)


# --- logs, exception messages and reprs --------------------------------------------------


def _token_endpoint(request: Recorded) -> Reply:
    if request.path == "/token":
        return Reply(200, {"access_token": REFRESHED, "expires_in": 3600, "token_type": "Bearer"})
    if request.path.endswith("/forbidden"):
        return Reply(403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}})
    if request.path.endswith("/away"):
        return Reply(302, b"", {"location": "http://localhost:1/unreachable"})
    return Reply(200, {"name": "ok"})


@pytest.mark.parametrize("flavor", ["sync", "async"])
def test_no_secret_in_logs_errors_or_reprs(
    flavor: str, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: the runtime's, urllib3's, aiohttp's and google-auth's records
    server.handler = _token_endpoint
    seen: list[str] = []
    credentials = Credentials(
        token=None,
        refresh_token=REFRESH_TOKEN,
        token_uri=server.url + "token",
        client_id="client-id",
        client_secret=CLIENT_SECRET,
    )
    with clients(flavor, LookerClient, LookerAsyncClient) as make:
        made = [
            make(credentials=credentials, endpoint=server.url),
            make(endpoint=server.url, client_options={"api_key": API_KEY, "quota_project_id": QUOTA_PROJECT}),
        ]
        for client in made:
            instances = client.projects.locations.instances
            instances.get(name=NAME)  # the OAuth client refreshes first
            for name in (NAME + "/forbidden", NAME + "/away", "projects/p/locations/l/instances/.."):
                with pytest.raises(Exception) as raised:  # 403, a refused redirect, a refused value
                    instances.get(name=name, retry=None)
                seen += [str(raised.value), repr(raised.value), *map(str, raised.value.args)]
            unreachable = make(
                credentials=Credentials(token=TOKEN),
                endpoint="http://127.0.0.1:1/",
                client_options={"quota_project_id": QUOTA_PROJECT},
            )
            with pytest.raises(TransportError) as failed:
                unreachable.projects.locations.instances.get(name=NAME, retry=None)
            seen += [str(failed.value), repr(failed.value)]
            for target in (client, unreachable):
                target = getattr(target, "_target", target)  # the async client behind its blocking view
                api = target._api
                seen += [repr(target), repr(api), repr(getattr(api, "settings", None)), repr(api.transport)]
    assert server.requests[0].path == "/token"
    assert any(request.headers.get("authorization") == f"Bearer {REFRESHED}" for request in server.requests)
    seen += [record.getMessage() for record in caplog.records]
    seen += [record.exc_text or "" for record in caplog.records]
    assert caplog.records, "DEBUG logging produced no records: the test would prove nothing"
    leaks = [(secret, text[:200]) for text in seen for secret in SECRETS if secret in text]
    assert leaks == []


def test_the_redirecting_transport_wraps_every_transport(server: LoopbackServer) -> None:
    with LookerClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
        assert isinstance(client._api.transport, RedirectingTransport)
        assert isinstance(client._api.transport.inner, PooledTransport)

"""Where requests go: universe domains, mTLS endpoints and client certificates, proxies.

Everything runs over real sockets to loopback servers: a CONNECT proxy (tests/support/netfixtures.py)
stands between the client and a loopback TLS server, so requests meant for
``looker.example.test`` or ``looker.mtls.googleapis.com`` are recorded by the proxy under
that name and answered on 127.0.0.1. Every environment variable is tested set and unset.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from gapi_runtime import PooledTransport, Urllib3Transport
from gapi_runtime.aiohttp_transport import AiohttpTransport
from gapi_runtime.errors import ConnectError
from gapi_runtime.proxies import ProxySettings
from google.api_core import client_options as client_options_lib
from google.api_core import universe
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import MutualTLSChannelError
from google.oauth2.credentials import Credentials
from looker_v1 import LookerAsyncClient, LookerClient

from tests.support.loopback import LoopbackServer
from tests.support.netfixtures import ConnectProxy, Pki, make_pki, tls_server

NAME = "projects/p/locations/l/instances/i"
ENV = (
    "GOOGLE_CLOUD_UNIVERSE_DOMAIN",
    "GOOGLE_API_USE_MTLS_ENDPOINT",
    "GOOGLE_API_USE_CLIENT_CERTIFICATE",
    "GOOGLE_API_CERTIFICATE_CONFIG",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    # No workload certificate configuration of the machine may switch mTLS on by itself.
    monkeypatch.setenv("GOOGLE_API_CERTIFICATE_CONFIG", str(tmp_path / "absent.json"))
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def server(pki: Pki) -> Iterator[LoopbackServer]:
    """TLS with the test certificate; asks for a client certificate but does not require one."""
    with tls_server(pki, require_client_cert=False) as running:
        yield running


@pytest.fixture
def mtls_server(pki: Pki) -> Iterator[LoopbackServer]:
    """TLS that refuses a handshake without a client certificate the test CA signed."""
    with tls_server(pki, require_client_cert=True) as running:
        yield running


def _upstream(server: LoopbackServer) -> tuple[str, int]:
    return "127.0.0.1", int(server.url.rsplit(":", 1)[1].rstrip("/"))


@pytest.fixture
def proxy(server: LoopbackServer) -> Iterator[ConnectProxy]:
    with ConnectProxy(_upstream(server)) as running:
        yield running


def _universe_credentials(domain: str) -> Credentials:
    return Credentials(token="t0ken", universe_domain=domain)


def _cert_source(pki: Pki):  # type: ignore[no-untyped-def]
    return lambda: (pki.client_cert, pki.client_key)


# --- universe domain --------------------------------------------------------------------------


def test_universe_option_sends_to_the_universe_host_through_the_proxy(
    server: LoopbackServer, proxy: ConnectProxy, pki: Pki
) -> None:
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
    with LookerClient(
        credentials=_universe_credentials("example.test"),
        client_options={"universe_domain": "example.test"},
        transport=transport,
    ) as client:
        assert client.base_url == "https://looker.example.test/"
        assert client.universe_domain == "example.test"
        assert client.projects.locations.instances.get(name=NAME) == {}
    assert proxy.records[0].method == "CONNECT" and proxy.records[0].target == "looker.example.test:443"
    assert server.last.path == f"/v1/{NAME}"
    assert server.last.headers["authorization"] == "Bearer t0ken"
    assert server.last.headers["host"] == "looker.example.test"


def test_universe_mismatch_raises_before_any_connection(server: LoopbackServer, proxy: ConnectProxy, pki: Pki) -> None:
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
    client = LookerClient(
        credentials=_universe_credentials("googleapis.com"),
        client_options=client_options_lib.ClientOptions(universe_domain="example.test"),
        transport=transport,
    )
    with pytest.raises(ValueError, match=r"example.test.*googleapis.com") as info:
        client.projects.locations.instances.get(name=NAME)
    assert isinstance(info.value, universe.UniverseMismatchError)
    # An explicit endpoint still wins, with the same check.
    explicit = LookerClient(
        credentials=_universe_credentials("other.test"),
        endpoint="https://looker.example.test/",
        client_options={"universe_domain": "example.test"},
        transport=transport,
    )
    with pytest.raises(universe.UniverseMismatchError):
        explicit.projects.locations.instances.get(name=NAME)
    assert proxy.records == [] and server.requests == []


def test_universe_environment_variable_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    anonymous = AnonymousCredentials()
    assert LookerClient(credentials=anonymous).base_url == "https://looker.googleapis.com/"
    monkeypatch.setenv("GOOGLE_CLOUD_UNIVERSE_DOMAIN", "example.test")
    assert LookerClient(credentials=anonymous).base_url == "https://looker.example.test/"
    assert LookerAsyncClient(credentials=anonymous).base_url == "https://looker.example.test/"
    # The option wins over the variable; an explicit endpoint wins over both.
    options = {"universe_domain": "sovereign.example"}
    assert LookerClient(credentials=anonymous, client_options=options).base_url == "https://looker.sovereign.example/"
    assert LookerClient(credentials=anonymous, endpoint="https://x.example.test/").base_url == "https://x.example.test/"
    monkeypatch.setenv("GOOGLE_CLOUD_UNIVERSE_DOMAIN", "")
    with pytest.raises(universe.EmptyUniverseError):
        LookerClient(credentials=anonymous)


def test_empty_or_malformed_universe_option_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        LookerClient(credentials=AnonymousCredentials(), client_options={"universe_domain": " "})
    with pytest.raises(ValueError, match="not a DNS domain"):
        LookerClient(credentials=AnonymousCredentials(), client_options={"universe_domain": "evil.test/x?"})


async def _async_get(client: LookerAsyncClient) -> object:
    async with client:
        return await client.projects.locations.instances.get(name=NAME)


def test_async_universe_through_the_proxy_and_mismatch(server: LoopbackServer, proxy: ConnectProxy, pki: Pki) -> None:
    client = LookerAsyncClient(
        credentials=_universe_credentials("example.test"),
        client_options={"universe_domain": "example.test"},
        transport=AiohttpTransport(ssl_context=pki.client_context(), proxy=proxy.url),
    )
    assert asyncio.run(_async_get(client)) == {}
    assert proxy.hosts == ["looker.example.test"] and server.last.headers["host"] == "looker.example.test"
    mismatched = LookerAsyncClient(
        credentials=_universe_credentials("googleapis.com"),
        client_options={"universe_domain": "example.test"},
        transport=AiohttpTransport(ssl_context=pki.client_context(), proxy=proxy.url),
    )
    with pytest.raises(universe.UniverseMismatchError):
        asyncio.run(_async_get(mismatched))
    assert len(proxy.records) == 1 and len(server.requests) == 1


# --- client options that are not supported ------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"api_audience": "https://looker.googleapis.com"}, client_options_lib.ClientOptions(api_audience="aud")],
    ids=["dict", "ClientOptions"],
)
def test_unsupported_client_option_is_refused(options: object) -> None:
    with pytest.raises(ValueError, match=r"client_options not supported by this client: api_audience"):
        LookerClient(credentials=AnonymousCredentials(), client_options=options)


def test_unknown_client_option_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown client_options key.*api_endpont"):
        LookerClient(credentials=AnonymousCredentials(), client_options={"api_endpont": "https://x/"})


# --- mTLS -----------------------------------------------------------------------------------------


def test_mtls_endpoint_always(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, proxy: ConnectProxy, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "always")
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
    with LookerClient(credentials=AnonymousCredentials(), transport=transport) as client:
        assert client.base_url == "https://looker.mtls.googleapis.com/"
        client.projects.locations.instances.get(name=NAME)
    assert proxy.hosts == ["looker.mtls.googleapis.com"]
    assert server.client_names == []  # type: ignore[attr-defined]  # no certificate was configured


def test_mtls_endpoint_never_and_auto_without_a_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    anonymous = AnonymousCredentials()
    assert LookerClient(credentials=anonymous).base_url == "https://looker.googleapis.com/"  # unset: auto
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "never")
    assert LookerClient(credentials=anonymous).base_url == "https://looker.googleapis.com/"
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "auto")
    assert LookerClient(credentials=anonymous).base_url == "https://looker.googleapis.com/"
    for value in ("sometimes", "", " "):  # set but empty is refused too, as GAPIC and googleapiclient refuse it
        monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", value)
        with pytest.raises(MutualTLSChannelError, match="GOOGLE_API_USE_MTLS_ENDPOINT must be never, auto or always"):
            LookerClient(credentials=anonymous)


@pytest.mark.parametrize("value", ["true", "false"])
def test_gclouds_client_certificate_switch_is_honoured_as_google_auth_honours_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    from gapi_runtime import mtls
    from google.auth.transport import mtls as google_mtls

    monkeypatch.delenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud configuration of the user's
    for name in ("CLOUDSDK_CONFIG", "GOOGLE_API_CERTIFICATE_CONFIG"):  # nothing else to decide by
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONTEXT_AWARE_USE_CLIENT_CERTIFICATE", value)
    assert mtls.use_client_certificate() is google_mtls.should_use_client_cert() is (value == "true")


def test_client_certificate_with_auto_goes_to_the_mtls_host_and_reaches_the_server(
    monkeypatch: pytest.MonkeyPatch, mtls_server: LoopbackServer, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    with ConnectProxy(_upstream(mtls_server)) as proxy:
        transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
        options = client_options_lib.ClientOptions(client_cert_source=_cert_source(pki))
        with LookerClient(credentials=AnonymousCredentials(), client_options=options, transport=transport) as client:
            assert client.base_url == "https://looker.mtls.googleapis.com/"
            assert client.projects.locations.instances.get(name=NAME) == {}
        assert proxy.hosts == ["looker.mtls.googleapis.com"]
    assert mtls_server.client_names == [pki.client_name]  # type: ignore[attr-defined]


def test_without_a_certificate_the_mtls_server_refuses(
    monkeypatch: pytest.MonkeyPatch, mtls_server: LoopbackServer, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "always")
    with ConnectProxy(_upstream(mtls_server)) as proxy:
        transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
        with LookerClient(credentials=AnonymousCredentials(), transport=transport) as client:
            with pytest.raises(ConnectError):
                client.projects.locations.instances.get(name=NAME, retry=None)
    assert mtls_server.requests == []


def test_use_client_certificate_false_leaves_the_certificate_out(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, proxy: ConnectProxy, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
    options = {"client_cert_source": _cert_source(pki)}
    with LookerClient(credentials=AnonymousCredentials(), client_options=options, transport=transport) as client:
        assert client.base_url == "https://looker.googleapis.com/"
        client.projects.locations.instances.get(name=NAME)
    assert proxy.hosts == ["looker.googleapis.com"]
    assert server.client_names == []  # type: ignore[attr-defined]
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "yes")
    with pytest.raises(ValueError, match="GOOGLE_API_USE_CLIENT_CERTIFICATE must be true or false"):
        LookerClient(credentials=AnonymousCredentials(), client_options=options)


def test_certificate_with_never_keeps_the_regular_host_but_presents_it(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, proxy: ConnectProxy, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "never")
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
    options = {"client_cert_source": _cert_source(pki)}
    with LookerClient(credentials=AnonymousCredentials(), client_options=options, transport=transport) as client:
        client.projects.locations.instances.get(name=NAME)
    assert proxy.hosts == ["looker.googleapis.com"]
    assert server.client_names == [pki.client_name]  # type: ignore[attr-defined]


def test_encrypted_certificate_source_as_googleapiclient_takes_it(
    monkeypatch: pytest.MonkeyPatch, mtls_server: LoopbackServer, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    key_path = pki.write_encrypted_client_key(b"passphrase")
    options = {"client_encrypted_cert_source": lambda: (pki.path("client.pem"), key_path, b"passphrase")}
    with ConnectProxy(_upstream(mtls_server)) as proxy:
        transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
        with LookerClient(credentials=AnonymousCredentials(), client_options=options, transport=transport) as client:
            client.projects.locations.instances.get(name=NAME)
        assert proxy.hosts == ["looker.mtls.googleapis.com"]
    assert mtls_server.client_names == [pki.client_name]  # type: ignore[attr-defined]


def test_google_auth_default_certificate_source(
    monkeypatch: pytest.MonkeyPatch, mtls_server: LoopbackServer, pki: Pki, tmp_path: Path
) -> None:
    """A workload certificate configuration (GOOGLE_API_CERTIFICATE_CONFIG) is google-auth's default source."""
    config = tmp_path / "certificate_config.json"
    workload = {"cert_path": pki.path("client.pem"), "key_path": pki.path("client-key.pem")}
    config.write_text(json.dumps({"cert_configs": {"workload": workload}}))
    monkeypatch.setenv("GOOGLE_API_CERTIFICATE_CONFIG", str(config))
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    with ConnectProxy(_upstream(mtls_server)) as proxy:
        transport = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url)
        with LookerClient(credentials=AnonymousCredentials(), transport=transport) as client:
            assert client.base_url == "https://looker.mtls.googleapis.com/"
            client.projects.locations.instances.get(name=NAME)
    assert mtls_server.client_names == [pki.client_name]  # type: ignore[attr-defined]
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
    assert LookerClient(credentials=AnonymousCredentials()).base_url == "https://looker.googleapis.com/"


def test_async_client_presents_the_certificate(
    monkeypatch: pytest.MonkeyPatch, mtls_server: LoopbackServer, pki: Pki
) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    with ConnectProxy(_upstream(mtls_server)) as proxy:
        client = LookerAsyncClient(
            credentials=AnonymousCredentials(),
            client_options={"client_cert_source": _cert_source(pki)},
            transport=AiohttpTransport(ssl_context=pki.client_context(), proxy=proxy.url),
        )
        assert asyncio.run(_async_get(client)) == {}
        assert proxy.hosts == ["looker.mtls.googleapis.com"]
    assert mtls_server.client_names == [pki.client_name]  # type: ignore[attr-defined]


def test_mtls_outside_the_default_universe_and_without_an_mtls_root(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "always")
    with pytest.raises(MutualTLSChannelError, match=r"other than googleapis\.com"):
        LookerClient(credentials=AnonymousCredentials(), client_options={"universe_domain": "example.test"})

    class NoMtls(LookerClient):
        MTLS_ROOT_URL = ""

    with pytest.raises(ValueError, match=r"GOOGLE_API_USE_MTLS_ENDPOINT=always.*no mtlsRootUrl"):
        NoMtls(credentials=AnonymousCredentials())
    monkeypatch.setenv("GOOGLE_API_USE_MTLS_ENDPOINT", "auto")
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    client = NoMtls(credentials=AnonymousCredentials(), client_options={"client_cert_source": _cert_source(pki)})
    assert client.base_url == "https://looker.googleapis.com/"  # auto: the regular root, still with the certificate


def test_a_transport_that_cannot_present_a_certificate_is_refused(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    with pytest.raises(ValueError, match="PooledTransport has no use_client_certificate"):
        LookerClient(
            credentials=AnonymousCredentials(),
            client_options={"client_cert_source": _cert_source(pki)},
            transport=PooledTransport(),
        )
    # The default transport can: the client picks the urllib3 one for it.
    client = LookerClient(credentials=AnonymousCredentials(), client_options={"client_cert_source": _cert_source(pki)})
    assert isinstance(client._api.transport.inner, Urllib3Transport)  # type: ignore[attr-defined]


def test_a_broken_certificate_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    with pytest.raises(MutualTLSChannelError, match="cannot load the client certificate"):
        LookerClient(credentials=AnonymousCredentials(), client_options={"client_cert_source": lambda: (b"x", b"y")})


# --- proxies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
def test_https_proxy_from_the_environment_with_the_default_transport(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, proxy: ConnectProxy, pki: Pki, variable: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", pki.ca_path)  # the default TLS context trusts the test CA
    monkeypatch.setenv(variable, proxy.url)
    with LookerClient(credentials=AnonymousCredentials()) as client:
        assert isinstance(client._api.transport.inner, Urllib3Transport)  # type: ignore[attr-defined]
        client.projects.locations.instances.get(name=NAME)
    assert proxy.records[0].target == "looker.googleapis.com:443"
    assert server.last.headers["host"] == "looker.googleapis.com"


def test_without_proxy_variables_requests_go_direct(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, proxy: ConnectProxy, pki: Pki
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", pki.ca_path)
    endpoint = server.url.replace("http://127.0.0.1", "https://localhost")
    with LookerClient(credentials=AnonymousCredentials(), endpoint=endpoint) as client:
        assert isinstance(client._api.transport.inner, PooledTransport)  # type: ignore[attr-defined]
        client.projects.locations.instances.get(name=NAME)
    # Loopback hosts never go through a proxy from the environment.
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with LookerClient(credentials=AnonymousCredentials(), endpoint=endpoint) as client:
        client.projects.locations.instances.get(name=NAME)
    assert proxy.records == [] and len(server.requests) == 2


def test_explicit_proxy_option(
    server: LoopbackServer, proxy: ConnectProxy, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", pki.ca_path)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the explicit proxy wins
    with LookerClient(credentials=AnonymousCredentials(), proxy=proxy.url) as client:
        client.projects.locations.instances.get(name=NAME)
    assert proxy.hosts == ["looker.googleapis.com"]
    with pytest.raises(ValueError, match="proxy= configures the default transport"):
        LookerClient(credentials=AnonymousCredentials(), proxy=proxy.url, transport=PooledTransport())


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_http_proxy_for_plain_http(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    with LoopbackServer() as plain, ConnectProxy(_upstream(plain)) as proxy:
        monkeypatch.setenv(variable, proxy.url)
        with LookerClient(
            credentials=AnonymousCredentials(), endpoint="http://looker.example.test/", allow_insecure_http=True
        ) as client:
            client.projects.locations.instances.get(name=NAME)
        assert proxy.records[0].method == "GET"
        assert proxy.records[0].target == f"http://looker.example.test/v1/{NAME}"
        assert plain.last.path == f"/v1/{NAME}"


def test_proxy_variables_decide_per_scheme_and_no_proxy() -> None:
    env = {"HTTPS_PROXY": "http://secure.proxy:3128", "http_proxy": "http://plain.proxy:8080"}
    settings = ProxySettings(environ=env)
    assert settings.for_url("https://looker.googleapis.com/v1/x").url == "http://secure.proxy:3128"  # type: ignore[union-attr]
    assert settings.for_url("http://looker.example.test/").url == "http://plain.proxy:8080"  # type: ignore[union-attr]
    assert settings.for_url("https://127.0.0.1:8443/") is None and settings.for_url("https://[::1]/") is None
    bypass = ProxySettings(environ={**env, "NO_PROXY": ".example.test,looker.googleapis.com"})
    assert bypass.for_url("https://looker.googleapis.com/") is None
    assert bypass.for_url("http://a.example.test/") is None
    assert bypass.for_url("https://storage.googleapis.com/").url == "http://secure.proxy:3128"  # type: ignore[union-attr]
    assert ProxySettings(environ={**env, "no_proxy": "*"}).for_url("https://x.googleapis.com/") is None
    assert ProxySettings(environ={"https_proxy": "", "HTTPS_PROXY": "http://p:1"}).active is False  # lower case wins
    assert not ProxySettings(environ=env, trust_env=False).active
    with pytest.raises(ValueError, match="HTTPS_PROXY 'socks5://u:\\*\\*\\*@p:1080' is not supported"):
        ProxySettings(environ={"HTTPS_PROXY": "socks5://u:pw@p:1080"})


def test_proxy_variables_read_as_curl_and_requests_read_them() -> None:
    # No scheme: an http proxy. NO_PROXY: IP addresses (IPv6 bare or bracketed), CIDR blocks,
    # ports, and separators of commas or spaces.
    env = {
        "HTTPS_PROXY": "proxy.corp:3128",
        "NO_PROXY": "10.0.0.0/8, fd00::/8 [2001:db8::1]:8443 api.example.test:8443",
    }
    settings = ProxySettings(environ=env)
    assert settings.for_url("https://storage.googleapis.com/").url == "http://proxy.corp:3128"  # type: ignore[union-attr]
    assert settings.for_url("https://10.1.2.3/v1/x") is None and settings.for_url("https://[fd00::7]/") is None
    assert settings.for_url("https://11.1.2.3/").url == "http://proxy.corp:3128"  # type: ignore[union-attr]
    assert settings.for_url("https://[2001:db8::1]:8443/") is None
    assert settings.for_url("https://[2001:db8::1]/") is not None  # another port
    assert settings.for_url("https://api.example.test:8443/") is None
    assert settings.for_url("https://api.example.test/") is not None
    bare = ProxySettings(environ={"HTTPS_PROXY": "http://p:1", "NO_PROXY": "fd00::1,*.example.test"})
    assert bare.for_url("https://[fd00::1]/") is None and bare.for_url("https://a.example.test/") is None


@pytest.mark.parametrize("password", ["s3cr#t9", "pa/ss", "wh?t"])
def test_a_proxy_url_that_does_not_parse_never_shows_its_password(password: str) -> None:
    # Unencoded, these characters end the URL's authority: the URL is refused, its password unshown.
    for make in (lambda url: ProxySettings(proxy=url), lambda url: ProxySettings(environ={"HTTPS_PROXY": url})):
        with pytest.raises(ValueError) as info:
            make(f"http://alice:{password}@proxy.corp:3128")
        assert password not in str(info.value) and "alice:***@proxy.corp:3128" in str(info.value)


def test_proxy_credentials_are_sent_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer, pki: Pki
) -> None:
    with ConnectProxy(_upstream(server), credentials="alice:s3cr%t") as proxy:
        good = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url_with("alice:s3cr%25t"))
        assert "s3cr" not in repr(good)
        with LookerClient(credentials=AnonymousCredentials(), transport=good) as client:
            client.projects.locations.instances.get(name=NAME)
        assert proxy.records[0].headers["proxy-authorization"].startswith("Basic ")
        bad = Urllib3Transport(ssl_context=pki.client_context(), proxy=proxy.url_with("alice:wrongpass"))
        with LookerClient(credentials=AnonymousCredentials(), transport=bad) as client:
            with pytest.raises(ConnectError) as info:
                client.projects.locations.instances.get(name=NAME, retry=None)
        message = str(info.value)
        assert "cannot connect through proxy http://alice:***@127.0.0.1" in message and "407" in message
        assert "wrongpass" not in message and "wrongpass" not in repr(info.value.__cause__)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url_with("alice:s3cr%25t"))
        client = LookerAsyncClient(
            credentials=AnonymousCredentials(), transport=AiohttpTransport(ssl_context=pki.client_context())
        )
        assert asyncio.run(_async_get(client)) == {}
        assert proxy.records[-1].target == "looker.googleapis.com:443"
        assert proxy.records[-1].headers["proxy-authorization"] == proxy.records[0].headers["proxy-authorization"]


def test_an_unreachable_proxy_is_a_connect_error_naming_it(pki: Pki) -> None:
    transport = Urllib3Transport(ssl_context=pki.client_context(), proxy="http://bob:hunter2@127.0.0.1:9")
    with LookerClient(credentials=AnonymousCredentials(), transport=transport) as client:
        with pytest.raises(ConnectError, match=r"cannot connect through proxy http://bob:\*\*\*@127.0.0.1:9") as info:
            client.projects.locations.instances.get(name=NAME, retry=None)
    assert "hunter2" not in str(info.value)


def test_async_default_transport_follows_proxies_and_certificates(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    from gapi_runtime.asyncio_transport import AsyncPooledTransport

    def inner(client: LookerAsyncClient) -> object:
        return client._api.transport.inner  # type: ignore[attr-defined]

    assert isinstance(inner(LookerAsyncClient(credentials=AnonymousCredentials())), AsyncPooledTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert isinstance(inner(LookerAsyncClient(credentials=AnonymousCredentials())), AiohttpTransport)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "true")
    options = {"client_cert_source": _cert_source(pki)}
    with_certificate = LookerAsyncClient(credentials=AnonymousCredentials(), client_options=options)
    assert isinstance(inner(with_certificate), AiohttpTransport)


def test_media_calls_check_the_universe_before_any_io(tmp_path: Path) -> None:
    """Uploads and downloads take their own path to the transport; the same check comes first."""
    from tests.contract.test_media import MEDIA_DOC
    from tests.support import generated_packages as gp

    document = tmp_path / "mediatest.json"
    document.write_text(json.dumps(MEDIA_DOC))
    gp.generate_path(document, tmp_path)
    package = gp.load(tmp_path, "mediatest_v1")
    try:
        with LoopbackServer() as plain:
            client = package.MediatestClient(
                credentials=_universe_credentials("googleapis.com"),
                endpoint=plain.url,
                client_options={"universe_domain": "example.test"},
            )
            with pytest.raises(universe.UniverseMismatchError):
                client.items.get_media(bucket="b", item="i")
            with pytest.raises(universe.UniverseMismatchError):
                client.items.insert(bucket="b", media_body=b"x", media_mime_type="text/plain")
            assert plain.requests == []
    finally:
        gp.forget("mediatest_v1")


def test_batches_check_the_universe_before_sending() -> None:
    with LoopbackServer() as plain:
        client = LookerClient(
            credentials=_universe_credentials("googleapis.com"),
            endpoint=plain.url,
            client_options={"universe_domain": "example.test"},
        )
        batch = client.batch()
        batch.projects.locations.instances.get(name=NAME)
        with pytest.raises(universe.UniverseMismatchError):
            batch.execute()
        assert plain.requests == []

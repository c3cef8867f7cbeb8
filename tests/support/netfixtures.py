"""Loopback stand-ins for the network between a client and Google: a CONNECT proxy that
records which host each request was meant for, a certificate authority made for the test,
and a TLS server that requires a client certificate.

Nothing here reaches a non-loopback address: the proxy never resolves the host it is asked
for; it connects every tunnel (and every plain-http request) to one loopback upstream.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.loopback import LoopbackServer

#: Host names the tests send requests to (through the proxy); the server certificate names them.
TEST_HOSTS = ("looker.example.test", "looker.mtls.googleapis.com", "looker.googleapis.com", "localhost")


# --- certificates -----------------------------------------------------------------------------


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@dataclass
class Pki:
    """A CA, a server certificate for :data:`TEST_HOSTS` and a client certificate, as files and PEM bytes."""

    folder: Path
    ca_cert: bytes = b""
    server_cert: bytes = b""
    server_key: bytes = b""
    client_cert: bytes = b""
    client_key: bytes = b""
    client_name: str = "gapi test client"

    @property
    def ca_path(self) -> str:
        return str(self.folder / "ca.pem")

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the test CA (and nothing else)."""
        return ssl.create_default_context(cafile=self.ca_path)

    def write_encrypted_client_key(self, password: bytes) -> str:
        key = serialization.load_pem_private_key(self.client_key, None)
        path = self.folder / "client-encrypted-key.pem"
        path.write_bytes(_pem_key(key, password))  # type: ignore[arg-type]
        return str(path)


def make_pki(folder: Path) -> Pki:
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gapi test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(name: str, sans: list[x509.GeneralName], usage: x509.ObjectIdentifier) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)

    server_sans: list[x509.GeneralName] = [x509.DNSName(host) for host in TEST_HOSTS]
    server_sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    pki = Pki(folder)
    pki.ca_cert = ca.public_bytes(serialization.Encoding.PEM)
    pki.server_cert, pki.server_key = leaf("looker test server", server_sans, ExtendedKeyUsageOID.SERVER_AUTH)
    pki.client_cert, pki.client_key = leaf(pki.client_name, [], ExtendedKeyUsageOID.CLIENT_AUTH)
    for name, data in {
        "ca.pem": pki.ca_cert,
        "server.pem": pki.server_cert,
        "server-key.pem": pki.server_key,
        "client.pem": pki.client_cert,
        "client-key.pem": pki.client_key,
    }.items():
        (folder / name).write_bytes(data)
    return pki


@contextmanager
def tls_server(pki: Pki, require_client_cert: bool) -> Iterator[LoopbackServer]:
    """A :class:`LoopbackServer` behind TLS with the test server certificate.

    With ``require_client_cert`` the handshake fails unless the client presents a certificate
    the test CA signed; the subject common names of the certificates presented are appended
    to ``server.client_names``.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.path("server.pem"), pki.path("server-key.pem"))
    # Always ask for a client certificate (so one configured is presented and recorded);
    # require one only with ``require_client_cert``.
    context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=pki.ca_path)
    server = LoopbackServer()
    names: list[str] = []
    server.client_names = names  # type: ignore[attr-defined]
    server.handshake_failures = []  # type: ignore[attr-defined]
    inner = server._server
    raw_socket = inner.socket

    def get_request() -> tuple[socket.socket, object]:
        connection, address = raw_socket.accept()
        tls = context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        try:
            tls.settimeout(5)
            tls.do_handshake()
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            server.handshake_failures.append(str(exc))  # type: ignore[attr-defined]
            tls.close()
            raise OSError("handshake failed") from exc
        peer = tls.getpeercert()
        if peer:
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        names.append(value)
        return tls, address

    inner.get_request = get_request  # type: ignore[method-assign]
    inner.handle_error = lambda request, address: None  # type: ignore[method-assign]
    with server:
        yield server


def https_url(server: LoopbackServer, host: str = "127.0.0.1") -> str:
    port = server.url.rsplit(":", 1)[1].rstrip("/")
    return f"https://{host}:{port}/"


# --- the proxy --------------------------------------------------------------------------------


@dataclass
class ProxyRecord:
    """One request the proxy received: ``CONNECT host:port`` or an absolute-form http request."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        if self.method == "CONNECT":
            return self.target.rsplit(":", 1)[0]
        return self.target.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1: records every request, connects all of them to ``upstream``.

    ``credentials`` ("user:password") makes it answer 407 unless ``Proxy-Authorization`` carries
    them. ``url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, upstream: tuple[str, int] | None = None, credentials: str | None = None) -> None:
        self.upstream = upstream
        self.credentials = credentials
        self.records: list[ProxyRecord] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, credentials: str) -> str:
        return f"http://{credentials}@127.0.0.1:{self.port}"

    @property
    def hosts(self) -> list[str]:
        return [record.host for record in self.records]

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closing.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _read_head(self, client: socket.socket) -> tuple[bytes, bytes] | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        return head, rest

    def _handle(self, client: socket.socket) -> None:
        try:
            while True:
                received = self._read_head(client)
                if received is None:
                    return
                head, rest = received
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.records.append(ProxyRecord(method, target, headers))
                if self.credentials is not None:
                    expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
                    if headers.get("proxy-authorization") != expected:
                        client.sendall(
                            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                            b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                        )
                        continue
                if self.upstream is None:
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                upstream = socket.create_connection(self.upstream)
                if method == "CONNECT":
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    if rest:
                        upstream.sendall(rest)
                else:  # plain http through the proxy: pass the request on as it came
                    upstream.sendall(head + b"\r\n\r\n" + rest)
                self._relay(client, upstream)
                return
        except OSError:
            pass
        finally:
            client.close()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while not self._closing.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            upstream.close()

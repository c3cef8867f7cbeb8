"""Endpoints, universes and client certificates, decided the way GAPIC clients decide them.

* The **universe domain** is ``client_options.universe_domain``, else the
  ``GOOGLE_CLOUD_UNIVERSE_DOMAIN`` environment variable, else ``googleapis.com``
  (``google.api_core.universe.determine_domain``; an empty value is an error). The default
  endpoint is the document's ``rootUrl`` with its ``googleapis.com`` host suffix replaced by the
  universe (``https://looker.googleapis.com/`` → ``https://looker.example.test/``). The
  credentials' ``universe_domain`` must equal it (checked before the first request is sent).
* A **client certificate** is used when ``GOOGLE_API_USE_CLIENT_CERTIFICATE`` is ``true`` (or,
  when unset, when google-auth's ``should_use_client_cert()`` finds a workload certificate
  configuration): ``client_options.client_cert_source`` (PEM bytes of certificate and key),
  ``client_options.client_encrypted_cert_source`` (file paths and a passphrase, as
  googleapiclient takes it), else google-auth's default client certificate source.
* ``GOOGLE_API_USE_MTLS_ENDPOINT`` = ``never`` / ``auto`` (default) / ``always`` picks the
  document's ``mtlsRootUrl``: always, or with ``auto`` when a client certificate is used.
  mTLS exists only in the default universe (``MutualTLSChannelError`` otherwise). An explicit
  endpoint wins over all of this (the certificate is still presented).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

__all__ = [
    "DEFAULT_UNIVERSE",
    "ClientCertificate",
    "client_certificate",
    "default_endpoint",
    "mtls_mode",
    "universe_domain",
]

DEFAULT_UNIVERSE = "googleapis.com"
UNIVERSE_ENV = "GOOGLE_CLOUD_UNIVERSE_DOMAIN"
USE_CLIENT_CERT_ENV = "GOOGLE_API_USE_CLIENT_CERTIFICATE"
USE_MTLS_ENDPOINT_ENV = "GOOGLE_API_USE_MTLS_ENDPOINT"


def universe_domain(option: Any) -> str:
    """The client's universe: the option, else ``GOOGLE_CLOUD_UNIVERSE_DOMAIN``, else googleapis.com.

    As ``google.api_core.universe.determine_domain`` (stripped; empty raises its
    ``EmptyUniverseError``), without importing google-api-core unless there is an error.
    """
    if option is not None and not isinstance(option, str):
        raise ValueError(f"client_options universe_domain must be a string, got {type(option).__name__}")
    chosen = option if option is not None else os.environ.get(UNIVERSE_ENV)
    domain = DEFAULT_UNIVERSE if chosen is None else chosen.strip()
    if not domain:
        from google.api_core import universe

        raise universe.EmptyUniverseError()
    if any(not (char.isalnum() or char in "-.") for char in domain) or domain.startswith((".", "-")):
        raise ValueError(f"universe domain {domain!r} is not a DNS domain name")
    return domain


def default_endpoint(root_url: str, domain: str, api: str) -> str:
    """``root_url`` moved into universe ``domain`` (its ``googleapis.com`` host suffix replaced)."""
    if domain == DEFAULT_UNIVERSE:
        return root_url
    parts = urlsplit(root_url)
    host = (parts.hostname or "").lower()
    if host == DEFAULT_UNIVERSE:
        new_host = domain
    elif host.endswith("." + DEFAULT_UNIVERSE):
        new_host = host[: -len(DEFAULT_UNIVERSE)] + domain
    else:
        raise ValueError(
            f"{api}: rootUrl {root_url!r} is not under {DEFAULT_UNIVERSE}, so it has no endpoint in "
            f"universe {domain!r}; pass endpoint="
        )
    netloc = new_host + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def mtls_mode() -> str:
    """``GOOGLE_API_USE_MTLS_ENDPOINT``: ``never``, ``auto`` (default) or ``always``."""
    from google.auth.exceptions import MutualTLSChannelError

    value = os.environ.get(USE_MTLS_ENDPOINT_ENV)
    mode = "auto" if value is None else value.strip().lower()  # set but empty: refused, as GAPIC refuses it
    if mode not in ("never", "auto", "always"):
        raise MutualTLSChannelError(
            f"environment variable {USE_MTLS_ENDPOINT_ENV} must be never, auto or always, got {mode!r}"
        )
    return mode


def use_client_certificate() -> bool:
    """``GOOGLE_API_USE_CLIENT_CERTIFICATE`` (``true``/``false``); unset: google-auth's auto-detection."""
    value = os.environ.get(USE_CLIENT_CERT_ENV)
    if value is not None and value.strip():
        flag = value.strip().lower()
        if flag not in ("true", "false"):
            raise ValueError(f"environment variable {USE_CLIENT_CERT_ENV} must be true or false, got {value!r}")
        return flag == "true"
    if _nothing_configured():
        return False
    from google.auth.transport import mtls

    should_use = getattr(mtls, "should_use_client_cert", None)
    return bool(should_use()) if should_use is not None else False


#: What google-auth reads when GOOGLE_API_USE_CLIENT_CERTIFICATE is unset: gcloud's switch, and
#: where it looks for a workload certificate configuration (its auto-enablement).
_CONFIG_VARIABLES = (
    "CLOUDSDK_CONTEXT_AWARE_USE_CLIENT_CERTIFICATE",  # gcloud's own switch, which google-auth reads too
    "GOOGLE_API_CERTIFICATE_CONFIG",
    "CLOUDSDK_CONTEXT_AWARE_CERTIFICATE_CONFIG_FILE_PATH",
    "CLOUDSDK_CONFIG",
)
_CONFIG_FILES = (
    "~/.config/gcloud/certificate_config.json",
    "/var/run/secrets/workload-spiffe-credentials/x509.credential-bundle.private-key.pem",
)


def _nothing_configured() -> bool:
    """True when google-auth's ``should_use_client_cert()`` has nothing to find (the common case).

    Then google-auth's mTLS helpers (≈10 ms of imports) are not loaded; otherwise they decide.
    """
    if os.name != "posix" or any(os.environ.get(name) for name in _CONFIG_VARIABLES):
        return False
    return not any(os.path.exists(os.path.expanduser(path)) for path in _CONFIG_FILES)


class ClientCertificate:
    """A client certificate and its private key, to present in TLS handshakes.

    Either PEM bytes (``client_cert_source``, google-auth's default source) or file paths and
    a passphrase (``client_encrypted_cert_source``). Nothing of it appears in a repr.
    """

    __slots__ = ("cert", "key", "passphrase", "source")

    def __init__(
        self, cert: bytes | str, key: bytes | str, passphrase: bytes | None = None, source: str = "client_cert_source"
    ) -> None:
        self.cert = cert
        self.key = key
        self.passphrase = passphrase
        self.source = source

    def __repr__(self) -> str:
        return f"ClientCertificate(source={self.source!r})"

    def load_into(self, context: ssl.SSLContext) -> None:
        """Load the certificate chain into ``context``; MutualTLSChannelError when it cannot."""
        import shutil
        import ssl
        import tempfile

        from google.auth.exceptions import MutualTLSChannelError

        folder: str | None = None
        try:
            cert, key = self.cert, self.key
            if isinstance(cert, bytes) or isinstance(key, bytes):
                folder = tempfile.mkdtemp(prefix="gapi-mtls-")  # mode 0700; removed below
                cert = _write(folder, "cert.pem", cert)
                key = _write(folder, "key.pem", key)
            context.load_cert_chain(certfile=cert, keyfile=key, password=self.passphrase)
        except (OSError, ValueError, TypeError, ssl.SSLError) as exc:
            raise MutualTLSChannelError(
                f"cannot load the client certificate from {self.source}: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _write(folder: str, name: str, value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    path = os.path.join(folder, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(value)
    return path


def _call_source(source: Callable[[], Any], name: str, size: int) -> tuple[Any, ...]:
    from google.auth.exceptions import MutualTLSChannelError

    if not callable(source):
        raise ValueError(f"client_options {name} must be a callable, got {type(source).__name__}")
    value = source()
    if not isinstance(value, tuple) or len(value) != size:
        raise MutualTLSChannelError(f"client_options {name} must return a tuple of {size} values")
    return value


def client_certificate(cert_source: Any, encrypted_cert_source: Any) -> ClientCertificate | None:
    """The client certificate to present, or None (see the module docstring for the rules)."""
    if cert_source is not None and encrypted_cert_source is not None:
        raise ValueError("pass either client_cert_source or client_encrypted_cert_source, not both")
    if not use_client_certificate():
        return None
    if cert_source is not None:
        cert, key = _call_source(cert_source, "client_cert_source", 2)
        return ClientCertificate(cert, key, source="client_options client_cert_source")
    if encrypted_cert_source is not None:
        cert_path, key_path, passphrase = _call_source(encrypted_cert_source, "client_encrypted_cert_source", 3)
        return ClientCertificate(
            str(cert_path), str(key_path), passphrase, source="client_options client_encrypted_cert_source"
        )
    from google.auth.transport import mtls

    if not mtls.has_default_client_cert_source():
        return None
    cert, key = mtls.default_client_cert_source()()
    return ClientCertificate(cert, key, source="google-auth's default client certificate source")


def choose_root(
    *, root_url: str, mtls_root_url: str, domain: str, certificate: ClientCertificate | None, api: str
) -> str:
    """The root URL without an explicit endpoint: in the universe, or the mTLS root."""
    from google.auth.exceptions import MutualTLSChannelError

    mode = mtls_mode()
    if mode == "always" or (mode == "auto" and certificate is not None):
        if domain != DEFAULT_UNIVERSE:
            raise MutualTLSChannelError(f"mTLS is not supported in any universe other than {DEFAULT_UNIVERSE}.")
        if mtls_root_url:
            return mtls_root_url
        if mode == "always":
            raise ValueError(
                f"{api}: {USE_MTLS_ENDPOINT_ENV}=always, but the API's document names no mtlsRootUrl; pass endpoint="
            )
    return default_endpoint(root_url, domain, api)


def check_universe(domain: str, credentials: Any) -> None:
    """UniverseMismatchError (a ValueError) unless ``credentials`` belong to universe ``domain``.

    As ``google.api_core.universe.compare_domains`` (credentials without ``universe_domain``
    count as googleapis.com).
    """
    found = getattr(credentials, "universe_domain", DEFAULT_UNIVERSE)
    if found != domain:
        from google.api_core import universe

        raise universe.UniverseMismatchError(domain, found)

"""Which ``x-goog-hash`` a download checks, and how ("auto", as google-cloud-storage does).

Cloud Storage sends ``x-goog-hash: crc32c=…,md5=…`` (base64 of the digest; composite
objects only crc32c). A download checks one of them:

* the crc32c, when ``google-crc32c`` is importable with its C implementation (hardware
  CRC32C: about 0.02 s per 256 MiB) or when it is the only hash sent;
* else the md5 (``hashlib``: about 0.5 s per 256 MiB).

No hash is checked when the server sent none, or when the hash is not of the bytes the
transport hands over (transcoded or compressed answers).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from types import ModuleType
from typing import NamedTuple, Protocol

__all__ = ["Digest", "Expected", "expected"]


class Digest(Protocol):
    """A running hash: ``hashlib``'s md5 or ``google_crc32c.Checksum``."""

    def update(self, data: bytes, /) -> object: ...

    def digest(self) -> bytes: ...


class Expected(NamedTuple):
    """The hash a download's bytes must have: its name in ``x-goog-hash`` and its base64 value."""

    name: str  # "crc32c" or "md5"
    value: str

    def digest(self) -> Digest:
        """A new running hash of this kind."""
        if self.name == "md5":
            return hashlib.md5(usedforsecurity=False)
        crc32c = _crc32c()
        assert crc32c is not None  # expected() names crc32c only when it can be computed
        return crc32c.Checksum()  # type: ignore[no-any-return]

    def matches(self, digest: Digest) -> bool:
        """Whether ``digest`` (fed all the bytes) is the expected hash."""
        return base64.b64encode(digest.digest()).decode("ascii") == self.value


def expected(x_goog_hash: str | None) -> Expected | None:
    """The hash to check from an answer's ``x-goog-hash`` value, or None (the caller makes
    sure that the hashes are of the bytes it hands over)."""
    if not x_goog_hash:
        return None
    sent: dict[str, str] = {}
    for item in x_goog_hash.split(","):
        name, _, encoded_value = item.strip().partition("=")
        if encoded_value.strip():
            sent.setdefault(name.strip().lower(), encoded_value.strip())
    crc, md5 = sent.get("crc32c"), sent.get("md5")
    crc32c = _crc32c() if crc is not None else None
    if crc is not None and crc32c is not None and (md5 is None or crc32c.implementation == "c"):
        return Expected("crc32c", crc)
    if md5 is not None:
        return Expected("md5", md5)
    return None


@functools.cache
def _crc32c() -> ModuleType | None:
    """``google_crc32c``, imported on first use; None if it is not installed."""
    try:
        import google_crc32c
    except ImportError:
        return None
    return google_crc32c

"""No argument can re-target a request: hostile path and query values, checked on the wire.

Each row is sent through the generated Looker client (``{+name}`` paths with patterns) or a
hand-made spec (``{var}`` paths without patterns) to a real loopback server. A row is
either refused before any I/O (the server sees nothing) or arrives percent-encoded exactly
as google/api/http.proto prescribes, with no added query parameter and the path the caller
named — never normalized into another resource.
"""

from __future__ import annotations

from typing import Any

import pytest
from gapi_runtime import BaseClient, MethodSpec, PathParam
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient

from tests.support.loopback import LoopbackServer

INSTANCE = "projects/p/locations/l/instances/"
REFUSED = None

#: (value for ``instances.get(name=…)``, request target on the wire or REFUSED)
NAME_ROWS: list[tuple[Any, str | None]] = [
    (INSTANCE + "x", "/v1/projects/p/locations/l/instances/x"),
    # RFC 6570 reserved expansion would let these through and inject a query or a fragment.
    (INSTANCE + "x?alt=media#", "/v1/projects/p/locations/l/instances/x%3Falt%3Dmedia%23"),
    (INSTANCE + "x?key=attacker", "/v1/projects/p/locations/l/instances/x%3Fkey%3Dattacker"),
    (INSTANCE + "x#frag", "/v1/projects/p/locations/l/instances/x%23frag"),
    # CR, LF, NUL: only ever percent-encoded; no header or request line can be forged.
    (INSTANCE + "x\r\nHost: evil.example", "/v1/projects/p/locations/l/instances/x%0D%0AHost%3A%20evil.example"),
    (INSTANCE + "x\n", "/v1/projects/p/locations/l/instances/x%0A"),
    (INSTANCE + "x\x00", "/v1/projects/p/locations/l/instances/x%00"),
    (INSTANCE + "a b\tc", "/v1/projects/p/locations/l/instances/a%20b%09c"),
    # Already-encoded text is encoded again: a server's decoding cannot produce '..' or '/'.
    (INSTANCE + "%2e%2e", "/v1/projects/p/locations/l/instances/%252e%252e"),
    (INSTANCE + "%2F", "/v1/projects/p/locations/l/instances/%252F"),
    (INSTANCE + "\\..\\x", "/v1/projects/p/locations/l/instances/%5C..%5Cx"),
    (INSTANCE + "@evil.example:443", "/v1/projects/p/locations/l/instances/%40evil.example%3A443"),
    (INSTANCE + "x;y=z", "/v1/projects/p/locations/l/instances/x%3By%3Dz"),
    (INSTANCE + "x:cancel", "/v1/projects/p/locations/l/instances/x%3Acancel"),
    (INSTANCE + "é€😀", "/v1/projects/p/locations/l/instances/%C3%A9%E2%82%AC%F0%9F%98%80"),
    (INSTANCE + "...", "/v1/projects/p/locations/l/instances/..."),
    (INSTANCE + "a..b", "/v1/projects/p/locations/l/instances/a..b"),
    # Dot segments: URL normalization would turn them into another resource.
    (INSTANCE + "..", REFUSED),
    (INSTANCE + ".", REFUSED),
    ("projects/p/locations/../instances/x", REFUSED),
    ("projects/./locations/l/instances/x", REFUSED),
    # Full match, not a prefix match; '$' does not accept a trailing newline here either.
    (INSTANCE + "x/../../../../other", REFUSED),
    (INSTANCE + "x/y", REFUSED),
    ("other/" + INSTANCE + "x", REFUSED),
    ("projects/p/locations/l/instances", REFUSED),
    ("", REFUSED),
    (INSTANCE + "x" * 9000, REFUSED),  # longer than the pattern guard
    (INSTANCE + "\ud800", REFUSED),  # not encodable as UTF-8
    (42, REFUSED),
]


@pytest.mark.parametrize(("value", "wire"), NAME_ROWS, ids=[repr(row[0])[:40] for row in NAME_ROWS])
def test_path_values_on_the_wire(value: Any, wire: str | None, server: LoopbackServer, looker: LookerClient) -> None:
    if wire is REFUSED:
        with pytest.raises(ValueError):
            looker.projects.locations.instances.get(name=value)
        assert server.requests == []
        return
    looker.projects.locations.instances.get(name=value)
    (request,) = server.requests
    assert request.target == wire
    assert request.query == []
    assert request.method == "GET"


#: (filter value for ``operations.list``, the raw query on the wire or REFUSED)
QUERY_ROWS: list[tuple[Any, str | None]] = [
    ("a", "filter=a"),
    ("a&alt=media", "filter=a%26alt%3Dmedia"),
    ("a&key=attacker&filter=b", "filter=a%26key%3Dattacker%26filter%3Db"),
    ("x#frag", "filter=x%23frag"),
    ("?x=1", "filter=%3Fx%3D1"),
    ("line\r\nX-Injected: 1", "filter=line%0D%0AX-Injected%3A%201"),
    ("nul\x00", "filter=nul%00"),
    ("a+b c", "filter=a%2Bb%20c"),
    ("100%", "filter=100%25"),
    ("%26", "filter=%2526"),
    ("ü", "filter=%C3%BC"),
    ('name="x" AND state!=ACTIVE', "filter=name%3D%22x%22%20AND%20state%21%3DACTIVE"),
    ("\ud800", REFUSED),
]


@pytest.mark.parametrize(("value", "raw"), QUERY_ROWS, ids=[repr(row[0])[:40] for row in QUERY_ROWS])
def test_query_values_on_the_wire(value: Any, raw: str | None, server: LoopbackServer, looker: LookerClient) -> None:
    operations = looker.projects.locations.operations
    if raw is REFUSED:
        with pytest.raises(ValueError):
            operations.list(name="projects/p/locations/l", filter=value)
        assert server.requests == []
        return
    operations.list(name="projects/p/locations/l", filter=value)
    (request,) = server.requests
    assert request.path == "/v1/projects/p/locations/l/operations"
    assert request.raw_query == raw
    assert [name for name, _ in request.query] == ["filter"]
    assert dict(request.query)["filter"] == value


def test_every_query_value_is_encoded_and_none_adds_a_parameter(server: LoopbackServer, looker: LookerClient) -> None:
    looker.projects.locations.operations.list(
        name="projects/p/locations/l", filter="&pageSize=1", page_size=5, page_token="t&x=y#z"
    )
    assert sorted(server.last.query) == [("filter", "&pageSize=1"), ("pageSize", "5"), ("pageToken", "t&x=y#z")]


class _Plain(BaseClient):
    """A client for hand-made specs: ``{var}`` paths without patterns."""

    _API_ID = "plain:v1"
    _PACKAGE = "plain_v1"
    _REVISION = "1"
    _ROOT_URL = "https://plain.googleapis.com/"


ITEM = MethodSpec("plain.items.get", "GET", ("v1/items/", ":peek"), (PathParam("id", False),))
DOTTED = MethodSpec("plain.dotted.get", "GET", ("v1/", "./y"), (PathParam("x", True),))

#: (value for a ``{id}`` path variable, request target on the wire or REFUSED)
PLAIN_ROWS: list[tuple[Any, str | None]] = [
    ("a/b", "/v1/items/a%2Fb:peek"),
    ("../../admin", "/v1/items/..%2F..%2Fadmin:peek"),
    ("a?b#c", "/v1/items/a%3Fb%23c:peek"),
    ("\r\n", "/v1/items/%0D%0A:peek"),
    ("...", "/v1/items/...:peek"),
    ("-_.~", "/v1/items/-_.~:peek"),
    (7, "/v1/items/7:peek"),
    (True, "/v1/items/true:peek"),
    ("..", REFUSED),
    (".", REFUSED),
    ("", REFUSED),
    (None, REFUSED),
    (b"bytes", REFUSED),
    (["a"], REFUSED),
]


@pytest.mark.parametrize(("value", "wire"), PLAIN_ROWS, ids=[repr(row[0])[:40] for row in PLAIN_ROWS])
def test_unreserved_path_values_on_the_wire(value: Any, wire: str | None, server: LoopbackServer) -> None:
    with _Plain(credentials=AnonymousCredentials(), endpoint=server.url) as client:
        if wire is REFUSED:
            with pytest.raises((ValueError, TypeError)):
                client._api.call(ITEM, (value,), ())
            assert server.requests == []
            return
        client._api.call(ITEM, (value,), ())
    assert server.last.target == wire


def test_a_value_that_only_with_the_template_forms_a_dot_segment_is_refused(server: LoopbackServer) -> None:
    # "{+x}./y" passes the generator's template check ("x./y"), but x="a/" would send "a/./y".
    with _Plain(credentials=AnonymousCredentials(), endpoint=server.url) as client:
        with pytest.raises(ValueError, match="segment"):
            client._api.call(DOTTED, ("a/",), ())
        assert server.requests == []
        client._api.call(DOTTED, ("a",), ())
    assert server.last.target == "/v1/a./y"

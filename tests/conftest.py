"""Shared fixtures: a loopback server and a Looker client pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.loopback import LoopbackServer  # noqa: E402

if TYPE_CHECKING:
    from looker_v1 import LookerClient


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the fixture documents instead of comparing (review with git diff)",
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def looker(server: LoopbackServer) -> Iterator[LookerClient]:
    """Imported here, not at collection: a run of the generator's tests never loads the client."""
    from google.auth.credentials import AnonymousCredentials
    from looker_v1 import LookerClient

    client = LookerClient(credentials=AnonymousCredentials(), endpoint=server.url)
    yield client
    client.close()

"""Enum parameters are checked before I/O (with an opt-out), and typing.get_type_hints() works on
every public generated class and method (Looker and every fixture; the CI slice in test_all_apis)."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import gapi_runtime as rt
import pytest
from gapi_runtime.spec import check_enums
from google.auth.credentials import AnonymousCredentials

from tests.support import generated_packages as gp
from tests.support.loopback import LoopbackServer
from tests.support.type_hints import check_package


@pytest.fixture(scope="module")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    for name in gp.fixture_names():
        gp.generate_path(gp.fixture_path(name), out)
    return out


@pytest.fixture
def enums(fixtures_dir: Path) -> Iterator[ModuleType]:
    package = gp.load(fixtures_dir, "repeatedenum_v1")
    yield package
    gp.forget("repeatedenum_v1")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def test_an_invalid_enum_value_is_refused_before_io(enums: ModuleType, server: LoopbackServer) -> None:
    client = enums.RepeatedenumClient(credentials=AnonymousCredentials(), endpoint=server.url)
    with pytest.raises(ValueError, match=r"repeatedenum.things.list: view='bogus' is not one of .*'BASIC', 'FULL'"):
        client.things.list(view="bogus")
    with pytest.raises(ValueError, match=r"states='PAUSED' is not one of .*'STATE_UNSPECIFIED', 'ACTIVE', 'DELETED'"):
        client.things.list(states=["ACTIVE", "PAUSED"])
    with pytest.raises(ValueError, match="check_enums=False"):
        list(client.things.list(view="full"))  # case matters, as on the wire
    assert server.requests == []
    client.things.list(view="FULL", states=["ACTIVE", "DELETED"])
    assert server.last.query == [("states", "ACTIVE"), ("states", "DELETED"), ("view", "FULL")]


def test_check_enums_false_sends_values_newer_than_the_document(enums: ModuleType, server: LoopbackServer) -> None:
    client = enums.RepeatedenumClient(credentials=AnonymousCredentials(), endpoint=server.url, check_enums=False)
    client.things.list(view="EXTENDED", states=["ARCHIVED"])
    assert server.last.query == [("states", "ARCHIVED"), ("view", "EXTENDED")]


def test_async_client_checks_enums_too(enums: ModuleType, server: LoopbackServer) -> None:
    async def run() -> None:
        async with enums.RepeatedenumAsyncClient(credentials=AnonymousCredentials(), endpoint=server.url) as client:
            with pytest.raises(ValueError, match="view='bogus'"):
                await client.things.list(view="bogus")
        async with enums.RepeatedenumAsyncClient(
            credentials=AnonymousCredentials(), endpoint=server.url, check_enums=False
        ) as client:
            await client.things.list(view="NEW")

    asyncio.run(run())
    assert [request.query for request in server.requests] == [[("view", "NEW")]]


def test_path_parameter_enums_are_checked() -> None:
    spec: rt.MethodSpec[typing.Any] = rt.MethodSpec(
        id="api.things.get",
        http_method="GET",
        path=("v1/", "/things"),
        path_params=(rt.PathParam("collection"),),
        enums=(rt.EnumParam("collection", "collection", ("public", "private"), True),),
    )
    check_enums(spec, ("public",), ())
    with pytest.raises(ValueError, match=r"api.things.get: collection='shared' is not one of .*'public', 'private'"):
        check_enums(spec, ("shared",), ())


def test_literal_annotations_stay(enums: ModuleType) -> None:
    from repeatedenum_v1.resources import things

    hints = typing.get_type_hints(things.ThingsResource.list)
    assert hints["view"] == typing.Optional[typing.Literal["BASIC", "FULL"]]  # noqa: UP045


def test_get_type_hints_on_every_public_class_and_method_of_looker() -> None:
    import looker_v1

    checked, failures = check_package(looker_v1.__name__)
    assert failures == []
    assert checked > 80
    hints = typing.get_type_hints(looker_v1.LookerClient.__init__)
    from google.auth.credentials import Credentials

    assert hints["credentials"] == typing.Optional[Credentials]  # noqa: UP045
    from google.api_core.retry import Retry
    from looker_v1 import schemas
    from looker_v1.resources.projects import ProjectsLocationsInstancesResource

    get_hints = typing.get_type_hints(ProjectsLocationsInstancesResource.get)
    assert Retry in typing.get_args(get_hints["retry"]) and get_hints["return"] is schemas.Instance


def test_schema_fields_hold_their_types_and_name_other_schemas_by_forward_reference() -> None:
    """The schemas module evaluates its annotations at import: a field of a Python type holds the
    type itself (no ForwardRef compiled at import); one naming a schema class is quoted, since
    that class may come further down, and get_type_hints resolves it."""
    from looker_v1 import schemas

    own = schemas.Instance.__annotations__
    assert own["name"] is str and own["fipsEnabled"] is bool
    assert "ACTIVE" in typing.get_args(own["state"])  # an evaluated Literal (a ForwardRef has no args)
    assert isinstance(own["adminSettings"], typing.ForwardRef)
    assert typing.get_type_hints(schemas.Instance)["adminSettings"] is schemas.AdminSettings
    assert typing.get_type_hints(schemas.AdminSettings) == {"allowedEmailDomains": typing.List[str]}  # noqa: UP006


def test_get_type_hints_on_every_fixture(fixtures_dir: Path) -> None:
    total = 0
    for folder in sorted(path for path in fixtures_dir.iterdir() if path.is_dir()):
        package = gp.load(fixtures_dir, folder.name)
        try:
            checked, failures = check_package(package.__name__)
        finally:
            gp.forget(folder.name)
        assert failures == [], folder.name
        total += checked
    assert total > 300


def test_type_hints_cost_nothing_at_import() -> None:
    """The stand-in modules import nothing until an annotation is evaluated."""
    import subprocess
    import sys

    script = (
        "import sys, looker_v1;"
        "from google.auth.credentials import AnonymousCredentials as A;"
        "c = looker_v1.LookerClient(credentials=A()); c.projects.locations.instances;"
        "lazy = ('looker_v1.schemas', 'gapi_runtime.aio', 'google.api_core.retry');"
        "print(sorted(m for m in lazy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_batched_calls_check_enums_when_queued(enums: ModuleType, server: LoopbackServer) -> None:
    client = enums.RepeatedenumClient(credentials=AnonymousCredentials(), endpoint=server.url)
    with pytest.raises(ValueError, match="view='bogus'"):
        client.batch().things.list(view="bogus")
    lax = enums.RepeatedenumClient(credentials=AnonymousCredentials(), endpoint=server.url, check_enums=False)
    lax.batch().things.list(view="NEW")  # queued, not sent
    assert server.requests == []

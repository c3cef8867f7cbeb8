"""What the generated ``testing.py`` (the in-memory fake) needs from the client IR.

The fake's behaviour lives in the runtime (:mod:`gapi_runtime.testing`); the generated module
only lists the API's methods: where each method's :class:`~gapi_runtime.spec.MethodSpec` is
defined, whether it returns a google.longrunning Operation, and the items field of a paged
response. Names are decided here, as in :mod:`codegen.ir`; values stay values (the template
spells them with the ``py`` filter).
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.ir import ClientIR

#: Module alias of the client module (top-level methods' specs) in ``testing.py``. Resource
#: module aliases are ``_`` + a snake_case name, so capitalized names never collide.
CLIENT_MODULE_ALIAS = "_C"


@dataclass(frozen=True)
class FakeRow:
    """One method of the fake's table."""

    module_alias: str  # the module defining the spec, as imported in testing.py
    spec_name: str
    operation: bool
    items: str  # the wire name of the items field, or "" when the method does not page one list


@dataclass(frozen=True)
class FakeIR:
    class_name: str  # Fake<Api>
    client_class: str
    async_client_class: str
    #: (resources module, alias) imported by the table.
    imports: tuple[tuple[str, str], ...]
    uses_client_module: bool
    rows: tuple[FakeRow, ...]
    client_alias: str = CLIENT_MODULE_ALIAS


def fake_class_name(client_class: str) -> str:
    """``LookerClient`` → ``FakeLooker``."""
    return "Fake" + client_class.removesuffix("Client")


def lower_fake(client: ClientIR) -> FakeIR:
    rows = [FakeRow(CLIENT_MODULE_ALIAS, m.spec_name, m.returns_operation, m.items_field) for m in client.methods]
    imports: dict[str, str] = {}
    for module in client.modules:
        for resource in module.root.walk():
            for method in resource.methods:
                imports[resource.module] = resource.module_alias
                row = FakeRow(resource.module_alias, method.spec_name, method.returns_operation, method.items_field)
                rows.append(row)
    return FakeIR(
        class_name=fake_class_name(client.client_class),
        client_class=client.client_class,
        async_client_class=client.async_client_class,
        imports=tuple(sorted(imports.items())),
        uses_client_module=bool(client.methods),
        rows=tuple(rows),
    )

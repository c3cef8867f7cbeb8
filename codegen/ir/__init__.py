"""The generation IR: what the templates print, decided from a discovery document.

``ir.lower(document)`` builds a :class:`ClientIR`. The package is split by concern:
:mod:`~codegen.ir.nodes` (the frozen IR values), :mod:`~codegen.ir.types` (:class:`TypeRef`,
type annotations as values), :mod:`~codegen.ir.lowering` (document → IR),
:mod:`~codegen.ir.schemas` (schema classes and the types of schema positions),
:mod:`~codegen.ir.names` (package and class names), :mod:`~codegen.ir.operations` (which
resources re-read long-running operations),
:mod:`~codegen.ir.layout` (modules and schema chunks of big APIs), :mod:`~codegen.ir.docs`
(docstring texts) and :mod:`~codegen.ir.constants`.

The IR holds values, never Python source: strings are plain (ids, wire names, URLs), types
are :class:`TypeRef`; the templates spell literals through one filter (``py``).
"""

from __future__ import annotations

from codegen.discovery import Document
from codegen.ir.constants import (
    BODILESS_METHODS,
    CLASS_RESERVED,
    CLIENT_RESERVED,
    DISTRIBUTION_PREFIX,
    DOWNLOAD_RESERVED,
    MAX_MODULE_NAME,
    MEDIA_SIZE_SHIFTS,
    METHOD_RESERVED,
    MODULE_METHOD_BUDGET,
    MODULE_SIZE_BUDGET,
    PARTIAL_FAILURE_LISTS,
    RUNTIME_DISTRIBUTION,
    RUNTIME_MIN_VERSION,
    RUNTIME_MODULE,
    SCHEMA_CHUNK_CHARS,
    SCHEMA_RESERVED,
    STANDARD_PARAMETERS,
    UPLOAD_RESERVED,
)
from codegen.ir.lowering import _Lowering, media_size, next_token_field
from codegen.ir.names import client_class_name, package_name, with_async_names, with_batch_names
from codegen.ir.nodes import (
    ClientIR,
    Field,
    MethodIR,
    OperationsIR,
    Param,
    PathVariable,
    ResourceIR,
    ResourceModule,
    SchemaClass,
    SchemaModule,
    StatusOperationsIR,
    StatusRouteIR,
    UploadPlan,
)
from codegen.ir.operations import StatusKind, all_methods, status_shape
from codegen.ir.schemas import SchemaTypes
from codegen.ir.types import TypeRef

__all__ = [
    "BODILESS_METHODS",
    "CLASS_RESERVED",
    "CLIENT_RESERVED",
    "DISTRIBUTION_PREFIX",
    "DOWNLOAD_RESERVED",
    "MAX_MODULE_NAME",
    "MEDIA_SIZE_SHIFTS",
    "METHOD_RESERVED",
    "MODULE_METHOD_BUDGET",
    "MODULE_SIZE_BUDGET",
    "PARTIAL_FAILURE_LISTS",
    "RUNTIME_DISTRIBUTION",
    "RUNTIME_MIN_VERSION",
    "RUNTIME_MODULE",
    "SCHEMA_CHUNK_CHARS",
    "SCHEMA_RESERVED",
    "STANDARD_PARAMETERS",
    "UPLOAD_RESERVED",
    "ClientIR",
    "Field",
    "MethodIR",
    "OperationsIR",
    "Param",
    "PathVariable",
    "ResourceIR",
    "ResourceModule",
    "SchemaClass",
    "SchemaModule",
    "SchemaTypes",
    "StatusKind",
    "StatusOperationsIR",
    "StatusRouteIR",
    "TypeRef",
    "UploadPlan",
    "all_methods",
    "client_class_name",
    "lower",
    "media_size",
    "next_token_field",
    "package_name",
    "status_shape",
    "with_async_names",
    "with_batch_names",
]


def lower(
    document: Document,
    *,
    module_method_budget: int | None = None,
    module_size_budget: int | None = None,
    schema_chunk_chars: int | None = None,
) -> ClientIR:
    """Build the generation IR for ``document``.

    The budgets default to this package's :data:`MODULE_METHOD_BUDGET`, :data:`MODULE_SIZE_BUDGET`
    and :data:`SCHEMA_CHUNK_CHARS` (read when called, so tests may set them); tests pass small
    ones to exercise the split layout.
    """
    return _Lowering(document).client(
        module_method_budget or MODULE_METHOD_BUDGET,
        module_size_budget or MODULE_SIZE_BUDGET,
        schema_chunk_chars or SCHEMA_CHUNK_CHARS,
    )

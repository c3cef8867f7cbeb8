"""``codegen operations``: which methods return an operation a handle can follow, and its shape.

The same rules as generation (:func:`codegen.ir.operations.find_operation_resources` for
google.longrunning operations, :func:`codegen.ir.operations.find_status_operations` for
operations whose ``status`` reaches DONE), applied to one document or to every bundled one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from codegen.discovery import Document
from codegen.ir import operations

LONGRUNNING = "google.longrunning"
STATUS = "status DONE"
UNFOLLOWABLE = "not followable"


@dataclass(frozen=True)
class Shape:
    """One operation schema of an API and the methods that return it."""

    kind: str  # LONGRUNNING, STATUS or UNFOLLOWABLE
    schema: str
    detail: str  # how it is read and re-read, or why it cannot be
    methods: tuple[str, ...]


def shapes(document: Document) -> list[Shape]:
    """The operation shapes of ``document``, google.longrunning first."""
    found = []
    lro = operations.find_operation_resources(document)
    refs = sorted({get.response_ref for _, get, _ in lro})
    rereads = {method.json_path for _, get, cancel in lro for method in (get, cancel) if method is not None}
    for ref in refs:
        methods = tuple(
            method.id
            for method in operations.all_methods(document)
            if method.response_ref == ref and method.json_path not in rereads
        )
        gets = ", ".join(get.id for _, get, _ in lro if get.response_ref == ref)
        found.append(Shape(LONGRUNNING, ref, f"done == true, error (google.rpc.Status), polled with {gets}", methods))
    for kind in operations.find_status_operations(document):
        if kind.unfollowable:
            found.append(Shape(UNFOLLOWABLE, kind.ref, kind.unfollowable, kind.methods))
        else:
            found.append(Shape(STATUS, kind.ref, kind.shape, kind.methods))
    return found


def report_one(document: Document, stream: TextIO = sys.stdout) -> None:
    """Every operation shape of one API with the methods that return it."""
    found = shapes(document)
    if not found:
        print(f"{document.name} {document.version}: no operations a handle can follow", file=stream)
    for shape in found:
        print(f"{document.name} {document.version}: {shape.kind} {shape.schema}: {shape.detail}", file=stream)
        for method in shape.methods:
            print(f"  {method}", file=stream)


def report_all(documents: list[Document], stream: TextIO = sys.stdout) -> None:
    """One line per API that has operations, then the totals per shape."""
    apis: dict[str, int] = {}
    methods: dict[str, int] = {}
    for document in documents:
        found = shapes(document)
        for shape in found:
            print(
                f"{document.name:28} {document.version:14} {shape.kind:18} {shape.schema:28} "
                f"{len(shape.methods):4} methods  {shape.detail}",
                file=stream,
            )
        for kind in {shape.kind for shape in found}:
            apis[kind] = apis.get(kind, 0) + 1
        for shape in found:
            methods[shape.kind] = methods.get(shape.kind, 0) + len(shape.methods)
    print(f"documents: {len(documents)}", file=stream)
    for kind in (LONGRUNNING, STATUS, UNFOLLOWABLE):
        print(f"{kind}: {apis.get(kind, 0)} APIs, {methods.get(kind, 0)} methods", file=stream)

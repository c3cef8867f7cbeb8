"""The names of a generated package: its package, client classes, and the async and batch
twins of its resource classes."""

from __future__ import annotations

import dataclasses
import re

from codegen import naming
from codegen.discovery import Document
from codegen.ir.nodes import ResourceIR


def package_name(document: Document) -> str:
    """``looker`` + ``v1`` → ``looker_v1``; ``admin`` + ``directory_v1`` → ``admin_directory_v1``."""
    return f"{naming.python_name(document.name, 'api')}_{naming.python_name(document.version, 'v')}".rstrip("_")


def client_class_name(document: Document, kind: str = "Client") -> str:
    """``LookerClient``; with ``kind="AsyncClient"``, ``LookerAsyncClient``."""
    base = re.sub(r"[^A-Za-z0-9]", "", document.canonical_name) or naming.pascal_case(document.name)
    base = base[:1].upper() + base[1:]  # some canonical names start in lower case ("directory")
    return naming.class_name(base + kind, "Api" + kind)


def with_async_names(resource: ResourceIR, classes: naming.Scope) -> ResourceIR:
    """``resource``'s tree with the async twin of every class named, in the same class scope.

    Called after every sync class of the tree is named, so sync names never change:
    ``ProjectsLocationsResource`` → ``ProjectsLocationsAsyncResource`` (or the next free name).
    """
    stem = resource.class_name.rstrip("_")
    stem = stem[: -len("Resource")] + "AsyncResource" if stem.endswith("Resource") else stem + "Async"
    named = dataclasses.replace(resource, async_class_name=classes.allocate(stem))
    return dataclasses.replace(named, children=tuple(with_async_names(child, classes) for child in resource.children))


def with_batch_names(resource: ResourceIR, classes: naming.Scope) -> ResourceIR:
    """``resource``'s tree with the batch twin of every class named (after sync and async names):
    ``FilesResource`` → ``FilesBatchResource`` (or the next free name)."""
    stem = resource.class_name.rstrip("_")
    stem = stem[: -len("Resource")] + "BatchResource" if stem.endswith("Resource") else stem + "Batch"
    named = dataclasses.replace(resource, batch_class_name=classes.allocate(stem))
    return dataclasses.replace(named, children=tuple(with_batch_names(child, classes) for child in resource.children))

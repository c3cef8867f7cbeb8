"""One generation step: load → lower → render → write, with the package's version and the downgrade guard.

``codegen generate`` (one document or ``--all``), ``codegen build`` and ``codegen update`` all
go through :func:`generate`; rendering itself knows nothing of changelogs or stored documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codegen import changelog, render, safety
from codegen.errors import CodegenError
from codegen.ir import package_name
from codegen.phases import Phases
from codegen.versions import compare_revisions

if TYPE_CHECKING:
    from codegen.discovery import Document
    from codegen.safety import EndpointPolicy

#: The input document, stored in the project folder beside the package it generated.
STORED_DOCUMENT = "discovery.json"


@dataclass(frozen=True)
class Generated:
    """What one generation did: the rendered output and, by mode, the changed files or the diff."""

    output: render.Output
    changed: tuple[str, ...] = ()  # files written or removed (write mode)
    difference: str = ""  # unified diff against what is on disk (check mode; empty: up to date)


def package_folder(document: Document, out: Path) -> Path:
    """The project folder ``out/<package>`` that ``document`` generates."""
    return out / package_name(document)


def package_version(document: Document, out: Path) -> str:
    """The version to emit for ``document``'s package under ``out`` (from its changelog)."""
    return changelog.current_version(package_folder(document, out))


def stored_revision(path: Path) -> str | None:
    """The revision of the stored document at ``path``; None when there is none readable."""
    try:
        tree = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    revision = tree.get("revision") if isinstance(tree, dict) else None
    return revision if isinstance(revision, str) else None


def newer_stored_revision(revision: str, stored: Path) -> str | None:
    """The revision of the document stored at ``stored`` if it is newer than ``revision``."""
    old = stored_revision(stored)
    return old if old is not None and compare_revisions(old, revision) == -1 else None


def check_downgrade(document: Document, out: Path, allow: bool) -> None:
    """Refuse ``document`` when its revision is older than the stored one, unless ``allow``."""
    stored = package_folder(document, out) / STORED_DOCUMENT
    old = newer_stored_revision(document.revision, stored)
    if old is None or allow:
        return
    raise CodegenError(
        f"{document.source}: revision {document.revision} is older than revision {old} of {stored}; "
        "refusing to downgrade (pass --allow-downgrade to do it anyway)"
    )


def generate(
    document: Document,
    out: Path,
    *,
    check: bool = False,
    allow_downgrade: bool = False,
    endpoints: EndpointPolicy | None = None,
    version: str | None = None,
    phases: Phases | None = None,
) -> Generated:
    """Render ``document`` into ``out/<package>``; with ``check``, write nothing and diff instead.

    The version comes from the package's changelog under ``out`` unless ``version`` is given.
    ``phases``, when given, gets the time spent in each step (see :mod:`codegen.phases`).
    """
    drafted = begin(
        document, out, check=check, allow_downgrade=allow_downgrade, endpoints=endpoints, version=version, phases=phases
    )
    return complete(drafted, render.format_draft(drafted, phases=phases), out, check=check, phases=phases)


def begin(
    document: Document,
    out: Path,
    *,
    check: bool = False,
    allow_downgrade: bool = False,
    endpoints: EndpointPolicy | None = None,
    version: str | None = None,
    phases: Phases | None = None,
) -> render.Draft:
    """:func:`generate` up to formatting (same arguments): the downgrade guard, then :func:`render.draft`."""
    safety.check_names(document)  # they name the folder the guard and the changelog are read from
    if not check:
        check_downgrade(document, out, allow=allow_downgrade)
    return render.draft(document, version or package_version(document, out), endpoints=endpoints, phases=phases)


def complete(
    drafted: render.Draft,
    formatted: Mapping[str, str],
    out: Path,
    *,
    check: bool = False,
    phases: Phases | None = None,
) -> Generated:
    """:func:`generate` from the formatted modules of ``drafted`` on: compile, then write or diff."""
    output = render.finish(drafted, formatted, phases=phases)
    if check:
        return Generated(output, difference=render.diff(output, out))
    with (phases or Phases()).timed("write"):
        changed = tuple(render.write(output, out))
        changed += _start_changelog(drafted, out / output.package)
    return Generated(output, changed=changed)


def _start_changelog(drafted: render.Draft, project: Path) -> tuple[str, ...]:
    """A new project's changelog: its first version's entry (the README and MANIFEST.in name it).

    Only when there is none: after that, ``codegen update`` alone writes it.
    """
    if (project / changelog.FILENAME).exists():
        return ()
    version = changelog.current_version(project)
    text = changelog.entry(version, None, drafted.document.revision, changelog.today())
    changelog.prepend(project, drafted.package, text)
    return (changelog.FILENAME,)

"""The generated package's version and its ``CHANGELOG.md``.

The version lives in one place: the newest ``## X.Y.Z`` heading of
``<out>/<package>/CHANGELOG.md``. The generator reads it and emits it as
``<package>/_version.py`` (``__version__``), so ``codegen generate`` reproduces the same
bytes and ``--check`` stays clean; ``codegen update`` is the only writer of new headings,
so a version cannot change without a changelog entry. A package without a changelog is
at :data:`INITIAL_VERSION`. The changelog is not generator output: regeneration keeps it.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from codegen.errors import CodegenError, one_line
from codegen.files import write_atomic
from codegen.versions import INITIAL_VERSION, VERSION

if TYPE_CHECKING:
    from codegen.diff import Bump, Report

FILENAME = "CHANGELOG.md"
_HEADING = re.compile(r"^## +(\S+)", re.MULTILINE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")
_SECTIONS: Mapping[str, str] = {"breaking": "Breaking changes", "feature": "Features", "patch": "Other changes"}


def current_version(package_dir: Path) -> str:
    """The package version: the newest heading of its changelog, else :data:`INITIAL_VERSION`."""
    path = package_dir / FILENAME
    if not path.is_file():
        return INITIAL_VERSION
    text = path.read_text(encoding="utf-8", errors="replace")
    match = _HEADING.search(text)
    if match is None:
        raise CodegenError(f"{path}: no '## X.Y.Z' version heading; the newest heading is the package version")
    version = match.group(1)
    if not VERSION.fullmatch(version):
        raise CodegenError(f"{path}: the newest heading {version!r} is not a version X.Y.Z")
    return version


def bump(version: str, kind: Bump) -> str:
    """``1.4.2`` bumped: major → ``2.0.0``, minor → ``1.5.0``, patch → ``1.4.3``, none → same."""
    match = VERSION.fullmatch(version)
    if match is None:
        raise CodegenError(f"not a version X.Y.Z: {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    if kind == "major":
        return f"{major + 1}.0.0"
    if kind == "minor":
        return f"{major}.{minor + 1}.0"
    if kind == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def today() -> datetime.date:
    """Today in UTC, or the day of ``$SOURCE_DATE_EPOCH`` for reproducible runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.datetime.now(datetime.timezone.utc).date()


def entry(version: str, report: Report | None, revision: str, date: datetime.date, forced: bool = False) -> str:
    """The changelog entry for ``version``; ``report`` is None for a package's first version."""
    lines = [f"## {version} — revision {_text(revision or '?')} ({date.isoformat()})", ""]
    if report is None:
        lines += ["First generated version.", ""]
        return "\n".join(lines)
    counts = report.counts
    kind = report.bump if report.bump != "none" else ("patch" if forced else "none")
    lines.append(
        f"Revision {_text(report.old.revision or '?')} → {_text(report.new.revision or '?')}. "
        f"Version bump: {kind} ({counts['breaking']} breaking, {counts['feature']} feature, "
        f"{counts['patch']} other, {counts['docs']} documentation change(s))."
    )
    lines.append("")
    for severity, heading in _SECTIONS.items():
        changes = report.of_severity(severity)  # type: ignore[arg-type]
        if not changes:
            continue
        lines += [f"### {heading}", ""]
        for change in changes:
            lines.append(f"- {_code(change.python)}: {_text(change.message)} ({_code(change.path)})")
        lines.append("")
    if counts["docs"]:
        lines += ["### Documentation", "", f"- {counts['docs']} description change(s).", ""]
    if not report.changes:
        lines += ["Regenerated without changes to the surface (`--force`).", ""]
    return "\n".join(lines)


def baseline(version: str, revision: str) -> str:
    """The entry recording the version a package had before its changelog began."""
    return f"## {version} — revision {_text(revision or '?')}\n\nThe version generated before this changelog began.\n"


def prepend(package_dir: Path, package: str, text: str, previous: tuple[str, str] | None = None) -> Path:
    """Put the entry ``text`` first in the changelog (created when missing); write atomically.

    ``previous`` is (version, revision) of the package before the update: recorded as a
    baseline entry when the changelog is created.
    """

    path = package_dir / FILENAME
    if path.is_file():
        existing = path.read_text(encoding="utf-8")
        match = _HEADING.search(existing)
        head, tail = (existing[: match.start()], existing[match.start() :]) if match else (existing, "")
        content = head.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n" + ("\n" + tail if tail else "")
    else:
        title = [
            f"# Changelog of {package}",
            "",
            f"Written by `codegen update`. The newest heading is the package version (`{package}.__version__`); "
            "entries' text may be edited, headings must stay `## X.Y.Z`.",
            "",
        ]
        body = text.rstrip("\n") + "\n"
        if previous is not None:
            body += "\n" + baseline(*previous)
        content = "\n".join(title) + "\n" + body
    write_atomic(path, content.encode("utf-8"))
    return path


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it contains."""
    flat = one_line(text, 400)
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _text(text: str) -> str:
    """Document text in Markdown prose: one line, Markdown and HTML specials escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text, 400))

"""The report of ``codegen diff``: its changes, their severities, the suggested version bump,
and how it reads as text and as JSON (the comparison itself is :mod:`codegen.diff`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from codegen import ir
from codegen.discovery import Document
from codegen.versions import compare_revisions

Severity = Literal["breaking", "feature", "patch", "docs"]
Bump = Literal["major", "minor", "patch", "none"]

SEVERITIES: tuple[Severity, ...] = ("breaking", "feature", "patch", "docs")
_HEADINGS: Mapping[Severity, str] = {
    "breaking": "Breaking changes",
    "feature": "Features",
    "patch": "Other changes (patch)",
    "docs": "Documentation only",
}


@dataclass(frozen=True)
class Change:
    """One difference on the generated surface."""

    severity: Severity
    kind: str  # e.g. "parameter-removed"
    python: str  # the Python surface name (the old one for removals, else the new one)
    path: str  # the document JSON path (of the old document for removals, else of the new one)
    message: str  # what happened, in words
    old: str | None = None  # the old value, when one applies
    new: str | None = None  # the new value, when one applies

    def to_json(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ApiInfo:
    """Which document one side of a comparison is."""

    name: str
    version: str
    revision: str
    package: str
    source: str

    @classmethod
    def of(cls, document: Document) -> ApiInfo:
        return cls(document.name, document.version, document.revision, ir.package_name(document), document.source)

    def to_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Report:
    """The changes from ``old`` to ``new``, sorted by severity, then Python name."""

    old: ApiInfo
    new: ApiInfo
    changes: tuple[Change, ...]

    def of_severity(self, severity: Severity) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.severity == severity)

    @property
    def breaking(self) -> bool:
        return any(change.severity == "breaking" for change in self.changes)

    @property
    def counts(self) -> dict[str, int]:
        return {severity: len(self.of_severity(severity)) for severity in SEVERITIES}

    @property
    def bump(self) -> Bump:
        """The suggested semantic-version bump of the generated package."""
        counts = self.counts
        if counts["breaking"]:
            return "major"
        if counts["feature"]:
            return "minor"
        if counts["patch"] or counts["docs"]:
            return "patch"
        return "none"

    @property
    def revision_order(self) -> int | None:
        """-1 when the new revision is older, 0 same, 1 newer, None when not comparable."""
        return compare_revisions(self.old.revision, self.new.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "breaking": self.breaking,
            "bump": self.bump,
            "counts": self.counts,
            "changes": [change.to_json() for change in self.changes],
        }

    def format_text(self, verbose: bool = False) -> str:
        """The human report: a header, then the changes grouped by severity."""
        lines = [self.header()]
        if (self.old.name, self.old.version) != (self.new.name, self.new.version):
            lines.append(
                f"note: comparing different APIs ({self.old.name} {self.old.version} → "
                f"{self.new.name} {self.new.version})"
            )
        if self.revision_order == -1:
            lines.append(f"note: the new revision {self.new.revision} is OLDER than {self.old.revision}")
        if not self.changes:
            lines.append("No changes to the generated surface.")
        for severity in SEVERITIES:
            changes = self.of_severity(severity)
            if not changes:
                continue
            if severity == "docs" and not verbose:
                lines.append("")
                lines.append(f"{_HEADINGS[severity]}: {len(changes)} change(s) (not listed; -v lists them)")
                continue
            lines.append("")
            lines.append(f"{_HEADINGS[severity]} ({len(changes)}):")
            lines.extend(_change_lines(changes, collapse=severity == "patch" and not verbose))
        lines.append("")
        counts = self.counts
        lines.append(
            f"{counts['breaking']} breaking, {counts['feature']} feature, {counts['patch']} patch, "
            f"{counts['docs']} documentation change(s); suggested version bump: {self.bump}"
        )
        return "\n".join(lines) + "\n"

    def header(self) -> str:
        return (
            f"{self.new.name} {self.new.version} ({self.new.package}): revision {self.old.revision or '?'} "
            f"→ {self.new.revision or '?'}"
        )


#: In the patch group, a message repeated more than this many times is printed once (``-v``: all).
COLLAPSE_OVER = 5


def _change_lines(changes: tuple[Change, ...], collapse: bool) -> list[str]:
    counts: dict[tuple[str, str], int] = {}
    for change in changes:
        counts[(change.kind, change.message)] = counts.get((change.kind, change.message), 0) + 1
    lines: list[str] = []
    shown: set[tuple[str, str]] = set()
    for change in changes:
        key = (change.kind, change.message)
        if collapse and counts[key] > COLLAPSE_OVER:
            if key not in shown:
                shown.add(key)
                lines.append(f"  {change.python} and {counts[key] - 1} more: {change.message} (-v lists them)")
                lines.append(f"      at {change.path} …")
            continue
        lines.append(f"  {change.python}: {change.message}")
        lines.append(f"      at {change.path}")
    return lines

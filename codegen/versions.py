"""Version and revision rules shared by rendering, the changelog and the downgrade guard.

A package version is ``X.Y.Z`` without leading zeros (it becomes a literal in generated
code, so it is checked before it gets there); a document revision is a ``YYYYMMDD`` string.
"""

from __future__ import annotations

import re

from codegen.errors import CodegenError

#: The version of a package that has no changelog yet.
INITIAL_VERSION = "1.0.0"
VERSION = re.compile(r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")


def check_version(version: str) -> str:
    """``version`` itself when it is ``X.Y.Z`` (no leading zeros), else a :class:`CodegenError`."""
    if not VERSION.fullmatch(version):
        raise CodegenError(f"not a version X.Y.Z: {version!r}")
    return version


def compare_revisions(old: str, new: str) -> int | None:
    """Order two revisions (``YYYYMMDD`` strings): -1 older, 0 same, 1 newer, None unknown."""
    if old == new:
        return 0
    if old.isdigit() and new.isdigit() and old.isascii() and new.isascii():
        # Compared as digit strings (length, then text), so no length is too long to convert.
        old_key, new_key = _number_key(old), _number_key(new)
        return -1 if new_key < old_key else (1 if new_key > old_key else 0)
    return None


def _number_key(digits: str) -> tuple[int, str]:
    """An ASCII digit string's sort key in numeric order."""
    significant = digits.lstrip("0")
    return len(significant), significant

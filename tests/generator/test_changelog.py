"""The generated package's version (the newest CHANGELOG.md heading) and changelog entries."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from codegen import changelog, discovery, versions
from codegen.diff import diff_documents
from codegen.errors import CodegenError

DAY = datetime.date(2026, 11, 5)


@pytest.mark.parametrize(
    ("version", "kind", "expected"),
    [
        ("1.4.2", "major", "2.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.4.2", "none", "1.4.2"),
        ("0.9.9", "major", "1.0.0"),
        ("9.99.999", "minor", "9.100.0"),
    ],
)
def test_bump(version: str, kind: changelog.Bump, expected: str) -> None:
    assert changelog.bump(version, kind) == expected


@pytest.mark.parametrize("bad", ["1.0", "1.0.0.0", "01.0.0", "1.0.0-rc1", "v1.0.0", ""])
def test_versions_are_plain_x_y_z(bad: str) -> None:
    with pytest.raises(CodegenError):
        versions.check_version(bad)


def test_current_version_is_the_newest_heading(tmp_path: Path) -> None:
    assert changelog.current_version(tmp_path) == "1.0.0"  # no changelog yet
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\nIntro ## 9.9.9 inline\n\n## 2.1.0 — x\n\n## 2.0.0\n")
    assert changelog.current_version(tmp_path) == "2.1.0"
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\nNo entries.\n")
    with pytest.raises(CodegenError, match=re.escape("no '## X.Y.Z' version heading")):
        changelog.current_version(tmp_path)


def _document(**changes: object) -> discovery.Document:
    doc = {
        "name": "zoo",
        "version": "v1",
        "revision": "20250101",
        "rootUrl": "https://zoo.googleapis.com/",
        "schemas": {"Animal": {"id": "Animal", "type": "object", "properties": {"kind": {"type": "string"}}}},
    }
    doc.update(changes)
    return discovery.load_bytes(json.dumps(doc).encode(), "zoo.json")


def test_entries_are_prepended_after_the_title(tmp_path: Path) -> None:
    old = _document()
    new = _document(revision="20250202", schemas={"Animal": {"id": "Animal", "type": "object", "properties": {}}})
    report = diff_documents(old, new)
    entry = changelog.entry("2.0.0", report, new.revision, DAY)
    path = changelog.prepend(tmp_path, "zoo_v1", entry, ("1.0.0", "20250101"))
    first = path.read_text()
    assert first.startswith("# Changelog of zoo_v1\n\nWritten by `codegen update`.")
    assert "## 2.0.0 — revision 20250202 (2026-11-05)" in first
    removed = "- `schemas.Animal.kind`: field removed (`$.schemas.Animal.properties.kind`)"
    assert f"### Breaking changes\n\n{removed}" in first
    assert first.index("## 2.0.0") < first.index("## 1.0.0 — revision 20250101")

    changelog.prepend(tmp_path, "zoo_v1", changelog.entry("2.0.1", None, "20250303", DAY))
    second = path.read_text()
    assert second.index("# Changelog of zoo_v1") < second.index("## 2.0.1") < second.index("## 2.0.0")
    assert second.count("# Changelog of zoo_v1") == 1
    assert changelog.current_version(tmp_path) == "2.0.1"
    assert [p.name for p in tmp_path.iterdir()] == ["CHANGELOG.md"]  # atomic write left no temporary file


def test_document_text_cannot_break_out_of_the_markdown(tmp_path: Path) -> None:
    hostile = "a`b</code><script>x</script>\n## 99.0.0 [link](javascript:x)"
    kind = {"type": "string", "enum": ["A"]}
    old = _document(schemas={"Animal": {"id": "Animal", "type": "object", "properties": {"kind": kind}}})
    new = _document(
        schemas={
            "Animal": {
                "id": "Animal",
                "type": "object",
                "properties": {
                    "kind": {**kind, "enum": ["A", hostile]},
                    hostile: {"type": "string"},
                },
            }
        }
    )
    text = changelog.entry("1.1.0", diff_documents(old, new), "2025\n## 98.0.0", DAY)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("#")] == [lines[0], "### Features"]  # no injected heading
    field = next(line for line in lines if "field added" in line)
    # The Python name is a code span fenced longer than the backtick inside it: HTML there is inert.
    assert field.startswith('- ``schemas.Animal["a`b</code><script>x</script>\\n## 99.0.0 [link](javascript:x)"]``:')
    enum = next(line for line in lines if "enum value" in line)
    prose = enum.split("`: ", 1)[1].rsplit(" (`", 1)[0]
    assert prose.startswith("enum value ") and prose.endswith(" added")
    assert re.search(r"(?<!\\)[<>\[\]`]", prose) is None, prose  # every Markdown/HTML special escaped
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n" + text)
    assert changelog.current_version(tmp_path) == "1.1.0"

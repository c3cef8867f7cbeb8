"""codegen.render.format_sources: the pinned ruff formats generated sources in a scratch folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from codegen import render
from codegen.errors import CodegenError


def test_sources_are_formatted_and_the_scratch_folder_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    make = tempfile.TemporaryDirectory

    def recording(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        folder = make(*args, **kwargs)
        seen.append(folder.name)
        return folder

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recording)
    formatted = render.format_sources({"a.py": "x = ( 1,2 )\n", "pkg/b.py": "def f( a ):\n  return a\n"})
    assert formatted == {"a.py": "x = (1, 2)\n", "pkg/b.py": "def f(a):\n    return a\n"}
    assert len(seen) == 1 and not os.path.exists(seen[0])
    scratch = render.scratch_folder()
    if scratch is not None:  # memory-backed where the system has it
        assert Path(seen[0]).parent == Path(scratch)


def test_scratch_folder_is_memory_unless_tmpdir_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    render.scratch_folder.cache_clear()
    try:
        monkeypatch.setenv("TMPDIR", str(tmp_path))
        assert render.scratch_folder() is None  # the user's choice: tempfile's default
        render.scratch_folder.cache_clear()
        monkeypatch.delenv("TMPDIR")
        shm = os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK)
        assert render.scratch_folder() == ("/dev/shm" if shm else None)
    finally:
        render.scratch_folder.cache_clear()


def test_a_formatter_failure_is_one_clear_error() -> None:
    with pytest.raises(CodegenError, match="ruff format failed on generated code"):
        render.format_sources({"bad.py": "def f(:\n"})


def test_a_scratch_folder_without_room_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A container's small /dev/shm (64 MiB by default in Docker) is passed over for the default."""
    monkeypatch.setattr(render, "scratch_folder", lambda: str(tmp_path))
    free = {"blocks": 0}

    class Stats:
        f_frsize = 4096

        @property
        def f_bavail(self) -> int:
            return free["blocks"]

    monkeypatch.setattr(os, "statvfs", lambda path: Stats())
    free["blocks"] = (64 * 1024 * 1024) // 4096
    assert render._scratch_for(1_000_000) is None
    free["blocks"] = (1024 * 1024 * 1024) // 4096
    assert render._scratch_for(1_000_000) == str(tmp_path)
    assert render._scratch_for(300_000_000) is None  # 4x the sources would not fit


def test_several_documents_are_formatted_by_one_ruff_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """``format_many``: same module names in two documents stay apart; one ruff run for both."""
    runs: list[int] = []
    real = render.format_sources

    def counting(sources: dict[str, str]) -> dict[str, str]:
        runs.append(len(sources))
        return real(sources)

    monkeypatch.setattr(render, "format_sources", counting)
    first = {"__init__.py": "x = ( 1,2 )\n", "resources/a.py": "def f( a ):\n  return a\n"}
    second = {"__init__.py": "y = [ 3 ]\n"}
    assert render.format_many([first, second]) == [
        {"__init__.py": "x = (1, 2)\n", "resources/a.py": "def f(a):\n    return a\n"},
        {"__init__.py": "y = [3]\n"},
    ]
    assert runs == [3]
    with pytest.raises(CodegenError, match="ruff format failed"):
        render.format_many([first, {"bad.py": "def f(:\n"}])

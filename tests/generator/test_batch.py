"""codegen.batch: how ``generate --all`` cuts the documents into work items and runs a group."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from codegen import batch, bundled, render
from codegen.errors import CodegenError


def _job(folder: Path, name: str, size: int) -> batch.Job:
    path = folder / name
    path.write_bytes(b" " * size)
    return batch.Job(str(path), str(folder / "out"))


def test_big_documents_go_alone_and_small_ones_in_groups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(batch, "SMALL_DOCUMENT", 100)
    monkeypatch.setattr(batch, "GROUP_BYTES", 200)
    monkeypatch.setattr(batch, "GROUP_DOCUMENTS", 3)
    big = [_job(tmp_path, f"big{index}.json", 150) for index in range(2)]
    small = [_job(tmp_path, f"small{index}.json", size) for index, size in enumerate([90, 90, 50, 10, 10, 10, 10])]
    groups = batch._groups([*big, *small])
    assert [[Path(job.path).name for job in group] for group in groups] == [
        ["big0.json"],
        ["big1.json"],
        ["small0.json", "small1.json"],  # a third would pass GROUP_BYTES
        ["small2.json", "small3.json", "small4.json"],  # GROUP_DOCUMENTS
        ["small5.json", "small6.json"],
    ]


def test_a_group_shares_one_ruff_run_and_a_failure_stays_with_its_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """If the group's ruff run fails, each document is formatted alone: only the culprit fails."""
    apis = [("oauth2", "v2"), ("translate", "v2"), ("looker", "v1")]
    jobs = [batch.Job(str(bundled.find(*api).path), str(tmp_path / "out")) for api in apis]
    real = render.format_sources
    runs: list[int] = []

    def failing_on_translate(sources: dict[str, str]) -> dict[str, str]:
        runs.append(len(sources))
        if any("Cloud Translation" in source for source in sources.values()):
            raise CodegenError("ruff format failed on generated code: injected")
        return real(sources)

    monkeypatch.setattr(render, "format_sources", failing_on_translate)
    results = batch.run_group(jobs)
    assert [result.source for result in results] == ["oauth2.v2.json", "translate.v2.json", "looker.v1.json"]
    assert [bool(result.error) for result in results] == [False, True, False]
    assert results[1].error == "ruff format failed on generated code: injected"
    assert len(runs) == 4  # the whole group once, then each document alone
    assert all(result.verified for result in (results[0], results[2]))
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["looker_v1", "oauth2_v2"]

    runs.clear()

    def counting(sources: dict[str, str]) -> dict[str, str]:
        runs.append(len(sources))
        return real(sources)

    monkeypatch.setattr(render, "format_sources", counting)
    results = batch.run_group([jobs[0], jobs[2]])
    assert not any(result.error for result in results) and len(runs) == 1
    assert all(dict(result.phases)["format"] > 0 for result in results)  # the run's time, shared


def test_cyclic_garbage_is_collected_once_at_the_end() -> None:
    class Node:
        other: object = None

    was_enabled = gc.isenabled()
    gc.enable()
    try:
        with batch._collecting_once():
            assert not gc.isenabled()
            node = Node()
            node.other = node
            alive = weakref.ref(node)
            del node
            assert alive() is not None  # no collection inside the block
        assert gc.isenabled() and alive() is None
        gc.disable()  # a caller that turned the collector off keeps it off
        with batch._collecting_once():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()

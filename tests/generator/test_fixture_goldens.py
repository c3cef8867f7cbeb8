"""Every fixture document has its generated output committed under ``tests/golden/<fixture>/``.

A change of the generator that changes any fixture's output fails here with a unified diff;
``python -m pytest tests/generator/test_fixture_goldens.py --update-golden`` rewrites the goldens so the
change is reviewed with ``git diff`` like any other. The stored document itself is left out
(it is the fixture); everything else ``generate`` writes is kept.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from codegen import discovery, render
from codegen.generate import STORED_DOCUMENT
from tests.support import generated_packages as gp

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _expected(name: str) -> dict[str, bytes]:
    output = render.render(discovery.load_path(gp.fixture_path(name)))
    return {path: data for path, data in output.files.items() if path != STORED_DOCUMENT}


def _committed(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _diff(name: str, expected: dict[str, bytes], committed: dict[str, bytes]) -> str:
    lines: list[str] = []
    for path in sorted(expected.keys() | committed.keys()):
        old = committed.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = expected.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        lines.extend(difflib.unified_diff(old, new, f"golden/{name}/{path}", f"generated/{path}"))
    return "".join(lines)


@pytest.mark.parametrize("name", gp.fixture_names())
def test_fixture_output_matches_its_golden(name: str, request: pytest.FixtureRequest) -> None:
    expected = _expected(name)
    folder = GOLDEN / name
    if request.config.getoption("--update-golden"):
        shutil.rmtree(folder, ignore_errors=True)
        for path, data in expected.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
        return
    committed = _committed(folder)
    if committed != expected:
        difference = _diff(name, expected, committed)
        pytest.fail(
            f"the output of tests/fixtures/{name}.json changed; review and accept it with "
            f"`python -m pytest tests/generator/test_fixture_goldens.py --update-golden`:\n{difference[:8000]}",
            pytrace=False,
        )


def test_no_golden_without_a_fixture() -> None:
    assert sorted(path.name for path in GOLDEN.iterdir() if path.is_dir()) == gp.fixture_names()

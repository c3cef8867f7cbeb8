"""Nothing is written outside the output folder, and every user error is one line, exit 2.

Symlinks planted in the target, hostile package and file names, a failure half-way through
writing, and the ``codegen generate`` command line with bad input of every kind.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codegen import cli, discovery, render
from codegen.errors import CodegenError
from codegen.render import Output

ROOT = Path(__file__).resolve().parents[2]


def _tree(**changes: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {
        "name": "tiny",
        "version": "v1",
        "rootUrl": "https://tiny.googleapis.com/",
        "revision": "20260101",
        "schemas": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "resources": {
            "items": {
                "methods": {
                    "get": {
                        "id": "tiny.items.get",
                        "httpMethod": "GET",
                        "path": "v1/{+name}",
                        "parameters": {"name": {"type": "string", "location": "path", "required": True}},
                        "response": {"$ref": "Item"},
                    }
                }
            }
        },
    }
    tree.update(changes)
    return tree


@pytest.fixture(scope="module")
def output() -> Output:
    return render.render(discovery.load_bytes(json.dumps(_tree()).encode(), "tiny.json"))


def _files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")) if folder.exists() else []


# --- symlinks and names ------------------------------------------------------------------


def test_a_symlinked_package_folder_is_refused(output: Output, tmp_path: Path) -> None:
    outside, out = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    out.mkdir()
    (out / output.package).symlink_to(outside, target_is_directory=True)
    with pytest.raises(CodegenError, match="symlink"):
        render.write(output, out)
    with pytest.raises(CodegenError, match="symlink"):
        render.diff(output, out)
    assert _files(outside) == []


def test_a_symlinked_subfolder_is_refused_before_anything_is_written(output: Output, tmp_path: Path) -> None:
    outside, out = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    (out / output.package / output.package).mkdir(parents=True)
    (out / output.package / output.package / "resources").symlink_to(outside, target_is_directory=True)
    with pytest.raises(CodegenError, match="symlink"):
        render.write(output, out)
    assert _files(outside) == []
    assert _files(out / output.package) == [output.package, f"{output.package}/resources"]


def test_a_symlinked_file_is_refused_and_its_target_untouched(output: Output, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not overwrite or print")
    out = tmp_path / "out"
    render.write(output, out)
    client = out / output.package / output.package / "_client.py"
    client.unlink()
    client.symlink_to(secret)
    with pytest.raises(CodegenError, match="symlink"):
        render.write(output, out)
    with pytest.raises(CodegenError, match="symlink"):
        render.diff(output, out)  # would otherwise print the linked file's content
    assert secret.read_text() == "do not overwrite or print"


def test_a_planted_temporary_file_symlink_is_not_followed(output: Output, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep")
    out = tmp_path / "out"
    folder = out / output.package / output.package
    folder.mkdir(parents=True)
    (folder / f"._client.py.{os.getpid()}.tmp").symlink_to(secret)
    with pytest.raises(CodegenError):
        render.write(output, out)
    assert secret.read_text() == "keep"
    assert _files(folder) == [f"._client.py.{os.getpid()}.tmp"]


def test_a_file_where_a_folder_goes_is_refused(output: Output, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / output.package / output.package).mkdir(parents=True)
    (out / output.package / output.package / "resources").write_text("not a folder")
    with pytest.raises(CodegenError, match="not a directory"):
        render.write(output, out)


@pytest.mark.parametrize("package", ["../evil", "/tmp/evil", "a.b", "a-b", "", "é"])
def test_hostile_package_names_are_refused(package: str, output: Output, tmp_path: Path) -> None:
    hostile = Output(package, {"__init__.py": b""}, 0, 0)
    with pytest.raises(CodegenError, match="identifier"):
        render.write(hostile, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../x.py", "/etc/x.py", "a//b.py", "", "a/../b.py", ".hidden", "a\\b.py", "x" * 300])
def test_hostile_file_names_are_refused(name: str, tmp_path: Path) -> None:
    hostile = Output("pkg", {name: b"", "__init__.py": b""}, 0, 0)
    with pytest.raises(CodegenError, match="plain relative file name"):
        render.write(hostile, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failure_half_way_leaves_nothing_behind(
    output: Output, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open
    calls = 0

    def failing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    out = tmp_path / "deep" / "out"
    with pytest.raises(CodegenError, match="No space left on device") as raised:
        render.write(output, out)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "deep").exists()


def test_a_failure_when_updating_keeps_the_previous_files(
    output: Output, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    render.write(output, out)
    folder = out / output.package
    before = {name: (folder / name).read_bytes() for name in _files(folder) if (folder / name).is_file()}
    package = output.package
    changes = {f"{package}/_client.py": b"# changed\n", f"{package}/schemas.py": b"# too\n"}
    changed = Output(package, {**output.files, **changes}, 0, 0)
    real_open = os.open

    def failing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("schemas.py.tmp") or "schemas.py." in str(path):
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    with pytest.raises(CodegenError):
        render.write(changed, out)
    after = {name: (folder / name).read_bytes() for name in _files(folder) if (folder / name).is_file()}
    assert after == before


# --- the command line --------------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``codegen ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(argv)
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code if isinstance(exit.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _write(tmp_path: Path, tree: dict[str, Any] | str | bytes, name: str = "doc.json") -> Path:
    path = tmp_path / name
    if isinstance(tree, dict):
        path.write_text(json.dumps(tree))
    elif isinstance(tree, str):
        path.write_text(tree)
    else:
        path.write_bytes(tree)
    return path


USER_ERRORS: list[tuple[str, Any]] = [
    ("missing file", None),
    ("not JSON", "{not json"),
    ("not UTF-8", b'{"name": "\xff"}'),
    ("too deep", "[" * 50_000),
    ("endpoint elsewhere", _tree(rootUrl="https://evil.example/")),
    ("plain http endpoint", _tree(rootUrl="http://tiny.googleapis.com/")),
    (
        "query in the path",
        {**_tree(), "resources": {"items": {"methods": {"get": {"httpMethod": "GET", "path": "v1/x?alt=media"}}}}},
    ),
    (
        "catastrophic pattern",
        {
            **_tree(),
            "resources": {
                "items": {
                    "methods": {
                        "get": {
                            "httpMethod": "GET",
                            "path": "v1/{+name}",
                            "parameters": {
                                "name": {"type": "string", "location": "path", "required": True, "pattern": "^(a+)+$"}
                            },
                        }
                    }
                }
            },
        },
    ),
    ("missing name", {"version": "v1", "rootUrl": "https://tiny.googleapis.com/"}),
    ("a folder, not a file", "FOLDER"),
]


@pytest.mark.parametrize(("label", "content"), USER_ERRORS, ids=[row[0] for row in USER_ERRORS])
def test_user_errors_are_one_line_exit_2_and_leave_nothing(
    label: str, content: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if content is None:
        source = tmp_path / "missing.json"
    elif content == "FOLDER":
        source = tmp_path / "folder.json"
        source.mkdir()
    else:
        source = _write(tmp_path, content)
    out = tmp_path / "out"
    status, stdout, stderr = _run(["generate", str(source), "--out", str(out)], capsys)
    assert status == 2, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("codegen: error: "), stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["generate"],
        ["generate", "no-such-api"],
        ["generate", "looker", "v999"],
        ["generate", "looker", "--bogus-flag"],
        ["generate", "looker", "--universe-domain", "not a domain"],
        ["generate", "looker", "--allow-endpoint", "ftp://x/"],
        ["generate", "x" * 5000 + ".json"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_are_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, stderr = _run(argv, capsys)
    assert status == 2
    assert stderr.count("\n") == 1 and stderr.startswith("codegen: error: "), stderr
    assert stdout == ""


def test_out_being_a_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path, _tree())
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    status, _, stderr = _run(["generate", str(source), "--out", str(blocker / "sub")], capsys)
    assert status == 2 and stderr.count("\n") == 1, stderr
    assert blocker.read_text() == "a file"


def test_universe_domain_and_allow_endpoint_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    universe = _write(tmp_path, _tree(rootUrl="https://tiny.example.com/"), "universe.json")
    out = tmp_path / "out"
    status, _, stderr = _run(["generate", str(universe), "--out", str(out)], capsys)
    assert status == 2 and "--universe-domain" in stderr
    status, _, stderr = _run(["generate", str(universe), "--out", str(out), "--universe-domain", "example.com"], capsys)
    assert status == 0, stderr
    assert '"https://tiny.example.com/"' in (out / "tiny_v1" / "tiny_v1" / "_client.py").read_text()
    emulator = _write(tmp_path, _tree(name="emu", rootUrl="http://localhost:8085/"), "emulator.json")
    status, _, stderr = _run(["generate", str(emulator), "--out", str(out)], capsys)
    assert status == 2
    argv = ["generate", str(emulator), "--out", str(out), "--allow-endpoint", "http://localhost:8085/"]
    status, _, stderr = _run(argv, capsys)
    assert status == 0, stderr


def test_the_real_command_never_prints_a_traceback(tmp_path: Path) -> None:
    """The installed entry point, in its own process: one line on stderr, exit 2."""
    hostile = _write(tmp_path, _tree(rootUrl='https://evil.example/"""\nimport os\n'))
    for argv in (["generate", str(hostile), "--out", str(tmp_path / "out")], ["generate", "--out"]):
        result = subprocess.run(
            [sys.executable, "-m", "codegen", *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("codegen: error: "), result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()

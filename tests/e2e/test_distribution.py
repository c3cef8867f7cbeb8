"""The three distributions install and work on their own, in fresh virtual environments.

``codegen build looker v1`` writes wheels of the Looker package and of gapi-runtime; a fresh
environment installs them from those wheels plus the package index, and must end up with
nothing of the generator; mypy --strict type-checks a user program against that environment,
and the program calls ``cancel`` over real HTTP to a loopback server. The generator's own
wheel (not editable) generates a client in another fresh environment.

These create virtual environments and install from the package index: slow, but run in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.support.loopback import LoopbackServer, Reply

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

#: What a program that only uses a generated client must never install.
GENERATOR_ONLY = {"gapi-codegen", "google-api-python-client", "jinja2", "ruff", "rich", "mypy", "hypothesis"}

USER_PROGRAM = """\
import sys

from google.auth.credentials import AnonymousCredentials

from looker_v1 import LookerClient
from looker_v1.schemas import Empty


def cancel(endpoint: str, name: str) -> Empty:
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]  # google-auth's own annotation gap
    client = LookerClient(credentials=credentials, endpoint=endpoint)
    with client:
        return client.projects.locations.operations.cancel(name=name)


if __name__ == "__main__":
    print(cancel(sys.argv[1], sys.argv[2]))
"""


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


def _fresh_environment(folder: Path) -> Path:
    """A new virtual environment with pip and nothing else; return its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _pip_install(python: Path, *requirements: str, find_links: Path) -> None:
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--find-links", str(find_links), *requirements])  # fmt: skip


def _installed(python: Path) -> dict[str, str]:
    listed = _run([str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
    return {entry["name"].lower().replace("_", "-"): entry["version"] for entry in json.loads(listed.stdout)}


def test_built_wheels_install_without_the_generator_and_call_cancel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "codegen", "build", "looker", "v1", "--out", str(wheels)], cwd=ROOT)
    names = sorted(Path(line).name for line in built.stdout.split())
    assert names == ["gapi_looker_v1-1.0.0-py3-none-any.whl", "gapi_runtime-1.0.0-py3-none-any.whl"], names

    python = _fresh_environment(tmp_path / "env")
    _pip_install(python, "gapi-looker-v1", find_links=wheels)
    installed = _installed(python)
    assert {"gapi-looker-v1", "gapi-runtime", "google-auth", "google-api-core", "google-crc32c", "urllib3"} <= set(
        installed
    )
    assert not GENERATOR_ONLY & set(installed), sorted(GENERATOR_ONLY & set(installed))
    assert "aiohttp" not in installed  # only through the async extra

    # The wheel carries the code and py.typed, not the discovery document or the generator.
    site = _run([str(python), "-c", "import looker_v1, os; print(os.path.dirname(looker_v1.__file__))"]).stdout.strip()
    package = Path(site)
    assert (package / "py.typed").is_file() and not (package.parent / "discovery.json").exists()
    assert not list(package.rglob("*.json"))

    program = tmp_path / "program" / "use_looker.py"
    program.parent.mkdir()
    program.write_text(USER_PROGRAM)
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--python-executable", str(python), str(program)],
        capture_output=True, text=True, check=False, cwd=program.parent,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr

    name = "projects/p/locations/us-central1/operations/op-1"
    with LoopbackServer() as server:
        server.reply(Reply(200, b"{}"))
        # Run outside the repository, so nothing can come from the working tree.
        result = _run([str(python), str(program), server.url, name], cwd=program.parent, env=_clean_env())
        request = server.last
    assert result.stdout.strip() == "{}"
    assert (request.method, request.path) == ("POST", f"/v1/{name}:cancel")
    assert request.json() == {}
    assert "gapi-runtime/1.0.0" in request.headers["user-agent"].split()


def test_generator_wheel_generates_outside_the_repository(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "codegen", "build", "looker", "v1", "--out", str(wheels)], cwd=ROOT)  # the runtime's
    # Built from a copy of what git tracks, so no build/ folder of an earlier build leaks in.
    source = tmp_path / "source"
    source.mkdir()
    tracked = _run(["git", "ls-files", "-z", "--", "pyproject.toml", "README.md", "codegen"], cwd=ROOT).stdout
    for name in filter(None, tracked.split("\0")):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
          "--no-build-isolation", "--wheel-dir", str(wheels), str(source)], cwd=tmp_path)  # fmt: skip
    python = _fresh_environment(tmp_path / "env")
    _pip_install(python, "gapi-codegen", find_links=wheels)
    installed = _installed(python)
    assert "gapi-codegen" in installed and "gapi-runtime" in installed

    out = tmp_path / "out"
    codegen = python.parent / "codegen"
    result = _run([str(codegen), "generate", "looker", "v1", "--out", str(out)], cwd=tmp_path, env=_clean_env())
    assert "looker_v1" in result.stdout
    project = out / "looker_v1"
    assert {"pyproject.toml", "README.md", "discovery.json", "MANIFEST.in"} <= {p.name for p in project.iterdir()}
    # What the installed generator writes is what the repository commits.
    for path in sorted((ROOT / "generated" / "looker_v1" / "looker_v1").rglob("*.py")):
        relative = path.relative_to(ROOT / "generated" / "looker_v1")
        assert (project / relative).read_text() == path.read_text(), relative
    check = _run([str(codegen), "generate", "looker", "v1", "--out", str(ROOT / "generated"), "--check"], cwd=tmp_path)
    assert "up to date" in check.stdout
    # The installed generator has no runtime sources: build says what to do instead.
    refused = subprocess.run([str(codegen), "build", "looker", "v1", "--out", str(tmp_path / "w2")],
                             capture_output=True, text=True, check=False, cwd=tmp_path, env=_clean_env())  # fmt: skip
    assert refused.returncode == 2 and "--no-runtime" in refused.stderr and "Traceback" not in refused.stderr
    _run([str(codegen), "build", "looker", "v1", "--no-runtime", "--out", str(tmp_path / "w2")], cwd=tmp_path)
    assert [wheel.name for wheel in (tmp_path / "w2").glob("*.whl")] == ["gapi_looker_v1-1.0.0-py3-none-any.whl"]


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH and the like, so the repository cannot leak in."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}


def test_build_refuses_a_document_older_than_the_one_its_version_comes_from(tmp_path: Path) -> None:
    """After ``codegen update`` stored a newer document (and bumped the changelog), building the
    bundled, older document would publish old code under the new version: refused, as generate does."""
    import json

    from codegen import build, bundled, discovery
    from codegen.errors import CodegenError

    generated = tmp_path / "generated"
    stored = generated / "looker_v1" / "discovery.json"
    stored.parent.mkdir(parents=True)
    document = json.loads((ROOT / "generated/looker_v1/discovery.json").read_text())
    document["revision"] = "29991231"
    stored.write_text(json.dumps(document))
    bundled_document = discovery.load_path(bundled.find("looker", "v1").path)
    refused = r"revision \d+ is older than the package's 29991231; build .*looker_v1/discovery\.json$"
    with pytest.raises(CodegenError, match=refused):
        build.build([bundled_document], tmp_path / "dist", generated=generated, runtime=False)
    assert not (tmp_path / "dist").exists()

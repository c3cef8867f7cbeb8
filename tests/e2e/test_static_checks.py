"""mypy --strict and ruff are clean on the generator, the runtime and the committed output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "codegen",
            "runtime/gapi_runtime",
            "generated/looker_v1/looker_v1",
            "benchmarks",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_lint() -> None:
    from codegen.render import ruff_binary

    folders = [name for name in ("codegen", "runtime", "generated", "tests", "benchmarks") if (ROOT / name).is_dir()]
    result = subprocess.run(
        [ruff_binary(), "check", "--no-cache", *folders],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_format() -> None:
    """The hand-written sources keep ruff's format (generated code is formatted by the generator)."""
    from codegen.render import ruff_binary

    folders = [name for name in ("codegen", "runtime", "tests", "benchmarks") if (ROOT / name).is_dir()]
    result = subprocess.run(
        [ruff_binary(), "format", "--check", "--no-cache", *folders],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_generated_client_types_check_from_user_code(tmp_path: Path) -> None:
    """User code that misuses the client is caught by mypy; correct code passes.

    mypy runs in a temporary folder without PYTHONPATH or MYPYPATH: it finds ``looker_v1``
    through the path-based editable install, as it would from a user's own project."""
    good = tmp_path / "good.py"
    good.write_text(
        "from looker_v1 import LookerClient\n"
        "from looker_v1.schemas import Instance\n"
        "def use(client: LookerClient) -> str:\n"
        "    op = client.projects.locations.instances.create(parent='projects/p/locations/l', body=Instance())\n"
        "    client.projects.locations.operations.cancel(name=op.get('name', ''))\n"
        "    inst = client.projects.locations.instances.get(name='x')\n"
        "    with LookerClient() as owned:\n"
        "        owned.projects.locations.operations.get(name='x')\n"
        "    batch = client.batch(max_batch_size=50)\n"
        "    queued = batch.projects.locations.instances.get(name='x', fields='name')\n"
        "    batch.execute()\n"
        "    instance: Instance = queued.result()\n"
        "    return inst.get('platformEdition', '') + instance.get('name', '')\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from looker_v1 import LookerClient\n"
        "def use(client: LookerClient) -> None:\n"
        "    client.projects.locations.operations.cancel(nam='x')\n"
        "    client.projects.locations.instances.list(parent='p', page_size='10')\n"
        "    client.projects.locations.instances.get(name='x')['bogusField']\n"
        "    client.batch().projects.locations.instances.get(name='x').result()['otherBogus']\n"
        "    client.batch().projects.locations.instances.get(name='x', timeout=5)\n"
    )
    outside = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MYPYPATH")}
    ok = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(good)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env=outside,
    )
    assert ok.returncode == 0, ok.stdout
    ko = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env=outside,
    )
    assert ko.returncode == 1
    assert 'Unexpected keyword argument "nam"' in ko.stdout
    assert '"page_size"' in ko.stdout
    assert '"bogusField"' in ko.stdout
    assert '"otherBogus"' in ko.stdout  # a batch handle's result() is typed as the direct call's
    assert 'Unexpected keyword argument "timeout"' in ko.stdout  # a batch's timeout is execute()'s

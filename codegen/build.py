"""``codegen build``: installable wheels of generated packages and of the runtime.

Each document is rendered afresh into a temporary project folder (its version taken from
the changelog of the package already under ``--generated``, as ``generate`` does), then
setuptools' PEP 517 backend builds the wheels through ``pip wheel`` in this environment:
no build isolation, so nothing is downloaded. The runtime's wheel is built from the
``runtime/`` folder of the repository the generator runs from; an installed generator
has no runtime sources, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from codegen import changelog, discovery
from codegen.errors import CodegenError, one_line
from codegen.generate import (
    STORED_DOCUMENT,
    generate,
    newer_stored_revision,
    package_folder,
    package_version,
    stored_revision,
)
from codegen.safety import EndpointPolicy

#: The runtime's project folder when the generator runs from this repository.
RUNTIME_PROJECT = Path(__file__).resolve().parent.parent / "runtime"


def runtime_project() -> Path | None:
    """The runtime's source project, or None when the generator is installed without it."""
    return RUNTIME_PROJECT if (RUNTIME_PROJECT / "pyproject.toml").is_file() else None


def build(
    documents: Sequence[discovery.Document],
    out: Path,
    *,
    generated: Path,
    runtime: bool = True,
    endpoints: EndpointPolicy | None = None,
) -> list[Path]:
    """Build a wheel for each document's package (and the runtime's) into ``out``; return the new wheels."""
    with tempfile.TemporaryDirectory(prefix="gapi-codegen-build-") as tmp:
        stage = Path(tmp)
        projects: list[Path] = []
        for document in documents:
            # The version comes from the changelog of the package under ``generated``: that
            # package's stored document must not be newer than the one rendered (as generate).
            stored = package_folder(document, generated) / STORED_DOCUMENT
            _refuse_older(document.source, document.revision, stored)
            version = package_version(document, generated)
            output = generate(document, stage, version=version, allow_downgrade=True, endpoints=endpoints).output
            _keep_changelog(generated / output.package, stage / output.package)
            projects.append(stage / output.package)
        return _wheels(projects, out, stage, runtime=runtime)


def build_all(
    out: Path,
    *,
    generated: Path,
    runtime: bool = True,
    workers: int | None = None,
    universe_domains: Sequence[str] = (),
    allowed_endpoints: Sequence[str] = (),
    progress: bool = True,
) -> list[Path]:
    """Build a wheel for every bundled document's package (and the runtime's) into ``out``."""
    from codegen import batch

    with tempfile.TemporaryDirectory(prefix="gapi-codegen-build-") as tmp:
        stage = Path(tmp)
        for kept in generated.glob(f"*/{changelog.FILENAME}"):
            _keep_changelog(kept.parent, stage / kept.parent.name)
        summary = batch.generate_all(
            stage,
            workers=workers,
            verify=False,
            allow_downgrade=True,
            universe_domains=universe_domains,
            allowed_endpoints=allowed_endpoints,
            progress=progress,
        )
        if summary.failures:
            first = summary.failures[0]
            raise CodegenError(f"{len(summary.failures)} document(s) failed to generate; first: {first.error}")
        projects = sorted({stage / result.package for result in summary.succeeded})
        for project in projects:
            rendered = project / STORED_DOCUMENT
            revision = stored_revision(rendered)
            if revision is not None:
                _refuse_older(
                    f"the bundled document of {project.name}", revision, generated / project.name / STORED_DOCUMENT
                )
        return _wheels(projects, out, stage, runtime=runtime)


def _refuse_older(source: str, revision: str, stored: Path) -> None:
    """CodegenError if ``revision`` of the document ``source`` is older than the document
    ``stored`` with the package whose changelog gives the version: the wheel would carry old
    code under the new version (``generate`` refuses such a downgrade too)."""
    old = newer_stored_revision(revision, stored)
    if old is not None:
        raise CodegenError(f"{source}: revision {revision} is older than the package's {old}; build {stored}")


def _keep_changelog(package_folder: Path, staged_folder: Path) -> None:
    """Copy the package's changelog (which sets its version) from ``generated`` into the stage."""
    kept = package_folder / changelog.FILENAME
    if kept.is_file():
        staged_folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, staged_folder / changelog.FILENAME)


def _wheels(projects: list[Path], out: Path, stage: Path, *, runtime: bool) -> list[Path]:
    if runtime:
        source = runtime_project()
        if source is None:
            raise CodegenError(
                "the runtime's sources are not beside this generator (an installed gapi-codegen): "
                "pass --no-runtime and install gapi-runtime from your package index"
            )
        # Copied, so that setuptools' build folders never land in the repository.
        staged = stage / "_runtime"
        shutil.copytree(source, staged, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        projects = [*projects, staged]
    out.mkdir(parents=True, exist_ok=True)
    before = {wheel: wheel.stat().st_mtime_ns for wheel in out.glob("*.whl")}
    _pip_wheel(projects, out)
    return sorted(wheel for wheel in out.glob("*.whl") if before.get(wheel) != wheel.stat().st_mtime_ns)


def _pip_wheel(projects: Sequence[Path], out: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-build-isolation", "--no-cache-dir", "--wheel-dir", str(out),
        *(str(project) for project in projects),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        reason = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
        raise CodegenError(f"building wheels failed: {one_line(reason)}")

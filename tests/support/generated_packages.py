"""Generate client packages into a folder and import them, for tests (no network).

Packages are imported from a temporary folder put on ``sys.path``; :func:`forget` drops
them from ``sys.modules`` again so that big packages do not stay loaded.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from codegen import bundled, discovery, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_path(name: str) -> Path:
    """``tests/fixtures/<name>.json``."""
    return FIXTURES / f"{name}.json"


def fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


def generate_path(path: Path | str, out: Path) -> render.Output:
    """Render the document at ``path`` and write it under ``out``."""
    output = render.render(discovery.load_path(path))
    render.write(output, out)
    return output


def generate_bundled(name: str, version: str, out: Path) -> render.Output:
    return generate_path(bundled.find(name, version).path, out)


@contextmanager
def on_path(folder: Path) -> Iterator[None]:
    """``folder`` on ``sys.path`` for the duration."""
    entry = str(folder)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(entry)


def load(folder: Path, package: str) -> ModuleType:
    """Import ``package`` from the project ``folder/package`` that the generator wrote (a fresh import)."""
    forget(package)
    with on_path(folder / package):
        return importlib.import_module(package)


def forget(package: str) -> None:
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]

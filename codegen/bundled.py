"""The discovery documents bundled in google-api-python-client: the embedded inputs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codegen.errors import CodegenError


def documents_dir() -> Path:
    import googleapiclient

    return Path(googleapiclient.__file__).resolve().parent / "discovery_cache" / "documents"


@dataclass(frozen=True)
class BundledApi:
    name: str
    version: str
    title: str
    preferred: bool
    path: Path


@cache
def bundled_apis() -> tuple[BundledApi, ...]:
    """Every bundled document, sorted by name and version, with the index's preferred flag."""
    directory = documents_dir()
    index: dict[tuple[str, str], dict[str, object]] = {}
    index_path = directory / "index.json"
    if index_path.is_file():
        for item in json.loads(index_path.read_text(encoding="utf-8")).get("items", []):
            if isinstance(item, dict):
                index[(str(item.get("name")), str(item.get("version")))] = item
    apis = []
    for path in sorted(directory.glob("*.json")):
        if path.name == "index.json":
            continue
        name, _, version = path.stem.partition(".")
        entry = index.get((name, version), {})
        apis.append(BundledApi(name, version, str(entry.get("title", "")), bool(entry.get("preferred")), path))
    return tuple(apis)


_STAGES = (("alpha", 0), ("preview", 0), ("dev", 0), ("beta", 1))


def version_rank(version: str) -> tuple[int, tuple[int, ...], str]:
    """How preferable ``version`` is when the index names no preferred one: stable before
    beta before alpha/preview, then the higher number (``v2`` > ``v1``, ``v1.2`` > ``v1``)."""
    lowered = version.lower()
    stage = next((rank for word, rank in _STAGES if word in lowered), 2)
    numbers = tuple(int(number) for number in re.findall(r"\d+", lowered))
    return stage, numbers, version


def find(name: str, version: str | None = None) -> BundledApi:
    """The bundled document for ``name`` and ``version``.

    Without a version: the one the bundled index marks preferred; when it marks none (the
    index lists about half of the documents), the most stable, newest (:func:`version_rank`).
    """
    candidates = [api for api in bundled_apis() if api.name == name]
    if not candidates:
        raise CodegenError(f"no bundled discovery document for API {name!r} (see `codegen list`)")
    if version is None:
        preferred = [api for api in candidates if api.preferred]
        return preferred[-1] if preferred else max(candidates, key=lambda api: version_rank(api.version))
    for api in candidates:
        if api.version == version:
            return api
    versions = ", ".join(api.version for api in candidates)
    raise CodegenError(f"no bundled discovery document for {name} {version}; bundled versions: {versions}")

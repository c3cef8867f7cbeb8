"""The in-memory fake over many APIs: construct it, count what the rules infer, call every method.

``python -m tests.support.fake_census [--all | NAME:VERSION ...] [--calls] [--out DIR]`` generates each
API (as ``codegen generate`` does), imports ``<package>.testing``, constructs ``Fake<Api>`` and
its sync and async clients, and counts the methods by how the fake answers them (standard,
operations, 501). With ``--calls`` it also calls every method through the fake's client with
synthesized arguments (those of :mod:`tests.support.equivalence`) and checks that the request reached
the method that was called and that the client raised nothing but google-api-core errors.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen import bundled, discovery, ir, render
from tests.support import equivalence


@dataclass
class Census:
    api: str
    kinds: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    misrouted: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def census(path: Path, out: Path, calls: bool, generate: bool = True) -> Census:
    """Generate (unless ``generate`` is False: already in ``out``) and examine one API's fake."""
    started = time.perf_counter()
    result = Census(path.name)
    try:
        document = discovery.load_path(path)
        client_ir = ir.lower(document)
        output = render.render(document) if generate else None
        package = output.package if output is not None else client_ir.package
        if output is not None:
            render.write(output, out)
        root = str(out / package)
        sys.path.insert(0, root)
        importlib.invalidate_caches()
        try:
            module = importlib.import_module(f"{package}.testing")
            fake_class = next(v for k, v in vars(module).items() if k.startswith("Fake") and isinstance(v, type))
            fake = fake_class()
            client = fake.client(retry=None)
            asyncio.run(_close(fake.async_client()))
            result.kinds.update(fake.kind(method) for method in fake.method_ids)
            if calls:
                _call_all(result, fake, client, document, client_ir)
        finally:
            sys.path.remove(root)
            for name in [name for name in sys.modules if name.split(".")[0] == package]:
                del sys.modules[name]
    except Exception as exc:  # reported, the census goes on
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


async def _close(client: Any) -> None:
    await client.close()


def _call_all(result: Census, fake: Any, client: Any, document: discovery.Document, client_ir: Any) -> None:
    from google.api_core import exceptions

    for case in equivalence.cases(json.loads(document.raw), client_ir):
        parameters = case.description.get("parameters", {})
        try:
            kwargs = {case.param_names[n]: equivalence.argument_value(s) for n, s in sorted(parameters.items())}
        except ValueError:
            continue  # no value matches the pattern (the equivalence run skips these too)
        if case.body_keyword:
            kwargs["body"] = {}
        target: Any = client
        for name in case.generated_path:
            target = getattr(target, name)
        before = len(fake.requests)
        try:
            with equivalence._no_deprecation_warnings():
                target(**kwargs)
        except exceptions.GoogleAPICallError:
            pass
        except Exception as exc:
            result.crashes.append(f"{case.method_id}: {type(exc).__name__}: {exc}")
            continue
        result.calls += 1
        if len(fake.requests) != before + 1 or fake.requests[-1].method_id != case.method_id:
            got = fake.requests[-1].method_id if len(fake.requests) > before else "no request"
            result.misrouted.append(f"{case.method_id} → {got or 'no method'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_census")
    parser.add_argument("apis", nargs="*", help="NAME:VERSION (default with --all: every bundled document)")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--calls", action="store_true", help="call every method through the fake's client")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.all:  # byte-identical alias documents (admin.directoryv1 = admin.directory_v1) once
        seen: set[bytes] = set()
        paths = []
        for api in bundled.bundled_apis():
            data = api.path.read_bytes()
            if data not in seen:
                seen.add(data)
                paths.append(api.path)
    else:
        paths = [bundled.find(*api.split(":")).path for api in args.apis]
    out = args.out or Path(tempfile.mkdtemp(prefix="fake-census-"))
    totals: Counter[str] = Counter()
    failures = 0
    started = time.perf_counter()
    calls = misrouted = crashes = 0
    for path in paths:
        result = census(Path(path), out, args.calls)
        totals.update(result.kinds)
        calls += result.calls
        misrouted += len(result.misrouted)
        crashes += len(result.crashes)
        if result.error:
            failures += 1
            print(f"FAIL {result.api}: {result.error}", flush=True)
        for line in result.misrouted[:3] + result.crashes[:3]:
            print(f"  {result.api}: {line}", flush=True)
    standard = sum(totals[k] for k in ("get", "list", "create", "patch", "update", "delete"))
    operations = sum(n for k, n in totals.items() if k.startswith("op-"))
    seconds = time.perf_counter() - started
    print(f"APIs: {len(paths)}, fakes constructed: {len(paths) - failures}, seconds: {seconds:.0f}")
    print(f"methods: {sum(totals.values())}: standard {standard}, operations {operations}, 501 {totals['custom']}")
    print("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(totals.items())))
    if args.calls:
        print(f"calls: {calls}, routed elsewhere: {misrouted}, non-API exceptions: {crashes}")
    return 1 if failures or misrouted or crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())

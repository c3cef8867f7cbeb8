"""5. A big API: import and construct the generated compute_v1 client versus build('compute','v1')."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import (
    Config,
    Row,
    Section,
    child_env,
    compile_bytecode,
    import_profile,
    interleaved,
    median,
    python_child,
    python_module_child,
)

OURS = """
import sys
from google.auth.credentials import AnonymousCredentials
from compute_v1 import ComputeClient
client = ComputeClient(credentials=AnonymousCredentials(){endpoint})
{call}
"""

THEIRS = """
import sys
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build
service = build("compute", "v1", credentials=AnonymousCredentials(){endpoint})
{call}
"""

CREDENTIALS = """
import sys
from google.auth.credentials import AnonymousCredentials
AnonymousCredentials()
"""

OURS_CALL = "client.instances.get(project='p', zone='z', instance='i')"
THEIRS_CALL = "service.instances().get(project='p', zone='z', instance='i').execute()"


def run(config: Config, url: str) -> Section:
    section = Section("5. Big API: compute v1 (1,025 methods, 1,538 schemas)")
    with tempfile.TemporaryDirectory(prefix="bench-compute-") as tmp:
        generated = python_module_child("codegen", "generate", "compute", "v1", "--out", tmp)
        compile_bytecode(Path(tmp))
        env = child_env([str(Path(tmp) / "compute_v1")])
        codes = {
            "ours": OURS.format(endpoint="", call=""),
            "theirs": THEIRS.format(endpoint="", call=""),
            "ours_call": OURS.format(endpoint=", endpoint=sys.argv[1]", call=OURS_CALL),
            "theirs_call": THEIRS.format(endpoint=', client_options={"api_endpoint": sys.argv[1]}', call=THEIRS_CALL),
            "credentials": CREDENTIALS,
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}

        def variant(name: str):  # type: ignore[no-untyped-def]
            def once() -> float:
                child = python_child(codes[name], url, env=env)
                figures[name].append((child.wall, child.peak_mib))
                return child.wall

            return once

        interleaved({name: variant(name) for name in codes}, rounds=config.big_api_runs)
        wall = {name: median([w for w, _ in samples[1:]]) for name, samples in figures.items()}
        peak = {name: median([p for _, p in samples[1:]]) for name, samples in figures.items()}
        profile = import_profile(codes["ours"], url, env=env) if config.profile else ""
    baseline = "googleapiclient `build('compute','v1')`"
    floor = wall["credentials"] / wall["theirs"]
    floor_rss = peak["credentials"] / peak["theirs"]
    section.rows += [
        Row(
            "big API",
            "import + construct, wall (target: the floor + 0.06×)",
            "s",
            wall["ours"],
            wall["theirs"],
            baseline,
            target=round(floor + 0.06, 3),
            floor=floor,
        ),
        Row(
            "big API",
            "import + construct, peak RSS (target: the floor + 0.04×)",
            "MiB",
            peak["ours"],
            peak["theirs"],
            baseline,
            target=round(floor_rss + 0.04, 3),
            floor=floor_rss,
        ),
        Row(
            "big API",
            "… + one instances.get call, wall",
            "s",
            wall["ours_call"],
            wall["theirs_call"],
            baseline + " + `.execute()`",
        ),
        Row(
            "big API",
            "… + one instances.get call, peak RSS",
            "MiB",
            peak["ours_call"],
            peak["theirs_call"],
            baseline + " + `.execute()`",
        ),
        Row(
            "big API",
            "(reference) python + google.auth credentials alone, wall",
            "s",
            wall["credentials"],
            wall["theirs"],
            baseline + "; both clients need this much before anything of their own",
        ),
        Row(
            "big API",
            "(reference) the floor: python + google.auth credentials alone, peak RSS",
            "MiB",
            peak["credentials"],
            peak["theirs"],
            baseline,
        ),
        Row(
            "big API",
            "generating compute v1 (reference)",
            "s",
            generated.wall,
            note=f"peak RSS {generated.peak_mib:.0f} MiB",
        ),
    ]
    section.notes.append(
        f"Where the time goes: starting Python and importing google-auth's credentials (the floor) already takes "
        f"{floor:.2f}× googleapiclient's whole figure and {floor_rss:.2f}× its peak RSS; our own modules and the "
        f"construction add {(wall['ours'] - wall['credentials']) * 1e3:.0f} ms and "
        f"{peak['ours'] - peak['credentials']:.1f} MiB. No HTTP library is imported before the first request, "
        "and no resource or schema module of the package."
    )
    section.notes.append(
        f"Whole processes, {config.big_api_runs} interleaved runs each after a warm-up run"
        "; medians of wall time and of peak RSS (VmHWM at exit). The generated package is written to a "
        "temporary folder and its bytecode compiled first, as an install would."
    )
    if profile:
        section.notes.append(
            "Slowest imports of our import + construct (`python -X importtime`, cumulative):\n\n```\n"
            + profile
            + "\n```"
        )
    return section

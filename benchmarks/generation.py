"""4. Generation: the Looker client in a whole process, and every bundled document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Config, Row, Section, child_env, median, python_module_child


def generate_all_supported() -> bool:
    """True when ``codegen generate`` has an ``--all`` option (the batch mode of issue 3)."""
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "--help"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        check=False,
    )
    return re.search(r"--all(?![-\w])", result.stdout) is not None


def run(config: Config) -> Section:
    section = Section("4. Generation")
    walls, cpus, peaks = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        for index in range(config.generation_runs):
            # A fresh folder each time: every file is rendered, formatted and written.
            out = Path(tmp) / f"run{index}"
            child = python_module_child("codegen", "generate", "looker", "v1", "--out", str(out))
            walls.append(child.wall)
            cpus.append(child.cpu)
            peaks.append(child.peak_mib)
    section.rows += [
        Row("generation", "Looker v1, whole process (wall)", "s", median(walls), limit=1.0),
        Row("generation", "Looker v1, CPU (user+sys, ruff included)", "s", median(cpus), limit=1.0),
        Row("generation", "Looker v1, peak RSS", "MiB", median(peaks)),
    ]
    if not config.generate_all:
        section.rows.append(Row("generation", "all bundled documents", "s", None, note="skipped (quick run)"))
    elif not generate_all_supported():
        section.rows.append(
            Row(
                "generation",
                "all bundled documents",
                "s",
                None,
                limit=30.0,
                note="not available yet: `codegen generate --all` does not exist",
            )
        )
    else:
        try:
            with tempfile.TemporaryDirectory(prefix="bench-gen-all-") as tmp:
                child = python_module_child("codegen", "generate", "--all", "--out", tmp, tree=True)
                python_bytes = sum(path.stat().st_size for path in Path(tmp).rglob("*.py"))
                written = sum(1 for path in Path(tmp).rglob("*") if path.is_file())
                probe = _file_creation_probe(tmp)
        except RuntimeError as exc:
            section.rows.append(Row("generation", "all bundled documents", "s", None, limit=30.0, note="failed"))
            section.notes.append(f"`codegen generate --all` failed: {exc}")
            return section
        section.rows += [
            Row("generation", "all bundled documents (wall)", "s", child.wall, limit=30.0),
            Row("generation", "all bundled documents, CPU (all processes)", "s", child.cpu),
            Row("generation", "all bundled documents, peak RSS (all processes)", "MiB", child.tree_peak_mib),
            Row("generation", "all bundled documents, peak RSS (main process)", "MiB", child.peak_mib),
            Row("generation", f"(reference) creating {PROBE_FILES:,} new files alone (wall)", "s", probe),
        ]
        section.notes.append(
            f"`codegen generate --all` created {written:,} files. The file system's share of that: creating "
            f"{PROBE_FILES:,} new {PROBE_BYTES // 1024} KiB files with nothing else (the reference row, right "
            f"after) took {probe:.2f} s, so about {probe * written / PROBE_FILES:.1f} s for as many files. "
            "This figure swings by 50× on these machines: ext4 without a journal skips recently deleted "
            "inodes when it allocates new ones, so creating files right after many were deleted (another "
            "run's output) costs up to a millisecond each of kernel time (seen with `perf`), where it "
            "otherwise costs 0.03 ms."
        )
        lines = [line.strip() for line in child.stdout.splitlines()]
        said = [line for line in lines if line.startswith(("slowest", "peak memory", "failures"))]
        cores = os.cpu_count() or 1
        section.notes.append(
            f"`codegen generate --all` said: {'; '.join(said)}. Its processes used {child.cpu:.0f} s of CPU on "
            f"{cores} cores, so even on an idle machine the wall time cannot go below ~{child.cpu / cores:.0f} s; "
            "the rest of the wall time is other processes' load (see the load average above)."
        )
        phases = next((line for line in lines if line.startswith("time by phase")), "")
        if phases:
            section.notes.append(_phase_note(phases, cores, python_bytes))
    # The Looker rows' profile; `generate --all` explains itself with its time by phase (above).
    if config.profile and any(row.verdict == "MISSED" and row.label.startswith("Looker") for row in section.rows):
        section.notes.append(
            "Where generating Looker spends its time (cProfile of one run, cumulative; ruff runs as a "
            "subprocess, so its own CPU shows as waiting):\n\n```\n" + _generation_profile() + "\n```"
        )
    section.notes.append(
        "Wall-time targets are absolute, so they move with the machine's load (see the load average above); "
        "CPU time moves less."
    )
    section.notes.append(
        f"Looker: {config.generation_runs} runs of `python -m codegen generate looker v1 --out <empty folder>`, "
        "median wall time (load, lower, render, ruff format, compile, write)."
    )
    return section


#: The file-creation probe: as many files as a few dozen generated packages, of a typical size.
PROBE_FILES = 2000
PROBE_BYTES = 16 * 1024


def _file_creation_probe(beside: str) -> float:
    """Wall seconds to create PROBE_FILES new files of PROBE_BYTES each in fresh folders under ``beside``."""
    data = b"x" * PROBE_BYTES
    root = Path(beside) / "file-creation-probe"
    started = time.perf_counter()
    for folder_index in range(PROBE_FILES // 100):
        folder = root / f"d{folder_index}"
        folder.mkdir(parents=True)
        for index in range(100):
            (folder / f"f{index}.py").write_bytes(data)
    return time.perf_counter() - started


def _phase_note(line: str, cores: int, python_bytes: int) -> str:
    """Where `generate --all` spent its workers' time, and what the volume of its output costs alone."""
    seconds = {name: float(value) for name, value in re.findall(r"(\w+) ([0-9.]+) s", line)}
    volume = sum(seconds.get(name, 0.0) for name in ("format", "compile", "verify", "write"))
    return (
        f"`codegen generate --all`, {line} (wall time of the workers, ruff's included in format). "
        f"Formatting with the pinned ruff, compiling every module (the check that it is valid Python), "
        f"importing it with the clients constructed (verify) and writing the files are costs of the output's "
        f"volume, {python_bytes / 1e6:.0f} MB of generated Python: together {volume:.0f} worker-seconds, "
        f"{volume / cores:.0f} s of wall time on {cores} cores even if reading, lowering and rendering took none."
    )


def _generation_profile(limit: int = 22) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-gen-profile-") as tmp:
        code = (
            "import cProfile, pstats, sys\n"
            "from codegen.cli import main\n"
            "profile = cProfile.Profile()\n"
            f"profile.runcall(main, ['generate', 'looker', 'v1', '--out', {tmp!r}])\n"
            f"pstats.Stats(profile).strip_dirs().sort_stats('cumulative').print_stats({limit})\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT, check=False
        )
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:]).strip() or result.stderr[-2000:]

"""4. Generation: the Looker client in a whole process, and every bundled document."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
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
    walls, peaks = [], []
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        for index in range(config.generation_runs):
            # A fresh folder each time: every file is rendered, formatted and written.
            out = Path(tmp) / f"run{index}"
            child = python_module_child("codegen", "generate", "looker", "v1", "--out", str(out))
            walls.append(child.wall)
            peaks.append(child.peak_mib)
    section.rows += [
        Row("generation", "Looker v1, whole process (wall)", "s", median(walls), limit=1.0),
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
                limit=120.0,
                note="not available yet: `codegen generate --all` does not exist",
            )
        )
    else:
        try:
            with tempfile.TemporaryDirectory(prefix="bench-gen-all-") as tmp:
                child = python_module_child("codegen", "generate", "--all", "--out", tmp)
        except RuntimeError as exc:
            section.rows.append(Row("generation", "all bundled documents", "s", None, limit=120.0, note="failed"))
            section.notes.append(f"`codegen generate --all` failed: {exc}")
            return section
        section.rows += [
            Row("generation", "all bundled documents (wall)", "s", child.wall, limit=120.0),
            Row("generation", "all bundled documents, peak RSS", "MiB", child.peak_mib),
        ]
        last = child.stdout.strip().splitlines()[-1:] or [""]
        section.notes.append(f"`codegen generate --all` said: {last[0]}")
    section.notes.append(
        f"Looker: {config.generation_runs} runs of `python -m codegen generate looker v1 --out <empty folder>`, "
        "median wall time (load, lower, render, ruff format, compile, write)."
    )
    return section

"""The benchmark command keeps working: each benchmark runs in its tiny (--quick) configuration.

No figures are checked (timings are measured by ``python -m benchmarks``, not asserted in tests);
these tests only make sure the command runs, prints its table and writes its results file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]
VERDICTS = {"met", "MISSED", "info", "n/a"}
# The benchmark's title in RESULTS.md and a measure each must report.
EXPECTED = {
    "cold_start": ("1. Cold start", "wall time"),
    "per_call": ("2. Client CPU per call", "CPU/call vs its transport alone (floor)"),
    "construction": ("3. Request construction", "whole call, in-memory vs building the HttpRequest (cached)"),
    "generation": ("4. Generation", "Looker v1, whole process (wall)"),
    "big_api": ("5. Big API", "import + construct, peak RSS"),
    "concurrency": ("6. Concurrency", "threads, shared client, pool_size="),
    "async_transport": ("7. Async transport", "async client CPU/call, default transport vs aiohttp transport"),
    "media": ("8. Media", "upload 8 MiB, peak RSS growth"),
}


def test_every_benchmark_is_covered() -> None:
    assert set(EXPECTED) == set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_quick(name: str, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", name, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    title, measure = EXPECTED[name]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ") and "benchmark" not in line]
    assert table, result.stdout
    assert any(measure in line for line in table), result.stdout
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[-1] in VERDICTS, line
        assert cells[2] and (cells[2] != "n/a" or "(" in cells[2]), line
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    assert f"## {title}" in text
    assert "- Machine: " in text
    assert "quick mode" in text

"""Run the benchmarks, print the table and write ``benchmarks/RESULTS.md``.

Usage: ``python -m benchmarks [--quick] [--only NAME ...] [--output PATH | --no-write]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from benchmarks.common import ROOT, Config, Row, Section, format_value

BENCHMARKS = (
    "cold_start",
    "per_call",
    "construction",
    "generation",
    "big_api",
    "concurrency",
    "async_transport",
    "media",
)
NEEDS_SERVER = {"cold_start", "per_call", "big_api", "concurrency", "async_transport"}
DEFAULT_OUTPUT = ROOT / "benchmarks" / "RESULTS.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the generated clients side by side with googleapiclient and write RESULTS.md.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks that everything runs (figures mean little)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"run only these: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help=f"results file (default: {DEFAULT_OUTPUT.relative_to(ROOT)})"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiles attached to the results")
    return parser


def _runner(name: str) -> Callable[[Config, str], Section]:
    from benchmarks import (
        async_transport,
        big_api,
        cold_start,
        concurrency,
        construction,
        generation,
        media,
        per_call,
    )

    table: dict[str, Callable[[Config, str], Section]] = {
        "cold_start": cold_start.run,
        "per_call": per_call.run,
        "construction": lambda config, url: construction.run(config),
        "generation": lambda config, url: generation.run(config),
        "big_api": big_api.run,
        "concurrency": concurrency.run,
        "async_transport": async_transport.run,
        "media": lambda config, url: media.run(config, url),
    }
    return table[name]


def machine() -> list[str]:
    """A short description of this machine and the software measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB memory"
    except (ValueError, OSError, AttributeError):
        pass
    versions = []
    for package in ("google-api-python-client", "httplib2", "google-auth", "urllib3"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return [
        f"{model}, {os.cpu_count()} logical CPUs{memory}",
        f"{platform.system()} {platform.release()}; "
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        "; ".join(versions),
    ]


def table(rows: Sequence[Row]) -> list[str]:
    header = ["benchmark", "measure", "ours", "googleapiclient / baseline", "ratio", "target", "result"]
    body = []
    for row in rows:
        ratio = row.ratio
        body.append(
            [
                row.benchmark,
                row.label,
                format_value(row.ours, row.unit) if row.ours is not None else f"n/a ({row.note})",
                format_value(row.theirs, row.unit) if row.theirs is not None else "",
                f"{ratio:.3f}×" if ratio is not None else "",
                row.target_text,
                row.verdict,
            ]
        )
    widths = [max(len(line[column]) for line in [header, *body]) for column in range(len(header))]

    def fmt(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return [fmt(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *(fmt(line) for line in body)]


def render(
    sections: Sequence[Section], started: datetime.datetime, seconds: float, config: Config, loads: tuple[str, str]
) -> str:
    rows = [row for section in sections for row in section.rows]
    missed = [row for row in rows if row.verdict == "MISSED"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks` (see benchmarks/README.md). Every figure of ours and of",
        "googleapiclient comes from the same run, interleaved; ratios are ours ÷ theirs (lower is better).",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the run took {seconds:.0f} s"
        + (" (**quick mode: sizes too small to mean much**)" if config == Config.quick() else ""),
        *(f"- Machine: {line}" for line in machine()),
        f"- Load average (1 min) at start / end: {loads[0]} / {loads[1]} (the machine is shared; absolute "
        "figures drift, ratios from interleaved runs are what count)",
        "",
        *table(rows),
        "",
        f"Targets: {sum(row.verdict == 'met' for row in rows)} met, {len(missed)} missed"
        + (f" ({'; '.join(f'{row.benchmark}: {row.label}' for row in missed)})." if missed else "."),
        "",
    ]
    for section in sections:
        lines += [f"## {section.name}", ""]
        for row in section.rows:
            if row.baseline:
                lines.append(f"- {row.label}: baseline {row.baseline}.")
            elif row.note and row.ours is not None:
                lines.append(f"- {row.label}: {row.note}.")
        if section.rows:
            lines.append("")
        for note in section.notes:
            lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = Config.quick() if args.quick else Config()
    if args.no_profile:
        config = Config(**{**config.__dict__, "profile": False})
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    started = datetime.datetime.now(datetime.timezone.utc)
    start_load = _load()
    clock = time.perf_counter()
    sections: list[Section] = []
    failed: list[str] = []
    from benchmarks.common import compile_bytecode
    from benchmarks.server import BenchServer

    compile_bytecode(ROOT / "codegen", ROOT / "runtime", ROOT / "generated")

    with BenchServer() as server:
        for name in names:
            print(f"running {name} …", file=sys.stderr, flush=True)
            began = time.perf_counter()
            try:
                sections.append(_runner(name)(config, server.url if name in NEEDS_SERVER else ""))
            except Exception as exc:  # one broken benchmark must not lose the others' figures
                failed.append(name)
                print(f"  {name} FAILED: {exc!r}", file=sys.stderr, flush=True)
                section = Section(f"{name}: failed")
                section.rows.append(Row(name, "(failed)", "s", None, note=f"{type(exc).__name__}"))
                section.notes.append(f"```\n{traceback.format_exc()[-3000:]}\n```")
                sections.append(section)
            print(f"  {name} took {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - clock
    rows = [row for section in sections for row in section.rows]
    print("\n".join(table(rows)))
    if not args.no_write:
        output = args.output or DEFAULT_OUTPUT
        output.write_text(render(sections, started, seconds, config, (start_load, _load())), encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 1 if failed else 0

"""What every benchmark shares: result rows, interleaved A/B rounds, child-process measurement."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The operation every call benchmark cancels (the loopback server answers ``200 {}``).
OPERATION = "projects/p1/locations/us-central1/operations/op-123"


@dataclass(frozen=True)
class Config:
    """Sizes of one run. :meth:`quick` is the tiny configuration the smoke test uses."""

    cold_start_runs: int = 15
    calls: int = 5000
    call_rounds: int = 10
    construction_calls: int = 60000
    construction_rounds: int = 15
    generation_runs: int = 3
    generate_all: bool = True
    big_api_runs: int = 21
    concurrent_calls: int = 1000
    in_flight: int = 100
    concurrency_rounds: int = 5
    profile: bool = True

    @classmethod
    def quick(cls) -> Config:
        return cls(
            cold_start_runs=1,
            calls=40,
            call_rounds=2,
            construction_calls=200,
            construction_rounds=2,
            generation_runs=1,
            generate_all=False,
            big_api_runs=1,
            concurrent_calls=40,
            in_flight=8,
            concurrency_rounds=1,
        )


#: A target counts as met only with at least 10 % to spare: a figure at the limit is missed.
MARGIN = 0.9


@dataclass(frozen=True)
class Row:
    """One line of the results table.

    ``ours`` and ``theirs`` are in ``unit`` (lower is better). A row has a ratio target
    (``ours / theirs <= target``), an absolute target (``ours <= limit``), or neither (for
    information); either is met only with :data:`MARGIN` to spare (for a target stated as
    ``floor`` + an allowance, on the allowance). ``ours`` is None when the measurement is not
    available (``note`` says why).
    """

    benchmark: str
    label: str
    unit: str
    ours: float | None
    theirs: float | None = None
    baseline: str = ""
    target: float | None = None
    limit: float | None = None
    note: str = ""
    floor: float = 0.0  # a target stated as "the floor + X": the margin applies to X
    #: The ratio when it is measured directly (the median of paired blocks' ratios, see
    #: :func:`paired`) rather than as ``ours / theirs`` of separate medians.
    measured_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.measured_ratio is not None:
            return self.measured_ratio
        if self.ours is None or not self.theirs:
            return None
        return self.ours / self.theirs

    @property
    def verdict(self) -> str:
        if self.ours is None:
            return "n/a"
        if self.target is not None:
            ratio = self.ratio
            bound = self.floor + MARGIN * (self.target - self.floor)
            return "—" if ratio is None else ("met" if ratio <= bound else "MISSED")
        if self.limit is not None:
            return "met" if self.ours <= MARGIN * self.limit else "MISSED"
        return "info"

    @property
    def target_text(self) -> str:
        if self.target is not None:
            return f"≤ {self.target:g}×"
        if self.limit is not None:
            return f"≤ {format_value(self.limit, self.unit)}"
        return ""


@dataclass
class Section:
    """What one benchmark reports: its rows and free text (profiles, explanations)."""

    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit == "µs":
        return f"{value:.2f} µs"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:g} {unit}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def interleaved(
    variants: Mapping[str, Callable[[], float]], rounds: int, warmup: bool = True
) -> dict[str, list[float]]:
    """Run every variant once per round, rotating the order each round; return all samples.

    Each callable runs one block of work and returns its figure (e.g. CPU seconds per call).
    Rotation puts each variant in every position equally often, so drift in the machine's
    load falls on all of them alike.
    """
    names = list(variants)
    if warmup:
        for name in names:
            variants[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(variants[name]())
    return samples


@dataclass(frozen=True)
class Paired:
    """Two variants measured in adjacent blocks (see :func:`paired`): each one's median figure,
    and the median of the per-round ratios ``a / b``."""

    a: float
    b: float
    ratio: float
    ratios: tuple[float, ...]


def paired(a: Callable[[], float], b: Callable[[], float], rounds: int) -> Paired:
    """Run ``a`` and ``b`` back to back ``rounds`` times (the order swapped every round, after
    one warm-up run each) and compare each round's pair.

    For two figures a few per cent apart, drift between blocks run far apart (the load of a
    shared machine, frequency changes) is larger than the difference; the ratio of two blocks
    run one right after the other is not affected by it, and the median over rounds drops the
    rounds that a burst of load hit.
    """
    a()
    b()
    firsts: list[float] = []
    seconds: list[float] = []
    for index in range(rounds):
        if index % 2:
            second = b()
            first = a()
        else:
            first = a()
            second = b()
        firsts.append(first)
        seconds.append(second)
    ratios = tuple(x / y for x, y in zip(firsts, seconds, strict=True))
    return Paired(median(firsts), median(seconds), median(ratios), ratios)


#: Prepended to every measured ``python -c`` program: at exit it reports the process's peak RSS.
#: ``ru_maxrss`` from ``wait4`` cannot be used: Linux carries the parent's peak across fork and
#: exec, so a child of a large benchmark process would report the parent's size.
PEAK_PRELUDE = """import atexit as _bench_atexit
def _bench_peak():
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmHWM:"):
                __import__("os").write(2, b"\\nBENCH-VmHWM " + line.split()[1] + b"\\n")
_bench_atexit.register(_bench_peak)
del _bench_atexit, _bench_peak
"""


@dataclass(frozen=True)
class ChildResult:
    """A finished child process: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    peak_mib: float
    stdout: str
    #: Peak of the summed RSS of the process and all its descendants (sampled every 0.2 s);
    #: only measured when asked for (``run_child(..., tree=True)``), else 0.
    tree_peak_mib: float = 0.0


class _TreeSampler:
    """Samples the total RSS of a process and its descendants from /proc, in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
        while not self._stop.wait(self._interval):
            parents: dict[int, int] = {}
            rss: dict[int, int] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        fields = stat.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * page_kib
            tree, frontier = {self.pid}, [self.pid]
            while frontier:
                parent = frontier.pop()
                for child, its_parent in parents.items():
                    if its_parent == parent and child not in tree:
                        tree.add(child)
                        frontier.append(child)
            self.peak_kib = max(self.peak_kib, sum(rss.get(pid, 0) for pid in tree))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def child_env(extra_path: Sequence[str] = ()) -> dict[str, str]:
    """The environment for measured child processes: the repository (and ``extra_path``) importable.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: measured processes run as after an install, with
    bytecode (see :func:`compile_bytecode`), like googleapiclient in site-packages.
    """
    paths = [*extra_path, str(ROOT)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def compile_bytecode(*folders: Path) -> None:
    """Write the .pyc files of ``folders``, as ``pip install`` does for an installed package.

    Without them (e.g. under ``PYTHONDONTWRITEBYTECODE=1``) every measured process of ours
    would compile the generated modules from source, while googleapiclient's are compiled.
    """
    import compileall

    for folder in folders:
        if not compileall.compile_dir(str(folder), quiet=1, workers=1):
            raise RuntimeError(f"could not compile {folder}")


def run_child(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None, tree: bool = False
) -> ChildResult:
    """Run ``args`` to completion and measure it: wall time, CPU time of the process and the
    children it reaped (``wait4``), peak RSS (see :data:`PEAK_PRELUDE`) and, with ``tree``, the
    peak summed RSS of the whole process tree (for commands with worker processes).

    Raises RuntimeError, with the child's stderr, when it exits non-zero.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else child_env(),
            cwd=cwd or ROOT,
        )
        sampler = _TreeSampler(process.pid) if tree else None
        # wait4 rather than wait: it also returns the child's own CPU time and peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        tree_peak = sampler.stop() if sampler is not None else 0.0
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(arg for arg in args if arg != PEAK_PRELUDE)[:300]} exited {process.returncode}: "
            f"{stderr.decode(errors='replace')[-2000:]}"
        )
    peak_kib = usage.ru_maxrss
    for line in stderr.splitlines():
        if line.startswith(b"BENCH-VmHWM "):
            peak_kib = int(line.split()[1])
    return ChildResult(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mib=peak_kib / 1024,
        stdout=stdout.decode(errors="replace"),
        tree_peak_mib=tree_peak,
    )


def python_child(code: str, *argv: str, env: Mapping[str, str] | None = None, tree: bool = False) -> ChildResult:
    """Run ``python -c code argv…`` with this interpreter and measure it (peak RSS included)."""
    return run_child([sys.executable, "-c", PEAK_PRELUDE + code, *argv], env=env, tree=tree)


def python_module_child(
    module: str, *argv: str, env: Mapping[str, str] | None = None, tree: bool = False
) -> ChildResult:
    """Run ``python -m module argv…`` (through runpy, so that peak RSS is measured) and measure it."""
    code = (
        f"import runpy, sys\nsys.argv[0] = {module!r}\n"
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    )
    return python_child(code, *argv, env=env, tree=tree)


def cpu_per_call(block: Callable[[int], object], calls: int) -> float:
    """Client CPU seconds per call over one block of ``calls`` calls (this process only)."""
    start = time.process_time()
    block(calls)
    return (time.process_time() - start) / calls


def profile_text(block: Callable[[int], object], calls: int, limit: int = 14) -> str:
    """cProfile (CPU time) of ``block(calls)``: the functions with the most own time, as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting for the server is not the client's cost
    profiler.enable()
    block(calls)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    lines = [line.rstrip() for line in stream.getvalue().splitlines()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    header = next((line.strip() for line in lines if "function calls" in line), "")
    return "\n".join([header, *lines[start:]]).strip()


def import_profile(code: str, *argv: str, env: Mapping[str, str] | None = None, limit: int = 15) -> str:
    """The slowest imports (cumulative µs) of ``python -X importtime -c code``, as text."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else child_env(),
        cwd=ROOT,
        check=False,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, own, cumulative, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
        rows.append((int(cumulative), int(own), name.rstrip()))
    rows.sort(reverse=True)
    body = [f"{'cumulative µs':>14} {'own µs':>8}  module"]
    body += [f"{cumulative:>14} {own:>8}  {name}" for cumulative, own, name in rows[:limit]]
    return "\n".join(body)

"""``codegen generate --all``: every bundled document, in parallel, with a progress bar.

Each document is generated in a worker process (a :class:`~concurrent.futures.ProcessPoolExecutor`
with one worker per core): a big document alone, small ones in groups whose modules one
``ruff format`` process formats (:func:`run_group`). Then, unless told otherwise, each is
verified the way a user would use it: every generated module is imported, the client is
constructed with ``AnonymousCredentials`` and so is the in-memory fake (``testing.Fake<Api>``).
Failures are collected as one-line reasons, one per document; the batch never stops at the
first one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import multiprocessing
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, TextIO

from codegen.errors import CodegenError, one_line
from codegen.phases import Phases, summary_line

if TYPE_CHECKING:
    from codegen import render
    from codegen.generate import Generated


@dataclass(frozen=True)
class Job:
    """One document to generate (picklable: it crosses into a worker process)."""

    path: str
    out: str
    check: bool = False
    verify: bool = True
    allow_downgrade: bool = False
    universe_domains: tuple[str, ...] = ()
    allowed_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """What a worker reports for one document."""

    source: str
    package: str = ""
    methods: int = 0
    schemas: int = 0
    files: int = 0
    changed: int = 0
    largest_file: int = 0  # bytes of the largest generated .py file
    stale: bool = False
    verified: bool = False
    error: str = ""  # one line; empty on success
    seconds: float = 0.0
    peak_rss_kib: int = 0
    alias_of: str = ""  # a byte-identical document generated instead (e.g. admin.directoryv1.json)
    phases: tuple[tuple[str, float], ...] = ()  # seconds per phase (see codegen.phases)


@dataclass
class Summary:
    """Totals over a batch, for the closing report."""

    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    peak_rss_kib: int = 0  # the largest worker's peak resident set

    @property
    def failures(self) -> list[Result]:
        return [result for result in self.results if result.error]

    @property
    def succeeded(self) -> list[Result]:
        return [result for result in self.results if not result.error]

    @property
    def phases(self) -> tuple[tuple[str, float], ...]:
        """Seconds per phase summed over the documents, in the order documents go through them."""
        totals = Phases()
        for result in self.results:
            for name, seconds in result.phases:
                totals.seconds[name] = totals.seconds.get(name, 0.0) + seconds
        return totals.items()


def run_one(job: Job) -> Result:
    """Generate (and verify) one document; never raises for a problem with the document."""
    return run_group((job,))[0]


def run_group(jobs: Sequence[Job]) -> list[Result]:
    """Generate (and verify) several documents, their modules formatted by one ruff process.

    One result per job, in order; never raises for a problem with a document, and a failing
    document does not stop the others. Cyclic garbage is collected after each document's two
    steps (drafting; finishing) rather than every few hundred allocations (:func:`_collecting_once`).
    """
    from codegen import render

    runs = [_Run(job) for job in jobs]
    for run in runs:
        with _collecting_once():
            run.draft()
    drafted = [run for run in runs if run.drafted is not None]
    if len(drafted) > 1:
        started = time.perf_counter()
        formatted: list[dict[str, str] | None]
        try:
            formatted = list(render.format_many([run.sources for run in drafted]))
        except CodegenError:  # one of them breaks ruff: each is formatted alone, to say which
            formatted = [None] * len(drafted)
        _share(time.perf_counter() - started, drafted)
        for run, modules in zip(drafted, formatted, strict=True):
            run.formatted = modules
    for run in drafted:
        with _collecting_once():
            run.finish()
    return [run.result() for run in runs]


@contextlib.contextmanager
def _collecting_once() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off, then collect the young generations.

    Rendering, compiling and importing a package allocate millions of objects; the default
    thresholds start a collection every 700 of them, which cost 11% of a worker's time (measured
    on 120 bundled documents) while almost all of it is freed by reference counting anyway.
    What does form cycles (the verified package's modules, classes) is collected at the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


def _share(seconds: float, runs: Sequence[_Run]) -> None:
    """Charge one ruff run's ``seconds`` to the documents it formatted, by the size of their sources."""
    sizes = [sum(len(source) for source in run.sources.values()) for run in runs]
    whole = sum(sizes) or 1
    for run, size in zip(runs, sizes, strict=True):
        run.phases.seconds["format"] = run.phases.seconds.get("format", 0.0) + seconds * size / whole
        run.seconds += seconds * size / whole


class _Run:
    """One document's way through :func:`run_group`: drafted, formatted, finished, verified."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.phases = Phases()
        self.seconds = 0.0  # this document's share of the group's time
        self.drafted: render.Draft | None = None
        self.formatted: dict[str, str] | None = None
        self.generated: Generated | None = None
        self.verified = False
        self.error = ""

    @property
    def sources(self) -> dict[str, str]:
        assert self.drafted is not None
        return self.drafted.sources

    def draft(self) -> None:
        """Read, check, lower and render (the downgrade guard first)."""
        from codegen import discovery
        from codegen.generate import begin
        from codegen.safety import EndpointPolicy

        job = self.job
        with self._reporting():
            with self.phases.timed("read"):
                document = discovery.load_path(job.path)
            endpoints = EndpointPolicy.from_flags(job.universe_domains, job.allowed_endpoints)
            self.drafted = begin(
                document,
                Path(job.out),
                check=job.check,
                allow_downgrade=job.allow_downgrade,
                endpoints=endpoints,
                phases=self.phases,
            )

    def finish(self) -> None:
        """Format (unless done for the whole group), compile, write or diff, then verify."""
        from codegen import render
        from codegen.generate import complete

        assert self.drafted is not None
        job = self.job
        with self._reporting():
            if self.formatted is None:
                self.formatted = render.format_draft(self.drafted, phases=self.phases)
            self.generated = complete(self.drafted, self.formatted, Path(job.out), check=job.check, phases=self.phases)
            output = self.generated.output
            if job.verify and not job.check:
                with self.phases.timed("verify"):
                    files = [name for name in output.files if name.endswith(".py")]
                    verify_package(Path(job.out), output.package, files, output.code)
                self.verified = True

    @contextlib.contextmanager
    def _reporting(self) -> Iterator[None]:
        """Time the block; turn an exception into this document's one-line error."""
        started = time.perf_counter()
        try:
            yield
        except CodegenError as exc:
            self.error = str(exc)
        except Exception as exc:  # a generator bug: report it as one line and go on with the batch
            self.error = f"internal error: {type(exc).__name__}: {one_line(str(exc))}"
        finally:
            self.seconds += time.perf_counter() - started

    def result(self) -> Result:
        source = Path(self.job.path).name
        package = self.drafted.package if self.drafted is not None else ""
        if self.error or self.generated is None:
            return Result(source, package, error=self.error, seconds=self.seconds, peak_rss_kib=_peak_rss_kib())
        output = self.generated.output
        return Result(
            source,
            package,
            output.method_count,
            output.schema_count,
            len(output.files),
            len(self.generated.changed),
            max((len(data) for name, data in output.files.items() if name.endswith(".py")), default=0),
            bool(self.generated.difference),
            self.verified,
            seconds=self.seconds,
            peak_rss_kib=_peak_rss_kib(),
            phases=self.phases.items(),
        )


def verify_package(out: Path, package: str, files: Sequence[str], code: Mapping[str, CodeType] | None = None) -> None:
    """Import every module of the project ``out/package`` and construct its clients and its fake.

    ``files`` are the project's files (``package/...``); CodegenError if that fails. ``code``
    (from :attr:`codegen.render.Output.code`) holds those modules already compiled from the
    bytes written: they are executed instead of being compiled again. The modules are removed
    from ``sys.modules`` afterwards so a worker does not keep every package it verified.
    """
    from google.auth.credentials import AnonymousCredentials

    root = str((out / package).resolve())
    modules = sorted(_module_name(name) for name in files if name.startswith(package + "/"))
    compiled = _CompiledModules(Path(root), code or {})
    sys.path.insert(0, root)
    sys.meta_path.insert(0, compiled)
    importlib.invalidate_caches()
    try:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception as exc:
                raise CodegenError(f"{package}: importing {module} fails: {type(exc).__name__}: {exc}") from None
        top = sys.modules[package]
        names = getattr(top, "__all__", [])
        clients = [getattr(top, name) for name in names if name.endswith("Client")]
        if not clients:
            raise CodegenError(f"{package}: exports no client class")
        for client_class in clients:
            try:
                client = client_class(credentials=AnonymousCredentials())
                closing = client.close()
                if inspect.isawaitable(closing):  # the async client
                    asyncio.run(_wait(closing))
            except Exception as exc:
                raise CodegenError(
                    f"{package}: constructing {client_class.__name__} fails: {type(exc).__name__}: {exc}"
                ) from None
        testing = sys.modules.get(f"{package}.testing")
        for name in sorted(vars(testing) if testing is not None else ()):
            fake_class = getattr(testing, name)
            if not (name.startswith("Fake") and isinstance(fake_class, type)):
                continue
            try:  # the in-memory fake: its routes are compiled, its clients wired to it
                fake = fake_class()
                fake.client().close()
                asyncio.run(_wait(fake.async_client().close()))
            except Exception as exc:
                raise CodegenError(f"{package}: constructing {name} fails: {type(exc).__name__}: {exc}") from None
    finally:
        sys.meta_path.remove(compiled)
        sys.path.remove(root)
        for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
            del sys.modules[name]


class _CompiledModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the modules of a package being verified and runs the code compiled when rendering.

    Specs carry the files' real paths (``__file__``, a package's ``__path__``), so the modules
    behave as if imported from disk; only the second compilation is saved.
    """

    def __init__(self, root: Path, code: Mapping[str, CodeType]) -> None:
        self._modules = {_module_name(name): (root / name, obj) for name, obj in code.items() if name.endswith(".py")}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        entry = self._modules.get(fullname)
        if entry is None:
            return None
        file = entry[0]
        search = [str(file.parent)] if file.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(fullname, file, loader=self, submodule_search_locations=search)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        exec(self._modules[module.__name__][1], module.__dict__)


async def _wait(awaitable: Awaitable[object]) -> None:
    await awaitable


def _module_name(file: str) -> str:
    """``pkg/resources/x.py`` → ``pkg.resources.x``; ``pkg/__init__.py`` → ``pkg``."""
    parts = file[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _peak_rss_kib() -> int:
    """This process's peak resident set size in KiB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


def default_jobs() -> int:
    """One worker per core this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_all(jobs_list: Sequence[Job], workers: int, on_done: Callable[[Result], None] | None = None) -> Summary:
    """Run ``jobs_list`` on ``workers`` processes, biggest documents first (for balance).

    A document byte-identical to another (google-api-python-client bundles ``admin.directoryv1``
    beside ``admin.directory_v1``) is generated once: two workers must not write one package.
    Two different documents that would make the same package are both reported as failures.
    """
    started = time.perf_counter()
    summary = Summary(jobs=workers)
    first_by_content: dict[bytes, str] = {}
    aliases: list[tuple[Job, str]] = []
    distinct: list[Job] = []
    for job in sorted(jobs_list, key=lambda job: (Path(job.path).name, job.path)):  # by file name, wherever it lies
        key = _content_key(job.path)
        if key is not None and key in first_by_content:
            aliases.append((job, first_by_content[key]))
        else:
            if key is not None:
                first_by_content[key] = job.path
            distinct.append(job)
    ordered = sorted(distinct, key=lambda job: (-_size(job.path), job.path))
    # "spawn": the parent may run a progress-bar thread, which fork() does not mix with.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        submitted = {pool.submit(run_group, group): group for group in _groups(ordered)}
        pending = set(submitted)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    results = future.result()
                except Exception as exc:  # the worker died (killed, out of memory, ...)
                    reason = f"worker failed: {type(exc).__name__}: {one_line(str(exc))}"
                    results = [Result(Path(job.path).name, error=reason) for job in submitted[future]]
                for result in results:
                    summary.results.append(result)
                    summary.peak_rss_kib = max(summary.peak_rss_kib, result.peak_rss_kib)
                    if on_done is not None:
                        on_done(result)
    _flag_package_collisions(summary)
    by_source = {result.source: result for result in summary.results}
    for job, original in aliases:
        name = Path(original).name
        result = dataclasses.replace(by_source[name], source=Path(job.path).name, alias_of=name, changed=0)
        summary.results.append(result)
        if on_done is not None:
            on_done(result)
    summary.results.sort(key=lambda result: result.source)
    summary.seconds = time.perf_counter() - started
    return summary


#: Documents smaller than this are generated in groups (one ruff process formats a group).
SMALL_DOCUMENT = 256 * 1024
#: A group holds at most this many bytes of documents, and at most GROUP_DOCUMENTS of them.
GROUP_BYTES = 1024 * 1024
GROUP_DOCUMENTS = 16


def _groups(ordered: Sequence[Job]) -> list[tuple[Job, ...]]:
    """``ordered`` (biggest first) cut into work items: big documents alone, small ones in groups.

    Each ruff process costs about 8 ms of CPU to start, as much as formatting a small API, and
    most bundled documents are small; groups stay small enough to keep both workers busy to
    the end.
    """
    groups: list[tuple[Job, ...]] = []
    group: list[Job] = []
    size = 0
    for job in ordered:
        job_size = _size(job.path)
        if job_size >= SMALL_DOCUMENT:
            groups.append((job,))
            continue
        if group and (size + job_size > GROUP_BYTES or len(group) == GROUP_DOCUMENTS):
            groups.append(tuple(group))
            group, size = [], 0
        group.append(job)
        size += job_size
    if group:
        groups.append(tuple(group))
    return groups


def _content_key(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).digest()
    except OSError:
        return None  # run_one reports the problem


def _flag_package_collisions(summary: Summary) -> None:
    """Different documents that generate the same package overwrite each other: fail them."""
    sources: dict[str, list[int]] = {}
    for index, result in enumerate(summary.results):
        if result.package and not result.error and not result.alias_of:
            sources.setdefault(result.package, []).append(index)
    for package, indexes in sources.items():
        if len(indexes) > 1:
            names = ", ".join(sorted(summary.results[index].source for index in indexes))
            for index in indexes:
                summary.results[index] = dataclasses.replace(
                    summary.results[index], error=f"package {package} is generated from several documents: {names}"
                )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def generate_all(
    out: Path,
    *,
    workers: int | None = None,
    check: bool = False,
    verify: bool = True,
    allow_downgrade: bool = False,
    universe_domains: Sequence[str] = (),
    allowed_endpoints: Sequence[str] = (),
    progress: bool = True,
    stream: TextIO | None = None,
    apis: Sequence[tuple[str, str]] | None = None,
) -> Summary:
    """Generate every bundled document into ``out``, showing a progress bar on ``stream``.

    ``apis`` limits the batch to these (name, version) pairs.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from codegen.bundled import bundled_apis
    from codegen.safety import EndpointPolicy

    EndpointPolicy.from_flags(universe_domains, allowed_endpoints)  # bad flags fail once, up front
    jobs_list = [
        Job(
            str(api.path),
            str(out),
            check=check,
            verify=verify,
            allow_downgrade=allow_downgrade,
            universe_domains=tuple(universe_domains),
            allowed_endpoints=tuple(allowed_endpoints),
        )
        for api in bundled_apis()
        if apis is None or (api.name, api.version) in apis
    ]
    workers = workers or default_jobs()
    console = Console(file=stream or sys.stderr)
    columns = (
        TextColumn("[bold]generate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=console, disable=not progress, transient=False) as bar:
        task = bar.add_task("generate", total=len(jobs_list), failed=0, last="")
        failed = 0

        def done(result: Result) -> None:
            nonlocal failed
            failed += bool(result.error)
            bar.update(task, advance=1, failed=failed, last=result.package or result.source)

        return run_all(jobs_list, workers, done)


def report(summary: Summary, out: Path, *, check: bool, verify: bool, stream: TextIO) -> None:
    """The closing summary: totals, timing, memory, and one line per failure."""
    ok = summary.succeeded
    total = len(summary.results)
    methods = sum(result.methods for result in ok)
    schemas = sum(result.schemas for result in ok)
    largest = max(ok, key=lambda result: result.largest_file, default=None)
    verb = "checked" if check else "generated"
    print(
        f"{verb} {len(ok)}/{total} APIs: {methods:,} methods, {schemas:,} schemas "
        f"in {summary.seconds:.1f} s with {summary.jobs} worker(s) → {out}",
        file=stream,
    )
    aliases = [result for result in ok if result.alias_of]
    if aliases:
        shown = ", ".join(f"{result.source} = {result.alias_of}" for result in aliases)
        packages = len({result.package for result in ok if not result.alias_of})
        print(f"packages: {packages} ({len(aliases)} byte-identical alias documents: {shown})", file=stream)
    if verify and not check:
        verified = sum(result.verified for result in ok)
        print(f"imported and constructed (AnonymousCredentials): {verified}/{total}", file=stream)
    if check:
        stale = [result.package for result in ok if result.stale]
        shown = ", ".join(stale[:20]) + (" …" if len(stale) > 20 else "")
        print(f"stale: {len(stale)}" + (f" ({shown})" if stale else ""), file=stream)
    else:
        print(f"files changed: {sum(result.changed for result in ok):,}", file=stream)
    if largest is not None:
        print(f"largest generated file: {largest.largest_file / 1024:.0f} KiB ({largest.package})", file=stream)
    slowest = max(summary.results, key=lambda result: result.seconds, default=None)
    if slowest is not None:
        print(f"slowest: {slowest.package or slowest.source} {slowest.seconds:.1f} s", file=stream)
    phases = summary.phases
    if phases:
        print(f"time by phase, summed over the workers: {summary_line(phases)}", file=stream)
    print(f"peak memory of a worker: {summary.peak_rss_kib / 1024:.0f} MiB", file=stream)
    failures = summary.failures
    print(f"failures: {len(failures)}", file=stream)
    for result in failures:
        print(f"  {result.source}: {result.error}", file=stream)

"""The ``codegen`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from codegen import __version__
from codegen.errors import CodegenError, one_line

if TYPE_CHECKING:
    from codegen.discovery import Document

EXIT_OK, EXIT_STALE, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"codegen: error: {one_line(message)} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codegen",
        description="Generate typed Python clients from Google API Discovery documents.",
    )
    parser.add_argument("--version", action="version", version=f"gapi-codegen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate",
        help="generate a client package",
        description=(
            "Generate a client package from a discovery document: a file path, or NAME [VERSION] "
            "of a document bundled with google-api-python-client (NAME alone: the preferred version), "
            "or --all of them."
        ),
    )
    generate.add_argument(
        "source", metavar="NAME|PATH", nargs="?", help="bundled API name, or a discovery document file"
    )
    generate.add_argument("version", nargs="?", help="API version (bundled documents; default: preferred)")
    generate.add_argument("--out", type=Path, default=Path("generated"), help="output folder (default: generated)")
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 with a unified diff if the output is stale"
    )
    generate.add_argument(
        "--all",
        action="store_true",
        dest="all_apis",
        help="generate every bundled document, in parallel, then import each package and construct its client",
    )
    generate.add_argument("--jobs", type=int, metavar="N", help="with --all: worker processes (default: one per core)")
    generate.add_argument(
        "--no-verify", action="store_true", help="with --all: skip importing the packages and constructing clients"
    )
    generate.add_argument("--no-progress", action="store_true", help="with --all: no progress bar")
    generate.add_argument(
        "--allow-downgrade", action="store_true", help="replace the stored document even by an older revision"
    )
    generate.add_argument(
        "--universe-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="also accept https endpoints on hosts under DOMAIN (repeatable; default: googleapis.com only)",
    )
    generate.add_argument(
        "--allow-endpoint",
        action="append",
        default=[],
        metavar="URL",
        help="accept exactly this endpoint URL, even plain http or another host (repeatable; e.g. an emulator)",
    )

    build = commands.add_parser(
        "build",
        help="build installable wheels of a generated package and of the runtime",
        description=(
            "Render a client package as generate would (its version from the changelog under --generated) "
            "and build wheels of it and of gapi-runtime into --out, ready for pip install OUT/*.whl "
            "on a machine without the generator."
        ),
    )
    build.add_argument("source", metavar="NAME|PATH", nargs="?", help="bundled API name, or a discovery document file")
    build.add_argument("version", nargs="?", help="API version (bundled documents; default: preferred)")
    build.add_argument("--out", type=Path, required=True, help="folder for the wheels (created if missing)")
    build.add_argument(
        "--generated",
        type=Path,
        default=Path("generated"),
        help="where the packages' changelogs (and so their versions) are kept (default: generated)",
    )
    build.add_argument("--all", action="store_true", dest="all_apis", help="build every bundled document")
    build.add_argument("--no-runtime", action="store_true", help="do not build the gapi-runtime wheel")
    build.add_argument("--jobs", type=int, metavar="N", help="with --all: worker processes (default: one per core)")
    build.add_argument("--no-progress", action="store_true", help="with --all: no progress bar")
    build.add_argument("--universe-domain", action="append", default=[], metavar="DOMAIN", help="as for generate")
    build.add_argument("--allow-endpoint", action="append", default=[], metavar="URL", help="as for generate")

    commands.add_parser("list", help="list the bundled discovery documents", description="List bundled APIs.")
    operations = commands.add_parser(
        "operations",
        help="report which methods return operations a handle can follow, and their shape",
        description=(
            "For one API (NAME [VERSION] or a document file) list every method that returns an operation "
            "client.operation() can follow, grouped by shape; with --all, one line per API and the totals."
        ),
    )
    operations.add_argument("source", metavar="NAME|PATH", nargs="?", help="bundled API name, or a discovery document")
    operations.add_argument("version", nargs="?", help="API version (bundled documents; default: preferred)")
    operations.add_argument("--all", action="store_true", dest="all_apis", help="every bundled document")
    from codegen import evolve

    evolve.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command in ("diff", "fetch", "update"):
            from codegen import evolve

            return evolve.run(args)
        if args.command == "build":
            return _build(args)
        if args.command == "operations":
            return _operations(args)
        return _generate(args)
    except CodegenError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`codegen list | head`): stop quietly, as Unix tools do
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # the user's files or folders: missing, unreadable, not writable
        print(f"codegen: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("codegen: interrupted", file=sys.stderr)
        return 130


#: The status of a command whose output's reader went away (128 + SIGPIPE, as Unix tools exit).
EXIT_BROKEN_PIPE = 141


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _list() -> int:
    from codegen.bundled import bundled_apis

    for api in bundled_apis():
        marker = "*" if api.preferred else " "
        print(f"{api.name:32} {api.version:16} {marker} {api.title}")
    return EXIT_OK


def _load(source: str, version: str | None) -> Document:
    from codegen import bundled, discovery

    looks_like_path = source.endswith(".json") or "/" in source or Path(source).is_file()
    if looks_like_path:
        if version is not None:
            raise CodegenError(f"a VERSION ({version!r}) makes no sense with a document path ({source!r})")
        return discovery.load_path(source)
    api = bundled.find(source, version)
    return discovery.load_path(api.path)


def _generate(args: argparse.Namespace) -> int:
    from codegen.generate import generate
    from codegen.safety import EndpointPolicy

    if args.all_apis:
        return _generate_all(args)
    if args.source is None:
        raise CodegenError("name an API, a document file, or pass --all (see codegen generate --help)")
    flags = [("--jobs", args.jobs is not None), ("--no-verify", args.no_verify), ("--no-progress", args.no_progress)]
    only_with_all = [flag for flag, used in flags if used]
    if only_with_all:
        raise CodegenError(f"{', '.join(only_with_all)}: only with --all (one document is generated in this process)")
    document = _load(args.source, args.version)
    endpoints = EndpointPolicy.from_flags(args.universe_domain, args.allow_endpoint)
    generated = generate(
        document, args.out, check=args.check, allow_downgrade=args.allow_downgrade, endpoints=endpoints
    )
    output = generated.output
    # What the loader worked around (e.g. a parameter without location); after success, so that
    # an error stays one line.
    for warning in document.warnings:
        print(f"codegen: warning: {warning}", file=sys.stderr)
    if args.check:
        if generated.difference:
            sys.stdout.write(generated.difference)
            print(f"codegen: {args.out / output.package} is stale", file=sys.stderr)
            return EXIT_STALE
        print(f"{args.out / output.package} is up to date")
        return EXIT_OK
    print(
        f"{args.out / output.package}: {output.method_count} methods, {output.schema_count} schemas, "
        f"{len(generated.changed)} file(s) changed"
    )
    return EXIT_OK


def _generate_all(args: argparse.Namespace) -> int:
    from codegen import batch

    if args.source is not None:
        raise CodegenError("--all generates every bundled document: name no API or file")
    if args.jobs is not None and args.jobs < 1:
        raise CodegenError(f"--jobs must be at least 1, got {args.jobs}")
    verify = not args.no_verify
    summary = batch.generate_all(
        args.out,
        workers=args.jobs,
        check=args.check,
        verify=verify,
        allow_downgrade=args.allow_downgrade,
        universe_domains=args.universe_domain,
        allowed_endpoints=args.allow_endpoint,
        progress=not args.no_progress,
    )
    batch.report(summary, args.out, check=args.check, verify=verify, stream=sys.stdout)
    if summary.failures:
        return EXIT_ERROR
    if args.check and any(result.stale for result in summary.results):
        return EXIT_STALE
    return EXIT_OK


def _build(args: argparse.Namespace) -> int:
    from codegen import build
    from codegen.safety import EndpointPolicy

    if args.all_apis and args.source is not None:
        raise CodegenError(f"--all builds every bundled API: leave out {args.source!r}, or leave out --all")
    if not args.all_apis and args.source is None:
        raise CodegenError("name one API or document file, or pass --all (see codegen build --help)")
    if args.jobs is not None and args.jobs < 1:
        raise CodegenError(f"--jobs must be at least 1, got {args.jobs}")
    if args.all_apis:
        wheels = build.build_all(
            args.out,
            generated=args.generated,
            runtime=not args.no_runtime,
            workers=args.jobs,
            universe_domains=args.universe_domain,
            allowed_endpoints=args.allow_endpoint,
            progress=not args.no_progress,
        )
    else:
        document = _load(args.source, args.version)
        endpoints = EndpointPolicy.from_flags(args.universe_domain, args.allow_endpoint)
        wheels = build.build(
            [document], args.out, generated=args.generated, runtime=not args.no_runtime, endpoints=endpoints
        )
    for wheel in wheels:
        print(wheel)
    print(f"{len(wheels)} wheel(s) in {args.out}; install with: pip install {args.out}/*.whl", file=sys.stderr)
    return EXIT_OK


def _operations(args: argparse.Namespace) -> int:
    from codegen import bundled, discovery, operations_report

    if args.all_apis == (args.source is not None):
        raise CodegenError("name one API or document file, or pass --all (see codegen operations --help)")
    if args.all_apis:
        documents = [discovery.load_path(api.path) for api in bundled.bundled_apis()]
        operations_report.report_all(documents, sys.stdout)
    else:
        operations_report.report_one(_load(args.source, args.version), sys.stdout)
    return EXIT_OK

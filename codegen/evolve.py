"""API evolution commands: ``codegen diff``, ``codegen fetch``, ``codegen update``.

``update`` composes fetch → diff → :func:`codegen.generate.generate` → changelog entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from codegen.errors import CodegenError

if TYPE_CHECKING:
    from codegen.diff import Report
    from codegen.safety import EndpointPolicy

EXIT_OK, EXIT_BREAKING, EXIT_ERROR = 0, 1, 2


# --- the command line ------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Add the ``diff``, ``fetch`` and ``update`` subcommands to the ``codegen`` parser."""
    urls_help = (
        "URL template with {name} and {version} to download the document from (repeatable; tried in order; "
        "default: $CODEGEN_DISCOVERY_URLS, else the API's own host, then www.googleapis.com)"
    )

    diff = commands.add_parser(
        "diff",
        help="report what a new discovery document changes in the generated Python surface",
        description=(
            "Compare two discovery documents over the generated Python surface: OLD.json NEW.json, or NAME "
            "VERSION to compare the document stored in OUT/<name>_<version>/discovery.json with the bundled "
            "one (or --against FILE, or --fetch). Exit status: 0 nothing breaks, 1 something breaks, 2 error."
        ),
    )
    diff.add_argument("old", metavar="OLD|NAME", help="old document file, or an API name")
    diff.add_argument("new", metavar="NEW|VERSION", help="new document file, or the API version")
    diff.add_argument("--out", type=Path, default=Path("generated"), help="folder of generated packages (NAME VERSION)")
    source = diff.add_mutually_exclusive_group()
    source.add_argument("--against", type=Path, metavar="FILE", help="NAME VERSION: the new document is FILE")
    source.add_argument("--fetch", action="store_true", help="NAME VERSION: download the new document")
    diff.add_argument("--discovery-url", action="append", metavar="TEMPLATE", help=urls_help)
    diff.add_argument("--json", action="store_true", help="print the report as JSON")
    diff.add_argument("-v", "--verbose", action="store_true", help="also list documentation-only changes")

    fetch = commands.add_parser(
        "fetch",
        help="download a discovery document from the Discovery service",
        description=(
            "Download the current discovery document of NAME VERSION, check that it is a valid document for that "
            "API, and write it atomically."
        ),
    )
    fetch.add_argument("name", help="API name, e.g. looker")
    fetch.add_argument("version", help="API version, e.g. v1")
    fetch.add_argument(
        "--out", metavar="FILE", help="where to write it ('-': standard output; default NAME.VERSION.json)"
    )
    fetch.add_argument("--discovery-url", action="append", metavar="TEMPLATE", help=urls_help)

    update = commands.add_parser(
        "update",
        help="fetch, diff, regenerate and record a changelog entry with the version bump",
        description=(
            "Download the current document of NAME VERSION (or take --document FILE), compare it with the stored "
            "one, regenerate OUT/<name>_<version>, and add an entry to its CHANGELOG.md with the changes and the "
            "semantic-version bump (breaking: major, feature: minor, otherwise patch). The newest changelog heading "
            "is the package version. A new revision that changes nothing but the revision is not released."
        ),
    )
    update.add_argument("name", help="API name, e.g. looker")
    update.add_argument("version", help="API version, e.g. v1")
    update.add_argument("--out", type=Path, default=Path("generated"), help="output folder (default: generated)")
    update.add_argument("--document", type=Path, metavar="FILE", help="use this document instead of downloading")
    update.add_argument("--discovery-url", action="append", metavar="TEMPLATE", help=urls_help)
    update.add_argument("--allow-downgrade", action="store_true", help="accept a revision older than the stored one")
    update.add_argument(
        "--no-breaking", action="store_true", help="write nothing and exit 1 if the new document breaks the surface"
    )
    update.add_argument(
        "--force", action="store_true", help="regenerate (patch bump) even when only the revision changed"
    )
    update.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    update.add_argument(
        "--universe-domain", action="append", default=[], metavar="DOMAIN", help="as for `codegen generate`"
    )
    update.add_argument(
        "--allow-endpoint", action="append", default=[], metavar="URL", help="as for `codegen generate`"
    )
    update.add_argument("--json", action="store_true", help="print the result as JSON")
    update.add_argument("-v", "--verbose", action="store_true", help="also list documentation-only changes")


def run(args: argparse.Namespace) -> int:
    """Run ``diff``, ``fetch`` or ``update``; CodegenError propagates to the CLI's handler."""
    if args.command == "diff":
        return _diff(args)
    if args.command == "fetch":
        return _fetch(args)
    return _update(args)


def _is_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or "\\" in text or Path(text).is_file()


def _diff(args: argparse.Namespace) -> int:
    from codegen import bundled, discovery
    from codegen.diff import diff_documents

    if _is_path(args.old) and _is_path(args.new):
        if args.against or args.fetch:
            raise CodegenError("--against and --fetch go with NAME VERSION, not with two files")
        old = discovery.load_path(args.old)
        new = discovery.load_path(args.new)
    elif _is_path(args.old) or _is_path(args.new):
        raise CodegenError(f"give two document files or NAME VERSION, not {args.old!r} and {args.new!r}")
    else:
        name, version = args.old, args.new
        if args.fetch:
            from codegen.fetch import fetch

            new = fetch(name, version, args.discovery_url).document
        elif args.against:
            new = discovery.load_path(args.against)
            if (new.name, new.version) != (name, version):
                raise CodegenError(f"{args.against} is the document of {new.name} {new.version}, not {name} {version}")
        else:
            new = discovery.load_path(bundled.find(name, version).path)
        from codegen.generate import STORED_DOCUMENT, package_folder

        stored = package_folder(new, args.out) / STORED_DOCUMENT
        if not stored.is_file():
            raise CodegenError(f"no stored document at {stored}: generate the package first (`codegen generate`)")
        old = discovery.load_path(stored)
    report = diff_documents(old, new)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(report.format_text(verbose=args.verbose))
    return EXIT_BREAKING if report.breaking else EXIT_OK


def _fetch(args: argparse.Namespace) -> int:
    from codegen.fetch import fetch
    from codegen.files import write_atomic

    fetched = fetch(args.name, args.version, args.discovery_url)
    for failure in fetched.failures:
        print(f"codegen: note: {failure}", file=sys.stderr)
    document = fetched.document
    summary = f"{document.name} {document.version} revision {document.revision or '?'} from {fetched.url}"
    if args.out == "-":
        sys.stdout.buffer.write(fetched.data)
        sys.stdout.flush()
        print(f"fetched {summary}", file=sys.stderr)
        return EXIT_OK
    out = Path(args.out) if args.out else Path(f"{args.name}.{args.version}.json")
    write_atomic(out, fetched.data)
    print(f"fetched {summary} → {out} ({len(fetched.data)} bytes)")
    return EXIT_OK


@dataclass(frozen=True)
class UpdateResult:
    """What ``codegen update`` did."""

    status: str  # "updated", "created", "up-to-date", "revision-only", "refused-breaking", "dry-run"
    package: str
    old_version: str
    new_version: str
    old_revision: str
    new_revision: str
    bump: str
    changed_files: tuple[str, ...]
    changelog: str  # path of the changelog written, or ""
    report: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "package": self.package,
            "version": {"old": self.old_version, "new": self.new_version},
            "revision": {"old": self.old_revision, "new": self.new_revision},
            "bump": self.bump,
            "changed_files": list(self.changed_files),
            "changelog": self.changelog,
            "report": self.report,
        }


def update(
    name: str,
    version: str,
    out_dir: Path,
    *,
    document_path: Path | None = None,
    urls: list[str] | None = None,
    allow_downgrade: bool = False,
    no_breaking: bool = False,
    force: bool = False,
    dry_run: bool = False,
    endpoints: EndpointPolicy | None = None,
    log: TextIO | None = None,
) -> tuple[UpdateResult, Report | None]:
    """Fetch (or load), diff, regenerate and write the changelog entry; returns (result, report).

    ``endpoints`` is the endpoint policy of :func:`codegen.render.render` (default: googleapis.com).
    """
    from codegen import changelog, discovery, render
    from codegen.diff import diff_documents
    from codegen.fetch import fetch
    from codegen.generate import STORED_DOCUMENT, generate, package_folder
    from codegen.versions import compare_revisions

    if document_path is not None:
        new = discovery.load_path(document_path)
        if (new.name, new.version) != (name, version):
            raise CodegenError(f"{document_path} is the document of {new.name} {new.version}, not {name} {version}")
    else:
        fetched = fetch(name, version, urls)
        for failure in fetched.failures:
            if log is not None:
                print(f"codegen: note: {failure}", file=log)
        new = fetched.document
    target = package_folder(new, out_dir)
    stored = target / STORED_DOCUMENT
    current = changelog.current_version(target)

    def result(
        status: str,
        new_version: str,
        bump: str,
        files: tuple[str, ...] = (),
        log_path: str = "",
        report: Report | None = None,
        old_revision: str = "",
    ) -> UpdateResult:
        return UpdateResult(
            status,
            target.name,
            current,
            new_version,
            old_revision,
            new.revision,
            bump,
            files,
            log_path,
            report.to_json() if report is not None else None,
        )

    if not stored.is_file():
        if dry_run:
            return result("dry-run", current, "none"), None
        files = generate(new, out_dir, version=current, allow_downgrade=True, endpoints=endpoints).changed
        path = changelog.prepend(target, target.name, changelog.entry(current, None, new.revision, changelog.today()))
        return result("created", current, "none", files, str(path)), None

    old = discovery.load_path(stored)
    if compare_revisions(old.revision, new.revision) == -1 and not allow_downgrade:
        raise CodegenError(
            f"the new document's revision {new.revision} is older than revision {old.revision} of {stored}; "
            "refusing to downgrade (pass --allow-downgrade to do it anyway)"
        )
    if old.raw == new.raw:
        return result("up-to-date", current, "none", old_revision=old.revision), None
    report = diff_documents(old, new)
    if not report.changes and old.revision == new.revision:  # only formatting, key order or etag differ
        return result("up-to-date", current, "none", old_revision=old.revision), None
    kind = report.bump
    if kind == "none":
        if not force:
            return result("revision-only", current, "none", report=report, old_revision=old.revision), report
        kind = "patch"
    if report.breaking and no_breaking:
        return result("refused-breaking", current, kind, report=report, old_revision=old.revision), report
    next_version = changelog.bump(current, kind)
    output = render.render(new, next_version, endpoints=endpoints)
    if dry_run:
        files = tuple(name for name, data in output.files.items() if _differs(target / name, data))
        return result("dry-run", next_version, kind, files, report=report, old_revision=old.revision), report
    files = tuple(render.write(output, out_dir))
    had_changelog = (target / changelog.FILENAME).is_file()
    text = changelog.entry(next_version, report, new.revision, changelog.today(), forced=force)
    path = changelog.prepend(target, target.name, text, None if had_changelog else (current, old.revision))
    return result("updated", next_version, kind, files, str(path), report, old.revision), report


def _differs(path: Path, data: bytes) -> bool:
    return not path.is_file() or path.read_bytes() != data


_MESSAGES = {
    "created": "{package}: generated version {new_version} from revision {new_revision}; {files} file(s) written; "
    "{changelog} started",
    "updated": "{package}: {old_version} → {new_version} ({bump}); revision {old_revision} → {new_revision}; "
    "{files} file(s) changed; {changelog} updated",
    "up-to-date": "{package}: up to date (revision {new_revision}, version {old_version})",
    "revision-only": "{package}: only the revision changed ({old_revision} → {new_revision}); nothing to release, "
    "nothing written (--force regenerates with a patch bump)",
    "refused-breaking": "{package}: revision {new_revision} breaks the surface; nothing written (--no-breaking)",
    "dry-run": "{package}: would go {old_version} → {new_version} ({bump}); {files} file(s) would change; "
    "nothing written (--dry-run)",
}


def _update(args: argparse.Namespace) -> int:
    from codegen.safety import EndpointPolicy

    result, report = update(
        args.name,
        args.version,
        args.out,
        document_path=args.document,
        urls=args.discovery_url,
        allow_downgrade=args.allow_downgrade,
        no_breaking=args.no_breaking,
        force=args.force,
        dry_run=args.dry_run,
        endpoints=EndpointPolicy.from_flags(args.universe_domain, args.allow_endpoint),
        log=sys.stderr,
    )
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        if report is not None and result.status != "up-to-date":
            sys.stdout.write(report.format_text(verbose=args.verbose))
        print(
            _MESSAGES[result.status].format(
                package=args.out / result.package,
                old_version=result.old_version,
                new_version=result.new_version,
                bump=result.bump,
                old_revision=result.old_revision or "?",
                new_revision=result.new_revision or "?",
                files=len(result.changed_files),
                changelog=result.changelog,
            )
        )
    return EXIT_BREAKING if result.status == "refused-breaking" else EXIT_OK

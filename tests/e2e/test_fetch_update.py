"""`codegen fetch` and `codegen update` against a loopback Discovery service.

The server answers the two Discovery URL shapes under its own address:
``/{name}/$discovery/rest?version={version}`` (the API's host) and
``/discovery/v1/apis/{name}/{version}/rest`` (the directory). Tests point the CLI at it with
``--discovery-url`` or ``CODEGEN_DISCOVERY_URLS``; nothing reaches the internet.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen import bundled, cli
from codegen.errors import CodegenError
from codegen.fetch import discovery_urls, fetch
from tests.support.loopback import LoopbackServer, Recorded, Reply

ROOT = Path(__file__).resolve().parents[2]
LOOKER = bundled.find("looker", "v1").path
INSTANCES = ("resources", "projects", "resources", "locations", "resources", "instances")


def looker() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOOKER.read_bytes())
    return data


def changed_looker(revision: str = "20261105") -> dict[str, Any]:
    """Looker with one breaking, two feature and one documentation change."""
    doc = looker()
    doc["revision"] = revision
    methods = doc
    for key in INSTANCES:
        methods = methods[key]
    methods["methods"]["list"]["parameters"]["orderBy"] = {
        "type": "string",
        "location": "query",
        "description": "Sort order.",
    }
    del doc["schemas"]["Instance"]["properties"]["egressPublicIp"]
    doc["schemas"]["Instance"]["properties"]["platformEdition"]["enum"].append("LOOKER_CORE_NEW_EDITION")
    doc["schemas"]["Instance"]["properties"]["platformEdition"]["enumDescriptions"].append("New.")
    doc["description"] = "Changed description."
    return doc


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True).encode()


class Discovery:
    """Routes for the loopback Discovery service: path → Reply (or a list, served in turn)."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.routes: dict[str, list[Reply]] = {}
        server.handler = self.handle

    def primary(self, name: str = "looker", version: str = "v1") -> str:
        return f"/{name}/$discovery/rest?version={version}"

    def directory(self, name: str = "looker", version: str = "v1") -> str:
        return f"/discovery/v1/apis/{name}/{version}/rest"

    @property
    def templates(self) -> list[str]:
        base = self.server.url.rstrip("/")
        return [
            f"{base}/{{name}}/$discovery/rest?version={{version}}",
            f"{base}/discovery/v1/apis/{{name}}/{{version}}/rest",
        ]

    def serve(self, target: str, *replies: Reply) -> None:
        self.routes[target] = list(replies)

    def handle(self, request: Recorded) -> Reply:
        replies = self.routes.get(request.target)
        if not replies:
            return Reply(404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}})
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def hits(self, target: str) -> int:
        return sum(1 for request in self.server.requests if request.target == target)


@pytest.fixture
def service() -> Iterator[Discovery]:
    with LoopbackServer() as server:
        yield Discovery(server)


def url_args(service: Discovery) -> list[str]:
    return [arg for template in service.templates for arg in ("--discovery-url", template)]


# --- fetch -------------------------------------------------------------------------------


def test_fetch_writes_the_served_bytes(service: Discovery, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = encode(changed_looker())
    service.serve(service.primary(), Reply(200, body))
    out = tmp_path / "looker.json"
    assert cli.main(["fetch", "looker", "v1", "--out", str(out), *url_args(service)]) == 0
    assert out.read_bytes() == body
    assert "revision 20261105" in capsys.readouterr().out
    request = service.server.requests[0]
    assert request.target == service.primary()
    assert request.headers["user-agent"].startswith("gapi-codegen/")
    assert service.hits(service.directory()) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["looker.json"]  # no temporary file left


def test_fetch_to_standard_output(service: Discovery, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    body = encode(looker())
    service.serve(service.primary(), Reply(200, body))
    assert cli.main(["fetch", "looker", "v1", "--out", "-", *url_args(service)]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == body
    assert b"fetched looker v1 revision 20261020" in captured.err


def test_fetch_falls_back_to_the_directory_url(
    service: Discovery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = encode(looker())
    service.serve(service.directory(), Reply(200, body))  # the API host answers 404 with an error body
    out = tmp_path / "doc.json"
    assert cli.main(["fetch", "looker", "v1", "--out", str(out), *url_args(service)]) == 0
    assert out.read_bytes() == body
    err = capsys.readouterr().err
    assert "HTTP 404: 404 NOT_FOUND Not Found" in err
    assert service.hits(service.primary()) == 1 and service.hits(service.directory()) == 1


def test_fetch_rejects_an_error_body_served_with_200(service: Discovery) -> None:
    service.serve(service.primary(), Reply(200, {"error": {"code": 403, "message": "API disabled"}}))
    service.serve(service.directory(), Reply(200, encode(looker())))
    fetched = fetch("looker", "v1", service.templates)
    assert fetched.url.endswith(service.directory())
    assert "error body: 403 API disabled" in fetched.failures[0]

    service.serve(service.directory(), Reply(200, {"error": "backend unavailable"}))
    with pytest.raises(CodegenError) as raised:
        fetch("looker", "v1", service.templates)
    assert "403 API disabled" in str(raised.value) and "backend unavailable" in str(raised.value)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>Service Unavailable</html>", "not JSON"),
        (b'{"version": "v1", "rootUrl": "https://looker.googleapis.com/"}', "$.name: required member is missing"),
        (
            b'{"name": "looker", "version": "v1", "rootUrl": "x", "resources": {"r": {"methods": 3}}}',
            "$.resources.r.methods: expected an object",
        ),
        (encode({**looker(), "name": "drive", "version": "v3"}), "is for drive v3, not looker v1"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["html", "missing-member", "malformed", "other-api", "binary"],
)
def test_fetch_rejects_an_invalid_document(
    service: Discovery, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: bytes, problem: str
) -> None:
    service.serve(service.primary(), Reply(200, body))
    out = tmp_path / "doc.json"
    out.write_bytes(b"previous")
    assert cli.main(["fetch", "looker", "v1", "--out", str(out), *url_args(service)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codegen: error: could not fetch the looker v1 discovery document:")
    assert problem in err and err.count("\n") == 1
    assert out.read_bytes() == b"previous"  # nothing replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_fetch_retries_server_errors_then_reports_every_url(service: Discovery) -> None:
    service.serve(service.primary(), Reply(503, b"busy"))
    service.serve(service.directory(), Reply(500, {"error": {"code": 500, "message": "boom"}}))
    with pytest.raises(CodegenError) as raised:
        fetch("looker", "v1", service.templates, retries=2)
    message = str(raised.value)
    assert f"{service.server.url.rstrip('/')}{service.primary()}: HTTP 503" in message
    assert "HTTP 500: 500 boom" in message
    assert service.hits(service.primary()) == 3  # the first try and two retries
    assert service.hits(service.directory()) == 3


def test_fetch_recovers_from_a_transient_error(service: Discovery) -> None:
    service.serve(service.primary(), Reply(503, b"busy"), Reply(200, encode(looker())))
    fetched = fetch("looker", "v1", service.templates)
    assert fetched.failures == () and fetched.document.revision == looker()["revision"]


def test_fetch_connection_refused_falls_back(service: Discovery) -> None:
    service.serve(service.directory(), Reply(200, encode(looker())))
    with LoopbackServer() as closed:
        dead = closed.url
    templates = [f"{dead}{{name}}/rest", service.templates[1]]
    fetched = fetch("looker", "v1", templates, retries=0)
    assert "connection failed" in fetched.failures[0]


def test_fetch_decodes_gzip_and_follows_safe_redirects(service: Discovery) -> None:
    body = encode(looker())
    service.serve("/moved", Reply(200, gzip.compress(body), {"content-encoding": "gzip"}))
    service.serve(service.primary(), Reply(302, b"", {"location": "/moved"}))
    fetched = fetch("looker", "v1", service.templates)
    assert fetched.data == body and fetched.url.endswith(service.primary())

    service.serve(service.primary(), Reply(302, b"", {"location": "http://example.com/doc"}))
    with pytest.raises(CodegenError) as raised:
        fetch("looker", "v1", service.templates[:1])
    assert "redirect target 'http://example.com/doc' uses plain http to a non-loopback host" in str(raised.value)


def test_urls_default_environment_and_checks() -> None:
    assert discovery_urls("looker", "v1", environ={}) == [
        "https://looker.googleapis.com/$discovery/rest?version=v1",
        "https://www.googleapis.com/discovery/v1/apis/looker/v1/rest",
    ]
    env = {"CODEGEN_DISCOVERY_URLS": "http://127.0.0.1:9/{name}/{version}  https://mirror.example/{name}"}
    assert discovery_urls("admin", "directory_v1", environ=env) == [
        "http://127.0.0.1:9/admin/directory_v1",
        "https://mirror.example/admin",
    ]
    for name, version, templates, problem in (
        ("../etc", "v1", None, "invalid API name"),
        ("looker", "v1?x=1", None, "invalid version"),
        ("looker", "v1", ["http://example.com/{name}"], "plain http to a non-loopback host"),
        ("looker", "v1", ["file:///etc/{name}"], "is not an http(s) URL"),
    ):
        with pytest.raises(CodegenError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            discovery_urls(name, version, templates, environ={})


# --- update ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed looker_v1, brought up to date with the working tree's generator (a no-op when committed)."""
    folder = tmp_path_factory.mktemp("baseline") / "generated"
    shutil.copytree(
        ROOT / "generated" / "looker_v1",
        folder / "looker_v1",
        ignore=shutil.ignore_patterns("__pycache__", "CHANGELOG.md"),
    )
    assert cli.main(["generate", "looker", "v1", "--out", str(folder)]) == 0
    return folder


@pytest.fixture
def out(tmp_path: Path, baseline: Path) -> Path:
    """A temporary copy of the output folder (looker_v1 only)."""
    folder = tmp_path / "generated"
    shutil.copytree(baseline, folder)
    return folder


def _env(service: Discovery) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CODEGEN_DISCOVERY_URLS": " ".join(service.templates),
        "SOURCE_DATE_EPOCH": "1790000000",
    }


def test_update_regenerates_writes_the_changelog_and_reports_the_bump(service: Discovery, out: Path) -> None:
    """The issue's end-to-end case, as a user runs it: a separate process, the URL from the environment."""
    body = encode(changed_looker())
    service.serve(service.directory(), Reply(200, body))  # the API host 404s: the fallback serves it
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "update", "looker", "v1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(service),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    package = out / "looker_v1"
    assert "1.0.0 → 2.0.0 (major); revision 20261020 → 20261105" in result.stdout
    assert "schemas.Instance.egressPublicIp: field removed" in result.stdout
    assert "projects.locations.instances.list(order_by=...): optional parameter added" in result.stdout
    assert "HTTP 404" in result.stderr  # the note about the first URL
    assert (package / "discovery.json").read_bytes() == body
    assert (package / "looker_v1" / "_version.py").read_text().endswith('__version__ = "2.0.0"\n')

    changelog = (package / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog of looker_v1\n")
    assert "## 2.0.0 — revision 20261105 (2026-09-21)" in changelog
    assert "Version bump: major (1 breaking, 2 feature, 0 other, 2 documentation change(s))" in changelog
    assert (
        "- `schemas.Instance.egressPublicIp`: field removed (`$.schemas.Instance.properties.egressPublicIp`)"
        in changelog
    )
    assert "enum value 'LOOKER\\_CORE\\_NEW\\_EDITION' added" in changelog
    assert changelog.index("## 2.0.0") < changelog.index("## 1.0.0 — revision 20261020")

    # The regenerated package works, has the new parameter and reports its version.
    code = (
        "import inspect, looker_v1\n"
        "from google.auth.credentials import AnonymousCredentials\n"
        "c = looker_v1.LookerClient(credentials=AnonymousCredentials())\n"
        "print(looker_v1.__version__, looker_v1.REVISION,\n"
        "      'order_by' in inspect.signature(c.projects.locations.instances.list).parameters)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=out,
        env={**os.environ, "PYTHONPATH": f"{package}:{ROOT}"},
        check=False,
    )
    assert run.stdout.split() == ["2.0.0", "20261105", "True"], run.stderr

    # Regeneration from the stored document is deterministic: the version comes from the changelog.
    check = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", str(package / "discovery.json"), "--out", str(out), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(service),
        check=False,
    )
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr

    # The same document again: up to date, nothing written.
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*") if p.is_file()}
    again = subprocess.run(
        [sys.executable, "-m", "codegen", "update", "looker", "v1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(service),
        check=False,
    )
    assert again.returncode == 0 and "up to date (revision 20261105, version 2.0.0)" in again.stdout
    assert before == {p: p.stat().st_mtime_ns for p in package.rglob("*") if p.is_file()}


def _update(service: Discovery, out: Path, *extra: str) -> int:
    return cli.main(["update", "looker", "v1", "--out", str(out), *url_args(service), *extra])


def test_update_feature_only_is_minor_and_json(
    service: Discovery, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = looker()
    doc["revision"] = "20261106"
    doc["schemas"]["Instance"]["properties"]["color"] = {"type": "string"}
    service.serve(service.primary(), Reply(200, encode(doc)))
    assert _update(service, out, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "updated" and result["bump"] == "minor"
    assert result["version"] == {"old": "1.0.0", "new": "1.1.0"}
    assert result["report"]["changes"][0]["python"] == "schemas.Instance.color"
    changed = sorted(result["changed_files"])
    assert changed == [
        "discovery.json", "looker_v1/__init__.py", "looker_v1/_async_client.py", "looker_v1/_client.py",
        "looker_v1/_version.py", "looker_v1/schemas.py", "pyproject.toml",
    ]  # fmt: skip


def test_update_revision_only_releases_nothing_unless_forced(
    service: Discovery, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = looker()
    doc["revision"] = "20261107"
    service.serve(service.primary(), Reply(200, encode(doc)))
    stored = (out / "looker_v1" / "discovery.json").read_bytes()
    first_entry = (out / "looker_v1" / "CHANGELOG.md").read_text()  # written by the first generate
    assert _update(service, out) == 0
    assert "only the revision changed" in capsys.readouterr().out
    assert (out / "looker_v1" / "discovery.json").read_bytes() == stored
    assert (out / "looker_v1" / "CHANGELOG.md").read_text() == first_entry

    assert _update(service, out, "--force") == 0
    assert "1.0.0 → 1.0.1 (patch)" in capsys.readouterr().out
    assert "--force" in (out / "looker_v1" / "CHANGELOG.md").read_text()


def test_update_reformatted_same_revision_is_up_to_date(
    service: Discovery, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = looker()
    doc["etag"] = '"new-etag"'
    service.serve(service.primary(), Reply(200, json.dumps(doc, indent=4).encode()))  # other bytes, same API
    stored = (out / "looker_v1" / "discovery.json").read_bytes()
    assert _update(service, out) == 0
    assert "up to date (revision 20261020, version 1.0.0)" in capsys.readouterr().out
    assert (out / "looker_v1" / "discovery.json").read_bytes() == stored


def test_update_guards(service: Discovery, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = out / "looker_v1"
    snapshot = {p: p.read_bytes() for p in package.rglob("*") if p.is_file()}

    # An older revision is refused.
    service.serve(service.primary(), Reply(200, encode(changed_looker(revision="20240101"))))
    assert _update(service, out) == 2
    err = capsys.readouterr().err
    assert "revision 20240101 is older than revision 20261020" in err and "--allow-downgrade" in err

    # A breaking document with --no-breaking: exit 1, nothing written; --dry-run: nothing written.
    service.serve(service.primary(), Reply(200, encode(changed_looker())))
    assert _update(service, out, "--no-breaking") == 1
    assert "breaks the surface; nothing written" in capsys.readouterr().out
    assert _update(service, out, "--dry-run") == 0
    assert "would go 1.0.0 → 2.0.0 (major)" in capsys.readouterr().out
    assert snapshot == {p: p.read_bytes() for p in package.rglob("*") if p.is_file()}

    # Downgrade allowed explicitly.
    service.serve(service.primary(), Reply(200, encode(changed_looker(revision="20240101"))))
    assert _update(service, out, "--allow-downgrade") == 0
    assert "revision 20261020 → 20240101" in capsys.readouterr().out


def test_update_creates_a_missing_package(service: Discovery, tmp_path: Path) -> None:
    service.serve(service.primary(), Reply(200, encode(looker())))
    assert _update(service, tmp_path) == 0
    changelog = (tmp_path / "looker_v1" / "CHANGELOG.md").read_text()
    assert "## 1.0.0 — revision 20261020" in changelog and "First generated version." in changelog


# --- the generate-time guard -------------------------------------------------------------


def test_generate_refuses_an_older_revision(out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    older = tmp_path / "older.json"
    doc = looker()
    doc["revision"] = "20200101"
    older.write_bytes(encode(doc))
    stored = (out / "looker_v1" / "discovery.json").read_bytes()
    assert cli.main(["generate", str(older), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "revision 20200101 is older than revision 20261020" in err and "--allow-downgrade" in err
    assert (out / "looker_v1" / "discovery.json").read_bytes() == stored

    assert cli.main(["generate", str(older), "--out", str(out), "--allow-downgrade"]) == 0
    assert json.loads((out / "looker_v1" / "discovery.json").read_bytes())["revision"] == "20200101"
    # Same or newer revisions need no flag.
    newer = copy.deepcopy(doc)
    newer["revision"] = "20300101"
    older.write_bytes(encode(newer))
    assert cli.main(["generate", str(older), "--out", str(out)]) == 0


def test_generate_keeps_the_changelog_and_its_version(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = out / "looker_v1"
    (package / "CHANGELOG.md").write_text("# Changelog\n\n## 3.1.4 — revision 20261020\n\nHand-made.\n")
    assert cli.main(["generate", "looker", "v1", "--out", str(out)]) == 0
    assert (package / "CHANGELOG.md").exists()
    assert '__version__ = "3.1.4"' in (package / "looker_v1" / "_version.py").read_text()
    assert cli.main(["generate", "looker", "v1", "--out", str(out), "--check"]) == 0
    (package / "CHANGELOG.md").write_text("# Changelog\n\n## next\n")
    assert cli.main(["generate", "looker", "v1", "--out", str(out)]) == 2
    assert "the newest heading 'next' is not a version X.Y.Z" in capsys.readouterr().err


def test_update_applies_the_endpoint_policy(service: Discovery, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = looker()
    doc["rootUrl"] = "https://looker.example.com/"
    doc["revision"] = "20261201"
    service.serve(service.primary(), Reply(200, encode(doc)))
    stored = (out / "looker_v1" / "discovery.json").read_bytes()
    assert _update(service, out) == 2
    assert "is not under googleapis.com" in capsys.readouterr().err
    assert (out / "looker_v1" / "discovery.json").read_bytes() == stored
    assert _update(service, out, "--allow-endpoint", "https://looker.example.com/") == 0
    output = capsys.readouterr().out
    assert "root URL changed from 'https://looker.googleapis.com/' to 'https://looker.example.com/'" in output
    assert "1.0.0 → 1.0.1 (patch)" in output


def test_a_new_project_starts_its_changelog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its README links CHANGELOG.md and its MANIFEST.in includes it: the first generate writes it."""
    assert cli.main(["generate", "looker", "v1", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "looker_v1" / "CHANGELOG.md").read_text()
    assert "## 1.0.0 — revision 20261020" in text and "First generated version." in text
    assert "(CHANGELOG.md)" in (tmp_path / "looker_v1" / "README.md").read_text()
    (tmp_path / "looker_v1" / "CHANGELOG.md").write_text("# Mine\n\n## 1.2.0\n")  # then it is the user's
    assert cli.main(["generate", "looker", "v1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "looker_v1" / "CHANGELOG.md").read_text() == "# Mine\n\n## 1.2.0\n"


def test_flags_that_go_with_other_flags_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["generate", "looker", "v1", "--jobs", "3"],
        ["generate", "looker", "v1", "--no-verify"],
        ["build", "--all", "looker"],
        ["diff", "looker", "v1", "--against", str(bundled.find("drive", "v3").path)],
    ):
        assert cli.main([*args, "--out", str(tmp_path / "out")]) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("codegen: error: "), err
        assert ("only with --all" in err) or ("leave out" in err) or ("is the document of drive v3" in err), err
    assert not (tmp_path / "out").exists()

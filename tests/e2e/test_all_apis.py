"""Every Google API, in CI as a slice: generate, import, construct, compare, type-check.

The slice (``tests.support.equivalence.CI_SLICE``, 33 documents including every API the issue
names) is generated once per session through the same batch code as ``codegen generate
--all``, which also imports every module and constructs each client. Then:

* request equivalence with ``googleapiclient.discovery.build_from_document`` for every
  method of the slice (the full run over 610 documents: ``python -m tests.support.equivalence --all``);
* every method of the slice through the API's in-memory fake (``testing.Fake<Api>``): routed
  to itself, answered with a result or an API error;
* big APIs stay light: importing compute v1 and constructing its client loads no resource
  or schema module, and no generated file is over :data:`MAX_FILE_BYTES`;
* one mypy --strict run over looker v1, compute v1, drive v3, storage v1, bigquery v2 and
  every edge-case fixture.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codegen import batch, bundled, cli
from tests.support import equivalence
from tests.support import generated_packages as gp

ROOT = Path(__file__).resolve().parents[2]
#: No generated file of the slice may be larger (compute's schemas alone are ~1.9 MB).
MAX_FILE_BYTES = 400_000
MYPY_SAMPLE = (("looker", "v1"), ("compute", "v1"), ("drive", "v3"), ("storage", "v1"), ("bigquery", "v2"))


@pytest.fixture(scope="module")
def slice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("slice")
    summary = batch.generate_all(out, progress=False, apis=equivalence.CI_SLICE)
    assert not summary.failures, [f"{result.source}: {result.error}" for result in summary.failures]
    assert len(summary.results) == len(equivalence.CI_SLICE)
    assert all(result.verified for result in summary.results)  # imported, client constructed
    return out


def test_slice_names_the_apis_of_the_issue() -> None:
    named = {
        ("compute", "v1"), ("drive", "v3"), ("storage", "v1"), ("bigquery", "v2"), ("sheets", "v4"),
        ("admin", "directory_v1"), ("youtube", "v3"), ("aiplatform", "v1"), ("translate", "v2"),
        ("oauth2", "v2"), ("looker", "v1"),
    }  # fmt: skip
    assert named <= set(equivalence.CI_SLICE)
    assert len(equivalence.CI_SLICE) >= 30


def test_slice_packages_are_named_by_the_rule(slice_dir: Path) -> None:
    packages = {path.name for path in slice_dir.iterdir() if path.is_dir()}
    assert {"admin_directory_v1", "looker_v1", "compute_v1", "dataflow_v1b3", "oauth2_v2"} <= packages
    source = (slice_dir / "admin_directory_v1" / "admin_directory_v1" / "__init__.py").read_text(encoding="utf-8")
    assert "from ._client import DirectoryClient" in source  # canonicalName "Directory"


def test_slice_equivalence_with_the_dynamic_client(slice_dir: Path) -> None:
    totals = equivalence.run([str(bundled.find(*api).path) for api in equivalence.CI_SLICE], 1, str(slice_dir))
    assert totals.ok, "\n".join(totals.lines())
    assert totals.apis == len(equivalence.CI_SLICE)
    # Every method, plus the media calls of media methods (simple and multipart uploads, downloads).
    expected = sum(_method_count(*api) + _media_call_count(*api) for api in equivalence.CI_SLICE)
    assert totals.media == sum(_media_call_count(*api) for api in equivalence.CI_SLICE) > 0
    assert totals.compared == expected  # every method compared
    assert totals.equal + sum(totals.deviating.values()) == expected
    assert set(totals.deviating) <= set(equivalence.DEVIATIONS)
    assert totals.deviating.get("reserved-expansion", 0) > 0  # the hostile values reach {+var} paths


def _method_count(name: str, version: str) -> int:
    from codegen import discovery

    return sum(1 for _ in discovery.load_path(bundled.find(name, version).path).all_methods())


def _media_call_count(name: str, version: str) -> int:
    """The media calls the harness compares: an upload without metadata, one with (when the method
    takes a body), and a ``_media`` download."""
    from codegen import discovery

    methods = discovery.load_path(bundled.find(name, version).path).all_methods()
    return sum(
        (1 + bool(method.request_ref or method.request_schema)) * method.supports_media_upload
        + method.supports_media_download
        for method in methods
    )


def test_get_type_hints_on_a_sample_of_big_apis(slice_dir: Path) -> None:
    """typing.get_type_hints() on every public class and method of the mypy sample (chunked schemas,
    split resource modules), in a child process so that the big packages do not stay loaded."""
    script = textwrap.dedent(
        """
        import importlib, json, sys
        from tests.support.type_hints import check_package
        report = {}
        for name in sys.argv[1:]:
            importlib.import_module(name)
            report[name] = check_package(name)
        print(json.dumps(report))
        """
    )
    packages = [f"{name}_{version}" for name, version in MYPY_SAMPLE if name != "looker"]
    path = os.pathsep.join([*(str(slice_dir / package) for package in packages), str(ROOT)])
    result = subprocess.run(
        [sys.executable, "-c", script, *packages],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    import json

    report = json.loads(result.stdout)
    assert {name: failures[:5] for name, (_, failures) in report.items() if failures} == {}
    assert all(checked > 100 for checked, _ in report.values()), report


def test_big_api_import_is_light(slice_dir: Path) -> None:
    """Importing compute v1 and constructing its client loads no resource or schema module;
    reaching one resource loads that resource's module only."""
    script = textwrap.dedent(
        """
        import sys
        from google.auth.credentials import AnonymousCredentials
        import compute_v1
        client = compute_v1.ComputeClient(credentials=AnonymousCredentials())
        loaded = sorted(name for name in sys.modules if name.startswith("compute_v1."))
        print(",".join(loaded))
        client.instances
        loaded = sorted(name for name in sys.modules if name.startswith("compute_v1."))
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=slice_dir,
        env={**os.environ, "PYTHONPATH": f"{slice_dir / 'compute_v1'}{os.pathsep}{ROOT}"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    after_construct, after_access = (set(line.split(",")) for line in result.stdout.strip().splitlines())
    assert "compute_v1._client" in after_construct
    heavy = {name for name in after_construct if name.startswith(("compute_v1.resources", "compute_v1.schemas"))}
    assert heavy == set()
    resources = {name for name in after_access if name.startswith(("compute_v1.resources", "compute_v1.schemas"))}
    assert resources == {"compute_v1.resources", "compute_v1.resources.instances"}


def test_no_generated_file_is_unreasonably_large(slice_dir: Path) -> None:
    sizes = {path: path.stat().st_size for path in slice_dir.rglob("*.py")}
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] <= MAX_FILE_BYTES, f"{largest} has {sizes[largest]} bytes"
    assert (slice_dir / "compute_v1" / "compute_v1" / "schemas" / "__init__.py").is_file()  # compute's schemas split
    assert len(list((slice_dir / "aiplatform_v1" / "aiplatform_v1" / "resources").glob("*.py"))) > 2  # big resources


def test_file_names_differ_also_on_case_insensitive_file_systems(slice_dir: Path) -> None:
    for package in slice_dir.iterdir():
        names = [path.relative_to(package).as_posix() for path in package.rglob("*") if "__pycache__" not in path.parts]
        assert len({name.lower() for name in names}) == len(names), package.name


def test_mypy_strict_on_the_sample_and_the_fixtures(slice_dir: Path, tmp_path: Path) -> None:
    """One mypy --strict run (as Python 3.10) over the sample of big packages and every fixture."""
    fixtures = [gp.generate_path(gp.fixture_path(name), slice_dir).package for name in gp.fixture_names()]
    packages = [f"{name}_{version}" for name, version in MYPY_SAMPLE] + fixtures
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
            "--cache-dir", str(tmp_path / "mypy-cache"),
            *(argument for package in packages for argument in ("-p", package)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": os.pathsep.join(str(slice_dir / package) for package in packages)},
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Success" in result.stdout


def test_slice_fakes_answer_every_method_as_itself(slice_dir: Path) -> None:
    """Each API's in-memory fake (constructed by the batch's verification already) routes every
    method, called with synthesized arguments, to that method; clients raise only API errors."""
    from tests.support import fake_census

    for api in equivalence.CI_SLICE:
        result = fake_census.census(bundled.find(*api).path, slice_dir, calls=True, generate=False)
        assert not result.error, f"{api}: {result.error}"
        assert not result.misrouted and not result.crashes, (api, result.misrouted[:5], result.crashes[:5])
        assert result.calls > 0


def test_generate_all_reports_figures_and_failures(tmp_path: Path) -> None:
    """The --all batch on a few documents: parallel workers, summary lines, one-line failures."""
    broken = tmp_path / "broken.v1.json"
    broken.write_text('{"name": "broken", "version": "v1", "rootUrl": 5}', encoding="utf-8")
    alias = tmp_path / "oauth2.v2alias.json"  # as admin.directoryv1 is a copy of admin.directory_v1
    alias.write_bytes(bundled.find("oauth2", "v2").path.read_bytes())
    apis = [("oauth2", "v2"), ("translate", "v2"), ("looker", "v1")]
    jobs = [batch.Job(str(bundled.find(*api).path), str(tmp_path / "out")) for api in apis]
    jobs += [batch.Job(str(broken), str(tmp_path / "out")), batch.Job(str(alias), str(tmp_path / "out"))]
    summary = batch.run_all(jobs, workers=2)
    stream = io.StringIO()
    batch.report(summary, tmp_path / "out", check=False, verify=True, stream=stream)
    text = stream.getvalue()
    assert "generated 4/5 APIs" in text
    assert "packages: 3 (1 byte-identical alias documents: oauth2.v2alias.json = oauth2.v2.json)" in text
    assert "imported and constructed (AnonymousCredentials): 4/5" in text
    assert "failures: 1" in text
    assert "broken.v1.json: broken.v1.json: $.rootUrl: expected a string, got number" in text.replace(
        str(tmp_path) + "/", ""
    )
    assert "peak memory of a worker" in text
    phase_line = next(line for line in text.splitlines() if line.startswith("time by phase"))
    named = [part.split()[0] for part in phase_line.split(": ", 1)[1].split(", ")]
    assert named == ["read", "check", "lower", "render", "format", "compile", "write", "verify"]
    assert all(seconds > 0 for name, seconds in summary.phases)
    assert sum(seconds for _, seconds in summary.phases) <= sum(result.seconds for result in summary.results)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["looker_v1", "oauth2_v2", "translate_v2"]

    # --check on the same folder: nothing is stale.
    checks = [batch.Job(job.path, job.out, check=True) for job in jobs[:3]]
    assert not any(result.stale or result.error for result in batch.run_all(checks, workers=1).results)

    # Two different documents that make one package would overwrite each other: both fail.
    changed = tmp_path / "oauth2.v2changed.json"
    changed.write_text(alias.read_text(encoding="utf-8").replace('"revision"', '"title": "x", "revision"', 1))
    results = batch.run_all([jobs[0], batch.Job(str(changed), str(tmp_path / "other"))], workers=1).results
    assert [result.error for result in results] == [
        "package oauth2_v2 is generated from several documents: oauth2.v2.json, oauth2.v2changed.json"
    ] * 2


def test_generate_name_alone_picks_the_preferred_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bundled.find("compute").version == "v1"  # the index marks v1 preferred
    assert bundled.find("aiplatform").version == "v1"  # the index lists it not: stable beats v1beta1
    assert cli.main(["generate", "oauth2", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "oauth2_v2" / "oauth2_v2" / "_client.py").is_file()
    assert cli.main(["generate", "--all", "oauth2", "--out", str(tmp_path)]) == 2
    assert cli.main(["generate", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "--all generates every bundled document" in error and "name an API" in error

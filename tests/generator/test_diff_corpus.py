"""`codegen diff` over its regression corpus (:mod:`tests.support.diff_corpus`): every report as recorded.

The digests in ``diff_corpus.json`` were recorded from ``codegen/diff.py`` as it was before
it paired document and IR nodes through JSON paths (commit 0b4c91f), over the bundled
documents of the pinned google-api-python-client; a change of any report there is a change
of a verdict. After an intended change of the reports, re-record with
``python -m tests.support.diff_corpus --record tests/support/diff_corpus.json`` and review why.

This test checks the fixture pairs and one mutated API (a minute); the whole corpus (5,969
pairs, about 10 CPU-minutes) is ``python -m tests.support.diff_corpus --check tests/support/diff_corpus.json``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import diff_corpus

DIGESTS = Path(__file__).resolve().parents[1] / "support" / "diff_corpus.json"


def test_fixture_pairs_and_one_mutated_api_report_as_recorded() -> None:
    groups = ["fixtures", diff_corpus.groups()[0]]
    assert diff_corpus.main(["--check", str(DIGESTS), "--groups", ",".join(groups)]) == 0

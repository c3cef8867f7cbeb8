"""The generator against hostile discovery documents: 500 hypothesis cases (see fuzz_generator).

Each case must generate a package that imports without side effects and means what the
document says, or be rejected with a one-line error and no output. The long run::

    python -m tests.support.fuzz_generator --cases 10000
"""

from __future__ import annotations

import os

from tests.support import fuzz_generator

#: Cases per CI run; raise it with FUZZ_CASES=… for a longer run under pytest.
CASES = int(os.environ.get("FUZZ_CASES", "500"))


def test_hostile_documents_generate_safely_or_are_rejected() -> None:
    fuzzer = fuzz_generator.run(CASES, random_seed=0, cli_every=5, report=lambda _: None)
    counts = fuzzer.counts
    details = "\n".join(
        f"{outcome.kind} ({case.origin}): {outcome.detail}\n  input: {case.data[:400]!r}"
        for outcome, case in fuzzer.failures[:5]
    )
    assert counts["crash"] == 0 and counts["injection"] == 0, details
    assert counts["cases"] >= CASES
    # The strategies must exercise both outcomes, through both paths.
    assert counts["generated"] >= CASES // 10, counts
    assert counts["rejected"] >= CASES // 10, counts
    assert counts["through the CLI with ruff"] >= CASES // 10, counts

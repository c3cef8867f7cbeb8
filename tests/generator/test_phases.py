"""codegen.phases: seconds per phase, in the order documents go through them."""

from __future__ import annotations

import time

import pytest

from codegen.phases import Phases, summary_line


def test_timed_adds_up_per_phase_and_counts_a_phase_that_raises() -> None:
    phases = Phases()
    with phases.timed("lower"):
        time.sleep(0.01)
    with phases.timed("lower"):
        time.sleep(0.01)
    with pytest.raises(ValueError), phases.timed("format"):
        raise ValueError("ruff failed")
    assert phases.seconds["lower"] >= 0.02
    assert "format" in phases.seconds


def test_items_follow_the_pipeline_order_then_unknown_names() -> None:
    phases = Phases()
    phases.seconds.update({"verify": 1.0, "zeta": 0.5, "read": 2.0, "compile": 3.0})
    assert [name for name, _ in phases.items()] == ["read", "compile", "verify", "zeta"]


def test_summary_line_shows_seconds_and_shares() -> None:
    assert summary_line([("read", 1.0), ("compile", 3.0)]) == "read 1.0 s (25%), compile 3.0 s (75%)"
    assert summary_line([]) == ""

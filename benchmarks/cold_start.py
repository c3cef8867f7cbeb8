"""1. Cold start: a whole process that imports a client, constructs it and makes one call."""

from __future__ import annotations

from benchmarks.common import OPERATION, Config, Row, Section, import_profile, interleaved, median, python_child

OURS = f"""
import sys
from google.auth.credentials import AnonymousCredentials
from looker_v1 import LookerClient
client = LookerClient(credentials=AnonymousCredentials(), endpoint=sys.argv[1])
client.projects.locations.operations.cancel(name={OPERATION!r}, body={{}})
"""

THEIRS = f"""
import sys
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build
service = build("looker", "v1", credentials=AnonymousCredentials(), client_options={{"api_endpoint": sys.argv[1]}})
service.projects().locations().operations().cancel(name={OPERATION!r}, body={{}}).execute()
"""

BARE = "pass"

# What both clients need before either does anything: the interpreter and the credentials.
CREDENTIALS = """
from google.auth.credentials import AnonymousCredentials
AnonymousCredentials()
"""


def run(config: Config, url: str) -> Section:
    section = Section("1. Cold start (whole process: start, import, construct, one cancel call, exit)")
    results: dict[str, list[tuple[float, float, float]]] = {}

    def variant(code: str, name: str):  # type: ignore[no-untyped-def]
        def once() -> float:
            child = python_child(code, url)
            results.setdefault(name, []).append((child.wall, child.cpu, child.peak_mib))
            return child.wall

        return once

    interleaved(
        {
            "ours": variant(OURS, "ours"),
            "theirs": variant(THEIRS, "theirs"),
            "bare": variant(BARE, "bare"),
            "credentials": variant(CREDENTIALS, "credentials"),
        },
        rounds=config.cold_start_runs,
    )
    # Drop the warm-up run of each (the first sample) before taking medians.
    figures = {
        name: [tuple(map(float, column)) for column in zip(*samples[1:], strict=True)]
        for name, samples in results.items()
    }
    wall = {name: median(columns[0]) for name, columns in figures.items()}
    cpu = {name: median(columns[1]) for name, columns in figures.items()}
    peak = {name: median(columns[2]) for name, columns in figures.items()}
    baseline = "googleapiclient build('looker','v1') + execute()"
    section.rows += [
        Row("cold start", "wall time", "s", wall["ours"], wall["theirs"], baseline, target=0.55),
        Row("cold start", "CPU time (user+sys)", "s", cpu["ours"], cpu["theirs"], baseline),
        Row("cold start", "peak RSS", "MiB", peak["ours"], peak["theirs"], baseline),
        Row("cold start", "(reference) `python -c pass`, wall", "s", wall["bare"], wall["theirs"], baseline),
        Row(
            "cold start",
            "(reference) python + google.auth credentials alone, wall",
            "s",
            wall["credentials"],
            wall["theirs"],
            baseline + "; this part is common to both clients, the lowest ratio any client can reach",
        ),
    ]
    section.notes.append(
        f"{config.cold_start_runs} interleaved runs of each (after one warm-up run each); medians. "
        "The same loopback server (a separate process) answers both."
    )
    if config.profile and section.rows[0].verdict == "MISSED":
        section.notes.append(
            "Slowest imports of our cold start (`python -X importtime`, cumulative µs; one run, so noisy):\n\n```\n"
            + import_profile(OURS, url)
            + "\n```"
        )
    return section

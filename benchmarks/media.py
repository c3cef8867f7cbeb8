"""8. Media: upload and download of a big file (256 MiB) with drive v3, ours vs googleapiclient.

Each transfer runs in a child process against a loopback server that speaks the resumable
protocol and honours ``Range`` (tests/support/media_server.py, in this process, keeping no bodies).
The child reports the transfer's wall time, its CPU time (``time.process_time``, the whole
process, all threads) and its peak RSS growth: ``VmHWM`` at the end minus ``VmRSS`` just
before the transfer (after imports and client construction). The targets (issue 16): CPU
≤ 0.7× googleapiclient's and peak RSS growth ≤ 0.25× its, for the upload and for the
download, medians of the rounds, met only with 10 % to spare (``common.MARGIN``).

* ours: ``client.files.create(media_body=path)`` — resumable (the file is over 5 MiB) in the
  default 16 MiB chunks, each sent from the file (``socket.sendfile`` over plain http);
  ``client.files.get_media(file_id=..., dest=file)`` — 16 MiB ranges, each streamed into the
  file in blocks as it arrives, the x-goog-hash crc32c checked (google-crc32c's C
  implementation; md5 without it).
* googleapiclient: ``MediaFileUpload(path, resumable=True)`` with its default 100 MiB chunks
  and ``.execute()``; ``MediaIoBaseDownload(file, files().get_media(...))`` with its default
  100 MiB chunks, ``next_chunk()`` until done. Both use their defaults: the figures compare
  what a program gets without tuning.
* a reference (download only): ``http.client`` alone, one GET of the whole object read into
  a reused buffer and written to the file, without ranges, checksum or client code. It is not
  a floor: ``http.client`` reads through a buffered file object, and a client that reads the
  socket itself can cost less.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from benchmarks.common import Config, Row, Section, child_env, compile_bytecode, median, python_child

MiB = 1024 * 1024

PRELUDE = """
import sys, time
def _rss(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
url, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
"""

REPORT = """
elapsed = time.perf_counter() - started
cpu = time.process_time() - cpu_started
print(elapsed, cpu, _rss("VmHWM:") - before)
"""

# Each program first makes one small transfer of the same kind (the warm-up), so that what
# is measured is the big transfer's own cost: not first-call imports (our resource modules
# and gapi_runtime.media load on first use), connection setup or the MIME database.
OURS = """
from google.auth.credentials import AnonymousCredentials
from drive_v3 import DriveClient
from gapi_runtime.media import MediaUpload
client = DriveClient(credentials=AnonymousCredentials(), endpoint=url)
"""

OURS_UPLOAD = (
    OURS
    + """
warm = MediaUpload(b"warm", "application/octet-stream", resumable=True)
client.files.create(body={"name": "warm.bin"}, media_body=warm)
before = _rss("VmRSS:")
started = time.perf_counter()
cpu_started = time.process_time()
result = client.files.create(body={"name": "big.bin"}, media_body=path, media_mime_type="application/octet-stream")
assert int(result["size"]) > 0, result
"""
)

THEIRS = """
from googleapiclient.discovery import build_from_document
from googleapiclient.http import MediaFileUpload, MediaInMemoryUpload, MediaIoBaseDownload, build_http
service = build_from_document(open(sys.argv[4]).read(), http=build_http())
"""

THEIRS_UPLOAD = (
    THEIRS
    + """
warm = MediaInMemoryUpload(b"warm", mimetype="application/octet-stream", resumable=True)
service.files().create(body={"name": "warm.bin"}, media_body=warm).execute()
before = _rss("VmRSS:")
started = time.perf_counter()
cpu_started = time.process_time()
media = MediaFileUpload(path, mimetype="application/octet-stream", resumable=True)
result = service.files().create(body={"name": "big.bin"}, media_body=media).execute()
assert int(result["size"]) > 0, result
"""
)

OURS_DOWNLOAD = (
    OURS
    + """
import io
client.files.get_media(file_id="small", dest=io.BytesIO())
before = _rss("VmRSS:")
started = time.perf_counter()
cpu_started = time.process_time()
with open(out, "wb") as sink:
    written = client.files.get_media(file_id="big", dest=sink)
assert written > 0
"""
)

THEIRS_DOWNLOAD = (
    THEIRS
    + """
import io
def fetch(file_id, sink):
    downloader = MediaIoBaseDownload(sink, service.files().get_media(fileId=file_id))
    done = False
    while not done:
        _, done = downloader.next_chunk()
fetch("small", io.BytesIO())
before = _rss("VmRSS:")
started = time.perf_counter()
cpu_started = time.process_time()
with open(out, "wb") as sink:
    fetch("big", sink)
"""
)

# A reference for a download to a file: the standard library alone, one GET of the whole object
# read into one reused buffer and written out (no ranges, no checksum, no client).
FLOOR_DOWNLOAD = """
import http.client, io
from urllib.parse import urlsplit
server = urlsplit(url)
connection = http.client.HTTPConnection(server.hostname, server.port)
buffer = bytearray(256 * 1024)
view = memoryview(buffer)
def fetch(file_id, sink):
    connection.request("GET", f"/drive/v3/files/{file_id}?alt=media")
    response = connection.getresponse()
    assert response.status == 200, response.status
    while count := response.readinto(buffer):
        sink.write(view[:count])
fetch("small", io.BytesIO())
before = _rss("VmRSS:")
started = time.perf_counter()
cpu_started = time.process_time()
with open(out, "wb") as sink:
    fetch("big", sink)
"""

PROFILE_START = """import cProfile, pstats
profiler = cProfile.Profile(time.process_time)
profiler.enable()
"""

PROFILE_END = """
profiler.disable()
pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(10)
"""


def run(config: Config, url: str) -> Section:
    from codegen import bundled
    from tests.support import generated_packages as gp
    from tests.support.media_server import MediaServer

    size = 8 * MiB if config == Config.quick() else 256 * MiB
    rounds = 1 if config == Config.quick() else 5
    section = Section(f"8. Media: a {size // MiB} MiB upload and download (drive v3)")
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp, MediaServer(keep_bodies=False) as server:
        folder = Path(tmp)
        gp.generate_bundled("drive", "v3", folder)
        compile_bytecode(folder)
        document = json.loads(bundled.find("drive", "v3").path.read_text())
        document["rootUrl"] = server.url
        described = folder / "drive.json"
        described.write_text(json.dumps(document))
        source = folder / "big.bin"
        block = os.urandom(MiB)
        with source.open("wb") as sink:
            for index in range(size // MiB):
                sink.write(block[index % 7 :] + block[: index % 7])
        server.objects["/drive/v3/files/big"] = source.read_bytes()
        server.objects["/drive/v3/files/small"] = block[:4096]
        env = child_env([str(folder / "drive_v3")])
        target = str(folder / "out.bin")
        programs = {
            "ours_upload": OURS_UPLOAD,
            "theirs_upload": THEIRS_UPLOAD,
            "ours_download": OURS_DOWNLOAD,
            "theirs_download": THEIRS_DOWNLOAD,
            "floor_download": FLOOR_DOWNLOAD,
        }
        samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in programs}
        for index in range(rounds):
            names = list(programs)
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                result = python_child(
                    PRELUDE + programs[name] + REPORT, server.url, str(source), target, str(described), env=env
                )
                seconds, cpu_seconds, growth = (float(value) for value in result.stdout.split()[-3:])
                samples[name].append((seconds, cpu_seconds, growth))
        profile = ""
        if config.profile:
            code = PRELUDE + OURS_DOWNLOAD.replace("with open(out", PROFILE_START + "with open(out") + PROFILE_END
            profile = python_child(code, server.url, str(source), target, str(described), env=env).stdout.strip()
    for kind in ("upload", "download"):
        ours, theirs = samples[f"ours_{kind}"], samples[f"theirs_{kind}"]
        wall, cpu, rss = (_medians(ours, theirs, index) for index in range(3))
        section.rows.append(
            Row(
                "media",
                f"{kind} {size // MiB} MiB, CPU",
                "s",
                cpu[0],
                cpu[1],
                target=0.7,
                note=f"median of {rounds}; all samples ours {_samples(ours, 1)}, googleapiclient {_samples(theirs, 1)}",
            )
        )
        section.rows.append(
            Row(
                "media",
                f"{kind} {size // MiB} MiB, peak RSS growth",
                "MiB",
                rss[0],
                rss[1],
                target=0.25,
                note=(
                    f"VmHWM at the end minus VmRSS before the transfer, median of {rounds}; "
                    f"all samples ours {_samples(ours, 2)}, googleapiclient {_samples(theirs, 2)}"
                ),
            )
        )
        section.rows.append(
            Row(
                "media",
                f"{kind} {size // MiB} MiB, wall",
                "s",
                wall[0],
                wall[1],
                note=(
                    f"throughput {size / MiB / wall[0]:.0f} MiB/s ours, {size / MiB / wall[1]:.0f} MiB/s "
                    f"googleapiclient (median of {rounds})"
                ),
            )
        )
    ours, floor = samples["ours_download"], samples["floor_download"]
    cpu = _medians(ours, floor, 1)
    section.rows.append(
        Row(
            "media",
            f"(reference) download {size // MiB} MiB, CPU vs http.client alone into the file",
            "s",
            cpu[0],
            cpu[1],
            note=(
                f"one GET read into a reused 256 KiB buffer and written out, median of {rounds}; all samples "
                f"ours {_samples(ours, 1)}, http.client alone {_samples(floor, 1)}; googleapiclient's CPU on "
                f"http.client's: "
                f"{median([run[1] for run in samples['theirs_download']]) / cpu[1]:.2f}×"
            ),
        )
    )
    if profile and any(row.verdict == "MISSED" for row in section.rows):
        section.notes.append(
            "Where our download's CPU goes (cProfile in CPU time, own time; the x-goog-hash check is "
            "`update` of `google_crc32c`'s `Checksum`, or of `_hashlib.HASH` for md5):\n\n```\n" + profile + "\n```"
        )
    section.notes.append(
        "Defaults on both sides: our 16 MiB chunks and ranges (sent from the file by sendfile, "
        "written to the file in blocks as they arrive) against googleapiclient's 100 MiB chunks (its "
        "uploads stream from the file through http.client in 8 KiB blocks; its downloads hold each "
        "100 MiB chunk in memory). The server is on loopback and sends an x-goog-hash crc32c and md5, of "
        "which our download checks the crc32c (googleapiclient checks none), so the figures are client costs (reading, "
        "copying, hashing, HTTP framing), not network time."
    )
    return section


def _medians(
    ours: list[tuple[float, float, float]], theirs: list[tuple[float, float, float]], index: int
) -> tuple[float, float]:
    return median([run[index] for run in ours]), median([run[index] for run in theirs])


def _samples(runs: list[tuple[float, float, float]], index: int) -> str:
    return ", ".join(f"{run[index]:.2f}" for run in runs)

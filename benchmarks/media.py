"""8. Media: upload and download of a big file (256 MiB) with drive v3, ours vs googleapiclient.

Each transfer runs in a child process against a loopback server that speaks the resumable
protocol and honours ``Range`` (tests/support/media_server.py, in this process, keeping no bodies).
The child reports the transfer's wall time and its peak RSS growth: ``VmHWM`` at the end
minus ``VmRSS`` just before the transfer (after imports and client construction).

* ours: ``client.files.create(media_body=path)`` — resumable (the file is over 5 MiB) in the
  default 16 MiB chunks; ``client.files.get_media(file_id=..., dest=file)`` — 16 MiB ranges.
* googleapiclient: ``MediaFileUpload(path, resumable=True)`` with its default 100 MiB chunks
  and ``.execute()``; ``MediaIoBaseDownload(file, files().get_media(...))`` with its default
  100 MiB chunks, ``next_chunk()`` until done. Both use their defaults: the figures compare
  what a program gets without tuning.
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
print(elapsed, _rss("VmHWM:") - before)
"""

OURS_UPLOAD = """
from google.auth.credentials import AnonymousCredentials
from drive_v3 import DriveClient
client = DriveClient(credentials=AnonymousCredentials(), endpoint=url)
before = _rss("VmRSS:")
started = time.perf_counter()
result = client.files.create(body={"name": "big.bin"}, media_body=path)
assert int(result["size"]) > 0, result
"""

THEIRS_UPLOAD = """
import json
from googleapiclient.discovery import build_from_document
from googleapiclient.http import MediaFileUpload, build_http
service = build_from_document(open(sys.argv[4]).read(), http=build_http())
before = _rss("VmRSS:")
started = time.perf_counter()
media = MediaFileUpload(path, mimetype="application/octet-stream", resumable=True)
result = service.files().create(body={"name": "big.bin"}, media_body=media).execute()
assert int(result["size"]) > 0, result
"""

OURS_DOWNLOAD = """
from google.auth.credentials import AnonymousCredentials
from drive_v3 import DriveClient
client = DriveClient(credentials=AnonymousCredentials(), endpoint=url)
before = _rss("VmRSS:")
started = time.perf_counter()
with open(out, "wb") as sink:
    written = client.files.get_media(file_id="big", dest=sink)
assert written > 0
"""

THEIRS_DOWNLOAD = """
from googleapiclient.discovery import build_from_document
from googleapiclient.http import MediaIoBaseDownload, build_http
service = build_from_document(open(sys.argv[4]).read(), http=build_http())
before = _rss("VmRSS:")
started = time.perf_counter()
with open(out, "wb") as sink:
    downloader = MediaIoBaseDownload(sink, service.files().get_media(fileId="big"))
    done = False
    while not done:
        _, done = downloader.next_chunk()
"""


def run(config: Config, url: str) -> Section:
    from codegen import bundled
    from tests.support import generated_packages as gp
    from tests.support.media_server import MediaServer

    size = 8 * MiB if config == Config.quick() else 256 * MiB
    rounds = 1 if config == Config.quick() else 3
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
        env = child_env([str(folder / "drive_v3")])
        target = str(folder / "out.bin")
        programs = {
            "ours_upload": OURS_UPLOAD,
            "theirs_upload": THEIRS_UPLOAD,
            "ours_download": OURS_DOWNLOAD,
            "theirs_download": THEIRS_DOWNLOAD,
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in programs}
        for index in range(rounds):
            names = list(programs)
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                result = python_child(
                    PRELUDE + programs[name] + REPORT, server.url, str(source), target, str(described), env=env
                )
                seconds, growth = (float(value) for value in result.stdout.split()[-2:])
                samples[name].append((seconds, growth))
    for kind in ("upload", "download"):
        ours = samples[f"ours_{kind}"]
        theirs = samples[f"theirs_{kind}"]
        ours_s, theirs_s = median([s for s, _ in ours]), median([s for s, _ in theirs])
        section.rows.append(
            Row(
                "media",
                f"{kind} {size // MiB} MiB, wall",
                "s",
                ours_s,
                theirs_s,
                note=(
                    f"throughput {size / MiB / ours_s:.0f} MiB/s ours, {size / MiB / theirs_s:.0f} MiB/s "
                    f"googleapiclient (median of {rounds})"
                ),
            )
        )
        section.rows.append(
            Row(
                "media",
                f"{kind} {size // MiB} MiB, peak RSS growth",
                "MiB",
                max(growth for _, growth in ours),
                max(growth for _, growth in theirs),
                limit=64.0 if kind == "upload" else None,
                note="largest of the runs: VmHWM at the end minus VmRSS before the transfer",
            )
        )
    section.notes.append(
        "Defaults on both sides: our 16 MiB chunks and ranges against googleapiclient's 100 MiB. "
        "The server is on loopback and sends an x-goog-hash md5, which our download checks "
        "(googleapiclient checks none), so the figures are client costs (reading, copying, "
        "hashing, HTTP framing), not network time."
    )
    return section

"""`glint upload` against the local S3's own PUT rate, in the same run.

Both sides do the same direct upload of the same 256 MiB to the same runtime: create the image,
ask for a multipart grant (16 MiB parts), PUT the parts 4 at a time over 4 kept-alive
connections, complete the upload. The baseline does it from memory with nothing else (no file,
no hashing, no bookkeeping); the client is `glint upload --no-wait` as a user runs it (a new
process that reads the file, computes the sha256 it declares, keeps its resume file). Every
upload's verification by the worker is waited for outside the timings, so it never competes
with the next one. Three alternating rounds, the best of each side counts (the machine may be
shared). Prints the rates, their ratio (target >= 0.9), the baseline's PUT-only rate and the
client's peak RSS (bounded: parts stream from the file); asserts correctness only."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.bench.conftest import report
from tests.e2e.conftest import glint_runtime  # noqa: F401 - the runtime fixture

MIB = 1024 * 1024
SIZE = 256 * MIB
PART = 16 * MIB
CONCURRENCY = 4
ROUNDS = 3
TOKEN = "bench:p1:member,reader"
HEADERS = {"X-Auth-Token": TOKEN}
PROJECT = Path(__file__).resolve().parents[2]


def _settled(api: str, image_id: str) -> dict:
    """The image once the worker is done with it (untimed)."""
    deadline = time.monotonic() + 600
    while True:
        image = requests.get(f"{api}/v2/images/{image_id}", headers=HEADERS, timeout=30).json()
        if image["status"] in ("active", "queued", "killed") or time.monotonic() > deadline:
            return image
        time.sleep(0.3)


def _bare_upload(api: str, data: bytes) -> tuple[float, float, str]:
    """Seconds for the whole upload and for its PUTs alone, and the image id."""
    connections = threading.local()

    def put(part: dict) -> dict:
        session = getattr(connections, "session", None) or requests.Session()
        connections.session = session
        start = (part["part_number"] - 1) * PART
        answer = session.put(part["url"], data=data[start:start + part["size"]],
                             headers=part["headers"], timeout=300)
        assert answer.status_code == 200
        return {"part_number": part["part_number"], "etag": answer.headers["ETag"]}

    began = time.perf_counter()
    image = requests.post(f"{api}/v2/images", headers=HEADERS, timeout=30, json={
        "disk_format": "raw", "container_format": "bare"}).json()
    grant = requests.post(f"{api}/v2/images/{image['id']}/uploads", headers=HEADERS, timeout=30,
                          json={"size": SIZE, "multipart": True, "part_size": PART}).json()
    puts_began = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        parts = list(pool.map(put, grant["parts"]))
    puts = time.perf_counter() - puts_began
    requests.post(f"{api}{grant['complete']}", headers=HEADERS, timeout=300,
                  json={"parts": parts}).raise_for_status()
    return time.perf_counter() - began, puts, image["id"]


def _client(source: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds for `glint upload --no-wait` (this checkout's client), its peak RSS in MiB
    (VmHWM of its own address space: rusage would also count the memory of the process that
    started it) and the image id."""
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "glint_client.cli", "upload", str(source),
                                "--disk-format", "raw", "--part-size", str(PART // MIB),
                                "--concurrency", str(CONCURRENCY), "--no-wait"],
                               env=env, cwd=PROJECT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    peak_kib = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kib = max(peak_kib, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError):
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - began
    assert process.returncode == 0
    return seconds, peak_kib / 1024, process.stdout.read().strip()


def test_upload_client_throughput_against_bare_s3_puts(glint_runtime, tmp_path,  # noqa: F811
                                                       capsys):
    source = tmp_path / "bench.raw"
    data = b"".join(hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(SIZE // 64))
    source.write_bytes(data)
    sha512 = hashlib.sha512(data).hexdigest()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_"))},
           "OS_ENDPOINT": glint_runtime.api, "OS_TOKEN": TOKEN,
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    bare, puts, client, peak = [], [], [], 0.0
    for _ in range(ROUNDS):
        seconds, put_seconds, image_id = _bare_upload(glint_runtime.api, data)
        assert _settled(glint_runtime.api, image_id)["os_hash_value"] == sha512
        bare.append(seconds)
        puts.append(put_seconds)
        seconds, rss, image_id = _client(source, env)
        assert _settled(glint_runtime.api, image_id)["os_hash_value"] == sha512
        client.append(seconds)
        peak = max(peak, rss)
    bare_rate, client_rate = SIZE / MIB / min(bare), SIZE / MIB / min(client)
    report(capsys, f"glint upload of {SIZE // MIB} MiB in {PART // MIB} MiB parts, "
           f"{CONCURRENCY} at a time, against the same upload by bare S3 PUTs", [
               f"bare upload:   {bare_rate:.1f} MiB/s (create, grant, PUTs, complete; "
               f"PUTs alone {SIZE / MIB / min(puts):.1f} MiB/s)",
               f"glint upload:  {client_rate:.1f} MiB/s (process start to upload completed)",
               f"ratio:         {client_rate / bare_rate:.2f} (target >= 0.90)",
               "rounds (s):    bare " + " ".join(f"{s:.2f}" for s in bare)
               + ", glint " + " ".join(f"{s:.2f}" for s in client),
               f"client peak RSS {peak:.1f} MiB"])

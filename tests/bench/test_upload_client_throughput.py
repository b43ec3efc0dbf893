"""`glint upload` against the local S3's own PUT rate, in the same run: the same file, part
size and concurrency, sent by bare PUTs of in-memory parts (the baseline: all the local S3 can
take) and by the client (reading the file, hashing, resumable bookkeeping), alternately, twice
each (the best of each counts: the machine may be shared). Prints both rates, their ratio
(target >= 0.9) and the client's peak RSS (bounded: parts stream from the file); asserts
correctness only."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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
TOKEN = "bench:p1:member,reader"
HEADERS = {"X-Auth-Token": TOKEN}


def _grant(api: str) -> dict:
    image = requests.post(f"{api}/v2/images", headers=HEADERS, timeout=30, json={
        "disk_format": "raw", "container_format": "bare"}).json()
    return requests.post(f"{api}/v2/images/{image['id']}/uploads", headers=HEADERS, timeout=30,
                         json={"size": SIZE, "multipart": True, "part_size": PART}).json()


def _bare_puts(api: str, data: bytes) -> float:
    grant = _grant(api)

    def put(part: dict) -> None:
        start = (part["part_number"] - 1) * PART
        answer = requests.put(part["url"], data=data[start:start + part["size"]],
                              headers=part["headers"], timeout=300)
        assert answer.status_code == 200

    began = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(put, grant["parts"]))
    return time.perf_counter() - began


def _client(source: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds for `glint upload --no-wait`, and the client's peak RSS in MiB (VmHWM of its own
    address space: rusage would also count the memory of the process that started it)."""
    began = time.perf_counter()
    process = subprocess.Popen([str(Path(sys.executable).parent / "glint"), "upload",
                                str(source), "--disk-format", "raw", "--part-size",
                                str(PART // MIB), "--concurrency", str(CONCURRENCY),
                                "--no-wait"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak_kib = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kib = max(peak_kib, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError):
            pass
        time.sleep(0.05)
    assert process.returncode == 0
    return time.perf_counter() - began, peak_kib / 1024


def test_upload_client_throughput_against_bare_s3_puts(glint_runtime, tmp_path,  # noqa: F811
                                                       capsys):
    source = tmp_path / "bench.raw"
    data = b"".join(hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(SIZE // 64))
    source.write_bytes(data)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_"))},
           "OS_ENDPOINT": glint_runtime.api, "OS_TOKEN": TOKEN,
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    bare, client, peak = [], [], 0.0
    for _ in range(2):
        bare.append(_bare_puts(glint_runtime.api, data))
        seconds, rss = _client(source, env)
        client.append(seconds)
        peak = max(peak, rss)
    bare_rate, client_rate = SIZE / MIB / min(bare), SIZE / MIB / min(client)
    report(capsys, f"glint upload of {SIZE // MIB} MiB in {PART // MIB} MiB parts, "
           f"{CONCURRENCY} at a time, against bare S3 PUTs of the same parts", [
               f"bare S3 PUTs:  {bare_rate:.1f} MiB/s",
               f"glint upload:  {client_rate:.1f} MiB/s",
               f"ratio:         {client_rate / bare_rate:.2f} (target >= 0.90)",
               f"client peak RSS {peak:.1f} MiB"])

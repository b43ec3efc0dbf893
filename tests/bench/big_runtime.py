"""The local runtime for big-image benchmarks: started as `python -m glint_local` with its
own settings, every process it starts watched for peak resident memory, and images sent
to it the way a client sends them (direct multipart upload through presigned part URLs)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.processes import free_port, stop, wait_until_up

PROJECT = Path(__file__).resolve().parents[2]
HEADERS = {"X-Project-Id": "bench", "X-Roles": "admin,member",
           "Content-Type": "application/json"}
MIB = 1024 * 1024


@dataclass
class PeakMemory:
    """Peak resident memory (VmHWM) of a process tree, sampled until stopped."""

    root: int
    peaks_mib: dict[str, float] = field(default_factory=dict)

    def sample(self) -> None:
        for pid in _tree(self.root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:  # it ended meanwhile
                continue
            hwm = next((int(line.split()[1]) for line in status.splitlines()
                        if line.startswith("VmHWM:")), 0)
            if not hwm:  # ended, not yet reaped: nothing left to measure
                continue
            name = f"{pid} {' '.join(a.decode() for a in argv[1:4])}"
            self.peaks_mib[name] = max(self.peaks_mib.get(name, 0.0), hwm / 1024)


def _tree(root: int) -> list[int]:
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):  # children of every thread
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return pids


def wait_for_children(root: int, timeout: float = 120) -> None:
    """Wait (at most `timeout` seconds) until the processes `root` started have ended: the
    engine's child still deletes the staged object after the image turned active."""
    deadline = time.monotonic() + timeout
    while len(_tree(root)) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)


@contextmanager
def watched(root: int, period: float = 0.2) -> Iterator[PeakMemory]:
    """Sample the tree under `root` every `period` seconds while the block runs."""
    peaks = PeakMemory(root)
    done = threading.Event()

    def loop() -> None:
        while not done.wait(period):
            peaks.sample()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join()
        peaks.sample()


@contextmanager
def runtime(tmp_path: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m glint_local` on free loopback ports with `settings` (GLINT_* variables)."""
    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLINT_"))}
    env.update(settings, PYTHONUNBUFFERED="1", TMPDIR=str(tmp_path))
    log_path = tmp_path / "glint.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "glint_local", "--port", str(api_port), "--aws-port",
             str(aws_port), "--visibility-timeout", "900"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_until_up(process, lambda: requests.get(f"{api}/versions", timeout=2).ok,
                      "runtime", log_path, 60)
        yield api, process
    finally:
        stop(process)


@dataclass(frozen=True)
class Timings:
    """Seconds spent sending the bytes, and from the completed upload to `active`."""

    upload: float
    verify: float
    image: dict


def import_zeros(api: str, size: int, part_size: int = 64 * MIB, senders: int = 3,
                 timeout: float = 3600) -> Timings:
    """Create an image, send `size` zero bytes by direct multipart upload (`senders` parts at
    once), complete it and wait until the image is active (or failed)."""
    image = requests.post(f"{api}/v2/images", headers=HEADERS, timeout=30, json={
        "name": "big", "disk_format": "raw", "container_format": "bare"}).json()
    started = time.monotonic()
    grant = requests.post(f"{api}/v2/images/{image['id']}/uploads", headers=HEADERS,
                          timeout=30, json={"size": size, "multipart": True,
                                            "part_size": part_size})
    grant.raise_for_status()
    grant = grant.json()
    assert len(grant["parts"]) == grant["part_count"], "more parts than one page"
    zeros = bytes(part_size)

    def send(part: dict) -> dict:
        body = zeros if part["size"] == part_size else zeros[:part["size"]]
        sent = requests.put(part["url"], data=body, headers=part["headers"], timeout=600)
        sent.raise_for_status()
        return {"part_number": part["part_number"], "etag": sent.headers["ETag"]}

    with ThreadPoolExecutor(senders) as pool:
        parts = list(pool.map(send, grant["parts"]))
    requests.post(f"{api}{grant['complete']}", headers=HEADERS, timeout=600,
                  json={"parts": parts}).raise_for_status()
    uploaded = time.monotonic()
    deadline = uploaded + timeout
    while True:
        shown = requests.get(f"{api}/v2/images/{image['id']}", headers=HEADERS,
                             timeout=30).json()
        if shown["status"] in ("active", "queued") or time.monotonic() > deadline:
            return Timings(uploaded - started, time.monotonic() - uploaded, shown)
        time.sleep(0.5)

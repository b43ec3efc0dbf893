"""`glint upload` against the local S3's own PUT rate, in the same run.

Both sides are a new Python process doing the same direct upload of the same 256 MiB file to
the same runtime: create the image, ask for a multipart grant (16 MiB parts), PUT the parts
4 at a time, each sender keeping its connection alive where the server lets it (the local S3,
Werkzeug, answers `Connection: close`, so both sides connect anew for each part), complete
the upload; each is timed from its start
to its exit. The baseline (`tests/bench/bare_upload.py`) does only that, reading each part
from the file as it PUTs it; the client is `glint upload --no-wait` of this checkout, which
also computes the sha256 it declares (in a process it forks first thing), draws its progress
line and keeps its resume file.
Every upload's verification by the worker is waited for outside the timings, so it never
competes with the next one. One untimed upload by each side first warms the runtime. Five
rounds, each one upload by either side back to back (which goes first alternates); the machine
may be shared, so the figure that counts is the median of the rounds' ratios (a round's two
uploads see about the same load). Prints that ratio (target >= 0.9), each side's best rate,
the baseline's PUT-only rate, the CPU seconds each side used, its children's included (on a
busy machine the client's extra CPU, the sha256 above all, costs it wall time) and each side's
peak RSS, its children's included (bounded: parts stream from the file); asserts correctness
only."""
from __future__ import annotations

import hashlib
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.bench.conftest import report
from tests.e2e.conftest import glint_runtime  # noqa: F401 - the runtime fixture

MIB = 1024 * 1024
SIZE = 256 * MIB
PART = 16 * MIB
CONCURRENCY = 4
ROUNDS = 5
TOKEN = "bench:p1:member,reader"
PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """One uploading process: wall and CPU seconds, peak RSS (MiB) and what it printed."""

    seconds: float
    cpu: float
    peak_mib: float
    stdout: str


def _run(command: list[str], env: dict[str, str]) -> Run:
    """Run `command` from the project root, timed to its exit (a round lasts well under a
    second: the time is taken when the process is reaped, not at a polling step). Peak RSS is
    the VmHWM of the process's own address space plus its children's (the client's forked
    hasher), sampled meanwhile (rusage would also count the memory of the process that started
    it); a child shares pages with its parent, so the sum is an upper bound."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=PROJECT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    peaks: dict[int, int] = {}

    def sample() -> None:
        while process.returncode is None:
            try:
                tree = [process.pid, *map(int, Path(
                    f"/proc/{process.pid}/task/{process.pid}/children").read_text().split())]
            except OSError:
                tree = []
            for pid in tree:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    peaks[pid] = max(peaks.get(pid, 0), int(status.split("VmHWM:")[1].split()[0]))
                except (OSError, IndexError):
                    pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, _ = process.communicate()
    seconds = time.perf_counter() - began
    sampler.join()
    assert process.returncode == 0
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime
    return Run(seconds, cpu, sum(peaks.values()) / 1024, stdout.strip())


def _sha512_when_settled(api: str, image_id: str) -> str:
    """The image's os_hash_value once the worker is done with it (untimed)."""
    deadline = time.monotonic() + 600
    while True:
        image = requests.get(f"{api}/v2/images/{image_id}", headers={"X-Auth-Token": TOKEN},
                             timeout=30).json()
        if image["status"] in ("active", "queued", "killed") or time.monotonic() > deadline:
            return image.get("os_hash_value") or image["status"]
        time.sleep(0.3)


def _rate(runs: list[Run]) -> float:
    return SIZE / MIB / min(run.seconds for run in runs)


def _summary(runs: list[Run]) -> str:
    return (" ".join(f"{run.seconds:.2f}" for run in runs)
            + f" s; CPU {min(run.cpu for run in runs):.2f} s, "
            f"peak RSS {max(run.peak_mib for run in runs):.0f} MiB")


def test_upload_client_throughput_against_bare_s3_puts(glint_runtime, tmp_path,  # noqa: F811
                                                       capsys):
    source = tmp_path / "bench.raw"
    data = b"".join(hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(SIZE // 64))
    source.write_bytes(data)
    sha512 = hashlib.sha512(data).hexdigest()
    del data
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_"))},
           "OS_ENDPOINT": glint_runtime.api, "OS_TOKEN": TOKEN,
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    bare_command = [sys.executable, "-m", "tests.bench.bare_upload", glint_runtime.api, TOKEN,
                    str(source), str(PART), str(CONCURRENCY)]
    glint_command = [sys.executable, "-m", "glint_client.cli", "upload", str(source),
                     "--disk-format", "raw", "--part-size", str(PART // MIB),
                     "--concurrency", str(CONCURRENCY), "--no-wait"]
    for command in (bare_command, glint_command):  # untimed: the runtime's first uploads
        _sha512_when_settled(glint_runtime.api, _run(command, env).stdout.split()[0])
    bare: list[Run] = []
    client: list[Run] = []
    sides = [(bare, bare_command), (client, glint_command)]
    for round_number in range(ROUNDS):
        for runs, command in sides if round_number % 2 else sides[::-1]:  # first alternates
            runs.append(_run(command, env))
            assert _sha512_when_settled(glint_runtime.api, runs[-1].stdout.split()[0]) == sha512
    ratio = statistics.median(b.seconds / c.seconds for b, c in zip(bare, client))
    puts_rate = SIZE / MIB / min(float(run.stdout.split()[1]) for run in bare)
    report(capsys, f"glint upload of {SIZE // MIB} MiB in {PART // MIB} MiB parts, "
           f"{CONCURRENCY} at a time, against the same upload by bare S3 PUTs", [
               f"ratio:         {ratio:.2f} (glint's rate / the bare upload's, median of "
               f"{ROUNDS} rounds; target >= 0.90)",
               f"bare upload:   best {_rate(bare):.1f} MiB/s, process start to exit "
               f"(its PUTs alone {puts_rate:.1f} MiB/s)",
               f"glint upload:  best {_rate(client):.1f} MiB/s, process start to exit",
               f"bare rounds:   {_summary(bare)}",
               f"glint rounds:  {_summary(client)}"])

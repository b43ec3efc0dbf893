"""The `glint` console script against the local runtime, as a user runs it: upload to active,
resume after the process is killed mid-upload, a source changed between attempts, a rejection
shown, and downloads verified."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

MIB = 1024 * 1024
TOKEN = "alice:p1:member,reader"
# The console script's entry point, from this checkout (the shared virtualenv's `glint` script
# may import another checkout's client).
GLINT = [sys.executable, "-m", "glint_client.cli"]
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def client_env(glint_runtime, tmp_path) -> dict[str, str]:
    """The environment a user would have: endpoint and token in OS_*, a cache of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_", "GLINT_"))}
    env.update(OS_ENDPOINT=glint_runtime.api, OS_TOKEN=TOKEN,
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    return env


def _write(path: Path, size: int) -> bytes:
    data = b"".join(hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(size // 64))
    path.write_bytes(data)
    return data


def _glint(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*GLINT, *args], env=env, cwd=PROJECT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _image(runtime, image_id: str) -> dict:
    return requests.get(f"{runtime.api}/v2/images/{image_id}", headers={"X-Auth-Token": TOKEN},
                        timeout=30).json()


def _resume_file(env: dict[str, str]) -> Path:
    files = list((Path(env["XDG_CACHE_HOME"]) / "glint" / "uploads").glob("*.json"))
    return files[0] if files else Path("/nonexistent")


def _start_and_kill_after_parts(env: dict[str, str], source: Path, parts: int) -> int:
    """Run an upload one part at a time and SIGKILL it once `parts` parts are recorded."""
    process = subprocess.Popen(
        [*GLINT, "upload", str(source), "--disk-format", "raw", "--part-size", "5",
         "--concurrency", "1", "--no-wait"], env=env, cwd=PROJECT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    recorded = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            recorded = len(json.loads(_resume_file(env).read_text())["parts"])
        except (OSError, ValueError):
            recorded = 0
        if recorded >= parts:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the upload ended before it could be killed"
    return recorded


def test_upload_creates_the_image_and_follows_it_to_active(client_env, glint_runtime, tmp_path):
    source = tmp_path / "disk.raw"
    data = _write(source, 12 * MIB)
    done = _glint(client_env, "upload", str(source), "--disk-format", "raw", "--part-size", "5",
                  "--name", "from-cli", "--property", "os_distro=debian")
    assert done.returncode == 0, done.stderr
    image = _image(glint_runtime, done.stdout.strip())
    assert image["status"] == "active" and image["name"] == "from-cli"
    assert image["os_distro"] == "debian"
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert "sent 3 part(s)" in done.stderr and "(100%)" in done.stderr
    assert not _resume_file(client_env).exists()  # nothing left to resume


def test_killed_upload_resumes_sending_only_the_missing_parts(client_env, glint_runtime,
                                                              tmp_path):
    source = tmp_path / "big.raw"
    data = _write(source, 60 * MIB)  # 12 parts of 5 MiB
    kept = _start_and_kill_after_parts(client_env, source, parts=3)

    again = _glint(client_env, "upload", str(source), "--disk-format", "raw")
    assert again.returncode == 0, again.stderr
    assert f"kept {kept} from before" in again.stderr
    assert f"sent {12 - kept} part(s)" in again.stderr
    image = _image(glint_runtime, again.stdout.strip())
    assert image["status"] == "active"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_source_changed_between_attempts_is_refused(client_env, glint_runtime, tmp_path):
    source = tmp_path / "changing.raw"
    _write(source, 40 * MIB)
    _start_and_kill_after_parts(client_env, source, parts=2)
    image_id = json.loads(_resume_file(client_env).read_text())["image_id"]
    with open(source, "r+b") as file:  # part 1 was sent; change a byte in it
        file.seek(100)
        file.write(b"\xff" if file.read(1) != b"\xff" else b"\x00")

    refused = _glint(client_env, "upload", str(source), "--resume")
    assert refused.returncode == 1
    assert "changed since the interrupted upload" in refused.stderr
    assert "--fresh" in refused.stderr
    assert _image(glint_runtime, image_id)["status"] == "uploading"  # never completed


def test_rejection_reason_is_shown(client_env, glint_runtime, tmp_path):
    source = tmp_path / "not.qcow2"
    _write(source, 2 * MIB)
    rejected = _glint(client_env, "upload", str(source), "--disk-format", "qcow2")
    assert rejected.returncode == 1
    assert "is queued: Image rejected" in rejected.stderr
    assert "not in that format" in rejected.stderr


def test_download_is_verified_and_a_tampered_object_is_refused(client_env, glint_runtime,
                                                               tmp_path):
    source = tmp_path / "down.raw"
    data = _write(source, 6 * MIB)
    image_id = _glint(client_env, "upload", str(source), "--disk-format", "raw").stdout.strip()

    target = tmp_path / "copy.raw"
    fetched = _glint(client_env, "download", image_id, "-o", str(target))
    assert fetched.returncode == 0, fetched.stderr
    assert target.read_bytes() == data and "verified" in fetched.stderr

    s3 = boto3.client("s3", endpoint_url=glint_runtime.aws, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    [stored] = s3.list_objects_v2(Bucket=bucket, Prefix=f"images/{image_id}/")["Contents"]
    s3.put_object(Bucket=bucket, Key=stored["Key"], Body=data[:-1] + b"\x00")  # tampered
    tampered = tmp_path / "tampered.raw"
    refused = _glint(client_env, "download", image_id, "-o", str(tampered))
    assert refused.returncode == 1 and "failed verification" in refused.stderr
    assert not tampered.exists() and not tampered.with_name("tampered.raw.part").exists()

"""LocalStack's S3 as a subprocess on a free loopback port, offline, shared by this tier.

LocalStack runs from .venv-localstack (Python 3.13, built by scripts/localstack-bootstrap);
Glint's own code stays in this process and reaches it through AWS_ENDPOINT_URL, so the URLs
under test are the ones chalicelib.blobs.presign really issues.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from chalicelib import aws
from tests.processes import free_port, stop, wait_until_up

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
VENV = PROJECT / ".venv-localstack"
REQUIREMENTS = HERE / "requirements.txt"
# Up in ~1 s on an idle machine; far slower when the whole suite runs beside it.
START_TIMEOUT = 90
# LocalStack checks presigned signatures with the secret "test" for access keys it does not know.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
# Everything that would reach past loopback is off. LOCALSTACK_AUTH_TOKEN / LOCALSTACK_API_KEY
# are never passed on (the environment below is built from nothing), so no licence check runs.
OFFLINE = {
    "OVERRIDE_IN_DOCKER": "0",  # not in a container: skip the Docker-only setup
    "SERVICES": "s3",
    "EAGER_SERVICE_LOADING": "1",  # S3 is loaded before health answers, not in the first test
    "S3_SKIP_SIGNATURE_VALIDATION": "0",  # the point of this tier
    "DISABLE_EVENTS": "1",  # no analytics events
    "SKIP_SSL_CERT_DOWNLOAD": "1",  # no certificate download at start (we speak plain HTTP)
    "DNS_ADDRESS": "0",  # no DNS server on 0.0.0.0:53 and so no upstream DNS forwarding
}


@dataclass(frozen=True)
class LocalStack:
    """A running LocalStack with one bucket for Glint."""

    endpoint: str
    bucket: str
    process: subprocess.Popen
    log_path: Path


def virtualenv_python() -> Path:
    """.venv-localstack's Python, if it is built from the current requirements; else skip (or
    fail under CI, which has Python 3.13 and must run this tier)."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    reason = ("LocalStack's virtualenv (.venv-localstack) is missing or stale: "
              "scripts/localstack-bootstrap builds it and needs Python 3.13.")
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must run the LocalStack tier.")
    pytest.skip(reason)


def _s3_running(endpoint: str) -> bool:
    health = requests.get(f"{endpoint}/_localstack/health", timeout=2)
    return health.ok and health.json()["services"].get("s3") in {"running", "available"}


def point_glint_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
    """Glint's settings and clients now use LocalStack's S3 and `bucket`."""
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "GLINT_BUCKET": bucket}.items():
        monkeypatch.setenv(name, value)
    # The suite's fake session token would ride along in every URL; LocalStack has no such session.
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    aws.reset()


@pytest.fixture(scope="package")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Start LocalStack (S3 only, loopback only), create Glint's bucket, stop it afterwards."""
    python = virtualenv_python()
    root = tmp_path_factory.mktemp("localstack")
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(root),  # nothing lands in the developer's home
        "PYTHONUNBUFFERED": "1",
        "FILESYSTEM_ROOT": str(root),
        "GATEWAY_LISTEN": endpoint.removeprefix("http://"),
        **OFFLINE,
    }
    log_path = root / "localstack.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(python), str(HERE / "serve.py")], cwd=root, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, lambda: _s3_running(endpoint), "LocalStack", log_path,
                      START_TIMEOUT)
        bucket = "glint-localstack-images"
        with pytest.MonkeyPatch.context() as monkeypatch:
            point_glint_at(monkeypatch, endpoint, bucket)
            aws.s3().create_bucket(Bucket=bucket)
        aws.reset()
        yield LocalStack(endpoint, bucket, process, log_path)
    finally:
        stop(process)


@pytest.fixture(autouse=True)
def glint_on_localstack(localstack: LocalStack,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """Every test here runs Glint against LocalStack; the rest of the suite never does."""
    point_glint_at(monkeypatch, localstack.endpoint, localstack.bucket)
    yield localstack
    aws.reset()

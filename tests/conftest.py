"""Shared fixtures. The environment is set before anything from chalicelib is imported."""
from __future__ import annotations

import os

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_XRAY_SDK_ENABLED": "false",
    "GLINT_STAGE": "local", "GLINT_AUTH": "noauth", "GLINT_RESOURCE_PREFIX": "glint-test",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import functools  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import botocore.session  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from chalice.test import Client  # noqa: E402

from chalicelib import aws  # noqa: E402
from chalicelib.config import get_settings  # noqa: E402
from glint_local import embedded_aws, fast_dynamodb, indexed_dynamodb, provision  # noqa: E402
from tests import chalice_env, loopback_guard  # noqa: E402
from tests.shared_aws import SharedAws  # noqa: E402
from tests.support import Env  # noqa: E402

# Tests reset Glint's boto3 session often (aws.reset); one loader for the process keeps the
# service models parsed once instead of once per session (read-only, so safe to share).
botocore.session.create_loader = functools.cache(botocore.session.create_loader)
fast_dynamodb.install()  # as the local runtime does
indexed_dynamodb.install()
loopback_guard.install()
chalice_env.install()
_REAL_ENVIRON = os.environ

# Chalice's test client applies this stage's environment from .chalice/config.json.
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _environment_is_restored() -> Iterator[None]:
    """A test that leaves a copy in place of `os.environ` would hand its settings to every
    later test: put the real one back and fail the test that did it."""
    yield
    if os.environ is not _REAL_ENVIRON:
        os.environ = _REAL_ENVIRON  # type: ignore[assignment]
        pytest.fail("os.environ was left replaced by a copy after this test")


@pytest.fixture(scope="session")
def shared_aws() -> SharedAws:
    """The session's in-process moto (tests/shared_aws.py)."""
    return SharedAws()


@pytest.fixture()
def inprocess_aws(shared_aws: SharedAws) -> Iterator[Env]:
    """moto in-process, with every Glint resource provisioned and empty (provisioned once
    per session, emptied before each test)."""
    aws.reset()
    try:
        yield Env(shared_aws.start())
    finally:
        shared_aws.stop()
        aws.reset()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port, for tests that need real HTTP."""
    server, endpoint = embedded_aws.start("127.0.0.1", 0)
    yield endpoint
    server.stop()


@pytest.fixture()
def server_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """A freshly reset moto server with every Glint resource provisioned."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    aws.reset()
    yield Env(provision.provision(get_settings()))
    aws.reset()


@pytest.fixture()
def client(inprocess_aws: Env) -> Iterator[Client]:
    """Chalice's test client over in-process moto."""
    from app import app
    with Client(app, stage_name="local", project_dir=str(PROJECT)) as test_client:
        yield test_client


@pytest.fixture()
def server_client(server_aws: Env) -> Iterator[Client]:
    """Chalice's test client over the moto server (presigned URLs are real HTTP)."""
    from app import app
    with Client(app, stage_name="local", project_dir=str(PROJECT)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Good and hostile disk images (tests/corpus.py), built with qemu-img once per session."""
    from tests import corpus as disk_corpus
    missing = disk_corpus.qemu_img_missing()
    if missing:
        pytest.skip(missing)
    return disk_corpus.build(tmp_path_factory.mktemp("corpus"))


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Tests under tests/e2e carry the e2e marker."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)

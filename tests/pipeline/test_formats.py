"""Format inspection and conversion in the real pipeline: corpus images go over real HTTP into
moto's S3, and the worker gets exactly what SQS delivered."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from tests.corpus import GOOD, HOSTILE, HOST_SECRET, Sample, qemu_driver
from tests.support import call, create_image, deliver, drain, keys, upload_single


def _import(client, env, sample: Sample) -> dict:
    """Create an image declaring the sample's format, upload it, run the worker; the image."""
    image = create_image(client, disk_format=sample.disk_format)
    upload_single(client, image["id"], sample.path.read_bytes())
    deliver(client, drain(env.queue_url))
    return call(client, "GET", f"/v2/images/{image['id']}")[1]


def _download(client, image_id: str, query: str = "") -> bytes:
    response = client.http.get(f"/v2/images/{image_id}/file{query}")
    assert response.status_code == 302, response.body
    fetched = requests.get(response.headers["Location"], timeout=30)
    fetched.raise_for_status()
    return fetched.content


@pytest.fixture()
def converting(server_aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Conversion to raw and qcow2 on, in a work dir of our own; yields the work dir."""
    monkeypatch.setenv("GLINT_CONVERT_TO", "raw,qcow2")
    monkeypatch.setenv("GLINT_WORK_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize("name", GOOD)
def test_each_format_activates_with_its_virtual_size(server_client, server_aws, corpus, name):
    sample = corpus[name]
    shown = _import(server_client, server_aws, corpus[name])
    assert shown["status"] == "active", shown.get("os_glint_import_error")
    assert shown["virtual_size"] == sample.virtual_size
    assert shown["size"] == sample.path.stat().st_size
    assert keys(f"staging/{shown['id']}/") == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_image_is_rejected_and_leaves_nothing(server_client, server_aws, corpus, name):
    shown = _import(server_client, server_aws, corpus[name])
    assert shown["status"] == "queued"
    assert corpus[name].rejection in shown["os_glint_import_error"]
    assert shown["virtual_size"] is None and shown["checksum"] is None
    assert keys(f"staging/{shown['id']}/") == [] and keys(f"images/{shown['id']}/") == []


def test_virtual_size_limit_comes_from_settings(server_client, server_aws, corpus, monkeypatch):
    monkeypatch.setenv("GLINT_MAX_VIRTUAL_SIZE_BYTES", str(1024 * 1024))
    get_settings.cache_clear()
    shown = _import(server_client, server_aws, corpus["qcow2"])
    assert shown["status"] == "queued"
    assert "above this cloud's limit of 1048576 bytes" in shown["os_glint_import_error"]


@pytest.mark.parametrize(("name", "variant"), [("qcow2", "raw"), ("raw", "qcow2")])
def test_conversion_adds_a_variant_that_qemu_finds_identical(server_client, server_aws, corpus,
                                                             converting, tmp_path, name,
                                                             variant):
    sample = corpus[name]
    shown = _import(server_client, server_aws, sample)
    assert shown["status"] == "active", shown.get("os_glint_import_error")
    stored = image_db.get(shown["id"])
    original, converted = stored.locations
    assert original.disk_format is None and converted.disk_format == variant
    # The image's own fields still describe the original.
    assert _download(server_client, shown["id"]) == sample.path.read_bytes()
    variant_bytes = _download(server_client, shown["id"], f"?disk_format={variant}")
    assert converted.size == len(variant_bytes)
    assert converted.checksum != stored.checksum
    downloaded = tmp_path / "downloaded"
    downloaded.write_bytes(variant_bytes)
    compared = subprocess.run(["qemu-img", "compare", "-f", qemu_driver(sample.detected),
                               "-F", variant, str(sample.path), str(downloaded)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert list(converting.iterdir()) == [downloaded]  # the worker's work dir is gone


def test_download_of_a_missing_variant_is_404(server_client, server_aws, corpus, converting):
    shown = _import(server_client, server_aws, corpus["qcow2"])
    response = server_client.http.get(f"/v2/images/{shown['id']}/file?disk_format=vhdx")
    assert response.status_code == 404
    assert b"no data in disk_format 'vhdx'" in response.body


@pytest.mark.parametrize("name", HOSTILE)
def test_no_stored_object_ever_holds_host_file_bytes(server_client, server_aws, corpus,
                                                     converting, name):
    shown = _import(server_client, server_aws, corpus[name])
    assert shown["status"] == "queued"
    assert keys(f"images/{shown['id']}/") == []
    for key in keys():
        body = aws.s3().get_object(Bucket=get_settings().bucket, Key=key)["Body"].read()
        assert HOST_SECRET[:64] not in body, key
    assert list(converting.iterdir()) == []

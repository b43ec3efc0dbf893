"""Memory stays flat: the worker imports a 2 GiB sparse raw image in its own process; its
peak RSS is printed next to an idle worker process's. The image goes up with one presigned
PUT streamed from a sparse file (moto's server takes longer than botocore's read timeout to
join 2 GiB of multipart parts)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from chalice.test import Client

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from glint_local import provision
from tests.bench.conftest import report
from tests.support import call, create_image, drain, override_settings

MIB = 1024 * 1024
SIZE = 2048 * MIB
PROJECT = Path(__file__).resolve().parents[2]


def _worker(endpoint: str, *args: str) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "GLINT_SINGLE_UPLOAD_MAX_BYTES": str(SIZE)}
    out = subprocess.run([sys.executable, "-m", "tests.bench.worker_process", *args], cwd=PROJECT,
                         env=env, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_worker_peak_rss_importing_a_2_gib_sparse_image(moto_process, monkeypatch, capsys,
                                                        tmp_path):
    override_settings(monkeypatch, AWS_ENDPOINT_URL=moto_process,
                      GLINT_SINGLE_UPLOAD_MAX_BYTES=str(SIZE))
    resources = provision.provision(get_settings())
    disk = tmp_path / "sparse.raw"
    with open(disk, "wb") as sparse:
        sparse.truncate(SIZE)  # a sparse disk: no blocks on disk, 2 GiB of zeros to read
    from app import app
    with Client(app, stage_name="local") as client:
        image = create_image(client)
        grant = call(client, "POST", f"/v2/images/{image['id']}/uploads", {"size": SIZE})[1]
        with open(disk, "rb") as body:
            requests.put(grant["url"], data=body, headers=grant["headers"],
                         timeout=600).raise_for_status()
    messages = drain(resources.queue_urls[get_settings().import_queue])
    (tmp_path / "messages.json").write_text(json.dumps(messages))
    idle = _worker(moto_process, "--idle")
    busy = _worker(moto_process, str(tmp_path / "messages.json"))
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.size == SIZE, stored.import_error
    report(capsys, "worker memory, 2 GiB sparse raw image", [
        f"idle worker process peak RSS:      {idle['peak_rss_mib']:8.1f} MiB",
        f"importing worker peak RSS:         {busy['peak_rss_mib']:8.1f} MiB",
        f"growth for 2048 MiB of data:       {busy['peak_rss_mib'] - idle['peak_rss_mib']:8.1f} MiB",
        f"verify+inspect+copy:               {2048 / busy['seconds']:8.1f} MiB/s",
    ])
    aws.reset()

"""Quota counters move in the same transaction as the image write they account for, and an
admin recount finds and repairs drift (docs/quotas.md)."""
from __future__ import annotations

import os

import pytest

from chalicelib.db import images as image_db
from chalicelib.db import usage as usage_db
from chalicelib.domain import usage
from chalicelib.domain.listing import Source
from tests.support import call, create_image, deliver, drain, upload_single


def _counters(project: str = "admin") -> dict[str, int]:
    return {name: usage_db.read(project).counters.get(name, 0) for name in usage.QUOTA_NAMES}


def _recounted(project: str = "admin") -> dict[str, int]:
    return usage.recount(image_db.newest_first([Source("owner", project)]))


def _die(*_args, **_kwargs):
    raise SystemExit("the worker died between two writes")


@pytest.mark.parametrize("declared", [{}, {"sha256": "0" * 64}], ids=["activate", "reject"])
def test_counters_move_with_the_image_write_or_not_at_all(server_client, server_aws,
                                                          monkeypatch, declared):
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(4096), **declared)
    # A counter write of its own after the image write is a crash point that drifts.
    monkeypatch.setattr(usage_db, "apply", _die)
    deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image["id"]).status in ("active", "queued")
    assert _counters() == _recounted()


def test_recount_reports_and_repairs_drift(client):
    image = create_image(client)
    response = client.http.put(f"/v2/images/{image['id']}/file", body=b"x" * 3000, headers={
        "X-Project-Id": "admin", "X-Roles": "admin", "Content-Type": "application/octet-stream"})
    assert response.status_code == 204
    honest = _counters()
    assert honest == _recounted() and honest["image_size_total"] == 3000
    usage_db.apply("admin", {"image_size_total": 5000, "image_count_total": -1})

    status, report, _ = call(client, "POST", "/v2/quotas/admin/recount?repair=false")
    assert status == 200, report
    assert report["drift"] == {"image_size_total": 5000, "image_count_total": -1}
    assert not report["repaired"] and _counters() != honest

    status, report, _ = call(client, "POST", "/v2/quotas/admin/recount")
    assert status == 200 and report["repaired"]
    assert _counters() == honest
    status, report, _ = call(client, "POST", "/v2/quotas/admin/recount")
    assert report["drift"] == {} and not report["repaired"]


def test_recount_is_for_admins_only(client):
    status, _, _ = call(client, "POST", "/v2/quotas/p1/recount", project="p1", roles="member")
    assert status == 403

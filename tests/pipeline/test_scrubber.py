"""Delayed delete, admin restore and the scrubber's purge."""
from __future__ import annotations

import os
import time


from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound
from chalicelib.pipeline.scrubber import scrub
from glint_local.pump import scheduled_event
from tests.support import call, create_image, keys, override_settings

LATER = time.time() + 30 * 24 * 3600  # past the scrub delay and the staging expiry


def _active(client) -> str:
    image = create_image(client)
    response = client.http.put(f"/v2/images/{image['id']}/file", body=os.urandom(2048),
                               headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 204
    return image["id"]



def test_delayed_delete_keeps_data_until_the_scrubber_purges(server_client, server_aws,
                                                             monkeypatch):
    override_settings(monkeypatch, GLINT_DELAYED_DELETE="true")
    image_id = _active(server_client)
    member = create_image(server_client, visibility="shared")["id"]
    call(server_client, "POST", f"/v2/images/{member}/members", {"member": "p2"})
    assert call(server_client, "DELETE", f"/v2/images/{image_id}")[0] == 204
    assert image_db.get(image_id).status == "pending_delete"
    assert keys(f"images/{image_id}/")  # data kept while restorable
    assert scrub(time.time()).purged == ()  # not before the delay
    call(server_client, "DELETE", f"/v2/images/{member}")
    assert set(scrub(LATER).purged) == {image_id}  # `member` had no data: deleted at once
    try:
        image_db.get(image_id)
    except NotFound:
        pass
    else:
        raise AssertionError("the purged image is still there")
    assert keys(f"images/{image_id}/") == []


def test_admin_restores_a_pending_delete_image(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_DELAYED_DELETE="true")
    image_id = create_image(server_client, project="p1", roles="member")["id"]
    server_client.http.put(f"/v2/images/{image_id}/file", body=b"data",
                           headers={"Content-Type": "application/octet-stream",
                                    "X-Project-Id": "p1", "X-Roles": "member"})
    call(server_client, "DELETE", f"/v2/images/{image_id}", project="p1", roles="member")
    path = f"/v2/images/{image_id}/actions/restore"
    assert call(server_client, "POST", path, project="p1", roles="member")[0] == 403
    assert call(server_client, "POST", path)[0] == 204
    assert image_db.get(image_id).status == "active"
    assert call(server_client, "POST", path)[0] == 409
    assert scrub(LATER).purged == ()


def test_immediate_delete_without_delayed_delete(server_client, server_aws):
    image_id = _active(server_client)
    assert call(server_client, "DELETE", f"/v2/images/{image_id}")[0] == 204
    assert keys(f"images/{image_id}/") == []


def test_scrubber_runs_as_a_scheduled_function(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_DELAYED_DELETE="true", GLINT_SCRUB_DELAY_SECONDS="0")
    image_id = _active(server_client)
    call(server_client, "DELETE", f"/v2/images/{image_id}")
    time.sleep(0.01)
    server_client.lambda_.invoke("image_scrubber",
                                 scheduled_event("arn:aws:events:us-east-1:1:rule/s", "us-east-1"))
    assert call(server_client, "GET", f"/v2/images/{image_id}")[0] == 404

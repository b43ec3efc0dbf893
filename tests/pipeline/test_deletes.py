"""Deletes through location status: the client's delete is one write, the data follows it
whatever the stores answer, and the scrubber retries until none is left."""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import usage as usage_db
from chalicelib.domain import usage
from chalicelib.db.models import ImageModel, bound
from chalicelib.pipeline.scrubber import scrub
from tests.multistore import COLD, active_image, configure_stores, keys_in, request_copy, \
    run_worker
from tests.support import call, keys, override_settings

DATA = os.urandom(4096)
LATER = time.time() + 30 * 24 * 3600


@contextmanager
def deletes_refused(bucket: str) -> Iterator[None]:
    """S3 refuses every DeleteObject in `bucket` (as a bucket policy or an outage would)."""
    def refuse(params, **_):
        if params.get("Bucket") == bucket:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected"}},
                              "DeleteObject")
    events = aws.s3().meta.events
    events.register("before-parameter-build.s3.DeleteObject", refuse, unique_id="refuse-deletes")
    try:
        yield
    finally:
        events.unregister("before-parameter-build.s3.DeleteObject", unique_id="refuse-deletes")


def _tombstone(image_id: str) -> ImageModel:
    return bound(ImageModel).get(image_id, consistent_read=True)


def test_a_refused_store_delete_is_204_and_the_scrubber_retries_until_gone(
        server_client, server_aws):
    image = active_image(server_client, DATA)
    with deletes_refused(get_settings().bucket):
        assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
        assert call(server_client, "GET", f"/v2/images/{image['id']}")[0] == 404
        assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 404
        assert keys(f"images/{image['id']}/")  # still there, still owned by the tombstone
        item = _tombstone(image["id"])
        assert [loc.status for loc in item.locations] == ["pending_delete"]
        assert item.expires_at is None  # a tombstone with data left never expires
        assert scrub(time.time()).retrying == (image["id"],)
    result = scrub(time.time())
    assert result.emptied == (image["id"],) and result.retrying == ()
    assert keys(f"images/{image['id']}/") == []
    item = _tombstone(image["id"])
    assert not item.locations and item.in_flight is None and item.expires_at is not None
    assert scrub(time.time()).emptied == ()  # out of the scrubber's index


def test_a_store_removed_from_the_configuration_is_reported_not_leaked(
        server_client, server_aws, monkeypatch, caplog):
    configure_stores(monkeypatch)
    image = active_image(server_client, DATA)
    assert request_copy(server_client, image["id"], stores=["cold"])[0] == 202
    run_worker(server_client, server_aws)
    [cold_key] = keys_in(COLD, image["id"])
    stores = json.loads(os.environ["GLINT_STORES"])
    override_settings(monkeypatch, GLINT_STORES=json.dumps(
        [s for s in stores if s["id"] != "cold"]))
    assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    assert keys(f"images/{image['id']}/") == []  # the configured store is emptied at once
    with caplog.at_level(logging.ERROR, logger="chalicelib.lifecycle.deletes"):
        result = scrub(time.time())
    assert result.stranded == (f"cold:{cold_key}",)
    assert any(r.message.startswith("image data stranded") and r.store == "cold"
               for r in caplog.records)
    assert keys_in(COLD, image["id"]) == [cold_key]
    override_settings(monkeypatch, GLINT_STORES=json.dumps(stores))  # the operator's fix
    assert scrub(time.time()).emptied == (image["id"],)
    assert keys_in(COLD, image["id"]) == []


def test_delayed_delete_marks_locations_and_restore_brings_them_back(
        server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_DELAYED_DELETE="true")
    image = active_image(server_client, DATA)
    assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    pending = image_db.get(image["id"])
    assert [loc.status for loc in pending.locations] == ["pending_delete"]
    assert call(server_client, "POST", f"/v2/images/{image['id']}/actions/restore")[0] == 204
    assert [loc.status for loc in image_db.get(image["id"]).locations] == ["active"]
    response = server_client.http.get(f"/v2/images/{image['id']}/file")
    assert response.status_code in (200, 302)


def test_a_purge_the_store_refuses_is_retried(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_DELAYED_DELETE="true")
    image = active_image(server_client, DATA)
    call(server_client, "DELETE", f"/v2/images/{image['id']}")
    with deletes_refused(get_settings().bucket):
        result = scrub(LATER)
    assert result.purged == (image["id"],) and result.retrying == (image["id"],)
    assert keys(f"images/{image['id']}/")
    assert scrub(LATER).emptied == (image["id"],)
    assert keys(f"images/{image['id']}/") == []


def test_a_store_copy_the_store_refuses_to_delete_is_retried_by_the_scrubber(
        server_client, server_aws, monkeypatch):
    configure_stores(monkeypatch)
    image = active_image(server_client, DATA)
    assert request_copy(server_client, image["id"], stores=["cold"])[0] == 202
    run_worker(server_client, server_aws)
    with deletes_refused(COLD):
        assert call(server_client, "DELETE", f"/v2/stores/cold/{image['id']}")[0] == 204
        assert [(loc.store, loc.status) for loc in image_db.get(image["id"]).locations] == [
            ("default", "active"), ("cold", "pending_delete")]
        assert call(server_client, "GET", f"/v2/images/{image['id']}")[1]["stores"] == "default"
        assert scrub(time.time()).retrying == (image["id"],)
        assert keys_in(COLD, image["id"])
    stored = usage_db.read("admin").counters[usage.IMAGE_SIZE_TOTAL]
    assert scrub(time.time()).emptied == (image["id"],)
    assert keys_in(COLD, image["id"]) == []
    assert [loc.store for loc in image_db.get(image["id"]).locations] == ["default"]
    # The dropped copy's bytes were given back with the write that dropped it.
    assert usage_db.read("admin").counters[usage.IMAGE_SIZE_TOTAL] == stored - len(DATA)
    assert scrub(time.time()).emptied == ()  # out of the scrubber's index

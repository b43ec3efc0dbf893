"""Events of the image lifecycle go through the outbox: a crash between the change and the
publish loses none, and every publication of one event carries the same id."""
from __future__ import annotations

import os
import time

import pytest

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.pipeline.recovery import reap
from tests.support import create_image, deliver, drain, upload_single

LATER = time.time() + get_settings().reap_after_seconds + 3600


@pytest.fixture()
def published(monkeypatch):
    """What reached EventBridge, as (name, detail); the first activation publish dies."""
    sent: list[tuple[str, dict]] = []
    real_put = events.send  # the one call that reaches EventBridge
    died = []

    def put(event, client=None):
        if event.name == events.IMAGE_ACTIVATE and not died:
            died.append(event.detail[events.EVENT_ID])
            raise SystemExit("the worker died before publishing")
        if real_put(event, client):
            sent.append((event.name, event.detail))
            return True
        return False

    monkeypatch.setattr(events, "send", put)
    sent_and_died = (sent, died)
    return sent_and_died


def test_event_lost_to_a_crash_is_published_by_the_reaper_with_its_id(
        server_client, server_aws, published):
    sent, died = published
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(4096))
    with pytest.raises(SystemExit):
        deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image["id"]).status == "active"  # committed before the crash
    assert events.IMAGE_ACTIVATE not in [name for name, _ in sent]
    assert reap(LATER).republished >= 1
    [activated] = [detail for name, detail in sent if name == events.IMAGE_ACTIVATE]
    assert activated[events.EVENT_ID] == died[0]
    assert activated["image"]["status"] == "active"
    assert reap(LATER).republished == 0  # published once, removed


def test_every_event_carries_an_id(server_client, server_aws, monkeypatch):
    sent = []
    real_put = events.send

    def put(event, client=None):
        sent.append(event.detail)
        return real_put(event, client)

    monkeypatch.setattr(events, "send", put)
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(4096))
    deliver(server_client, drain(server_aws.queue_url))
    assert len(sent) >= 4  # create, task events, upload, activate
    ids = [detail[events.EVENT_ID] for detail in sent]
    assert all(ids) and len(set(ids)) == len(ids)

"""Every change reaches EventBridge: a rule on Glint's bus routes to an SQS queue (all in moto)."""
from __future__ import annotations

import json
import os

import requests

from chalicelib import aws
from chalicelib.config import get_settings
from tests.support import PATCH, call, create_image, deliver, drain


def _subscribe() -> str:
    settings = get_settings()
    sqs, events = aws.sqs(), aws.events()
    url = sqs.create_queue(QueueName="consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-glint", EventBusName=settings.event_bus,
                    EventPattern=json.dumps({"source": [settings.event_source]}))
    events.put_targets(Rule="all-glint", EventBusName=settings.event_bus,
                       Targets=[{"Id": "consumer", "Arn": arn}])
    return url


def _received(url: str) -> list[dict]:
    return [json.loads(m["Body"]) for m in drain(url, wait=1)]


def test_image_life_cycle_is_published_in_order(server_client, server_aws):
    consumer = _subscribe()
    data = os.urandom(4096)
    image = create_image(server_client)
    call(server_client, "PATCH", f"/v2/images/{image['id']}",
         [{"op": "add", "path": "/os_distro", "value": "cirros"}], content_type=PATCH)
    grant = call(server_client, "POST", f"/v2/images/{image['id']}/uploads", {"size": len(data)})[1]
    requests.put(grant["url"], data=data, timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    call(server_client, "DELETE", f"/v2/images/{image['id']}")
    received = _received(consumer)
    assert [e["detail-type"] for e in received] == [
        "image.create", "image.update", "task.create", "task.processing", "image.upload",
        "image.activate", "task.success", "image.delete"]
    received = [e for e in received if e["detail-type"].startswith("image.")]
    for event in received:
        assert event["source"] == "glint.images"
        assert event["detail"]["version"] == 1 and event["detail"]["image_id"] == image["id"]
    assert received[3]["detail"]["image"]["status"] == "active"
    assert received[3]["detail"]["image"]["os_distro"] == "cirros"


def test_rejected_upload_publishes_the_reason(server_client, server_aws):
    consumer = _subscribe()
    image = create_image(server_client)
    grant = call(server_client, "POST", f"/v2/images/{image['id']}/uploads", {"size": 10})[1]
    requests.put(grant["url"], data=b"eleven bytes", timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    [failure] = [e for e in _received(consumer) if e["detail-type"] == "image.import.failure"]
    assert "declared" in failure["detail"]["reason"]

"""The event bus, and an example consumer: a rule routing image.activate to a queue."""
from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.config import Settings
from chalicelib.events import IMAGE_ACTIVATE
from glint_infra.queues import encrypted_queue


def event_bus(scope: Construct, settings: Settings) -> events.EventBus:
    """The bus every image change is published on."""
    return events.EventBus(scope, "EventBus", event_bus_name=settings.event_bus)


def example_consumer(scope: Construct, bus: events.IEventBus, settings: Settings) -> sqs.Queue:
    """A queue that receives every `image.activate` (shows consumers how to subscribe)."""
    queue = encrypted_queue(scope, "ActivatedImagesQueue",
                            queue_name=f"{settings.event_bus}-activated")
    events.Rule(scope, "ImageActivatedRule", event_bus=bus,
                description="Example consumer: every image that became active.",
                event_pattern=events.EventPattern(source=[settings.event_source],
                                                  detail_type=[IMAGE_ACTIVATE]),
                targets=[targets.SqsQueue(queue)])
    return queue

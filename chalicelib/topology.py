"""The resources Glint runs on, described once: the local runtime creates them from this,
and infra/ (CDK) declares the same ones from it, so the two cannot drift apart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.blobs.keys import STAGING_PREFIX
from chalicelib.config import Settings
from chalicelib.db.models import ALL_MODELS

# The worker's Lambda timeout (Lambda's maximum).
WORKER_TIMEOUT_SECONDS = 900
# The dead-letter handler's Lambda timeout: it fails a few records per message.
DEAD_LETTERS_TIMEOUT_SECONDS = 60
# AWS: a queue's visibility timeout should be at least 6x its consumer's function timeout,
# so that retries after throttling or a slow batch do not deliver a message twice at once.
VISIBILITY_PER_TIMEOUT = 6
# Hashing streams 1 MiB chunks; more memory buys Lambda CPU and network throughput.
WORKER_MEMORY_MB = 1024
# How often the reaper looks for stalled imports and abandoned uploads.
REAPER_PERIOD_MINUTES = 5
# How often the scrubber purges delayed deletes and retries removing deleted images' data.
SCRUBBER_PERIOD_MINUTES = 30
# The orphan sweep: how often it runs, how many keys (and multipart uploads) per store one
# run examines, and how old an object no record owns must be before it is removed.
SWEEP_PERIOD_MINUTES = 60
SWEEP_KEYS_PER_RUN = 1000
ORPHAN_GRACE_SECONDS = 24 * 3600
# Messages that failed this many times go to the dead-letter queue.
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# What the bucket tells the import queue about.
NOTIFIED_EVENTS = ("s3:ObjectCreated:*",)
NOTIFIED_PREFIX = STAGING_PREFIX
TABLE_MODELS = ALL_MODELS
# Bucket lifecycle: multipart uploads nobody completed are aborted (their parts are billed
# until then) and staged objects no worker consumed expire; data under images/ never does.
ABORT_INCOMPLETE_MULTIPART_DAYS = 3
STAGING_EXPIRATION_DAYS = 7
# The upload page's browsers PUT parts straight to S3 with presigned URLs (no headers of
# their own: the length is the body's) and must read each part's ETag. Nothing more.
UPLOAD_CORS_METHODS = ("PUT",)
UPLOAD_CORS_EXPOSED_HEADERS = ("ETag",)
UPLOAD_CORS_MAX_AGE_SECONDS = 3600


def upload_cors_rule(origins: list[str]) -> dict[str, Any]:
    """The bucket's one CORS rule, in S3's API shape, for the given page origins."""
    return {"AllowedMethods": list(UPLOAD_CORS_METHODS), "AllowedOrigins": origins,
            "ExposeHeaders": list(UPLOAD_CORS_EXPOSED_HEADERS),
            "MaxAgeSeconds": UPLOAD_CORS_MAX_AGE_SECONDS}


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """The import queue and its dead-letter queue."""

    name: str
    dlq_name: str
    visibility_timeout: int
    dlq_visibility_timeout: int
    max_receive_count: int
    dlq_retention_seconds: int


def import_queue(settings: Settings, visibility_timeout: int | None = None) -> QueueSpec:
    """The import queue; `visibility_timeout` may be shortened for local runs."""
    return QueueSpec(
        name=settings.import_queue,
        dlq_name=f"{settings.import_queue}-dlq",
        visibility_timeout=visibility_timeout or VISIBILITY_PER_TIMEOUT * WORKER_TIMEOUT_SECONDS,
        dlq_visibility_timeout=VISIBILITY_PER_TIMEOUT * DEAD_LETTERS_TIMEOUT_SECONDS,
        max_receive_count=MAX_RECEIVE_COUNT,
        dlq_retention_seconds=DLQ_RETENTION_SECONDS,
    )

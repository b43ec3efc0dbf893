"""Metrics in CloudWatch's embedded metric format: each event prints one JSON line that
CloudWatch Logs turns into metrics in the Glint namespace (see docs/observability.md)."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from enum import StrEnum

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from chalicelib import logs
from chalicelib.config import get_settings

NAMESPACE = "Glint"
MIB = 1024 * 1024


class Reason(StrEnum):
    """Why an import failed: a bounded set, so that it can be a dimension."""

    SIZE_MISMATCH = "size_mismatch"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    FORMAT_REJECTED = "format_rejected"
    CONVERT_FAILED = "convert_failed"
    FETCH_FAILED = "fetch_failed"
    STALLED = "stalled"
    ABANDONED = "abandoned"
    DEAD_LETTER = "dead_letter"
    OTHER = "other"


# The opening words of the failure messages the pipeline records on the image, first match
# wins. A new kind of failure needs a row here (tests/unit/test_metrics.py lists them).
_REASONS: tuple[tuple[str, Reason], ...] = (
    ("Upload rejected: received", Reason.SIZE_MISMATCH),
    ("Upload rejected: the data's sha256", Reason.CHECKSUM_MISMATCH),
    ("Import rejected: the data's", Reason.CHECKSUM_MISMATCH),
    ("Image rejected", Reason.FORMAT_REJECTED),
    ("Conversion to", Reason.CONVERT_FAILED),
    ("web-download of", Reason.FETCH_FAILED),
    ("Import stalled", Reason.STALLED),
    ("Upload abandoned", Reason.ABANDONED),
    ("Import failed after repeated attempts", Reason.DEAD_LETTER),
)


def reason_of(message: str) -> Reason:
    """The bounded reason behind a failure message kept on an image."""
    return next((reason for opening, reason in _REASONS if message.startswith(opening)),
                Reason.OTHER)


def import_started() -> None:
    """A worker (or the API's inline verify) began verifying an upload."""
    _emit({"ImportsStarted": (1, MetricUnit.Count)})


def import_succeeded(size: int) -> None:
    """An image became active after `size` bytes were verified."""
    _emit({"ImportsSucceeded": (1, MetricUnit.Count), "BytesVerified": (size, MetricUnit.Bytes)})


def import_failed(message: str) -> None:
    """An import failed; its message is reduced to a bounded `reason` dimension."""
    _emit({"ImportsFailed": (1, MetricUnit.Count)}, reason=str(reason_of(message)))


def data_stranded(store: str) -> None:
    """A deleted image's stored copy sits in a store that is no longer configured (reported
    by every scrubber pass until an operator puts the store back or empties it)."""
    _emit({"DataStranded": (1, MetricUnit.Count)}, store=store)


def presigned_urls_issued(count: int, kind: str) -> None:
    """URLs granted for uploads; `kind` is `single` or `part`."""
    _emit({"PresignedUrlsIssued": (count, MetricUnit.Count)}, kind=kind)


@contextlib.contextmanager
def throughput(step: str, size: int) -> Iterator[None]:
    """Time a step that streams `size` bytes and emit `<step>Throughput` in MiB/s when it
    succeeds (CloudWatch has no MiB unit: Megabytes/Second here means MiB/s)."""
    started = time.perf_counter()
    yield
    elapsed = max(time.perf_counter() - started, 1e-6)
    _emit({f"{step}Throughput": (round(size / MIB / elapsed, 3), MetricUnit.MegabytesPerSecond)})


def _emit(values: dict[str, tuple[float, MetricUnit]], **dimensions: str) -> None:
    """One EMF line: the stage and `dimensions` as dimensions, the log context (request id,
    image id, project: too many values for dimensions) as searchable properties."""
    metrics = EphemeralMetrics(namespace=NAMESPACE)
    for name, value in {"stage": get_settings().stage, **dimensions}.items():
        metrics.add_dimension(name, value)
    for name, (value, unit) in values.items():
        metrics.add_metric(name, unit, value)
    for name, value in logs.current().items():
        metrics.add_metadata(name, value)
    metrics.flush_metrics()

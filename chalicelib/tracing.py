"""X-Ray set-up: patched AWS clients, one subsegment per pipeline step and per API request."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from aws_xray_sdk.core import patch, xray_recorder

from chalicelib import logs
from chalicelib.config import get_settings


@functools.cache
def configure() -> bool:
    """Patch botocore and pynamodb once per process; returns whether tracing is on."""
    settings = get_settings()
    if not settings.tracing_enabled:
        xray_recorder.configure(sampling=False)
        return False
    # Outside Lambda (the local runtime) there is no segment: ignore instead of logging.
    xray_recorder.configure(context_missing="IGNORE_ERROR" if settings.stage == "local"
                            else "LOG_ERROR")
    patch(("botocore", "pynamodb"))
    return True


@contextlib.contextmanager
def subsegment(name: str, **annotations: Any) -> Iterator[Any]:
    """Trace a block as a named subsegment annotated with the log context (request id,
    image id, project) and the given ids, sizes and formats."""
    if not configure():
        yield None
        return
    with xray_recorder.in_subsegment(name) as sub:
        annotate(sub, **{**logs.current(), **annotations})
        yield sub


def request(method: str, route: str) -> contextlib.AbstractContextManager[Any]:
    """Trace one API request, named by its route (`GET /v2/images/:image_id`): X-Ray names
    take no braces, and a route, unlike a path, is a bounded set of names."""
    return subsegment(f"{method} {route.replace('{', ':').replace('}', '')}")


def annotate(sub: Any, **annotations: Any) -> None:
    """Annotate a subsegment from `subsegment` (None when not tracing); None values are skipped."""
    if sub is None:
        return
    for key, value in annotations.items():
        if value is not None:
            sub.put_annotation(key, value)

"""X-Ray set-up: patched AWS clients and one subsegment per pipeline step."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from aws_xray_sdk.core import patch, xray_recorder

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
    """Trace a block as a named subsegment annotated with ids, sizes and formats."""
    if not configure():
        yield None
        return
    with xray_recorder.in_subsegment(name) as sub:
        if sub is not None:
            for key, value in annotations.items():
                if value is not None:
                    sub.put_annotation(key, value)
        yield sub

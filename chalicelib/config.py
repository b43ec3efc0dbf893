"""All settings, read once from environment variables, with defaults."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from chalicelib.domain.uploads import MIB


@dataclass(frozen=True, slots=True)
class Settings:
    """Deployment settings; every field comes from one `GLINT_*` variable."""

    stage: str
    region: str
    aws_endpoint_url: str | None
    bucket: str
    images_table: str
    import_queue: str
    event_bus: str
    event_source: str
    auth_mode: str
    presign_expires_seconds: int
    single_upload_max_bytes: int
    multipart_part_size: int
    import_lease_seconds: int
    deleted_image_ttl_seconds: int
    tracing_enabled: bool


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@functools.cache
def get_settings() -> Settings:
    """Return the settings for this process (read from the environment once)."""
    stage = os.environ.get("GLINT_STAGE", "local")
    prefix = os.environ.get("GLINT_RESOURCE_PREFIX", f"glint-{stage}")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        bucket=os.environ.get("GLINT_BUCKET", f"{prefix}-images"),
        images_table=os.environ.get("GLINT_IMAGES_TABLE", f"{prefix}-images"),
        import_queue=os.environ.get("GLINT_IMPORT_QUEUE", f"{prefix}-imports"),
        event_bus=os.environ.get("GLINT_EVENT_BUS", f"{prefix}-events"),
        event_source=os.environ.get("GLINT_EVENT_SOURCE", "glint.images"),
        auth_mode=os.environ.get("GLINT_AUTH", "noauth" if stage == "local" else "keystone"),
        presign_expires_seconds=_int("GLINT_PRESIGN_EXPIRES_SECONDS", 900),
        single_upload_max_bytes=_int("GLINT_SINGLE_UPLOAD_MAX_BYTES", 512 * MIB),
        multipart_part_size=_int("GLINT_MULTIPART_PART_SIZE", 64 * MIB),
        import_lease_seconds=_int("GLINT_IMPORT_LEASE_SECONDS", 300),
        deleted_image_ttl_seconds=_int("GLINT_DELETED_IMAGE_TTL_SECONDS", 7 * 24 * 3600),
        tracing_enabled=os.environ.get("AWS_XRAY_SDK_ENABLED", "true").lower() != "false",
    )

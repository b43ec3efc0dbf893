"""Object-key layout in the image bucket. Pure functions."""
from __future__ import annotations

STAGING_PREFIX = "staging/"
IMAGES_PREFIX = "images/"
# The orphan sweep's own state, outside the prefixes it sweeps.
SWEEP_PREFIX = "sweep/"
SWEEP_CURSOR_KEY = f"{SWEEP_PREFIX}cursor.json"


def staging_key(image_id: str, upload_id: str) -> str:
    """Where one upload of an image lands before it is verified."""
    return f"{STAGING_PREFIX}{image_id}/{upload_id}"


def staging_prefix(image_id: str) -> str:
    """Every staged object of one image."""
    return f"{STAGING_PREFIX}{image_id}/"


def parse_staging_key(key: str) -> tuple[str, str] | None:
    """(image_id, upload_id) for a staging key, None for any other key."""
    if not key.startswith(STAGING_PREFIX):
        return None
    parts = key[len(STAGING_PREFIX):].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def image_key(image_id: str, location_id: str) -> str:
    """Where one verified copy of an image's data lives."""
    return f"{IMAGES_PREFIX}{image_id}/{location_id}"

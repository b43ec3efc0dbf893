"""Block manifests in the image bucket, beside the images' data (images/manifests/{id}.json:
under images/, where the functions that read, write and delete image data already may)."""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.blobs import keys
from chalicelib.config import get_settings
from chalicelib.domain.blocks import Manifest


def manifest_key(image_id: str) -> str:
    """Where an image's block manifest lives."""
    return f"{keys.IMAGES_PREFIX}manifests/{image_id}.json"


def image_of(key: str) -> str | None:
    """The id of the image whose manifest is at `key`, or None for any other key."""
    prefix = f"{keys.IMAGES_PREFIX}manifests/"
    if not (key.startswith(prefix) and key.endswith(".json")):
        return None
    return key[len(prefix):-len(".json")] or None


def put(manifest: Manifest, client: Any = None) -> None:
    """Store (or replace) an image's manifest."""
    (client or aws.s3()).put_object(Bucket=get_settings().bucket,
                                    Key=manifest_key(manifest.image_id),
                                    Body=json.dumps(manifest.to_json()).encode(),
                                    ContentType="application/json")


def get(image_id: str, client: Any = None) -> Manifest | None:
    """The image's manifest, or None when it has none (activated before manifests existed)."""
    try:
        body = (client or aws.s3()).get_object(Bucket=get_settings().bucket,
                                               Key=manifest_key(image_id))["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    with body:
        return Manifest.from_json(json.loads(body.read()))


def delete(image_id: str, client: Any = None) -> None:
    """Remove the image's manifest (absent is fine)."""
    (client or aws.s3()).delete_object(Bucket=get_settings().bucket, Key=manifest_key(image_id))

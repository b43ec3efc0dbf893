"""Domain values -> the JSON bodies clients expect."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib.domain import property_protections
from chalicelib.domain.context import RequestContext
from chalicelib.domain.image import Image, document
from chalicelib.domain.stores import stores_of
from chalicelib.services import discovery
from chalicelib.services.uploads import UploadGrant
from chalicelib.blobs.presign import PresignedRequest


def image(ctx: RequestContext, img: Image) -> dict[str, Any]:
    """An image with Glance's `self`, `file` and `schema` links, without the properties the
    caller's roles may not read (property protections)."""
    hidden = property_protections.unreadable(ctx.protections, ctx.roles, img.properties)
    doc = {k: v for k, v in document(img).items() if k not in hidden}
    doc.update({"self": f"/v2/images/{img.id}", "file": f"/v2/images/{img.id}/file",
                "schema": "/v2/schemas/image"})
    held, configured = stores_of(img), discovery.store_ids()
    if held and configured:  # as Glance: only with several stores; here in their order
        doc["stores"] = ",".join(s for s in configured if s in held)
    return doc


def image_list(ctx: RequestContext, images: list[Image], next_marker: str | None,
               query: dict[str, list[str]]) -> dict[str, Any]:
    """A page of images with `first` and, unless last, a `next` that keeps the query."""
    params = {k: v for k, v in query.items() if k != "marker"}
    body: dict[str, Any] = {"images": [image(ctx, i) for i in images],
                            "first": with_query("/v2/images", params),
                            "schema": "/v2/schemas/images"}
    if next_marker:
        body["next"] = with_query("/v2/images", {**params, "marker": [next_marker]})
    return body


def with_query(path: str, params: dict[str, list[str]]) -> str:
    """`path` with the query parameters (each name to all its values) appended."""
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def upload_grant(grant: UploadGrant) -> dict[str, Any]:
    """The direct-upload extension's answer: where to PUT the bytes, and what next."""
    pending = grant.upload
    base = f"/v2/images/{grant.image.id}/uploads/{pending.id}"
    body: dict[str, Any] = {
        "upload_id": pending.id, "image_id": grant.image.id, "status": str(grant.image.status),
        "size": pending.size, "sha256": pending.sha256, "expires_at": pending.expires_at,
        "self": base,
    }
    if grant.single:
        body.update(type="single", **_request(grant.single))
        return body
    body.update(
        type="multipart", part_size=pending.part_size, part_count=grant.part_count,
        parts=[{"part_number": p.part_number, "size": p.size, **_request(p.request)}
               for p in grant.parts],
        uploaded_parts=[{"part_number": n, "size": s} for n, s in sorted(grant.uploaded_parts.items())],
        complete=f"{base}/complete",
    )
    last = grant.parts[-1].part_number if grant.parts else 0
    if last < grant.part_count:
        body["next_parts"] = f"{base}?first_part={last + 1}"
    return body


def _request(req: PresignedRequest) -> dict[str, Any]:
    return {"method": req.method, "url": req.url, "headers": req.headers}

"""The import pipeline's writes to an image: targeted UpdateItems conditioned on the image's
status and the worker's claim token (or, for a pending state nobody has claimed, on that
state exactly as it was read), never on the whole-item version. A user's edit during an
import (name, tags, properties, members) therefore never breaks the import, and the import
writes only the fields it owns. Each write still adds 1 to the version, so a user's edit
read before it fails (409) rather than writing back what the import changed. A write that
moves quota counters moves them in the same transaction (docs/consistency.md)."""
from __future__ import annotations

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.db import images as image_db
from chalicelib.db.along import Along, commit
from chalicelib.db.models import ImageModel, bound
from chalicelib.db.writes import conditional
from chalicelib.domain import blocks, families
from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.image import Image, ImportClaim, PendingUpload, Status
from chalicelib.domain.stores import IMPORTING_PROPERTY

_M = ImageModel
# Image fields an import owns; everything else on the image belongs to the user's edits.
_RESULT_FIELDS = ("checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size")


def claim(image_id: str, key: str, claim_: ImportClaim, now: float, stamp: str) -> Image | None:
    """Take the import of the upload staged at `key`: from `uploading` (not awaiting a
    glance-direct request), or over an `importing` claim whose lease lapsed before `now`.
    Returns the claimed image, or None when the image is not in such a state."""
    upload = _M.upload
    not_awaiting = (upload.awaiting_import == False) | upload.awaiting_import.does_not_exist()  # noqa: E712
    uploading = (_M.status == str(Status.UPLOADING)) & not_awaiting
    lapsed = (_M.status == str(Status.IMPORTING)) & (_M.claim.lease_until <= now)
    condition = (upload.key == key) & (uploading | lapsed)
    return _update(image_id, [
        _M.status.set(str(Status.IMPORTING)), _M.in_flight.set(str(Status.IMPORTING)),
        _M.claim.set(image_db.claim_map(claim_)), _M.updated_at.set(stamp)], condition)


def renew(image: Image, lease_until: float, error: str | None = None) -> Image:
    """Extend (or, with lease_until 0, give up) the caller's claim; `error` notes why.

    Raises:
        StaleWrite: the claim is no longer the caller's (taken over, failed, or deleted).
    """
    actions = [_M.claim.lease_until.set(lease_until)]
    if error is not None:
        actions.append(_M.import_error.set(error))
    renewed = _update(image.id, actions, _held(image))
    if renewed is None:
        raise StaleWrite(f"Image {image.id}: the import claim was lost.")
    return renewed


def activate(claimed: Image, result: Image, along: Along, stamp: str) -> Image:
    """Make the image `active` with the import's `result` (digests, sizes, locations), its
    upload and claim gone, and what goes `along` (counters, events) in the same transaction.

    Raises:
        StaleWrite: the claim is no longer the caller's (taken over, failed, or deleted).
    """
    actions = [_M.status.set(str(Status.ACTIVE)), _M.in_flight.remove(),
               _M.locations.set(image_db.location_maps(result.locations)),
               _M.upload.remove(), _M.claim.remove(), _M.import_error.remove(),
               _M.updated_at.set(stamp)]
    for name in _RESULT_FIELDS:
        value = getattr(result, name)
        attribute = getattr(_M, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    # What the verification pass measured of an incremental image (its parent's id is there,
    # so the map is), the stores still to fill of an import into chosen stores (the default
    # one is filled now), and the family index entry of an image that becomes resolvable.
    actions += [_M.properties[name].set(result.properties[name])
                for name in (blocks.REUSED_PROPERTY, blocks.UPLOADED_PROPERTY, IMPORTING_PROPERTY)
                if name in result.properties]
    family = families.index_key(result)
    actions.append(_M.family_key.set(family) if family else _M.family_key.remove())
    return _transact(claimed, actions, _held(claimed), along)


def fail(observed: Image, reason: str, along: Along, stamp: str) -> Image | None:
    """Return the image to `queued` with `reason`, its upload and claim gone, and what goes
    `along` (the hold given back, the failure event) in one transaction; only if
    its pending state is still the one `observed` (same status, upload, claim and lease, and
    URL expiry): a renewed lease or an extended upload wins over a stale reaper.
    Returns the failed image, or None when the state had moved on."""
    actions = [_M.status.set(str(Status.QUEUED)), _M.in_flight.remove(), _M.size.remove(),
               _M.virtual_size.remove(), _M.upload.remove(), _M.claim.remove(),
               _M.import_error.set(reason), _M.updated_at.set(stamp)]
    try:
        return _transact(observed, actions, as_observed(observed), along)
    except StaleWrite:
        return None


def change_upload(observed: Image, pending: PendingUpload, along: Along = Along()) -> Image:
    """Replace the observed pending upload's record (a size learnt, a deadline moved), with
    what goes `along` (a charge for the size) in the same transaction.

    Raises:
        StaleWrite: the pending state is no longer the one observed.
        QuotaExceeded: a limit would be exceeded (nothing was changed).
    """
    return _transact(observed, [_M.upload.set(image_db.upload_map(pending))],
                     as_observed(observed), along)


def as_observed(image: Image) -> Condition:
    """The image's pending state (status, upload, claim) is still exactly as read."""
    condition = _M.status == str(image.status)
    upload = image.upload
    if upload is None:
        condition &= _M.upload.does_not_exist()
    else:
        condition &= (_M.upload.id == upload.id) & (_M.upload.expires_at == upload.expires_at)
        condition &= _M.upload.size == upload.size
    if image.claim is None:
        condition &= _M.claim.does_not_exist()
    else:
        condition &= ((_M.claim.token == image.claim.token)
                      & (_M.claim.lease_until == image.claim.lease_until))
    return condition


def _held(image: Image) -> Condition:
    """The caller still holds its claim on the importing image."""
    assert image.claim is not None
    return (_M.status == str(Status.IMPORTING)) & (_M.claim.token == image.claim.token)


def _item(image_id: str) -> ImageModel:
    # Any version: the write adds 1 to whatever is stored (add_version_condition=False).
    return bound(ImageModel)(image_id, version=0)


def _update(image_id: str, actions: list[Action], condition: Condition) -> Image | None:
    item = _item(image_id)
    applied = conditional(lambda: item.update(actions=actions, condition=condition,
                                              add_version_condition=False))
    return image_db.to_domain(item) if applied else None


def _transact(image: Image, actions: list[Action], condition: Condition,
              along: Along) -> Image:
    stale = StaleWrite(f"Image {image.id} left the state the import read it in.")
    if not along:
        updated = _update(image.id, actions, condition)
        if updated is None:
            raise stale
        return updated
    commit(lambda writes: writes.update(_item(image.id), actions=actions, condition=condition,
                                        add_version_condition=False), False, along, stale)
    return image_db.get(image.id)

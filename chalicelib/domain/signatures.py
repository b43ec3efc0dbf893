"""Glance's image signature properties (`img_signature*`): which combinations are valid.

An image carrying all four is verified over its data when the data arrives; some but not all
of them is an error the client must fix before sending data (Glint answers 400 rather than
skip verification silently). Names and values are Glance's (cursive's)."""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.errors import ImageRejected, Invalid, SignatureRejected

SIGNATURE = "img_signature"
HASH_METHOD = "img_signature_hash_method"
KEY_TYPE = "img_signature_key_type"
CERTIFICATE = "img_signature_certificate_uuid"
PROPERTIES = (SIGNATURE, HASH_METHOD, KEY_TYPE, CERTIFICATE)
# How every signature failure's reason begins (Glance's words), wherever the reason is shown.
FAILED = "Signature verification failed"
HASH_METHODS = ("SHA-224", "SHA-256", "SHA-384", "SHA-512")
# Certificate uuids name secrets: letters, digits and dashes only.
_CERTIFICATE_UUID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
# RSA-PSS, DSA, and ECDSA on cursive's prime curves. Its binary curves (ECC_SECT*) are
# refused: the pinned `cryptography` no longer implements them.
KEY_TYPES = ("RSA-PSS", "DSA", "ECC_SECP384R1", "ECC_SECP521R1")


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """What to verify an image's data against."""

    signature: bytes
    hash_method: str
    key_type: str
    certificate_uuid: str


def requested(properties: Mapping[str, str]) -> SignatureRequest | None:
    """The signature to verify, or None when the image carries no signature properties.

    Raises:
        Invalid: only some of the four are set, or one has a value Glance does not accept.
    """
    present = [name for name in PROPERTIES if properties.get(name)]
    if not present:
        return None
    missing = [name for name in PROPERTIES if name not in present]
    if missing:
        raise Invalid(f"Signature verification needs all of {', '.join(PROPERTIES)}; "
                      f"missing {', '.join(missing)}.")
    if properties[HASH_METHOD] not in HASH_METHODS:
        raise Invalid(f"Invalid signature hash method: {properties[HASH_METHOD]} (one of "
                      f"{', '.join(HASH_METHODS)}).")
    if properties[KEY_TYPE] not in KEY_TYPES:
        raise Invalid(f"Invalid signature key type: {properties[KEY_TYPE]} (one of "
                      f"{', '.join(KEY_TYPES)}).")
    if not _CERTIFICATE_UUID.match(properties[CERTIFICATE]):
        raise Invalid("img_signature_certificate_uuid may hold only letters, digits and dashes.")
    try:
        signature = base64.b64decode(properties[SIGNATURE], validate=True)
    except binascii.Error as exc:
        raise Invalid("The signature (img_signature) is not valid base64.") from exc
    return SignatureRequest(signature, properties[HASH_METHOD], properties[KEY_TYPE],
                            properties[CERTIFICATE])


def rejection(reason: str) -> ImageRejected:
    """The error for an upload rejected with `reason`: a signature failure or other data."""
    return SignatureRejected(reason) if reason.startswith(FAILED) else ImageRejected(reason)

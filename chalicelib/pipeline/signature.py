"""Image signature verification in the verification pass (Glance's `img_signature*`).

The data is hashed with the signature's hash method as it streams, beside md5 and sha512; at
the end the certificate's public key checks the signature over that digest (RSA-PSS with
MGF1 and the maximum salt length, ECDSA, or DSA, as cursive does)."""
from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa, utils

from chalicelib import certificates
from chalicelib.domain.errors import Invalid, SignatureRejected
from chalicelib.domain.image import Image
from chalicelib.domain.signatures import FAILED, SignatureRequest, requested

_HASHES = {"SHA-224": hashes.SHA224, "SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384,
           "SHA-512": hashes.SHA512}
_CURVES = {"ECC_SECP384R1": ec.SECP384R1, "ECC_SECP521R1": ec.SECP521R1}


def verifier_for(image: Image, now: datetime) -> SignatureVerifier | None:
    """The verifier for a signed image's data, or None for an unsigned image.

    Raises:
        SignatureRejected: the signature properties are incomplete or invalid, or the
            certificate is missing, not valid now, or of another key type.
    """
    try:
        request = requested(image.properties)
    except Invalid as exc:  # set by an edit after the upload began
        raise SignatureRejected(f"{FAILED}: {exc.message}") from None
    if request is None:
        return None
    return SignatureVerifier(request, certificates.certificate_pem(request.certificate_uuid), now)


class SignatureVerifier:
    """Fed every chunk (`observe`), then `verify()`; a certificate that is unusable now is
    refused when the verifier is made, before any data is read."""

    def __init__(self, request: SignatureRequest, certificate_pem: bytes, now: datetime) -> None:
        self.request = request
        self.algorithm = _HASHES[request.hash_method]()
        self.public_key = _usable_key(request, certificate_pem, now)
        self._hash = hashes.Hash(self.algorithm)

    def observe(self, chunk: bytes) -> None:
        """Hash the next chunk of the image data."""
        self._hash.update(chunk)

    def verify(self) -> None:
        """Check the signature over everything observed.

        Raises:
            SignatureRejected: the signature does not match the data.
        """
        digest, key = self._hash.finalize(), self.public_key
        prehashed = utils.Prehashed(self.algorithm)
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(self.request.signature, digest, padding.PSS(
                    mgf=padding.MGF1(self.algorithm), salt_length=padding.PSS.MAX_LENGTH),
                    prehashed)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(self.request.signature, digest, ec.ECDSA(prehashed))
            else:
                key.verify(self.request.signature, digest, prehashed)
        except InvalidSignature:
            raise SignatureRejected(f"{FAILED}: the image data does not match "
                                    "img_signature.") from None


def _usable_key(request: SignatureRequest, pem: bytes, now: datetime) -> object:
    uuid = request.certificate_uuid
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SignatureRejected(f"{FAILED}: certificate {uuid} is not a PEM X.509 "
                                "certificate.") from None
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SignatureRejected(
            f"{FAILED}: certificate {uuid} is not valid now (valid "
            f"from {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}).")
    key = certificate.public_key()
    expected = (rsa.RSAPublicKey if request.key_type == "RSA-PSS" else
                dsa.DSAPublicKey if request.key_type == "DSA" else ec.EllipticCurvePublicKey)
    curve = _CURVES.get(request.key_type)
    if not isinstance(key, expected) or (curve and not isinstance(key.curve, curve)):
        raise SignatureRejected(f"{FAILED}: certificate {uuid} does not hold a "
                                f"{request.key_type} key.")
    return key

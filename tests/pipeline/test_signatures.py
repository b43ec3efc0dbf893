"""Image signature verification (Glance's img_signature* properties) with real keys and
certificates made here, stored in the certificate store (Secrets Manager on moto): the worker
verifies the signature in the same pass as the digests, and says why when it refuses."""
from __future__ import annotations

import base64
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import NameOID

from chalicelib import aws
from chalicelib.config import get_settings
from tests.support import call, create_image, deliver, drain, upload_single

MIB = 1024 * 1024
HASHES = {"SHA-224": hashes.SHA224, "SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384,
          "SHA-512": hashes.SHA512}


def _key(key_type: str):
    if key_type == "RSA-PSS":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "DSA":
        return dsa.generate_private_key(key_size=2048)
    return ec.generate_private_key({"ECC_SECP384R1": ec.SECP384R1(),
                                    "ECC_SECP521R1": ec.SECP521R1()}[key_type])


def _sign(key, key_type: str, hash_method: str, data: bytes) -> str:
    algorithm = HASHES[hash_method]()
    if key_type == "RSA-PSS":
        signature = key.sign(data, padding.PSS(mgf=padding.MGF1(algorithm),
                                               salt_length=padding.PSS.MAX_LENGTH), algorithm)
    elif key_type == "DSA":
        signature = key.sign(data, algorithm)
    else:
        signature = key.sign(data, ec.ECDSA(algorithm))
    return base64.b64encode(signature).decode()


def _store_certificate(key, valid_days: tuple[int, int] = (-1, 30)) -> str:
    """A self-signed certificate for `key`, valid between the two day offsets from now."""
    now = datetime.now(timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "glint image signer")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now + timedelta(days=valid_days[0]))
                   .not_valid_after(now + timedelta(days=valid_days[1]))
                   .sign(key, hashes.SHA256()))
    certificate_uuid = str(uuid.uuid4())
    aws.secretsmanager().create_secret(
        Name=f"{get_settings().certificate_secret_prefix}{certificate_uuid}",
        SecretString=certificate.public_bytes(serialization.Encoding.PEM).decode())
    return certificate_uuid


def _signed_image(client, key_type: str, hash_method: str, signature: str, cert: str) -> dict:
    return create_image(client, img_signature=signature, img_signature_hash_method=hash_method,
                        img_signature_key_type=key_type, img_signature_certificate_uuid=cert)


def _import(client, env, image: dict, data: bytes) -> dict:
    upload_single(client, image["id"], data)
    deliver(client, drain(env.queue_url))
    return call(client, "GET", f"/v2/images/{image['id']}")[1]


@pytest.mark.parametrize("key_type, hash_method", [
    ("RSA-PSS", "SHA-256"), ("RSA-PSS", "SHA-512"), ("ECC_SECP384R1", "SHA-384"),
    ("ECC_SECP521R1", "SHA-512"), ("DSA", "SHA-224")])
def test_signed_image_verifies_and_activates(server_client, server_aws, key_type, hash_method):
    data = os.urandom(MIB + 5)
    key = _key(key_type)
    image = _signed_image(server_client, key_type, hash_method,
                          _sign(key, key_type, hash_method, data), _store_certificate(key))
    shown = _import(server_client, server_aws, image, data)
    assert shown["status"] == "active", shown.get("os_glint_import_error")


def test_signature_over_other_bytes_is_rejected(server_client, server_aws):
    key = _key("RSA-PSS")
    image = _signed_image(server_client, "RSA-PSS", "SHA-256",
                          _sign(key, "RSA-PSS", "SHA-256", b"other bytes"), _store_certificate(key))
    shown = _import(server_client, server_aws, image, os.urandom(MIB))
    assert shown["status"] == "queued"
    assert "does not match img_signature" in shown["os_glint_import_error"]


def test_put_file_answers_a_failed_signature_400_as_glance(server_client, server_aws):
    data, key = os.urandom(4096), _key("RSA-PSS")
    certificate = _store_certificate(key)
    for signed, expected in ((b"other bytes", 400), (data, 204)):
        image = _signed_image(server_client, "RSA-PSS", "SHA-256",
                              _sign(key, "RSA-PSS", "SHA-256", signed), certificate)
        status, body, _ = call(server_client, "PUT", f"/v2/images/{image['id']}/file", data,
                               content_type="application/octet-stream")
        assert status == expected, body
        if expected == 400:
            assert "does not match img_signature" in body["error"]["message"]
            shown = call(server_client, "GET", f"/v2/images/{image['id']}")[1]
            assert shown["status"] == "queued" and shown["os_glint_import_error"]


@pytest.mark.parametrize("valid_days, reason", [((-30, -1), "is not valid now"),
                                                ((2, 30), "is not valid now")])
def test_certificate_outside_its_validity_is_refused(server_client, server_aws, valid_days,
                                                     reason):
    data = os.urandom(MIB)
    key = _key("ECC_SECP384R1")
    image = _signed_image(server_client, "ECC_SECP384R1", "SHA-256",
                          _sign(key, "ECC_SECP384R1", "SHA-256", data),
                          _store_certificate(key, valid_days))
    shown = _import(server_client, server_aws, image, data)
    assert shown["status"] == "queued" and reason in shown["os_glint_import_error"]


def test_missing_unreadable_or_another_key_type_certificate_is_refused(server_client, server_aws):
    data = os.urandom(MIB)
    key = _key("RSA-PSS")
    signature = _sign(key, "RSA-PSS", "SHA-256", data)
    missing = _signed_image(server_client, "RSA-PSS", "SHA-256", signature, str(uuid.uuid4()))
    assert "was not found" in _import(server_client, server_aws, missing,
                                      data)["os_glint_import_error"]
    mismatched = _signed_image(server_client, "ECC_SECP384R1", "SHA-256", signature,
                               _store_certificate(key))
    assert "does not hold a ECC_SECP384R1 key" in _import(
        server_client, server_aws, mismatched, data)["os_glint_import_error"]
    garbage = str(uuid.uuid4())
    aws.secretsmanager().create_secret(
        Name=f"{get_settings().certificate_secret_prefix}{garbage}", SecretString="not a PEM")
    not_pem = _signed_image(server_client, "RSA-PSS", "SHA-256", signature, garbage)
    assert "is not a PEM X.509 certificate" in _import(
        server_client, server_aws, not_pem, data)["os_glint_import_error"]


def test_partial_or_invalid_signature_properties_are_400_before_any_data(server_client,
                                                                         server_aws):
    partial = create_image(server_client, img_signature="c2ln",
                           img_signature_hash_method="SHA-256")
    status, error, _ = call(server_client, "POST", f"/v2/images/{partial['id']}/uploads",
                            {"size": 10})
    assert status == 400 and "missing img_signature_key_type" in error["error"]["message"]
    status, error, _ = call(server_client, "PUT", f"/v2/images/{partial['id']}/stage", b"x",
                            content_type="application/octet-stream")
    assert status == 400 and "missing img_signature_key_type" in error["error"]["message"]
    status, error, _ = call(server_client, "POST", f"/v2/images/{partial['id']}/import",
                            {"method": {"name": "glance-direct"}})
    assert status == 400 and "missing img_signature_key_type" in error["error"]["message"]
    bad_hash = _signed_image(server_client, "RSA-PSS", "MD5", "c2ln", "abc")
    status, error, _ = call(server_client, "PUT", f"/v2/images/{bad_hash['id']}/file", b"x",
                            content_type="application/octet-stream")
    assert status == 400 and "Invalid signature hash method" in error["error"]["message"]
    assert call(server_client, "GET", f"/v2/images/{bad_hash['id']}")[1]["status"] == "queued"
    for fields, problem in ((("ECC_SECT571K1", "c2ln", "abc"), "Invalid signature key type"),
                            (("RSA-PSS", "not base64!", "abc"), "not valid base64"),
                            (("RSA-PSS", "c2ln", "../other"), "letters, digits and dashes")):
        key_type, signature, cert = fields
        bad = _signed_image(server_client, key_type, "SHA-256", signature, cert)
        status, error, _ = call(server_client, "POST", f"/v2/images/{bad['id']}/uploads",
                                {"size": 10})
        assert status == 400 and problem in error["error"]["message"], error

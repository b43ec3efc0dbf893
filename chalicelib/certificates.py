"""Signing certificates, one Secrets Manager secret per certificate uuid (a PEM X.509
certificate as the secret's string): the deployment's certificate store."""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.domain.errors import SignatureRejected
from chalicelib.domain.signatures import FAILED


def certificate_pem(uuid: str) -> bytes:
    """The PEM certificate stored for `uuid`.

    Raises:
        SignatureRejected: there is no such certificate.
    """
    name = f"{get_settings().certificate_secret_prefix}{uuid}"
    try:
        secret = aws.secretsmanager().get_secret_value(SecretId=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise SignatureRejected(f"{FAILED}: certificate {uuid} was not found in the "
                                    "certificate store.") from None
        raise
    return secret["SecretString"].encode() if "SecretString" in secret else secret["SecretBinary"]

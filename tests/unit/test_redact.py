"""What tenants and logs see of an error message (chalicelib/domain/redact.py)."""
from __future__ import annotations

from chalicelib.domain.redact import for_tenant, secrets_out

RAW = ("web-download of https://bob:pw@example.com/d.qcow2?X-Amz-Signature=abc&token=s3cret#x "
       "failed: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/worker/i is not "
       "allowed s3://prod-images/staging/k (account 123456789012)")


def test_tenant_sees_no_account_arn_bucket_credentials_or_query():
    shown = for_tenant(RAW, ["prod-images"])
    for secret in ("123456789012", "arn:aws", "prod-images", "bob", "pw@", "X-Amz",
                   "s3cret", "?"):
        assert secret not in shown
    assert "https://example.com/d.qcow2" in shown and "AccessDenied" in shown


def test_logs_keep_everything_but_secrets():
    logged = secrets_out(RAW)
    assert "s3cret" not in logged and "X-Amz-Signature" not in logged and "pw@" not in logged
    assert "arn:aws:sts::123456789012" in logged and "prod-images" in logged
    assert "https://example.com/d.qcow2?[redacted]" in logged


def test_plain_messages_are_unchanged():
    message = "Upload rejected: received 10 bytes, but 12 were declared."
    assert for_tenant(message, ["bucket"]) == message == secrets_out(message)

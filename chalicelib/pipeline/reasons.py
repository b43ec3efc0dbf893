"""Why an import failed, in two versions: for the tenant (image, task, events), with this
deployment's account ids, ARNs, bucket names and URL query strings removed; for the logs,
in full but for secrets."""
from __future__ import annotations

from chalicelib import stores
from chalicelib.config import get_settings
from chalicelib.domain import redact


def for_tenant(reason: str) -> str:
    """The reason as `os_glint_import_error`, tasks and events show it."""
    buckets = {store.bucket for store in stores.writable()} | {get_settings().bucket}
    return redact.for_tenant(reason, buckets)


def for_log(reason: str) -> str:
    """The reason as logs keep it: everything but credentials and signed query strings."""
    return redact.secrets_out(reason)

"""Redaction of messages: what a tenant may see of an error (no account ids, ARNs, bucket
names or URL credentials and query strings), and what logs may keep (everything but
secrets). Standard library only."""
from __future__ import annotations

import re
from collections.abc import Iterable

# scheme://[userinfo@]host[:port][/path][?query][#fragment]
_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/\s@?#'\"]*@)?"
                  r"(?P<rest>[^\s?#'\"]*)(?:\?[^\s#'\"]*)?(?:#[^\s'\"]*)?")
_ARN = re.compile(r"\barn:aws[a-zA-Z-]*:[^\s'\"]*")
_ACCOUNT_ID = re.compile(r"(?<![\d-])\d{12}(?![\d-])")


def secrets_out(message: str) -> str:
    """The message with URL credentials and query strings (signatures, tokens) removed:
    what logs keep."""
    return _URL.sub(lambda m: m.group("scheme") + m.group("rest")
                    + ("?[redacted]" if "?" in m.group(0) else ""), message)


def for_tenant(message: str, hidden_names: Iterable[str] = ()) -> str:
    """The message as a tenant may see it: no URL credentials or query strings, no ARNs,
    no account ids, and none of `hidden_names` (the deployment's bucket names)."""
    safe = _URL.sub(lambda m: m.group("scheme") + m.group("rest"), message)
    safe = _ARN.sub("[resource]", safe)
    safe = _ACCOUNT_ID.sub("[account]", safe)
    for name in sorted({n for n in hidden_names if n}, key=len, reverse=True):
        safe = safe.replace(name, "[store]")
    return safe


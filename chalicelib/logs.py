"""Logging set-up: one stdout handler, JSON in Lambda and text locally, with the request id,
image id and project on every line, and no signed URL or token ever written out."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TextIO

from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from chalicelib.config import get_settings

CONTEXT_FIELDS = ("request_id", "image_id", "project")
REDACTED = "REDACTED"
_NOTHING: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "glint_log_context", default=_NOTHING)

# A URL whose query signs it (SigV4 or SigV2) loses the whole query: it grants access as is.
_SIGNED_URL = re.compile(r"(?i)(\bhttps?://[^\s\"'?]+\?)[^\s\"'<>]*"
                         r"\b(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature"
                         r"|AWSAccessKeyId)=[^\s\"'<>]*")
# The same parameters outside a URL (a query string logged on its own).
_SIGNING_PARAM = re.compile(r"(?i)\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)"
                            r"=[^&\s\"'<>]+")
# Header-like credentials, in reprs of dicts, JSON or "Name: value" text.
_TOKEN = re.compile(r"(?i)\b(Authorization|X-Auth-Token|X-Subject-Token|X-Service-Token)"
                    r"(\\?[\"']?\s*[:=]\s*\\?[\"']?)(?:(?:Bearer|Basic)\s+)?[^\s\"'\\,;}&]+")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+")
# What every LogRecord has; anything else on a record came from `extra=` or the context.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", *RESERVED_LOG_ATTRS}


def configure(*adopted: logging.Logger) -> None:
    """Send every record to stdout in the stage's format (GLINT_LOG_FORMAT); `adopted` loggers
    (Chalice's app.log prints through a handler of its own) go the same way. Safe to repeat.

    A harness that already handles the root logger (pytest, an embedding program) keeps its
    handlers; in Lambda the runtime's handler is replaced, or each line would appear twice."""
    for logger in adopted:
        logger.handlers.clear()
        logger.propagate = True
    root = logging.getLogger()
    if any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        return
    settings = get_settings()
    if root.handlers and not settings.in_lambda:
        return
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler(settings.log_format))
    root.setLevel(settings.log_level)


def handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stdout by default) that adds the context and redacts secrets."""
    out = logging.StreamHandler(stream or sys.stdout)
    out.addFilter(ContextFilter())
    out.setFormatter(RedactingFormatter(json_formatter() if log_format == "json"
                                        else TextFormatter()))
    return out


def json_formatter() -> logging.Formatter:
    """Powertools' Lambda JSON shape, with the context fields right after the message."""
    return LambdaPowertoolsFormatter(
        log_record_order=["level", "message", *CONTEXT_FIELDS, "location", "timestamp"],
        location="%(name)s.%(funcName)s:%(lineno)d", utc=True, use_rfc3339=True)


@contextlib.contextmanager
def scope(**fields: str | None) -> Iterator[None]:
    """A fresh context for one request or message; the previous one comes back afterwards."""
    token = _context.set(MappingProxyType(_present(fields)))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add fields (those not None or empty) to the current scope's context; outside a scope
    nothing happens, as the fields would outlive the request or message they describe."""
    current_fields = _context.get()
    if current_fields is not _NOTHING:
        _context.set(MappingProxyType({**current_fields, **_present(fields)}))


def current() -> Mapping[str, str]:
    """The fields every record logged now carries."""
    return _context.get()


def redact(text: str) -> str:
    """The text with signed URLs' queries, signing parameters and credentials replaced."""
    text = _SIGNED_URL.sub(rf"\1{REDACTED}", text)
    text = _SIGNING_PARAM.sub(rf"\1={REDACTED}", text)
    text = _TOKEN.sub(rf"\1\2{REDACTED}", text)
    return _JWT.sub(REDACTED, text)


class ContextFilter(logging.Filter):
    """Copies the context onto each record; a field given in `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the finished line, so messages, extras and tracebacks are all covered."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record))


class TextFormatter(logging.Formatter):
    """Human-readable lines for the local runtime, extras appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if not extras:
            return line
        head, newline, trace = line.partition("\n")  # keep a traceback below the fields
        return f"{head} [{extras}]{newline}{trace}"


def _extras(record: logging.LogRecord) -> dict[str, object]:
    fields = {k: v for k, v in vars(record).items()
              if k not in _STANDARD_ATTRS and not k.startswith("_") and v is not None}
    # Context first, in a fixed order, then whatever the call passed.
    return {**{k: fields.pop(k) for k in CONTEXT_FIELDS if k in fields}, **fields}


def _present(fields: Mapping[str, str | None]) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items() if v not in (None, "")}

"""Lazily created, cached boto3 clients: the only place that creates them."""
from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.connection import Connection

from chalicelib.config import get_settings

# botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx.
_RETRIES = {"max_attempts": 5, "mode": "standard"}


@functools.cache
def _session() -> boto3.session.Session:
    # Glint's own session, not boto3's process-wide default: that one caches credentials on
    # first use, so clients made after a reset would keep signing with the old ones.
    return boto3.session.Session()


def _client(service: str, region: str | None = None, **config: Any) -> Any:
    settings = get_settings()
    return _session().client(
        service,
        region_name=region or settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(retries=_RETRIES, **config),
    )


@functools.cache
def s3(region: str | None = None) -> Any:
    """S3 client (for a store in another region, that region's); SigV4 so presigned URLs
    sign headers, path style behind a custom endpoint."""
    addressing = "path" if get_settings().aws_endpoint_url else "auto"
    return _client(
        "s3",
        region,
        signature_version="s3v4",
        s3={"addressing_style": addressing},
        # Checksums only where S3 requires them, so presigned URLs carry no SDK-chosen CRC.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


@functools.cache
def sqs() -> Any:
    """SQS client."""
    return _client("sqs")


@functools.cache
def events() -> Any:
    """EventBridge client."""
    return _client("events")


@functools.cache
def secretsmanager() -> Any:
    """Secrets Manager client (service credentials, read lazily on first use)."""
    return _client("secretsmanager")


@functools.cache
def ecs() -> Any:
    """ECS client (starts the big-image engine's tasks)."""
    return _client("ecs")


def dynamodb_connection() -> Connection:
    """pynamodb's connection to this process's DynamoDB endpoint, for transactions (the
    models keep their own)."""
    settings = get_settings()
    return _dynamodb_connection(settings.region, settings.aws_endpoint_url)


@functools.cache
def _dynamodb_connection(region: str, host: str | None) -> Connection:
    # Kept: a new Connection builds a new botocore session and client (hundreds of
    # milliseconds per transaction); the client is thread-safe.
    return Connection(region=region, host=host)


def reset() -> None:
    """Forget cached clients and settings (tests switch endpoints between runs)."""
    for getter in (_session, s3, sqs, events, secretsmanager, ecs, _dynamodb_connection):
        getter.cache_clear()
    get_settings.cache_clear()

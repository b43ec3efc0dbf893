"""moto's server on loopback, and the environment that points boto3 and pynamodb at it."""
from __future__ import annotations

import functools
import os
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

from glint_local import moto_spill

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Never ask the instance-metadata address for credentials.
    "AWS_EC2_METADATA_DISABLED": "true",
}


# DynamoDB applies each write to an item atomically, its condition included. moto's server
# answers requests on threads and checks a condition without a lock, so two racing
# conditional writes (quota reservations, version checks) can both pass. Serializing moto's
# DynamoDB writes restores the guarantee; reentrant because transactions call the others.
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_WRITE_LOCK = threading.RLock()


def _serialize_dynamodb_writes() -> None:
    for name in _DYNAMODB_WRITES:
        write = getattr(DynamoDBBackend, name)
        if getattr(write, "serialized", False):
            continue

        @functools.wraps(write)
        def serialized(*args: Any, _write: Any = write, **kwargs: Any) -> Any:
            with _WRITE_LOCK:
                return _write(*args, **kwargs)

        serialized.serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialized)


def start(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server (with DynamoDB's per-item write atomicity); returns it and its
    endpoint URL."""
    _serialize_dynamodb_writes()
    moto_spill.install()  # object bodies stay on disk (big images)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def point_environment_at(endpoint: str) -> None:
    """Make every AWS client of this process use the embedded endpoint and fake credentials."""
    os.environ.update(FAKE_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

"""moto's server on loopback, and the environment that points boto3 and pynamodb at it."""
from __future__ import annotations

import functools
import os
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

from glint_local import (fast_dynamodb, indexed_dynamodb, inprocess_aws, item_backups,
                         moto_spill)
from glint_local.ports import PortUnavailable, require_free

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
# Transactions back up only their own items (glint_local.item_backups), under the same lock.
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def _serialize_dynamodb_writes() -> None:
    item_backups.install()
    for name in _DYNAMODB_WRITES:
        write = getattr(DynamoDBBackend, name)
        if getattr(write, "serialized", False):
            continue

        @functools.wraps(write)
        def serialized(*args: Any, _write: Any = write, **kwargs: Any) -> Any:
            with item_backups.WRITE_LOCK:
                return _write(*args, **kwargs)

        serialized.serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialized)


class _Server(ThreadedMotoServer):
    """moto's threaded server, except that a failed bind ends start() instead of leaving it
    waiting forever for a server thread that already died (werkzeug exits that thread)."""

    failed = False

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except (OSError, SystemExit):
            self.failed = True
            self._server_ready_event.set()


def start(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server (with DynamoDB's per-item write atomicity); returns it and its
    endpoint URL.

    Raises:
        PortUnavailable: it could not listen on host:port.
    """
    _serialize_dynamodb_writes()
    fast_dynamodb.install()
    indexed_dynamodb.install()
    moto_spill.install()  # object bodies stay on disk (big images)
    require_free(host, port, "Embedded AWS", "--aws-port")
    server = _Server(ip_address=host, port=port, verbose=False)
    server.start()
    if server.failed:
        raise PortUnavailable(f"Embedded AWS could not listen on {host}:{port}.")
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    inprocess_aws.route(endpoint)  # this process's own calls skip the HTTP hop
    return server, endpoint


def point_environment_at(endpoint: str) -> None:
    """Make every AWS client of this process use the embedded endpoint and fake credentials."""
    os.environ.update(FAKE_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

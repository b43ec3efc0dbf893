"""moto's server on loopback, and the environment that points boto3 and pynamodb at it."""
from __future__ import annotations

import os

from moto.server import ThreadedMotoServer

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Never ask the instance-metadata address for credentials.
    "AWS_EC2_METADATA_DISABLED": "true",
}


def start(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server; returns it and its endpoint URL."""
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def point_environment_at(endpoint: str) -> None:
    """Make every AWS client of this process use the embedded endpoint and fake credentials."""
    os.environ.update(FAKE_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

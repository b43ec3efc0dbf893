"""`python -m glint_local`: Glint on this machine, in the foreground, until Ctrl-C."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from glint_local import embedded_aws, metadefs_loader, ports

PROJECT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    stage_config = _apply_stage_environment("local")
    # EMF metric lines are for CloudWatch; here they would drown the log people read.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from chalicelib import logs
    logs.configure()  # text, unless GLINT_LOG_FORMAT=json
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    try:
        ports.require_free(args.host, args.port, "API", "--port")
        moto, endpoint = embedded_aws.start(args.host, args.aws_port)
    except ports.PortUnavailable as exc:
        print(f"glint_local: {exc}", file=sys.stderr)
        return 1
    embedded_aws.point_environment_at(endpoint)

    # Imported only now: settings and handlers read the environment set above.
    from chalice.config import Config

    from app import app
    from chalicelib import aws
    from chalicelib.config import get_settings
    from glint_local import http_front, provision
    from glint_local.pump import EventPump

    world = _deployed_world(args, endpoint)
    aws.reset()
    settings = get_settings()
    resources = provision.provision(settings, visibility_timeout=args.visibility_timeout)
    if args.metadefs:
        metadefs_loader.load(Path(args.metadefs))
    invoker = world.invoker if world else None
    if world:
        world.enforce()
    pump = EventPump(app, aws.sqs(), resources.queue_urls, settings.region, invoker=invoker)
    pump.start()
    try:
        server = http_front.serve(app, Config.create(chalice_stage="local",
                                                     config_from_disk=stage_config),
                                  args.host, args.port, invoker=invoker)
    except OSError as exc:  # taken since the check above
        print(f"glint_local: {ports.unavailable(args.host, args.port, 'API', '--port', exc)}",
              file=sys.stderr)
        pump.stop()
        moto.stop()
        return 1
    api = f"http://{args.host}:{server.server.server_address[1]}"
    provision.allow_upload_page(settings, api)
    print(_banner(api, endpoint), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    print("Stopping Glint...", flush=True)
    server.server.shutdown()
    pump.stop()
    if world:
        world.close()
    moto.stop()
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="glint_local", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("GLINT_HOST", "127.0.0.1"),
                        help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GLINT_PORT", "9292")),
                        help="API port (default 9292, Glance's)")
    parser.add_argument("--metadefs", default=str(metadefs_loader.DEFAULT_CATALOG),
                        help="metadef catalog directory loaded at start (default: Glint's "
                             "own catalog; '' for none)")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("GLINT_AWS_PORT", "9293")),
                        help="embedded AWS (moto) port (default 9293; 0 picks a free one)")
    parser.add_argument("--visibility-timeout", type=int, default=30,
                        help="import queue visibility timeout in seconds (a failed message "
                             "comes back after this long)")
    parser.add_argument("--enforce-iam", action="store_true",
                        help="run each function with its own role from the synthesized stack; "
                             "the embedded AWS enforces IAM")
    parser.add_argument("--lambda-limits", action="store_true",
                        help="give each function the stack's timeout, ephemeral storage and "
                             "memory (each function in execution-environment processes)")
    parser.add_argument("--template", type=Path,
                        help="the synthesized stack to model (default: synthesize it, ~1 min)")
    return parser.parse_args(argv)


def _deployed_world(args: argparse.Namespace, endpoint: str) -> Any:
    """The deployed stack's world (glint_local.deployed), or None for the plain runtime."""
    if not (args.enforce_iam or args.lambda_limits):
        return None
    import tempfile

    from chalicelib.config import get_settings
    from glint_local import deployed
    get_settings.cache_clear()
    return deployed.open_world(endpoint, get_settings(), Path(tempfile.mkdtemp(prefix="glint-")),
                               args.template, enforce_iam=args.enforce_iam,
                               limits=args.lambda_limits)


def _apply_stage_environment(stage: str) -> dict:
    """Set the stage's environment variables from .chalice/config.json, as `chalice local`
    does; variables already set in the environment win."""
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    variables = {**config.get("environment_variables", {}),
                 **config["stages"][stage].get("environment_variables", {})}
    for name, value in variables.items():
        os.environ.setdefault(name, value)
    return config


def _banner(api: str, aws_endpoint: str) -> str:
    return f"""
Glint is running.
  Images API v2:  {api}   (identity: X-Project-Id / X-Roles headers; default admin)
  Embedded AWS:   {aws_endpoint}   (moto: S3, DynamoDB, SQS, EventBridge)

Try a full upload (needs curl and jq):
  IMG=$(curl -s -X POST {api}/v2/images -H 'Content-Type: application/json' \\
        -d '{{"name": "demo", "disk_format": "raw", "container_format": "bare"}}' | jq -r .id)
  head -c 10485760 /dev/urandom > demo.img
  UPLOAD=$(curl -s -X POST {api}/v2/images/$IMG/uploads -H 'Content-Type: application/json' \\
        -d "{{\\"size\\": $(stat -c %s demo.img)}}")
  curl -s -X PUT --upload-file demo.img "$(echo "$UPLOAD" | jq -r .url)"
  sleep 2; curl -s {api}/v2/images/$IMG | jq '{{status, size, checksum, os_hash_value}}'
  curl -sL {api}/v2/images/$IMG/file -o back.img && cmp demo.img back.img && echo same bytes

Or with the upload client (parallel parts, resumable, verified):
  OS_ENDPOINT={api} OS_TOKEN=me:p1:member,reader glint upload demo.img --disk-format raw
In a browser: {api}/upload (token: me:p1:member,reader)

Ctrl-C stops it (all data lives in memory and goes with it).
"""


if __name__ == "__main__":
    sys.exit(main())

"""`glint upload` and `glint download`: multi-gigabyte image transfers straight to and from S3."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glint_client import hashing


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `glint` console script."""
    args = _parser().parse_args(argv)
    sha256_ahead = None
    if args.command == "upload" and not args.parent and Path(args.file).is_file():
        # Before the imports below and the API calls, which it overlaps (hashing.py says why).
        sha256_ahead = hashing.start(Path(args.file))
    from glint_client import commands  # requests and the rest: most of the start's imports
    return commands.run(args, sha256_ahead)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glint", description=__doc__)
    parser.add_argument("--os-endpoint", help="image API URL (default: OS_ENDPOINT, "
                        "OS_IMAGE_URL, OS_CLOUD's clouds.yaml entry, or Keystone's catalog)")
    parser.add_argument("--os-token", help="token (default: OS_TOKEN/OS_AUTH_TOKEN, or a "
                        "password login with OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, ...)")
    parser.add_argument("--api-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for each answer from the API (default 60)")
    commands = parser.add_subparsers(required=True, metavar="command")
    up = commands.add_parser("upload", help="upload a file (parallel parts, resumable) and "
                             "follow it to active")
    up.add_argument("file")
    up.add_argument("--image", help="upload into this existing image instead of creating one")
    up.add_argument("--name", help="image name (default: the file's name)")
    up.add_argument("--disk-format", help="raw, qcow2, vmdk, ... (needed to create an image)")
    up.add_argument("--container-format", default="bare")
    up.add_argument("--visibility", choices=("private", "shared", "community", "public"))
    up.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
    up.add_argument("--concurrency", type=int, default=4, help="parts in flight (default 4)")
    up.add_argument("--part-size", type=int, metavar="MIB", help="part size in MiB")
    up.add_argument("--parent", metavar="IMAGE_ID",
                    help="an active raw image this file was derived from: its unchanged "
                         "blocks are copied by Glint, only the changed ones are sent")
    up.add_argument("--resume", action="store_true",
                    help="only resume an interrupted upload of this file (the default resumes "
                         "one when there is one)")
    up.add_argument("--fresh", action="store_true", help="forget an interrupted upload")
    up.add_argument("--no-wait", action="store_true", help="do not follow verification")
    up.add_argument("--wait-timeout", type=float, default=3600.0, metavar="SECONDS")
    up.set_defaults(command="upload")
    down = commands.add_parser("download", help="download an image, verifying its digests")
    down.add_argument("image")
    down.add_argument("-o", "--output", help="file to write (default: IMAGE_ID.img)")
    down.set_defaults(command="download")
    return parser


if __name__ == "__main__":
    sys.exit(main())

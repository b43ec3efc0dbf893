"""`glint upload` and `glint download`: multi-gigabyte image transfers straight to and from S3."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from glint_client import settings
from glint_client.api import ApiError, ImageApi
from glint_client.download import VerificationFailed, download_image
from glint_client.progress import Progress, human
from glint_client.resume import StateFile
from glint_client.upload import SourceChanged, UploadFailed, upload_file, wait_until_settled

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `glint` console script."""
    args = _parser().parse_args(argv)
    try:
        connection = settings.resolve(args.os_endpoint, args.os_token)
        return args.run(ImageApi(connection), args)
    except settings.ConfigError as exc:
        print(f"glint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ApiError, SourceChanged, UploadFailed, VerificationFailed) as exc:
        print(f"glint: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nglint: interrupted; run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _upload(api: ImageApi, args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        print(f"glint: {source} is not a file", file=sys.stderr)
        return EXIT_USAGE
    state_file = StateFile(source)
    if args.fresh:
        state_file.remove()
    saved = state_file.load()
    image_id = args.image or (saved.image_id if saved and saved.endpoint == api.base else None)
    if args.resume and not image_id:
        print(f"glint: no interrupted upload of {source} to resume", file=sys.stderr)
        return EXIT_USAGE
    if not image_id:
        if not args.disk_format:
            print("glint: --disk-format is required to create an image", file=sys.stderr)
            return EXIT_USAGE
        image_id = api.create_image(_image_fields(args, source))["id"]
        print(f"created image {image_id}", file=sys.stderr)
    sent = upload_file(api, source, image_id, state_file, concurrency=args.concurrency,
                       part_size=args.part_size * 1024 * 1024 if args.part_size else None,
                       progress=Progress("upload", source.stat().st_size))
    print(f"sent {sent.parts_sent} part(s), {human(sent.bytes_sent)}; kept {sent.parts_kept} "
          f"from before; sha256 {sent.sha256}", file=sys.stderr)
    if args.no_wait:
        print(image_id)
        return 0
    image = wait_until_settled(api, image_id, args.wait_timeout,
                               on_status=lambda s: print(f"status: {s}", file=sys.stderr))
    if image["status"] == "active":
        print(image_id)
        return 0
    reason = image.get("os_glint_import_error") or image.get("os_glance_failed_import") or ""
    print(f"glint: image {image_id} is {image['status']}"
          + (f": {reason}" if reason else " (verification still running)"), file=sys.stderr)
    return EXIT_FAILED


def _download(api: ImageApi, args: argparse.Namespace) -> int:
    target = Path(args.output or f"{args.image}.img")
    image = download_image(api, args.image, target)
    print(f"{target}: {image.get('size')} bytes, md5 and {image.get('os_hash_algo')} verified",
          file=sys.stderr)
    return 0


def _image_fields(args: argparse.Namespace, source: Path) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": args.name or source.name, "disk_format": args.disk_format,
                              "container_format": args.container_format}
    if args.visibility:
        fields["visibility"] = args.visibility
    for prop in args.property:
        key, sep, value = prop.partition("=")
        if not sep:
            raise settings.ConfigError(f"--property takes key=value, not {prop!r}")
        fields[key] = value
    return fields


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glint", description=__doc__)
    parser.add_argument("--os-endpoint", help="image API URL (default: OS_ENDPOINT, "
                        "OS_IMAGE_URL, OS_CLOUD's clouds.yaml entry, or Keystone's catalog)")
    parser.add_argument("--os-token", help="token (default: OS_TOKEN/OS_AUTH_TOKEN, or a "
                        "password login with OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, ...)")
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
    up.add_argument("--resume", action="store_true",
                    help="only resume an interrupted upload of this file (the default resumes "
                         "one when there is one)")
    up.add_argument("--fresh", action="store_true", help="forget an interrupted upload")
    up.add_argument("--no-wait", action="store_true", help="do not follow verification")
    up.add_argument("--wait-timeout", type=float, default=3600.0, metavar="SECONDS")
    up.set_defaults(run=_upload)
    down = commands.add_parser("download", help="download an image, verifying its digests")
    down.add_argument("image")
    down.add_argument("-o", "--output", help="file to write (default: IMAGE_ID.img)")
    down.set_defaults(run=_download)
    return parser


if __name__ == "__main__":
    sys.exit(main())

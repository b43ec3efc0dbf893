"""What `glint upload` and `glint download` do, once `cli` has parsed the command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from glint_client import settings
from glint_client.api import ApiError, ImageApi
from glint_client.download import VerificationFailed, download_image
from glint_client.errors import SourceChanged, UploadFailed
from glint_client.hashing import Sha256Ahead
from glint_client.progress import Progress, human
from glint_client.resume import StateFile
from glint_client.upload import upload_file, wait_until_settled

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def run(args: argparse.Namespace, sha256_ahead: Sha256Ahead | None = None) -> int:
    """Carry out the parsed command; the exit status. `sha256_ahead` hashes the upload's
    source since the command started."""
    try:
        connection = settings.resolve(args.os_endpoint, args.os_token)
        api = ImageApi(connection, timeout=args.api_timeout)
        if args.command == "upload":
            return _upload(api, args, sha256_ahead)
        return _download(api, args)
    except settings.ConfigError as exc:
        print(f"glint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ApiError, SourceChanged, UploadFailed, VerificationFailed) as exc:
        print(f"glint: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nglint: interrupted; run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if sha256_ahead:
            sha256_ahead.stop()  # the upload never asked for it, or has its digest


def _upload(api: ImageApi, args: argparse.Namespace, sha256_ahead: Sha256Ahead | None) -> int:
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
                       progress=Progress("upload", source.stat().st_size), parent=args.parent,
                       sha256_ahead=sha256_ahead)
    print(f"sent {sent.parts_sent} part(s), {human(sent.bytes_sent)}; kept {sent.parts_kept} "
          f"from before; sha256 {sent.sha256}", file=sys.stderr)
    if args.parent:
        size = source.stat().st_size
        print(f"reused {human(sent.bytes_reused)} from parent {args.parent} "
              f"({100 * sent.bytes_reused / max(size, 1):.1f}% of {human(size)})",
              file=sys.stderr)
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

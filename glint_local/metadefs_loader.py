"""`python -m glint_local.metadefs_loader DIR`: load Glance-format metadef catalog files into a
running local Glint (through its embedded AWS endpoint). Safe to run again: unchanged
namespaces are left alone, changed ones replaced whole. Glance's own catalog files load
unchanged. The local runtime loads Glint's default catalog (DEFAULT_CATALOG) at start."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glint_local import embedded_aws

log = logging.getLogger(__name__)
# Glint's own catalog, covering the common resource types (images, volumes, volume types,
# flavors, servers, aggregates); shipped with the functions for deployed stages too.
DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "chalicelib" / "metadefs_catalog"


def read_catalog(directory: Path) -> list[dict[str, Any]]:
    """Every `*.json` namespace document in the directory, by file name.

    Raises:
        ValueError: a file is not JSON or not a namespace document (the file is named).
    """
    documents = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(document, dict) or "namespace" not in document:
            raise ValueError(f"{path}: not a metadef namespace document")
        documents.append(_without_stray_defaults(path, document))
    return documents


def load(directory: Path, owner: str = "admin") -> dict[str, list[str]]:
    """Load a catalog directory in this process (its AWS endpoint already configured).

    Raises:
        ValueError: a file is not a namespace document.
        GlintError: a namespace is invalid (nothing after it is loaded).
    """
    from chalicelib.domain.context import RequestContext
    from chalicelib.services.metadefs import import_catalog

    ctx = RequestContext(project_id=owner, user_id="metadefs-loader",
                         roles=frozenset({"admin"}), request_id="metadefs-loader")
    return import_catalog(ctx, read_catalog(directory))


def _without_stray_defaults(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    # Glance loads a default that its own enum does not allow (software-databases.json has
    # one: sw_database_oracle_edition defaults to "Express"); Glint loads such a property
    # without the default, which no client could ever set, and says so.
    for name, definition in _definitions(document):
        enum = definition.get("enum")
        if isinstance(enum, list) and "default" in definition and \
                definition["default"] not in enum:
            log.warning("%s: property %s: default %r is not one of its enum values; loaded "
                        "without a default", path.name, name, definition.pop("default"))
    return document


def _definitions(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    groups = [document.get("properties")] + [o.get("properties") for o in
                                             document.get("objects") or [] if isinstance(o, dict)]
    for group in groups:
        if isinstance(group, dict):
            yield from ((n, d) for n, d in group.items() if isinstance(d, dict))


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="metadefs_loader: %(message)s")
    embedded_aws.point_environment_at(args.aws_endpoint)
    # Imported only now: settings and clients read the environment set above.
    from chalicelib import aws
    from chalicelib.domain.errors import GlintError

    aws.reset()
    try:
        summary = load(Path(args.directory), args.owner)
    except GlintError as exc:
        print(f"metadefs_loader: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="glint_local.metadefs_loader", description=__doc__)
    parser.add_argument("directory", help="directory of *.json files in Glance's metadef format")
    port = os.environ.get("GLINT_AWS_PORT", "9293")
    parser.add_argument("--aws-endpoint", default=f"http://127.0.0.1:{port}",
                        help="the running local Glint's embedded AWS endpoint "
                             "(default http://127.0.0.1:$GLINT_AWS_PORT or :9293)")
    parser.add_argument("--owner", default="admin",
                        help="project owning namespaces whose file names no owner (default admin)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())

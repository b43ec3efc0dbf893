"""`python -m glint_local.metadefs_loader DIR`: load Glance-format metadef catalog files into a
running local Glint (through its embedded AWS endpoint). Safe to run again: unchanged
namespaces are left alone, changed ones replaced whole."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from glint_local import embedded_aws


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
        documents.append(document)
    return documents


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    documents = read_catalog(Path(args.directory))
    embedded_aws.point_environment_at(args.aws_endpoint)
    # Imported only now: settings and clients read the environment set above.
    from chalicelib import aws
    from chalicelib.domain.context import RequestContext
    from chalicelib.domain.errors import GlintError
    from chalicelib.services.metadefs import import_catalog

    aws.reset()
    ctx = RequestContext(project_id=args.owner, user_id="metadefs-loader",
                         roles=frozenset({"admin"}), request_id="metadefs-loader")
    try:
        summary = import_catalog(ctx, documents)
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

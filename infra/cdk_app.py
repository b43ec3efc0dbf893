"""CDK entry point: `cdk deploy -c stage=dev` (or `python cdk_app.py` to synth without the CLI)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# The stack reads chalicelib (names, topology, table schema), which lives at the repo root.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402

from glint_infra import stage  # noqa: E402


def main() -> None:
    # Chalice's packager spells service principals from a region's DNS suffix; the stack
    # itself stays environment-agnostic.
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("CDK_DEFAULT_REGION", "us-east-1"))
    app = cdk.App()
    environment = app.node.try_get_context("environment") or {}
    deployment = stage.activate(REPO_ROOT, app.node.try_get_context("stage"),
                                app.node.try_get_context("resource_prefix"),
                                # `-c environment='{...}'` arrives as a JSON string.
                                json.loads(environment) if isinstance(environment, str)
                                else environment)
    # Imported after activate(): chalicelib reads GLINT_* once, on first use.
    from glint_infra import functions
    from glint_infra.stack import GlintStack
    GlintStack(app, deployment, source_dir=REPO_ROOT,
               allowed_origins=app.node.try_get_context("allowed_origins") or "*",
               # `-c bundle=false`: template only, no Lambda wheels fetched (tests, linting).
               with_dependencies=app.node.try_get_context("bundle") not in (False, "false"),
               worker_concurrency=int(app.node.try_get_context("worker_concurrency")
                                      or functions.WORKER_MAX_CONCURRENCY),
               # Only once the stack exists: a failed first create must be able to drop them.
               protect_tables=app.node.try_get_context("protect_tables") in (True, "true"))
    app.synth()


if __name__ == "__main__":
    main()

"""The big-image engine's entry point:
`python -m chalicelib.pipeline.engine_task --image-id ID --key KEY`.

The container task (ECS Fargate, deployed) and the local runtime (a child process) both run
this. It takes over the claim the worker handed it, renews it, and runs the same import as
the worker function would, with no time limit and the task's own disk for conversions. It is
the last attempt: an unexpected error fails the import with its reason (nothing retries)."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace

from chalicelib import logs
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound, StaleWrite
from chalicelib.domain.image import Image, Status, new_claim
from chalicelib.engine.jobs import Job
from chalicelib.pipeline import run

log = logging.getLogger(__name__)


def run_job(job: Job, clock: run.Clock = time.time) -> run.Outcome:
    """Import the image the job names, if its claim is still the one handed over."""
    image = _take_over(job, clock)
    if image is None:
        log.info("engine job no longer current", extra={"image_id": job.image_id})
        return run.Outcome.IGNORED
    try:
        return run.import_claimed(image, clock)
    except Exception as exc:
        log.exception("engine job failed", extra={"image_id": job.image_id})
        _fail(job, f"Import failed in the big-image engine: {exc!r}")
        return run.Outcome.REJECTED


def _take_over(job: Job, clock: run.Clock) -> Image | None:
    try:
        image = image_db.get(job.image_id)
    except NotFound:
        return None
    if image.status is not Status.IMPORTING or image.upload is None or image.upload.key != job.key:
        return None
    lease = new_claim(job.key, clock() + get_settings().import_lease_seconds)
    try:  # the container may have taken a while to start: renew before any work
        return image_db.save(replace(image, claim=lease))
    except StaleWrite:
        return None


def _fail(job: Job, reason: str) -> None:
    try:
        image = image_db.get(job.image_id)
    except NotFound:
        return
    if image.upload is not None and image.upload.key == job.key:
        run.fail_import(image, reason)


def main(argv: list[str] | None = None) -> int:
    """Run one job; the exit status is 0 unless the job could not even be read."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.pipeline.engine_task")
    parser.add_argument("--image-id", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args(argv)
    logs.configure()
    outcome = run_job(Job(args.image_id, args.key))
    log.info("engine job done", extra={"image_id": args.image_id, "outcome": str(outcome)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the import worker on SQS messages in a fresh process and print its peak RSS as JSON:
`python -m tests.bench.worker_process MESSAGES.json` (or `--idle` for the baseline: the same
imports, no work). The environment points the process at the benchmark's moto server."""
from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> None:
    from chalice.test import Client

    from app import app
    from glint_local.pump import sqs_event
    started = time.perf_counter()
    if argv[1] != "--idle":
        messages = json.loads(open(argv[1]).read())
        with Client(app, stage_name="local") as client:
            for message in messages:
                client.lambda_.invoke("import_worker",
                                      sqs_event([message], "arn:aws:sqs:bench", "us-east-1"))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": peak_kib / 1024, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv)

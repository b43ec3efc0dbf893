"""The big-image engine, locally: each job runs the engine's entry point in a child process,
as ECS runs it in a container (same module, same arguments, the same embedded AWS)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from chalicelib.engine.jobs import Job

log = logging.getLogger(__name__)
_PROJECT = Path(__file__).resolve().parents[1]


def launch(job: Job) -> subprocess.Popen[bytes]:
    """Start `python -m chalicelib.pipeline.engine_task` for `job`; a thread reaps it."""
    process = subprocess.Popen([sys.executable, "-m", "chalicelib.pipeline.engine_task", *job.command()],
                               cwd=_PROJECT, env=dict(os.environ), stdin=subprocess.DEVNULL)
    log.info("engine job started", extra={"image_id": job.image_id, "pid": process.pid})
    threading.Thread(target=process.wait, name=f"engine-{job.image_id}", daemon=True).start()
    return process

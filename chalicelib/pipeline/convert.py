"""Disk-format conversion with qemu-img, confined: the inspected source format is always
named (qemu never guesses), backing files are never opened, and the process runs under CPU,
memory, output-size and wall-clock limits. Takes and returns paths; no AWS here."""
from __future__ import annotations

import functools
import json
import logging
import resource
import signal
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.errors import ImageRejected
from chalicelib.domain.uploads import GIB
from chalicelib.pipeline import inspect

log = logging.getLogger(__name__)

# Inspector (and disk_format) names -> qemu's block drivers. qemu calls VHD "vpc"; a disk
# with a partition table is raw bytes to qemu. ISO is absent on purpose: it is install
# media, not a disk to convert.
QEMU_DRIVERS = {"raw": "raw", "gpt": "raw", "qcow2": "qcow2", "vhd": "vpc", "vhdx": "vhdx",
                "vmdk": "vmdk", "vdi": "vdi"}
_QEMU_IMG = "qemu-img"
# qemu-img convert needs far less; a hostile image that makes it balloon dies instead.
_DEFAULT_MAX_MEMORY = GIB


class ConverterUnavailable(ImageRejected):
    """qemu-img cannot be run here (not installed, not executable): an environment fault
    that no retry would mend, so the import fails once with this reason."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one qemu-img run."""

    timeout_seconds: int
    max_output_bytes: int
    max_memory_bytes: int = _DEFAULT_MAX_MEMORY


def targets(detected: str, declared: str, wanted: Iterable[str]) -> tuple[str, ...]:
    """The formats to convert an inspected image to: each wanted one it is not already in.

    Raises:
        ValueError: a wanted format is not one qemu-img can write.
    """
    unknown = [fmt for fmt in wanted if fmt not in QEMU_DRIVERS or fmt == "gpt"]
    if unknown:
        raise ValueError(f"cannot convert to {', '.join(unknown)}")
    if detected not in QEMU_DRIVERS:
        return ()
    have = {declared, detected}
    return tuple(fmt for fmt in dict.fromkeys(wanted) if fmt not in have)


def convert(source: Path, source_format: str, target_format: str, output: Path,
            limits: Limits) -> Path:
    """Write `source` (in its inspected format) to `output` in `target_format`.

    Raises:
        ImageRejected: the source is not that format alone or is unsafe; or qemu-img failed,
            or hit a time, CPU, memory or output-size limit.
        ConverterUnavailable: qemu-img is missing or cannot be executed.
    """
    # qemu opens whatever a VMDK descriptor names as extents, whatever we tell it about
    # backing files: never hand it a file that has not passed inspection as this format.
    inspect.check_file(source, source_format)
    args = [_QEMU_IMG, "convert", "-q", "-f", QEMU_DRIVERS[source_format],
            "-O", QEMU_DRIVERS[target_format], _source_spec(source), str(output)]
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False,
                              timeout=limits.timeout_seconds, stdin=subprocess.DEVNULL,
                              preexec_fn=functools.partial(_confine, limits))
    except subprocess.TimeoutExpired as exc:
        output.unlink(missing_ok=True)
        raise ImageRejected(f"Conversion to {target_format} took longer than "
                            f"{limits.timeout_seconds} s and was stopped.") from exc
    except OSError as exc:  # the exec itself failed: no such binary, not executable
        raise ConverterUnavailable(f"Conversion to {target_format} is not possible here: "
                                   f"{_QEMU_IMG} could not be run ({exc.strerror or exc}).") from exc
    if done.returncode != 0:
        output.unlink(missing_ok=True)
        log.warning("qemu-img convert failed", extra={"returncode": done.returncode,
                                                      "stderr": done.stderr[-2000:]})
        raise ImageRejected(f"Conversion to {target_format} failed: "
                            f"{_why(done.returncode, done.stderr, limits)}.")
    return output


def _source_spec(source: Path) -> str:
    # qemu's json: syntax opens the path with the plain file driver (no protocol guessing
    # from the name) and "backing": null stops qemu from ever opening a backing file.
    # -f still names the format: the json object only describes the node below it.
    spec = {"file": {"driver": "file", "filename": str(source.resolve())}, "backing": None}
    return "json:" + json.dumps(spec)


def _confine(limits: Limits) -> None:
    """Runs in the child before exec: the kernel enforces the limits from there on."""
    cpu = limits.timeout_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_output_bytes, limits.max_output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _why(returncode: int, stderr: str, limits: Limits) -> str:
    # qemu-img mostly sees EFBIG from the file-size limit; a plain write dies of SIGXFSZ.
    if returncode == -signal.SIGXFSZ or "File too large" in stderr:
        return f"the output would exceed {limits.max_output_bytes} bytes"
    if returncode == -signal.SIGXCPU:
        return f"it used more than {limits.timeout_seconds} s of CPU time"
    lines = [line for line in stderr.strip().splitlines() if line]
    return lines[-1].removeprefix("qemu-img: ") if lines else f"qemu-img exited {returncode}"

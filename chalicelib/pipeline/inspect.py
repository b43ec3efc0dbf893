"""Disk-format inspection of an upload, fed chunk by chunk during the hashing pass.

Every inspector of oslo.utils (the code Glance, Nova and Cinder share) sees every chunk: the
set is never narrowed to the declared format, so a mislabelled upload or a polyglot (two
formats in one file) is caught. Whatever was declared, every format an inspector recognises
must pass that format's safety checks, and a parser that breaks after it has recognised its
format means an unsafe structure, never "not this format". Then the verdict checks the
detected format against an allow-list and the declared `disk_format`, and bounds the virtual
size. No AWS here."""
from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from oslo_utils.imageutils import format_inspector

from chalicelib.domain.errors import ImageRejected

log = logging.getLogger(__name__)
_FILE_CHUNK = 1024 * 1024

_RAW_LIKE = frozenset({"raw", "gpt"})  # gpt stands for any partition table, MBR included
# What each declared disk_format may turn out to be (inspector names). Raw bytes may start
# with a partition table; Glance's ami/ari/aki are raw bytes; ploop has no inspector, so
# only "no known format" passes for it.
ACCEPTED: Mapping[str, frozenset[str]] = MappingProxyType({
    "raw": _RAW_LIKE, "ami": _RAW_LIKE, "ari": _RAW_LIKE, "aki": _RAW_LIKE,
    "qcow2": frozenset({"qcow2"}), "vhd": frozenset({"vhd"}), "vhdx": frozenset({"vhdx"}),
    "vmdk": frozenset({"vmdk"}), "vdi": frozenset({"vdi"}), "iso": frozenset({"iso"}),
    "ploop": frozenset({"raw"}),
})
# The allow-list: anything else the inspectors recognise (qed, luks) is refused outright.
ALLOWED_FORMATS = frozenset().union(*ACCEPTED.values())
# Polyglots Glance tolerates, and what they count as: a hybrid ISO carries a partition table.
_TOLERATED_POLYGLOTS: Mapping[frozenset[str], str] = MappingProxyType({
    frozenset({"iso", "gpt"}): "iso",
})


@dataclass(frozen=True, slots=True)
class Inspection:
    """What the bytes are: the detected format (inspector name) and the disk's virtual size."""

    format: str
    virtual_size: int | None


class StreamInspector:
    """Runs every format inspector over a stream; call `eat` per chunk, then `verdict`."""

    def __init__(self, disk_format: str, max_virtual_size: int) -> None:
        self._declared = disk_format
        self._max_virtual_size = max_virtual_size
        self._live = {name: cls() for name, cls in format_inspector.ALL_FORMATS.items()}
        self._gave_up: dict[str, str] = {}  # inspector name -> why it stopped parsing
        self._broken: dict[str, str] = {}  # recognised, then its parser broke -> why

    def eat(self, chunk: bytes) -> None:
        """Show the next chunk of the stream to every inspector still in the running."""
        for name, inspector in list(self._live.items()):
            try:
                inspector.eat_chunk(chunk)
            # Hostile input can break a parser anywhere (struct, index, format errors).
            # Before the inspector recognised its format that means "not this format", as in
            # oslo's InspectWrapper; after, a structure a tool would read cannot be checked.
            except Exception as exc:  # noqa: BLE001
                if _recognised(inspector):
                    self._broken[name] = str(exc) or type(exc).__name__
                    del self._live[name]
                else:
                    self._drop(name, exc)

    def verdict(self) -> Inspection:
        """The format and virtual size of the whole stream, once it has all been eaten.

        Raises:
            ImageRejected: the format is not allowed, not the declared one, ambiguous, unsafe,
                or its virtual size is above the limit.
        """
        for inspector in self._live.values():
            inspector.finish()
        if self._broken:
            name, why = min(self._broken.items())
            raise ImageRejected(f"Image rejected: the data is in the {name} format, but its "
                                f"structure is unsafe and cannot be checked ({why}).")
        matches = frozenset(name for name in list(self._live)
                            if name != "raw" and self._matches(name))
        refused = sorted(matches - ALLOWED_FORMATS)
        if refused:
            raise ImageRejected(f"Image rejected: the data is in the {refused[0]} format, "
                                "which this cloud does not accept.")
        for name in sorted(matches):  # whatever was declared, and in each of a polyglot's
            _safety_check(self._live[name])
        detected = self._detected(matches)
        if detected not in ACCEPTED.get(self._declared, frozenset({self._declared})):
            raise ImageRejected(self._mismatch(detected))
        inspector = self._live[detected]
        if detected not in matches:
            _safety_check(inspector)
        virtual_size = inspector.virtual_size or None  # 0 means "not known" to the inspectors
        if virtual_size is not None and virtual_size > self._max_virtual_size:
            raise ImageRejected(f"Image rejected: its virtual size of {virtual_size} bytes is "
                                f"above this cloud's limit of {self._max_virtual_size} bytes.")
        return Inspection(format=detected, virtual_size=virtual_size)

    def _detected(self, matches: frozenset[str]) -> str:
        if not matches:
            return "raw"  # nothing specific recognised: plain bytes
        if len(matches) == 1:
            return next(iter(matches))
        if matches in _TOLERATED_POLYGLOTS:
            return _TOLERATED_POLYGLOTS[matches]
        raise ImageRejected("Image rejected: the data is valid in more than one format at once "
                            f"({', '.join(sorted(matches))}); such polyglot files are unsafe.")

    def _matches(self, name: str) -> bool:
        try:
            return bool(self._live[name].format_match)
        except Exception as exc:  # noqa: BLE001 - hostile input, as in eat()
            self._drop(name, exc)
            return False

    def _drop(self, name: str, exc: Exception) -> None:
        del self._live[name]
        self._gave_up[name] = str(exc) or type(exc).__name__

    def _mismatch(self, detected: str) -> str:
        declared = self._declared
        if detected != "raw":
            return (f"Image rejected: disk_format is '{declared}', but the data is in the "
                    f"{detected} format.")
        why = self._gave_up.get(declared)
        detail = f" ({why})" if why else ""
        return (f"Image rejected: disk_format is '{declared}', but the data is not in that "
                f"format{detail}.")


def inspect(chunks: Iterable[bytes], disk_format: str, max_virtual_size: int) -> Inspection:
    """Inspect a whole stream at once (see StreamInspector).

    Raises:
        ImageRejected: as StreamInspector.verdict.
    """
    inspector = StreamInspector(disk_format, max_virtual_size)
    for chunk in chunks:
        inspector.eat(chunk)
    return inspector.verdict()


def check_file(path: Path, disk_format: str) -> None:
    """Inspect a local file again, whole, just before a tool such as qemu-img opens it.

    Raises:
        ImageRejected: it is not (only) `disk_format`, or it fails a safety check.
    """
    with path.open("rb") as file:
        inspect(iter(functools.partial(file.read, _FILE_CHUNK), b""), disk_format, sys.maxsize)


def _recognised(inspector: format_inspector.FileInspector) -> bool:
    """True when the inspector has recognised its format in what it read so far."""
    try:
        return bool(inspector.format_match)
    except Exception:  # noqa: BLE001 - a broken parser cannot tell
        return False


def _safety_check(inspector: format_inspector.FileInspector) -> None:
    try:
        inspector.safety_check()
    except format_inspector.SafetyCheckFailed as exc:
        failures = "; ".join(f"{name}: {reason}" for name, reason in sorted(exc.failures.items()))
        log.warning("image failed safety checks", extra={"format": str(inspector),
                                                         "failures": sorted(exc.failures)})
        raise ImageRejected(f"Image rejected: the {_label(inspector)} failed safety checks "
                            f"({failures}).") from exc
    except format_inspector.ImageFormatError as exc:
        raise ImageRejected(f"Image rejected: the {_label(inspector)} cannot be checked "
                            f"({exc}).") from exc


def _label(inspector: format_inspector.FileInspector) -> str:
    # The gpt inspector checks any partition table, MBR included.
    return "partition table (GPT/MBR)" if str(inspector) == "gpt" else f"{inspector} data"

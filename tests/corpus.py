"""A corpus of small disk images, good and hostile, built with qemu-img (Debian's qemu-utils).

Every image is a few MiB at most and sparse. Hostile images point at host files: /etc/hostname,
and a file of the corpus full of HOST_SECRET, so a test can assert that those bytes never
appear in anything Glint produces."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
TIB = 1024 ** 4
HOST_SECRET = b"GLINT-HOST-FILE-SECRET-5f0c2b9e" * 128
# Recognisable data at the start of the good images, so conversions carry real content.
PAYLOAD = b"glint-corpus-payload-" * 3000
# Sample names, for parametrizing tests before the corpus is built.
GOOD = ["raw", "mbr", "iso", "qcow2", "vhd", "vhdx", "vdi", "vmdk-sparse", "vmdk-stream"]
HOSTILE = ["qcow2-backing-hostname", "qcow2-backing-file", "qcow2-data-file",
           "qcow2-unknown-feature", "qcow2-huge", "vmdk-extent-host-path",
           "vmdk-flat-descriptor", "qcow2-declared-raw", "raw-declared-qcow2",
           "iso-qcow2-polyglot", "mbr-broken", "qed",
           # Unsafe in a format other than the declared one: rejected as unsafe all the same.
           "qcow2-backing-declared-raw", "vmdk-broken-declared-raw",
           "vhdx-broken-declared-raw", "iso-broken-mbr"]


@dataclass(frozen=True)
class Sample:
    """One corpus image and what Glint must make of it."""

    name: str
    path: Path
    disk_format: str  # what the uploader declares
    detected: str | None = None  # the inspector's name for it, when accepted
    rejection: str | None = None  # a fragment of the reason, when rejected

    @property
    def virtual_size(self) -> int:
        """What qemu-img itself says (for raw bytes, the file's length)."""
        return qemu_info(self.path, qemu_driver(self.detected or "raw"))["virtual-size"]


def qemu_img_missing() -> str | None:
    """Why the corpus cannot be built here, or None."""
    if shutil.which("qemu-img"):
        return None
    return "qemu-img not found: install Debian's qemu-utils (scripts/test does so as root)"


def qemu_driver(inspector_name: str) -> str:
    """qemu's name for a format (qemu calls VHD 'vpc' and reads ISO and GPT disks as raw)."""
    return {"vhd": "vpc", "iso": "raw", "gpt": "raw"}.get(inspector_name, inspector_name)


def qemu_info(path: Path, driver: str) -> dict:
    """`qemu-img info` of a trusted image, as JSON."""
    out = _qemu("info", "--output=json", "-f", driver, str(path))
    return json.loads(out)


def build(directory: Path) -> dict[str, Sample]:
    """Build every corpus image under `directory`; returns them by name."""
    raw = directory / "disk.raw"
    with raw.open("wb") as f:
        f.truncate(4 * MIB)
        f.write(PAYLOAD)
    good = [Sample("raw", raw, "raw", "raw"),
            Sample("mbr", _mbr(directory / "mbr.raw", boot_flag=0x80), "raw", "gpt"),
            Sample("iso", _iso(directory / "disk.iso"), "iso", "iso")]
    for name, driver, options in [("qcow2", "qcow2", []), ("vhd", "vpc", []),
                                  ("vhdx", "vhdx", []), ("vdi", "vdi", []),
                                  ("vmdk-sparse", "vmdk", ["-o", "subformat=monolithicSparse"]),
                                  ("vmdk-stream", "vmdk", ["-o", "subformat=streamOptimized"])]:
        path = directory / f"disk.{name}"
        _qemu("convert", "-f", "raw", "-O", driver, *options, str(raw), str(path))
        fmt = name.split("-")[0]
        good.append(Sample(name, path, fmt, fmt))
    samples = {s.name: s for s in good}
    secret = directory / "host-secret"
    secret.write_bytes(HOST_SECRET)
    for sample in _hostile(directory, samples, secret):
        samples[sample.name] = sample
    return samples


def _hostile(directory: Path, good: dict[str, Sample], secret: Path) -> list[Sample]:
    hostname = directory / "backing-hostname.qcow2"
    _qemu("create", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", str(hostname), "4M")
    backing = directory / "backing.qcow2"
    _qemu("create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(backing), "4M")
    data_file = directory / "data-file.qcow2"
    _qemu("create", "-f", "qcow2", "-o", f"data_file={directory / 'external.raw'}",
          str(data_file), "4M")
    huge = directory / "huge.qcow2"
    _qemu("create", "-f", "qcow2", str(huge), str(3 * TIB))
    qed = directory / "disk.qed"
    _qemu("create", "-f", "qed", str(qed), "4M")
    return [
        Sample("qcow2-backing-hostname", hostname, "qcow2", rejection="backing file"),
        Sample("qcow2-backing-file", backing, "qcow2", rejection="backing file"),
        Sample("qcow2-data-file", data_file, "qcow2", rejection="data_file"),
        Sample("qcow2-unknown-feature", _unknown_feature(good["qcow2"].path, directory),
               "qcow2", rejection="unknown_features"),
        Sample("qcow2-huge", huge, "qcow2", rejection="above this cloud's limit"),
        Sample("vmdk-extent-host-path",
               _vmdk_host_extent(good["vmdk-sparse"].path, directory, secret), "vmdk",
               rejection="Invalid extent filenames"),
        Sample("vmdk-flat-descriptor", _vmdk_flat_descriptor(directory, secret), "vmdk",
               rejection="Unsupported subformat"),
        Sample("qcow2-declared-raw", good["qcow2"].path, "raw",
               rejection="but the data is in the qcow2 format"),
        Sample("raw-declared-qcow2", good["raw"].path, "qcow2", rejection="not in that format"),
        Sample("iso-qcow2-polyglot", _polyglot(good["qcow2"].path, directory), "qcow2",
               rejection="more than one format"),
        Sample("mbr-broken", _mbr(directory / "broken-mbr.raw", boot_flag=0x42), "raw",
               rejection="invalid boot flag"),
        Sample("qed", qed, "qcow2", rejection="does not accept"),
        Sample("qcow2-backing-declared-raw", backing, "raw", rejection="backing file"),
        # A recognised header whose parser then breaks: unsafe, never "not this format".
        Sample("vmdk-broken-declared-raw", _patch(
            _copy(good["vmdk-sparse"].path, directory / "broken.vmdk"), 28,
            struct.pack("<Q", 2)), "raw", rejection="vmdk format, but its structure is unsafe"),
        Sample("vhdx-broken-declared-raw", _patch(
            _copy(good["vhdx"].path, directory / "broken.vhdx"), 192 * 1024, b"xxxx"), "raw",
               rejection="vhdx format, but its structure is unsafe"),
        # A hybrid ISO is tolerated, but each of its formats must pass its own checks.
        Sample("iso-broken-mbr", _hybrid(good["iso"].path, directory / "broken-mbr.raw",
                                         directory), "iso", rejection="invalid boot flag"),
    ]


def _qemu(*args: str) -> str:
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def _copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def _patch(path: Path, offset: int, data: bytes) -> Path:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(data)
    return path


def _mbr(path: Path, boot_flag: int) -> Path:
    """A raw disk with one Linux partition in its MBR (`boot_flag` other than 0/0x80 is invalid)."""
    with path.open("wb") as f:
        f.truncate(2 * MIB)
    entry = struct.pack("<B3BB3BII", boot_flag, 0, 2, 0, 0x83, 0, 0, 0, 2048, 2048)
    _patch(path, 446, entry)
    return _patch(path, 510, b"\x55\xaa")


def _iso(path: Path) -> Path:
    """A minimal ISO 9660 image: a primary volume descriptor and a terminator, 1 MiB long."""
    blocks = MIB // 2048
    pvd = bytearray(2048)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[80:88] = struct.pack("<I", blocks) + struct.pack(">I", blocks)
    pvd[128:132] = struct.pack("<H", 2048) + struct.pack(">H", 2048)
    with path.open("wb") as f:
        f.truncate(MIB)
    _patch(path, 16 * 2048, bytes(pvd))
    return _patch(path, 17 * 2048, b"\xffCD001\x01")


def _hybrid(iso: Path, broken_mbr: Path, directory: Path) -> Path:
    """An ISO whose first sector is a (here invalid) MBR, as on hybrid boot media."""
    path = directory / "hybrid-broken-mbr.iso"
    path.write_bytes(broken_mbr.read_bytes()[:512] + iso.read_bytes()[512:])
    return path


def _polyglot(qcow2: Path, directory: Path) -> Path:
    """A valid qcow2 that is also a valid ISO (its primary volume descriptor at 32 KiB)."""
    iso_head = _iso(directory / "for-polyglot.iso").read_bytes()[16 * 2048:18 * 2048]
    return _patch(_copy(qcow2, directory / "polyglot.qcow2"), 16 * 2048, iso_head)


def _unknown_feature(qcow2: Path, directory: Path) -> Path:
    """A qcow2 v3 whose incompatible-features field sets a bit no one defines."""
    return _patch(_copy(qcow2, directory / "unknown-feature.qcow2"), 0x48,
                  struct.pack(">Q", 1 << 40))


def _vmdk_host_extent(vmdk: Path, directory: Path, host_file: Path) -> Path:
    """A monolithicSparse VMDK whose descriptor's extent reads a host file."""
    path = _copy(vmdk, directory / "host-extent.vmdk")
    descriptor = path.read_bytes()[512:512 * 21].rstrip(b"\x00")
    start = descriptor.index(b"RW ")
    end = descriptor.index(b"\n", start)
    hostile = descriptor[:start] + f'RW 8192 FLAT "{host_file}" 0'.encode() + descriptor[end:]
    return _patch(path, 512, hostile.ljust(20 * 512, b"\x00"))


def _vmdk_flat_descriptor(directory: Path, host_file: Path) -> Path:
    """A text-only VMDK descriptor (monolithicFlat) whose extent is a host file."""
    path = directory / "flat-descriptor.vmdk"
    path.write_text('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
                    'createType="monolithicFlat"\n\n'
                    f'RW 8 FLAT "{host_file}" 0\n')
    return path

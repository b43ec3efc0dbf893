"""qemu-img conversion: faithful output (checked with `qemu-img compare`), never a host file's
bytes, and limits that stop a runaway conversion with a reason."""
from __future__ import annotations

import ast
import struct
import subprocess
from pathlib import Path

import pytest

from chalicelib.domain.errors import ImageRejected
from chalicelib.pipeline import convert
from tests.corpus import GOOD, HOST_SECRET, MIB, Sample, qemu_driver

LIMITS = convert.Limits(timeout_seconds=60, max_output_bytes=64 * MIB)
SOURCES = [name for name in GOOD if name != "iso"]  # install media is never converted


def _identical(first: Path, first_format: str, second: Path, second_format: str) -> bool:
    done = subprocess.run(["qemu-img", "compare", "-q", "-f", qemu_driver(first_format),
                           "-F", qemu_driver(second_format), str(first), str(second)],
                          capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("target", ["raw", "qcow2"])
def test_convert_output_matches_source(corpus: dict[str, Sample], tmp_path: Path, name: str,
                                       target: str):
    sample = corpus[name]
    output = convert.convert(sample.path, sample.detected, target, tmp_path / "out", LIMITS)
    assert _identical(sample.path, sample.detected, output, target)


@pytest.mark.parametrize("name", ["qcow2-backing-file", "qcow2-data-file",
                                  "vmdk-extent-host-path", "vmdk-flat-descriptor",
                                  "iso-qcow2-polyglot"])
def test_convert_refuses_sources_that_fail_inspection(corpus: dict[str, Sample],
                                                      tmp_path: Path, name: str):
    # The worker inspects before converting; convert() checks again on its own.
    output = tmp_path / "out.raw"
    with pytest.raises(ImageRejected, match="Image rejected: "):
        convert.convert(corpus[name].path, corpus[name].disk_format, "raw", output, LIMITS)
    assert not output.exists()


def test_convert_never_opens_a_backing_file_even_unchecked(corpus: dict[str, Sample],
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(convert.inspect, "check_file", lambda path, disk_format: None)
    output = convert.convert(corpus["qcow2-backing-file"].path, "qcow2", "raw",
                             tmp_path / "out.raw", LIMITS)
    assert HOST_SECRET[:64] not in output.read_bytes()


def test_convert_output_size_is_bounded(corpus: dict[str, Sample], tmp_path: Path):
    small = convert.Limits(timeout_seconds=60, max_output_bytes=MIB)
    output = tmp_path / "out.raw"
    with pytest.raises(ImageRejected, match=f"would exceed {MIB} bytes"):
        convert.convert(corpus["qcow2"].path, "qcow2", "raw", output, small)
    assert not output.exists()


def test_convert_is_stopped_after_its_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    slow = tmp_path / "qemu-img"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr(convert, "_QEMU_IMG", str(slow))
    source = tmp_path / "in"
    source.write_bytes(b"raw bytes")
    with pytest.raises(ImageRejected, match="took longer than 1 s"):
        convert.convert(source, "raw", "qcow2", tmp_path / "out",
                        convert.Limits(timeout_seconds=1, max_output_bytes=MIB))


def test_convert_failure_reason_comes_from_qemu(corpus: dict[str, Sample], tmp_path: Path):
    corrupt = bytearray(corpus["qcow2"].path.read_bytes())
    corrupt[40:48] = struct.pack(">Q", 0x123)  # an L1 table offset qemu refuses
    source = tmp_path / "corrupt.qcow2"
    source.write_bytes(corrupt)
    with pytest.raises(ImageRejected, match="Conversion to raw failed: .*L1 table"):
        convert.convert(source, "qcow2", "raw", tmp_path / "out", LIMITS)


@pytest.mark.parametrize(("detected", "declared", "wanted", "expected"), [
    ("qcow2", "qcow2", ["raw", "qcow2"], ("raw",)),
    ("raw", "raw", ["raw", "qcow2", "qcow2"], ("qcow2",)),
    ("gpt", "raw", ["raw"], ()),
    ("vhd", "vhd", ["vhd", "vmdk"], ("vmdk",)),
    ("iso", "iso", ["raw", "qcow2"], ()),  # install media is never converted
    ("qcow2", "qcow2", [], ()),
])
def test_targets_are_the_wanted_formats_the_image_is_not_in(detected: str, declared: str,
                                                            wanted: list[str],
                                                            expected: tuple[str, ...]):
    assert convert.targets(detected, declared, wanted) == expected


def test_targets_refuse_formats_qemu_cannot_write():
    with pytest.raises(ValueError, match="iso"):
        convert.targets("raw", "raw", ["iso"])


@pytest.mark.parametrize("module", ["inspect.py", "convert.py"])
def test_inspect_and_convert_touch_no_aws_and_no_db(module: str):
    tree = ast.parse((Path(convert.__file__).parent / module).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    banned = ("boto3", "botocore", "pynamodb", "chalice", "chalicelib.aws", "chalicelib.db",
              "chalicelib.blobs")
    assert not [name for name in imported
                if any(name == b or name.startswith(f"{b}.") for b in banned)]

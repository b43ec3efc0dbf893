"""Format inspection over the qemu-img corpus: every format accepted with qemu's own virtual
size, every hostile image rejected with the reason a user needs."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.errors import ImageRejected
from chalicelib.pipeline.hashing import digest
from chalicelib.pipeline.inspect import StreamInspector, inspect
from tests.corpus import GOOD, HOSTILE, TIB, Sample


def _chunks(path: Path, size: int) -> list[bytes]:
    data = path.read_bytes()
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.parametrize("chunk_size", [1000, 1024 * 1024])
def test_inspect_accepts_each_format_with_qemus_virtual_size(corpus: dict[str, Sample],
                                                             name: str, chunk_size: int):
    sample = corpus[name]
    found = inspect(_chunks(sample.path, chunk_size), sample.disk_format, 2 * TIB)
    assert found.format == sample.detected
    assert found.virtual_size == sample.virtual_size


@pytest.mark.parametrize("name", HOSTILE)
def test_inspect_rejects_hostile_image_with_reason(corpus: dict[str, Sample], name: str):
    sample = corpus[name]
    with pytest.raises(ImageRejected) as rejected:
        inspect(_chunks(sample.path, 64 * 1024), sample.disk_format, 2 * TIB)
    assert sample.rejection in rejected.value.message
    assert rejected.value.message.startswith("Image rejected: ")


def test_inspect_virtual_size_limit_is_configurable(corpus: dict[str, Sample]):
    sample = corpus["qcow2"]
    limit = sample.virtual_size - 1
    with pytest.raises(ImageRejected, match=f"limit of {limit} bytes"):
        inspect(_chunks(sample.path, 4096), "qcow2", limit)
    assert inspect(_chunks(sample.path, 4096), "qcow2",
                   sample.virtual_size).virtual_size == sample.virtual_size


def test_inspect_runs_every_inspector_whatever_was_declared(corpus: dict[str, Sample]):
    # Declared vmdk, but the bytes are qcow2: the reason names what they really are.
    with pytest.raises(ImageRejected, match="data is in the qcow2 format"):
        inspect(_chunks(corpus["qcow2"].path, 4096), "vmdk", 2 * TIB)


def test_inspect_tolerates_hybrid_iso_with_partition_table(corpus: dict[str, Sample],
                                                           tmp_path: Path):
    hybrid = tmp_path / "hybrid.iso"
    hybrid.write_bytes(corpus["mbr"].path.read_bytes()[:512] +
                       corpus["iso"].path.read_bytes()[512:])
    found = inspect(_chunks(hybrid, 4096), "iso", 2 * TIB)
    assert found.format == "iso" and found.virtual_size == 1024 * 1024
    with pytest.raises(ImageRejected, match="data is in the iso format"):
        inspect(_chunks(hybrid, 4096), "raw", 2 * TIB)


def test_inspect_plain_bytes_are_raw_and_empty_upload_has_no_virtual_size():
    assert inspect([b"\x00" * 4096, b"hello"], "raw", 2 * TIB).virtual_size == 4101
    assert inspect([], "raw", 2 * TIB).virtual_size is None
    with pytest.raises(ImageRejected, match="'vdi', but the data is not in that format"):
        inspect([b"plain bytes"], "vdi", 2 * TIB)


def test_stream_inspector_rides_along_the_hashing_pass(corpus: dict[str, Sample]):
    sample = corpus["vhdx"]
    inspector = StreamInspector("vhdx", 2 * TIB)
    digests = digest(_chunks(sample.path, 1024 * 1024), observers=(inspector.eat,))
    assert digests.size == sample.path.stat().st_size
    assert inspector.verdict().virtual_size == sample.virtual_size

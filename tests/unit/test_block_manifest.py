"""Block manifests: the block size rule, per-block digests whatever the chunking, and the
bytes an image shares with its parent."""
from __future__ import annotations

import hashlib
import os
import random

from chalicelib.domain.blocks import (BLOCK_SIZE, LINEAGE_PROPERTIES, PARENT_PROPERTY, Manifest,
                                      block_size_for, lineage, reused_bytes)
from chalicelib.domain.uploads import MAX_PARTS
from chalicelib.pipeline.block_manifest import BlockDigester

MIB = 1024 * 1024


def test_block_size_is_8_mib_until_10000_blocks_need_more():
    assert block_size_for(1) == block_size_for(MAX_PARTS * BLOCK_SIZE) == BLOCK_SIZE
    grown = block_size_for(MAX_PARTS * BLOCK_SIZE + 1)
    assert grown == 2 * BLOCK_SIZE
    size = 5 * 1024 ** 4
    assert block_size_for(size) % BLOCK_SIZE == 0
    assert -(-size // block_size_for(size)) <= MAX_PARTS


def test_digests_do_not_depend_on_how_the_stream_is_cut():
    block = 64 * 1024
    data = os.urandom(5 * block + 123)
    digester, offset, rng = BlockDigester(block), 0, random.Random(7)
    while offset < len(data):
        step = rng.randint(1, 3 * block)
        digester.observe(data[offset:offset + step])
        offset += step
    manifest = digester.manifest("i", "sha512")
    assert manifest.size == len(data)
    assert manifest.blocks == tuple(hashlib.sha256(data[i:i + block]).hexdigest()
                                    for i in range(0, len(data), block))


def test_empty_data_has_one_empty_block():
    assert BlockDigester(MIB).manifest("i", None).blocks == (hashlib.sha256().hexdigest(),)


def test_reused_bytes_count_equal_blocks_at_equal_offsets_and_lengths():
    parent = Manifest("p", 2 * MIB + 10, MIB, ("a", "b", "c"))
    assert reused_bytes(parent, Manifest("c", 2 * MIB + 10, MIB, ("a", "x", "c"))) == MIB + 10
    # Block 3 has the same digest but a different length in the child: not reused.
    assert reused_bytes(parent, Manifest("c", 3 * MIB, MIB, ("a", "b", "c"))) == 2 * MIB
    assert reused_bytes(parent, Manifest("c", 2 * MIB + 10, 2 * MIB, ("a", "b"))) == 0


def test_lineage_replaces_or_clears_the_previous_upload_s():
    old = {"os_distro": "debian", **{name: "old" for name in LINEAGE_PROPERTIES}}
    assert lineage(old, "p2") == {"os_distro": "debian", PARENT_PROPERTY: "p2"}
    assert lineage(old, None) == {"os_distro": "debian"}

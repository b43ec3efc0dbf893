"""Metrics: the embedded-metric-format lines printed for uploads and imports."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest
import requests

from chalicelib import metrics
from tests.support import call, create_image, deliver, drain, upload_single

MIB = 1024 * 1024


def _emf(out: str) -> list[dict[str, Any]]:
    """Each EMF document printed (log lines and other output are skipped)."""
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def _metric(lines: list[dict[str, Any]], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one document carrying `name`, and that metric's definition."""
    found = [(doc, m) for doc in lines for d in doc["_aws"]["CloudWatchMetrics"]
             for m in d["Metrics"] if m["Name"] == name]
    assert len(found) == 1, (name, lines)
    return found[0]


def _dimensions(doc: dict[str, Any]) -> list[list[str]]:
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Glint"
    return directive["Dimensions"]


def test_import_prints_started_succeeded_bytes_and_throughput(server_client, server_aws, capsys):
    data = os.urandom(2 * MIB + 3)
    image = create_image(server_client, project="p1")
    upload_single(server_client, image["id"], data)
    deliver(server_client, drain(server_aws.queue_url))
    lines = _emf(capsys.readouterr().out)

    issued, definition = _metric(lines, "PresignedUrlsIssued")
    assert definition["Unit"] == "Count" and issued["PresignedUrlsIssued"] == [1.0]
    assert _dimensions(issued) == [["stage", "kind"]] and issued["kind"] == "single"

    started, definition = _metric(lines, "ImportsStarted")
    assert definition["Unit"] == "Count" and _dimensions(started) == [["stage"]]
    assert started["stage"] == "local"
    # The ids are properties, not dimensions: one metric per image would cost a fortune.
    assert started["image_id"] == image["id"] and started["project"] == "p1"

    verify, definition = _metric(lines, "VerifyThroughput")
    assert definition["Unit"] == "Megabytes/Second" and verify["VerifyThroughput"][0] > 0

    succeeded, _ = _metric(lines, "ImportsSucceeded")
    units = {m["Name"]: m["Unit"] for m in succeeded["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"ImportsSucceeded": "Count", "BytesVerified": "Bytes"}
    assert succeeded["BytesVerified"] == [float(len(data))]
    assert succeeded["image_id"] == image["id"]
    assert not [doc for doc in lines if "ImportsFailed" in doc]


def test_failed_import_prints_its_reason(server_client, server_aws, capsys):
    image = create_image(server_client)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": MIB})
    assert status == 201
    requests.put(grant["url"], data=os.urandom(MIB + 1), timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    failed, definition = _metric(_emf(capsys.readouterr().out), "ImportsFailed")
    assert definition["Unit"] == "Count" and failed["ImportsFailed"] == [1.0]
    assert _dimensions(failed) == [["stage", "reason"]] and failed["reason"] == "size_mismatch"


def test_multipart_grant_counts_part_urls(server_client, server_aws, capsys):
    image = create_image(server_client)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": 12 * MIB, "multipart": True, "part_size": 5 * MIB})
    assert status == 201 and len(grant["parts"]) == 3
    issued, _ = _metric(_emf(capsys.readouterr().out), "PresignedUrlsIssued")
    assert issued["kind"] == "part" and issued["PresignedUrlsIssued"] == [3.0]


@pytest.mark.parametrize("message,reason", [
    ("Upload rejected: received 11 bytes, but 10 were declared.", "size_mismatch"),
    ("Upload rejected: the data's sha256 is ab, but cd was declared.", "checksum_mismatch"),
    ("Import rejected: the data's sha512 is ab, but cd was expected.", "checksum_mismatch"),
    ("Image rejected: disk_format is 'raw', but the data is in the qcow2 format.",
     "format_rejected"),
    ("Conversion to qcow2 took longer than 600 seconds.", "convert_failed"),
    ("web-download of http://example.com/x failed: HTTP 404", "fetch_failed"),
    ("Import stalled: the worker stopped before finishing (its lease ran out at x).", "stalled"),
    ("Upload abandoned: no data arrived before the upload URLs expired at x.", "abandoned"),
    ("Import failed after repeated attempts; last error: Upload rejected: received 1 bytes",
     "dead_letter"),
    ("Something nobody planned for", "other"),
])
def test_failure_messages_map_to_bounded_reasons(message, reason):
    assert metrics.reason_of(message) == reason


def test_throughput_is_not_emitted_for_a_failed_step(capsys):
    with pytest.raises(ValueError):
        with metrics.throughput("Verify", MIB):
            raise ValueError("hash failed")
    assert _emf(capsys.readouterr().out) == []

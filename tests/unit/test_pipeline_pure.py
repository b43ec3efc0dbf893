"""Pure pipeline steps: event parsing and single-pass hashing."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from chalicelib.blobs.keys import parse_staging_key, staging_key
from chalicelib.pipeline.events import parse_message
from chalicelib.pipeline.hashing import digest

EVENTS = Path(__file__).parent.parent / "events"


def test_moto_encoded_key_is_decoded_once():
    body = (EVENTS / "s3_put_via_sqs_moto.json").read_text()
    [obj] = list(parse_message(body))
    assert obj.key == "staging/7a1c9b7e-0000-4000-8000-000000000001/abc def"
    assert obj.size == 1048576 and obj.event_name == "ObjectCreated:Put"


def test_test_event_and_other_events_are_skipped():
    assert list(parse_message((EVENTS / "s3_test_event.json").read_text())) == []
    removed = {"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {}}]}
    assert list(parse_message(json.dumps(removed))) == []


def test_digest_matches_hashlib_in_one_pass():
    chunks = [b"a" * 1000, b"", b"b" * 7]
    data = b"".join(chunks)
    seen = []
    result = digest(chunks, with_sha256=True, on_progress=seen.append)
    assert result.size == len(data) and result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha512 == hashlib.sha512(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert seen == [1000, 1000, 1007]
    assert digest([b"x"]).sha256 is None


def test_staging_keys_round_trip_and_reject_others():
    assert parse_staging_key(staging_key("img", "up")) == ("img", "up")
    for key in ("images/img/loc", "staging/img", "staging/img/up/extra", "staging//up"):
        assert parse_staging_key(key) is None


def test_schedule_rates_for_the_local_pump():
    from chalice.app import Rate

    from glint_local.pump import rate_seconds
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds(Rate(1, unit=Rate.HOURS)) == 3600
    assert rate_seconds("cron(0 12 * * ? *)") is None

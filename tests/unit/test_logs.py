"""Structured logs: the JSON shape, the request context on every line, and redaction."""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from chalicelib import logs
from chalicelib.blobs import presign
from tests.support import call, create_image

PRESIGNED = ("https://glint-images.s3.amazonaws.com/staging/i/u?X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
             "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=0123456789abcdef")


class _Lines:
    """What a logger wrote through Glint's handler."""

    def __init__(self, log_format: str) -> None:
        self.out = io.StringIO()
        self.logger = logging.getLogger(f"tests.logs.{log_format}")
        self.logger.handlers = [logs.handler(log_format, self.out)]
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]


@pytest.fixture()
def json_lines() -> Iterator[_Lines]:
    lines = _Lines("json")
    yield lines
    lines.logger.handlers = []


def test_json_line_has_level_message_location_timestamp_and_extras(json_lines):
    json_lines.logger.info("upload granted", extra={"upload_id": "u1", "size": 3})
    [line] = json_lines.json()
    assert line["level"] == "INFO" and line["message"] == "upload granted"
    assert line["location"].startswith("tests.logs.json.")
    assert line["timestamp"].endswith("+00:00")
    assert line["upload_id"] == "u1" and line["size"] == 3


def test_scope_puts_request_image_and_project_on_every_line(json_lines):
    with logs.scope(request_id="req-1", image_id="img-1"):
        json_lines.logger.info("first")
        logs.bind(project="p1")
        json_lines.logger.warning("second")
    json_lines.logger.info("after")
    first, second, after = json_lines.json()
    assert (first["request_id"], first["image_id"]) == ("req-1", "img-1")
    assert "project" not in first
    assert (second["request_id"], second["image_id"], second["project"]) == ("req-1", "img-1",
                                                                             "p1")
    assert not {"request_id", "image_id", "project"} & after.keys()


def test_bind_outside_a_scope_changes_nothing(json_lines):
    logs.bind(image_id="leaked")
    json_lines.logger.info("m")
    assert "image_id" not in json_lines.json()[0] and logs.current() == {}


def test_context_fields_follow_the_message(json_lines):
    with logs.scope(request_id="r", image_id="i", project="p"):
        json_lines.logger.info("m")
    assert list(json_lines.json()[0])[:5] == ["level", "message", "request_id", "image_id",
                                               "project"]


def test_explicit_extra_wins_over_the_context(json_lines):
    with logs.scope(image_id="from-context"):
        json_lines.logger.info("m", extra={"image_id": "explicit"})
    assert json_lines.json()[0]["image_id"] == "explicit"


def test_presigned_url_is_redacted_in_message_extras_and_traceback(json_lines):
    json_lines.logger.info("granted %s", PRESIGNED, extra={"grant": {"url": PRESIGNED}})
    try:
        raise RuntimeError(f"PUT {PRESIGNED} failed")
    except RuntimeError:
        json_lines.logger.exception("boom")
    text = json_lines.out.getvalue()
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text
    assert "0123456789abcdef" not in text and "AKIAEXAMPLE" not in text
    granted, boom = json_lines.json()  # still valid JSON after redaction
    assert granted["message"] == "granted https://glint-images.s3.amazonaws.com/staging/i/u?REDACTED"
    assert granted["grant"]["url"].endswith("?REDACTED")
    assert "REDACTED" in boom["exception"]


def test_real_presigned_put_is_redacted(inprocess_aws, json_lines):
    request = presign.presign_put("staging/i/u", 10, None, 900)
    json_lines.logger.info("granted", extra={"url": request.url})
    assert json_lines.json()[0]["url"].endswith("/staging/i/u?REDACTED")


@pytest.mark.parametrize("leak", [
    {"X-Auth-Token": "gAAAAABsecret-token"},
    {"Authorization": "Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"},
    "X-Subject-Token: gAAAAABsecret-token",
    "headers={'x-auth-token': 'gAAAAABsecret-token'}",
    "query X-Amz-Security-Token=FQoGZXIvYXdzEB&x=1",
])
def test_tokens_are_redacted(json_lines, leak):
    json_lines.logger.info("request", extra={"detail": leak})
    text = json_lines.out.getvalue()
    assert "secret-token" not in text and "c2lnbmF0dXJl" not in text and "FQoG" not in text
    assert "REDACTED" in text
    json_lines.json()  # still valid JSON


def test_text_format_for_people_shows_context_and_extras():
    lines = _Lines("text")
    with logs.scope(request_id="req-1", image_id="img-1"):
        lines.logger.info("granted %s", PRESIGNED, extra={"size": 3})
    text = lines.out.getvalue()
    assert "INFO tests.logs.text granted https://" in text
    assert "[request_id=req-1 image_id=img-1 size=3]" in text
    assert "X-Amz-Signature" not in text


def test_api_request_lines_carry_request_id_image_and_project(client, caplog):
    image = create_image(client, project="p1")
    out = io.StringIO()
    root_handler = logs.handler("json", out)
    logging.getLogger().addHandler(root_handler)
    caplog.set_level(logging.INFO)
    try:
        status, _, headers = call(client, "POST", f"/v2/images/{image['id']}/uploads",
                                  {"size": 10}, project="p1", roles="member")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert status == 201
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    [granted] = [line for line in lines if line["message"] == "upload granted"]
    assert granted["request_id"] == headers["x-openstack-request-id"]
    assert (granted["image_id"], granted["project"]) == (image["id"], "p1")
    assert "X-Amz-Signature" not in out.getvalue()

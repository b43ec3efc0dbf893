"""The presigned URLs Glint issues, sent to an S3 that checks them (LocalStack; moto checks
nothing): S3 takes exactly the signed request and refuses every variation of it."""
from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from chalicelib.blobs import multipart, objects, presign
from chalicelib.blobs.presign import PresignedRequest

pytestmark = pytest.mark.localstack

SIZE = 64 * 1024
EXPIRES = 300


def _key() -> str:
    # A fresh key per request: LocalStack truncates an existing object's data when a later PUT
    # to it fails its checksum (real S3 keeps the old object), so refusals never share keys.
    return f"staging/{uuid.uuid4()}/{uuid.uuid4()}"


def _put(grant: PresignedRequest, body: bytes, **headers: str) -> requests.Response:
    """Send `body` as the grant says, with some headers changed; requests sets the body's
    own Content-Length, as any honest HTTP client does."""
    sent = {name: value for name, value in grant.headers.items() if name != "Content-Length"}
    return requests.put(grant.url, data=body, headers={**sent, **headers}, timeout=30)


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def _refused(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert f"<Code>{code}</Code>" in response.text, response.text


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_presigned_put_accepts_the_declared_body_and_checksum():
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    response = _put(grant, data)
    assert response.status_code == 200, response.text
    assert response.headers["x-amz-checksum-sha256"] == _sha256_b64(data)
    assert requests.get(presign.presign_get(key, EXPIRES), timeout=30).content == data


def test_presigned_put_without_checksum_accepts_the_declared_size():
    data, key = os.urandom(SIZE), _key()
    response = _put(presign.presign_put(key, len(data), None, EXPIRES), data)
    assert response.status_code == 200, response.text
    assert objects.size_of(key) == len(data)


def test_presigned_put_refuses_an_expired_url():
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), 1)
    time.sleep(2.1)  # X-Amz-Date has whole seconds: one second past 1 s of validity
    response = _put(grant, data)
    _refused(response, 403, "AccessDenied")
    assert "expired" in response.text
    assert objects.size_of(key) is None


@pytest.mark.parametrize("sha256", [True, False], ids=["with-sha256", "size-only"])
@pytest.mark.parametrize("delta", [1, -1], ids=["longer", "shorter"])
def test_presigned_put_refuses_another_length(sha256: bool, delta: int):
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest() if sha256
                                else None, EXPIRES)
    body = data + b"x" if delta > 0 else data[:-1]
    _refused(_put(grant, body), 403, "SignatureDoesNotMatch")
    assert objects.size_of(key) is None


def test_presigned_put_refuses_other_bytes_of_the_declared_length():
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    _refused(_put(grant, os.urandom(SIZE)), 400, "BadDigest")
    assert objects.size_of(key) is None


def test_presigned_put_refuses_a_checksum_other_than_the_signed_one():
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    other = os.urandom(SIZE)
    # Other bytes with their own, correct checksum: the checksum header is signed.
    response = _put(grant, other, **{"x-amz-checksum-sha256": _sha256_b64(other)})
    _refused(response, 403, "SignatureDoesNotMatch")
    assert objects.size_of(key) is None


def test_presigned_put_refuses_a_missing_checksum_header():
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    unsigned = PresignedRequest(grant.method, grant.url, {"Content-Length": str(len(data))})
    _refused(_put(unsigned, data), 403, "SignatureDoesNotMatch")
    assert objects.size_of(key) is None


@pytest.mark.parametrize("field,value", [
    ("X-Amz-Signature", None),  # one hex digit changed
    ("X-Amz-Expires", "604800"),  # a week instead of five minutes
    ("X-Amz-Date", "20300101T000000Z"),  # signed in the future, so not yet expired
])
def test_presigned_put_refuses_a_tampered_url(field: str, value: str | None):
    data, key = os.urandom(SIZE), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    signed = dict(parse_qsl(urlsplit(grant.url).query))[field]
    forged = value or signed[:-1] + ("0" if signed[-1] != "0" else "1")
    tampered = PresignedRequest(grant.method, _with_query(grant.url, **{field: forged}),
                                grant.headers)
    response = _put(tampered, data)
    assert response.status_code == 403, response.text
    assert objects.size_of(key) is None


def test_presigned_put_cannot_write_another_key():
    data, key, other_key = os.urandom(SIZE), _key(), _key()
    grant = presign.presign_put(key, len(data), hashlib.sha256(data).hexdigest(), EXPIRES)
    elsewhere = PresignedRequest(grant.method, grant.url.replace(key, other_key), grant.headers)
    assert elsewhere.url != grant.url
    _refused(_put(elsewhere, data), 403, "SignatureDoesNotMatch")
    assert objects.size_of(other_key) is None
    assert _put(grant, data).status_code == 200  # the URL still works for its own key


def test_presigned_part_accepts_exactly_its_size():
    data, key = os.urandom(SIZE), _key()
    upload_id = multipart.start(key)
    grant = presign.presign_part(key, upload_id, 1, len(data), EXPIRES)
    for wrong in (data + b"x", data[:-1]):
        _refused(_put(grant, wrong), 403, "SignatureDoesNotMatch")
    assert multipart.part_sizes(key, upload_id) == {}
    response = _put(grant, data)
    assert response.status_code == 200, response.text
    assert multipart.part_sizes(key, upload_id) == {1: len(data)}
    multipart.complete(key, upload_id, [(1, response.headers["ETag"])])
    assert requests.get(presign.presign_get(key, EXPIRES), timeout=30).content == data


@pytest.mark.parametrize("field,value", [
    ("partNumber", "2"),
    ("uploadId", "another-upload"),
])
def test_presigned_part_url_is_bound_to_its_part(field: str, value: str):
    data, key = os.urandom(SIZE), _key()
    upload_id = multipart.start(key)
    grant = presign.presign_part(key, upload_id, 1, len(data), EXPIRES)
    moved = PresignedRequest(grant.method, _with_query(grant.url, **{field: value}), grant.headers)
    _refused(_put(moved, data), 403, "SignatureDoesNotMatch")
    assert multipart.part_sizes(key, upload_id) == {}
    multipart.abort(key, upload_id)


def test_presigned_part_refuses_an_expired_url():
    data, key = os.urandom(SIZE), _key()
    upload_id = multipart.start(key)
    grant = presign.presign_part(key, upload_id, 1, len(data), 1)
    time.sleep(2.1)
    _refused(_put(grant, data), 403, "AccessDenied")
    assert multipart.part_sizes(key, upload_id) == {}
    multipart.abort(key, upload_id)

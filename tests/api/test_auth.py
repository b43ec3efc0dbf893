"""Authentication through Chalice's test client: each mode's 401s, 503s and contexts, and the
API Gateway authorizer function."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.api.authorizer import GatewayUnauthorized
from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable
from tests.auth_fixtures import (AUDIENCE, ISSUER, SERVICE_PASSWORD, closed_port_url,  # noqa: F401
                                 issuer, keystone)

ROOT = Path(__file__).resolve().parents[2]
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/v2/images"
IMAGE = json.dumps({"name": "auth", "disk_format": "raw", "container_format": "bare"})


def _create(client, **headers: str):
    response = client.http.post("/v2/images", body=IMAGE,
                                headers={"Content-Type": "application/json", **headers})
    return response.status_code, json.loads(response.body), response.headers


def _use(glint_env, **variables: str) -> None:
    """Switch settings now: the client overlays the local stage's GLINT_STAGE/GLINT_AUTH on
    os.environ during each request, so settings first read there would be local noauth."""
    glint_env(**variables)
    get_settings()


def _keystone_env(glint_env, url: str) -> None:
    _use(glint_env, GLINT_AUTH="keystone", GLINT_KEYSTONE_URL=f"{url}/v3",
         GLINT_KEYSTONE_USERNAME="glint", GLINT_KEYSTONE_PASSWORD=SERVICE_PASSWORD,
         GLINT_AUTH_TIMEOUT_SECONDS="2")


def _jwt_env(glint_env, jwks_url: str) -> None:
    _use(glint_env, GLINT_AUTH="jwt", GLINT_JWT_ISSUER=ISSUER, GLINT_JWT_AUDIENCE=AUDIENCE,
         GLINT_JWT_JWKS_URL=jwks_url)


def _authorize(client, token: str) -> dict:
    event = {"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}
    return client.lambda_.invoke("glint_auth", event).payload


# --- local stage: noauth and the development token ------------------------------------------

def test_local_dev_token_sets_project_user_and_roles(client):
    status, image, _ = _create(client, **{"X-Auth-Token": "alice:p1:member"})
    assert status == 201 and image["owner"] == "p1"
    shown = client.http.get(f"/v2/images/{image['id']}", headers={"X-Auth-Token": "bob:p2:member"})
    assert shown.status_code == 404  # another project's private image does not exist for bob


def test_local_noauth_headers_still_work(client):
    status, image, _ = _create(client, **{"X-Project-Id": "p5", "X-Roles": "member"})
    assert status == 201 and image["owner"] == "p5"


def test_local_malformed_dev_token_is_401_with_json_body_and_challenge(client):
    status, body, headers = _create(client, **{"X-Auth-Token": "alice::member"})
    assert status == 401
    assert body["error"]["code"] == 401 and body["error"]["title"] == "Unauthorized"
    assert "user:project:role1,role2" in body["error"]["message"]
    assert headers["WWW-Authenticate"] == 'Token realm="glint-local"'


def test_dev_token_is_never_accepted_outside_the_local_stage(client, glint_env):
    _use(glint_env, GLINT_STAGE="dev", GLINT_AUTH="noauth")
    status, body, _ = _create(client, **{"X-Auth-Token": "alice:p1:admin"})
    # The configuration is refused (a logged server error), never served.
    assert status == 500 and "p1" not in json.dumps(body)
    listed = client.http.get("/v2/images", headers={"X-Auth-Token": "alice:p1:admin"})
    assert listed.status_code == 500


def test_a_deployed_stage_with_noauth_refuses_to_start():
    env = {**os.environ, "GLINT_STAGE": "dev", "GLINT_AUTH": "noauth"}
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "AuthConfigError" in result.stderr and "only allowed in the 'local' stage" in result.stderr


def test_noauth_is_refused_in_lambda_whatever_the_stage():
    env = {**os.environ, "GLINT_STAGE": "local", "GLINT_AUTH": "noauth",
           "AWS_LAMBDA_FUNCTION_NAME": "glint-local-APIHandler"}
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "AuthConfigError" in result.stderr and "never allowed in AWS Lambda" in result.stderr


# --- keystone ---------------------------------------------------------------------------------

def test_keystone_mode_missing_bad_and_valid_tokens(client, glint_env, keystone):
    _keystone_env(glint_env, keystone.url)
    keystone.add_token("good", project="p1", roles=("member",))
    challenge = f'Keystone uri="{keystone.url}/v3"'
    for headers in ({}, {"X-Auth-Token": "bad"}, {"X-Project-Id": "admin", "X-Roles": "admin"}):
        status, body, response_headers = _create(client, **headers)
        assert status == 401 and body["error"]["code"] == 401, headers
        assert response_headers["WWW-Authenticate"] == challenge
    status, image, _ = _create(client, **{"X-Auth-Token": "good"})
    assert status == 201 and image["owner"] == "p1"


def test_keystone_down_is_503_json_never_500(client, glint_env):
    _keystone_env(glint_env, closed_port_url())
    status, body, _ = _create(client, **{"X-Auth-Token": "good"})
    assert status == 503 and body["error"]["title"] == "Service Unavailable"


def test_keystone_authorizer_allows_with_context_and_rejects_bad_tokens(client, glint_env,
                                                                          keystone):
    _keystone_env(glint_env, keystone.url)
    keystone.add_token("good", project="p1", user="u1", roles=("member", "reader"))
    result = _authorize(client, "good")
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/*/*"]
    assert result["principalId"] == "u1"
    assert result["context"] == {"project_id": "p1", "user_id": "u1", "roles": "member,reader"}
    with pytest.raises(GatewayUnauthorized, match="^Unauthorized$"):
        _authorize(client, "bad")


def test_keystone_authorizer_fails_loudly_when_keystone_is_down(client, glint_env):
    _keystone_env(glint_env, closed_port_url())
    with pytest.raises(ServiceUnavailable):
        _authorize(client, "good")


# --- jwt ------------------------------------------------------------------------------------

def test_jwt_mode_missing_bad_and_valid_tokens(client, glint_env, issuer):
    _jwt_env(glint_env, issuer.jwks_url)
    status, body, headers = _create(client)
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="glint"'
    status, body, headers = _create(client, Authorization=f"Bearer {issuer.token(aud='other')}")
    assert status == 401 and "audience" in body["error"]["message"].lower()
    assert headers["WWW-Authenticate"] == 'Bearer realm="glint", error="invalid_token"'
    status, image, _ = _create(client, Authorization=f"Bearer {issuer.token(project_id='p4')}")
    assert status == 201 and image["owner"] == "p4"


def test_jwt_authorizer_allows_valid_and_rejects_expired_tokens(client, glint_env, issuer):
    _jwt_env(glint_env, issuer.jwks_url)
    result = _authorize(client, f"Bearer {issuer.token()}")
    assert result["context"] == {"project_id": "p1", "user_id": "alice", "roles": "member,reader"}
    with pytest.raises(GatewayUnauthorized):
        _authorize(client, f"Bearer {issuer.token(exp=1)}")


def test_version_discovery_needs_no_credential_in_any_mode(client, glint_env, keystone):
    _keystone_env(glint_env, keystone.url)
    for path, expected in (("/", 300), ("/versions", 200)):
        response = client.http.get(path)
        assert response.status_code == expected and json.loads(response.body)["versions"], path
    assert client.http.get("/v2/images").status_code == 401  # everything else needs one

"""KeystoneAuthenticator against a fake Keystone v3 on 127.0.0.1."""
from __future__ import annotations

import json

import pytest
from moto import mock_aws

from chalicelib import aws
from chalicelib.auth.base import AuthConfigError
from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.domain.errors import ServiceUnavailable, Unauthorized
from tests.auth_fixtures import (SERVICE_PASSWORD, auth_settings, closed_port_url,  # noqa: F401
                                 keystone)


def _rejected(authenticator: KeystoneAuthenticator, token: str, url: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        authenticator.authenticate({"x-auth-token": token})
    assert caught.value.www_authenticate == f'Keystone uri="{url}/v3"'
    return caught.value


def test_keystone_valid_token_maps_project_user_and_roles(keystone):
    keystone.add_token("tok", project="p1", user="u1", roles=("Member", "reader"))
    ctx = KeystoneAuthenticator(keystone.settings()).authenticate({"x-auth-token": "tok"})
    assert (ctx.project_id, ctx.user_id, ctx.roles) == ("p1", "u1", frozenset({"member", "reader"}))
    service_token = keystone.calls[-1][1]["x-auth-token"]
    assert service_token in keystone.service_tokens and keystone.calls[-1][1]["x-subject-token"] == "tok"


def test_keystone_cache_hit_avoids_a_second_call(keystone):
    keystone.add_token("tok")
    authenticator = KeystoneAuthenticator(keystone.settings())
    for _ in range(3):
        assert authenticator.authenticate({"x-auth-token": "tok"}).project_id == "p1"
    assert keystone.validations() == 1
    # One service token serves every validation.
    assert len(keystone.service_tokens) == 1


def test_keystone_token_near_expiry_is_not_cached(keystone):
    keystone.add_token("tok", expires_in=20)  # still valid, but inside the expiry margin
    authenticator = KeystoneAuthenticator(keystone.settings())
    authenticator.authenticate({"x-auth-token": "tok"})
    authenticator.authenticate({"x-auth-token": "tok"})
    assert keystone.validations() == 2


def test_keystone_unknown_token_404_is_401(keystone):
    error = _rejected(KeystoneAuthenticator(keystone.settings()), "nope", keystone.url)
    assert "invalid" in error.message


def test_keystone_expired_token_is_401(keystone):
    keystone.add_token("old", expires_in=-60)
    error = _rejected(KeystoneAuthenticator(keystone.settings()), "old", keystone.url)
    assert "expired" in error.message


def test_keystone_unscoped_token_is_401(keystone):
    keystone.add_token("unscoped", project=None)
    error = _rejected(KeystoneAuthenticator(keystone.settings()), "unscoped", keystone.url)
    assert "project" in error.message


def test_keystone_missing_token_is_401_without_calling_keystone(keystone):
    _rejected(KeystoneAuthenticator(keystone.settings()), "", keystone.url)
    assert keystone.calls == []


def test_keystone_down_is_503(keystone):
    url = closed_port_url()
    authenticator = KeystoneAuthenticator(auth_settings(keystone_url=url))
    with pytest.raises(ServiceUnavailable):
        authenticator.authenticate({"x-auth-token": "tok"})


def test_keystone_bad_service_credentials_are_503_not_the_callers_fault(keystone):
    keystone.add_token("tok")
    authenticator = KeystoneAuthenticator(keystone.settings(keystone_password="wrong"))
    with pytest.raises(ServiceUnavailable):
        authenticator.authenticate({"x-auth-token": "tok"})


def test_keystone_revoked_service_token_is_replaced_once(keystone):
    keystone.add_token("a")
    keystone.add_token("b")
    authenticator = KeystoneAuthenticator(keystone.settings())
    authenticator.authenticate({"x-auth-token": "a"})
    keystone.service_tokens.clear()  # Keystone forgot our token
    assert authenticator.authenticate({"x-auth-token": "b"}).project_id == "p1"
    assert len(keystone.service_tokens) == 1


def test_keystone_without_service_credentials_token_validates_itself(keystone):
    keystone.add_token("tok")
    keystone.service_tokens.add("tok")  # Keystone's policy lets a token validate itself
    authenticator = KeystoneAuthenticator(auth_settings(keystone_url=keystone.url))
    assert authenticator.authenticate({"x-auth-token": "tok"}).project_id == "p1"
    assert keystone.calls[-1][1]["x-auth-token"] == "tok"


def test_keystone_service_credentials_from_secrets_manager(keystone):
    keystone.add_token("tok")
    with mock_aws():
        aws.reset()
        aws.secretsmanager().create_secret(Name="glint/keystone", SecretString=json.dumps(
            {"username": "glint", "password": SERVICE_PASSWORD, "project_name": "service"}))
        authenticator = KeystoneAuthenticator(
            auth_settings(keystone_url=keystone.url, keystone_secret_id="glint/keystone"))
        assert authenticator.authenticate({"x-auth-token": "tok"}).project_id == "p1"
        missing = KeystoneAuthenticator(
            auth_settings(keystone_url=keystone.url, keystone_secret_id="glint/absent"))
        with pytest.raises(ServiceUnavailable):
            missing.authenticate({"x-auth-token": "tok"})
    aws.reset()


def test_keystone_without_url_refuses_to_start():
    with pytest.raises(AuthConfigError, match="GLINT_KEYSTONE_URL"):
        KeystoneAuthenticator(auth_settings(keystone_url=""))

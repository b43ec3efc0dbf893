"""JwtAuthenticator against real RS256 tokens and a JWKS served on 127.0.0.1."""
from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from cryptography.hazmat.primitives import serialization

from chalicelib.auth.base import AuthConfigError
from chalicelib.auth.jwt_auth import JwtAuthenticator
from chalicelib.domain.errors import ServiceUnavailable, Unauthorized
from tests.auth_fixtures import (AUDIENCE, ISSUER, KID, closed_port_url, issuer,  # noqa: F401
                                 new_rsa_key, unsigned_token)


def _authenticate(authenticator: JwtAuthenticator, token: str):
    return authenticator.authenticate({"authorization": f"Bearer {token}"})


def _rejected(authenticator: JwtAuthenticator, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        _authenticate(authenticator, token)
    assert caught.value.www_authenticate == 'Bearer realm="glint", error="invalid_token"'
    return caught.value


def test_jwt_valid_token_maps_sub_project_and_roles(issuer):
    ctx = _authenticate(JwtAuthenticator(issuer.settings()), issuer.token(roles=["Member"]))
    assert (ctx.user_id, ctx.project_id, ctx.roles) == ("alice", "p1", frozenset({"member"}))


def test_jwt_claim_names_are_configurable_and_may_be_nested(issuer):
    authenticator = JwtAuthenticator(issuer.settings(jwt_project_claim="tenant",
                                                     jwt_roles_claim="realm_access.roles"))
    ctx = _authenticate(authenticator, issuer.token(tenant="p7",
                                                    realm_access={"roles": ["admin"]}))
    assert ctx.project_id == "p7" and ctx.roles == frozenset({"admin"})


def test_jwt_roles_as_one_string_are_split(issuer):
    ctx = _authenticate(JwtAuthenticator(issuer.settings()), issuer.token(roles="reader member"))
    assert ctx.roles == frozenset({"reader", "member"})


def test_jwt_token_header_is_configurable_and_bearer_prefix_optional(issuer):
    authenticator = JwtAuthenticator(issuer.settings(jwt_header="X-Auth-Token"))
    assert authenticator.authenticate({"x-auth-token": issuer.token()}).project_id == "p1"


def test_jwt_missing_token_is_401_without_error_code(issuer):
    with pytest.raises(Unauthorized) as caught:
        JwtAuthenticator(issuer.settings()).authenticate({})
    assert caught.value.www_authenticate == 'Bearer realm="glint"'


@pytest.mark.parametrize("claims,reason", [
    ({"exp": int(time.time()) - 600}, "expired"),
    ({"iss": "https://evil.example.test"}, "issuer"),
    ({"aud": "someone-else"}, "audience"),
    ({"project_id": None}, "project"),
])
def test_jwt_rejects_bad_claims(issuer, claims, reason):
    error = _rejected(JwtAuthenticator(issuer.settings()), issuer.token(**claims))
    assert reason in error.message.lower()


def test_jwt_rejects_missing_required_claim(issuer):
    authenticator = JwtAuthenticator(issuer.settings())
    token = unsigned_token({"alg": "RS256", "kid": KID}, {"iss": ISSUER, "aud": AUDIENCE})
    _rejected(authenticator, token)


def test_jwt_rejects_tampered_payload(issuer):
    header, _, signature = issuer.token().split(".")
    forged = unsigned_token({}, {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "project_id": "p2",
                                 "exp": int(time.time()) + 600}).split(".")[1]
    _rejected(JwtAuthenticator(issuer.settings()), f"{header}.{forged}.{signature}")


def test_jwt_rejects_alg_none_even_with_a_known_kid(issuer):
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "project_id": "p1",
               "exp": int(time.time()) + 600}
    error = _rejected(JwtAuthenticator(issuer.settings()),
                      unsigned_token({"alg": "none", "kid": KID}, payload))
    assert "algorithm" in error.message


def test_jwt_rejects_hmac_signed_with_the_public_key(issuer):
    # The classic confusion attack: HS256 keyed with the RSA public key the JWKS publishes.
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "project_id": "p1",
               "exp": int(time.time()) + 600}
    unsigned = unsigned_token({"alg": "HS256", "kid": KID}, payload).rsplit(".", 1)[0]
    signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    _rejected(JwtAuthenticator(issuer.settings()),
              unsigned_token({"alg": "HS256", "kid": KID}, payload, signature))


def test_jwt_rejects_unknown_kid_and_foreign_key(issuer):
    authenticator = JwtAuthenticator(issuer.settings())
    other = new_rsa_key()
    _rejected(authenticator, issuer.token(key=other, kid="someone-elses-key"))
    # Right kid, wrong key: the signature check fails.
    _rejected(authenticator, issuer.token(key=other))


def test_jwt_jwks_is_fetched_once_and_cached(issuer):
    authenticator = JwtAuthenticator(issuer.settings())
    before = len(issuer.fetches)
    for _ in range(3):
        _authenticate(authenticator, issuer.token())
    assert len(issuer.fetches) - before == 1


def test_jwt_unreachable_jwks_is_503(issuer):
    authenticator = JwtAuthenticator(issuer.settings(jwt_jwks_url=f"{closed_port_url()}/jwks"))
    with pytest.raises(ServiceUnavailable):
        _authenticate(authenticator, issuer.token())


@pytest.mark.parametrize("algorithms", [("none",), ("HS256",), ("RS256", "HS512"), (), ("XX1",)])
def test_jwt_unsafe_or_unknown_algorithms_refuse_to_start(issuer, algorithms):
    with pytest.raises(AuthConfigError):
        JwtAuthenticator(issuer.settings(jwt_algorithms=algorithms))


def test_jwt_incomplete_configuration_refuses_to_start(issuer):
    with pytest.raises(AuthConfigError, match="GLINT_JWT_AUDIENCE"):
        JwtAuthenticator(issuer.settings(jwt_audience=""))

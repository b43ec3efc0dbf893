"""Local-only identity (noauth headers, development token) and the choice of source."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib import identity
from chalicelib.auth.base import AuthConfigError
from chalicelib.auth.jwt_auth import JwtAuthenticator
from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.auth.noauth import NoAuth
from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Unauthorized


def test_dev_token_names_user_project_and_roles():
    ctx = NoAuth("local").authenticate({"x-auth-token": "alice:p1:Member, reader",
                                        "x-project-id": "ignored"})
    assert (ctx.user_id, ctx.project_id, ctx.roles) == ("alice", "p1",
                                                        frozenset({"member", "reader"}))


def test_dev_token_may_have_no_roles():
    assert NoAuth("local").authenticate({"x-auth-token": "bob:p2:"}).roles == frozenset()


@pytest.mark.parametrize("token", ["alice:p1", ":p1:member", "alice::member", "a:b:c:d"])
def test_malformed_dev_token_is_401_with_challenge(token):
    with pytest.raises(Unauthorized) as caught:
        NoAuth("local").authenticate({"x-auth-token": token})
    assert "user:project:role1,role2" in caught.value.message
    assert caught.value.www_authenticate == 'Token realm="glint-local"'


def test_noauth_headers_and_glance_defaults():
    assert NoAuth("local").authenticate({"x-project-id": "p3", "x-roles": "reader",
                                         "x-user-id": "u3"}) == RequestContext(
        project_id="p3", user_id="u3", roles=frozenset({"reader"}))
    ctx = NoAuth("local").authenticate({})  # nothing said at all: Glance's noauth admin
    assert (ctx.project_id, ctx.user_id, ctx.roles) == ("admin", "admin", frozenset({"admin"}))
    # `openstack --os-auth-type none` sends keystoneauth's placeholder: no credentials either.
    ctx = NoAuth("local").authenticate({"x-auth-token": "notused", "x-project-id": "p4",
                                        "x-roles": "member"})
    assert (ctx.project_id, ctx.roles) == ("p4", frozenset({"member"}))


@pytest.mark.parametrize("token", ["anything", "not-used", "alice%3Ap1", "%3A%3A"])
def test_a_token_that_does_not_parse_never_falls_back_to_admin(token):
    with pytest.raises(Unauthorized):
        NoAuth("local").authenticate({"x-auth-token": token, "x-roles": "admin"})


def test_a_percent_encoded_token_is_decoded():
    # python-glanceclient quotes the token it is given.
    ctx = NoAuth("local").authenticate({"x-auth-token": "alice%3Ap1%3Amember%2Creader"})
    assert (ctx.user_id, ctx.project_id, ctx.roles) == ("alice", "p1",
                                                        frozenset({"member", "reader"}))


@pytest.mark.parametrize("stage", ["dev", "prod", "ci", ""])
def test_noauth_cannot_be_built_outside_the_local_stage(stage):
    with pytest.raises(AuthConfigError, match="only allowed in the 'local' stage"):
        NoAuth(stage)


def test_identity_selects_the_source_by_settings():
    base = get_settings()
    assert isinstance(identity._build(base), NoAuth)
    keystone = replace(base, auth_mode="keystone",
                       auth=replace(base.auth, keystone_url="http://127.0.0.1:1/v3"))
    assert isinstance(identity._build(keystone), KeystoneAuthenticator)
    jwt = replace(base, auth_mode="jwt", auth=replace(
        base.auth, jwt_issuer="https://i", jwt_audience="a", jwt_jwks_url="http://127.0.0.1:1/k"))
    assert isinstance(identity._build(jwt), JwtAuthenticator)
    with pytest.raises(AuthConfigError, match="Unknown GLINT_AUTH"):
        identity._build(replace(base, auth_mode="trust-me"))
    with pytest.raises(AuthConfigError):
        identity._build(replace(base, stage="dev"))
    with pytest.raises(AuthConfigError, match="never allowed in AWS Lambda"):
        identity._build(replace(base, in_lambda=True))


def test_authorizer_context_round_trips_and_wins_over_headers():
    ctx = RequestContext(project_id="p9", user_id="u9", roles=frozenset({"member", "reader"}))
    passed = {**identity.authorizer_context(ctx), "principalId": "u9"}
    assert all(isinstance(v, str) for v in passed.values())
    got = identity.context_for({"x-project-id": "other", "x-openstack-request-id": "req-1"},
                               passed)
    assert got == replace(ctx, request_id="req-1")


def test_context_without_authorizer_authenticates_directly():
    got = identity.context_for({"x-auth-token": "alice:p1:member"}, {"principalId": "x"})
    assert got.project_id == "p1" and got.request_id.startswith("req-")

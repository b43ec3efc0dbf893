"""How `glint` finds its endpoint and token: options, OS_* variables, clouds.yaml, Keystone."""
from __future__ import annotations

import json

import pytest

from glint_client.resume import StateFile, UploadState
from glint_client.settings import ConfigError, resolve
from glint_client.upload import _part_sizes
from tests.auth_fixtures import _serve


def test_options_win_over_the_environment_and_the_version_suffix_is_dropped():
    env = {"OS_ENDPOINT": "http://127.0.0.1:1/", "OS_TOKEN": "env-token"}
    assert resolve("http://127.0.0.1:2/v2", "opt", env).endpoint == "http://127.0.0.1:2"
    conn = resolve(environ=env)
    assert (conn.endpoint, conn.token) == ("http://127.0.0.1:1", "env-token")
    assert resolve(environ={"OS_IMAGE_URL": "http://h:9292", "OS_AUTH_TOKEN": "t"}).token == "t"


def test_clouds_yaml_entry_named_by_os_cloud(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  dev:\n    auth: {token: 'alice:p1:member'}\n"
                      "    image_endpoint_override: http://127.0.0.1:9/v2\n")
    conn = resolve(environ={"OS_CLOUD": "dev"}, clouds_paths=(clouds,))
    assert (conn.endpoint, conn.token) == ("http://127.0.0.1:9", "alice:p1:member")
    with pytest.raises(ConfigError, match="not in any clouds.yaml"):
        resolve(environ={"OS_CLOUD": "prod"}, clouds_paths=(clouds,))


def test_missing_endpoint_is_a_clear_error():
    with pytest.raises(ConfigError, match="No image endpoint"):
        resolve(environ={})


def test_password_login_takes_the_token_and_the_catalogs_image_endpoint():
    seen = []

    def keystone(method, path, headers, body):
        seen.append((method, path, json.loads(body)["auth"]["scope"]))
        catalog = [{"type": "image", "endpoints": [
            {"interface": "internal", "region": "r1", "url": "http://127.0.0.3:9292"},
            {"interface": "public", "region": "r1", "url": "http://127.0.0.1:7/"}]}]
        return 201, {"X-Subject-Token": "tok"}, {"token": {"catalog": catalog}}

    with _serve(keystone) as url:
        conn = resolve(environ={"OS_AUTH_URL": url, "OS_USERNAME": "u", "OS_PASSWORD": "p",
                                "OS_PROJECT_NAME": "demo", "OS_REGION_NAME": "r1"})
    assert (conn.endpoint, conn.token) == ("http://127.0.0.1:7", "tok")
    assert seen == [("POST", "/v3/auth/tokens",
                     {"project": {"name": "demo", "domain": {"name": "Default"}}})]


def test_resume_state_round_trips_and_parts_cover_the_file(tmp_path):
    source = tmp_path / "f"
    source.write_bytes(b"x")
    state_file = StateFile(source, tmp_path / "cache")
    state = UploadState(str(source), 1, 7, "http://h", "img", "up", 5)
    state_file.save(state)
    state_file.record_part(state, 1, '"etag"')
    assert state_file.load() == state and state_file.load().parts == {1: '"etag"'}
    state_file.remove()
    assert state_file.load() is None
    assert _part_sizes(12, 5) == [5, 5, 2] and _part_sizes(10, 5) == [5, 5]

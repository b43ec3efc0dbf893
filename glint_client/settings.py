"""Where the image API is and which token to send, resolved the way the OpenStack clients do:
command-line options, then `OS_*` variables, then the `OS_CLOUD` entry of clouds.yaml; with a
password instead of a token, a Keystone v3 login that also finds the image endpoint."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

CLOUDS_YAML_PATHS = (Path("clouds.yaml"), Path.home() / ".config/openstack/clouds.yaml",
                     Path("/etc/openstack/clouds.yaml"))


class ConfigError(Exception):
    """The endpoint or the credentials cannot be worked out."""


@dataclass(frozen=True, slots=True)
class Connection:
    """The image API's base URL (no version suffix) and the token to send."""

    endpoint: str
    token: str | None


def resolve(endpoint: str | None = None, token: str | None = None,
            environ: Mapping[str, str] = os.environ,
            clouds_paths: tuple[Path, ...] = CLOUDS_YAML_PATHS) -> Connection:
    """The connection from explicit values, the environment and clouds.yaml, in that order.

    Raises:
        ConfigError: no endpoint can be found, or the Keystone login fails.
    """
    auth = _cloud_auth(environ.get("OS_CLOUD"), clouds_paths)
    endpoint = (endpoint or environ.get("OS_ENDPOINT") or environ.get("OS_IMAGE_URL")
                or auth.get("image_endpoint_override") or auth.get("endpoint"))
    token = token or environ.get("OS_TOKEN") or environ.get("OS_AUTH_TOKEN") or auth.get("token")
    password_login = {**_env_auth(environ), **auth}
    if not token and password_login.get("auth_url") and password_login.get("password"):
        token, catalog_endpoint = _keystone_login(password_login)
        endpoint = endpoint or catalog_endpoint
    if not endpoint:
        raise ConfigError("No image endpoint: pass --os-endpoint, or set OS_ENDPOINT (or "
                          "OS_IMAGE_URL, or OS_CLOUD with clouds.yaml).")
    return Connection(_unversioned(endpoint), token)


def _unversioned(endpoint: str) -> str:
    endpoint = endpoint.rstrip("/")
    return endpoint[:-3] if endpoint.endswith("/v2") else endpoint


def _env_auth(environ: Mapping[str, str]) -> dict[str, str]:
    names = ("auth_url", "username", "password", "project_name", "project_id",
             "user_domain_name", "project_domain_name", "region_name")
    return {n: environ[f"OS_{n.upper()}"] for n in names if environ.get(f"OS_{n.upper()}")}


def _cloud_auth(cloud: str | None, paths: tuple[Path, ...]) -> dict[str, Any]:
    if not cloud:
        return {}
    import yaml  # only when a cloud is named: the import is a share of every command's start

    for path in paths:
        if path.is_file():
            clouds = (yaml.safe_load(path.read_text()) or {}).get("clouds", {})
            if cloud in clouds:
                entry = clouds[cloud]
                return {**entry.get("auth", {}), **{k: v for k, v in entry.items() if k != "auth"}}
    raise ConfigError(f"OS_CLOUD={cloud} is not in any clouds.yaml "
                      f"({', '.join(str(p) for p in paths)}).")


def _keystone_login(auth: Mapping[str, Any]) -> tuple[str, str | None]:
    """Password login (Keystone v3, project scope): the token and the catalog's image URL."""
    project: dict[str, Any] = ({"id": auth["project_id"]} if auth.get("project_id") else
                               {"name": auth.get("project_name"),
                                "domain": {"name": auth.get("project_domain_name", "Default")}})
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": auth.get("username"), "password": auth["password"],
            "domain": {"name": auth.get("user_domain_name", "Default")}}}},
        "scope": {"project": project}}}
    url = str(auth["auth_url"]).rstrip("/")
    url = url if url.endswith("/v3") else f"{url}/v3"
    try:
        answer = requests.post(f"{url}/auth/tokens", json=body, timeout=30)
    except requests.RequestException as exc:
        raise ConfigError(f"Keystone at {url} did not answer: {exc}") from exc
    if answer.status_code != 201:
        raise ConfigError(f"Keystone login failed ({answer.status_code}): {answer.text[:200]}")
    region = auth.get("region_name")
    for service in answer.json().get("token", {}).get("catalog", []):
        if service.get("type") != "image":
            continue
        for ep in service.get("endpoints", []):
            if ep.get("interface") == "public" and (not region or ep.get("region") == region):
                return answer.headers["X-Subject-Token"], ep["url"]
    return answer.headers["X-Subject-Token"], None

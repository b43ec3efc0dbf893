"""Identity providers on 127.0.0.1 for the auth tests: a JWKS endpoint with a throwaway RSA key,
and a fake Keystone v3 token API. Each server runs in a thread and stops in teardown."""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from chalicelib.config import AuthSettings, get_settings
from tests.processes import free_port

ISSUER = "https://idp.example.test/realms/glint"
AUDIENCE = "glint-api"
KID = "test-key-1"
SERVICE_PASSWORD = "service-secret"


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's `answer(method, path, headers, body)`."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.answer(  # type: ignore[attr-defined]
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _dispatch

    def log_message(self, *args: Any) -> None:
        """Quiet: pytest shows failures, not access logs."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Any) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def _serve(answer: Any) -> Iterator[str]:
    server = _Server(answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused at once)."""
    return f"http://127.0.0.1:{free_port()}"


def auth_settings(**overrides: Any) -> AuthSettings:
    """The test process's auth settings with `overrides`, short timeouts."""
    return replace(get_settings().auth, timeout_seconds=2.0, **overrides)


# --- JWT ------------------------------------------------------------------------------------

@dataclass
class Issuer:
    """A signing key, its JWKS on 127.0.0.1, and a way to mint tokens with it."""

    url: str
    key: rsa.RSAPrivateKey
    fetches: list[str] = field(default_factory=list)

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    def settings(self, **overrides: Any) -> AuthSettings:
        """Auth settings that trust this issuer."""
        return auth_settings(**{"jwt_issuer": ISSUER, "jwt_audience": AUDIENCE,
                                "jwt_jwks_url": self.jwks_url, **overrides})

    def token(self, key: rsa.RSAPrivateKey | None = None, kid: str = KID,
              **claims: Any) -> str:
        """An RS256 token with sensible claims (project p1, roles member+reader), overridable."""
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 600,
                   "project_id": "p1", "roles": ["member", "reader"], **claims}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A throwaway 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand (for alg=none and algorithm-confusion attacks)."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return ".".join([part(json.dumps(header).encode()), part(json.dumps(payload).encode()),
                     part(signature)])


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    """A JWKS endpoint on 127.0.0.1 that publishes one RSA public key."""
    key = new_rsa_key()
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": KID, "alg": "RS256",
           "use": "sig"}
    fetches: list[str] = []

    def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        fetches.append(path)
        return (200, {}, {"keys": [jwk]}) if path == "/jwks.json" else (404, {}, None)

    with _serve(answer) as url:
        yield Issuer(url, key, fetches)


# --- Keystone -------------------------------------------------------------------------------

def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Keystone:
    """A fake Keystone v3: issues service tokens for one password, validates known tokens."""

    url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_tokens: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Project ids GET /v3/projects/{id} knows (answered to service tokens only).
    projects: set[str] = field(default_factory=set)

    def settings(self, **overrides: Any) -> AuthSettings:
        """Auth settings that validate against this Keystone with its service user."""
        return auth_settings(**{"keystone_url": f"{self.url}/v3", "keystone_username": "glint",
                                "keystone_password": SERVICE_PASSWORD, **overrides})

    def add_token(self, token: str, project: str | None = "p1", user: str = "u1",
                  roles: tuple[str, ...] = ("member",), expires_in: float = 3600) -> None:
        """Make `token` valid (project-scoped unless project is None)."""
        body: dict[str, Any] = {"expires_at": _iso(time.time() + expires_in),
                                "user": {"id": user, "name": user},
                                "roles": [{"id": f"r-{r}", "name": r} for r in roles]}
        if project is not None:
            body["project"] = {"id": project, "name": project}
        self.tokens[token] = body

    def validations(self) -> int:
        """How many GET /v3/auth/tokens calls Keystone has answered."""
        return sum(1 for method, _ in self.calls if method == "GET")

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        self.calls.append((method, headers))
        if path.startswith("/v3/projects/") and method == "GET":
            if headers.get("x-auth-token") not in self.service_tokens:
                return 401, {}, {"error": {"code": 401}}
            project = path.removeprefix("/v3/projects/")
            return ((200, {}, {"project": {"id": project}}) if project in self.projects
                    else (404, {}, {"error": {"code": 404}}))
        if path != "/v3/auth/tokens":
            return 404, {}, None
        if method == "POST":
            password = json.loads(body)["auth"]["identity"]["password"]["user"]["password"]
            if password != SERVICE_PASSWORD:
                return 401, {}, {"error": {"code": 401}}
            token = f"svc-{len(self.service_tokens)}"
            self.service_tokens.add(token)
            return 201, {"X-Subject-Token": token}, {"token": {"expires_at":
                                                               _iso(time.time() + 3600)}}
        if headers.get("x-auth-token") not in self.service_tokens:
            return 401, {}, {"error": {"code": 401}}
        found = self.tokens.get(headers.get("x-subject-token", ""))
        return (200, {}, {"token": found}) if found else (404, {}, {"error": {"code": 404}})


@pytest.fixture()
def keystone() -> Iterator[Keystone]:
    """A fake Keystone v3 on 127.0.0.1."""
    fake = Keystone()
    with _serve(fake.answer) as url:
        fake.url = url
        yield fake

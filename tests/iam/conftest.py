"""The IAM-enforced tier: the local runtime in this process (real HTTP front, event pump and
moto server), every function on its own role from the synthesized stack, moto enforcing IAM
and glint_local checking each call against the role's statements, with the Lambda envelope.

The stack is synthesized once per session (`cdk synth -c stage=dev`, offline, about a
minute) with this tier's resource names and stores."""
from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib import aws
from chalicelib.config import get_settings
from glint_local import embedded_aws, http_front, provision, stack
from glint_local.deployed import DeployedWorld
from glint_local.provision import Provisioned
from glint_local.pump import EventPump

pytest.importorskip("aws_cdk", reason="aws-cdk-lib is not installed (requirements-dev.txt)")

PROJECT = Path(__file__).resolve().parents[2]
COLD = "glint-test-iam-cold"
# The tier's settings: a second store for copy-image, short leases and URL lifetimes so the
# reaper has something to reap.
TIER_ENV = {
    "GLINT_STORES": json.dumps([
        {"id": "default", "bucket": "glint-test-images", "default": True, "weight": 100},
        {"id": "cold", "bucket": COLD, "weight": 10}]),
    "GLINT_IMPORT_LEASE_SECONDS": "20",
}


@dataclass
class Runtime:
    """A running local runtime modelling the deployed stack."""

    api: str
    aws: str
    pump: EventPump
    world: DeployedWorld
    resources: Provisioned


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The synthesized stack (dev stage) with this tier's names and stores."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in TIER_ENV.items():
            env.setenv(name, value)
        get_settings.cache_clear()
        path = stack.synthesize(tmp_path_factory.mktemp("stack") / "cdk.out", get_settings())
    get_settings.cache_clear()
    return json.loads(path.read_text())


@contextmanager
def running(template: dict[str, Any], work_dir: Path, *, enforce_iam: bool = True,
            limits: bool = True, app_module: str = "app", **env: str) -> Iterator[Runtime]:
    """The runtime of `template`, started as `python -m glint_local --enforce-iam
    --lambda-limits` starts it, on free loopback ports; stopped after the block. The
    functions' execution environments run the app of `app_module`."""
    from chalice.config import Config

    from app import app
    app_class = app.__class__
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**TIER_ENV, **env}.items():
            patch.setenv(name, value)
        server, endpoint = embedded_aws.start("127.0.0.1", 0)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        front = pump = world = None
        try:
            # moto's state is per process: the tier runs one runtime at a time.
            requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
            aws.reset()
            settings = get_settings()
            world = DeployedWorld(endpoint, settings.region, stack.functions(template, settings),
                                  work_dir, enforce_iam=enforce_iam, limits=limits,
                                  app_module=app_module)
            aws.reset()
            resources = provision.provision(get_settings(), visibility_timeout=2)
            world.enforce()
            pump = EventPump(app, aws.sqs(), resources.queue_urls, settings.region,
                             invoker=world.invoker)
            pump.start()
            config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
            front = http_front.serve(app, Config.create(chalice_stage="local",
                                                        config_from_disk=config),
                                     "127.0.0.1", 0, invoker=world.invoker)
            threading.Thread(target=front.serve_forever, daemon=True).start()
            yield Runtime(f"http://127.0.0.1:{front.server.server_address[1]}", endpoint, pump,
                          world, resources)
        finally:
            if front is not None:
                front.server.shutdown()
            if pump is not None:
                pump.stop()
            if world is not None:
                world.close()
            server.stop()
            app.__class__ = app_class
    aws.reset()


def without_statement(template: dict[str, Any], function: str,
                      removed: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """A copy of `template` whose `function`'s role lacks the statements `removed` picks.

    Raises:
        AssertionError: no statement was picked (the test would prove nothing).
    """
    changed = copy.deepcopy(template)
    resources = changed["Resources"]
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    dropped = 0
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            kept = [s for s in statements if not removed(s)]
            dropped += len(statements) - len(kept)
            resource["Properties"]["PolicyDocument"]["Statement"] = kept
    assert dropped, f"no statement of {function} matched"
    return changed


def with_properties(template: dict[str, Any], function: str, **properties: Any
                    ) -> dict[str, Any]:
    """A copy of `template` where `function` has these properties (e.g. Timeout=1)."""
    changed = copy.deepcopy(template)
    changed["Resources"][function]["Properties"].update(properties)
    return changed


def wait_for(check: Callable[[], Any], seconds: float = 30, every: float = 0.3) -> Any:
    """Poll `check` until it returns something truthy; that value, or the last after time."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


@pytest.fixture(scope="module")
def runtime(template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Runtime]:
    """One enforced runtime for a module's tests."""
    with running(template, tmp_path_factory.mktemp("runtime")) as started:
        yield started


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Tests under tests/iam carry the iam marker."""
    for item in items:
        if "/iam/" in str(item.fspath):
            item.add_marker(pytest.mark.iam)

"""The local runtime as the deployed stack runs it (`--enforce-iam`, `--lambda-limits`): each
function with its own role and its Lambda envelope (timeout, /tmp, and memory, each function
in its own execution environments), read from the synthesized template.

Order matters: open the world before provisioning (the roles are made while moto still
accepts anyone, and the runtime's own credentials become an administrator's), provision,
then `enforce()`; `close()` undoes it all."""
from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from chalicelib.config import Settings
from glint_local import iam, sandbox, stack
from glint_local.envelope import Envelope, work_directory
from glint_local.environments import Environments


class DeployedWorld:
    """Roles in moto, the functions' /tmp, and the invoker that gives each its envelope."""

    def __init__(self, endpoint: str, region: str, functions: dict[str, stack.Function],
                 work_dir: Path, *, enforce_iam: bool, limits: bool,
                 app_module: str = "app") -> None:
        self.functions = functions
        self._endpoint, self._enforce_iam = endpoint, enforce_iam
        with ExitStack() as opening:
            opening.enter_context(iam.keep_credentials())
            tmp = opening.enter_context(work_directory(work_dir / "tmp"))
            roles = iam.create_roles(endpoint, functions, region) if enforce_iam else None
            sandbox.install()
            opening.callback(sandbox.uninstall)
            self._exit = opening.pop_all()  # opened: undone by close(), not here
        self.credentials = credentials = roles.credentials if roles else None
        self.invoker = (Environments(functions, tmp, credentials, app_module) if limits
                        else Envelope(functions, tmp, credentials, limits=False))

    def enforce(self) -> None:
        """From now on moto checks every request (call once the resources exist)."""
        if self._enforce_iam:
            self._exit.enter_context(iam.enforced(self._endpoint))

    def close(self) -> None:
        """Stop the functions' environments, stop enforcing, restore the process's environment."""
        self.invoker.close()
        self._exit.close()

    def __enter__(self) -> DeployedWorld:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_world(endpoint: str, settings: Settings, work_dir: Path, template: Path | None, *,
               enforce_iam: bool, limits: bool) -> DeployedWorld:
    """The world of `template` (synthesized into `work_dir` when None: about a minute)."""
    if template is None:
        print("Synthesizing the stack (cdk synth -c stage=dev) to model it...", flush=True)
        template = stack.synthesize(work_dir / "cdk.out", settings)
    functions = stack.functions(json.loads(template.read_text()), settings)
    return DeployedWorld(endpoint, settings.region, functions, work_dir,
                         enforce_iam=enforce_iam, limits=limits)


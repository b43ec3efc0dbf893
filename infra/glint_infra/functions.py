"""The Chalice app (API + functions) through chalice.cdk, each function on its own role."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib import topology
from glint_infra.stage import Deployment
from glint_infra.suppressions import NO_CMK, accept

# The functions' logical ids in the template Chalice packages: the REST API's handler, the
# pipeline (chalicelib/pipeline/handlers.py) and the metadefs catalog loader
# (chalicelib/api/metadefs.py), and API Gateway's authorizer (chalicelib/api/authorizer.py).
# Each gets a role of its own.
API_FUNCTION = "APIHandler"
AUTHORIZER_FUNCTION = "GlintAuth"
WORKER_FUNCTION = "ImportWorker"
DEAD_LETTERS_FUNCTION = "ImportDeadLetters"
REAPER_FUNCTION = "ImportReaper"
SCRUBBER_FUNCTION = "ImageScrubber"
SWEEP_FUNCTION = "OrphanSweep"
METADEFS_LOADER_FUNCTION = "MetadefsLoader"
FUNCTIONS = (API_FUNCTION, AUTHORIZER_FUNCTION, WORKER_FUNCTION, DEAD_LETTERS_FUNCTION,
             REAPER_FUNCTION, SCRUBBER_FUNCTION, SWEEP_FUNCTION, METADEFS_LOADER_FUNCTION)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Settings naming a secret -> the functions that read it (the API and its authorizer validate
# tokens and look up projects with Keystone's service credentials). Only these functions get
# the setting, and each may read exactly that secret.
SECRET_READERS = {"GLINT_KEYSTONE_SECRET_ID": (API_FUNCTION, AUTHORIZER_FUNCTION)}
# Import workers running at once, at most (`-c worker_concurrency=N`): a burst of uploads
# queues up instead of taking the account's concurrency from the API and the authorizer.
WORKER_MAX_CONCURRENCY = 10


@dataclass(frozen=True, slots=True)
class Envelope:
    """What Lambda gives one function: seconds, MB of memory, MB of /tmp."""

    timeout: int
    memory: int
    ephemeral_storage: int = 512


ENVELOPES = {
    # API Gateway gives up on an integration after 29 s. Memory buys CPU: cold starts,
    # schema validation, and PUT .../file hashing up to GLINT_DIRECT_PUT_MAX_BYTES inline.
    API_FUNCTION: Envelope(timeout=29, memory=1024),
    # One Keystone round trip (GLINT_AUTH_TIMEOUT_SECONDS, 5 s) per uncached token.
    AUTHORIZER_FUNCTION: Envelope(timeout=15, memory=256),
    WORKER_FUNCTION: Envelope(timeout=topology.WORKER_TIMEOUT_SECONDS,
                              memory=topology.WORKER_MEMORY_MB),
    DEAD_LETTERS_FUNCTION: Envelope(timeout=topology.DEAD_LETTERS_TIMEOUT_SECONDS, memory=256),
    # Scheduled: each finishes well within its period, so runs never overlap.
    REAPER_FUNCTION: Envelope(timeout=120, memory=256),
    SCRUBBER_FUNCTION: Envelope(timeout=300, memory=256),
    SWEEP_FUNCTION: Envelope(timeout=300, memory=256),
    METADEFS_LOADER_FUNCTION: Envelope(timeout=300, memory=256),
}
# SQS-triggered functions: how many may run at once (the trigger's MaximumConcurrency; 2 is
# Lambda's minimum). Unlike reserved concurrency, it takes nothing from the account's pool
# and a full house leaves messages in the queue instead of throttling them towards the DLQ.
DEAD_LETTERS_MAX_CONCURRENCY = 2
FUNCTION_FINDINGS = {
    "CKV_AWS_115": "No reserved concurrency: the SQS triggers bound the pipeline with "
                   "MaximumConcurrency instead, which takes nothing from the account's pool "
                   "(reserving fails on accounts with low limits) and throttles nothing.",
    "CKV_AWS_116": "Nothing is invoked asynchronously: the API is synchronous, the worker's "
                   "failures go to the import queue's DLQ by redrive, the loader is run by hand.",
    "CKV_AWS_117": "No VPC: the functions reach only AWS APIs, and a VPC would need NAT or "
                   "interface endpoints, which bill by the hour at rest.",
    "CKV_AWS_173": "The variables hold resource names only, no secrets; Lambda encrypts them "
                   "at rest with its service key.",
}
API_FINDINGS = {
    "CKV_AWS_76": "Every request is logged by the API function itself; access logs need the "
                  "account-wide API Gateway CloudWatch role, which one stage should not own.",
    "CKV_AWS_120": "No cache: answers depend on the caller and change with every write, and "
                   "a cache cluster bills by the hour even when idle.",
}


def function_roles(scope: Construct) -> dict[str, iam.Role]:
    """One empty role per function; permissions.py grants each exactly what it uses."""
    return {name: iam.Role(scope, f"{name}Role",
                           assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                           description=f"Glint {name}: least privilege, see infra/README.md")
            for name in FUNCTIONS}


def chalice_app(scope: Construct, deployment: Deployment, source_dir: Path,
                roles: dict[str, iam.Role], consumed: dict[str, sqs.IQueue],
                with_dependencies: bool = True,
                worker_concurrency: int = WORKER_MAX_CONCURRENCY) -> Chalice:
    """Package app.py with .chalice/config.json's stage, on the roles CDK made;
    `consumed` maps each SQS consumer to its queue.

    `with_dependencies=False` leaves requirements.txt out of the bundle (Chalice would fetch
    Lambda wheels from PyPI): the template is the same, but the bundle is not deployable.
    """
    with _project(source_dir, with_dependencies) as project:
        app = Chalice(scope, "Api", source_dir=str(project), stage_config={
            "environment_variables": deployment.lambda_environment(),
            "xray": True,
            # chalice.cdk takes one role for all functions (stage_config has no per-function
            # section); each function's own role is set on its resource below.
            "manage_iam_role": False,
            "iam_role_arn": roles[API_FUNCTION].role_arn,
        })
    secrets = deployment.secrets()
    unread = sorted(set(secrets) - set(SECRET_READERS))
    if unread:
        raise ValueError(f"no readers for {unread}: add them to SECRET_READERS in "
                         f"infra/glint_infra/functions.py")
    for function in _functions(app, roles):
        name = function.node.id
        function.add_property_override("Role", roles[name].role_arn)
        _size(function, ENVELOPES[name])
        for variable in secrets:
            if name not in SECRET_READERS[variable]:
                function.add_property_deletion_override(f"Environment.Variables.{variable}")
        # Here, not through Chalice's log_retention_in_days (1.34 mis-names the API's group).
        # Kept when the stack goes, but removed if the stack's first create fails.
        log_group = logs.LogGroup(scope, f"{name}Logs", retention=LOG_RETENTION,
                                  log_group_name=f"/aws/lambda/{function.ref}",
                                  removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        accept(log_group.node.default_child, checkov={"CKV_AWS_158": NO_CMK})
        accept(function, checkov=FUNCTION_FINDINGS)
    api = app.get_resource("RestAPI")
    # Named after the stage, so each stage's API has its own CloudWatch metrics.
    api.add_property_override("Name", deployment.stack_name)
    api.add_property_override("TracingEnabled", True)
    accept(api, checkov=API_FINDINGS)
    concurrency = {WORKER_FUNCTION: worker_concurrency,
                   DEAD_LETTERS_FUNCTION: DEAD_LETTERS_MAX_CONCURRENCY}
    for name, queue in consumed.items():
        trigger = f"Events.{name}SqsEventSource.Properties"
        function = app.get_resource(name)
        # Chalice spells the queue ARN from its name; a reference also orders the deployment
        # (the event source mapping needs the queue to exist first).
        function.add_property_override(f"{trigger}.Queue", queue.queue_arn)
        function.add_property_override(f"{trigger}.ScalingConfig",
                                       {"MaximumConcurrency": concurrency[name]})
    return app


def _size(function: cdk.CfnResource, envelope: Envelope) -> None:
    function.add_property_override("Timeout", envelope.timeout)
    function.add_property_override("MemorySize", envelope.memory)
    function.add_property_override("EphemeralStorage", {"Size": envelope.ephemeral_storage})


def _functions(app: Chalice, roles: dict[str, iam.Role]) -> list[cdk.CfnResource]:
    """Every function Chalice packaged (CfnInclude keeps their logical ids as construct ids).

    Raises:
        ValueError: a function has no role of its own here (it must not borrow another's).
    """
    found = [child for child in app.sam_template.node.children
             if isinstance(child, cdk.CfnResource)
             and child.cfn_resource_type == "AWS::Serverless::Function"]
    unknown = sorted({function.node.id for function in found} - set(roles))
    if unknown:
        raise ValueError(f"no role for {unknown}: add one in infra/glint_infra/functions.py")
    return found


@contextmanager
def _project(source_dir: Path, with_dependencies: bool) -> Iterator[Path]:
    """The Chalice project to package: the repo, or a view of it without requirements.txt."""
    if with_dependencies:
        yield source_dir
        return
    with tempfile.TemporaryDirectory(prefix="glint-chalice-") as view:
        for entry in source_dir.iterdir():
            if entry.name != "requirements.txt":
                (Path(view) / entry.name).symlink_to(entry)
        yield Path(view)


def after_policies(app: Chalice, roles: dict[str, iam.Role]) -> None:
    """Create each function only once its role's policy exists (Lambda checks the SQS
    permissions when the event source mapping is created)."""
    for name, role in roles.items():
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            app.get_resource(name).add_resource_dependency(policy.node.default_child)

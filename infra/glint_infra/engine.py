"""The big-image engine in AWS: a Fargate task (engine/Dockerfile: Glint's import code and
Debian's qemu-img) that the worker starts with RunTask for imports beyond one invocation and
for conversions beyond its temporary storage (docs/big-images.md).

The tasks run in a VPC of their own with public subnets and no NAT gateway (nothing bills at
rest): S3 and DynamoDB through free gateway endpoints, the other AWS APIs over the task's
public address; the security group admits nothing inbound."""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from glint_infra import functions, permissions
from glint_infra.stage import Deployment
from glint_infra.suppressions import NO_CMK, accept

CONTAINER = "engine"
# Two hashes on two cores at full speed, the inspectors and ranged reads beside them.
TASK_CPU = 4096
TASK_MEMORY_MIB = 8192
# Conversions keep the original and each output on local disk (Fargate's maximum).
EPHEMERAL_STORAGE_GIB = 200
# The worker function's /tmp: conversions that need more go to the engine.
WORKER_STORAGE_MIB = 10240
# Not part of the image build context: local state, virtualenvs, tests, docs.
_BUILD_EXCLUDES = [".git", ".venv*", "cdk.out", "infra", "tests", "docs", "glint_local",
                   "scripts", ".chalice", "**/__pycache__"]


def big_image_engine(scope: Construct, deployment: Deployment, source_dir: Path,
                     app: Chalice, roles: dict[str, iam.Role],
                     resources: permissions.Resources) -> ecs.FargateTaskDefinition:
    """Declare the engine and let the worker start it (environment, RunTask, PassRole)."""
    vpc = ec2.Vpc(scope, "EngineVpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="engine", subnet_type=ec2.SubnetType.PUBLIC,
                                cidr_mask=24)],
        gateway_endpoints={
            "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            "DynamoDB": ec2.GatewayVpcEndpointOptions(
                service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)})
    group = ec2.SecurityGroup(scope, "EngineTasks", vpc=vpc, allow_all_outbound=True,
                              description="Glint big-image engine tasks: no inbound traffic")
    cluster = ecs.Cluster(scope, "EngineCluster", vpc=vpc)
    accept(cluster.node.default_child, checkov={
        "CKV_AWS_65": "No Container Insights: they bill per task and metric; the engine logs "
                      "to CloudWatch Logs and Glint publishes its own import metrics."})
    task = ecs.FargateTaskDefinition(scope, "EngineTask", cpu=TASK_CPU,
                                     memory_limit_mib=TASK_MEMORY_MIB,
                                     ephemeral_storage_gib=EPHEMERAL_STORAGE_GIB)
    log_group = logs.LogGroup(scope, "EngineLogs", retention=functions.LOG_RETENTION,
                              removal_policy=cdk.RemovalPolicy.DESTROY)
    accept(log_group.node.default_child, checkov={"CKV_AWS_158": NO_CMK})
    task.add_container(
        CONTAINER,
        image=ecs.ContainerImage.from_asset(str(source_dir), file="engine/Dockerfile",
                                            exclude=_BUILD_EXCLUDES),
        environment=deployment.lambda_environment(),
        logging=ecs.LogDrivers.aws_logs(stream_prefix="engine", log_group=log_group))
    for statement in permissions.policies(resources)[functions.WORKER_FUNCTION]:
        if not set(statement.actions) & set(permissions.CONSUME):  # the task reads no queue
            task.task_role.add_to_principal_policy(statement)
    worker = roles[functions.WORKER_FUNCTION]
    task.grant_run(worker)
    subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PUBLIC).subnet_ids
    function = app.get_resource(functions.WORKER_FUNCTION)
    function.add_property_override("EphemeralStorage", {"Size": WORKER_STORAGE_MIB})
    for name, value in {
        "GLINT_ENGINE_CLUSTER": cluster.cluster_arn,
        "GLINT_ENGINE_TASK_DEFINITION": task.task_definition_arn,
        "GLINT_ENGINE_CONTAINER": CONTAINER,
        "GLINT_ENGINE_SUBNETS": cdk.Fn.join(",", subnets),
        "GLINT_ENGINE_SECURITY_GROUPS": group.security_group_id,
        "GLINT_ENGINE_PUBLIC_IP": "true",
        "GLINT_FUNCTION_STORAGE_BYTES": str(WORKER_STORAGE_MIB * 1024 * 1024),
    }.items():
        function.add_property_override(f"Environment.Variables.{name}", value)
    return task

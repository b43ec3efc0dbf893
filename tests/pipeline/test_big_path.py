"""The hand-over between the worker function (small path) and the big-image engine: below
the threshold the worker imports; above it, or when a conversion would not fit the
function's temporary storage, the engine's entry point runs as a real child process (as ECS
runs its container) against the same moto server. An engine or converter that cannot run
fails the import once, with the reason."""
from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator

import boto3
import pytest

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.engine import handover
from chalicelib.domain.image import Image
from chalicelib.engine.jobs import Job
from chalicelib.pipeline import convert, engine_task, run
from glint_local import engine_process
from tests.processes import stop
from tests.support import create_image, deliver, drain, keys, override_settings, upload_single

KIB = 1024


@pytest.fixture()
def launched() -> Iterator[list[Job]]:
    """Jobs go to the local runtime's launcher (a child process each); the list records
    them, and each process is waited for."""
    jobs: list[Job] = []
    processes: list[subprocess.Popen[bytes]] = []

    def launch(job: Job) -> None:
        jobs.append(job)
        processes.append(engine_process.launch(job))

    handover.use_launcher(launch)
    yield jobs
    handover.use_launcher(None)
    for process in processes:
        stop(process)


def _settled(image_id: str, jobs: list[Job]) -> Image:
    """The image once the engine process of its job has ended."""
    deadline = time.monotonic() + 120
    while any(t.name == f"engine-{image_id}" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the engine process did not finish"
        time.sleep(0.2)
    return image_db.get(image_id)


def _import(client, env, data: bytes) -> str:
    image_id = create_image(client)["id"]
    upload_single(client, image_id, data)
    deliver(client, drain(env.queue_url))
    return image_id


def test_below_the_threshold_the_worker_imports_itself(server_client, server_aws, launched,
                                                       monkeypatch):
    override_settings(monkeypatch, GLINT_ENGINE_THRESHOLD_BYTES=str(512 * KIB))
    image_id = _import(server_client, server_aws, os.urandom(512 * KIB))
    assert launched == []
    assert image_db.get(image_id).status == "active"


def test_above_the_threshold_the_engine_process_imports(server_client, server_aws, launched,
                                                        monkeypatch):
    override_settings(monkeypatch, GLINT_ENGINE_THRESHOLD_BYTES=str(512 * KIB))
    data = os.urandom(512 * KIB + 1)
    image_id = _import(server_client, server_aws, data)
    assert [job.image_id for job in launched] == [image_id]
    image = _settled(image_id, launched)
    assert image.status == "active", image.import_error
    assert (image.checksum, image.os_hash_value) == (hashlib.md5(data).hexdigest(),
                                                     hashlib.sha512(data).hexdigest())
    assert keys(f"staging/{image_id}/") == []


def test_a_conversion_larger_than_the_function_storage_takes_the_big_path(
        server_client, server_aws, launched, monkeypatch):
    override_settings(monkeypatch, GLINT_CONVERT_TO="qcow2",
                      GLINT_FUNCTION_STORAGE_BYTES=str(1024 * KIB))
    image_id = _import(server_client, server_aws, bytes(512 * KIB) + os.urandom(KIB))
    assert [job.image_id for job in launched] == [image_id]
    image = _settled(image_id, launched)
    assert image.status == "active", image.import_error
    assert [loc.disk_format for loc in image.locations[1:]] == ["qcow2"]  # qemu-img ran


def test_without_an_engine_a_big_import_fails_once_with_the_reason(server_client, server_aws,
                                                                   monkeypatch):
    override_settings(monkeypatch, GLINT_ENGINE_THRESHOLD_BYTES=str(KIB))
    image_id = _import(server_client, server_aws, os.urandom(2 * KIB))
    image = image_db.get(image_id)
    assert image.status == "queued"
    assert image.import_error == ("Import needs the big-image engine (2048 bytes is above the "
                                  "worker's limit of 1024 bytes), and this deployment has none "
                                  "configured.")
    assert drain(server_aws.queue_url, wait=1) == []  # handled: nothing to redeliver


def test_the_worker_starts_one_fargate_task_with_the_job(server_client, server_aws, monkeypatch):
    ec2 = boto3.client("ec2", endpoint_url=get_settings().aws_endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's ENIs need it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="engine", Description="engine",
                                      VpcId=vpc)["GroupId"]
    ecs = aws.ecs()
    cluster = ecs.create_cluster(clusterName="glint-engine")["cluster"]["clusterArn"]
    definition = ecs.register_task_definition(
        family="glint-engine", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu="4096", memory="8192", containerDefinitions=[{"name": "engine", "image": "engine", "cpu": 4096,
                               "memory": 8192}],
    )["taskDefinition"]["taskDefinitionArn"]
    override_settings(monkeypatch, GLINT_ENGINE_THRESHOLD_BYTES=str(KIB),
                      GLINT_ENGINE_CLUSTER=cluster, GLINT_ENGINE_TASK_DEFINITION=definition,
                      GLINT_ENGINE_SUBNETS=subnet, GLINT_ENGINE_SECURITY_GROUPS=group)
    image_id = _import(server_client, server_aws, os.urandom(2 * KIB))
    image = image_db.get(image_id)
    assert image.status == "importing" and image.claim is not None, image.import_error
    tasks = aws.ecs().describe_tasks(cluster=cluster, tasks=aws.ecs().list_tasks(
        cluster=cluster)["taskArns"])["tasks"]
    assert len(tasks) == 1
    override = tasks[0]["overrides"]["containerOverrides"][0]
    assert override["name"] == "engine"
    assert override["command"] == ["--image-id", image_id, "--key", image.upload.key]
    assert tasks[0]["launchType"] == "FARGATE"
    attached = {d["name"]: d["value"] for d in tasks[0]["attachments"][0]["details"]}
    assert attached["subnetId"] == subnet


def test_a_missing_converter_fails_the_import_once(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_CONVERT_TO="qcow2")
    monkeypatch.setattr(convert, "_QEMU_IMG", "/nonexistent/qemu-img")
    image_id = _import(server_client, server_aws, bytes(64 * KIB))
    image = image_db.get(image_id)
    assert image.status == "queued"
    assert image.import_error == ("Conversion to qcow2 is not possible here: "
                                  "/nonexistent/qemu-img could not be run (No such file or "
                                  "directory).")
    assert drain(server_aws.queue_url, wait=1) == []
    assert get_settings().convert_to == ("qcow2",)


def test_an_engine_job_that_is_no_longer_current_does_nothing(server_client, server_aws):
    image_id = create_image(server_client)["id"]
    upload_single(server_client, image_id, os.urandom(KIB))  # uploading, not yet claimed
    before = image_db.get(image_id)
    assert engine_task.run_job(Job(image_id, before.upload.key)) == run.Outcome.IGNORED
    assert engine_task.run_job(Job(image_id, "staging/elsewhere")) == run.Outcome.IGNORED
    assert image_db.get(image_id) == before

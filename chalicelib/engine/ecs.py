"""Starting the engine's container task on ECS Fargate (RunTask), one task per import."""
from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.engine.jobs import EngineUnavailable, Job

# Worth another attempt of the same message; any other refusal is a deployment fault.
_TRANSIENT = frozenset({"ThrottlingException", "ServerException", "ServiceUnavailable"})


def launch(job: Job, reason: str) -> None:
    """Run one engine task for `job`.

    Raises:
        EngineUnavailable: no engine is configured, or ECS refused to start the task.
        ClientError: ECS is throttling or failing for now (SQS redelivers the message).
    """
    engine = get_settings().engine
    if not (engine.cluster and engine.task_definition):
        raise EngineUnavailable(f"Import needs the big-image engine ({reason}), and this "
                                "deployment has none configured.")
    try:
        started = aws.ecs().run_task(
            cluster=engine.cluster, taskDefinition=engine.task_definition, count=1,
            launchType="FARGATE", startedBy=f"glint-{job.image_id}"[:36],
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": list(engine.subnets), "securityGroups": list(engine.security_groups),
                "assignPublicIp": "ENABLED" if engine.public_ip else "DISABLED"}},
            overrides={"containerOverrides": [{"name": engine.container,
                                               "command": job.command()}]})
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in _TRANSIENT:
            raise
        raise EngineUnavailable(f"The big-image engine could not start: {error.get('Code')}: "
                                f"{error.get('Message')}") from exc
    failures = started.get("failures") or []
    if failures or not started.get("tasks"):
        why = "; ".join(f"{f.get('reason')} {f.get('detail') or ''}".strip() for f in failures)
        raise EngineUnavailable(f"The big-image engine could not start: {why or 'no task'}.")

"""Tasks: an image's import tasks, the tasks API (show, admin list) and the task schemas."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import error_response
from chalicelib.api.render import with_query
from chalicelib.api.routing import json_body, json_response, query_lists, route
from chalicelib.domain.context import RequestContext
from chalicelib.domain.tasks import Task, document, parse_task_query, task_schema, tasks_schema
from chalicelib.services import legacy_tasks
from chalicelib.services import tasks as service

bp = Blueprint(__name__)
# What a task list shows of each task (Glance's _format_task_stub).
_STUB_FIELDS = ("id", "type", "status", "owner", "created_at", "updated_at", "expires_at", "self",
                "schema")
_NO_DELETE = ("This operation is currently not permitted on Glance Tasks. They are auto "
              "deleted after reaching the time based on their expires_at property.")


@route(bp, "/v2/images/{image_id}/tasks")
def list_image_tasks(ctx: RequestContext, image_id: str) -> Response:
    """The image's import tasks, newest first (API 2.12)."""
    return json_response({"tasks": [_image_task(t) for t in service.image_tasks(ctx, image_id)]})


@route(bp, "/v2/tasks/{task_id}")
def show_task(ctx: RequestContext, task_id: str) -> Response:
    """One task, with its input, result and message."""
    return json_response(_task(service.get_task(ctx, task_id)))


@route(bp, "/v2/tasks")
def list_tasks(ctx: RequestContext) -> Response:
    """A page of tasks (admin by default), without input, result and message."""
    params = query_lists(bp)
    page = service.list_tasks(ctx, parse_task_query(params))
    links = {k: v for k, v in params.items() if k != "marker"}
    body: dict[str, Any] = {"tasks": [_stub(t) for t in page.tasks],
                            "first": with_query("/v2/tasks", links),
                            "schema": "/v2/schemas/tasks"}
    if page.next_marker:
        body["next"] = with_query("/v2/tasks", {**links, "marker": [page.next_marker]})
    return json_response(body)


@route(bp, "/v2/tasks", methods=("POST",))
def create_task(ctx: RequestContext) -> Response:
    """Glance's legacy `import` task (deprecated there): 201 with the pending task."""
    return json_response(_task(legacy_tasks.create_task(ctx, json_body(bp))), status=201)


@route(bp, "/v2/tasks/{task_id}", methods=("DELETE",))
def delete_task(ctx: RequestContext, task_id: str) -> Response:
    """Tasks are never deleted by hand (Glance answers 405 too); they expire."""
    service.require_tasks_api(ctx, "get_task")
    return error_response(405, _NO_DELETE, {"Allow": "GET"})


@route(bp, "/v2/schemas/task")
def show_task_schema(ctx: RequestContext) -> Response:
    """The task schema."""
    return json_response(task_schema())


@route(bp, "/v2/schemas/tasks")
def show_tasks_schema(ctx: RequestContext) -> Response:
    """The task-list schema."""
    return json_response(tasks_schema())


def _task(task: Task) -> dict[str, Any]:
    return {**document(task), "self": f"/v2/tasks/{task.id}", "schema": "/v2/schemas/task"}


def _stub(task: Task) -> dict[str, Any]:
    return {k: v for k, v in _task(task).items() if k in _STUB_FIELDS}


def _image_task(task: Task) -> dict[str, Any]:
    # Glance serializes its database rows here as they are: every column, times with
    # microseconds and no zone (oslo's to_primitive), nulls kept.
    def stamp(value: str | None) -> str | None:
        return value.rstrip("Z") if value else None

    return {
        "id": task.id, "image_id": task.image_id, "request_id": task.request_id,
        "user_id": task.user_id, "type": task.type, "status": str(task.status),
        "owner": task.owner, "expires_at": stamp(task.expires_at),
        "created_at": stamp(task.created_at), "updated_at": stamp(task.updated_at),
        "deleted_at": None, "deleted": False, "input": dict(task.input),
        "result": dict(task.result) if task.result is not None else None,
        "message": task.message,
    }
